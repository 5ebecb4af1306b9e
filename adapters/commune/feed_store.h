/* feed_store.h - what the commune adapter keeps of its deliveries, in its
 * own tables of the adapter's state file: the CALEOL sessions (with the
 * adapter's own SEQUENCE counter per session), the freed dwellings and
 * their outcomes. The calendar and the dwelling feeds are rebuilt from
 * these tables alone, so a restart serves the same feed.
 *
 * Each put is durable when it returns FB_OK (the caller then acknowledges
 * the delivery); a put that fails changed nothing. Messages are stored as
 * their protobuf bytes beside the columns needed to find and order them,
 * and handed back decoded.
 *
 * The store does not decide what concerns the commune: the caller filters
 * by INSEE code before putting. */
#ifndef FLUXBUS_COMMUNE_FEED_STORE_H
#define FLUXBUS_COMMUNE_FEED_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "fluxbus/err.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"

typedef struct feed_store feed_store_t;

/* What a put did. */
typedef enum {
    FEED_PUT_NEW,      /* first seen: stored */
    FEED_PUT_CHANGED,  /* newer revision or new content: stored (SEQUENCE + 1 for a session) */
    FEED_PUT_SAME,     /* identical redelivery: nothing changed */
    FEED_PUT_OLDER,    /* a session revision older than the stored one: ignored */
    FEED_PUT_CONFLICT, /* the stored revision again with other content: the stored one kept */
} feed_put_t;

/* "new", "changed", ... for log lines. */
const char *feed_put_str(feed_put_t put);

/* Creates the tables (CREATE TABLE IF NOT EXISTS) in `db`, which stays
 * owned by the caller and must outlive the store, and prepares the
 * statements. NULL with a reason in err (SQLite error, or a state file
 * written by a newer version of the adapter). */
feed_store_t *feed_store_new(sqlite3 *db, char *err, size_t errlen);

/* Finalizes the statements; safe on NULL and twice. */
void feed_store_destroy(feed_store_t **self_p);

/* Stores a session revision (see feed_put_t). A higher revision replaces
 * the stored one and adds one to its SEQUENCE, which starts at 0 and never
 * goes down. *sequence (may be NULL) gets the session's SEQUENCE after the
 * put. FB_ERR_INVALID for an empty seance_id, FB_ERR_STORE on an SQLite
 * error. */
fb_err_t feed_store_put_seance(feed_store_t *self, const Fluxbus__V1__CaleolSeance *seance,
                               int64_t now_ms, feed_put_t *put, uint32_t *sequence);

/* True when a session of that id is stored (false on an SQLite error). */
bool feed_store_has_seance(feed_store_t *self, const char *seance_id);

/* Stores a freed dwelling by vacancy_id; a later delivery with other
 * content replaces it (the bailleur published a correction). */
fb_err_t feed_store_put_logement(feed_store_t *self, const Fluxbus__V1__LogementLibere *logement,
                                 int64_t now_ms, feed_put_t *put);

/* Stores an outcome of a dwelling, once per message id (a redelivery of the
 * same message is FEED_PUT_SAME). Outcomes are kept in arrival order; the
 * last one is the dwelling's current outcome. */
fb_err_t feed_store_put_issue(feed_store_t *self, const char *message_id,
                              const Fluxbus__V1__LogementIssue *issue, int64_t now_ms,
                              feed_put_t *put);

/* A stored session, borrowed for the time of a callback. */
typedef struct {
    const Fluxbus__V1__CaleolSeance *seance;
    uint32_t sequence;
    int64_t created_ms; /* first stored */
    int64_t updated_ms; /* last changed */
} feed_seance_t;

typedef void (*feed_seance_fn)(void *ctx, const feed_seance_t *row);

/* Calls fn for every stored session, by start time then seance_id.
 * FB_ERR_STORE on an SQLite error, FB_ERR_MALFORMED when a stored row does
 * not decode (the rows before it were given). */
fb_err_t feed_store_each_seance(feed_store_t *self, feed_seance_fn fn, void *ctx);

/* A dwelling of the feed, borrowed for the time of a callback: its
 * LogementLibere (NULL when only outcomes were received, e.g. the dwelling
 * was published before the commune subscribed) and its outcomes in arrival
 * order. */
typedef struct {
    const char *vacancy_id;
    const Fluxbus__V1__LogementLibere *logement;
    const Fluxbus__V1__LogementIssue *const *issues;
    size_t n_issues;
} feed_logement_t;

typedef void (*feed_logement_fn)(void *ctx, const feed_logement_t *row);

/* Calls fn for every dwelling known by a LogementLibere or an outcome, by
 * commune then vacancy_id. Errors as feed_store_each_seance. */
fb_err_t feed_store_each_logement(feed_store_t *self, feed_logement_fn fn, void *ctx);

/* The stored LogementLibere of vacancy_id: FB_OK with *out (free with
 * fb_codec_free), FB_ERR_NOT_FOUND, FB_ERR_STORE, FB_ERR_MALFORMED. */
fb_err_t feed_store_logement(feed_store_t *self, const char *vacancy_id,
                             Fluxbus__V1__LogementLibere **out);

/* When anything in the store last changed (ms since the epoch), 0 when it
 * is empty or on error. */
int64_t feed_store_last_change_ms(feed_store_t *self);

#endif
