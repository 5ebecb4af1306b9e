/* bilan_msg.c - a bilan as a BilanAnnuel, cut to a view (see bilan_msg.h).
 *
 * Owns the mapping from bilan_t to the message and the rule of each view.
 * Computes nothing but shares (per mille) from the bilan's counts.
 *
 * Memory: every part of the message is allocated from the object's list of
 * blocks, freed together; strings are borrowed from the bilan. After an
 * allocation failure the building stops and bilan_msg_new returns NULL. */
#include "bilan_msg.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIEW(x) FLUXBUS__V1__BILAN_VIEW__BILAN_VIEW_##x
#define STATUS(x) FLUXBUS__V1__BILAN_STATUS__BILAN_STATUS_##x

struct bilan_msg {
    Fluxbus__V1__BilanAnnuel m;
    const bilan_t *b;
    const bilan_msg_args_t *args;
    void **blocks;
    size_t n_blocks, cap_blocks;
    bool nomem;
};

/* ---- blocks --------------------------------------------------------------------- */

/* n zeroed elements of size bytes, owned by self; NULL when out of memory. */
static void *s_alloc(bilan_msg_t *self, size_t n, size_t size)
{
    if (self->nomem)
        return NULL;
    if (self->n_blocks == self->cap_blocks) {
        size_t cap = self->cap_blocks ? 2 * self->cap_blocks : 64;
        void **p = realloc(self->blocks, cap * sizeof *p);
        if (!p) {
            self->nomem = true;
            return NULL;
        }
        self->blocks = p;
        self->cap_blocks = cap;
    }
    void *block = calloc(n ? n : 1, size);
    if (!block) {
        self->nomem = true;
        return NULL;
    }
    self->blocks[self->n_blocks++] = block;
    return block;
}

/* A copy of init (size bytes) owned by self; NULL when out of memory. */
static void *s_new(bilan_msg_t *self, size_t size, const void *init)
{
    void *p = s_alloc(self, 1, size);
    if (p)
        memcpy(p, init, size);
    return p;
}

/* A message of a protobuf-c type, initialised with its INIT. */
#define S_NEW(self, type, init) ((type *)s_new((self), sizeof(type), &(type)init))

/* An array of n pointers. */
static void *s_ptrs(bilan_msg_t *self, size_t n)
{
    return s_alloc(self, n, sizeof(void *));
}

/* ---- small values ---------------------------------------------------------------- */

static Fluxbus__V1__Date *s_date(bilan_msg_t *self, period_date_t d)
{
    Fluxbus__V1__Date *out = S_NEW(self, Fluxbus__V1__Date, FLUXBUS__V1__DATE__INIT);
    if (out) {
        out->year = d.year;
        out->month = d.month;
        out->day = d.day;
    }
    return out;
}

/* A date written "YYYY-MM-DD"; NULL (unset) when it is not one. */
static Fluxbus__V1__Date *s_date_text(bilan_msg_t *self, const char *text)
{
    period_date_t d;
    return text && period_parse_date(text, &d) ? s_date(self, d) : NULL;
}

static Fluxbus__V1__ObjectiveRatio *s_ratio(bilan_msg_t *self, uint32_t num, uint32_t den,
                                            uint32_t target_per_mille)
{
    Fluxbus__V1__ObjectiveRatio *r =
        S_NEW(self, Fluxbus__V1__ObjectiveRatio, FLUXBUS__V1__OBJECTIVE_RATIO__INIT);
    if (r) {
        long share = bilan_share_x10(num, den); /* tenths of a percent are per mille */
        r->numerator = num;
        r->denominator = den;
        r->achieved_per_mille = share < 0 ? 0 : (uint32_t)share;
        r->target_per_mille = target_per_mille;
    }
    return r;
}

static Fluxbus__V1__BilanStatus s_status(const char *status)
{
    if (strcmp(status, "pass") == 0)
        return STATUS(PASS);
    if (strcmp(status, "fail") == 0)
        return STATUS(FAIL);
    return strcmp(status, "no_data") == 0 ? STATUS(NO_DATA) : STATUS(NO_TARGET);
}

/* The SIREN of a bailleur filter: the filter itself when it is 9 digits,
 * or the digits of "bailleur:<SIREN>"; "" otherwise. */
static const char *s_siren(const char *bailleur)
{
    const char *s = strncmp(bailleur, "bailleur:", 9) == 0 ? bailleur + 9 : bailleur;
    if (strlen(s) != 9)
        return "";
    for (int i = 0; i < 9; i++)
        if (s[i] < '0' || s[i] > '9')
            return "";
    return s;
}

/* ---- what a view holds ------------------------------------------------------------- */

/* Does the view hold the figures of réservataire `resa` ("" = all
 * together)? */
static bool s_shows(const bilan_msg_t *self, const char *resa)
{
    return self->args->view != VIEW(RESERVATAIRE) || !*resa ||
           strcmp(resa, self->args->requested_by) == 0;
}

/* The legal prioritaires target (per mille) of the first EPCI that has one. */
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

/* ---- parts ------------------------------------------------------------------------ */

static Fluxbus__V1__BilanCounts *s_counts(bilan_msg_t *self, const bilan_count_t *c)
{
    Fluxbus__V1__BilanCounts *o =
        S_NEW(self, Fluxbus__V1__BilanCounts, FLUXBUS__V1__BILAN_COUNTS__INIT);
    if (!o)
        return NULL;
    o->key = (char *)c->key;
    o->label = (char *)c->label;
    o->attributions = c->attributions;
    o->hors_flux = c->hors_flux;
    o->prioritaires = c->prioritaires;
    o->q1 = c->q1;
    o->leases = c->leases;
    o->leases_hors_flux = c->leases_hors_flux;
    o->orientations = c->orientations;
    return o;
}

static Fluxbus__V1__BilanReservataireLine *s_line(bilan_msg_t *self, const bilan_count_t *c,
                                                  uint32_t prioritaires_target)
{
    Fluxbus__V1__BilanReservataireLine *l =
        S_NEW(self, Fluxbus__V1__BilanReservataireLine, FLUXBUS__V1__BILAN_RESERVATAIRE_LINE__INIT);
    if (!l)
        return NULL;
    l->reservataire_actor_id = (char *)c->key;
    l->offers = c->orientations;
    l->caleol_attributions = c->attributions;
    l->baux_signes = c->leases;
    l->objective = c->has_objective ? c->objective : 0;
    l->done = c->has_objective ? c->done : 0;
    l->has_objective = c->has_objective;
    l->prioritaires = s_ratio(self, c->prioritaires, c->attributions, prioritaires_target);
    l->hors_flux = c->hors_flux;
    l->q1 = c->q1;
    l->baux_hors_flux = c->leases_hors_flux;
    l->non_reserve = c->non_reserve;
    return l;
}

static void s_lines(bilan_msg_t *self)
{
    const bilan_table_t *t = &self->b->by[BILAN_BY_RESERVATAIRE];
    uint32_t target = s_prioritaires_target(self->b);
    self->m.lines = s_ptrs(self, t->n);
    for (size_t i = 0; self->m.lines && i < t->n; i++)
        if (s_shows(self, t->rows[i].key))
            self->m.lines[self->m.n_lines++] = s_line(self, &t->rows[i], target);
}

static void s_breakdowns(bilan_msg_t *self)
{
    self->m.breakdowns = s_ptrs(self, BILAN_DIMS);
    for (int d = 0; self->m.breakdowns && d < BILAN_DIMS; d++) {
        if (d == BILAN_BY_RESERVATAIRE)
            continue; /* the lines */
        const bilan_table_t *t = &self->b->by[d];
        Fluxbus__V1__BilanBreakdown *bd =
            S_NEW(self, Fluxbus__V1__BilanBreakdown, FLUXBUS__V1__BILAN_BREAKDOWN__INIT);
        Fluxbus__V1__BilanCounts **rows = s_ptrs(self, t->n);
        if (!bd || !rows)
            return;
        bd->dimension = (char *)bilan_dim_name((bilan_dim_t)d);
        bd->rows = rows;
        for (size_t i = 0; i < t->n; i++)
            rows[bd->n_rows++] = s_counts(self, &t->rows[i]);
        self->m.breakdowns[self->m.n_breakdowns++] = bd;
    }
}

static Fluxbus__V1__BilanObjective *s_objective(bilan_msg_t *self, const bilan_objective_t *o)
{
    Fluxbus__V1__BilanObjective *out =
        S_NEW(self, Fluxbus__V1__BilanObjective, FLUXBUS__V1__BILAN_OBJECTIVE__INIT);
    if (!out)
        return NULL;
    out->objective = (char *)o->objective;
    out->local = o->local;
    out->scope = (char *)o->scope;
    out->scope_id = (char *)o->scope_id;
    out->reservataire_actor_id = (char *)o->reservataire;
    out->non_reserve = o->non_reserve;
    out->ratio =
        s_ratio(self, o->numerator, o->denominator, o->has_target ? o->target.target_per_mille : 0);
    out->status = s_status(o->status);
    out->anru = o->anru;
    out->unknown_qpv = o->unknown_qpv;
    if (o->has_target) {
        out->target_valid_from = s_date_text(self, o->target.valid_from);
        out->target_source = (char *)o->target.source;
    }
    return out;
}

static void s_epci_thresholds(bilan_msg_t *self, const bilan_epci_t *e, Fluxbus__V1__BilanEpci *out)
{
    out->q1_thresholds = s_ptrs(self, e->n_thresholds);
    for (size_t i = 0; out->q1_thresholds && i < e->n_thresholds; i++) {
        Fluxbus__V1__BilanQ1Threshold *t =
            S_NEW(self, Fluxbus__V1__BilanQ1Threshold, FLUXBUS__V1__BILAN_Q1_THRESHOLD__INIT);
        if (!t)
            return;
        t->year = e->thresholds[i].year;
        t->known = e->thresholds[i].known;
        t->cents = e->thresholds[i].cents;
        out->q1_thresholds[out->n_q1_thresholds++] = t;
    }
}

static Fluxbus__V1__BilanEpci *s_epci(bilan_msg_t *self, const bilan_epci_t *e)
{
    Fluxbus__V1__BilanEpci *out =
        S_NEW(self, Fluxbus__V1__BilanEpci, FLUXBUS__V1__BILAN_EPCI__INIT);
    if (!out)
        return NULL;
    out->epci_siren = (char *)e->epci_siren;
    out->epci_name = (char *)e->epci_name;
    s_epci_thresholds(self, e, out);
    out->attributions = e->attributions;
    out->leases = e->leases;
    out->qpv_from_reference = e->qpv_reference;
    out->qpv_from_message = e->qpv_message;
    out->qpv_unknown = e->qpv_unknown;
    out->message_map_years = s_alloc(self, e->n_map_years, sizeof(uint32_t));
    if (out->message_map_years) {
        memcpy(out->message_map_years, e->message_map_years,
               e->n_map_years * sizeof *e->message_map_years);
        out->n_message_map_years = e->n_map_years;
    }
    out->objectives = s_ptrs(self, e->n_objectives);
    for (size_t i = 0; out->objectives && i < e->n_objectives; i++)
        if (s_shows(self, e->objectives[i].reservataire))
            out->objectives[out->n_objectives++] = s_objective(self, &e->objectives[i]);
    return out;
}

/* The legal line of `objective` for all réservataires together, or NULL. */
static const bilan_objective_t *s_legal_all(const bilan_epci_t *e, const char *objective)
{
    for (size_t i = 0; i < e->n_objectives; i++) {
        const bilan_objective_t *o = &e->objectives[i];
        if (!o->local && !*o->reservataire && strcmp(o->objective, objective) == 0)
            return o;
    }
    return NULL;
}

static Fluxbus__V1__ObjectiveRatio *s_legal_ratio(bilan_msg_t *self, const bilan_epci_t *e,
                                                  const char *objective)
{
    const bilan_objective_t *o = s_legal_all(e, objective);
    if (!o)
        return NULL;
    return s_ratio(self, o->numerator, o->denominator,
                   o->has_target ? o->target.target_per_mille : 0);
}

/* Fields 3-10 speak of one EPCI: filled when the bilan covers one. */
static void s_one_epci(bilan_msg_t *self)
{
    if (self->b->n_epcis != 1)
        return;
    const bilan_epci_t *e = &self->b->epcis[0];
    self->m.epci_siren = (char *)e->epci_siren;
    self->m.epci_name = (char *)e->epci_name;
    for (size_t i = 0; i < e->n_thresholds; i++)
        if (e->thresholds[i].known)
            self->m.q1_threshold_cents = e->thresholds[i].cents; /* the last year known */
    self->m.q1_hors_qpv = s_legal_ratio(self, e, REFDATA_OBJ_Q1_HORS_QPV);
    self->m.prioritaires = s_legal_ratio(self, e, REFDATA_OBJ_PRIORITAIRES);
    self->m.non_q1_en_qpv = s_legal_ratio(self, e, REFDATA_OBJ_NON_Q1_EN_QPV);
}

static void s_epcis(bilan_msg_t *self)
{
    self->m.epcis = s_ptrs(self, self->b->n_epcis);
    for (size_t i = 0; self->m.epcis && i < self->b->n_epcis; i++)
        self->m.epcis[self->m.n_epcis++] = s_epci(self, &self->b->epcis[i]);
    s_one_epci(self);
}

static void s_months(bilan_msg_t *self)
{
    self->m.months = s_ptrs(self, self->b->n_months);
    for (size_t i = 0; self->m.months && i < self->b->n_months; i++) {
        const bilan_month_t *m = &self->b->months[i];
        Fluxbus__V1__BilanMonth *out =
            S_NEW(self, Fluxbus__V1__BilanMonth, FLUXBUS__V1__BILAN_MONTH__INIT);
        if (!out)
            return;
        out->year = m->year;
        out->month = m->month;
        out->freed = m->freed;
        out->orientations = m->orientations;
        out->attributions = m->attributions;
        out->leases = m->leases;
        self->m.months[self->m.n_months++] = out;
    }
}

static Fluxbus__V1__BilanRefusals *s_refusal(bilan_msg_t *self, const bilan_refusals_t *r)
{
    Fluxbus__V1__BilanRefusals *out =
        S_NEW(self, Fluxbus__V1__BilanRefusals, FLUXBUS__V1__BILAN_REFUSALS__INIT);
    Fluxbus__V1__BilanMotifCount **motifs = s_ptrs(self, BILAN_REFUS_MOTIFS);
    if (!out || !motifs)
        return NULL;
    out->bailleur_actor_id = (char *)r->bailleur;
    out->residence_id = (char *)r->residence_id;
    out->commune_insee = (char *)r->commune_insee;
    out->total = r->total;
    out->motifs = motifs;
    for (int k = 0; k < BILAN_REFUS_MOTIFS; k++) {
        if (!r->by_motif[k])
            continue;
        Fluxbus__V1__BilanMotifCount *c =
            S_NEW(self, Fluxbus__V1__BilanMotifCount, FLUXBUS__V1__BILAN_MOTIF_COUNT__INIT);
        if (!c)
            return NULL;
        c->motif = (Fluxbus__V1__RefusMotif)k;
        c->count = r->by_motif[k];
        motifs[out->n_motifs++] = c;
    }
    return out;
}

static void s_analyses(bilan_msg_t *self)
{
    const bilan_t *b = self->b;
    self->m.refusals_by_residence = s_ptrs(self, b->n_refusals);
    for (size_t i = 0; self->m.refusals_by_residence && i < b->n_refusals; i++)
        self->m.refusals_by_residence[self->m.n_refusals_by_residence++] =
            s_refusal(self, &b->refusals[i]);
    self->m.days_vacant = s_ptrs(self, b->n_vacant);
    for (size_t i = 0; self->m.days_vacant && i < b->n_vacant; i++) {
        const bilan_vacant_t *v = &b->vacant[i];
        Fluxbus__V1__BilanDaysVacant *out =
            S_NEW(self, Fluxbus__V1__BilanDaysVacant, FLUXBUS__V1__BILAN_DAYS_VACANT__INIT);
        if (!out)
            return;
        out->commune_insee = (char *)(i ? v->key : "");
        out->leases = v->leases;
        out->mean_days_x10 = v->mean_x10;
        out->median_days = v->median;
        out->min_days = v->min;
        out->max_days = v->max;
        self->m.days_vacant[self->m.n_days_vacant++] = out;
    }
    Fluxbus__V1__BilanQ1Proposals *q =
        S_NEW(self, Fluxbus__V1__BilanQ1Proposals, FLUXBUS__V1__BILAN_Q1_PROPOSALS__INIT);
    if (q) {
        q->candidates = b->q1_proposals.candidates;
        q->q1_candidates = b->q1_proposals.q1_candidates;
        q->proposals = b->q1_proposals.proposals;
        q->proposals_with_q1 = b->q1_proposals.proposals_with_q1;
    }
    self->m.q1_in_proposals_hors_qpv = q;
    /* How many, never who: no NUR leaves the broker in a bilan. */
    Fluxbus__V1__BilanRepeatedCandidates *rep = S_NEW(self, Fluxbus__V1__BilanRepeatedCandidates,
                                                      FLUXBUS__V1__BILAN_REPEATED_CANDIDATES__INIT);
    if (rep) {
        rep->threshold = b->repeated_threshold;
        rep->candidates = (uint32_t)b->n_repeated;
    }
    self->m.repeated_candidates = rep;
}

/* The communes of a TERRITOIRE view, one string each. */
static void s_communes(bilan_msg_t *self)
{
    const char *list = self->args->communes;
    if (!list || !*list)
        return;
    size_t n = 1;
    for (const char *c = list; *c; c++)
        n += *c == ',';
    char *copy = s_alloc(self, strlen(list) + 1, 1);
    self->m.communes_insee = s_ptrs(self, n);
    if (!copy || !self->m.communes_insee)
        return;
    memcpy(copy, list, strlen(list) + 1);
    for (char *save = NULL, *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        self->m.communes_insee[self->m.n_communes_insee++] = t;
}

static void s_head(bilan_msg_t *self)
{
    const bilan_t *b = self->b;
    Fluxbus__V1__Period *p = S_NEW(self, Fluxbus__V1__Period, FLUXBUS__V1__PERIOD__INIT);
    if (p) {
        p->start = s_date(self, b->period.from);
        p->end = s_date(self, b->period.to);
    }
    self->m.period = p;
    self->m.year = b->period.from.year == b->period.to.year ? b->period.from.year : 0;
    self->m.bailleur = (char *)b->bailleur;
    self->m.bailleur_siren = (char *)s_siren(b->bailleur);
    self->m.reference_date = s_date_text(self, b->reference_date);
    self->m.view = (Fluxbus__V1__BilanView)self->args->view;
    self->m.requested_by = (char *)self->args->requested_by;
    s_communes(self);
    self->m.total = s_counts(self, &b->total);
    self->m.standby_par_rang = b->standby_par_rang;
    self->m.computed_ms = self->args->computed_ms;
}

bilan_msg_t *bilan_msg_new(const bilan_t *b, const bilan_msg_args_t *args)
{
    bilan_msg_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->m = (Fluxbus__V1__BilanAnnuel)FLUXBUS__V1__BILAN_ANNUEL__INIT;
    self->b = b;
    self->args = args;
    s_head(self);
    s_lines(self);
    s_breakdowns(self);
    s_epcis(self);
    s_months(self);
    s_analyses(self);
    if (self->nomem)
        bilan_msg_destroy(&self);
    else
        self->args = NULL; /* read while building only */
    return self;
}

const Fluxbus__V1__BilanAnnuel *bilan_msg_payload(const bilan_msg_t *self)
{
    return &self->m;
}

void bilan_msg_destroy(bilan_msg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bilan_msg_t *self = *self_p;
    for (size_t i = 0; i < self->n_blocks; i++)
        free(self->blocks[i]);
    free(self->blocks);
    free(self);
    *self_p = NULL;
}
