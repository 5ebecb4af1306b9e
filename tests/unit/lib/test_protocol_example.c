/* test_protocol_example.c - the worked example of docs/PROTOCOL.md is what
 * libfluxbus really produces: the same seed and fields give, byte for byte,
 * the key id, SignedBody, PAE, signature and Envelope printed in the document
 * and stored in tests/data/example_envelope.hex. If one of these tests fails,
 * either the wire format changed (a protocol version matter) or the document
 * is wrong: fix the one that is mistaken, never just the literal here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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
#include "fluxbus/v1/logement.pb-c.h"

/* ---- the literals of docs/PROTOCOL.md, "Worked example" ---- */

#define EX_SEED_HEX "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
#define EX_PUBLIC_KEY_HEX "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664"
#define EX_KEY_ID "65b60673d6ed884b"
#define EX_PAYLOAD_HEX "0a057661632d312a0537343031304803"
#define EX_BODY_HEX                                                                                \
    "0801121000112233445566778899aabbccddeeff1a126261696c6c6575723a353532303436393535"             \
    "2210363562363036373364366564383834622a1c7265736572766174616972653a616374696f6e2d"             \
    "6c6f67656d656e7438014080d0dfb4ab33480152057661632d3162100a057661632d312a05373430"             \
    "31304803"
#define EX_PAE_PREFIX "DSSEv1 48 application/vnd.fluxbus.signed-body+protobuf;v=1 124 "
#define EX_SIGNATURE_HEX                                                                           \
    "ccd4a323e9a1eec4a822e791d5d402c85ad1e94eca00ed38c37ab65541cfddcf"                             \
    "df6e62fb5426b68be316c7325790c509c1ae807036395b3f493eeb7d1b00a101"
#define EX_ENVELOPE_SHA256_HEX "781f3b8865a5af5f2d478dd7bf950a4f9e2ddd1bbb88bdfbcca2f1f4fd0859da"

/* The golden envelope file, found from this source file's own path. */
#define EX_ENVELOPE_FILE "../../data/example_envelope.hex"

static const uint8_t s_message_id[FB_MESSAGE_ID_BYTES] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

/* Lowercase hex of n bytes. Caller frees. */
static char *s_hex(const uint8_t *p, size_t n)
{
    char *out = malloc(2 * n + 1);
    assert_non_null(out);
    fb_hex_encode(p, n, out);
    return out;
}

/* Copy of a literal without the spaces that keep long lines readable. */
static char *s_unblank(const char *lit)
{
    char *out = malloc(strlen(lit) + 1), *w = out;
    assert_non_null(out);
    for (const char *r = lit; *r; r++)
        if (*r != ' ')
            *w++ = *r;
    *w = '\0';
    return out;
}

static void s_assert_hex(const uint8_t *p, size_t n, const char *lit)
{
    char *got = s_hex(p, n), *want = s_unblank(lit);
    assert_string_equal(got, want);
    free(got);
    free(want);
}

/* The example's keys: Ed25519 from the seed 0x01..0x20, no CURVE pair (the
 * envelope does not use it). */
static void s_example_keys(fb_keys_t *k)
{
    uint8_t seed[32];
    assert_true(sodium_init() >= 0);
    memset(k, 0, sizeof *k);
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(i + 1);
    assert_int_equal(crypto_sign_seed_keypair(k->sign_pk, k->sign_sk, seed), 0);
    fb_key_id(k->sign_pk, k->key_id);
    snprintf(k->actor, sizeof k->actor, "%s", "bailleur:552046955");
    k->has_secret = true;
}

/* The example's payload: a LogementLibere with three fields. Caller frees. */
static uint8_t *s_example_payload(size_t *len)
{
    Fluxbus__V1__LogementLibere ll = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    uint8_t *out = NULL;
    ll.vacancy_id = "vac-1";
    ll.commune_insee = "74010";
    ll.typologie = FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T3;
    assert_int_equal(fb_codec_pack(&ll.base, &out, len), FB_OK);
    return out;
}

/* The example's SignedBody (pointers into k and payload). */
static void s_example_body(Fluxbus__V1__SignedBody *b, fb_keys_t *k, uint8_t *payload,
                           size_t payload_len)
{
    static char *recipients[1] = {"reservataire:action-logement"};
    Fluxbus__V1__SignedBody init = FLUXBUS__V1__SIGNED_BODY__INIT;
    *b = init;
    b->version = 1;
    b->message_id.data = (uint8_t *)s_message_id;
    b->message_id.len = sizeof s_message_id;
    b->sender = k->actor;
    b->key_id = k->key_id;
    b->recipients = recipients;
    b->n_recipients = 1;
    b->sequence = 1;
    b->created_at_ms = 1764000000000LL;
    b->type = FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE;
    b->correlation_id = "vac-1";
    b->payload.data = payload;
    b->payload.len = payload_len;
}

/* Reads the one line of hex in tests/data/example_envelope.hex. Caller frees. */
static char *s_read_golden_file(void)
{
    char path[4096];
    const char *src = __FILE__, *slash = strrchr(src, '/');
    assert_non_null(slash); /* CMake compiles with absolute source paths */
    snprintf(path, sizeof path, "%.*s/%s", (int)(slash - src), src, EX_ENVELOPE_FILE);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    char *line = calloc(1, 8192);
    assert_non_null(line);
    assert_non_null(fgets(line, 8192, f));
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

/* ---- tests ---- */

/* The example of use: sealing the documented body gives the documented
 * envelope, signature and all (Ed25519 is deterministic). */
static void test_protocol_example_seals_to_the_documented_envelope(void **state)
{
    fb_keys_t k;
    size_t payload_len = 0, env_len = 0;
    uint8_t *env = NULL;
    s_example_keys(&k);
    uint8_t *payload = s_example_payload(&payload_len);
    Fluxbus__V1__SignedBody body;
    s_example_body(&body, &k, payload, payload_len);

    assert_int_equal(fb_envelope_seal(&body, &k, &env, &env_len), FB_OK);
    char *golden = s_read_golden_file();
    char *got = s_hex(env, env_len);
    assert_string_equal(got, golden);

    uint8_t sha[32];
    fb_sha256(env, env_len, sha);
    s_assert_hex(sha, sizeof sha, EX_ENVELOPE_SHA256_HEX);

    free(got);
    free(golden);
    free(env);
    free(payload);
    fb_keys_wipe(&k);
}

static void test_protocol_example_key_id_is_sha256_prefix_of_public_key(void **state)
{
    fb_keys_t k;
    s_example_keys(&k);
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(i + 1);
    s_assert_hex(seed, sizeof seed, EX_SEED_HEX);
    s_assert_hex(k.sign_pk, sizeof k.sign_pk, EX_PUBLIC_KEY_HEX);
    assert_string_equal(k.key_id, EX_KEY_ID);

    uint8_t digest[32];
    fb_sha256(k.sign_pk, sizeof k.sign_pk, digest);
    s_assert_hex(digest, 8, EX_KEY_ID);
    fb_keys_wipe(&k);
}

static void test_protocol_example_body_bytes_are_the_documented_ones(void **state)
{
    fb_keys_t k;
    size_t payload_len = 0, body_len = 0;
    uint8_t *body_bytes = NULL;
    s_example_keys(&k);
    uint8_t *payload = s_example_payload(&payload_len);
    s_assert_hex(payload, payload_len, EX_PAYLOAD_HEX);
    Fluxbus__V1__SignedBody body;
    s_example_body(&body, &k, payload, payload_len);

    assert_int_equal(fb_codec_pack(&body.base, &body_bytes, &body_len), FB_OK);
    assert_int_equal(body_len, 124);
    s_assert_hex(body_bytes, body_len, EX_BODY_HEX);

    free(body_bytes);
    free(payload);
    fb_keys_wipe(&k);
}

static void test_protocol_example_pae_has_the_documented_prefix(void **state)
{
    char *body_hex = s_unblank(EX_BODY_HEX);
    size_t body_len = strlen(body_hex) / 2, pae_len = 0;
    uint8_t *body = malloc(body_len), *pae = NULL;
    assert_non_null(body);
    assert_int_equal(fb_hex_decode(body_hex, body, body_len), FB_OK);

    assert_int_equal(fb_envelope_pae(body, body_len, &pae, &pae_len), FB_OK);
    size_t prefix = strlen(EX_PAE_PREFIX);
    assert_int_equal(pae_len, prefix + body_len);
    assert_int_equal(pae_len, 187);
    assert_memory_equal(pae, EX_PAE_PREFIX, prefix);
    assert_memory_equal(pae + prefix, body, body_len);

    free(pae);
    free(body);
    free(body_hex);
}

static void test_protocol_example_signature_is_the_documented_one(void **state)
{
    fb_keys_t k;
    size_t payload_len = 0, env_len = 0;
    uint8_t *env = NULL;
    s_example_keys(&k);
    uint8_t *payload = s_example_payload(&payload_len);
    Fluxbus__V1__SignedBody body;
    s_example_body(&body, &k, payload, payload_len);
    assert_int_equal(fb_envelope_seal(&body, &k, &env, &env_len), FB_OK);

    Fluxbus__V1__Envelope *e = NULL;
    assert_int_equal(fb_envelope_decode(env, env_len, FB_DEFAULT_MAX_ENVELOPE, &e), FB_OK);
    s_assert_hex(e->signature.data, e->signature.len, EX_SIGNATURE_HEX);
    assert_string_equal(e->key_id, EX_KEY_ID);
    assert_int_equal(fb_envelope_verify(e, k.sign_pk), FB_OK);

    Fluxbus__V1__SignedBody *parsed = NULL;
    assert_int_equal(fb_envelope_parse_body(e, &parsed), FB_OK);
    assert_string_equal(parsed->sender, "bailleur:552046955");
    assert_int_equal(parsed->sequence, 1);

    fb_body_free(parsed);
    fb_envelope_free(e);
    free(env);
    free(payload);
    fb_keys_wipe(&k);
}

/* What receivers must do: verify the bytes received. One flipped bit in the
 * golden envelope's body makes the documented signature fail. */
static void test_protocol_example_golden_envelope_verifies_and_tamper_fails(void **state)
{
    char *golden = s_read_golden_file();
    size_t len = strlen(golden) / 2;
    uint8_t *env = malloc(len), pk[FB_SIGN_PK_BYTES];
    assert_non_null(env);
    assert_int_equal(fb_hex_decode(golden, env, len), FB_OK);
    assert_int_equal(fb_hex_decode(EX_PUBLIC_KEY_HEX, pk, sizeof pk), FB_OK);

    Fluxbus__V1__Envelope *e = NULL;
    assert_int_equal(fb_envelope_decode(env, len, FB_DEFAULT_MAX_ENVELOPE, &e), FB_OK);
    assert_int_equal(fb_envelope_verify(e, pk), FB_OK);
    fb_envelope_free(e);

    env[2 + 30] ^= 0x01; /* body byte 30: inside the sender string */
    assert_int_equal(fb_envelope_decode(env, len, FB_DEFAULT_MAX_ENVELOPE, &e), FB_OK);
    assert_int_equal(fb_envelope_verify(e, pk), FB_ERR_BAD_SIGNATURE);
    fb_envelope_free(e);

    free(env);
    free(golden);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocol_example_seals_to_the_documented_envelope),
        cmocka_unit_test(test_protocol_example_key_id_is_sha256_prefix_of_public_key),
        cmocka_unit_test(test_protocol_example_body_bytes_are_the_documented_ones),
        cmocka_unit_test(test_protocol_example_pae_has_the_documented_prefix),
        cmocka_unit_test(test_protocol_example_signature_is_the_documented_one),
        cmocka_unit_test(test_protocol_example_golden_envelope_verifies_and_tamper_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
