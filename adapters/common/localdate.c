/* localdate.c - local dates in a named time zone (see localdate.h).
 *
 * Owns the only TZ swapping of the adapters: s_zone_enter points TZ at the
 * zone, s_zone_leave puts back what was there (or unsets it) and calls
 * tzset again, so the rest of the process never sees the change. */
#include "localdate.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

bool localdate_zone_known(const char *tz)
{
    if (!tz)
        return false;
    if (tz[0] == ':')
        tz++;
    if (!*tz || strstr(tz, ".."))
        return false;
    const char *dir = getenv("TZDIR");
    char path[PATH_MAX];
    int n = tz[0] == '/' ? snprintf(path, sizeof path, "%s", tz)
                         : snprintf(path, sizeof path, "%s/%s",
                                    dir && *dir ? dir : "/usr/share/zoneinfo", tz);
    struct stat st;
    return n > 0 && (size_t)n < sizeof path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The TZ of before a call: its value, or none. */
typedef struct {
    bool had;
    char *value;
} s_saved_tz_t;

/* Points TZ at `tz`. FB_ERR_INVALID for an unknown zone, FB_ERR_NOMEM;
 * TZ is untouched then. */
static fb_err_t s_zone_enter(const char *tz, s_saved_tz_t *saved)
{
    if (!localdate_zone_known(tz))
        return FB_ERR_INVALID;
    const char *old = getenv("TZ");
    saved->had = old != NULL;
    saved->value = old ? strdup(old) : NULL;
    if ((old && !saved->value) || setenv("TZ", tz, 1) != 0) {
        free(saved->value);
        return FB_ERR_NOMEM;
    }
    tzset();
    return FB_OK;
}

static void s_zone_leave(s_saved_tz_t *saved)
{
    if (saved->had)
        setenv("TZ", saved->value, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved->value);
}

fb_err_t localdate_from_ms(int64_t ms, const char *tz, localdate_t *out)
{
    s_saved_tz_t saved;
    fb_err_t rc = s_zone_enter(tz, &saved);
    if (rc != FB_OK)
        return rc;
    /* Whole seconds, rounded down also before 1970. */
    time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
    struct tm tm;
    bool ok = localtime_r(&t, &tm) != NULL;
    s_zone_leave(&saved);
    if (!ok)
        return FB_ERR_INVALID;
    *out = (localdate_t){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                         tm.tm_hour,        tm.tm_min,     tm.tm_sec};
    return FB_OK;
}

/* Seconds since the epoch of dt in the current TZ. Both readings
 * (standard and summer time) are tried and kept only if they give the same
 * wall clock back: none in the hour skipped in spring, two in the hour
 * repeated in autumn (the earlier is taken). */
static bool s_to_epoch(const localdate_t *dt, time_t *out)
{
    bool found = false;
    for (int dst = 1; dst >= 0; dst--) {
        struct tm tm = {.tm_year = dt->year - 1900,
                        .tm_mon = dt->month - 1,
                        .tm_mday = dt->day,
                        .tm_hour = dt->hour,
                        .tm_min = dt->minute,
                        .tm_sec = dt->second,
                        .tm_isdst = dst};
        time_t t = mktime(&tm);
        struct tm back;
        if (!localtime_r(&t, &back))
            continue;
        if (back.tm_year != dt->year - 1900 || back.tm_mon != dt->month - 1 ||
            back.tm_mday != dt->day || back.tm_hour != dt->hour || back.tm_min != dt->minute ||
            back.tm_sec != dt->second)
            continue;
        if (!found || t < *out)
            *out = t;
        found = true;
    }
    return found;
}

fb_err_t localdate_to_ms(const localdate_t *dt, const char *tz, int64_t *ms)
{
    s_saved_tz_t saved;
    fb_err_t rc = s_zone_enter(tz, &saved);
    if (rc != FB_OK)
        return rc;
    time_t t = 0;
    bool found = s_to_epoch(dt, &t);
    s_zone_leave(&saved);
    if (!found)
        return FB_ERR_NOT_FOUND;
    *ms = (int64_t)t * 1000;
    return FB_OK;
}
