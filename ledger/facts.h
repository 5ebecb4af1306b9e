/* facts.h - the ledger's tables, written by facts.c from accepted messages
 * and read by the lifecycle check, the deadlines, the décompte and the
 * reports. Times are broker acceptance times (ms) unless a column says it is
 * a date the message states.
 *
 * ledger_vacancies: one row per vacancy (correlation id): the dwelling's
 *   facts from its LogementLibere, its lifecycle `state` (lifecycle.h names)
 *   and `state_ms`, and how many proposals households refused (`refusals`).
 * ledger_orientations: one row per (vacancy, réservataire, round): the
 *   Orientation (convention, contingent, deadline — its own, else the one
 *   its convention's délai gives, conventions.h —, candidates expected) and
 *   its `status`: oriente, acquitte, decline, designe, remis, expire;
 *   `candidates` received; `expired_ms` once a DeadlineExpired was accepted.
 * ledger_candidates: one row per (vacancy, NUR): who designated and who is
 *   credited, the orientation `round` it answers (0: the bailleur's own
 *   designation), rank and priority flags, the CALEOL decision (with its
 *   q1 and relogement_anru), the household's answer, a non-suite, the lease
 *   (with its own lease_q1 and lease_anru: the bilan counts attributions
 *   on the decision's, leases on the lease's), the SNE radiation.
 * ledger_conventions: every revision of every Convention, as sent.
 * ledger_events: one row per message about a vacancy (seq, type, sender).
 */
#ifndef FLUXBUS_LEDGER_FACTS_H
#define FLUXBUS_LEDGER_FACTS_H

#include "ledger.h"

/* Creates the tables (idempotent). FB_OK or FB_ERR_STORE (reason in err). */
fb_err_t facts_create(sqlite3 *db, char *err, size_t errlen);

/* The payload's vacancy_id (any message type with that string field), or
 * NULL when it has none or it is empty. */
const char *facts_vacancy_of(const ledger_msg_t *msg);

/* Writes what msg says into the tables; its ledger_events row goes under
 * the payload's vacancy_id (else the correlation_id). FB_OK or FB_ERR_STORE. */
fb_err_t facts_record(sqlite3 *db, const ledger_msg_t *msg);

#endif
