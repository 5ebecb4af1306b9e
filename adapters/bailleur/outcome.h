/* outcome.h - the LogementIssue a commune gets when a freed dwelling of its
 * territory is attributed, not followed by a lease, or let: derived from
 * the bailleur's own CaleolDecision, AttributionNonSuivieDeBail and
 * BailSigne once the broker accepted them, without any name or NUR.
 *
 *   CaleolDecision ATTRIBUTION, ATTRIBUTION_PAR_RANG or
 *   SOUS_CONDITION_SUSPENSIVE (unless its condition lapsed)
 *       -> ATTRIBUE, the contingent of the désignataire's orientation
 *          (CONTINGENT_TYPE_BAILLEUR without one), date of decided_ms
 *   AttributionNonSuivieDeBail
 *       -> NON_SUIVI, the contingent of the designating réservataire's
 *          orientation (BAILLEUR without one), its date
 *   BailSigne
 *       -> BAIL_SIGNE, its contingent, signed_on
 *
 * Only when the commune of the vacancy is known (from its LogementLibere,
 * or the BailSigne's commune_insee); published on topic
 * logements/<commune_insee>. */
#ifndef FLUXBUS_ADAPTER_BAILLEUR_OUTCOME_H
#define FLUXBUS_ADAPTER_BAILLEUR_OUTCOME_H

#include <stdbool.h>

#include <protobuf-c/protobuf-c.h>

#include "fluxbus/err.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "state.h"

/* A LogementIssue to publish; its strings point into the struct and into
 * the payload it was derived from (which must outlive it). */
typedef struct {
    Fluxbus__V1__LogementIssue issue;
    Fluxbus__V1__Date date;
    state_vacancy_t vacancy;
    char topic[32];
} outcome_t;

/* Derives the LogementIssue of an accepted message of `type`. FB_OK with
 * *has telling whether there is one (then *out is filled); FB_ERR_STORE
 * when the state could not be read. Calendar dates of instants are taken
 * in time zone tz ("Europe/Paris"; FB_ERR_INVALID if it is not known). */
fb_err_t outcome_issue(state_t *state, const char *tz, int type, const ProtobufCMessage *payload,
                       outcome_t *out, bool *has);

#endif
