/* test_envelope.c - sealing and opening envelopes (lib/envelope.c): the
 * signature covers the DSSE-style PAE of the exact body bytes, any change to
 * a sealed envelope is refused, and each receive-side check (decode, verify,
 * parse) refuses what its contract says it refuses. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "fluxbus/codec.h"
#include "fluxbus/envelope.h"
#include "fluxbus/keys.h"
#include "fluxbus/v1/envelope.pb-c.h"

#define S_SENDER "bailleur:552046955"
#define S_RECIPIENT "reservataire:action-logement"

static const uint8_t s_message_id[FB_MESSAGE_ID_BYTES] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
static const uint8_t s_payload[] = {0x0a, 0x04, 't', 'e', 's', 't'};
static char *s_recipients[] = {S_RECIPIENT};

/* A valid body from `keys`; the strings it points to outlive the test. */
static Fluxbus__V1__SignedBody s_body(const fb_keys_t *keys)
{
    Fluxbus__V1__SignedBody body = FLUXBUS__V1__SIGNED_BODY__INIT;
    body.version = FB_PROTOCOL_VERSION;
    body.message_id.data = (uint8_t *)s_message_id;
    body.message_id.len = sizeof s_message_id;
    body.sender = (char *)keys->actor;
    body.key_id = (char *)keys->key_id;
    body.n_recipients = 1;
    body.recipients = s_recipients;
    body.sequence = 42;
    body.created_at_ms = 1767225600000;
    body.type = FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_ORIENTATION;
    body.correlation_id = "vac-2026-0001";
    body.payload.data = (uint8_t *)s_payload;
    body.payload.len = sizeof s_payload;
    return body;
}

static fb_keys_t s_keys(const char *actor)
{
    fb_keys_t keys;
    assert_int_equal(fb_keys_generate(&keys, actor), FB_OK);
    return keys;
}

/* Seals body with keys; asserts success. Caller frees *out. */
static void s_seal(const Fluxbus__V1__SignedBody *body, const fb_keys_t *keys, uint8_t **out,
                   size_t *out_len)
{
    assert_int_equal(fb_envelope_seal(body, keys, out, out_len), FB_OK);
    assert_non_null(*out);
    assert_true(*out_len > 0);
}

/* The receive path: decode, verify with pk, parse. Returns the first refusal;
 * on FB_OK *body_out (if not NULL) holds the parsed body. */
static fb_err_t s_open(const uint8_t *data, size_t len, const uint8_t pk[FB_SIGN_PK_BYTES],
                       Fluxbus__V1__SignedBody **body_out)
{
    Fluxbus__V1__Envelope *env = NULL;
    Fluxbus__V1__SignedBody *body = NULL;
    fb_err_t rc = fb_envelope_decode(data, len, FB_DEFAULT_MAX_ENVELOPE, &env);
    if (rc == FB_OK)
        rc = fb_envelope_verify(env, pk);
    if (rc == FB_OK)
        rc = fb_envelope_parse_body(env, &body);
    fb_envelope_free(env);
    if (body_out)
        *body_out = body;
    else
        fb_body_free(body);
    return rc;
}

/* Packs an Envelope built by hand; caller frees *out. */
static void s_pack_envelope(const Fluxbus__V1__Envelope *env, uint8_t **out, size_t *out_len)
{
    assert_int_equal(fb_codec_pack(&env->base, out, out_len), FB_OK);
}

/* The example of use: a bailleur seals an orientation, the receiver decodes,
 * verifies and parses it and gets the same body back. */
static void test_envelope_seal_then_open_round_trips(void **state)
{
    fb_keys_t keys = s_keys(S_SENDER);
    Fluxbus__V1__SignedBody body = s_body(&keys);
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    s_seal(&body, &keys, &sealed, &sealed_len);

    Fluxbus__V1__Envelope *env = NULL;
    assert_int_equal(fb_envelope_decode(sealed, sealed_len, FB_DEFAULT_MAX_ENVELOPE, &env), FB_OK);
    assert_non_null(env);
    assert_string_equal(env->key_id, keys.key_id);
    assert_int_equal(env->signature.len, FB_SIGNATURE_BYTES);
    assert_int_equal(fb_envelope_verify(env, keys.sign_pk), FB_OK);

    Fluxbus__V1__SignedBody *got = NULL;
    assert_int_equal(fb_envelope_parse_body(env, &got), FB_OK);
    assert_non_null(got);
    assert_int_equal(got->version, FB_PROTOCOL_VERSION);
    assert_int_equal(got->message_id.len, FB_MESSAGE_ID_BYTES);
    assert_memory_equal(got->message_id.data, s_message_id, FB_MESSAGE_ID_BYTES);
    assert_string_equal(got->sender, S_SENDER);
    assert_string_equal(got->key_id, keys.key_id);
    assert_int_equal(got->n_recipients, 1);
    assert_string_equal(got->recipients[0], S_RECIPIENT);
    assert_int_equal(got->sequence, 42);
    assert_int_equal(got->created_at_ms, 1767225600000);
    assert_int_equal(got->type, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_ORIENTATION);
    assert_string_equal(got->correlation_id, "vac-2026-0001");
    assert_int_equal(got->payload.len, sizeof s_payload);
    assert_memory_equal(got->payload.data, s_payload, sizeof s_payload);

    /* The body travels as the exact bytes that were packed, never re-encoded. */
    uint8_t *packed = NULL;
    size_t packed_len = 0;
    assert_int_equal(fb_codec_pack(&body.base, &packed, &packed_len), FB_OK);
    assert_int_equal(env->body.len, packed_len);
    assert_memory_equal(env->body.data, packed, packed_len);

    free(packed);
    fb_body_free(got);
    fb_envelope_free(env);
    free(sealed);
    fb_keys_wipe(&keys);
}

static void test_envelope_pae_is_dsse_v1_of_the_exact_body(void **state)
{
    /* Written out by hand: the context is 48 bytes long. */
    static const char expected[] =
        "DSSEv1 48 application/vnd.fluxbus.signed-body+protobuf;v=1 5 hello";
    assert_int_equal(strlen(FB_ENVELOPE_CONTEXT), 48);
    uint8_t *pae = NULL;
    size_t pae_len = 0;
    assert_int_equal(fb_envelope_pae((const uint8_t *)"hello", 5, &pae, &pae_len), FB_OK);
    assert_int_equal(pae_len, sizeof expected - 1);
    assert_memory_equal(pae, expected, pae_len);
    free(pae);

    /* Binary bodies (NUL bytes included) are copied as they are, and the
     * length is decimal without leading zeros. */
    uint8_t body[300];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 7);
    static const char head[] = "DSSEv1 48 " FB_ENVELOPE_CONTEXT " 300 ";
    assert_int_equal(fb_envelope_pae(body, sizeof body, &pae, &pae_len), FB_OK);
    assert_int_equal(pae_len, sizeof head - 1 + sizeof body);
    assert_memory_equal(pae, head, sizeof head - 1);
    assert_memory_equal(pae + sizeof head - 1, body, sizeof body);
    free(pae);

    /* An empty body still gets its length field. */
    static const char empty[] = "DSSEv1 48 " FB_ENVELOPE_CONTEXT " 0 ";
    assert_int_equal(fb_envelope_pae(NULL, 0, &pae, &pae_len), FB_OK);
    assert_int_equal(pae_len, sizeof empty - 1);
    assert_memory_equal(pae, empty, pae_len);
    free(pae);
}

static void test_envelope_signature_covers_the_pae_not_the_bare_body(void **state)
{
    fb_keys_t keys = s_keys(S_SENDER);
    Fluxbus__V1__SignedBody body = s_body(&keys);
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    s_seal(&body, &keys, &sealed, &sealed_len);
    Fluxbus__V1__Envelope *env = NULL;
    assert_int_equal(fb_envelope_decode(sealed, sealed_len, FB_DEFAULT_MAX_ENVELOPE, &env), FB_OK);

    /* Rebuild the PAE by hand and check it with libsodium directly. */
    char head[128];
    int n = snprintf(head, sizeof head, "DSSEv1 %zu %s %zu ", strlen(FB_ENVELOPE_CONTEXT),
                     FB_ENVELOPE_CONTEXT, env->body.len);
    assert_true(n > 0 && (size_t)n < sizeof head);
    size_t pae_len = (size_t)n + env->body.len;
    uint8_t *pae = malloc(pae_len);
    assert_non_null(pae);
    memcpy(pae, head, (size_t)n);
    memcpy(pae + n, env->body.data, env->body.len);
    assert_int_equal(crypto_sign_verify_detached(env->signature.data, pae, pae_len, keys.sign_pk),
                     0);
    assert_int_not_equal(crypto_sign_verify_detached(env->signature.data, env->body.data,
                                                     env->body.len, keys.sign_pk),
                         0);
    free(pae);
    fb_envelope_free(env);
    free(sealed);
    fb_keys_wipe(&keys);
}

static void test_envelope_refuses_every_single_bit_flip(void **state)
{
    fb_keys_t keys = s_keys("b:1");
    /* A small envelope: only the fields the receive path requires. */
    Fluxbus__V1__SignedBody body = FLUXBUS__V1__SIGNED_BODY__INIT;
    body.version = FB_PROTOCOL_VERSION;
    body.message_id.data = (uint8_t *)s_message_id;
    body.message_id.len = sizeof s_message_id;
    body.sender = keys.actor;
    body.key_id = keys.key_id;
    body.type = FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_ORIENTATION;
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    s_seal(&body, &keys, &sealed, &sealed_len);
    assert_int_equal(s_open(sealed, sealed_len, keys.sign_pk, NULL), FB_OK);

    for (size_t bit = 0; bit < 8 * sealed_len; bit++) {
        sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        fb_err_t rc = s_open(sealed, sealed_len, keys.sign_pk, NULL);
        if (rc == FB_OK)
            fail_msg("flipping bit %zu (byte %zu of %zu) was accepted", bit, bit / 8, sealed_len);
        sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* Flipped back: the original still opens. */
    assert_int_equal(s_open(sealed, sealed_len, keys.sign_pk, NULL), FB_OK);
    free(sealed);
    fb_keys_wipe(&keys);
}

static void test_envelope_verify_rejects_another_key(void **state)
{
    fb_keys_t keys = s_keys(S_SENDER);
    fb_keys_t other = s_keys(S_SENDER);
    Fluxbus__V1__SignedBody body = s_body(&keys);
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    s_seal(&body, &keys, &sealed, &sealed_len);
    Fluxbus__V1__Envelope *env = NULL;
    assert_int_equal(fb_envelope_decode(sealed, sealed_len, FB_DEFAULT_MAX_ENVELOPE, &env), FB_OK);
    assert_int_equal(fb_envelope_verify(env, other.sign_pk), FB_ERR_BAD_SIGNATURE);
    assert_int_equal(fb_envelope_verify(env, keys.sign_pk), FB_OK);
    fb_envelope_free(env);
    free(sealed);
    fb_keys_wipe(&keys);
    fb_keys_wipe(&other);
}

static void test_envelope_seal_refuses_public_only_keys(void **state)
{
    fb_keys_t keys = s_keys(S_SENDER);
    Fluxbus__V1__SignedBody body = s_body(&keys);
    keys.has_secret = false;
    uint8_t *sealed = (uint8_t *)"not touched";
    size_t sealed_len = 99;
    assert_int_equal(fb_envelope_seal(&body, &keys, &sealed, &sealed_len), FB_ERR_INVALID);
    assert_null(sealed);
    assert_int_equal(sealed_len, 0);
    fb_keys_wipe(&keys);
}

static void test_envelope_decode_rejects_signature_not_64_bytes(void **state)
{
    uint8_t body[] = {0x08, 0x01};
    uint8_t sig[FB_SIGNATURE_BYTES + 1] = {0};
    const size_t lens[] = {0, 1, FB_SIGNATURE_BYTES - 1, FB_SIGNATURE_BYTES + 1};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        Fluxbus__V1__Envelope env = FLUXBUS__V1__ENVELOPE__INIT;
        env.body.data = body;
        env.body.len = sizeof body;
        env.signature.data = sig;
        env.signature.len = lens[i];
        env.key_id = "0123456789abcdef";
        uint8_t *packed = NULL;
        size_t packed_len = 0;
        s_pack_envelope(&env, &packed, &packed_len);
        Fluxbus__V1__Envelope *out = (Fluxbus__V1__Envelope *)1;
        assert_int_equal(fb_envelope_decode(packed, packed_len, FB_DEFAULT_MAX_ENVELOPE, &out),
                         FB_ERR_MALFORMED);
        assert_null(out);
        free(packed);

        /* verify, called on such an envelope anyway, does not read past it. */
        assert_int_equal(fb_envelope_verify(&env, sig), FB_ERR_BAD_SIGNATURE);
    }
}

static void test_envelope_decode_rejects_empty_body(void **state)
{
    uint8_t sig[FB_SIGNATURE_BYTES] = {0};
    Fluxbus__V1__Envelope env = FLUXBUS__V1__ENVELOPE__INIT;
    env.signature.data = sig;
    env.signature.len = sizeof sig;
    env.key_id = "0123456789abcdef";
    uint8_t *packed = NULL;
    size_t packed_len = 0;
    s_pack_envelope(&env, &packed, &packed_len);
    Fluxbus__V1__Envelope *out = NULL;
    assert_int_equal(fb_envelope_decode(packed, packed_len, FB_DEFAULT_MAX_ENVELOPE, &out),
                     FB_ERR_MALFORMED);
    assert_null(out);
    free(packed);

    /* Nothing at all is not an envelope either. */
    assert_int_equal(fb_envelope_decode(NULL, 0, FB_DEFAULT_MAX_ENVELOPE, &out), FB_ERR_MALFORMED);
    assert_null(out);
}

static void test_envelope_decode_rejects_over_cap(void **state)
{
    fb_keys_t keys = s_keys(S_SENDER);
    Fluxbus__V1__SignedBody body = s_body(&keys);
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    s_seal(&body, &keys, &sealed, &sealed_len);
    Fluxbus__V1__Envelope *env = NULL;
    assert_int_equal(fb_envelope_decode(sealed, sealed_len, sealed_len - 1, &env),
                     FB_ERR_TOO_LARGE);
    assert_null(env);
    /* Exactly at the cap is fine. */
    assert_int_equal(fb_envelope_decode(sealed, sealed_len, sealed_len, &env), FB_OK);
    fb_envelope_free(env);
    free(sealed);
    fb_keys_wipe(&keys);
}

static void test_envelope_parse_rejects_version_2(void **state)
{
    fb_keys_t keys = s_keys(S_SENDER);
    Fluxbus__V1__SignedBody body = s_body(&keys);
    body.version = 2;
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    s_seal(&body, &keys, &sealed, &sealed_len);
    Fluxbus__V1__SignedBody *got = (Fluxbus__V1__SignedBody *)1;
    assert_int_equal(s_open(sealed, sealed_len, keys.sign_pk, &got), FB_ERR_UNSUPPORTED_VERSION);
    assert_null(got);
    free(sealed);

    body.version = 0; /* "not said" is not version 1 either */
    s_seal(&body, &keys, &sealed, &sealed_len);
    assert_int_equal(s_open(sealed, sealed_len, keys.sign_pk, NULL), FB_ERR_UNSUPPORTED_VERSION);
    free(sealed);
    fb_keys_wipe(&keys);
}

static void test_envelope_parse_rejects_body_key_id_other_than_the_hint(void **state)
{
    fb_keys_t keys = s_keys(S_SENDER);
    Fluxbus__V1__SignedBody body = s_body(&keys);
    body.key_id = "ffffffffffffffff";
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    s_seal(&body, &keys, &sealed, &sealed_len);
    Fluxbus__V1__SignedBody *got = (Fluxbus__V1__SignedBody *)1;
    assert_int_equal(s_open(sealed, sealed_len, keys.sign_pk, &got), FB_ERR_SENDER_MISMATCH);
    assert_null(got);
    free(sealed);

    body.key_id = ""; /* missing from the body */
    s_seal(&body, &keys, &sealed, &sealed_len);
    assert_int_equal(s_open(sealed, sealed_len, keys.sign_pk, NULL), FB_ERR_SENDER_MISMATCH);
    free(sealed);
    fb_keys_wipe(&keys);
}

static void test_envelope_parse_rejects_message_id_not_16_bytes(void **state)
{
    fb_keys_t keys = s_keys(S_SENDER);
    Fluxbus__V1__SignedBody body = s_body(&keys);
    const size_t lens[] = {0, 1, FB_MESSAGE_ID_BYTES - 1, FB_MESSAGE_ID_BYTES + 1};
    uint8_t id[FB_MESSAGE_ID_BYTES + 1] = {1, 2, 3};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        body.message_id.data = id;
        body.message_id.len = lens[i];
        uint8_t *sealed = NULL;
        size_t sealed_len = 0;
        s_seal(&body, &keys, &sealed, &sealed_len);
        Fluxbus__V1__SignedBody *got = (Fluxbus__V1__SignedBody *)1;
        assert_int_equal(s_open(sealed, sealed_len, keys.sign_pk, &got), FB_ERR_MALFORMED);
        assert_null(got);
        free(sealed);
    }
    fb_keys_wipe(&keys);
}

static void test_envelope_parse_rejects_empty_sender(void **state)
{
    fb_keys_t keys = s_keys(S_SENDER);
    Fluxbus__V1__SignedBody body = s_body(&keys);
    body.sender = "";
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    s_seal(&body, &keys, &sealed, &sealed_len);
    assert_int_equal(s_open(sealed, sealed_len, keys.sign_pk, NULL), FB_ERR_MALFORMED);
    free(sealed);
    fb_keys_wipe(&keys);
}

static void test_envelope_message_ids_differ(void **state)
{
    enum { N = 64 };
    uint8_t ids[N][FB_MESSAGE_ID_BYTES];
    static const uint8_t zero[FB_MESSAGE_ID_BYTES] = {0};
    for (int i = 0; i < N; i++) {
        fb_message_id_new(ids[i]);
        assert_memory_not_equal(ids[i], zero, FB_MESSAGE_ID_BYTES);
        for (int j = 0; j < i; j++)
            assert_memory_not_equal(ids[i], ids[j], FB_MESSAGE_ID_BYTES);
    }
}

/* Attachments: sealed with their digests in the signed body, checked on
 * parse; any change to one is refused; the skeleton (attachments dropped)
 * still verifies and parses as a skeleton but never as a bus message. */
static void test_envelope_attachments_are_bound_by_signed_digests(void **state)
{
    fb_keys_t keys = s_keys(S_SENDER);
    Fluxbus__V1__SignedBody body = s_body(&keys);
    uint8_t household[] = "sealed household bytes";
    ProtobufCBinaryData att = {sizeof household, household};
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    assert_int_equal(fb_envelope_seal_attached(&body, &att, 1, &keys, &sealed, &sealed_len), FB_OK);
    assert_int_equal(body.n_attachment_digests, 0); /* the caller's body is left as it was */

    Fluxbus__V1__SignedBody *parsed = NULL;
    assert_int_equal(s_open(sealed, sealed_len, keys.sign_pk, &parsed), FB_OK);
    assert_int_equal(parsed->n_attachment_digests, 1);
    uint8_t digest[FB_DIGEST_BYTES];
    fb_blake2b256(household, sizeof household, digest);
    assert_memory_equal(parsed->attachment_digests[0].data, digest, FB_DIGEST_BYTES);
    fb_body_free(parsed);

    Fluxbus__V1__Envelope *env = NULL;
    assert_int_equal(fb_envelope_decode(sealed, sealed_len, FB_DEFAULT_MAX_ENVELOPE, &env), FB_OK);
    const ProtobufCBinaryData *found = fb_envelope_attachment(env, digest, sizeof digest);
    assert_non_null(found);
    assert_memory_equal(found->data, household, sizeof household);
    /* A changed attachment no longer matches the signed digest. */
    env->attachments[0].data[0] ^= 1;
    assert_int_equal(fb_envelope_verify(env, keys.sign_pk), FB_OK);
    assert_int_equal(fb_envelope_parse_body(env, &parsed), FB_ERR_BAD_SIGNATURE);
    assert_null(fb_envelope_attachment(env, digest, sizeof digest));
    fb_envelope_free(env);

    uint8_t *skel = NULL;
    size_t skel_len = 0;
    assert_int_equal(
        fb_envelope_skeleton(sealed, sealed_len, FB_DEFAULT_MAX_ENVELOPE, &skel, &skel_len), FB_OK);
    assert_true(skel_len < sealed_len);
    assert_null(memmem(skel, skel_len, household, sizeof household));
    assert_int_equal(s_open(skel, skel_len, keys.sign_pk, NULL), FB_ERR_BAD_SIGNATURE);
    assert_int_equal(fb_envelope_decode(skel, skel_len, FB_DEFAULT_MAX_ENVELOPE, &env), FB_OK);
    assert_int_equal(fb_envelope_verify(env, keys.sign_pk), FB_OK);
    assert_int_equal(fb_envelope_parse_skeleton(env, &parsed), FB_OK);
    assert_int_equal(parsed->n_attachment_digests, 1);
    fb_body_free(parsed);
    fb_envelope_free(env);
    free(skel);
    free(sealed);
    fb_keys_wipe(&keys);
}

/* An attachment the body does not list is refused. */
static void test_envelope_refuses_an_unlisted_attachment(void **state)
{
    fb_keys_t keys = s_keys(S_SENDER);
    Fluxbus__V1__SignedBody body = s_body(&keys);
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    s_seal(&body, &keys, &sealed, &sealed_len);
    Fluxbus__V1__Envelope *env = NULL;
    assert_int_equal(fb_envelope_decode(sealed, sealed_len, FB_DEFAULT_MAX_ENVELOPE, &env), FB_OK);
    uint8_t extra[] = "smuggled";
    ProtobufCBinaryData att = {sizeof extra, extra};
    size_t n = env->n_attachments;
    ProtobufCBinaryData *saved = env->attachments;
    env->n_attachments = 1;
    env->attachments = &att;
    uint8_t *forged = NULL;
    size_t forged_len = 0;
    s_pack_envelope(env, &forged, &forged_len);
    env->n_attachments = n;
    env->attachments = saved;
    fb_envelope_free(env);
    assert_int_equal(s_open(forged, forged_len, keys.sign_pk, NULL), FB_ERR_BAD_SIGNATURE);
    free(forged);
    free(sealed);
    fb_keys_wipe(&keys);
}

static int s_setup(void **state)
{
    return sodium_init() < 0 ? -1 : 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_seal_then_open_round_trips),
        cmocka_unit_test(test_envelope_pae_is_dsse_v1_of_the_exact_body),
        cmocka_unit_test(test_envelope_signature_covers_the_pae_not_the_bare_body),
        cmocka_unit_test(test_envelope_refuses_every_single_bit_flip),
        cmocka_unit_test(test_envelope_verify_rejects_another_key),
        cmocka_unit_test(test_envelope_seal_refuses_public_only_keys),
        cmocka_unit_test(test_envelope_decode_rejects_signature_not_64_bytes),
        cmocka_unit_test(test_envelope_decode_rejects_empty_body),
        cmocka_unit_test(test_envelope_decode_rejects_over_cap),
        cmocka_unit_test(test_envelope_parse_rejects_version_2),
        cmocka_unit_test(test_envelope_parse_rejects_body_key_id_other_than_the_hint),
        cmocka_unit_test(test_envelope_parse_rejects_message_id_not_16_bytes),
        cmocka_unit_test(test_envelope_parse_rejects_empty_sender),
        cmocka_unit_test(test_envelope_message_ids_differ),
        cmocka_unit_test(test_envelope_attachments_are_bound_by_signed_digests),
        cmocka_unit_test(test_envelope_refuses_an_unlisted_attachment),
    };
    return cmocka_run_group_tests(tests, s_setup, NULL);
}
