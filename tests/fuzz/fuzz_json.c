/* fuzz_json - libFuzzer target: any text as JSON for every message of the
 * catalog (the path `fluxbus send` and the adapters take), then back to JSON
 * and through pack/unpack. Nothing may crash or leak. */
#include <stdint.h>
#include <stdlib.h>

#include "fluxbus/fluxbus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *json = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
    if (!json)
        return 0;
    size_t n = 0;
    const fb_catalog_entry_t *all = fb_catalog_all(&n);
    for (size_t i = 0; i < n; i++) {
        ProtobufCMessage *msg = NULL;
        char why[256];
        if (fb_json_to_message(all[i].desc, json, &msg, why, sizeof why) != FB_OK)
            continue;
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (fb_codec_pack(msg, &bytes, &len) == FB_OK) {
            ProtobufCMessage *back = NULL;
            if (fb_codec_unpack(all[i].desc, bytes, len, len, &back) != FB_OK)
                abort(); /* what we packed must unpack */
            json_decref(fb_json_from_message(back));
            fb_codec_free(back);
            free(bytes);
        }
        fb_json_free_message(msg);
    }
    json_decref(json);
    return 0;
}
