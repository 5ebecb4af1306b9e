/* world.c - the world a chaos scenario runs in: one real broker (through the
 * integration harness), one thread per bailleur sending and one per
 * réservataire receiving, each with its own client, and the book of every
 * message: answered or not, receipted or not, delivered how many times.
 *
 * Senders send their messages one after the other and resend the same
 * envelope bytes until the broker answers (so a message the broker stored
 * but whose receipt it did not send gets a receipt marked duplicate); the
 * messages of one sender are therefore answered in order, and "answered"
 * is a prefix of its messages. Receivers ack every delivery, drop one whose
 * message id they have already been handed (counted as a duplicate
 * suppressed) and check that first deliveries from one sender come in the
 * order it sent them.
 *
 * Threads use nothing of the harness but fbt_try_client, which does not
 * assert: only the main thread asserts (cmocka's assertions jump to it). The book is written by the
 * sender thread of a message (receipted) and the receiver thread of its recipient (delivered), both
 * atomically; the main thread reads it. */
#include "chaos.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define S_MAX_ACTORS 64
#define S_BOOK_CAP (1u << 20)   /* messages per sender, at most */
#define S_CLIENT_TIMEOUT_MS 500 /* receipt wait before resending the same bytes */
#define S_RECV_POLL_MS 100
#define S_REPORT_FIRST 5  /* problems printed one by one before only being counted */
#define S_RESUME_MS 15000 /* after a restart, messages are answered again this soon */

/* What became of one message. */
typedef struct {
    atomic_uint delivered;  /* times a recipient's application was handed it */
    atomic_uchar receipted; /* a signed Receipt came back */
} s_entry_t;

typedef struct {
    chaos_world_t *w;
    unsigned index;
    char siren[16];
    pthread_t thread;
    int running;
    s_entry_t *book;        /* S_BOOK_CAP entries */
    atomic_ullong sealed;   /* messages sealed so far */
    atomic_ullong answered; /* messages answered (a prefix of book) */
} s_sender_t;

typedef struct {
    chaos_world_t *w;
    unsigned index;
    pthread_t thread;
    int running;
    atomic_int restart;           /* die before acking the next delivery, come back */
    int64_t last_n[S_MAX_ACTORS]; /* last first-delivered message of each sender */
} s_receiver_t;

/* The counts of chaos_counts_t, updated by the threads. */
typedef struct {
    atomic_ullong sends, receipted, dup_receipts, nacked, delivered, dups_suppressed,
        order_violations, unexpected, bad_deliveries, receiver_restarts, broker_messages;
} s_counts_t;

struct chaos_world {
    fbt_broker_t b;
    /* The broker's address and keys as the threads read them: the harness
     * writes b.endpoint again at every restart (with the same port). */
    fbt_broker_t b_for_threads;
    chaos_world_config_t cfg;
    unsigned rng;
    uint8_t nonce[4];
    fb_keys_t senders_keys[S_MAX_ACTORS], recipients_keys[S_MAX_ACTORS];
    s_sender_t senders[S_MAX_ACTORS];
    s_receiver_t receivers[S_MAX_ACTORS];
    uint64_t covered[S_MAX_ACTORS]; /* main thread: answered messages known delivered */
    atomic_int stop_sending;        /* 1: after the current message; 2: at once */
    atomic_int stop_receiving;
    s_counts_t counts;
    uint64_t lost;
    uint64_t stored_own; /* messages of the broker's own in the store, at the last check */
    /* Threads signal progress (an answer, a delivery) to the main thread. */
    pthread_mutex_t lock;
    pthread_cond_t progress;
};

int64_t chaos_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_signal_progress(chaos_world_t *w)
{
    pthread_mutex_lock(&w->lock);
    pthread_cond_broadcast(&w->progress);
    pthread_mutex_unlock(&w->lock);
}

/* Waits for progress until deadline_ms (chaos_now_ms) or a short tick, so
 * that a condition checked by the caller is seen soon after it changes. */
static void s_wait_progress(chaos_world_t *w, int64_t deadline_ms)
{
    int64_t left = deadline_ms - chaos_now_ms();
    if (left <= 0)
        return;
    if (left > 50)
        left = 50;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)left * 1000000;
    ts.tv_sec += ts.tv_nsec / 1000000000;
    ts.tv_nsec %= 1000000000;
    pthread_mutex_lock(&w->lock);
    pthread_cond_timedwait(&w->progress, &w->lock, &ts);
    pthread_mutex_unlock(&w->lock);
}

static unsigned s_recipient_of(const chaos_world_t *w, unsigned sender, uint64_t n)
{
    return chaos_traffic_recipient(w->cfg.recipients, w->cfg.route, sender, n);
}

/* A client for keys, retried until it connects or the thread is told to
 * stop; NULL only then. */
static fb_client_t *s_connect(chaos_world_t *w, const fb_keys_t *keys, atomic_int *stop)
{
    while (!atomic_load(stop)) {
        fb_err_t err = FB_OK;
        fb_client_t *c = fbt_try_client(&w->b_for_threads, keys, S_CLIENT_TIMEOUT_MS, &err);
        if (c)
            return c;
    }
    return NULL;
}

/* ---- senders ---------------------------------------------------------------------- */

/* Seals message n of sender s (its id made by chaos_traffic_id). */
static fb_err_t s_seal(s_sender_t *s, fb_client_t *c, uint64_t n, uint8_t **env, size_t *len)
{
    chaos_world_t *w = s->w;
    const char *to = w->recipients_keys[s_recipient_of(w, s->index, n)].actor;
    const char *const to_list[1] = {to};
    char correlation[64];
    int type = 0;
    uint8_t *payload = NULL;
    size_t payload_len = 0;
    uint8_t id[FB_MESSAGE_ID_BYTES];
    chaos_traffic_id(w->nonce, s->index, n, id);
    unsigned conventions = chaos_traffic_conventions(w->cfg.recipients, w->cfg.route);
    fb_err_t rc =
        chaos_traffic_payload(w->senders_keys[s->index].actor, s->siren, s->index, n, conventions,
                              to, &type, &payload, &payload_len, correlation);
    if (rc == FB_OK) {
        fb_outgoing_t m = {.type = type,
                           .recipients = to_list,
                           .n_recipients = 1,
                           .correlation_id = correlation,
                           .payload = payload,
                           .payload_len = payload_len,
                           .message_id = id};
        rc = fb_client_seal(c, &m, env, len, NULL);
    }
    free(payload);
    return rc;
}

/* Sends the same bytes until the broker answers (or the world stops at
 * once); records the answer in the book. */
static void s_send_until_answered(s_sender_t *s, fb_client_t *c, uint64_t n, const uint8_t *env,
                                  size_t len)
{
    chaos_world_t *w = s->w;
    uint8_t id[FB_MESSAGE_ID_BYTES];
    chaos_traffic_id(w->nonce, s->index, n, id);
    while (atomic_load(&w->stop_sending) < 2) {
        fb_receipt_t rec;
        fb_err_t rc = fb_client_send_raw(c, env, len, id, &rec);
        atomic_fetch_add(&w->counts.sends, 1);
        int duplicate = rec.duplicate;
        char detail[sizeof rec.detail];
        snprintf(detail, sizeof detail, "%s", rec.detail);
        fb_receipt_clear(&rec);
        if (rc == FB_ERR_TIMEOUT || rc == FB_ERR_TRANSPORT)
            continue; /* no answer: the broker is down or died; same bytes again */
        if (rc == FB_ERR_RATE_LIMITED || rc == FB_ERR_BACKLOG_FULL) {
            usleep(10000); /* the broker asked us to come back later */
            continue;
        }
        if (rc == FB_OK) {
            atomic_store(&s->book[n].receipted, 1);
            atomic_fetch_add(&w->counts.receipted, 1);
            if (duplicate)
                atomic_fetch_add(&w->counts.dup_receipts, 1);
        } else if (atomic_fetch_add(&w->counts.nacked, 1) < S_REPORT_FIRST) {
            fprintf(stderr, "chaos: %s message %llu refused: %s %s\n", s->siren,
                    (unsigned long long)n, fb_err_name(rc), detail);
        }
        atomic_store(&s->answered, n + 1);
        s_signal_progress(w);
        return;
    }
}

static void *s_send_loop(void *arg)
{
    s_sender_t *s = arg;
    chaos_world_t *w = s->w;
    fb_client_t *c = s_connect(w, &w->senders_keys[s->index], &w->stop_sending);
    uint64_t limit = w->cfg.per_sender ? w->cfg.per_sender : S_BOOK_CAP;
    for (uint64_t n = 0; c && n < limit && !atomic_load(&w->stop_sending); n++) {
        uint8_t *env = NULL;
        size_t len = 0;
        if (s_seal(s, c, n, &env, &len) != FB_OK) {
            fprintf(stderr, "chaos: %s cannot seal message %llu\n", s->siren,
                    (unsigned long long)n);
            atomic_fetch_add(&w->counts.nacked, 1);
            break;
        }
        atomic_store(&s->sealed, n + 1);
        s_send_until_answered(s, c, n, env, len);
        free(env);
    }
    fb_client_destroy(&c);
    return NULL;
}

/* ---- receivers -------------------------------------------------------------------- */

/* Counts a problem; prints the first few on stderr. */
static void s_problem(atomic_ullong *counter, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void s_problem(atomic_ullong *counter, const char *fmt, ...)
{
    if (atomic_fetch_add(counter, 1) >= S_REPORT_FIRST)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* The recipient's application: dedup on message id, order per sender. A
 * message the broker sent itself (a DecompteDroits once a convention's
 * counts changed; verified with the broker's key by the client) is only
 * counted. */
static void s_take(s_receiver_t *r, const fb_delivery_t *d)
{
    chaos_world_t *w = r->w;
    unsigned s = 0;
    uint64_t n = 0;
    const ProtobufCBinaryData *id = &d->body->message_id;
    if (strcmp(d->body->sender, w->b_for_threads.keys.actor) == 0) {
        atomic_fetch_add(&w->counts.broker_messages, 1);
        return;
    }
    if (!chaos_traffic_parse_id(w->nonce, id->data, id->len, &s, &n) || s >= w->cfg.senders ||
        n >= atomic_load(&w->senders[s].sealed) || s_recipient_of(w, s, n) != r->index ||
        strcmp(d->body->sender, w->senders_keys[s].actor) != 0) {
        s_problem(&w->counts.unexpected, "chaos: réservataire %u got seq %llu from %s: not ours",
                  r->index, (unsigned long long)d->store_seq, d->body->sender);
        return;
    }
    if (atomic_fetch_add(&w->senders[s].book[n].delivered, 1) > 0) {
        atomic_fetch_add(&w->counts.dups_suppressed, 1);
        return;
    }
    atomic_fetch_add(&w->counts.delivered, 1);
    if ((int64_t)n < r->last_n[s])
        s_problem(&w->counts.order_violations,
                  "chaos: réservataire %u got message %llu of sender %u after %lld", r->index,
                  (unsigned long long)n, s, (long long)r->last_n[s]);
    else
        r->last_n[s] = (int64_t)n;
    s_signal_progress(w);
}

static void *s_receive_loop(void *arg)
{
    s_receiver_t *r = arg;
    chaos_world_t *w = r->w;
    fb_client_t *c = NULL;
    while (!atomic_load(&w->stop_receiving)) {
        if (!c && !(c = s_connect(w, &w->recipients_keys[r->index], &w->stop_receiving)))
            break;
        fb_delivery_t *d = NULL;
        fb_err_t rc = fb_client_recv(c, &d, S_RECV_POLL_MS);
        if (rc == FB_ERR_TIMEOUT)
            continue;
        if (rc != FB_OK) {
            atomic_fetch_add(&w->counts.bad_deliveries, 1);
            continue;
        }
        s_take(r, d);
        if (atomic_exchange(&r->restart, 0)) {
            /* Handled, then the process dies before its ack: the broker
             * sends it again to the new client, which has no memory of it. */
            fb_client_destroy(&c);
            atomic_fetch_add(&w->counts.receiver_restarts, 1);
        } else {
            (void)fb_client_ack(c, d); /* a lost ack means a redelivery, which dedup drops */
        }
        fb_delivery_destroy(&d);
    }
    fb_client_destroy(&c);
    return NULL;
}

/* ---- the world -------------------------------------------------------------------- */

chaos_world_t *chaos_world_new(const chaos_world_config_t *cfg, unsigned seed)
{
    assert_true(cfg->senders >= 1 && cfg->senders <= S_MAX_ACTORS);
    assert_true(cfg->recipients >= 1 && cfg->recipients <= S_MAX_ACTORS);
    chaos_world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->cfg = *cfg;
    w->rng = seed;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->progress, NULL);
    uint8_t random_id[FB_MESSAGE_ID_BYTES];
    fb_message_id_new(random_id);
    memcpy(w->nonce, random_id, sizeof w->nonce);

    fbt_setup(&w->b);
    /* Flags after the harness's own: the last one wins. Rates far above the
     * load so that no sender is refused; info logs keep the log file small. */
    const char *args[] = {"--log-level", "info", "--rate", "10000000", "--rate-burst", "10000000"};
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++)
        w->b.args[i] = args[i];
    if (cfg->prepare)
        cfg->prepare(&w->b, cfg->prepare_ctx);
    for (unsigned i = 0; i < cfg->senders; i++) {
        s_sender_t *s = &w->senders[i];
        char actor[64];
        snprintf(s->siren, sizeof s->siren, "9%08u", 10000 + i);
        snprintf(actor, sizeof actor, "bailleur:%s", s->siren);
        fbt_actor(&w->b, actor, "bailleur", NULL, &w->senders_keys[i]);
        s->w = w;
        s->index = i;
        s->book = calloc(S_BOOK_CAP, sizeof *s->book);
        assert_non_null(s->book);
    }
    for (unsigned i = 0; i < cfg->recipients; i++) {
        char actor[64];
        snprintf(actor, sizeof actor, "reservataire:chaos-%u", i);
        fbt_actor(&w->b, actor, "reservataire", NULL, &w->recipients_keys[i]);
        s_receiver_t *r = &w->receivers[i];
        r->w = w;
        r->index = i;
        for (unsigned s = 0; s < S_MAX_ACTORS; s++)
            r->last_n[s] = -1;
    }
    fbt_start(&w->b);
    w->b_for_threads = w->b;
    return w;
}

static void s_join_senders(chaos_world_t *w)
{
    for (unsigned i = 0; i < w->cfg.senders; i++)
        if (w->senders[i].running) {
            pthread_join(w->senders[i].thread, NULL);
            w->senders[i].running = 0;
        }
}

static void s_join_receivers(chaos_world_t *w)
{
    atomic_store(&w->stop_receiving, 1);
    for (unsigned i = 0; i < w->cfg.recipients; i++)
        if (w->receivers[i].running) {
            pthread_join(w->receivers[i].thread, NULL);
            w->receivers[i].running = 0;
        }
}

void chaos_world_destroy(chaos_world_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    chaos_world_t *w = *self_p;
    atomic_store(&w->stop_sending, 2);
    s_join_senders(w);
    s_join_receivers(w);
    fbt_teardown(&w->b);
    for (unsigned i = 0; i < w->cfg.senders; i++)
        free(w->senders[i].book);
    pthread_cond_destroy(&w->progress);
    pthread_mutex_destroy(&w->lock);
    free(w);
    *self_p = NULL;
}

fbt_broker_t *chaos_world_broker(chaos_world_t *self)
{
    return &self->b;
}

unsigned chaos_world_random(chaos_world_t *self, unsigned n)
{
    return n ? (unsigned)rand_r(&self->rng) % n : 0;
}

void chaos_world_start_senders(chaos_world_t *self)
{
    for (unsigned i = 0; i < self->cfg.senders; i++) {
        s_sender_t *s = &self->senders[i];
        assert_int_equal(pthread_create(&s->thread, NULL, s_send_loop, s), 0);
        s->running = 1;
    }
}

void chaos_world_start_receiver(chaos_world_t *self, unsigned r)
{
    assert_true(r < self->cfg.recipients && !self->receivers[r].running);
    assert_int_equal(
        pthread_create(&self->receivers[r].thread, NULL, s_receive_loop, &self->receivers[r]), 0);
    self->receivers[r].running = 1;
}

void chaos_world_restart_receiver(chaos_world_t *self, unsigned r)
{
    atomic_store(&self->receivers[r].restart, 1);
}

uint64_t chaos_world_answered(chaos_world_t *self)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < self->cfg.senders; i++)
        total += atomic_load(&self->senders[i].answered);
    return total;
}

int chaos_world_wait_answered(chaos_world_t *self, uint64_t since, int timeout_ms)
{
    int64_t deadline = chaos_now_ms() + timeout_ms;
    while (chaos_world_answered(self) <= since) {
        if (chaos_now_ms() >= deadline)
            return 0;
        s_wait_progress(self, deadline);
    }
    return 1;
}

/* Moves each sender's covered mark over the answered messages (up to
 * upto[s]) that were delivered or refused; returns how many receipted ones
 * below upto are not delivered yet. */
static uint64_t s_advance_covered(chaos_world_t *w, const uint64_t *upto)
{
    uint64_t missing = 0;
    for (unsigned i = 0; i < w->cfg.senders; i++) {
        const s_entry_t *book = w->senders[i].book;
        uint64_t *c = &w->covered[i];
        while (*c < upto[i] &&
               (atomic_load(&book[*c].delivered) > 0 || !atomic_load(&book[*c].receipted)))
            (*c)++;
        for (uint64_t n = *c; n < upto[i]; n++)
            missing += atomic_load(&book[n].receipted) && atomic_load(&book[n].delivered) == 0;
    }
    return missing;
}

uint64_t chaos_world_wait_delivered(chaos_world_t *self, int timeout_ms)
{
    uint64_t upto[S_MAX_ACTORS];
    for (unsigned i = 0; i < self->cfg.senders; i++)
        upto[i] = atomic_load(&self->senders[i].answered);
    int64_t deadline = chaos_now_ms() + timeout_ms;
    uint64_t missing;
    while ((missing = s_advance_covered(self, upto)) > 0 && chaos_now_ms() < deadline)
        s_wait_progress(self, deadline);
    return missing;
}

void chaos_world_expect_delivered(chaos_world_t *self, const char *scenario, int timeout_ms,
                                  const char *what, unsigned k)
{
    uint64_t missing = chaos_world_wait_delivered(self, timeout_ms);
    if (!missing)
        return;
    self->lost = missing;
    char extra[160];
    snprintf(extra, sizeof extra, "failed=\"after %s %u\"", what, k);
    chaos_world_print(self, scenario, extra);
    fail_msg("after %s %u: %llu receipted message(s) not delivered within %d ms", what, k,
             (unsigned long long)missing, timeout_ms);
}

chaos_world_t *chaos_world_loaded(const chaos_opts_t *o, chaos_prepare_fn prepare, void *ctx)
{
    chaos_world_config_t cfg = {.senders = o->senders,
                                .recipients = o->recipients,
                                .route = CHAOS_ROUTE_SPREAD,
                                .prepare = prepare,
                                .prepare_ctx = ctx};
    chaos_world_t *w = chaos_world_new(&cfg, o->seed);
    for (unsigned r = 0; r < o->recipients; r++)
        chaos_world_start_receiver(w, r);
    chaos_world_start_senders(w);
    return w;
}

void chaos_world_await_moment(chaos_world_t *self, unsigned max_delay_ms, const char *what,
                              unsigned k)
{
    if (!chaos_world_wait_answered(self, chaos_world_answered(self), S_RESUME_MS))
        fail_msg("before %s %u: no message answered within %d ms", what, k, S_RESUME_MS);
    /* Chaos injection, not synchronisation: the point of failure is random. */
    usleep(1000u * chaos_world_random(self, max_delay_ms + 1));
}

void chaos_world_finish(chaos_world_t *self, const char *scenario, int64_t t0, int deliver_ms,
                        const char *extra)
{
    chaos_world_drain(self, deliver_ms);
    double elapsed_s = (double)(chaos_now_ms() - t0) / 1000.0;
    assert_int_equal(fbt_stop(&self->b, SIGTERM), 0);
    uint64_t stored = chaos_world_check_store(self);
    /* Beside the broker's own messages, the store holds the receipted ones,
     * once each. */
    if (stored - self->stored_own != atomic_load(&self->counts.receipted)) {
        chaos_world_print(self, scenario, "failed=\"stored count\"");
        fail_msg("the store holds %llu messages (%llu of the broker's own), %llu were receipted",
                 (unsigned long long)stored, (unsigned long long)self->stored_own,
                 (unsigned long long)atomic_load(&self->counts.receipted));
    }
    char line[512];
    snprintf(line, sizeof line,
             "%s stored=%llu broker_own=%llu integrity=ok audit=ok elapsed_s=%.1f", extra,
             (unsigned long long)stored, (unsigned long long)self->stored_own, elapsed_s);
    chaos_world_print(self, scenario, line);
    chaos_world_assert_clean(self);
}

int chaos_world_wait_sent(chaos_world_t *self, int timeout_ms)
{
    int64_t deadline = chaos_now_ms() + timeout_ms;
    uint64_t want = self->cfg.per_sender * self->cfg.senders;
    while (chaos_world_answered(self) < want) {
        if (chaos_now_ms() >= deadline)
            return 0;
        s_wait_progress(self, deadline);
    }
    s_join_senders(self);
    return 1;
}

void chaos_world_drain(chaos_world_t *self, int timeout_ms)
{
    atomic_store(&self->stop_sending, 1);
    s_join_senders(self);
    self->lost = chaos_world_wait_delivered(self, timeout_ms);
    s_join_receivers(self);
}

/* `fluxbus audit verify` on the store: returns the messages it counted. */
static uint64_t s_audit_verify(chaos_world_t *w)
{
    char out[4096];
    int rc = fbt_sh(out, sizeof out, "'%s' audit verify --store '%s' --broker '%s.pub' 2>&1",
                    FB_CLI_BIN, w->b.store, w->b.key);
    unsigned long long n = 0;
    if (rc != 0 || sscanf(out, "ok: %llu messages", &n) != 1)
        fail_msg("fluxbus audit verify failed (exit %d): %s", rc, out);
    return n;
}

/* store_export_fn: counts the messages the broker stored of its own. */
typedef struct {
    const char *broker;
    uint64_t n;
} s_own_t;

static bool s_count_own(void *ctx, const store_record_t *record)
{
    s_own_t *own = ctx;
    own->n += strcmp(record->sender, own->broker) == 0;
    return true;
}

uint64_t chaos_world_check_store(chaos_world_t *self)
{
    char why[512];
    store_t *store = store_open(self->b.store, why, sizeof why);
    if (!store)
        fail_msg("cannot open the store: %s", why);
    if (store_integrity_check(store, why, sizeof why) != FB_OK) {
        store_destroy(&store);
        fail_msg("PRAGMA integrity_check: %s", why);
    }
    uint64_t absent = 0, stored = 0;
    for (unsigned i = 0; i < self->cfg.senders; i++) {
        const s_sender_t *s = &self->senders[i];
        uint64_t answered = atomic_load(&s->answered);
        for (uint64_t n = 0; n < answered; n++) {
            if (!atomic_load(&s->book[n].receipted))
                continue;
            uint8_t id[FB_MESSAGE_ID_BYTES];
            store_seen_t seen;
            chaos_traffic_id(self->nonce, i, n, id);
            if (store_find(store, self->senders_keys[i].actor, id, &seen) != FB_OK &&
                absent++ < S_REPORT_FIRST)
                fprintf(stderr, "chaos: receipted message %llu of %s is not in the store\n",
                        (unsigned long long)n, s->siren);
        }
    }
    fb_err_t rc = store_count(store, &stored);
    s_own_t own = {self->b.keys.actor, 0};
    if (rc == FB_OK)
        rc = store_export(store, s_count_own, &own);
    store_destroy(&store);
    assert_int_equal(rc, FB_OK);
    self->stored_own = own.n;
    if (absent)
        fail_msg("%llu receipted message(s) missing from the store", (unsigned long long)absent);
    uint64_t audited = s_audit_verify(self);
    assert_int_equal(audited, stored);
    return stored;
}

chaos_counts_t chaos_world_counts(chaos_world_t *self)
{
    const s_counts_t *c = &self->counts;
    chaos_counts_t out = {
        .sends = atomic_load(&c->sends),
        .receipted = atomic_load(&c->receipted),
        .dup_receipts = atomic_load(&c->dup_receipts),
        .nacked = atomic_load(&c->nacked),
        .delivered = atomic_load(&c->delivered),
        .dups_suppressed = atomic_load(&c->dups_suppressed),
        .order_violations = atomic_load(&c->order_violations),
        .unexpected = atomic_load(&c->unexpected),
        .bad_deliveries = atomic_load(&c->bad_deliveries),
        .receiver_restarts = atomic_load(&c->receiver_restarts),
        .broker_messages = atomic_load(&c->broker_messages),
        .lost = self->lost,
    };
    for (unsigned i = 0; i < self->cfg.senders; i++)
        out.sealed += atomic_load(&self->senders[i].sealed);
    return out;
}

void chaos_world_print(chaos_world_t *self, const char *scenario, const char *extra)
{
    chaos_counts_t c = chaos_world_counts(self);
    printf("chaos %s: sent=%llu sends=%llu receipted=%llu duplicate_receipts=%llu nacked=%llu "
           "delivered=%llu duplicates_suppressed=%llu order_violations=%llu lost=%llu "
           "unexpected=%llu bad_deliveries=%llu receiver_restarts=%llu broker_messages=%llu%s%s\n",
           scenario, (unsigned long long)c.sealed, (unsigned long long)c.sends,
           (unsigned long long)c.receipted, (unsigned long long)c.dup_receipts,
           (unsigned long long)c.nacked, (unsigned long long)c.delivered,
           (unsigned long long)c.dups_suppressed, (unsigned long long)c.order_violations,
           (unsigned long long)c.lost, (unsigned long long)c.unexpected,
           (unsigned long long)c.bad_deliveries, (unsigned long long)c.receiver_restarts,
           (unsigned long long)c.broker_messages, extra ? " " : "", extra ? extra : "");
    fflush(stdout);
}

void chaos_world_assert_clean(chaos_world_t *self)
{
    chaos_counts_t c = chaos_world_counts(self);
    if (c.lost || c.order_violations || c.nacked || c.unexpected || c.bad_deliveries)
        fail_msg("lost=%llu order_violations=%llu nacked=%llu unexpected=%llu "
                 "bad_deliveries=%llu",
                 (unsigned long long)c.lost, (unsigned long long)c.order_violations,
                 (unsigned long long)c.nacked, (unsigned long long)c.unexpected,
                 (unsigned long long)c.bad_deliveries);
    /* Every message sent was answered, and every one delivered exactly once. */
    assert_int_equal(c.receipted, c.sealed);
    assert_int_equal(c.delivered, c.receipted);
}

uint64_t chaos_world_broker_peak_kib(chaos_world_t *self)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)self->b.pid);
    FILE *f = self->b.pid > 0 ? fopen(path, "r") : NULL;
    unsigned long long kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %llu kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

int chaos_run_teardown(void **state)
{
    chaos_run_t *run = *state;
    chaos_world_destroy(&run->world);
    return 0;
}
