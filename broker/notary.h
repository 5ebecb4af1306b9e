/* notary.h - what the broker signs: receipts, nacks, key certificates and
 * the domain messages it sends itself. Each is a SignedBody from the
 * broker's actor, sealed with its key. */
#ifndef FLUXBUS_BROKER_NOTARY_H
#define FLUXBUS_BROKER_NOTARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fluxbus/err.h"
#include "fluxbus/keys.h"
#include "router.h"
#include "store.h"

typedef struct {
    const fb_keys_t *keys; /* the broker's keys (borrowed) */
    uint64_t sequence;     /* per-sender sequence of the broker's own messages */
} notary_t;

/* Receipt for message `id` of `sender`, stored at `seq`. Caller frees *out. */
fb_err_t notary_receipt(notary_t *self, const char *sender, const uint8_t *id, uint64_t seq,
                        int64_t accepted_at_ms, bool duplicate, const uint8_t sha256[32],
                        const router_targets_t *targets, uint8_t **out, size_t *out_len);

/* notary_receipt in two steps, so that the signature (the costly part)
 * can be made off the loop thread: the Receipt's SignedBody packed, not
 * signed (caller frees *out)... */
fb_err_t notary_receipt_body(notary_t *self, const char *sender, const uint8_t *id, uint64_t seq,
                             int64_t accepted_at_ms, bool duplicate, const uint8_t sha256[32],
                             const router_targets_t *targets, uint8_t **out, size_t *out_len);

/* ...then sealed with the broker's key. Reads the keys only: safe from
 * several threads at once. Caller frees *out. */
fb_err_t notary_seal(const notary_t *self, const uint8_t *body, size_t len, uint8_t **out,
                     size_t *out_len);

/* Nack for message `id` (NULL when the body could not be read). */
fb_err_t notary_nack(notary_t *self, const char *to, const uint8_t *id, fb_err_t reason,
                     const char *detail, uint8_t **out, size_t *out_len);

/* KeyCert binding signing key key->key_id to key->actor (sent beside each
 * delivery). Caller frees *out. */
fb_err_t notary_keycert(notary_t *self, const store_key_t *key, uint8_t **out, size_t *out_len);

/* KeyCert binding key->key_id to key->actor for `purpose`, a
 * Fluxbus__V1__KeyPurpose value (KEY_PURPOSE_ENCRYPTION in a KEYANSWER).
 * Caller frees *out. */
fb_err_t notary_keycert_for(notary_t *self, const store_key_t *key, int purpose, uint8_t **out,
                            size_t *out_len);

/* A domain message of `type` from the broker itself (e.g. DeadlineExpired),
 * addressed to the n_to actors of `to`, about correlation_id, with the
 * given 16-byte message_id (NULL: a random one). Sealed like any sender's
 * message, with the broker's signing key. Caller frees *out. */
fb_err_t notary_message(notary_t *self, int type, const char *const *to, size_t n_to,
                        const char *correlation_id, const uint8_t *message_id,
                        const ProtobufCMessage *payload, uint8_t **out, size_t *out_len);

/* As notary_message, to one actor, in reply to its message `in_reply_to`
 * (16 bytes), about no vacancy: the broker's answer to a request
 * addressed to it (a BilanAnnuel for a BilanRequest). Caller frees *out. */
fb_err_t notary_reply(notary_t *self, int type, const char *to, const uint8_t *in_reply_to,
                      const uint8_t *message_id, const ProtobufCMessage *payload, uint8_t **out,
                      size_t *out_len);

#endif
