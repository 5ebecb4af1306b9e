/* 11_security_rejection_matrix - every reason code of the protocol,
 * triggered against the real broker, comes back as its own code in a signed
 * Nack, and a CURVE key that is not registered is refused at the handshake.
 * Meanwhile a well-behaved bailleur keeps sending to a réservataire that
 * keeps receiving: all its messages are accepted and delivered, and nothing
 * refused reaches anyone.
 *
 * The broker runs with small caps so that each limit is reached quickly:
 * envelope 64 KiB, 4 recipients + topics, 20 SENDs/s with a burst of 40, and
 * a backlog of 10 undelivered deliveries per sender. */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fluxbus/v1/envelope.pb-c.h"

#define T_LOGEMENT FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE
#define T_DESIGNATION FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_DESIGNATION
#define MALLORY "bailleur:732829320"
#define FLOODER "bailleur:383700212"
#define OFFLINE "reservataire:hors-ligne"
#define N_GOOD 30
#define N_FLOOD 60
#define REASON_MAX FLUXBUS__V1__REASON_CODE__REASON_INVALID_TRANSITION

typedef struct {
    fbt_pair_t p;
    fb_keys_t mallory, revoked, flooder, offline;
    fb_client_t *cm, *cf;
    uint8_t *payload; /* a valid LogementLibere */
    size_t len;
    /* Mallory's and the flooder's own dwellings: a vacancy is its
     * bailleur's, the ledger refuses another's LogementLibere for it. */
    uint8_t *mallory_payload, *flood_payload;
    size_t mallory_len, flood_len;
    int seen[REASON_MAX + 1]; /* reason codes observed in Nacks */
} s_world_t;

/* ---- the well-behaved pair, in threads (no cmocka asserts there) ---------- */

typedef struct {
    s_world_t *w;
    atomic_int stop;
    int sent_ok, sent_refused;
    int received, strangers;
} s_good_t;

static void *s_good_sender(void *arg)
{
    s_good_t *g = arg;
    for (int i = 0; i < N_GOOD; i++) {
        fb_receipt_t rec;
        if (fbt_send(g->w->p.cb, T_LOGEMENT, FBT_RESA, NULL, g->w->payload, g->w->len, &rec) ==
            FB_OK)
            g->sent_ok++;
        else
            g->sent_refused++;
        fb_receipt_clear(&rec);
        usleep(20000); /* a steady, polite pace: 50 messages/s at most */
    }
    return NULL;
}

static void *s_good_receiver(void *arg)
{
    s_good_t *g = arg;
    while (!atomic_load(&g->stop) || g->received < N_GOOD) {
        fb_delivery_t *d = NULL;
        if (fb_client_recv(g->w->p.cr, &d, 200) != FB_OK)
            continue;
        if (strcmp(d->body->sender, FBT_BAILLEUR) == 0)
            g->received++;
        else
            g->strangers++;
        fb_client_ack(g->w->p.cr, d);
        fb_delivery_destroy(&d);
        if (atomic_load(&g->stop) && g->received >= N_GOOD)
            break;
    }
    return NULL;
}

/* ---- sending and checking one refusal ------------------------------------- */

/* Sends env as it is from client c and returns the broker's reason, which
 * must come in a signed answer (a Nack unless accepted). */
static fb_err_t s_send_raw(s_world_t *w, fb_client_t *c, const uint8_t *env, size_t len,
                           const uint8_t id[FB_MESSAGE_ID_BYTES])
{
    fb_receipt_t rec;
    fb_err_t rc = fb_client_send_raw(c, env, len, id, &rec);
    if (rc != FB_OK && rc != FB_ERR_TIMEOUT && rc != FB_ERR_TRANSPORT) {
        assert_false(rec.accepted);
        assert_non_null(rec.receipt); /* the broker-signed Nack, verified by the client */
        assert_true(rec.detail[0] != '\0');
        int reason = fb_err_to_reason(rc);
        assert_true(reason > 0 && reason <= REASON_MAX);
        w->seen[reason]++;
    }
    fb_receipt_clear(&rec);
    return rc;
}

static void s_expect(s_world_t *w, const char *what, fb_client_t *c, uint8_t *env, size_t len,
                     const uint8_t id[FB_MESSAGE_ID_BYTES], fb_err_t expected)
{
    fb_err_t rc = s_send_raw(w, c, env, len, id);
    if (rc != expected)
        fail_msg("%s: expected %s, got %s", what, fb_err_name(expected), fb_err_name(rc));
    free(env);
}

/* Mallory's envelope after `edit`, signed with `keys`. */
static void s_expect_forged(s_world_t *w, const char *what, const fb_keys_t *keys, fbt_body_fn edit,
                            fb_err_t expected)
{
    uint8_t id[FB_MESSAGE_ID_BYTES];
    size_t len = 0;
    uint8_t *env = fbt_forge_with(keys, FBT_RESA, w->payload, w->len, edit, w, &len, id);
    s_expect(w, what, w->cm, env, len, id, expected);
}

/* ---- the body edits ---------------------------------------------------------- */

static void s_as_bailleur(Fluxbus__V1__SignedBody *b, void *ctx)
{
    b->sender = FBT_BAILLEUR;
}

static void s_unknown_type(Fluxbus__V1__SignedBody *b, void *ctx)
{
    b->type = 99;
}

static void s_designation_from_bailleur(Fluxbus__V1__SignedBody *b, void *ctx)
{
    b->type = T_DESIGNATION; /* réservataire -> bailleur only */
    b->payload.len = 0;      /* an empty Designation decodes */
}

static void s_to_nobody(Fluxbus__V1__SignedBody *b, void *ctx)
{
    static char *nobody[] = {"reservataire:inconnu"};
    b->recipients = nobody;
}

static void s_created_10_min_ago(Fluxbus__V1__SignedBody *b, void *ctx)
{
    b->created_at_ms = fb_now_ms() - 10 * 60 * 1000;
}

static void s_version_2(Fluxbus__V1__SignedBody *b, void *ctx)
{
    b->version = 2;
}

static void s_no_recipient(Fluxbus__V1__SignedBody *b, void *ctx)
{
    b->n_recipients = 0;
}

static void s_bad_topic(Fluxbus__V1__SignedBody *b, void *ctx)
{
    static char *topics[] = {"nulle-part/74010"};
    b->n_recipients = 0;
    b->topics = topics;
    b->n_topics = 1;
}

static void s_five_recipients(Fluxbus__V1__SignedBody *b, void *ctx)
{
    static char *five[] = {FBT_RESA, FBT_RESA, OFFLINE, OFFLINE, FBT_RESA};
    b->recipients = five;
    b->n_recipients = 5;
}

static void s_big_payload(Fluxbus__V1__SignedBody *b, void *ctx)
{
    static uint8_t big[70 * 1024];
    b->payload.data = big;
    b->payload.len = sizeof big;
}

/* ---- the cases that need more than an edit ------------------------------------- */

static void s_case_malformed(s_world_t *w)
{
    uint8_t id[FB_MESSAGE_ID_BYTES];
    fb_message_id_new(id);
    uint8_t *junk = malloc(16);
    memcpy(junk, "\xff\xff\xff\xff not an envelope", 16);
    s_expect(w, "garbage", w->cm, junk, 16, id, FB_ERR_MALFORMED);
}

static void s_case_bad_signature(s_world_t *w)
{
    uint8_t id[FB_MESSAGE_ID_BYTES];
    size_t len = 0;
    uint8_t *env = fbt_forge_with(&w->mallory, FBT_RESA, w->payload, w->len, NULL, NULL, &len, id);
    Fluxbus__V1__Envelope *e = NULL;
    assert_int_equal(fb_envelope_decode(env, len, 1 << 20, &e), FB_OK);
    e->signature.data[5] ^= 0x20;
    free(env);
    assert_int_equal(fb_codec_pack(&e->base, &env, &len), FB_OK);
    fb_envelope_free(e);
    s_expect(w, "flipped signature", w->cm, env, len, id, FB_ERR_BAD_SIGNATURE);
}

static void s_case_unknown_key(s_world_t *w)
{
    fb_keys_t stranger;
    assert_int_equal(fb_keys_generate(&stranger, MALLORY), FB_OK);
    s_expect_forged(w, "unregistered signing key", &stranger, NULL, FB_ERR_UNKNOWN_KEY);
    fb_keys_wipe(&stranger);
}

/* A LogementLibere names no attachment: one riding along is refused, so that
 * nothing is stored that the retention rules do not know about. */
static void s_case_unnamed_attachment(s_world_t *w)
{
    uint8_t id[FB_MESSAGE_ID_BYTES];
    size_t len = 0;
    uint8_t extra[] = "Nom: Dupont, ne le 01/02/1980";
    ProtobufCBinaryData att = {sizeof extra, extra};
    uint8_t *env = fbt_forge_attached(&w->mallory, FBT_RESA, w->payload, w->len, &att, 1, NULL,
                                      NULL, &len, id);
    s_expect(w, "attachment the payload does not name", w->cm, env, len, id, FB_ERR_NOT_AUTHORIZED);
}

static void s_case_conflict(s_world_t *w)
{
    const char *const to[1] = {OFFLINE};
    uint8_t id[FB_MESSAGE_ID_BYTES];
    fb_message_id_new(id);
    fb_outgoing_t m = {.type = T_LOGEMENT,
                       .recipients = to,
                       .n_recipients = 1,
                       .correlation_id = "vac-mallory",
                       .payload = w->mallory_payload,
                       .payload_len = w->mallory_len,
                       .message_id = id};
    fb_receipt_t rec;
    assert_int_equal(fb_client_send(w->cm, &m, &rec), FB_OK);
    fb_receipt_clear(&rec);
    m.correlation_id = "vac-conflict-changed";
    uint8_t *env = NULL;
    size_t len = 0;
    assert_int_equal(fb_client_seal(w->cm, &m, &env, &len, NULL), FB_OK);
    s_expect(w, "same id, other bytes", w->cm, env, len, id, FB_ERR_CONFLICT);
}

/* A lease for a vacancy the ledger has never seen: the lifecycle refuses it
 * (docs/LEDGER.md). */
static void s_case_invalid_transition(s_world_t *w)
{
    size_t plen = 0;
    uint8_t *payload = fbt_bail_signe("vac-never-freed", "074012500000001", &plen);
    const char *const to[1] = {FBT_RESA};
    fb_outgoing_t m = {.type = FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_BAIL_SIGNE,
                       .recipients = to,
                       .n_recipients = 1,
                       .correlation_id = "vac-never-freed",
                       .payload = payload,
                       .payload_len = plen};
    uint8_t id[FB_MESSAGE_ID_BYTES];
    uint8_t *env = NULL;
    size_t len = 0;
    assert_int_equal(fb_client_seal(w->cm, &m, &env, &len, id), FB_OK);
    s_expect(w, "lease before any designation", w->cm, env, len, id, FB_ERR_INVALID_TRANSITION);
    free(payload);
}

/* The flooder writes to an actor that never reads: the first 10 fill its
 * backlog, the next ones are BACKLOG_FULL until its 40 tokens are spent,
 * then RATE_LIMITED. */
static void s_case_flood(s_world_t *w)
{
    const char *const to[1] = {OFFLINE};
    int ok = 0, backlog_full = 0, rate_limited = 0;
    for (int i = 0; i < N_FLOOD; i++) {
        fb_outgoing_t m = {.type = T_LOGEMENT,
                           .recipients = to,
                           .n_recipients = 1,
                           .correlation_id = "vac-flood",
                           .payload = w->flood_payload,
                           .payload_len = w->flood_len};
        uint8_t id[FB_MESSAGE_ID_BYTES];
        uint8_t *env = NULL;
        size_t len = 0;
        assert_int_equal(fb_client_seal(w->cf, &m, &env, &len, id), FB_OK);
        fb_err_t rc = s_send_raw(w, w->cf, env, len, id);
        free(env);
        ok += rc == FB_OK;
        backlog_full += rc == FB_ERR_BACKLOG_FULL;
        rate_limited += rc == FB_ERR_RATE_LIMITED;
    }
    fprintf(stderr, "flood: %d accepted, %d BACKLOG_FULL, %d RATE_LIMITED\n", ok, backlog_full,
            rate_limited);
    assert_int_equal(ok, 10);
    assert_true(backlog_full >= 20);
    assert_true(rate_limited >= 1);
    assert_int_equal(ok + backlog_full + rate_limited, N_FLOOD);
}

static void s_case_unregistered_curve(s_world_t *w)
{
    fb_keys_t stranger;
    assert_int_equal(fb_keys_generate(&stranger, "reservataire:inconnu"), FB_OK);
    fb_err_t err = FB_OK;
    fb_client_t *c = fbt_try_client(&w->p.b, &stranger, 2000, &err);
    assert_null(c);
    assert_int_equal(err, FB_ERR_AUTH);
    fb_keys_wipe(&stranger);
}

/* ---- the test ---------------------------------------------------------------------- */

static void test_every_reason_code_while_good_traffic_flows(void **state)
{
    s_world_t w;
    memset(&w, 0, sizeof w);
    fbt_setup(&w.p.b);
    const char *args[] = {"--max-envelope", "65536", "--max-recipients", "4",  "--rate", "20",
                          "--rate-burst",   "40",    "--max-backlog",    "10", NULL};
    memcpy(w.p.b.args, args, sizeof args);
    fbt_actor(&w.p.b, FBT_BAILLEUR, "bailleur", NULL, &w.p.bailleur);
    fbt_actor(&w.p.b, FBT_RESA, "reservataire", NULL, &w.p.resa);
    fbt_actor(&w.p.b, MALLORY, "bailleur", NULL, &w.mallory);
    fbt_actor(&w.p.b, FLOODER, "bailleur", NULL, &w.flooder);
    fbt_actor(&w.p.b, OFFLINE, "reservataire", NULL, &w.offline);
    assert_int_equal(fb_keys_generate(&w.revoked, MALLORY), FB_OK);
    fbt_add_key(&w.p.b, &w.revoked, 0);
    fbt_revoke_key(&w.p.b, w.revoked.key_id);
    fbt_start(&w.p.b);
    w.p.cb = fbt_client(&w.p.b, &w.p.bailleur);
    w.p.cr = fbt_client(&w.p.b, &w.p.resa);
    w.cm = fbt_client(&w.p.b, &w.mallory);
    w.cf = fbt_client(&w.p.b, &w.flooder);
    w.payload = fbt_logement("vac-matrix", "74010", &w.len);
    w.mallory_payload = fbt_logement("vac-mallory", "74010", &w.mallory_len);
    w.flood_payload = fbt_logement("vac-flood", "74010", &w.flood_len);

    s_good_t g = {.w = &w};
    pthread_t ts, tr;
    assert_int_equal(pthread_create(&tr, NULL, s_good_receiver, &g), 0);
    assert_int_equal(pthread_create(&ts, NULL, s_good_sender, &g), 0);

    s_case_malformed(&w);
    s_expect_forged(&w, "70 KiB envelope", &w.mallory, s_big_payload, FB_ERR_TOO_LARGE);
    s_case_bad_signature(&w);
    s_case_unknown_key(&w);
    s_expect_forged(&w, "revoked key", &w.revoked, NULL, FB_ERR_KEY_REVOKED);
    s_expect_forged(&w, "claims to be another bailleur", &w.mallory, s_as_bailleur,
                    FB_ERR_SENDER_MISMATCH);
    s_expect_forged(&w, "type 99", &w.mallory, s_unknown_type, FB_ERR_UNKNOWN_TYPE);
    s_expect_forged(&w, "bailleur sends a designation", &w.mallory, s_designation_from_bailleur,
                    FB_ERR_NOT_AUTHORIZED);
    s_expect_forged(&w, "unregistered recipient", &w.mallory, s_to_nobody,
                    FB_ERR_UNKNOWN_RECIPIENT);
    s_case_unnamed_attachment(&w);
    s_case_conflict(&w);
    s_expect_forged(&w, "created 10 min ago", &w.mallory, s_created_10_min_ago, FB_ERR_STALE);
    s_expect_forged(&w, "version 2", &w.mallory, s_version_2, FB_ERR_UNSUPPORTED_VERSION);
    s_expect_forged(&w, "no recipient", &w.mallory, s_no_recipient, FB_ERR_NO_RECIPIENT);
    s_expect_forged(&w, "bad topic", &w.mallory, s_bad_topic, FB_ERR_BAD_TOPIC);
    s_expect_forged(&w, "5 recipients", &w.mallory, s_five_recipients, FB_ERR_TOO_MANY_RECIPIENTS);
    s_case_invalid_transition(&w);
    s_case_flood(&w);
    s_case_unregistered_curve(&w);

    assert_int_equal(pthread_join(ts, NULL), 0);
    atomic_store(&g.stop, 1);
    assert_int_equal(pthread_join(tr, NULL), 0);

    for (int r = 1; r <= REASON_MAX; r++)
        if (!w.seen[r])
            fail_msg("reason code %d (%s) never came back", r, fb_err_name(fb_err_from_reason(r)));
    fprintf(stderr, "reason codes covered: %d of %d, plus the CURVE handshake refusal\n",
            REASON_MAX, REASON_MAX);
    assert_int_equal(g.sent_ok, N_GOOD);
    assert_int_equal(g.sent_refused, 0);
    assert_int_equal(g.received, N_GOOD);
    assert_int_equal(g.strangers, 0); /* nothing refused reached the réservataire */

    free(w.payload);
    free(w.mallory_payload);
    free(w.flood_payload);
    fb_client_destroy(&w.cm);
    fb_client_destroy(&w.cf);
    fb_keys_wipe(&w.mallory);
    fb_keys_wipe(&w.revoked);
    fb_keys_wipe(&w.flooder);
    fb_keys_wipe(&w.offline);
    fbt_pair_close(&w.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_reason_code_while_good_traffic_flows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
