/* 13_security_key_lifecycle - signing keys over time, against the real
 * broker and the real CLI:
 *  - rotation with `fluxbus actor key-add --overlap`: old and new keys both
 *    verify during the overlap, after it the old key is KEY_REVOKED;
 *  - a revoked key is refused from its revocation on, while what it signed
 *    and the broker accepted before is still delivered;
 *  - freshness: created_at outside the window is STALE (past and future),
 *    and a replay of an accepted message, however old, gets its original
 *    receipt marked duplicate and is not delivered twice. */
#include "harness.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define T_LOGEMENT FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE
#define OFFLINE "reservataire:hors-ligne"

/* Sends env (forged by the test) over the bailleur's connection. */
static fb_err_t s_send_env(fbt_pair_t *w, uint8_t *env, size_t len,
                           const uint8_t id[FB_MESSAGE_ID_BYTES], fb_receipt_t *rec)
{
    fb_err_t rc = fb_client_send_raw(w->cb, env, len, id, rec);
    free(env);
    return rc;
}

/* A LogementLibere to the réservataire signed with `keys`: the broker's answer. */
static fb_err_t s_send_signed_by(fbt_pair_t *w, const fb_keys_t *keys, const char *to)
{
    size_t plen = 0, len = 0;
    uint8_t *payload = fbt_logement("vac-keys", "74010", &plen);
    uint8_t id[FB_MESSAGE_ID_BYTES];
    uint8_t *env = fbt_forge_with(keys, to, payload, plen, NULL, NULL, &len, id);
    free(payload);
    fb_receipt_t rec;
    fb_err_t rc = s_send_env(w, env, len, id, &rec);
    fb_receipt_clear(&rec);
    return rc;
}

static void s_run_cli(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s", FB_CLI_BIN, args);
    int status = system(cmd);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("`%s` failed (status %d)", cmd, status);
}

/* What `fluxbus keygen --rotate` makes: new signing keys, same transport pair. */
static void s_rotated(const fb_keys_t *old, fb_keys_t *out)
{
    assert_int_equal(fb_keys_generate(out, old->actor), FB_OK);
    memcpy(out->curve_pk, old->curve_pk, sizeof out->curve_pk);
    memcpy(out->curve_sk, old->curve_sk, sizeof out->curve_sk);
}

static void test_rotation_overlap_then_old_key_refused(void **state)
{
    fbt_pair_t w;
    fbt_pair_open(&w);
    fb_keys_t next;
    s_rotated(&w.bailleur, &next);
    char file[600], args[1600];
    snprintf(file, sizeof file, "%s/next.key", w.b.dir);
    assert_int_equal(fb_keys_save(&next, file), FB_OK);
    snprintf(args, sizeof args, "actor key-add --store %s --id %s --key %s.pub --overlap 2s",
             w.b.store, next.actor, file);
    int64_t rotated_at = fb_now_ms();
    s_run_cli(args);

    /* During the overlap both keys verify, and the réservataire gets both. */
    assert_int_equal(s_send_signed_by(&w, &w.bailleur, FBT_RESA), FB_OK);
    assert_int_equal(s_send_signed_by(&w, &next, FBT_RESA), FB_OK);
    assert_true(fb_now_ms() - rotated_at < 2000); /* still inside the overlap */
    for (int i = 0; i < 2; i++) {
        fb_delivery_t *d = fbt_recv_ack(w.cr, 5000);
        assert_non_null(d);
        assert_string_equal(d->body->key_id, i == 0 ? w.bailleur.key_id : next.key_id);
        fb_delivery_destroy(&d);
    }

    /* After it the old key is refused, the new one goes on. */
    usleep(2300 * 1000);
    assert_int_equal(s_send_signed_by(&w, &w.bailleur, FBT_RESA), FB_ERR_KEY_REVOKED);
    assert_int_equal(s_send_signed_by(&w, &next, FBT_RESA), FB_OK);
    fb_delivery_t *d = fbt_recv_ack(w.cr, 5000);
    assert_non_null(d);
    assert_string_equal(d->body->key_id, next.key_id);
    fb_delivery_destroy(&d);
    fbt_expect_nothing(w.cr, 300);
    fb_keys_wipe(&next);
    fbt_pair_close(&w);
}

static void test_revoked_key_refused_but_earlier_messages_delivered(void **state)
{
    fbt_pair_t w;
    fbt_pair_open_offline(&w); /* the réservataire is away: messages queue */
    assert_int_equal(s_send_signed_by(&w, &w.bailleur, FBT_RESA), FB_OK);
    fbt_revoke_key(&w.b, w.bailleur.key_id);
    assert_int_equal(s_send_signed_by(&w, &w.bailleur, FBT_RESA), FB_ERR_KEY_REVOKED);

    /* Accepted while the key was valid: still delivered, still verifying. */
    w.cr = fbt_client(&w.b, &w.resa);
    fb_delivery_t *d = fbt_recv_ack(w.cr, 5000);
    assert_non_null(d);
    assert_string_equal(d->body->key_id, w.bailleur.key_id);
    fb_delivery_destroy(&d);
    fbt_expect_nothing(w.cr, 300);
    fbt_pair_close(&w);
}

typedef struct {
    int64_t created_at_ms;
} s_when_t;

static void s_created_at(Fluxbus__V1__SignedBody *body, void *ctx)
{
    body->created_at_ms = ((s_when_t *)ctx)->created_at_ms;
}

static fb_err_t s_send_created_at(fbt_pair_t *w, int64_t created_at_ms)
{
    size_t plen = 0, len = 0;
    uint8_t *payload = fbt_logement("vac-fresh", "74010", &plen);
    uint8_t id[FB_MESSAGE_ID_BYTES];
    s_when_t when = {created_at_ms};
    uint8_t *env =
        fbt_forge_with(&w->bailleur, FBT_RESA, payload, plen, s_created_at, &when, &len, id);
    free(payload);
    fb_receipt_t rec;
    fb_err_t rc = s_send_env(w, env, len, id, &rec);
    fb_receipt_clear(&rec);
    return rc;
}

static void test_freshness_window_and_replay(void **state)
{
    fbt_pair_t w;
    const char *const args[] = {"--freshness-s", "2", NULL};
    fbt_pair_open_with(&w, args);

    int64_t now = fb_now_ms();
    assert_int_equal(s_send_created_at(&w, now - 1000), FB_OK);
    assert_int_equal(s_send_created_at(&w, now - 5000), FB_ERR_STALE);
    assert_int_equal(s_send_created_at(&w, now + 5000), FB_ERR_STALE);
    /* Extremes must not overflow the broker's arithmetic (UBSan would stop it). */
    assert_int_equal(s_send_created_at(&w, INT64_MIN), FB_ERR_STALE);
    assert_int_equal(s_send_created_at(&w, INT64_MAX), FB_ERR_STALE);
    assert_true(fbt_log_contains(&w.b, "reason=STALE"));

    /* A message accepted, then replayed byte for byte once it is old. */
    size_t plen = 0, len = 0;
    uint8_t *payload = fbt_logement("vac-replay", "74010", &plen);
    uint8_t id[FB_MESSAGE_ID_BYTES];
    uint8_t *env = fbt_forge_with(&w.bailleur, FBT_RESA, payload, plen, NULL, NULL, &len, id);
    free(payload);
    fb_receipt_t first, replay;
    assert_int_equal(fb_client_send_raw(w.cb, env, len, id, &first), FB_OK);
    assert_false(first.duplicate);
    usleep(3000 * 1000);
    assert_int_equal(fb_client_send_raw(w.cb, env, len, id, &replay), FB_OK);
    assert_true(replay.duplicate);
    assert_int_equal(replay.store_seq, first.store_seq);
    free(env);
    fb_receipt_clear(&first);
    fb_receipt_clear(&replay);

    /* The réservataire gets the fresh one and the replayed one, once each. */
    for (int i = 0; i < 2; i++) {
        fb_delivery_t *d = fbt_recv_ack(w.cr, 5000);
        assert_non_null(d);
        fb_delivery_destroy(&d);
    }
    fbt_expect_nothing(w.cr, 300);
    fbt_pair_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotation_overlap_then_old_key_refused),
        cmocka_unit_test(test_revoked_key_refused_but_earlier_messages_delivered),
        cmocka_unit_test(test_freshness_window_and_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
