/* sne_state.h - what the SNE adapter remembers, in its state SQLite file
 * (adapter_db): the dwellings of the vacancies (from LogementLibere), the
 * attributions (from CaleolDecision), and every record submitted to the SNE
 * with its answer and the acknowledgement sent back to the bailleur.
 *
 * A record's life: SUBMITTING (row written, file not yet) -> SENT (request
 * file written) -> ANSWERED (final answer stored) -> ACKED (radiation: the
 * SneRadiationAck is with adapter_send) or ACK_REFUSED (the broker refused
 * it). Every step is one committed statement, so a restart resumes from the
 * last one; the steps are idempotent, so repeating one is harmless. */
#ifndef FLUXBUS_ADAPTER_SNE_STATE_H
#define FLUXBUS_ADAPTER_SNE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "fluxbus/err.h"
#include "sne_format.h"
#include "sne_records.h"

typedef struct sne_state sne_state_t;

typedef enum {
    SNE_REC_SUBMITTING = 0,
    SNE_REC_SENT = 1,
    SNE_REC_ANSWERED = 2,
    SNE_REC_ACKED = 3,
    SNE_REC_ACK_REFUSED = 4,
} sne_rec_state_t;

/* A vacancy's dwelling as its LogementLibere gave it (strings owned). */
typedef struct {
    char *rpls_id, *commune_insee, *bailleur_siren;
} sne_vacancy_row_t;

/* An attribution as its CaleolDecision gave it (strings owned). */
typedef struct {
    char *designataire_actor_id;
    bool q1, relogement_anru;
} sne_attribution_row_t;

/* A submitted record (strings owned). */
typedef struct {
    char *record_id;
    sne_kind_t kind;
    char *nur, *vacancy_id, *bailleur_actor_id, *source_message_id;
    sne_rec_state_t state;
    sne_status_t answer_status; /* SNE_STATUS_NONE before any answer */
    char *answer_message;
    sne_date_t radiated_on;
    char *ack_message_id; /* hex, "" before the ack */
} sne_record_row_t;

/* Creates the tables in db if missing (the adapter's state file; the
 * connection stays the caller's) and prepares the statements. NULL with a
 * reason in err. */
sne_state_t *sne_state_open(sqlite3 *db, char *err, size_t errlen);

void sne_state_close(sne_state_t **self_p);

/* Vacancies and attributions are keyed by the bailleur actor that sent
 * them as well: a vacancy id is the bailleur's own choice. */

/* Remembers (or replaces) a vacancy's dwelling. FB_ERR_STORE on failure. */
fb_err_t sne_state_put_vacancy(sne_state_t *self, const char *bailleur_actor_id,
                               const char *vacancy_id, const char *rpls_id,
                               const char *commune_insee, const char *bailleur_siren);

/* FB_OK with *out (sne_state_vacancy_clear it), FB_ERR_NOT_FOUND, or
 * FB_ERR_STORE. */
fb_err_t sne_state_vacancy(sne_state_t *self, const char *bailleur_actor_id, const char *vacancy_id,
                           sne_vacancy_row_t *out);
void sne_state_vacancy_clear(sne_vacancy_row_t *row);

/* Remembers (or replaces) the attribution of demande `nur` on a vacancy. */
fb_err_t sne_state_put_attribution(sne_state_t *self, const char *bailleur_actor_id,
                                   const char *vacancy_id, const char *nur,
                                   const char *designataire_actor_id, bool q1,
                                   bool relogement_anru);

/* FB_OK with *out (sne_state_attribution_clear it), FB_ERR_NOT_FOUND, or
 * FB_ERR_STORE. */
fb_err_t sne_state_attribution(sne_state_t *self, const char *bailleur_actor_id,
                               const char *vacancy_id, const char *nur, sne_attribution_row_t *out);
void sne_state_attribution_clear(sne_attribution_row_t *row);

/* The record `record_id`: FB_OK with *out (sne_state_record_clear it),
 * FB_ERR_NOT_FOUND or FB_ERR_STORE. */
fb_err_t sne_state_record(sne_state_t *self, const char *record_id, sne_record_row_t *out);
void sne_state_record_clear(sne_record_row_t *row);

/* Adds the record in state SUBMITTING with its request JSON text; an
 * existing row of that id is left as it is. */
fb_err_t sne_state_begin_record(sne_state_t *self, const sne_record_t *rec, const char *request);

/* SUBMITTING -> SENT (other states are left as they are). */
fb_err_t sne_state_mark_sent(sne_state_t *self, const char *record_id);

/* Stores the answer and moves the record to `state` (SENT for a
 * RETRY_LATER, ANSWERED for a final answer). */
fb_err_t sne_state_put_answer(sne_state_t *self, const sne_answer_t *answer, sne_rec_state_t state);

/* Records the acknowledgement sent back to the bailleur: ACKED with the
 * message id, or ACK_REFUSED with the broker's reason. */
fb_err_t sne_state_mark_acked(sne_state_t *self, const char *record_id, bool refused,
                              const char *ack_message_id, const char *detail);

/* How many records are in `state`. */
fb_err_t sne_state_count(sne_state_t *self, sne_rec_state_t state, int64_t *count);

/* "SUBMITTING", "SENT", ... */
const char *sne_rec_state_name(sne_rec_state_t state);

#endif
