/* deadlines.c - the deadline watcher (see deadlines.h).
 *
 * Owns the DeadlineExpired the adapter sends on its own and the outbox note
 * about it. The order is: send, then note, then mark; each step can be
 * done again after a crash without a second message or a second note (the
 * id and the note's name come from the content). */
#include "deadlines.h"

#include <stdio.h>
#include <string.h>

#include "fluxbus/v1/orientation.pb-c.h"
#include "outbox.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x

/* The outbox note of an accepted DeadlineExpired. */
static fb_err_t s_note(bailleur_t *b, const state_orientation_t *o,
                       const Fluxbus__V1__DeadlineExpired *m, const adapter_result_t *res)
{
    char text[512];
    snprintf(text, sizeof text,
             "the deadline of the orientation to %s passed without designation, remise or "
             "decline: the vacancy is back with the bailleur",
             o->reservataire);
    json_t *doc = json_pack("{s:I, s:s, s:s, s:s, s:[s], s:s, s:o, s:b, s:s, s:O}", "store_seq",
                            (json_int_t)res->store_seq, "message_id", res->message_id_hex, "sender",
                            adapter_actor(b->adapter), "type", "DeadlineExpired", "recipients",
                            o->reservataire, "correlation_id", o->vacancy_id, "payload",
                            fb_json_from_message(&m->base), "sent_by_adapter", 1, "note", text,
                            "receipt", res->receipt ? res->receipt : json_null());
    if (!doc)
        return FB_ERR_NOMEM;
    char name[128];
    outbox_name(res->store_seq, T(DEADLINE_EXPIRED), res->message_id_hex, name, sizeof name);
    fb_err_t rc = outbox_write(b, name, doc);
    json_decref(doc);
    return rc;
}

/* Tells one réservataire; false when the broker cannot be reached (the
 * others wait for the next scan too). */
static bool s_expire(bailleur_t *b, const state_orientation_t *o)
{
    Fluxbus__V1__DeadlineExpired m = FLUXBUS__V1__DEADLINE_EXPIRED__INIT;
    m.vacancy_id = o->vacancy_id;
    m.convention_id = o->convention_id;
    m.deadline_ms = o->deadline_ms;
    m.counting = (Fluxbus__V1__DeadlineCounting)b->deadline_counting;
    m.taken_back_by_bailleur = true;
    m.candidates_received = state_candidates_received(b->state, o->vacancy_id, o->reservataire);
    const char *const to[1] = {o->reservataire};
    adapter_msg_t msg = {.type = T(DEADLINE_EXPIRED), .to = to, .n_to = 1, .payload = &m.base};
    adapter_result_t res;
    fb_err_t rc = adapter_send(b->adapter, &msg, &res);
    bool go_on = true;
    if (rc == FB_OK && res.accepted) {
        rc = s_note(b, o, &m, &res);
        if (rc == FB_OK)
            rc = state_orientation_mark(b->state, o, STATE_EXPIRY_SENT);
        if (rc == FB_OK)
            adapter_log(b->adapter, FB_LOG_INFO,
                        "deadline passed: vacancy %s, convention %s, %s told msg_id=%s%s",
                        o->vacancy_id, o->convention_id, o->reservataire, res.message_id_hex,
                        res.duplicate ? " (duplicate)" : "");
        else
            adapter_log(b->adapter, FB_LOG_ERROR,
                        "deadline passed: vacancy %s to %s: told, but not noted (%s); again at "
                        "the next scan",
                        o->vacancy_id, o->reservataire, fb_err_str(rc));
    } else if (rc == FB_OK) {
        adapter_log(b->adapter, FB_LOG_ERROR,
                    "deadline passed: vacancy %s: DeadlineExpired to %s refused: %s %s; not "
                    "offered again",
                    o->vacancy_id, o->reservataire, fb_err_name(res.reason), res.detail);
        state_orientation_mark(b->state, o, STATE_EXPIRY_REFUSED);
    } else {
        if (!adapter_retry_later(rc))
            adapter_log(b->adapter, FB_LOG_ERROR,
                        "deadline passed: vacancy %s to %s: not sent (%s %s); again at the next "
                        "scan",
                        o->vacancy_id, o->reservataire, fb_err_name(rc), res.detail);
        go_on = false;
    }
    adapter_result_clear(&res);
    return go_on;
}

void deadlines_scan(bailleur_t *b, int64_t now_ms)
{
    state_orientation_t *due = NULL;
    size_t n = 0;
    fb_err_t rc = state_orientations_due(b->state, now_ms, &due, &n);
    if (rc != FB_OK) {
        adapter_log(b->adapter, FB_LOG_ERROR, "deadlines: cannot read the orientations: %s",
                    fb_err_str(rc));
        return;
    }
    for (size_t i = 0; i < n && s_expire(b, &due[i]); i++)
        ;
    state_orientations_free(due, n);
}
