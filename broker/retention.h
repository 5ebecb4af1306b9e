/* retention.h - the retention purge: drops the nominative attachments (the
 * sealed household of a Designation) of stored messages past their retention
 * period, and keeps their signed skeleton (body, signature, key id), which
 * the accounts and the audit chain still need.
 *
 * The rule (docs/OPERATIONS.md, "Retention of personal data"): a stored
 * message with attachments is purged once its vacancy - its correlation id -
 * has been closed for more than `days` days. A vacancy is closed by the first
 * BailSigne for it stored at or after the message, at that BailSigne's
 * accepted_at_ms: the chosen candidate's demande is radiée when the lease is
 * signed, and the vacancy closes for the candidates not chosen at the same
 * moment. An AttributionNonSuivieDeBail closes nothing (the search goes on).
 * A message with a delivery not yet acknowledged is skipped and logged. */
#ifndef FLUXBUS_BROKER_RETENTION_H
#define FLUXBUS_BROKER_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "fluxbus/err.h"
#include "fluxbus/log.h"
#include "store.h"

#define RETENTION_DEFAULT_DAYS 365
#define RETENTION_MAX_DAYS 36500
#define RETENTION_DAY_MS 86400000LL

typedef struct {
    int64_t now_ms; /* the time of the purge */
    unsigned days;  /* retention after the vacancy closed, 1..RETENTION_MAX_DAYS */
    bool dry_run;   /* report what would be purged, change nothing */
    const char *by; /* who purges, for purge_log (the OS user) */
    fb_log_fn log;  /* one line per decision; may be NULL */
    void *log_ctx;
} retention_config_t;

typedef struct {
    int64_t cutoff_ms;  /* vacancies closed before this are past retention */
    uint64_t purged;    /* messages whose attachments were dropped (dry run: would be) */
    uint64_t unacked;   /* skipped: a delivery is not acknowledged yet */
    uint64_t malformed; /* skipped: the stored envelope does not decode */
    bool on_disk;       /* after a purge: no purged byte is left in the WAL or free pages */
} retention_stats_t;

/* Applies the rule to every message of the store, in seq order, one
 * transaction per batch. Each purge replaces the stored envelope by its
 * skeleton (fb_envelope_skeleton), sets purged_at_ms = now_ms and writes a
 * purge_log row; envelope_sha256, the receipt and the chain link stay. Logs
 * "retention purge seq=N vacancy="…" type=… at=… closed_at_ms=…
 * attachments=… bytes=…" (or "would-purge" in a dry run) once the batch is
 * committed, and "retention skip seq=N … reason=…" for a skipped message.
 * Messages without attachments are left alone, silently. After purging,
 * checkpoints the store (store_checkpoint) so that the dropped bytes are gone
 * from the files; out->on_disk says whether that completed (if not, a warning
 * is logged: they stay in the WAL until the next checkpoint).
 * Returns FB_OK (see *out), FB_ERR_INVALID for a bad config, FB_ERR_STORE
 * when the store failed (the batch in progress is rolled back, earlier
 * batches stay purged), FB_ERR_NOMEM. */
fb_err_t retention_purge(store_t *store, const retention_config_t *cfg, retention_stats_t *out);

#endif
