/* test_background.c - a background thread of the broker (broker/background.c)
 * lowers its own priority, not its process's, and counts its own CPU time:
 * it grows while the thread spins, never faster than the clock, and not
 * while it sleeps. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "background.h"

typedef struct {
    int nice_before, nice_after;
    double spun_cpu_s, spun_wall_s, slept_cpu_s;
} s_seen_t;

static int s_own_nice(void)
{
    return getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
}

static double s_wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *s_thread(void *arg)
{
    s_seen_t *seen = arg;
    seen->nice_before = s_own_nice();
    background_thread_lower();
    seen->nice_after = s_own_nice();
    /* Spins until it counted 50 ms of CPU (at nice 10, on a busy machine,
     * that may take a while: at most 10 s), then sleeps 200 ms. */
    double cpu0 = background_thread_cpu_s(), wall0 = s_wall_s();
    volatile unsigned long spin = 0;
    while (background_thread_cpu_s() - cpu0 < 0.05 && s_wall_s() - wall0 < 10)
        spin++;
    double cpu1 = background_thread_cpu_s();
    seen->spun_wall_s = s_wall_s() - wall0;
    usleep(200 * 1000);
    seen->spun_cpu_s = cpu1 - cpu0;
    seen->slept_cpu_s = background_thread_cpu_s() - cpu1;
    return NULL;
}

static void test_a_background_thread_lowers_itself_and_counts_its_cpu(void **state)
{
    (void)state;
    int process_nice = s_own_nice();
    s_seen_t seen = {0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, s_thread, &seen), 0);
    pthread_join(t, NULL);
    assert_int_equal(seen.nice_before, process_nice);
    /* Lowered, unless the process already ran lower than that. */
    int expected = process_nice > BACKGROUND_NICE ? process_nice : BACKGROUND_NICE;
    assert_int_equal(seen.nice_after, expected);
    /* The calling thread (the loop's stand-in) keeps its own priority. */
    assert_int_equal(s_own_nice(), process_nice);
    /* Spun: its CPU time, never more than the time that passed; slept:
     * none (a count of wall time would give 0.2 s). */
    assert_true(seen.spun_cpu_s >= 0.05);
    assert_true(seen.spun_cpu_s <= seen.spun_wall_s + 0.005);
    assert_true(seen.slept_cpu_s < 0.01);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_background_thread_lowers_itself_and_counts_its_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
