/* bilan_queue.c - the BilanRequests waiting for their answer and the
 * thread that computes them (see bilan_queue.h).
 *
 * Owns the queue (arrival order, bounded), each request's waiters, the
 * computation's thread, its read-only connection and its read transaction.
 * Does not own who may ask for what nor the bilan (bilan_reply.c), sealing
 * (notary.c), storing and answering (broker.c).
 *
 * Invariants: at most `max` requests, BILAN_QUEUE_PER_REQUESTER of one
 * requester; one computation at a time, always of the oldest request; the
 * queue's array only grows at its end while it runs, and its head is not
 * dropped, changed or computed again before the thread was joined. The
 * thread reads its request's requester and payload and writes its outcome
 * only; `done` tells the loop the outcome is there. A stop request
 * interrupts its statements through a progress handler. The thread runs
 * at a lower priority than the loop (background.h). */
#include "bilan_queue.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "background.h"
#include "fluxbus/codec.h"
#include "fluxbus/envelope.h"

#define S_PROGRESS_STEPS 1000 /* SQLite steps between two looks at the stop flag */
#define S_BUSY_MS 10000       /* as store.c: the loop's commits hold the file briefly */

/* Of the oldest request; S_ABANDONED: its thread was left running at a
 * stop (bilan_queue_stop), and nothing of the queue is freed any more. */
typedef enum { S_IDLE, S_COMPUTING, S_COMPUTED, S_ABANDONED } s_state_t;

struct bilan_queue {
    char *path;
    bilan_pending_t **items; /* oldest first */
    size_t n, max;
    s_state_t state;      /* of items[0] */
    bilan_pending_t *job; /* what the thread computes (items[0]) */
    int64_t job_ms;       /* when: the answer's computed_ms */
    pthread_t thread;
    atomic_bool done, stop;
    pthread_mutex_t lock; /* guards db and the end's signal */
    pthread_cond_t ended; /* the thread set done */
    sqlite3 *db;          /* the thread's connection while it is open */
};

static double s_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the computation (its own thread) ------------------------------------------------ */

/* SQLite's progress handler: non-zero interrupts the running statement. */
static int s_progress(void *ctx)
{
    bilan_queue_t *self = ctx;
    return atomic_load_explicit(&self->stop, memory_order_relaxed);
}

/* Computes the job on db inside one read transaction: every statement of
 * the bilan reads the same snapshot. */
static void s_compute(bilan_queue_t *self, sqlite3 *db)
{
    bilan_pending_t *p = self->job;
    sqlite3_busy_timeout(db, S_BUSY_MS);
    sqlite3_progress_handler(db, S_PROGRESS_STEPS, s_progress, self);
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        p->rc = FB_ERR_STORE;
        snprintf(p->detail, sizeof p->detail, "bilan: %s", sqlite3_errmsg(db));
        return;
    }
    p->rc = bilan_reply_compute(db, &p->requester, (const Fluxbus__V1__BilanRequest *)p->payload,
                                self->job_ms, &p->reply, p->detail, sizeof p->detail);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}

static void *s_run(void *arg)
{
    bilan_queue_t *self = arg;
    bilan_pending_t *p = self->job;
    /* On a busy machine the loop's acknowledgements go first. */
    background_thread_lower();
    double t0 = s_clock();
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(self->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) ==
        SQLITE_OK) {
        pthread_mutex_lock(&self->lock);
        self->db = db;
        pthread_mutex_unlock(&self->lock);
        s_compute(self, db);
        pthread_mutex_lock(&self->lock);
        self->db = NULL;
        pthread_mutex_unlock(&self->lock);
    } else {
        p->rc = FB_ERR_STORE;
        snprintf(p->detail, sizeof p->detail, "bilan: cannot open %.120s: %s", self->path,
                 db ? sqlite3_errmsg(db) : "out of memory");
    }
    sqlite3_close(db);
    if (p->rc != FB_OK && atomic_load(&self->stop))
        snprintf(p->detail, sizeof p->detail, "bilan: interrupted (the broker stops)");
    p->seconds = s_clock() - t0;
    pthread_mutex_lock(&self->lock);
    atomic_store_explicit(&self->done, true, memory_order_release);
    pthread_cond_broadcast(&self->ended);
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

/* Waits for the thread of the computation under way; its outcome is set. */
static void s_join(bilan_queue_t *self)
{
    if (self->state != S_COMPUTING)
        return;
    pthread_join(self->thread, NULL);
    self->state = S_COMPUTED;
}

/* ---- the queue (the loop's thread) --------------------------------------------------- */

static void s_pending_free(bilan_pending_t *p)
{
    if (!p)
        return;
    bilan_reply_clear(&p->reply);
    fb_codec_free(p->payload);
    fb_body_free(p->body);
    free(p->envelope);
    free(p);
}

bilan_queue_t *bilan_queue_new(const char *path, size_t max_pending)
{
    bilan_queue_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->max = max_pending ? max_pending : 1;
    self->path = strdup(path);
    self->items = calloc(self->max, sizeof *self->items);
    if (!self->path || !self->items) {
        free(self->path);
        free(self->items);
        free(self);
        return NULL;
    }
    atomic_init(&self->done, false);
    atomic_init(&self->stop, false);
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->ended, NULL);
    return self;
}

/* Waits up to grace_ms for the thread to set done; false if it did not. */
static bool s_wait_end(bilan_queue_t *self, unsigned grace_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += (long)(grace_ms % 1000) * 1000000L;
    until.tv_sec += grace_ms / 1000 + until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&self->lock);
    int rc = 0;
    while (!atomic_load(&self->done) && rc == 0)
        rc = pthread_cond_timedwait(&self->ended, &self->lock, &until);
    bool done = atomic_load(&self->done);
    pthread_mutex_unlock(&self->lock);
    return done;
}

const bilan_pending_t *bilan_queue_stop(bilan_queue_t *self, unsigned grace_ms, bool *abandoned)
{
    *abandoned = self->state == S_ABANDONED;
    atomic_store(&self->stop, true);
    if (self->state != S_COMPUTING)
        return NULL;
    /* The progress handler sees the flag between two VDBE steps, and
     * sqlite3_interrupt at the next check of its own; neither cuts short
     * one long step (a big sort) nor the bilan's own work in C between two
     * statements (the décompte's counting), which the grace period lets
     * end. */
    pthread_mutex_lock(&self->lock);
    if (self->db)
        sqlite3_interrupt(self->db);
    pthread_mutex_unlock(&self->lock);
    if (s_wait_end(self, grace_ms)) {
        s_join(self);
        return self->job;
    }
    /* Left to end with the process: it only reads, and writes nothing but
     * the memory of the queue, which is not freed any more. */
    pthread_detach(self->thread);
    self->state = S_ABANDONED;
    *abandoned = true;
    return self->job;
}

void bilan_queue_destroy(bilan_queue_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bilan_queue_t *self = *self_p;
    *self_p = NULL;
    bool abandoned = false;
    bilan_queue_stop(self, BILAN_QUEUE_GRACE_MS, &abandoned);
    if (abandoned)
        return; /* its thread may still write into it */
    for (size_t i = 0; i < self->n; i++)
        s_pending_free(self->items[i]);
    free(self->items);
    free(self->path);
    pthread_cond_destroy(&self->ended);
    pthread_mutex_destroy(&self->lock);
    free(self);
}

size_t bilan_queue_size(const bilan_queue_t *self)
{
    return self->n;
}

size_t bilan_queue_held(const bilan_queue_t *self, const char *requester)
{
    size_t held = 0;
    for (size_t i = 0; i < self->n; i++)
        held += strcmp(self->items[i]->requester.id, requester) == 0;
    return held;
}

bilan_pending_t *bilan_queue_find(bilan_queue_t *self, const char *sender,
                                  const uint8_t message_id[16])
{
    for (size_t i = 0; i < self->n; i++) {
        const Fluxbus__V1__SignedBody *b = self->items[i]->body;
        if (strcmp(b->sender, sender) == 0 && b->message_id.len == 16 &&
            memcmp(b->message_id.data, message_id, 16) == 0)
            return self->items[i];
    }
    return NULL;
}

fb_err_t bilan_queue_wait_too(bilan_pending_t *p, const uint8_t *rid, size_t rid_len)
{
    if (rid_len > BILAN_QUEUE_RID_MAX)
        return FB_ERR_INVALID;
    if (p->n_waiters == BILAN_QUEUE_WAITERS)
        return FB_ERR_RATE_LIMITED;
    bilan_queue_rid_t *w = &p->waiters[p->n_waiters++];
    memcpy(w->id, rid, rid_len);
    w->len = rid_len;
    return FB_OK;
}

fb_err_t bilan_queue_add(bilan_queue_t *self, const store_actor_t *requester,
                         Fluxbus__V1__SignedBody **body, ProtobufCMessage **payload,
                         const uint8_t *envelope, size_t len, const uint8_t sha256[32],
                         const uint8_t *rid, size_t rid_len, int64_t now_ms)
{
    if (self->n == self->max || bilan_queue_held(self, requester->id) >= BILAN_QUEUE_PER_REQUESTER)
        return FB_ERR_RATE_LIMITED;
    if (rid_len > BILAN_QUEUE_RID_MAX)
        return FB_ERR_INVALID;
    bilan_pending_t *p = calloc(1, sizeof *p);
    uint8_t *copy = malloc(len ? len : 1);
    if (!p || !copy) {
        free(p);
        free(copy);
        return FB_ERR_NOMEM;
    }
    memcpy(copy, envelope, len);
    p->requester = *requester;
    p->envelope = copy;
    p->len = len;
    memcpy(p->sha256, sha256, 32);
    p->received_ms = now_ms;
    bilan_queue_wait_too(p, rid, rid_len);
    p->body = *body;
    p->payload = *payload;
    *body = NULL;
    *payload = NULL;
    self->items[self->n++] = p;
    return FB_OK;
}

const bilan_pending_t *bilan_queue_start(bilan_queue_t *self, int64_t now_ms)
{
    if (self->n == 0 || self->state != S_IDLE || atomic_load(&self->stop))
        return NULL;
    self->job = self->items[0];
    self->job_ms = now_ms;
    atomic_store(&self->done, false);
    if (pthread_create(&self->thread, NULL, s_run, self) != 0)
        return NULL; /* tried again at the next call */
    self->state = S_COMPUTING;
    return self->job;
}

bilan_pending_t *bilan_queue_ready(bilan_queue_t *self)
{
    if (self->state == S_COMPUTING && atomic_load_explicit(&self->done, memory_order_acquire))
        s_join(self);
    return self->state == S_COMPUTED ? self->items[0] : NULL;
}

void bilan_queue_retry(bilan_queue_t *self, const store_actor_t *requester)
{
    if (self->n == 0 || self->state != S_COMPUTED)
        return;
    bilan_pending_t *p = self->items[0];
    bilan_reply_clear(&p->reply);
    p->rc = FB_OK;
    p->detail[0] = '\0';
    p->requester = *requester;
    self->state = S_IDLE;
}

void bilan_queue_pop(bilan_queue_t *self)
{
    if (self->n == 0)
        return;
    s_join(self); /* never while its computation runs */
    s_pending_free(self->items[0]);
    memmove(&self->items[0], &self->items[1], (self->n - 1) * sizeof self->items[0]);
    self->items[--self->n] = NULL;
    self->state = S_IDLE;
    self->job = NULL;
}

int64_t bilan_queue_next_ms(const bilan_queue_t *self, int64_t now_ms, int64_t poll_ms)
{
    if (self->n == 0)
        return INT64_MAX;
    if (self->state == S_COMPUTING &&
        !atomic_load_explicit(&((bilan_queue_t *)self)->done, memory_order_acquire))
        return now_ms + poll_ms;
    return now_ms;
}

bool bilan_queue_busy(const bilan_queue_t *self)
{
    return self->state == S_COMPUTING;
}

void bilan_queue_wait(bilan_queue_t *self)
{
    s_join(self);
}
