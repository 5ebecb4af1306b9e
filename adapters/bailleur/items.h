/* items.h - one inbox file read into the messages it holds, each with its
 * route, or into the list of what is wrong with it: the whole file is
 * checked before anything of it is sent.
 *
 * Files:
 * - NAME.json: one message in the JSON form of adapter_json_msg
 *   ({"type", "to"?, "topics"?, "correlation_id"?, "payload", "household"?});
 * - NAME.csv: one message per data row (csv.h), its type from a "type"
 *   column or else from the file name's start, up to the first '-' or '.'
 *   ("LogementLibere-2026-11-30.csv", "logement_libere.csv"); columns "to"
 *   and "topics" ('|' between items) and "correlation_id" route the row;
 *   in a file with a "type" column, a row's empty cells are left out (they
 *   are the other types' columns).
 * A message that names neither recipients nor topics gets its default route
 * (routing.h), worked out against the state as the file's earlier rows
 * would leave it (a trial: nothing is kept).
 *
 * Errors are JSON objects {"line", "column" (CSV) or "field" (JSON),
 * "reason"}; "line" is left out when the error is not about a line. */
#ifndef FLUXBUS_ADAPTER_BAILLEUR_ITEMS_H
#define FLUXBUS_ADAPTER_BAILLEUR_ITEMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "fluxbus/fluxbus.h"
#include "routing.h"
#include "state.h"

/* One message of a file, ready for adapter_send. */
typedef struct {
    unsigned line; /* CSV: the line where its row starts; JSON: 0 */
    const fb_catalog_entry_t *entry;
    ProtobufCMessage *payload;
    ProtobufCMessage *household; /* JSON only, or NULL */
    routing_t route;
    char *correlation_id; /* or NULL */
} items_msg_t;

typedef struct {
    bool csv; /* the file is a CSV file (else JSON) */
    items_msg_t *msgs;
    size_t n;
    json_t *errors; /* array; empty when the file is good */
} items_t;

/* What reading a file needs. */
typedef struct {
    state_t *state;
    const routing_conf_t *routing;
    const char *tz; /* time zone of CSV local dates and times */
    char csv_sep;
} items_conf_t;

/* Kind of a file by its name: true for .json / .csv (any case). */
bool items_is_json(const char *name);
bool items_is_csv(const char *name);

/* Reads file `name` (its `len` bytes in data, NUL-terminated) into *out
 * (items_free it, also after an error). FB_OK: out->errors empty and
 * out->msgs holding at least one message, or out->errors saying why the
 * file is refused (an unknown extension too); FB_ERR_STORE / FB_ERR_NOMEM
 * when the state could not be read (the file may be tried again later). */
fb_err_t items_load(const items_conf_t *conf, const char *name, const uint8_t *data, size_t len,
                    items_t *out);

void items_free(items_t *items);

/* An error object for the errors array: {"line" (if line > 0), key: name
 * (if name is not NULL), "reason"}. Invalid UTF-8 is shown as '?'. */
json_t *items_error(unsigned line, const char *key, const char *name, const char *reason);

/* A JSON string of s, its invalid UTF-8 bytes shown as '?'. */
json_t *items_text(const char *s);

#endif
