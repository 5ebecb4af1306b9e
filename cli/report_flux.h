/* report_flux.h - the `fluxbus report flux` document, from a décompte
 * (ledger/decompte.h): as one JSON object, or as CSV tables separated by
 * ';' with decimal commas (what French spreadsheets open as is).
 *
 * Both forms carry the same figures: per convention and party, the
 * activity of the period, the three counts and the official one, the
 * progress against each objective; per réservataire; per commune; and the
 * fairness table of the hard-to-let dwellings. */
#ifndef FLUXBUS_CLI_REPORT_FLUX_H
#define FLUXBUS_CLI_REPORT_FLUX_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "decompte.h"

/* The report as a JSON object (new reference; NULL when out of memory).
 * bailleur and reservataire are the filters asked for (NULL: none). */
json_t *report_flux_json(const decompte_t *d, const char *bailleur, const char *reservataire);

/* Writes the report as CSV tables on out; codes of digits (INSEE, SIREN,
 * NUR) as ="…" when codes_as_text (report_csv.h). False if writing
 * failed. */
bool report_flux_csv(const decompte_t *d, FILE *out, bool codes_as_text);

#endif
