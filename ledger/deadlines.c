/* deadlines.c - due orientations and their mark (see deadlines.h).
 *
 * Owns the SQL that reads ledger_orientations by deadline and the convention
 * in force for the counting, and the update that closes an orientation.
 * Does not decide what to send nor to whom (broker/expiry.c). Invariant: an
 * orientation with expired_ms set is never returned again. */
#include "deadlines.h"

#include "conventions.h"
#include "held.h"
#include "stmts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/codec.h"
#include "fluxbus/v1/ledger.pb-c.h"

typedef enum { Q_DUE, Q_MARK, Q__COUNT } s_query_t;

static const char *const s_sql[Q__COUNT] = {
    /* The partial index holds exactly the open orientations: the scan reads
     * the due ones only, however many were ever answered. */
    [Q_DUE] = "SELECT vacancy_id, reservataire, round, bailleur, COALESCE(convention_id, ''),"
              " deadline_ms, candidates FROM ledger_orientations"
              " INDEXED BY ledger_orientations_deadline"
              " WHERE status IN ('oriente', 'acquitte') AND deadline_ms > 0"
              " AND deadline_ms <= ?1 AND expired_ms = 0"
              " ORDER BY deadline_ms, vacancy_id, reservataire, round LIMIT ?2",
    [Q_MARK] = "UPDATE ledger_orientations SET status = 'expire', status_ms = ?1,"
               " expired_ms = ?1 WHERE vacancy_id = ?2 AND reservataire = ?3 AND round = ?4"
               " AND expired_ms = 0",
};

struct deadlines {
    sqlite3 *db;
    sqlite3_stmt *q[Q__COUNT];
    stmts_t *held; /* for held.h's counts */
};

deadlines_t *deadlines_open(sqlite3 *db, char *err, size_t errlen)
{
    deadlines_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->db = db;
    if (!(self->held = stmts_new(db))) {
        snprintf(err, errlen, "out of memory");
        free(self);
        return NULL;
    }
    for (int i = 0; i < Q__COUNT; i++)
        if (sqlite3_prepare_v3(db, s_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &self->q[i], NULL) !=
            SQLITE_OK) {
            snprintf(err, errlen, "deadlines: cannot prepare query %d: %s", i, sqlite3_errmsg(db));
            deadlines_close(&self);
            return NULL;
        }
    return self;
}

void deadlines_close(deadlines_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (int i = 0; i < Q__COUNT; i++)
        sqlite3_finalize((*self_p)->q[i]);
    stmts_destroy(&(*self_p)->held);
    free(*self_p);
    *self_p = NULL;
}

static void s_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

static fb_err_t s_done(sqlite3_stmt *st, int rc)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? FB_OK : FB_ERR_STORE;
}

/* The DeadlineCounting of the convention revision in force at the deadline
 * (conventions_at: by effective date, as the décompte reads it); COUNTED
 * when the convention is unknown or says nothing. */
static fb_err_t s_counting(deadlines_t *self, deadlines_due_t *due)
{
    due->counting = FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_COUNTED;
    if (!due->convention_id[0])
        return FB_OK;
    char err[256];
    conventions_t *c = conventions_load_id(self->db, due->convention_id, err, sizeof err);
    if (!c)
        return FB_ERR_STORE;
    if (conventions_size(c) > 0 &&
        !conventions_expiry_counted(conventions_at(c, 0, due->deadline_ms)))
        due->counting = FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_NOT_COUNTED;
    conventions_destroy(&c);
    return FB_OK;
}

/* Reads up to limit due rows into *out (caller frees). */
static fb_err_t s_read_due(deadlines_t *self, int64_t now_ms, size_t limit, deadlines_due_t **out,
                           size_t *n)
{
    *out = NULL;
    *n = 0;
    if (limit == 0)
        return FB_OK;
    deadlines_due_t *rows = calloc(limit, sizeof *rows);
    if (!rows)
        return FB_ERR_NOMEM;
    sqlite3_stmt *st = self->q[Q_DUE];
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < limit) {
        deadlines_due_t *d = &rows[(*n)++];
        s_text(st, 0, d->vacancy_id, sizeof d->vacancy_id);
        s_text(st, 1, d->reservataire, sizeof d->reservataire);
        d->round = sqlite3_column_int64(st, 2);
        s_text(st, 3, d->bailleur, sizeof d->bailleur);
        s_text(st, 4, d->convention_id, sizeof d->convention_id);
        d->deadline_ms = sqlite3_column_int64(st, 5);
        d->candidates = (uint32_t)sqlite3_column_int64(st, 6);
    }
    fb_err_t err = s_done(st, rc);
    if (err != FB_OK) {
        free(rows);
        *n = 0;
        return err;
    }
    *out = rows;
    return FB_OK;
}

fb_err_t deadlines_due(deadlines_t *self, int64_t now_ms, size_t limit, deadlines_due_fn fn,
                       void *ctx)
{
    deadlines_due_t *rows = NULL;
    size_t n = 0;
    fb_err_t rc = s_read_due(self, now_ms, limit, &rows, &n);
    for (size_t i = 0; rc == FB_OK && i < n; i++) {
        rc = s_counting(self, &rows[i]);
        if (rc == FB_OK)
            rc = fn(ctx, &rows[i]);
    }
    free(rows);
    return rc;
}

fb_err_t deadlines_mark(deadlines_t *self, const deadlines_due_t *due, int64_t at_ms)
{
    sqlite3_stmt *st = self->q[Q_MARK];
    sqlite3_bind_int64(st, 1, at_ms);
    sqlite3_bind_text(st, 2, due->vacancy_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, due->reservataire, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, due->round);
    fb_err_t rc = s_done(st, sqlite3_step(st));
    /* An expiry may end a right the convention does not count. */
    return rc == FB_OK ? held_refresh_vacancy(self->held, due->vacancy_id) : rc;
}
