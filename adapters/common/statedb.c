/* statedb.c - SQLite statement helpers for the adapters' state tables (see
 * statedb.h). */
#include "statedb.h"

#include <stdlib.h>
#include <string.h>

void statedb_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

void statedb_bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

fb_err_t statedb_run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    statedb_done(st);
    return rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
}

fb_err_t statedb_row(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return FB_OK;
    statedb_done(st);
    return rc == SQLITE_DONE ? FB_ERR_NOT_FOUND : FB_ERR_STORE;
}

void statedb_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

char *statedb_col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return strdup(s ? (const char *)s : "");
}
