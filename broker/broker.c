/* broker.c - the one place that wires transport -> codec -> verify ->
 * session -> router -> store, and back out as receipts and deliveries.
 *
 * Owns the ROUTER socket, the receiving sessions (one per actor that said
 * HELLO, with its in-flight window) and the replies of the current batch.
 *
 * Invariants:
 *  - a receipt leaves only after the transaction holding its message is
 *    committed and on the disk (group commit: every frame read in one loop
 *    turn shares one transaction, replies are queued and sent once the
 *    WAL is synced after COMMIT, walsync.c; meanwhile the next batch is
 *    read and its signatures checked);
 *  - nothing leaves the process (reply or delivery) before every commit
 *    made so far is durable (s_durable);
 *  - a failed COMMIT or fdatasync ends the broker (FB_ERR_STORE) without
 *    sending anything of that batch;
 *  - a recipient's ACK frees its window at once but reaches the disk with
 *    the next COMMIT that writes anyway, or within ack_delay_ms, or at a
 *    clean exit (acks.c); until then the pump does not send that message
 *    again;
 *  - the bytes stored and forwarded are exactly the bytes verified;
 *  - backlog lives in the store; the only per-receiver memory is its window
 *    of in-flight sequence numbers;
 *  - only the broker signs as the broker's actor: a SEND claiming it is
 *    refused; the broker's own messages (expiry.c, decompte_emit.c) go
 *    through the same store, ledger, audit chain and queues as accepted
 *    ones;
 *  - a message addressed to the broker (a BilanRequest) is stored with the
 *    broker's answer (bilan_reply.c) in the same transaction, or refused;
 *    the answer is computed off the loop (bilan_queue.c) while the request
 *    waits, unacknowledged, and the loop goes on with everything else. */
#include "broker.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "fluxbus/audit_chain.h"
#include "fluxbus/catalog.h"
#include "fluxbus/codec.h"
#include "fluxbus/envelope.h"
#include "fluxbus/keys.h"
#include "acks.h"
#include "admission.h"
#include "bilan_queue.h"
#include "bilan_reply.h"
#include "checkpointer.h"
#include "walsync.h"
#include "decompte_emit.h"
#include "expiry.h"
#include "keyquery.h"
#include "ledger.h"
#include "notary.h"
#include "parallel.h"
#include "precheck.h"
#include "router.h"
#include "sealcheck.h"
#include "store.h"
#include "storelock.h"
#include "zap.h"

#define S_RID_MAX 256
#define S_KEYCERT_CACHE 256
#define S_EXPIRY_PERIOD_MS 500 /* how often the deadlines are looked at */
#define S_EXPIRY_BATCH 64      /* DeadlineExpired per transaction */
#define S_ACKS_MAX 1024        /* acks kept before a commit of their own */
#define S_CHECKPOINT_MS 100    /* the checkpointer's rhythm (checkpointer.h) */
#define S_BILAN_QUEUE 8        /* BilanRequests waiting for their answer, at most */
#define S_BILAN_POLL_MS 10     /* while a bilan computes, the loop looks this often */

typedef struct {
    uint8_t rid[S_RID_MAX];
    size_t rid_len;
    char actor[FB_ACTOR_MAX];
    unsigned window;
    uint64_t *inflight; /* store seqs sent and not yet acked, window entries */
    size_t n_inflight;
    uint64_t cursor; /* highest seq sent in this session, or skipped as acked */
    int dirty;       /* the store may hold more for it */
    int dead;        /* peer gone: drop at the end of the turn */
} s_session_t;

typedef struct {
    uint8_t rid[S_RID_MAX];
    size_t rid_len;
    const char *cmd;
    uint8_t *data;
    size_t len;
} s_reply_t;

/* A receipt of the current turn waiting for its signature (s_seal_receipts):
 * the body is packed when its message is stored, sealed on the pool with the
 * others before COMMIT, then stored, chained and sent in store order. */
typedef struct {
    uint64_t seq;
    uint8_t message_digest[FB_AUDIT_MESSAGE_DIGEST_BYTES]; /* its audit chain part */
    uint8_t *body;                                         /* the Receipt's SignedBody, packed */
    size_t body_len;
    uint8_t *receipt; /* sealed */
    size_t receipt_len;
    fb_err_t rc;
    long reply; /* its RECEIPT in self->replies; -1: the broker's own message */
} s_receipt_job_t;

typedef struct {
    char key_id[FB_KEY_ID_CHARS + 1];
    uint8_t *cert;
    size_t len;
} s_cert_t;

struct broker {
    broker_config_t cfg;
    fb_keys_t keys;
    notary_t notary;
    storelock_t *lock; /* the store is this broker's alone */
    store_t *store;
    ledger_t *ledger; /* on the store's connection */
    expiry_t *expiry; /* the broker's DeadlineExpired */
    int64_t next_expiry_ms;
    decompte_emit_t *decompte;    /* the broker's DecompteDroits */
    checkpointer_t *checkpointer; /* the WAL's checkpoints, off the loop thread */
    bilan_queue_t *bilans;        /* BilanRequests waiting for their answer */
    walsync_t *walsync;           /* the commits made durable; NULL: COMMIT syncs */
    uint64_t durable_gen;         /* store_commits() known to be on the disk */
    size_t n_next;                /* frame sets of the next turn, read already */
    bool unsettled;               /* the last turn's replies wait for its fdatasync */
    void *ctx;
    void *router;
    zap_t *zap;
    admission_t *admission;
    acks_t *acks;     /* acks taken, not yet in the store */
    parallel_t *pool; /* checks the signatures of a batch (precheck.c) */
    char endpoint[256];
    s_session_t *sessions;
    size_t n_sessions;
    s_reply_t *replies;
    size_t n_replies, cap_replies;
    s_cert_t certs[S_KEYCERT_CACHE];
    size_t n_certs;
    int64_t data_version;
    uint8_t chain_head[FB_AUDIT_LINK_BYTES]; /* audit chain link of the last stored message */
    struct s_input *batch; /* the frame sets of the current turn, batch_max of them */
    precheck_t *pre;       /* their SENDs' bulk checks */
    s_receipt_job_t *jobs; /* the turn's receipts to seal */
    size_t n_jobs, cap_jobs;
};

/* A frame set from the ROUTER: routing id, command, data frames. */
typedef struct s_input {
    zmq_msg_t part[4];
    size_t n;
    char actor[FB_ACTOR_MAX]; /* from ZAP's User-Id */
} s_input_t;

/* ---- logging ----------------------------------------------------------- */

/* stderr is fully buffered (main.c): info lines leave once per turn, after
 * COMMIT and before the turn's replies (s_flush_log); warnings and errors,
 * from any thread, at once. */
static void s_log_line(fb_log_level_t level, const char *line)
{
    fb_log_stderr(NULL, level, line);
    if (level >= FB_LOG_WARN)
        fflush(stderr);
}

static void s_flush_log(void)
{
    fflush(stderr);
}

static void s_log(broker_t *self, fb_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_log(broker_t *self, fb_log_level_t level, const char *fmt, ...)
{
    if (level < self->cfg.log_level)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s_log_line(level, line);
}

static void s_zap_log(void *ctx, fb_log_level_t level, const char *line)
{
    broker_t *self = ctx;
    if (level >= self->cfg.log_level)
        s_log_line(level, line);
}

/* expiry.c and decompte_emit.c log through the same level filter. */
static void s_expiry_log(void *ctx, fb_log_level_t level, const char *line)
{
    s_zap_log(ctx, level, line);
}

static void s_id_hex(const uint8_t *id, char out[2 * FB_MESSAGE_ID_BYTES + 1])
{
    if (id)
        fb_hex_encode(id, FB_MESSAGE_ID_BYTES, out);
    else
        snprintf(out, 2 * FB_MESSAGE_ID_BYTES + 1, "-");
}

/* ---- replies (sent after commit) ---------------------------------------- */

/* Queues a reply to the connection of routing id rid; takes ownership of
 * data. */
static fb_err_t s_queue_reply_to(broker_t *self, const uint8_t *rid, size_t rid_len,
                                 const char *cmd, uint8_t *data, size_t len)
{
    if (self->n_replies == self->cap_replies) {
        size_t cap = self->cap_replies ? 2 * self->cap_replies : 64;
        void *p = realloc(self->replies, cap * sizeof *self->replies);
        if (!p) {
            free(data);
            return FB_ERR_NOMEM;
        }
        self->replies = p;
        self->cap_replies = cap;
    }
    s_reply_t *r = &self->replies[self->n_replies++];
    r->rid_len = rid_len < S_RID_MAX ? rid_len : S_RID_MAX;
    memcpy(r->rid, rid, r->rid_len);
    r->cmd = cmd;
    r->data = data;
    r->len = len;
    return FB_OK;
}

/* Queues a reply to the connection `in` came from; takes ownership of data. */
static fb_err_t s_queue_reply(broker_t *self, const s_input_t *in, const char *cmd, uint8_t *data,
                              size_t len)
{
    return s_queue_reply_to(self, zmq_msg_data((zmq_msg_t *)&in->part[0]),
                            zmq_msg_size((zmq_msg_t *)&in->part[0]), cmd, data, len);
}

static fb_err_t s_queue_packed(broker_t *self, const s_input_t *in, const char *cmd,
                               const ProtobufCMessage *msg)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    fb_err_t rc = fb_codec_pack(msg, &buf, &len);
    return rc == FB_OK ? s_queue_reply(self, in, cmd, buf, len) : rc;
}

static void s_drop_replies(broker_t *self);

/* Waits until every commit made so far is on the disk (walsync.h): nothing
 * of a commit leaves the process before. */
static fb_err_t s_durable(broker_t *self)
{
    uint64_t gen = store_commits(self->store);
    if (!self->walsync || gen <= self->durable_gen)
        return FB_OK;
    char why[320];
    if (walsync_wait(self->walsync, gen, why, sizeof why) != FB_OK) {
        s_log(self, FB_LOG_ERROR, "broker store-failed reason=STORE detail=\"%s\"", why);
        return FB_ERR_STORE;
    }
    self->durable_gen = gen;
    return FB_OK;
}

/* Sends the queued replies once their commit is durable; drops them when
 * it cannot be (FB_ERR_STORE, fatal). */
static fb_err_t s_flush_replies(broker_t *self)
{
    if (self->n_replies && s_durable(self) != FB_OK) {
        s_drop_replies(self);
        return FB_ERR_STORE;
    }
    for (size_t i = 0; i < self->n_replies; i++) {
        s_reply_t *r = &self->replies[i];
        /* A peer that left meanwhile just misses its reply: it resends and
         * gets the receipt again, marked duplicate. */
        if (zmq_send(self->router, r->rid, r->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0) {
            zmq_send(self->router, r->cmd, strlen(r->cmd), ZMQ_SNDMORE);
            zmq_send(self->router, r->data, r->len, 0);
        }
        free(r->data);
    }
    self->n_replies = 0;
    return FB_OK;
}

static void s_drop_replies(broker_t *self)
{
    for (size_t i = 0; i < self->n_replies; i++)
        free(self->replies[i].data);
    self->n_replies = 0;
}

/* ---- sessions ------------------------------------------------------------- */

static s_session_t *s_session_of(broker_t *self, const char *actor)
{
    for (size_t i = 0; i < self->n_sessions; i++)
        if (strcmp(self->sessions[i].actor, actor) == 0)
            return &self->sessions[i];
    return NULL;
}

static void s_session_mark_dirty(broker_t *self, const char *actor)
{
    s_session_t *s = s_session_of(self, actor);
    if (s)
        s->dirty = 1;
}

/* A HELLO (re)starts deliveries for the actor on this connection, from the
 * oldest unacknowledged message: anything in flight before is resent. */
static fb_err_t s_session_start(broker_t *self, const s_input_t *in, unsigned window)
{
    s_session_t *s = s_session_of(self, in->actor);
    if (!s) {
        void *p = realloc(self->sessions, (self->n_sessions + 1) * sizeof *self->sessions);
        if (!p)
            return FB_ERR_NOMEM;
        self->sessions = p;
        s = &self->sessions[self->n_sessions++];
        memset(s, 0, sizeof *s);
        snprintf(s->actor, sizeof s->actor, "%s", in->actor);
        s->inflight = calloc(self->cfg.window, sizeof *s->inflight);
        if (!s->inflight) {
            self->n_sessions--;
            return FB_ERR_NOMEM;
        }
    }
    s->rid_len = zmq_msg_size((zmq_msg_t *)&in->part[0]);
    memcpy(s->rid, zmq_msg_data((zmq_msg_t *)&in->part[0]), s->rid_len);
    s->window = window && window < self->cfg.window ? window : self->cfg.window;
    s->n_inflight = 0;
    s->cursor = 0;
    s->dirty = 1;
    s->dead = 0;
    return FB_OK;
}

static void s_session_acked(broker_t *self, const char *actor, uint64_t seq)
{
    s_session_t *s = s_session_of(self, actor);
    if (!s)
        return;
    for (size_t i = 0; i < s->n_inflight; i++)
        if (s->inflight[i] == seq) {
            s->inflight[i] = s->inflight[--s->n_inflight];
            s->dirty = 1;
            return;
        }
}

static void s_sessions_reap(broker_t *self)
{
    size_t j = 0;
    for (size_t i = 0; i < self->n_sessions; i++) {
        if (self->sessions[i].dead) {
            s_log(self, FB_LOG_INFO, "broker session-closed peer=%s", self->sessions[i].actor);
            free(self->sessions[i].inflight);
            continue;
        }
        self->sessions[j++] = self->sessions[i];
    }
    self->n_sessions = j;
}

/* Registry changed: a revoked actor's open session receives nothing more. */
static void s_sessions_recheck(broker_t *self)
{
    for (size_t i = 0; i < self->n_sessions; i++) {
        store_actor_t a;
        fb_err_t rc = store_actor_get(self->store, self->sessions[i].actor, &a);
        if (rc == FB_ERR_NOT_FOUND || (rc == FB_OK && a.revoked_at_ms))
            self->sessions[i].dead = 1;
    }
}

/* True when the connection's actor is still registered and active: ZAP
 * checked it at the handshake, but it may have been revoked since. */
static int s_actor_active(broker_t *self, const char *actor)
{
    store_actor_t a;
    return store_actor_get(self->store, actor, &a) == FB_OK && a.revoked_at_ms == 0;
}

/* ---- key certificates ----------------------------------------------------- */

static void s_certs_clear(broker_t *self)
{
    for (size_t i = 0; i < self->n_certs; i++)
        free(self->certs[i].cert);
    self->n_certs = 0;
}

/* The broker-signed KeyCert for key_id (cached until the registry changes). */
static fb_err_t s_keycert(broker_t *self, const char *key_id, const s_cert_t **out)
{
    for (size_t i = 0; i < self->n_certs; i++)
        if (strcmp(self->certs[i].key_id, key_id) == 0) {
            *out = &self->certs[i];
            return FB_OK;
        }
    if (self->n_certs == S_KEYCERT_CACHE)
        s_certs_clear(self);
    store_key_t key;
    fb_err_t rc = FB_OK;
    if (strcmp(key_id, self->keys.key_id) == 0) {
        /* A message the broker sent: its own key, certified by itself (the
         * receiver verifies it with the broker key it holds anyway). */
        memset(&key, 0, sizeof key);
        snprintf(key.actor, sizeof key.actor, "%s", self->keys.actor);
        snprintf(key.key_id, sizeof key.key_id, "%s", self->keys.key_id);
        memcpy(key.public_key, self->keys.sign_pk, FB_SIGN_PK_BYTES);
    } else {
        rc = store_key_get(self->store, key_id, &key);
    }
    s_cert_t *c = &self->certs[self->n_certs];
    if (rc == FB_OK)
        rc = notary_keycert(&self->notary, &key, &c->cert, &c->len);
    if (rc != FB_OK)
        return rc;
    snprintf(c->key_id, sizeof c->key_id, "%s", key_id);
    self->n_certs++;
    *out = c;
    return FB_OK;
}

/* ---- delivery --------------------------------------------------------------- */

typedef struct {
    broker_t *self;
    s_session_t *s;
    size_t sent;
    size_t skipped; /* acked, the ack not in the store yet */
    int blocked;
} s_pump_t;

static void s_deliver_one(void *ctx, uint64_t seq, const uint8_t *env, size_t len,
                          const char *key_id)
{
    s_pump_t *p = ctx;
    broker_t *self = p->self;
    s_session_t *s = p->s;
    if (p->blocked || s->dead)
        return;
    if (acks_has(self->acks, s->actor, seq)) {
        /* Acked by the recipient (before a new HELLO, say), the ack still
         * kept in acks.c: done for this live connection, not sent again. */
        s->cursor = seq;
        p->skipped++;
        return;
    }
    const s_cert_t *cert = NULL;
    if (s_keycert(self, key_id, &cert) != FB_OK) {
        s_log(self, FB_LOG_ERROR, "broker keycert-failed key_id=%s seq=%llu", key_id,
              (unsigned long long)seq);
        p->blocked = 1;
        return;
    }
    uint8_t seq_be[8];
    for (int i = 0; i < 8; i++)
        seq_be[i] = (uint8_t)(seq >> (56 - 8 * i));
    if (zmq_send(self->router, s->rid, s->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        if (errno == EHOSTUNREACH)
            s->dead = 1; /* the peer left; its queue waits in the store */
        p->blocked = 1;
        return;
    }
    zmq_send(self->router, "DELIVER", 7, ZMQ_SNDMORE);
    zmq_send(self->router, seq_be, 8, ZMQ_SNDMORE);
    zmq_send(self->router, env, len, ZMQ_SNDMORE);
    zmq_send(self->router, cert->cert, cert->len, 0);
    s->inflight[s->n_inflight++] = seq;
    s->cursor = seq;
    p->sent++;
}

static fb_err_t s_pump(broker_t *self)
{
    if (s_durable(self) != FB_OK) /* deliver only what is on the disk */
        return FB_ERR_STORE;
    for (size_t i = 0; i < self->n_sessions; i++) {
        s_session_t *s = &self->sessions[i];
        if (!s->dirty || s->dead || s->n_inflight >= s->window)
            continue;
        /* The recipient's right is checked again at delivery: a revoked
         * actor receives nothing more, queued messages included. */
        if (!s_actor_active(self, s->actor)) {
            s_log(self, FB_LOG_WARN,
                  "broker withheld peer=%s reason=NOT_AUTHORIZED "
                  "detail=\"recipient revoked\"",
                  s->actor);
            s->dead = 1;
            continue;
        }
        size_t room = s->window - s->n_inflight;
        s_pump_t p = {self, s, 0, 0, 0};
        fb_err_t rc = store_pending_for(self->store, s->actor, s->cursor, room, s_deliver_one, &p);
        if (rc != FB_OK)
            return rc;
        if (!p.blocked && p.sent + p.skipped < room)
            s->dirty = 0; /* drained: wait for a new message or an ack */
    }
    s_sessions_reap(self);
    return FB_OK;
}

/* ---- the SEND pipeline ---------------------------------------------------------- */

/* A signed Nack for actor's message id, to the connection of routing id rid. */
static fb_err_t s_nack_to(broker_t *self, const uint8_t *rid, size_t rid_len, const char *actor,
                          const uint8_t *id, fb_err_t reason, const char *detail)
{
    char hex[2 * FB_MESSAGE_ID_BYTES + 1];
    s_id_hex(id, hex);
    s_log(self, FB_LOG_WARN, "broker nack msg_id=%s peer=%s reason=%s detail=\"%s\"", hex, actor,
          fb_err_name(reason), detail);
    uint8_t *buf = NULL;
    size_t len = 0;
    fb_err_t rc = notary_nack(&self->notary, actor, id, reason, detail, &buf, &len);
    return rc == FB_OK ? s_queue_reply_to(self, rid, rid_len, "RECEIPT", buf, len) : rc;
}

static fb_err_t s_nack(broker_t *self, const s_input_t *in, const uint8_t *id, fb_err_t reason,
                       const char *detail)
{
    return s_nack_to(self, zmq_msg_data((zmq_msg_t *)&in->part[0]),
                     zmq_msg_size((zmq_msg_t *)&in->part[0]), in->actor, id, reason, detail);
}

/* Checks the key that signed the envelope (precheck.c looked it up and
 * verified the signature): registered, signature valid, owned by the
 * connection's actor, not revoked, in validity. */
static fb_err_t s_check_key(const s_input_t *in, const precheck_t *pre, char *detail, size_t dlen)
{
    const store_key_t *key = &pre->key;
    if (pre->key_rc == FB_ERR_NOT_FOUND) {
        snprintf(detail, dlen, "key_id %.32s is not registered", pre->env->key_id);
        return FB_ERR_UNKNOWN_KEY;
    }
    if (pre->key_rc != FB_OK)
        return pre->key_rc;
    if (pre->verify_rc != FB_OK) {
        snprintf(detail, dlen, "signature does not verify with key %s", key->key_id);
        return FB_ERR_BAD_SIGNATURE;
    }
    if (strcmp(key->actor, in->actor) != 0) {
        snprintf(detail, dlen, "key %s belongs to %.80s, connection is %.80s", key->key_id,
                 key->actor, in->actor);
        return FB_ERR_SENDER_MISMATCH;
    }
    int64_t now = fb_now_ms();
    if ((key->revoked_at_ms && now >= key->revoked_at_ms) || now < key->valid_from_ms ||
        (key->valid_until_ms && now > key->valid_until_ms)) {
        snprintf(detail, dlen, "key %s is revoked or not valid now", key->key_id);
        return FB_ERR_KEY_REVOKED;
    }
    return FB_OK;
}

/* Checks the body against the connection and the catalog; decodes the
 * payload into *payload (the caller frees it with fb_codec_free). */
static fb_err_t s_check_body(broker_t *self, const s_input_t *in,
                             const Fluxbus__V1__SignedBody *body, store_actor_t *sender,
                             ProtobufCMessage **payload, char *detail, size_t dlen)
{
    if (strcmp(body->sender, in->actor) != 0) {
        snprintf(detail, dlen, "body sender %.64s is not the connection's actor", body->sender);
        return FB_ERR_SENDER_MISMATCH;
    }
    if (strcmp(body->sender, self->keys.actor) == 0) {
        snprintf(detail, dlen, "only the broker sends as %.64s", body->sender);
        return FB_ERR_NOT_AUTHORIZED;
    }
    fb_err_t rc = store_actor_get(self->store, in->actor, sender);
    if (rc == FB_ERR_NOT_FOUND || (rc == FB_OK && sender->revoked_at_ms)) {
        snprintf(detail, dlen, "actor %s is revoked", in->actor);
        return FB_ERR_NOT_AUTHORIZED;
    }
    if (rc != FB_OK)
        return rc;
    if (body->n_recipients + body->n_topics > self->cfg.max_recipients) {
        snprintf(detail, dlen, "%zu recipients and topics, the cap is %u",
                 body->n_recipients + body->n_topics, self->cfg.max_recipients);
        return FB_ERR_TOO_MANY_RECIPIENTS;
    }
    const fb_catalog_entry_t *entry = fb_catalog_by_type((int)body->type);
    if (!entry || body->type >= FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_RECEIPT) {
        snprintf(detail, dlen, "type %d is not a domain message type", (int)body->type);
        return FB_ERR_UNKNOWN_TYPE;
    }
    rc = fb_codec_unpack(entry->desc, body->payload.data, body->payload.len, self->cfg.max_envelope,
                         payload);
    if (rc != FB_OK) {
        snprintf(detail, dlen, "payload is not a valid %s", entry->name);
        return FB_ERR_MALFORMED;
    }
    return FB_OK;
}

/* A message stored before as `seen`, sent again (to the connection of
 * routing id rid): the same bytes get the receipt again (duplicate), other
 * bytes are a CONFLICT. */
static fb_err_t s_receipt_again_to(broker_t *self, const uint8_t *rid, size_t rid_len,
                                   const Fluxbus__V1__SignedBody *body, const uint8_t sha[32],
                                   const store_seen_t *seen)
{
    if (memcmp(seen->envelope_sha256, sha, 32) != 0)
        return s_nack_to(self, rid, rid_len, body->sender, body->message_id.data, FB_ERR_CONFLICT,
                         "message_id already used with different bytes");
    char hex[2 * FB_MESSAGE_ID_BYTES + 1];
    s_id_hex(body->message_id.data, hex);
    s_log(self, FB_LOG_INFO, "broker duplicate msg_id=%s peer=%s seq=%llu", hex, body->sender,
          (unsigned long long)seen->seq);
    uint8_t *buf = NULL;
    size_t len = 0;
    fb_err_t rc = notary_receipt(&self->notary, body->sender, body->message_id.data, seen->seq,
                                 seen->accepted_at_ms, true, sha, NULL, &buf, &len);
    return rc == FB_OK ? s_queue_reply_to(self, rid, rid_len, "RECEIPT", buf, len) : rc;
}

/* Same (sender, message_id) seen before: same bytes get the receipt again
 * (duplicate), other bytes are a CONFLICT. Returns FB_ERR_NOT_FOUND if new. */
static fb_err_t s_dedup(broker_t *self, const s_input_t *in, const Fluxbus__V1__SignedBody *body,
                        const uint8_t sha[32])
{
    store_seen_t seen;
    fb_err_t rc = store_find(self->store, body->sender, body->message_id.data, &seen);
    if (rc != FB_OK)
        return rc;
    return s_receipt_again_to(self, zmq_msg_data((zmq_msg_t *)&in->part[0]),
                              zmq_msg_size((zmq_msg_t *)&in->part[0]), body, sha, &seen);
}

static fb_err_t s_write_acks(broker_t *self, const char *forced);

/* The sender's backlog is counted again only when it looks full: the acks
 * kept (acks.c) are written first, in the turn's transaction, so that they
 * count. */
static fb_err_t s_count_backlog(void *ctx, const char *actor, uint64_t *out)
{
    broker_t *self = ctx;
    fb_err_t rc = s_write_acks(self, "backlog");
    return rc == FB_OK ? store_sender_backlog(self->store, actor, out) : rc;
}

/* Checks that only apply to a message not seen before (a resent duplicate
 * gets its receipt whatever its age): freshness of created_at, and room in
 * the sender's backlog. */
static fb_err_t s_check_new(broker_t *self, const Fluxbus__V1__SignedBody *body, char *detail,
                            size_t dlen)
{
    /* now +- window cannot overflow; created_at (any int64) is not subtracted. */
    int64_t now = fb_now_ms();
    int64_t window = (int64_t)self->cfg.freshness_s * 1000;
    if (body->created_at_ms > now + window || body->created_at_ms < now - window) {
        snprintf(detail, dlen, "created_at %lld ms is outside the broker clock %lld +-%u s",
                 (long long)body->created_at_ms, (long long)now, self->cfg.freshness_s);
        return FB_ERR_STALE;
    }
    fb_err_t rc = admission_backlog_check(self->admission, body->sender, s_count_backlog, self);
    if (rc == FB_ERR_BACKLOG_FULL)
        snprintf(detail, dlen, "%u deliveries of this sender wait for their recipients",
                 self->cfg.max_backlog);
    return rc;
}

/* Adds the receipt of the message stored at seq (envelope `data`) to seal at
 * the end of the turn; takes body. */
static fb_err_t s_receipt_job(broker_t *self, uint64_t seq, const uint8_t *data, size_t len,
                              uint8_t *body, size_t body_len)
{
    if (self->n_jobs == self->cap_jobs) {
        size_t cap = self->cap_jobs ? 2 * self->cap_jobs : 256;
        void *p = realloc(self->jobs, cap * sizeof *self->jobs);
        if (!p) {
            free(body);
            return FB_ERR_NOMEM;
        }
        self->jobs = p;
        self->cap_jobs = cap;
    }
    s_receipt_job_t *job = &self->jobs[self->n_jobs];
    *job = (s_receipt_job_t){
        .seq = seq, .body = body, .body_len = body_len, .rc = FB_ERR_INVALID, .reply = -1};
    fb_err_t rc = fb_audit_chain_message_digest(data, len, job->message_digest);
    if (rc != FB_OK) {
        free(body);
        return rc;
    }
    self->n_jobs++;
    return FB_OK;
}

static void s_seal_one(void *ctx, size_t i)
{
    broker_t *self = ctx;
    s_receipt_job_t *job = &self->jobs[i];
    job->rc =
        notary_seal(&self->notary, job->body, job->body_len, &job->receipt, &job->receipt_len);
}

static void s_drop_receipt_jobs(broker_t *self)
{
    for (size_t i = 0; i < self->n_jobs; i++) {
        free(self->jobs[i].body);
        free(self->jobs[i].receipt);
    }
    self->n_jobs = 0;
}

/* Before COMMIT: seals the turn's receipts on the pool, then, in store
 * order, keeps each in the store, extends the audit chain with it and hands
 * it to its RECEIPT reply. Any error is fatal for the turn (FB_ERR_STORE or
 * FB_ERR_NOMEM); the in-memory chain head moves only with the store. */
static fb_err_t s_seal_receipts(broker_t *self)
{
    parallel_for(self->pool, self->n_jobs, s_seal_one, self);
    uint8_t head[FB_AUDIT_LINK_BYTES];
    memcpy(head, self->chain_head, sizeof head);
    fb_err_t rc = FB_OK;
    for (size_t i = 0; rc == FB_OK && i < self->n_jobs; i++) {
        s_receipt_job_t *job = &self->jobs[i];
        rc = job->rc;
        uint8_t link[FB_AUDIT_LINK_BYTES];
        fb_audit_chain_link_digest(head, job->seq, job->message_digest, job->receipt,
                                   job->receipt_len, link);
        if (rc == FB_OK)
            rc = store_set_receipt_and_link(self->store, job->seq, job->receipt, job->receipt_len,
                                            link);
        if (rc == FB_OK)
            memcpy(head, link, sizeof head);
    }
    if (rc != FB_OK) {
        s_drop_receipt_jobs(self);
        return rc == FB_ERR_NOMEM ? rc : FB_ERR_STORE;
    }
    memcpy(self->chain_head, head, sizeof head);
    for (size_t i = 0; i < self->n_jobs; i++) {
        s_receipt_job_t *job = &self->jobs[i];
        if (job->reply >= 0) { /* the reply takes the bytes */
            self->replies[job->reply].data = job->receipt;
            self->replies[job->reply].len = job->receipt_len;
            job->receipt = NULL;
        }
    }
    s_drop_receipt_jobs(self);
    return FB_OK;
}

/* Stores a message (from a sender or from the broker itself), records it in
 * the ledger, queues it for its targets and packs its receipt, to be sealed
 * and chained before COMMIT (s_seal_receipts), all in the turn's
 * transaction. Any error (FB_ERR_STORE, FB_ERR_NOMEM) rolls the turn back and
 * ends the broker. */
static fb_err_t s_store_accepted(broker_t *self, const Fluxbus__V1__SignedBody *body,
                                 const ProtobufCMessage *payload, const uint8_t *data, size_t len,
                                 const uint8_t sha[32], const router_targets_t *targets,
                                 uint64_t *seq_out)
{
    int64_t now = fb_now_ms();
    store_message_t m = store_message_of(body, data, len, sha, now);
    uint64_t seq = 0;
    fb_err_t rc = store_put(self->store, &m, &seq);
    if (rc == FB_OK) {
        ledger_msg_t lm = ledger_msg_of(body, payload, seq, now);
        rc = ledger_record(self->ledger, &lm);
    }
    for (size_t i = 0; rc == FB_OK && i < targets->n; i++) {
        rc = store_enqueue(self->store, seq, targets->actor[i]);
        s_session_mark_dirty(self, targets->actor[i]);
    }
    uint8_t *receipt_body = NULL;
    size_t receipt_body_len = 0;
    if (rc == FB_OK)
        rc = notary_receipt_body(&self->notary, body->sender, body->message_id.data, seq, now,
                                 false, sha, targets, &receipt_body, &receipt_body_len);
    if (rc == FB_OK)
        rc = s_receipt_job(self, seq, data, len, receipt_body, receipt_body_len);
    if (rc != FB_OK)
        return rc == FB_ERR_NOMEM ? rc : FB_ERR_STORE;
    *seq_out = seq;
    return FB_OK;
}

/* Accepts a sender's message (s_store_accepted) and queues its RECEIPT to
 * the connection of routing id rid. */
static fb_err_t s_accept_to(broker_t *self, const uint8_t *rid, size_t rid_len,
                            const Fluxbus__V1__SignedBody *body, const ProtobufCMessage *payload,
                            const uint8_t *data, size_t len, const uint8_t sha[32],
                            const router_targets_t *targets)
{
    uint64_t seq = 0;
    fb_err_t rc = s_store_accepted(self, body, payload, data, len, sha, targets, &seq);
    if (rc != FB_OK)
        return rc;
    admission_backlog_add(self->admission, body->sender, targets->n);
    decompte_emit_touch(self->decompte, fb_now_ms());
    char hex[2 * FB_MESSAGE_ID_BYTES + 1];
    s_id_hex(body->message_id.data, hex);
    const fb_catalog_entry_t *entry = fb_catalog_by_type((int)body->type);
    s_log(self, FB_LOG_INFO, "broker accept msg_id=%s peer=%s type=%s seq=%llu recipients=%zu", hex,
          body->sender, entry ? entry->name : "?", (unsigned long long)seq, targets->n);
    /* The RECEIPT's bytes come with s_seal_receipts, before any reply leaves. */
    rc = s_queue_reply_to(self, rid, rid_len, "RECEIPT", NULL, 0);
    if (rc == FB_OK)
        self->jobs[self->n_jobs - 1].reply = (long)self->n_replies - 1;
    return rc;
}

/* expiry_accept_fn and decompte_emit_accept_fn: a message the broker signed
 * itself (expiry.c, decompte_emit.c), routed by
 * the table of the broker's own messages and stored like any other; its
 * receipt is kept in the store (the audit checks it) and sent to no one. */
static fb_err_t s_accept_own(void *ctx, const uint8_t *data, size_t len,
                             const ProtobufCMessage *payload)
{
    broker_t *self = ctx;
    Fluxbus__V1__Envelope *env = NULL;
    Fluxbus__V1__SignedBody *body = NULL;
    router_targets_t targets = {0};
    char detail[256] = "";
    fb_err_t rc = fb_envelope_decode(data, len, len, &env);
    if (rc == FB_OK)
        rc = fb_envelope_verify(env, self->keys.sign_pk);
    if (rc == FB_OK)
        rc = fb_envelope_parse_body(env, &body);
    fb_envelope_free(env);
    store_seen_t seen;
    if (rc == FB_OK) {
        rc = store_find(self->store, body->sender, body->message_id.data, &seen);
        rc = rc == FB_OK ? FB_ERR_EXISTS : rc == FB_ERR_NOT_FOUND ? FB_OK : rc;
    }
    if (rc == FB_OK)
        rc = router_route_own(self->store, body, &targets, detail, sizeof detail);
    uint64_t seq = 0;
    uint8_t sha[32];
    fb_sha256(data, len, sha);
    if (rc == FB_OK)
        rc = s_store_accepted(self, body, payload, data, len, sha, &targets, &seq);
    if (rc == FB_OK) {
        char hex[2 * FB_MESSAGE_ID_BYTES + 1];
        s_id_hex(body->message_id.data, hex);
        const fb_catalog_entry_t *entry = fb_catalog_by_type((int)body->type);
        s_log(self, FB_LOG_INFO, "broker emit msg_id=%s type=%s seq=%llu recipients=%zu", hex,
              entry ? entry->name : "?", (unsigned long long)seq, targets.n);
    } else if (detail[0]) {
        s_log(self, FB_LOG_WARN, "broker emit-refused reason=%s detail=\"%s\"", fb_err_name(rc),
              detail);
    }
    router_targets_free(&targets);
    fb_body_free(body);
    return rc;
}

/* ---- BilanRequests: answered off the loop ------------------------------------------------ */

/* Tells the connection that its SEND of `id` is answered later (PROTOCOL.md
 * 3.2, PENDING): an id-less Nack meanwhile is not about it. */
static fb_err_t s_queue_pending(broker_t *self, const s_input_t *in, const uint8_t *id)
{
    uint8_t *copy = malloc(FB_MESSAGE_ID_BYTES);
    if (!copy)
        return FB_ERR_NOMEM;
    memcpy(copy, id, FB_MESSAGE_ID_BYTES);
    return s_queue_reply(self, in, "PENDING", copy, FB_MESSAGE_ID_BYTES);
}

/* The same (sender, message_id) sent again while its BilanRequest waits for
 * its answer (bilan_queue.c): the same bytes wait for the same outcome
 * (one request, one answer; each SEND of it gets its own RECEIPT, up to
 * BILAN_QUEUE_WAITERS, further copies a RATE_LIMITED Nack); other bytes
 * are a CONFLICT, as for a stored message. FB_ERR_NOT_FOUND when no request
 * of that id waits. */
static fb_err_t s_join_pending(broker_t *self, const s_input_t *in,
                               const Fluxbus__V1__SignedBody *body, const uint8_t sha[32])
{
    bilan_pending_t *p = bilan_queue_find(self->bilans, body->sender, body->message_id.data);
    if (!p)
        return FB_ERR_NOT_FOUND;
    if (memcmp(p->sha256, sha, 32) != 0)
        return s_nack(self, in, body->message_id.data, FB_ERR_CONFLICT,
                      "message_id already used with different bytes (a BilanRequest waiting for "
                      "its answer)");
    char hex[2 * FB_MESSAGE_ID_BYTES + 1];
    s_id_hex(body->message_id.data, hex);
    s_log(self, FB_LOG_INFO,
          "broker bilan-waiting msg_id=%s peer=%s detail=\"sent again while "
          "its answer is computed: one answer, a receipt to each connection\"",
          hex, in->actor);
    /* A ROUTER's routing id is at most 255 bytes: only too many copies fail. */
    if (bilan_queue_wait_too(p, zmq_msg_data((zmq_msg_t *)&in->part[0]),
                             zmq_msg_size((zmq_msg_t *)&in->part[0])) != FB_OK) {
        char detail[160];
        snprintf(detail, sizeof detail,
                 "%d copies of this BilanRequest wait for its answer already: send it again "
                 "later",
                 BILAN_QUEUE_WAITERS);
        return s_nack(self, in, body->message_id.data, FB_ERR_RATE_LIMITED, detail);
    }
    return s_queue_pending(self, in, body->message_id.data);
}

/* Why bilan_queue_add refused a request of `requester` as RATE_LIMITED:
 * its own share of the queue is taken, or the whole queue. */
static void s_bilan_limited(broker_t *self, const char *requester, char *detail, size_t dlen)
{
    size_t held = bilan_queue_held(self->bilans, requester);
    if (held >= BILAN_QUEUE_PER_REQUESTER)
        snprintf(detail, dlen,
                 "%.100s has %zu BilanRequests waiting for their answer, the most one actor "
                 "may (%d): send it again once one is answered",
                 requester, held, BILAN_QUEUE_PER_REQUESTER);
    else
        snprintf(detail, dlen,
                 "%zu BilanRequests wait for their answer already: send it again later",
                 bilan_queue_size(self->bilans));
}

/* A BilanRequest that passed every check of the SEND pipeline: what
 * bilan_reply_scope refuses is refused now (a Nack, as before any
 * computation); otherwise it waits, unacknowledged, for its answer to be
 * computed off the loop, and s_bilan_turn stores both. Takes *body and
 * *payload once queued. A full queue, or the requester's share of it
 * taken (BILAN_QUEUE_PER_REQUESTER), is a RATE_LIMITED Nack. */
static fb_err_t s_defer_bilan(broker_t *self, const s_input_t *in, const store_actor_t *sender,
                              Fluxbus__V1__SignedBody **body, ProtobufCMessage **payload,
                              const uint8_t *data, size_t len, const uint8_t sha[32])
{
    uint8_t id[FB_MESSAGE_ID_BYTES];
    memcpy(id, (*body)->message_id.data, sizeof id);
    char detail[256] = "";
    bilan_reply_scope_t scope;
    fb_err_t rc = bilan_reply_scope(sender, (const Fluxbus__V1__BilanRequest *)*payload, &scope,
                                    detail, sizeof detail);
    if (rc == FB_OK)
        rc = bilan_queue_add(self->bilans, sender, body, payload, data, len, sha,
                             zmq_msg_data((zmq_msg_t *)&in->part[0]),
                             zmq_msg_size((zmq_msg_t *)&in->part[0]), fb_now_ms());
    if (rc == FB_ERR_RATE_LIMITED)
        s_bilan_limited(self, sender->id, detail, sizeof detail);
    else if (rc == FB_ERR_NOMEM)
        snprintf(detail, sizeof detail, "out of memory: send it again later");
    if (rc != FB_OK)
        return s_nack(self, in, id, rc, detail);
    char hex[2 * FB_MESSAGE_ID_BYTES + 1];
    s_id_hex(id, hex);
    s_log(self, FB_LOG_INFO, "broker bilan-queued msg_id=%s peer=%s waiting=%zu", hex, in->actor,
          bilan_queue_size(self->bilans));
    return s_queue_pending(self, in, id);
}

/* Stores the answer after its request, in the same transaction. Only a
 * store failure is returned (fatal); a refusal is logged by s_accept_own. */
static fb_err_t s_accept_answer(broker_t *self, const char *peer, bilan_reply_t *answer)
{
    fb_err_t rc = s_accept_own(self, answer->envelope, answer->len, bilan_reply_payload(answer));
    if (rc == FB_OK)
        s_log(self, FB_LOG_INFO, "broker bilan-answer peer=%s attributions=%u leases=%u", peer,
              answer->bilan->total.attributions, answer->bilan->total.leases);
    return rc == FB_ERR_STORE || rc == FB_ERR_NOMEM ? rc : FB_OK;
}

/* rate -> size cap -> decode -> key + verify (done in bulk by precheck.c)
 * -> parse -> sender/type/payload -> dedup -> route -> store + receipt (a
 * BilanRequest: -> wait for its answer, s_defer_bilan, then s_bilan_turn).
 * Refusals become signed Nacks; only a store failure is returned as an
 * error (it is fatal). */
static fb_err_t s_handle_send(broker_t *self, const s_input_t *in, const precheck_t *pre)
{
    if (in->n < 3)
        return s_nack(self, in, NULL, FB_ERR_MALFORMED, "SEND without an envelope frame");
    if (!pre->wanted) { /* the rate limiter said no before any work */
        char why[96];
        snprintf(why, sizeof why, "over %u messages/s (burst %u)", self->cfg.rate,
                 self->cfg.rate_burst);
        return s_nack(self, in, NULL, FB_ERR_RATE_LIMITED, why);
    }
    const uint8_t *data = pre->data;
    size_t len = pre->len;
    char detail[256] = "";
    Fluxbus__V1__SignedBody *body = NULL;
    fb_err_t rc = pre->decode_rc;
    if (rc != FB_OK) {
        snprintf(detail, sizeof detail,
                 rc == FB_ERR_TOO_LARGE ? "envelope of %zu bytes is over the cap"
                                        : "envelope of %zu bytes does not decode",
                 len);
        return s_nack(self, in, NULL, rc, detail);
    }
    rc = s_check_key(in, pre, detail, sizeof detail);
    if (rc == FB_OK) {
        rc = fb_envelope_parse_body(pre->env, &body);
        if (rc != FB_OK)
            snprintf(detail, sizeof detail, "signed body is not acceptable");
    }
    if (rc != FB_OK)
        return rc == FB_ERR_STORE ? rc : s_nack(self, in, NULL, rc, detail);

    const uint8_t *id = body->message_id.data;
    store_actor_t sender;
    router_targets_t targets = {0};
    ProtobufCMessage *payload = NULL;
    const uint8_t *sha = pre->sha256;
    rc = s_check_body(self, in, body, &sender, &payload, detail, sizeof detail);
    if (rc == FB_OK) {
        rc = s_dedup(self, in, body, sha);
        if (rc == FB_ERR_NOT_FOUND)
            rc = s_join_pending(self, in, body, sha);
        if (rc == FB_ERR_NOT_FOUND) {
            rc = s_check_new(self, body, detail, sizeof detail);
            if (rc == FB_OK)
                rc =
                    router_for_broker(body, self->keys.actor)
                        ? router_route_to_broker(&sender, body, self->keys.actor, detail,
                                                 sizeof detail)
                        : router_route(self->store, &sender, body, &targets, detail, sizeof detail);
            if (rc == FB_OK)
                rc = sealcheck_designation(self->store, body, fb_now_ms(), detail, sizeof detail);
            if (rc == FB_OK) {
                ledger_msg_t lm = ledger_msg_of(body, payload, 0, fb_now_ms());
                rc = ledger_check(self->ledger, &lm, detail, sizeof detail);
            }
            if (rc == FB_OK && body->type == FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_BILAN_REQUEST)
                rc = s_defer_bilan(self, in, &sender, &body, &payload, data, len, sha);
            else if (rc == FB_OK)
                rc = s_accept_to(self, zmq_msg_data((zmq_msg_t *)&in->part[0]),
                                 zmq_msg_size((zmq_msg_t *)&in->part[0]), body, payload, data, len,
                                 sha, &targets);
            else if (rc != FB_ERR_STORE) {
                rc = s_nack(self, in, id, rc, detail);
            }
        }
    } else if (rc != FB_ERR_STORE) {
        rc = s_nack(self, in, id, rc, detail);
    }
    router_targets_free(&targets);
    fb_codec_free(payload);
    fb_body_free(body);
    return rc;
}

/* ---- the other commands ------------------------------------------------------------ */

static fb_err_t s_handle_ping(broker_t *self, const s_input_t *in)
{
    Fluxbus__V1__Welcome w = FLUXBUS__V1__WELCOME__INIT;
    w.version = FB_PROTOCOL_VERSION;
    w.actor_id = (char *)in->actor;
    w.broker_time_ms = fb_now_ms();
    return s_queue_packed(self, in, "WELCOME", &w.base);
}

static fb_err_t s_handle_hello(broker_t *self, const s_input_t *in)
{
    ProtobufCMessage *msg = NULL;
    unsigned window = 0;
    if (in->n >= 3 &&
        fb_codec_unpack(&fluxbus__v1__hello__descriptor, zmq_msg_data((zmq_msg_t *)&in->part[2]),
                        zmq_msg_size((zmq_msg_t *)&in->part[2]), 4096, &msg) == FB_OK)
        window = ((Fluxbus__V1__Hello *)msg)->window;
    fb_codec_free(msg);
    s_log(self, FB_LOG_INFO, "broker receiver peer=%s window=%u", in->actor,
          window ? window : self->cfg.window);
    return s_session_start(self, in, window);
}

/* acks_write_fn: one ack into the store, in the current transaction. */
static fb_err_t s_write_ack(void *ctx, const char *recipient, uint64_t seq, int64_t at_ms)
{
    broker_t *self = ctx;
    fb_err_t rc = store_mark_acked(self->store, recipient, seq, at_ms);
    if (rc != FB_ERR_NOT_FOUND)
        return rc;
    s_log(self, FB_LOG_DEBUG, "broker ack-ignored peer=%s seq=%llu", recipient,
          (unsigned long long)seq);
    return FB_OK;
}

/* Writes the acks kept (acks.c) into the current transaction when its
 * COMMIT reaches the disk anyway (the turn wrote something); when the turn
 * answers anything, since PROTOCOL.md 3.2 lets a client take any answer
 * that follows its ACKs on a connection as proof they are on disk; when
 * they are due (ack_delay_ms, or S_ACKS_MAX of them); or always, when
 * `forced` names a reason (NULL: decide). */
static fb_err_t s_write_acks(broker_t *self, const char *forced)
{
    if (acks_count(self->acks) == 0)
        return FB_OK;
    const char *why = forced                              ? forced
                      : store_has_writes(self->store)     ? "commit"
                      : self->n_replies > 0               ? "answer"
                      : acks_due(self->acks, fb_now_ms()) ? "due"
                                                          : NULL;
    if (!why)
        return FB_OK;
    size_t n = 0;
    fb_err_t rc = acks_flush(self->acks, s_write_ack, self, &n);
    s_log(self, FB_LOG_DEBUG, "broker acks-written n=%zu reason=%s", n, why);
    return rc;
}

static fb_err_t s_handle_ack(broker_t *self, const s_input_t *in)
{
    ProtobufCMessage *msg = NULL;
    if (in->n < 3 ||
        fb_codec_unpack(&fluxbus__v1__delivery_ack__descriptor,
                        zmq_msg_data((zmq_msg_t *)&in->part[2]),
                        zmq_msg_size((zmq_msg_t *)&in->part[2]), 4096, &msg) != FB_OK) {
        s_log(self, FB_LOG_WARN, "broker bad-ack peer=%s", in->actor);
        return FB_OK;
    }
    uint64_t seq = ((Fluxbus__V1__DeliveryAck *)msg)->store_seq;
    fb_codec_free(msg);
    /* Only the recipient's own queue is touched: the actor comes from ZAP.
     * Kept, not written: an ack alone is not worth an fdatasync of its own
     * (s_write_acks says when it reaches the store). */
    fb_err_t rc = acks_add(self->acks, in->actor, seq, fb_now_ms());
    if (rc == FB_OK)
        s_log(self, FB_LOG_DEBUG, "broker ack-kept peer=%s seq=%llu kept=%zu", in->actor,
              (unsigned long long)seq, acks_count(self->acks));
    else /* out of memory: write it now */
        rc = s_write_ack(self, in->actor, seq, fb_now_ms());
    if (rc != FB_OK)
        return rc;
    s_session_acked(self, in->actor, seq);
    return FB_OK;
}

static fb_err_t s_handle_subscribe(broker_t *self, const s_input_t *in)
{
    ProtobufCMessage *msg = NULL;
    Fluxbus__V1__SubAck ack = FLUXBUS__V1__SUB_ACK__INIT;
    char detail[256] = "";
    fb_err_t rc = FB_ERR_MALFORMED;
    if (in->n >= 3)
        rc = fb_codec_unpack(&fluxbus__v1__subscribe__descriptor,
                             zmq_msg_data((zmq_msg_t *)&in->part[2]),
                             zmq_msg_size((zmq_msg_t *)&in->part[2]), 4096, &msg);
    const char *topic = rc == FB_OK ? ((Fluxbus__V1__Subscribe *)msg)->topic : "";
    store_actor_t actor;
    if (rc == FB_OK)
        rc = store_actor_get(self->store, in->actor, &actor);
    if (rc == FB_OK)
        rc = router_may_subscribe(&actor, topic, detail, sizeof detail);
    if (rc == FB_OK)
        rc = store_subscribe(self->store, in->actor, topic);
    if (rc == FB_ERR_STORE) {
        fb_codec_free(msg);
        return rc;
    }
    s_log(self, rc == FB_OK ? FB_LOG_INFO : FB_LOG_WARN,
          "broker subscribe peer=%s topic=%s reason=%s detail=\"%s\"", in->actor, topic,
          fb_err_name(rc), detail);
    ack.topic = (char *)topic;
    ack.reason = (Fluxbus__V1__ReasonCode)fb_err_to_reason(rc);
    ack.detail = detail;
    rc = s_queue_packed(self, in, "SUBACK", &ack.base);
    fb_codec_free(msg);
    return rc;
}

static int s_is(const s_input_t *in, const char *cmd)
{
    size_t n = strlen(cmd);
    return zmq_msg_size((zmq_msg_t *)&in->part[1]) == n &&
           memcmp(zmq_msg_data((zmq_msg_t *)&in->part[1]), cmd, n) == 0;
}

/* KEYQUERY: the current encryption key of an actor (keyquery.c). Public
 * keys, for any connected actor; a revoked one gets no answer, as for HELLO. */
static fb_err_t s_handle_keyquery(broker_t *self, const s_input_t *in)
{
    if (!s_actor_active(self, in->actor)) {
        s_log(self, FB_LOG_WARN,
              "broker refused peer=%s reason=NOT_AUTHORIZED detail=\"actor revoked\"", in->actor);
        return FB_OK;
    }
    const uint8_t *query = in->n >= 3 ? zmq_msg_data((zmq_msg_t *)&in->part[2]) : NULL;
    size_t len = in->n >= 3 ? zmq_msg_size((zmq_msg_t *)&in->part[2]) : 0;
    keyquery_result_t res;
    uint8_t *answer = NULL;
    size_t answer_len = 0;
    fb_err_t rc = keyquery_answer(self->store, &self->notary, query, len, fb_now_ms(), &res,
                                  &answer, &answer_len);
    if (rc != FB_OK)
        return rc;
    s_log(self, res.reason == FB_OK ? FB_LOG_INFO : FB_LOG_WARN,
          "broker keyquery peer=%s actor=%s reason=%s key_id=%s detail=\"%s\"", in->actor,
          res.actor, fb_err_name(res.reason), res.key_id[0] ? res.key_id : "-", res.detail);
    return s_queue_reply(self, in, "KEYANSWER", answer, answer_len);
}

static fb_err_t s_dispatch(broker_t *self, const s_input_t *in, const precheck_t *pre)
{
    if (in->n < 2)
        return FB_OK;
    if ((s_is(in, "HELLO") || s_is(in, "SUBSCRIBE")) && !s_actor_active(self, in->actor)) {
        s_log(self, FB_LOG_WARN,
              "broker refused peer=%s reason=NOT_AUTHORIZED detail=\"actor revoked\"", in->actor);
        return FB_OK;
    }
    if (s_is(in, "SEND"))
        return s_handle_send(self, in, pre);
    if (s_is(in, "ACK"))
        return s_handle_ack(self, in);
    if (s_is(in, "HELLO"))
        return s_handle_hello(self, in);
    if (s_is(in, "PING"))
        return s_handle_ping(self, in);
    if (s_is(in, "SUBSCRIBE"))
        return s_handle_subscribe(self, in);
    if (s_is(in, "KEYQUERY"))
        return s_handle_keyquery(self, in);
    s_log(self, FB_LOG_WARN, "broker unknown-command peer=%s", in->actor);
    return FB_OK;
}

/* ---- the loop ------------------------------------------------------------------- */

/* Reads one frame set without waiting; returns 0 when none is there. */
static int s_read_input(broker_t *self, s_input_t *in)
{
    in->n = 0;
    int more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, self->router, in->n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&m);
            return in->n > 0;
        }
        more = zmq_msg_more(&m);
        if (in->n < 4)
            in->part[in->n++] = m;
        else
            zmq_msg_close(&m);
    }
    /* The routing-id frame is made by the ROUTER and carries no metadata: the
     * ZAP User-Id is read from the first frame the peer sent. */
    const char *user = in->n > 1 ? zmq_msg_gets(&in->part[1], "User-Id") : NULL;
    snprintf(in->actor, sizeof in->actor, "%s", user ? user : "");
    return 1;
}

static void s_input_close(s_input_t *in)
{
    for (size_t i = 0; i < in->n; i++)
        zmq_msg_close(&in->part[i]);
    in->n = 0;
}

/* Ends a turn's transaction: the receipts sealed and chained, then COMMIT;
 * on any failure (rc already set, or here) everything of the turn is rolled
 * back and no reply of it leaves. FB_ERR_STORE is fatal for the broker. */
static fb_err_t s_end_turn(broker_t *self, fb_err_t rc)
{
    if (rc == FB_OK)
        rc = s_write_acks(self, NULL);
    if (rc == FB_OK)
        rc = s_seal_receipts(self);
    if (rc == FB_OK)
        rc = store_commit(self->store);
    if (rc == FB_OK)
        return FB_OK;
    s_log(self, FB_LOG_ERROR, "broker store-failed reason=%s sqlite=\"%s\"", fb_err_name(rc),
          store_errmsg(self->store));
    store_rollback(self->store);
    s_drop_receipt_jobs(self);
    s_drop_replies(self);
    return FB_ERR_STORE;
}

/* Reads every frame set available now (up to batch_max) into self->batch,
 * and marks the SENDs the rate limiter lets through for precheck.c. */
static size_t s_read_batch(broker_t *self)
{
    size_t n = 0;
    while (n < self->cfg.batch_max && s_read_input(self, &self->batch[n])) {
        s_input_t *in = &self->batch[n];
        precheck_t *pre = &self->pre[n++];
        if (!in->actor[0] || !s_is(in, "SEND") || in->n < 3)
            continue;
        /* Before any work: a flooding sender costs a table lookup per frame. */
        if (admission_take(self->admission, in->actor, fb_now_ms()) == FB_ERR_RATE_LIMITED)
            continue;
        pre->wanted = true;
        pre->data = zmq_msg_data(&in->part[2]);
        pre->len = zmq_msg_size(&in->part[2]);
    }
    return n;
}

/* After a turn's commit, once it is durable: its log lines and replies
 * leave, a registry change by the CLI is taken in, the queues are pumped. */
static fb_err_t s_settle(broker_t *self)
{
    self->unsettled = false;
    if (s_durable(self) != FB_OK) {
        s_drop_replies(self);
        return FB_ERR_STORE;
    }
    s_flush_log();
    if (s_flush_replies(self) != FB_OK)
        return FB_ERR_STORE;
    int64_t dv = store_data_version(self->store);
    if (dv != self->data_version) { /* the CLI changed the registry */
        self->data_version = dv;
        s_certs_clear(self);
        s_sessions_recheck(self);
    }
    return s_pump(self);
}

/* One group commit: the frame sets read (up to batch_max), their
 * signatures checked in bulk, then handled one by one in arrival order.
 * With `prefetch`, the next batch is read right after COMMIT: when there
 * is one, the WAL's fdatasync runs on walsync's thread while the next
 * turn checks that batch's signatures, and this turn's replies leave
 * there (s_settle); otherwise they leave now. */
static fb_err_t s_turn(broker_t *self, bool prefetch)
{
    fb_err_t rc = store_begin(self->store);
    size_t n = self->n_next ? self->n_next : rc == FB_OK ? s_read_batch(self) : 0;
    self->n_next = 0;
    if (rc == FB_OK)
        rc = precheck_batch(self->store, self->pool, self->cfg.max_envelope, self->pre, n);
    if (rc == FB_OK && self->unsettled)
        rc = s_settle(self); /* the previous turn's, once durable */
    for (size_t i = 0; rc == FB_OK && i < n; i++) {
        if (self->batch[i].actor[0])
            rc = s_dispatch(self, &self->batch[i], &self->pre[i]);
        else
            s_log(self, FB_LOG_WARN, "broker unauthenticated-frame action=drop");
    }
    rc = s_end_turn(self, rc);
    for (size_t i = 0; i < n; i++) {
        s_input_close(&self->batch[i]);
        precheck_clear(&self->pre[i]);
    }
    if (rc != FB_OK)
        return rc;
    if (prefetch && self->walsync && (self->n_next = s_read_batch(self)) > 0) {
        walsync_start(self->walsync, store_commits(self->store));
        self->unsettled = true;
        s_log(self, FB_LOG_DEBUG, "broker commit-overlap next=%zu", self->n_next);
        return FB_OK;
    }
    return s_settle(self);
}

/* The deadlines that passed (expiry.c), in a transaction of their own when
 * one is due; the first call after the start catches those that passed
 * while the broker was down. A failed COMMIT is fatal, as in s_turn. */
static fb_err_t s_expiry_turn(broker_t *self)
{
    int64_t now = fb_now_ms();
    if (now < self->next_expiry_ms)
        return FB_OK;
    self->next_expiry_ms = now + S_EXPIRY_PERIOD_MS;
    if (!expiry_due(self->expiry, now))
        return FB_OK;
    size_t emitted = 0;
    fb_err_t rc = store_begin(self->store);
    if (rc == FB_OK)
        rc = expiry_scan(self->expiry, now, S_EXPIRY_BATCH, s_accept_own, self, &emitted);
    if (s_end_turn(self, rc) != FB_OK)
        return FB_ERR_STORE;
    if (emitted == S_EXPIRY_BATCH)
        self->next_expiry_ms = now; /* more are due: go on at the next turn */
    if (emitted)
        decompte_emit_touch(self->decompte, now); /* an expiry may count */
    return emitted ? s_pump(self) : FB_OK;
}

/* The décompte, when a change or the clock calls for it (decompte_emit.c),
 * in a transaction of its own. A failed COMMIT is fatal, as in s_turn. */
static fb_err_t s_decompte_turn(broker_t *self)
{
    int64_t now = fb_now_ms();
    if (now < decompte_emit_next_ms(self->decompte))
        return FB_OK;
    size_t emitted = 0;
    fb_err_t rc = store_begin(self->store);
    if (rc == FB_OK)
        rc = decompte_emit_scan(self->decompte, now, s_accept_own, self, &emitted);
    if (s_end_turn(self, rc) != FB_OK)
        return FB_ERR_STORE;
    return emitted ? s_pump(self) : FB_OK;
}

/* The acks kept (acks.c) that no other turn carried, in a transaction of
 * their own once they are due, or all of them when `all` (a clean exit).
 * A failed COMMIT is fatal, as in s_turn. */
static fb_err_t s_acks_turn(broker_t *self, bool all)
{
    if (acks_count(self->acks) == 0 || (!all && !acks_due(self->acks, fb_now_ms())))
        return FB_OK;
    size_t n = acks_count(self->acks);
    fb_err_t rc = store_begin(self->store);
    if (rc == FB_OK)
        rc = s_write_acks(self, all ? "exit" : "due");
    if (s_end_turn(self, rc) != FB_OK)
        return FB_ERR_STORE;
    if (all)
        s_log(self, FB_LOG_INFO, "broker acks-committed n=%zu reason=exit", n);
    return FB_OK;
}

/* Every connection waiting for p gets its Nack. */
static fb_err_t s_bilan_refuse(broker_t *self, const bilan_pending_t *p, fb_err_t reason,
                               const char *detail)
{
    fb_err_t rc = FB_OK;
    for (size_t i = 0; rc == FB_OK && i < p->n_waiters; i++)
        rc = s_nack_to(self, p->waiters[i].id, p->waiters[i].len, p->body->sender,
                       p->body->message_id.data, reason, detail);
    return rc;
}

/* p was stored (cannot happen while copies wait in the queue, checked all
 * the same): each connection gets the receipt again, or a CONFLICT. */
static fb_err_t s_bilan_stored(broker_t *self, const bilan_pending_t *p, const store_seen_t *seen)
{
    fb_err_t rc = FB_OK;
    for (size_t i = 0; rc == FB_OK && i < p->n_waiters; i++)
        rc =
            s_receipt_again_to(self, p->waiters[i].id, p->waiters[i].len, p->body, p->sha256, seen);
    return rc;
}

/* Stores p and its sealed answer in the turn's transaction: the first
 * connection waiting gets the receipt, the others the same receipt marked
 * duplicate (6.2). */
static fb_err_t s_bilan_store(broker_t *self, bilan_pending_t *p)
{
    const Fluxbus__V1__SignedBody *body = p->body;
    char detail[256] = "";
    fb_err_t rc = bilan_reply_seal(&self->notary, body->sender, body->message_id.data,
                                   self->cfg.max_envelope, &p->reply, detail, sizeof detail);
    if (rc != FB_OK)
        return s_bilan_refuse(self, p, rc, rc == FB_ERR_NOMEM ? "out of memory" : detail);
    router_targets_t none = {0}; /* addressed to the broker: queued for nobody */
    rc = s_accept_to(self, p->waiters[0].id, p->waiters[0].len, body, p->payload, p->envelope,
                     p->len, p->sha256, &none);
    if (rc == FB_OK)
        rc = s_accept_answer(self, body->sender, &p->reply);
    store_seen_t seen;
    if (rc == FB_OK && p->n_waiters > 1)
        rc = store_find(self->store, body->sender, body->message_id.data, &seen);
    for (size_t i = 1; rc == FB_OK && i < p->n_waiters; i++)
        rc = s_receipt_again_to(self, p->waiters[i].id, p->waiters[i].len, body, p->sha256, &seen);
    return rc;
}

/* A computed request, on the loop: the checks that may have changed since
 * it came are made again (stored meanwhile; the requester revoked; its
 * roles or territory changed, and then *again is set with the new record
 * in *now: it is computed again), then its refusal is told or it is
 * stored with its answer. Only a store failure is returned. */
static fb_err_t s_bilan_settle(broker_t *self, bilan_pending_t *p, bool *again, store_actor_t *now)
{
    const Fluxbus__V1__SignedBody *body = p->body;
    store_seen_t seen;
    fb_err_t rc = store_find(self->store, body->sender, body->message_id.data, &seen);
    if (rc != FB_ERR_NOT_FOUND)
        return rc == FB_OK ? s_bilan_stored(self, p, &seen) : rc;
    rc = store_actor_get(self->store, body->sender, now);
    if (rc == FB_ERR_NOT_FOUND || (rc == FB_OK && now->revoked_at_ms)) {
        char detail[256];
        snprintf(detail, sizeof detail, "actor %.120s was revoked while its bilan was computed",
                 body->sender);
        return s_bilan_refuse(self, p, FB_ERR_NOT_AUTHORIZED, detail);
    }
    if (rc != FB_OK)
        return rc;
    store_key_t key;
    rc = store_key_get(self->store, body->key_id, &key);
    if (rc == FB_ERR_NOT_FOUND || (rc == FB_OK && !store_key_valid_at(&key, fb_now_ms()))) {
        char detail[256];
        snprintf(detail, sizeof detail,
                 "signing key %.80s was revoked or expired while its bilan was computed",
                 body->key_id);
        return s_bilan_refuse(self, p, FB_ERR_KEY_REVOKED, detail);
    }
    if (rc != FB_OK)
        return rc;
    if (strcmp(now->roles, p->requester.roles) != 0 ||
        strcmp(now->territories, p->requester.territories) != 0) {
        *again = true;
        return FB_OK;
    }
    if (p->rc == FB_ERR_STORE || p->rc == FB_ERR_NOMEM) {
        /* The computation's own connection failed: the request was not
         * stored, its sender may send it again. */
        s_log(self, FB_LOG_ERROR, "broker bilan-failed peer=%s detail=\"%s\"", body->sender,
              p->detail);
        char detail[300];
        snprintf(detail, sizeof detail, "the bilan could not be computed (%.200s): send it again",
                 p->detail);
        return s_bilan_refuse(self, p, p->rc, detail);
    }
    return p->rc != FB_OK ? s_bilan_refuse(self, p, p->rc, p->detail) : s_bilan_store(self, p);
}

/* The BilanRequests waiting for their answer (bilan_queue.c): starts
 * computing the oldest, and once it is computed settles it in a
 * transaction of its own. A failed COMMIT is fatal, as in s_turn. */
static fb_err_t s_bilan_turn(broker_t *self)
{
    char hex[2 * FB_MESSAGE_ID_BYTES + 1];
    const bilan_pending_t *started = bilan_queue_start(self->bilans, fb_now_ms());
    if (started) {
        s_id_hex(started->body->message_id.data, hex);
        s_log(self, FB_LOG_INFO, "broker bilan-computing msg_id=%s peer=%s waiting=%zu", hex,
              started->body->sender, bilan_queue_size(self->bilans));
    }
    bilan_pending_t *p = bilan_queue_ready(self->bilans);
    if (!p)
        return FB_OK;
    s_id_hex(p->body->message_id.data, hex);
    s_log(self, FB_LOG_INFO, "broker bilan-computed msg_id=%s peer=%s reason=%s seconds=%.3f", hex,
          p->body->sender, fb_err_name(p->rc), p->seconds);
    bool again = false;
    store_actor_t now;
    fb_err_t rc = store_begin(self->store);
    if (rc == FB_OK)
        rc = s_bilan_settle(self, p, &again, &now);
    if (s_end_turn(self, rc) != FB_OK)
        return FB_ERR_STORE;
    if (again) {
        s_log(self, FB_LOG_INFO,
              "broker bilan-again msg_id=%s peer=%s detail=\"roles or territory changed while it "
              "was computed\"",
              hex, p->body->sender);
        bilan_queue_retry(self->bilans, &now);
    } else {
        bilan_queue_pop(self->bilans);
    }
    return s_settle(self); /* its replies (and any before them) once durable */
}

/* How long the loop may wait for input: until the next look at the
 * deadlines or the décompte, or the kept acks' deadline, or a bilan's
 * next step, at most a second. */
static long s_poll_ms(const broker_t *self)
{
    int64_t next = decompte_emit_next_ms(self->decompte);
    if (self->next_expiry_ms < next)
        next = self->next_expiry_ms;
    if (acks_due_ms(self->acks) < next)
        next = acks_due_ms(self->acks);
    int64_t now = fb_now_ms();
    int64_t bilan = bilan_queue_next_ms(self->bilans, now, S_BILAN_POLL_MS);
    if (bilan < next)
        next = bilan;
    int64_t left = next - now;
    return left < 0 ? 0 : left > 1000 ? 1000 : (long)left;
}

fb_err_t broker_run(broker_t *self, volatile sig_atomic_t *stop)
{
    printf("ready endpoint=%s\n", self->endpoint);
    fflush(stdout);
    s_log(self, FB_LOG_INFO, "broker ready endpoint=%s store=%s", self->endpoint, self->cfg.store);
    while (!*stop) {
        if (s_expiry_turn(self) != FB_OK) {
            s_log(self, FB_LOG_ERROR,
                  "broker exiting code=3 detail=\"store failure while emitting the deadlines' "
                  "DeadlineExpired: nothing of it was kept\"");
            return FB_ERR_STORE;
        }
        if (s_decompte_turn(self) != FB_OK) {
            s_log(self, FB_LOG_ERROR,
                  "broker exiting code=3 detail=\"store failure while emitting the "
                  "DecompteDroits: nothing of it was kept\"");
            return FB_ERR_STORE;
        }
        if (s_acks_turn(self, false) != FB_OK) {
            s_log(self, FB_LOG_ERROR,
                  "broker exiting code=3 detail=\"store failure while committing acks: the "
                  "messages they acknowledged will be delivered again\"");
            return FB_ERR_STORE;
        }
        if (s_bilan_turn(self) != FB_OK) {
            s_log(self, FB_LOG_ERROR,
                  "broker exiting code=3 detail=\"store failure while storing a BilanRequest with "
                  "its answer: neither was acknowledged\"");
            return FB_ERR_STORE;
        }
        if (!self->unsettled) /* the last turn's accepts once it is on the disk */
            s_flush_log();    /* what the turns above and the deliveries logged */
        zmq_pollitem_t item = {self->router, 0, ZMQ_POLLIN, 0};
        int n = self->n_next ? 1 : zmq_poll(&item, 1, s_poll_ms(self));
        if (n < 0 && errno != EINTR) {
            s_log(self, FB_LOG_ERROR, "broker poll-failed reason=\"%s\"", zmq_strerror(errno));
            return FB_ERR_TRANSPORT;
        }
        if (n <= 0)
            continue;
        if (s_turn(self, true) != FB_OK) {
            s_log(self, FB_LOG_ERROR,
                  "broker exiting code=3 detail=\"store failure: nothing of "
                  "the last batch was acknowledged\"");
            return FB_ERR_STORE;
        }
    }
    /* A batch read already is handled; a clean stop loses no ack: what was
     * acked is not delivered again. */
    if ((self->n_next && s_turn(self, false) != FB_OK) ||
        (self->unsettled && s_settle(self) != FB_OK) || s_acks_turn(self, true) != FB_OK ||
        s_durable(self) != FB_OK) {
        s_log(self, FB_LOG_ERROR,
              "broker exiting code=3 detail=\"store failure while committing the last acks: "
              "the messages they acknowledged will be delivered again\"");
        return FB_ERR_STORE;
    }
    s_log(self, FB_LOG_INFO, "broker stopping reason=signal");
    return FB_OK;
}

/* ---- lifecycle --------------------------------------------------------------------- */

/* At exit: the bilan under way is interrupted, and the requests waiting
 * are dropped, unacknowledged (their senders send them again). */
static void s_bilans_drop(broker_t *self)
{
    size_t waiting = bilan_queue_size(self->bilans);
    bool computing = bilan_queue_busy(self->bilans), abandoned = false;
    const bilan_pending_t *p = bilan_queue_stop(self->bilans, BILAN_QUEUE_GRACE_MS, &abandoned);
    if (p) {
        char hex[2 * FB_MESSAGE_ID_BYTES + 1];
        s_id_hex(p->body->message_id.data, hex);
        s_log(self, FB_LOG_INFO, "broker bilan-stopped msg_id=%s peer=%s how=%s", hex,
              p->body->sender,
              abandoned        ? "abandoned (inside a long step: it ends with the process)"
              : p->rc == FB_OK ? "computed"
                               : "interrupted");
    }
    if (waiting)
        s_log(self, FB_LOG_INFO,
              "broker bilan-dropped waiting=%zu computing=%d detail=\"not acknowledged: their "
              "senders send them again\"",
              waiting, computing);
    s_flush_log();
}

static fb_err_t s_bind(broker_t *self)
{
    int one = 1, linger = 2000, server = 1;
    self->router = zmq_socket(self->ctx, ZMQ_ROUTER);
    if (!self->router)
        return FB_ERR_TRANSPORT;
    zmq_setsockopt(self->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt(self->router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(self->router, ZMQ_CURVE_SERVER, &server, sizeof server);
    zmq_setsockopt(self->router, ZMQ_CURVE_SECRETKEY, self->keys.curve_sk, 32);
    zmq_setsockopt(self->router, ZMQ_ZAP_DOMAIN, "fluxbus", 7);
    /* Hard transport cap: frames far over the envelope cap are not even
     * received (libzmq drops the connection); those between get TOO_LARGE. */
    int64_t maxmsg = (int64_t)self->cfg.max_envelope * 4 + 65536;
    zmq_setsockopt(self->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (zmq_bind(self->router, self->cfg.endpoint) != 0) {
        s_log(self, FB_LOG_ERROR, "broker bind-failed endpoint=%s reason=\"%s\"",
              self->cfg.endpoint, zmq_strerror(errno));
        return FB_ERR_TRANSPORT;
    }
    size_t len = sizeof self->endpoint;
    zmq_getsockopt(self->router, ZMQ_LAST_ENDPOINT, self->endpoint, &len);
    return FB_OK;
}

/* A store holding messages but no ledger tables (made before the ledger
 * existed) would get an empty ledger: it is rebuilt first. */
static bool s_ledger_missing(broker_t *self, char *why, size_t len)
{
    int version = 0;
    uint64_t messages = 0;
    if (ledger_schema_version(store_db(self->store), &version) != FB_OK ||
        version != LEDGER_SCHEMA_NONE || store_count(self->store, &messages) != FB_OK ||
        messages == 0)
        return false;
    snprintf(why, len,
             "%.200s holds %llu messages and no flux ledger: run `fluxbus ledger rebuild --store "
             "%.200s`",
             self->cfg.store, (unsigned long long)messages, self->cfg.store);
    return true;
}

/* The WAL's checkpoints move to a thread of their own; if it cannot start,
 * the loop keeps checkpointing after its commits, as SQLite does by
 * default. */
static void s_start_checkpointer(broker_t *self)
{
    char why[256];
    self->checkpointer =
        checkpointer_start(self->cfg.store, S_CHECKPOINT_MS, s_zap_log, self, why, sizeof why);
    if (self->checkpointer)
        store_checkpoint_on_commit(self->store, false);
    else
        s_log(self, FB_LOG_WARN,
              "broker checkpointer-failed detail=\"%s\" (checkpoints after"
              " commits instead)",
              why);
}

/* Commits stop waiting for the disk on the loop thread (walsync.h); if
 * the sync thread cannot start, every COMMIT syncs, as before. */
static void s_start_walsync(broker_t *self)
{
    char why[256];
    self->walsync = walsync_new(self->cfg.store, why, sizeof why);
    if (self->walsync && store_defer_sync(self->store) != FB_OK) {
        snprintf(why, sizeof why, "PRAGMA synchronous=NORMAL: %s", store_errmsg(self->store));
        walsync_destroy(&self->walsync);
    }
    if (!self->walsync)
        s_log(self, FB_LOG_WARN,
              "broker walsync-failed detail=\"%s\" (each COMMIT waits for the disk instead)", why);
}

broker_t *broker_new(const broker_config_t *cfg, fb_err_t *err)
{
    broker_t *self = calloc(1, sizeof *self);
    char why[512];
    *err = FB_ERR_NOMEM;
    if (!self)
        return NULL;
    self->cfg = *cfg;
    *err = fb_keys_load(&self->keys, cfg->key);
    if (*err != FB_OK || !self->keys.has_secret) {
        if (*err == FB_OK)
            *err = FB_ERR_INVALID;
        s_log(self, FB_LOG_ERROR, "broker key-load-failed path=%s reason=%s (%s)", cfg->key,
              fb_err_name(*err),
              *err == FB_ERR_INVALID ? "no secret keys in file" : fb_err_str(*err));
        broker_destroy(&self);
        return NULL;
    }
    self->notary.keys = &self->keys;
    self->notary.sequence = (uint64_t)fb_now_ms() * 1000;
    self->lock = storelock_take(cfg->store, "fluxbus-broker", why, sizeof why);
    if (!self->lock) {
        s_log(self, FB_LOG_ERROR, "broker store-locked detail=\"%s\"", why);
        *err = FB_ERR_STORE;
        broker_destroy(&self);
        return NULL;
    }
    self->store = store_open(cfg->store, why, sizeof why);
    if (!self->store) {
        s_log(self, FB_LOG_ERROR, "broker store-open-failed detail=\"%s\"", why);
        *err = FB_ERR_STORE;
        broker_destroy(&self);
        return NULL;
    }
    if (s_ledger_missing(self, why, sizeof why))
        self->ledger = NULL;
    else if ((self->ledger = ledger_open(store_db(self->store), why, sizeof why)))
        ledger_set_clock_skew(self->ledger, (int64_t)cfg->freshness_s * 1000);
    if (self->ledger)
        self->expiry = expiry_new(store_db(self->store), &self->notary, self->ledger, s_expiry_log,
                                  self, why, sizeof why);
    if (self->expiry)
        self->decompte = decompte_emit_new(self->store, &self->notary, cfg->decompte_interval_s,
                                           s_expiry_log, self, fb_now_ms(), why, sizeof why);
    if (!self->ledger || !self->expiry || !self->decompte) {
        s_log(self, FB_LOG_ERROR, "broker ledger-open-failed detail=\"%s\"", why);
        *err = FB_ERR_STORE;
        broker_destroy(&self);
        return NULL;
    }
    s_start_checkpointer(self);
    s_start_walsync(self);
    self->data_version = store_data_version(self->store);
    uint64_t head_seq = 0;
    if (store_chain_head(self->store, self->chain_head, &head_seq) != FB_OK) {
        s_log(self, FB_LOG_ERROR,
              "broker chain-head-failed seq=%llu detail=\"the last stored message has no audit "
              "chain link: run fluxbus audit verify\"",
              (unsigned long long)head_seq);
        *err = FB_ERR_STORE;
        broker_destroy(&self);
        return NULL;
    }
    self->bilans = bilan_queue_new(cfg->store, S_BILAN_QUEUE);
    self->admission = admission_new(cfg->rate, cfg->rate_burst, cfg->max_backlog);
    self->acks = acks_new(cfg->ack_delay_ms, S_ACKS_MAX);
    self->pool = parallel_new(cfg->verify_threads);
    self->batch = calloc(cfg->batch_max, sizeof *self->batch);
    self->pre = calloc(cfg->batch_max, sizeof *self->pre);
    if (!self->bilans || !self->admission || !self->acks || !self->pool || !self->batch ||
        !self->pre) {
        *err = FB_ERR_NOMEM;
        broker_destroy(&self);
        return NULL;
    }
    self->ctx = zmq_ctx_new();
    if (self->ctx)
        self->zap = zap_start(self->ctx, cfg->store, s_zap_log, self, err);
    if (!self->zap || (*err = s_bind(self)) != FB_OK) {
        if (*err == FB_OK)
            *err = FB_ERR_TRANSPORT;
        broker_destroy(&self);
        return NULL;
    }
    return self;
}

const char *broker_endpoint(const broker_t *self)
{
    return self->endpoint;
}

void broker_destroy(broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_t *self = *self_p;
    if (self->bilans)
        s_bilans_drop(self);
    bilan_queue_destroy(&self->bilans); /* interrupts a computation under way */
    if (self->router)
        zmq_close(self->router);
    if (self->ctx) {
        zmq_ctx_shutdown(self->ctx); /* wakes the ZAP thread */
        zap_stop(&self->zap);
        zmq_ctx_term(self->ctx);
    }
    for (size_t i = 0; i < self->n_sessions; i++)
        free(self->sessions[i].inflight);
    free(self->sessions);
    s_drop_replies(self);
    free(self->replies);
    s_drop_receipt_jobs(self);
    free(self->jobs);
    s_certs_clear(self);
    admission_destroy(&self->admission);
    acks_destroy(&self->acks);
    parallel_destroy(&self->pool);
    free(self->batch);
    free(self->pre);
    checkpointer_stop(&self->checkpointer);
    walsync_destroy(&self->walsync);
    decompte_emit_destroy(&self->decompte);
    expiry_destroy(&self->expiry);
    ledger_close(&self->ledger);
    store_destroy(&self->store);
    storelock_release(&self->lock);
    fb_keys_wipe(&self->keys);
    free(self);
    *self_p = NULL;
}
