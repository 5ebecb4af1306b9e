/* codec.c - the one place where libfluxbus calls protobuf-c to pack and
 * unpack. Invariants: no bytes reach protobuf_c_message_unpack() unless their
 * length is within the caller's cap; what unpacks packs to bytes that unpack
 * again (so re-encoding a received message, e.g. an envelope's skeleton,
 * never makes undecodable bytes). */
#include "fluxbus/codec.h"

#include <stdbool.h>
#include <stdlib.h>

/* True when msg, or a message inside it, kept an unknown field numbered 0.
 * Field number 0 is not valid protobuf, yet protobuf-c 1.4 reads it from an
 * overlong tag (0x80 0x00) as an unknown field; it writes it back as the tag
 * byte 0x00, which it refuses. Found by tests/fuzz/fuzz_payloads. */
static bool s_has_field_zero(const ProtobufCMessage *msg)
{
    for (unsigned i = 0; i < msg->n_unknown_fields; i++)
        if (msg->unknown_fields[i].tag == 0)
            return true;
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const char *base = (const char *)msg;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *)(base + f->offset);
            for (size_t j = 0; j < n; j++)
                if (items[j] && s_has_field_zero(items[j]))
                    return true;
            continue;
        }
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue; /* another member of the oneof is set */
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)(base + f->offset);
        if (sub && s_has_field_zero(sub))
            return true;
    }
    return false;
}

fb_err_t fb_codec_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                         size_t cap, ProtobufCMessage **out)
{
    *out = NULL;
    if (!desc || (!data && len))
        return FB_ERR_INVALID;
    if (len > cap)
        return FB_ERR_TOO_LARGE;
    /* protobuf-c reads nothing for len 0 but wants a pointer. */
    static const uint8_t s_empty[1] = {0};
    ProtobufCMessage *msg = protobuf_c_message_unpack(desc, NULL, len, data ? data : s_empty);
    if (!msg)
        return FB_ERR_MALFORMED;
    if (s_has_field_zero(msg)) {
        protobuf_c_message_free_unpacked(msg, NULL);
        return FB_ERR_MALFORMED;
    }
    *out = msg;
    return FB_OK;
}

fb_err_t fb_codec_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    size_t n = protobuf_c_message_get_packed_size(msg);
    /* malloc(0) may return NULL: always ask for at least one byte. */
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return FB_ERR_NOMEM;
    protobuf_c_message_pack(msg, buf);
    *out = buf;
    *out_len = n;
    return FB_OK;
}

void fb_codec_free(ProtobufCMessage *msg)
{
    if (msg)
        protobuf_c_message_free_unpacked(msg, NULL);
}
