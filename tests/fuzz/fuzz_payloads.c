/* fuzz_payloads - libFuzzer target: each message's decoding. The first byte
 * picks a message of fuzz_types() (every domain message, the bus's own
 * messages and the sealed household); the rest is unpacked through the codec
 * with its size cap. What decodes must then keep these invariants:
 *   - packing is stable: pack(unpack(pack(m))) == pack(m), byte for byte
 *     (unknown fields included: protobuf-c keeps them);
 *   - its JSON form survives JSON text: dump then load gives the same JSON;
 *   - that JSON converts back to the message, unless it names an enum value
 *     the schema does not know (written as a number, refused on input), and
 *     the message it gives has the same JSON form and packs and unpacks.
 * Not asserted: bytes equal after JSON (unknown fields and non-UTF-8 string
 * bytes legitimately do not survive it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"

/* pack(m), and checks that unpacking and packing that again changes nothing. */
static void s_check_pack_stable(const fuzz_type_t *t, const ProtobufCMessage *m)
{
    uint8_t *once = NULL, *twice = NULL;
    size_t once_len = 0, twice_len = 0;
    ProtobufCMessage *back = NULL;
    if (fb_codec_pack(m, &once, &once_len) != FB_OK)
        fuzz_fail("%s: pack failed", t->name);
    if (fb_codec_unpack(t->desc, once, once_len, once_len, &back) != FB_OK)
        fuzz_fail("%s: what we packed does not unpack", t->name);
    if (fb_codec_pack(back, &twice, &twice_len) != FB_OK)
        fuzz_fail("%s: pack failed", t->name);
    if (once_len != twice_len || memcmp(once, twice, once_len) != 0)
        fuzz_fail("%s: packing is not stable (%zu then %zu bytes)", t->name, once_len, twice_len);
    fb_codec_free(back);
    free(once);
    free(twice);
}

/* The JSON form of m through JSON text and back to a message. */
static void s_check_json(const fuzz_type_t *t, const ProtobufCMessage *m)
{
    json_t *json = fb_json_from_message(m);
    if (!json)
        fuzz_fail("%s: no JSON form", t->name);
    char *text = json_dumps(json, JSON_COMPACT);
    json_error_t jerr;
    json_t *reloaded = text ? json_loads(text, 0, &jerr) : NULL;
    if (!reloaded || !json_equal(json, reloaded))
        fuzz_fail("%s: JSON text does not round-trip: %s", t->name, text ? text : "(null)");

    ProtobufCMessage *again = NULL;
    char why[256];
    if (fb_json_to_message(t->desc, reloaded, &again, why, sizeof why) != FB_OK) {
        if (!strstr(why, "unknown enum value"))
            fuzz_fail("%s: own JSON refused (%s): %s", t->name, why, text);
    } else {
        json_t *json2 = fb_json_from_message(again);
        if (!json2 || !json_equal(json, json2))
            fuzz_fail("%s: JSON -> message -> JSON differs: %s", t->name, text);
        s_check_pack_stable(t, again);
        json_decref(json2);
        fb_json_free_message(again);
    }
    free(text);
    json_decref(reloaded);
    json_decref(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    const fuzz_type_t *types = fuzz_types(&n);
    if (size == 0)
        return 0;
    const fuzz_type_t *t = &types[data[0] % n];
    ProtobufCMessage *m = NULL;
    if (fb_codec_unpack(t->desc, data + 1, size - 1, FB_DEFAULT_MAX_ENVELOPE, &m) != FB_OK)
        return 0;
    s_check_pack_stable(t, m);
    s_check_json(t, m);
    fb_codec_free(m);
    return 0;
}
