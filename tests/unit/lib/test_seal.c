/* test_seal.c - the sealed household of a Designation (lib/seal.c): it opens
 * with the bailleur's encryption pair and with nothing else, any altered bit
 * is refused, the box shows none of the household's plaintext, and in a
 * Designation envelope it is found by its digest and opened only for the key
 * it names. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "fluxbus/codec.h"
#include "fluxbus/envelope.h"
#include "fluxbus/keys.h"
#include "fluxbus/seal.h"

#define S_BAILLEUR "bailleur:552046955"
#define S_RESA "reservataire:action-logement"
#define S_FAMILY "Kerhervé-Lopes"
#define S_GIVEN "Maëlys"
#define S_EMAIL "maelys.kerherve@example.invalid"
#define S_PHONE "+33 6 12 34 56 78"
#define S_NOTES "hébergée chez sa sœur depuis mars"

/* A household with two members and a sensitive priority ground. The strings
 * it points to are static. */
typedef struct {
    Fluxbus__V1__HouseholdDetails hh;
    Fluxbus__V1__HouseholdMember m[2];
    Fluxbus__V1__HouseholdMember *members[2];
    Fluxbus__V1__PriorityGround grounds[2];
} s_household_t;

static void s_household(s_household_t *h)
{
    Fluxbus__V1__HouseholdDetails hh = FLUXBUS__V1__HOUSEHOLD_DETAILS__INIT;
    Fluxbus__V1__HouseholdMember m = FLUXBUS__V1__HOUSEHOLD_MEMBER__INIT;
    h->hh = hh;
    h->m[0] = m;
    h->m[1] = m;
    h->m[0].role = FLUXBUS__V1__HOUSEHOLD_ROLE__HOUSEHOLD_ROLE_DEMANDEUR;
    h->m[0].given_name = S_GIVEN;
    h->m[0].family_name = S_FAMILY;
    h->m[0].annual_resources_cents = 1432000;
    h->m[1].role = FLUXBUS__V1__HOUSEHOLD_ROLE__HOUSEHOLD_ROLE_ENFANT;
    h->m[1].given_name = "Noé";
    h->m[1].family_name = S_FAMILY;
    h->members[0] = &h->m[0];
    h->members[1] = &h->m[1];
    h->grounds[0] = FLUXBUS__V1__PRIORITY_GROUND__PRIORITY_GROUND_VIOLENCES_CONJUGALES;
    h->grounds[1] = FLUXBUS__V1__PRIORITY_GROUND__PRIORITY_GROUND_SANS_LOGEMENT;
    h->hh.nur = "074011925000001";
    h->hh.n_members = 2;
    h->hh.members = h->members;
    h->hh.revenu_fiscal_reference_cents = 1432000;
    h->hh.resources_year = 2024;
    h->hh.email = S_EMAIL;
    h->hh.phone = S_PHONE;
    h->hh.n_priority_grounds = 2;
    h->hh.priority_grounds = h->grounds;
    h->hh.notes = S_NOTES;
}

static fb_keys_t s_keys(const char *actor)
{
    fb_keys_t keys;
    assert_int_equal(fb_keys_generate(&keys, actor), FB_OK);
    return keys;
}

static void s_assert_is_the_household(const Fluxbus__V1__HouseholdDetails *got)
{
    assert_string_equal(got->nur, "074011925000001");
    assert_int_equal(got->n_members, 2);
    assert_string_equal(got->members[0]->family_name, S_FAMILY);
    assert_string_equal(got->members[0]->given_name, S_GIVEN);
    assert_int_equal(got->members[0]->annual_resources_cents, 1432000);
    assert_string_equal(got->members[1]->given_name, "Noé");
    assert_int_equal(got->n_priority_grounds, 2);
    assert_int_equal(got->priority_grounds[0],
                     FLUXBUS__V1__PRIORITY_GROUND__PRIORITY_GROUND_VIOLENCES_CONJUGALES);
    assert_string_equal(got->email, S_EMAIL);
    assert_string_equal(got->phone, S_PHONE);
    assert_string_equal(got->notes, S_NOTES);
}

/* The example of use: seal for the bailleur's public key, open with its pair. */
static void test_seal_household_round_trips(void **state)
{
    (void)state;
    fb_keys_t bailleur = s_keys(S_BAILLEUR);
    s_household_t h;
    s_household(&h);
    fb_sealed_t sealed;
    assert_int_equal(fb_seal_household(&h.hh, bailleur.enc_pk, &sealed), FB_OK);
    assert_string_equal(sealed.key_id, bailleur.enc_key_id);
    uint8_t digest[FB_DIGEST_BYTES];
    fb_blake2b256(sealed.box, sealed.box_len, digest);
    assert_memory_equal(sealed.digest, digest, FB_DIGEST_BYTES);

    Fluxbus__V1__HouseholdDetails *got = NULL;
    assert_int_equal(fb_seal_open_household(sealed.box, sealed.box_len, bailleur.enc_pk,
                                            bailleur.enc_sk, FB_DEFAULT_MAX_ENVELOPE, &got),
                     FB_OK);
    s_assert_is_the_household(got);
    fb_seal_household_free(got);
    fb_sealed_clear(&sealed);
    assert_null(sealed.box);
    fb_sealed_clear(&sealed); /* twice is harmless */
    fb_keys_wipe(&bailleur);
}

static void test_seal_refuses_to_open_with_another_key(void **state)
{
    (void)state;
    fb_keys_t bailleur = s_keys(S_BAILLEUR), other = s_keys(S_RESA);
    s_household_t h;
    s_household(&h);
    fb_sealed_t sealed;
    assert_int_equal(fb_seal_household(&h.hh, bailleur.enc_pk, &sealed), FB_OK);
    Fluxbus__V1__HouseholdDetails *got = NULL;
    assert_int_equal(fb_seal_open_household(sealed.box, sealed.box_len, other.enc_pk, other.enc_sk,
                                            FB_DEFAULT_MAX_ENVELOPE, &got),
                     FB_ERR_BAD_SIGNATURE);
    assert_null(got);
    /* The right public key with another secret key does not open it either. */
    assert_int_equal(fb_seal_open_household(sealed.box, sealed.box_len, bailleur.enc_pk,
                                            other.enc_sk, FB_DEFAULT_MAX_ENVELOPE, &got),
                     FB_ERR_BAD_SIGNATURE);
    /* Nor do the bailleur's transport keys: the encryption pair is its own. */
    assert_int_equal(fb_seal_open_household(sealed.box, sealed.box_len, bailleur.curve_pk,
                                            bailleur.curve_sk, FB_DEFAULT_MAX_ENVELOPE, &got),
                     FB_ERR_BAD_SIGNATURE);
    assert_null(got);
    fb_sealed_clear(&sealed);
    fb_keys_wipe(&bailleur);
    fb_keys_wipe(&other);
}

static void test_seal_refuses_any_flipped_bit(void **state)
{
    (void)state;
    fb_keys_t bailleur = s_keys(S_BAILLEUR);
    s_household_t h;
    s_household(&h);
    fb_sealed_t sealed;
    assert_int_equal(fb_seal_household(&h.hh, bailleur.enc_pk, &sealed), FB_OK);
    for (size_t i = 0; i < sealed.box_len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            sealed.box[i] ^= (uint8_t)(1u << bit);
            Fluxbus__V1__HouseholdDetails *got = NULL;
            fb_err_t rc = fb_seal_open_household(sealed.box, sealed.box_len, bailleur.enc_pk,
                                                 bailleur.enc_sk, FB_DEFAULT_MAX_ENVELOPE, &got);
            if (rc != FB_ERR_BAD_SIGNATURE)
                fprintf(stderr, "byte %zu bit %d: %s\n", i, bit, fb_err_name(rc));
            assert_int_equal(rc, FB_ERR_BAD_SIGNATURE);
            assert_null(got);
            sealed.box[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* Truncated or extended, it is refused too. */
    Fluxbus__V1__HouseholdDetails *got = NULL;
    assert_int_equal(fb_seal_open_household(sealed.box, sealed.box_len - 1, bailleur.enc_pk,
                                            bailleur.enc_sk, FB_DEFAULT_MAX_ENVELOPE, &got),
                     FB_ERR_BAD_SIGNATURE);
    assert_int_equal(fb_seal_open_household(sealed.box, crypto_box_SEALBYTES - 1, bailleur.enc_pk,
                                            bailleur.enc_sk, FB_DEFAULT_MAX_ENVELOPE, &got),
                     FB_ERR_BAD_SIGNATURE);
    /* Restored, it opens: the refusals came from the damage alone. */
    assert_int_equal(fb_seal_open_household(sealed.box, sealed.box_len, bailleur.enc_pk,
                                            bailleur.enc_sk, FB_DEFAULT_MAX_ENVELOPE, &got),
                     FB_OK);
    fb_seal_household_free(got);
    fb_sealed_clear(&sealed);
    fb_keys_wipe(&bailleur);
}

static void test_seal_box_contains_no_plaintext(void **state)
{
    (void)state;
    fb_keys_t bailleur = s_keys(S_BAILLEUR);
    s_household_t h;
    s_household(&h);
    fb_sealed_t sealed, again;
    assert_int_equal(fb_seal_household(&h.hh, bailleur.enc_pk, &sealed), FB_OK);
    static const char *const secrets[] = {S_FAMILY, S_GIVEN, S_EMAIL,
                                          S_PHONE,  S_NOTES, "074011925000001"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        assert_null(memmem(sealed.box, sealed.box_len, secrets[i], strlen(secrets[i])));
    /* Nor any 8-byte run of the serialized household (the ground is a varint). */
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    assert_int_equal(fb_codec_pack(&h.hh.base, &plain, &plain_len), FB_OK);
    assert_int_equal(sealed.box_len, plain_len + crypto_box_SEALBYTES);
    for (size_t i = 0; i + 8 <= plain_len; i++)
        assert_null(memmem(sealed.box, sealed.box_len, plain + i, 8));
    /* Each seal uses a fresh ephemeral key: the same household seals differently. */
    assert_int_equal(fb_seal_household(&h.hh, bailleur.enc_pk, &again), FB_OK);
    assert_int_equal(again.box_len, sealed.box_len);
    assert_memory_not_equal(again.box, sealed.box, sealed.box_len);
    free(plain);
    fb_sealed_clear(&again);
    fb_sealed_clear(&sealed);
    fb_keys_wipe(&bailleur);
}

static void test_seal_open_refuses_what_is_not_a_household_or_too_large(void **state)
{
    (void)state;
    fb_keys_t bailleur = s_keys(S_BAILLEUR);
    /* Opens (sealed for the right key) but is not protobuf. */
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t box[sizeof junk + crypto_box_SEALBYTES];
    assert_int_equal(crypto_box_seal(box, junk, sizeof junk, bailleur.enc_pk), 0);
    Fluxbus__V1__HouseholdDetails *got = NULL;
    assert_int_equal(fb_seal_open_household(box, sizeof box, bailleur.enc_pk, bailleur.enc_sk,
                                            FB_DEFAULT_MAX_ENVELOPE, &got),
                     FB_ERR_MALFORMED);
    assert_null(got);
    /* A plaintext over the cap is not even opened. */
    s_household_t h;
    s_household(&h);
    fb_sealed_t sealed;
    assert_int_equal(fb_seal_household(&h.hh, bailleur.enc_pk, &sealed), FB_OK);
    size_t plain_len = sealed.box_len - crypto_box_SEALBYTES;
    assert_int_equal(fb_seal_open_household(sealed.box, sealed.box_len, bailleur.enc_pk,
                                            bailleur.enc_sk, plain_len - 1, &got),
                     FB_ERR_TOO_LARGE);
    assert_int_equal(fb_seal_open_household(sealed.box, sealed.box_len, bailleur.enc_pk,
                                            bailleur.enc_sk, plain_len, &got),
                     FB_OK);
    fb_seal_household_free(got);
    fb_sealed_clear(&sealed);
    fb_keys_wipe(&bailleur);
}

/* A Designation envelope from the réservataire to the bailleur; the
 * household (if sealed is not NULL) as its attachment, or `attachment` as
 * given. Caller frees. */
static uint8_t *s_designation_envelope(const fb_keys_t *resa, const fb_sealed_t *sealed,
                                       const ProtobufCBinaryData *attachment, int type, size_t *len)
{
    Fluxbus__V1__Designation d = FLUXBUS__V1__DESIGNATION__INIT;
    d.vacancy_id = "vac-2026-0042";
    d.rank = 1;
    d.candidate_count = 3;
    d.nur = "074011925000001";
    d.dalo = true;
    if (sealed)
        fb_sealed_bind(sealed, &d);
    uint8_t *payload = NULL;
    size_t payload_len = 0;
    assert_int_equal(fb_codec_pack(&d.base, &payload, &payload_len), FB_OK);

    uint8_t id[FB_MESSAGE_ID_BYTES];
    fb_message_id_new(id);
    char *to[1] = {S_BAILLEUR};
    Fluxbus__V1__SignedBody body = FLUXBUS__V1__SIGNED_BODY__INIT;
    body.version = FB_PROTOCOL_VERSION;
    body.message_id.data = id;
    body.message_id.len = sizeof id;
    body.sender = (char *)resa->actor;
    body.key_id = (char *)resa->key_id;
    body.recipients = to;
    body.n_recipients = 1;
    body.created_at_ms = fb_now_ms();
    body.type = (Fluxbus__V1__MessageType)type;
    body.payload.data = payload;
    body.payload.len = payload_len;
    ProtobufCBinaryData att = {0};
    if (sealed) {
        att.data = sealed->box;
        att.len = sealed->box_len;
    }
    if (attachment)
        att = *attachment;
    uint8_t *env = NULL;
    assert_int_equal(fb_envelope_seal_attached(&body, &att, att.len ? 1 : 0, resa, &env, len),
                     FB_OK);
    free(payload);
    return env;
}

static void test_seal_open_delivery_opens_the_designation_household(void **state)
{
    (void)state;
    fb_keys_t bailleur = s_keys(S_BAILLEUR), resa = s_keys(S_RESA);
    s_household_t h;
    s_household(&h);
    fb_sealed_t sealed;
    assert_int_equal(fb_seal_household(&h.hh, bailleur.enc_pk, &sealed), FB_OK);
    size_t len = 0;
    uint8_t *env = s_designation_envelope(
        &resa, &sealed, NULL, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_DESIGNATION, &len);
    Fluxbus__V1__HouseholdDetails *got = NULL;
    assert_int_equal(fb_seal_open_delivery(env, len, &bailleur, &got), FB_OK);
    s_assert_is_the_household(got);
    fb_seal_household_free(got);

    /* The réservataire's own keys are not the ones it is sealed for. */
    assert_int_equal(fb_seal_open_delivery(env, len, &resa, &got), FB_ERR_UNKNOWN_KEY);
    assert_null(got);
    /* Public keys only: nothing to open with. */
    fb_keys_t pub = bailleur;
    pub.has_secret = false;
    assert_int_equal(fb_seal_open_delivery(env, len, &pub, &got), FB_ERR_INVALID);
    /* A key file of the older format has no encryption pair. */
    pub = bailleur;
    pub.has_enc = false;
    assert_int_equal(fb_seal_open_delivery(env, len, &pub, &got), FB_ERR_INVALID);
    free(env);
    fb_sealed_clear(&sealed);
    fb_keys_wipe(&bailleur);
    fb_keys_wipe(&resa);
}

static void test_seal_open_delivery_finds_nothing_without_a_sealed_household(void **state)
{
    (void)state;
    fb_keys_t bailleur = s_keys(S_BAILLEUR), resa = s_keys(S_RESA);
    Fluxbus__V1__HouseholdDetails *got = NULL;
    size_t len = 0;
    uint8_t *env = s_designation_envelope(
        &resa, NULL, NULL, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_DESIGNATION, &len);
    assert_int_equal(fb_seal_open_delivery(env, len, &bailleur, &got), FB_ERR_NOT_FOUND);
    free(env);
    /* Another type is never a household, whatever it carries. */
    env = s_designation_envelope(&resa, NULL, NULL, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_VISITE,
                                 &len);
    assert_int_equal(fb_seal_open_delivery(env, len, &bailleur, &got), FB_ERR_NOT_FOUND);
    free(env);
    assert_null(got);
    fb_keys_wipe(&bailleur);
    fb_keys_wipe(&resa);
}

static void test_seal_open_delivery_refuses_a_digest_naming_no_attachment(void **state)
{
    (void)state;
    fb_keys_t bailleur = s_keys(S_BAILLEUR), resa = s_keys(S_RESA);
    s_household_t h;
    s_household(&h);
    fb_sealed_t sealed;
    assert_int_equal(fb_seal_household(&h.hh, bailleur.enc_pk, &sealed), FB_OK);
    /* The Designation names the box, but the envelope carries other bytes. */
    static uint8_t other[] = "not the household";
    ProtobufCBinaryData att = {sizeof other, other};
    size_t len = 0;
    uint8_t *env = s_designation_envelope(
        &resa, &sealed, &att, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_DESIGNATION, &len);
    Fluxbus__V1__HouseholdDetails *got = NULL;
    assert_int_equal(fb_seal_open_delivery(env, len, &bailleur, &got), FB_ERR_MALFORMED);
    assert_null(got);
    free(env);
    fb_sealed_clear(&sealed);
    fb_keys_wipe(&bailleur);
    fb_keys_wipe(&resa);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seal_household_round_trips),
        cmocka_unit_test(test_seal_refuses_to_open_with_another_key),
        cmocka_unit_test(test_seal_refuses_any_flipped_bit),
        cmocka_unit_test(test_seal_box_contains_no_plaintext),
        cmocka_unit_test(test_seal_open_refuses_what_is_not_a_household_or_too_large),
        cmocka_unit_test(test_seal_open_delivery_opens_the_designation_household),
        cmocka_unit_test(test_seal_open_delivery_finds_nothing_without_a_sealed_household),
        cmocka_unit_test(test_seal_open_delivery_refuses_a_digest_naming_no_attachment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
