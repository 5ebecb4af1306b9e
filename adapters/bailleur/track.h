/* track.h - what the bailleur's messages change in its state (state.h):
 * those it sent, once the broker accepted them, and those it received,
 * once written to the outbox.
 *
 *   sent LogementLibere       -> vacancies (vacancy, commune, RPLS number)
 *   sent Orientation          -> orientations (deadline, contingent, ...)
 *   sent Designation          -> designations "sent" (credited réservataire);
 *                                closes that réservataire's orientation
 *   sent CaleolDecision       -> designations "decision" (désignataire), for
 *                                an attribution
 *   sent CaleolSeance         -> seances (revision, digest of the content)
 *   received Designation      -> designations "received" (the sender);
 *                                closes the sender's orientation
 *   received RemiseADisposition, OrientationDecline
 *                             -> closes the sender's orientation
 *   received DeadlineExpired  -> (from the broker, to the bailleur and the
 *                                réservataire) closes the orientation to
 *                                the réservataire among its recipients
 *
 * Recording twice is harmless: a message handled again (a file re-sent, a
 * delivery redelivered) leaves the same state.
 *
 * Before sending, track_check holds a message against what was sent: a
 * CaleolSeance may come again unchanged (a duplicate), but a change needs
 * a higher revision, or the communes' calendars (whose SEQUENCE follows
 * the revision) would never show it. */
#ifndef FLUXBUS_ADAPTER_BAILLEUR_TRACK_H
#define FLUXBUS_ADAPTER_BAILLEUR_TRACK_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "fluxbus/err.h"
#include "state.h"

/* Why a message may not be sent: the field to fix and the reason. */
typedef struct {
    char field[64];
    char reason[256];
} track_error_t;

/* Checks a message of `type` the bailleur is about to send against what it
 * sent before (see above). FB_OK (also for the types not checked);
 * FB_ERR_PARSE with *error filled; FB_ERR_STORE / FB_ERR_NOMEM. */
fb_err_t track_check(state_t *state, int type, const ProtobufCMessage *payload,
                     track_error_t *error);

/* Records an accepted message of `type` the bailleur sent. FB_OK (also for
 * types that change nothing) or FB_ERR_STORE. */
fb_err_t track_sent(state_t *state, int type, const ProtobufCMessage *payload);

/* Records a message of `type` received from `sender`, addressed to the
 * n_recipients actors of `recipients` (may be NULL when 0). */
fb_err_t track_received(state_t *state, const char *sender, const char *const *recipients,
                        size_t n_recipients, int type, const ProtobufCMessage *payload);

#endif
