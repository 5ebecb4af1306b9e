/* config.h - the broker's settings: defaults, the config file, then flags.
 *
 * File format: one "name = value" per line, '#' starts a comment. Names are
 * those of the fields below (endpoint, store, key, max_envelope, window,
 * batch_max, freshness_s, max_recipients, rate, rate_burst, max_backlog,
 * decompte_interval_s, verify_threads, ack_delay_ms, log_level). Unknown names are an error,
 * reported with the line. */
#ifndef FLUXBUS_BROKER_CONFIG_H
#define FLUXBUS_BROKER_CONFIG_H

#include <stddef.h>

#include "fluxbus/err.h"
#include "fluxbus/log.h"

typedef struct {
    char endpoint[256];           /* default tcp://127.0.0.1:5770 */
    char store[1024];             /* default fluxbus.db */
    char key[1024];               /* broker secret key file; default broker.key */
    size_t max_envelope;          /* bytes; default 262144 */
    unsigned window;              /* deliveries in flight per receiver; default 64 */
    unsigned batch_max;           /* messages per group commit; default 256 */
    unsigned freshness_s;         /* created_at within +-this of the broker clock; default 300 */
    unsigned max_recipients;      /* recipients + topics per message; default 64 */
    unsigned rate;                /* SENDs per second per sender, sustained; default 100 */
    unsigned rate_burst;          /* SENDs a sender may make at once; default 500 */
    unsigned max_backlog;         /* undelivered deliveries per sender; default 100000 */
    unsigned decompte_interval_s; /* DecompteDroits this long after a change; default 60 */
    unsigned verify_threads;      /* threads checking signatures, the loop's included;
                                     default 0 = one per online CPU */
    unsigned ack_delay_ms;        /* an ACK not written with messages is committed at
                                     the latest this long after; default 10, 0 = at once */
    fb_log_level_t log_level;     /* default info */
} broker_config_t;

void broker_config_defaults(broker_config_t *cfg);

/* Applies a config file. On error returns FB_ERR_PARSE / FB_ERR_IO and a
 * reason naming the line in errbuf. */
fb_err_t broker_config_load(broker_config_t *cfg, const char *path, char *errbuf, size_t errlen);

/* Applies the text of a config file (len bytes, not NUL-terminated), as
 * broker_config_load() does; `origin` stands for the path in error reasons. */
fb_err_t broker_config_parse(broker_config_t *cfg, const char *text, size_t len, const char *origin,
                             char *errbuf, size_t errlen);

/* Applies one setting by name (used by the file reader and by flags). */
fb_err_t broker_config_set(broker_config_t *cfg, const char *name, const char *value);

#endif
