/* router.c - authorization and fan-out.
 *
 * Owns the table of which roles may send each message type, to which roles,
 * and on which kind of topic; the topic syntax ("caleol/<INSEE>",
 * "logements/<INSEE>"); and the subscription rule (communes and observers,
 * for the INSEE codes of their own territory). It reads the registry, never
 * writes it.
 *
 * Invariant: a message is routed to an actor only if that actor is named as a
 * recipient and has a role the rule allows, or holds a subscription to one of
 * the message's topics; a message addressed to the broker itself (its actor
 * id as the one recipient) is routed to nobody and answered by the broker. */
#include "router.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_NO_MANDATE = 0, S_BAILLEUR_NEEDS_MANDATE = 1 } s_mandate_rule_t;

typedef struct {
    int type;
    const char *senders;    /* roles allowed to send */
    const char *recipients; /* roles a direct recipient must hold (one of) */
    const char *topic_kind; /* topic kind it may be published on, or NULL */
    s_mandate_rule_t mandate;
} s_rule_t;

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
static const s_rule_t s_rules[] = {
    {T(LOGEMENT_LIBERE), "bailleur", "reservataire,sne,commune,observer", "logements", 0},
    {T(ORIENTATION), "bailleur", "reservataire", NULL, 0},
    {T(ORIENTATION_ACK), "reservataire", "bailleur", NULL, 0},
    {T(ORIENTATION_DECLINE), "reservataire", "bailleur", NULL, 0},
    /* Under gestion déléguée the bailleur designates and informs the
     * réservataire, which must have given it a mandate. */
    {T(DESIGNATION), "reservataire,bailleur", "bailleur,reservataire", NULL,
     S_BAILLEUR_NEEDS_MANDATE},
    {T(REMISE_A_DISPOSITION), "reservataire", "bailleur", NULL, 0},
    {T(DEADLINE_EXPIRED), "bailleur", "reservataire", NULL, 0},
    {T(VISITE), "bailleur", "reservataire", NULL, 0},
    {T(CALEOL_SEANCE), "bailleur", "reservataire,commune,observer", "caleol", 0},
    {T(CALEOL_DECISION), "bailleur", "reservataire,sne", NULL, 0},
    {T(PROPOSITION_REPONSE), "bailleur", "reservataire", NULL, 0},
    {T(ATTRIBUTION_NON_SUIVIE_DE_BAIL), "bailleur", "reservataire,sne", NULL, 0},
    {T(BAIL_SIGNE), "bailleur", "reservataire,sne", NULL, 0},
    {T(SNE_RADIATION_ACK), "sne", "bailleur", NULL, 0},
    {T(CONVENTION), "bailleur,reservataire", "bailleur,reservataire,observer", NULL, 0},
    {T(DECOMPTE_DROITS), "bailleur", "reservataire,observer", NULL, 0},
    {T(BILAN_ANNUEL), "bailleur", "reservataire,observer,commune", NULL, 0},
    {T(LOGEMENT_ISSUE), "bailleur", "commune,observer", "logements", 0},
};

/* What the broker itself sends (router_route_own): its actor is not in the
 * registry and holds no role, so no registered actor can match these rows,
 * and these types from the broker are routed by this table only. */
static const s_rule_t s_own_rules[] = {
    /* The deadline of an orientation passed unanswered (broker/expiry.c). */
    {T(DEADLINE_EXPIRED), "broker", "bailleur,reservataire", NULL, 0},
    /* Where a convention stands, after each change of its counts
     * (broker/decompte_emit.c): to its party (a réservataire or a commune
     * of a multipartite convention), its bailleur and the observers. */
    {T(DECOMPTE_DROITS), "broker", "bailleur,reservataire,commune,observer", NULL, 0},
    /* The answer to a BilanRequest, to its sender (broker/bilan_reply.c). */
    {T(BILAN_ANNUEL), "broker", "bailleur,reservataire,observer,commune", NULL, 0},
};

/* What is addressed to the broker itself (router_route_to_broker): the
 * broker's actor id is the one recipient, nobody is queued, the broker
 * answers (the recipients column: the broker, by its actor id). */
static const s_rule_t s_broker_rules[] = {
    /* The bilan of attributions, answered with a BilanAnnuel. */
    {T(BILAN_REQUEST), "bailleur,reservataire,observer,commune", "broker", NULL, 0},
};
#undef T

static const s_rule_t *s_rule_in(const s_rule_t *rules, size_t n, int type)
{
    for (size_t i = 0; i < n; i++)
        if (rules[i].type == type)
            return &rules[i];
    return NULL;
}

static const s_rule_t *s_rule_for(int type)
{
    return s_rule_in(s_rules, sizeof s_rules / sizeof s_rules[0], type);
}

static const s_rule_t *s_broker_rule_for(int type)
{
    return s_rule_in(s_broker_rules, sizeof s_broker_rules / sizeof s_broker_rules[0], type);
}

/* True when the two comma-separated role lists share a role. */
static int s_roles_meet(const char *have, const char *allowed)
{
    char buf[STORE_LIST_MAX];
    snprintf(buf, sizeof buf, "%s", allowed);
    for (char *save = NULL, *r = strtok_r(buf, ",", &save); r; r = strtok_r(NULL, ",", &save))
        if (store_list_has(have, r))
            return 1;
    return 0;
}

/* INSEE commune code: 5 characters, digits, or 2A/2B for Corsica. */
static int s_is_insee(const char *s)
{
    if (strlen(s) != 5)
        return 0;
    for (int i = 0; i < 5; i++) {
        int corsica = i == 1 && s[0] == '2' && (s[i] == 'A' || s[i] == 'B');
        int ok = isdigit((unsigned char)s[i]) || corsica;
        if (!ok)
            return 0;
    }
    return 1;
}

/* Splits "kind/INSEE"; returns 0 if the topic is not of that form. */
static int s_parse_topic(const char *topic, char *kind, size_t kind_len, const char **insee)
{
    const char *slash = strchr(topic, '/');
    if (!slash || (size_t)(slash - topic) >= kind_len)
        return 0;
    memcpy(kind, topic, (size_t)(slash - topic));
    kind[slash - topic] = '\0';
    *insee = slash + 1;
    return (strcmp(kind, "caleol") == 0 || strcmp(kind, "logements") == 0) && s_is_insee(*insee);
}

static fb_err_t s_add_target(router_targets_t *t, const char *actor)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->actor[i], actor) == 0)
            return FB_OK;
    if (t->n == ROUTER_MAX_TARGETS)
        return FB_ERR_TOO_MANY_RECIPIENTS;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 8;
        void *p = realloc(t->actor, cap * sizeof *t->actor);
        if (!p)
            return FB_ERR_NOMEM;
        t->actor = p;
        t->cap = cap;
    }
    snprintf(t->actor[t->n++], FB_ACTOR_MAX, "%s", actor);
    return FB_OK;
}

typedef struct {
    router_targets_t *t;
    fb_err_t rc;
} s_sub_ctx_t;

static void s_on_subscriber(void *ctx, const char *actor)
{
    s_sub_ctx_t *c = ctx;
    if (c->rc == FB_OK)
        c->rc = s_add_target(c->t, actor);
}

/* Checks one direct recipient against the rule and adds it. */
static fb_err_t s_route_recipient(store_t *store, const store_actor_t *sender, const s_rule_t *rule,
                                  const char *id, router_targets_t *out, char *detail, size_t dlen)
{
    store_actor_t r;
    fb_err_t rc = store_actor_get(store, id, &r);
    if (rc == FB_ERR_NOT_FOUND || (rc == FB_OK && r.revoked_at_ms)) {
        snprintf(detail, dlen, "recipient %s is not a registered active actor", id);
        return FB_ERR_UNKNOWN_RECIPIENT;
    }
    if (rc != FB_OK)
        return rc;
    if (!s_roles_meet(r.roles, rule->recipients)) {
        snprintf(detail, dlen, "recipient %s (roles %s) may not receive this type", id, r.roles);
        return FB_ERR_NOT_AUTHORIZED;
    }
    /* A bailleur designating for a réservataire needs that réservataire's mandate. */
    if (rule->mandate == S_BAILLEUR_NEEDS_MANDATE &&
        !store_list_has(sender->roles, "reservataire") && store_list_has(r.roles, "reservataire") &&
        !store_mandate_exists(store, r.id, sender->id)) {
        snprintf(detail, dlen, "no mandate from %s to %s for designation", r.id, sender->id);
        return FB_ERR_NOT_AUTHORIZED;
    }
    return s_add_target(out, r.id);
}

fb_err_t router_route(store_t *store, const store_actor_t *sender,
                      const Fluxbus__V1__SignedBody *body, router_targets_t *out, char *detail,
                      size_t dlen)
{
    detail[0] = '\0';
    const s_rule_t *rule = s_rule_for((int)body->type);
    if (!rule && s_broker_rule_for((int)body->type)) {
        snprintf(detail, dlen,
                 "type %d is addressed to the broker only: its actor id as the one recipient",
                 (int)body->type);
        return FB_ERR_NOT_AUTHORIZED;
    }
    if (!rule) {
        snprintf(detail, dlen, "type %d is not a domain message type", (int)body->type);
        return FB_ERR_UNKNOWN_TYPE;
    }
    if (!s_roles_meet(sender->roles, rule->senders)) {
        snprintf(detail, dlen, "sender roles %s may not send this type", sender->roles);
        return FB_ERR_NOT_AUTHORIZED;
    }
    if (body->n_recipients == 0 && body->n_topics == 0) {
        snprintf(detail, dlen, "no recipient and no topic");
        return FB_ERR_NO_RECIPIENT;
    }
    if (body->n_recipients + body->n_topics > ROUTER_MAX_TARGETS) {
        snprintf(detail, dlen, "more than %d recipients and topics", ROUTER_MAX_TARGETS);
        return FB_ERR_TOO_MANY_RECIPIENTS;
    }
    fb_err_t rc = FB_OK;
    for (size_t i = 0; rc == FB_OK && i < body->n_recipients; i++)
        rc = s_route_recipient(store, sender, rule, body->recipients[i], out, detail, dlen);
    for (size_t i = 0; rc == FB_OK && i < body->n_topics; i++) {
        char kind[16];
        const char *insee = NULL;
        if (!s_parse_topic(body->topics[i], kind, sizeof kind, &insee)) {
            snprintf(detail, dlen, "topic \"%s\" is not kind/INSEE", body->topics[i]);
            return FB_ERR_BAD_TOPIC;
        }
        if (!rule->topic_kind || strcmp(kind, rule->topic_kind) != 0) {
            snprintf(detail, dlen, "this type may not be published on topic %s", body->topics[i]);
            return FB_ERR_NOT_AUTHORIZED;
        }
        s_sub_ctx_t ctx = {out, FB_OK};
        rc = store_subscribers(store, body->topics[i], s_on_subscriber, &ctx);
        if (rc == FB_OK)
            rc = ctx.rc;
    }
    return rc;
}

fb_err_t router_route_own(store_t *store, const Fluxbus__V1__SignedBody *body,
                          router_targets_t *out, char *detail, size_t dlen)
{
    detail[0] = '\0';
    const s_rule_t *rule =
        s_rule_in(s_own_rules, sizeof s_own_rules / sizeof s_own_rules[0], (int)body->type);
    if (!rule) {
        snprintf(detail, dlen, "the broker does not send type %d", (int)body->type);
        return FB_ERR_NOT_AUTHORIZED;
    }
    if (body->n_topics) {
        snprintf(detail, dlen, "the broker publishes on no topic");
        return FB_ERR_NOT_AUTHORIZED;
    }
    store_actor_t broker;
    memset(&broker, 0, sizeof broker);
    snprintf(broker.id, sizeof broker.id, "%s", body->sender);
    snprintf(broker.roles, sizeof broker.roles, "broker");
    fb_err_t rc = FB_OK;
    for (size_t i = 0; rc == FB_OK && i < body->n_recipients; i++) {
        rc = s_route_recipient(store, &broker, rule, body->recipients[i], out, detail, dlen);
        /* A recipient revoked since it took part in the vacancy is left out:
         * the others still learn what happened. */
        if (rc == FB_ERR_UNKNOWN_RECIPIENT)
            rc = FB_OK;
    }
    return rc;
}

bool router_for_broker(const Fluxbus__V1__SignedBody *body, const char *broker_actor)
{
    for (size_t i = 0; i < body->n_recipients; i++)
        if (strcmp(body->recipients[i], broker_actor) == 0)
            return true;
    return false;
}

fb_err_t router_route_to_broker(const store_actor_t *sender, const Fluxbus__V1__SignedBody *body,
                                const char *broker_actor, char *detail, size_t dlen)
{
    detail[0] = '\0';
    const s_rule_t *rule = s_broker_rule_for((int)body->type);
    if (!rule) {
        snprintf(detail, dlen, "the broker %s takes no message of type %d: address it to actors",
                 broker_actor, (int)body->type);
        return FB_ERR_NOT_AUTHORIZED;
    }
    if (!s_roles_meet(sender->roles, rule->senders)) {
        snprintf(detail, dlen, "sender roles %s may not send this type", sender->roles);
        return FB_ERR_NOT_AUTHORIZED;
    }
    if (body->n_recipients != 1 || body->n_topics) {
        snprintf(detail, dlen,
                 "a message to the broker has its actor id as the one recipient and no topic");
        return FB_ERR_NOT_AUTHORIZED;
    }
    return FB_OK;
}

fb_err_t router_may_subscribe(const store_actor_t *actor, const char *topic, char *detail,
                              size_t dlen)
{
    char kind[16];
    const char *insee = NULL;
    detail[0] = '\0';
    if (!s_parse_topic(topic, kind, sizeof kind, &insee)) {
        snprintf(detail, dlen, "topic \"%s\" is not caleol/<INSEE> or logements/<INSEE>", topic);
        return FB_ERR_BAD_TOPIC;
    }
    if (!s_roles_meet(actor->roles, "commune,observer")) {
        snprintf(detail, dlen, "only communes and observers subscribe to topics");
        return FB_ERR_NOT_AUTHORIZED;
    }
    if (!store_list_has(actor->territories, insee)) {
        snprintf(detail, dlen, "INSEE %s is not in the territory of %s", insee, actor->id);
        return FB_ERR_NOT_AUTHORIZED;
    }
    return FB_OK;
}

void router_targets_free(router_targets_t *t)
{
    free(t->actor);
    memset(t, 0, sizeof *t);
}
