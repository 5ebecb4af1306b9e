/* harness.h - runs the real fluxbus-broker binary for integration tests.
 *
 * Each test gets a fresh temporary directory holding the broker key, the
 * SQLite store and the broker's log. The broker is started on
 * tcp://127.0.0.1:* and the harness waits for its "ready" line (never a
 * sleep); a restart reuses the same port. Actors are registered in the store
 * the way `fluxbus actor add` does it. */
#ifndef FLUXBUS_TEST_HARNESS_H
#define FLUXBUS_TEST_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <sys/types.h>
#include <cmocka.h>

#include <jansson.h>

#include "fluxbus/fluxbus.h"

typedef struct {
    char dir[256];
    char store[512];
    char key[512];
    char log[512];
    char endpoint[128];
    fb_keys_t keys; /* broker keys */
    pid_t pid;
    int fail_fsync;       /* start the broker with the failing-fsync shim (see fbt_fail_fsync) */
    int slow_fsync_ms;    /* start it with the shim making every fsync take this long */
    const char *args[16]; /* extra broker flags, e.g. "--rate", "20"; NULL-terminated */
} fbt_broker_t;

/* Creates the temp dir and broker key. Asserts on failure. */
void fbt_setup(fbt_broker_t *b);

/* Starts the broker and waits (up to 15 s) for its ready line. */
void fbt_start(fbt_broker_t *b);

/* Sends sig and waits for the process; returns its exit status (or 128+sig). */
int fbt_stop(fbt_broker_t *b, int sig);

/* Waits for the broker to exit by itself (up to timeout_ms); returns its
 * exit status, or -1 if it is still running. */
int fbt_wait_exit(fbt_broker_t *b, int timeout_ms);

/* With b->fail_fsync set before fbt_start: from now on every fsync of the
 * broker fails with EIO (on = 1) or works again (on = 0). */
void fbt_fail_fsync(fbt_broker_t *b, int on);

/* Stops a running broker and removes the temp dir. */
void fbt_teardown(fbt_broker_t *b);

/* Generates keys for `id` and registers the actor with roles/territories,
 * its signing key and its encryption key. */
void fbt_actor(fbt_broker_t *b, const char *id, const char *roles, const char *territories,
               fb_keys_t *out);

/* Runs a shell command made with printf-style `fmt` (e.g. FB_CLI_BIN and its
 * arguments); returns its exit status, -1 if it did not exit normally. */
int fbt_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Connects a client for `keys`; asserts it works. */
fb_client_t *fbt_client(fbt_broker_t *b, const fb_keys_t *keys);

/* Connects without asserting; returns NULL and *err on failure. */
fb_client_t *fbt_try_client(fbt_broker_t *b, const fb_keys_t *keys, int timeout_ms, fb_err_t *err);

/* A packed LogementLibere for vacancy `vacancy` in commune `insee` (caller frees). */
uint8_t *fbt_logement(const char *vacancy, const char *insee, size_t *len);

/* A packed CaleolSeance for `seance` in commune `insee` (caller frees). */
uint8_t *fbt_seance(const char *seance, const char *insee, size_t *len);

/* A packed Designation (rank 1 of 1) of demande `nur` for vacancy `vacancy`
 * naming the household `sealed` (fb_sealed_bind; NULL: none) (caller
 * frees). */
uint8_t *fbt_designation(const char *vacancy, const char *nur, const fb_sealed_t *sealed,
                         size_t *len);

/* A packed BailSigne of demande `nur` for vacancy `vacancy` (caller frees). */
uint8_t *fbt_bail_signe(const char *vacancy, const char *nur, size_t *len);

/* The convention fbt_orient orients under. */
#define FBT_CONV "conv-test"

/* What the ledger wants before any orientation en flux (docs/LEDGER.md,
 * "Checks at orientation time"): the smallest Convention it takes, sent by
 * the bailleur's client cb to `resa` only: `id`, revision 1, cb's actor as
 * bailleur (SIREN 552046955), `resa` as réservataire, this year (Paris), no
 * objective (no maximum), no territory (every commune), no délai. Sent
 * again, it is a duplicate (accepted, nothing changes). When cr (resa's
 * client) is not NULL it receives and acks it. Asserts it is accepted;
 * returns its store sequence. */
uint64_t fbt_convention(fb_client_t *cb, const char *id, const char *resa, fb_client_t *cr);

/* What the ledger's lifecycle wants before a Designation (docs/LEDGER.md):
 * the bailleur's client cb frees `vacancy` (LogementLibere, commune 74010)
 * and orients it to `resa` under FBT_CONV (which fbt_convention must have
 * sent first, for `resa`), `expected` candidates expected, both sent to
 * `resa` only. When cr (resa's client) is not NULL it receives and acks
 * both. Asserts both are accepted. */
void fbt_orient(fb_client_t *cb, const char *resa, const char *vacancy, unsigned expected,
                fb_client_t *cr);

/* The bailleur's client cb sends the CALEOL's ATTRIBUTION of demande `nur`
 * on `vacancy` to `resa` (designataire); cr as in fbt_orient. */
void fbt_attribute(fb_client_t *cb, const char *resa, const char *vacancy, const char *nur,
                   fb_client_t *cr);

/* The CALEOL agrees: the bailleur's client cb sends the session "S-<vacancy>"
 * (commune 74010, sitting now, `vacancy` on its agenda), then its
 * ATTRIBUTION of demande `nur`, rank 1, credited to `resa`, with the Q1
 * flag `q1`; both to `resa`, asserted accepted. */
void fbt_caleol_agree(fb_client_t *cb, const char *resa, const char *vacancy, const char *nur,
                      bool q1);

/* The household accepts and signs: the bailleur's client cb sends the
 * PropositionReponse ACCEPTEE of demande `nur` on `vacancy` (answered now),
 * then its BailSigne credited to `resa` under `convention` (SIREN
 * 552046955, commune 74010) with the Q1 flag `q1`; both to `resa`,
 * asserted accepted. */
void fbt_accept_and_lease(fb_client_t *cb, const char *resa, const char *vacancy, const char *nur,
                          const char *convention, bool q1);

/* Sends one message of `type` to one recipient or topic; returns fb_client_send's result. */
fb_err_t fbt_send(fb_client_t *c, int type, const char *to, const char *topic,
                  const uint8_t *payload, size_t len, fb_receipt_t *receipt);

/* Packs `payload` and sends it from c to `to` with correlation id corr
 * (NULL for none); returns fb_client_send's result, the receipt in *rec. */
fb_err_t fbt_send_msg(fb_client_t *c, int type, const char *to, const char *corr,
                      const ProtobufCMessage *payload, fb_receipt_t *rec);

/* Packs `payload` and seals it from c to `to` without sending it: the
 * envelope to *env (free it), its length to *len, its message id to id.
 * For tests that send the same bytes again or through fb_client_send_raw. */
void fbt_seal_msg(fb_client_t *c, int type, const char *to, const ProtobufCMessage *payload,
                  uint8_t **env, size_t *len, uint8_t id[FB_MESSAGE_ID_BYTES]);

/* fbt_send_msg, asserting the broker accepted it (fails the test with the
 * reason and detail otherwise); returns its store sequence. */
uint64_t fbt_send_ok(fb_client_t *c, int type, const char *to, const char *corr,
                     const ProtobufCMessage *payload);

/* rc and rec are a Nack the broker signed (verified by the client) with
 * reason `want` and exactly `detail`, or, `detail` ending in "...", a detail
 * starting with it. */
void fbt_expect_nack(fb_err_t rc, const fb_receipt_t *rec, fb_err_t want, const char *detail);

/* `fluxbus audit verify` passes on b's store and counts `messages`. */
void fbt_audit_ok(const fbt_broker_t *b, uint64_t messages);

/* What a test sent: the message id and the store seq its receipt names. */
typedef struct {
    uint8_t id[FB_MESSAGE_ID_BYTES];
    uint64_t seq;
} fbt_sent_t;

/* c sends n LogementLibere (vacancies "<prefix>-<i>", commune 74010) to
 * `to`, for i from first; each receipt's message id and store seq go to
 * sent[i]. Asserts each is accepted, new, and stored after sent[i - 1]. */
void fbt_send_logements(fb_client_t *c, const char *to, const char *prefix, fbt_sent_t *sent,
                        size_t first, size_t n);

/* Receives the next delivery on c (up to 5 s) and asserts it is sent[i], a
 * LogementLibere; returns it, not acked (caller destroys). */
fb_delivery_t *fbt_expect_sent(fb_client_t *c, const fbt_sent_t *sent, size_t i);

/* Receives (up to timeout_ms), checks, acks; returns NULL on timeout. */
fb_delivery_t *fbt_recv_ack(fb_client_t *c, int timeout_ms);

/* Receives and acks on c (each up to timeout_ms) until a delivery in reply
 * to message `id`, skipping at most skip_max others; returns it (caller
 * destroys). Fails the test when none comes. */
fb_delivery_t *fbt_recv_reply_to(fb_client_t *c, const uint8_t id[FB_MESSAGE_ID_BYTES],
                                 int timeout_ms, int skip_max);

/* Asserts no delivery arrives on c within quiet_ms; one that does is acked
 * and printed. */
void fbt_expect_nothing(fb_client_t *c, int quiet_ms);

/* A LogementLibere envelope built by hand, not by a client, so that it may
 * lie: its body claims `sender` and `key_id`, is addressed to `to` with
 * `correlation`, carries `payload` and a fresh message id (copied to id),
 * and it is signed with `keys`. Caller frees. */
uint8_t *fbt_forge(const fb_keys_t *keys, const char *sender, const char *key_id, const char *to,
                   const char *correlation, const uint8_t *payload, size_t len, size_t *env_len,
                   uint8_t id[FB_MESSAGE_ID_BYTES]);

/* Lets a test change a well-formed body before it is signed. */
typedef void (*fbt_body_fn)(Fluxbus__V1__SignedBody *body, void *ctx);

/* A LogementLibere envelope from keys->actor signed with `keys`, addressed
 * to `to`, after `edit` (may be NULL) changed its body as it likes; a fresh
 * message id is copied to id. Caller frees. */
uint8_t *fbt_forge_with(const fb_keys_t *keys, const char *to, const uint8_t *payload, size_t len,
                        fbt_body_fn edit, void *ctx, size_t *env_len,
                        uint8_t id[FB_MESSAGE_ID_BYTES]);

/* As fbt_forge_with, with n_att attachments bound by their digests. */
uint8_t *fbt_forge_attached(const fb_keys_t *keys, const char *to, const uint8_t *payload,
                            size_t len, const ProtobufCBinaryData *att, size_t n_att,
                            fbt_body_fn edit, void *ctx, size_t *env_len,
                            uint8_t id[FB_MESSAGE_ID_BYTES]);

/* Registry changes while the broker runs, made as the CLI makes them. */
void fbt_revoke_actor(fbt_broker_t *b, const char *id);
void fbt_revoke_key(fbt_broker_t *b, const char *key_id);
/* Registers keys' signing key (and encryption key, if it has one) for
 * keys->actor, valid from now - 1 s until valid_until_ms (0 = no end). */
void fbt_add_key(fbt_broker_t *b, const fb_keys_t *keys, int64_t valid_until_ms);

/* True when the broker's log contains `needle`. */
int fbt_log_contains(const fbt_broker_t *b, const char *needle);

/* True when the file at `path` contains the `len` bytes of `needle`
 * anywhere; false when it does not, or does not exist. */
int fbt_file_contains(const char *path, const void *needle, size_t len);

/* Runs the shell command made from fmt (printf-style) and returns its exit
 * status (-1 if it did not exit normally). Its standard output goes to out
 * (NUL-terminated, cut at cap - 1 bytes) when out is not NULL, else through;
 * stderr goes through. */
int fbt_sh(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The integer the sqlite3 shell reads from the broker's store with `sql`
 * (another process: it sees what was committed); the test fails when the
 * shell does. */
long long fbt_sql_int(const fbt_broker_t *b, const char *sql);

/* The Paris calendar year now (the year of the broker's décompte). */
int fbt_year_now(void);

/* What the sqlite3 shell prints (up to 64 KiB) for `sql`, statements
 * without a single quote, on b's store; the caller frees it. The test
 * fails when the shell does. */
char *fbt_sql_text(const fbt_broker_t *b, const char *sql);

/* The headless Chromium the HTML reports are checked with (chromium or
 * chromium-browser on PATH), or NULL when none is installed. */
const char *fbt_chromium(void);

/* Renders the page file `page` in headless Chromium (its profile under b's
 * directory): the DOM into dom (NUL-terminated, cut at cap - 1 bytes) and,
 * when png is not NULL, a screenshot of width x height into png. Asserts
 * both ran. */
void fbt_chromium_render(const fbt_broker_t *b, const char *chromium, const char *page, char *dom,
                         size_t cap, const char *png, int width, int height);

/* In a report page's DOM, the sum of the data-value of every bar of one
 * series of its monthly chart (data-series="series"). */
int fbt_html_series_sum(const char *dom, const char *series);

/* Fails the test, naming the first missing one, unless the DOM holds each
 * of the n strings of `figures`. */
void fbt_dom_holds(const char *dom, const char *const *figures, size_t n);

/* Fails the test unless the file at `png` is a real picture: a PNG of more
 * than 20,000 bytes (a blank page is smaller). */
void fbt_png_ok(const char *png);

/* Fails the test unless each line of every table of a report's CSV (';'
 * between fields, a table starting at its header line "table;...") has as
 * many fields as the header. Cuts csv into lines in place (strtok_r). */
void fbt_csv_tables_even(char *csv);

/* The integer at the dotted `path` ("total.done") below obj; fails the
 * test when there is none there. */
json_int_t fbt_json_int(const json_t *obj, const char *path);

/* The two actors most scenarios need: the bailleur FBT_BAILLEUR and the
 * réservataire FBT_RESA, registered with their role and no territory, on a
 * broker of their own. cb and cr are their clients, NULL while not
 * connected; a test may connect, destroy or replace them. */
#define FBT_BAILLEUR "bailleur:552046955"
#define FBT_RESA "reservataire:action-logement"

typedef struct {
    fbt_broker_t b;
    fb_keys_t bailleur, resa;
    fb_client_t *cb, *cr;
    uint64_t last_seq; /* the highest store seq fbt_pair_try / fbt_pair_ok saw accepted */
} fbt_pair_t;

/* Sets up and starts the broker with both actors registered and connects
 * both (cb, cr). Asserts on failure. */
void fbt_pair_open(fbt_pair_t *w);

/* As fbt_pair_open, the broker started with extra flags (NULL-terminated,
 * e.g. {"--rate", "20", NULL}). */
void fbt_pair_open_with(fbt_pair_t *w, const char *const *args);

/* As fbt_pair_open, but only the bailleur connects: the réservataire has
 * never connected (cr is NULL). */
void fbt_pair_open_offline(fbt_pair_t *w);

/* Destroys cb and cr, stops the broker cleanly (asserts SIGTERM gives exit
 * 0), starts it again on the same store and port and reconnects both. */
void fbt_pair_restart(fbt_pair_t *w);

/* Destroys the clients still connected, stops the broker cleanly (asserts
 * SIGTERM gives exit 0) and removes the temp dir. */
void fbt_pair_close(fbt_pair_t *w);

/* fbt_send_msg from c (one of w's clients or another on w's broker),
 * raising w->last_seq to the store seq of an accepted message. */
fb_err_t fbt_pair_try(fbt_pair_t *w, fb_client_t *c, int type, const char *to, const char *corr,
                      const ProtobufCMessage *payload, fb_receipt_t *rec);

/* fbt_send_ok from c, raising w->last_seq likewise. */
void fbt_pair_ok(fbt_pair_t *w, fb_client_t *c, int type, const char *to, const char *corr,
                 const ProtobufCMessage *payload);

/* c's message is refused with `want` and `detail` (fbt_expect_nack), and
 * nothing changes: w->last_seq stays, and what `sql` reads from the store
 * (fbt_sql_text) is the same after as before. */
void fbt_pair_refused(fbt_pair_t *w, const char *sql, fb_client_t *c, int type, const char *to,
                      const char *corr, const ProtobufCMessage *payload, fb_err_t want,
                      const char *detail);

#endif
