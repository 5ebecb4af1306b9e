/* test_checkpointer.c - the WAL's checkpoints off the loop thread
 * (broker/checkpointer.c): once the store's connection leaves them to the
 * checkpointer (store_checkpoint_on_commit), its commits no longer copy the
 * WAL into the database file; the checkpointer's thread does, on its own
 * connection, while the store keeps committing; a store file that cannot
 * be opened is a clear error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "checkpointer.h"
#include "scratch.h"
#include "store.h"
#include "tmpdir.h"

static off_t s_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static void s_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_the_checkpointer_copies_the_wal_the_store_leaves(void **state)
{
    (void)state;
    char dir[64], path[128], err[256] = "";
    assert_int_equal(tmpdir_make(dir, sizeof dir, "ckpt"), 0);
    snprintf(path, sizeof path, "%s/store.db", dir);
    store_t *store = store_open(path, err, sizeof err);
    assert_non_null(store);
    store_checkpoint_on_commit(store, false);
    off_t before = s_size(path);

    /* 2,000 commits of 4 KB: past SQLite's own threshold (1,000 pages),
     * under the fallback's: the database file does not move. */
    scratch_commit_rows(store, 2000, 4000);
    assert_int_equal(s_size(path), before);

    checkpointer_t *c = checkpointer_start(path, 10, NULL, NULL, err, sizeof err);
    assert_non_null(c);
    scratch_commit_rows(store, 100, 4000); /* the store keeps committing meanwhile */
    for (int i = 0; i < 500 && s_size(path) < before + 2000 * 4000; i++)
        s_sleep_ms(10);
    assert_true(s_size(path) >= before + 2000 * 4000);
    checkpointer_stop(&c);
    assert_null(c);
    checkpointer_stop(&c); /* twice is safe */

    /* The store checkpointing itself again: its commits copy the WAL. */
    store_checkpoint_on_commit(store, true);
    off_t now = s_size(path);
    scratch_commit_rows(store, 1200, 4000);
    assert_true(s_size(path) > now);
    store_destroy(&store);
    tmpdir_remove(dir);
}

static void test_a_store_file_that_does_not_open_is_a_clear_error(void **state)
{
    (void)state;
    char err[256] = "";
    checkpointer_t *c =
        checkpointer_start("/nonexistent/fluxbus/store.db", 10, NULL, NULL, err, sizeof err);
    assert_null(c);
    assert_non_null(strstr(err, "/nonexistent/fluxbus/store.db"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_checkpointer_copies_the_wal_the_store_leaves),
        cmocka_unit_test(test_a_store_file_that_does_not_open_is_a_clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
