/* main.c - fluxbus-adapter-reservataire: a réservataire platform's link to
 * the bus (AL'in-style or SYPLO-style web applications, or batch platforms
 * through a spool directory).
 *
 * Owns the config keys, the wiring of the modules and the loop's two
 * callbacks: each delivery is recorded as an event and applied to the
 * offers before it is acknowledged (offers.c), and each tick serves HTTP
 * (api.c), makes queued requests again, pushes the webhook (webhook.c) and
 * runs the spool mode (batch.c). Once serving it prints
 *   ready reservataire actor=ID http=http://ADDRESS:PORT/
 * Exit codes: 0 clean stop, 1 command line, 2 configuration, 3 cannot
 * start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "adapter.h"
#include "api.h"
#include "batch.h"
#include "conf.h"
#include "http.h"
#include "offers.h"
#include "spool.h"
#include "webhook.h"

#define S_KIND "reservataire"
#define S_TICK_MS 20
#define S_HTTP_RUNS 3   /* accept, read, answer: a request in one tick */
#define S_RETRY_MS 2000 /* queued requests are made again this often */
#define S_MAX_BODY (1 << 20)
#define S_TOKEN_MAX 4096
#define S_TOKEN_WEAK 16 /* shorter tokens are accepted with a warning */

/* clang-format off */
static const conf_key_t s_keys[] = {
    CONF_KEYS_BUS,
    {"http_address", "127.0.0.1", false, false, "address the HTTP API listens on"},
    {"http_port", "8082", false, false, "port of the HTTP API (0: any free port)"},
    {"api_token", NULL, false, false, "bearer token the platform must send (or api_token_file)"},
    {"api_token_file", NULL, false, false, "file holding the bearer token (mode 0600)"},
    {"webhook_url", NULL, false, false, "URL each new event is POSTed to (optional)"},
    {"webhook_token", NULL, false, false, "bearer token sent to the webhook (optional)"},
    {"webhook_retry_max_s", "3600", false, false, "longest wait between webhook retries"},
    {"spool", NULL, false, false, "spool directory for batch platforms (optional)"},
    {NULL, NULL, false, false, NULL},
};
/* clang-format on */

static const char s_usage[] =
    "usage: fluxbus-adapter-reservataire --config FILE\n"
    "\n"
    "Serves a réservataire platform: a local HTTP JSON API (offers, designations,\n"
    "remise, events), an optional webhook, and an optional spool directory.\n"
    "See docs/ADAPTERS.md, \"Réservataire adapter\".\n";

typedef struct {
    adapter_t *adapter;
    offers_t *offers;
    api_t *api;
    http_server_t *http;
    webhook_t *webhook;
    batch_t *batch;
    int64_t next_retry_ms;
} s_app_t;

/* ---------------------------------------------------------------- config */

/* The API token from api_token or api_token_file (exactly one), trailing
 * blanks cut. A string to free, or NULL with a reason in err. */
static char *s_api_token(const conf_t *conf, char *err, size_t errlen)
{
    const char *inline_token = conf_get(conf, "api_token");
    char *file = conf_path(conf, "api_token_file");
    if (!inline_token == !file) {
        snprintf(err, errlen, "exactly one of api_token and api_token_file is required");
        free(file);
        return NULL;
    }
    char *token = NULL;
    if (inline_token) {
        token = strdup(inline_token);
    } else {
        struct stat st;
        uint8_t *data = NULL;
        size_t len = 0;
        if (stat(file, &st) != 0 || spool_read(file, S_TOKEN_MAX, &data, &len) != FB_OK)
            snprintf(err, errlen, "api_token_file %s cannot be read", file);
        else if (st.st_mode & 077)
            snprintf(err, errlen, "api_token_file %s is readable by others (chmod 600)", file);
        else
            token = (char *)data, data = NULL;
        free(data);
    }
    free(file);
    if (!token) {
        if (!*err)
            snprintf(err, errlen, "out of memory");
        return NULL;
    }
    size_t n = strlen(token);
    while (n > 0 && (token[n - 1] == '\n' || token[n - 1] == '\r' || token[n - 1] == ' ' ||
                     token[n - 1] == '\t'))
        token[--n] = '\0';
    if (n == 0) {
        snprintf(err, errlen, "the API token is empty");
        free(token);
        return NULL;
    }
    return token;
}

/* ---------------------------------------------------------------- the loop */

static fb_err_t s_on_delivery(void *ctx, const fb_delivery_t *delivery, const json_t *event)
{
    s_app_t *app = ctx;
    int64_t id = 0;
    fb_err_t rc = offers_record_delivery(app->offers, event, fb_now_ms(), &id);
    const char *type = json_string_value(json_object_get(event, "type"));
    const char *vacancy = json_string_value(json_object_get(event, "correlation_id"));
    const char *msg_id = json_string_value(json_object_get(event, "message_id"));
    if (rc != FB_OK)
        adapter_log(app->adapter, FB_LOG_ERROR,
                    "delivery store_seq=%llu msg_id=%s not recorded reason=%s (not acknowledged)",
                    (unsigned long long)delivery->store_seq, msg_id ? msg_id : "-",
                    fb_err_name(rc));
    else
        adapter_log(app->adapter, FB_LOG_INFO,
                    "delivery store_seq=%llu type=%s msg_id=%s peer=%s vacancy=%s %s%lld",
                    (unsigned long long)delivery->store_seq, type ? type : "?",
                    msg_id ? msg_id : "-", delivery->body->sender,
                    vacancy && *vacancy ? vacancy : "-", id ? "event=" : "already recorded ",
                    (long long)id);
    return rc;
}

static void s_tick(void *ctx)
{
    s_app_t *app = ctx;
    for (int i = 0; i < S_HTTP_RUNS; i++)
        http_poll(app->http, 0);
    if (fb_now_ms() >= app->next_retry_ms) {
        api_retry_queued(app->api);
        app->next_retry_ms = fb_now_ms() + S_RETRY_MS;
    }
    if (app->webhook)
        webhook_tick(app->webhook);
    if (app->batch)
        batch_tick(app->batch);
}

/* Starts what the config asks for beside the HTTP API. */
static bool s_start_extras(s_app_t *app, const conf_t *conf, char *err, size_t errlen)
{
    const char *url = conf_get(conf, "webhook_url");
    if (url) {
        long long retry_max_s = 0;
        if (!conf_get_int(conf, "webhook_retry_max_s", 1, 7 * 24 * 3600, &retry_max_s, err, errlen))
            return false;
        app->webhook = webhook_new(app->adapter, app->offers, url, conf_get(conf, "webhook_token"),
                                   retry_max_s * 1000, err, errlen);
        if (!app->webhook)
            return false;
    }
    char *spool = conf_path(conf, "spool");
    if (spool) {
        app->batch = batch_new(app->adapter, app->api, app->offers, spool, err, errlen);
        free(spool);
        if (!app->batch)
            return false;
    }
    return true;
}

/* Opens everything. 0, or the exit code: 2 for the configuration (settings,
 * key files), 3 when the adapter cannot start (state file, spool, port). */
static int s_start(s_app_t *app, const conf_t *conf, char *err, size_t errlen)
{
    long long port = 0;
    if (!conf_get_int(conf, "http_port", 0, 65535, &port, err, errlen))
        return 2;
    const char *url = conf_get(conf, "webhook_url");
    if (url && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(err, errlen, "webhook_url: \"%s\" is not an http:// or https:// URL", url);
        return 2;
    }
    char *token = s_api_token(conf, err, errlen);
    if (!token)
        return 2;
    if (strlen(token) < S_TOKEN_WEAK)
        fprintf(stderr,
                "fluxbus-adapter-" S_KIND ": warn: the API token is shorter than %d characters\n",
                S_TOKEN_WEAK);
    int rc = 0;
    app->adapter = adapter_open(S_KIND, conf, err, errlen);
    if (!app->adapter)
        rc = adapter_open_exit_code();
    else if (!(app->offers =
                   offers_new(adapter_db(app->adapter), adapter_actor(app->adapter), err, errlen)))
        rc = 3;
    else if (!(app->api = api_new(app->adapter, app->offers, token)))
        rc = 3, snprintf(err, errlen, "out of memory");
    memset(token, 0, strlen(token));
    free(token);
    if (rc == 0 && !s_start_extras(app, conf, err, errlen))
        rc = 3;
    if (rc == 0 && !(app->http = http_start(conf_get(conf, "http_address"), (unsigned)port,
                                            S_MAX_BODY, api_handle, app->api, err, errlen)))
        rc = 3;
    return rc;
}

static void s_stop(s_app_t *app)
{
    http_stop(&app->http);
    batch_destroy(&app->batch);
    webhook_destroy(&app->webhook);
    api_destroy(&app->api);
    offers_destroy(&app->offers);
    adapter_close(&app->adapter);
}

int main(int argc, char **argv)
{
    int rc = 0;
    conf_t *conf = adapter_main_config(S_KIND, argc, argv, s_usage, s_keys, &rc);
    if (!conf)
        return rc;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "fluxbus-adapter-" S_KIND ": error: libcurl does not start\n");
        conf_free(&conf);
        return 1;
    }
    s_app_t app;
    memset(&app, 0, sizeof app);
    char err[512] = "";
    rc = s_start(&app, conf, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "fluxbus-adapter-" S_KIND ": error: %s\n", err);
    } else {
        adapter_log(app.adapter, FB_LOG_INFO, "serving actor=%s http=%s:%u webhook=%s spool=%s",
                    adapter_actor(app.adapter), conf_get(conf, "http_address"), http_port(app.http),
                    app.webhook ? "on" : "off", app.batch ? "on" : "off");
        adapter_ready(S_KIND " actor=%s http=http://%s:%u/", adapter_actor(app.adapter),
                      conf_get(conf, "http_address"), http_port(app.http));
        rc = adapter_run(app.adapter, S_TICK_MS, s_on_delivery, s_tick, &app);
    }
    s_stop(&app);
    conf_free(&conf);
    curl_global_cleanup();
    return rc;
}
