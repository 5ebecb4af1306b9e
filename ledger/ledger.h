/* ledger.h - the flux ledger: what the accepted domain messages say about
 * each vacancy, its orientations and its candidates, kept in tables of the
 * broker's store (same file, same transaction as the messages themselves),
 * so that the accounts are derived from signed messages only.
 *
 * The broker asks ledger_check() before accepting a domain message (does it
 * fit the vacancy's state? lifecycle.c; are its dates within bounds?
 * instants.h) and calls ledger_record() once the message is stored.
 * Reports and the décompte read the tables (facts.h documents them).
 *
 * The tables carry a schema version (LEDGER_SCHEMA_VERSION). A store whose
 * ledger is of another version is not opened: its ledger is rebuilt from
 * the stored messages (`fluxbus ledger rebuild`: ledger_reset(), then
 * ledger_record() of every message in store order). */
#ifndef FLUXBUS_LEDGER_H
#define FLUXBUS_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>
#include <sqlite3.h>

#include "fluxbus/err.h"
#include "fluxbus/v1/envelope.pb-c.h"

typedef struct ledger ledger_t;

/* The version of the ledger's tables this code reads and writes, and the
 * version of a store without any (see ledger_schema_version). */
#define LEDGER_SCHEMA_VERSION 4
#define LEDGER_SCHEMA_NONE (-1)

/* One accepted (or to-be-accepted) domain message. */
typedef struct {
    uint64_t seq;               /* store sequence (0 while only checked) */
    const char *sender;         /* actor id */
    int type;                   /* MessageType */
    const char *correlation_id; /* the vacancy, by convention */
    const char *const *recipients;
    size_t n_recipients;
    int64_t at_ms;                   /* accepted at (broker clock) */
    const ProtobufCMessage *payload; /* decoded payload of the type */
    bool by_broker;                  /* signed by the broker itself (its DeadlineExpired) */
} ledger_msg_t;

/* The ledger's view of a signed body and its decoded payload (both
 * borrowed), accepted at at_ms and stored as seq (0 while only checked);
 * by_broker is false. */
ledger_msg_t ledger_msg_of(const Fluxbus__V1__SignedBody *body, const ProtobufCMessage *payload,
                           uint64_t seq, int64_t at_ms);

/* The version of the ledger's tables in db: LEDGER_SCHEMA_VERSION when
 * current, lower for an older store (0: made before versions were kept),
 * LEDGER_SCHEMA_NONE when it has no ledger tables. FB_OK or FB_ERR_STORE. */
fb_err_t ledger_schema_version(sqlite3 *db, int *version);

/* Opens the ledger on the store's connection, creating its tables in a
 * store that has none. NULL with a reason in err, also when the store's
 * ledger is of another version (the reason names the rebuild command). */
ledger_t *ledger_open(sqlite3 *db, char *err, size_t errlen);

/* Opens the ledger of the store file at `path` read-only, on a connection
 * of its own (the reports: they never write, and may run beside the
 * broker). NULL with a reason in err when the file cannot be opened, holds
 * no ledger tables or a ledger of another version. */
ledger_t *ledger_open_readonly(const char *path, char *err, size_t errlen);

/* Drops the ledger's tables, whatever their version, and creates them empty
 * at LEDGER_SCHEMA_VERSION, in the caller's transaction; the reference
 * data (refdata.h) stays. Then ledger_open() and ledger_record() of every
 * stored message rebuild the ledger. FB_OK or FB_ERR_STORE (reason in
 * err). */
fb_err_t ledger_reset(sqlite3 *db, char *err, size_t errlen);

/* The clock allowance of the payload dates' bounds (instants.h), the
 * broker's freshness window (a negative one is 0);
 * INSTANTS_DEFAULT_SKEW_MS until set. */
void ledger_set_clock_skew(ledger_t *self, int64_t skew_ms);

/* Closes the ledger (and its connection when it opened one); safe on NULL
 * and twice. */
void ledger_close(ledger_t **self_p);

/* Does msg fit the state of its vacancy and, for an Orientation, its
 * convention (conventions.h)? Are its dates within their bounds
 * (instants.h)? FB_OK, or FB_ERR_INVALID_TRANSITION with the reason in
 * detail (nothing changes); FB_ERR_STORE. */
fb_err_t ledger_check(ledger_t *self, const ledger_msg_t *msg, char *detail, size_t dlen);

/* Records the facts of an accepted message (inside the caller's
 * transaction). FB_OK or FB_ERR_STORE. */
fb_err_t ledger_record(ledger_t *self, const ledger_msg_t *msg);

/* The store's connection (for the ledger's readers). */
sqlite3 *ledger_db(ledger_t *self);

#endif
