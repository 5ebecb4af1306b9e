/* test_facts.c - what accepted messages write in the ledger's tables
 * (ledger/facts.c) and the tables' schema version: an Orientation
 * repeating its open round is no event; a candidate's visits keep the
 * earliest that took place; a new store is stamped with
 * LEDGER_SCHEMA_VERSION, a store of another version is refused by name of
 * the rebuild command, and ledger_reset() empties the tables at the current
 * version, keeping the reference data. */
#include "ledger_script.h"

#define VAC "vac-1"
#define NUR "074011900000001"
#define CONV "C-AL-2026"
#define OUTCOME(x) FLUXBUS__V1__VISITE_OUTCOME__VISITE_OUTCOME_##x

static int64_t s_mar(int day)
{
    return script_at(2026, 3, day);
}

static void s_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

/* A convention, VAC freed and oriented to Action Logement on 2 March. */
static void s_oriented(script_t *s)
{
    Fluxbus__V1__Convention c = script_convention_of(
        CONV, SC_AL, 2026, FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_PASSAGE_CALEOL);
    script_convention(s, &c, s_mar(1));
    script_libere(s, VAC, "74010", 0, 0, s_mar(2));
    script_orient(s, VAC, SC_AL, CONV, s_mar(2));
}

/* The same round again, term for term, is accepted and changes nothing:
 * not even the log of the vacancy's events. */
static void test_a_repeated_orientation_is_no_event(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_oriented(&s);
    script_ack(&s, VAC, SC_AL, s_mar(3));
    Fluxbus__V1__Orientation again = script_orientation(VAC, SC_AL, CONV, 1, s_mar(2));
    script_record(&s, SC_BAILLEUR, SC_TYPE(ORIENTATION), VAC, SC_AL, s_mar(4), &again);
    /* LogementLibere, Orientation, OrientationAck: three events. */
    assert_int_equal(
        script_int(&s, "SELECT count(*) FROM ledger_events WHERE vacancy_id = 'vac-1'"), 3);
    assert_int_equal(script_int(&s, "SELECT count(*) FROM ledger_events WHERE type = 2"), 1);
    assert_int_equal(script_int(&s, "SELECT oriented_ms FROM ledger_orientations"), s_mar(2));
    assert_int_equal(script_int(&s, "SELECT status = 'acquitte' FROM ledger_orientations"), 1);
    script_close(&s);
}

/* visit_ms is the latest Visite's; visited_ms the earliest visit that took
 * place: a plan, a no-show or a later visit leave it. */
static void test_visits_keep_the_earliest_that_took_place(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_oriented(&s);
    script_designate(&s, VAC, NUR, SC_AL, s_mar(3));
    script_visit_outcome(&s, VAC, NUR, OUTCOME(SCHEDULED), s_mar(8), s_mar(4));
    assert_int_equal(script_int(&s, "SELECT visited_ms FROM ledger_candidates"), -1);
    script_visit_outcome(&s, VAC, NUR, OUTCOME(DONE_NOT_INTERESTED), s_mar(8), s_mar(9));
    script_visit_outcome(&s, VAC, NUR, OUTCOME(NO_SHOW), s_mar(10), s_mar(10));
    script_visit_outcome(&s, VAC, NUR, OUTCOME(DONE_INTERESTED), s_mar(11), s_mar(11));
    /* A visit reported late, dated before the others. */
    script_visit_outcome(&s, VAC, NUR, OUTCOME(DONE_INTERESTED), s_mar(6), s_mar(12));
    assert_int_equal(script_int(&s, "SELECT visited_ms FROM ledger_candidates"), s_mar(6));
    assert_int_equal(script_int(&s, "SELECT visit_ms FROM ledger_candidates"), s_mar(6));
    assert_int_equal(script_int(&s, "SELECT visit_outcome FROM ledger_candidates"),
                     OUTCOME(DONE_INTERESTED));
    script_close(&s);
}

/* ledger_open() or ledger_open_readonly() on the store at `path` is refused
 * with a reason starting with `why`. */
static void s_open_refused(const char *path, const char *why)
{
    char err[1024] = "";
    store_t *store = store_open(path, err, sizeof err);
    assert_non_null(store);
    ledger_t *ledger = ledger_open(store_db(store), err, sizeof err);
    assert_null(ledger);
    if (strncmp(err, why, strlen(why)) != 0)
        fail_msg("ledger_open: \"%s\", expected \"%s...\"", err, why);
    store_destroy(&store);
    err[0] = '\0';
    assert_null(ledger_open_readonly(path, err, sizeof err));
    if (strncmp(err, why, strlen(why)) != 0)
        fail_msg("ledger_open_readonly: \"%s\", expected \"%s...\"", err, why);
}

static void test_a_store_of_another_version_is_refused_by_name_of_the_rebuild(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    sqlite3 *db = ledger_db(s.ledger);
    int version = 0;
    assert_int_equal(ledger_schema_version(db, &version), FB_OK);
    assert_int_equal(version, LEDGER_SCHEMA_VERSION);
    /* Made before versions were kept: the tables, no version. */
    s_exec(db, "DROP TABLE ledger_schema_version");
    assert_int_equal(ledger_schema_version(db, &version), FB_OK);
    assert_int_equal(version, 0);
    char why[1024];
    snprintf(why, sizeof why,
             "%s: the flux ledger's tables are version 0, this fluxbus needs %d: stop the broker "
             "and run `fluxbus ledger rebuild --store %s`",
             sqlite3_db_filename(db, "main"), LEDGER_SCHEMA_VERSION,
             sqlite3_db_filename(db, "main"));
    s_open_refused(s.path, why);
    /* Written by a newer fluxbus. */
    s_exec(db, "CREATE TABLE ledger_schema_version (version INTEGER NOT NULL);"
               "INSERT INTO ledger_schema_version VALUES (99)");
    snprintf(why, sizeof why,
             "%s: the flux ledger's tables are version 99, newer than this fluxbus",
             sqlite3_db_filename(db, "main"));
    s_open_refused(s.path, why);
    script_close(&s);
}

/* A store without any ledger table: the broker's ledger_open makes them, a
 * report has nothing to read. */
static void test_a_store_without_a_ledger_gets_one(void **state)
{
    (void)state;
    char dir[64], path[128], err[1024] = "";
    assert_int_equal(tmpdir_make(dir, sizeof dir, "facts"), 0);
    snprintf(path, sizeof path, "%s/store.db", dir);
    store_t *store = store_open(path, err, sizeof err);
    assert_non_null(store);
    int version = 0;
    assert_int_equal(ledger_schema_version(store_db(store), &version), FB_OK);
    assert_int_equal(version, LEDGER_SCHEMA_NONE);
    assert_null(ledger_open_readonly(path, err, sizeof err));
    assert_non_null(strstr(err, ": no flux ledger in this store"));
    ledger_t *ledger = ledger_open(store_db(store), err, sizeof err);
    assert_non_null(ledger);
    assert_int_equal(ledger_schema_version(store_db(store), &version), FB_OK);
    assert_int_equal(version, LEDGER_SCHEMA_VERSION);
    ledger_close(&ledger);
    store_destroy(&store);
    tmpdir_remove(dir);
}

/* ledger_reset() on an old store: empty tables of the current version; the
 * imported reference data stays. */
static void test_reset_empties_the_ledger_and_keeps_the_reference_data(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_oriented(&s);
    sqlite3 *db = ledger_db(s.ledger);
    s_exec(db, "INSERT INTO ledger_ref_objectives (objective, target_per_mille, valid_from,"
               " imported_ms) VALUES ('q1_hors_qpv', 250, '2017-01-29', 0);"
               "DROP TABLE ledger_schema_version;"
               "ALTER TABLE ledger_candidates DROP COLUMN visited_ms");
    char err[256] = "";
    assert_int_equal(ledger_reset(db, err, sizeof err), FB_OK);
    int version = 0;
    assert_int_equal(ledger_schema_version(db, &version), FB_OK);
    assert_int_equal(version, LEDGER_SCHEMA_VERSION);
    assert_int_equal(script_int(&s, "SELECT count(*) FROM ledger_vacancies"), 0);
    assert_int_equal(script_int(&s, "SELECT count(*) FROM ledger_conventions"), 0);
    assert_int_equal(script_int(&s, "SELECT count(*) FROM ledger_events"), 0);
    assert_int_equal(script_int(&s, "SELECT count(visited_ms) FROM ledger_candidates"), 0);
    assert_int_equal(script_int(&s, "SELECT count(*) FROM ledger_ref_objectives"), 1);
    /* The same messages recorded again give the same facts. */
    s_oriented(&s);
    assert_int_equal(script_int(&s, "SELECT freed_ms FROM ledger_vacancies"), s_mar(2));
    assert_int_equal(script_int(&s, "SELECT oriented_ms FROM ledger_orientations"), s_mar(2));
    script_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_repeated_orientation_is_no_event),
        cmocka_unit_test(test_visits_keep_the_earliest_that_took_place),
        cmocka_unit_test(test_a_store_of_another_version_is_refused_by_name_of_the_rebuild),
        cmocka_unit_test(test_a_store_without_a_ledger_gets_one),
        cmocka_unit_test(test_reset_empties_the_ledger_and_keeps_the_reference_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
