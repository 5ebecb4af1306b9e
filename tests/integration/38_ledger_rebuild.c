/* 38_ledger_rebuild - an upgrade that changed the ledger's tables.
 * On a real broker (its DecompteDroits sent at once, so that its own
 * messages are in the store too), the bailleur and Action Logement take
 * three dwellings through their lives: one to the lease after a visit and
 * a CALEOL, one oriented twice with the same terms then given back, one
 * agreed in CALEOL and visited after (under a convention counting a CALEOL
 * agreement after a visit, only the first counts). `fluxbus ledger
 * rebuild` is refused while the broker runs, and the broker refuses a store
 * another process holds. The convention is amended twice: revision 2
 * countersigned (in force), revision 3 sent by Action Logement alone (a
 * proposal). Then the store is made old: version 1 (no record of who
 * signed), refused; then its ledger loses its version, columns added since
 * (lease_q1, condition_ms...) and its events.
 * The broker refuses to start and the reports refuse to read it, both
 * naming the rebuild command; the rebuild replays every stored message, and
 * `fluxbus report flux` and `report bilan` (JSON) are byte for byte what
 * they were, and so are the revisions in force and their signers; the
 * broker starts again. A store holding messages and no
 * ledger at all (made before the ledger existed) is refused and rebuilt the
 * same way. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "builders.h"
#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "ledger.h"
#include "period.h"
#include "storelock.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_CONV "C-AL-74"
#define S_OUT (1 << 18) /* a report's JSON */

static const char *const s_at_once[] = {"--decompte-interval-s", "0", NULL};

/* Counted at the CALEOL's agreement after a visit: the candidates' visits
 * (visited_ms, a column the old store lacks) make the counts. Revision 1
 * from the bailleur, revision 2 (a note) from both parties: in force;
 * revision 3 (counted at the lease) from Action Logement alone: a proposal,
 * which the rebuild must leave out of force too. */
static void s_convention(fbt_pair_t *w, int year)
{
    Fluxbus__V1__Convention c = builders_convention(S_CONV, FBT_BAILLEUR, FBT_RESA, year);
    c.counting_method = FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_PASSAGE_CALEOL;
    c.caleol_requires_visit = true;
    fbt_send_ok(w->cb, T(CONVENTION), FBT_RESA, NULL, &c.base);
    c.revision = 2;
    c.amendment_note = "avenant n°1";
    fbt_send_ok(w->cr, T(CONVENTION), FBT_BAILLEUR, NULL, &c.base);
    fbt_send_ok(w->cb, T(CONVENTION), FBT_RESA, NULL, &c.base);
    c.revision = 3;
    c.counting_method = FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_BAIL_SIGNE;
    c.amendment_note = "proposé par Action Logement seul";
    fbt_send_ok(w->cr, T(CONVENTION), FBT_BAILLEUR, NULL, &c.base);
}

/* Freed in Annecy and oriented to Action Logement (twice when `twice`:
 * the same round again, a no-op). */
static void s_oriented(fbt_pair_t *w, const char *vacancy, bool twice)
{
    Fluxbus__V1__LogementLibere l = builders_libere(vacancy, "74010");
    l.bailleur_siren = BUILDERS_SIREN;
    l.epci_siren = "200066793";
    l.mode_gestion = FLUXBUS__V1__MODE_GESTION__MODE_GESTION_FLUX;
    fbt_send_ok(w->cb, T(LOGEMENT_LIBERE), FBT_RESA, vacancy, &l.base);
    Fluxbus__V1__Orientation o =
        life_msgs_orientation(vacancy, S_CONV, FBT_RESA, 1, 1, fb_now_ms() + 15 * BUILDERS_DAY_MS);
    o.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    for (int i = 0; i < (twice ? 2 : 1); i++)
        fbt_send_ok(w->cb, T(ORIENTATION), FBT_RESA, vacancy, &o.base);
}

static void s_designated(fbt_pair_t *w, const char *vacancy, const char *nur)
{
    Fluxbus__V1__Designation d = builders_designation(vacancy, S_CONV, nur, 1, 1);
    d.dalo = true;
    d.quartile = FLUXBUS__V1__QUARTILE__QUARTILE_Q1;
    fbt_send_ok(w->cr, T(DESIGNATION), FBT_BAILLEUR, vacancy, &d.base);
}

static void s_visited(fbt_pair_t *w, const char *vacancy, const char *nur)
{
    Fluxbus__V1__Visite v = FLUXBUS__V1__VISITE__INIT;
    v.vacancy_id = (char *)vacancy;
    v.nur = (char *)nur;
    v.visit_ms = fb_now_ms();
    v.outcome = FLUXBUS__V1__VISITE_OUTCOME__VISITE_OUTCOME_DONE_INTERESTED;
    fbt_send_ok(w->cb, T(VISITE), FBT_RESA, vacancy, &v.base);
}

static void s_given_back(fbt_pair_t *w, const char *vacancy)
{
    Fluxbus__V1__RemiseADisposition r = FLUXBUS__V1__REMISE_ADISPOSITION__INIT;
    r.vacancy_id = (char *)vacancy;
    r.convention_id = S_CONV;
    r.reason = FLUXBUS__V1__REMISE_REASON__REMISE_REASON_NO_CANDIDATE;
    fbt_send_ok(w->cr, T(REMISE_A_DISPOSITION), FBT_BAILLEUR, vacancy, &r.base);
}

/* The scripted lives; returns the year they are in (Paris). */
static int s_script(fbt_pair_t *w)
{
    int year = period_year_of(fb_now_ms());
    s_convention(w, year);
    s_oriented(w, "V1", false);
    s_designated(w, "V1", "074012600000001");
    s_visited(w, "V1", "074012600000001");
    fbt_caleol_agree(w->cb, FBT_RESA, "V1", "074012600000001", true);
    fbt_accept_and_lease(w->cb, FBT_RESA, "V1", "074012600000001", S_CONV, true);
    s_oriented(w, "V2", true);
    s_given_back(w, "V2");
    s_oriented(w, "V3", false);
    s_designated(w, "V3", "074012600000003");
    fbt_caleol_agree(w->cb, FBT_RESA, "V3", "074012600000003", false);
    s_visited(w, "V3", "074012600000003"); /* after the decision: no "CALEOL after a visit" */
    return year;
}

/* Both reports of the year as JSON, in out (each asserted to succeed). */
static void s_reports(const fbt_pair_t *w, int year, char *out)
{
    int n = 0;
    const char *which[] = {"flux", "bilan"};
    for (int i = 0; i < 2; i++) {
        int rc = fbt_sh(out + n, S_OUT - (size_t)n, "'%s' report %s --store '%s' --year %d",
                        FB_CLI_BIN, which[i], w->b.store, year);
        if (rc != 0)
            fail_msg("report %s exited %d", which[i], rc);
        n += (int)strlen(out + n);
    }
    assert_true(n > 1000 && n + 1 < S_OUT);
}

/* The revisions in force and every amendment sent, with their signers. */
static void s_signatures(const fbt_pair_t *w, char *out, size_t len)
{
    assert_int_equal(fbt_sh(out, len,
                            "sqlite3 '%s' \"SELECT 'in force', revision, signed_by"
                            " FROM ledger_conventions UNION ALL SELECT 'sent', revision, sender"
                            " FROM ledger_convention_proposals ORDER BY 1, 2, 3\"",
                            w->b.store),
                     0);
}

/* The official count of the year's only convention line: V1, visited
 * before its CALEOL; not V3, visited after (under revision 2: revision 3,
 * which would count at the lease, is only proposed). */
static void s_counts_the_visit_before_the_decision(const fbt_pair_t *w, int year)
{
    static char out[S_OUT];
    assert_int_equal(fbt_sh(out, sizeof out, "'%s' report flux --store '%s' --year %d", FB_CLI_BIN,
                            w->b.store, year),
                     0);
    json_error_t e;
    json_t *doc = json_loads(out, 0, &e);
    json_int_t caleol = -1, official = -1, attributions = -1;
    if (!doc || json_unpack(doc, "{s:[{s:[{s:{s:I, s:I}, s:{s:I}}]}]}", "conventions", "lines",
                            "counts", "passage_caleol", &caleol, "official", &official, "caleol",
                            "attributions", &attributions) != 0)
        fail_msg("report flux: %.300s", out);
    assert_int_equal(attributions, 2);
    assert_int_equal(caleol, 1);
    assert_int_equal(official, 1);
    json_decref(doc);
}

static sqlite3 *s_db(const fbt_pair_t *w)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(w->b.store, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static void s_sql(const fbt_pair_t *w, const char *sql)
{
    sqlite3 *db = s_db(w);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static long long s_count(const fbt_pair_t *w, const char *sql)
{
    sqlite3 *db = s_db(w);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Waits (up to 10 s) until the broker stored a DecompteDroits of its own. */
static void s_wait_decompte(const fbt_pair_t *w)
{
    for (int i = 0; i < 200; i++) {
        if (s_count(w, "SELECT count(*) FROM messages WHERE type = 16") > 0)
            return;
        usleep(50 * 1000);
    }
    fail_msg("the broker sent no DecompteDroits");
}

/* `cmd` (a shell command) exits `want` and its output (stdout and stderr)
 * says `says`. */
static void s_expect(int want, const char *says, const char *cmd)
{
    static char out[8192];
    int rc = fbt_sh(out, sizeof out, "%s 2>&1", cmd);
    if (rc != want || !strstr(out, says))
        fail_msg("%s: exit %d, expected %d saying \"%s\":\n%s", cmd, rc, want, says, out);
}

/* `fluxbus <what> --store <store> <more>` exits `want` saying `says`. */
static void s_cli(const fbt_pair_t *w, const char *what, const char *more, int want,
                  const char *says)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' %s --store '%s' %s", FB_CLI_BIN, what, w->b.store, more);
    s_expect(want, says, cmd);
}

/* The broker binary on the store exits 2 (cannot start) saying `says`. */
static void s_broker_refuses(const fbt_pair_t *w, const char *says)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' --endpoint tcp://127.0.0.1:0 --store '%s' --key '%s'",
             FB_BROKER_BIN, w->b.store, w->b.key);
    s_expect(2, says, cmd);
}

/* `fluxbus ledger rebuild` succeeds and says it replayed every stored message. */
static void s_rebuild_ok(const fbt_pair_t *w)
{
    char want[1200];
    snprintf(want, sizeof want,
             "rebuilt the flux ledger of %s from %lld stored message(s), 0 of them purged "
             "skeletons; ledger schema version %d\n",
             w->b.store, s_count(w, "SELECT count(*) FROM messages"), LEDGER_SCHEMA_VERSION);
    s_cli(w, "ledger rebuild", "", 0, want);
}

/* Stops the broker cleanly; the audit chain verifies over every message. */
static void s_stop_and_audit(fbt_pair_t *w)
{
    fb_client_destroy(&w->cb);
    fb_client_destroy(&w->cr);
    assert_int_equal(fbt_stop(&w->b, SIGTERM), 0);
    fbt_audit_ok(&w->b, (uint64_t)s_count(w, "SELECT count(*) FROM messages"));
}

static void s_restart(fbt_pair_t *w)
{
    fbt_start(&w->b);
    w->cb = fbt_client(&w->b, &w->bailleur);
    w->cr = fbt_client(&w->b, &w->resa);
}

static void test_an_old_ledger_is_refused_then_rebuilt_to_the_same_reports(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open_with(&w, s_at_once);
    int year = s_script(&w);
    s_wait_decompte(&w); /* the broker's own messages are replayed too */
    /* The broker has the store: no rebuild beside it. */
    char says[1024];
    snprintf(says, sizeof says, "is in use by fluxbus-broker pid %d", (int)w.b.pid);
    s_cli(&w, "ledger rebuild", "", 5, says);
    s_stop_and_audit(&w);
    static char before[S_OUT], after[S_OUT];
    s_counts_the_visit_before_the_decision(&w, year);
    s_reports(&w, year, before);
    long long events = s_count(&w, "SELECT count(*) FROM ledger_events");
    /* V2's second Orientation is stored, and is no event of V2. */
    assert_int_equal(s_count(&w, "SELECT count(*) FROM messages WHERE correlation_id = 'V2'"
                                 " AND type = 2"),
                     2);
    assert_int_equal(s_count(&w, "SELECT count(*) FROM ledger_events WHERE vacancy_id = 'V2'"
                                 " AND type = 2"),
                     1);
    /* And another holder keeps a broker off it. */
    char err[1024];
    storelock_t *lock = storelock_take(w.b.store, "it_38_ledger_rebuild", err, sizeof err);
    assert_non_null(lock);
    snprintf(says, sizeof says, "is in use by it_38_ledger_rebuild pid %d", (int)getpid());
    s_broker_refuses(&w, says);
    storelock_release(&lock);

    static char signed_before[4096], signed_after[4096];
    s_signatures(&w, signed_before, sizeof signed_before);
    assert_string_equal(signed_before, "in force|1|" FBT_BAILLEUR "\n"
                                       "in force|2|" FBT_RESA " " FBT_BAILLEUR "\n"
                                       "sent|2|" FBT_BAILLEUR "\nsent|2|" FBT_RESA "\n"
                                       "sent|3|" FBT_RESA "\n");

    /* A store of version 1: amendments in force as one party sent them. */
    s_sql(&w, "UPDATE ledger_schema_version SET version = 1;"
              "ALTER TABLE ledger_conventions DROP COLUMN signed_by;"
              "DROP TABLE ledger_convention_proposals;");
    snprintf(says, sizeof says,
             "the flux ledger's tables are version 1, this fluxbus needs %d: stop the broker and "
             "run `fluxbus ledger rebuild --store %s`",
             LEDGER_SCHEMA_VERSION, w.b.store);
    s_broker_refuses(&w, says);
    s_cli(&w, "report flux", "--year 2026", 5, says);

    /* A store of the version before: no version, fewer columns, events lost. */
    s_sql(&w, "DROP TABLE ledger_schema_version;"
              "ALTER TABLE ledger_candidates DROP COLUMN lease_q1;"
              "ALTER TABLE ledger_candidates DROP COLUMN lease_anru;"
              "ALTER TABLE ledger_candidates DROP COLUMN condition_ms;"
              "ALTER TABLE ledger_candidates DROP COLUMN visited_ms;"
              "DELETE FROM ledger_events;");
    snprintf(says, sizeof says, "run `fluxbus ledger rebuild --store %s`", w.b.store);
    s_broker_refuses(&w, says);
    s_cli(&w, "report flux", "--year 2026", 5, says);

    s_rebuild_ok(&w);
    s_reports(&w, year, after);
    assert_string_equal(after, before);
    s_counts_the_visit_before_the_decision(&w, year);
    s_signatures(&w, signed_after, sizeof signed_after);
    assert_string_equal(signed_after, signed_before);
    assert_int_equal(s_count(&w, "SELECT count(*) FROM ledger_events"), events);
    assert_int_equal(s_count(&w, "SELECT max(version) FROM ledger_schema_version"),
                     LEDGER_SCHEMA_VERSION);

    /* The broker takes the rebuilt store, and the next message fits it. */
    s_restart(&w);
    s_oriented(&w, "V4", false);
    s_stop_and_audit(&w);
    fbt_teardown(&w.b);
}

static void test_a_store_without_a_ledger_is_refused_then_rebuilt(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open(&w);
    int year = s_script(&w);
    static char before[S_OUT], after[S_OUT];
    s_stop_and_audit(&w);
    s_reports(&w, year, before);
    /* Made before the ledger existed: the messages, no ledger table. */
    s_sql(&w, "DROP TABLE ledger_vacancies; DROP TABLE ledger_orientations;"
              "DROP TABLE ledger_candidates; DROP TABLE ledger_conventions;"
              "DROP TABLE ledger_seances; DROP TABLE ledger_events;"
              "DROP TABLE ledger_schema_version;");
    char says[1200];
    snprintf(says, sizeof says,
             "%s holds %lld messages and no flux ledger: run `fluxbus ledger rebuild --store %s`",
             w.b.store, s_count(&w, "SELECT count(*) FROM messages"), w.b.store);
    s_broker_refuses(&w, says);
    s_cli(&w, "report bilan", "--year 2026", 5, "no flux ledger in this store");
    s_rebuild_ok(&w);
    s_reports(&w, year, after);
    assert_string_equal(after, before);
    s_restart(&w);
    fbt_pair_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_old_ledger_is_refused_then_rebuilt_to_the_same_reports),
        cmocka_unit_test(test_a_store_without_a_ledger_is_refused_then_rebuilt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
