/* seal.c - sealing a Designation's household for the examining bailleur's
 * X25519 encryption key, and opening it again (libsodium sealed boxes).
 *
 * Owns: the form of a sealed household (a serialized HouseholdDetails in a
 * crypto_box_seal box), the digest and key id that name it, and finding and
 * opening it in a verified Designation envelope. Does not own: signing and
 * the attachment digests of the envelope (envelope.c), fetching the
 * bailleur's key (client.c).
 *
 * Invariant: the household's plaintext bytes never outlive a call; every
 * buffer that held them is wiped with sodium_memzero before it is freed. */
#include "fluxbus/seal.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fluxbus/codec.h"

fb_err_t fb_seal_household(const Fluxbus__V1__HouseholdDetails *household,
                           const uint8_t pk[FB_ENC_KEY_BYTES], fb_sealed_t *out)
{
    if (!out)
        return FB_ERR_INVALID;
    memset(out, 0, sizeof *out);
    if (!household || !pk)
        return FB_ERR_INVALID;
    if (sodium_init() < 0)
        return FB_ERR_IO;
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    fb_err_t rc = fb_codec_pack(&household->base, &plain, &plain_len);
    if (rc != FB_OK)
        return rc;
    out->box_len = plain_len + crypto_box_SEALBYTES;
    out->box = malloc(out->box_len);
    if (!out->box)
        rc = FB_ERR_NOMEM;
    else if (crypto_box_seal(out->box, plain, plain_len, pk) != 0)
        rc = FB_ERR_INVALID; /* pk is not a usable X25519 key (e.g. a low-order point) */
    sodium_memzero(plain, plain_len);
    free(plain);
    if (rc != FB_OK) {
        fb_sealed_clear(out);
        return rc;
    }
    fb_blake2b256(out->box, out->box_len, out->digest);
    fb_key_id(pk, out->key_id);
    return FB_OK;
}

void fb_sealed_clear(fb_sealed_t *sealed)
{
    if (!sealed)
        return;
    free(sealed->box);
    memset(sealed, 0, sizeof *sealed);
}

void fb_sealed_bind(const fb_sealed_t *sealed, Fluxbus__V1__Designation *designation)
{
    designation->sealed_household_digest.data = (uint8_t *)sealed->digest;
    designation->sealed_household_digest.len = FB_DIGEST_BYTES;
    designation->sealed_for_key_id = (char *)sealed->key_id;
}

fb_err_t fb_seal_open_household(const uint8_t *box, size_t len, const uint8_t pk[FB_ENC_KEY_BYTES],
                                const uint8_t sk[FB_ENC_KEY_BYTES], size_t cap,
                                Fluxbus__V1__HouseholdDetails **out)
{
    *out = NULL;
    if (sodium_init() < 0)
        return FB_ERR_IO;
    if (len < crypto_box_SEALBYTES)
        return FB_ERR_BAD_SIGNATURE; /* too short to be a box: it cannot open */
    size_t plain_len = len - crypto_box_SEALBYTES;
    if (plain_len > cap)
        return FB_ERR_TOO_LARGE;
    uint8_t *plain = malloc(plain_len ? plain_len : 1);
    if (!plain)
        return FB_ERR_NOMEM;
    fb_err_t rc = FB_OK;
    if (crypto_box_seal_open(plain, box, len, pk, sk) != 0) {
        rc = FB_ERR_BAD_SIGNATURE; /* Poly1305 refused it: wrong key or altered bytes */
    } else {
        ProtobufCMessage *msg = NULL;
        rc = fb_codec_unpack(&fluxbus__v1__household_details__descriptor, plain, plain_len, cap,
                             &msg);
        *out = (Fluxbus__V1__HouseholdDetails *)msg;
    }
    sodium_memzero(plain, plain_len);
    free(plain);
    return rc;
}

/* The Designation payload of a parsed body; FB_ERR_NOT_FOUND for other types. */
static fb_err_t s_designation(const Fluxbus__V1__SignedBody *body, Fluxbus__V1__Designation **out)
{
    ProtobufCMessage *msg = NULL;
    *out = NULL;
    if (body->type != FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_DESIGNATION)
        return FB_ERR_NOT_FOUND;
    fb_err_t rc = fb_codec_unpack(&fluxbus__v1__designation__descriptor, body->payload.data,
                                  body->payload.len, body->payload.len, &msg);
    *out = (Fluxbus__V1__Designation *)msg;
    return rc;
}

fb_err_t fb_seal_open_delivery(const uint8_t *envelope, size_t len, const fb_keys_t *keys,
                               Fluxbus__V1__HouseholdDetails **out)
{
    Fluxbus__V1__Envelope *env = NULL;
    Fluxbus__V1__SignedBody *body = NULL;
    Fluxbus__V1__Designation *d = NULL;
    *out = NULL;
    /* The bytes were size-checked when they were received: len is the cap. */
    fb_err_t rc = fb_envelope_decode(envelope, len, len, &env);
    if (rc == FB_OK)
        rc = fb_envelope_parse_body(env, &body); /* checks the attachment digests */
    if (rc == FB_OK)
        rc = s_designation(body, &d);
    if (rc == FB_OK && d->sealed_household_digest.len == 0)
        rc = FB_ERR_NOT_FOUND;
    if (rc == FB_OK && (!keys->has_enc || !keys->has_secret))
        rc = FB_ERR_INVALID;
    if (rc == FB_OK && strcmp(d->sealed_for_key_id, keys->enc_key_id) != 0)
        rc = FB_ERR_UNKNOWN_KEY;
    const ProtobufCBinaryData *box = NULL;
    if (rc == FB_OK) {
        box = fb_envelope_attachment(env, d->sealed_household_digest.data,
                                     d->sealed_household_digest.len);
        if (!box)
            rc = FB_ERR_MALFORMED;
    }
    if (rc == FB_OK)
        rc = fb_seal_open_household(box->data, box->len, keys->enc_pk, keys->enc_sk, len, out);
    if (rc == FB_ERR_BAD_SIGNATURE && !box)
        rc = FB_ERR_MALFORMED; /* the digests did not match: not a valid envelope */
    fb_codec_free(d ? &d->base : NULL);
    fb_body_free(body);
    fb_envelope_free(env);
    return rc;
}

void fb_seal_household_free(Fluxbus__V1__HouseholdDetails *household)
{
    fb_codec_free(household ? &household->base : NULL);
}
