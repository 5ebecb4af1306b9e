/* fuzz_bus.h - a whole bus inside the fuzzing process, for fuzz_broker: the
 * real broker (broker_new + broker_run in a thread) on tcp://127.0.0.1:*
 * with its store in the process's scratch directory, FUZZ_SENDER and
 * FUZZ_RECIPIENT registered with their fixed keys (fuzz_support.h), and one
 * client connected as FUZZ_SENDER. Stopped and removed at exit. */
#ifndef FLUXBUS_FUZZ_BUS_H
#define FLUXBUS_FUZZ_BUS_H

#include "fluxbus/fluxbus.h"

typedef struct {
    fb_keys_t sender;    /* FUZZ_SENDER's fixed keys */
    fb_client_t *client; /* connected as FUZZ_SENDER */
} fuzz_bus_t;

/* The bus of this process, started on the first call. Aborts if it cannot
 * start. Set FLUXBUS_FUZZ_LOG=debug (or info, warn) to see the broker's log. */
fuzz_bus_t *fuzz_bus(void);

#endif
