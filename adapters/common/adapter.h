/* adapter.h - an adapter's link to the broker, shared by every adapter:
 * its keys, its connection (made again after a broker restart), its own
 * SQLite state file, the durable sending of messages and the receiving of
 * deliveries.
 *
 * Sending (adapter_send): the message id is derived from the content
 * (sender, type, recipients, topics, correlation, payload, household), so
 * the same content offered twice - a file dropped twice, a POST repeated -
 * is one message. The signed envelope is written to the state file before it
 * leaves, and the broker's signed receipt after; a message sent again finds
 * its receipt there (duplicate), and one whose answer never came is sent
 * again with the same bytes (the broker answers with its original receipt).
 * A refusal (Nack) is returned and forgotten: the broker stored nothing, so
 * the same content may be offered again once the cause is fixed.
 *
 * Receiving (adapter_receive): each delivery, verified end to end by the
 * client library, is given to the caller as the JSON of `fluxbus tail`
 * (household opened with the adapter's encryption key) and acknowledged
 * only when the caller says it is durably handled. A delivery whose
 * household does not open with our key is not acknowledged (it stays on the
 * broker for a key file that can open it) and is logged.
 *
 * One thread: an adapter runs its loop (adapter_run) and everything else
 * from it. */
#ifndef FLUXBUS_ADAPTER_ADAPTER_H
#define FLUXBUS_ADAPTER_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <sqlite3.h>

#include "conf.h"
#include "fluxbus/fluxbus.h"

typedef struct adapter adapter_t;

/* Opens the adapter named `kind` ("bailleur") from its config (CONF_KEYS_BUS
 * settings): loads the key files, opens (creating) the state file with the
 * tables of this module. Does not connect yet. NULL with a reason in err. */
adapter_t *adapter_open(const char *kind, const conf_t *conf, char *err, size_t errlen);

void adapter_close(adapter_t **self_p);

/* After adapter_open() failed: the exit code the adapter's main() returns,
 * as docs/OPERATIONS.md documents them: 2 for the configuration or a key
 * file, 3 for the state file. */
int adapter_open_exit_code(void);

/* This adapter's actor id (from its key file), its keys, its state file
 * (for the adapter's own tables: create them with CREATE TABLE IF NOT
 * EXISTS), and the kind given to adapter_open. */
const char *adapter_actor(const adapter_t *self);
const fb_keys_t *adapter_keys(const adapter_t *self);
sqlite3 *adapter_db(adapter_t *self);
const char *adapter_kind(const adapter_t *self);

/* Log line "fluxbus-adapter-<kind>: <level>: <message>" on stderr, at or
 * above the configured log_level. */
void adapter_log(const adapter_t *self, fb_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The connected client, connecting first if needed (at most one attempt per
 * second: NULL meanwhile, and while the broker is unreachable). */
fb_client_t *adapter_client(adapter_t *self);

/* True while the adapter holds a connection to the broker; unlike
 * adapter_client, never tries to connect (so never waits). */
bool adapter_connected(const adapter_t *self);

/* A message to send. The payload is a message of the type's descriptor; a
 * household (Designation only) is sealed for the one recipient's encryption
 * key, fetched from the broker. in_reply_to is part of the content: the same
 * answer to another message is another message. */
typedef struct {
    int type;
    const char *const *to;
    size_t n_to;
    const char *const *topics;
    size_t n_topics;
    const char *correlation_id; /* NULL: the payload's vacancy_id, if any */
    const ProtobufCMessage *payload;
    const ProtobufCMessage *household; /* HouseholdDetails or NULL */
    const uint8_t *in_reply_to;        /* FB_MESSAGE_ID_BYTES: the message this answers, or NULL */
} adapter_msg_t;

/* The outcome of a send. */
typedef struct {
    uint8_t message_id[FB_MESSAGE_ID_BYTES];
    char message_id_hex[2 * FB_MESSAGE_ID_BYTES + 1];
    bool accepted;    /* receipt (true) or Nack (false) */
    bool duplicate;   /* this content had been accepted before */
    fb_err_t reason;  /* Nack reason */
    char detail[256]; /* Nack detail */
    uint64_t store_seq;
    int64_t accepted_at_ms;
    json_t *receipt; /* {"message_id", "store_seq", "accepted_at_ms",
                        "duplicate", "receipt_b64"}: the signed receipt */
} adapter_result_t;

/* Sends durably (see above). FB_OK when the broker answered (res->accepted
 * tells which way); FB_ERR_TIMEOUT / FB_ERR_TRANSPORT when it could not be
 * reached, FB_ERR_RATE_LIMITED / FB_ERR_BACKLOG_FULL when the broker asked
 * to slow down (adapter_retry_later() tells these apart): the message is
 * kept and adapter_flush sends it later (offering it again is safe); another
 * error (FB_ERR_INVALID, FB_ERR_UNKNOWN_KEY for a household with no
 * recipient key, FB_ERR_STORE...) when it could not be built or recorded,
 * with a reason in res->detail. Clear res with adapter_result_clear. */
fb_err_t adapter_send(adapter_t *self, const adapter_msg_t *msg, adapter_result_t *res);

/* The message id adapter_send would use for msg (hex in id_hex). */
fb_err_t adapter_message_id(const adapter_t *self, const adapter_msg_t *msg,
                            uint8_t id[FB_MESSAGE_ID_BYTES]);

void adapter_result_clear(adapter_result_t *res);

/* True for the adapter_send results that mean "not now, try again later". */
bool adapter_retry_later(fb_err_t rc);

/* Sends again the messages whose answer never came. Returns how many are
 * still waiting. */
size_t adapter_flush(adapter_t *self);

/* Handles one delivery: `event` is its JSON (as `fluxbus tail` prints it,
 * with "household" opened when there is one). Return FB_OK once it is
 * durably handled (then it is acknowledged), anything else to leave it
 * unacknowledged (logged; the broker delivers it again after a reconnect). */
typedef fb_err_t (*adapter_on_delivery_fn)(void *ctx, const fb_delivery_t *delivery,
                                           const json_t *event);

/* Waits up to timeout_ms for one delivery and handles it. FB_OK when one was
 * handled, FB_ERR_TIMEOUT when none came, FB_ERR_TRANSPORT when the broker
 * is unreachable (the connection is dropped and made again later). */
fb_err_t adapter_receive(adapter_t *self, int timeout_ms, adapter_on_delivery_fn fn, void *ctx);

/* The adapter's main loop, until SIGINT or SIGTERM: receive deliveries (fn),
 * call tick(ctx) every tick_ms (spool scans, HTTP, timers) - also while the
 * broker is unreachable -, and flush unanswered messages. Returns 0 on a
 * clean stop. */
int adapter_run(adapter_t *self, int tick_ms, adapter_on_delivery_fn fn, void (*tick)(void *ctx),
                void *ctx);

/* True once SIGINT or SIGTERM was received (adapter_run installs the
 * handlers). */
bool adapter_stopping(void);

/* ---- shared parts of adapters' main() ---- */

/* Parses "fluxbus-adapter-<kind> --config FILE" (and --help, printing `usage`
 * and the key table). Returns the config or NULL with the exit code in *rc. */
conf_t *adapter_main_config(const char *kind, int argc, char **argv, const char *usage,
                            const conf_key_t *keys, int *rc);

/* Prints "ready <what>" on stdout and flushes (scripts and tests wait for
 * it). */
void adapter_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- JSON of messages (the spool and HTTP forms) ---- */

/* A message in JSON: {"type": "Orientation", "to": [...], "topics": [...],
 * "correlation_id": "...", "payload": {...}, "household": {...}}; "type" and
 * "payload" required, the others optional. Fills *out with pointers into
 * `json` and new messages (free with adapter_json_msg_free, after an error
 * too). FB_ERR_PARSE with the field path and reason in why ("payload.typologie:
 * unknown enum value ..."). The to/topics arrays are owned by *out. */
typedef struct {
    adapter_msg_t msg;
    const fb_catalog_entry_t *entry;
    ProtobufCMessage *payload;
    ProtobufCMessage *household;
    const char **to, **topics;
} adapter_json_msg_t;

fb_err_t adapter_json_msg(const json_t *json, adapter_json_msg_t *out, char *why, size_t whylen);
void adapter_json_msg_free(adapter_json_msg_t *m);

/* The domain message type named `name` (catalog names, either spelling), or
 * NULL (the bus's own types are not sent by adapters). */
const fb_catalog_entry_t *adapter_domain_type(const char *name);

#endif
