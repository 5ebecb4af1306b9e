/* rebuild.c - the flux ledger rebuilt from the stored messages (see
 * rebuild.h).
 *
 * Owns: the replay - reading each stored envelope back into the ledger's
 * view of it (ledger_msg_of), as the broker built it when it accepted the
 * message. Does not own: what a message writes (ledger/facts.c), the walk
 * over the store (store_export), the lock (storelock.c). */
#include "rebuild.h"

#include <stdbool.h>
#include <stdio.h>

#include "fluxbus/catalog.h"
#include "fluxbus/codec.h"
#include "fluxbus/envelope.h"
#include "ledger.h"

typedef struct {
    ledger_t *ledger;
    rebuild_stats_t *stats;
    fb_err_t rc;
    char *err;
    size_t errlen;
} s_replay_t;

/* The stored envelope's signed body and decoded payload (a purged one is
 * a skeleton: its body is whole). */
static fb_err_t s_decode(const store_record_t *r, Fluxbus__V1__SignedBody **body,
                         ProtobufCMessage **payload)
{
    Fluxbus__V1__Envelope *env = NULL;
    fb_err_t rc = fb_envelope_decode(r->envelope, r->envelope_len, r->envelope_len, &env);
    if (rc == FB_OK)
        rc = r->purged_at_ms ? fb_envelope_parse_skeleton(env, body)
                             : fb_envelope_parse_body(env, body);
    fb_envelope_free(env);
    if (rc != FB_OK)
        return rc;
    const fb_catalog_entry_t *entry = fb_catalog_by_type((int)(*body)->type);
    if (!entry)
        return FB_ERR_UNKNOWN_TYPE;
    return fb_codec_unpack(entry->desc, (*body)->payload.data, (*body)->payload.len,
                           r->envelope_len, payload);
}

/* store_export_fn: records one stored message again; stops at a failure. */
static bool s_replay_one(void *ctx, const store_record_t *r)
{
    s_replay_t *x = ctx;
    Fluxbus__V1__SignedBody *body = NULL;
    ProtobufCMessage *payload = NULL;
    fb_err_t rc = s_decode(r, &body, &payload);
    if (rc != FB_OK) {
        snprintf(x->err, x->errlen,
                 "stored message seq %llu does not decode (%s): run fluxbus "
                 "audit verify",
                 (unsigned long long)r->seq, fb_err_str(rc));
        x->rc = FB_ERR_MALFORMED;
    } else {
        ledger_msg_t m = ledger_msg_of(body, payload, r->seq, r->accepted_at_ms);
        x->rc = ledger_record(x->ledger, &m);
        if (x->rc != FB_OK)
            snprintf(x->err, x->errlen, "recording stored message seq %llu failed",
                     (unsigned long long)r->seq);
    }
    x->stats->messages += x->rc == FB_OK;
    x->stats->purged += x->rc == FB_OK && r->purged_at_ms;
    fb_codec_free(payload);
    fb_body_free(body);
    return x->rc == FB_OK;
}

fb_err_t rebuild_ledger(store_t *store, rebuild_stats_t *stats, char *err, size_t errlen)
{
    *stats = (rebuild_stats_t){0};
    s_replay_t x = {.stats = stats, .rc = FB_OK, .err = err, .errlen = errlen};
    fb_err_t rc = store_begin(store);
    if (rc != FB_OK) {
        snprintf(err, errlen, "cannot begin a transaction: %s", store_errmsg(store));
        return rc;
    }
    rc = ledger_reset(store_db(store), err, errlen);
    if (rc == FB_OK && !(x.ledger = ledger_open(store_db(store), err, errlen)))
        rc = FB_ERR_STORE;
    if (rc == FB_OK) {
        rc = store_export(store, s_replay_one, &x);
        if (rc != FB_OK)
            snprintf(err, errlen, "reading the stored messages: %s", store_errmsg(store));
        else
            rc = x.rc;
    }
    ledger_close(&x.ledger);
    if (rc == FB_OK && (rc = store_commit(store)) != FB_OK)
        snprintf(err, errlen, "commit: %s", store_errmsg(store));
    if (rc != FB_OK)
        store_rollback(store);
    return rc;
}
