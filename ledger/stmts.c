/* stmts.c - the statement cache of stmts.h: a small open-addressing table
 * keyed by the SQL text (FNV-1a), each slot one prepared statement and
 * whether it is handed out. */
#include "stmts.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_SLOTS 256 /* power of two; the ledger uses well under half */

typedef struct {
    char *sql; /* NULL: free slot */
    sqlite3_stmt *st;
    bool out; /* handed out, not yet put back */
} s_slot_t;

struct stmts {
    sqlite3 *db;
    size_t used;
    s_slot_t slot[S_SLOTS];
};

static uint32_t s_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
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

sqlite3_stmt *stmts_get(stmts_t *self, const char *sql)
{
    s_slot_t *slot = s_find(self, sql);
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
    return st;
}

/* The slot holding st: by its text first, by a scan when SQLite keeps the
 * text differently (a tail after the statement). NULL: not cached. */
static s_slot_t *s_slot_of(stmts_t *self, sqlite3_stmt *st)
{
    const char *sql = sqlite3_sql(st);
    s_slot_t *slot = sql ? s_find(self, sql) : NULL;
    if (slot && slot->st == st)
        return slot;
    for (size_t i = 0; i < S_SLOTS; i++)
        if (self->slot[i].st == st)
            return &self->slot[i];
    return NULL;
}

void stmts_put(stmts_t *self, sqlite3_stmt *st)
{
    if (!st)
        return;
    s_slot_t *slot = s_slot_of(self, st);
    if (slot) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        slot->out = false;
        return;
    }
    sqlite3_finalize(st);
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
