/* bilan_queue.h - the BilanRequests waiting for their answer, and the
 * thread that computes those answers off the broker's loop.
 *
 * A BilanRequest that passed every check the loop makes at once (the
 * envelope, the sender, who may ask for what: bilan_reply_scope) is not
 * stored yet: it waits here, in arrival order, with the routing ids of the
 * connections waiting for its receipt. One at a time, the oldest is
 * computed (bilan_reply_compute) on a thread of its own, on a read-only
 * connection of its own to the store file, inside one read transaction (a
 * WAL snapshot of the store as it stood when the computation began). Once
 * it is computed, the loop takes it (bilan_queue_ready), seals and stores
 * the request with its answer in one transaction, and drops it
 * (bilan_queue_pop). Nothing here writes to the store.
 *
 * Bounded: at most `max_pending` requests wait (the one computing
 * included), and at most BILAN_QUEUE_PER_REQUESTER of them from one
 * requester, so that one actor cannot take every place: bilan_queue_add
 * refuses any further one with FB_ERR_RATE_LIMITED.
 * A crash or a stop loses nothing acknowledged: a request waiting here has
 * no receipt, its sender sends it again. */
#ifndef FLUXBUS_BROKER_BILAN_QUEUE_H
#define FLUXBUS_BROKER_BILAN_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "bilan_reply.h"
#include "fluxbus/err.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "store.h"

#define BILAN_QUEUE_RID_MAX 256     /* a ZeroMQ routing id, at most */
#define BILAN_QUEUE_WAITERS 8       /* SENDs of one request told of its outcome */
#define BILAN_QUEUE_PER_REQUESTER 2 /* requests of one actor waiting, at most */

/* A connection waiting for a request's receipt (its ROUTER routing id). */
typedef struct {
    uint8_t id[BILAN_QUEUE_RID_MAX];
    size_t len;
} bilan_queue_rid_t;

/* One request waiting for its answer. The loop thread owns every field but
 * the outcome, which the computation writes and the loop reads only once
 * bilan_queue_ready has returned it. */
typedef struct {
    store_actor_t requester;       /* as the registry said when it was checked */
    Fluxbus__V1__SignedBody *body; /* owned (fb_body_free) */
    ProtobufCMessage *payload;     /* the BilanRequest, owned (fb_codec_free) */
    uint8_t *envelope;             /* the bytes verified, owned */
    size_t len;
    uint8_t sha256[32];                             /* of the envelope */
    int64_t received_ms;                            /* when it came (first copy) */
    bilan_queue_rid_t waiters[BILAN_QUEUE_WAITERS]; /* oldest first */
    size_t n_waiters;
    /* The outcome: FB_OK and the answer computed (not sealed), or a
     * refusal (bilan_reply_compute's) with its detail. */
    fb_err_t rc;
    char detail[256];
    bilan_reply_t reply;
    double seconds; /* how long the computation took */
} bilan_pending_t;

typedef struct bilan_queue bilan_queue_t;

/* A queue for the store file at `path` (read again by each computation),
 * holding at most max_pending requests (at least 1). NULL when out of
 * memory. */
bilan_queue_t *bilan_queue_new(const char *path, size_t max_pending);

#define BILAN_QUEUE_GRACE_MS 1000 /* bilan_queue_destroy's wait for an interrupted thread */

/* Interrupts the computation under way, if any: its statements fail at
 * the next of their checks (a progress handler every few thousand SQLite
 * steps, and sqlite3_interrupt). One long step (a big sort, or the
 * bilan's work in C between two statements) is not cut short: the thread
 * is waited for up to grace_ms, then left to end with
 * the process (*abandoned set; it only reads; the queue is then never
 * freed). Returns the request it computed (its outcome set unless
 * abandoned), or NULL when none was under way. Nothing is computed after
 * it. */
const bilan_pending_t *bilan_queue_stop(bilan_queue_t *self, unsigned grace_ms, bool *abandoned);

/* bilan_queue_stop (BILAN_QUEUE_GRACE_MS), then frees every request still
 * waiting: none was acknowledged. At the exit of the process only, when the
 * thread was abandoned. Safe on NULL and twice. */
void bilan_queue_destroy(bilan_queue_t **self_p);

/* How many requests wait (the one computing included). */
size_t bilan_queue_size(const bilan_queue_t *self);

/* How many of the requests waiting (the one computing included) are
 * requester's (an actor id). */
size_t bilan_queue_held(const bilan_queue_t *self, const char *requester);

/* The request (sender, message_id) waiting here, or NULL. */
bilan_pending_t *bilan_queue_find(bilan_queue_t *self, const char *sender,
                                  const uint8_t message_id[16]);

/* One more SEND of p waits for its outcome (each gets its own answer, on
 * the connection `rid`): FB_ERR_RATE_LIMITED when BILAN_QUEUE_WAITERS
 * already wait; rid_len over BILAN_QUEUE_RID_MAX: FB_ERR_INVALID. */
fb_err_t bilan_queue_wait_too(bilan_pending_t *p, const uint8_t *rid, size_t rid_len);

/* Queues a request: requester copied, *body and *payload taken (set to
 * NULL) on FB_OK only, the envelope copied, rid its first waiter.
 * FB_ERR_RATE_LIMITED when max_pending requests wait already, or
 * BILAN_QUEUE_PER_REQUESTER of requester's (bilan_queue_held),
 * FB_ERR_NOMEM, FB_ERR_INVALID (rid too long): then nothing is taken. */
fb_err_t bilan_queue_add(bilan_queue_t *self, const store_actor_t *requester,
                         Fluxbus__V1__SignedBody **body, ProtobufCMessage **payload,
                         const uint8_t *envelope, size_t len, const uint8_t sha256[32],
                         const uint8_t *rid, size_t rid_len, int64_t now_ms);

/* Starts computing the oldest request if none computes and it is not
 * computed yet; returns it when started now (to log), else NULL. A thread
 * that cannot start leaves it to the next call. */
const bilan_pending_t *bilan_queue_start(bilan_queue_t *self, int64_t now_ms);

/* The oldest request once its computation is over (its outcome set), or
 * NULL. Never blocks. */
bilan_pending_t *bilan_queue_ready(bilan_queue_t *self);

/* The oldest request is to be computed again (the registry changed since
 * it was: requester is the new record); its outcome is dropped. */
void bilan_queue_retry(bilan_queue_t *self, const store_actor_t *requester);

/* Drops the oldest request (its outcome delivered), freeing it. */
void bilan_queue_pop(bilan_queue_t *self);

/* When the loop should call bilan_queue_start / bilan_queue_ready again:
 * now while a request waits to be started or is ready, `poll_ms` ahead
 * while one computes, INT64_MAX when the queue is empty. */
int64_t bilan_queue_next_ms(const bilan_queue_t *self, int64_t now_ms, int64_t poll_ms);

/* Is a computation under way (started, its thread not joined)? */
bool bilan_queue_busy(const bilan_queue_t *self);

/* Blocks until the computation under way, if any, is over (tests). */
void bilan_queue_wait(bilan_queue_t *self);

#endif
