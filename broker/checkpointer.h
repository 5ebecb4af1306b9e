/* checkpointer.h - the store's WAL checkpoints, off the loop thread.
 *
 * SQLite's automatic checkpoint runs in the connection that commits, right
 * after the COMMIT: on the broker's loop thread, where copying the WAL
 * into the database file and its fsync held the acks of the next turn
 * (25-50 ms, docs/PERFORMANCE.md). The broker turns it off on its
 * connection (store_checkpoint_on_commit) and starts a checkpointer: a
 * thread of its own with a connection of its own to the store file that
 * runs a PASSIVE checkpoint every interval. PASSIVE never waits for and
 * never blocks the writer; WAL frames a reader still needs stay until the
 * next round. The WAL is reused from its start once all of it is in the
 * database file, as before. */
#ifndef FLUXBUS_BROKER_CHECKPOINTER_H
#define FLUXBUS_BROKER_CHECKPOINTER_H

#include <stddef.h>

#include "fluxbus/log.h"

typedef struct checkpointer checkpointer_t;

/* Starts checkpointing the store file at `path` every interval_ms. A
 * failing round is logged (at most once a minute) and tried again at the
 * next. NULL with a reason in err when the connection or the thread cannot
 * start. */
checkpointer_t *checkpointer_start(const char *path, unsigned interval_ms, fb_log_fn log,
                                   void *log_ctx, char *err, size_t errlen);

/* Stops the thread (at most one round's wait) and closes; safe on NULL and
 * twice. */
void checkpointer_stop(checkpointer_t **self_p);

#endif
