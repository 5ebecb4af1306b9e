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

#include "fluxbus/fnv.h"
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

/* Where each row of a row array is, by its key: open addressing with
 * linear probing, each slot the row's position + 1 (0: empty), at most
 * half full. Without it, finding a row among thousands of communes for
 * each of a hundred thousand pairs took seconds. */
typedef struct {
    size_t *slot;
    size_t cap; /* a power of two, or 0 before the first row */
} s_index_t;

typedef struct {
    sqlite3 *db;
    const decompte_query_t *q;
    period_t p;
    s_vacancy_t *vac;
    size_t n_vac;
    s_pair_t *pairs;
    size_t n_pairs;
    const char *lo, *hi; /* the chunk of vacancy ids [lo, hi] read (decompte_lines); NULL: all */
    decompte_t *out;
    s_index_t reservataires, communes; /* of out's rows */
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

/* A loader's SQL reads every vacancy's facts (sql[0]) or those of the
 * chunk [?2, ?3] of vacancy ids (sql[1]: the same with S_IN_CHUNK on each
 * table read, so that each uses its index on the vacancy id). */
#define S_ALL(column) ""
#define S_IN_CHUNK(column) " AND " column " >= ?2 AND " column " <= ?3"
/* clang-format off */
#define S_BOTH(sql) {sql(S_ALL), sql(S_IN_CHUNK)}
/* clang-format on */

/* Prepares the loader's SQL for the context (all, or its chunk bound as ?2
 * and ?3) and binds the bailleur filter as ?1 (NULL: all). */
static sqlite3_stmt *s_prepare(s_ctx_t *x, const char *const sql[2])
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->db, sql[x->lo != NULL], -1, &st, NULL) != SQLITE_OK) {
        snprintf(x->err, x->errlen, "décompte: %s", sqlite3_errmsg(x->db));
        return NULL;
    }
    if (x->q->bailleur)
        sqlite3_bind_text(st, 1, x->q->bailleur, -1, SQLITE_TRANSIENT);
    if (x->lo) {
        sqlite3_bind_text(st, 2, x->lo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, x->hi, -1, SQLITE_STATIC);
    }
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

#define S_SQL_VACANCIES(in_chunk)                                                                  \
    "SELECT vacancy_id, bailleur, commune_insee, mode_gestion, hors_flux_motif, freed_ms,"         \
    " refusals FROM ledger_vacancies WHERE (?1 IS NULL OR bailleur = ?1)" in_chunk(                \
        "vacancy_id") " ORDER BY vacancy_id"

/* The row of S_SQL_VACANCIES's columns into v, its strings borrowed from
 * the statement ("" for NULL) until its next step. */
static void s_vacancy_read(sqlite3_stmt *st, s_vacancy_t *v)
{
    char *text[3];
    for (int i = 0; i < 3; i++) {
        const unsigned char *t = sqlite3_column_text(st, i);
        text[i] = t ? (char *)t : "";
    }
    v->id = text[0];
    v->bailleur = text[1];
    v->commune = text[2];
    v->mode = sqlite3_column_int(st, 3);
    v->motif = sqlite3_column_int(st, 4);
    v->freed_ms = sqlite3_column_int64(st, 5);
    v->refusals = (uint32_t)sqlite3_column_int(st, 6);
}

static bool s_load_vacancies(s_ctx_t *x)
{
    static const char *const sql[2] = S_BOTH(S_SQL_VACANCIES);
    sqlite3_stmt *st = s_prepare(x, sql);
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
        s_vacancy_read(st, v);
        v->id = strdup(v->id);
        v->bailleur = strdup(v->bailleur);
        v->commune = strdup(v->commune);
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

/* The pairs: (vacancy, réservataire) of the orientations, the credited
 * candidates and the acks, declines and remises. */
#define S_PAIRS_ORIENTED(in_chunk)                                                                 \
    " SELECT vacancy_id, reservataire AS party FROM ledger_orientations WHERE 1" in_chunk(         \
        "vacancy_id")
#define S_PAIRS_CREDITED(in_chunk)                                                                 \
    " SELECT vacancy_id, credited FROM ledger_candidates"                                          \
    " WHERE credited IS NOT NULL AND credited <> ''" in_chunk("vacancy_id")
#define S_PAIRS_ANSWERED(in_chunk)                                                                 \
    " SELECT vacancy_id, sender FROM ledger_events WHERE type IN (3, 4, 6)" in_chunk("vacancy_id")
/* clang-format off */
#define S_SQL_PAIRS(in_chunk)                                                 \
    "SELECT p.vacancy_id, p.party FROM ("                                     \
    S_PAIRS_ORIENTED(in_chunk) " UNION" S_PAIRS_CREDITED(in_chunk)            \
    " UNION" S_PAIRS_ANSWERED(in_chunk) ") p"                                 \
    " JOIN ledger_vacancies v ON v.vacancy_id = p.vacancy_id"                 \
    " WHERE (?1 IS NULL OR v.bailleur = ?1) ORDER BY p.vacancy_id, p.party"
/* clang-format on */

static bool s_load_pairs(s_ctx_t *x)
{
    static const char *const sql[2] = S_BOTH(S_SQL_PAIRS);
    sqlite3_stmt *st = s_prepare(x, sql);
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

#define S_SQL_ORIENTATIONS(in_chunk)                                                               \
    "SELECT o.vacancy_id, o.reservataire, o.round, o.convention_id, o.oriented_ms,"                \
    " o.status, o.status_ms, o.expired_ms FROM ledger_orientations o"                              \
    " JOIN ledger_vacancies v ON v.vacancy_id = o.vacancy_id"                                      \
    " WHERE (?1 IS NULL OR v.bailleur = ?1)" in_chunk(                                             \
        "o.vacancy_id") " ORDER BY o.vacancy_id, o.reservataire, o.round"

/* Orientation rounds, in round order per pair. */
static bool s_load_orientations(s_ctx_t *x)
{
    static const char *const sql[2] = S_BOTH(S_SQL_ORIENTATIONS);
    sqlite3_stmt *st = s_prepare(x, sql);
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

#define S_SQL_EVENTS(in_chunk)                                                                     \
    "SELECT e.vacancy_id, e.sender, e.type, e.at_ms FROM ledger_events e"                          \
    " JOIN ledger_vacancies v ON v.vacancy_id = e.vacancy_id"                                      \
    " WHERE e.type IN (3, 4, 6) AND (?1 IS NULL OR v.bailleur = ?1)" in_chunk(                     \
        "e.vacancy_id") " ORDER BY e.seq"

/* Acks, declines and remises, from the party itself. */
static bool s_load_events(s_ctx_t *x)
{
    static const char *const sql[2] = S_BOTH(S_SQL_EVENTS);
    sqlite3_stmt *st = s_prepare(x, sql);
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

#define S_SQL_CANDIDATES(in_chunk)                                                                 \
    "SELECT c.vacancy_id, c.credited, c.convention_id, c.designating, c.gestion_deleguee,"         \
    " c.designated_ms, c.visited_ms, c.decision, c.decided_ms, c.condition_state,"                 \
    " c.answer, c.answered_ms, c.non_suite_ms, c.lease_ms, c.dalo, c.pdalhpd"                      \
    " FROM ledger_candidates c"                                                                    \
    " JOIN ledger_vacancies v ON v.vacancy_id = c.vacancy_id"                                      \
    " WHERE c.credited IS NOT NULL AND (?1 IS NULL OR v.bailleur = ?1)" in_chunk("c.vacancy_id")

static bool s_load_candidates(s_ctx_t *x)
{
    static const char *const sql[2] = S_BOTH(S_SQL_CANDIDATES);
    sqlite3_stmt *st = s_prepare(x, sql);
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

/* What convention i's revisions say: *year when one is for the period's
 * years (or for none), *party when the query's réservataire (if any) is a
 * party of one. */
static void s_convention_terms(const s_ctx_t *x, size_t i, bool *year, bool *party)
{
    const conventions_t *set = x->out->conventions;
    *party = !x->q->reservataire;
    *year = false;
    for (size_t k = 0; k < conventions_revision_count(set, i); k++) {
        const conventions_rev_t *r = conventions_revision(set, i, k);
        *year = *year || r->year == 0 || (r->year >= x->p.from.year && r->year <= x->p.to.year);
        *party = *party || conventions_is_party(r, x->q->reservataire, x->p.to.year);
    }
}

/* Was pair p first oriented before the period's end? */
static bool s_oriented_by_end(const s_ctx_t *x, const s_pair_t *p)
{
    return p->first_oriented != S_NONE && p->first_oriented < x->p.end_ms;
}

/* Is pair p one of convention `id`'s, oriented before the period's end? */
static bool s_pair_oriented_under(const s_ctx_t *x, const s_pair_t *p, const char *id)
{
    return p->convention && strcmp(p->convention, id) == 0 && s_oriented_by_end(x, p);
}

/* Does convention i concern the period (its year, or any activity)? */
static bool s_convention_wanted(const s_ctx_t *x, size_t i)
{
    const char *id = conventions_id(x->out->conventions, i);
    bool year, party;
    s_convention_terms(x, i, &year, &party);
    if (!party)
        return false;
    for (size_t k = 0; !year && k < x->n_pairs; k++)
        year = s_pair_oriented_under(x, &x->pairs[k], id);
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

/* The slot of key in ix: its row's, or the empty one where it goes. */
static size_t *s_slot(const s_index_t *ix, const decompte_row_t *rows, const char *key)
{
    size_t mask = ix->cap - 1, j = (size_t)fb_fnv1a64_str(FB_FNV1A64_START, key) & mask;
    while (ix->slot[j] && strcmp(rows[ix->slot[j] - 1].key, key) != 0)
        j = (j + 1) & mask;
    return &ix->slot[j];
}

/* Room in ix for one row more than the n of rows: doubles and refills it
 * when it would be over half full. */
static bool s_index_room(s_index_t *ix, const decompte_row_t *rows, size_t n)
{
    if (2 * (n + 1) <= ix->cap)
        return true;
    size_t cap = ix->cap ? 2 * ix->cap : 64;
    size_t *slot = calloc(cap, sizeof *slot);
    if (!slot)
        return false;
    free(ix->slot);
    ix->slot = slot;
    ix->cap = cap;
    for (size_t i = 0; i < n; i++)
        *s_slot(ix, rows, rows[i].key) = i + 1;
    return true;
}

static void s_index_free(s_index_t *ix)
{
    free(ix->slot);
    ix->slot = NULL;
    ix->cap = 0;
}

/* The row of key in rows (indexed by ix), added at the end when there is
 * none yet. NULL when out of memory. */
static decompte_row_t *s_row(decompte_row_t **rows, size_t *n, s_index_t *ix, const char *key)
{
    if (!s_index_room(ix, *rows, *n))
        return NULL;
    size_t *slot = s_slot(ix, *rows, key);
    if (*slot)
        return &(*rows)[*slot - 1];
    if (!s_grow((void **)rows, *n, sizeof **rows))
        return NULL;
    decompte_row_t *r = &(*rows)[(*n)++];
    memset(r, 0, sizeof *r);
    snprintf(r->key, sizeof r->key, "%s", key);
    *slot = *n;
    return r;
}

/* Item of convention i: its revision in force at the period's end, its
 * own lines. */
static bool s_item_init(const s_ctx_t *x, size_t i, decompte_convention_t *item)
{
    item->rev = conventions_at(x->out->conventions, i, x->p.end_ms - 1);
    return s_item_lines(x, item);
}

static bool s_build_items(s_ctx_t *x)
{
    decompte_t *out = x->out;
    size_t n = conventions_size(out->conventions);
    out->items = calloc(n ? n : 1, sizeof *out->items);
    if (!out->items)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s_convention_wanted(x, i) && !s_item_init(x, i, &out->items[out->n_items++]))
            return false;
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
        decompte_row_t *r =
            s_row(&out->reservataires, &out->n_reservataires, &x->reservataires, p->party);
        decompte_row_t *c =
            s_row(&out->communes, &out->n_communes, &x->communes, p->v ? p->v->commune : "");
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

/* The total of item (every line but for its own freed and hors_flux, which
 * it holds already) and the objectives of each line and of the total; with
 * rows, each line's targets go to its réservataire's row. */
static void s_item_finish(s_ctx_t *x, decompte_convention_t *item, bool rows)
{
    decompte_t *out = x->out;
    uint32_t freed = item->total.tally.freed, hors = item->total.tally.hors_flux;
    memset(&item->total, 0, sizeof item->total);
    snprintf(item->total.party, sizeof item->total.party, "%s", item->rev->reservataire_actor_id);
    for (size_t i = 0; i < item->n_lines; i++) {
        decompte_line_t *l = &item->lines[i];
        s_tally_add(&item->total.tally, &l->tally);
        s_line_objectives(x, item->rev, l->party, l);
        for (size_t j = 0; rows && j < l->n_objectives; j++) {
            decompte_row_t *r =
                s_row(&out->reservataires, &out->n_reservataires, &x->reservataires, l->party);
            if (r && l->objectives[j].kind == KIND(PLACEMENTS)) {
                r->target += l->objectives[j].target;
                r->has_target = true;
            }
        }
    }
    item->total.tally.freed = freed;
    item->total.tally.hors_flux = hors;
    /* The whole convention's objectives apply only to all its parties. */
    if (!x->q->reservataire || !conventions_multipartite(item->rev))
        s_line_objectives(x, item->rev, NULL, &item->total);
}

/* Bases, totals and objectives of every convention line; the réservataires'
 * targets. */
static void s_finish_items(s_ctx_t *x)
{
    decompte_t *out = x->out;
    for (size_t k = 0; k < out->n_items; k++) {
        decompte_convention_t *item = &out->items[k];
        long ci = conventions_find(out->conventions, item->rev->convention_id);
        for (size_t i = 0; i < item->n_lines; i++) {
            decompte_line_t *l = &item->lines[i];
            l->tally.freed = l->tally.hors_flux = 0;
            s_freed(x, item, ci, l->party, &l->tally);
        }
        item->total.tally.freed = item->total.tally.hors_flux = 0;
        s_freed(x, item, ci, NULL, &item->total.tally);
        s_item_finish(x, item, true);
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
        decompte_row_t *r = s_row(&x->out->communes, &x->out->n_communes, &x->communes, v->commune);
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
    s_index_t ix = {0};
    for (size_t k = 0; k < x->n_pairs; k++) {
        const s_pair_t *p = &x->pairs[k];
        if (!p->oriented_in)
            continue;
        decompte_row_t *r = s_row(&rows, &n, &ix, p->party);
        if (!r) {
            free(rows);
            s_index_free(&ix);
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
    s_index_free(&ix);
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

/* Frees the vacancies and pairs read and the rows' indexes (the context
 * can read more). */
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
    x->vac = NULL;
    x->pairs = NULL;
    x->n_vac = x->n_pairs = 0;
    s_index_free(&x->reservataires);
    s_index_free(&x->communes);
}

static bool s_oom(s_ctx_t *x)
{
    snprintf(x->err, x->errlen, "décompte: out of memory");
    return false;
}

/* The result for q, with its conventions loaded; NULL with a reason in err. */
static decompte_t *s_out_new(sqlite3 *db, const decompte_query_t *q, char *err, size_t errlen)
{
    decompte_t *out = calloc(1, sizeof *out);
    if (!out) {
        snprintf(err, errlen, "décompte: out of memory");
        return NULL;
    }
    out->period = q->period;
    out->hard_to_let_threshold =
        q->hard_to_let_threshold ? q->hard_to_let_threshold : DECOMPTE_DEFAULT_HARD_TO_LET;
    out->conventions = conventions_load(db, q->bailleur, err, errlen);
    if (!out->conventions)
        decompte_destroy(&out);
    return out;
}

/* Every fact of the context's vacancies (all, or its chunk). */
static bool s_load_facts(s_ctx_t *x)
{
    return s_load_vacancies(x) && s_load_pairs(x) && s_load_orientations(x) && s_load_events(x) &&
           s_load_candidates(x);
}

decompte_t *decompte_run(sqlite3 *db, const decompte_query_t *q, char *err, size_t errlen)
{
    s_ctx_t x = {.db = db, .q = q, .p = q->period, .err = err, .errlen = errlen};
    x.out = s_out_new(db, q, err, errlen);
    if (!x.out)
        return NULL;
    bool ok = s_load_facts(&x);
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

/* ---- the lines alone, chunk by chunk (decompte_lines) ------------------------------- */

/* Every convention's item while the chunks are read (in convention order),
 * and whether a pair of it was oriented before the period's end (the
 * activity part of s_convention_wanted). */
typedef struct {
    decompte_convention_t *items;
    bool *oriented;
    size_t n;
} s_all_t;

static void s_all_free(s_all_t *all)
{
    for (size_t i = 0; all->items && i < all->n; i++)
        free(all->items[i].lines);
    free(all->items);
    free(all->oriented);
}

static bool s_all_init(s_ctx_t *x, s_all_t *all)
{
    all->n = conventions_size(x->out->conventions);
    all->items = calloc(all->n ? all->n : 1, sizeof *all->items);
    all->oriented = calloc(all->n ? all->n : 1, sizeof *all->oriented);
    if (!all->items || !all->oriented)
        return false;
    for (size_t i = 0; i < all->n; i++)
        if (!s_item_init(x, i, &all->items[i]))
            return false;
    return true;
}

/* The chunk's pairs into their conventions' lines, as s_count_all counts
 * them into the items (a pair of a convention not kept in the end is
 * counted into lines that are dropped). */
static bool s_count_chunk(s_ctx_t *x, s_all_t *all)
{
    for (size_t k = 0; k < x->n_pairs; k++) {
        const s_pair_t *p = &x->pairs[k];
        long ci = p->convention ? conventions_find(x->out->conventions, p->convention) : -1;
        if (ci < 0)
            continue;
        all->oriented[ci] = all->oriented[ci] || s_oriented_by_end(x, p);
        if (!s_party_wanted(x, p->party))
            continue;
        decompte_tally_t t = {0};
        s_count_pair(x, (s_conv_t){x->out->conventions, ci}, p, &t);
        decompte_line_t *l = s_line_add(&all->items[ci], p->party, NULL);
        if (!l)
            return s_oom(x);
        s_tally_add(&l->tally, &t);
    }
    return true;
}

/* The chunk after [*lo, *hi] (the first when *hi is NULL): the first and
 * last of the next n vacancy ids, into *lo and *hi (owned; replaced).
 * *more is false when none is left. */
static bool s_next_chunk(s_ctx_t *x, size_t n, char **lo, char **hi, bool *more)
{
    static const char *const sql[2] = {
        "SELECT min(vacancy_id), max(vacancy_id) FROM (SELECT vacancy_id FROM ledger_vacancies"
        " ORDER BY vacancy_id LIMIT ?1)",
        "SELECT min(vacancy_id), max(vacancy_id) FROM (SELECT vacancy_id FROM ledger_vacancies"
        " WHERE vacancy_id > ?2 ORDER BY vacancy_id LIMIT ?1)"};
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->db, sql[*hi != NULL], -1, &st, NULL) != SQLITE_OK)
        return s_done(x, st, SQLITE_ERROR);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)n);
    if (*hi)
        sqlite3_bind_text(st, 2, *hi, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    *more = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
    if (*more) {
        free(*lo);
        free(*hi);
        *lo = s_dup(sqlite3_column_text(st, 0));
        *hi = s_dup(sqlite3_column_text(st, 1));
        if (!*lo || !*hi) {
            sqlite3_finalize(st);
            return s_oom(x);
        }
    }
    return s_done(x, st, rc == SQLITE_ROW ? SQLITE_DONE : rc);
}

/* Reads the facts chunk by chunk, counting each chunk's pairs. */
static bool s_read_chunks(s_ctx_t *x, s_all_t *all, size_t chunk)
{
    char *lo = NULL, *hi = NULL;
    bool more = true, ok = true;
    while (ok && more) {
        ok = s_next_chunk(x, chunk, &lo, &hi, &more);
        if (ok && more) {
            x->lo = lo;
            x->hi = hi;
            ok = s_load_facts(x) && s_count_chunk(x, all);
            s_ctx_free(x);
        }
    }
    x->lo = x->hi = NULL;
    free(lo);
    free(hi);
    return ok;
}

/* Moves the items of the conventions concerning the period (s_convention_wanted)
 * into the result, in convention order. */
static bool s_keep_wanted(s_ctx_t *x, s_all_t *all)
{
    decompte_t *out = x->out;
    out->items = calloc(all->n ? all->n : 1, sizeof *out->items);
    if (!out->items)
        return s_oom(x);
    for (size_t i = 0; i < all->n; i++) {
        bool year, party;
        s_convention_terms(x, i, &year, &party);
        if (party && (year || all->oriented[i])) {
            out->items[out->n_items++] = all->items[i];
            all->items[i].lines = NULL;
        }
    }
    return true;
}

/* One item's lines for the dwellings freed: those with a sheet of the
 * period's year by the sheet's commune (the only one their territory
 * holds), the others apart. */
typedef struct {
    const char *insee;
    size_t line;
} s_sheet_ref_t;

typedef struct {
    decompte_convention_t *item;
    long ci;
    s_sheet_ref_t *sheets;
    size_t n_sheets;
    size_t *others;
    size_t n_others;
} s_scope_t;

static int s_cmp_sheet(const void *a, const void *b)
{
    return strcmp(((const s_sheet_ref_t *)a)->insee, ((const s_sheet_ref_t *)b)->insee);
}

static int s_cmp_scope_bailleur(const void *a, const void *b)
{
    return strcmp(((const s_scope_t *)a)->item->rev->bailleur_actor_id,
                  ((const s_scope_t *)b)->item->rev->bailleur_actor_id);
}

static bool s_scope_init(const s_ctx_t *x, decompte_convention_t *item, s_scope_t *sc)
{
    sc->item = item;
    sc->ci = conventions_find(x->out->conventions, item->rev->convention_id);
    sc->sheets = calloc(item->n_lines + 1, sizeof *sc->sheets);
    sc->others = calloc(item->n_lines + 1, sizeof *sc->others);
    if (!sc->sheets || !sc->others)
        return false;
    for (size_t i = 0; i < item->n_lines; i++) {
        const Fluxbus__V1__CommuneSheet *sheet =
            conventions_sheet(item->rev, item->lines[i].party, x->p.to.year);
        if (sheet)
            sc->sheets[sc->n_sheets++] = (s_sheet_ref_t){sheet->commune_insee, i};
        else
            sc->others[sc->n_others++] = i;
    }
    if (sc->n_sheets)
        qsort(sc->sheets, sc->n_sheets, sizeof *sc->sheets, s_cmp_sheet);
    return true;
}

static void s_count_freed(const s_ctx_t *x, const s_scope_t *sc, const char *party,
                          const s_vacancy_t *v, decompte_tally_t *t)
{
    bool hors;
    if (s_freed_in_scope(x, sc->item, sc->ci, party, v, &hors))
        *(hors ? &t->hors_flux : &t->freed) += 1;
}

/* Vacancy v (freed in the period) into the freed and hors_flux of the
 * scope's lines and total, as s_freed counts them. */
static void s_scope_add(const s_ctx_t *x, s_scope_t *sc, const s_vacancy_t *v)
{
    decompte_convention_t *item = sc->item;
    size_t lo = 0, hi = sc->n_sheets;
    while (lo < hi) { /* the first sheet of v's commune */
        size_t mid = (lo + hi) / 2;
        if (strcmp(sc->sheets[mid].insee, v->commune) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < sc->n_sheets && strcmp(sc->sheets[lo].insee, v->commune) == 0; lo++) {
        decompte_line_t *l = &item->lines[sc->sheets[lo].line];
        s_count_freed(x, sc, l->party, v, &l->tally);
    }
    for (size_t i = 0; i < sc->n_others; i++) {
        decompte_line_t *l = &item->lines[sc->others[i]];
        s_count_freed(x, sc, l->party, v, &l->tally);
    }
    s_count_freed(x, sc, NULL, v, &item->total.tally);
}

/* The vacancies freed in the period by `bailleur` ("": by anyone, within
 * the query's bailleur), each into scopes [0, n). */
static bool s_freed_of(s_ctx_t *x, const char *bailleur, s_scope_t *scopes, size_t n)
{
    static const char *const sql[2] = {
        "SELECT vacancy_id, bailleur, commune_insee, mode_gestion, hors_flux_motif, freed_ms,"
        " refusals FROM ledger_vacancies WHERE (?1 IS NULL OR bailleur = ?1)"
        " AND freed_ms >= ?2 AND freed_ms < ?3",
        "SELECT vacancy_id, bailleur, commune_insee, mode_gestion, hors_flux_motif, freed_ms,"
        " refusals FROM ledger_vacancies WHERE bailleur = ?1 AND freed_ms >= ?2 AND freed_ms < ?3"};
    bool anyone = !*bailleur;
    if (!anyone && x->q->bailleur && strcmp(bailleur, x->q->bailleur) != 0)
        return true; /* decompte_run reads only the query's bailleur's vacancies */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->db, sql[!anyone], -1, &st, NULL) != SQLITE_OK)
        return s_done(x, st, SQLITE_ERROR);
    const char *who = anyone ? x->q->bailleur : bailleur;
    if (who)
        sqlite3_bind_text(st, 1, who, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, x->p.start_ms);
    sqlite3_bind_int64(st, 3, x->p.end_ms);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        s_vacancy_t v;
        s_vacancy_read(st, &v);
        for (size_t i = 0; i < n; i++)
            s_scope_add(x, &scopes[i], &v);
    }
    return s_done(x, st, rc);
}

/* The freed and hors_flux of every line and total, as s_finish_items counts
 * them, reading only the dwellings freed in the period, bailleur by
 * bailleur. */
static bool s_lines_freed(s_ctx_t *x)
{
    decompte_t *out = x->out;
    s_scope_t *scopes = calloc(out->n_items + 1, sizeof *scopes);
    bool ok = scopes != NULL;
    for (size_t k = 0; ok && k < out->n_items; k++)
        ok = s_scope_init(x, &out->items[k], &scopes[k]);
    if (!ok)
        s_oom(x);
    else if (out->n_items)
        qsort(scopes, out->n_items, sizeof *scopes, s_cmp_scope_bailleur);
    for (size_t k = 0, end; ok && k < out->n_items; k = end) {
        const char *bailleur = scopes[k].item->rev->bailleur_actor_id;
        for (end = k;
             end < out->n_items && strcmp(scopes[end].item->rev->bailleur_actor_id, bailleur) == 0;
             end++)
            ;
        ok = s_freed_of(x, bailleur, &scopes[k], end - k);
    }
    for (size_t k = 0; scopes && k < out->n_items; k++) {
        free(scopes[k].sheets);
        free(scopes[k].others);
    }
    free(scopes);
    return ok;
}

decompte_t *decompte_lines(sqlite3 *db, const decompte_query_t *q, size_t chunk, char *err,
                           size_t errlen)
{
    s_ctx_t x = {.db = db, .q = q, .p = q->period, .err = err, .errlen = errlen};
    x.out = s_out_new(db, q, err, errlen);
    if (!x.out)
        return NULL;
    s_all_t all = {0};
    bool ok = s_all_init(&x, &all) || s_oom(&x);
    ok = ok && s_read_chunks(&x, &all, chunk ? chunk : DECOMPTE_CHUNK);
    ok = ok && s_keep_wanted(&x, &all);
    s_all_free(&all);
    ok = ok && s_lines_freed(&x);
    for (size_t k = 0; ok && k < x.out->n_items; k++)
        s_item_finish(&x, &x.out->items[k], false);
    if (!ok)
        decompte_destroy(&x.out);
    return x.out;
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
