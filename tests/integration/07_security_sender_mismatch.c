/* 07_security_sender_mismatch - a connection speaks only for the actor its
 * CURVE key is bound to: an envelope signed with another actor's registered
 * key (whatever sender its body names), a body naming another sender, or a
 * body whose key id is not the one that signed it is refused with
 * SENDER_MISMATCH, even though every signature verifies; nothing reaches the
 * recipient, and the connection then sends its own messages normally. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_LOGEMENT FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE
#define QUIET_MS 400 /* "receives nothing": wait this long for a delivery */

typedef struct {
    fbt_pair_t p;     /* p.bailleur is bailleur A */
    fb_keys_t b_keys; /* bailleur B */
    uint8_t *payload;
    size_t len;
} s_world_t;

static void s_world_open(s_world_t *w)
{
    fbt_pair_open(&w->p);
    fbt_actor(&w->p.b, "bailleur:775663438", "bailleur", NULL, &w->b_keys);
    w->payload = fbt_logement("vac-mismatch", "74010", &w->len);
}

static void s_world_close(s_world_t *w)
{
    free(w->payload);
    fbt_pair_close(&w->p);
}

/* A LogementLibere to the réservataire claiming `sender` and `key_id`,
 * signed with `keys` (whose key id is the envelope's hint) and sent on A's
 * connection, is refused with SENDER_MISMATCH. */
static void s_expect_mismatch(s_world_t *w, const char *sender, const char *key_id,
                              const fb_keys_t *keys)
{
    uint8_t id[FB_MESSAGE_ID_BYTES];
    size_t len = 0;
    uint8_t *env = fbt_forge(keys, sender, key_id, w->p.resa.actor, "vac-mismatch", w->payload,
                             w->len, &len, id);
    fb_receipt_t rec;
    fb_err_t rc = fb_client_send_raw(w->p.cb, env, len, id, &rec);
    if (rc != FB_ERR_SENDER_MISMATCH)
        fprintf(stderr, "expected SENDER_MISMATCH, got %s (%s)\n", fb_err_name(rc), rec.detail);
    assert_int_equal(rc, FB_ERR_SENDER_MISMATCH);
    assert_false(rec.accepted);
    assert_int_equal(rec.reason, FB_ERR_SENDER_MISMATCH);
    fb_receipt_clear(&rec);
    free(env);
}

/* A's own message is accepted and is the recipient's first delivery:
 * nothing forged went before it, and nothing else follows. */
static void s_expect_only_genuine_delivered(s_world_t *w)
{
    fb_receipt_t rec;
    assert_int_equal(fbt_send(w->p.cb, T_LOGEMENT, w->p.resa.actor, NULL, w->payload, w->len, &rec),
                     FB_OK);
    fb_delivery_t *d = fbt_recv_ack(w->p.cr, 5000);
    assert_non_null(d);
    assert_memory_equal(d->body->message_id.data, rec.message_id, FB_MESSAGE_ID_BYTES);
    assert_string_equal(d->body->sender, w->p.bailleur.actor);
    assert_memory_equal(d->sender_pk, w->p.bailleur.sign_pk, FB_SIGN_PK_BYTES);
    fb_delivery_destroy(&d);
    fbt_expect_nothing(w->p.cr, QUIET_MS);
    fb_receipt_clear(&rec);
}

static void test_envelope_signed_with_another_actors_key_is_sender_mismatch(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    /* B's genuine, registered key and B as sender, sent on A's connection. */
    s_expect_mismatch(&w, w.b_keys.actor, w.b_keys.key_id, &w.b_keys);
    assert_true(fbt_log_contains(&w.p.b, "reason=SENDER_MISMATCH"));
    s_expect_only_genuine_delivered(&w);
    s_world_close(&w);
}

static void test_own_name_signed_with_another_actors_key_is_sender_mismatch(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    /* The body says A, as the connection does, but B's registered key signed
     * it: only the key's owner gives it away. */
    s_expect_mismatch(&w, w.p.bailleur.actor, w.b_keys.key_id, &w.b_keys);
    s_expect_only_genuine_delivered(&w);
    s_world_close(&w);
}

static void test_body_naming_another_sender_is_sender_mismatch(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    /* Signed with A's own key, but the body says it comes from B. */
    s_expect_mismatch(&w, w.b_keys.actor, w.p.bailleur.key_id, &w.p.bailleur);
    s_expect_only_genuine_delivered(&w);
    s_world_close(&w);
}

static void test_body_key_id_other_than_signing_key_is_sender_mismatch(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    /* Signed with A's key (the envelope's hint), the body names B's key id. */
    s_expect_mismatch(&w, w.p.bailleur.actor, w.b_keys.key_id, &w.p.bailleur);
    s_expect_only_genuine_delivered(&w);
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
