/* 02_bus_kill9_restart - the broker is killed with SIGKILL three times in the
 * middle of a stream and restarted on the same store: every message that got
 * a receipt is delivered, none twice, in the order it was sent, while a
 * receiver is connected the whole time and rides through the restarts. */
#include "harness.h"
#include "store.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N_MESSAGES 300
#define T_LOGEMENT FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE

typedef struct {
    fbt_broker_t *b;
    fb_keys_t *keys;
    atomic_int stop;
    uint8_t got[N_MESSAGES][FB_MESSAGE_ID_BYTES];
    atomic_size_t n_got; /* read by the sender while the receiver counts */
} s_receiver_t;

/* Receives and acks until told to stop; keeps message ids in arrival order. */
static void *s_receive(void *arg)
{
    s_receiver_t *r = arg;
    fb_client_t *c = fbt_client(r->b, r->keys);
    while (!atomic_load(&r->stop) || r->n_got < N_MESSAGES) {
        fb_delivery_t *d = NULL;
        fb_err_t rc = fb_client_recv(c, &d, 200);
        if (rc == FB_ERR_TIMEOUT) {
            if (atomic_load(&r->stop) == 2)
                break; /* sender gave up waiting: report what we have */
            continue;
        }
        if (rc != FB_OK)
            continue;
        if (r->n_got < N_MESSAGES)
            memcpy(r->got[r->n_got], d->body->message_id.data, FB_MESSAGE_ID_BYTES);
        r->n_got++;
        (void)fb_client_ack(c, d);
        fb_delivery_destroy(&d);
    }
    fb_client_destroy(&c);
    return NULL;
}

typedef struct {
    pid_t pid;
    useconds_t delay_us;
} s_killer_t;

/* Chaos injection, not synchronisation: kill after a small random delay so
 * the broker dies anywhere between reading the frame and sending the receipt. */
static void *s_kill_later(void *arg)
{
    s_killer_t *k = arg;
    usleep(k->delay_us);
    kill(k->pid, SIGKILL);
    return NULL;
}

static int s_alive(fbt_broker_t *b)
{
    return b->pid > 0 && waitpid(b->pid, NULL, WNOHANG) == 0;
}

static void test_acknowledged_messages_survive_sigkill(void **state)
{
    (void)state;
    fbt_broker_t b;
    fb_keys_t bailleur, resa;
    srand((unsigned)time(NULL));
    fbt_setup(&b);
    fbt_actor(&b, "bailleur:552046955", "bailleur", NULL, &bailleur);
    fbt_actor(&b, "reservataire:action-logement", "reservataire", NULL, &resa);
    fbt_start(&b);

    s_receiver_t r = {.b = &b, .keys = &resa};
    pthread_t rt;
    assert_int_equal(pthread_create(&rt, NULL, s_receive, &r), 0);

    fb_err_t err;
    fb_client_t *c = fbt_try_client(&b, &bailleur, 1500, &err);
    assert_non_null(c);
    static uint8_t ids[N_MESSAGES][FB_MESSAGE_ID_BYTES];
    size_t len = 0;
    uint8_t *payload = fbt_logement("vac-kill", "74010", &len);
    const char *to[1] = {resa.actor};
    int kills = 0, duplicates = 0;
    for (int i = 0; i < N_MESSAGES; i++) {
        fb_outgoing_t m = {.type = T_LOGEMENT,
                           .recipients = to,
                           .n_recipients = 1,
                           .payload = payload,
                           .payload_len = len};
        uint8_t *env = NULL;
        size_t env_len = 0;
        assert_int_equal(fb_client_seal(c, &m, &env, &env_len, ids[i]), FB_OK);
        /* Kill at three points, right after the send left: the receipt of
         * this message may or may not have been committed. */
        int kill_now = i == 60 || i == 140 || i == 220;
        for (int attempt = 0;; attempt++) {
            assert_true(attempt < 20);
            fb_receipt_t rec;
            pthread_t kt;
            s_killer_t killer = {b.pid, (useconds_t)(rand() % 3000)};
            if (kill_now && attempt == 0) {
                assert_int_equal(pthread_create(&kt, NULL, s_kill_later, &killer), 0);
                kills++;
            }
            fb_err_t rc = fb_client_send_raw(c, env, env_len, ids[i], &rec);
            if (kill_now && attempt == 0) {
                pthread_join(kt, NULL);
                if (rc == FB_OK) { /* the receipt beat the kill: restart anyway */
                    fbt_stop(&b, SIGKILL);
                    fbt_start(&b);
                }
            }
            if (rc == FB_OK) {
                duplicates += rec.duplicate;
                fb_receipt_clear(&rec);
                break;
            }
            fb_receipt_clear(&rec);
            assert_true(rc == FB_ERR_TIMEOUT || rc == FB_ERR_TRANSPORT);
            if (!s_alive(&b)) {
                fbt_stop(&b, SIGKILL); /* reap */
                fbt_start(&b);         /* same store, same port */
            }
        }
        free(env);
    }
    assert_int_equal(kills, 3);

    /* Wait for the receiver to drain, bounded. */
    atomic_store(&r.stop, 1);
    for (int i = 0; i < 300 && r.n_got < N_MESSAGES; i++) {
        fb_delivery_t *none = NULL;
        if (fb_client_recv(c, &none, 100) == FB_OK) /* a bounded wait, no sleep */
            fb_delivery_destroy(&none);
    }
    atomic_store(&r.stop, 2);
    pthread_join(rt, NULL);

    fprintf(stderr, "kills=%d receipts=%d duplicate_receipts=%d delivered=%zu\n", kills, N_MESSAGES,
            duplicates, r.n_got);
    assert_int_equal(r.n_got, N_MESSAGES);
    for (int i = 0; i < N_MESSAGES; i++)
        assert_memory_equal(r.got[i], ids[i], FB_MESSAGE_ID_BYTES);

    /* The store holds each message exactly once. */
    fb_client_destroy(&c);
    assert_int_equal(fbt_stop(&b, SIGTERM), 0);
    char why[256];
    store_t *store = store_open(b.store, why, sizeof why);
    assert_non_null(store);
    uint64_t count = 0;
    assert_int_equal(store_count(store, &count), FB_OK);
    assert_int_equal(count, N_MESSAGES);
    store_destroy(&store);
    free(payload);
    fbt_teardown(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acknowledged_messages_survive_sigkill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
