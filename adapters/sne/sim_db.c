/* sim_db.c - fluxbus-sne-sim's SQLite file (see sim_db.h). The only SQL of
 * the simulator: one struct with every prepared statement, a version row,
 * WAL mode with synchronous=FULL (an answer written to answers/ is first
 * committed here, so a crashed simulator replays it rather than judging the
 * record again). */
#include "sim_db.h"

#include <sqlite3.h>

#include "statedb.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/envelope.h"

static const char s_schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT OR IGNORE INTO meta VALUES ('schema_version', '1');"
    "CREATE TABLE IF NOT EXISTS demandes ("
    " nur TEXT PRIMARY KEY, origin TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    " radiated_on TEXT, radiated_by TEXT);"
    "CREATE TABLE IF NOT EXISTS attributions ("
    " record_id TEXT PRIMARY KEY, nur TEXT NOT NULL, vacancy_id TEXT NOT NULL,"
    " kind TEXT NOT NULL, date TEXT NOT NULL, designataire_actor_id TEXT NOT NULL,"
    " bailleur_siren TEXT NOT NULL, q1 INTEGER NOT NULL, relogement_anru INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS attributions_nur ON attributions (nur, vacancy_id);"
    "CREATE TABLE IF NOT EXISTS answers ("
    " record_id TEXT PRIMARY KEY, nur TEXT NOT NULL, status TEXT NOT NULL,"
    " answer TEXT NOT NULL, answered_ms INTEGER NOT NULL);";

enum {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_ANSWER_OF,
    S_PUT_ANSWER,
    S_DEMANDE,
    S_ADD_DEMANDE,
    S_RADIATE,
    S_PUT_ATTRIBUTION,
    S_HAS_ATTRIBUTION,
    S_COUNTS,
    S_VERSION,
    S_N
};

static const char *const s_sql[S_N] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_ANSWER_OF] = "SELECT answer FROM answers WHERE record_id = ?1",
    [S_PUT_ANSWER] = "INSERT OR REPLACE INTO answers VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_DEMANDE] = "SELECT radiated_on, radiated_by FROM demandes WHERE nur = ?1",
    [S_ADD_DEMANDE] =
        "INSERT OR IGNORE INTO demandes (nur, origin, created_ms) VALUES (?1, ?2, ?3)",
    [S_RADIATE] = "UPDATE demandes SET radiated_on = ?2, radiated_by = ?3 WHERE nur = ?1",
    [S_PUT_ATTRIBUTION] =
        "INSERT OR REPLACE INTO attributions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_HAS_ATTRIBUTION] = "SELECT 1 FROM attributions WHERE nur = ?1 AND vacancy_id = ?2"
                          " AND kind = 'attribution'",
    [S_COUNTS] = "SELECT COUNT(*), COUNT(radiated_on) FROM demandes",
    [S_VERSION] = "SELECT value FROM meta WHERE key = 'schema_version'",
};

struct sim_db {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_N];
};

void sim_db_close(sim_db_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (int i = 0; i < S_N; i++)
        sqlite3_finalize((*self_p)->stmt[i]);
    sqlite3_close((*self_p)->db);
    free(*self_p);
    *self_p = NULL;
}

sim_db_t *sim_db_open(const char *path, char *err, size_t errlen)
{
    sim_db_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char *msg = NULL;
    if (sqlite3_open_v2(path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, self->db ? sqlite3_errmsg(self->db) : "no memory");
        goto fail;
    }
    sqlite3_busy_timeout(self->db, 5000);
    if (sqlite3_exec(self->db, s_schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, msg ? msg : "cannot create the tables");
        sqlite3_free(msg);
        goto fail;
    }
    for (int i = 0; i < S_N; i++) {
        if (sqlite3_prepare_v2(self->db, s_sql[i], -1, &self->stmt[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(self->db));
            goto fail;
        }
    }
    sqlite3_stmt *v = self->stmt[S_VERSION];
    int version = sqlite3_step(v) == SQLITE_ROW ? sqlite3_column_int(v, 0) : 0;
    sqlite3_reset(v);
    if (version != 1) {
        snprintf(err, errlen, "%s: schema version %d, this simulator knows 1", path, version);
        goto fail;
    }
    return self;
fail:
    sim_db_close(&self);
    return NULL;
}

fb_err_t sim_db_begin(sim_db_t *self)
{
    return statedb_run(self->stmt[S_BEGIN]);
}

fb_err_t sim_db_commit(sim_db_t *self)
{
    return statedb_run(self->stmt[S_COMMIT]);
}

void sim_db_rollback(sim_db_t *self)
{
    if (!sqlite3_get_autocommit(self->db))
        statedb_run(self->stmt[S_ROLLBACK]);
}

fb_err_t sim_db_answer_of(sim_db_t *self, const char *record_id, char **answer)
{
    sqlite3_stmt *st = self->stmt[S_ANSWER_OF];
    statedb_bind_text(st, 1, record_id);
    fb_err_t rc = statedb_row(st);
    if (rc != FB_OK)
        return rc;
    const unsigned char *text = sqlite3_column_text(st, 0);
    *answer = strdup(text ? (const char *)text : "");
    statedb_done(st);
    return *answer ? FB_OK : FB_ERR_NOMEM;
}

fb_err_t sim_db_put_answer(sim_db_t *self, const char *record_id, const char *nur,
                           sne_status_t status, const char *answer)
{
    sqlite3_stmt *st = self->stmt[S_PUT_ANSWER];
    statedb_bind_text(st, 1, record_id);
    statedb_bind_text(st, 2, nur);
    statedb_bind_text(st, 3, sne_status_name(status));
    statedb_bind_text(st, 4, answer);
    sqlite3_bind_int64(st, 5, fb_now_ms());
    return statedb_run(st);
}

fb_err_t sim_db_demande(sim_db_t *self, const char *nur, sim_demande_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = self->stmt[S_DEMANDE];
    statedb_bind_text(st, 1, nur);
    fb_err_t rc = statedb_row(st);
    if (rc != FB_OK)
        return rc;
    const unsigned char *on = sqlite3_column_text(st, 0);
    const unsigned char *by = sqlite3_column_text(st, 1);
    out->radiee = on != NULL;
    if (on)
        sne_date_parse((const char *)on, &out->radiated_on);
    snprintf(out->radiated_by, sizeof out->radiated_by, "%s", by ? (const char *)by : "");
    statedb_done(st);
    return FB_OK;
}

fb_err_t sim_db_add_demande(sim_db_t *self, const char *nur, const char *origin)
{
    sqlite3_stmt *st = self->stmt[S_ADD_DEMANDE];
    statedb_bind_text(st, 1, nur);
    statedb_bind_text(st, 2, origin);
    sqlite3_bind_int64(st, 3, fb_now_ms());
    return statedb_run(st);
}

fb_err_t sim_db_radiate(sim_db_t *self, const char *nur, sne_date_t date, const char *record_id)
{
    char on[11];
    sne_date_format(date, on);
    sqlite3_stmt *st = self->stmt[S_RADIATE];
    statedb_bind_text(st, 1, nur);
    statedb_bind_text(st, 2, on);
    statedb_bind_text(st, 3, record_id);
    return statedb_run(st);
}

fb_err_t sim_db_put_attribution(sim_db_t *self, const sne_record_t *rec)
{
    char date[11];
    sne_date_format(rec->date, date);
    sqlite3_stmt *st = self->stmt[S_PUT_ATTRIBUTION];
    statedb_bind_text(st, 1, rec->record_id);
    statedb_bind_text(st, 2, rec->nur);
    statedb_bind_text(st, 3, rec->vacancy_id);
    statedb_bind_text(st, 4, sne_kind_name(rec->kind));
    statedb_bind_text(st, 5, date);
    statedb_bind_text(st, 6, rec->designataire_actor_id);
    statedb_bind_text(st, 7, rec->bailleur_siren);
    sqlite3_bind_int(st, 8, rec->q1);
    sqlite3_bind_int(st, 9, rec->relogement_anru);
    return statedb_run(st);
}

fb_err_t sim_db_has_attribution(sim_db_t *self, const char *nur, const char *vacancy_id, bool *yes)
{
    sqlite3_stmt *st = self->stmt[S_HAS_ATTRIBUTION];
    statedb_bind_text(st, 1, nur);
    statedb_bind_text(st, 2, vacancy_id);
    fb_err_t rc = statedb_row(st);
    *yes = rc == FB_OK;
    if (rc == FB_OK)
        statedb_done(st);
    return rc == FB_ERR_NOT_FOUND ? FB_OK : rc;
}

fb_err_t sim_db_counts(sim_db_t *self, int64_t *demandes, int64_t *radiees)
{
    sqlite3_stmt *st = self->stmt[S_COUNTS];
    fb_err_t rc = statedb_row(st);
    if (rc != FB_OK)
        return rc == FB_ERR_NOT_FOUND ? FB_ERR_STORE : rc;
    *demandes = sqlite3_column_int64(st, 0);
    *radiees = sqlite3_column_int64(st, 1);
    statedb_done(st);
    return FB_OK;
}
