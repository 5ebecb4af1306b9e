/* scen.h - fluxbus-scenario: the measurements of issue 7 that are
 * scenarios rather than one load run (docs/PERFORMANCE.md, "Scenarios"):
 *
 *   replay   a national year of the flux: vacancy lifecycles in order,
 *            through the real broker at saturation, msgs/s per tenth;
 *   backlog  a backlog for an offline recipient: the broker's memory, then
 *            the catch-up rate and its order;
 *   slow     a fast consumer's latency alone, then beside a slow one;
 *   growth   msgs/s as the store grows (10 k, 100 k, 1 M stored, ...).
 *
 * What the scenarios share is here: the options of the bus (a private
 * broker with the bench's limits, a kept directory, or a running broker),
 * the bench actors, the opening and closing of the run. Each scenario is
 * one function taking its own options after the common ones. */
#ifndef FLUXBUS_BENCH_SCEN_H
#define FLUXBUS_BENCH_SCEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "fluxbus/keys.h"
#include "load_bus.h"

typedef struct {
    const char *broker_bin, *cli_bin, *log_level;
    const char *endpoint, *broker_pub, *store; /* a running broker */
    pid_t broker_pid;
    const char *reuse; /* a directory kept by an earlier run */
    bool keep, check;
    unsigned window; /* in flight per connection; the private broker's window too */
    unsigned tag;    /* this run's, in the bench actors' ids */
    load_bus_t bus;
} scen_t;

/* Exit codes of every scenario. */
enum { SCEN_OK = 0, SCEN_USAGE = 1, SCEN_BUS = 2, SCEN_CHECK = 3 };

/* argv[*i] is one of the common options (its value taken: *i advanced):
 * 1; not one: 0; one with a bad value: -1 (said on stderr). */
int scen_common_option(scen_t *sc, int argc, char **argv, int *i);

/* The common options, for a scenario's usage text. */
extern const char scen_common_usage[];

/* v as a number in [min, max] into *out: 0, or -1. */
int scen_number(const char *v, double min, double max, double *out);

/* Says a bad option on stderr with the scenario's usage; returns
 * SCEN_USAGE. */
int scen_bad(const char *what, const char *usage);

/* Sets the bus up (not started): a fresh temporary directory, the kept one
 * (--reuse), or the running broker (--endpoint). 0, or -1 (said). */
int scen_open(scen_t *sc);

/* Registers a bench actor of `role` ("bailleur", "reservataire", "sne")
 * number n with fresh keys into *out; its id is of this run. 0, or -1. */
int scen_actor(scen_t *sc, const char *role, size_t n, fb_keys_t *out);

/* Starts the private broker (nothing for a running one) with the bench's
 * limits and a delivery window of `window`. 0, or -1 (said). */
int scen_start(scen_t *sc, unsigned window);

/* Bytes of the store on disk (-1 unknown), reported as <key>=... too. */
long long scen_report_store(const scen_t *sc, const char *label, const char *key);

/* Stops the private broker, removes the directory unless kept, and
 * returns the exit code: `code`, or SCEN_CHECK when it was SCEN_OK and the
 * broker did not stop cleanly. */
int scen_close(scen_t *sc, int code);

/* The scenarios: argv[0] is the scenario's name; the exit code. */
int scen_replay(scen_t *sc, int argc, char **argv);
int scen_backlog(scen_t *sc, int argc, char **argv);
int scen_slow(scen_t *sc, int argc, char **argv);
int scen_growth(scen_t *sc, int argc, char **argv);

#endif
