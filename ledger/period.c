/* period.c - Paris civil dates and periods (see period.h). Owns the
 * calendar arithmetic (days since the epoch, the EU summer-time rule); knows
 * nothing of the ledger. */
#include "period.h"

#include <stdio.h>
#include <string.h>

#define S_DAY_MS 86400000LL
#define S_HOUR_MS 3600000LL

static bool s_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int s_month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && s_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), by counting from
 * March so that the leap day ends the year. */
static int64_t s_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static period_date_t s_civil_from_days(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    period_date_t d;
    d.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    d.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    d.year = (int)(yoe + era * 400 + (d.month <= 2));
    return d;
}

/* Floor division, so that instants before 1970 fall on the right day. */
static int64_t s_floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Day number of the last Sunday of month m of year y. */
static int64_t s_last_sunday(int y, int m)
{
    int64_t last = s_days_from_civil(y, m, s_month_days(y, m));
    int64_t weekday = ((last % 7) + 7 + 4) % 7; /* 1970-01-01 was a Thursday (4) */
    return last - weekday;
}

/* Summer time in Paris: from the last Sunday of March 01:00 UTC to the
 * last Sunday of October 01:00 UTC. */
static bool s_summer_utc(int64_t ms)
{
    int y = s_civil_from_days(s_floor_div(ms, S_DAY_MS)).year;
    int64_t begin = s_last_sunday(y, 3) * S_DAY_MS + S_HOUR_MS;
    int64_t end = s_last_sunday(y, 10) * S_DAY_MS + S_HOUR_MS;
    return ms >= begin && ms < end;
}

bool period_date_valid(period_date_t d)
{
    return d.year >= 1 && d.year <= 9999 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
           d.day <= s_month_days(d.year, d.month);
}

bool period_parse_date(const char *text, period_date_t *out)
{
    if (!text || strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (text[i] < '0' || text[i] > '9'))
            return false;
    period_date_t d = {
        (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + (text[3] - '0'),
        (text[5] - '0') * 10 + (text[6] - '0'), (text[8] - '0') * 10 + (text[9] - '0')};
    if (!period_date_valid(d))
        return false;
    *out = d;
    return true;
}

void period_format_date(period_date_t d, char out[11])
{
    snprintf(out, 11, "%04u-%02u-%02u", (unsigned)d.year % 10000u, (unsigned)d.month % 100u,
             (unsigned)d.day % 100u);
}

int64_t period_day_start_ms(period_date_t d)
{
    int64_t utc_midnight = s_days_from_civil(d.year, d.month, d.day) * S_DAY_MS;
    /* Local midnight is one or two hours before UTC midnight; try summer
     * time first: it holds when that instant is indeed in summer time. */
    int64_t summer = utc_midnight - 2 * S_HOUR_MS;
    return s_summer_utc(summer) ? summer : utc_midnight - S_HOUR_MS;
}

period_date_t period_date_of(int64_t ms)
{
    int64_t local = ms + (s_summer_utc(ms) ? 2 : 1) * S_HOUR_MS;
    return s_civil_from_days(s_floor_div(local, S_DAY_MS));
}

int period_year_of(int64_t ms)
{
    return period_date_of(ms).year;
}

int period_days(period_date_t a, period_date_t b)
{
    return (int)(s_days_from_civil(b.year, b.month, b.day) -
                 s_days_from_civil(a.year, a.month, a.day) + 1);
}

bool period_make(period_date_t from, period_date_t to, period_t *out)
{
    if (!period_date_valid(from) || !period_date_valid(to) || period_days(from, to) < 1)
        return false;
    out->from = from;
    out->to = to;
    out->start_ms = period_day_start_ms(from);
    out->end_ms =
        period_day_start_ms(s_civil_from_days(s_days_from_civil(to.year, to.month, to.day) + 1));
    return true;
}

/* Months m0..m1 of year y. */
static period_t s_months(int y, int m0, int m1)
{
    period_t p;
    period_make((period_date_t){y, m0, 1}, (period_date_t){y, m1, s_month_days(y, m1)}, &p);
    return p;
}

period_t period_year(int year)
{
    return s_months(year, 1, 12);
}

period_t period_quarter(int year, int q)
{
    return s_months(year, 3 * q - 2, 3 * q);
}

period_t period_half(int year, int h)
{
    return s_months(year, 6 * h - 5, 6 * h);
}

bool period_contains(const period_t *p, int64_t ms)
{
    return ms >= p->start_ms && ms < p->end_ms;
}
