/* intake.h - what the commune adapter does with one delivered message:
 * checks it, keeps only what concerns its communes, and stores it in the
 * feed store. Knows nothing of the bus connection or of logging: each call
 * says what it did in a note the caller logs.
 *
 * What is kept:
 * - CaleolSeance: a session listing at least one of our communes, with its
 *   list of communes cut down to ours (the vacancies on its agenda are
 *   kept as ids; the calendar describes only those whose LogementLibere we
 *   hold, i.e. ours). A later revision of a session we hold is stored even
 *   when it no longer lists any of our communes, so the calendar does not
 *   keep a stale revision;
 * - LogementLibere and LogementIssue whose commune_insee is ours.
 * Anything else is left out (note at info). A message that is not usable
 * (a required field missing, text that is not UTF-8, an end before its
 * start...) is rejected with a note at warn naming the field: it is
 * acknowledged all the same, since sending it again would not fix it. */
#ifndef FLUXBUS_COMMUNE_INTAKE_H
#define FLUXBUS_COMMUNE_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feed_store.h"
#include "fluxbus/err.h"
#include "fluxbus/log.h"

/* The INSEE codes of the adapter's communes (borrowed). */
typedef struct {
    const char *const *communes;
    size_t n;
} intake_territory_t;

/* What a call did, for one log line. */
typedef struct {
    fb_log_level_t level;
    char text[320]; /* "seance seance_id=... revision=2 sequence=1 stored (changed)" */
} intake_note_t;

/* True for an INSEE commune code: 5 characters, digits, or 2A/2B then 3
 * digits (Corsica). */
bool intake_is_insee(const char *code);

/* True when `code` is one of the territory's communes. */
bool intake_is_ours(const intake_territory_t *t, const char *code);

/* Handles the payload of a delivery of type `type` (a MessageType value)
 * with id `message_id_hex`: FB_OK when it is handled for good (stored, left
 * out or rejected: see the note), so it may be acknowledged; FB_ERR_STORE
 * (or FB_ERR_NOMEM) when storing failed and the delivery must stay
 * unacknowledged to come again. */
fb_err_t intake_payload(feed_store_t *store, const intake_territory_t *t, int type,
                        const char *message_id_hex, const uint8_t *payload, size_t len,
                        int64_t now_ms, intake_note_t *note);

#endif
