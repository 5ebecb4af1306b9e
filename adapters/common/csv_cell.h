/* csv_cell.h - writing one cell of a ';'-separated CSV file for French
 * spreadsheets (the CLI's reports, the commune adapter's feeds): quoted when
 * it holds ';', '"' or a line break ('"' doubled), and, for text that came
 * from other parties' messages or files, guarded against formula injection:
 * a cell starting with = + - @ (or a tab or carriage return) gets a leading
 * ' so that the spreadsheet shows it as text instead of running it.
 *
 * Also the UTF-8 byte order mark that makes French Excel read a CSV file as
 * UTF-8 (accents) rather than Windows-1252. */
#ifndef FLUXBUS_CSV_CELL_H
#define FLUXBUS_CSV_CELL_H

#include <stdbool.h>
#include <stdio.h>

/* The UTF-8 byte order mark, written first by CSV outputs (unless asked not
 * to: --no-bom). */
#define CSV_CELL_BOM "\xEF\xBB\xBF"

/* Would a spreadsheet run a cell starting like text as a formula? */
bool csv_cell_is_formula(const char *text);

/* Must the cell be quoted (it holds ';', '"', CR or LF)? */
bool csv_cell_needs_quotes(const char *text);

/* Writes text as one cell (no separator) on out: quoted when it must be,
 * with a leading ' when guard and it looks like a formula. */
void csv_cell_write(FILE *out, const char *text, bool guard);

#endif
