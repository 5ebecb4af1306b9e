/* fluxbus/audit_chain.h - the tamper-evident hash chain over the broker's
 * stored messages (docs/PROTOCOL.md, "Audit chain").
 *
 * Each stored message extends the chain:
 *
 *   link(0) = 32 zero bytes
 *   link(n) = BLAKE2b-256( "fluxbus-audit-v1" || link(n-1) || seq (8 bytes, big-endian)
 *                          || BLAKE2b-256(body) || BLAKE2b-256(signature)
 *                          || BLAKE2b-256(receipt) )
 *
 * where body and signature are fields 1 and 2 of the stored Envelope, exactly
 * as stored, and receipt the broker-signed receipt envelope bytes. The
 * attachments (Envelope field 4) are left out on purpose: the body commits to
 * their digests, so purging them past retention does not break the chain.
 *
 * Pure computation: no I/O, no state. The broker extends the chain, `fluxbus
 * audit verify` and the audit export's verifiers recompute it. */
#ifndef FLUXBUS_AUDIT_CHAIN_H
#define FLUXBUS_AUDIT_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "fluxbus/envelope.h"
#include "fluxbus/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Domain separation prefix of every link (16 ASCII bytes, no terminator). */
#define FB_AUDIT_CHAIN_DOMAIN "fluxbus-audit-v1"
#define FB_AUDIT_LINK_BYTES FB_DIGEST_BYTES

/* The link of message `seq` from its parts, following link `prev` (32 zero
 * bytes for seq 1). Any pointer may be NULL when its length is 0; out may be
 * prev. Cannot fail. */
void fb_audit_chain_link(const uint8_t prev[FB_AUDIT_LINK_BYTES], uint64_t seq, const uint8_t *body,
                         size_t body_len, const uint8_t *signature, size_t signature_len,
                         const uint8_t *receipt, size_t receipt_len,
                         uint8_t out[FB_AUDIT_LINK_BYTES]);

/* The part of a link that depends on the message alone:
 * BLAKE2b-256(body) || BLAKE2b-256(signature) of the stored envelope bytes
 * (decoded as in fb_audit_chain_link_envelope, same errors; out zeroed on
 * error). Lets the broker take it when it stores the message and chain the
 * receipt later. */
#define FB_AUDIT_MESSAGE_DIGEST_BYTES (2 * FB_DIGEST_BYTES)
fb_err_t fb_audit_chain_message_digest(const uint8_t *envelope, size_t envelope_len,
                                       uint8_t out[FB_AUDIT_MESSAGE_DIGEST_BYTES])
    __attribute__((warn_unused_result));

/* The link from that digest and the receipt, following prev. Cannot fail. */
void fb_audit_chain_link_digest(const uint8_t prev[FB_AUDIT_LINK_BYTES], uint64_t seq,
                                const uint8_t message_digest[FB_AUDIT_MESSAGE_DIGEST_BYTES],
                                const uint8_t *receipt, size_t receipt_len,
                                uint8_t out[FB_AUDIT_LINK_BYTES]);

/* The same from the stored envelope bytes, which are decoded (at most
 * envelope_len bytes, no other cap) to find body and signature: a full
 * envelope and its skeleton give the same link; out may be prev. Returns FB_OK, or
 * FB_ERR_MALFORMED (out zeroed) when the bytes are not an envelope with a
 * 64-byte signature and a non-empty body, FB_ERR_NOMEM. */
fb_err_t fb_audit_chain_link_envelope(const uint8_t prev[FB_AUDIT_LINK_BYTES], uint64_t seq,
                                      const uint8_t *envelope, size_t envelope_len,
                                      const uint8_t *receipt, size_t receipt_len,
                                      uint8_t out[FB_AUDIT_LINK_BYTES])
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
