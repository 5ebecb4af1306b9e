/* routing.h - to whom a bailleur's message goes when its file does not say
 * ("to" and "topics" absent): derived from the payload and from what the
 * adapter remembers (state.h).
 *
 *   LogementLibere       topic logements/<commune_insee>, logements_to, sne_actor
 *   Orientation          reservataire_actor_id
 *   CaleolSeance         topics caleol/<each communes_insee>, and the
 *                        réservataires oriented on any of its vacancy_ids
 *   CaleolDecision       designataire_actor_id, sne_actor
 *   BailSigne            designataire_actor_id, sne_actor
 *   PropositionReponse, Visite
 *                        only the réservataire that designated (vacancy_id,
 *                        nur); none for the bailleur's own candidate
 *   AttributionNonSuivieDeBail
 *                        the same, and sne_actor
 *   DeadlineExpired      the réservataires oriented on vacancy_id under
 *                        convention_id
 *   Designation          credited_reservataire_actor_id (gestion déléguée)
 *   LogementIssue        topic logements/<commune_insee>
 *   others               none: the file must give "to"
 *
 * The bailleur itself is never one of its recipients. A message about one
 * household (its NUR) never goes to a réservataire merely oriented on the
 * vacancy: without a designator, the file must give "to" (AttributionNon-
 * SuivieDeBail still goes to sne_actor). */
#ifndef FLUXBUS_ADAPTER_BAILLEUR_ROUTING_H
#define FLUXBUS_ADAPTER_BAILLEUR_ROUTING_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "fluxbus/err.h"
#include "state.h"

/* Recipients and topics of one message, each list without repeats, in the
 * order added. Zero it before first use; free with routing_clear. */
typedef struct {
    char **to;
    size_t n_to;
    char **topics;
    size_t n_topics;
} routing_t;

/* What routing needs from the config. */
typedef struct {
    const char *self_actor; /* this bailleur */
    const char *sne_actor;  /* NULL or "": none */
    const char *const *logements_to;
    size_t n_logements_to;
} routing_conf_t;

/* Why a message has no route: the field to fix and the reason. */
typedef struct {
    char field[64];
    char reason[256];
} routing_error_t;

void routing_clear(routing_t *r);

/* Adds one recipient / topic (a repeat and "" are ignored). FB_ERR_NOMEM
 * on failure. */
fb_err_t routing_add_to(routing_t *r, const char *actor);
fb_err_t routing_add_topic(routing_t *r, const char *topic);

/* Adds the '|'-separated items of `cell` (a CSV cell) as recipients
 * (topics = false) or topics; empty items are skipped. */
fb_err_t routing_add_cell(routing_t *r, const char *cell, bool topics);

/* True for an INSEE commune code: 5 characters, digits, or 2A/2B then
 * digits for Corsica. */
bool routing_is_insee(const char *s);

/* Fills the empty r with the default route of a message of `type` with
 * `payload` (see the table above). FB_OK with at least one recipient or
 * topic; FB_ERR_PARSE with *error when none can be derived or a field needed
 * is malformed; FB_ERR_STORE / FB_ERR_NOMEM (error filled too). */
fb_err_t routing_default(state_t *state, const routing_conf_t *conf, int type,
                         const ProtobufCMessage *payload, routing_t *r, routing_error_t *error);

#endif
