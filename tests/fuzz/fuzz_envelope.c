/* fuzz_envelope - libFuzzer target: any bytes through the receive path of an
 * envelope (decode with cap, verify, parse body, decode payload by catalog).
 * Nothing may crash, leak or read out of bounds whatever the input. */
#include <stdint.h>
#include <stdlib.h>

#include "fluxbus/fluxbus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fb_keys_t keys;
    static int ready = 0;
    if (!ready) {
        if (fb_keys_generate(&keys, "bailleur:552046955") != FB_OK)
            abort();
        ready = 1;
    }
    Fluxbus__V1__Envelope *env = NULL;
    if (fb_envelope_decode(data, size, FB_DEFAULT_MAX_ENVELOPE, &env) != FB_OK)
        return 0;
    /* Verification fails for fuzzed bytes; exercise parsing as if it had not,
     * since a parser bug behind a valid signature is still a bug. */
    (void)fb_envelope_verify(env, keys.sign_pk);
    Fluxbus__V1__SignedBody *body = NULL;
    if (fb_envelope_parse_body(env, &body) == FB_OK) {
        const fb_catalog_entry_t *entry = fb_catalog_by_type((int)body->type);
        ProtobufCMessage *payload = NULL;
        if (entry && fb_codec_unpack(entry->desc, body->payload.data, body->payload.len,
                                     FB_DEFAULT_MAX_ENVELOPE, &payload) == FB_OK) {
            json_t *j = fb_json_from_message(payload);
            json_decref(j);
            fb_codec_free(payload);
        }
        fb_body_free(body);
    }
    fb_envelope_free(env);
    return 0;
}
