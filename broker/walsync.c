/* walsync.c - the store's WAL made durable (see walsync.h). Owns a
 * descriptor of the WAL file, the thread that fdatasyncs it, and the
 * generations asked for and reached. One fdatasync at a time, by the
 * thread or by a waiter when the thread is idle. */
#define _GNU_SOURCE /* O_CLOEXEC, O_DIRECTORY */
#include "walsync.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct walsync {
    char wal[PATH_MAX];
    char dir[PATH_MAX];
    /* the syncer's own (whoever holds `busy`) */
    int fd;
    dev_t dev;
    ino_t ino;
    bool dir_synced; /* the directory holds the WAL's name durably */
    /* under lock */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the thread: a generation was asked for, or stop */
    pthread_cond_t done; /* the waiters: an fdatasync ended */
    uint64_t requested;  /* the highest generation asked for */
    uint64_t durable;    /* every generation up to it is on the disk */
    bool busy;           /* an fdatasync is running */
    bool stop;
    char failed[PATH_MAX + 128]; /* non-empty: an fdatasync failed, why */
};

/* Makes the names in a directory durable (a new WAL's). 0, or -1 with errno. */
static int s_fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc;
    do
        rc = fsync(fd);
    while (rc < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* The WAL's descriptor, opened again when the file was replaced (a new
 * WAL's name is made durable in its directory once). */
static int s_wal_fd(walsync_t *self)
{
    struct stat st;
    if (stat(self->wal, &st) != 0)
        return -1;
    if (self->fd >= 0 && st.st_dev == self->dev && st.st_ino == self->ino)
        return self->fd;
    if (self->fd >= 0)
        close(self->fd);
    self->fd = open(self->wal, O_RDWR | O_CLOEXEC);
    if (self->fd < 0 || fstat(self->fd, &st) != 0)
        return -1;
    self->dev = st.st_dev;
    self->ino = st.st_ino;
    self->dir_synced = false;
    return self->fd;
}

/* One fdatasync of the WAL. A WAL that is gone is a failure: it exists
 * while the broker's connection is open, and the database file is not
 * opened here (closing a descriptor of it would drop SQLite's locks). 0,
 * or -1 with the reason in why. */
static int s_sync(walsync_t *self, char *why, size_t cap)
{
    int fd = s_wal_fd(self);
    int rc = fd < 0 ? -1 : 0;
    while (rc == 0 && fdatasync(fd) != 0)
        if (errno != EINTR)
            rc = -1;
    const char *what = "fdatasync", *of = self->wal;
    if (rc == 0 && !self->dir_synced) {
        if (s_fsync_dir(self->dir) == 0)
            self->dir_synced = true;
        else {
            rc = -1;
            what = "fsync";
            of = self->dir;
        }
    }
    if (rc != 0)
        snprintf(why, cap, "%s of %s: %s", what, of, strerror(errno));
    return rc;
}

/* Runs one fdatasync for everything asked for so far; called and returns
 * with the lock held, releases it meanwhile. */
static void s_sync_locked(walsync_t *self)
{
    uint64_t target = self->requested;
    self->busy = true;
    pthread_mutex_unlock(&self->lock);
    char why[sizeof self->failed] = "";
    int rc = s_sync(self, why, sizeof why);
    pthread_mutex_lock(&self->lock);
    self->busy = false;
    if (rc != 0 && !self->failed[0])
        snprintf(self->failed, sizeof self->failed, "%s", why);
    else if (rc == 0 && target > self->durable)
        self->durable = target;
    pthread_cond_broadcast(&self->done);
}

static void *s_run(void *arg)
{
    walsync_t *self = arg;
    pthread_mutex_lock(&self->lock);
    while (!self->stop) {
        if (!self->busy && !self->failed[0] && self->requested > self->durable)
            s_sync_locked(self);
        else
            pthread_cond_wait(&self->wake, &self->lock);
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

walsync_t *walsync_new(const char *db_path, char *err, size_t errlen)
{
    walsync_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->fd = -1;
    const char *slash = strrchr(db_path, '/');
    if (snprintf(self->wal, sizeof self->wal, "%s-wal", db_path) >= (int)sizeof self->wal ||
        snprintf(self->dir, sizeof self->dir, "%.*s", slash ? (int)(slash - db_path) + 1 : 1,
                 slash ? db_path : ".") >= (int)sizeof self->dir) {
        snprintf(err, errlen, "store path too long: %s", db_path);
        free(self);
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    pthread_cond_init(&self->done, NULL);
    int rc = pthread_create(&self->thread, NULL, s_run, self);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the WAL's sync thread: %s", strerror(rc));
        pthread_cond_destroy(&self->done);
        pthread_cond_destroy(&self->wake);
        pthread_mutex_destroy(&self->lock);
        free(self);
        return NULL;
    }
    return self;
}

void walsync_start(walsync_t *self, uint64_t gen)
{
    pthread_mutex_lock(&self->lock);
    if (gen > self->requested) {
        self->requested = gen;
        pthread_cond_signal(&self->wake);
    }
    pthread_mutex_unlock(&self->lock);
}

fb_err_t walsync_wait(walsync_t *self, uint64_t gen, char *why, size_t cap)
{
    pthread_mutex_lock(&self->lock);
    for (;;) {
        if (self->failed[0]) {
            snprintf(why, cap, "%s", self->failed);
            pthread_mutex_unlock(&self->lock);
            return FB_ERR_STORE;
        }
        if (self->durable >= gen)
            break;
        if (self->busy) { /* it may cover gen, or have started before it */
            pthread_cond_wait(&self->done, &self->lock);
            continue;
        }
        if (gen > self->requested)
            self->requested = gen;
        s_sync_locked(self); /* the thread is idle: no hand-over */
    }
    pthread_mutex_unlock(&self->lock);
    return FB_OK;
}

void walsync_destroy(walsync_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    walsync_t *self = *self_p;
    pthread_mutex_lock(&self->lock);
    self->stop = true;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    pthread_join(self->thread, NULL);
    pthread_cond_destroy(&self->done);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
    if (self->fd >= 0)
        close(self->fd);
    free(self);
    *self_p = NULL;
}
