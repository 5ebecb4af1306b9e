/* state.c - the bailleur adapter's own tables (see state.h).
 *
 * Owns the schema (versioned in bailleur_schema), one prepared statement per
 * query, made once in state_new, and the savepoint of a trial. Does not own
 * the database connection (the adapter link does) nor any decision about
 * what to record.
 *
 * Invariant: every statement is reset after use, so no read is left open
 * while the caller writes (adapter_send writes the same file). */
#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SCHEMA_VERSION 2

static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS bailleur_schema (version INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS vacancies ("
    "  vacancy_id TEXT PRIMARY KEY,"
    "  commune_insee TEXT NOT NULL,"
    "  rpls_id TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS orientations ("
    "  vacancy_id TEXT NOT NULL,"
    "  reservataire TEXT NOT NULL,"
    "  convention_id TEXT NOT NULL,"
    "  deadline_ms INTEGER NOT NULL,"
    "  candidates_expected INTEGER NOT NULL,"
    "  contingent INTEGER NOT NULL,"
    "  closed INTEGER NOT NULL DEFAULT 0,"       /* designation, remise or decline came */
    "  expired_sent INTEGER NOT NULL DEFAULT 0," /* STATE_EXPIRY_* */
    "  PRIMARY KEY (vacancy_id, reservataire, convention_id));"
    "CREATE INDEX IF NOT EXISTS orientations_due"
    "  ON orientations (closed, expired_sent, deadline_ms);"
    "CREATE TABLE IF NOT EXISTS designations ("
    "  vacancy_id TEXT NOT NULL,"
    "  nur TEXT NOT NULL,"
    "  reservataire TEXT NOT NULL,"
    "  rank INTEGER NOT NULL,"
    "  source TEXT NOT NULL," /* received | sent | decision */
    "  PRIMARY KEY (vacancy_id, nur, reservataire));"
    /* version 2 */
    "CREATE TABLE IF NOT EXISTS seances ("
    "  seance_id TEXT PRIMARY KEY,"
    "  revision INTEGER NOT NULL,"
    "  digest TEXT NOT NULL);"; /* hex SHA-256 of the packed CaleolSeance */

/* The statements, in the order of s_sql. */
enum {
    S_VACANCY_PUT,
    S_VACANCY_GET,
    S_ORIENTATION_PUT,
    S_ORIENTATION_CLOSE,
    S_ORIENTATION_MARK,
    S_ORIENTATION_CONTINGENT,
    S_ORIENTATIONS_DUE,
    S_ORIENTED,
    S_DESIGNATION_PUT,
    S_DESIGNATORS,
    S_CANDIDATES,
    S_SEANCE_GET,
    S_SEANCE_PUT,
    S_COUNT
};

static const char *const s_sql[S_COUNT] = {
    [S_VACANCY_PUT] = "INSERT OR REPLACE INTO vacancies (vacancy_id, commune_insee, rpls_id) "
                      "VALUES (?1, ?2, ?3)",
    [S_VACANCY_GET] = "SELECT commune_insee, rpls_id FROM vacancies WHERE vacancy_id = ?1",
    /* The same orientation again keeps its state; a new deadline opens it again. */
    [S_ORIENTATION_PUT] =
        "INSERT INTO orientations (vacancy_id, reservataire, convention_id, deadline_ms, "
        "candidates_expected, contingent) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
        "ON CONFLICT (vacancy_id, reservataire, convention_id) DO UPDATE SET "
        "closed = CASE WHEN deadline_ms = excluded.deadline_ms THEN closed ELSE 0 END, "
        "expired_sent = CASE WHEN deadline_ms = excluded.deadline_ms THEN expired_sent ELSE 0 END, "
        "deadline_ms = excluded.deadline_ms, candidates_expected = excluded.candidates_expected, "
        "contingent = excluded.contingent",
    [S_ORIENTATION_CLOSE] = "UPDATE orientations SET closed = 1 WHERE vacancy_id = ?1 AND "
                            "reservataire = ?2 AND (?3 = '' OR convention_id = ?3)",
    [S_ORIENTATION_MARK] = "UPDATE orientations SET expired_sent = ?4 WHERE vacancy_id = ?1 AND "
                           "reservataire = ?2 AND convention_id = ?3",
    [S_ORIENTATION_CONTINGENT] = "SELECT contingent FROM orientations WHERE vacancy_id = ?1 AND "
                                 "reservataire = ?2 ORDER BY deadline_ms DESC LIMIT 1",
    [S_ORIENTATIONS_DUE] = "SELECT vacancy_id, reservataire, convention_id, deadline_ms, "
                           "candidates_expected, contingent FROM orientations WHERE closed = 0 "
                           "AND expired_sent = 0 AND deadline_ms > 0 AND deadline_ms <= ?1 "
                           "ORDER BY deadline_ms, vacancy_id, reservataire",
    [S_ORIENTED] = "SELECT DISTINCT reservataire FROM orientations WHERE vacancy_id = ?1 AND "
                   "(?2 = '' OR convention_id = ?2) ORDER BY reservataire",
    /* A decision's désignataire never hides who actually designated. */
    [S_DESIGNATION_PUT] = "INSERT INTO designations (vacancy_id, nur, reservataire, rank, source) "
                          "VALUES (?1, ?2, ?3, ?4, ?5) "
                          "ON CONFLICT (vacancy_id, nur, reservataire) DO UPDATE SET "
                          "rank = excluded.rank, source = excluded.source "
                          "WHERE excluded.source <> 'decision' OR source = 'decision'",
    [S_DESIGNATORS] = "SELECT reservataire FROM designations WHERE vacancy_id = ?1 AND nur = ?2 "
                      "AND (source <> 'decision' OR NOT EXISTS (SELECT 1 FROM designations "
                      "WHERE vacancy_id = ?1 AND nur = ?2 AND source <> 'decision')) "
                      "ORDER BY reservataire",
    [S_CANDIDATES] = "SELECT count(*) FROM designations WHERE vacancy_id = ?1 AND "
                     "reservataire = ?2 AND source = 'received'",
    [S_SEANCE_GET] = "SELECT revision, digest FROM seances WHERE seance_id = ?1",
    /* A revision only grows. */
    [S_SEANCE_PUT] = "INSERT INTO seances (seance_id, revision, digest) VALUES (?1, ?2, ?3) "
                     "ON CONFLICT (seance_id) DO UPDATE SET revision = excluded.revision, "
                     "digest = excluded.digest WHERE excluded.revision >= revision",
};

struct state {
    sqlite3 *db;
    sqlite3_stmt *st[S_COUNT];
    bool in_trial;
};

static fb_err_t s_set_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int version = 0;
    if (sqlite3_prepare_v2(db, "SELECT max(version) FROM bailleur_schema", -1, &st, NULL) !=
        SQLITE_OK)
        return FB_ERR_STORE;
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > S_SCHEMA_VERSION)
        return FB_ERR_UNSUPPORTED_VERSION;
    if (version == S_SCHEMA_VERSION)
        return FB_OK;
    /* 0 -> 2 and 1 -> 2 (the table seances) are done by s_schema's
     * CREATE ... IF NOT EXISTS: nothing else to migrate. */
    char sql[96];
    snprintf(sql, sizeof sql,
             "DELETE FROM bailleur_schema; INSERT INTO bailleur_schema VALUES (%d)",
             S_SCHEMA_VERSION);
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? FB_OK : FB_ERR_STORE;
}

state_t *state_new(sqlite3 *db, char *err, size_t errlen)
{
    state_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->db = db;
    if (sqlite3_exec(db, s_schema, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "state tables: %s", sqlite3_errmsg(db));
        goto fail;
    }
    fb_err_t rc = s_set_version(db);
    if (rc != FB_OK) {
        snprintf(err, errlen, "state tables: %s",
                 rc == FB_ERR_UNSUPPORTED_VERSION ? "made by a newer adapter (schema version)"
                                                  : sqlite3_errmsg(db));
        goto fail;
    }
    for (int i = 0; i < S_COUNT; i++) {
        if (sqlite3_prepare_v3(db, s_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &self->st[i], NULL) !=
            SQLITE_OK) {
            snprintf(err, errlen, "state statement %d: %s", i, sqlite3_errmsg(db));
            goto fail;
        }
    }
    return self;
fail:
    state_destroy(&self);
    return NULL;
}

void state_destroy(state_t **self_p)
{
    state_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    if (self->in_trial)
        state_trial_end(self);
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(self->st[i]);
    free(self);
    *self_p = NULL;
}

fb_err_t state_trial_begin(state_t *self)
{
    if (self->in_trial)
        return FB_ERR_INVALID;
    if (sqlite3_exec(self->db, "SAVEPOINT bailleur_trial", NULL, NULL, NULL) != SQLITE_OK)
        return FB_ERR_STORE;
    self->in_trial = true;
    return FB_OK;
}

fb_err_t state_trial_end(state_t *self)
{
    if (!self->in_trial)
        return FB_ERR_INVALID;
    self->in_trial = false;
    int rc = sqlite3_exec(self->db, "ROLLBACK TO bailleur_trial; RELEASE bailleur_trial", NULL,
                          NULL, NULL);
    return rc == SQLITE_OK ? FB_OK : FB_ERR_STORE;
}

/* The statement `which`, reset, with its text parameters bound in order
 * (NULL binds ""). */
static sqlite3_stmt *s_stmt(state_t *self, int which, int n, const char *const *texts)
{
    sqlite3_stmt *st = self->st[which];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    for (int i = 0; i < n; i++)
        sqlite3_bind_text(st, i + 1, texts[i] ? texts[i] : "", -1, SQLITE_TRANSIENT);
    return st;
}

/* Runs a statement that returns no row. */
static fb_err_t s_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
}

static void s_copy(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

fb_err_t state_vacancy_put(state_t *self, const char *vacancy_id, const char *commune_insee,
                           const char *rpls_id)
{
    const char *args[] = {vacancy_id, commune_insee, rpls_id};
    return s_done(s_stmt(self, S_VACANCY_PUT, 3, args));
}

fb_err_t state_vacancy_get(state_t *self, const char *vacancy_id, state_vacancy_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = s_stmt(self, S_VACANCY_GET, 1, &vacancy_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        s_copy(out->commune_insee, sizeof out->commune_insee, sqlite3_column_text(st, 0));
        s_copy(out->rpls_id, sizeof out->rpls_id, sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? FB_OK : rc == SQLITE_DONE ? FB_ERR_NOT_FOUND : FB_ERR_STORE;
}

fb_err_t state_orientation_put(state_t *self, const state_orientation_t *o)
{
    const char *args[] = {o->vacancy_id, o->reservataire, o->convention_id};
    sqlite3_stmt *st = s_stmt(self, S_ORIENTATION_PUT, 3, args);
    sqlite3_bind_int64(st, 4, o->deadline_ms);
    sqlite3_bind_int64(st, 5, o->candidates_expected);
    sqlite3_bind_int(st, 6, o->contingent);
    return s_done(st);
}

fb_err_t state_orientation_close(state_t *self, const char *vacancy_id, const char *reservataire,
                                 const char *convention_id)
{
    const char *args[] = {vacancy_id, reservataire, convention_id};
    return s_done(s_stmt(self, S_ORIENTATION_CLOSE, 3, args));
}

fb_err_t state_orientation_mark(state_t *self, const state_orientation_t *o, int expired_sent)
{
    const char *args[] = {o->vacancy_id, o->reservataire, o->convention_id};
    sqlite3_stmt *st = s_stmt(self, S_ORIENTATION_MARK, 3, args);
    sqlite3_bind_int(st, 4, expired_sent);
    return s_done(st);
}

fb_err_t state_orientation_contingent(state_t *self, const char *vacancy_id,
                                      const char *reservataire, int *contingent)
{
    const char *args[] = {vacancy_id, reservataire};
    sqlite3_stmt *st = s_stmt(self, S_ORIENTATION_CONTINGENT, 2, args);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *contingent = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? FB_OK : rc == SQLITE_DONE ? FB_ERR_NOT_FOUND : FB_ERR_STORE;
}

static char *s_dup(const unsigned char *s)
{
    return strdup(s ? (const char *)s : "");
}

void state_orientations_free(state_orientation_t *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++) {
        free(list[i].vacancy_id);
        free(list[i].reservataire);
        free(list[i].convention_id);
    }
    free(list);
}

fb_err_t state_orientations_due(state_t *self, int64_t now_ms, state_orientation_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = s_stmt(self, S_ORIENTATIONS_DUE, 0, NULL);
    sqlite3_bind_int64(st, 1, now_ms);
    size_t cap = 0;
    fb_err_t err = FB_OK;
    int rc;
    while (err == FB_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            void *p = realloc(*out, cap * sizeof **out);
            if (!p) {
                err = FB_ERR_NOMEM;
                break;
            }
            *out = p;
        }
        state_orientation_t *o = &(*out)[(*n)++];
        o->vacancy_id = s_dup(sqlite3_column_text(st, 0));
        o->reservataire = s_dup(sqlite3_column_text(st, 1));
        o->convention_id = s_dup(sqlite3_column_text(st, 2));
        o->deadline_ms = sqlite3_column_int64(st, 3);
        o->candidates_expected = (uint32_t)sqlite3_column_int64(st, 4);
        o->contingent = sqlite3_column_int(st, 5);
        if (!o->vacancy_id || !o->reservataire || !o->convention_id)
            err = FB_ERR_NOMEM;
    }
    if (err == FB_OK && rc != SQLITE_DONE)
        err = FB_ERR_STORE;
    sqlite3_reset(st);
    if (err != FB_OK) {
        state_orientations_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return err;
}

/* Gives each actor of column 0 of st to fn: read them all first, so that fn
 * may write to the database. */
static fb_err_t s_each_actor(sqlite3_stmt *st, state_actor_fn fn, void *ctx)
{
    char **actors = NULL;
    size_t n = 0, cap = 0;
    fb_err_t err = FB_OK;
    int rc;
    while (err == FB_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 4;
            void *p = realloc(actors, cap * sizeof *actors);
            if (!p) {
                err = FB_ERR_NOMEM;
                break;
            }
            actors = p;
        }
        if (!(actors[n++] = s_dup(sqlite3_column_text(st, 0))))
            err = FB_ERR_NOMEM;
    }
    if (err == FB_OK && rc != SQLITE_DONE)
        err = FB_ERR_STORE;
    sqlite3_reset(st);
    for (size_t i = 0; i < n; i++) {
        if (err == FB_OK && actors[i] && *actors[i])
            err = fn(ctx, actors[i]);
        free(actors[i]);
    }
    free(actors);
    return err;
}

fb_err_t state_oriented(state_t *self, const char *vacancy_id, const char *convention_id,
                        state_actor_fn fn, void *ctx)
{
    const char *args[] = {vacancy_id, convention_id};
    return s_each_actor(s_stmt(self, S_ORIENTED, 2, args), fn, ctx);
}

fb_err_t state_designation_put(state_t *self, const char *vacancy_id, const char *nur,
                               const char *reservataire, uint32_t rank, const char *source)
{
    const char *args[] = {vacancy_id, nur, reservataire};
    sqlite3_stmt *st = s_stmt(self, S_DESIGNATION_PUT, 3, args);
    sqlite3_bind_int64(st, 4, rank);
    sqlite3_bind_text(st, 5, source, -1, SQLITE_TRANSIENT);
    return s_done(st);
}

fb_err_t state_designators(state_t *self, const char *vacancy_id, const char *nur,
                           state_actor_fn fn, void *ctx)
{
    const char *args[] = {vacancy_id, nur};
    return s_each_actor(s_stmt(self, S_DESIGNATORS, 2, args), fn, ctx);
}

uint32_t state_candidates_received(state_t *self, const char *vacancy_id, const char *reservataire)
{
    const char *args[] = {vacancy_id, reservataire};
    sqlite3_stmt *st = s_stmt(self, S_CANDIDATES, 2, args);
    uint32_t n = sqlite3_step(st) == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return n;
}

fb_err_t state_seance_get(state_t *self, const char *seance_id, state_seance_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = s_stmt(self, S_SEANCE_GET, 1, &seance_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->revision = (uint32_t)sqlite3_column_int64(st, 0);
        s_copy(out->digest, sizeof out->digest, sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? FB_OK : rc == SQLITE_DONE ? FB_ERR_NOT_FOUND : FB_ERR_STORE;
}

fb_err_t state_seance_put(state_t *self, const char *seance_id, uint32_t revision,
                          const char *digest)
{
    sqlite3_stmt *st = s_stmt(self, S_SEANCE_PUT, 1, &seance_id);
    sqlite3_bind_int64(st, 2, revision);
    sqlite3_bind_text(st, 3, digest, -1, SQLITE_TRANSIENT);
    return s_done(st);
}
