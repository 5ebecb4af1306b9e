/* decompte_emit.c - the broker's DecompteDroits (see decompte_emit.h).
 *
 * Owns when the décompte is computed again (the schedule below), the table
 * ledger_decompte_sent (what was last sent per convention, party or total,
 * and year), who receives a line (its party, the bailleur, the observers of
 * its territory), the message id (derived from the line and its sequence
 * number, so the same décompte can never be stored twice) and the order
 * "compute, compare, sign, accept, remember". Does not own the counting
 * (ledger/decompte.c), the payload (decompte_msg.c), storing and delivering
 * (broker.c through decompte_emit_accept_fn) nor signing (notary.c).
 *
 * Invariant: a row of ledger_decompte_sent changes only in the transaction
 * that stored the DecompteDroits it describes. */
#include "decompte_emit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conventions.h"
#include "decompte.h"
#include "decompte_msg.h"
#include "fluxbus/catalog.h"
#include "fluxbus/envelope.h"
#include "period.h"

#define S_TYPE FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_DECOMPTE_DROITS
#define S_DAY_MS (24 * 3600 * 1000LL) /* a line with activity is sent again after this */
#define S_LOOK_MS (3600 * 1000LL)     /* the scan runs at least this often */
#define S_RETRY_MS (60 * 1000LL)      /* after a décompte that could not be computed */
#define S_NEVER INT64_MAX

static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS ledger_decompte_sent ("
    "  convention_id TEXT NOT NULL, party TEXT NOT NULL, scope TEXT NOT NULL,"
    "  year INTEGER NOT NULL, digest BLOB NOT NULL, seq INTEGER NOT NULL,"
    "  sent_ms INTEGER NOT NULL, message_id TEXT NOT NULL,"
    "  PRIMARY KEY (convention_id, party, scope, year));";

struct decompte_emit {
    store_t *store;
    notary_t *notary;
    int64_t interval_ms;
    fb_log_fn log;
    void *log_ctx;
    int64_t dirty_since_ms; /* first change not looked at yet; S_NEVER: none */
    int64_t last_scan_ms;
    int scanned_year; /* the current year at the last scan; 0: none this run */
};

decompte_emit_t *decompte_emit_new(store_t *store, notary_t *notary, unsigned interval_s,
                                   fb_log_fn log, void *log_ctx, int64_t now_ms, char *err,
                                   size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(store_db(store), s_schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "ledger_decompte_sent: %s",
                 msg ? msg : sqlite3_errmsg(store_db(store)));
        sqlite3_free(msg);
        return NULL;
    }
    decompte_emit_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->store = store;
    self->notary = notary;
    self->interval_ms = (int64_t)interval_s * 1000;
    self->log = log;
    self->log_ctx = log_ctx;
    /* What a crash may have left unsent is looked at once after the start. */
    self->dirty_since_ms = now_ms;
    self->last_scan_ms = now_ms;
    return self;
}

void decompte_emit_destroy(decompte_emit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

void decompte_emit_touch(decompte_emit_t *self, int64_t now_ms)
{
    if (self->dirty_since_ms == S_NEVER)
        self->dirty_since_ms = now_ms;
}

int64_t decompte_emit_next_ms(const decompte_emit_t *self)
{
    int64_t look = self->last_scan_ms + S_LOOK_MS;
    if (self->dirty_since_ms == S_NEVER)
        return look;
    int64_t changed = self->dirty_since_ms + self->interval_ms;
    return changed < look ? changed : look;
}

/* ---- what was last sent ------------------------------------------------------- */

typedef struct {
    const char *convention, *party, *scope;
    int year;
} s_key_t;

typedef struct {
    bool found;
    uint8_t digest[32];
    int64_t seq, sent_ms;
} s_sent_t;

static fb_err_t s_sent_get(sqlite3 *db, const s_key_t *k, s_sent_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT digest, seq, sent_ms FROM ledger_decompte_sent"
                           " WHERE convention_id = ? AND party = ? AND scope = ? AND year = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return FB_ERR_STORE;
    sqlite3_bind_text(st, 1, k->convention, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->scope, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, k->year);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
        out->found = true;
        memcpy(out->digest, sqlite3_column_blob(st, 0), 32);
        out->seq = sqlite3_column_int64(st, 1);
        out->sent_ms = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
}

static fb_err_t s_sent_put(sqlite3 *db, const s_key_t *k, const s_sent_t *s, const char *id_hex)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT OR REPLACE INTO ledger_decompte_sent (convention_id, party,"
                           " scope, year, digest, seq, sent_ms, message_id)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return FB_ERR_STORE;
    sqlite3_bind_text(st, 1, k->convention, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->scope, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, k->year);
    sqlite3_bind_blob(st, 5, s->digest, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, s->seq);
    sqlite3_bind_int64(st, 7, s->sent_ms);
    sqlite3_bind_text(st, 8, id_hex, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
}

/* The line and its sequence number as the message id: the first 16 bytes
 * of SHA-256 of "fluxbus/DecompteDroits/v1", NUL, convention, NUL, scope,
 * NUL, party, NUL, year, NUL, sequence (decimal). */
static fb_err_t s_message_id(const s_key_t *k, int64_t seq, uint8_t id[FB_MESSAGE_ID_BYTES])
{
    char numbers[48];
    int nlen = snprintf(numbers, sizeof numbers, "%d%c%lld", k->year, 0, (long long)seq);
    const char *parts[4] = {"fluxbus/DecompteDroits/v1", k->convention, k->scope, k->party};
    size_t len = (size_t)nlen + 1;
    for (int i = 0; i < 4; i++)
        len += strlen(parts[i]) + 1;
    uint8_t *buf = malloc(len);
    if (!buf)
        return FB_ERR_NOMEM;
    size_t at = 0;
    for (int i = 0; i < 4; i++) {
        memcpy(buf + at, parts[i], strlen(parts[i]) + 1);
        at += strlen(parts[i]) + 1;
    }
    memcpy(buf + at, numbers, (size_t)nlen);
    uint8_t digest[32];
    fb_sha256(buf, len - 1, digest);
    free(buf);
    memcpy(id, digest, FB_MESSAGE_ID_BYTES);
    return FB_OK;
}

/* ---- recipients ------------------------------------------------------------------ */

typedef struct {
    store_actor_t *items;
    size_t n;
    fb_err_t rc;
} s_observers_t;

static void s_on_actor(void *ctx, const store_actor_t *actor)
{
    s_observers_t *o = ctx;
    if (o->rc != FB_OK || actor->revoked_at_ms || !store_list_has(actor->roles, "observer"))
        return;
    store_actor_t *p = realloc(o->items, (o->n + 1) * sizeof *p);
    if (!p) {
        o->rc = FB_ERR_NOMEM;
        return;
    }
    o->items = p;
    o->items[o->n++] = *actor;
}

/* Is `actor` registered, active, and does it hold one of `roles`? */
static bool s_may_receive(store_t *store, const char *actor, const char *const *roles)
{
    store_actor_t a;
    if (!actor || !*actor || store_actor_get(store, actor, &a) != FB_OK || a.revoked_at_ms)
        return false;
    for (size_t i = 0; roles[i]; i++)
        if (store_list_has(a.roles, roles[i]))
            return true;
    return false;
}

/* Does the territory of `party` (NULL: the whole convention) in `year` meet
 * the observer's? An observer without territory follows only the
 * conventions whose territory is unlimited. */
static bool s_observer_concerned(const store_actor_t *obs, const conventions_rev_t *rev,
                                 const char *party, int year)
{
    if (!obs->territories[0])
        return conventions_covers(rev, party, year, "");
    char list[STORE_LIST_MAX];
    snprintf(list, sizeof list, "%s", obs->territories);
    for (char *save = NULL, *code = strtok_r(list, ",", &save); code;
         code = strtok_r(NULL, ",", &save))
        if (conventions_covers(rev, party, year, code))
            return true;
    return false;
}

static void s_add(const char **to, size_t *n, const char *actor)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(to[i], actor) == 0)
            return;
    to[(*n)++] = actor;
}

/* The line's party (a réservataire or a commune), the convention's
 * bailleur, the observers concerned; to holds 2 + observers entries. */
static size_t s_recipients(store_t *store, const s_observers_t *obs, const conventions_rev_t *rev,
                           const decompte_line_t *line, bool total, int year, const char **to)
{
    static const char *const party_roles[] = {"reservataire", "commune", NULL};
    static const char *const bailleur_roles[] = {"bailleur", NULL};
    size_t n = 0;
    if (s_may_receive(store, line->party, party_roles))
        s_add(to, &n, line->party);
    if (s_may_receive(store, rev->bailleur_actor_id, bailleur_roles))
        s_add(to, &n, rev->bailleur_actor_id);
    for (size_t i = 0; i < obs->n; i++)
        if (s_observer_concerned(&obs->items[i], rev, total ? NULL : line->party, year))
            s_add(to, &n, obs->items[i].id);
    return n;
}

/* ---- one line ---------------------------------------------------------------------- */

typedef struct {
    decompte_emit_t *self;
    int64_t now;
    int current_year;
    decompte_emit_accept_fn accept;
    void *ctx;
    s_observers_t observers;
    const char **to;
    size_t emitted;
} s_scan_t;

static bool s_fatal(fb_err_t rc)
{
    return rc == FB_ERR_STORE || rc == FB_ERR_NOMEM;
}

/* Signs the décompte m for key k with sequence seq and hands it over. */
static fb_err_t s_send(s_scan_t *scan, const s_key_t *k, decompte_msg_t *m, int64_t seq,
                       size_t n_to, char id_hex[2 * FB_MESSAGE_ID_BYTES + 1])
{
    uint8_t id[FB_MESSAGE_ID_BYTES];
    fb_err_t rc = s_message_id(k, seq, id);
    if (rc != FB_OK)
        return rc;
    fb_hex_encode(id, FB_MESSAGE_ID_BYTES, id_hex);
    m->msg.computed_ms = scan->now;
    m->msg.sequence = (uint32_t)seq;
    uint8_t *env = NULL;
    size_t len = 0;
    rc = notary_message(scan->self->notary, S_TYPE, scan->to, n_to, NULL, id, &m->msg.base, &env,
                        &len);
    if (rc == FB_OK)
        rc = scan->accept(scan->ctx, env, len, &m->msg.base);
    free(env);
    return rc;
}

static fb_err_t s_line(s_scan_t *scan, const decompte_convention_t *item,
                       const decompte_line_t *line, const period_t *period, int year)
{
    decompte_emit_t *self = scan->self;
    bool total = line == &item->total;
    bool active = decompte_msg_active(line);
    if (item->rev->year != year && !active)
        return FB_OK; /* an older convention with nothing this year: nothing to say */
    decompte_msg_t m;
    decompte_msg_build(&m, item, line, period);
    s_key_t k = {item->rev->convention_id, line->party, total ? "total" : "party", year};
    s_sent_t last, now_sent;
    fb_err_t rc = decompte_msg_digest(&m, now_sent.digest);
    if (rc == FB_OK)
        rc = s_sent_get(store_db(self->store), &k, &last);
    if (rc != FB_OK)
        return rc;
    bool changed = !last.found || memcmp(last.digest, now_sent.digest, 32) != 0;
    bool daily =
        !changed && active && year == scan->current_year && scan->now - last.sent_ms >= S_DAY_MS;
    if (!changed && !daily)
        return FB_OK;
    size_t n_to =
        s_recipients(self->store, &scan->observers, item->rev, line, total, year, scan->to);
    if (n_to == 0) {
        fb_logf(self->log, self->log_ctx, FB_LOG_DEBUG,
                "broker decompte-unsent convention=%s party=%s scope=%s year=%d "
                "detail=\"no registered recipient\"",
                k.convention, k.party, k.scope, year);
        return FB_OK;
    }
    char hex[2 * FB_MESSAGE_ID_BYTES + 1];
    now_sent.seq = last.seq + 1;
    now_sent.sent_ms = scan->now;
    rc = s_send(scan, &k, &m, now_sent.seq, n_to, hex);
    if (s_fatal(rc))
        return rc;
    if (rc != FB_OK && rc != FB_ERR_EXISTS) {
        fb_logf(self->log, self->log_ctx, FB_LOG_WARN,
                "broker decompte-refused convention=%s party=%s scope=%s year=%d reason=%s "
                "action=retry-at-next-scan",
                k.convention, k.party, k.scope, year, fb_err_name(rc));
        return FB_OK;
    }
    bool stored = rc == FB_OK;
    rc = s_sent_put(store_db(self->store), &k, &now_sent, hex);
    if (rc != FB_OK)
        return rc;
    fb_logf(self->log, self->log_ctx, FB_LOG_INFO,
            "broker decompte-sent msg_id=%s convention=%s party=%s scope=%s year=%d seq=%lld "
            "official=%u recipients=%zu why=%s%s",
            hex, k.convention, k.party, k.scope, year, (long long)now_sent.seq,
            line->tally.counts[DECOMPTE_OFFICIAL], n_to, changed ? "changed" : "daily",
            stored ? "" : " detail=\"stored already\"");
    scan->emitted += stored;
    return FB_OK;
}

/* ---- the scan ------------------------------------------------------------------------- */

static fb_err_t s_year(s_scan_t *scan, int year)
{
    decompte_emit_t *self = scan->self;
    period_t period = period_year(year);
    decompte_query_t q = {.period = period};
    char err[256] = "";
    decompte_t *d = decompte_run(store_db(self->store), &q, err, sizeof err);
    if (!d) {
        fb_logf(self->log, self->log_ctx, FB_LOG_ERROR,
                "broker decompte-failed year=%d detail=\"%s\" action=retry-at-next-scan", year,
                err);
        self->dirty_since_ms = scan->now + S_RETRY_MS;
        return FB_OK;
    }
    fb_err_t rc = FB_OK;
    for (size_t i = 0; rc == FB_OK && i < d->n_items; i++) {
        const decompte_convention_t *item = &d->items[i];
        for (size_t l = 0; rc == FB_OK && l < item->n_lines; l++)
            rc = s_line(scan, item, &item->lines[l], &period, year);
        if (rc == FB_OK && conventions_multipartite(item->rev))
            rc = s_line(scan, item, &item->total, &period, year);
    }
    decompte_destroy(&d);
    return rc;
}

fb_err_t decompte_emit_scan(decompte_emit_t *self, int64_t now_ms, decompte_emit_accept_fn accept,
                            void *ctx, size_t *emitted)
{
    s_scan_t scan = {.self = self,
                     .now = now_ms,
                     .current_year = period_year_of(now_ms),
                     .accept = accept,
                     .ctx = ctx};
    *emitted = 0;
    self->dirty_since_ms = S_NEVER;
    self->last_scan_ms = now_ms;
    fb_err_t rc = store_actor_each(self->store, s_on_actor, &scan.observers);
    if (rc == FB_OK)
        rc = scan.observers.rc;
    if (rc == FB_OK) {
        scan.to = calloc(2 + scan.observers.n, sizeof *scan.to);
        rc = scan.to ? FB_OK : FB_ERR_NOMEM;
    }
    /* The last changes of a year that ended since the previous scan. */
    if (rc == FB_OK && self->scanned_year != scan.current_year)
        rc = s_year(&scan, scan.current_year - 1);
    if (rc == FB_OK)
        rc = s_year(&scan, scan.current_year);
    if (rc == FB_OK)
        self->scanned_year = scan.current_year;
    free(scan.to);
    free(scan.observers.items);
    *emitted = scan.emitted;
    return rc;
}
