/* fluxbus/keys.h - an actor's key material: an Ed25519 signing key pair, a
 * CURVE (X25519) transport key pair and an X25519 encryption key pair (to
 * receive sealed household data), with their files.
 *
 * A key file is text, one "name = value" per line, values in lowercase hex:
 *   actor = bailleur:552046955
 *   sign_public = <64 hex>     curve_public = <64 hex>    encrypt_public = <64 hex>
 *   sign_secret = <128 hex>    curve_secret = <64 hex>    encrypt_secret = <64 hex>
 *                                                         (secrets: secret file only)
 * The encryption pair is optional: files written before it existed load with
 * has_enc false. fb_keys_save() writes the secret file with mode 0600 and a
 * ".pub" twin without the secrets; fb_keys_load() refuses a secret file that
 * group or others may read (FB_ERR_PERM). Secrets are wiped by
 * fb_keys_wipe(). */
#ifndef FLUXBUS_KEYS_H
#define FLUXBUS_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fluxbus/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FB_ACTOR_MAX 128 /* actor id, including the NUL */
#define FB_SIGN_PK_BYTES 32
#define FB_SIGN_SK_BYTES 64
#define FB_SIGNATURE_BYTES 64
#define FB_CURVE_KEY_BYTES 32
#define FB_ENC_KEY_BYTES 32 /* X25519 encryption public or secret key */
#define FB_KEY_ID_CHARS 16  /* hex of the first 8 bytes of SHA-256(public key) */

typedef struct {
    char actor[FB_ACTOR_MAX];
    char key_id[FB_KEY_ID_CHARS + 1];
    uint8_t sign_pk[FB_SIGN_PK_BYTES];
    uint8_t sign_sk[FB_SIGN_SK_BYTES];
    uint8_t curve_pk[FB_CURVE_KEY_BYTES];
    uint8_t curve_sk[FB_CURVE_KEY_BYTES];
    char enc_key_id[FB_KEY_ID_CHARS + 1]; /* fb_key_id(enc_pk); "" without has_enc */
    uint8_t enc_pk[FB_ENC_KEY_BYTES];
    uint8_t enc_sk[FB_ENC_KEY_BYTES]; /* valid when has_enc and has_secret */
    bool has_secret;                  /* false when loaded from a .pub file */
    bool has_enc;                     /* the file has an encryption pair (older files do not) */
} fb_keys_t;

/* Fills *keys with fresh key pairs (signing, transport, encryption) for `actor`. Returns
 * FB_ERR_INVALID for an empty or over-long actor id, FB_ERR_NOMEM/FB_ERR_IO if randomness fails. */
fb_err_t fb_keys_generate(fb_keys_t *keys, const char *actor) __attribute__((warn_unused_result));

/* Writes `path` (mode 0600, secrets included) and `path`.pub (mode 0644, public
 * halves only). Refuses to overwrite an existing file (FB_ERR_EXISTS). */
fb_err_t fb_keys_save(const fb_keys_t *keys, const char *path) __attribute__((warn_unused_result));

/* Reads a secret or public key file. A file holding secrets must not be
 * readable by group or others (FB_ERR_PERM). On error *keys is zeroed. */
fb_err_t fb_keys_load(fb_keys_t *keys, const char *path) __attribute__((warn_unused_result));

/* Parses the text of a key file (len bytes, not NUL-terminated), as
 * fb_keys_load() does but with no file mode to check: secrets are accepted.
 * FB_OK, FB_ERR_PARSE, or FB_ERR_NOMEM; on error *keys is zeroed. */
fb_err_t fb_keys_parse(fb_keys_t *keys, const char *text, size_t len)
    __attribute__((warn_unused_result));

/* Key id of a 32-byte public key (Ed25519 signing or X25519 encryption):
 * lowercase hex of the first 8 bytes of its SHA-256, written to out
 * (FB_KEY_ID_CHARS + 1 bytes). */
void fb_key_id(const uint8_t pk[FB_SIGN_PK_BYTES], char out[FB_KEY_ID_CHARS + 1]);

/* Zeroes the secret halves (and the whole struct). Safe on NULL. */
void fb_keys_wipe(fb_keys_t *keys);

/* Lowercase hex encoding of n bytes into out (2n + 1 bytes). */
void fb_hex_encode(const uint8_t *in, size_t n, char *out);

/* Decodes exactly n bytes of hex; returns FB_ERR_PARSE on wrong length or digit. */
fb_err_t fb_hex_decode(const char *hex, uint8_t *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif
