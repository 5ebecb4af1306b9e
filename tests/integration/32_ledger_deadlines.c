/* 32_ledger_deadlines - the broker's own DeadlineExpired, against the real
 * broker: an orientation whose deadline passes with neither designation nor
 * remise gives the bailleur and the réservataire exactly one DeadlineExpired
 * each, signed by the broker and verified by the client library with the
 * broker's own key, with the counting of the convention in force; the audit
 * (`fluxbus audit verify`, tests/tools/verify_audit.mjs) still verifies the
 * store. An orientation answered in time gives none; one acknowledged but
 * not answered expires. A deadline that passes while the broker is stopped
 * fires once after the restart; a kill -9 as the broker emits one still
 * leaves exactly one. An orientation without a deadline gets its
 * convention's délai (existing dwelling or first letting), stored for the
 * broker to watch; one shorter than the délai is refused. No registered
 * actor may send as the broker. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builders.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "period.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_COUNTED FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_COUNTED
#define S_NOT_COUNTED FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_NOT_COUNTED
#define WAIT_MS 15000 /* a delivery: generous for a loaded machine */
#define QUIET_MS 1500 /* "nothing more": three looks at the deadlines */
#define AHEAD_MS 1500 /* deadlines this far ahead of the orientation */
#define S_DAY_MS (24 * 3600 * 1000LL)

/* Sends `msg` of `type` from c to `to` about vacancy; asserts accepted. */
static void s_send(fb_client_t *c, int type, const char *to, const char *vacancy,
                   const ProtobufCMessage *msg)
{
    fbt_send_ok(c, type, to, vacancy, msg);
}

static void s_orient(fbt_pair_t *w, const char *vacancy, const char *convention,
                     int64_t deadline_ms)
{
    Fluxbus__V1__Orientation o =
        life_msgs_orientation(vacancy, convention, FBT_RESA, 1, 3, deadline_ms);
    o.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    s_send(w->cb, T(ORIENTATION), FBT_RESA, vacancy, &o.base);
}

/* The bailleur's convention with the réservataire, saying an expired
 * deadline is not counted. No délai: the tests' deadlines are seconds away,
 * which a délai in days would refuse. */
static void s_convention_not_counted(fbt_pair_t *w, const char *convention)
{
    Fluxbus__V1__Convention c =
        builders_convention(convention, FBT_BAILLEUR, FBT_RESA, period_year_of(fb_now_ms()));
    c.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    c.objective = 10;
    c.expired_deadline_counting = S_NOT_COUNTED;
    s_send(w->cb, T(CONVENTION), FBT_RESA, "", &c.base);
}

/* Receives (and acks) deliveries on c until one of `type`; NULL on timeout. */
static fb_delivery_t *s_next_of_type(fb_client_t *c, int type, int timeout_ms)
{
    int64_t until = fb_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = until - fb_now_ms();
        fb_delivery_t *d = left > 0 ? fbt_recv_ack(c, (int)left) : NULL;
        if (!d || (int)d->body->type == type)
            return d;
        fb_delivery_destroy(&d);
    }
}

/* Expects the broker's DeadlineExpired about vacancy on c, checks who
 * signed it and what it says, and returns its message id (hex). */
static void s_expect_expired(fbt_pair_t *w, fb_client_t *c, const char *vacancy,
                             const char *convention, int64_t deadline_ms, int counting,
                             char id_hex[2 * FB_MESSAGE_ID_BYTES + 1])
{
    fb_delivery_t *d = s_next_of_type(c, T(DEADLINE_EXPIRED), WAIT_MS);
    if (!d)
        fail_msg("no DeadlineExpired about %s within %d ms", vacancy, WAIT_MS);
    /* Sent by the broker itself, verified with its own key, after the deadline. */
    assert_true(fb_now_ms() >= deadline_ms);
    assert_string_equal(d->body->sender, w->b.keys.actor);
    assert_string_equal(d->body->key_id, w->b.keys.key_id);
    assert_memory_equal(d->sender_pk, w->b.keys.sign_pk, FB_SIGN_PK_BYTES);
    assert_true(d->body->created_at_ms >= deadline_ms);
    assert_string_equal(d->body->correlation_id, vacancy);
    assert_int_equal(d->body->n_recipients, 2);
    assert_string_equal(d->body->recipients[0], FBT_RESA);
    assert_string_equal(d->body->recipients[1], FBT_BAILLEUR);
    ProtobufCMessage *msg = NULL;
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__deadline_expired__descriptor,
                                     d->body->payload.data, d->body->payload.len, 4096, &msg),
                     FB_OK);
    const Fluxbus__V1__DeadlineExpired *e = (const Fluxbus__V1__DeadlineExpired *)msg;
    assert_string_equal(e->vacancy_id, vacancy);
    assert_string_equal(e->convention_id, convention);
    assert_int_equal(e->deadline_ms, deadline_ms);
    assert_int_equal(e->counting, counting);
    assert_true(e->taken_back_by_bailleur);
    assert_int_equal(e->candidates_received, 0);
    fb_hex_encode(d->body->message_id.data, FB_MESSAGE_ID_BYTES, id_hex);
    fb_codec_free(msg);
    fb_delivery_destroy(&d);
}

/* The bailleur and the réservataire each get the one DeadlineExpired
 * about vacancy: the same message. */
static void s_expect_both(fbt_pair_t *w, const char *vacancy, const char *convention,
                          int64_t deadline_ms, int counting)
{
    char to_resa[2 * FB_MESSAGE_ID_BYTES + 1], to_bailleur[2 * FB_MESSAGE_ID_BYTES + 1];
    s_expect_expired(w, w->cr, vacancy, convention, deadline_ms, counting, to_resa);
    s_expect_expired(w, w->cb, vacancy, convention, deadline_ms, counting, to_bailleur);
    assert_string_equal(to_resa, to_bailleur);
}

/* An integer read from the store by the sqlite3 shell (another process: it
 * sees what was committed). */
static long long s_sql(const fbt_pair_t *w, const char *sql)
{
    char out[64] = "";
    assert_int_equal(
        fbt_sh(out, sizeof out, "sqlite3 -cmd '.timeout 10000' '%s' \"%s\"", w->b.store, sql), 0);
    return atoll(out);
}

static long long s_expired_stored(const fbt_pair_t *w, const char *vacancy)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM messages WHERE type = 7 AND correlation_id = '%s'", vacancy);
    return s_sql(w, sql);
}

/* fluxbus audit verify, with and without the broker key, and the
 * independent verifier on the export, with and without it. */
static void s_audit_verifies(fbt_pair_t *w)
{
    char out[4096];
    if (fbt_sh(out, sizeof out, "'%s' audit verify --store '%s' --broker '%s.pub'", FB_CLI_BIN,
               w->b.store, w->b.key) != 0 ||
        strncmp(out, "ok: ", 4) != 0)
        fail_msg("audit verify --broker said: %s", out);
    if (fbt_sh(out, sizeof out, "'%s' audit verify --store '%s' 2>&1", FB_CLI_BIN, w->b.store) !=
            0 ||
        !strstr(out, "ok: ") || !strstr(out, "the broker sent itself not checked"))
        fail_msg("audit verify without --broker said: %s", out);
    if (fbt_sh(NULL, 0, "command -v node >/dev/null 2>&1") != 0)
        return;
    char path[600];
    snprintf(path, sizeof path, "%s/audit-%lld.jsonl", w->b.dir, (long long)fb_now_ms());
    assert_int_equal(fbt_sh(NULL, 0, "'%s' audit export --store '%s' --broker '%s.pub' --out '%s'",
                            FB_CLI_BIN, w->b.store, w->b.key, path),
                     0);
    if (fbt_sh(out, sizeof out, "node '%s/tests/tools/verify_audit.mjs' '%s' '%s.pub'",
               FB_SOURCE_DIR, path, w->b.key) != 0 ||
        strncmp(out, "verified ", 9) != 0)
        fail_msg("verify_audit.mjs with the broker key said: %s", out);
    if (fbt_sh(out, sizeof out, "node '%s/tests/tools/verify_audit.mjs' '%s' 2>&1", FB_SOURCE_DIR,
               path) != 0 ||
        !strstr(out, "verified ") || !strstr(out, "sent by the broker itself not verified"))
        fail_msg("verify_audit.mjs without the broker key said: %s", out);
}

/* Waits, without the broker, until the wall clock is past ms. */
static void s_wait_past(int64_t ms)
{
    while (fb_now_ms() <= ms)
        usleep(20000);
}

static void test_deadline_expired_reaches_both_once_signed_by_the_broker(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open(&w);
    s_convention_not_counted(&w, "conv-74-al");
    fbt_convention(w.cb, FBT_CONV, FBT_RESA, w.cr);
    int64_t now = fb_now_ms();
    /* Under a convention that says "not counted", and under one that says
     * nothing (counted). */
    s_orient(&w, "vac-2026-0501", "conv-74-al", now + AHEAD_MS);
    s_orient(&w, "vac-2026-0502", FBT_CONV, now + AHEAD_MS + 200);
    s_expect_both(&w, "vac-2026-0501", "conv-74-al", now + AHEAD_MS, S_NOT_COUNTED);
    s_expect_both(&w, "vac-2026-0502", FBT_CONV, now + AHEAD_MS + 200, S_COUNTED);
    fbt_expect_nothing(w.cr, QUIET_MS);
    fbt_expect_nothing(w.cb, 100);
    assert_int_equal(s_expired_stored(&w, "vac-2026-0501"), 1);
    assert_int_equal(s_expired_stored(&w, "vac-2026-0502"), 1);
    /* The ledger closed both orientations. */
    assert_int_equal(s_sql(&w, "SELECT count(*) FROM ledger_orientations WHERE status = 'expire'"
                               " AND expired_ms >= deadline_ms"),
                     2);
    assert_true(fbt_log_contains(&w.b, "broker deadline-expired"));
    s_audit_verifies(&w);
    fbt_pair_close(&w);
}

static void test_designation_in_time_gives_no_expiry_an_ack_alone_does(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open(&w);
    fbt_convention(w.cb, "conv-74-al", FBT_RESA, w.cr); /* expiries counted */
    int64_t deadline = fb_now_ms() + AHEAD_MS;
    s_orient(&w, "vac-2026-0601", "conv-74-al", deadline);
    s_orient(&w, "vac-2026-0602", "conv-74-al", deadline);
    /* vac-0601 answered by a Designation, vac-0602 only acknowledged. */
    Fluxbus__V1__Designation d =
        builders_designation("vac-2026-0601", "conv-74-al", "074011926000042", 1, 1);
    /* One candidate where three are expected: the ledger wants a reason. */
    d.fewer_candidates_reason =
        FLUXBUS__V1__FEWER_CANDIDATES_REASON__FEWER_CANDIDATES_REASON_INSUFFISANCE_DEMANDES;
    s_send(w.cr, T(DESIGNATION), FBT_BAILLEUR, "vac-2026-0601", &d.base);
    Fluxbus__V1__OrientationAck a = builders_ack("vac-2026-0602", "conv-74-al");
    s_send(w.cr, T(ORIENTATION_ACK), FBT_BAILLEUR, "vac-2026-0602", &a.base);
    assert_true(fb_now_ms() < deadline); /* answered in time */

    s_expect_both(&w, "vac-2026-0602", "conv-74-al", deadline, S_COUNTED);
    s_wait_past(deadline);
    fbt_expect_nothing(w.cr, QUIET_MS);
    fbt_expect_nothing(w.cb, 100);
    assert_int_equal(s_expired_stored(&w, "vac-2026-0601"), 0);
    assert_int_equal(s_expired_stored(&w, "vac-2026-0602"), 1);
    assert_int_equal(s_sql(&w, "SELECT count(*) FROM ledger_orientations WHERE"
                               " vacancy_id = 'vac-2026-0601' AND status = 'designe'"
                               " AND expired_ms = 0"),
                     1);
    fbt_pair_close(&w);
}

static void test_deadline_passed_while_the_broker_was_down_fires_once(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open(&w);
    fbt_convention(w.cb, "conv-74-al", FBT_RESA, w.cr); /* expiries counted */
    int64_t deadline = fb_now_ms() + AHEAD_MS;
    s_orient(&w, "vac-2026-0701", "conv-74-al", deadline);
    fb_client_destroy(&w.cb);
    fb_client_destroy(&w.cr);
    assert_int_equal(fbt_stop(&w.b, SIGTERM), 0);
    assert_int_equal(s_expired_stored(&w, "vac-2026-0701"), 0);
    s_wait_past(deadline + 500);

    fbt_start(&w.b);
    w.cb = fbt_client(&w.b, &w.bailleur);
    w.cr = fbt_client(&w.b, &w.resa);
    s_expect_both(&w, "vac-2026-0701", "conv-74-al", deadline, S_COUNTED);
    fbt_expect_nothing(w.cr, QUIET_MS);
    fbt_expect_nothing(w.cb, 100);
    assert_int_equal(s_expired_stored(&w, "vac-2026-0701"), 1);

    /* Another restart: told already. */
    fbt_pair_restart(&w);
    fbt_expect_nothing(w.cr, QUIET_MS);
    fbt_expect_nothing(w.cb, 100);
    assert_int_equal(s_expired_stored(&w, "vac-2026-0701"), 1);
    s_audit_verifies(&w);
    fbt_pair_close(&w);
}

static void test_kill9_as_the_broker_emits_still_gives_one(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open(&w);
    fbt_convention(w.cb, "conv-74-al", FBT_RESA, w.cr); /* expiries counted */
    int64_t deadline = fb_now_ms() + AHEAD_MS;
    s_orient(&w, "vac-2026-0801", "conv-74-al", deadline);
    /* Nobody receives: the broker only stores and queues. As soon as it logs
     * the emission (written in its transaction, a moment before COMMIT),
     * kill -9: whether the COMMIT happened or not, one DeadlineExpired. */
    fb_client_destroy(&w.cb);
    fb_client_destroy(&w.cr);
    int64_t until = deadline + WAIT_MS;
    while (!fbt_log_contains(&w.b, "broker deadline-expired") && fb_now_ms() < until)
        usleep(1000);
    assert_true(fbt_log_contains(&w.b, "broker deadline-expired"));
    assert_int_equal(fbt_stop(&w.b, SIGKILL), 128 + SIGKILL);

    fbt_start(&w.b);
    w.cb = fbt_client(&w.b, &w.bailleur);
    w.cr = fbt_client(&w.b, &w.resa);
    s_expect_both(&w, "vac-2026-0801", "conv-74-al", deadline, S_COUNTED);
    fbt_expect_nothing(w.cr, QUIET_MS);
    fbt_expect_nothing(w.cb, 100);
    assert_int_equal(s_expired_stored(&w, "vac-2026-0801"), 1);
    assert_int_equal(s_sql(&w, "SELECT count(*) FROM ledger_orientations WHERE"
                               " vacancy_id = 'vac-2026-0801' AND expired_ms > 0"),
                     1);
    s_audit_verifies(&w);
    fbt_pair_close(&w);
}

/* A dwelling freed by the bailleur, en flux or (first letting) en stock. */
static void s_libere(fbt_pair_t *w, const char *vacancy, int mode)
{
    Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    l.vacancy_id = (char *)vacancy;
    l.commune_insee = "74010";
    l.mode_gestion = mode;
    s_send(w->cb, T(LOGEMENT_LIBERE), FBT_RESA, vacancy, &l.base);
}

/* The deadline the ledger stored for vacancy, less its acceptance. */
static long long s_delai_ms(const fbt_pair_t *w, const char *vacancy)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT deadline_ms - oriented_ms FROM ledger_orientations WHERE vacancy_id = '%s'",
             vacancy);
    return s_sql(w, sql);
}

/* The convention's délais: an Orientation without a deadline gets its
 * acceptance plus the délai for its kind of dwelling (15 days for an
 * existing one, 30 for a first letting), stored as the deadline the broker
 * watches; sent again unchanged it is a repeat. One whose deadline falls
 * before the délai ends is refused; a longer one is kept as it is. */
static void test_convention_delais_give_the_deadline_and_refuse_a_shorter_one(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open(&w);
    const char *conv = "conv-74-al-delais";
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = (char *)conv;
    c.revision = 1;
    c.bailleur_actor_id = FBT_BAILLEUR;
    c.reservataire_actor_id = FBT_RESA;
    c.year = (uint32_t)period_year_of(fb_now_ms());
    c.deadline_days = 15;
    c.deadline_days_first_letting = 30;
    s_send(w.cb, T(CONVENTION), FBT_RESA, "", &c.base);
    s_libere(&w, "vac-2026-1001", FLUXBUS__V1__MODE_GESTION__MODE_GESTION_FLUX);
    s_libere(&w, "vac-2026-1002", FLUXBUS__V1__MODE_GESTION__MODE_GESTION_STOCK);
    s_libere(&w, "vac-2026-1003", FLUXBUS__V1__MODE_GESTION__MODE_GESTION_FLUX);

    s_orient(&w, "vac-2026-1001", conv, 0);
    s_orient(&w, "vac-2026-1002", conv, 0);
    assert_int_equal(s_delai_ms(&w, "vac-2026-1001"), 15 * S_DAY_MS);
    assert_int_equal(s_delai_ms(&w, "vac-2026-1002"), 30 * S_DAY_MS);
    /* The same Orientation again, later: a repeat, its deadline kept. */
    long long first = s_sql(&w, "SELECT deadline_ms FROM ledger_orientations"
                                " WHERE vacancy_id = 'vac-2026-1001'");
    s_orient(&w, "vac-2026-1001", conv, 0);
    assert_int_equal(s_sql(&w, "SELECT deadline_ms FROM ledger_orientations"
                               " WHERE vacancy_id = 'vac-2026-1001'"),
                     first);

    /* Ten days where the convention grants fifteen: refused, nothing stored. */
    Fluxbus__V1__Orientation o =
        life_msgs_orientation("vac-2026-1003", conv, FBT_RESA, 1, 3, fb_now_ms() + 10 * S_DAY_MS);
    char day[11], want[512];
    period_format_date(period_date_of(o.deadline_ms), day);
    snprintf(want, sizeof want,
             "Orientation of vac-2026-1003 to " FBT_RESA " with a deadline on %s, shorter than"
             " the 15 days convention %s (revision 1) grants for an existing dwelling (until ...",
             day, conv);
    fb_receipt_t rec;
    fb_err_t rc = fbt_send_msg(w.cb, T(ORIENTATION), FBT_RESA, o.vacancy_id, &o.base, &rec);
    fbt_expect_nack(rc, &rec, FB_ERR_INVALID_TRANSITION, want);
    fb_receipt_clear(&rec);
    assert_int_equal(s_sql(&w, "SELECT count(*) FROM ledger_orientations"
                               " WHERE vacancy_id = 'vac-2026-1003'"),
                     0);
    /* Twenty days: more time than the délai is the bailleur's to give. */
    int64_t longer = fb_now_ms() + 20 * S_DAY_MS;
    s_orient(&w, "vac-2026-1003", conv, longer);
    assert_int_equal(s_sql(&w, "SELECT deadline_ms FROM ledger_orientations"
                               " WHERE vacancy_id = 'vac-2026-1003'"),
                     longer);
    fbt_pair_close(&w);
}

static void test_no_actor_may_send_as_the_broker(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open(&w);
    /* An actor registered under the broker's own id (the registry tool
     * would not take it; the store might) is still refused. */
    fb_keys_t impostor;
    fbt_actor(&w.b, w.b.keys.actor, "bailleur", NULL, &impostor);
    fb_client_t *ci = fbt_client(&w.b, &impostor);
    Fluxbus__V1__DeadlineExpired e = FLUXBUS__V1__DEADLINE_EXPIRED__INIT;
    e.vacancy_id = "vac-2026-0901";
    e.taken_back_by_bailleur = true;
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(fb_codec_pack(&e.base, &bytes, &len), FB_OK);
    fb_receipt_t rec;
    assert_int_equal(fbt_send(ci, T(DEADLINE_EXPIRED), FBT_RESA, NULL, bytes, len, &rec),
                     FB_ERR_NOT_AUTHORIZED);
    assert_non_null(strstr(rec.detail, "only the broker"));
    fb_receipt_clear(&rec);
    free(bytes);
    fbt_expect_nothing(w.cr, 300);
    fb_client_destroy(&ci);
    fbt_pair_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline_expired_reaches_both_once_signed_by_the_broker),
        cmocka_unit_test(test_designation_in_time_gives_no_expiry_an_ack_alone_does),
        cmocka_unit_test(test_deadline_passed_while_the_broker_was_down_fires_once),
        cmocka_unit_test(test_kill9_as_the_broker_emits_still_gives_one),
        cmocka_unit_test(test_convention_delais_give_the_deadline_and_refuse_a_shorter_one),
        cmocka_unit_test(test_no_actor_may_send_as_the_broker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
