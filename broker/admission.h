/* admission.h - per-sender admission limits of the broker: a message rate
 * (token bucket) and a cap on the sender's undelivered deliveries, so that a
 * flood from one actor is refused early and cannot starve the others.
 *
 * Pure bookkeeping: time is passed in, and the exact backlog is read through
 * a callback (the store) only when the running estimate reaches the cap. One
 * instance per broker thread. */
#ifndef FLUXBUS_BROKER_ADMISSION_H
#define FLUXBUS_BROKER_ADMISSION_H

#include <stddef.h>
#include <stdint.h>

#include "fluxbus/err.h"

typedef struct admission admission_t;

/* rate: SENDs per second sustained; burst: SENDs allowed at once (the bucket
 * starts full); max_backlog: undelivered deliveries per sender. */
admission_t *admission_new(unsigned rate, unsigned burst, unsigned max_backlog);
void admission_destroy(admission_t **self_p);

/* Takes one SEND token of `actor` at now_ms: FB_OK, or FB_ERR_RATE_LIMITED
 * when its bucket is empty (nothing taken). FB_ERR_NOMEM if a new actor
 * cannot be tracked. */
fb_err_t admission_take(admission_t *self, const char *actor, int64_t now_ms);

/* Reads the exact number of undelivered deliveries of actor's messages. */
typedef fb_err_t (*admission_count_fn)(void *ctx, const char *actor, uint64_t *out);

/* FB_OK when actor may queue more deliveries; FB_ERR_BACKLOG_FULL when its
 * backlog is at the cap. The count is read with count_fn the first time and
 * again whenever the estimate reaches the cap (recipients may have acked);
 * its errors are returned as they are. */
fb_err_t admission_backlog_check(admission_t *self, const char *actor, admission_count_fn count_fn,
                                 void *ctx);

/* n more deliveries of actor's messages were queued. */
void admission_backlog_add(admission_t *self, const char *actor, size_t n);

#endif
