/* fluxbus/envelope.h - building, signing and verifying envelopes.
 *
 * The signature is Ed25519 over a DSSE-style pre-authentication encoding:
 *   PAE(body) = "DSSEv1" SP LEN(ctx) SP ctx SP LEN(body) SP body
 * with ctx = FB_ENVELOPE_CONTEXT, SP one space (0x20) and LEN the length in
 * bytes as ASCII decimal without leading zeros. The exact body bytes are
 * signed; a received body is verified before it is parsed and is never
 * re-encoded. */
#ifndef FLUXBUS_ENVELOPE_H
#define FLUXBUS_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "fluxbus/err.h"
#include "fluxbus/keys.h"
#include "fluxbus/v1/envelope.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FB_ENVELOPE_CONTEXT "application/vnd.fluxbus.signed-body+protobuf;v=1"
#define FB_PROTOCOL_VERSION 1
#define FB_MESSAGE_ID_BYTES 16
#define FB_DIGEST_BYTES 32 /* BLAKE2b-256: attachment digests, audit chain */

/* The encoding that is signed, in a fresh buffer (caller frees *out). */
fb_err_t fb_envelope_pae(const uint8_t *body, size_t body_len, uint8_t **out, size_t *out_len)
    __attribute__((warn_unused_result));

/* Packs `body`, signs it with keys->sign_sk and packs the Envelope (key_id
 * hint = keys->key_id). body->key_id and body->sender are NOT filled in for
 * you: set them to keys->key_id / keys->actor. Caller frees *out. */
fb_err_t fb_envelope_seal(const Fluxbus__V1__SignedBody *body, const fb_keys_t *keys, uint8_t **out,
                          size_t *out_len) __attribute__((warn_unused_result));

/* fb_envelope_seal in two steps: `body` is a SignedBody already packed
 * (fb_codec_pack), without attachments; signs it and packs the Envelope.
 * Reads keys only, so several threads may seal with the same keys. */
fb_err_t fb_envelope_seal_packed(const uint8_t *body, size_t body_len, const fb_keys_t *keys,
                                 uint8_t **out, size_t *out_len)
    __attribute__((warn_unused_result));

/* Like fb_envelope_seal, with n detachable attachments: fills
 * body->attachment_digests with their BLAKE2b-256 (restored before return)
 * and carries the bytes in Envelope.attachments. */
fb_err_t fb_envelope_seal_attached(Fluxbus__V1__SignedBody *body, const ProtobufCBinaryData *att,
                                   size_t n, const fb_keys_t *keys, uint8_t **out, size_t *out_len)
    __attribute__((warn_unused_result));

/* The envelope without its attachments (what is kept once they are purged):
 * body, signature and key_id unchanged, so it still verifies. Caller frees. */
fb_err_t fb_envelope_skeleton(const uint8_t *data, size_t len, size_t cap, uint8_t **out,
                              size_t *out_len) __attribute__((warn_unused_result));

/* The attachment whose BLAKE2b-256 is digest, or NULL. Call on a verified,
 * parsed envelope (fb_envelope_parse_body checked the digests). */
const ProtobufCBinaryData *fb_envelope_attachment(const Fluxbus__V1__Envelope *env,
                                                  const uint8_t *digest, size_t digest_len);

/* Decodes the outer Envelope (size cap first). Does not touch the body.
 * Returns FB_ERR_TOO_LARGE, FB_ERR_MALFORMED (also for a signature that is not
 * 64 bytes or an empty body) or FB_OK. Free with fb_envelope_free(). */
fb_err_t fb_envelope_decode(const uint8_t *data, size_t len, size_t cap,
                            Fluxbus__V1__Envelope **out) __attribute__((warn_unused_result));

/* Checks env->signature over PAE(env->body) with the Ed25519 public key pk.
 * FB_OK or FB_ERR_BAD_SIGNATURE. */
fb_err_t fb_envelope_verify(const Fluxbus__V1__Envelope *env, const uint8_t pk[FB_SIGN_PK_BYTES])
    __attribute__((warn_unused_result));

/* Parses the body of an envelope that has been verified. Checks the version
 * (FB_ERR_UNSUPPORTED_VERSION), a 16-byte message id and a non-empty sender
 * (FB_ERR_MALFORMED), that body.key_id equals the envelope's key_id hint
 * (FB_ERR_SENDER_MISMATCH), and the attachments against their signed digests
 * (FB_ERR_BAD_SIGNATURE). An envelope with no attachments but digests in its
 * body is a purged skeleton: accepted only when allow_skeleton is set
 * (readers of the audit log), never on the bus. Free with fb_body_free(). */
fb_err_t fb_envelope_parse_body(const Fluxbus__V1__Envelope *env, Fluxbus__V1__SignedBody **out)
    __attribute__((warn_unused_result));
fb_err_t fb_envelope_parse_skeleton(const Fluxbus__V1__Envelope *env, Fluxbus__V1__SignedBody **out)
    __attribute__((warn_unused_result));

void fb_envelope_free(Fluxbus__V1__Envelope *env);
void fb_body_free(Fluxbus__V1__SignedBody *body);

/* 16 random bytes. */
void fb_message_id_new(uint8_t id[FB_MESSAGE_ID_BYTES]);

/* Wall-clock time in ms since the Unix epoch. */
int64_t fb_now_ms(void);

/* SHA-256 of data into out (32 bytes). */
void fb_sha256(const uint8_t *data, size_t len, uint8_t out[32]);

/* BLAKE2b-256 (libsodium crypto_generichash, no key) of data. */
void fb_blake2b256(const uint8_t *data, size_t len, uint8_t out[FB_DIGEST_BYTES]);

#ifdef __cplusplus
}
#endif
#endif
