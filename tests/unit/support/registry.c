/* registry.c - see registry.h. Owns nothing but the two rows it writes
 * through store_actor_add and store_key_add; asserts with cmocka, so it is
 * for cmocka test programs only. */
#include "registry.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

void registry_add_actor(store_t *store, const fb_keys_t *keys, const char *role)
{
    store_actor_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "%s", keys->actor);
    snprintf(a.roles, sizeof a.roles, "%s", role);
    memcpy(a.transport_key, keys->curve_pk, sizeof a.transport_key);
    assert_int_equal(store_actor_add(store, &a, "test"), FB_OK);
}

void registry_add_signing_key(store_t *store, const fb_keys_t *keys)
{
    store_key_t key;
    memset(&key, 0, sizeof key);
    snprintf(key.actor, sizeof key.actor, "%s", keys->actor);
    snprintf(key.key_id, sizeof key.key_id, "%s", keys->key_id);
    memcpy(key.public_key, keys->sign_pk, sizeof key.public_key);
    assert_int_equal(store_key_add(store, &key, "test"), FB_OK);
}
