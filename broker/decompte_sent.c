/* decompte_sent.c - the table ledger_decompte_sent (see decompte_sent.h).
 *
 * Owns the table's SQL and the "due again" rule. Does not decide when it
 * is written: the emitter does, in the store transaction of the message
 * the row describes (decompte_emit.c). Not part of the ledger's versioned
 * tables (a rebuild keeps it). */
#include "decompte_sent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS ledger_decompte_sent ("
    "  convention_id TEXT NOT NULL, party TEXT NOT NULL, scope TEXT NOT NULL,"
    "  year INTEGER NOT NULL, digest BLOB NOT NULL, seq INTEGER NOT NULL,"
    "  sent_ms INTEGER NOT NULL, message_id TEXT NOT NULL,"
    "  PRIMARY KEY (convention_id, party, scope, year));";

struct decompte_sent {
    sqlite3 *db;
    sqlite3_stmt *get, *put;
};

fb_err_t decompte_sent_create(sqlite3 *db, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, s_schema, NULL, NULL, &msg) == SQLITE_OK)
        return FB_OK;
    snprintf(err, errlen, "ledger_decompte_sent: %s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return FB_ERR_STORE;
}

decompte_sent_t *decompte_sent_new(sqlite3 *db, char *err, size_t errlen)
{
    decompte_sent_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->db = db;
    if (sqlite3_prepare_v3(db,
                           "SELECT digest, seq, sent_ms FROM ledger_decompte_sent"
                           " WHERE convention_id = ? AND party = ? AND scope = ? AND year = ?",
                           -1, SQLITE_PREPARE_PERSISTENT, &self->get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db,
                           "INSERT OR REPLACE INTO ledger_decompte_sent (convention_id, party,"
                           " scope, year, digest, seq, sent_ms, message_id)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, SQLITE_PREPARE_PERSISTENT, &self->put, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "ledger_decompte_sent: %s", sqlite3_errmsg(db));
        decompte_sent_destroy(&self);
    }
    return self;
}

void decompte_sent_destroy(decompte_sent_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sqlite3_finalize((*self_p)->get);
    sqlite3_finalize((*self_p)->put);
    free(*self_p);
    *self_p = NULL;
}

static void s_bind_key(sqlite3_stmt *st, const decompte_sent_key_t *k)
{
    sqlite3_bind_text(st, 1, k->convention, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->scope, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, k->year);
}

/* Resets st for its next use; rc is the last step's. */
static fb_err_t s_done(sqlite3_stmt *st, int rc)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
}

fb_err_t decompte_sent_get(decompte_sent_t *self, const decompte_sent_key_t *key,
                           decompte_sent_row_t *out)
{
    memset(out, 0, sizeof *out);
    s_bind_key(self->get, key);
    int rc = sqlite3_step(self->get);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(self->get, 0) == 32) {
        out->found = true;
        memcpy(out->digest, sqlite3_column_blob(self->get, 0), 32);
        out->seq = sqlite3_column_int64(self->get, 1);
        out->sent_ms = sqlite3_column_int64(self->get, 2);
    }
    return s_done(self->get, rc);
}

fb_err_t decompte_sent_put(decompte_sent_t *self, const decompte_sent_key_t *key,
                           const decompte_sent_row_t *row, const char *message_id_hex)
{
    s_bind_key(self->put, key);
    sqlite3_bind_blob(self->put, 5, row->digest, 32, SQLITE_STATIC);
    sqlite3_bind_int64(self->put, 6, row->seq);
    sqlite3_bind_int64(self->put, 7, row->sent_ms);
    sqlite3_bind_text(self->put, 8, message_id_hex, -1, SQLITE_STATIC);
    int rc = sqlite3_step(self->put);
    return s_done(self->put, rc == SQLITE_DONE ? rc : SQLITE_ERROR);
}

bool decompte_sent_due(const decompte_sent_row_t *last, const uint8_t digest[32], bool daily,
                       int64_t now_ms, bool *changed)
{
    *changed = !last->found || memcmp(last->digest, digest, 32) != 0;
    return *changed || (daily && now_ms - last->sent_ms >= DECOMPTE_SENT_DAY_MS);
}
