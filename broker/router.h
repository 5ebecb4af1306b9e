/* router.h - who may send what to whom, and who receives a message.
 *
 * The rules (one row per message type: sender roles, recipient roles, topic
 * kind) live in router.c; the facts (actors, roles, territories, mandates,
 * subscriptions) live in the registry. */
#ifndef FLUXBUS_BROKER_ROUTER_H
#define FLUXBUS_BROKER_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "fluxbus/err.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "store.h"

#define ROUTER_MAX_TARGETS 1024

/* The actors a message will be queued for, without duplicates. */
typedef struct {
    char (*actor)[FB_ACTOR_MAX];
    size_t n;
    size_t cap;
} router_targets_t;

/* Checks that `sender` may send `body` and fills `out` with its recipients
 * plus the subscribers of its topics. On refusal returns the reason
 * (FB_ERR_UNKNOWN_TYPE, FB_ERR_NOT_AUTHORIZED, FB_ERR_UNKNOWN_RECIPIENT,
 * FB_ERR_NO_RECIPIENT, FB_ERR_BAD_TOPIC, FB_ERR_TOO_MANY_RECIPIENTS) and writes a
 * one-line detail. `out` must be zeroed before the first call; free it with
 * router_targets_free(). */
fb_err_t router_route(store_t *store, const store_actor_t *sender,
                      const Fluxbus__V1__SignedBody *body, router_targets_t *out, char *detail,
                      size_t detail_len);

/* Routes a message the broker itself signed (body->sender: the broker's
 * actor) by the table of the broker's own messages: its recipients must
 * hold a role the rule allows; those not registered or revoked are left
 * out. FB_ERR_NOT_AUTHORIZED for a type the broker does not send or a
 * recipient of the wrong role. Same `out` contract as router_route. */
fb_err_t router_route_own(store_t *store, const Fluxbus__V1__SignedBody *body,
                          router_targets_t *out, char *detail, size_t detail_len);

/* True when the broker's actor id is among body's recipients: the message
 * is for the broker itself (router_route_to_broker), not for router_route. */
bool router_for_broker(const Fluxbus__V1__SignedBody *body, const char *broker_actor);

/* Checks a message addressed to the broker itself (a BilanRequest): its
 * type is one the broker takes, one of the sender's roles may send it, and
 * the broker's actor id is its one recipient, with no topic. Nobody is
 * queued for it: the broker answers it. FB_OK or FB_ERR_NOT_AUTHORIZED with
 * a one-line detail. router_route refuses these types (NOT_AUTHORIZED). */
fb_err_t router_route_to_broker(const store_actor_t *sender, const Fluxbus__V1__SignedBody *body,
                                const char *broker_actor, char *detail, size_t detail_len);

/* May `actor` hold a durable subscription to `topic`? FB_OK,
 * FB_ERR_BAD_TOPIC (not "caleol/<INSEE>" or "logements/<INSEE>") or
 * FB_ERR_NOT_AUTHORIZED (role or territory does not allow it). */
fb_err_t router_may_subscribe(const store_actor_t *actor, const char *topic, char *detail,
                              size_t detail_len);

void router_targets_free(router_targets_t *targets);

#endif
