/* lifecycle.h - the vacancy lifecycle as one table of states × events ->
 * action, which lifecycle_check() walks to judge a domain message before
 * the broker accepts it, and which docs/LEDGER.md prints ("## Lifecycle").
 *
 * A row reads the state of one subject, the event's:
 * - the vacancy (LogementLibere, Orientation, CaleolSeance, LogementIssue),
 *   its ledger_vacancies.state;
 * - the orientation of one réservataire (OrientationAck, OrientationDecline,
 *   Designation, RemiseADisposition, DeadlineExpired): the status of its
 *   latest round on the vacancy, LIFECYCLE_O_NONE when it has none;
 * - the candidate, vacancy × NUR (Visite, CaleolDecision,
 *   PropositionReponse, AttributionNonSuivieDeBail, BailSigne,
 *   SneRadiationAck), derived from its ledger_candidates row.
 * For each event every state of its subject is in exactly one row. A row's
 * action either refuses (with the row's detail) or names the checks that
 * the message must pass, then the subject goes to the row's `next` state
 * (facts.c writes it when the message is recorded). */
#ifndef FLUXBUS_LEDGER_LIFECYCLE_H
#define FLUXBUS_LEDGER_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ledger.h"
#include "stmts.h"

typedef enum {
    LIFECYCLE_VACANCY,
    LIFECYCLE_ORIENTATION,
    LIFECYCLE_CANDIDATE,
} lifecycle_scope_t;

/* States of a vacancy: the names facts.c writes in ledger_vacancies.state. */
enum {
    LIFECYCLE_V_NONE, /* no row: the ledger has never seen it */
    LIFECYCLE_V_LIBERE,
    LIFECYCLE_V_ORIENTE,
    LIFECYCLE_V_DESIGNE,
    LIFECYCLE_V_REMIS,
    LIFECYCLE_V_EXPIRE,
    LIFECYCLE_V_VISITE,
    LIFECYCLE_V_EN_CALEOL,
    LIFECYCLE_V_DECIDE,
    LIFECYCLE_V_ACCEPTE,
    LIFECYCLE_V_REFUSE,
    LIFECYCLE_V_NON_SUIVI,
    LIFECYCLE_V_BAIL_SIGNE,
    LIFECYCLE_V_RADIE,
    LIFECYCLE_V_COUNT
};

/* States of a réservataire's latest orientation round on a vacancy
 * (ledger_orientations.status). */
enum {
    LIFECYCLE_O_NONE, /* never oriented to it */
    LIFECYCLE_O_ORIENTE,
    LIFECYCLE_O_ACQUITTE,
    LIFECYCLE_O_DECLINE,
    LIFECYCLE_O_DESIGNE,
    LIFECYCLE_O_REMIS,
    LIFECYCLE_O_EXPIRE,
    LIFECYCLE_O_COUNT
};

/* States of a candidate (vacancy × NUR). */
enum {
    LIFECYCLE_C_NONE, /* no designation named it */
    LIFECYCLE_C_DESIGNE,
    LIFECYCLE_C_VISITE,
    LIFECYCLE_C_RETIRE, /* its round was given back before any decision */
    LIFECYCLE_C_ATTRIBUE,
    LIFECYCLE_C_ATTRIBUE_RANG,
    LIFECYCLE_C_SOUS_CONDITION,
    LIFECYCLE_C_CONDITION_LEVEE,
    LIFECYCLE_C_CONDITION_CADUQUE,
    LIFECYCLE_C_NON_ATTRIBUE,
    LIFECYCLE_C_IRRECEVABLE,
    LIFECYCLE_C_ACCEPTE,
    LIFECYCLE_C_REFUSE,
    LIFECYCLE_C_NON_SUIVI,
    LIFECYCLE_C_BAIL_SIGNE,
    LIFECYCLE_C_RADIE,
    LIFECYCLE_C_COUNT
};

/* `next` of a row that leaves the subject in its state. */
#define LIFECYCLE_SAME (-1)

/* The events: the domain message types, split where the payload makes a
 * difference (decision code, condition state, answer, SNE status). */
typedef enum {
    LIFECYCLE_EV_LOGEMENT_LIBERE,
    LIFECYCLE_EV_ORIENTATION,
    LIFECYCLE_EV_CALEOL_SEANCE,
    LIFECYCLE_EV_CALEOL_SEANCE_CANCELLED,
    LIFECYCLE_EV_LOGEMENT_ISSUE,
    LIFECYCLE_EV_ORIENTATION_ACK,
    LIFECYCLE_EV_ORIENTATION_DECLINE,
    LIFECYCLE_EV_DESIGNATION,
    LIFECYCLE_EV_REMISE,
    LIFECYCLE_EV_DEADLINE_EXPIRED,
    LIFECYCLE_EV_VISITE,
    LIFECYCLE_EV_ATTRIBUTION,
    LIFECYCLE_EV_ATTRIBUTION_PAR_RANG,
    LIFECYCLE_EV_SOUS_CONDITION,
    LIFECYCLE_EV_CONDITION_LEVEE,
    LIFECYCLE_EV_CONDITION_CADUQUE,
    LIFECYCLE_EV_NON_ATTRIBUTION,
    LIFECYCLE_EV_IRRECEVABILITE,
    LIFECYCLE_EV_ACCEPTEE,
    LIFECYCLE_EV_REFUSEE,
    LIFECYCLE_EV_NON_SUIVIE,
    LIFECYCLE_EV_BAIL_SIGNE,
    LIFECYCLE_EV_RADIEE,
    LIFECYCLE_EV_NON_RADIEE,
    LIFECYCLE_EV_COUNT
} lifecycle_event_t;

/* What a row does, named as a verb phrase. LIFECYCLE_REFUSE refuses with
 * the row's `why`; the others are checks (lifecycle.c, docs/LEDGER.md). */
typedef enum {
    LIFECYCLE_REFUSE,
    LIFECYCLE_REFUSE_NOT_ORIENTED,
    LIFECYCLE_OPEN_VACANCY,
    LIFECYCLE_UPDATE_DWELLING,
    LIFECYCLE_ORIENT,
    LIFECYCLE_PUT_ON_AGENDA,
    LIFECYCLE_KEEP_ON_AGENDA,
    LIFECYCLE_TELL_OUTCOME,
    LIFECYCLE_ACKNOWLEDGE,
    LIFECYCLE_DECLINE,
    LIFECYCLE_DESIGNATE,
    LIFECYCLE_DESIGNATE_WITHOUT_ORIENTATION,
    LIFECYCLE_GIVE_BACK,
    LIFECYCLE_EXPIRE,
    LIFECYCLE_EXPIRE_INCOMPLETE_ROUND,
    LIFECYCLE_RECORD_VISIT,
    LIFECYCLE_ATTRIBUTE,
    LIFECYCLE_ATTRIBUTE_BY_RANK,
    LIFECYCLE_ATTRIBUTE_UNDER_CONDITION,
    LIFECYCLE_SETTLE_CONDITION,
    LIFECYCLE_RECORD_REJECTION,
    LIFECYCLE_RECORD_ANSWER,
    LIFECYCLE_END_WITHOUT_LEASE,
    LIFECYCLE_SIGN_LEASE,
    LIFECYCLE_RADIATE,
    LIFECYCLE_NOTE_SNE_ANSWER,
    LIFECYCLE_ACTION_COUNT
} lifecycle_action_t;

/* One row: in a state of `from` (one bit per state of the event's
 * subject), `event` does `action` and the subject becomes `next`. */
typedef struct {
    lifecycle_event_t event;
    uint32_t from;
    lifecycle_action_t action;
    int next;        /* a state, or LIFECYCLE_SAME; unused by refusals */
    const char *why; /* refusals: the Nack's detail, with {vac} {nur} {resa}
                        {sender} {msg} {event} {state} filled in */
} lifecycle_row_t;

/* The table, in its order (n rows in *n). */
const lifecycle_row_t *lifecycle_rows(size_t *n);

/* Whose state an event reads. */
lifecycle_scope_t lifecycle_event_scope(lifecycle_event_t event);

/* Names as the table and the details show them. Never NULL. */
const char *lifecycle_event_name(lifecycle_event_t event);
const char *lifecycle_action_name(lifecycle_action_t action);
const char *lifecycle_scope_name(lifecycle_scope_t scope);
const char *lifecycle_state_name(lifecycle_scope_t scope, int state);

/* A state as a refusal's detail says it ({state}: "given back"). */
const char *lifecycle_state_phrase(lifecycle_scope_t scope, int state);

/* How many states a scope has. */
int lifecycle_state_count(lifecycle_scope_t scope);

/* Does msg fit its vacancy's lifecycle? FB_OK (also for the types the
 * lifecycle does not judge: Convention, DecompteDroits, BilanAnnuel);
 * FB_ERR_INVALID_TRANSITION with the reason in detail; FB_ERR_STORE or
 * FB_ERR_NOMEM. Reads only. */
fb_err_t lifecycle_check(stmts_t *q, const ledger_msg_t *msg, char *detail, size_t dlen);

/* The state of one subject of vacancy now: scope VACANCY (key unused),
 * ORIENTATION (key: the réservataire), CANDIDATE (key: the NUR). FB_OK,
 * FB_ERR_STORE or FB_ERR_NOMEM. */
fb_err_t lifecycle_state(sqlite3 *db, lifecycle_scope_t scope, const char *vacancy, const char *key,
                         int *state);

/* Writes the table as the Markdown of docs/LEDGER.md ("## Lifecycle",
 * between its lifecycle-table markers). */
void lifecycle_markdown(FILE *out);

#endif
