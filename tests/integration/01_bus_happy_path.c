/* 01_bus_happy_path - three actors exchange a vacancy through the real broker:
 * a bailleur publishes a freed dwelling and orients it to a réservataire
 * under their convention, the réservataire designates; a second réservataire
 * receives nothing. Receipts, end-to-end signatures and exact bytes are
 * checked; SIGTERM stops cleanly. */
#include "harness.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x

static void test_vacancy_reaches_only_its_reservataire(void **state)
{
    (void)state;
    fbt_broker_t b;
    fb_keys_t bailleur, r1, r2;
    fbt_setup(&b);
    fbt_actor(&b, "bailleur:552046955", "bailleur", NULL, &bailleur);
    fbt_actor(&b, "reservataire:action-logement", "reservataire", NULL, &r1);
    fbt_actor(&b, "reservataire:prefet-74", "reservataire", NULL, &r2);
    fbt_start(&b);

    fb_client_t *cb = fbt_client(&b, &bailleur);
    fb_client_t *c1 = fbt_client(&b, &r1);
    fb_client_t *c2 = fbt_client(&b, &r2);

    /* The convention the orientation is made under, then logement libéré
     * and orientation, all to réservataire 1. */
    fbt_convention(cb, "conv-2025-al", r1.actor, c1);
    size_t len = 0;
    uint8_t *logement = fbt_logement("vac-1", "74010", &len);
    fb_receipt_t rec;
    assert_int_equal(fbt_send(cb, T(LOGEMENT_LIBERE), r1.actor, NULL, logement, len, &rec), FB_OK);
    assert_true(rec.accepted);
    assert_false(rec.duplicate);
    assert_true(rec.store_seq > 0);
    assert_non_null(rec.receipt);
    uint64_t first_seq = rec.store_seq;
    fb_receipt_clear(&rec);

    Fluxbus__V1__Orientation o = FLUXBUS__V1__ORIENTATION__INIT;
    o.vacancy_id = "vac-1";
    o.convention_id = "conv-2025-al";
    o.reservataire_actor_id = r1.actor;
    o.deadline_ms = fb_now_ms() + 30LL * 86400000;
    o.candidates_expected = 1;
    uint8_t *orientation = NULL;
    size_t olen = 0;
    assert_int_equal(fb_codec_pack(&o.base, &orientation, &olen), FB_OK);
    assert_int_equal(fbt_send(cb, T(ORIENTATION), r1.actor, NULL, orientation, olen, &rec), FB_OK);
    assert_true(rec.store_seq > first_seq);
    fb_receipt_clear(&rec);

    fb_delivery_t *d = fbt_recv_ack(c1, 5000);
    assert_non_null(d);
    assert_int_equal(d->body->type, T(LOGEMENT_LIBERE));
    assert_string_equal(d->body->sender, bailleur.actor);
    assert_int_equal(d->body->payload.len, len);
    assert_memory_equal(d->body->payload.data, logement, len);
    assert_memory_equal(d->sender_pk, bailleur.sign_pk, 32);
    fb_delivery_destroy(&d);
    d = fbt_recv_ack(c1, 5000);
    assert_non_null(d);
    assert_int_equal(d->body->type, T(ORIENTATION));
    fb_delivery_destroy(&d);

    /* Désignation back to the bailleur. */
    Fluxbus__V1__Designation des = FLUXBUS__V1__DESIGNATION__INIT;
    des.vacancy_id = "vac-1";
    des.rank = 1;
    des.candidate_count = 1;
    des.nur = "074011900012345";
    des.quartile = FLUXBUS__V1__QUARTILE__QUARTILE_Q1;
    des.household_size = 3;
    uint8_t *designation = NULL;
    size_t dlen = 0;
    assert_int_equal(fb_codec_pack(&des.base, &designation, &dlen), FB_OK);
    assert_int_equal(fbt_send(c1, T(DESIGNATION), bailleur.actor, NULL, designation, dlen, &rec),
                     FB_OK);
    fb_receipt_clear(&rec);
    d = fbt_recv_ack(cb, 5000);
    assert_non_null(d);
    assert_int_equal(d->body->type, T(DESIGNATION));
    assert_string_equal(d->body->sender, r1.actor);
    fb_delivery_destroy(&d);

    /* Réservataire 2 was never addressed: nothing for it. */
    assert_null(fbt_recv_ack(c2, 500));

    free(logement);
    free(orientation);
    free(designation);
    fb_client_destroy(&cb);
    fb_client_destroy(&c1);
    fb_client_destroy(&c2);
    assert_int_equal(fbt_stop(&b, SIGTERM), 0);
    fbt_teardown(&b);
}

static void test_role_may_not_send_type(void **state)
{
    (void)state;
    fbt_broker_t b;
    fb_keys_t bailleur, r1;
    fbt_setup(&b);
    fbt_actor(&b, "bailleur:552046955", "bailleur", NULL, &bailleur);
    fbt_actor(&b, "reservataire:action-logement", "reservataire", NULL, &r1);
    fbt_start(&b);
    fb_client_t *c1 = fbt_client(&b, &r1);
    size_t len = 0;
    uint8_t *logement = fbt_logement("vac-2", "74010", &len);
    fb_receipt_t rec;
    /* A réservataire does not publish vacancies. */
    assert_int_equal(fbt_send(c1, T(LOGEMENT_LIBERE), bailleur.actor, NULL, logement, len, &rec),
                     FB_ERR_NOT_AUTHORIZED);
    assert_false(rec.accepted);
    fb_receipt_clear(&rec);
    /* Nobody by that name. */
    fb_client_t *cb = fbt_client(&b, &bailleur);
    assert_int_equal(
        fbt_send(cb, T(LOGEMENT_LIBERE), "reservataire:nobody", NULL, logement, len, &rec),
        FB_ERR_UNKNOWN_RECIPIENT);
    fb_receipt_clear(&rec);
    free(logement);
    fb_client_destroy(&c1);
    fb_client_destroy(&cb);
    fbt_teardown(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vacancy_reaches_only_its_reservataire),
        cmocka_unit_test(test_role_may_not_send_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
