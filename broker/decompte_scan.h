/* decompte_scan.h - one computation of the décompte for the broker's
 * DecompteDroits, off the loop thread.
 *
 * On a thread of its own (below the loop's priority: background.h) and a
 * connection of its own to the store file,
 * inside one read transaction (a WAL snapshot: the store as it stood when
 * the computation began, whatever the loop commits meanwhile): the
 * registry's observers, the convention lines of each year asked
 * (decompte_lines: the memory of the lines, not of the ledger), the digest
 * of each line's payload (decompte_msg_digest), and which lines are worth
 * a look on the loop thread: due by the record of what was sent
 * (decompte_sent_due) as of the snapshot. Nothing is written. */
#ifndef FLUXBUS_BROKER_DECOMPTE_SCAN_H
#define FLUXBUS_BROKER_DECOMPTE_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decompte.h"
#include "decompte_sent.h"
#include "store.h"

#define DECOMPTE_SCAN_MAX_YEARS 2

/* A line to look at: one of item's lines, or its total. */
typedef struct {
    const decompte_convention_t *item;
    const decompte_line_t *line;
    uint8_t digest[32]; /* of its payload (decompte_msg_digest) */
    bool daily;         /* active in the current year: due again a day after the last */
} decompte_scan_line_t;

/* One year's result. */
typedef struct {
    int year;
    period_t period;
    bool failed;               /* not computed: the reason is in err */
    char err[256];             /* "" when computed */
    decompte_t *d;             /* the lines computed (decompte_lines); NULL once none is due */
    decompte_scan_line_t *due; /* the lines to look at, in the décompte's order */
    size_t n_due;
    size_t n_lines; /* every line computed */
} decompte_scan_year_t;

typedef struct decompte_scan decompte_scan_t;

/* Starts computing years[0..n) (n at most DECOMPTE_SCAN_MAX_YEARS) of the
 * store file at `path`, as of now_ms (a line active in the year of now_ms
 * is due daily). NULL with a reason in err when the thread cannot start. */
decompte_scan_t *decompte_scan_start(const char *path, const int *years, size_t n, int64_t now_ms,
                                     char *err, size_t errlen);

/* Has the computation ended? Never blocks; any thread. */
bool decompte_scan_done(const decompte_scan_t *self);

/* Blocks until the computation has ended. */
void decompte_scan_wait(decompte_scan_t *self);

/* Once it has ended (decompte_scan_wait returned, or decompte_scan_done
 * said so): how many years, and each one's result (borrowed, valid until
 * decompte_scan_destroy); how long the computation took. */
size_t decompte_scan_years(const decompte_scan_t *self);
const decompte_scan_year_t *decompte_scan_year(const decompte_scan_t *self, size_t i);
double decompte_scan_seconds(const decompte_scan_t *self);

/* The CPU time the computation took, in seconds (its thread's); valid once
 * done. */
double decompte_scan_cpu_seconds(const decompte_scan_t *self);

/* The active observers of the registry, as of the snapshot (borrowed; *n
 * of them). */
const store_actor_t *decompte_scan_observers(const decompte_scan_t *self, size_t *n);

/* The line's key in the record of what was sent (decompte_sent.h), for
 * year; its strings are the line's. */
decompte_sent_key_t decompte_scan_key(const decompte_scan_line_t *line, int year);

/* Interrupts the computation if it still runs (its statements fail at
 * once), waits for its thread, frees it all. Safe on NULL and twice. */
void decompte_scan_destroy(decompte_scan_t **self_p);

#endif
