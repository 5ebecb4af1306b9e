/* 15_retention_purge - `fluxbus retention purge` on the store of a running
 * broker. The bailleur sends its convention with the réservataire (seq 1),
 * frees and orients two vacancies under it (seq 2-5); the réservataire
 * designates three candidates, each with a household sealed for the
 * bailleur's encryption key attached (seq 6-8): two for a vacancy which the
 * CALEOL attributes to the first (seq 9) and whose lease the bailleur then
 * signs (BailSigne, seq 10), one for a vacancy still open; the
 * bailleur acknowledges all but one. A year and a day after the lease, the
 * purge drops the attachment of the acknowledged designation of the closed
 * vacancy - its bytes are gone from the SQLite files - and logs it; the
 * unacknowledged one and the open vacancy's are untouched, as is everything
 * before the retention period and in a dry run. The store still passes
 * `fluxbus audit verify` and its export the independent verifier; the
 * broker goes on extending the chain. */
#define _GNU_SOURCE /* memmem */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_CLOSED "vac-2026-closed"
#define S_OPEN "vac-2026-open"
#define S_DAY_MS 86400000LL
#define S_OUT 16384

/* Each household carries long notes, so that its sealed box spans several
 * SQLite pages and overflow pages are purged too. */
#define S_NOTES_BYTES 9000

typedef struct {
    fbt_pair_t p;
    char wal[600];
    int64_t closed_at_ms;  /* about when the lease was signed */
    fb_sealed_t sealed[3]; /* the three sealed households */
    char out[S_OUT];
} s_world_t;

/* Designation n: its demande, its rank and its round's size. */
static const char *const s_nur[3] = {"074012600000A", "074012600000B", "074012600000C"};
static const uint32_t s_rank[3] = {1, 2, 1};
static const uint32_t s_count[3] = {2, 2, 1};

/* The réservataire designates candidate n for `vacancy`, household n
 * sealed for the bailleur and attached; returns its store seq. */
static uint64_t s_designate(s_world_t *w, const char *vacancy, int n)
{
    static char notes[S_NOTES_BYTES + 1];
    memset(notes, 'a' + n, S_NOTES_BYTES);
    Fluxbus__V1__HouseholdDetails hh = FLUXBUS__V1__HOUSEHOLD_DETAILS__INIT;
    hh.nur = (char *)s_nur[n];
    hh.email = "menage@example.invalid";
    hh.notes = notes;
    assert_int_equal(fb_seal_household(&hh, w->p.bailleur.enc_pk, &w->sealed[n]), FB_OK);
    Fluxbus__V1__Designation d = FLUXBUS__V1__DESIGNATION__INIT;
    d.vacancy_id = (char *)vacancy;
    d.nur = (char *)s_nur[n];
    d.rank = s_rank[n];
    d.candidate_count = s_count[n];
    fb_sealed_bind(&w->sealed[n], &d);
    size_t len = 0;
    uint8_t *payload = NULL;
    assert_int_equal(fb_codec_pack(&d.base, &payload, &len), FB_OK);
    const ProtobufCBinaryData box = {w->sealed[n].box_len, w->sealed[n].box};
    const char *const to[1] = {FBT_BAILLEUR};
    fb_outgoing_t m = {
        .type = T(DESIGNATION),
        .recipients = to,
        .n_recipients = 1,
        .correlation_id = vacancy,
        .payload = payload,
        .payload_len = len,
        .attachments = &box,
        .n_attachments = 1,
    };
    fb_receipt_t rec;
    assert_int_equal(fb_client_send(w->p.cr, &m, &rec), FB_OK);
    uint64_t seq = rec.store_seq;
    fb_receipt_clear(&rec);
    free(payload);
    return seq;
}

/* The bailleur receives the next delivery, checks it is designation n with
 * its household, and acknowledges it or not. */
static void s_receive(s_world_t *w, int n, int ack)
{
    fb_delivery_t *d = NULL;
    assert_int_equal(fb_client_recv(w->p.cb, &d, 5000), FB_OK);
    assert_int_equal(d->body->type, T(DESIGNATION));
    assert_int_equal(d->body->n_attachment_digests, 1);
    assert_non_null(memmem(d->envelope, d->envelope_len, w->sealed[n].box, w->sealed[n].box_len));
    if (ack)
        assert_int_equal(fb_client_ack(w->p.cb, d), FB_OK);
    fb_delivery_destroy(&d);
}

/* The bailleur signs the lease of `vacancy`. Its receipt also means the
 * bailleur's acks sent before it are committed (one connection, in order). */
static void s_bail_signe(s_world_t *w, const char *vacancy)
{
    size_t len = 0;
    uint8_t *payload = fbt_bail_signe(vacancy, s_nur[0], &len);
    const char *const to[1] = {FBT_RESA};
    fb_outgoing_t m = {
        .type = T(BAIL_SIGNE),
        .recipients = to,
        .n_recipients = 1,
        .correlation_id = vacancy,
        .payload = payload,
        .payload_len = len,
    };
    fb_receipt_t rec;
    assert_int_equal(fb_client_send(w->p.cb, &m, &rec), FB_OK);
    w->closed_at_ms = rec.accepted_at_ms;
    fb_receipt_clear(&rec);
    free(payload);
    fb_delivery_t *d = fbt_recv_ack(w->p.cr, 5000);
    assert_non_null(d);
    fb_delivery_destroy(&d);
}

/* Sealed household n, or a 64-byte piece of it, is somewhere in the store's
 * files (database or WAL). */
static int s_on_disk(s_world_t *w, int n)
{
    const fb_sealed_t *s = &w->sealed[n];
    for (size_t at = 0; at + 64 <= s->box_len; at += s->box_len / 8)
        if (fbt_file_contains(w->p.b.store, s->box + at, 64) ||
            fbt_file_contains(w->wal, s->box + at, 64))
            return 1;
    return 0;
}

/* Runs `fluxbus retention purge` as if `days_after` days after the lease;
 * stdout and stderr in w->out; returns the exit status. */
static int s_purge(s_world_t *w, long long days_after, const char *extra)
{
    return fbt_sh(w->out, sizeof w->out, "'%s' retention purge --store '%s' --now-ms %lld %s 2>&1",
                  FB_CLI_BIN, w->p.b.store, (long long)w->closed_at_ms + days_after * S_DAY_MS,
                  extra);
}

static void s_expect_out(s_world_t *w, const char *needle)
{
    if (!strstr(w->out, needle))
        fail_msg("expected \"%s\" in:\n%s", needle, w->out);
}

static int s_setup(void **state)
{
    s_world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    fbt_pair_open(&w->p);
    snprintf(w->wal, sizeof w->wal, "%s-wal", w->p.b.store);
    fbt_convention(w->p.cb, FBT_CONV, FBT_RESA, w->p.cr); /* seq 1 */
    fbt_orient(w->p.cb, FBT_RESA, S_CLOSED, 2, w->p.cr);  /* seq 2, 3 */
    fbt_orient(w->p.cb, FBT_RESA, S_OPEN, 1, w->p.cr);    /* seq 4, 5 */
    assert_int_equal(s_designate(w, S_CLOSED, 0), 6);
    assert_int_equal(s_designate(w, S_CLOSED, 1), 7);
    assert_int_equal(s_designate(w, S_OPEN, 2), 8);
    s_receive(w, 0, 1);
    s_receive(w, 1, 0); /* left unacknowledged */
    s_receive(w, 2, 1);
    fbt_attribute(w->p.cb, FBT_RESA, S_CLOSED, s_nur[0], w->p.cr); /* seq 9 */
    s_bail_signe(w, S_CLOSED);                                     /* seq 10 */
    for (int n = 0; n < 3; n++)
        assert_true(s_on_disk(w, n));
    *state = w;
    return 0;
}

static int s_teardown(void **state)
{
    s_world_t *w = *state;
    fbt_pair_close(&w->p);
    for (int n = 0; n < 3; n++)
        fb_sealed_clear(&w->sealed[n]);
    free(w);
    return 0;
}

/* The example of use: a year and a day after the lease, the acknowledged
 * designation of the closed vacancy loses its household, and the store
 * still verifies. */
static void test_retention_purges_a_closed_vacancy_past_retention(void **state)
{
    s_world_t *w = *state;
    assert_int_equal(s_purge(w, 366, ""), 0);
    s_expect_out(w, "purged 1 message(s); skipped 1 with unacknowledged deliveries");
    s_expect_out(w, "info retention purge seq=6 vacancy=\"" S_CLOSED "\" type=Designation at=");
    s_expect_out(w, "warn retention skip seq=7 vacancy=\"" S_CLOSED
                    "\" type=Designation reason=unacked pending=1");
    if (s_on_disk(w, 0))
        fail_msg("the purged household is still in the store's files; the purge said:\n%s", w->out);
    assert_true(s_on_disk(w, 1));
    assert_true(s_on_disk(w, 2));

    /* Auditable in the store itself. */
    assert_int_equal(
        fbt_sh(w->out, sizeof w->out,
               "sqlite3 -cmd '.timeout 10000' '%s' 'SELECT seq, vacancy, type FROM purge_log'",
               w->p.b.store),
        0);
    assert_string_equal(w->out, "6|" S_CLOSED "|5\n");

    /* The skeleton keeps signatures, receipts and the chain intact. */
    assert_int_equal(fbt_sh(w->out, sizeof w->out,
                            "'%s' audit verify --store '%s' --broker '%s.pub'", FB_CLI_BIN,
                            w->p.b.store, w->p.b.key),
                     0);
    s_expect_out(w, "ok: 10 messages, chain head ");
    if (fbt_sh(NULL, 0, "command -v node >/dev/null 2>&1") == 0) {
        assert_int_equal(
            fbt_sh(
                w->out, sizeof w->out,
                "rm -f '%s/audit.jsonl' && '%s' audit export --store '%s' --broker '%s.pub' --out "
                "'%s/audit.jsonl' && node '%s/tests/tools/verify_audit.mjs' '%s/audit.jsonl' "
                "'%s.pub' && grep -c '\"purged\":true' '%s/audit.jsonl'",
                w->p.b.dir, FB_CLI_BIN, w->p.b.store, w->p.b.key, w->p.b.dir, FB_SOURCE_DIR,
                w->p.b.dir, w->p.b.key, w->p.b.dir),
            0);
        s_expect_out(w, "verified 10 messages, chain head ");
        s_expect_out(w, "\n1\n"); /* one line purged */
    }

    /* Nothing left to do: a second run purges nothing. */
    assert_int_equal(s_purge(w, 366, ""), 0);
    s_expect_out(w, "purged 0 message(s); skipped 1 with unacknowledged deliveries");
}

/* Within the retention period, and in a dry run, nothing changes. */
static void test_retention_keeps_everything_before_retention_and_in_a_dry_run(void **state)
{
    s_world_t *w = *state;
    assert_int_equal(s_purge(w, 364, ""), 0);
    s_expect_out(w, "purged 0 message(s); skipped 0");
    assert_int_equal(s_purge(w, 366, "--days 400"), 0);
    s_expect_out(w, "purged 0 message(s)");
    assert_int_equal(s_purge(w, 366, "--dry-run"), 0);
    s_expect_out(w, "would purge 1 message(s); skipped 1 with unacknowledged deliveries");
    s_expect_out(w, "info retention would-purge seq=6 vacancy=\"" S_CLOSED "\"");
    for (int n = 0; n < 3; n++)
        assert_true(s_on_disk(w, n));
    assert_int_equal(fbt_sh(w->out, sizeof w->out,
                            "sqlite3 -cmd '.timeout 10000' '%s' 'SELECT count(*) FROM purge_log'",
                            w->p.b.store),
                     0);
    assert_string_equal(w->out, "0\n");
    assert_int_equal(s_purge(w, 366, "--days 0"), 1); /* usage error */
}

/* Once acknowledged, the skipped designation is purged on the next run; the
 * open vacancy's stays; the broker goes on extending the chain. */
static void test_retention_purges_a_skipped_message_once_acknowledged(void **state)
{
    s_world_t *w = *state;
    assert_int_equal(s_purge(w, 366, ""), 0);
    /* A new session redelivers the unacknowledged designation. */
    fb_client_destroy(&w->p.cb);
    w->p.cb = fbt_client(&w->p.b, &w->p.bailleur);
    s_receive(w, 1, 1);
    size_t len = 0;
    uint8_t *p = fbt_logement("vac-2027-next", "74010", &len);
    fb_receipt_t rec; /* also: the ack above is committed */
    assert_int_equal(fbt_send(w->p.cb, T(LOGEMENT_LIBERE), FBT_RESA, NULL, p, len, &rec), FB_OK);
    assert_int_equal(rec.store_seq, 11);
    fb_receipt_clear(&rec);
    free(p);

    assert_int_equal(s_purge(w, 366, ""), 0);
    s_expect_out(w, "purged 1 message(s); skipped 0");
    s_expect_out(w, "info retention purge seq=7 vacancy=\"" S_CLOSED "\"");
    assert_false(s_on_disk(w, 0));
    assert_false(s_on_disk(w, 1));
    assert_true(s_on_disk(w, 2));
    assert_int_equal(fbt_sh(w->out, sizeof w->out,
                            "'%s' audit verify --store '%s' --broker '%s.pub'", FB_CLI_BIN,
                            w->p.b.store, w->p.b.key),
                     0);
    s_expect_out(w, "ok: 11 messages, chain head ");
}

int main(void)
{
    /* Each test starts from its own broker and store. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_retention_purges_a_closed_vacancy_past_retention,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_retention_keeps_everything_before_retention_and_in_a_dry_run, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_retention_purges_a_skipped_message_once_acknowledged,
                                        s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
