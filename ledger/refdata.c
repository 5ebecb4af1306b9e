/* refdata.c - the reference data tables (see refdata.h). Owns their SQL,
 * the columns of each kind's CSV file and how a cell is read (dates,
 * amounts, percentages, codes) and written back. Knows nothing of CSV
 * syntax (the caller splits the file into cells) nor of the reports.
 *
 * Each kind is one row of s_specs: its table, its columns (CSV name, SQL
 * column, type) and, for dated kinds, the columns naming one dated series,
 * whose validity ranges may not overlap. */
#include "refdata.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "period.h"

static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS ledger_ref_q1_thresholds ("
    "  epci_siren TEXT NOT NULL, epci_name TEXT, year INTEGER NOT NULL,"
    "  threshold_cents INTEGER NOT NULL, source TEXT, imported_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (epci_siren, year));"
    "CREATE TABLE IF NOT EXISTS ledger_ref_qpv ("
    "  scope TEXT NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL, qpv_code TEXT,"
    "  valid_from TEXT NOT NULL, valid_to TEXT, source TEXT, imported_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (scope, key, valid_from));"
    "CREATE TABLE IF NOT EXISTS ledger_ref_objectives ("
    "  objective TEXT NOT NULL, target_per_mille INTEGER NOT NULL, valid_from TEXT NOT NULL,"
    "  valid_to TEXT, source TEXT, imported_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (objective, valid_from));"
    "CREATE TABLE IF NOT EXISTS ledger_ref_cia_targets ("
    "  epci_siren TEXT NOT NULL, scope TEXT NOT NULL, scope_id TEXT NOT NULL,"
    "  objective TEXT NOT NULL, target_per_mille INTEGER NOT NULL, valid_from TEXT NOT NULL,"
    "  valid_to TEXT, source TEXT, imported_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (epci_siren, scope, scope_id, objective, valid_from));";

/* How a cell is read and stored. */
typedef enum {
    S_TEXT,    /* as written (trimmed) */
    S_SIREN,   /* nine digits */
    S_YEAR,    /* 1900..2999 */
    S_EUROS,   /* "10 520,50" -> 1052050 cents */
    S_PERCENT, /* "27,5" or "27,5 %" -> 275 per mille, 0..100 % */
    S_DATE,    /* "YYYY-MM-DD" or "DD/MM/YYYY" -> "YYYY-MM-DD" */
    S_WORD,    /* one of `words` (any case) -> lower case */
} s_type_t;

typedef struct {
    const char *name; /* CSV header */
    const char *sql;  /* column of the table */
    s_type_t type;
    bool required;
    const char *words; /* S_WORD: the values allowed, '|' between them */
} s_column_t;

#define S_MAX_COLS 8
#define S_OBJECTIVES "q1_hors_qpv|prioritaires|non_q1_en_qpv"

typedef struct {
    const char *kind;
    const char *table;
    s_column_t cols[S_MAX_COLS];
    size_t ncols;
    const char *order;  /* ORDER BY of a listing */
    const char *series; /* dated kinds: columns naming one series ("a = ?1 AND ..."), else NULL */
    size_t nseries;     /* how many of the first columns the series uses */
} s_spec_t;

static const s_spec_t s_specs[REFDATA_KINDS] = {
    [REFDATA_Q1_THRESHOLDS] = {"q1-thresholds",
                               "ledger_ref_q1_thresholds",
                               {{"epci_siren", "epci_siren", S_SIREN, true, NULL},
                                {"epci_name", "epci_name", S_TEXT, false, NULL},
                                {"year", "year", S_YEAR, true, NULL},
                                {"q1_threshold_eur", "threshold_cents", S_EUROS, true, NULL},
                                {"source", "source", S_TEXT, false, NULL}},
                               5,
                               "epci_siren, year",
                               NULL,
                               0},
    [REFDATA_QPV] = {"qpv",
                     "ledger_ref_qpv",
                     {{"scope", "scope", S_WORD, true, "rpls|residence|commune"},
                      {"key", "key", S_TEXT, true, NULL},
                      {"status", "status", S_WORD, true, "in|out"},
                      {"qpv_code", "qpv_code", S_TEXT, false, NULL},
                      {"valid_from", "valid_from", S_DATE, true, NULL},
                      {"valid_to", "valid_to", S_DATE, false, NULL},
                      {"source", "source", S_TEXT, false, NULL}},
                     7,
                     "scope, key, valid_from",
                     "scope = ?1 AND key = ?2",
                     2},
    [REFDATA_OBJECTIVES] = {"objectives",
                            "ledger_ref_objectives",
                            {{"objective", "objective", S_WORD, true, S_OBJECTIVES},
                             {"target_percent", "target_per_mille", S_PERCENT, true, NULL},
                             {"valid_from", "valid_from", S_DATE, true, NULL},
                             {"valid_to", "valid_to", S_DATE, false, NULL},
                             {"source", "source", S_TEXT, false, NULL}},
                            5,
                            "objective, valid_from",
                            "objective = ?1",
                            1},
    [REFDATA_CIA_TARGETS] = {"cia-targets",
                             "ledger_ref_cia_targets",
                             {{"epci_siren", "epci_siren", S_SIREN, true, NULL},
                              {"scope", "scope", S_WORD, true, "epci|commune|bailleur"},
                              {"scope_id", "scope_id", S_TEXT, false, NULL},
                              {"objective", "objective", S_WORD, true, S_OBJECTIVES},
                              {"target_percent", "target_per_mille", S_PERCENT, true, NULL},
                              {"valid_from", "valid_from", S_DATE, true, NULL},
                              {"valid_to", "valid_to", S_DATE, false, NULL},
                              {"source", "source", S_TEXT, false, NULL}},
                             8,
                             "epci_siren, scope, scope_id, objective, valid_from",
                             "epci_siren = ?1 AND scope = ?2 AND scope_id = ?3 AND objective = ?4",
                             4},
};

/* A cell once read: NULL (empty optional cell), an integer or a text. */
typedef struct {
    enum { S_NULL, S_INT, S_STR } kind;
    int64_t i;
    char text[256];
} s_value_t;

fb_err_t refdata_create(sqlite3 *db, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, s_schema, NULL, NULL, &msg) == SQLITE_OK)
        return FB_OK;
    snprintf(err, errlen, "reference data tables: %s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return FB_ERR_STORE;
}

const char *refdata_kind_name(refdata_kind_t kind)
{
    return kind < REFDATA_KINDS ? s_specs[kind].kind : "?";
}

bool refdata_kind_parse(const char *name, refdata_kind_t *out)
{
    for (int k = 0; k < REFDATA_KINDS; k++)
        if (name && strcmp(name, s_specs[k].kind) == 0) {
            *out = (refdata_kind_t)k;
            return true;
        }
    return false;
}

size_t refdata_columns(refdata_kind_t kind, const char *const **names)
{
    static const char *heads[REFDATA_KINDS][S_MAX_COLS];
    const s_spec_t *s = &s_specs[kind];
    for (size_t i = 0; i < s->ncols; i++)
        heads[kind][i] = s->cols[i].name;
    *names = heads[kind];
    return s->ncols;
}

/* ---- reading cells ---- */

static void s_fail(refdata_error_t *e, unsigned line, const char *column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_fail(refdata_error_t *e, unsigned line, const char *column, const char *fmt, ...)
{
    e->line = line;
    snprintf(e->column, sizeof e->column, "%s", column ? column : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof e->reason, fmt, ap);
    va_end(ap);
}

/* Length of a space at s: ' ', tab, U+00A0 or U+202F (French thousands
 * separators), else 0. */
static size_t s_space(const char *s)
{
    if (*s == ' ' || *s == '\t')
        return 1;
    if ((unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0)
        return 2;
    if ((unsigned char)s[0] == 0xE2 && (unsigned char)s[1] == 0x80 && (unsigned char)s[2] == 0xAF)
        return 3;
    return 0;
}

/* Copies cell without the spaces around it into out (cap bytes; may be
 * cell itself); false when it does not fit. */
static bool s_trim(const char *cell, char *out, size_t cap)
{
    size_t n;
    while ((n = s_space(cell)) > 0)
        cell += n;
    size_t len = strlen(cell);
    while (len > 0) {
        size_t k = 0;
        for (size_t back = 1; back <= 3 && back <= len; back++)
            if (s_space(cell + len - back) == back)
                k = back;
        if (!k)
            break;
        len -= k;
    }
    if (len >= cap)
        return false;
    memmove(out, cell, len);
    out[len] = '\0';
    return true;
}

/* A decimal number with at most `frac` decimals after ',' or '.', spaces
 * allowed between digits, as an integer scaled by 10^frac. */
static bool s_decimal(const char *s, int frac, int64_t max, int64_t *out)
{
    int64_t v = 0;
    int digits = 0, decimals = -1;
    while (*s) {
        size_t sp = s_space(s);
        if (sp && digits && decimals < 0) {
            s += sp;
            continue;
        }
        if ((*s == ',' || *s == '.') && digits && decimals < 0) {
            decimals = 0;
            s++;
            continue;
        }
        if (*s < '0' || *s > '9')
            return false;
        if (decimals >= 0 && ++decimals > frac)
            return false;
        v = v * 10 + (*s - '0');
        if (v > max * 100000)
            return false;
        digits++;
        s++;
    }
    if (!digits || decimals == 0)
        return false;
    for (int d = decimals < 0 ? 0 : decimals; d < frac; d++)
        v *= 10;
    if (v > max)
        return false;
    *out = v;
    return true;
}

static bool s_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* "YYYY-MM-DD" or "DD/MM/YYYY", written back as "YYYY-MM-DD". */
static bool s_date(const char *s, char out[11])
{
    period_date_t d;
    if (strlen(s) == 10 && s[2] == '/' && s[5] == '/') {
        char iso[11] = {s[6], s[7], s[8], s[9], '-', s[3], s[4], '-', s[0], s[1], '\0'};
        if (!period_parse_date(iso, &d))
            return false;
    } else if (!period_parse_date(s, &d)) {
        return false;
    }
    period_format_date(d, out);
    return true;
}

/* s in lower case if it is one of the '|'-separated words. */
static bool s_word(const char *s, const char *words, char *out, size_t cap)
{
    size_t len = strlen(s);
    if (len >= cap)
        return false;
    for (size_t i = 0; i <= len; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
    for (const char *w = words; *w;) {
        size_t wl = strcspn(w, "|");
        if (wl == len && strncmp(w, out, len) == 0)
            return true;
        w += wl + (w[wl] == '|');
    }
    return false;
}

/* Reads one cell of column c into v; false with the reason in e. */
static bool s_read_cell(const s_column_t *c, const char *cell, unsigned line, s_value_t *v,
                        refdata_error_t *e)
{
    char t[256];
    if (!s_trim(cell ? cell : "", t, sizeof t)) {
        s_fail(e, line, c->name, "longer than %zu bytes", sizeof t - 1);
        return false;
    }
    v->kind = S_NULL;
    if (!*t) {
        if (c->required)
            s_fail(e, line, c->name, "empty; a value is required");
        return !c->required;
    }
    v->kind = S_STR;
    switch (c->type) {
    case S_TEXT:
        snprintf(v->text, sizeof v->text, "%s", t);
        return true;
    case S_SIREN:
        snprintf(v->text, sizeof v->text, "%s", t);
        if (s_digits(t, 9))
            return true;
        s_fail(e, line, c->name, "\"%s\" is not a SIREN (nine digits)", t);
        return false;
    case S_DATE:
        if (s_date(t, v->text))
            return true;
        s_fail(e, line, c->name, "\"%s\" is not a date (YYYY-MM-DD or DD/MM/YYYY)", t);
        return false;
    case S_WORD:
        if (s_word(t, c->words, v->text, sizeof v->text))
            return true;
        s_fail(e, line, c->name, "\"%s\" is not one of %s", t, c->words);
        return false;
    case S_YEAR:
        v->kind = S_INT;
        if (s_digits(t, 4) && atoi(t) >= 1900 && atoi(t) <= 2999) {
            v->i = atoi(t);
            return true;
        }
        s_fail(e, line, c->name, "\"%s\" is not a year (1900-2999)", t);
        return false;
    case S_EUROS:
        v->kind = S_INT;
        if (s_decimal(t, 2, INT64_C(100000000000), &v->i))
            return true;
        s_fail(e, line, c->name, "\"%s\" is not an amount in euros (e.g. 10 520,50)", t);
        return false;
    case S_PERCENT: {
        v->kind = S_INT;
        size_t len = strlen(t);
        if (len && t[len - 1] == '%') { /* "55 %": the sign and the space before it */
            t[len - 1] = '\0';
            s_trim(t, t, sizeof t);
        }
        if (s_decimal(t, 1, 1000, &v->i))
            return true;
        s_fail(e, line, c->name, "\"%s\" is not a percentage from 0 to 100 (e.g. 27,5)", t);
        return false;
    }
    }
    return false;
}

/* ---- rules across the cells of one row ---- */

static bool s_insee(const char *s)
{
    return strlen(s) == 5 && ((s[0] >= '0' && s[0] <= '9') || s[0] == '2') &&
           ((s[1] >= '0' && s[1] <= '9') || s[1] == 'A' || s[1] == 'B') && s_digits(s + 2, 3);
}

/* The value of the column named `name` in v (spec order). */
static s_value_t *s_col(const s_spec_t *s, s_value_t *v, const char *name)
{
    for (size_t i = 0; i < s->ncols; i++)
        if (strcmp(s->cols[i].name, name) == 0)
            return &v[i];
    return NULL;
}

/* A QPV row's key fits its scope: an RPLS id, "SIREN:residence", or an
 * INSEE code. */
static bool s_check_qpv(const s_spec_t *s, s_value_t *v, unsigned line, refdata_error_t *e)
{
    const char *scope = s_col(s, v, "scope")->text, *key = s_col(s, v, "key")->text;
    if (strcmp(scope, "commune") == 0 && !s_insee(key)) {
        s_fail(e, line, "key", "\"%s\" is not an INSEE commune code (5 characters)", key);
        return false;
    }
    if (strcmp(scope, "residence") == 0) {
        const char *colon = strchr(key, ':');
        char siren[16] = "";
        if (colon && colon - key < (long)sizeof siren)
            memcpy(siren, key, (size_t)(colon - key));
        if (!colon || !s_digits(siren, 9) || !colon[1]) {
            s_fail(e, line, "key", "\"%s\" is not SIREN:residence_id", key);
            return false;
        }
    }
    return true;
}

/* A CIA target's scope_id fits its scope; an EPCI-wide target's is the
 * EPCI itself. */
static bool s_check_cia(const s_spec_t *s, s_value_t *v, unsigned line, refdata_error_t *e)
{
    const char *scope = s_col(s, v, "scope")->text, *epci = s_col(s, v, "epci_siren")->text;
    s_value_t *id = s_col(s, v, "scope_id");
    if (strcmp(scope, "epci") == 0) {
        if (id->kind != S_NULL && strcmp(id->text, epci) != 0) {
            s_fail(e, line, "scope_id", "\"%s\" is not the EPCI %s (leave it empty)", id->text,
                   epci);
            return false;
        }
        id->kind = S_STR;
        memcpy(id->text, epci, strlen(epci) + 1); /* both are s_value_t texts */
        return true;
    }
    if (id->kind == S_NULL) {
        s_fail(e, line, "scope_id", "empty; a %s needs its %s", scope,
               strcmp(scope, "commune") == 0 ? "INSEE code" : "SIREN or actor id");
        return false;
    }
    if (strcmp(scope, "commune") == 0 && !s_insee(id->text)) {
        s_fail(e, line, "scope_id", "\"%s\" is not an INSEE commune code (5 characters)", id->text);
        return false;
    }
    return true;
}

static bool s_check_row(refdata_kind_t kind, s_value_t *v, unsigned line, refdata_error_t *e)
{
    const s_spec_t *s = &s_specs[kind];
    s_value_t *from = s_col(s, v, "valid_from"), *to = s_col(s, v, "valid_to");
    if (from && to && to->kind != S_NULL && strcmp(to->text, from->text) < 0) {
        s_fail(e, line, "valid_to", "%s is before valid_from %s", to->text, from->text);
        return false;
    }
    if (kind == REFDATA_QPV)
        return s_check_qpv(s, v, line, e);
    if (kind == REFDATA_CIA_TARGETS)
        return s_check_cia(s, v, line, e);
    return true;
}

/* ---- importing ---- */

/* map[i] = the header cell of spec column i, or -1 when absent. */
static bool s_map_header(const s_spec_t *s, const refdata_row_t *h, long *map, refdata_error_t *e)
{
    for (size_t i = 0; i < s->ncols; i++)
        map[i] = -1;
    for (size_t k = 0; k < h->n; k++) {
        char name[64];
        if (!s_trim(h->cells[k], name, sizeof name))
            name[0] = '\0';
        size_t i = 0;
        while (i < s->ncols && strcmp(s->cols[i].name, name) != 0)
            i++;
        if (i == s->ncols) {
            char all[256] = "";
            for (size_t j = 0; j < s->ncols; j++)
                snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", j ? ";" : "",
                         s->cols[j].name);
            s_fail(e, h->line, name, "unknown column for %s (columns: %s)", s->kind, all);
            return false;
        }
        if (map[i] >= 0) {
            s_fail(e, h->line, name, "column given twice");
            return false;
        }
        map[i] = (long)k;
    }
    for (size_t i = 0; i < s->ncols; i++)
        if (map[i] < 0 && s->cols[i].required) {
            s_fail(e, h->line, s->cols[i].name, "missing column");
            return false;
        }
    return true;
}

static void s_bind(sqlite3_stmt *st, int at, const s_value_t *v)
{
    if (v->kind == S_INT)
        sqlite3_bind_int64(st, at, v->i);
    else if (v->kind == S_STR)
        sqlite3_bind_text(st, at, v->text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, at);
}

typedef struct {
    sqlite3 *db;
    const s_spec_t *spec;
    sqlite3_stmt *insert;
    sqlite3_stmt *overlap; /* dated kinds only */
} s_import_t;

static fb_err_t s_prepare(s_import_t *im, refdata_error_t *e)
{
    const s_spec_t *s = im->spec;
    char cols[512] = "", marks[128] = "", sql[1024];
    for (size_t i = 0; i < s->ncols; i++) {
        snprintf(cols + strlen(cols), sizeof cols - strlen(cols), "%s, ", s->cols[i].sql);
        snprintf(marks + strlen(marks), sizeof marks - strlen(marks), "?, ");
    }
    snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO %s (%simported_ms) VALUES (%s?)", s->table,
             cols, marks);
    if (sqlite3_prepare_v2(im->db, sql, -1, &im->insert, NULL) != SQLITE_OK)
        goto fail;
    if (!s->series)
        return FB_OK;
    /* Another row of the same series whose range meets [from, to]. */
    snprintf(sql, sizeof sql,
             "SELECT valid_from, valid_to FROM %s WHERE %s AND valid_from <> ?10"
             " AND valid_from <= coalesce(?11, '9999-12-31')"
             " AND coalesce(valid_to, '9999-12-31') >= ?10 LIMIT 1",
             s->table, s->series);
    if (sqlite3_prepare_v2(im->db, sql, -1, &im->overlap, NULL) != SQLITE_OK)
        goto fail;
    return FB_OK;
fail:
    s_fail(e, 0, NULL, "%s: %s", s->table, sqlite3_errmsg(im->db));
    return FB_ERR_STORE;
}

/* Refuses a row whose validity meets another of its series. */
static fb_err_t s_check_overlap(s_import_t *im, const s_value_t *v, unsigned line,
                                refdata_error_t *e)
{
    const s_spec_t *s = im->spec;
    sqlite3_reset(im->overlap);
    sqlite3_clear_bindings(im->overlap);
    for (size_t i = 0; i < s->nseries; i++)
        s_bind(im->overlap, (int)i + 1, &v[i]); /* a series is the first columns */
    s_bind(im->overlap, 10, s_col(s, (s_value_t *)v, "valid_from"));
    s_bind(im->overlap, 11, s_col(s, (s_value_t *)v, "valid_to"));
    int rc = sqlite3_step(im->overlap);
    if (rc == SQLITE_DONE)
        return FB_OK;
    if (rc != SQLITE_ROW) {
        s_fail(e, line, NULL, "%s: %s", s->table, sqlite3_errmsg(im->db));
        return FB_ERR_STORE;
    }
    const char *to = (const char *)sqlite3_column_text(im->overlap, 1);
    s_fail(e, line, "valid_from", "overlaps the row valid from %s to %s of the same %s",
           (const char *)sqlite3_column_text(im->overlap, 0), to ? to : "(open)",
           s->nseries == 1 ? "objective" : "key");
    return FB_ERR_PARSE;
}

static fb_err_t s_import_row(s_import_t *im, refdata_kind_t kind, const long *map,
                             const refdata_row_t *row, int64_t now_ms, refdata_error_t *e)
{
    const s_spec_t *s = im->spec;
    s_value_t v[S_MAX_COLS];
    for (size_t i = 0; i < s->ncols; i++) {
        const char *cell = map[i] >= 0 && (size_t)map[i] < row->n ? row->cells[map[i]] : "";
        if (!s_read_cell(&s->cols[i], cell, row->line, &v[i], e))
            return FB_ERR_PARSE;
    }
    if (!s_check_row(kind, v, row->line, e))
        return FB_ERR_PARSE;
    sqlite3_reset(im->insert);
    for (size_t i = 0; i < s->ncols; i++)
        s_bind(im->insert, (int)i + 1, &v[i]);
    sqlite3_bind_int64(im->insert, (int)s->ncols + 1, now_ms);
    if (sqlite3_step(im->insert) != SQLITE_DONE) {
        s_fail(e, row->line, NULL, "%s: %s", s->table, sqlite3_errmsg(im->db));
        return FB_ERR_STORE;
    }
    return s->series ? s_check_overlap(im, v, row->line, e) : FB_OK;
}

fb_err_t refdata_import(sqlite3 *db, refdata_kind_t kind, const refdata_row_t *header,
                        const refdata_row_t *rows, size_t n, int64_t now_ms, size_t *imported,
                        refdata_error_t *error)
{
    memset(error, 0, sizeof *error);
    *imported = 0;
    s_import_t im = {.db = db, .spec = &s_specs[kind]};
    long map[S_MAX_COLS];
    if (!s_map_header(im.spec, header, map, error))
        return FB_ERR_PARSE;
    fb_err_t rc = s_prepare(&im, error);
    if (rc == FB_OK && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        s_fail(error, 0, NULL, "cannot start a transaction: %s", sqlite3_errmsg(db));
        rc = FB_ERR_STORE;
    }
    if (rc == FB_OK) {
        for (size_t i = 0; rc == FB_OK && i < n; i++)
            rc = s_import_row(&im, kind, map, &rows[i], now_ms, error);
        if (rc == FB_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            s_fail(error, 0, NULL, "cannot commit: %s", sqlite3_errmsg(db));
            rc = FB_ERR_STORE;
        }
        if (rc != FB_OK)
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    sqlite3_finalize(im.insert);
    sqlite3_finalize(im.overlap);
    if (rc == FB_OK)
        *imported = n;
    return rc;
}

/* ---- listing ---- */

/* An integer scaled by 10^frac (1 or 2) written with a decimal comma, the
 * decimals only when there are some ("10520", "10520,50", "27,5"). */
static void s_format_scaled(int64_t v, int frac, char *out, size_t cap)
{
    int64_t scale = frac == 2 ? 100 : 10;
    int64_t whole = v / scale, part = v % scale;
    if (!part)
        snprintf(out, cap, "%lld", (long long)whole);
    else
        snprintf(out, cap, frac == 2 ? "%lld,%02lld" : "%lld,%lld", (long long)whole,
                 (long long)part);
}

static bool s_table_exists(sqlite3 *db, const char *table)
{
    sqlite3_stmt *st = NULL;
    bool found = false;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

fb_err_t refdata_list(sqlite3 *db, refdata_kind_t kind, refdata_row_fn fn, void *arg, char *err,
                      size_t errlen)
{
    const s_spec_t *s = &s_specs[kind];
    char sql[512] = "SELECT ";
    for (size_t i = 0; i < s->ncols; i++)
        snprintf(sql + strlen(sql), sizeof sql - strlen(sql), "%s%s", i ? ", " : "",
                 s->cols[i].sql);
    snprintf(sql + strlen(sql), sizeof sql - strlen(sql), " FROM %s ORDER BY %s", s->table,
             s->order);
    if (!s_table_exists(db, s->table)) /* a store older than the tables: none yet */
        return FB_OK;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", s->table, sqlite3_errmsg(db));
        return FB_ERR_STORE;
    }
    int rc;
    char cells[S_MAX_COLS][256];
    const char *values[S_MAX_COLS];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (size_t i = 0; i < s->ncols; i++) {
            const char *t = (const char *)sqlite3_column_text(st, (int)i);
            if (s->cols[i].type == S_EUROS || s->cols[i].type == S_PERCENT)
                s_format_scaled(sqlite3_column_int64(st, (int)i),
                                s->cols[i].type == S_EUROS ? 2 : 1, cells[i], sizeof cells[i]);
            else
                snprintf(cells[i], sizeof cells[i], "%s", t ? t : "");
            values[i] = cells[i];
        }
        if (fn(arg, s->ncols, values) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        snprintf(err, errlen, "%s: %s", s->table, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
}

/* ---- lookups ---- */

struct refdata {
    sqlite3 *db;
    bool present; /* the tables exist */
    sqlite3_stmt *qpv, *q1, *objective, *cia;
};

static const char s_valid_on[] = " valid_from <= ?9 AND (valid_to IS NULL OR valid_to >= ?9)";

refdata_t *refdata_new(sqlite3 *db, char *err, size_t errlen)
{
    refdata_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->db = db;
    self->present = s_table_exists(db, "ledger_ref_cia_targets");
    if (!self->present)
        return self;
    char qpv[256], objective[256], cia[384];
    snprintf(qpv, sizeof qpv,
             "SELECT status, qpv_code FROM ledger_ref_qpv WHERE scope = ?1 AND key = ?2 AND%s"
             " ORDER BY valid_from DESC LIMIT 1",
             s_valid_on);
    snprintf(objective, sizeof objective,
             "SELECT target_per_mille, valid_from, valid_to, source FROM ledger_ref_objectives"
             " WHERE objective = ?1 AND%s ORDER BY valid_from DESC LIMIT 1",
             s_valid_on);
    snprintf(cia, sizeof cia,
             "SELECT objective, scope, scope_id, target_per_mille, valid_from, valid_to, source"
             " FROM ledger_ref_cia_targets WHERE epci_siren = ?1 AND%s"
             " ORDER BY objective, scope, scope_id",
             s_valid_on);
    if (sqlite3_prepare_v2(db, qpv, -1, &self->qpv, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT threshold_cents, epci_name FROM ledger_ref_q1_thresholds"
                           " WHERE epci_siren = ?1 AND year = ?2",
                           -1, &self->q1, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, objective, -1, &self->objective, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, cia, -1, &self->cia, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "reference data: %s", sqlite3_errmsg(db));
        refdata_destroy(&self);
    }
    return self;
}

void refdata_destroy(refdata_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    refdata_t *self = *self_p;
    sqlite3_finalize(self->qpv);
    sqlite3_finalize(self->q1);
    sqlite3_finalize(self->objective);
    sqlite3_finalize(self->cia);
    free(self);
    *self_p = NULL;
}

static void s_copy_col(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    snprintf(out, cap, "%s", t ? t : "");
}

/* One QPV row of (scope, key) valid on date. */
static refdata_qpv_t s_qpv_row(refdata_t *self, const char *scope, const char *key,
                               const char *date, char *code, size_t codelen)
{
    sqlite3_reset(self->qpv);
    sqlite3_bind_text(self->qpv, 1, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(self->qpv, 2, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(self->qpv, 9, date, -1, SQLITE_TRANSIENT);
    refdata_qpv_t found = REFDATA_QPV_NONE;
    if (sqlite3_step(self->qpv) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(self->qpv, 0);
        found = status && strcmp(status, "in") == 0 ? REFDATA_QPV_IN : REFDATA_QPV_OUT;
        if (code)
            s_copy_col(self->qpv, 1, code, codelen);
    }
    sqlite3_reset(self->qpv);
    return found;
}

refdata_qpv_t refdata_qpv_on(refdata_t *self, const char *rpls_id, const char *bailleur_siren,
                             const char *residence_id, const char *commune_insee, const char *date,
                             char *code, size_t codelen)
{
    if (code && codelen)
        code[0] = '\0';
    if (!self->present)
        return REFDATA_QPV_NONE;
    refdata_qpv_t q = REFDATA_QPV_NONE;
    if (rpls_id && *rpls_id)
        q = s_qpv_row(self, "rpls", rpls_id, date, code, codelen);
    if (!q && bailleur_siren && *bailleur_siren && residence_id && *residence_id) {
        char key[256];
        snprintf(key, sizeof key, "%s:%s", bailleur_siren, residence_id);
        q = s_qpv_row(self, "residence", key, date, code, codelen);
    }
    if (!q && commune_insee && *commune_insee)
        q = s_qpv_row(self, "commune", commune_insee, date, code, codelen);
    return q;
}

bool refdata_q1_threshold(refdata_t *self, const char *epci_siren, int year, int64_t *cents,
                          char *name, size_t namelen)
{
    if (!self->present)
        return false;
    sqlite3_reset(self->q1);
    sqlite3_bind_text(self->q1, 1, epci_siren ? epci_siren : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(self->q1, 2, year);
    bool found = sqlite3_step(self->q1) == SQLITE_ROW;
    if (found) {
        *cents = sqlite3_column_int64(self->q1, 0);
        if (name)
            s_copy_col(self->q1, 1, name, namelen);
    }
    sqlite3_reset(self->q1);
    return found;
}

/* Fills t from the columns (target, from, to, source) starting at col. */
static void s_target_cols(sqlite3_stmt *st, int col, refdata_target_t *t)
{
    t->target_per_mille = (uint32_t)sqlite3_column_int64(st, col);
    s_copy_col(st, col + 1, t->valid_from, sizeof t->valid_from);
    s_copy_col(st, col + 2, t->valid_to, sizeof t->valid_to);
    s_copy_col(st, col + 3, t->source, sizeof t->source);
}

bool refdata_objective_on(refdata_t *self, const char *objective, const char *date,
                          refdata_target_t *out)
{
    if (!self->present)
        return false;
    sqlite3_reset(self->objective);
    sqlite3_bind_text(self->objective, 1, objective, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(self->objective, 9, date, -1, SQLITE_TRANSIENT);
    bool found = sqlite3_step(self->objective) == SQLITE_ROW;
    if (found) {
        memset(out, 0, sizeof *out);
        snprintf(out->objective, sizeof out->objective, "%s", objective);
        snprintf(out->scope, sizeof out->scope, "national");
        s_target_cols(self->objective, 0, out);
    }
    sqlite3_reset(self->objective);
    return found;
}

size_t refdata_cia_targets_on(refdata_t *self, const char *epci_siren, const char *date,
                              refdata_target_t *out, size_t cap)
{
    if (!self->present)
        return 0;
    sqlite3_reset(self->cia);
    sqlite3_bind_text(self->cia, 1, epci_siren ? epci_siren : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(self->cia, 9, date, -1, SQLITE_TRANSIENT);
    size_t n = 0;
    while (sqlite3_step(self->cia) == SQLITE_ROW) {
        if (n < cap) {
            refdata_target_t *t = &out[n];
            memset(t, 0, sizeof *t);
            s_copy_col(self->cia, 0, t->objective, sizeof t->objective);
            s_copy_col(self->cia, 1, t->scope, sizeof t->scope);
            s_copy_col(self->cia, 2, t->scope_id, sizeof t->scope_id);
            s_target_cols(self->cia, 3, t);
        }
        n++;
    }
    sqlite3_reset(self->cia);
    return n;
}
