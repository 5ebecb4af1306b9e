/* period.h - French civil dates (Europe/Paris) and periods of them, for
 * the conventions and the décompte: a revision's effective date, a report's
 * year, quarter or any [from, to] range, and which year an instant falls in.
 *
 * Instants are ms since the Unix epoch (UTC), as the ledger stores them. A
 * civil date starts at 00:00 in Paris: UTC+1, or UTC+2 between the last
 * Sundays of March and October at 01:00 UTC (the EU rule since 1996),
 * computed here without the process's time zone. */
#ifndef FLUXBUS_LEDGER_PERIOD_H
#define FLUXBUS_LEDGER_PERIOD_H

#include <stdbool.h>
#include <stdint.h>

/* A calendar date (no time zone). */
typedef struct {
    int year, month, day;
} period_date_t;

/* Both ends included, as a person says it ("2025-01-01 to 2025-03-31"), and
 * the instants it covers: [start_ms, end_ms). */
typedef struct {
    period_date_t from, to;
    int64_t start_ms, end_ms;
} period_t;

/* True when y-m-d is a date of the Gregorian calendar (years 1..9999). */
bool period_date_valid(period_date_t d);

/* Parses "YYYY-MM-DD" (exactly); false when it is not a valid date. */
bool period_parse_date(const char *text, period_date_t *out);

/* Writes "YYYY-MM-DD" (11 bytes with the NUL). */
void period_format_date(period_date_t d, char out[11]);

/* The instant 00:00 Europe/Paris of date d begins at. */
int64_t period_day_start_ms(period_date_t d);

/* The Paris date instant ms falls on. */
period_date_t period_date_of(int64_t ms);

/* The Paris calendar year instant ms falls in. */
int period_year_of(int64_t ms);

/* Days from a to b, both included (b before a gives 0 or less). */
int period_days(period_date_t a, period_date_t b);

/* The period of dates from..to (from <= to: false otherwise). */
bool period_make(period_date_t from, period_date_t to, period_t *out);

/* A whole year; quarter q (1..4) or half h (1..2) of a year. */
period_t period_year(int year);
period_t period_quarter(int year, int q);
period_t period_half(int year, int h);

/* True when instant ms lies in the period. */
bool period_contains(const period_t *p, int64_t ms);

#endif
