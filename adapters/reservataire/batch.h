/* batch.h - spool mode, for platforms that exchange files instead of
 * calling the HTTP API.
 *
 * In: each inbox/<name>.json holds {"action": "designations" | "remise" |
 * "ack" | "decline", "vacancy_id": "...", "body": {the HTTP body}} and is
 * handled exactly as the HTTP call would be. Then it moves to done/ with
 * done/<name>.receipt.json (the HTTP answer: message ids, receipts), or to
 * rejected/ with rejected/<name>.error.json ({"file", "status", "error",
 * "field", "reason"}; the field as a path in the file, e.g.
 * "body.candidates[1].nur"). A file whose messages are queued (broker
 * unreachable) or that met a local failure stays in inbox/ and is tried
 * again a few seconds later: the same file is the same messages.
 *
 * Out: every event (as GET /events gives it) is written to
 * outbox/event-<id, 12 digits>.json, in order, from a cursor kept in the
 * state file ("outbox"); after a crash the last file may be written again,
 * whole, under the same name. */
#ifndef FLUXBUS_RESA_BATCH_H
#define FLUXBUS_RESA_BATCH_H

#include <stddef.h>

#include "adapter.h"
#include "api.h"
#include "offers.h"

typedef struct batch batch_t;

/* Spool mode under root (created with its subdirectories if needed). The
 * other arguments are borrowed. NULL with a reason in err. */
batch_t *batch_new(adapter_t *adapter, api_t *api, offers_t *offers, const char *root, char *err,
                   size_t errlen);

/* Handles the inbox files that are due and writes the new events. */
void batch_tick(batch_t *self);

void batch_destroy(batch_t **self_p);

#endif
