/* test_acks.c - the acks the broker keeps before writing them (broker/acks.c):
 * they are handed over in arrival order and forgotten, they are due after
 * the delay counted from the oldest or as soon as `max` wait, a kept ack is
 * found by (recipient, seq) and by nothing else, and a write error stops the
 * flush but still empties the list (the caller's transaction is lost). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "acks.h"

#define S_RESA "reservataire:action-logement"
#define S_RESA2 "reservataire:prefecture-74"
#define S_T0 1767225600000

typedef struct {
    char line[8][96];
    size_t n;
    size_t fail_at; /* 1-based: the write that fails; 0 none */
} s_sink_t;

static fb_err_t s_write(void *ctx, const char *recipient, uint64_t seq, int64_t at_ms)
{
    s_sink_t *sink = ctx;
    if (sink->n < 8)
        snprintf(sink->line[sink->n], sizeof sink->line[0], "%s %llu %lld", recipient,
                 (unsigned long long)seq, (long long)at_ms);
    sink->n++;
    return sink->fail_at && sink->n == sink->fail_at ? FB_ERR_STORE : FB_OK;
}

/* The example of use: keep acks as they come, flush them in one go. */
static void test_acks_flush_hands_over_in_arrival_order_and_forgets(void **state)
{
    (void)state;
    acks_t *acks = acks_new(10, 1024);
    assert_non_null(acks);
    assert_int_equal(acks_add(acks, S_RESA, 7, S_T0), FB_OK);
    assert_int_equal(acks_add(acks, S_RESA2, 3, S_T0 + 1), FB_OK);
    assert_int_equal(acks_add(acks, S_RESA, 5, S_T0 + 2), FB_OK);
    assert_int_equal(acks_count(acks), 3);

    s_sink_t sink = {0};
    size_t written = 0;
    assert_int_equal(acks_flush(acks, s_write, &sink, &written), FB_OK);
    assert_int_equal(written, 3);
    assert_string_equal(sink.line[0], S_RESA " 7 1767225600000");
    assert_string_equal(sink.line[1], S_RESA2 " 3 1767225600001");
    assert_string_equal(sink.line[2], S_RESA " 5 1767225600002");
    assert_int_equal(acks_count(acks), 0);
    assert_false(acks_has(acks, S_RESA, 7));
    assert_int_equal(acks_due_ms(acks), INT64_MAX);

    /* Nothing kept: a flush writes nothing. */
    sink.n = 0;
    assert_int_equal(acks_flush(acks, s_write, &sink, &written), FB_OK);
    assert_int_equal(written, 0);
    assert_int_equal(sink.n, 0);
    acks_destroy(&acks);
    assert_null(acks);
    acks_destroy(&acks);
}

static void test_acks_due_after_delay_from_the_oldest(void **state)
{
    (void)state;
    acks_t *acks = acks_new(10, 1024);
    assert_false(acks_due(acks, S_T0 + 1000000));
    assert_int_equal(acks_add(acks, S_RESA, 1, S_T0), FB_OK);
    assert_int_equal(acks_add(acks, S_RESA, 2, S_T0 + 8), FB_OK);
    assert_int_equal(acks_due_ms(acks), S_T0 + 10);
    assert_false(acks_due(acks, S_T0 + 9));
    assert_true(acks_due(acks, S_T0 + 10));
    /* The clock set back does not hold them for as long as it went back. */
    assert_true(acks_due(acks, S_T0 - 60000));
    acks_destroy(&acks);
}

static void test_acks_zero_delay_is_due_at_once(void **state)
{
    (void)state;
    acks_t *acks = acks_new(0, 1024);
    assert_int_equal(acks_add(acks, S_RESA, 1, S_T0), FB_OK);
    assert_true(acks_due(acks, S_T0));
    acks_destroy(&acks);
}

static void test_acks_due_as_soon_as_max_wait(void **state)
{
    (void)state;
    acks_t *acks = acks_new(1000, 3);
    assert_int_equal(acks_add(acks, S_RESA, 1, S_T0), FB_OK);
    assert_int_equal(acks_add(acks, S_RESA, 2, S_T0), FB_OK);
    assert_false(acks_due(acks, S_T0));
    assert_int_equal(acks_add(acks, S_RESA, 3, S_T0), FB_OK);
    assert_true(acks_due(acks, S_T0));
    assert_true(acks_due_ms(acks) <= S_T0);
    /* More than max may be kept (a turn's batch of ACKs): still due. */
    for (uint64_t seq = 4; seq < 200; seq++)
        assert_int_equal(acks_add(acks, S_RESA, seq, S_T0), FB_OK);
    assert_int_equal(acks_count(acks), 199);
    assert_true(acks_has(acks, S_RESA, 150));
    assert_true(acks_due(acks, S_T0));
    acks_destroy(&acks);
}

static void test_acks_has_matches_recipient_and_seq_only(void **state)
{
    (void)state;
    acks_t *acks = acks_new(10, 1024);
    assert_false(acks_has(acks, S_RESA, 0));
    assert_int_equal(acks_add(acks, S_RESA, 40, S_T0), FB_OK);
    assert_int_equal(acks_add(acks, S_RESA, 20, S_T0), FB_OK);
    assert_true(acks_has(acks, S_RESA, 40));
    assert_true(acks_has(acks, S_RESA, 20));
    assert_false(acks_has(acks, S_RESA, 30));  /* between the two */
    assert_false(acks_has(acks, S_RESA, 41));  /* above every kept seq */
    assert_false(acks_has(acks, S_RESA2, 40)); /* another recipient's */
    acks_destroy(&acks);
}

static void test_acks_write_error_stops_the_flush_and_empties(void **state)
{
    (void)state;
    acks_t *acks = acks_new(10, 1024);
    for (uint64_t seq = 1; seq <= 4; seq++)
        assert_int_equal(acks_add(acks, S_RESA, seq, S_T0), FB_OK);
    s_sink_t sink = {.fail_at = 2};
    size_t written = 0;
    assert_int_equal(acks_flush(acks, s_write, &sink, &written), FB_ERR_STORE);
    assert_int_equal(sink.n, 2); /* none after the failure */
    assert_int_equal(written, 2);
    assert_int_equal(acks_count(acks), 0);
    assert_false(acks_has(acks, S_RESA, 4));
    acks_destroy(&acks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acks_flush_hands_over_in_arrival_order_and_forgets),
        cmocka_unit_test(test_acks_due_after_delay_from_the_oldest),
        cmocka_unit_test(test_acks_zero_delay_is_due_at_once),
        cmocka_unit_test(test_acks_due_as_soon_as_max_wait),
        cmocka_unit_test(test_acks_has_matches_recipient_and_seq_only),
        cmocka_unit_test(test_acks_write_error_stops_the_flush_and_empties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
