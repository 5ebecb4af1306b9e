/* decompte_scan.c - the décompte computed off the loop thread (see
 * decompte_scan.h).
 *
 * Owns the worker thread, its connection (a store_t of its own on the same
 * file, opened and closed by the thread itself so that the loop thread
 * never waits for it; it only reads) and its read transaction, and the
 * first sorting of the lines: which are due by the record as of the
 * snapshot. Does not own the counting (ledger/decompte.c), the payload
 * (decompte_msg.c), the record (decompte_sent.c) nor anything that is sent
 * (decompte_emit.c).
 *
 * Invariants: the worker writes nothing, and nothing but its own fields
 * until `done` is set; the owner reads the results only after that (the
 * thread joined). A stop request interrupts the worker's statements through
 * a progress handler: it ends within a few thousand SQLite steps. */
#include "decompte_scan.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "background.h"
#include "decompte_msg.h"
#include "decompte_sent.h"
#include "store.h"

#define S_PROGRESS_STEPS 1000 /* SQLite steps between two looks at the stop flag */

struct decompte_scan {
    char *path;
    int64_t now_ms;
    int current_year;
    decompte_scan_year_t years[DECOMPTE_SCAN_MAX_YEARS];
    size_t n_years;
    store_actor_t *observers;
    size_t n_observers;
    fb_err_t observers_rc;
    double seconds, cpu_seconds;
    pthread_t thread;
    bool joined;
    atomic_bool done, stop;
};

static double s_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* SQLite's progress handler: non-zero interrupts the running statement. */
static int s_progress(void *ctx)
{
    decompte_scan_t *self = ctx;
    return atomic_load_explicit(&self->stop, memory_order_relaxed);
}

static bool s_fail(decompte_scan_year_t *y, const char *what, const char *why)
{
    y->failed = true;
    snprintf(y->err, sizeof y->err, "%s%s", what, why);
    decompte_destroy(&y->d);
    free(y->due);
    y->due = NULL;
    y->n_due = 0;
    return false;
}

/* Looks at one line: an older convention's line without activity this year
 * says nothing; the others are due or not by the record. */
static bool s_look(decompte_scan_t *self, decompte_sent_t *sent, decompte_scan_year_t *y,
                   const decompte_convention_t *item, const decompte_line_t *line)
{
    bool active = decompte_msg_active(line);
    if ((int)item->rev->year != y->year && !active)
        return true;
    decompte_scan_line_t l = {
        .item = item, .line = line, .daily = active && y->year == self->current_year};
    decompte_msg_t m;
    decompte_msg_build(&m, item, line, &y->period);
    if (decompte_msg_digest(&m, l.digest) != FB_OK)
        return s_fail(y, "out of memory", "");
    decompte_sent_key_t key = decompte_scan_key(&l, y->year);
    decompte_sent_row_t last;
    if (decompte_sent_get(sent, &key, &last) != FB_OK)
        return s_fail(y, "ledger_decompte_sent: ", "cannot be read");
    bool changed;
    if (decompte_sent_due(&last, l.digest, l.daily, self->now_ms, &changed))
        y->due[y->n_due++] = l;
    return true;
}

/* Year y's lines, and those of them that are due. */
static void s_year(decompte_scan_t *self, sqlite3 *db, decompte_sent_t *sent,
                   decompte_scan_year_t *y)
{
    decompte_query_t q = {.period = y->period};
    y->d = decompte_lines(db, &q, 0, y->err, sizeof y->err);
    if (!y->d) {
        y->failed = true;
        return;
    }
    for (size_t k = 0; k < y->d->n_items; k++)
        y->n_lines += y->d->items[k].n_lines + conventions_multipartite(y->d->items[k].rev);
    y->due = calloc(y->n_lines + 1, sizeof *y->due);
    if (!y->due) {
        s_fail(y, "out of memory", "");
        return;
    }
    bool ok = true;
    for (size_t k = 0; ok && k < y->d->n_items; k++) {
        const decompte_convention_t *item = &y->d->items[k];
        for (size_t l = 0; ok && l < item->n_lines; l++)
            ok = s_look(self, sent, y, item, &item->lines[l]);
        if (ok && conventions_multipartite(item->rev))
            ok = s_look(self, sent, y, item, &item->total);
    }
    /* Nothing due: the lines are freed here rather than on the loop thread. */
    if (ok && y->n_due == 0)
        decompte_destroy(&y->d);
}

/* An active observer into the scan's list. */
static void s_on_actor(void *ctx, const store_actor_t *actor)
{
    decompte_scan_t *self = ctx;
    if (self->observers_rc != FB_OK || actor->revoked_at_ms ||
        !store_list_has(actor->roles, "observer"))
        return;
    store_actor_t *p = realloc(self->observers, (self->n_observers + 1) * sizeof *p);
    if (!p) {
        self->observers_rc = FB_ERR_NOMEM;
        return;
    }
    self->observers = p;
    self->observers[self->n_observers++] = *actor;
}

/* The observers, then each year, in one read transaction: every statement
 * reads the same snapshot. */
static void s_read(decompte_scan_t *self, store_t *store, char *err, size_t errlen)
{
    sqlite3 *db = store_db(store);
    sqlite3_progress_handler(db, S_PROGRESS_STEPS, s_progress, self);
    bool snapshot = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    if (!snapshot)
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    fb_err_t rc = snapshot ? store_actor_each(store, s_on_actor, self) : FB_ERR_STORE;
    if (snapshot && (rc != FB_OK || self->observers_rc != FB_OK))
        snprintf(err, errlen, "the observers cannot be read: %s",
                 fb_err_name(rc != FB_OK ? rc : self->observers_rc));
    bool ok = snapshot && rc == FB_OK && self->observers_rc == FB_OK;
    decompte_sent_t *sent = ok ? decompte_sent_new(db, err, errlen) : NULL;
    for (size_t i = 0; i < self->n_years; i++) {
        if (sent)
            s_year(self, db, sent, &self->years[i]);
        else
            s_fail(&self->years[i], "décompte: ", err);
    }
    decompte_sent_destroy(&sent);
    if (snapshot)
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}

static void *s_run(void *arg)
{
    decompte_scan_t *self = arg;
    background_thread_lower();
    double t0 = s_clock();
    char err[256] = "";
    store_t *store = store_open(self->path, err, sizeof err);
    if (store)
        s_read(self, store, err, sizeof err);
    else
        for (size_t i = 0; i < self->n_years; i++)
            s_fail(&self->years[i], "décompte: ", err);
    store_destroy(&store);
    self->seconds = s_clock() - t0;
    self->cpu_seconds = background_thread_cpu_s();
    atomic_store_explicit(&self->done, true, memory_order_release);
    return NULL;
}

decompte_scan_t *decompte_scan_start(const char *path, const int *years, size_t n, int64_t now_ms,
                                     char *err, size_t errlen)
{
    decompte_scan_t *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path))) {
        free(self);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->now_ms = now_ms;
    self->current_year = period_year_of(now_ms);
    self->n_years = n < DECOMPTE_SCAN_MAX_YEARS ? n : DECOMPTE_SCAN_MAX_YEARS;
    for (size_t i = 0; i < self->n_years; i++) {
        self->years[i].year = years[i];
        self->years[i].period = period_year(years[i]);
    }
    atomic_init(&self->done, false);
    atomic_init(&self->stop, false);
    int rc = pthread_create(&self->thread, NULL, s_run, self);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the décompte's thread: %s", strerror(rc));
        free(self->path);
        free(self);
        return NULL;
    }
    return self;
}

bool decompte_scan_done(const decompte_scan_t *self)
{
    return atomic_load_explicit(&((decompte_scan_t *)self)->done, memory_order_acquire);
}

void decompte_scan_wait(decompte_scan_t *self)
{
    if (!self->joined)
        pthread_join(self->thread, NULL);
    self->joined = true;
}

size_t decompte_scan_years(const decompte_scan_t *self)
{
    return self->n_years;
}

const decompte_scan_year_t *decompte_scan_year(const decompte_scan_t *self, size_t i)
{
    return i < self->n_years ? &self->years[i] : NULL;
}

double decompte_scan_seconds(const decompte_scan_t *self)
{
    return self->seconds;
}

double decompte_scan_cpu_seconds(const decompte_scan_t *self)
{
    return self->cpu_seconds;
}

const store_actor_t *decompte_scan_observers(const decompte_scan_t *self, size_t *n)
{
    *n = self->n_observers;
    return self->observers;
}

decompte_sent_key_t decompte_scan_key(const decompte_scan_line_t *l, int year)
{
    bool total = l->line == &l->item->total;
    return (decompte_sent_key_t){l->item->rev->convention_id, l->line->party,
                                 total ? "total" : "party", year};
}

void decompte_scan_destroy(decompte_scan_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    decompte_scan_t *self = *self_p;
    atomic_store(&self->stop, true);
    decompte_scan_wait(self);
    for (size_t i = 0; i < self->n_years; i++) {
        decompte_destroy(&self->years[i].d);
        free(self->years[i].due);
    }
    free(self->observers);
    free(self->path);
    free(self);
    *self_p = NULL;
}
