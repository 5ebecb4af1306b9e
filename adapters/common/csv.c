/* csv.c - the CSV files French IT systems export (csv.h): parsing, and one
 * row turned into the JSON form of a message (fluxbus/json.h), driven by the
 * protobuf-c descriptors.
 *
 * Owns: the CSV dialect (quotes, line ends, BOM, blank lines, UTF-8) and the
 * cell conventions of csv.h (amounts, local date-times, dates, booleans,
 * enum short names, '|' lists, dotted paths). Does not own: building the
 * message (the caller hands our JSON to fb_json_to_message, which accepts
 * whatever csv_row_to_json returns - the fuzz target fuzz_csv checks that),
 * reading files, logging.
 *
 * Parsing is one pass. Every cell's bytes go into one growing buffer, each
 * NUL-terminated; cells are recorded as offsets into it and rows as spans of
 * cells; pointers are made only at the end, once the buffer no longer moves.
 * Buffers grow geometrically, so time is linear in the input and memory is
 * the text plus one pointer per cell and one csv_row_t per row, whatever the
 * shape of the file.
 *
 * Dialect details csv.h leaves open: a quote opens a quoted cell only as the
 * cell's first byte; after the closing quote only spaces or tabs may come
 * before the separator or the line end (anything else is an error); CRLF
 * inside quotes becomes LF; a row whose cells are all empty or blank (spaces,
 * tabs) counts as a blank line, so the ";;;;" rows spreadsheets append are
 * skipped; a NUL byte is an error (cells are C strings).
 *
 * Cells: strings are taken as they are; every other kind is trimmed of
 * spaces, tabs and (narrow) non-breaking spaces first. Column names are
 * matched trimmed and case-insensitively (fields are lower-case snake_case).
 * An ambiguous local time (the hour repeated when clocks go back) is the
 * first of the two instants; a time skipped when clocks go forward is an
 * error.
 *
 * Not thread-safe: reading a local date-time points the process's TZ at the
 * row's zone for the conversion, then restores it (localdate.c). */
#include "csv.h"

#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localdate.h"

#define CSV_MAX_DEPTH 16    /* fields in a dotted column name */
#define CSV_MAX_SEGMENT 120 /* bytes of one part of a column name */
#define CSV_SHOWN 48        /* bytes of a cell quoted in an error */
#define CSV_LIST_SEP '|'    /* between the values of a repeated field */
#define CSV_DATE_MESSAGE "fluxbus.v1.Date"

struct csv {
    csv_row_t header;
    csv_row_t *rows;
    size_t n_rows;
    char **cells; /* every cell, header first; the rows point into it */
    char *text;   /* the cells' bytes, each NUL-terminated */
};

/* ------------------------------------------------------------ shared bits */

/* Copies at most `max` bytes of s[0..len) into dst for an error message:
 * never cuts a UTF-8 sequence, shows control characters as '?', and ends
 * with "..." when it cut. */
static void s_shown(char *dst, size_t cap, const char *s, size_t len, size_t max)
{
    if (cap < 4) {
        if (cap > 0)
            dst[0] = '\0';
        return;
    }
    if (max > cap - 4)
        max = cap - 4;
    bool cut = len > max;
    size_t n = cut ? max : len;
    while (cut && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--; /* s[n] continues a sequence: stop before it starts */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[i] = c < 0x20 || c == 0x7F ? '?' : (char)c;
    }
    strcpy(dst + n, cut ? "..." : "");
}

/* Fills *error (line, column, reason). Always returns -1. */
__attribute__((format(printf, 5, 6))) static int s_error(csv_error_t *error, unsigned line,
                                                         const char *column, size_t column_len,
                                                         const char *fmt, ...)
{
    error->line = line;
    s_shown(error->column, sizeof error->column, column ? column : "", column ? column_len : 0,
            sizeof error->column - 4);
    va_list args;
    va_start(args, fmt);
    vsnprintf(error->reason, sizeof error->reason, fmt, args);
    va_end(args);
    return -1;
}

/* Length of the well-formed UTF-8 sequence at s (1 to 4 bytes), or 0 when
 * the bytes there are not one (overlong forms, surrogates, > U+10FFFF). */
static size_t s_utf8_len(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else
        return 0;
    if (left < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* Grows *buf (of *cap elements of `size` bytes) to hold at least `need`. */
static int s_grow(void **buf, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t next = *cap < 64 ? 64 : *cap;
    while (next < need) {
        if (next > SIZE_MAX / 2)
            return -1;
        next *= 2;
    }
    if (next > SIZE_MAX / size)
        return -1;
    void *bigger = realloc(*buf, next * size);
    if (!bigger)
        return -1;
    *buf = bigger;
    *cap = next;
    return 0;
}

static bool s_is_blank_char(char c)
{
    return c == ' ' || c == '\t';
}

/* Length of the space at s: ' ', '\t', U+00A0 or U+202F (the French
 * thousands separators), 0 if none. */
static size_t s_space_len(const char *s, size_t len)
{
    if (len >= 1 && s_is_blank_char(s[0]))
        return 1;
    if (len >= 2 && (unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0)
        return 2;
    if (len >= 3 && (unsigned char)s[0] == 0xE2 && (unsigned char)s[1] == 0x80 &&
        (unsigned char)s[2] == 0xAF)
        return 3;
    return 0;
}

/* Trims spaces (s_space_len) at both ends of s[0..*len). */
static const char *s_trim(const char *s, size_t *len)
{
    size_t n;
    while (*len > 0 && (n = s_space_len(s, *len)) > 0) {
        s += n;
        *len -= n;
    }
    for (bool again = true; again && *len > 0;) {
        again = false;
        for (n = 1; n <= 3 && n <= *len; n++) {
            if (s_space_len(s + *len - n, n) == n) {
                *len -= n;
                again = true;
                break;
            }
        }
    }
    return s;
}

static char s_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive equality of s[0..len) and the C string word
 * (independent of the locale, unlike strcasecmp). */
static bool s_equal_nocase(const char *s, size_t len, const char *word)
{
    size_t i = 0;
    for (; i < len && word[i]; i++)
        if (s_lower(s[i]) != s_lower(word[i]))
            return false;
    return i == len && word[i] == '\0';
}

static bool s_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ------------------------------------------------------------ parsing */

/* One row while parsing: its cells are offs[first .. first + n). */
typedef struct {
    size_t first;
    size_t n;
    unsigned line;
} csv_span_t;

/* State of one csv_parse() call. */
typedef struct {
    const unsigned char *p;
    size_t len;
    size_t pos;
    unsigned char sep;
    unsigned line; /* line of p[pos] */
    char *text;    /* cell bytes, NUL-terminated */
    size_t text_len, text_cap;
    size_t *offs; /* where each cell starts in text */
    size_t n_offs, offs_cap;
    csv_span_t *spans; /* header first */
    size_t n_spans, spans_cap;
    fb_err_t err;
    csv_error_t *error;
} csv_reader_t;

/* What ended a cell. */
typedef enum { CSV_END_SEP, CSV_END_LINE, CSV_END_FILE } csv_end_t;

static int s_nomem(csv_reader_t *self)
{
    self->err = FB_ERR_NOMEM;
    return s_error(self->error, self->line, NULL, 0, "out of memory");
}

static int s_append(csv_reader_t *self, const unsigned char *bytes, size_t n)
{
    if (n == 0)
        return 0;
    if (n > SIZE_MAX - self->text_len - 1 ||
        s_grow((void **)&self->text, &self->text_cap, self->text_len + n, 1) != 0)
        return s_nomem(self);
    memcpy(self->text + self->text_len, bytes, n);
    self->text_len += n;
    return 0;
}

/* Checks the byte at pos, that is neither a quote, the separator nor a line
 * end: its UTF-8 sequence length, or 0 after filling the error. */
static size_t s_check_char(csv_reader_t *self)
{
    unsigned char c = self->p[self->pos];
    if (c == '\0') {
        self->err = FB_ERR_PARSE;
        s_error(self->error, self->line, NULL, 0, "NUL character");
        return 0;
    }
    size_t n = s_utf8_len(self->p + self->pos, self->len - self->pos);
    if (n == 0) {
        self->err = FB_ERR_PARSE;
        s_error(self->error, self->line, NULL, 0, "invalid UTF-8 (byte 0x%02X)", c);
    }
    return n;
}

/* Consumes the separator or line end at pos, if any, and says which. */
static csv_end_t s_cell_end(csv_reader_t *self)
{
    if (self->pos == self->len)
        return CSV_END_FILE;
    if (self->p[self->pos] == self->sep) {
        self->pos++;
        return CSV_END_SEP;
    }
    self->pos += self->p[self->pos] == '\r' ? 2 : 1; /* CRLF or LF */
    self->line++;
    return CSV_END_LINE;
}

static bool s_at_line_end(const csv_reader_t *self)
{
    const unsigned char *p = self->p + self->pos;
    size_t left = self->len - self->pos;
    return p[0] == '\n' || (p[0] == '\r' && left >= 2 && p[1] == '\n');
}

/* An unquoted cell: bytes up to the separator, the line end or the end. */
static int s_read_plain(csv_reader_t *self, csv_end_t *end)
{
    size_t start = self->pos;
    while (self->pos < self->len && self->p[self->pos] != self->sep && !s_at_line_end(self)) {
        if (self->p[self->pos] < 0x80 && self->p[self->pos] != '\0') {
            self->pos++;
            continue;
        }
        size_t n = s_check_char(self);
        if (n == 0)
            return -1;
        self->pos += n;
    }
    if (s_append(self, self->p + start, self->pos - start) != 0)
        return -1;
    *end = s_cell_end(self);
    return 0;
}

/* A quoted cell, pos on its opening quote: "" is one quote, the separator
 * and line ends are text, CRLF becomes LF. */
static int s_read_quoted(csv_reader_t *self, csv_end_t *end)
{
    unsigned opened = self->line;
    self->pos++;
    size_t start = self->pos;
    for (;;) {
        if (self->pos == self->len) {
            self->err = FB_ERR_PARSE;
            return s_error(self->error, opened, NULL, 0,
                           "unterminated quoted field (opened on line %u)", opened);
        }
        unsigned char c = self->p[self->pos];
        if (c == '"' || (c == '\r' && s_at_line_end(self))) {
            if (s_append(self, self->p + start, self->pos - start) != 0)
                return -1;
            if (c == '\r') { /* CRLF inside quotes: keep LF */
                if (s_append(self, (const unsigned char *)"\n", 1) != 0)
                    return -1;
                self->pos += 2;
                self->line++;
            } else if (self->pos + 1 < self->len && self->p[self->pos + 1] == '"') {
                self->pos += 2; /* "": the next run starts with the second quote */
                start = self->pos - 1;
                continue;
            } else {
                self->pos++;
                break;
            }
            start = self->pos;
            continue;
        }
        if (c == '\n') {
            self->line++;
            self->pos++;
            continue;
        }
        if (c < 0x80 && c != '\0') {
            self->pos++;
            continue;
        }
        size_t n = s_check_char(self);
        if (n == 0)
            return -1;
        self->pos += n;
    }
    /* After the closing quote: blanks, then the end of the cell. */
    while (self->pos < self->len && s_is_blank_char((char)self->p[self->pos]) &&
           self->p[self->pos] != self->sep)
        self->pos++;
    if (self->pos < self->len && self->p[self->pos] != self->sep && !s_at_line_end(self)) {
        self->err = FB_ERR_PARSE;
        return s_error(self->error, self->line, NULL, 0,
                       "text after the closing quote of a quoted field");
    }
    *end = s_cell_end(self);
    return 0;
}

/* True if every cell of the span is empty or blank. */
static bool s_span_is_blank(const csv_reader_t *self, const csv_span_t *span)
{
    for (size_t i = 0; i < span->n; i++)
        for (const char *c = self->text + self->offs[span->first + i]; *c; c++)
            if (!s_is_blank_char(*c))
                return false;
    return true;
}

/* Reads the next non-blank row into *span. 1 = a row, 0 = end of text. */
static int s_read_row(csv_reader_t *self, csv_span_t *span)
{
    for (;;) {
        if (self->pos == self->len)
            return 0;
        size_t text_mark = self->text_len;
        span->first = self->n_offs;
        span->line = self->line;
        csv_end_t end = CSV_END_SEP;
        while (end == CSV_END_SEP) {
            if (s_grow((void **)&self->offs, &self->offs_cap, self->n_offs + 1,
                       sizeof *self->offs) != 0)
                return s_nomem(self);
            self->offs[self->n_offs++] = self->text_len;
            bool quoted = self->pos < self->len && self->p[self->pos] == '"';
            int rc = quoted ? s_read_quoted(self, &end) : s_read_plain(self, &end);
            if (rc != 0 || s_append(self, (const unsigned char *)"", 1) != 0)
                return -1;
        }
        span->n = self->n_offs - span->first;
        if (!s_span_is_blank(self, span))
            return 1;
        self->text_len = text_mark; /* a blank line: forget it */
        self->n_offs = span->first;
    }
}

static int s_read_all(csv_reader_t *self)
{
    static const unsigned char bom[] = {0xEF, 0xBB, 0xBF};
    if (self->len >= 3 && memcmp(self->p, bom, 3) == 0)
        self->pos = 3;
    csv_span_t span;
    int rc;
    while ((rc = s_read_row(self, &span)) == 1) {
        if (self->n_spans > 0 && span.n != self->spans[0].n) {
            self->err = FB_ERR_PARSE;
            return s_error(self->error, span.line, NULL, 0, "row has %zu cells, the header has %zu",
                           span.n, self->spans[0].n);
        }
        if (s_grow((void **)&self->spans, &self->spans_cap, self->n_spans + 1,
                   sizeof *self->spans) != 0)
            return s_nomem(self);
        self->spans[self->n_spans++] = span;
    }
    if (rc < 0)
        return -1;
    if (self->n_spans == 0) {
        self->err = FB_ERR_PARSE;
        return s_error(self->error, 0, NULL, 0, "no header row");
    }
    return 0;
}

/* Turns the reader's offsets and spans into the csv_t's pointers. */
static csv_t *s_build(csv_reader_t *self)
{
    csv_t *csv = calloc(1, sizeof *csv);
    if (!csv)
        return NULL;
    csv->cells = malloc(self->n_offs * sizeof *csv->cells);
    csv->n_rows = self->n_spans - 1;
    csv->rows = malloc((csv->n_rows ? csv->n_rows : 1) * sizeof *csv->rows);
    if (!csv->cells || !csv->rows) {
        free(csv->cells);
        free(csv->rows);
        free(csv);
        return NULL;
    }
    for (size_t i = 0; i < self->n_offs; i++)
        csv->cells[i] = self->text + self->offs[i];
    for (size_t i = 0; i < self->n_spans; i++) {
        csv_row_t *row = i == 0 ? &csv->header : &csv->rows[i - 1];
        row->cells = csv->cells + self->spans[i].first;
        row->n = self->spans[i].n;
        row->line = self->spans[i].line;
    }
    csv->text = self->text;
    self->text = NULL;
    return csv;
}

fb_err_t csv_parse(const char *text, size_t len, char sep, csv_t **out, csv_error_t *error)
{
    csv_error_t scratch;
    if (!error)
        error = &scratch;
    memset(error, 0, sizeof *error);
    if (!out || (!text && len > 0) || sep == '"' || sep == '\n' || sep == '\r' || sep == '\0' ||
        (unsigned char)sep >= 0x80) {
        s_error(error, 0, NULL, 0, "bad argument (output, text or separator)");
        return FB_ERR_INVALID;
    }
    *out = NULL;
    csv_reader_t reader = {
        .p = (const unsigned char *)(text ? text : ""),
        .len = len,
        .sep = (unsigned char)sep,
        .line = 1,
        .err = FB_OK,
        .error = error,
    };
    if (s_read_all(&reader) == 0) {
        *out = s_build(&reader);
        if (!*out)
            s_nomem(&reader);
    }
    free(reader.text);
    free(reader.offs);
    free(reader.spans);
    return *out ? FB_OK : reader.err;
}

void csv_free(csv_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    csv_t *self = *self_p;
    free(self->text);
    free(self->cells);
    free(self->rows);
    free(self);
    *self_p = NULL;
}

const csv_row_t *csv_header(const csv_t *self)
{
    return self ? &self->header : NULL;
}

size_t csv_count(const csv_t *self)
{
    return self ? self->n_rows : 0;
}

const csv_row_t *csv_row(const csv_t *self, size_t i)
{
    return self && i < self->n_rows ? &self->rows[i] : NULL;
}

const char *csv_cell(const csv_t *self, const csv_row_t *row, const char *name)
{
    if (!self || !row || !name)
        return NULL;
    for (size_t i = 0; i < self->header.n && i < row->n; i++)
        if (strcmp(self->header.cells[i], name) == 0)
            return row->cells[i];
    return NULL;
}

/* ------------------------------------------------------------ row to JSON */

/* The field a column sets: path[0] in the row's message, path[1] in
 * path[0]'s message, ..., path[depth - 1] the one that takes the value. */
typedef struct {
    const ProtobufCFieldDescriptor *path[CSV_MAX_DEPTH];
    size_t depth;
    bool amount; /* column X for field X_cents / X_x100: a decimal, times 100 */
} csv_target_t;

/* State of one csv_row_to_json() call. */
typedef struct {
    csv_error_t *error;
    fb_err_t err;
    unsigned line;
    const char *column; /* the column being read, trimmed */
    size_t column_len;
    const char *tz;
} csv_ctx_t;

/* Records a cell error (line, column, reason); always -1. */
__attribute__((format(printf, 3, 4))) static int s_fail(csv_ctx_t *self, fb_err_t err,
                                                        const char *fmt, ...)
{
    if (self->err != FB_OK)
        return -1;
    self->err = err;
    self->error->line = self->line;
    s_shown(self->error->column, sizeof self->error->column, self->column, self->column_len,
            sizeof self->error->column - 4);
    va_list args;
    va_start(args, fmt);
    vsnprintf(self->error->reason, sizeof self->error->reason, fmt, args);
    va_end(args);
    return -1;
}

/* A cell's text, cut and cleaned for an error message. */
typedef struct {
    char text[CSV_SHOWN + 4];
} csv_shown_t;

static csv_shown_t s_show(const char *s, size_t len)
{
    csv_shown_t shown;
    s_shown(shown.text, sizeof shown.text, s, len, CSV_SHOWN);
    return shown;
}

static bool s_is_integer_type(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return true;
    default:
        return false;
    }
}

static bool s_is_64bit(ProtobufCType type)
{
    return type == PROTOBUF_C_TYPE_INT64 || type == PROTOBUF_C_TYPE_SINT64 ||
           type == PROTOBUF_C_TYPE_SFIXED64 || type == PROTOBUF_C_TYPE_UINT64 ||
           type == PROTOBUF_C_TYPE_FIXED64;
}

static bool s_is_date(const ProtobufCFieldDescriptor *field)
{
    return field->type == PROTOBUF_C_TYPE_MESSAGE &&
           strcmp(((const ProtobufCMessageDescriptor *)field->descriptor)->name,
                  CSV_DATE_MESSAGE) == 0;
}

/* An instant: a 64-bit integer field named *_ms. */
static bool s_is_instant(const ProtobufCFieldDescriptor *field)
{
    size_t n = strlen(field->name);
    return s_is_64bit(field->type) && n > 3 && strcmp(field->name + n - 3, "_ms") == 0;
}

static const char *s_type_name(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
        return "int32";
    case PROTOBUF_C_TYPE_SINT32:
        return "sint32";
    case PROTOBUF_C_TYPE_SFIXED32:
        return "sfixed32";
    case PROTOBUF_C_TYPE_UINT32:
        return "uint32";
    case PROTOBUF_C_TYPE_FIXED32:
        return "fixed32";
    case PROTOBUF_C_TYPE_INT64:
        return "int64";
    case PROTOBUF_C_TYPE_SINT64:
        return "sint64";
    case PROTOBUF_C_TYPE_SFIXED64:
        return "sfixed64";
    case PROTOBUF_C_TYPE_UINT64:
        return "uint64";
    case PROTOBUF_C_TYPE_FIXED64:
        return "fixed64";
    default:
        return "integer";
    }
}

/* Smallest and largest value of an integer field type. */
static void s_range(ProtobufCType type, int64_t *min, uint64_t *max)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        *min = INT32_MIN;
        *max = INT32_MAX;
        return;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *min = 0;
        *max = UINT32_MAX;
        return;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *min = 0;
        *max = UINT64_MAX;
        return;
    default:
        *min = INT64_MIN;
        *max = INT64_MAX;
        return;
    }
}

/* ---- resolving a column name to a field */

/* The field named seg[0..len) (ASCII case-insensitive) in desc; as the last
 * part of a column name, also the X_cents / X_x100 field of an amount. */
static const ProtobufCFieldDescriptor *s_find_field(const ProtobufCMessageDescriptor *desc,
                                                    const char *seg, size_t len, bool last,
                                                    bool *amount)
{
    char name[CSV_MAX_SEGMENT + 8];
    *amount = false;
    if (len == 0 || len > CSV_MAX_SEGMENT)
        return NULL;
    for (size_t i = 0; i < len; i++)
        name[i] = s_lower(seg[i]);
    name[len] = '\0';
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(desc, name);
    if (field || !last)
        return field;
    static const char *const suffixes[] = {"_cents", "_x100"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        strcpy(name + len, suffixes[i]);
        field = protobuf_c_message_descriptor_get_field_by_name(desc, name);
        if (field && s_is_integer_type(field->type)) {
            *amount = true;
            return field;
        }
    }
    return NULL;
}

/* Resolves the column name (self->column) against desc into *target. */
static int s_resolve(csv_ctx_t *self, const ProtobufCMessageDescriptor *desc, csv_target_t *target)
{
    const char *name = self->column, *end = name + self->column_len;
    const ProtobufCMessageDescriptor *in = desc;
    target->depth = 0;
    for (const char *seg = name; seg <= end;) {
        const char *dot = memchr(seg, '.', (size_t)(end - seg));
        const char *seg_end = dot ? dot : end;
        size_t seg_len = (size_t)(seg_end - seg);
        if (!in) {
            const ProtobufCFieldDescriptor *prev = target->path[target->depth - 1];
            return s_fail(self, FB_ERR_PARSE, "\"%s\" is not a message: it has no field \"%s\"",
                          prev->name, s_show(seg, seg_len).text);
        }
        if (target->depth == CSV_MAX_DEPTH)
            return s_fail(self, FB_ERR_PARSE, "more than %d nested fields", CSV_MAX_DEPTH);
        const ProtobufCFieldDescriptor *field =
            s_find_field(in, seg, seg_len, !dot, &target->amount);
        if (!field)
            return s_fail(self, FB_ERR_PARSE, "no field \"%s\" in %s", s_show(seg, seg_len).text,
                          in->name);
        target->path[target->depth++] = field;
        in = NULL;
        if (field->type == PROTOBUF_C_TYPE_MESSAGE) {
            if (field->label == PROTOBUF_C_LABEL_REPEATED && !(s_is_date(field) && !dot))
                return s_fail(self, FB_ERR_PARSE,
                              "\"%s\" is a list of messages: a column cannot set it", field->name);
            if (dot)
                in = field->descriptor;
            else if (!s_is_date(field)) {
                const ProtobufCMessageDescriptor *sub = field->descriptor;
                return s_fail(
                    self, FB_ERR_PARSE, "\"%s\" is a message: name one of its fields (\"%s.%s\")",
                    field->name, field->name, sub->n_fields ? sub->fields[0].name : "...");
            }
        }
        if (!dot)
            break;
        seg = dot + 1;
    }
    return 0;
}

/* ---- cell text to JSON values */

/* Reads "[+-]digits" where spaces (s_space_len) may separate digits, and,
 * if frac is not NULL, an optional decimal part after ',' or '.'. Returns
 * false if the text is not of that form; *overflow if the integer part does
 * not fit 64 bits. */
typedef struct {
    bool neg;
    uint64_t mag;      /* integer part */
    bool overflow;     /* integer part over UINT64_MAX */
    size_t n_frac;     /* digits after the decimal separator */
    unsigned hundreds; /* the first two of them, as hundredths */
} csv_decimal_t;

static bool s_parse_decimal(const char *s, size_t len, bool allow_frac, csv_decimal_t *d)
{
    memset(d, 0, sizeof *d);
    size_t i = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        d->neg = s[i++] == '-';
    if (i == len || !s_is_digit(s[i]))
        return false;
    while (i < len) {
        if (s_is_digit(s[i])) {
            unsigned digit = (unsigned)(s[i++] - '0');
            if (d->mag > (UINT64_MAX - digit) / 10)
                d->overflow = true;
            else
                d->mag = d->mag * 10 + digit;
            continue;
        }
        size_t space = s_space_len(s + i, len - i);
        if (space == 0)
            break;
        i += space;
        if (i == len || !s_is_digit(s[i]))
            return false; /* a space must sit between digits */
    }
    if (i == len)
        return true;
    if (!allow_frac || (s[i] != ',' && s[i] != '.'))
        return false;
    i++;
    if (i == len)
        return false;
    for (; i < len; i++, d->n_frac++) {
        if (!s_is_digit(s[i]))
            return false;
        if (d->n_frac < 2)
            d->hundreds += (unsigned)(s[i] - '0') * (d->n_frac == 0 ? 10u : 1u);
    }
    return true;
}

/* JSON for the integer neg/mag in a field of `type`, or an error. */
static json_t *s_integer_json(csv_ctx_t *self, ProtobufCType type, bool neg, uint64_t mag,
                              bool overflow, const char *s, size_t len)
{
    int64_t min;
    uint64_t max;
    s_range(type, &min, &max);
    uint64_t neg_limit = min < 0 ? (uint64_t)(-(min + 1)) + 1 : 0;
    if (overflow || (neg && mag > neg_limit) || (!neg && mag > max)) {
        s_fail(self, FB_ERR_PARSE, "\"%s\" is out of range for %s (%" PRId64 " to %" PRIu64 ")",
               s_show(s, len).text, s_type_name(type), min, max);
        return NULL;
    }
    json_t *value;
    if (neg)
        value = json_integer(mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(json_int_t)mag);
    else if (mag <= (uint64_t)INT64_MAX)
        value = json_integer((json_int_t)mag);
    else { /* uint64 above jansson's integers: json.c reads a string of digits */
        char digits[24];
        snprintf(digits, sizeof digits, "%" PRIu64, mag);
        value = json_string(digits);
    }
    if (!value)
        s_fail(self, FB_ERR_NOMEM, "out of memory");
    return value;
}

static json_t *s_integer(csv_ctx_t *self, ProtobufCType type, const char *s, size_t len)
{
    csv_decimal_t d;
    if (!s_parse_decimal(s, len, false, &d)) {
        s_fail(self, FB_ERR_PARSE, "expected an integer, got \"%s\"", s_show(s, len).text);
        return NULL;
    }
    return s_integer_json(self, type, d.neg, d.mag, d.overflow, s, len);
}

/* An amount ("412,30", "1 250.5", "-3") as an integer count of hundredths. */
static json_t *s_amount(csv_ctx_t *self, ProtobufCType type, const char *s, size_t len)
{
    csv_decimal_t d;
    if (!s_parse_decimal(s, len, true, &d)) {
        s_fail(self, FB_ERR_PARSE, "expected an amount such as 412,30, got \"%s\"",
               s_show(s, len).text);
        return NULL;
    }
    if (d.n_frac > 2) {
        s_fail(self, FB_ERR_PARSE, "\"%s\" has more than 2 decimals", s_show(s, len).text);
        return NULL;
    }
    bool overflow = d.overflow || d.mag > (UINT64_MAX - d.hundreds) / 100;
    uint64_t hundredths = overflow ? 0 : d.mag * 100 + d.hundreds;
    return s_integer_json(self, type, d.neg, hundredths, overflow, s, len);
}

/* float and double: a decimal number with ',' or '.'. No domain message has
 * one today; read strictly, through strtod in the current locale. */
static json_t *s_real(csv_ctx_t *self, ProtobufCType type, const char *s, size_t len)
{
    csv_decimal_t d;
    char buf[64];
    if (!s_parse_decimal(s, len, true, &d) || len >= sizeof buf) {
        s_fail(self, FB_ERR_PARSE, "expected a number, got \"%s\"", s_show(s, len).text);
        return NULL;
    }
    const char *point = localeconv()->decimal_point;
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < sizeof buf; i++) {
        if (s[i] == ',' || s[i] == '.')
            buf[o++] = point && *point ? *point : '.';
        else if (s_is_digit(s[i]) || s[i] == '-' || s[i] == '+')
            buf[o++] = s[i]; /* spaces between digits dropped */
    }
    buf[o] = '\0';
    double v = strtod(buf, NULL);
    if (!isfinite(v) || (type == PROTOBUF_C_TYPE_FLOAT && fabs(v) > 3.4028234663852886e38)) {
        s_fail(self, FB_ERR_PARSE, "\"%s\" is out of range for %s", s_show(s, len).text,
               type == PROTOBUF_C_TYPE_FLOAT ? "float" : "double");
        return NULL;
    }
    json_t *value = json_real(v);
    if (!value)
        s_fail(self, FB_ERR_NOMEM, "out of memory");
    return value;
}

static json_t *s_bool(csv_ctx_t *self, const char *s, size_t len)
{
    static const char *const yes[] = {"oui", "vrai", "true", "o", "x", "1", "yes", "y"};
    static const char *const no[] = {"non", "faux", "false", "n", "0", "no"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (s_equal_nocase(s, len, yes[i]))
            return json_true();
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (s_equal_nocase(s, len, no[i]))
            return json_false();
    s_fail(self, FB_ERR_PARSE, "expected oui/non, vrai/faux, true/false, o/n, x or 1/0, got \"%s\"",
           s_show(s, len).text);
    return NULL;
}

/* Length of the prefix every value name of the enum shares, up to and
 * including its last '_' ("TYPOLOGIE_" for TYPOLOGIE_T1 ... T7_PLUS). */
static size_t s_enum_prefix(const ProtobufCEnumDescriptor *edesc)
{
    if (edesc->n_values == 0)
        return 0;
    const char *first = edesc->values[0].name;
    size_t common = strlen(first);
    for (unsigned i = 1; i < edesc->n_values; i++) {
        const char *name = edesc->values[i].name;
        size_t k = 0;
        while (k < common && name[k] == first[k])
            k++;
        common = k;
    }
    while (common > 0 && first[common - 1] != '_')
        common--;
    /* A value that is only the prefix ("X_" alone) would have no short name. */
    for (unsigned i = 0; i < edesc->n_values; i++)
        if (strlen(edesc->values[i].name) == common)
            return 0;
    return common;
}

static json_t *s_enum(csv_ctx_t *self, const ProtobufCEnumDescriptor *edesc, const char *s,
                      size_t len)
{
    size_t prefix = s_enum_prefix(edesc);
    for (unsigned i = 0; i < edesc->n_values; i++) {
        const char *name = edesc->values[i].name;
        if (s_equal_nocase(s, len, name) || s_equal_nocase(s, len, name + prefix))
            return json_string(name);
    }
    csv_decimal_t d;
    if (s_parse_decimal(s, len, false, &d) && !d.overflow && d.mag <= INT32_MAX) {
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value(edesc, d.neg ? -(int)d.mag : (int)d.mag);
        if (ev)
            return json_string(ev->name);
    }
    /* The short names, but not the "not said" zero value. */
    char list[160] = "";
    size_t used = 0;
    for (unsigned i = 0; i < edesc->n_values && used < sizeof list; i++) {
        if (edesc->values[i].value == 0)
            continue;
        const char *name = edesc->values[i].name + prefix;
        size_t need = strlen(name) + (used ? 2 : 0);
        if (used + need + 5 >= sizeof list) {
            snprintf(list + used, sizeof list - used, ", ...");
            break;
        }
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", name);
    }
    s_fail(self, FB_ERR_PARSE, "unknown value \"%s\" (expected one of %s)", s_show(s, len).text,
           list);
    return NULL;
}

/* Standard base64 with padding and zero unused bits (what json.c accepts). */
static bool s_base64_ok(const char *s, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (len % 4 != 0)
        return false;
    size_t pad = 0;
    while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
        pad++;
    for (size_t i = 0; i < len - pad; i++)
        if (s[i] == '\0' || !strchr(alphabet, s[i]))
            return false;
    if (pad == 0)
        return true;
    size_t last = (size_t)(strchr(alphabet, s[len - pad - 1]) - alphabet);
    return (last & (pad == 1 ? 0x03u : 0x0Fu)) == 0;
}

/* ---- dates and date-times */

/* Reads 1 to max digits at s[*i] (at least min). */
static bool s_digits(const char *s, size_t len, size_t *i, size_t min, size_t max, int *out)
{
    size_t n = 0;
    *out = 0;
    while (*i < len && n < max && s_is_digit(s[*i])) {
        *out = *out * 10 + (s[(*i)++] - '0');
        n++;
    }
    return n >= min;
}

static bool s_char(const char *s, size_t len, size_t *i, char c)
{
    if (*i < len && s[*i] == c) {
        (*i)++;
        return true;
    }
    return false;
}

/* "YYYY-MM-DD" or "DD/MM/YYYY" at s[*i]; *iso says which. */
static bool s_parse_date(const char *s, size_t len, size_t *i, localdate_t *dt, bool *iso)
{
    size_t start = *i;
    if (s_digits(s, len, i, 4, 4, &dt->year) && s_char(s, len, i, '-')) {
        *iso = true;
        return s_digits(s, len, i, 1, 2, &dt->month) && s_char(s, len, i, '-') &&
               s_digits(s, len, i, 1, 2, &dt->day);
    }
    *i = start;
    *iso = false;
    return s_digits(s, len, i, 1, 2, &dt->day) && s_char(s, len, i, '/') &&
           s_digits(s, len, i, 1, 2, &dt->month) && s_char(s, len, i, '/') &&
           s_digits(s, len, i, 4, 4, &dt->year);
}

static bool s_date_exists(const localdate_t *dt)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (dt->year < 1 || dt->month < 1 || dt->month > 12 || dt->day < 1)
        return false;
    bool leap = (dt->year % 4 == 0 && dt->year % 100 != 0) || dt->year % 400 == 0;
    int max = days[dt->month - 1] + (dt->month == 2 && leap ? 1 : 0);
    return dt->day <= max;
}

static json_t *s_date(csv_ctx_t *self, const char *s, size_t len)
{
    localdate_t dt = {0};
    size_t i = 0;
    bool iso;
    if (!s_parse_date(s, len, &i, &dt, &iso) || i != len) {
        s_fail(self, FB_ERR_PARSE, "expected a date YYYY-MM-DD or DD/MM/YYYY, got \"%s\"",
               s_show(s, len).text);
        return NULL;
    }
    if (!s_date_exists(&dt)) {
        s_fail(self, FB_ERR_PARSE, "no such date: \"%s\"", s_show(s, len).text);
        return NULL;
    }
    json_t *value = json_pack("{s:i, s:i, s:i}", "year", dt.year, "month", dt.month, "day", dt.day);
    if (!value)
        s_fail(self, FB_ERR_NOMEM, "out of memory");
    return value;
}

/* An instant: milliseconds, or a local date-time in self->tz. */
static json_t *s_instant(csv_ctx_t *self, ProtobufCType type, const char *s, size_t len)
{
    csv_decimal_t d;
    if (s_parse_decimal(s, len, false, &d))
        return s_integer_json(self, type, d.neg, d.mag, d.overflow, s, len);
    localdate_t dt = {0};
    size_t i = 0;
    bool iso;
    bool ok = s_parse_date(s, len, &i, &dt, &iso);
    if (ok && !(iso && s_char(s, len, &i, 'T'))) {
        size_t spaces = i;
        while (i < len && s[i] == ' ')
            i++;
        ok = i > spaces;
    }
    ok = ok && s_digits(s, len, &i, 1, 2, &dt.hour) && s_char(s, len, &i, ':') &&
         s_digits(s, len, &i, 2, 2, &dt.minute);
    if (ok && s_char(s, len, &i, ':'))
        ok = s_digits(s, len, &i, 2, 2, &dt.second);
    if (!ok || i != len) {
        s_fail(self, FB_ERR_PARSE,
               "expected a date-time YYYY-MM-DD HH:MM[:SS] or DD/MM/YYYY HH:MM[:SS] "
               "(or milliseconds), got \"%s\"",
               s_show(s, len).text);
        return NULL;
    }
    if (!s_date_exists(&dt) || dt.hour > 23 || dt.minute > 59 || dt.second > 59) {
        s_fail(self, FB_ERR_PARSE, "no such date-time: \"%s\"", s_show(s, len).text);
        return NULL;
    }
    if (!self->tz || !*self->tz) {
        s_fail(self, FB_ERR_INVALID, "a local date-time needs a time zone (none given)");
        return NULL;
    }
    int64_t ms = 0;
    fb_err_t rc = localdate_to_ms(&dt, self->tz, &ms);
    if (rc == FB_ERR_INVALID)
        s_fail(self, rc, "unknown time zone \"%s\"", s_show(self->tz, strlen(self->tz)).text);
    else if (rc == FB_ERR_NOT_FOUND)
        s_fail(self, FB_ERR_PARSE, "\"%s\" does not exist in %s (clocks go forward then)",
               s_show(s, len).text, self->tz);
    else if (rc != FB_OK)
        s_fail(self, rc, "out of memory");
    if (rc != FB_OK)
        return NULL;
    json_t *value = json_integer((json_int_t)ms);
    if (!value)
        s_fail(self, FB_ERR_NOMEM, "out of memory");
    return value;
}

/* ---- one value, one cell */

/* JSON for one value (a cell, or one item of a list) of the target field. */
static json_t *s_value(csv_ctx_t *self, const csv_target_t *target, const char *s, size_t len)
{
    const ProtobufCFieldDescriptor *field = target->path[target->depth - 1];
    if (field->type == PROTOBUF_C_TYPE_STRING) {
        json_t *value = json_stringn(s, len); /* the cell is UTF-8 without NUL */
        if (!value)
            s_fail(self, FB_ERR_NOMEM, "out of memory");
        return value;
    }
    s = s_trim(s, &len);
    if (target->amount)
        return s_amount(self, field->type, s, len);
    if (s_is_instant(field))
        return s_instant(self, field->type, s, len);
    if (s_is_integer_type(field->type))
        return s_integer(self, field->type, s, len);
    switch (field->type) {
    case PROTOBUF_C_TYPE_BOOL:
        return s_bool(self, s, len);
    case PROTOBUF_C_TYPE_ENUM:
        return s_enum(self, field->descriptor, s, len);
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return s_real(self, field->type, s, len);
    case PROTOBUF_C_TYPE_MESSAGE: /* s_resolve lets only Date through */
        return s_date(self, s, len);
    case PROTOBUF_C_TYPE_BYTES:
        if (s_base64_ok(s, len))
            return json_stringn(s, len);
        s_fail(self, FB_ERR_PARSE, "expected base64, got \"%s\"", s_show(s, len).text);
        return NULL;
    default:
        s_fail(self, FB_ERR_PARSE, "a column cannot set a field of this type");
        return NULL;
    }
}

/* JSON for a whole cell: a value, or for a repeated field an array of the
 * values between '|'. */
static json_t *s_cell_value(csv_ctx_t *self, const csv_target_t *target, const char *cell)
{
    const ProtobufCFieldDescriptor *field = target->path[target->depth - 1];
    size_t len = strlen(cell);
    if (field->label != PROTOBUF_C_LABEL_REPEATED)
        return s_value(self, target, cell, len);
    json_t *list = json_array();
    if (!list) {
        s_fail(self, FB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    const char *item = cell, *end = cell + len;
    for (size_t n = 1;; n++) {
        const char *bar = memchr(item, CSV_LIST_SEP, (size_t)(end - item));
        size_t item_len = (size_t)((bar ? bar : end) - item);
        size_t trimmed = item_len;
        s_trim(item, &trimmed);
        if (trimmed == 0) {
            s_fail(self, FB_ERR_PARSE,
                   "item %zu of the list is empty (items are separated by '%c')", n, CSV_LIST_SEP);
            json_decref(list);
            return NULL;
        }
        /* json_array_append_new() takes the reference even on failure. */
        json_t *value = s_value(self, target, item, item_len);
        if (!value || json_array_append_new(list, value) != 0) {
            s_fail(self, FB_ERR_NOMEM, "out of memory");
            json_decref(list);
            return NULL;
        }
        if (!bar)
            return list;
        item = bar + 1;
    }
}

/* Puts value (reference taken) at the target's path in root, making the
 * objects of the path. A field set twice is an error. */
static int s_place(csv_ctx_t *self, json_t *root, const csv_target_t *target, json_t *value)
{
    json_t *object = root;
    for (size_t i = 0; i + 1 < target->depth; i++) {
        const char *name = target->path[i]->name;
        json_t *sub = json_object_get(object, name);
        if (!sub) {
            sub = json_object();
            if (!sub || json_object_set_new(object, name, sub) != 0) {
                json_decref(value);
                return s_fail(self, FB_ERR_NOMEM, "out of memory");
            }
        }
        object = sub;
    }
    const char *leaf = target->path[target->depth - 1]->name;
    if (json_object_get(object, leaf)) {
        json_decref(value);
        char path[256] = "";
        size_t used = 0;
        for (size_t i = 0; i < target->depth && used < sizeof path; i++)
            used += (size_t)snprintf(path + used, sizeof path - used, "%s%s", i ? "." : "",
                                     target->path[i]->name);
        return s_fail(self, FB_ERR_PARSE, "field \"%s\" is already set by another column", path);
    }
    if (json_object_set_new(object, leaf, value) != 0)
        return s_fail(self, FB_ERR_NOMEM, "out of memory");
    return 0;
}

static bool s_skipped(const char *name, size_t len, const char *const *skip)
{
    for (; skip && *skip; skip++)
        if (s_equal_nocase(name, len, *skip))
            return true;
    return false;
}

static bool s_is_blank(const char *s)
{
    size_t len = strlen(s);
    s_trim(s, &len);
    return len == 0;
}

/* One column of the row: its header names the field, its cell the value. */
static int s_column(csv_ctx_t *self, json_t *root, const ProtobufCMessageDescriptor *desc,
                    const char *const *skip, const char *name, const char *cell)
{
    size_t len = strlen(name);
    self->column = s_trim(name, &len);
    self->column_len = len;
    if (len == 0) {
        if (s_is_blank(cell))
            return 0;
        return s_fail(self, FB_ERR_PARSE, "a value in a column without a name");
    }
    if (s_skipped(self->column, len, skip))
        return 0;
    csv_target_t target;
    if (s_resolve(self, desc, &target) != 0)
        return -1;
    const ProtobufCFieldDescriptor *field = target.path[target.depth - 1];
    if (cell[0] == '\0' || (field->type != PROTOBUF_C_TYPE_STRING && s_is_blank(cell)))
        return 0; /* empty: the field stays unset */
    json_t *value = s_cell_value(self, &target, cell);
    if (!value) /* a conversion error is kept; otherwise jansson ran out of memory */
        return s_fail(self, FB_ERR_NOMEM, "out of memory");
    return s_place(self, root, &target, value);
}

fb_err_t csv_row_to_json(const csv_t *self, const csv_row_t *row,
                         const ProtobufCMessageDescriptor *desc, const char *const *skip,
                         const char *tz, json_t **out, csv_error_t *error)
{
    csv_error_t scratch;
    if (!error)
        error = &scratch;
    memset(error, 0, sizeof *error);
    if (out)
        *out = NULL;
    if (!self || !row || !out || !desc || desc->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC) {
        s_error(error, 0, NULL, 0, "bad argument");
        return FB_ERR_INVALID;
    }
    if (row->n != self->header.n) {
        s_error(error, row->line, NULL, 0, "row has %zu cells, the header has %zu", row->n,
                self->header.n);
        return FB_ERR_PARSE;
    }
    csv_ctx_t ctx = {.error = error, .err = FB_OK, .line = row->line, .tz = tz};
    json_t *root = json_object();
    if (!root) {
        s_error(error, row->line, NULL, 0, "out of memory");
        return FB_ERR_NOMEM;
    }
    for (size_t i = 0; i < self->header.n && ctx.err == FB_OK; i++)
        s_column(&ctx, root, desc, skip, self->header.cells[i], row->cells[i]);
    if (ctx.err != FB_OK) {
        json_decref(root);
        return ctx.err;
    }
    *out = root;
    return FB_OK;
}
