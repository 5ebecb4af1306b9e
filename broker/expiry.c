/* expiry.c - the broker's DeadlineExpired (see expiry.h).
 *
 * Owns the message the broker emits when a deadline passes: its payload,
 * its recipients (the réservataire first, as the ledger reads a
 * DeadlineExpired's first recipient as the réservataire, then the bailleur),
 * its message id (derived from the orientation and its deadline, so the same
 * expiry can never be stored twice) and the order "check, sign, accept,
 * mark". Does not own reading the due orientations (ledger/deadlines.c),
 * storing and delivering (broker.c through expiry_accept_fn) nor signing
 * (notary.c).
 *
 * Invariant: an orientation is marked only in the transaction that stored
 * its DeadlineExpired (or found it stored). A refused one stays open and is
 * skipped until the broker restarts, so it is logged once per run and never
 * holds the others back. */
#include "expiry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deadlines.h"
#include "fluxbus/catalog.h"
#include "fluxbus/envelope.h"
#include "fluxbus/v1/orientation.pb-c.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_SKIP_MAX 64
#define S_KEY_MAX (2 * DEADLINES_ID_MAX + FB_ACTOR_MAX + 48)

struct expiry {
    deadlines_t *deadlines;
    notary_t *notary;
    ledger_t *ledger;
    fb_log_fn log;
    void *log_ctx;
    char skip[S_SKIP_MAX][S_KEY_MAX]; /* refused this run (a ring) */
    size_t n_skip, next_skip;
};

expiry_t *expiry_new(sqlite3 *db, notary_t *notary, ledger_t *ledger, fb_log_fn log, void *log_ctx,
                     char *err, size_t errlen)
{
    expiry_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->deadlines = deadlines_open(db, err, errlen);
    if (!self->deadlines) {
        free(self);
        return NULL;
    }
    self->notary = notary;
    self->ledger = ledger;
    self->log = log;
    self->log_ctx = log_ctx;
    return self;
}

void expiry_destroy(expiry_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    deadlines_close(&(*self_p)->deadlines);
    free(*self_p);
    *self_p = NULL;
}

/* ---- orientations refused this run ---------------------------------------- */

/* One orientation and deadline as a string (the skip key and the input of
 * the message id). */
static void s_key(const deadlines_due_t *due, char out[S_KEY_MAX])
{
    snprintf(out, S_KEY_MAX, "fluxbus/DeadlineExpired/v1%c%s%c%s%c%lld%c%lld", 0, due->vacancy_id,
             0, due->reservataire, 0, (long long)due->round, 0, (long long)due->deadline_ms);
}

/* The key's length: it holds NULs. */
static size_t s_key_len(const char *key)
{
    size_t len = 0;
    for (int part = 0; part < 5; part++)
        len += strlen(key + len) + 1;
    return len - 1;
}

static bool s_skipped(const expiry_t *self, const char *key)
{
    size_t len = s_key_len(key);
    for (size_t i = 0; i < self->n_skip; i++)
        if (s_key_len(self->skip[i]) == len && memcmp(self->skip[i], key, len) == 0)
            return true;
    return false;
}

static void s_skip(expiry_t *self, const char *key)
{
    memcpy(self->skip[self->next_skip], key, S_KEY_MAX);
    self->next_skip = (self->next_skip + 1) % S_SKIP_MAX;
    if (self->n_skip < S_SKIP_MAX)
        self->n_skip++;
}

/* ---- the scan ------------------------------------------------------------------- */

typedef struct {
    expiry_t *self;
    int64_t now;
    expiry_accept_fn accept;
    void *ctx;
    size_t emitted;
} s_scan_t;

static bool s_fatal(fb_err_t rc)
{
    return rc == FB_ERR_STORE || rc == FB_ERR_NOMEM;
}

/* Checks, signs and hands over the DeadlineExpired of one due orientation. */
static fb_err_t s_emit(s_scan_t *scan, const deadlines_due_t *due, const char *key,
                       uint8_t id[FB_MESSAGE_ID_BYTES], char *detail, size_t dlen)
{
    expiry_t *self = scan->self;
    Fluxbus__V1__DeadlineExpired m = FLUXBUS__V1__DEADLINE_EXPIRED__INIT;
    m.vacancy_id = (char *)due->vacancy_id;
    m.convention_id = (char *)due->convention_id;
    m.deadline_ms = due->deadline_ms;
    m.counting = (Fluxbus__V1__DeadlineCounting)due->counting;
    m.taken_back_by_bailleur = true;
    m.candidates_received = due->candidates;
    const char *to[2] = {due->reservataire, due->bailleur};
    ledger_msg_t lm = {.sender = self->notary->keys->actor,
                       .type = T(DEADLINE_EXPIRED),
                       .correlation_id = due->vacancy_id,
                       .recipients = to,
                       .n_recipients = 2,
                       .at_ms = scan->now,
                       .payload = &m.base,
                       .by_broker = true};
    fb_err_t rc = ledger_check(self->ledger, &lm, detail, dlen);
    if (rc != FB_OK)
        return rc;
    uint8_t digest[32];
    fb_sha256((const uint8_t *)key, s_key_len(key), digest);
    memcpy(id, digest, FB_MESSAGE_ID_BYTES);
    uint8_t *env = NULL;
    size_t len = 0;
    rc = notary_message(self->notary, T(DEADLINE_EXPIRED), to, 2, due->vacancy_id, id, &m.base,
                        &env, &len);
    if (rc == FB_OK)
        rc = scan->accept(scan->ctx, env, len, &m.base);
    free(env);
    if (rc != FB_OK && !s_fatal(rc) && rc != FB_ERR_EXISTS && !detail[0])
        snprintf(detail, dlen, "not accepted: %s", fb_err_str(rc));
    return rc;
}

static fb_err_t s_on_due(void *ctx, const deadlines_due_t *due)
{
    s_scan_t *scan = ctx;
    expiry_t *self = scan->self;
    char key[S_KEY_MAX];
    s_key(due, key);
    if (s_skipped(self, key))
        return FB_OK;
    char detail[256] = "";
    uint8_t id[FB_MESSAGE_ID_BYTES];
    char hex[2 * FB_MESSAGE_ID_BYTES + 1] = "-";
    fb_err_t rc = s_emit(scan, due, key, id, detail, sizeof detail);
    if (s_fatal(rc))
        return rc;
    if (rc != FB_OK && rc != FB_ERR_EXISTS) {
        fb_logf(self->log, self->log_ctx, FB_LOG_WARN,
                "broker deadline-refused vacancy=%s reservataire=%s round=%lld reason=%s "
                "detail=\"%s\" action=skip-until-restart",
                due->vacancy_id, due->reservataire, (long long)due->round, fb_err_name(rc), detail);
        s_skip(self, key);
        return FB_OK;
    }
    fb_hex_encode(id, FB_MESSAGE_ID_BYTES, hex);
    /* Stored already (the same orientation asked again with the same
     * deadline): nothing new to say, the orientation is closed all the same. */
    bool stored = rc == FB_OK;
    rc = deadlines_mark(self->deadlines, due, scan->now);
    if (rc != FB_OK)
        return rc;
    fb_logf(self->log, self->log_ctx, FB_LOG_INFO,
            "broker deadline-expired msg_id=%s vacancy=%s reservataire=%s bailleur=%s round=%lld "
            "deadline_ms=%lld%s",
            hex, due->vacancy_id, due->reservataire, due->bailleur, (long long)due->round,
            (long long)due->deadline_ms, stored ? "" : " detail=\"stored already\"");
    scan->emitted += stored;
    return FB_OK;
}

fb_err_t expiry_scan(expiry_t *self, int64_t now_ms, size_t limit, expiry_accept_fn accept,
                     void *ctx, size_t *emitted)
{
    s_scan_t scan = {self, now_ms, accept, ctx, 0};
    /* Skipped rows come back from the query: read past them. */
    fb_err_t rc = deadlines_due(self->deadlines, now_ms, limit + self->n_skip, s_on_due, &scan);
    *emitted = scan.emitted;
    return rc;
}

/* Stops the walk at the first orientation not skipped. */
static fb_err_t s_on_any(void *ctx, const deadlines_due_t *due)
{
    expiry_t *self = ctx;
    char key[S_KEY_MAX];
    s_key(due, key);
    return s_skipped(self, key) ? FB_OK : FB_ERR_EXISTS;
}

bool expiry_due(expiry_t *self, int64_t now_ms)
{
    fb_err_t rc = deadlines_due(self->deadlines, now_ms, 1 + self->n_skip, s_on_any, self);
    /* A read error is not fatal here: the scan, in a transaction, reports it. */
    return rc != FB_OK;
}
