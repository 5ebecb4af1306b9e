/* test_commune_ics.c - the commune adapter's calendar (adapters/commune/
 * ics.c) over its feed store (feed_store.c), on a real SQLite file: the
 * text is parsed back with libical and checked (stable UID, SEQUENCE that
 * grows on a change and only then, CANCELLED, TZID and local times,
 * dwellings in the description, same bytes for the same store). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libical/ical.h>
#include <sqlite3.h>

#include "commune/feed_store.h"
#include "commune/ics.h"
#include "tmpdir.h"

/* A store on a fresh state file, and the calendar built from it. */
typedef struct {
    char dir[256];
    char path[512];
    sqlite3 *db;
    feed_store_t *store;
    ics_t *ics;
} s_world_t;

static void s_open_db(s_world_t *w)
{
    char err[256] = "";
    assert_int_equal(sqlite3_open(w->path, &w->db), SQLITE_OK);
    w->store = feed_store_new(w->db, err, sizeof err);
    if (!w->store)
        fail_msg("feed_store_new: %s", err);
}

static void s_close_db(s_world_t *w)
{
    feed_store_destroy(&w->store);
    sqlite3_close(w->db);
    w->db = NULL;
}

static int s_setup(void **state)
{
    s_world_t *w = calloc(1, sizeof *w);
    assert_int_equal(tmpdir_make(w->dir, sizeof w->dir, "commune-ics"), 0);
    snprintf(w->path, sizeof w->path, "%s/state.db", w->dir);
    s_open_db(w);
    char err[256] = "";
    ics_options_t opt = {.calendar_name = "CALEOL Annecy",
                         .public_url = "https://mairie.example/caleol.ics"};
    w->ics = ics_new(&opt, err, sizeof err);
    if (!w->ics)
        fail_msg("ics_new: %s", err);
    *state = w;
    return 0;
}

static int s_teardown(void **state)
{
    s_world_t *w = *state;
    ics_destroy(&w->ics);
    s_close_db(w);
    tmpdir_remove(w->dir);
    free(w);
    return 0;
}

/* ms since the epoch of a UTC date-time. */
static int64_t s_utc_ms(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) * 1000;
}

static char *s_communes[] = {"74010"};
static char *s_place_lines[] = {"Siège, 1 rue de la Paix"};

/* Session s-1 on 13 March 2025, 13:00-15:00 UTC (14:00 CET), two vacancies
 * on the agenda, at the bailleur's seat. */
static void s_seance(Fluxbus__V1__CaleolSeance *s, Fluxbus__V1__Address *place, uint32_t revision)
{
    static char *vacancies[] = {"vac-1", "vac-9"};
    fluxbus__v1__caleol_seance__init(s);
    fluxbus__v1__address__init(place);
    place->n_lines = 1;
    place->lines = s_place_lines;
    place->postal_code = "74000";
    place->city = "Annecy";
    s->seance_id = "s-1";
    s->revision = revision;
    s->status = FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_SCHEDULED;
    s->bailleur_siren = "552046955";
    s->commission_name = "Commission Annecy-Nord";
    s->start_ms = s_utc_ms(2025, 3, 13, 13, 0);
    s->end_ms = s_utc_ms(2025, 3, 13, 15, 0);
    s->timezone = "Europe/Paris";
    s->place = place;
    s->n_communes_insee = 1;
    s->communes_insee = s_communes;
    s->n_vacancy_ids = 2;
    s->vacancy_ids = vacancies;
}

/* Dwelling vac-1: a T3 of 65.40 m2 in 74010, PLUS, free on 1 April 2025. */
static void s_put_dwelling(s_world_t *w)
{
    static char *lines[] = {"12 rue des Alpes", "Bâtiment B"};
    Fluxbus__V1__LogementLibere l;
    Fluxbus__V1__Address a;
    Fluxbus__V1__Date d;
    fluxbus__v1__logement_libere__init(&l);
    fluxbus__v1__address__init(&a);
    fluxbus__v1__date__init(&d);
    a.n_lines = 2;
    a.lines = lines;
    a.postal_code = "74000";
    a.city = "Annecy";
    d.year = 2025;
    d.month = 4;
    d.day = 1;
    l.vacancy_id = "vac-1";
    l.rpls_id = "7401000123";
    l.commune_insee = "74010";
    l.address = &a;
    l.typologie = FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T3;
    l.surface_m2_x100 = 6540;
    l.loyer_cents = 41230;
    l.financement = FLUXBUS__V1__FINANCEMENT__FINANCEMENT_PLUS;
    l.available_on = &d;
    l.mode_gestion = FLUXBUS__V1__MODE_GESTION__MODE_GESTION_FLUX;
    feed_put_t put;
    assert_int_equal(feed_store_put_logement(w->store, &l, 1000, &put), FB_OK);
}

static feed_put_t s_put(s_world_t *w, const Fluxbus__V1__CaleolSeance *s, int64_t now_ms)
{
    feed_put_t put;
    assert_int_equal(feed_store_put_seance(w->store, s, now_ms, &put, NULL), FB_OK);
    return put;
}

/* The calendar of the store, parsed back; asserts it parses. */
static icalcomponent *s_calendar(s_world_t *w, char **text_out)
{
    size_t len = 0;
    fb_err_t err = FB_ERR_INVALID;
    char *text = ics_calendar(w->ics, w->store, &len, &err);
    assert_int_equal(err, FB_OK);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    icalcomponent *cal = icalparser_parse_string(text);
    assert_non_null(cal);
    assert_int_equal(icalcomponent_isa(cal), ICAL_VCALENDAR_COMPONENT);
    if (text_out)
        *text_out = text;
    else
        free(text);
    return cal;
}

/* The VEVENT of `uid`, or NULL. */
static icalcomponent *s_event(icalcomponent *cal, const char *uid)
{
    for (icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); ev;
         ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
        if (strcmp(icalcomponent_get_uid(ev), uid) == 0)
            return ev;
    return NULL;
}

static int s_count_events(icalcomponent *cal)
{
    return icalcomponent_count_components(cal, ICAL_VEVENT_COMPONENT);
}

static const char *s_x(icalcomponent *c, const char *name)
{
    for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY); p;
         p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY))
        if (strcmp(icalproperty_get_x_name(p), name) == 0)
            return icalproperty_get_x(p);
    return NULL;
}

/* Asserts that `prop` of ev is in TZID Europe/Paris at local hh:mm. */
static void s_expect_local(icalcomponent *ev, icalproperty_kind kind, int hour, int minute)
{
    icalproperty *p = icalcomponent_get_first_property(ev, kind);
    assert_non_null(p);
    icalparameter *tzid = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
    assert_non_null(tzid);
    assert_string_equal(icalparameter_get_tzid(tzid), "Europe/Paris");
    struct icaltimetype t = icalvalue_get_datetime(icalproperty_get_value(p));
    assert_false(icaltime_is_utc(t));
    assert_int_equal(t.hour, hour);
    assert_int_equal(t.minute, minute);
}

static void test_ics_one_session_parses_back_with_its_fields(void **state)
{
    s_world_t *w = *state;
    Fluxbus__V1__CaleolSeance s;
    Fluxbus__V1__Address place;
    s_seance(&s, &place, 1);
    s_put_dwelling(w);
    assert_int_equal(s_put(w, &s, s_utc_ms(2025, 2, 1, 9, 0)), FEED_PUT_NEW);

    icalcomponent *cal = s_calendar(w, NULL);
    assert_string_equal(
        icalproperty_get_version(icalcomponent_get_first_property(cal, ICAL_VERSION_PROPERTY)),
        "2.0");
    assert_string_equal(
        icalproperty_get_prodid(icalcomponent_get_first_property(cal, ICAL_PRODID_PROPERTY)),
        "-//fluxbus//commune adapter//FR");
    assert_int_equal(icalcomponent_get_method(cal), ICAL_METHOD_PUBLISH);
    assert_string_equal(s_x(cal, "X-WR-CALNAME"), "CALEOL Annecy");
    assert_string_equal(s_x(cal, "X-PUBLISHED-TTL"), "PT1H");
    assert_non_null(icalcomponent_get_first_property(cal, ICAL_REFRESHINTERVAL_PROPERTY));
    icalcomponent *vtz = icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT);
    assert_non_null(vtz);
    assert_string_equal(
        icalproperty_get_tzid(icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY)),
        "Europe/Paris");

    assert_int_equal(s_count_events(cal), 1);
    icalcomponent *ev = s_event(cal, "s-1@fluxbus");
    assert_non_null(ev);
    assert_int_equal(icalcomponent_get_sequence(ev), 0);
    assert_int_equal(icalcomponent_get_status(ev), ICAL_STATUS_CONFIRMED);
    assert_string_equal(icalcomponent_get_summary(ev), "Commission Annecy-Nord");
    assert_string_equal(icalcomponent_get_location(ev), "Siège, 1 rue de la Paix, 74000 Annecy");
    /* 13:00 UTC in March is 14:00 in Paris (CET). */
    s_expect_local(ev, ICAL_DTSTART_PROPERTY, 14, 0);
    s_expect_local(ev, ICAL_DTEND_PROPERTY, 16, 0);
    struct icaltimetype stamp = icalcomponent_get_dtstamp(ev);
    assert_true(icaltime_is_utc(stamp));
    assert_int_equal(stamp.month, 2);

    const char *desc = icalcomponent_get_description(ev);
    assert_non_null(strstr(desc, "T3, 65,4 m², 12 rue des Alpes, Bâtiment B, 74000 Annecy"));
    assert_non_null(strstr(desc, "(commune 74010)"));
    assert_non_null(strstr(desc, "PLUS"));
    assert_non_null(strstr(desc, "disponible le 01/04/2025"));
    /* vac-9 is unknown here: counted, not described. */
    assert_non_null(strstr(desc, "+ 1 logement de l'ordre du jour hors de ce territoire"));
    assert_non_null(strstr(desc, "Communes : 74010"));
    icalcomponent_free(cal);
}

static void test_ics_summer_time_is_cest(void **state)
{
    s_world_t *w = *state;
    Fluxbus__V1__CaleolSeance s;
    Fluxbus__V1__Address place;
    s_seance(&s, &place, 1);
    s.start_ms = s_utc_ms(2025, 6, 12, 7, 30); /* 09:30 CEST */
    s.end_ms = 0;                              /* no end: no DTEND */
    s_put(w, &s, 1000);
    icalcomponent *cal = s_calendar(w, NULL);
    icalcomponent *ev = s_event(cal, "s-1@fluxbus");
    s_expect_local(ev, ICAL_DTSTART_PROPERTY, 9, 30);
    assert_null(icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY));
    /* libical itself, given our VTIMEZONE, maps the local time back to UTC. */
    struct icaltimetype start = icalcomponent_get_dtstart(ev);
    icaltimezone *zone = icaltimezone_new();
    icaltimezone_set_component(zone, icalcomponent_new_clone(icalcomponent_get_first_component(
                                         cal, ICAL_VTIMEZONE_COMPONENT)));
    start.zone = zone;
    assert_int_equal((int64_t)icaltime_as_timet_with_zone(start, zone) * 1000, s.start_ms);
    icaltimezone_free(zone, 1);
    icalcomponent_free(cal);
}

static void test_ics_sequence_grows_on_change_only(void **state)
{
    s_world_t *w = *state;
    Fluxbus__V1__CaleolSeance s;
    Fluxbus__V1__Address place;
    s_seance(&s, &place, 1);
    assert_int_equal(s_put(w, &s, 1000), FEED_PUT_NEW);
    /* The same revision delivered again: nothing changes. */
    assert_int_equal(s_put(w, &s, 2000), FEED_PUT_SAME);
    icalcomponent *cal = s_calendar(w, NULL);
    assert_int_equal(icalcomponent_get_sequence(s_event(cal, "s-1@fluxbus")), 0);
    icalcomponent_free(cal);

    /* Revision 2 moves the session one hour later. */
    Fluxbus__V1__CaleolSeance moved = s;
    moved.revision = 2;
    moved.status = FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_MODIFIED;
    moved.start_ms += 3600000;
    moved.end_ms += 3600000;
    assert_int_equal(s_put(w, &moved, 3000), FEED_PUT_CHANGED);
    assert_int_equal(s_put(w, &moved, 4000), FEED_PUT_SAME);
    /* Revision 1 arriving late is ignored. */
    assert_int_equal(s_put(w, &s, 5000), FEED_PUT_OLDER);
    /* Revision 2 again with other content: kept as stored. */
    Fluxbus__V1__CaleolSeance liar = moved;
    liar.commission_name = "Autre";
    assert_int_equal(s_put(w, &liar, 6000), FEED_PUT_CONFLICT);

    cal = s_calendar(w, NULL);
    assert_int_equal(s_count_events(cal), 1);
    icalcomponent *ev = s_event(cal, "s-1@fluxbus");
    assert_int_equal(icalcomponent_get_sequence(ev), 1);
    assert_int_equal(icalcomponent_get_status(ev), ICAL_STATUS_CONFIRMED);
    assert_string_equal(icalcomponent_get_summary(ev), "Commission Annecy-Nord");
    s_expect_local(ev, ICAL_DTSTART_PROPERTY, 15, 0);
    icalcomponent_free(cal);
}

static void test_ics_cancellation_is_status_cancelled_with_next_sequence(void **state)
{
    s_world_t *w = *state;
    Fluxbus__V1__CaleolSeance s;
    Fluxbus__V1__Address place;
    s_seance(&s, &place, 1);
    s_put(w, &s, 1000);
    s.revision = 2;
    s.status = FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_CANCELLED;
    assert_int_equal(s_put(w, &s, 2000), FEED_PUT_CHANGED);
    icalcomponent *cal = s_calendar(w, NULL);
    icalcomponent *ev = s_event(cal, "s-1@fluxbus");
    assert_int_equal(icalcomponent_get_status(ev), ICAL_STATUS_CANCELLED);
    assert_int_equal(icalcomponent_get_sequence(ev), 1);
    assert_string_equal(icalcomponent_get_summary(ev), "Annulée : Commission Annecy-Nord");
    assert_non_null(strstr(icalcomponent_get_description(ev), "Séance annulée."));
    icalcomponent_free(cal);
}

static void test_ics_video_session_has_url_and_location(void **state)
{
    s_world_t *w = *state;
    Fluxbus__V1__CaleolSeance s;
    Fluxbus__V1__Address place;
    s_seance(&s, &place, 1);
    s.place = NULL;
    s.video_url = "https://visio.example/caleol?id=42&pin=7,8";
    s_put(w, &s, 1000);
    icalcomponent *cal = s_calendar(w, NULL);
    icalcomponent *ev = s_event(cal, "s-1@fluxbus");
    assert_string_equal(icalcomponent_get_location(ev), s.video_url);
    icalproperty *url = icalcomponent_get_first_property(ev, ICAL_URL_PROPERTY);
    assert_non_null(url);
    assert_string_equal(icalproperty_get_url(url), s.video_url);
    assert_non_null(strstr(icalcomponent_get_description(ev),
                           "Visioconférence : https://visio.example/caleol?id=42&pin=7,8"));
    icalcomponent_free(cal);
}

static void test_ics_same_store_gives_same_bytes_and_survives_reopen(void **state)
{
    s_world_t *w = *state;
    Fluxbus__V1__CaleolSeance s;
    Fluxbus__V1__Address place;
    s_seance(&s, &place, 1);
    s_put_dwelling(w);
    s_put(w, &s, 1000);
    s.revision = 2;
    s.commission_name = "Commission Annecy-Sud";
    s_put(w, &s, 2000);
    char *first = NULL, *second = NULL, *third = NULL;
    icalcomponent_free(s_calendar(w, &first));
    icalcomponent_free(s_calendar(w, &second));
    assert_string_equal(first, second);
    /* A restart reads the same state file: same calendar, same SEQUENCE. */
    s_close_db(w);
    s_open_db(w);
    icalcomponent *cal = s_calendar(w, &third);
    assert_string_equal(first, third);
    assert_int_equal(icalcomponent_get_sequence(s_event(cal, "s-1@fluxbus")), 1);
    /* And it keeps counting from there. */
    s.revision = 3;
    s.status = FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_CANCELLED;
    uint32_t seq = 0;
    feed_put_t put;
    assert_int_equal(feed_store_put_seance(w->store, &s, 3000, &put, &seq), FB_OK);
    assert_int_equal(put, FEED_PUT_CHANGED);
    assert_int_equal(seq, 2);
    icalcomponent_free(cal);
    free(first);
    free(second);
    free(third);
}

static void test_ics_sessions_are_ordered_by_start(void **state)
{
    s_world_t *w = *state;
    Fluxbus__V1__CaleolSeance a, b;
    Fluxbus__V1__Address pa, pb;
    s_seance(&a, &pa, 1);
    s_seance(&b, &pb, 1);
    b.seance_id = "s-0";
    b.start_ms = a.start_ms + 86400000;
    b.end_ms = a.end_ms + 86400000;
    s_put(w, &b, 1000);
    s_put(w, &a, 1000);
    char *text = NULL;
    icalcomponent *cal = s_calendar(w, &text);
    assert_int_equal(s_count_events(cal), 2);
    assert_true(strstr(text, "UID:s-1@fluxbus") < strstr(text, "UID:s-0@fluxbus"));
    icalcomponent_free(cal);
    free(text);
}

static void test_ics_other_zone_and_unknown_zone(void **state)
{
    s_world_t *w = *state;
    char err[256] = "";
    ics_options_t bad = {.timezone = "Europe/Atlantis"};
    assert_null(ics_new(&bad, err, sizeof err));
    assert_non_null(strstr(err, "Europe/Atlantis"));

    ics_options_t cayenne = {.timezone = "America/Cayenne"};
    ics_t *ics = ics_new(&cayenne, err, sizeof err);
    assert_non_null(ics);
    Fluxbus__V1__CaleolSeance s;
    Fluxbus__V1__Address place;
    s_seance(&s, &place, 1);
    s_put(w, &s, 1000);
    size_t len;
    fb_err_t rc;
    char *text = ics_calendar(ics, w->store, &len, &rc);
    assert_non_null(text);
    icalcomponent *cal = icalparser_parse_string(text);
    icalcomponent *ev = s_event(cal, "s-1@fluxbus");
    icalproperty *p = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
    assert_string_equal(
        icalparameter_get_tzid(icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER)),
        "America/Cayenne");
    /* Cayenne is UTC-3 all year. */
    assert_int_equal(icalvalue_get_datetime(icalproperty_get_value(p)).hour, 10);
    icalcomponent_free(cal);
    free(text);
    ics_destroy(&ics);
    ics_destroy(&ics);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ics_one_session_parses_back_with_its_fields, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_ics_summer_time_is_cest, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_ics_sequence_grows_on_change_only, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            test_ics_cancellation_is_status_cancelled_with_next_sequence, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_ics_video_session_has_url_and_location, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_ics_same_store_gives_same_bytes_and_survives_reopen,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_ics_sessions_are_ordered_by_start, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_ics_other_zone_and_unknown_zone, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
