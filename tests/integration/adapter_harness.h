/* adapter_harness.h - runs the real adapter binaries (and the SNE
 * simulator) beside the real broker in integration tests: key files, config
 * files, child processes that announce themselves with a "ready ..." line,
 * waiting for files, and plain HTTP requests (libcurl).
 *
 * Everything lives in the broker's temp directory (b->dir), removed by
 * fbt_teardown. */
#ifndef FLUXBUS_TEST_ADAPTER_HARNESS_H
#define FLUXBUS_TEST_ADAPTER_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include "harness.h"

/* An adapter (or simulator) child process. */
typedef struct {
    char name[64];
    char config[512]; /* its config file */
    char state[512];  /* its state file (the config's "state") */
    char out[512];    /* its stdout */
    char log[512];    /* its stderr */
    char ready[256];  /* what followed "ready " on its stdout */
    pid_t pid;
} fbt_proc_t;

/* Writes keys (secrets included, mode 0600) to <dir>/<name>.key, and its
 * .pub twin; the path goes to path. */
void fbt_save_keys(const fbt_broker_t *b, const fb_keys_t *keys, const char *name, char *path,
                   size_t cap);

/* Prepares p for an adapter called `name` acting as `keys`: writes its key
 * file and its config <dir>/<name>.conf with the bus settings (endpoint of
 * the running broker, key, broker_key, state <dir>/<name>.state.db,
 * log_level debug) followed by the lines of extra_fmt (printf-style, may be
 * NULL). */
void fbt_adapter_config(const fbt_broker_t *b, fbt_proc_t *p, const char *name,
                        const fb_keys_t *keys, const char *extra_fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Starts `bin` with argv (NULL-terminated, argv[0] included; NULL means
 * {bin, "--config", p->config}), stdout to p->out, stderr to p->log, and
 * waits up to 15 s for its "ready" line (asserts; the log is printed if it
 * exits or stays silent). */
void fbt_proc_start(fbt_proc_t *p, const char *bin, const char *const *argv);

/* Sends sig and waits; returns the exit status, 128+signal, or -1. */
int fbt_proc_stop(fbt_proc_t *p, int sig);

/* True when the process's stderr contains needle. */
int fbt_proc_log_contains(const fbt_proc_t *p, const char *needle);

/* Waits up to timeout_ms until path exists; returns 1 if it does. */
int fbt_wait_path(const char *path, int timeout_ms);

/* Number of entries of dir whose name ends with suffix ("" for all), not
 * counting dot-files; -1 if dir cannot be read. */
int fbt_count_files(const char *dir, const char *suffix);

/* Waits up to timeout_ms until fbt_count_files(dir, suffix) >= n; returns
 * the last count. */
int fbt_wait_files(const char *dir, const char *suffix, int n, int timeout_ms);

/* Whole file, NUL-terminated (free()); NULL if it cannot be read. */
char *fbt_read_file(const char *path, size_t *len);

/* Writes text to path atomically (temp file + rename), as a well-behaved
 * exporting system would; asserts. */
void fbt_write_file(const char *path, const char *text);

/* An HTTP request with libcurl: method, url, bearer token (NULL: none),
 * body (NULL: none; sent as application/json). Returns the status (0 when
 * the server could not be reached); the response body goes to *out
 * (NUL-terminated, free()) when out is not NULL. */
int fbt_http(const char *method, const char *url, const char *token, const char *body, char **out);

#endif
