/* conf.h - an adapter's config file.
 *
 * Format (the broker's): one "name = value" per line; '#' starts a comment
 * line; blank lines are ignored; spaces around the name and the value are
 * trimmed. Each adapter declares the names it knows in a table; an unknown
 * name, a missing required one or a repeated single one is an error naming
 * the file and line. A name declared `repeat` may appear on several lines
 * (a list, e.g. one "commune = 74010" per commune).
 *
 * Relative paths in a config file are resolved against the directory of
 * that file (conf_path), so a config works wherever it is started from. */
#ifndef FLUXBUS_ADAPTER_CONF_H
#define FLUXBUS_ADAPTER_CONF_H

#include <stdbool.h>
#include <stddef.h>

/* One known setting; tables end with an entry whose name is NULL. */
typedef struct {
    const char *name;
    const char *dflt; /* default value, or NULL for none */
    bool required;    /* must appear in the file */
    bool repeat;      /* may appear several times (a list) */
    const char *help; /* one line, for --help and the docs */
} conf_key_t;

/* The settings every adapter has (put them first in its table):
 * endpoint, key, broker_key, state, log_level. */
/* clang-format off */
#define CONF_KEYS_BUS                                                                           \
    {"endpoint", "tcp://127.0.0.1:5770", false, false, "broker endpoint"},                      \
    {"key", NULL, true, false, "this actor's secret key file (fluxbus keygen)"},                \
    {"broker_key", NULL, true, false, "the broker's public key file"},                          \
    {"state", NULL, true, false, "the adapter's own SQLite state file"},                        \
    {"log_level", "info", false, false, "error, warn, info or debug"}
/* clang-format on */

typedef struct conf conf_t;

/* Reads and checks the file at `path` against `keys`. NULL on error, with
 * "path:line: reason" (or the I/O error) in err. */
conf_t *conf_load(const char *path, const conf_key_t *keys, char *err, size_t errlen);

/* Same, from `len` bytes of text; `origin` stands for the path in errors and
 * relative paths are resolved against `dir` (NULL: the working directory). */
conf_t *conf_parse(const char *text, size_t len, const char *origin, const char *dir,
                   const conf_key_t *keys, char *err, size_t errlen);

void conf_free(conf_t **self_p);

/* The value of `name` (its first one for a list), else its default, else
 * NULL. */
const char *conf_get(const conf_t *self, const char *name);

/* Number of values of `name` in the file (0 when only the default applies). */
size_t conf_count(const conf_t *self, const char *name);

/* The i-th value of list `name` (i < conf_count). */
const char *conf_get_at(const conf_t *self, const char *name, size_t i);

/* The value of `name` as an integer in [min, max]; false with a reason
 * naming the setting in err when it is not one. */
bool conf_get_int(const conf_t *self, const char *name, long long min, long long max,
                  long long *out, char *err, size_t errlen);

/* The value of `name` as a path: absolute as is, relative against the config
 * file's directory. Returns a string to free(), or NULL when unset. */
char *conf_path(const conf_t *self, const char *name);

/* Prints the table as "  name = default   help" lines (for --help). */
void conf_print_keys(const conf_key_t *keys);

#endif
