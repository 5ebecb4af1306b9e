/* report_output.h - where a `fluxbus report` goes: standard output, or
 * --output FILE written through a temporary file renamed into place, so
 * that a reader never sees half a report. One writer for all reports. */
#ifndef FLUXBUS_CLI_REPORT_OUTPUT_H
#define FLUXBUS_CLI_REPORT_OUTPUT_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

/* The output options every report takes. */
typedef struct {
    const char *format; /* json (the default), csv or html */
    const char *output; /* NULL: standard output */
    bool no_bom, codes_as_text;
} report_output_opts_t;

enum {
    REPORT_OPT_FORMAT = 0x300,
    REPORT_OPT_OUTPUT,
    REPORT_OPT_NO_BOM,
    REPORT_OPT_CODES_AS_TEXT,
};

/* clang-format off */
#define REPORT_OUTPUT_OPTIONS                                                                      \
    {"format", required_argument, NULL, REPORT_OPT_FORMAT},                                        \
    {"output", required_argument, NULL, REPORT_OPT_OUTPUT},                                        \
    {"no-bom", no_argument, NULL, REPORT_OPT_NO_BOM},                                              \
    {"codes-as-text", no_argument, NULL, REPORT_OPT_CODES_AS_TEXT}
/* clang-format on */

/* Their help, after each command's own --format line. */
#define REPORT_OUTPUT_HELP                                                                         \
    "  --no-bom          csv: no byte order mark (plain UTF-8 for pipelines)\n"                    \
    "  --codes-as-text   csv, for a spreadsheet: codes made of digits (INSEE 01004,\n"             \
    "                    SIREN, NUR 074...) written =\"01004\", which Excel opening\n"             \
    "                    the file by double-click keeps as text, leading zeros and\n"              \
    "                    all digits (without it they are plain, for programs: a\n"                 \
    "                    spreadsheet then needs them imported as Text columns)\n"                  \
    "  --output FILE     write there (replaced whole) instead of standard output\n"

/* Applies option c (from getopt, argument arg) to o; false when c is not
 * one of REPORT_OUTPUT_OPTIONS. */
bool report_output_option(report_output_opts_t *o, int c, const char *arg);

/* EXIT_OK, or EXIT_USAGE after saying why when --format is not json, csv
 * or html. */
int report_output_check(const char *cmd, const report_output_opts_t *o);

/* The JSON of a report on out, indented, reals to 12 significant digits,
 * then a newline; takes json (NULL: out of memory, false). */
bool report_output_json(json_t *json, FILE *out);

/* Writes the report on out; false if writing failed. */
typedef bool (*report_output_fn)(const void *ctx, FILE *out);

/* Runs write(ctx) on standard output (path NULL) or into path. EXIT_OK, or
 * EXIT_INPUT after printing why as "fluxbus <cmd>: ..." (path.tmp is then
 * removed and path left as it was). */
int report_output(const char *cmd, const char *path, report_output_fn write, const void *ctx);

#endif
