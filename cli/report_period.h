/* report_period.h - the period options every `fluxbus report` takes:
 * --year Y alone, with --quarter Q or --half H, or --from DATE --to DATE
 * (each defaulting to the bounds of --year). One reading for all reports. */
#ifndef FLUXBUS_CLI_REPORT_PERIOD_H
#define FLUXBUS_CLI_REPORT_PERIOD_H

#include "period.h"

/* The options as given (0 / NULL when absent). */
typedef struct {
    long long year, quarter, half;
    const char *from, *to;
} report_period_args_t;

/* The period the options name. EXIT_OK with *out, or EXIT_USAGE after
 * printing why as "fluxbus <cmd>: ..." (cmd: "report flux", ...). */
int report_period(const char *cmd, const report_period_args_t *a, period_t *out);

#endif
