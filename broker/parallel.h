/* parallel.h - a fixed pool of threads that runs one function over the
 * items of a batch, the calling thread taking its share (a parallel for).
 *
 * The broker uses it for the work of a group commit that needs no shared
 * state: checking Ed25519 signatures and hashing envelopes (precheck.c).
 * Everything else stays on the loop thread, in order. */
#ifndef FLUXBUS_BROKER_PARALLEL_H
#define FLUXBUS_BROKER_PARALLEL_H

#include <stddef.h>

typedef struct parallel parallel_t;

/* Called once per item index, from any thread of the pool. */
typedef void (*parallel_fn)(void *ctx, size_t i);

/* A pool of `threads` threads in all, the caller included: 1 starts none
 * (everything runs on the caller), 0 means one per online CPU. NULL when
 * out of memory or threads cannot be started. */
parallel_t *parallel_new(unsigned threads);

/* How many threads share the work, the caller included. */
unsigned parallel_threads(const parallel_t *self);

/* Runs fn(ctx, i) for every i in [0, n) and returns once all have
 * returned. Not reentrant: one run at a time. */
void parallel_for(parallel_t *self, size_t n, parallel_fn fn, void *ctx);

/* Stops and joins the threads; safe on NULL and twice. */
void parallel_destroy(parallel_t **self_p);

#endif
