/* sheets.c - see sheets.h. Owns the sheets, their pointer array and their
 * strings, in two allocations; a convention only borrows them. */
#include "sheets.h"

#include <stdio.h>
#include <stdlib.h>

/* One sheet and the strings it points at. */
typedef struct {
    Fluxbus__V1__CommuneSheet sheet;
    char insee[8];
    char actor[24];
} s_sheet_t;

struct sheets {
    s_sheet_t *all;
    Fluxbus__V1__CommuneSheet **ptrs;
    size_t n;
};

sheets_t *sheets_new(size_t n, unsigned first)
{
    sheets_t *self = n ? calloc(1, sizeof *self) : NULL;
    if (!self)
        return NULL;
    self->all = calloc(n, sizeof *self->all);
    self->ptrs = calloc(n, sizeof *self->ptrs);
    if (!self->all || !self->ptrs) {
        sheets_destroy(&self);
        return NULL;
    }
    self->n = n;
    for (size_t i = 0; i < n; i++) {
        s_sheet_t *s = &self->all[i];
        Fluxbus__V1__CommuneSheet init = FLUXBUS__V1__COMMUNE_SHEET__INIT;
        s->sheet = init;
        snprintf(s->insee, sizeof s->insee, "%05u", first + (unsigned)i);
        snprintf(s->actor, sizeof s->actor, "commune:%s", s->insee);
        s->sheet.commune_insee = s->insee;
        s->sheet.commune_actor_id = s->actor;
        self->ptrs[i] = &s->sheet;
    }
    return self;
}

void sheets_destroy(sheets_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->all);
    free((*self_p)->ptrs);
    free(*self_p);
    *self_p = NULL;
}

void sheets_attach(const sheets_t *self, Fluxbus__V1__Convention *c)
{
    c->commune_sheets = self->ptrs;
    c->n_commune_sheets = self->n;
}
