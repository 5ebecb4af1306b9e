/* ledger.c - the flux ledger's entry points (see ledger.h): opens the
 * tables (at their schema version), asks the conventions, the lifecycle
 * and the dates' bounds whether a message fits, records its facts. */
#include "ledger.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conventions.h"
#include "facts.h"
#include "instants.h"
#include "lifecycle.h"
#include "refdata.h"

_Static_assert(LEDGER_SCHEMA_VERSION == FACTS_SCHEMA_VERSION, "the ledger's version is its facts'");
_Static_assert(LEDGER_SCHEMA_NONE == FACTS_SCHEMA_NONE, "the ledger's version is its facts'");

struct ledger {
    sqlite3 *db;
    stmts_t *q;      /* db's prepared statements, kept (stmts.h) */
    bool owns_db;    /* opened by ledger_open_readonly */
    int64_t skew_ms; /* clock allowance of the payload dates */
};

ledger_msg_t ledger_msg_of(const Fluxbus__V1__SignedBody *body, const ProtobufCMessage *payload,
                           uint64_t seq, int64_t at_ms)
{
    ledger_msg_t m = {.seq = seq,
                      .sender = body->sender,
                      .type = (int)body->type,
                      .correlation_id = body->correlation_id,
                      .recipients = (const char *const *)body->recipients,
                      .n_recipients = body->n_recipients,
                      .at_ms = at_ms,
                      .payload = payload};
    return m;
}

fb_err_t ledger_schema_version(sqlite3 *db, int *version)
{
    return facts_version(db, version);
}

/* A store's ledger of another version than this code's is not read: says
 * so, and how to rebuild it. `none_ok`: a store without ledger tables will
 * get new ones. */
static bool s_version_fits(sqlite3 *db, bool none_ok, char *err, size_t errlen)
{
    int version = 0;
    const char *path = sqlite3_db_filename(db, "main");
    path = path && *path ? path : "the store";
    if (facts_version(db, &version) != FB_OK) {
        snprintf(err, errlen, "%s: cannot read the flux ledger's version (%s)", path,
                 sqlite3_errmsg(db));
        return false;
    }
    if (version == LEDGER_SCHEMA_VERSION || (none_ok && version == LEDGER_SCHEMA_NONE))
        return true;
    if (version == LEDGER_SCHEMA_NONE)
        snprintf(err, errlen, "%s: no flux ledger in this store", path);
    else if (version > LEDGER_SCHEMA_VERSION)
        snprintf(err, errlen,
                 "%s: the flux ledger's tables are version %d, newer than this fluxbus (%d)", path,
                 version, LEDGER_SCHEMA_VERSION);
    else
        snprintf(err, errlen,
                 "%s: the flux ledger's tables are version %d, this fluxbus needs %d: stop the "
                 "broker and run `fluxbus ledger rebuild --store %s`",
                 path, version, LEDGER_SCHEMA_VERSION, path);
    return false;
}

static ledger_t *s_new(sqlite3 *db, bool owns_db, char *err, size_t errlen)
{
    ledger_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->db = db;
    self->owns_db = owns_db;
    self->skew_ms = INSTANTS_DEFAULT_SKEW_MS;
    self->q = stmts_new(db);
    if (!self->q) {
        snprintf(err, errlen, "out of memory");
        free(self);
        return NULL;
    }
    return self;
}

ledger_t *ledger_open(sqlite3 *db, char *err, size_t errlen)
{
    if (!s_version_fits(db, true, err, errlen) || facts_create(db, err, errlen) != FB_OK ||
        refdata_create(db, err, errlen) != FB_OK)
        return NULL;
    return s_new(db, false, err, errlen);
}

ledger_t *ledger_open_readonly(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    ledger_t *self = s_version_fits(db, false, err, errlen) ? s_new(db, true, err, errlen) : NULL;
    if (!self)
        sqlite3_close(db);
    return self;
}

fb_err_t ledger_reset(sqlite3 *db, char *err, size_t errlen)
{
    return facts_reset(db, err, errlen);
}

void ledger_set_clock_skew(ledger_t *self, int64_t skew_ms)
{
    self->skew_ms = skew_ms > 0 ? skew_ms : 0;
}

void ledger_close(ledger_t **self_p)
{
    if (self_p && *self_p) {
        stmts_destroy(&(*self_p)->q); /* before the connection closes */
        if ((*self_p)->owns_db)
            sqlite3_close((*self_p)->db);
        free(*self_p);
        *self_p = NULL;
    }
}

sqlite3 *ledger_db(ledger_t *self)
{
    return self->db;
}

/* The envelope's correlation_id, when set, is the payload's vacancy_id:
 * the ledger credits events (acks, deadlines) to the vacancy the payload
 * names, and a message may not say two dwellings at once. */
static fb_err_t s_check_correlation(const ledger_msg_t *msg, char *detail, size_t dlen)
{
    const char *vacancy = facts_vacancy_of(msg);
    const char *corr = msg->correlation_id;
    if (!vacancy || !corr || !*corr || strcmp(vacancy, corr) == 0)
        return FB_OK;
    if (dlen)
        snprintf(detail, dlen,
                 "%s names vacancy %s in its payload but %s as its correlation_id: they must be "
                 "the same",
                 msg->payload->descriptor->short_name, vacancy, corr);
    return FB_ERR_INVALID_TRANSITION;
}

fb_err_t ledger_check(ledger_t *self, const ledger_msg_t *msg, char *detail, size_t dlen)
{
    /* An orientation must fit its convention (parties, territory, hors flux,
     * surréservation): said first, as the more specific reason; then every
     * message must fit its vacancy's lifecycle (lifecycle.c). */
    fb_err_t rc = s_check_correlation(msg, detail, dlen);
    if (rc == FB_OK && msg->type == FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_ORIENTATION)
        rc = conventions_check_orientation(self->q, msg, detail, dlen);
    if (rc == FB_OK && msg->type == FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_CONVENTION)
        rc = conventions_check_convention(self->db, msg, detail, dlen);
    if (rc == FB_OK)
        rc = lifecycle_check(self->q, msg, detail, dlen);
    return rc == FB_OK ? instants_check(self->q, msg, self->skew_ms, detail, dlen) : rc;
}

fb_err_t ledger_record(ledger_t *self, const ledger_msg_t *msg)
{
    return facts_record(self->q, msg);
}
