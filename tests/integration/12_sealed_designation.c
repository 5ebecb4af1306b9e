/* 12_sealed_designation - confidentiality of candidate data. A réservataire
 * fetches the bailleur's encryption key over the bus (KEYQUERY), seals the
 * household of a Designation for it, and only the bailleur opens it: a
 * commune subscribed to the vacancy's territory and a second réservataire,
 * both connected and receiving meanwhile, get nothing, and the broker's
 * SQLite file, its WAL and its log hold no plaintext household data. The
 * broker refuses a household sealed for a key that is not a valid
 * encryption key of a recipient; after the bailleur rotates its encryption
 * key with the CLI (keygen --rotate, actor key-add, actor key-revoke) it
 * hands out the new key and refuses the revoked one. */
#define _GNU_SOURCE /* memmem */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define QUIET_MS 400 /* "receives nothing": wait this long for a delivery */

#define S_RESA2 "reservataire:prefet-74"
#define S_COMMUNE "commune:74010"
#define S_NUR "074011926000042"
/* The household's plaintext: none of it may reach the broker's files. */
#define S_FAMILY "Quintal-Abernathy"
#define S_GIVEN "Zephyrine"
#define S_CHILD "Anatole"
#define S_EMAIL "zephyrine.quintal@example.invalid"
#define S_PHONE "+33 7 98 76 54 32"
#define S_NOTES "hebergee en urgence depuis le 3 mars"

typedef struct {
    fbt_broker_t b;
    fb_keys_t bailleur, resa, resa2, commune;
    fb_client_t *cb, *cr, *cr2, *cc;
} s_world_t;

static void s_world_open(s_world_t *w)
{
    fbt_setup(&w->b);
    fbt_actor(&w->b, FBT_BAILLEUR, "bailleur", NULL, &w->bailleur);
    fbt_actor(&w->b, FBT_RESA, "reservataire", NULL, &w->resa);
    fbt_actor(&w->b, S_RESA2, "reservataire", NULL, &w->resa2);
    fbt_actor(&w->b, S_COMMUNE, "commune", "74010", &w->commune);
    fbt_start(&w->b);
    w->cb = fbt_client(&w->b, &w->bailleur);
    w->cr = fbt_client(&w->b, &w->resa);
    w->cr2 = fbt_client(&w->b, &w->resa2);
    w->cc = fbt_client(&w->b, &w->commune);
    /* The vacancy the Designations answer, oriented to the réservataire
     * under their convention (one candidate expected): the ledger refuses a
     * designation otherwise. */
    fbt_convention(w->cb, FBT_CONV, FBT_RESA, w->cr);
    fbt_orient(w->cb, FBT_RESA, "vac-2026-0042", 1, w->cr);
}

static void s_world_close(s_world_t *w)
{
    fb_client_destroy(&w->cb);
    fb_client_destroy(&w->cr);
    fb_client_destroy(&w->cr2);
    fb_client_destroy(&w->cc);
    if (w->b.pid > 0)
        assert_int_equal(fbt_stop(&w->b, SIGTERM), 0);
    fbt_teardown(&w->b);
}

/* The household: two members, a sensitive priority ground. Static strings. */
typedef struct {
    Fluxbus__V1__HouseholdDetails hh;
    Fluxbus__V1__HouseholdMember m[2];
    Fluxbus__V1__HouseholdMember *members[2];
    Fluxbus__V1__PriorityGround ground;
} s_household_t;

static void s_household(s_household_t *h)
{
    Fluxbus__V1__HouseholdDetails hh = FLUXBUS__V1__HOUSEHOLD_DETAILS__INIT;
    Fluxbus__V1__HouseholdMember m = FLUXBUS__V1__HOUSEHOLD_MEMBER__INIT;
    h->hh = hh;
    h->m[0] = h->m[1] = m;
    h->m[0].role = FLUXBUS__V1__HOUSEHOLD_ROLE__HOUSEHOLD_ROLE_DEMANDEUR;
    h->m[0].given_name = S_GIVEN;
    h->m[0].family_name = S_FAMILY;
    h->m[0].annual_resources_cents = 1187000;
    h->m[1].role = FLUXBUS__V1__HOUSEHOLD_ROLE__HOUSEHOLD_ROLE_ENFANT;
    h->m[1].given_name = S_CHILD;
    h->m[1].family_name = S_FAMILY;
    h->members[0] = &h->m[0];
    h->members[1] = &h->m[1];
    h->ground = FLUXBUS__V1__PRIORITY_GROUND__PRIORITY_GROUND_VIOLENCES_CONJUGALES;
    h->hh.nur = S_NUR;
    h->hh.n_members = 2;
    h->hh.members = h->members;
    h->hh.revenu_fiscal_reference_cents = 1187000;
    h->hh.resources_year = 2024;
    h->hh.email = S_EMAIL;
    h->hh.phone = S_PHONE;
    h->hh.n_priority_grounds = 1;
    h->hh.priority_grounds = &h->ground;
    h->hh.notes = S_NOTES;
}

/* Seals the household for `pk` into *sealed (fb_sealed_clear it) and sends a
 * Designation naming it from c to `to` (and `also`, if not NULL), the box
 * attached unless `detach`.
 * Returns fb_client_send's result, *rec filled in (fb_receipt_clear it). */
static fb_err_t s_send_designation(fb_client_t *c, const char *from, const char *to,
                                   const char *also, const uint8_t pk[FB_ENC_KEY_BYTES], int detach,
                                   fb_sealed_t *sealed, fb_receipt_t *rec)
{
    s_household_t h;
    s_household(&h);
    assert_int_equal(fb_seal_household(&h.hh, pk, sealed), FB_OK);
    Fluxbus__V1__Designation d = FLUXBUS__V1__DESIGNATION__INIT;
    d.vacancy_id = "vac-2026-0042";
    d.convention_id = "conv-2026-74-al";
    d.rank = 1;
    d.candidate_count = 1;
    d.nur = S_NUR;
    d.dalo = true; /* the ledger's boolean, in clear; the ground itself is sealed */
    d.dalo_set_by = FLUXBUS__V1__PRIORITY_SOURCE__PRIORITY_SOURCE_COMMISSION_MEDIATION;
    d.quartile = FLUXBUS__V1__QUARTILE__QUARTILE_Q1;
    d.household_size = 2;
    d.designating_actor_id = (char *)from;
    d.credited_reservataire_actor_id = (char *)from;
    fb_sealed_bind(sealed, &d);
    uint8_t *payload = NULL;
    size_t len = 0;
    assert_int_equal(fb_codec_pack(&d.base, &payload, &len), FB_OK);
    const ProtobufCBinaryData box = {sealed->box_len, sealed->box};
    const char *const to_list[2] = {to, also};
    fb_outgoing_t m = {
        .type = T(DESIGNATION),
        .recipients = to_list,
        .n_recipients = also ? 2 : 1,
        .correlation_id = "vac-2026-0042",
        .payload = payload,
        .payload_len = len,
        .attachments = detach ? NULL : &box,
        .n_attachments = detach ? 0 : 1,
    };
    fb_err_t rc = fb_client_send(c, &m, rec);
    free(payload);
    return rc;
}

/* The encryption key the broker hands out for `actor`; asserts it is `want`. */
static void s_expect_key(fb_client_t *c, const char *actor, const fb_keys_t *want,
                         uint8_t pk[FB_ENC_KEY_BYTES])
{
    char key_id[FB_KEY_ID_CHARS + 1];
    assert_int_equal(fb_client_encryption_key(c, actor, pk, key_id, 0), FB_OK);
    assert_string_equal(key_id, want->enc_key_id);
    assert_memory_equal(pk, want->enc_pk, FB_ENC_KEY_BYTES);
}

/* The next delivery of c is the Designation of `rec`; it opens with `keys`
 * into the household sealed, and shows its routing fields in clear. */
static void s_expect_opened(fb_client_t *c, const fb_receipt_t *rec, const fb_keys_t *keys)
{
    fb_delivery_t *d = fbt_recv_ack(c, 5000);
    assert_non_null(d);
    assert_int_equal(d->body->type, T(DESIGNATION));
    assert_memory_equal(d->body->message_id.data, rec->message_id, FB_MESSAGE_ID_BYTES);
    Fluxbus__V1__HouseholdDetails *hh = NULL;
    assert_int_equal(fb_seal_open_delivery(d->envelope, d->envelope_len, keys, &hh), FB_OK);
    assert_string_equal(hh->members[0]->family_name, S_FAMILY);
    assert_string_equal(hh->members[1]->given_name, S_CHILD);
    assert_string_equal(hh->email, S_EMAIL);
    assert_int_equal(hh->n_priority_grounds, 1);
    assert_int_equal(hh->priority_grounds[0],
                     FLUXBUS__V1__PRIORITY_GROUND__PRIORITY_GROUND_VIOLENCES_CONJUGALES);
    fb_seal_household_free(hh);

    ProtobufCMessage *msg = NULL;
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__designation__descriptor, d->body->payload.data,
                                     d->body->payload.len, FB_DEFAULT_MAX_ENVELOPE, &msg),
                     FB_OK);
    const Fluxbus__V1__Designation *des = (const Fluxbus__V1__Designation *)msg;
    assert_string_equal(des->nur, S_NUR);
    assert_true(des->dalo);
    assert_string_equal(des->sealed_for_key_id, keys->enc_key_id);
    fb_codec_free(msg);
    fb_delivery_destroy(&d);
}

/* A whole file (NULL and *len 0 when it does not exist). Caller frees. */
static uint8_t *s_slurp(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + *len, 1, cap - *len, f)) > 0) {
        *len += got;
        if (*len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(f);
    return buf;
}

static int s_contains(const uint8_t *hay, size_t n, const void *needle, size_t len)
{
    return hay && memmem(hay, n, needle, len) != NULL;
}

/* Asserts that the broker's store (main file and WAL, read as raw bytes)
 * and its log hold none of the household's plaintext. The store must hold
 * the Designation's clear NUR and the sealed box: proof that the bytes
 * searched are the ones the message went to. */
static void s_assert_no_plaintext(const fbt_broker_t *b, const fb_sealed_t *sealed)
{
    char path[600];
    size_t n_db = 0, n_wal = 0, n_log = 0;
    uint8_t *db = s_slurp(b->store, &n_db);
    snprintf(path, sizeof path, "%s-wal", b->store);
    uint8_t *wal = s_slurp(path, &n_wal);
    uint8_t *log = s_slurp(b->log, &n_log);
    assert_true(n_db > 0);
    assert_true(s_contains(db, n_db, S_NUR, strlen(S_NUR)) ||
                s_contains(wal, n_wal, S_NUR, strlen(S_NUR)));
    assert_true(s_contains(db, n_db, sealed->box, sealed->box_len) ||
                s_contains(wal, n_wal, sealed->box, sealed->box_len));

    static const char *const plain[] = {S_FAMILY, S_GIVEN, S_CHILD, S_EMAIL, S_PHONE, S_NOTES};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        size_t len = strlen(plain[i]);
        if (s_contains(db, n_db, plain[i], len) || s_contains(wal, n_wal, plain[i], len) ||
            s_contains(log, n_log, plain[i], len))
            fail_msg("plaintext \"%s\" found in the broker's files", plain[i]);
    }
    /* Nor the serialized household, the priority ground included. */
    s_household_t h;
    s_household(&h);
    uint8_t *packed = NULL;
    size_t packed_len = 0;
    assert_int_equal(fb_codec_pack(&h.hh.base, &packed, &packed_len), FB_OK);
    assert_false(s_contains(db, n_db, packed, packed_len));
    assert_false(s_contains(wal, n_wal, packed, packed_len));
    free(packed);
    free(db);
    free(wal);
    free(log);
}

static void test_only_the_bailleur_receives_and_opens_the_household(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    assert_int_equal(fb_client_subscribe(w.cc, "logements/74010"), FB_OK);
    assert_int_equal(fb_client_subscribe(w.cc, "caleol/74010"), FB_OK);
    /* The commune and the other réservataire are receiving from now on. */
    fbt_expect_nothing(w.cc, 100);
    fbt_expect_nothing(w.cr2, 100);

    uint8_t pk[FB_ENC_KEY_BYTES];
    s_expect_key(w.cr, FBT_BAILLEUR, &w.bailleur, pk);
    fb_sealed_t sealed;
    fb_receipt_t rec;
    assert_int_equal(s_send_designation(w.cr, FBT_RESA, FBT_BAILLEUR, NULL, pk, 0, &sealed, &rec),
                     FB_OK);
    assert_true(rec.accepted);
    s_expect_opened(w.cb, &rec, &w.bailleur);

    /* The other réservataire's keys open nothing of it. */
    Fluxbus__V1__HouseholdDetails *hh = NULL;
    assert_int_equal(fb_seal_open_household(sealed.box, sealed.box_len, w.resa2.enc_pk,
                                            w.resa2.enc_sk, FB_DEFAULT_MAX_ENVELOPE, &hh),
                     FB_ERR_BAD_SIGNATURE);

    /* Connected all along, the commune and the other réservataire next
     * receive the vacancy published after the Designation, and nothing else:
     * the Designation never reached them. */
    size_t len = 0;
    uint8_t *logement = fbt_logement("vac-2026-0043", "74010", &len);
    fb_receipt_t after;
    const char *const to[1] = {S_RESA2};
    const char *const topics[1] = {"logements/74010"};
    fb_outgoing_t m = {.type = T(LOGEMENT_LIBERE),
                       .recipients = to,
                       .n_recipients = 1,
                       .topics = topics,
                       .n_topics = 1,
                       .payload = logement,
                       .payload_len = len};
    assert_int_equal(fb_client_send(w.cb, &m, &after), FB_OK);
    fb_client_t *others[2] = {w.cc, w.cr2};
    for (int i = 0; i < 2; i++) {
        fb_delivery_t *d = fbt_recv_ack(others[i], 5000);
        assert_non_null(d);
        assert_int_equal(d->body->type, T(LOGEMENT_LIBERE));
        assert_memory_equal(d->body->message_id.data, after.message_id, FB_MESSAGE_ID_BYTES);
        fb_delivery_destroy(&d);
        fbt_expect_nothing(others[i], QUIET_MS);
    }

    /* The store holds ciphertext only: while running (main file + WAL) and
     * after a clean stop has checkpointed the WAL into the main file. */
    s_assert_no_plaintext(&w.b, &sealed);
    fb_client_destroy(&w.cb);
    fb_client_destroy(&w.cr);
    fb_client_destroy(&w.cr2);
    fb_client_destroy(&w.cc);
    assert_int_equal(fbt_stop(&w.b, SIGTERM), 0);
    s_assert_no_plaintext(&w.b, &sealed);

    free(logement);
    fb_receipt_clear(&after);
    fb_receipt_clear(&rec);
    fb_sealed_clear(&sealed);
    s_world_close(&w);
}

static void test_household_sealed_for_a_key_not_the_recipients_is_refused(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    fb_sealed_t sealed;
    fb_receipt_t rec;

    /* Sealed for the other réservataire's registered, valid key. */
    uint8_t pk2[FB_ENC_KEY_BYTES];
    s_expect_key(w.cr, S_RESA2, &w.resa2, pk2);
    assert_int_equal(s_send_designation(w.cr, FBT_RESA, FBT_BAILLEUR, NULL, pk2, 0, &sealed, &rec),
                     FB_ERR_NOT_AUTHORIZED);
    assert_false(rec.accepted);
    assert_non_null(strstr(rec.detail, "not of a recipient"));
    fb_receipt_clear(&rec);
    fb_sealed_clear(&sealed);

    /* Sealed for a key nobody registered. */
    fb_keys_t stranger;
    assert_int_equal(fb_keys_generate(&stranger, FBT_BAILLEUR), FB_OK);
    assert_int_equal(
        s_send_designation(w.cr, FBT_RESA, FBT_BAILLEUR, NULL, stranger.enc_pk, 0, &sealed, &rec),
        FB_ERR_NOT_AUTHORIZED);
    assert_non_null(strstr(rec.detail, "not a registered encryption key"));
    fb_receipt_clear(&rec);
    fb_sealed_clear(&sealed);

    /* Naming the bailleur's key, but without the box attached. */
    assert_int_equal(
        s_send_designation(w.cr, FBT_RESA, FBT_BAILLEUR, NULL, w.bailleur.enc_pk, 1, &sealed, &rec),
        FB_ERR_NOT_AUTHORIZED);
    assert_non_null(strstr(rec.detail, "no attachment"));
    fb_receipt_clear(&rec);
    fb_sealed_clear(&sealed);
    fbt_expect_nothing(w.cb, QUIET_MS);

    /* Sealed for the bailleur's key, it goes through: the refusals came from
     * the key alone. */
    assert_int_equal(
        s_send_designation(w.cr, FBT_RESA, FBT_BAILLEUR, NULL, w.bailleur.enc_pk, 0, &sealed, &rec),
        FB_OK);
    s_expect_opened(w.cb, &rec, &w.bailleur);
    fb_receipt_clear(&rec);
    fb_sealed_clear(&sealed);

    /* No key for an actor that is not registered, nor once its only
     * encryption key is revoked. */
    uint8_t pk[FB_ENC_KEY_BYTES];
    assert_int_equal(fb_client_encryption_key(w.cr, "bailleur:000000000", pk, NULL, 0),
                     FB_ERR_UNKNOWN_RECIPIENT);
    assert_int_equal(fbt_run("'%s' actor key-revoke --store '%s' --key-id %s", FB_CLI_BIN,
                             w.b.store, w.resa2.enc_key_id),
                     0);
    assert_int_equal(fb_client_encryption_key(w.cr, S_RESA2, pk, NULL, 0), FB_ERR_UNKNOWN_KEY);
    fb_keys_wipe(&stranger);
    s_world_close(&w);
}

/* A household is for the examining bailleur alone: also addressed to another
 * réservataire (even sealed for it), or sent to a réservataire, it is
 * refused, and nobody receives anything. */
static void test_household_goes_to_one_bailleur_only(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    fb_sealed_t sealed;
    fb_receipt_t rec;
    assert_int_equal(s_send_designation(w.cr, FBT_RESA, FBT_BAILLEUR, S_RESA2, w.bailleur.enc_pk, 0,
                                        &sealed, &rec),
                     FB_ERR_NOT_AUTHORIZED);
    assert_non_null(strstr(rec.detail, "exactly one recipient"));
    fb_receipt_clear(&rec);
    fb_sealed_clear(&sealed);
    assert_int_equal(
        s_send_designation(w.cr, FBT_RESA, FBT_BAILLEUR, S_RESA2, w.resa2.enc_pk, 0, &sealed, &rec),
        FB_ERR_NOT_AUTHORIZED);
    fb_receipt_clear(&rec);
    fb_sealed_clear(&sealed);
    /* Bailleur to réservataire (gestion déléguée), sealed for the réservataire. */
    fbt_run("'%s' actor mandate --store '%s' --reservataire %s --bailleur %s", FB_CLI_BIN,
            w.b.store, S_RESA2, FBT_BAILLEUR);
    assert_int_equal(
        s_send_designation(w.cb, FBT_BAILLEUR, S_RESA2, NULL, w.resa2.enc_pk, 0, &sealed, &rec),
        FB_ERR_NOT_AUTHORIZED);
    assert_non_null(strstr(rec.detail, "examining bailleur"));
    fb_receipt_clear(&rec);
    fb_sealed_clear(&sealed);
    fbt_expect_nothing(w.cb, QUIET_MS);
    fbt_expect_nothing(w.cr2, 50);
    s_world_close(&w);
}

static void test_rotated_encryption_key_replaces_the_revoked_one(void **state)
{
    (void)state;
    s_world_t w;
    s_world_open(&w);
    char old_path[600], new_path[600];
    snprintf(old_path, sizeof old_path, "%s/bailleur.key", w.b.dir);
    snprintf(new_path, sizeof new_path, "%s/bailleur-2027.key", w.b.dir);
    assert_int_equal(fb_keys_save(&w.bailleur, old_path), FB_OK);
    uint8_t old_pk[FB_ENC_KEY_BYTES], pk[FB_ENC_KEY_BYTES];
    s_expect_key(w.cr, FBT_BAILLEUR, &w.bailleur, old_pk);

    /* The rotation of docs/OPERATIONS.md: a new key file keeping the
     * transport pair, registered beside the old one. */
    assert_int_equal(fbt_run("'%s' keygen --actor %s --out '%s' --rotate '%s'", FB_CLI_BIN,
                             FBT_BAILLEUR, new_path, old_path),
                     0);
    fb_keys_t rotated;
    assert_int_equal(fb_keys_load(&rotated, new_path), FB_OK);
    assert_true(rotated.has_enc);
    assert_string_not_equal(rotated.enc_key_id, w.bailleur.enc_key_id);
    assert_memory_equal(rotated.curve_pk, w.bailleur.curve_pk, FB_CURVE_KEY_BYTES);
    assert_int_equal(fbt_run("'%s' actor key-add --store '%s' --id %s --key '%s.pub'", FB_CLI_BIN,
                             w.b.store, FBT_BAILLEUR, new_path),
                     0);
    /* The newest valid key is handed out, even before the old one is revoked. */
    s_expect_key(w.cr, FBT_BAILLEUR, &rotated, pk);
    assert_int_equal(fbt_run("'%s' actor key-revoke --store '%s' --key-id %s", FB_CLI_BIN,
                             w.b.store, w.bailleur.enc_key_id),
                     0);
    s_expect_key(w.cr, FBT_BAILLEUR, &rotated, pk);

    /* A réservataire still holding the old key is refused... */
    fb_sealed_t sealed;
    fb_receipt_t rec;
    assert_int_equal(
        s_send_designation(w.cr, FBT_RESA, FBT_BAILLEUR, NULL, old_pk, 0, &sealed, &rec),
        FB_ERR_NOT_AUTHORIZED);
    assert_non_null(strstr(rec.detail, "revoked or not valid"));
    fb_receipt_clear(&rec);
    fb_sealed_clear(&sealed);

    /* ...and with the new key it goes through. The bailleur, switched to its
     * new key file, opens it; its old key file does not. */
    assert_int_equal(s_send_designation(w.cr, FBT_RESA, FBT_BAILLEUR, NULL, pk, 0, &sealed, &rec),
                     FB_OK);
    fb_client_destroy(&w.cb);
    w.cb = fbt_client(&w.b, &rotated);
    fb_delivery_t *d = fbt_recv_ack(w.cb, 5000);
    assert_non_null(d);
    Fluxbus__V1__HouseholdDetails *hh = NULL;
    assert_int_equal(fb_seal_open_delivery(d->envelope, d->envelope_len, &w.bailleur, &hh),
                     FB_ERR_UNKNOWN_KEY);
    assert_int_equal(fb_seal_open_delivery(d->envelope, d->envelope_len, &rotated, &hh), FB_OK);
    assert_string_equal(hh->members[0]->family_name, S_FAMILY);
    fb_seal_household_free(hh);
    fb_delivery_destroy(&d);
    fb_receipt_clear(&rec);
    fb_sealed_clear(&sealed);
    fb_keys_wipe(&rotated);
    s_world_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_the_bailleur_receives_and_opens_the_household),
        cmocka_unit_test(test_household_sealed_for_a_key_not_the_recipients_is_refused),
        cmocka_unit_test(test_rotated_encryption_key_replaces_the_revoked_one),
        cmocka_unit_test(test_household_goes_to_one_bailleur_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
