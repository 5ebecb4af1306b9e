/* storelock.h - who has the store to itself: the running broker, or a
 * command that rewrites it and must run alone (`fluxbus ledger rebuild`).
 *
 * The lock is an exclusive flock(2) on the file "<store>.lock" beside the
 * store, taken without waiting, held as long as the process keeps it and
 * released by the kernel when the process ends, even by kill -9. The file
 * says who took it last ("fluxbus-broker pid 1234"); it stays when the lock
 * is released (removing it while held would let a second holder in). The
 * other commands (actor, report, retention, audit...) share the store with
 * the broker through SQLite and take no lock. */
#ifndef FLUXBUS_BROKER_STORELOCK_H
#define FLUXBUS_BROKER_STORELOCK_H

#include <stddef.h>

typedef struct storelock storelock_t;

/* Takes the lock of the store at store_path for `holder` (a program name,
 * written in the file with the pid). NULL with the reason in err when
 * another process holds it ("... is in use by fluxbus-broker pid 1234") or
 * the lock file cannot be opened. */
storelock_t *storelock_take(const char *store_path, const char *holder, char *err, size_t errlen);

/* Releases the lock; safe on NULL and twice. */
void storelock_release(storelock_t **self_p);

#endif
