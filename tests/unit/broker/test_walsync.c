/* test_walsync.c - the store's commits made durable off the loop thread
 * (broker/walsync.c, store_defer_sync): the store counts its commits; a
 * generation started on the thread or waited for on the caller is said
 * durable; a WAL that cannot be synced, or is gone, is an error that
 * stays; waiters on several threads all get their answer. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "scratch.h"
#include "store.h"
#include "tmpdir.h"
#include "walsync.h"

static int s_synchronous(store_t *store)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(store), "PRAGMA synchronous", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* A store in a new scratch directory (dir[256], path[300]), its commits
 * deferred: FULL before, as every store opens. */
static store_t *s_open_deferred(char *dir, char *path)
{
    assert_int_equal(tmpdir_make(dir, 256, "walsync"), 0);
    snprintf(path, 300, "%s/store.db", dir);
    store_t *store = store_open(path, NULL, 0);
    assert_non_null(store);
    assert_int_equal(s_synchronous(store), 2);
    assert_int_equal(store_defer_sync(store), FB_OK);
    return store;
}

static void test_commits_counted_and_synced(void **state)
{
    (void)state;
    char dir[256], path[300], why[600] = "";
    store_t *store = s_open_deferred(dir, path);
    assert_int_equal(s_synchronous(store), 1); /* NORMAL */

    uint64_t before = store_commits(store);
    scratch_commit_rows(store, 5, 100); /* the CREATE and five INSERTs, each a commit */
    assert_int_equal(store_commits(store), before + 6);
    store_begin(store);
    store_commit(store); /* a transaction that wrote nothing is no commit */
    assert_int_equal(store_commits(store), before + 6);

    walsync_t *ws = walsync_new(path, why, sizeof why);
    assert_non_null(ws);
    assert_int_equal(walsync_wait(ws, 0, why, sizeof why), FB_OK);
    walsync_start(ws, store_commits(store)); /* on the thread */
    assert_int_equal(walsync_wait(ws, store_commits(store), why, sizeof why), FB_OK);
    scratch_commit_rows(store, 3, 100);
    /* nothing started: the caller syncs */
    assert_int_equal(walsync_wait(ws, store_commits(store), why, sizeof why), FB_OK);
    walsync_destroy(&ws);
    walsync_destroy(&ws); /* twice is safe */
    store_destroy(&store);
    tmpdir_remove(dir);
}

static void test_failure_stays(void **state)
{
    (void)state;
    char dir[256], path[300], wal[320], why[600] = "";
    assert_int_equal(tmpdir_make(dir, sizeof dir, "walsync"), 0);
    snprintf(path, sizeof path, "%s/store.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", path);
    assert_int_equal(mkdir(wal, 0700), 0); /* a WAL that cannot be opened for writing */
    walsync_t *ws = walsync_new(path, why, sizeof why);
    assert_non_null(ws);
    walsync_start(ws, 1);
    assert_int_equal(walsync_wait(ws, 1, why, sizeof why), FB_ERR_STORE);
    assert_non_null(strstr(why, "store.db-wal"));
    why[0] = '\0';
    assert_int_equal(walsync_wait(ws, 0, why, sizeof why), FB_ERR_STORE); /* it stays */
    assert_non_null(strstr(why, "store.db-wal"));
    walsync_destroy(&ws);
    assert_int_equal(rmdir(wal), 0);
    tmpdir_remove(dir);
}

static void test_no_wal_is_a_failure(void **state)
{
    (void)state;
    char dir[256], path[300], why[600] = "";
    assert_int_equal(tmpdir_make(dir, sizeof dir, "walsync"), 0);
    snprintf(path, sizeof path, "%s/store.db", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    walsync_t *ws = walsync_new(path, why, sizeof why);
    assert_non_null(ws);
    assert_int_equal(walsync_wait(ws, 7, why, sizeof why), FB_ERR_STORE);
    assert_non_null(strstr(why, "store.db-wal"));
    walsync_destroy(&ws);
    tmpdir_remove(dir);
}

typedef struct {
    walsync_t *ws;
    uint64_t gen;
    fb_err_t rc;
} s_waiter_t;

static void *s_wait(void *arg)
{
    s_waiter_t *w = arg;
    char why[600];
    w->rc = walsync_wait(w->ws, w->gen, why, sizeof why);
    return NULL;
}

static void test_waiters_on_threads(void **state)
{
    (void)state;
    char dir[256], path[300], why[600] = "";
    store_t *store = s_open_deferred(dir, path);
    walsync_t *ws = walsync_new(path, why, sizeof why);
    assert_non_null(ws);
    enum { N = 6 };
    s_waiter_t w[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        scratch_commit_rows(store, 1, 100);
        walsync_start(ws, store_commits(store));
        w[i] = (s_waiter_t){ws, store_commits(store), FB_ERR_STORE};
        assert_int_equal(pthread_create(&t[i], NULL, s_wait, &w[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].rc, FB_OK);
    }
    walsync_destroy(&ws);
    store_destroy(&store);
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commits_counted_and_synced),
        cmocka_unit_test(test_failure_stays),
        cmocka_unit_test(test_no_wal_is_a_failure),
        cmocka_unit_test(test_waiters_on_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
