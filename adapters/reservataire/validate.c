/* validate.c - see validate.h. Owns the checks of the platform's request
 * bodies and their mapping to domain messages. Does not own the JSON <->
 * protobuf mapping itself (fb_json_to_message), nor what the offer allows
 * (api.c).
 *
 * Method: each body is copied, its enums and dates normalised to the bus's
 * JSON form (s_normalize), its members checked against the ones the request
 * may set, then read with fb_json_to_message, whose errors name the field
 * path; the checks the descriptors cannot express (required fields, ranks,
 * NUR shape, dates) follow. The first error wins. */
#include "validate.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fluxbus/json.h"
#include "fluxbus/v1/common.pb-c.h"
#include "nur.h"

#define S_HOUSEHOLD_MAX 30 /* persons: more is a typing mistake */

/* Fills err and returns FB_ERR_PARSE. */
static fb_err_t s_fail(validate_error_t *err, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static fb_err_t s_fail(validate_error_t *err, int status, const char *field, const char *fmt, ...)
{
    err->status = status;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof err->reason, fmt, ap);
    va_end(ap);
    return FB_ERR_PARSE;
}

/* "prefix.name" (or "name" without prefix) into out. */
static void s_join(char *out, size_t len, const char *prefix, const char *name)
{
    snprintf(out, len, "%s%s%s", prefix, *prefix && *name && *name != '[' ? "." : "", name);
}

json_t *validate_parse_body(const char *body, size_t len, bool empty_ok, validate_error_t *err)
{
    size_t start = 0;
    while (start < len && isspace((unsigned char)body[start]))
        start++;
    if (start == len) {
        if (empty_ok)
            return json_object();
        s_fail(err, 400, "body", "a JSON object is expected, the body is empty");
        return NULL;
    }
    json_error_t jerr;
    json_t *json = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json) {
        s_fail(err, 400, "body", "not JSON: %s (line %d, column %d)", jerr.text, jerr.line,
               jerr.column);
        return NULL;
    }
    if (!json_is_object(json)) {
        json_decref(json);
        s_fail(err, 400, "body", "a JSON object is expected");
        return NULL;
    }
    return json;
}

/* ---------------------------------------------------------------- enums and dates */

/* "PrioritySource" -> "PRIORITY_SOURCE" (the prefix of its values). */
static void s_enum_prefix(const char *short_name, char *out, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; short_name[i] && o + 2 < len; i++) {
        unsigned char c = (unsigned char)short_name[i];
        if (i > 0 && isupper(c))
            out[o++] = '_';
        out[o++] = (char)toupper(c);
    }
    out[o] = '\0';
}

/* The full value name for `s` in enum `desc` ("q1" -> "QUARTILE_Q1"), or
 * NULL when neither s nor PREFIX_S names a value. */
static const char *s_enum_full_name(const ProtobufCEnumDescriptor *desc, const char *s)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(desc, s);
    if (v)
        return v->name;
    char name[160];
    s_enum_prefix(desc->short_name, name, sizeof name);
    size_t o = strlen(name);
    if (o + 1 < sizeof name)
        name[o++] = '_';
    for (size_t i = 0; s[i] && o + 1 < sizeof name; i++) {
        unsigned char c = (unsigned char)s[i];
        name[o++] = c == '-' || c == ' ' ? '_' : (char)toupper(c);
    }
    name[o] = '\0';
    v = protobuf_c_enum_descriptor_get_value_by_name(desc, name);
    return v ? v->name : NULL;
}

/* "YYYY-MM-DD" as a Date object, or NULL when s is not of that shape. */
static json_t *s_date_object(const char *s)
{
    int y, m, d, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || s[n] != '\0' || n != 10)
        return NULL;
    return json_pack("{s:i, s:i, s:i}", "year", y, "month", m, "day", d);
}

static void s_normalize(const ProtobufCMessageDescriptor *desc, json_t *obj);

/* One value of `field` in place: a short enum name, a date string, a nested
 * message. Returns the replacement to store, or NULL to keep the value. */
static json_t *s_normalize_value(const ProtobufCFieldDescriptor *field, json_t *value)
{
    if (field->type == PROTOBUF_C_TYPE_ENUM && json_is_string(value)) {
        const char *full = s_enum_full_name(field->descriptor, json_string_value(value));
        return full && strcmp(full, json_string_value(value)) != 0 ? json_string(full) : NULL;
    }
    if (field->type != PROTOBUF_C_TYPE_MESSAGE)
        return NULL;
    if (field->descriptor == &fluxbus__v1__date__descriptor && json_is_string(value))
        return s_date_object(json_string_value(value));
    if (json_is_object(value))
        s_normalize(field->descriptor, value);
    return NULL;
}

/* Rewrites the convenience forms of obj (a message of desc) into the bus's
 * JSON form, recursively. Anything it does not recognise is left for
 * fb_json_to_message to refuse with its field path. */
static void s_normalize(const ProtobufCMessageDescriptor *desc, json_t *obj)
{
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[i];
        json_t *value = json_object_get(obj, field->name);
        if (!value)
            continue;
        if (field->label == PROTOBUF_C_LABEL_REPEATED && json_is_array(value)) {
            for (size_t j = 0; j < json_array_size(value); j++) {
                json_t *repl = s_normalize_value(field, json_array_get(value, j));
                if (repl)
                    json_array_set_new(value, j, repl);
            }
        } else {
            json_t *repl = s_normalize_value(field, value);
            if (repl)
                json_object_set_new(obj, field->name, repl);
        }
    }
}

/* ---------------------------------------------------------------- reading messages */

/* True when s looks like a field path ("members[0].birth_date"). */
static bool s_is_path(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("_.[]", s[i]))
            return false;
    return true;
}

/* Reads obj (already normalised) as a message of desc; an error names the
 * field under `prefix`. */
static fb_err_t s_read(const ProtobufCMessageDescriptor *desc, const json_t *obj,
                       const char *prefix, ProtobufCMessage **out, validate_error_t *err)
{
    char why[256];
    why[0] = '\0';
    fb_err_t rc = fb_json_to_message(desc, obj, out, why, sizeof why);
    if (rc == FB_OK)
        return FB_OK;
    *out = NULL;
    const char *colon = strstr(why, ": ");
    char path[160] = "", field[192];
    const char *reason = why;
    if (colon && s_is_path(why, (size_t)(colon - why))) {
        snprintf(path, sizeof path, "%.*s", (int)(colon - why), why);
        reason = colon + 2;
    }
    /* 'unknown field "x"' is about x itself: name it. */
    char unknown[64];
    if (sscanf(reason, "unknown field \"%63[^\"]\"", unknown) == 1) {
        char sub[160];
        s_join(sub, sizeof sub, path, unknown);
        snprintf(path, sizeof path, "%s", sub);
        reason = "unknown field";
    }
    s_join(field, sizeof field, prefix, path);
    return s_fail(err, 422, field, "%s", *reason ? reason : fb_err_str(rc));
}

/* Refuses a member of obj not in `allowed` (NULL-terminated). */
static fb_err_t s_only(const json_t *obj, const char *const *allowed, const char *prefix,
                       validate_error_t *err)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(key, allowed[i]) == 0;
        if (!known) {
            char field[192];
            s_join(field, sizeof field, prefix, key);
            return s_fail(err, 422, field, "unknown field");
        }
    }
    return FB_OK;
}

/* Refuses obj when a member of `required` (NULL-terminated) is absent or
 * null. */
static fb_err_t s_required(const json_t *obj, const char *const *required, const char *prefix,
                           validate_error_t *err)
{
    for (size_t i = 0; required[i]; i++) {
        json_t *value = json_object_get(obj, required[i]);
        if (!value || json_is_null(value)) {
            char field[192];
            s_join(field, sizeof field, prefix, required[i]);
            return s_fail(err, 422, field, "required");
        }
    }
    return FB_OK;
}

/* Checks, normalises and reads `body` as a message of desc whose members
 * may only be `allowed` and must include `required`. */
static fb_err_t s_read_body(const ProtobufCMessageDescriptor *desc, const json_t *body,
                            const char *const *allowed, const char *const *required,
                            const char *prefix, ProtobufCMessage **out, validate_error_t *err)
{
    *out = NULL;
    if (!json_is_object(body))
        return s_fail(err, 422, prefix, "expected an object");
    fb_err_t rc = s_only(body, allowed, prefix, err);
    if (rc == FB_OK)
        rc = s_required(body, required, prefix, err);
    if (rc != FB_OK)
        return rc;
    json_t *copy = json_deep_copy(body);
    if (!copy)
        return s_fail(err, 500, prefix, "out of memory");
    s_normalize(desc, copy);
    rc = s_read(desc, copy, prefix, out, err);
    json_decref(copy);
    return rc;
}

/* ---------------------------------------------------------------- field checks */

static int s_days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* A birth date: a real calendar date, from 1900 to today. */
static fb_err_t s_check_birth_date(const Fluxbus__V1__Date *d, const char *field,
                                   validate_error_t *err)
{
    if (d->month < 1 || d->month > 12 || d->year < 1900 || d->day < 1 ||
        d->day > s_days_in_month(d->year, d->month))
        return s_fail(err, 422, field, "not a date: %04d-%02d-%02d", d->year, d->month, d->day);
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    long today = (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    long date = (long)d->year * 10000 + d->month * 100 + d->day;
    if (date > today)
        return s_fail(err, 422, field, "in the future: %04d-%02d-%02d", d->year, d->month, d->day);
    return FB_OK;
}

/* The household of candidate `prefix`: members' dates and amounts, its
 * NUR the candidate's, no more members than household_size. */
static fb_err_t s_check_household(const Fluxbus__V1__HouseholdDetails *hh,
                                  const Fluxbus__V1__Designation *des, const char *prefix,
                                  validate_error_t *err)
{
    char field[192];
    if (strcmp(hh->nur, des->nur) != 0) {
        s_join(field, sizeof field, prefix, "household.nur");
        return s_fail(err, 422, field, "\"%s\" is not the candidate's nur \"%s\"", hh->nur,
                      des->nur);
    }
    if (hh->n_members > des->household_size) {
        s_join(field, sizeof field, prefix, "household_size");
        return s_fail(err, 422, field, "%u persons, but the household lists %zu members",
                      des->household_size, hh->n_members);
    }
    for (size_t i = 0; i < hh->n_members; i++) {
        const Fluxbus__V1__HouseholdMember *m = hh->members[i];
        char member[64];
        snprintf(member, sizeof member, "household.members[%zu]", i);
        char sub[160];
        if (m->birth_date) {
            snprintf(sub, sizeof sub, "%s.birth_date", member);
            s_join(field, sizeof field, prefix, sub);
            if (s_check_birth_date(m->birth_date, field, err) != FB_OK)
                return FB_ERR_PARSE;
        }
        if (m->annual_resources_cents < 0) {
            snprintf(sub, sizeof sub, "%s.annual_resources_cents", member);
            s_join(field, sizeof field, prefix, sub);
            return s_fail(err, 422, field, "negative");
        }
    }
    if (hh->revenu_fiscal_reference_cents < 0 || hh->monthly_resources_cents < 0) {
        s_join(field, sizeof field, prefix,
               hh->revenu_fiscal_reference_cents < 0 ? "household.revenu_fiscal_reference_cents"
                                                     : "household.monthly_resources_cents");
        return s_fail(err, 422, field, "negative");
    }
    return FB_OK;
}

/* The candidate's own fields once read: NUR shape, rank within 1..n, size. */
static fb_err_t s_check_designation(const Fluxbus__V1__Designation *des, size_t n,
                                    const char *prefix, validate_error_t *err)
{
    char field[192], why[160];
    if (!nur_check(des->nur, why, sizeof why)) {
        /* The SNE's rule (nur.h): refused here rather than by the SNE later. */
        s_join(field, sizeof field, prefix, "nur");
        return s_fail(err, 422, field, "\"%s\" is not a NUR: %s", des->nur, why);
    }
    if (des->rank < 1 || des->rank > n) {
        s_join(field, sizeof field, prefix, "rank");
        return s_fail(err, 422, field, "%u is not a rank between 1 and %zu", des->rank, n);
    }
    if (des->household_size < 1 || des->household_size > S_HOUSEHOLD_MAX) {
        s_join(field, sizeof field, prefix, "household_size");
        return s_fail(err, 422, field, "%u is not a number of persons between 1 and %d",
                      des->household_size, S_HOUSEHOLD_MAX);
    }
    return FB_OK;
}

static const char *const s_candidate_keys[] = {
    "rank",           "nur",      "dalo",           "dalo_set_by", "pdalhpd",
    "pdalhpd_set_by", "quartile", "household_size", "household",   NULL};
static const char *const s_candidate_required[] = {"rank", "nur", "household_size", NULL};

/* The household member of candidate `cand` read into *out (NULL when
 * absent or null), its nur defaulting to the candidate's. */
static fb_err_t s_read_household(const json_t *cand, const char *nur, const char *prefix,
                                 Fluxbus__V1__HouseholdDetails **out, validate_error_t *err)
{
    *out = NULL;
    const json_t *hh = json_object_get(cand, "household");
    if (!hh || json_is_null(hh))
        return FB_OK;
    char field[192];
    s_join(field, sizeof field, prefix, "household");
    if (!json_is_object(hh))
        return s_fail(err, 422, field, "expected an object");
    json_t *copy = json_deep_copy(hh);
    if (!copy)
        return s_fail(err, 500, field, "out of memory");
    if (!json_object_get(copy, "nur"))
        json_object_set_new(copy, "nur", json_string(nur));
    s_normalize(&fluxbus__v1__household_details__descriptor, copy);
    ProtobufCMessage *msg = NULL;
    fb_err_t rc = s_read(&fluxbus__v1__household_details__descriptor, copy, field, &msg, err);
    json_decref(copy);
    *out = (Fluxbus__V1__HouseholdDetails *)msg;
    return rc;
}

/* Candidate i of n: read, checked, placed at its rank in out. */
static fb_err_t s_candidate(const json_t *cand, size_t i, size_t n, validate_candidates_t *out,
                            validate_error_t *err)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "candidates[%zu]", i);
    json_t *fields = json_is_object(cand) ? json_deep_copy(cand) : NULL;
    if (!fields)
        return s_fail(err, 422, prefix, "expected an object");
    json_object_del(fields, "household");
    ProtobufCMessage *msg = NULL;
    fb_err_t rc = s_only(cand, s_candidate_keys, prefix, err);
    if (rc == FB_OK)
        rc = s_required(cand, s_candidate_required, prefix, err);
    if (rc == FB_OK) {
        s_normalize(&fluxbus__v1__designation__descriptor, fields);
        rc = s_read(&fluxbus__v1__designation__descriptor, fields, prefix, &msg, err);
    }
    json_decref(fields);
    if (rc != FB_OK)
        return rc;
    Fluxbus__V1__Designation *des = (Fluxbus__V1__Designation *)msg;
    Fluxbus__V1__HouseholdDetails *hh = NULL;
    rc = s_check_designation(des, n, prefix, err);
    if (rc == FB_OK)
        rc = s_read_household(cand, des->nur, prefix, &hh, err);
    if (rc == FB_OK && hh)
        rc = s_check_household(hh, des, prefix, err);
    validate_candidate_t *slot = rc == FB_OK ? &out->items[des->rank - 1] : NULL;
    if (slot && slot->designation) {
        char field[192];
        s_join(field, sizeof field, prefix, "rank");
        rc = s_fail(err, 422, field, "rank %u is given twice", des->rank);
    }
    for (size_t j = 0; rc == FB_OK && j < n; j++) {
        const Fluxbus__V1__Designation *other = out->items[j].designation;
        if (other && strcmp(other->nur, des->nur) == 0) {
            char field[192];
            s_join(field, sizeof field, prefix, "nur");
            rc = s_fail(err, 422, field, "demande %s is designated twice", des->nur);
        }
    }
    if (rc != FB_OK) {
        fb_json_free_message(msg);
        fb_json_free_message(hh ? &hh->base : NULL);
        return rc;
    }
    slot->designation = des;
    slot->household = hh;
    return FB_OK;
}

/* The round's fewer_candidates_reason / _text (body members) into each of
 * its n designations; required when n is below `expected`, as the ledger
 * refuses such a round without one (docs/LEDGER.md). */
static fb_err_t s_fewer_reason(const json_t *body, size_t n, size_t expected,
                               validate_candidates_t *out, validate_error_t *err)
{
    json_t *fields = json_object();
    if (!fields)
        return s_fail(err, 500, "body", "out of memory");
    static const char *const keys[] = {"fewer_candidates_reason", "fewer_candidates_text", NULL};
    for (size_t i = 0; keys[i]; i++)
        if (json_object_get(body, keys[i]))
            json_object_set(fields, keys[i], json_object_get(body, keys[i]));
    s_normalize(&fluxbus__v1__designation__descriptor, fields);
    ProtobufCMessage *msg = NULL;
    fb_err_t rc = s_read(&fluxbus__v1__designation__descriptor, fields, "", &msg, err);
    json_decref(fields);
    if (rc != FB_OK)
        return rc;
    const Fluxbus__V1__Designation *why = (const Fluxbus__V1__Designation *)msg;
    if (n < expected && !why->fewer_candidates_reason)
        rc = s_fail(err, 422, "fewer_candidates_reason",
                    "%zu candidate(s) where %zu are expected: a reason is required "
                    "(INSUFFISANCE_DEMANDES, PUBLIC_PRIORITAIRE, RELOGEMENT or OTHER)",
                    n, expected);
    else if (why->fewer_candidates_reason ==
                 FLUXBUS__V1__FEWER_CANDIDATES_REASON__FEWER_CANDIDATES_REASON_OTHER &&
             !*why->fewer_candidates_text)
        rc = s_fail(err, 422, "fewer_candidates_text", "OTHER needs the reason in words");
    for (size_t i = 0; rc == FB_OK && i < n; i++) {
        Fluxbus__V1__Designation *d = out->items[i].designation;
        d->fewer_candidates_reason = why->fewer_candidates_reason;
        if (*why->fewer_candidates_text &&
            !(d->fewer_candidates_text = strdup(why->fewer_candidates_text)))
            rc = s_fail(err, 500, "body", "out of memory");
    }
    fb_json_free_message(msg);
    return rc;
}

fb_err_t validate_designations(const json_t *body, uint32_t expected, validate_candidates_t *out,
                               validate_error_t *err)
{
    memset(out, 0, sizeof *out);
    static const char *const top[] = {"candidates", "fewer_candidates_reason",
                                      "fewer_candidates_text", NULL};
    static const char *const top_required[] = {"candidates", NULL};
    if (!json_is_object(body))
        return s_fail(err, 400, "body", "a JSON object is expected");
    if (s_only(body, top, "", err) != FB_OK || s_required(body, top_required, "", err) != FB_OK)
        return FB_ERR_PARSE;
    const json_t *list = json_object_get(body, "candidates");
    size_t max = expected ? expected : VALIDATE_DEFAULT_CANDIDATES;
    if (max > VALIDATE_MAX_CANDIDATES)
        max = VALIDATE_MAX_CANDIDATES;
    if (!json_is_array(list))
        return s_fail(err, 422, "candidates", "expected an array");
    size_t n = json_array_size(list);
    if (n == 0)
        return s_fail(err, 422, "candidates", "at least one candidate is needed");
    if (n > max)
        return s_fail(err, 422, "candidates", "%zu candidates given, at most %zu expected", n, max);
    for (size_t i = 0; i < n; i++) {
        if (s_candidate(json_array_get(list, i), i, n, out, err) != FB_OK) {
            validate_candidates_clear(out);
            return FB_ERR_PARSE;
        }
    }
    out->n = n; /* ranks 1..n each given once: items[0..n-1] are all set */
    if (s_fewer_reason(body, n, expected ? expected : VALIDATE_DEFAULT_CANDIDATES, out, err) !=
        FB_OK) {
        validate_candidates_clear(out);
        return FB_ERR_PARSE;
    }
    return FB_OK;
}

void validate_candidates_clear(validate_candidates_t *c)
{
    for (size_t i = 0; i < VALIDATE_MAX_CANDIDATES; i++) {
        fb_json_free_message(c->items[i].designation ? &c->items[i].designation->base : NULL);
        fb_json_free_message(c->items[i].household ? &c->items[i].household->base : NULL);
    }
    memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------- other actions */

fb_err_t validate_remise(const json_t *body, Fluxbus__V1__RemiseADisposition **out,
                         validate_error_t *err)
{
    static const char *const allowed[] = {"reason", "comment",
                                          "reprise_pour_une_seule_mise_en_location", NULL};
    static const char *const required[] = {"reason", NULL};
    ProtobufCMessage *msg = NULL;
    fb_err_t rc = s_read_body(&fluxbus__v1__remise_adisposition__descriptor, body, allowed,
                              required, "", &msg, err);
    *out = (Fluxbus__V1__RemiseADisposition *)msg;
    if (rc == FB_OK && (*out)->reason == FLUXBUS__V1__REMISE_REASON__REMISE_REASON_UNSPECIFIED) {
        fb_json_free_message(msg);
        *out = NULL;
        return s_fail(err, 422, "reason", "a reason is required (e.g. NO_CANDIDATE)");
    }
    return rc;
}

fb_err_t validate_decline(const json_t *body, Fluxbus__V1__OrientationDecline **out,
                          validate_error_t *err)
{
    static const char *const allowed[] = {"reason", "reason_text", NULL};
    static const char *const required[] = {"reason", NULL};
    ProtobufCMessage *msg = NULL;
    fb_err_t rc = s_read_body(&fluxbus__v1__orientation_decline__descriptor, body, allowed,
                              required, "", &msg, err);
    *out = (Fluxbus__V1__OrientationDecline *)msg;
    if (rc == FB_OK &&
        (*out)->reason ==
            FLUXBUS__V1__ORIENTATION_DECLINE_REASON__ORIENTATION_DECLINE_REASON_UNSPECIFIED) {
        fb_json_free_message(msg);
        *out = NULL;
        return s_fail(err, 422, "reason", "a reason is required (e.g. NOT_IN_CONVENTION)");
    }
    return rc;
}

fb_err_t validate_ack(const json_t *body, Fluxbus__V1__OrientationAck **out, validate_error_t *err)
{
    static const char *const allowed[] = {"comment", NULL};
    static const char *const required[] = {NULL};
    ProtobufCMessage *msg = NULL;
    fb_err_t rc = s_read_body(&fluxbus__v1__orientation_ack__descriptor, body, allowed, required,
                              "", &msg, err);
    *out = (Fluxbus__V1__OrientationAck *)msg;
    return rc;
}
