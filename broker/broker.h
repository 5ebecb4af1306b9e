/* broker.h - the broker server: one ROUTER socket, the message pipeline and
 * the delivery queues. main.c only loads a configuration and calls these. */
#ifndef FLUXBUS_BROKER_BROKER_H
#define FLUXBUS_BROKER_BROKER_H

#include <signal.h>

#include "config.h"
#include "fluxbus/err.h"

typedef struct broker broker_t;

/* Opens the store, loads the broker key, starts the ZAP handler and binds.
 * On error returns NULL and logs why. */
broker_t *broker_new(const broker_config_t *cfg, fb_err_t *err);

/* The endpoint actually bound (a "tcp://host:*" wildcard resolved). */
const char *broker_endpoint(const broker_t *self);

/* Serves until *stop becomes non-zero (set from a signal handler). Returns
 * FB_OK after a clean drain, FB_ERR_STORE when a commit failed: the caller
 * must then exit non-zero, nothing unacknowledged having been acked. */
fb_err_t broker_run(broker_t *self, volatile sig_atomic_t *stop);

void broker_destroy(broker_t **self_p);

#endif
