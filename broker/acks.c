/* acks.c - the acks taken and not yet written (see acks.h).
 *
 * Owns one array of kept acks in arrival order; the oldest is the first,
 * so the deadline is the first one's. Invariants: every kept ack has
 * seq <= max_seq (a cheap answer for acks_has() on the common case, a
 * delivery newer than anything acked); the array is emptied only by
 * acks_flush(). Does not touch the store. */
#include "acks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/keys.h"

typedef struct {
    char recipient[FB_ACTOR_MAX];
    uint64_t seq;
    int64_t at_ms;
} s_ack_t;

struct acks {
    unsigned delay_ms;
    size_t max;
    s_ack_t *kept;
    size_t n, cap;
    uint64_t max_seq; /* highest seq kept; 0 when none */
};

acks_t *acks_new(unsigned delay_ms, size_t max)
{
    acks_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->delay_ms = delay_ms;
    self->max = max ? max : 1;
    return self;
}

void acks_destroy(acks_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->kept);
    free(*self_p);
    *self_p = NULL;
}

fb_err_t acks_add(acks_t *self, const char *recipient, uint64_t seq, int64_t at_ms)
{
    if (self->n == self->cap) {
        /* Grows past max only within one turn (a batch of ACKs): the turn
         * flushes them when it ends. */
        size_t cap = self->cap ? 2 * self->cap : 64;
        void *p = realloc(self->kept, cap * sizeof *self->kept);
        if (!p)
            return FB_ERR_NOMEM;
        self->kept = p;
        self->cap = cap;
    }
    s_ack_t *a = &self->kept[self->n++];
    snprintf(a->recipient, sizeof a->recipient, "%s", recipient);
    a->seq = seq;
    a->at_ms = at_ms;
    if (seq > self->max_seq)
        self->max_seq = seq;
    return FB_OK;
}

bool acks_has(const acks_t *self, const char *recipient, uint64_t seq)
{
    if (seq > self->max_seq)
        return false; /* newer than every kept ack: the pump's usual case */
    for (size_t i = 0; i < self->n; i++)
        if (self->kept[i].seq == seq && strcmp(self->kept[i].recipient, recipient) == 0)
            return true;
    return false;
}

size_t acks_count(const acks_t *self)
{
    return self->n;
}

int64_t acks_due_ms(const acks_t *self)
{
    if (self->n == 0)
        return INT64_MAX;
    if (self->n >= self->max)
        return self->kept[0].at_ms; /* due already */
    return self->kept[0].at_ms + (int64_t)self->delay_ms;
}

bool acks_due(const acks_t *self, int64_t now_ms)
{
    /* A clock set back (now before the oldest ack) must not hold them. */
    return self->n > 0 && (now_ms >= acks_due_ms(self) || now_ms < self->kept[0].at_ms);
}

fb_err_t acks_flush(acks_t *self, acks_write_fn write, void *ctx, size_t *written)
{
    fb_err_t rc = FB_OK;
    size_t i = 0;
    for (; rc == FB_OK && i < self->n; i++) {
        const s_ack_t *a = &self->kept[i];
        rc = write(ctx, a->recipient, a->seq, a->at_ms);
    }
    if (written)
        *written = i;
    self->n = 0;
    self->max_seq = 0;
    return rc;
}
