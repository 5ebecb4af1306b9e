/* fuzz_keyfile - libFuzzer target: the text inputs of the registry.
 *
 * The whole input is parsed as a key file (fb_keys_parse, the reader behind
 * fb_keys_load). What is accepted must be usable: a key id derived from the
 * public key, and secret halves that really belong to the public ones (a
 * signature made with the secret key verifies with the public key; the
 * X25519 public key is the secret's).
 *
 * The same input is also read as lines: roles, territories, a topic, then
 * items. The first two make a synthetic actor for router_may_subscribe() and
 * comma-separated lists for store_list_has(). Invariants: every non-empty
 * element of a list is found in it; a subscription is allowed only to
 * "caleol/" or "logements/" and an INSEE code of the actor's territory, for
 * a commune or an observer. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "fuzz_support.h"
#include "router.h"
#include "store.h"

static void s_check_keys(const uint8_t *data, size_t size)
{
    fb_keys_t keys;
    if (fb_keys_parse(&keys, (const char *)data, size) != FB_OK)
        return;
    char id[FB_KEY_ID_CHARS + 1];
    fb_key_id(keys.sign_pk, id);
    if (strcmp(id, keys.key_id) != 0 || !keys.actor[0])
        fuzz_fail("parsed keys: bad key id or empty actor");
    if (keys.has_secret) {
        static const uint8_t msg[] = "fluxbus";
        uint8_t sig[crypto_sign_BYTES], pk[crypto_scalarmult_BYTES];
        crypto_sign_detached(sig, NULL, msg, sizeof msg, keys.sign_sk);
        if (crypto_sign_verify_detached(sig, msg, sizeof msg, keys.sign_pk) != 0)
            fuzz_fail("parsed keys: sign_secret does not belong to sign_public");
        if (crypto_scalarmult_base(pk, keys.curve_sk) != 0 ||
            memcmp(pk, keys.curve_pk, sizeof pk) != 0)
            fuzz_fail("parsed keys: curve_secret does not belong to curve_public");
    }
    fb_keys_wipe(&keys);
}

/* Copies the next line (up to '\n' or the end) into out, cut to cap - 1. */
static const uint8_t *s_line(const uint8_t *p, const uint8_t *end, char *out, size_t cap)
{
    size_t n = 0;
    for (; p < end && *p != '\n'; p++)
        if (n + 1 < cap)
            out[n++] = (char)*p;
    out[n] = '\0';
    return p < end ? p + 1 : p;
}

/* Every element strtok finds in list is in it for store_list_has. */
static void s_check_list(const char *list)
{
    char copy[STORE_LIST_MAX];
    snprintf(copy, sizeof copy, "%s", list);
    for (char *save = NULL, *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save))
        if (!store_list_has(list, e))
            fuzz_fail("\"%s\" not found in the list \"%s\"", e, list);
}

static void s_check_registry(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    store_actor_t actor;
    char topic[256], item[256], detail[256];
    memset(&actor, 0, sizeof actor);
    snprintf(actor.id, sizeof actor.id, "commune:fuzz");
    p = s_line(p, end, actor.roles, sizeof actor.roles);
    p = s_line(p, end, actor.territories, sizeof actor.territories);
    p = s_line(p, end, topic, sizeof topic);
    s_check_list(actor.roles);
    s_check_list(actor.territories);
    while (p < end) {
        p = s_line(p, end, item, sizeof item);
        (void)store_list_has(actor.roles, item);
    }
    if (router_may_subscribe(&actor, topic, detail, sizeof detail) != FB_OK)
        return;
    const char *slash = strchr(topic, '/');
    int kind_ok = slash && ((slash - topic == 6 && strncmp(topic, "caleol", 6) == 0) ||
                            (slash - topic == 9 && strncmp(topic, "logements", 9) == 0));
    if (!kind_ok || strlen(slash + 1) != 5 || !store_list_has(actor.territories, slash + 1) ||
        !(store_list_has(actor.roles, "commune") || store_list_has(actor.roles, "observer")))
        fuzz_fail("subscription to \"%s\" allowed for roles \"%s\", territories \"%s\"", topic,
                  actor.roles, actor.territories);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_check_keys(data, size);
    s_check_registry(data, size);
    return 0;
}
