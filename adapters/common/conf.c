/* conf.c - an adapter's config file (see conf.h). Owns reading and checking
 * the "name = value" lines against the adapter's table of known settings;
 * the values are kept as text, converted on demand. */
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spool.h"

typedef struct {
    char *name, *value;
} s_entry_t;

struct conf {
    const conf_key_t *keys;
    s_entry_t *entries;
    size_t n, cap;
    char *dir; /* for relative paths; NULL: the working directory */
};

static const conf_key_t *s_key(const conf_key_t *keys, const char *name)
{
    for (const conf_key_t *k = keys; k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

static char *s_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int s_add(conf_t *c, const char *name, const char *value)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        void *p = realloc(c->entries, cap * sizeof *c->entries);
        if (!p)
            return -1;
        c->entries = p;
        c->cap = cap;
    }
    c->entries[c->n].name = strdup(name);
    c->entries[c->n].value = strdup(value);
    if (!c->entries[c->n].name || !c->entries[c->n].value) {
        free(c->entries[c->n].name);
        free(c->entries[c->n].value);
        return -1;
    }
    c->n++;
    return 0;
}

/* Checks and records one line; returns 0, or -1 with a reason in err. */
static int s_line(conf_t *c, char *line, const char *origin, unsigned no, char *err, size_t errlen)
{
    char *text = s_trim(line);
    if (!*text || *text == '#')
        return 0;
    char *eq = strchr(text, '=');
    if (!eq) {
        snprintf(err, errlen, "%s:%u: expected \"name = value\"", origin, no);
        return -1;
    }
    *eq = '\0';
    char *name = s_trim(text), *value = s_trim(eq + 1);
    const conf_key_t *key = s_key(c->keys, name);
    if (!key) {
        snprintf(err, errlen, "%s:%u: unknown setting \"%s\"", origin, no, name);
        return -1;
    }
    if (!*value) {
        snprintf(err, errlen, "%s:%u: %s: empty value", origin, no, name);
        return -1;
    }
    if (!key->repeat && conf_count(c, name)) {
        snprintf(err, errlen, "%s:%u: %s is set twice", origin, no, name);
        return -1;
    }
    if (s_add(c, name, value) != 0) {
        snprintf(err, errlen, "%s:%u: out of memory", origin, no);
        return -1;
    }
    return 0;
}

conf_t *conf_parse(const char *text, size_t len, const char *origin, const char *dir,
                   const conf_key_t *keys, char *err, size_t errlen)
{
    conf_t *c = calloc(1, sizeof *c);
    char *copy = malloc(len + 1);
    if (!c || !copy || (dir && !(c->dir = strdup(dir)))) {
        snprintf(err, errlen, "%s: out of memory", origin);
        free(copy);
        conf_free(&c);
        return NULL;
    }
    c->keys = keys;
    memcpy(copy, text, len);
    copy[len] = '\0';
    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: not a text file (NUL byte)", origin);
        goto fail;
    }
    unsigned no = 0;
    for (char *save = NULL, *line = copy; line; line = save) {
        save = strchr(line, '\n');
        if (save)
            *save++ = '\0';
        if (s_line(c, line, origin, ++no, err, errlen) != 0)
            goto fail;
    }
    for (const conf_key_t *k = keys; k->name; k++)
        if (k->required && !conf_count(c, k->name)) {
            snprintf(err, errlen, "%s: missing setting \"%s\" (%s)", origin, k->name, k->help);
            goto fail;
        }
    free(copy);
    return c;
fail:
    free(copy);
    conf_free(&c);
    return NULL;
}

conf_t *conf_load(const char *path, const conf_key_t *keys, char *err, size_t errlen)
{
    uint8_t *text = NULL;
    size_t len = 0;
    fb_err_t rc = spool_read(path, 1 << 20, &text, &len);
    if (rc != FB_OK) {
        snprintf(err, errlen, "%s: %s", path,
                 rc == FB_ERR_TOO_LARGE ? "larger than 1 MiB" : strerror(errno));
        return NULL;
    }
    char *dir = strdup(path);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    conf_t *c = conf_parse((const char *)text, len, path, slash ? dir : NULL, keys, err, errlen);
    free(dir);
    free(text);
    return c;
}

void conf_free(conf_t **self_p)
{
    conf_t *c = self_p ? *self_p : NULL;
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->entries[i].name);
        free(c->entries[i].value);
    }
    free(c->entries);
    free(c->dir);
    free(c);
    *self_p = NULL;
}

const char *conf_get(const conf_t *self, const char *name)
{
    for (size_t i = 0; i < self->n; i++)
        if (strcmp(self->entries[i].name, name) == 0)
            return self->entries[i].value;
    const conf_key_t *key = s_key(self->keys, name);
    return key ? key->dflt : NULL;
}

size_t conf_count(const conf_t *self, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < self->n; i++)
        n += strcmp(self->entries[i].name, name) == 0;
    return n;
}

const char *conf_get_at(const conf_t *self, const char *name, size_t i)
{
    for (size_t j = 0; j < self->n; j++)
        if (strcmp(self->entries[j].name, name) == 0 && i-- == 0)
            return self->entries[j].value;
    return NULL;
}

bool conf_get_int(const conf_t *self, const char *name, long long min, long long max,
                  long long *out, char *err, size_t errlen)
{
    const char *text = conf_get(self, name);
    char *end = NULL;
    errno = 0;
    long long v = text ? strtoll(text, &end, 10) : 0;
    if (!text || errno || end == text || *end || v < min || v > max) {
        snprintf(err, errlen, "%s: \"%s\" is not a whole number from %lld to %lld", name,
                 text ? text : "", min, max);
        return false;
    }
    *out = v;
    return true;
}

char *conf_path(const conf_t *self, const char *name)
{
    const char *value = conf_get(self, name);
    if (!value)
        return NULL;
    if (value[0] == '/' || !self->dir)
        return strdup(value);
    return spool_path(self->dir, value);
}

void conf_print_keys(const conf_key_t *keys)
{
    for (const conf_key_t *k = keys; k->name; k++) {
        char left[64];
        snprintf(left, sizeof left, "%s = %s", k->name,
                 k->dflt       ? k->dflt
                 : k->required ? "(required)"
                               : "(unset)");
        printf("  %-38s %s%s\n", left, k->help, k->repeat ? " (repeatable)" : "");
    }
}
