/* webhook.c - see webhook.h. Owns the libcurl handles of the webhook, its
 * cursor in the event log (persisted as resa_cursor "webhook") and its
 * retry schedule. Does not own the events (offers.c).
 *
 * One transfer at a time, so events arrive in order; the cursor moves only
 * on a 2xx answer. */
#include "webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#define S_CURSOR "webhook"
#define S_FIRST_RETRY_MS 1000
#define S_CONNECT_TIMEOUT_MS 3000
#define S_TRANSFER_TIMEOUT_MS 10000

struct webhook {
    adapter_t *adapter;
    offers_t *offers;
    char *url;
    char *auth; /* "Authorization: Bearer ..." or NULL */
    int64_t retry_max_ms;
    CURLM *multi;
    /* The transfer in flight (easy != NULL). */
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    int64_t event_id;
    /* Delivered up to cursor; the next attempt not before next_ms. */
    int64_t cursor;
    unsigned failures;
    int64_t next_ms;
};

/* The receiver's answer body is not needed. */
static size_t s_discard(char *ptr, size_t size, size_t nmemb, void *ctx)
{
    (void)ptr;
    (void)ctx;
    return size * nmemb;
}

webhook_t *webhook_new(adapter_t *adapter, offers_t *offers, const char *url, const char *token,
                       int64_t retry_max_ms, char *err, size_t errlen)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(err, errlen, "webhook_url: \"%s\" is not an http:// or https:// URL", url);
        return NULL;
    }
    webhook_t *self = calloc(1, sizeof *self);
    if (!self)
        goto oom;
    self->adapter = adapter;
    self->offers = offers;
    self->retry_max_ms = retry_max_ms;
    self->url = strdup(url);
    self->multi = curl_multi_init();
    if (!self->url || !self->multi)
        goto oom;
    if (token) {
        size_t len = strlen("Authorization: Bearer ") + strlen(token) + 1;
        self->auth = malloc(len);
        if (!self->auth)
            goto oom;
        snprintf(self->auth, len, "Authorization: Bearer %s", token);
    }
    if (offers_cursor(offers, S_CURSOR, &self->cursor) != FB_OK) {
        snprintf(err, errlen, "cannot read the webhook cursor from the state file");
        webhook_destroy(&self);
        return NULL;
    }
    return self;
oom:
    snprintf(err, errlen, "out of memory");
    webhook_destroy(&self);
    return NULL;
}

/* Ends the transfer in flight and frees what it held. */
static void s_drop(webhook_t *self)
{
    if (self->easy) {
        curl_multi_remove_handle(self->multi, self->easy);
        curl_easy_cleanup(self->easy);
        self->easy = NULL;
    }
    curl_slist_free_all(self->headers);
    self->headers = NULL;
    free(self->body);
    self->body = NULL;
}

void webhook_destroy(webhook_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    webhook_t *self = *self_p;
    s_drop(self);
    if (self->multi)
        curl_multi_cleanup(self->multi);
    if (self->auth) {
        memset(self->auth, 0, strlen(self->auth));
        free(self->auth);
    }
    free(self->url);
    free(self);
    *self_p = NULL;
}

/* Adds a header line; false on OOM. */
static bool s_header(webhook_t *self, const char *line)
{
    struct curl_slist *h = curl_slist_append(self->headers, line);
    if (!h)
        return false;
    self->headers = h;
    return true;
}

/* Starts POSTing the first event after the cursor, if there is one. */
static void s_start(webhook_t *self)
{
    json_t *event = NULL;
    int64_t id = 0;
    fb_err_t rc = offers_next_event(self->offers, self->cursor, &event, &id);
    if (rc == FB_ERR_NOT_FOUND)
        return;
    if (rc != FB_OK) {
        adapter_log(self->adapter, FB_LOG_ERROR, "webhook cannot read event after %lld: %s",
                    (long long)self->cursor, fb_err_str(rc));
        self->next_ms = fb_now_ms() + S_FIRST_RETRY_MS;
        return;
    }
    self->body = json_dumps(event, JSON_COMPACT);
    json_decref(event);
    char id_header[64];
    snprintf(id_header, sizeof id_header, "X-Fluxbus-Event-Id: %lld", (long long)id);
    self->easy = curl_easy_init();
    bool ok = self->body && self->easy && s_header(self, "Content-Type: application/json") &&
              s_header(self, id_header) && (!self->auth || s_header(self, self->auth));
    if (ok) {
        CURL *e = self->easy;
        ok = curl_easy_setopt(e, CURLOPT_URL, self->url) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_POSTFIELDS, self->body) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(self->body)) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_HTTPHEADER, self->headers) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)S_CONNECT_TIMEOUT_MS) ==
                 CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)S_TRANSFER_TIMEOUT_MS) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_discard) == CURLE_OK &&
             curl_multi_add_handle(self->multi, e) == CURLM_OK;
    }
    if (!ok) {
        adapter_log(self->adapter, FB_LOG_ERROR, "webhook cannot prepare event=%lld",
                    (long long)id);
        s_drop(self);
        self->next_ms = fb_now_ms() + S_FIRST_RETRY_MS;
        return;
    }
    self->event_id = id;
}

/* The transfer ended with `result`: move the cursor, or plan the retry. */
static void s_finish(webhook_t *self, CURLcode result)
{
    long status = 0;
    curl_easy_getinfo(self->easy, CURLINFO_RESPONSE_CODE, &status);
    int64_t id = self->event_id;
    s_drop(self);
    int64_t now = fb_now_ms();
    if (result == CURLE_OK && status >= 200 && status < 300) {
        self->cursor = id;
        self->failures = 0;
        self->next_ms = now;
        fb_err_t rc = offers_set_cursor(self->offers, S_CURSOR, id);
        adapter_log(self->adapter, rc == FB_OK ? FB_LOG_DEBUG : FB_LOG_ERROR,
                    "webhook event=%lld delivered status=%ld%s", (long long)id, status,
                    rc == FB_OK ? "" : " (cursor not saved: it may be sent again after a restart)");
        return;
    }
    self->failures++;
    int64_t wait = S_FIRST_RETRY_MS;
    for (unsigned i = 1; i < self->failures && wait < self->retry_max_ms; i++)
        wait *= 2;
    if (wait > self->retry_max_ms)
        wait = self->retry_max_ms;
    self->next_ms = now + wait;
    char why[128];
    if (result != CURLE_OK)
        snprintf(why, sizeof why, "%s", curl_easy_strerror(result));
    else
        snprintf(why, sizeof why, "HTTP status %ld", status);
    adapter_log(self->adapter, FB_LOG_WARN,
                "webhook event=%lld attempt=%u failed reason=\"%s\" retry_in_ms=%lld",
                (long long)id, self->failures, why, (long long)wait);
}

void webhook_tick(webhook_t *self)
{
    if (!self->easy && fb_now_ms() >= self->next_ms)
        s_start(self);
    while (self->easy) {
        int running = 0;
        curl_multi_perform(self->multi, &running);
        int left = 0;
        CURLMsg *msg = curl_multi_info_read(self->multi, &left);
        if (!msg || msg->msg != CURLMSG_DONE)
            return; /* still going: next tick */
        s_finish(self, msg->data.result);
        if (fb_now_ms() >= self->next_ms)
            s_start(self); /* delivered: the next event at once */
    }
}
