/* 06_security_unregistered_curve - the broker's ZAP handler admits only
 * CURVE keys registered to an active actor: an unknown key, or the key of a
 * revoked actor, is refused at the handshake (the client reports FB_ERR_AUTH
 * and the broker logs "zap deny"); a connection opened before the revocation
 * may no longer send nor start receiving; registered actors keep working on
 * the same broker at the same time. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/v1/orientation.pb-c.h"
#include "store.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define REFUSED_WAIT_MS 1000 /* how long a refused client tries to connect */
#define QUIET_MS 400         /* "receives nothing": wait this long for a delivery */

/* The registered pair still talks: a vacancy goes through end to end. */
static void s_expect_bus_works(fbt_pair_t *w)
{
    size_t len = 0;
    uint8_t *payload = fbt_logement("vac-curve", "74010", &len);
    fb_receipt_t rec;
    assert_int_equal(fbt_send(w->cb, T(LOGEMENT_LIBERE), w->resa.actor, NULL, payload, len, &rec),
                     FB_OK);
    fb_delivery_t *d = fbt_recv_ack(w->cr, 5000);
    assert_non_null(d);
    assert_memory_equal(d->body->message_id.data, rec.message_id, FB_MESSAGE_ID_BYTES);
    fb_delivery_destroy(&d);
    fb_receipt_clear(&rec);
    free(payload);
}

/* Connecting with `keys` fails with FB_ERR_AUTH and the broker logged why. */
static void s_expect_refused(fbt_pair_t *w, const fb_keys_t *keys, const char *why)
{
    fb_err_t err = FB_OK;
    fb_client_t *c = fbt_try_client(&w->b, keys, REFUSED_WAIT_MS, &err);
    assert_null(c);
    if (err != FB_ERR_AUTH)
        fprintf(stderr, "connect as %s: expected AUTH, got %s\n", keys->actor, fb_err_name(err));
    assert_int_equal(err, FB_ERR_AUTH);
    char hex[2 * FB_CURVE_KEY_BYTES + 1], line[256];
    fb_hex_encode(keys->curve_pk, FB_CURVE_KEY_BYTES, hex);
    snprintf(line, sizeof line, "zap deny key=%s reason=%s", hex, why);
    assert_true(fbt_log_contains(&w->b, line));
}

static void test_unregistered_transport_key_is_refused_with_auth(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open(&w);
    fb_keys_t stranger;
    assert_int_equal(fb_keys_generate(&stranger, "reservataire:stranger"), FB_OK);
    s_expect_refused(&w, &stranger, "unregistered");

    /* Same actor name as a registered one, other keys: still a stranger. */
    fb_keys_t impostor;
    assert_int_equal(fb_keys_generate(&impostor, w.resa.actor), FB_OK);
    s_expect_refused(&w, &impostor, "unregistered");

    /* The registered clients, connected all along, are unaffected; a new
     * registered connection is admitted. */
    s_expect_bus_works(&w);
    fb_client_destroy(&w.cr);
    w.cr = fbt_client(&w.b, &w.resa);
    s_expect_bus_works(&w);
    fbt_pair_close(&w);
}

static void test_revoked_actor_can_no_longer_connect(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open(&w);
    fb_keys_t other;
    fbt_actor(&w.b, "reservataire:prefet-74", "reservataire", NULL, &other);
    fb_client_t *co = fbt_client(&w.b, &other); /* admitted before revocation */

    fbt_revoke_actor(&w.b, other.actor);
    s_expect_refused(&w, &other, "revoked");

    /* Its connection from before may no longer send... */
    Fluxbus__V1__OrientationAck ack = FLUXBUS__V1__ORIENTATION_ACK__INIT;
    ack.vacancy_id = "vac-curve";
    ack.convention_id = "conv-2025-prefet";
    uint8_t *payload = NULL;
    size_t len = 0;
    assert_int_equal(fb_codec_pack(&ack.base, &payload, &len), FB_OK);
    fb_receipt_t rec;
    assert_int_equal(fbt_send(co, T(ORIENTATION_ACK), w.bailleur.actor, NULL, payload, len, &rec),
                     FB_ERR_NOT_AUTHORIZED);
    assert_false(rec.accepted);
    fb_receipt_clear(&rec);
    free(payload);

    /* ...and nobody may address it any more. */
    payload = fbt_logement("vac-curve", "74010", &len);
    assert_int_equal(fbt_send(w.cb, T(LOGEMENT_LIBERE), other.actor, NULL, payload, len, &rec),
                     FB_ERR_UNKNOWN_RECIPIENT);
    fb_receipt_clear(&rec);
    free(payload);

    /* The others are unaffected. */
    s_expect_bus_works(&w);
    fb_client_destroy(&co);
    fbt_pair_close(&w);
}

static void test_revoked_actor_open_connection_receives_nothing_more(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open(&w);
    fb_keys_t other;
    fbt_actor(&w.b, "reservataire:prefet-74", "reservataire", NULL, &other);
    fb_client_t *co = fbt_client(&w.b, &other); /* connected, not receiving yet */

    /* A vacancy waits for it, then it is revoked. */
    size_t len = 0;
    uint8_t *payload = fbt_logement("vac-curve", "74010", &len);
    fb_receipt_t rec;
    assert_int_equal(fbt_send(w.cb, T(LOGEMENT_LIBERE), other.actor, NULL, payload, len, &rec),
                     FB_OK);
    fb_receipt_clear(&rec);
    fbt_revoke_actor(&w.b, other.actor);
    /* The broker has seen the registry change (this send is refused for it). */
    assert_int_equal(fbt_send(w.cb, T(LOGEMENT_LIBERE), other.actor, NULL, payload, len, &rec),
                     FB_ERR_UNKNOWN_RECIPIENT);
    fb_receipt_clear(&rec);

    /* Asking for deliveries now (HELLO) on the connection opened before the
     * revocation must not hand it the backlog. */
    fb_delivery_t *d = NULL;
    fb_err_t rc = fb_client_recv(co, &d, QUIET_MS);
    if (d)
        fprintf(stderr, "revoked actor received seq %llu\n", (unsigned long long)d->store_seq);
    fb_delivery_destroy(&d);
    assert_int_equal(rc, FB_ERR_TIMEOUT);

    s_expect_bus_works(&w);
    free(payload);
    fb_client_destroy(&co);
    fbt_pair_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unregistered_transport_key_is_refused_with_auth),
        cmocka_unit_test(test_revoked_actor_can_no_longer_connect),
        cmocka_unit_test(test_revoked_actor_open_connection_receives_nothing_more),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
