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
#include "load_run.h"

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

/* A scenario's numeric option: --name V, V in [min, max], stored into
 * *out as the kind says. */
typedef enum { SCEN_U64, SCEN_SIZE, SCEN_UINT, SCEN_DOUBLE } scen_kind_t;
typedef struct {
    const char *name;
    scen_kind_t kind;
    void *out;
    double min, max;
} scen_opt_t;

/* What a scenario's own parser makes of option a (v: the next argument or
 * NULL): the arguments it took (1 or 2), 0 when a is not its, -1 when its
 * value is bad. */
typedef int (*scen_extra_fn)(void *ctx, const char *a, const char *v);

/* Parses argv[1..argc): the common options, opts[0..n), then `extra` (may
 * be NULL). --help prints usage and the common options, and exits 0.
 * 0, or SCEN_USAGE (said on stderr with the usage). */
int scen_parse(scen_t *sc, int argc, char **argv, const scen_opt_t *opts, size_t n,
               scen_extra_fn extra, void *ctx, const char *usage);

/* Ends the report: with --check, the key check=ok|failed (and, when not
 * sane, why_not on stderr). Returns SCEN_OK, or SCEN_CHECK for a check
 * that failed. */
int scen_finish(const scen_t *sc, bool sane, const char *why_not);

/* Sets the bus up (not started): a fresh temporary directory, the kept one
 * (--reuse), or the running broker (--endpoint). 0, or -1 (said). */
int scen_open(scen_t *sc);

/* Registers a bench actor of `role` ("bailleur", "reservataire", "sne")
 * number n with fresh keys into *out; its id is of this run. 0, or -1. */
int scen_actor(scen_t *sc, const char *role, size_t n, fb_keys_t *out);

/* Starts the private broker (nothing for a running one) with the bench's
 * limits and a delivery window of `window`. 0, or -1 (said). */
int scen_start(scen_t *sc, unsigned window);

/* A load run's configuration on this bus: saturation, LogementLibere
 * envelopes of 512 B from `senders` to `recipients`, the common window, a
 * window of time long enough for `messages` (the run ends once they are
 * delivered, or answered when the recipients are offline). */
load_run_config_t scen_load_config(const scen_t *sc, const fb_keys_t *senders, size_t n_senders,
                                   const fb_keys_t *recipients, size_t n_recipients,
                                   uint64_t messages);

/* Runs it (load_run) and says why it could not on stderr. 0, or -1. */
int scen_load(const load_run_config_t *cfg, load_run_result_t *res);

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
