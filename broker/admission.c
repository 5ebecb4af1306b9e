/* admission.c - per-sender rate and backlog limits (see admission.h).
 *
 * Owns one small record per sending actor: its token bucket and its backlog
 * estimate. Actors are few (one per registered organisation), so records
 * live in an array searched linearly. The estimate only grows between
 * refreshes; it is corrected from the store when it reaches the cap. */
#include "admission.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/keys.h"

typedef struct {
    char actor[FB_ACTOR_MAX];
    double tokens;
    int64_t refilled_ms;
    uint64_t backlog;
    bool backlog_known;
} s_sender_t;

struct admission {
    double rate, burst;
    uint64_t max_backlog;
    s_sender_t *senders;
    size_t n, cap;
};

admission_t *admission_new(unsigned rate, unsigned burst, unsigned max_backlog)
{
    admission_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->rate = rate;
    self->burst = burst;
    self->max_backlog = max_backlog;
    return self;
}

void admission_destroy(admission_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->senders);
    free(*self_p);
    *self_p = NULL;
}

/* The record of actor, created (bucket full, backlog unknown) if needed. */
static s_sender_t *s_sender(admission_t *self, const char *actor, int64_t now_ms)
{
    for (size_t i = 0; i < self->n; i++)
        if (strcmp(self->senders[i].actor, actor) == 0)
            return &self->senders[i];
    if (self->n == self->cap) {
        size_t cap = self->cap ? 2 * self->cap : 16;
        void *p = realloc(self->senders, cap * sizeof *self->senders);
        if (!p)
            return NULL;
        self->senders = p;
        self->cap = cap;
    }
    s_sender_t *s = &self->senders[self->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->actor, sizeof s->actor, "%s", actor);
    s->tokens = self->burst;
    s->refilled_ms = now_ms;
    return s;
}

fb_err_t admission_take(admission_t *self, const char *actor, int64_t now_ms)
{
    s_sender_t *s = s_sender(self, actor, now_ms);
    if (!s)
        return FB_ERR_NOMEM;
    if (now_ms > s->refilled_ms) {
        s->tokens += (double)(now_ms - s->refilled_ms) * self->rate / 1000.0;
        if (s->tokens > self->burst)
            s->tokens = self->burst;
        s->refilled_ms = now_ms;
    }
    if (s->tokens < 1.0)
        return FB_ERR_RATE_LIMITED;
    s->tokens -= 1.0;
    return FB_OK;
}

fb_err_t admission_backlog_check(admission_t *self, const char *actor, admission_count_fn count_fn,
                                 void *ctx)
{
    s_sender_t *s = s_sender(self, actor, 0);
    if (!s)
        return FB_ERR_NOMEM;
    if (!s->backlog_known || s->backlog >= self->max_backlog) {
        fb_err_t rc = count_fn(ctx, actor, &s->backlog);
        if (rc != FB_OK)
            return rc;
        s->backlog_known = true;
    }
    return s->backlog >= self->max_backlog ? FB_ERR_BACKLOG_FULL : FB_OK;
}

void admission_backlog_add(admission_t *self, const char *actor, size_t n)
{
    s_sender_t *s = s_sender(self, actor, 0);
    if (s)
        s->backlog += n;
}
