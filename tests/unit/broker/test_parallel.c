/* test_parallel.c - the thread pool of broker/parallel.c: every item of a
 * run is done exactly once, by more than one thread when the pool has
 * several and the items take time, runs follow each other on the same
 * pool, and the degenerate sizes (no item, one item, one thread) work. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "parallel.h"

#define S_ITEMS 4096

typedef struct {
    atomic_int done[S_ITEMS];
    pthread_t who[S_ITEMS];
    int spin_us; /* work per item, so that others get a share */
} s_run_t;

static void s_spin(int us)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do
        clock_gettime(CLOCK_MONOTONIC, &now);
    while ((now.tv_sec - start.tv_sec) * 1000000 + (now.tv_nsec - start.tv_nsec) / 1000 < us);
}

static void s_item(void *ctx, size_t i)
{
    s_run_t *run = ctx;
    s_spin(run->spin_us);
    atomic_fetch_add(&run->done[i], 1);
    run->who[i] = pthread_self();
}

static size_t s_threads_seen(const s_run_t *run, size_t n)
{
    pthread_t seen[64];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < k && !pthread_equal(seen[j], run->who[i]))
            j++;
        if (j == k && k < 64)
            seen[k++] = run->who[i];
    }
    return k;
}

static void s_each_once(const s_run_t *run, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(atomic_load(&run->done[i]), 1);
    for (size_t i = n; i < S_ITEMS; i++)
        assert_int_equal(atomic_load(&run->done[i]), 0);
}

static void test_parallel_every_item_once_over_several_threads(void **state)
{
    (void)state;
    parallel_t *pool = parallel_new(4);
    assert_non_null(pool);
    assert_int_equal(parallel_threads(pool), 4);
    static s_run_t run;
    memset(&run, 0, sizeof run);
    run.spin_us = 500;
    parallel_for(pool, 200, s_item, &run);
    s_each_once(&run, 200);
    assert_true(s_threads_seen(&run, 200) >= 2);
    parallel_destroy(&pool);
    assert_null(pool);
    parallel_destroy(&pool); /* twice is safe */
}

static void test_parallel_runs_follow_each_other(void **state)
{
    (void)state;
    parallel_t *pool = parallel_new(3);
    assert_non_null(pool);
    static s_run_t run;
    for (size_t n = 0; n <= 64; n++) {
        memset(&run, 0, sizeof run);
        parallel_for(pool, n, s_item, &run);
        s_each_once(&run, n);
    }
    memset(&run, 0, sizeof run);
    parallel_for(pool, S_ITEMS, s_item, &run);
    s_each_once(&run, S_ITEMS);
    parallel_destroy(&pool);
}

static void test_parallel_one_thread_runs_on_the_caller(void **state)
{
    (void)state;
    parallel_t *pool = parallel_new(1);
    assert_non_null(pool);
    assert_int_equal(parallel_threads(pool), 1);
    static s_run_t run;
    memset(&run, 0, sizeof run);
    parallel_for(pool, 100, s_item, &run);
    s_each_once(&run, 100);
    for (size_t i = 0; i < 100; i++)
        assert_true(pthread_equal(run.who[i], pthread_self()));
    parallel_destroy(&pool);
}

static void test_parallel_zero_means_one_per_cpu(void **state)
{
    (void)state;
    parallel_t *pool = parallel_new(0);
    assert_non_null(pool);
    assert_true(parallel_threads(pool) >= 1);
    parallel_destroy(&pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_every_item_once_over_several_threads),
        cmocka_unit_test(test_parallel_runs_follow_each_other),
        cmocka_unit_test(test_parallel_one_thread_runs_on_the_caller),
        cmocka_unit_test(test_parallel_zero_means_one_per_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
