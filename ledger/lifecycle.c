/* lifecycle.c - the vacancy lifecycle: the table (s_rows, the
 * specification, printed in docs/LEDGER.md), the reading of a message as an
 * event about a subject, and the checks each action makes.
 *
 * Owns: which message fits which state, and the detail of a refusal. Does
 * not own: the tables and what a message writes in them (facts.c), how they
 * are read (snapshot.c). Reads only: a refused message changes nothing, and
 * an accepted one is written by facts.c once stored.
 *
 * Invariant (tests/unit/ledger/test_lifecycle.c): for each event, every
 * state of its subject is in exactly one row. */
#include "lifecycle.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "conventions.h"
#include "instants.h"
#include "snapshot.h"

#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "fluxbus/v1/sne.pb-c.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define DECISION(x) FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_##x
#define CONDITION(x) FLUXBUS__V1__CONDITION_STATE__CONDITION_STATE_##x
#define ANSWER(x) FLUXBUS__V1__PROPOSITION_ANSWER__PROPOSITION_ANSWER_##x
#define SNE(x) FLUXBUS__V1__SNE_RADIATION_STATUS__SNE_RADIATION_STATUS_##x

/* ---- names ----------------------------------------------------------------------- */

typedef struct {
    const char *name;   /* as facts.c writes it */
    const char *phrase; /* as a refusal says it */
} s_state_t;

static const s_state_t s_vacancy_states[LIFECYCLE_V_COUNT] = {
    [LIFECYCLE_V_NONE] = {"none", "unknown to the ledger"},
    [LIFECYCLE_V_LIBERE] = {"libere", "freed"},
    [LIFECYCLE_V_ORIENTE] = {"oriente", "oriented"},
    [LIFECYCLE_V_DESIGNE] = {"designe", "with candidates designated"},
    [LIFECYCLE_V_REMIS] = {"remis", "given back (remise à disposition)"},
    [LIFECYCLE_V_EXPIRE] = {"expire", "past its deadline"},
    [LIFECYCLE_V_VISITE] = {"visite", "visited"},
    [LIFECYCLE_V_EN_CALEOL] = {"en_caleol", "on a CALEOL agenda"},
    [LIFECYCLE_V_DECIDE] = {"decide", "decided by the CALEOL"},
    [LIFECYCLE_V_ACCEPTE] = {"accepte", "accepted by a household"},
    [LIFECYCLE_V_REFUSE] = {"refuse", "refused by a household"},
    [LIFECYCLE_V_NON_SUIVI] = {"non_suivi", "left without a lease after an attribution"},
    [LIFECYCLE_V_BAIL_SIGNE] = {"bail_signe", "let (lease signed)"},
    [LIFECYCLE_V_RADIE] = {"radie", "let, its demande radiée in SNE"},
};

static const s_state_t s_orientation_states[LIFECYCLE_O_COUNT] = {
    [LIFECYCLE_O_NONE] = {"none", "not oriented to it"},
    [LIFECYCLE_O_ORIENTE] = {"oriente", "oriented"},
    [LIFECYCLE_O_ACQUITTE] = {"acquitte", "acknowledged"},
    [LIFECYCLE_O_DECLINE] = {"decline", "declined"},
    [LIFECYCLE_O_DESIGNE] = {"designe", "answered with candidates"},
    [LIFECYCLE_O_REMIS] = {"remis", "given back"},
    [LIFECYCLE_O_EXPIRE] = {"expire", "expired"},
};

static const s_state_t s_candidate_states[LIFECYCLE_C_COUNT] = {
    [LIFECYCLE_C_NONE] = {"none", "not designated"},
    [LIFECYCLE_C_DESIGNE] = {"designe", "designated"},
    [LIFECYCLE_C_VISITE] = {"visite", "designated and visited"},
    [LIFECYCLE_C_RETIRE] = {"retire", "withdrawn by a remise à disposition"},
    [LIFECYCLE_C_ATTRIBUE] = {"attribue", "attributed"},
    [LIFECYCLE_C_ATTRIBUE_RANG] = {"attribue_rang", "attributed by rank"},
    [LIFECYCLE_C_SOUS_CONDITION] = {"sous_condition",
                                    "attributed under a pending suspensive condition"},
    [LIFECYCLE_C_CONDITION_LEVEE] = {"condition_levee", "attributed, its condition lifted"},
    [LIFECYCLE_C_CONDITION_CADUQUE] = {"condition_caduque",
                                       "no longer attributed, its condition lapsed"},
    [LIFECYCLE_C_NON_ATTRIBUE] = {"non_attribue", "not attributed"},
    [LIFECYCLE_C_IRRECEVABLE] = {"irrecevable", "rejected as inadmissible"},
    [LIFECYCLE_C_ACCEPTE] = {"accepte", "accepted by the household"},
    [LIFECYCLE_C_REFUSE] = {"refuse", "refused by the household"},
    [LIFECYCLE_C_NON_SUIVI] = {"non_suivi", "an attribution not followed by a lease"},
    [LIFECYCLE_C_BAIL_SIGNE] = {"bail_signe", "let (lease signed)"},
    [LIFECYCLE_C_RADIE] = {"radie", "let, its demande radiée in SNE"},
};

typedef struct {
    const char *name; /* in details and in the table */
    const char *msg;  /* the message type */
    lifecycle_scope_t scope;
    bool by_bailleur; /* sent by the vacancy's bailleur only */
} s_event_t;

static const s_event_t s_events[LIFECYCLE_EV_COUNT] = {
    [LIFECYCLE_EV_LOGEMENT_LIBERE] = {"LogementLibere", "LogementLibere", LIFECYCLE_VACANCY, true},
    [LIFECYCLE_EV_ORIENTATION] = {"Orientation", "Orientation", LIFECYCLE_VACANCY, true},
    [LIFECYCLE_EV_CALEOL_SEANCE] = {"CaleolSeance", "CaleolSeance", LIFECYCLE_VACANCY, true},
    [LIFECYCLE_EV_CALEOL_SEANCE_CANCELLED] = {"CaleolSeance CANCELLED", "CaleolSeance",
                                              LIFECYCLE_VACANCY, true},
    [LIFECYCLE_EV_LOGEMENT_ISSUE] = {"LogementIssue", "LogementIssue", LIFECYCLE_VACANCY, true},
    [LIFECYCLE_EV_ORIENTATION_ACK] = {"OrientationAck", "OrientationAck", LIFECYCLE_ORIENTATION,
                                      false},
    [LIFECYCLE_EV_ORIENTATION_DECLINE] = {"OrientationDecline", "OrientationDecline",
                                          LIFECYCLE_ORIENTATION, false},
    [LIFECYCLE_EV_DESIGNATION] = {"Designation", "Designation", LIFECYCLE_ORIENTATION, false},
    [LIFECYCLE_EV_REMISE] = {"RemiseADisposition", "RemiseADisposition", LIFECYCLE_ORIENTATION,
                             false},
    [LIFECYCLE_EV_DEADLINE_EXPIRED] = {"DeadlineExpired", "DeadlineExpired", LIFECYCLE_ORIENTATION,
                                       false},
    [LIFECYCLE_EV_VISITE] = {"Visite", "Visite", LIFECYCLE_CANDIDATE, true},
    [LIFECYCLE_EV_ATTRIBUTION] = {"CaleolDecision ATTRIBUTION", "CaleolDecision",
                                  LIFECYCLE_CANDIDATE, true},
    [LIFECYCLE_EV_ATTRIBUTION_PAR_RANG] = {"CaleolDecision ATTRIBUTION_PAR_RANG", "CaleolDecision",
                                           LIFECYCLE_CANDIDATE, true},
    [LIFECYCLE_EV_SOUS_CONDITION] = {"CaleolDecision SOUS_CONDITION_SUSPENSIVE pending",
                                     "CaleolDecision", LIFECYCLE_CANDIDATE, true},
    [LIFECYCLE_EV_CONDITION_LEVEE] = {"CaleolDecision SOUS_CONDITION_SUSPENSIVE lifted",
                                      "CaleolDecision", LIFECYCLE_CANDIDATE, true},
    [LIFECYCLE_EV_CONDITION_CADUQUE] = {"CaleolDecision SOUS_CONDITION_SUSPENSIVE lapsed",
                                        "CaleolDecision", LIFECYCLE_CANDIDATE, true},
    [LIFECYCLE_EV_NON_ATTRIBUTION] = {"CaleolDecision NON_ATTRIBUTION", "CaleolDecision",
                                      LIFECYCLE_CANDIDATE, true},
    [LIFECYCLE_EV_IRRECEVABILITE] = {"CaleolDecision REJET_IRRECEVABILITE", "CaleolDecision",
                                     LIFECYCLE_CANDIDATE, true},
    [LIFECYCLE_EV_ACCEPTEE] = {"PropositionReponse ACCEPTEE", "PropositionReponse",
                               LIFECYCLE_CANDIDATE, true},
    [LIFECYCLE_EV_REFUSEE] = {"PropositionReponse REFUSEE", "PropositionReponse",
                              LIFECYCLE_CANDIDATE, true},
    [LIFECYCLE_EV_NON_SUIVIE] = {"AttributionNonSuivieDeBail", "AttributionNonSuivieDeBail",
                                 LIFECYCLE_CANDIDATE, true},
    [LIFECYCLE_EV_BAIL_SIGNE] = {"BailSigne", "BailSigne", LIFECYCLE_CANDIDATE, true},
    [LIFECYCLE_EV_RADIEE] = {"SneRadiationAck RADIEE", "SneRadiationAck", LIFECYCLE_CANDIDATE,
                             false},
    [LIFECYCLE_EV_NON_RADIEE] = {"SneRadiationAck not radiée", "SneRadiationAck",
                                 LIFECYCLE_CANDIDATE, false},
};

static const char *const s_actions[LIFECYCLE_ACTION_COUNT] = {
    [LIFECYCLE_REFUSE] = "refuse",
    [LIFECYCLE_REFUSE_NOT_ORIENTED] = "refuse_not_oriented",
    [LIFECYCLE_OPEN_VACANCY] = "open_vacancy",
    [LIFECYCLE_UPDATE_DWELLING] = "update_dwelling",
    [LIFECYCLE_ORIENT] = "orient",
    [LIFECYCLE_PUT_ON_AGENDA] = "put_on_agenda",
    [LIFECYCLE_KEEP_ON_AGENDA] = "keep_on_agenda",
    [LIFECYCLE_TELL_OUTCOME] = "tell_outcome",
    [LIFECYCLE_ACKNOWLEDGE] = "acknowledge",
    [LIFECYCLE_DECLINE] = "decline",
    [LIFECYCLE_DESIGNATE] = "designate",
    [LIFECYCLE_DESIGNATE_WITHOUT_ORIENTATION] = "designate_without_orientation",
    [LIFECYCLE_GIVE_BACK] = "give_back",
    [LIFECYCLE_EXPIRE] = "expire",
    [LIFECYCLE_EXPIRE_INCOMPLETE_ROUND] = "expire_incomplete_round",
    [LIFECYCLE_RECORD_VISIT] = "record_visit",
    [LIFECYCLE_ATTRIBUTE] = "attribute",
    [LIFECYCLE_ATTRIBUTE_BY_RANK] = "attribute_by_rank",
    [LIFECYCLE_ATTRIBUTE_UNDER_CONDITION] = "attribute_under_condition",
    [LIFECYCLE_SETTLE_CONDITION] = "settle_condition",
    [LIFECYCLE_RECORD_REJECTION] = "record_rejection",
    [LIFECYCLE_RECORD_ANSWER] = "record_answer",
    [LIFECYCLE_END_WITHOUT_LEASE] = "end_without_lease",
    [LIFECYCLE_SIGN_LEASE] = "sign_lease",
    [LIFECYCLE_RADIATE] = "radiate",
    [LIFECYCLE_NOTE_SNE_ANSWER] = "note_sne_answer",
};

/* ---- the table --------------------------------------------------------------------- */

#define V(s) (1u << LIFECYCLE_V_##s)
#define O(s) (1u << LIFECYCLE_O_##s)
#define C(s) (1u << LIFECYCLE_C_##s)
#define EV(e) LIFECYCLE_EV_##e
#define DO(a) LIFECYCLE_##a
#define TO_V(s) LIFECYCLE_V_##s
#define TO_O(s) LIFECYCLE_O_##s
#define TO_C(s) LIFECYCLE_C_##s
#define SAME LIFECYCLE_SAME
#define NO_ROUND_YET "which no designation named on {vac}"

/* Vacancy states in which it is still to be let. */
#define V_OPEN                                                                                     \
    (V(LIBERE) | V(ORIENTE) | V(DESIGNE) | V(REMIS) | V(EXPIRE) | V(VISITE) | V(EN_CALEOL) |       \
     V(DECIDE) | V(ACCEPTE) | V(REFUSE) | V(NON_SUIVI))
#define V_LET (V(BAIL_SIGNE) | V(RADIE))
/* Candidate states of a decided candidate. */
#define C_DECIDED                                                                                  \
    (C(ATTRIBUE) | C(ATTRIBUE_RANG) | C(SOUS_CONDITION) | C(CONDITION_LEVEE) |                     \
     C(CONDITION_CADUQUE) | C(NON_ATTRIBUE) | C(IRRECEVABLE) | C(ACCEPTE) | C(REFUSE) |            \
     C(NON_SUIVI) | C(BAIL_SIGNE) | C(RADIE))
/* An attribution the household may still answer or sign. */
#define C_PROPOSED (C(ATTRIBUE) | C(ATTRIBUE_RANG) | C(CONDITION_LEVEE))
#define C_UNDECIDED (C(DESIGNE) | C(VISITE))
#define C_ENDED                                                                                    \
    (C(RETIRE) | C(CONDITION_CADUQUE) | C(NON_ATTRIBUE) | C(IRRECEVABLE) | C(REFUSE) | C(NON_SUIVI))

static const lifecycle_row_t s_rows[] = {
    /* The vacancy --------------------------------------------------------------------- */
    {EV(LOGEMENT_LIBERE), V(NONE), DO(OPEN_VACANCY), TO_V(LIBERE), NULL},
    {EV(LOGEMENT_LIBERE), V_OPEN, DO(UPDATE_DWELLING), SAME, NULL},
    {EV(LOGEMENT_LIBERE), V_LET, DO(REFUSE), SAME,
     "LogementLibere for {vac}, which is {state}: a new letting takes a new vacancy id"},

    {EV(ORIENTATION),
     V(NONE) | V(LIBERE) | V(ORIENTE) | V(REMIS) | V(EXPIRE) | V(DECIDE) | V(REFUSE) | V(NON_SUIVI),
     DO(ORIENT), TO_V(ORIENTE), NULL},
    {EV(ORIENTATION), V(DESIGNE) | V(VISITE) | V(EN_CALEOL), DO(REFUSE), SAME,
     "Orientation of {vac} to {resa}, which is {state}: its candidates go to the CALEOL first"},
    {EV(ORIENTATION), V(ACCEPTE) | V_LET, DO(REFUSE), SAME,
     "Orientation of {vac} to {resa}, which is {state}"},

    {EV(CALEOL_SEANCE), V(NONE), DO(REFUSE), SAME,
     "CaleolSeance lists {vac}, which the ledger has never seen (no LogementLibere nor "
     "Orientation)"},
    {EV(CALEOL_SEANCE), V(DESIGNE) | V(VISITE), DO(PUT_ON_AGENDA), TO_V(EN_CALEOL), NULL},
    {EV(CALEOL_SEANCE), (V_OPEN | V_LET) & ~(V(DESIGNE) | V(VISITE)), DO(KEEP_ON_AGENDA), SAME,
     NULL},
    {EV(CALEOL_SEANCE_CANCELLED), V(NONE), DO(REFUSE), SAME,
     "CaleolSeance lists {vac}, which the ledger has never seen (no LogementLibere nor "
     "Orientation)"},
    {EV(CALEOL_SEANCE_CANCELLED), V_OPEN | V_LET, DO(KEEP_ON_AGENDA), SAME, NULL},

    {EV(LOGEMENT_ISSUE), V(NONE), DO(REFUSE), SAME,
     "LogementIssue for {vac}, which the ledger has never seen (no LogementLibere nor "
     "Orientation)"},
    {EV(LOGEMENT_ISSUE), V_OPEN | V_LET, DO(TELL_OUTCOME), SAME, NULL},

    /* The orientation: the réservataire's latest round -------------------------------- */
    {EV(ORIENTATION_ACK), O(NONE), DO(REFUSE_NOT_ORIENTED), SAME, NULL},
    {EV(ORIENTATION_ACK), O(ORIENTE), DO(ACKNOWLEDGE), TO_O(ACQUITTE), NULL},
    {EV(ORIENTATION_ACK), O(ACQUITTE), DO(REFUSE), SAME,
     "OrientationAck by {resa} on {vac}, acknowledged already"},
    {EV(ORIENTATION_ACK), O(DECLINE) | O(DESIGNE) | O(REMIS) | O(EXPIRE), DO(REFUSE), SAME,
     "OrientationAck by {resa} on {vac}, whose orientation is {state} already"},

    {EV(ORIENTATION_DECLINE), O(NONE), DO(REFUSE_NOT_ORIENTED), SAME, NULL},
    {EV(ORIENTATION_DECLINE), O(ORIENTE) | O(ACQUITTE), DO(DECLINE), TO_O(DECLINE), NULL},
    {EV(ORIENTATION_DECLINE), O(DESIGNE), DO(REFUSE), SAME,
     "OrientationDecline by {resa} on {vac} after designating candidates: a RemiseADisposition "
     "gives it back"},
    {EV(ORIENTATION_DECLINE), O(DECLINE) | O(REMIS) | O(EXPIRE), DO(REFUSE), SAME,
     "OrientationDecline by {resa} on {vac}, whose orientation is {state} already"},

    {EV(DESIGNATION), O(NONE), DO(DESIGNATE_WITHOUT_ORIENTATION), SAME, NULL},
    {EV(DESIGNATION), O(ORIENTE) | O(ACQUITTE) | O(DESIGNE), DO(DESIGNATE), TO_O(DESIGNE), NULL},
    {EV(DESIGNATION), O(DECLINE), DO(REFUSE), SAME,
     "Designation by {sender} on {vac}, whose orientation to {resa} is declined"},
    {EV(DESIGNATION), O(REMIS), DO(REFUSE), SAME,
     "Designation by {sender} on {vac} after the remise à disposition by {resa}"},
    {EV(DESIGNATION), O(EXPIRE), DO(REFUSE), SAME,
     "Designation by {sender} on {vac} after the deadline of {resa} expired"},

    {EV(REMISE), O(NONE), DO(REFUSE_NOT_ORIENTED), SAME, NULL},
    {EV(REMISE), O(ORIENTE) | O(ACQUITTE) | O(DESIGNE), DO(GIVE_BACK), TO_O(REMIS), NULL},
    {EV(REMISE), O(REMIS), DO(REFUSE), SAME,
     "RemiseADisposition by {resa} on {vac}, given back already"},
    {EV(REMISE), O(DECLINE) | O(EXPIRE), DO(REFUSE), SAME,
     "RemiseADisposition by {resa} on {vac}, whose orientation is {state} already"},

    {EV(DEADLINE_EXPIRED), O(NONE), DO(REFUSE_NOT_ORIENTED), SAME, NULL},
    {EV(DEADLINE_EXPIRED), O(ORIENTE) | O(ACQUITTE), DO(EXPIRE), TO_O(EXPIRE), NULL},
    {EV(DEADLINE_EXPIRED), O(DESIGNE), DO(EXPIRE_INCOMPLETE_ROUND), TO_O(EXPIRE), NULL},
    {EV(DEADLINE_EXPIRED), O(EXPIRE), DO(REFUSE), SAME,
     "DeadlineExpired for {resa} on {vac}, expired already"},
    {EV(DEADLINE_EXPIRED), O(DECLINE) | O(REMIS), DO(REFUSE), SAME,
     "DeadlineExpired for {resa} on {vac}, whose orientation is {state} already"},

    /* The candidate: vacancy × NUR ------------------------------------------------------ */
    {EV(VISITE), C(NONE), DO(REFUSE), SAME, "Visite for NUR {nur}, " NO_ROUND_YET},
    {EV(VISITE), C_UNDECIDED, DO(RECORD_VISIT), TO_C(VISITE), NULL},
    {EV(VISITE), C(ATTRIBUE) | C(ATTRIBUE_RANG) | C(SOUS_CONDITION) | C(CONDITION_LEVEE),
     DO(RECORD_VISIT), SAME, NULL},
    {EV(VISITE), C_ENDED | C(ACCEPTE) | C(BAIL_SIGNE) | C(RADIE), DO(REFUSE), SAME,
     "Visite for NUR {nur} on {vac}, who is {state}"},

    {EV(ATTRIBUTION), C(NONE), DO(REFUSE), SAME, "CaleolDecision for NUR {nur}, " NO_ROUND_YET},
    {EV(ATTRIBUTION), C_UNDECIDED, DO(ATTRIBUTE), TO_C(ATTRIBUE), NULL},
    {EV(ATTRIBUTION), C(RETIRE), DO(REFUSE), SAME, "{event} for NUR {nur} on {vac}, {state}"},
    {EV(ATTRIBUTION), C_DECIDED, DO(REFUSE), SAME,
     "{event} for NUR {nur} on {vac}, decided already ({state})"},

    {EV(ATTRIBUTION_PAR_RANG), C(NONE), DO(REFUSE), SAME,
     "CaleolDecision for NUR {nur}, " NO_ROUND_YET},
    {EV(ATTRIBUTION_PAR_RANG), C_UNDECIDED, DO(ATTRIBUTE_BY_RANK), TO_C(ATTRIBUE_RANG), NULL},
    {EV(ATTRIBUTION_PAR_RANG), C(RETIRE), DO(REFUSE), SAME,
     "{event} for NUR {nur} on {vac}, {state}"},
    {EV(ATTRIBUTION_PAR_RANG), C_DECIDED, DO(REFUSE), SAME,
     "{event} for NUR {nur} on {vac}, decided already ({state})"},

    {EV(SOUS_CONDITION), C(NONE), DO(REFUSE), SAME, "CaleolDecision for NUR {nur}, " NO_ROUND_YET},
    {EV(SOUS_CONDITION), C_UNDECIDED, DO(ATTRIBUTE_UNDER_CONDITION), TO_C(SOUS_CONDITION), NULL},
    {EV(SOUS_CONDITION), C(RETIRE), DO(REFUSE), SAME, "{event} for NUR {nur} on {vac}, {state}"},
    {EV(SOUS_CONDITION), C_DECIDED, DO(REFUSE), SAME,
     "{event} for NUR {nur} on {vac}, decided already ({state})"},

    {EV(CONDITION_LEVEE), C(NONE), DO(REFUSE), SAME, "CaleolDecision for NUR {nur}, " NO_ROUND_YET},
    {EV(CONDITION_LEVEE), C(SOUS_CONDITION), DO(SETTLE_CONDITION), TO_C(CONDITION_LEVEE), NULL},
    {EV(CONDITION_LEVEE), C_UNDECIDED | C(RETIRE), DO(REFUSE), SAME,
     "{event} for NUR {nur} on {vac}, who had no decision sous condition suspensive"},
    {EV(CONDITION_LEVEE), C_DECIDED & ~C(SOUS_CONDITION), DO(REFUSE), SAME,
     "{event} for NUR {nur} on {vac}, who is {state}: no pending condition"},

    {EV(CONDITION_CADUQUE), C(NONE), DO(REFUSE), SAME,
     "CaleolDecision for NUR {nur}, " NO_ROUND_YET},
    {EV(CONDITION_CADUQUE), C(SOUS_CONDITION), DO(SETTLE_CONDITION), TO_C(CONDITION_CADUQUE), NULL},
    {EV(CONDITION_CADUQUE), C_UNDECIDED | C(RETIRE), DO(REFUSE), SAME,
     "{event} for NUR {nur} on {vac}, who had no decision sous condition suspensive"},
    {EV(CONDITION_CADUQUE), C_DECIDED & ~C(SOUS_CONDITION), DO(REFUSE), SAME,
     "{event} for NUR {nur} on {vac}, who is {state}: no pending condition"},

    {EV(NON_ATTRIBUTION), C(NONE), DO(REFUSE), SAME, "CaleolDecision for NUR {nur}, " NO_ROUND_YET},
    {EV(NON_ATTRIBUTION), C_UNDECIDED, DO(RECORD_REJECTION), TO_C(NON_ATTRIBUE), NULL},
    {EV(NON_ATTRIBUTION), C(RETIRE), DO(REFUSE), SAME, "{event} for NUR {nur} on {vac}, {state}"},
    {EV(NON_ATTRIBUTION), C_DECIDED, DO(REFUSE), SAME,
     "{event} for NUR {nur} on {vac}, decided already ({state})"},

    {EV(IRRECEVABILITE), C(NONE), DO(REFUSE), SAME, "CaleolDecision for NUR {nur}, " NO_ROUND_YET},
    {EV(IRRECEVABILITE), C_UNDECIDED, DO(RECORD_REJECTION), TO_C(IRRECEVABLE), NULL},
    {EV(IRRECEVABILITE), C(RETIRE), DO(REFUSE), SAME, "{event} for NUR {nur} on {vac}, {state}"},
    {EV(IRRECEVABILITE), C_DECIDED, DO(REFUSE), SAME,
     "{event} for NUR {nur} on {vac}, decided already ({state})"},

    {EV(ACCEPTEE), C(NONE), DO(REFUSE), SAME, "PropositionReponse for NUR {nur}, " NO_ROUND_YET},
    {EV(ACCEPTEE), C_PROPOSED, DO(RECORD_ANSWER), TO_C(ACCEPTE), NULL},
    {EV(ACCEPTEE), C_UNDECIDED, DO(REFUSE), SAME,
     "PropositionReponse for NUR {nur} on {vac} before any attribution decision"},
    {EV(ACCEPTEE), C(SOUS_CONDITION), DO(REFUSE), SAME,
     "PropositionReponse for NUR {nur} on {vac} before its suspensive condition is lifted"},
    {EV(ACCEPTEE), C(ACCEPTE) | C(REFUSE), DO(REFUSE), SAME,
     "PropositionReponse for NUR {nur} on {vac}, answered already ({state})"},
    {EV(ACCEPTEE),
     C(RETIRE) | C(CONDITION_CADUQUE) | C(NON_ATTRIBUE) | C(IRRECEVABLE) | C(NON_SUIVI) |
         C(BAIL_SIGNE) | C(RADIE),
     DO(REFUSE), SAME, "PropositionReponse for NUR {nur} on {vac}, who is {state}"},

    {EV(REFUSEE), C(NONE), DO(REFUSE), SAME, "PropositionReponse for NUR {nur}, " NO_ROUND_YET},
    {EV(REFUSEE), C_PROPOSED, DO(RECORD_ANSWER), TO_C(REFUSE), NULL},
    {EV(REFUSEE), C_UNDECIDED, DO(REFUSE), SAME,
     "PropositionReponse for NUR {nur} on {vac} before any attribution decision"},
    {EV(REFUSEE), C(SOUS_CONDITION), DO(REFUSE), SAME,
     "PropositionReponse for NUR {nur} on {vac} before its suspensive condition is lifted"},
    {EV(REFUSEE), C(ACCEPTE) | C(REFUSE), DO(REFUSE), SAME,
     "PropositionReponse for NUR {nur} on {vac}, answered already ({state})"},
    {EV(REFUSEE),
     C(RETIRE) | C(CONDITION_CADUQUE) | C(NON_ATTRIBUE) | C(IRRECEVABLE) | C(NON_SUIVI) |
         C(BAIL_SIGNE) | C(RADIE),
     DO(REFUSE), SAME, "PropositionReponse for NUR {nur} on {vac}, who is {state}"},

    {EV(NON_SUIVIE), C(NONE), DO(REFUSE), SAME,
     "AttributionNonSuivieDeBail for NUR {nur}, " NO_ROUND_YET},
    {EV(NON_SUIVIE), C_PROPOSED | C(SOUS_CONDITION) | C(CONDITION_CADUQUE) | C(ACCEPTE) | C(REFUSE),
     DO(END_WITHOUT_LEASE), TO_C(NON_SUIVI), NULL},
    {EV(NON_SUIVIE), C_UNDECIDED | C(RETIRE) | C(NON_ATTRIBUE) | C(IRRECEVABLE), DO(REFUSE), SAME,
     "AttributionNonSuivieDeBail for NUR {nur} on {vac}, who had no attribution ({state})"},
    {EV(NON_SUIVIE), C(NON_SUIVI), DO(REFUSE), SAME,
     "AttributionNonSuivieDeBail for NUR {nur} on {vac}, recorded already"},
    {EV(NON_SUIVIE), C(BAIL_SIGNE) | C(RADIE), DO(REFUSE), SAME,
     "AttributionNonSuivieDeBail for NUR {nur} on {vac}, who is {state}"},

    {EV(BAIL_SIGNE), C(NONE), DO(REFUSE), SAME, "BailSigne for NUR {nur}, " NO_ROUND_YET},
    {EV(BAIL_SIGNE), C_PROPOSED | C(ACCEPTE), DO(SIGN_LEASE), TO_C(BAIL_SIGNE), NULL},
    {EV(BAIL_SIGNE), C_UNDECIDED, DO(REFUSE), SAME,
     "BailSigne on {vac} before any attribution decision (NUR {nur} is {state})"},
    {EV(BAIL_SIGNE), C(SOUS_CONDITION), DO(REFUSE), SAME,
     "BailSigne for NUR {nur} on {vac} before its suspensive condition is lifted"},
    {EV(BAIL_SIGNE), C(BAIL_SIGNE) | C(RADIE), DO(REFUSE), SAME,
     "a second BailSigne for NUR {nur} on {vac}, which is {state} already"},
    {EV(BAIL_SIGNE), C_ENDED, DO(REFUSE), SAME, "BailSigne for NUR {nur} on {vac}, who is {state}"},

    {EV(RADIEE), C(NONE), DO(REFUSE), SAME, "SneRadiationAck for NUR {nur}, " NO_ROUND_YET},
    {EV(RADIEE), C(BAIL_SIGNE), DO(RADIATE), TO_C(RADIE), NULL},
    {EV(RADIEE), C(RADIE), DO(NOTE_SNE_ANSWER), SAME, NULL},
    {EV(RADIEE), C_UNDECIDED | (C_DECIDED & ~(C(BAIL_SIGNE) | C(RADIE))) | C(RETIRE), DO(REFUSE),
     SAME, "SneRadiationAck for NUR {nur} on {vac} before its lease (NUR {nur} is {state})"},

    {EV(NON_RADIEE), C(NONE), DO(REFUSE), SAME, "SneRadiationAck for NUR {nur}, " NO_ROUND_YET},
    {EV(NON_RADIEE), C(BAIL_SIGNE), DO(NOTE_SNE_ANSWER), SAME, NULL},
    {EV(NON_RADIEE), C(RADIE), DO(REFUSE), SAME, "{event} for NUR {nur} on {vac}, radiée already"},
    {EV(NON_RADIEE), C_UNDECIDED | (C_DECIDED & ~(C(BAIL_SIGNE) | C(RADIE))) | C(RETIRE),
     DO(REFUSE), SAME,
     "SneRadiationAck for NUR {nur} on {vac} before its lease (NUR {nur} is {state})"},
};

const lifecycle_row_t *lifecycle_rows(size_t *n)
{
    *n = sizeof s_rows / sizeof s_rows[0];
    return s_rows;
}

lifecycle_scope_t lifecycle_event_scope(lifecycle_event_t event)
{
    return event < LIFECYCLE_EV_COUNT ? s_events[event].scope : LIFECYCLE_VACANCY;
}

const char *lifecycle_event_name(lifecycle_event_t event)
{
    return event < LIFECYCLE_EV_COUNT ? s_events[event].name : "?";
}

const char *lifecycle_action_name(lifecycle_action_t action)
{
    return action < LIFECYCLE_ACTION_COUNT ? s_actions[action] : "?";
}

const char *lifecycle_scope_name(lifecycle_scope_t scope)
{
    static const char *const names[] = {"vacancy", "orientation", "candidate"};
    return scope <= LIFECYCLE_CANDIDATE ? names[scope] : "?";
}

int lifecycle_state_count(lifecycle_scope_t scope)
{
    return scope == LIFECYCLE_VACANCY       ? LIFECYCLE_V_COUNT
           : scope == LIFECYCLE_ORIENTATION ? LIFECYCLE_O_COUNT
                                            : LIFECYCLE_C_COUNT;
}

static const s_state_t *s_state(lifecycle_scope_t scope, int state)
{
    static const s_state_t unknown = {"?", "?"};
    if (state < 0 || state >= lifecycle_state_count(scope))
        return &unknown;
    return scope == LIFECYCLE_VACANCY       ? &s_vacancy_states[state]
           : scope == LIFECYCLE_ORIENTATION ? &s_orientation_states[state]
                                            : &s_candidate_states[state];
}

const char *lifecycle_state_name(lifecycle_scope_t scope, int state)
{
    return s_state(scope, state)->name;
}

const char *lifecycle_state_phrase(lifecycle_scope_t scope, int state)
{
    return s_state(scope, state)->phrase;
}

/* ---- the subject's state ---------------------------------------------------------- */

static int s_state_by_name(lifecycle_scope_t scope, const char *name)
{
    for (int i = 1; i < lifecycle_state_count(scope); i++)
        if (strcmp(s_state(scope, i)->name, name) == 0)
            return i;
    return 0;
}

static int s_vacancy_state(const snapshot_t *snap)
{
    return snap->known ? s_state_by_name(LIFECYCLE_VACANCY, snap->state) : LIFECYCLE_V_NONE;
}

static int s_orientation_state(const snapshot_orientation_t *o)
{
    return o ? s_state_by_name(LIFECYCLE_ORIENTATION, o->status) : LIFECYCLE_O_NONE;
}

/* From the candidate's row: the furthest step it reached. */
static int s_candidate_state(const snapshot_t *snap, const snapshot_candidate_t *c)
{
    if (!c || !c->designated)
        return LIFECYCLE_C_NONE;
    if (c->radiated)
        return LIFECYCLE_C_RADIE;
    if (c->lease)
        return LIFECYCLE_C_BAIL_SIGNE;
    if (c->non_suite)
        return LIFECYCLE_C_NON_SUIVI;
    if (c->answer == ANSWER(ACCEPTEE))
        return LIFECYCLE_C_ACCEPTE;
    if (c->answer == ANSWER(REFUSEE))
        return LIFECYCLE_C_REFUSE;
    switch (c->decision) {
    case DECISION(ATTRIBUTION):
        return LIFECYCLE_C_ATTRIBUE;
    case DECISION(ATTRIBUTION_PAR_RANG):
        return LIFECYCLE_C_ATTRIBUE_RANG;
    case DECISION(SOUS_CONDITION_SUSPENSIVE):
        return c->condition_state == CONDITION(LIFTED)   ? LIFECYCLE_C_CONDITION_LEVEE
               : c->condition_state == CONDITION(LAPSED) ? LIFECYCLE_C_CONDITION_CADUQUE
                                                         : LIFECYCLE_C_SOUS_CONDITION;
    case DECISION(NON_ATTRIBUTION):
        return LIFECYCLE_C_NON_ATTRIBUE;
    case DECISION(REJET_IRRECEVABILITE):
        return LIFECYCLE_C_IRRECEVABLE;
    default:
        break;
    }
    const snapshot_orientation_t *o = c->round ? snapshot_round(snap, c->credited, c->round) : NULL;
    if (o && strcmp(o->status, "remis") == 0)
        return LIFECYCLE_C_RETIRE;
    return c->visited ? LIFECYCLE_C_VISITE : LIFECYCLE_C_DESIGNE;
}

static bool s_in(int state, uint32_t set)
{
    return state >= 0 && (set >> state & 1u);
}

/* Still holds the vacancy: a new orientation would offer it twice. */
#define C_HOLDING                                                                                  \
    (C_UNDECIDED | C(ATTRIBUE) | C(ATTRIBUE_RANG) | C(SOUS_CONDITION) | C(CONDITION_LEVEE) |       \
     C(ACCEPTE) | C(BAIL_SIGNE) | C(RADIE))
/* An attribution that stands (or what it became: acceptance, lease). */
#define C_STANDING (C_HOLDING & ~C_UNDECIDED)
/* The dwelling is taken by this household. */
#define C_TAKEN (C(ACCEPTE) | C(BAIL_SIGNE) | C(RADIE))

/* ---- reading a message -------------------------------------------------------------- */

typedef struct {
    stmts_t *q; /* the store's connection, read only */
    const ledger_msg_t *msg;
    lifecycle_event_t event;
    const char *vacancy;
    const char *nur;  /* candidate events and Designation */
    const char *resa; /* orientation events and Orientation */
    snapshot_t snap;
    int state;                                 /* of the subject */
    const snapshot_orientation_t *orientation; /* resa's latest round */
    const snapshot_candidate_t *candidate;
    char *detail;
    size_t dlen;
} s_ctx_t;

static fb_err_t s_refuse(s_ctx_t *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static fb_err_t s_refuse(s_ctx_t *cx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cx->detail, cx->dlen, fmt, ap);
    va_end(ap);
    return FB_ERR_INVALID_TRANSITION;
}

static lifecycle_event_t s_decision_event(const Fluxbus__V1__CaleolDecision *d)
{
    switch (d->decision) {
    case DECISION(ATTRIBUTION):
        return LIFECYCLE_EV_ATTRIBUTION;
    case DECISION(ATTRIBUTION_PAR_RANG):
        return LIFECYCLE_EV_ATTRIBUTION_PAR_RANG;
    case DECISION(SOUS_CONDITION_SUSPENSIVE):
        return d->condition_state == CONDITION(LIFTED)   ? LIFECYCLE_EV_CONDITION_LEVEE
               : d->condition_state == CONDITION(LAPSED) ? LIFECYCLE_EV_CONDITION_CADUQUE
                                                         : LIFECYCLE_EV_SOUS_CONDITION;
    case DECISION(NON_ATTRIBUTION):
        return LIFECYCLE_EV_NON_ATTRIBUTION;
    case DECISION(REJET_IRRECEVABILITE):
        return LIFECYCLE_EV_IRRECEVABILITE;
    default:
        return LIFECYCLE_EV_COUNT;
    }
}

/* Reads the event, its vacancy and its subject's key from the payload.
 * 1: a lifecycle event; 0: a type the lifecycle does not judge; -1:
 * refused (detail written). */
static int s_read(s_ctx_t *cx)
{
    const ledger_msg_t *m = cx->msg;
    const void *p = m->payload;
    cx->event = LIFECYCLE_EV_COUNT;
    switch (m->type) {
    case T(LOGEMENT_LIBERE):
        cx->event = LIFECYCLE_EV_LOGEMENT_LIBERE;
        cx->vacancy = ((const Fluxbus__V1__LogementLibere *)p)->vacancy_id;
        break;
    case T(ORIENTATION):
        cx->event = LIFECYCLE_EV_ORIENTATION;
        cx->vacancy = ((const Fluxbus__V1__Orientation *)p)->vacancy_id;
        cx->resa = ((const Fluxbus__V1__Orientation *)p)->reservataire_actor_id;
        break;
    case T(LOGEMENT_ISSUE):
        cx->event = LIFECYCLE_EV_LOGEMENT_ISSUE;
        cx->vacancy = ((const Fluxbus__V1__LogementIssue *)p)->vacancy_id;
        break;
    case T(ORIENTATION_ACK):
        cx->event = LIFECYCLE_EV_ORIENTATION_ACK;
        cx->vacancy = ((const Fluxbus__V1__OrientationAck *)p)->vacancy_id;
        cx->resa = m->sender;
        break;
    case T(ORIENTATION_DECLINE):
        cx->event = LIFECYCLE_EV_ORIENTATION_DECLINE;
        cx->vacancy = ((const Fluxbus__V1__OrientationDecline *)p)->vacancy_id;
        cx->resa = m->sender;
        break;
    case T(DESIGNATION): {
        const Fluxbus__V1__Designation *d = p;
        cx->event = LIFECYCLE_EV_DESIGNATION;
        cx->vacancy = d->vacancy_id;
        cx->nur = d->nur;
        cx->resa =
            *d->credited_reservataire_actor_id ? d->credited_reservataire_actor_id : m->sender;
        break;
    }
    case T(REMISE_A_DISPOSITION):
        cx->event = LIFECYCLE_EV_REMISE;
        cx->vacancy = ((const Fluxbus__V1__RemiseADisposition *)p)->vacancy_id;
        cx->resa = m->sender;
        break;
    case T(DEADLINE_EXPIRED):
        cx->event = LIFECYCLE_EV_DEADLINE_EXPIRED;
        cx->vacancy = ((const Fluxbus__V1__DeadlineExpired *)p)->vacancy_id;
        break; /* resa: a recipient, once the orientations are read */
    case T(VISITE):
        cx->event = LIFECYCLE_EV_VISITE;
        cx->vacancy = ((const Fluxbus__V1__Visite *)p)->vacancy_id;
        cx->nur = ((const Fluxbus__V1__Visite *)p)->nur;
        break;
    case T(CALEOL_DECISION): {
        const Fluxbus__V1__CaleolDecision *d = p;
        cx->vacancy = d->vacancy_id;
        cx->nur = d->nur;
        cx->event = s_decision_event(d);
        if (cx->event == LIFECYCLE_EV_COUNT) {
            s_refuse(cx, "CaleolDecision for NUR %s on %s without a decision code", d->nur,
                     d->vacancy_id);
            return -1;
        }
        break;
    }
    case T(PROPOSITION_REPONSE): {
        const Fluxbus__V1__PropositionReponse *r = p;
        cx->vacancy = r->vacancy_id;
        cx->nur = r->nur;
        if (r->answer == ANSWER(ACCEPTEE))
            cx->event = LIFECYCLE_EV_ACCEPTEE;
        else if (r->answer == ANSWER(REFUSEE))
            cx->event = LIFECYCLE_EV_REFUSEE;
        else {
            s_refuse(cx, "PropositionReponse for NUR %s on %s without an answer", r->nur,
                     r->vacancy_id);
            return -1;
        }
        break;
    }
    case T(ATTRIBUTION_NON_SUIVIE_DE_BAIL):
        cx->event = LIFECYCLE_EV_NON_SUIVIE;
        cx->vacancy = ((const Fluxbus__V1__AttributionNonSuivieDeBail *)p)->vacancy_id;
        cx->nur = ((const Fluxbus__V1__AttributionNonSuivieDeBail *)p)->nur;
        break;
    case T(BAIL_SIGNE):
        cx->event = LIFECYCLE_EV_BAIL_SIGNE;
        cx->vacancy = ((const Fluxbus__V1__BailSigne *)p)->vacancy_id;
        cx->nur = ((const Fluxbus__V1__BailSigne *)p)->nur;
        break;
    case T(SNE_RADIATION_ACK): {
        const Fluxbus__V1__SneRadiationAck *a = p;
        cx->vacancy = a->vacancy_id;
        cx->nur = a->nur;
        cx->event = a->status == SNE(RADIEE) || a->status == SNE(ALREADY_RADIEE)
                        ? LIFECYCLE_EV_RADIEE
                        : LIFECYCLE_EV_NON_RADIEE;
        break;
    }
    default:
        return 0; /* CaleolSeance: one vacancy at a time (lifecycle_check) */
    }
    if (!cx->vacancy || !*cx->vacancy) {
        s_refuse(cx, "%s without a vacancy_id", s_events[cx->event].msg);
        return -1;
    }
    if (s_events[cx->event].scope == LIFECYCLE_CANDIDATE && (!cx->nur || !*cx->nur)) {
        s_refuse(cx, "%s on %s without a NUR", s_events[cx->event].msg, cx->vacancy);
        return -1;
    }
    return 1;
}

/* DeadlineExpired: the recipient the vacancy is oriented to (the bailleur
 * may be addressed too), else the first one that is not the bailleur. */
static const char *s_expired_reservataire(const s_ctx_t *cx)
{
    const ledger_msg_t *m = cx->msg;
    for (size_t i = 0; i < m->n_recipients; i++)
        if (snapshot_orientation(&cx->snap, m->recipients[i]))
            return m->recipients[i];
    for (size_t i = 0; i < m->n_recipients; i++)
        if (!cx->snap.bailleur || strcmp(m->recipients[i], cx->snap.bailleur) != 0)
            return m->recipients[i];
    return "";
}

/* ---- the checks of the actions ----------------------------------------------------- */

static const char *s_phrase(const s_ctx_t *cx, lifecycle_scope_t scope, int state)
{
    (void)cx;
    return s_state(scope, state)->phrase;
}

static bool s_is_bailleur(const s_ctx_t *cx, const char *actor)
{
    return cx->snap.known && strcmp(actor, cx->snap.bailleur) == 0;
}

static bool s_open_status(const snapshot_orientation_t *o)
{
    return strcmp(o->status, "oriente") == 0 || strcmp(o->status, "acquitte") == 0;
}

/* The first candidate other than cx's in one of `states`, or NULL. */
static const snapshot_candidate_t *s_other_in(const s_ctx_t *cx, uint32_t states)
{
    for (size_t i = 0; i < cx->snap.n_candidates; i++) {
        const snapshot_candidate_t *c = &cx->snap.candidates[i];
        if (c != cx->candidate && s_in(s_candidate_state(&cx->snap, c), states))
            return c;
    }
    return NULL;
}

static const char *s_c_phrase(const s_ctx_t *cx, const snapshot_candidate_t *c)
{
    return s_phrase(cx, LIFECYCLE_CANDIDATE, s_candidate_state(&cx->snap, c));
}

/* Before the table: a message of the bailleur's about a known vacancy
 * comes from the vacancy's bailleur. */
static fb_err_t s_check_sender(s_ctx_t *cx)
{
    /* A deadline passed is said by the broker, or by the vacancy's bailleur
     * taking it back; never by a réservataire nor another bailleur. */
    if (cx->event == LIFECYCLE_EV_DEADLINE_EXPIRED && !cx->msg->by_broker && cx->snap.known &&
        !s_is_bailleur(cx, cx->msg->sender))
        return s_refuse(cx,
                        "DeadlineExpired by %s on %s, a vacancy of %s: only its bailleur or the "
                        "broker says a deadline passed",
                        cx->msg->sender, cx->vacancy, cx->snap.bailleur);
    if (!s_events[cx->event].by_bailleur || !cx->snap.known || s_is_bailleur(cx, cx->msg->sender))
        return FB_OK;
    return s_refuse(cx, "%s by %s on %s, a vacancy of %s", s_events[cx->event].msg, cx->msg->sender,
                    cx->vacancy, cx->snap.bailleur);
}

/* "by R" / "by S for R" / "for R" of a refusal about resa's orientation. */
static void s_who(const s_ctx_t *cx, char *buf, size_t cap)
{
    if (cx->event == LIFECYCLE_EV_DEADLINE_EXPIRED)
        snprintf(buf, cap, "for %s", cx->resa);
    else if (strcmp(cx->msg->sender, cx->resa) != 0)
        snprintf(buf, cap, "by %s for %s", cx->msg->sender, cx->resa);
    else
        snprintf(buf, cap, "by %s", cx->resa);
}

static fb_err_t s_refuse_not_oriented(s_ctx_t *cx)
{
    char who[320];
    s_who(cx, who, sizeof who);
    const char *msg = s_events[cx->event].msg;
    if (!cx->snap.known)
        return s_refuse(cx,
                        "%s %s on %s, which the ledger has never seen (no LogementLibere nor "
                        "Orientation)",
                        msg, who, cx->vacancy);
    char to[512] = "";
    size_t len = 0;
    for (size_t i = 0; i < cx->snap.n_orientations && len < sizeof to; i++) {
        const char *r = cx->snap.orientations[i].reservataire;
        bool named = false; /* one name per réservataire, whatever its rounds */
        for (size_t j = 0; j < i && !named; j++)
            named = strcmp(r, cx->snap.orientations[j].reservataire) == 0;
        if (named)
            continue;
        len += (size_t)snprintf(to + len, sizeof to - len, "%s%s", len ? ", " : "", r);
    }
    if (!len)
        return s_refuse(cx, "%s %s on %s, which is not oriented to any réservataire", msg, who,
                        cx->vacancy);
    return s_refuse(cx, "%s %s on %s, which is oriented to %s only", msg, who, cx->vacancy, to);
}

/* Is orientation `o` (round `round`) the one stored, term for term? 1 yes,
 * 0 no, -1 store error. Its deadline is the one it gets (its convention's
 * délai when it sets none), as stored. */
static int s_same_orientation(const s_ctx_t *cx, const Fluxbus__V1__Orientation *o, int round)
{
    int64_t deadline = 0;
    unsigned expected = 0;
    if (conventions_orientation_deadline(cx->q, cx->msg, &deadline) != FB_OK ||
        conventions_orientation_candidates(cx->q, cx->msg, &expected) != FB_OK)
        return -1;
    sqlite3_stmt *st = NULL;
    if (!(st = stmts_get(cx->q, "SELECT 1 FROM ledger_orientations WHERE vacancy_id = ?1"
                                " AND reservataire = ?2 AND round = ?3"
                                " AND COALESCE(convention_id, '') = ?4 AND contingent = ?5"
                                " AND deadline_ms = ?6 AND candidates_expected = ?7")))
        return -1;
    sqlite3_bind_text(st, 1, cx->vacancy, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, cx->resa, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, round);
    sqlite3_bind_text(st, 4, o->convention_id ? o->convention_id : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (int64_t)o->contingent);
    sqlite3_bind_int64(st, 6, deadline);
    sqlite3_bind_int64(st, 7, (int64_t)expected);
    int rc = sqlite3_step(st);
    stmts_put(cx->q, st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static fb_err_t s_orient(s_ctx_t *cx)
{
    const Fluxbus__V1__Orientation *o = (const void *)cx->msg->payload;
    if (!*cx->resa)
        return s_refuse(cx, "Orientation of %s names no réservataire", cx->vacancy);
    int round = o->round ? (int)o->round : 1;
    const snapshot_orientation_t *last = cx->orientation;
    if (last && round == last->round && s_open_status(last)) {
        /* The same open round again: a repeat changes nothing, an amendment
         * is refused. */
        int same = s_same_orientation(cx, o, round);
        if (same < 0)
            return FB_ERR_STORE;
        if (same)
            return FB_OK;
        return s_refuse(cx,
                        "Orientation of %s to %s as round %d, which was sent already with other "
                        "terms (convention, contingent, deadline or candidates): a new round "
                        "is %d",
                        cx->vacancy, cx->resa, round, last->round + 1);
    }
    if (last && round <= last->round)
        return s_refuse(cx,
                        "Orientation of %s to %s as round %d, after its round %d (%s): the next "
                        "round is %d",
                        cx->vacancy, cx->resa, round, last->round,
                        s_phrase(cx, LIFECYCLE_ORIENTATION, s_orientation_state(last)),
                        last->round + 1);
    for (size_t i = 0; i < cx->snap.n_orientations; i++) {
        const snapshot_orientation_t *open = &cx->snap.orientations[i];
        if (s_open_status(open))
            return s_refuse(cx,
                            "Orientation of %s to %s while its orientation to %s (round %d) is "
                            "still %s",
                            cx->vacancy, cx->resa, open->reservataire, open->round,
                            s_phrase(cx, LIFECYCLE_ORIENTATION, s_orientation_state(open)));
    }
    const snapshot_candidate_t *c = s_other_in(cx, C_HOLDING);
    if (c)
        return s_refuse(cx, "Orientation of %s to %s while NUR %s (designated for %s) is %s",
                        cx->vacancy, cx->resa, c->nur, c->credited, s_c_phrase(cx, c));
    return FB_OK;
}

/* The designations of one round so far: those credited to `credited` in
 * `round` (round 0, the bailleur's own: those still holding the vacancy). */
static bool s_same_round(const s_ctx_t *cx, const snapshot_candidate_t *c, const char *credited,
                         int round)
{
    if (strcmp(c->credited, credited) != 0 || c->round != round || !c->designated)
        return false;
    return round != 0 || s_in(s_candidate_state(&cx->snap, c), C_HOLDING);
}

/* How many candidates the bailleur's own designations (round 0) owe:
 * rehousing hors flux presents one household; otherwise the CALEOL examines
 * as many as the last orientation asked, three by default. */
static int s_own_expected(const s_ctx_t *cx)
{
    if (cx->snap.mode_gestion == FLUXBUS__V1__MODE_GESTION__MODE_GESTION_HORS_FLUX)
        return 1;
    return cx->snap.n_orientations ? cx->snap.orientations[cx->snap.n_orientations - 1].expected
                                   : 3;
}

/* A Designation fits its round: a NUR not designated before, a rank within
 * the round's count, as many candidates as expected or a reason. */
static fb_err_t s_check_round(s_ctx_t *cx, int round, int expected, const char *expecting)
{
    const Fluxbus__V1__Designation *d = (const void *)cx->msg->payload;
    if (cx->candidate && cx->candidate->designated)
        return s_refuse(cx, "Designation of NUR %s on %s, designated already (for %s, %s)", cx->nur,
                        cx->vacancy, cx->candidate->credited, s_c_phrase(cx, cx->candidate));
    const snapshot_candidate_t *taken = s_other_in(cx, C_TAKEN);
    if (taken)
        return s_refuse(cx, "Designation on %s, taken by NUR %s (%s)", cx->vacancy, taken->nur,
                        s_c_phrase(cx, taken));
    unsigned count = d->candidate_count;
    if (count == 0)
        return s_refuse(cx, "Designation on %s without a candidate_count", cx->vacancy);
    if (d->rank == 0 || d->rank > count)
        return s_refuse(cx, "Designation rank %u on %s, in a round of %u candidates", d->rank,
                        cx->vacancy, count);
    if ((int)count < expected && d->fewer_candidates_reason == 0)
        return s_refuse(cx,
                        "designation round of %u candidates on %s where %s expects %d, without "
                        "a reason (fewer_candidates_reason)",
                        count, cx->vacancy, expecting, expected);
    if (d->fewer_candidates_reason ==
            FLUXBUS__V1__FEWER_CANDIDATES_REASON__FEWER_CANDIDATES_REASON_OTHER &&
        !*d->fewer_candidates_text)
        return s_refuse(cx,
                        "Designation on %s: fewer_candidates_reason OTHER without "
                        "fewer_candidates_text",
                        cx->vacancy);
    unsigned so_far = 0;
    for (size_t i = 0; i < cx->snap.n_candidates; i++) {
        const snapshot_candidate_t *c = &cx->snap.candidates[i];
        if (!s_same_round(cx, c, cx->resa, round))
            continue;
        so_far++;
        if ((unsigned)c->candidate_count != count)
            return s_refuse(cx,
                            "Designation on %s announces %u candidates where this round's "
                            "earlier designations announced %d",
                            cx->vacancy, count, c->candidate_count);
        if ((unsigned)c->rank == d->rank)
            return s_refuse(cx, "Designation rank %u on %s, which is NUR %s's in this round",
                            d->rank, cx->vacancy, c->nur);
    }
    if (so_far >= count)
        return s_refuse(cx, "Designation of a candidate %u on %s, in a round of %u candidates",
                        so_far + 1, cx->vacancy, count);
    return FB_OK;
}

/* What a Designation says of who designated is its signer's: the
 * designating actor, when named, is the sender, and only the vacancy's
 * bailleur designates under gestion déléguée. The décompte reads the
 * management mode from these (decompte.c), so a réservataire may not pick
 * its own counting rule by claiming one. */
static fb_err_t s_check_designator(s_ctx_t *cx)
{
    const Fluxbus__V1__Designation *d = (const void *)cx->msg->payload;
    const char *sender = cx->msg->sender;
    if (d->designating_actor_id && *d->designating_actor_id &&
        strcmp(d->designating_actor_id, sender) != 0)
        return s_refuse(cx,
                        "Designation by %s on %s names %s as its designating actor: the "
                        "designating actor is the sender",
                        sender, cx->vacancy, d->designating_actor_id);
    if (d->gestion_deleguee && !s_is_bailleur(cx, sender))
        return s_refuse(cx,
                        "Designation by %s on %s in gestion déléguée: only the vacancy's "
                        "bailleur designates under gestion déléguée",
                        sender, cx->vacancy);
    return FB_OK;
}

static fb_err_t s_designate(s_ctx_t *cx)
{
    const char *sender = cx->msg->sender;
    fb_err_t rc = s_check_designator(cx);
    if (rc != FB_OK)
        return rc;
    if (strcmp(sender, cx->resa) != 0 && !s_is_bailleur(cx, sender))
        return s_refuse(cx,
                        "Designation by %s for %s on %s: only the vacancy's bailleur designates "
                        "for a réservataire (gestion déléguée)",
                        sender, cx->resa, cx->vacancy);
    return s_check_round(cx, cx->orientation->round, cx->orientation->expected, "the orientation");
}

/* A vacancy not oriented to the credited actor: only its bailleur, for
 * itself, with no orientation open (hors flux, own share, taken back). */
static fb_err_t s_designate_without_orientation(s_ctx_t *cx)
{
    const char *sender = cx->msg->sender;
    if (!cx->snap.known || !s_is_bailleur(cx, sender) || strcmp(cx->resa, sender) != 0)
        return s_refuse_not_oriented(cx);
    fb_err_t rc = s_check_designator(cx);
    if (rc != FB_OK)
        return rc;
    for (size_t i = 0; i < cx->snap.n_orientations; i++) {
        const snapshot_orientation_t *o = &cx->snap.orientations[i];
        if (s_open_status(o))
            return s_refuse(cx,
                            "Designation by %s for itself on %s, which is oriented to %s "
                            "(round %d, %s)",
                            sender, cx->vacancy, o->reservataire, o->round,
                            s_phrase(cx, LIFECYCLE_ORIENTATION, s_orientation_state(o)));
    }
    const snapshot_candidate_t *other = NULL;
    for (size_t i = 0; i < cx->snap.n_candidates && !other; i++) {
        const snapshot_candidate_t *c = &cx->snap.candidates[i];
        if (strcmp(c->credited, sender) != 0 && s_in(s_candidate_state(&cx->snap, c), C_HOLDING))
            other = c;
    }
    if (other)
        return s_refuse(cx,
                        "Designation by %s for itself on %s while NUR %s (designated for %s) "
                        "is %s",
                        sender, cx->vacancy, other->nur, other->credited, s_c_phrase(cx, other));
    return s_check_round(cx, 0, s_own_expected(cx), "the CALEOL");
}

static fb_err_t s_give_back(s_ctx_t *cx)
{
    for (size_t i = 0; i < cx->snap.n_candidates; i++) {
        const snapshot_candidate_t *c = &cx->snap.candidates[i];
        if (s_same_round(cx, c, cx->resa, cx->orientation->round) &&
            s_in(s_candidate_state(&cx->snap, c), C_STANDING))
            return s_refuse(cx, "RemiseADisposition by %s on %s while NUR %s is %s", cx->resa,
                            cx->vacancy, c->nur, s_c_phrase(cx, c));
    }
    return FB_OK;
}

/* The deadline of resa's latest round has passed at the message's
 * acceptance time. */
static fb_err_t s_expire(s_ctx_t *cx)
{
    sqlite3_stmt *st = NULL;
    if (!(st = stmts_get(cx->q, "SELECT deadline_ms FROM ledger_orientations WHERE vacancy_id = ?1"
                                " AND reservataire = ?2 AND round = ?3")))
        return FB_ERR_STORE;
    sqlite3_bind_text(st, 1, cx->vacancy, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, cx->resa, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, cx->orientation->round);
    int rc = sqlite3_step(st);
    int64_t deadline = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    stmts_put(cx->q, st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return FB_ERR_STORE;
    if (deadline <= 0)
        return s_refuse(cx,
                        "DeadlineExpired for %s on %s, whose orientation (round %d) has no "
                        "deadline",
                        cx->resa, cx->vacancy, cx->orientation->round);
    if (deadline > cx->msg->at_ms) {
        char until[21], now[21];
        instants_format(deadline, until);
        instants_format(cx->msg->at_ms, now);
        return s_refuse(cx,
                        "DeadlineExpired for %s on %s before its deadline: the orientation "
                        "(round %d) runs until %s, it is %s",
                        cx->resa, cx->vacancy, cx->orientation->round, until, now);
    }
    return FB_OK;
}

static fb_err_t s_expire_incomplete_round(s_ctx_t *cx)
{
    fb_err_t rc = s_expire(cx);
    if (rc != FB_OK)
        return rc;
    int announced = 0;
    for (size_t i = 0; i < cx->snap.n_candidates; i++) {
        const snapshot_candidate_t *c = &cx->snap.candidates[i];
        if (s_same_round(cx, c, cx->resa, cx->orientation->round) && c->candidate_count > announced)
            announced = c->candidate_count;
    }
    if (cx->orientation->candidates >= announced)
        return s_refuse(cx,
                        "DeadlineExpired for %s on %s, whose round of %d candidates is "
                        "complete",
                        cx->resa, cx->vacancy, announced);
    return FB_OK;
}

/* The round of candidate `of` (its réservataire's orientation round, or
 * the bailleur's own designations) is complete when the CALEOL comes to it:
 * as many distinct ranks received as the round owes — the candidates its
 * orientation expects, or the fewer its designations announced, which
 * carried a reason (fewer_candidates_reason, s_check_round) —, unless the
 * orientation's deadline passed (the bailleur goes on with what came). */
static fb_err_t s_check_full_round(s_ctx_t *cx, const char *what, const snapshot_candidate_t *of)
{
    const snapshot_orientation_t *o =
        of->round ? snapshot_round(&cx->snap, of->credited, of->round) : NULL;
    if (o && (strcmp(o->status, "expire") == 0 ||
              (o->deadline_ms > 0 && o->deadline_ms <= cx->msg->at_ms)))
        return FB_OK;
    int expected = !of->round ? s_own_expected(cx) : o ? o->expected : 3;
    int announced = 0, received = 0;
    for (size_t i = 0; i < cx->snap.n_candidates; i++) {
        const snapshot_candidate_t *c = &cx->snap.candidates[i];
        if (!s_same_round(cx, c, of->credited, of->round))
            continue;
        if (c->candidate_count > announced)
            announced = c->candidate_count;
        bool again = false; /* a rank counted already */
        for (size_t j = 0; j < i && !again; j++)
            again = s_same_round(cx, &cx->snap.candidates[j], of->credited, of->round) &&
                    cx->snap.candidates[j].rank == c->rank;
        received += !again;
    }
    bool reason = announced < expected;
    if (received >= (reason ? announced : expected))
        return FB_OK;
    char round[320];
    if (of->round)
        snprintf(round, sizeof round, "round %d (%s)", of->round, of->credited);
    else
        snprintf(round, sizeof round, "(the bailleur's own designations)");
    if (reason)
        return s_refuse(cx,
                        "%s: %d candidates of the %d announced received for %s %s, whose reason "
                        "(fewer_candidates_reason) is for %d of the %d expected%s",
                        what, received, announced, cx->vacancy, round, announced, expected,
                        o ? ", and its deadline has not passed" : "");
    return s_refuse(cx, "%s: %d candidates of %d received for %s %s, no reason given%s", what,
                    received, expected, cx->vacancy, round,
                    o ? " (fewer_candidates_reason) and its deadline has not passed"
                      : " (fewer_candidates_reason)");
}

/* A CALEOL session examines the vacancy's undecided candidates: each of
 * their rounds is complete. */
static fb_err_t s_put_on_agenda(s_ctx_t *cx)
{
    char what[320];
    snprintf(what, sizeof what, "CaleolSeance lists %s", cx->vacancy);
    fb_err_t rc = FB_OK;
    for (size_t i = 0; rc == FB_OK && i < cx->snap.n_candidates; i++) {
        const snapshot_candidate_t *c = &cx->snap.candidates[i];
        if (s_in(s_candidate_state(&cx->snap, c), C_UNDECIDED))
            rc = s_check_full_round(cx, what, c);
    }
    return rc;
}

/* The réservataire a decision or a lease credits is the one the candidate
 * was designated for. */
static fb_err_t s_check_credit(s_ctx_t *cx, const char *credits)
{
    if (!*credits || strcmp(credits, cx->candidate->credited) == 0)
        return FB_OK;
    return s_refuse(cx, "%s for NUR %s on %s credits %s, but the candidate was designated for %s",
                    s_events[cx->event].name, cx->nur, cx->vacancy, credits,
                    cx->candidate->credited);
}

/* The decision that takes the vacancy from its designations to `decide`
 * (the first of its CALEOL) comes once the candidate's round is complete;
 * the next ones of the same examination find it decided. */
static fb_err_t s_check_first_decision(s_ctx_t *cx)
{
    int v = s_vacancy_state(&cx->snap);
    if (v != LIFECYCLE_V_DESIGNE && v != LIFECYCLE_V_VISITE && v != LIFECYCLE_V_EN_CALEOL)
        return FB_OK;
    char what[320];
    snprintf(what, sizeof what, "%s for NUR %s on %s", s_events[cx->event].name, cx->nur,
             cx->vacancy);
    return s_check_full_round(cx, what, cx->candidate);
}

static fb_err_t s_decide(s_ctx_t *cx)
{
    const Fluxbus__V1__CaleolDecision *d = (const void *)cx->msg->payload;
    fb_err_t rc = s_check_credit(cx, d->designataire_actor_id);
    if (rc == FB_OK)
        rc = s_check_first_decision(cx);
    if (rc != FB_OK ||
        (cx->event != LIFECYCLE_EV_ATTRIBUTION && cx->event != LIFECYCLE_EV_ATTRIBUTION_PAR_RANG &&
         cx->event != LIFECYCLE_EV_SOUS_CONDITION))
        return rc;
    bool by_rank = cx->event == LIFECYCLE_EV_ATTRIBUTION_PAR_RANG;
    if (by_rank && d->rank == 0)
        return s_refuse(cx, "%s for NUR %s on %s without a rank", s_events[cx->event].name, cx->nur,
                        cx->vacancy);
    /* Attributions by rank go together, one household per rank; any other
     * attribution stands alone. */
    for (size_t i = 0; i < cx->snap.n_candidates; i++) {
        const snapshot_candidate_t *c = &cx->snap.candidates[i];
        int state = s_candidate_state(&cx->snap, c);
        if (c == cx->candidate || !s_in(state, C_STANDING))
            continue;
        if (!by_rank || state != LIFECYCLE_C_ATTRIBUE_RANG)
            return s_refuse(cx, "%s for NUR %s on %s while NUR %s is %s", s_events[cx->event].name,
                            cx->nur, cx->vacancy, c->nur, s_c_phrase(cx, c));
        if ((unsigned)c->decision_rank == d->rank)
            return s_refuse(cx, "%s rank %u for NUR %s on %s, a rank NUR %s holds already",
                            s_events[cx->event].name, d->rank, cx->nur, cx->vacancy, c->nur);
    }
    return FB_OK;
}

/* The household answers (or signs) once no other holds the dwelling and,
 * attributed by rank, once every better rank has refused or ended. */
static fb_err_t s_check_turn(s_ctx_t *cx)
{
    const char *what = s_events[cx->event].name;
    const snapshot_candidate_t *taken = s_other_in(cx, C_TAKEN);
    if (taken)
        return s_refuse(cx, "%s for NUR %s on %s, taken by NUR %s (%s)", what, cx->nur, cx->vacancy,
                        taken->nur, s_c_phrase(cx, taken));
    if (cx->candidate->decision != DECISION(ATTRIBUTION_PAR_RANG))
        return FB_OK;
    for (size_t i = 0; i < cx->snap.n_candidates; i++) {
        const snapshot_candidate_t *c = &cx->snap.candidates[i];
        if (c != cx->candidate && s_candidate_state(&cx->snap, c) == LIFECYCLE_C_ATTRIBUE_RANG &&
            c->decision_rank < cx->candidate->decision_rank)
            return s_refuse(cx,
                            "%s for NUR %s (rank %d) on %s while rank %d (NUR %s) has neither "
                            "refused nor ended",
                            what, cx->nur, cx->candidate->decision_rank, cx->vacancy,
                            c->decision_rank, c->nur);
    }
    return FB_OK;
}

static fb_err_t s_sign_lease(s_ctx_t *cx)
{
    const Fluxbus__V1__BailSigne *b = (const void *)cx->msg->payload;
    fb_err_t rc = s_check_credit(cx, b->designataire_actor_id);
    return rc == FB_OK ? s_check_turn(cx) : rc;
}

static fb_err_t s_settle(s_ctx_t *cx)
{
    const Fluxbus__V1__CaleolDecision *d = (const void *)cx->msg->payload;
    return s_check_credit(cx, d->designataire_actor_id);
}

/* A LogementLibere again may correct the dwelling while the vacancy is
 * `libere`; past it (oriented, designated...), the facts the flux was
 * counted on (commune, RPLS, typologie, mode de gestion...) are fixed: only
 * the same facts again are accepted. A vacancy opened by an Orientation,
 * never freed on the bus, still takes its first LogementLibere. A new
 * letting of a let dwelling takes a new vacancy id (the V_LET row). */
static fb_err_t s_update_dwelling(s_ctx_t *cx)
{
    if (cx->state == LIFECYCLE_V_LIBERE)
        return FB_OK;
    const Fluxbus__V1__LogementLibere *l = (const void *)cx->msg->payload;
    sqlite3_stmt *st = NULL;
    if (!(st = stmts_get(
              cx->q,
              "SELECT 1 FROM ledger_vacancies WHERE vacancy_id = ?1 AND freed_ms IS NOT NULL"
              " AND NOT (bailleur_siren IS ?2 AND rpls_id IS ?3 AND residence_id IS ?4"
              " AND commune_insee IS ?5 AND epci_siren IS ?6 AND qpv IS ?7 AND qpv_map_year IS ?8"
              " AND typologie IS ?9 AND financement IS ?10 AND construction_period IS ?11"
              " AND mode_gestion IS ?12 AND hors_flux_motif IS ?13)")))
        return FB_ERR_STORE;
    const char *text[] = {cx->vacancy,     l->bailleur_siren, l->rpls_id,
                          l->residence_id, l->commune_insee,  l->epci_siren};
    for (int i = 0; i < 6; i++)
        if (text[i])
            sqlite3_bind_text(st, i + 1, text[i], -1, SQLITE_STATIC);
    const int64_t num[] = {
        l->qpv,          l->qpv_map_year,   l->typologie, l->financement, l->construction_period,
        l->mode_gestion, l->hors_flux_motif};
    for (int i = 0; i < 7; i++)
        sqlite3_bind_int64(st, i + 7, num[i]);
    int rc = sqlite3_step(st);
    stmts_put(cx->q, st);
    if (rc == SQLITE_DONE)
        return FB_OK;
    if (rc != SQLITE_ROW)
        return FB_ERR_STORE;
    return s_refuse(cx,
                    "LogementLibere for %s, which is %s: the dwelling's facts (commune, RPLS, "
                    "typologie, mode de gestion...) are fixed once it is past freed; a new "
                    "letting takes a new vacancy id",
                    cx->vacancy, s_phrase(cx, LIFECYCLE_VACANCY, cx->state));
}

static fb_err_t s_ok(s_ctx_t *cx)
{
    (void)cx;
    return FB_OK;
}

typedef fb_err_t (*s_check_fn)(s_ctx_t *cx);

static const s_check_fn s_checks[LIFECYCLE_ACTION_COUNT] = {
    [LIFECYCLE_REFUSE] = s_ok, /* never called: refused by the row */
    [LIFECYCLE_REFUSE_NOT_ORIENTED] = s_refuse_not_oriented,
    [LIFECYCLE_OPEN_VACANCY] = s_ok,
    [LIFECYCLE_UPDATE_DWELLING] = s_update_dwelling,
    [LIFECYCLE_ORIENT] = s_orient,
    [LIFECYCLE_PUT_ON_AGENDA] = s_put_on_agenda,
    [LIFECYCLE_KEEP_ON_AGENDA] = s_ok,
    [LIFECYCLE_TELL_OUTCOME] = s_ok,
    [LIFECYCLE_ACKNOWLEDGE] = s_ok,
    [LIFECYCLE_DECLINE] = s_ok,
    [LIFECYCLE_DESIGNATE] = s_designate,
    [LIFECYCLE_DESIGNATE_WITHOUT_ORIENTATION] = s_designate_without_orientation,
    [LIFECYCLE_GIVE_BACK] = s_give_back,
    [LIFECYCLE_EXPIRE] = s_expire,
    [LIFECYCLE_EXPIRE_INCOMPLETE_ROUND] = s_expire_incomplete_round,
    [LIFECYCLE_RECORD_VISIT] = s_ok,
    [LIFECYCLE_ATTRIBUTE] = s_decide,
    [LIFECYCLE_ATTRIBUTE_BY_RANK] = s_decide,
    [LIFECYCLE_ATTRIBUTE_UNDER_CONDITION] = s_decide,
    [LIFECYCLE_SETTLE_CONDITION] = s_settle,
    [LIFECYCLE_RECORD_REJECTION] = s_decide,
    [LIFECYCLE_RECORD_ANSWER] = s_check_turn,
    [LIFECYCLE_END_WITHOUT_LEASE] = s_ok,
    [LIFECYCLE_SIGN_LEASE] = s_sign_lease,
    [LIFECYCLE_RADIATE] = s_ok,
    [LIFECYCLE_NOTE_SNE_ANSWER] = s_ok,
};

/* ---- walking the table ----------------------------------------------------------- */

/* The row's detail with its {placeholders} filled in. */
static fb_err_t s_refuse_row(s_ctx_t *cx, const lifecycle_row_t *row)
{
    lifecycle_scope_t scope = s_events[cx->event].scope;
    const char *fill[][2] = {
        {"{vac}", cx->vacancy},
        {"{nur}", cx->nur ? cx->nur : ""},
        {"{resa}", cx->resa ? cx->resa : ""},
        {"{sender}", cx->msg->sender},
        {"{msg}", s_events[cx->event].msg},
        {"{event}", s_events[cx->event].name},
        {"{state}", s_phrase(cx, scope, cx->state)},
    };
    size_t len = 0;
    for (const char *p = row->why; *p && len + 1 < cx->dlen;) {
        const char *with = NULL;
        size_t skip = 1;
        for (size_t i = 0; i < sizeof fill / sizeof fill[0] && !with; i++)
            if (strncmp(p, fill[i][0], strlen(fill[i][0])) == 0) {
                with = fill[i][1];
                skip = strlen(fill[i][0]);
            }
        if (with)
            len += (size_t)snprintf(cx->detail + len, cx->dlen - len, "%s", with);
        else
            cx->detail[len++] = *p;
        p += skip;
    }
    cx->detail[len < cx->dlen ? len : cx->dlen - 1] = '\0';
    return FB_ERR_INVALID_TRANSITION;
}

static const lifecycle_row_t *s_row_for(lifecycle_event_t event, int state)
{
    for (size_t i = 0; i < sizeof s_rows / sizeof s_rows[0]; i++)
        if (s_rows[i].event == event && s_in(state, s_rows[i].from))
            return &s_rows[i];
    return NULL;
}

/* The subject's state, read from cx->snap. */
static void s_locate(s_ctx_t *cx)
{
    switch (s_events[cx->event].scope) {
    case LIFECYCLE_VACANCY:
        cx->state = s_vacancy_state(&cx->snap);
        cx->orientation = cx->resa ? snapshot_orientation(&cx->snap, cx->resa) : NULL;
        break;
    case LIFECYCLE_ORIENTATION:
        if (cx->event == LIFECYCLE_EV_DEADLINE_EXPIRED)
            cx->resa = s_expired_reservataire(cx);
        cx->orientation = snapshot_orientation(&cx->snap, cx->resa);
        cx->state = s_orientation_state(cx->orientation);
        if (cx->nur)
            cx->candidate = snapshot_candidate(&cx->snap, cx->nur);
        break;
    case LIFECYCLE_CANDIDATE:
        cx->candidate = snapshot_candidate(&cx->snap, cx->nur);
        cx->state = s_candidate_state(&cx->snap, cx->candidate);
        break;
    }
}

/* Judges cx's event about cx->vacancy. */
static fb_err_t s_judge(stmts_t *q, s_ctx_t *cx)
{
    cx->q = q;
    fb_err_t rc = snapshot_load(q, cx->vacancy, &cx->snap);
    if (rc == FB_OK)
        rc = s_check_sender(cx);
    if (rc == FB_OK) {
        s_locate(cx);
        const lifecycle_row_t *row = s_row_for(cx->event, cx->state);
        if (!row)
            rc = s_refuse(cx, "%s on %s: no transition from %s state %s", s_events[cx->event].name,
                          cx->vacancy, lifecycle_scope_name(s_events[cx->event].scope),
                          lifecycle_state_name(s_events[cx->event].scope, cx->state));
        else if (row->action == LIFECYCLE_REFUSE)
            rc = s_refuse_row(cx, row);
        else
            rc = s_checks[row->action](cx);
    }
    snapshot_clear(&cx->snap);
    return rc;
}

fb_err_t lifecycle_check(stmts_t *q, const ledger_msg_t *msg, char *detail, size_t dlen)
{
    char scratch[8];
    s_ctx_t cx = {
        .msg = msg, .detail = dlen ? detail : scratch, .dlen = dlen ? dlen : sizeof scratch};
    cx.detail[0] = '\0';
    if (!msg->payload)
        return FB_OK;
    if (msg->type == T(CALEOL_SEANCE)) {
        /* One judgement per vacancy on the agenda; the first refusal wins. */
        const Fluxbus__V1__CaleolSeance *s = (const void *)msg->payload;
        bool cancelled =
            s->status == FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_CANCELLED;
        fb_err_t rc = FB_OK;
        for (size_t i = 0; rc == FB_OK && i < s->n_vacancy_ids; i++) {
            s_ctx_t one = cx;
            one.event =
                cancelled ? LIFECYCLE_EV_CALEOL_SEANCE_CANCELLED : LIFECYCLE_EV_CALEOL_SEANCE;
            one.vacancy = s->vacancy_ids[i];
            rc = s_judge(q, &one);
        }
        return rc;
    }
    int r = s_read(&cx);
    if (r <= 0)
        return r < 0 ? FB_ERR_INVALID_TRANSITION : FB_OK;
    return s_judge(q, &cx);
}

fb_err_t lifecycle_state(sqlite3 *db, lifecycle_scope_t scope, const char *vacancy, const char *key,
                         int *state)
{
    snapshot_t snap;
    stmts_t *q = stmts_new(db);
    fb_err_t rc = q ? snapshot_load(q, vacancy, &snap) : FB_ERR_NOMEM;
    stmts_destroy(&q);
    if (rc == FB_OK)
        *state = scope == LIFECYCLE_VACANCY ? s_vacancy_state(&snap)
                 : scope == LIFECYCLE_ORIENTATION
                     ? s_orientation_state(snapshot_orientation(&snap, key))
                     : s_candidate_state(&snap, snapshot_candidate(&snap, key));
    snapshot_clear(&snap);
    return rc;
}

/* ---- the table as Markdown ----------------------------------------------------------- */

static void s_markdown_states(FILE *out, lifecycle_scope_t scope, uint32_t set)
{
    bool first = true;
    for (int s = 0; s < lifecycle_state_count(scope); s++)
        if (s_in(s, set)) {
            fprintf(out, "%s`%s`", first ? "" : ", ", lifecycle_state_name(scope, s));
            first = false;
        }
}

void lifecycle_markdown(FILE *out)
{
    fprintf(out, "| event | subject | in state | action | becomes |\n");
    fprintf(out, "|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof s_rows / sizeof s_rows[0]; i++) {
        const lifecycle_row_t *r = &s_rows[i];
        lifecycle_scope_t scope = s_events[r->event].scope;
        fprintf(out, "| %s | %s | ", s_events[r->event].name, lifecycle_scope_name(scope));
        s_markdown_states(out, scope, r->from);
        if (r->action == LIFECYCLE_REFUSE)
            fprintf(out, " | refuse: “%s” | — |\n", r->why);
        else if (r->action == LIFECYCLE_REFUSE_NOT_ORIENTED)
            fprintf(out, " | `%s` | — |\n", s_actions[r->action]);
        else if (r->next == LIFECYCLE_SAME)
            fprintf(out, " | `%s` | (same) |\n", s_actions[r->action]);
        else
            fprintf(out, " | `%s` | `%s` |\n", s_actions[r->action],
                    lifecycle_state_name(scope, r->next));
    }
}
