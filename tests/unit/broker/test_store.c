/* test_store.c - the broker's SQLite store (broker/store.c): registry
 * (signing and encryption keys included), accepted messages with dedup,
 * per-recipient queues in seq order, acknowledgements, backlog, export, the
 * audit chain head, retention purge candidates and purges, and
 * subscriptions; and that all of it is still there after the store is
 * closed and reopened. Each test opens a fresh store in its own mkdtemp
 * directory. */
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

#include "tmpdir.h"

#include "fluxbus/envelope.h"
#include "store.h"

#define S_BAILLEUR "bailleur:552046955"
#define S_RESA "reservataire:action-logement"
#define S_RESA2 "reservataire:etat-74"
#define S_COMMUNE "commune:74010"
#define S_KEY_BAILLEUR "0123456789abcdef"
#define S_KEY_RESA "fedcba9876543210"

typedef struct {
    char dir[64];
    char path[128];
    store_t *store;
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    if (tmpdir_make(fx->dir, sizeof fx->dir, "store") != 0) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof fx->path, "%s/store.db", fx->dir);
    char err[256] = "";
    fx->store = store_open(fx->path, err, sizeof err);
    if (!fx->store) {
        fprintf(stderr, "store_open: %s\n", err);
        tmpdir_remove(fx->dir);
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *fx = *state;
    store_destroy(&fx->store);
    store_destroy(&fx->store); /* safe twice */
    tmpdir_remove(fx->dir);
    free(fx);
    return 0;
}

/* Closes and reopens the fixture's store. */
static void s_reopen(s_fixture_t *fx)
{
    store_destroy(&fx->store);
    assert_null(fx->store);
    char err[256] = "";
    fx->store = store_open(fx->path, err, sizeof err);
    if (!fx->store)
        fail_msg("reopen failed: %s", err);
}

/* Registers an actor whose transport key is `tag` repeated. */
static void s_add_actor(store_t *store, const char *id, const char *roles, const char *territories,
                        uint8_t tag)
{
    store_actor_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.roles, sizeof a.roles, "%s", roles);
    snprintf(a.territories, sizeof a.territories, "%s", territories);
    memset(a.transport_key, tag, sizeof a.transport_key);
    assert_int_equal(store_actor_add(store, &a, "test"), FB_OK);
}

static void s_add_key(store_t *store, const char *actor, const char *key_id, uint8_t tag)
{
    store_key_t k;
    memset(&k, 0, sizeof k);
    snprintf(k.actor, sizeof k.actor, "%s", actor);
    snprintf(k.key_id, sizeof k.key_id, "%s", key_id);
    memset(k.public_key, tag, sizeof k.public_key);
    k.valid_from_ms = 1000;
    assert_int_equal(store_key_add(store, &k, "test"), FB_OK);
}

/* A message whose id and envelope bytes are derived from n. */
typedef struct {
    uint8_t id[FB_MESSAGE_ID_BYTES];
    uint8_t envelope[24];
    uint8_t sha[32];
    store_message_t m;
} s_msg_t;

static void s_msg(s_msg_t *out, const char *sender, const char *key_id, uint8_t n)
{
    memset(out, 0, sizeof *out);
    memset(out->id, n, sizeof out->id);
    memset(out->envelope, 0xE0 ^ n, sizeof out->envelope);
    out->envelope[0] = n;
    fb_sha256(out->envelope, sizeof out->envelope, out->sha);
    out->m.sender = sender;
    out->m.message_id = out->id;
    out->m.sender_seq = n;
    out->m.type = 2;
    out->m.correlation_id = "vac-2026-0001";
    out->m.key_id = key_id;
    out->m.envelope = out->envelope;
    out->m.envelope_len = sizeof out->envelope;
    out->m.envelope_sha256 = out->sha;
    out->m.created_at_ms = 1767225600000 + n;
    out->m.accepted_at_ms = 1767225601000 + n;
}

/* Stores message n from sender and returns its seq. */
static uint64_t s_put(store_t *store, const char *sender, const char *key_id, uint8_t n)
{
    s_msg_t msg;
    s_msg(&msg, sender, key_id, n);
    uint64_t seq = 0;
    assert_int_equal(store_put(store, &msg.m, &seq), FB_OK);
    assert_true(seq > 0);
    return seq;
}

/* What store_pending_for handed out. */
typedef struct {
    size_t n;
    uint64_t seq[16];
    uint8_t first_byte[16];
    size_t len[16];
    char key_id[16][FB_KEY_ID_CHARS + 1];
} s_pending_t;

static void s_on_pending(void *ctx, uint64_t seq, const uint8_t *envelope, size_t len,
                         const char *key_id)
{
    s_pending_t *p = ctx;
    assert_true(p->n < 16);
    p->seq[p->n] = seq;
    p->first_byte[p->n] = len ? envelope[0] : 0;
    p->len[p->n] = len;
    snprintf(p->key_id[p->n], sizeof p->key_id[p->n], "%s", key_id ? key_id : "");
    p->n++;
}

static s_pending_t s_pending(store_t *store, const char *recipient, uint64_t after, size_t limit)
{
    s_pending_t p;
    memset(&p, 0, sizeof p);
    assert_int_equal(store_pending_for(store, recipient, after, limit, s_on_pending, &p), FB_OK);
    return p;
}

/* The example of use: register two actors, accept one message from the
 * bailleur for the réservataire, deliver it, get it acknowledged. */
static void test_store_accepts_queues_and_acks_a_message(void **state)
{
    s_fixture_t *fx = *state;
    store_t *store = fx->store;
    s_add_actor(store, S_BAILLEUR, "bailleur", "", 1);
    s_add_actor(store, S_RESA, "reservataire", "", 2);
    s_add_key(store, S_BAILLEUR, S_KEY_BAILLEUR, 0xB0);

    s_msg_t msg;
    s_msg(&msg, S_BAILLEUR, S_KEY_BAILLEUR, 7);
    uint64_t seq = 0;
    assert_int_equal(store_begin(store), FB_OK);
    assert_int_equal(store_put(store, &msg.m, &seq), FB_OK);
    assert_int_equal(store_enqueue(store, seq, S_RESA), FB_OK);
    assert_int_equal(store_commit(store), FB_OK);

    s_pending_t p = s_pending(store, S_RESA, 0, 10);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.seq[0], seq);
    assert_int_equal(p.len[0], sizeof msg.envelope);
    assert_int_equal(p.first_byte[0], 7);
    assert_string_equal(p.key_id[0], S_KEY_BAILLEUR);

    assert_int_equal(store_mark_acked(store, S_RESA, seq, 1767225602000), FB_OK);
    p = s_pending(store, S_RESA, 0, 10);
    assert_int_equal(p.n, 0);

    uint64_t count = 0;
    assert_int_equal(store_count(store, &count), FB_OK);
    assert_int_equal(count, 1);
}

static void test_store_reopen_keeps_everything(void **state)
{
    s_fixture_t *fx = *state;
    s_add_actor(fx->store, S_BAILLEUR, "bailleur", "", 1);
    s_add_actor(fx->store, S_COMMUNE, "commune", "74010,74011", 3);
    s_add_key(fx->store, S_BAILLEUR, S_KEY_BAILLEUR, 0xB0);
    assert_int_equal(store_mandate_add(fx->store, S_RESA, S_BAILLEUR, "test"), FB_OK);
    assert_int_equal(store_subscribe(fx->store, S_COMMUNE, "caleol/74010"), FB_OK);
    uint64_t seq = s_put(fx->store, S_BAILLEUR, S_KEY_BAILLEUR, 1);
    assert_int_equal(store_enqueue(fx->store, seq, S_COMMUNE), FB_OK);
    static const uint8_t receipt[] = {1, 2, 3};
    assert_int_equal(store_set_receipt(fx->store, seq, receipt, sizeof receipt), FB_OK);

    /* Reopening runs the schema check again: it must find version 1 and not
     * try to create the tables a second time. Twice, to be sure. */
    s_reopen(fx);
    s_reopen(fx);

    store_actor_t a;
    assert_int_equal(store_actor_get(fx->store, S_COMMUNE, &a), FB_OK);
    assert_string_equal(a.roles, "commune");
    assert_string_equal(a.territories, "74010,74011");
    store_key_t k;
    assert_int_equal(store_key_get(fx->store, S_KEY_BAILLEUR, &k), FB_OK);
    assert_string_equal(k.actor, S_BAILLEUR);
    assert_true(store_mandate_exists(fx->store, S_RESA, S_BAILLEUR));
    store_seen_t seen;
    s_msg_t msg;
    s_msg(&msg, S_BAILLEUR, S_KEY_BAILLEUR, 1);
    assert_int_equal(store_find(fx->store, S_BAILLEUR, msg.id, &seen), FB_OK);
    assert_int_equal(seen.seq, seq);
    uint8_t *got = NULL;
    size_t got_len = 0;
    assert_int_equal(store_get_receipt(fx->store, seq, &got, &got_len), FB_OK);
    assert_int_equal(got_len, sizeof receipt);
    assert_memory_equal(got, receipt, sizeof receipt);
    free(got);
    s_pending_t p = s_pending(fx->store, S_COMMUNE, 0, 10);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.seq[0], seq);

    /* New messages continue the sequence. */
    uint64_t next = s_put(fx->store, S_BAILLEUR, S_KEY_BAILLEUR, 2);
    assert_true(next > seq);
}

static void test_store_reopen_of_an_unreadable_file_fails_with_a_reason(void **state)
{
    s_fixture_t *fx = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/not-a-db", fx->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not an SQLite database, just some text long enough to be read\n", f);
    fclose(f);
    char err[256] = "";
    store_t *other = store_open(path, err, sizeof err);
    assert_null(other);
    assert_true(strlen(err) > 0);
}

static void test_store_find_matches_sender_and_id_only(void **state)
{
    s_fixture_t *fx = *state;
    s_add_actor(fx->store, S_BAILLEUR, "bailleur", "", 1);
    s_msg_t msg;
    s_msg(&msg, S_BAILLEUR, S_KEY_BAILLEUR, 5);
    uint64_t seq = 0;
    assert_int_equal(store_put(fx->store, &msg.m, &seq), FB_OK);

    store_seen_t seen;
    memset(&seen, 0, sizeof seen);
    assert_int_equal(store_find(fx->store, S_BAILLEUR, msg.id, &seen), FB_OK);
    assert_int_equal(seen.seq, seq);
    assert_memory_equal(seen.envelope_sha256, msg.sha, 32);
    assert_int_equal(seen.accepted_at_ms, msg.m.accepted_at_ms);

    /* Same id from another sender, another id from the same sender. */
    assert_int_equal(store_find(fx->store, S_RESA, msg.id, &seen), FB_ERR_NOT_FOUND);
    uint8_t other[FB_MESSAGE_ID_BYTES];
    memcpy(other, msg.id, sizeof other);
    other[15] ^= 1;
    assert_int_equal(store_find(fx->store, S_BAILLEUR, other, &seen), FB_ERR_NOT_FOUND);
}

static void test_store_put_refuses_same_sender_and_id_twice(void **state)
{
    s_fixture_t *fx = *state;
    s_msg_t msg;
    s_msg(&msg, S_BAILLEUR, S_KEY_BAILLEUR, 5);
    uint64_t seq = 0, again = 0;
    assert_int_equal(store_put(fx->store, &msg.m, &seq), FB_OK);
    /* Even with different bytes: the (sender, message_id) pair is unique. */
    msg.envelope[1] ^= 0xff;
    assert_int_equal(store_put(fx->store, &msg.m, &again), FB_ERR_EXISTS);
    uint64_t count = 0;
    assert_int_equal(store_count(fx->store, &count), FB_OK);
    assert_int_equal(count, 1);

    /* The same id from another sender is a different message. */
    msg.m.sender = S_RESA;
    assert_int_equal(store_put(fx->store, &msg.m, &again), FB_OK);
    assert_true(again > seq);
}

static void test_store_pending_is_in_seq_order_after_seq_and_limited(void **state)
{
    s_fixture_t *fx = *state;
    uint64_t seq[5];
    for (int i = 0; i < 5; i++)
        seq[i] = s_put(fx->store, S_BAILLEUR, S_KEY_BAILLEUR, (uint8_t)(10 + i));
    /* Queued out of order, and one message for someone else. */
    for (int i = 4; i >= 0; i--)
        assert_int_equal(store_enqueue(fx->store, seq[i], S_RESA), FB_OK);
    assert_int_equal(store_enqueue(fx->store, seq[2], S_RESA2), FB_OK);
    /* Enqueueing twice does not deliver twice. */
    assert_int_equal(store_enqueue(fx->store, seq[3], S_RESA), FB_OK);

    s_pending_t p = s_pending(fx->store, S_RESA, 0, 100);
    assert_int_equal(p.n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(p.seq[i], seq[i]);
        assert_int_equal(p.first_byte[i], 10 + i);
    }

    p = s_pending(fx->store, S_RESA, seq[1], 100);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.seq[0], seq[2]);
    assert_int_equal(p.seq[2], seq[4]);

    p = s_pending(fx->store, S_RESA, 0, 2);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.seq[0], seq[0]);
    assert_int_equal(p.seq[1], seq[1]);

    p = s_pending(fx->store, S_RESA, seq[1], 2);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.seq[0], seq[2]);
    assert_int_equal(p.seq[1], seq[3]);

    p = s_pending(fx->store, S_RESA, seq[4], 100);
    assert_int_equal(p.n, 0);

    /* Acked deliveries leave the queue; the others keep their order. */
    assert_int_equal(store_mark_acked(fx->store, S_RESA, seq[1], 5), FB_OK);
    p = s_pending(fx->store, S_RESA, 0, 100);
    assert_int_equal(p.n, 4);
    assert_int_equal(p.seq[0], seq[0]);
    assert_int_equal(p.seq[1], seq[2]);

    p = s_pending(fx->store, S_RESA2, 0, 100);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.seq[0], seq[2]);
    p = s_pending(fx->store, "nobody", 0, 100);
    assert_int_equal(p.n, 0);
}

static void test_store_mark_acked_twice_is_not_found(void **state)
{
    s_fixture_t *fx = *state;
    uint64_t seq = s_put(fx->store, S_BAILLEUR, S_KEY_BAILLEUR, 1);
    assert_int_equal(store_enqueue(fx->store, seq, S_RESA), FB_OK);
    assert_int_equal(store_enqueue(fx->store, seq, S_RESA2), FB_OK);
    assert_int_equal(store_mark_acked(fx->store, S_RESA, seq, 10), FB_OK);
    assert_int_equal(store_mark_acked(fx->store, S_RESA, seq, 11), FB_ERR_NOT_FOUND);
    /* Never queued for this recipient, or no such seq. */
    assert_int_equal(store_mark_acked(fx->store, S_COMMUNE, seq, 12), FB_ERR_NOT_FOUND);
    assert_int_equal(store_mark_acked(fx->store, S_RESA, seq + 100, 13), FB_ERR_NOT_FOUND);
    /* The other recipient's delivery is untouched. */
    assert_int_equal(store_mark_acked(fx->store, S_RESA2, seq, 14), FB_OK);
}

/* What the broker asks before committing (broker.c, acks.c): has the open
 * transaction changed anything? Reads and a write that matches no row do
 * not count; outside a transaction the answer is no. */
static void test_store_has_writes_only_after_a_change(void **state)
{
    s_fixture_t *fx = *state;
    uint64_t seq = s_put(fx->store, S_BAILLEUR, S_KEY_BAILLEUR, 1);
    assert_int_equal(store_enqueue(fx->store, seq, S_RESA), FB_OK);
    assert_false(store_has_writes(fx->store)); /* no transaction open */

    assert_int_equal(store_begin(fx->store), FB_OK);
    assert_false(store_has_writes(fx->store));
    uint8_t id[FB_MESSAGE_ID_BYTES];
    memset(id, 1, sizeof id); /* message 1's id (s_msg) */
    store_seen_t seen;
    assert_int_equal(store_find(fx->store, S_BAILLEUR, id, &seen), FB_OK);
    assert_int_equal(store_mark_acked(fx->store, S_COMMUNE, seq, 5), FB_ERR_NOT_FOUND);
    assert_false(store_has_writes(fx->store));
    assert_int_equal(store_mark_acked(fx->store, S_RESA, seq, 5), FB_OK);
    assert_true(store_has_writes(fx->store));
    assert_int_equal(store_commit(fx->store), FB_OK);
    assert_false(store_has_writes(fx->store));

    /* A new transaction starts clean. */
    assert_int_equal(store_begin(fx->store), FB_OK);
    assert_false(store_has_writes(fx->store));
    store_rollback(fx->store);
}

typedef struct {
    size_t n;
    char recipient[8][FB_ACTOR_MAX];
    uint64_t pending[8];
    uint64_t oldest[8];
} s_backlog_t;

static void s_on_backlog(void *ctx, const char *recipient, uint64_t pending, uint64_t oldest_seq)
{
    s_backlog_t *b = ctx;
    assert_true(b->n < 8);
    snprintf(b->recipient[b->n], FB_ACTOR_MAX, "%s", recipient);
    b->pending[b->n] = pending;
    b->oldest[b->n] = oldest_seq;
    b->n++;
}

static void test_store_backlog_counts_pending_per_recipient(void **state)
{
    s_fixture_t *fx = *state;
    uint64_t seq[3];
    for (int i = 0; i < 3; i++) {
        seq[i] = s_put(fx->store, S_BAILLEUR, S_KEY_BAILLEUR, (uint8_t)i);
        assert_int_equal(store_enqueue(fx->store, seq[i], S_RESA), FB_OK);
    }
    assert_int_equal(store_enqueue(fx->store, seq[2], S_RESA2), FB_OK);
    assert_int_equal(store_enqueue(fx->store, seq[0], S_COMMUNE), FB_OK);
    assert_int_equal(store_mark_acked(fx->store, S_COMMUNE, seq[0], 1), FB_OK);

    s_backlog_t b;
    memset(&b, 0, sizeof b);
    assert_int_equal(store_backlog(fx->store, s_on_backlog, &b), FB_OK);
    /* Ordered by recipient; fully acked recipients do not appear. */
    assert_int_equal(b.n, 2);
    assert_string_equal(b.recipient[0], S_RESA);
    assert_int_equal(b.pending[0], 3);
    assert_int_equal(b.oldest[0], seq[0]);
    assert_string_equal(b.recipient[1], S_RESA2);
    assert_int_equal(b.pending[1], 1);
    assert_int_equal(b.oldest[1], seq[2]);

    assert_int_equal(store_mark_acked(fx->store, S_RESA, seq[0], 2), FB_OK);
    memset(&b, 0, sizeof b);
    assert_int_equal(store_backlog(fx->store, s_on_backlog, &b), FB_OK);
    assert_int_equal(b.pending[0], 2);
    assert_int_equal(b.oldest[0], seq[1]);
}

/* A sender's backlog: its deliveries not yet acked, not counting recipients
 * revoked since (they will receive nothing more). */
static void test_store_sender_backlog_skips_acked_and_revoked(void **state)
{
    s_fixture_t *fx = *state;
    s_add_actor(fx->store, S_RESA, "reservataire", "", 1);
    s_add_actor(fx->store, S_RESA2, "reservataire", "", 2);
    uint64_t seq[3];
    for (int i = 0; i < 3; i++) {
        seq[i] = s_put(fx->store, S_BAILLEUR, S_KEY_BAILLEUR, (uint8_t)i);
        assert_int_equal(store_enqueue(fx->store, seq[i], S_RESA), FB_OK);
        assert_int_equal(store_enqueue(fx->store, seq[i], S_RESA2), FB_OK);
    }
    uint64_t n = 99;
    assert_int_equal(store_sender_backlog(fx->store, S_BAILLEUR, &n), FB_OK);
    assert_int_equal(n, 6);
    assert_int_equal(store_mark_acked(fx->store, S_RESA, seq[0], 1), FB_OK);
    assert_int_equal(store_sender_backlog(fx->store, S_BAILLEUR, &n), FB_OK);
    assert_int_equal(n, 5);
    assert_int_equal(store_actor_revoke(fx->store, S_RESA2, 2, "test"), FB_OK);
    assert_int_equal(store_sender_backlog(fx->store, S_BAILLEUR, &n), FB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_sender_backlog(fx->store, S_RESA, &n), FB_OK);
    assert_int_equal(n, 0);
}

/* Rotation: the new key is added and the others end at the overlap, unless
 * they already end sooner or are revoked. */
static void test_store_key_rotate_ends_other_keys_at_the_overlap(void **state)
{
    s_fixture_t *fx = *state;
    s_add_actor(fx->store, S_BAILLEUR, "bailleur", "", 1);
    s_add_key(fx->store, S_BAILLEUR, "1111111111111111", 0x11);
    s_add_key(fx->store, S_BAILLEUR, "2222222222222222", 0x22);
    s_add_key(fx->store, S_BAILLEUR, "3333333333333333", 0x33);
    assert_int_equal(store_key_revoke(fx->store, "3333333333333333", 1500, "test"), FB_OK);
    s_add_actor(fx->store, S_RESA, "reservataire", "", 2);
    s_add_key(fx->store, S_RESA, S_KEY_RESA, 0x44);
    store_key_t k;
    assert_int_equal(store_key_get(fx->store, "2222222222222222", &k), FB_OK);
    k.valid_until_ms = 4000; /* ends before the overlap would */
    snprintf(k.key_id, sizeof k.key_id, "2222222222222223");
    assert_int_equal(store_key_add(fx->store, &k, "test"), FB_OK);

    store_key_t next = {.valid_from_ms = 2000};
    snprintf(next.actor, sizeof next.actor, S_BAILLEUR);
    snprintf(next.key_id, sizeof next.key_id, "9999999999999999");
    assert_int_equal(store_key_rotate(fx->store, &next, 5000, "test"), FB_OK);

    const struct {
        const char *key_id;
        int64_t until;
    } want[] = {{"1111111111111111", 5000}, {"2222222222222222", 5000}, {"2222222222222223", 4000},
                {"3333333333333333", 0},    {"9999999999999999", 0},    {S_KEY_RESA, 0}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(store_key_get(fx->store, want[i].key_id, &k), FB_OK);
        if (k.valid_until_ms != want[i].until)
            fail_msg("%s: valid_until %lld, want %lld", want[i].key_id, (long long)k.valid_until_ms,
                     (long long)want[i].until);
    }
    /* A key id already taken: nothing changes. */
    assert_int_equal(store_key_rotate(fx->store, &next, 9000, "test"), FB_ERR_EXISTS);
    assert_int_equal(store_key_get(fx->store, "1111111111111111", &k), FB_OK);
    assert_int_equal(k.valid_until_ms, 5000);
}

static void test_store_actor_revoke_marks_the_actor_once(void **state)
{
    s_fixture_t *fx = *state;
    s_add_actor(fx->store, S_RESA, "reservataire", "", 2);
    store_actor_t a;
    assert_int_equal(store_actor_get(fx->store, S_RESA, &a), FB_OK);
    assert_int_equal(a.revoked_at_ms, 0);
    assert_true(a.created_at_ms > 0);

    assert_int_equal(store_actor_revoke(fx->store, S_RESA, 1767225600000, "test"), FB_OK);
    assert_int_equal(store_actor_get(fx->store, S_RESA, &a), FB_OK);
    assert_int_equal(a.revoked_at_ms, 1767225600000);
    /* Revoking again keeps the first date and says there was nothing to do. */
    assert_int_equal(store_actor_revoke(fx->store, S_RESA, 1767225700000, "test"),
                     FB_ERR_NOT_FOUND);
    assert_int_equal(store_actor_get(fx->store, S_RESA, &a), FB_OK);
    assert_int_equal(a.revoked_at_ms, 1767225600000);
    assert_int_equal(store_actor_revoke(fx->store, "nobody", 1, "test"), FB_ERR_NOT_FOUND);
    assert_int_equal(store_actor_get(fx->store, "nobody", &a), FB_ERR_NOT_FOUND);
}

static void test_store_actor_add_refuses_duplicate_id_or_transport_key(void **state)
{
    s_fixture_t *fx = *state;
    s_add_actor(fx->store, S_RESA, "reservataire", "", 2);
    store_actor_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "%s", S_RESA);
    snprintf(a.roles, sizeof a.roles, "bailleur");
    memset(a.transport_key, 9, sizeof a.transport_key);
    assert_int_equal(store_actor_add(fx->store, &a, "test"), FB_ERR_EXISTS);
    snprintf(a.id, sizeof a.id, "%s", S_RESA2);
    memset(a.transport_key, 2, sizeof a.transport_key); /* S_RESA's key */
    assert_int_equal(store_actor_add(fx->store, &a, "test"), FB_ERR_EXISTS);
    assert_int_equal(store_actor_get(fx->store, S_RESA2, &a), FB_ERR_NOT_FOUND);
}

static void test_store_finds_actor_by_transport_key(void **state)
{
    s_fixture_t *fx = *state;
    s_add_actor(fx->store, S_BAILLEUR, "bailleur", "", 1);
    s_add_actor(fx->store, S_COMMUNE, "commune,observer", "74010", 3);
    uint8_t key[FB_CURVE_KEY_BYTES];
    memset(key, 3, sizeof key);
    store_actor_t a;
    assert_int_equal(store_actor_by_transport_key(fx->store, key, &a), FB_OK);
    assert_string_equal(a.id, S_COMMUNE);
    assert_string_equal(a.roles, "commune,observer");
    assert_string_equal(a.territories, "74010");
    assert_memory_equal(a.transport_key, key, sizeof key);
    memset(key, 4, sizeof key);
    assert_int_equal(store_actor_by_transport_key(fx->store, key, &a), FB_ERR_NOT_FOUND);
}

static void test_store_keys_are_looked_up_and_revoked(void **state)
{
    s_fixture_t *fx = *state;
    s_add_actor(fx->store, S_BAILLEUR, "bailleur", "", 1);
    s_add_key(fx->store, S_BAILLEUR, S_KEY_BAILLEUR, 0xB0);
    store_key_t k;
    assert_int_equal(store_key_get(fx->store, S_KEY_BAILLEUR, &k), FB_OK);
    assert_string_equal(k.actor, S_BAILLEUR);
    assert_string_equal(k.key_id, S_KEY_BAILLEUR);
    assert_int_equal(k.public_key[0], 0xB0);
    assert_int_equal(k.valid_from_ms, 1000);
    assert_int_equal(k.revoked_at_ms, 0);
    assert_int_equal(store_key_get(fx->store, S_KEY_RESA, &k), FB_ERR_NOT_FOUND);
    assert_int_equal(store_key_revoke(fx->store, S_KEY_BAILLEUR, 5000, "test"), FB_OK);
    assert_int_equal(store_key_get(fx->store, S_KEY_BAILLEUR, &k), FB_OK);
    assert_int_equal(k.revoked_at_ms, 5000);
    assert_int_equal(store_key_revoke(fx->store, S_KEY_BAILLEUR, 6000, "test"), FB_ERR_NOT_FOUND);
}

static void s_add_enc_key(store_t *store, const char *actor, const char *key_id, uint8_t tag,
                          int64_t valid_from_ms, int64_t valid_until_ms)
{
    store_key_t k;
    memset(&k, 0, sizeof k);
    snprintf(k.actor, sizeof k.actor, "%s", actor);
    snprintf(k.key_id, sizeof k.key_id, "%s", key_id);
    memset(k.public_key, tag, sizeof k.public_key);
    k.valid_from_ms = valid_from_ms;
    k.valid_until_ms = valid_until_ms;
    assert_int_equal(store_enc_key_add(store, &k, "test"), FB_OK);
}

/* Rows of registry_log with `action` (read beside the store, as an auditor would). */
static int s_log_rows(const char *path, const char *action)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM registry_log WHERE action = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, action, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

typedef struct {
    size_t n;
    char key_id[4][FB_KEY_ID_CHARS + 1];
} s_key_list_t;

static void s_on_key(void *ctx, const store_key_t *k)
{
    s_key_list_t *l = ctx;
    assert_true(l->n < 4);
    snprintf(l->key_id[l->n++], FB_KEY_ID_CHARS + 1, "%s", k->key_id);
}

static void test_store_encryption_keys_are_kept_apart_and_logged(void **state)
{
    s_fixture_t *fx = *state;
    s_add_actor(fx->store, S_BAILLEUR, "bailleur", "", 1);
    s_add_key(fx->store, S_BAILLEUR, S_KEY_BAILLEUR, 0xB0);
    s_add_enc_key(fx->store, S_BAILLEUR, S_KEY_RESA, 0xE0, 1000, 0);
    store_key_t k;
    assert_int_equal(store_enc_key_get(fx->store, S_KEY_RESA, &k), FB_OK);
    assert_string_equal(k.actor, S_BAILLEUR);
    assert_int_equal(k.public_key[31], 0xE0);
    /* An encryption key is no signing key, and the other way round. */
    assert_int_equal(store_key_get(fx->store, S_KEY_RESA, &k), FB_ERR_NOT_FOUND);
    assert_int_equal(store_enc_key_get(fx->store, S_KEY_BAILLEUR, &k), FB_ERR_NOT_FOUND);
    assert_int_equal(store_key_revoke(fx->store, S_KEY_RESA, 5000, "test"), FB_ERR_NOT_FOUND);

    s_key_list_t l = {0};
    assert_int_equal(store_enc_key_each(fx->store, S_BAILLEUR, s_on_key, &l), FB_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.key_id[0], S_KEY_RESA);

    assert_int_equal(store_enc_key_revoke(fx->store, S_KEY_RESA, 5000, "test"), FB_OK);
    assert_int_equal(store_enc_key_get(fx->store, S_KEY_RESA, &k), FB_OK);
    assert_int_equal(k.revoked_at_ms, 5000);
    assert_int_equal(store_enc_key_revoke(fx->store, S_KEY_RESA, 6000, "test"), FB_ERR_NOT_FOUND);
    /* The same id twice is refused. */
    store_key_t dup = k;
    assert_int_equal(store_enc_key_add(fx->store, &dup, "test"), FB_ERR_EXISTS);

    /* Each change is in registry_log, and survives a reopen. */
    s_reopen(fx);
    assert_int_equal(store_enc_key_get(fx->store, S_KEY_RESA, &k), FB_OK);
    assert_int_equal(s_log_rows(fx->path, "enc_key.add"), 1);
    assert_int_equal(s_log_rows(fx->path, "enc_key.revoke"), 1);
    assert_int_equal(s_log_rows(fx->path, "key.add"), 1);
}

static void test_store_current_encryption_key_is_the_latest_valid_one(void **state)
{
    s_fixture_t *fx = *state;
    s_add_actor(fx->store, S_BAILLEUR, "bailleur", "", 1);
    s_add_actor(fx->store, S_RESA, "reservataire", "", 2);
    s_add_enc_key(fx->store, S_BAILLEUR, "aaaaaaaaaaaaaaa1", 0xA1, 1000, 0);
    s_add_enc_key(fx->store, S_BAILLEUR, "aaaaaaaaaaaaaaa2", 0xA2, 2000, 0);
    s_add_enc_key(fx->store, S_BAILLEUR, "aaaaaaaaaaaaaaa3", 0xA3, 9000, 0);    /* future */
    s_add_enc_key(fx->store, S_BAILLEUR, "aaaaaaaaaaaaaaa4", 0xA4, 2500, 3000); /* expires */
    store_key_t k;
    assert_int_equal(store_enc_key_current(fx->store, S_BAILLEUR, 1500, &k), FB_OK);
    assert_string_equal(k.key_id, "aaaaaaaaaaaaaaa1");
    assert_int_equal(store_enc_key_current(fx->store, S_BAILLEUR, 2700, &k), FB_OK);
    assert_string_equal(k.key_id, "aaaaaaaaaaaaaaa4");
    assert_int_equal(store_enc_key_current(fx->store, S_BAILLEUR, 5000, &k), FB_OK);
    assert_string_equal(k.key_id, "aaaaaaaaaaaaaaa2");
    assert_int_equal(store_enc_key_current(fx->store, S_BAILLEUR, 9000, &k), FB_OK);
    assert_string_equal(k.key_id, "aaaaaaaaaaaaaaa3");

    /* Revoked from 4000 on: still current before, the older key after. */
    assert_int_equal(store_enc_key_revoke(fx->store, "aaaaaaaaaaaaaaa2", 4000, "test"), FB_OK);
    assert_int_equal(store_enc_key_current(fx->store, S_BAILLEUR, 3999, &k), FB_OK);
    assert_string_equal(k.key_id, "aaaaaaaaaaaaaaa2");
    assert_int_equal(store_enc_key_current(fx->store, S_BAILLEUR, 5000, &k), FB_OK);
    assert_string_equal(k.key_id, "aaaaaaaaaaaaaaa1");
    assert_int_equal(store_enc_key_current(fx->store, S_BAILLEUR, 500, &k), FB_ERR_NOT_FOUND);
    assert_int_equal(store_enc_key_current(fx->store, S_RESA, 5000, &k), FB_ERR_NOT_FOUND);
}

static void test_store_key_valid_at_bounds(void **state)
{
    (void)state;
    store_key_t k = {.valid_from_ms = 1000, .valid_until_ms = 2000};
    assert_false(store_key_valid_at(&k, 999));
    assert_true(store_key_valid_at(&k, 1000));
    assert_true(store_key_valid_at(&k, 2000));
    assert_false(store_key_valid_at(&k, 2001));
    k.valid_until_ms = 0; /* no end */
    assert_true(store_key_valid_at(&k, 1000000));
    k.revoked_at_ms = 1500;
    assert_true(store_key_valid_at(&k, 1499));
    assert_false(store_key_valid_at(&k, 1500));
}

typedef struct {
    size_t n;
    uint64_t seq[8];
    char sender[8][FB_ACTOR_MAX];
    uint8_t first_byte[8];
    size_t receipt_len[8];
    int has_key[8];
    store_key_t key[8];
} s_export_t;

static bool s_on_export(void *ctx, const store_record_t *r)
{
    s_export_t *x = ctx;
    assert_true(x->n < 8);
    x->seq[x->n] = r->seq;
    snprintf(x->sender[x->n], FB_ACTOR_MAX, "%s", r->sender);
    x->first_byte[x->n] = r->envelope_len ? r->envelope[0] : 0;
    x->receipt_len[x->n] = r->receipt_len;
    x->has_key[x->n] = r->sender_key != NULL;
    if (r->sender_key)
        x->key[x->n] = *r->sender_key;
    x->n++;
    return true;
}

static void test_store_export_yields_every_message_with_its_key(void **state)
{
    s_fixture_t *fx = *state;
    s_add_actor(fx->store, S_BAILLEUR, "bailleur", "", 1);
    s_add_actor(fx->store, S_RESA, "reservataire", "", 2);
    s_add_key(fx->store, S_BAILLEUR, S_KEY_BAILLEUR, 0xB0);
    s_add_key(fx->store, S_RESA, S_KEY_RESA, 0xA0);
    uint64_t a = s_put(fx->store, S_BAILLEUR, S_KEY_BAILLEUR, 1);
    uint64_t b = s_put(fx->store, S_RESA, S_KEY_RESA, 2);
    uint64_t c = s_put(fx->store, S_BAILLEUR, "0000000000000000", 3); /* key unknown */
    static const uint8_t receipt[] = {9, 9};
    assert_int_equal(store_set_receipt(fx->store, b, receipt, sizeof receipt), FB_OK);

    s_export_t x;
    memset(&x, 0, sizeof x);
    assert_int_equal(store_export(fx->store, s_on_export, &x), FB_OK);
    assert_int_equal(x.n, 3);
    assert_int_equal(x.seq[0], a);
    assert_int_equal(x.seq[1], b);
    assert_int_equal(x.seq[2], c);
    assert_string_equal(x.sender[0], S_BAILLEUR);
    assert_string_equal(x.sender[1], S_RESA);
    assert_int_equal(x.first_byte[0], 1);
    assert_int_equal(x.first_byte[1], 2);
    assert_int_equal(x.receipt_len[0], 0);
    assert_int_equal(x.receipt_len[1], sizeof receipt);
    assert_true(x.has_key[0]);
    assert_string_equal(x.key[0].key_id, S_KEY_BAILLEUR);
    assert_string_equal(x.key[0].actor, S_BAILLEUR);
    assert_int_equal(x.key[0].public_key[0], 0xB0);
    assert_true(x.has_key[1]);
    assert_string_equal(x.key[1].key_id, S_KEY_RESA);
    assert_int_equal(x.key[1].public_key[31], 0xA0);
    assert_false(x.has_key[2]);
}

/* Candidates copied by s_on_candidate. */
typedef struct {
    store_purge_candidate_t *c;
    size_t *n;
} s_candidates_t;

static void s_on_candidate(void *ctx, const store_purge_candidate_t *c)
{
    s_candidates_t *x = ctx;
    assert_true(*x->n < 8);
    x->c[*x->n] = *c;
    x->c[*x->n].envelope = NULL; /* valid during the call only */
    x->c[*x->n].correlation_id = NULL;
    (*x->n)++;
}

/* A message n of `type` about vacancy `vacancy`, accepted at `at_ms`. */
static uint64_t s_put_about(store_t *store, uint8_t n, int type, const char *vacancy, int64_t at_ms)
{
    s_msg_t msg;
    s_msg(&msg, S_BAILLEUR, S_KEY_BAILLEUR, n);
    msg.m.type = type;
    msg.m.correlation_id = vacancy;
    msg.m.accepted_at_ms = at_ms;
    uint64_t seq = 0;
    assert_int_equal(store_put(store, &msg.m, &seq), FB_OK);
    return seq;
}

static bool s_on_record(void *ctx, const store_record_t *r)
{
    store_record_t *out = ctx;
    if (r->seq != out->seq)
        return true;
    static uint8_t envelope[64], link[FB_DIGEST_BYTES];
    assert_true(r->envelope_len <= sizeof envelope);
    memcpy(envelope, r->envelope, r->envelope_len);
    memset(link, 0, sizeof link);
    if (r->chain_link)
        memcpy(link, r->chain_link, r->chain_link_len);
    *out = *r;
    out->envelope = envelope;
    out->chain_link = r->chain_link ? link : NULL;
    out->sender = out->key_id = NULL;
    out->envelope_sha256 = out->receipt = NULL;
    out->sender_key = NULL;
    return false; /* found: stop the walk */
}

/* The record of message seq as store_export yields it (blobs copied). */
static store_record_t s_record(store_t *store, uint64_t seq)
{
    store_record_t r = {.seq = seq};
    assert_int_equal(store_export(store, s_on_record, &r), FB_OK);
    assert_int_equal(r.seq, seq);
    return r;
}

/* The head is the link of the last message: zeros for an empty store, and
 * a last message without a link is a damaged chain. */
static void test_store_chain_head_is_the_link_of_the_last_message(void **state)
{
    s_fixture_t *fx = *state;
    uint8_t head[FB_DIGEST_BYTES], zero[FB_DIGEST_BYTES] = {0}, link[FB_DIGEST_BYTES];
    uint64_t seq = 99;
    memset(head, 0xAA, sizeof head);
    assert_int_equal(store_chain_head(fx->store, head, &seq), FB_OK);
    assert_int_equal(seq, 0);
    assert_memory_equal(head, zero, sizeof head);

    uint64_t a = s_put(fx->store, S_BAILLEUR, S_KEY_BAILLEUR, 1);
    uint64_t b = s_put(fx->store, S_BAILLEUR, S_KEY_BAILLEUR, 2);
    memset(link, 0xA1, sizeof link);
    assert_int_equal(store_set_chain_link(fx->store, a, link), FB_OK);
    assert_int_equal(store_chain_head(fx->store, head, &seq), FB_ERR_MALFORMED);
    assert_int_equal(seq, b);
    memset(link, 0xB2, sizeof link);
    assert_int_equal(store_set_chain_link(fx->store, b, link), FB_OK);
    s_reopen(fx);
    assert_int_equal(store_chain_head(fx->store, head, &seq), FB_OK);
    assert_int_equal(seq, b);
    assert_memory_equal(head, link, sizeof head);
    assert_int_equal(store_set_chain_link(fx->store, b + 1, link), FB_ERR_NOT_FOUND);

    store_record_t r = s_record(fx->store, a);
    assert_int_equal(r.chain_link_len, FB_DIGEST_BYTES);
    assert_int_equal(r.chain_link[0], 0xA1);
    assert_int_equal(r.purged_at_ms, 0);

    /* The broker's path writes receipt and link at once. */
    uint64_t c = s_put(fx->store, S_BAILLEUR, S_KEY_BAILLEUR, 3);
    const uint8_t receipt[] = {0x0A, 0x01, 0x02};
    memset(link, 0xC3, sizeof link);
    assert_int_equal(store_set_receipt_and_link(fx->store, c, receipt, sizeof receipt, link),
                     FB_OK);
    assert_int_equal(store_chain_head(fx->store, head, &seq), FB_OK);
    assert_int_equal(seq, c);
    assert_memory_equal(head, link, sizeof head);
    uint8_t *got = NULL;
    size_t got_len = 0;
    assert_int_equal(store_get_receipt(fx->store, c, &got, &got_len), FB_OK);
    assert_int_equal(got_len, sizeof receipt);
    assert_memory_equal(got, receipt, sizeof receipt);
    free(got);
    assert_int_equal(store_set_receipt_and_link(fx->store, c + 1, receipt, sizeof receipt, link),
                     FB_ERR_NOT_FOUND);
}

/* What closes a vacancy is the first closing message stored at or after a
 * message, accepted before the cutoff and sent by one of its recipients;
 * the count of pending deliveries to active recipients comes with each
 * candidate. */
static void test_store_purge_candidates_are_messages_of_vacancies_closed_before(void **state)
{
    s_fixture_t *fx = *state;
    enum { DESIGNATION = 5, BAIL_SIGNE = 13 };
    uint64_t d1 = s_put_about(fx->store, 1, DESIGNATION, "vac-a", 1000);
    s_put_about(fx->store, 2, DESIGNATION, "vac-b", 1100); /* never closed */
    uint64_t bail = s_put_about(fx->store, 3, BAIL_SIGNE, "vac-a", 2000);
    uint64_t d3 = s_put_about(fx->store, 4, DESIGNATION, "vac-a", 2100); /* after the lease */
    uint64_t bail2 = s_put_about(fx->store, 5, BAIL_SIGNE, "vac-a", 5000);
    s_put_about(fx->store, 6, DESIGNATION, "", 1200); /* no vacancy: never */
    s_add_actor(fx->store, S_RESA, "reservataire", "", 1);
    s_add_actor(fx->store, S_RESA2, "reservataire", "", 2);
    s_add_actor(fx->store, S_BAILLEUR, "bailleur", "", 3);
    assert_int_equal(store_enqueue(fx->store, d1, S_RESA), FB_OK);
    assert_int_equal(store_enqueue(fx->store, d1, S_RESA2), FB_OK);
    assert_int_equal(store_mark_acked(fx->store, S_RESA2, d1, 1500), FB_OK);
    /* The leases are the bailleur's: they close what was addressed to it. */
    uint64_t to_bailleur[] = {d1, d3};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(store_enqueue(fx->store, to_bailleur[i], S_BAILLEUR), FB_OK);
        assert_int_equal(store_mark_acked(fx->store, S_BAILLEUR, to_bailleur[i], 2500), FB_OK);
    }

    store_purge_candidate_t c[8];
    size_t n = 0;
    /* Closed at 2000: not before 2000. */
    assert_int_equal(store_purge_candidates(fx->store, BAIL_SIGNE, 2000, 0, 10, s_on_candidate,
                                            &(s_candidates_t){c, &n}),
                     FB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_purge_candidates(fx->store, BAIL_SIGNE, 2001, 0, 10, s_on_candidate,
                                            &(s_candidates_t){c, &n}),
                     FB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].seq, d1);
    assert_int_equal(c[0].closed_at_ms, 2000);
    assert_int_equal(c[0].unacked, 1);
    assert_int_equal(c[0].type, DESIGNATION);
    /* A revoked recipient will never ack: it does not hold the purge back. */
    assert_int_equal(store_actor_revoke(fx->store, S_RESA, 1800, "test"), FB_OK);
    n = 0;
    assert_int_equal(store_purge_candidates(fx->store, BAIL_SIGNE, 2001, 0, 10, s_on_candidate,
                                            &(s_candidates_t){c, &n}),
                     FB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].unacked, 0);

    /* Later, the second lease closes the message stored after the first. */
    n = 0;
    assert_int_equal(store_purge_candidates(fx->store, BAIL_SIGNE, 6000, 0, 10, s_on_candidate,
                                            &(s_candidates_t){c, &n}),
                     FB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(c[0].closed_at_ms, 2000); /* the earliest closing counts */
    assert_int_equal(c[1].seq, d3);
    assert_int_equal(c[1].closed_at_ms, 5000);
    /* after_seq and limit page through them. */
    n = 0;
    assert_int_equal(store_purge_candidates(fx->store, BAIL_SIGNE, 6000, d1, 1, s_on_candidate,
                                            &(s_candidates_t){c, &n}),
                     FB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].seq, d3);
    (void)bail;
    (void)bail2;
}

/* A purge replaces the envelope once, only when every delivery is acked,
 * keeps the SHA-256 the dedup relies on, and leaves the candidates. */
static void test_store_purge_envelope_replaces_an_acked_message_once(void **state)
{
    s_fixture_t *fx = *state;
    uint64_t d1 = s_put_about(fx->store, 1, 5, "vac-a", 1000);
    s_put_about(fx->store, 2, 13, "vac-a", 2000);
    s_add_actor(fx->store, S_RESA, "reservataire", "", 1);
    assert_int_equal(store_enqueue(fx->store, d1, S_RESA), FB_OK);
    static const uint8_t skeleton[] = {0x5C, 0x5C, 0x5C};
    store_purge_t p = {
        .seq = d1,
        .skeleton = skeleton,
        .skeleton_len = sizeof skeleton,
        .at_ms = 9000,
        .by = "test",
        .vacancy = "vac-a",
        .type = 5,
        .closed_at_ms = 2000,
        .detail = "attachments=1",
    };
    assert_int_equal(store_begin(fx->store), FB_OK);
    assert_int_equal(store_purge_envelope(fx->store, &p), FB_ERR_NOT_FOUND); /* pending */
    assert_int_equal(store_commit(fx->store), FB_OK);
    assert_int_equal(store_mark_acked(fx->store, S_RESA, d1, 3000), FB_OK);
    assert_int_equal(store_begin(fx->store), FB_OK);
    assert_int_equal(store_purge_envelope(fx->store, &p), FB_OK);
    assert_int_equal(store_purge_envelope(fx->store, &p), FB_ERR_NOT_FOUND); /* once */
    assert_int_equal(store_commit(fx->store), FB_OK);

    store_record_t r = s_record(fx->store, d1);
    assert_int_equal(r.envelope_len, sizeof skeleton);
    assert_memory_equal(r.envelope, skeleton, sizeof skeleton);
    assert_int_equal(r.purged_at_ms, 9000);
    s_msg_t msg;
    s_msg(&msg, S_BAILLEUR, S_KEY_BAILLEUR, 1);
    store_seen_t seen;
    assert_int_equal(store_find(fx->store, S_BAILLEUR, msg.id, &seen), FB_OK);
    assert_memory_equal(seen.envelope_sha256, msg.sha, 32);

    size_t n = 0;
    store_purge_candidate_t c[4];
    assert_int_equal(store_purge_candidates(fx->store, 13, 10000, 0, 10, s_on_candidate,
                                            &(s_candidates_t){c, &n}),
                     FB_OK);
    assert_int_equal(n, 0); /* the purged message is no longer a candidate */
    bool complete = false;
    assert_int_equal(store_checkpoint(fx->store, &complete), FB_OK);
    assert_true(complete);
}

static void test_store_mandate_is_directed(void **state)
{
    s_fixture_t *fx = *state;
    assert_false(store_mandate_exists(fx->store, S_RESA, S_BAILLEUR));
    assert_int_equal(store_mandate_add(fx->store, S_RESA, S_BAILLEUR, "test"), FB_OK);
    assert_true(store_mandate_exists(fx->store, S_RESA, S_BAILLEUR));
    assert_false(store_mandate_exists(fx->store, S_BAILLEUR, S_RESA));
    assert_false(store_mandate_exists(fx->store, S_RESA2, S_BAILLEUR));
    assert_int_equal(store_mandate_add(fx->store, S_RESA, S_BAILLEUR, "test"), FB_ERR_EXISTS);
}

typedef struct {
    size_t n;
    char actor[8][FB_ACTOR_MAX];
} s_subs_t;

static void s_on_subscriber(void *ctx, const char *actor)
{
    s_subs_t *s = ctx;
    assert_true(s->n < 8);
    snprintf(s->actor[s->n++], FB_ACTOR_MAX, "%s", actor);
}

static void test_store_subscribers_exclude_revoked_actors(void **state)
{
    s_fixture_t *fx = *state;
    s_add_actor(fx->store, "commune:74010", "commune", "74010", 1);
    s_add_actor(fx->store, "observer:dreal", "observer", "74010", 2);
    s_add_actor(fx->store, "commune:74011", "commune", "74011", 3);
    assert_int_equal(store_subscribe(fx->store, "commune:74010", "caleol/74010"), FB_OK);
    assert_int_equal(store_subscribe(fx->store, "commune:74010", "caleol/74010"), FB_OK);
    assert_int_equal(store_subscribe(fx->store, "observer:dreal", "caleol/74010"), FB_OK);
    assert_int_equal(store_subscribe(fx->store, "commune:74011", "caleol/74011"), FB_OK);

    s_subs_t s;
    memset(&s, 0, sizeof s);
    assert_int_equal(store_subscribers(fx->store, "caleol/74010", s_on_subscriber, &s), FB_OK);
    assert_int_equal(s.n, 2); /* subscribing twice is one subscription */
    assert_string_equal(s.actor[0], "commune:74010");
    assert_string_equal(s.actor[1], "observer:dreal");

    assert_int_equal(store_actor_revoke(fx->store, "observer:dreal", 1, "test"), FB_OK);
    memset(&s, 0, sizeof s);
    assert_int_equal(store_subscribers(fx->store, "caleol/74010", s_on_subscriber, &s), FB_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.actor[0], "commune:74010");

    memset(&s, 0, sizeof s);
    assert_int_equal(store_subscribers(fx->store, "logements/74010", s_on_subscriber, &s), FB_OK);
    assert_int_equal(s.n, 0);
}

static void test_store_list_has_matches_whole_items(void **state)
{
    assert_true(store_list_has("commune,reservataire", "commune"));
    assert_true(store_list_has("commune,reservataire", "reservataire"));
    assert_true(store_list_has("bailleur", "bailleur"));
    assert_false(store_list_has("commune,reservataire", "comm"));
    assert_false(store_list_has("commune,reservataire", "une"));
    assert_false(store_list_has("commune,reservataire", "commune,reservataire,x"));
    assert_false(store_list_has("74010,74011", "7401"));
    assert_false(store_list_has("74010,74011", "740101"));
    assert_false(store_list_has("", "commune"));
    assert_false(store_list_has(NULL, "commune"));
    assert_false(store_list_has("commune", ""));
}

#define S_TEST(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        S_TEST(test_store_accepts_queues_and_acks_a_message),
        S_TEST(test_store_reopen_keeps_everything),
        S_TEST(test_store_reopen_of_an_unreadable_file_fails_with_a_reason),
        S_TEST(test_store_find_matches_sender_and_id_only),
        S_TEST(test_store_put_refuses_same_sender_and_id_twice),
        S_TEST(test_store_pending_is_in_seq_order_after_seq_and_limited),
        S_TEST(test_store_mark_acked_twice_is_not_found),
        S_TEST(test_store_has_writes_only_after_a_change),
        S_TEST(test_store_backlog_counts_pending_per_recipient),
        S_TEST(test_store_sender_backlog_skips_acked_and_revoked),
        S_TEST(test_store_key_rotate_ends_other_keys_at_the_overlap),
        S_TEST(test_store_actor_revoke_marks_the_actor_once),
        S_TEST(test_store_actor_add_refuses_duplicate_id_or_transport_key),
        S_TEST(test_store_finds_actor_by_transport_key),
        S_TEST(test_store_keys_are_looked_up_and_revoked),
        S_TEST(test_store_encryption_keys_are_kept_apart_and_logged),
        S_TEST(test_store_current_encryption_key_is_the_latest_valid_one),
        S_TEST(test_store_key_valid_at_bounds),
        S_TEST(test_store_export_yields_every_message_with_its_key),
        S_TEST(test_store_chain_head_is_the_link_of_the_last_message),
        S_TEST(test_store_purge_candidates_are_messages_of_vacancies_closed_before),
        S_TEST(test_store_purge_envelope_replaces_an_acked_message_once),
        S_TEST(test_store_mandate_is_directed),
        S_TEST(test_store_subscribers_exclude_revoked_actors),
        S_TEST(test_store_list_has_matches_whole_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
