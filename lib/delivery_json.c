/* delivery_json.c - the JSON form of a delivery (see delivery_json.h).
 *
 * Owns the layout of that JSON object, shared by `fluxbus tail` and the
 * adapters' outboxes and event logs. Does not own verification (the client
 * only hands out verified deliveries), opening households
 * (fb_seal_open_delivery) or the payload mapping (fb_json_from_message). */
#include <stdlib.h>

#include <sodium.h>

#include "fluxbus/catalog.h"
#include "fluxbus/codec.h"
#include "fluxbus/delivery_json.h"
#include "fluxbus/json.h"
#include "fluxbus/seal.h"

json_t *fb_json_base64(const uint8_t *data, size_t len)
{
    if (!data)
        return json_null();
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *text = malloc(cap);
    if (!text)
        return NULL;
    sodium_bin2base64(text, cap, data, len, sodium_base64_VARIANT_ORIGINAL);
    json_t *json = json_string(text);
    free(text);
    return json;
}

json_t *fb_json_hex(const uint8_t *data, size_t len)
{
    if (!data)
        return json_null();
    char *text = malloc(2 * len + 1);
    if (!text)
        return NULL;
    fb_hex_encode(data, len, text);
    json_t *json = json_string(text);
    free(text);
    return json;
}

static json_t *s_strings(char **items, size_t n)
{
    json_t *array = json_array();
    for (size_t i = 0; array && i < n; i++)
        json_array_append_new(array, json_string(items[i]));
    return array;
}

/* Adds "payload" (decoded) or, failing that, the raw bytes and why. */
static void s_add_payload(json_t *obj, const Fluxbus__V1__SignedBody *body)
{
    const fb_catalog_entry_t *entry = fb_catalog_by_type((int)body->type);
    ProtobufCMessage *msg = NULL;
    fb_err_t err = entry ? fb_codec_unpack(entry->desc, body->payload.data, body->payload.len,
                                           FB_DEFAULT_MAX_ENVELOPE, &msg)
                         : FB_ERR_UNKNOWN_TYPE;
    json_t *payload = err == FB_OK ? fb_json_from_message(msg) : NULL;
    fb_codec_free(msg);
    if (payload) {
        json_object_set_new(obj, "payload", payload);
        return;
    }
    json_object_set_new(obj, "payload", json_null());
    json_object_set_new(obj, "payload_b64", fb_json_base64(body->payload.data, body->payload.len));
    json_object_set_new(obj, "payload_error", json_string(fb_err_name(err ? err : FB_ERR_NOMEM)));
}

bool fb_delivery_json_household(json_t *obj, const fb_delivery_t *d, const fb_keys_t *keys)
{
    Fluxbus__V1__HouseholdDetails *household = NULL;
    fb_err_t err = fb_seal_open_delivery(d->envelope, d->envelope_len, keys, &household);
    if (err == FB_OK)
        json_object_set_new(obj, "household", fb_json_from_message(&household->base));
    else if (err != FB_ERR_NOT_FOUND)
        json_object_set_new(obj, "household_error", json_string(fb_err_name(err)));
    fb_seal_household_free(household);
    return err != FB_OK && err != FB_ERR_NOT_FOUND;
}

json_t *fb_delivery_json(const fb_delivery_t *d, const fb_keys_t *keys, bool raw, bool *unopened)
{
    const Fluxbus__V1__SignedBody *b = d->body;
    const fb_catalog_entry_t *entry = fb_catalog_by_type((int)b->type);
    json_t *obj = json_pack(
        "{s:I, s:o, s:s, s:o, s:o, s:o, s:s, s:I}", "store_seq", (json_int_t)d->store_seq,
        "message_id", fb_json_hex(b->message_id.data, b->message_id.len), "sender", b->sender,
        "type", entry ? json_string(entry->name) : json_integer(b->type), "recipients",
        s_strings(b->recipients, b->n_recipients), "topics", s_strings(b->topics, b->n_topics),
        "correlation_id", b->correlation_id, "created_at_ms", (json_int_t)b->created_at_ms);
    *unopened = false;
    if (!obj)
        return NULL;
    if (b->in_reply_to.len)
        json_object_set_new(obj, "in_reply_to",
                            fb_json_hex(b->in_reply_to.data, b->in_reply_to.len));
    s_add_payload(obj, b);
    *unopened = fb_delivery_json_household(obj, d, keys);
    if (raw)
        json_object_set_new(obj, "envelope_b64", fb_json_base64(d->envelope, d->envelope_len));
    return obj;
}
