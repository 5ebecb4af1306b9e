/* fluxbus/codec.h - the only place libfluxbus packs and unpacks protobuf.
 *
 * Every unpack checks a size cap BEFORE handing bytes to protobuf-c, so a
 * peer cannot make us allocate for an oversized message. Unpacked messages
 * are freed with fb_codec_free(). */
#ifndef FLUXBUS_CODEC_H
#define FLUXBUS_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#include "fluxbus/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FB_DEFAULT_MAX_ENVELOPE (256u * 1024u)

/* Unpacks `len` bytes as a message of `desc`. Returns FB_ERR_TOO_LARGE when
 * len > cap (nothing is parsed), FB_ERR_MALFORMED when protobuf-c refuses the
 * bytes or they hold a field numbered 0 (which protobuf-c would read but not
 * write back), FB_OK with *out set otherwise (caller frees with
 * fb_codec_free). Unknown fields are kept and packed again. */
fb_err_t fb_codec_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                         size_t cap, ProtobufCMessage **out) __attribute__((warn_unused_result));

/* Packs msg into a fresh buffer (caller frees *out with free()). */
fb_err_t fb_codec_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *out_len)
    __attribute__((warn_unused_result));

/* Frees a message from fb_codec_unpack; safe on NULL. */
void fb_codec_free(ProtobufCMessage *msg);

#ifdef __cplusplus
}
#endif
#endif
