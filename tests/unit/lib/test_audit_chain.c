/* test_audit_chain.c - the audit hash chain (lib/audit_chain.c): known links
 * computed independently, every part of a message changes its link, a purged
 * skeleton links like the full envelope; and the plain-JavaScript BLAKE2b-256
 * of the audit verifier (tests/tools/blake2b.mjs) agrees with libsodium. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <sodium.h>

#include "tmpdir.h"

#include "fluxbus/audit_chain.h"
#include "fluxbus/codec.h"
#include "fluxbus/envelope.h"
#include "fluxbus/keys.h"

/* Files found from this source file's own path (CMake compiles with
 * absolute source paths). */
#define S_EXAMPLE_ENVELOPE "../../data/example_envelope.hex"
#define S_JS_BLAKE2B "../../tools/blake2b.mjs"

/* The known links below were computed at authoring time, independently of
 * libfluxbus, with Python's hashlib on the worked example envelope of
 * docs/PROTOCOL.md (tests/data/example_envelope.hex: body = bytes 2..126,
 * signature = bytes 128..192):
 *
 *   H = lambda b: hashlib.blake2b(b, digest_size=32).digest()
 *   link = lambda prev, seq, body, sig, rec: H(b"fluxbus-audit-v1" + prev
 *          + seq.to_bytes(8, "big") + H(body) + H(sig) + H(rec))
 *   l1 = link(bytes(32), 1, body, sig, bytes([1, 2, 3]))
 *   l2 = link(l1, 2, body, sig, b"")
 *
 * They are also printed in docs/PROTOCOL.md, "Audit chain". */
#define S_LINK1_HEX "aa6a0f50e8231df7b7f13cd2bc7d0331ae7d5b6da34096a8a35975677b0ccc18"
#define S_LINK2_HEX "c2a768c4b124d8bde189333a4e74e3842bec850e5b072de47bb9d7e006a45195"

static const uint8_t s_zero[FB_AUDIT_LINK_BYTES];
static const uint8_t s_receipt[] = {1, 2, 3};

/* The path of `rel`, relative to this source file's directory. */
static void s_path(const char *rel, char *out, size_t cap)
{
    const char *src = __FILE__, *slash = strrchr(src, '/');
    assert_non_null(slash);
    snprintf(out, cap, "%.*s/%s", (int)(slash - src), src, rel);
}

/* The worked example envelope, decoded from its hex file. Caller frees. */
static uint8_t *s_example_envelope(size_t *len)
{
    char path[4096], line[8192];
    s_path(S_EXAMPLE_ENVELOPE, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    *len = strlen(line) / 2;
    uint8_t *env = malloc(*len);
    assert_non_null(env);
    assert_int_equal(fb_hex_decode(line, env, *len), FB_OK);
    return env;
}

static void s_assert_hex(const uint8_t link[FB_AUDIT_LINK_BYTES], const char *hex)
{
    char got[2 * FB_AUDIT_LINK_BYTES + 1];
    fb_hex_encode(link, FB_AUDIT_LINK_BYTES, got);
    assert_string_equal(got, hex);
}

/* The example of use: chain two stored messages from the genesis link. */
static void test_audit_chain_links_the_worked_example_to_known_values(void **state)
{
    size_t len = 0;
    uint8_t *env = s_example_envelope(&len);
    uint8_t l1[FB_AUDIT_LINK_BYTES], l2[FB_AUDIT_LINK_BYTES];
    assert_int_equal(
        fb_audit_chain_link_envelope(s_zero, 1, env, len, s_receipt, sizeof s_receipt, l1), FB_OK);
    s_assert_hex(l1, S_LINK1_HEX);
    assert_int_equal(fb_audit_chain_link_envelope(l1, 2, env, len, NULL, 0, l2), FB_OK);
    s_assert_hex(l2, S_LINK2_HEX);
    /* The usual way to walk a chain: the output overwrites the previous link. */
    assert_int_equal(fb_audit_chain_link_envelope(l1, 2, env, len, NULL, 0, l1), FB_OK);
    s_assert_hex(l1, S_LINK2_HEX);
    free(env);
}

/* Parts given one by one give the link of the envelope they came from. */
static void test_audit_chain_link_from_parts_equals_link_from_envelope(void **state)
{
    size_t len = 0;
    uint8_t *env = s_example_envelope(&len);
    Fluxbus__V1__Envelope *e = NULL;
    assert_int_equal(fb_envelope_decode(env, len, len, &e), FB_OK);
    uint8_t link[FB_AUDIT_LINK_BYTES];
    fb_audit_chain_link(s_zero, 1, e->body.data, e->body.len, e->signature.data, e->signature.len,
                        s_receipt, sizeof s_receipt, link);
    s_assert_hex(link, S_LINK1_HEX);
    fb_envelope_free(e);
    free(env);
}

/* Changing the previous link, the seq, the body, the signature or the
 * receipt changes the link. */
static void test_audit_chain_every_part_changes_the_link(void **state)
{
    uint8_t body[40], sig[64], receipt[30], prev[FB_AUDIT_LINK_BYTES];
    memset(body, 0xB0, sizeof body);
    memset(sig, 0x51, sizeof sig);
    memset(receipt, 0x7E, sizeof receipt);
    memset(prev, 0x44, sizeof prev);
    uint8_t ref[FB_AUDIT_LINK_BYTES], got[FB_AUDIT_LINK_BYTES];
    fb_audit_chain_link(prev, 7, body, sizeof body, sig, sizeof sig, receipt, sizeof receipt, ref);

    fb_audit_chain_link(prev, 7, body, sizeof body, sig, sizeof sig, receipt, sizeof receipt, got);
    assert_memory_equal(got, ref, sizeof ref); /* deterministic */
    prev[31] ^= 1;
    fb_audit_chain_link(prev, 7, body, sizeof body, sig, sizeof sig, receipt, sizeof receipt, got);
    assert_memory_not_equal(got, ref, sizeof ref);
    prev[31] ^= 1;
    fb_audit_chain_link(prev, 8, body, sizeof body, sig, sizeof sig, receipt, sizeof receipt, got);
    assert_memory_not_equal(got, ref, sizeof ref);
    fb_audit_chain_link(prev, 7ull << 56, body, sizeof body, sig, sizeof sig, receipt,
                        sizeof receipt, got);
    assert_memory_not_equal(got, ref, sizeof ref); /* all 8 seq bytes count */
    body[0] ^= 1;
    fb_audit_chain_link(prev, 7, body, sizeof body, sig, sizeof sig, receipt, sizeof receipt, got);
    assert_memory_not_equal(got, ref, sizeof ref);
    body[0] ^= 1;
    sig[63] ^= 1;
    fb_audit_chain_link(prev, 7, body, sizeof body, sig, sizeof sig, receipt, sizeof receipt, got);
    assert_memory_not_equal(got, ref, sizeof ref);
    sig[63] ^= 1;
    fb_audit_chain_link(prev, 7, body, sizeof body, sig, sizeof sig, receipt, sizeof receipt - 1,
                        got);
    assert_memory_not_equal(got, ref, sizeof ref);
    /* Moving a byte from the body to the signature is a different message:
     * each part is hashed on its own. */
    uint8_t joined[sizeof body + sizeof sig];
    memcpy(joined, body, sizeof body);
    memcpy(joined + sizeof body, sig, sizeof sig);
    fb_audit_chain_link(prev, 7, joined, sizeof body, joined + sizeof body, sizeof sig, receipt,
                        sizeof receipt, got);
    assert_memory_equal(got, ref, sizeof ref);
    fb_audit_chain_link(prev, 7, joined, sizeof body - 1, joined + sizeof body - 1, sizeof sig + 1,
                        receipt, sizeof receipt, got);
    assert_memory_not_equal(got, ref, sizeof ref);
}

/* Purging attachments keeps body and signature: the skeleton links exactly
 * like the envelope it came from, while the attachment bytes do not count. */
static void test_audit_chain_skeleton_links_like_the_full_envelope(void **state)
{
    fb_keys_t keys;
    assert_int_equal(fb_keys_generate(&keys, "reservataire:action-logement"), FB_OK);
    uint8_t id[FB_MESSAGE_ID_BYTES];
    fb_message_id_new(id);
    Fluxbus__V1__SignedBody body = FLUXBUS__V1__SIGNED_BODY__INIT;
    body.version = FB_PROTOCOL_VERSION;
    body.message_id.data = id;
    body.message_id.len = sizeof id;
    body.sender = keys.actor;
    body.key_id = keys.key_id;
    body.type = FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_DESIGNATION;
    uint8_t household[] = "sealed household";
    ProtobufCBinaryData att = {sizeof household, household};
    uint8_t *full = NULL, *skel = NULL;
    size_t full_len = 0, skel_len = 0;
    assert_int_equal(fb_envelope_seal_attached(&body, &att, 1, &keys, &full, &full_len), FB_OK);
    assert_int_equal(fb_envelope_skeleton(full, full_len, full_len, &skel, &skel_len), FB_OK);
    assert_true(skel_len < full_len);

    uint8_t a[FB_AUDIT_LINK_BYTES], b[FB_AUDIT_LINK_BYTES];
    assert_int_equal(
        fb_audit_chain_link_envelope(s_zero, 3, full, full_len, s_receipt, sizeof s_receipt, a),
        FB_OK);
    assert_int_equal(
        fb_audit_chain_link_envelope(s_zero, 3, skel, skel_len, s_receipt, sizeof s_receipt, b),
        FB_OK);
    assert_memory_equal(a, b, sizeof a);
    free(full);
    free(skel);
    fb_keys_wipe(&keys);
}

/* Bytes that are not an envelope have no link: MALFORMED, output zeroed. */
static void test_audit_chain_refuses_bytes_that_are_not_an_envelope(void **state)
{
    static const uint8_t garbage[] = {0x0a, 0x7f, 0x01}; /* body longer than the bytes */
    uint8_t out[FB_AUDIT_LINK_BYTES];
    memset(out, 0xAA, sizeof out);
    assert_int_equal(fb_audit_chain_link_envelope(s_zero, 1, garbage, sizeof garbage, NULL, 0, out),
                     FB_ERR_MALFORMED);
    assert_memory_equal(out, s_zero, sizeof out);
    /* An envelope whose signature is not 64 bytes is refused too. */
    static const uint8_t short_sig[] = {0x0a, 0x01, 0x08, 0x12, 0x01, 0x00};
    assert_int_equal(
        fb_audit_chain_link_envelope(s_zero, 1, short_sig, sizeof short_sig, NULL, 0, out),
        FB_ERR_MALFORMED);
}

/* tests/tools/blake2b.mjs gives libsodium's BLAKE2b-256 for inputs around
 * the 128-byte block boundaries, the empty input and a large one. */
static void test_audit_chain_js_blake2b_agrees_with_libsodium(void **state)
{
    int status = system("command -v node >/dev/null 2>&1");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        skip(); /* scripts/setup-debian installs nodejs */
    static const size_t lengths[] = {0, 1, 3, 63, 64, 127, 128, 129, 255, 256, 257, 1000, 70000};
    enum { N = sizeof lengths / sizeof lengths[0] };
    char dir[128], in_path[256], js[4096], cmd[8192];
    assert_int_equal(tmpdir_make(dir, sizeof dir, "blake2b"), 0);
    snprintf(in_path, sizeof in_path, "%s/inputs.hex", dir);
    s_path(S_JS_BLAKE2B, js, sizeof js);

    uint8_t expect[N][FB_DIGEST_BYTES];
    FILE *in = fopen(in_path, "w");
    assert_non_null(in);
    uint8_t *data = malloc(70000);
    char *hex = malloc(2 * 70000 + 1);
    assert_non_null(data);
    assert_non_null(hex);
    for (size_t i = 0; i < N; i++) {
        randombytes_buf(data, lengths[i]);
        fb_blake2b256(data, lengths[i], expect[i]);
        fb_hex_encode(data, lengths[i], hex);
        fprintf(in, "%s\n", hex);
    }
    fclose(in);

    snprintf(cmd, sizeof cmd, "node '%s' '%s'", js, in_path);
    FILE *out = popen(cmd, "r");
    assert_non_null(out);
    char line[256];
    size_t n = 0;
    while (fgets(line, sizeof line, out)) {
        line[strcspn(line, "\n")] = '\0';
        assert_true(n < N);
        char want[2 * FB_DIGEST_BYTES + 1];
        fb_hex_encode(expect[n], FB_DIGEST_BYTES, want);
        if (strcmp(line, want) != 0)
            fail_msg("input of %zu bytes: JS %s, libsodium %s", lengths[n], line, want);
        n++;
    }
    assert_int_equal(pclose(out), 0);
    assert_int_equal(n, N);
    free(data);
    free(hex);
    tmpdir_remove(dir);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audit_chain_links_the_worked_example_to_known_values),
        cmocka_unit_test(test_audit_chain_link_from_parts_equals_link_from_envelope),
        cmocka_unit_test(test_audit_chain_every_part_changes_the_link),
        cmocka_unit_test(test_audit_chain_skeleton_links_like_the_full_envelope),
        cmocka_unit_test(test_audit_chain_refuses_bytes_that_are_not_an_envelope),
        cmocka_unit_test(test_audit_chain_js_blake2b_agrees_with_libsodium),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
