/* load_bus.h - the bus fluxbus-load measures: a private fluxbus-broker (the
 * real binary) in a temporary directory with its own key and store, or a
 * running broker given by its endpoint, public key file and store; bench
 * actors registered in the store with `fluxbus actor add`, as README says.
 *
 * A private broker is started on tcp://127.0.0.1:* and waited for by its
 * "ready" line (never a sleep); it is stopped by its own pid. */
#ifndef FLUXBUS_BENCH_LOAD_BUS_H
#define FLUXBUS_BENCH_LOAD_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "fluxbus/err.h"
#include "fluxbus/keys.h"

typedef struct {
    char dir[256];      /* temporary directory: keys, the private broker's store and log */
    char store[1024];   /* the broker's store, where actors are registered */
    char log[512];      /* the private broker's stderr and the CLI's output */
    char endpoint[256]; /* where the broker listens */
    char cli_bin[1024]; /* the fluxbus CLI */
    fb_keys_t broker;   /* the broker's keys (public halves only for a running broker) */
    pid_t pid;          /* the broker's pid: the private one's, or given; 0 = unknown */
    bool own;           /* true: the private broker, started and stopped here */
    unsigned n_actors;  /* key files written so far */
} load_bus_t;

/* Makes the temporary directory. For a private broker (endpoint NULL),
 * also its key and store path; for a running one, loads its public key
 * file and takes its endpoint, store and pid (0: not measured). FB_OK, or
 * an error with the reason in why. */
fb_err_t load_bus_setup(load_bus_t *bus, const char *cli_bin, const char *endpoint,
                        const char *broker_pub, const char *store, pid_t pid, char *why,
                        size_t cap);

/* Generates keys for `id`, writes them under the directory and registers
 * the actor with `role` through `fluxbus actor add`. */
fb_err_t load_bus_add_actor(load_bus_t *bus, const char *id, const char *role, fb_keys_t *out,
                            char *why, size_t cap);

/* Starts the private broker (broker_bin with its flags, then `args`,
 * NULL-terminated) and waits up to 15 s for its ready line. */
fb_err_t load_bus_start(load_bus_t *bus, const char *broker_bin, const char *const *args, char *why,
                        size_t cap);

/* Stops the private broker with SIGTERM and waits for it; returns its exit
 * status (128 + signal when killed), or -1 when there is none. */
int load_bus_stop(load_bus_t *bus);

/* Stops the private broker if it runs, removes the directory unless keep. */
void load_bus_teardown(load_bus_t *bus, bool keep);

#endif
