/* retention.c - the retention purge (see retention.h for the rule and the
 * contract).
 *
 * Owns the rule's parameters (which message type closes a vacancy, the
 * cutoff), the batching and the log lines. Does not own SQL (store.c) nor the
 * envelope format (fb_envelope_skeleton). Invariants: a batch's candidates
 * are read and purged in one transaction, so the "every delivery acked"
 * condition cannot change in between; log lines about purges are written
 * only once their batch is committed. */
#include "retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/catalog.h"
#include "fluxbus/envelope.h"

#define S_BATCH 64 /* envelopes copied in memory at once: at most 64 x max_envelope */
#define S_CLOSING_TYPE FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_BAIL_SIGNE

typedef enum {
    S_KEEP,      /* no attachments: nothing to purge */
    S_PURGE,     /* attachments dropped (or would be) */
    S_UNACKED,   /* skipped: a delivery is pending */
    S_MALFORMED, /* skipped: the envelope does not decode */
} s_outcome_t;

/* A candidate copied out of the store, then what was done with it. */
typedef struct {
    uint64_t seq;
    char *vacancy;
    int type;
    uint8_t *envelope;
    size_t envelope_len;
    int64_t closed_at_ms;
    uint64_t unacked;
    s_outcome_t outcome;
    size_t attachments;  /* count dropped */
    size_t bytes_before; /* envelope size before the purge */
    size_t bytes_after;  /* skeleton size */
} s_item_t;

typedef struct {
    s_item_t item[S_BATCH];
    size_t n;
    bool nomem;
} s_batch_t;

static void s_collect(void *ctx, const store_purge_candidate_t *c)
{
    s_batch_t *b = ctx;
    if (b->nomem || b->n == S_BATCH)
        return;
    s_item_t *it = &b->item[b->n];
    memset(it, 0, sizeof *it);
    it->vacancy = strdup(c->correlation_id ? c->correlation_id : "");
    it->envelope = malloc(c->envelope_len ? c->envelope_len : 1);
    if (!it->vacancy || !it->envelope) {
        free(it->vacancy);
        free(it->envelope);
        b->nomem = true;
        return;
    }
    if (c->envelope_len)
        memcpy(it->envelope, c->envelope, c->envelope_len);
    it->seq = c->seq;
    it->type = c->type;
    it->envelope_len = c->envelope_len;
    it->closed_at_ms = c->closed_at_ms;
    it->unacked = c->unacked;
    b->n++;
}

static void s_batch_clear(s_batch_t *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->item[i].vacancy);
        free(b->item[i].envelope);
    }
    b->n = 0;
    b->nomem = false;
}

/* The vacancy id for a log line: double-quoted, with '"', '\' and control
 * bytes escaped, since it comes from a sender. */
static void s_quote(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    out[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 6 < cap; p++) {
        if (*p == '"' || *p == '\\')
            o += (size_t)snprintf(out + o, cap - o, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", *p);
        else
            out[o++] = (char)*p;
    }
    out[o++] = '"';
    out[o] = '\0';
}

/* Decides what to do with one candidate and, unless dry_run, purges it. */
static fb_err_t s_apply(store_t *store, const retention_config_t *cfg, s_item_t *it)
{
    Fluxbus__V1__Envelope *env = NULL;
    if (fb_envelope_decode(it->envelope, it->envelope_len, it->envelope_len, &env) != FB_OK) {
        it->outcome = S_MALFORMED;
        return FB_OK;
    }
    it->attachments = env->n_attachments;
    fb_envelope_free(env);
    if (it->attachments == 0) {
        it->outcome = S_KEEP;
        return FB_OK;
    }
    if (it->unacked) {
        it->outcome = S_UNACKED;
        return FB_OK;
    }
    uint8_t *skeleton = NULL;
    fb_err_t rc = fb_envelope_skeleton(it->envelope, it->envelope_len, it->envelope_len, &skeleton,
                                       &it->bytes_after);
    if (rc != FB_OK)
        return rc;
    it->bytes_before = it->envelope_len;
    it->outcome = S_PURGE;
    if (!cfg->dry_run) {
        char detail[160];
        snprintf(detail, sizeof detail, "attachments=%zu bytes=%zu skeleton_bytes=%zu days=%u",
                 it->attachments, it->bytes_before, it->bytes_after, cfg->days);
        store_purge_t p = {
            .seq = it->seq,
            .skeleton = skeleton,
            .skeleton_len = it->bytes_after,
            .at_ms = cfg->now_ms,
            .by = cfg->by,
            .vacancy = it->vacancy,
            .type = it->type,
            .closed_at_ms = it->closed_at_ms,
            .detail = detail,
        };
        rc = store_purge_envelope(store, &p);
        if (rc == FB_ERR_NOT_FOUND) { /* a delivery became pending: the store refused */
            it->outcome = S_UNACKED;
            rc = FB_OK;
        }
    }
    free(skeleton);
    return rc;
}

/* One line per decision, once the batch's fate is known. */
static void s_report(const retention_config_t *cfg, const s_item_t *it, retention_stats_t *st)
{
    char vacancy[200];
    s_quote(it->vacancy, vacancy, sizeof vacancy);
    const fb_catalog_entry_t *entry = fb_catalog_by_type(it->type);
    const char *type = entry ? entry->name : "?";
    switch (it->outcome) {
    case S_PURGE:
        st->purged++;
        fb_logf(cfg->log, cfg->log_ctx, FB_LOG_INFO,
                "retention %s seq=%llu vacancy=%s type=%s at=%lld closed_at_ms=%lld "
                "attachments=%zu bytes=%zu",
                cfg->dry_run ? "would-purge" : "purge", (unsigned long long)it->seq, vacancy, type,
                (long long)cfg->now_ms, (long long)it->closed_at_ms, it->attachments,
                it->bytes_before - it->bytes_after);
        break;
    case S_UNACKED:
        st->unacked++;
        fb_logf(cfg->log, cfg->log_ctx, FB_LOG_WARN,
                "retention skip seq=%llu vacancy=%s type=%s reason=unacked pending=%llu",
                (unsigned long long)it->seq, vacancy, type, (unsigned long long)it->unacked);
        break;
    case S_MALFORMED:
        st->malformed++;
        fb_logf(cfg->log, cfg->log_ctx, FB_LOG_ERROR,
                "retention skip seq=%llu vacancy=%s type=%s reason=malformed detail=\"stored "
                "envelope does not decode: run fluxbus audit verify\"",
                (unsigned long long)it->seq, vacancy, type);
        break;
    case S_KEEP:
        break;
    }
}

fb_err_t retention_purge(store_t *store, const retention_config_t *cfg, retention_stats_t *out)
{
    memset(out, 0, sizeof *out);
    if (!store || !cfg || cfg->days < 1 || cfg->days > RETENTION_MAX_DAYS)
        return FB_ERR_INVALID;
    out->cutoff_ms = cfg->now_ms - (int64_t)cfg->days * RETENTION_DAY_MS;
    s_batch_t *b = calloc(1, sizeof *b);
    if (!b)
        return FB_ERR_NOMEM;
    uint64_t cursor = 0;
    fb_err_t rc = FB_OK;
    for (bool more = true; rc == FB_OK && more;) {
        /* A dry run reads without taking the write lock. */
        rc = cfg->dry_run ? FB_OK : store_begin(store);
        if (rc == FB_OK)
            rc = store_purge_candidates(store, S_CLOSING_TYPE, out->cutoff_ms, cursor, S_BATCH,
                                        s_collect, b);
        if (rc == FB_OK && b->nomem)
            rc = FB_ERR_NOMEM;
        for (size_t i = 0; rc == FB_OK && i < b->n; i++)
            rc = s_apply(store, cfg, &b->item[i]);
        if (rc == FB_OK && !cfg->dry_run)
            rc = store_commit(store);
        if (rc == FB_OK) {
            for (size_t i = 0; i < b->n; i++)
                s_report(cfg, &b->item[i], out);
            more = b->n == S_BATCH;
            cursor = b->n ? b->item[b->n - 1].seq : cursor;
        } else {
            store_rollback(store);
        }
        s_batch_clear(b);
    }
    free(b);
    if (rc == FB_OK && out->purged && !cfg->dry_run) {
        rc = store_checkpoint(store, &out->on_disk);
        if (rc == FB_OK && !out->on_disk)
            fb_logf(cfg->log, cfg->log_ctx, FB_LOG_WARN,
                    "retention checkpoint-incomplete detail=\"the store was busy: purged bytes "
                    "stay in its -wal file until the next checkpoint; run the purge again\"");
    }
    return rc;
}
