/* log.c - formatting helpers for the fb_log_fn callback. The library itself
 * never chooses where lines go; fb_log_stderr is offered to programs. */
#include "fluxbus/log.h"

#include <stdarg.h>
#include <stdio.h>

const char *fb_log_level_name(fb_log_level_t level)
{
    switch (level) {
    case FB_LOG_DEBUG:
        return "debug";
    case FB_LOG_INFO:
        return "info";
    case FB_LOG_WARN:
        return "warn";
    case FB_LOG_ERROR:
        return "error";
    }
    return "info";
}

void fb_logf(fb_log_fn fn, void *ctx, fb_log_level_t level, const char *fmt, ...)
{
    if (!fn)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fn(ctx, level, line);
}

void fb_log_stderr(void *ctx, fb_log_level_t level, const char *line)
{
    (void)ctx;
    fprintf(stderr, "%s %s\n", fb_log_level_name(level), line);
}
