/* api.c - see api.h. Owns the routes, the table of actions (which offer
 * states each accepts, which state it leads to, how its body becomes
 * messages) and the answer to each request. Does not own the body checks
 * (validate.c), the offers' storage (offers.c), nor sending (adapter_send).
 *
 * One action, step by step: find the offer (404), read the body into its
 * messages (400/422), compute their content-addressed ids; if every one was
 * sent before, send again (adapter_send answers with the first receipts)
 * and say "duplicate"; else check the offer is in a state the action
 * accepts and has no other request queued (409), send each message
 * (stopping at the first refusal), and:
 * - all accepted: record them with the offer's new state, answer 201;
 * - some wait for the broker (unreachable, or asking to slow down): queue
 *   the request (resa_pending) and answer 202; api_retry_queued makes it
 *   again from the loop until all are accepted (then recorded as above) or
 *   one is refused (then an "ActionFailed" event tells the platform);
 * - one refused: answer with the refusal (the messages before it are
 *   recorded as sent, without a change of state).
 * Queuing the request itself, not only the sealed envelopes, is what makes
 * 202 hold even when the bailleur's encryption key could not be fetched. */
#include "api.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/v1/orientation.pb-c.h"
#include "validate.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_EVENTS_LIMIT_DEFAULT 100
#define S_EVENTS_LIMIT_MAX 1000

struct api {
    adapter_t *adapter;
    offers_t *offers;
    char *token;
};

/* ---------------------------------------------------------------- results */

static void s_result_set(api_result_t *out, int status, const char *code, const char *field,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* An error outcome: status, code, field (NULL: none) and message. */
static void s_result_set(api_result_t *out, int status, const char *code, const char *field,
                         const char *fmt, ...)
{
    out->status = status;
    snprintf(out->code, sizeof out->code, "%s", code);
    snprintf(out->field, sizeof out->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
    json_decref(out->json);
    out->json = json_pack("{s:s, s:o, s:s}", "error", out->code, "field",
                          field ? json_string(field) : json_null(), "message", out->message);
}

void api_result_clear(api_result_t *r)
{
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------- building messages */

/* One message of an action. */
typedef struct {
    ProtobufCMessage *payload;   /* owned */
    ProtobufCMessage *household; /* owned, Designation only, or NULL */
    uint32_t rank;               /* Designation only */
    const char *nur;             /* Designation only, points into payload */
    char id_hex[2 * FB_MESSAGE_ID_BYTES + 1];
    fb_err_t rc; /* adapter_send's result */
    adapter_result_t res;
    bool sent; /* adapter_send was called */
} s_out_t;

typedef struct {
    s_out_t m[VALIDATE_MAX_CANDIDATES];
    size_t n;
} s_batch_t;

static void s_batch_clear(s_batch_t *b)
{
    for (size_t i = 0; i < b->n; i++) {
        fb_json_free_message(b->m[i].payload);
        fb_json_free_message(b->m[i].household);
        if (b->m[i].sent)
            adapter_result_clear(&b->m[i].res);
    }
    memset(b, 0, sizeof *b);
}

/* Sets a string field of a message built by fb_json_to_message (freed
 * with it). False on OOM. */
static bool s_set(char **field, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return false;
    *field = copy;
    return true;
}

typedef fb_err_t (*s_build_fn)(const api_t *self, const offers_offer_t *offer, const json_t *body,
                               s_batch_t *out, validate_error_t *err);

static fb_err_t s_build_designations(const api_t *self, const offers_offer_t *offer,
                                     const json_t *body, s_batch_t *out, validate_error_t *err)
{
    validate_candidates_t cands;
    fb_err_t rc = validate_designations(body, offer->candidates_expected, &cands, err);
    if (rc != FB_OK)
        return rc;
    const char *me = adapter_actor(self->adapter);
    for (size_t i = 0; i < cands.n; i++) {
        Fluxbus__V1__Designation *d = cands.items[i].designation;
        s_out_t *m = &out->m[out->n++];
        m->payload = &d->base;
        m->household = cands.items[i].household ? &cands.items[i].household->base : NULL;
        cands.items[i].designation = NULL;
        cands.items[i].household = NULL;
        d->candidate_count = (uint32_t)cands.n;
        m->rank = d->rank;
        m->nur = d->nur;
        if (!s_set(&d->vacancy_id, offer->vacancy_id) ||
            !s_set(&d->convention_id, offer->convention_id) ||
            !s_set(&d->designating_actor_id, me) || !s_set(&d->credited_reservataire_actor_id, me))
            rc = FB_ERR_NOMEM;
    }
    validate_candidates_clear(&cands);
    return rc;
}

static fb_err_t s_build_remise(const api_t *self, const offers_offer_t *offer, const json_t *body,
                               s_batch_t *out, validate_error_t *err)
{
    Fluxbus__V1__RemiseADisposition *r = NULL;
    fb_err_t rc = validate_remise(body, &r, err);
    if (rc != FB_OK)
        return rc;
    out->m[out->n++].payload = &r->base;
    return s_set(&r->vacancy_id, offer->vacancy_id) &&
                   s_set(&r->convention_id, offer->convention_id)
               ? FB_OK
               : FB_ERR_NOMEM;
}

static fb_err_t s_build_decline(const api_t *self, const offers_offer_t *offer, const json_t *body,
                                s_batch_t *out, validate_error_t *err)
{
    Fluxbus__V1__OrientationDecline *d = NULL;
    fb_err_t rc = validate_decline(body, &d, err);
    if (rc != FB_OK)
        return rc;
    out->m[out->n++].payload = &d->base;
    return s_set(&d->vacancy_id, offer->vacancy_id) &&
                   s_set(&d->convention_id, offer->convention_id)
               ? FB_OK
               : FB_ERR_NOMEM;
}

static fb_err_t s_build_ack(const api_t *self, const offers_offer_t *offer, const json_t *body,
                            s_batch_t *out, validate_error_t *err)
{
    Fluxbus__V1__OrientationAck *a = NULL;
    fb_err_t rc = validate_ack(body, &a, err);
    if (rc != FB_OK)
        return rc;
    out->m[out->n++].payload = &a->base;
    return s_set(&a->vacancy_id, offer->vacancy_id) &&
                   s_set(&a->convention_id, offer->convention_id)
               ? FB_OK
               : FB_ERR_NOMEM;
}

/* ---------------------------------------------------------------- the actions */

static const char *const s_from_open[] = {"oriente", "acquitte", NULL};
static const char *const s_from_new[] = {"oriente", NULL};
/* Candidates found then withdrawn, or all refused: the dwelling may still
 * be handed back. */
static const char *const s_from_remise[] = {"oriente", "acquitte", "designe", "refuse", NULL};

typedef struct {
    const char *name;
    int type;
    const char *type_name;
    const char *const *from; /* states the offer may be in */
    const char *to;          /* its state once sent */
    bool empty_body_ok;
    s_build_fn build;
} s_action_t;

static const s_action_t s_actions[] = {
    {"designations", T(DESIGNATION), "Designation", s_from_open, "designe", false,
     s_build_designations},
    {"remise", T(REMISE_A_DISPOSITION), "RemiseADisposition", s_from_remise, "remis", false,
     s_build_remise},
    {"ack", T(ORIENTATION_ACK), "OrientationAck", s_from_new, "acquitte", true, s_build_ack},
    {"decline", T(ORIENTATION_DECLINE), "OrientationDecline", s_from_open, "decline", false,
     s_build_decline},
};

static const s_action_t *s_action_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof s_actions / sizeof s_actions[0]; i++)
        if (strcmp(name, s_actions[i].name) == 0)
            return &s_actions[i];
    return NULL;
}

bool api_action_known(const char *action)
{
    return s_action_by_name(action) != NULL;
}

/* Whether the offer accepts the action now: its state is one of the
 * action's, and an offer still waiting for candidates is within its
 * deadline. Fills *out with the 409 when not. */
static bool s_allowed(const s_action_t *a, const offers_offer_t *offer, int64_t now_ms,
                      api_result_t *out)
{
    bool state_ok = false;
    for (size_t i = 0; a->from[i] && !state_ok; i++)
        state_ok = strcmp(offer->state, a->from[i]) == 0;
    if (!state_ok) {
        s_result_set(out, 409, "offer_not_open", "state",
                     "offer %s is in state %s: %s is not possible any more", offer->vacancy_id,
                     offer->state, a->name);
        return false;
    }
    bool waiting = strcmp(offer->state, "oriente") == 0 || strcmp(offer->state, "acquitte") == 0;
    if (waiting && !offers_is_open(offer, now_ms)) {
        char deadline[32];
        offers_iso_time(offer->deadline_ms, deadline);
        s_result_set(out, 409, "offer_not_open", "deadline", "offer %s: its deadline passed at %s",
                     offer->vacancy_id, deadline);
        return false;
    }
    return true;
}

/* The adapter message of m, to the offer's bailleur, in reply to its
 * latest Orientation (so the same answer to a later orientation round is
 * a new message, not a duplicate). reply: 16 bytes of storage. */
static adapter_msg_t s_msg(const s_action_t *a, const offers_offer_t *offer, const s_out_t *m,
                           const char *const *to, uint8_t *reply)
{
    bool has_reply = fb_hex_decode(offer->orientation_id, reply, FB_MESSAGE_ID_BYTES) == FB_OK;
    adapter_msg_t msg = {
        .type = a->type,
        .to = to,
        .n_to = 1,
        .correlation_id = offer->vacancy_id,
        .payload = m->payload,
        .household = m->household,
        .in_reply_to = has_reply ? reply : NULL,
    };
    return msg;
}

/* The event "message" of a sent message: what we sent, without the
 * household (it is ours, and sealed for the bailleur on the bus). */
static json_t *s_sent_json(const api_t *self, const s_action_t *a, const offers_offer_t *offer,
                           const s_out_t *m)
{
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:[s], s:s, s:o, s:b}", "message_id", m->id_hex, "type",
                  a->type_name, "sender", adapter_actor(self->adapter), "recipients",
                  offer->bailleur, "correlation_id", offer->vacancy_id, "payload",
                  fb_json_from_message(m->payload), "household_sealed", m->household != NULL);
    if (j && *offer->orientation_id)
        json_object_set_new(j, "in_reply_to", json_string(offer->orientation_id));
    if (j && m->res.receipt)
        json_object_set(j, "receipt", m->res.receipt);
    return j;
}

/* True when m waits for the broker (adapter_flush or a queued request
 * will send it). */
static bool s_queued(const s_out_t *m)
{
    return m->sent && adapter_retry_later(m->rc);
}

/* The per-message part of an answer. */
static json_t *s_outcome_json(const s_out_t *m)
{
    json_t *j = json_pack("{s:s, s:b, s:b, s:b}", "message_id", m->id_hex, "accepted",
                          m->sent && m->rc == FB_OK && m->res.accepted, "duplicate",
                          m->sent && m->res.duplicate, "queued", s_queued(m));
    if (!j)
        return NULL;
    if (m->nur) {
        json_object_set_new(j, "rank", json_integer(m->rank));
        json_object_set_new(j, "nur", json_string(m->nur));
    }
    if (m->sent && m->rc == FB_OK && !m->res.accepted) {
        json_object_set_new(j, "refused", json_string(fb_err_name(m->res.reason)));
        json_object_set_new(j, "detail", json_string(m->res.detail));
    }
    if (m->sent && m->res.receipt)
        json_object_set(j, "receipt", m->res.receipt);
    return j;
}

static json_t *s_outcomes_json(const s_batch_t *b)
{
    json_t *list = json_array();
    for (size_t i = 0; i < b->n; i++)
        json_array_append_new(list, s_outcome_json(&b->m[i]));
    return list;
}

/* Sends the batch in order; stops at the first message that is refused or
 * cannot be sent. Once one waits for the broker (or when there is no
 * connection and the messages are new), the rest wait too without trying:
 * a request must not hold the loop for one connection timeout per
 * message. Returns the index of the message that stopped it, or b->n. */
static size_t s_send_all(api_t *self, const s_action_t *a, const offers_offer_t *offer,
                         s_batch_t *b, bool known)
{
    const char *const to[1] = {offer->bailleur};
    bool waiting = !known && !adapter_connected(self->adapter);
    for (size_t i = 0; i < b->n; i++) {
        s_out_t *m = &b->m[i];
        m->sent = true;
        if (waiting) {
            m->rc = FB_ERR_TRANSPORT;
            continue;
        }
        uint8_t reply[FB_MESSAGE_ID_BYTES];
        adapter_msg_t msg = s_msg(a, offer, m, to, reply);
        m->rc = adapter_send(self->adapter, &msg, &m->res);
        waiting = s_queued(m);
        if (!waiting && (m->rc != FB_OK || !m->res.accepted))
            return i;
    }
    return b->n;
}

/* Records the first `count` messages of the batch as sent, moves the offer
 * to `state` (NULL: stays) and ends its queued request. */
static fb_err_t s_record(api_t *self, const s_action_t *a, const offers_offer_t *offer,
                         const s_batch_t *b, size_t count, const char *state, int64_t now_ms)
{
    offers_sent_t sent[VALIDATE_MAX_CANDIDATES] = {{0}};
    json_t *msgs[VALIDATE_MAX_CANDIDATES] = {NULL};
    fb_err_t rc = FB_OK;
    for (size_t i = 0; i < count; i++) {
        msgs[i] = s_sent_json(self, a, offer, &b->m[i]);
        if (!msgs[i])
            rc = FB_ERR_NOMEM;
        sent[i] = (offers_sent_t){b->m[i].id_hex, a->type_name, b->m[i].rank, b->m[i].nur, msgs[i]};
    }
    if (rc == FB_OK)
        rc = offers_record_sent(self->offers, offer->vacancy_id, sent, count, state, now_ms);
    for (size_t i = 0; i < count; i++)
        json_decref(msgs[i]);
    return rc;
}

/* The refusal of message `stop` of the batch. */
static void s_answer_refused(const s_batch_t *b, size_t stop, api_result_t *out)
{
    const s_out_t *m = &b->m[stop];
    if (m->rc != FB_OK)
        s_result_set(out, m->rc == FB_ERR_UNKNOWN_KEY ? 502 : 500,
                     m->rc == FB_ERR_UNKNOWN_KEY ? "no_encryption_key" : "send_failed", NULL,
                     "message %zu of %zu could not be sent: %s%s%s", stop + 1, b->n,
                     fb_err_str(m->rc), *m->res.detail ? ": " : "", m->res.detail);
    else
        s_result_set(out, 422, "refused_by_bus", NULL,
                     "message %zu of %zu refused by the broker: %s %s", stop + 1, b->n,
                     fb_err_name(m->res.reason), m->res.detail);
    json_object_set_new(out->json, "messages", s_outcomes_json(b));
}

/* The answer once every message was accepted or queued: 200 (the same
 * request again, or messages the broker had accepted before), 201, or 202
 * (queued). */
static void s_answer_sent(api_t *self, const s_action_t *a, const offers_offer_t *offer,
                          const s_batch_t *b, bool repeat, api_result_t *out)
{
    bool queued = false, duplicate = true; /* every message accepted before */
    for (size_t i = 0; i < b->n; i++) {
        queued |= s_queued(&b->m[i]);
        duplicate &= b->m[i].res.duplicate;
    }
    duplicate |= repeat;
    offers_offer_t now;
    if (offers_find(self->offers, offer->vacancy_id, &now) != FB_OK)
        now = *offer;
    out->status = queued ? 202 : duplicate ? 200 : 201;
    out->json = json_pack("{s:s, s:s, s:s, s:b, s:b, s:o}", "vacancy_id", offer->vacancy_id,
                          "action", a->name, "state", now.state, "duplicate", duplicate, "queued",
                          queued, "messages", s_outcomes_json(b));
}

/* A queued request ended in a refusal: the platform learns it from an
 * "ActionFailed" event. */
static fb_err_t s_record_failure(api_t *self, const s_action_t *a, const offers_offer_t *offer,
                                 const s_batch_t *b, const api_result_t *out, int64_t now_ms)
{
    char key[80];
    snprintf(key, sizeof key, "failed:%s:%lld", b->m[0].id_hex, (long long)now_ms);
    json_t *ids = json_array();
    for (size_t i = 0; i < b->n; i++)
        json_array_append_new(ids, json_string(b->m[i].id_hex));
    json_t *msg = json_pack("{s:s, s:s, s:i, s:s, s:s, s:o}", "action", a->name, "vacancy_id",
                            offer->vacancy_id, "status", out->status, "error", out->code, "message",
                            out->message, "message_ids", ids);
    fb_err_t rc = msg ? offers_record_failure(self->offers, offer->vacancy_id, key, msg, now_ms)
                      : FB_ERR_NOMEM;
    json_decref(msg);
    return rc;
}

/* How a request stands before it is sent. */
typedef struct {
    bool known;      /* all its messages were sent and recorded before */
    bool repeat;     /* the same request was made before (known, or queued) */
    bool from_queue; /* this is the retry of a queued request */
} s_how_t;

/* Sends a checked batch and records and answers what came of it. */
static void s_execute(api_t *self, const s_action_t *a, const offers_offer_t *offer, s_batch_t *b,
                      const json_t *body, const char *ids, s_how_t how, api_result_t *out)
{
    bool repeat = how.repeat, from_queue = how.from_queue;
    int64_t now_ms = fb_now_ms();
    size_t stop = s_send_all(self, a, offer, b, how.known);
    bool queued = false;
    for (size_t i = 0; i < stop; i++)
        queued |= s_queued(&b->m[i]);
    fb_err_t rc;
    if (stop < b->n) {
        s_answer_refused(b, stop, out);
        /* The messages before it went: they are facts. */
        rc = queued ? offers_pending_drop(self->offers, offer->vacancy_id)
                    : s_record(self, a, offer, b, stop, NULL, now_ms);
        if (rc == FB_OK && from_queue)
            rc = s_record_failure(self, a, offer, b, out, now_ms);
    } else if (queued) {
        /* Kept until every message is accepted: retried from the loop. */
        rc = offers_pending_put(self->offers, offer->vacancy_id, a->name, ids, body, now_ms);
        s_answer_sent(self, a, offer, b, repeat, out);
    } else {
        rc = s_record(self, a, offer, b, b->n, how.known ? NULL : a->to, now_ms);
        s_answer_sent(self, a, offer, b, repeat, out);
    }
    if (rc != FB_OK)
        s_result_set(out, 500, "internal", NULL, "sent, but not recorded: %s", fb_err_str(rc));
}

/* The content-addressed ids of the batch (also comma-separated in csv);
 * whether all were sent before. */
static fb_err_t s_ids(api_t *self, const s_action_t *a, const offers_offer_t *offer, s_batch_t *b,
                      char *csv, size_t csvlen, bool *known)
{
    const char *const to[1] = {offer->bailleur};
    const char *ids[VALIDATE_MAX_CANDIDATES];
    size_t used = 0;
    csv[0] = '\0';
    for (size_t i = 0; i < b->n; i++) {
        uint8_t reply[FB_MESSAGE_ID_BYTES];
        adapter_msg_t msg = s_msg(a, offer, &b->m[i], to, reply);
        uint8_t id[FB_MESSAGE_ID_BYTES];
        fb_err_t rc = adapter_message_id(self->adapter, &msg, id);
        if (rc != FB_OK)
            return rc;
        fb_hex_encode(id, sizeof id, b->m[i].id_hex);
        ids[i] = b->m[i].id_hex;
        used += (size_t)snprintf(csv + used, csvlen - used, "%s%s", i ? "," : "", ids[i]);
    }
    return offers_sent_known(self->offers, ids, b->n, known);
}

/* The logged outcome of an action: one line per decision. */
static void s_log(api_t *self, const char *action, const char *vacancy, const api_result_t *out)
{
    json_t *msgs = json_object_get(out->json, "messages");
    const char *first = json_string_value(json_object_get(json_array_get(msgs, 0), "message_id"));
    adapter_log(self->adapter, out->status >= 500 ? FB_LOG_WARN : FB_LOG_INFO,
                "api %s vacancy=%s status=%d msg_id=%s messages=%zu%s%s%s%s", action, vacancy,
                out->status, first ? first : "-", json_array_size(msgs),
                out->status >= 400 ? " reason=" : "", out->status >= 400 ? out->code : "",
                *out->field ? " field=" : "", out->field);
}

/* Sends the checked batch unless the offer says no: a request queued
 * before for it with other content, or a state the action does not
 * accept (409). */
static void s_dispatch(api_t *self, const s_action_t *a, const offers_offer_t *offer, s_batch_t *b,
                       const json_t *body, bool from_queue, api_result_t *out)
{
    char ids[VALIDATE_MAX_CANDIDATES * (2 * FB_MESSAGE_ID_BYTES + 1) + 1];
    char queued_action[32], queued_ids[sizeof ids];
    bool known = false;
    fb_err_t rc = s_ids(self, a, offer, b, ids, sizeof ids, &known);
    if (rc == FB_OK && !known)
        rc = offers_pending_ids(self->offers, offer->vacancy_id, queued_action,
                                sizeof queued_action, queued_ids, sizeof queued_ids);
    /* A queued request made again from the queue is itself, even when a new
     * Orientation changed its ids meanwhile. */
    bool queued_same = rc == FB_OK && !known && strcmp(queued_action, a->name) == 0 &&
                       (from_queue || strcmp(queued_ids, ids) == 0);
    if (rc != FB_OK && rc != FB_ERR_NOT_FOUND)
        s_result_set(out, 500, "internal", NULL, "state file: %s", fb_err_str(rc));
    else if (rc == FB_OK && !known && !queued_same)
        s_result_set(out, 409, "request_queued", "vacancy_id",
                     "a %s request for offer %s waits for the broker; only the same request may "
                     "be made again",
                     queued_action, offer->vacancy_id);
    else if (known || queued_same || s_allowed(a, offer, fb_now_ms(), out))
        s_execute(
            self, a, offer, b, body, ids,
            (s_how_t){.known = known, .repeat = known || queued_same, .from_queue = from_queue},
            out);
}

/* api_action, for a request made now or one queued before (from_queue). */
static void s_run(api_t *self, const char *action, const char *vacancy_id, const json_t *body,
                  bool from_queue, api_result_t *out)
{
    memset(out, 0, sizeof *out);
    const s_action_t *a = s_action_by_name(action);
    offers_offer_t offer;
    fb_err_t rc = a ? offers_find(self->offers, vacancy_id, &offer) : FB_ERR_INVALID;
    json_t *empty = body ? NULL : json_object();
    body = body ? body : empty;
    validate_error_t verr;
    s_batch_t batch;
    memset(&batch, 0, sizeof batch);
    if (!a)
        s_result_set(out, 404, "not_found", "action", "no action \"%s\"", action);
    else if (rc == FB_ERR_NOT_FOUND)
        s_result_set(out, 404, "not_found", "vacancy_id", "no offer %s", vacancy_id);
    else if (rc != FB_OK)
        s_result_set(out, 500, "internal", NULL, "state file: %s", fb_err_str(rc));
    else if ((rc = a->build(self, &offer, body, &batch, &verr)) != FB_OK)
        s_result_set(out, rc == FB_ERR_PARSE ? verr.status : 500,
                     rc == FB_ERR_PARSE ? (verr.status == 400 ? "bad_json" : "invalid")
                                        : "internal",
                     rc == FB_ERR_PARSE && *verr.field ? verr.field : NULL, "%s",
                     rc == FB_ERR_PARSE ? verr.reason : fb_err_str(rc));
    else
        s_dispatch(self, a, &offer, &batch, body, from_queue, out);
    s_batch_clear(&batch);
    json_decref(empty);
    s_log(self, action, vacancy_id, out);
}

void api_action(api_t *self, const char *action, const char *vacancy_id, const json_t *body,
                api_result_t *out)
{
    s_run(self, action, vacancy_id, body, false, out);
}

size_t api_retry_queued(api_t *self)
{
    if (!adapter_connected(self->adapter))
        return 0; /* the loop reconnects; until then there is nothing to try */
    json_t *list = offers_pending_all(self->offers);
    size_t left = 0, i;
    json_t *q;
    json_array_foreach(list, i, q)
    {
        api_result_t out;
        s_run(self, json_string_value(json_object_get(q, "action")),
              json_string_value(json_object_get(q, "vacancy_id")), json_object_get(q, "body"), true,
              &out);
        left += out.status == 202 || out.status >= 500;
        api_result_clear(&out);
    }
    json_decref(list);
    return left;
}

/* ---------------------------------------------------------------- routes */

api_t *api_new(adapter_t *adapter, offers_t *offers, const char *token)
{
    api_t *self = calloc(1, sizeof *self);
    if (!self || !(self->token = strdup(token))) {
        free(self);
        return NULL;
    }
    self->adapter = adapter;
    self->offers = offers;
    return self;
}

void api_destroy(api_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    api_t *self = *self_p;
    if (self->token) {
        memset(self->token, 0, strlen(self->token));
        free(self->token);
    }
    free(self);
    *self_p = NULL;
}

/* A query integer in [min, max], or def when absent; false (400 set) when
 * it is not one. */
static bool s_query_int(const http_request_t *req, http_response_t *res, const char *name,
                        long long def, long long min, long long max, long long *out)
{
    const char *s = http_query(req, name);
    *out = def;
    if (!s)
        return true;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < min || v > max) {
        http_error(res, 400, "bad_query", name, "an integer from %lld to %lld is expected", min,
                   max);
        return false;
    }
    *out = v;
    return true;
}

static void s_get_offers(api_t *self, const http_request_t *req, http_response_t *res)
{
    const char *filter = http_query(req, "state");
    if (filter && strcmp(filter, "all") != 0 && strcmp(filter, "open") != 0 &&
        !offers_state_known(filter)) {
        http_error(res, 400, "bad_query", "state", "\"%s\" is not open, all or an offer state",
                   filter);
        return;
    }
    json_t *list = offers_list_json(self->offers, filter, fb_now_ms());
    if (list)
        http_json(res, 200, list);
    else
        http_error(res, 500, "internal", NULL, "cannot read the offers");
}

static void s_get_offer(api_t *self, const char *vacancy, http_response_t *res)
{
    fb_err_t err = FB_OK;
    json_t *offer = offers_get_json(self->offers, vacancy, fb_now_ms(), &err);
    if (offer)
        http_json(res, 200, offer);
    else if (err == FB_ERR_NOT_FOUND)
        http_error(res, 404, "not_found", "vacancy_id", "no offer %s", vacancy);
    else
        http_error(res, 500, "internal", NULL, "cannot read the offer");
}

static void s_get_events(api_t *self, const http_request_t *req, http_response_t *res)
{
    long long after, limit;
    if (!s_query_int(req, res, "after", 0, 0, INT64_MAX, &after) ||
        !s_query_int(req, res, "limit", S_EVENTS_LIMIT_DEFAULT, 1, S_EVENTS_LIMIT_MAX, &limit))
        return;
    json_t *list = offers_events_json(self->offers, after, (int)limit);
    if (list)
        http_json(res, 200, list);
    else
        http_error(res, 500, "internal", NULL, "cannot read the events");
}

static void s_post_action(api_t *self, const char *vacancy, const char *action,
                          const http_request_t *req, http_response_t *res)
{
    const s_action_t *a = s_action_by_name(action);
    validate_error_t verr;
    json_t *body = validate_parse_body(req->body, req->body_len, a->empty_body_ok, &verr);
    if (!body) {
        adapter_log(self->adapter, FB_LOG_INFO, "api %s vacancy=%s status=400 reason=bad_json",
                    action, vacancy);
        http_error(res, 400, "bad_json", verr.field, "%s", verr.reason);
        return;
    }
    api_result_t out;
    api_action(self, action, vacancy, body, &out);
    json_decref(body);
    http_json(res, out.status, json_incref(out.json));
    api_result_clear(&out);
}

static void s_method_not_allowed(http_response_t *res, const char *allow)
{
    http_error(res, 405, "method_not_allowed", NULL, "use %s", allow);
    snprintf(res->header_name, sizeof res->header_name, "Allow");
    snprintf(res->header_value, sizeof res->header_value, "%s", allow);
}

/* Splits "/offers/{id}[/{action}]" into id and action (empty when absent).
 * False when the path has more parts or an empty id. */
static bool s_offer_path(const char *path, char *id, size_t idlen, char *action, size_t actlen)
{
    const char *rest = path + strlen("/offers/");
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    if (n == 0 || n >= idlen || (slash && strchr(slash + 1, '/')))
        return false;
    snprintf(id, idlen, "%.*s", (int)n, rest);
    snprintf(action, actlen, "%s", slash ? slash + 1 : "");
    return true;
}

void api_handle(void *ctx, const http_request_t *req, http_response_t *res)
{
    api_t *self = ctx;
    if (!http_bearer_ok(req, self->token)) {
        adapter_log(self->adapter, FB_LOG_INFO, "api %s %s status=401 reason=%s", req->method,
                    req->path, req->authorization ? "bad_token" : "no_token");
        if (req->authorization)
            http_error(res, 401, "unauthorized", "Authorization",
                       "the bearer token is not this adapter's api_token");
        else
            http_error(res, 401, "unauthorized", "Authorization",
                       "an \"Authorization: Bearer <api_token>\" header is required");
        snprintf(res->header_name, sizeof res->header_name, "WWW-Authenticate");
        snprintf(res->header_value, sizeof res->header_value, "Bearer realm=\"fluxbus\"");
        return;
    }
    bool get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    char id[128], action[32];
    if (strcmp(req->path, "/offers") == 0) {
        if (get)
            s_get_offers(self, req, res);
        else
            s_method_not_allowed(res, "GET");
    } else if (strcmp(req->path, "/events") == 0) {
        if (get)
            s_get_events(self, req, res);
        else
            s_method_not_allowed(res, "GET");
    } else if (strncmp(req->path, "/offers/", 8) == 0 &&
               s_offer_path(req->path, id, sizeof id, action, sizeof action) &&
               (!*action || api_action_known(action))) {
        if (!*action && get)
            s_get_offer(self, id, res);
        else if (*action && post)
            s_post_action(self, id, action, req, res);
        else
            s_method_not_allowed(res, *action ? "POST" : "GET");
    } else {
        http_error(res, 404, "not_found", NULL, "no route %s", req->path);
    }
}
