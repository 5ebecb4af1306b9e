/* report_period.c - reads the period and bailleur options of the reports
 * (see report_period.h). */
#include "report_period.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

int report_period(const char *cmd, const report_period_args_t *a, period_t *p)
{
    if ((a->quarter || a->half) && (!a->year || a->from || a->to || (a->quarter && a->half)))
        return common_fail(cmd, EXIT_USAGE,
                           "--quarter or --half goes with --year alone (not --from/--to)");
    if (a->quarter) {
        *p = period_quarter((int)a->year, (int)a->quarter);
        return EXIT_OK;
    }
    if (a->half) {
        *p = period_half((int)a->year, (int)a->half);
        return EXIT_OK;
    }
    if (!a->year && (!a->from || !a->to))
        return common_fail(cmd, EXIT_USAGE, "missing --year (or --from and --to)");
    period_date_t from = {(int)a->year, 1, 1}, to = {(int)a->year, 12, 31};
    if (a->from && !period_parse_date(a->from, &from))
        return common_fail(cmd, EXIT_USAGE, "--from: \"%s\" is not a date YYYY-MM-DD", a->from);
    if (a->to && !period_parse_date(a->to, &to))
        return common_fail(cmd, EXIT_USAGE, "--to: \"%s\" is not a date YYYY-MM-DD", a->to);
    if (!period_make(from, to, p))
        return common_fail(cmd, EXIT_USAGE, "--to %s is before --from %s", a->to ? a->to : "",
                           a->from ? a->from : "");
    return EXIT_OK;
}

static bool s_is_siren(const char *s)
{
    return strlen(s) == 9 && strspn(s, "0123456789") == 9;
}

/* Whether `sql` (one parameter: id) finds a row; true when it cannot tell. */
static bool s_ledger_has(sqlite3 *db, const char *sql, const char *id)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return true;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc != SQLITE_DONE;
}

void report_note_unknown(const char *cmd, sqlite3 *db, const char *option, const char *id)
{
    static const char *const bailleur = "SELECT 1 FROM ledger_vacancies WHERE bailleur = ?1"
                                        " OR bailleur_siren = ?1 LIMIT 1",
                             *const reservataire =
                                 "SELECT 1 FROM ledger_orientations WHERE reservataire = ?1"
                                 " UNION ALL SELECT 1 FROM ledger_candidates WHERE credited = ?1"
                                 " LIMIT 1";
    bool is_bailleur = strcmp(option, "--bailleur") == 0;
    if (!s_ledger_has(db, is_bailleur ? bailleur : reservataire, id))
        common_note(cmd, "%s %s: the ledger has no %s of it, nothing matches (a typo?)", option, id,
                    is_bailleur ? "dwelling" : "orientation nor candidate");
}

int report_bailleur(const char *cmd, sqlite3 *db, const char *arg, char *out, size_t outlen)
{
    if (strlen(arg) >= outlen)
        return common_fail(cmd, EXIT_USAGE, "--bailleur: \"%s\" is too long", arg);
    snprintf(out, outlen, "%s", arg);
    if (strchr(arg, ':')) {
        report_note_unknown(cmd, db, "--bailleur", arg);
        return EXIT_OK;
    }
    if (!s_is_siren(arg))
        return common_fail(cmd, EXIT_USAGE,
                           "--bailleur: \"%s\" is neither an actor id (kind:name) nor a SIREN "
                           "(9 digits)",
                           arg);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT DISTINCT bailleur FROM ledger_vacancies"
                           " WHERE bailleur_siren = ?1 AND bailleur IS NOT NULL ORDER BY bailleur",
                           -1, &st, NULL) != SQLITE_OK)
        return common_fail(cmd, EXIT_STORE, "%s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *actor = (const char *)sqlite3_column_text(st, 0);
        if (n++ == 0) {
            snprintf(out, outlen, "%s", actor);
            continue;
        }
        common_fail(cmd, EXIT_USAGE,
                    "--bailleur: SIREN %s is several actors (%s, %s...): give the actor id", arg,
                    out, actor);
        sqlite3_finalize(st);
        return EXIT_USAGE;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return common_fail(cmd, EXIT_STORE, "%s", sqlite3_errmsg(db));
    if (n == 0)
        report_note_unknown(cmd, db, "--bailleur", arg);
    return EXIT_OK;
}
