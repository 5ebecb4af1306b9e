/* ledger.c - the flux ledger's entry points (see ledger.h): opens the
 * tables, asks the lifecycle whether a message fits, records its facts. */
#include "ledger.h"

#include <stdlib.h>

#include "facts.h"
#include "refdata.h"

struct ledger {
    sqlite3 *db;
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

void ledger_close(ledger_t **self_p)
{
    if (self_p && *self_p) {
        free(*self_p);
        *self_p = NULL;
    }
}

sqlite3 *ledger_db(ledger_t *self)
{
    return self->db;
}

fb_err_t ledger_check(ledger_t *self, const ledger_msg_t *msg, char *detail, size_t dlen)
{
    (void)self;
    (void)msg;
    if (dlen)
        detail[0] = '\0';
    return FB_OK; /* the lifecycle table comes next (lifecycle.c) */
}

fb_err_t ledger_record(ledger_t *self, const ledger_msg_t *msg)
{
    return facts_record(self->db, msg);
}
