/* config.c - broker settings (see config.h). Owns defaults and parsing;
 * validation of values happens here too, so the broker starts only with a
 * configuration it can honour. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void broker_config_defaults(broker_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->endpoint, sizeof cfg->endpoint, "tcp://127.0.0.1:5770");
    snprintf(cfg->store, sizeof cfg->store, "fluxbus.db");
    snprintf(cfg->key, sizeof cfg->key, "broker.key");
    cfg->max_envelope = 256 * 1024;
    cfg->window = 64;
    cfg->batch_max = 256;
    cfg->freshness_s = 300;
    cfg->max_recipients = 64;
    cfg->rate = 100;
    cfg->rate_burst = 500;
    cfg->max_backlog = 100000;
    cfg->decompte_interval_s = 60;
    cfg->ack_delay_ms = 10;
    cfg->log_level = FB_LOG_INFO;
}

static fb_err_t s_number(const char *value, unsigned long min, unsigned long max,
                         unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(value, &end, 10);
    if (errno || !*value || *end || v < min || v > max)
        return FB_ERR_PARSE;
    *out = v;
    return FB_OK;
}

static fb_err_t s_string(char *dst, size_t cap, const char *value)
{
    if (!*value || strlen(value) >= cap)
        return FB_ERR_PARSE;
    memcpy(dst, value, strlen(value) + 1);
    return FB_OK;
}

/* The unsigned settings: name, where, and the range accepted. */
static unsigned *s_unsigned_slot(broker_config_t *cfg, const char *name, unsigned long *min,
                                 unsigned long *max)
{
    const struct {
        const char *name;
        size_t offset;
        unsigned long min, max;
    } table[] = {
        {"window", offsetof(broker_config_t, window), 1, 1024},
        {"batch_max", offsetof(broker_config_t, batch_max), 1, 65536},
        {"freshness_s", offsetof(broker_config_t, freshness_s), 1, 7 * 86400},
        {"max_recipients", offsetof(broker_config_t, max_recipients), 1, 1024},
        {"rate", offsetof(broker_config_t, rate), 1, 10000000},
        {"rate_burst", offsetof(broker_config_t, rate_burst), 1, 10000000},
        {"max_backlog", offsetof(broker_config_t, max_backlog), 1, 1000000000},
        {"decompte_interval_s", offsetof(broker_config_t, decompte_interval_s), 0, 86400},
        {"verify_threads", offsetof(broker_config_t, verify_threads), 0, 64},
        {"ack_delay_ms", offsetof(broker_config_t, ack_delay_ms), 0, 60000},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(name, table[i].name) == 0) {
            *min = table[i].min;
            *max = table[i].max;
            return (unsigned *)((char *)cfg + table[i].offset);
        }
    return NULL;
}

fb_err_t broker_config_set(broker_config_t *cfg, const char *name, const char *value)
{
    unsigned long v = 0, min = 0, max = 0;
    fb_err_t rc;
    unsigned *slot = s_unsigned_slot(cfg, name, &min, &max);
    if (slot) {
        if ((rc = s_number(value, min, max, &v)) == FB_OK)
            *slot = (unsigned)v;
        return rc;
    }
    if (strcmp(name, "endpoint") == 0)
        return s_string(cfg->endpoint, sizeof cfg->endpoint, value);
    if (strcmp(name, "store") == 0)
        return s_string(cfg->store, sizeof cfg->store, value);
    if (strcmp(name, "key") == 0)
        return s_string(cfg->key, sizeof cfg->key, value);
    if (strcmp(name, "max_envelope") == 0) {
        if ((rc = s_number(value, 1024, 64ul * 1024 * 1024, &v)) == FB_OK)
            cfg->max_envelope = v;
        return rc;
    }
    if (strcmp(name, "log_level") == 0) {
        static const char *const levels[] = {"debug", "info", "warn", "error"};
        for (int i = 0; i < 4; i++)
            if (strcmp(value, levels[i]) == 0) {
                cfg->log_level = (fb_log_level_t)i;
                return FB_OK;
            }
        return FB_ERR_PARSE;
    }
    return FB_ERR_INVALID;
}

static char *s_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && strchr(" \t\r\n", s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Applies the lines read from f; `origin` names the source in errors. */
static fb_err_t s_read(broker_config_t *cfg, FILE *f, const char *origin, char *errbuf,
                       size_t errlen)
{
    char line[2048];
    int lineno = 0;
    fb_err_t rc = FB_OK;
    while (rc == FB_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = s_trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(errbuf, errlen, "%s:%d: expected name = value", origin, lineno);
            rc = FB_ERR_PARSE;
            break;
        }
        *eq = '\0';
        char *name = s_trim(s), *value = s_trim(eq + 1);
        rc = broker_config_set(cfg, name, value);
        if (rc == FB_ERR_INVALID)
            snprintf(errbuf, errlen, "%s:%d: unknown setting \"%s\"", origin, lineno, name);
        else if (rc != FB_OK)
            snprintf(errbuf, errlen, "%s:%d: bad value for %s: \"%s\"", origin, lineno, name,
                     value);
        if (rc != FB_OK)
            rc = FB_ERR_PARSE;
    }
    return rc;
}

fb_err_t broker_config_load(broker_config_t *cfg, const char *path, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(errbuf, errlen, "cannot open config %s: %s", path, strerror(errno));
        return FB_ERR_IO;
    }
    fb_err_t rc = s_read(cfg, f, path, errbuf, errlen);
    fclose(f);
    return rc;
}

fb_err_t broker_config_parse(broker_config_t *cfg, const char *text, size_t len, const char *origin,
                             char *errbuf, size_t errlen)
{
    if (len == 0)
        return FB_OK; /* like an empty file */
    /* A read-only stream over the caller's bytes: the same line reader as
     * for a file, so both parse alike. */
    FILE *f = fmemopen((void *)text, len, "r");
    if (!f) {
        snprintf(errbuf, errlen, "%s: out of memory", origin);
        return FB_ERR_NOMEM;
    }
    fb_err_t rc = s_read(cfg, f, origin, errbuf, errlen);
    fclose(f);
    return rc;
}
