/* offers.c - see offers.h. Owns the resa_* tables of the adapter's state
 * file and every SQL statement of the réservataire adapter, prepared once.
 * Does not own the connection (adapter.c), nor what a request may do
 * (api.c): it records and answers.
 *
 * Schema version 1 (resa_meta):
 *   resa_offer     one row per vacancy oriented to us: routing facts, state,
 *                  the Orientation's payload JSON
 *   resa_logement  the LogementLibere payload JSON per vacancy
 *   resa_sent      the messages we sent, by message id (idempotent POSTs)
 *   resa_event     the event log: AUTOINCREMENT ids (never reused), one row
 *                  per message id
 *   resa_cursor    named positions in the event log (webhook, outbox)
 *   resa_pending   per offer, the request whose messages wait for the broker
 *                  (its body, household included, until they are sent; the
 *                  connection deletes securely)
 * Changes made by one call happen in one SAVEPOINT: all or nothing. */
#include "offers.h"
#include "statedb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_SCHEMA_VERSION 1

static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS resa_meta (version INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS resa_offer ("
    "  vacancy_id TEXT PRIMARY KEY, bailleur TEXT NOT NULL, convention_id TEXT NOT NULL,"
    "  contingent TEXT, round INTEGER NOT NULL, deadline_ms INTEGER NOT NULL,"
    "  candidates_expected INTEGER NOT NULL, state TEXT NOT NULL,"
    "  oriented_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, orientation TEXT NOT NULL,"
    "  orientation_id TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS resa_logement ("
    "  vacancy_id TEXT PRIMARY KEY, bailleur TEXT NOT NULL, payload TEXT NOT NULL,"
    "  received_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS resa_sent ("
    "  message_id TEXT PRIMARY KEY, vacancy_id TEXT NOT NULL, type TEXT NOT NULL,"
    "  rank INTEGER NOT NULL, nur TEXT, sent_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS resa_event ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL UNIQUE,"
    "  type TEXT NOT NULL, direction TEXT NOT NULL, vacancy_id TEXT,"
    "  at_ms INTEGER NOT NULL, body TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS resa_event_vacancy ON resa_event (vacancy_id, id);"
    "CREATE TABLE IF NOT EXISTS resa_cursor (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS resa_pending ("
    "  vacancy_id TEXT PRIMARY KEY, action TEXT NOT NULL, ids TEXT NOT NULL,"
    "  body TEXT NOT NULL, queued_ms INTEGER NOT NULL);";

/* The statements, by index into s_sql. */
enum {
    S_INS_EVENT,
    S_UPSERT_OFFER,
    S_SET_STATE,
    S_UPSERT_LOGEMENT,
    S_FIND,
    S_LIST,
    S_GET,
    S_SENT_KNOWN,
    S_INS_SENT,
    S_DESIGNATIONS,
    S_EVENTS_AFTER,
    S_EVENTS_OF,
    S_CURSOR_GET,
    S_CURSOR_SET,
    S_PENDING_GET,
    S_PENDING_PUT,
    S_PENDING_DROP,
    S_PENDING_ALL,
    S_COUNT
};

#define S_OFFER_COLUMNS                                                                            \
    "o.vacancy_id, o.bailleur, o.convention_id, o.contingent, o.round, o.deadline_ms,"             \
    " o.candidates_expected, o.state, o.oriented_ms, o.updated_ms, o.orientation, l.payload,"      \
    " p.action"

#define S_OFFER_JOIN                                                                               \
    "resa_offer o LEFT JOIN resa_logement l ON l.vacancy_id = o.vacancy_id"                        \
    " LEFT JOIN resa_pending p ON p.vacancy_id = o.vacancy_id"

static const char *const s_sql[S_COUNT] = {
    [S_INS_EVENT] = "INSERT OR IGNORE INTO resa_event (message_id, type, direction, vacancy_id,"
                    " at_ms, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    /* A new round, or an offer we had let go of, opens again. */
    [S_UPSERT_OFFER] =
        "INSERT INTO resa_offer (vacancy_id, bailleur, convention_id, contingent, round,"
        " deadline_ms, candidates_expected, state, oriented_ms, updated_ms, orientation,"
        " orientation_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'oriente', ?8, ?8, ?9, ?10)"
        " ON CONFLICT (vacancy_id) DO UPDATE SET bailleur = excluded.bailleur,"
        " convention_id = excluded.convention_id, contingent = excluded.contingent,"
        " deadline_ms = excluded.deadline_ms,"
        " candidates_expected = excluded.candidates_expected,"
        " orientation = excluded.orientation, orientation_id = excluded.orientation_id,"
        " updated_ms = excluded.updated_ms,"
        " state = CASE WHEN excluded.round <> resa_offer.round"
        "   OR resa_offer.state IN ('decline', 'remis', 'expire') THEN 'oriente'"
        "   ELSE resa_offer.state END,"
        " oriented_ms = CASE WHEN excluded.round <> resa_offer.round"
        "   THEN excluded.oriented_ms ELSE resa_offer.oriented_ms END,"
        " round = excluded.round",
    [S_SET_STATE] = "UPDATE resa_offer SET state = ?2, updated_ms = ?3 WHERE vacancy_id = ?1",
    [S_UPSERT_LOGEMENT] = "INSERT INTO resa_logement (vacancy_id, bailleur, payload, received_ms)"
                          " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (vacancy_id) DO UPDATE SET"
                          " bailleur = excluded.bailleur, payload = excluded.payload,"
                          " received_ms = excluded.received_ms",
    [S_FIND] = "SELECT bailleur, convention_id, state, deadline_ms, candidates_expected, round,"
               " orientation_id FROM resa_offer WHERE vacancy_id = ?1",
    [S_LIST] =
        "SELECT " S_OFFER_COLUMNS " FROM " S_OFFER_JOIN " ORDER BY o.oriented_ms, o.vacancy_id",
    [S_GET] = "SELECT " S_OFFER_COLUMNS " FROM " S_OFFER_JOIN " WHERE o.vacancy_id = ?1",
    [S_SENT_KNOWN] = "SELECT 1 FROM resa_sent WHERE message_id = ?1",
    [S_INS_SENT] = "INSERT OR IGNORE INTO resa_sent (message_id, vacancy_id, type, rank, nur,"
                   " sent_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_DESIGNATIONS] = "SELECT message_id, rank, nur, sent_ms FROM resa_sent"
                       " WHERE vacancy_id = ?1 AND type = 'Designation' ORDER BY sent_ms, rank",
    [S_EVENTS_AFTER] = "SELECT id, type, direction, vacancy_id, at_ms, body FROM resa_event"
                       " WHERE id > ?1 ORDER BY id LIMIT ?2",
    [S_EVENTS_OF] = "SELECT id, type, direction, vacancy_id, at_ms, body FROM resa_event"
                    " WHERE vacancy_id = ?1 ORDER BY id",
    [S_CURSOR_GET] = "SELECT value FROM resa_cursor WHERE name = ?1",
    [S_CURSOR_SET] = "INSERT INTO resa_cursor (name, value) VALUES (?1, ?2)"
                     " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    [S_PENDING_GET] = "SELECT action, ids FROM resa_pending WHERE vacancy_id = ?1",
    [S_PENDING_PUT] = "INSERT OR REPLACE INTO resa_pending (vacancy_id, action, ids, body,"
                      " queued_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_PENDING_DROP] = "DELETE FROM resa_pending WHERE vacancy_id = ?1",
    [S_PENDING_ALL] = "SELECT vacancy_id, action, body FROM resa_pending ORDER BY queued_ms",
};

struct offers {
    sqlite3 *db;
    char self[FB_ACTOR_MAX];
    sqlite3_stmt *st[S_COUNT];
};

/* Offer states, and those in which an offer is still open. */
static const char *const s_states[] = {"oriente", "acquitte",  "decline",    "designe",
                                       "remis",   "expire",    "decide",     "accepte",
                                       "refuse",  "non_suivi", "bail_signe", NULL};

/* Deliveries that move an offer to a state (PropositionReponse is read
 * apart: accepte or refuse). */
static const struct {
    const char *type;
    const char *state;
} s_moves[] = {
    {"DeadlineExpired", "expire"},
    {"CaleolDecision", "decide"},
    {"AttributionNonSuivieDeBail", "non_suivi"},
    {"BailSigne", "bail_signe"},
};

/* ---------------------------------------------------------------- plumbing */

/* A statement reset and ready to bind. */
static sqlite3_stmt *s_stmt(offers_t *self, int which)
{
    sqlite3_stmt *st = self->st[which];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

static fb_err_t s_exec(offers_t *self, const char *sql)
{
    return sqlite3_exec(self->db, sql, NULL, NULL, NULL) == SQLITE_OK ? FB_OK : FB_ERR_STORE;
}

/* A savepoint works inside and outside a transaction of the adapter. */
static fb_err_t s_begin(offers_t *self)
{
    return s_exec(self, "SAVEPOINT resa");
}

static fb_err_t s_end(offers_t *self, fb_err_t rc)
{
    if (rc == FB_OK && s_exec(self, "RELEASE resa") == FB_OK)
        return FB_OK;
    s_exec(self, "ROLLBACK TO resa");
    s_exec(self, "RELEASE resa");
    return rc == FB_OK ? FB_ERR_STORE : rc;
}

static const char *s_column_text(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : "";
}

/* A JSON text column parsed back (null when absent or unreadable). */
static json_t *s_column_json(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return json_null();
    json_t *json = json_loads(s_column_text(st, i), 0, NULL);
    return json ? json : json_null();
}

void offers_iso_time(int64_t ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    int rem = (int)(ms % 1000);
    if (rem < 0) {
        rem += 1000;
        secs -= 1;
    }
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(out, 32, "?");
        return;
    }
    char day[24];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", day, rem);
}

/* ---------------------------------------------------------------- life */

static fb_err_t s_migrate(offers_t *self, char *err, size_t errlen)
{
    char *why = NULL;
    if (sqlite3_exec(self->db, s_schema, NULL, NULL, &why) != SQLITE_OK) {
        snprintf(err, errlen, "cannot create the offers tables: %s", why ? why : "?");
        sqlite3_free(why);
        return FB_ERR_STORE;
    }
    sqlite3_stmt *st = NULL;
    int version = 0;
    if (sqlite3_prepare_v2(self->db, "SELECT version FROM resa_meta", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version == 0 && sqlite3_exec(self->db, "INSERT INTO resa_meta (version) VALUES (1)", NULL,
                                     NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot write the offers schema version: %s",
                 sqlite3_errmsg(self->db));
        return FB_ERR_STORE;
    }
    if (version > S_SCHEMA_VERSION) {
        snprintf(err, errlen, "offers schema version %d is newer than this adapter's (%d)", version,
                 S_SCHEMA_VERSION);
        return FB_ERR_STORE;
    }
    return FB_OK;
}

offers_t *offers_new(sqlite3 *db, const char *self_actor, char *err, size_t errlen)
{
    offers_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->db = db;
    snprintf(self->self, sizeof self->self, "%s", self_actor);
    if (s_migrate(self, err, errlen) != FB_OK)
        goto fail;
    /* A queued request holds a household in clear until it is sent: its
     * row's bytes are overwritten when deleted. */
    if (sqlite3_exec(db, "PRAGMA secure_delete = ON", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot turn secure_delete on: %s", sqlite3_errmsg(db));
        goto fail;
    }
    for (int i = 0; i < S_COUNT; i++) {
        if (sqlite3_prepare_v3(db, s_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &self->st[i], NULL) !=
            SQLITE_OK) {
            snprintf(err, errlen, "cannot prepare statement %d: %s", i, sqlite3_errmsg(db));
            goto fail;
        }
    }
    return self;
fail:
    offers_destroy(&self);
    return NULL;
}

void offers_destroy(offers_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    offers_t *self = *self_p;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(self->st[i]);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- recording */

/* Appends an event; *id 0 when its message id was recorded before. */
static fb_err_t s_insert_event(offers_t *self, const char *message_id, const char *type,
                               const char *direction, const char *vacancy, int64_t at_ms,
                               const json_t *body, int64_t *id)
{
    char *text = json_dumps(body, JSON_COMPACT);
    if (!text)
        return FB_ERR_NOMEM;
    sqlite3_stmt *st = s_stmt(self, S_INS_EVENT);
    statedb_bind_text_or_null(st, 1, message_id);
    statedb_bind_text_or_null(st, 2, type);
    statedb_bind_text_or_null(st, 3, direction);
    statedb_bind_text_or_null(st, 4, vacancy);
    sqlite3_bind_int64(st, 5, at_ms);
    sqlite3_bind_text(st, 6, text, -1, free);
    fb_err_t rc = statedb_run(st);
    *id = rc == FB_OK && sqlite3_changes(self->db) > 0 ? sqlite3_last_insert_rowid(self->db) : 0;
    return rc;
}

static fb_err_t s_set_state(offers_t *self, const char *vacancy, const char *state, int64_t now_ms)
{
    sqlite3_stmt *st = s_stmt(self, S_SET_STATE);
    statedb_bind_text_or_null(st, 1, vacancy);
    statedb_bind_text_or_null(st, 2, state);
    sqlite3_bind_int64(st, 3, now_ms);
    return statedb_run(st);
}

static const char *s_str(const json_t *obj, const char *name)
{
    const char *s = json_string_value(json_object_get(obj, name));
    return s ? s : "";
}

/* The vacancy an event is about: the payload's vacancy_id, else the
 * correlation id; NULL for none (a DecompteDroits, a CaleolSeance). */
static const char *s_vacancy_of(const json_t *delivery)
{
    const char *v = s_str(json_object_get(delivery, "payload"), "vacancy_id");
    if (!*v)
        v = s_str(delivery, "correlation_id");
    return *v ? v : NULL;
}

static fb_err_t s_apply_orientation(offers_t *self, const json_t *delivery, const json_t *payload,
                                    int64_t now_ms)
{
    const char *to = s_str(payload, "reservataire_actor_id");
    if (*to && strcmp(to, self->self) != 0)
        return FB_OK; /* for another réservataire: an event, no offer */
    char *text = json_dumps(payload, JSON_COMPACT);
    if (!text)
        return FB_ERR_NOMEM;
    const char *contingent = s_str(payload, "contingent");
    sqlite3_stmt *st = s_stmt(self, S_UPSERT_OFFER);
    statedb_bind_text_or_null(st, 1, s_str(payload, "vacancy_id"));
    statedb_bind_text_or_null(st, 2, s_str(delivery, "sender"));
    statedb_bind_text_or_null(st, 3, s_str(payload, "convention_id"));
    statedb_bind_text_or_null(st, 4, *contingent ? contingent : NULL);
    sqlite3_bind_int64(st, 5, json_integer_value(json_object_get(payload, "round")));
    sqlite3_bind_int64(st, 6, json_integer_value(json_object_get(payload, "deadline_ms")));
    sqlite3_bind_int64(st, 7, json_integer_value(json_object_get(payload, "candidates_expected")));
    sqlite3_bind_int64(st, 8, now_ms);
    sqlite3_bind_text(st, 9, text, -1, free);
    statedb_bind_text_or_null(st, 10, s_str(delivery, "message_id"));
    return statedb_run(st);
}

static fb_err_t s_apply_logement(offers_t *self, const json_t *delivery, const json_t *payload,
                                 int64_t now_ms)
{
    char *text = json_dumps(payload, JSON_COMPACT);
    if (!text)
        return FB_ERR_NOMEM;
    sqlite3_stmt *st = s_stmt(self, S_UPSERT_LOGEMENT);
    statedb_bind_text_or_null(st, 1, s_str(payload, "vacancy_id"));
    statedb_bind_text_or_null(st, 2, s_str(delivery, "sender"));
    sqlite3_bind_text(st, 3, text, -1, free);
    sqlite3_bind_int64(st, 4, now_ms);
    return statedb_run(st);
}

/* What a delivery does to the offers beside its event. */
static fb_err_t s_apply(offers_t *self, const json_t *delivery, const char *type,
                        const char *vacancy, int64_t now_ms)
{
    const json_t *payload = json_object_get(delivery, "payload");
    if (!json_is_object(payload) || !vacancy)
        return FB_OK; /* undecodable or about no vacancy: the event says it all */
    if (strcmp(type, "Orientation") == 0)
        return *s_str(payload, "vacancy_id") ? s_apply_orientation(self, delivery, payload, now_ms)
                                             : FB_OK;
    if (strcmp(type, "LogementLibere") == 0)
        return *s_str(payload, "vacancy_id") ? s_apply_logement(self, delivery, payload, now_ms)
                                             : FB_OK;
    if (strcmp(type, "PropositionReponse") == 0) {
        const char *answer = s_str(payload, "answer");
        if (strcmp(answer, "PROPOSITION_ANSWER_ACCEPTEE") == 0)
            return s_set_state(self, vacancy, "accepte", now_ms);
        if (strcmp(answer, "PROPOSITION_ANSWER_REFUSEE") == 0)
            return s_set_state(self, vacancy, "refuse", now_ms);
        return FB_OK;
    }
    for (size_t i = 0; i < sizeof s_moves / sizeof s_moves[0]; i++)
        if (strcmp(type, s_moves[i].type) == 0)
            return s_set_state(self, vacancy, s_moves[i].state, now_ms);
    return FB_OK;
}

fb_err_t offers_record_delivery(offers_t *self, const json_t *delivery, int64_t now_ms,
                                int64_t *event_id)
{
    *event_id = 0;
    const char *message_id = s_str(delivery, "message_id");
    const json_t *type_json = json_object_get(delivery, "type");
    char type_number[24];
    const char *type = json_string_value(type_json);
    if (!type) {
        snprintf(type_number, sizeof type_number, "%lld", (long long)json_integer_value(type_json));
        type = type_number;
    }
    if (!*message_id)
        return FB_ERR_INVALID;
    const char *vacancy = s_vacancy_of(delivery);
    fb_err_t rc = s_begin(self);
    if (rc != FB_OK)
        return rc;
    rc = s_insert_event(self, message_id, type, "received", vacancy, now_ms, delivery, event_id);
    if (rc == FB_OK && *event_id)
        rc = s_apply(self, delivery, type, vacancy, now_ms);
    rc = s_end(self, rc);
    if (rc != FB_OK)
        *event_id = 0;
    return rc;
}

fb_err_t offers_sent_known(offers_t *self, const char *const *ids, size_t n, bool *all_known)
{
    *all_known = n > 0;
    for (size_t i = 0; i < n && *all_known; i++) {
        sqlite3_stmt *st = s_stmt(self, S_SENT_KNOWN);
        statedb_bind_text_or_null(st, 1, ids[i]);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return FB_ERR_STORE;
        *all_known = rc == SQLITE_ROW;
    }
    return FB_OK;
}

fb_err_t offers_record_sent(offers_t *self, const char *vacancy_id, const offers_sent_t *msgs,
                            size_t n, const char *new_state, int64_t now_ms)
{
    fb_err_t rc = s_begin(self);
    if (rc != FB_OK)
        return rc;
    for (size_t i = 0; i < n && rc == FB_OK; i++) {
        sqlite3_stmt *st = s_stmt(self, S_INS_SENT);
        statedb_bind_text_or_null(st, 1, msgs[i].message_id_hex);
        statedb_bind_text_or_null(st, 2, vacancy_id);
        statedb_bind_text_or_null(st, 3, msgs[i].type);
        sqlite3_bind_int64(st, 4, msgs[i].rank);
        statedb_bind_text_or_null(st, 5, msgs[i].nur);
        sqlite3_bind_int64(st, 6, now_ms);
        rc = statedb_run(st);
        int64_t id = 0;
        if (rc == FB_OK)
            rc = s_insert_event(self, msgs[i].message_id_hex, msgs[i].type, "sent", vacancy_id,
                                now_ms, msgs[i].message, &id);
    }
    if (rc == FB_OK && new_state)
        rc = s_set_state(self, vacancy_id, new_state, now_ms);
    if (rc == FB_OK)
        rc = offers_pending_drop(self, vacancy_id);
    return s_end(self, rc);
}

/* ---------------------------------------------------------------- reading */

fb_err_t offers_find(offers_t *self, const char *vacancy_id, offers_offer_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = s_stmt(self, S_FIND);
    statedb_bind_text_or_null(st, 1, vacancy_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(out->vacancy_id, sizeof out->vacancy_id, "%s", vacancy_id);
        snprintf(out->bailleur, sizeof out->bailleur, "%s", s_column_text(st, 0));
        snprintf(out->convention_id, sizeof out->convention_id, "%s", s_column_text(st, 1));
        snprintf(out->state, sizeof out->state, "%s", s_column_text(st, 2));
        out->deadline_ms = sqlite3_column_int64(st, 3);
        out->candidates_expected = (uint32_t)sqlite3_column_int64(st, 4);
        out->round = (uint32_t)sqlite3_column_int64(st, 5);
        snprintf(out->orientation_id, sizeof out->orientation_id, "%s", s_column_text(st, 6));
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? FB_OK : rc == SQLITE_DONE ? FB_ERR_NOT_FOUND : FB_ERR_STORE;
}

bool offers_is_open(const offers_offer_t *offer, int64_t now_ms)
{
    bool state_open = strcmp(offer->state, "oriente") == 0 || strcmp(offer->state, "acquitte") == 0;
    return state_open && (offer->deadline_ms == 0 || now_ms < offer->deadline_ms);
}

bool offers_state_known(const char *state)
{
    for (size_t i = 0; s_states[i]; i++)
        if (strcmp(state, s_states[i]) == 0)
            return true;
    return false;
}

/* The offer JSON of the current row of S_LIST / S_GET. */
static json_t *s_offer_json(sqlite3_stmt *st, int64_t now_ms, offers_offer_t *facts)
{
    memset(facts, 0, sizeof *facts);
    snprintf(facts->vacancy_id, sizeof facts->vacancy_id, "%s", s_column_text(st, 0));
    snprintf(facts->state, sizeof facts->state, "%s", s_column_text(st, 7));
    facts->deadline_ms = sqlite3_column_int64(st, 5);
    int64_t expected = sqlite3_column_int64(st, 6);
    char deadline[32] = "", oriented[32];
    if (facts->deadline_ms)
        offers_iso_time(facts->deadline_ms, deadline);
    offers_iso_time(sqlite3_column_int64(st, 8), oriented);
    json_t *o = json_object();
    json_object_set_new(o, "vacancy_id", json_string(facts->vacancy_id));
    json_object_set_new(o, "bailleur", json_string(s_column_text(st, 1)));
    json_object_set_new(o, "convention_id", json_string(s_column_text(st, 2)));
    json_object_set_new(o, "contingent",
                        sqlite3_column_type(st, 3) == SQLITE_NULL
                            ? json_null()
                            : json_string(s_column_text(st, 3)));
    json_object_set_new(o, "round", json_integer(sqlite3_column_int64(st, 4)));
    json_object_set_new(o, "state", json_string(facts->state));
    json_object_set_new(o, "open", json_boolean(offers_is_open(facts, now_ms)));
    json_object_set_new(o, "deadline_ms",
                        facts->deadline_ms ? json_integer(facts->deadline_ms) : json_null());
    json_object_set_new(o, "deadline", *deadline ? json_string(deadline) : json_null());
    json_object_set_new(o, "candidates_expected",
                        json_integer(expected ? expected : 3 /* VALIDATE_DEFAULT_CANDIDATES */));
    json_object_set_new(o, "oriented_at_ms", json_integer(sqlite3_column_int64(st, 8)));
    json_object_set_new(o, "oriented_at", json_string(oriented));
    json_object_set_new(o, "updated_at_ms", json_integer(sqlite3_column_int64(st, 9)));
    json_object_set_new(o, "orientation", s_column_json(st, 10));
    json_object_set_new(o, "logement", s_column_json(st, 11));
    json_object_set_new(o, "queued_action",
                        sqlite3_column_type(st, 12) == SQLITE_NULL
                            ? json_null()
                            : json_string(s_column_text(st, 12)));
    return o;
}

/* Whether an offer passes a GET /offers filter. */
static bool s_matches(const offers_offer_t *facts, const char *filter, int64_t now_ms)
{
    if (!filter || strcmp(filter, "all") == 0)
        return true;
    if (strcmp(filter, "open") == 0)
        return offers_is_open(facts, now_ms);
    return strcmp(filter, facts->state) == 0;
}

json_t *offers_list_json(offers_t *self, const char *filter, int64_t now_ms)
{
    json_t *list = json_array();
    sqlite3_stmt *st = s_stmt(self, S_LIST);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        offers_offer_t facts;
        json_t *o = s_offer_json(st, now_ms, &facts);
        if (s_matches(&facts, filter, now_ms))
            json_array_append_new(list, o);
        else
            json_decref(o);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return NULL;
    }
    return list;
}

/* The event JSON of the current row of S_EVENTS_*. */
static json_t *s_event_json(sqlite3_stmt *st)
{
    char at[32];
    offers_iso_time(sqlite3_column_int64(st, 4), at);
    json_t *e = json_object();
    json_object_set_new(e, "id", json_integer(sqlite3_column_int64(st, 0)));
    json_object_set_new(e, "type", json_string(s_column_text(st, 1)));
    json_object_set_new(e, "direction", json_string(s_column_text(st, 2)));
    json_object_set_new(e, "vacancy_id",
                        sqlite3_column_type(st, 3) == SQLITE_NULL
                            ? json_null()
                            : json_string(s_column_text(st, 3)));
    json_object_set_new(e, "at_ms", json_integer(sqlite3_column_int64(st, 4)));
    json_object_set_new(e, "at", json_string(at));
    json_object_set_new(e, "message", s_column_json(st, 5));
    return e;
}

/* All rows of a prepared S_EVENTS_* statement as a JSON array. */
static json_t *s_events(sqlite3_stmt *st)
{
    json_t *list = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(list, s_event_json(st));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return NULL;
    }
    return list;
}

static json_t *s_designations(offers_t *self, const char *vacancy_id)
{
    json_t *list = json_array();
    sqlite3_stmt *st = s_stmt(self, S_DESIGNATIONS);
    statedb_bind_text_or_null(st, 1, vacancy_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char at[32];
        offers_iso_time(sqlite3_column_int64(st, 3), at);
        json_array_append_new(list,
                              json_pack("{s:s, s:I, s:s, s:s}", "message_id", s_column_text(st, 0),
                                        "rank", (json_int_t)sqlite3_column_int64(st, 1), "nur",
                                        s_column_text(st, 2), "sent_at", at));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return NULL;
    }
    return list;
}

json_t *offers_get_json(offers_t *self, const char *vacancy_id, int64_t now_ms, fb_err_t *err)
{
    sqlite3_stmt *st = s_stmt(self, S_GET);
    statedb_bind_text_or_null(st, 1, vacancy_id);
    int rc = sqlite3_step(st);
    offers_offer_t facts;
    json_t *o = rc == SQLITE_ROW ? s_offer_json(st, now_ms, &facts) : NULL;
    sqlite3_reset(st);
    if (!o) {
        *err = rc == SQLITE_DONE ? FB_ERR_NOT_FOUND : FB_ERR_STORE;
        return NULL;
    }
    json_t *designations = s_designations(self, vacancy_id);
    st = s_stmt(self, S_EVENTS_OF);
    statedb_bind_text_or_null(st, 1, vacancy_id);
    json_t *events = s_events(st);
    if (!designations || !events) {
        json_decref(designations);
        json_decref(events);
        json_decref(o);
        *err = FB_ERR_STORE;
        return NULL;
    }
    json_object_set_new(o, "designations", designations);
    json_object_set_new(o, "events", events);
    *err = FB_OK;
    return o;
}

json_t *offers_events_json(offers_t *self, int64_t after, int limit)
{
    sqlite3_stmt *st = s_stmt(self, S_EVENTS_AFTER);
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int(st, 2, limit);
    return s_events(st);
}

fb_err_t offers_next_event(offers_t *self, int64_t after, json_t **event, int64_t *id)
{
    *event = NULL;
    *id = 0;
    sqlite3_stmt *st = s_stmt(self, S_EVENTS_AFTER);
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int(st, 2, 1);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *event = s_event_json(st);
        *id = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? FB_OK : rc == SQLITE_DONE ? FB_ERR_NOT_FOUND : FB_ERR_STORE;
}

fb_err_t offers_cursor(offers_t *self, const char *name, int64_t *value)
{
    sqlite3_stmt *st = s_stmt(self, S_CURSOR_GET);
    statedb_bind_text_or_null(st, 1, name);
    int rc = sqlite3_step(st);
    *value = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
}

fb_err_t offers_set_cursor(offers_t *self, const char *name, int64_t value)
{
    sqlite3_stmt *st = s_stmt(self, S_CURSOR_SET);
    statedb_bind_text_or_null(st, 1, name);
    sqlite3_bind_int64(st, 2, value);
    return statedb_run(st);
}

/* ---------------------------------------------------------------- queued requests */

fb_err_t offers_pending_ids(offers_t *self, const char *vacancy_id, char *action, size_t actlen,
                            char *ids, size_t idslen)
{
    sqlite3_stmt *st = s_stmt(self, S_PENDING_GET);
    statedb_bind_text_or_null(st, 1, vacancy_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(action, actlen, "%s", s_column_text(st, 0));
        snprintf(ids, idslen, "%s", s_column_text(st, 1));
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? FB_OK : rc == SQLITE_DONE ? FB_ERR_NOT_FOUND : FB_ERR_STORE;
}

fb_err_t offers_pending_put(offers_t *self, const char *vacancy_id, const char *action,
                            const char *ids, const json_t *body, int64_t now_ms)
{
    char *text = json_dumps(body, JSON_COMPACT);
    if (!text)
        return FB_ERR_NOMEM;
    sqlite3_stmt *st = s_stmt(self, S_PENDING_PUT);
    statedb_bind_text_or_null(st, 1, vacancy_id);
    statedb_bind_text_or_null(st, 2, action);
    statedb_bind_text_or_null(st, 3, ids);
    sqlite3_bind_text(st, 4, text, -1, free);
    sqlite3_bind_int64(st, 5, now_ms);
    return statedb_run(st);
}

fb_err_t offers_pending_drop(offers_t *self, const char *vacancy_id)
{
    sqlite3_stmt *st = s_stmt(self, S_PENDING_DROP);
    statedb_bind_text_or_null(st, 1, vacancy_id);
    return statedb_run(st);
}

json_t *offers_pending_all(offers_t *self)
{
    json_t *list = json_array();
    sqlite3_stmt *st = s_stmt(self, S_PENDING_ALL);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(list, json_pack("{s:s, s:s, s:o}", "vacancy_id", s_column_text(st, 0),
                                              "action", s_column_text(st, 1), "body",
                                              s_column_json(st, 2)));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return NULL;
    }
    return list;
}

fb_err_t offers_record_failure(offers_t *self, const char *vacancy_id, const char *key,
                               const json_t *message, int64_t now_ms)
{
    int64_t id = 0;
    fb_err_t rc = s_begin(self);
    if (rc == FB_OK)
        rc = s_insert_event(self, key, "ActionFailed", "local", vacancy_id, now_ms, message, &id);
    if (rc == FB_OK)
        rc = offers_pending_drop(self, vacancy_id);
    return s_end(self, rc);
}
