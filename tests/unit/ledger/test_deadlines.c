/* test_deadlines - the ledger's due orientations (ledger/deadlines.h), on
 * tables filled the way the broker fills them (ledger_record of accepted
 * messages): only those still oriente or acquitte, with a deadline set and
 * passed (stated, or derived from the convention's délai), not marked,
 * oldest first, with the counting of the convention in force at the
 * deadline; a mark closes one for good. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "deadlines.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "ledger.h"
#include "life_msgs.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_COUNTED FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_COUNTED
#define S_NOT_COUNTED FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_NOT_COUNTED
#define S_BAILLEUR "bailleur:552046955"
#define S_RESA "reservataire:action-logement"
#define S_MAX_DUE 16

typedef struct {
    sqlite3 *db;
    ledger_t *ledger;
    deadlines_t *deadlines;
    uint64_t seq;
} s_fixture_t;

/* Records one accepted message from sender at at_ms. */
static void s_record(s_fixture_t *f, const char *sender, const char *to, int type,
                     const char *vacancy, int64_t at_ms, const ProtobufCMessage *payload)
{
    const char *const recipients[1] = {to};
    ledger_msg_t m = {.seq = ++f->seq,
                      .sender = sender,
                      .type = type,
                      .correlation_id = vacancy,
                      .recipients = recipients,
                      .n_recipients = 1,
                      .at_ms = at_ms,
                      .payload = payload};
    assert_int_equal(ledger_record(f->ledger, &m), FB_OK);
}

static void s_orient(s_fixture_t *f, const char *vacancy, const char *convention,
                     int64_t deadline_ms)
{
    Fluxbus__V1__Orientation o =
        life_msgs_orientation(vacancy, convention, S_RESA, 1, 3, deadline_ms);
    s_record(f, S_BAILLEUR, S_RESA, T(ORIENTATION), vacancy, 10, &o.base);
}

/* A revision of convention `id` for 2026, in force from `from_month`/1
 * (0: from 1 January, the default), accepted at accepted_ms; an amendment
 * (revision 2 or more) is countersigned by the réservataire then. */
static void s_convention(s_fixture_t *f, const char *id, uint32_t revision, int counting,
                         int from_month, int64_t accepted_ms)
{
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    Fluxbus__V1__Date from = FLUXBUS__V1__DATE__INIT;
    c.convention_id = (char *)id;
    c.revision = revision;
    c.bailleur_actor_id = S_BAILLEUR;
    c.reservataire_actor_id = S_RESA;
    c.year = 2026;
    c.expired_deadline_counting = (Fluxbus__V1__DeadlineCounting)counting;
    if (from_month) {
        from.year = 2026;
        from.month = from_month;
        from.day = 1;
        c.effective_from = &from;
    }
    s_record(f, S_BAILLEUR, S_RESA, T(CONVENTION), "", accepted_ms, &c.base);
    if (revision >= 2)
        s_record(f, S_RESA, S_BAILLEUR, T(CONVENTION), "", accepted_ms, &c.base);
}

static int s_setup(void **state)
{
    static s_fixture_t f;
    memset(&f, 0, sizeof f);
    char err[256] = "";
    assert_int_equal(sqlite3_open(":memory:", &f.db), SQLITE_OK);
    f.ledger = ledger_open(f.db, err, sizeof err);
    assert_non_null(f.ledger);
    f.deadlines = deadlines_open(f.db, err, sizeof err);
    if (!f.deadlines)
        fail_msg("deadlines_open: %s", err);
    *state = &f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    deadlines_close(&f->deadlines);
    deadlines_close(&f->deadlines); /* safe twice */
    ledger_close(&f->ledger);
    sqlite3_close(f->db);
    return 0;
}

/* What a walk saw. */
typedef struct {
    deadlines_due_t due[S_MAX_DUE];
    size_t n;
    fb_err_t stop_with; /* returned by the callback after the first row */
} s_seen_t;

static fb_err_t s_collect(void *ctx, const deadlines_due_t *due)
{
    s_seen_t *seen = ctx;
    if (seen->n < S_MAX_DUE)
        seen->due[seen->n++] = *due;
    return seen->stop_with;
}

static size_t s_due(s_fixture_t *f, int64_t now_ms, size_t limit, s_seen_t *seen)
{
    memset(seen, 0, sizeof *seen);
    assert_int_equal(deadlines_due(f->deadlines, now_ms, limit, s_collect, seen), FB_OK);
    return seen->n;
}

/* The example: two orientations passed unanswered, oldest first, with
 * their convention's counting; marking one leaves the other. */
static void test_deadlines_due_lists_passed_open_orientations_then_mark_closes(void **state)
{
    s_fixture_t *f = *state;
    s_convention(f, "conv-a", 1, S_NOT_COUNTED, 0, 5);
    s_orient(f, "vac-2", "conv-a", 2000);
    s_orient(f, "vac-1", "conv-unknown", 1000);
    s_orient(f, "vac-3", "conv-a", 9000); /* not yet */
    s_seen_t seen;
    assert_int_equal(s_due(f, 2500, 10, &seen), 2);
    assert_string_equal(seen.due[0].vacancy_id, "vac-1");
    assert_string_equal(seen.due[0].reservataire, S_RESA);
    assert_string_equal(seen.due[0].bailleur, S_BAILLEUR);
    assert_string_equal(seen.due[0].convention_id, "conv-unknown");
    assert_int_equal(seen.due[0].deadline_ms, 1000);
    assert_int_equal(seen.due[0].round, 1);
    assert_int_equal(seen.due[0].candidates, 0);
    assert_int_equal(seen.due[0].counting, S_COUNTED);
    assert_string_equal(seen.due[1].vacancy_id, "vac-2");
    assert_int_equal(seen.due[1].counting, S_NOT_COUNTED);

    deadlines_due_t first = seen.due[0];
    assert_int_equal(deadlines_mark(f->deadlines, &first, 2600), FB_OK);
    assert_int_equal(deadlines_mark(f->deadlines, &first, 2700), FB_OK); /* harmless again */
    assert_int_equal(s_due(f, 2500, 10, &seen), 1);
    assert_string_equal(seen.due[0].vacancy_id, "vac-2");
    /* The mark kept its first time. */
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(f->db,
                                        "SELECT status, expired_ms FROM ledger_orientations"
                                        " WHERE vacancy_id = 'vac-1'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "expire");
    assert_int_equal(sqlite3_column_int64(st, 1), 2600);
    sqlite3_finalize(st);
}

static void test_deadlines_due_skips_answered_unset_and_future_deadlines(void **state)
{
    s_fixture_t *f = *state;
    s_orient(f, "vac-designe", "c", 1000);
    s_orient(f, "vac-remis", "c", 1000);
    s_orient(f, "vac-decline", "c", 1000);
    s_orient(f, "vac-acquitte", "c", 1000);
    s_orient(f, "vac-no-deadline", "c", 0);
    s_orient(f, "vac-later", "c", 5000);
    Fluxbus__V1__Designation d = FLUXBUS__V1__DESIGNATION__INIT;
    d.vacancy_id = "vac-designe";
    d.nur = "074011926000042";
    s_record(f, S_RESA, S_BAILLEUR, T(DESIGNATION), "vac-designe", 20, &d.base);
    Fluxbus__V1__RemiseADisposition r = FLUXBUS__V1__REMISE_ADISPOSITION__INIT;
    r.vacancy_id = "vac-remis";
    s_record(f, S_RESA, S_BAILLEUR, T(REMISE_A_DISPOSITION), "vac-remis", 20, &r.base);
    Fluxbus__V1__OrientationDecline x = FLUXBUS__V1__ORIENTATION_DECLINE__INIT;
    x.vacancy_id = "vac-decline";
    s_record(f, S_RESA, S_BAILLEUR, T(ORIENTATION_DECLINE), "vac-decline", 20, &x.base);
    Fluxbus__V1__OrientationAck a = FLUXBUS__V1__ORIENTATION_ACK__INIT;
    a.vacancy_id = "vac-acquitte";
    s_record(f, S_RESA, S_BAILLEUR, T(ORIENTATION_ACK), "vac-acquitte", 20, &a.base);
    s_seen_t seen;
    assert_int_equal(s_due(f, 4000, 10, &seen), 1);
    assert_string_equal(seen.due[0].vacancy_id, "vac-acquitte");
    /* Exactly at the deadline it is due. */
    assert_int_equal(s_due(f, 5000, 10, &seen), 2);
    assert_string_equal(seen.due[1].vacancy_id, "vac-later");
}

static void test_deadlines_due_takes_the_convention_revision_in_force(void **state)
{
    s_fixture_t *f = *state;
    /* The revision in force at the deadline goes by its effective date
     * (as the décompte reads it), whenever it was sent. */
    const int64_t march = 1772323200000, august = 1785542400000, december = 1798675200000;
    /* conv-r: NOT_COUNTED, then an amendment COUNTED from 1 July. */
    s_convention(f, "conv-r", 1, S_NOT_COUNTED, 0, 5);
    s_convention(f, "conv-r", 2, S_COUNTED, 7, 6);
    /* conv-late: sent after the deadline, in force since 1 January. */
    s_convention(f, "conv-late", 1, S_NOT_COUNTED, 0, december);
    /* conv-silent: says nothing about expired deadlines. */
    s_convention(f, "conv-silent", 1, 0, 0, 5);
    s_orient(f, "vac-r", "conv-r", march);
    s_orient(f, "vac-late", "conv-late", march + 1);
    s_orient(f, "vac-silent", "conv-silent", march + 2);
    s_orient(f, "vac-r2", "conv-r", august);
    s_seen_t seen;
    assert_int_equal(s_due(f, december, 10, &seen), 4);
    assert_int_equal(seen.due[0].counting, S_NOT_COUNTED); /* revision 1 in force in March */
    assert_int_equal(seen.due[1].counting, S_NOT_COUNTED); /* in force from 1 January */
    assert_int_equal(seen.due[2].counting, S_COUNTED);     /* unspecified: counted */
    assert_int_equal(seen.due[3].counting, S_COUNTED);     /* revision 2 in force in August */
}

static void test_deadlines_due_stops_at_the_limit_and_on_the_callback_error(void **state)
{
    s_fixture_t *f = *state;
    s_orient(f, "vac-1", "c", 1000);
    s_orient(f, "vac-2", "c", 1001);
    s_orient(f, "vac-3", "c", 1002);
    s_seen_t seen;
    assert_int_equal(s_due(f, 4000, 2, &seen), 2);
    assert_string_equal(seen.due[1].vacancy_id, "vac-2");
    assert_int_equal(s_due(f, 4000, 0, &seen), 0);
    memset(&seen, 0, sizeof seen);
    seen.stop_with = FB_ERR_EXISTS;
    assert_int_equal(deadlines_due(f->deadlines, 4000, 10, s_collect, &seen), FB_ERR_EXISTS);
    assert_int_equal(seen.n, 1);
}

/* An orientation without a deadline, under a convention with a délai, has
 * the deadline the ledger derived (its acceptance plus the délai): due
 * then, like one it stated. */
static void test_deadlines_due_lists_a_deadline_derived_from_the_delai(void **state)
{
    s_fixture_t *f = *state;
    const int64_t day = 24 * 3600 * 1000LL;
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = "conv-d";
    c.revision = 1;
    c.bailleur_actor_id = S_BAILLEUR;
    c.reservataire_actor_id = S_RESA;
    c.year = 2026;
    c.deadline_days = 15;
    s_record(f, S_BAILLEUR, S_RESA, T(CONVENTION), "", 5, &c.base);
    s_orient(f, "vac-d", "conv-d", 0); /* accepted at 10 */
    s_seen_t seen;
    assert_int_equal(s_due(f, 10 + 15 * day - 1, 10, &seen), 0);
    assert_int_equal(s_due(f, 10 + 15 * day, 10, &seen), 1);
    assert_string_equal(seen.due[0].vacancy_id, "vac-d");
    assert_int_equal(seen.due[0].deadline_ms, 10 + 15 * day);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_deadlines_due_lists_passed_open_orientations_then_mark_closes, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(
            test_deadlines_due_skips_answered_unset_and_future_deadlines, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_deadlines_due_takes_the_convention_revision_in_force,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_deadlines_due_stops_at_the_limit_and_on_the_callback_error, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_deadlines_due_lists_a_deadline_derived_from_the_delai,
                                        s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
