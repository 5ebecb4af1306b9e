/* audit_chain.c - computes the links of the audit hash chain (see
 * fluxbus/audit_chain.h and docs/PROTOCOL.md, "Audit chain").
 *
 * Owns the exact byte layout hashed for one link. Does not own where links
 * are kept (the broker's store) nor the order of messages (store seq). Hashes
 * go through fb_blake2b256 so that libsodium stays in the envelope module. */
#include "fluxbus/audit_chain.h"

#include <string.h>

#define S_DOMAIN_BYTES (sizeof FB_AUDIT_CHAIN_DOMAIN - 1)
#define S_INPUT_BYTES (S_DOMAIN_BYTES + FB_AUDIT_LINK_BYTES + 8 + 3 * FB_DIGEST_BYTES)

/* domain | prev | seq | message digest (H(body) | H(signature)) | H(receipt):
 * 152 bytes, hashed. */
void fb_audit_chain_link_digest(const uint8_t prev[FB_AUDIT_LINK_BYTES], uint64_t seq,
                                const uint8_t message_digest[FB_AUDIT_MESSAGE_DIGEST_BYTES],
                                const uint8_t *receipt, size_t receipt_len,
                                uint8_t out[FB_AUDIT_LINK_BYTES])
{
    uint8_t in[S_INPUT_BYTES];
    uint8_t *p = in;
    memcpy(p, FB_AUDIT_CHAIN_DOMAIN, S_DOMAIN_BYTES);
    p += S_DOMAIN_BYTES;
    memcpy(p, prev, FB_AUDIT_LINK_BYTES);
    p += FB_AUDIT_LINK_BYTES;
    for (int i = 0; i < 8; i++)
        *p++ = (uint8_t)(seq >> (56 - 8 * i));
    memcpy(p, message_digest, FB_AUDIT_MESSAGE_DIGEST_BYTES);
    p += FB_AUDIT_MESSAGE_DIGEST_BYTES;
    fb_blake2b256(receipt, receipt_len, p);
    fb_blake2b256(in, sizeof in, out);
}

void fb_audit_chain_link(const uint8_t prev[FB_AUDIT_LINK_BYTES], uint64_t seq, const uint8_t *body,
                         size_t body_len, const uint8_t *signature, size_t signature_len,
                         const uint8_t *receipt, size_t receipt_len,
                         uint8_t out[FB_AUDIT_LINK_BYTES])
{
    uint8_t digest[FB_AUDIT_MESSAGE_DIGEST_BYTES];
    fb_blake2b256(body, body_len, digest);
    fb_blake2b256(signature, signature_len, digest + FB_DIGEST_BYTES);
    fb_audit_chain_link_digest(prev, seq, digest, receipt, receipt_len, out);
}

fb_err_t fb_audit_chain_message_digest(const uint8_t *envelope, size_t envelope_len,
                                       uint8_t out[FB_AUDIT_MESSAGE_DIGEST_BYTES])
{
    Fluxbus__V1__Envelope *env = NULL;
    fb_err_t rc = fb_envelope_decode(envelope, envelope_len, envelope_len, &env);
    if (rc == FB_ERR_TOO_LARGE)
        rc = FB_ERR_MALFORMED; /* cannot happen with cap = len; keep the contract */
    if (rc != FB_OK) {
        memset(out, 0, FB_AUDIT_MESSAGE_DIGEST_BYTES);
        return rc;
    }
    fb_blake2b256(env->body.data, env->body.len, out);
    fb_blake2b256(env->signature.data, env->signature.len, out + FB_DIGEST_BYTES);
    fb_envelope_free(env);
    return FB_OK;
}

fb_err_t fb_audit_chain_link_envelope(const uint8_t prev[FB_AUDIT_LINK_BYTES], uint64_t seq,
                                      const uint8_t *envelope, size_t envelope_len,
                                      const uint8_t *receipt, size_t receipt_len,
                                      uint8_t out[FB_AUDIT_LINK_BYTES])
{
    uint8_t digest[FB_AUDIT_MESSAGE_DIGEST_BYTES];
    fb_err_t rc = fb_audit_chain_message_digest(envelope, envelope_len, digest);
    if (rc != FB_OK) {
        memset(out, 0, FB_AUDIT_LINK_BYTES);
        return rc;
    }
    fb_audit_chain_link_digest(prev, seq, digest, receipt, receipt_len, out);
    return FB_OK;
}
