/* sne_format.c - JSON of SNE requests and answers (see sne_format.h and
 * docs/SNE-FILES.md). Owns the member names and their types; knows nothing
 * of files or of what the SNE decides. */
#include "sne_format.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_status_names[] = {
    [SNE_STATUS_RECORDED] = "RECORDED",
    [SNE_STATUS_RADIEE] = "RADIEE",
    [SNE_STATUS_ALREADY_RADIEE] = "ALREADY_RADIEE",
    [SNE_STATUS_UNKNOWN_NUR] = "UNKNOWN_NUR",
    [SNE_STATUS_INVALID_NUR] = "INVALID_NUR",
    [SNE_STATUS_REJECTED] = "REJECTED",
    [SNE_STATUS_RETRY_LATER] = "RETRY_LATER",
};

const char *sne_status_name(sne_status_t status)
{
    if (status <= SNE_STATUS_NONE || status > SNE_STATUS_RETRY_LATER)
        return NULL;
    return s_status_names[status];
}

sne_status_t sne_status_from_name(const char *name)
{
    for (int s = SNE_STATUS_RECORDED; s <= SNE_STATUS_RETRY_LATER; s++)
        if (name && strcmp(name, s_status_names[s]) == 0)
            return (sne_status_t)s;
    return SNE_STATUS_NONE;
}

bool sne_record_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n >= SNE_RECORD_ID_MAX || id[0] == '.')
        return false;
    return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* ---- output ---- */

/* Sets key to a string unless it is empty; false when out of memory. */
static bool s_set_str(json_t *obj, const char *key, const char *value)
{
    if (!value || !*value)
        return true;
    return json_object_set_new(obj, key, json_string(value)) == 0;
}

static bool s_set_date(json_t *obj, const char *key, sne_date_t d)
{
    char buf[11];
    sne_date_format(d, buf);
    return s_set_str(obj, key, buf);
}

static json_t *s_bailleur_json(const sne_record_t *r)
{
    json_t *b = json_object();
    if (b && s_set_str(b, "siren", r->bailleur_siren) &&
        s_set_str(b, "actor_id", r->bailleur_actor_id))
        return b;
    json_decref(b);
    return NULL;
}

static json_t *s_logement_json(const sne_record_t *r)
{
    json_t *l = json_object();
    if (l && s_set_str(l, "vacancy_id", r->vacancy_id) && s_set_str(l, "rpls_id", r->rpls_id) &&
        s_set_str(l, "commune_insee", r->commune_insee))
        return l;
    json_decref(l);
    return NULL;
}

static json_t *s_source_json(const sne_record_t *r)
{
    json_t *s = json_object();
    if (s && s_set_str(s, "type", r->source_type) &&
        s_set_str(s, "message_id", r->source_message_id))
        return s;
    json_decref(s);
    return NULL;
}

/* The members only one kind has. */
static bool s_kind_members(json_t *j, const sne_record_t *r)
{
    switch (r->kind) {
    case SNE_KIND_ATTRIBUTION:
        return s_set_str(j, "decision", r->decision) &&
               (!r->rank || json_object_set_new(j, "rank", json_integer(r->rank)) == 0) &&
               json_object_set_new(j, "revision", json_integer(r->revision)) == 0 &&
               s_set_str(j, "condition_state", r->condition_state) &&
               s_set_str(j, "missing_document", r->missing_document);
    case SNE_KIND_NON_SUIVIE:
        return s_set_str(j, "non_suite_motif", r->non_suite_motif) &&
               s_set_str(j, "motif_text", r->motif_text);
    case SNE_KIND_RADIATION:
        return s_set_date(j, "effective_on", r->effective_on);
    default:
        return true;
    }
}

json_t *sne_record_to_json(const sne_record_t *r)
{
    json_t *j = json_object();
    if (!j)
        return NULL;
    bool ok = json_object_set_new(j, "format", json_string(SNE_RECORD_FORMAT)) == 0 &&
              s_set_str(j, "record_id", r->record_id) &&
              s_set_str(j, "kind", sne_kind_name(r->kind)) &&
              json_object_set_new(j, "nur", json_string(r->nur ? r->nur : "")) == 0 &&
              s_set_date(j, "date", r->date) &&
              json_object_set_new(j, "bailleur", s_bailleur_json(r)) == 0 &&
              json_object_set_new(j, "logement", s_logement_json(r)) == 0 &&
              s_set_str(j, "designataire_actor_id", r->designataire_actor_id) &&
              json_object_set_new(j, "q1", json_boolean(r->q1)) == 0 &&
              json_object_set_new(j, "relogement_anru", json_boolean(r->relogement_anru)) == 0 &&
              (r->suivie_de_bail == SNE_SUIVIE_NA ||
               json_object_set_new(j, "suivie_de_bail",
                                   json_boolean(r->suivie_de_bail == SNE_SUIVIE_OUI)) == 0) &&
              s_kind_members(j, r) && json_object_set_new(j, "source", s_source_json(r)) == 0;
    if (ok)
        return j;
    json_decref(j);
    return NULL;
}

/* ---- input ---- */

static fb_err_t s_problem(sne_problem_t *p, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static fb_err_t s_problem(sne_problem_t *p, const char *field, const char *fmt, ...)
{
    snprintf(p->field, sizeof p->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->message, sizeof p->message, fmt, ap);
    va_end(ap);
    return FB_ERR_PARSE;
}

/* `path` ("logement.rpls_id") looked up in obj: NULL when absent or null. */
static const json_t *s_member(const json_t *obj, const char *path)
{
    const char *dot = strchr(path, '.');
    if (!dot) {
        const json_t *v = json_object_get(obj, path);
        return json_is_null(v) ? NULL : v;
    }
    char head[64];
    snprintf(head, sizeof head, "%.*s", (int)(dot - path), path);
    const json_t *inner = json_object_get(obj, head);
    return json_is_object(inner) ? s_member(inner, dot + 1) : NULL;
}

/* A copy of the string at `path` ("" when absent) in *out. */
static fb_err_t s_get_str(const json_t *obj, const char *path, char **out, sne_problem_t *p)
{
    const json_t *v = s_member(obj, path);
    if (v && !json_is_string(v))
        return s_problem(p, path, "must be a string");
    *out = strdup(v ? json_string_value(v) : "");
    return *out ? FB_OK : FB_ERR_NOMEM;
}

static fb_err_t s_get_bool(const json_t *obj, const char *path, bool *out, bool *present,
                           sne_problem_t *p)
{
    const json_t *v = s_member(obj, path);
    if (present)
        *present = v != NULL;
    if (v && !json_is_boolean(v))
        return s_problem(p, path, "must be true or false");
    *out = v && json_is_true(v);
    return FB_OK;
}

static fb_err_t s_get_uint(const json_t *obj, const char *path, unsigned *out, sne_problem_t *p)
{
    const json_t *v = s_member(obj, path);
    if (v && (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000))
        return s_problem(p, path, "must be a whole number from 0 to 1000000");
    *out = v ? (unsigned)json_integer_value(v) : 0;
    return FB_OK;
}

/* "YYYY-MM-DD" by its shape only; the numbers are kept as they are. */
static fb_err_t s_get_date(const json_t *obj, const char *path, sne_date_t *out, sne_problem_t *p)
{
    const json_t *v = s_member(obj, path);
    memset(out, 0, sizeof *out);
    if (!v)
        return FB_OK;
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    bool shape = strlen(s) == 10 && s[4] == '-' && s[7] == '-';
    for (int i = 0; shape && i < 10; i++)
        shape = i == 4 || i == 7 || (s[i] >= '0' && s[i] <= '9');
    if (!shape)
        return s_problem(p, path, "must be a date written YYYY-MM-DD");
    out->year = atoi(s);
    out->month = atoi(s + 5);
    out->day = atoi(s + 8);
    return FB_OK;
}

static fb_err_t s_check_format(const json_t *json, const char *want, sne_problem_t *p)
{
    if (!json_is_object(json))
        return s_problem(p, "", "not a JSON object");
    const json_t *f = json_object_get(json, "format");
    if (!json_is_string(f) || strcmp(json_string_value(f), want) != 0)
        return s_problem(p, "format", "must be \"%s\"", want);
    return FB_OK;
}

static fb_err_t s_get_record_id(const json_t *json, char id[SNE_RECORD_ID_MAX], sne_problem_t *p)
{
    const json_t *v = json_object_get(json, "record_id");
    if (!json_is_string(v) || !sne_record_id_valid(json_string_value(v)))
        return s_problem(p, "record_id",
                         "missing, or not 1..%d characters of A-Z a-z 0-9 . _ - "
                         "(not starting with '.')",
                         SNE_RECORD_ID_MAX - 1);
    snprintf(id, SNE_RECORD_ID_MAX, "%s", json_string_value(v));
    return FB_OK;
}

static fb_err_t s_record_strings(const json_t *j, sne_record_t *r, sne_problem_t *p)
{
    struct {
        const char *path;
        char **out;
    } strs[] = {
        {"nur", &r->nur},
        {"bailleur.siren", &r->bailleur_siren},
        {"bailleur.actor_id", &r->bailleur_actor_id},
        {"logement.vacancy_id", &r->vacancy_id},
        {"logement.rpls_id", &r->rpls_id},
        {"logement.commune_insee", &r->commune_insee},
        {"designataire_actor_id", &r->designataire_actor_id},
        {"decision", &r->decision},
        {"condition_state", &r->condition_state},
        {"missing_document", &r->missing_document},
        {"non_suite_motif", &r->non_suite_motif},
        {"motif_text", &r->motif_text},
        {"source.type", &r->source_type},
        {"source.message_id", &r->source_message_id},
    };
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
        fb_err_t rc = s_get_str(j, strs[i].path, strs[i].out, p);
        if (rc != FB_OK)
            return rc;
    }
    const char *objects[] = {"bailleur", "logement", "source"};
    for (size_t i = 0; i < 3; i++) {
        const json_t *o = json_object_get(j, objects[i]);
        if (o && !json_is_null(o) && !json_is_object(o))
            return s_problem(p, objects[i], "must be an object");
    }
    return FB_OK;
}

fb_err_t sne_record_from_json(const json_t *j, sne_record_t *r, sne_problem_t *p)
{
    memset(r, 0, sizeof *r);
    memset(p, 0, sizeof *p);
    fb_err_t rc = s_check_format(j, SNE_RECORD_FORMAT, p);
    if (rc == FB_OK)
        rc = s_get_record_id(j, r->record_id, p);
    if (rc == FB_OK) {
        const json_t *kind = json_object_get(j, "kind");
        r->kind = sne_kind_from_name(json_string_value(kind));
        if (r->kind == SNE_KIND_NONE)
            rc = s_problem(p, "kind", "must be \"attribution\", \"non_suivie\" or \"radiation\"");
    }
    if (rc == FB_OK)
        rc = s_record_strings(j, r, p);
    bool suivie = false, has_suivie = false;
    if (rc == FB_OK)
        rc = s_get_bool(j, "q1", &r->q1, NULL, p);
    if (rc == FB_OK)
        rc = s_get_bool(j, "relogement_anru", &r->relogement_anru, NULL, p);
    if (rc == FB_OK)
        rc = s_get_bool(j, "suivie_de_bail", &suivie, &has_suivie, p);
    r->suivie_de_bail = !has_suivie ? SNE_SUIVIE_NA : suivie ? SNE_SUIVIE_OUI : SNE_SUIVIE_NON;
    if (rc == FB_OK)
        rc = s_get_uint(j, "rank", &r->rank, p);
    if (rc == FB_OK)
        rc = s_get_uint(j, "revision", &r->revision, p);
    if (rc == FB_OK)
        rc = s_get_date(j, "date", &r->date, p);
    if (rc == FB_OK)
        rc = s_get_date(j, "effective_on", &r->effective_on, p);
    if (rc == FB_ERR_NOMEM)
        s_problem(p, "", "out of memory");
    if (rc != FB_OK) {
        sne_record_clear(r);
        return rc;
    }
    return FB_OK;
}

json_t *sne_answer_to_json(const sne_answer_t *a)
{
    json_t *j = json_object();
    if (!j)
        return NULL;
    bool ok = json_object_set_new(j, "format", json_string(SNE_ANSWER_FORMAT)) == 0 &&
              s_set_str(j, "record_id", a->record_id) &&
              s_set_str(j, "kind", sne_kind_name(a->kind)) && s_set_str(j, "nur", a->nur) &&
              s_set_str(j, "status", sne_status_name(a->status)) &&
              s_set_date(j, "radiated_on", a->radiated_on) && s_set_str(j, "field", a->field) &&
              json_object_set_new(j, "message", json_string(a->message)) == 0 &&
              s_set_str(j, "answered_at", a->answered_at);
    if (ok)
        return j;
    json_decref(j);
    return NULL;
}

/* Copies the string member `key` (absent: "") into buf, cut to fit. */
static fb_err_t s_copy_str(const json_t *j, const char *key, char *buf, size_t cap,
                           sne_problem_t *p)
{
    const json_t *v = json_object_get(j, key);
    if (v && !json_is_null(v) && !json_is_string(v))
        return s_problem(p, key, "must be a string");
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    size_t n = strlen(s);
    if (n >= cap) {
        /* Cut on a UTF-8 character boundary: the text goes into protobuf
         * strings, which must stay valid UTF-8. */
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return FB_OK;
}

fb_err_t sne_answer_from_json(const json_t *j, sne_answer_t *a, sne_problem_t *p)
{
    memset(a, 0, sizeof *a);
    memset(p, 0, sizeof *p);
    fb_err_t rc = s_check_format(j, SNE_ANSWER_FORMAT, p);
    if (rc == FB_OK)
        rc = s_get_record_id(j, a->record_id, p);
    if (rc == FB_OK) {
        const json_t *kind = json_object_get(j, "kind");
        a->kind = sne_kind_from_name(json_string_value(kind));
        if (kind && !json_is_null(kind) && a->kind == SNE_KIND_NONE)
            rc = s_problem(p, "kind", "must be \"attribution\", \"non_suivie\" or \"radiation\"");
    }
    if (rc == FB_OK) {
        a->status = sne_status_from_name(json_string_value(json_object_get(j, "status")));
        if (a->status == SNE_STATUS_NONE)
            rc = s_problem(p, "status",
                           "must be one of RECORDED, RADIEE, ALREADY_RADIEE, UNKNOWN_NUR, "
                           "INVALID_NUR, REJECTED, RETRY_LATER");
    }
    if (rc == FB_OK)
        rc = s_copy_str(j, "nur", a->nur, sizeof a->nur, p);
    if (rc == FB_OK)
        rc = s_copy_str(j, "field", a->field, sizeof a->field, p);
    if (rc == FB_OK)
        rc = s_copy_str(j, "message", a->message, sizeof a->message, p);
    if (rc == FB_OK)
        rc = s_copy_str(j, "answered_at", a->answered_at, sizeof a->answered_at, p);
    if (rc == FB_OK) {
        rc = s_get_date(j, "radiated_on", &a->radiated_on, p);
        if (rc == FB_OK && a->radiated_on.year && !sne_date_valid(a->radiated_on))
            rc = s_problem(p, "radiated_on", "is not a calendar date");
    }
    return rc;
}
