/* fuzz_envelope - libFuzzer target: any bytes through the receive path of an
 * envelope (decode with cap, verify, parse body, decode payload by catalog,
 * payload to JSON), and its skeleton. Seeds are signed with the fixed key of
 * FUZZ_SENDER (fuzz_support.h), so mutations start from envelopes that
 * verify. Invariants, beyond "nothing crashes, leaks or reads out of bounds":
 *   - the skeleton of a decodable envelope decodes, has no attachments and
 *     verifies exactly when the envelope does (body and signature unchanged);
 *   - a body that parses with its attachments also parses from the skeleton,
 *     and each of its digests names one of the envelope's attachments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"

/* Decodes the payload of body by catalog and writes it as JSON. */
static void s_payload(const Fluxbus__V1__SignedBody *body)
{
    const fb_catalog_entry_t *entry = fb_catalog_by_type((int)body->type);
    ProtobufCMessage *payload = NULL;
    if (entry && fb_codec_unpack(entry->desc, body->payload.data, body->payload.len,
                                 FB_DEFAULT_MAX_ENVELOPE, &payload) == FB_OK) {
        json_decref(fb_json_from_message(payload));
        fb_codec_free(payload);
    }
}

/* The skeleton of the envelope in data keeps body, signature and key_id. */
static void s_check_skeleton(const uint8_t *data, size_t size, const fb_keys_t *keys,
                             fb_err_t verified, const Fluxbus__V1__SignedBody *body)
{
    uint8_t *skel = NULL;
    size_t skel_len = 0;
    Fluxbus__V1__Envelope *env = NULL;
    Fluxbus__V1__SignedBody *again = NULL;
    if (fb_envelope_skeleton(data, size, FB_DEFAULT_MAX_ENVELOPE, &skel, &skel_len) != FB_OK)
        fuzz_fail("skeleton of a decodable envelope failed");
    if (fb_envelope_decode(skel, skel_len, FB_DEFAULT_MAX_ENVELOPE, &env) != FB_OK)
        fuzz_fail("skeleton does not decode");
    if (env->n_attachments != 0)
        fuzz_fail("skeleton kept %zu attachments", env->n_attachments);
    if (fb_envelope_verify(env, keys->sign_pk) != verified)
        fuzz_fail("skeleton and envelope verify differently");
    if (body && fb_envelope_parse_skeleton(env, &again) != FB_OK)
        fuzz_fail("body parses from the envelope but not from its skeleton");
    fb_body_free(again);
    fb_envelope_free(env);
    free(skel);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fb_keys_t keys;
    if (!keys.has_secret)
        fuzz_keys_fixed(&keys, FUZZ_SENDER);
    Fluxbus__V1__Envelope *env = NULL;
    if (fb_envelope_decode(data, size, FB_DEFAULT_MAX_ENVELOPE, &env) != FB_OK)
        return 0;
    fb_err_t verified = fb_envelope_verify(env, keys.sign_pk);
    /* Parse whether or not it verified: a parser bug behind a valid
     * signature is still a bug. */
    Fluxbus__V1__SignedBody *body = NULL;
    if (fb_envelope_parse_body(env, &body) == FB_OK) {
        for (size_t i = 0; i < body->n_attachment_digests; i++)
            if (!fb_envelope_attachment(env, body->attachment_digests[i].data,
                                        body->attachment_digests[i].len))
                fuzz_fail("digest %zu of a parsed body names no attachment", i);
        s_payload(body);
    }
    s_check_skeleton(data, size, &keys, verified, body);
    fb_body_free(body);
    fb_envelope_free(env);
    return 0;
}
