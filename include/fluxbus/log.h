/* fluxbus/log.h - the log callback through which libfluxbus reports.
 *
 * The library never writes to stdout/stderr on its own: components that have
 * something to say take an fb_log_fn and call it (if not NULL) with one
 * complete line, without trailing newline, in the form
 *   "component msg key=value key=value". */
#ifndef FLUXBUS_LOG_H
#define FLUXBUS_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    FB_LOG_DEBUG = 0,
    FB_LOG_INFO = 1,
    FB_LOG_WARN = 2,
    FB_LOG_ERROR = 3
} fb_log_level_t;

typedef void (*fb_log_fn)(void *ctx, fb_log_level_t level, const char *line);

/* Name of a level: "debug", "info", "warn", "error". */
const char *fb_log_level_name(fb_log_level_t level);

/* Formats and passes one line to fn (no-op when fn is NULL). */
void fb_logf(fb_log_fn fn, void *ctx, fb_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A ready-made callback writing "level line\n" to stderr; ctx is ignored. */
void fb_log_stderr(void *ctx, fb_log_level_t level, const char *line);

#ifdef __cplusplus
}
#endif
#endif
