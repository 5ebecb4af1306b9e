/* fluxbus/seal.h - the household behind a Designation, sealed for the
 * examining bailleur's X25519 encryption key.
 *
 * A sealed household is a serialized HouseholdDetails in a libsodium sealed
 * box (crypto_box_seal: an ephemeral X25519 key, XSalsa20-Poly1305; 48 bytes
 * longer than the plaintext). It travels as an envelope attachment
 * (fb_envelope_seal_attached); the Designation names it by the BLAKE2b-256
 * of the box (sealed_household_digest) and names the key it is sealed for
 * (sealed_for_key_id = fb_key_id of the X25519 public key). Only the holder
 * of that key's secret half opens it: the broker, communes and other
 * réservataires see ciphertext only. */
#ifndef FLUXBUS_SEAL_H
#define FLUXBUS_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "fluxbus/envelope.h"
#include "fluxbus/err.h"
#include "fluxbus/keys.h"
#include "fluxbus/v1/designation.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A household sealed for one encryption key. */
typedef struct {
    uint8_t *box;                     /* the attachment bytes (owned: fb_sealed_clear) */
    size_t box_len;                   /* plaintext length + crypto_box_SEALBYTES (48) */
    uint8_t digest[FB_DIGEST_BYTES];  /* BLAKE2b-256 of box */
    char key_id[FB_KEY_ID_CHARS + 1]; /* key id of the public key it is sealed for */
} fb_sealed_t;

/* Serializes `household` and seals it for the X25519 public key `pk`; fills
 * *out (clear it with fb_sealed_clear). The plaintext bytes are wiped before
 * returning. FB_ERR_INVALID for NULL arguments, FB_ERR_NOMEM, or FB_ERR_IO if
 * libsodium cannot start. On error *out is zeroed. */
fb_err_t fb_seal_household(const Fluxbus__V1__HouseholdDetails *household,
                           const uint8_t pk[FB_ENC_KEY_BYTES], fb_sealed_t *out)
    __attribute__((warn_unused_result));

/* Frees the box and zeroes *sealed; safe on NULL and twice. */
void fb_sealed_clear(fb_sealed_t *sealed);

/* Names `sealed` in `designation`: sealed_household_digest and
 * sealed_for_key_id point into *sealed (borrowed), which must outlive every
 * use of `designation` (pack it before fb_sealed_clear). */
void fb_sealed_bind(const fb_sealed_t *sealed, Fluxbus__V1__Designation *designation);

/* Opens a sealed household box with the X25519 pair (pk, sk). FB_OK with
 * *out set (free with fb_seal_household_free); FB_ERR_BAD_SIGNATURE when the
 * box does not open with this pair (sealed for another key, or any byte
 * altered); FB_ERR_TOO_LARGE when the plaintext would exceed `cap`;
 * FB_ERR_MALFORMED when it opens but is not a HouseholdDetails. The
 * plaintext bytes are wiped before returning. */
fb_err_t fb_seal_open_household(const uint8_t *box, size_t len, const uint8_t pk[FB_ENC_KEY_BYTES],
                                const uint8_t sk[FB_ENC_KEY_BYTES], size_t cap,
                                Fluxbus__V1__HouseholdDetails **out)
    __attribute__((warn_unused_result));

/* The household of a Designation envelope whose signature has been verified
 * (a delivery's exact envelope bytes), opened with keys' encryption pair.
 * FB_OK with *out set; FB_ERR_NOT_FOUND when the envelope is not a
 * Designation or carries no sealed household (nothing to open);
 * FB_ERR_UNKNOWN_KEY when it is sealed for another key than
 * keys->enc_key_id; FB_ERR_INVALID when keys hold no encryption secret;
 * FB_ERR_MALFORMED when the envelope, body or payload does not decode or the
 * attachment named by the digest is absent; otherwise as
 * fb_seal_open_household. */
fb_err_t fb_seal_open_delivery(const uint8_t *envelope, size_t len, const fb_keys_t *keys,
                               Fluxbus__V1__HouseholdDetails **out)
    __attribute__((warn_unused_result));

/* Frees an opened household; safe on NULL. */
void fb_seal_household_free(Fluxbus__V1__HouseholdDetails *household);

#ifdef __cplusplus
}
#endif
#endif
