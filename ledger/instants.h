/* instants.h - the dates a message states that the ledger keeps as the
 * instants of its events, and their bounds.
 *
 * Three payload dates are instants of the ledger (facts.h): a Visite's
 * visit_ms, a CaleolDecision's decided_ms and a PropositionReponse's
 * answered_ms; when the payload leaves one unset, the ledger takes the
 * message's acceptance time. Every other instant of the ledger is an
 * acceptance time. A bailleur's export may reach the bus days after the
 * CALEOL sat, so the business date is kept, within bounds:
 *
 * - not later than the message's acceptance plus the clock allowance (the
 *   broker's freshness window): a fact is reported once it happened. A
 *   visit that is SCHEDULED or CANCELLED is a plan and has no such bound;
 * - not earlier, minus the allowance, than the dated step it follows: a
 *   decision than the start of the CALEOL session it names (when the ledger
 *   knows the session), a settled suspensive condition than the decision it
 *   settles, a household's answer than the CALEOL decision.
 *
 * The acceptance time of an earlier step is no lower bound: the bus learns
 * of a step at or after it happened (a designation and its decision may
 * come in one export, days after the session), so it only says the step had
 * happened by then. A message out of bounds is refused with
 * INVALID_TRANSITION and a detail naming the date, the bound and why. */
#ifndef FLUXBUS_LEDGER_INSTANTS_H
#define FLUXBUS_LEDGER_INSTANTS_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "stmts.h"

/* The clock allowance unless the broker says otherwise: its default
 * freshness window (freshness_s = 300). */
#define INSTANTS_DEFAULT_SKEW_MS (300 * 1000LL)

/* Are msg's dates within their bounds, skew_ms the clock allowance? FB_OK
 * (also for the types without such a date); FB_ERR_INVALID_TRANSITION with
 * the reason in detail; FB_ERR_STORE. Reads only; call it once the
 * lifecycle accepted msg (the candidate it names exists). */
fb_err_t instants_check(stmts_t *q, const ledger_msg_t *msg, int64_t skew_ms, char *detail,
                        size_t dlen);

/* Writes instant ms as "2026-11-30T14:10:00Z" (21 bytes with the NUL). */
void instants_format(int64_t ms, char out[21]);

#endif
