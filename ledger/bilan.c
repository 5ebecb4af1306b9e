/* bilan.c - computes the annual bilan (see bilan.h for what is counted and
 * how). Owns the SQL that reads the facts for it and the arithmetic of the
 * objectives; reads the reference data through refdata.h. Renders nothing.
 *
 * One pass over the candidates whose decision or lease falls in the period
 * feeds every tally (breakdowns, EPCIs and their objectives, months, days
 * vacant), so that no fact is held in memory; four smaller queries give the
 * freed dwellings and orientations per month, the refusals, the candidates
 * presented repeatedly, and the designations of dwellings hors QPV.
 * Invariant: every table is kept sorted by key while it is filled (binary
 * search), then put in display order at the end. */
#include "bilan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decompte.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/common.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"

#define S_DECISION(x) FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_##x
#define S_LAPSED FLUXBUS__V1__CONDITION_STATE__CONDITION_STATE_LAPSED
#define S_HORS_FLUX FLUXBUS__V1__MODE_GESTION__MODE_GESTION_HORS_FLUX
#define S_MAX_CIA 32

/* Filters every query takes: ?3 bailleur (actor id or SIREN), ?4 EPCI, ?6
 * the communes as ",INSEE,INSEE," (?5 is the repeated threshold). */
#define S_FILTER                                                                                   \
    " AND (?3 IS NULL OR v.bailleur = ?3 OR v.bailleur_siren = ?3)"                                \
    " AND (?4 IS NULL OR v.epci_siren = ?4)"                                                       \
    " AND (?6 IS NULL OR instr(?6, ',' || v.commune_insee || ',') > 0)"

enum { S_QPV_UNKNOWN = 0, S_QPV_IN = 1, S_QPV_OUT = 2 };

/* One candidate row of the ledger with its dwelling (columns of S_FACTS). */
typedef struct {
    const char *vacancy, *nur, *credited, *bailleur, *siren, *rpls, *residence, *insee, *epci;
    int dalo, pdalhpd, quartile, q1, anru, lease_q1, lease_anru, decision, decision_rank,
        condition_state;
    bool has_answer, has_non_suite, has_lease;
    int64_t decided_ms, lease_ms, freed_ms;
    int qpv, qpv_map_year, typologie, financement, construction, mode, motif;
} s_fact_t;

static const char S_FACTS[] =
    "SELECT c.vacancy_id, c.nur, c.credited, v.bailleur, v.bailleur_siren, v.rpls_id,"
    " v.residence_id, v.commune_insee, v.epci_siren, c.dalo, c.pdalhpd, c.quartile, c.q1,"
    " c.relogement_anru, c.decision, c.decision_rank, c.condition_state, c.answer, c.non_suite,"
    " c.lease_ms, c.decided_ms, v.freed_ms, v.qpv, v.qpv_map_year, v.typologie, v.financement,"
    " v.construction_period, v.mode_gestion, v.hors_flux_motif, c.lease_q1, c.lease_anru"
    " FROM ledger_candidates c JOIN ledger_vacancies v ON v.vacancy_id = c.vacancy_id"
    " WHERE ((c.decided_ms >= ?1 AND c.decided_ms < ?2) OR (c.lease_ms >= ?1 AND c.lease_ms < "
    "?2))" S_FILTER " ORDER BY c.vacancy_id, c.nur";

/* Where an event's QPV status came from. */
typedef enum { S_FROM_REFERENCE, S_FROM_MESSAGE, S_FROM_NOWHERE } s_qpv_source_t;

/* A dwelling, as the QPV lookup needs it. */
typedef struct {
    const char *rpls, *siren, *residence, *insee;
    int qpv, qpv_map_year;
} s_dwelling_t;

typedef struct {
    uint32_t days;
    char insee[16];
} s_days_t;

typedef struct {
    sqlite3 *db;
    refdata_t *ref;
    bilan_t *b;
    bool nomem;
    size_t cap[BILAN_DIMS];
    size_t cap_epcis;
    size_t *cap_objectives; /* per EPCI */
    s_days_t *days;
    size_t n_days, cap_days;
    char err[256];
} s_run_t;

/* ---- small helpers ---- */

static bool s_grow(s_run_t *r, void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t want = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, want * size);
    if (!p) {
        r->nomem = true;
        return false;
    }
    memset((char *)p + *cap * size, 0, (want - *cap) * size);
    *arr = p;
    *cap = want;
    return true;
}

static const char *s_text(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    return t ? t : "";
}

static void s_date_of(int64_t ms, char out[11])
{
    period_format_date(period_date_of(ms), out);
}

long bilan_share_x10(uint32_t done, uint32_t total)
{
    return total ? (long)(((uint64_t)done * 2000 + total) / (2 * (uint64_t)total)) : -1;
}

/* Binds the period and the filters of q to st (?1..?4, ?6). */
static void s_bind_scope(sqlite3_stmt *st, const bilan_t *b)
{
    sqlite3_bind_int64(st, 1, b->period.start_ms);
    sqlite3_bind_int64(st, 2, b->period.end_ms);
    if (*b->bailleur)
        sqlite3_bind_text(st, 3, b->bailleur, -1, SQLITE_STATIC);
    if (*b->epci)
        sqlite3_bind_text(st, 4, b->epci, -1, SQLITE_STATIC);
    if (b->communes)
        sqlite3_bind_text(st, 6, b->communes, -1, SQLITE_STATIC);
}

static sqlite3_stmt *s_prepare(s_run_t *r, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(r->err, sizeof r->err, "%s", sqlite3_errmsg(r->db));
        return NULL;
    }
    s_bind_scope(st, r->b);
    return st;
}

/* ---- keys and labels of the breakdowns ---- */

typedef struct {
    const char *key, *label;
} s_name_t;

static const s_name_t s_typologies[] = {{"unspecified", "non précisé"},
                                        {"T1", "T1"},
                                        {"T2", "T2"},
                                        {"T3", "T3"},
                                        {"T4", "T4"},
                                        {"T5", "T5"},
                                        {"T6", "T6"},
                                        {"T7_plus", "T7 et +"}};
static const s_name_t s_financements[] = {{"unspecified", "non précisé"},
                                          {"PLAI", "PLAI"},
                                          {"PLUS", "PLUS"},
                                          {"PLS", "PLS"},
                                          {"PLI", "PLI"},
                                          {"other", "autre"}};
static const s_name_t s_periods[] = {
    {"unspecified", "non précisée"}, {"before_1949", "avant 1949"},
    {"1949_1974", "1949-1974"},      {"1975_1999", "1975-1999"},
    {"2000_2012", "2000-2012"},      {"2013_later", "2013 et après"}};
static const s_name_t s_motifs[] = {
    {"unspecified", "non précisé"},
    {"mutation_interne", "mutation interne"},
    {"relogement_anru", "relogement ANRU"},
    {"relogement_operation_urbaine", "relogement opération urbaine"},
    {"relogement_urgence", "relogement d'urgence"},
    {"defense_securite", "défense, sécurité"},
    {"other", "autre"}};
static const s_name_t s_qpvs[] = {
    {"unknown", "QPV inconnu"}, {"in_qpv", "en QPV"}, {"hors_qpv", "hors QPV"}};
static const s_name_t s_refus[BILAN_REFUS_MOTIFS] = {{"unspecified", "non précisé"},
                                                     {"localisation", "localisation"},
                                                     {"loyer_trop_eleve", "loyer trop élevé"},
                                                     {"typologie_inadaptee", "typologie inadaptée"},
                                                     {"etat_logement", "état du logement"},
                                                     {"environnement", "environnement"},
                                                     {"accessibilite", "accessibilité"},
                                                     {"sans_reponse", "sans réponse"},
                                                     {"situation_changee", "situation changée"},
                                                     {"autre", "autre"}};

#define S_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *s_dim_names[BILAN_DIMS] = {
    "reservataire", "typologie",           "financement",    "qpv",
    "commune",      "construction_period", "hors_flux_motif"};

const char *bilan_dim_name(bilan_dim_t dim)
{
    return dim < BILAN_DIMS ? s_dim_names[dim] : "?";
}

const char *bilan_refus_label(int motif)
{
    return s_refus[motif >= 0 && motif < BILAN_REFUS_MOTIFS ? motif : 0].label;
}

const char *bilan_refus_key(int motif)
{
    return s_refus[motif >= 0 && motif < BILAN_REFUS_MOTIFS ? motif : 0].key;
}

/* ---- the breakdown tables ---- */

static int s_count_cmp_order(const void *a, const void *b)
{
    const bilan_count_t *x = a, *y = b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* The line of table `dim` for key, added (zeroed) when new; NULL when out of
 * memory. */
static bilan_count_t *s_line(s_run_t *r, bilan_dim_t dim, const char *key, const char *label,
                             int order)
{
    bilan_table_t *t = &r->b->by[dim];
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(t->rows[mid].key, key);
        if (c == 0)
            return &t->rows[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!s_grow(r, (void **)&t->rows, &r->cap[dim], t->n, sizeof *t->rows))
        return NULL;
    memmove(&t->rows[lo + 1], &t->rows[lo], (t->n - lo) * sizeof *t->rows);
    bilan_count_t *row = &t->rows[lo];
    memset(row, 0, sizeof *row);
    snprintf(row->key, sizeof row->key, "%s", key);
    snprintf(row->label, sizeof row->label, "%s", label);
    row->order = order;
    t->n++;
    return row;
}

/* An enum value's line: its name, unspecified (0) and unknown values last. */
static bilan_count_t *s_enum_line(s_run_t *r, bilan_dim_t dim, const s_name_t *names, size_t n,
                                  int value)
{
    size_t i = value > 0 && (size_t)value < n ? (size_t)value : 0;
    return s_line(r, dim, names[i].key, names[i].label, i ? (int)i : 99);
}

/* The réservataire an attribution is credited to: the one the ledger
 * credits, the bailleur's own line when none or the bailleur itself. */
static const char *s_reservataire(const s_fact_t *f, bool *non_reserve)
{
    *non_reserve = !*f->credited || strcmp(f->credited, f->bailleur) == 0;
    return *non_reserve ? f->bailleur : f->credited;
}

static bilan_count_t *s_resa_line(s_run_t *r, const char *resa, bool non_reserve)
{
    bilan_count_t *l = s_line(r, BILAN_BY_RESERVATAIRE, resa, resa, 0);
    if (l && non_reserve && !l->non_reserve) { /* once the bailleur's own line, always */
        l->non_reserve = true;
        l->order = 1;
        snprintf(l->label, sizeof l->label, "%.100s (non réservé)", resa);
    }
    return l;
}

/* The line of fact f in table dim; qpv is the status at the event's date. */
static bilan_count_t *s_fact_line(s_run_t *r, bilan_dim_t dim, const s_fact_t *f, int qpv)
{
    bool non_reserve;
    const char *resa;
    switch (dim) {
    case BILAN_BY_RESERVATAIRE:
        resa = s_reservataire(f, &non_reserve);
        return s_resa_line(r, resa, non_reserve);
    case BILAN_BY_TYPOLOGIE:
        return s_enum_line(r, dim, s_typologies, S_COUNT(s_typologies), f->typologie);
    case BILAN_BY_FINANCEMENT:
        return s_enum_line(r, dim, s_financements, S_COUNT(s_financements), f->financement);
    case BILAN_BY_QPV:
        return s_enum_line(r, dim, s_qpvs, S_COUNT(s_qpvs), qpv);
    case BILAN_BY_COMMUNE:
        return s_line(r, dim, *f->insee ? f->insee : "unknown",
                      *f->insee ? f->insee : "commune inconnue", *f->insee ? 0 : 1);
    case BILAN_BY_CONSTRUCTION:
        return s_enum_line(r, dim, s_periods, S_COUNT(s_periods), f->construction);
    case BILAN_BY_HORS_FLUX_MOTIF:
        return s_enum_line(r, dim, s_motifs, S_COUNT(s_motifs), f->motif);
    default:
        return NULL;
    }
}

/* ---- QPV status on a date ---- */

static int s_qpv_on(s_run_t *r, const s_dwelling_t *d, int64_t at_ms, s_qpv_source_t *source)
{
    char date[11];
    s_date_of(at_ms, date);
    refdata_qpv_t q =
        refdata_qpv_on(r->ref, d->rpls, d->siren, d->residence, d->insee, date, NULL, 0);
    if (q != REFDATA_QPV_NONE) {
        *source = S_FROM_REFERENCE;
        return q == REFDATA_QPV_IN ? S_QPV_IN : S_QPV_OUT;
    }
    if (d->qpv == FLUXBUS__V1__QPV_STATUS__QPV_STATUS_IN_QPV ||
        d->qpv == FLUXBUS__V1__QPV_STATUS__QPV_STATUS_OUTSIDE_QPV) {
        *source = S_FROM_MESSAGE;
        return d->qpv == FLUXBUS__V1__QPV_STATUS__QPV_STATUS_IN_QPV ? S_QPV_IN : S_QPV_OUT;
    }
    *source = S_FROM_NOWHERE;
    return S_QPV_UNKNOWN;
}

/* ---- EPCIs and their objectives ---- */

static int s_objective_rank(const char *objective)
{
    if (strcmp(objective, REFDATA_OBJ_Q1_HORS_QPV) == 0)
        return 0;
    return strcmp(objective, REFDATA_OBJ_PRIORITAIRES) == 0 ? 1 : 2;
}

static int s_objective_cmp(const void *a, const void *b)
{
    const bilan_objective_t *x = a, *y = b;
    if (x->local != y->local)
        return x->local ? 1 : -1;
    int c = s_objective_rank(x->objective) - s_objective_rank(y->objective);
    if (c)
        return c;
    if ((c = strcmp(x->scope, y->scope)) != 0 || (c = strcmp(x->scope_id, y->scope_id)) != 0)
        return c;
    if (x->non_reserve != y->non_reserve) /* the bailleur's own line after the réservataires */
        return x->non_reserve ? 1 : -1;
    return strcmp(x->reservataire, y->reservataire); /* "" (all together) first */
}

static bilan_objective_t *s_add_objective(s_run_t *r, size_t ei, const char *objective, bool local,
                                          const char *scope, const char *scope_id, const char *resa)
{
    bilan_epci_t *e = &r->b->epcis[ei];
    if (!s_grow(r, (void **)&e->objectives, &r->cap_objectives[ei], e->n_objectives,
                sizeof *e->objectives))
        return NULL;
    bilan_objective_t *o = &e->objectives[e->n_objectives++];
    memset(o, 0, sizeof *o);
    snprintf(o->objective, sizeof o->objective, "%s", objective);
    o->local = local;
    snprintf(o->scope, sizeof o->scope, "%s", scope);
    snprintf(o->scope_id, sizeof o->scope_id, "%s", scope_id);
    snprintf(o->reservataire, sizeof o->reservataire, "%s", resa);
    return o;
}

/* The EPCI's lines of the legal objectives and of the CIA targets valid on
 * the reference date. */
static void s_epci_objectives(s_run_t *r, size_t ei)
{
    bilan_epci_t *e = &r->b->epcis[ei];
    static const char *const legal[] = {REFDATA_OBJ_Q1_HORS_QPV, REFDATA_OBJ_PRIORITAIRES,
                                        REFDATA_OBJ_NON_Q1_EN_QPV};
    for (size_t i = 0; i < S_COUNT(legal); i++) {
        bilan_objective_t *o = s_add_objective(r, ei, legal[i], false, "epci", e->epci_siren, "");
        if (o)
            o->has_target =
                refdata_objective_on(r->ref, legal[i], r->b->reference_date, &o->target);
    }
    refdata_target_t cia[S_MAX_CIA];
    size_t n = refdata_cia_targets_on(r->ref, e->epci_siren, r->b->reference_date, cia, S_MAX_CIA);
    for (size_t i = 0; i < n && i < S_MAX_CIA; i++) {
        bilan_objective_t *o =
            s_add_objective(r, ei, cia[i].objective, true, cia[i].scope, cia[i].scope_id, "");
        if (o) {
            o->has_target = true;
            o->target = cia[i];
        }
    }
}

/* The EPCI's Q1 threshold for every year of the period. */
static void s_epci_thresholds(s_run_t *r, bilan_epci_t *e)
{
    for (int y = r->b->period.from.year;
         y <= r->b->period.to.year && e->n_thresholds < S_COUNT(e->thresholds); y++) {
        bilan_threshold_t *t = &e->thresholds[e->n_thresholds++];
        t->year = y;
        char name[128] = "";
        t->known = refdata_q1_threshold(r->ref, e->epci_siren, y, &t->cents, name, sizeof name);
        if (t->known && *name)
            snprintf(e->epci_name, sizeof e->epci_name, "%s", name);
    }
}

/* Index of the EPCI with this SIREN, added when new; -1 when out of memory.
 * Epcis are kept sorted by SIREN, with cap_objectives in step. */
static long s_epci(s_run_t *r, const char *siren)
{
    bilan_t *b = r->b;
    size_t lo = 0, hi = b->n_epcis;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(b->epcis[mid].epci_siren, siren);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t cap = r->cap_epcis;
    if (!s_grow(r, (void **)&b->epcis, &r->cap_epcis, b->n_epcis, sizeof *b->epcis) ||
        !s_grow(r, (void **)&r->cap_objectives, &cap, b->n_epcis, sizeof *r->cap_objectives))
        return -1;
    memmove(&b->epcis[lo + 1], &b->epcis[lo], (b->n_epcis - lo) * sizeof *b->epcis);
    memmove(&r->cap_objectives[lo + 1], &r->cap_objectives[lo],
            (b->n_epcis - lo) * sizeof *r->cap_objectives);
    memset(&b->epcis[lo], 0, sizeof b->epcis[lo]);
    r->cap_objectives[lo] = 0;
    b->n_epcis++;
    snprintf(b->epcis[lo].epci_siren, sizeof b->epcis[lo].epci_siren, "%s", siren);
    s_epci_thresholds(r, &b->epcis[lo]);
    s_epci_objectives(r, lo);
    return r->nomem ? -1 : (long)lo;
}

static void s_note_source(bilan_epci_t *e, s_qpv_source_t source, int map_year)
{
    if (source == S_FROM_REFERENCE) {
        e->qpv_reference++;
        return;
    }
    if (source == S_FROM_NOWHERE) {
        e->qpv_unknown++;
        return;
    }
    e->qpv_message++;
    if (map_year <= 0)
        return;
    for (size_t i = 0; i < e->n_map_years; i++)
        if (e->message_map_years[i] == (uint32_t)map_year)
            return;
    if (e->n_map_years < S_COUNT(e->message_map_years))
        e->message_map_years[e->n_map_years++] = (uint32_t)map_year;
}

/* Does objective line o's scope take the dwelling of f? */
static bool s_in_scope(const bilan_objective_t *o, const s_fact_t *f)
{
    if (strcmp(o->scope, "commune") == 0)
        return strcmp(o->scope_id, f->insee) == 0;
    if (strcmp(o->scope, "bailleur") == 0)
        return strcmp(o->scope_id, f->bailleur) == 0 || strcmp(o->scope_id, f->siren) == 0;
    return true;
}

/* The prioritaires line of `resa` beside the all-together line `all` (same
 * target, same scope), added when new. Index in e->objectives, or -1. */
static long s_resa_objective(s_run_t *r, size_t ei, size_t all, const char *resa, bool non_reserve)
{
    bilan_epci_t *e = &r->b->epcis[ei];
    for (size_t i = 0; i < e->n_objectives; i++) {
        const bilan_objective_t *o = &e->objectives[i];
        if (o->local == e->objectives[all].local &&
            strcmp(o->objective, REFDATA_OBJ_PRIORITAIRES) == 0 &&
            strcmp(o->scope, e->objectives[all].scope) == 0 &&
            strcmp(o->scope_id, e->objectives[all].scope_id) == 0 &&
            strcmp(o->reservataire, resa) == 0)
            return (long)i;
    }
    bilan_objective_t model = e->objectives[all];
    bilan_objective_t *o =
        s_add_objective(r, ei, model.objective, model.local, model.scope, model.scope_id, resa);
    if (!o)
        return -1;
    o->non_reserve = non_reserve;
    o->has_target = model.has_target;
    o->target = model.target;
    return (long)(o - e->objectives);
}

/* What one fact adds to the objectives of its EPCI. The household's
 * quartile as the attribution says it (q1, or known not Q1: non_q1; neither:
 * unknown, never counted as Q2-Q4) and as the lease says it (lease_q1,
 * lease_anru: BailSigne's own flags). */
typedef struct {
    bool attr, lease, q1, non_q1, prio, lease_q1, lease_anru;
    int qpv_attr, qpv_lease;
    const char *resa;
    bool non_reserve;
} s_event_t;

static void s_objective_add(s_run_t *r, size_t ei, size_t i, const s_fact_t *f, const s_event_t *ev)
{
    bilan_objective_t *o = &r->b->epcis[ei].objectives[i];
    if (!s_in_scope(o, f) || *o->reservataire)
        return;
    if (strcmp(o->objective, REFDATA_OBJ_Q1_HORS_QPV) == 0 && ev->lease) {
        o->unknown_qpv += ev->qpv_lease == S_QPV_UNKNOWN;
        if (ev->qpv_lease != S_QPV_OUT)
            return;
        o->denominator++;
        o->numerator += ev->lease_q1 || ev->lease_anru;
        o->anru += !ev->lease_q1 && ev->lease_anru;
    } else if (strcmp(o->objective, REFDATA_OBJ_NON_Q1_EN_QPV) == 0 && ev->attr) {
        o->unknown_qpv += ev->qpv_attr == S_QPV_UNKNOWN;
        if (ev->qpv_attr != S_QPV_IN)
            return;
        if (!ev->q1 && !ev->non_q1) {
            o->unknown_quartile++;
            return;
        }
        o->denominator++;
        o->numerator += ev->non_q1;
    } else if (strcmp(o->objective, REFDATA_OBJ_PRIORITAIRES) == 0 && ev->attr) {
        o->denominator++;
        o->numerator += ev->prio;
        long k = s_resa_objective(r, ei, i, ev->resa, ev->non_reserve);
        if (k >= 0) {
            bilan_objective_t *line = &r->b->epcis[ei].objectives[k];
            line->denominator++;
            line->numerator += ev->prio;
        }
    }
}

/* pass / fail / no_target / no_data of each line; the all-together line of
 * prioritaires passes only when each réservataire's does. */
static void s_objective_status(bilan_epci_t *e)
{
    for (size_t i = 0; i < e->n_objectives; i++) {
        bilan_objective_t *o = &e->objectives[i];
        if (!o->has_target)
            o->status = "no_target";
        else if (!o->denominator)
            o->status = "no_data";
        else
            o->status = (uint64_t)o->numerator * 1000 >=
                                (uint64_t)o->target.target_per_mille * o->denominator
                            ? "pass"
                            : "fail";
    }
    for (size_t i = 0; i < e->n_objectives; i++) {
        bilan_objective_t *all = &e->objectives[i];
        if (strcmp(all->objective, REFDATA_OBJ_PRIORITAIRES) != 0 || *all->reservataire ||
            !all->has_target || !all->denominator)
            continue;
        bool each = true;
        for (size_t k = 0; k < e->n_objectives; k++) {
            const bilan_objective_t *o = &e->objectives[k];
            if (o != all && *o->reservataire && o->local == all->local &&
                strcmp(o->objective, all->objective) == 0 && strcmp(o->scope, all->scope) == 0 &&
                strcmp(o->scope_id, all->scope_id) == 0 && strcmp(o->status, "fail") == 0)
                each = false;
        }
        all->status = each ? "pass" : "fail";
    }
}

/* ---- the facts pass ---- */

static void s_read_fact(sqlite3_stmt *st, s_fact_t *f)
{
    f->vacancy = s_text(st, 0);
    f->nur = s_text(st, 1);
    f->credited = s_text(st, 2);
    f->bailleur = s_text(st, 3);
    f->siren = s_text(st, 4);
    f->rpls = s_text(st, 5);
    f->residence = s_text(st, 6);
    f->insee = s_text(st, 7);
    f->epci = s_text(st, 8);
    f->dalo = sqlite3_column_int(st, 9);
    f->pdalhpd = sqlite3_column_int(st, 10);
    f->quartile = sqlite3_column_int(st, 11);
    f->q1 = sqlite3_column_int(st, 12);
    f->anru = sqlite3_column_int(st, 13);
    f->decision = sqlite3_column_int(st, 14);
    f->decision_rank = sqlite3_column_int(st, 15);
    f->condition_state = sqlite3_column_int(st, 16);
    f->has_answer = sqlite3_column_type(st, 17) != SQLITE_NULL;
    f->has_non_suite = sqlite3_column_type(st, 18) != SQLITE_NULL;
    f->has_lease = sqlite3_column_type(st, 19) != SQLITE_NULL;
    f->lease_ms = sqlite3_column_int64(st, 19);
    f->decided_ms = sqlite3_column_int64(st, 20);
    f->freed_ms = sqlite3_column_int64(st, 21);
    f->qpv = sqlite3_column_int(st, 22);
    f->qpv_map_year = sqlite3_column_int(st, 23);
    f->typologie = sqlite3_column_int(st, 24);
    f->financement = sqlite3_column_int(st, 25);
    f->construction = sqlite3_column_int(st, 26);
    f->mode = sqlite3_column_int(st, 27);
    f->motif = sqlite3_column_int(st, 28);
    f->lease_q1 = sqlite3_column_int(st, 29);
    f->lease_anru = sqlite3_column_int(st, 30);
}

/* A decision par rang below rank 1 that never reached its candidate. */
static bool s_standby(const s_fact_t *f)
{
    return f->decision == S_DECISION(ATTRIBUTION_PAR_RANG) && f->decision_rank > 1 &&
           !f->has_answer && !f->has_non_suite && !f->has_lease;
}

static bool s_attribution(const s_fact_t *f)
{
    if (f->decision != S_DECISION(ATTRIBUTION) && f->decision != S_DECISION(ATTRIBUTION_PAR_RANG) &&
        f->decision != S_DECISION(SOUS_CONDITION_SUSPENSIVE))
        return false;
    if (f->decision == S_DECISION(SOUS_CONDITION_SUSPENSIVE) && f->condition_state == S_LAPSED)
        return false;
    return !s_standby(f);
}

static long s_month_index(const bilan_t *b, int64_t ms)
{
    period_date_t d = period_date_of(ms);
    long i = (long)(d.year - b->period.from.year) * 12 + (d.month - b->period.from.month);
    return i >= 0 && (size_t)i < b->n_months ? i : -1;
}

static void s_add_counts(bilan_count_t *l, const s_event_t *ev, bool hors_flux, bool attr,
                         bool lease)
{
    if (!l)
        return;
    if (attr) {
        l->attributions++;
        l->hors_flux += hors_flux;
        l->prioritaires += ev->prio;
        l->q1 += ev->q1;
    }
    if (lease) {
        l->leases++;
        l->leases_hors_flux += hors_flux;
    }
}

static void s_tally(s_run_t *r, const s_fact_t *f, const s_event_t *ev)
{
    bilan_t *b = r->b;
    bool hors_flux = f->mode == S_HORS_FLUX;
    s_add_counts(&b->total, ev, hors_flux, ev->attr, ev->lease);
    for (int d = 0; d < BILAN_DIMS; d++) {
        if (d == BILAN_BY_HORS_FLUX_MOTIF && !hors_flux)
            continue;
        if (d == BILAN_BY_QPV && ev->qpv_attr != ev->qpv_lease && ev->attr && ev->lease) {
            s_add_counts(s_fact_line(r, d, f, ev->qpv_attr), ev, hors_flux, true, false);
            s_add_counts(s_fact_line(r, d, f, ev->qpv_lease), ev, hors_flux, false, true);
            continue;
        }
        s_add_counts(s_fact_line(r, d, f, ev->attr ? ev->qpv_attr : ev->qpv_lease), ev, hors_flux,
                     ev->attr, ev->lease);
    }
    long m;
    if (ev->attr && (m = s_month_index(b, f->decided_ms)) >= 0)
        b->months[m].attributions++;
    if (ev->lease && (m = s_month_index(b, f->lease_ms)) >= 0)
        b->months[m].leases++;
}

static void s_days_vacant(s_run_t *r, const s_fact_t *f)
{
    if (f->freed_ms <= 0 || f->lease_ms < f->freed_ms)
        return;
    if (!s_grow(r, (void **)&r->days, &r->cap_days, r->n_days, sizeof *r->days))
        return;
    s_days_t *d = &r->days[r->n_days++];
    d->days = (uint32_t)(period_days(period_date_of(f->freed_ms), period_date_of(f->lease_ms)) - 1);
    snprintf(d->insee, sizeof d->insee, "%s", f->insee);
}

static void s_fact(s_run_t *r, const s_fact_t *f)
{
    bilan_t *b = r->b;
    s_event_t ev = {0};
    ev.attr = s_attribution(f) && period_contains(&b->period, f->decided_ms);
    ev.lease = f->has_lease && period_contains(&b->period, f->lease_ms);
    if (s_standby(f) && period_contains(&b->period, f->decided_ms))
        b->standby_par_rang++;
    if (!ev.attr && !ev.lease)
        return;
    ev.q1 = f->q1 || f->quartile == FLUXBUS__V1__QUARTILE__QUARTILE_Q1;
    ev.non_q1 = !ev.q1 && (f->quartile == FLUXBUS__V1__QUARTILE__QUARTILE_Q2 ||
                           f->quartile == FLUXBUS__V1__QUARTILE__QUARTILE_Q3 ||
                           f->quartile == FLUXBUS__V1__QUARTILE__QUARTILE_Q4);
    ev.lease_q1 = f->lease_q1 || f->quartile == FLUXBUS__V1__QUARTILE__QUARTILE_Q1;
    ev.lease_anru = f->lease_anru;
    ev.prio = f->dalo || f->pdalhpd;
    ev.resa = s_reservataire(f, &ev.non_reserve);
    long ei = s_epci(r, f->epci);
    if (ei < 0)
        return;
    bilan_epci_t *e = &b->epcis[ei];
    s_dwelling_t d = {f->rpls, f->siren, f->residence, f->insee, f->qpv, f->qpv_map_year};
    s_qpv_source_t source;
    if (ev.attr) {
        ev.qpv_attr = s_qpv_on(r, &d, f->decided_ms, &source);
        s_note_source(e, source, f->qpv_map_year);
        e->attributions++;
    }
    if (ev.lease) {
        ev.qpv_lease = s_qpv_on(r, &d, f->lease_ms, &source);
        s_note_source(e, source, f->qpv_map_year);
        e->leases++;
        s_days_vacant(r, f);
    }
    size_t n = e->n_objectives; /* lines added for réservataires are fed by s_objective_add */
    for (size_t i = 0; i < n; i++)
        s_objective_add(r, (size_t)ei, i, f, &ev);
    s_tally(r, f, &ev);
}

static bool s_facts(s_run_t *r)
{
    sqlite3_stmt *st = s_prepare(r, S_FACTS);
    if (!st)
        return false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !r->nomem) {
        s_fact_t f;
        s_read_fact(st, &f);
        s_fact(r, &f);
    }
    if (rc != SQLITE_DONE && !r->nomem)
        snprintf(r->err, sizeof r->err, "%s", sqlite3_errmsg(r->db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE;
}

/* ---- months: freed dwellings and orientations ---- */

static bool s_months(s_run_t *r)
{
    bilan_t *b = r->b;
    b->n_months = (size_t)((b->period.to.year - b->period.from.year) * 12 +
                           (b->period.to.month - b->period.from.month) + 1);
    b->months = calloc(b->n_months, sizeof *b->months);
    if (!b->months) {
        r->nomem = true;
        return false;
    }
    for (size_t i = 0; i < b->n_months; i++) {
        int m = b->period.from.month - 1 + (int)i;
        b->months[i].year = b->period.from.year + m / 12;
        b->months[i].month = m % 12 + 1;
    }
    return true;
}

static bool s_freed(s_run_t *r)
{
    sqlite3_stmt *st = s_prepare(r, "SELECT v.freed_ms FROM ledger_vacancies v"
                                    " WHERE v.freed_ms >= ?1 AND v.freed_ms < ?2" S_FILTER);
    if (!st)
        return false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long m = s_month_index(r->b, sqlite3_column_int64(st, 0));
        if (m >= 0)
            r->b->months[m].freed++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE;
}

static bool s_orientations(s_run_t *r)
{
    sqlite3_stmt *st =
        s_prepare(r, "SELECT o.reservataire, o.oriented_ms FROM ledger_orientations o"
                     " JOIN ledger_vacancies v ON v.vacancy_id = o.vacancy_id"
                     " WHERE o.oriented_ms >= ?1 AND o.oriented_ms < ?2" S_FILTER);
    if (!st)
        return false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !r->nomem) {
        long m = s_month_index(r->b, sqlite3_column_int64(st, 1));
        if (m >= 0)
            r->b->months[m].orientations++;
        r->b->total.orientations++;
        bilan_count_t *l = s_resa_line(r, s_text(st, 0), false);
        if (l)
            l->orientations++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE;
}

/* ---- the conventions' progress (the décompte) ---- */

/* The bailleur's actor id for the décompte's filter, which takes no SIREN:
 * the filter itself, or the actor of a vacancy with that SIREN. */
static void s_bailleur_actor(s_run_t *r, char *out, size_t cap)
{
    snprintf(out, cap, "%s", r->b->bailleur);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db,
                           "SELECT bailleur FROM ledger_vacancies WHERE bailleur_siren = ?1"
                           " AND bailleur <> ?1 LIMIT 1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, r->b->bailleur, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(out, cap, "%s", s_text(st, 0));
    }
    sqlite3_finalize(st);
}

static bool s_conventions(s_run_t *r)
{
    if (r->b->communes)
        return true; /* a convention's count is not per commune */
    char bailleur[BILAN_ID_MAX];
    s_bailleur_actor(r, bailleur, sizeof bailleur);
    decompte_query_t q = {.period = r->b->period, .bailleur = *bailleur ? bailleur : NULL};
    decompte_t *d = decompte_run(r->db, &q, r->err, sizeof r->err);
    if (!d)
        return false;
    for (size_t i = 0; i < d->n_reservataires && !r->nomem; i++) {
        const decompte_row_t *row = &d->reservataires[i];
        if (!row->has_target && !row->tally.counts[DECOMPTE_OFFICIAL])
            continue;
        bilan_count_t *l = s_resa_line(r, row->key, false);
        if (!l)
            break;
        l->has_objective = row->has_target;
        l->objective = row->target;
        l->done = row->tally.counts[DECOMPTE_OFFICIAL];
    }
    decompte_destroy(&d);
    return !r->nomem;
}

/* ---- analyses ---- */

static int s_refusals_cmp(const void *a, const void *b)
{
    const bilan_refusals_t *x = a, *y = b;
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    int c = strcmp(x->bailleur, y->bailleur);
    return c ? c : strcmp(x->residence_id, y->residence_id);
}

static bool s_refusals(s_run_t *r)
{
    sqlite3_stmt *st = s_prepare(
        r, "SELECT v.bailleur, coalesce(v.residence_id, ''), coalesce(v.commune_insee, ''),"
           " c.refus_motif, count(*) FROM ledger_candidates c"
           " JOIN ledger_vacancies v ON v.vacancy_id = c.vacancy_id"
           " WHERE c.answer = 2 AND c.answered_ms >= ?1 AND c.answered_ms < ?2" S_FILTER
           " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4");
    if (!st)
        return false;
    bilan_t *b = r->b;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        bilan_refusals_t *last = b->n_refusals ? &b->refusals[b->n_refusals - 1] : NULL;
        if (!last || strcmp(last->bailleur, s_text(st, 0)) != 0 ||
            strcmp(last->residence_id, s_text(st, 1)) != 0 ||
            strcmp(last->commune_insee, s_text(st, 2)) != 0) {
            if (!s_grow(r, (void **)&b->refusals, &cap, b->n_refusals, sizeof *b->refusals))
                break;
            last = &b->refusals[b->n_refusals++];
            snprintf(last->bailleur, sizeof last->bailleur, "%s", s_text(st, 0));
            snprintf(last->residence_id, sizeof last->residence_id, "%s", s_text(st, 1));
            snprintf(last->commune_insee, sizeof last->commune_insee, "%s", s_text(st, 2));
        }
        int motif = sqlite3_column_int(st, 3);
        uint32_t n = (uint32_t)sqlite3_column_int(st, 4);
        last->by_motif[motif >= 0 && motif < BILAN_REFUS_MOTIFS ? motif : 0] += n;
        last->total += n;
    }
    sqlite3_finalize(st);
    if (b->n_refusals)
        qsort(b->refusals, b->n_refusals, sizeof *b->refusals, s_refusals_cmp);
    return rc == SQLITE_DONE;
}

/* Candidates designated on `repeated_threshold` dwellings or more in the
 * period, with no attribution (bilan.h's rule) decided before its end. */
static bool s_repeated(s_run_t *r)
{
    sqlite3_stmt *st = s_prepare(
        r, "SELECT c.nur, count(*) AS n, group_concat(DISTINCT c.designating),"
           " max(c.designated_ms) FROM ledger_candidates c"
           " JOIN ledger_vacancies v ON v.vacancy_id = c.vacancy_id"
           " WHERE c.designated_ms >= ?1 AND c.designated_ms < ?2" S_FILTER
           " GROUP BY c.nur HAVING n >= ?5 AND NOT EXISTS (SELECT 1 FROM ledger_candidates a"
           "  WHERE a.nur = c.nur AND a.decision IN (1, 2, 3) AND a.decided_ms < ?2"
           "  AND NOT (a.decision = 3 AND coalesce(a.condition_state, 0) = 3)"
           "  AND NOT (a.decision = 2 AND coalesce(a.decision_rank, 1) > 1 AND a.answer IS NULL"
           "   AND a.non_suite IS NULL AND a.lease_ms IS NULL))"
           " ORDER BY n DESC, c.nur");
    if (!st)
        return false;
    sqlite3_bind_int(st, 5, (int)r->b->repeated_threshold);
    bilan_t *b = r->b;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!s_grow(r, (void **)&b->repeated, &cap, b->n_repeated, sizeof *b->repeated))
            break;
        bilan_repeated_t *x = &b->repeated[b->n_repeated++];
        snprintf(x->nur, sizeof x->nur, "%s", s_text(st, 0));
        x->presentations = (uint32_t)sqlite3_column_int(st, 1);
        snprintf(x->reservataires, sizeof x->reservataires, "%s", s_text(st, 2));
        s_date_of(sqlite3_column_int64(st, 3), x->last_presented);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE;
}

/* Designations of dwellings hors QPV (on the designation's date). */
static bool s_q1_proposals(s_run_t *r)
{
    sqlite3_stmt *st = s_prepare(
        r,
        "SELECT c.vacancy_id, c.quartile, c.designated_ms, v.rpls_id, v.bailleur_siren,"
        " v.residence_id, v.commune_insee, v.qpv, v.qpv_map_year FROM ledger_candidates c"
        " JOIN ledger_vacancies v ON v.vacancy_id = c.vacancy_id"
        " WHERE c.designated_ms >= ?1 AND c.designated_ms < ?2" S_FILTER " ORDER BY c.vacancy_id");
    if (!st)
        return false;
    bilan_q1_proposals_t *p = &r->b->q1_proposals;
    char current[BILAN_ID_MAX] = "";
    bool counted = false, with_q1 = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (strcmp(current, s_text(st, 0)) != 0) {
            snprintf(current, sizeof current, "%s", s_text(st, 0));
            counted = with_q1 = false;
        }
        s_dwelling_t d = {s_text(st, 3),
                          s_text(st, 4),
                          s_text(st, 5),
                          s_text(st, 6),
                          sqlite3_column_int(st, 7),
                          sqlite3_column_int(st, 8)};
        s_qpv_source_t source;
        if (s_qpv_on(r, &d, sqlite3_column_int64(st, 2), &source) != S_QPV_OUT)
            continue;
        bool q1 = sqlite3_column_int(st, 1) == FLUXBUS__V1__QUARTILE__QUARTILE_Q1;
        p->candidates++;
        p->q1_candidates += q1;
        if (!counted)
            p->proposals++;
        if (q1 && !with_q1)
            p->proposals_with_q1++;
        counted = true;
        with_q1 = with_q1 || q1;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE;
}

/* ---- days vacant ---- */

static int s_days_cmp(const void *a, const void *b)
{
    const s_days_t *x = a, *y = b;
    int c = strcmp(x->insee, y->insee);
    if (c)
        return c;
    return x->days < y->days ? -1 : x->days > y->days;
}

static int s_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Stats of n sorted day counts. */
static void s_vacant_stats(bilan_vacant_t *v, const uint32_t *days, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += days[i];
    v->leases = (uint32_t)n;
    if (!n)
        return;
    v->mean_x10 = (uint32_t)((sum * 20 + n) / (2 * n));
    v->median = n % 2 ? days[n / 2] : (days[n / 2 - 1] + days[n / 2]) / 2;
    v->min = days[0];
    v->max = days[n - 1];
}

static bool s_vacant(s_run_t *r)
{
    bilan_t *b = r->b;
    if (r->n_days)
        qsort(r->days, r->n_days, sizeof *r->days, s_days_cmp);
    size_t communes = 0;
    for (size_t i = 0; i < r->n_days; i++)
        communes += i == 0 || strcmp(r->days[i].insee, r->days[i - 1].insee) != 0;
    uint32_t *all = malloc((r->n_days + 1) * sizeof *all);
    b->vacant = calloc(communes + 1, sizeof *b->vacant);
    if (!all || !b->vacant) {
        free(all);
        r->nomem = true;
        return false;
    }
    b->n_vacant = 1;
    for (size_t i = 0, start = 0; i <= r->n_days; i++) {
        if (i < r->n_days)
            all[i] = r->days[i].days;
        if (i > start && (i == r->n_days || strcmp(r->days[i].insee, r->days[start].insee) != 0)) {
            bilan_vacant_t *v = &b->vacant[b->n_vacant++];
            snprintf(v->key, sizeof v->key, "%s",
                     *r->days[start].insee ? r->days[start].insee : "unknown");
            s_vacant_stats(v, all + start, i - start);
            start = i;
        }
    }
    if (r->n_days)
        qsort(all, r->n_days, sizeof *all, s_u32_cmp);
    s_vacant_stats(&b->vacant[0], all, r->n_days);
    free(all);
    return true;
}

/* ---- the whole ---- */

static void s_finish(bilan_t *b)
{
    for (int d = 0; d < BILAN_DIMS; d++)
        if (b->by[d].n)
            qsort(b->by[d].rows, b->by[d].n, sizeof *b->by[d].rows, s_count_cmp_order);
    for (size_t i = 0; i < b->n_epcis; i++) {
        bilan_epci_t *e = &b->epcis[i];
        if (e->n_objectives)
            qsort(e->objectives, e->n_objectives, sizeof *e->objectives, s_objective_cmp);
        s_objective_status(e);
    }
}

/* ",74010,74011," from "74010,74011" (spaces dropped), for the ?6 filter;
 * NULL without a list. */
static char *s_communes_filter(const char *list, bool *nomem)
{
    if (!list)
        return NULL;
    char *out = malloc(strlen(list) + 3);
    if (!out) {
        *nomem = true;
        return NULL;
    }
    size_t n = 0;
    out[n++] = ',';
    for (const char *c = list; *c; c++)
        if (*c != ' ' && !(*c == ',' && out[n - 1] == ','))
            out[n++] = *c;
    if (out[n - 1] != ',')
        out[n++] = ',';
    out[n] = '\0';
    return out;
}

static void s_init(bilan_t *b, const bilan_query_t *q)
{
    b->period = q->period;
    snprintf(b->bailleur, sizeof b->bailleur, "%s", q->bailleur ? q->bailleur : "");
    snprintf(b->epci, sizeof b->epci, "%s", q->epci ? q->epci : "");
    b->repeated_threshold = q->repeated_threshold ? q->repeated_threshold : BILAN_DEFAULT_REPEATED;
    period_format_date(q->period.to, b->reference_date);
    snprintf(b->total.key, sizeof b->total.key, "total");
    snprintf(b->total.label, sizeof b->total.label, "total");
}

bilan_t *bilan_run(sqlite3 *db, const bilan_query_t *q, char *err, size_t errlen)
{
    s_run_t r = {.db = db};
    r.b = calloc(1, sizeof *r.b);
    if (!r.b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s_init(r.b, q);
    r.b->communes = s_communes_filter(q->communes, &r.nomem);
    r.ref = r.nomem ? NULL : refdata_new(db, r.err, sizeof r.err);
    bool ok = r.ref && s_months(&r) && s_facts(&r) && s_freed(&r) && s_orientations(&r) &&
              s_conventions(&r) && s_refusals(&r) && s_repeated(&r) && s_q1_proposals(&r) &&
              s_vacant(&r) && !r.nomem;
    refdata_destroy(&r.ref);
    free(r.days);
    free(r.cap_objectives);
    if (!ok) {
        if (r.nomem)
            snprintf(r.err, sizeof r.err, "out of memory");
        else if (!*r.err)
            snprintf(r.err, sizeof r.err, "%s", sqlite3_errmsg(db));
        snprintf(err, errlen, "bilan: %s", r.err);
        bilan_destroy(&r.b);
        return NULL;
    }
    s_finish(r.b);
    return r.b;
}

void bilan_destroy(bilan_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bilan_t *b = *self_p;
    for (int d = 0; d < BILAN_DIMS; d++)
        free(b->by[d].rows);
    for (size_t i = 0; i < b->n_epcis; i++)
        free(b->epcis[i].objectives);
    free(b->epcis);
    free(b->months);
    free(b->refusals);
    free(b->vacant);
    free(b->repeated);
    free(b->communes);
    free(b);
    *self_p = NULL;
}
