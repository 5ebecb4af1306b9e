/* outbox.h - what the bailleur's system finds in <spool>/outbox/: one JSON
 * file per message received (a delivery, as `fluxbus tail` prints it, the
 * household of a Designation opened, the DeadlineExpired the broker sends
 * when an orientation's deadline passed) and one per DeadlineExpired the
 * adapter sent on its own (deadline_watch = on), named
 *   <store_seq, 12 digits>-<Type>-<first 8 hex digits of the message id>.json
 * so that they sort in the broker's order and a message written twice
 * (redelivered after a crash) is the same file.
 *
 * Deliveries are written atomically and durably, recorded in the state
 * (designations, closed orientations: track.h), and only then acknowledged
 * to the broker. */
#ifndef FLUXBUS_ADAPTER_BAILLEUR_OUTBOX_H
#define FLUXBUS_ADAPTER_BAILLEUR_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bailleur.h"

/* The outbox file name of message `type` with store_seq and id_hex. */
void outbox_name(uint64_t store_seq, int type, const char *id_hex, char *out, size_t cap);

/* Writes `doc` as outbox file `name`. */
fb_err_t outbox_write(bailleur_t *b, const char *name, const json_t *doc);

/* The delivery callback of adapter_run (ctx is the bailleur_t): writes the
 * event, records it, and returns FB_OK only then. */
fb_err_t outbox_on_delivery(void *ctx, const fb_delivery_t *delivery, const json_t *event);

#endif
