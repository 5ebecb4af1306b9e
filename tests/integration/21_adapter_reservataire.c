/* 21_adapter_reservataire - a réservataire platform on the bus through
 * fluxbus-adapter-reservataire: the real broker, a bailleur client, the
 * adapter binary with its HTTP API, webhook and spool directory.
 *
 * The bailleur orients vacancies; the platform sees them in GET /offers
 * with their deadline. Bad bodies come back 4xx naming the field and send
 * nothing. Three ranked candidates reach the bailleur as three
 * Designations whose households open with the bailleur's key only; the
 * same POST again sends nothing new. A remise, an ack and a decline reach
 * the bailleur. CALEOL decisions and answers appear in GET /events and at
 * a webhook that refuses the first attempt. The adapter killed with
 * SIGKILL and restarted loses and duplicates nothing. The spool mode
 * handles request files into done/ or rejected/ and writes events to
 * outbox/; while the broker is down a request is queued (202) and sent
 * once it is back. */
#define _GNU_SOURCE /* strcasestr */
#include "adapter_harness.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <jansson.h>

#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define QUIET_MS 400  /* "the bailleur receives nothing": wait this long */
#define WAIT_MS 15000 /* longest wait for a condition */
#define S_TOKEN "platform-token-0123456789abcdef"
#define S_HOOK_TOKEN "webhook-token-fedcba9876543210"
#define S_CONV "conv-2026-74-al"
#define VAC_A "vac-2026-0101"
#define VAC_B "vac-2026-0102"
#define VAC_C "vac-2026-0103"
#define VAC_D "vac-2026-0104"
#define VAC_E "vac-2026-0105"
#define NUR1 "074011925000001"
#define NUR2 "074011925000002"
#define NUR3 "074011925000003"

/* ---------------------------------------------------------------- webhook receiver */

/* A tiny HTTP server on 127.0.0.1 standing for the platform's webhook: it
 * answers 500 to the first request when fail_first is set, 200 after, and
 * keeps the bodies it answered 200 to. */
typedef struct {
    int fd;
    unsigned port;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int stop;
    int fail_first;
    int attempts;
    json_t *delivered;
    char auth[256];
} s_hook_t;

/* Reads one request (headers, then Content-Length bytes of body). */
static int s_hook_read(int fd, char *buf, size_t cap, char **body)
{
    size_t used = 0;
    char *end = NULL;
    while (!end) {
        struct pollfd p = {fd, POLLIN, 0};
        if (used + 1 >= cap || poll(&p, 1, 5000) <= 0)
            return -1;
        ssize_t n = read(fd, buf + used, cap - 1 - used);
        if (n <= 0)
            return -1;
        used += (size_t)n;
        buf[used] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    const char *cl = strcasestr(buf, "\r\ncontent-length:");
    size_t want = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 17, NULL, 10) : 0);
    while (used < want) {
        struct pollfd p = {fd, POLLIN, 0};
        if (want >= cap || poll(&p, 1, 5000) <= 0)
            return -1;
        ssize_t n = read(fd, buf + used, cap - 1 - used);
        if (n <= 0)
            return -1;
        used += (size_t)n;
        buf[used] = '\0';
    }
    *body = end + 4;
    return 0;
}

static void s_hook_serve(s_hook_t *h, int conn)
{
    static char buf[1 << 20];
    char *body = NULL;
    if (s_hook_read(conn, buf, sizeof buf, &body) != 0)
        return;
    pthread_mutex_lock(&h->mu);
    int status = h->fail_first && h->attempts == 0 ? 500 : 200;
    h->attempts++;
    const char *auth = strcasestr(buf, "\r\nauthorization: ");
    if (auth)
        snprintf(h->auth, sizeof h->auth, "%.*s", (int)strcspn(auth + 17, "\r"), auth + 17);
    if (status == 200)
        json_array_append_new(h->delivered, json_loads(body, 0, NULL));
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    char answer[128];
    int n = snprintf(answer, sizeof answer,
                     "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status,
                     status == 200 ? "OK" : "Internal Server Error");
    if (write(conn, answer, (size_t)n) < 0)
        perror("webhook receiver write");
}

static void *s_hook_main(void *arg)
{
    s_hook_t *h = arg;
    while (!atomic_load(&h->stop)) {
        struct pollfd p = {h->fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        int conn = accept(h->fd, NULL, NULL);
        if (conn < 0)
            continue;
        s_hook_serve(h, conn);
        close(conn);
    }
    return NULL;
}

static void s_hook_start(s_hook_t *h, int fail_first)
{
    memset(h, 0, sizeof *h);
    h->fail_first = fail_first;
    h->delivered = json_array();
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    h->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(h->fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(h->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(h->fd, 8), 0);
    socklen_t len = sizeof sa;
    assert_int_equal(getsockname(h->fd, (struct sockaddr *)&sa, &len), 0);
    h->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&h->thread, NULL, s_hook_main, h), 0);
}

static void s_hook_stop(s_hook_t *h)
{
    atomic_store(&h->stop, 1);
    pthread_join(h->thread, NULL);
    close(h->fd);
    json_decref(h->delivered);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
}

/* Waits until n events were delivered; returns how many were. */
static size_t s_hook_wait(s_hook_t *h, size_t n, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    pthread_mutex_lock(&h->mu);
    while (json_array_size(h->delivered) < n && pthread_cond_timedwait(&h->cv, &h->mu, &until) == 0)
        ;
    size_t got = json_array_size(h->delivered);
    pthread_mutex_unlock(&h->mu);
    return got;
}

/* ---------------------------------------------------------------- the world */

typedef struct {
    fbt_broker_t b;
    fb_keys_t bailleur, resa;
    fb_client_t *cb;
    fbt_proc_t ad;
    char base[128]; /* "http://127.0.0.1:PORT" */
    char spool[400];
    s_hook_t hook;
    int with_hook;
} s_world_t;

/* The adapter's base URL from its ready line ("http://127.0.0.1:PORT/"). */
static void s_read_base(s_world_t *w)
{
    const char *url = strstr(w->ad.ready, "http://");
    assert_non_null(url);
    size_t n = strcspn(url, " \n");
    while (n > 0 && url[n - 1] == '/')
        n--;
    snprintf(w->base, sizeof w->base, "%.*s", (int)n, url);
}

/* Broker, bailleur and réservataire, their convention (S_CONV), the adapter
 * started with the webhook (failing its first attempt) or with a spool
 * directory. */
static void s_world_open(s_world_t *w, int with_hook, int with_spool)
{
    memset(w, 0, sizeof *w);
    fbt_setup(&w->b);
    /* The broker's DecompteDroits (60 s after a change by default) would
     * land among the deliveries this test counts when it runs slowly: they
     * are test 34's. */
    w->b.args[0] = "--decompte-interval-s";
    w->b.args[1] = "86400";
    fbt_actor(&w->b, FBT_BAILLEUR, "bailleur", NULL, &w->bailleur);
    fbt_actor(&w->b, FBT_RESA, "reservataire", NULL, &w->resa);
    fbt_start(&w->b);
    w->cb = fbt_client(&w->b, &w->bailleur);
    fbt_convention(w->cb, S_CONV, FBT_RESA, NULL);
    char extra[2048];
    int n = snprintf(extra, sizeof extra, "http_port = 0\napi_token = %s\n", S_TOKEN);
    w->with_hook = with_hook;
    if (with_hook) {
        s_hook_start(&w->hook, 1);
        n += snprintf(extra + n, sizeof extra - (size_t)n,
                      "webhook_url = http://127.0.0.1:%u/hook\nwebhook_token = %s\n"
                      "webhook_retry_max_s = 2\n",
                      w->hook.port, S_HOOK_TOKEN);
    }
    if (with_spool) {
        snprintf(w->spool, sizeof w->spool, "%s/spool", w->b.dir);
        snprintf(extra + n, sizeof extra - (size_t)n, "spool = %s\n", w->spool);
    }
    fbt_adapter_config(&w->b, &w->ad, "resa", &w->resa, "%s", extra);
    fbt_proc_start(&w->ad, FB_ADAPTER_RESERVATAIRE_BIN, NULL);
    s_read_base(w);
}

static void s_world_close(s_world_t *w)
{
    assert_int_equal(fbt_proc_stop(&w->ad, SIGTERM), 0);
    fb_client_destroy(&w->cb);
    if (w->b.pid > 0)
        assert_int_equal(fbt_stop(&w->b, SIGTERM), 0);
    if (w->with_hook)
        s_hook_stop(&w->hook);
    fbt_teardown(&w->b);
}

/* ---------------------------------------------------------------- bailleur side */

/* The bailleur sends `m` of `type` to the réservataire about `vacancy`. */
static void s_bailleur_sends(s_world_t *w, int type, const ProtobufCMessage *m, const char *vacancy)
{
    uint8_t *payload = NULL;
    size_t len = 0;
    assert_int_equal(fb_codec_pack(m, &payload, &len), FB_OK);
    const char *const to[1] = {FBT_RESA};
    fb_outgoing_t out = {.type = type,
                         .recipients = to,
                         .n_recipients = 1,
                         .correlation_id = vacancy,
                         .payload = payload,
                         .payload_len = len};
    fb_receipt_t r;
    assert_int_equal(fb_client_send(w->cb, &out, &r), FB_OK);
    assert_true(r.accepted);
    fb_receipt_clear(&r);
    free(payload);
}

static int64_t s_orient(s_world_t *w, const char *vacancy, uint32_t round);

/* A freed dwelling and its orientation to the réservataire. */
static int64_t s_offer(s_world_t *w, const char *vacancy)
{
    size_t len = 0;
    uint8_t *logement = fbt_logement(vacancy, "74010", &len);
    Fluxbus__V1__LogementLibere *l = NULL;
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__logement_libere__descriptor, logement, len,
                                     FB_DEFAULT_MAX_ENVELOPE, (ProtobufCMessage **)&l),
                     FB_OK);
    s_bailleur_sends(w, T(LOGEMENT_LIBERE), &l->base, vacancy);
    fb_codec_free(&l->base);
    free(logement);
    return s_orient(w, vacancy, 1);
}

/* An orientation (round 1, or again after a decline or refusals). */
static int64_t s_orient(s_world_t *w, const char *vacancy, uint32_t round)
{
    Fluxbus__V1__Orientation o = FLUXBUS__V1__ORIENTATION__INIT;
    o.vacancy_id = (char *)vacancy;
    o.convention_id = S_CONV;
    o.reservataire_actor_id = FBT_RESA;
    o.deadline_ms = (fb_now_ms() / 1000 + 7 * 86400) * 1000;
    o.candidates_expected = 3;
    o.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    o.round = round;
    s_bailleur_sends(w, T(ORIENTATION), &o.base, vacancy);
    return o.deadline_ms;
}

/* The next delivery to the bailleur, of `type`; its payload unpacked into
 * *payload (fb_codec_free it). */
static fb_delivery_t *s_bailleur_receives(s_world_t *w, int type, ProtobufCMessage **payload)
{
    fb_delivery_t *d = fbt_recv_ack(w->cb, WAIT_MS);
    assert_non_null(d);
    if ((int)d->body->type != type) { /* say what came instead (a rare failure under load) */
        const fb_catalog_entry_t *got = fb_catalog_by_type((int)d->body->type);
        print_error("the bailleur received %s from %s (store seq %llu) where it waited for %s\n",
                    got ? got->name : "?", d->body->sender, (unsigned long long)d->store_seq,
                    fb_catalog_by_type(type)->name);
    }
    assert_int_equal(d->body->type, type);
    assert_string_equal(d->body->sender, FBT_RESA);
    const fb_catalog_entry_t *e = fb_catalog_by_type(type);
    assert_int_equal(fb_codec_unpack(e->desc, d->body->payload.data, d->body->payload.len,
                                     FB_DEFAULT_MAX_ENVELOPE, payload),
                     FB_OK);
    return d;
}

/* ---------------------------------------------------------------- platform side */

/* One API call; the JSON answer in *out (may be NULL when not wanted). */
static int s_call(const s_world_t *w, const char *method, const char *path, const char *token,
                  const char *body, json_t **out)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", w->base, path);
    char *text = NULL;
    int status = fbt_http(method, url, token, body, &text);
    if (out) {
        *out = json_loads(text ? text : "", JSON_DECODE_ANY, NULL);
        if (!*out)
            fail_msg("%s %s: %d, not JSON: %s", method, path, status, text ? text : "");
    }
    free(text);
    return status;
}

static json_t *s_get(const s_world_t *w, const char *path)
{
    json_t *j = NULL;
    int status = s_call(w, "GET", path, S_TOKEN, NULL, &j);
    if (status != 200)
        fail_msg("GET %s: %d", path, status);
    return j;
}

/* A refused request: its status and the field its error names; and that
 * the bailleur received nothing is checked by the caller. */
static void s_expect_error(const s_world_t *w, const char *method, const char *path,
                           const char *token, const char *body, int status, const char *field)
{
    json_t *j = NULL;
    int got = s_call(w, method, path, token, body, &j);
    const char *named = json_string_value(json_object_get(j, "field"));
    if (got != status || (field ? !named || strcmp(named, field) != 0 : named != NULL))
        fail_msg("%s %s: %d field %s (%s), expected %d field %s", method, path, got,
                 named ? named : "null", json_string_value(json_object_get(j, "message")), status,
                 field ? field : "null");
    assert_non_null(json_string_value(json_object_get(j, "error")));
    json_decref(j);
}

static const char *s_str(const json_t *j, const char *name)
{
    const char *s = json_string_value(json_object_get(j, name));
    return s ? s : "";
}

/* Waits until offer `vacancy` is in `state`. */
static void s_wait_state(const s_world_t *w, const char *vacancy, const char *state)
{
    char path[256], last[32] = "";
    snprintf(path, sizeof path, "/offers/%s", vacancy);
    for (int waited = 0; waited < WAIT_MS; waited += 20) {
        json_t *j = NULL;
        if (s_call(w, "GET", path, S_TOKEN, NULL, &j) == 200) {
            snprintf(last, sizeof last, "%s", s_str(j, "state"));
            json_decref(j);
            if (strcmp(last, state) == 0)
                return;
        } else {
            json_decref(j);
        }
        usleep(20000); /* polling the API: the platform's view, no event to wait on */
    }
    fail_msg("offer %s: state \"%s\", expected \"%s\"", vacancy, last, state);
}

/* Waits until GET /events lists n events; returns them. */
static json_t *s_wait_events(const s_world_t *w, size_t n)
{
    for (int waited = 0;; waited += 20) {
        json_t *events = s_get(w, "/events?limit=1000");
        if (json_array_size(events) >= n || waited >= WAIT_MS)
            return events;
        json_decref(events);
        usleep(20000); /* as above */
    }
}

/* ---------------------------------------------------------------- bodies */

static const char s_good[] =
    "{\"candidates\": ["
    " {\"rank\": 1, \"nur\": \"" NUR1 "\", \"dalo\": true, \"quartile\": \"Q1\","
    "  \"household_size\": 3, \"household\": {\"members\": ["
    "   {\"role\": \"DEMANDEUR\", \"given_name\": \"Elodie\", \"family_name\": \"Marchetti\","
    "    \"birth_date\": \"1991-04-17\", \"annual_resources_cents\": 1984000},"
    "   {\"role\": \"ENFANT\", \"given_name\": \"Leo\", \"family_name\": \"Marchetti\"}],"
    "   \"email\": \"elodie.marchetti@example.invalid\","
    "   \"priority_grounds\": [\"SUROCCUPATION\"]}},"
    " {\"rank\": 2, \"nur\": \"" NUR2 "\", \"quartile\": \"Q2\", \"household_size\": 2,"
    "  \"household\": {\"members\": [{\"role\": \"DEMANDEUR\", \"given_name\": \"Karim\","
    "   \"family_name\": \"Ouedraogo\"}]}},"
    " {\"rank\": 3, \"nur\": \"" NUR3 "\", \"quartile\": \"QUARTILE_Q1\", \"household_size\": 1,"
    "  \"household\": {\"members\": [{\"role\": \"HOUSEHOLD_ROLE_DEMANDEUR\","
    "   \"given_name\": \"Jeanne\", \"family_name\": \"Delorme-Vidal\"}]}}]}";

static const char *const s_families[3] = {"Marchetti", "Ouedraogo", "Delorme-Vidal"};
static const char *const s_nurs[3] = {NUR1, NUR2, NUR3};

/* The three Designations of s_good reach the bailleur: ranked, counted,
 * credited to the réservataire, each household opening with the
 * bailleur's key into what was posted; their ids are the answer's. */
static void s_expect_designations(s_world_t *w, const char *vacancy, const json_t *answer)
{
    const json_t *msgs = json_object_get(answer, "messages");
    assert_int_equal(json_array_size(msgs), 3);
    int seen[3] = {0};
    for (int i = 0; i < 3; i++) {
        ProtobufCMessage *m = NULL;
        fb_delivery_t *d = s_bailleur_receives(w, T(DESIGNATION), &m);
        const Fluxbus__V1__Designation *des = (const Fluxbus__V1__Designation *)m;
        assert_true(des->rank >= 1 && des->rank <= 3);
        int r = (int)des->rank - 1;
        assert_false(seen[r]);
        seen[r] = 1;
        assert_string_equal(des->vacancy_id, vacancy);
        assert_string_equal(des->convention_id, S_CONV);
        assert_int_equal(des->candidate_count, 3);
        assert_string_equal(des->nur, s_nurs[r]);
        assert_string_equal(des->designating_actor_id, FBT_RESA);
        assert_string_equal(des->credited_reservataire_actor_id, FBT_RESA);
        assert_string_equal(des->sealed_for_key_id, w->bailleur.enc_key_id);
        assert_int_equal(des->dalo, r == 0);
        assert_int_equal(des->household_size, 3 - r);
        assert_string_equal(d->body->correlation_id, vacancy);
        assert_int_equal(d->body->in_reply_to.len, FB_MESSAGE_ID_BYTES); /* the Orientation */
        char hex[2 * FB_MESSAGE_ID_BYTES + 1];
        fb_hex_encode(d->body->message_id.data, FB_MESSAGE_ID_BYTES, hex);
        assert_string_equal(hex, s_str(json_array_get(msgs, (size_t)r), "message_id"));

        Fluxbus__V1__HouseholdDetails *hh = NULL;
        assert_int_equal(fb_seal_open_delivery(d->envelope, d->envelope_len, &w->bailleur, &hh),
                         FB_OK);
        assert_string_equal(hh->nur, s_nurs[r]);
        assert_string_equal(hh->members[0]->family_name, s_families[r]);
        if (r == 0) {
            assert_string_equal(hh->email, "elodie.marchetti@example.invalid");
            assert_int_equal(hh->members[0]->birth_date->year, 1991);
            assert_int_equal(hh->priority_grounds[0],
                             FLUXBUS__V1__PRIORITY_GROUND__PRIORITY_GROUND_SUROCCUPATION);
        }
        fb_seal_household_free(hh);
        /* Not with the réservataire's own key. */
        assert_int_not_equal(fb_seal_open_delivery(d->envelope, d->envelope_len, &w->resa, &hh),
                             FB_OK);
        fb_codec_free(m);
        fb_delivery_destroy(&d);
    }
}

/* Event ids strictly increase, message ids are unique. */
static void s_expect_well_ordered(const json_t *events)
{
    json_int_t last = 0;
    for (size_t i = 0; i < json_array_size(events); i++) {
        const json_t *e = json_array_get(events, i);
        json_int_t id = json_integer_value(json_object_get(e, "id"));
        assert_true(id > last);
        last = id;
        const char *mid = s_str(json_object_get(e, "message"), "message_id");
        assert_true(*mid);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(
                mid, s_str(json_object_get(json_array_get(events, j), "message"), "message_id"));
    }
}

/* ---------------------------------------------------------------- tests */

static void test_platform_designates_and_follows_events_through_http(void **state)
{
    s_world_t w;
    s_world_open(&w, 1, 0);
    int64_t deadline = s_offer(&w, VAC_A);
    s_offer(&w, VAC_B);
    s_wait_state(&w, VAC_B, "oriente");

    /* GET /offers: both, with the dwelling and the deadline. */
    json_t *offers = s_get(&w, "/offers");
    assert_int_equal(json_array_size(offers), 2);
    const json_t *a = json_array_get(offers, 0);
    assert_string_equal(s_str(a, "vacancy_id"), VAC_A);
    assert_string_equal(s_str(a, "state"), "oriente");
    assert_true(json_is_true(json_object_get(a, "open")));
    assert_string_equal(s_str(a, "bailleur"), FBT_BAILLEUR);
    assert_string_equal(s_str(a, "convention_id"), S_CONV);
    assert_int_equal(json_integer_value(json_object_get(a, "deadline_ms")), deadline);
    char iso[32];
    time_t secs = (time_t)(deadline / 1000);
    strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S.000Z", gmtime(&secs));
    assert_string_equal(s_str(a, "deadline"), iso);
    assert_int_equal(json_integer_value(json_object_get(a, "candidates_expected")), 3);
    assert_string_equal(s_str(json_object_get(a, "logement"), "commune_insee"), "74010");
    assert_string_equal(s_str(json_object_get(a, "logement"), "typologie"), "TYPOLOGIE_T3");
    json_decref(offers);
    offers = s_get(&w, "/offers?state=open");
    assert_int_equal(json_array_size(offers), 2);
    json_decref(offers);

    /* Refusals name the field, and nothing reaches the bailleur. */
    const char *des = "/offers/" VAC_A "/designations";
    s_expect_error(&w, "GET", "/offers", NULL, NULL, 401, "Authorization");
    s_expect_error(&w, "GET", "/offers", "wrong-token", NULL, 401, "Authorization");
    s_expect_error(&w, "POST", des, NULL, s_good, 401, "Authorization");
    s_expect_error(&w, "POST", des, "wrong-token", s_good, 401, "Authorization");
    s_expect_error(&w, "GET", "/offers?state=someday", S_TOKEN, NULL, 400, "state");
    s_expect_error(&w, "POST", des, S_TOKEN, "candidates: three", 400, "body");
    s_expect_error(&w, "POST", des, S_TOKEN,
                   "{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                   "\", \"household_size\": 1}, {\"rank\": 2, \"household_size\": 2}]}",
                   422, "candidates[1].nur");
    /* A NUR the SNE would refuse is refused here, with the SNE's reason. */
    json_t *refusal = NULL;
    assert_int_equal(s_call(&w, "POST", des, S_TOKEN,
                            "{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                            "\", \"household_size\": 1}, {\"rank\": 2, \"nur\": "
                            "\"0740122000123456782\", \"household_size\": 1}]}",
                            &refusal),
                     422);
    assert_string_equal(s_str(refusal, "field"), "candidates[1].nur");
    assert_non_null(strstr(s_str(refusal, "message"), "19 characters, a NUR has 15"));
    json_decref(refusal);
    s_expect_error(&w, "POST", des, S_TOKEN,
                   "{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                   "\", \"household_size\": 1}, {\"rank\": 1, \"nur\": \"" NUR2
                   "\", \"household_size\": 2}]}",
                   422, "candidates[1].rank");
    s_expect_error(&w, "POST", des, S_TOKEN,
                   "{\"candidates\": ["
                   "{\"rank\": 1, \"nur\": \"" NUR1 "\", \"household_size\": 1},"
                   "{\"rank\": 2, \"nur\": \"" NUR2 "\", \"household_size\": 1},"
                   "{\"rank\": 3, \"nur\": \"" NUR3 "\", \"household_size\": 1},"
                   "{\"rank\": 4, \"nur\": \"074011925000004\", \"household_size\": 1}]}",
                   422, "candidates");
    s_expect_error(&w, "POST", des, S_TOKEN,
                   "{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                   "\", \"household_size\": 1, \"quartile\": \"Q9\"}]}",
                   422, "candidates[0].quartile");
    s_expect_error(&w, "POST", des, S_TOKEN,
                   "{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                   "\", \"household_size\": 1, \"household\": {\"members\": [{\"birth_date\": "
                   "\"1990-02-30\"}]}}]}",
                   422, "candidates[0].household.members[0].birth_date");
    s_expect_error(&w, "POST", "/offers/vac-unknown/designations", S_TOKEN, s_good, 404,
                   "vacancy_id");
    s_expect_error(&w, "POST", "/offers/" VAC_B "/remise", S_TOKEN, "{\"reason\": \"BORED\"}", 422,
                   "reason");
    s_expect_error(&w, "GET", des, S_TOKEN, NULL, 405, NULL);
    s_expect_error(&w, "GET", "/nowhere", S_TOKEN, NULL, 404, NULL);
    fbt_expect_nothing(w.cb, QUIET_MS);

    /* Three ranked candidates: 201, three sealed Designations. */
    json_t *answer = NULL;
    assert_int_equal(s_call(&w, "POST", des, S_TOKEN, s_good, &answer), 201);
    assert_false(json_is_true(json_object_get(answer, "duplicate")));
    assert_string_equal(s_str(answer, "state"), "designe");
    s_expect_designations(&w, VAC_A, answer);

    /* The same POST again: the same messages, nothing new on the bus. */
    json_t *again = NULL;
    assert_int_equal(s_call(&w, "POST", des, S_TOKEN, s_good, &again), 200);
    assert_true(json_is_true(json_object_get(again, "duplicate")));
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(
            s_str(json_array_get(json_object_get(again, "messages"), i), "message_id"),
            s_str(json_array_get(json_object_get(answer, "messages"), i), "message_id"));
    fbt_expect_nothing(w.cb, QUIET_MS);
    json_decref(again);
    json_decref(answer);
    /* Other candidates for an offer already designated: 409. */
    s_expect_error(&w, "POST", des, S_TOKEN,
                   "{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR3
                   "\", \"household_size\": 1}], \"fewer_candidates_reason\": \"OTHER\","
                   " \"fewer_candidates_text\": \"un seul ménage\"}",
                   409, "state");
    json_t *offer = s_get(&w, "/offers/" VAC_A);
    assert_string_equal(s_str(offer, "state"), "designe");
    assert_int_equal(json_array_size(json_object_get(offer, "designations")), 3);
    json_decref(offer);

    /* The other offer is handed back. */
    assert_int_equal(s_call(&w, "POST", "/offers/" VAC_B "/remise", S_TOKEN,
                            "{\"reason\": \"NO_CANDIDATE\", \"comment\": \"aucun salarie\","
                            " \"reprise_pour_une_seule_mise_en_location\": true}",
                            &answer),
                     201);
    json_decref(answer);
    ProtobufCMessage *m = NULL;
    fb_delivery_t *d = s_bailleur_receives(&w, T(REMISE_A_DISPOSITION), &m);
    const Fluxbus__V1__RemiseADisposition *rem = (const Fluxbus__V1__RemiseADisposition *)m;
    assert_string_equal(rem->vacancy_id, VAC_B);
    assert_string_equal(rem->convention_id, S_CONV);
    assert_int_equal(rem->reason, FLUXBUS__V1__REMISE_REASON__REMISE_REASON_NO_CANDIDATE);
    assert_true(rem->reprise_pour_une_seule_mise_en_location);
    fb_codec_free(m);
    fb_delivery_destroy(&d);
    s_expect_error(&w, "POST", "/offers/" VAC_B "/remise", S_TOKEN,
                   "{\"reason\": \"OTHER\", \"comment\": \"encore\"}", 409, "state");

    /* The CALEOL decides, the household accepts: events, state. */
    Fluxbus__V1__CaleolDecision dec = FLUXBUS__V1__CALEOL_DECISION__INIT;
    dec.seance_id = "caleol-2026-03";
    dec.vacancy_id = VAC_A;
    dec.nur = NUR1;
    dec.rank = 1;
    dec.designataire_actor_id = FBT_RESA;
    dec.decision = FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION;
    dec.decided_ms = fb_now_ms();
    dec.revision = 1;
    s_bailleur_sends(&w, T(CALEOL_DECISION), &dec.base, VAC_A);
    Fluxbus__V1__PropositionReponse rep = FLUXBUS__V1__PROPOSITION_REPONSE__INIT;
    rep.vacancy_id = VAC_A;
    rep.nur = NUR1;
    rep.answer = FLUXBUS__V1__PROPOSITION_ANSWER__PROPOSITION_ANSWER_ACCEPTEE;
    rep.answered_ms = fb_now_ms();
    s_bailleur_sends(&w, T(PROPOSITION_REPONSE), &rep.base, VAC_A);
    s_wait_state(&w, VAC_A, "accepte");

    /* The convention the bailleur sent first is the first event. */
    static const char *const types[] = {
        "Convention",         "LogementLibere", "Orientation",        "LogementLibere",
        "Orientation",        "Designation",    "Designation",        "Designation",
        "RemiseADisposition", "CaleolDecision", "PropositionReponse", "BailSigne"};
    json_t *events = s_wait_events(&w, 11);
    assert_int_equal(json_array_size(events), 11);
    s_expect_well_ordered(events);
    for (size_t i = 0; i < 11; i++)
        assert_string_equal(s_str(json_array_get(events, i), "type"), types[i]);
    const json_t *decided = json_array_get(events, 9);
    assert_string_equal(s_str(decided, "direction"), "received");
    assert_string_equal(s_str(decided, "vacancy_id"), VAC_A);
    assert_string_equal(
        s_str(json_object_get(json_object_get(decided, "message"), "payload"), "decision"),
        "CALEOL_DECISION_CODE_ATTRIBUTION");
    assert_string_equal(s_str(json_array_get(events, 5), "direction"), "sent");
    /* No household in the event log. */
    char *text = json_dumps(events, 0);
    assert_null(strstr(text, "Marchetti"));
    free(text);
    /* Paging: after the 9th event, two are left. */
    char path[64];
    snprintf(path, sizeof path, "/events?after=%lld&limit=5",
             (long long)json_integer_value(json_object_get(json_array_get(events, 8), "id")));
    json_t *page = s_get(&w, path);
    assert_int_equal(json_array_size(page), 2);
    assert_string_equal(s_str(json_array_get(page, 0), "type"), "CaleolDecision");
    json_decref(page);
    s_expect_error(&w, "GET", "/events?after=-1", S_TOKEN, NULL, 400, "after");

    /* The webhook got them all, in order, after a first refused attempt. */
    assert_int_equal(s_hook_wait(&w.hook, 11, WAIT_MS), 11);
    pthread_mutex_lock(&w.hook.mu);
    assert_int_equal(w.hook.attempts, 12);
    assert_string_equal(w.hook.auth, "Bearer " S_HOOK_TOKEN);
    for (size_t i = 0; i < 11; i++)
        assert_int_equal(
            json_integer_value(json_object_get(json_array_get(w.hook.delivered, i), "id")),
            json_integer_value(json_object_get(json_array_get(events, i), "id")));
    pthread_mutex_unlock(&w.hook.mu);

    /* Killed once the webhook's cursor is saved, the adapter misses the
     * lease signed meanwhile, and gets it after its restart. */
    char line[64];
    snprintf(line, sizeof line, "webhook event=%lld delivered",
             (long long)json_integer_value(json_object_get(json_array_get(events, 10), "id")));
    for (int waited = 0; !fbt_proc_log_contains(&w.ad, line) && waited < WAIT_MS; waited += 20)
        usleep(20000); /* the log line follows the cursor's write */
    assert_true(fbt_proc_log_contains(&w.ad, line));
    assert_int_equal(fbt_proc_stop(&w.ad, SIGKILL), 128 + SIGKILL);
    size_t len = 0;
    uint8_t *bail = fbt_bail_signe(VAC_A, NUR1, &len);
    Fluxbus__V1__BailSigne *b = NULL;
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__bail_signe__descriptor, bail, len,
                                     FB_DEFAULT_MAX_ENVELOPE, (ProtobufCMessage **)&b),
                     FB_OK);
    s_bailleur_sends(&w, T(BAIL_SIGNE), &b->base, VAC_A);
    fb_codec_free(&b->base);
    free(bail);
    fbt_proc_start(&w.ad, FB_ADAPTER_RESERVATAIRE_BIN, NULL);
    s_read_base(&w);
    s_wait_state(&w, VAC_A, "bail_signe");
    json_t *after = s_wait_events(&w, 12);
    assert_int_equal(json_array_size(after), 12);
    s_expect_well_ordered(after);
    for (size_t i = 0; i < 11; i++)
        assert_true(json_equal(json_array_get(after, i), json_array_get(events, i)));
    assert_string_equal(s_str(json_array_get(after, 11), "type"), types[11]);
    offers = s_get(&w, "/offers");
    assert_int_equal(json_array_size(offers), 2);
    json_decref(offers);
    /* The webhook resumes with the new event, none twice. */
    assert_int_equal(s_hook_wait(&w.hook, 12, WAIT_MS), 12);
    fbt_expect_nothing(w.cb, QUIET_MS); /* nothing sent again either */
    pthread_mutex_lock(&w.hook.mu);
    assert_int_equal(json_array_size(w.hook.delivered), 12);
    assert_int_equal(w.hook.attempts, 13);
    assert_string_equal(s_str(json_array_get(w.hook.delivered, 11), "type"), "BailSigne");
    pthread_mutex_unlock(&w.hook.mu);
    json_decref(after);
    json_decref(events);
    s_world_close(&w);
}

/* Writes a spool request file into inbox/. */
static void s_drop(const s_world_t *w, const char *name, const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/inbox/%s", w->spool, name);
    fbt_write_file(path, text);
}

static json_t *s_load(const char *path)
{
    assert_true(fbt_wait_path(path, WAIT_MS));
    json_t *j = json_load_file(path, 0, NULL);
    if (!j)
        fail_msg("%s is not JSON", path);
    return j;
}

static void test_spool_mode_ack_decline_and_requests_queued_while_the_broker_is_down(void **state)
{
    s_world_t w;
    s_world_open(&w, 0, 1);
    s_offer(&w, VAC_C);
    s_offer(&w, VAC_D);
    s_offer(&w, VAC_E);
    s_wait_state(&w, VAC_E, "oriente");

    /* A request file: handled, moved to done/ beside its answer. */
    s_drop(&w, "c.json",
           "{\"action\": \"designations\", \"vacancy_id\": \"" VAC_C "\", \"body\": "
           "{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1 "\", \"household_size\": 2,"
           " \"household\": {\"members\": [{\"family_name\": \"Marchetti\"}]}}],"
           " \"fewer_candidates_reason\": \"INSUFFISANCE_DEMANDES\"}}");
    char path[600];
    snprintf(path, sizeof path, "%s/done/c.json.receipt.json", w.spool);
    json_t *receipt = s_load(path);
    const json_t *msg = json_array_get(json_object_get(receipt, "messages"), 0);
    assert_true(json_is_true(json_object_get(msg, "accepted")));
    assert_non_null(json_object_get(msg, "receipt"));
    json_decref(receipt);
    snprintf(path, sizeof path, "%s/done/c.json", w.spool);
    assert_true(fbt_wait_path(path, WAIT_MS));
    ProtobufCMessage *m = NULL;
    fb_delivery_t *d = s_bailleur_receives(&w, T(DESIGNATION), &m);
    Fluxbus__V1__HouseholdDetails *hh = NULL;
    assert_int_equal(fb_seal_open_delivery(d->envelope, d->envelope_len, &w.bailleur, &hh), FB_OK);
    assert_string_equal(hh->members[0]->family_name, "Marchetti");
    fb_seal_household_free(hh);
    fb_codec_free(m);
    fb_delivery_destroy(&d);
    /* The same request dropped again under the same name: both proofs kept. */
    s_drop(&w, "c.json",
           "{\"action\": \"designations\", \"vacancy_id\": \"" VAC_C "\", \"body\": "
           "{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1 "\", \"household_size\": 2,"
           " \"household\": {\"members\": [{\"family_name\": \"Marchetti\"}]}}],"
           " \"fewer_candidates_reason\": \"INSUFFISANCE_DEMANDES\"}}");
    snprintf(path, sizeof path, "%s/done/c-2.json.receipt.json", w.spool);
    receipt = s_load(path);
    assert_true(json_is_true(json_object_get(receipt, "duplicate")));
    json_decref(receipt);
    snprintf(path, sizeof path, "%s/done/c-2.json", w.spool);
    assert_true(fbt_wait_path(path, WAIT_MS));
    snprintf(path, sizeof path, "%s/done/c.json.receipt.json", w.spool);
    receipt = s_load(path);
    assert_false(json_is_true(json_object_get(receipt, "duplicate")));
    json_decref(receipt);

    /* Bad files: rejected/ with an error naming the field in the file. */
    s_drop(&w, "bad.json",
           "{\"action\": \"designations\", \"vacancy_id\": \"" VAC_D "\", \"body\": "
           "{\"candidates\": [{\"rank\": 1, \"household_size\": 2}]}}");
    s_drop(&w, "junk.json", "designations for D, please");
    snprintf(path, sizeof path, "%s/rejected/bad.json.error.json", w.spool);
    json_t *error = s_load(path);
    assert_string_equal(s_str(error, "field"), "body.candidates[0].nur");
    assert_int_equal(json_integer_value(json_object_get(error, "status")), 422);
    json_decref(error);
    snprintf(path, sizeof path, "%s/rejected/junk.json.error.json", w.spool);
    error = s_load(path);
    assert_string_equal(s_str(error, "error"), "bad_json");
    json_decref(error);
    /* A malformed NUR: its reason is in the error file, the log names the
     * field and the file only. */
    s_drop(&w, "badnur.json",
           "{\"action\": \"designations\", \"vacancy_id\": \"" VAC_D "\", \"body\": "
           "{\"candidates\": [{\"rank\": 1, \"nur\": \"0740122000123456782\","
           " \"household_size\": 1}]}}");
    snprintf(path, sizeof path, "%s/rejected/badnur.json.error.json", w.spool);
    error = s_load(path);
    assert_string_equal(s_str(error, "field"), "body.candidates[0].nur");
    assert_non_null(strstr(s_str(error, "reason"), "19 characters, a NUR has 15"));
    json_decref(error);
    const char *logged = "spool file=badnur.json rejected status=422 reason=invalid "
                         "field=body.candidates[0].nur -> rejected/badnur.json";
    for (int waited = 0; !fbt_proc_log_contains(&w.ad, logged) && waited < WAIT_MS; waited += 20)
        usleep(20000); /* the log line follows the move */
    assert_true(fbt_proc_log_contains(&w.ad, logged));
    assert_false(fbt_proc_log_contains(&w.ad, "0740122000123456782"));
    fbt_expect_nothing(w.cb, QUIET_MS);

    /* Ack (HTTP) and decline (spool). */
    json_t *answer = NULL;
    assert_int_equal(s_call(&w, "POST", "/offers/" VAC_D "/ack", S_TOKEN, "", &answer), 201);
    assert_string_equal(s_str(answer, "state"), "acquitte");
    json_decref(answer);
    d = s_bailleur_receives(&w, T(ORIENTATION_ACK), &m);
    assert_string_equal(((Fluxbus__V1__OrientationAck *)m)->vacancy_id, VAC_D);
    fb_codec_free(m);
    fb_delivery_destroy(&d);
    s_drop(&w, "e.json",
           "{\"action\": \"decline\", \"vacancy_id\": \"" VAC_E "\", \"body\": "
           "{\"reason\": \"NOT_IN_CONVENTION\", \"reason_text\": \"hors territoire\"}}");
    d = s_bailleur_receives(&w, T(ORIENTATION_DECLINE), &m);
    const Fluxbus__V1__OrientationDecline *dec = (const Fluxbus__V1__OrientationDecline *)m;
    assert_string_equal(dec->vacancy_id, VAC_E);
    assert_int_equal(
        dec->reason,
        FLUXBUS__V1__ORIENTATION_DECLINE_REASON__ORIENTATION_DECLINE_REASON_NOT_IN_CONVENTION);
    fb_codec_free(m);
    fb_delivery_destroy(&d);
    s_wait_state(&w, VAC_E, "decline");
    /* Oriented again (round 2), the same decline is a new answer: sent. */
    s_orient(&w, VAC_E, 2);
    s_wait_state(&w, VAC_E, "oriente");
    assert_int_equal(s_call(&w, "POST", "/offers/" VAC_E "/decline", S_TOKEN,
                            "{\"reason\": \"NOT_IN_CONVENTION\", \"reason_text\": \"hors "
                            "territoire\"}",
                            &answer),
                     201);
    assert_false(json_is_true(json_object_get(answer, "duplicate")));
    json_decref(answer);
    d = s_bailleur_receives(&w, T(ORIENTATION_DECLINE), &m);
    assert_int_equal(d->body->in_reply_to.len, FB_MESSAGE_ID_BYTES);
    fb_codec_free(m);
    fb_delivery_destroy(&d);

    /* Broker down: the designation (its household needs the bailleur's key)
     * is queued, 202; another request for the offer waits its turn. */
    fb_client_destroy(&w.cb);
    assert_int_equal(fbt_stop(&w.b, SIGTERM), 0);
    const char *des = "/offers/" VAC_D "/designations";
    assert_int_equal(s_call(&w, "POST", des, S_TOKEN, s_good, &answer), 202);
    assert_true(json_is_true(json_object_get(answer, "queued")));
    json_t *again = NULL;
    assert_int_equal(s_call(&w, "POST", des, S_TOKEN, s_good, &again), 202);
    assert_true(
        json_equal(json_object_get(answer, "messages"), json_object_get(again, "messages")));
    json_decref(again);
    s_expect_error(&w, "POST", "/offers/" VAC_D "/remise", S_TOKEN, "{\"reason\": \"OTHER\"}", 409,
                   "vacancy_id");
    json_t *offer = s_get(&w, "/offers/" VAC_D);
    assert_string_equal(s_str(offer, "queued_action"), "designations");
    json_decref(offer);

    /* Broker back: sent from the queue, once. */
    fbt_start(&w.b);
    w.cb = fbt_client(&w.b, &w.bailleur);
    s_expect_designations(&w, VAC_D, answer);
    json_decref(answer);
    s_wait_state(&w, VAC_D, "designe");
    offer = s_get(&w, "/offers/" VAC_D);
    assert_true(json_is_null(json_object_get(offer, "queued_action")));
    json_decref(offer);
    assert_int_equal(s_call(&w, "POST", des, S_TOKEN, s_good, &answer), 200);
    assert_true(json_is_true(json_object_get(answer, "duplicate")));
    json_decref(answer);
    fbt_expect_nothing(w.cb, QUIET_MS);

    /* Every event is in outbox/, one file each. */
    json_t *events = s_get(&w, "/events?limit=1000");
    size_t n = json_array_size(events);
    assert_true(n >= 6 + 1 + 1 + 1 + 2 + 3); /* offers, C, ack, declines, D's three */
    snprintf(path, sizeof path, "%s/outbox", w.spool);
    assert_int_equal(fbt_wait_files(path, ".json", (int)n, WAIT_MS), (int)n);
    snprintf(path, sizeof path, "%s/outbox/event-%012lld.json", w.spool,
             (long long)json_integer_value(json_object_get(json_array_get(events, n - 1), "id")));
    json_t *last = s_load(path);
    assert_true(json_equal(last, json_array_get(events, n - 1)));
    json_decref(last);
    json_decref(events);
    s_world_close(&w);
}

static void test_config_without_api_token_is_refused(void **state)
{
    fbt_broker_t b;
    fbt_setup(&b);
    fb_keys_t resa;
    assert_int_equal(fb_keys_generate(&resa, FBT_RESA), FB_OK);
    fbt_proc_t p;
    fbt_adapter_config(&b, &p, "resa", &resa, "http_port = 0");
    char out[1024] = "";
    int rc =
        fbt_sh(out, sizeof out, "'%s' --config '%s' 2>&1", FB_ADAPTER_RESERVATAIRE_BIN, p.config);
    assert_int_equal(rc, 2); /* a configuration error */
    assert_non_null(strstr(out, "api_token"));
    assert_null(strstr(out, "ready"));
    fbt_teardown(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_platform_designates_and_follows_events_through_http),
        cmocka_unit_test(test_spool_mode_ack_decline_and_requests_queued_while_the_broker_is_down),
        cmocka_unit_test(test_config_without_api_token_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
