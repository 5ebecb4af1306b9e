/* held.c - the running counts of held orientations and freed dwellings
 * (see held.h). Owns the SQL of ledger_held_pairs, ledger_held and
 * ledger_freed and the rule "is this orientation still held"; the rules of
 * what a convention counts are conventions.c's. */
#include "held.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conventions.h"
#include "period.h"

/* Grouping columns: NULLs read as '' or 0 so that a group is one row. */
static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS ledger_held_pairs ("
    "  vacancy_id TEXT NOT NULL, reservataire TEXT NOT NULL, bailleur TEXT NOT NULL,"
    "  year INTEGER NOT NULL, convention_id TEXT NOT NULL, mode_gestion INTEGER NOT NULL,"
    "  hors_flux_motif INTEGER NOT NULL, PRIMARY KEY (vacancy_id, reservataire));"
    "CREATE TABLE IF NOT EXISTS ledger_held ("
    "  bailleur TEXT NOT NULL, year INTEGER NOT NULL, convention_id TEXT NOT NULL,"
    "  reservataire TEXT NOT NULL, mode_gestion INTEGER NOT NULL,"
    "  hors_flux_motif INTEGER NOT NULL, n INTEGER NOT NULL,"
    "  PRIMARY KEY (bailleur, year, convention_id, reservataire, mode_gestion,"
    "  hors_flux_motif));"
    "CREATE TABLE IF NOT EXISTS ledger_freed ("
    "  bailleur TEXT NOT NULL, year INTEGER NOT NULL, commune_insee TEXT NOT NULL,"
    "  mode_gestion INTEGER NOT NULL, hors_flux_motif INTEGER NOT NULL, n INTEGER NOT NULL,"
    "  PRIMARY KEY (bailleur, year, commune_insee, mode_gestion, hors_flux_motif));"
    "CREATE TABLE IF NOT EXISTS ledger_freed_modes ("
    "  bailleur TEXT NOT NULL, year INTEGER NOT NULL, mode_gestion INTEGER NOT NULL,"
    "  n INTEGER NOT NULL, PRIMARY KEY (bailleur, year, mode_gestion));"
    "CREATE INDEX IF NOT EXISTS ledger_orientations_settled ON ledger_orientations(convention_id)"
    "  WHERE status IN ('remis', 'expire');"
    "CREATE TRIGGER IF NOT EXISTS ledger_held_pairs_add AFTER INSERT ON ledger_held_pairs BEGIN"
    "  INSERT INTO ledger_held VALUES (NEW.bailleur, NEW.year, NEW.convention_id,"
    "  NEW.reservataire, NEW.mode_gestion, NEW.hors_flux_motif, 1)"
    "  ON CONFLICT (bailleur, year, convention_id, reservataire, mode_gestion, hors_flux_motif)"
    "  DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER IF NOT EXISTS ledger_held_pairs_remove AFTER DELETE ON ledger_held_pairs"
    "  BEGIN UPDATE ledger_held SET n = n - 1 WHERE bailleur = OLD.bailleur"
    "  AND year = OLD.year AND convention_id = OLD.convention_id"
    "  AND reservataire = OLD.reservataire AND mode_gestion = OLD.mode_gestion"
    "  AND hors_flux_motif = OLD.hors_flux_motif; END;"
    "CREATE TRIGGER IF NOT EXISTS ledger_freed_add AFTER INSERT ON ledger_vacancies"
    "  WHEN NEW.freed_year IS NOT NULL BEGIN"
    "  INSERT INTO ledger_freed VALUES (NEW.bailleur, NEW.freed_year,"
    "  COALESCE(NEW.commune_insee, ''), COALESCE(NEW.mode_gestion, 0),"
    "  COALESCE(NEW.hors_flux_motif, 0), 1)"
    "  ON CONFLICT (bailleur, year, commune_insee, mode_gestion, hors_flux_motif)"
    "  DO UPDATE SET n = n + 1;"
    "  INSERT INTO ledger_freed_modes VALUES (NEW.bailleur, NEW.freed_year,"
    "  COALESCE(NEW.mode_gestion, 0), 1)"
    "  ON CONFLICT (bailleur, year, mode_gestion) DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER IF NOT EXISTS ledger_freed_move AFTER UPDATE OF bailleur, freed_year,"
    "  commune_insee, mode_gestion, hors_flux_motif ON ledger_vacancies"
    "  WHEN OLD.bailleur IS NOT NEW.bailleur OR OLD.freed_year IS NOT NEW.freed_year"
    "  OR OLD.commune_insee IS NOT NEW.commune_insee OR OLD.mode_gestion IS NOT NEW.mode_gestion"
    "  OR OLD.hors_flux_motif IS NOT NEW.hors_flux_motif BEGIN"
    "  UPDATE ledger_freed SET n = n - 1 WHERE OLD.freed_year IS NOT NULL"
    "  AND bailleur = OLD.bailleur AND year = OLD.freed_year"
    "  AND commune_insee = COALESCE(OLD.commune_insee, '')"
    "  AND mode_gestion = COALESCE(OLD.mode_gestion, 0)"
    "  AND hors_flux_motif = COALESCE(OLD.hors_flux_motif, 0);"
    "  INSERT INTO ledger_freed SELECT NEW.bailleur, NEW.freed_year,"
    "  COALESCE(NEW.commune_insee, ''), COALESCE(NEW.mode_gestion, 0),"
    "  COALESCE(NEW.hors_flux_motif, 0), 1 WHERE NEW.freed_year IS NOT NULL"
    "  ON CONFLICT (bailleur, year, commune_insee, mode_gestion, hors_flux_motif)"
    "  DO UPDATE SET n = n + 1;"
    "  UPDATE ledger_freed_modes SET n = n - 1 WHERE OLD.freed_year IS NOT NULL"
    "  AND bailleur = OLD.bailleur AND year = OLD.freed_year"
    "  AND mode_gestion = COALESCE(OLD.mode_gestion, 0);"
    "  INSERT INTO ledger_freed_modes SELECT NEW.bailleur, NEW.freed_year,"
    "  COALESCE(NEW.mode_gestion, 0), 1 WHERE NEW.freed_year IS NOT NULL"
    "  ON CONFLICT (bailleur, year, mode_gestion) DO UPDATE SET n = n + 1; END;";

static const char s_drop[] = "DROP TABLE IF EXISTS ledger_held_pairs;"
                             "DROP TABLE IF EXISTS ledger_held;"
                             "DROP TABLE IF EXISTS ledger_freed;"
                             "DROP TABLE IF EXISTS ledger_freed_modes;";

const char *held_schema_sql(void)
{
    return s_schema;
}

const char *held_drop_sql(void)
{
    return s_drop;
}

/* ---- refreshing one vacancy ------------------------------------------------------------ */

/* Is an orientation whose latest round ended in `status` at status_ms still
 * held (its right used or in use)? A remise or an expiry holds it when the
 * revision of its convention in force then counts it (an unknown
 * convention: the defaults). -1 on a store error. */
static int s_still_held(stmts_t *q, const char *convention_id, const char *status,
                        int64_t status_ms)
{
    if (strcmp(status, "decline") == 0)
        return 0;
    bool remis = strcmp(status, "remis") == 0, expire = strcmp(status, "expire") == 0;
    if (!remis && !expire)
        return 1;
    static const conventions_rev_t defaults = FLUXBUS__V1__CONVENTION__INIT;
    char err[256];
    conventions_t *c = conventions_load_id_q(q, convention_id, err, sizeof err);
    if (!c)
        return -1;
    const conventions_rev_t *rev =
        conventions_size(c) ? conventions_at(c, 0, status_ms) : &defaults;
    int held = remis ? conventions_remise_counted(rev) : conventions_expiry_counted(rev);
    conventions_destroy(&c);
    return held;
}

static const char *s_text(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    return t ? t : "";
}

/* One (vacancy, réservataire) as ledger_held_pairs should have it. */
typedef struct {
    const char *vacancy_id, *reservataire, *bailleur, *convention_id;
    bool held; /* false: no row */
    int year, mode, motif;
} s_pair_t;

/* The pair of the row `st` is on (the query in held_refresh_vacancy): held
 * when its latest round holds a right in the year it counts in. */
static fb_err_t s_pair_of(stmts_t *q, sqlite3_stmt *st, const char *vacancy_id, s_pair_t *p)
{
    *p = (s_pair_t){.vacancy_id = vacancy_id,
                    .reservataire = s_text(st, 0),
                    .bailleur = s_text(st, 1),
                    .convention_id = s_text(st, 2),
                    .mode = sqlite3_column_int(st, 7),
                    .motif = sqlite3_column_int(st, 8)};
    int held = s_still_held(q, p->convention_id, s_text(st, 3), sqlite3_column_int64(st, 4));
    if (held < 0)
        return FB_ERR_STORE;
    int64_t oriented = sqlite3_column_int64(st, 5);
    int64_t at = sqlite3_column_type(st, 6) == SQLITE_NULL ? oriented : sqlite3_column_int64(st, 6);
    p->year = period_year_of(at);
    /* Not when oriented before the year it would count in. */
    p->held = held && oriented >= period_year(p->year).start_ms;
    return FB_OK;
}

typedef enum { S_ABSENT, S_SAME, S_OTHER } s_stored_t;

/* How ledger_held_pairs has p's (vacancy, réservataire) now; -1 on a store
 * error. */
static int s_stored(stmts_t *q, const s_pair_t *p)
{
    sqlite3_stmt *st = stmts_get(q, "SELECT bailleur, year, convention_id, mode_gestion,"
                                    " hors_flux_motif FROM ledger_held_pairs"
                                    " WHERE vacancy_id = ?1 AND reservataire = ?2");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, p->vacancy_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->reservataire, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), stored = rc == SQLITE_DONE ? S_ABSENT : -1;
    if (rc == SQLITE_ROW)
        stored = p->held && strcmp(s_text(st, 0), p->bailleur) == 0 &&
                         sqlite3_column_int(st, 1) == p->year &&
                         strcmp(s_text(st, 2), p->convention_id) == 0 &&
                         sqlite3_column_int(st, 3) == p->mode &&
                         sqlite3_column_int(st, 4) == p->motif
                     ? S_SAME
                     : S_OTHER;
    stmts_put(q, st);
    return stored;
}

/* Runs `sql` on p's columns (the triggers move the counts). */
static fb_err_t s_write(stmts_t *q, const char *sql, const s_pair_t *p)
{
    sqlite3_stmt *st = stmts_get(q, sql);
    if (!st)
        return FB_ERR_STORE;
    sqlite3_bind_text(st, 1, p->vacancy_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->reservataire, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, p->bailleur, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, p->year);
    sqlite3_bind_text(st, 5, p->convention_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, p->mode);
    sqlite3_bind_int(st, 7, p->motif);
    int rc = sqlite3_step(st);
    stmts_put(q, st);
    return rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
}

/* Brings p's row to what it should be, writing only when it changes: a
 * row that stays the same fires no trigger. */
static fb_err_t s_update_pair(stmts_t *q, const s_pair_t *p)
{
    int stored = s_stored(q, p);
    if (stored < 0)
        return FB_ERR_STORE;
    fb_err_t rc = FB_OK;
    if (stored == S_OTHER)
        rc = s_write(q, "DELETE FROM ledger_held_pairs WHERE vacancy_id = ?1 AND reservataire = ?2",
                     p);
    if (rc == FB_OK && p->held && stored != S_SAME)
        rc = s_write(q,
                     "INSERT INTO ledger_held_pairs (vacancy_id, reservataire, bailleur, year,"
                     " convention_id, mode_gestion, hors_flux_motif) VALUES (?1, ?2, ?3, ?4, ?5,"
                     " ?6, ?7)",
                     p);
    return rc;
}

/* Every réservataire of a stored pair has an orientation of the vacancy
 * (orientations are never deleted), so visiting the latest round of each
 * visits every stored pair. */
fb_err_t held_refresh_vacancy(stmts_t *q, const char *vacancy_id)
{
    /* The latest round of each réservataire the vacancy is oriented to. */
    sqlite3_stmt *st = stmts_get(
        q, "SELECT o.reservataire, o.bailleur, COALESCE(o.convention_id, ''), o.status,"
           " o.status_ms, o.oriented_ms, v.freed_ms, COALESCE(v.mode_gestion, 0),"
           " COALESCE(v.hors_flux_motif, 0) FROM ledger_orientations o"
           " LEFT JOIN ledger_vacancies v ON v.vacancy_id = o.vacancy_id"
           " WHERE o.vacancy_id = ?1 AND o.round = (SELECT max(x.round) FROM ledger_orientations x"
           "  WHERE x.vacancy_id = ?1 AND x.reservataire = o.reservataire)");
    if (!st)
        return FB_ERR_STORE;
    sqlite3_bind_text(st, 1, vacancy_id, -1, SQLITE_STATIC);
    fb_err_t err = FB_OK;
    int rc;
    s_pair_t p;
    while (err == FB_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((err = s_pair_of(q, st, vacancy_id, &p)) == FB_OK)
            err = s_update_pair(q, &p);
    stmts_put(q, st);
    if (err != FB_OK)
        return err;
    return rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
}

fb_err_t held_refresh_convention(stmts_t *q, const char *convention_id)
{
    /* The vacancies first: refreshing one does not change this list. */
    sqlite3_stmt *st = stmts_get(q, "SELECT DISTINCT vacancy_id FROM ledger_orientations"
                                    " INDEXED BY ledger_orientations_settled"
                                    " WHERE convention_id = ? AND status IN ('remis', 'expire')");
    if (!st)
        return FB_ERR_STORE;
    sqlite3_bind_text(st, 1, convention_id, -1, SQLITE_TRANSIENT);
    char **ids = NULL;
    size_t n = 0;
    int rc;
    fb_err_t err = FB_OK;
    while (err == FB_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        char **more = realloc(ids, (n + 1) * sizeof *ids);
        char *id = strdup(s_text(st, 0));
        if (!more || !id) {
            free(id);
            if (more)
                ids = more;
            err = FB_ERR_NOMEM;
            break;
        }
        ids = more;
        ids[n++] = id;
    }
    stmts_put(q, st);
    if (err == FB_OK && rc != SQLITE_DONE)
        err = FB_ERR_STORE;
    for (size_t i = 0; i < n; i++) {
        if (err == FB_OK)
            err = held_refresh_vacancy(q, ids[i]);
        free(ids[i]);
    }
    free(ids);
    return err;
}

/* ---- reading the counts ---------------------------------------------------------------- */

/* Runs `sql` (?1 and ?2 text, ?2 unused by some, ?3 the year), calling fn per row: convention,
 * réservataire, commune, mode, motif, n in columns 0 to 5. */
static fb_err_t s_each(stmts_t *q, const char *sql, const char *a, const char *b, int year,
                       held_group_fn fn, void *ctx)
{
    sqlite3_stmt *st = stmts_get(q, sql);
    if (!st)
        return FB_ERR_STORE;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, year);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        held_group_t g = {
            .convention_id = (const char *)sqlite3_column_text(st, 0),
            .reservataire = (const char *)sqlite3_column_text(st, 1),
            .commune = (const char *)sqlite3_column_text(st, 2),
            .mode = sqlite3_column_int(st, 3),
            .motif = sqlite3_column_int(st, 4),
            .n = sqlite3_column_int64(st, 5),
        };
        if (g.n)
            fn(ctx, &g);
    }
    stmts_put(q, st);
    return rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
}

fb_err_t held_each(stmts_t *q, const char *bailleur, int year, held_group_fn fn, void *ctx)
{
    return s_each(q,
                  "SELECT convention_id, reservataire, NULL, mode_gestion, hors_flux_motif, n"
                  " FROM ledger_held WHERE bailleur = ?1 AND year = ?3",
                  bailleur, NULL, year, fn, ctx);
}

fb_err_t held_each_freed(stmts_t *q, const char *bailleur, int year, held_group_fn fn, void *ctx)
{
    return s_each(q,
                  "SELECT NULL, NULL, commune_insee, mode_gestion, hors_flux_motif, n"
                  " FROM ledger_freed WHERE bailleur = ?1 AND year = ?3",
                  bailleur, NULL, year, fn, ctx);
}

fb_err_t held_freed_en_flux(stmts_t *q, const char *bailleur, int year, int64_t *n)
{
    sqlite3_stmt *st = stmts_get(q, "SELECT COALESCE(sum(n), 0) FROM ledger_freed_modes"
                                    " WHERE bailleur = ?1 AND year = ?2"
                                    " AND mode_gestion NOT IN (?3, ?4)");
    if (!st)
        return FB_ERR_STORE;
    sqlite3_bind_text(st, 1, bailleur, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, year);
    sqlite3_bind_int(st, 3, FLUXBUS__V1__MODE_GESTION__MODE_GESTION_STOCK);
    sqlite3_bind_int(st, 4, FLUXBUS__V1__MODE_GESTION__MODE_GESTION_HORS_FLUX);
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    stmts_put(q, st);
    return rc == SQLITE_ROW ? FB_OK : FB_ERR_STORE;
}

fb_err_t held_pair(stmts_t *q, const char *vacancy_id, const char *reservataire, int year,
                   held_group_fn fn, void *ctx)
{
    return s_each(q,
                  "SELECT convention_id, reservataire, NULL, mode_gestion, hors_flux_motif, 1"
                  " FROM ledger_held_pairs WHERE vacancy_id = ?1 AND reservataire = ?2"
                  " AND year = ?3",
                  vacancy_id, reservataire, year, fn, ctx);
}
