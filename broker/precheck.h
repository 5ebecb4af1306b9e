/* precheck.h - what the broker can learn of a batch's SENDs before their
 * turn, in bulk: the envelope decoded, its signing key looked up, its
 * Ed25519 signature verified and its SHA-256 taken. The signatures and the
 * hashes are computed on the threads of a parallel pool (the costly part of
 * a SEND); lookups stay on the loop thread, which owns the store.
 *
 * Nothing is decided here: broker.c reads the results in the batch's order
 * and refuses or accepts as before, with the same reasons. */
#ifndef FLUXBUS_BROKER_PRECHECK_H
#define FLUXBUS_BROKER_PRECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fluxbus/err.h"
#include "fluxbus/envelope.h"
#include "parallel.h"
#include "store.h"

typedef struct {
    /* set by the caller */
    bool wanted;         /* a SEND admitted by the rate limiter */
    const uint8_t *data; /* its envelope frame */
    size_t len;
    /* results */
    fb_err_t decode_rc; /* fb_envelope_decode */
    Fluxbus__V1__Envelope *env;
    fb_err_t key_rc; /* store_key_get of env's key_id */
    store_key_t key;
    fb_err_t verify_rc; /* fb_envelope_verify with key */
    uint8_t sha256[32]; /* of the envelope frame */
} precheck_t;

/* Fills the results of every wanted item of items[0..n). Per-item outcomes
 * are in the items; returns FB_ERR_STORE when a key lookup failed in the
 * store (fatal for the turn), FB_OK otherwise. */
fb_err_t precheck_batch(store_t *store, parallel_t *pool, size_t max_envelope, precheck_t *items,
                        size_t n);

/* Frees an item's decoded envelope and resets it. */
void precheck_clear(precheck_t *item);

#endif
