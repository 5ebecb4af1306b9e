/* fuzz_support.c - see fuzz_support.h. Owns the fixed fuzzing keys, the
 * list of decodable messages and the per-process scratch directory. None of
 * it is thread-safe: a fuzz target calls it from its fuzzing thread. */
#include "fuzz_support.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "tmpdir.h"

#define S_MAX_TYPES 64

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* BLAKE2b-256 of tag + actor: a seed that only depends on the names. */
static void s_seed(const char *tag, const char *actor, uint8_t seed[32])
{
    char text[256];
    int n = snprintf(text, sizeof text, "fluxbus-fuzz %s %s", tag, actor);
    if (n < 0 || (size_t)n >= sizeof text)
        fuzz_fail("actor id too long for a fixed key: %s", actor);
    fb_blake2b256((const uint8_t *)text, (size_t)n, seed);
}

void fuzz_keys_fixed(fb_keys_t *keys, const char *actor)
{
    uint8_t seed[32];
    memset(keys, 0, sizeof *keys);
    if (sodium_init() < 0 || strlen(actor) >= sizeof keys->actor)
        fuzz_fail("cannot make fixed keys for %s", actor);
    snprintf(keys->actor, sizeof keys->actor, "%s", actor);
    s_seed("sign", actor, seed);
    crypto_sign_seed_keypair(keys->sign_pk, keys->sign_sk, seed);
    s_seed("curve", actor, seed);
    crypto_box_seed_keypair(keys->curve_pk, keys->curve_sk, seed);
    fb_key_id(keys->sign_pk, keys->key_id);
    keys->has_secret = true;
}

const fuzz_type_t *fuzz_types(size_t *count)
{
    static const fuzz_type_t s_more[] = {
        {"Envelope", &fluxbus__v1__envelope__descriptor},
        {"SignedBody", &fluxbus__v1__signed_body__descriptor},
        {"Hello", &fluxbus__v1__hello__descriptor},
        {"Welcome", &fluxbus__v1__welcome__descriptor},
        {"Subscribe", &fluxbus__v1__subscribe__descriptor},
        {"SubAck", &fluxbus__v1__sub_ack__descriptor},
        {"KeyQuery", &fluxbus__v1__key_query__descriptor},
        {"KeyAnswer", &fluxbus__v1__key_answer__descriptor},
        {"HouseholdDetails", &fluxbus__v1__household_details__descriptor},
    };
    static fuzz_type_t s_all[S_MAX_TYPES];
    static size_t s_n = 0;
    if (s_n == 0) {
        size_t n = 0;
        const fb_catalog_entry_t *catalog = fb_catalog_all(&n);
        if (n + sizeof s_more / sizeof s_more[0] > S_MAX_TYPES)
            fuzz_fail("more message types than S_MAX_TYPES");
        for (size_t i = 0; i < n; i++)
            s_all[s_n++] = (fuzz_type_t){catalog[i].name, catalog[i].desc};
        for (size_t i = 0; i < sizeof s_more / sizeof s_more[0]; i++)
            s_all[s_n++] = s_more[i];
    }
    *count = s_n;
    return s_all;
}

static char s_dir[256];

static void s_remove_dir(void)
{
    if (s_dir[0])
        tmpdir_remove(s_dir);
}

const char *fuzz_scratch_dir(void)
{
    if (!s_dir[0]) {
        if (tmpdir_make(s_dir, sizeof s_dir, "fuzz") != 0)
            fuzz_fail("cannot make a scratch directory under /tmp");
        atexit(s_remove_dir);
    }
    return s_dir;
}
