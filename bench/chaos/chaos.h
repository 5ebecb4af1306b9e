/* chaos.h - bench/chaos: the real broker under kill -9, a full disk, a
 * failing fsync and a recipient offline for a week, with real clients.
 *
 * A scenario (kill9.c, disk.c, fsync.c, week.c) runs in a world (world.c):
 * one broker started through the integration harness, several bailleurs
 * sending and several réservataires receiving on threads of their own, and
 * the book of every message sealed, what the broker answered and what the
 * recipients got. Scenarios are cmocka tests (the harness asserts), run by
 * main.c; each prints one line of counts and fails when a message that got a
 * signed receipt is lost, delivered out of order or stored inconsistently. */
#ifndef FLUXBUS_BENCH_CHAOS_H
#define FLUXBUS_BENCH_CHAOS_H

#include <stdint.h>

#include "harness.h"

/* The command line (main.c), shared by every scenario. */
typedef struct {
    unsigned seed;          /* --seed: the random points of failure */
    unsigned senders;       /* --senders: bailleurs sending at once */
    unsigned recipients;    /* --recipients: réservataires receiving */
    unsigned kills;         /* --kills: kill -9 of the broker under load */
    unsigned max_delay_ms;  /* --max-delay-ms: a failure comes within this after load resumed */
    unsigned fsync_cycles;  /* --fsync-cycles: fsync starts failing, broker restarted */
    unsigned disk_cycles;   /* --disk-cycles: the disk fills up, space is freed */
    unsigned disk_kib;      /* --disk-kib: size of the small filesystem holding the store */
    unsigned week_messages; /* --week-messages: a week of traffic for an offline recipient */
    const char *only;       /* --only a,b: scenarios to run (NULL: all) */
    int in_namespace;       /* --in-namespace: child in the private mount namespace (disk.c) */
    int argc;               /* the command line, for that child */
    char **argv;
} chaos_opts_t;

/* How senders pick the recipient of a message. */
typedef enum {
    CHAOS_ROUTE_SPREAD, /* vacancy v of sender s goes to réservataire (s + v) % recipients */
    CHAOS_ROUTE_FIRST,  /* everything to réservataire 0 */
} chaos_route_t;

typedef struct chaos_world chaos_world_t;

/* Called after the broker's directory exists and before the store is
 * created: may point b->store elsewhere (disk.c puts it on a small
 * filesystem) or set b->fail_fsync. */
typedef void (*chaos_prepare_fn)(fbt_broker_t *b, void *ctx);

typedef struct {
    unsigned senders, recipients;
    chaos_route_t route;
    uint64_t per_sender; /* messages each sender sends, 0: until stopped */
    chaos_prepare_fn prepare;
    void *prepare_ctx;
} chaos_world_config_t;

/* What happened, counted over the whole run. */
typedef struct {
    uint64_t sealed;            /* messages sealed and sent at least once */
    uint64_t sends;             /* SEND attempts, retries of the same bytes included */
    uint64_t receipted;         /* messages with a signed Receipt */
    uint64_t dup_receipts;      /* Receipts marked duplicate: the broker's dedup answered */
    uint64_t nacked;            /* messages refused (never expected here) */
    uint64_t delivered;         /* distinct messages handed to a recipient */
    uint64_t dups_suppressed;   /* deliveries dropped by the recipient's dedup on message id */
    uint64_t order_violations;  /* first deliveries out of send order per (sender, recipient) */
    uint64_t unexpected;        /* deliveries not of the book, or to the wrong recipient */
    uint64_t bad_deliveries;    /* deliveries the client refused to verify */
    uint64_t receiver_restarts; /* réservataires that died between handling and ack */
    uint64_t broker_messages;   /* deliveries the broker signed itself (DecompteDroits) */
    uint64_t lost;              /* receipted, never delivered (set by chaos_world_drain) */
} chaos_counts_t;

/* Sets up the broker (fresh directory, harness), registers the bailleurs
 * and réservataires and starts the broker. Asserts on failure. */
chaos_world_t *chaos_world_new(const chaos_world_config_t *cfg, unsigned seed);

/* Stops every thread (without waiting for answers), kills the broker and
 * removes its directory; safe on NULL and twice. */
void chaos_world_destroy(chaos_world_t **self_p);

fbt_broker_t *chaos_world_broker(chaos_world_t *self);

/* A random number in [0, n) from the world's seeded generator (main thread). */
unsigned chaos_world_random(chaos_world_t *self, unsigned n);

/* Starts one sending thread per bailleur. */
void chaos_world_start_senders(chaos_world_t *self);

/* Starts the receiving thread of réservataire r (0-based). */
void chaos_world_start_receiver(chaos_world_t *self, unsigned r);

/* Réservataire r dies after handling its next delivery and before acking
 * it, and comes back with a new client: the broker sends that message
 * again, and only the recipient's own dedup on message id keeps it from
 * being handled twice. */
void chaos_world_restart_receiver(chaos_world_t *self, unsigned r);

/* Messages receipted or refused so far (the senders' progress). */
uint64_t chaos_world_answered(chaos_world_t *self);

/* Waits up to timeout_ms for more than `since` messages to be answered;
 * returns 1 when they were. */
int chaos_world_wait_answered(chaos_world_t *self, uint64_t since, int timeout_ms);

/* Waits up to timeout_ms for every message receipted until now to be
 * delivered; returns how many are still missing (0: all there). */
uint64_t chaos_world_wait_delivered(chaos_world_t *self, int timeout_ms);

/* chaos_world_wait_delivered, and when some are missing: prints the counts
 * (lost = the missing ones) and fails the test, saying "after <what> <k>". */
void chaos_world_expect_delivered(chaos_world_t *self, const char *scenario, int timeout_ms,
                                  const char *what, unsigned k);

/* The world of a failure scenario: o's bailleurs and réservataires, the
 * vacancies spread over the réservataires, `prepare` as in the config;
 * every réservataire receiving and every bailleur sending. */
chaos_world_t *chaos_world_loaded(const chaos_opts_t *o, chaos_prepare_fn prepare, void *ctx);

/* The moment failure k (a "what") strikes: once a message has been
 * answered since the call (the load flows; fails the test after 15 s
 * without), plus a random delay of up to max_delay_ms. */
void chaos_world_await_moment(chaos_world_t *self, unsigned max_delay_ms, const char *what,
                              unsigned k);

/* The end of a scenario started at t0 (chaos_now_ms): drains (see
 * chaos_world_drain), stops the broker with SIGTERM (it must exit 0),
 * checks the store (chaos_world_check_store), prints the counts with
 * `extra` and stored=, integrity=, audit=, elapsed_s=, and fails the test
 * unless chaos_world_assert_clean passes. */
void chaos_world_finish(chaos_world_t *self, const char *scenario, int64_t t0, int deliver_ms,
                        const char *extra);

/* Waits (up to timeout_ms) for senders with a per_sender limit to finish;
 * returns 1 when they did. */
int chaos_world_wait_sent(chaos_world_t *self, int timeout_ms);

/* Stops the senders once the message each is on is answered (the broker
 * must be running), then waits up to timeout_ms for every receipted
 * message to be delivered, stops the receivers and counts what is lost. */
void chaos_world_drain(chaos_world_t *self, int timeout_ms);

/* With the broker stopped: SQLite's integrity check passes, every receipted
 * message is in the store, and `fluxbus audit verify` passes (chain,
 * signatures, receipts). Fails the test with the reason otherwise; returns
 * the number of messages in the store, the broker's own included (it
 * counts those apart). */
uint64_t chaos_world_check_store(chaos_world_t *self);

/* A copy of the counts so far. */
chaos_counts_t chaos_world_counts(chaos_world_t *self);

/* Prints "chaos <scenario>: key=value ..." with every count, then `extra`
 * (may be NULL), on stdout. */
void chaos_world_print(chaos_world_t *self, const char *scenario, const char *extra);

/* Fails the test when the counts show a loss, a duplicate, a disorder, a
 * refusal or a stray delivery. */
void chaos_world_assert_clean(chaos_world_t *self);

/* The broker's peak resident memory (VmHWM) in KiB, 0 when unknown. */
uint64_t chaos_world_broker_peak_kib(chaos_world_t *self);

/* ---- the messages (traffic.c) ---- */

/* A bailleur's messages: first one Convention with each réservataire it
 * sends to (how many: chaos_traffic_conventions), then, vacancy after
 * vacancy, a LogementLibere and its Orientation under that convention, the
 * order the flux ledger wants. */
unsigned chaos_traffic_conventions(unsigned recipients, chaos_route_t route);

/* The réservataire (0-based) of message n of bailleur `sender`: with
 * CHAOS_ROUTE_SPREAD the conventions go to each in turn, then vacancy v to
 * (sender + v) % recipients; with CHAOS_ROUTE_FIRST everything to 0. */
unsigned chaos_traffic_recipient(unsigned recipients, chaos_route_t route, unsigned sender,
                                 uint64_t n);

/* Message n of bailleur `bailleur` (SIREN `siren`, index `sender`) to
 * réservataire `to`: fills *type, the packed payload (caller frees) and
 * the correlation id (the vacancy, or the convention). */
fb_err_t chaos_traffic_payload(const char *bailleur, const char *siren, unsigned sender, uint64_t n,
                               unsigned conventions, const char *to, int *type, uint8_t **payload,
                               size_t *len, char correlation[64]);

/* The message id of message n of sender s in a run: 4 bytes of the run's
 * nonce, the sender (4 bytes) and n (8 bytes), big-endian, so that a
 * recipient knows from the id alone which message it holds. */
void chaos_traffic_id(const uint8_t nonce[4], unsigned sender, uint64_t n,
                      uint8_t id[FB_MESSAGE_ID_BYTES]);

/* Reads an id made by chaos_traffic_id with this nonce: 1 and *sender, *n;
 * 0 for any other id. */
int chaos_traffic_parse_id(const uint8_t nonce[4], const uint8_t *id, size_t len, unsigned *sender,
                           uint64_t *n);

/* ---- the scenarios ---- */

/* The cmocka state of a scenario: the options, and the world it made (the
 * teardown destroys it, even after a failed assertion). */
typedef struct {
    const chaos_opts_t *opts;
    chaos_world_t *world;
} chaos_run_t;

int chaos_run_teardown(void **state);

void chaos_kill9(void **state);
void chaos_disk(void **state);
int chaos_disk_teardown(void **state); /* unmounts, then chaos_run_teardown */
void chaos_fsync(void **state);
void chaos_week(void **state);

/* Milliseconds on a monotonic clock. */
int64_t chaos_now_ms(void);

#endif
