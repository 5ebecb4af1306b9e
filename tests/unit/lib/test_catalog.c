/* test_catalog.c - the message catalog maps every MessageType to the right
 * payload descriptor, finds entries by either spelling of their name, and
 * its domain messages survive a protobuf-c round trip. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fluxbus/catalog.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"

/* "RemiseADisposition" -> "REMISE_A_DISPOSITION": how envelope.proto names
 * the MessageType value of each message. */
static void s_upper_snake(const char *camel, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; camel[i] && n + 2 < cap; i++) {
        if (i > 0 && isupper((unsigned char)camel[i]))
            out[n++] = '_';
        out[n++] = (char)toupper((unsigned char)camel[i]);
    }
    out[n] = '\0';
}

/* The example of use: from a type on the wire to the descriptor to unpack with. */
static void test_catalog_maps_logement_libere_to_its_descriptor(void **state)
{
    const fb_catalog_entry_t *e =
        fb_catalog_by_type(FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE);
    assert_non_null(e);
    assert_int_equal(e->type, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE);
    assert_string_equal(e->name, "LogementLibere");
    assert_ptr_equal(e->desc, &fluxbus__v1__logement_libere__descriptor);
    assert_ptr_equal(fb_catalog_by_name("LogementLibere"), e);
}

static void test_catalog_covers_every_message_type(void **state)
{
    const ProtobufCEnumDescriptor *types = &fluxbus__v1__message_type__descriptor;
    size_t covered = 0;
    for (unsigned i = 0; i < types->n_values; i++) {
        const ProtobufCEnumValue *v = &types->values[i];
        if (v->value == FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_UNSPECIFIED) {
            assert_null(fb_catalog_by_type(v->value));
            continue;
        }
        const fb_catalog_entry_t *e = fb_catalog_by_type(v->value);
        if (!e)
            fail_msg("no catalog entry for %s", v->name);
        assert_int_equal(e->type, v->value);
        assert_non_null(e->desc);
        assert_int_equal(e->desc->magic, PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
        assert_string_equal(e->desc->short_name, e->name);
        assert_string_equal(e->desc->package_name, "fluxbus.v1");
        char full[128];
        snprintf(full, sizeof full, "fluxbus.v1.%s", e->name);
        assert_string_equal(e->desc->name, full);

        /* The entry is the message the enum value's name promises. */
        char expected[128] = "MESSAGE_TYPE_";
        s_upper_snake(e->name, expected + strlen(expected), sizeof expected - strlen(expected));
        assert_string_equal(v->name, expected);
        covered++;
    }
    size_t count = 0;
    fb_catalog_all(&count);
    assert_int_equal(count, covered);
    assert_int_equal(count, 23);
}

static void test_catalog_all_lists_domain_types_first(void **state)
{
    size_t count = 0;
    const fb_catalog_entry_t *all = fb_catalog_all(&count);
    assert_non_null(all);
    assert_int_equal(all[0].type, 1);
    for (size_t i = 1; i < count; i++)
        assert_true(all[i - 1].type < all[i].type);
    assert_int_equal(all[16].type, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_BILAN_ANNUEL);
    assert_int_equal(all[17].type, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_ISSUE);
    assert_int_equal(all[18].type, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_BILAN_REQUEST);
    assert_int_equal(all[19].type, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_RECEIPT);
}

static void test_catalog_by_name_accepts_both_spellings_any_case(void **state)
{
    const fb_catalog_entry_t *e =
        fb_catalog_by_type(FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_REMISE_A_DISPOSITION);
    assert_non_null(e);
    assert_ptr_equal(fb_catalog_by_name("RemiseADisposition"), e);
    assert_ptr_equal(fb_catalog_by_name("remiseadisposition"), e);
    assert_ptr_equal(fb_catalog_by_name("REMISE_A_DISPOSITION"), e);
    assert_ptr_equal(fb_catalog_by_name("remise_a_disposition"), e);

    e = fb_catalog_by_type(FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_KEY_CERT);
    assert_ptr_equal(fb_catalog_by_name("KeyCert"), e);
    assert_ptr_equal(fb_catalog_by_name("KEY_CERT"), e);

    /* Every entry is found under both its spellings. */
    size_t count = 0;
    const fb_catalog_entry_t *all = fb_catalog_all(&count);
    for (size_t i = 0; i < count; i++) {
        char suffix[128];
        s_upper_snake(all[i].name, suffix, sizeof suffix);
        assert_ptr_equal(fb_catalog_by_name(all[i].name), &all[i]);
        assert_ptr_equal(fb_catalog_by_name(suffix), &all[i]);
    }
}

static void test_catalog_unknown_gives_null(void **state)
{
    assert_null(fb_catalog_by_type(0));
    assert_null(fb_catalog_by_type(20));
    assert_null(fb_catalog_by_type(99));
    assert_null(fb_catalog_by_type(104));
    assert_null(fb_catalog_by_type(-1));

    assert_null(fb_catalog_by_name(NULL));
    assert_null(fb_catalog_by_name(""));
    assert_null(fb_catalog_by_name("NoSuchMessage"));
    assert_null(fb_catalog_by_name("LogementLiber"));
    assert_null(fb_catalog_by_name("LogementLibereX"));
    assert_null(fb_catalog_by_name("UNSPECIFIED"));
    /* Frames that are not SignedBody payloads, and inner types, are not in the catalog. */
    assert_null(fb_catalog_by_name("Hello"));
    assert_null(fb_catalog_by_name("Envelope"));
    assert_null(fb_catalog_by_name("HouseholdDetails"));
}

static void test_catalog_logement_libere_round_trips(void **state)
{
    char *lines[] = {"12 rue des Marquisats", "Bâtiment B, escalier 2"};
    Fluxbus__V1__Address addr = FLUXBUS__V1__ADDRESS__INIT;
    addr.n_lines = 2;
    addr.lines = lines;
    addr.postal_code = "74000";
    addr.city = "Annecy";
    Fluxbus__V1__Date avail = FLUXBUS__V1__DATE__INIT;
    avail.year = 2025;
    avail.month = 3;
    avail.day = 1;

    Fluxbus__V1__LogementLibere in = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    in.vacancy_id = "vac-2025-000123";
    in.rpls_id = ""; /* new building, not in RPLS yet */
    in.residence_id = "RES-0042";
    in.bailleur_siren = "552046955";
    in.commune_insee = "74010";
    in.address = &addr;
    in.qpv = FLUXBUS__V1__QPV_STATUS__QPV_STATUS_OUTSIDE_QPV;
    in.qpv_map_year = 2024;
    in.typologie = FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T3;
    in.surface_m2_x100 = 6540;
    in.loyer_cents = 48215;
    in.charges_cents = 9500;
    in.financement = FLUXBUS__V1__FINANCEMENT__FINANCEMENT_PLAI;
    in.floor = -1;
    in.lift = 1;
    in.accessibility = FLUXBUS__V1__PMR_ACCESSIBILITY__PMR_ACCESSIBILITY_ADAPTABLE;
    in.construction_period = FLUXBUS__V1__CONSTRUCTION_PERIOD__CONSTRUCTION_PERIOD_2013_LATER;
    in.available_on = &avail;
    in.mode_gestion = FLUXBUS__V1__MODE_GESTION__MODE_GESTION_HORS_FLUX;
    in.hors_flux_motif = FLUXBUS__V1__HORS_FLUX_MOTIF__HORS_FLUX_MOTIF_RELOGEMENT_ANRU;
    in.epci_siren = "200066793";

    const fb_catalog_entry_t *e = fb_catalog_by_name("LOGEMENT_LIBERE");
    assert_non_null(e);
    size_t len = protobuf_c_message_get_packed_size(&in.base);
    assert_true(len > 0);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(&in.base, buf), len);

    ProtobufCMessage *m = protobuf_c_message_unpack(e->desc, NULL, len, buf);
    assert_non_null(m);
    assert_ptr_equal(m->descriptor, &fluxbus__v1__logement_libere__descriptor);
    Fluxbus__V1__LogementLibere *out = (Fluxbus__V1__LogementLibere *)m;
    assert_string_equal(out->vacancy_id, "vac-2025-000123");
    assert_string_equal(out->rpls_id, "");
    assert_string_equal(out->residence_id, "RES-0042");
    assert_string_equal(out->bailleur_siren, "552046955");
    assert_string_equal(out->commune_insee, "74010");
    assert_non_null(out->address);
    assert_int_equal(out->address->n_lines, 2);
    assert_string_equal(out->address->lines[1], "Bâtiment B, escalier 2");
    assert_string_equal(out->address->postal_code, "74000");
    assert_string_equal(out->address->city, "Annecy");
    assert_int_equal(out->qpv, FLUXBUS__V1__QPV_STATUS__QPV_STATUS_OUTSIDE_QPV);
    assert_int_equal(out->qpv_map_year, 2024);
    assert_int_equal(out->typologie, FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T3);
    assert_int_equal(out->surface_m2_x100, 6540);
    assert_int_equal(out->loyer_cents, 48215);
    assert_int_equal(out->charges_cents, 9500);
    assert_int_equal(out->financement, FLUXBUS__V1__FINANCEMENT__FINANCEMENT_PLAI);
    assert_int_equal(out->floor, -1);
    assert_true(out->lift);
    assert_int_equal(out->accessibility,
                     FLUXBUS__V1__PMR_ACCESSIBILITY__PMR_ACCESSIBILITY_ADAPTABLE);
    assert_int_equal(out->construction_period,
                     FLUXBUS__V1__CONSTRUCTION_PERIOD__CONSTRUCTION_PERIOD_2013_LATER);
    assert_non_null(out->available_on);
    assert_int_equal(out->available_on->year, 2025);
    assert_int_equal(out->available_on->month, 3);
    assert_int_equal(out->available_on->day, 1);
    assert_int_equal(out->mode_gestion, FLUXBUS__V1__MODE_GESTION__MODE_GESTION_HORS_FLUX);
    assert_int_equal(out->hors_flux_motif,
                     FLUXBUS__V1__HORS_FLUX_MOTIF__HORS_FLUX_MOTIF_RELOGEMENT_ANRU);
    assert_string_equal(out->epci_siren, "200066793");

    /* Re-encoding the decoded message gives the same bytes. */
    assert_int_equal(protobuf_c_message_get_packed_size(m), len);
    uint8_t *again = malloc(len);
    assert_non_null(again);
    protobuf_c_message_pack(m, again);
    assert_memory_equal(again, buf, len);

    free(again);
    protobuf_c_message_free_unpacked(m, NULL);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalog_maps_logement_libere_to_its_descriptor),
        cmocka_unit_test(test_catalog_covers_every_message_type),
        cmocka_unit_test(test_catalog_all_lists_domain_types_first),
        cmocka_unit_test(test_catalog_by_name_accepts_both_spellings_any_case),
        cmocka_unit_test(test_catalog_unknown_gives_null),
        cmocka_unit_test(test_catalog_logement_libere_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
