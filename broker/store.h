/* store.h - the broker's durable state in one SQLite file (WAL,
 * synchronous=FULL): the actor registry (actors, signing and encryption
 * keys, mandates), accepted messages with their receipts and audit chain
 * links, per-recipient delivery queues, durable subscriptions, and the
 * retention purge with its log.
 *
 * This module is the only one that knows SQL. Functions are named for what
 * they mean to the bus; all return fb_err_t (FB_ERR_STORE on a database
 * error, FB_ERR_NOT_FOUND when a looked-up row is absent). A store handle is
 * used by one thread. */
#ifndef FLUXBUS_BROKER_STORE_H
#define FLUXBUS_BROKER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "fluxbus/envelope.h"
#include "fluxbus/err.h"
#include "fluxbus/keys.h"

typedef struct store store_t;

#define STORE_LIST_MAX 512 /* roles / territories, comma-separated */

typedef struct {
    char id[FB_ACTOR_MAX];
    char roles[STORE_LIST_MAX];       /* e.g. "commune,reservataire" */
    char territories[STORE_LIST_MAX]; /* INSEE codes, e.g. "74010,74011" */
    uint8_t transport_key[FB_CURVE_KEY_BYTES];
    int64_t created_at_ms;
    int64_t revoked_at_ms; /* 0 = active */
} store_actor_t;

/* A registered key: a signing key (Ed25519) or an encryption key (X25519);
 * both are 32 bytes and named by fb_key_id() of the public key. */
typedef struct {
    char actor[FB_ACTOR_MAX];
    char key_id[FB_KEY_ID_CHARS + 1];
    uint8_t public_key[FB_SIGN_PK_BYTES];
    int64_t valid_from_ms;
    int64_t valid_until_ms; /* 0 = no end */
    int64_t revoked_at_ms;  /* 0 = not revoked */
} store_key_t;
_Static_assert(FB_ENC_KEY_BYTES == FB_SIGN_PK_BYTES, "store_key_t holds both kinds of keys");

/* A message as accepted, to be written by store_put. */
typedef struct {
    const char *sender;
    const uint8_t *message_id; /* 16 bytes */
    uint64_t sender_seq;
    int type;
    const char *correlation_id;
    const char *key_id;
    const uint8_t *envelope;
    size_t envelope_len;
    const uint8_t *envelope_sha256; /* 32 bytes */
    int64_t created_at_ms;
    int64_t accepted_at_ms;
} store_message_t;

/* The message to store for an accepted envelope (`envelope`, `len` bytes,
 * its SHA-256 `sha256`) whose signed body is `body`, accepted at
 * accepted_at_ms. Everything is borrowed: body, envelope and sha256 must
 * outlive the store_put that writes it. */
store_message_t store_message_of(const Fluxbus__V1__SignedBody *body, const uint8_t *envelope,
                                 size_t len, const uint8_t sha256[32], int64_t accepted_at_ms);

/* What the store remembers of an accepted message, for dedup. */
typedef struct {
    uint64_t seq;
    uint8_t envelope_sha256[32];
    int64_t accepted_at_ms;
} store_seen_t;

/* Opens (creating if needed) the store at path and brings its schema to the
 * current version. On error returns NULL and, if errbuf, a reason. */
store_t *store_open(const char *path, char *errbuf, size_t errlen);

/* Closes the store; safe on NULL and twice. */
void store_destroy(store_t **self_p);

/* Whether the connection checkpoints the WAL itself after a COMMIT (SQLite's
 * automatic checkpoint, the default) or leaves it to a checkpointer
 * (checkpointer.h), checkpointing itself only once the WAL passes
 * STORE_WAL_FALLBACK_FRAMES (the checkpointer stalled or absent). */
#define STORE_WAL_FALLBACK_FRAMES 16384
void store_checkpoint_on_commit(store_t *self, bool on);

/* The broker's connection only: from now on COMMIT writes the WAL without
 * waiting for the disk (synchronous=NORMAL); a commit is durable once the
 * caller has made the WAL durable after it (walsync.h), and the caller
 * lets nothing of it leave before. Everyone else keeps store_commit's
 * durable COMMIT (synchronous=FULL). */
fb_err_t store_defer_sync(store_t *self);
/* How many commits that wrote the connection has made: the generation
 * walsync.h makes durable. */
uint64_t store_commits(const store_t *self);

/* ---- registry ---- */
fb_err_t store_actor_add(store_t *self, const store_actor_t *actor, const char *by);
fb_err_t store_actor_get(store_t *self, const char *id, store_actor_t *out);
fb_err_t store_actor_by_transport_key(store_t *self, const uint8_t key[FB_CURVE_KEY_BYTES],
                                      store_actor_t *out);
fb_err_t store_actor_revoke(store_t *self, const char *id, int64_t at_ms, const char *by);
typedef void (*store_actor_fn)(void *ctx, const store_actor_t *actor);
fb_err_t store_actor_each(store_t *self, store_actor_fn fn, void *ctx);

fb_err_t store_key_add(store_t *self, const store_key_t *key, const char *by);
/* Rotation in one transaction: adds key, and ends the actor's other live
 * signing keys at others_until_ms (the overlap during which both verify),
 * unless they already end sooner. */
fb_err_t store_key_rotate(store_t *self, const store_key_t *key, int64_t others_until_ms,
                          const char *by);
fb_err_t store_key_get(store_t *self, const char *key_id, store_key_t *out);
fb_err_t store_key_revoke(store_t *self, const char *key_id, int64_t at_ms, const char *by);
typedef void (*store_key_fn)(void *ctx, const store_key_t *key);
fb_err_t store_key_each(store_t *self, const char *actor, store_key_fn fn, void *ctx);

/* True when `key` may be used at now_ms: not revoked by then, now_ms within
 * [valid_from_ms, valid_until_ms] (no end when valid_until_ms is 0). */
bool store_key_valid_at(const store_key_t *key, int64_t now_ms);

/* Encryption keys (X25519: others seal household data for the actor), in a
 * table of their own; each change is logged like the signing keys'
 * ("enc_key.add", "enc_key.revoke"). store_enc_key_each lists an actor's
 * keys in valid_from order. */
fb_err_t store_enc_key_add(store_t *self, const store_key_t *key, const char *by);
/* As store_key_rotate, for the actor's encryption keys. */
fb_err_t store_enc_key_rotate(store_t *self, const store_key_t *key, int64_t others_until_ms,
                              const char *by);
fb_err_t store_enc_key_get(store_t *self, const char *key_id, store_key_t *out);
fb_err_t store_enc_key_revoke(store_t *self, const char *key_id, int64_t at_ms, const char *by);
fb_err_t store_enc_key_each(store_t *self, const char *actor, store_key_fn fn, void *ctx);

/* The actor's current encryption key: valid at now_ms (store_key_valid_at),
 * the latest valid_from among those. FB_ERR_NOT_FOUND when it has none. */
fb_err_t store_enc_key_current(store_t *self, const char *actor, int64_t now_ms, store_key_t *out);

/* Réservataire `reservataire` delegates designation on its contingent to
 * bailleur `bailleur` (gestion déléguée). */
fb_err_t store_mandate_add(store_t *self, const char *reservataire, const char *bailleur,
                           const char *by);
bool store_mandate_exists(store_t *self, const char *reservataire, const char *bailleur);

/* True when a role appears in a comma-separated list. */
bool store_list_has(const char *list, const char *item);

/* ---- subscriptions ---- */
fb_err_t store_subscribe(store_t *self, const char *actor, const char *topic);
typedef void (*store_subscriber_fn)(void *ctx, const char *actor);
fb_err_t store_subscribers(store_t *self, const char *topic, store_subscriber_fn fn, void *ctx);

/* ---- messages and queues ---- */
fb_err_t store_begin(store_t *self);
/* True when the transaction store_begin() opened has changed a row (the
 * store's or the ledger's, on the same connection): its COMMIT will reach
 * the disk, an fdatasync. A transaction that changed nothing commits
 * without writing. */
bool store_has_writes(store_t *self);
/* Commits durably (synchronous=FULL; after store_defer_sync, durable only
 * once the WAL is synced, walsync.h). FB_ERR_STORE means nothing can be
 * assumed on disk: the caller must not acknowledge. */
fb_err_t store_commit(store_t *self);
void store_rollback(store_t *self);

fb_err_t store_find(store_t *self, const char *sender, const uint8_t *message_id,
                    store_seen_t *out);
fb_err_t store_put(store_t *self, const store_message_t *msg, uint64_t *seq_out);
fb_err_t store_set_receipt(store_t *self, uint64_t seq, const uint8_t *receipt, size_t len);
/* Sets the audit chain link of message seq (fluxbus/audit_chain.h), in the
 * transaction that stored it. FB_ERR_NOT_FOUND if there is no such message. */
fb_err_t store_set_chain_link(store_t *self, uint64_t seq, const uint8_t link[FB_DIGEST_BYTES]);
/* store_set_receipt and store_set_chain_link in one write (the broker's
 * path: both are known once the turn's receipts are sealed). */
fb_err_t store_set_receipt_and_link(store_t *self, uint64_t seq, const uint8_t *receipt, size_t len,
                                    const uint8_t link[FB_DIGEST_BYTES]);
/* The audit chain head: the link of the last stored message and its seq, or
 * 32 zero bytes and seq 0 for an empty store (the link that message 1
 * follows). FB_ERR_MALFORMED (out zeroed) if that message has no 32-byte
 * link: the store was damaged and the chain cannot be extended. */
fb_err_t store_chain_head(store_t *self, uint8_t out[FB_DIGEST_BYTES], uint64_t *seq_out);
fb_err_t store_get_receipt(store_t *self, uint64_t seq, uint8_t **out, size_t *out_len);
fb_err_t store_enqueue(store_t *self, uint64_t seq, const char *recipient);

/* Calls fn for up to `limit` undelivered messages of `recipient` with
 * seq > after_seq, in seq order. The bytes are valid during the call only. */
typedef void (*store_pending_fn)(void *ctx, uint64_t seq, const uint8_t *envelope, size_t len,
                                 const char *key_id);
fb_err_t store_pending_for(store_t *self, const char *recipient, uint64_t after_seq, size_t limit,
                           store_pending_fn fn, void *ctx);

/* Marks one delivery done. FB_ERR_NOT_FOUND if it was not pending. */
fb_err_t store_mark_acked(store_t *self, const char *recipient, uint64_t seq, int64_t at_ms);

/* Per-recipient backlog (pending count and oldest pending seq). */
typedef void (*store_backlog_fn)(void *ctx, const char *recipient, uint64_t pending,
                                 uint64_t oldest_seq);
fb_err_t store_backlog(store_t *self, store_backlog_fn fn, void *ctx);

/* Deliveries of sender's messages not yet acknowledged by their (still
 * active) recipients. */
fb_err_t store_sender_backlog(store_t *self, const char *sender, uint64_t *out);

/* One stored message as the audit sees it. Pointers are valid during the
 * callback only; a blob missing from the row is NULL with length 0. */
typedef struct {
    uint64_t seq;
    const char *sender;
    const char *key_id;      /* the envelope's key id, as stored */
    const uint8_t *envelope; /* as accepted, or its skeleton once purged */
    size_t envelope_len;
    const uint8_t *envelope_sha256; /* SHA-256 of the envelope as accepted (32 bytes) */
    size_t envelope_sha256_len;
    const uint8_t *receipt; /* the broker-signed receipt envelope */
    size_t receipt_len;
    const uint8_t *chain_link; /* audit chain link (32 bytes) */
    size_t chain_link_len;
    int64_t accepted_at_ms;
    int64_t purged_at_ms;          /* 0 = attachments not purged */
    const store_key_t *sender_key; /* registry entry of key_id now; NULL if absent */
} store_record_t;

/* Calls fn for every stored message in seq order until fn returns false. */
typedef bool (*store_export_fn)(void *ctx, const store_record_t *record);
fb_err_t store_export(store_t *self, store_export_fn fn, void *ctx);

/* ---- retention ---- */

/* A message that retention may purge (see store_purge_candidates). */
typedef struct {
    uint64_t seq;
    const char *correlation_id; /* the vacancy */
    int type;
    const uint8_t *envelope; /* valid during the callback only */
    size_t envelope_len;
    int64_t closed_at_ms; /* accepted_at_ms of the message that closed the vacancy */
    uint64_t unacked;     /* its deliveries not acknowledged yet */
} store_purge_candidate_t;
typedef void (*store_purge_candidate_fn)(void *ctx, const store_purge_candidate_t *candidate);

/* Calls fn, in seq order, for up to `limit` messages with seq > after_seq,
 * not purged yet, with a non-empty correlation id, for which a message of
 * type `closing_type` with the same correlation id was stored at or after
 * them (same seq included) and accepted before closed_before_ms; the
 * earliest such acceptance is closed_at_ms. Run it and the purges it leads
 * to in one transaction (store_begin) so that nothing changes in between. */
fb_err_t store_purge_candidates(store_t *self, int closing_type, int64_t closed_before_ms,
                                uint64_t after_seq, size_t limit, store_purge_candidate_fn fn,
                                void *ctx);

/* What store_purge_envelope writes. */
typedef struct {
    uint64_t seq;
    const uint8_t *skeleton; /* the envelope without its attachments */
    size_t skeleton_len;
    int64_t at_ms;        /* purged_at_ms; also the purge_log time */
    const char *by;       /* who purged (OS user) */
    const char *vacancy;  /* for purge_log */
    int type;             /* for purge_log */
    int64_t closed_at_ms; /* for purge_log */
    const char *detail;   /* for purge_log, e.g. "attachments=1 bytes=1234" */
} store_purge_t;

/* Replaces message seq's envelope by p->skeleton, sets its purged_at_ms and
 * writes a purge_log row. The chain link, receipt and envelope_sha256 stay.
 * Only a message not yet purged whose deliveries are all acknowledged is
 * touched: otherwise FB_ERR_NOT_FOUND and nothing is written. Call inside a
 * transaction (store_begin) so that the two writes go together. */
fb_err_t store_purge_envelope(store_t *self, const store_purge_t *p);

/* Total messages stored. */
fb_err_t store_count(store_t *self, uint64_t *out);

/* SQLite's text for the last error on this handle ("disk I/O error"). */
const char *store_errmsg(store_t *self);

/* The store's SQLite connection, for the flux ledger's tables (ledger/),
 * written in the store's transactions. */
sqlite3 *store_db(store_t *self);

/* Changes when another connection (the CLI) commits; used to drop caches. */
int64_t store_data_version(store_t *self);

/* Copies everything in the write-ahead log into the database file and
 * truncates the log to zero bytes, so that overwritten data (a purged
 * envelope) is left nowhere on disk; free space is zeroed (secure_delete).
 * Waits for other connections up to the busy timeout, and for another
 * connection's checkpoint (the broker's checkpointer) up to a second.
 * *complete is false when another connection kept it from finishing (try
 * again later). */
fb_err_t store_checkpoint(store_t *self, bool *complete);

/* SQLite's integrity check of the whole file (every table and index, the
 * ledger's included). FB_OK when it finds nothing wrong; FB_ERR_STORE with
 * the first problem (or the error that stopped the check) in why. Reads
 * only; takes about a second per 100 MB. */
fb_err_t store_integrity_check(store_t *self, char *why, size_t cap);

#endif
