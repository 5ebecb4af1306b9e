/* client.c - one client connection to a broker (ZeroMQ DEALER over CURVE).
 *
 * Owns: the client side of the frame protocol (docs/PROTOCOL.md), the wait
 * for signed receipts, end-to-end verification of deliveries with the
 * broker-certified sender key (the broker's own key for a message the
 * broker sent itself), fetching broker-certified encryption keys,
 * and the bookkeeping that hides redeliveries after a reconnect from the
 * application.
 *
 * Invariants: nothing reaches the caller unverified; a delivery is acked only
 * when the caller says so; deliveries that arrive while a send waits for its
 * receipt are queued in arrival order, never dropped. */
#include "fluxbus/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "fluxbus/codec.h"

#define S_KEYCERT_CACHE 64
#define S_ACKED_RING 4096
#define S_UNANSWERED 32

/* A delivery frame set as received, before verification. */
typedef struct s_raw {
    uint64_t seq;
    uint8_t *env, *cert;
    size_t env_len, cert_len;
    struct s_raw *next;
} s_raw_t;

/* A broker-certified key, remembered with the exact KeyCert bytes that
 * proved it so identical certificates are not verified again. */
typedef struct {
    uint8_t *cert;
    size_t cert_len;
    char actor[FB_ACTOR_MAX];
    char key_id[FB_KEY_ID_CHARS + 1];
    uint8_t pk[FB_SIGN_PK_BYTES];
} s_keycert_t;

struct fb_client {
    void *ctx;
    void *sock;
    void *monitor;
    fb_keys_t keys;
    fb_keys_t broker;
    int timeout_ms;
    unsigned window;
    size_t max_envelope;
    fb_log_fn log;
    void *log_ctx;
    char actor[FB_ACTOR_MAX];
    uint64_t sequence;
    int receiving;   /* caller asked for deliveries: HELLO after every handshake */
    int handshakes;  /* successful CURVE handshakes seen */
    int auth_failed; /* last handshake was refused by the broker's ZAP handler */
    s_raw_t *head, *tail;
    s_keycert_t certs[S_KEYCERT_CACHE];
    size_t next_cert;
    /* SENDs on this connection without an answer yet, oldest first. The
     * broker answers one connection's SENDs in order, so a Nack that carries
     * no message id (the body could not be read) answers the oldest. */
    struct {
        uint8_t id[FB_MESSAGE_ID_BYTES];
        bool pending; /* the broker said PENDING: answered later, with its id */
    } unanswered[S_UNANSWERED];
    size_t n_unanswered;
    uint64_t last_returned; /* highest store_seq handed to the caller */
    uint64_t acked[S_ACKED_RING];
    size_t acked_next;
};

/* ---- frames ---------------------------------------------------------- */

/* Sends a command frame followed by n data frames. */
static fb_err_t s_send_frames(fb_client_t *self, const char *cmd, const void *const *data,
                              const size_t *lens, size_t n)
{
    if (zmq_send(self->sock, cmd, strlen(cmd), n ? ZMQ_SNDMORE : 0) < 0)
        return FB_ERR_TRANSPORT;
    for (size_t i = 0; i < n; i++)
        if (zmq_send(self->sock, data[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
            return FB_ERR_TRANSPORT;
    return FB_OK;
}

static fb_err_t s_send1(fb_client_t *self, const char *cmd, const ProtobufCMessage *msg)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    fb_err_t rc = fb_codec_pack(msg, &buf, &len);
    if (rc == FB_OK) {
        const void *data[1] = {buf};
        rc = s_send_frames(self, cmd, data, &len, 1);
    }
    free(buf);
    return rc;
}

/* Receives one multipart message into up to 4 frames (copied). */
typedef struct {
    size_t n;
    zmq_msg_t part[4];
} s_frames_t;

static void s_frames_close(s_frames_t *f)
{
    for (size_t i = 0; i < f->n; i++)
        zmq_msg_close(&f->part[i]);
    f->n = 0;
}

static fb_err_t s_recv_frames(void *sock, s_frames_t *f)
{
    f->n = 0;
    int more = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            s_frames_close(f);
            return FB_ERR_TRANSPORT;
        }
        more = zmq_msg_more(&part);
        if (f->n < 4)
            f->part[f->n++] = part; /* moves ownership */
        else
            zmq_msg_close(&part); /* excess frames are out of protocol */
    }
    return FB_OK;
}

static int s_frame_is(const s_frames_t *f, const char *cmd)
{
    size_t n = strlen(cmd);
    return f->n > 0 && zmq_msg_size((zmq_msg_t *)&f->part[0]) == n &&
           memcmp(zmq_msg_data((zmq_msg_t *)&f->part[0]), cmd, n) == 0;
}

static uint8_t *s_dup(const void *data, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (p && len)
        memcpy(p, data, len);
    return p;
}

/* ---- monitor: handshake results -------------------------------------- */

static void s_drain_monitor(fb_client_t *self)
{
    for (;;) {
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, self->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            return;
        }
        uint16_t event = 0;
        if (zmq_msg_size(&ev) >= 2)
            memcpy(&event, zmq_msg_data(&ev), 2);
        zmq_msg_close(&ev);
        zmq_msg_init(&addr);
        zmq_msg_recv(&addr, self->monitor, 0); /* second frame: endpoint */
        zmq_msg_close(&addr);
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            self->handshakes++;
            /* Answers for SENDs of the old connection will never come. */
            self->n_unanswered = 0;
            self->auth_failed = 0;
            if (self->receiving) {
                Fluxbus__V1__Hello hello = FLUXBUS__V1__HELLO__INIT;
                hello.version = FB_PROTOCOL_VERSION;
                hello.window = self->window;
                if (s_send1(self, "HELLO", &hello.base) != FB_OK)
                    fb_logf(self->log, self->log_ctx, FB_LOG_WARN, "client hello-failed");
            }
        } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            self->auth_failed = 1;
        }
    }
}

/* ---- keys certified by the broker ------------------------------------ */

/* Opens an envelope signed by the broker and returns its parsed body. */
static fb_err_t s_open_from_broker(fb_client_t *self, const uint8_t *data, size_t len,
                                   Fluxbus__V1__SignedBody **body)
{
    Fluxbus__V1__Envelope *env = NULL;
    fb_err_t rc = fb_envelope_decode(data, len, self->max_envelope, &env);
    if (rc == FB_OK && strcmp(env->key_id, self->broker.key_id) != 0)
        rc = FB_ERR_UNKNOWN_KEY;
    if (rc == FB_OK)
        rc = fb_envelope_verify(env, self->broker.sign_pk);
    if (rc == FB_OK)
        rc = fb_envelope_parse_body(env, body);
    if (rc == FB_OK && strcmp((*body)->sender, self->broker.actor) != 0) {
        rc = FB_ERR_SENDER_MISMATCH;
        fb_body_free(*body);
        *body = NULL;
    }
    fb_envelope_free(env);
    return rc;
}

/* Checks a KeyCert's form: the purpose expected, a 32-byte key, a sane
 * actor id, and a key id that is the one derived from the key. */
static fb_err_t s_check_keycert(const Fluxbus__V1__KeyCert *kc, Fluxbus__V1__KeyPurpose purpose)
{
    if (kc->purpose != purpose)
        return FB_ERR_PROTOCOL;
    if (kc->public_key.len != FB_SIGN_PK_BYTES || strlen(kc->actor_id) >= FB_ACTOR_MAX ||
        strlen(kc->key_id) != FB_KEY_ID_CHARS)
        return FB_ERR_MALFORMED;
    char derived[FB_KEY_ID_CHARS + 1];
    fb_key_id(kc->public_key.data, derived);
    return strcmp(derived, kc->key_id) == 0 ? FB_OK : FB_ERR_UNKNOWN_KEY;
}

/* Opens a broker-signed KeyCert envelope: FB_OK with *out (fb_codec_free it). */
static fb_err_t s_open_keycert(fb_client_t *self, const uint8_t *cert, size_t len,
                               Fluxbus__V1__KeyCert **out)
{
    Fluxbus__V1__SignedBody *body = NULL;
    ProtobufCMessage *msg = NULL;
    *out = NULL;
    fb_err_t rc = s_open_from_broker(self, cert, len, &body);
    if (rc == FB_OK && body->type != FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_KEY_CERT)
        rc = FB_ERR_PROTOCOL;
    if (rc == FB_OK)
        rc = fb_codec_unpack(&fluxbus__v1__key_cert__descriptor, body->payload.data,
                             body->payload.len, self->max_envelope, &msg);
    fb_body_free(body);
    *out = (Fluxbus__V1__KeyCert *)msg;
    return rc;
}

/* Finds or verifies the KeyCert in `cert`, returning the cache slot. */
static fb_err_t s_keycert(fb_client_t *self, const uint8_t *cert, size_t len, s_keycert_t **out)
{
    for (size_t i = 0; i < S_KEYCERT_CACHE; i++) {
        s_keycert_t *c = &self->certs[i];
        if (c->cert && c->cert_len == len && memcmp(c->cert, cert, len) == 0) {
            *out = c;
            return FB_OK;
        }
    }
    Fluxbus__V1__KeyCert *kc = NULL;
    fb_err_t rc = s_open_keycert(self, cert, len, &kc);
    if (rc == FB_OK)
        rc = s_check_keycert(kc, FLUXBUS__V1__KEY_PURPOSE__KEY_PURPOSE_SIGNING);
    if (rc == FB_OK) {
        s_keycert_t *c = &self->certs[self->next_cert];
        self->next_cert = (self->next_cert + 1) % S_KEYCERT_CACHE;
        free(c->cert);
        c->cert = s_dup(cert, len);
        c->cert_len = len;
        if (!c->cert)
            rc = FB_ERR_NOMEM;
        snprintf(c->actor, sizeof c->actor, "%s", kc->actor_id);
        snprintf(c->key_id, sizeof c->key_id, "%s", kc->key_id);
        memcpy(c->pk, kc->public_key.data, FB_SIGN_PK_BYTES);
        *out = c;
    }
    fb_codec_free(kc ? &kc->base : NULL);
    return rc;
}

/* ---- lifecycle -------------------------------------------------------- */

static fb_err_t s_set_sockopts(fb_client_t *self)
{
    int one = 1, linger = 2000, hb_ivl = 2000, hb_ttl = 10000;
    int rc = 0;
    rc |= zmq_setsockopt(self->sock, ZMQ_CURVE_SERVERKEY, self->broker.curve_pk, 32);
    rc |= zmq_setsockopt(self->sock, ZMQ_CURVE_PUBLICKEY, self->keys.curve_pk, 32);
    rc |= zmq_setsockopt(self->sock, ZMQ_CURVE_SECRETKEY, self->keys.curve_sk, 32);
    rc |= zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof linger);
    rc |= zmq_setsockopt(self->sock, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof hb_ivl);
    rc |= zmq_setsockopt(self->sock, ZMQ_HEARTBEAT_TIMEOUT, &hb_ttl, sizeof hb_ttl);
    rc |= zmq_setsockopt(self->sock, ZMQ_IMMEDIATE, &one, sizeof one);
    rc |= zmq_setsockopt(self->sock, ZMQ_SNDTIMEO, &self->timeout_ms, sizeof self->timeout_ms);
    return rc ? FB_ERR_TRANSPORT : FB_OK;
}

static fb_err_t s_connect(fb_client_t *self, const char *endpoint)
{
    char mon[64];
    snprintf(mon, sizeof mon, "inproc://fluxbus-client-monitor-%p", (void *)self);
    self->ctx = zmq_ctx_new();
    if (!self->ctx)
        return FB_ERR_TRANSPORT;
    self->sock = zmq_socket(self->ctx, ZMQ_DEALER);
    if (!self->sock || s_set_sockopts(self) != FB_OK)
        return FB_ERR_TRANSPORT;
    if (zmq_socket_monitor(self->sock, mon,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0)
        return FB_ERR_TRANSPORT;
    self->monitor = zmq_socket(self->ctx, ZMQ_PAIR);
    if (!self->monitor || zmq_connect(self->monitor, mon) != 0)
        return FB_ERR_TRANSPORT;
    if (zmq_connect(self->sock, endpoint) != 0)
        return FB_ERR_INVALID;
    return FB_OK;
}

/* Waits for the CURVE handshake to succeed or be refused (monitor events). */
static fb_err_t s_wait_handshake(fb_client_t *self, int timeout_ms)
{
    int64_t deadline = fb_now_ms() + timeout_ms;
    while (self->handshakes == 0 && !self->auth_failed) {
        int64_t left = deadline - fb_now_ms();
        if (left <= 0)
            return FB_ERR_TIMEOUT;
        zmq_pollitem_t item = {self->monitor, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, (long)left) < 0)
            return FB_ERR_TRANSPORT;
        s_drain_monitor(self);
    }
    return self->auth_failed ? FB_ERR_AUTH : FB_OK;
}

static void s_queue_delivery(fb_client_t *self, s_frames_t *f);
static fb_err_t s_wait(fb_client_t *self, int timeout_ms,
                       int (*done)(fb_client_t *, s_frames_t *, void *), void *arg);

/* PING is answered by WELCOME, naming the actor our key is bound to. */
static int s_on_welcome(fb_client_t *self, s_frames_t *f, void *arg)
{
    (void)arg;
    if (!s_frame_is(f, "WELCOME") || f->n < 2)
        return 0;
    ProtobufCMessage *msg = NULL;
    if (fb_codec_unpack(&fluxbus__v1__welcome__descriptor, zmq_msg_data(&f->part[1]),
                        zmq_msg_size(&f->part[1]), 4096, &msg) != FB_OK)
        return -1;
    snprintf(self->actor, sizeof self->actor, "%s", ((Fluxbus__V1__Welcome *)msg)->actor_id);
    fb_codec_free(msg);
    return 1;
}

fb_client_t *fb_client_new(const fb_client_config_t *cfg, fb_err_t *err)
{
    fb_err_t dummy;
    if (!err)
        err = &dummy;
    *err = FB_ERR_INVALID;
    if (!cfg || !cfg->endpoint || !cfg->keys || !cfg->broker || !cfg->keys->has_secret)
        return NULL;
    fb_client_t *self = calloc(1, sizeof *self);
    if (!self) {
        *err = FB_ERR_NOMEM;
        return NULL;
    }
    self->keys = *cfg->keys;
    self->broker = *cfg->broker;
    self->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000;
    self->window = cfg->window;
    self->max_envelope = cfg->max_envelope ? cfg->max_envelope : FB_DEFAULT_MAX_ENVELOPE;
    self->log = cfg->log;
    self->log_ctx = cfg->log_ctx;
    self->sequence = (uint64_t)fb_now_ms() * 1000; /* increases across restarts too */
    int connect_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : self->timeout_ms;
    *err = s_connect(self, cfg->endpoint);
    if (*err == FB_OK)
        *err = s_wait_handshake(self, connect_ms);
    if (*err == FB_OK) {
        *err = s_send_frames(self, "PING", NULL, NULL, 0);
        if (*err == FB_ERR_TRANSPORT)
            *err = FB_ERR_TIMEOUT;
    }
    if (*err == FB_OK)
        *err = s_wait(self, connect_ms, s_on_welcome, NULL);
    if (*err == FB_ERR_TIMEOUT) {
        s_drain_monitor(self);
        if (self->auth_failed)
            *err = FB_ERR_AUTH;
    }
    if (*err != FB_OK) {
        fb_logf(self->log, self->log_ctx, FB_LOG_ERROR,
                "client connect-failed endpoint=%s reason=%s", cfg->endpoint, fb_err_name(*err));
        fb_client_destroy(&self);
        return NULL;
    }
    return self;
}

void fb_client_destroy(fb_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    fb_client_t *self = *self_p;
    while (self->head) {
        s_raw_t *r = self->head;
        self->head = r->next;
        free(r->env);
        free(r->cert);
        free(r);
    }
    for (size_t i = 0; i < S_KEYCERT_CACHE; i++)
        free(self->certs[i].cert);
    if (self->sock)
        zmq_socket_monitor(self->sock, NULL, 0);
    if (self->monitor)
        zmq_close(self->monitor);
    if (self->sock)
        zmq_close(self->sock);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    fb_keys_wipe(&self->keys);
    free(self);
    *self_p = NULL;
}

const char *fb_client_actor(const fb_client_t *self)
{
    return self->actor;
}

void fb_client_set_timeout(fb_client_t *self, int timeout_ms)
{
    self->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
}

/* ---- the wait loop ---------------------------------------------------- */

static void s_on_pending(fb_client_t *self, const s_frames_t *f);

/* Polls until `done` returns 1 (FB_OK), -1 (FB_ERR_PROTOCOL) or the timeout
 * passes (FB_ERR_TIMEOUT). Deliveries seen meanwhile are queued. */
static fb_err_t s_wait(fb_client_t *self, int timeout_ms,
                       int (*done)(fb_client_t *, s_frames_t *, void *), void *arg)
{
    int64_t deadline = timeout_ms < 0 ? -1 : fb_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline < 0 ? -1 : deadline - fb_now_ms();
        if (deadline >= 0 && left < 0)
            left = 0;
        zmq_pollitem_t items[2] = {{self->sock, 0, ZMQ_POLLIN, 0},
                                   {self->monitor, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, (long)left) < 0)
            return FB_ERR_TRANSPORT; /* EINTR: let the caller decide */
        if (items[1].revents & ZMQ_POLLIN)
            s_drain_monitor(self);
        if (items[0].revents & ZMQ_POLLIN) {
            s_frames_t f;
            if (s_recv_frames(self->sock, &f) != FB_OK)
                continue;
            if (s_frame_is(&f, "PENDING"))
                s_on_pending(self, &f);
            int r = done ? done(self, &f, arg) : 0;
            if (r == 0 && s_frame_is(&f, "DELIVER"))
                s_queue_delivery(self, &f);
            s_frames_close(&f);
            if (r != 0)
                return r > 0 ? FB_OK : FB_ERR_PROTOCOL;
            if (!done && self->head)
                return FB_OK; /* a plain wait ends at the first delivery */
        }
        if (deadline >= 0 && fb_now_ms() >= deadline)
            return FB_ERR_TIMEOUT;
    }
}

/* ---- sending ----------------------------------------------------------- */

fb_err_t fb_client_seal(fb_client_t *self, const fb_outgoing_t *msg, uint8_t **out, size_t *out_len,
                        uint8_t id_out[FB_MESSAGE_ID_BYTES])
{
    uint8_t id[FB_MESSAGE_ID_BYTES];
    if (msg->message_id)
        memcpy(id, msg->message_id, sizeof id);
    else
        fb_message_id_new(id);
    Fluxbus__V1__SignedBody body = FLUXBUS__V1__SIGNED_BODY__INIT;
    body.version = FB_PROTOCOL_VERSION;
    body.message_id.data = id;
    body.message_id.len = sizeof id;
    body.sender = self->keys.actor;
    body.key_id = self->keys.key_id;
    body.recipients = (char **)msg->recipients;
    body.n_recipients = msg->n_recipients;
    body.topics = (char **)msg->topics;
    body.n_topics = msg->n_topics;
    body.sequence = ++self->sequence;
    body.created_at_ms = msg->created_at_ms ? msg->created_at_ms : fb_now_ms();
    body.type = (Fluxbus__V1__MessageType)msg->type;
    body.correlation_id = (char *)(msg->correlation_id ? msg->correlation_id : "");
    if (msg->in_reply_to) {
        body.in_reply_to.data = (uint8_t *)msg->in_reply_to;
        body.in_reply_to.len = FB_MESSAGE_ID_BYTES;
    }
    body.payload.data = (uint8_t *)msg->payload;
    body.payload.len = msg->payload_len;
    if (id_out)
        memcpy(id_out, id, sizeof id);
    return fb_envelope_seal_attached(&body, msg->attachments, msg->n_attachments, &self->keys, out,
                                     out_len);
}

typedef struct {
    const uint8_t *id;
    fb_receipt_t *receipt;
    fb_err_t result;
} s_receipt_wait_t;

static void s_unanswered_push(fb_client_t *self, const uint8_t *id)
{
    if (self->n_unanswered == S_UNANSWERED) { /* forget the oldest */
        memmove(&self->unanswered[0], &self->unanswered[1],
                (S_UNANSWERED - 1) * sizeof self->unanswered[0]);
        self->n_unanswered--;
    }
    memcpy(self->unanswered[self->n_unanswered].id, id, FB_MESSAGE_ID_BYTES);
    self->unanswered[self->n_unanswered++].pending = false;
}

/* The oldest entry about `id`; with id NULL, the oldest one the broker has
 * not said PENDING of (PROTOCOL.md 3.2: an id-less Nack never answers a
 * pending SEND). n_unanswered when there is none. */
static size_t s_unanswered_find(const fb_client_t *self, const uint8_t *id)
{
    size_t i = 0;
    while (i < self->n_unanswered &&
           (id ? memcmp(self->unanswered[i].id, id, FB_MESSAGE_ID_BYTES) != 0
               : self->unanswered[i].pending))
        i++;
    return i;
}

/* Removes the entry answered by a reply about `id` (NULL: the oldest not
 * pending). Returns 1 when the answered SEND was one carrying `mine`. */
static int s_unanswered_pop(fb_client_t *self, const uint8_t *id, const uint8_t *mine)
{
    size_t i = s_unanswered_find(self, id);
    if (i == self->n_unanswered) /* not tracked: a reply to an earlier connection */
        return id && memcmp(id, mine, FB_MESSAGE_ID_BYTES) == 0;
    int ours = memcmp(self->unanswered[i].id, mine, FB_MESSAGE_ID_BYTES) == 0;
    memmove(&self->unanswered[i], &self->unanswered[i + 1],
            (self->n_unanswered - i - 1) * sizeof self->unanswered[0]);
    self->n_unanswered--;
    return ours;
}

/* PENDING <message id>: that SEND is answered later, with its id. */
static void s_on_pending(fb_client_t *self, const s_frames_t *f)
{
    if (f->n < 2 || zmq_msg_size((zmq_msg_t *)&f->part[1]) != FB_MESSAGE_ID_BYTES)
        return;
    const uint8_t *id = zmq_msg_data((zmq_msg_t *)&f->part[1]);
    for (size_t i = 0; i < self->n_unanswered; i++)
        if (memcmp(self->unanswered[i].id, id, FB_MESSAGE_ID_BYTES) == 0 &&
            !self->unanswered[i].pending) {
            self->unanswered[i].pending = true;
            return;
        }
}

/* Reads the broker-signed RECEIPT frame; 1 when it answers our message. */
static int s_on_receipt(fb_client_t *self, s_frames_t *f, void *arg)
{
    s_receipt_wait_t *w = arg;
    if (!s_frame_is(f, "RECEIPT") || f->n < 2)
        return 0;
    const uint8_t *data = zmq_msg_data(&f->part[1]);
    size_t len = zmq_msg_size(&f->part[1]);
    Fluxbus__V1__SignedBody *body = NULL;
    fb_err_t rc = s_open_from_broker(self, data, len, &body);
    if (rc != FB_OK) {
        fb_logf(self->log, self->log_ctx, FB_LOG_WARN, "client receipt-refused reason=%s",
                fb_err_name(rc));
        return 0;
    }
    int answered = 0;
    ProtobufCMessage *msg = NULL;
    fb_receipt_t *r = w->receipt;
    const uint8_t *about =
        body->in_reply_to.len == FB_MESSAGE_ID_BYTES ? body->in_reply_to.data : NULL;
    int ours = s_unanswered_pop(self, about, w->id);
    if (body->type == FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_RECEIPT && ours &&
        fb_codec_unpack(&fluxbus__v1__receipt__descriptor, body->payload.data, body->payload.len,
                        len, &msg) == FB_OK) {
        Fluxbus__V1__Receipt *rec = (Fluxbus__V1__Receipt *)msg;
        r->accepted = true;
        r->duplicate = rec->duplicate;
        r->store_seq = rec->store_seq;
        r->accepted_at_ms = rec->accepted_at_ms;
        r->reason = FB_OK;
        w->result = FB_OK;
        answered = 1;
    } else if (body->type == FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_NACK && ours &&
               fb_codec_unpack(&fluxbus__v1__nack__descriptor, body->payload.data,
                               body->payload.len, len, &msg) == FB_OK) {
        Fluxbus__V1__Nack *nack = (Fluxbus__V1__Nack *)msg;
        r->accepted = false;
        r->reason = fb_err_from_reason((int)nack->reason);
        snprintf(r->detail, sizeof r->detail, "%s", nack->detail);
        w->result = r->reason;
        answered = 1;
    }
    if (answered) {
        r->receipt = s_dup(data, len);
        r->receipt_len = r->receipt ? len : 0;
    }
    fb_codec_free(msg);
    fb_body_free(body);
    return answered;
}

fb_err_t fb_client_send_raw(fb_client_t *self, const uint8_t *env, size_t len,
                            const uint8_t id[FB_MESSAGE_ID_BYTES], fb_receipt_t *receipt)
{
    memset(receipt, 0, sizeof *receipt);
    memcpy(receipt->message_id, id, FB_MESSAGE_ID_BYTES);
    const void *data[1] = {env};
    fb_err_t rc = s_send_frames(self, "SEND", data, &len, 1);
    if (rc != FB_OK)
        return rc;
    s_unanswered_push(self, id);
    s_receipt_wait_t w = {id, receipt, FB_OK};
    rc = s_wait(self, self->timeout_ms, s_on_receipt, &w);
    return rc == FB_OK ? w.result : rc;
}

fb_err_t fb_client_send(fb_client_t *self, const fb_outgoing_t *msg, fb_receipt_t *receipt)
{
    uint8_t *env = NULL;
    size_t len = 0;
    uint8_t id[FB_MESSAGE_ID_BYTES];
    memset(receipt, 0, sizeof *receipt);
    fb_err_t rc = fb_client_seal(self, msg, &env, &len, id);
    if (rc == FB_OK)
        rc = fb_client_send_raw(self, env, len, id, receipt);
    free(env);
    return rc;
}

void fb_receipt_clear(fb_receipt_t *receipt)
{
    if (!receipt)
        return;
    free(receipt->receipt);
    memset(receipt, 0, sizeof *receipt);
}

/* ---- subscribing ------------------------------------------------------- */

typedef struct {
    const char *topic;
    fb_err_t result;
} s_sub_wait_t;

static int s_on_suback(fb_client_t *self, s_frames_t *f, void *arg)
{
    s_sub_wait_t *w = arg;
    if (!s_frame_is(f, "SUBACK") || f->n < 2)
        return 0;
    ProtobufCMessage *msg = NULL;
    if (fb_codec_unpack(&fluxbus__v1__sub_ack__descriptor, zmq_msg_data(&f->part[1]),
                        zmq_msg_size(&f->part[1]), 4096, &msg) != FB_OK)
        return -1;
    Fluxbus__V1__SubAck *ack = (Fluxbus__V1__SubAck *)msg;
    int ours = strcmp(ack->topic, w->topic) == 0;
    if (ours) {
        w->result = fb_err_from_reason((int)ack->reason);
        if (w->result != FB_OK)
            fb_logf(self->log, self->log_ctx, FB_LOG_WARN,
                    "client subscribe-refused topic=%s reason=%s detail=\"%s\"", ack->topic,
                    fb_err_name(w->result), ack->detail);
    }
    fb_codec_free(msg);
    return ours;
}

fb_err_t fb_client_subscribe(fb_client_t *self, const char *topic)
{
    Fluxbus__V1__Subscribe sub = FLUXBUS__V1__SUBSCRIBE__INIT;
    sub.topic = (char *)topic;
    fb_err_t rc = s_send1(self, "SUBSCRIBE", &sub.base);
    if (rc != FB_OK)
        return rc;
    s_sub_wait_t w = {topic, FB_OK};
    rc = s_wait(self, self->timeout_ms, s_on_suback, &w);
    return rc == FB_OK ? w.result : rc;
}

/* ---- encryption keys ---------------------------------------------------- */

typedef struct {
    const char *actor;
    uint8_t *pk;
    char *key_id;
    fb_err_t result;
} s_key_wait_t;

/* Reads a KEYANSWER; 1 when it is about the actor asked for. */
static int s_on_keyanswer(fb_client_t *self, s_frames_t *f, void *arg)
{
    s_key_wait_t *w = arg;
    if (!s_frame_is(f, "KEYANSWER") || f->n < 2)
        return 0;
    ProtobufCMessage *msg = NULL;
    if (fb_codec_unpack(&fluxbus__v1__key_answer__descriptor, zmq_msg_data(&f->part[1]),
                        zmq_msg_size(&f->part[1]), self->max_envelope, &msg) != FB_OK)
        return -1;
    Fluxbus__V1__KeyAnswer *a = (Fluxbus__V1__KeyAnswer *)msg;
    if (strcmp(a->actor_id, w->actor) != 0) { /* an answer to an earlier, timed-out query */
        fb_codec_free(msg);
        return 0;
    }
    Fluxbus__V1__KeyCert *kc = NULL;
    fb_err_t rc = fb_err_from_reason((int)a->reason);
    if (rc != FB_OK)
        fb_logf(self->log, self->log_ctx, FB_LOG_WARN,
                "client keyquery-refused actor=%s reason=%s detail=\"%s\"", a->actor_id,
                fb_err_name(rc), a->detail);
    if (rc == FB_OK)
        rc = s_open_keycert(self, a->key_cert.data, a->key_cert.len, &kc);
    if (rc == FB_OK)
        rc = s_check_keycert(kc, FLUXBUS__V1__KEY_PURPOSE__KEY_PURPOSE_ENCRYPTION);
    if (rc == FB_OK && strcmp(kc->actor_id, w->actor) != 0)
        rc = FB_ERR_SENDER_MISMATCH; /* certifies someone else's key */
    if (rc == FB_OK) {
        if (w->pk)
            memcpy(w->pk, kc->public_key.data, FB_ENC_KEY_BYTES);
        if (w->key_id)
            snprintf(w->key_id, FB_KEY_ID_CHARS + 1, "%s", kc->key_id);
    }
    w->result = rc;
    fb_codec_free(kc ? &kc->base : NULL);
    fb_codec_free(msg);
    return 1;
}

fb_err_t fb_client_encryption_key(fb_client_t *self, const char *actor,
                                  uint8_t out_pk[FB_ENC_KEY_BYTES],
                                  char out_key_id[FB_KEY_ID_CHARS + 1], int timeout_ms)
{
    if (!actor || !*actor)
        return FB_ERR_INVALID;
    Fluxbus__V1__KeyQuery q = FLUXBUS__V1__KEY_QUERY__INIT;
    q.actor_id = (char *)actor;
    q.purpose = FLUXBUS__V1__KEY_PURPOSE__KEY_PURPOSE_ENCRYPTION;
    fb_err_t rc = s_send1(self, "KEYQUERY", &q.base);
    if (rc != FB_OK)
        return rc;
    s_key_wait_t w = {actor, out_pk, out_key_id, FB_OK};
    rc = s_wait(self, timeout_ms > 0 ? timeout_ms : self->timeout_ms, s_on_keyanswer, &w);
    return rc == FB_OK ? w.result : rc;
}

/* ---- receiving --------------------------------------------------------- */

static void s_queue_delivery(fb_client_t *self, s_frames_t *f)
{
    if (f->n < 4 || zmq_msg_size(&f->part[1]) != 8) {
        fb_logf(self->log, self->log_ctx, FB_LOG_WARN, "client bad-deliver-frame frames=%zu", f->n);
        return;
    }
    s_raw_t *r = calloc(1, sizeof *r);
    if (!r)
        return; /* not acked: the broker sends it again on the next connection */
    const uint8_t *s = zmq_msg_data(&f->part[1]);
    for (int i = 0; i < 8; i++)
        r->seq = (r->seq << 8) | s[i];
    r->env_len = zmq_msg_size(&f->part[2]);
    r->env = s_dup(zmq_msg_data(&f->part[2]), r->env_len);
    r->cert_len = zmq_msg_size(&f->part[3]);
    r->cert = s_dup(zmq_msg_data(&f->part[3]), r->cert_len);
    if (!r->env || !r->cert) {
        free(r->env);
        free(r->cert);
        free(r);
        return;
    }
    if (self->tail)
        self->tail->next = r;
    else
        self->head = r;
    self->tail = r;
}

static int s_was_acked(const fb_client_t *self, uint64_t seq)
{
    for (size_t i = 0; i < S_ACKED_RING; i++)
        if (self->acked[i] == seq)
            return 1;
    return 0;
}

static fb_err_t s_send_ack(fb_client_t *self, uint64_t seq, const uint8_t *id, size_t id_len)
{
    Fluxbus__V1__DeliveryAck ack = FLUXBUS__V1__DELIVERY_ACK__INIT;
    ack.store_seq = seq;
    ack.message_id.data = (uint8_t *)id;
    ack.message_id.len = id_len;
    return s_send1(self, "ACK", &ack.base);
}

/* The key that signed a delivery: the broker's own, which the client holds
 * (a message the broker sent itself, e.g. DeadlineExpired: the KeyCert
 * frame is not needed), or the one the broker certified in the KeyCert
 * frame, which never stands for the broker's actor. *actor and *pk are
 * borrowed from self. */
static fb_err_t s_delivery_key(fb_client_t *self, const s_raw_t *r,
                               const Fluxbus__V1__Envelope *env, const char **actor,
                               const uint8_t **pk)
{
    if (strcmp(env->key_id, self->broker.key_id) == 0) {
        *actor = self->broker.actor;
        *pk = self->broker.sign_pk;
        return FB_OK;
    }
    s_keycert_t *kc = NULL;
    fb_err_t rc = s_keycert(self, r->cert, r->cert_len, &kc);
    if (rc == FB_OK && strcmp(env->key_id, kc->key_id) != 0)
        rc = FB_ERR_UNKNOWN_KEY;
    if (rc == FB_OK && strcmp(kc->actor, self->broker.actor) == 0)
        rc = FB_ERR_SENDER_MISMATCH; /* only the broker's key speaks for the broker */
    if (rc == FB_OK) {
        *actor = kc->actor;
        *pk = kc->pk;
    }
    return rc;
}

/* Verifies a raw delivery end to end and builds the fb_delivery_t. */
static fb_err_t s_verify_delivery(fb_client_t *self, s_raw_t *r, fb_delivery_t **out)
{
    Fluxbus__V1__Envelope *env = NULL;
    Fluxbus__V1__SignedBody *body = NULL;
    const char *actor = NULL;
    const uint8_t *pk = NULL;
    fb_err_t rc = fb_envelope_decode(r->env, r->env_len, self->max_envelope, &env);
    if (rc == FB_OK)
        rc = s_delivery_key(self, r, env, &actor, &pk);
    if (rc == FB_OK)
        rc = fb_envelope_verify(env, pk);
    if (rc == FB_OK)
        rc = fb_envelope_parse_body(env, &body);
    if (rc == FB_OK && strcmp(body->sender, actor) != 0)
        rc = FB_ERR_SENDER_MISMATCH;
    fb_envelope_free(env);
    fb_delivery_t *d = NULL;
    if (rc == FB_OK && !(d = calloc(1, sizeof *d)))
        rc = FB_ERR_NOMEM;
    if (rc != FB_OK) {
        fb_body_free(body);
        return rc;
    }
    d->store_seq = r->seq;
    d->body = body;
    d->envelope = r->env;
    d->envelope_len = r->env_len;
    r->env = NULL; /* moved */
    memcpy(d->sender_pk, pk, FB_SIGN_PK_BYTES);
    *out = d;
    return FB_OK;
}

static void s_free_raw(s_raw_t *r)
{
    free(r->env);
    free(r->cert);
    free(r);
}

fb_err_t fb_client_recv(fb_client_t *self, fb_delivery_t **out, int timeout_ms)
{
    *out = NULL;
    if (!self->receiving) {
        self->receiving = 1;
        Fluxbus__V1__Hello hello = FLUXBUS__V1__HELLO__INIT;
        hello.version = FB_PROTOCOL_VERSION;
        hello.window = self->window;
        fb_err_t rc = s_send1(self, "HELLO", &hello.base);
        if (rc != FB_OK)
            return rc;
    }
    int64_t deadline = timeout_ms < 0 ? -1 : fb_now_ms() + timeout_ms;
    for (;;) {
        while (self->head) {
            s_raw_t *r = self->head;
            self->head = r->next;
            if (!self->head)
                self->tail = NULL;
            if (r->seq <= self->last_returned) {
                /* A redelivery after a reconnect: the caller has it already.
                 * If it acked it, the ack may have been lost: send it again. */
                if (s_was_acked(self, r->seq))
                    s_send_ack(self, r->seq, NULL, 0);
                s_free_raw(r);
                continue;
            }
            fb_err_t rc = s_verify_delivery(self, r, out);
            if (rc != FB_OK)
                fb_logf(self->log, self->log_ctx, FB_LOG_ERROR,
                        "client delivery-refused store_seq=%llu reason=%s",
                        (unsigned long long)r->seq, fb_err_name(rc));
            else
                self->last_returned = r->seq;
            s_free_raw(r);
            return rc;
        }
        int64_t left = deadline < 0 ? -1 : deadline - fb_now_ms();
        if (deadline >= 0 && left <= 0)
            return FB_ERR_TIMEOUT;
        fb_err_t rc = s_wait(self, (int)left, NULL, NULL);
        if (rc != FB_OK && rc != FB_ERR_TIMEOUT)
            return rc;
        if (rc == FB_ERR_TIMEOUT && !self->head)
            return FB_ERR_TIMEOUT;
    }
}

fb_err_t fb_client_ack(fb_client_t *self, const fb_delivery_t *d)
{
    self->acked[self->acked_next] = d->store_seq;
    self->acked_next = (self->acked_next + 1) % S_ACKED_RING;
    return s_send_ack(self, d->store_seq, d->body->message_id.data, d->body->message_id.len);
}

void fb_delivery_destroy(fb_delivery_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    fb_body_free((*self_p)->body);
    free((*self_p)->envelope);
    free(*self_p);
    *self_p = NULL;
}
