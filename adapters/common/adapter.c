/* adapter.c - an adapter's link to the broker (see adapter.h).
 *
 * Owns: loading the adapter's keys, its state file and the `outbound` table
 * in it (one row per message: its content-derived id, the signed envelope as
 * it left, and the broker's receipt once answered), the connection and its
 * re-making, sealing households for the recipient, receiving and
 * acknowledging deliveries, the main loop and the JSON form of a message to
 * send.
 *
 * Invariant: an envelope is committed to the state file before it is sent,
 * and a message is reported accepted only with the broker's signed receipt
 * (or, after a lost state file, the broker's word that it holds this id). */
#include "adapter.h"

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#define S_RECONNECT_MS 1000
#define S_FLUSH_MS 2000

struct adapter {
    char kind[32];
    fb_keys_t keys, broker;
    char endpoint[256];
    sqlite3 *db;
    fb_client_t *client;
    int64_t next_connect_ms;
    bool was_connected, said_unreachable;
    fb_log_level_t level;
};

static volatile sig_atomic_t s_stop = 0;

/* Why the last adapter_open() failed (startup, one thread). */
static int s_open_exit = 2;

int adapter_open_exit_code(void)
{
    return s_open_exit;
}

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

bool adapter_stopping(void)
{
    return s_stop != 0;
}

void adapter_log(const adapter_t *self, fb_log_level_t level, const char *fmt, ...)
{
    if (level < self->level)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "fluxbus-adapter-%s: %s: %s\n", self->kind, fb_log_level_name(level), line);
}

/* libfluxbus's own log lines, at the adapter's level. */
static void s_lib_log(void *ctx, fb_log_level_t level, const char *line)
{
    adapter_log(ctx, level, "%s", line);
}

static const char s_schema[] = "PRAGMA journal_mode=WAL;"
                               "PRAGMA synchronous=FULL;"
                               "CREATE TABLE IF NOT EXISTS outbound ("
                               "  message_id BLOB PRIMARY KEY,"
                               "  type INTEGER NOT NULL,"
                               "  envelope BLOB NOT NULL,"
                               "  sealed_at_ms INTEGER NOT NULL,"
                               "  answered INTEGER NOT NULL DEFAULT 0," /* 1: the broker holds it */
                               "  receipt BLOB," /* broker-signed receipt envelope */
                               "  store_seq INTEGER,"
                               "  accepted_at_ms INTEGER);";

static fb_log_level_t s_level(const char *name)
{
    for (int l = FB_LOG_DEBUG; l <= FB_LOG_ERROR; l++)
        if (strcmp(fb_log_level_name((fb_log_level_t)l), name) == 0)
            return (fb_log_level_t)l;
    return (fb_log_level_t)-1;
}

static bool s_load_keys(const conf_t *conf, const char *name, fb_keys_t *keys, char *err,
                        size_t errlen)
{
    char *path = conf_path(conf, name);
    fb_err_t rc = path ? fb_keys_load(keys, path) : FB_ERR_NOMEM;
    if (rc != FB_OK)
        snprintf(err, errlen, "%s %s: %s", name, path ? path : "", fb_err_str(rc));
    free(path);
    return rc == FB_OK;
}

adapter_t *adapter_open(const char *kind, const conf_t *conf, char *err, size_t errlen)
{
    adapter_t *self = calloc(1, sizeof *self);
    if (!self || sodium_init() < 0) {
        snprintf(err, errlen, "out of memory");
        free(self);
        return NULL;
    }
    s_open_exit = 2;
    snprintf(self->kind, sizeof self->kind, "%s", kind);
    snprintf(self->endpoint, sizeof self->endpoint, "%s", conf_get(conf, "endpoint"));
    self->level = s_level(conf_get(conf, "log_level"));
    if ((int)self->level < 0) {
        snprintf(err, errlen, "log_level: \"%s\" is not error, warn, info or debug",
                 conf_get(conf, "log_level"));
        goto fail;
    }
    if (!s_load_keys(conf, "key", &self->keys, err, errlen) ||
        !s_load_keys(conf, "broker_key", &self->broker, err, errlen))
        goto fail;
    if (!self->keys.has_secret) {
        snprintf(err, errlen, "key: the file holds no secret key (give the actor's own key file)");
        goto fail;
    }
    char *state = conf_path(conf, "state");
    int rc = state ? sqlite3_open_v2(
                         state, &self->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL)
                   : SQLITE_NOMEM;
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(self->db, 5000);
        rc = sqlite3_exec(self->db, s_schema, NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        s_open_exit = 3;
        snprintf(err, errlen, "state %s: %s", state ? state : "",
                 self->db ? sqlite3_errmsg(self->db) : "out of memory");
        free(state);
        goto fail;
    }
    free(state);
    return self;
fail:
    adapter_close(&self);
    return NULL;
}

void adapter_close(adapter_t **self_p)
{
    adapter_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    fb_client_destroy(&self->client);
    if (self->db)
        sqlite3_close(self->db);
    fb_keys_wipe(&self->keys);
    fb_keys_wipe(&self->broker);
    free(self);
    *self_p = NULL;
}

const char *adapter_actor(const adapter_t *self)
{
    return self->keys.actor;
}

const fb_keys_t *adapter_keys(const adapter_t *self)
{
    return &self->keys;
}

sqlite3 *adapter_db(adapter_t *self)
{
    return self->db;
}

const char *adapter_kind(const adapter_t *self)
{
    return self->kind;
}

fb_client_t *adapter_client(adapter_t *self)
{
    if (self->client)
        return self->client;
    int64_t now = fb_now_ms();
    if (now < self->next_connect_ms)
        return NULL;
    self->next_connect_ms = now + S_RECONNECT_MS;
    fb_client_config_t cfg = {.endpoint = self->endpoint,
                              .keys = &self->keys,
                              .broker = &self->broker,
                              .timeout_ms = 5000,
                              /* Short: the loop (HTTP, spool, timers) waits meanwhile. */
                              .connect_timeout_ms = 1500,
                              .log = s_lib_log,
                              .log_ctx = self};
    fb_err_t err = FB_OK;
    self->client = fb_client_new(&cfg, &err);
    if (!self->client) {
        if (!self->said_unreachable || err == FB_ERR_AUTH)
            adapter_log(self, err == FB_ERR_AUTH ? FB_LOG_ERROR : FB_LOG_WARN,
                        "broker %s unreachable: %s (retrying every %d ms)", self->endpoint,
                        fb_err_str(err), S_RECONNECT_MS);
        self->said_unreachable = true;
        return NULL;
    }
    adapter_log(self, FB_LOG_INFO, "connected to %s as %s", self->endpoint,
                fb_client_actor(self->client));
    self->said_unreachable = false;
    self->was_connected = true;
    return self->client;
}

bool adapter_connected(const adapter_t *self)
{
    return self->client != NULL;
}

/* Forgets a connection that failed; the next adapter_client() makes a new one. */
static void s_drop_client(adapter_t *self, fb_err_t why)
{
    if (!self->client)
        return;
    adapter_log(self, FB_LOG_WARN, "connection lost (%s); reconnecting", fb_err_str(why));
    fb_client_destroy(&self->client);
}

static bool s_is_transport(fb_err_t err)
{
    return err == FB_ERR_TIMEOUT || err == FB_ERR_TRANSPORT || err == FB_ERR_AUTH;
}

/* ---- message ids ---- */

static void s_hash_str(crypto_generichash_state *h, const char *s)
{
    s = s ? s : "";
    crypto_generichash_update(h, (const uint8_t *)s, strlen(s) + 1);
}

static fb_err_t s_hash_msg(crypto_generichash_state *h, const ProtobufCMessage *m)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    fb_err_t rc = m ? fb_codec_pack(m, &bytes, &len) : FB_OK;
    if (rc != FB_OK)
        return rc;
    uint8_t n[8];
    for (int i = 0; i < 8; i++)
        n[i] = (uint8_t)((uint64_t)len >> (8 * i));
    crypto_generichash_update(h, n, sizeof n);
    if (len)
        crypto_generichash_update(h, bytes, len);
    sodium_memzero(bytes, len);
    free(bytes);
    return FB_OK;
}

/* The payload's vacancy_id, when it has one: the correlation by convention. */
static const char *s_vacancy_of(const ProtobufCMessage *m)
{
    const ProtobufCFieldDescriptor *f =
        m ? protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "vacancy_id") : NULL;
    if (!f || f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    const char *v = *(const char *const *)((const char *)m + f->offset);
    return v && *v ? v : NULL;
}

static const char *s_correlation(const adapter_msg_t *msg)
{
    return msg->correlation_id ? msg->correlation_id : s_vacancy_of(msg->payload);
}

fb_err_t adapter_message_id(const adapter_t *self, const adapter_msg_t *msg,
                            uint8_t id[FB_MESSAGE_ID_BYTES])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, FB_MESSAGE_ID_BYTES);
    s_hash_str(&h, "fluxbus adapter message id v1");
    s_hash_str(&h, self->keys.actor);
    uint8_t type[4] = {(uint8_t)msg->type, (uint8_t)(msg->type >> 8), (uint8_t)(msg->type >> 16),
                       (uint8_t)(msg->type >> 24)};
    crypto_generichash_update(&h, type, sizeof type);
    for (size_t i = 0; i < msg->n_to; i++)
        s_hash_str(&h, msg->to[i]);
    s_hash_str(&h, "\x01");
    for (size_t i = 0; i < msg->n_topics; i++)
        s_hash_str(&h, msg->topics[i]);
    s_hash_str(&h, "\x01");
    s_hash_str(&h, s_correlation(msg));
    if (msg->in_reply_to) /* only when set: the ids of other messages stay as they were */
        crypto_generichash_update(&h, msg->in_reply_to, FB_MESSAGE_ID_BYTES);
    fb_err_t rc = s_hash_msg(&h, msg->payload);
    if (rc == FB_OK)
        rc = s_hash_msg(&h, msg->household);
    crypto_generichash_final(&h, id, FB_MESSAGE_ID_BYTES);
    return rc;
}

/* ---- the outbound table ---- */

typedef struct {
    bool found, answered;
    uint8_t *envelope;
    size_t envelope_len;
    int64_t sealed_at_ms;
} s_row_t;

static fb_err_t s_row_get(adapter_t *self, const uint8_t id[FB_MESSAGE_ID_BYTES], s_row_t *row,
                          adapter_result_t *res)
{
    memset(row, 0, sizeof *row);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "SELECT answered, envelope, sealed_at_ms, receipt, store_seq, "
                           "accepted_at_ms FROM outbound WHERE message_id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return FB_ERR_STORE;
    sqlite3_bind_blob(st, 1, id, FB_MESSAGE_ID_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    fb_err_t out = rc == SQLITE_ROW || rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
    if (rc == SQLITE_ROW) {
        row->found = true;
        row->answered = sqlite3_column_int(st, 0) != 0;
        row->sealed_at_ms = sqlite3_column_int64(st, 2);
        int n = sqlite3_column_bytes(st, 1);
        row->envelope = malloc((size_t)n + 1);
        if (!row->envelope)
            out = FB_ERR_NOMEM;
        else {
            memcpy(row->envelope, sqlite3_column_blob(st, 1), (size_t)n);
            row->envelope_len = (size_t)n;
        }
        if (row->answered && res) {
            res->accepted = true;
            res->duplicate = true;
            res->store_seq = (uint64_t)sqlite3_column_int64(st, 4);
            res->accepted_at_ms = sqlite3_column_int64(st, 5);
            const void *r = sqlite3_column_blob(st, 3);
            int rn = sqlite3_column_bytes(st, 3);
            res->receipt = json_pack("{s:s, s:I, s:I, s:b, s:o}", "message_id", res->message_id_hex,
                                     "store_seq", (json_int_t)res->store_seq, "accepted_at_ms",
                                     (json_int_t)res->accepted_at_ms, "duplicate", 1, "receipt_b64",
                                     r ? fb_json_base64(r, (size_t)rn) : json_null());
        }
    }
    sqlite3_finalize(st);
    return out;
}

static fb_err_t s_exec_id(adapter_t *self, const char *sql, const uint8_t *id)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) != SQLITE_OK)
        return FB_ERR_STORE;
    sqlite3_bind_blob(st, 1, id, FB_MESSAGE_ID_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
}

static fb_err_t s_row_insert(adapter_t *self, const uint8_t *id, int type, const uint8_t *env,
                             size_t len)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "INSERT OR REPLACE INTO outbound (message_id, type, envelope, "
                           "sealed_at_ms) VALUES (?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return FB_ERR_STORE;
    sqlite3_bind_blob(st, 1, id, FB_MESSAGE_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, type);
    sqlite3_bind_blob(st, 3, env, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, fb_now_ms());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
}

static fb_err_t s_row_answered(adapter_t *self, const uint8_t *id, const fb_receipt_t *r)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "UPDATE outbound SET answered = 1, receipt = ?, store_seq = ?, "
                           "accepted_at_ms = ? WHERE message_id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return FB_ERR_STORE;
    if (r && r->receipt)
        sqlite3_bind_blob(st, 1, r->receipt, (int)r->receipt_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, r ? (sqlite3_int64)r->store_seq : 0);
    sqlite3_bind_int64(st, 3, r ? r->accepted_at_ms : 0);
    sqlite3_bind_blob(st, 4, id, FB_MESSAGE_ID_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
}

/* ---- sending ---- */

/* Seals msg (household included) with id into a new envelope. */
static fb_err_t s_seal(adapter_t *self, const adapter_msg_t *msg, const uint8_t *id, uint8_t **env,
                       size_t *env_len, adapter_result_t *res)
{
    fb_client_t *client = adapter_client(self);
    if (!client)
        return FB_ERR_TRANSPORT;
    fb_sealed_t sealed = {0};
    Fluxbus__V1__Designation copy;
    const ProtobufCMessage *payload = msg->payload;
    fb_err_t rc = FB_OK;
    if (msg->household) {
        if (msg->type != FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_DESIGNATION || msg->n_to != 1 ||
            msg->n_topics) {
            snprintf(res->detail, sizeof res->detail,
                     "a household goes in a Designation to exactly one recipient");
            return FB_ERR_INVALID;
        }
        uint8_t pk[FB_ENC_KEY_BYTES];
        rc = fb_client_encryption_key(client, msg->to[0], pk, NULL, 0);
        if (rc != FB_OK) {
            snprintf(res->detail, sizeof res->detail,
                     "no certified encryption key for %s to seal the household: %s", msg->to[0],
                     fb_err_str(rc));
            if (s_is_transport(rc))
                s_drop_client(self, rc);
            return rc;
        }
        rc = fb_seal_household((const Fluxbus__V1__HouseholdDetails *)msg->household, pk, &sealed);
        if (rc != FB_OK)
            return rc;
        copy = *(const Fluxbus__V1__Designation *)msg->payload;
        fb_sealed_bind(&sealed, &copy);
        payload = &copy.base;
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    rc = fb_codec_pack(payload, &bytes, &len);
    if (rc == FB_OK) {
        const ProtobufCBinaryData box = {sealed.box_len, sealed.box};
        fb_outgoing_t out = {.type = msg->type,
                             .recipients = msg->to,
                             .n_recipients = msg->n_to,
                             .topics = msg->topics,
                             .n_topics = msg->n_topics,
                             .correlation_id = s_correlation(msg),
                             .in_reply_to = msg->in_reply_to,
                             .payload = bytes,
                             .payload_len = len,
                             .message_id = id,
                             .attachments = sealed.box ? &box : NULL,
                             .n_attachments = sealed.box ? 1 : 0};
        rc = fb_client_seal(client, &out, env, env_len, NULL);
    }
    free(bytes);
    fb_sealed_clear(&sealed);
    return rc;
}

static json_t *s_receipt_json(const adapter_result_t *res, const fb_receipt_t *r)
{
    return json_pack("{s:s, s:I, s:I, s:b, s:o}", "message_id", res->message_id_hex, "store_seq",
                     (json_int_t)res->store_seq, "accepted_at_ms", (json_int_t)res->accepted_at_ms,
                     "duplicate", res->duplicate, "receipt_b64",
                     r && r->receipt ? fb_json_base64(r->receipt, r->receipt_len) : json_null());
}

/* Sends the envelope of row `id` and records the answer. */
static fb_err_t s_transmit(adapter_t *self, const uint8_t *id, const uint8_t *env, size_t len,
                           adapter_result_t *res)
{
    fb_client_t *client = adapter_client(self);
    if (!client)
        return FB_ERR_TRANSPORT;
    fb_receipt_t r;
    memset(&r, 0, sizeof r);
    fb_err_t rc = fb_client_send_raw(client, env, len, id, &r);
    if (rc == FB_OK && r.accepted) {
        res->accepted = true;
        res->duplicate = r.duplicate;
        res->store_seq = r.store_seq;
        res->accepted_at_ms = r.accepted_at_ms;
        res->receipt = s_receipt_json(res, &r);
        rc = s_row_answered(self, id, &r);
    } else if (!r.accepted && r.reason == FB_ERR_CONFLICT) {
        /* The broker holds this content-derived id from us with other bytes:
         * this content was sent before (the state file was lost or reset). */
        res->accepted = true;
        res->duplicate = true;
        snprintf(res->detail, sizeof res->detail,
                 "the broker already holds this message (sent before with other bytes)");
        res->receipt = s_receipt_json(res, NULL);
        adapter_log(self, FB_LOG_WARN, "msg_id=%s: %s", res->message_id_hex, res->detail);
        rc = s_row_answered(self, id, NULL);
    } else if (!r.accepted && r.reason != FB_OK) {
        res->accepted = false;
        res->reason = r.reason;
        snprintf(res->detail, sizeof res->detail, "%s", r.detail);
        bool later = r.reason == FB_ERR_RATE_LIMITED || r.reason == FB_ERR_BACKLOG_FULL;
        rc = later ? r.reason : FB_OK;
        if (!later && r.reason != FB_ERR_STALE)
            s_exec_id(self, "DELETE FROM outbound WHERE message_id = ?", id);
        if (r.reason == FB_ERR_STALE)
            rc = FB_ERR_STALE; /* the caller seals it anew */
    } else {
        if (s_is_transport(rc))
            s_drop_client(self, rc);
    }
    fb_receipt_clear(&r);
    return rc;
}

fb_err_t adapter_send(adapter_t *self, const adapter_msg_t *msg, adapter_result_t *res)
{
    memset(res, 0, sizeof *res);
    fb_err_t rc = adapter_message_id(self, msg, res->message_id);
    fb_hex_encode(res->message_id, FB_MESSAGE_ID_BYTES, res->message_id_hex);
    for (int attempt = 0; rc == FB_OK && attempt < 2; attempt++) {
        s_row_t row;
        rc = s_row_get(self, res->message_id, &row, res);
        if (rc != FB_OK || row.answered) {
            free(row.envelope);
            return rc;
        }
        if (!row.found) {
            rc = s_seal(self, msg, res->message_id, &row.envelope, &row.envelope_len, res);
            if (rc == FB_OK)
                rc = s_row_insert(self, res->message_id, msg->type, row.envelope, row.envelope_len);
        }
        if (rc == FB_OK)
            rc = s_transmit(self, res->message_id, row.envelope, row.envelope_len, res);
        free(row.envelope);
        if (rc != FB_ERR_STALE)
            return rc;
        /* Too old to be accepted and not held by the broker: seal it again. */
        adapter_log(self, FB_LOG_INFO, "msg_id=%s: stale, sealing again", res->message_id_hex);
        rc = s_exec_id(self, "DELETE FROM outbound WHERE message_id = ?", res->message_id);
        memset(res->detail, 0, sizeof res->detail);
        res->reason = FB_OK;
    }
    return rc == FB_ERR_STALE ? FB_OK : rc;
}

bool adapter_retry_later(fb_err_t rc)
{
    return s_is_transport(rc) || rc == FB_ERR_RATE_LIMITED || rc == FB_ERR_BACKLOG_FULL;
}

void adapter_result_clear(adapter_result_t *res)
{
    json_decref(res->receipt);
    res->receipt = NULL;
}

size_t adapter_flush(adapter_t *self)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "SELECT message_id FROM outbound WHERE answered = 0 ORDER BY rowid", -1,
                           &st, NULL) != SQLITE_OK)
        return 0;
    size_t n = 0, cap = 0;
    uint8_t(*ids)[FB_MESSAGE_ID_BYTES] = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != FB_MESSAGE_ID_BYTES)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            void *p = realloc(ids, cap * sizeof *ids);
            if (!p)
                break;
            ids = p;
        }
        memcpy(ids[n++], sqlite3_column_blob(st, 0), FB_MESSAGE_ID_BYTES);
    }
    sqlite3_finalize(st);
    size_t waiting = 0;
    for (size_t i = 0; i < n; i++) {
        adapter_result_t res = {0};
        memcpy(res.message_id, ids[i], FB_MESSAGE_ID_BYTES);
        fb_hex_encode(res.message_id, FB_MESSAGE_ID_BYTES, res.message_id_hex);
        s_row_t row;
        fb_err_t rc = s_row_get(self, ids[i], &row, NULL);
        if (rc == FB_OK && row.found && !row.answered)
            rc = s_transmit(self, ids[i], row.envelope, row.envelope_len, &res);
        free(row.envelope);
        if (rc == FB_OK && !res.accepted)
            adapter_log(self, FB_LOG_ERROR, "msg_id=%s refused by the broker: %s %s",
                        res.message_id_hex, fb_err_name(res.reason), res.detail);
        else if (rc == FB_ERR_STALE)
            s_exec_id(self, "DELETE FROM outbound WHERE message_id = ?", ids[i]);
        else if (rc != FB_OK)
            waiting++;
        adapter_result_clear(&res);
        if (s_is_transport(rc)) {
            waiting += n - i - 1;
            break;
        }
    }
    free(ids);
    return waiting;
}

/* ---- receiving ---- */

fb_err_t adapter_receive(adapter_t *self, int timeout_ms, adapter_on_delivery_fn fn, void *ctx)
{
    fb_client_t *client = adapter_client(self);
    if (!client)
        return FB_ERR_TRANSPORT;
    fb_delivery_t *d = NULL;
    fb_err_t rc = fb_client_recv(client, &d, timeout_ms);
    if (rc == FB_ERR_TIMEOUT || (rc == FB_ERR_TRANSPORT && s_stop))
        return FB_ERR_TIMEOUT; /* nothing, or a stop signal interrupted the wait */
    if (rc != FB_OK) {
        if (s_is_transport(rc) || rc == FB_ERR_PROTOCOL)
            s_drop_client(self, rc);
        else
            adapter_log(self, FB_LOG_WARN, "a delivery was refused: %s (not acknowledged)",
                        fb_err_str(rc));
        return s_is_transport(rc) ? FB_ERR_TRANSPORT : FB_OK;
    }
    bool unopened = false;
    json_t *event = fb_delivery_json(d, &self->keys, false, &unopened);
    const char *sender = d->body->sender;
    unsigned long long seq = (unsigned long long)d->store_seq;
    if (!event) {
        adapter_log(self, FB_LOG_ERROR,
                    "store_seq=%llu from %s: not representable as JSON; "
                    "not acknowledged",
                    seq, sender);
    } else if (unopened) {
        adapter_log(self, FB_LOG_ERROR,
                    "store_seq=%llu from %s: its sealed household does not open with our "
                    "encryption key (%s); not acknowledged",
                    seq, sender, json_string_value(json_object_get(event, "household_error")));
    } else {
        fb_err_t handled = fn(ctx, d, event);
        if (handled == FB_OK) {
            fb_err_t ack = fb_client_ack(client, d);
            if (ack != FB_OK)
                s_drop_client(self, ack);
        } else {
            adapter_log(self, FB_LOG_ERROR,
                        "store_seq=%llu from %s: not handled (%s); not "
                        "acknowledged",
                        seq, sender, fb_err_str(handled));
        }
    }
    json_decref(event);
    fb_delivery_destroy(&d);
    return FB_OK;
}

static void s_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void s_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int adapter_run(adapter_t *self, int tick_ms, adapter_on_delivery_fn fn, void (*tick)(void *ctx),
                void *ctx)
{
    s_catch_signals();
    int64_t next_tick = 0, next_flush = 0;
    while (!s_stop) {
        int64_t now = fb_now_ms();
        if (tick && now >= next_tick) {
            tick(ctx);
            next_tick = fb_now_ms() + tick_ms;
        }
        if (now >= next_flush) {
            if (self->client || adapter_client(self))
                adapter_flush(self);
            next_flush = fb_now_ms() + S_FLUSH_MS;
        }
        int wait = (int)(next_tick - fb_now_ms());
        wait = wait < 1 ? 1 : wait > tick_ms ? tick_ms : wait;
        fb_err_t rc = fn ? adapter_receive(self, wait, fn, ctx) : FB_ERR_TRANSPORT;
        if (rc == FB_ERR_TRANSPORT)
            s_sleep_ms(wait);
    }
    adapter_log(self, FB_LOG_INFO, "stopping");
    return 0;
}

/* ---- main() helpers ---- */

conf_t *adapter_main_config(const char *kind, int argc, char **argv, const char *usage,
                            const conf_key_t *keys, int *rc)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *path = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (c == 'c') {
            path = optarg;
        } else if (c == 'h') {
            fputs(usage, stdout);
            printf("\nsettings of the config file (name = value):\n");
            conf_print_keys(keys);
            *rc = 0;
            return NULL;
        } else {
            fprintf(stderr, "fluxbus-adapter-%s: unknown option or missing value: %s\n", kind,
                    argv[optind - 1]);
            *rc = 1;
            return NULL;
        }
    }
    if (!path || optind != argc) {
        fprintf(stderr, "usage: fluxbus-adapter-%s --config FILE (see --help)\n", kind);
        *rc = 1;
        return NULL;
    }
    char err[512];
    conf_t *conf = conf_load(path, keys, err, sizeof err);
    if (!conf) {
        fprintf(stderr, "fluxbus-adapter-%s: config: %s\n", kind, err);
        *rc = 2;
    }
    return conf;
}

void adapter_ready(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ready ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
}

/* ---- JSON of a message to send ---- */

const fb_catalog_entry_t *adapter_domain_type(const char *name)
{
    const fb_catalog_entry_t *e = name ? fb_catalog_by_name(name) : NULL;
    return e && e->type < FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_RECEIPT ? e : NULL;
}

/* Copies a JSON array of strings (absent: empty) into *out. */
static fb_err_t s_strings(const json_t *json, const char *name, const char ***out, size_t *n,
                          char *why, size_t whylen)
{
    const json_t *a = json_object_get(json, name);
    *out = NULL;
    *n = 0;
    if (!a)
        return FB_OK;
    if (!json_is_array(a)) {
        snprintf(why, whylen, "%s: expected an array of strings", name);
        return FB_ERR_PARSE;
    }
    *out = calloc(json_array_size(a) + 1, sizeof **out);
    if (!*out)
        return FB_ERR_NOMEM;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s || !*s) {
            snprintf(why, whylen, "%s[%zu]: expected a non-empty string", name, i);
            return FB_ERR_PARSE;
        }
        (*out)[(*n)++] = s;
    }
    return FB_OK;
}

fb_err_t adapter_json_msg(const json_t *json, adapter_json_msg_t *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(json)) {
        snprintf(why, whylen, "expected a JSON object");
        return FB_ERR_PARSE;
    }
    const char *known[] = {"type", "to", "topics", "correlation_id", "payload", "household"};
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)json, key, value)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            ok = ok || strcmp(key, known[i]) == 0;
        if (!ok) {
            snprintf(why, whylen,
                     "%s: unknown member (expected type, to, topics, "
                     "correlation_id, payload, household)",
                     key);
            return FB_ERR_PARSE;
        }
    }
    const char *type = json_string_value(json_object_get(json, "type"));
    if (!(out->entry = adapter_domain_type(type))) {
        snprintf(why, whylen, type ? "type: unknown message type \"%s\"" : "type: missing%s",
                 type ? type : "");
        return FB_ERR_PARSE;
    }
    const json_t *payload = json_object_get(json, "payload");
    if (!json_is_object(payload)) {
        snprintf(why, whylen, "payload: missing or not an object");
        return FB_ERR_PARSE;
    }
    char inner[384];
    fb_err_t rc = fb_json_to_message(out->entry->desc, payload, &out->payload, inner, sizeof inner);
    if (rc == FB_ERR_PARSE)
        snprintf(why, whylen, "payload.%s", inner);
    const json_t *household = json_object_get(json, "household");
    if (rc == FB_OK && household) {
        if (out->entry->type != FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_DESIGNATION) {
            snprintf(why, whylen, "household: only a Designation carries a household");
            return FB_ERR_PARSE;
        }
        rc = fb_json_to_message(&fluxbus__v1__household_details__descriptor, household,
                                &out->household, inner, sizeof inner);
        if (rc == FB_ERR_PARSE)
            snprintf(why, whylen, "household.%s", inner);
    }
    const char *correlation = json_string_value(json_object_get(json, "correlation_id"));
    if (rc == FB_OK)
        rc = s_strings(json, "to", &out->to, &out->msg.n_to, why, whylen);
    if (rc == FB_OK)
        rc = s_strings(json, "topics", &out->topics, &out->msg.n_topics, why, whylen);
    out->msg.type = out->entry->type;
    out->msg.to = out->to;
    out->msg.topics = out->topics;
    out->msg.correlation_id = correlation && *correlation ? correlation : NULL;
    out->msg.payload = out->payload;
    out->msg.household = out->household;
    return rc;
}

void adapter_json_msg_free(adapter_json_msg_t *m)
{
    fb_json_free_message(m->payload);
    fb_json_free_message(m->household);
    free(m->to);
    free(m->topics);
    memset(m, 0, sizeof *m);
}
