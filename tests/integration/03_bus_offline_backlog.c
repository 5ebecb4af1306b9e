/* 03_bus_offline_backlog - a réservataire that is not connected loses
 * nothing: its backlog waits in the broker's store and arrives complete, in
 * send order, when it connects; what it received but did not acknowledge is
 * sent again first after a reconnect; the in-flight window asked for in HELLO
 * bounds what the broker pushes without an ack, and everything still arrives. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_BACKLOG 200
#define QUIET_MS 400 /* "receives nothing": wait this long for a delivery */

static void s_expect_ack(fb_client_t *c, const fbt_sent_t *sent, size_t i)
{
    fb_delivery_t *d = fbt_expect_sent(c, sent, i);
    assert_int_equal(fb_client_ack(c, d), FB_OK);
    fb_delivery_destroy(&d);
}

/* A round trip on c's connection: the broker handles one connection's frames
 * in order and answers after COMMIT, so once the SubAck is back every ACK c
 * sent before is on disk. A réservataire may not subscribe: the refusal is
 * the answer we wait for. */
static void s_barrier(fb_client_t *c)
{
    assert_int_equal(fb_client_subscribe(c, "caleol/74010"), FB_ERR_NOT_AUTHORIZED);
}

/* Connects the réservataire (closing first the connection it still has). */
static void s_connect_resa(fbt_pair_t *w)
{
    fb_client_destroy(&w->cr);
    w->cr = fbt_client(&w->b, &w->resa);
}

static void test_offline_backlog_arrives_complete_in_send_order(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open_offline(&w);
    static fbt_sent_t sent[N_BACKLOG];
    fbt_send_logements(w.cb, w.resa.actor, "vac", sent, 0,
                       N_BACKLOG); /* the réservataire never connected */

    s_connect_resa(&w);
    for (size_t i = 0; i < N_BACKLOG; i++)
        s_expect_ack(w.cr, sent, i);
    fbt_expect_nothing(w.cr, QUIET_MS);
    s_barrier(w.cr);

    /* Everything was acknowledged: a new connection gets nothing again. */
    s_connect_resa(&w);
    fbt_expect_nothing(w.cr, QUIET_MS);
    fbt_pair_close(&w);
}

static void test_redelivers_unacked_in_order(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open_offline(&w);
    fbt_sent_t sent[20];
    fbt_send_logements(w.cb, w.resa.actor, "vac", sent, 0, 20);

    /* Receive ten, acknowledge none, go away. */
    s_connect_resa(&w);
    for (size_t i = 0; i < 10; i++) {
        fb_delivery_t *d = fbt_expect_sent(w.cr, sent, i);
        fb_delivery_destroy(&d);
    }

    /* The unacknowledged ten come first, in order, then the rest. */
    s_connect_resa(&w);
    for (size_t i = 0; i < 20; i++)
        s_expect_ack(w.cr, sent, i);
    fbt_expect_nothing(w.cr, QUIET_MS);
    fbt_pair_close(&w);
}

static void test_redelivery_skips_acked_and_keeps_order(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open_offline(&w);
    fbt_sent_t sent[20];
    fbt_send_logements(w.cb, w.resa.actor, "vac", sent, 0, 20);

    /* Of the first ten, acknowledge only the odd positions (1, 3, ... 9). */
    s_connect_resa(&w);
    for (size_t i = 0; i < 10; i++) {
        fb_delivery_t *d = fbt_expect_sent(w.cr, sent, i);
        if (i % 2 == 1)
            assert_int_equal(fb_client_ack(w.cr, d), FB_OK);
        fb_delivery_destroy(&d);
    }
    s_barrier(w.cr);

    /* The gaps come back first, in order, then the ten never received. */
    s_connect_resa(&w);
    for (size_t i = 0; i < 10; i += 2)
        s_expect_ack(w.cr, sent, i);
    for (size_t i = 10; i < 20; i++)
        s_expect_ack(w.cr, sent, i);
    fbt_expect_nothing(w.cr, QUIET_MS);
    fbt_pair_close(&w);
}

static void test_window_of_four_bounds_inflight_and_everything_arrives(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open_offline(&w);
    fbt_sent_t sent[60];
    fbt_send_logements(w.cb, w.resa.actor, "vac", sent, 0, 50);

    fb_client_config_t cfg = {
        .endpoint = w.b.endpoint,
        .keys = &w.resa,
        .broker = &w.b.keys,
        .timeout_ms = 5000,
        .window = 4,
        .log = fb_log_stderr,
    };
    fb_err_t err = FB_OK;
    w.cr = fb_client_new(&cfg, &err);
    assert_int_equal(err, FB_OK);
    assert_non_null(w.cr);

    /* Four in flight without an ack, then the broker waits. */
    fb_delivery_t *held[4];
    for (size_t i = 0; i < 4; i++)
        held[i] = fbt_expect_sent(w.cr, sent, i);
    fb_delivery_t *d = NULL;
    assert_int_equal(fb_client_recv(w.cr, &d, QUIET_MS), FB_ERR_TIMEOUT);
    assert_null(d);
    assert_true(fbt_log_contains(&w.b, "broker receiver peer=reservataire:action-logement "
                                       "window=4"));

    /* One ack frees one slot: exactly the next message comes. */
    assert_int_equal(fb_client_ack(w.cr, held[0]), FB_OK);
    fb_delivery_destroy(&held[0]);
    held[0] = fbt_expect_sent(w.cr, sent, 4);
    assert_int_equal(fb_client_recv(w.cr, &d, QUIET_MS), FB_ERR_TIMEOUT);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(fb_client_ack(w.cr, held[i]), FB_OK);
        fb_delivery_destroy(&held[i]);
    }

    /* The rest of the backlog, then messages sent while it is connected. */
    for (size_t i = 5; i < 50; i++)
        s_expect_ack(w.cr, sent, i);
    fbt_send_logements(w.cb, w.resa.actor, "vac", sent, 50, 10);
    for (size_t i = 50; i < 60; i++)
        s_expect_ack(w.cr, sent, i);
    fbt_expect_nothing(w.cr, QUIET_MS);
    fbt_pair_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offline_backlog_arrives_complete_in_send_order),
        cmocka_unit_test(test_redelivers_unacked_in_order),
        cmocka_unit_test(test_redelivery_skips_acked_and_keeps_order),
        cmocka_unit_test(test_window_of_four_bounds_inflight_and_everything_arrives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
