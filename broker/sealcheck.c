/* sealcheck.c - refuses a Designation whose sealed household could not be
 * opened by the bailleur it is addressed to (see sealcheck.h).
 *
 * Owns: the rule that a sealed household names an attachment of its own
 * envelope and a current encryption key of one of the message's direct
 * recipients, and that no message carries an attachment its payload does
 * not name. Does not own: the digests themselves (envelope.c checked them
 * against the attachments before this runs), the key table (store.c), who
 * may send a Designation to whom (router.c). It reads, never writes. */
#include "sealcheck.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "fluxbus/codec.h"
#include "fluxbus/envelope.h"
#include "fluxbus/v1/designation.pb-c.h"

/* True when `digest` names one of the body's attachments. */
static bool s_names_attachment(const Fluxbus__V1__SignedBody *body, const ProtobufCBinaryData *d)
{
    for (size_t i = 0; i < body->n_attachment_digests; i++)
        if (body->attachment_digests[i].len == FB_DIGEST_BYTES &&
            sodium_memcmp(body->attachment_digests[i].data, d->data, FB_DIGEST_BYTES) == 0)
            return true;
    return false;
}

static bool s_is_recipient(const Fluxbus__V1__SignedBody *body, const char *actor)
{
    for (size_t i = 0; i < body->n_recipients; i++)
        if (strcmp(body->recipients[i], actor) == 0)
            return true;
    return false;
}

/* The checks on a decoded Designation that carries a sealed household. */
static fb_err_t s_check(store_t *store, const Fluxbus__V1__SignedBody *body,
                        const Fluxbus__V1__Designation *d, int64_t now_ms, char *detail,
                        size_t dlen)
{
    if (d->sealed_household_digest.len != FB_DIGEST_BYTES) {
        snprintf(detail, dlen, "sealed household digest is %zu bytes, not %d",
                 d->sealed_household_digest.len, FB_DIGEST_BYTES);
        return FB_ERR_NOT_AUTHORIZED;
    }
    if (!s_names_attachment(body, &d->sealed_household_digest)) {
        snprintf(detail, dlen, "sealed household: no attachment has its digest");
        return FB_ERR_NOT_AUTHORIZED;
    }
    /* One examining bailleur: a household sealed for it goes to it alone. */
    if (body->n_recipients != 1 || body->n_topics != 0) {
        snprintf(detail, dlen,
                 "a sealed household goes to exactly one recipient, not %zu + %zu "
                 "topic(s)",
                 body->n_recipients, body->n_topics);
        return FB_ERR_NOT_AUTHORIZED;
    }
    /* Retention finds the household by the vacancy it designates for. */
    if (!d->vacancy_id[0] || strcmp(body->correlation_id, d->vacancy_id) != 0) {
        snprintf(detail, dlen, "correlation_id must be the designation's vacancy_id (%.64s)",
                 d->vacancy_id);
        return FB_ERR_MALFORMED;
    }
    store_actor_t examiner;
    fb_err_t rc = store_actor_get(store, body->recipients[0], &examiner);
    if (rc != FB_OK && rc != FB_ERR_NOT_FOUND)
        return rc;
    if (rc == FB_ERR_NOT_FOUND || !store_list_has(examiner.roles, "bailleur")) {
        snprintf(detail, dlen,
                 "a sealed household is for the examining bailleur; %.127s is not one",
                 body->recipients[0]);
        return FB_ERR_NOT_AUTHORIZED;
    }
    store_key_t key;
    rc = store_enc_key_get(store, d->sealed_for_key_id, &key);
    if (rc == FB_ERR_NOT_FOUND) {
        snprintf(detail, dlen, "sealed household: %.32s is not a registered encryption key",
                 d->sealed_for_key_id);
        return FB_ERR_NOT_AUTHORIZED;
    }
    if (rc != FB_OK)
        return rc;
    if (!s_is_recipient(body, key.actor)) {
        snprintf(detail, dlen,
                 "sealed household: key %s is the encryption key of %.127s, not of "
                 "a recipient",
                 key.key_id, key.actor);
        return FB_ERR_NOT_AUTHORIZED;
    }
    if (!store_key_valid_at(&key, now_ms)) {
        snprintf(detail, dlen,
                 "sealed household: encryption key %s of %.127s is revoked or not "
                 "valid now",
                 key.key_id, key.actor);
        return FB_ERR_NOT_AUTHORIZED;
    }
    return FB_OK;
}

fb_err_t sealcheck_designation(store_t *store, const Fluxbus__V1__SignedBody *body, int64_t now_ms,
                               char *detail, size_t dlen)
{
    /* The broker keeps only attachments a payload names: nothing can ride
     * along unseen (and escape the retention purge). */
    size_t named = 0;
    fb_err_t rc = FB_OK;
    if (body->type == FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_DESIGNATION) {
        ProtobufCMessage *msg = NULL;
        if (fb_codec_unpack(&fluxbus__v1__designation__descriptor, body->payload.data,
                            body->payload.len, body->payload.len, &msg) != FB_OK) {
            snprintf(detail, dlen, "payload is not a valid Designation");
            return FB_ERR_MALFORMED;
        }
        const Fluxbus__V1__Designation *d = (const Fluxbus__V1__Designation *)msg;
        if (d->sealed_household_digest.len) {
            named = 1;
            rc = s_check(store, body, d, now_ms, detail, dlen);
        }
        fb_codec_free(msg);
    }
    if (rc == FB_OK && body->n_attachment_digests > named) {
        snprintf(detail, dlen, "%zu attachment(s) that the payload does not name",
                 body->n_attachment_digests - named);
        rc = FB_ERR_NOT_AUTHORIZED;
    }
    return rc;
}
