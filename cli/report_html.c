/* report_html.c - the bilan as one self-contained HTML page (see
 * report_html.h). Owns the page's layout and French wording, and the bars
 * of the breakdowns and of the refusals; the style, gauges, progress bars
 * and the monthly chart are html.h's. Computes nothing but ratios and
 * scales for display. Figures come from bilan.h only. */
#include "report_html.h"

#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "report_bilan.h"

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
        return HTML_C_PASS;
    return strcmp(status, "fail") == 0 ? HTML_C_FAIL : HTML_C_NONE;
}

static void s_badge(FILE *out, const char *status)
{
    html_badge(out, status, s_status_label(status));
}

/* A gauge coloured by the objective's status. */
static void s_gauge(FILE *out, uint32_t num, uint32_t den, const uint32_t *targets, size_t n,
                    const char *status, int w)
{
    html_gauge(out, num, den, targets, n, s_status_colour(status), w);
}

/* ---- head, header, key figures ---- */

static void s_head(FILE *out, const bilan_t *b)
{
    html_begin(out, "Bilan des attributions", "Bilan des attributions", &b->period);
    fputs("Article R441-5-1 du CCH · ", out);
    if (*b->bailleur) {
        fputs("bailleur ", out);
        html_esc(out, b->bailleur);
    } else {
        fputs("tous les bailleurs", out);
    }
    fputs(" · ", out);
    if (*b->epci) {
        fputs("EPCI ", out);
        html_esc(out, b->epci);
    } else {
        fputs("tous les EPCI", out);
    }
    html_out(out,
             " · objectifs et cibles en vigueur le %s · calculé depuis le registre des messages "
             "signés",
             b->reference_date);
    html_header_end(out);
}

static void s_kpis(FILE *out, const bilan_t *b)
{
    const bilan_count_t *t = &b->total;
    char prio[24], q1[24];
    report_bilan_pct(bilan_share_x10(t->prioritaires, t->attributions), prio);
    report_bilan_pct(bilan_share_x10(t->q1, t->attributions), q1);
    fputs("<section class=\"kpis\" id=\"kpis\">\n", out);
    html_kpi(out, "orientations", "orientations envoyées", "%u", t->orientations);
    html_kpi(out, "attributions", "attributions en CALEOL", "%u", t->attributions);
    html_kpi(out, "hors_flux", "dont hors flux", "%u", t->hors_flux);
    html_kpi(out, "leases", "baux signés", "%u", t->leases);
    html_kpi(out, "prioritaires", "des attributions à des ménages prioritaires", "%s&#8239;%%",
             *prio ? prio : "–");
    html_kpi(out, "q1", "des attributions à des ménages du 1er quartile", "%s&#8239;%%",
             *q1 ? q1 : "–");
    if (b->vacant[0].leases)
        html_kpi(out, "median_days_vacant", "jours de vacance (médiane, libération → bail)", "%u",
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
        html_esc(out, strcmp(o->scope, "commune") == 0 ? "commune " : "bailleur ");
        html_esc(out, o->scope_id);
    }
    fputs("</span>", out);
}

static void s_objective_row(FILE *out, const bilan_objective_t *o)
{
    html_out(out, "<tr class=\"%s\" data-objective=\"%s\" data-level=\"%s\" data-scope=\"",
             *o->reservataire ? "" : "all", o->objective, o->local ? "cia" : "legal");
    html_esc(out, o->scope);
    fputc(':', out);
    html_esc(out, o->scope_id);
    fputs("\" data-reservataire=\"", out);
    html_esc(out, o->reservataire);
    html_out(out, "\" data-status=\"%s\" data-num=\"%u\" data-den=\"%u\"><td>", o->status,
             o->numerator, o->denominator);
    s_scope_tag(out, o);
    fputs("</td><td>", out);
    if (*o->reservataire) {
        html_esc(out, o->reservataire);
        if (o->non_reserve)
            fputs(" <span class=\"muted\">(non réservé)</span>", out);
    } else {
        fputs(strcmp(o->objective, REFDATA_OBJ_PRIORITAIRES) == 0 ? "Ensemble" : "Tous", out);
    }
    fputs("</td><td>", out);
    uint32_t target = o->target.target_per_mille;
    s_gauge(out, o->numerator, o->denominator, &target, o->has_target ? 1 : 0, o->status, 220);
    html_out(out, "</td><td class=\"n\">%u / %u</td><td class=\"n\">", o->numerator,
             o->denominator);
    html_share(out, o->numerator, o->denominator);
    fputs("</td><td class=\"n\">", out);
    if (o->has_target) {
        fputs("≥ ", out);
        html_per_mille(out, target);
    } else {
        fputs("–", out);
    }
    fputs("</td><td>", out);
    s_badge(out, o->status);
    if (o->anru)
        html_out(out, " <span class=\"muted\">dont %u ANRU</span>", o->anru);
    if (o->unknown_qpv)
        html_out(out, " <span class=\"muted\">%u sans statut QPV</span>", o->unknown_qpv);
    if (o->unknown_quartile)
        html_out(out, " <span class=\"muted\">%u sans quartile connu</span>", o->unknown_quartile);
    fputs("</td></tr>\n", out);
}

static void s_objective_card(FILE *out, const bilan_epci_t *e, const s_objective_text_t *t)
{
    html_out(out,
             "<div class=\"card\" data-objective-card=\"%s\"><h3>%s</h3><p class=\"rule\">%s</p>",
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
    html_esc(out, *e->epci_name ? e->epci_name : *e->epci_siren ? "EPCI" : "EPCI non renseigné");
    fputs(" <small>", out);
    html_esc(out, e->epci_siren);
    html_out(out, "</small></h3><p class=\"rule\">%u attributions, %u baux", e->attributions,
             e->leases);
    for (size_t i = 0; i < e->n_thresholds; i++) {
        const bilan_threshold_t *t = &e->thresholds[i];
        if (t->known)
            html_out(out, " · seuil du 1er quartile %d : %lld&#8239;€ par UC", t->year,
                     (long long)(t->cents / 100));
        else
            html_out(out, " · seuil du 1er quartile %d : non importé", t->year);
    }
    html_out(out,
             " · statut QPV : %u par la table de référence, %u par le message du bailleur, %u "
             "inconnus",
             e->qpv_reference, e->qpv_message, e->qpv_unknown);
    for (size_t i = 0; i < e->n_map_years; i++)
        html_out(out, "%s%u", i ? ", " : " (carte des messages : ", e->message_map_years[i]);
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
        html_esc(out, e->epci_siren);
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
    if (!c->has_objective)
        fputs("<span class=\"muted\">pas d'objectif de convention</span>", out);
    else
        html_progress(out, c->done, c->objective, w);
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
        html_esc(out, c->key);
        html_out(out, "\" data-attributions=\"%u\" data-done=\"%u\" data-objective=\"%u\"><td>",
                 c->attributions, c->done, c->has_objective ? c->objective : 0);
        html_esc(out, c->label);
        html_out(out,
                 "</td><td class=\"n\">%u</td><td class=\"n\">%u</td><td class=\"n\">%u</td><td>",
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
        html_out(out, " <span class=\"n\">%u / %u</span></td></tr>\n", c->prioritaires,
                 c->attributions);
    }
    if (!t->n)
        fputs("<tr><td colspan=\"6\" class=\"muted\">Aucun réservataire dans la période.</td></tr>",
              out);
    fputs("</tbody></table></div>\n</section>\n", out);
}

/* ---- monthly flow ---- */

static void s_flow(FILE *out, const bilan_t *b)
{
    static const html_series_t series[] = {
        {"orientations", "orientations", HTML_C_ORIENT},
        {"attributions", "attributions", HTML_C_ATTR},
        {"leases", "baux signés", HTML_C_LEASE},
    };
    html_month_t *months = calloc(b->n_months ? b->n_months : 1, sizeof *months);
    if (!months)
        return;
    for (size_t i = 0; i < b->n_months; i++) {
        const bilan_month_t *m = &b->months[i];
        months[i] =
            (html_month_t){m->year, m->month, {m->orientations, m->attributions, m->leases}};
    }
    fputs("<section id=\"flow\">\n<h2>Flux mensuel</h2>\n<div class=\"card\">", out);
    html_monthly_chart(out, "monthly-flow", "orientations, attributions et baux par mois", series,
                       3, months, b->n_months);
    fputs("</div>\n</section>\n", out);
    free(months);
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
    html_out(out, "<div class=\"card%s\" data-breakdown=\"%s\"><h3>%s</h3>",
             dim == BILAN_BY_RESERVATAIRE ? " full" : "", bilan_dim_name(dim), s_dim_titles[dim]);
    fputs("<table><thead><tr><th></th><th class=\"n\">attrib.</th><th></th>"
          "<th class=\"n\" title=\"dont hors flux\">h. flux</th>"
          "<th class=\"n\" title=\"ménages prioritaires\">prio.</th><th class=\"n\">Q1</th>"
          "<th class=\"n\">baux</th></tr></thead><tbody>\n",
          out);
    for (size_t i = 0; i < t->n; i++) {
        const bilan_count_t *c = &t->rows[i];
        html_out(out, "<tr data-dim=\"%s\" data-key=\"", bilan_dim_name(dim));
        html_esc(out, c->key);
        html_out(out, "\" data-attributions=\"%u\" data-leases=\"%u\"><td>", c->attributions,
                 c->leases);
        html_esc(out, c->label);
        html_out(out,
                 "</td><td class=\"n\">%u</td><td style=\"width:22%%\"><div class=\"bar\"><i"
                 " style=\"width:%.1f%%\"></i></div></td><td class=\"n\">%u</td><td class=\"n\">%u"
                 "</td><td class=\"n\">%u</td><td class=\"n\">%u</td></tr>\n",
                 c->attributions, 100.0 * c->attributions / max, c->hors_flux, c->prioritaires,
                 c->q1, c->leases);
    }
    if (!t->n)
        fputs("<tr><td colspan=\"7\" class=\"muted\">aucune</td></tr>", out);
    fputs("</tbody></table></div>\n", out);
}

static void s_breakdowns(FILE *out, const bilan_t *b)
{
    html_out(
        out,
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
        html_esc(out, r->residence_id);
        html_out(out, "\" data-total=\"%u\"><td>", r->total);
        html_esc(out, *r->residence_id ? r->residence_id : "(sans résidence)");
        fputs(" <span class=\"muted\">", out);
        html_esc(out, r->commune_insee);
        html_out(out,
                 "</span></td><td class=\"n\">%u</td><td><svg width=\"180\" height=\"16\""
                 " viewBox=\"0 0 180 16\">",
                 r->total);
        double x = 0;
        for (int m = 0; m < BILAN_REFUS_MOTIFS; m++) {
            if (!r->by_motif[m])
                continue;
            double w = 180.0 * r->by_motif[m] / max;
            html_out(out,
                     "<rect x=\"%.1f\" y=\"2\" width=\"%.1f\" height=\"12\" fill=\"%s\">"
                     "<title>%s : %u</title></rect>",
                     x, w, s_motif_colours[m], bilan_refus_label(m), r->by_motif[m]);
            x += w;
        }
        fputs("</svg> ", out);
        for (int m = 0, first = 1; m < BILAN_REFUS_MOTIFS; m++)
            if (r->by_motif[m]) {
                html_out(out, "%s<span class=\"muted\">%s %u</span>", first ? "" : " · ",
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
        html_out(out, "<tr class=\"%s\" data-commune=\"", i ? "" : "all");
        html_esc(out, i ? v->key : "all");
        html_out(out, "\" data-median=\"%u\"><td>", v->median);
        html_esc(out, i ? v->key : "toutes");
        html_out(out,
                 "</td><td class=\"n\">%u</td><td class=\"n\">%s j</td><td class=\"n\">%u j</td>"
                 "<td class=\"n\">%u j</td><td class=\"n\">%u j</td></tr>\n",
                 v->leases, mean, v->median, v->min, v->max);
    }
    fputs("</tbody></table></div>\n", out);
}

static void s_repeated(FILE *out, const bilan_t *b)
{
    html_out(
        out,
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
        html_esc(out, r->nur);
        html_out(out, "\" data-presentations=\"%u\"><td>", r->presentations);
        html_esc(out, r->nur);
        html_out(out, "</td><td class=\"n\">%u</td><td>", r->presentations);
        html_esc(out, r->reservataires);
        html_out(out, "</td><td>%s</td></tr>\n", r->last_presented);
    }
    fputs("</tbody></table></div>\n", out);
}

static void s_q1_proposals(FILE *out, const bilan_t *b)
{
    const bilan_q1_proposals_t *p = &b->q1_proposals;
    fputs("<div class=\"card\" id=\"q1-proposals\"><h3>Candidats du 1er quartile dans les "
          "propositions hors QPV</h3><table><tbody>\n",
          out);
    html_out(out,
             "<tr data-figure=\"q1_candidates\" data-num=\"%u\" data-den=\"%u\"><td>candidats Q1 "
             "parmi les candidats désignés</td><td>",
             p->q1_candidates, p->candidates);
    s_gauge(out, p->q1_candidates, p->candidates, NULL, 0, "pass", 160);
    html_out(out, "</td><td class=\"n\">%u / %u</td><td class=\"n\">", p->q1_candidates,
             p->candidates);
    html_share(out, p->q1_candidates, p->candidates);
    html_out(out,
             "</td></tr>\n<tr data-figure=\"proposals_with_q1\" data-num=\"%u\" data-den=\"%u\">"
             "<td>logements proposés avec au moins un candidat Q1</td><td>",
             p->proposals_with_q1, p->proposals);
    s_gauge(out, p->proposals_with_q1, p->proposals, NULL, 0, "pass", 160);
    html_out(out, "</td><td class=\"n\">%u / %u</td><td class=\"n\">", p->proposals_with_q1,
             p->proposals);
    html_share(out, p->proposals_with_q1, p->proposals);
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
    return html_end(out,
                    "Produit par <code>fluxbus report bilan</code> depuis le registre du bus : "
                    "chaque chiffre vient de messages signés (définitions : docs/LEDGER.md, "
                    "« Bilan and reports »).");
}
