/* items.c - an inbox file read into messages and routes, or into errors
 * (see items.h).
 *
 * Owns the two file forms (JSON, CSV), where a CSV row's type comes from,
 * the routing columns, and the checking of a whole file in a state trial.
 * Does not send, move or write anything (inbox.c does).
 *
 * Invariant: a file yields either messages or errors, never both, and the
 * state is as it was when items_load returns. */
#include "items.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"
#include "csv.h"
#include "track.h"

/* The routing columns of a CSV file, left out of the payload. */
static const char *const s_skip[] = {"type", "to", "topics", "correlation_id", NULL};

static bool s_ends_with(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e && strcasecmp(name + n - e, ext) == 0;
}

bool items_is_json(const char *name)
{
    return s_ends_with(name, ".json");
}

bool items_is_csv(const char *name)
{
    return s_ends_with(name, ".csv");
}

json_t *items_text(const char *s)
{
    json_t *j = json_string(s ? s : "");
    if (j)
        return j;
    /* Not UTF-8: keep the ASCII, show the rest as '?'. */
    char *copy = strdup(s);
    if (!copy)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

json_t *items_error(unsigned line, const char *key, const char *name, const char *reason)
{
    json_t *e = json_object();
    if (!e)
        return NULL;
    if (line)
        json_object_set_new(e, "line", json_integer(line));
    if (key && name)
        json_object_set_new(e, key, items_text(name));
    json_object_set_new(e, "reason", items_text(reason));
    return e;
}

static void s_error(items_t *out, unsigned line, const char *key, const char *name,
                    const char *reason)
{
    json_array_append_new(out->errors, items_error(line, key, name, reason));
}

/* Splits "path: reason" (the form of fb_json_to_message and
 * adapter_json_msg errors) into its two parts. */
static void s_split(const char *why, char *path, size_t pathlen, const char **reason)
{
    /* adapter_json_msg gives an error at the payload's (or household's) root
     * as "payload.<reason>": the field is the payload itself. */
    static const char *const roots[] = {"payload.", "household."};
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(roots[i]);
        if (strncmp(why, roots[i], n) == 0 && !strstr(why, ": ") && n - 1 < pathlen) {
            snprintf(path, pathlen, "%.*s", (int)(n - 1), roots[i]);
            *reason = why + n;
            return;
        }
    }
    const char *colon = strstr(why, ": ");
    if (!colon || (size_t)(colon - why) >= pathlen || memchr(why, ' ', (size_t)(colon - why))) {
        path[0] = '\0';
        *reason = why;
        return;
    }
    memcpy(path, why, (size_t)(colon - why));
    path[colon - why] = '\0';
    *reason = colon + 2;
}

static void s_msg_clear(items_msg_t *m)
{
    fb_json_free_message(m->payload);
    fb_json_free_message(m->household);
    routing_clear(&m->route);
    free(m->correlation_id);
    memset(m, 0, sizeof *m);
}

void items_free(items_t *items)
{
    for (size_t i = 0; i < items->n; i++)
        s_msg_clear(&items->msgs[i]);
    free(items->msgs);
    json_decref(items->errors);
    memset(items, 0, sizeof *items);
}

/* A new, zeroed message at the end of out->msgs. */
static items_msg_t *s_push(items_t *out)
{
    items_msg_t *p = realloc(out->msgs, (out->n + 1) * sizeof *p);
    if (!p)
        return NULL;
    out->msgs = p;
    memset(&p[out->n], 0, sizeof *p);
    return &p[out->n++];
}

/* An error about a payload field of m: a CSV row names columns, so there
 * "payload.x" is column "x". */
static void s_field_error(items_t *out, const items_msg_t *m, const char *field, const char *reason)
{
    if (out->csv && strncmp(field, "payload.", 8) == 0)
        field += 8;
    s_error(out, m->line, out->csv ? "column" : "field", *field ? field : NULL, reason);
}

/* Gives m its default route if the file gave none, checks it against what
 * was sent before (track_check), then records it in the trial so the next
 * rows see it. FB_ERR_PARSE after adding an error. */
static fb_err_t s_route(const items_conf_t *conf, items_t *out, items_msg_t *m)
{
    if (m->route.n_to == 0 && m->route.n_topics == 0) {
        routing_error_t why;
        fb_err_t rc = routing_default(conf->state, conf->routing, m->entry->type, m->payload,
                                      &m->route, &why);
        if (rc != FB_OK) {
            s_field_error(out, m, why.field, why.reason);
            return rc;
        }
    }
    track_error_t bad;
    fb_err_t rc = track_check(conf->state, m->entry->type, m->payload, &bad);
    if (rc == FB_ERR_PARSE)
        s_field_error(out, m, bad.field, bad.reason);
    return rc == FB_OK ? track_sent(conf->state, m->entry->type, m->payload) : rc;
}

/* ---- JSON files ---- */

static fb_err_t s_load_json(const items_conf_t *conf, const uint8_t *data, size_t len, items_t *out)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        char reason[300];
        snprintf(reason, sizeof reason, "not valid JSON: %s (column %d)", jerr.text, jerr.column);
        s_error(out, jerr.line > 0 ? (unsigned)jerr.line : 0, NULL, NULL, reason);
        return FB_OK;
    }
    adapter_json_msg_t jm;
    char why[512] = "";
    fb_err_t rc = adapter_json_msg(root, &jm, why, sizeof why);
    if (rc == FB_ERR_PARSE) {
        char path[128];
        const char *reason;
        s_split(why, path, sizeof path, &reason);
        s_error(out, 0, "field", *path ? path : NULL, reason);
        rc = FB_OK;
    } else if (rc == FB_OK) {
        items_msg_t *m = s_push(out);
        rc = m ? FB_OK : FB_ERR_NOMEM;
        if (m) {
            m->entry = jm.entry;
            m->payload = jm.payload;
            m->household = jm.household;
            jm.payload = jm.household = NULL;
            for (size_t i = 0; rc == FB_OK && i < jm.msg.n_to; i++)
                rc = routing_add_to(&m->route, jm.msg.to[i]);
            for (size_t i = 0; rc == FB_OK && i < jm.msg.n_topics; i++)
                rc = routing_add_topic(&m->route, jm.msg.topics[i]);
            if (rc == FB_OK && jm.msg.correlation_id &&
                !(m->correlation_id = strdup(jm.msg.correlation_id)))
                rc = FB_ERR_NOMEM;
            if (rc == FB_OK)
                rc = s_route(conf, out, m);
            if (rc == FB_ERR_PARSE)
                rc = FB_OK;
        }
    }
    adapter_json_msg_free(&jm);
    json_decref(root);
    return rc;
}

/* ---- CSV files ---- */

/* The type a file's name gives its rows: the name up to the first '-' or
 * '.', as a message name. NULL when it names none. */
static const fb_catalog_entry_t *s_type_of_name(const char *name)
{
    char prefix[64];
    size_t n = strcspn(name, "-.");
    if (n == 0 || n >= sizeof prefix)
        return NULL;
    memcpy(prefix, name, n);
    prefix[n] = '\0';
    return adapter_domain_type(prefix);
}

/* The columns left out of a row's payload: the routing ones and, in a file
 * of several types (a "type" column), the row's empty cells, since the
 * other types' columns are empty in it. NULL-terminated; free() it. */
static const char **s_skip_for(const csv_t *csv, const csv_row_t *row, bool mixed)
{
    const csv_row_t *header = csv_header(csv);
    size_t n_fixed = sizeof s_skip / sizeof s_skip[0] - 1;
    const char **skip = calloc(n_fixed + (mixed ? header->n : 0) + 1, sizeof *skip);
    if (!skip)
        return NULL;
    memcpy(skip, s_skip, n_fixed * sizeof *skip);
    size_t n = n_fixed;
    for (size_t i = 0; mixed && i < header->n && i < row->n; i++)
        if (row->cells[i][0] == '\0')
            skip[n++] = header->cells[i];
    return skip;
}

/* Reads one data row into a message (routed in the trial); an error is
 * added to out->errors instead when it does not fit. */
static fb_err_t s_load_row(const items_conf_t *conf, const csv_t *csv, const csv_row_t *row,
                           const fb_catalog_entry_t *file_type, items_t *out)
{
    const char *type_cell = csv_cell(csv, row, "type");
    const fb_catalog_entry_t *entry = file_type;
    if (type_cell && *type_cell) {
        entry = adapter_domain_type(type_cell);
        if (!entry) {
            char reason[300];
            snprintf(reason, sizeof reason, "unknown message type \"%.200s\"", type_cell);
            s_error(out, row->line, "column", "type", reason);
            return FB_OK;
        }
    }
    if (!entry) {
        s_error(out, row->line, "column", "type",
                "no message type: give a \"type\" column, or start the file name with the "
                "type (LogementLibere-....csv)");
        return FB_OK;
    }
    json_t *json = NULL;
    csv_error_t cerr;
    memset(&cerr, 0, sizeof cerr);
    const char **skip = s_skip_for(csv, row, type_cell != NULL);
    if (!skip)
        return FB_ERR_NOMEM;
    fb_err_t rc = csv_row_to_json(csv, row, entry->desc, skip, conf->tz, &json, &cerr);
    free(skip);
    if (rc != FB_OK) {
        s_error(out, cerr.line ? cerr.line : row->line, "column",
                cerr.column[0] ? cerr.column : NULL, cerr.reason[0] ? cerr.reason : fb_err_str(rc));
        return rc == FB_ERR_NOMEM ? rc : FB_OK;
    }
    ProtobufCMessage *payload = NULL;
    char why[384] = "";
    rc = fb_json_to_message(entry->desc, json, &payload, why, sizeof why);
    json_decref(json);
    if (rc != FB_OK) {
        char path[128];
        const char *reason;
        s_split(why, path, sizeof path, &reason);
        s_error(out, row->line, "column", *path ? path : NULL, *reason ? reason : fb_err_str(rc));
        return rc == FB_ERR_NOMEM ? rc : FB_OK;
    }
    items_msg_t *m = s_push(out);
    if (!m) {
        fb_json_free_message(payload);
        return FB_ERR_NOMEM;
    }
    m->line = row->line;
    m->entry = entry;
    m->payload = payload;
    const char *correlation = csv_cell(csv, row, "correlation_id");
    rc = routing_add_cell(&m->route, csv_cell(csv, row, "to"), false);
    if (rc == FB_OK)
        rc = routing_add_cell(&m->route, csv_cell(csv, row, "topics"), true);
    if (rc == FB_OK && correlation && *correlation && !(m->correlation_id = strdup(correlation)))
        rc = FB_ERR_NOMEM;
    if (rc == FB_OK)
        rc = s_route(conf, out, m);
    return rc == FB_ERR_PARSE ? FB_OK : rc;
}

static fb_err_t s_load_csv(const items_conf_t *conf, const char *name, const uint8_t *data,
                           size_t len, items_t *out)
{
    csv_t *csv = NULL;
    csv_error_t cerr;
    memset(&cerr, 0, sizeof cerr);
    fb_err_t rc = csv_parse((const char *)data, len, conf->csv_sep, &csv, &cerr);
    if (rc != FB_OK) {
        s_error(out, cerr.line, "column", cerr.column[0] ? cerr.column : NULL,
                cerr.reason[0] ? cerr.reason : fb_err_str(rc));
        csv_free(&csv);
        return rc == FB_ERR_NOMEM ? rc : FB_OK;
    }
    if (csv_count(csv) == 0)
        s_error(out, 0, NULL, NULL, "no data row after the header");
    const fb_catalog_entry_t *file_type = s_type_of_name(name);
    rc = FB_OK;
    for (size_t i = 0; rc == FB_OK && i < csv_count(csv); i++)
        rc = s_load_row(conf, csv, csv_row(csv, i), file_type, out);
    csv_free(&csv);
    return rc;
}

fb_err_t items_load(const items_conf_t *conf, const char *name, const uint8_t *data, size_t len,
                    items_t *out)
{
    memset(out, 0, sizeof *out);
    out->errors = json_array();
    if (!out->errors)
        return FB_ERR_NOMEM;
    out->csv = items_is_csv(name);
    if (!out->csv && !items_is_json(name)) {
        s_error(out, 0, NULL, NULL,
                "unsupported file: the inbox takes .json (one message) and .csv (one message "
                "per row) files");
        return FB_OK;
    }
    /* Rows are routed against the state their earlier rows would leave. */
    fb_err_t rc = state_trial_begin(conf->state);
    if (rc != FB_OK)
        return rc;
    rc = out->csv ? s_load_csv(conf, name, data, len, out) : s_load_json(conf, data, len, out);
    fb_err_t end = state_trial_end(conf->state);
    if (rc == FB_OK)
        rc = end;
    if (rc == FB_OK && json_array_size(out->errors) > 0) {
        /* A refused file sends nothing. */
        for (size_t i = 0; i < out->n; i++)
            s_msg_clear(&out->msgs[i]);
        out->n = 0;
    }
    return rc;
}
