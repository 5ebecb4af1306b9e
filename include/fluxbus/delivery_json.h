/* fluxbus/delivery_json.h - the JSON form of a received delivery, as
 * `fluxbus tail` prints it and the adapters write it to their outboxes:
 *   {"store_seq", "message_id" (hex), "sender", "type" (name), "recipients",
 *    "topics", "correlation_id", "created_at_ms", ["in_reply_to"],
 *    "payload" {...}, ["household" {...} | "household_error"],
 *    ["envelope_b64"]}
 * A payload that does not decode is given as "payload": null with
 * "payload_b64" and "payload_error". */
#ifndef FLUXBUS_DELIVERY_JSON_H
#define FLUXBUS_DELIVERY_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fluxbus/client.h"
#include "fluxbus/keys.h"

#ifdef __cplusplus
extern "C" {
#endif

/* JSON string of `len` bytes in standard base64 / lowercase hex
 * (json_null() for NULL data; NULL on OOM). */
json_t *fb_json_base64(const uint8_t *data, size_t len);
json_t *fb_json_hex(const uint8_t *data, size_t len);

/* The JSON of delivery `d` (new reference; NULL if a string in it is not
 * UTF-8, or on OOM). A Designation whose household is sealed for `keys`'
 * encryption key gets "household" (opened); one sealed for another key, or
 * altered, gets "household_error" and *unopened is set: such a delivery must
 * not be acknowledged, so that it reaches a key file that can open it. With
 * `raw`, "envelope_b64" holds the exact signed envelope bytes. */
json_t *fb_delivery_json(const fb_delivery_t *d, const fb_keys_t *keys, bool raw, bool *unopened);

/* Adds "household" / "household_error" to `obj` as fb_delivery_json does;
 * returns true when a household was left unopened. */
bool fb_delivery_json_household(json_t *obj, const fb_delivery_t *d, const fb_keys_t *keys);

#ifdef __cplusplus
}
#endif
#endif
