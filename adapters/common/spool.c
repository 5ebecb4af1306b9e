/* spool.c - spool directories (see spool.h). Owns the directory layout,
 * which files are ready to be taken, and the atomic, durable writes and
 * moves every adapter relies on to lose nothing across a crash. */
#define _GNU_SOURCE /* renameat2 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *spool_path(const char *root, const char *sub)
{
    size_t n = strlen(root) + 1 + strlen(sub) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", root, sub);
    return p;
}

fb_err_t spool_mkdir(const char *path, char *err, size_t errlen)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return FB_OK;
        errno = ENOTDIR;
    }
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return FB_ERR_IO;
}

fb_err_t spool_init(const char *root, char *err, size_t errlen)
{
    static const char *const subs[] = {"inbox", "done", "rejected", "outbox"};
    fb_err_t rc = spool_mkdir(root, err, errlen);
    for (size_t i = 0; rc == FB_OK && i < sizeof subs / sizeof subs[0]; i++) {
        char *p = spool_path(root, subs[i]);
        rc = p ? spool_mkdir(p, err, errlen) : FB_ERR_NOMEM;
        free(p);
    }
    return rc;
}

static int s_by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool s_ready(const char *dir, const char *name, int settle_ms)
{
    size_t n = strlen(name);
    if (name[0] == '.' || (n >= 4 && strcmp(name + n - 4, ".tmp") == 0))
        return false;
    char *path = spool_path(dir, name);
    struct stat st;
    bool ok = path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
    if (ok && settle_ms > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long long age_ms = (long long)(ts.tv_sec - st.st_mtim.tv_sec) * 1000 +
                           (ts.tv_nsec - st.st_mtim.tv_nsec) / 1000000;
        ok = age_ms >= settle_ms;
    }
    free(path);
    return ok;
}

fb_err_t spool_list(const char *dir, int settle_ms, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return FB_ERR_IO;
    size_t cap = 0;
    fb_err_t rc = FB_OK;
    for (struct dirent *e; rc == FB_OK && (e = readdir(d));) {
        if (!s_ready(dir, e->d_name, settle_ms))
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            char **p = realloc(*names, cap * sizeof *p);
            if (!p) {
                rc = FB_ERR_NOMEM;
                break;
            }
            *names = p;
        }
        if (!((*names)[*n] = strdup(e->d_name)))
            rc = FB_ERR_NOMEM;
        else
            (*n)++;
    }
    closedir(d);
    if (rc != FB_OK) {
        spool_names_free(*names, *n);
        *names = NULL;
        *n = 0;
        return rc;
    }
    if (*n)
        qsort(*names, *n, sizeof **names, s_by_name);
    return FB_OK;
}

void spool_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

fb_err_t spool_read(const char *path, size_t cap, uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return FB_ERR_IO;
    size_t size = 0, room = 4096;
    uint8_t *buf = malloc(room + 1);
    fb_err_t rc = buf ? FB_OK : FB_ERR_NOMEM;
    while (rc == FB_OK) {
        if (size == room) {
            if (room > cap) {
                rc = FB_ERR_TOO_LARGE;
                break;
            }
            room *= 2;
            uint8_t *p = realloc(buf, room + 1);
            if (!p) {
                rc = FB_ERR_NOMEM;
                break;
            }
            buf = p;
        }
        size_t got = fread(buf + size, 1, room - size, f);
        size += got;
        if (got == 0) {
            rc = ferror(f) ? FB_ERR_IO : FB_OK;
            break;
        }
    }
    int saved = errno;
    fclose(f);
    if (rc == FB_OK && size > cap)
        rc = FB_ERR_TOO_LARGE;
    if (rc != FB_OK) {
        free(buf);
        errno = saved;
        return rc;
    }
    buf[size] = '\0';
    *data = buf;
    *len = size;
    return FB_OK;
}

static fb_err_t s_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return FB_ERR_IO;
    int rc = fsync(fd);
    close(fd);
    return rc == 0 ? FB_OK : FB_ERR_IO;
}

fb_err_t spool_write(const char *dir, const char *name, const void *data, size_t len)
{
    char *final = spool_path(dir, name);
    size_t tn = strlen(dir) + strlen(name) + 16;
    char *tmp = malloc(tn);
    if (!final || !tmp) {
        free(final);
        free(tmp);
        return FB_ERR_NOMEM;
    }
    snprintf(tmp, tn, "%s/.%s.tmp", dir, name);
    fb_err_t rc = FB_ERR_IO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        const uint8_t *p = data;
        size_t left = len;
        while (left) {
            ssize_t w = write(fd, p, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            p += w;
            left -= (size_t)w;
        }
        bool ok = left == 0 && fsync(fd) == 0;
        ok = close(fd) == 0 && ok;
        if (ok && rename(tmp, final) == 0)
            rc = s_fsync_dir(dir);
        if (rc != FB_OK)
            unlink(tmp);
    }
    free(final);
    free(tmp);
    return rc;
}

fb_err_t spool_write_json(const char *dir, const char *name, const json_t *json)
{
    char *text = json_dumps(json, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text)
        return FB_ERR_NOMEM;
    size_t n = strlen(text);
    char *line = realloc(text, n + 2);
    if (!line) {
        free(text);
        return FB_ERR_NOMEM;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    fb_err_t rc = spool_write(dir, name, line, n + 1);
    free(line);
    return rc;
}

fb_err_t spool_move(const char *from_dir, const char *name, const char *to_dir)
{
    char *from = spool_path(from_dir, name), *to = spool_path(to_dir, name);
    fb_err_t rc = from && to ? FB_OK : FB_ERR_NOMEM;
    if (rc == FB_OK && rename(from, to) != 0)
        rc = FB_ERR_IO;
    if (rc == FB_OK)
        rc = s_fsync_dir(to_dir);
    if (rc == FB_OK && strcmp(from_dir, to_dir) != 0)
        rc = s_fsync_dir(from_dir);
    free(from);
    free(to);
    return rc;
}

/* Renames `from` to `to`, never over an existing file: RENAME_NOREPLACE,
 * or link then unlink where the file system lacks it. 0, or -1 (errno
 * EEXIST when `to` exists). */
static int s_rename_noreplace(const char *from, const char *to)
{
    int rc = renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
    if (rc < 0 && (errno == EINVAL || errno == ENOSYS)) {
        rc = link(from, to);
        if (rc == 0)
            rc = unlink(from);
    }
    return rc;
}

/* True when dir/<name><suffix> exists (or cannot be looked at: writing it
 * would fail too, with the reason in errno). */
static bool s_exists(const char *dir, const char *name, const char *suffix)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s%s", dir, name, suffix);
    struct stat st;
    return n > 0 && (size_t)n < sizeof path && lstat(path, &st) == 0;
}

/* The n-th name tried for `name`: itself, then "<stem>-<n><ext>". */
static bool s_candidate(const char *name, int n, char *out, size_t cap)
{
    const char *dot = strrchr(name, '.');
    int stem = dot && dot != name ? (int)(dot - name) : (int)strlen(name);
    int len = n == 1 ? snprintf(out, cap, "%s", name)
                     : snprintf(out, cap, "%.*s-%d%s", stem, name, n, name + stem);
    return len >= 0 && (size_t)len < cap;
}

/* Moves from_dir/name to to_dir/final, never over a file, and syncs both
 * directories. When the move fails, the sidecar to_dir/side just written
 * goes too, and errno says why (EEXIST: the name was taken meanwhile). */
static fb_err_t s_move_beside(const char *from_dir, const char *name, const char *to_dir,
                              const char *final, const char *side)
{
    char *from = spool_path(from_dir, name), *to = spool_path(to_dir, final);
    char *side_path = spool_path(to_dir, side);
    fb_err_t rc = from && to && side_path ? FB_OK : FB_ERR_NOMEM;
    if (rc == FB_OK && s_rename_noreplace(from, to) != 0) {
        int saved = errno;
        unlink(side_path);
        errno = saved;
        rc = FB_ERR_IO;
    } else if (rc == FB_OK) {
        rc = s_fsync_dir(to_dir);
        if (rc == FB_OK && strcmp(from_dir, to_dir) != 0)
            rc = s_fsync_dir(from_dir);
    }
    free(from);
    free(to);
    free(side_path);
    return rc;
}

fb_err_t spool_set_aside(const char *from_dir, const char *name, const char *to_dir,
                         const char *suffix, const json_t *sidecar, char *final_name, size_t cap)
{
    char side[NAME_MAX + 1];
    for (int n = 1; n < 10000; n++) {
        if (!s_candidate(name, n, final_name, cap))
            return FB_ERR_TOO_LARGE;
        if (s_exists(to_dir, final_name, "") || s_exists(to_dir, final_name, suffix))
            continue;
        int len = snprintf(side, sizeof side, "%s%s", final_name, suffix);
        if (len < 0 || (size_t)len >= sizeof side)
            return FB_ERR_TOO_LARGE;
        fb_err_t rc = spool_write_json(to_dir, side, sidecar);
        if (rc == FB_OK)
            rc = s_move_beside(from_dir, name, to_dir, final_name, side);
        if (rc != FB_ERR_IO || errno != EEXIST)
            return rc;
        /* Someone took the name meanwhile: the next one is tried. */
    }
    errno = EEXIST;
    return FB_ERR_IO;
}
