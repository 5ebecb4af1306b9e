/* expiry.h - the broker's DeadlineExpired: when an orientation's deadline
 * passed with neither designation, remise nor decline (ledger/deadlines.h),
 * the broker itself tells the bailleur and the réservataire, with a message
 * it signs (notary_message), stores and delivers like any other.
 *
 * Exactly once: the message and the ledger mark that closes the orientation
 * are written in the caller's store transaction, so a crash before COMMIT
 * leaves both undone (the next scan emits it), and after it both done. A
 * deadline that passed while the broker was down is caught by the first
 * scan after the start. */
#ifndef FLUXBUS_BROKER_EXPIRY_H
#define FLUXBUS_BROKER_EXPIRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>
#include <sqlite3.h>

#include "fluxbus/err.h"
#include "fluxbus/log.h"
#include "ledger.h"
#include "notary.h"

typedef struct expiry expiry_t;

/* What the broker does with a message it signed itself (broker.c): route it
 * (router_route_own), store it with its receipt and audit chain link, record
 * it in the ledger and queue it for its recipients, all in the current
 * transaction. Returns FB_OK; FB_ERR_EXISTS when the store holds that message
 * id already; a refusal (routing) that leaves nothing written; or
 * FB_ERR_STORE / FB_ERR_NOMEM, which are fatal. */
typedef fb_err_t (*expiry_accept_fn)(void *ctx, const uint8_t *envelope, size_t len,
                                     const ProtobufCMessage *payload);

/* Prepares the scan on the store's connection db (the ledger's tables
 * exist). notary and ledger are borrowed and must outlive it; log may be
 * NULL. NULL with a reason in err. */
expiry_t *expiry_new(sqlite3 *db, notary_t *notary, ledger_t *ledger, fb_log_fn log, void *log_ctx,
                     char *err, size_t errlen);

/* Safe on NULL and twice. */
void expiry_destroy(expiry_t **self_p);

/* True when an orientation is due at now_ms (a read: no transaction
 * needed). */
bool expiry_due(expiry_t *self, int64_t now_ms);

/* Inside the caller's transaction: for up to `limit` orientations due at
 * now_ms, signs a DeadlineExpired {vacancy_id, convention_id, deadline_ms,
 * counting, taken_back_by_bailleur true, candidates_received} to the
 * réservataire and the bailleur, hands it to accept, and marks the
 * orientation expired. One the ledger or the router refuses is logged and
 * left alone until the broker restarts. *emitted counts the messages
 * accepted. FB_OK, or the fatal error (the caller rolls back). */
fb_err_t expiry_scan(expiry_t *self, int64_t now_ms, size_t limit, expiry_accept_fn accept,
                     void *ctx, size_t *emitted);

#endif
