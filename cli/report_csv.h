/* report_csv.h - the CSV tables of `fluxbus report` (flux, bilan): where
 * they are written and how their text cells are, one rule for both reports:
 * quoted when they must be, guarded against formula injection (their text
 * may come from other parties' messages), and, with --codes-as-text, codes
 * of digits (INSEE, SIREN, NUR) as ="01004" so that Excel opening the file
 * by double-click keeps their leading zeros (csv_cell.h). */
#ifndef FLUXBUS_CLI_REPORT_CSV_H
#define FLUXBUS_CLI_REPORT_CSV_H

#include <stdbool.h>
#include <stdio.h>

typedef struct {
    FILE *f;
    bool codes_as_text; /* codes of digits as ="…" (for a spreadsheet only) */
} report_csv_t;

/* Writes text as one cell, then ';' or, when last, a line break. */
void report_csv_field(report_csv_t *out, const char *text, bool last);

#endif
