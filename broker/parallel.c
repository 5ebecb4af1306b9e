/* parallel.c - the thread pool of parallel.h. Workers sleep on a condition
 * variable between runs; a run hands out item indexes through an atomic
 * counter, so a slow item does not hold a whole slice back. */
#include "parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define S_MAX_THREADS 64

struct parallel {
    pthread_t *workers;
    unsigned n_workers; /* threads besides the caller */
    pthread_mutex_t mu;
    pthread_cond_t wake; /* a run starts, or the pool stops */
    pthread_cond_t idle; /* the last worker left the run */
    uint64_t run;        /* number of the current run */
    unsigned busy;       /* workers not done with the current run */
    bool stopping;
    parallel_fn fn;
    void *ctx;
    size_t n;
    atomic_size_t next; /* next item index to hand out */
};

static void s_share(parallel_t *self)
{
    size_t i;
    while ((i = atomic_fetch_add(&self->next, 1)) < self->n)
        self->fn(self->ctx, i);
}

static void *s_worker(void *arg)
{
    parallel_t *self = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&self->mu);
    for (;;) {
        while (self->run == seen && !self->stopping)
            pthread_cond_wait(&self->wake, &self->mu);
        if (self->stopping)
            break;
        seen = self->run;
        pthread_mutex_unlock(&self->mu);
        s_share(self);
        pthread_mutex_lock(&self->mu);
        if (--self->busy == 0)
            pthread_cond_signal(&self->idle);
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

static unsigned s_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > S_MAX_THREADS ? S_MAX_THREADS : (unsigned)n;
}

parallel_t *parallel_new(unsigned threads)
{
    parallel_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (threads == 0)
        threads = s_online_cpus();
    if (threads > S_MAX_THREADS)
        threads = S_MAX_THREADS;
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->wake, NULL);
    pthread_cond_init(&self->idle, NULL);
    self->workers = calloc(threads, sizeof *self->workers);
    if (!self->workers) {
        parallel_destroy(&self);
        return NULL;
    }
    for (unsigned i = 0; i + 1 < threads; i++) {
        if (pthread_create(&self->workers[i], NULL, s_worker, self) != 0) {
            parallel_destroy(&self);
            return NULL;
        }
        self->n_workers++;
    }
    return self;
}

unsigned parallel_threads(const parallel_t *self)
{
    return self->n_workers + 1;
}

void parallel_for(parallel_t *self, size_t n, parallel_fn fn, void *ctx)
{
    if (n == 0)
        return;
    self->fn = fn;
    self->ctx = ctx;
    self->n = n;
    atomic_store(&self->next, 0);
    if (self->n_workers == 0 || n == 1) {
        s_share(self);
        return;
    }
    pthread_mutex_lock(&self->mu);
    self->busy = self->n_workers;
    self->run++;
    pthread_cond_broadcast(&self->wake);
    pthread_mutex_unlock(&self->mu);
    s_share(self);
    pthread_mutex_lock(&self->mu);
    while (self->busy > 0)
        pthread_cond_wait(&self->idle, &self->mu);
    pthread_mutex_unlock(&self->mu);
}

void parallel_destroy(parallel_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    parallel_t *self = *self_p;
    pthread_mutex_lock(&self->mu);
    self->stopping = true;
    pthread_cond_broadcast(&self->wake);
    pthread_mutex_unlock(&self->mu);
    for (unsigned i = 0; i < self->n_workers; i++)
        pthread_join(self->workers[i], NULL);
    free(self->workers);
    pthread_cond_destroy(&self->idle);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->mu);
    free(self);
    *self_p = NULL;
}
