/* report_flux_html.h - the `fluxbus report flux --format html` page: ONE
 * self-contained HTML file (inline CSS and SVG, no script, nothing
 * fetched; html.h's blocks) with: key figures; the progress of each
 * réservataire against its objective (the official count, the three
 * methods beside it, its share of priority and DALO households); per
 * convention, each party's counts under the three methods and its
 * objectives with their status; the monthly flow (orientations, CALEOL
 * attributions, leases, placements counted); the fairness of the spread of
 * the hard-to-let dwellings; and the communes.
 *
 * Every text that comes from messages is escaped. Figures also stand in
 * data-* attributes (data-kpi; data-reservataire with data-done,
 * data-objective, data-attributions, data-prioritaires, data-dalo and the
 * three methods; data-convention with data-party, data-official,
 * data-kind, data-target, data-status; the chart's data-month,
 * data-series, data-value; data-fairness with data-orientation-pm and
 * data-hard-to-let-pm; data-commune) for a machine to check the page in a
 * browser's DOM. */
#ifndef FLUXBUS_CLI_REPORT_FLUX_HTML_H
#define FLUXBUS_CLI_REPORT_FLUX_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "decompte.h"

/* Writes the page of décompte d, with its months (decompte_months of the
 * same query) and the filters asked (NULL: none), on out. False if
 * writing failed. */
bool report_flux_html(const decompte_t *d, const decompte_month_t *months, size_t n_months,
                      const char *bailleur, const char *reservataire, FILE *out);

#endif
