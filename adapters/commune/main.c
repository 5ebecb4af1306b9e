/* main.c - fluxbus-adapter-commune: a commune's view of the bus. Subscribes
 * to the CALEOL sessions (caleol/<INSEE>) and freed dwellings
 * (logements/<INSEE>) of its communes and serves them over HTTP as a
 * calendar (/caleol.ics) and dwelling feeds (/logements.json, .csv).
 *
 * Owns: the config, the subscriptions, the loop and the HTTP routing.
 * Does not own: what is kept of a delivery (intake.c), the tables
 * (feed_store.c), the formats (ics.c, logements_feed.c).
 *
 * Invariant: a delivery is acknowledged only once intake has stored it (or
 * decided for good to leave it out), so after a crash the feed is rebuilt
 * from the state file plus what the durable subscription delivers again. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter.h"
#include "conf.h"
#include "feed_store.h"
#include "fluxbus/fnv.h"
#include "http.h"
#include "ics.h"
#include "intake.h"
#include "logements_feed.h"

#define S_KIND "commune"
#define S_TICK_MS 25      /* loop tick: subscriptions and HTTP */
#define S_HTTP_WAIT_MS 10 /* HTTP wait inside a tick */
#define S_MAX_BODY 1024   /* the feeds take no request body */
/* Exit codes (docs/OPERATIONS.md): 2 bad configuration (also: the broker
 * refuses a commune's topics) or key file, 3 cannot start (state, port). */
#define S_EXIT_CONFIG 2
#define S_EXIT_START 3

static const char s_usage[] =
    "usage: fluxbus-adapter-commune --config FILE\n"
    "\n"
    "Subscribes to the CALEOL sessions and freed dwellings of the communes named\n"
    "in FILE (topics caleol/<INSEE> and logements/<INSEE>) and serves them over\n"
    "HTTP: /caleol.ics (iCalendar), /logements.json and /logements.csv. Prints\n"
    "\"ready http://ADDRESS:PORT/ actor=ID\" once subscribed and serving.\n";

/* clang-format off */
static const conf_key_t s_keys[] = {
    CONF_KEYS_BUS,
    {"commune", NULL, true, true, "INSEE code of a commune of this actor's territory (one line each)"},
    {"http_address", "127.0.0.1", false, false, "address to serve the feeds on"},
    {"http_port", "8083", false, false, "port to serve the feeds on (0: any free port)"},
    {"timezone", "Europe/Paris", false, false, "time zone of the calendar (IANA name)"},
    {"public_url", NULL, false, false, "base URL the feeds are reached at, for links (optional)"},
    {"calendar_name", NULL, false, false, "calendar name (default: CALEOL <INSEE codes>)"},
    {NULL, NULL, false, false, NULL},
};
/* clang-format on */

/* One topic to subscribe to, and where that stands. */
typedef struct {
    char name[32]; /* "caleol/74010" */
    bool done;
    int64_t next_try_ms;
} s_topic_t;

typedef struct {
    const conf_t *conf;
    adapter_t *adapter;
    feed_store_t *store;
    ics_t *ics;
    http_server_t *http;
    const char **communes;
    intake_territory_t territory;
    s_topic_t *topics;
    size_t n_topics;
    bool ready;
    bool fatal; /* stop with an error (a subscription refused) */
    char url[128];
} s_commune_t;

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- deliveries ---- */

static fb_err_t s_on_delivery(void *ctx, const fb_delivery_t *d, const json_t *event)
{
    (void)event;
    s_commune_t *c = ctx;
    const Fluxbus__V1__SignedBody *b = d->body;
    char id[2 * FB_MESSAGE_ID_BYTES + 1] = "";
    for (size_t i = 0; i < b->message_id.len && i < FB_MESSAGE_ID_BYTES; i++)
        snprintf(id + 2 * i, 3, "%02x", b->message_id.data[i]);
    intake_note_t note;
    fb_err_t err = intake_payload(c->store, &c->territory, (int)b->type, id, b->payload.data,
                                  b->payload.len, s_now_ms(), &note);
    adapter_log(c->adapter, note.level, "%s from=%s", note.text, b->sender);
    return err;
}

/* ---- subscriptions ---- */

/* Tries the topics not subscribed yet. Done once per process: the broker
 * keeps durable subscriptions, and subscribing again is harmless. */
static void s_subscribe(s_commune_t *c)
{
    size_t pending = 0;
    for (size_t i = 0; i < c->n_topics; i++)
        pending += !c->topics[i].done;
    if (pending == 0)
        return;
    fb_client_t *client = adapter_client(c->adapter);
    if (!client)
        return; /* broker unreachable: adapter_client tries again later */
    int64_t now = s_now_ms();
    for (size_t i = 0; i < c->n_topics; i++) {
        s_topic_t *t = &c->topics[i];
        if (t->done || now < t->next_try_ms)
            continue;
        fb_err_t err = fb_client_subscribe(client, t->name);
        if (err == FB_OK) {
            t->done = true;
            pending--;
            adapter_log(c->adapter, FB_LOG_INFO, "subscribed topic=%s", t->name);
        } else if (err == FB_ERR_NOT_AUTHORIZED || err == FB_ERR_BAD_TOPIC) {
            /* The registry says this commune is not ours: a config error a
             * running daemon cannot fix. Stop loudly (adapter_run stops on
             * SIGTERM) rather than serve a feed that stays empty. */
            adapter_log(c->adapter, FB_LOG_ERROR,
                        "subscription refused topic=%s reason=%s: is this commune in the"
                        " actor's territory?",
                        t->name, fb_err_name(err));
            c->fatal = true;
            raise(SIGTERM);
            return;
        } else {
            adapter_log(c->adapter, FB_LOG_WARN,
                        "subscription topic=%s failed reason=%s (retrying)", t->name,
                        fb_err_name(err));
            t->next_try_ms = now + 1000;
            return;
        }
    }
    if (pending == 0 && !c->ready) {
        c->ready = true;
        adapter_ready("%s actor=%s", c->url, adapter_actor(c->adapter));
    }
}

/* ---- HTTP ---- */

/* Answers 200 with `body` (taken), its ETag and when the feed last
 * changed; 304 without a body when the client already holds this ETag
 * (If-None-Match), so polling calendar clients download only changes. */
static void s_answer(s_commune_t *c, const http_request_t *req, http_response_t *res,
                     const char *type, char *body, size_t len)
{
    res->status = 200;
    snprintf(res->content_type, sizeof res->content_type, "%s", type);
    snprintf(res->header_name, sizeof res->header_name, "ETag");
    snprintf(res->header_value, sizeof res->header_value, "\"%016" PRIx64 "\"",
             fb_fnv1a64(FB_FNV1A64_START, body, len));
    res->last_modified_ms = feed_store_last_change_ms(c->store);
    const char *held = http_header(req, "If-None-Match");
    if (held && (strstr(held, res->header_value) || strcmp(held, "*") == 0)) {
        free(body);
        res->status = 304;
        return;
    }
    res->body = body;
    res->body_len = len;
}

static char *s_build_ics(s_commune_t *c, size_t *len, fb_err_t *err)
{
    return ics_calendar(c->ics, c->store, len, err);
}

static char *s_build_json(s_commune_t *c, size_t *len, fb_err_t *err)
{
    json_t *feed = logements_feed_json(c->store, err);
    if (!feed)
        return NULL;
    json_t *communes = json_array();
    for (size_t i = 0; i < c->territory.n; i++)
        json_array_append_new(communes, json_string(c->territory.communes[i]));
    /* {"communes": [...], "logements": [...]}, in that order. */
    json_t *out = json_pack("{s:o, s:O}", "communes", communes, "logements",
                            json_object_get(feed, "logements"));
    json_decref(feed);
    char *text = out ? json_dumps(out, JSON_INDENT(2)) : NULL;
    json_decref(out);
    size_t n = text ? strlen(text) : 0;
    char *body = text ? realloc(text, n + 2) : NULL;
    if (!body) {
        free(text);
        *err = FB_ERR_NOMEM;
        return NULL;
    }
    body[n] = '\n';
    body[n + 1] = '\0';
    *len = n + 1;
    return body;
}

static char *s_build_csv(s_commune_t *c, size_t *len, fb_err_t *err)
{
    return logements_feed_csv(c->store, len, err);
}

typedef struct {
    const char *path;
    const char *content_type;
    char *(*build)(s_commune_t *c, size_t *len, fb_err_t *err);
} s_route_t;

static const s_route_t s_routes[] = {
    {"/caleol.ics", "text/calendar; charset=utf-8", s_build_ics},
    {"/logements.json", "application/json; charset=utf-8", s_build_json},
    {"/logements.csv", "text/csv; charset=utf-8", s_build_csv},
};

static void s_on_http(void *ctx, const http_request_t *req, http_response_t *res)
{
    s_commune_t *c = ctx;
    const s_route_t *route = NULL;
    for (size_t i = 0; i < sizeof s_routes / sizeof s_routes[0]; i++)
        if (strcmp(req->path, s_routes[i].path) == 0)
            route = &s_routes[i];
    if (!route) {
        http_error(res, 404, "not_found", NULL,
                   "no such resource: %s (there are /caleol.ics, /logements.json and"
                   " /logements.csv)",
                   req->path);
        return;
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        http_error(res, 405, "method_not_allowed", NULL, "%s %s: only GET and HEAD", req->method,
                   req->path);
        snprintf(res->header_name, sizeof res->header_name, "Allow");
        snprintf(res->header_value, sizeof res->header_value, "GET, HEAD");
        return;
    }
    fb_err_t err = FB_OK;
    size_t len = 0;
    char *body = route->build(c, &len, &err);
    if (!body) {
        adapter_log(c->adapter, FB_LOG_ERROR, "http path=%s failed reason=%s", req->path,
                    fb_err_name(err));
        http_error(res, 500, "internal", NULL, "%s could not be built: %s", req->path,
                   fb_err_str(err));
        return;
    }
    s_answer(c, req, res, route->content_type, body, len);
}

static void s_tick(void *ctx)
{
    s_commune_t *c = ctx;
    s_subscribe(c);
    http_poll(c->http, S_HTTP_WAIT_MS);
}

/* ---- setup ---- */

/* The communes of the config, checked, and the two topics of each. */
static bool s_load_communes(s_commune_t *c, char *err, size_t errlen)
{
    size_t n = conf_count(c->conf, "commune");
    c->communes = calloc(n ? n : 1, sizeof *c->communes);
    c->topics = calloc(2 * (n ? n : 1), sizeof *c->topics);
    if (!c->communes || !c->topics) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const char *insee = conf_get_at(c->conf, "commune", i);
        if (!intake_is_insee(insee)) {
            snprintf(err, errlen,
                     "commune \"%s\": not an INSEE code (5 characters: digits, or"
                     " 2A/2B then 3 digits)",
                     insee);
            return false;
        }
        c->communes[i] = insee;
        snprintf(c->topics[2 * i].name, sizeof c->topics[0].name, "caleol/%s", insee);
        snprintf(c->topics[2 * i + 1].name, sizeof c->topics[0].name, "logements/%s", insee);
    }
    c->territory.communes = c->communes;
    c->territory.n = n;
    c->n_topics = 2 * n;
    return true;
}

/* "CALEOL 74010, 74011" unless the config names the calendar. */
static char *s_calendar_name(const s_commune_t *c)
{
    const char *named = conf_get(c->conf, "calendar_name");
    if (named)
        return strdup(named);
    size_t cap = 16 + 7 * c->territory.n;
    char *name = malloc(cap);
    if (!name)
        return NULL;
    size_t used = (size_t)snprintf(name, cap, "CALEOL");
    for (size_t i = 0; i < c->territory.n; i++)
        used += (size_t)snprintf(name + used, cap - used, "%s%s", i ? ", " : " ",
                                 c->territory.communes[i]);
    return name;
}

/* The calendar's public URL: public_url + "/caleol.ics", or NULL. */
static char *s_ics_url(const s_commune_t *c)
{
    const char *base = conf_get(c->conf, "public_url");
    if (!base || !*base)
        return NULL;
    size_t len = strlen(base);
    while (len && base[len - 1] == '/')
        len--;
    char *url = malloc(len + sizeof "/caleol.ics");
    if (url)
        snprintf(url, len + sizeof "/caleol.ics", "%.*s/caleol.ics", (int)len, base);
    return url;
}

/* Opens everything the config names. 0, or the exit code with the reason
 * in err. */
static int s_open(s_commune_t *c, const conf_t *conf, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->conf = conf;
    long long port = 0;
    if (!s_load_communes(c, err, errlen) ||
        !conf_get_int(conf, "http_port", 0, 65535, &port, err, errlen))
        return S_EXIT_CONFIG;
    char *name = s_calendar_name(c);
    char *url = s_ics_url(c);
    ics_options_t opt = {
        .timezone = conf_get(conf, "timezone"),
        .calendar_name = name,
        .public_url = url,
    };
    c->ics = ics_new(&opt, err, errlen);
    free(name);
    free(url);
    if (!c->ics)
        return S_EXIT_CONFIG;
    c->adapter = adapter_open(S_KIND, conf, err, errlen);
    if (!c->adapter)
        return adapter_open_exit_code();
    c->store = feed_store_new(adapter_db(c->adapter), err, errlen);
    if (!c->store)
        return S_EXIT_START;
    const char *address = conf_get(conf, "http_address");
    c->http = http_start(address, (unsigned)port, S_MAX_BODY, s_on_http, c, err, errlen);
    if (!c->http)
        return S_EXIT_START;
    /* An IPv6 address goes in brackets in a URL. */
    bool v6 = strchr(address, ':') != NULL;
    snprintf(c->url, sizeof c->url, "http://%s%s%s:%u/", v6 ? "[" : "", address, v6 ? "]" : "",
             http_port(c->http));
    adapter_log(c->adapter, FB_LOG_INFO,
                "serving %s (caleol.ics, logements.json, logements.csv) communes=%zu", c->url,
                c->territory.n);
    return 0;
}

static void s_close(s_commune_t *c)
{
    http_stop(&c->http);
    ics_destroy(&c->ics);
    feed_store_destroy(&c->store);
    adapter_close(&c->adapter);
    free(c->communes);
    free(c->topics);
}

int main(int argc, char **argv)
{
    int rc = 0;
    conf_t *conf = adapter_main_config(S_KIND, argc, argv, s_usage, s_keys, &rc);
    if (!conf)
        return rc;
    s_commune_t c;
    char err[512] = "";
    rc = s_open(&c, conf, err, sizeof err);
    if (rc == 0) {
        rc = adapter_run(c.adapter, S_TICK_MS, s_on_delivery, s_tick, &c);
        if (c.fatal)
            rc = S_EXIT_CONFIG;
    } else {
        fprintf(stderr, "fluxbus-adapter-commune: error: %s\n", err);
    }
    s_close(&c);
    conf_free(&conf);
    return rc;
}
