/* feed_store.c - the commune adapter's tables in the adapter's state file
 * (see feed_store.h). The only file of the adapter with SQL in it.
 *
 * Tables (prefixed commune_, beside the tables of adapters/common):
 * - commune_schema: the version of these tables (1);
 * - commune_seances: one row per session: its last stored revision, the
 *   adapter's SEQUENCE counter, start time (for ordering), the CaleolSeance
 *   bytes, when first stored and last changed;
 * - commune_logements: one row per vacancy_id: its LogementLibere bytes;
 * - commune_issues: one row per LogementIssue message, in arrival order.
 *
 * Invariants: a session's sequence only grows, by one per stored change;
 * one connection used from one thread, so a read followed by a write about
 * the same row needs no transaction; every statement is reset before a
 * callback runs, so callbacks may query the store (not iterate it again). */
#include "feed_store.h"
#include "statedb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/codec.h"

#define S_SCHEMA_VERSION 1

static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS commune_schema (version INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS commune_seances ("
    " seance_id TEXT PRIMARY KEY,"
    " revision INTEGER NOT NULL,"
    " sequence INTEGER NOT NULL,"
    " start_ms INTEGER NOT NULL,"
    " payload BLOB NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS commune_logements ("
    " vacancy_id TEXT PRIMARY KEY,"
    " commune_insee TEXT NOT NULL,"
    " payload BLOB NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS commune_issues ("
    " id INTEGER PRIMARY KEY,"
    " message_id TEXT NOT NULL UNIQUE,"
    " vacancy_id TEXT NOT NULL,"
    " commune_insee TEXT NOT NULL,"
    " payload BLOB NOT NULL,"
    " received_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS commune_issues_by_vacancy ON commune_issues (vacancy_id, id);";

/* Every statement, prepared once; the order of s_sql. */
enum {
    S_SEANCE_GET,
    S_SEANCE_INSERT,
    S_SEANCE_UPDATE,
    S_SEANCE_ALL,
    S_LOGEMENT_GET,
    S_LOGEMENT_UPSERT,
    S_ISSUE_INSERT,
    S_ISSUES_OF,
    S_VACANCIES_ALL,
    S_LAST_CHANGE,
    S_COUNT
};

static const char *const s_sql[S_COUNT] = {
    [S_SEANCE_GET] = "SELECT revision, sequence, payload FROM commune_seances WHERE seance_id = ?1",
    [S_SEANCE_INSERT] = "INSERT INTO commune_seances (seance_id, revision, sequence, start_ms,"
                        " payload, created_ms, updated_ms) VALUES (?1, ?2, 0, ?3, ?4, ?5, ?5)",
    [S_SEANCE_UPDATE] = "UPDATE commune_seances SET revision = ?2, sequence = sequence + 1,"
                        " start_ms = ?3, payload = ?4, updated_ms = ?5 WHERE seance_id = ?1",
    [S_SEANCE_ALL] = "SELECT payload, sequence, created_ms, updated_ms FROM commune_seances"
                     " ORDER BY start_ms, seance_id",
    [S_LOGEMENT_GET] = "SELECT payload FROM commune_logements WHERE vacancy_id = ?1",
    [S_LOGEMENT_UPSERT] =
        "INSERT INTO commune_logements (vacancy_id, commune_insee, payload, created_ms,"
        " updated_ms) VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (vacancy_id) DO UPDATE SET"
        " commune_insee = excluded.commune_insee, payload = excluded.payload,"
        " updated_ms = excluded.updated_ms",
    [S_ISSUE_INSERT] = "INSERT OR IGNORE INTO commune_issues (message_id, vacancy_id,"
                       " commune_insee, payload, received_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_ISSUES_OF] = "SELECT payload FROM commune_issues WHERE vacancy_id = ?1 ORDER BY id",
    [S_VACANCIES_ALL] = "SELECT vacancy_id FROM (SELECT vacancy_id, commune_insee FROM"
                        " commune_logements UNION ALL SELECT vacancy_id, commune_insee FROM"
                        " commune_issues) GROUP BY vacancy_id ORDER BY min(commune_insee),"
                        " vacancy_id",
    [S_LAST_CHANGE] = "SELECT max(m) FROM (SELECT max(updated_ms) AS m FROM commune_seances"
                      " UNION ALL SELECT max(updated_ms) FROM commune_logements"
                      " UNION ALL SELECT max(received_ms) FROM commune_issues)",
};

struct feed_store {
    sqlite3 *db; /* borrowed */
    sqlite3_stmt *stmt[S_COUNT];
};

const char *feed_put_str(feed_put_t put)
{
    switch (put) {
    case FEED_PUT_NEW:
        return "new";
    case FEED_PUT_CHANGED:
        return "changed";
    case FEED_PUT_SAME:
        return "same";
    case FEED_PUT_OLDER:
        return "older";
    case FEED_PUT_CONFLICT:
        return "conflict";
    }
    return "?";
}

/* Checks (or records, in a new file) the version of our tables. */
static bool s_check_version(sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    bool ok = false;
    if (sqlite3_prepare_v2(db, "SELECT max(version) FROM commune_schema", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        snprintf(err, errlen, "commune tables: %s", sqlite3_errmsg(db));
        goto done;
    }
    if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
        char *msg = NULL;
        if (sqlite3_exec(db, "INSERT INTO commune_schema (version) VALUES (1)", NULL, NULL, &msg) !=
            SQLITE_OK) {
            snprintf(err, errlen, "commune tables: %s", msg ? msg : "?");
            sqlite3_free(msg);
            goto done;
        }
    } else if (sqlite3_column_int(st, 0) > S_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "commune tables are version %d, this adapter knows %d: a newer"
                 " adapter wrote this state file",
                 sqlite3_column_int(st, 0), S_SCHEMA_VERSION);
        goto done;
    }
    ok = true;
done:
    sqlite3_finalize(st);
    return ok;
}

feed_store_t *feed_store_new(sqlite3 *db, char *err, size_t errlen)
{
    feed_store_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->db = db;
    char *msg = NULL;
    if (sqlite3_exec(db, s_schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "commune tables: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        goto fail;
    }
    if (!s_check_version(db, err, errlen))
        goto fail;
    for (int i = 0; i < S_COUNT; i++) {
        if (sqlite3_prepare_v3(db, s_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &self->stmt[i], NULL) !=
            SQLITE_OK) {
            snprintf(err, errlen, "commune tables: %s", sqlite3_errmsg(db));
            goto fail;
        }
    }
    return self;
fail:
    feed_store_destroy(&self);
    return NULL;
}

void feed_store_destroy(feed_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    feed_store_t *self = *self_p;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(self->stmt[i]);
    free(self);
    *self_p = NULL;
}

/* The statement `which`, reset and unbound, ready for new parameters. */
static sqlite3_stmt *s_stmt(feed_store_t *self, int which)
{
    sqlite3_stmt *st = self->stmt[which];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Decodes the blob in column `col` of the current row as a `desc`. */
static fb_err_t s_column_message(sqlite3_stmt *st, int col, const ProtobufCMessageDescriptor *desc,
                                 ProtobufCMessage **out)
{
    const void *blob = sqlite3_column_blob(st, col);
    size_t len = (size_t)sqlite3_column_bytes(st, col);
    static const uint8_t empty[1];
    return fb_codec_unpack(desc, blob ? blob : empty, len, FB_DEFAULT_MAX_ENVELOPE, out);
}

/* True when the blob in column `col` holds exactly the len bytes at data. */
static bool s_column_equals(sqlite3_stmt *st, int col, const uint8_t *data, size_t len)
{
    const void *blob = sqlite3_column_blob(st, col);
    return (size_t)sqlite3_column_bytes(st, col) == len &&
           (len == 0 || memcmp(blob, data, len) == 0);
}

fb_err_t feed_store_put_seance(feed_store_t *self, const Fluxbus__V1__CaleolSeance *seance,
                               int64_t now_ms, feed_put_t *put, uint32_t *sequence)
{
    if (!seance->seance_id || !*seance->seance_id)
        return FB_ERR_INVALID;
    uint8_t *bytes = NULL;
    size_t len = 0;
    fb_err_t err = fb_codec_pack(&seance->base, &bytes, &len);
    if (err != FB_OK)
        return err;

    sqlite3_stmt *get = s_stmt(self, S_SEANCE_GET);
    sqlite3_bind_text(get, 1, seance->seance_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(get);
    int which = S_SEANCE_INSERT;
    uint32_t seq = 0;
    if (rc == SQLITE_ROW) {
        int64_t stored = sqlite3_column_int64(get, 0);
        seq = (uint32_t)sqlite3_column_int64(get, 1);
        if ((int64_t)seance->revision < stored)
            *put = FEED_PUT_OLDER;
        else if ((int64_t)seance->revision == stored)
            *put = s_column_equals(get, 2, bytes, len) ? FEED_PUT_SAME : FEED_PUT_CONFLICT;
        else
            *put = FEED_PUT_CHANGED;
        which = S_SEANCE_UPDATE;
    } else if (rc == SQLITE_DONE) {
        *put = FEED_PUT_NEW;
    } else {
        err = FB_ERR_STORE;
    }
    sqlite3_reset(get);

    if (err == FB_OK && (*put == FEED_PUT_NEW || *put == FEED_PUT_CHANGED)) {
        sqlite3_stmt *st = s_stmt(self, which);
        sqlite3_bind_text(st, 1, seance->seance_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, seance->revision);
        sqlite3_bind_int64(st, 3, seance->start_ms);
        sqlite3_bind_blob(st, 4, bytes, (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, now_ms);
        err = statedb_run(st);
        if (err == FB_OK && *put == FEED_PUT_CHANGED)
            seq++;
    }
    free(bytes);
    if (err == FB_OK && sequence)
        *sequence = seq;
    return err;
}

bool feed_store_has_seance(feed_store_t *self, const char *seance_id)
{
    sqlite3_stmt *st = s_stmt(self, S_SEANCE_GET);
    sqlite3_bind_text(st, 1, seance_id, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return found;
}

fb_err_t feed_store_put_logement(feed_store_t *self, const Fluxbus__V1__LogementLibere *logement,
                                 int64_t now_ms, feed_put_t *put)
{
    if (!logement->vacancy_id || !*logement->vacancy_id)
        return FB_ERR_INVALID;
    uint8_t *bytes = NULL;
    size_t len = 0;
    fb_err_t err = fb_codec_pack(&logement->base, &bytes, &len);
    if (err != FB_OK)
        return err;

    sqlite3_stmt *get = s_stmt(self, S_LOGEMENT_GET);
    sqlite3_bind_text(get, 1, logement->vacancy_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(get);
    if (rc == SQLITE_ROW)
        *put = s_column_equals(get, 0, bytes, len) ? FEED_PUT_SAME : FEED_PUT_CHANGED;
    else if (rc == SQLITE_DONE)
        *put = FEED_PUT_NEW;
    else
        err = FB_ERR_STORE;
    sqlite3_reset(get);

    if (err == FB_OK && *put != FEED_PUT_SAME) {
        sqlite3_stmt *st = s_stmt(self, S_LOGEMENT_UPSERT);
        sqlite3_bind_text(st, 1, logement->vacancy_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, logement->commune_insee, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, bytes, (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now_ms);
        err = statedb_run(st);
    }
    free(bytes);
    return err;
}

fb_err_t feed_store_put_issue(feed_store_t *self, const char *message_id,
                              const Fluxbus__V1__LogementIssue *issue, int64_t now_ms,
                              feed_put_t *put)
{
    if (!message_id || !*message_id || !issue->vacancy_id || !*issue->vacancy_id)
        return FB_ERR_INVALID;
    uint8_t *bytes = NULL;
    size_t len = 0;
    fb_err_t err = fb_codec_pack(&issue->base, &bytes, &len);
    if (err != FB_OK)
        return err;
    sqlite3_stmt *st = s_stmt(self, S_ISSUE_INSERT);
    sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, issue->vacancy_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, issue->commune_insee, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, bytes, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now_ms);
    err = statedb_run(st);
    /* INSERT OR IGNORE: no row added means this message was stored before. */
    if (err == FB_OK)
        *put = sqlite3_changes(self->db) ? FEED_PUT_NEW : FEED_PUT_SAME;
    free(bytes);
    return err;
}

fb_err_t feed_store_each_seance(feed_store_t *self, feed_seance_fn fn, void *ctx)
{
    sqlite3_stmt *st = s_stmt(self, S_SEANCE_ALL);
    fb_err_t err = FB_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ProtobufCMessage *msg = NULL;
        err = s_column_message(st, 0, &fluxbus__v1__caleol_seance__descriptor, &msg);
        if (err != FB_OK)
            break;
        feed_seance_t row = {
            .seance = (const Fluxbus__V1__CaleolSeance *)msg,
            .sequence = (uint32_t)sqlite3_column_int64(st, 1),
            .created_ms = sqlite3_column_int64(st, 2),
            .updated_ms = sqlite3_column_int64(st, 3),
        };
        fn(ctx, &row);
        fb_codec_free(msg);
    }
    if (err == FB_OK && rc != SQLITE_DONE)
        err = FB_ERR_STORE;
    sqlite3_reset(st);
    return err;
}

fb_err_t feed_store_logement(feed_store_t *self, const char *vacancy_id,
                             Fluxbus__V1__LogementLibere **out)
{
    *out = NULL;
    sqlite3_stmt *st = s_stmt(self, S_LOGEMENT_GET);
    sqlite3_bind_text(st, 1, vacancy_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    fb_err_t err = rc == SQLITE_DONE ? FB_ERR_NOT_FOUND : FB_ERR_STORE;
    if (rc == SQLITE_ROW)
        err = s_column_message(st, 0, &fluxbus__v1__logement_libere__descriptor,
                               (ProtobufCMessage **)out);
    sqlite3_reset(st);
    return err;
}

/* The outcomes of vacancy_id in arrival order, decoded (*out: an array of
 * *n messages to free with s_issues_free). */
static fb_err_t s_issues_of(feed_store_t *self, const char *vacancy_id,
                            Fluxbus__V1__LogementIssue ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = s_stmt(self, S_ISSUES_OF);
    sqlite3_bind_text(st, 1, vacancy_id, -1, SQLITE_STATIC);
    fb_err_t err = FB_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        Fluxbus__V1__LogementIssue **grown = realloc(*out, (*n + 1) * sizeof **out);
        if (!grown) {
            err = FB_ERR_NOMEM;
            break;
        }
        *out = grown;
        err = s_column_message(st, 0, &fluxbus__v1__logement_issue__descriptor,
                               (ProtobufCMessage **)&grown[*n]);
        if (err != FB_OK)
            break;
        (*n)++;
    }
    if (err == FB_OK && rc != SQLITE_DONE)
        err = FB_ERR_STORE;
    sqlite3_reset(st);
    return err;
}

static void s_issues_free(Fluxbus__V1__LogementIssue **issues, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fb_codec_free(&issues[i]->base);
    free(issues);
}

/* Gives one dwelling of the feed to fn. */
static fb_err_t s_give_logement(feed_store_t *self, const char *vacancy_id, feed_logement_fn fn,
                                void *ctx)
{
    Fluxbus__V1__LogementLibere *logement = NULL;
    Fluxbus__V1__LogementIssue **issues = NULL;
    size_t n = 0;
    fb_err_t err = feed_store_logement(self, vacancy_id, &logement);
    if (err == FB_ERR_NOT_FOUND)
        err = FB_OK;
    if (err == FB_OK)
        err = s_issues_of(self, vacancy_id, &issues, &n);
    if (err == FB_OK) {
        feed_logement_t row = {
            .vacancy_id = vacancy_id,
            .logement = logement,
            .issues = (const Fluxbus__V1__LogementIssue *const *)issues,
            .n_issues = n,
        };
        fn(ctx, &row);
    }
    s_issues_free(issues, n);
    fb_codec_free(logement ? &logement->base : NULL);
    return err;
}

fb_err_t feed_store_each_logement(feed_store_t *self, feed_logement_fn fn, void *ctx)
{
    sqlite3_stmt *st = s_stmt(self, S_VACANCIES_ALL);
    fb_err_t err = FB_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* Copied: the other statements run before the next step. */
        char *vacancy_id = strdup((const char *)sqlite3_column_text(st, 0));
        err = vacancy_id ? s_give_logement(self, vacancy_id, fn, ctx) : FB_ERR_NOMEM;
        free(vacancy_id);
        if (err != FB_OK)
            break;
    }
    if (err == FB_OK && rc != SQLITE_DONE)
        err = FB_ERR_STORE;
    sqlite3_reset(st);
    return err;
}

int64_t feed_store_last_change_ms(feed_store_t *self)
{
    sqlite3_stmt *st = s_stmt(self, S_LAST_CHANGE);
    int64_t ms = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return ms;
}
