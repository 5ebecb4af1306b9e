/* validate.h - the réservataire platform's request bodies, checked and
 * turned into domain messages (Designation + HouseholdDetails,
 * RemiseADisposition, OrientationDecline, OrientationAck).
 *
 * Pure functions of their input: no bus, no database, no clock except for
 * birth dates (not in the future). Every refusal names the JSON field at
 * fault ("candidates[1].nur", "candidates[0].household.members[0].
 * birth_date", "reason") and says why; nothing is half-built on error.
 *
 * Input conveniences on top of the bus's JSON form (fluxbus/json.h): an
 * enum may be given by the part after its prefix, in any case ("Q1" for
 * QUARTILE_Q1, "no_candidate" for REMISE_REASON_NO_CANDIDATE), and a Date
 * as a "YYYY-MM-DD" string. */
#ifndef FLUXBUS_RESA_VALIDATE_H
#define FLUXBUS_RESA_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fluxbus/err.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"

/* Most candidates one designation request may carry, whatever the offer
 * expects (an orientation expecting 0 is read as the usual 3). */
#define VALIDATE_MAX_CANDIDATES 10
#define VALIDATE_DEFAULT_CANDIDATES 3

/* Why a body was refused: the HTTP status it deserves (400: not a JSON
 * object; 422: a field does not fit), the field's path ("" for the body as
 * a whole) and the reason. */
typedef struct {
    int status;
    char field[192];
    char reason[256];
} validate_error_t;

/* Parses a request body: a JSON object (an empty body is `{}` when
 * empty_ok). Returns a new reference, or NULL with err filled (400). */
json_t *validate_parse_body(const char *body, size_t len, bool empty_ok, validate_error_t *err);

/* One checked candidate. The Designation holds the candidate's own fields
 * (rank, nur, dalo, dalo_set_by, pdalhpd, pdalhpd_set_by, quartile,
 * household_size); vacancy, convention, count and actors are left for the
 * caller. household is NULL when the request carried none; its nur is the
 * candidate's. Both are freed by validate_candidates_clear. */
typedef struct {
    Fluxbus__V1__Designation *designation;
    Fluxbus__V1__HouseholdDetails *household;
} validate_candidate_t;

typedef struct {
    validate_candidate_t items[VALIDATE_MAX_CANDIDATES]; /* sorted by rank: items[i].rank == i+1 */
    size_t n;
} validate_candidates_t;

/* Checks {"candidates": [...], "fewer_candidates_reason": ...,
 * "fewer_candidates_text": ...} against an offer expecting `expected`
 * candidates (0: VALIDATE_DEFAULT_CANDIDATES): 1..expected candidates, a
 * reason when fewer (copied into each Designation), ranks 1..n each given
 * once, well-formed (nur.h) and distinct NURs, household_size >= 1 and not
 * below the household's member count, known enum values, real birth dates
 * not in the future, no unknown member. FB_OK with *out filled (clear it),
 * or FB_ERR_PARSE with err filled and *out empty. */
fb_err_t validate_designations(const json_t *body, uint32_t expected, validate_candidates_t *out,
                               validate_error_t *err);

void validate_candidates_clear(validate_candidates_t *c);

/* {"reason": RemiseReason (required), "comment": string,
 * "reprise_pour_une_seule_mise_en_location": bool} into a RemiseADisposition
 * (vacancy_id and convention_id left empty). FB_OK with *out (free with
 * fb_json_free_message), or FB_ERR_PARSE with err. */
fb_err_t validate_remise(const json_t *body, Fluxbus__V1__RemiseADisposition **out,
                         validate_error_t *err);

/* {"reason": OrientationDeclineReason (required), "reason_text": string}
 * into an OrientationDecline, as validate_remise. */
fb_err_t validate_decline(const json_t *body, Fluxbus__V1__OrientationDecline **out,
                          validate_error_t *err);

/* {"comment": string} (or {}) into an OrientationAck, as validate_remise. */
fb_err_t validate_ack(const json_t *body, Fluxbus__V1__OrientationAck **out, validate_error_t *err);

#endif
