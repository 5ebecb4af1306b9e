/* offers.h - the réservataire's view of its offers, kept in the adapter's
 * state SQLite file (own tables, prefixed resa_): the vacancies oriented to
 * it with their dwelling facts and state, the messages it sent about them,
 * and the ordered log of events (every delivery received and every message
 * sent) that the platform reads through GET /events, the webhook and the
 * spool outbox.
 *
 * Offer states: oriente (Orientation received), acquitte (OrientationAck
 * sent), decline (OrientationDecline sent), designe (Designations sent),
 * remis (RemiseADisposition sent), expire (DeadlineExpired received),
 * decide (CaleolDecision), accepte / refuse (PropositionReponse),
 * non_suivi (AttributionNonSuivieDeBail), bail_signe (BailSigne). An offer
 * is open - candidates, a remise, an ack or a decline may still be sent -
 * while oriente or acquitte and before its deadline.
 *
 * Invariants: event ids only grow and are never reused; a delivery (or a
 * sent message) is one event, however often it is recorded (keyed by
 * message id), so a delivery handed over again after a crash changes
 * nothing. All SQL of the adapter lives here. */
#ifndef FLUXBUS_RESA_OFFERS_H
#define FLUXBUS_RESA_OFFERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "fluxbus/envelope.h"
#include "fluxbus/err.h"
#include "fluxbus/keys.h"

typedef struct offers offers_t;

/* Creates the tables in db if needed and prepares the statements. `self`
 * is this réservataire's actor id (an Orientation for another one opens no
 * offer). The db stays owned by the caller. NULL with a reason in err. */
offers_t *offers_new(sqlite3 *db, const char *self, char *err, size_t errlen);

void offers_destroy(offers_t **self_p);

/* An offer's facts that requests need. */
typedef struct {
    char vacancy_id[128];
    char bailleur[FB_ACTOR_MAX]; /* the Orientation's sender */
    char convention_id[128];
    char state[16];
    int64_t deadline_ms;          /* 0: none */
    uint32_t candidates_expected; /* 0: not said */
    uint32_t round;
    char orientation_id[2 * FB_MESSAGE_ID_BYTES + 1]; /* hex id of the latest Orientation */
} offers_offer_t;

/* Records one delivery, given as the JSON of `fluxbus tail`, as an event
 * and applies it to the offers. *event_id is the new event's id, or 0 when
 * this message had been recorded before. FB_ERR_STORE when it could not be
 * written (then nothing was). */
fb_err_t offers_record_delivery(offers_t *self, const json_t *delivery, int64_t now_ms,
                                int64_t *event_id);

/* The offer of vacancy_id: FB_OK, FB_ERR_NOT_FOUND, or FB_ERR_STORE. */
fb_err_t offers_find(offers_t *self, const char *vacancy_id, offers_offer_t *out);

/* Whether candidates, a remise, an ack or a decline may still be sent. */
bool offers_is_open(const offers_offer_t *offer, int64_t now_ms);

/* True for a known state name (not "open" / "all"). */
bool offers_state_known(const char *state);

/* The offers as a JSON array (new reference; NULL on a store error):
 * `filter` is "all" (or NULL), "open", or a state name. */
json_t *offers_list_json(offers_t *self, const char *filter, int64_t now_ms);

/* One offer with its designations and its events, or NULL when unknown
 * (*err FB_ERR_NOT_FOUND) or on a store error (FB_ERR_STORE). */
json_t *offers_get_json(offers_t *self, const char *vacancy_id, int64_t now_ms, fb_err_t *err);

/* One message we sent (or queued) about an offer. */
typedef struct {
    const char *message_id_hex;
    const char *type;      /* catalog name, "Designation" */
    uint32_t rank;         /* Designation only, else 0 */
    const char *nur;       /* Designation only, else NULL */
    const json_t *message; /* the event's "message" object (borrowed) */
} offers_sent_t;

/* Whether every one of ids was recorded by offers_record_sent. */
fb_err_t offers_sent_known(offers_t *self, const char *const *ids, size_t n, bool *all_known);

/* Records n sent messages about vacancy_id (one event each, unless known)
 * and, when new_state is not NULL, moves the offer to it, and ends the
 * request queued for the offer, if any, in one transaction. */
fb_err_t offers_record_sent(offers_t *self, const char *vacancy_id, const offers_sent_t *msgs,
                            size_t n, const char *new_state, int64_t now_ms);

/* Events with id > after, at most limit, oldest first, as a JSON array of
 * {"id", "type", "direction", "vacancy_id", "at_ms", "at", "message"}
 * (new reference; NULL on a store error). */
json_t *offers_events_json(offers_t *self, int64_t after, int limit);

/* The first event with id > after: FB_OK with *event (new reference) and
 * *id, FB_ERR_NOT_FOUND when there is none yet, FB_ERR_STORE. */
fb_err_t offers_next_event(offers_t *self, int64_t after, json_t **event, int64_t *id);

/* A persisted cursor (webhook, outbox): 0 until first set. */
fb_err_t offers_cursor(offers_t *self, const char *name, int64_t *value);
fb_err_t offers_set_cursor(offers_t *self, const char *name, int64_t value);

/* ---- requests queued while the broker is unreachable (one per offer) ---- */

/* The action and the message ids (comma-separated hex) of the request
 * queued for vacancy_id: FB_OK, FB_ERR_NOT_FOUND, FB_ERR_STORE. */
fb_err_t offers_pending_ids(offers_t *self, const char *vacancy_id, char *action, size_t actlen,
                            char *ids, size_t idslen);

/* Queues (or replaces) the request of vacancy_id: its action, message ids
 * and body (kept until offers_pending_drop, household included). */
fb_err_t offers_pending_put(offers_t *self, const char *vacancy_id, const char *action,
                            const char *ids, const json_t *body, int64_t now_ms);

fb_err_t offers_pending_drop(offers_t *self, const char *vacancy_id);

/* The queued requests, oldest first: [{"vacancy_id", "action", "body"}]
 * (new reference; NULL on a store error). */
json_t *offers_pending_all(offers_t *self);

/* A queued request ended in a refusal: drops it and records an
 * "ActionFailed" event (direction "local", keyed by `key`, with `message`),
 * so that the platform learns it. */
fb_err_t offers_record_failure(offers_t *self, const char *vacancy_id, const char *key,
                               const json_t *message, int64_t now_ms);

/* "2026-03-01T12:00:00.000Z" for ms since the epoch (out: 32 bytes). */
void offers_iso_time(int64_t ms, char out[32]);

#endif
