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
 * `interval_s` after the start. But never sooner than nine times the CPU
 * time the last computation took after its end: on a ledger of millions of
 * vacancies, where a computation takes minutes of a core, the scans' thread
 * stays busy at most a tenth of the time instead of always.
 *
 * How, without holding the loop: a scan is computed on a thread of its own
 * from a snapshot of the store (decompte_scan.h); meanwhile the loop goes
 * on, looking every few milliseconds whether it is ready. Then the lines
 * that may have to be sent are compared, signed and handed over a few at a
 * time (a couple of milliseconds of the loop per call), each call in a
 * store transaction of the caller's. A line computed from the snapshot is
 * what the ledger said then; what was accepted since has touched the
 * emitter, and the next scan says it.
 *
 * Exactly once per change: what was last sent per (convention, party or
 * total, year) is kept in the table ledger_decompte_sent (its digest, its
 * sequence number, when; decompte_sent.h), updated in the caller's store
 * transaction with the message itself; a crash before COMMIT leaves both
 * undone (the first scan after the restart sends it), after it both done.
 *
 * Who: the line's party, the convention's bailleur and every observer
 * whose registered territory meets the party's territory (all observers
 * when that territory is unlimited). docs/LEDGER.md, "Décompte messages". */
#ifndef FLUXBUS_BROKER_DECOMPTE_EMIT_H
#define FLUXBUS_BROKER_DECOMPTE_EMIT_H

#include <stdbool.h>
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
 * ledger's tables exist; the store is a file, which the scans open again
 * read-only). store and notary are borrowed; log may be NULL. The first
 * scan is due interval_s after now_ms. NULL with a reason in err. */
decompte_emit_t *decompte_emit_new(store_t *store, notary_t *notary, unsigned interval_s,
                                   fb_log_fn log, void *log_ctx, int64_t now_ms, char *err,
                                   size_t errlen);

/* Stops a scan under way (nothing of it is sent); safe on NULL and twice. */
void decompte_emit_destroy(decompte_emit_t **self_p);

/* The ledger's facts may have changed at now_ms (a batch was accepted). */
void decompte_emit_touch(decompte_emit_t *self, int64_t now_ms);

/* When decompte_emit_scan is due next: the next scan, or while one is
 * under way, its next step (a few milliseconds ahead while it computes; at
 * once when lines wait to be sent). */
int64_t decompte_emit_next_ms(const decompte_emit_t *self);

/* One step of the scan, inside the caller's transaction. With no scan
 * under way: starts one at now_ms, computing the décompte of the current
 * year (and of the previous one, at the first scan of a run or of a new
 * year) off the loop thread; nothing is sent yet. While it computes:
 * nothing. Once computed: hands to accept a signed DecompteDroits for some
 * of the lines that changed since the last one sent, or whose last one is
 * a day old while they have activity in the current year (as many as fit
 * in a couple of milliseconds, at least one); the scan is over once every
 * line was looked at. *emitted counts the messages accepted. A décompte
 * that cannot be computed is logged and tried again a minute later.
 * FB_OK, or the fatal error (the caller rolls back; the scan is dropped and
 * the next one looks at everything again). */
fb_err_t decompte_emit_scan(decompte_emit_t *self, int64_t now_ms, decompte_emit_accept_fn accept,
                            void *ctx, size_t *emitted);

/* Is a scan under way (computing, or lines waiting to be looked at)? */
bool decompte_emit_busy(const decompte_emit_t *self);

/* Blocks until the scan under way, if any, is computed (tests, benches:
 * the broker's loop never waits). */
void decompte_emit_wait(decompte_emit_t *self);

#endif
