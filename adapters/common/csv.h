/* csv.h - the CSV files French IT systems export, read into messages.
 *
 * Text: UTF-8 (a leading BOM is skipped; invalid UTF-8 is an error naming
 * the line), fields separated by `sep` (';' for French spreadsheets),
 * optionally quoted with '"' ("" inside quotes is one '"'; a quoted field
 * may hold the separator and line breaks), lines ended by LF or CRLF, a
 * header row first. Blank lines are skipped. A row with more or fewer cells
 * than the header is an error naming its line.
 *
 * Cells to message fields (csv_row_to_json), driven by the protobuf-c
 * descriptor, so no per-message code:
 * - a header names a field by its .proto name; nested fields by a dotted
 *   path ("address.postal_code", "place.city");
 * - an empty cell leaves the field unset;
 * - strings as they are; repeated fields: values separated by '|'
 *   ("address.lines" = "12 rue des Alpes|Bâtiment B");
 * - integers: digits with an optional sign; spaces and non-breaking spaces
 *   between digits are ignored ("1 250");
 * - amounts: a field named X_cents or X_x100 may be given by a column named
 *   X, as a decimal number with a comma or a dot ("412,30" in column
 *   "loyer" sets loyer_cents = 41230; "45,5" in "surface_m2" sets
 *   surface_m2_x100 = 4550); a column with the full name takes an integer;
 * - instants (int64 fields named *_ms): milliseconds since the epoch, or a
 *   local date-time "YYYY-MM-DD HH:MM[:SS]", "YYYY-MM-DDTHH:MM[:SS]" or
 *   "DD/MM/YYYY HH:MM[:SS]" read in the time zone `tz` ("Europe/Paris");
 * - dates (fields of message type Date): "YYYY-MM-DD" or "DD/MM/YYYY";
 * - booleans: oui/non, vrai/faux, true/false, o/n, x/empty, 1/0 (any case);
 * - enums: the full value name ("TYPOLOGIE_T3"), the part after the enum's
 *   prefix ("T3", "in_qpv", any case), or the number.
 * Columns listed in `skip` (routing columns such as "type", "to") are left
 * out. Anything else that does not fit is an error naming the line, the
 * column and the reason. */
#ifndef FLUXBUS_ADAPTER_CSV_H
#define FLUXBUS_ADAPTER_CSV_H

#include <stddef.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "fluxbus/err.h"

typedef struct {
    char **cells; /* n cells, NUL-terminated UTF-8 */
    size_t n;
    unsigned line; /* 1-based line of the file where the row starts */
} csv_row_t;

typedef struct csv csv_t;

/* Where and why a file or a row did not fit. */
typedef struct {
    unsigned line;    /* 0 when not about a line */
    char column[128]; /* header name, "" when not about a cell */
    char reason[256];
} csv_error_t;

/* Parses `len` bytes. FB_OK with *out (csv_free it); FB_ERR_PARSE with
 * *error filled (bad UTF-8, unterminated quote, no header, ragged row). */
fb_err_t csv_parse(const char *text, size_t len, char sep, csv_t **out, csv_error_t *error);

void csv_free(csv_t **self_p);

/* The header row, and the data rows (i < csv_count). */
const csv_row_t *csv_header(const csv_t *self);
size_t csv_count(const csv_t *self);
const csv_row_t *csv_row(const csv_t *self, size_t i);

/* The cell of `row` under header `name`, or NULL when there is no such
 * column (an empty cell gives ""). */
const char *csv_cell(const csv_t *self, const csv_row_t *row, const char *name);

/* Builds the JSON object (fluxbus/json.h form) of message `desc` from one
 * data row, leaving out the columns named in `skip` (NULL-terminated, may be
 * NULL). FB_OK with *out (new reference); FB_ERR_PARSE with *error (line,
 * column, reason) when a header names no field or a cell does not fit its
 * field. */
fb_err_t csv_row_to_json(const csv_t *self, const csv_row_t *row,
                         const ProtobufCMessageDescriptor *desc, const char *const *skip,
                         const char *tz, json_t **out, csv_error_t *error);

#endif
