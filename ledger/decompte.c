/* decompte.c - the décompte and the fairness table (see decompte.h; the
 * rules are in docs/LEDGER.md, "Décompte and fairness").
 *
 * How: the facts of the bailleur's vacancies are read once into memory as
 * (vacancy, party) pairs, each with its orientation rounds, acks, declines,
 * remises, and its candidates' designations, visits, CALEOL decisions,
 * answers and leases. Each pair is then counted once, with the revision of
 * its convention in force at each event, and added to its convention line,
 * its réservataire's row and its commune's row.
 *
 * Invariants: a pair adds at most 1 to each method's count (its first
 * counting event decides the period); activity counts are events in the
 * period; nothing here writes to the database. */
#include "decompte.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"

#define S_NONE INT64_MAX /* an event that did not happen */

#define MODE(x) FLUXBUS__V1__MANAGEMENT_MODE__MANAGEMENT_MODE_##x
#define METHOD(x) FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_##x
#define KIND(x) FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_##x
#define UNIT(x) FLUXBUS__V1__OBJECTIVE_UNIT__OBJECTIVE_UNIT_##x
#define DECISION(x) FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_##x
#define TYPE(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x

/* A vacancy as LogementLibere described it. */
typedef struct {
    char *id, *bailleur, *commune;
    int mode, motif;
    int64_t freed_ms; /* 0: never freed on the bus */
    uint32_t refusals;
} s_vacancy_t;

/* One (vacancy, party) pair and what its facts say. Times are S_NONE when
 * the event did not happen. */
typedef struct {
    char *vacancy, *party;
    const s_vacancy_t *v;
    char *convention; /* from its latest orientation naming one, else a candidate's */
    bool convention_from_orientation;
    /* orientations */
    int64_t first_oriented;
    uint32_t oriented_in, offered_in, expired_in;
    char latest_status[16];
    int64_t latest_status_ms, latest_expired_ms;
    uint32_t latest_round;
    /* acks, declines, remises (events from the party) */
    int64_t first_ack, last_remise;
    uint32_t acks_in, declines_in, remises_in;
    /* candidates credited to the party */
    int64_t first_designated, first_attribution, first_attribution_visited, first_lease;
    uint32_t designated_in, attributions_in, non_attributions_in, rejets_in, refusals_in,
        non_suites_in, leases_in;
    uint32_t attributions_prio_in, attributions_dalo_in, leases_prio_in, leases_dalo_in;
    bool deleguee, partenariale;
} s_pair_t;

typedef struct {
    sqlite3 *db;
    const decompte_query_t *q;
    period_t p;
    s_vacancy_t *vac;
    size_t n_vac;
    s_pair_t *pairs;
    size_t n_pairs;
    decompte_t *out;
    char *err;
    size_t errlen;
} s_ctx_t;

static const conventions_rev_t s_default_rev = FLUXBUS__V1__CONVENTION__INIT;

/* ---- names ------------------------------------------------------------------------- */

const char *decompte_method_name(int method)
{
    switch (method) {
    case METHOD(ORIENTATION_ACCEPTEE):
        return "orientation_acceptee";
    case METHOD(PASSAGE_CALEOL):
        return "passage_caleol";
    default:
        return "bail_signe";
    }
}

const char *decompte_kind_name(int kind)
{
    switch (kind) {
    case KIND(OFFRES):
        return "offres";
    case KIND(GESTION_PARTENARIALE):
        return "gestion_partenariale";
    case KIND(GESTION_DELEGUEE):
        return "gestion_deleguee";
    default:
        return "placements";
    }
}

const char *decompte_unit_name(int unit)
{
    return unit == UNIT(PER_MILLE) ? "per_mille" : unit == UNIT(COUNT) ? "count" : "mixed";
}

const char *decompte_mode_name(int mode)
{
    switch (mode) {
    case MODE(DIRECTE):
        return "directe";
    case MODE(PARTENARIALE):
        return "partenariale";
    case MODE(DELEGUEE):
        return "deleguee";
    default:
        return "any";
    }
}

/* ---- reading the facts ------------------------------------------------------------- */

static char *s_dup(const unsigned char *text)
{
    return strdup(text ? (const char *)text : "");
}

static int64_t s_time(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? S_NONE : sqlite3_column_int64(st, col);
}

static int64_t s_min(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static bool s_in(const s_ctx_t *x, int64_t t)
{
    return t != S_NONE && period_contains(&x->p, t);
}

/* Prepares sql and binds the bailleur filter as ?1 (NULL: all). */
static sqlite3_stmt *s_prepare(s_ctx_t *x, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(x->err, x->errlen, "décompte: %s", sqlite3_errmsg(x->db));
        return NULL;
    }
    if (x->q->bailleur)
        sqlite3_bind_text(st, 1, x->q->bailleur, -1, SQLITE_TRANSIENT);
    return st;
}

static bool s_done(s_ctx_t *x, sqlite3_stmt *st, int rc)
{
    if (rc != SQLITE_DONE)
        snprintf(x->err, x->errlen, "décompte: %s", sqlite3_errmsg(x->db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE;
}

/* Makes room for element n of an array that holds n: 16, then doubling
 * whenever n reaches a power of two. */
static bool s_grow(void **arr, size_t n, size_t size)
{
    if (n != 0 && (n < 16 || (n & (n - 1))))
        return true;
    void *p = realloc(*arr, (n ? 2 * n : 16) * size);
    if (p)
        *arr = p;
    return p != NULL;
}

static bool s_load_vacancies(s_ctx_t *x)
{
    sqlite3_stmt *st = s_prepare(
        x, "SELECT vacancy_id, bailleur, commune_insee, mode_gestion, hors_flux_motif, freed_ms,"
           " refusals FROM ledger_vacancies WHERE (?1 IS NULL OR bailleur = ?1)"
           " ORDER BY vacancy_id");
    if (!st)
        return false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!s_grow((void **)&x->vac, x->n_vac, sizeof *x->vac)) {
            sqlite3_finalize(st);
            snprintf(x->err, x->errlen, "décompte: out of memory");
            return false;
        }
        s_vacancy_t *v = &x->vac[x->n_vac++];
        v->id = s_dup(sqlite3_column_text(st, 0));
        v->bailleur = s_dup(sqlite3_column_text(st, 1));
        v->commune = s_dup(sqlite3_column_text(st, 2));
        v->mode = sqlite3_column_int(st, 3);
        v->motif = sqlite3_column_int(st, 4);
        v->freed_ms = sqlite3_column_int64(st, 5);
        v->refusals = (uint32_t)sqlite3_column_int(st, 6);
    }
    return s_done(x, st, rc);
}

static int s_cmp_vacancy(const void *key, const void *elem)
{
    return strcmp(key, ((const s_vacancy_t *)elem)->id);
}

static void s_pair_init(s_pair_t *p)
{
    memset(p, 0, sizeof *p);
    p->first_oriented = p->latest_status_ms = p->latest_expired_ms = S_NONE;
    p->first_ack = p->last_remise = S_NONE;
    p->first_designated = p->first_attribution = p->first_attribution_visited = S_NONE;
    p->first_lease = S_NONE;
}

static bool s_load_pairs(s_ctx_t *x)
{
    sqlite3_stmt *st =
        s_prepare(x, "SELECT p.vacancy_id, p.party FROM ("
                     " SELECT vacancy_id, reservataire AS party FROM ledger_orientations"
                     " UNION SELECT vacancy_id, credited FROM ledger_candidates"
                     "  WHERE credited IS NOT NULL AND credited <> ''"
                     " UNION SELECT vacancy_id, sender FROM ledger_events WHERE type IN (3, 4, 6)"
                     ") p JOIN ledger_vacancies v ON v.vacancy_id = p.vacancy_id"
                     " WHERE (?1 IS NULL OR v.bailleur = ?1) ORDER BY p.vacancy_id, p.party");
    if (!st)
        return false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!s_grow((void **)&x->pairs, x->n_pairs, sizeof *x->pairs)) {
            sqlite3_finalize(st);
            snprintf(x->err, x->errlen, "décompte: out of memory");
            return false;
        }
        s_pair_t *p = &x->pairs[x->n_pairs++];
        s_pair_init(p);
        p->vacancy = s_dup(sqlite3_column_text(st, 0));
        p->party = s_dup(sqlite3_column_text(st, 1));
        p->v = bsearch(p->vacancy, x->vac, x->n_vac, sizeof *x->vac, s_cmp_vacancy);
    }
    return s_done(x, st, rc);
}

static s_pair_t *s_pair_find(s_ctx_t *x, const char *vacancy, const char *party)
{
    size_t lo = 0, hi = x->n_pairs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp(x->pairs[mid].vacancy, vacancy);
        if (cmp == 0)
            cmp = strcmp(x->pairs[mid].party, party);
        if (cmp == 0)
            return &x->pairs[mid];
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void s_set_convention(s_pair_t *p, const unsigned char *conv, bool from_orientation)
{
    if (!conv || !*conv || (p->convention && p->convention_from_orientation && !from_orientation))
        return;
    free(p->convention);
    p->convention = s_dup(conv);
    p->convention_from_orientation = from_orientation;
}

/* Orientation rounds, in round order per pair. */
static bool s_load_orientations(s_ctx_t *x)
{
    sqlite3_stmt *st = s_prepare(
        x, "SELECT o.vacancy_id, o.reservataire, o.round, o.convention_id, o.oriented_ms,"
           " o.status, o.status_ms, o.expired_ms FROM ledger_orientations o"
           " JOIN ledger_vacancies v ON v.vacancy_id = o.vacancy_id"
           " WHERE (?1 IS NULL OR v.bailleur = ?1) ORDER BY o.vacancy_id, o.reservataire, o.round");
    if (!st)
        return false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        s_pair_t *p = s_pair_find(x, (const char *)sqlite3_column_text(st, 0),
                                  (const char *)sqlite3_column_text(st, 1));
        if (!p)
            continue;
        int64_t oriented = sqlite3_column_int64(st, 4), expired = sqlite3_column_int64(st, 7);
        const char *status = (const char *)sqlite3_column_text(st, 5);
        s_set_convention(p, sqlite3_column_text(st, 3), true);
        p->first_oriented = s_min(p->first_oriented, oriented);
        p->oriented_in += s_in(x, oriented);
        p->offered_in += s_in(x, oriented) && strcmp(status, "decline") != 0;
        p->expired_in += expired && s_in(x, expired);
        p->latest_round = (uint32_t)sqlite3_column_int(st, 2);
        snprintf(p->latest_status, sizeof p->latest_status, "%s", status);
        p->latest_status_ms = sqlite3_column_int64(st, 6);
        p->latest_expired_ms = expired ? expired : S_NONE;
    }
    return s_done(x, st, rc);
}

/* Acks, declines and remises, from the party itself. */
static bool s_load_events(s_ctx_t *x)
{
    sqlite3_stmt *st = s_prepare(
        x, "SELECT e.vacancy_id, e.sender, e.type, e.at_ms FROM ledger_events e"
           " JOIN ledger_vacancies v ON v.vacancy_id = e.vacancy_id"
           " WHERE e.type IN (3, 4, 6) AND (?1 IS NULL OR v.bailleur = ?1) ORDER BY e.seq");
    if (!st)
        return false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        s_pair_t *p = s_pair_find(x, (const char *)sqlite3_column_text(st, 0),
                                  (const char *)sqlite3_column_text(st, 1));
        if (!p)
            continue;
        int type = sqlite3_column_int(st, 2);
        int64_t at = sqlite3_column_int64(st, 3);
        if (type == TYPE(ORIENTATION_ACK)) {
            p->first_ack = s_min(p->first_ack, at);
            p->acks_in += s_in(x, at);
        } else if (type == TYPE(ORIENTATION_DECLINE)) {
            p->declines_in += s_in(x, at);
        } else {
            p->last_remise = at; /* in seq order: the last one wins */
            p->remises_in += s_in(x, at);
        }
    }
    return s_done(x, st, rc);
}

static bool s_attribution(int decision, int condition)
{
    return (decision == DECISION(ATTRIBUTION) || decision == DECISION(ATTRIBUTION_PAR_RANG) ||
            decision == DECISION(SOUS_CONDITION_SUSPENSIVE)) &&
           condition != FLUXBUS__V1__CONDITION_STATE__CONDITION_STATE_LAPSED;
}

static void s_add_candidate(s_ctx_t *x, s_pair_t *p, sqlite3_stmt *st)
{
    const unsigned char *designating = sqlite3_column_text(st, 3);
    int64_t designated = s_time(st, 5), decided = s_time(st, 8), visited = s_time(st, 6);
    int decision = sqlite3_column_int(st, 7);
    s_set_convention(p, sqlite3_column_text(st, 2), false);
    p->deleguee = p->deleguee || sqlite3_column_int(st, 4);
    p->partenariale = p->partenariale || (designating && *designating &&
                                          strcmp((const char *)designating, p->party) != 0);
    p->first_designated = s_min(p->first_designated, designated);
    p->designated_in += s_in(x, designated);
    if (s_attribution(decision, sqlite3_column_int(st, 9))) {
        p->first_attribution = s_min(p->first_attribution, decided);
        /* A visit counts when it took place by the decision: one after it
         * (or reported after it, dated after) does not make a "CALEOL after
         * a visit". */
        if (visited != S_NONE && visited <= decided)
            p->first_attribution_visited = s_min(p->first_attribution_visited, decided);
    }
    bool dalo = sqlite3_column_int(st, 14), prio = dalo || sqlite3_column_int(st, 15);
    if (s_in(x, decided)) {
        bool attributed =
            decision >= DECISION(ATTRIBUTION) && decision <= DECISION(SOUS_CONDITION_SUSPENSIVE);
        p->attributions_in += attributed;
        p->attributions_prio_in += attributed && prio;
        p->attributions_dalo_in += attributed && dalo;
        p->non_attributions_in += decision == DECISION(NON_ATTRIBUTION);
        p->rejets_in += decision == DECISION(REJET_IRRECEVABILITE);
    }
    p->refusals_in +=
        sqlite3_column_int(st, 10) == FLUXBUS__V1__PROPOSITION_ANSWER__PROPOSITION_ANSWER_REFUSEE &&
        s_in(x, s_time(st, 11));
    p->non_suites_in += s_in(x, s_time(st, 12));
    p->first_lease = s_min(p->first_lease, s_time(st, 13));
    p->leases_in += s_in(x, s_time(st, 13));
    p->leases_prio_in += prio && s_in(x, s_time(st, 13));
    p->leases_dalo_in += dalo && s_in(x, s_time(st, 13));
}

static bool s_load_candidates(s_ctx_t *x)
{
    sqlite3_stmt *st = s_prepare(
        x, "SELECT c.vacancy_id, c.credited, c.convention_id, c.designating, c.gestion_deleguee,"
           " c.designated_ms, c.visited_ms, c.decision, c.decided_ms, c.condition_state,"
           " c.answer, c.answered_ms, c.non_suite_ms, c.lease_ms, c.dalo, c.pdalhpd"
           " FROM ledger_candidates c"
           " JOIN ledger_vacancies v ON v.vacancy_id = c.vacancy_id"
           " WHERE c.credited IS NOT NULL AND (?1 IS NULL OR v.bailleur = ?1)");
    if (!st)
        return false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        s_pair_t *p = s_pair_find(x, (const char *)sqlite3_column_text(st, 0),
                                  (const char *)sqlite3_column_text(st, 1));
        if (p)
            s_add_candidate(x, p, st);
    }
    return s_done(x, st, rc);
}

/* ---- counting one pair ------------------------------------------------------------- */

/* The pair's convention (revisions) and the revision in force at t. */
typedef struct {
    const conventions_t *set;
    long i; /* -1: no known convention, the defaults apply */
} s_conv_t;

static const conventions_rev_t *s_rev_at(s_conv_t c, int64_t t)
{
    return c.i < 0 ? &s_default_rev : conventions_at(c.set, (size_t)c.i, t);
}

static int s_mode(const s_pair_t *p)
{
    return p->deleguee ? MODE(DELEGUEE) : p->partenariale ? MODE(PARTENARIALE) : MODE(DIRECTE);
}

/* Is the pair's vacancy outside its convention's flux (judged with the
 * revision in force when it was freed, or first oriented)? */
static bool s_excluded(s_conv_t c, const s_pair_t *p)
{
    if (!p->v)
        return false;
    int64_t at = p->v->freed_ms ? p->v->freed_ms : p->first_oriented;
    return conventions_excludes(s_rev_at(c, at), p->v->mode, p->v->motif);
}

/* When the latest round ended in a hand-back (remise or expiry): its time,
 * and whether the convention counts it against the réservataire. */
static int64_t s_hand_back(s_conv_t c, const s_pair_t *p, bool *counted)
{
    *counted = false;
    if (strcmp(p->latest_status, "remis") == 0) {
        int64_t t = p->last_remise != S_NONE ? p->last_remise : p->latest_status_ms;
        *counted = conventions_remise_counted(s_rev_at(c, t));
        return t;
    }
    if (strcmp(p->latest_status, "expire") == 0) {
        int64_t t = p->latest_expired_ms != S_NONE ? p->latest_expired_ms : p->latest_status_ms;
        *counted = conventions_expiry_counted(s_rev_at(c, t));
        return t;
    }
    return S_NONE;
}

/* Adds the pair's activity and counts to t. */
static void s_count_pair(const s_ctx_t *x, s_conv_t c, const s_pair_t *p, decompte_tally_t *t)
{
    t->orientations += p->oriented_in;
    t->acks += p->acks_in;
    t->declines += p->declines_in;
    t->designations += p->designated_in;
    t->remises += p->remises_in;
    t->expiries += p->expired_in;
    t->caleol_attributions += p->attributions_in;
    t->caleol_non_attributions += p->non_attributions_in;
    t->caleol_rejets += p->rejets_in;
    t->refusals += p->refusals_in;
    t->non_suites += p->non_suites_in;
    t->leases += p->leases_in;
    t->attributions_prioritaires += p->attributions_prio_in;
    t->attributions_dalo += p->attributions_dalo_in;
    t->leases_prioritaires += p->leases_prio_in;
    t->leases_dalo += p->leases_dalo_in;
    if (s_excluded(c, p))
        return; /* hors flux: shown above, never counted */
    t->offres += p->offered_in > 0;

    int mode = s_mode(p);
    bool hb_counted;
    int64_t hb = s_hand_back(c, p, &hb_counted);
    int64_t own[3];
    own[DECOMPTE_ORIENTATION_ACCEPTEE] = s_min(p->first_ack, p->first_designated);
    /* Accepted, then given back without a count: the réservataire keeps its right. */
    if (hb != S_NONE && !hb_counted && p->first_attribution == S_NONE)
        own[DECOMPTE_ORIENTATION_ACCEPTEE] = S_NONE;
    own[DECOMPTE_PASSAGE_CALEOL] =
        p->first_attribution != S_NONE &&
                conventions_rule(s_rev_at(c, p->first_attribution), mode).requires_visit
            ? p->first_attribution_visited
            : p->first_attribution;
    own[DECOMPTE_BAIL_SIGNE] = p->first_lease;

    int64_t official = hb_counted ? hb : S_NONE;
    for (int m = 0; m < 3; m++) {
        if (s_in(x, s_min(own[m], hb_counted ? hb : S_NONE)))
            t->counts[m]++;
        if (own[m] != S_NONE && conventions_rule(s_rev_at(c, own[m]), mode).method == m + 1)
            official = s_min(official, own[m]);
    }
    if (s_in(x, official)) {
        t->counts[DECOMPTE_OFFICIAL]++;
        t->partenariale += mode == MODE(PARTENARIALE);
        t->deleguee += mode == MODE(DELEGUEE);
    }
}

_Static_assert(sizeof(decompte_tally_t) % sizeof(uint32_t) == 0, "a tally is only counters");

static void s_tally_add(decompte_tally_t *into, const decompte_tally_t *t)
{
    uint32_t *a = (uint32_t *)into;
    const uint32_t *b = (const uint32_t *)t;
    for (size_t i = 0; i < sizeof *t / sizeof(uint32_t); i++)
        a[i] += b[i];
}

/* ---- objectives -------------------------------------------------------------------- */

/* How a pro-rated figure is rounded to a whole number of dwellings. */
typedef enum { S_HALF_UP, S_DOWN, S_UP } s_rounding_t;

/* x * num / den, rounded as asked (den 0: 0). */
static uint32_t s_round(uint64_t x, uint64_t num, uint64_t den, s_rounding_t how)
{
    if (den == 0)
        return 0;
    uint64_t r = how == S_HALF_UP ? (2 * x * num + den) / (2 * den)
                 : how == S_UP    ? (x * num + den - 1) / den
                                  : x * num / den;
    return r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

/* x * num / den rounded half up. */
static uint32_t s_scale(uint64_t x, uint64_t num, uint64_t den)
{
    return s_round(x, num, den, S_HALF_UP);
}

static uint32_t s_done_for(int kind, const decompte_tally_t *t)
{
    switch (kind) {
    case KIND(OFFRES):
        return t->offres;
    case KIND(GESTION_PARTENARIALE):
        return t->partenariale;
    case KIND(GESTION_DELEGUEE):
        return t->deleguee;
    default:
        return t->counts[DECOMPTE_OFFICIAL];
    }
}

/* A multiple of the days of every year (365 and 366): a count objective's
 * pro-rated parts of several years add up exactly over it. */
#define S_YEAR_DEN ((uint64_t)365 * 366)

enum { S_VALUE, S_MIN, S_MAX, S_BOUNDS };

/* One kind's objectives over the period before rounding. Count objectives:
 * sums of value x days of the year in the period x S_YEAR_DEN / days of the
 * year; per-mille ones: sums of value x days of the year in the period, a
 * share of the base over 1000 x the period's days. */
typedef struct {
    uint64_t count[S_BOUNDS];
    uint64_t share[S_BOUNDS];
    bool has_share;
    bool has_unit; /* the kind's unit is set (from its first objective) */
} s_exact_t;

/* The days of year y within the period. */
static uint64_t s_days_in_year(const period_t *p, int y)
{
    period_date_t from = y == p->from.year ? p->from : (period_date_t){y, 1, 1};
    period_date_t to = y == p->to.year ? p->to : (period_date_t){y, 12, 31};
    return (uint64_t)period_days(from, to);
}

/* The progress of kind `kind` in line (added when missing; NULL when the
 * line holds DECOMPTE_MAX_OBJECTIVES kinds already). */
static decompte_objective_t *s_objective_of(decompte_line_t *line, int kind, size_t *k)
{
    for (*k = 0; *k < line->n_objectives; (*k)++)
        if (line->objectives[*k].kind == kind)
            return &line->objectives[*k];
    if (line->n_objectives == DECOMPTE_MAX_OBJECTIVES)
        return NULL;
    decompte_objective_t *d = &line->objectives[line->n_objectives++];
    memset(d, 0, sizeof *d);
    d->kind = kind;
    return d;
}

/* Adds the objectives of `party` for year y, pro-rated by the days of y in
 * the period, to line and exact. The written value, min and max shown are
 * those of the last year of the period that has objectives of the kind. */
static void s_year_objectives(const s_ctx_t *x, const conventions_rev_t *rev, const char *party,
                              int y, decompte_line_t *line, s_exact_t *exact)
{
    conventions_objective_t obj[DECOMPTE_MAX_OBJECTIVES];
    size_t n = conventions_objectives(rev, party, y, obj, DECOMPTE_MAX_OBJECTIVES);
    if (n > DECOMPTE_MAX_OBJECTIVES)
        n = DECOMPTE_MAX_OBJECTIVES;
    uint64_t days = s_days_in_year(&x->p, y);
    uint64_t per_day =
        S_YEAR_DEN / (uint64_t)period_days((period_date_t){y, 1, 1}, (period_date_t){y, 12, 31});
    bool written[DECOMPTE_MAX_OBJECTIVES] = {false};
    for (size_t i = 0; i < n; i++) {
        const conventions_objective_t *o = &obj[i];
        size_t k;
        decompte_objective_t *d = s_objective_of(line, o->kind, &k);
        if (!d)
            continue;
        if (!exact[k].has_unit)
            d->unit = o->unit;
        else if (d->unit != o->unit)
            d->unit = UNIT(UNSPECIFIED);
        exact[k].has_unit = true;
        if (!written[k]) {
            d->value = d->min = d->max = 0;
            written[k] = true;
        }
        d->value += o->value;
        d->min += o->min;
        d->max += o->max;
        const uint32_t bound[S_BOUNDS] = {o->value, o->min, o->max};
        bool share = o->unit == UNIT(PER_MILLE);
        exact[k].has_share = exact[k].has_share || share;
        for (int j = 0; j < S_BOUNDS; j++) {
            if (share)
                exact[k].share[j] += bound[j] * days;
            else
                exact[k].count[j] += bound[j] * days * per_day;
        }
    }
}

/* Rounds one kind's exact figures into its targets. Targets are rounded
 * half up; pro-rated bounds round outwards to whole dwellings (the minimum
 * down, the maximum up): a dwelling is not divisible, so a short period
 * must not turn a yearly maximum of 2 (0.49 on a quarter) into 0 and flag
 * its one placement as over it. */
static void s_objective_round(const s_ctx_t *x, const s_exact_t *e, const decompte_tally_t *t,
                              decompte_objective_t *d)
{
    static const s_rounding_t how[S_BOUNDS] = {S_HALF_UP, S_DOWN, S_UP};
    bool of_placements = d->kind == KIND(GESTION_PARTENARIALE) || d->kind == KIND(GESTION_DELEGUEE);
    uint32_t base = of_placements ? t->counts[DECOMPTE_OFFICIAL] : t->freed;
    uint64_t share_den = 1000 * (uint64_t)period_days(x->p.from, x->p.to);
    uint32_t *target[S_BOUNDS] = {&d->target, &d->target_min, &d->target_max};
    for (int j = 0; j < S_BOUNDS; j++)
        *target[j] = s_round(e->count[j], 1, S_YEAR_DEN, how[j]) +
                     s_round(e->share[j], base, share_den, how[j]);
    if (e->has_share)
        d->base = base;
}

static void s_objective_status(decompte_objective_t *d, const decompte_tally_t *t)
{
    d->done = s_done_for(d->kind, t);
    d->remaining = (int32_t)((int64_t)d->target - (int64_t)d->done);
    if (d->max && d->done > d->target_max)
        d->status = "above_max";
    else if (d->done >= d->target)
        d->status = "reached";
    else if (d->min && d->done < d->target_min)
        d->status = "below_min";
    else
        d->status = "in_progress";
}

/* Fills line->objectives from the revision's objectives of `party`, year by
 * year of the period: each year's objectives pro-rated by its days in the
 * period, and only for the convention's own year when it names one. */
static void s_line_objectives(const s_ctx_t *x, const conventions_rev_t *rev, const char *party,
                              decompte_line_t *line)
{
    s_exact_t exact[DECOMPTE_MAX_OBJECTIVES];
    memset(exact, 0, sizeof exact);
    line->n_objectives = 0;
    for (int y = x->p.from.year; y <= x->p.to.year; y++)
        if (rev->year == 0 || (int)rev->year == y)
            s_year_objectives(x, rev, party, y, line, exact);
    for (size_t k = 0; k < line->n_objectives; k++) {
        s_objective_round(x, &exact[k], &line->tally, &line->objectives[k]);
        s_objective_status(&line->objectives[k], &line->tally);
    }
}

/* ---- conventions, lines, rows ------------------------------------------------------ */

static bool s_party_wanted(const s_ctx_t *x, const char *party)
{
    return !x->q->reservataire || strcmp(x->q->reservataire, party) == 0;
}

static decompte_line_t *s_line_add(decompte_convention_t *item, const char *party,
                                   const char *insee)
{
    for (size_t i = 0; i < item->n_lines; i++)
        if (strcmp(item->lines[i].party, party) == 0)
            return &item->lines[i];
    decompte_line_t *lines = realloc(item->lines, (item->n_lines + 1) * sizeof *lines);
    if (!lines)
        return NULL;
    item->lines = lines;
    decompte_line_t *l = &lines[item->n_lines++];
    memset(l, 0, sizeof *l);
    snprintf(l->party, sizeof l->party, "%s", party);
    snprintf(l->commune_insee, sizeof l->commune_insee, "%s", insee ? insee : "");
    return l;
}

/* Does convention i concern the period (its year, or any activity)? */
static bool s_convention_wanted(const s_ctx_t *x, size_t i)
{
    const conventions_t *set = x->out->conventions;
    const char *id = conventions_id(set, i);
    bool party = !x->q->reservataire;
    bool year = false;
    for (size_t k = 0; k < conventions_revision_count(set, i); k++) {
        const conventions_rev_t *r = conventions_revision(set, i, k);
        year = year || r->year == 0 || (r->year >= x->p.from.year && r->year <= x->p.to.year);
        party = party || conventions_is_party(r, x->q->reservataire, x->p.to.year);
    }
    if (!party)
        return false;
    for (size_t k = 0; !year && k < x->n_pairs; k++) {
        const s_pair_t *p = &x->pairs[k];
        year = p->convention && strcmp(p->convention, id) == 0 && p->first_oriented != S_NONE &&
               p->first_oriented < x->p.end_ms;
    }
    return year;
}

/* The convention's own lines: its réservataire, or one per commune sheet of
 * the period's year. */
static bool s_item_lines(const s_ctx_t *x, decompte_convention_t *item)
{
    const conventions_rev_t *rev = item->rev;
    if (!conventions_multipartite(rev))
        return !s_party_wanted(x, rev->reservataire_actor_id) ||
               s_line_add(item, rev->reservataire_actor_id, NULL);
    for (size_t s = 0; s < rev->n_commune_sheets; s++) {
        const Fluxbus__V1__CommuneSheet *sheet = rev->commune_sheets[s];
        if ((sheet->year ? sheet->year : rev->year) == x->p.to.year &&
            s_party_wanted(x, sheet->commune_actor_id) &&
            !s_line_add(item, sheet->commune_actor_id, sheet->commune_insee))
            return false;
    }
    return true;
}

/* Is vacancy v, freed in the period, in the scope of `party` (NULL: the
 * whole convention) of item? *hors tells whether the convention leaves it
 * out of its flux (judged with the revision in force when it was freed). */
static bool s_freed_in_scope(const s_ctx_t *x, const decompte_convention_t *item, long ci,
                             const char *party, const s_vacancy_t *v, bool *hors)
{
    const conventions_rev_t *rev = item->rev;
    if (!v->freed_ms || !s_in(x, v->freed_ms))
        return false;
    if (*rev->bailleur_actor_id && strcmp(v->bailleur, rev->bailleur_actor_id) != 0)
        return false;
    if (!conventions_covers(rev, party, x->p.to.year, v->commune))
        return false;
    *hors = conventions_excludes(s_rev_at((s_conv_t){x->out->conventions, ci}, v->freed_ms),
                                 v->mode, v->motif);
    return true;
}

/* Dwellings freed in the period in the scope of `party` (NULL: the whole
 * convention), in the flux or not. */
static void s_freed(const s_ctx_t *x, const decompte_convention_t *item, long ci, const char *party,
                    decompte_tally_t *t)
{
    for (size_t i = 0; i < x->n_vac; i++) {
        bool hors;
        if (s_freed_in_scope(x, item, ci, party, &x->vac[i], &hors))
            *(hors ? &t->hors_flux : &t->freed) += 1;
    }
}

static decompte_row_t *s_row(decompte_row_t **rows, size_t *n, const char *key)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*rows)[i].key, key) == 0)
            return &(*rows)[i];
    if (!s_grow((void **)rows, *n, sizeof **rows))
        return NULL;
    decompte_row_t *r = &(*rows)[(*n)++];
    memset(r, 0, sizeof *r);
    snprintf(r->key, sizeof r->key, "%s", key);
    return r;
}

static bool s_build_items(s_ctx_t *x)
{
    decompte_t *out = x->out;
    size_t n = conventions_size(out->conventions);
    out->items = calloc(n ? n : 1, sizeof *out->items);
    if (!out->items)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!s_convention_wanted(x, i))
            continue;
        decompte_convention_t *item = &out->items[out->n_items++];
        item->rev = conventions_at(out->conventions, i, x->p.end_ms - 1);
        if (!s_item_lines(x, item))
            return false;
    }
    return true;
}

static decompte_convention_t *s_item_of(const s_ctx_t *x, const char *convention, long *ci)
{
    *ci = convention ? conventions_find(x->out->conventions, convention) : -1;
    for (size_t k = 0; *ci >= 0 && k < x->out->n_items; k++)
        if (strcmp(x->out->items[k].rev->convention_id, convention) == 0)
            return &x->out->items[k];
    return NULL;
}

/* Counts every pair into its line, its réservataire's row, its commune's row. */
static bool s_count_all(s_ctx_t *x)
{
    decompte_t *out = x->out;
    for (size_t k = 0; k < x->n_pairs; k++) {
        const s_pair_t *p = &x->pairs[k];
        if (!s_party_wanted(x, p->party))
            continue;
        long ci;
        decompte_convention_t *item = s_item_of(x, p->convention, &ci);
        decompte_tally_t t = {0};
        s_count_pair(x, (s_conv_t){out->conventions, ci}, p, &t);
        decompte_row_t *r = s_row(&out->reservataires, &out->n_reservataires, p->party);
        decompte_row_t *c = s_row(&out->communes, &out->n_communes, p->v ? p->v->commune : "");
        decompte_line_t *l = item ? s_line_add(item, p->party, NULL) : NULL;
        if (!r || !c || (item && !l))
            return false;
        s_tally_add(&r->tally, &t);
        s_tally_add(&c->tally, &t);
        if (l)
            s_tally_add(&l->tally, &t);
    }
    return true;
}

/* Bases, totals and objectives of every convention line; the réservataires'
 * targets. */
static void s_finish_items(s_ctx_t *x)
{
    decompte_t *out = x->out;
    for (size_t k = 0; k < out->n_items; k++) {
        decompte_convention_t *item = &out->items[k];
        long ci = conventions_find(out->conventions, item->rev->convention_id);
        memset(&item->total, 0, sizeof item->total);
        snprintf(item->total.party, sizeof item->total.party, "%s",
                 item->rev->reservataire_actor_id);
        for (size_t i = 0; i < item->n_lines; i++) {
            decompte_line_t *l = &item->lines[i];
            l->tally.freed = l->tally.hors_flux = 0;
            s_freed(x, item, ci, l->party, &l->tally);
            s_tally_add(&item->total.tally, &l->tally);
            s_line_objectives(x, item->rev, l->party, l);
            for (size_t j = 0; j < l->n_objectives; j++) {
                decompte_row_t *r = s_row(&out->reservataires, &out->n_reservataires, l->party);
                if (r && l->objectives[j].kind == KIND(PLACEMENTS)) {
                    r->target += l->objectives[j].target;
                    r->has_target = true;
                }
            }
        }
        item->total.tally.freed = item->total.tally.hors_flux = 0;
        s_freed(x, item, ci, NULL, &item->total.tally);
        /* The whole convention's objectives apply only to all its parties. */
        if (!x->q->reservataire || !conventions_multipartite(item->rev))
            s_line_objectives(x, item->rev, NULL, &item->total);
    }
}

/* Vacancy v's place in réservataire r's scope: 0 outside every line of r,
 * 1 hors flux in all of them, 2 in the flux of one at least. */
static int s_reservataire_scope(const s_ctx_t *x, const decompte_row_t *r, const s_vacancy_t *v)
{
    int best = 0;
    for (size_t k = 0; best < 2 && k < x->out->n_items; k++) {
        const decompte_convention_t *item = &x->out->items[k];
        long ci = conventions_find(x->out->conventions, item->rev->convention_id);
        for (size_t i = 0; best < 2 && i < item->n_lines; i++) {
            bool hors;
            if (strcmp(item->lines[i].party, r->key) == 0 &&
                s_freed_in_scope(x, item, ci, item->lines[i].party, v, &hors))
                best = hors ? (best ? best : 1) : 2;
        }
    }
    return best;
}

/* The réservataires' dwellings freed: each dwelling freed in the period in
 * the scope of one of its convention lines, once even when several lines
 * cover it; in the flux when one of them counts it in. */
static void s_reservataires_freed(s_ctx_t *x)
{
    for (size_t k = 0; k < x->out->n_reservataires; k++) {
        decompte_row_t *r = &x->out->reservataires[k];
        r->tally.freed = r->tally.hors_flux = 0;
        for (size_t i = 0; i < x->n_vac; i++) {
            int scope = s_reservataire_scope(x, r, &x->vac[i]);
            r->tally.freed += scope == 2;
            r->tally.hors_flux += scope == 1;
        }
    }
}

/* Dwellings freed per commune (the rows' freed and hors_flux). */
static bool s_commune_freed(s_ctx_t *x)
{
    for (size_t i = 0; i < x->n_vac; i++) {
        const s_vacancy_t *v = &x->vac[i];
        if (!v->freed_ms || !s_in(x, v->freed_ms))
            continue;
        decompte_row_t *r = s_row(&x->out->communes, &x->out->n_communes, v->commune);
        if (!r)
            return false;
        if (conventions_excludes(&s_default_rev, v->mode, v->motif))
            r->tally.hors_flux++;
        else
            r->tally.freed++;
    }
    return true;
}

static uint32_t s_per_mille(uint32_t part, uint32_t whole)
{
    return whole ? s_scale(part, 1000, whole) : 0;
}

/* Each réservataire's share of the hard-to-let dwellings against its share
 * of all orientations in the period. */
static bool s_fairness(s_ctx_t *x)
{
    decompte_t *out = x->out;
    decompte_row_t *rows = NULL;
    size_t n = 0;
    for (size_t k = 0; k < x->n_pairs; k++) {
        const s_pair_t *p = &x->pairs[k];
        if (!p->oriented_in)
            continue;
        decompte_row_t *r = s_row(&rows, &n, p->party);
        if (!r) {
            free(rows);
            return false;
        }
        bool hard = p->v && p->v->refusals >= out->hard_to_let_threshold;
        r->tally.orientations++;
        r->tally.refusals += hard; /* the row's refusals field counts hard-to-let here */
        out->fairness_orientations++;
        out->fairness_hard_to_let += hard;
    }
    out->fairness = calloc(n ? n : 1, sizeof *out->fairness);
    for (size_t i = 0; out->fairness && i < n; i++) {
        if (!s_party_wanted(x, rows[i].key))
            continue;
        decompte_fairness_t *f = &out->fairness[out->n_fairness++];
        snprintf(f->reservataire, sizeof f->reservataire, "%s", rows[i].key);
        f->orientations = rows[i].tally.orientations;
        f->hard_to_let = rows[i].tally.refusals;
        f->orientation_share_pm = s_per_mille(f->orientations, out->fairness_orientations);
        f->hard_to_let_share_pm = s_per_mille(f->hard_to_let, out->fairness_hard_to_let);
    }
    free(rows);
    return out->fairness != NULL;
}

static int s_cmp_row(const void *a, const void *b)
{
    return strcmp(((const decompte_row_t *)a)->key, ((const decompte_row_t *)b)->key);
}

static int s_cmp_fairness(const void *a, const void *b)
{
    return strcmp(((const decompte_fairness_t *)a)->reservataire,
                  ((const decompte_fairness_t *)b)->reservataire);
}

static void s_ctx_free(s_ctx_t *x)
{
    for (size_t i = 0; i < x->n_vac; i++) {
        free(x->vac[i].id);
        free(x->vac[i].bailleur);
        free(x->vac[i].commune);
    }
    for (size_t i = 0; i < x->n_pairs; i++) {
        free(x->pairs[i].vacancy);
        free(x->pairs[i].party);
        free(x->pairs[i].convention);
    }
    free(x->vac);
    free(x->pairs);
}

decompte_t *decompte_run(sqlite3 *db, const decompte_query_t *q, char *err, size_t errlen)
{
    s_ctx_t x = {.db = db, .q = q, .p = q->period, .err = err, .errlen = errlen};
    x.out = calloc(1, sizeof *x.out);
    if (!x.out) {
        snprintf(err, errlen, "décompte: out of memory");
        return NULL;
    }
    x.out->period = q->period;
    x.out->hard_to_let_threshold =
        q->hard_to_let_threshold ? q->hard_to_let_threshold : DECOMPTE_DEFAULT_HARD_TO_LET;
    x.out->conventions = conventions_load(db, q->bailleur, err, errlen);
    bool ok = x.out->conventions && s_load_vacancies(&x) && s_load_pairs(&x) &&
              s_load_orientations(&x) && s_load_events(&x) && s_load_candidates(&x);
    if (ok && !(s_build_items(&x) && s_count_all(&x) && s_commune_freed(&x) && s_fairness(&x))) {
        snprintf(err, errlen, "décompte: out of memory");
        ok = false;
    }
    if (ok) {
        s_finish_items(&x);
        s_reservataires_freed(&x);
        /* qsort of an empty (NULL) array is undefined: the sanitizers abort. */
        if (x.out->n_reservataires)
            qsort(x.out->reservataires, x.out->n_reservataires, sizeof(decompte_row_t), s_cmp_row);
        if (x.out->n_communes)
            qsort(x.out->communes, x.out->n_communes, sizeof(decompte_row_t), s_cmp_row);
        if (x.out->n_fairness)
            qsort(x.out->fairness, x.out->n_fairness, sizeof(decompte_fairness_t), s_cmp_fairness);
    }
    s_ctx_free(&x);
    if (!ok)
        decompte_destroy(&x.out);
    return x.out;
}

void decompte_destroy(decompte_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    decompte_t *self = *self_p;
    for (size_t i = 0; i < self->n_items; i++)
        free(self->items[i].lines);
    free(self->items);
    free(self->reservataires);
    free(self->communes);
    free(self->fairness);
    conventions_destroy(&self->conventions);
    free(self);
    *self_p = NULL;
}

/* ---- month by month ------------------------------------------------------------------- */

/* The last day of month m of year y. */
static int s_last_day(int y, int m)
{
    int d = 31;
    while (d > 28 && !period_date_valid((period_date_t){y, m, d}))
        d--;
    return d;
}

/* Month i of the period (0: the first it touches), clipped to it. */
static period_t s_month_of(const period_t *p, int i, int *year, int *month)
{
    int index = p->from.year * 12 + p->from.month - 1 + i;
    *year = index / 12;
    *month = index % 12 + 1;
    period_date_t from = {*year, *month, 1}, to = {*year, *month, s_last_day(*year, *month)};
    if (i == 0)
        from = p->from;
    if (*year == p->to.year && *month == p->to.month)
        to = p->to;
    period_t out;
    period_make(from, to, &out);
    return out;
}

decompte_month_t *decompte_months(sqlite3 *db, const decompte_query_t *q, size_t *n, char *err,
                                  size_t errlen)
{
    const period_t *p = &q->period;
    size_t count = (size_t)((p->to.year - p->from.year) * 12 + p->to.month - p->from.month + 1);
    decompte_month_t *months = calloc(count, sizeof *months);
    if (!months) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        decompte_query_t mq = *q;
        mq.period = s_month_of(p, (int)i, &months[i].year, &months[i].month);
        decompte_t *d = decompte_run(db, &mq, err, errlen);
        if (!d) {
            free(months);
            return NULL;
        }
        for (size_t k = 0; k < d->n_reservataires; k++)
            s_tally_add(&months[i].tally, &d->reservataires[k].tally);
        decompte_destroy(&d);
    }
    *n = count;
    return months;
}
