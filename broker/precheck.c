/* precheck.c - the bulk checks of a batch's SENDs (see precheck.h). */
#include "precheck.h"

#include <string.h>

static void s_verify_one(void *ctx, size_t i)
{
    precheck_t *item = &((precheck_t *)ctx)[i];
    if (!item->wanted)
        return;
    fb_sha256(item->data, item->len, item->sha256);
    if (item->env && item->key_rc == FB_OK)
        item->verify_rc = fb_envelope_verify(item->env, item->key.public_key);
}

fb_err_t precheck_batch(store_t *store, parallel_t *pool, size_t max_envelope, precheck_t *items,
                        size_t n)
{
    for (size_t i = 0; i < n; i++) {
        precheck_t *item = &items[i];
        if (!item->wanted)
            continue;
        item->env = NULL;
        item->key_rc = FB_ERR_NOT_FOUND;
        item->verify_rc = FB_ERR_BAD_SIGNATURE;
        item->decode_rc = fb_envelope_decode(item->data, item->len, max_envelope, &item->env);
        if (item->decode_rc != FB_OK)
            continue;
        item->key_rc = store_key_get(store, item->env->key_id, &item->key);
        if (item->key_rc == FB_ERR_STORE)
            return FB_ERR_STORE;
    }
    parallel_for(pool, n, s_verify_one, items);
    return FB_OK;
}

void precheck_clear(precheck_t *item)
{
    fb_envelope_free(item->env);
    memset(item, 0, sizeof *item);
}
