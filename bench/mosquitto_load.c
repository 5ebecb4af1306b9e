/* mosquitto_load.c - mosquitto-load: the load of fluxbus-load, on a
 * Mosquitto broker, MQTT 3.1.1 QoS 1, so that bench/compare can set the two
 * side by side (same senders, recipients, size, in-flight window, window
 * of time, figures; drive.c runs both).
 *
 * Sender i publishes message k to recipient k mod M's topic
 * (fbbench/<tag>/r/<j>); each receiver holds a persistent session (clean
 * session off, fixed client id) subscribed at QoS 1. Ack latency runs from
 * the PUBLISH to its PUBACK, end-to-end from the PUBLISH to the delivery.
 * The payload's first 12 bytes name the sender and the message number; the
 * rest is padding. libmosquitto acks a delivery (PUBACK) when it reads it.
 *
 * Owns its threads' MQTT clients only; the broker is started and stopped
 * by bench/compare (--broker-pid lets the figures include its CPU and
 * memory). Exit codes: 0 done, 1 bad usage, 2 cannot connect, 3 --check
 * failed. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mosquitto.h>

#include "drive.h"
#include "stats.h"

#define S_HEADER 12
#define S_CONNECT_MS 10000

typedef struct {
    const char *host;
    int port;
    size_t n_senders, n_recipients, size;
    unsigned window;
    double rate, duration_s;
    uint64_t messages;
    pid_t broker_pid;
    bool check;
    unsigned tag; /* topics and client ids of this run */
} s_opts_t;

typedef struct {
    const s_opts_t *o;
    drive_t *drive;
    size_t index;
    bool sender;
    struct mosquitto *m;
    bool connected, subscribed;
    unsigned inflight;
    uint64_t *mid_k; /* sender: the message number of each MQTT message id */
    pthread_t thread;
} s_client_t;

/* ---- callbacks ------------------------------------------------------------ */

static void s_on_connect(struct mosquitto *m, void *obj, int rc)
{
    (void)m;
    s_client_t *c = obj;
    c->connected = rc == 0;
    if (rc != 0)
        drive_error(c->drive, "connect", c->sender ? "sender" : "receiver",
                    mosquitto_connack_string(rc));
}

static void s_on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *qos)
{
    (void)m;
    (void)mid;
    s_client_t *c = obj;
    c->subscribed = n == 1 && qos[0] == 1;
}

/* The PUBACK of one of our QoS 1 messages. */
static void s_on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void)m;
    s_client_t *c = obj;
    if (c->inflight > 0)
        c->inflight--;
    drive_answered(c->drive, c->index, c->mid_k[(uint16_t)mid], true);
}

static uint64_t s_get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static void s_put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void s_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    (void)m;
    s_client_t *c = obj;
    if (msg->payloadlen < S_HEADER) {
        drive_error(c->drive, "delivery", "receiver", "payload too short");
        return;
    }
    const uint8_t *p = msg->payload;
    drive_delivered(c->drive, c->index, (size_t)s_get_be(p, 4), s_get_be(p + 4, 8));
}

/* ---- connection -------------------------------------------------------------- */

/* Loops until `flag` is set or S_CONNECT_MS passed. */
static bool s_wait_for(s_client_t *c, const bool *flag)
{
    int64_t end = stats_now_ns() + (int64_t)S_CONNECT_MS * 1000000;
    while (!*flag && stats_now_ns() < end)
        if (mosquitto_loop(c->m, 100, 1) != MOSQ_ERR_SUCCESS)
            return false;
    return *flag;
}

/* Connects (a receiver: persistent session, subscribed at QoS 1). */
static bool s_open(s_client_t *c)
{
    char id[64], topic[64];
    snprintf(id, sizeof id, "fbbench-%u-%s%zu", c->o->tag, c->sender ? "s" : "r", c->index);
    c->m = mosquitto_new(id, c->sender, c); /* receivers: clean session off */
    if (!c->m)
        return false;
    mosquitto_connect_callback_set(c->m, s_on_connect);
    mosquitto_subscribe_callback_set(c->m, s_on_subscribe);
    mosquitto_publish_callback_set(c->m, s_on_publish);
    mosquitto_message_callback_set(c->m, s_on_message);
    mosquitto_max_inflight_messages_set(c->m, c->o->window);
    /* As ZeroMQ does for fluxbus: no Nagle delay on small messages. */
    mosquitto_int_option(c->m, MOSQ_OPT_TCP_NODELAY, 1);
    if (mosquitto_connect(c->m, c->o->host, c->o->port, 60) != MOSQ_ERR_SUCCESS ||
        !s_wait_for(c, &c->connected))
        return false;
    if (c->sender)
        return true;
    snprintf(topic, sizeof topic, "fbbench/%u/r/%zu", c->o->tag, c->index);
    return mosquitto_subscribe(c->m, NULL, topic, 1) == MOSQ_ERR_SUCCESS &&
           s_wait_for(c, &c->subscribed);
}

/* ---- the threads ------------------------------------------------------------------ */

static void s_publish_loop(s_client_t *c, uint8_t *payload, char (*topics)[64])
{
    uint64_t next = 0;
    for (;;) {
        while (drive_may_send(c->drive, c->index, next, c->inflight)) {
            s_put_be(payload, c->index, 4);
            s_put_be(payload + 4, next, 8);
            drive_sent(c->drive, c->index, next);
            int mid = 0;
            int rc = mosquitto_publish(c->m, &mid, topics[next % c->o->n_recipients],
                                       (int)c->o->size, payload, 1, false);
            if (rc != MOSQ_ERR_SUCCESS) {
                drive_error(c->drive, "publish", "sender", mosquitto_strerror(rc));
                return;
            }
            c->mid_k[(uint16_t)mid] = next++;
            c->inflight++;
        }
        if (!drive_sending(c->drive, c->index, next, c->inflight))
            return;
        int rc = mosquitto_loop(c->m, drive_wait_ms(c->drive, c->index, next, c->inflight), 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            drive_error(c->drive, "loop", "sender", mosquitto_strerror(rc));
            return;
        }
    }
}

static void *s_sender_main(void *arg)
{
    s_client_t *c = arg;
    uint8_t *payload = calloc(1, c->o->size);
    char(*topics)[64] = calloc(c->o->n_recipients, sizeof *topics);
    c->mid_k = malloc(65536 * sizeof *c->mid_k);
    bool ok = payload && topics && c->mid_k && s_open(c);
    for (size_t i = S_HEADER; payload && i < c->o->size; i++)
        payload[i] = (uint8_t)('a' + i % 26);
    for (size_t j = 0; topics && j < c->o->n_recipients; j++)
        snprintf(topics[j], sizeof topics[j], "fbbench/%u/r/%zu", c->o->tag, j);
    if (!ok)
        fprintf(stderr, "mosquitto-load: sender %zu cannot connect\n", c->index);
    if (drive_ready(c->drive, ok))
        s_publish_loop(c, payload, topics);
    free(payload);
    free(topics);
    return NULL;
}

static void *s_receiver_main(void *arg)
{
    s_client_t *c = arg;
    bool ok = s_open(c);
    if (!ok)
        fprintf(stderr, "mosquitto-load: receiver %zu cannot connect\n", c->index);
    if (drive_ready(c->drive, ok))
        while (drive_receiving(c->drive)) {
            int rc = mosquitto_loop(c->m, 50, 1);
            if (rc != MOSQ_ERR_SUCCESS) {
                drive_error(c->drive, "loop", "receiver", mosquitto_strerror(rc));
                break;
            }
        }
    return NULL;
}

/* ---- options and report ------------------------------------------------------------ */

static void s_usage(FILE *out)
{
    fputs("usage: mosquitto-load --port PORT [--host H] [--senders N] [--recipients M]\n"
          "                      [--size BYTES] [--window W] [--rate R | --saturate]\n"
          "                      [--duration S] [--messages N] [--broker-pid PID] [--check]\n"
          "\n"
          "The load of fluxbus-load on a running Mosquitto broker: MQTT 3.1.1, QoS 1,\n"
          "receivers on persistent sessions. Same options and figures as fluxbus-load\n"
          "(--size is the MQTT payload; --messages caps what the senders may send, all\n"
          "together, default 60000 x duration). Prints the figures, then key=value lines.\n",
          out);
}

static int s_parse(int argc, char **argv, s_opts_t *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            s_usage(stdout);
            exit(0);
        }
        if (!strcmp(a, "--saturate") || !strcmp(a, "--check")) {
            o->rate = !strcmp(a, "--saturate") ? 0 : o->rate;
            o->check = o->check || !strcmp(a, "--check");
            continue;
        }
        double d = v ? atof(v) : 0;
        i++;
        if (!v || (d <= 0 && strcmp(a, "--host") != 0)) {
            s_usage(stderr);
            return 1;
        }
        if (!strcmp(a, "--host"))
            o->host = v;
        else if (!strcmp(a, "--port"))
            o->port = (int)d;
        else if (!strcmp(a, "--senders"))
            o->n_senders = (size_t)d;
        else if (!strcmp(a, "--recipients"))
            o->n_recipients = (size_t)d;
        else if (!strcmp(a, "--size") && d >= S_HEADER)
            o->size = (size_t)d;
        else if (!strcmp(a, "--window") && d <= 65535)
            o->window = (unsigned)d;
        else if (!strcmp(a, "--rate"))
            o->rate = d;
        else if (!strcmp(a, "--duration"))
            o->duration_s = d;
        else if (!strcmp(a, "--messages"))
            o->messages = (uint64_t)d;
        else if (!strcmp(a, "--broker-pid"))
            o->broker_pid = (pid_t)d;
        else {
            s_usage(stderr);
            return 1;
        }
    }
    if (o->port <= 0) {
        s_usage(stderr);
        return 1;
    }
    if (!o->messages)
        o->messages = (uint64_t)(60000 * o->duration_s);
    return 0;
}

/* Runs the threads through one window; 0, or -1 out of memory. */
static int s_run(const s_opts_t *o, drive_result_t *res)
{
    size_t per_sender = (size_t)((o->rate > 0 ? o->rate * o->duration_s : (double)o->messages) /
                                     (double)o->n_senders +
                                 1);
    drive_config_t dc = {.n_senders = o->n_senders,
                         .n_recipients = o->n_recipients,
                         .window = o->window,
                         .rate = o->rate,
                         .duration_s = o->duration_s,
                         .drain_s = 10,
                         .per_sender = per_sender,
                         .broker_pid = o->broker_pid};
    drive_t *d = drive_new(&dc);
    size_t n = o->n_senders + o->n_recipients;
    s_client_t *c = calloc(n, sizeof *c);
    if (!d || !c) {
        drive_destroy(&d);
        free(c);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        c[i] = (s_client_t){.o = o, .drive = d, .sender = i < o->n_senders};
        c[i].index = c[i].sender ? i : i - o->n_senders;
        pthread_create(&c[i].thread, NULL, c[i].sender ? s_sender_main : s_receiver_main, &c[i]);
    }
    drive_window(d, res);
    for (size_t i = 0; i < o->n_senders; i++)
        pthread_join(c[i].thread, NULL);
    drive_senders_done(d);
    for (size_t i = o->n_senders; i < n; i++)
        pthread_join(c[i].thread, NULL);
    drive_collect(d, res);
    for (size_t i = 0; i < n; i++) {
        if (c[i].m) {
            mosquitto_disconnect(c[i].m);
            mosquitto_destroy(c[i].m);
        }
        free(c[i].mid_k);
    }
    free(c);
    drive_destroy(&d);
    return 0;
}

int main(int argc, char **argv)
{
    s_opts_t o = {.host = "127.0.0.1",
                  .n_senders = 4,
                  .n_recipients = 4,
                  .size = 512,
                  .window = 64,
                  .duration_s = 10,
                  .tag = (unsigned)getpid()};
    if (s_parse(argc, argv, &o) != 0)
        return 1;
    mosquitto_lib_init();
    drive_result_t res;
    memset(&res, 0, sizeof res);
    if (s_run(&o, &res) != 0) {
        mosquitto_lib_cleanup();
        return 2;
    }
    drive_config_t shape = {.n_senders = o.n_senders,
                            .n_recipients = o.n_recipients,
                            .window = o.window,
                            .rate = o.rate};
    drive_report_setup(&shape, "mosquitto-load", "QoS 1 payloads", o.size);
    drive_report(&res);
    int rc = o.check && drive_check(&res) != 0 ? 3 : 0;
    if (res.errors && res.sent == 0)
        rc = 2;
    stats_report_end();
    drive_result_free(&res);
    mosquitto_lib_cleanup();
    return rc;
}
