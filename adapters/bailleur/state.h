/* state.h - what the bailleur adapter remembers about the vacancies it
 * handles, in its own tables of the adapter's state file (adapter_db):
 *
 * - vacancies: (vacancy_id, commune_insee, rpls_id), from each LogementLibere
 *   the broker accepted;
 * - orientations: (vacancy_id, reservataire, convention_id, deadline_ms,
 *   candidates_expected, contingent, closed, expired_sent), from each
 *   Orientation the broker accepted; closed once a Designation, a
 *   RemiseADisposition or an OrientationDecline came for it;
 * - designations: (vacancy_id, nur, reservataire, rank, source): who put a
 *   demande forward for a vacancy - received Designations ("received"),
 *   Designations the bailleur sent under gestion déléguée ("sent", with the
 *   credited réservataire) and attributions of accepted CaleolDecisions
 *   ("decision", with the désignataire);
 * - seances: (seance_id, revision, digest), the last revision of each
 *   CaleolSeance the broker accepted and a digest of its content.
 *
 * This module is the only one holding SQL for these tables. It decides
 * nothing: the callers record a message only once the broker accepted it
 * (or once a delivery is written to the outbox). */
#ifndef FLUXBUS_ADAPTER_BAILLEUR_STATE_H
#define FLUXBUS_ADAPTER_BAILLEUR_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "fluxbus/err.h"

typedef struct state state_t;

/* Values of orientations.expired_sent. */
enum {
    STATE_EXPIRY_PENDING = 0, /* not (yet) told */
    STATE_EXPIRY_SENT = 1,    /* DeadlineExpired accepted by the broker */
    STATE_EXPIRY_REFUSED = 2  /* the broker refused it: not offered again */
};

/* Creates the tables (if absent) in db and prepares the statements. db stays
 * owned by the caller and must outlive the state. NULL with a reason in err. */
state_t *state_new(sqlite3 *db, char *err, size_t errlen);

/* Finalizes the statements; safe on NULL and twice. */
void state_destroy(state_t **self_p);

/* A trial: everything recorded between state_trial_begin and
 * state_trial_end is undone by state_trial_end (a savepoint rolled back), so
 * a whole file can be checked against the state its earlier rows would
 * leave without keeping anything. */
fb_err_t state_trial_begin(state_t *self);
fb_err_t state_trial_end(state_t *self);

/* One freed dwelling. */
typedef struct {
    char commune_insee[16];
    char rpls_id[128];
} state_vacancy_t;

/* Records (or updates) vacancy `vacancy_id`. */
fb_err_t state_vacancy_put(state_t *self, const char *vacancy_id, const char *commune_insee,
                           const char *rpls_id);

/* FB_OK with *out filled, FB_ERR_NOT_FOUND when the vacancy is unknown. */
fb_err_t state_vacancy_get(state_t *self, const char *vacancy_id, state_vacancy_t *out);

/* One orientation of a vacancy to a réservataire. The strings are owned
 * by the struct when it comes from state_orientations_due. */
typedef struct {
    char *vacancy_id;
    char *reservataire;
    char *convention_id;
    int64_t deadline_ms;
    uint32_t candidates_expected;
    int contingent; /* Fluxbus__V1__ContingentType */
} state_orientation_t;

/* Records an orientation (key: vacancy, réservataire, convention). The same
 * orientation again changes nothing; one with another deadline (asked
 * again) replaces it and opens it again. */
fb_err_t state_orientation_put(state_t *self, const state_orientation_t *o);

/* Closes the orientations of vacancy_id to reservataire (only the one of
 * convention_id unless it is NULL or ""): no deadline expiry for them. */
fb_err_t state_orientation_close(state_t *self, const char *vacancy_id, const char *reservataire,
                                 const char *convention_id);

/* Sets expired_sent (STATE_EXPIRY_*) of one orientation. */
fb_err_t state_orientation_mark(state_t *self, const state_orientation_t *o, int expired_sent);

/* The contingent of the orientation of vacancy_id to reservataire (the
 * latest deadline's when there are several); FB_ERR_NOT_FOUND if none. */
fb_err_t state_orientation_contingent(state_t *self, const char *vacancy_id,
                                      const char *reservataire, int *contingent);

/* The open orientations whose deadline is at or before now_ms and whose
 * expiry was not told yet, oldest deadline first. Free with
 * state_orientations_free. */
fb_err_t state_orientations_due(state_t *self, int64_t now_ms, state_orientation_t **out,
                                size_t *n);
void state_orientations_free(state_orientation_t *list, size_t n);

/* Called once per actor id found (each distinct, in a stable order). */
typedef fb_err_t (*state_actor_fn)(void *ctx, const char *actor);

/* The réservataires vacancy_id was oriented to (under convention_id only,
 * unless it is NULL or ""). */
fb_err_t state_oriented(state_t *self, const char *vacancy_id, const char *convention_id,
                        state_actor_fn fn, void *ctx);

/* Where a designation comes from (designations.source). */
#define STATE_SOURCE_RECEIVED "received"
#define STATE_SOURCE_SENT "sent"
#define STATE_SOURCE_DECISION "decision"

/* Records that reservataire put demande nur forward for vacancy_id. A
 * "decision" row never replaces a "received" or "sent" one. */
fb_err_t state_designation_put(state_t *self, const char *vacancy_id, const char *nur,
                               const char *reservataire, uint32_t rank, const char *source);

/* The réservataires that designated nur for vacancy_id: those of received
 * or sent designations, or else those of attribution decisions. */
fb_err_t state_designators(state_t *self, const char *vacancy_id, const char *nur,
                           state_actor_fn fn, void *ctx);

/* How many designations were received for vacancy_id from reservataire
 * (0 on error). */
uint32_t state_candidates_received(state_t *self, const char *vacancy_id, const char *reservataire);

/* The last CaleolSeance sent of a session: its revision and the hex SHA-256
 * of its packed payload. */
typedef struct {
    uint32_t revision;
    char digest[65];
} state_seance_t;

/* FB_OK with *out filled, FB_ERR_NOT_FOUND when no revision of seance_id
 * was recorded. */
fb_err_t state_seance_get(state_t *self, const char *seance_id, state_seance_t *out);

/* Records revision and digest of seance_id, unless a higher revision is
 * recorded already. */
fb_err_t state_seance_put(state_t *self, const char *seance_id, uint32_t revision,
                          const char *digest);

#endif
