/* localdate.h - local calendar dates and times in a named time zone
 * ("Europe/Paris", "Indian/Reunion", "America/Martinique"), for the
 * adapters that turn an instant into the day a person sees on the wall, or
 * a local date-time typed in a file into an instant.
 *
 * Written once over the C library: the zone is made the process's TZ for
 * the one call (tzset, localtime_r / mktime), then the TZ of before is put
 * back, set or not. Not for threads: an adapter runs on one thread. */
#ifndef FLUXBUS_ADAPTER_LOCALDATE_H
#define FLUXBUS_ADAPTER_LOCALDATE_H

#include <stdbool.h>
#include <stdint.h>

#include "fluxbus/err.h"

/* A wall-clock date and time; month 1..12, day 1..31. */
typedef struct {
    int year, month, day, hour, minute, second;
} localdate_t;

/* True when `tz` names a zone file of the system's time zone database
 * ($TZDIR, else /usr/share/zoneinfo): "Europe/Paris", "UTC". */
bool localdate_zone_known(const char *tz);

/* The local date and time in zone `tz` of instant `ms` (milliseconds since
 * the epoch). FB_ERR_INVALID when tz is not a known zone, FB_ERR_NOMEM
 * (*out untouched then). */
fb_err_t localdate_from_ms(int64_t ms, const char *tz, localdate_t *out);

/* The instant (ms since the epoch) of local date-time `dt` in zone `tz`.
 * A time repeated when clocks go back gives the earlier instant; a time
 * skipped when they go forward gives FB_ERR_NOT_FOUND; an unknown zone
 * FB_ERR_INVALID (FB_ERR_NOMEM). The date is taken as given: check it is
 * real first. */
fb_err_t localdate_to_ms(const localdate_t *dt, const char *tz, int64_t *ms);

#endif
