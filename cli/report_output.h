/* report_output.h - where a `fluxbus report` goes: standard output, or
 * --output FILE written through a temporary file renamed into place, so
 * that a reader never sees half a report. One writer for all reports. */
#ifndef FLUXBUS_CLI_REPORT_OUTPUT_H
#define FLUXBUS_CLI_REPORT_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

/* Writes the report on out; false if writing failed. */
typedef bool (*report_output_fn)(const void *ctx, FILE *out);

/* Runs write(ctx) on standard output (path NULL) or into path. EXIT_OK, or
 * EXIT_INPUT after printing why as "fluxbus <cmd>: ..." (path.tmp is then
 * removed and path left as it was). */
int report_output(const char *cmd, const char *path, report_output_fn write, const void *ctx);

#endif
