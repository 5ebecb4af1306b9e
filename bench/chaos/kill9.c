/* kill9.c - the broker is killed with SIGKILL at random points under load,
 * `--kills` times, and restarted on the same store and port each time.
 *
 * Several bailleurs send while several réservataires receive; each kill
 * comes a random time (up to --max-delay-ms) after the load has resumed, so
 * it lands anywhere: while reading a batch, inside the transaction, between
 * the COMMIT and the receipts, while delivering. After each restart every
 * message receipted so far must be delivered (within a bound); at every
 * other kill a réservataire also dies between handling a message and
 * acking it, so that its own dedup on message id is what keeps it from
 * handling that message twice. At
 * the end: nothing lost, nothing twice, order kept per (sender, recipient),
 * the store intact and its audit chain verified. */
#include "chaos.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#define S_RESUME_MS 15000  /* load must resume this soon after a restart */
#define S_DELIVER_MS 30000 /* everything receipted is delivered this soon */

/* One kill: wait for load, a random delay, SIGKILL, restart, check. */
static void s_kill_once(chaos_world_t *w, const chaos_opts_t *o, unsigned k, int64_t *down_ms)
{
    fbt_broker_t *b = chaos_world_broker(w);
    if (!chaos_world_wait_answered(w, chaos_world_answered(w), S_RESUME_MS))
        fail_msg("kill %u: no message answered within %d ms of the restart", k, S_RESUME_MS);
    /* Chaos injection, not synchronisation: the point of failure is random. */
    usleep(1000u * chaos_world_random(w, o->max_delay_ms + 1));
    int64_t t0 = chaos_now_ms();
    assert_int_equal(fbt_stop(b, SIGKILL), 128 + SIGKILL);
    if (chaos_world_random(w, 2) == 0)
        chaos_world_restart_receiver(w, chaos_world_random(w, o->recipients));
    fbt_start(b);
    *down_ms += chaos_now_ms() - t0;
    char when[64];
    snprintf(when, sizeof when, "after kill %u", k);
    chaos_world_expect_delivered(w, "kill9", S_DELIVER_MS, when);
}

void chaos_kill9(void **state)
{
    chaos_run_t *run = *state;
    const chaos_opts_t *o = run->opts;
    chaos_world_config_t cfg = {
        .senders = o->senders, .recipients = o->recipients, .route = CHAOS_ROUTE_SPREAD};
    run->world = chaos_world_new(&cfg, o->seed);
    chaos_world_t *w = run->world;
    for (unsigned r = 0; r < o->recipients; r++)
        chaos_world_start_receiver(w, r);
    chaos_world_start_senders(w);

    int64_t t0 = chaos_now_ms(), down_ms = 0;
    for (unsigned k = 1; k <= o->kills; k++) {
        s_kill_once(w, o, k, &down_ms);
        if (k % 20 == 0 || k == o->kills)
            fprintf(stderr, "chaos kill9: %u/%u kills, %llu messages answered\n", k, o->kills,
                    (unsigned long long)chaos_world_answered(w));
    }
    chaos_world_drain(w, S_DELIVER_MS);
    double elapsed_s = (double)(chaos_now_ms() - t0) / 1000.0;
    assert_int_equal(fbt_stop(chaos_world_broker(w), SIGTERM), 0);
    uint64_t stored = chaos_world_check_store(w);

    char extra[256];
    snprintf(extra, sizeof extra,
             "kills=%u stored=%llu integrity=ok audit=ok restart_ms_avg=%.0f elapsed_s=%.1f",
             o->kills, (unsigned long long)stored, o->kills ? (double)down_ms / o->kills : 0.0,
             elapsed_s);
    chaos_world_print(w, "kill9", extra);
    chaos_world_assert_clean(w);
}
