/* registry.h - the broker's registry filled for unit tests: an actor (and
 * its signing key) added to a real store as `fluxbus-cli actor add` would,
 * the test failing (cmocka) when the store refuses. */
#ifndef FLUXBUS_TEST_REGISTRY_H
#define FLUXBUS_TEST_REGISTRY_H

#include "fluxbus/keys.h"
#include "store.h"

/* Registers keys->actor with `role` (no territory), its transport key the
 * CURVE public key of `keys`. */
void registry_add_actor(store_t *store, const fb_keys_t *keys, const char *role);

/* Registers the signing key of `keys` (named by keys->key_id, no end of
 * validity) for keys->actor, already registered. */
void registry_add_signing_key(store_t *store, const fb_keys_t *keys);

#endif
