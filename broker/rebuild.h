/* rebuild.h - rebuilds the flux ledger of a store from its messages
 * (`fluxbus ledger rebuild`): after an upgrade that changed the ledger's
 * tables (LEDGER_SCHEMA_VERSION), or to check that the ledger is what the
 * messages say.
 *
 * In one transaction: drops the ledger's tables (ledger_reset; the
 * reference data stays), then records every stored message again, in store
 * order, through ledger_record() at its acceptance time - the path the
 * broker took when it accepted it. Messages are not judged again: they were
 * accepted. A message that no longer decodes stops the rebuild and nothing
 * changes. The caller holds the store's lock (storelock.h): the broker must
 * not run meanwhile. */
#ifndef FLUXBUS_BROKER_REBUILD_H
#define FLUXBUS_BROKER_REBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "fluxbus/err.h"
#include "store.h"

typedef struct {
    uint64_t messages; /* recorded again */
    uint64_t purged;   /* of them, skeletons (attachments purged by retention) */
} rebuild_stats_t;

/* Rebuilds the ledger of `store`. FB_OK; FB_ERR_MALFORMED (a stored
 * message does not decode: its seq in err) or FB_ERR_STORE, the reason in
 * err, and the store as it was. */
fb_err_t rebuild_ledger(store_t *store, rebuild_stats_t *stats, char *err, size_t errlen);

#endif
