/* fuzz_broker - libFuzzer target: the whole broker pipeline (size cap,
 * decode, key and signature, body, sender, catalog, payload, dedup, routing,
 * store, signed answer) over a real connection, on the bus of fuzz_bus.h.
 *
 * The first byte picks a mode (FUZZ_BROKER_* in fuzz_support.h): the rest
 * is sent as the envelope itself, or signed with FUZZ_SENDER's fixed key as
 * a SignedBody (as it is, or with version, sender and key_id set to the
 * sender's) so that inputs get past the signature into routing, dedup and
 * the store, or signed with the sender's revoked key. The invariant: every
 * SEND gets a signed answer (a Receipt or a Nack the client verified with
 * the broker's key), about this message, within the client's timeout. The store keeps what earlier
 * inputs stored, so a repeated input meets dedup (duplicate or CONFLICT). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz_bus.h"
#include "fuzz_support.h"

/* An Envelope around body bytes, signed with keys (caller frees *out). */
static void s_seal_bytes(const fb_keys_t *keys, const uint8_t *body, size_t len, uint8_t **out,
                         size_t *out_len)
{
    uint8_t *pae = NULL, sig[FB_SIGNATURE_BYTES];
    size_t pae_len = 0;
    if (fb_envelope_pae(body, len, &pae, &pae_len) != FB_OK)
        fuzz_fail("PAE failed");
    crypto_sign_detached(sig, NULL, pae, pae_len, keys->sign_sk);
    free(pae);
    Fluxbus__V1__Envelope env = FLUXBUS__V1__ENVELOPE__INIT;
    env.body.data = (uint8_t *)body;
    env.body.len = len;
    env.signature.data = sig;
    env.signature.len = sizeof sig;
    env.key_id = (char *)keys->key_id;
    if (fb_codec_pack(&env.base, out, out_len) != FB_OK)
        fuzz_fail("pack failed");
}

/* The body bytes with the sender's identity (caller frees), or NULL if
 * they are not a SignedBody. */
static uint8_t *s_as_sender(const fb_keys_t *keys, const uint8_t *data, size_t len, size_t *out_len)
{
    ProtobufCMessage *msg = NULL;
    uint8_t *out = NULL;
    if (fb_codec_unpack(&fluxbus__v1__signed_body__descriptor, data, len, len, &msg) != FB_OK)
        return NULL;
    Fluxbus__V1__SignedBody *body = (Fluxbus__V1__SignedBody *)msg;
    char *sender = body->sender, *key_id = body->key_id;
    body->version = FB_PROTOCOL_VERSION;
    body->sender = (char *)keys->actor;
    body->key_id = (char *)keys->key_id;
    fb_err_t rc = fb_codec_pack(msg, &out, out_len);
    body->sender = sender; /* so that free releases the decoded strings */
    body->key_id = key_id;
    fb_codec_free(msg);
    if (rc != FB_OK)
        fuzz_fail("pack failed");
    return out;
}

/* The message id the broker's answer will be about: the body's, when the
 * broker can read one; otherwise its Nack carries none and answers the
 * oldest unanswered SEND, which is this one (any id does). */
static void s_expected_id(const uint8_t *env, size_t len, uint8_t id[FB_MESSAGE_ID_BYTES])
{
    Fluxbus__V1__Envelope *e = NULL;
    Fluxbus__V1__SignedBody *body = NULL;
    memset(id, 0, FB_MESSAGE_ID_BYTES);
    if (fb_envelope_decode(env, len, FUZZ_MAX_ENVELOPE, &e) == FB_OK &&
        fb_envelope_parse_body(e, &body) == FB_OK)
        memcpy(id, body->message_id.data, FB_MESSAGE_ID_BYTES);
    fb_body_free(body);
    fb_envelope_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fb_keys_t *sender = fuzz_bus_sender();
    if (size == 0)
        return 0;
    int mode = data[0] % FUZZ_BROKER_MODES;
    const fb_keys_t *key = mode == FUZZ_BROKER_OLD_KEY ? fuzz_bus_sender_revoked() : sender;
    const uint8_t *env = data + 1, *body = data + 1;
    size_t env_len = size - 1, body_len = size - 1;
    uint8_t *sealed = NULL, *rewritten = NULL;
    if (mode == FUZZ_BROKER_AS_SENDER || mode == FUZZ_BROKER_OLD_KEY)
        rewritten = s_as_sender(key, body, body_len, &body_len);
    if (rewritten)
        body = rewritten;
    if (mode != FUZZ_BROKER_RAW) {
        s_seal_bytes(key, body, body_len, &sealed, &env_len);
        env = sealed;
    }

    uint8_t id[FB_MESSAGE_ID_BYTES];
    fb_receipt_t r;
    s_expected_id(env, env_len, id);
    fb_err_t rc = fuzz_bus_send(env, env_len, id, &r);
    if (rc == FB_ERR_TIMEOUT || rc == FB_ERR_TRANSPORT || rc == FB_ERR_PROTOCOL)
        fuzz_fail("no answer from the broker (mode %d, %zu bytes): %s", mode, env_len,
                  fb_err_name(rc));
    if ((rc == FB_OK) != r.accepted || !r.receipt)
        fuzz_fail("answer %s but receipt accepted=%d", fb_err_name(rc), (int)r.accepted);
    fb_receipt_clear(&r);
    free(rewritten);
    free(sealed);
    return 0;
}
