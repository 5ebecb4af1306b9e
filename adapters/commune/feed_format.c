/* feed_format.c - the public facts of a dwelling as text (see
 * feed_format.h). Owns the wording and number formats shared by the
 * calendar and the dwelling feeds; knows nothing of storage or HTTP. */
#include "feed_format.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *feed_format_enum(const ProtobufCEnumDescriptor *desc, int value, bool lower, char *buf,
                             size_t cap)
{
    const ProtobufCEnumValue *v = value ? protobuf_c_enum_descriptor_get_value(desc, value) : NULL;
    buf[0] = '\0';
    if (!v)
        return buf;
    /* Value names repeat the enum's name in UPPER_SNAKE ("QPV_STATUS_"),
     * which the descriptor gives as the common prefix of the UNSPECIFIED
     * value's name. */
    const ProtobufCEnumValue *zero = protobuf_c_enum_descriptor_get_value(desc, 0);
    size_t skip = 0;
    if (zero) {
        const char *end = strstr(zero->name, "UNSPECIFIED");
        size_t plen = end ? (size_t)(end - zero->name) : 0;
        if (strncmp(v->name, zero->name, plen) == 0)
            skip = plen;
    }
    snprintf(buf, cap, "%s", v->name + skip);
    for (char *p = buf; lower && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return buf;
}

/* Appends `piece` to the growing string *out, separated by `sep` when *out
 * is not empty. False on OOM (*out freed). */
static bool s_append(char **out, const char *sep, const char *piece)
{
    if (!piece || !*piece)
        return true;
    size_t have = strlen(*out), slen = **out ? strlen(sep) : 0, plen = strlen(piece);
    char *grown = realloc(*out, have + slen + plen + 1);
    if (!grown) {
        free(*out);
        *out = NULL;
        return false;
    }
    memcpy(grown + have, sep, slen);
    memcpy(grown + have + slen, piece, plen + 1);
    *out = grown;
    return true;
}

char *feed_format_address(const Fluxbus__V1__Address *address)
{
    char *out = strdup("");
    if (!out || !address)
        return out;
    for (size_t i = 0; i < address->n_lines && out; i++)
        s_append(&out, ", ", address->lines[i]);
    if (out && *address->postal_code)
        s_append(&out, ", ", address->postal_code);
    /* The city follows its postal code on the same segment: "74000 Annecy". */
    if (out && *address->city)
        s_append(&out, *address->postal_code ? " " : ", ", address->city);
    return out;
}

char *feed_format_x100(int64_t value, char sep, bool keep_zeros)
{
    char buf[48];
    /* Split with unsigned arithmetic: -INT64_MIN does not fit an int64_t. */
    uint64_t mag = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    unsigned long long whole = mag / 100u;
    unsigned cents = (unsigned)(mag % 100u);
    const char *sign = value < 0 ? "-" : "";
    if (keep_zeros)
        snprintf(buf, sizeof buf, "%s%llu%c%02u", sign, whole, sep, cents);
    else if (cents == 0)
        snprintf(buf, sizeof buf, "%s%llu", sign, whole);
    else if (cents % 10 == 0)
        snprintf(buf, sizeof buf, "%s%llu%c%u", sign, whole, sep, cents / 10);
    else
        snprintf(buf, sizeof buf, "%s%llu%c%02u", sign, whole, sep, cents);
    return strdup(buf);
}

/* True when y-m-d is a date of the Gregorian calendar (years 1..9999). */
static bool s_date_ok(const Fluxbus__V1__Date *d)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!d || d->year < 1 || d->year > 9999 || d->month < 1 || d->month > 12 || d->day < 1)
        return false;
    bool leap = (d->year % 4 == 0 && d->year % 100 != 0) || d->year % 400 == 0;
    if (d->month == 2 && d->day == 29)
        return leap;
    return d->day <= days[d->month - 1];
}

char *feed_format_date(const Fluxbus__V1__Date *date)
{
    char buf[32] = "";
    if (s_date_ok(date))
        snprintf(buf, sizeof buf, "%04d-%02d-%02d", (int)date->year, (int)date->month,
                 (int)date->day);
    return strdup(buf);
}

char *feed_format_date_fr(const Fluxbus__V1__Date *date)
{
    char buf[32] = "";
    if (s_date_ok(date))
        snprintf(buf, sizeof buf, "%02d/%02d/%04d", (int)date->day, (int)date->month,
                 (int)date->year);
    return strdup(buf);
}

/* Length of the UTF-8 sequence starting at p (1..4), or 0 when it is not a
 * well-formed one (RFC 3629: no overlong forms, no surrogates, <= U+10FFFF). */
static size_t s_utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    size_t n;
    unsigned cp;
    if ((p[0] & 0xE0) == 0xC0) {
        n = 2;
        cp = p[0] & 0x1Fu;
    } else if ((p[0] & 0xF0) == 0xE0) {
        n = 3;
        cp = p[0] & 0x0Fu;
    } else if ((p[0] & 0xF8) == 0xF0) {
        n = 4;
        cp = p[0] & 0x07u;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) /* also stops at the NUL */
            return 0;
        cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

bool feed_format_text_ok(const char *s)
{
    if (!s)
        return true;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x20 || *p == 0x7F)
            return false;
        size_t n = s_utf8_len(p);
        if (n == 0)
            return false;
        p += n;
    }
    return true;
}
