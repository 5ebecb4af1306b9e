/* scratch.c - commits of scratch rows into a real store (scratch.h). */
#include "scratch.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

void scratch_commit_rows(store_t *store, int rows, int bytes)
{
    sqlite3 *db = store_db(store);
    assert_int_equal(
        sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS scratch (x BLOB)", NULL, NULL, NULL),
        SQLITE_OK);
    char sql[80];
    snprintf(sql, sizeof sql, "INSERT INTO scratch VALUES (randomblob(%d))", bytes);
    for (int i = 0; i < rows; i++)
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}
