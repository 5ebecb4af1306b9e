/* webhook.h - pushes the réservataire's events, one by one and in order,
 * to the platform's URL (HTTP POST, JSON body, bearer token), from the
 * adapter's loop without blocking it (libcurl's multi interface: each tick
 * moves the one transfer in flight along).
 *
 * An event is delivered when the receiver answers 2xx; only then does the
 * cursor move past it, and it is written to the state file, so a restart
 * resumes with the first event not yet delivered (an event may be POSTed
 * again after a crash, never skipped). A failure (no connection, timeout,
 * non-2xx) is retried after 1 s, 2 s, 4 s ... capped at retry_max_ms, for
 * as long as it takes. Receivers tell repeats apart by the event "id"
 * (also in the X-Fluxbus-Event-Id header). */
#ifndef FLUXBUS_RESA_WEBHOOK_H
#define FLUXBUS_RESA_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "adapter.h"
#include "offers.h"

typedef struct webhook webhook_t;

/* A webhook to `url` (http:// or https://), with "Authorization: Bearer
 * <token>" when token is not NULL. adapter and offers are borrowed. Call
 * curl_global_init first. NULL with a reason in err. */
webhook_t *webhook_new(adapter_t *adapter, offers_t *offers, const char *url, const char *token,
                       int64_t retry_max_ms, char *err, size_t errlen);

/* Moves the transfer in flight along, or starts the next one when it is
 * due. Never waits. */
void webhook_tick(webhook_t *self);

/* Drops a transfer in flight (its event is POSTed again next time). */
void webhook_destroy(webhook_t **self_p);

#endif
