/* ledger.h - the flux ledger: what the accepted domain messages say about
 * each vacancy, its orientations and its candidates, kept in tables of the
 * broker's store (same file, same transaction as the messages themselves),
 * so that the accounts are derived from signed messages only.
 *
 * The broker asks ledger_check() before accepting a domain message (does it
 * fit the vacancy's state? lifecycle.c) and calls ledger_record() once the
 * message is stored. Reports and the décompte read the tables (facts.h
 * documents them). */
#ifndef FLUXBUS_LEDGER_H
#define FLUXBUS_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>
#include <sqlite3.h>

#include "fluxbus/err.h"

typedef struct ledger ledger_t;

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

/* Opens the ledger on the store's connection, creating its tables. NULL
 * with a reason in err. */
ledger_t *ledger_open(sqlite3 *db, char *err, size_t errlen);

/* Opens the ledger of the store file at `path` read-only, on a connection
 * of its own (the reports: they never write, and may run beside the
 * broker). NULL with a reason in err when the file cannot be opened or holds
 * no ledger tables. */
ledger_t *ledger_open_readonly(const char *path, char *err, size_t errlen);

/* Closes the ledger (and its connection when it opened one); safe on NULL
 * and twice. */
void ledger_close(ledger_t **self_p);

/* Does msg fit the state of its vacancy and, for an Orientation, its
 * convention (conventions.h)? FB_OK, or FB_ERR_INVALID_TRANSITION with the
 * reason in detail (nothing changes); FB_ERR_STORE. */
fb_err_t ledger_check(ledger_t *self, const ledger_msg_t *msg, char *detail, size_t dlen);

/* Records the facts of an accepted message (inside the caller's
 * transaction). FB_OK or FB_ERR_STORE. */
fb_err_t ledger_record(ledger_t *self, const ledger_msg_t *msg);

/* The store's connection (for the ledger's readers). */
sqlite3 *ledger_db(ledger_t *self);

#endif
