/* load_wire.h - fluxbus-load's own connection to a broker: the frame
 * protocol of docs/PROTOCOL.md section 3 spoken directly (DEALER over CURVE,
 * PING/WELCOME, SEND/RECEIPT, HELLO/DELIVER/ACK), so that a sender can keep
 * up to its in-flight window of SENDs on the wire and a receiver can
 * acknowledge without verifying again.
 *
 * Why not lib's fb_client: it verifies everything before the caller sees it
 * (its contract, kept), and it waits for each receipt. Measuring the
 * broker's own ceiling on a machine whose cores it shares with the load
 * generator needs a client that does neither: the broker has verified every
 * message already. Receipts are still parsed and, with `verify`, checked
 * against the broker's key; fluxbus-load's end-to-end mode receives through
 * lib's fb_client, which verifies every delivery.
 *
 * Not thread-safe: one connection per thread (the ZeroMQ context may be
 * shared). No reconnection: a lost connection is an error of the run. */
#ifndef FLUXBUS_BENCH_LOAD_WIRE_H
#define FLUXBUS_BENCH_LOAD_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fluxbus/envelope.h"
#include "fluxbus/err.h"
#include "fluxbus/keys.h"

typedef struct load_wire load_wire_t;

typedef struct {
    const char *endpoint;
    const fb_keys_t *keys;   /* own keys, secrets included (borrowed for the call) */
    const fb_keys_t *broker; /* the broker's public keys (copied) */
    void *zmq_ctx;           /* a ZeroMQ context, shared between connections */
    int timeout_ms;          /* connect and send wait; 0 = 5000 */
    bool verify_receipts;    /* check each receipt's signature with the broker's key */
} load_wire_config_t;

typedef enum {
    LOAD_WIRE_OTHER = 0, /* a frame set this module does not use (WELCOME, ...) */
    LOAD_WIRE_RECEIPT,
    LOAD_WIRE_DELIVER,
} load_wire_kind_t;

typedef struct {
    load_wire_kind_t kind;
    bool accepted;   /* RECEIPT: a Receipt (true) or a Nack */
    fb_err_t reason; /* RECEIPT: FB_OK, or the Nack's reason */
    bool has_id;     /* id is known: the message answered, or delivered */
    uint8_t id[FB_MESSAGE_ID_BYTES];
    uint64_t seq; /* RECEIPT: store seq of an accepted message; DELIVER: its store seq */
} load_wire_event_t;

/* Connects, sends PING and waits for WELCOME. The connection, or NULL with
 * *err: FB_ERR_TIMEOUT (no answer: broker down, or our key refused),
 * FB_ERR_TRANSPORT, FB_ERR_NOMEM. */
load_wire_t *load_wire_new(const load_wire_config_t *cfg, fb_err_t *err);

/* Closes the connection; safe on NULL and twice. */
void load_wire_destroy(load_wire_t **self_p);

/* Sends one SEND frame carrying env as it is (does not wait for the answer). */
fb_err_t load_wire_send(load_wire_t *self, const uint8_t *env, size_t len);

/* Announces the connection as a receiver with `window` deliveries in flight. */
fb_err_t load_wire_hello(load_wire_t *self, unsigned window);

/* Acknowledges the delivery of store seq `seq`, message `id`. */
fb_err_t load_wire_ack(load_wire_t *self, uint64_t seq, const uint8_t id[FB_MESSAGE_ID_BYTES]);

/* Waits up to timeout_ms (-1: forever) for the next frame set and reads it
 * into *ev. FB_OK, FB_ERR_TIMEOUT, or why a RECEIPT or DELIVER could not be
 * read (FB_ERR_MALFORMED, FB_ERR_BAD_SIGNATURE, ...: ev->kind says which). */
fb_err_t load_wire_next(load_wire_t *self, int timeout_ms, load_wire_event_t *ev);

#endif
