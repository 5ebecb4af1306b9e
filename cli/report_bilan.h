/* report_bilan.h - the `fluxbus report bilan` document, from a bilan
 * (ledger/bilan.h): as one JSON object, or as CSV tables separated by ';'
 * with decimal commas (what French spreadsheets open as is). The HTML page
 * is report_html.h's.
 *
 * Both forms carry the same figures: the breakdowns of attributions and
 * leases, the objectives of each EPCI (legal and local) with pass/fail, the
 * monthly flow, and the analyses (refusals by residence, days vacant,
 * candidates presented repeatedly, Q1 candidates in proposals hors QPV). */
#ifndef FLUXBUS_CLI_REPORT_BILAN_H
#define FLUXBUS_CLI_REPORT_BILAN_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "bilan.h"

/* The report as a JSON object (new reference; NULL when out of memory). */
json_t *report_bilan_json(const bilan_t *b);

/* Writes the report as CSV tables on out; codes of digits (INSEE, SIREN,
 * NUR) as ="…" when codes_as_text (report_csv.h). False if writing
 * failed. */
bool report_bilan_csv(const bilan_t *b, FILE *out, bool codes_as_text);

/* A share in tenths of a percent written with a decimal comma ("62,5");
 * "" when x10 < 0. out holds 24 bytes. Shared with the HTML page. */
void report_bilan_pct(long x10, char out[24]);

#endif
