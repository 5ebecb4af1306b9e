/* csv_cell.h - writing one cell of a ';'-separated CSV file for French
 * spreadsheets (the CLI's reports, the commune adapter's feeds): quoted when
 * it holds ';', '"' or a line break ('"' doubled), and, for text that came
 * from other parties' messages or files, guarded against formula injection:
 * a cell starting with = + - @ (or a tab or carriage return) gets a leading
 * ' so that the spreadsheet shows it as text instead of running it.
 *
 * On request, codes made of digits (INSEE, SIREN, NUR) written as ="01004",
 * which Excel keeps as text with its leading zeros.
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

/* Is text a code made of ASCII digits only (an INSEE code, a SIREN, a NUR):
 * what a spreadsheet reads as a number, dropping a leading zero (01004 ->
 * 1004) or turning 15 digits into 7,40125E+13? */
bool csv_cell_is_code(const char *text);

/* Writes text as csv_cell_write(out, text, true) does, but a code
 * (csv_cell_is_code) as ="01004": Excel, opening the file by double-click,
 * shows the text 01004 with all its digits. Only digits ever go inside that
 * formula, so no text from a message can make it run anything: every other
 * cell keeps the formula guard. For outputs meant for a spreadsheet only (a
 * program reading the file gets ="01004"). */
void csv_cell_write_code_as_text(FILE *out, const char *text);

#endif
