/* bilan_reply.h - the broker's answer to a BilanRequest (type 19), a
 * message addressed to the broker itself (its actor id as the one
 * recipient; router_route_to_broker).
 *
 * Who may ask for what (docs/LEDGER.md, "Bilan on request"):
 * - a bailleur: its own bilan, whole (view BAILLEUR); a request naming
 *   another bailleur is refused;
 * - an observer or a commune with a registered territory: the bilan of the
 *   dwellings of its territory's communes, every réservataire's lines
 *   included (view TERRITOIRE); without a territory it is refused;
 * - a réservataire: its own lines and objective lines, and the figures of
 *   every réservataire together (view RESERVATAIRE, bilan_msg.h);
 * in that order when an actor holds several roles. The answer holds counts,
 * never a household.
 *
 * The bilan is computed from the flux ledger (ledger/bilan.h) before the
 * request is accepted, off the broker's loop thread (bilan_queue.h), so a
 * request is either refused (a Nack, nothing stored) or stored together
 * with its answer in one transaction: exactly one answer per request, the
 * answer's id being derived from the request's. */
#ifndef FLUXBUS_BROKER_BILAN_REPLY_H
#define FLUXBUS_BROKER_BILAN_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "bilan.h"
#include "bilan_msg.h"
#include "fluxbus/err.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "notary.h"
#include "store.h"

#define BILAN_REPLY_MAX_DAYS 366 /* the longest period a request may ask for */

/* What a request may have: the bilan to compute and the view to cut it to.
 * The query's strings point into the scope itself. */
typedef struct {
    bilan_query_t query;
    int view; /* Fluxbus__V1__BilanView */
    char bailleur[FB_ACTOR_MAX];
    char epci[16];
    char communes[STORE_LIST_MAX];
} bilan_reply_scope_t;

/* Who may ask for what: fills *scope from the requester's roles and
 * territory and from the request. FB_OK; FB_ERR_NOT_AUTHORIZED (another
 * bailleur's bilan, an observer or commune without a territory, no role
 * that may ask) or FB_ERR_MALFORMED (neither year nor period, a period
 * that is not one or is longer than BILAN_REPLY_MAX_DAYS, an EPCI that is
 * not a SIREN), with a one-line detail. Reads nothing but its arguments.
 * The scope must not be copied (its query points into it). */
fb_err_t bilan_reply_scope(const store_actor_t *requester, const Fluxbus__V1__BilanRequest *req,
                           bilan_reply_scope_t *scope, char *detail, size_t detail_len);

/* An answer ready to be accepted by the broker. */
typedef struct {
    uint8_t *envelope; /* the BilanAnnuel sealed by the broker */
    size_t len;
    bilan_t *bilan;   /* what the payload points into */
    bilan_msg_t *msg; /* the payload */
} bilan_reply_t;

/* The two halves of an answer, for a caller that computes off the loop
 * thread (bilan_queue.c) and seals on it. bilan_reply_compute checks the
 * request with bilan_reply_scope and computes its bilan on db (any
 * connection to the store: the bilan reads the ledger and the reference
 * data only) and the payload of the answer: FB_OK with out->bilan and
 * out->msg filled, out->envelope still NULL; a refusal as
 * bilan_reply_scope with *out empty; FB_ERR_STORE (the bilan could not be
 * read, interrupted included) or FB_ERR_NOMEM. Touches neither the notary
 * nor anything but db and its arguments, so it may run on any thread. */
fb_err_t bilan_reply_compute(sqlite3 *db, const store_actor_t *requester,
                             const Fluxbus__V1__BilanRequest *req, int64_t now_ms,
                             bilan_reply_t *out, char *detail, size_t detail_len);

/* Seals a computed answer (bilan_reply_compute): a BilanAnnuel from the
 * broker to `requester` only, in_reply_to request_id, with the message id
 * of bilan_reply_id. FB_OK with reply->envelope set; FB_ERR_TOO_LARGE when
 * it would be over max_envelope bytes (with a detail), or FB_ERR_NOMEM,
 * and then *reply is cleared. On the thread that owns the notary. */
fb_err_t bilan_reply_seal(notary_t *notary, const char *requester,
                          const uint8_t request_id[FB_MESSAGE_ID_BYTES], size_t max_envelope,
                          bilan_reply_t *reply, char *detail, size_t detail_len);

/* Both in one call: checks `request` (a BilanRequest from `requester`,
 * payload `req`), computes its bilan on db and seals the answer. FB_OK
 * with *out filled (free it with bilan_reply_clear); a refusal as
 * bilan_reply_scope, or FB_ERR_TOO_LARGE when the answer would be over
 * max_envelope bytes, with a detail and *out empty; FB_ERR_STORE (the
 * bilan could not be read) or FB_ERR_NOMEM, which are fatal. */
fb_err_t bilan_reply_prepare(sqlite3 *db, notary_t *notary, const store_actor_t *requester,
                             const Fluxbus__V1__SignedBody *request,
                             const Fluxbus__V1__BilanRequest *req, size_t max_envelope,
                             int64_t now_ms, bilan_reply_t *out, char *detail, size_t detail_len);

/* The answer's message id: the first 16 bytes of SHA-256 of
 * "fluxbus/BilanAnnuel/v1", NUL, the requester's actor id, NUL, the
 * request's message id in lower-case hex. */
void bilan_reply_id(const char *requester, const uint8_t request_id[16], uint8_t out[16]);

/* The answer's payload (for the ledger's record). */
const ProtobufCMessage *bilan_reply_payload(const bilan_reply_t *reply);

/* Frees what *reply holds and empties it; safe on an empty one. */
void bilan_reply_clear(bilan_reply_t *reply);

#endif
