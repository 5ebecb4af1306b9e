/* statedb.h - the few helpers every adapter's state tables use around SQLite
 * prepared statements: binding text, running a write, reading a first row,
 * copying a column. Statements are reset (and their bindings cleared) by
 * these helpers, so one prepared statement serves again and again. */
#ifndef FLUXBUS_ADAPTER_STATEDB_H
#define FLUXBUS_ADAPTER_STATEDB_H

#include <sqlite3.h>

#include "fluxbus/err.h"

/* Binds s as text, "" when s is NULL. */
void statedb_bind_text(sqlite3_stmt *st, int i, const char *s);

/* Binds s as text, SQL NULL when s is NULL. */
void statedb_bind_text_or_null(sqlite3_stmt *st, int i, const char *s);

/* Runs a statement that returns no row, then resets it: FB_OK or
 * FB_ERR_STORE. */
fb_err_t statedb_run(sqlite3_stmt *st);

/* Steps a read to its first row: FB_OK (read the columns, then db_done),
 * FB_ERR_NOT_FOUND or FB_ERR_STORE (the statement is reset already). */
fb_err_t statedb_row(sqlite3_stmt *st);

/* Resets a read statement after its rows. */
void statedb_done(sqlite3_stmt *st);

/* A copy of text column i ("" for NULL); NULL only when out of memory. */
char *statedb_col_dup(sqlite3_stmt *st, int i);

#endif
