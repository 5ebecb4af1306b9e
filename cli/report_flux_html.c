/* report_flux_html.c - the décompte as one self-contained HTML page (see
 * report_flux_html.h). Owns the page's layout and French wording; the
 * style, gauges, progress bars and the monthly chart are html.h's.
 * Computes nothing but sums over the réservataires and shares for display.
 * Figures come from decompte.h only. */
#include "report_flux_html.h"

#include <stdlib.h>
#include <string.h>

#include "html.h"

/* ---- words ---- */

static const char *s_status_label(const char *status)
{
    if (strcmp(status, "reached") == 0)
        return "atteint";
    if (strcmp(status, "below_min") == 0)
        return "sous le minimum";
    if (strcmp(status, "above_max") == 0)
        return "au-delà du maximum";
    return "en cours";
}

static const char *s_kind_label(int kind)
{
    const char *name = decompte_kind_name(kind);
    if (strcmp(name, "offres") == 0)
        return "offres";
    if (strcmp(name, "gestion_partenariale") == 0)
        return "gestion partenariale";
    if (strcmp(name, "gestion_deleguee") == 0)
        return "gestion déléguée";
    return "placements";
}

static const char *s_method_label(int method)
{
    const char *name = decompte_method_name(method);
    if (strcmp(name, "orientation_acceptee") == 0)
        return "à l'orientation acceptée";
    return strcmp(name, "passage_caleol") == 0 ? "au passage en CALEOL" : "au bail signé";
}

/* ---- head and key figures ---- */

static void s_head(FILE *out, const decompte_t *d, const char *bailleur, const char *resa)
{
    html_begin(out, "Décompte des conventions", "Décompte des droits de réservation", &d->period);
    fputs("Conventions de réservation en flux · ", out);
    if (bailleur) {
        fputs("bailleur ", out);
        html_esc(out, bailleur);
    } else {
        fputs("tous les bailleurs", out);
    }
    fputs(" · ", out);
    if (resa) {
        fputs("réservataire ", out);
        html_esc(out, resa);
    } else {
        fputs("tous les réservataires", out);
    }
    fputs(" · compté selon chaque convention, les trois méthodes côte à côte · calculé depuis le "
          "registre des messages signés",
          out);
    html_header_end(out);
}

/* Every réservataire together. */
static decompte_tally_t s_all(const decompte_t *d)
{
    decompte_tally_t all;
    memset(&all, 0, sizeof all);
    for (size_t i = 0; i < d->n_reservataires; i++) {
        const decompte_tally_t *t = &d->reservataires[i].tally;
        all.orientations += t->orientations;
        all.designations += t->designations;
        all.remises += t->remises;
        all.expiries += t->expiries;
        all.caleol_attributions += t->caleol_attributions;
        all.leases += t->leases;
        all.counts[DECOMPTE_OFFICIAL] += t->counts[DECOMPTE_OFFICIAL];
        all.attributions_prioritaires += t->attributions_prioritaires;
        all.attributions_dalo += t->attributions_dalo;
    }
    return all;
}

static void s_kpis(FILE *out, const decompte_t *d)
{
    decompte_tally_t t = s_all(d);
    fputs("<section class=\"kpis\" id=\"kpis\">\n", out);
    html_kpi(out, "orientations", "orientations envoyées", "%u", t.orientations);
    html_kpi(out, "designations", "candidats désignés", "%u", t.designations);
    html_kpi(out, "remises_expiries", "remises à disposition et délais expirés", "%u",
             t.remises + t.expiries);
    html_kpi(out, "attributions", "attributions en CALEOL", "%u", t.caleol_attributions);
    html_kpi(out, "leases", "baux signés", "%u", t.leases);
    html_kpi(out, "official", "placements comptés (méthode de chaque convention)", "%u",
             t.counts[DECOMPTE_OFFICIAL]);
    html_out(out, "<div class=\"kpi\" data-kpi=\"dalo_share\"><b>");
    html_share(out, t.attributions_dalo, t.caleol_attributions);
    fputs("</b><span>des attributions à des ménages DALO</span></div>\n", out);
    html_kpi(out, "hard_to_let", "orientations de logements refusés souvent", "%u",
             d->fairness_hard_to_let);
    fputs("</section>\n", out);
}

/* ---- progress per réservataire ---- */

static void s_methods(FILE *out, const decompte_tally_t *t)
{
    html_out(out,
             "<td class=\"n\">%u</td><td class=\"n\">%u</td><td class=\"n\">%u</td>"
             "<td class=\"n\"><b>%u</b></td>",
             t->counts[DECOMPTE_ORIENTATION_ACCEPTEE], t->counts[DECOMPTE_PASSAGE_CALEOL],
             t->counts[DECOMPTE_BAIL_SIGNE], t->counts[DECOMPTE_OFFICIAL]);
}

static void s_reservataire_row(FILE *out, const decompte_row_t *r)
{
    const decompte_tally_t *t = &r->tally;
    fputs("<tr data-reservataire=\"", out);
    html_esc(out, r->key);
    html_out(out,
             "\" data-done=\"%u\" data-objective=\"%u\" data-attributions=\"%u\""
             " data-prioritaires=\"%u\" data-dalo=\"%u\" data-orientation-acceptee=\"%u\""
             " data-passage-caleol=\"%u\" data-bail-signe=\"%u\" data-freed=\"%u\""
             " data-hors-flux=\"%u\"><td>",
             t->counts[DECOMPTE_OFFICIAL], r->has_target ? r->target : 0, t->caleol_attributions,
             t->attributions_prioritaires, t->attributions_dalo,
             t->counts[DECOMPTE_ORIENTATION_ACCEPTEE], t->counts[DECOMPTE_PASSAGE_CALEOL],
             t->counts[DECOMPTE_BAIL_SIGNE], t->freed, t->hors_flux);
    html_esc(out, r->key);
    html_out(out, "</td><td class=\"n\">%u</td><td class=\"n\">%u</td><td>", t->freed,
             t->orientations);
    if (r->has_target)
        html_progress(out, t->counts[DECOMPTE_OFFICIAL], r->target, 200);
    else
        fputs("<span class=\"muted\">pas d'objectif de placements</span>", out);
    fputs("</td>", out);
    s_methods(out, t);
    fputs("<td>", out);
    html_gauge(out, t->attributions_prioritaires, t->caleol_attributions, NULL, 0, HTML_C_ATTR,
               140);
    html_out(out,
             " <span class=\"n\">%u / %u</span> <span class=\"muted\">dont DALO %u</span>"
             "</td></tr>\n",
             t->attributions_prioritaires, t->caleol_attributions, t->attributions_dalo);
}

static void s_reservataires(FILE *out, const decompte_t *d)
{
    fputs("<section id=\"reservataires\">\n<h2>Progression par réservataire</h2>\n"
          "<div class=\"card\"><p class=\"rule\">Placements comptés selon la règle de chaque "
          "convention (officiel) face à l'objectif de la période ; à côté, les logements comptés "
          "selon chacune des trois méthodes, et la part des attributions en CALEOL à des ménages "
          "prioritaires (DALO ou PDALHPD). Libérés : les logements libérés dans la période sur "
          "le périmètre de ses conventions, en flux.</p>\n<table><thead><tr><th>réservataire</th>"
          "<th class=\"n\">libérés</th><th class=\"n\">orientations</th><th>placements / "
          "objectif</th>"
          "<th class=\"n\" title=\"orientation acceptée\">orient.</th>"
          "<th class=\"n\" title=\"passage en CALEOL\">CALEOL</th>"
          "<th class=\"n\" title=\"bail signé\">bail</th><th class=\"n\">officiel</th>"
          "<th>ménages prioritaires</th></tr></thead><tbody>\n",
          out);
    for (size_t i = 0; i < d->n_reservataires; i++)
        s_reservataire_row(out, &d->reservataires[i]);
    if (!d->n_reservataires)
        fputs("<tr><td colspan=\"9\" class=\"muted\">Aucun réservataire dans la période.</td></tr>",
              out);
    fputs("</tbody></table></div>\n</section>\n", out);
}

/* ---- monthly flow ---- */

static void s_flow(FILE *out, const decompte_month_t *months, size_t n)
{
    static const html_series_t series[] = {
        {"orientations", "orientations", HTML_C_ORIENT},
        {"attributions", "attributions en CALEOL", HTML_C_ATTR},
        {"leases", "baux signés", HTML_C_LEASE},
        {"official", "placements comptés", HTML_C_COUNT},
    };
    html_month_t *m = calloc(n ? n : 1, sizeof *m);
    if (!m)
        return;
    for (size_t i = 0; i < n; i++) {
        const decompte_tally_t *t = &months[i].tally;
        m[i] = (html_month_t){
            months[i].year,
            months[i].month,
            {t->orientations, t->caleol_attributions, t->leases, t->counts[DECOMPTE_OFFICIAL]}};
    }
    fputs("<section id=\"flow\">\n<h2>Flux mensuel</h2>\n<div class=\"card\">", out);
    html_monthly_chart(out, "monthly-flow",
                       "orientations, attributions, baux et placements comptés par mois", series,
                       sizeof series / sizeof series[0], m, n);
    fputs("</div>\n</section>\n", out);
    free(m);
}

/* ---- conventions ---- */

static void s_objectives(FILE *out, const decompte_convention_t *item, const decompte_line_t *l,
                         const char *party)
{
    if (!l->n_objectives)
        fputs("<span class=\"muted\">pas d'objectif</span>", out);
    for (size_t i = 0; i < l->n_objectives; i++) {
        const decompte_objective_t *o = &l->objectives[i];
        html_out(out, "<div data-convention=\"");
        html_esc(out, item->rev->convention_id);
        fputs("\" data-party=\"", out);
        html_esc(out, party);
        html_out(out,
                 "\" data-kind=\"%s\" data-target=\"%u\" data-done=\"%u\" data-status=\"%s\">"
                 "<span class=\"tag\">%s</span> ",
                 decompte_kind_name(o->kind), o->target, o->done, o->status, s_kind_label(o->kind));
        html_progress(out, o->done, o->target, 160);
        fputs(" ", out);
        html_badge(out, o->status, s_status_label(o->status));
        fputs("</div>", out);
    }
}

static void s_line(FILE *out, const decompte_convention_t *item, const decompte_line_t *l,
                   const char *party, bool total)
{
    const decompte_tally_t *t = &l->tally;
    html_out(out, "<tr class=\"%s\" data-convention=\"", total ? "all" : "");
    html_esc(out, item->rev->convention_id);
    fputs("\" data-party=\"", out);
    html_esc(out, party);
    html_out(out, "\" data-official=\"%u\" data-leases=\"%u\" data-non-suites=\"%u\"><td>",
             t->counts[DECOMPTE_OFFICIAL], t->leases, t->non_suites);
    html_esc(out, total ? "ensemble" : party);
    if (*l->commune_insee) {
        fputs(" <span class=\"muted\">", out);
        html_esc(out, l->commune_insee);
        fputs("</span>", out);
    }
    html_out(out,
             "</td><td class=\"n\">%u</td><td class=\"n\">%u</td><td class=\"n\">%u</td>"
             "<td class=\"n\">%u</td>",
             t->orientations, t->caleol_attributions, t->non_suites, t->leases);
    s_methods(out, t);
    fputs("<td>", out);
    s_objectives(out, item, l, party);
    fputs("</td></tr>\n", out);
}

static void s_convention(FILE *out, const decompte_convention_t *item)
{
    const conventions_rev_t *c = item->rev;
    fputs("<div class=\"card\"><h3>", out);
    html_esc(out, c->convention_id);
    html_out(out, " <small>révision %u · ", c->revision);
    html_esc(out, c->reservataire_actor_id);
    html_out(out, " · %s · comptée %s</small></h3>",
             conventions_multipartite(c) ? "multipartite" : "bilatérale",
             s_method_label(conventions_rule(c, 0).method));
    fputs("<table><thead><tr><th>partie</th><th class=\"n\">orientations</th>"
          "<th class=\"n\">attrib.</th><th class=\"n\" title=\"attributions non suivies de "
          "bail\">sans bail</th><th class=\"n\">baux</th><th class=\"n\">orient.</th>"
          "<th class=\"n\">CALEOL</th><th class=\"n\">bail</th><th class=\"n\">officiel</th>"
          "<th>objectifs</th></tr></thead><tbody>\n",
          out);
    for (size_t i = 0; i < item->n_lines; i++)
        s_line(out, item, &item->lines[i], item->lines[i].party, false);
    s_line(out, item, &item->total, "total", true);
    fputs("</tbody></table></div>\n", out);
}

static void s_conventions(FILE *out, const decompte_t *d)
{
    fputs("<section id=\"conventions\">\n<h2>Conventions</h2>\n<p class=\"rule\">Pour chaque "
          "partie : ses orientations et leurs suites, les logements comptés selon chacune des "
          "trois méthodes et selon la règle de la convention (officiel), ses objectifs de la "
          "période.</p>\n",
          out);
    for (size_t i = 0; i < d->n_items; i++)
        s_convention(out, &d->items[i]);
    if (!d->n_items)
        fputs("<p class=\"muted\">Aucune convention dans la période.</p>\n", out);
    fputs("</section>\n", out);
}

/* ---- fairness and communes ---- */

static void s_fairness(FILE *out, const decompte_t *d)
{
    html_out(out,
             "<section id=\"fairness\">\n<h2>Logements difficiles à louer</h2>\n<div "
             "class=\"card\"><p class=\"rule\">Logements refusés %u fois ou plus : la part de "
             "chaque réservataire face à sa part de toutes les orientations.</p>\n<table><thead>"
             "<tr><th>réservataire</th><th>part des orientations</th><th>part des logements "
             "difficiles</th></tr></thead><tbody>\n",
             d->hard_to_let_threshold);
    for (size_t i = 0; i < d->n_fairness; i++) {
        const decompte_fairness_t *f = &d->fairness[i];
        fputs("<tr data-fairness=\"", out);
        html_esc(out, f->reservataire);
        html_out(out, "\" data-orientation-pm=\"%u\" data-hard-to-let-pm=\"%u\"><td>",
                 f->orientation_share_pm, f->hard_to_let_share_pm);
        html_esc(out, f->reservataire);
        fputs("</td><td>", out);
        html_gauge(out, f->orientations, d->fairness_orientations, NULL, 0, HTML_C_ORIENT, 160);
        html_out(out, " <span class=\"n\">%u / %u</span></td><td>", f->orientations,
                 d->fairness_orientations);
        html_gauge(out, f->hard_to_let, d->fairness_hard_to_let, NULL, 0,
                   f->hard_to_let_share_pm > f->orientation_share_pm ? HTML_C_FAIL : HTML_C_PASS,
                   160);
        html_out(out, " <span class=\"n\">%u / %u</span></td></tr>\n", f->hard_to_let,
                 d->fairness_hard_to_let);
    }
    if (!d->n_fairness)
        fputs("<tr><td colspan=\"3\" class=\"muted\">Aucune orientation.</td></tr>", out);
    fputs("</tbody></table></div>\n</section>\n", out);
}

static void s_communes(FILE *out, const decompte_t *d)
{
    fputs("<section id=\"communes\">\n<h2>Par commune</h2>\n<div class=\"card\"><table><thead>"
          "<tr><th>commune</th><th class=\"n\">libérés</th><th class=\"n\">hors flux</th>"
          "<th class=\"n\">orientations</th><th class=\"n\">attrib.</th><th class=\"n\">baux</th>"
          "<th class=\"n\">officiel</th></tr></thead><tbody>\n",
          out);
    for (size_t i = 0; i < d->n_communes; i++) {
        const decompte_row_t *c = &d->communes[i];
        const decompte_tally_t *t = &c->tally;
        fputs("<tr data-commune=\"", out);
        html_esc(out, c->key);
        html_out(out, "\" data-leases=\"%u\"><td>", t->leases);
        html_esc(out, *c->key ? c->key : "(inconnue)");
        html_out(out,
                 "</td><td class=\"n\">%u</td><td class=\"n\">%u</td><td class=\"n\">%u</td>"
                 "<td class=\"n\">%u</td><td class=\"n\">%u</td><td class=\"n\">%u</td></tr>\n",
                 t->freed, t->hors_flux, t->orientations, t->caleol_attributions, t->leases,
                 t->counts[DECOMPTE_OFFICIAL]);
    }
    fputs("</tbody></table></div>\n</section>\n", out);
}

bool report_flux_html(const decompte_t *d, const decompte_month_t *months, size_t n_months,
                      const char *bailleur, const char *reservataire, FILE *out)
{
    s_head(out, d, bailleur, reservataire);
    s_kpis(out, d);
    s_reservataires(out, d);
    s_flow(out, months, n_months);
    s_conventions(out, d);
    s_fairness(out, d);
    s_communes(out, d);
    return html_end(out, "Produit par <code>fluxbus report flux</code> depuis le registre du bus : "
                         "chaque chiffre vient de messages signés (définitions : docs/LEDGER.md, "
                         "« Décompte and fairness »).");
}
