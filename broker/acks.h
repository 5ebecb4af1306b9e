/* acks.h - the recipients' acks the broker has taken but not yet written
 * to the store (docs/PROTOCOL.md 7.4).
 *
 * An ACK changes nothing anyone is promised (it gets no answer): its only
 * effect on disk is that the message is not delivered again after a
 * restart. So the broker does not pay a COMMIT (an fdatasync) for an ACK
 * that arrives alone: it keeps it here and writes it in the next
 * transaction that commits anyway (a turn that stored messages), or in one
 * of its own once the oldest kept ack is `delay_ms` old or `max` of them
 * wait, and always before a clean exit. A crash loses at most those acks:
 * their messages are delivered again after the restart (at-least-once,
 * PROTOCOL.md 7.6).
 *
 * Meanwhile the broker must not deliver a kept ack's message again to a
 * live connection: acks_has() tells the delivery pump which to skip.
 *
 * Knows nothing of the store: acks_flush() hands each ack to the caller's
 * function, which writes it. */
#ifndef FLUXBUS_BROKER_ACKS_H
#define FLUXBUS_BROKER_ACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fluxbus/err.h"

typedef struct acks acks_t;

/* Acks are due `delay_ms` after the oldest was kept (0: at once, each
 * turn commits its own), or as soon as `max` (at least 1) wait. NULL when
 * out of memory. */
acks_t *acks_new(unsigned delay_ms, size_t max);

/* Safe on NULL and twice; forgets the acks still kept. */
void acks_destroy(acks_t **self_p);

/* Keeps recipient's ack of seq, taken at at_ms (the time the store will
 * record). The same ack twice is kept twice (the store ignores the
 * second). FB_OK or FB_ERR_NOMEM (nothing kept: write it at once). */
fb_err_t acks_add(acks_t *self, const char *recipient, uint64_t seq, int64_t at_ms);

/* True when recipient's ack of seq is kept here, not yet written. */
bool acks_has(const acks_t *self, const char *recipient, uint64_t seq);

/* How many acks are kept. */
size_t acks_count(const acks_t *self);

/* When the kept acks must be written at the latest (ms, the clock of
 * acks_add); INT64_MAX when none is kept. */
int64_t acks_due_ms(const acks_t *self);

/* True when the kept acks must be written now: `max` of them wait, or the
 * oldest is `delay_ms` old at now_ms, or now_ms is before the oldest (the
 * clock was set back). */
bool acks_due(const acks_t *self, int64_t now_ms);

/* Writes one ack (the caller's store, in its transaction); FB_OK, or an
 * error that stops the flush. */
typedef fb_err_t (*acks_write_fn)(void *ctx, const char *recipient, uint64_t seq, int64_t at_ms);

/* Hands every kept ack to write, in the order they came, and forgets them
 * (all of them, even when write fails: the caller's transaction then rolls
 * back and the broker ends, so those acks are lost as in a crash). Returns
 * FB_OK or write's first error; *written (may be NULL) counts the acks
 * handed over. */
fb_err_t acks_flush(acks_t *self, acks_write_fn write, void *ctx, size_t *written);

#endif
