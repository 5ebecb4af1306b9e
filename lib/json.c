/* json.c - JSON <-> protobuf-c for any message, driven only by the
 * descriptors that protoc-c generates (no code per message type).
 *
 * Owns: the JSON form of every fluxbus message. Reading walks a jansson
 * object member by member, looks each member up by its .proto field name and
 * writes the value straight into the generated C struct at field->offset;
 * writing walks the descriptor's fields in order. Does not own: packing or
 * unpacking protobuf (codec.c), signing (envelope.c).
 *
 * The mapping, field type by field type:
 *   int32, sint32, sfixed32,   JSON integer, or a string of decimal digits
 *   uint32, fixed32,           with an optional leading '-' ("42", "-7");
 *   int64 ... fixed64          the value must fit the field's type. Output
 *                              is a JSON integer, except uint64 values above
 *                              LLONG_MAX (jansson's integer) which are
 *                              written as a string of digits.
 *   float, double              JSON number, or "NaN", "Infinity", "-Infinity"
 *                              (JSON has no literal for these).
 *   bool                       true / false.
 *   string                     JSON string; no NUL character (C strings).
 *   bytes                      standard base64 with padding (RFC 4648 §4).
 *   enum                       the value name exactly as in the .proto
 *                              ("MESSAGE_TYPE_RECEIPT"), or the number of a
 *                              defined value. Output is the name; a value the
 *                              schema does not know is written as a number.
 *   message                    JSON object.
 *   repeated X                 JSON array of X. A map<K,V> is, for protobuf-c,
 *                              a repeated entry message: [{"key":…,"value":…}].
 *   null (any field)           same as leaving the member out.
 *
 * Presence on output: proto3 plain fields are left out at their zero value;
 * proto2 `optional` fields are written iff their has_ flag is set (strings
 * and messages: iff not NULL and not the default); a oneof member is written
 * iff the oneof's case field names it; repeated fields iff they have
 * elements. (protoc-c 1.4 refuses proto3 `optional`, so it never appears.)
 *
 * Invariants: a message under construction is always in a state that
 * protobuf_c_message_free_unpacked(msg, NULL) can free - every pointer in it
 * is NULL, a static default, or malloc'd by us, and a repeated field's count
 * never exceeds the number of initialised elements - so every error path is a
 * single free. Nesting is limited to JSON_MAX_DEPTH messages in both
 * directions, so hostile input cannot exhaust the stack. */
#include "fluxbus/json.h"

#include <assert.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define JSON_MAX_DEPTH 32
#define JSON_PATH_MAX 1024

/* State of one fb_json_to_message() call: where we are, for error messages. */
typedef struct {
    fb_err_t err;
    char *errbuf;
    size_t errlen;
    char path[JSON_PATH_MAX]; /* "candidats[1].rang" */
    size_t path_len;
} json_reader_t;

static int s_read_message(json_reader_t *self, const ProtobufCMessageDescriptor *desc,
                          const json_t *json, int depth, ProtobufCMessage **out);
static json_t *s_write_message(const ProtobufCMessage *msg, int depth);

/* Address of the struct member at `offset` inside a message. */
static void *s_member(void *msg, unsigned offset)
{
    return (char *)msg + offset;
}

static const void *s_member_const(const void *msg, unsigned offset)
{
    return (const char *)msg + offset;
}

/* Records the first error as "<path>: <reason>" (just the reason at the
 * root). Always returns -1 so callers can `return s_fail(...)`. */
__attribute__((format(printf, 3, 4))) static int s_fail(json_reader_t *self, fb_err_t err,
                                                        const char *fmt, ...)
{
    if (self->err != FB_OK)
        return -1;
    self->err = err;
    if (!self->errbuf || self->errlen == 0)
        return -1;
    char reason[192];
    va_list args;
    va_start(args, fmt);
    vsnprintf(reason, sizeof reason, fmt, args);
    va_end(args);
    if (self->path_len == 0) {
        snprintf(self->errbuf, self->errlen, "%s", reason);
        return -1;
    }
    /* A path too long to leave room for the reason keeps only its tail:
     * the reason and the innermost field are what the reader needs. */
    const char *path = self->path;
    const char *cut = "";
    size_t room = self->errlen > strlen(reason) + 6 ? self->errlen - strlen(reason) - 6 : 0;
    if (self->path_len > room && room > 0) {
        path += self->path_len - room;
        cut = "...";
    }
    snprintf(self->errbuf, self->errlen, "%s%s: %s", cut, path, reason);
    return -1;
}

/* Appends ".name" (or "[index]" when name is NULL) to the path; returns the
 * old length for s_path_pop. A path too long for the buffer is cut short:
 * it only ever feeds an error message. */
static size_t s_path_push(json_reader_t *self, const char *name, size_t index)
{
    size_t old = self->path_len;
    size_t room = sizeof self->path - old;
    int n;
    if (name)
        n = snprintf(self->path + old, room, "%s%s", old ? "." : "", name);
    else
        n = snprintf(self->path + old, room, "[%zu]", index);
    if (n < 0)
        n = 0;
    self->path_len = (size_t)n < room ? old + (size_t)n : sizeof self->path - 1;
    return old;
}

static void s_path_pop(json_reader_t *self, size_t old)
{
    self->path_len = old;
    self->path[old] = '\0';
}

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 if the bytes
 * there are not one: overlong forms, surrogates and code points above
 * U+10FFFF are refused, as jansson does. */
static size_t s_utf8_seq_len(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else
        return 0;
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static bool s_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = s_utf8_seq_len(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* Name of a field type, for error messages. */
static const char *s_type_name(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
        return "int32";
    case PROTOBUF_C_TYPE_SINT32:
        return "sint32";
    case PROTOBUF_C_TYPE_SFIXED32:
        return "sfixed32";
    case PROTOBUF_C_TYPE_INT64:
        return "int64";
    case PROTOBUF_C_TYPE_SINT64:
        return "sint64";
    case PROTOBUF_C_TYPE_SFIXED64:
        return "sfixed64";
    case PROTOBUF_C_TYPE_UINT32:
        return "uint32";
    case PROTOBUF_C_TYPE_FIXED32:
        return "fixed32";
    case PROTOBUF_C_TYPE_UINT64:
        return "uint64";
    case PROTOBUF_C_TYPE_FIXED64:
        return "fixed64";
    case PROTOBUF_C_TYPE_FLOAT:
        return "float";
    case PROTOBUF_C_TYPE_DOUBLE:
        return "double";
    case PROTOBUF_C_TYPE_BOOL:
        return "bool";
    case PROTOBUF_C_TYPE_ENUM:
        return "enum";
    case PROTOBUF_C_TYPE_STRING:
        return "string";
    case PROTOBUF_C_TYPE_BYTES:
        return "bytes";
    case PROTOBUF_C_TYPE_MESSAGE:
        return "message";
    }
    return "?";
}

/* Size of one element of a repeated field of this type in the C array. */
static size_t s_elem_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int32_t);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(int64_t);
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* True for fields whose presence is a separate has_<name> flag at
 * quantifier_offset: proto2 optional scalars and bytes. Optional strings and
 * messages have none (NULL or the default pointer means absent); oneof
 * members use the case field instead. */
static bool s_has_flag(const ProtobufCFieldDescriptor *field)
{
    return field->label == PROTOBUF_C_LABEL_OPTIONAL &&
           !(field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && field->type != PROTOBUF_C_TYPE_STRING &&
           field->type != PROTOBUF_C_TYPE_MESSAGE;
}

/* ---------------------------------------------------------------- reading */

/* Reads a JSON integer or a string of decimal digits as sign + magnitude, so
 * that the whole int64 and uint64 ranges fit. */
static int s_read_integer(json_reader_t *self, const json_t *json, ProtobufCType type, bool *neg,
                          uint64_t *mag)
{
    if (json_is_integer(json)) {
        json_int_t v = json_integer_value(json);
        *neg = v < 0;
        /* -(v + 1) + 1 avoids negating LLONG_MIN. */
        *mag = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
        return 0;
    }
    if (!json_is_string(json))
        return s_fail(self, FB_ERR_PARSE, "expected an integer");
    const char *s = json_string_value(json);
    size_t len = json_string_length(json);
    size_t i = 0;
    *neg = len > 0 && s[0] == '-';
    if (*neg)
        i++;
    if (i == len)
        return s_fail(self, FB_ERR_PARSE, "expected an integer");
    *mag = 0;
    bool overflow = false;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return s_fail(self, FB_ERR_PARSE, "expected an integer");
        unsigned digit = (unsigned)(s[i] - '0');
        if (*mag > (UINT64_MAX - digit) / 10)
            overflow = true; /* keep scanning: a non-digit later is a type error */
        else
            *mag = *mag * 10 + digit;
    }
    if (overflow)
        return s_fail(self, FB_ERR_PARSE, "%s is out of range for %s", s, s_type_name(type));
    return 0;
}

static int s_read_signed(json_reader_t *self, const json_t *json, ProtobufCType type, int64_t min,
                         int64_t max, int64_t *out)
{
    bool neg;
    uint64_t mag;
    if (s_read_integer(self, json, type, &neg, &mag) != 0)
        return -1;
    bool ok;
    if (neg) {
        ok = mag <= (uint64_t)INT64_MAX + 1;
        *out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    } else {
        ok = mag <= (uint64_t)INT64_MAX;
        *out = (int64_t)mag;
    }
    if (!ok || *out < min || *out > max)
        return s_fail(self, FB_ERR_PARSE, "%s%" PRIu64 " is out of range for %s", neg ? "-" : "",
                      mag, s_type_name(type));
    return 0;
}

static int s_read_unsigned(json_reader_t *self, const json_t *json, ProtobufCType type,
                           uint64_t max, uint64_t *out)
{
    bool neg;
    uint64_t mag;
    if (s_read_integer(self, json, type, &neg, &mag) != 0)
        return -1;
    if ((neg && mag != 0) || mag > max)
        return s_fail(self, FB_ERR_PARSE, "%s%" PRIu64 " is out of range for %s", neg ? "-" : "",
                      mag, s_type_name(type));
    *out = mag;
    return 0;
}

static int s_read_double(json_reader_t *self, const json_t *json, ProtobufCType type, double *out)
{
    if (json_is_number(json)) {
        *out = json_number_value(json);
    } else if (json_is_string(json)) {
        const char *s = json_string_value(json);
        if (strcmp(s, "NaN") == 0)
            *out = NAN;
        else if (strcmp(s, "Infinity") == 0)
            *out = INFINITY;
        else if (strcmp(s, "-Infinity") == 0)
            *out = -INFINITY;
        else
            return s_fail(self, FB_ERR_PARSE, "expected a number");
        return 0;
    } else
        return s_fail(self, FB_ERR_PARSE, "expected a number");
    if (type == PROTOBUF_C_TYPE_FLOAT && fabs(*out) > FLT_MAX)
        return s_fail(self, FB_ERR_PARSE, "%g is out of range for float", *out);
    return 0;
}

static int s_read_enum(json_reader_t *self, const ProtobufCEnumDescriptor *edesc,
                       const json_t *json, int32_t *out)
{
    const ProtobufCEnumValue *ev = NULL;
    if (json_is_string(json)) {
        const char *name = json_string_value(json);
        /* A name with an embedded NUL must not match on its prefix. */
        if (strlen(name) == json_string_length(json))
            ev = protobuf_c_enum_descriptor_get_value_by_name(edesc, name);
        if (!ev)
            return s_fail(self, FB_ERR_PARSE, "unknown enum value \"%s\"", name);
    } else if (json_is_integer(json)) {
        json_int_t v = json_integer_value(json);
        if (v >= INT32_MIN && v <= INT32_MAX)
            ev = protobuf_c_enum_descriptor_get_value(edesc, (int)v);
        if (!ev)
            return s_fail(self, FB_ERR_PARSE, "unknown enum value %" JSON_INTEGER_FORMAT, v);
    } else
        return s_fail(self, FB_ERR_PARSE, "expected an enum name or number");
    *out = ev->value;
    return 0;
}

static int s_read_string(json_reader_t *self, const json_t *json, char **out)
{
    if (!json_is_string(json))
        return s_fail(self, FB_ERR_PARSE, "expected a string");
    const char *s = json_string_value(json);
    size_t len = json_string_length(json);
    if (memchr(s, '\0', len))
        return s_fail(self, FB_ERR_PARSE, "string contains a NUL character");
    /* jansson checks UTF-8 when parsing, but not in json_string_nocheck(). */
    if (!s_utf8_valid(s, len))
        return s_fail(self, FB_ERR_PARSE, "string is not valid UTF-8");
    char *copy = malloc(len + 1);
    if (!copy)
        return s_fail(self, FB_ERR_NOMEM, "out of memory");
    memcpy(copy, s, len + 1);
    *out = copy;
    return 0;
}

static int s_read_bytes(json_reader_t *self, const json_t *json, ProtobufCBinaryData *out)
{
    if (!json_is_string(json))
        return s_fail(self, FB_ERR_PARSE, "expected a base64 string");
    const char *b64 = json_string_value(json);
    size_t b64_len = json_string_length(json);
    if (b64_len == 0) {
        out->len = 0;
        out->data = NULL;
        return 0;
    }
    /* Padded base64: every 4 characters give at most 3 bytes. */
    size_t max = b64_len / 4 * 3 + 3;
    uint8_t *bin = malloc(max);
    if (!bin)
        return s_fail(self, FB_ERR_NOMEM, "out of memory");
    size_t bin_len = 0;
    if (sodium_base642bin(bin, max, b64, b64_len, NULL, &bin_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(bin);
        return s_fail(self, FB_ERR_PARSE, "invalid base64");
    }
    if (bin_len == 0) {
        free(bin);
        bin = NULL;
    }
    out->len = bin_len;
    out->data = bin;
    return 0;
}

/* Reads one value of the field's type into dst (the struct member, or one
 * element of a repeated field's array). Allocates only on success, so a
 * failure leaves dst as it was. */
static int s_read_value(json_reader_t *self, const ProtobufCFieldDescriptor *field,
                        const json_t *json, void *dst, int depth)
{
    int64_t i64;
    uint64_t u64;
    double d;
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (s_read_signed(self, json, field->type, INT32_MIN, INT32_MAX, &i64) != 0)
            return -1;
        *(int32_t *)dst = (int32_t)i64;
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (s_read_signed(self, json, field->type, INT64_MIN, INT64_MAX, &i64) != 0)
            return -1;
        *(int64_t *)dst = i64;
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (s_read_unsigned(self, json, field->type, UINT32_MAX, &u64) != 0)
            return -1;
        *(uint32_t *)dst = (uint32_t)u64;
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (s_read_unsigned(self, json, field->type, UINT64_MAX, &u64) != 0)
            return -1;
        *(uint64_t *)dst = u64;
        return 0;
    case PROTOBUF_C_TYPE_FLOAT:
        if (s_read_double(self, json, field->type, &d) != 0)
            return -1;
        *(float *)dst = (float)d;
        return 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        if (s_read_double(self, json, field->type, &d) != 0)
            return -1;
        *(double *)dst = d;
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(json))
            return s_fail(self, FB_ERR_PARSE, "expected true or false");
        *(protobuf_c_boolean *)dst = json_is_true(json);
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        return s_read_enum(self, field->descriptor, json, (int32_t *)dst);
    case PROTOBUF_C_TYPE_STRING:
        /* The old pointer is never ours to free: a field is set at most once
         * (JSON object keys are unique) and starts NULL or at its default. */
        return s_read_string(self, json, (char **)dst);
    case PROTOBUF_C_TYPE_BYTES:
        return s_read_bytes(self, json, (ProtobufCBinaryData *)dst);
    case PROTOBUF_C_TYPE_MESSAGE:
        return s_read_message(self, field->descriptor, json, depth + 1, (ProtobufCMessage **)dst);
    }
    return s_fail(self, FB_ERR_PARSE, "unsupported field type %d", (int)field->type);
}

/* Reads a JSON array into a repeated field. The array is attached to the
 * message first and the count raised one element at a time, so a failure
 * halfway leaves something free_unpacked frees exactly. */
static int s_read_repeated(json_reader_t *self, ProtobufCMessage *msg,
                           const ProtobufCFieldDescriptor *field, const json_t *json, int depth)
{
    if (!json_is_array(json))
        return s_fail(self, FB_ERR_PARSE, "expected an array");
    size_t n = json_array_size(json);
    if (n == 0)
        return 0;
    size_t elem = s_elem_size(field->type);
    char *array = calloc(n, elem);
    if (!array)
        return s_fail(self, FB_ERR_NOMEM, "out of memory");
    size_t *count = s_member(msg, field->quantifier_offset);
    *(void **)s_member(msg, field->offset) = array;
    for (size_t i = 0; i < n; i++) {
        size_t old = s_path_push(self, NULL, i);
        int rc = s_read_value(self, field, json_array_get(json, i), array + i * elem, depth);
        s_path_pop(self, old);
        if (rc != 0)
            return -1;
        (*count)++;
    }
    return 0;
}

/* Reads one member of a JSON object into its field of msg. */
static int s_read_field(json_reader_t *self, ProtobufCMessage *msg,
                        const ProtobufCFieldDescriptor *field, const json_t *json, int depth)
{
    if (json_is_null(json))
        return 0;
    if (field->label == PROTOBUF_C_LABEL_REPEATED)
        return s_read_repeated(self, msg, field, json, depth);
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        /* The members of a oneof share one union and one case field. */
        uint32_t *oneof_case = s_member(msg, field->quantifier_offset);
        if (*oneof_case != 0) {
            const ProtobufCFieldDescriptor *other =
                protobuf_c_message_descriptor_get_field(msg->descriptor, *oneof_case);
            return s_fail(self, FB_ERR_PARSE, "\"%s\" is already set (same oneof)",
                          other ? other->name : "?");
        }
        if (s_read_value(self, field, json, s_member(msg, field->offset), depth) != 0)
            return -1;
        *oneof_case = field->id;
        return 0;
    }
    if (s_read_value(self, field, json, s_member(msg, field->offset), depth) != 0)
        return -1;
    if (s_has_flag(field))
        *(protobuf_c_boolean *)s_member(msg, field->quantifier_offset) = 1;
    return 0;
}

/* Builds a message of desc from a JSON object into *out. On error nothing is
 * left allocated and *out is untouched. */
static int s_read_message(json_reader_t *self, const ProtobufCMessageDescriptor *desc,
                          const json_t *json, int depth, ProtobufCMessage **out)
{
    if (!json_is_object(json))
        return s_fail(self, FB_ERR_PARSE, "expected an object");
    if (depth >= JSON_MAX_DEPTH)
        return s_fail(self, FB_ERR_PARSE, "nested deeper than %d messages", JSON_MAX_DEPTH);
    ProtobufCMessage *msg = calloc(1, desc->sizeof_message);
    if (!msg)
        return s_fail(self, FB_ERR_NOMEM, "out of memory");
    desc->message_init(msg);

    /* jansson's iterators take a non-const object but do not modify it. */
    json_t *object = (json_t *)json;
    for (void *it = json_object_iter(object); it; it = json_object_iter_next(object, it)) {
        const char *key = json_object_iter_key(it);
        const ProtobufCFieldDescriptor *field = NULL;
        /* A key with an embedded NUL must not match on its prefix. */
        if (strlen(key) == json_object_iter_key_len(it))
            field = protobuf_c_message_descriptor_get_field_by_name(desc, key);
        if (!field) {
            s_fail(self, FB_ERR_PARSE, "unknown field \"%s\"", key);
            goto fail;
        }
        size_t old = s_path_push(self, key, 0);
        int rc = s_read_field(self, msg, field, json_object_iter_value(it), depth);
        s_path_pop(self, old);
        if (rc != 0)
            goto fail;
    }
    /* proto2 `required`: protobuf-c would refuse to pack without them. */
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[i];
        if (field->label != PROTOBUF_C_LABEL_REQUIRED)
            continue;
        const json_t *value = json_object_get(json, field->name);
        if (!value || json_is_null(value)) {
            s_fail(self, FB_ERR_PARSE, "missing required field \"%s\"", field->name);
            goto fail;
        }
    }
    *out = msg;
    return 0;
fail:
    protobuf_c_message_free_unpacked(msg, NULL);
    return -1;
}

fb_err_t fb_json_to_message(const ProtobufCMessageDescriptor *desc, const json_t *json,
                            ProtobufCMessage **out, char *errbuf, size_t errlen)
{
    json_reader_t reader = {.err = FB_OK, .errbuf = errbuf, .errlen = errlen};
    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (!out)
        return FB_ERR_INVALID;
    *out = NULL;
    if (!desc || desc->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC) {
        s_fail(&reader, FB_ERR_INVALID, "not a message descriptor");
        return FB_ERR_INVALID;
    }
    if (!json) {
        s_fail(&reader, FB_ERR_PARSE, "no JSON value");
        return FB_ERR_PARSE;
    }
    if (s_read_message(&reader, desc, json, 0, out) != 0) {
        assert(reader.err != FB_OK);
        return reader.err;
    }
    return FB_OK;
}

/* ---------------------------------------------------------------- writing */

/* JSON string for a C string. Bytes that are not UTF-8 (protobuf-c does not
 * check strings it unpacks) become U+FFFD rather than failing the message. */
static json_t *s_write_string(const char *s)
{
    if (!s)
        s = "";
    size_t len = strlen(s);
    if (s_utf8_valid(s, len))
        return json_stringn(s, len);
    char *clean = malloc(len * 3 + 1);
    if (!clean)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < len) {
        size_t n = s_utf8_seq_len(p + i, len - i);
        if (n == 0) {
            memcpy(clean + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(clean + o, p + i, n);
            o += n;
            i += n;
        }
    }
    json_t *value = json_stringn(clean, o);
    free(clean);
    return value;
}

static json_t *s_write_bytes(const ProtobufCBinaryData *bd)
{
    if (bd->len == 0 || !bd->data)
        return json_string("");
    if (bd->len > (SIZE_MAX - 4) / 4 * 3)
        return NULL;
    size_t b64_len = sodium_base64_ENCODED_LEN(bd->len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_len);
    if (!b64)
        return NULL;
    sodium_bin2base64(b64, b64_len, bd->data, bd->len, sodium_base64_VARIANT_ORIGINAL);
    json_t *value = json_string(b64);
    free(b64);
    return value;
}

/* json_real() refuses NaN and infinities; they travel as strings. */
static json_t *s_write_double(double d)
{
    if (isnan(d))
        return json_string("NaN");
    if (isinf(d))
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

static json_t *s_write_uint64(uint64_t v)
{
    if (v <= (uint64_t)LLONG_MAX)
        return json_integer((json_int_t)v);
    char digits[24];
    snprintf(digits, sizeof digits, "%" PRIu64, v);
    return json_string(digits);
}

/* JSON for one value of the field's type at src; NULL on OOM. */
static json_t *s_write_value(const ProtobufCFieldDescriptor *field, const void *src, int depth)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)src);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)src);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return json_integer(*(const int64_t *)src);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return s_write_uint64(*(const uint64_t *)src);
    case PROTOBUF_C_TYPE_FLOAT:
        return s_write_double(*(const float *)src);
    case PROTOBUF_C_TYPE_DOUBLE:
        return s_write_double(*(const double *)src);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)src);
    case PROTOBUF_C_TYPE_ENUM: {
        int32_t v = *(const int32_t *)src;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(field->descriptor, v);
        return ev ? json_string(ev->name) : json_integer(v);
    }
    case PROTOBUF_C_TYPE_STRING:
        return s_write_string(*(char *const *)src);
    case PROTOBUF_C_TYPE_BYTES:
        return s_write_bytes(src);
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)src;
        /* Only a NULL element of a repeated field gets here: write {}. */
        return sub ? s_write_message(sub, depth + 1) : json_object();
    }
    }
    return NULL;
}

/* True if a proto3 plain field holds its zero value (and is left out). */
static bool s_is_zero(const ProtobufCFieldDescriptor *field, const void *src)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return *(const int32_t *)src == 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(const int64_t *)src == 0;
    case PROTOBUF_C_TYPE_FLOAT:
        return *(const float *)src == 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *)src == 0;
    case PROTOBUF_C_TYPE_BOOL:
        return !*(const protobuf_c_boolean *)src;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)src;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)src)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)src == NULL;
    }
    return true;
}

/* True if the field is present in msg, by the rules of its label. */
static bool s_is_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field)
{
    const void *src = s_member_const(msg, field->offset);
    bool is_pointer =
        field->type == PROTOBUF_C_TYPE_STRING || field->type == PROTOBUF_C_TYPE_MESSAGE;
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (*(const uint32_t *)s_member_const(msg, field->quantifier_offset) != field->id)
            return false;
        return !is_pointer || *(void *const *)src != NULL;
    }
    switch (field->label) {
    case PROTOBUF_C_LABEL_REPEATED:
        return *(const size_t *)s_member_const(msg, field->quantifier_offset) > 0;
    case PROTOBUF_C_LABEL_OPTIONAL:
        if (s_has_flag(field))
            return *(const protobuf_c_boolean *)s_member_const(msg, field->quantifier_offset);
        return *(void *const *)src != NULL && *(void *const *)src != field->default_value;
    case PROTOBUF_C_LABEL_NONE:
        return !s_is_zero(field, src);
    case PROTOBUF_C_LABEL_REQUIRED:
        return !is_pointer || *(void *const *)src != NULL;
    }
    return false;
}

static json_t *s_write_repeated(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field,
                                int depth)
{
    size_t n = *(const size_t *)s_member_const(msg, field->quantifier_offset);
    const char *array = *(void *const *)s_member_const(msg, field->offset);
    size_t elem = s_elem_size(field->type);
    json_t *list = json_array();
    if (!list)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        /* json_array_append_new() takes the reference even on failure. */
        if (json_array_append_new(list, s_write_value(field, array + i * elem, depth)) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

static json_t *s_write_message(const ProtobufCMessage *msg, int depth)
{
    if (depth >= JSON_MAX_DEPTH)
        return NULL;
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    json_t *object = json_object();
    if (!object)
        return NULL;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[i];
        if (!s_is_present(msg, field))
            continue;
        json_t *value = field->label == PROTOBUF_C_LABEL_REPEATED
                            ? s_write_repeated(msg, field, depth)
                            : s_write_value(field, s_member_const(msg, field->offset), depth);
        /* json_object_set_new() takes the reference even on failure. */
        if (json_object_set_new(object, field->name, value) != 0) {
            json_decref(object);
            return NULL;
        }
    }
    return object;
}

/* Returns NULL on OOM, and also for a message nested deeper than
 * JSON_MAX_DEPTH (which fb_json_to_message() could not have built). */
json_t *fb_json_from_message(const ProtobufCMessage *msg)
{
    if (!msg || !msg->descriptor || msg->descriptor->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC)
        return NULL;
    return s_write_message(msg, 0);
}

void fb_json_free_message(ProtobufCMessage *msg)
{
    if (msg)
        protobuf_c_message_free_unpacked(msg, NULL);
}
