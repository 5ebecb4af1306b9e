/* decompte_emit.c - the broker's DecompteDroits (see decompte_emit.h).
 *
 * Owns when the décompte is computed again (the schedule below), the scan
 * under way (started, computed off the loop by decompte_scan.c, then its
 * lines looked at a few per call), who receives a line (its party, the
 * bailleur, the observers of its territory), the message id (derived from
 * the line and its sequence number, so the same décompte can never be
 * stored twice) and the order "compare, sign, accept, remember". Does not
 * own the counting (ledger/decompte.c), the computation's thread
 * (decompte_scan.c), the record of what was sent (decompte_sent.c), the
 * payload (decompte_msg.c), storing and delivering (broker.c through
 * decompte_emit_accept_fn) nor signing (notary.c).
 *
 * Invariants: a row of ledger_decompte_sent changes only in the
 * transaction that stored the DecompteDroits it describes. One scan at a
 * time, so the snapshots the lines come from only move forward: a line is
 * never sent from an older state than one sent before it. */
#include "decompte_emit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conventions.h"
#include "decompte_msg.h"
#include "decompte_scan.h"
#include "decompte_sent.h"
#include "fluxbus/catalog.h"
#include "fluxbus/envelope.h"
#include "period.h"

#define S_TYPE FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_DECOMPTE_DROITS
#define S_LOOK_MS (3600 * 1000LL) /* the scan runs at least this often */
#define S_RETRY_MS (60 * 1000LL)  /* after a décompte that could not be computed */
#define S_POLL_MS 10              /* while a scan computes, the loop looks this often */
#define S_STEP_LINES 64           /* lines looked at per call, at most ... */
#define S_STEP_NS 2000000LL       /* ... and for about this long (2 ms) */
#define S_REST_FACTOR 9           /* after a look of C s of CPU, none for 9 C s */
#define S_NEVER INT64_MAX

/* The scan under way. */
typedef struct {
    decompte_scan_t *scan;
    int64_t now; /* when it started: the lines' computed_ms */
    int current_year;
    int64_t poll_ms;                /* while it computes: when the loop looks again */
    bool computed;                  /* its results were taken */
    size_t year, at;                /* the next line to look at */
    const store_actor_t *observers; /* the registry's, as the scan read it */
    size_t n_observers;
    const char **to; /* room for 2 + n_observers recipients */
    size_t emitted;
} s_run_t;

struct decompte_emit {
    store_t *store;
    notary_t *notary;
    decompte_sent_t *sent; /* on the store's connection */
    char *path;            /* the store file, which each scan reads again */
    int64_t interval_ms;
    fb_log_fn log;
    void *log_ctx;
    int64_t dirty_since_ms; /* first change not looked at yet; S_NEVER: none */
    int64_t last_scan_ms;
    int64_t rest_until_ms; /* no look starts before (S_REST_FACTOR) */
    int scanned_year;      /* the current year at the last scan; 0: none this run */
    s_run_t *run;          /* NULL: no scan under way */
};

decompte_emit_t *decompte_emit_new(store_t *store, notary_t *notary, unsigned interval_s,
                                   fb_log_fn log, void *log_ctx, int64_t now_ms, char *err,
                                   size_t errlen)
{
    sqlite3 *db = store_db(store);
    const char *path = sqlite3_db_filename(db, "main");
    if (!path || !*path) {
        snprintf(err, errlen, "décompte: the store is not a file (its scans read it again)");
        return NULL;
    }
    if (decompte_sent_create(db, err, errlen) != FB_OK)
        return NULL;
    decompte_emit_t *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path))) {
        snprintf(err, errlen, "out of memory");
        decompte_emit_destroy(&self);
        return NULL;
    }
    self->sent = decompte_sent_new(db, err, errlen);
    if (!self->sent) {
        decompte_emit_destroy(&self);
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

static void s_run_end(decompte_emit_t *self)
{
    s_run_t *run = self->run;
    if (!run)
        return;
    decompte_scan_destroy(&run->scan);
    free(run->to);
    free(run);
    self->run = NULL;
}

void decompte_emit_destroy(decompte_emit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    decompte_emit_t *self = *self_p;
    s_run_end(self);
    decompte_sent_destroy(&self->sent);
    free(self->path);
    free(self);
    *self_p = NULL;
}

void decompte_emit_touch(decompte_emit_t *self, int64_t now_ms)
{
    if (self->dirty_since_ms == S_NEVER)
        self->dirty_since_ms = now_ms;
}

int64_t decompte_emit_next_ms(const decompte_emit_t *self)
{
    const s_run_t *run = self->run;
    if (run)
        return run->computed || decompte_scan_done(run->scan) ? self->last_scan_ms : run->poll_ms;
    int64_t look = self->last_scan_ms + S_LOOK_MS;
    if (self->dirty_since_ms == S_NEVER)
        return look;
    int64_t changed = self->dirty_since_ms + self->interval_ms;
    int64_t next = changed < look ? changed : look;
    return next > self->rest_until_ms ? next : self->rest_until_ms;
}

bool decompte_emit_busy(const decompte_emit_t *self)
{
    return self->run != NULL;
}

void decompte_emit_wait(decompte_emit_t *self)
{
    if (self->run && !self->run->computed)
        decompte_scan_wait(self->run->scan);
}

/* The line and its sequence number as the message id: the first 16 bytes
 * of SHA-256 of "fluxbus/DecompteDroits/v1", NUL, convention, NUL, scope,
 * NUL, party, NUL, year, NUL, sequence (decimal). */
static fb_err_t s_message_id(const decompte_sent_key_t *k, int64_t seq,
                             uint8_t id[FB_MESSAGE_ID_BYTES])
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
static size_t s_recipients(store_t *store, const s_run_t *run, const conventions_rev_t *rev,
                           const decompte_line_t *line, bool total, int year, const char **to)
{
    static const char *const party_roles[] = {"reservataire", "commune", NULL};
    static const char *const bailleur_roles[] = {"bailleur", NULL};
    size_t n = 0;
    if (s_may_receive(store, line->party, party_roles))
        s_add(to, &n, line->party);
    if (s_may_receive(store, rev->bailleur_actor_id, bailleur_roles))
        s_add(to, &n, rev->bailleur_actor_id);
    for (size_t i = 0; i < run->n_observers; i++)
        if (s_observer_concerned(&run->observers[i], rev, total ? NULL : line->party, year))
            s_add(to, &n, run->observers[i].id);
    return n;
}

/* ---- one line ---------------------------------------------------------------------- */

static bool s_fatal(fb_err_t rc)
{
    return rc == FB_ERR_STORE || rc == FB_ERR_NOMEM;
}

/* Signs the décompte m for key k with sequence seq and hands it over. */
static fb_err_t s_send(decompte_emit_t *self, s_run_t *run, const decompte_sent_key_t *k,
                       decompte_msg_t *m, int64_t seq, size_t n_to, decompte_emit_accept_fn accept,
                       void *ctx, char id_hex[2 * FB_MESSAGE_ID_BYTES + 1])
{
    uint8_t id[FB_MESSAGE_ID_BYTES];
    fb_err_t rc = s_message_id(k, seq, id);
    if (rc != FB_OK)
        return rc;
    fb_hex_encode(id, FB_MESSAGE_ID_BYTES, id_hex);
    m->msg.computed_ms = run->now;
    m->msg.sequence = (uint32_t)seq;
    uint8_t *env = NULL;
    size_t len = 0;
    rc = notary_message(self->notary, S_TYPE, run->to, n_to, NULL, id, &m->msg.base, &env, &len);
    if (rc == FB_OK)
        rc = accept(ctx, env, len, &m->msg.base);
    free(env);
    return rc;
}

/* Line l of year y, computed by the scan: sent when it is due by the
 * record as it stands now (in this transaction), and remembered with it. */
static fb_err_t s_line(decompte_emit_t *self, s_run_t *run, const decompte_scan_year_t *y,
                       const decompte_scan_line_t *l, decompte_emit_accept_fn accept, void *ctx)
{
    decompte_sent_key_t k = decompte_scan_key(l, y->year);
    decompte_sent_row_t last, now_sent;
    fb_err_t rc = decompte_sent_get(self->sent, &k, &last);
    if (rc != FB_OK)
        return rc;
    bool changed;
    if (!decompte_sent_due(&last, l->digest, l->daily, run->now, &changed))
        return FB_OK;
    bool total = l->line == &l->item->total;
    size_t n_to = s_recipients(self->store, run, l->item->rev, l->line, total, y->year, run->to);
    if (n_to == 0) {
        fb_logf(self->log, self->log_ctx, FB_LOG_DEBUG,
                "broker decompte-unsent convention=%s party=%s scope=%s year=%d "
                "detail=\"no registered recipient\"",
                k.convention, k.party, k.scope, y->year);
        return FB_OK;
    }
    decompte_msg_t m;
    decompte_msg_build(&m, l->item, l->line, &y->period);
    char hex[2 * FB_MESSAGE_ID_BYTES + 1];
    memcpy(now_sent.digest, l->digest, sizeof now_sent.digest);
    now_sent.seq = last.seq + 1;
    now_sent.sent_ms = run->now;
    rc = s_send(self, run, &k, &m, now_sent.seq, n_to, accept, ctx, hex);
    if (s_fatal(rc))
        return rc;
    if (rc != FB_OK && rc != FB_ERR_EXISTS) {
        fb_logf(self->log, self->log_ctx, FB_LOG_WARN,
                "broker decompte-refused convention=%s party=%s scope=%s year=%d reason=%s "
                "action=retry-at-next-scan",
                k.convention, k.party, k.scope, y->year, fb_err_name(rc));
        return FB_OK;
    }
    bool stored = rc == FB_OK;
    rc = decompte_sent_put(self->sent, &k, &now_sent, hex);
    if (rc != FB_OK)
        return rc;
    fb_logf(self->log, self->log_ctx, FB_LOG_INFO,
            "broker decompte-sent msg_id=%s convention=%s party=%s scope=%s year=%d seq=%lld "
            "official=%u recipients=%zu why=%s%s",
            hex, k.convention, k.party, k.scope, y->year, (long long)now_sent.seq,
            l->line->tally.counts[DECOMPTE_OFFICIAL], n_to, changed ? "changed" : "daily",
            stored ? "" : " detail=\"stored already\"");
    run->emitted += stored;
    return FB_OK;
}

/* ---- the scan ------------------------------------------------------------------------- */

static int64_t s_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Starts a scan at now: the current year, and the last changes of a year
 * that ended since the previous scan. */
static fb_err_t s_start(decompte_emit_t *self, int64_t now)
{
    self->dirty_since_ms = S_NEVER;
    self->last_scan_ms = now;
    int current = period_year_of(now), years[DECOMPTE_SCAN_MAX_YEARS];
    size_t n = 0;
    if (self->scanned_year != current)
        years[n++] = current - 1;
    years[n++] = current;
    s_run_t *run = calloc(1, sizeof *run);
    if (!run)
        return FB_ERR_NOMEM;
    run->now = now;
    run->current_year = current;
    run->poll_ms = now + S_POLL_MS;
    char err[256] = "";
    run->scan = decompte_scan_start(self->path, years, n, now, err, sizeof err);
    if (!run->scan) {
        free(run);
        fb_logf(self->log, self->log_ctx, FB_LOG_ERROR,
                "broker decompte-failed year=%d detail=\"%s\" action=retry-at-next-scan", current,
                err);
        self->dirty_since_ms = now + S_RETRY_MS;
        return FB_OK;
    }
    self->run = run;
    return FB_OK;
}

/* Takes the computed scan: logs what could not be computed (tried again a
 * minute later), makes room for the recipients. */
static fb_err_t s_computed(decompte_emit_t *self, s_run_t *run)
{
    decompte_scan_wait(run->scan);
    run->computed = true;
    size_t lines = 0, due = 0;
    for (size_t i = 0; i < decompte_scan_years(run->scan); i++) {
        const decompte_scan_year_t *y = decompte_scan_year(run->scan, i);
        lines += y->n_lines;
        due += y->n_due;
        if (!y->failed)
            continue;
        fb_logf(self->log, self->log_ctx, FB_LOG_ERROR,
                "broker decompte-failed year=%d detail=\"%s\" action=retry-at-next-scan", y->year,
                y->err);
        self->dirty_since_ms = run->now + S_RETRY_MS;
    }
    /* The look's thread is busy at most a tenth of the time, however large
     * the ledger: the next one waits nine times the CPU this one took. */
    double seconds = decompte_scan_seconds(run->scan), cpu = decompte_scan_cpu_seconds(run->scan);
    int64_t rest_ms = (int64_t)(cpu * 1000.0 * S_REST_FACTOR);
    self->rest_until_ms = run->now + (int64_t)(seconds * 1000.0) + rest_ms;
    fb_logf(self->log, self->log_ctx, FB_LOG_DEBUG,
            "broker decompte-computed year=%d lines=%zu due=%zu seconds=%.3f cpu=%.3f rest_ms=%lld",
            run->current_year, lines, due, seconds, cpu, (long long)rest_ms);
    run->observers = decompte_scan_observers(run->scan, &run->n_observers);
    run->to = calloc(2 + run->n_observers, sizeof *run->to);
    return run->to ? FB_OK : FB_ERR_NOMEM;
}

/* Looks at the next lines, for about S_STEP_NS (at least one line). */
static fb_err_t s_step(decompte_emit_t *self, s_run_t *run, decompte_emit_accept_fn accept,
                       void *ctx)
{
    int64_t until = s_clock_ns() + S_STEP_NS;
    size_t looked = 0;
    while (run->year < decompte_scan_years(run->scan)) {
        const decompte_scan_year_t *y = decompte_scan_year(run->scan, run->year);
        if (run->at >= y->n_due) {
            run->year++;
            run->at = 0;
            continue;
        }
        if (looked == S_STEP_LINES || (looked && s_clock_ns() >= until))
            return FB_OK;
        fb_err_t rc = s_line(self, run, y, &y->due[run->at], accept, ctx);
        if (rc != FB_OK)
            return rc;
        run->at++;
        looked++;
    }
    return FB_OK;
}

fb_err_t decompte_emit_scan(decompte_emit_t *self, int64_t now_ms, decompte_emit_accept_fn accept,
                            void *ctx, size_t *emitted)
{
    *emitted = 0;
    s_run_t *run = self->run;
    if (!run)
        return s_start(self, now_ms);
    if (!run->computed && !decompte_scan_done(run->scan)) {
        run->poll_ms = now_ms + S_POLL_MS;
        return FB_OK;
    }
    size_t before = run->emitted;
    fb_err_t rc = run->computed ? FB_OK : s_computed(self, run);
    if (rc == FB_OK)
        rc = s_step(self, run, accept, ctx);
    *emitted = run->emitted - before;
    if (rc != FB_OK) {
        /* The caller rolls this step back: the next scan looks at it all again. */
        s_run_end(self);
        decompte_emit_touch(self, now_ms);
        return rc;
    }
    if (run->year == decompte_scan_years(run->scan)) {
        self->scanned_year = run->current_year;
        s_run_end(self);
    }
    return FB_OK;
}
