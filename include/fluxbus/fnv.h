/* fnv.h - FNV-1a, 64 bits: a fast hash of bytes for what defends nothing -
 * the slots of an in-memory table, a fingerprint for an HTTP ETag, an id
 * derived from names that are unique already. Never where someone could
 * gain by choosing two inputs with the same value: that is fb_sha256's job
 * (envelope.h). Header-only, so that any part links it. */
#ifndef FLUXBUS_FNV_H
#define FLUXBUS_FNV_H

#include <stddef.h>
#include <stdint.h>

/* The value to start from (FNV's offset basis). */
#define FB_FNV1A64_START UINT64_C(14695981039346656037)

/* h, continued over len bytes of data. */
static inline uint64_t fb_fnv1a64(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * UINT64_C(1099511628211);
    return h;
}

/* h, continued over the string s (without its terminator). */
static inline uint64_t fb_fnv1a64_str(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * UINT64_C(1099511628211);
    return h;
}

#endif
