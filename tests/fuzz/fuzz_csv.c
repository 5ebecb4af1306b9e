/* fuzz_csv - libFuzzer target: any bytes as a CSV file an adapter reads
 * (adapters/common/csv.c), every row converted to LogementLibere and to
 * CaleolSeance (its *_ms instants read as Paris local time). Invariants,
 * beyond "nothing crashes, leaks or reads out of bounds":
 *   - a refusal says why, on a line of the text;
 *   - rows come in file order, every row has the header's cell count, and
 *     csv_cell finds each cell under its header name;
 *   - a row that converts gives JSON that fb_json_to_message accepts, and a
 *     row that does not says why, on the row's line;
 *   - the process's TZ is the same after a conversion as before. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/csv.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fuzz_support.h"

#define S_TZ "Europe/Paris"
#define S_PROCESS_TZ "America/New_York" /* differs from S_TZ, to see it restored */
#define S_CELLS_CHECKED 32

static const char *const s_skip[] = {"type", "to", NULL};

/* Lines of the text: one more than its line feeds. */
static unsigned s_lines(const uint8_t *data, size_t size)
{
    unsigned n = 1;
    for (size_t i = 0; i < size; i++)
        n += data[i] == '\n';
    return n;
}

static void s_check_row(const csv_t *csv, const csv_row_t *row,
                        const ProtobufCMessageDescriptor *desc)
{
    json_t *json = NULL;
    csv_error_t error;
    fb_err_t rc = csv_row_to_json(csv, row, desc, s_skip, S_TZ, &json, &error);
    const char *tz = getenv("TZ");
    if (!tz || strcmp(tz, S_PROCESS_TZ) != 0)
        fuzz_fail("TZ not restored after a row (now %s)", tz ? tz : "unset");
    if (rc != FB_OK) {
        if (json || rc != FB_ERR_PARSE || error.line != row->line || !error.reason[0])
            fuzz_fail("%s: row of line %u refused as %s on line %u: \"%s\"", desc->short_name,
                      row->line, fb_err_name(rc), error.line, error.reason);
        return;
    }
    ProtobufCMessage *msg = NULL;
    char why[256];
    if (fb_json_to_message(desc, json, &msg, why, sizeof why) != FB_OK) {
        char *text = json_dumps(json, JSON_COMPACT);
        fuzz_fail("%s: JSON of the row of line %u refused: %s: %s", desc->short_name, row->line,
                  why, text ? text : "?");
    }
    fb_json_free_message(msg);
    json_decref(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (setenv("TZ", S_PROCESS_TZ, 1) != 0)
        fuzz_fail("cannot set TZ");
    csv_t *csv = NULL;
    csv_error_t error;
    fb_err_t rc = csv_parse((const char *)data, size, ';', &csv, &error);
    if (rc != FB_OK) {
        if (csv || rc != FB_ERR_PARSE || !error.reason[0] || error.line > s_lines(data, size))
            fuzz_fail("refusal %s on line %u: \"%s\"", fb_err_name(rc), error.line, error.reason);
        return 0;
    }
    const csv_row_t *header = csv_header(csv);
    unsigned last_line = header->line;
    for (size_t i = 0; i < csv_count(csv); i++) {
        const csv_row_t *row = csv_row(csv, i);
        if (row->n != header->n || row->line <= last_line)
            fuzz_fail("row %zu: %zu cells on line %u after line %u", i, row->n, row->line,
                      last_line);
        last_line = row->line;
        /* csv_cell gives the cell of the first column of that name (the
         * first columns only: a header can have thousands). */
        for (size_t c = 0; c < row->n && c < S_CELLS_CHECKED; c++) {
            size_t first = 0;
            while (strcmp(header->cells[first], header->cells[c]) != 0)
                first++;
            if (csv_cell(csv, row, header->cells[c]) != row->cells[first])
                fuzz_fail("csv_cell does not find cell %zu of line %u", c, row->line);
        }
        s_check_row(csv, row, &fluxbus__v1__logement_libere__descriptor);
        s_check_row(csv, row, &fluxbus__v1__caleol_seance__descriptor);
    }
    if (last_line > s_lines(data, size))
        fuzz_fail("a row on line %u of %u", last_line, s_lines(data, size));
    csv_free(&csv);
    return 0;
}
