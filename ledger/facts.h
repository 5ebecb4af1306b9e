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
 *   on the decision's, leases on the lease's), the SNE radiation. Its
 *   visit_outcome and visit_ms are the latest Visite's, visited_ms the
 *   earliest visit that took place.
 * ledger_conventions: every revision of every Convention in force, as
 *   sent (its packed payload): revision 1 from its sender, an amendment
 *   once its bailleur and its réservataire both sent it with the same
 *   payload (amendments.h); `signed_by` names who did, in the order they
 *   did; sender, accepted_ms and seq are those of the message that put it
 *   in force.
 * ledger_convention_proposals: one row per (convention, revision, sender)
 *   of every amendment (revision 2 or more) accepted, as sent: a proposal
 *   while the other signer has not sent it, then its two signatures.
 * ledger_events: one row per message about a vacancy (seq, type, sender),
 *   but an Orientation repeating its open round term for term (a no-op).
 * ledger_schema_version: FACTS_SCHEMA_VERSION, the version of all of the
 *   above. Bump it with any change of these tables or of what a message
 *   writes in them: a store of another version is rebuilt from its messages
 *   (ledger.h, `fluxbus ledger rebuild`).
 *
 * The instants that are a message's own dates, not its acceptance time:
 * visit_ms and visited_ms (Visite.visit_ms), decided_ms
 * (CaleolDecision.decided_ms), answered_ms (PropositionReponse.answered_ms),
 * each the acceptance time when the payload leaves it unset (instants.h
 * bounds them).
 */
#ifndef FLUXBUS_LEDGER_FACTS_H
#define FLUXBUS_LEDGER_FACTS_H

#include "ledger.h"
#include "stmts.h"

#define FACTS_SCHEMA_VERSION 4
#define FACTS_SCHEMA_NONE (-1) /* no ledger tables at all */

/* The version of the tables in db: FACTS_SCHEMA_VERSION when current, 0 for
 * tables made before versions were kept, FACTS_SCHEMA_NONE when there are
 * none. FB_OK or FB_ERR_STORE. */
fb_err_t facts_version(sqlite3 *db, int *version);

/* Creates the tables (idempotent) and stamps a new store with
 * FACTS_SCHEMA_VERSION: call it on a store of that version or of none.
 * FB_OK or FB_ERR_STORE (reason in err). */
fb_err_t facts_create(sqlite3 *db, char *err, size_t errlen);

/* Drops the tables, whatever their version, and creates them empty, at
 * FACTS_SCHEMA_VERSION (in the caller's transaction). FB_OK or
 * FB_ERR_STORE (reason in err). */
fb_err_t facts_reset(sqlite3 *db, char *err, size_t errlen);

/* The payload's vacancy_id (any message type with that string field), or
 * NULL when it has none or it is empty. */
const char *facts_vacancy_of(const ledger_msg_t *msg);

/* Writes what msg says into the tables; its ledger_events row goes under
 * the payload's vacancy_id (else the correlation_id). FB_OK or FB_ERR_STORE. */
fb_err_t facts_record(stmts_t *q, const ledger_msg_t *msg);

#endif
