/* test_retention.c - the retention purge (broker/retention.c) on a real
 * store holding real sealed envelopes: what the closing BailSigne and the
 * retention period select, what is skipped (pending deliveries, undecodable
 * envelopes, messages without attachments), dry runs, batches, and the log
 * lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "registry.h"
#include "tmpdir.h"

#include "fluxbus/envelope.h"
#include "retention.h"
#include "store.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_RESA "reservataire:action-logement"
#define S_BAILLEUR "bailleur:552046955"
#define S_CLOSED_AT 1767225600000LL /* the lease, 2026-01-01 */
#define S_YEAR_LATER (S_CLOSED_AT + 365 * RETENTION_DAY_MS)

typedef struct {
    char dir[64];
    char path[128];
    store_t *store;
    fb_keys_t keys;     /* the réservataire's: designations */
    fb_keys_t bailleur; /* the bailleur's: the closing BailSigne */
    uint8_t n;          /* messages made so far: message ids */
    char log[65536];
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx || tmpdir_make(fx->dir, sizeof fx->dir, "retention") != 0)
        return -1;
    snprintf(fx->path, sizeof fx->path, "%s/store.db", fx->dir);
    fx->store = store_open(fx->path, NULL, 0);
    if (!fx->store || fb_keys_generate(&fx->keys, S_RESA) != FB_OK ||
        fb_keys_generate(&fx->bailleur, S_BAILLEUR) != FB_OK)
        return -1;
    /* Both registered: a delivery to a revoked actor does not hold a purge back. */
    registry_add_actor(fx->store, &fx->keys, "reservataire");
    registry_add_actor(fx->store, &fx->bailleur, "bailleur");
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *fx = *state;
    store_destroy(&fx->store);
    tmpdir_remove(fx->dir);
    fb_keys_wipe(&fx->keys);
    fb_keys_wipe(&fx->bailleur);
    free(fx);
    return 0;
}

/* Collects log lines, one per line, into fx->log. */
static void s_log(void *ctx, fb_log_level_t level, const char *line)
{
    s_fixture_t *fx = ctx;
    size_t used = strlen(fx->log);
    snprintf(fx->log + used, sizeof fx->log - used, "%s %s\n", fb_log_level_name(level), line);
}

/* Stores a sealed message of `type` about `vacancy` accepted at `at_ms`,
 * with one attachment if `attached`, and acked if `acked`: a BailSigne from
 * the bailleur to the réservataire, anything else the other way. Returns
 * its seq. */
static uint64_t s_store(s_fixture_t *fx, int type, const char *vacancy, int64_t at_ms, int attached,
                        int acked)
{
    const fb_keys_t *from = type == T(BAIL_SIGNE) ? &fx->bailleur : &fx->keys;
    const char *to = type == T(BAIL_SIGNE) ? S_RESA : S_BAILLEUR;
    uint8_t id[FB_MESSAGE_ID_BYTES];
    memset(id, ++fx->n, sizeof id);
    Fluxbus__V1__SignedBody body = FLUXBUS__V1__SIGNED_BODY__INIT;
    body.version = FB_PROTOCOL_VERSION;
    body.message_id.data = id;
    body.message_id.len = sizeof id;
    body.sender = (char *)from->actor;
    body.key_id = (char *)from->key_id;
    body.type = (Fluxbus__V1__MessageType)type;
    body.correlation_id = (char *)vacancy;
    uint8_t household[] = "SEALED-HOUSEHOLD";
    ProtobufCBinaryData att = {sizeof household, household};
    uint8_t *env = NULL, sha[32];
    size_t len = 0;
    assert_int_equal(fb_envelope_seal_attached(&body, attached ? &att : NULL, attached ? 1 : 0,
                                               from, &env, &len),
                     FB_OK);
    fb_sha256(env, len, sha);
    store_message_t m = {
        .sender = from->actor,
        .message_id = id,
        .type = type,
        .correlation_id = vacancy,
        .key_id = from->key_id,
        .envelope = env,
        .envelope_len = len,
        .envelope_sha256 = sha,
        .accepted_at_ms = at_ms,
    };
    uint64_t seq = 0;
    assert_int_equal(store_put(fx->store, &m, &seq), FB_OK);
    assert_int_equal(store_enqueue(fx->store, seq, to), FB_OK);
    if (acked)
        assert_int_equal(store_mark_acked(fx->store, to, seq, at_ms + 1), FB_OK);
    free(env);
    return seq;
}

/* The stored envelope of seq, decoded. */
typedef struct {
    uint64_t seq;
    Fluxbus__V1__Envelope *env;
    int64_t purged_at_ms;
} s_stored_t;

static bool s_on_record(void *ctx, const store_record_t *r)
{
    s_stored_t *s = ctx;
    if (r->seq != s->seq)
        return true;
    assert_int_equal(fb_envelope_decode(r->envelope, r->envelope_len, r->envelope_len, &s->env),
                     FB_OK);
    s->purged_at_ms = r->purged_at_ms;
    return false;
}

static s_stored_t s_stored(s_fixture_t *fx, uint64_t seq)
{
    s_stored_t s = {.seq = seq};
    assert_int_equal(store_export(fx->store, s_on_record, &s), FB_OK);
    assert_non_null(s.env);
    return s;
}

static retention_stats_t s_purge(s_fixture_t *fx, int64_t now_ms, bool dry_run)
{
    retention_config_t cfg = {
        .now_ms = now_ms,
        .days = RETENTION_DEFAULT_DAYS,
        .dry_run = dry_run,
        .by = "test",
        .log = s_log,
        .log_ctx = fx,
    };
    retention_stats_t st;
    fx->log[0] = '\0';
    assert_int_equal(retention_purge(fx->store, &cfg, &st), FB_OK);
    return st;
}

/* The example of use: a designation of a vacancy whose lease was signed
 * more than a year ago loses its attachment and keeps its signed body. */
static void test_retention_purges_the_attachments_of_a_closed_vacancy(void **state)
{
    s_fixture_t *fx = *state;
    uint64_t d = s_store(fx, T(DESIGNATION), "vac-a", S_CLOSED_AT - 5000, 1, 1);
    s_store(fx, T(BAIL_SIGNE), "vac-a", S_CLOSED_AT, 0, 1);
    s_stored_t before = s_stored(fx, d);

    retention_stats_t st = s_purge(fx, S_YEAR_LATER + 1, false);
    assert_int_equal(st.purged, 1);
    assert_int_equal(st.unacked + st.malformed, 0);
    assert_int_equal(st.cutoff_ms, S_CLOSED_AT + 1);
    assert_true(st.on_disk);
    assert_non_null(strstr(fx->log, "info retention purge seq=1 vacancy=\"vac-a\" type=Designation "
                                    "at=1798761600001 closed_at_ms=1767225600000 attachments=1"));

    s_stored_t after = s_stored(fx, d);
    assert_int_equal(after.env->n_attachments, 0);
    assert_int_equal(after.env->body.len, before.env->body.len);
    assert_memory_equal(after.env->body.data, before.env->body.data, before.env->body.len);
    assert_memory_equal(after.env->signature.data, before.env->signature.data, 64);
    assert_int_equal(fb_envelope_verify(after.env, fx->keys.sign_pk), FB_OK);
    assert_int_equal(after.purged_at_ms, S_YEAR_LATER + 1);
    fb_envelope_free(before.env);
    fb_envelope_free(after.env);
}

/* Exactly a year is not more than a year; a dry run changes nothing. */
static void test_retention_waits_more_than_the_period_and_dry_runs_change_nothing(void **state)
{
    s_fixture_t *fx = *state;
    uint64_t d = s_store(fx, T(DESIGNATION), "vac-a", S_CLOSED_AT - 5000, 1, 1);
    s_store(fx, T(BAIL_SIGNE), "vac-a", S_CLOSED_AT, 0, 1);
    retention_stats_t st = s_purge(fx, S_YEAR_LATER, false);
    assert_int_equal(st.purged, 0);
    assert_string_equal(fx->log, "");

    st = s_purge(fx, S_YEAR_LATER + 1, true);
    assert_int_equal(st.purged, 1);
    assert_non_null(strstr(fx->log, "info retention would-purge seq=1 "));
    s_stored_t s = s_stored(fx, d);
    assert_int_equal(s.env->n_attachments, 1);
    assert_int_equal(s.purged_at_ms, 0);
    fb_envelope_free(s.env);
}

/* Open vacancies, messages after the lease, messages without attachments
 * and AttributionNonSuivieDeBail are not purged. */
static void test_retention_leaves_open_vacancies_and_plain_messages(void **state)
{
    s_fixture_t *fx = *state;
    s_store(fx, T(DESIGNATION), "vac-open", S_CLOSED_AT - 5000, 1, 1);
    s_store(fx, T(ATTRIBUTION_NON_SUIVIE_DE_BAIL), "vac-open", S_CLOSED_AT - 4000, 0, 1);
    s_store(fx, T(VISITE), "vac-a", S_CLOSED_AT - 3000, 0, 1);
    s_store(fx, T(BAIL_SIGNE), "vac-a", S_CLOSED_AT, 0, 1);
    uint64_t late = s_store(fx, T(DESIGNATION), "vac-a", S_CLOSED_AT + 1000, 1, 1);
    retention_stats_t st = s_purge(fx, S_YEAR_LATER + 2000, false);
    assert_int_equal(st.purged, 0);
    assert_string_equal(fx->log, "");
    /* A later lease closes the designation stored after the first one. */
    s_store(fx, T(BAIL_SIGNE), "vac-a", S_CLOSED_AT + 2000, 0, 1);
    st = s_purge(fx, S_YEAR_LATER + 2001, false);
    assert_int_equal(st.purged, 1);
    char want[64];
    snprintf(want, sizeof want, "retention purge seq=%llu ", (unsigned long long)late);
    assert_non_null(strstr(fx->log, want));
}

/* A pending delivery or an undecodable envelope is skipped and logged; the
 * pending one goes once acknowledged. */
static void test_retention_skips_pending_and_undecodable_messages(void **state)
{
    s_fixture_t *fx = *state;
    uint64_t pending = s_store(fx, T(DESIGNATION), "vac-\"a\"\n", S_CLOSED_AT - 5000, 1, 0);
    s_store(fx, T(BAIL_SIGNE), "vac-\"a\"\n", S_CLOSED_AT, 0, 1);
    static const uint8_t garbage[] = {0x0a, 0x7f, 0x01};
    uint8_t id[FB_MESSAGE_ID_BYTES], sha[32] = {0};
    memset(id, 0xEE, sizeof id);
    store_message_t m = {.sender = S_RESA,
                         .message_id = id,
                         .type = T(DESIGNATION),
                         .correlation_id = "vac-\"a\"\n",
                         .key_id = fx->keys.key_id,
                         .envelope = garbage,
                         .envelope_len = sizeof garbage,
                         .envelope_sha256 = sha,
                         .accepted_at_ms = S_CLOSED_AT - 10};
    uint64_t bad = 0;
    assert_int_equal(store_put(fx->store, &m, &bad), FB_OK);
    assert_int_equal(store_enqueue(fx->store, bad, S_BAILLEUR), FB_OK);
    assert_int_equal(store_mark_acked(fx->store, S_BAILLEUR, bad, S_CLOSED_AT), FB_OK);
    s_store(fx, T(BAIL_SIGNE), "vac-\"a\"\n", S_CLOSED_AT + 1, 0, 1);

    retention_stats_t st = s_purge(fx, S_YEAR_LATER + 10, false);
    assert_int_equal(st.purged, 0);
    assert_int_equal(st.unacked, 1);
    assert_int_equal(st.malformed, 1);
    /* The vacancy id comes from a sender: quoted and escaped in the log. */
    assert_non_null(strstr(fx->log, "warn retention skip seq=1 vacancy=\"vac-\\\"a\\\"\\x0a\" "
                                    "type=Designation reason=unacked pending=1\n"));
    char want[64];
    snprintf(want, sizeof want, "error retention skip seq=%llu ", (unsigned long long)bad);
    assert_non_null(strstr(fx->log, want));

    assert_int_equal(store_mark_acked(fx->store, S_BAILLEUR, pending, S_CLOSED_AT), FB_OK);
    st = s_purge(fx, S_YEAR_LATER + 10, false);
    assert_int_equal(st.purged, 1);
    assert_int_equal(st.malformed, 1);
}

/* More candidates than one batch are all purged, in seq order. */
static void test_retention_purges_across_batches(void **state)
{
    s_fixture_t *fx = *state;
    for (int i = 0; i < 150; i++)
        s_store(fx, T(DESIGNATION), "vac-big", S_CLOSED_AT - 1000 + i, 1, 1);
    s_store(fx, T(BAIL_SIGNE), "vac-big", S_CLOSED_AT, 0, 1);
    retention_stats_t st = s_purge(fx, S_YEAR_LATER + 1, false);
    assert_int_equal(st.purged, 150);
    assert_non_null(strstr(fx->log, "retention purge seq=150 "));
    st = s_purge(fx, S_YEAR_LATER + 1, false);
    assert_int_equal(st.purged, 0);
}

static void test_retention_refuses_a_period_out_of_range(void **state)
{
    s_fixture_t *fx = *state;
    retention_config_t cfg = {.now_ms = S_YEAR_LATER, .days = 0};
    retention_stats_t st;
    assert_int_equal(retention_purge(fx->store, &cfg, &st), FB_ERR_INVALID);
    cfg.days = RETENTION_MAX_DAYS + 1;
    assert_int_equal(retention_purge(fx->store, &cfg, &st), FB_ERR_INVALID);
}

#define S_TEST(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        S_TEST(test_retention_purges_the_attachments_of_a_closed_vacancy),
        S_TEST(test_retention_waits_more_than_the_period_and_dry_runs_change_nothing),
        S_TEST(test_retention_leaves_open_vacancies_and_plain_messages),
        S_TEST(test_retention_skips_pending_and_undecodable_messages),
        S_TEST(test_retention_purges_across_batches),
        S_TEST(test_retention_refuses_a_period_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
