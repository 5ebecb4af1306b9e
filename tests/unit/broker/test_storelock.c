/* test_storelock.c - the store's exclusive lock (broker/storelock.c): one
 * holder at a time, named in the refusal of the next, free again once
 * released; the lock file says who took it last. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "storelock.h"
#include "tmpdir.h"

static void test_one_holder_at_a_time(void **state)
{
    (void)state;
    char dir[64], store[128], err[512] = "";
    assert_int_equal(tmpdir_make(dir, sizeof dir, "storelock"), 0);
    snprintf(store, sizeof store, "%s/bus.db", dir);
    storelock_t *broker = storelock_take(store, "fluxbus-broker", err, sizeof err);
    assert_non_null(broker);
    /* Another open of the lock file, even in this process, is refused. */
    assert_null(storelock_take(store, "fluxbus ledger rebuild", err, sizeof err));
    char want[512];
    snprintf(want, sizeof want,
             "the store %s is in use by fluxbus-broker pid %ld (lock file %s.lock)", store,
             (long)getpid(), store);
    assert_string_equal(err, want);
    storelock_release(&broker);
    storelock_release(&broker); /* safe twice */
    storelock_t *rebuild = storelock_take(store, "fluxbus ledger rebuild", err, sizeof err);
    assert_non_null(rebuild);
    storelock_release(&rebuild);
    tmpdir_remove(dir);
}

static void test_a_lock_file_that_cannot_be_made_is_said(void **state)
{
    (void)state;
    char err[512] = "";
    assert_null(storelock_take("/nonexistent-dir/bus.db", "fluxbus-broker", err, sizeof err));
    assert_string_equal(err, "cannot open the lock file /nonexistent-dir/bus.db.lock: No such "
                             "file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_holder_at_a_time),
        cmocka_unit_test(test_a_lock_file_that_cannot_be_made_is_said),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
