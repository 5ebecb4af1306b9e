/* notary.c - builds and signs the broker's own messages (Receipt, Nack,
 * KeyCert, and the domain messages the broker sends itself, such as
 * DeadlineExpired, or in answer, such as the BilanAnnuel). It owns nothing else: storing and
 * sending them is the broker's job. */
#include "notary.h"

#include <stdlib.h>
#include <string.h>

#include "fluxbus/codec.h"
#include "fluxbus/envelope.h"

/* What a SignedBody from the broker says besides its payload. */
typedef struct {
    int type;
    const char *const *to; /* recipients */
    size_t n_to;
    const uint8_t *in_reply_to;          /* NULL: none */
    const char *correlation_id;          /* NULL: none */
    const uint8_t *message_id;           /* NULL: a random one */
    uint8_t id_out[FB_MESSAGE_ID_BYTES]; /* the id used */
} s_head_t;

/* Wraps a packed payload in a SignedBody from the broker and packs it
 * (not signed yet). */
static fb_err_t s_pack_body(notary_t *self, s_head_t *head, const ProtobufCMessage *payload,
                            uint8_t **out, size_t *out_len)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    fb_err_t rc = fb_codec_pack(payload, &bytes, &len);
    if (rc != FB_OK)
        return rc;
    if (head->message_id)
        memcpy(head->id_out, head->message_id, FB_MESSAGE_ID_BYTES);
    else
        fb_message_id_new(head->id_out);
    Fluxbus__V1__SignedBody body = FLUXBUS__V1__SIGNED_BODY__INIT;
    body.version = FB_PROTOCOL_VERSION;
    body.message_id.data = head->id_out;
    body.message_id.len = FB_MESSAGE_ID_BYTES;
    body.sender = (char *)self->keys->actor;
    body.key_id = (char *)self->keys->key_id;
    body.recipients = (char **)head->to;
    body.n_recipients = head->n_to;
    body.sequence = ++self->sequence;
    body.created_at_ms = fb_now_ms();
    body.type = (Fluxbus__V1__MessageType)head->type;
    if (head->correlation_id)
        body.correlation_id = (char *)head->correlation_id;
    const uint8_t *in_reply_to = head->in_reply_to;
    if (in_reply_to) {
        body.in_reply_to.data = (uint8_t *)in_reply_to;
        body.in_reply_to.len = FB_MESSAGE_ID_BYTES;
    }
    body.payload.data = bytes;
    body.payload.len = len;
    rc = fb_codec_pack(&body.base, out, out_len);
    free(bytes);
    return rc;
}

/* s_pack_body, then sealed with the broker's key. */
static fb_err_t s_sign_body(notary_t *self, s_head_t *head, const ProtobufCMessage *payload,
                            uint8_t **out, size_t *out_len)
{
    uint8_t *body = NULL;
    size_t len = 0;
    fb_err_t rc = s_pack_body(self, head, payload, &body, &len);
    if (rc == FB_OK)
        rc = notary_seal(self, body, len, out, out_len);
    free(body);
    return rc;
}

fb_err_t notary_seal(const notary_t *self, const uint8_t *body, size_t len, uint8_t **out,
                     size_t *out_len)
{
    return fb_envelope_seal_packed(body, len, self->keys, out, out_len);
}

/* A broker answer or certificate: to one actor (or none), maybe in reply. */
static fb_err_t s_sign(notary_t *self, int type, const char *to, const uint8_t *in_reply_to,
                       const ProtobufCMessage *payload, uint8_t **out, size_t *out_len)
{
    const char *recipients[1] = {to};
    s_head_t head = {
        .type = type, .to = to ? recipients : NULL, .n_to = to ? 1 : 0, .in_reply_to = in_reply_to};
    return s_sign_body(self, &head, payload, out, out_len);
}

fb_err_t notary_receipt_body(notary_t *self, const char *sender, const uint8_t *id, uint64_t seq,
                             int64_t accepted_at_ms, bool duplicate, const uint8_t sha256[32],
                             const router_targets_t *targets, uint8_t **out, size_t *out_len)
{
    Fluxbus__V1__Receipt r = FLUXBUS__V1__RECEIPT__INIT;
    char **to = NULL;
    if (targets && targets->n) {
        to = malloc(targets->n * sizeof *to);
        if (!to)
            return FB_ERR_NOMEM;
        for (size_t i = 0; i < targets->n; i++)
            to[i] = targets->actor[i];
        r.delivered_to = to;
        r.n_delivered_to = targets->n;
    }
    r.message_id.data = (uint8_t *)id;
    r.message_id.len = FB_MESSAGE_ID_BYTES;
    r.sender = (char *)sender;
    r.store_seq = seq;
    r.accepted_at_ms = accepted_at_ms;
    r.duplicate = duplicate;
    r.envelope_sha256.data = (uint8_t *)sha256;
    r.envelope_sha256.len = 32;
    const char *recipients[1] = {sender};
    s_head_t head = {.type = FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_RECEIPT,
                     .to = recipients,
                     .n_to = 1,
                     .in_reply_to = id};
    fb_err_t rc = s_pack_body(self, &head, &r.base, out, out_len);
    free(to);
    return rc;
}

fb_err_t notary_receipt(notary_t *self, const char *sender, const uint8_t *id, uint64_t seq,
                        int64_t accepted_at_ms, bool duplicate, const uint8_t sha256[32],
                        const router_targets_t *targets, uint8_t **out, size_t *out_len)
{
    uint8_t *body = NULL;
    size_t len = 0;
    fb_err_t rc = notary_receipt_body(self, sender, id, seq, accepted_at_ms, duplicate, sha256,
                                      targets, &body, &len);
    if (rc == FB_OK)
        rc = notary_seal(self, body, len, out, out_len);
    free(body);
    return rc;
}

fb_err_t notary_nack(notary_t *self, const char *to, const uint8_t *id, fb_err_t reason,
                     const char *detail, uint8_t **out, size_t *out_len)
{
    Fluxbus__V1__Nack n = FLUXBUS__V1__NACK__INIT;
    if (id) {
        n.message_id.data = (uint8_t *)id;
        n.message_id.len = FB_MESSAGE_ID_BYTES;
    }
    n.reason = (Fluxbus__V1__ReasonCode)fb_err_to_reason(reason);
    n.detail = (char *)(detail ? detail : "");
    return s_sign(self, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_NACK, to, id, &n.base, out,
                  out_len);
}

fb_err_t notary_keycert(notary_t *self, const store_key_t *key, uint8_t **out, size_t *out_len)
{
    return notary_keycert_for(self, key, FLUXBUS__V1__KEY_PURPOSE__KEY_PURPOSE_SIGNING, out,
                              out_len);
}

fb_err_t notary_keycert_for(notary_t *self, const store_key_t *key, int purpose, uint8_t **out,
                            size_t *out_len)
{
    Fluxbus__V1__KeyCert kc = FLUXBUS__V1__KEY_CERT__INIT;
    kc.actor_id = (char *)key->actor;
    kc.key_id = (char *)key->key_id;
    kc.public_key.data = (uint8_t *)key->public_key;
    kc.public_key.len = FB_SIGN_PK_BYTES;
    kc.valid_from_ms = key->valid_from_ms;
    kc.valid_until_ms = key->valid_until_ms;
    kc.purpose = (Fluxbus__V1__KeyPurpose)purpose;
    return s_sign(self, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_KEY_CERT, NULL, NULL, &kc.base, out,
                  out_len);
}

fb_err_t notary_message(notary_t *self, int type, const char *const *to, size_t n_to,
                        const char *correlation_id, const uint8_t *message_id,
                        const ProtobufCMessage *payload, uint8_t **out, size_t *out_len)
{
    s_head_t head = {.type = type,
                     .to = to,
                     .n_to = n_to,
                     .correlation_id = correlation_id,
                     .message_id = message_id};
    return s_sign_body(self, &head, payload, out, out_len);
}

fb_err_t notary_reply(notary_t *self, int type, const char *to, const uint8_t *in_reply_to,
                      const uint8_t *message_id, const ProtobufCMessage *payload, uint8_t **out,
                      size_t *out_len)
{
    const char *recipients[1] = {to};
    s_head_t head = {.type = type,
                     .to = recipients,
                     .n_to = 1,
                     .in_reply_to = in_reply_to,
                     .message_id = message_id};
    return s_sign_body(self, &head, payload, out, out_len);
}
