/* 39_ledger_decompte_kill9_scan - the broker's DecompteDroits scan is
 * computed off the loop thread and its lines sent a few at a time, each
 * step in a transaction of its own; killed (kill -9) as the scan starts,
 * then again once some of its lines are stored, it loses nothing and sends
 * nothing twice: after the last restart every line of a multipartite
 * convention of 1,200 communes is stored exactly once, with sequence 1, its
 * row of ledger_decompte_sent names the stored message, the bailleur has a
 * delivery of each, and the audit chain verifies. Whatever the instant each
 * kill lands on, those hold. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fluxbus/v1/ledger.pb-c.h"
#include "sheets.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_SHEETS 1200
#define S_LINES (S_SHEETS + 1) /* a line per commune, and the whole convention */
#define S_WAIT_MS 60000
#define S_QUIET_MS 1500

static const char *const s_at_once[] = {"--decompte-interval-s", "0", NULL};

static long long s_stored(const fbt_pair_t *w)
{
    return fbt_sql_int(&w->b, "SELECT count(*) FROM messages WHERE type = 16");
}

/* The EPCI (the réservataire of the pair) delegates to S_SHEETS communes,
 * none of them registered: each sheet's line goes to the bailleur alone. */
static void s_convention(fbt_pair_t *w)
{
    sheets_t *sheets = sheets_new(S_SHEETS, 10001);
    assert_non_null(sheets);
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = "conv-epci-1200";
    c.revision = 1;
    c.kind = FLUXBUS__V1__CONVENTION_KIND__CONVENTION_KIND_MULTIPARTITE;
    c.year = fbt_year_now();
    c.bailleur_actor_id = FBT_BAILLEUR;
    c.reservataire_actor_id = FBT_RESA;
    c.counting_method = FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_BAIL_SIGNE;
    sheets_attach(sheets, &c);
    fbt_send_ok(w->cb, T(CONVENTION), FBT_RESA, "", &c.base);
    sheets_destroy(&sheets);
}

/* Waits until the store holds more than `than` DecompteDroits (or all of
 * them); how many it holds then. */
static long long s_wait_more(const fbt_pair_t *w, long long than)
{
    int64_t until = fb_now_ms() + S_WAIT_MS;
    long long n = s_stored(w);
    while (n <= than && n < S_LINES && fb_now_ms() < until) {
        usleep(2000);
        n = s_stored(w);
    }
    return n;
}

static void s_kill_and_start(fbt_pair_t *w)
{
    fb_client_destroy(&w->cb);
    fb_client_destroy(&w->cr);
    assert_int_equal(fbt_stop(&w->b, SIGKILL), 128 + SIGKILL);
    fbt_start(&w->b);
}

static void test_kill9_during_the_scan_loses_nothing_and_sends_nothing_twice(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open_with(&w, s_at_once);
    /* First kill: as soon as the convention is accepted (the scan
     * computing, or about to). */
    s_convention(&w);
    s_kill_and_start(&w);
    /* Second kill: once this run stored some of the lines. */
    long long before = s_stored(&w);
    long long at_kill = s_wait_more(&w, before);
    s_kill_and_start(&w);
    print_message("killed with %lld then %lld of %d lines stored\n", before, at_kill, S_LINES);
    /* The last run sends what is left, then nothing. */
    w.cb = fbt_client(&w.b, &w.bailleur);
    assert_int_equal(s_wait_more(&w, S_LINES - 1), S_LINES);
    usleep(S_QUIET_MS * 1000);
    assert_int_equal(s_stored(&w), S_LINES);
    /* Each line once, sequence 1, its record naming its stored message. */
    assert_int_equal(fbt_sql_int(&w.b, "SELECT count(*) FROM ledger_decompte_sent"), S_LINES);
    assert_int_equal(fbt_sql_int(&w.b, "SELECT count(*) FROM ledger_decompte_sent WHERE seq <> 1"),
                     0);
    assert_int_equal(fbt_sql_int(&w.b,
                                 "SELECT count(*) FROM ledger_decompte_sent s JOIN messages m"
                                 " ON m.type = 16 AND lower(hex(m.message_id)) = s.message_id"),
                     S_LINES);
    assert_int_equal(fbt_sql_int(&w.b, "SELECT count(*) FROM deliveries d JOIN messages m"
                                       " ON m.seq = d.seq WHERE m.type = 16"
                                       " AND d.recipient = '" FBT_BAILLEUR "'"),
                     S_LINES);
    fbt_audit_ok(&w.b, (uint64_t)fbt_sql_int(&w.b, "SELECT count(*) FROM messages"));
    fbt_pair_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_during_the_scan_loses_nothing_and_sends_nothing_twice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
