/* fluxbus/json.h - JSON <-> protobuf for any message, driven by the protobuf-c
 * descriptors (no hand-written mapping per message).
 *
 * Mapping (see docs/PROTOCOL.md, "JSON form"): field names as in the .proto
 * (snake_case); enums as their value name (the full proto name, e.g.
 * "TYPOLOGIE_T3") or as a number; bytes as standard base64; 64-bit integers as
 * JSON numbers (strings of digits accepted on input); nested messages as
 * objects; repeated fields as arrays; proto3 fields at their default value are
 * left out on output. Unknown JSON members are an error that names the field. */
#ifndef FLUXBUS_JSON_H
#define FLUXBUS_JSON_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>
#include <jansson.h>

#include "fluxbus/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Builds a message of `desc` from a JSON object. On error returns
 * FB_ERR_PARSE (or FB_ERR_NOMEM) and, if errbuf is not NULL, writes a one-line
 * reason naming the field path, e.g. "logement.typologie: unknown enum value
 * \"T9\"". On success *out is a message to free with fb_json_free_message(). */
fb_err_t fb_json_to_message(const ProtobufCMessageDescriptor *desc, const json_t *json,
                            ProtobufCMessage **out, char *errbuf, size_t errlen)
    __attribute__((warn_unused_result));

/* JSON object for a message (new reference; NULL on OOM). */
json_t *fb_json_from_message(const ProtobufCMessage *msg);

/* Frees a message built by fb_json_to_message(); safe on NULL. */
void fb_json_free_message(ProtobufCMessage *msg);

#ifdef __cplusplus
}
#endif
#endif
