/* test_commune_intake.c - what the commune adapter keeps of a delivery
 * (adapters/commune/intake.c) for the communes 74010 and 74011: sessions
 * and dwellings of other communes are left out, a session's list of
 * communes is cut down to ours, unusable messages are rejected with a
 * reason and acknowledged, redeliveries change nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "commune/feed_store.h"
#include "commune/intake.h"
#include "fluxbus/codec.h"
#include "fluxbus/v1/envelope.pb-c.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x

static const char *const s_ours[] = {"74010", "74011"};
static const intake_territory_t s_territory = {s_ours, 2};

typedef struct {
    sqlite3 *db;
    feed_store_t *store;
    intake_note_t note;
} s_world_t;

static int s_setup(void **state)
{
    s_world_t *w = calloc(1, sizeof *w);
    char err[256];
    assert_int_equal(sqlite3_open(":memory:", &w->db), SQLITE_OK);
    w->store = feed_store_new(w->db, err, sizeof err);
    assert_non_null(w->store);
    *state = w;
    return 0;
}

static int s_teardown(void **state)
{
    s_world_t *w = *state;
    feed_store_destroy(&w->store);
    feed_store_destroy(&w->store);
    sqlite3_close(w->db);
    free(w);
    return 0;
}

/* Packs msg and hands it to intake as a delivery of `type`. */
static fb_err_t s_deliver(s_world_t *w, int type, const char *msg_id, const ProtobufCMessage *msg)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(fb_codec_pack(msg, &bytes, &len), FB_OK);
    fb_err_t err = intake_payload(w->store, &s_territory, type, msg_id, bytes, len, 1000, &w->note);
    free(bytes);
    return err;
}

static void s_seance(Fluxbus__V1__CaleolSeance *s, char **communes, size_t n)
{
    fluxbus__v1__caleol_seance__init(s);
    s->seance_id = "s-1";
    s->revision = 1;
    s->commission_name = "CALEOL";
    s->start_ms = 1741870800000;
    s->end_ms = 1741878000000;
    s->communes_insee = communes;
    s->n_communes_insee = n;
}

static void s_logement(Fluxbus__V1__LogementLibere *l, const char *vacancy, const char *insee)
{
    fluxbus__v1__logement_libere__init(l);
    l->vacancy_id = (char *)vacancy;
    l->commune_insee = (char *)insee;
    l->typologie = FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T2;
}

typedef struct {
    int n;
    char communes[8][8];
    size_t n_communes;
} s_seen_t;

static void s_count_seance(void *ctx, const feed_seance_t *row)
{
    s_seen_t *seen = ctx;
    seen->n++;
    seen->n_communes = row->seance->n_communes_insee;
    for (size_t i = 0; i < row->seance->n_communes_insee && i < 8; i++)
        snprintf(seen->communes[i], sizeof seen->communes[i], "%s", row->seance->communes_insee[i]);
}

static s_seen_t s_seances(s_world_t *w)
{
    s_seen_t seen = {0};
    assert_int_equal(feed_store_each_seance(w->store, s_count_seance, &seen), FB_OK);
    return seen;
}

static void s_count_logement(void *ctx, const feed_logement_t *row)
{
    (*(int *)ctx)++;
}

static int s_logements(s_world_t *w)
{
    int n = 0;
    assert_int_equal(feed_store_each_logement(w->store, s_count_logement, &n), FB_OK);
    return n;
}

static void test_intake_keeps_a_session_with_only_our_communes(void **state)
{
    s_world_t *w = *state;
    char *communes[] = {"74012", "74010", "2A004", "74011"};
    Fluxbus__V1__CaleolSeance s;
    s_seance(&s, communes, 4);
    assert_int_equal(s_deliver(w, T(CALEOL_SEANCE), "m1", &s.base), FB_OK);
    assert_int_equal(w->note.level, FB_LOG_INFO);
    assert_non_null(
        strstr(w->note.text, "seance seance_id=s-1 revision=1 sequence=0 stored (new)"));
    assert_non_null(strstr(w->note.text, "msg_id=m1"));
    s_seen_t seen = s_seances(w);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.n_communes, 2);
    assert_string_equal(seen.communes[0], "74010");
    assert_string_equal(seen.communes[1], "74011");

    /* Delivered again: already stored, nothing changes. */
    assert_int_equal(s_deliver(w, T(CALEOL_SEANCE), "m1", &s.base), FB_OK);
    assert_non_null(strstr(w->note.text, "already stored"));
}

static void test_intake_leaves_out_a_session_of_other_communes(void **state)
{
    s_world_t *w = *state;
    char *communes[] = {"74012"};
    Fluxbus__V1__CaleolSeance s;
    s_seance(&s, communes, 1);
    assert_int_equal(s_deliver(w, T(CALEOL_SEANCE), "m1", &s.base), FB_OK);
    assert_non_null(strstr(w->note.text, "left out: none of our communes"));
    assert_int_equal(s_seances(w).n, 0);
}

static void test_intake_stores_a_later_revision_that_drops_our_commune(void **state)
{
    s_world_t *w = *state;
    char *ours[] = {"74010"}, *theirs[] = {"74012"};
    Fluxbus__V1__CaleolSeance s;
    s_seance(&s, ours, 1);
    s_deliver(w, T(CALEOL_SEANCE), "m1", &s.base);
    s_seance(&s, theirs, 1);
    s.revision = 2;
    assert_int_equal(s_deliver(w, T(CALEOL_SEANCE), "m2", &s.base), FB_OK);
    assert_non_null(strstr(w->note.text, "sequence=1 stored (changed)"));
    s_seen_t seen = s_seances(w);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.n_communes, 0);
}

static void test_intake_rejects_unusable_sessions_with_a_reason(void **state)
{
    s_world_t *w = *state;
    char *communes[] = {"74010"};
    Fluxbus__V1__CaleolSeance s;
    s_seance(&s, communes, 1);
    s.seance_id = "";
    assert_int_equal(s_deliver(w, T(CALEOL_SEANCE), "m1", &s.base), FB_OK);
    assert_int_equal(w->note.level, FB_LOG_WARN);
    assert_non_null(strstr(w->note.text, "seance_id: missing"));

    s_seance(&s, communes, 1);
    s.end_ms = s.start_ms - 1;
    assert_int_equal(s_deliver(w, T(CALEOL_SEANCE), "m2", &s.base), FB_OK);
    assert_non_null(strstr(w->note.text, "end_ms: before start_ms"));

    s_seance(&s, communes, 1);
    s.start_ms = 0;
    s_deliver(w, T(CALEOL_SEANCE), "m3", &s.base);
    assert_non_null(strstr(w->note.text, "start_ms: missing"));

    s_seance(&s, communes, 1);
    s.video_url = "javascript:alert(1)";
    s_deliver(w, T(CALEOL_SEANCE), "m4", &s.base);
    assert_non_null(strstr(w->note.text, "video_url: not an http(s) URL"));

    s_seance(&s, communes, 1);
    s.commission_name = "CALEOL \xC3\x28"; /* invalid UTF-8 */
    s_deliver(w, T(CALEOL_SEANCE), "m5", &s.base);
    assert_non_null(strstr(w->note.text, "not UTF-8 text"));

    s_seance(&s, communes, 1);
    s.commission_name = "CALEOL\r\nX-INJECTED:1";
    s_deliver(w, T(CALEOL_SEANCE), "m6", &s.base);
    assert_non_null(strstr(w->note.text, "not UTF-8 text"));

    assert_int_equal(s_seances(w).n, 0);
}

static void test_intake_keeps_dwellings_and_outcomes_of_our_communes_only(void **state)
{
    s_world_t *w = *state;
    Fluxbus__V1__LogementLibere ours, theirs;
    s_logement(&ours, "vac-1", "74011");
    s_logement(&theirs, "vac-2", "74012");
    assert_int_equal(s_deliver(w, T(LOGEMENT_LIBERE), "m1", &ours.base), FB_OK);
    assert_non_null(strstr(w->note.text, "logement vacancy_id=vac-1 commune=74011 stored"));
    assert_int_equal(s_deliver(w, T(LOGEMENT_LIBERE), "m2", &theirs.base), FB_OK);
    assert_non_null(strstr(w->note.text, "left out: commune 74012 is not ours"));
    assert_int_equal(s_logements(w), 1);

    Fluxbus__V1__LogementIssue issue;
    fluxbus__v1__logement_issue__init(&issue);
    issue.vacancy_id = "vac-1";
    issue.commune_insee = "74011";
    issue.issue = FLUXBUS__V1__LOGEMENT_ISSUE_KIND__LOGEMENT_ISSUE_KIND_ATTRIBUE;
    assert_int_equal(s_deliver(w, T(LOGEMENT_ISSUE), "m3", &issue.base), FB_OK);
    assert_non_null(strstr(w->note.text, "issue vacancy_id=vac-1 outcome=attribue stored"));
    /* The same message again is not a second outcome. */
    assert_int_equal(s_deliver(w, T(LOGEMENT_ISSUE), "m3", &issue.base), FB_OK);
    assert_non_null(strstr(w->note.text, "already stored"));

    issue.commune_insee = "74012";
    assert_int_equal(s_deliver(w, T(LOGEMENT_ISSUE), "m4", &issue.base), FB_OK);
    assert_non_null(strstr(w->note.text, "left out"));
    issue.commune_insee = "74011";
    issue.issue = 0;
    assert_int_equal(s_deliver(w, T(LOGEMENT_ISSUE), "m5", &issue.base), FB_OK);
    assert_int_equal(w->note.level, FB_LOG_WARN);
    assert_non_null(strstr(w->note.text, "issue: not set"));

    s_logement(&ours, "vac-3", "7401");
    assert_int_equal(s_deliver(w, T(LOGEMENT_LIBERE), "m6", &ours.base), FB_OK);
    assert_non_null(strstr(w->note.text, "commune_insee: not an INSEE code"));
    assert_int_equal(s_logements(w), 1);
}

static void test_intake_acknowledges_other_types_and_undecodable_payloads(void **state)
{
    s_world_t *w = *state;
    static const uint8_t junk[] = {0xFF, 0xFF, 0xFF, 0xFF};
    assert_int_equal(intake_payload(w->store, &s_territory, T(BAIL_SIGNE), "m1", junk, sizeof junk,
                                    1000, &w->note),
                     FB_OK);
    assert_int_equal(w->note.level, FB_LOG_INFO);
    assert_non_null(strstr(w->note.text, "type=BailSigne left out"));
    assert_int_equal(intake_payload(w->store, &s_territory, T(CALEOL_SEANCE), "m2", junk,
                                    sizeof junk, 1000, &w->note),
                     FB_OK);
    assert_int_equal(w->note.level, FB_LOG_WARN);
    assert_non_null(strstr(w->note.text, "rejected reason=MALFORMED"));
}

static void test_intake_is_insee(void **state)
{
    (void)state;
    assert_true(intake_is_insee("74010"));
    assert_true(intake_is_insee("2A004"));
    assert_true(intake_is_insee("2B033"));
    assert_false(intake_is_insee("2C004"));
    assert_false(intake_is_insee("7401"));
    assert_false(intake_is_insee("740100"));
    assert_false(intake_is_insee("74O10"));
    assert_false(intake_is_insee(""));
    assert_false(intake_is_insee(NULL));
}

static void test_intake_store_failure_leaves_the_delivery_unacknowledged(void **state)
{
    s_world_t *w = *state;
    Fluxbus__V1__LogementLibere l;
    s_logement(&l, "vac-1", "74010");
    /* Another connection's write lock makes our writes fail at once. */
    char path[] = "/tmp/fluxbus-intake-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    sqlite3 *db = NULL, *other = NULL;
    char err[256];
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    feed_store_t *store = feed_store_new(db, err, sizeof err);
    assert_non_null(store);
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(fb_codec_pack(&l.base, &bytes, &len), FB_OK);
    assert_int_equal(
        intake_payload(store, &s_territory, T(LOGEMENT_LIBERE), "m1", bytes, len, 1000, &w->note),
        FB_ERR_STORE);
    assert_int_equal(w->note.level, FB_LOG_ERROR);
    assert_non_null(strstr(w->note.text, "not stored reason=STORE"));
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    /* Once the lock is gone the same delivery is stored. */
    assert_int_equal(
        intake_payload(store, &s_territory, T(LOGEMENT_LIBERE), "m1", bytes, len, 1000, &w->note),
        FB_OK);
    free(bytes);
    feed_store_destroy(&store);
    sqlite3_close(other);
    sqlite3_close(db);
    close(fd);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_intake_keeps_a_session_with_only_our_communes, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_intake_leaves_out_a_session_of_other_communes, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_intake_stores_a_later_revision_that_drops_our_commune,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_intake_rejects_unusable_sessions_with_a_reason,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_intake_keeps_dwellings_and_outcomes_of_our_communes_only, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_intake_acknowledges_other_types_and_undecodable_payloads, s_setup, s_teardown),
        cmocka_unit_test(test_intake_is_insee),
        cmocka_unit_test_setup_teardown(
            test_intake_store_failure_leaves_the_delivery_unacknowledged, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
