/* ledger.c - the flux ledger's entry points (see ledger.h): opens the
 * tables, asks the conventions and the lifecycle whether a message fits,
 * records its facts. */
#include "ledger.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conventions.h"
#include "facts.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "lifecycle.h"
#include "refdata.h"

struct ledger {
    sqlite3 *db;
    bool owns_db; /* opened by ledger_open_readonly */
};

ledger_t *ledger_open(sqlite3 *db, char *err, size_t errlen)
{
    if (facts_create(db, err, errlen) != FB_OK || refdata_create(db, err, errlen) != FB_OK)
        return NULL;
    ledger_t *self = calloc(1, sizeof *self);
    if (self)
        self->db = db;
    return self;
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
    /* Reading the table proves the file is a store with a ledger. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM ledger_vacancies", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        snprintf(err, errlen, "%s: no flux ledger in this store (%s)", path, sqlite3_errmsg(db));
        sqlite3_finalize(st);
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_finalize(st);
    ledger_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    self->db = db;
    self->owns_db = true;
    return self;
}

void ledger_close(ledger_t **self_p)
{
    if (self_p && *self_p) {
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
        rc = conventions_check_orientation(self->db, msg, detail, dlen);
    if (rc == FB_OK && msg->type == FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_CONVENTION)
        rc = conventions_check_convention(self->db, msg, detail, dlen);
    return rc == FB_OK ? lifecycle_check(self->db, msg, detail, dlen) : rc;
}

fb_err_t ledger_record(ledger_t *self, const ledger_msg_t *msg)
{
    return facts_record(self->db, msg);
}
