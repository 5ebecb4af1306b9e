/* sne_files.c - the adapter's side of the SNE file exchange (see
 * sne_files.h and docs/SNE-FILES.md): writes request files, reads answer
 * files, moves handled answers to answers/done/ and unreadable ones to
 * answers/rejected/ beside a <name>.error.json.
 *
 * Invariants: a request file is written atomically and durably before
 * submit returns; an answer file leaves answers/ only after its callback
 * returned FB_OK (done/) or after it was found unreadable (rejected/, with
 * the reason written first). Files are handled in name order. */
#include "sne_files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spool.h"

typedef struct {
    char *requests, *answers, *answers_done, *answers_rejected;
    fb_log_fn log;
    void *log_ctx;
} s_files_t;

static const char *const s_subdirs[] = {"requests", "requests/done", "requests/rejected",
                                        "answers",  "answers/done",  "answers/rejected"};

fb_err_t sne_files_prepare(const char *dir, char *err, size_t errlen)
{
    fb_err_t rc = spool_mkdir(dir, err, errlen);
    for (size_t i = 0; rc == FB_OK && i < sizeof s_subdirs / sizeof *s_subdirs; i++) {
        char *path = spool_path(dir, s_subdirs[i]);
        if (!path) {
            snprintf(err, errlen, "out of memory");
            return FB_ERR_NOMEM;
        }
        rc = spool_mkdir(path, err, errlen);
        free(path);
    }
    return rc;
}

static fb_err_t s_submit(void *impl, const sne_record_t *rec, char *err, size_t errlen)
{
    s_files_t *self = impl;
    char name[SNE_RECORD_ID_MAX + 8];
    snprintf(name, sizeof name, "%s.json", rec->record_id);
    json_t *json = sne_record_to_json(rec);
    if (!json) {
        snprintf(err, errlen, "out of memory");
        return FB_ERR_NOMEM;
    }
    fb_err_t rc = spool_write_json(self->requests, name, json);
    json_decref(json);
    if (rc != FB_OK)
        snprintf(err, errlen, "cannot write a request in %s: %s", self->requests,
                 fb_err_str(rc)); /* its name (the record id) holds the NUR */
    return rc;
}

static bool s_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Sets an unreadable answer aside: the reason first, then the file. */
static void s_reject(s_files_t *self, const char *name, const sne_problem_t *p)
{
    fb_logf(self->log, self->log_ctx, FB_LOG_ERROR,
            "sne-files answer set aside file=%s/%s field=%s reason=\"%s\"", self->answers, name,
            *p->field ? p->field : "-", p->message);
    json_t *why =
        json_pack("{s:s, s:s, s:s}", "file", name, "field", p->field, "reason", p->message);
    char final[600];
    fb_err_t rc = why ? spool_set_aside(self->answers, name, self->answers_rejected, ".error.json",
                                        why, final, sizeof final)
                      : FB_ERR_NOMEM;
    json_decref(why);
    if (rc != FB_OK)
        fb_logf(self->log, self->log_ctx, FB_LOG_ERROR,
                "sne-files cannot set aside file=%s/%s reason=%s", self->answers, name,
                fb_err_str(rc));
}

/* Reads answers/<name>; FB_OK with *out, else the problem in *p. */
static fb_err_t s_read_answer(s_files_t *self, const char *name, sne_answer_t *out,
                              sne_problem_t *p)
{
    memset(p, 0, sizeof *p);
    if (!s_ends_with(name, ".json")) {
        snprintf(p->message, sizeof p->message, "not a .json file");
        return FB_ERR_PARSE;
    }
    char *path = spool_path(self->answers, name);
    uint8_t *data = NULL;
    size_t len = 0;
    fb_err_t rc = path ? spool_read(path, SNE_FILES_MAX_BYTES, &data, &len) : FB_ERR_NOMEM;
    free(path);
    if (rc != FB_OK) {
        snprintf(p->message, sizeof p->message, "cannot read: %s", fb_err_str(rc));
        return rc == FB_ERR_TOO_LARGE ? FB_ERR_PARSE : rc;
    }
    json_error_t jerr;
    json_t *json = json_loadb((const char *)data, len, 0, &jerr);
    free(data);
    if (!json) {
        snprintf(p->message, sizeof p->message, "not JSON: line %d: %s", jerr.line, jerr.text);
        return FB_ERR_PARSE;
    }
    rc = sne_answer_from_json(json, out, p);
    json_decref(json);
    return rc;
}

static fb_err_t s_collect(void *impl, sne_answer_fn fn, void *ctx, size_t *handled)
{
    s_files_t *self = impl;
    char **names = NULL;
    size_t n = 0;
    *handled = 0;
    fb_err_t rc = spool_list(self->answers, 0, &names, &n);
    for (size_t i = 0; rc == FB_OK && i < n; i++) {
        sne_answer_t answer;
        sne_problem_t p;
        fb_err_t read = s_read_answer(self, names[i], &answer, &p);
        if (read == FB_ERR_PARSE) {
            s_reject(self, names[i], &p);
            continue;
        }
        if (read != FB_OK) {
            rc = read; /* I/O trouble: try again at the next collect */
            break;
        }
        memset(&p, 0, sizeof p);
        rc = fn(ctx, &answer, &p);
        if (rc == FB_ERR_PARSE || rc == FB_ERR_NOT_FOUND) {
            s_reject(self, names[i], &p);
            rc = FB_OK;
            continue;
        }
        if (rc == FB_OK)
            rc = spool_move(self->answers, names[i], self->answers_done);
        if (rc == FB_OK)
            (*handled)++;
    }
    spool_names_free(names, n);
    return rc;
}

static void s_close(void *impl)
{
    s_files_t *self = impl;
    if (!self)
        return;
    free(self->requests);
    free(self->answers);
    free(self->answers_done);
    free(self->answers_rejected);
    free(self);
}

static const sne_iface_ops_t s_ops = {"files", s_submit, s_collect, s_close};

sne_iface_t *sne_files_open(const char *dir, fb_log_fn log, void *log_ctx, char *err, size_t errlen)
{
    if (sne_files_prepare(dir, err, errlen) != FB_OK)
        return NULL;
    s_files_t *self = calloc(1, sizeof *self);
    if (self) {
        self->requests = spool_path(dir, "requests");
        self->answers = spool_path(dir, "answers");
        self->answers_done = spool_path(dir, "answers/done");
        self->answers_rejected = spool_path(dir, "answers/rejected");
        self->log = log;
        self->log_ctx = log_ctx;
    }
    if (!self || !self->requests || !self->answers || !self->answers_done ||
        !self->answers_rejected) {
        s_close(self);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sne_iface_t *iface = sne_iface_new(&s_ops, self);
    if (!iface)
        snprintf(err, errlen, "out of memory");
    return iface;
}
