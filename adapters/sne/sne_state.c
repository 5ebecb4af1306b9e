/* sne_state.c - the SNE adapter's tables in its state file (see
 * sne_state.h). The only SQL of the adapter: one struct holding every
 * prepared statement, prepared once; a version row for later migrations.
 * Each write is a single statement, so each is its own committed
 * transaction (the state file is in WAL mode, set by adapter.c). */
#include "sne_state.h"
#include "statedb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/envelope.h"

#define S_SCHEMA_VERSION 1

static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS sne_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT OR IGNORE INTO sne_meta VALUES ('schema_version', '1');"
    "CREATE TABLE IF NOT EXISTS sne_vacancies ("
    " bailleur_actor_id TEXT NOT NULL, vacancy_id TEXT NOT NULL, rpls_id TEXT NOT NULL,"
    " commune_insee TEXT NOT NULL, bailleur_siren TEXT NOT NULL, updated_ms INTEGER NOT NULL,"
    " PRIMARY KEY (bailleur_actor_id, vacancy_id));"
    "CREATE TABLE IF NOT EXISTS sne_attributions ("
    " bailleur_actor_id TEXT NOT NULL, vacancy_id TEXT NOT NULL, nur TEXT NOT NULL,"
    " designataire_actor_id TEXT NOT NULL, q1 INTEGER NOT NULL, relogement_anru INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL, PRIMARY KEY (bailleur_actor_id, vacancy_id, nur));"
    "CREATE TABLE IF NOT EXISTS sne_records ("
    " record_id TEXT PRIMARY KEY, kind INTEGER NOT NULL, nur TEXT NOT NULL,"
    " vacancy_id TEXT NOT NULL, bailleur_actor_id TEXT NOT NULL,"
    " source_message_id TEXT NOT NULL, request TEXT NOT NULL,"
    " state INTEGER NOT NULL, created_ms INTEGER NOT NULL, sent_ms INTEGER,"
    " answer_status INTEGER NOT NULL DEFAULT 0, answer_message TEXT NOT NULL DEFAULT '',"
    " answer_field TEXT NOT NULL DEFAULT '', radiated_on TEXT NOT NULL DEFAULT '',"
    " answered_ms INTEGER, ack_message_id TEXT NOT NULL DEFAULT '',"
    " ack_detail TEXT NOT NULL DEFAULT '', acked_ms INTEGER);"
    "CREATE INDEX IF NOT EXISTS sne_records_state ON sne_records (state);";

enum {
    S_PUT_VACANCY,
    S_GET_VACANCY,
    S_PUT_ATTRIBUTION,
    S_GET_ATTRIBUTION,
    S_GET_RECORD,
    S_BEGIN_RECORD,
    S_MARK_SENT,
    S_PUT_ANSWER,
    S_MARK_ACKED,
    S_COUNT,
    S_GET_VERSION,
    S_N
};

static const char *const s_sql[S_N] = {
    [S_PUT_VACANCY] = "INSERT OR REPLACE INTO sne_vacancies VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_GET_VACANCY] = "SELECT rpls_id, commune_insee, bailleur_siren FROM sne_vacancies"
                      " WHERE bailleur_actor_id = ?1 AND vacancy_id = ?2",
    [S_PUT_ATTRIBUTION] =
        "INSERT OR REPLACE INTO sne_attributions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_GET_ATTRIBUTION] = "SELECT designataire_actor_id, q1, relogement_anru FROM sne_attributions"
                          " WHERE bailleur_actor_id = ?1 AND vacancy_id = ?2 AND nur = ?3",
    [S_GET_RECORD] = "SELECT record_id, kind, nur, vacancy_id, bailleur_actor_id,"
                     " source_message_id, state, answer_status, answer_message, radiated_on,"
                     " ack_message_id FROM sne_records WHERE record_id = ?1",
    [S_BEGIN_RECORD] = "INSERT OR IGNORE INTO sne_records (record_id, kind, nur, vacancy_id,"
                       " bailleur_actor_id, source_message_id, request, state, created_ms)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8)",
    [S_MARK_SENT] = "UPDATE sne_records SET state = 1, sent_ms = ?2"
                    " WHERE record_id = ?1 AND state = 0",
    [S_PUT_ANSWER] = "UPDATE sne_records SET state = MAX(state, ?2), answer_status = ?3,"
                     " answer_message = ?4, answer_field = ?5, radiated_on = ?6,"
                     " answered_ms = ?7, sent_ms = COALESCE(sent_ms, ?7) WHERE record_id = ?1",
    [S_MARK_ACKED] = "UPDATE sne_records SET state = ?2, ack_message_id = ?3, ack_detail = ?4,"
                     " acked_ms = ?5 WHERE record_id = ?1",
    [S_COUNT] = "SELECT COUNT(*) FROM sne_records WHERE state = ?1",
    [S_GET_VERSION] = "SELECT value FROM sne_meta WHERE key = 'schema_version'",
};

struct sne_state {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_N];
};

const char *sne_rec_state_name(sne_rec_state_t state)
{
    static const char *const names[] = {"SUBMITTING", "SENT", "ANSWERED", "ACKED", "ACK_REFUSED"};
    return state >= SNE_REC_SUBMITTING && state <= SNE_REC_ACK_REFUSED ? names[state] : "?";
}

void sne_state_close(sne_state_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (int i = 0; i < S_N; i++)
        sqlite3_finalize((*self_p)->stmt[i]);
    free(*self_p);
    *self_p = NULL;
}

/* Checks the schema version this code knows (a newer file is refused). */
static bool s_version_ok(sne_state_t *self, char *err, size_t errlen)
{
    sqlite3_stmt *st = self->stmt[S_GET_VERSION];
    int version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    if (version == S_SCHEMA_VERSION)
        return true;
    snprintf(err, errlen, "state file has SNE schema version %d, this program knows %d", version,
             S_SCHEMA_VERSION);
    return false;
}

sne_state_t *sne_state_open(sqlite3 *db, char *err, size_t errlen)
{
    sne_state_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->db = db;
    char *msg = NULL;
    if (sqlite3_exec(db, s_schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot create the SNE tables: %s", msg ? msg : "?");
        sqlite3_free(msg);
        goto fail;
    }
    for (int i = 0; i < S_N; i++) {
        if (sqlite3_prepare_v2(db, s_sql[i], -1, &self->stmt[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "cannot prepare statement %d: %s", i, sqlite3_errmsg(db));
            goto fail;
        }
    }
    if (!s_version_ok(self, err, errlen))
        goto fail;
    return self;
fail:
    sne_state_close(&self);
    return NULL;
}

/* ---- statement helpers ---- */

/* ---- vacancies and attributions ---- */

fb_err_t sne_state_put_vacancy(sne_state_t *self, const char *bailleur_actor_id,
                               const char *vacancy_id, const char *rpls_id,
                               const char *commune_insee, const char *bailleur_siren)
{
    sqlite3_stmt *st = self->stmt[S_PUT_VACANCY];
    statedb_bind_text(st, 1, bailleur_actor_id);
    statedb_bind_text(st, 2, vacancy_id);
    statedb_bind_text(st, 3, rpls_id);
    statedb_bind_text(st, 4, commune_insee);
    statedb_bind_text(st, 5, bailleur_siren);
    sqlite3_bind_int64(st, 6, fb_now_ms());
    return statedb_run(st);
}

fb_err_t sne_state_vacancy(sne_state_t *self, const char *bailleur_actor_id, const char *vacancy_id,
                           sne_vacancy_row_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = self->stmt[S_GET_VACANCY];
    statedb_bind_text(st, 1, bailleur_actor_id);
    statedb_bind_text(st, 2, vacancy_id);
    fb_err_t rc = statedb_row(st);
    if (rc != FB_OK)
        return rc;
    out->rpls_id = statedb_col_dup(st, 0);
    out->commune_insee = statedb_col_dup(st, 1);
    out->bailleur_siren = statedb_col_dup(st, 2);
    statedb_done(st);
    if (!out->rpls_id || !out->commune_insee || !out->bailleur_siren) {
        sne_state_vacancy_clear(out);
        return FB_ERR_NOMEM;
    }
    return FB_OK;
}

void sne_state_vacancy_clear(sne_vacancy_row_t *row)
{
    free(row->rpls_id);
    free(row->commune_insee);
    free(row->bailleur_siren);
    memset(row, 0, sizeof *row);
}

fb_err_t sne_state_put_attribution(sne_state_t *self, const char *bailleur_actor_id,
                                   const char *vacancy_id, const char *nur,
                                   const char *designataire_actor_id, bool q1, bool relogement_anru)
{
    sqlite3_stmt *st = self->stmt[S_PUT_ATTRIBUTION];
    statedb_bind_text(st, 1, bailleur_actor_id);
    statedb_bind_text(st, 2, vacancy_id);
    statedb_bind_text(st, 3, nur);
    statedb_bind_text(st, 4, designataire_actor_id);
    sqlite3_bind_int(st, 5, q1);
    sqlite3_bind_int(st, 6, relogement_anru);
    sqlite3_bind_int64(st, 7, fb_now_ms());
    return statedb_run(st);
}

fb_err_t sne_state_attribution(sne_state_t *self, const char *bailleur_actor_id,
                               const char *vacancy_id, const char *nur, sne_attribution_row_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = self->stmt[S_GET_ATTRIBUTION];
    statedb_bind_text(st, 1, bailleur_actor_id);
    statedb_bind_text(st, 2, vacancy_id);
    statedb_bind_text(st, 3, nur);
    fb_err_t rc = statedb_row(st);
    if (rc != FB_OK)
        return rc;
    out->designataire_actor_id = statedb_col_dup(st, 0);
    out->q1 = sqlite3_column_int(st, 1) != 0;
    out->relogement_anru = sqlite3_column_int(st, 2) != 0;
    statedb_done(st);
    return out->designataire_actor_id ? FB_OK : FB_ERR_NOMEM;
}

void sne_state_attribution_clear(sne_attribution_row_t *row)
{
    free(row->designataire_actor_id);
    memset(row, 0, sizeof *row);
}

/* ---- records ---- */

fb_err_t sne_state_record(sne_state_t *self, const char *record_id, sne_record_row_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = self->stmt[S_GET_RECORD];
    statedb_bind_text(st, 1, record_id);
    fb_err_t rc = statedb_row(st);
    if (rc != FB_OK)
        return rc;
    out->record_id = statedb_col_dup(st, 0);
    out->kind = (sne_kind_t)sqlite3_column_int(st, 1);
    out->nur = statedb_col_dup(st, 2);
    out->vacancy_id = statedb_col_dup(st, 3);
    out->bailleur_actor_id = statedb_col_dup(st, 4);
    out->source_message_id = statedb_col_dup(st, 5);
    out->state = (sne_rec_state_t)sqlite3_column_int(st, 6);
    out->answer_status = (sne_status_t)sqlite3_column_int(st, 7);
    out->answer_message = statedb_col_dup(st, 8);
    const unsigned char *radiated = sqlite3_column_text(st, 9);
    if (!sne_date_parse((const char *)radiated, &out->radiated_on))
        memset(&out->radiated_on, 0, sizeof out->radiated_on);
    out->ack_message_id = statedb_col_dup(st, 10);
    statedb_done(st);
    if (!out->record_id || !out->nur || !out->vacancy_id || !out->bailleur_actor_id ||
        !out->source_message_id || !out->answer_message || !out->ack_message_id) {
        sne_state_record_clear(out);
        return FB_ERR_NOMEM;
    }
    return FB_OK;
}

void sne_state_record_clear(sne_record_row_t *row)
{
    free(row->record_id);
    free(row->nur);
    free(row->vacancy_id);
    free(row->bailleur_actor_id);
    free(row->source_message_id);
    free(row->answer_message);
    free(row->ack_message_id);
    memset(row, 0, sizeof *row);
}

fb_err_t sne_state_begin_record(sne_state_t *self, const sne_record_t *rec, const char *request)
{
    sqlite3_stmt *st = self->stmt[S_BEGIN_RECORD];
    statedb_bind_text(st, 1, rec->record_id);
    sqlite3_bind_int(st, 2, (int)rec->kind);
    statedb_bind_text(st, 3, rec->nur);
    statedb_bind_text(st, 4, rec->vacancy_id);
    statedb_bind_text(st, 5, rec->bailleur_actor_id);
    statedb_bind_text(st, 6, rec->source_message_id);
    statedb_bind_text(st, 7, request);
    sqlite3_bind_int64(st, 8, fb_now_ms());
    return statedb_run(st);
}

fb_err_t sne_state_mark_sent(sne_state_t *self, const char *record_id)
{
    sqlite3_stmt *st = self->stmt[S_MARK_SENT];
    statedb_bind_text(st, 1, record_id);
    sqlite3_bind_int64(st, 2, fb_now_ms());
    return statedb_run(st);
}

fb_err_t sne_state_put_answer(sne_state_t *self, const sne_answer_t *a, sne_rec_state_t state)
{
    char radiated[11];
    sne_date_format(a->radiated_on, radiated);
    sqlite3_stmt *st = self->stmt[S_PUT_ANSWER];
    statedb_bind_text(st, 1, a->record_id);
    sqlite3_bind_int(st, 2, (int)state);
    sqlite3_bind_int(st, 3, (int)a->status);
    statedb_bind_text(st, 4, a->message);
    statedb_bind_text(st, 5, a->field);
    statedb_bind_text(st, 6, radiated);
    sqlite3_bind_int64(st, 7, fb_now_ms());
    return statedb_run(st);
}

fb_err_t sne_state_mark_acked(sne_state_t *self, const char *record_id, bool refused,
                              const char *ack_message_id, const char *detail)
{
    sqlite3_stmt *st = self->stmt[S_MARK_ACKED];
    statedb_bind_text(st, 1, record_id);
    sqlite3_bind_int(st, 2, refused ? SNE_REC_ACK_REFUSED : SNE_REC_ACKED);
    statedb_bind_text(st, 3, ack_message_id);
    statedb_bind_text(st, 4, detail);
    sqlite3_bind_int64(st, 5, fb_now_ms());
    return statedb_run(st);
}

fb_err_t sne_state_count(sne_state_t *self, sne_rec_state_t state, int64_t *count)
{
    sqlite3_stmt *st = self->stmt[S_COUNT];
    sqlite3_bind_int(st, 1, (int)state);
    fb_err_t rc = statedb_row(st);
    if (rc != FB_OK)
        return rc == FB_ERR_NOT_FOUND ? FB_ERR_STORE : rc;
    *count = sqlite3_column_int64(st, 0);
    statedb_done(st);
    return FB_OK;
}
