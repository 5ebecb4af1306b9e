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

#define S_DELIVER_MS 30000 /* everything receipted is delivered this soon */

/* One kill: wait for load, a random delay, SIGKILL, restart, check. */
static void s_kill_once(chaos_world_t *w, const chaos_opts_t *o, unsigned k, int64_t *down_ms)
{
    fbt_broker_t *b = chaos_world_broker(w);
    chaos_world_await_moment(w, o->max_delay_ms, "kill", k);
    int64_t t0 = chaos_now_ms();
    assert_int_equal(fbt_stop(b, SIGKILL), 128 + SIGKILL);
    if (chaos_world_random(w, 2) == 0)
        chaos_world_restart_receiver(w, chaos_world_random(w, o->recipients));
    fbt_start(b);
    *down_ms += chaos_now_ms() - t0;
    chaos_world_expect_delivered(w, "kill9", S_DELIVER_MS, "kill", k);
}

void chaos_kill9(void **state)
{
    chaos_run_t *run = *state;
    const chaos_opts_t *o = run->opts;
    run->world = chaos_world_loaded(o, NULL, NULL);
    chaos_world_t *w = run->world;
    int64_t t0 = chaos_now_ms(), down_ms = 0;
    for (unsigned k = 1; k <= o->kills; k++) {
        s_kill_once(w, o, k, &down_ms);
        if (k % 20 == 0 || k == o->kills)
            fprintf(stderr, "chaos kill9: %u/%u kills, %llu messages answered\n", k, o->kills,
                    (unsigned long long)chaos_world_answered(w));
    }
    char extra[128];
    snprintf(extra, sizeof extra, "kills=%u restart_ms_avg=%.0f", o->kills,
             o->kills ? (double)down_ms / o->kills : 0.0);
    chaos_world_finish(w, "kill9", t0, S_DELIVER_MS, extra);
}
