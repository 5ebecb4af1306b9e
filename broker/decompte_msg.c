/* decompte_msg.c - the broker's DecompteDroits payload (see decompte_msg.h).
 *
 * Owns the mapping from a décompte line to the message's fields (the field
 * by field table is docs/LEDGER.md, "Décompte messages"). Does not own the
 * counting (ledger/decompte.c) nor when and to whom it is sent
 * (decompte_emit.c). */
#include "decompte_msg.h"

#include <stdlib.h>
#include <string.h>

#include "conventions.h"
#include "fluxbus/codec.h"
#include "fluxbus/envelope.h"

#define S_STATUS(x) FLUXBUS__V1__OBJECTIVE_STATUS__OBJECTIVE_STATUS_##x

static Fluxbus__V1__ObjectiveStatus s_status(const char *status)
{
    if (!status)
        return S_STATUS(UNSPECIFIED);
    if (strcmp(status, "reached") == 0)
        return S_STATUS(REACHED);
    if (strcmp(status, "in_progress") == 0)
        return S_STATUS(IN_PROGRESS);
    if (strcmp(status, "below_min") == 0)
        return S_STATUS(BELOW_MIN);
    if (strcmp(status, "above_max") == 0)
        return S_STATUS(ABOVE_MAX);
    return S_STATUS(UNSPECIFIED);
}

static void s_activity(Fluxbus__V1__DecompteActivity *a, const decompte_tally_t *t)
{
    Fluxbus__V1__DecompteActivity init = FLUXBUS__V1__DECOMPTE_ACTIVITY__INIT;
    *a = init;
    a->acks = t->acks;
    a->declines = t->declines;
    a->designations = t->designations;
    a->remises = t->remises;
    a->expiries = t->expiries;
    a->caleol_attributions = t->caleol_attributions;
    a->caleol_non_attributions = t->caleol_non_attributions;
    a->caleol_rejets = t->caleol_rejets;
    a->refusals = t->refusals;
    a->non_suites = t->non_suites;
    a->leases = t->leases;
    a->offres = t->offres;
    a->partenariale = t->partenariale;
    a->deleguee = t->deleguee;
}

static void s_objective(Fluxbus__V1__DecompteObjective *o, const decompte_objective_t *d)
{
    Fluxbus__V1__DecompteObjective init = FLUXBUS__V1__DECOMPTE_OBJECTIVE__INIT;
    *o = init;
    o->kind = (Fluxbus__V1__ObjectiveKind)d->kind;
    o->unit = (Fluxbus__V1__ObjectiveUnit)d->unit;
    o->value = d->value;
    o->min = d->min;
    o->max = d->max;
    o->per_mille_base = d->base;
    o->target = d->target;
    o->target_min = d->target_min;
    o->target_max = d->target_max;
    o->done = d->done;
    o->remaining = d->remaining;
    o->status = s_status(d->status);
}

static void s_date(Fluxbus__V1__Date *out, period_date_t d)
{
    Fluxbus__V1__Date init = FLUXBUS__V1__DATE__INIT;
    *out = init;
    out->year = d.year;
    out->month = d.month;
    out->day = d.day;
}

/* Fields 10-12: the placements objective, else none. */
static void s_placements(Fluxbus__V1__DecompteDroits *m, const decompte_line_t *line)
{
    m->done = line->tally.counts[DECOMPTE_OFFICIAL];
    for (size_t i = 0; i < line->n_objectives; i++) {
        const decompte_objective_t *o = &line->objectives[i];
        if (o->kind == FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_PLACEMENTS) {
            m->objective = o->target;
            m->remaining = o->remaining;
            return;
        }
    }
}

void decompte_msg_build(decompte_msg_t *out, const decompte_convention_t *item,
                        const decompte_line_t *line, const period_t *period)
{
    const conventions_rev_t *rev = item->rev;
    const decompte_tally_t *t = &line->tally;
    Fluxbus__V1__DecompteDroits init = FLUXBUS__V1__DECOMPTE_DROITS__INIT;
    Fluxbus__V1__Period pinit = FLUXBUS__V1__PERIOD__INIT;
    memset(out, 0, sizeof *out);
    out->msg = init;
    out->period = pinit;
    s_date(&out->start, period->from);
    s_date(&out->end, period->to);
    out->period.start = &out->start;
    out->period.end = &out->end;
    Fluxbus__V1__DecompteDroits *m = &out->msg;
    m->convention_id = rev->convention_id;
    m->period = &out->period;
    m->counting_method = (Fluxbus__V1__CountingMethod)conventions_rule(
                             rev, FLUXBUS__V1__MANAGEMENT_MODE__MANAGEMENT_MODE_UNSPECIFIED)
                             .method;
    m->logements_liberes = t->freed;
    m->orientations = t->orientations;
    m->count_orientation_acceptee = t->counts[DECOMPTE_ORIENTATION_ACCEPTEE];
    m->count_passage_caleol = t->counts[DECOMPTE_PASSAGE_CALEOL];
    m->count_bail_signe = t->counts[DECOMPTE_BAIL_SIGNE];
    s_placements(m, line);
    m->bailleur_actor_id = rev->bailleur_actor_id;
    m->party_actor_id = (char *)line->party;
    m->commune_insee = (char *)line->commune_insee;
    m->convention_total = line == &item->total;
    m->convention_revision = rev->revision;
    m->n_counting_rules = rev->n_counting_rules;
    m->counting_rules = rev->counting_rules;
    m->remise_counted = conventions_remise_counted(rev);
    m->expiry_counted = conventions_expiry_counted(rev);
    m->hors_flux = t->hors_flux;
    s_activity(&out->activity, t);
    m->activity = &out->activity;
    for (size_t i = 0; i < line->n_objectives && i < DECOMPTE_MAX_OBJECTIVES; i++) {
        s_objective(&out->objectives[i], &line->objectives[i]);
        out->objective_ptrs[i] = &out->objectives[i];
        m->n_objectives = i + 1;
    }
    m->objectives = m->n_objectives ? out->objective_ptrs : NULL;
}

fb_err_t decompte_msg_digest(const decompte_msg_t *m, uint8_t out[32])
{
    Fluxbus__V1__DecompteDroits copy = m->msg;
    copy.computed_ms = 0;
    copy.sequence = 0;
    uint8_t *bytes = NULL;
    size_t len = 0;
    fb_err_t rc = fb_codec_pack(&copy.base, &bytes, &len);
    if (rc != FB_OK)
        return rc;
    fb_sha256(bytes, len, out);
    free(bytes);
    return FB_OK;
}

bool decompte_msg_active(const decompte_line_t *line)
{
    const decompte_tally_t *t = &line->tally;
    uint32_t any = t->freed | t->hors_flux | t->orientations | t->acks | t->declines |
                   t->designations | t->remises | t->expiries | t->caleol_attributions |
                   t->caleol_non_attributions | t->caleol_rejets | t->refusals | t->non_suites |
                   t->leases | t->offres;
    for (int i = 0; i < DECOMPTE_COUNTS; i++)
        any |= t->counts[i];
    return any != 0;
}
