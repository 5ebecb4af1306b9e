/* codec.c - the one place where libfluxbus calls protobuf-c to pack and
 * unpack. Invariant: no bytes reach protobuf_c_message_unpack() unless their
 * length is within the caller's cap. */
#include "fluxbus/codec.h"

#include <stdlib.h>

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
