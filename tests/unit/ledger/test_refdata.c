/* test_refdata - the dated reference data (ledger/refdata.h): importing
 * each kind, errors that name the line and the column (and write nothing),
 * overlapping validity refused, a listing that imports back, and the
 * lookups by date (the most precise QPV row first). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "refdata.h"

typedef struct {
    sqlite3 *db;
} s_fix_t;

static int s_setup(void **state)
{
    static s_fix_t f;
    assert_int_equal(sqlite3_open(":memory:", &f.db), SQLITE_OK);
    char err[256] = "";
    assert_int_equal(refdata_create(f.db, err, sizeof err), FB_OK);
    assert_int_equal(refdata_create(f.db, err, sizeof err), FB_OK); /* idempotent */
    *state = &f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fix_t *f = *state;
    sqlite3_close(f->db);
    return 0;
}

/* Splits csv (';' between cells, '\n' between lines) and imports it. */
static fb_err_t s_import(sqlite3 *db, refdata_kind_t kind, const char *csv, size_t *imported,
                         refdata_error_t *e)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s", csv);
    static const char *cells[32][10];
    static refdata_row_t rows[32];
    size_t n = 0;
    for (char *line = strtok(buf, "\n"); line && n < 32; line = strtok(NULL, "\n"), n++) {
        rows[n] = (refdata_row_t){.cells = cells[n], .n = 0, .line = (unsigned)n + 1};
        for (char *c = line;; c++) {
            cells[n][rows[n].n++] = c;
            c = strchr(c, ';');
            if (!c)
                break;
            *c = '\0';
        }
    }
    return refdata_import(db, kind, &rows[0], rows + 1, n - 1, 1700000000000, imported, e);
}

static void s_ok(sqlite3 *db, refdata_kind_t kind, const char *csv, size_t expected)
{
    size_t imported = 0;
    refdata_error_t e;
    if (s_import(db, kind, csv, &imported, &e) != FB_OK)
        fail_msg("line %u, column %s: %s", e.line, e.column, e.reason);
    assert_int_equal(imported, expected);
}

/* Expects a refusal at line/column whose reason contains `why`. */
static void s_refused(sqlite3 *db, refdata_kind_t kind, const char *csv, unsigned line,
                      const char *column, const char *why)
{
    size_t imported = 99;
    refdata_error_t e;
    assert_int_equal(s_import(db, kind, csv, &imported, &e), FB_ERR_PARSE);
    assert_int_equal(imported, 0);
    if (e.line != line || strcmp(e.column, column) != 0 || !strstr(e.reason, why))
        fail_msg("got line %u, column %s: %s; expected line %u, column %s: ...%s...", e.line,
                 e.column, e.reason, line, column, why);
}

static int s_count(sqlite3 *db, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The example: the QPV map changed on 1 January 2024; a lookup reads the
 * row valid on the day. */
static void test_refdata_qpv_by_date(void **state)
{
    s_fix_t *f = *state;
    s_ok(f->db, REFDATA_QPV,
         "scope;key;status;qpv_code;valid_from;valid_to;source\n"
         "rpls;0740001;out;;2015-01-01;2023-12-31;carte 2015\n"
         "rpls;0740001;IN;QN07401M;01/01/2024;;carte 2024\n"
         "residence;552046955:RES-1;in;QN07402M;2015-01-01;;\n"
         "commune;74281;out;;2015-01-01;;aucun QPV\n",
         4);
    char err[128] = "", code[32];
    refdata_t *r = refdata_new(f->db, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(
        refdata_qpv_on(r, "0740001", NULL, NULL, NULL, "2023-12-31", code, sizeof code),
        REFDATA_QPV_OUT);
    assert_int_equal(
        refdata_qpv_on(r, "0740001", NULL, NULL, NULL, "2024-01-01", code, sizeof code),
        REFDATA_QPV_IN);
    assert_string_equal(code, "QN07401M");
    assert_int_equal(
        refdata_qpv_on(r, "0740001", NULL, NULL, NULL, "2014-12-31", code, sizeof code),
        REFDATA_QPV_NONE);
    /* The RPLS row wins over the residence's, the residence's over the commune's. */
    assert_int_equal(
        refdata_qpv_on(r, "0740001", "552046955", "RES-1", "74281", "2023-06-01", NULL, 0),
        REFDATA_QPV_OUT);
    assert_int_equal(
        refdata_qpv_on(r, "other", "552046955", "RES-1", "74281", "2023-06-01", code, sizeof code),
        REFDATA_QPV_IN);
    assert_string_equal(code, "QN07402M");
    assert_int_equal(refdata_qpv_on(r, "", "552046955", "RES-2", "74281", "2023-06-01", NULL, 0),
                     REFDATA_QPV_OUT);
    assert_int_equal(refdata_qpv_on(r, "", "", "", "74010", "2023-06-01", NULL, 0),
                     REFDATA_QPV_NONE);
    refdata_destroy(&r);
    refdata_destroy(&r); /* safe twice */
}

static void test_refdata_thresholds_objectives_targets(void **state)
{
    s_fix_t *f = *state;
    s_ok(f->db, REFDATA_Q1_THRESHOLDS,
         "year;epci_siren;q1_threshold_eur\n"
         "2024;200066793;11 040,5\n"
         "2023;200066793;10520\n",
         2);
    s_ok(f->db, REFDATA_OBJECTIVES,
         "objective;target_percent;valid_from;valid_to;source\n"
         "q1_hors_qpv;25;2017-01-28;2029-12-31;CCH L441-1\n"
         "q1_hors_qpv;27,5 %;2030-01-01;;a later law\n"
         "prioritaires;25;2017-01-28;;\n",
         3);
    s_ok(f->db, REFDATA_CIA_TARGETS,
         "epci_siren;scope;scope_id;objective;target_percent;valid_from;valid_to;source\n"
         "200066793;epci;;q1_hors_qpv;55;2024-01-01;2024-12-31;CIA\n"
         "200066793;bailleur;552046955;q1_hors_qpv;67;2024-01-01;;CIA\n"
         "200066793;commune;74010;prioritaires;30;2024-01-01;;CIA\n",
         3);
    char err[128] = "", name[64] = "";
    refdata_t *r = refdata_new(f->db, err, sizeof err);
    int64_t cents = 0;
    assert_true(refdata_q1_threshold(r, "200066793", 2024, &cents, name, sizeof name));
    assert_int_equal(cents, 1104050);
    assert_false(refdata_q1_threshold(r, "200066793", 2022, &cents, NULL, 0));
    refdata_target_t t;
    assert_true(refdata_objective_on(r, REFDATA_OBJ_Q1_HORS_QPV, "2024-12-31", &t));
    assert_int_equal(t.target_per_mille, 250);
    assert_string_equal(t.source, "CCH L441-1");
    assert_true(refdata_objective_on(r, REFDATA_OBJ_Q1_HORS_QPV, "2031-01-01", &t));
    assert_int_equal(t.target_per_mille, 275);
    assert_false(refdata_objective_on(r, REFDATA_OBJ_NON_Q1_EN_QPV, "2024-12-31", &t));
    refdata_target_t cia[4];
    assert_int_equal(refdata_cia_targets_on(r, "200066793", "2024-06-30", cia, 4), 3);
    assert_string_equal(cia[0].objective, "prioritaires");
    assert_string_equal(cia[1].scope, "bailleur");
    assert_int_equal(cia[1].target_per_mille, 670);
    assert_string_equal(cia[2].scope_id, "200066793"); /* the EPCI-wide target */
    assert_int_equal(refdata_cia_targets_on(r, "200066793", "2025-01-01", cia, 4), 2);
    refdata_destroy(&r);
}

/* Each bad cell names its line and column; nothing of the file is kept. */
static void test_refdata_errors_name_line_and_column(void **state)
{
    s_fix_t *f = *state;
    const char *head = "scope;key;status;qpv_code;valid_from;valid_to;source\n";
    char csv[512];
    int before = s_count(f->db, "ledger_ref_qpv");
    snprintf(csv, sizeof csv, "%s%s", head,
             "commune;74010;out;;2015-01-01;;\n"
             "rpls;X;maybe;;2015-01-01;;\n");
    s_refused(f->db, REFDATA_QPV, csv, 3, "status", "not one of in|out");
    assert_int_equal(s_count(f->db, "ledger_ref_qpv"), before); /* line 2 not kept */
    snprintf(csv, sizeof csv, "%s%s", head, "rpls;X;in;;2024-02-30;;\n");
    s_refused(f->db, REFDATA_QPV, csv, 2, "valid_from", "not a date");
    snprintf(csv, sizeof csv, "%s%s", head, "rpls;X;in;;2024-02-01;2024-01-01;\n");
    s_refused(f->db, REFDATA_QPV, csv, 2, "valid_to", "before valid_from");
    snprintf(csv, sizeof csv, "%s%s", head, "commune;7401;in;;2024-02-01;;\n");
    s_refused(f->db, REFDATA_QPV, csv, 2, "key", "INSEE");
    snprintf(csv, sizeof csv, "%s%s", head, "residence;RES-1;in;;2024-02-01;;\n");
    s_refused(f->db, REFDATA_QPV, csv, 2, "key", "SIREN:residence_id");
    snprintf(csv, sizeof csv, "%s%s", head, "rpls;;in;;2024-02-01;;\n");
    s_refused(f->db, REFDATA_QPV, csv, 2, "key", "required");
    s_refused(f->db, REFDATA_QPV, "scope;key;status;colour\nrpls;X;in;red\n", 1, "colour",
              "unknown column");
    s_refused(f->db, REFDATA_QPV, "scope;key;valid_from\nrpls;X;2024-01-01\n", 1, "status",
              "missing column");
    s_refused(f->db, REFDATA_Q1_THRESHOLDS,
              "epci_siren;year;q1_threshold_eur\n200066793;2024;11 040,555\n", 2,
              "q1_threshold_eur", "amount");
    s_refused(f->db, REFDATA_Q1_THRESHOLDS,
              "epci_siren;year;q1_threshold_eur\n20006679;2024;11040\n", 2, "epci_siren", "SIREN");
    s_refused(f->db, REFDATA_OBJECTIVES,
              "objective;target_percent;valid_from\nq1_hors_qpv;101;2024-01-01\n", 2,
              "target_percent", "percentage");
    s_refused(f->db, REFDATA_OBJECTIVES,
              "objective;target_percent;valid_from\nmixite;25;2024-01-01\n", 2, "objective",
              "not one of");
    s_refused(f->db, REFDATA_CIA_TARGETS,
              "epci_siren;scope;scope_id;objective;target_percent;valid_from\n"
              "200066793;commune;;prioritaires;30;2024-01-01\n",
              2, "scope_id", "INSEE");
    s_refused(f->db, REFDATA_CIA_TARGETS,
              "epci_siren;scope;scope_id;objective;target_percent;valid_from\n"
              "200066793;epci;200000172;prioritaires;30;2024-01-01\n",
              2, "scope_id", "not the EPCI");
}

/* Two rows of one series whose dates meet are refused, in the file or
 * against the table; the same row again replaces it. */
static void test_refdata_overlap_refused_same_key_replaces(void **state)
{
    s_fix_t *f = *state;
    const char *head = "scope;key;status;qpv_code;valid_from;valid_to;source\n";
    char csv[512];
    snprintf(csv, sizeof csv, "%s%s", head,
             "rpls;OVL;out;;2015-01-01;2023-12-31;\n"
             "rpls;OVL;in;;2023-12-31;;\n");
    s_refused(f->db, REFDATA_QPV, csv, 3, "valid_from", "overlaps the row valid from 2015-01-01");
    snprintf(csv, sizeof csv, "%s%s", head, "rpls;OVL;out;;2015-01-01;;\n");
    s_ok(f->db, REFDATA_QPV, csv, 1);
    snprintf(csv, sizeof csv, "%s%s", head, "rpls;OVL;in;;2024-01-01;;\n");
    s_refused(f->db, REFDATA_QPV, csv, 2, "valid_from", "(open)");
    /* Closing the open row (same key: replaced) makes room for the new map. */
    snprintf(csv, sizeof csv, "%s%s", head,
             "rpls;OVL;out;;2015-01-01;2023-12-31;closed\n"
             "rpls;OVL;in;;2024-01-01;;\n");
    s_ok(f->db, REFDATA_QPV, csv, 2);
    char err[128];
    refdata_t *r = refdata_new(f->db, err, sizeof err);
    assert_int_equal(refdata_qpv_on(r, "OVL", NULL, NULL, NULL, "2024-01-01", NULL, 0),
                     REFDATA_QPV_IN);
    refdata_destroy(&r);
}

/* What a listing prints imports back unchanged. */
typedef struct {
    char text[2048];
} s_listing_t;

static int s_collect(void *arg, size_t n, const char *const *values)
{
    s_listing_t *l = arg;
    for (size_t i = 0; i < n; i++)
        snprintf(l->text + strlen(l->text), sizeof l->text - strlen(l->text), "%s%s", values[i],
                 i + 1 < n ? ";" : "\n");
    return 0;
}

static void test_refdata_list_imports_back(void **state)
{
    s_fix_t *f = *state;
    s_ok(f->db, REFDATA_Q1_THRESHOLDS,
         "epci_siren;epci_name;year;q1_threshold_eur;source\n"
         "200000172;CA Test;2024;9 999,9;x\n",
         1);
    s_listing_t l = {""};
    const char *const *names;
    size_t n = refdata_columns(REFDATA_Q1_THRESHOLDS, &names);
    for (size_t i = 0; i < n; i++)
        snprintf(l.text + strlen(l.text), sizeof l.text - strlen(l.text), "%s%s", names[i],
                 i + 1 < n ? ";" : "\n");
    char err[128];
    assert_int_equal(refdata_list(f->db, REFDATA_Q1_THRESHOLDS, s_collect, &l, err, sizeof err),
                     FB_OK);
    assert_non_null(strstr(l.text, "200000172;CA Test;2024;9999,90;x\n"));
    size_t rows = (size_t)s_count(f->db, "ledger_ref_q1_thresholds");
    s_ok(f->db, REFDATA_Q1_THRESHOLDS, l.text, rows);
    assert_int_equal(s_count(f->db, "ledger_ref_q1_thresholds"), (int)rows);
    refdata_kind_t k;
    assert_true(refdata_kind_parse("cia-targets", &k));
    assert_int_equal(k, REFDATA_CIA_TARGETS);
    assert_false(refdata_kind_parse("qpvs", &k));
}

/* A store without the tables (read-only, older) finds nothing. */
static void test_refdata_absent_tables_find_nothing(void **state)
{
    (void)state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    char err[128];
    refdata_t *r = refdata_new(db, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(refdata_qpv_on(r, "X", "1", "2", "74010", "2024-01-01", NULL, 0),
                     REFDATA_QPV_NONE);
    refdata_target_t t;
    assert_false(refdata_objective_on(r, REFDATA_OBJ_PRIORITAIRES, "2024-01-01", &t));
    refdata_destroy(&r);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refdata_qpv_by_date),
        cmocka_unit_test(test_refdata_thresholds_objectives_targets),
        cmocka_unit_test(test_refdata_errors_name_line_and_column),
        cmocka_unit_test(test_refdata_overlap_refused_same_key_replaces),
        cmocka_unit_test(test_refdata_list_imports_back),
        cmocka_unit_test(test_refdata_absent_tables_find_nothing),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
