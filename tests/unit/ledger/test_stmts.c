/* test_stmts.c - the statement cache of ledger/stmts.c: the same SQL gives
 * the same statement back once put back, ready to bind again (reset,
 * bindings cleared); a nested use of the same SQL gets a fresh statement
 * that is finalized when put back; SQL that does not prepare gives NULL;
 * past its capacity it still works, uncached; a buffer that held one SQL
 * text and now holds another gets the other's statement (the cache finds
 * texts by their address first). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "stmts.h"

static int s_setup(void **state)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)", NULL, NULL, NULL),
        SQLITE_OK);
    *state = db;
    return 0;
}

static int s_teardown(void **state)
{
    sqlite3_close(*state);
    return 0;
}

static void s_insert(stmts_t *q, int k, const char *v)
{
    sqlite3_stmt *st = stmts_get(q, "INSERT INTO t (k, v) VALUES (?1, ?2)");
    assert_non_null(st);
    sqlite3_bind_int(st, 1, k);
    sqlite3_bind_text(st, 2, v, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    stmts_put(q, st);
}

static const char *s_value(stmts_t *q, int k, char *out, size_t cap)
{
    sqlite3_stmt *st = stmts_get(q, "SELECT v FROM t WHERE k = ?1");
    assert_non_null(st);
    sqlite3_bind_int(st, 1, k);
    out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    stmts_put(q, st);
    return out;
}

static void test_stmts_same_sql_same_statement_ready_again(void **state)
{
    stmts_t *q = stmts_new(*state);
    assert_non_null(q);
    assert_ptr_equal(stmts_db(q), *state);
    sqlite3_stmt *a = stmts_get(q, "SELECT v FROM t WHERE k = ?1");
    stmts_put(q, a);
    s_insert(q, 1, "un");
    s_insert(q, 2, "deux");
    char v[16];
    assert_string_equal(s_value(q, 1, v, sizeof v), "un");
    assert_string_equal(s_value(q, 2, v, sizeof v), "deux");
    assert_string_equal(s_value(q, 3, v, sizeof v), "");
    sqlite3_stmt *b = stmts_get(q, "SELECT v FROM t WHERE k = ?1");
    assert_ptr_equal(a, b);
    /* Bindings were cleared: an unbound parameter is NULL, no row. */
    assert_int_equal(sqlite3_step(b), SQLITE_DONE);
    stmts_put(q, b);
    stmts_destroy(&q);
    assert_null(q);
    stmts_destroy(&q);
}

static void test_stmts_nested_use_gets_a_fresh_statement(void **state)
{
    stmts_t *q = stmts_new(*state);
    s_insert(q, 1, "un");
    sqlite3_stmt *outer = stmts_get(q, "SELECT v FROM t WHERE k = ?1");
    sqlite3_bind_int(outer, 1, 1);
    assert_int_equal(sqlite3_step(outer), SQLITE_ROW);
    char v[16];
    assert_string_equal(s_value(q, 1, v, sizeof v), "un"); /* inner, while outer is out */
    assert_string_equal((const char *)sqlite3_column_text(outer, 0), "un");
    stmts_put(q, outer);
    assert_ptr_equal(stmts_get(q, "SELECT v FROM t WHERE k = ?1"), outer);
    stmts_put(q, outer);
    stmts_destroy(&q);
}

static void test_stmts_bad_sql_is_null(void **state)
{
    stmts_t *q = stmts_new(*state);
    assert_null(stmts_get(q, "SELECT nothing FROM nowhere"));
    stmts_put(q, NULL);
    stmts_destroy(&q);
}

static void test_stmts_a_buffer_with_other_sql_gets_its_statement(void **state)
{
    stmts_t *q = stmts_new(*state);
    s_insert(q, 1, "un");
    char sql[64];
    sqlite3_stmt *st[2];
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 2; i++) {
            snprintf(sql, sizeof sql, "SELECT %s FROM t WHERE k = 1", i ? "k" : "v");
            st[i] = stmts_get(q, sql);
            assert_int_equal(sqlite3_step(st[i]), SQLITE_ROW);
            assert_string_equal((const char *)sqlite3_column_text(st[i], 0), i ? "1" : "un");
            stmts_put(q, st[i]);
        }
    assert_ptr_not_equal(st[0], st[1]);
    stmts_destroy(&q);
}

static void test_stmts_past_capacity_still_works(void **state)
{
    stmts_t *q = stmts_new(*state);
    s_insert(q, 7, "sept");
    for (int i = 0; i < 600; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT v, %d FROM t WHERE k = ?1", i);
        sqlite3_stmt *st = stmts_get(q, sql);
        assert_non_null(st);
        sqlite3_bind_int(st, 1, 7);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 1), i);
        stmts_put(q, st);
    }
    char v[16];
    assert_string_equal(s_value(q, 7, v, sizeof v), "sept");
    stmts_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stmts_same_sql_same_statement_ready_again, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_stmts_nested_use_gets_a_fresh_statement, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_stmts_bad_sql_is_null, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_stmts_a_buffer_with_other_sql_gets_its_statement,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_stmts_past_capacity_still_works, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
