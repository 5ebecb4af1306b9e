/* checkpointer.c - the store's WAL checkpoints on a thread of their own
 * (see checkpointer.h). Owns the thread, its connection and its rhythm;
 * the loop's connection only stops checkpointing itself (store.c). */
#include "checkpointer.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_WARN_EVERY_MS (60 * 1000LL) /* a failing round is said at most this often */

struct checkpointer {
    sqlite3 *db;
    unsigned interval_ms;
    fb_log_fn log;
    void *log_ctx;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;         /* under lock */
    int64_t warned_ms; /* the thread's own */
};

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One PASSIVE round: copies what no reader still needs. */
static void s_round(checkpointer_t *self)
{
    int rc = sqlite3_wal_checkpoint_v2(self->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc == SQLITE_OK)
        return;
    int64_t now = s_now_ms();
    if (rc != SQLITE_BUSY && now - self->warned_ms >= S_WARN_EVERY_MS) {
        self->warned_ms = now;
        fb_logf(self->log, self->log_ctx, FB_LOG_WARN,
                "broker checkpoint-failed detail=\"%s\" (tried again every %u ms)",
                sqlite3_errmsg(self->db), self->interval_ms);
    }
}

static void *s_run(void *arg)
{
    checkpointer_t *self = arg;
    pthread_mutex_lock(&self->lock);
    while (!self->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)(self->interval_ms % 1000) * 1000000L;
        until.tv_sec += self->interval_ms / 1000 + until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        int rc = 0;
        while (!self->stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&self->wake, &self->lock, &until);
        if (self->stop)
            break;
        pthread_mutex_unlock(&self->lock);
        s_round(self);
        pthread_mutex_lock(&self->lock);
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

checkpointer_t *checkpointer_start(const char *path, unsigned interval_ms, fb_log_fn log,
                                   void *log_ctx, char *err, size_t errlen)
{
    checkpointer_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->interval_ms = interval_ms ? interval_ms : 1;
    self->log = log;
    self->log_ctx = log_ctx;
    /* A connection knows the file is in WAL mode once it has read it: until
     * then a checkpoint does nothing. */
    if (sqlite3_open_v2(path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(self->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "checkpointer: cannot open %s: %s", path,
                 self->db ? sqlite3_errmsg(self->db) : "out of memory");
        sqlite3_close(self->db);
        free(self);
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    int rc = pthread_create(&self->thread, NULL, s_run, self);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the checkpointer's thread: %s", strerror(rc));
        pthread_cond_destroy(&self->wake);
        pthread_mutex_destroy(&self->lock);
        sqlite3_close(self->db);
        free(self);
        return NULL;
    }
    return self;
}

void checkpointer_stop(checkpointer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    checkpointer_t *self = *self_p;
    pthread_mutex_lock(&self->lock);
    self->stop = true;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    pthread_join(self->thread, NULL);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
    sqlite3_close(self->db);
    free(self);
    *self_p = NULL;
}
