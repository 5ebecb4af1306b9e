/* 14_security_bit_flips - for one valid envelope (a Designation with its
 * sealed household attached, so that every part of the format is present:
 * body, signature, key id hint, attachment), each of its single-bit flips is
 * sent to the real broker. Every one is refused with a signed Nack, none is delivered, the
 * broker never stops, and the original envelope is then accepted and
 * delivered. Prints how many flips were tried and the reasons they got. */
#include "harness.h"

#include "fluxbus/seal.h"
#include "fluxbus/v1/designation.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_REASONS 32

static void s_designation(Fluxbus__V1__SignedBody *body, void *ctx)
{
    body->type = FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_DESIGNATION;
    body->correlation_id = "vac-flips"; /* the Designation's vacancy */
}

static void test_every_single_bit_flip_is_refused(void **state)
{
    fbt_pair_t w;
    /* Thousands of SENDs in a few seconds: lift the rate limit for this test. */
    const char *const args[] = {"--rate", "10000000", "--rate-burst", "10000000", NULL};
    fbt_pair_open_with(&w, args);
    fbt_convention(w.cb, FBT_CONV, FBT_RESA, w.cr);
    fbt_orient(w.cb, FBT_RESA, "vac-flips", 1, w.cr);

    /* The réservataire designates a household, sealed for the bailleur. */
    Fluxbus__V1__HouseholdDetails hh = FLUXBUS__V1__HOUSEHOLD_DETAILS__INIT;
    hh.nur = "074012600000X";
    hh.email = "menage@example.invalid";
    fb_sealed_t sealed;
    assert_int_equal(fb_seal_household(&hh, w.bailleur.enc_pk, &sealed), FB_OK);
    size_t plen = 0, len = 0;
    uint8_t *payload = fbt_designation("vac-flips", hh.nur, &sealed, &plen);
    ProtobufCBinaryData att = {sealed.box_len, sealed.box};
    uint8_t id[FB_MESSAGE_ID_BYTES];
    uint8_t *env = fbt_forge_attached(&w.resa, FBT_BAILLEUR, payload, plen, &att, 1, s_designation,
                                      NULL, &len, id);
    free(payload);
    fb_sealed_clear(&sealed);

    int by_reason[N_REASONS] = {0};
    size_t tried = 0;
    uint8_t *flipped = malloc(len);
    assert_non_null(flipped);
    for (size_t bit = 0; bit < len * 8; bit++) {
        memcpy(flipped, env, len);
        flipped[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        fb_receipt_t rec;
        fb_err_t rc = fb_client_send_raw(w.cr, flipped, len, id, &rec);
        if (rc == FB_OK)
            fail_msg("flip of bit %zu was accepted", bit);
        if (rc == FB_ERR_TIMEOUT || rc == FB_ERR_TRANSPORT)
            fail_msg("flip of bit %zu: no answer (%s)", bit, fb_err_name(rc));
        assert_non_null(rec.receipt); /* a broker-signed Nack */
        int reason = fb_err_to_reason(rc);
        assert_true(reason > 0 && reason < N_REASONS);
        by_reason[reason]++;
        fb_receipt_clear(&rec);
        tried++;
    }
    free(flipped);
    fbt_expect_nothing(w.cb, 300);

    fprintf(stderr, "bit flips tried: %zu on a %zu-byte envelope, all refused:", tried, len);
    for (int r = 0; r < N_REASONS; r++)
        if (by_reason[r])
            fprintf(stderr, " %s=%d", fb_err_name(fb_err_from_reason(r)), by_reason[r]);
    fprintf(stderr, "\n");
    assert_int_equal(tried, len * 8);

    /* The broker is still there and the original goes through. */
    fb_receipt_t rec;
    assert_int_equal(fb_client_send_raw(w.cr, env, len, id, &rec), FB_OK);
    assert_false(rec.duplicate);
    fb_receipt_clear(&rec);
    fb_delivery_t *d = fbt_recv_ack(w.cb, 5000);
    assert_non_null(d);
    assert_memory_equal(d->body->message_id.data, id, FB_MESSAGE_ID_BYTES);
    fb_delivery_destroy(&d);
    free(env);
    fbt_pair_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_single_bit_flip_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
