/* routing.c - default recipients of a bailleur's messages (see routing.h).
 *
 * Owns the table of default routes, one rule function per message type,
 * and the INSEE check of the topics it makes. Reads the state, never writes
 * it. Does not own the explicit routes a file gives (the inbox keeps them
 * as they are: the broker judges them). */
#include "routing.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x

void routing_clear(routing_t *r)
{
    for (size_t i = 0; i < r->n_to; i++)
        free(r->to[i]);
    for (size_t i = 0; i < r->n_topics; i++)
        free(r->topics[i]);
    free(r->to);
    free(r->topics);
    memset(r, 0, sizeof *r);
}

static fb_err_t s_add(char ***list, size_t *n, const char *item)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*list)[i], item) == 0)
            return FB_OK;
    char **p = realloc(*list, (*n + 1) * sizeof **list);
    if (!p)
        return FB_ERR_NOMEM;
    *list = p;
    if (!(p[*n] = strdup(item)))
        return FB_ERR_NOMEM;
    (*n)++;
    return FB_OK;
}

fb_err_t routing_add_to(routing_t *r, const char *actor)
{
    return actor && *actor ? s_add(&r->to, &r->n_to, actor) : FB_OK;
}

fb_err_t routing_add_topic(routing_t *r, const char *topic)
{
    return topic && *topic ? s_add(&r->topics, &r->n_topics, topic) : FB_OK;
}

fb_err_t routing_add_cell(routing_t *r, const char *cell, bool topics)
{
    fb_err_t rc = FB_OK;
    for (const char *p = cell; rc == FB_OK && p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        /* Spaces around an item are the spreadsheet's, not the id's. */
        while (len && isspace((unsigned char)*p))
            p++, len--;
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        char *item = strndup(p, len);
        if (!item)
            return FB_ERR_NOMEM;
        rc = topics ? routing_add_topic(r, item) : routing_add_to(r, item);
        free(item);
        p = bar ? bar + 1 : NULL;
    }
    return rc;
}

bool routing_is_insee(const char *s)
{
    if (!s || strlen(s) != 5)
        return false;
    for (int i = 0; i < 5; i++) {
        bool corsica = i == 1 && s[0] == '2' && (s[1] == 'A' || s[1] == 'B');
        if (!isdigit((unsigned char)s[i]) && !corsica)
            return false;
    }
    return true;
}

/* ---- the rules ---- */

/* What every rule gets. */
typedef struct {
    state_t *state;
    const routing_conf_t *conf;
    routing_t *r;
    routing_error_t *error;
} s_ctx_t;

__attribute__((format(printf, 3, 4))) static fb_err_t s_fail(s_ctx_t *c, const char *field,
                                                             const char *fmt, ...)
{
    snprintf(c->error->field, sizeof c->error->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error->reason, sizeof c->error->reason, fmt, ap);
    va_end(ap);
    return FB_ERR_PARSE;
}

/* A recipient, unless it is the bailleur itself. */
static fb_err_t s_to(void *ctx, const char *actor)
{
    s_ctx_t *c = ctx;
    if (c->conf->self_actor && strcmp(actor, c->conf->self_actor) == 0)
        return FB_OK;
    return routing_add_to(c->r, actor);
}

static fb_err_t s_to_sne(s_ctx_t *c)
{
    return c->conf->sne_actor && *c->conf->sne_actor ? s_to(c, c->conf->sne_actor) : FB_OK;
}

/* Topic <kind>/<insee>, the code checked first (field names it). */
static fb_err_t s_topic(s_ctx_t *c, const char *kind, const char *insee, const char *field)
{
    if (!routing_is_insee(insee))
        return s_fail(c, field, "\"%s\" is not an INSEE commune code (5 characters)", insee);
    char topic[32];
    snprintf(topic, sizeof topic, "%s/%s", kind, insee);
    return routing_add_topic(c->r, topic);
}

static bool s_empty(const s_ctx_t *c)
{
    return c->r->n_to == 0 && c->r->n_topics == 0;
}

static fb_err_t s_logement_libere(s_ctx_t *c, const ProtobufCMessage *payload)
{
    const Fluxbus__V1__LogementLibere *m = (const Fluxbus__V1__LogementLibere *)payload;
    fb_err_t rc = *m->commune_insee
                      ? s_topic(c, "logements", m->commune_insee, "payload.commune_insee")
                      : FB_OK;
    for (size_t i = 0; rc == FB_OK && i < c->conf->n_logements_to; i++)
        rc = s_to(c, c->conf->logements_to[i]);
    if (rc == FB_OK)
        rc = s_to_sne(c);
    if (rc == FB_OK && s_empty(c))
        return s_fail(c, "payload.commune_insee",
                      "empty, and no logements_to nor sne_actor is configured: "
                      "give \"to\" or \"topics\"");
    return rc;
}

static fb_err_t s_orientation(s_ctx_t *c, const ProtobufCMessage *payload)
{
    const Fluxbus__V1__Orientation *m = (const Fluxbus__V1__Orientation *)payload;
    if (!*m->reservataire_actor_id)
        return s_fail(c, "payload.reservataire_actor_id",
                      "missing: the réservataire the vacancy is oriented to");
    return s_to(c, m->reservataire_actor_id);
}

static fb_err_t s_caleol_seance(s_ctx_t *c, const ProtobufCMessage *payload)
{
    const Fluxbus__V1__CaleolSeance *m = (const Fluxbus__V1__CaleolSeance *)payload;
    fb_err_t rc = FB_OK;
    for (size_t i = 0; rc == FB_OK && i < m->n_communes_insee; i++)
        rc = s_topic(c, "caleol", m->communes_insee[i], "payload.communes_insee");
    for (size_t i = 0; rc == FB_OK && i < m->n_vacancy_ids; i++)
        rc = state_oriented(c->state, m->vacancy_ids[i], NULL, s_to, c);
    if (rc == FB_OK && s_empty(c))
        return s_fail(c, "payload.communes_insee",
                      "no commune, and no réservataire oriented on its vacancies: give \"to\"");
    return rc;
}

/* The désignataire (if not the bailleur) and SNE. */
static fb_err_t s_designataire(s_ctx_t *c, const char *designataire)
{
    fb_err_t rc = s_to(c, designataire);
    if (rc == FB_OK)
        rc = s_to_sne(c);
    if (rc == FB_OK && s_empty(c))
        return s_fail(c, "payload.designataire_actor_id",
                      "missing (and no sne_actor is configured): give \"to\"");
    return rc;
}

static fb_err_t s_caleol_decision(s_ctx_t *c, const ProtobufCMessage *payload)
{
    return s_designataire(c, ((const Fluxbus__V1__CaleolDecision *)payload)->designataire_actor_id);
}

static fb_err_t s_bail_signe(s_ctx_t *c, const ProtobufCMessage *payload)
{
    return s_designataire(c, ((const Fluxbus__V1__BailSigne *)payload)->designataire_actor_id);
}

/* Only the réservataire that designated (vacancy, nur), and SNE when `sne`.
 * Never the others oriented on the vacancy: another household's demande
 * number and answer are none of their business (one that gave the dwelling
 * back must not learn who got it, nor why a candidate refused). The
 * bailleur's own candidate has no réservataire: then only SNE, or no
 * default route at all. */
static fb_err_t s_designator_route(s_ctx_t *c, const char *vacancy_id, const char *nur, bool sne)
{
    if (!*vacancy_id)
        return s_fail(c, "payload.vacancy_id", "missing: needed to find the réservataire");
    if (!*nur)
        return s_fail(c, "payload.nur",
                      "missing: needed to find the réservataire that designated it");
    fb_err_t rc = state_designators(c->state, vacancy_id, nur, s_to, c);
    if (rc == FB_OK && sne)
        rc = s_to_sne(c);
    if (rc == FB_OK && s_empty(c))
        return s_fail(c, "to",
                      "demande %s was not designated by a réservataire on %s: give \"to\" "
                      "explicitly or do not send it",
                      nur, vacancy_id);
    return rc;
}

static fb_err_t s_non_suivie(s_ctx_t *c, const ProtobufCMessage *payload)
{
    const Fluxbus__V1__AttributionNonSuivieDeBail *m =
        (const Fluxbus__V1__AttributionNonSuivieDeBail *)payload;
    return s_designator_route(c, m->vacancy_id, m->nur, true);
}

static fb_err_t s_proposition_reponse(s_ctx_t *c, const ProtobufCMessage *payload)
{
    const Fluxbus__V1__PropositionReponse *m = (const Fluxbus__V1__PropositionReponse *)payload;
    return s_designator_route(c, m->vacancy_id, m->nur, false);
}

static fb_err_t s_visite(s_ctx_t *c, const ProtobufCMessage *payload)
{
    const Fluxbus__V1__Visite *m = (const Fluxbus__V1__Visite *)payload;
    return s_designator_route(c, m->vacancy_id, m->nur, false);
}

static fb_err_t s_deadline_expired(s_ctx_t *c, const ProtobufCMessage *payload)
{
    const Fluxbus__V1__DeadlineExpired *m = (const Fluxbus__V1__DeadlineExpired *)payload;
    if (!*m->vacancy_id)
        return s_fail(c, "payload.vacancy_id", "missing: needed to find the réservataire");
    fb_err_t rc = state_oriented(c->state, m->vacancy_id, m->convention_id, s_to, c);
    if (rc == FB_OK && s_empty(c))
        return s_fail(c, "payload.vacancy_id",
                      "vacancy \"%s\" was not oriented to any réservataire%s%s: give \"to\"",
                      m->vacancy_id, *m->convention_id ? " under convention " : "",
                      m->convention_id);
    return rc;
}

static fb_err_t s_designation(s_ctx_t *c, const ProtobufCMessage *payload)
{
    const Fluxbus__V1__Designation *m = (const Fluxbus__V1__Designation *)payload;
    if (!*m->credited_reservataire_actor_id)
        return s_fail(c, "payload.credited_reservataire_actor_id",
                      "missing: the réservataire credited (gestion déléguée)");
    fb_err_t rc = s_to(c, m->credited_reservataire_actor_id);
    if (rc == FB_OK && s_empty(c))
        return s_fail(c, "payload.credited_reservataire_actor_id", "is this bailleur: give \"to\"");
    return rc;
}

static fb_err_t s_logement_issue(s_ctx_t *c, const ProtobufCMessage *payload)
{
    const Fluxbus__V1__LogementIssue *m = (const Fluxbus__V1__LogementIssue *)payload;
    if (!*m->commune_insee)
        return s_fail(c, "payload.commune_insee",
                      "missing: the commune's topic is derived from it");
    return s_topic(c, "logements", m->commune_insee, "payload.commune_insee");
}

typedef struct {
    int type;
    fb_err_t (*route)(s_ctx_t *c, const ProtobufCMessage *payload);
} s_rule_t;

static const s_rule_t s_rules[] = {
    {T(LOGEMENT_LIBERE), s_logement_libere},
    {T(ORIENTATION), s_orientation},
    {T(CALEOL_SEANCE), s_caleol_seance},
    {T(CALEOL_DECISION), s_caleol_decision},
    {T(BAIL_SIGNE), s_bail_signe},
    {T(ATTRIBUTION_NON_SUIVIE_DE_BAIL), s_non_suivie},
    {T(PROPOSITION_REPONSE), s_proposition_reponse},
    {T(VISITE), s_visite},
    {T(DEADLINE_EXPIRED), s_deadline_expired},
    {T(DESIGNATION), s_designation},
    {T(LOGEMENT_ISSUE), s_logement_issue},
};

fb_err_t routing_default(state_t *state, const routing_conf_t *conf, int type,
                         const ProtobufCMessage *payload, routing_t *r, routing_error_t *error)
{
    memset(error, 0, sizeof *error);
    s_ctx_t c = {state, conf, r, error};
    for (size_t i = 0; i < sizeof s_rules / sizeof s_rules[0]; i++) {
        if (s_rules[i].type != type)
            continue;
        fb_err_t rc = s_rules[i].route(&c, payload);
        if (rc != FB_OK && rc != FB_ERR_PARSE)
            s_fail(&c, "", "could not derive the recipients: %s", fb_err_str(rc));
        return rc;
    }
    return s_fail(&c, "to", "this type has no default recipient: give \"to\"");
}
