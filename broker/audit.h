/* audit.h - checks the broker's store the way an auditor would, without
 * trusting it: the audit hash chain from the first stored message to the
 * last (fluxbus/audit_chain.h), every sender's signature against the key the
 * registry holds for it, and every broker receipt. Read-only.
 *
 * Used by `fluxbus audit verify`. An outside auditor does the same from an
 * audit export (docs/PROTOCOL.md, sections 14 and 17). */
#ifndef FLUXBUS_BROKER_AUDIT_H
#define FLUXBUS_BROKER_AUDIT_H

#include <stdint.h>

#include "fluxbus/audit_chain.h"
#include "fluxbus/err.h"
#include "fluxbus/keys.h"
#include "store.h"

typedef struct {
    uint64_t messages;                 /* messages that passed every check */
    uint64_t purged;                   /* of which purged skeletons */
    uint64_t unchecked;                /* of which sent by the broker, signature not
                                          checked (no broker key given) */
    uint8_t head[FB_AUDIT_LINK_BYTES]; /* link of the last message that passed */
    uint64_t broken_seq;               /* 0: intact; else the first message that fails */
    char why[320];                     /* why it fails, one line */
} audit_result_t;

/* Walks every stored message in seq order and stops at the first one that
 * fails. For message seq n it checks that:
 *  - seq is the previous seq + 1 (the first is 1): no message is missing;
 *  - its stored chain link is the one recomputed from the previous link,
 *    its body, its signature and its receipt;
 *  - its signature verifies with the registered key named by its key_id,
 *    which belongs to its sender - or, for a message the broker sent itself
 *    (DeadlineExpired), with the broker's key given as `broker` - and its
 *    body parses (version, ids); its
 *    attachments match their signed digests, or it is a purged skeleton
 *    (purged_at_ms set: no attachments left, at least one digest signed);
 *  - unless purged, SHA-256 of its envelope is the stored envelope_sha256;
 *  - its receipt answers it: type RECEIPT, in_reply_to its message id, and a
 *    Receipt with its message id, sender, seq, accepted_at_ms and
 *    envelope_sha256, not marked duplicate; with `broker` (its public keys,
 *    may be NULL) the receipt is also checked to be signed by that key and
 *    sent by that actor.
 * Without `broker`, nothing the broker signed can be verified: a message
 * whose sender is no registered actor, whose key is not in the registry and
 * whose sender and key are those of its own receipt is taken as sent by the
 * broker; its signature is not checked (counted in out->unchecked), the rest
 * is. Any other message whose key is not in the registry fails.
 * Returns FB_OK when the walk ran, intact or not (see out->broken_seq), and
 * FB_ERR_STORE (or FB_ERR_NOMEM) when the store could not be read. */
fb_err_t audit_verify(store_t *store, const fb_keys_t *broker, audit_result_t *out);

#endif
