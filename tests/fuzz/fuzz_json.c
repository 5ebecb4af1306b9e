/* fuzz_json - libFuzzer target: any text as JSON for every message the bus
 * decodes (the path `fluxbus send` and the adapters take). Invariants for
 * what converts, beyond "nothing crashes or leaks":
 *   - the message's own JSON form converts again, to the same JSON form
 *     (reader and writer agree; the input itself may differ: zero values,
 *     enum numbers and "42" for 42 are written back canonically);
 *   - what packs unpacks, with the same JSON form. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_support.h"

/* JSON form of msg through packing and unpacking. */
static json_t *s_through_bytes(const fuzz_type_t *t, const ProtobufCMessage *msg)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    ProtobufCMessage *back = NULL;
    if (fb_codec_pack(msg, &bytes, &len) != FB_OK)
        fuzz_fail("%s: pack failed", t->name);
    if (fb_codec_unpack(t->desc, bytes, len, len, &back) != FB_OK)
        fuzz_fail("%s: what we packed does not unpack", t->name);
    json_t *json = fb_json_from_message(back);
    fb_codec_free(back);
    free(bytes);
    return json;
}

static void s_check(const fuzz_type_t *t, const ProtobufCMessage *msg)
{
    char why[256];
    json_t *form = fb_json_from_message(msg);
    ProtobufCMessage *again = NULL;
    if (!form || fb_json_to_message(t->desc, form, &again, why, sizeof why) != FB_OK)
        fuzz_fail("%s: own JSON form refused: %s", t->name, form ? why : "no JSON form");
    json_t *form2 = fb_json_from_message(again);
    json_t *bytes_form = s_through_bytes(t, msg);
    if (!json_equal(form, form2) || !json_equal(form, bytes_form))
        fuzz_fail("%s: JSON form changed through JSON or bytes", t->name);
    json_decref(bytes_form);
    json_decref(form2);
    fb_json_free_message(again);
    json_decref(form);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *json = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
    if (!json)
        return 0;
    size_t n = 0;
    const fuzz_type_t *types = fuzz_types(&n);
    for (size_t i = 0; i < n; i++) {
        ProtobufCMessage *msg = NULL;
        char why[256];
        if (fb_json_to_message(types[i].desc, json, &msg, why, sizeof why) != FB_OK)
            continue;
        s_check(&types[i], msg);
        fb_json_free_message(msg);
    }
    json_decref(json);
    return 0;
}
