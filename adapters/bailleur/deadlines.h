/* deadlines.h - the deadline watcher: an orientation whose deadline passed
 * with neither a Designation, a RemiseADisposition nor an OrientationDecline
 * from its réservataire gives the vacancy back to the bailleur.
 *
 * At each scan, every such orientation not told yet gets a DeadlineExpired
 * {vacancy_id, convention_id, deadline_ms, counting (deadline_counting),
 * taken_back_by_bailleur true, candidates_received} sent to its réservataire,
 * and once the broker accepted it: a note in outbox/ (so the bailleur's
 * system knows it has the vacancy back), then the orientation is marked
 * told. Exactly once: the message id comes from the content, so a crash
 * between the send and the mark only makes the broker answer "duplicate"
 * next time. A DeadlineExpired the broker refuses is logged and not offered
 * again. */
#ifndef FLUXBUS_ADAPTER_BAILLEUR_DEADLINES_H
#define FLUXBUS_ADAPTER_BAILLEUR_DEADLINES_H

#include <stdint.h>

#include "bailleur.h"

/* Tells the réservataires of the orientations due at now_ms. */
void deadlines_scan(bailleur_t *b, int64_t now_ms);

#endif
