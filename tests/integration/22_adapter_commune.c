/* 22_adapter_commune - the commune adapter (fluxbus-adapter-commune) on the
 * real broker: a bailleur publishes freed dwellings, CALEOL sessions (a
 * revision, a late old revision, a cancellation) and outcomes on the
 * topics of commune 74010; the adapter's calendar, read over HTTP, parses
 * with libical and with python3-icalendar, its SEQUENCE follows the changes
 * and only them, the dwelling feeds show the outcomes and no NUR; killed
 * with SIGKILL and started again, it has everything that was published
 * meanwhile, nothing twice. It also follows a broker restart, and refuses
 * a commune outside its actor's territory. */
#include "adapter_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libical/ical.h>

#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define COMMUNE "commune:74010"
#define NUR "074011925000001"
#define WAIT_MS 10000

#define CANCELLED FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_CANCELLED
#define SCHEDULED FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_SCHEDULED
#define MODIFIED FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_MODIFIED

typedef struct {
    fbt_broker_t b;
    fb_keys_t bailleur, commune;
    fb_client_t *cb;
    fbt_proc_t p;
    unsigned port;
} s_world_t;

/* ---- the world ---- */

/* Starts the adapter and reads its port from the ready line
 * "http://127.0.0.1:PORT/ actor=commune:74010". */
static void s_start_adapter(s_world_t *w)
{
    fbt_proc_start(&w->p, FB_ADAPTER_COMMUNE_BIN, NULL);
    assert_int_equal(sscanf(w->p.ready, "http://127.0.0.1:%u/", &w->port), 1);
    assert_non_null(strstr(w->p.ready, "actor=" COMMUNE));
}

static void s_open(s_world_t *w)
{
    memset(w, 0, sizeof *w);
    fbt_setup(&w->b);
    fbt_actor(&w->b, FBT_BAILLEUR, "bailleur", NULL, &w->bailleur);
    fbt_actor(&w->b, COMMUNE, "commune", "74010", &w->commune);
    fbt_start(&w->b);
    fbt_adapter_config(&w->b, &w->p, "commune", &w->commune,
                       "commune = 74010\nhttp_port = 0\n"
                       "public_url = https://mairie.example/caleol/\n");
    s_start_adapter(w);
    w->cb = fbt_client(&w->b, &w->bailleur);
}

static void s_close(s_world_t *w)
{
    fb_client_destroy(&w->cb);
    if (w->p.pid > 0)
        assert_int_equal(fbt_proc_stop(&w->p, SIGTERM), 0);
    assert_int_equal(fbt_stop(&w->b, SIGTERM), 0);
    fbt_teardown(&w->b);
}

/* ---- messages ---- */

static uint8_t *s_pack(const ProtobufCMessage *m, size_t *len)
{
    uint8_t *out = NULL;
    assert_int_equal(fb_codec_pack(m, &out, len), FB_OK);
    return out;
}

/* ms since the epoch of a UTC date-time. */
static int64_t s_utc_ms(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) * 1000;
}

/* Session `id` at revision `rev`: 12 March 2026 13:00 UTC (14:00 in Paris)
 * plus `shift_h` hours, two hours long, for communes 74010 and 74012, with
 * vac-1 and a vacancy of 74012 on its agenda. */
static uint8_t *s_seance(const char *id, uint32_t rev, int status, int shift_h, size_t *len)
{
    static char *communes[] = {"74010", "74012"};
    static char *vacancies[] = {"vac-1", "vac-other"};
    static char *lines[] = {"Salle du conseil", "1 place de l'Hôtel de Ville"};
    Fluxbus__V1__CaleolSeance s = FLUXBUS__V1__CALEOL_SEANCE__INIT;
    Fluxbus__V1__Address place = FLUXBUS__V1__ADDRESS__INIT;
    place.lines = lines;
    place.n_lines = 2;
    place.postal_code = "74000";
    place.city = "Annecy";
    s.seance_id = (char *)id;
    s.revision = rev;
    s.status = status;
    s.bailleur_siren = "552046955";
    s.commission_name = "CALEOL Annecy-Nord";
    s.start_ms = s_utc_ms(2026, 3, 12, 13, 0) + (int64_t)shift_h * 3600000;
    s.end_ms = s.start_ms + 7200000;
    s.timezone = "Europe/Paris";
    s.place = &place;
    s.video_url = "https://visio.example/caleol-42";
    s.communes_insee = communes;
    s.n_communes_insee = 2;
    s.vacancy_ids = vacancies;
    s.n_vacancy_ids = 2;
    return s_pack(&s.base, len);
}

/* A freed T3 dwelling `vacancy` of commune `insee`. */
static uint8_t *s_logement(const char *vacancy, const char *insee, size_t *len)
{
    static char *lines[] = {"12 rue des Alpes"};
    Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    Fluxbus__V1__Address a = FLUXBUS__V1__ADDRESS__INIT;
    Fluxbus__V1__Date d = FLUXBUS__V1__DATE__INIT;
    a.lines = lines;
    a.n_lines = 1;
    a.postal_code = "74000";
    a.city = "Annecy";
    d.year = 2026;
    d.month = 4;
    d.day = 1;
    l.vacancy_id = (char *)vacancy;
    l.rpls_id = "7401000123";
    l.bailleur_siren = "552046955";
    l.commune_insee = (char *)insee;
    l.address = &a;
    l.qpv = FLUXBUS__V1__QPV_STATUS__QPV_STATUS_OUTSIDE_QPV;
    l.typologie = FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T3;
    l.surface_m2_x100 = 6540;
    l.loyer_cents = 41230;
    l.financement = FLUXBUS__V1__FINANCEMENT__FINANCEMENT_PLUS;
    l.available_on = &d;
    l.mode_gestion = FLUXBUS__V1__MODE_GESTION__MODE_GESTION_FLUX;
    return s_pack(&l.base, len);
}

/* An outcome of vacancy `vacancy` of 74010, its encoding carrying a NUR in
 * an unknown field (as a careless or newer sender might): the feeds must
 * not show it. */
static uint8_t *s_issue(const char *vacancy, int kind, int contingent, size_t *len)
{
    Fluxbus__V1__LogementIssue i = FLUXBUS__V1__LOGEMENT_ISSUE__INIT;
    Fluxbus__V1__Date d = FLUXBUS__V1__DATE__INIT;
    d.year = 2026;
    d.month = 3;
    d.day = 12;
    i.vacancy_id = (char *)vacancy;
    i.commune_insee = "74010";
    i.rpls_id = "7401000123";
    i.issue = kind;
    i.contingent = contingent;
    i.date = &d;
    uint8_t *bytes = s_pack(&i.base, len);
    size_t n = strlen(NUR);
    bytes = realloc(bytes, *len + 3 + n);
    bytes[*len] = 0x9A; /* field 99, length-delimited */
    bytes[*len + 1] = 0x06;
    bytes[*len + 2] = (uint8_t)n;
    memcpy(bytes + *len + 3, NUR, n);
    *len += 3 + n;
    return bytes;
}

/* The bailleur publishes `payload` (taken) on `topic`; asserts accepted. */
static void s_publish(s_world_t *w, int type, const char *topic, uint8_t *payload, size_t len)
{
    const char *const topics[1] = {topic};
    fb_outgoing_t m = {
        .type = type,
        .topics = topics,
        .n_topics = 1,
        .payload = payload,
        .payload_len = len,
    };
    fb_receipt_t rec;
    memset(&rec, 0, sizeof rec);
    fb_err_t err = fb_client_send(w->cb, &m, &rec);
    if (err != FB_OK)
        fail_msg("publish on %s: %s (%s)", topic, fb_err_name(err), rec.detail);
    assert_true(rec.accepted);
    fb_receipt_clear(&rec);
    free(payload);
}

/* ---- HTTP ---- */

typedef struct {
    long status;
    char *body;
    size_t len;
    char etag[128];
    char content_type[128];
    char last_modified[64];
} s_resp_t;

static size_t s_on_body(char *data, size_t size, size_t n, void *ctx)
{
    s_resp_t *r = ctx;
    size_t add = size * n;
    r->body = realloc(r->body, r->len + add + 1);
    memcpy(r->body + r->len, data, add);
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

/* Keeps the value of header `name` ("ETag: ") in out, without CRLF. */
static void s_keep_header(const char *line, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) != 0)
        return;
    size_t v = len - nl;
    while (v && (line[nl + v - 1] == '\r' || line[nl + v - 1] == '\n'))
        v--;
    snprintf(out, cap, "%.*s", (int)v, line + nl);
}

static size_t s_on_header(char *data, size_t size, size_t n, void *ctx)
{
    s_resp_t *r = ctx;
    s_keep_header(data, size * n, "ETag: ", r->etag, sizeof r->etag);
    s_keep_header(data, size * n, "Content-Type: ", r->content_type, sizeof r->content_type);
    s_keep_header(data, size * n, "Last-Modified: ", r->last_modified, sizeof r->last_modified);
    return size * n;
}

/* `method` on the adapter's `path`, with If-None-Match when etag is not
 * NULL. r->body is always a string (free it with s_resp_free). */
static void s_request(const s_world_t *w, const char *method, const char *path, const char *etag,
                      s_resp_t *r)
{
    memset(r, 0, sizeof *r);
    r->body = calloc(1, 1);
    char url[256], inm[200];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", w->port, path);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    struct curl_slist *headers = NULL;
    if (etag) {
        snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
        headers = curl_slist_append(headers, inm);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
}

static void s_resp_free(s_resp_t *r)
{
    free(r->body);
    r->body = NULL;
}

static void s_sleep_ms(int ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* GETs `path` until its body contains `needle` (up to WAIT_MS): the
 * adapter's feed has caught up with what was published. Returns that body
 * (free it). */
static char *s_wait_for(const s_world_t *w, const char *path, const char *needle)
{
    for (int waited = 0;; waited += 20) {
        s_resp_t r;
        s_request(w, "GET", path, NULL, &r);
        if (r.status == 200 && strstr(r.body, needle))
            return r.body;
        if (waited >= WAIT_MS) {
            fprintf(stderr, "%s (status %ld):\n%s\n", path, r.status, r.body);
            s_resp_free(&r);
            fail_msg("%s never showed \"%s\"", path, needle);
        }
        s_resp_free(&r);
        s_sleep_ms(20);
    }
}

/* ---- reading the calendar back ---- */

static icalcomponent *s_parse(const char *ics)
{
    icalcomponent *cal = icalparser_parse_string(ics);
    assert_non_null(cal);
    assert_int_equal(icalcomponent_isa(cal), ICAL_VCALENDAR_COMPONENT);
    return cal;
}

static icalcomponent *s_event(icalcomponent *cal, const char *uid)
{
    for (icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); ev;
         ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
        if (strcmp(icalcomponent_get_uid(ev), uid) == 0)
            return ev;
    fail_msg("no VEVENT %s", uid);
    return NULL;
}

/* Asserts with libical: the session `uid` has this SEQUENCE and STATUS,
 * starts at local hh:00 in TZID Europe/Paris. */
static void s_expect_event(const char *ics, const char *uid, int sequence,
                           enum icalproperty_status status, int hour)
{
    icalcomponent *cal = s_parse(ics);
    icalcomponent *ev = s_event(cal, uid);
    assert_int_equal(icalcomponent_get_sequence(ev), sequence);
    assert_int_equal(icalcomponent_get_status(ev), status);
    icalproperty *start = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
    icalparameter *tzid = icalproperty_get_first_parameter(start, ICAL_TZID_PARAMETER);
    assert_non_null(tzid);
    assert_string_equal(icalparameter_get_tzid(tzid), "Europe/Paris");
    assert_int_equal(icalvalue_get_datetime(icalproperty_get_value(start)).hour, hour);
    icalcomponent_free(cal);
}

/* Runs tests/tools/ics_dump.py (python3-icalendar) on the text; returns
 * its output (static), asserting it parsed. */
static const char *s_python_dump(const s_world_t *w, const char *ics)
{
    static char out[4096];
    char path[512];
    snprintf(path, sizeof path, "%s/caleol.ics", w->b.dir);
    fbt_write_file(path, ics);
    int rc = fbt_sh(out, sizeof out, "/usr/bin/python3 %s/tests/tools/ics_dump.py %s",
                    FB_SOURCE_DIR, path);
    if (rc != 0)
        fail_msg("python3-icalendar could not read the calendar (exit %d):\n%s", rc, ics);
    return out;
}

/* Asserts the adapter's log has `needle`; prints the log when not. */
static void s_expect_log(const fbt_proc_t *p, const char *needle)
{
    if (fbt_proc_log_contains(p, needle))
        return;
    char *log = fbt_read_file(p->log, NULL);
    fprintf(stderr, "---- %s ----\n%s\n----\n", p->log, log ? log : "(none)");
    free(log);
    fail_msg("the adapter's log lacks \"%s\"", needle);
}

static int s_count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The entry of `vacancy` in /logements.json (asserts there is exactly
 * one), as a new reference. */
static json_t *s_feed_entry(const char *json_text, const char *vacancy)
{
    json_error_t error;
    json_t *feed = json_loads(json_text, 0, &error);
    assert_non_null(feed);
    json_t *found = NULL;
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(feed, "logements"), i, entry)
    {
        if (strcmp(json_string_value(json_object_get(entry, "vacancy_id")), vacancy) == 0) {
            assert_null(found);
            found = json_incref(entry);
        }
    }
    json_decref(feed);
    assert_non_null(found);
    return found;
}

/* ---- tests ---- */

static void test_commune_feeds_follow_the_bus_and_survive_sigkill(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    size_t len;

    /* A dwelling of 74010, one of 74012 sent on our topic by mistake, and a
     * session listing both communes. */
    uint8_t *p = s_logement("vac-1", "74010", &len);
    s_publish(&w, T(LOGEMENT_LIBERE), "logements/74010", p, len);
    p = s_logement("vac-other", "74012", &len);
    s_publish(&w, T(LOGEMENT_LIBERE), "logements/74010", p, len);
    p = s_seance("s-1", 1, SCHEDULED, 0, &len);
    s_publish(&w, T(CALEOL_SEANCE), "caleol/74010", p, len);

    char *ics = s_wait_for(&w, "/caleol.ics", "UID:s-1@fluxbus");
    s_expect_event(ics, "s-1@fluxbus", 0, ICAL_STATUS_CONFIRMED, 14);
    icalcomponent *cal = s_parse(ics);
    icalcomponent *ev = s_event(cal, "s-1@fluxbus");
    const char *desc = icalcomponent_get_description(ev);
    assert_non_null(strstr(desc, "T3, 65,4 m², 12 rue des Alpes, 74000 Annecy (commune 74010)"));
    assert_non_null(strstr(desc, "Communes : 74010\n"));
    assert_non_null(strstr(desc, "+ 1 logement de l'ordre du jour hors de ce territoire"));
    assert_non_null(strstr(desc, "Visioconférence : https://visio.example/caleol-42"));
    assert_string_equal(icalcomponent_get_location(ev),
                        "Salle du conseil, 1 place de l'Hôtel de Ville, 74000 Annecy");
    icalcomponent_free(cal);
    assert_non_null(strstr(ics, "SOURCE;VALUE=URI:https://mairie.example/caleol/caleol.ics"));
    const char *py = s_python_dump(&w, ics);
    assert_non_null(strstr(py, "VCALENDAR VERSION=2.0 METHOD=PUBLISH PRODID=-//fluxbus//commune"
                               " adapter//FR TIMEZONES=Europe/Paris"));
    assert_non_null(strstr(py, "VEVENT UID=s-1@fluxbus SEQUENCE=0 STATUS=CONFIRMED"
                               " TZID=Europe/Paris DTSTART=2026-03-12T14:00:00+01:00"));
    free(ics);

    /* What a subscribed calendar client sees: the type, an ETag, the date
     * of the last change, and 304 while nothing changed. */
    s_resp_t r;
    s_request(&w, "GET", "/caleol.ics", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/calendar; charset=utf-8");
    assert_true(strlen(r.etag) > 2);
    assert_non_null(strstr(r.last_modified, " GMT"));
    char etag[128];
    snprintf(etag, sizeof etag, "%s", r.etag);
    s_resp_free(&r);
    s_request(&w, "GET", "/caleol.ics", etag, &r);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.len, 0);
    s_resp_free(&r);
    s_request(&w, "HEAD", "/caleol.ics", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.etag, etag);
    assert_int_equal(r.len, 0);
    s_resp_free(&r);

    /* Revision 2 moves it one hour later; the same revision again, and
     * revision 1 arriving late, change nothing. vac-2 marks when all three
     * were handled. */
    p = s_seance("s-1", 2, MODIFIED, 1, &len);
    s_publish(&w, T(CALEOL_SEANCE), "caleol/74010", p, len);
    p = s_seance("s-1", 2, MODIFIED, 1, &len);
    s_publish(&w, T(CALEOL_SEANCE), "caleol/74010", p, len);
    p = s_seance("s-1", 1, SCHEDULED, 0, &len);
    s_publish(&w, T(CALEOL_SEANCE), "caleol/74010", p, len);
    p = s_logement("vac-2", "74010", &len);
    s_publish(&w, T(LOGEMENT_LIBERE), "logements/74010", p, len);
    free(s_wait_for(&w, "/logements.json", "\"vac-2\""));
    s_request(&w, "GET", "/caleol.ics", etag, &r);
    assert_int_equal(r.status, 200); /* changed since that ETag */
    s_expect_event(r.body, "s-1@fluxbus", 1, ICAL_STATUS_CONFIRMED, 15);
    py = s_python_dump(&w, r.body);
    assert_non_null(strstr(py, "UID=s-1@fluxbus SEQUENCE=1 STATUS=CONFIRMED TZID=Europe/Paris"
                               " DTSTART=2026-03-12T15:00:00+01:00"));
    s_resp_free(&r);

    /* Cancelled. */
    p = s_seance("s-1", 3, CANCELLED, 1, &len);
    s_publish(&w, T(CALEOL_SEANCE), "caleol/74010", p, len);
    ics = s_wait_for(&w, "/caleol.ics", "STATUS:CANCELLED");
    s_expect_event(ics, "s-1@fluxbus", 2, ICAL_STATUS_CANCELLED, 15);
    assert_non_null(strstr(s_python_dump(&w, ics), "UID=s-1@fluxbus SEQUENCE=2 STATUS=CANCELLED"));
    free(ics);

    /* An outcome: attributed to the Action Logement contingent. */
    p = s_issue("vac-1", FLUXBUS__V1__LOGEMENT_ISSUE_KIND__LOGEMENT_ISSUE_KIND_ATTRIBUE,
                FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT, &len);
    s_publish(&w, T(LOGEMENT_ISSUE), "logements/74010", p, len);
    char *json = s_wait_for(&w, "/logements.json", "\"attribue\"");
    json_t *e = s_feed_entry(json, "vac-1");
    assert_string_equal(json_string_value(json_object_get(e, "contingent")), "action_logement");
    assert_string_equal(json_string_value(json_object_get(e, "typologie")), "T3");
    json_decref(e);
    assert_null(strstr(json, "vac-other")); /* 74012's dwelling was left out */
    assert_null(strstr(json, NUR));
    assert_null(strstr(json, "\"nur\""));
    free(json);
    s_request(&w, "GET", "/logements.csv", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/csv; charset=utf-8");
    assert_non_null(strstr(r.body, "vacancy_id;rpls_id;commune_insee;"));
    assert_non_null(strstr(r.body, "\r\nvac-1;7401000123;74010;12 rue des Alpes;74000;Annecy;T3;"
                                   "65,4;412,30;;PLUS;outside_qpv;;01/04/2026;flux;non;attribue;"
                                   "action_logement;12/03/2026\r\n"));
    assert_null(strstr(r.body, NUR));
    s_resp_free(&r);
    s_expect_log(&w.p, "logement vacancy_id=vac-other left out: commune 74012 is not ours");

    /* Errors: unknown path, other methods. */
    s_request(&w, "GET", "/nope", NULL, &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "\"error\": \"not_found\""));
    s_resp_free(&r);
    s_request(&w, "POST", "/caleol.ics", NULL, &r);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.body, "\"error\": \"method_not_allowed\""));
    s_resp_free(&r);

    /* SIGKILL; while the adapter is down a second session and the lease
     * are published; started again, it has everything, nothing twice. */
    assert_int_equal(fbt_proc_stop(&w.p, SIGKILL), 128 + SIGKILL);
    p = s_seance("s-2", 1, SCHEDULED, 48, &len);
    s_publish(&w, T(CALEOL_SEANCE), "caleol/74010", p, len);
    p = s_issue("vac-1", FLUXBUS__V1__LOGEMENT_ISSUE_KIND__LOGEMENT_ISSUE_KIND_BAIL_SIGNE,
                FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT, &len);
    s_publish(&w, T(LOGEMENT_ISSUE), "logements/74010", p, len);
    s_start_adapter(&w);

    ics = s_wait_for(&w, "/caleol.ics", "UID:s-2@fluxbus");
    assert_int_equal(s_count(ics, "BEGIN:VEVENT"), 2);
    assert_int_equal(s_count(ics, "UID:s-1@fluxbus"), 1);
    assert_int_equal(s_count(ics, "BEGIN:VTIMEZONE"), 1);
    s_expect_event(ics, "s-1@fluxbus", 2, ICAL_STATUS_CANCELLED, 15);
    s_expect_event(ics, "s-2@fluxbus", 0, ICAL_STATUS_CONFIRMED, 14);
    py = s_python_dump(&w, ics);
    assert_non_null(strstr(py, "UID=s-1@fluxbus SEQUENCE=2 STATUS=CANCELLED"));
    assert_non_null(strstr(py, "UID=s-2@fluxbus SEQUENCE=0 STATUS=CONFIRMED TZID=Europe/Paris"
                               " DTSTART=2026-03-14T14:00:00+01:00"));
    assert_int_equal(s_count(py, "VEVENT "), 2);
    free(ics);
    json = s_wait_for(&w, "/logements.json", "\"bail_signe\"");
    e = s_feed_entry(json, "vac-1");
    assert_string_equal(json_string_value(json_object_get(e, "outcome")), "bail_signe");
    assert_int_equal(json_array_size(json_object_get(e, "history")), 2);
    json_decref(e);
    json_decref(s_feed_entry(json, "vac-2"));
    assert_null(strstr(json, NUR));
    free(json);
    s_close(&w);
}

static void test_commune_adapter_follows_a_broker_restart(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    fb_client_destroy(&w.cb);
    assert_int_equal(fbt_stop(&w.b, SIGTERM), 0);
    /* The feeds are served while the broker is away. */
    s_resp_t r;
    s_request(&w, "GET", "/caleol.ics", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "BEGIN:VCALENDAR"));
    s_resp_free(&r);
    fbt_start(&w.b);
    w.cb = fbt_client(&w.b, &w.bailleur);
    size_t len;
    /* The dwellings on the agenda, freed first (the ledger refuses a
     * session listing a vacancy it has never seen). */
    uint8_t *p = s_logement("vac-1", "74010", &len);
    s_publish(&w, T(LOGEMENT_LIBERE), "logements/74010", p, len);
    p = s_logement("vac-other", "74012", &len);
    s_publish(&w, T(LOGEMENT_LIBERE), "logements/74010", p, len);
    p = s_seance("s-9", 1, SCHEDULED, 0, &len);
    s_publish(&w, T(CALEOL_SEANCE), "caleol/74010", p, len);
    free(s_wait_for(&w, "/caleol.ics", "UID:s-9@fluxbus"));
    s_close(&w);
}

static void test_commune_adapter_exits_on_a_foreign_commune_a_bad_code_or_a_busy_port(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    assert_int_equal(fbt_proc_stop(&w.p, SIGTERM), 0); /* one connection per actor here */
    /* 74011 is not in commune:74010's territory: the broker refuses the
     * subscription and the adapter stops with a configuration error (exit
     * 2) rather than serve a feed that stays empty. */
    fbt_proc_t other;
    fbt_adapter_config(&w.b, &other, "commune-bad", &w.commune,
                       "commune = 74010\ncommune = 74011\nhttp_port = 0\n");
    int rc = fbt_sh(NULL, 0, "%s --config %s >/dev/null 2>%s", FB_ADAPTER_COMMUNE_BIN, other.config,
                    other.log);
    assert_int_equal(rc, 2);
    s_expect_log(&other, "subscription refused topic=caleol/74011");
    /* A malformed INSEE code is a configuration error found before any
     * connection; so is a port in use (exit 3: cannot start). */
    fbt_adapter_config(&w.b, &other, "commune-typo", &w.commune, "commune = 7401\n");
    rc = fbt_sh(NULL, 0, "%s --config %s >/dev/null 2>%s", FB_ADAPTER_COMMUNE_BIN, other.config,
                other.log);
    assert_int_equal(rc, 2);
    s_expect_log(&other, "commune \"7401\": not an INSEE code");

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    fbt_adapter_config(&w.b, &other, "commune-port", &w.commune,
                       "commune = 74010\nhttp_port = %u\n", (unsigned)ntohs(sa.sin_port));
    rc = fbt_sh(NULL, 0, "%s --config %s >/dev/null 2>%s", FB_ADAPTER_COMMUNE_BIN, other.config,
                other.log);
    close(fd);
    assert_int_equal(rc, 3);
    s_expect_log(&other, "cannot listen on 127.0.0.1:");
    s_close(&w);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commune_feeds_follow_the_bus_and_survive_sigkill),
        cmocka_unit_test(test_commune_adapter_follows_a_broker_restart),
        cmocka_unit_test(test_commune_adapter_exits_on_a_foreign_commune_a_bad_code_or_a_busy_port),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
