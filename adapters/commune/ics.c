/* ics.c - the CALEOL calendar built with libical (see ics.h). Owns the
 * mapping of a stored session to a VEVENT and the calendar's time zone;
 * reads the store, never writes it. The only file of the adapter that
 * touches libical. */
#include "ics.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "feed_format.h"
#include "fluxbus/codec.h"

#define S_PRODID "-//fluxbus//commune adapter//FR"
#define S_DEFAULT_ZONE "Europe/Paris"

/* Europe/Paris as calendar programs publish it: the EU summer-time rules
 * in force since 1996 (last Sunday of March 02:00 -> CEST, last Sunday of
 * October 03:00 -> CET). libical's built-in zone would give the whole
 * history since 1891 under a prefixed TZID; sessions are recent. */
static const char s_paris[] = "BEGIN:VTIMEZONE\r\n"
                              "TZID:Europe/Paris\r\n"
                              "X-LIC-LOCATION:Europe/Paris\r\n"
                              "BEGIN:DAYLIGHT\r\n"
                              "TZOFFSETFROM:+0100\r\n"
                              "TZOFFSETTO:+0200\r\n"
                              "TZNAME:CEST\r\n"
                              "DTSTART:19700329T020000\r\n"
                              "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
                              "END:DAYLIGHT\r\n"
                              "BEGIN:STANDARD\r\n"
                              "TZOFFSETFROM:+0200\r\n"
                              "TZOFFSETTO:+0100\r\n"
                              "TZNAME:CET\r\n"
                              "DTSTART:19701025T030000\r\n"
                              "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
                              "END:STANDARD\r\n"
                              "END:VTIMEZONE\r\n";

struct ics {
    icaltimezone *zone; /* owns its VTIMEZONE component */
    char *tzid;         /* plain IANA name, "Europe/Paris" */
    char *calendar_name;
    char *public_url; /* NULL when not configured */
    unsigned refresh_minutes;
};

/* The VTIMEZONE of `name` under TZID `name`: ours for Europe/Paris,
 * libical's built-in one (renamed) for any other zone. NULL when unknown. */
static icalcomponent *s_vtimezone(const char *name)
{
    if (strcmp(name, S_DEFAULT_ZONE) == 0)
        return icalparser_parse_string(s_paris);
    icaltimezone *builtin = icaltimezone_get_builtin_timezone(name);
    icalcomponent *comp = builtin ? icaltimezone_get_component(builtin) : NULL;
    if (!comp)
        return NULL;
    comp = icalcomponent_new_clone(comp);
    icalproperty *tzid = icalcomponent_get_first_property(comp, ICAL_TZID_PROPERTY);
    if (tzid)
        icalproperty_set_tzid(tzid, name);
    return comp;
}

ics_t *ics_new(const ics_options_t *opt, char *err, size_t errlen)
{
    /* Bad data must come back as an error, never abort the daemon. */
    icalerror_set_errors_are_fatal(0);
    const char *zone = opt->timezone && *opt->timezone ? opt->timezone : S_DEFAULT_ZONE;
    ics_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    icalcomponent *vtz = s_vtimezone(zone);
    if (!vtz) {
        snprintf(err, errlen, "timezone \"%s\": not a time zone libical knows", zone);
        goto fail;
    }
    self->zone = icaltimezone_new();
    if (!self->zone || !icaltimezone_set_component(self->zone, vtz)) {
        icalcomponent_free(vtz);
        snprintf(err, errlen, "timezone \"%s\": libical cannot use it", zone);
        goto fail;
    }
    self->tzid = strdup(zone);
    self->calendar_name = strdup(opt->calendar_name ? opt->calendar_name : "CALEOL");
    self->public_url = opt->public_url && *opt->public_url ? strdup(opt->public_url) : NULL;
    self->refresh_minutes = opt->refresh_minutes ? opt->refresh_minutes : 60;
    if (!self->tzid || !self->calendar_name ||
        (opt->public_url && *opt->public_url && !self->public_url)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    return self;
fail:
    ics_destroy(&self);
    return NULL;
}

void ics_destroy(ics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ics_t *self = *self_p;
    if (self->zone)
        icaltimezone_free(self->zone, 1);
    free(self->tzid);
    free(self->calendar_name);
    free(self->public_url);
    free(self);
    *self_p = NULL;
}

/* ---- one session ---- */

/* An instant (ms since the epoch) as a UTC time. */
static struct icaltimetype s_utc(int64_t ms)
{
    time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0 ? 1 : 0)); /* floor, no overflow */
    return icaltime_from_timet_with_zone(t, 0, icaltimezone_get_utc_timezone());
}

/* An instant as a DTSTART/DTEND property in local time with its TZID. */
static icalproperty *s_local(ics_t *self, icalproperty *(*make)(struct icaltimetype), int64_t ms)
{
    struct icaltimetype local = icaltime_convert_to_zone(s_utc(ms), self->zone);
    icalproperty *prop = make(local);
    icalproperty_add_parameter(prop, icalparameter_new_tzid(self->tzid));
    return prop;
}

/* A growing text; on OOM `text` becomes NULL and stays so. */
typedef struct {
    char *text;
    size_t len;
} s_text_t;

static void s_add(s_text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_add(s_text_t *t, const char *fmt, ...)
{
    if (!t->text)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *grown = n >= 0 ? realloc(t->text, t->len + (size_t)n + 1) : NULL;
    if (!grown) {
        free(t->text);
        t->text = NULL;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(grown + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->text = grown;
    t->len += (size_t)n;
}

/* "- T3, 65,4 m², 12 rue des Alpes, 74000 Annecy (commune 74010), PLUS,
 * loyer 412,30 €, disponible le 01/03/2025": the public facts of one
 * dwelling on the agenda. */
static void s_add_dwelling(s_text_t *t, const Fluxbus__V1__LogementLibere *l)
{
    char typo[32], fin[32];
    char *address = feed_format_address(l->address);
    char *surface = feed_format_x100((int64_t)l->surface_m2_x100, ',', false);
    char *rent = feed_format_x100(l->loyer_cents, ',', true);
    char *available = feed_format_date_fr(l->available_on);
    feed_format_enum(&fluxbus__v1__typologie__descriptor, l->typologie, false, typo, sizeof typo);
    feed_format_enum(&fluxbus__v1__financement__descriptor, l->financement, false, fin, sizeof fin);
    s_add(t, "- %s", *typo ? typo : "logement");
    if (l->surface_m2_x100 && surface)
        s_add(t, ", %s m²", surface);
    if (address && *address)
        s_add(t, ", %s", address);
    s_add(t, " (commune %s)", l->commune_insee);
    if (*fin)
        s_add(t, ", %s", fin);
    if (l->loyer_cents > 0 && rent)
        s_add(t, ", loyer %s €", rent);
    if (available && *available)
        s_add(t, ", disponible le %s", available);
    if (l->mode_gestion == FLUXBUS__V1__MODE_GESTION__MODE_GESTION_STOCK)
        s_add(t, ", première mise en location");
    s_add(t, "\n");
    free(address);
    free(surface);
    free(rent);
    free(available);
}

/* The DESCRIPTION of a session; NULL on OOM or store error (*err). */
static char *s_description(feed_store_t *store, const Fluxbus__V1__CaleolSeance *s, fb_err_t *err)
{
    s_text_t t = {strdup(""), 0};
    s_add(&t, "Commission d'attribution des logements (CALEOL)");
    if (*s->commission_name)
        s_add(&t, " : %s", s->commission_name);
    s_add(&t, "\n");
    if (*s->bailleur_siren)
        s_add(&t, "Bailleur : SIREN %s\n", s->bailleur_siren);
    for (size_t i = 0; i < s->n_communes_insee; i++)
        s_add(&t, "%s%s%s", i ? ", " : "Communes : ", s->communes_insee[i],
              i + 1 == s->n_communes_insee ? "\n" : "");
    size_t unknown = 0;
    bool listed = false;
    for (size_t i = 0; i < s->n_vacancy_ids && *err == FB_OK; i++) {
        Fluxbus__V1__LogementLibere *l = NULL;
        fb_err_t rc = feed_store_logement(store, s->vacancy_ids[i], &l);
        if (rc == FB_OK) {
            if (!listed)
                s_add(&t, "Logements à l'ordre du jour :\n");
            listed = true;
            s_add_dwelling(&t, l);
        } else if (rc == FB_ERR_NOT_FOUND) {
            unknown++;
        } else {
            *err = rc;
        }
        fb_codec_free(l ? &l->base : NULL);
    }
    /* Dwellings of other communes, or not (yet) published to this one:
     * counted, never described. */
    if (unknown)
        s_add(&t,
              "%s%zu logement%s de l'ordre du jour hors de ce territoire ou pas encore"
              " publié%s\n",
              listed ? "+ " : "Ordre du jour : ", unknown, unknown > 1 ? "s" : "",
              unknown > 1 ? "s" : "");
    if (*s->video_url)
        s_add(&t, "Visioconférence : %s\n", s->video_url);
    if (s->status == FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_CANCELLED)
        s_add(&t, "Séance annulée.\n");
    if (!t.text && *err == FB_OK)
        *err = FB_ERR_NOMEM;
    if (*err != FB_OK) {
        free(t.text);
        return NULL;
    }
    if (t.len && t.text[t.len - 1] == '\n')
        t.text[t.len - 1] = '\0'; /* no trailing empty line */
    return t.text;
}

/* The SUMMARY: the commission's name, marked when cancelled. */
static char *s_summary(const Fluxbus__V1__CaleolSeance *s, bool cancelled)
{
    const char *name = *s->commission_name ? s->commission_name : "CALEOL";
    size_t len = strlen(name) + 32;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%s%s", cancelled ? "Annulée : " : "", name);
    return out;
}

/* Where: the address, else (video only) the video link; NULL for none. */
static char *s_location(const Fluxbus__V1__CaleolSeance *s)
{
    char *address = feed_format_address(s->place);
    if (address && !*address) {
        free(address);
        address = *s->video_url ? strdup(s->video_url) : NULL;
    }
    return address;
}

/* The context of one calendar build. */
typedef struct {
    ics_t *self;
    feed_store_t *store;
    icalcomponent *cal;
    fb_err_t err;
} s_build_t;

static void s_add_event(void *ctx, const feed_seance_t *row)
{
    s_build_t *b = ctx;
    if (b->err != FB_OK)
        return;
    const Fluxbus__V1__CaleolSeance *s = row->seance;
    bool cancelled = s->status == FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_CANCELLED;
    char *description = s_description(b->store, s, &b->err);
    char *summary = s_summary(s, cancelled);
    char *location = s_location(s);
    size_t uid_len = strlen(s->seance_id) + sizeof "@fluxbus";
    char *uid = malloc(uid_len);
    if (!description || !summary || !uid) {
        if (b->err == FB_OK)
            b->err = FB_ERR_NOMEM;
        goto done;
    }
    snprintf(uid, uid_len, "%s@fluxbus", s->seance_id);

    icalcomponent *ev = icalcomponent_new_vevent();
    icalcomponent_add_property(ev, icalproperty_new_uid(uid));
    icalcomponent_add_property(ev, icalproperty_new_sequence((int)row->sequence));
    icalcomponent_add_property(ev, icalproperty_new_dtstamp(s_utc(row->updated_ms)));
    icalcomponent_add_property(ev, icalproperty_new_created(s_utc(row->created_ms)));
    icalcomponent_add_property(ev, icalproperty_new_lastmodified(s_utc(row->updated_ms)));
    icalcomponent_add_property(ev, s_local(b->self, icalproperty_new_dtstart, s->start_ms));
    if (s->end_ms > s->start_ms)
        icalcomponent_add_property(ev, s_local(b->self, icalproperty_new_dtend, s->end_ms));
    icalcomponent_add_property(ev, icalproperty_new_summary(summary));
    if (location)
        icalcomponent_add_property(ev, icalproperty_new_location(location));
    if (*s->video_url)
        icalcomponent_add_property(ev, icalproperty_new_url(s->video_url));
    icalcomponent_add_property(
        ev, icalproperty_new_status(cancelled ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
    icalcomponent_add_property(ev, icalproperty_new_categories("CALEOL"));
    icalcomponent_add_property(ev, icalproperty_new_description(description));
    icalcomponent_add_component(b->cal, ev);
done:
    free(description);
    free(summary);
    free(location);
    free(uid);
}

/* ---- the calendar ---- */

static void s_add_x(icalcomponent *cal, const char *name, const char *value)
{
    icalproperty *p = icalproperty_new_x(value);
    icalproperty_set_x_name(p, name);
    icalcomponent_add_property(cal, p);
}

static icalcomponent *s_vcalendar(ics_t *self)
{
    icalcomponent *cal = icalcomponent_new_vcalendar();
    icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
    icalcomponent_add_property(cal, icalproperty_new_prodid(S_PRODID));
    icalcomponent_add_property(cal, icalproperty_new_calscale("GREGORIAN"));
    icalcomponent_add_property(cal, icalproperty_new_method(ICAL_METHOD_PUBLISH));
    s_add_x(cal, "X-WR-CALNAME", self->calendar_name);
    s_add_x(cal, "X-WR-TIMEZONE", self->tzid);
    /* RFC 7986 REFRESH-INTERVAL, and its older twin for Outlook-like clients. */
    struct icaldurationtype every = icaldurationtype_from_int((int)self->refresh_minutes * 60);
    icalcomponent_add_property(cal, icalproperty_new_refreshinterval(every));
    char *ttl = icaldurationtype_as_ical_string_r(every);
    s_add_x(cal, "X-PUBLISHED-TTL", ttl);
    icalmemory_free_buffer(ttl);
    if (self->public_url)
        icalcomponent_add_property(cal, icalproperty_new_source(self->public_url));
    icalcomponent_add_component(cal,
                                icalcomponent_new_clone(icaltimezone_get_component(self->zone)));
    return cal;
}

char *ics_calendar(ics_t *self, feed_store_t *store, size_t *len, fb_err_t *err)
{
    s_build_t b = {self, store, s_vcalendar(self), FB_OK};
    fb_err_t rc = feed_store_each_seance(store, s_add_event, &b);
    if (b.err == FB_OK)
        b.err = rc;
    char *text = NULL;
    if (b.err == FB_OK) {
        char *ical = icalcomponent_as_ical_string_r(b.cal);
        text = ical ? strdup(ical) : NULL;
        icalmemory_free_buffer(ical);
        if (!text)
            b.err = FB_ERR_NOMEM;
    }
    icalcomponent_free(b.cal);
    *err = b.err;
    *len = text ? strlen(text) : 0;
    return text;
}
