/* zap.c - ZAP (RFC 27) handler thread for CURVE.
 *
 * Owns a REP socket on inproc://zeromq.zap.01 and a read-mostly store handle
 * of its own (SQLite handles are not shared across threads). Every decision
 * is logged: "zap allow actor=... " or "zap deny key=... reason=...". */
#include "zap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "store.h"

struct zap {
    void *sock;
    store_t *store;
    pthread_t thread;
    fb_log_fn log;
    void *log_ctx;
};

/* Receives one frame into buf (truncating); returns its size or -1. */
static int s_recv_frame(void *sock, char *buf, size_t cap, int *more)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    int n = zmq_msg_recv(&m, sock, 0);
    if (n >= 0) {
        size_t copy = (size_t)n < cap ? (size_t)n : cap;
        memcpy(buf, zmq_msg_data(&m), copy);
        *more = zmq_msg_more(&m);
    }
    zmq_msg_close(&m);
    return n;
}

static void s_reply(void *sock, const char *request_id, size_t id_len, const char *status,
                    const char *text, const char *user)
{
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(sock, request_id, id_len, ZMQ_SNDMORE);
    zmq_send(sock, status, strlen(status), ZMQ_SNDMORE);
    zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
}

/* Handles one ZAP request; returns -1 when the context is shutting down. */
static int s_handle(zap_t *self)
{
    /* Frames: version, request id, domain, address, identity, mechanism, key. */
    char frames[7][256];
    int sizes[7] = {0};
    int more = 1, n = 0;
    while (more) {
        char tmp[256];
        int size = s_recv_frame(self->sock, tmp, sizeof tmp, &more);
        if (size < 0)
            return -1;
        if (n < 7) {
            memcpy(frames[n], tmp, sizeof tmp);
            sizes[n++] = size;
        }
    }
    size_t id_len = n > 1 && sizes[1] <= 255 ? (size_t)sizes[1] : 0;
    if (n < 7 || sizes[5] != 5 || memcmp(frames[5], "CURVE", 5) != 0 || sizes[6] != 32) {
        fb_logf(self->log, self->log_ctx, FB_LOG_WARN, "zap deny reason=not-curve");
        s_reply(self->sock, frames[1], id_len, "400", "CURVE required", "");
        return 0;
    }
    char hex[65];
    fb_hex_encode((const uint8_t *)frames[6], 32, hex);
    store_actor_t actor;
    fb_err_t rc = store_actor_by_transport_key(self->store, (const uint8_t *)frames[6], &actor);
    if (rc == FB_OK && actor.revoked_at_ms == 0) {
        fb_logf(self->log, self->log_ctx, FB_LOG_INFO, "zap allow actor=%s", actor.id);
        s_reply(self->sock, frames[1], id_len, "200", "OK", actor.id);
    } else {
        const char *why = rc == FB_OK              ? "revoked"
                          : rc == FB_ERR_NOT_FOUND ? "unregistered"
                                                   : "store";
        fb_logf(self->log, self->log_ctx, FB_LOG_WARN, "zap deny key=%s reason=%s", hex, why);
        s_reply(self->sock, frames[1], id_len, "400", "transport key not registered", "");
    }
    return 0;
}

static void *s_run(void *arg)
{
    zap_t *self = arg;
    while (s_handle(self) == 0)
        ;
    zmq_close(self->sock);
    self->sock = NULL;
    return NULL;
}

zap_t *zap_start(void *zmq_ctx, const char *store_path, fb_log_fn log, void *log_ctx, fb_err_t *err)
{
    zap_t *self = calloc(1, sizeof *self);
    char why[256];
    *err = FB_ERR_NOMEM;
    if (!self)
        return NULL;
    self->log = log;
    self->log_ctx = log_ctx;
    self->store = store_open(store_path, why, sizeof why);
    if (!self->store) {
        fb_logf(log, log_ctx, FB_LOG_ERROR, "zap store-open-failed detail=\"%s\"", why);
        *err = FB_ERR_STORE;
        free(self);
        return NULL;
    }
    self->sock = zmq_socket(zmq_ctx, ZMQ_REP);
    int linger = 0;
    if (!self->sock || zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_bind(self->sock, "inproc://zeromq.zap.01") != 0 ||
        pthread_create(&self->thread, NULL, s_run, self) != 0) {
        *err = FB_ERR_TRANSPORT;
        if (self->sock)
            zmq_close(self->sock);
        store_destroy(&self->store);
        free(self);
        return NULL;
    }
    *err = FB_OK;
    return self;
}

void zap_stop(zap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zap_t *self = *self_p;
    pthread_join(self->thread, NULL);
    store_destroy(&self->store);
    free(self);
    *self_p = NULL;
}
