/* report_html.h - the `fluxbus report bilan --format html` page: ONE
 * self-contained HTML file (inline CSS, inline SVG charts, no script, no
 * external asset, no link to fetch) that a person would rather look at than
 * read: key figures, the legal objectives per EPCI with pass/fail and the
 * local CIA targets beside them, progress per réservataire (its convention
 * and its share of priority households against the objective), the monthly
 * flow of orientations, attributions and leases, the breakdowns, and the
 * analyses.
 *
 * Every text that comes from messages (actor ids, residence ids, NUR) is
 * escaped. Figures also stand in data-* attributes (data-objective,
 * data-status, data-num, data-den, data-kpi, data-month, data-series,
 * data-value, data-dim, data-key) so that the page can be checked by a
 * machine in a browser's DOM. */
#ifndef FLUXBUS_CLI_REPORT_HTML_H
#define FLUXBUS_CLI_REPORT_HTML_H

#include <stdbool.h>
#include <stdio.h>

#include "bilan.h"

/* Writes the page on out. False if writing failed. */
bool report_html_write(const bilan_t *b, FILE *out);

#endif
