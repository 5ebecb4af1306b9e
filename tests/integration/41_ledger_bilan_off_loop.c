/* 41_ledger_bilan_off_loop - the broker computes a BilanRequest's answer
 * off its loop thread. The store's ledger holds a national-like year of
 * S_VACANCIES vacancy lives (bench/decompte_world.c, written straight into
 * the store before the broker starts), so that the réservataire's bilan of
 * every dwelling takes the broker a second or more. Then, on one broker:
 * - while that bilan is computed, the bailleur's LogementLibere are
 *   acknowledged, each receipt before the bilan's own; the answer is the
 *   bilan the ledger gives (bilan_reply_compute on the store afterwards);
 * - the same request sent again (the same bytes, from another connection)
 *   while its answer is computed waits for it: one request stored, one
 *   answer, a receipt to each connection;
 * - a SEND that does not decode, from a connection whose request waits,
 *   gets its id-less Nack: the client does not take it for the request's
 *   answer (PENDING, PROTOCOL.md 3.2);
 * - one actor holds at most BILAN_QUEUE_PER_REQUESTER places of the queue:
 *   the réservataire's next request is RATE_LIMITED at once, while the
 *   bailleur's is still queued and answered after the réservataire's;
 * - SIGTERM while a bilan is computed: the computation is interrupted and
 *   the broker exits cleanly within S_STOP_MS; the request was not stored
 *   (not acknowledged), everything acknowledged before is, and the same
 *   bytes sent again after the restart get their one answer. */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bilan_queue.h"
#include "bilan_reply.h"
#include "decompte_world.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "ledger.h"
#include "store.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_VACANCIES 20000 /* a bilan of a second or more on this kind of machine */
#define S_OTHERS 20       /* the bailleur's messages sent while a bilan computes */
#define S_STOP_MS 5000    /* SIGTERM to exit, at most */
#define S_LONG_MS 120000  /* a requester that waits for its receipt this long */

static const char *const s_args[] = {"--decompte-interval-s", "3600", NULL};

typedef struct {
    fbt_pair_t w;
    fb_client_t *patient; /* the réservataire, waiting long for its receipts */
    fb_client_t *hasty;   /* the réservataire, giving up after 200 ms */
    int year;
} s_world_t;

/* ---- the world ---- */

static void s_fill(const char *path, int year)
{
    char err[256] = "";
    store_t *store = store_open(path, err, sizeof err);
    ledger_t *ledger = store ? ledger_open(store_db(store), err, sizeof err) : NULL;
    if (!ledger)
        fail_msg("cannot open %s: %s", path, err);
    decompte_world_t world = decompte_world_default();
    world.vacancies = S_VACANCIES;
    world.year = year;
    if (decompte_world_fill(&world, store, ledger, err, sizeof err) != FB_OK)
        fail_msg("%s", err);
    ledger_close(&ledger);
    store_destroy(&store);
}

static fb_client_t *s_client(s_world_t *x, int timeout_ms)
{
    fb_client_config_t cfg = {.endpoint = x->w.b.endpoint,
                              .keys = &x->w.resa,
                              .broker = &x->w.b.keys,
                              .timeout_ms = timeout_ms,
                              .connect_timeout_ms = 5000,
                              .log = fb_log_stderr};
    fb_err_t err = FB_OK;
    fb_client_t *c = fb_client_new(&cfg, &err);
    if (!c)
        fail_msg("connect as %s failed: %s", x->w.resa.actor, fb_err_name(err));
    return c;
}

static void s_connect(s_world_t *x)
{
    x->w.cb = fbt_client(&x->w.b, &x->w.bailleur);
    x->patient = s_client(x, S_LONG_MS);
    x->hasty = s_client(x, 200);
}

static void s_disconnect(s_world_t *x)
{
    fb_client_destroy(&x->w.cb);
    fb_client_destroy(&x->patient);
    fb_client_destroy(&x->hasty);
}

static void s_open(s_world_t *x)
{
    memset(x, 0, sizeof *x);
    x->year = fbt_year_now();
    fbt_setup(&x->w.b);
    s_fill(x->w.b.store, x->year);
    for (size_t i = 0; s_args[i]; i++)
        x->w.b.args[i] = s_args[i];
    fbt_actor(&x->w.b, FBT_BAILLEUR, "bailleur", NULL, &x->w.bailleur);
    fbt_actor(&x->w.b, FBT_RESA, "reservataire", NULL, &x->w.resa);
    fbt_start(&x->w.b);
    s_connect(x);
}

/* ---- requests ---- */

/* A request for the bilan of the year sealed by client c (caller frees
 * *env): its own bilan for the bailleur, the whole for the réservataire. */
static void s_seal_by(s_world_t *x, fb_client_t *c, uint8_t **env, size_t *len,
                      uint8_t id[FB_MESSAGE_ID_BYTES])
{
    Fluxbus__V1__BilanRequest req = FLUXBUS__V1__BILAN_REQUEST__INIT;
    req.year = x->year;
    fbt_seal_msg(c, T(BILAN_REQUEST), x->w.b.keys.actor, &req.base, env, len, id);
}

/* The réservataire's request for the bilan of the year, sealed (caller
 * frees *env). */
static void s_seal(s_world_t *x, uint8_t **env, size_t *len, uint8_t id[FB_MESSAGE_ID_BYTES])
{
    s_seal_by(x, x->patient, env, len, id);
}

/* Waits (up to 60 s) for the broker's log to say `what` of request id. */
static void s_wait_log(s_world_t *x, const char *what, const uint8_t id[FB_MESSAGE_ID_BYTES])
{
    char hex[2 * FB_MESSAGE_ID_BYTES + 1], needle[128];
    fb_hex_encode(id, FB_MESSAGE_ID_BYTES, hex);
    snprintf(needle, sizeof needle, "broker %s msg_id=%s", what, hex);
    for (int waited = 0; !fbt_log_contains(&x->w.b, needle); waited += 5) {
        if (waited > 60000)
            fail_msg("the broker never logged \"%s\"", needle);
        usleep(5000); /* the log file has no event to wait on */
    }
}

/* A SEND from the patient client on a thread of its own. */
typedef struct {
    fb_client_t *c;
    const uint8_t *env;
    size_t len;
    const uint8_t *id;
    fb_receipt_t r;
    fb_err_t rc;
    atomic_bool done;
} s_async_t;

static void *s_async_run(void *arg)
{
    s_async_t *a = arg;
    a->rc = fb_client_send_raw(a->c, a->env, a->len, a->id, &a->r);
    atomic_store(&a->done, true);
    return NULL;
}

/* Receives on c until the answer to request id (acking what comes before
 * it); returns its payload (caller frees). */
static Fluxbus__V1__BilanAnnuel *s_answer(s_world_t *x, fb_client_t *c,
                                          const uint8_t id[FB_MESSAGE_ID_BYTES])
{
    fb_delivery_t *d = fbt_recv_reply_to(c, id, 30000, 4 * S_OTHERS - 1);
    const Fluxbus__V1__SignedBody *b = d->body;
    assert_int_equal(b->type, T(BILAN_ANNUEL));
    assert_string_equal(b->sender, x->w.b.keys.actor);
    Fluxbus__V1__BilanAnnuel *m =
        fluxbus__v1__bilan_annuel__unpack(NULL, b->payload.len, b->payload.data);
    assert_non_null(m);
    fb_delivery_destroy(&d);
    return m;
}

/* How many messages of `type` with message id `id` the store holds. */
static long long s_stored(s_world_t *x, int type, const uint8_t id[FB_MESSAGE_ID_BYTES])
{
    char hex[2 * FB_MESSAGE_ID_BYTES + 1], sql[256];
    fb_hex_encode(id, FB_MESSAGE_ID_BYTES, hex);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM messages WHERE type = %d AND message_id = x'%s'", type, hex);
    return fbt_sql_int(&x->w.b, sql);
}

/* How many BilanAnnuel answer request id in the store. */
static long long s_answers_stored(s_world_t *x, const uint8_t id[FB_MESSAGE_ID_BYTES])
{
    uint8_t answer[FB_MESSAGE_ID_BYTES];
    bilan_reply_id(FBT_RESA, id, answer);
    return s_stored(x, T(BILAN_ANNUEL), answer);
}

/* A new request from the hasty client, which gives up before its receipt;
 * returns once the broker computes its bilan (caller frees *env). */
static void s_send_and_give_up(s_world_t *x, uint8_t **env, size_t *len,
                               uint8_t id[FB_MESSAGE_ID_BYTES])
{
    s_seal(x, env, len, id);
    fb_receipt_t r = {0};
    assert_int_equal(fb_client_send_raw(x->hasty, *env, *len, id, &r), FB_ERR_TIMEOUT);
    fb_receipt_clear(&r);
    s_wait_log(x, "bilan-computing", id);
}

/* The bilan the ledger gives for the réservataire's request, computed by
 * the test on the store (another connection, read-only). */
static bilan_reply_t s_expected(s_world_t *x)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(x->w.b.store, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    store_actor_t who;
    memset(&who, 0, sizeof who);
    snprintf(who.id, sizeof who.id, "%s", FBT_RESA);
    snprintf(who.roles, sizeof who.roles, "reservataire");
    Fluxbus__V1__BilanRequest req = FLUXBUS__V1__BILAN_REQUEST__INIT;
    req.year = x->year;
    bilan_reply_t out;
    char detail[256];
    assert_int_equal(bilan_reply_compute(db, &who, &req, fb_now_ms(), &out, detail, sizeof detail),
                     FB_OK);
    sqlite3_close(db);
    return out;
}

/* ---- the checks ---- */

/* While the bilan computes, S_OTHERS messages of the bailleur are each
 * acknowledged; the bilan's receipt comes after all of them. */
static void s_check_acks_meanwhile(s_world_t *x)
{
    uint8_t *env = NULL, id[FB_MESSAGE_ID_BYTES];
    size_t len = 0;
    s_seal(x, &env, &len, id);
    s_async_t a = {.c = x->patient, .env = env, .len = len, .id = id};
    atomic_init(&a.done, false);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, s_async_run, &a), 0);
    s_wait_log(x, "bilan-computing", id);
    fbt_sent_t sent[S_OTHERS];
    fbt_send_logements(x->w.cb, FBT_RESA, "meanwhile", sent, 0, S_OTHERS);
    bool answered_before = atomic_load(&a.done);
    pthread_join(th, NULL);
    if (a.rc != FB_OK)
        fail_msg("BilanRequest refused: %s (%s)", fb_err_name(a.rc), a.r.detail);
    assert_false(answered_before); /* every other receipt came first */
    assert_false(a.r.duplicate);
    assert_true(a.r.store_seq > sent[S_OTHERS - 1].seq);
    fb_receipt_clear(&a.r);

    Fluxbus__V1__BilanAnnuel *m = s_answer(x, x->patient, id);
    bilan_reply_t want = s_expected(x);
    assert_true(want.bilan->total.attributions > 1000);
    assert_int_equal(m->total->attributions, want.bilan->total.attributions);
    assert_int_equal(m->total->leases, want.bilan->total.leases);
    assert_int_equal(m->n_lines, 0); /* its own line only: it has none in this world */
    fluxbus__v1__bilan_annuel__free_unpacked(m, NULL);
    bilan_reply_clear(&want);
    assert_int_equal(s_answers_stored(x, id), 1);
    free(env);
}

/* The same bytes sent again, from another connection, while the answer is
 * computed: one request, one answer, a receipt to each connection. */
static void s_check_copy_while_pending(s_world_t *x)
{
    uint8_t *env = NULL, id[FB_MESSAGE_ID_BYTES];
    size_t len = 0;
    s_send_and_give_up(x, &env, &len, id);
    fb_receipt_t r = {0};
    assert_int_equal(fb_client_send_raw(x->patient, env, len, id, &r), FB_OK);
    assert_true(fbt_log_contains(&x->w.b, "broker bilan-waiting"));
    assert_true(r.accepted);
    assert_true(r.duplicate); /* the first connection had the receipt itself */
    fb_receipt_clear(&r);
    Fluxbus__V1__BilanAnnuel *m = s_answer(x, x->patient, id);
    fluxbus__v1__bilan_annuel__free_unpacked(m, NULL);
    fbt_expect_nothing(x->patient, 500);
    assert_int_equal(s_stored(x, T(BILAN_REQUEST), id), 1);
    assert_int_equal(s_answers_stored(x, id), 1);
    free(env);
}

/* A SEND that does not decode gets an id-less Nack; sent while the same
 * connection's BilanRequest waits for its answer, that Nack is the junk's,
 * not the request's: the broker said PENDING of the request (PROTOCOL.md
 * 3.2), and the request still gets its own receipt later. */
static void s_check_idless_nack_while_pending(s_world_t *x)
{
    uint8_t *env = NULL, id[FB_MESSAGE_ID_BYTES];
    size_t len = 0;
    s_send_and_give_up(x, &env, &len, id);
    fb_client_set_timeout(x->hasty, 10000);
    static const uint8_t junk[] = "not an envelope";
    uint8_t junk_id[FB_MESSAGE_ID_BYTES];
    fb_message_id_new(junk_id);
    fb_receipt_t r = {0};
    assert_int_equal(fb_client_send_raw(x->hasty, junk, sizeof junk, junk_id, &r),
                     FB_ERR_MALFORMED);
    assert_false(r.accepted);
    fb_receipt_clear(&r);
    fb_client_set_timeout(x->hasty, S_LONG_MS);
    assert_int_equal(fb_client_send_raw(x->hasty, env, len, id, &r), FB_OK);
    assert_true(r.accepted);
    fb_receipt_clear(&r);
    fb_client_set_timeout(x->hasty, 200);
    Fluxbus__V1__BilanAnnuel *m = s_answer(x, x->patient, id);
    fluxbus__v1__bilan_annuel__free_unpacked(m, NULL);
    assert_int_equal(s_answers_stored(x, id), 1);
    free(env);
}

/* One actor's share of the queue (BILAN_QUEUE_PER_REQUESTER): the
 * réservataire's requests beyond it are refused at once with RATE_LIMITED
 * (a signed Nack naming it, a log line), not queued; the bailleur's
 * request, sent next, is still queued, and answered after the
 * réservataire's, in arrival order. */
static void s_check_share_per_requester(s_world_t *x)
{
    enum { S_MINE = BILAN_QUEUE_PER_REQUESTER };
    uint8_t *env[S_MINE + 1], id[S_MINE + 1][FB_MESSAGE_ID_BYTES];
    size_t len[S_MINE + 1];
    fb_receipt_t r = {0};
    for (size_t i = 0; i <= S_MINE; i++)
        s_seal(x, &env[i], &len[i], id[i]);
    /* Its share sent back to back, the client giving up at once (their
     * PENDING and answers come later, on the same connection, in order),
     * then one more: all three reach the broker within a few
     * milliseconds, well within the first one's computation, however fast
     * the machine. */
    fb_client_set_timeout(x->hasty, 1);
    for (size_t i = 0; i < S_MINE; i++) {
        assert_int_equal(fb_client_send_raw(x->hasty, env[i], len[i], id[i], &r), FB_ERR_TIMEOUT);
        fb_receipt_clear(&r);
    }
    /* One more while the first computes: over its share. */
    fb_client_set_timeout(x->hasty, S_LONG_MS);
    assert_int_equal(fb_client_send_raw(x->hasty, env[S_MINE], len[S_MINE], id[S_MINE], &r),
                     FB_ERR_RATE_LIMITED);
    for (size_t i = 0; i < S_MINE; i++)
        s_wait_log(x, "bilan-queued", id[i]);
    assert_false(r.accepted);
    assert_non_null(strstr(r.detail, FBT_RESA));
    assert_non_null(strstr(r.detail, "the most one actor may"));
    fb_receipt_clear(&r);
    char hex[2 * FB_MESSAGE_ID_BYTES + 1], needle[256];
    fb_hex_encode(id[S_MINE], FB_MESSAGE_ID_BYTES, hex);
    snprintf(needle, sizeof needle, "broker nack msg_id=%s peer=%s reason=RATE_LIMITED", hex,
             FBT_RESA);
    assert_true(fbt_log_contains(&x->w.b, needle));
    fb_client_set_timeout(x->hasty, 200);

    /* Another actor still has its place: queued, answered. */
    uint8_t *benv = NULL, bid[FB_MESSAGE_ID_BYTES];
    size_t blen = 0;
    s_seal_by(x, x->w.cb, &benv, &blen, bid);
    fb_client_set_timeout(x->w.cb, S_LONG_MS);
    assert_int_equal(fb_client_send_raw(x->w.cb, benv, blen, bid, &r), FB_OK);
    assert_true(r.accepted);
    assert_false(r.duplicate);
    uint64_t bseq = r.store_seq;
    fb_receipt_clear(&r);
    fb_client_set_timeout(x->w.cb, 5000);
    Fluxbus__V1__BilanAnnuel *m = s_answer(x, x->w.cb, bid);
    assert_int_equal(m->view, FLUXBUS__V1__BILAN_VIEW__BILAN_VIEW_BAILLEUR);
    fluxbus__v1__bilan_annuel__free_unpacked(m, NULL);

    for (size_t i = 0; i < S_MINE; i++) {
        m = s_answer(x, x->patient, id[i]);
        fluxbus__v1__bilan_annuel__free_unpacked(m, NULL);
        assert_int_equal(s_answers_stored(x, id[i]), 1);
        char sql[256];
        fb_hex_encode(id[i], FB_MESSAGE_ID_BYTES, hex);
        snprintf(sql, sizeof sql, "SELECT seq FROM messages WHERE message_id = x'%s'", hex);
        assert_true((uint64_t)fbt_sql_int(&x->w.b, sql) < bseq); /* in arrival order */
        free(env[i]);
    }
    assert_int_equal(s_stored(x, T(BILAN_REQUEST), id[S_MINE]), 0);
    free(env[S_MINE]);
    free(benv);
}

/* SIGTERM while a bilan computes: a prompt, clean exit; nothing
 * acknowledged is lost, the request (unacknowledged) is not stored, and the
 * same bytes after the restart get their answer. */
static void s_check_stop_while_computing(s_world_t *x)
{
    uint8_t *env = NULL, id[FB_MESSAGE_ID_BYTES];
    size_t len = 0;
    s_send_and_give_up(x, &env, &len, id);
    fb_receipt_t r = {0};
    s_disconnect(x);
    int64_t t0 = fb_now_ms();
    assert_int_equal(fbt_stop(&x->w.b, SIGTERM), 0);
    int64_t took = fb_now_ms() - t0;
    if (took > S_STOP_MS)
        fail_msg("the broker took %lld ms to stop", (long long)took);
    s_wait_log(x, "bilan-stopped", id);
    assert_true(fbt_log_contains(&x->w.b, "broker bilan-dropped waiting=1 computing=1"));

    fbt_start(&x->w.b);
    s_connect(x);
    assert_int_equal(s_stored(x, T(BILAN_REQUEST), id), 0);
    assert_int_equal(fbt_sql_int(&x->w.b, "SELECT count(*) FROM messages WHERE type = 1"),
                     S_OTHERS);
    assert_int_equal(fb_client_send_raw(x->patient, env, len, id, &r), FB_OK);
    assert_false(r.duplicate);
    fb_receipt_clear(&r);
    Fluxbus__V1__BilanAnnuel *m = s_answer(x, x->patient, id);
    fluxbus__v1__bilan_annuel__free_unpacked(m, NULL);
    assert_int_equal(s_answers_stored(x, id), 1);
    free(env);
}

static void test_bilan_is_computed_off_the_loop(void **state)
{
    (void)state;
    s_world_t x;
    s_open(&x);
    s_check_acks_meanwhile(&x);
    s_check_copy_while_pending(&x);
    s_check_idless_nack_while_pending(&x);
    s_check_share_per_requester(&x);
    s_check_stop_while_computing(&x);
    /* 7 requests, 7 answers, 20 LogementLibere: the chain verifies. */
    fbt_audit_ok(&x.w.b, S_OTHERS + 14);
    s_disconnect(&x);
    fbt_pair_close(&x.w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bilan_is_computed_off_the_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
