/* audit.c - verifies a store message by message (see audit.h for the
 * contract and the list of checks).
 *
 * Owns the order of the checks and the one-line reason of a failure. Does
 * not own the chain's byte layout (lib/audit_chain.c), signature checking
 * (lib/envelope.c) or reading the store (store_export). Invariant: the walk
 * stops at the first message that fails; out->head is then the link of the
 * last message that passed, out->messages how many did. */
#include "audit.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fluxbus/codec.h"
#include "fluxbus/envelope.h"

typedef struct {
    store_t *store;
    const fb_keys_t *broker; /* may be NULL: receipts' signatures not checked */
    audit_result_t *out;
    uint64_t last_seq;
    bool unchecked; /* the current message's signature could not be checked */
} s_walk_t;

/* A reason buffer: the first check that fails writes it and returns false. */
typedef struct {
    char *text;
    size_t cap;
} s_why_t;

static bool __attribute__((format(printf, 2, 3))) s_fail(s_why_t *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->text, why->cap, fmt, ap);
    va_end(ap);
    return false;
}

static void s_hex(const uint8_t *data, size_t len, char *out, size_t cap)
{
    if (2 * len + 1 > cap)
        len = (cap - 1) / 2;
    fb_hex_encode(data, len, out);
}

/* The stored link is the one recomputed (into link) from the previous link
 * and this message's body, signature and receipt. */
static bool s_check_chain(s_walk_t *w, const store_record_t *r, const Fluxbus__V1__Envelope *env,
                          uint8_t link[FB_AUDIT_LINK_BYTES], s_why_t *why)
{
    if (!r->chain_link || r->chain_link_len != FB_AUDIT_LINK_BYTES)
        return s_fail(why, "no audit chain link stored");
    fb_audit_chain_link(w->out->head, r->seq, env->body.data, env->body.len, env->signature.data,
                        env->signature.len, r->receipt, r->receipt_len, link);
    if (memcmp(link, r->chain_link, FB_AUDIT_LINK_BYTES) != 0) {
        char stored[2 * FB_AUDIT_LINK_BYTES + 1], computed[2 * FB_AUDIT_LINK_BYTES + 1];
        s_hex(r->chain_link, FB_AUDIT_LINK_BYTES, stored, sizeof stored);
        s_hex(link, FB_AUDIT_LINK_BYTES, computed, sizeof computed);
        return s_fail(why,
                      "chain link does not match (stored %s, recomputed %s): its body, signature "
                      "or receipt changed, or its link did",
                      stored, computed);
    }
    return true;
}

static bool s_check_digest(const store_record_t *r, s_why_t *why);

/* True when the receipt stored with r names `sender` and `key_id` as its
 * own signer (read, not verified). */
static bool s_receipt_signed_as(const store_record_t *r, const char *sender, const char *key_id)
{
    Fluxbus__V1__Envelope *env = NULL;
    Fluxbus__V1__SignedBody *body = NULL;
    bool same = r->receipt && r->receipt_len &&
                fb_envelope_decode(r->receipt, r->receipt_len, r->receipt_len, &env) == FB_OK &&
                env->key_id && strcmp(env->key_id, key_id) == 0 &&
                fb_envelope_parse_body(env, &body) == FB_OK && strcmp(body->sender, sender) == 0;
    fb_body_free(body);
    fb_envelope_free(env);
    return same;
}

/* Without the broker's key, a message the broker sent itself cannot be
 * verified, any more than receipts: it is one whose sender is no registered
 * actor, whose key is not in the registry, and whose sender and key are
 * those that sign its receipt. Its body is parsed (attachments checked),
 * its signature is not. */
static bool s_check_unverifiable(s_walk_t *w, const store_record_t *r,
                                 const Fluxbus__V1__Envelope *env, Fluxbus__V1__SignedBody **body,
                                 s_why_t *why)
{
    store_actor_t actor;
    if (!env->key_id || !r->key_id || strcmp(env->key_id, r->key_id) != 0 ||
        store_actor_get(w->store, r->sender, &actor) != FB_ERR_NOT_FOUND ||
        !s_receipt_signed_as(r, r->sender, r->key_id))
        return s_fail(why, "signing key %.20s is not in the registry", r->key_id ? r->key_id : "");
    bool purged = r->purged_at_ms != 0;
    fb_err_t rc =
        purged ? fb_envelope_parse_skeleton(env, body) : fb_envelope_parse_body(env, body);
    if (rc != FB_OK)
        return s_fail(why, "signed body refused: %s", fb_err_str(rc));
    if (strcmp((*body)->sender, r->sender) != 0)
        return s_fail(why, "body sender %.127s is not the stored sender", (*body)->sender);
    w->unchecked = true;
    return true;
}

/* The key a message must verify with: its sender's registered key, or the
 * broker's own for a message the broker sent (when the broker's key is
 * given). NULL when there is none. */
static const store_key_t *s_sender_key(const s_walk_t *w, const store_record_t *r,
                                       store_key_t *broker_key)
{
    if (r->sender_key)
        return r->sender_key;
    if (!w->broker || !r->key_id || strcmp(r->key_id, w->broker->key_id) != 0)
        return NULL;
    memset(broker_key, 0, sizeof *broker_key);
    snprintf(broker_key->actor, sizeof broker_key->actor, "%s", w->broker->actor);
    snprintf(broker_key->key_id, sizeof broker_key->key_id, "%s", w->broker->key_id);
    memcpy(broker_key->public_key, w->broker->sign_pk, FB_SIGN_PK_BYTES);
    return broker_key;
}

/* Signed by the registered key of its sender (or the broker's, see
 * s_sender_key); body and attachments accepted (a purged row as a skeleton);
 * SHA-256 as stored unless purged. */
static bool s_check_sender(s_walk_t *w, const store_record_t *r, const Fluxbus__V1__Envelope *env,
                           Fluxbus__V1__SignedBody **body, s_why_t *why)
{
    store_key_t broker_key;
    const store_key_t *key = s_sender_key(w, r, &broker_key);
    if (!key && !w->broker)
        return s_check_unverifiable(w, r, env, body, why) && s_check_digest(r, why);
    if (!key)
        return s_fail(why, "signing key %.20s is not in the registry", r->key_id ? r->key_id : "");
    char key_id[FB_KEY_ID_CHARS + 1];
    fb_key_id(key->public_key, key_id);
    if (strcmp(key_id, key->key_id) != 0)
        return s_fail(why, "registered key %s is not the key with that id (%s)", key->key_id,
                      key_id);
    if (!env->key_id || strcmp(env->key_id, key->key_id) != 0)
        return s_fail(why, "envelope key_id %.20s is not the stored key_id %s",
                      env->key_id ? env->key_id : "", key->key_id);
    if (fb_envelope_verify(env, key->public_key) != FB_OK)
        return s_fail(why, "sender signature does not verify with key %s", key->key_id);
    bool purged = r->purged_at_ms != 0;
    fb_err_t rc =
        purged ? fb_envelope_parse_skeleton(env, body) : fb_envelope_parse_body(env, body);
    if (rc != FB_OK)
        return s_fail(why, "signed body refused: %s%s", fb_err_str(rc),
                      rc == FB_ERR_BAD_SIGNATURE ? " (an attachment does not match its digest)"
                                                 : "");
    if (strcmp((*body)->sender, r->sender) != 0 || strcmp((*body)->sender, key->actor) != 0)
        return s_fail(why, "body sender %.127s is not the stored sender / the key's actor",
                      (*body)->sender);
    if (purged && (env->n_attachments != 0 || (*body)->n_attachment_digests == 0))
        return s_fail(why, "marked purged but is not a skeleton of an envelope with attachments");
    return s_check_digest(r, why);
}

/* SHA-256 of the envelope is the one stored at acceptance, unless purged. */
static bool s_check_digest(const store_record_t *r, s_why_t *why)
{
    bool purged = r->purged_at_ms != 0;
    uint8_t sha[32];
    fb_sha256(r->envelope, r->envelope_len, sha);
    if (!r->envelope_sha256 || r->envelope_sha256_len != sizeof sha)
        return s_fail(why, "no envelope SHA-256 stored");
    if (!purged && memcmp(sha, r->envelope_sha256, sizeof sha) != 0)
        return s_fail(why, "envelope bytes are not the ones accepted (SHA-256 differs)");
    return true;
}

/* The Receipt payload states this message at this seq. */
static bool s_check_receipt_payload(const store_record_t *r, const Fluxbus__V1__SignedBody *body,
                                    const ProtobufCBinaryData *payload, s_why_t *why)
{
    ProtobufCMessage *msg = NULL;
    if (fb_codec_unpack(&fluxbus__v1__receipt__descriptor, payload->data, payload->len,
                        payload->len, &msg) != FB_OK)
        return s_fail(why, "receipt payload is not a Receipt");
    const Fluxbus__V1__Receipt *rc = (const Fluxbus__V1__Receipt *)msg;
    bool ok = false;
    if (rc->message_id.len != body->message_id.len ||
        memcmp(rc->message_id.data, body->message_id.data, body->message_id.len) != 0)
        s_fail(why, "receipt is for another message id");
    else if (strcmp(rc->sender, body->sender) != 0)
        s_fail(why, "receipt is for another sender (%.127s)", rc->sender);
    else if (rc->store_seq != r->seq)
        s_fail(why, "receipt says seq %llu", (unsigned long long)rc->store_seq);
    else if (rc->accepted_at_ms != r->accepted_at_ms)
        s_fail(why, "receipt says accepted_at_ms %lld, the store %lld",
               (long long)rc->accepted_at_ms, (long long)r->accepted_at_ms);
    else if (rc->envelope_sha256.len != 32 ||
             memcmp(rc->envelope_sha256.data, r->envelope_sha256, 32) != 0)
        s_fail(why, "receipt's envelope_sha256 is not the stored one");
    else if (rc->duplicate)
        s_fail(why, "stored receipt is marked duplicate");
    else
        ok = true;
    fb_codec_free(msg);
    return ok;
}

/* The receipt is a broker-signed RECEIPT answering this message. */
static bool s_check_receipt(const fb_keys_t *broker, const store_record_t *r,
                            const Fluxbus__V1__SignedBody *body, s_why_t *why)
{
    Fluxbus__V1__Envelope *env = NULL;
    Fluxbus__V1__SignedBody *rbody = NULL;
    bool ok = false;
    if (!r->receipt || r->receipt_len == 0)
        s_fail(why, "no receipt stored");
    else if (fb_envelope_decode(r->receipt, r->receipt_len, r->receipt_len, &env) != FB_OK)
        s_fail(why, "receipt does not decode");
    else if (broker && (!env->key_id || strcmp(env->key_id, broker->key_id) != 0))
        s_fail(why, "receipt key_id %.20s is not the broker's %s", env->key_id ? env->key_id : "",
               broker->key_id);
    else if (broker && fb_envelope_verify(env, broker->sign_pk) != FB_OK)
        s_fail(why, "receipt signature does not verify with the broker key %s", broker->key_id);
    else if (fb_envelope_parse_body(env, &rbody) != FB_OK)
        s_fail(why, "receipt body refused");
    else if (broker && strcmp(rbody->sender, broker->actor) != 0)
        s_fail(why, "receipt sender %.127s is not the broker %s", rbody->sender, broker->actor);
    else if (rbody->type != FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_RECEIPT)
        s_fail(why, "receipt body type is %d, not RECEIPT", (int)rbody->type);
    else if (rbody->in_reply_to.len != body->message_id.len ||
             memcmp(rbody->in_reply_to.data, body->message_id.data, body->message_id.len) != 0)
        s_fail(why, "receipt does not reply to this message");
    else
        ok = s_check_receipt_payload(r, body, &rbody->payload, why);
    fb_body_free(rbody);
    fb_envelope_free(env);
    return ok;
}

static bool s_check_record(void *ctx, const store_record_t *r)
{
    s_walk_t *w = ctx;
    char text[sizeof w->out->why];
    s_why_t why = {text, sizeof text};
    Fluxbus__V1__Envelope *env = NULL;
    Fluxbus__V1__SignedBody *body = NULL;
    uint8_t link[FB_AUDIT_LINK_BYTES];
    bool ok;
    w->unchecked = false;
    if (r->seq != w->last_seq + 1)
        ok = r->seq == w->last_seq + 2
                 ? s_fail(&why, "follows seq %llu: message %llu is missing",
                          (unsigned long long)w->last_seq, (unsigned long long)w->last_seq + 1)
                 : s_fail(&why, "follows seq %llu: messages %llu to %llu are missing",
                          (unsigned long long)w->last_seq, (unsigned long long)w->last_seq + 1,
                          (unsigned long long)r->seq - 1);
    else if (fb_envelope_decode(r->envelope, r->envelope_len, r->envelope_len, &env) != FB_OK)
        ok = s_fail(&why, "stored envelope does not decode");
    else
        ok = s_check_chain(w, r, env, link, &why) && s_check_sender(w, r, env, &body, &why) &&
             s_check_receipt(w->broker, r, body, &why);
    fb_body_free(body);
    fb_envelope_free(env);
    if (!ok) {
        w->out->broken_seq = r->seq;
        snprintf(w->out->why, sizeof w->out->why, "%s", text);
        return false;
    }
    memcpy(w->out->head, link, sizeof link);
    w->last_seq = r->seq;
    w->out->messages++;
    w->out->purged += r->purged_at_ms != 0;
    w->out->unchecked += w->unchecked;
    return true;
}

fb_err_t audit_verify(store_t *store, const fb_keys_t *broker, audit_result_t *out)
{
    memset(out, 0, sizeof *out); /* head starts as link(0): 32 zero bytes */
    s_walk_t w = {.store = store, .broker = broker, .out = out, .last_seq = 0};
    return store_export(store, s_check_record, &w);
}
