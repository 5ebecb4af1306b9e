/* test_bilan_queue.c - the BilanRequests waiting for their answer
 * (broker/bilan_queue.c): queued in arrival order up to a bound and a
 * share of it for each requester, the oldest computed on a thread of its
 * own from the store file and handed back with its outcome (an answer not sealed yet, or a
 * refusal), a copy's connections kept once each, a computation done again on demand, and a stop
 * that leaves nothing running. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bilan_queue.h"
#include "fluxbus/codec.h"
#include "fluxbus/envelope.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "ledger.h"
#include "store.h"
#include "tmpdir.h"

#define S_RESA "reservataire:action-logement"

typedef struct {
    char dir[64], path[128];
} s_fixture_t;

/* A store with the ledger's tables, empty. */
static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(tmpdir_make(f->dir, sizeof f->dir, "bilanq"), 0);
    snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
    char err[256] = "";
    store_t *store = store_open(f->path, err, sizeof err);
    assert_non_null(store);
    ledger_t *ledger = ledger_open(store_db(store), err, sizeof err);
    assert_non_null(ledger);
    ledger_close(&ledger);
    store_destroy(&store);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

static store_actor_t s_actor(const char *id, const char *roles)
{
    store_actor_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.roles, sizeof a.roles, "%s", roles);
    return a;
}

/* A request as the broker holds it: its body and payload unpacked (freed
 * with fb_body_free / fb_codec_free), the envelope bytes beside them. */
typedef struct {
    Fluxbus__V1__SignedBody *body;
    ProtobufCMessage *payload;
    uint8_t env[32], sha[32], id[16];
} s_request_t;

static void s_request(s_request_t *r, const char *sender, uint8_t seed)
{
    memset(r, 0, sizeof *r);
    memset(r->id, seed, sizeof r->id);
    memset(r->env, seed, sizeof r->env);
    memset(r->sha, seed, sizeof r->sha);
    Fluxbus__V1__BilanRequest req = FLUXBUS__V1__BILAN_REQUEST__INIT;
    req.year = 2026;
    uint8_t payload[64];
    size_t plen = fluxbus__v1__bilan_request__pack(&req, payload);
    Fluxbus__V1__SignedBody b = FLUXBUS__V1__SIGNED_BODY__INIT;
    b.message_id.data = r->id;
    b.message_id.len = sizeof r->id;
    b.sender = (char *)sender;
    b.type = FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_BILAN_REQUEST;
    b.payload.data = payload;
    b.payload.len = plen;
    uint8_t packed[512];
    size_t blen = fluxbus__v1__signed_body__pack(&b, packed);
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__signed_body__descriptor, packed, blen,
                                     sizeof packed, (ProtobufCMessage **)&r->body),
                     FB_OK);
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__bilan_request__descriptor, payload, plen,
                                     sizeof payload, &r->payload),
                     FB_OK);
}

static fb_err_t s_add(bilan_queue_t *q, const store_actor_t *who, s_request_t *r, const char *rid)
{
    return bilan_queue_add(q, who, &r->body, &r->payload, r->env, sizeof r->env, r->sha,
                           (const uint8_t *)rid, strlen(rid), 1000);
}

/* Starts the oldest, waits for it, returns it. */
static bilan_pending_t *s_compute(bilan_queue_t *q)
{
    assert_non_null(bilan_queue_start(q, 2000));
    assert_true(bilan_queue_busy(q));
    bilan_queue_wait(q);
    bilan_pending_t *p = bilan_queue_ready(q);
    assert_non_null(p);
    assert_false(bilan_queue_busy(q));
    return p;
}

/* The example of use: a request queued, computed off the caller's thread,
 * handed back with its answer (not sealed), dropped. */
static void test_bilan_queue_computes_the_oldest_and_hands_it_back(void **state)
{
    s_fixture_t *f = *state;
    bilan_queue_t *q = bilan_queue_new(f->path, 4);
    assert_non_null(q);
    assert_int_equal(bilan_queue_next_ms(q, 100, 10), INT64_MAX);
    store_actor_t resa = s_actor(S_RESA, "reservataire");
    s_request_t r;
    s_request(&r, S_RESA, 1);
    assert_int_equal(s_add(q, &resa, &r, "conn-1"), FB_OK);
    assert_null(r.body); /* taken */
    assert_null(r.payload);
    assert_int_equal(bilan_queue_size(q), 1);
    assert_int_equal(bilan_queue_next_ms(q, 100, 10), 100); /* to start now */
    assert_null(bilan_queue_ready(q));

    bilan_pending_t *p = s_compute(q);
    assert_int_equal(p->rc, FB_OK);
    assert_non_null(p->reply.msg);
    assert_null(p->reply.envelope); /* sealed by the loop */
    assert_string_equal(p->requester.id, S_RESA);
    assert_int_equal(p->n_waiters, 1);
    assert_memory_equal(p->waiters[0].id, "conn-1", 6);
    assert_int_equal(p->received_ms, 1000);
    assert_null(bilan_queue_start(q, 3000)); /* computed: not again */
    bilan_queue_pop(q);
    assert_int_equal(bilan_queue_size(q), 0);
    assert_null(bilan_queue_ready(q));
    bilan_queue_destroy(&q);
    assert_null(q);
    bilan_queue_destroy(&q); /* twice is safe */
}

static void test_bilan_queue_refuses_over_its_bound_and_takes_nothing(void **state)
{
    s_fixture_t *f = *state;
    bilan_queue_t *q = bilan_queue_new(f->path, 2);
    /* Three actors, each within its own share: the bound refuses the third. */
    static const char *const who[3] = {S_RESA, "reservataire:other", "bailleur:552046955"};
    store_actor_t actor[3];
    s_request_t r[3];
    for (uint8_t i = 0; i < 3; i++) {
        actor[i] = s_actor(who[i], i < 2 ? "reservataire" : "bailleur");
        s_request(&r[i], who[i], (uint8_t)(i + 1));
    }
    assert_int_equal(s_add(q, &actor[0], &r[0], "a"), FB_OK);
    assert_int_equal(s_add(q, &actor[1], &r[1], "b"), FB_OK);
    assert_int_equal(s_add(q, &actor[2], &r[2], "c"), FB_ERR_RATE_LIMITED);
    assert_non_null(r[2].body); /* still the caller's */
    assert_non_null(r[2].payload);
    fb_body_free(r[2].body);
    fb_codec_free(r[2].payload);
    /* In arrival order: the first, then the second. */
    bilan_pending_t *p = s_compute(q);
    assert_memory_equal(p->body->message_id.data, r[0].id, 16);
    bilan_queue_pop(q);
    p = s_compute(q);
    assert_memory_equal(p->body->message_id.data, r[1].id, 16);
    bilan_queue_destroy(&q);
}

/* One actor holds at most BILAN_QUEUE_PER_REQUESTER places: its next
 * request is refused (nothing taken) while another actor's is queued, and
 * it may queue again once one of its own was answered. */
static void test_bilan_queue_keeps_places_for_other_requesters(void **state)
{
    s_fixture_t *f = *state;
    bilan_queue_t *q = bilan_queue_new(f->path, 8);
    store_actor_t resa = s_actor(S_RESA, "reservataire");
    store_actor_t other = s_actor("reservataire:other", "reservataire");
    s_request_t r[BILAN_QUEUE_PER_REQUESTER + 2];
    uint8_t seed = 1;
    for (size_t i = 0; i < BILAN_QUEUE_PER_REQUESTER; i++) {
        s_request(&r[i], S_RESA, seed++);
        assert_int_equal(s_add(q, &resa, &r[i], "a"), FB_OK);
    }
    assert_int_equal(bilan_queue_held(q, S_RESA), BILAN_QUEUE_PER_REQUESTER);
    s_request_t *extra = &r[BILAN_QUEUE_PER_REQUESTER];
    s_request(extra, S_RESA, seed++);
    assert_int_equal(s_add(q, &resa, extra, "a"), FB_ERR_RATE_LIMITED);
    assert_non_null(extra->body); /* still the caller's */
    assert_int_equal(bilan_queue_size(q), BILAN_QUEUE_PER_REQUESTER);

    s_request_t *theirs = &r[BILAN_QUEUE_PER_REQUESTER + 1];
    s_request(theirs, other.id, seed++);
    assert_int_equal(s_add(q, &other, theirs, "b"), FB_OK);
    assert_int_equal(bilan_queue_held(q, other.id), 1);
    assert_int_equal(bilan_queue_held(q, "nobody"), 0);

    /* The oldest answered: the actor has a place again, at the end. */
    s_compute(q);
    bilan_queue_pop(q);
    assert_int_equal(s_add(q, &resa, extra, "a"), FB_OK);
    assert_null(extra->body);
    assert_int_equal(bilan_queue_held(q, S_RESA), BILAN_QUEUE_PER_REQUESTER);
    bilan_pending_t *p = s_compute(q);
    assert_memory_equal(p->body->message_id.data, r[1].id, 16); /* arrival order kept */
    bilan_queue_destroy(&q);
}

static void test_bilan_queue_finds_a_request_and_keeps_each_connection_once(void **state)
{
    s_fixture_t *f = *state;
    bilan_queue_t *q = bilan_queue_new(f->path, 4);
    store_actor_t resa = s_actor(S_RESA, "reservataire");
    s_request_t r;
    s_request(&r, S_RESA, 7);
    uint8_t id[16];
    memcpy(id, r.id, sizeof id);
    assert_int_equal(s_add(q, &resa, &r, "c0"), FB_OK);
    bilan_pending_t *p = bilan_queue_find(q, S_RESA, id);
    assert_non_null(p);
    assert_null(bilan_queue_find(q, "reservataire:other", id));
    id[0] ^= 1;
    assert_null(bilan_queue_find(q, S_RESA, id));
    assert_int_equal(bilan_queue_wait_too(p, (const uint8_t *)"c0", 2), FB_OK);
    assert_int_equal(p->n_waiters, 2); /* each SEND its own answer, same connection too */
    char more[BILAN_QUEUE_WAITERS][3];
    for (size_t i = 2; i < BILAN_QUEUE_WAITERS; i++) {
        snprintf(more[i], sizeof more[i], "c%zu", i);
        assert_int_equal(bilan_queue_wait_too(p, (const uint8_t *)more[i], 2), FB_OK);
    }
    /* At most BILAN_QUEUE_WAITERS, in arrival order; one more is refused. */
    assert_int_equal(p->n_waiters, BILAN_QUEUE_WAITERS);
    assert_int_equal(bilan_queue_wait_too(p, (const uint8_t *)"cx", 2), FB_ERR_RATE_LIMITED);
    assert_int_equal(p->n_waiters, BILAN_QUEUE_WAITERS);
    assert_memory_equal(p->waiters[0].id, "c0", 2);
    assert_memory_equal(p->waiters[1].id, "c0", 2);
    assert_memory_equal(p->waiters[BILAN_QUEUE_WAITERS - 1].id, more[BILAN_QUEUE_WAITERS - 1], 2);
    uint8_t big[BILAN_QUEUE_RID_MAX + 1] = {0};
    assert_int_equal(bilan_queue_wait_too(p, big, sizeof big), FB_ERR_INVALID);
    bilan_queue_destroy(&q); /* frees what waits, never computed */
}

/* What bilan_reply refuses comes back as the outcome, with its detail. */
static void test_bilan_queue_hands_back_a_refusal(void **state)
{
    s_fixture_t *f = *state;
    bilan_queue_t *q = bilan_queue_new(f->path, 1);
    store_actor_t sne = s_actor("sne", "sne");
    s_request_t r;
    s_request(&r, "sne", 3);
    assert_int_equal(s_add(q, &sne, &r, "s"), FB_OK);
    bilan_pending_t *p = s_compute(q);
    assert_int_equal(p->rc, FB_ERR_NOT_AUTHORIZED);
    assert_non_null(strstr(p->detail, "may not ask for a bilan"));
    assert_null(p->reply.msg);
    bilan_queue_destroy(&q);
}

/* The registry changed while it computed: computed again for the new
 * record. */
static void test_bilan_queue_computes_again_on_retry(void **state)
{
    s_fixture_t *f = *state;
    bilan_queue_t *q = bilan_queue_new(f->path, 1);
    store_actor_t who = s_actor("commune:74010", "commune");
    s_request_t r;
    s_request(&r, who.id, 4);
    assert_int_equal(s_add(q, &who, &r, "k"), FB_OK);
    bilan_pending_t *p = s_compute(q);
    assert_int_equal(p->rc, FB_ERR_NOT_AUTHORIZED); /* no territory */
    snprintf(who.territories, sizeof who.territories, "74010");
    bilan_queue_retry(q, &who);
    assert_null(bilan_queue_ready(q));
    p = s_compute(q);
    assert_int_equal(p->rc, FB_OK);
    assert_string_equal(p->requester.territories, "74010");
    bilan_queue_destroy(&q);
}

/* A store that cannot be opened is the request's outcome, not a crash. */
static void test_bilan_queue_says_when_the_store_cannot_be_read(void **state)
{
    s_fixture_t *f = *state;
    char missing[160];
    snprintf(missing, sizeof missing, "%s/missing.db", f->dir);
    bilan_queue_t *q = bilan_queue_new(missing, 1);
    store_actor_t resa = s_actor(S_RESA, "reservataire");
    s_request_t r;
    s_request(&r, S_RESA, 5);
    assert_int_equal(s_add(q, &resa, &r, "m"), FB_OK);
    bilan_pending_t *p = s_compute(q);
    assert_int_equal(p->rc, FB_ERR_STORE);
    assert_non_null(strstr(p->detail, "cannot open"));
    bilan_queue_destroy(&q);
}

/* Once stopped nothing starts; a stop with nothing computing says so. */
static void test_bilan_queue_starts_nothing_once_stopped(void **state)
{
    s_fixture_t *f = *state;
    bilan_queue_t *q = bilan_queue_new(f->path, 1);
    store_actor_t resa = s_actor(S_RESA, "reservataire");
    s_request_t r;
    s_request(&r, S_RESA, 6);
    assert_int_equal(s_add(q, &resa, &r, "x"), FB_OK);
    bool abandoned = true;
    assert_null(bilan_queue_stop(q, 100, &abandoned));
    assert_false(abandoned);
    assert_null(bilan_queue_start(q, 1));
    assert_false(bilan_queue_busy(q));
    bilan_queue_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bilan_queue_computes_the_oldest_and_hands_it_back,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bilan_queue_refuses_over_its_bound_and_takes_nothing,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bilan_queue_keeps_places_for_other_requesters, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            test_bilan_queue_finds_a_request_and_keeps_each_connection_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bilan_queue_hands_back_a_refusal, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bilan_queue_computes_again_on_retry, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_bilan_queue_says_when_the_store_cannot_be_read,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bilan_queue_starts_nothing_once_stopped, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
