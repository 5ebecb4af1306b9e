/* report_period.h - the options every `fluxbus report` reads the same way:
 * the period (--year Y alone, with --quarter Q or --half H, or --from DATE
 * --to DATE, each defaulting to the bounds of --year) and --bailleur (an
 * actor id or a SIREN). One reading for all reports. */
#ifndef FLUXBUS_CLI_REPORT_PERIOD_H
#define FLUXBUS_CLI_REPORT_PERIOD_H

#include <stddef.h>

#include <sqlite3.h>

#include "period.h"

/* The options as given (0 / NULL when absent). */
typedef struct {
    long long year, quarter, half;
    const char *from, *to;
} report_period_args_t;

/* The period the options name. EXIT_OK with *out, or EXIT_USAGE after
 * printing why as "fluxbus <cmd>: ..." (cmd: "report flux", ...). */
int report_period(const char *cmd, const report_period_args_t *a, period_t *out);

/* --bailleur: an actor id ("bailleur:552046955", it holds a ':') as it is,
 * or a SIREN (9 digits) resolved to the actor id of the bailleur's
 * dwellings in the ledger of db (a SIREN the ledger does not know stays as
 * given: nothing matches it, and a note says so). EXIT_OK with the actor id in out; EXIT_USAGE
 * after printing why (neither form, or a SIREN of several actors);
 * EXIT_STORE when the ledger cannot be read. */
int report_bailleur(const char *cmd, sqlite3 *db, const char *arg, char *out, size_t outlen);

/* Prints a note on stderr when the ledger of db knows nothing of the
 * filter `option` ("--bailleur": no dwelling; "--reservataire": no
 * orientation nor candidate) names: the report is then empty, and an empty
 * report of a mistyped id reads like a year with nothing done. */
void report_note_unknown(const char *cmd, sqlite3 *db, const char *option, const char *id);

#endif
