/* stmts.c - the statement cache of stmts.h: a small open-addressing table
 * keyed by the SQL text (FNV-1a), each slot one prepared statement and
 * whether it is handed out; and two tables keyed by address that find a
 * slot without hashing the text: the SQL pointer a caller passes (its
 * literal, verified by strcmp: a buffer reused for other text falls back to
 * the text's hash) and the statement handed out (for stmts_put). Hashing
 * the text on each get and put was a tenth of the ledger's instructions. */
#include "stmts.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/fnv.h"

#define S_SLOTS 256 /* power of two; the ledger uses well under half */
#define S_REFS 512  /* power of two: addresses of SQL texts and statements */

typedef struct {
    char *sql; /* NULL: free slot */
    sqlite3_stmt *st;
    bool out; /* handed out, not yet put back */
} s_slot_t;

/* An address (a caller's SQL text, or a cached statement) and its slot. */
typedef struct {
    const void *key; /* NULL: free */
    s_slot_t *slot;
} s_ref_t;

struct stmts {
    sqlite3 *db;
    size_t used;
    s_slot_t slot[S_SLOTS];
    s_ref_t by_sql[S_REFS], by_st[S_REFS];
    size_t n_by_sql;
};

static uint32_t s_hash(const char *s)
{
    return (uint32_t)fb_fnv1a64_str(FB_FNV1A64_START, s);
}

stmts_t *stmts_new(sqlite3 *db)
{
    stmts_t *self = calloc(1, sizeof *self);
    if (self)
        self->db = db;
    return self;
}

sqlite3 *stmts_db(const stmts_t *self)
{
    return self->db;
}

static sqlite3_stmt *s_prepare(sqlite3 *db, const char *sql, unsigned flags)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, flags, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static uint32_t s_address_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (uint32_t)x;
}

/* The entry of key in refs, or the free one where it would go. The tables
 * are kept at most half full, so there is always a free entry. */
static s_ref_t *s_ref(s_ref_t *refs, const void *key)
{
    for (uint32_t i = s_address_hash(key);; i++) {
        s_ref_t *r = &refs[i & (S_REFS - 1)];
        if (!r->key || r->key == key)
            return r;
    }
}

/* The slot of sql, or the free slot where it would go; NULL when full. */
static s_slot_t *s_find(stmts_t *self, const char *sql)
{
    for (uint32_t i = s_hash(sql), n = 0; n < S_SLOTS; i++, n++) {
        s_slot_t *slot = &self->slot[i & (S_SLOTS - 1)];
        if (!slot->sql || strcmp(slot->sql, sql) == 0)
            return slot;
    }
    return NULL;
}

/* The cached slot whose text sql's address held last time, if it still
 * holds that text. */
static s_slot_t *s_by_address(stmts_t *self, const char *sql)
{
    s_ref_t *r = s_ref(self->by_sql, sql);
    return r->key && strcmp(r->slot->sql, sql) == 0 ? r->slot : NULL;
}

/* Remembers that sql's address holds slot's text (unless the table is
 * half full: then the text's hash finds it, as before). */
static void s_remember(stmts_t *self, const char *sql, s_slot_t *slot)
{
    s_ref_t *r = s_ref(self->by_sql, sql);
    if (!r->key && self->n_by_sql >= S_REFS / 2)
        return;
    self->n_by_sql += !r->key;
    *r = (s_ref_t){.key = sql, .slot = slot};
}

sqlite3_stmt *stmts_get(stmts_t *self, const char *sql)
{
    s_slot_t *slot = s_by_address(self, sql);
    if (!slot && (slot = s_find(self, sql)) && slot->sql)
        s_remember(self, sql, slot);
    if (slot && slot->sql && !slot->out) {
        slot->out = true;
        return slot->st;
    }
    /* Not cached yet, or in use by an outer caller, or no room: keep at
     * most half the table so that lookups stay short. */
    if (!slot || slot->sql || self->used >= S_SLOTS / 2)
        return s_prepare(self->db, sql, 0);
    sqlite3_stmt *st = s_prepare(self->db, sql, SQLITE_PREPARE_PERSISTENT);
    char *copy = st ? strdup(sql) : NULL;
    if (!copy) {
        sqlite3_finalize(st);
        return NULL;
    }
    *slot = (s_slot_t){.sql = copy, .st = st, .out = true};
    self->used++;
    *s_ref(self->by_st, st) = (s_ref_t){.key = st, .slot = slot};
    s_remember(self, sql, slot);
    return st;
}

void stmts_put(stmts_t *self, sqlite3_stmt *st)
{
    if (!st)
        return;
    s_ref_t *r = s_ref(self->by_st, st);
    if (!r->key) {
        sqlite3_finalize(st); /* not cached */
        return;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    r->slot->out = false;
}

void stmts_destroy(stmts_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    stmts_t *self = *self_p;
    for (size_t i = 0; i < S_SLOTS; i++) {
        sqlite3_finalize(self->slot[i].st);
        free(self->slot[i].sql);
    }
    free(self);
    *self_p = NULL;
}
