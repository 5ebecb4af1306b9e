/* 08_topics_commune_insee - topics "caleol/<INSEE>" and "logements/<INSEE>":
 * communes (and observers) hold durable subscriptions for the INSEE codes of
 * their own territory only; a CALEOL séance published by a bailleur on
 * caleol/<INSEE> reaches exactly the subscribers of that commune, also when
 * they were offline; each message type may be published only on its own
 * kind of topic. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define QUIET_MS 400 /* "receives nothing": wait this long for a delivery */

typedef struct {
    fbt_broker_t b;
    fb_keys_t bailleur, c10, c11;
    fb_client_t *cb, *cc10, *cc11;
} s_world_t;

/* Connects the bailleur and both communes. */
static void s_world_connect(s_world_t *w)
{
    w->cb = fbt_client(&w->b, &w->bailleur);
    w->cc10 = fbt_client(&w->b, &w->c10);
    w->cc11 = fbt_client(&w->b, &w->c11);
}

static void s_world_disconnect(s_world_t *w)
{
    fb_client_destroy(&w->cb);
    fb_client_destroy(&w->cc10);
    fb_client_destroy(&w->cc11);
}

static void s_world_open(s_world_t *w)
{
    fbt_setup(&w->b);
    fbt_actor(&w->b, FBT_BAILLEUR, "bailleur", NULL, &w->bailleur);
    fbt_actor(&w->b, "commune:74010", "commune", "74010", &w->c10);
    fbt_actor(&w->b, "commune:74011", "commune", "74011", &w->c11);
    fbt_start(&w->b);
    s_world_connect(w);
}

static void s_world_close(s_world_t *w)
{
    s_world_disconnect(w);
    assert_int_equal(fbt_stop(&w->b, SIGTERM), 0);
    fbt_teardown(&w->b);
}

/* Publishes a séance for `insee` on `topic` (and to `to` if not NULL);
 * returns the send result, *rec filled in. */
static fb_err_t s_publish_seance(s_world_t *w, const char *seance, const char *insee,
                                 const char *to, const char *topic, fb_receipt_t *rec)
{
    size_t len = 0;
    uint8_t *payload = fbt_seance(seance, insee, &len);
    fb_err_t rc = fbt_send(w->cb, T(CALEOL_SEANCE), to, topic, payload, len, rec);
    free(payload);
    return rc;
}

/* Checks the broker-signed receipt lists exactly `who` in delivered_to. */
static void s_expect_delivered_to(const fbt_broker_t *b, const fb_receipt_t *rec, const char *who)
{
    Fluxbus__V1__Envelope *env = NULL;
    Fluxbus__V1__SignedBody *body = NULL;
    ProtobufCMessage *msg = NULL;
    assert_int_equal(
        fb_envelope_decode(rec->receipt, rec->receipt_len, FB_DEFAULT_MAX_ENVELOPE, &env), FB_OK);
    assert_int_equal(fb_envelope_verify(env, b->keys.sign_pk), FB_OK);
    assert_int_equal(fb_envelope_parse_body(env, &body), FB_OK);
    assert_int_equal(body->type, T(RECEIPT));
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__receipt__descriptor, body->payload.data,
                                     body->payload.len, FB_DEFAULT_MAX_ENVELOPE, &msg),
                     FB_OK);
    Fluxbus__V1__Receipt *r = (Fluxbus__V1__Receipt *)msg;
    assert_int_equal(r->n_delivered_to, 1);
    assert_string_equal(r->delivered_to[0], who);
    fb_codec_free(msg);
    fb_body_free(body);
    fb_envelope_free(env);
}

/* The next delivery of c is the séance of receipt `rec` on `topic`. */
static void s_expect_seance(fb_client_t *c, const fb_receipt_t *rec, const char *topic)
{
    fb_delivery_t *d = fbt_recv_ack(c, 5000);
    assert_non_null(d);
    assert_int_equal(d->body->type, T(CALEOL_SEANCE));
    assert_memory_equal(d->body->message_id.data, rec->message_id, FB_MESSAGE_ID_BYTES);
    assert_int_equal(d->store_seq, rec->store_seq);
    assert_int_equal(d->body->n_topics, 1);
    assert_string_equal(d->body->topics[0], topic);
    fb_delivery_destroy(&d);
}

static void test_commune_may_subscribe_only_to_its_own_insee(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    assert_int_equal(fb_client_subscribe(w.cc10, "caleol/74010"), FB_OK);
    assert_int_equal(fb_client_subscribe(w.cc11, "caleol/74011"), FB_OK);
    assert_int_equal(fb_client_subscribe(w.cc10, "logements/74010"), FB_OK);
    assert_int_equal(fb_client_subscribe(w.cc10, "caleol/74010"), FB_OK); /* again: idempotent */

    /* Another commune's INSEE, well-formed: not its territory. */
    assert_int_equal(fb_client_subscribe(w.cc10, "caleol/74011"), FB_ERR_NOT_AUTHORIZED);
    assert_int_equal(fb_client_subscribe(w.cc11, "caleol/74010"), FB_ERR_NOT_AUTHORIZED);
    assert_int_equal(fb_client_subscribe(w.cc10, "logements/2A004"), FB_ERR_NOT_AUTHORIZED);

    static const char *const bad[] = {
        "caleol/xyz",     "caleol/7401", "caleol/740100", "caleol/",      "caleol/74010/x",
        "logement/74010", "74010",       "caleol74010",   "caleol/2C004", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fb_err_t rc = fb_client_subscribe(w.cc10, bad[i]);
        if (rc != FB_ERR_BAD_TOPIC)
            fprintf(stderr, "topic \"%s\": expected BAD_TOPIC, got %s\n", bad[i], fb_err_name(rc));
        assert_int_equal(rc, FB_ERR_BAD_TOPIC);
    }

    /* Only communes and observers subscribe, whatever the territory. */
    fb_keys_t resa, obs;
    fbt_actor(&w.b, "reservataire:action-logement", "reservataire", "74010", &resa);
    fbt_actor(&w.b, "observer:ddets-74", "observer", "74010,74011", &obs);
    fb_client_t *cr = fbt_client(&w.b, &resa);
    fb_client_t *co = fbt_client(&w.b, &obs);
    assert_int_equal(fb_client_subscribe(cr, "caleol/74010"), FB_ERR_NOT_AUTHORIZED);
    assert_int_equal(fb_client_subscribe(w.cb, "caleol/74010"), FB_ERR_NOT_AUTHORIZED);
    assert_int_equal(fb_client_subscribe(co, "caleol/74010"), FB_OK);
    assert_int_equal(fb_client_subscribe(co, "caleol/74011"), FB_OK);
    assert_int_equal(fb_client_subscribe(co, "caleol/74012"), FB_ERR_NOT_AUTHORIZED);

    /* The refused subscriptions were not recorded: only commune 74010 and the
     * observer get a séance of 74010. */
    fb_receipt_t rec;
    assert_int_equal(s_publish_seance(&w, "seance-1", "74010", NULL, "caleol/74010", &rec), FB_OK);
    s_expect_seance(w.cc10, &rec, "caleol/74010");
    s_expect_seance(co, &rec, "caleol/74010");
    fbt_expect_nothing(w.cc11, QUIET_MS);
    fbt_expect_nothing(cr, QUIET_MS);
    fb_receipt_clear(&rec);

    fb_client_destroy(&cr);
    fb_client_destroy(&co);
    s_world_close(&w);
}

static void test_seance_reaches_only_the_commune_of_its_insee(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    assert_int_equal(fb_client_subscribe(w.cc10, "caleol/74010"), FB_OK);
    assert_int_equal(fb_client_subscribe(w.cc11, "caleol/74011"), FB_OK);

    fb_receipt_t r10, r11;
    assert_int_equal(s_publish_seance(&w, "seance-10", "74010", NULL, "caleol/74010", &r10), FB_OK);
    assert_true(r10.accepted);
    s_expect_delivered_to(&w.b, &r10, w.c10.actor);
    assert_int_equal(s_publish_seance(&w, "seance-11", "74011", NULL, "caleol/74011", &r11), FB_OK);
    s_expect_delivered_to(&w.b, &r11, w.c11.actor);

    /* Each commune's first delivery is its own séance, and nothing else. */
    s_expect_seance(w.cc11, &r11, "caleol/74011");
    s_expect_seance(w.cc10, &r10, "caleol/74010");
    fbt_expect_nothing(w.cc10, QUIET_MS);
    fbt_expect_nothing(w.cc11, QUIET_MS);

    /* A commune both addressed and subscribed gets the séance once. */
    fb_receipt_t both;
    assert_int_equal(
        s_publish_seance(&w, "seance-10b", "74010", w.c10.actor, "caleol/74010", &both), FB_OK);
    s_expect_delivered_to(&w.b, &both, w.c10.actor);
    s_expect_seance(w.cc10, &both, "caleol/74010");
    fbt_expect_nothing(w.cc10, QUIET_MS);

    fb_receipt_clear(&r10);
    fb_receipt_clear(&r11);
    fb_receipt_clear(&both);
    s_world_close(&w);
}

static void test_subscription_is_durable_across_disconnect_and_restart(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    assert_int_equal(fb_client_subscribe(w.cc11, "caleol/74011"), FB_OK);
    fb_client_destroy(&w.cc11);

    /* Published while commune 74011 is away. */
    fb_receipt_t rec;
    assert_int_equal(s_publish_seance(&w, "seance-away", "74011", NULL, "caleol/74011", &rec),
                     FB_OK);
    s_expect_delivered_to(&w.b, &rec, w.c11.actor);
    w.cc11 = fbt_client(&w.b, &w.c11); /* reconnects without subscribing again */
    s_expect_seance(w.cc11, &rec, "caleol/74011");
    fbt_expect_nothing(w.cc11, QUIET_MS);
    fb_receipt_clear(&rec);

    /* The subscription also survives a broker restart. */
    s_world_disconnect(&w);
    assert_int_equal(fbt_stop(&w.b, SIGTERM), 0);
    fbt_start(&w.b);
    s_world_connect(&w);
    assert_int_equal(s_publish_seance(&w, "seance-restart", "74011", NULL, "caleol/74011", &rec),
                     FB_OK);
    s_expect_seance(w.cc11, &rec, "caleol/74011");
    fbt_expect_nothing(w.cc11, QUIET_MS);
    fbt_expect_nothing(w.cc10, QUIET_MS);
    fb_receipt_clear(&rec);
    s_world_close(&w);
}

static void test_each_type_is_published_only_on_its_topic_kind(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    assert_int_equal(fb_client_subscribe(w.cc10, "caleol/74010"), FB_OK);
    assert_int_equal(fb_client_subscribe(w.cc10, "logements/74010"), FB_OK);
    size_t len = 0;
    uint8_t *logement = fbt_logement("vac-topic", "74010", &len);
    fb_receipt_t rec;

    /* A freed dwelling is not a CALEOL séance. */
    assert_int_equal(fbt_send(w.cb, T(LOGEMENT_LIBERE), NULL, "caleol/74010", logement, len, &rec),
                     FB_ERR_NOT_AUTHORIZED);
    assert_false(rec.accepted);
    fb_receipt_clear(&rec);
    /* Nor is a séance a freed dwelling. */
    assert_int_equal(s_publish_seance(&w, "seance-x", "74010", NULL, "logements/74010", &rec),
                     FB_ERR_NOT_AUTHORIZED);
    fb_receipt_clear(&rec);
    /* Malformed topics are refused as such. */
    assert_int_equal(s_publish_seance(&w, "seance-x", "74010", NULL, "caleol/xyz", &rec),
                     FB_ERR_BAD_TOPIC);
    fb_receipt_clear(&rec);
    /* A commune does not publish séances. */
    size_t slen = 0;
    uint8_t *seance = fbt_seance("seance-c", "74010", &slen);
    assert_int_equal(fbt_send(w.cc10, T(CALEOL_SEANCE), NULL, "caleol/74010", seance, slen, &rec),
                     FB_ERR_NOT_AUTHORIZED);
    fb_receipt_clear(&rec);

    /* On its own kind of topic the dwelling goes through, and it is the
     * first thing commune 74010 receives. */
    assert_int_equal(
        fbt_send(w.cb, T(LOGEMENT_LIBERE), NULL, "logements/74010", logement, len, &rec), FB_OK);
    s_expect_delivered_to(&w.b, &rec, w.c10.actor);
    fb_delivery_t *d = fbt_recv_ack(w.cc10, 5000);
    assert_non_null(d);
    assert_int_equal(d->body->type, T(LOGEMENT_LIBERE));
    assert_memory_equal(d->body->message_id.data, rec.message_id, FB_MESSAGE_ID_BYTES);
    fb_delivery_destroy(&d);
    fbt_expect_nothing(w.cc10, QUIET_MS);
    fb_receipt_clear(&rec);
    free(seance);
    free(logement);
    s_world_close(&w);
}

/* INSEE codes are five digits, except Corsica's 2A... and 2B...: a letter
 * after any other first digit is not a commune. */
static void test_insee_letters_are_only_corsican_2a_2b(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    fb_keys_t corse;
    fbt_actor(&w.b, "commune:2A004", "commune", "2A004,7A010", &corse);
    fb_client_t *cc = fbt_client(&w.b, &corse);
    assert_int_equal(fb_client_subscribe(cc, "caleol/2A004"), FB_OK);
    assert_int_equal(fb_client_subscribe(cc, "logements/2B033"), FB_ERR_NOT_AUTHORIZED);

    /* Even listed in a territory, 7A010 is no INSEE code. */
    assert_int_equal(fb_client_subscribe(cc, "caleol/7A010"), FB_ERR_BAD_TOPIC);
    fb_receipt_t rec;
    assert_int_equal(s_publish_seance(&w, "seance-7a", "74010", NULL, "caleol/7B010", &rec),
                     FB_ERR_BAD_TOPIC);
    fb_receipt_clear(&rec);

    assert_int_equal(s_publish_seance(&w, "seance-2a", "2A004", NULL, "caleol/2A004", &rec), FB_OK);
    s_expect_seance(cc, &rec, "caleol/2A004");
    fb_receipt_clear(&rec);
    fb_client_destroy(&cc);
    s_world_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commune_may_subscribe_only_to_its_own_insee),
        cmocka_unit_test(test_seance_reaches_only_the_commune_of_its_insee),
        cmocka_unit_test(test_subscription_is_durable_across_disconnect_and_restart),
        cmocka_unit_test(test_each_type_is_published_only_on_its_topic_kind),
        cmocka_unit_test(test_insee_letters_are_only_corsican_2a_2b),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
