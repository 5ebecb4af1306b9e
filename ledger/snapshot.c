/* snapshot.c - reads one vacancy's rows of the ledger tables (see
 * snapshot.h). Three SELECTs per call; a vacancy has a handful of rows,
 * put in order here rather than by SQL (an ORDER BY made each SELECT build
 * a temporary B-tree: a third of the snapshot's cost). */
#include "snapshot.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* strdup of a text column; "" for NULL. NULL only when out of memory. */
static char *s_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return strdup(t ? (const char *)t : "");
}

static void s_copy(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    dst[0] = '\0';
    if (t) {
        strncpy(dst, (const char *)t, cap - 1);
        dst[cap - 1] = '\0';
    }
}

static sqlite3_stmt *s_prepare(stmts_t *q, const char *sql, const char *vacancy)
{
    sqlite3_stmt *st = NULL;
    if (!(st = stmts_get(q, sql)))
        return NULL;
    sqlite3_bind_text(st, 1, vacancy, -1, SQLITE_STATIC);
    return st;
}

/* Grows *items (of `size` bytes each) to hold one more; NULL when out of memory. */
static void *s_push(void **items, size_t *n, size_t size)
{
    char *grown = realloc(*items, (*n + 1) * size);
    if (!grown)
        return NULL;
    *items = grown;
    memset(grown + *n * size, 0, size);
    return grown + (*n)++ * size;
}

static fb_err_t s_vacancy(stmts_t *q, const char *vacancy, snapshot_t *out)
{
    sqlite3_stmt *st = s_prepare(q,
                                 "SELECT bailleur, state, mode_gestion FROM ledger_vacancies"
                                 " WHERE vacancy_id = ?",
                                 vacancy);
    if (!st)
        return FB_ERR_STORE;
    int rc = sqlite3_step(st);
    fb_err_t err = rc == SQLITE_ROW || rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
    if (rc == SQLITE_ROW) {
        out->known = true;
        out->bailleur = s_text(st, 0);
        s_copy(out->state, sizeof out->state, st, 1);
        out->mode_gestion = sqlite3_column_int(st, 2);
        if (!out->bailleur)
            err = FB_ERR_NOMEM;
    }
    stmts_put(q, st);
    return err;
}

static int s_cmp_int64(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

/* ORDER BY seq, reservataire, round */
static int s_orientation_order(const void *pa, const void *pb)
{
    const snapshot_orientation_t *a = pa, *b = pb;
    int c = s_cmp_int64(a->seq, b->seq);
    if (c == 0)
        c = strcmp(a->reservataire, b->reservataire);
    return c ? c : s_cmp_int64(a->round, b->round);
}

/* ORDER BY designated_ms, rowid (NULL first) */
static int s_candidate_order(const void *pa, const void *pb)
{
    const snapshot_candidate_t *a = pa, *b = pb;
    int c = s_cmp_int64(a->designated_ms, b->designated_ms);
    return c ? c : s_cmp_int64(a->rowid, b->rowid);
}

static fb_err_t s_orientations(stmts_t *q, const char *vacancy, snapshot_t *out)
{
    sqlite3_stmt *st = s_prepare(q,
                                 "SELECT reservataire, round, status, candidates_expected,"
                                 " candidates, deadline_ms, seq FROM ledger_orientations"
                                 " WHERE vacancy_id = ?",
                                 vacancy);
    if (!st)
        return FB_ERR_STORE;
    fb_err_t err = FB_OK;
    int rc = SQLITE_DONE;
    while (err == FB_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        snapshot_orientation_t *o =
            s_push((void **)&out->orientations, &out->n_orientations, sizeof *o);
        if (!o || !(o->reservataire = s_text(st, 0))) {
            err = FB_ERR_NOMEM;
            break;
        }
        o->round = sqlite3_column_int(st, 1);
        s_copy(o->status, sizeof o->status, st, 2);
        o->expected = sqlite3_column_int(st, 3);
        o->candidates = sqlite3_column_int(st, 4);
        o->deadline_ms = sqlite3_column_int64(st, 5);
        o->seq = sqlite3_column_int64(st, 6);
    }
    if (err == FB_OK && rc != SQLITE_DONE)
        err = FB_ERR_STORE;
    stmts_put(q, st);
    if (err == FB_OK && out->n_orientations > 1)
        qsort(out->orientations, out->n_orientations, sizeof *out->orientations,
              s_orientation_order);
    return err;
}

static fb_err_t s_candidates(stmts_t *q, const char *vacancy, snapshot_t *out)
{
    sqlite3_stmt *st =
        s_prepare(q,
                  "SELECT nur, credited, round, rank, candidate_count, designated_ms IS NOT NULL,"
                  " visit_ms IS NOT NULL, decision, decision_rank, condition_state, answer,"
                  " non_suite IS NOT NULL, lease_ms IS NOT NULL, radiated_ms IS NOT NULL,"
                  " designated_ms, rowid FROM ledger_candidates WHERE vacancy_id = ?",
                  vacancy);
    if (!st)
        return FB_ERR_STORE;
    fb_err_t err = FB_OK;
    int rc = SQLITE_DONE;
    while (err == FB_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        snapshot_candidate_t *c = s_push((void **)&out->candidates, &out->n_candidates, sizeof *c);
        if (!c || !(c->nur = s_text(st, 0)) || !(c->credited = s_text(st, 1))) {
            err = FB_ERR_NOMEM;
            break;
        }
        c->round = sqlite3_column_int(st, 2);
        c->rank = sqlite3_column_int(st, 3);
        c->candidate_count = sqlite3_column_int(st, 4);
        c->designated = sqlite3_column_int(st, 5);
        c->visited = sqlite3_column_int(st, 6);
        c->decision = sqlite3_column_int(st, 7);
        c->decision_rank = sqlite3_column_int(st, 8);
        c->condition_state = sqlite3_column_int(st, 9);
        c->answer = sqlite3_column_int(st, 10);
        c->non_suite = sqlite3_column_int(st, 11);
        c->lease = sqlite3_column_int(st, 12);
        c->radiated = sqlite3_column_int(st, 13);
        c->designated_ms = c->designated ? sqlite3_column_int64(st, 14) : INT64_MIN;
        c->rowid = sqlite3_column_int64(st, 15);
    }
    if (err == FB_OK && rc != SQLITE_DONE)
        err = FB_ERR_STORE;
    stmts_put(q, st);
    if (err == FB_OK && out->n_candidates > 1)
        qsort(out->candidates, out->n_candidates, sizeof *out->candidates, s_candidate_order);
    return err;
}

fb_err_t snapshot_load(stmts_t *q, const char *vacancy, snapshot_t *out)
{
    memset(out, 0, sizeof *out);
    fb_err_t rc = s_vacancy(q, vacancy, out);
    if (rc == FB_OK)
        rc = s_orientations(q, vacancy, out);
    if (rc == FB_OK)
        rc = s_candidates(q, vacancy, out);
    return rc;
}

void snapshot_clear(snapshot_t *self)
{
    if (!self)
        return;
    free(self->bailleur);
    for (size_t i = 0; i < self->n_orientations; i++)
        free(self->orientations[i].reservataire);
    free(self->orientations);
    for (size_t i = 0; i < self->n_candidates; i++) {
        free(self->candidates[i].nur);
        free(self->candidates[i].credited);
    }
    free(self->candidates);
    memset(self, 0, sizeof *self);
}

const snapshot_orientation_t *snapshot_orientation(const snapshot_t *self, const char *reservataire)
{
    const snapshot_orientation_t *latest = NULL;
    for (size_t i = 0; i < self->n_orientations; i++) {
        const snapshot_orientation_t *o = &self->orientations[i];
        if (strcmp(o->reservataire, reservataire) == 0 && (!latest || o->round > latest->round))
            latest = o;
    }
    return latest;
}

const snapshot_orientation_t *snapshot_round(const snapshot_t *self, const char *reservataire,
                                             int round)
{
    for (size_t i = 0; i < self->n_orientations; i++)
        if (self->orientations[i].round == round &&
            strcmp(self->orientations[i].reservataire, reservataire) == 0)
            return &self->orientations[i];
    return NULL;
}

const snapshot_candidate_t *snapshot_candidate(const snapshot_t *self, const char *nur)
{
    for (size_t i = 0; i < self->n_candidates; i++)
        if (strcmp(self->candidates[i].nur, nur) == 0)
            return &self->candidates[i];
    return NULL;
}
