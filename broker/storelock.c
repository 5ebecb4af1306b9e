/* storelock.c - the store's exclusive lock file (see storelock.h).
 *
 * A file of its own rather than a lock on the store: SQLite holds POSIX
 * locks on the store, which any close() of another descriptor of that file
 * in the process would drop. */
#include "storelock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct storelock {
    int fd;
};

/* Who holds the lock, as its file says ("" when it says nothing). */
static void s_holder(int fd, char *out, size_t cap)
{
    ssize_t n = pread(fd, out, cap - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    out[strcspn(out, "\n")] = '\0';
}

storelock_t *storelock_take(const char *store_path, const char *holder, char *err, size_t errlen)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s.lock", store_path) >= sizeof path) {
        snprintf(err, errlen, "store path too long: %.64s...", store_path);
        return NULL;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open the lock file %s: %s", path, strerror(errno));
        return NULL;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char who[128];
        s_holder(fd, who, sizeof who);
        if (e == EWOULDBLOCK)
            snprintf(err, errlen, "the store %s is in use by %s (lock file %s)", store_path,
                     *who ? who : "another process", path);
        else
            snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
        close(fd);
        return NULL;
    }
    storelock_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        return NULL;
    }
    self->fd = fd;
    char line[160];
    int n = snprintf(line, sizeof line, "%s pid %ld\n", holder, (long)getpid());
    bool written = ftruncate(fd, 0) == 0 && n > 0 && pwrite(fd, line, (size_t)n, 0) == n;
    (void)written; /* the file only says who: the lock is held all the same */
    return self;
}

void storelock_release(storelock_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    close((*self_p)->fd); /* drops the flock */
    free(*self_p);
    *self_p = NULL;
}
