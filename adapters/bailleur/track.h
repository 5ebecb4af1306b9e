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
 *   received Designation      -> designations "received" (the sender);
 *                                closes the sender's orientation
 *   received RemiseADisposition, OrientationDecline
 *                             -> closes the sender's orientation
 *   received DeadlineExpired  -> (from the broker, to the bailleur and the
 *                                réservataire) closes the orientation to
 *                                the réservataire among its recipients
 *
 * Recording twice is harmless: a message handled again (a file re-sent, a
 * delivery redelivered) leaves the same state. */
#ifndef FLUXBUS_ADAPTER_BAILLEUR_TRACK_H
#define FLUXBUS_ADAPTER_BAILLEUR_TRACK_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "fluxbus/err.h"
#include "state.h"

/* Records an accepted message of `type` the bailleur sent. FB_OK (also for
 * types that change nothing) or FB_ERR_STORE. */
fb_err_t track_sent(state_t *state, int type, const ProtobufCMessage *payload);

/* Records a message of `type` received from `sender`, addressed to the
 * n_recipients actors of `recipients` (may be NULL when 0). */
fb_err_t track_received(state_t *state, const char *sender, const char *const *recipients,
                        size_t n_recipients, int type, const ProtobufCMessage *payload);

#endif
