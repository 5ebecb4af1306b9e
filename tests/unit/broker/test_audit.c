/* test_audit.c - audit_verify (broker/audit.c) on a real store holding a
 * chain built the way the broker builds it (sealed envelopes, notary
 * receipts, fb_audit_chain links): an intact chain passes up to the store's
 * head, purged skeletons pass, and each kind of damage is reported at its
 * seq with its reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "registry.h"
#include "tmpdir.h"

#include "audit.h"
#include "fluxbus/audit_chain.h"
#include "fluxbus/envelope.h"
#include "notary.h"
#include "store.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x

typedef struct {
    char dir[64];
    char path[128];
    store_t *store;
    fb_keys_t broker, sender;
    notary_t notary;
    uint8_t head[FB_AUDIT_LINK_BYTES];
    uint8_t n;
    uint8_t last[512]; /* the envelope of the last message accepted */
    size_t last_len;
    uint8_t last_without[512]; /* ... and of the last one without attachments */
    size_t last_without_len;
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx || tmpdir_make(fx->dir, sizeof fx->dir, "audit") != 0)
        return -1;
    snprintf(fx->path, sizeof fx->path, "%s/store.db", fx->dir);
    fx->store = store_open(fx->path, NULL, 0);
    if (!fx->store || fb_keys_generate(&fx->broker, "broker") != FB_OK ||
        fb_keys_generate(&fx->sender, "reservataire:action-logement") != FB_OK)
        return -1;
    registry_add_actor(fx->store, &fx->sender, "reservataire");
    registry_add_signing_key(fx->store, &fx->sender);
    fx->notary.keys = &fx->broker;
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *fx = *state;
    store_destroy(&fx->store);
    tmpdir_remove(fx->dir);
    fb_keys_wipe(&fx->broker);
    fb_keys_wipe(&fx->sender);
    free(fx);
    return 0;
}

/* Accepts one message as the broker does: store, receipt, chain link. With
 * `attached`, the envelope carries one attachment. Returns its seq. */
static uint64_t s_accept(s_fixture_t *fx, int attached)
{
    uint8_t id[FB_MESSAGE_ID_BYTES];
    memset(id, ++fx->n, sizeof id);
    Fluxbus__V1__SignedBody body = FLUXBUS__V1__SIGNED_BODY__INIT;
    body.version = FB_PROTOCOL_VERSION;
    body.message_id.data = id;
    body.message_id.len = sizeof id;
    body.sender = fx->sender.actor;
    body.key_id = fx->sender.key_id;
    body.type = T(DESIGNATION);
    body.correlation_id = "vac-a";
    uint8_t household[] = "SEALED";
    ProtobufCBinaryData att = {sizeof household, household};
    uint8_t *env = NULL, *receipt = NULL, sha[32];
    size_t len = 0, receipt_len = 0;
    assert_int_equal(fb_envelope_seal_attached(&body, attached ? &att : NULL, attached ? 1 : 0,
                                               &fx->sender, &env, &len),
                     FB_OK);
    fb_sha256(env, len, sha);
    store_message_t m = {
        .sender = fx->sender.actor,
        .message_id = id,
        .type = body.type,
        .correlation_id = "vac-a",
        .key_id = fx->sender.key_id,
        .envelope = env,
        .envelope_len = len,
        .envelope_sha256 = sha,
        .accepted_at_ms = 1767225600000 + fx->n,
    };
    uint64_t seq = 0;
    assert_int_equal(store_put(fx->store, &m, &seq), FB_OK);
    assert_int_equal(notary_receipt(&fx->notary, m.sender, id, seq, m.accepted_at_ms, false, sha,
                                    NULL, &receipt, &receipt_len),
                     FB_OK);
    assert_int_equal(store_set_receipt(fx->store, seq, receipt, receipt_len), FB_OK);
    assert_int_equal(
        fb_audit_chain_link_envelope(fx->head, seq, env, len, receipt, receipt_len, fx->head),
        FB_OK);
    assert_int_equal(store_set_chain_link(fx->store, seq, fx->head), FB_OK);
    assert_true(len <= sizeof fx->last);
    memcpy(fx->last, env, len);
    fx->last_len = len;
    if (!attached) {
        memcpy(fx->last_without, env, len);
        fx->last_without_len = len;
    }
    free(env);
    free(receipt);
    return seq;
}

/* Runs audit_verify; asserts it ran. */
static audit_result_t s_verify(s_fixture_t *fx, const fb_keys_t *broker)
{
    audit_result_t r;
    assert_int_equal(audit_verify(fx->store, broker, &r), FB_OK);
    return r;
}

static void s_expect_broken(const audit_result_t *r, uint64_t seq, const char *why)
{
    assert_int_equal(r->broken_seq, seq);
    if (!strstr(r->why, why))
        fail_msg("expected \"%s\", got \"%s\"", why, r->why);
}

/* The example of use: an intact chain passes, up to the store's head. */
static void test_audit_passes_an_intact_chain_up_to_its_head(void **state)
{
    s_fixture_t *fx = *state;
    audit_result_t r = s_verify(fx, &fx->broker);
    assert_int_equal(r.broken_seq, 0);
    assert_int_equal(r.messages, 0);
    for (int i = 0; i < 4; i++)
        s_accept(fx, i % 2);
    r = s_verify(fx, &fx->broker);
    assert_int_equal(r.broken_seq, 0);
    assert_int_equal(r.messages, 4);
    uint8_t head[FB_AUDIT_LINK_BYTES];
    uint64_t seq = 0;
    assert_int_equal(store_chain_head(fx->store, head, &seq), FB_OK);
    assert_memory_equal(r.head, head, sizeof head);
    assert_memory_equal(r.head, fx->head, sizeof head);
}

/* Replaces message seq's envelope by `env` as the retention purge does. */
static void s_purge(s_fixture_t *fx, uint64_t seq, const uint8_t *env, size_t len)
{
    store_purge_t p = {.seq = seq, .skeleton = env, .skeleton_len = len, .at_ms = 42, .by = "test"};
    assert_int_equal(store_begin(fx->store), FB_OK);
    assert_int_equal(store_purge_envelope(fx->store, &p), FB_OK);
    assert_int_equal(store_commit(fx->store), FB_OK);
}

/* A purged skeleton passes; a message marked purged that never had
 * attachments does not. */
static void test_audit_accepts_skeletons_only_of_purged_attachments(void **state)
{
    s_fixture_t *fx = *state;
    uint64_t with = s_accept(fx, 1);
    uint8_t *skel = NULL;
    size_t skel_len = 0;
    assert_int_equal(fb_envelope_skeleton(fx->last, fx->last_len, fx->last_len, &skel, &skel_len),
                     FB_OK);
    uint64_t without = s_accept(fx, 0);
    s_accept(fx, 1);
    s_purge(fx, with, skel, skel_len);
    audit_result_t r = s_verify(fx, &fx->broker);
    assert_int_equal(r.broken_seq, 0);
    assert_int_equal(r.messages, 3);
    assert_int_equal(r.purged, 1);

    s_purge(fx, without, fx->last_without, fx->last_without_len);
    r = s_verify(fx, &fx->broker);
    s_expect_broken(&r, without, "marked purged but is not a skeleton");
    assert_int_equal(r.messages, 1);
    free(skel);
}

/* A receipt signed by another key passes without the broker key and fails
 * with it; a sender key missing from the registry fails. */
static void test_audit_checks_receipts_and_keys(void **state)
{
    s_fixture_t *fx = *state;
    s_accept(fx, 0);
    fb_keys_t other;
    assert_int_equal(fb_keys_generate(&other, "broker"), FB_OK);
    fx->notary.keys = &other;
    s_accept(fx, 0);
    fx->notary.keys = &fx->broker;

    audit_result_t r = s_verify(fx, NULL);
    assert_int_equal(r.broken_seq, 0);
    assert_int_equal(r.messages, 2);
    r = s_verify(fx, &fx->broker);
    s_expect_broken(&r, 2, "receipt key_id");
    assert_int_equal(r.messages, 1);

    assert_int_equal(store_key_revoke(fx->store, fx->sender.key_id, 1, "test"), FB_OK);
    r = s_verify(fx, NULL); /* a key revoked since still verifies what it signed */
    assert_int_equal(r.broken_seq, 0);
    fb_keys_wipe(&other);
}

int main(void)
{
#define S_TEST(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_audit_passes_an_intact_chain_up_to_its_head),
        S_TEST(test_audit_accepts_skeletons_only_of_purged_attachments),
        S_TEST(test_audit_checks_receipts_and_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
