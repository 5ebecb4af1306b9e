/* test_held.c - the running counts of ledger/held.c against what they
 * count. A seeded random life of twenty vacancies, two réservataires and
 * their conventions (freed en flux, en stock or hors flux, oriented in
 * rounds, acknowledged, declined, given back, expired, a convention
 * amended back to January so that it counts remises otherwise) goes
 * through ledger_check and ledger_record like the broker's; after every
 * message accepted (twenty more vacancies in the second year):
 * - ledger_held_pairs is the set an independent reading of the ledger
 *   gives (each latest round, held unless declined, or remis / expired
 *   and not counted by the revision in force then; in the year the
 *   vacancy was freed, not when oriented before it);
 * - ledger_held is ledger_held_pairs counted per group;
 * - ledger_freed is ledger_vacancies counted per group.
 * And an expiry the broker marks itself (deadlines_mark) gives back a right
 * its convention does not count. */
#include "ledger_script.h"

#include "conventions.h"
#include "deadlines.h"

#define MODE(x) FLUXBUS__V1__MODE_GESTION__MODE_GESTION_##x
#define MOTIF(x) FLUXBUS__V1__HORS_FLUX_MOTIF__HORS_FLUX_MOTIF_##x
#define COUNTING(x) FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_##x
#define S_VACANCIES 20
#define S_STEPS 600

static uint32_t s_rand(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

/* Rows of `a` not in `b` and rows of `b` not in `a`. */
static int64_t s_difference(script_t *s, const char *a, const char *b)
{
    char sql[2048];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM (%s EXCEPT %s)) + (SELECT count(*) FROM (%s EXCEPT %s))",
             a, b, b, a);
    return script_int(s, sql);
}

/* The oracle: the pairs held, read from the ledger's own tables. */
static void s_expected_pairs(script_t *s)
{
    sqlite3 *db = store_db(s->store);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TABLE IF EXISTS temp.expected;"
                                  "CREATE TEMP TABLE expected (vacancy_id, reservataire, bailleur,"
                                  " year, convention_id, mode_gestion, hors_flux_motif)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_stmt *st = NULL, *ins = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT o.vacancy_id, o.reservataire, o.bailleur,"
                           " COALESCE(o.convention_id, ''), o.status, o.status_ms, o.oriented_ms,"
                           " v.freed_ms, COALESCE(v.mode_gestion, 0),"
                           " COALESCE(v.hors_flux_motif, 0) FROM ledger_orientations o"
                           " LEFT JOIN ledger_vacancies v USING (vacancy_id)"
                           " WHERE o.round = (SELECT max(round) FROM ledger_orientations x"
                           "  WHERE x.vacancy_id = o.vacancy_id"
                           "  AND x.reservataire = o.reservataire)",
                           -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "INSERT INTO expected VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &ins, NULL),
        SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *conv = (const char *)sqlite3_column_text(st, 3);
        const char *status = (const char *)sqlite3_column_text(st, 4);
        bool held = strcmp(status, "decline") != 0;
        if (strcmp(status, "remis") == 0 || strcmp(status, "expire") == 0) {
            char err[128];
            conventions_t *c = conventions_load_id(db, conv, err, sizeof err);
            assert_non_null(c);
            const conventions_rev_t *r = conventions_at(c, 0, sqlite3_column_int64(st, 5));
            held = status[0] == 'r' ? r->remise_counting == COUNTING(COUNTED)
                                    : r->expired_deadline_counting != COUNTING(NOT_COUNTED);
            conventions_destroy(&c);
        }
        int64_t oriented = sqlite3_column_int64(st, 6);
        int year = period_year_of(
            sqlite3_column_type(st, 7) == SQLITE_NULL ? oriented : sqlite3_column_int64(st, 7));
        if (!held || oriented < period_year(year).start_ms)
            continue;
        for (int i = 0; i < 3; i++)
            sqlite3_bind_value(ins, i + 1, sqlite3_column_value(st, i));
        sqlite3_bind_int(ins, 4, year);
        sqlite3_bind_value(ins, 5, sqlite3_column_value(st, 3)); /* convention */
        sqlite3_bind_value(ins, 6, sqlite3_column_value(st, 8)); /* mode */
        sqlite3_bind_value(ins, 7, sqlite3_column_value(st, 9)); /* motif */
        assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(ins);
}

/* Prints the rows of `sql`, to say what differs. */
static void s_print(script_t *s, const char *what, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(s->store), sql, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        fprintf(stderr, "%s:", what);
        for (int i = 0; i < sqlite3_column_count(st); i++)
            fprintf(stderr, " %s",
                    sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "NULL");
        fprintf(stderr, "\n");
    }
    sqlite3_finalize(st);
}

static void s_check_counts(script_t *s, int step)
{
    s_expected_pairs(s);
    int64_t pairs = s_difference(s, "SELECT * FROM temp.expected",
                                 "SELECT vacancy_id, reservataire, bailleur, year, convention_id,"
                                 " mode_gestion, hors_flux_motif FROM ledger_held_pairs");
    int64_t held = s_difference(
        s,
        "SELECT bailleur, year, convention_id, reservataire, mode_gestion, hors_flux_motif,"
        " count(*) FROM ledger_held_pairs GROUP BY 1, 2, 3, 4, 5, 6",
        "SELECT bailleur, year, convention_id, reservataire, mode_gestion, hors_flux_motif, n"
        " FROM ledger_held WHERE n <> 0");
    int64_t freed =
        s_difference(s,
                     "SELECT bailleur, freed_year, COALESCE(commune_insee, ''),"
                     " COALESCE(mode_gestion, 0), COALESCE(hors_flux_motif, 0), count(*)"
                     " FROM ledger_vacancies WHERE freed_ms IS NOT NULL GROUP BY 1, 2, 3, 4, 5",
                     "SELECT bailleur, year, commune_insee, mode_gestion, hors_flux_motif, n"
                     " FROM ledger_freed WHERE n <> 0");
    if (pairs) {
        s_print(s, "expected, not held",
                "SELECT * FROM temp.expected EXCEPT SELECT"
                " vacancy_id, reservataire, bailleur, year, convention_id, mode_gestion,"
                " hors_flux_motif FROM ledger_held_pairs");
        s_print(s, "held, not expected",
                "SELECT vacancy_id, reservataire, bailleur, year,"
                " convention_id, mode_gestion, hors_flux_motif FROM ledger_held_pairs"
                " EXCEPT SELECT * FROM temp.expected");
    }
    if (pairs || held || freed)
        fail_msg("after step %d: %lld pair(s), %lld held group(s), %lld freed group(s) differ",
                 step, (long long)pairs, (long long)held, (long long)freed);
}

/* ledger_check, then ledger_record when accepted. */
static bool s_try(script_t *s, const char *sender, int type, const char *vacancy, const char *to,
                  int64_t at, const void *payload)
{
    char detail[256] = "";
    if (script_check(s, sender, type, vacancy, to, at, payload, detail, sizeof detail) != FB_OK)
        return false;
    const char *const rcpt[] = {to};
    ledger_msg_t m = script_msg(s, sender, type, vacancy, to ? rcpt : NULL, at, payload);
    assert_int_equal(ledger_record(s->ledger, &m), FB_OK);
    return true;
}

/* Convention `id` for `year` between the bailleur and resa, revision
 * `revision` (an amendment countersigned), effective 1 January, remises
 * counted or not, at most 12 orientations. */
static bool s_convention(script_t *s, const char *id, const char *resa, int year, unsigned revision,
                         int remise, int64_t at)
{
    Fluxbus__V1__ConventionObjective o = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    o.kind = FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_PLACEMENTS;
    o.unit = FLUXBUS__V1__OBJECTIVE_UNIT__OBJECTIVE_UNIT_COUNT;
    o.value = o.max = 12;
    Fluxbus__V1__ConventionObjective *objectives[] = {&o};
    Fluxbus__V1__Date from = FLUXBUS__V1__DATE__INIT;
    from.year = year;
    from.month = from.day = 1;
    Fluxbus__V1__Convention c = script_convention_of(id, resa, year, 0);
    c.revision = revision;
    c.departement = "74";
    c.n_objectives = 1;
    c.objectives = objectives;
    c.effective_from = &from;
    c.remise_counting = remise;
    bool ok = s_try(s, SC_BAILLEUR, SC_TYPE(CONVENTION), NULL, resa, at, &c);
    return ok && (revision < 2 || s_try(s, resa, SC_TYPE(CONVENTION), NULL, SC_BAILLEUR, at, &c));
}

typedef struct {
    unsigned rounds[2];
    int mode;
} s_vacancy_t;

static const char *const s_resa[2] = {SC_AL, SC_ETAT};

/* One random step at `at`; the number of the kind of step accepted, or -1. */
static int s_step(script_t *s, s_vacancy_t *vs, uint32_t *seed, int64_t at)
{
    int k = (int)(s_rand(seed) % S_VACANCIES), r = (int)(s_rand(seed) % 2);
    int g = period_year_of(at) - 2025; /* the year's vacancies: V.. then W.. */
    char vacancy[8];
    snprintf(vacancy, sizeof vacancy, "%c%02d", 'V' + g, k);
    s_vacancy_t *v = &vs[g * S_VACANCIES + k];
    const char *resa = s_resa[r];
    int kind = (int)(s_rand(seed) % 7);
    switch (kind) {
    case 0: { /* freed (again: refused once oriented) */
        static const char *const insee[] = {"74010", "74011", "74012"};
        static const int modes[] = {MODE(FLUX), MODE(FLUX), MODE(STOCK), MODE(HORS_FLUX)};
        Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
        l.vacancy_id = vacancy;
        l.commune_insee = (char *)insee[s_rand(seed) % 3];
        l.bailleur_siren = "552046955";
        l.mode_gestion = modes[s_rand(seed) % 4];
        l.hors_flux_motif = l.mode_gestion == MODE(HORS_FLUX)
                                ? (s_rand(seed) % 2 ? MOTIF(RELOGEMENT_ANRU) : MOTIF(OTHER))
                                : 0;
        v->mode = l.mode_gestion;
        return s_try(s, SC_BAILLEUR, SC_TYPE(LOGEMENT_LIBERE), vacancy, NULL, at, &l) ? 0 : -1;
    }
    case 1: { /* oriented: a new round */
        char conv[16];
        snprintf(conv, sizeof conv, "%c%d", r ? 'E' : 'A', period_year_of(at));
        Fluxbus__V1__Orientation o = script_orientation(vacancy, resa, conv, v->rounds[r] + 1, at);
        if (!s_try(s, SC_BAILLEUR, SC_TYPE(ORIENTATION), vacancy, resa, at, &o))
            return -1;
        v->rounds[r]++;
        return 1;
    }
    case 2: {
        Fluxbus__V1__OrientationAck a = FLUXBUS__V1__ORIENTATION_ACK__INIT;
        a.vacancy_id = vacancy;
        return s_try(s, resa, SC_TYPE(ORIENTATION_ACK), vacancy, SC_BAILLEUR, at, &a) ? 2 : -1;
    }
    default:
        break;
    }
    if (kind == 3) {
        Fluxbus__V1__OrientationDecline d = FLUXBUS__V1__ORIENTATION_DECLINE__INIT;
        d.vacancy_id = vacancy;
        d.reason = FLUXBUS__V1__ORIENTATION_DECLINE_REASON__ORIENTATION_DECLINE_REASON_OTHER;
        return s_try(s, resa, SC_TYPE(ORIENTATION_DECLINE), vacancy, SC_BAILLEUR, at, &d) ? 3 : -1;
    }
    if (kind == 4) {
        Fluxbus__V1__RemiseADisposition m = FLUXBUS__V1__REMISE_ADISPOSITION__INIT;
        m.vacancy_id = vacancy;
        m.reason = FLUXBUS__V1__REMISE_REASON__REMISE_REASON_NO_CANDIDATE;
        return s_try(s, resa, SC_TYPE(REMISE_A_DISPOSITION), vacancy, SC_BAILLEUR, at, &m) ? 4 : -1;
    }
    Fluxbus__V1__DeadlineExpired e = FLUXBUS__V1__DEADLINE_EXPIRED__INIT;
    e.vacancy_id = vacancy;
    e.deadline_ms = at - 86400000LL;
    return s_try(s, SC_BAILLEUR, SC_TYPE(DEADLINE_EXPIRED), vacancy, resa, at, &e) ? 5 : -1;
}

static void test_counts_follow_a_random_life(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    int64_t at = script_at(2025, 1, 2);
    assert_true(s_convention(&s, "A2025", SC_AL, 2025, 1, COUNTING(COUNTED), at));
    assert_true(s_convention(&s, "E2025", SC_ETAT, 2025, 1, 0, at));
    assert_true(s_convention(&s, "A2026", SC_AL, 2026, 1, 0, at));
    assert_true(s_convention(&s, "E2026", SC_ETAT, 2026, 1, COUNTING(COUNTED), at));
    s_vacancy_t vs[2 * S_VACANCIES] = {0};
    uint32_t seed = 20251;
    unsigned accepted[6] = {0};
    for (int step = 0; step < S_STEPS; step++) {
        at += 86400000LL * 2 / 3; /* about 13 months in all */
        if (step == S_STEPS / 3)  /* remises of AL now count no more, back to January */
            assert_true(s_convention(&s, "A2025", SC_AL, 2025, 2, COUNTING(NOT_COUNTED), at));
        int kind = s_step(&s, vs, &seed, at);
        if (kind < 0)
            continue;
        accepted[kind]++;
        s_check_counts(&s, step);
    }
    /* The life went through every kind of step, and something is held. */
    for (int k = 0; k < 6; k++)
        if (accepted[k] < 3)
            fail_msg("only %u step(s) of kind %d accepted", accepted[k], k);
    assert_true(script_int(&s, "SELECT count(*) FROM ledger_held_pairs") > 3);
    assert_true(script_int(&s, "SELECT count(DISTINCT year) FROM ledger_held_pairs") == 2);
    script_close(&s);
}

/* deadlines_due's callback: marks each due orientation expired at ctx's
 * instant (as broker/expiry.c does before it sends DeadlineExpired). */
typedef struct {
    deadlines_t *d;
    int64_t at;
    int marked;
} s_marking_t;

static fb_err_t s_mark(void *ctx, const deadlines_due_t *due)
{
    s_marking_t *m = ctx;
    m->marked++;
    return deadlines_mark(m->d, due, m->at);
}

static void test_an_expiry_the_broker_marks_gives_the_right_back(void **state)
{
    (void)state;
    script_t s;
    script_open(&s);
    int64_t at = script_at(2025, 3, 2);
    Fluxbus__V1__Convention c = script_convention_of("C1", SC_AL, 2025, 0);
    c.expired_deadline_counting = COUNTING(NOT_COUNTED);
    script_convention(&s, &c, at);
    script_libere(&s, "V1", "74010", 0, 0, at);
    script_orient(&s, "V1", SC_AL, "C1", at); /* a deadline 15 days on */
    assert_int_equal(script_int(&s, "SELECT sum(n) FROM ledger_held"), 1);

    char err[256] = "";
    s_marking_t m = {.d = deadlines_open(store_db(s.store), err, sizeof err),
                     .at = at + 16 * 86400000LL};
    assert_non_null(m.d);
    assert_int_equal(deadlines_due(m.d, m.at, 10, s_mark, &m), FB_OK);
    deadlines_close(&m.d);
    assert_int_equal(m.marked, 1);
    assert_int_equal(script_int(&s, "SELECT count(*) FROM ledger_held_pairs"), 0);
    assert_int_equal(script_int(&s, "SELECT sum(n) FROM ledger_held"), 0);
    s_check_counts(&s, 0);
    script_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_follow_a_random_life),
        cmocka_unit_test(test_an_expiry_the_broker_marks_gives_the_right_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
