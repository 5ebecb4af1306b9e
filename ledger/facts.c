/* facts.c - the ledger's tables and what each accepted message writes in
 * them (see facts.h). Owns the SQL of those tables; knows the payload of
 * every domain message type, nothing of who may send it (the router) or
 * whether it fits (lifecycle.c). */
#include "facts.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amendments.h"
#include "conventions.h"
#include "fluxbus/codec.h"
#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "fluxbus/v1/sne.pb-c.h"
#include "held.h"
#include "period.h"

static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS ledger_vacancies ("
    "  vacancy_id TEXT PRIMARY KEY, bailleur TEXT NOT NULL, bailleur_siren TEXT,"
    "  rpls_id TEXT, residence_id TEXT, commune_insee TEXT, epci_siren TEXT,"
    "  qpv INTEGER, qpv_map_year INTEGER, typologie INTEGER, financement INTEGER,"
    "  construction_period INTEGER, mode_gestion INTEGER, hors_flux_motif INTEGER,"
    "  freed_ms INTEGER, freed_year INTEGER, state TEXT NOT NULL, state_ms INTEGER NOT NULL,"
    "  refusals INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS ledger_orientations ("
    "  vacancy_id TEXT NOT NULL, reservataire TEXT NOT NULL, round INTEGER NOT NULL,"
    "  bailleur TEXT NOT NULL, convention_id TEXT, contingent INTEGER, deadline_ms INTEGER,"
    "  candidates_expected INTEGER, oriented_ms INTEGER NOT NULL, seq INTEGER,"
    "  status TEXT NOT NULL, status_ms INTEGER NOT NULL,"
    "  candidates INTEGER NOT NULL DEFAULT 0, expired_ms INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (vacancy_id, reservataire, round));"
    "CREATE INDEX IF NOT EXISTS ledger_orientations_deadline"
    "  ON ledger_orientations(deadline_ms) WHERE status IN ('oriente', 'acquitte');"
    "CREATE INDEX IF NOT EXISTS ledger_orientations_bailleur"
    "  ON ledger_orientations(bailleur, oriented_ms);"
    "CREATE TABLE IF NOT EXISTS ledger_candidates ("
    "  vacancy_id TEXT NOT NULL, nur TEXT NOT NULL, designating TEXT, credited TEXT,"
    "  convention_id TEXT, rank INTEGER, candidate_count INTEGER, dalo INTEGER,"
    "  pdalhpd INTEGER, quartile INTEGER, gestion_deleguee INTEGER, designated_ms INTEGER,"
    "  round INTEGER NOT NULL DEFAULT 0,"
    "  visit_outcome INTEGER, visit_ms INTEGER, visited_ms INTEGER,"
    "  decision INTEGER, decision_rank INTEGER, decided_ms INTEGER, condition_state INTEGER,"
    "  condition_ms INTEGER,"
    "  seance_id TEXT, answer INTEGER, refus_motif INTEGER, answered_ms INTEGER,"
    "  non_suite INTEGER, non_suite_ms INTEGER, lease_ms INTEGER, lease_contingent INTEGER,"
    "  q1 INTEGER, relogement_anru INTEGER, radiated_ms INTEGER,"
    "  lease_q1 INTEGER, lease_anru INTEGER,"
    "  PRIMARY KEY (vacancy_id, nur));"
    "CREATE TABLE IF NOT EXISTS ledger_conventions ("
    "  convention_id TEXT NOT NULL, revision INTEGER NOT NULL, sender TEXT NOT NULL,"
    "  bailleur TEXT, reservataire TEXT, year INTEGER, accepted_ms INTEGER NOT NULL,"
    "  seq INTEGER, payload BLOB NOT NULL, signed_by TEXT NOT NULL,"
    "  PRIMARY KEY (convention_id, revision));"
    "CREATE TABLE IF NOT EXISTS ledger_convention_proposals ("
    "  convention_id TEXT NOT NULL, revision INTEGER NOT NULL, sender TEXT NOT NULL,"
    "  accepted_ms INTEGER NOT NULL, seq INTEGER, payload BLOB NOT NULL,"
    "  PRIMARY KEY (convention_id, revision, sender));"
    "CREATE TABLE IF NOT EXISTS ledger_seances ("
    "  seance_id TEXT PRIMARY KEY, revision INTEGER, status INTEGER, start_ms INTEGER,"
    "  bailleur TEXT);"
    "CREATE TABLE IF NOT EXISTS ledger_events ("
    "  seq INTEGER PRIMARY KEY, vacancy_id TEXT, type INTEGER NOT NULL, sender TEXT NOT NULL,"
    "  at_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS ledger_events_vacancy ON ledger_events(vacancy_id, seq);"
    "CREATE INDEX IF NOT EXISTS ledger_vacancies_bailleur ON ledger_vacancies(bailleur, freed_ms);"
    "CREATE INDEX IF NOT EXISTS ledger_conventions_bailleur ON ledger_conventions(bailleur);"
    /* The bilan's periods (bilan.c); partial: a candidate without the date
     * costs no index entry. */
    "CREATE INDEX IF NOT EXISTS ledger_candidates_decided ON ledger_candidates(decided_ms)"
    "  WHERE decided_ms IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS ledger_candidates_lease ON ledger_candidates(lease_ms)"
    "  WHERE lease_ms IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS ledger_candidates_designated ON ledger_candidates(designated_ms)"
    "  WHERE designated_ms IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS ledger_candidates_answered ON ledger_candidates(answered_ms)"
    "  WHERE answered_ms IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS ledger_candidates_nur ON ledger_candidates(nur);"
    "CREATE TABLE IF NOT EXISTS ledger_schema_version (version INTEGER NOT NULL);";

/* The tables s_schema makes, all derived from the stored messages. */
static const char s_drop[] = "DROP TABLE IF EXISTS ledger_vacancies;"
                             "DROP TABLE IF EXISTS ledger_orientations;"
                             "DROP TABLE IF EXISTS ledger_candidates;"
                             "DROP TABLE IF EXISTS ledger_conventions;"
                             "DROP TABLE IF EXISTS ledger_convention_proposals;"
                             "DROP TABLE IF EXISTS ledger_seances;"
                             "DROP TABLE IF EXISTS ledger_events;"
                             "DROP TABLE IF EXISTS ledger_schema_version;";

static fb_err_t s_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return FB_OK;
    snprintf(err, errlen, "ledger tables: %s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return FB_ERR_STORE;
}

fb_err_t facts_version(sqlite3 *db, int *version)
{
    /* Which of the version table and the oldest ledger table exist. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                           " AND name = 'ledger_schema_version'),"
                           " (SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                           " AND name = 'ledger_vacancies')",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return FB_ERR_STORE;
    }
    bool versioned = sqlite3_column_int(st, 0), tables = sqlite3_column_int(st, 1);
    sqlite3_finalize(st);
    *version = versioned || tables ? 0 : FACTS_SCHEMA_NONE;
    if (!versioned)
        return FB_OK;
    if (sqlite3_prepare_v2(db, "SELECT max(version) FROM ledger_schema_version", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return FB_ERR_STORE;
    }
    *version = sqlite3_column_int(st, 0); /* an empty table reads 0: older */
    sqlite3_finalize(st);
    return FB_OK;
}

fb_err_t facts_create(sqlite3 *db, char *err, size_t errlen)
{
    char stamp[160];
    snprintf(stamp, sizeof stamp,
             "INSERT INTO ledger_schema_version SELECT %d"
             " WHERE NOT EXISTS (SELECT 1 FROM ledger_schema_version)",
             FACTS_SCHEMA_VERSION);
    fb_err_t rc = s_exec(db, s_schema, err, errlen);
    if (rc == FB_OK)
        rc = s_exec(db, held_schema_sql(), err, errlen);
    return rc == FB_OK ? s_exec(db, stamp, err, errlen) : rc;
}

fb_err_t facts_reset(sqlite3 *db, char *err, size_t errlen)
{
    fb_err_t rc = s_exec(db, held_drop_sql(), err, errlen);
    if (rc == FB_OK)
        rc = s_exec(db, s_drop, err, errlen);
    return rc == FB_OK ? facts_create(db, err, errlen) : rc;
}

/* Runs one statement; `fmt` says how to bind the arguments that follow, one
 * character each: 't' text (const char *, NULL binds NULL), 'i' integer
 * (int64_t). Texts are bound without a copy (SQLITE_STATIC): the statement
 * is stepped and put back, its bindings cleared, before s_run returns. */
static fb_err_t s_run(stmts_t *q, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st = NULL;
    if (!(st = stmts_get(q, sql)))
        return FB_ERR_STORE;
    va_list ap;
    va_start(ap, fmt);
    for (int i = 0; fmt[i]; i++) {
        if (fmt[i] == 't') {
            const char *s = va_arg(ap, const char *);
            if (s)
                sqlite3_bind_text(st, i + 1, s, -1, SQLITE_STATIC);
        } else {
            sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        }
    }
    va_end(ap);
    int rc = sqlite3_step(st);
    stmts_put(q, st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? FB_OK : FB_ERR_STORE;
}

/* A let vacancy never goes back to an open state: once `bail_signe` only
 * `radie` (or `bail_signe`) follows, once `radie` nothing (a decision about
 * another NUR, a late answer... leave it where it is). */
#define S_NOT_BACKWARDS                                                                            \
    " AND NOT (state = 'radie' AND ?1 <> 'radie')"                                                 \
    " AND NOT (state = 'bail_signe' AND ?1 NOT IN ('bail_signe', 'radie'))"

static fb_err_t s_vacancy_state(stmts_t *q, const char *vacancy, const char *state, int64_t at)
{
    return s_run(q,
                 "UPDATE ledger_vacancies SET state = ?1, state_ms = ?2 WHERE vacancy_id = "
                 "?3" S_NOT_BACKWARDS,
                 "tit", state, at, vacancy);
}

/* A vacancy known only from a later message (its LogementLibere went
 * elsewhere) still gets a row. */
static fb_err_t s_vacancy_seen(stmts_t *q, const char *vacancy, const char *bailleur, int64_t at)
{
    return s_run(q,
                 "INSERT OR IGNORE INTO ledger_vacancies (vacancy_id, bailleur, state, state_ms)"
                 " VALUES (?, ?, 'libere', ?)",
                 "tti", vacancy, bailleur, at);
}

static fb_err_t s_logement(stmts_t *q, const ledger_msg_t *m)
{
    const Fluxbus__V1__LogementLibere *l = (const void *)m->payload;
    return s_run(
        q,
        "INSERT INTO ledger_vacancies (vacancy_id, bailleur, bailleur_siren, rpls_id, residence_id,"
        " commune_insee, epci_siren, qpv, qpv_map_year, typologie, financement,"
        " construction_period, mode_gestion, hors_flux_motif, freed_ms, freed_year, state, "
        "state_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, 'libere',"
        " ?15)"
        " ON CONFLICT (vacancy_id) DO UPDATE SET bailleur_siren = ?3, rpls_id = ?4,"
        " residence_id = ?5, commune_insee = ?6, epci_siren = ?7, qpv = ?8, qpv_map_year = ?9,"
        " typologie = ?10, financement = ?11, construction_period = ?12, mode_gestion = ?13,"
        " hors_flux_motif = ?14, freed_ms = COALESCE(freed_ms, ?15),"
        " freed_year = CASE WHEN freed_ms IS NULL THEN ?16 ELSE freed_year END",
        "tttttttiiiiiiiii", l->vacancy_id, m->sender, l->bailleur_siren, l->rpls_id,
        l->residence_id, l->commune_insee, l->epci_siren, (int64_t)l->qpv, (int64_t)l->qpv_map_year,
        (int64_t)l->typologie, (int64_t)l->financement, (int64_t)l->construction_period,
        (int64_t)l->mode_gestion, (int64_t)l->hors_flux_motif, m->at_ms,
        (int64_t)period_year_of(m->at_ms));
}

/* *repeat: the same round again (the lifecycle accepts it only unchanged),
 * which changes nothing: its status, candidates and expiry stay, and it is
 * no event of the vacancy. */
static fb_err_t s_orientation(stmts_t *q, const ledger_msg_t *m, bool *repeat)
{
    const Fluxbus__V1__Orientation *o = (const void *)m->payload;
    /* Its own deadline and candidates, else its convention's (conventions.h). */
    int64_t deadline = 0;
    unsigned expected = 0;
    fb_err_t rc = conventions_orientation_deadline(q, m, &deadline);
    if (rc == FB_OK)
        rc = conventions_orientation_candidates(q, m, &expected);
    if (rc == FB_OK)
        rc = s_vacancy_seen(q, o->vacancy_id, m->sender, m->at_ms);
    if (rc == FB_OK)
        rc = s_run(q,
                   "INSERT OR IGNORE INTO ledger_orientations (vacancy_id, reservataire, round,"
                   " bailleur, convention_id, contingent, deadline_ms, candidates_expected,"
                   " oriented_ms, seq, status, status_ms)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'oriente', ?)",
                   "ttittiiiiii", o->vacancy_id, o->reservataire_actor_id,
                   (int64_t)(o->round ? o->round : 1), m->sender, o->convention_id,
                   (int64_t)o->contingent, deadline, (int64_t)expected, m->at_ms, (int64_t)m->seq,
                   m->at_ms);
    if (rc != FB_OK)
        return rc;
    *repeat = sqlite3_changes(stmts_db(q)) == 0;
    return *repeat ? FB_OK : s_vacancy_state(q, o->vacancy_id, "oriente", m->at_ms);
}

/* Sets the status of `reservataire`'s latest orientation round on vacancy. */
static fb_err_t s_orientation_status(stmts_t *q, const char *vacancy, const char *reservataire,
                                     const char *status, int64_t at)
{
    return s_run(q,
                 "UPDATE ledger_orientations SET status = ?1, status_ms = ?2"
                 " WHERE vacancy_id = ?3 AND reservataire = ?4 AND round = (SELECT max(round)"
                 " FROM ledger_orientations WHERE vacancy_id = ?3 AND reservataire = ?4)",
                 "titt", status, at, vacancy, reservataire);
}

static fb_err_t s_designation(stmts_t *q, const ledger_msg_t *m)
{
    const Fluxbus__V1__Designation *d = (const void *)m->payload;
    const char *credited =
        *d->credited_reservataire_actor_id ? d->credited_reservataire_actor_id : m->sender;
    fb_err_t rc = s_run(
        q,
        "INSERT INTO ledger_candidates (vacancy_id, nur, designating, credited, convention_id,"
        " rank, candidate_count, dalo, pdalhpd, quartile, gestion_deleguee, designated_ms, round)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, COALESCE((SELECT max(round)"
        " FROM ledger_orientations WHERE vacancy_id = ?1 AND reservataire = ?4), 0))"
        " ON CONFLICT (vacancy_id, nur) DO UPDATE SET designating = ?3, credited = ?4,"
        " convention_id = ?5, rank = ?6, candidate_count = ?7, dalo = ?8, pdalhpd = ?9,"
        " quartile = ?10, gestion_deleguee = ?11, designated_ms = ?12",
        "tttttiiiiiii", d->vacancy_id, d->nur, m->sender, credited, d->convention_id,
        (int64_t)d->rank, (int64_t)d->candidate_count, (int64_t)d->dalo, (int64_t)d->pdalhpd,
        (int64_t)d->quartile, (int64_t)d->gestion_deleguee, m->at_ms);
    if (rc == FB_OK)
        rc = s_run(q,
                   "UPDATE ledger_orientations SET status = 'designe', status_ms = ?1,"
                   " candidates = candidates + 1 WHERE vacancy_id = ?2 AND reservataire = ?3"
                   " AND round = (SELECT max(round) FROM ledger_orientations"
                   " WHERE vacancy_id = ?2 AND reservataire = ?3)",
                   "itt", m->at_ms, d->vacancy_id, credited);
    return rc == FB_OK ? s_vacancy_state(q, d->vacancy_id, "designe", m->at_ms) : rc;
}

/* The réservataire a DeadlineExpired is about: the first recipient the
 * vacancy is oriented to (the bailleur may be a recipient too), or "". */
static const char *s_oriented_recipient(stmts_t *q, const ledger_msg_t *m, const char *vacancy)
{
    const char *found = "";
    sqlite3_stmt *st = NULL;
    if (!(st = stmts_get(q, "SELECT 1 FROM ledger_orientations WHERE vacancy_id = ? AND"
                            " reservataire = ?")))
        return found;
    for (size_t i = 0; i < m->n_recipients && !*found; i++) {
        sqlite3_bind_text(st, 1, vacancy, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->recipients[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            found = m->recipients[i];
        sqlite3_reset(st);
    }
    stmts_put(q, st);
    return found;
}

/* A suspensive condition lifted or lapsed settles the decision already
 * recorded: only its condition_state (and when it changed) is written, the
 * original decision (date, rank, q1, ANRU, séance) stays. */
static bool s_settles_condition(const Fluxbus__V1__CaleolDecision *c)
{
    return c->decision ==
               FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_SOUS_CONDITION_SUSPENSIVE &&
           (c->condition_state == FLUXBUS__V1__CONDITION_STATE__CONDITION_STATE_LIFTED ||
            c->condition_state == FLUXBUS__V1__CONDITION_STATE__CONDITION_STATE_LAPSED);
}

static fb_err_t s_caleol_decision(stmts_t *q, const ledger_msg_t *m)
{
    const Fluxbus__V1__CaleolDecision *c = (const void *)m->payload;
    if (s_settles_condition(c))
        return s_run(q,
                     "UPDATE ledger_candidates SET condition_state = ?, condition_ms = ?"
                     " WHERE vacancy_id = ? AND nur = ? AND decision IS NOT NULL",
                     "iitt", (int64_t)c->condition_state, m->at_ms, c->vacancy_id, c->nur);
    fb_err_t rc = s_run(
        q,
        "INSERT INTO ledger_candidates (vacancy_id, nur, credited, decision, decision_rank,"
        " decided_ms, condition_state, seance_id, q1, relogement_anru)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        " ON CONFLICT (vacancy_id, nur) DO UPDATE SET decision = ?4, decision_rank = ?5,"
        " decided_ms = ?6, condition_state = ?7, seance_id = ?8, q1 = ?9, relogement_anru = ?10,"
        " credited = COALESCE(credited, ?3)",
        "tttiiiitii", c->vacancy_id, c->nur, c->designataire_actor_id, (int64_t)c->decision,
        (int64_t)c->rank, c->decided_ms ? c->decided_ms : m->at_ms, (int64_t)c->condition_state,
        c->seance_id, (int64_t)c->q1, (int64_t)c->relogement_anru);
    return rc == FB_OK ? s_vacancy_state(q, c->vacancy_id, "decide", m->at_ms) : rc;
}

static fb_err_t s_reponse(stmts_t *q, const ledger_msg_t *m)
{
    const Fluxbus__V1__PropositionReponse *p = (const void *)m->payload;
    int refused = p->answer == FLUXBUS__V1__PROPOSITION_ANSWER__PROPOSITION_ANSWER_REFUSEE;
    fb_err_t rc = s_run(q,
                        "UPDATE ledger_candidates SET answer = ?, refus_motif = ?, answered_ms = ?"
                        " WHERE vacancy_id = ? AND nur = ?",
                        "iiitt", (int64_t)p->answer, (int64_t)p->refus_motif,
                        p->answered_ms ? p->answered_ms : m->at_ms, p->vacancy_id, p->nur);
    if (rc == FB_OK && refused)
        rc = s_run(q, "UPDATE ledger_vacancies SET refusals = refusals + 1 WHERE vacancy_id = ?",
                   "t", p->vacancy_id);
    return rc == FB_OK ? s_vacancy_state(q, p->vacancy_id, refused ? "refuse" : "accepte", m->at_ms)
                       : rc;
}

static fb_err_t s_non_suite(stmts_t *q, const ledger_msg_t *m)
{
    const Fluxbus__V1__AttributionNonSuivieDeBail *a = (const void *)m->payload;
    fb_err_t rc = s_run(q,
                        "UPDATE ledger_candidates SET non_suite = ?, non_suite_ms = ?"
                        " WHERE vacancy_id = ? AND nur = ?",
                        "iitt", (int64_t)a->reason, m->at_ms, a->vacancy_id, a->nur);
    /* Another candidate's acceptance or lease (e.g. rank 2 signed before
     * rank 1's non-suite was written) keeps the vacancy where it is. */
    if (rc == FB_OK)
        rc = s_run(q,
                   "UPDATE ledger_vacancies SET state = 'non_suivi', state_ms = ?1"
                   " WHERE vacancy_id = ?2 AND state NOT IN ('bail_signe', 'radie') AND NOT EXISTS "
                   "(SELECT 1 FROM ledger_candidates"
                   " WHERE vacancy_id = ?2 AND nur != ?3 AND non_suite IS NULL"
                   " AND (lease_ms IS NOT NULL OR answer = 1))",
                   "itt", m->at_ms, a->vacancy_id, a->nur);
    return rc;
}

static fb_err_t s_bail(stmts_t *q, const ledger_msg_t *m)
{
    const Fluxbus__V1__BailSigne *b = (const void *)m->payload;
    fb_err_t rc =
        s_run(q,
              "INSERT INTO ledger_candidates (vacancy_id, nur, credited, convention_id, lease_ms,"
              " lease_contingent, lease_q1, lease_anru) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
              " ON CONFLICT (vacancy_id, nur) DO UPDATE SET lease_ms = ?5, lease_contingent = ?6,"
              " lease_q1 = ?7, lease_anru = ?8, credited = COALESCE(credited, ?3),"
              " convention_id = COALESCE(convention_id, ?4)",
              "ttttiiii", b->vacancy_id, b->nur,
              *b->designataire_actor_id ? b->designataire_actor_id : NULL,
              *b->convention_id ? b->convention_id : NULL, m->at_ms, (int64_t)b->contingent,
              (int64_t)b->q1, (int64_t)b->relogement_anru);
    return rc == FB_OK ? s_vacancy_state(q, b->vacancy_id, "bail_signe", m->at_ms) : rc;
}

static fb_err_t s_radiation(stmts_t *q, const ledger_msg_t *m)
{
    const Fluxbus__V1__SneRadiationAck *r = (const void *)m->payload;
    if (r->status != FLUXBUS__V1__SNE_RADIATION_STATUS__SNE_RADIATION_STATUS_RADIEE &&
        r->status != FLUXBUS__V1__SNE_RADIATION_STATUS__SNE_RADIATION_STATUS_ALREADY_RADIEE)
        return FB_OK;
    fb_err_t rc =
        s_run(q, "UPDATE ledger_candidates SET radiated_ms = ? WHERE vacancy_id = ? AND nur = ?",
              "itt", m->at_ms, r->vacancy_id, r->nur);
    return rc == FB_OK ? s_vacancy_state(q, r->vacancy_id, "radie", m->at_ms) : rc;
}

/* Runs `sql` with a Convention's parameters: ?1 convention_id, ?2
 * revision, ?3 sender, ?4 bailleur, ?5 réservataire, ?6 year, ?7 accepted
 * at, ?8 seq, ?9 the packed payload. */
static fb_err_t s_convention_run(stmts_t *q, const char *sql, const ledger_msg_t *m,
                                 const uint8_t *buf, size_t len)
{
    const Fluxbus__V1__Convention *c = (const void *)m->payload;
    sqlite3_stmt *st = stmts_get(q, sql);
    if (!st)
        return FB_ERR_STORE;
    sqlite3_bind_text(st, 1, c->convention_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, c->revision);
    sqlite3_bind_text(st, 3, m->sender, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, c->bailleur_actor_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, c->reservataire_actor_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, c->year);
    sqlite3_bind_int64(st, 7, m->at_ms);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)m->seq);
    sqlite3_bind_blob(st, 9, buf, (int)len, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    stmts_put(q, st);
    return rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
}

/* Revision 1 is in force as sent. An amendment is a proposal of its
 * sender; it is in force once its bailleur and its réservataire both sent
 * the same packed payload (amendments.h), signed_by naming them in the
 * order they signed, unless a higher revision is in force already. A
 * revision again (ledger_check accepts it only unchanged) is a duplicate:
 * the first one stays. */
static fb_err_t s_convention(stmts_t *q, const ledger_msg_t *m)
{
    const Fluxbus__V1__Convention *c = (const void *)m->payload;
    uint8_t *buf = NULL; /* a multipartite convention's sheets may be long */
    size_t len = 0;
    if (fb_codec_pack(m->payload, &buf, &len) != FB_OK)
        return FB_ERR_STORE;
    fb_err_t rc;
    if (!amendments_is_amendment(c))
        rc = s_convention_run(q,
                              "INSERT OR IGNORE INTO ledger_conventions (convention_id, revision,"
                              " sender, bailleur, reservataire, year, accepted_ms, seq, payload,"
                              " signed_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?3)",
                              m, buf, len);
    else
        rc = s_convention_run(q,
                              "INSERT OR IGNORE INTO ledger_convention_proposals (convention_id,"
                              " revision, sender, accepted_ms, seq, payload)"
                              " VALUES (?1, ?2, ?3, ?7, ?8, ?9)",
                              m, buf, len);
    if (rc == FB_OK && amendments_is_amendment(c))
        rc = s_convention_run(
            q,
            "INSERT OR IGNORE INTO ledger_conventions (convention_id, revision, sender,"
            " bailleur, reservataire, year, accepted_ms, seq, payload, signed_by)"
            " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, who FROM (SELECT count(*) AS n,"
            " group_concat(sender, ' ') AS who FROM (SELECT sender"
            " FROM ledger_convention_proposals WHERE convention_id = ?1 AND revision = ?2"
            " AND payload = ?9 AND sender IN (?4, ?5) AND ?4 <> ?5 ORDER BY seq))"
            " WHERE n = 2 AND NOT EXISTS (SELECT 1 FROM ledger_conventions"
            " WHERE convention_id = ?1 AND revision > ?2)",
            m, buf, len);
    free(buf);
    /* A revision in force may count remises and expiries otherwise. */
    return rc == FB_OK ? held_refresh_convention(q, c->convention_id) : rc;
}

/* visit_outcome and visit_ms say the latest Visite; visited_ms the earliest
 * visit that took place (DONE_INTERESTED or DONE_NOT_INTERESTED), which
 * the décompte compares with the decision's date: a later Visite (another
 * visit, a no-show, one after the decision) neither makes nor unmakes a
 * "CALEOL after a visit". */
static fb_err_t s_visit(stmts_t *q, const Fluxbus__V1__Visite *v, int64_t at_ms)
{
    bool done = v->outcome == FLUXBUS__V1__VISITE_OUTCOME__VISITE_OUTCOME_DONE_INTERESTED ||
                v->outcome == FLUXBUS__V1__VISITE_OUTCOME__VISITE_OUTCOME_DONE_NOT_INTERESTED;
    return s_run(q,
                 "UPDATE ledger_candidates SET visit_outcome = ?1, visit_ms = ?2,"
                 " visited_ms = CASE WHEN ?3 THEN min(COALESCE(visited_ms, ?2), ?2)"
                 " ELSE visited_ms END WHERE vacancy_id = ?4 AND nur = ?5",
                 "iiitt", (int64_t)v->outcome, v->visit_ms ? v->visit_ms : at_ms, (int64_t)done,
                 v->vacancy_id, v->nur);
}

static fb_err_t s_seance(stmts_t *q, const ledger_msg_t *m)
{
    const Fluxbus__V1__CaleolSeance *s = (const void *)m->payload;
    fb_err_t rc = s_run(q,
                        "INSERT OR REPLACE INTO ledger_seances (seance_id, revision, status,"
                        " start_ms, bailleur) VALUES (?, ?, ?, ?, ?)",
                        "tiiit", s->seance_id, (int64_t)s->revision, (int64_t)s->status,
                        s->start_ms, m->sender);
    int cancelled = s->status == FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_CANCELLED;
    for (size_t i = 0; rc == FB_OK && !cancelled && i < s->n_vacancy_ids; i++)
        rc = s_run(q,
                   "UPDATE ledger_vacancies SET state = 'en_caleol', state_ms = ?"
                   " WHERE vacancy_id = ? AND state IN ('designe', 'visite')",
                   "it", m->at_ms, s->vacancy_ids[i]);
    return rc;
}

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x

const char *facts_vacancy_of(const ledger_msg_t *m)
{
    if (!m->payload)
        return NULL;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->payload->descriptor, "vacancy_id");
    if (!f || f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    const char *v = *(const char *const *)((const char *)m->payload + f->offset);
    return v && *v ? v : NULL;
}

/* Does a message of this type change what held.h counts: a vacancy's
 * facts, an orientation round or its status? */
static bool s_moves_held(int type)
{
    switch (type) {
    case T(LOGEMENT_LIBERE):
    case T(ORIENTATION):
    case T(ORIENTATION_ACK):
    case T(ORIENTATION_DECLINE):
    case T(DESIGNATION):
    case T(REMISE_A_DISPOSITION):
    case T(DEADLINE_EXPIRED):
        return true;
    default:
        return false;
    }
}

fb_err_t facts_record(stmts_t *q, const ledger_msg_t *m)
{
    const char *vacancy = facts_vacancy_of(m);
    if (!vacancy)
        vacancy = m->correlation_id && *m->correlation_id ? m->correlation_id : NULL;
    fb_err_t rc = FB_OK;
    bool repeat = false; /* a message that is no event of its vacancy */
    switch (m->type) {
    case T(LOGEMENT_LIBERE):
        rc = s_logement(q, m);
        break;
    case T(ORIENTATION):
        rc = s_orientation(q, m, &repeat);
        break;
    case T(ORIENTATION_ACK):
        rc = s_orientation_status(q, ((const Fluxbus__V1__OrientationAck *)m->payload)->vacancy_id,
                                  m->sender, "acquitte", m->at_ms);
        break;
    case T(ORIENTATION_DECLINE):
        rc = s_orientation_status(q,
                                  ((const Fluxbus__V1__OrientationDecline *)m->payload)->vacancy_id,
                                  m->sender, "decline", m->at_ms);
        break;
    case T(DESIGNATION):
        rc = s_designation(q, m);
        break;
    case T(REMISE_A_DISPOSITION): {
        const char *v = ((const Fluxbus__V1__RemiseADisposition *)m->payload)->vacancy_id;
        rc = s_orientation_status(q, v, m->sender, "remis", m->at_ms);
        if (rc == FB_OK)
            rc = s_vacancy_state(q, v, "remis", m->at_ms);
        break;
    }
    case T(DEADLINE_EXPIRED): {
        const char *v = ((const Fluxbus__V1__DeadlineExpired *)m->payload)->vacancy_id;
        const char *resa = s_oriented_recipient(q, m, v);
        rc = s_orientation_status(q, v, resa, "expire", m->at_ms);
        if (rc == FB_OK)
            rc = s_run(q,
                       "UPDATE ledger_orientations SET expired_ms = ? WHERE vacancy_id = ?"
                       " AND reservataire = ? AND status = 'expire' AND expired_ms = 0",
                       "itt", m->at_ms, v, resa);
        if (rc == FB_OK)
            rc = s_vacancy_state(q, v, "expire", m->at_ms);
        break;
    }
    case T(VISITE): {
        const Fluxbus__V1__Visite *v = (const void *)m->payload;
        rc = s_visit(q, v, m->at_ms);
        if (rc == FB_OK)
            rc = s_run(q,
                       "UPDATE ledger_vacancies SET state = 'visite', state_ms = ?"
                       " WHERE vacancy_id = ? AND state = 'designe'",
                       "it", m->at_ms, v->vacancy_id);
        break;
    }
    case T(CALEOL_SEANCE):
        rc = s_seance(q, m);
        break;
    case T(CALEOL_DECISION):
        rc = s_caleol_decision(q, m);
        break;
    case T(PROPOSITION_REPONSE):
        rc = s_reponse(q, m);
        break;
    case T(ATTRIBUTION_NON_SUIVIE_DE_BAIL):
        rc = s_non_suite(q, m);
        break;
    case T(BAIL_SIGNE):
        rc = s_bail(q, m);
        break;
    case T(SNE_RADIATION_ACK):
        rc = s_radiation(q, m);
        break;
    case T(CONVENTION):
        rc = s_convention(q, m);
        vacancy = NULL;
        break;
    default:
        break;
    }
    if (rc == FB_OK && vacancy && !repeat && s_moves_held(m->type))
        rc = held_refresh_vacancy(q, vacancy);
    if (rc == FB_OK && vacancy && !repeat)
        rc = s_run(q,
                   "INSERT OR IGNORE INTO ledger_events (seq, vacancy_id, type, sender, at_ms)"
                   " VALUES (?, ?, ?, ?, ?)",
                   "ititi", (int64_t)m->seq, vacancy, (int64_t)m->type, m->sender, m->at_ms);
    return rc;
}
