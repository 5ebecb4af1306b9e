/* week.c - a réservataire is offline while a whole week of traffic is sent
 * to it (compressed in time: --week-messages, sent as fast as the bailleurs
 * get their receipts), then connects: the catch-up must be complete, each
 * message once, in the order each bailleur sent them. Prints how long the
 * catch-up took (msgs/s) and the broker's peak memory (the backlog waits
 * in the store, not in memory).
 *
 * The default, 20,000 messages, is a busy week of one national
 * réservataire: about 400,000 attributions a year in France, a third of the
 * flux oriented to it, each vacancy reaching it as a LogementLibere and an
 * Orientation at least (docs/PERFORMANCE.md, "Resilience"). */
#include "chaos.h"

#include <stdio.h>

#define S_PHASE_MS (30 * 60 * 1000) /* a bound, never a wait: phases end on their condition */

void chaos_week(void **state)
{
    chaos_run_t *run = *state;
    const chaos_opts_t *o = run->opts;
    /* A Convention, then messages by pairs (LogementLibere, Orientation). */
    uint64_t per_sender = 1 + (o->week_messages + 2ull * o->senders - 1) / (2ull * o->senders) * 2;
    chaos_world_config_t cfg = {.senders = o->senders,
                                .recipients = 1,
                                .route = CHAOS_ROUTE_FIRST,
                                .per_sender = per_sender};
    run->world = chaos_world_new(&cfg, o->seed);
    chaos_world_t *w = run->world;

    int64_t t0 = chaos_now_ms();
    chaos_world_start_senders(w);
    assert_true(chaos_world_wait_sent(w, S_PHASE_MS));
    int64_t t1 = chaos_now_ms();
    uint64_t backlog = chaos_world_counts(w).receipted;
    uint64_t peak_offline_kib = chaos_world_broker_peak_kib(w);

    chaos_world_start_receiver(w, 0);
    chaos_world_expect_delivered(w, "week", S_PHASE_MS, "catch-up", 1);
    int64_t t2 = chaos_now_ms();
    uint64_t peak_kib = chaos_world_broker_peak_kib(w);

    double send_s = (double)(t1 - t0) / 1000.0, catchup_s = (double)(t2 - t1) / 1000.0;
    char extra[320];
    snprintf(extra, sizeof extra,
             "offline_backlog=%llu send_s=%.1f send_msgs_per_s=%.0f catchup_s=%.2f "
             "catchup_msgs_per_s=%.0f broker_peak_rss_kib=%llu (offline %llu)",
             (unsigned long long)backlog, send_s, send_s > 0 ? backlog / send_s : 0.0, catchup_s,
             catchup_s > 0 ? backlog / catchup_s : 0.0, (unsigned long long)peak_kib,
             (unsigned long long)peak_offline_kib);
    chaos_world_finish(w, "week", t0, 1000, extra);
}
