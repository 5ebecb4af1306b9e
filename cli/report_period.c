/* report_period.c - reads the period options of the reports (see
 * report_period.h). */
#include "report_period.h"

#include "common.h"

int report_period(const char *cmd, const report_period_args_t *a, period_t *p)
{
    if ((a->quarter || a->half) && (!a->year || a->from || a->to || (a->quarter && a->half)))
        return common_fail(cmd, EXIT_USAGE,
                           "--quarter or --half goes with --year alone (not --from/--to)");
    if (a->quarter) {
        *p = period_quarter((int)a->year, (int)a->quarter);
        return EXIT_OK;
    }
    if (a->half) {
        *p = period_half((int)a->year, (int)a->half);
        return EXIT_OK;
    }
    if (!a->year && (!a->from || !a->to))
        return common_fail(cmd, EXIT_USAGE, "missing --year (or --from and --to)");
    period_date_t from = {(int)a->year, 1, 1}, to = {(int)a->year, 12, 31};
    if (a->from && !period_parse_date(a->from, &from))
        return common_fail(cmd, EXIT_USAGE, "--from: \"%s\" is not a date YYYY-MM-DD", a->from);
    if (a->to && !period_parse_date(a->to, &to))
        return common_fail(cmd, EXIT_USAGE, "--to: \"%s\" is not a date YYYY-MM-DD", a->to);
    if (!period_make(from, to, p))
        return common_fail(cmd, EXIT_USAGE, "--to %s is before --from %s", a->to ? a->to : "",
                           a->from ? a->from : "");
    return EXIT_OK;
}
