/* logements_feed.c - the dwelling feeds, JSON and CSV (see
 * logements_feed.h). Each dwelling is first made into its JSON entry; the
 * CSV row is a view of that entry, so both formats always say the same. */
#include "logements_feed.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_cell.h"
#include "feed_format.h"

/* A JSON string, or null for NULL / "" (unset proto3 strings). */
static json_t *s_str(const char *s)
{
    json_t *j = s && *s ? json_string(s) : NULL;
    return j ? j : json_null();
}

/* A JSON string taking a malloc'd s, null when NULL or "". */
static json_t *s_str_take(char *s)
{
    json_t *j = s_str(s);
    free(s);
    return j;
}

static json_t *s_int_or_null(int64_t v)
{
    return v ? json_integer((json_int_t)v) : json_null();
}

static json_t *s_enum(const ProtobufCEnumDescriptor *desc, int value, bool lower)
{
    char buf[64];
    return s_str(feed_format_enum(desc, value, lower, buf, sizeof buf));
}

/* The street lines of an address in one line, without postal code and city. */
static json_t *s_street(const Fluxbus__V1__Address *address)
{
    if (!address)
        return json_null();
    Fluxbus__V1__Address street = *address;
    street.postal_code = "";
    street.city = "";
    return s_str_take(feed_format_address(&street));
}

/* {"outcome", "contingent", "date"} of one LogementIssue. */
static void s_set_outcome(json_t *o, const Fluxbus__V1__LogementIssue *issue, const char *k_outcome,
                          const char *k_contingent, const char *k_date)
{
    json_object_set_new(
        o, k_outcome,
        issue ? s_enum(&fluxbus__v1__logement_issue_kind__descriptor, issue->issue, true)
              : json_null());
    json_object_set_new(
        o, k_contingent,
        issue ? s_enum(&fluxbus__v1__contingent_type__descriptor, issue->contingent, true)
              : json_null());
    json_object_set_new(o, k_date, issue ? s_str_take(feed_format_date(issue->date)) : json_null());
}

/* The public facts of the LogementLibere (all null when there is none). */
static void s_set_dwelling(json_t *o, const Fluxbus__V1__LogementLibere *l,
                           const Fluxbus__V1__LogementIssue *last)
{
    const char *rpls = l && *l->rpls_id ? l->rpls_id : last ? last->rpls_id : NULL;
    const char *insee = l ? l->commune_insee : last ? last->commune_insee : NULL;
    json_object_set_new(o, "rpls_id", s_str(rpls));
    json_object_set_new(o, "commune_insee", s_str(insee));
    json_object_set_new(o, "address", s_street(l ? l->address : NULL));
    json_object_set_new(o, "postal_code", s_str(l && l->address ? l->address->postal_code : NULL));
    json_object_set_new(o, "city", s_str(l && l->address ? l->address->city : NULL));
    json_object_set_new(o, "typologie",
                        l ? s_enum(&fluxbus__v1__typologie__descriptor, l->typologie, false)
                          : json_null());
    json_object_set_new(o, "surface_m2_x100", s_int_or_null(l ? l->surface_m2_x100 : 0));
    json_object_set_new(o, "loyer_cents", s_int_or_null(l ? l->loyer_cents : 0));
    json_object_set_new(o, "charges_cents", s_int_or_null(l ? l->charges_cents : 0));
    json_object_set_new(o, "financement",
                        l ? s_enum(&fluxbus__v1__financement__descriptor, l->financement, false)
                          : json_null());
    json_object_set_new(
        o, "qpv", l ? s_enum(&fluxbus__v1__qpv_status__descriptor, l->qpv, true) : json_null());
    json_object_set_new(o, "qpv_map_year", s_int_or_null(l ? l->qpv_map_year : 0));
    json_object_set_new(o, "available_on",
                        l ? s_str_take(feed_format_date(l->available_on)) : json_null());
    json_object_set_new(o, "mode_gestion",
                        l ? s_enum(&fluxbus__v1__mode_gestion__descriptor, l->mode_gestion, true)
                          : json_null());
    json_object_set_new(
        o, "first_letting",
        l ? json_boolean(l->mode_gestion == FLUXBUS__V1__MODE_GESTION__MODE_GESTION_STOCK)
          : json_null());
}

/* The JSON entry of one dwelling of the feed. */
static json_t *s_entry(const feed_logement_t *row)
{
    const Fluxbus__V1__LogementIssue *last = row->n_issues ? row->issues[row->n_issues - 1] : NULL;
    json_t *o = json_object();
    json_t *history = json_array();
    if (!o || !history) {
        json_decref(o);
        json_decref(history);
        return NULL;
    }
    json_object_set_new(o, "vacancy_id", s_str(row->vacancy_id));
    s_set_dwelling(o, row->logement, last);
    s_set_outcome(o, last, "outcome", "contingent", "outcome_date");
    for (size_t i = 0; i < row->n_issues; i++) {
        json_t *h = json_object();
        if (h)
            s_set_outcome(h, row->issues[i], "outcome", "contingent", "date");
        json_array_append_new(history, h);
    }
    json_object_set_new(o, "history", history);
    return o;
}

typedef struct {
    json_t *entries;
    bool nomem;
} s_collect_t;

static void s_collect(void *ctx, const feed_logement_t *row)
{
    s_collect_t *c = ctx;
    json_t *entry = s_entry(row);
    if (!entry || json_array_append_new(c->entries, entry) != 0)
        c->nomem = true;
}

/* The JSON entries of every dwelling, in feed order. */
static json_t *s_entries(feed_store_t *store, fb_err_t *err)
{
    s_collect_t c = {json_array(), false};
    if (!c.entries) {
        *err = FB_ERR_NOMEM;
        return NULL;
    }
    *err = feed_store_each_logement(store, s_collect, &c);
    if (*err == FB_OK && c.nomem)
        *err = FB_ERR_NOMEM;
    if (*err != FB_OK) {
        json_decref(c.entries);
        return NULL;
    }
    return c.entries;
}

json_t *logements_feed_json(feed_store_t *store, fb_err_t *err)
{
    json_t *entries = s_entries(store, err);
    if (!entries)
        return NULL;
    json_t *feed = json_pack("{s:o}", "logements", entries);
    if (!feed)
        *err = FB_ERR_NOMEM;
    return feed;
}

/* ---- CSV ---- */

/* How a JSON value becomes a cell. */
typedef enum { S_TEXT, S_NUMBER, S_MONEY, S_SURFACE, S_DATE, S_YESNO } s_cell_kind_t;

typedef struct {
    const char *header;
    const char *key; /* in the JSON entry */
    s_cell_kind_t kind;
} s_column_t;

static const s_column_t s_columns[] = {
    {"vacancy_id", "vacancy_id", S_TEXT},
    {"rpls_id", "rpls_id", S_TEXT},
    {"commune_insee", "commune_insee", S_TEXT},
    {"address", "address", S_TEXT},
    {"postal_code", "postal_code", S_TEXT},
    {"city", "city", S_TEXT},
    {"typologie", "typologie", S_TEXT},
    {"surface_m2", "surface_m2_x100", S_SURFACE},
    {"loyer", "loyer_cents", S_MONEY},
    {"charges", "charges_cents", S_MONEY},
    {"financement", "financement", S_TEXT},
    {"qpv", "qpv", S_TEXT},
    {"qpv_map_year", "qpv_map_year", S_NUMBER},
    {"available_on", "available_on", S_DATE},
    {"mode_gestion", "mode_gestion", S_TEXT},
    {"first_letting", "first_letting", S_YESNO},
    {"outcome", "outcome", S_TEXT},
    {"contingent", "contingent", S_TEXT},
    {"outcome_date", "outcome_date", S_DATE},
};

#define S_N_COLUMNS (sizeof s_columns / sizeof s_columns[0])

/* A growing buffer; `nomem` once an append failed. */
typedef struct {
    char *data;
    size_t len, cap;
    bool nomem;
} s_buf_t;

static void s_put(s_buf_t *b, const char *s, size_t n)
{
    if (b->nomem)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->nomem = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void s_puts(s_buf_t *b, const char *s)
{
    s_put(b, s, strlen(s));
}

/* Writes one cell, quoted when it must be (RFC 4180 style, ';'), guarded
 * against formulas (csv_cell.h). */
static void s_put_cell(s_buf_t *b, const char *text, bool guard)
{
    bool formula = guard && csv_cell_is_formula(text);
    bool quote = csv_cell_needs_quotes(text);
    if (quote)
        s_puts(b, "\"");
    if (formula)
        s_puts(b, "'");
    for (const char *p = text; *p; p++)
        s_put(b, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
    if (quote)
        s_puts(b, "\"");
}

/* "2025-03-01" -> "01/03/2025"; anything else as it is. */
static void s_put_date(s_buf_t *b, const char *iso)
{
    int y, m, d;
    char fr[16];
    if (strlen(iso) == 10 && sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) == 3) {
        snprintf(fr, sizeof fr, "%02d/%02d/%04d", d, m, y);
        s_puts(b, fr);
    } else {
        s_put_cell(b, iso, true);
    }
}

static void s_put_value(s_buf_t *b, const json_t *v, s_cell_kind_t kind)
{
    char *num = NULL;
    if (!v || json_is_null(v))
        return; /* empty cell */
    switch (kind) {
    case S_TEXT:
        s_put_cell(b, json_string_value(v) ? json_string_value(v) : "", true);
        break;
    case S_NUMBER: {
        char n[32];
        snprintf(n, sizeof n, "%lld", (long long)json_integer_value(v));
        s_puts(b, n);
        break;
    }
    case S_MONEY:
    case S_SURFACE:
        num = feed_format_x100((int64_t)json_integer_value(v), ',', kind == S_MONEY);
        if (!num)
            b->nomem = true;
        else
            s_puts(b, num);
        free(num);
        break;
    case S_DATE:
        s_put_date(b, json_string_value(v) ? json_string_value(v) : "");
        break;
    case S_YESNO:
        s_puts(b, json_is_true(v) ? "oui" : "non");
        break;
    }
}

char *logements_feed_csv(feed_store_t *store, size_t *len, fb_err_t *err)
{
    *len = 0;
    json_t *entries = s_entries(store, err);
    if (!entries)
        return NULL;
    s_buf_t b = {0};
    for (size_t c = 0; c < S_N_COLUMNS; c++) {
        s_puts(&b, c ? ";" : "");
        s_puts(&b, s_columns[c].header);
    }
    s_puts(&b, "\r\n");
    size_t i;
    json_t *entry;
    json_array_foreach(entries, i, entry)
    {
        for (size_t c = 0; c < S_N_COLUMNS; c++) {
            s_puts(&b, c ? ";" : "");
            s_put_value(&b, json_object_get(entry, s_columns[c].key), s_columns[c].kind);
        }
        s_puts(&b, "\r\n");
    }
    json_decref(entries);
    if (b.nomem) {
        free(b.data);
        *err = FB_ERR_NOMEM;
        return NULL;
    }
    *len = b.len;
    return b.data;
}
