/* sim_judge.h - how fluxbus-sne-sim answers a record, as the SNE would:
 *
 * 1. the NUR must be well-formed (nur.h), else INVALID_NUR;
 * 2. the record must be complete and consistent, else REJECTED naming the
 *    field (date present, a calendar date, not after tomorrow; bailleur
 *    SIREN of 9 digits; vacancy id; commune INSEE code; réservataire
 *    désignataire for attribution and radiation; suivie_de_bail true for a
 *    radiation, false for a non_suivie, absent for an attribution; a
 *    decision that attributes; a lease not taking effect before it was
 *    signed... see docs/SNE-FILES.md);
 * 3. the demande must exist, else UNKNOWN_NUR - unless the policy accepts
 *    any well-formed NUR, which then opens the demande on first sight;
 * 4. a demande already radiée answers ALREADY_RADIEE (with the date);
 * 5. otherwise: radiation -> RADIEE (the demande is closed on the lease
 *    date), attribution / non_suivie -> RECORDED. */
#ifndef FLUXBUS_ADAPTER_SIM_JUDGE_H
#define FLUXBUS_ADAPTER_SIM_JUDGE_H

#include <stdbool.h>

#include "fluxbus/err.h"
#include "sim_db.h"
#include "sne_format.h"
#include "sne_records.h"

typedef struct {
    bool accept_any; /* an unknown well-formed NUR opens a demande */
} sim_policy_t;

/* Steps 1 and 2, pure: true when the record may be judged on the
 * demande; false with out's status (INVALID_NUR or REJECTED), field and
 * message set. `today` is the SNE's civil date (a record may be dated up to
 * the day after: overseas time zones). out's
 * record_id, kind and nur are filled in either case. */
bool sim_judge_check(const sne_record_t *rec, sne_date_t today, sne_answer_t *out);

/* All steps, reading and writing db (inside the caller's transaction).
 * FB_OK with *out; FB_ERR_STORE when the database failed. */
fb_err_t sim_judge(sim_db_t *db, const sim_policy_t *policy, const sne_record_t *rec,
                   sne_date_t today, sne_answer_t *out);

#endif
