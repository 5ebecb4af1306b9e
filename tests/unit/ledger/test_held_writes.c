/* test_held_writes.c - ledger/held.c writes a vacancy's held pairs only
 * when they change: a message that leaves what is held as it was (an
 * acknowledgement, a designation, a visit) writes no row of
 * ledger_held_pairs, so the triggers that keep ledger_held do not run; a
 * pair whose terms change (a new round under another convention, after a
 * remise its first convention counts) moves from one group to the other;
 * a pair no longer held goes. Writes are counted by temporary triggers on
 * ledger_held_pairs. And ledger_freed_modes is ledger_freed summed per
 * (bailleur, year, mode) as dwellings are freed, freed again with other
 * terms, and freed in another year. */
#include "ledger_script.h"

#define COUNTING(x) FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_##x
#define MODE(x) FLUXBUS__V1__MODE_GESTION__MODE_GESTION_##x
#define MOTIF(x) FLUXBUS__V1__HORS_FLUX_MOTIF__HORS_FLUX_MOTIF_##x

static int64_t s_d(int m, int d)
{
    return script_at(2025, m, d);
}

/* Counts the rows inserted into and deleted from ledger_held_pairs from
 * now on (temp.held_writes). */
static void s_count_writes(script_t *s)
{
    assert_int_equal(
        sqlite3_exec(store_db(s->store),
                     "CREATE TEMP TABLE held_writes (n INTEGER NOT NULL);"
                     "INSERT INTO held_writes VALUES (0);"
                     "CREATE TEMP TRIGGER held_writes_add AFTER INSERT ON main.ledger_held_pairs"
                     " BEGIN UPDATE held_writes SET n = n + 1; END;"
                     "CREATE TEMP TRIGGER held_writes_remove AFTER DELETE ON main.ledger_held_pairs"
                     " BEGIN UPDATE held_writes SET n = n + 1; END;",
                     NULL, NULL, NULL),
        SQLITE_OK);
}

static int64_t s_writes(script_t *s)
{
    return script_int(s, "SELECT n FROM temp.held_writes");
}

static int64_t s_held(script_t *s, const char *convention)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT COALESCE(sum(n), 0) FROM ledger_held WHERE convention_id = '%s'", convention);
    return script_int(s, sql);
}

static void s_convention(script_t *s, const char *id, int remise)
{
    Fluxbus__V1__Convention c = script_convention_of(id, SC_AL, 2025, 0);
    c.remise_counting = remise;
    script_convention(s, &c, s_d(1, 2));
}

/* Round `round` of V1 to AL under conv (script_record checks it first). */
static void s_orient_round(script_t *s, const char *conv, unsigned round, int64_t at)
{
    Fluxbus__V1__Orientation o = script_orientation("V1", SC_AL, conv, round, at);
    script_record(s, SC_BAILLEUR, SC_TYPE(ORIENTATION), "V1", SC_AL, at, &o);
}

static void test_a_life_that_holds_the_same_pair_writes_it_once(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_convention(&s, "C1", 0);
    script_libere(&s, "V1", "74010", 0, 0, s_d(2, 1));
    s_count_writes(&s);
    script_orient(&s, "V1", SC_AL, "C1", s_d(2, 2));
    assert_int_equal(s_writes(&s), 1);
    script_ack(&s, "V1", SC_AL, s_d(2, 3));
    script_designate(&s, "V1", "074000000000001", SC_AL, s_d(2, 4));
    script_visit(&s, "V1", "074000000000001", s_d(2, 5));
    assert_int_equal(s_writes(&s), 1);
    assert_int_equal(s_held(&s, "C1"), 1);
    script_close(&s);
}

static void test_a_pair_that_changes_its_terms_moves(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    s_convention(&s, "C1", COUNTING(COUNTED));
    s_convention(&s, "C2", 0);
    script_libere(&s, "V1", "74010", 0, 0, s_d(2, 1));
    script_orient(&s, "V1", SC_AL, "C1", s_d(2, 2));
    s_count_writes(&s);
    /* C1 counts the remise: still held, under C1. */
    script_remise(&s, "V1", SC_AL, s_d(2, 3));
    assert_int_equal(s_writes(&s), 0);
    assert_int_equal(s_held(&s, "C1"), 1);
    /* The next round is under C2: the pair moves. */
    s_orient_round(&s, "C2", 2, s_d(2, 4));
    assert_int_equal(s_writes(&s), 2);
    assert_int_equal(s_held(&s, "C1"), 0);
    assert_int_equal(s_held(&s, "C2"), 1);
    /* C2 does not count a remise: the right is given back. */
    script_remise(&s, "V1", SC_AL, s_d(2, 5));
    assert_int_equal(s_writes(&s), 3);
    assert_int_equal(s_held(&s, "C2"), 0);
    assert_int_equal(script_int(&s, "SELECT count(*) FROM ledger_held_pairs"), 0);
    script_close(&s);
}

/* Rows of ledger_freed_modes that ledger_freed summed does not give, and
 * the other way round. */
static int64_t s_modes_differ(script_t *s)
{
    return script_int(s, "SELECT (SELECT count(*) FROM (SELECT * FROM ledger_freed_modes EXCEPT"
                         " SELECT bailleur, year, mode_gestion, sum(n) FROM ledger_freed"
                         " GROUP BY 1, 2, 3)) + (SELECT count(*) FROM (SELECT bailleur, year,"
                         " mode_gestion, sum(n) FROM ledger_freed GROUP BY 1, 2, 3 EXCEPT"
                         " SELECT * FROM ledger_freed_modes))");
}

static void test_freed_modes_sum_the_dwellings_freed(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    static const char *const insee[] = {"74010", "74011", "74012"};
    static const int modes[] = {MODE(FLUX), MODE(STOCK), MODE(HORS_FLUX), MODE(FLUX)};
    for (int i = 0; i < 12; i++) {
        char v[8];
        snprintf(v, sizeof v, "V%d", i);
        int mode = modes[i % 4];
        script_libere(&s, v, insee[i % 3], mode, mode == MODE(HORS_FLUX) ? MOTIF(OTHER) : 0,
                      script_at(2025 + i / 8, 2, 1 + i));
        assert_int_equal(s_modes_differ(&s), 0);
    }
    /* Freed again before any orientation, with other terms. */
    script_libere(&s, "V0", "74012", MODE(STOCK), 0, script_at(2025, 3, 1));
    script_libere(&s, "V1", "74010", MODE(FLUX), 0, script_at(2025, 3, 2));
    assert_int_equal(s_modes_differ(&s), 0);
    /* En flux (MODE_GESTION_FLUX, 1) in 2025: V1, V3, V4 and V7. */
    assert_int_equal(script_int(&s, "SELECT n FROM ledger_freed_modes WHERE year = 2025"
                                    " AND mode_gestion = 1"),
                     4);
    assert_int_equal(script_int(&s, "SELECT count(DISTINCT year) FROM ledger_freed_modes"), 2);
    script_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_life_that_holds_the_same_pair_writes_it_once),
        cmocka_unit_test(test_a_pair_that_changes_its_terms_moves),
        cmocka_unit_test(test_freed_modes_sum_the_dwellings_freed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
