/* envelope.c - signing and verifying envelopes (libsodium Ed25519).
 *
 * Owns the pre-authentication encoding (PAE) and the order of operations on
 * receipt: decode the outer Envelope (size cap first), verify the signature
 * over the exact body bytes, and only then parse the body. It never
 * re-encodes a body it received. */
#include "fluxbus/envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "fluxbus/codec.h"

#define S_PAE_MAGIC "DSSEv1"

fb_err_t fb_envelope_pae(const uint8_t *body, size_t body_len, uint8_t **out, size_t *out_len)
{
    static const char ctx[] = FB_ENVELOPE_CONTEXT;
    char head[160];
    int n = snprintf(head, sizeof head, S_PAE_MAGIC " %zu %s %zu ", sizeof ctx - 1, ctx, body_len);
    if (n < 0 || (size_t)n >= sizeof head)
        return FB_ERR_INVALID;
    uint8_t *buf = malloc((size_t)n + body_len);
    if (!buf)
        return FB_ERR_NOMEM;
    memcpy(buf, head, (size_t)n);
    if (body_len)
        memcpy(buf + n, body, body_len);
    *out = buf;
    *out_len = (size_t)n + body_len;
    return FB_OK;
}

fb_err_t fb_envelope_seal(const Fluxbus__V1__SignedBody *body, const fb_keys_t *keys, uint8_t **out,
                          size_t *out_len)
{
    return fb_envelope_seal_attached((Fluxbus__V1__SignedBody *)body, NULL, 0, keys, out, out_len);
}

/* Signs the packed body and packs the Envelope with its attachments. */
static fb_err_t s_seal_bytes(const uint8_t *body, size_t body_len, const ProtobufCBinaryData *att,
                             size_t n, const fb_keys_t *keys, uint8_t **out, size_t *out_len)
{
    uint8_t *pae = NULL;
    size_t pae_len = 0;
    fb_err_t rc = fb_envelope_pae(body, body_len, &pae, &pae_len);
    if (rc == FB_OK) {
        uint8_t sig[FB_SIGNATURE_BYTES];
        crypto_sign_detached(sig, NULL, pae, pae_len, keys->sign_sk);
        Fluxbus__V1__Envelope env = FLUXBUS__V1__ENVELOPE__INIT;
        env.body.data = (uint8_t *)body;
        env.body.len = body_len;
        env.signature.data = sig;
        env.signature.len = sizeof sig;
        env.key_id = (char *)keys->key_id;
        env.n_attachments = n;
        env.attachments = (ProtobufCBinaryData *)att;
        rc = fb_codec_pack(&env.base, out, out_len);
    }
    free(pae);
    return rc;
}

/* Signs body (its attachment digests already set) and packs the Envelope. */
static fb_err_t s_sign_and_pack(const Fluxbus__V1__SignedBody *body, const ProtobufCBinaryData *att,
                                size_t n, const fb_keys_t *keys, uint8_t **out, size_t *out_len)
{
    uint8_t *body_bytes = NULL;
    size_t body_len = 0;
    fb_err_t rc = fb_codec_pack(&body->base, &body_bytes, &body_len);
    if (rc == FB_OK)
        rc = s_seal_bytes(body_bytes, body_len, att, n, keys, out, out_len);
    free(body_bytes);
    return rc;
}

fb_err_t fb_envelope_seal_packed(const uint8_t *body, size_t body_len, const fb_keys_t *keys,
                                 uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (!keys || !keys->has_secret || !body)
        return FB_ERR_INVALID;
    return s_seal_bytes(body, body_len, NULL, 0, keys, out, out_len);
}

fb_err_t fb_envelope_seal_attached(Fluxbus__V1__SignedBody *body, const ProtobufCBinaryData *att,
                                   size_t n, const fb_keys_t *keys, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (!keys || !keys->has_secret || (n && !att))
        return FB_ERR_INVALID;
    uint8_t *digests = n ? malloc(n * FB_DIGEST_BYTES) : NULL;
    ProtobufCBinaryData *refs = n ? calloc(n, sizeof *refs) : NULL;
    if (n && (!digests || !refs)) {
        free(digests);
        free(refs);
        return FB_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        fb_blake2b256(att[i].data, att[i].len, digests + i * FB_DIGEST_BYTES);
        refs[i].data = digests + i * FB_DIGEST_BYTES;
        refs[i].len = FB_DIGEST_BYTES;
    }
    size_t saved_n = body->n_attachment_digests;
    ProtobufCBinaryData *saved = body->attachment_digests;
    body->n_attachment_digests = n;
    body->attachment_digests = refs;
    fb_err_t rc = s_sign_and_pack(body, att, n, keys, out, out_len);
    body->n_attachment_digests = saved_n;
    body->attachment_digests = saved;
    free(refs);
    free(digests);
    return rc;
}

fb_err_t fb_envelope_skeleton(const uint8_t *data, size_t len, size_t cap, uint8_t **out,
                              size_t *out_len)
{
    Fluxbus__V1__Envelope *env = NULL;
    fb_err_t rc = fb_envelope_decode(data, len, cap, &env);
    if (rc != FB_OK)
        return rc;
    size_t n = env->n_attachments;
    env->n_attachments = 0;
    rc = fb_codec_pack(&env->base, out, out_len);
    env->n_attachments = n; /* so that free releases them */
    fb_envelope_free(env);
    return rc;
}

const ProtobufCBinaryData *fb_envelope_attachment(const Fluxbus__V1__Envelope *env,
                                                  const uint8_t *digest, size_t digest_len)
{
    if (!digest || digest_len != FB_DIGEST_BYTES)
        return NULL;
    for (size_t i = 0; i < env->n_attachments; i++) {
        uint8_t d[FB_DIGEST_BYTES];
        fb_blake2b256(env->attachments[i].data, env->attachments[i].len, d);
        if (sodium_memcmp(d, digest, FB_DIGEST_BYTES) == 0)
            return &env->attachments[i];
    }
    return NULL;
}

fb_err_t fb_envelope_decode(const uint8_t *data, size_t len, size_t cap,
                            Fluxbus__V1__Envelope **out)
{
    ProtobufCMessage *msg = NULL;
    *out = NULL;
    fb_err_t rc = fb_codec_unpack(&fluxbus__v1__envelope__descriptor, data, len, cap, &msg);
    if (rc != FB_OK)
        return rc;
    Fluxbus__V1__Envelope *env = (Fluxbus__V1__Envelope *)msg;
    if (env->signature.len != FB_SIGNATURE_BYTES || env->body.len == 0) {
        fb_codec_free(msg);
        return FB_ERR_MALFORMED;
    }
    *out = env;
    return FB_OK;
}

fb_err_t fb_envelope_verify(const Fluxbus__V1__Envelope *env, const uint8_t pk[FB_SIGN_PK_BYTES])
{
    uint8_t *pae = NULL;
    size_t pae_len = 0;
    if (env->signature.len != FB_SIGNATURE_BYTES)
        return FB_ERR_BAD_SIGNATURE;
    fb_err_t rc = fb_envelope_pae(env->body.data, env->body.len, &pae, &pae_len);
    if (rc != FB_OK)
        return rc;
    int bad = crypto_sign_verify_detached(env->signature.data, pae, pae_len, pk);
    free(pae);
    return bad ? FB_ERR_BAD_SIGNATURE : FB_OK;
}

/* Attachments against the signed digests: same count, same BLAKE2b-256, in
 * order. A skeleton (no attachments at all) passes only if allowed. */
static fb_err_t s_check_attachments(const Fluxbus__V1__Envelope *env,
                                    const Fluxbus__V1__SignedBody *body, int allow_skeleton)
{
    if (env->n_attachments == 0 && allow_skeleton)
        return FB_OK;
    if (env->n_attachments != body->n_attachment_digests)
        return FB_ERR_BAD_SIGNATURE;
    for (size_t i = 0; i < env->n_attachments; i++) {
        uint8_t d[FB_DIGEST_BYTES];
        fb_blake2b256(env->attachments[i].data, env->attachments[i].len, d);
        if (body->attachment_digests[i].len != FB_DIGEST_BYTES ||
            sodium_memcmp(d, body->attachment_digests[i].data, FB_DIGEST_BYTES) != 0)
            return FB_ERR_BAD_SIGNATURE;
    }
    return FB_OK;
}

static fb_err_t s_parse_body(const Fluxbus__V1__Envelope *env, int allow_skeleton,
                             Fluxbus__V1__SignedBody **out)
{
    ProtobufCMessage *msg = NULL;
    *out = NULL;
    /* The envelope was already size-checked as a whole; the body is smaller. */
    fb_err_t rc = fb_codec_unpack(&fluxbus__v1__signed_body__descriptor, env->body.data,
                                  env->body.len, env->body.len, &msg);
    if (rc != FB_OK)
        return rc;
    Fluxbus__V1__SignedBody *body = (Fluxbus__V1__SignedBody *)msg;
    if (body->version != FB_PROTOCOL_VERSION)
        rc = FB_ERR_UNSUPPORTED_VERSION;
    else if (body->message_id.len != FB_MESSAGE_ID_BYTES || !body->sender || !*body->sender)
        rc = FB_ERR_MALFORMED;
    else if (!env->key_id || strcmp(body->key_id, env->key_id) != 0)
        rc = FB_ERR_SENDER_MISMATCH;
    else
        rc = s_check_attachments(env, body, allow_skeleton);
    if (rc != FB_OK) {
        fb_codec_free(msg);
        return rc;
    }
    *out = body;
    return FB_OK;
}

fb_err_t fb_envelope_parse_body(const Fluxbus__V1__Envelope *env, Fluxbus__V1__SignedBody **out)
{
    return s_parse_body(env, 0, out);
}

fb_err_t fb_envelope_parse_skeleton(const Fluxbus__V1__Envelope *env, Fluxbus__V1__SignedBody **out)
{
    return s_parse_body(env, 1, out);
}

void fb_envelope_free(Fluxbus__V1__Envelope *env)
{
    fb_codec_free(env ? &env->base : NULL);
}

void fb_body_free(Fluxbus__V1__SignedBody *body)
{
    fb_codec_free(body ? &body->base : NULL);
}

void fb_message_id_new(uint8_t id[FB_MESSAGE_ID_BYTES])
{
    if (sodium_init() < 0) {
        /* Cannot happen once libsodium initialised; never hand out zeros silently. */
        memset(id, 0xff, FB_MESSAGE_ID_BYTES);
        return;
    }
    randombytes_buf(id, FB_MESSAGE_ID_BYTES);
}

int64_t fb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fb_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
    crypto_hash_sha256(out, data, len);
}

void fb_blake2b256(const uint8_t *data, size_t len, uint8_t out[FB_DIGEST_BYTES])
{
    crypto_generichash(out, FB_DIGEST_BYTES, data, len, NULL, 0);
}
