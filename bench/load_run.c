/* load_run.c - the fluxbus side of a fluxbus-load run (see load_run.h):
 * the sender threads (sign, then SEND through load_wire), the receiver
 * threads (ack through load_wire, or verify through lib's fb_client), and
 * the Designation setup. The window, schedule and counters are drive.c's.
 *
 * Owns the signed messages and the run's nonce. Invariant: every RECEIPT
 * frame answers one SEND of its connection (the broker answers each SEND
 * exactly once), so a sender's in-flight count drops by one per RECEIPT,
 * read or not. */
#include "load_run.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "fluxbus/client.h"
#include "fluxbus/seal.h"
#include "load_wire.h"

#define S_POLL_MS 50

typedef struct {
    const load_run_config_t *cfg;
    drive_t *drive;
    void *zctx;
    uint8_t run[4];
    size_t per_sender;
} s_run_t;

typedef struct {
    s_run_t *run;
    size_t index;
    load_msgs_spec_t spec;
    load_msg_t *msgs;
    double presign_s;
    fb_err_t first_nack;
    pthread_t thread;
} s_sender_t;

typedef struct {
    s_run_t *run;
    size_t index;
    pthread_t thread;
} s_receiver_t;

static load_wire_t *s_wire(s_run_t *run, const fb_keys_t *keys, fb_err_t *err)
{
    load_wire_config_t wc = {.endpoint = run->cfg->endpoint,
                             .keys = keys,
                             .broker = run->cfg->broker,
                             .zmq_ctx = run->zctx,
                             .timeout_ms = 10000,
                             .verify_receipts = run->cfg->e2e};
    return load_wire_new(&wc, err);
}

/* The sender index and number of one of this run's messages; k is
 * UINT64_MAX for an id that is not one. */
static void s_which(s_run_t *run, const load_wire_event_t *ev, uint32_t *s, uint64_t *k)
{
    *s = 0;
    *k = UINT64_MAX;
    if (!ev->has_id || !load_msgs_id_parse(run->run, ev->id, s, k))
        *k = UINT64_MAX;
}

/* ---- senders --------------------------------------------------------------- */

static void s_on_receipt(s_sender_t *s, const load_wire_event_t *ev)
{
    uint32_t from = 0;
    uint64_t k = 0;
    s_which(s->run, ev, &from, &k);
    drive_answered(s->run->drive, s->index, from == s->index ? k : UINT64_MAX, ev->accepted);
    if (!ev->accepted && s->first_nack == FB_OK) {
        s->first_nack = ev->reason;
        fprintf(stderr, "fluxbus-load: nack sender=%s reason=%s\n", s->spec.sender->actor,
                fb_err_name(ev->reason));
    }
}

static void s_sender_loop(s_sender_t *s, load_wire_t *w)
{
    drive_t *d = s->run->drive;
    uint64_t next = 0;
    unsigned inflight = 0;
    for (;;) {
        while (drive_may_send(d, s->index, next, inflight)) {
            drive_sent(d, s->index, next);
            fb_err_t rc = load_wire_send(w, s->msgs[next].env, s->msgs[next].len);
            if (rc != FB_OK) {
                drive_error(d, "send", s->spec.sender->actor, fb_err_name(rc));
                return;
            }
            next++;
            inflight++;
        }
        if (!drive_sending(d, s->index, next, inflight))
            return;
        load_wire_event_t ev;
        fb_err_t rc = load_wire_next(w, drive_wait_ms(d, s->index, next, inflight), &ev);
        if (rc == FB_ERR_TIMEOUT)
            continue;
        if (ev.kind == LOAD_WIRE_RECEIPT && inflight > 0)
            inflight--;
        if (rc != FB_OK)
            drive_error(d, "receipt", s->spec.sender->actor, fb_err_name(rc));
        else if (ev.kind == LOAD_WIRE_RECEIPT)
            s_on_receipt(s, &ev);
    }
}

static void *s_sender_main(void *arg)
{
    s_sender_t *s = arg;
    fb_err_t rc = FB_OK;
    load_wire_t *w = s_wire(s->run, s->spec.sender, &rc);
    int64_t t = stats_now_ns();
    if (w)
        rc = load_msgs_sign(&s->spec, 0, s->run->per_sender, s->msgs);
    s->presign_s = (double)(stats_now_ns() - t) / 1e9;
    if (rc != FB_OK)
        fprintf(stderr, "fluxbus-load: %s %s: %s\n", w ? "sign" : "connect", s->spec.sender->actor,
                fb_err_name(rc));
    if (drive_ready(s->run->drive, rc == FB_OK))
        s_sender_loop(s, w);
    load_wire_destroy(&w);
    return NULL;
}

/* ---- receivers --------------------------------------------------------------- */

static void s_on_delivery(s_receiver_t *r, const uint8_t id[FB_MESSAGE_ID_BYTES])
{
    load_wire_event_t ev = {.has_id = true};
    memcpy(ev.id, id, FB_MESSAGE_ID_BYTES);
    uint32_t from = 0;
    uint64_t k = 0;
    s_which(r->run, &ev, &from, &k);
    drive_delivered(r->run->drive, r->index, from, k);
}

/* Receives and acks without verifying (the broker has). */
static void s_receive_raw(s_receiver_t *r, load_wire_t *w, const fb_keys_t *keys)
{
    while (drive_receiving(r->run->drive)) {
        load_wire_event_t ev;
        fb_err_t rc = load_wire_next(w, S_POLL_MS, &ev);
        if (rc == FB_ERR_TIMEOUT || ev.kind != LOAD_WIRE_DELIVER)
            continue;
        if (rc == FB_OK)
            s_on_delivery(r, ev.id);
        if (rc == FB_OK)
            rc = load_wire_ack(w, ev.seq, ev.id);
        if (rc != FB_OK)
            drive_error(r->run->drive, "delivery", keys->actor, fb_err_name(rc));
    }
}

/* Receives through lib's client, which verifies each delivery end to end;
 * a Designation's household is opened, as its bailleur would. */
static void s_receive_verified(s_receiver_t *r, fb_client_t *c, const fb_keys_t *keys)
{
    while (drive_receiving(r->run->drive)) {
        fb_delivery_t *d = NULL;
        fb_err_t rc = fb_client_recv(c, &d, S_POLL_MS);
        if (rc == FB_ERR_TIMEOUT)
            continue;
        if (rc == FB_OK && r->run->cfg->type == LOAD_MSGS_DESIGNATION) {
            Fluxbus__V1__HouseholdDetails *h = NULL;
            rc = fb_seal_open_delivery(d->envelope, d->envelope_len, keys, &h);
            fb_seal_household_free(h);
        }
        if (rc == FB_OK)
            s_on_delivery(r, d->body->message_id.data);
        if (rc == FB_OK)
            rc = fb_client_ack(c, d);
        if (rc != FB_OK)
            drive_error(r->run->drive, "delivery", keys->actor, fb_err_name(rc));
        fb_delivery_destroy(&d);
    }
}

/* A verifying receiver: lib's client, announced as a receiver (HELLO). */
static fb_client_t *s_verifying_client(s_run_t *run, const fb_keys_t *keys, fb_err_t *rc)
{
    fb_client_config_t cc = {.endpoint = run->cfg->endpoint,
                             .keys = keys,
                             .broker = run->cfg->broker,
                             .timeout_ms = 10000,
                             .window = run->cfg->window};
    fb_client_t *c = fb_client_new(&cc, rc);
    fb_delivery_t *none = NULL;
    if (c && (*rc = fb_client_recv(c, &none, 0)) == FB_ERR_TIMEOUT) /* sends HELLO */
        *rc = FB_OK;
    fb_delivery_destroy(&none);
    return c;
}

static void *s_receiver_main(void *arg)
{
    s_receiver_t *r = arg;
    const fb_keys_t *keys = &r->run->cfg->recipients[r->index];
    fb_err_t rc = FB_OK;
    load_wire_t *w = NULL;
    fb_client_t *c = NULL;
    if (r->run->cfg->e2e) {
        c = s_verifying_client(r->run, keys, &rc);
    } else if ((w = s_wire(r->run, keys, &rc)) != NULL) {
        rc = load_wire_hello(w, r->run->cfg->window);
    }
    if (rc != FB_OK)
        fprintf(stderr, "fluxbus-load: connect %s: %s\n", keys->actor, fb_err_name(rc));
    if (drive_ready(r->run->drive, rc == FB_OK)) {
        if (c)
            s_receive_verified(r, c, keys);
        else
            s_receive_raw(r, w, keys);
    }
    fb_client_destroy(&c);
    load_wire_destroy(&w);
    return NULL;
}

/* ---- the Designation setup ------------------------------------------------------ */

/* Sends msgs from one connection, up to `window` in flight, and waits for
 * every answer. FB_OK when all were accepted. */
static fb_err_t s_pipeline(load_wire_t *w, const load_msg_t *msgs, size_t n, unsigned window)
{
    size_t next = 0, answered = 0;
    while (answered < n) {
        while (next < n && next - answered < window) {
            fb_err_t rc = load_wire_send(w, msgs[next].env, msgs[next].len);
            if (rc != FB_OK)
                return rc;
            next++;
        }
        load_wire_event_t ev;
        fb_err_t rc = load_wire_next(w, 30000, &ev);
        if (rc != FB_OK)
            return rc;
        if (ev.kind != LOAD_WIRE_RECEIPT)
            continue;
        if (!ev.accepted)
            return ev.reason;
        answered++;
    }
    return FB_OK;
}

/* The setup messages bailleur j sends: a Convention with each réservataire,
 * then each vacancy of its Designations freed and oriented, in order (the
 * ledger wants the LogementLibere first). */
static fb_err_t s_setup_of(s_run_t *run, s_sender_t *senders, size_t j, load_msg_t *msgs, size_t *n)
{
    fb_err_t rc = FB_OK;
    for (size_t i = 0; rc == FB_OK && i < run->cfg->n_senders; i++) {
        rc = load_msgs_sign_convention(&run->cfg->recipients[j], senders[i].spec.sender, &msgs[*n]);
        *n += rc == FB_OK ? 1 : 0;
    }
    for (size_t i = 0; rc == FB_OK && i < run->cfg->n_senders; i++)
        for (uint64_t k = 0; rc == FB_OK && k < run->per_sender; k += LOAD_MSGS_RANKS)
            if (load_msgs_recipient(&senders[i].spec, k) == j) {
                rc = load_msgs_sign_setup(&senders[i].spec, k, &msgs[*n]);
                *n += rc == FB_OK ? 2 : 0;
            }
    return rc;
}

/* Every vacancy the Designations name, set up by its bailleur before the
 * window. */
static fb_err_t s_setup_designations(s_run_t *run, s_sender_t *senders, uint64_t *sent, char *why,
                                     size_t cap)
{
    const load_run_config_t *cfg = run->cfg;
    size_t room = cfg->n_senders + 2 * cfg->n_senders * (run->per_sender / LOAD_MSGS_RANKS + 1);
    fb_err_t rc = FB_OK;
    for (size_t j = 0; rc == FB_OK && j < cfg->n_recipients; j++) {
        size_t n = 0;
        load_msg_t *msgs = calloc(room, sizeof *msgs);
        rc = msgs ? s_setup_of(run, senders, j, msgs, &n) : FB_ERR_NOMEM;
        load_wire_t *w = rc == FB_OK ? s_wire(run, &cfg->recipients[j], &rc) : NULL;
        if (w)
            rc = s_pipeline(w, msgs, n, cfg->window);
        if (rc != FB_OK)
            snprintf(why, cap, "setup of the vacancies of %s: %s", cfg->recipients[j].actor,
                     fb_err_name(rc));
        *sent += rc == FB_OK ? n : 0;
        load_wire_destroy(&w);
        load_msgs_free(msgs, n);
        free(msgs);
    }
    return rc;
}

/* ---- the run --------------------------------------------------------------------- */

/* Messages per sender: the pool at saturation, rate x duration otherwise;
 * whole Designation rounds. */
static size_t s_per_sender(const load_run_config_t *cfg)
{
    double total = cfg->rate > 0 ? cfg->rate * cfg->duration_s : (double)cfg->messages;
    size_t n = (size_t)ceil(total / (double)cfg->n_senders);
    if (cfg->type == LOAD_MSGS_DESIGNATION)
        n = (n + LOAD_MSGS_RANKS - 1) / LOAD_MSGS_RANKS * LOAD_MSGS_RANKS;
    return n ? n : 1;
}

static fb_err_t s_senders_new(s_run_t *run, s_sender_t *senders)
{
    const load_run_config_t *cfg = run->cfg;
    for (size_t i = 0; i < cfg->n_senders; i++) {
        s_sender_t *s = &senders[i];
        s->run = run;
        s->index = i;
        s->spec = (load_msgs_spec_t){.type = cfg->type,
                                     .sender = &cfg->senders[i],
                                     .sender_index = (uint32_t)i,
                                     .recipients = cfg->recipients,
                                     .n_recipients = cfg->n_recipients,
                                     .size = cfg->size};
        memcpy(s->spec.run, run->run, sizeof run->run);
        if (!(s->msgs = calloc(run->per_sender, sizeof *s->msgs)))
            return FB_ERR_NOMEM;
    }
    return FB_OK;
}

static void s_threads(s_run_t *run, s_sender_t *senders, s_receiver_t *receivers,
                      load_run_result_t *res)
{
    const load_run_config_t *cfg = run->cfg;
    for (size_t j = 0; j < cfg->n_recipients; j++) {
        receivers[j] = (s_receiver_t){.run = run, .index = j};
        pthread_create(&receivers[j].thread, NULL, s_receiver_main, &receivers[j]);
    }
    for (size_t i = 0; i < cfg->n_senders; i++)
        pthread_create(&senders[i].thread, NULL, s_sender_main, &senders[i]);
    drive_window(run->drive, &res->drive);
    for (size_t i = 0; i < cfg->n_senders; i++)
        pthread_join(senders[i].thread, NULL);
    drive_senders_done(run->drive);
    for (size_t j = 0; j < cfg->n_recipients; j++)
        pthread_join(receivers[j].thread, NULL);
    drive_collect(run->drive, &res->drive);
}

static void s_collect(s_run_t *run, s_sender_t *senders, load_run_result_t *res)
{
    res->size_min = SIZE_MAX;
    for (size_t i = 0; i < run->cfg->n_senders; i++) {
        if (res->first_nack == FB_OK)
            res->first_nack = senders[i].first_nack;
        if (senders[i].presign_s > res->presign_s)
            res->presign_s = senders[i].presign_s;
        for (size_t k = 0; k < run->per_sender; k++) {
            size_t len = senders[i].msgs[k].len;
            res->size_min = len && len < res->size_min ? len : res->size_min;
            res->size_max = len > res->size_max ? len : res->size_max;
        }
    }
}

fb_err_t load_run(const load_run_config_t *cfg, load_run_result_t *res, char *why, size_t cap)
{
    memset(res, 0, sizeof *res);
    s_run_t run = {.cfg = cfg, .per_sender = s_per_sender(cfg)};
    uint8_t nonce[FB_MESSAGE_ID_BYTES];
    fb_message_id_new(nonce); /* random: ids and vacancies differ from run to run */
    memcpy(run.run, nonce, sizeof run.run);
    drive_config_t dc = {.n_senders = cfg->n_senders,
                         .n_recipients = cfg->n_recipients,
                         .window = cfg->window,
                         .rate = cfg->rate,
                         .duration_s = cfg->duration_s,
                         .drain_s = cfg->drain_s,
                         .per_sender = run.per_sender,
                         .broker_pid = cfg->broker_pid};
    run.drive = drive_new(&dc);
    run.zctx = zmq_ctx_new();
    s_sender_t *senders = calloc(cfg->n_senders, sizeof *senders);
    s_receiver_t *receivers = calloc(cfg->n_recipients, sizeof *receivers);
    fb_err_t rc =
        run.drive && run.zctx && senders && receivers ? s_senders_new(&run, senders) : FB_ERR_NOMEM;
    if (rc != FB_OK)
        snprintf(why, cap, "cannot set the run up: %s", fb_err_name(rc));
    res->signed_msgs = (uint64_t)run.per_sender * cfg->n_senders;
    if (rc == FB_OK && cfg->type == LOAD_MSGS_DESIGNATION)
        rc = s_setup_designations(&run, senders, &res->setup_msgs, why, cap);
    if (rc == FB_OK) {
        s_threads(&run, senders, receivers, res);
        s_collect(&run, senders, res);
    }
    for (size_t i = 0; senders && i < cfg->n_senders; i++) {
        load_msgs_free(senders[i].msgs, run.per_sender);
        free(senders[i].msgs);
    }
    free(senders);
    free(receivers);
    drive_destroy(&run.drive);
    if (run.zctx)
        zmq_ctx_term(run.zctx);
    return rc;
}

void load_run_result_free(load_run_result_t *res)
{
    drive_result_free(&res->drive);
}
