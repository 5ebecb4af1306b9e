/* zap.h - the ZeroMQ authentication (ZAP) handler of the broker: admits a
 * CURVE client only if its public key is the transport key of a registered,
 * non-revoked actor, and binds the connection to that actor (User-Id). */
#ifndef FLUXBUS_BROKER_ZAP_H
#define FLUXBUS_BROKER_ZAP_H

#include "fluxbus/err.h"
#include "fluxbus/log.h"

typedef struct zap zap_t;

/* Starts the handler thread on `zmq_ctx` (must be done before the broker
 * socket binds). It opens its own connection to the store at store_path. */
zap_t *zap_start(void *zmq_ctx, const char *store_path, fb_log_fn log, void *log_ctx,
                 fb_err_t *err);

/* Joins the thread; call after zmq_ctx_shutdown() so its socket wakes up. */
void zap_stop(zap_t **self_p);

#endif
