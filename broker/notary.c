/* notary.c - builds and signs the broker's own messages (Receipt, Nack,
 * KeyCert). It owns nothing else: storing and sending them is the broker's
 * job. */
#include "notary.h"

#include <stdlib.h>

#include "fluxbus/codec.h"
#include "fluxbus/envelope.h"

/* Wraps a packed payload in a SignedBody from the broker and seals it. */
static fb_err_t s_sign(notary_t *self, int type, const char *to, const uint8_t *in_reply_to,
                       const ProtobufCMessage *payload, uint8_t **out, size_t *out_len)
{
    uint8_t id[FB_MESSAGE_ID_BYTES];
    uint8_t *bytes = NULL;
    size_t len = 0;
    fb_err_t rc = fb_codec_pack(payload, &bytes, &len);
    if (rc != FB_OK)
        return rc;
    fb_message_id_new(id);
    Fluxbus__V1__SignedBody body = FLUXBUS__V1__SIGNED_BODY__INIT;
    char *recipients[1] = {(char *)to};
    body.version = FB_PROTOCOL_VERSION;
    body.message_id.data = id;
    body.message_id.len = sizeof id;
    body.sender = (char *)self->keys->actor;
    body.key_id = (char *)self->keys->key_id;
    body.recipients = to ? recipients : NULL;
    body.n_recipients = to ? 1 : 0;
    body.sequence = ++self->sequence;
    body.created_at_ms = fb_now_ms();
    body.type = (Fluxbus__V1__MessageType)type;
    if (in_reply_to) {
        body.in_reply_to.data = (uint8_t *)in_reply_to;
        body.in_reply_to.len = FB_MESSAGE_ID_BYTES;
    }
    body.payload.data = bytes;
    body.payload.len = len;
    rc = fb_envelope_seal(&body, self->keys, out, out_len);
    free(bytes);
    return rc;
}

fb_err_t notary_receipt(notary_t *self, const char *sender, const uint8_t *id, uint64_t seq,
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
    fb_err_t rc = s_sign(self, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_RECEIPT, sender, id, &r.base,
                         out, out_len);
    free(to);
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
