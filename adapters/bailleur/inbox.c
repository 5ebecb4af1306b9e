/* inbox.c - taking the files of the inbox (see inbox.h).
 *
 * Owns the life of an inbox file: read, checked (items.c), sent, recorded,
 * and moved with its receipt or error file; and the LogementIssue that
 * follows an accepted decision or lease.
 *
 * Invariants: a file leaves the inbox only after its receipt or error file
 * is durably written in its new directory; a file that could not be
 * handled for a local or transient reason stays in the inbox; the state
 * records a message only after the broker accepted it. */
#include "inbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "items.h"
#include "outcome.h"
#include "spool.h"
#include "track.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x

/* How one file went. */
typedef struct {
    const char *name;
    json_t *receipts; /* JSON: the receipt object; CSV: [{"line", "receipt"}] */
    json_t *refusals; /* errors of refused messages */
    bool later;       /* keep the file in the inbox for the next scan */
    size_t accepted, duplicates;
} s_outcome_t;

/* Says once per file that it waits for the broker. */
static void s_say_waiting(bailleur_t *b, const char *name, const char *why)
{
    if (strcmp(b->waiting, name) == 0)
        return;
    snprintf(b->waiting, sizeof b->waiting, "%s", name);
    adapter_log(b->adapter, FB_LOG_INFO, "%s: kept in the inbox (%s); offered again at each scan",
                name, why);
}

/* ---- moving files out of the inbox ---- */

/* Writes <final><suffix> (the receipt or error file) in dest_dir, then
 * moves the file there as <final>, a name not taken (spool_set_aside). */
static bool s_move_with(bailleur_t *b, const char *name, const char *dest_dir, const char *suffix,
                        json_t *side, char *final, size_t cap)
{
    fb_err_t rc = spool_set_aside(b->inbox, name, dest_dir, suffix, side, final, cap);
    if (rc != FB_OK)
        adapter_log(b->adapter, FB_LOG_ERROR,
                    "%s: could not move it to %s (%s: %s); kept in the inbox", name, dest_dir,
                    fb_err_str(rc), strerror(errno));
    return rc == FB_OK;
}

/* Where an error is, for the log: "line 3, column typologie", and for a
 * message the broker refused its reason code and id ("line 3: UNKNOWN_
 * RECIPIENT msg_id=..."). Never the reason in words: it may quote the
 * file's values (a NUR, a household's details), which stay in the error
 * file. */
static void s_describe(const json_t *e, char *out, size_t cap)
{
    const json_t *line = json_object_get(e, "line");
    const char *column = json_string_value(json_object_get(e, "column"));
    const char *field = json_string_value(json_object_get(e, "field"));
    const char *msg_id = json_string_value(json_object_get(e, "message_id"));
    const char *code = msg_id ? json_string_value(json_object_get(e, "reason")) : NULL;
    size_t n = 0;
    out[0] = '\0';
    if (line)
        n += (size_t)snprintf(out + n, cap - n, "line %lld", (long long)json_integer_value(line));
    if (n < cap && (column || field))
        n += (size_t)snprintf(out + n, cap - n, "%s%s %s", n ? ", " : "",
                              column ? "column" : "field", column ? column : field);
    if (n < cap && code)
        n += (size_t)snprintf(out + n, cap - n, "%s%s msg_id=%s", n ? ": " : "", code, msg_id);
    if (n == 0)
        snprintf(out, cap, "the file as a whole");
}

/* Moves the file to rejected/ with its error file. */
static void s_reject(bailleur_t *b, const char *name, json_t *errors, json_t *receipts)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "file", items_text(name));
    json_object_set(doc, "errors", errors);
    if (receipts && json_array_size(receipts) > 0)
        json_object_set(doc, "receipts", receipts);
    char final[1024], first[600];
    if (s_move_with(b, name, b->rejected, ".error.json", doc, final, sizeof final)) {
        s_describe(json_array_get(errors, 0), first, sizeof first);
        size_t n = json_array_size(errors);
        adapter_log(b->adapter, FB_LOG_WARN,
                    "%s: rejected (%zu error%s; first: %s; reasons in rejected/%s.error.json) "
                    "-> rejected/%s",
                    name, n, n > 1 ? "s" : "", first, final, final);
    }
    json_decref(doc);
}

/* ---- sending ---- */

/* Publishes the commune's LogementIssue after an accepted message, if it
 * makes one. FB_OK when done (or refused: logged, the file is not at
 * fault), else the error that keeps the file for later. */
static fb_err_t s_publish_issue(bailleur_t *b, const char *name, const items_msg_t *m)
{
    outcome_t o;
    bool has = false;
    fb_err_t rc = outcome_issue(b->state, b->tz, m->entry->type, m->payload, &o, &has);
    if (rc != FB_OK || !has)
        return rc;
    const char *const topics[1] = {o.topic};
    adapter_msg_t msg = {
        .type = T(LOGEMENT_ISSUE), .topics = topics, .n_topics = 1, .payload = &o.issue.base};
    adapter_result_t res;
    rc = adapter_send(b->adapter, &msg, &res);
    if (rc == FB_OK && res.accepted)
        adapter_log(b->adapter, FB_LOG_INFO, "%s: LogementIssue of %s on %s msg_id=%s%s", name,
                    o.issue.vacancy_id, o.topic, res.message_id_hex,
                    res.duplicate ? " (duplicate)" : "");
    else if (rc == FB_OK || !(adapter_retry_later(rc) || rc == FB_ERR_STORE || rc == FB_ERR_NOMEM))
        adapter_log(b->adapter, FB_LOG_ERROR, "%s: LogementIssue of %s refused: %s %s", name,
                    o.issue.vacancy_id, fb_err_name(rc == FB_OK ? res.reason : rc), res.detail);
    adapter_result_clear(&res);
    return adapter_retry_later(rc) || rc == FB_ERR_STORE || rc == FB_ERR_NOMEM ? rc : FB_OK;
}

/* A refusal for the error file: line, reason code name, detail. */
static json_t *s_refusal(const items_msg_t *m, fb_err_t reason, const adapter_result_t *res)
{
    json_t *e = json_object();
    if (m->line)
        json_object_set_new(e, "line", json_integer(m->line));
    json_object_set_new(e, "reason", json_string(fb_err_name(reason)));
    json_object_set_new(e, "detail", items_text(res->detail));
    json_object_set_new(e, "message_id", json_string(res->message_id_hex));
    return e;
}

/* What an accepted message leaves: its receipt, its state, its issue. */
static void s_accepted(bailleur_t *b, s_outcome_t *out, const items_msg_t *m, adapter_result_t *res)
{
    out->accepted++;
    out->duplicates += res->duplicate;
    if (m->line)
        json_array_append_new(out->receipts,
                              json_pack("{s:i, s:O}", "line", (int)m->line, "receipt",
                                        res->receipt ? res->receipt : json_null()));
    else
        json_array_append(out->receipts, res->receipt ? res->receipt : json_null());
    adapter_log(b->adapter, FB_LOG_DEBUG, "%s: line %u: %s accepted msg_id=%s store_seq=%llu%s",
                out->name, m->line, m->entry->name, res->message_id_hex,
                (unsigned long long)res->store_seq, res->duplicate ? " (duplicate)" : "");
    fb_err_t rc = track_sent(b->state, m->entry->type, m->payload);
    if (rc != FB_OK) {
        adapter_log(b->adapter, FB_LOG_ERROR, "%s: line %u: state not recorded (%s)", out->name,
                    m->line, fb_err_str(rc));
        out->later = true;
        return;
    }
    rc = s_publish_issue(b, out->name, m);
    if (rc != FB_OK) {
        s_say_waiting(b, out->name, fb_err_str(rc));
        out->later = true;
    }
}

/* Sends one message; false when the rest of the file must wait. */
static bool s_send_one(bailleur_t *b, s_outcome_t *out, const items_msg_t *m)
{
    adapter_msg_t msg = {.type = m->entry->type,
                         .to = (const char *const *)m->route.to,
                         .n_to = m->route.n_to,
                         .topics = (const char *const *)m->route.topics,
                         .n_topics = m->route.n_topics,
                         .correlation_id = m->correlation_id,
                         .payload = m->payload,
                         .household = m->household};
    adapter_result_t res;
    fb_err_t rc = adapter_send(b->adapter, &msg, &res);
    if (rc == FB_OK && res.accepted) {
        s_accepted(b, out, m, &res);
    } else if (rc == FB_OK) {
        json_array_append_new(out->refusals, s_refusal(m, res.reason, &res));
        adapter_log(b->adapter, FB_LOG_WARN,
                    "%s: line %u: %s refused by the broker: %s %s msg_id=%s", out->name, m->line,
                    m->entry->name, fb_err_name(res.reason), res.detail, res.message_id_hex);
    } else if (adapter_retry_later(rc) || rc == FB_ERR_STORE || rc == FB_ERR_NOMEM ||
               rc == FB_ERR_IO) {
        /* Not the file's fault: the broker is away or busy, or our disk. */
        s_say_waiting(b, out->name, fb_err_str(rc));
        if (rc == FB_ERR_STORE || rc == FB_ERR_IO)
            adapter_log(b->adapter, FB_LOG_ERROR, "%s: line %u: %s", out->name, m->line,
                        fb_err_str(rc));
        out->later = true;
    } else {
        /* Could not be built (e.g. no key to seal a household for). */
        json_array_append_new(out->refusals, s_refusal(m, rc, &res));
        adapter_log(b->adapter, FB_LOG_WARN, "%s: line %u: %s not sent: %s %s", out->name, m->line,
                    m->entry->name, fb_err_name(rc), res.detail);
    }
    adapter_result_clear(&res);
    return !out->later;
}

/* Sends a checked file; false when it stays in the inbox for later. */
static bool s_send_file(bailleur_t *b, const char *name, const items_t *items)
{
    s_outcome_t out = {.name = name, .receipts = json_array(), .refusals = json_array()};
    for (size_t i = 0; i < items->n && s_send_one(b, &out, &items->msgs[i]); i++)
        ;
    if (out.later) {
        /* Sent again at the next scan: the accepted ones answer "duplicate". */
    } else if (json_array_size(out.refusals) > 0) {
        s_reject(b, name, out.refusals, out.receipts);
    } else {
        json_t *receipt =
            items->csv ? json_incref(out.receipts) : json_incref(json_array_get(out.receipts, 0));
        char final[1024];
        if (s_move_with(b, name, b->done, ".receipt.json", receipt, final, sizeof final))
            adapter_log(b->adapter, FB_LOG_INFO,
                        "%s: %zu message%s accepted (%zu duplicate) -> done/%s", name, out.accepted,
                        out.accepted > 1 ? "s" : "", out.duplicates, final);
        json_decref(receipt);
    }
    if (!out.later && strcmp(b->waiting, name) == 0)
        b->waiting[0] = '\0';
    json_decref(out.receipts);
    json_decref(out.refusals);
    return !out.later;
}

/* ---- one file ---- */

/* Handles one file; false when it stays in the inbox for later (then the
 * files after it wait too, so that they go in order). */
static bool s_take(bailleur_t *b, const char *name)
{
    char *path = spool_path(b->inbox, name);
    uint8_t *data = NULL;
    size_t len = 0;
    fb_err_t rc = path ? spool_read(path, INBOX_MAX_FILE, &data, &len) : FB_ERR_NOMEM;
    free(path);
    if (rc == FB_ERR_TOO_LARGE) {
        char reason[128];
        snprintf(reason, sizeof reason, "file larger than %u bytes", INBOX_MAX_FILE);
        json_t *errors = json_array();
        json_array_append_new(errors, items_error(0, NULL, NULL, reason));
        s_reject(b, name, errors, NULL);
        json_decref(errors);
        return true;
    }
    if (rc != FB_OK) {
        /* Gone meanwhile, or unreadable: looked at again next scan. */
        adapter_log(b->adapter, FB_LOG_WARN, "%s: cannot read it: %s (%s)", name, fb_err_str(rc),
                    strerror(errno));
        return true;
    }
    items_conf_t conf = {
        .state = b->state, .routing = &b->routing, .tz = b->tz, .csv_sep = b->csv_sep};
    items_t items;
    rc = items_load(&conf, name, data, len, &items);
    free(data);
    bool go_on = true;
    if (rc != FB_OK) {
        adapter_log(b->adapter, FB_LOG_ERROR, "%s: cannot be checked now (%s); kept in the inbox",
                    name, fb_err_str(rc));
        go_on = false;
    } else if (json_array_size(items.errors) > 0) {
        s_reject(b, name, items.errors, NULL);
    } else {
        go_on = s_send_file(b, name, &items);
    }
    items_free(&items);
    return go_on;
}

void inbox_scan(bailleur_t *b)
{
    char **names = NULL;
    size_t n = 0;
    if (spool_list(b->inbox, b->settle_ms, &names, &n) != FB_OK) {
        adapter_log(b->adapter, FB_LOG_ERROR, "inbox %s: cannot list it: %s", b->inbox,
                    strerror(errno));
        return;
    }
    for (size_t i = 0; i < n && !adapter_stopping(); i++)
        if (!s_take(b, names[i]))
            break;
    spool_names_free(names, n);
}
