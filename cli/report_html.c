/* report_html.c - the bilan as one self-contained HTML page (see
 * report_html.h). Owns the page's layout, French wording, colours and the
 * SVG drawing (gauges, bars, the monthly chart); computes nothing but
 * ratios and scales for display. Figures come from bilan.h only. */
#include "report_html.h"

#include <stdarg.h>
#include <string.h>

#include "report_bilan.h"

#define S_C_ORIENT "#5c6bc0"
#define S_C_ATTR "#ef8f2f"
#define S_C_LEASE "#2e9d57"
#define S_C_PASS "#2e7d32"
#define S_C_FAIL "#c62828"
#define S_C_NONE "#9e9e9e"

static const char s_style[] =
    ":root{--ink:#1f2430;--muted:#5f6673;--line:#e3e6ec;--bg:#f6f7fa;--card:#fff;"
    "--pass:" S_C_PASS ";--fail:" S_C_FAIL ";--none:" S_C_NONE ";--orient:" S_C_ORIENT
    ";--attr:" S_C_ATTR ";--lease:" S_C_LEASE "}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}"
    "main{max-width:1120px;margin:0 auto;padding:28px 24px 48px}"
    "header h1{margin:0;font-size:28px;letter-spacing:-.01em}"
    "header .period{color:var(--muted);font-weight:400}"
    "header p{margin:6px 0 0;color:var(--muted)}"
    "h2{font-size:19px;margin:34px 0 12px;padding-bottom:6px;border-bottom:2px solid var(--line)}"
    "h3{font-size:16px;margin:0 0 8px}"
    "h3 small,.muted{color:var(--muted);font-weight:400}"
    ".kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:12px;"
    "margin-top:22px}"
    ".kpi{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px}"
    ".kpi b{display:block;font-size:26px;line-height:1.2}"
    ".kpi span{color:var(--muted);font-size:13px}"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:10px;"
    "padding:16px 18px;margin:0 0 14px;overflow-x:auto}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:14px}"
    ".grid.wide{grid-template-columns:repeat(auto-fit,minmax(480px,1fr))}"
    ".grid .card{margin:0}.grid .card.full{grid-column:1/-1}"
    "table{border-collapse:collapse;width:100%;font-size:14px}"
    "th{font-weight:600;text-align:left;color:var(--muted);font-size:12px;text-transform:uppercase;"
    "letter-spacing:.03em;padding:6px 8px;border-bottom:1px solid var(--line)}"
    "td{padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:middle}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "tr:last-child td{border-bottom:0}"
    "tr.all td{font-weight:600}"
    ".badge{display:inline-block;padding:2px "
    "9px;border-radius:999px;font-size:12px;font-weight:600;"
    "color:#fff;white-space:nowrap}"
    ".badge.pass{background:var(--pass)}.badge.fail{background:var(--fail)}"
    ".badge.no_data,.badge.no_target{background:var(--none)}"
    ".tag{display:inline-block;font-size:11px;padding:1px 7px;border-radius:4px;border:1px solid "
    "var(--line);color:var(--muted);white-space:nowrap}"
    ".tag.cia{border-color:#b39ddb;color:#5e35b1}"
    ".rule{color:var(--muted);font-size:13px;margin:-4px 0 10px}"
    ".bar{height:10px;background:#eef0f4;border-radius:5px;overflow:hidden;min-width:60px}"
    ".bar i{display:block;height:100%;background:var(--attr)}"
    ".legend{display:flex;gap:18px;font-size:13px;color:var(--muted);margin:4px 0 8px}"
    ".legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:6px;"
    "vertical-align:-1px}"
    "svg text{font:11px system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;fill:#5f6673}"
    "footer{margin-top:36px;color:var(--muted);font-size:12px}"
    "@media print{body{background:#fff}.card,.kpi{break-inside:avoid}}";

/* ---- output helpers ---- */

static void s_out(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_out(FILE *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
}

/* Text escaped for HTML content and attribute values. */
static void s_esc(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

/* A share "50,0 %" (narrow no-break space), or "–" when den is 0. */
static void s_pct(FILE *out, uint32_t num, uint32_t den)
{
    char pct[24];
    report_bilan_pct(bilan_share_x10(num, den), pct);
    if (*pct)
        s_out(out, "%s&#8239;%%", pct);
    else
        fputs("–", out);
}

/* A target in per mille as people write it: "25 %", "27,5 %". */
static void s_target_text(uint32_t pm, char out[24])
{
    if (pm % 10)
        report_bilan_pct((long)pm, out);
    else
        snprintf(out, 24, "%u", pm / 10);
}

static void s_per_mille(FILE *out, uint32_t pm)
{
    char pct[24];
    s_target_text(pm, pct);
    s_out(out, "%s&#8239;%%", pct);
}

static const char *s_status_label(const char *status)
{
    if (strcmp(status, "pass") == 0)
        return "atteint";
    if (strcmp(status, "fail") == 0)
        return "non atteint";
    if (strcmp(status, "no_data") == 0)
        return "sans données";
    return "sans référence";
}

static const char *s_status_colour(const char *status)
{
    if (strcmp(status, "pass") == 0)
        return S_C_PASS;
    return strcmp(status, "fail") == 0 ? S_C_FAIL : S_C_NONE;
}

/* ---- gauges ---- */

/* A horizontal gauge 0..100 % of width w: the share num/den filled in the
 * status colour, a tick at each target (per mille) labelled above. */
static void s_gauge(FILE *out, uint32_t num, uint32_t den, const uint32_t *targets, size_t n,
                    const char *status, int w)
{
    long x10 = bilan_share_x10(num, den);
    double fill = x10 < 0 ? 0 : (x10 > 1000 ? 1000 : x10) * w / 1000.0;
    char pct[24];
    report_bilan_pct(x10, pct);
    s_out(out,
          "<svg class=\"gauge\" width=\"%d\" height=\"30\" viewBox=\"0 0 %d 30\" role=\"img\""
          " aria-label=\"%s %%\"><rect x=\"0\" y=\"14\" width=\"%d\" height=\"12\" rx=\"6\""
          " fill=\"#eef0f4\"/>",
          w, w, *pct ? pct : "–", w);
    if (fill > 0)
        s_out(out, "<rect x=\"0\" y=\"14\" width=\"%.1f\" height=\"12\" rx=\"6\" fill=\"%s\"/>",
              fill, s_status_colour(status));
    for (size_t i = 0; i < n; i++) {
        double x = (targets[i] > 1000 ? 1000 : targets[i]) * (w - 2) / 1000.0 + 1;
        char t[24];
        s_target_text(targets[i], t);
        s_out(out,
              "<line x1=\"%.1f\" y1=\"10\" x2=\"%.1f\" y2=\"29\" stroke=\"#1f2430\""
              " stroke-width=\"2\"%s/><text x=\"%.1f\" y=\"9\" text-anchor=\"%s\">%s %%</text>",
              x, x, i ? " stroke-dasharray=\"3 2\"" : "", x, x > w - 30 ? "end" : "middle", t);
    }
    fputs("</svg>", out);
}

static void s_badge(FILE *out, const char *status)
{
    s_out(out, "<span class=\"badge %s\">%s</span>", status, s_status_label(status));
}

/* ---- head, header, key figures ---- */

static void s_head(FILE *out, const bilan_t *b)
{
    char from[11], to[11];
    period_format_date(b->period.from, from);
    period_format_date(b->period.to, to);
    s_out(out,
          "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>Bilan des attributions %s – %s</title>\n<style>%s</style>\n</head>\n<body>\n"
          "<main>\n<header>\n<h1>Bilan des attributions <span class=\"period\">du %s au %s</span>"
          "</h1>\n<p>Article R441-5-1 du CCH · ",
          from, to, s_style, from, to);
    if (*b->bailleur) {
        fputs("bailleur ", out);
        s_esc(out, b->bailleur);
    } else {
        fputs("tous les bailleurs", out);
    }
    fputs(" · ", out);
    if (*b->epci) {
        fputs("EPCI ", out);
        s_esc(out, b->epci);
    } else {
        fputs("tous les EPCI", out);
    }
    s_out(out,
          " · objectifs et cibles en vigueur le %s · calculé depuis le registre des messages "
          "signés</p>\n</header>\n",
          b->reference_date);
}

static void s_kpi(FILE *out, const char *key, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_kpi(FILE *out, const char *key, const char *label, const char *fmt, ...)
{
    s_out(out, "<div class=\"kpi\" data-kpi=\"%s\"><b>", key);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    s_out(out, "</b><span>%s</span></div>\n", label);
}

static void s_kpis(FILE *out, const bilan_t *b)
{
    const bilan_count_t *t = &b->total;
    char prio[24], q1[24];
    report_bilan_pct(bilan_share_x10(t->prioritaires, t->attributions), prio);
    report_bilan_pct(bilan_share_x10(t->q1, t->attributions), q1);
    fputs("<section class=\"kpis\" id=\"kpis\">\n", out);
    s_kpi(out, "orientations", "orientations envoyées", "%u", t->orientations);
    s_kpi(out, "attributions", "attributions en CALEOL", "%u", t->attributions);
    s_kpi(out, "hors_flux", "dont hors flux", "%u", t->hors_flux);
    s_kpi(out, "leases", "baux signés", "%u", t->leases);
    s_kpi(out, "prioritaires", "des attributions à des ménages prioritaires", "%s&#8239;%%",
          *prio ? prio : "–");
    s_kpi(out, "q1", "des attributions à des ménages du 1er quartile", "%s&#8239;%%",
          *q1 ? q1 : "–");
    if (b->vacant[0].leases)
        s_kpi(out, "median_days_vacant", "jours de vacance (médiane, libération → bail)", "%u",
              b->vacant[0].median);
    fputs("</section>\n", out);
}

/* ---- objectives ---- */

typedef struct {
    const char *objective, *title, *rule;
} s_objective_text_t;

static const s_objective_text_t s_texts[] = {
    {REFDATA_OBJ_Q1_HORS_QPV, "Ménages du 1er quartile hors QPV",
     "Part des baux signés hors QPV au profit de ménages du 1er quartile ou relogés dans le cadre "
     "du renouvellement urbain (ANRU), comptée sur les baux signés."},
    {REFDATA_OBJ_PRIORITAIRES, "Ménages prioritaires, par réservataire",
     "Part des attributions de chaque réservataire (décisions de la CALEOL, bail signé ou non) au "
     "profit de ménages DALO ou prioritaires ; les logements non réservés du bailleur forment sa "
     "propre ligne. L'ensemble n'est atteint que si chaque réservataire l'atteint."},
    {REFDATA_OBJ_NON_Q1_EN_QPV, "Ménages des quartiles 2 à 4 en QPV",
     "Part des attributions de logements situés en QPV (décisions de la CALEOL) au profit de "
     "ménages des trois autres quartiles."},
};

static void s_scope_tag(FILE *out, const bilan_objective_t *o)
{
    if (!o->local) {
        fputs("<span class=\"tag\">légal</span>", out);
        return;
    }
    fputs("<span class=\"tag cia\">CIA · ", out);
    if (strcmp(o->scope, "epci") == 0)
        fputs("EPCI", out);
    else {
        s_esc(out, strcmp(o->scope, "commune") == 0 ? "commune " : "bailleur ");
        s_esc(out, o->scope_id);
    }
    fputs("</span>", out);
}

static void s_objective_row(FILE *out, const bilan_objective_t *o)
{
    s_out(out, "<tr class=\"%s\" data-objective=\"%s\" data-level=\"%s\" data-scope=\"",
          *o->reservataire ? "" : "all", o->objective, o->local ? "cia" : "legal");
    s_esc(out, o->scope);
    fputc(':', out);
    s_esc(out, o->scope_id);
    fputs("\" data-reservataire=\"", out);
    s_esc(out, o->reservataire);
    s_out(out, "\" data-status=\"%s\" data-num=\"%u\" data-den=\"%u\"><td>", o->status,
          o->numerator, o->denominator);
    s_scope_tag(out, o);
    fputs("</td><td>", out);
    if (*o->reservataire) {
        s_esc(out, o->reservataire);
        if (o->non_reserve)
            fputs(" <span class=\"muted\">(non réservé)</span>", out);
    } else {
        fputs(strcmp(o->objective, REFDATA_OBJ_PRIORITAIRES) == 0 ? "Ensemble" : "Tous", out);
    }
    fputs("</td><td>", out);
    uint32_t target = o->target.target_per_mille;
    s_gauge(out, o->numerator, o->denominator, &target, o->has_target ? 1 : 0, o->status, 220);
    s_out(out, "</td><td class=\"n\">%u / %u</td><td class=\"n\">", o->numerator, o->denominator);
    s_pct(out, o->numerator, o->denominator);
    fputs("</td><td class=\"n\">", out);
    if (o->has_target) {
        fputs("≥ ", out);
        s_per_mille(out, target);
    } else {
        fputs("–", out);
    }
    fputs("</td><td>", out);
    s_badge(out, o->status);
    if (o->anru)
        s_out(out, " <span class=\"muted\">dont %u ANRU</span>", o->anru);
    if (o->unknown_qpv)
        s_out(out, " <span class=\"muted\">%u sans statut QPV</span>", o->unknown_qpv);
    if (o->unknown_quartile)
        s_out(out, " <span class=\"muted\">%u sans quartile connu</span>", o->unknown_quartile);
    fputs("</td></tr>\n", out);
}

static void s_objective_card(FILE *out, const bilan_epci_t *e, const s_objective_text_t *t)
{
    s_out(out, "<div class=\"card\" data-objective-card=\"%s\"><h3>%s</h3><p class=\"rule\">%s</p>",
          t->objective, t->title, t->rule);
    fputs("<table><thead><tr><th>niveau</th><th>réservataire</th><th>part / objectif</th>"
          "<th class=\"n\">nombre</th><th class=\"n\">part</th><th class=\"n\">objectif</th>"
          "<th>statut</th></tr></thead><tbody>\n",
          out);
    for (size_t i = 0; i < e->n_objectives; i++)
        if (strcmp(e->objectives[i].objective, t->objective) == 0)
            s_objective_row(out, &e->objectives[i]);
    fputs("</tbody></table></div>\n", out);
}

static void s_epci_head(FILE *out, const bilan_epci_t *e)
{
    fputs("<h3>", out);
    s_esc(out, *e->epci_name ? e->epci_name : *e->epci_siren ? "EPCI" : "EPCI non renseigné");
    fputs(" <small>", out);
    s_esc(out, e->epci_siren);
    s_out(out, "</small></h3><p class=\"rule\">%u attributions, %u baux", e->attributions,
          e->leases);
    for (size_t i = 0; i < e->n_thresholds; i++) {
        const bilan_threshold_t *t = &e->thresholds[i];
        if (t->known)
            s_out(out, " · seuil du 1er quartile %d : %lld&#8239;€ par UC", t->year,
                  (long long)(t->cents / 100));
        else
            s_out(out, " · seuil du 1er quartile %d : non importé", t->year);
    }
    s_out(out,
          " · statut QPV : %u par la table de référence, %u par le message du bailleur, %u "
          "inconnus",
          e->qpv_reference, e->qpv_message, e->qpv_unknown);
    for (size_t i = 0; i < e->n_map_years; i++)
        s_out(out, "%s%u", i ? ", " : " (carte des messages : ", e->message_map_years[i]);
    fputs(e->n_map_years ? ")</p>\n" : "</p>\n", out);
}

static void s_objectives(FILE *out, const bilan_t *b)
{
    fputs("<section id=\"objectives\">\n<h2>Objectifs légaux et cibles locales, par EPCI</h2>\n",
          out);
    if (!b->n_epcis)
        fputs("<p class=\"muted\">Aucune attribution ni aucun bail dans la période.</p>\n", out);
    for (size_t i = 0; i < b->n_epcis; i++) {
        const bilan_epci_t *e = &b->epcis[i];
        fputs("<article class=\"epci\" data-epci=\"", out);
        s_esc(out, e->epci_siren);
        fputs("\">\n", out);
        s_epci_head(out, e);
        for (size_t k = 0; k < sizeof s_texts / sizeof s_texts[0]; k++)
            s_objective_card(out, e, &s_texts[k]);
        fputs("</article>\n", out);
    }
    fputs("</section>\n", out);
}

/* ---- progress per réservataire ---- */

/* The legal prioritaires target of the first EPCI that has one (per mille),
 * or 0. */
static uint32_t s_prioritaires_target(const bilan_t *b)
{
    for (size_t i = 0; i < b->n_epcis; i++)
        for (size_t k = 0; k < b->epcis[i].n_objectives; k++) {
            const bilan_objective_t *o = &b->epcis[i].objectives[k];
            if (!o->local && o->has_target && strcmp(o->objective, REFDATA_OBJ_PRIORITAIRES) == 0)
                return o->target.target_per_mille;
        }
    return 0;
}

/* The convention's progress: a track for the objective, done filled in. */
static void s_convention_bar(FILE *out, const bilan_count_t *c, int w)
{
    if (!c->has_objective) {
        fputs("<span class=\"muted\">pas d'objectif de convention</span>", out);
        return;
    }
    uint32_t scale = c->done > c->objective ? c->done : c->objective;
    double fill = scale ? (double)c->done * w / scale : 0;
    double mark = scale ? (double)c->objective * (w - 2) / scale + 1 : w;
    s_out(out,
          "<svg class=\"progress\" width=\"%d\" height=\"30\" viewBox=\"0 0 %d 30\" role=\"img\""
          " aria-label=\"%u / %u\"><rect x=\"0\" y=\"14\" width=\"%d\" height=\"12\" rx=\"6\""
          " fill=\"#eef0f4\"/>",
          w, w, c->done, c->objective, w);
    if (fill > 0)
        s_out(out, "<rect x=\"0\" y=\"14\" width=\"%.1f\" height=\"12\" rx=\"6\" fill=\"%s\"/>",
              fill, c->done >= c->objective ? S_C_PASS : S_C_ORIENT);
    s_out(out,
          "<line x1=\"%.1f\" y1=\"10\" x2=\"%.1f\" y2=\"29\" stroke=\"#1f2430\""
          " stroke-width=\"2\"/><text x=\"%.1f\" y=\"9\" text-anchor=\"end\">objectif %u</text>"
          "</svg> <span class=\"n\">%u / %u</span>",
          mark, mark, mark, c->objective, c->done, c->objective);
}

static void s_reservataires(FILE *out, const bilan_t *b)
{
    const bilan_table_t *t = &b->by[BILAN_BY_RESERVATAIRE];
    uint32_t target = s_prioritaires_target(b);
    fputs("<section id=\"reservataires\">\n<h2>Progression par réservataire</h2>\n"
          "<div class=\"card\"><p class=\"rule\">Placements comptés selon la méthode de chaque "
          "convention (décompte), et part des ménages prioritaires parmi les attributions du "
          "réservataire face à l'objectif légal.</p>\n<table><thead><tr><th>réservataire</th>"
          "<th class=\"n\">orientations</th><th class=\"n\">attributions</th>"
          "<th class=\"n\">baux</th><th>convention : placements / objectif</th>"
          "<th>ménages prioritaires</th></tr></thead><tbody>\n",
          out);
    for (size_t i = 0; i < t->n; i++) {
        const bilan_count_t *c = &t->rows[i];
        fputs("<tr data-dim=\"reservataire\" data-key=\"", out);
        s_esc(out, c->key);
        s_out(out, "\" data-attributions=\"%u\" data-done=\"%u\" data-objective=\"%u\"><td>",
              c->attributions, c->done, c->has_objective ? c->objective : 0);
        s_esc(out, c->label);
        s_out(out, "</td><td class=\"n\">%u</td><td class=\"n\">%u</td><td class=\"n\">%u</td><td>",
              c->orientations, c->attributions, c->leases);
        s_convention_bar(out, c, 200);
        fputs("</td><td>", out);
        const char *status =
            !c->attributions
                ? "no_data"
                : (!target ? "no_target"
                           : ((uint64_t)c->prioritaires * 1000 >= (uint64_t)target * c->attributions
                                  ? "pass"
                                  : "fail"));
        s_gauge(out, c->prioritaires, c->attributions, &target, target ? 1 : 0, status, 160);
        s_out(out, " <span class=\"n\">%u / %u</span></td></tr>\n", c->prioritaires,
              c->attributions);
    }
    if (!t->n)
        fputs("<tr><td colspan=\"6\" class=\"muted\">Aucun réservataire dans la période.</td></tr>",
              out);
    fputs("</tbody></table></div>\n</section>\n", out);
}

/* ---- monthly flow ---- */

static const char *const s_month_names[] = {"janv.", "févr.", "mars",  "avr.", "mai",  "juin",
                                            "juil.", "août",  "sept.", "oct.", "nov.", "déc."};

/* A round step (1, 2, 5, 10, 20...) for the y axis: at most 5 lines
 * cover max. */
static uint32_t s_step(uint32_t max)
{
    static const uint64_t base[] = {1, 2, 5};
    for (uint64_t mag = 1;; mag *= 10)
        for (int i = 0; i < 3; i++)
            if ((uint64_t)max <= base[i] * mag * 5)
                return (uint32_t)(base[i] * mag);
}

static void s_flow(FILE *out, const bilan_t *b)
{
    const int W = 1040, H = 280, left = 40, bottom = 40, top = 16;
    uint32_t max = 1;
    for (size_t i = 0; i < b->n_months; i++) {
        const bilan_month_t *m = &b->months[i];
        uint32_t v[] = {m->orientations, m->attributions, m->leases};
        for (int k = 0; k < 3; k++)
            max = v[k] > max ? v[k] : max;
    }
    uint32_t step = s_step(max), ymax = (max + step - 1) / step * step;
    double plot_h = H - bottom - top, slot = (double)(W - left - 8) / (double)b->n_months;
    double bw = slot * 0.8 / 3;
    fputs("<section id=\"flow\">\n<h2>Flux mensuel</h2>\n<div class=\"card\">"
          "<div class=\"legend\"><span><i style=\"background:" S_C_ORIENT
          "\"></i>orientations</span><span><i style=\"background:" S_C_ATTR
          "\"></i>attributions</span><span><i style=\"background:" S_C_LEASE
          "\"></i>baux signés</span></div>\n",
          out);
    s_out(out,
          "<svg id=\"monthly-flow\" viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\""
          " aria-label=\"orientations, attributions et baux par mois\">\n",
          W, H);
    for (uint32_t y = 0; y <= ymax; y += step) {
        double py = top + plot_h - plot_h * y / ymax;
        s_out(out,
              "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e3e6ec\"/>"
              "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%u</text>\n",
              left, py, W - 4, py, left - 6, py + 4, y);
    }
    size_t every = b->n_months > 24 ? (b->n_months + 23) / 24 : 1;
    for (size_t i = 0; i < b->n_months; i++) {
        const bilan_month_t *m = &b->months[i];
        const uint32_t v[] = {m->orientations, m->attributions, m->leases};
        static const char *const series[] = {"orientations", "attributions", "leases"};
        static const char *const colours[] = {S_C_ORIENT, S_C_ATTR, S_C_LEASE};
        double x0 = left + slot * (double)i + slot * 0.1;
        s_out(out, "<g data-month=\"%04d-%02d\">", m->year % 10000, m->month % 100);
        for (int k = 0; k < 3; k++) {
            double h = plot_h * v[k] / ymax;
            s_out(out,
                  "<rect data-series=\"%s\" data-value=\"%u\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\""
                  " height=\"%.1f\" rx=\"2\" fill=\"%s\"><title>%s %s %d : %u</title></rect>",
                  series[k], v[k], x0 + bw * k, top + plot_h - h, bw - 1, h, colours[k], series[k],
                  s_month_names[(m->month + 11) % 12], m->year, v[k]);
        }
        if (i % every == 0)
            s_out(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
                  x0 + slot * 0.4, H - bottom + 16, s_month_names[(m->month + 11) % 12]);
        if (i == 0 || m->month == 1)
            s_out(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>",
                  x0 + slot * 0.4, H - bottom + 31, m->year);
        fputs("</g>\n", out);
    }
    s_out(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#9aa1ad\"/>\n", left,
          top + plot_h, W - 4, top + plot_h);
    fputs("</svg>\n</div>\n</section>\n", out);
}

/* ---- breakdowns ---- */

static const char *const s_dim_titles[BILAN_DIMS] = {
    "Par réservataire",    "Par typologie", "Par financement",
    "QPV / hors QPV",      "Par commune",   "Par période de construction",
    "Hors flux, par motif"};

static void s_breakdown(FILE *out, const bilan_t *b, bilan_dim_t dim)
{
    const bilan_table_t *t = &b->by[dim];
    uint32_t max = 1;
    for (size_t i = 0; i < t->n; i++)
        max = t->rows[i].attributions > max ? t->rows[i].attributions : max;
    s_out(out, "<div class=\"card%s\" data-breakdown=\"%s\"><h3>%s</h3>",
          dim == BILAN_BY_RESERVATAIRE ? " full" : "", bilan_dim_name(dim), s_dim_titles[dim]);
    fputs("<table><thead><tr><th></th><th class=\"n\">attrib.</th><th></th>"
          "<th class=\"n\" title=\"dont hors flux\">h. flux</th>"
          "<th class=\"n\" title=\"ménages prioritaires\">prio.</th><th class=\"n\">Q1</th>"
          "<th class=\"n\">baux</th></tr></thead><tbody>\n",
          out);
    for (size_t i = 0; i < t->n; i++) {
        const bilan_count_t *c = &t->rows[i];
        s_out(out, "<tr data-dim=\"%s\" data-key=\"", bilan_dim_name(dim));
        s_esc(out, c->key);
        s_out(out, "\" data-attributions=\"%u\" data-leases=\"%u\"><td>", c->attributions,
              c->leases);
        s_esc(out, c->label);
        s_out(out,
              "</td><td class=\"n\">%u</td><td style=\"width:22%%\"><div class=\"bar\"><i"
              " style=\"width:%.1f%%\"></i></div></td><td class=\"n\">%u</td><td class=\"n\">%u"
              "</td><td class=\"n\">%u</td><td class=\"n\">%u</td></tr>\n",
              c->attributions, 100.0 * c->attributions / max, c->hors_flux, c->prioritaires, c->q1,
              c->leases);
    }
    if (!t->n)
        fputs("<tr><td colspan=\"7\" class=\"muted\">aucune</td></tr>", out);
    fputs("</tbody></table></div>\n", out);
}

static void s_breakdowns(FILE *out, const bilan_t *b)
{
    s_out(out,
          "<section id=\"breakdowns\">\n<h2>Répartition des attributions</h2>\n<p class=\"rule\">"
          "Attributions décidées en CALEOL dans la période, hors flux compris (et montrés à part) ;"
          " baux signés dans la période. %u décision(s) par rang jamais parvenue(s) au candidat ne "
          "sont pas comptées.</p>\n<div class=\"grid wide\">\n",
          b->standby_par_rang);
    for (int d = BILAN_BY_TYPOLOGIE; d < BILAN_DIMS; d++)
        s_breakdown(out, b, (bilan_dim_t)d);
    s_breakdown(out, b, BILAN_BY_RESERVATAIRE);
    fputs("</div>\n</section>\n", out);
}

/* ---- analyses ---- */

static const char *const s_motif_colours[BILAN_REFUS_MOTIFS] = {
    "#bdbdbd", "#5c6bc0", "#ef5350", "#ab47bc", "#8d6e63",
    "#26a69a", "#ffa726", "#78909c", "#9ccc65", "#757575"};

static void s_refusals(FILE *out, const bilan_t *b)
{
    fputs("<div class=\"card\" id=\"refusals\"><h3>Motifs de refus par résidence</h3>", out);
    if (!b->n_refusals) {
        fputs("<p class=\"muted\">Aucun refus dans la période.</p></div>\n", out);
        return;
    }
    uint32_t max = b->refusals[0].total ? b->refusals[0].total : 1;
    fputs("<table><thead><tr><th>résidence</th><th class=\"n\">refus</th><th>motifs</th></tr>"
          "</thead><tbody>\n",
          out);
    for (size_t i = 0; i < b->n_refusals; i++) {
        const bilan_refusals_t *r = &b->refusals[i];
        fputs("<tr data-residence=\"", out);
        s_esc(out, r->residence_id);
        s_out(out, "\" data-total=\"%u\"><td>", r->total);
        s_esc(out, *r->residence_id ? r->residence_id : "(sans résidence)");
        fputs(" <span class=\"muted\">", out);
        s_esc(out, r->commune_insee);
        s_out(out,
              "</span></td><td class=\"n\">%u</td><td><svg width=\"180\" height=\"16\""
              " viewBox=\"0 0 180 16\">",
              r->total);
        double x = 0;
        for (int m = 0; m < BILAN_REFUS_MOTIFS; m++) {
            if (!r->by_motif[m])
                continue;
            double w = 180.0 * r->by_motif[m] / max;
            s_out(out,
                  "<rect x=\"%.1f\" y=\"2\" width=\"%.1f\" height=\"12\" fill=\"%s\">"
                  "<title>%s : %u</title></rect>",
                  x, w, s_motif_colours[m], bilan_refus_label(m), r->by_motif[m]);
            x += w;
        }
        fputs("</svg> ", out);
        for (int m = 0, first = 1; m < BILAN_REFUS_MOTIFS; m++)
            if (r->by_motif[m]) {
                s_out(out, "%s<span class=\"muted\">%s %u</span>", first ? "" : " · ",
                      bilan_refus_label(m), r->by_motif[m]);
                first = 0;
            }
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody></table></div>\n", out);
}

static void s_vacancy(FILE *out, const bilan_t *b)
{
    fputs("<div class=\"card\" id=\"days-vacant\"><h3>Jours de vacance (libération → bail)</h3>",
          out);
    char mean[24];
    const bilan_vacant_t *all = &b->vacant[0];
    if (!all->leases) {
        fputs("<p class=\"muted\">Aucun bail signé dans la période.</p></div>\n", out);
        return;
    }
    fputs("<table><thead><tr><th>commune</th><th class=\"n\">baux</th><th class=\"n\">moyenne</th>"
          "<th class=\"n\">médiane</th><th class=\"n\">min</th><th class=\"n\">max</th></tr>"
          "</thead><tbody>\n",
          out);
    for (size_t i = 0; i < b->n_vacant; i++) {
        const bilan_vacant_t *v = &b->vacant[i];
        report_bilan_pct(v->mean_x10, mean);
        s_out(out, "<tr class=\"%s\" data-commune=\"", i ? "" : "all");
        s_esc(out, i ? v->key : "all");
        s_out(out, "\" data-median=\"%u\"><td>", v->median);
        s_esc(out, i ? v->key : "toutes");
        s_out(out,
              "</td><td class=\"n\">%u</td><td class=\"n\">%s j</td><td class=\"n\">%u j</td>"
              "<td class=\"n\">%u j</td><td class=\"n\">%u j</td></tr>\n",
              v->leases, mean, v->median, v->min, v->max);
    }
    fputs("</tbody></table></div>\n", out);
}

static void s_repeated(FILE *out, const bilan_t *b)
{
    s_out(out,
          "<div class=\"card\" id=\"repeated\"><h3>Candidats présentés plusieurs fois sans être "
          "retenus</h3><p class=\"rule\">Désignés sur %u logements ou plus dans la période, sans "
          "attribution.</p>",
          b->repeated_threshold);
    if (!b->n_repeated) {
        fputs("<p class=\"muted\">Aucun.</p></div>\n", out);
        return;
    }
    fputs("<table><thead><tr><th>NUR</th><th class=\"n\">présentations</th><th>par</th>"
          "<th>dernière</th></tr></thead><tbody>\n",
          out);
    for (size_t i = 0; i < b->n_repeated; i++) {
        const bilan_repeated_t *r = &b->repeated[i];
        fputs("<tr data-nur=\"", out);
        s_esc(out, r->nur);
        s_out(out, "\" data-presentations=\"%u\"><td>", r->presentations);
        s_esc(out, r->nur);
        s_out(out, "</td><td class=\"n\">%u</td><td>", r->presentations);
        s_esc(out, r->reservataires);
        s_out(out, "</td><td>%s</td></tr>\n", r->last_presented);
    }
    fputs("</tbody></table></div>\n", out);
}

static void s_q1_proposals(FILE *out, const bilan_t *b)
{
    const bilan_q1_proposals_t *p = &b->q1_proposals;
    fputs("<div class=\"card\" id=\"q1-proposals\"><h3>Candidats du 1er quartile dans les "
          "propositions hors QPV</h3><table><tbody>\n",
          out);
    s_out(out,
          "<tr data-figure=\"q1_candidates\" data-num=\"%u\" data-den=\"%u\"><td>candidats Q1 "
          "parmi les candidats désignés</td><td>",
          p->q1_candidates, p->candidates);
    s_gauge(out, p->q1_candidates, p->candidates, NULL, 0, "pass", 160);
    s_out(out, "</td><td class=\"n\">%u / %u</td><td class=\"n\">", p->q1_candidates,
          p->candidates);
    s_pct(out, p->q1_candidates, p->candidates);
    s_out(out,
          "</td></tr>\n<tr data-figure=\"proposals_with_q1\" data-num=\"%u\" data-den=\"%u\">"
          "<td>logements proposés avec au moins un candidat Q1</td><td>",
          p->proposals_with_q1, p->proposals);
    s_gauge(out, p->proposals_with_q1, p->proposals, NULL, 0, "pass", 160);
    s_out(out, "</td><td class=\"n\">%u / %u</td><td class=\"n\">", p->proposals_with_q1,
          p->proposals);
    s_pct(out, p->proposals_with_q1, p->proposals);
    fputs("</td></tr>\n</tbody></table></div>\n", out);
}

static void s_analyses(FILE *out, const bilan_t *b)
{
    fputs("<section id=\"analyses\">\n<h2>Analyses</h2>\n<div class=\"grid wide\">\n", out);
    s_refusals(out, b);
    s_vacancy(out, b);
    s_repeated(out, b);
    s_q1_proposals(out, b);
    fputs("</div>\n</section>\n", out);
}

bool report_html_write(const bilan_t *b, FILE *out)
{
    s_head(out, b);
    s_kpis(out, b);
    s_objectives(out, b);
    s_reservataires(out, b);
    s_flow(out, b);
    s_breakdowns(out, b);
    s_analyses(out, b);
    fputs(
        "<footer>Produit par <code>fluxbus report bilan</code> depuis le registre du bus : chaque "
        "chiffre vient de messages signés (définitions : docs/LEDGER.md, « Bilan and reports »)."
        "</footer>\n</main>\n</body>\n</html>\n",
        out);
    return fflush(out) == 0 && !ferror(out);
}
