/* fluxbus/client.h - the client side of the bus: one CURVE-authenticated
 * connection to a broker, used to send signed messages and to receive,
 * verify and acknowledge deliveries.
 *
 * A client is not thread-safe: use it from one thread. Sending blocks until
 * the broker's signed receipt (or nack) arrives; deliveries that arrive
 * meanwhile are kept, in order, for fb_client_recv(). Every delivery is
 * verified end to end with the sender's key, certified by the broker's
 * KeyCert, before the caller sees it; a message the broker sent itself
 * (sender: the broker's actor, e.g. DeadlineExpired) is verified with the
 * broker's own key, that of fb_client_config_t.broker. */
#ifndef FLUXBUS_CLIENT_H
#define FLUXBUS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fluxbus/envelope.h"
#include "fluxbus/err.h"
#include "fluxbus/keys.h"
#include "fluxbus/log.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fb_client fb_client_t;

typedef struct {
    const char *endpoint;    /* e.g. "tcp://127.0.0.1:5770" */
    const fb_keys_t *keys;   /* own keys, secrets included (copied) */
    const fb_keys_t *broker; /* broker's public keys (copied) */
    int timeout_ms;          /* connect / receipt wait; 0 = 5000 */
    int connect_timeout_ms;  /* connect wait alone; 0 = timeout_ms */
    unsigned window;         /* deliveries in flight; 0 = broker default */
    size_t max_envelope;     /* size cap on received envelopes; 0 = 256 KiB */
    fb_log_fn log;           /* may be NULL */
    void *log_ctx;
} fb_client_config_t;

/* What to send. recipients/topics: arrays of C strings. */
typedef struct {
    int type; /* Fluxbus__V1__MessageType value */
    const char *const *recipients;
    size_t n_recipients;
    const char *const *topics;
    size_t n_topics;
    const char *correlation_id; /* may be NULL */
    const uint8_t *in_reply_to; /* 16 bytes or NULL */
    const uint8_t *payload;
    size_t payload_len;
    const uint8_t *message_id; /* 16 bytes, or NULL for a random id */
    int64_t created_at_ms;     /* 0 = now */
    /* Detachable attachments (e.g. a sealed household, fb_seal_household):
     * their BLAKE2b-256 digests are signed in the body, the bytes travel in
     * Envelope.attachments. May be NULL / 0. */
    const ProtobufCBinaryData *attachments;
    size_t n_attachments;
} fb_outgoing_t;

/* The broker's answer to a send. */
typedef struct {
    uint8_t message_id[FB_MESSAGE_ID_BYTES];
    bool accepted;    /* true: Receipt, false: Nack */
    bool duplicate;   /* accepted before; this is the same message */
    fb_err_t reason;  /* FB_OK, or the Nack reason */
    char detail[256]; /* Nack detail */
    uint64_t store_seq;
    int64_t accepted_at_ms;
    uint8_t *receipt; /* the broker-signed envelope bytes (owned) */
    size_t receipt_len;
} fb_receipt_t;

/* A verified delivery. */
typedef struct {
    uint64_t store_seq;
    Fluxbus__V1__SignedBody *body; /* parsed after verification */
    uint8_t *envelope;             /* exact envelope bytes as signed by the sender */
    size_t envelope_len;
    uint8_t sender_pk[FB_SIGN_PK_BYTES];
} fb_delivery_t;

/* Connects and checks the broker answers (PING/WELCOME). Returns the client,
 * or NULL with *err set: FB_ERR_AUTH when the broker refused our CURVE key,
 * FB_ERR_TIMEOUT when it did not answer, FB_ERR_INVALID for a bad config. */
fb_client_t *fb_client_new(const fb_client_config_t *cfg, fb_err_t *err);

/* Closes the connection; safe on NULL and twice (*self_p is set to NULL). */
void fb_client_destroy(fb_client_t **self_p);

/* Actor id the broker bound this connection to (from WELCOME). */
const char *fb_client_actor(const fb_client_t *self);

/* How long fb_client_send and fb_client_send_raw wait for their answer
 * from now on (ms; 0 = 5000). A BilanRequest's receipt comes once its
 * bilan is computed (PROTOCOL.md 10.2): its sender may wait longer. */
void fb_client_set_timeout(fb_client_t *self, int timeout_ms);

/* Builds and signs an envelope for `msg` without sending it (caller frees
 * *out). The message id used is written to id_out if not NULL. */
fb_err_t fb_client_seal(fb_client_t *self, const fb_outgoing_t *msg, uint8_t **out, size_t *out_len,
                        uint8_t id_out[FB_MESSAGE_ID_BYTES]) __attribute__((warn_unused_result));

/* Seals and sends `msg`, then waits for the broker's signed answer, which is
 * verified with the broker's key. Returns FB_OK when accepted (receipt filled
 * in), the Nack's reason when refused (receipt->accepted false, detail set),
 * FB_ERR_TIMEOUT or FB_ERR_TRANSPORT when no answer came. To retry safely
 * after a timeout, seal once with fb_client_seal() and resend the SAME bytes
 * with fb_client_send_raw(): the broker answers with the original receipt
 * marked duplicate. Sealing again makes new bytes (new created_at and
 * sequence): with the same message id that is a CONFLICT. Free the receipt
 * with fb_receipt_clear(). */
fb_err_t fb_client_send(fb_client_t *self, const fb_outgoing_t *msg, fb_receipt_t *receipt)
    __attribute__((warn_unused_result));

/* Sends already-sealed envelope bytes as they are and waits for the answer
 * about message `id` (as fb_client_send). */
fb_err_t fb_client_send_raw(fb_client_t *self, const uint8_t *env, size_t len,
                            const uint8_t id[FB_MESSAGE_ID_BYTES], fb_receipt_t *receipt)
    __attribute__((warn_unused_result));

void fb_receipt_clear(fb_receipt_t *receipt);

/* Asks the broker for a durable subscription to `topic` ("caleol/74010").
 * FB_OK, or the refusal reason (FB_ERR_BAD_TOPIC, FB_ERR_NOT_AUTHORIZED). */
fb_err_t fb_client_subscribe(fb_client_t *self, const char *topic)
    __attribute__((warn_unused_result));

/* Asks the broker for the current encryption key of `actor` (KEYQUERY) and
 * checks the broker-signed KeyCert of the answer: the broker's key and
 * signature, type KEY_CERT, purpose KEY_PURPOSE_ENCRYPTION, the actor asked
 * about, a 32-byte key whose fb_key_id() is the certified key id. FB_OK with
 * the X25519 public key in out_pk and its id in out_key_id (either may be
 * NULL); the broker's refusal (FB_ERR_UNKNOWN_RECIPIENT: no such active
 * actor, FB_ERR_UNKNOWN_KEY: it has no valid encryption key); a verification
 * error (FB_ERR_BAD_SIGNATURE, FB_ERR_PROTOCOL, ...); FB_ERR_TIMEOUT after
 * timeout_ms (0 = the client's timeout). Deliveries arriving meanwhile are
 * kept for fb_client_recv(). */
fb_err_t fb_client_encryption_key(fb_client_t *self, const char *actor,
                                  uint8_t out_pk[FB_ENC_KEY_BYTES],
                                  char out_key_id[FB_KEY_ID_CHARS + 1], int timeout_ms)
    __attribute__((warn_unused_result));

/* Waits up to timeout_ms (-1 = forever) for the next delivery. The first call
 * announces the client as a receiver (HELLO). FB_OK with *out set (free with
 * fb_delivery_destroy), FB_ERR_TIMEOUT, or a verification error (the bad
 * delivery is logged, not acknowledged and not returned). */
fb_err_t fb_client_recv(fb_client_t *self, fb_delivery_t **out, int timeout_ms)
    __attribute__((warn_unused_result));

/* Tells the broker the delivery is handled; it will not be sent again,
 * unless the broker dies before it committed the ack (PROTOCOL.md 7.4): then
 * it comes again after the reconnection, and this client drops it (7.6). No
 * answer comes: FB_OK means the ACK was queued, not that it is on disk. */
fb_err_t fb_client_ack(fb_client_t *self, const fb_delivery_t *delivery);

void fb_delivery_destroy(fb_delivery_t **self_p);

#ifdef __cplusplus
}
#endif
#endif
