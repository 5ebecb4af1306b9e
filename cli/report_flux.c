/* report_flux.c - renders a décompte as the `report flux` JSON object and
 * CSV tables (see report_flux.h). Owns the names of the columns and keys
 * and the number formats (per mille in JSON, percentages with a decimal
 * comma in CSV); computes nothing but ratios for display. */
#include "report_flux.h"

#include <string.h>

#include "report_csv.h"

/* ---- shared ---------------------------------------------------------------------- */

/* The placements objective of a line, or NULL. */
static const decompte_objective_t *s_placements(const decompte_line_t *l)
{
    for (size_t i = 0; i < l->n_objectives; i++)
        if (strcmp(decompte_kind_name(l->objectives[i].kind), "placements") == 0)
            return &l->objectives[i];
    return NULL;
}

/* done / target in tenths of a percent (625 = 62.5 %); -1 without a target. */
static long s_progress_x10(uint32_t done, uint32_t target)
{
    return target ? (long)(((uint64_t)done * 2000 + target) / (2 * (uint64_t)target)) : -1;
}

static void s_date(period_date_t d, char out[11])
{
    period_format_date(d, out);
}

/* ---- JSON ------------------------------------------------------------------------ */

static json_t *s_json_counts(const decompte_tally_t *t);

/* n of the CALEOL attributions, as a percentage (null without any). */
static json_t *s_json_share(uint32_t n, uint32_t attributions)
{
    long x10 = s_progress_x10(n, attributions);
    return x10 < 0 ? json_null() : json_real((double)x10 / 10.0);
}

/* The households their Designation said prioritaires (DALO or PDALHPD), or
 * DALO: attributions, leases, share of the attributions. */
static json_t *s_json_households(uint32_t attributions, uint32_t leases, const decompte_tally_t *t)
{
    return json_pack("{s:i, s:i, s:o}", "attributions", (int)attributions, "leases", (int)leases,
                     "share_pct", s_json_share(attributions, t->caleol_attributions));
}

static json_t *s_json_tally(const decompte_tally_t *t)
{
    json_t *tally = s_json_counts(t);
    json_object_set_new(tally, "prioritaires",
                        s_json_households(t->attributions_prioritaires, t->leases_prioritaires, t));
    json_object_set_new(tally, "dalo", s_json_households(t->attributions_dalo, t->leases_dalo, t));
    return tally;
}

static json_t *s_json_counts(const decompte_tally_t *t)
{
    return json_pack(
        "{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:{s:i, s:i, s:i}, s:i, s:i, s:i, s:i, s:i, s:i,"
        " s:{s:i, s:i, s:i, s:i}}",
        "freed", (int)t->freed, "hors_flux", (int)t->hors_flux, "orientations",
        (int)t->orientations, "acks", (int)t->acks, "declines", (int)t->declines, "designations",
        (int)t->designations, "remises", (int)t->remises, "expiries", (int)t->expiries, "caleol",
        "attributions", (int)t->caleol_attributions, "non_attributions",
        (int)t->caleol_non_attributions, "rejets", (int)t->caleol_rejets, "refusals",
        (int)t->refusals, "non_suites", (int)t->non_suites, "leases", (int)t->leases, "offres",
        (int)t->offres, "partenariale", (int)t->partenariale, "deleguee", (int)t->deleguee,
        "counts", "orientation_acceptee", (int)t->counts[DECOMPTE_ORIENTATION_ACCEPTEE],
        "passage_caleol", (int)t->counts[DECOMPTE_PASSAGE_CALEOL], "bail_signe",
        (int)t->counts[DECOMPTE_BAIL_SIGNE], "official", (int)t->counts[DECOMPTE_OFFICIAL]);
}

static json_t *s_json_objective(const decompte_objective_t *o)
{
    long p = s_progress_x10(o->done, o->target);
    return json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:s}", "kind",
                     decompte_kind_name(o->kind), "unit", decompte_unit_name(o->unit), "value",
                     (int)o->value, "min", (int)o->min, "max", (int)o->max, "base", (int)o->base,
                     "target", (int)o->target, "target_min", (int)o->target_min, "target_max",
                     (int)o->target_max, "done", (int)o->done, "remaining", (int)o->remaining,
                     "progress_pct", p < 0 ? json_null() : json_real((double)p / 10.0), "status",
                     o->status);
}

static json_t *s_json_line(const decompte_line_t *l)
{
    json_t *line = json_pack("{s:s, s:s}", "party", l->party, "commune_insee", l->commune_insee);
    json_t *objectives = json_array();
    for (size_t i = 0; i < l->n_objectives; i++)
        json_array_append_new(objectives, s_json_objective(&l->objectives[i]));
    json_t *tally = s_json_tally(&l->tally);
    json_object_update(line, tally);
    json_decref(tally);
    json_object_set_new(line, "objectives", objectives);
    return line;
}

static json_t *s_json_counting(const conventions_rev_t *c)
{
    conventions_rule_t def = conventions_rule(c, 0);
    json_t *rules = json_array();
    for (size_t i = 0; i < c->n_counting_rules; i++) {
        conventions_rule_t r = conventions_rule(c, (int)c->counting_rules[i]->mode);
        json_array_append_new(rules, json_pack("{s:s, s:s, s:b}", "mode",
                                               decompte_mode_name((int)c->counting_rules[i]->mode),
                                               "method", decompte_method_name(r.method),
                                               "caleol_requires_visit", r.requires_visit));
    }
    return json_pack("{s:s, s:b, s:o, s:b, s:b}", "official_method",
                     decompte_method_name(def.method), "caleol_requires_visit", def.requires_visit,
                     "rules", rules, "remise_counted", conventions_remise_counted(c),
                     "expiry_counted", conventions_expiry_counted(c));
}

static json_t *s_json_revisions(const decompte_t *d, const char *id)
{
    json_t *revs = json_array();
    long i = conventions_find(d->conventions, id);
    for (size_t k = 0; i >= 0 && k < conventions_revision_count(d->conventions, (size_t)i); k++) {
        const conventions_rev_t *r = conventions_revision(d->conventions, (size_t)i, k);
        int64_t from = conventions_effective_ms(r);
        char date[11] = "";
        if (from != INT64_MIN)
            s_date(period_date_of(from), date);
        json_array_append_new(revs, json_pack("{s:i, s:s, s:s}", "revision", (int)r->revision,
                                              "effective_from", date, "note", r->amendment_note));
    }
    return revs;
}

static json_t *s_json_convention(const decompte_t *d, const decompte_convention_t *item)
{
    const conventions_rev_t *c = item->rev;
    json_t *lines = json_array();
    for (size_t i = 0; i < item->n_lines; i++)
        json_array_append_new(lines, s_json_line(&item->lines[i]));
    return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:o}", "convention_id",
                     c->convention_id, "revision", (int)c->revision, "kind",
                     conventions_multipartite(c) ? "multipartite" : "bilaterale", "bailleur",
                     c->bailleur_actor_id, "reservataire", c->reservataire_actor_id, "departement",
                     c->departement, "year", (int)c->year, "revisions",
                     s_json_revisions(d, c->convention_id), "counting", s_json_counting(c), "lines",
                     lines, "total", s_json_line(&item->total));
}

static json_t *s_json_row(const char *key_name, const decompte_row_t *r, bool with_target)
{
    json_t *row = json_pack("{s:s}", key_name, r->key);
    json_t *tally = s_json_tally(&r->tally);
    json_object_update(row, tally);
    json_decref(tally);
    if (with_target) {
        long p = s_progress_x10(r->tally.counts[DECOMPTE_OFFICIAL], r->target);
        json_object_set_new(row, "objective",
                            r->has_target ? json_integer(r->target) : json_null());
        json_object_set_new(row, "progress_pct",
                            r->has_target && p >= 0 ? json_real((double)p / 10.0) : json_null());
    }
    return row;
}

static json_t *s_json_fairness(const decompte_t *d)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < d->n_fairness; i++) {
        const decompte_fairness_t *f = &d->fairness[i];
        json_array_append_new(rows, json_pack("{s:s, s:i, s:i, s:f, s:i, s:i, s:f}", "reservataire",
                                              f->reservataire, "orientations", (int)f->orientations,
                                              "orientation_share_pm", (int)f->orientation_share_pm,
                                              "orientation_share_pct",
                                              (double)f->orientation_share_pm / 10.0, "hard_to_let",
                                              (int)f->hard_to_let, "hard_to_let_share_pm",
                                              (int)f->hard_to_let_share_pm, "hard_to_let_share_pct",
                                              (double)f->hard_to_let_share_pm / 10.0));
    }
    return json_pack("{s:i, s:i, s:i, s:o}", "threshold", (int)d->hard_to_let_threshold,
                     "orientations", (int)d->fairness_orientations, "hard_to_let",
                     (int)d->fairness_hard_to_let, "reservataires", rows);
}

static json_t *s_nullable(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *report_flux_json(const decompte_t *d, const char *bailleur, const char *reservataire)
{
    char from[11], to[11];
    s_date(d->period.from, from);
    s_date(d->period.to, to);
    json_t *conventions = json_array(), *reservataires = json_array(), *communes = json_array();
    for (size_t i = 0; i < d->n_items; i++)
        json_array_append_new(conventions, s_json_convention(d, &d->items[i]));
    for (size_t i = 0; i < d->n_reservataires; i++)
        json_array_append_new(reservataires,
                              s_json_row("reservataire", &d->reservataires[i], true));
    for (size_t i = 0; i < d->n_communes; i++)
        json_array_append_new(communes, s_json_row("commune_insee", &d->communes[i], false));
    return json_pack("{s:s, s:{s:s, s:s}, s:o, s:o, s:o, s:o, s:o, s:o}", "report", "flux",
                     "period", "from", from, "to", to, "bailleur", s_nullable(bailleur),
                     "reservataire", s_nullable(reservataire), "conventions", conventions,
                     "reservataires", reservataires, "communes", communes, "fairness",
                     s_json_fairness(d));
}

/* ---- CSV ------------------------------------------------------------------------- */

static void s_uint(report_csv_t *out, uint32_t v)
{
    fprintf(out->f, "%u;", v);
}

/* A tenth-precision number with a decimal comma ("62,5"); empty when < 0. */
static void s_decimal(report_csv_t *out, long x10, bool last)
{
    if (x10 >= 0)
        fprintf(out->f, "%ld,%ld", x10 / 10, x10 % 10);
    fputc(last ? '\n' : ';', out->f);
}

static const char s_tally_head[] =
    "freed;hors_flux;orientations;acks;declines;designations;remises;expiries;"
    "caleol_attributions;caleol_non_attributions;caleol_rejets;refusals;non_suites;leases;"
    "count_orientation_acceptee;count_passage_caleol;count_bail_signe;count_official;"
    "attributions_prioritaires;attributions_dalo;leases_prioritaires;leases_dalo";

/* The tally's columns, each followed by ';' (the last by a line break when
 * `last`). */
static void s_tally(report_csv_t *out, const decompte_tally_t *t, bool last)
{
    const uint32_t v[] = {t->freed,
                          t->hors_flux,
                          t->orientations,
                          t->acks,
                          t->declines,
                          t->designations,
                          t->remises,
                          t->expiries,
                          t->caleol_attributions,
                          t->caleol_non_attributions,
                          t->caleol_rejets,
                          t->refusals,
                          t->non_suites,
                          t->leases,
                          t->counts[DECOMPTE_ORIENTATION_ACCEPTEE],
                          t->counts[DECOMPTE_PASSAGE_CALEOL],
                          t->counts[DECOMPTE_BAIL_SIGNE],
                          t->counts[DECOMPTE_OFFICIAL],
                          t->attributions_prioritaires,
                          t->attributions_dalo,
                          t->leases_prioritaires,
                          t->leases_dalo};
    size_t n = sizeof v / sizeof v[0];
    for (size_t i = 0; i < n; i++)
        fprintf(out->f, "%u%c", v[i], last && i + 1 == n ? '\n' : ';');
}

static void s_csv_line(report_csv_t *out, const decompte_convention_t *item,
                       const decompte_line_t *l, const char *party)
{
    report_csv_field(out, "convention", false);
    report_csv_field(out, item->rev->convention_id, false);
    fprintf(out->f, "%u;", item->rev->revision);
    report_csv_field(out, decompte_method_name(conventions_rule(item->rev, 0).method), false);
    report_csv_field(out, party, false);
    report_csv_field(out, l->commune_insee, false);
    s_tally(out, &l->tally, false);
    const decompte_objective_t *o = s_placements(l);
    if (o) {
        fprintf(out->f, "%u;%u;", o->target, o->done);
        s_decimal(out, s_progress_x10(o->done, o->target), false);
        report_csv_field(out, o->status, true);
    } else {
        fputs(";;;\n", out->f);
    }
}

static void s_csv_objectives(report_csv_t *out, const decompte_convention_t *item,
                             const decompte_line_t *l, const char *party)
{
    for (size_t i = 0; i < l->n_objectives; i++) {
        const decompte_objective_t *o = &l->objectives[i];
        report_csv_field(out, "objective", false);
        report_csv_field(out, item->rev->convention_id, false);
        report_csv_field(out, party, false);
        report_csv_field(out, decompte_kind_name(o->kind), false);
        report_csv_field(out, decompte_unit_name(o->unit), false);
        const uint32_t v[] = {o->value,  o->min,        o->max,        o->base,
                              o->target, o->target_min, o->target_max, o->done};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
            s_uint(out, v[k]);
        fprintf(out->f, "%d;", o->remaining);
        s_decimal(out, s_progress_x10(o->done, o->target), false);
        report_csv_field(out, o->status, true);
    }
}

static void s_csv_conventions(const decompte_t *d, report_csv_t *out)
{
    fprintf(out->f,
            "table;convention_id;revision;official_method;party;commune_insee;%s;"
            "objective_target;objective_done;objective_progress_pct;objective_status\n",
            s_tally_head);
    for (size_t i = 0; i < d->n_items; i++) {
        for (size_t k = 0; k < d->items[i].n_lines; k++)
            s_csv_line(out, &d->items[i], &d->items[i].lines[k], d->items[i].lines[k].party);
        s_csv_line(out, &d->items[i], &d->items[i].total, "total");
    }
    fputs("\ntable;convention_id;party;kind;unit;value;min;max;base;target;target_min;"
          "target_max;done;remaining;progress_pct;status\n",
          out->f);
    for (size_t i = 0; i < d->n_items; i++) {
        for (size_t k = 0; k < d->items[i].n_lines; k++)
            s_csv_objectives(out, &d->items[i], &d->items[i].lines[k], d->items[i].lines[k].party);
        s_csv_objectives(out, &d->items[i], &d->items[i].total, "total");
    }
}

static void s_csv_rows(report_csv_t *out, const char *table, const char *key,
                       const decompte_row_t *rows, size_t n, bool with_target)
{
    fprintf(out->f, "\ntable;%s;%s%s\n", key, s_tally_head,
            with_target ? ";objective_target;progress_pct" : "");
    for (size_t i = 0; i < n; i++) {
        report_csv_field(out, table, false);
        report_csv_field(out, rows[i].key, false);
        s_tally(out, &rows[i].tally, !with_target);
        if (!with_target)
            continue;
        if (rows[i].has_target)
            fprintf(out->f, "%u;", rows[i].target);
        else
            fputc(';', out->f);
        s_decimal(out,
                  rows[i].has_target
                      ? s_progress_x10(rows[i].tally.counts[DECOMPTE_OFFICIAL], rows[i].target)
                      : -1,
                  true);
    }
}

static void s_csv_fairness(const decompte_t *d, report_csv_t *out)
{
    fprintf(out->f, "\ntable;reservataire;orientations;orientation_share_pct;hard_to_let;"
                    "hard_to_let_share_pct;threshold\n");
    for (size_t i = 0; i < d->n_fairness; i++) {
        const decompte_fairness_t *f = &d->fairness[i];
        report_csv_field(out, "fairness", false);
        report_csv_field(out, f->reservataire, false);
        s_uint(out, f->orientations);
        s_decimal(out, (long)f->orientation_share_pm, false);
        s_uint(out, f->hard_to_let);
        s_decimal(out, (long)f->hard_to_let_share_pm, false);
        fprintf(out->f, "%u\n", d->hard_to_let_threshold);
    }
}

bool report_flux_csv(const decompte_t *d, FILE *f, bool codes_as_text)
{
    report_csv_t csv = {f, codes_as_text}, *out = &csv;
    char from[11], to[11];
    s_date(d->period.from, from);
    s_date(d->period.to, to);
    fprintf(out->f, "report;flux;from;%s;to;%s\n\n", from, to);
    s_csv_conventions(d, out);
    s_csv_rows(out, "reservataire", "reservataire", d->reservataires, d->n_reservataires, true);
    s_csv_rows(out, "commune", "commune_insee", d->communes, d->n_communes, false);
    s_csv_fairness(d, out);
    return fflush(f) == 0 && !ferror(f);
}
