/* ics.h - the CALEOL calendar of the commune adapter: an RFC 5545 text
 * built with libical from the sessions kept in the feed store.
 *
 * The calendar: VERSION 2.0, PRODID "-//fluxbus//commune adapter//FR",
 * CALSCALE GREGORIAN, METHOD PUBLISH, X-WR-CALNAME, X-WR-TIMEZONE,
 * REFRESH-INTERVAL and X-PUBLISHED-TTL (how often clients should poll),
 * SOURCE when the public URL is known, one VTIMEZONE (the configured zone,
 * Europe/Paris by default, under its plain IANA name) and one VEVENT per
 * session:
 * - UID "<seance_id>@fluxbus", stable across revisions;
 * - SEQUENCE the store's counter (0, then +1 per change);
 * - DTSTAMP and LAST-MODIFIED when the adapter stored this revision,
 *   CREATED when it first stored the session (UTC);
 * - DTSTART/DTEND local time with TZID;
 * - SUMMARY the commission's name ("Annulée : " in front when cancelled);
 * - LOCATION the address, else the video link; URL the video link;
 * - STATUS CONFIRMED, or CANCELLED;
 * - DESCRIPTION: the communes, the dwellings on the agenda known to the
 *   store (typology, surface, address, commune, financing, availability;
 *   never a person) and how many others are on it, the video link.
 * The text depends only on the stored rows and the options (no "now"), so
 * the same store gives the same bytes: an ETag of the text is stable. */
#ifndef FLUXBUS_COMMUNE_ICS_H
#define FLUXBUS_COMMUNE_ICS_H

#include <stddef.h>

#include "feed_store.h"
#include "fluxbus/err.h"

typedef struct ics ics_t;

typedef struct {
    const char *timezone;      /* IANA name; NULL: "Europe/Paris" */
    const char *calendar_name; /* X-WR-CALNAME; NULL: "CALEOL" */
    const char *public_url;    /* URL of the calendar as clients reach it, or NULL */
    unsigned refresh_minutes;  /* REFRESH-INTERVAL / X-PUBLISHED-TTL; 0: 60 */
} ics_options_t;

/* Prepares the calendar's settings and its time zone (copied from opt).
 * NULL with a reason in err for a time zone libical does not know. */
ics_t *ics_new(const ics_options_t *opt, char *err, size_t errlen);

/* Frees; safe on NULL and twice. */
void ics_destroy(ics_t **self_p);

/* The calendar of every session in `store`: text with CRLF line ends and
 * folded lines, to free(), its length in *len. NULL with *err set
 * (FB_ERR_STORE, FB_ERR_MALFORMED for an unreadable row, FB_ERR_NOMEM). */
char *ics_calendar(ics_t *self, feed_store_t *store, size_t *len, fb_err_t *err);

#endif
