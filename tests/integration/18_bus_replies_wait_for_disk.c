/* 18_bus_replies_wait_for_disk - the broker's commits do not wait for the
 * disk on its loop thread (walsync.c): it reads and checks its next batch
 * while the WAL's fdatasync runs. What that must not change: no receipt
 * and no delivery leaves before the commit holding its message is on the
 * disk. The broker runs with a shim that makes every fsync take SLOW_MS;
 * many senders keep it busy so that commits overlap the next batch (its
 * debug line "commit-overlap" says so), and every receipt and every
 * delivery must come at least SLOW_MS after its SEND. */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLOW_MS 100
#define N_SENDERS 12
#define MAX_EACH 64 /* messages a sender may send before the test stops it */
#define MIN_EACH 3
#define WAIT_MS 30000

typedef struct {
    uint8_t id[FB_MESSAGE_ID_BYTES];
    int64_t sent_us, receipt_us;
    fb_err_t rc;
    bool accepted;
} s_sent_t;

typedef struct {
    fb_client_t *c;
    const char *to;
    int index;
    atomic_bool *stop;
    atomic_int n; /* messages sent, receipts in */
    s_sent_t sent[MAX_EACH];
} s_sender_t;

typedef struct {
    fb_client_t *c;
    size_t want; /* set once the senders are done */
    atomic_size_t expected;
    size_t n;
    uint8_t id[N_SENDERS * MAX_EACH][FB_MESSAGE_ID_BYTES];
    int64_t at_us[N_SENDERS * MAX_EACH];
} s_receiver_t;

static int64_t s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* No cmocka assertion off the main thread: results are checked after. */
static void *s_send_loop(void *arg)
{
    s_sender_t *s = arg;
    for (int i = 0; i < MAX_EACH && !atomic_load(s->stop); i++) {
        char vacancy[64];
        snprintf(vacancy, sizeof vacancy, "vac-disk-%d-%d", s->index, i);
        size_t len = 0;
        uint8_t *payload = fbt_logement(vacancy, "74010", &len);
        fb_receipt_t rec;
        s_sent_t *m = &s->sent[i];
        m->sent_us = s_now_us();
        m->rc = fbt_send(s->c, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE, s->to, NULL,
                         payload, len, &rec);
        m->receipt_us = s_now_us();
        m->accepted = m->rc == FB_OK && rec.accepted;
        memcpy(m->id, rec.message_id, FB_MESSAGE_ID_BYTES);
        if (m->rc == FB_OK)
            fb_receipt_clear(&rec);
        free(payload);
        atomic_store(&s->n, i + 1);
        if (m->rc != FB_OK)
            break;
    }
    return NULL;
}

static void *s_receive_loop(void *arg)
{
    s_receiver_t *r = arg;
    int64_t until = s_now_us() + 2LL * WAIT_MS * 1000;
    while (r->n < atomic_load(&r->expected) && s_now_us() < until) {
        fb_delivery_t *d = NULL;
        if (fb_client_recv(r->c, &d, 200) != FB_OK || !d)
            continue;
        r->at_us[r->n] = s_now_us();
        memcpy(r->id[r->n++], d->body->message_id.data, FB_MESSAGE_ID_BYTES);
        fb_client_ack(r->c, d);
        fb_delivery_destroy(&d);
    }
    return NULL;
}

static const s_sent_t *s_find(const s_sender_t *senders, const uint8_t *id)
{
    for (int k = 0; k < N_SENDERS; k++)
        for (int i = 0; i < atomic_load(&senders[k].n); i++)
            if (memcmp(senders[k].sent[i].id, id, FB_MESSAGE_ID_BYTES) == 0)
                return &senders[k].sent[i];
    return NULL;
}

static void test_no_reply_before_the_disk(void **state)
{
    (void)state;
    fbt_broker_t b;
    fb_keys_t bailleur, resa;
    fbt_setup(&b);
    b.slow_fsync_ms = SLOW_MS;
    fbt_actor(&b, FBT_BAILLEUR, "bailleur", NULL, &bailleur);
    fbt_actor(&b, FBT_RESA, "reservataire", NULL, &resa);
    fbt_start(&b);

    static s_sender_t senders[N_SENDERS];
    static s_receiver_t receiver;
    atomic_bool stop = false;
    pthread_t st[N_SENDERS], rt;
    receiver.c = fbt_client(&b, &resa);
    atomic_store(&receiver.expected, (size_t)N_SENDERS * MAX_EACH);
    for (int k = 0; k < N_SENDERS; k++) {
        senders[k] = (s_sender_t){.c = fbt_client(&b, &bailleur), .to = resa.actor, .index = k};
        senders[k].stop = &stop;
    }
    assert_int_equal(pthread_create(&rt, NULL, s_receive_loop, &receiver), 0);
    for (int k = 0; k < N_SENDERS; k++)
        assert_int_equal(pthread_create(&st[k], NULL, s_send_loop, &senders[k]), 0);

    /* Until commits have overlapped the next batch and every sender has
     * sent a few. */
    int64_t until = s_now_us() + (int64_t)WAIT_MS * 1000;
    bool enough = false;
    while (!enough && s_now_us() < until) {
        usleep(20000);
        enough = fbt_log_contains(&b, "broker commit-overlap next=");
        for (int k = 0; k < N_SENDERS; k++)
            enough = enough && atomic_load(&senders[k].n) >= MIN_EACH;
    }
    atomic_store(&stop, true);
    size_t total = 0;
    for (int k = 0; k < N_SENDERS; k++) {
        pthread_join(st[k], NULL);
        total += (size_t)atomic_load(&senders[k].n);
    }
    atomic_store(&receiver.expected, total);
    pthread_join(rt, NULL);
    assert_true(fbt_log_contains(&b, "broker commit-overlap next="));

    for (int k = 0; k < N_SENDERS; k++)
        for (int i = 0; i < atomic_load(&senders[k].n); i++) {
            const s_sent_t *m = &senders[k].sent[i];
            assert_int_equal(m->rc, FB_OK);
            assert_true(m->accepted);
            int64_t waited = m->receipt_us - m->sent_us;
            if (waited < SLOW_MS * 1000)
                fail_msg("sender %d message %d: receipt after %lld us, before the disk (%d ms)", k,
                         i, (long long)waited, SLOW_MS);
        }
    assert_int_equal(receiver.n, total);
    for (size_t j = 0; j < receiver.n; j++) {
        const s_sent_t *m = s_find(senders, receiver.id[j]);
        assert_non_null(m);
        int64_t waited = receiver.at_us[j] - m->sent_us;
        if (waited < SLOW_MS * 1000)
            fail_msg("delivery %zu after %lld us, before the disk (%d ms)", j, (long long)waited,
                     SLOW_MS);
    }
    printf("# %zu messages from %d senders, each receipt and delivery after the disk\n", total,
           N_SENDERS);

    for (int k = 0; k < N_SENDERS; k++)
        fb_client_destroy(&senders[k].c);
    fb_client_destroy(&receiver.c);
    assert_int_equal(fbt_stop(&b, SIGTERM), 0);
    fbt_teardown(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_reply_before_the_disk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
