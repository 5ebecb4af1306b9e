/* stmts.h - the prepared statements of one SQLite connection, kept for
 * reuse: the ledger runs the same few dozen statements for every message
 * the broker accepts, and preparing them each time was a quarter of the
 * broker's instructions (docs/PERFORMANCE.md).
 *
 * A statement is found by its SQL text. stmts_get() hands it out ready to
 * bind; stmts_put() gives it back (reset, bindings cleared). Statements over
 * the cache's capacity are prepared and finalized each time, as before.
 * One user at a time: a statement handed out is not handed out again until
 * it is put back (a nested use of the same SQL gets a fresh one). */
#ifndef FLUXBUS_LEDGER_STMTS_H
#define FLUXBUS_LEDGER_STMTS_H

#include <sqlite3.h>

typedef struct stmts stmts_t;

/* A cache for `db` (borrowed: it must outlive the cache). NULL when out of
 * memory. */
stmts_t *stmts_new(sqlite3 *db);

/* The connection. */
sqlite3 *stmts_db(const stmts_t *self);

/* The statement for `sql`, prepared on first use; NULL when it does not
 * prepare (sqlite3_errmsg(stmts_db()) says why). */
sqlite3_stmt *stmts_get(stmts_t *self, const char *sql);

/* Gives st back (reset, bindings cleared; finalized when it was not
 * cached). Safe on NULL. */
void stmts_put(stmts_t *self, sqlite3_stmt *st);

/* Finalizes every cached statement; safe on NULL and twice. */
void stmts_destroy(stmts_t **self_p);

#endif
