/* 17_bus_acks_commit - a recipient's ACK that arrives alone does not cost a
 * commit of its own: the broker keeps it and writes it with the next commit
 * (docs/PROTOCOL.md 7.4). What that must not change: acks sent one by one
 * are all applied by a clean stop; after kill -9 only the messages whose ack
 * was still kept come again, and nothing is lost; a new HELLO does not get
 * back what was acked; kept acks reach the disk within ack_delay_ms with no
 * other traffic; and any answer after a client's ACKs (PROTOCOL.md 3.2)
 * still means they are on disk.
 *
 * Most tests run the broker with --ack-delay-ms 60000, so that acks stay
 * kept for the whole test unless something else commits them; the broker's
 * debug line "ack-kept" says when it has taken one. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_SENT 10
#define QUIET_MS 400 /* "receives nothing": wait this long for a delivery */
#define WAIT_MS 5000

static const char *const s_long_delay[] = {"--ack-delay-ms", "60000", NULL};

/* c receives sent[first..first+n) in order and acks each one as it comes:
 * the broker gets the acks one by one. */
static void s_take(fb_client_t *c, const fbt_sent_t *sent, size_t first, size_t n)
{
    for (size_t i = first; i < first + n; i++) {
        fb_delivery_t *d = fbt_expect_sent(c, sent, i);
        assert_int_equal(fb_client_ack(c, d), FB_OK);
        fb_delivery_destroy(&d);
    }
}

/* Waits until the broker's log says it took the réservataire's ack of seq
 * (it is then kept, or already written). */
static void s_wait_kept(const fbt_pair_t *w, uint64_t seq)
{
    char needle[160];
    snprintf(needle, sizeof needle, "broker ack-kept peer=%s seq=%llu ", w->resa.actor,
             (unsigned long long)seq);
    int64_t until = fb_now_ms() + WAIT_MS;
    while (!fbt_log_contains(&w->b, needle) && fb_now_ms() < until)
        usleep(1000);
    if (!fbt_log_contains(&w->b, needle))
        fail_msg("the broker never logged \"%s\"", needle);
}

/* Starts the pair's broker with `args`; the bailleur sends N_SENT messages
 * (sent[0..N_SENT)) and the réservataire takes and acks them one by one. */
static void s_open_acked(fbt_pair_t *w, const char *const *args, fbt_sent_t *sent)
{
    fbt_pair_open_with(w, args);
    fbt_send_logements(w->cb, w->resa.actor, "vac-ack", sent, 0, N_SENT);
    s_take(w->cr, sent, 0, N_SENT);
}

/* Deliveries the store holds as not acknowledged, all recipients together
 * (`fluxbus status`, read beside the running broker). */
static long s_pending_in_store(const fbt_pair_t *w)
{
    char out[4096];
    assert_int_equal(fbt_sh(out, sizeof out, "'%s' status --store '%s'", FB_CLI_BIN, w->b.store),
                     0);
    const char *line = strstr(out, "\nbacklog ");
    long pending = -1;
    if (!line || sscanf(line, "\nbacklog %ld pending", &pending) != 1)
        fail_msg("no backlog line in `fluxbus status`:\n%s", out);
    return pending;
}

/* Kills the broker with SIGKILL and starts it again on the same store; both
 * clients are connected again. */
static void s_kill9_restart(fbt_pair_t *w)
{
    fb_client_destroy(&w->cb);
    fb_client_destroy(&w->cr);
    fbt_stop(&w->b, SIGKILL);
    fbt_start(&w->b);
    w->cb = fbt_client(&w->b, &w->bailleur);
    w->cr = fbt_client(&w->b, &w->resa);
}

/* kill -9, restart: every ack was on disk, nothing comes again. Closes. */
static void s_nothing_after_kill9(fbt_pair_t *w)
{
    s_kill9_restart(w);
    fbt_expect_nothing(w->cr, QUIET_MS);
    fbt_pair_close(w);
}

static void test_acks_one_by_one_are_all_applied_by_a_clean_stop(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_sent_t sent[N_SENT];
    s_open_acked(&w, s_long_delay, sent);
    s_wait_kept(&w, sent[N_SENT - 1].seq);
    /* Taken and kept: nothing has committed them yet. */
    assert_int_equal(s_pending_in_store(&w), N_SENT);

    /* SIGTERM: the broker commits them before it exits (exit 0 asserted). */
    fbt_pair_restart(&w);
    assert_int_equal(s_pending_in_store(&w), 0);
    fbt_expect_nothing(w.cr, QUIET_MS);
    assert_true(fbt_log_contains(&w.b, "broker acks-committed n=10 reason=exit"));
    fbt_pair_close(&w);
}

static void test_kill9_redelivers_only_the_acks_not_yet_committed(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open_with(&w, s_long_delay);
    fbt_sent_t sent[N_SENT + 1];

    /* Five acked, then a message stored: its commit carries the five. */
    fbt_send_logements(w.cb, w.resa.actor, "vac-ack", sent, 0, 5);
    s_take(w.cr, sent, 0, 5);
    s_wait_kept(&w, sent[4].seq);
    fbt_send_logements(w.cb, w.resa.actor, "vac-ack", sent, 5, 1);
    assert_true(fbt_log_contains(&w.b, "broker acks-written n=5 reason=commit"));
    assert_int_equal(s_pending_in_store(&w), 1);

    /* Five more sent, then the six acked one by one: those stay kept. */
    fbt_send_logements(w.cb, w.resa.actor, "vac-ack", sent, 6, N_SENT - 5);
    s_take(w.cr, sent, 5, N_SENT + 1 - 5);
    s_wait_kept(&w, sent[N_SENT].seq);
    assert_int_equal(s_pending_in_store(&w), N_SENT + 1 - 5);

    /* kill -9 loses the kept acks: exactly those six come again, in order
     * (at-least-once; the client dedups by message id), the first five
     * never, and nothing is missing. */
    s_kill9_restart(&w);
    s_take(w.cr, sent, 5, N_SENT + 1 - 5);
    fbt_expect_nothing(w.cr, QUIET_MS);
    fbt_pair_restart(&w); /* the clean stop commits the redelivery's acks */
    fbt_expect_nothing(w.cr, QUIET_MS);
    fbt_pair_close(&w);
}

static void test_a_new_hello_does_not_get_back_what_was_acked(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open_with(&w, s_long_delay);
    /* A second connection of the réservataire, made before the acks: its
     * HELLO (at its first receive) comes with no answer that would commit
     * them. */
    fb_client_t *again = fbt_client(&w.b, &w.resa);
    fbt_sent_t sent[N_SENT + 1];
    fbt_send_logements(w.cb, w.resa.actor, "vac-ack", sent, 0, N_SENT);
    s_take(w.cr, sent, 0, N_SENT);
    s_wait_kept(&w, sent[N_SENT - 1].seq);

    /* The new session starts from the oldest message not acked in the
     * store, but the kept acks count: nothing is sent again. */
    fbt_expect_nothing(again, QUIET_MS);
    assert_int_equal(s_pending_in_store(&w), N_SENT); /* they were still kept */

    /* And what comes next is delivered to the new session. */
    fbt_send_logements(w.cb, w.resa.actor, "vac-ack", sent, N_SENT, 1);
    s_take(again, sent, N_SENT, 1);
    fb_client_destroy(&again);
    fbt_pair_close(&w);
}

static void test_kept_acks_reach_the_store_within_the_delay(void **state)
{
    (void)state;
    fbt_pair_t w;
    const char *const args[] = {"--ack-delay-ms", "50", NULL};
    fbt_sent_t sent[N_SENT];
    s_open_acked(&w, args, sent);

    /* No other traffic: the broker commits them on its own. */
    int64_t until = fb_now_ms() + WAIT_MS;
    while (s_pending_in_store(&w) != 0 && fb_now_ms() < until)
        usleep(5000);
    assert_int_equal(s_pending_in_store(&w), 0);
    assert_true(fbt_log_contains(&w.b, "reason=due"));
    s_nothing_after_kill9(&w);
}

static void test_an_answer_after_acks_means_they_are_on_disk(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_sent_t sent[N_SENT];
    s_open_acked(&w, s_long_delay, sent);
    /* A round trip on the same connection: a réservataire may not
     * subscribe, the refusal is the answer. No message is stored. */
    assert_int_equal(fb_client_subscribe(w.cr, "caleol/74010"), FB_ERR_NOT_AUTHORIZED);
    assert_int_equal(s_pending_in_store(&w), 0);
    assert_true(fbt_log_contains(&w.b, "broker acks-written n=10 reason=answer"));
    s_nothing_after_kill9(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acks_one_by_one_are_all_applied_by_a_clean_stop),
        cmocka_unit_test(test_kill9_redelivers_only_the_acks_not_yet_committed),
        cmocka_unit_test(test_a_new_hello_does_not_get_back_what_was_acked),
        cmocka_unit_test(test_kept_acks_reach_the_store_within_the_delay),
        cmocka_unit_test(test_an_answer_after_acks_means_they_are_on_disk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
