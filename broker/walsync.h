/* walsync.h - makes the store's commits durable, off the loop thread when
 * there is other work to do meanwhile.
 *
 * The broker's connection commits with synchronous=NORMAL
 * (store_defer_sync): COMMIT writes the transaction's frames to the WAL
 * and returns without waiting for the disk. A commit becomes durable with
 * an fdatasync of the WAL file, which covers every frame written before it
 * started, so one fdatasync serves every commit made before it. The broker
 * lets nothing of a commit leave the process (receipt, ack, delivery)
 * before walsync_wait() says it is durable; between a commit and that
 * wait it reads and verifies its next batch while this module's thread
 * waits for the disk (docs/PERFORMANCE.md, "Commits that overlap").
 *
 * Commits are counted by generation (store_commits()): gen N is durable
 * once an fdatasync that started after the N-th commit has returned.
 * A power cut can lose only commits after the last durable one: SQLite
 * recovers a WAL up to its first incomplete frame, so a later commit never
 * survives an earlier one. */
#ifndef FLUXBUS_BROKER_WALSYNC_H
#define FLUXBUS_BROKER_WALSYNC_H

#include <stddef.h>
#include <stdint.h>

#include "fluxbus/err.h"

typedef struct walsync walsync_t;

/* For the store file at db_path (its WAL is db_path + "-wal"); starts the
 * thread. NULL with a reason in err when it cannot. */
walsync_t *walsync_new(const char *db_path, char *err, size_t errlen);

/* Asks the thread to make generation gen durable, and returns at once. */
void walsync_start(walsync_t *self, uint64_t gen);

/* Returns once generation gen is durable: at once when it already is;
 * waiting for the thread when its fdatasync covers gen; else syncing on
 * the calling thread. FB_ERR_STORE with the reason in why when an
 * fdatasync failed: the failure stays (the disk may have dropped the
 * frames), nothing after it is ever said durable. */
fb_err_t walsync_wait(walsync_t *self, uint64_t gen, char *why, size_t cap);

/* Stops the thread (after its fdatasync in progress) and closes; safe on
 * NULL and twice. */
void walsync_destroy(walsync_t **self_p);

#endif
