/* html.h - the building blocks of the reports' self-contained HTML pages
 * (`report bilan --format html`, report_html.c; `report flux --format
 * html`, report_flux_html.c): one style sheet, escaping, French number
 * formats, key figures, badges, gauges, progress bars and the monthly
 * chart. Everything is inline (CSS, SVG): no script, nothing fetched.
 *
 * The pages write their figures in data-* attributes too, so that a
 * machine can check them in a browser's DOM; the blocks here do the same
 * for theirs (data-kpi; the chart's data-month, data-series, data-value). */
#ifndef FLUXBUS_CLI_HTML_H
#define FLUXBUS_CLI_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "period.h"

/* The colours of the series and statuses (also CSS variables). */
#define HTML_C_ORIENT "#5c6bc0"
#define HTML_C_ATTR "#ef8f2f"
#define HTML_C_LEASE "#2e9d57"
#define HTML_C_COUNT "#8e6bbf"
#define HTML_C_PASS "#2e7d32"
#define HTML_C_FAIL "#c62828"
#define HTML_C_NONE "#9e9e9e"

/* printf to out. */
void html_out(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Text escaped for HTML content and attribute values. */
void html_esc(FILE *out, const char *s);

/* A share num/den as "50,0 %" (narrow no-break space), or "–" when den
 * is 0. */
void html_share(FILE *out, uint32_t num, uint32_t den);

/* A target in per mille as people write it: "25", "27,5" (out holds 24
 * bytes); html_per_mille writes it with " %". */
void html_target_text(uint32_t per_mille, char out[24]);
void html_per_mille(FILE *out, uint32_t per_mille);

/* A horizontal gauge 0..100 % of width w: the share num/den filled in
 * `colour`, a tick at each of the n targets (per mille) labelled above. */
void html_gauge(FILE *out, uint32_t num, uint32_t den, const uint32_t *targets, size_t n,
                const char *colour, int w);

/* A progress bar of width w: `done` filled against `objective` (the scale
 * stretches past it when exceeded), a tick labelled "objectif N", and
 * "done / objective" beside it. Green once reached. */
void html_progress(FILE *out, uint32_t done, uint32_t objective, int w);

/* <span class="badge CLS">label</span> (classes: pass, fail, no_data,
 * no_target, and the décompte's reached, in_progress, below_min,
 * above_max). */
void html_badge(FILE *out, const char *cls, const char *label);

/* One key figure: the value printed with fmt, the label below. */
void html_kpi(FILE *out, const char *key, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The page's beginning up to the header's subtitle paragraph, left open:
 * <title>TITLE FROM – TO</title>, <h1>HEADING <span>du FROM au TO</span>,
 * then <p>; the page writes its subtitle and calls html_header_end. */
void html_begin(FILE *out, const char *title, const char *heading, const period_t *p);
void html_header_end(FILE *out);

/* The footer (footer_html written as is) and the end of the page. False if
 * writing failed. */
bool html_end(FILE *out, const char *footer_html);

/* The monthly chart: a legend and grouped bars, one group per month, one
 * bar per series, a y axis with round steps. */
#define HTML_MAX_SERIES 4
typedef struct {
    const char *key;    /* data-series */
    const char *label;  /* in the legend and the bar's tooltip */
    const char *colour; /* HTML_C_* */
} html_series_t;

typedef struct {
    int year, month;
    uint32_t values[HTML_MAX_SERIES]; /* one per series */
} html_month_t;

void html_monthly_chart(FILE *out, const char *id, const char *aria_label,
                        const html_series_t *series, size_t n_series, const html_month_t *months,
                        size_t n_months);

#endif
