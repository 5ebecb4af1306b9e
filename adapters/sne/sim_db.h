/* sim_db.h - the SQLite file of fluxbus-sne-sim: the demandes it knows (by
 * NUR, active or radiée), the attributions recorded, and every record it
 * answered with the exact answer, so a record submitted again gets the same
 * answer back (replay) instead of a second judgement.
 *
 * Only the simulator uses it; the real SNE keeps its own books. */
#ifndef FLUXBUS_ADAPTER_SIM_DB_H
#define FLUXBUS_ADAPTER_SIM_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fluxbus/err.h"
#include "sne_format.h"
#include "sne_records.h"

typedef struct sim_db sim_db_t;

/* A demande as the simulator knows it. */
typedef struct {
    bool radiee;
    sne_date_t radiated_on;
    char radiated_by[SNE_RECORD_ID_MAX]; /* the record that radiated it */
} sim_demande_t;

/* Opens (creating) the file at path. NULL with a reason in err. */
sim_db_t *sim_db_open(const char *path, char *err, size_t errlen);

void sim_db_close(sim_db_t **self_p);

/* One judgement is one transaction: begin, read and write, commit (or
 * rollback on error). FB_ERR_STORE on failure. */
fb_err_t sim_db_begin(sim_db_t *self);
fb_err_t sim_db_commit(sim_db_t *self);
void sim_db_rollback(sim_db_t *self);

/* The answer JSON text stored for record_id: FB_OK with *answer (free()),
 * FB_ERR_NOT_FOUND, FB_ERR_STORE. */
fb_err_t sim_db_answer_of(sim_db_t *self, const char *record_id, char **answer);

/* Stores the answer of a record (its text as written to answers/). */
fb_err_t sim_db_put_answer(sim_db_t *self, const char *record_id, const char *nur,
                           sne_status_t status, const char *answer);

/* The demande `nur`: FB_OK with *out, FB_ERR_NOT_FOUND, FB_ERR_STORE. */
fb_err_t sim_db_demande(sim_db_t *self, const char *nur, sim_demande_t *out);

/* Adds an active demande unless `nur` is known; origin is "preloaded" or
 * "first_seen". */
fb_err_t sim_db_add_demande(sim_db_t *self, const char *nur, const char *origin);

/* Closes the demande: radiée on `date` by record `record_id`. */
fb_err_t sim_db_radiate(sim_db_t *self, const char *nur, sne_date_t date, const char *record_id);

/* Records an attribution (or its end without a lease, suivie = false). */
fb_err_t sim_db_put_attribution(sim_db_t *self, const sne_record_t *rec);

/* True in *yes when an attribution of `nur` on `vacancy_id` was recorded. */
fb_err_t sim_db_has_attribution(sim_db_t *self, const char *nur, const char *vacancy_id, bool *yes);

/* Number of demandes known, and of those radiées. */
fb_err_t sim_db_counts(sim_db_t *self, int64_t *demandes, int64_t *radiees);

#endif
