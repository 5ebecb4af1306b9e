/* store.c - SQLite persistence of the broker (see store.h for the contract).
 *
 * Owns: the schema and its migrations (table schema_version), one prepared
 * statement per query, prepared once at open, and the durability settings
 * (WAL, synchronous=FULL). Every registry change also writes a row in
 * registry_log saying who did what and when.
 *
 * Invariants: a message row is updated only to attach its receipt and its
 * audit chain link in the transaction that stored it, and once more by the
 * retention purge, which replaces the envelope by its skeleton (attachments
 * dropped) when every delivery of it is acknowledged, and logs that in
 * purge_log; a delivery row leaves the pending state only through
 * store_mark_acked(). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "fluxbus/envelope.h"

#define S_SCHEMA_VERSION 1

static const char *const s_schema_v1 =
    "CREATE TABLE actors ("
    "  id TEXT PRIMARY KEY, roles TEXT NOT NULL, territories TEXT NOT NULL DEFAULT '',"
    "  transport_key BLOB NOT NULL UNIQUE, created_at_ms INTEGER NOT NULL,"
    "  revoked_at_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE signing_keys ("
    "  key_id TEXT PRIMARY KEY, actor TEXT NOT NULL REFERENCES actors(id),"
    "  public_key BLOB NOT NULL, valid_from_ms INTEGER NOT NULL,"
    "  valid_until_ms INTEGER NOT NULL DEFAULT 0, revoked_at_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX signing_keys_actor ON signing_keys(actor);"
    "CREATE TABLE encryption_keys ("
    "  key_id TEXT PRIMARY KEY, actor TEXT NOT NULL REFERENCES actors(id),"
    "  public_key BLOB NOT NULL, valid_from_ms INTEGER NOT NULL,"
    "  valid_until_ms INTEGER NOT NULL DEFAULT 0, revoked_at_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX encryption_keys_actor ON encryption_keys(actor);"
    "CREATE TABLE mandates ("
    "  reservataire TEXT NOT NULL, bailleur TEXT NOT NULL, created_at_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (reservataire, bailleur));"
    "CREATE TABLE subscriptions ("
    "  topic TEXT NOT NULL, actor TEXT NOT NULL, created_at_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (topic, actor));"
    "CREATE TABLE registry_log ("
    "  id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, by TEXT NOT NULL,"
    "  action TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT NOT NULL);"
    "CREATE TABLE messages ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, sender TEXT NOT NULL, message_id BLOB NOT NULL,"
    "  sender_seq INTEGER NOT NULL, type INTEGER NOT NULL, correlation_id TEXT NOT NULL,"
    "  key_id TEXT NOT NULL, envelope BLOB NOT NULL, envelope_sha256 BLOB NOT NULL,"
    "  receipt BLOB, created_at_ms INTEGER NOT NULL, accepted_at_ms INTEGER NOT NULL,"
    "  chain_link BLOB, purged_at_ms INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (sender, message_id));"
    "CREATE INDEX messages_vacancy ON messages(correlation_id, type);"
    "CREATE TABLE purge_log ("
    "  id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, by TEXT NOT NULL, seq INTEGER NOT NULL,"
    "  vacancy TEXT NOT NULL, type INTEGER NOT NULL, closed_at_ms INTEGER NOT NULL,"
    "  detail TEXT NOT NULL);"
    "CREATE TABLE deliveries ("
    "  recipient TEXT NOT NULL, seq INTEGER NOT NULL REFERENCES messages(seq),"
    "  acked_at_ms INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (recipient, seq)) WITHOUT ROWID;"
    "CREATE INDEX deliveries_pending ON deliveries(recipient, seq) WHERE acked_at_ms = 0;";

/* Every statement of the module, prepared once. */
typedef enum {
    Q_ACTOR_ADD,
    Q_ACTOR_GET,
    Q_ACTOR_BY_TKEY,
    Q_ACTOR_REVOKE,
    Q_ACTOR_EACH,
    Q_KEY_ADD,
    Q_KEY_GET,
    Q_KEY_REVOKE,
    Q_KEY_EACH,
    Q_KEY_END_OTHERS,
    Q_ENC_KEY_END_OTHERS,
    Q_ENC_KEY_ADD,
    Q_ENC_KEY_GET,
    Q_ENC_KEY_REVOKE,
    Q_ENC_KEY_EACH,
    Q_MANDATE_ADD,
    Q_MANDATE_GET,
    Q_SUBSCRIBE,
    Q_SUBSCRIBERS,
    Q_LOG,
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_FIND,
    Q_PUT,
    Q_SET_RECEIPT,
    Q_GET_RECEIPT,
    Q_SET_CHAIN_LINK,
    Q_SET_RECEIPT_AND_LINK,
    Q_CHAIN_HEAD,
    Q_ENQUEUE,
    Q_PENDING,
    Q_ACK,
    Q_BACKLOG,
    Q_SENDER_BACKLOG,
    Q_EXPORT,
    Q_PURGE_CANDIDATES,
    Q_PURGE,
    Q_PURGE_LOG,
    Q_COUNT,
    Q_DATA_VERSION,
    Q_CHECKPOINT,
    Q_INTEGRITY,
    Q__COUNT
} s_query_t;

static const char *const s_sql[Q__COUNT] = {
    [Q_ACTOR_ADD] = "INSERT INTO actors(id, roles, territories, transport_key, created_at_ms)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_ACTOR_GET] = "SELECT id, roles, territories, transport_key, created_at_ms, revoked_at_ms"
                    " FROM actors WHERE id = ?1",
    [Q_ACTOR_BY_TKEY] = "SELECT id, roles, territories, transport_key, created_at_ms, revoked_at_ms"
                        " FROM actors WHERE transport_key = ?1",
    [Q_ACTOR_REVOKE] = "UPDATE actors SET revoked_at_ms = ?2 WHERE id = ?1 AND revoked_at_ms = 0",
    [Q_ACTOR_EACH] = "SELECT id, roles, territories, transport_key, created_at_ms, revoked_at_ms"
                     " FROM actors ORDER BY id",
    [Q_KEY_ADD] =
        "INSERT INTO signing_keys(key_id, actor, public_key, valid_from_ms, valid_until_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_KEY_GET] = "SELECT actor, key_id, public_key, valid_from_ms, valid_until_ms, revoked_at_ms"
                  " FROM signing_keys WHERE key_id = ?1",
    [Q_KEY_REVOKE] = "UPDATE signing_keys SET revoked_at_ms = ?2 WHERE key_id = ?1"
                     " AND revoked_at_ms = 0",
    [Q_KEY_EACH] = "SELECT actor, key_id, public_key, valid_from_ms, valid_until_ms, revoked_at_ms"
                   " FROM signing_keys WHERE actor = ?1 ORDER BY valid_from_ms",
    [Q_KEY_END_OTHERS] =
        "UPDATE signing_keys SET valid_until_ms = ?3 WHERE actor = ?1 AND key_id <> ?2"
        " AND revoked_at_ms = 0 AND (valid_until_ms = 0 OR valid_until_ms > ?3)",
    [Q_ENC_KEY_END_OTHERS] =
        "UPDATE encryption_keys SET valid_until_ms = ?3 WHERE actor = ?1 AND key_id <> ?2"
        " AND revoked_at_ms = 0 AND (valid_until_ms = 0 OR valid_until_ms > ?3)",
    [Q_ENC_KEY_ADD] =
        "INSERT INTO encryption_keys(key_id, actor, public_key, valid_from_ms, valid_until_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_ENC_KEY_GET] = "SELECT actor, key_id, public_key, valid_from_ms, valid_until_ms,"
                      " revoked_at_ms FROM encryption_keys WHERE key_id = ?1",
    [Q_ENC_KEY_REVOKE] = "UPDATE encryption_keys SET revoked_at_ms = ?2 WHERE key_id = ?1"
                         " AND revoked_at_ms = 0",
    [Q_ENC_KEY_EACH] = "SELECT actor, key_id, public_key, valid_from_ms, valid_until_ms,"
                       " revoked_at_ms FROM encryption_keys WHERE actor = ?1"
                       " ORDER BY valid_from_ms",
    [Q_MANDATE_ADD] =
        "INSERT INTO mandates(reservataire, bailleur, created_at_ms) VALUES (?1, ?2, ?3)",
    [Q_MANDATE_GET] = "SELECT 1 FROM mandates WHERE reservataire = ?1 AND bailleur = ?2",
    [Q_SUBSCRIBE] = "INSERT OR IGNORE INTO subscriptions(topic, actor, created_at_ms)"
                    " VALUES (?1, ?2, ?3)",
    [Q_SUBSCRIBERS] = "SELECT s.actor FROM subscriptions s JOIN actors a ON a.id = s.actor"
                      " WHERE s.topic = ?1 AND a.revoked_at_ms = 0 ORDER BY s.actor",
    [Q_LOG] = "INSERT INTO registry_log(at_ms, by, action, subject, detail)"
              " VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_FIND] = "SELECT seq, envelope_sha256, accepted_at_ms FROM messages"
               " WHERE sender = ?1 AND message_id = ?2",
    [Q_PUT] = "INSERT INTO messages(sender, message_id, sender_seq, type, correlation_id, key_id,"
              " envelope, envelope_sha256, created_at_ms, accepted_at_ms)"
              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [Q_SET_RECEIPT] = "UPDATE messages SET receipt = ?2 WHERE seq = ?1",
    [Q_GET_RECEIPT] = "SELECT receipt FROM messages WHERE seq = ?1",
    [Q_SET_CHAIN_LINK] = "UPDATE messages SET chain_link = ?2 WHERE seq = ?1",
    [Q_SET_RECEIPT_AND_LINK] = "UPDATE messages SET receipt = ?2, chain_link = ?3 WHERE seq = ?1",
    [Q_CHAIN_HEAD] = "SELECT seq, chain_link FROM messages ORDER BY seq DESC LIMIT 1",
    [Q_ENQUEUE] = "INSERT OR IGNORE INTO deliveries(recipient, seq) VALUES (?1, ?2)",
    [Q_PENDING] = "SELECT d.seq, m.envelope, m.key_id FROM deliveries d"
                  " JOIN messages m ON m.seq = d.seq"
                  " WHERE d.recipient = ?1 AND d.acked_at_ms = 0 AND d.seq > ?2"
                  " ORDER BY d.seq LIMIT ?3",
    [Q_ACK] = "UPDATE deliveries SET acked_at_ms = ?3 WHERE recipient = ?1 AND seq = ?2"
              " AND acked_at_ms = 0",
    [Q_BACKLOG] = "SELECT recipient, count(*), min(seq) FROM deliveries WHERE acked_at_ms = 0"
                  " GROUP BY recipient ORDER BY recipient",
    /* A revoked recipient receives nothing more: its queue no longer counts. */
    [Q_SENDER_BACKLOG] = "SELECT count(*) FROM deliveries d JOIN messages m ON m.seq = d.seq"
                         " JOIN actors a ON a.id = d.recipient"
                         " WHERE d.acked_at_ms = 0 AND m.sender = ?1 AND a.revoked_at_ms = 0",
    [Q_EXPORT] = "SELECT m.seq, m.sender, m.envelope, m.receipt, m.accepted_at_ms,"
                 " k.actor, k.key_id, k.public_key, k.valid_from_ms, k.valid_until_ms,"
                 " k.revoked_at_ms, m.key_id, m.envelope_sha256, m.chain_link, m.purged_at_ms"
                 " FROM messages m LEFT JOIN signing_keys k ON k.key_id = m.key_id"
                 " ORDER BY m.seq",
    /* Not yet purged messages of a vacancy (correlation id) closed by a
     * message of type ?1 stored at or after them, accepted before ?2 and
     * sent by one of their recipients (the bailleur who signed the lease,
     * not another bailleur reusing the vacancy id); closed_at is the
     * earliest such closing. Pending deliveries to revoked recipients do not
     * hold a purge back: nothing more is delivered to them. */
    [Q_PURGE_CANDIDATES] =
        "SELECT m.seq, m.correlation_id, m.type, m.envelope, min(b.accepted_at_ms),"
        " (SELECT count(*) FROM deliveries d JOIN actors a ON a.id = d.recipient"
        "  WHERE d.seq = m.seq AND d.acked_at_ms = 0 AND a.revoked_at_ms = 0)"
        " FROM messages m JOIN messages b ON b.correlation_id = m.correlation_id"
        "  AND b.type = ?1 AND b.seq >= m.seq AND b.accepted_at_ms < ?2"
        "  AND EXISTS (SELECT 1 FROM deliveries x WHERE x.seq = m.seq AND x.recipient = b.sender)"
        " WHERE m.purged_at_ms = 0 AND m.correlation_id != '' AND m.seq > ?3"
        " GROUP BY m.seq ORDER BY m.seq LIMIT ?4",
    [Q_PURGE] = "UPDATE messages SET envelope = ?2, purged_at_ms = ?3"
                " WHERE seq = ?1 AND purged_at_ms = 0 AND NOT EXISTS"
                " (SELECT 1 FROM deliveries d JOIN actors a ON a.id = d.recipient"
                "  WHERE d.seq = ?1 AND d.acked_at_ms = 0 AND a.revoked_at_ms = 0)",
    [Q_PURGE_LOG] = "INSERT INTO purge_log(at_ms, by, seq, vacancy, type, closed_at_ms, detail)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [Q_COUNT] = "SELECT count(*) FROM messages",
    [Q_DATA_VERSION] = "PRAGMA data_version",
    [Q_CHECKPOINT] = "PRAGMA wal_checkpoint(TRUNCATE)",
    [Q_INTEGRITY] = "PRAGMA integrity_check(1)",
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *q[Q__COUNT];
    sqlite3_int64 changes_at_begin; /* rows changed on db before the open transaction */
    uint64_t commits;               /* commits that wrote, counted by the WAL hook */
    bool self_checkpoint;           /* SQLite's automatic checkpoint, or the fallback only */
};

/* Resets a statement after use and maps the step result. */
static fb_err_t s_done(sqlite3_stmt *st, int rc)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return FB_OK;
    if (rc == SQLITE_CONSTRAINT)
        return FB_ERR_EXISTS;
    return FB_ERR_STORE;
}

static fb_err_t s_exec(store_t *self, s_query_t q)
{
    return s_done(self->q[q], sqlite3_step(self->q[q]));
}

static void s_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

static void s_blob(sqlite3_stmt *st, int col, uint8_t *out, size_t n)
{
    memset(out, 0, n);
    if ((size_t)sqlite3_column_bytes(st, col) == n)
        memcpy(out, sqlite3_column_blob(st, col), n);
}

static fb_err_t s_migrate(store_t *self, char *errbuf, size_t errlen)
{
    char *msg = NULL;
    int rc = sqlite3_exec(self->db,
                          "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
                          NULL, NULL, &msg);
    sqlite3_stmt *st = NULL;
    int version = 0;
    if (rc == SQLITE_OK &&
        sqlite3_prepare_v2(self->db, "SELECT max(version) FROM schema_version", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_OK && version > S_SCHEMA_VERSION) {
        snprintf(errbuf, errlen, "store schema version %d is newer than this broker (%d)", version,
                 S_SCHEMA_VERSION);
        return FB_ERR_STORE;
    }
    if (rc == SQLITE_OK && version < 1) {
        rc = sqlite3_exec(self->db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(self->db, s_schema_v1, NULL, NULL, &msg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(self->db, "INSERT INTO schema_version VALUES (1); COMMIT", NULL, NULL,
                              &msg);
        if (rc != SQLITE_OK)
            sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        snprintf(errbuf, errlen, "store migration failed: %s",
                 msg ? msg : sqlite3_errmsg(self->db));
        sqlite3_free(msg);
        return FB_ERR_STORE;
    }
    return FB_OK;
}

/* The WAL hook: counts the commits (store_commits) and checkpoints the way
 * store_checkpoint_on_commit says: after 1,000 frames (SQLite's automatic
 * checkpoint) or, when a checkpointer does the work, only once the WAL has
 * grown to STORE_WAL_FALLBACK_FRAMES. */
static int s_wal_hook(void *ctx, sqlite3 *db, const char *name, int frames)
{
    store_t *self = ctx;
    self->commits++;
    if (frames >= (self->self_checkpoint ? 1000 : STORE_WAL_FALLBACK_FRAMES))
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

void store_checkpoint_on_commit(store_t *self, bool on)
{
    self->self_checkpoint = on;
}

fb_err_t store_defer_sync(store_t *self)
{
    return sqlite3_exec(self->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) == SQLITE_OK
               ? FB_OK
               : FB_ERR_STORE;
}

uint64_t store_commits(const store_t *self)
{
    return self->commits;
}

store_t *store_open(const char *path, char *errbuf, size_t errlen)
{
    char dummy[8];
    if (!errbuf) {
        errbuf = dummy;
        errlen = sizeof dummy;
    }
    store_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    int rc = sqlite3_open_v2(
        path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(errbuf, errlen, "cannot open store %s: %s", path,
                 self->db ? sqlite3_errmsg(self->db) : "out of memory");
        store_destroy(&self);
        return NULL;
    }
    /* The CLI and the broker share the file: wait for each other's locks. */
    sqlite3_busy_timeout(self->db, 10000);
    char *msg = NULL;
    /* secure_delete: space freed in the file is zeroed, so that personal data
     * purged by retention does not linger in free pages. */
    rc = sqlite3_exec(self->db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                      " PRAGMA secure_delete=ON;",
                      NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(errbuf, errlen, "cannot configure store %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        store_destroy(&self);
        return NULL;
    }
    self->self_checkpoint = true;
    sqlite3_wal_hook(self->db, s_wal_hook, self);
    if (s_migrate(self, errbuf, errlen) != FB_OK) {
        store_destroy(&self);
        return NULL;
    }
    for (int i = 0; i < Q__COUNT; i++) {
        if (sqlite3_prepare_v3(self->db, s_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &self->q[i],
                               NULL) != SQLITE_OK) {
            snprintf(errbuf, errlen, "cannot prepare query %d: %s", i, sqlite3_errmsg(self->db));
            store_destroy(&self);
            return NULL;
        }
    }
    return self;
}

void store_destroy(store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    store_t *self = *self_p;
    for (int i = 0; i < Q__COUNT; i++)
        sqlite3_finalize(self->q[i]);
    sqlite3_close(self->db);
    free(self);
    *self_p = NULL;
}

/* ---- registry ------------------------------------------------------------ */

static fb_err_t s_log(store_t *self, const char *by, const char *action, const char *subject,
                      const char *detail)
{
    sqlite3_stmt *st = self->q[Q_LOG];
    sqlite3_bind_int64(st, 1, fb_now_ms());
    sqlite3_bind_text(st, 2, by ? by : "?", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, subject, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, detail, -1, SQLITE_STATIC);
    return s_done(st, sqlite3_step(st));
}

/* Runs one registry change and its log row in a transaction. A change that
 * touched no row is FB_ERR_NOT_FOUND. */
static fb_err_t s_registry_change(store_t *self, sqlite3_stmt *st, const char *by,
                                  const char *action, const char *subject, const char *detail)
{
    fb_err_t rc = store_begin(self);
    if (rc != FB_OK) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return rc;
    }
    rc = s_done(st, sqlite3_step(st));
    if (rc == FB_OK && sqlite3_changes(self->db) == 0)
        rc = FB_ERR_NOT_FOUND;
    if (rc == FB_OK)
        rc = s_log(self, by, action, subject, detail);
    if (rc == FB_OK)
        return store_commit(self);
    store_rollback(self);
    return rc;
}

fb_err_t store_actor_add(store_t *self, const store_actor_t *a, const char *by)
{
    sqlite3_stmt *st = self->q[Q_ACTOR_ADD];
    char detail[2 * STORE_LIST_MAX + 64];
    snprintf(detail, sizeof detail, "roles=%s territories=%s", a->roles, a->territories);
    sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->roles, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->territories, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, a->transport_key, FB_CURVE_KEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, a->created_at_ms ? a->created_at_ms : fb_now_ms());
    return s_registry_change(self, st, by, "actor.add", a->id, detail);
}

static void s_actor_row(sqlite3_stmt *st, store_actor_t *out)
{
    s_text(st, 0, out->id, sizeof out->id);
    s_text(st, 1, out->roles, sizeof out->roles);
    s_text(st, 2, out->territories, sizeof out->territories);
    s_blob(st, 3, out->transport_key, FB_CURVE_KEY_BYTES);
    out->created_at_ms = sqlite3_column_int64(st, 4);
    out->revoked_at_ms = sqlite3_column_int64(st, 5);
}

/* Reads the one row a lookup statement yields. */
static fb_err_t s_read_actor(sqlite3_stmt *st, store_actor_t *out)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        s_actor_row(st, out);
    fb_err_t err = s_done(st, rc);
    return err == FB_OK && rc == SQLITE_DONE ? FB_ERR_NOT_FOUND : err;
}

fb_err_t store_actor_get(store_t *self, const char *id, store_actor_t *out)
{
    sqlite3_bind_text(self->q[Q_ACTOR_GET], 1, id, -1, SQLITE_STATIC);
    return s_read_actor(self->q[Q_ACTOR_GET], out);
}

fb_err_t store_actor_by_transport_key(store_t *self, const uint8_t key[FB_CURVE_KEY_BYTES],
                                      store_actor_t *out)
{
    sqlite3_bind_blob(self->q[Q_ACTOR_BY_TKEY], 1, key, FB_CURVE_KEY_BYTES, SQLITE_STATIC);
    return s_read_actor(self->q[Q_ACTOR_BY_TKEY], out);
}

fb_err_t store_actor_revoke(store_t *self, const char *id, int64_t at_ms, const char *by)
{
    sqlite3_stmt *st = self->q[Q_ACTOR_REVOKE];
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at_ms);
    return s_registry_change(self, st, by, "actor.revoke", id, "");
}

fb_err_t store_actor_each(store_t *self, store_actor_fn fn, void *ctx)
{
    sqlite3_stmt *st = self->q[Q_ACTOR_EACH];
    store_actor_t a;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        s_actor_row(st, &a);
        fn(ctx, &a);
    }
    return s_done(st, rc);
}

/* The signing and the encryption keys are two tables of the same shape; the
 * functions below take the statement of the table and the log action. */

/* Binds k to a key insertion statement; writes the log detail. */
static sqlite3_stmt *s_key_bind(store_t *self, s_query_t q, const store_key_t *k, char *detail,
                                size_t dlen)
{
    sqlite3_stmt *st = self->q[q];
    snprintf(detail, dlen, "key_id=%s valid_from_ms=%lld valid_until_ms=%lld", k->key_id,
             (long long)k->valid_from_ms, (long long)k->valid_until_ms);
    sqlite3_bind_text(st, 1, k->key_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->actor, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, k->public_key, FB_SIGN_PK_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, k->valid_from_ms);
    sqlite3_bind_int64(st, 5, k->valid_until_ms);
    return st;
}

static fb_err_t s_key_add(store_t *self, s_query_t q, const char *action, const store_key_t *k,
                          const char *by)
{
    char detail[128];
    sqlite3_stmt *st = s_key_bind(self, q, k, detail, sizeof detail);
    return s_registry_change(self, st, by, action, k->actor, detail);
}

/* Rotation in one transaction: insert k (statement q_add, logged as
 * `action`), then end the actor's other live keys (q_end) at until_ms. */
static fb_err_t s_key_rotate(store_t *self, s_query_t q_add, s_query_t q_end, const char *action,
                             const store_key_t *k, int64_t until_ms, const char *by)
{
    fb_err_t rc = store_begin(self);
    if (rc != FB_OK)
        return rc;
    char detail[160];
    sqlite3_stmt *add = s_key_bind(self, q_add, k, detail, sizeof detail);
    rc = s_done(add, sqlite3_step(add));
    if (rc == FB_OK)
        rc = s_log(self, by, action, k->actor, detail);
    sqlite3_stmt *end = self->q[q_end];
    sqlite3_bind_text(end, 1, k->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(end, 2, k->key_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(end, 3, until_ms);
    rc = rc == FB_OK ? s_done(end, sqlite3_step(end)) : (s_done(end, SQLITE_DONE), rc);
    snprintf(detail, sizeof detail, "other keys valid until %lld (overlap with %s)",
             (long long)until_ms, k->key_id);
    if (rc == FB_OK)
        rc = s_log(self, by, "key.rotate", k->actor, detail);
    if (rc == FB_OK)
        return store_commit(self);
    store_rollback(self);
    return rc;
}

static void s_key_row(sqlite3_stmt *st, store_key_t *out)
{
    s_text(st, 0, out->actor, sizeof out->actor);
    s_text(st, 1, out->key_id, sizeof out->key_id);
    s_blob(st, 2, out->public_key, FB_SIGN_PK_BYTES);
    out->valid_from_ms = sqlite3_column_int64(st, 3);
    out->valid_until_ms = sqlite3_column_int64(st, 4);
    out->revoked_at_ms = sqlite3_column_int64(st, 5);
}

static fb_err_t s_key_get(store_t *self, s_query_t q, const char *key_id, store_key_t *out)
{
    sqlite3_stmt *st = self->q[q];
    sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        s_key_row(st, out);
    fb_err_t err = s_done(st, rc);
    return err == FB_OK && rc == SQLITE_DONE ? FB_ERR_NOT_FOUND : err;
}

static fb_err_t s_key_revoke(store_t *self, s_query_t q, const char *action, const char *key_id,
                             int64_t at_ms, const char *by)
{
    sqlite3_stmt *st = self->q[q];
    sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at_ms);
    return s_registry_change(self, st, by, action, key_id, "");
}

static fb_err_t s_key_each(store_t *self, s_query_t q, const char *actor, store_key_fn fn,
                           void *ctx)
{
    sqlite3_stmt *st = self->q[q];
    sqlite3_bind_text(st, 1, actor, -1, SQLITE_STATIC);
    int rc;
    store_key_t k;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        s_key_row(st, &k);
        fn(ctx, &k);
    }
    return s_done(st, rc);
}

fb_err_t store_key_add(store_t *self, const store_key_t *k, const char *by)
{
    return s_key_add(self, Q_KEY_ADD, "key.add", k, by);
}

fb_err_t store_key_rotate(store_t *self, const store_key_t *k, int64_t others_until_ms,
                          const char *by)
{
    return s_key_rotate(self, Q_KEY_ADD, Q_KEY_END_OTHERS, "key.add", k, others_until_ms, by);
}

fb_err_t store_key_get(store_t *self, const char *key_id, store_key_t *out)
{
    return s_key_get(self, Q_KEY_GET, key_id, out);
}

fb_err_t store_key_revoke(store_t *self, const char *key_id, int64_t at_ms, const char *by)
{
    return s_key_revoke(self, Q_KEY_REVOKE, "key.revoke", key_id, at_ms, by);
}

fb_err_t store_key_each(store_t *self, const char *actor, store_key_fn fn, void *ctx)
{
    return s_key_each(self, Q_KEY_EACH, actor, fn, ctx);
}

bool store_key_valid_at(const store_key_t *k, int64_t now_ms)
{
    bool revoked = k->revoked_at_ms && now_ms >= k->revoked_at_ms;
    bool expired = k->valid_until_ms && now_ms > k->valid_until_ms;
    return !revoked && !expired && now_ms >= k->valid_from_ms;
}

fb_err_t store_enc_key_add(store_t *self, const store_key_t *k, const char *by)
{
    return s_key_add(self, Q_ENC_KEY_ADD, "enc_key.add", k, by);
}

fb_err_t store_enc_key_rotate(store_t *self, const store_key_t *k, int64_t others_until_ms,
                              const char *by)
{
    return s_key_rotate(self, Q_ENC_KEY_ADD, Q_ENC_KEY_END_OTHERS, "enc_key.add", k,
                        others_until_ms, by);
}

fb_err_t store_enc_key_get(store_t *self, const char *key_id, store_key_t *out)
{
    return s_key_get(self, Q_ENC_KEY_GET, key_id, out);
}

fb_err_t store_enc_key_revoke(store_t *self, const char *key_id, int64_t at_ms, const char *by)
{
    return s_key_revoke(self, Q_ENC_KEY_REVOKE, "enc_key.revoke", key_id, at_ms, by);
}

fb_err_t store_enc_key_each(store_t *self, const char *actor, store_key_fn fn, void *ctx)
{
    return s_key_each(self, Q_ENC_KEY_EACH, actor, fn, ctx);
}

typedef struct {
    int64_t now_ms;
    store_key_t *out;
    bool found;
} s_current_t;

/* Keys come in valid_from order: the last valid one seen is the latest. */
static void s_on_enc_key(void *ctx, const store_key_t *k)
{
    s_current_t *c = ctx;
    if (store_key_valid_at(k, c->now_ms)) {
        *c->out = *k;
        c->found = true;
    }
}

fb_err_t store_enc_key_current(store_t *self, const char *actor, int64_t now_ms, store_key_t *out)
{
    s_current_t c = {now_ms, out, false};
    fb_err_t rc = store_enc_key_each(self, actor, s_on_enc_key, &c);
    return rc == FB_OK && !c.found ? FB_ERR_NOT_FOUND : rc;
}

fb_err_t store_mandate_add(store_t *self, const char *reservataire, const char *bailleur,
                           const char *by)
{
    sqlite3_stmt *st = self->q[Q_MANDATE_ADD];
    sqlite3_bind_text(st, 1, reservataire, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, bailleur, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, fb_now_ms());
    return s_registry_change(self, st, by, "mandate.add", reservataire, bailleur);
}

bool store_mandate_exists(store_t *self, const char *reservataire, const char *bailleur)
{
    sqlite3_stmt *st = self->q[Q_MANDATE_GET];
    sqlite3_bind_text(st, 1, reservataire, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, bailleur, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    s_done(st, rc);
    return rc == SQLITE_ROW;
}

bool store_list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, item, n) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* ---- subscriptions --------------------------------------------------------- */

fb_err_t store_subscribe(store_t *self, const char *actor, const char *topic)
{
    sqlite3_stmt *st = self->q[Q_SUBSCRIBE];
    sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, fb_now_ms());
    return s_done(st, sqlite3_step(st));
}

fb_err_t store_subscribers(store_t *self, const char *topic, store_subscriber_fn fn, void *ctx)
{
    sqlite3_stmt *st = self->q[Q_SUBSCRIBERS];
    sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ctx, (const char *)sqlite3_column_text(st, 0));
    return s_done(st, rc);
}

/* ---- messages and queues ----------------------------------------------------- */

fb_err_t store_begin(store_t *self)
{
    self->changes_at_begin = sqlite3_total_changes64(self->db);
    return s_exec(self, Q_BEGIN);
}

bool store_has_writes(store_t *self)
{
    return !sqlite3_get_autocommit(self->db) &&
           sqlite3_total_changes64(self->db) != self->changes_at_begin;
}

fb_err_t store_commit(store_t *self)
{
    return s_exec(self, Q_COMMIT);
}

void store_rollback(store_t *self)
{
    if (!sqlite3_get_autocommit(self->db))
        s_exec(self, Q_ROLLBACK);
}

fb_err_t store_find(store_t *self, const char *sender, const uint8_t *message_id, store_seen_t *out)
{
    sqlite3_stmt *st = self->q[Q_FIND];
    sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, message_id, FB_MESSAGE_ID_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->seq = (uint64_t)sqlite3_column_int64(st, 0);
        s_blob(st, 1, out->envelope_sha256, 32);
        out->accepted_at_ms = sqlite3_column_int64(st, 2);
    }
    fb_err_t err = s_done(st, rc);
    return err == FB_OK && rc == SQLITE_DONE ? FB_ERR_NOT_FOUND : err;
}

store_message_t store_message_of(const Fluxbus__V1__SignedBody *body, const uint8_t *envelope,
                                 size_t len, const uint8_t sha256[32], int64_t accepted_at_ms)
{
    return (store_message_t){.sender = body->sender,
                             .message_id = body->message_id.data,
                             .sender_seq = body->sequence,
                             .type = (int)body->type,
                             .correlation_id = body->correlation_id,
                             .key_id = body->key_id,
                             .envelope = envelope,
                             .envelope_len = len,
                             .envelope_sha256 = sha256,
                             .created_at_ms = body->created_at_ms,
                             .accepted_at_ms = accepted_at_ms};
}

fb_err_t store_put(store_t *self, const store_message_t *m, uint64_t *seq_out)
{
    sqlite3_stmt *st = self->q[Q_PUT];
    sqlite3_bind_text(st, 1, m->sender, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, m->message_id, FB_MESSAGE_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)m->sender_seq);
    sqlite3_bind_int(st, 4, m->type);
    sqlite3_bind_text(st, 5, m->correlation_id ? m->correlation_id : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, m->key_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 7, m->envelope, (int)m->envelope_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 8, m->envelope_sha256, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, m->created_at_ms);
    sqlite3_bind_int64(st, 10, m->accepted_at_ms);
    fb_err_t rc = s_done(st, sqlite3_step(st));
    if (rc == FB_OK)
        *seq_out = (uint64_t)sqlite3_last_insert_rowid(self->db);
    return rc;
}

fb_err_t store_set_receipt(store_t *self, uint64_t seq, const uint8_t *receipt, size_t len)
{
    sqlite3_stmt *st = self->q[Q_SET_RECEIPT];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    sqlite3_bind_blob(st, 2, receipt, (int)len, SQLITE_STATIC);
    return s_done(st, sqlite3_step(st));
}

fb_err_t store_get_receipt(store_t *self, uint64_t seq, uint8_t **out, size_t *out_len)
{
    sqlite3_stmt *st = self->q[Q_GET_RECEIPT];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    *out = NULL;
    *out_len = 0;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        *out = malloc(n ? n : 1);
        if (*out && n)
            memcpy(*out, sqlite3_column_blob(st, 0), n);
        *out_len = n;
    }
    fb_err_t err = s_done(st, rc);
    if (err == FB_OK && rc == SQLITE_DONE)
        return FB_ERR_NOT_FOUND;
    if (err == FB_OK && !*out)
        return FB_ERR_NOMEM;
    return err;
}

fb_err_t store_set_chain_link(store_t *self, uint64_t seq, const uint8_t link[FB_DIGEST_BYTES])
{
    sqlite3_stmt *st = self->q[Q_SET_CHAIN_LINK];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    sqlite3_bind_blob(st, 2, link, FB_DIGEST_BYTES, SQLITE_STATIC);
    fb_err_t rc = s_done(st, sqlite3_step(st));
    if (rc == FB_OK && sqlite3_changes(self->db) == 0)
        return FB_ERR_NOT_FOUND;
    return rc;
}

fb_err_t store_set_receipt_and_link(store_t *self, uint64_t seq, const uint8_t *receipt, size_t len,
                                    const uint8_t link[FB_DIGEST_BYTES])
{
    sqlite3_stmt *st = self->q[Q_SET_RECEIPT_AND_LINK];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    sqlite3_bind_blob(st, 2, receipt, (int)len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, link, FB_DIGEST_BYTES, SQLITE_STATIC);
    fb_err_t rc = s_done(st, sqlite3_step(st));
    if (rc == FB_OK && sqlite3_changes(self->db) == 0)
        return FB_ERR_NOT_FOUND;
    return rc;
}

fb_err_t store_chain_head(store_t *self, uint8_t out[FB_DIGEST_BYTES], uint64_t *seq_out)
{
    sqlite3_stmt *st = self->q[Q_CHAIN_HEAD];
    memset(out, 0, FB_DIGEST_BYTES);
    *seq_out = 0;
    int rc = sqlite3_step(st);
    int intact = 1;
    if (rc == SQLITE_ROW) {
        *seq_out = (uint64_t)sqlite3_column_int64(st, 0);
        intact = sqlite3_column_bytes(st, 1) == FB_DIGEST_BYTES;
        s_blob(st, 1, out, FB_DIGEST_BYTES);
    }
    fb_err_t err = s_done(st, rc);
    return err == FB_OK && !intact ? FB_ERR_MALFORMED : err;
}

fb_err_t store_enqueue(store_t *self, uint64_t seq, const char *recipient)
{
    sqlite3_stmt *st = self->q[Q_ENQUEUE];
    sqlite3_bind_text(st, 1, recipient, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    return s_done(st, sqlite3_step(st));
}

fb_err_t store_pending_for(store_t *self, const char *recipient, uint64_t after_seq, size_t limit,
                           store_pending_fn fn, void *ctx)
{
    sqlite3_stmt *st = self->q[Q_PENDING];
    sqlite3_bind_text(st, 1, recipient, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)after_seq);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ctx, (uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
           (size_t)sqlite3_column_bytes(st, 1), (const char *)sqlite3_column_text(st, 2));
    return s_done(st, rc);
}

fb_err_t store_mark_acked(store_t *self, const char *recipient, uint64_t seq, int64_t at_ms)
{
    sqlite3_stmt *st = self->q[Q_ACK];
    sqlite3_bind_text(st, 1, recipient, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    sqlite3_bind_int64(st, 3, at_ms);
    fb_err_t rc = s_done(st, sqlite3_step(st));
    if (rc == FB_OK && sqlite3_changes(self->db) == 0)
        return FB_ERR_NOT_FOUND;
    return rc;
}

fb_err_t store_backlog(store_t *self, store_backlog_fn fn, void *ctx)
{
    sqlite3_stmt *st = self->q[Q_BACKLOG];
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ctx, (const char *)sqlite3_column_text(st, 0), (uint64_t)sqlite3_column_int64(st, 1),
           (uint64_t)sqlite3_column_int64(st, 2));
    return s_done(st, rc);
}

fb_err_t store_sender_backlog(store_t *self, const char *sender, uint64_t *out)
{
    sqlite3_stmt *st = self->q[Q_SENDER_BACKLOG];
    sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    return s_done(st, rc);
}

fb_err_t store_export(store_t *self, store_export_fn fn, void *ctx)
{
    sqlite3_stmt *st = self->q[Q_EXPORT];
    int rc = SQLITE_DONE;
    bool go_on = true;
    while (go_on && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_key_t key;
        memset(&key, 0, sizeof key);
        int has_key = sqlite3_column_type(st, 5) != SQLITE_NULL;
        if (has_key) {
            s_text(st, 5, key.actor, sizeof key.actor);
            s_text(st, 6, key.key_id, sizeof key.key_id);
            s_blob(st, 7, key.public_key, FB_SIGN_PK_BYTES);
            key.valid_from_ms = sqlite3_column_int64(st, 8);
            key.valid_until_ms = sqlite3_column_int64(st, 9);
            key.revoked_at_ms = sqlite3_column_int64(st, 10);
        }
        store_record_t r = {
            .seq = (uint64_t)sqlite3_column_int64(st, 0),
            .sender = (const char *)sqlite3_column_text(st, 1),
            .key_id = (const char *)sqlite3_column_text(st, 11),
            .envelope = sqlite3_column_blob(st, 2),
            .envelope_len = (size_t)sqlite3_column_bytes(st, 2),
            .envelope_sha256 = sqlite3_column_blob(st, 12),
            .envelope_sha256_len = (size_t)sqlite3_column_bytes(st, 12),
            .receipt = sqlite3_column_blob(st, 3),
            .receipt_len = (size_t)sqlite3_column_bytes(st, 3),
            .chain_link = sqlite3_column_blob(st, 13),
            .chain_link_len = (size_t)sqlite3_column_bytes(st, 13),
            .accepted_at_ms = sqlite3_column_int64(st, 4),
            .purged_at_ms = sqlite3_column_int64(st, 14),
            .sender_key = has_key ? &key : NULL,
        };
        go_on = fn(ctx, &r);
    }
    return s_done(st, rc); /* SQLITE_ROW when fn stopped the walk: not an error */
}

/* ---- retention ---------------------------------------------------------------- */

fb_err_t store_purge_candidates(store_t *self, int closing_type, int64_t closed_before_ms,
                                uint64_t after_seq, size_t limit, store_purge_candidate_fn fn,
                                void *ctx)
{
    sqlite3_stmt *st = self->q[Q_PURGE_CANDIDATES];
    sqlite3_bind_int(st, 1, closing_type);
    sqlite3_bind_int64(st, 2, closed_before_ms);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)after_seq);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_purge_candidate_t c = {
            .seq = (uint64_t)sqlite3_column_int64(st, 0),
            .correlation_id = (const char *)sqlite3_column_text(st, 1),
            .type = sqlite3_column_int(st, 2),
            .envelope = sqlite3_column_blob(st, 3),
            .envelope_len = (size_t)sqlite3_column_bytes(st, 3),
            .closed_at_ms = sqlite3_column_int64(st, 4),
            .unacked = (uint64_t)sqlite3_column_int64(st, 5),
        };
        fn(ctx, &c);
    }
    return s_done(st, rc);
}

fb_err_t store_purge_envelope(store_t *self, const store_purge_t *p)
{
    sqlite3_stmt *st = self->q[Q_PURGE];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)p->seq);
    sqlite3_bind_blob(st, 2, p->skeleton, (int)p->skeleton_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, p->at_ms);
    fb_err_t rc = s_done(st, sqlite3_step(st));
    if (rc == FB_OK && sqlite3_changes(self->db) == 0)
        return FB_ERR_NOT_FOUND;
    if (rc != FB_OK)
        return rc;
    st = self->q[Q_PURGE_LOG];
    sqlite3_bind_int64(st, 1, p->at_ms);
    sqlite3_bind_text(st, 2, p->by ? p->by : "?", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)p->seq);
    sqlite3_bind_text(st, 4, p->vacancy ? p->vacancy : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, p->type);
    sqlite3_bind_int64(st, 6, p->closed_at_ms);
    sqlite3_bind_text(st, 7, p->detail ? p->detail : "", -1, SQLITE_STATIC);
    return s_done(st, sqlite3_step(st));
}

fb_err_t store_count(store_t *self, uint64_t *out)
{
    sqlite3_stmt *st = self->q[Q_COUNT];
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    return s_done(st, rc);
}

sqlite3 *store_db(store_t *self)
{
    return self->db;
}

const char *store_errmsg(store_t *self)
{
    return sqlite3_errmsg(self->db);
}

int64_t store_data_version(store_t *self)
{
    sqlite3_stmt *st = self->q[Q_DATA_VERSION];
    int rc = sqlite3_step(st);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    s_done(st, rc);
    return v;
}

/* A TRUNCATE checkpoint does not wait for another connection's checkpoint
 * in progress (the broker's checkpointer runs one every 100 ms): it is
 * tried again this many times, this long apart. */
#define S_CHECKPOINT_TRIES 50
#define S_CHECKPOINT_PAUSE_MS 20

fb_err_t store_checkpoint(store_t *self, bool *complete)
{
    sqlite3_stmt *st = self->q[Q_CHECKPOINT];
    fb_err_t err = FB_OK;
    *complete = false;
    for (int i = 0; i < S_CHECKPOINT_TRIES && err == FB_OK && !*complete; i++) {
        if (i) {
            struct timespec pause = {0, S_CHECKPOINT_PAUSE_MS * 1000000L};
            nanosleep(&pause, NULL);
        }
        int rc = sqlite3_step(st);
        /* One row: busy (1 if another connection kept it from finishing),
         * frames in the WAL, frames copied back. */
        *complete = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 0;
        err = rc == SQLITE_BUSY ? FB_OK : s_done(st, rc);
        if (rc == SQLITE_BUSY)
            sqlite3_reset(st);
    }
    return err;
}

fb_err_t store_integrity_check(store_t *self, char *why, size_t cap)
{
    sqlite3_stmt *st = self->q[Q_INTEGRITY];
    int rc = sqlite3_step(st);
    /* One row, "ok", or the first problem found (the pragma's limit is 1). */
    const char *text = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    int ok = text && strcmp(text, "ok") == 0;
    snprintf(why, cap, "%s", text ? text : sqlite3_errmsg(self->db));
    fb_err_t err = s_done(st, rc);
    return err == FB_OK && !ok ? FB_ERR_STORE : err;
}
