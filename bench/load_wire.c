/* load_wire.c - the bench's direct speaker of the fluxbus frame protocol
 * (see load_wire.h for why it exists beside lib's fb_client).
 *
 * Owns one DEALER socket and the reading of RECEIPT and DELIVER frames into
 * events. Does not own: envelope decoding and signature checks (lib's
 * envelope and codec modules), the keys (borrowed), reconnection (none).
 *
 * Invariant: an event names a message id only if it was read from a body
 * that decoded; a receipt is reported accepted only if its body is a
 * Receipt from the broker's actor (and, with verify_receipts, carries the
 * broker's valid signature). */
#include "load_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "fluxbus/codec.h"

#define S_MAX_ENVELOPE (256 * 1024)
#define S_MAX_FRAMES 4

struct load_wire {
    void *sock;
    fb_keys_t broker;
    bool verify_receipts;
};

typedef struct {
    zmq_msg_t part[S_MAX_FRAMES];
    size_t n;
} s_frames_t;

static void s_frames_close(s_frames_t *f)
{
    for (size_t i = 0; i < f->n; i++)
        zmq_msg_close(&f->part[i]);
    f->n = 0;
}

/* Reads one multipart message (the first part is there: polled). */
static fb_err_t s_frames_recv(void *sock, s_frames_t *f)
{
    f->n = 0;
    for (int more = 1; more;) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, 0) < 0) {
            zmq_msg_close(&part);
            s_frames_close(f);
            return FB_ERR_TRANSPORT;
        }
        more = zmq_msg_more(&part);
        if (f->n < S_MAX_FRAMES)
            f->part[f->n++] = part; /* moves ownership */
        else
            zmq_msg_close(&part);
    }
    return FB_OK;
}

static bool s_is(s_frames_t *f, const char *cmd)
{
    size_t n = strlen(cmd);
    return f->n > 0 && zmq_msg_size(&f->part[0]) == n &&
           memcmp(zmq_msg_data(&f->part[0]), cmd, n) == 0;
}

static fb_err_t s_send_frames(load_wire_t *self, const char *cmd, const void *data, size_t len)
{
    if (zmq_send(self->sock, cmd, strlen(cmd), data ? ZMQ_SNDMORE : 0) < 0)
        return FB_ERR_TRANSPORT;
    if (data && zmq_send(self->sock, data, len, 0) < 0)
        return FB_ERR_TRANSPORT;
    return FB_OK;
}

static fb_err_t s_send_packed(load_wire_t *self, const char *cmd, const ProtobufCMessage *msg)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    fb_err_t rc = fb_codec_pack(msg, &buf, &len);
    if (rc == FB_OK)
        rc = s_send_frames(self, cmd, buf, len);
    free(buf);
    return rc;
}

/* ---- lifecycle ---------------------------------------------------------- */

static fb_err_t s_open_socket(load_wire_t *self, const load_wire_config_t *cfg, int timeout_ms)
{
    int one = 1, linger = 0;
    self->sock = zmq_socket(cfg->zmq_ctx, ZMQ_DEALER);
    if (!self->sock)
        return FB_ERR_TRANSPORT;
    int rc = 0;
    rc |= zmq_setsockopt(self->sock, ZMQ_CURVE_SERVERKEY, cfg->broker->curve_pk, 32);
    rc |= zmq_setsockopt(self->sock, ZMQ_CURVE_PUBLICKEY, cfg->keys->curve_pk, 32);
    rc |= zmq_setsockopt(self->sock, ZMQ_CURVE_SECRETKEY, cfg->keys->curve_sk, 32);
    rc |= zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof linger);
    /* Nothing leaves before the CURVE handshake completed. */
    rc |= zmq_setsockopt(self->sock, ZMQ_IMMEDIATE, &one, sizeof one);
    rc |= zmq_setsockopt(self->sock, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms);
    if (rc != 0)
        return FB_ERR_TRANSPORT;
    return zmq_connect(self->sock, cfg->endpoint) == 0 ? FB_OK : FB_ERR_INVALID;
}

/* PING, then frames until WELCOME or the deadline. */
static fb_err_t s_greet(load_wire_t *self, int timeout_ms)
{
    if (s_send_frames(self, "PING", NULL, 0) != FB_OK)
        return FB_ERR_TIMEOUT; /* SNDTIMEO with ZMQ_IMMEDIATE: no handshake */
    int64_t deadline = fb_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - fb_now_ms();
        if (left <= 0)
            return FB_ERR_TIMEOUT;
        zmq_pollitem_t item = {self->sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, (long)left) < 0)
            return FB_ERR_TRANSPORT;
        if (!(item.revents & ZMQ_POLLIN))
            continue;
        s_frames_t f;
        if (s_frames_recv(self->sock, &f) != FB_OK)
            return FB_ERR_TRANSPORT;
        bool welcome = s_is(&f, "WELCOME");
        s_frames_close(&f);
        if (welcome)
            return FB_OK;
    }
}

load_wire_t *load_wire_new(const load_wire_config_t *cfg, fb_err_t *err)
{
    *err = FB_ERR_NOMEM;
    load_wire_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->broker = *cfg->broker;
    self->verify_receipts = cfg->verify_receipts;
    int timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000;
    *err = s_open_socket(self, cfg, timeout_ms);
    if (*err == FB_OK)
        *err = s_greet(self, timeout_ms);
    if (*err != FB_OK)
        load_wire_destroy(&self);
    return self;
}

void load_wire_destroy(load_wire_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->sock)
        zmq_close((*self_p)->sock);
    free(*self_p);
    *self_p = NULL;
}

/* ---- commands ------------------------------------------------------------ */

fb_err_t load_wire_send(load_wire_t *self, const uint8_t *env, size_t len)
{
    return s_send_frames(self, "SEND", env, len);
}

fb_err_t load_wire_hello(load_wire_t *self, unsigned window)
{
    Fluxbus__V1__Hello hello = FLUXBUS__V1__HELLO__INIT;
    hello.version = FB_PROTOCOL_VERSION;
    hello.window = window;
    return s_send_packed(self, "HELLO", &hello.base);
}

fb_err_t load_wire_ack(load_wire_t *self, uint64_t seq, const uint8_t id[FB_MESSAGE_ID_BYTES])
{
    Fluxbus__V1__DeliveryAck ack = FLUXBUS__V1__DELIVERY_ACK__INIT;
    ack.store_seq = seq;
    ack.message_id.data = (uint8_t *)id;
    ack.message_id.len = FB_MESSAGE_ID_BYTES;
    return s_send_packed(self, "ACK", &ack.base);
}

/* ---- reading ------------------------------------------------------------- */

/* The body of a broker-signed envelope; its signature checked when asked. */
static fb_err_t s_broker_body(load_wire_t *self, zmq_msg_t *frame, Fluxbus__V1__SignedBody **body)
{
    Fluxbus__V1__Envelope *env = NULL;
    fb_err_t rc =
        fb_envelope_decode(zmq_msg_data(frame), zmq_msg_size(frame), S_MAX_ENVELOPE, &env);
    if (rc == FB_OK && self->verify_receipts) {
        rc = strcmp(env->key_id, self->broker.key_id) == 0 ? FB_OK : FB_ERR_UNKNOWN_KEY;
        if (rc == FB_OK)
            rc = fb_envelope_verify(env, self->broker.sign_pk);
    }
    if (rc == FB_OK)
        rc = fb_envelope_parse_body(env, body);
    fb_envelope_free(env);
    if (rc == FB_OK && strcmp((*body)->sender, self->broker.actor) != 0) {
        fb_body_free(*body);
        *body = NULL;
        rc = FB_ERR_SENDER_MISMATCH;
    }
    return rc;
}

static fb_err_t s_read_receipt(load_wire_t *self, s_frames_t *f, load_wire_event_t *ev)
{
    if (f->n < 2)
        return FB_ERR_MALFORMED;
    Fluxbus__V1__SignedBody *body = NULL;
    fb_err_t rc = s_broker_body(self, &f->part[1], &body);
    if (rc != FB_OK)
        return rc;
    if (body->in_reply_to.len == FB_MESSAGE_ID_BYTES) {
        ev->has_id = true;
        memcpy(ev->id, body->in_reply_to.data, FB_MESSAGE_ID_BYTES);
    }
    ProtobufCMessage *msg = NULL;
    if (body->type == FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_RECEIPT) {
        rc = fb_codec_unpack(&fluxbus__v1__receipt__descriptor, body->payload.data,
                             body->payload.len, S_MAX_ENVELOPE, &msg);
        if (rc == FB_OK) {
            ev->accepted = true;
            ev->seq = ((Fluxbus__V1__Receipt *)msg)->store_seq;
        }
    } else if (body->type == FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_NACK) {
        rc = fb_codec_unpack(&fluxbus__v1__nack__descriptor, body->payload.data, body->payload.len,
                             S_MAX_ENVELOPE, &msg);
        if (rc == FB_OK)
            ev->reason = fb_err_from_reason((int)((Fluxbus__V1__Nack *)msg)->reason);
    } else {
        rc = FB_ERR_PROTOCOL;
    }
    fb_codec_free(msg);
    fb_body_free(body);
    return rc;
}

/* DELIVER: store seq (8 bytes, big-endian), the sender's envelope, the
 * KeyCert. The envelope is decoded, not verified: the broker did that. */
static fb_err_t s_read_deliver(s_frames_t *f, load_wire_event_t *ev)
{
    if (f->n < 4 || zmq_msg_size(&f->part[1]) != 8)
        return FB_ERR_MALFORMED;
    const uint8_t *be = zmq_msg_data(&f->part[1]);
    for (int i = 0; i < 8; i++)
        ev->seq = (ev->seq << 8) | be[i];
    Fluxbus__V1__Envelope *env = NULL;
    Fluxbus__V1__SignedBody *body = NULL;
    fb_err_t rc = fb_envelope_decode(zmq_msg_data(&f->part[2]), zmq_msg_size(&f->part[2]),
                                     S_MAX_ENVELOPE, &env);
    if (rc == FB_OK)
        rc = fb_envelope_parse_body(env, &body);
    if (rc == FB_OK) {
        ev->has_id = true;
        memcpy(ev->id, body->message_id.data, FB_MESSAGE_ID_BYTES);
    }
    fb_body_free(body);
    fb_envelope_free(env);
    return rc;
}

fb_err_t load_wire_next(load_wire_t *self, int timeout_ms, load_wire_event_t *ev)
{
    memset(ev, 0, sizeof *ev);
    zmq_pollitem_t item = {self->sock, 0, ZMQ_POLLIN, 0};
    int n = zmq_poll(&item, 1, timeout_ms);
    if (n < 0)
        return FB_ERR_TRANSPORT;
    if (n == 0)
        return FB_ERR_TIMEOUT;
    s_frames_t f;
    if (s_frames_recv(self->sock, &f) != FB_OK)
        return FB_ERR_TRANSPORT;
    fb_err_t rc = FB_OK;
    if (s_is(&f, "RECEIPT")) {
        ev->kind = LOAD_WIRE_RECEIPT;
        rc = s_read_receipt(self, &f, ev);
    } else if (s_is(&f, "DELIVER")) {
        ev->kind = LOAD_WIRE_DELIVER;
        rc = s_read_deliver(&f, ev);
    }
    s_frames_close(&f);
    return rc;
}
