/* 07_security_sender_mismatch - a connection speaks only for the actor its
 * CURVE key is bound to: an envelope signed with another actor's registered
 * key (whatever sender its body names), a body naming another sender, or a
 * body whose key id is not the one that signed it is refused with
 * SENDER_MISMATCH, even though every signature verifies; nothing reaches the
 * recipient, and the connection then sends its own messages normally. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_LOGEMENT FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE
#define QUIET_MS 400 /* "receives nothing": wait this long for a delivery */

typedef struct {
    fbt_broker_t b;
    fb_keys_t a, b_keys, resa; /* bailleurs A and B, one réservataire */
    fb_client_t *ca, *cr;
    uint8_t *payload;
    size_t len;
} s_world_t;

static void s_world_open(s_world_t *w)
{
    fbt_setup(&w->b);
    fbt_actor(&w->b, "bailleur:552046955", "bailleur", NULL, &w->a);
    fbt_actor(&w->b, "bailleur:775663438", "bailleur", NULL, &w->b_keys);
    fbt_actor(&w->b, "reservataire:action-logement", "reservataire", NULL, &w->resa);
    fbt_start(&w->b);
    w->ca = fbt_client(&w->b, &w->a);
    w->cr = fbt_client(&w->b, &w->resa);
    w->payload = fbt_logement("vac-mismatch", "74010", &w->len);
}

static void s_world_close(s_world_t *w)
{
    free(w->payload);
    fb_client_destroy(&w->ca);
    fb_client_destroy(&w->cr);
    assert_int_equal(fbt_stop(&w->b, SIGTERM), 0);
    fbt_teardown(&w->b);
}

/* A LogementLibere to the réservataire claiming `sender` and `key_id`,
 * signed with `keys` (whose key id is the envelope's hint). */
static uint8_t *s_forge(s_world_t *w, const char *sender, const char *key_id, const fb_keys_t *keys,
                        size_t *len, uint8_t id[FB_MESSAGE_ID_BYTES])
{
    char *to[1] = {w->resa.actor};
    fb_message_id_new(id);
    Fluxbus__V1__SignedBody body = FLUXBUS__V1__SIGNED_BODY__INIT;
    body.version = FB_PROTOCOL_VERSION;
    body.message_id.data = id;
    body.message_id.len = FB_MESSAGE_ID_BYTES;
    body.sender = (char *)sender;
    body.key_id = (char *)key_id;
    body.recipients = to;
    body.n_recipients = 1;
    body.sequence = 1;
    body.created_at_ms = fb_now_ms();
    body.type = T_LOGEMENT;
    body.correlation_id = "vac-mismatch";
    body.payload.data = w->payload;
    body.payload.len = w->len;
    uint8_t *env = NULL;
    assert_int_equal(fb_envelope_seal(&body, keys, &env, len), FB_OK);
    return env;
}

static void s_expect_mismatch(s_world_t *w, const uint8_t *env, size_t len,
                              const uint8_t id[FB_MESSAGE_ID_BYTES])
{
    fb_receipt_t rec;
    fb_err_t rc = fb_client_send_raw(w->ca, env, len, id, &rec);
    if (rc != FB_ERR_SENDER_MISMATCH)
        fprintf(stderr, "expected SENDER_MISMATCH, got %s (%s)\n", fb_err_name(rc), rec.detail);
    assert_int_equal(rc, FB_ERR_SENDER_MISMATCH);
    assert_false(rec.accepted);
    assert_int_equal(rec.reason, FB_ERR_SENDER_MISMATCH);
    fb_receipt_clear(&rec);
}

/* A's own message is accepted and is the recipient's first delivery:
 * nothing forged went before it, and nothing else follows. */
static void s_expect_only_genuine_delivered(s_world_t *w)
{
    fb_receipt_t rec;
    assert_int_equal(fbt_send(w->ca, T_LOGEMENT, w->resa.actor, NULL, w->payload, w->len, &rec),
                     FB_OK);
    fb_delivery_t *d = fbt_recv_ack(w->cr, 5000);
    assert_non_null(d);
    assert_memory_equal(d->body->message_id.data, rec.message_id, FB_MESSAGE_ID_BYTES);
    assert_string_equal(d->body->sender, w->a.actor);
    assert_memory_equal(d->sender_pk, w->a.sign_pk, FB_SIGN_PK_BYTES);
    fb_delivery_destroy(&d);
    d = fbt_recv_ack(w->cr, QUIET_MS);
    if (d)
        fprintf(stderr, "unexpected delivery from %s\n", d->body->sender);
    assert_null(d);
    fb_receipt_clear(&rec);
}

static void test_envelope_signed_with_another_actors_key_is_sender_mismatch(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    /* B's genuine, registered key and B as sender, sent on A's connection. */
    uint8_t id[FB_MESSAGE_ID_BYTES];
    size_t len = 0;
    uint8_t *env = s_forge(&w, w.b_keys.actor, w.b_keys.key_id, &w.b_keys, &len, id);
    s_expect_mismatch(&w, env, len, id);
    assert_true(fbt_log_contains(&w.b, "reason=SENDER_MISMATCH"));
    s_expect_only_genuine_delivered(&w);
    free(env);
    s_world_close(&w);
}

static void test_own_name_signed_with_another_actors_key_is_sender_mismatch(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    /* The body says A, as the connection does, but B's registered key signed
     * it: only the key's owner gives it away. */
    uint8_t id[FB_MESSAGE_ID_BYTES];
    size_t len = 0;
    uint8_t *env = s_forge(&w, w.a.actor, w.b_keys.key_id, &w.b_keys, &len, id);
    s_expect_mismatch(&w, env, len, id);
    s_expect_only_genuine_delivered(&w);
    free(env);
    s_world_close(&w);
}

static void test_body_naming_another_sender_is_sender_mismatch(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    /* Signed with A's own key, but the body says it comes from B. */
    uint8_t id[FB_MESSAGE_ID_BYTES];
    size_t len = 0;
    uint8_t *env = s_forge(&w, w.b_keys.actor, w.a.key_id, &w.a, &len, id);
    s_expect_mismatch(&w, env, len, id);
    s_expect_only_genuine_delivered(&w);
    free(env);
    s_world_close(&w);
}

static void test_body_key_id_other_than_signing_key_is_sender_mismatch(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    /* Signed with A's key (the envelope's hint), the body names B's key id. */
    uint8_t id[FB_MESSAGE_ID_BYTES];
    size_t len = 0;
    uint8_t *env = s_forge(&w, w.a.actor, w.b_keys.key_id, &w.a, &len, id);
    s_expect_mismatch(&w, env, len, id);
    s_expect_only_genuine_delivered(&w);
    free(env);
    s_world_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_signed_with_another_actors_key_is_sender_mismatch),
        cmocka_unit_test(test_own_name_signed_with_another_actors_key_is_sender_mismatch),
        cmocka_unit_test(test_body_naming_another_sender_is_sender_mismatch),
        cmocka_unit_test(test_body_key_id_other_than_signing_key_is_sender_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
