/* decompte_sent.h - what the broker last sent of each line of the
 * décompte: table ledger_decompte_sent of the store, one row per
 * (convention, party, scope, year) with the digest of the last
 * DecompteDroits sent, its sequence number, when, and its message id; and
 * the rule that says when a line is due again. Read by the scan's worker
 * (decompte_scan.c, on its own read-only connection) and by the emitter
 * (decompte_emit.c, which writes it in the transaction that stores the
 * message: docs/LEDGER.md, "Exactly once"). */
#ifndef FLUXBUS_BROKER_DECOMPTE_SENT_H
#define FLUXBUS_BROKER_DECOMPTE_SENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "fluxbus/err.h"

#define DECOMPTE_SENT_DAY_MS (24 * 3600 * 1000LL) /* an active line is sent again after this */

typedef struct {
    const char *convention, *party, *scope; /* scope: "party" or "total" */
    int year;
} decompte_sent_key_t;

typedef struct {
    bool found;
    uint8_t digest[32];
    int64_t seq, sent_ms;
} decompte_sent_row_t;

typedef struct decompte_sent decompte_sent_t;

/* Creates the table when it is missing (a writable connection). FB_OK or
 * FB_ERR_STORE with the reason in err. */
fb_err_t decompte_sent_create(sqlite3 *db, char *err, size_t errlen);

/* The table's statements prepared on db (borrowed; the table exists).
 * NULL with the reason in err. */
decompte_sent_t *decompte_sent_new(sqlite3 *db, char *err, size_t errlen);

/* Finalizes the statements (before db closes); safe on NULL and twice. */
void decompte_sent_destroy(decompte_sent_t **self_p);

/* The row of key into *out (out->found false when there is none). FB_OK or
 * FB_ERR_STORE. */
fb_err_t decompte_sent_get(decompte_sent_t *self, const decompte_sent_key_t *key,
                           decompte_sent_row_t *out);

/* Writes the row of key (its digest, seq, sent_ms) and the message id
 * (hex). FB_OK or FB_ERR_STORE. */
fb_err_t decompte_sent_put(decompte_sent_t *self, const decompte_sent_key_t *key,
                           const decompte_sent_row_t *row, const char *message_id_hex);

/* Is a line whose payload has this digest due to be sent at now_ms after
 * `last`: changed (never sent, or another digest), or unchanged while
 * `daily` (active in the current year) with its last one a day old or
 * more? *changed tells which. */
bool decompte_sent_due(const decompte_sent_row_t *last, const uint8_t digest[32], bool daily,
                       int64_t now_ms, bool *changed);

#endif
