/* decompte_emit.h - the broker's DecompteDroits: when the counts of a
 * convention change, the broker itself tells each party where it stands
 * (ledger/decompte.h computes it), with a message it signs
 * (notary_message), stores and delivers like any other.
 *
 * When: facts may have changed after each accepted batch
 * (decompte_emit_touch); the décompte is computed again `interval_s`
 * seconds after the first such change (0: at once), so a burst of messages
 * gives one décompte; and at least every hour, to send again each line with
 * activity in the current year whose last décompte is a day old. Also once
 * `interval_s` after the start.
 *
 * Exactly once per change: what was last sent per (convention, party or
 * total, year) is kept in the table ledger_decompte_sent (its digest, its
 * sequence number, when), updated in the caller's store transaction with
 * the message itself; a crash before COMMIT leaves both undone (the first
 * scan after the restart sends it), after it both done.
 *
 * Who: the line's party, the convention's bailleur and every observer
 * whose registered territory meets the party's territory (all observers
 * when that territory is unlimited). docs/LEDGER.md, "Décompte messages". */
#ifndef FLUXBUS_BROKER_DECOMPTE_EMIT_H
#define FLUXBUS_BROKER_DECOMPTE_EMIT_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "fluxbus/err.h"
#include "fluxbus/log.h"
#include "notary.h"
#include "store.h"

typedef struct decompte_emit decompte_emit_t;

/* As expiry_accept_fn (expiry.h): stores, routes (router_route_own) and
 * queues a message the broker signed, in the current transaction. FB_OK,
 * FB_ERR_EXISTS (stored already), a refusal that wrote nothing, or
 * FB_ERR_STORE / FB_ERR_NOMEM (fatal). */
typedef fb_err_t (*decompte_emit_accept_fn)(void *ctx, const uint8_t *envelope, size_t len,
                                            const ProtobufCMessage *payload);

/* Prepares the emitter on the store (creates ledger_decompte_sent; the
 * ledger's tables exist). store and notary are borrowed; log may be NULL.
 * The first scan is due interval_s after now_ms. NULL with a reason in
 * err. */
decompte_emit_t *decompte_emit_new(store_t *store, notary_t *notary, unsigned interval_s,
                                   fb_log_fn log, void *log_ctx, int64_t now_ms, char *err,
                                   size_t errlen);

/* Safe on NULL and twice. */
void decompte_emit_destroy(decompte_emit_t **self_p);

/* The ledger's facts may have changed at now_ms (a batch was accepted). */
void decompte_emit_touch(decompte_emit_t *self, int64_t now_ms);

/* When the next scan is due. */
int64_t decompte_emit_next_ms(const decompte_emit_t *self);

/* Inside the caller's transaction: computes the décompte of the current
 * year (and of the previous one, at the first scan of a run or of a new
 * year), and hands to accept a signed DecompteDroits for each line that
 * changed since the last one sent, or whose last one is a day old while it
 * has activity in the current year. *emitted counts the messages
 * accepted. A décompte that cannot be computed is logged and tried again
 * at the next scan. FB_OK, or the fatal error (the caller rolls back). */
fb_err_t decompte_emit_scan(decompte_emit_t *self, int64_t now_ms, decompte_emit_accept_fn accept,
                            void *ctx, size_t *emitted);

#endif
