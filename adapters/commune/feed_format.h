/* feed_format.h - how the commune adapter writes the public facts of a
 * dwelling as text, shared by the calendar (ics.c) and the dwelling feeds
 * (logements_feed.c) so both say the same thing the same way.
 *
 * Every function returns a new string (free() it) or NULL when out of
 * memory; none of them fails on odd input: an unset value gives "". */
#ifndef FLUXBUS_COMMUNE_FEED_FORMAT_H
#define FLUXBUS_COMMUNE_FEED_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "fluxbus/v1/common.pb-c.h"

/* The value name of an enum without its enum's prefix: "T3" for
 * TYPOLOGIE_T3, "IN_QPV" for QPV_STATUS_IN_QPV; lower-cased when `lower`
 * ("in_qpv"). "" for *_UNSPECIFIED (0) and for a value the descriptor does
 * not know (a newer sender): never a made-up word. Written to buf (cap
 * bytes), which is returned. */
const char *feed_format_enum(const ProtobufCEnumDescriptor *desc, int value, bool lower, char *buf,
                             size_t cap);

/* The street lines, postal code and city in one line:
 * "12 rue des Alpes, Bâtiment B, 74000 Annecy". */
char *feed_format_address(const Fluxbus__V1__Address *address);

/* A fixed-point number with two decimals (cents, hundredths of m2) written
 * with `sep` as the decimal mark, trailing zeros of the decimals kept for
 * money (`keep_zeros`: "412,30") and dropped otherwise ("65,4", "70"). */
char *feed_format_x100(int64_t value, char sep, bool keep_zeros);

/* "YYYY-MM-DD", or "" when the date is unset or not a calendar date. */
char *feed_format_date(const Fluxbus__V1__Date *date);

/* Same as feed_format_date, as "DD/MM/YYYY" (the French way, for text read
 * by people). */
char *feed_format_date_fr(const Fluxbus__V1__Date *date);

/* True when the NUL-terminated s is valid UTF-8 (no overlong forms, no
 * surrogates) without control characters (C0, DEL): checks a string from
 * the wire before it goes into a calendar, JSON or CSV. */
bool feed_format_text_ok(const char *s);

#endif
