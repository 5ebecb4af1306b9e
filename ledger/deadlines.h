/* deadlines.h - the orientations whose deadline passed unanswered, read
 * from the ledger's tables (facts.h), and the mark that closes one once the
 * broker has emitted its DeadlineExpired.
 *
 * An orientation is due at now_ms when its deadline_ms is set (> 0) and at
 * or before now_ms, its status is still oriente or acquitte (no Designation,
 * RemiseADisposition nor OrientationDecline came for it) and its expired_ms
 * is 0. The broker (broker/expiry.c) emits the message and calls
 * deadlines_mark() in the same store transaction, so that each orientation
 * expires exactly once, also across a crash or a restart.
 *
 * The statements are prepared once, on the store's connection; the scan
 * goes through the partial index ledger_orientations_deadline. */
#ifndef FLUXBUS_LEDGER_DEADLINES_H
#define FLUXBUS_LEDGER_DEADLINES_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "fluxbus/err.h"
#include "fluxbus/keys.h"

typedef struct deadlines deadlines_t;

#define DEADLINES_ID_MAX 256 /* vacancy and convention ids, including the NUL */

/* One orientation whose deadline passed unanswered. */
typedef struct {
    char vacancy_id[DEADLINES_ID_MAX];
    char reservataire[FB_ACTOR_MAX];
    int64_t round;
    char bailleur[FB_ACTOR_MAX]; /* who sent the Orientation */
    char convention_id[DEADLINES_ID_MAX];
    int64_t deadline_ms;
    uint32_t candidates; /* designations received for it */
    int counting;        /* Fluxbus__V1__DeadlineCounting: the convention's, else COUNTED */
} deadlines_due_t;

/* Prepares the statements on db (the ledger's tables must exist: ledger_open
 * first). NULL with a reason in err. db stays owned by the caller. */
deadlines_t *deadlines_open(sqlite3 *db, char *err, size_t errlen);

/* Finalizes the statements; safe on NULL and twice. */
void deadlines_close(deadlines_t **self_p);

/* Called for each due orientation; a status other than FB_OK stops the walk
 * and is returned by deadlines_due. */
typedef fb_err_t (*deadlines_due_fn)(void *ctx, const deadlines_due_t *due);

/* Calls fn for up to `limit` orientations due at now_ms, oldest deadline
 * first (then vacancy, réservataire, round), with the counting of the
 * convention revision in force at the deadline (conventions_at: by
 * effective date); COUNTED when the convention is unknown or does not say.
 * The rows are read before the first call, so fn may write the tables.
 * FB_OK, FB_ERR_STORE, or what fn returned. */
fb_err_t deadlines_due(deadlines_t *self, int64_t now_ms, size_t limit, deadlines_due_fn fn,
                       void *ctx);

/* Closes one orientation: status expire, status_ms and expired_ms at_ms,
 * unless it is closed already (expired_ms set). FB_OK (also when there was
 * nothing to close) or FB_ERR_STORE. */
fb_err_t deadlines_mark(deadlines_t *self, const deadlines_due_t *due, int64_t at_ms);

#endif
