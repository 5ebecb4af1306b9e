/* 05_security_forged_signature - the broker refuses, with a signed Nack
 * giving the precise reason, every envelope whose signature does not hold,
 * whose key is not registered, that does not decode, or that is over the
 * 256 KiB cap (exactly 256 KiB is accepted); a frame far over the cap is not
 * even read and gets no answer. None of them reaches the recipient, and the
 * same client goes on sending well-formed messages that are accepted,
 * reported as accepted (also when the refusal of an earlier, timed-out send
 * arrives late) and delivered. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "fluxbus/v1/logement.pb-c.h"

#define T_LOGEMENT FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE
#define CAP (256u * 1024u) /* the broker's default max_envelope */
#define QUIET_MS 400       /* "receives nothing": wait this long for a delivery */

typedef struct {
    fbt_pair_t p;
    uint8_t *payload; /* a valid LogementLibere */
    size_t len;
} s_world_t;

static void s_world_open(s_world_t *w)
{
    fbt_pair_open(&w->p);
    w->payload = fbt_logement("vac-forged", "74010", &w->len);
}

static void s_world_close(s_world_t *w)
{
    free(w->payload);
    fbt_pair_close(&w->p);
}

/* A genuine envelope from the bailleur to the réservataire (caller frees). */
static uint8_t *s_seal(s_world_t *w, const uint8_t *payload, size_t len, size_t *env_len,
                       uint8_t id[FB_MESSAGE_ID_BYTES])
{
    const char *const to[1] = {w->p.resa.actor};
    fb_outgoing_t m = {
        .type = T_LOGEMENT,
        .recipients = to,
        .n_recipients = 1,
        .correlation_id = NULL, /* the ledger reads the payload's vacancy_id */
        .payload = payload,
        .payload_len = len,
    };
    uint8_t *env = NULL;
    assert_int_equal(fb_client_seal(w->p.cb, &m, &env, env_len, id), FB_OK);
    return env;
}

/* Decodes env, lets `tamper` change it, packs it again: the outer frame stays
 * a valid Envelope. Frees env, returns the new bytes. */
static uint8_t *s_repack(uint8_t *env, size_t *len, void (*tamper)(Fluxbus__V1__Envelope *))
{
    Fluxbus__V1__Envelope *e = NULL;
    assert_int_equal(fb_envelope_decode(env, *len, CAP, &e), FB_OK);
    tamper(e);
    uint8_t *out = NULL;
    assert_int_equal(fb_codec_pack(&e->base, &out, len), FB_OK);
    fb_envelope_free(e);
    free(env);
    return out;
}

/* The broker refuses env with `reason`; the answer is a Nack. */
static void s_expect_refused(s_world_t *w, const uint8_t *env, size_t len,
                             const uint8_t id[FB_MESSAGE_ID_BYTES], fb_err_t reason)
{
    fb_receipt_t rec;
    fb_err_t rc = fb_client_send_raw(w->p.cb, env, len, id, &rec);
    if (rc != reason)
        fprintf(stderr, "expected %s, got %s (%s)\n", fb_err_name(reason), fb_err_name(rc),
                rec.detail);
    assert_int_equal(rc, reason);
    assert_false(rec.accepted);
    assert_int_equal(rec.reason, reason);
    assert_true(rec.detail[0] != '\0');
    assert_non_null(rec.receipt);
    fb_receipt_clear(&rec);
}

/* The connection still works: a genuine message is accepted and is the
 * recipient's next delivery, and nothing else is waiting for it. */
static void s_expect_good_still_delivered(s_world_t *w)
{
    fb_receipt_t rec;
    fb_err_t rc = fbt_send(w->p.cb, T_LOGEMENT, w->p.resa.actor, NULL, w->payload, w->len, &rec);
    if (rc != FB_OK)
        fprintf(stderr, "genuine message: expected OK, got %s (%s)\n", fb_err_name(rc), rec.detail);
    assert_int_equal(rc, FB_OK);
    assert_true(rec.accepted);
    assert_false(rec.duplicate);
    fb_delivery_t *d = fbt_recv_ack(w->p.cr, 5000);
    assert_non_null(d);
    assert_memory_equal(d->body->message_id.data, rec.message_id, FB_MESSAGE_ID_BYTES);
    assert_int_equal(d->store_seq, rec.store_seq);
    fb_delivery_destroy(&d);
    fbt_expect_nothing(w->p.cr, QUIET_MS);
    fb_receipt_clear(&rec);
}

static void s_flip_signature_bit(Fluxbus__V1__Envelope *e)
{
    e->signature.data[17] ^= 0x04;
}

static void s_flip_body_bit(Fluxbus__V1__Envelope *e)
{
    e->body.data[e->body.len - 1] ^= 0x01; /* last byte of the payload */
}

/* A genuine envelope that `tamper` changes after sealing is refused with
 * `reason`. */
static void s_expect_tampered_refused(s_world_t *w, void (*tamper)(Fluxbus__V1__Envelope *),
                                      fb_err_t reason)
{
    uint8_t id[FB_MESSAGE_ID_BYTES];
    size_t len = 0;
    uint8_t *env = s_seal(w, w->payload, w->len, &len, id);
    env = s_repack(env, &len, tamper);
    s_expect_refused(w, env, len, id, reason);
    free(env);
}

static void test_flipped_signature_bit_is_bad_signature(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    s_expect_tampered_refused(&w, s_flip_signature_bit, FB_ERR_BAD_SIGNATURE);
    assert_true(fbt_log_contains(&w.p.b, "reason=BAD_SIGNATURE"));
    s_expect_good_still_delivered(&w);
    s_world_close(&w);
}

static void test_flipped_body_bit_is_bad_signature(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    s_expect_tampered_refused(&w, s_flip_body_bit, FB_ERR_BAD_SIGNATURE);
    s_expect_good_still_delivered(&w);
    s_world_close(&w);
}

/* A vacancy from the bailleur signed with `keys`, whose key id it names, is
 * refused with `reason`. */
static void s_expect_signed_with_refused(s_world_t *w, const fb_keys_t *keys, fb_err_t reason)
{
    uint8_t id[FB_MESSAGE_ID_BYTES];
    size_t len = 0;
    uint8_t *env = fbt_forge(keys, w->p.bailleur.actor, keys->key_id, w->p.resa.actor, "vac-forged",
                             w->payload, w->len, &len, id);
    s_expect_refused(w, env, len, id, reason);
    free(env);
}

static void test_unregistered_signing_key_is_unknown_key(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    fb_keys_t rogue; /* same actor name, never registered */
    assert_int_equal(fb_keys_generate(&rogue, w.p.bailleur.actor), FB_OK);
    s_expect_signed_with_refused(&w, &rogue, FB_ERR_UNKNOWN_KEY);
    s_expect_good_still_delivered(&w);
    s_world_close(&w);
}

static void test_unregistered_key_naming_a_registered_key_id_is_bad_signature(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    fb_keys_t rogue; /* signs, but claims the bailleur's registered key id */
    assert_int_equal(fb_keys_generate(&rogue, w.p.bailleur.actor), FB_OK);
    memcpy(rogue.key_id, w.p.bailleur.key_id, sizeof rogue.key_id);
    s_expect_signed_with_refused(&w, &rogue, FB_ERR_BAD_SIGNATURE);
    s_expect_good_still_delivered(&w);
    s_world_close(&w);
}

static void test_undecodable_bytes_are_malformed(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    uint8_t id[FB_MESSAGE_ID_BYTES];
    fb_message_id_new(id);

    static const uint8_t garbage[] = "this is not an envelope \xff\xff\xff\xff\x0f\x00\x01";
    s_expect_refused(&w, garbage, sizeof garbage - 1, id, FB_ERR_MALFORMED);
    s_expect_good_still_delivered(&w);

    /* A genuine envelope cut short. */
    size_t len = 0;
    uint8_t *env = s_seal(&w, w.payload, w.len, &len, id);
    s_expect_refused(&w, env, len - 10, id, FB_ERR_MALFORMED);
    s_expect_good_still_delivered(&w);

    /* An empty SEND frame. */
    s_expect_refused(&w, env, 0, id, FB_ERR_MALFORMED);
    s_expect_good_still_delivered(&w);
    free(env);
    s_world_close(&w);
}

static void test_envelope_over_256_kib_is_too_large(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    size_t big_len = 300 * 1024;
    uint8_t *big = calloc(1, big_len);
    assert_non_null(big);
    uint8_t id[FB_MESSAGE_ID_BYTES];
    size_t len = 0;
    uint8_t *env = s_seal(&w, big, big_len, &len, id);
    assert_true(len > CAP);
    s_expect_refused(&w, env, len, id, FB_ERR_TOO_LARGE);
    s_expect_good_still_delivered(&w);
    free(env);
    free(big);
    s_world_close(&w);
}

/* A valid LogementLibere whose residence id is `pad` bytes long. */
static uint8_t *s_padded_logement(size_t pad, size_t *len)
{
    char *residence = malloc(pad + 1);
    assert_non_null(residence);
    memset(residence, 'R', pad);
    residence[pad] = '\0';
    Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    l.vacancy_id = "vac-cap";
    l.rpls_id = "0740123456789";
    l.residence_id = residence;
    l.bailleur_siren = "552046955";
    l.commune_insee = "74010";
    uint8_t *out = NULL;
    assert_int_equal(fb_codec_pack(&l.base, &out, len), FB_OK);
    free(residence);
    return out;
}

/* A genuine envelope of exactly `target` bytes (caller frees). */
static uint8_t *s_seal_exactly(s_world_t *w, size_t target, uint8_t id[FB_MESSAGE_ID_BYTES])
{
    size_t pad = target - 1024;
    for (int tries = 0; tries < 8; tries++) {
        size_t plen = 0, len = 0;
        uint8_t *payload = s_padded_logement(pad, &plen);
        uint8_t *env = s_seal(w, payload, plen, &len, id);
        free(payload);
        if (len == target)
            return env;
        free(env);
        pad = pad + target - len; /* lengths are 3-byte varints here: linear */
    }
    fail_msg("could not build an envelope of %zu bytes", target);
    return NULL;
}

/* The bailleur's client again, waiting at most timeout_ms for answers. */
static void s_reconnect_with_timeout(s_world_t *w, int timeout_ms)
{
    fb_client_destroy(&w->p.cb);
    fb_err_t err = FB_OK;
    w->p.cb = fbt_try_client(&w->p.b, &w->p.bailleur, timeout_ms, &err);
    assert_int_equal(err, FB_OK);
    assert_non_null(w->p.cb);
}

static void test_envelope_far_over_the_cap_gets_no_answer_and_client_recovers(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    s_reconnect_with_timeout(&w, 4000); /* the same bailleur, a shorter wait for answers */

    /* Far over the broker's transport cap: the frame is not even read, the
     * connection is dropped, no Nack comes. */
    size_t huge_len = 8u * CAP;
    uint8_t *huge = calloc(1, huge_len);
    assert_non_null(huge);
    uint8_t id[FB_MESSAGE_ID_BYTES];
    size_t len = 0;
    uint8_t *env = s_seal(&w, huge, huge_len, &len, id);
    fb_receipt_t rec;
    assert_int_equal(fb_client_send_raw(w.p.cb, env, len, id, &rec), FB_ERR_TIMEOUT);
    assert_false(rec.accepted);
    fb_receipt_clear(&rec);

    /* The client reconnects by itself and goes on. */
    s_expect_good_still_delivered(&w);
    free(env);
    free(huge);
    s_world_close(&w);
}

static void test_late_nack_of_a_timed_out_send_is_not_the_next_answer(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    /* Long enough for a loaded machine (sanitizer builds, -j2) to answer the
     * next message after SIGCONT; the frozen broker times out anyway. */
    s_reconnect_with_timeout(&w, 3000);

    /* The broker is frozen: the garbage gets no answer in time. */
    assert_int_equal(kill(w.p.b.pid, SIGSTOP), 0);
    int status = 0;
    assert_int_equal(waitpid(w.p.b.pid, &status, WUNTRACED), w.p.b.pid);
    assert_true(WIFSTOPPED(status));
    static const uint8_t garbage[] = "this is not an envelope \xff\xff\xff\xff\x0f\x00\x01";
    uint8_t id[FB_MESSAGE_ID_BYTES];
    fb_message_id_new(id);
    fb_receipt_t rec;
    assert_int_equal(fb_client_send_raw(w.p.cb, garbage, sizeof garbage - 1, id, &rec),
                     FB_ERR_TIMEOUT);
    fb_receipt_clear(&rec);
    assert_int_equal(kill(w.p.b.pid, SIGCONT), 0);

    /* Its id-less Nack now arrives just before the next message's receipt.
     * The next message is accepted (the recipient gets it)... */
    fb_err_t rc = fbt_send(w.p.cb, T_LOGEMENT, w.p.resa.actor, NULL, w.payload, w.len, &rec);
    fb_delivery_t *d = fbt_recv_ack(w.p.cr, 5000);
    assert_non_null(d);
    assert_memory_equal(d->body->message_id.data, rec.message_id, FB_MESSAGE_ID_BYTES);
    fb_delivery_destroy(&d);
    /* ...and must be reported so, not with the stale refusal. */
    if (rc != FB_OK)
        fprintf(stderr, "accepted message reported as %s (%s)\n", fb_err_name(rc), rec.detail);
    assert_int_equal(rc, FB_OK);
    assert_true(rec.accepted);
    fb_receipt_clear(&rec);
    s_expect_good_still_delivered(&w);
    s_world_close(&w);
}

static void test_envelope_of_exactly_256_kib_is_accepted(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    uint8_t id[FB_MESSAGE_ID_BYTES];
    uint8_t *env = s_seal_exactly(&w, CAP, id);
    fb_receipt_t rec;
    assert_int_equal(fb_client_send_raw(w.p.cb, env, CAP, id, &rec), FB_OK);
    assert_true(rec.accepted);
    fb_delivery_t *d = fbt_recv_ack(w.p.cr, 5000);
    assert_non_null(d);
    assert_int_equal(d->envelope_len, CAP);
    assert_memory_equal(d->envelope, env, CAP);
    fb_delivery_destroy(&d);
    fb_receipt_clear(&rec);
    free(env);

    /* One byte more is over the cap. */
    env = s_seal_exactly(&w, CAP + 1, id);
    s_expect_refused(&w, env, CAP + 1, id, FB_ERR_TOO_LARGE);
    s_expect_good_still_delivered(&w);
    free(env);
    s_world_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flipped_signature_bit_is_bad_signature),
        cmocka_unit_test(test_flipped_body_bit_is_bad_signature),
        cmocka_unit_test(test_unregistered_signing_key_is_unknown_key),
        cmocka_unit_test(test_unregistered_key_naming_a_registered_key_id_is_bad_signature),
        cmocka_unit_test(test_undecodable_bytes_are_malformed),
        cmocka_unit_test(test_envelope_over_256_kib_is_too_large),
        cmocka_unit_test(test_envelope_far_over_the_cap_gets_no_answer_and_client_recovers),
        cmocka_unit_test(test_late_nack_of_a_timed_out_send_is_not_the_next_answer),
        cmocka_unit_test(test_envelope_of_exactly_256_kib_is_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
