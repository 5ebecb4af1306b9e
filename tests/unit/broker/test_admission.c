/* test_admission.c - per-sender limits (broker/admission.c): the token
 * bucket refuses past the burst and refills at the rate, one sender's flood
 * leaves the others untouched, and the backlog estimate is corrected from the
 * count callback only when it reaches the cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admission.h"

#define S_A "reservataire:prefecture-74"
#define S_B "bailleur:552046955"

/* The example of use: a burst of 5 at 10/s, then one more token per 100 ms. */
static void test_admission_bucket_refuses_past_burst_then_refills(void **state)
{
    admission_t *adm = admission_new(10, 5, 100);
    assert_non_null(adm);
    int64_t t = 1767225600000;
    for (int i = 0; i < 5; i++)
        assert_int_equal(admission_take(adm, S_A, t), FB_OK);
    assert_int_equal(admission_take(adm, S_A, t), FB_ERR_RATE_LIMITED);
    assert_int_equal(admission_take(adm, S_A, t + 50), FB_ERR_RATE_LIMITED);
    assert_int_equal(admission_take(adm, S_A, t + 100), FB_OK);
    assert_int_equal(admission_take(adm, S_A, t + 100), FB_ERR_RATE_LIMITED);
    /* A long pause refills to the burst, not beyond. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(admission_take(adm, S_A, t + 60000), FB_OK);
    assert_int_equal(admission_take(adm, S_A, t + 60000), FB_ERR_RATE_LIMITED);
    admission_destroy(&adm);
    assert_null(adm);
}

static void test_admission_one_flood_leaves_others_alone(void **state)
{
    admission_t *adm = admission_new(1, 3, 100);
    int64_t t = 1000;
    int refused = 0;
    for (int i = 0; i < 1000; i++)
        refused += admission_take(adm, S_A, t) == FB_ERR_RATE_LIMITED;
    assert_int_equal(refused, 997);
    for (int i = 0; i < 3; i++)
        assert_int_equal(admission_take(adm, S_B, t), FB_OK);
    admission_destroy(&adm);
}

static void test_admission_clock_going_back_does_not_add_tokens(void **state)
{
    admission_t *adm = admission_new(1000, 1, 100);
    assert_int_equal(admission_take(adm, S_A, 5000), FB_OK);
    assert_int_equal(admission_take(adm, S_A, 1000), FB_ERR_RATE_LIMITED);
    admission_destroy(&adm);
}

typedef struct {
    uint64_t value;
    int calls;
    fb_err_t rc;
} s_counter_t;

static fb_err_t s_count(void *ctx, const char *actor, uint64_t *out)
{
    s_counter_t *c = ctx;
    assert_string_equal(actor, S_A);
    c->calls++;
    *out = c->value;
    return c->rc;
}

static void test_admission_backlog_reads_store_first_and_at_cap_only(void **state)
{
    admission_t *adm = admission_new(10, 10, 4);
    s_counter_t c = {.value = 2};
    assert_int_equal(admission_backlog_check(adm, S_A, s_count, &c), FB_OK);
    assert_int_equal(c.calls, 1);
    admission_backlog_add(adm, S_A, 1);
    assert_int_equal(admission_backlog_check(adm, S_A, s_count, &c), FB_OK);
    assert_int_equal(c.calls, 1); /* 3 < 4: the estimate is enough */
    admission_backlog_add(adm, S_A, 1);
    c.value = 4; /* nobody acked */
    assert_int_equal(admission_backlog_check(adm, S_A, s_count, &c), FB_ERR_BACKLOG_FULL);
    assert_int_equal(c.calls, 2);
    c.value = 1; /* recipients caught up */
    assert_int_equal(admission_backlog_check(adm, S_A, s_count, &c), FB_OK);
    assert_int_equal(c.calls, 3);
    admission_destroy(&adm);
}

static void test_admission_backlog_passes_store_errors(void **state)
{
    admission_t *adm = admission_new(10, 10, 4);
    s_counter_t c = {.rc = FB_ERR_STORE};
    assert_int_equal(admission_backlog_check(adm, S_A, s_count, &c), FB_ERR_STORE);
    c.rc = FB_OK;
    assert_int_equal(admission_backlog_check(adm, S_A, s_count, &c), FB_OK);
    assert_int_equal(c.calls, 2);
    admission_destroy(&adm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admission_bucket_refuses_past_burst_then_refills),
        cmocka_unit_test(test_admission_one_flood_leaves_others_alone),
        cmocka_unit_test(test_admission_clock_going_back_does_not_add_tokens),
        cmocka_unit_test(test_admission_backlog_reads_store_first_and_at_cap_only),
        cmocka_unit_test(test_admission_backlog_passes_store_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
