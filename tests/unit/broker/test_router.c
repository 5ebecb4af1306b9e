/* test_router.c - authorization and fan-out (broker/router.c) against a
 * small registry: a bailleur, two réservataires (one revoked later), a
 * commune with its territory, the SNE and an observer. Each rule of the
 * router is spot-checked with one allowed and one refused case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"

#include "fluxbus/v1/envelope.pb-c.h"
#include "router.h"
#include "store.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x

#define S_BAILLEUR "bailleur:552046955"
#define S_RESA "reservataire:action-logement"
#define S_RESA2 "reservataire:etat-74"
#define S_REVOKED "reservataire:ancien"
#define S_COMMUNE "commune:74010"
#define S_SNE "sne:national"
#define S_OBSERVER "observer:dreal-ara"

typedef struct {
    char dir[64];
    char path[128];
    store_t *store;
    router_targets_t targets;
    char detail[256];
} s_fixture_t;

static void s_add_actor(store_t *store, const char *id, const char *roles, const char *territories,
                        uint8_t tag)
{
    store_actor_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.roles, sizeof a.roles, "%s", roles);
    snprintf(a.territories, sizeof a.territories, "%s", territories);
    memset(a.transport_key, tag, sizeof a.transport_key);
    assert_int_equal(store_actor_add(store, &a, "test"), FB_OK);
}

static int s_setup(void **state)
{
    s_fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    if (tmpdir_make(fx->dir, sizeof fx->dir, "router") != 0) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof fx->path, "%s/store.db", fx->dir);
    char err[256] = "";
    fx->store = store_open(fx->path, err, sizeof err);
    if (!fx->store) {
        fprintf(stderr, "store_open: %s\n", err);
        tmpdir_remove(fx->dir);
        free(fx);
        return -1;
    }
    s_add_actor(fx->store, S_BAILLEUR, "bailleur", "", 1);
    s_add_actor(fx->store, S_RESA, "reservataire", "", 2);
    s_add_actor(fx->store, S_RESA2, "reservataire", "", 3);
    s_add_actor(fx->store, S_REVOKED, "reservataire", "", 4);
    s_add_actor(fx->store, S_COMMUNE, "commune", "74010,74011", 5);
    s_add_actor(fx->store, S_SNE, "sne", "", 6);
    s_add_actor(fx->store, S_OBSERVER, "observer", "74010", 7);
    assert_int_equal(store_actor_revoke(fx->store, S_REVOKED, 1, "test"), FB_OK);
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *fx = *state;
    router_targets_free(&fx->targets);
    store_destroy(&fx->store);
    tmpdir_remove(fx->dir);
    free(fx);
    return 0;
}

/* The registry's view of an actor; asserts it exists. */
static store_actor_t s_actor(s_fixture_t *fx, const char *id)
{
    store_actor_t a;
    assert_int_equal(store_actor_get(fx->store, id, &a), FB_OK);
    return a;
}

/* Routes a body of `type` from `sender` to the NULL-terminated lists
 * `recipients` and `topics`. Targets land in fx->targets (emptied first). */
static fb_err_t s_route(s_fixture_t *fx, const char *sender, int type,
                        const char *const *recipients, const char *const *topics)
{
    Fluxbus__V1__SignedBody body = FLUXBUS__V1__SIGNED_BODY__INIT;
    body.version = 1;
    body.sender = (char *)sender;
    body.type = (Fluxbus__V1__MessageType)type;
    for (; recipients && recipients[body.n_recipients]; body.n_recipients++)
        ;
    for (; topics && topics[body.n_topics]; body.n_topics++)
        ;
    body.recipients = (char **)recipients;
    body.topics = (char **)topics;
    router_targets_free(&fx->targets);
    store_actor_t from = s_actor(fx, sender);
    memset(fx->detail, 'x', sizeof fx->detail - 1);
    fx->detail[sizeof fx->detail - 1] = '\0';
    fb_err_t rc =
        router_route(fx->store, &from, &body, &fx->targets, fx->detail, sizeof fx->detail);
    /* A refusal always says why; an acceptance says nothing. */
    if (rc == FB_OK)
        assert_string_equal(fx->detail, "");
    else
        assert_true(strlen(fx->detail) > 0 && fx->detail[0] != 'x');
    return rc;
}

/* True when actor is among the targets. */
static int s_targets_have(const router_targets_t *t, const char *actor)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->actor[i], actor) == 0)
            return 1;
    return 0;
}

#define S_LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The example of use: a bailleur orients a vacancy to a réservataire. */
static void test_router_bailleur_orients_to_reservataire(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_route(fx, S_BAILLEUR, T(ORIENTATION), S_LIST(S_RESA), NULL), FB_OK);
    assert_int_equal(fx->targets.n, 1);
    assert_string_equal(fx->targets.actor[0], S_RESA);

    /* Several recipients, each once, in the order given. */
    assert_int_equal(
        s_route(fx, S_BAILLEUR, T(ORIENTATION), S_LIST(S_RESA2, S_RESA, S_RESA2), NULL), FB_OK);
    assert_int_equal(fx->targets.n, 2);
    assert_string_equal(fx->targets.actor[0], S_RESA2);
    assert_string_equal(fx->targets.actor[1], S_RESA);
}

static void test_router_refuses_sender_role_not_allowed(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_route(fx, S_RESA, T(LOGEMENT_LIBERE), S_LIST(S_RESA2), NULL),
                     FB_ERR_NOT_AUTHORIZED);
    assert_int_equal(s_route(fx, S_COMMUNE, T(ORIENTATION), S_LIST(S_RESA), NULL),
                     FB_ERR_NOT_AUTHORIZED);
    assert_int_equal(s_route(fx, S_BAILLEUR, T(SNE_RADIATION_ACK), S_LIST(S_BAILLEUR), NULL),
                     FB_ERR_NOT_AUTHORIZED);
    /* The allowed direction of the same exchanges. */
    assert_int_equal(s_route(fx, S_RESA, T(ORIENTATION_ACK), S_LIST(S_BAILLEUR), NULL), FB_OK);
    assert_int_equal(s_route(fx, S_SNE, T(SNE_RADIATION_ACK), S_LIST(S_BAILLEUR), NULL), FB_OK);
}

/* LogementIssue is what a mayor may see: communes and observers only, never
 * a réservataire (it would learn other contingents' outcomes). */
static void test_router_logement_issue_goes_to_communes_only(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_route(fx, S_BAILLEUR, T(LOGEMENT_ISSUE), S_LIST(S_COMMUNE), NULL), FB_OK);
    assert_int_equal(s_route(fx, S_BAILLEUR, T(LOGEMENT_ISSUE), S_LIST(S_RESA), NULL),
                     FB_ERR_NOT_AUTHORIZED);
    assert_int_equal(s_route(fx, S_RESA, T(LOGEMENT_ISSUE), S_LIST(S_COMMUNE), NULL),
                     FB_ERR_NOT_AUTHORIZED);
}

static void test_router_refuses_unknown_recipient(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_route(fx, S_BAILLEUR, T(ORIENTATION), S_LIST("reservataire:inconnu"), NULL),
                     FB_ERR_UNKNOWN_RECIPIENT);
    assert_non_null(strstr(fx->detail, "reservataire:inconnu"));
    /* One unknown among known ones refuses the whole message. */
    assert_int_equal(
        s_route(fx, S_BAILLEUR, T(ORIENTATION), S_LIST(S_RESA, "reservataire:inconnu"), NULL),
        FB_ERR_UNKNOWN_RECIPIENT);
}

static void test_router_refuses_revoked_recipient(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_route(fx, S_BAILLEUR, T(ORIENTATION), S_LIST(S_REVOKED), NULL),
                     FB_ERR_UNKNOWN_RECIPIENT);
    assert_non_null(strstr(fx->detail, S_REVOKED));
}

static void test_router_refuses_recipient_with_wrong_role(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_route(fx, S_BAILLEUR, T(ORIENTATION), S_LIST(S_COMMUNE), NULL),
                     FB_ERR_NOT_AUTHORIZED);
    assert_non_null(strstr(fx->detail, S_COMMUNE));
    assert_int_equal(s_route(fx, S_BAILLEUR, T(ORIENTATION), S_LIST(S_SNE), NULL),
                     FB_ERR_NOT_AUTHORIZED);
    /* The commune does receive what its role allows. */
    assert_int_equal(s_route(fx, S_BAILLEUR, T(BILAN_ANNUEL), S_LIST(S_COMMUNE), NULL), FB_OK);
}

static void test_router_refuses_message_without_recipient_or_topic(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_route(fx, S_BAILLEUR, T(ORIENTATION), NULL, NULL), FB_ERR_NO_RECIPIENT);
    assert_int_equal(s_route(fx, S_BAILLEUR, T(LOGEMENT_LIBERE), NULL, NULL), FB_ERR_NO_RECIPIENT);
}

static void test_router_refuses_types_outside_the_domain_catalog(void **state)
{
    s_fixture_t *fx = *state;
    const int types[] = {T(UNSPECIFIED),  20,          99, T(RECEIPT), T(NACK),
                         T(DELIVERY_ACK), T(KEY_CERT), -1};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        assert_int_equal(s_route(fx, S_BAILLEUR, types[i], S_LIST(S_RESA), NULL),
                         FB_ERR_UNKNOWN_TYPE);
}

static void test_router_topic_fans_out_to_subscribers_once(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(store_subscribe(fx->store, S_COMMUNE, "logements/74010"), FB_OK);
    assert_int_equal(store_subscribe(fx->store, S_OBSERVER, "logements/74010"), FB_OK);
    assert_int_equal(store_subscribe(fx->store, S_COMMUNE, "logements/74011"), FB_OK);

    /* Topic only: the subscribers. */
    assert_int_equal(s_route(fx, S_BAILLEUR, T(LOGEMENT_LIBERE), NULL, S_LIST("logements/74010")),
                     FB_OK);
    assert_int_equal(fx->targets.n, 2);
    assert_true(s_targets_have(&fx->targets, S_COMMUNE));
    assert_true(s_targets_have(&fx->targets, S_OBSERVER));

    /* A recipient who also subscribes, and two topics with a common
     * subscriber: everyone appears exactly once. */
    assert_int_equal(s_route(fx, S_BAILLEUR, T(LOGEMENT_LIBERE), S_LIST(S_RESA, S_COMMUNE),
                             S_LIST("logements/74010", "logements/74011")),
                     FB_OK);
    assert_int_equal(fx->targets.n, 3);
    assert_true(s_targets_have(&fx->targets, S_RESA));
    assert_true(s_targets_have(&fx->targets, S_COMMUNE));
    assert_true(s_targets_have(&fx->targets, S_OBSERVER));

    /* A topic nobody subscribes to is allowed and reaches nobody. */
    assert_int_equal(s_route(fx, S_BAILLEUR, T(LOGEMENT_LIBERE), NULL, S_LIST("logements/75056")),
                     FB_OK);
    assert_int_equal(fx->targets.n, 0);

    /* Revoked subscribers are left out. */
    assert_int_equal(store_actor_revoke(fx->store, S_OBSERVER, 2, "test"), FB_OK);
    assert_int_equal(s_route(fx, S_BAILLEUR, T(LOGEMENT_LIBERE), NULL, S_LIST("logements/74010")),
                     FB_OK);
    assert_int_equal(fx->targets.n, 1);
    assert_string_equal(fx->targets.actor[0], S_COMMUNE);
}

static void test_router_refuses_malformed_topic(void **state)
{
    s_fixture_t *fx = *state;
    static const char *const bad[] = {
        "logements",
        "logements/",
        "logements/7401",
        "logements/740100",
        "logements/74O10",
        "logements/74010/",
        "logements/2C004",
        "/74010",
        "foo/74010",
        "LOGEMENTS/74010",
        "logements//74010",
        "",
        "averyveryverylongkindname/74010",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *topics[] = {bad[i], NULL};
        fb_err_t rc = s_route(fx, S_BAILLEUR, T(LOGEMENT_LIBERE), NULL, topics);
        if (rc != FB_ERR_BAD_TOPIC)
            fail_msg("topic \"%s\" gave %s", bad[i], fb_err_name(rc));
    }
    /* Corsican INSEE codes are fine. */
    assert_int_equal(s_route(fx, S_BAILLEUR, T(LOGEMENT_LIBERE), NULL, S_LIST("logements/2A004")),
                     FB_OK);
    assert_int_equal(s_route(fx, S_BAILLEUR, T(LOGEMENT_LIBERE), NULL, S_LIST("logements/2B033")),
                     FB_OK);
}

static void test_router_refuses_letters_in_insee_outside_corsica(void **state)
{
    s_fixture_t *fx = *state;
    /* Only département 2 (Corse) has letters: 2A and 2B. */
    static const char *const bad[] = {"logements/1A004", "logements/0B123", "logements/9A001"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *topics[] = {bad[i], NULL};
        fb_err_t rc = s_route(fx, S_BAILLEUR, T(LOGEMENT_LIBERE), NULL, topics);
        if (rc != FB_ERR_BAD_TOPIC)
            fail_msg("topic \"%s\" gave %s", bad[i], fb_err_name(rc));
    }
}

static void test_router_refuses_topic_of_the_wrong_kind(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_route(fx, S_BAILLEUR, T(LOGEMENT_LIBERE), NULL, S_LIST("caleol/74010")),
                     FB_ERR_NOT_AUTHORIZED);
    assert_int_equal(s_route(fx, S_BAILLEUR, T(CALEOL_SEANCE), NULL, S_LIST("logements/74010")),
                     FB_ERR_NOT_AUTHORIZED);
    /* A type with no topic kind at all. */
    assert_int_equal(
        s_route(fx, S_BAILLEUR, T(ORIENTATION), S_LIST(S_RESA), S_LIST("logements/74010")),
        FB_ERR_NOT_AUTHORIZED);
    assert_int_equal(s_route(fx, S_BAILLEUR, T(CALEOL_SEANCE), NULL, S_LIST("caleol/74010")),
                     FB_OK);
}

static void test_router_designation_by_bailleur_needs_a_mandate(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(s_route(fx, S_BAILLEUR, T(DESIGNATION), S_LIST(S_RESA), NULL),
                     FB_ERR_NOT_AUTHORIZED);
    assert_non_null(strstr(fx->detail, "mandate"));

    assert_int_equal(store_mandate_add(fx->store, S_RESA, S_BAILLEUR, "test"), FB_OK);
    assert_int_equal(s_route(fx, S_BAILLEUR, T(DESIGNATION), S_LIST(S_RESA), NULL), FB_OK);
    assert_int_equal(fx->targets.n, 1);
    assert_string_equal(fx->targets.actor[0], S_RESA);

    /* The mandate is per réservataire. */
    assert_int_equal(s_route(fx, S_BAILLEUR, T(DESIGNATION), S_LIST(S_RESA2), NULL),
                     FB_ERR_NOT_AUTHORIZED);
    /* The usual direction, réservataire to bailleur, needs none. */
    assert_int_equal(s_route(fx, S_RESA2, T(DESIGNATION), S_LIST(S_BAILLEUR), NULL), FB_OK);
}

static void test_router_may_subscribe_to_own_territory_only(void **state)
{
    s_fixture_t *fx = *state;
    char detail[256];
    store_actor_t commune = s_actor(fx, S_COMMUNE);
    assert_int_equal(router_may_subscribe(&commune, "caleol/74010", detail, sizeof detail), FB_OK);
    assert_int_equal(router_may_subscribe(&commune, "logements/74011", detail, sizeof detail),
                     FB_OK);
    assert_int_equal(router_may_subscribe(&commune, "caleol/75056", detail, sizeof detail),
                     FB_ERR_NOT_AUTHORIZED);
    assert_true(strlen(detail) > 0);

    store_actor_t observer = s_actor(fx, S_OBSERVER);
    assert_int_equal(router_may_subscribe(&observer, "logements/74010", detail, sizeof detail),
                     FB_OK);
    assert_int_equal(router_may_subscribe(&observer, "logements/74011", detail, sizeof detail),
                     FB_ERR_NOT_AUTHORIZED);

    store_actor_t resa = s_actor(fx, S_RESA);
    assert_int_equal(router_may_subscribe(&resa, "caleol/74010", detail, sizeof detail),
                     FB_ERR_NOT_AUTHORIZED);
    store_actor_t bailleur = s_actor(fx, S_BAILLEUR);
    assert_int_equal(router_may_subscribe(&bailleur, "logements/74010", detail, sizeof detail),
                     FB_ERR_NOT_AUTHORIZED);

    assert_int_equal(router_may_subscribe(&commune, "caleol/7401", detail, sizeof detail),
                     FB_ERR_BAD_TOPIC);
    assert_int_equal(router_may_subscribe(&commune, "meteo/74010", detail, sizeof detail),
                     FB_ERR_BAD_TOPIC);
    assert_true(strlen(detail) > 0);
}

static void test_router_may_subscribe_accepts_corsican_insee(void **state)
{
    char detail[256];
    store_actor_t ajaccio;
    memset(&ajaccio, 0, sizeof ajaccio);
    snprintf(ajaccio.id, sizeof ajaccio.id, "commune:2A004");
    snprintf(ajaccio.roles, sizeof ajaccio.roles, "commune");
    snprintf(ajaccio.territories, sizeof ajaccio.territories, "2A004");
    assert_int_equal(router_may_subscribe(&ajaccio, "caleol/2A004", detail, sizeof detail), FB_OK);
    assert_int_equal(router_may_subscribe(&ajaccio, "caleol/2B004", detail, sizeof detail),
                     FB_ERR_NOT_AUTHORIZED);
    assert_int_equal(router_may_subscribe(&ajaccio, "caleol/2a004", detail, sizeof detail),
                     FB_ERR_BAD_TOPIC);
    assert_int_equal(router_may_subscribe(&ajaccio, "caleol/20A04", detail, sizeof detail),
                     FB_ERR_BAD_TOPIC);
}

#define S_BROKER "broker"

/* A body of `type` from `sender` to the NULL-terminated `recipients`
 * (and topics), checked as a message to the broker itself. */
static fb_err_t s_route_to_broker(s_fixture_t *fx, const char *sender, int type,
                                  const char *const *recipients, const char *const *topics)
{
    Fluxbus__V1__SignedBody body = FLUXBUS__V1__SIGNED_BODY__INIT;
    body.sender = (char *)sender;
    body.type = (Fluxbus__V1__MessageType)type;
    for (; recipients && recipients[body.n_recipients]; body.n_recipients++)
        ;
    for (; topics && topics[body.n_topics]; body.n_topics++)
        ;
    body.recipients = (char **)recipients;
    body.topics = (char **)topics;
    assert_true(router_for_broker(&body, S_BROKER));
    store_actor_t from = s_actor(fx, sender);
    fx->detail[0] = 'x';
    fb_err_t rc = router_route_to_broker(&from, &body, S_BROKER, fx->detail, sizeof fx->detail);
    assert_true(rc == FB_OK ? fx->detail[0] == '\0' : strlen(fx->detail) > 1);
    return rc;
}

static void test_router_bilan_request_goes_to_the_broker_only(void **state)
{
    s_fixture_t *fx = *state;
    const char *const *to_broker = S_LIST(S_BROKER);
    assert_int_equal(s_route_to_broker(fx, S_RESA, T(BILAN_REQUEST), to_broker, NULL), FB_OK);
    assert_int_equal(s_route_to_broker(fx, S_BAILLEUR, T(BILAN_REQUEST), to_broker, NULL), FB_OK);
    assert_int_equal(s_route_to_broker(fx, S_OBSERVER, T(BILAN_REQUEST), to_broker, NULL), FB_OK);
    assert_int_equal(s_route_to_broker(fx, S_COMMUNE, T(BILAN_REQUEST), to_broker, NULL), FB_OK);
    /* The SNE asks for no bilan. */
    assert_int_equal(s_route_to_broker(fx, S_SNE, T(BILAN_REQUEST), to_broker, NULL),
                     FB_ERR_NOT_AUTHORIZED);
    /* The broker alone, no topic. */
    assert_int_equal(
        s_route_to_broker(fx, S_RESA, T(BILAN_REQUEST), S_LIST(S_BROKER, S_BAILLEUR), NULL),
        FB_ERR_NOT_AUTHORIZED);
    assert_int_equal(
        s_route_to_broker(fx, S_RESA, T(BILAN_REQUEST), to_broker, S_LIST("caleol/74010")),
        FB_ERR_NOT_AUTHORIZED);
    /* The broker takes no other type. */
    assert_int_equal(s_route_to_broker(fx, S_BAILLEUR, T(LOGEMENT_LIBERE), to_broker, NULL),
                     FB_ERR_NOT_AUTHORIZED);
    /* Addressed to an actor, a BilanRequest is refused; a BilanAnnuel from a
     * bailleur still goes to the réservataire. */
    assert_int_equal(s_route(fx, S_RESA, T(BILAN_REQUEST), S_LIST(S_BAILLEUR), NULL),
                     FB_ERR_NOT_AUTHORIZED);
    assert_non_null(strstr(fx->detail, "broker"));
    assert_int_equal(s_route(fx, S_BAILLEUR, T(BILAN_ANNUEL), S_LIST(S_RESA), NULL), FB_OK);
}

static void test_router_broker_answers_a_bilan_to_its_requester(void **state)
{
    s_fixture_t *fx = *state;
    Fluxbus__V1__SignedBody body = FLUXBUS__V1__SIGNED_BODY__INIT;
    const char *const *to = S_LIST(S_OBSERVER);
    body.sender = S_BROKER;
    body.type = T(BILAN_ANNUEL);
    body.recipients = (char **)to;
    body.n_recipients = 1;
    router_targets_free(&fx->targets);
    assert_int_equal(
        router_route_own(fx->store, &body, &fx->targets, fx->detail, sizeof fx->detail), FB_OK);
    assert_int_equal(fx->targets.n, 1);
    assert_true(s_targets_have(&fx->targets, S_OBSERVER));
    to = S_LIST(S_SNE);
    body.recipients = (char **)to;
    assert_int_equal(
        router_route_own(fx->store, &body, &fx->targets, fx->detail, sizeof fx->detail),
        FB_ERR_NOT_AUTHORIZED);
}

#define S_TEST(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        S_TEST(test_router_bailleur_orients_to_reservataire),
        S_TEST(test_router_refuses_sender_role_not_allowed),
        S_TEST(test_router_refuses_unknown_recipient),
        S_TEST(test_router_refuses_revoked_recipient),
        S_TEST(test_router_refuses_recipient_with_wrong_role),
        S_TEST(test_router_refuses_message_without_recipient_or_topic),
        S_TEST(test_router_refuses_types_outside_the_domain_catalog),
        S_TEST(test_router_logement_issue_goes_to_communes_only),
        S_TEST(test_router_topic_fans_out_to_subscribers_once),
        S_TEST(test_router_refuses_malformed_topic),
        S_TEST(test_router_refuses_letters_in_insee_outside_corsica),
        S_TEST(test_router_refuses_topic_of_the_wrong_kind),
        S_TEST(test_router_designation_by_bailleur_needs_a_mandate),
        S_TEST(test_router_may_subscribe_to_own_territory_only),
        S_TEST(test_router_may_subscribe_accepts_corsican_insee),
        S_TEST(test_router_bilan_request_goes_to_the_broker_only),
        S_TEST(test_router_broker_answers_a_bilan_to_its_requester),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
