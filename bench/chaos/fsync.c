/* fsync.c - the disk under the store starts failing fsync (EIO) at random
 * points under load, --fsync-cycles times, through the LD_PRELOAD shim of
 * the integration tests (tests/integration/failing_fsync.c).
 *
 * What the broker must do (docs/OPERATIONS.md, "Durability and failures"):
 * answer nothing of the batch whose COMMIT failed, log `error broker
 * store-failed`, exit 3. Then, with the broker down and the disk still
 * failing, the store must be intact and hold every receipted message; once
 * the disk works again a restart resumes, the senders' resends of what got
 * no answer are deduplicated, and everything is delivered once, in order. */
#include "chaos.h"

#include <stdio.h>

#define S_EXIT_MS 15000
#define S_DELIVER_MS 30000

static void s_use_shim(fbt_broker_t *b, void *ctx)
{
    (void)ctx;
    b->fail_fsync = 1;
}

/* One failure: load, a random delay, fsync fails, the broker must exit 3. */
static void s_fail_once(chaos_world_t *w, const chaos_opts_t *o, unsigned k)
{
    fbt_broker_t *b = chaos_world_broker(w);
    chaos_world_await_moment(w, o->max_delay_ms, "fsync failure", k);
    fbt_fail_fsync(b, 1);
    int code = fbt_wait_exit(b, S_EXIT_MS);
    if (code < 0)
        fail_msg("cycle %u: fsync fails but the broker still runs after %d ms", k, S_EXIT_MS);
    if (code != 3)
        fail_msg("cycle %u: with fsync failing the broker exited %d, not 3", k, code);
    assert_true(fbt_log_contains(b, "error broker store-failed"));
    /* Down, disk still failing for it: the store as it was left. */
    chaos_world_check_store(w);
    fbt_fail_fsync(b, 0);
    fbt_start(b);
    chaos_world_expect_delivered(w, "fsync", S_DELIVER_MS, "fsync failure", k);
}

void chaos_fsync(void **state)
{
    chaos_run_t *run = *state;
    const chaos_opts_t *o = run->opts;
    run->world = chaos_world_loaded(o, s_use_shim, NULL);
    int64_t t0 = chaos_now_ms();
    for (unsigned k = 1; k <= o->fsync_cycles; k++)
        s_fail_once(run->world, o, k);
    char extra[64];
    snprintf(extra, sizeof extra, "fsync_failures=%u broker_exit=3", o->fsync_cycles);
    chaos_world_finish(run->world, "fsync", t0, S_DELIVER_MS, extra);
}
