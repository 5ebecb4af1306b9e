/* keyquery.c - answers KEYQUERY frames (see keyquery.h).
 *
 * Owns: which encryption key is handed out for an actor (the current one:
 * valid now, not revoked, latest valid_from) and the reasons for handing out
 * none. Does not own: the key table (store.c), signing the certificate
 * (notary.c), sending the answer (broker.c). It reads the registry, never
 * writes it. */
#include "keyquery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/codec.h"
#include "fluxbus/v1/envelope.pb-c.h"

/* The current encryption key of `actor`, or why there is none. */
static fb_err_t s_current_key(store_t *store, const char *actor, int64_t now_ms,
                              keyquery_result_t *res, store_key_t *key)
{
    store_actor_t a;
    fb_err_t rc = store_actor_get(store, actor, &a);
    if (rc == FB_ERR_NOT_FOUND || (rc == FB_OK && a.revoked_at_ms)) {
        snprintf(res->detail, sizeof res->detail, "%.127s is not a registered active actor", actor);
        return FB_ERR_UNKNOWN_RECIPIENT;
    }
    if (rc != FB_OK)
        return rc;
    rc = store_enc_key_current(store, actor, now_ms, key);
    if (rc == FB_ERR_NOT_FOUND) {
        snprintf(res->detail, sizeof res->detail, "%.127s has no valid encryption key", actor);
        return FB_ERR_UNKNOWN_KEY;
    }
    return rc;
}

/* Decides what to answer: FB_OK with *key set, a refusal reason with
 * res->detail, or FB_ERR_STORE. */
static fb_err_t s_find(store_t *store, const uint8_t *query, size_t len, int64_t now_ms,
                       keyquery_result_t *res, store_key_t *key)
{
    ProtobufCMessage *msg = NULL;
    fb_err_t rc = query ? fb_codec_unpack(&fluxbus__v1__key_query__descriptor, query, len,
                                          KEYQUERY_FRAME_MAX, &msg)
                        : FB_ERR_MALFORMED;
    if (rc != FB_OK) {
        snprintf(res->detail, sizeof res->detail, "KEYQUERY without a readable KeyQuery");
        return FB_ERR_MALFORMED;
    }
    const Fluxbus__V1__KeyQuery *q = (const Fluxbus__V1__KeyQuery *)msg;
    snprintf(res->actor, sizeof res->actor, "%s", q->actor_id);
    if (q->purpose != FLUXBUS__V1__KEY_PURPOSE__KEY_PURPOSE_ENCRYPTION) {
        snprintf(res->detail, sizeof res->detail, "only encryption keys are answered (purpose %d)",
                 (int)q->purpose);
        rc = FB_ERR_MALFORMED;
    } else {
        rc = s_current_key(store, q->actor_id, now_ms, res, key);
    }
    fb_codec_free(msg);
    return rc;
}

fb_err_t keyquery_answer(store_t *store, notary_t *notary, const uint8_t *query, size_t len,
                         int64_t now_ms, keyquery_result_t *res, uint8_t **out, size_t *out_len)
{
    memset(res, 0, sizeof *res);
    *out = NULL;
    *out_len = 0;
    store_key_t key;
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    fb_err_t rc = s_find(store, query, len, now_ms, res, &key);
    if (rc == FB_ERR_STORE)
        return rc;
    if (rc == FB_OK)
        rc = notary_keycert_for(notary, &key, FLUXBUS__V1__KEY_PURPOSE__KEY_PURPOSE_ENCRYPTION,
                                &cert, &cert_len);
    if (rc == FB_ERR_NOMEM)
        return rc;
    if (rc == FB_OK)
        snprintf(res->key_id, sizeof res->key_id, "%s", key.key_id);
    res->reason = rc;

    Fluxbus__V1__KeyAnswer answer = FLUXBUS__V1__KEY_ANSWER__INIT;
    answer.actor_id = res->actor;
    answer.reason = (Fluxbus__V1__ReasonCode)fb_err_to_reason(rc);
    answer.detail = res->detail;
    answer.key_cert.data = cert;
    answer.key_cert.len = cert_len;
    rc = fb_codec_pack(&answer.base, out, out_len);
    free(cert);
    return rc;
}
