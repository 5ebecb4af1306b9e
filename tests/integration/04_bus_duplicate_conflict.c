/* 04_bus_duplicate_conflict - the broker deduplicates on (sender,
 * message_id): the same envelope bytes sent again get the original receipt
 * again, marked duplicate, and are delivered once; the same message id with
 * other bytes is a CONFLICT and changes nothing; both are still recognised
 * after a broker restart (the dedup state is in the store). */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#define T_LOGEMENT FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE
#define QUIET_MS 400 /* "receives nothing": wait this long for a delivery */

/* A vacancy for the réservataire, with message id `id` (NULL: random). */
static fb_outgoing_t s_vacancy(const char *const *to, const uint8_t *payload, size_t len,
                               const uint8_t *id)
{
    fb_outgoing_t m = {
        .type = T_LOGEMENT,
        .recipients = to,
        .n_recipients = 1,
        .correlation_id = NULL, /* the ledger reads the payload's vacancy_id */
        .payload = payload,
        .payload_len = len,
        .message_id = id,
    };
    return m;
}

/* Sends on c a vacancy for the réservataire with message id `id`; returns
 * fb_client_send's result. */
static fb_err_t s_send_with_id(fb_client_t *c, const fbt_pair_t *w, const uint8_t *payload,
                               size_t len, const uint8_t *id, fb_receipt_t *rec)
{
    const char *const to[1] = {w->resa.actor};
    fb_outgoing_t m = s_vacancy(to, payload, len, id);
    return fb_client_send(c, &m, rec);
}

/* A vacancy the bailleur sealed once for the réservataire (env, id), and
 * another payload to send under the same id. */
typedef struct {
    uint8_t *payload, *other, *env;
    size_t len, other_len, env_len;
    uint8_t id[FB_MESSAGE_ID_BYTES];
} s_sealed_t;

static void s_seal(fbt_pair_t *w, s_sealed_t *m)
{
    m->payload = fbt_logement("vac-dup", "74010", &m->len);
    m->other = fbt_logement("vac-other", "74011", &m->other_len);
    const char *const to[1] = {w->resa.actor};
    fb_outgoing_t out = s_vacancy(to, m->payload, m->len, NULL);
    m->env = NULL;
    assert_int_equal(fb_client_seal(w->cb, &out, &m->env, &m->env_len, m->id), FB_OK);
}

static void s_sealed_free(s_sealed_t *m)
{
    free(m->env);
    free(m->payload);
    free(m->other);
}

/* The bailleur sends the sealed envelope, byte for byte (again). */
static fb_err_t s_send_sealed(fbt_pair_t *w, const s_sealed_t *m, fb_receipt_t *rec)
{
    return fb_client_send_raw(w->cb, m->env, m->env_len, m->id, rec);
}

/* The bailleur sends the other payload under the sealed message's id. */
static fb_err_t s_send_clash(fbt_pair_t *w, const s_sealed_t *m, fb_receipt_t *rec)
{
    return s_send_with_id(w->cb, w, m->other, m->other_len, m->id, rec);
}

/* The next delivery must be message `id` with `payload`; it is acked. */
static void s_expect_delivery(fb_client_t *c, const uint8_t id[FB_MESSAGE_ID_BYTES], uint64_t seq,
                              const uint8_t *payload, size_t len)
{
    fb_delivery_t *d = fbt_recv_ack(c, 5000);
    assert_non_null(d);
    assert_int_equal(d->store_seq, seq);
    assert_memory_equal(d->body->message_id.data, id, FB_MESSAGE_ID_BYTES);
    assert_int_equal(d->body->payload.len, len);
    assert_memory_equal(d->body->payload.data, payload, len);
    fb_delivery_destroy(&d);
}

/* A round trip on c's connection: once the SubAck is back, every ACK sent
 * before it is committed (a réservataire's subscribe is refused: that
 * refusal is the answer we wait for). */
static void s_barrier(fb_client_t *c)
{
    assert_int_equal(fb_client_subscribe(c, "caleol/74010"), FB_ERR_NOT_AUTHORIZED);
}

static void test_resent_envelope_is_accepted_as_duplicate_and_delivered_once(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open(&w);
    s_sealed_t m;
    s_seal(&w, &m);

    fb_receipt_t first, second;
    assert_int_equal(s_send_sealed(&w, &m, &first), FB_OK);
    assert_true(first.accepted);
    assert_false(first.duplicate);
    assert_true(first.store_seq > 0);
    assert_int_equal(s_send_sealed(&w, &m, &second), FB_OK);
    assert_true(second.accepted);
    assert_true(second.duplicate);
    assert_int_equal(second.reason, FB_OK);
    assert_int_equal(second.store_seq, first.store_seq);
    assert_int_equal(second.accepted_at_ms, first.accepted_at_ms);
    assert_memory_equal(second.message_id, m.id, FB_MESSAGE_ID_BYTES);
    assert_non_null(second.receipt);

    /* Delivered once: the next message sent is the very next delivery. */
    s_expect_delivery(w.cr, m.id, first.store_seq, m.payload, m.len);
    fb_receipt_t next;
    assert_int_equal(fbt_send(w.cb, T_LOGEMENT, w.resa.actor, NULL, m.payload, m.len, &next),
                     FB_OK);
    s_expect_delivery(w.cr, next.message_id, next.store_seq, m.payload, m.len);
    fbt_expect_nothing(w.cr, QUIET_MS);

    fb_receipt_clear(&first);
    fb_receipt_clear(&second);
    fb_receipt_clear(&next);
    s_sealed_free(&m);
    fbt_pair_close(&w);
}

static void test_same_message_id_with_other_bytes_is_conflict(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open(&w);
    s_sealed_t m;
    s_seal(&w, &m);
    fb_receipt_t rec;
    assert_int_equal(s_send_sealed(&w, &m, &rec), FB_OK);
    uint64_t seq = rec.store_seq;
    fb_receipt_clear(&rec);

    /* Same id, other payload. */
    assert_int_equal(s_send_clash(&w, &m, &rec), FB_ERR_CONFLICT);
    assert_false(rec.accepted);
    assert_int_equal(rec.reason, FB_ERR_CONFLICT);
    assert_memory_equal(rec.message_id, m.id, FB_MESSAGE_ID_BYTES);
    assert_non_null(rec.receipt); /* the Nack is signed too */
    fb_receipt_clear(&rec);

    /* The original stands: resent, it is still the same accepted message. */
    assert_int_equal(s_send_sealed(&w, &m, &rec), FB_OK);
    assert_true(rec.duplicate);
    assert_int_equal(rec.store_seq, seq);
    fb_receipt_clear(&rec);

    /* The recipient sees the original bytes once and never the clash. */
    s_expect_delivery(w.cr, m.id, seq, m.payload, m.len);
    fbt_expect_nothing(w.cr, QUIET_MS);

    s_sealed_free(&m);
    fbt_pair_close(&w);
}

static void test_duplicate_is_recognised_after_broker_restart(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open(&w);
    s_sealed_t m;
    s_seal(&w, &m);
    fb_receipt_t first;
    assert_int_equal(s_send_sealed(&w, &m, &first), FB_OK);
    assert_false(first.duplicate);
    s_expect_delivery(w.cr, m.id, first.store_seq, m.payload, m.len);
    s_barrier(w.cr);

    /* Clean stop, restart on the same store and port, reconnect. */
    fbt_pair_restart(&w);

    fb_receipt_t again;
    assert_int_equal(s_send_sealed(&w, &m, &again), FB_OK);
    assert_true(again.accepted);
    assert_true(again.duplicate);
    assert_int_equal(again.store_seq, first.store_seq);
    assert_int_equal(again.accepted_at_ms, first.accepted_at_ms);

    fb_receipt_t rec;
    assert_int_equal(s_send_clash(&w, &m, &rec), FB_ERR_CONFLICT);
    fb_receipt_clear(&rec);

    /* Nothing new for the réservataire: it acked the only message. */
    fbt_expect_nothing(w.cr, QUIET_MS);

    fb_receipt_clear(&first);
    fb_receipt_clear(&again);
    s_sealed_free(&m);
    fbt_pair_close(&w);
}

static void test_same_message_id_from_two_senders_is_two_messages(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open(&w);
    fb_keys_t other;
    fbt_actor(&w.b, "bailleur:775663438", "bailleur", NULL, &other);
    fb_client_t *co = fbt_client(&w.b, &other);
    size_t len = 0, other_len = 0;
    uint8_t *payload = fbt_logement("vac-dup", "74010", &len);
    /* Each bailleur frees a dwelling of its own: a vacancy id is its
     * bailleur's (the ledger refuses another's LogementLibere for it). */
    uint8_t *other_payload = fbt_logement("vac-dup-other", "74010", &other_len);
    uint8_t id[FB_MESSAGE_ID_BYTES];
    fb_message_id_new(id);

    /* Message ids are unique per sender: B reusing A's id is no duplicate. */
    fb_receipt_t ra, rb;
    assert_int_equal(s_send_with_id(w.cb, &w, payload, len, id, &ra), FB_OK);
    assert_int_equal(s_send_with_id(co, &w, other_payload, other_len, id, &rb), FB_OK);
    assert_false(ra.duplicate);
    assert_false(rb.duplicate);
    assert_true(rb.store_seq > ra.store_seq);
    fb_delivery_t *d = fbt_recv_ack(w.cr, 5000);
    assert_non_null(d);
    assert_string_equal(d->body->sender, w.bailleur.actor);
    fb_delivery_destroy(&d);
    d = fbt_recv_ack(w.cr, 5000);
    assert_non_null(d);
    assert_string_equal(d->body->sender, other.actor);
    assert_memory_equal(d->body->message_id.data, id, FB_MESSAGE_ID_BYTES);
    fb_delivery_destroy(&d);
    fbt_expect_nothing(w.cr, QUIET_MS);

    fb_receipt_clear(&ra);
    fb_receipt_clear(&rb);
    free(payload);
    free(other_payload);
    fb_client_destroy(&co);
    fbt_pair_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resent_envelope_is_accepted_as_duplicate_and_delivered_once),
        cmocka_unit_test(test_same_message_id_with_other_bytes_is_conflict),
        cmocka_unit_test(test_same_message_id_from_two_senders_is_two_messages),
        cmocka_unit_test(test_duplicate_is_recognised_after_broker_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
