/* report_bilan.c - renders a bilan as the `report bilan` JSON object and
 * CSV tables (see report_bilan.h). Owns the names of the keys and columns
 * and the number formats (per mille and percentages with one decimal in
 * JSON, percentages with a decimal comma in CSV); computes nothing but
 * ratios for display. */
#include "report_bilan.h"

#include <string.h>

#include "report_csv.h"

void report_bilan_pct(long x10, char out[24])
{
    if (x10 < 0)
        out[0] = '\0';
    else
        snprintf(out, 24, "%ld,%ld", x10 / 10, x10 % 10);
}

static json_t *s_pct(uint32_t num, uint32_t den)
{
    long x10 = bilan_share_x10(num, den);
    return x10 < 0 ? json_null() : json_real((double)x10 / 10.0);
}

static json_t *s_nullable(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static void s_date(period_date_t d, char out[11])
{
    period_format_date(d, out);
}

/* ---- JSON ------------------------------------------------------------------------ */

static json_t *s_json_count(const bilan_count_t *c, bilan_dim_t dim)
{
    json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i}", "key", c->key, "label",
                          c->label, "attributions", (int)c->attributions, "hors_flux",
                          (int)c->hors_flux, "prioritaires", (int)c->prioritaires, "q1", (int)c->q1,
                          "leases", (int)c->leases, "leases_hors_flux", (int)c->leases_hors_flux);
    if (dim != BILAN_BY_RESERVATAIRE) {
        /* Orientations are counted per réservataire only: null, never 0. */
        json_object_set_new(o, "orientations", json_null());
        return o;
    }
    json_object_set_new(o, "non_reserve", json_boolean(c->non_reserve));
    json_object_set_new(o, "orientations", json_integer(c->orientations));
    json_object_set_new(o, "convention",
                        c->has_objective
                            ? json_pack("{s:i, s:i, s:o}", "objective", (int)c->objective, "done",
                                        (int)c->done, "progress_pct", s_pct(c->done, c->objective))
                            : json_null());
    return o;
}

static json_t *s_json_breakdowns(const bilan_t *b)
{
    json_t *by = json_object();
    for (int d = 0; d < BILAN_DIMS; d++) {
        json_t *rows = json_array();
        for (size_t i = 0; i < b->by[d].n; i++)
            json_array_append_new(rows, s_json_count(&b->by[d].rows[i], (bilan_dim_t)d));
        json_object_set_new(by, bilan_dim_name((bilan_dim_t)d), rows);
    }
    return by;
}

static json_t *s_json_objective(const bilan_objective_t *o)
{
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:i, s:i, s:o, s:i, s:i, s:s}", "objective",
                  o->objective, "level", o->local ? "cia" : "legal", "scope", o->scope, "scope_id",
                  o->scope_id, "reservataire", s_nullable(o->reservataire), "non_reserve",
                  o->non_reserve, "numerator", (int)o->numerator, "denominator",
                  (int)o->denominator, "achieved_pct", s_pct(o->numerator, o->denominator), "anru",
                  (int)o->anru, "unknown_qpv", (int)o->unknown_qpv, "status", o->status);
    json_object_set_new(j, "unknown_quartile", json_integer(o->unknown_quartile));
    json_object_set_new(j, "target",
                        o->has_target
                            ? json_pack("{s:i, s:f, s:s, s:o, s:s}", "per_mille",
                                        (int)o->target.target_per_mille, "pct",
                                        o->target.target_per_mille / 10.0, "valid_from",
                                        o->target.valid_from, "valid_to",
                                        s_nullable(o->target.valid_to), "source", o->target.source)
                            : json_null());
    return j;
}

static json_t *s_json_epci(const bilan_epci_t *e)
{
    json_t *thresholds = json_array(), *objectives = json_array(), *years = json_array();
    for (size_t i = 0; i < e->n_thresholds; i++)
        json_array_append_new(
            thresholds,
            json_pack("{s:i, s:o}", "year", e->thresholds[i].year, "cents",
                      e->thresholds[i].known ? json_integer(e->thresholds[i].cents) : json_null()));
    for (size_t i = 0; i < e->n_objectives; i++)
        json_array_append_new(objectives, s_json_objective(&e->objectives[i]));
    for (size_t i = 0; i < e->n_map_years; i++)
        json_array_append_new(years, json_integer(e->message_map_years[i]));
    return json_pack("{s:o, s:o, s:o, s:i, s:i, s:{s:i, s:i, s:i, s:o}, s:o}", "epci_siren",
                     s_nullable(e->epci_siren), "epci_name", s_nullable(e->epci_name),
                     "q1_thresholds", thresholds, "attributions", (int)e->attributions, "leases",
                     (int)e->leases, "qpv_sources", "reference", (int)e->qpv_reference, "message",
                     (int)e->qpv_message, "unknown", (int)e->qpv_unknown, "message_map_years",
                     years, "objectives", objectives);
}

static json_t *s_json_months(const bilan_t *b)
{
    json_t *months = json_array();
    for (size_t i = 0; i < b->n_months; i++) {
        const bilan_month_t *m = &b->months[i];
        char key[16];
        snprintf(key, sizeof key, "%04d-%02d", m->year, m->month);
        json_array_append_new(months, json_pack("{s:s, s:i, s:i, s:i, s:i}", "month", key, "freed",
                                                (int)m->freed, "orientations", (int)m->orientations,
                                                "attributions", (int)m->attributions, "leases",
                                                (int)m->leases));
    }
    return months;
}

static json_t *s_json_vacant(const bilan_vacant_t *v, const char *key_name)
{
    json_t *o = json_pack("{s:i, s:o, s:i, s:i, s:i}", "leases", (int)v->leases, "mean_days",
                          v->leases ? json_real(v->mean_x10 / 10.0) : json_null(), "median_days",
                          (int)v->median, "min_days", (int)v->min, "max_days", (int)v->max);
    if (key_name)
        json_object_set_new(o, key_name, json_string(v->key));
    return o;
}

static json_t *s_json_refusals(const bilan_t *b)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < b->n_refusals; i++) {
        const bilan_refusals_t *r = &b->refusals[i];
        json_t *motifs = json_object();
        for (int m = 0; m < BILAN_REFUS_MOTIFS; m++)
            if (r->by_motif[m])
                json_object_set_new(motifs, bilan_refus_key(m), json_integer(r->by_motif[m]));
        json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:i, s:o}", "bailleur", r->bailleur,
                                              "residence_id", r->residence_id, "commune_insee",
                                              r->commune_insee, "total", (int)r->total, "motifs",
                                              motifs));
    }
    return rows;
}

static json_t *s_json_repeated(const bilan_t *b)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < b->n_repeated; i++) {
        const bilan_repeated_t *r = &b->repeated[i];
        json_t *who = json_array();
        char buf[sizeof r->reservataires];
        snprintf(buf, sizeof buf, "%s", r->reservataires);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
            json_array_append_new(who, json_string(t));
        json_array_append_new(rows,
                              json_pack("{s:s, s:i, s:o, s:s}", "nur", r->nur, "presentations",
                                        (int)r->presentations, "reservataires", who,
                                        "last_presented", r->last_presented));
    }
    return json_pack("{s:i, s:o}", "threshold", (int)b->repeated_threshold, "candidates", rows);
}

static json_t *s_json_analyses(const bilan_t *b)
{
    json_t *communes = json_array();
    for (size_t i = 1; i < b->n_vacant; i++)
        json_array_append_new(communes, s_json_vacant(&b->vacant[i], "commune_insee"));
    const bilan_q1_proposals_t *p = &b->q1_proposals;
    return json_pack("{s:o, s:{s:o, s:o}, s:o, s:{s:i, s:i, s:o, s:i, s:i, s:o}}",
                     "refusals_by_residence", s_json_refusals(b), "days_vacant", "all",
                     s_json_vacant(&b->vacant[0], NULL), "communes", communes,
                     "repeated_candidates", s_json_repeated(b), "q1_in_proposals_hors_qpv",
                     "candidates", (int)p->candidates, "q1_candidates", (int)p->q1_candidates,
                     "q1_share_pct", s_pct(p->q1_candidates, p->candidates), "proposals",
                     (int)p->proposals, "proposals_with_q1", (int)p->proposals_with_q1,
                     "proposals_with_q1_pct", s_pct(p->proposals_with_q1, p->proposals));
}

json_t *report_bilan_json(const bilan_t *b)
{
    char from[11], to[11];
    s_date(b->period.from, from);
    s_date(b->period.to, to);
    json_t *epcis = json_array();
    for (size_t i = 0; i < b->n_epcis; i++)
        json_array_append_new(epcis, s_json_epci(&b->epcis[i]));
    json_t *total = s_json_count(&b->total, BILAN_BY_TYPOLOGIE);
    json_object_set_new(total, "orientations", json_integer(b->total.orientations));
    return json_pack("{s:s, s:{s:s, s:s}, s:s, s:{s:o, s:o}, s:o, s:i, s:o, s:o, s:o, s:o}",
                     "report", "bilan", "period", "from", from, "to", to, "reference_date",
                     b->reference_date, "filters", "bailleur", s_nullable(b->bailleur), "epci",
                     s_nullable(b->epci), "total", total, "standby_par_rang",
                     (int)b->standby_par_rang, "breakdowns", s_json_breakdowns(b), "epcis", epcis,
                     "months", s_json_months(b), "analyses", s_json_analyses(b));
}

/* ---- CSV ------------------------------------------------------------------------- */

static void s_uint(report_csv_t *out, uint32_t v, bool last)
{
    fprintf(out->f, "%u%c", v, last ? '\n' : ';');
}

static void s_share(report_csv_t *out, uint32_t num, uint32_t den, bool last)
{
    char pct[24];
    report_bilan_pct(bilan_share_x10(num, den), pct);
    report_csv_field(out, pct, last);
}

/* One breakdown row; its orientations only when `orientations` (they are
 * counted per réservataire and in all: an empty cell elsewhere, never 0). */
static void s_csv_count(report_csv_t *out, const char *dim, const bilan_count_t *c,
                        bool orientations)
{
    report_csv_field(out, "breakdown", false);
    report_csv_field(out, dim, false);
    report_csv_field(out, c->key, false);
    report_csv_field(out, c->label, false);
    if (orientations)
        s_uint(out, c->orientations, false);
    else
        fputc(';', out->f);
    const uint32_t v[] = {c->attributions, c->hors_flux, c->prioritaires,
                          c->q1,           c->leases,    c->leases_hors_flux};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        s_uint(out, v[i], false);
    if (c->has_objective) {
        s_uint(out, c->objective, false);
        s_uint(out, c->done, true);
    } else {
        fputs(";\n", out->f);
    }
}

static void s_csv_breakdowns(const bilan_t *b, report_csv_t *out)
{
    fputs("table;dimension;key;label;orientations;attributions;hors_flux;prioritaires;q1;leases;"
          "leases_hors_flux;convention_objective;convention_done\n",
          out->f);
    for (int d = 0; d < BILAN_DIMS; d++)
        for (size_t i = 0; i < b->by[d].n; i++)
            s_csv_count(out, bilan_dim_name((bilan_dim_t)d), &b->by[d].rows[i],
                        d == BILAN_BY_RESERVATAIRE);
    s_csv_count(out, "total", &b->total, true);
}

static void s_csv_objectives(const bilan_t *b, report_csv_t *out)
{
    fputs("\ntable;epci_siren;epci_name;objective;level;scope;scope_id;reservataire;numerator;"
          "denominator;achieved_pct;target_pct;status;anru;unknown_qpv;unknown_quartile;valid_from;"
          "source\n",
          out->f);
    for (size_t i = 0; i < b->n_epcis; i++) {
        const bilan_epci_t *e = &b->epcis[i];
        for (size_t k = 0; k < e->n_objectives; k++) {
            const bilan_objective_t *o = &e->objectives[k];
            report_csv_field(out, "objective", false);
            report_csv_field(out, e->epci_siren, false);
            report_csv_field(out, e->epci_name, false);
            report_csv_field(out, o->objective, false);
            report_csv_field(out, o->local ? "cia" : "legal", false);
            report_csv_field(out, o->scope, false);
            report_csv_field(out, o->scope_id, false);
            report_csv_field(out, o->reservataire, false);
            s_uint(out, o->numerator, false);
            s_uint(out, o->denominator, false);
            s_share(out, o->numerator, o->denominator, false);
            char target[24] = "";
            if (o->has_target)
                report_bilan_pct(o->target.target_per_mille, target);
            report_csv_field(out, target, false);
            report_csv_field(out, o->status, false);
            s_uint(out, o->anru, false);
            s_uint(out, o->unknown_qpv, false);
            s_uint(out, o->unknown_quartile, false);
            report_csv_field(out, o->has_target ? o->target.valid_from : "", false);
            report_csv_field(out, o->has_target ? o->target.source : "", true);
        }
    }
}

static void s_csv_epcis(const bilan_t *b, report_csv_t *out)
{
    fputs("\ntable;epci_siren;epci_name;year;q1_threshold_eur;attributions;leases;qpv_reference;"
          "qpv_message;qpv_unknown\n",
          out->f);
    for (size_t i = 0; i < b->n_epcis; i++) {
        const bilan_epci_t *e = &b->epcis[i];
        for (size_t k = 0; k < e->n_thresholds; k++) {
            const bilan_threshold_t *t = &e->thresholds[k];
            report_csv_field(out, "epci", false);
            report_csv_field(out, e->epci_siren, false);
            report_csv_field(out, e->epci_name, false);
            fprintf(out->f, "%d;", t->year);
            if (t->known)
                fprintf(out->f, "%lld,%02lld;", (long long)(t->cents / 100),
                        (long long)(t->cents % 100));
            else
                fputc(';', out->f);
            const uint32_t v[] = {e->attributions, e->leases, e->qpv_reference, e->qpv_message,
                                  e->qpv_unknown};
            for (size_t j = 0; j < 5; j++)
                s_uint(out, v[j], j == 4);
        }
    }
}

static void s_csv_months(const bilan_t *b, report_csv_t *out)
{
    fputs("\ntable;month;freed;orientations;attributions;leases\n", out->f);
    for (size_t i = 0; i < b->n_months; i++) {
        const bilan_month_t *m = &b->months[i];
        fprintf(out->f, "month;%04d-%02d;%u;%u;%u;%u\n", m->year % 10000, m->month % 100, m->freed,
                m->orientations, m->attributions, m->leases);
    }
}

static void s_csv_analyses(const bilan_t *b, report_csv_t *out)
{
    fputs("\ntable;bailleur;residence_id;commune_insee;total", out->f);
    for (int m = 0; m < BILAN_REFUS_MOTIFS; m++)
        fprintf(out->f, ";%s", bilan_refus_key(m));
    fputc('\n', out->f);
    for (size_t i = 0; i < b->n_refusals; i++) {
        const bilan_refusals_t *r = &b->refusals[i];
        report_csv_field(out, "refusals", false);
        report_csv_field(out, r->bailleur, false);
        report_csv_field(out, r->residence_id, false);
        report_csv_field(out, r->commune_insee, false);
        s_uint(out, r->total, false);
        for (int m = 0; m < BILAN_REFUS_MOTIFS; m++)
            s_uint(out, r->by_motif[m], m + 1 == BILAN_REFUS_MOTIFS);
    }
    fputs("\ntable;commune_insee;leases;mean_days;median_days;min_days;max_days\n", out->f);
    for (size_t i = 0; i < b->n_vacant; i++) {
        const bilan_vacant_t *v = &b->vacant[i];
        report_csv_field(out, "days_vacant", false);
        report_csv_field(out, i ? v->key : "all", false);
        s_uint(out, v->leases, false);
        char mean[24] = "";
        if (v->leases)
            report_bilan_pct(v->mean_x10, mean);
        report_csv_field(out, mean, false);
        s_uint(out, v->median, false);
        s_uint(out, v->min, false);
        s_uint(out, v->max, true);
    }
    fprintf(out->f, "\ntable;nur;presentations;reservataires;last_presented;threshold\n");
    for (size_t i = 0; i < b->n_repeated; i++) {
        const bilan_repeated_t *r = &b->repeated[i];
        report_csv_field(out, "repeated", false);
        report_csv_field(out, r->nur, false);
        s_uint(out, r->presentations, false);
        report_csv_field(out, r->reservataires, false);
        report_csv_field(out, r->last_presented, false);
        s_uint(out, b->repeated_threshold, true);
    }
    const bilan_q1_proposals_t *p = &b->q1_proposals;
    fputs("\ntable;candidates;q1_candidates;q1_share_pct;proposals;proposals_with_q1;"
          "proposals_with_q1_pct\n",
          out->f);
    fputs("q1_proposals;", out->f);
    s_uint(out, p->candidates, false);
    s_uint(out, p->q1_candidates, false);
    s_share(out, p->q1_candidates, p->candidates, false);
    s_uint(out, p->proposals, false);
    s_uint(out, p->proposals_with_q1, false);
    s_share(out, p->proposals_with_q1, p->proposals, true);
}

bool report_bilan_csv(const bilan_t *b, FILE *f, bool codes_as_text)
{
    report_csv_t csv = {f, codes_as_text}, *out = &csv;
    char from[11], to[11];
    s_date(b->period.from, from);
    s_date(b->period.to, to);
    fprintf(out->f, "report;bilan;from;%s;to;%s;reference_date;%s;standby_par_rang;%u\n\n", from,
            to, b->reference_date, b->standby_par_rang);
    s_csv_breakdowns(b, out);
    s_csv_objectives(b, out);
    s_csv_epcis(b, out);
    s_csv_months(b, out);
    s_csv_analyses(b, out);
    return fflush(f) == 0 && !ferror(f);
}
