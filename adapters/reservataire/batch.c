/* batch.c - see batch.h. Owns the reading of inbox files into actions,
 * where each file goes afterwards, and the outbox cursor. Does not own the
 * actions (api.c) nor the atomic file operations (spool.c). */
#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spool.h"

#define S_SCAN_MS 500        /* inbox scan period */
#define S_RETRY_MS 5000      /* a file kept in the inbox is tried again after this */
#define S_SETTLE_MS 200      /* a file changed more recently is still being written */
#define S_FILE_MAX (1 << 20) /* bytes */
#define S_OUTBOX_PER_TICK 64 /* events written per tick, to keep ticks short */

struct batch {
    adapter_t *adapter;
    api_t *api;
    offers_t *offers;
    char *inbox, *done, *rejected, *outbox;
    int64_t next_scan_ms;
    int64_t next_outbox_ms; /* after a failed write, not before */
    int64_t outbox_cursor;
};

batch_t *batch_new(adapter_t *adapter, api_t *api, offers_t *offers, const char *root, char *err,
                   size_t errlen)
{
    if (spool_init(root, err, errlen) != FB_OK)
        return NULL;
    batch_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->adapter = adapter;
    self->api = api;
    self->offers = offers;
    self->inbox = spool_path(root, "inbox");
    self->done = spool_path(root, "done");
    self->rejected = spool_path(root, "rejected");
    self->outbox = spool_path(root, "outbox");
    if (!self->inbox || !self->done || !self->rejected || !self->outbox) {
        snprintf(err, errlen, "out of memory");
        batch_destroy(&self);
        return NULL;
    }
    if (offers_cursor(offers, "outbox", &self->outbox_cursor) != FB_OK) {
        snprintf(err, errlen, "cannot read the outbox cursor from the state file");
        batch_destroy(&self);
        return NULL;
    }
    return self;
}

void batch_destroy(batch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    batch_t *self = *self_p;
    free(self->inbox);
    free(self->done);
    free(self->rejected);
    free(self->outbox);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- inbox */

/* Moves `name` to rejected/ beside its error file (under a free name:
 * a file refused twice keeps both refusals). */
static void s_reject(batch_t *self, const char *name, int status, const char *code,
                     const char *field, const char *reason)
{
    json_t *e =
        json_pack("{s:s, s:i, s:s, s:o, s:s}", "file", name, "status", status, "error", code,
                  "field", field && *field ? json_string(field) : json_null(), "reason", reason);
    char final[600] = "";
    fb_err_t rc = e ? spool_set_aside(self->inbox, name, self->rejected, ".error.json", e, final,
                                      sizeof final)
                    : FB_ERR_NOMEM;
    json_decref(e);
    /* The reason may quote the file's values (a NUR...): it goes in the
     * error file, which the platform reads, and not in the log. */
    adapter_log(self->adapter, rc == FB_OK ? FB_LOG_WARN : FB_LOG_ERROR,
                "spool file=%s rejected status=%d reason=%s%s%s%s%s", name, status, code,
                field && *field ? " field=" : "", field ? field : "",
                rc == FB_OK ? " -> rejected/" : " (could not be moved to rejected/)",
                rc == FB_OK ? final : "");
}

/* Moves `name` to done/ beside its receipt (the action's answer), under a
 * free name: the same request dropped twice keeps both receipts. */
static void s_done(batch_t *self, const char *name, const json_t *answer)
{
    char final[600] = "";
    fb_err_t rc = spool_set_aside(self->inbox, name, self->done, ".receipt.json", answer, final,
                                  sizeof final);
    adapter_log(self->adapter, rc == FB_OK ? FB_LOG_INFO : FB_LOG_ERROR, "spool file=%s %s%s", name,
                rc == FB_OK ? "done -> done/" : "handled, but could not be moved to done/",
                rc == FB_OK ? final : "");
}

/* The file's request, checked: action, vacancy_id and body. NULL body
 * means {}. False with the rejection made. */
static bool s_request(batch_t *self, const char *name, const json_t *req, const char **action,
                      const char **vacancy, const json_t **body)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)req, key, value)
    {
        if (strcmp(key, "action") != 0 && strcmp(key, "vacancy_id") != 0 &&
            strcmp(key, "body") != 0) {
            s_reject(self, name, 422, "invalid", key, "unknown field");
            return false;
        }
    }
    *action = json_string_value(json_object_get(req, "action"));
    *vacancy = json_string_value(json_object_get(req, "vacancy_id"));
    *body = json_object_get(req, "body");
    if (!*action || !api_action_known(*action)) {
        s_reject(self, name, 422, "invalid", "action",
                 "one of \"designations\", \"remise\", \"ack\", \"decline\" is required");
        return false;
    }
    if (!*vacancy || !**vacancy) {
        s_reject(self, name, 422, "invalid", "vacancy_id", "required");
        return false;
    }
    if (*body && !json_is_object(*body)) {
        s_reject(self, name, 400, "bad_json", "body", "a JSON object is expected");
        return false;
    }
    return true;
}

/* Handles one inbox file. Returns false when it stays in the inbox. */
static bool s_handle(batch_t *self, const char *name)
{
    size_t len = strlen(name);
    if (len < 5 || strcmp(name + len - 5, ".json") != 0) {
        s_reject(self, name, 400, "bad_json", NULL, "only .json files are read from inbox/");
        return true;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", self->inbox, name);
    uint8_t *data = NULL;
    size_t size = 0;
    fb_err_t rc = spool_read(path, S_FILE_MAX, &data, &size);
    if (rc == FB_ERR_TOO_LARGE) {
        s_reject(self, name, 413, "too_large", NULL, "over 1 MiB");
        return true;
    }
    if (rc != FB_OK) {
        adapter_log(self->adapter, FB_LOG_ERROR, "spool file=%s cannot be read: %s", name,
                    fb_err_str(rc));
        return false;
    }
    json_error_t jerr;
    json_t *req = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    free(data);
    if (!req || !json_is_object(req)) {
        char why[256];
        snprintf(why, sizeof why, "not a JSON object%s%s", req ? "" : ": ", req ? "" : jerr.text);
        s_reject(self, name, 400, "bad_json", NULL, why);
        json_decref(req);
        return true;
    }
    const char *action, *vacancy;
    const json_t *body;
    bool handled = true;
    if (s_request(self, name, req, &action, &vacancy, &body)) {
        api_result_t out;
        api_action(self->api, action, vacancy, body, &out);
        if (out.status == 200 || out.status == 201) {
            s_done(self, name, out.json);
        } else if (out.status >= 400 && out.status < 500) {
            /* Fields of the body are under "body" in the file. */
            char field[256];
            bool in_body = strcmp(out.code, "invalid") == 0 && *out.field;
            snprintf(field, sizeof field, "%s%s", in_body ? "body." : "", out.field);
            s_reject(self, name, out.status, out.code, field, out.message);
        } else {
            adapter_log(self->adapter, FB_LOG_INFO, "spool file=%s kept in inbox status=%d%s%s",
                        name, out.status, out.status == 202 ? " (queued)" : " reason=",
                        out.status == 202 ? "" : out.code);
            handled = false;
        }
        api_result_clear(&out);
    }
    json_decref(req);
    return handled;
}

static void s_scan_inbox(batch_t *self, int64_t now)
{
    char **names = NULL;
    size_t n = 0;
    if (spool_list(self->inbox, S_SETTLE_MS, &names, &n) != FB_OK) {
        adapter_log(self->adapter, FB_LOG_ERROR, "spool cannot list %s", self->inbox);
        self->next_scan_ms = now + S_RETRY_MS;
        return;
    }
    bool kept = false;
    for (size_t i = 0; i < n; i++)
        kept |= !s_handle(self, names[i]);
    spool_names_free(names, n);
    self->next_scan_ms = now + (kept ? S_RETRY_MS : S_SCAN_MS);
}

/* ---------------------------------------------------------------- outbox */

static void s_write_outbox(batch_t *self, int64_t now)
{
    if (now < self->next_outbox_ms)
        return;
    for (int i = 0; i < S_OUTBOX_PER_TICK; i++) {
        json_t *event = NULL;
        int64_t id = 0;
        fb_err_t rc = offers_next_event(self->offers, self->outbox_cursor, &event, &id);
        if (rc == FB_ERR_NOT_FOUND)
            return;
        char name[64];
        snprintf(name, sizeof name, "event-%012lld.json", (long long)id);
        if (rc == FB_OK)
            rc = spool_write_json(self->outbox, name, event);
        json_decref(event);
        if (rc == FB_OK)
            rc = offers_set_cursor(self->offers, "outbox", id);
        if (rc != FB_OK) {
            adapter_log(self->adapter, FB_LOG_ERROR,
                        "spool outbox event=%lld not written: %s (trying again in %d ms)",
                        (long long)id, fb_err_str(rc), S_RETRY_MS);
            self->next_outbox_ms = now + S_RETRY_MS;
            return;
        }
        self->outbox_cursor = id;
    }
}

void batch_tick(batch_t *self)
{
    int64_t now = fb_now_ms();
    if (now >= self->next_scan_ms)
        s_scan_inbox(self, now);
    s_write_outbox(self, now);
}
