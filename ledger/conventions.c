/* conventions.c - the conventions' revisions read back from
 * ledger_conventions, their defaults, and the checks of an Orientation
 * against its convention (see conventions.h; the rules are documented in
 * docs/LEDGER.md, "Conventions").
 *
 * Owns: decoding the stored payloads, choosing the revision in force, the
 * checks of an Orientation (a convention in force required en flux,
 * territory, hors flux, surréservation, the délai, the candidates asked)
 * and the deadline and candidates it gets from its convention when it sets
 * none. Does not own the tables (facts.c writes them) nor what a message
 * may follow (the lifecycle). */
#include "conventions.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amendments.h"
#include "fluxbus/codec.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "held.h"
#include "period.h"

#define S_MAX_PAYLOAD (1024u * 1024u)
#define S_MAX_OBJECTIVES 16

#define MODE(x) FLUXBUS__V1__MODE_GESTION__MODE_GESTION_##x
#define MOTIF(x) FLUXBUS__V1__HORS_FLUX_MOTIF__HORS_FLUX_MOTIF_##x
#define METHOD(x) FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_##x
#define KIND(x) FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_##x
#define UNIT(x) FLUXBUS__V1__OBJECTIVE_UNIT__OBJECTIVE_UNIT_##x

struct conventions {
    conventions_rev_t **revs; /* by convention id, then revision */
    size_t n_revs;
    size_t *start; /* start[i]: first revision of convention i; start[n] = n_revs */
    size_t n;
};

/* ---- loading ---------------------------------------------------------------------- */

static fb_err_t s_push(conventions_t *self, conventions_rev_t *rev)
{
    conventions_rev_t **revs = realloc(self->revs, (self->n_revs + 1) * sizeof *revs);
    size_t *start = realloc(self->start, (self->n_revs + 2) * sizeof *start);
    if (revs)
        self->revs = revs;
    if (start)
        self->start = start;
    if (!revs || !start)
        return FB_ERR_NOMEM;
    bool first = self->n_revs == 0 ||
                 strcmp(self->revs[self->n_revs - 1]->convention_id, rev->convention_id) != 0;
    if (first)
        self->start[self->n++] = self->n_revs;
    self->revs[self->n_revs++] = rev;
    self->start[self->n] = self->n_revs;
    return FB_OK;
}

/* Reads the revisions `st` selects (convention_id, payload), then resets it. */
static conventions_t *s_read(sqlite3 *db, sqlite3_stmt *st, char *err, size_t errlen)
{
    conventions_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "conventions: out of memory");
        return NULL;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ProtobufCMessage *msg = NULL;
        const void *blob = sqlite3_column_blob(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        if (fb_codec_unpack(&fluxbus__v1__convention__descriptor, blob ? blob : "", len,
                            S_MAX_PAYLOAD, &msg) != FB_OK) {
            snprintf(err, errlen, "convention %s: stored payload does not decode",
                     (const char *)sqlite3_column_text(st, 0));
            goto fail;
        }
        if (s_push(self, (conventions_rev_t *)msg) != FB_OK) {
            fb_codec_free(msg);
            snprintf(err, errlen, "conventions: out of memory");
            goto fail;
        }
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "conventions: %s", sqlite3_errmsg(db));
        goto fail;
    }
    sqlite3_reset(st);
    return self;
fail:
    sqlite3_reset(st);
    conventions_destroy(&self);
    return NULL;
}

static conventions_t *s_load(sqlite3 *db, const char *sql, const char *arg, char *err,
                             size_t errlen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "conventions: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return NULL;
    }
    if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    conventions_t *self = s_read(db, st, err, errlen);
    sqlite3_finalize(st);
    return self;
}

#define S_BY_ID                                                                                    \
    "SELECT convention_id, payload FROM ledger_conventions"                                        \
    " WHERE convention_id = ?1 ORDER BY revision"

conventions_t *conventions_load(sqlite3 *db, const char *bailleur, char *err, size_t errlen)
{
    return s_load(db,
                  bailleur ? "SELECT convention_id, payload FROM ledger_conventions"
                             " WHERE bailleur = ?1 ORDER BY convention_id, revision"
                           : "SELECT convention_id, payload FROM ledger_conventions"
                             " ORDER BY convention_id, revision",
                  bailleur, err, errlen);
}

conventions_t *conventions_load_id(sqlite3 *db, const char *convention_id, char *err, size_t errlen)
{
    return s_load(db, S_BY_ID, convention_id, err, errlen);
}

conventions_t *conventions_load_id_q(stmts_t *q, const char *convention_id, char *err,
                                     size_t errlen)
{
    sqlite3_stmt *st = stmts_get(q, S_BY_ID);
    if (!st) {
        snprintf(err, errlen, "conventions: %s", sqlite3_errmsg(stmts_db(q)));
        return NULL;
    }
    sqlite3_bind_text(st, 1, convention_id, -1, SQLITE_STATIC);
    conventions_t *self = s_read(stmts_db(q), st, err, errlen);
    stmts_put(q, st);
    return self;
}

void conventions_destroy(conventions_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    conventions_t *self = *self_p;
    for (size_t i = 0; i < self->n_revs; i++)
        fb_codec_free(&self->revs[i]->base);
    free(self->revs);
    free(self->start);
    free(self);
    *self_p = NULL;
}

size_t conventions_size(const conventions_t *self)
{
    return self->n;
}

const char *conventions_id(const conventions_t *self, size_t i)
{
    return self->revs[self->start[i]]->convention_id;
}

long conventions_find(const conventions_t *self, const char *convention_id)
{
    size_t lo = 0, hi = self->n;
    while (lo < hi) { /* ids are in SQLite's BINARY order, which is strcmp's */
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp(conventions_id(self, mid), convention_id);
        if (cmp == 0)
            return (long)mid;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

size_t conventions_revision_count(const conventions_t *self, size_t i)
{
    return self->start[i + 1] - self->start[i];
}

const conventions_rev_t *conventions_revision(const conventions_t *self, size_t i, size_t k)
{
    return self->revs[self->start[i] + k];
}

const conventions_rev_t *conventions_at(const conventions_t *self, size_t i, int64_t at_ms)
{
    const conventions_rev_t *in_force = NULL, *earliest = NULL;
    for (size_t k = self->start[i]; k < self->start[i + 1]; k++) {
        const conventions_rev_t *rev = self->revs[k];
        int64_t from = conventions_effective_ms(rev);
        if (from <= at_ms)
            in_force = rev; /* revisions ascend: the last one in force wins */
        if (!earliest || from < conventions_effective_ms(earliest))
            earliest = rev;
    }
    return in_force ? in_force : earliest;
}

/* ---- what a revision says --------------------------------------------------------- */

int64_t conventions_effective_ms(const conventions_rev_t *c)
{
    const Fluxbus__V1__Date *d = c->effective_from;
    if (d && period_date_valid((period_date_t){d->year, d->month, d->day}))
        return period_day_start_ms((period_date_t){d->year, d->month, d->day});
    if (c->year > 0 && c->year <= 9999)
        return period_day_start_ms((period_date_t){c->year, 1, 1});
    return INT64_MIN;
}

static int s_method_or_default(int method)
{
    return method == METHOD(UNSPECIFIED) ? METHOD(BAIL_SIGNE) : method;
}

conventions_rule_t conventions_rule(const conventions_rev_t *c, int mode)
{
    const Fluxbus__V1__CountingRule *any = NULL;
    for (size_t i = 0; i < c->n_counting_rules; i++) {
        const Fluxbus__V1__CountingRule *r = c->counting_rules[i];
        if ((int)r->mode == mode)
            return (conventions_rule_t){s_method_or_default(r->method), r->caleol_requires_visit};
        if (r->mode == FLUXBUS__V1__MANAGEMENT_MODE__MANAGEMENT_MODE_UNSPECIFIED && !any)
            any = r;
    }
    if (any)
        return (conventions_rule_t){s_method_or_default(any->method), any->caleol_requires_visit};
    return (conventions_rule_t){s_method_or_default(c->counting_method), c->caleol_requires_visit};
}

bool conventions_remise_counted(const conventions_rev_t *c)
{
    return c->remise_counting == FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_COUNTED;
}

bool conventions_expiry_counted(const conventions_rev_t *c)
{
    /* Unset reads as counted, as the broker's DeadlineExpired says it
     * (deadlines.c): the réservataire had its délai. */
    return c->expired_deadline_counting !=
           FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_NOT_COUNTED;
}

bool conventions_excludes(const conventions_rev_t *c, int mode_gestion, int hors_flux_motif)
{
    if (mode_gestion == MODE(STOCK))
        return c->first_letting !=
               FLUXBUS__V1__FIRST_LETTING_TREATMENT__FIRST_LETTING_TREATMENT_STOCK_DECOMPTE;
    if (mode_gestion != MODE(HORS_FLUX))
        return false;
    if (c->n_hors_flux_motifs == 0)
        return hors_flux_motif == MOTIF(MUTATION_INTERNE) ||
               hors_flux_motif == MOTIF(RELOGEMENT_ANRU) ||
               hors_flux_motif == MOTIF(RELOGEMENT_OPERATION_URBAINE) ||
               hors_flux_motif == MOTIF(DEFENSE_SECURITE);
    for (size_t i = 0; i < c->n_hors_flux_motifs; i++)
        if ((int)c->hors_flux_motifs[i] == hors_flux_motif)
            return true;
    return false;
}

unsigned conventions_deadline_days(const conventions_rev_t *c, bool first_letting)
{
    return first_letting && c->deadline_days_first_letting ? c->deadline_days_first_letting
                                                           : c->deadline_days;
}

bool conventions_multipartite(const conventions_rev_t *c)
{
    return c->kind == FLUXBUS__V1__CONVENTION_KIND__CONVENTION_KIND_MULTIPARTITE;
}

const Fluxbus__V1__CommuneSheet *conventions_sheet(const conventions_rev_t *c, const char *actor,
                                                   int year)
{
    for (size_t i = 0; actor && i < c->n_commune_sheets; i++) {
        const Fluxbus__V1__CommuneSheet *s = c->commune_sheets[i];
        if ((s->year ? s->year : c->year) == year && strcmp(s->commune_actor_id, actor) == 0)
            return s;
    }
    return NULL;
}

bool conventions_is_party(const conventions_rev_t *c, const char *actor, int year)
{
    return strcmp(c->reservataire_actor_id, actor) == 0 || conventions_sheet(c, actor, year);
}

static bool s_in_departement(const conventions_rev_t *c, const char *insee)
{
    size_t n = strlen(c->departement);
    return n == 0 || strncmp(insee, c->departement, n) == 0;
}

bool conventions_covers(const conventions_rev_t *c, const char *party, int year, const char *insee)
{
    bool known = insee && *insee;
    const Fluxbus__V1__CommuneSheet *sheet = party ? conventions_sheet(c, party, year) : NULL;
    if (sheet)
        return known && strcmp(sheet->commune_insee, insee) == 0 && s_in_departement(c, insee);
    bool limited = *c->departement != '\0';
    bool listed = false;
    for (size_t i = 0; i < c->n_territory_insee; i++) {
        limited = true;
        listed = listed || (known && strcmp(c->territory_insee[i], insee) == 0);
    }
    if (c->n_territory_insee == 0 && conventions_multipartite(c)) {
        for (size_t i = 0; i < c->n_commune_sheets; i++) {
            const Fluxbus__V1__CommuneSheet *s = c->commune_sheets[i];
            if ((s->year ? s->year : c->year) != year)
                continue;
            limited = true;
            listed = listed || (known && strcmp(s->commune_insee, insee) == 0);
        }
    } else if (c->n_territory_insee == 0) {
        listed = known;
    }
    if (!limited)
        return true;
    return known && listed && s_in_departement(c, insee);
}

static size_t s_add_objectives(Fluxbus__V1__ConventionObjective *const *list, size_t n,
                               bool delegated, conventions_objective_t *out, size_t cap,
                               size_t count)
{
    for (size_t i = 0; i < n; i++, count++) {
        if (count >= cap)
            continue;
        const Fluxbus__V1__ConventionObjective *o = list[i];
        out[count] = (conventions_objective_t){
            .kind = o->kind == KIND(UNSPECIFIED) ? KIND(PLACEMENTS) : (int)o->kind,
            .unit = o->unit == UNIT(UNSPECIFIED) ? UNIT(COUNT) : (int)o->unit,
            .value = o->value,
            .min = o->min,
            .max = o->max,
            .delegated = delegated,
        };
    }
    return count;
}

size_t conventions_objectives(const conventions_rev_t *c, const char *party, int year,
                              conventions_objective_t *out, size_t cap)
{
    const Fluxbus__V1__CommuneSheet *sheet = party ? conventions_sheet(c, party, year) : NULL;
    if (sheet) {
        size_t n = s_add_objectives(sheet->delegated_objectives, sheet->n_delegated_objectives,
                                    true, out, cap, 0);
        return s_add_objectives(sheet->own_objectives, sheet->n_own_objectives, false, out, cap, n);
    }
    if (party && (strcmp(party, c->reservataire_actor_id) != 0 || conventions_multipartite(c)))
        return 0;
    if (c->n_objectives)
        return s_add_objectives(c->objectives, c->n_objectives, false, out, cap, 0);
    if (c->objective == 0 && c->objective_min == 0 && c->objective_max == 0)
        return 0;
    if (cap)
        out[0] = (conventions_objective_t){
            .kind = KIND(PLACEMENTS),
            .unit = c->objective_unit == UNIT(UNSPECIFIED) ? UNIT(COUNT) : (int)c->objective_unit,
            .value = c->objective,
            .min = c->objective_min,
            .max = c->objective_max,
        };
    return 1;
}

/* ---- the check at orientation time ------------------------------------------------ */

/* What the ledger knows of the vacancy being oriented. */
typedef struct {
    bool known;   /* its LogementLibere was accepted */
    bool foreign; /* the ledger has it as another bailleur's than the sender's */
    char commune[16];
    int mode, motif;
    int64_t freed_ms;
} s_vacancy_t;

static fb_err_t s_vacancy_get(stmts_t *q, const char *vacancy, const char *sender, s_vacancy_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = stmts_get(q, "SELECT commune_insee, mode_gestion, hors_flux_motif, freed_ms,"
                                    " bailleur <> ?2 FROM ledger_vacancies WHERE vacancy_id = ?1");
    if (!st)
        return FB_ERR_STORE;
    sqlite3_bind_text(st, 1, vacancy, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, sender, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        out->foreign = sqlite3_column_int(st, 4) != 0;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 3) != SQLITE_NULL) {
        out->known = true;
        const char *insee = (const char *)sqlite3_column_text(st, 0);
        snprintf(out->commune, sizeof out->commune, "%s", insee ? insee : "");
        out->mode = sqlite3_column_int(st, 1);
        out->motif = sqlite3_column_int(st, 2);
        out->freed_ms = sqlite3_column_int64(st, 3);
    }
    stmts_put(q, st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FB_OK : FB_ERR_STORE;
}

static fb_err_t s_refuse(char *detail, size_t dlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static fb_err_t s_refuse(char *detail, size_t dlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (dlen)
        vsnprintf(detail, dlen, fmt, ap);
    va_end(ap);
    return FB_ERR_INVALID_TRANSITION;
}

/* The parties, the territory and the hors-flux exclusions. */
static fb_err_t s_check_scope(const conventions_rev_t *c, const char *bailleur,
                              const Fluxbus__V1__Orientation *o, const s_vacancy_t *v, int year,
                              char *detail, size_t dlen)
{
    const char *party = o->reservataire_actor_id;
    if (*c->bailleur_actor_id && strcmp(c->bailleur_actor_id, bailleur) != 0)
        return s_refuse(detail, dlen, "convention %s (revision %u) binds bailleur %s, not %s",
                        c->convention_id, c->revision, c->bailleur_actor_id, bailleur);
    if (!conventions_is_party(c, party, year))
        return s_refuse(detail, dlen, "%s is not a party of convention %s (revision %u) in %d",
                        party, c->convention_id, c->revision, year);
    if (!conventions_covers(c, party, year, v->commune))
        return v->commune[0]
                   ? s_refuse(detail, dlen,
                              "vacancy %s in commune %s is outside the territory of %s under"
                              " convention %s (revision %u)",
                              o->vacancy_id, v->commune, party, c->convention_id, c->revision)
                   : s_refuse(detail, dlen,
                              "commune of vacancy %s unknown (no LogementLibere) while convention"
                              " %s limits %s's territory",
                              o->vacancy_id, c->convention_id, party);
    /* A first letting en stock may still be offered through the réservataire
     * that holds it; a vacancy the convention puts hors flux may not. */
    if (v->known && v->mode == MODE(HORS_FLUX) && conventions_excludes(c, v->mode, v->motif))
        return s_refuse(detail, dlen,
                        "vacancy %s is hors flux (motif %d), outside convention %s's flux",
                        o->vacancy_id, v->motif, c->convention_id);
    return FB_OK;
}

/* Counts of held orientations (docs/LEDGER.md, "surréservation"), leaving
 * out the pair being oriented, and of dwellings freed (held.h keeps both). */
typedef struct {
    const conventions_rev_t *c; /* the convention oriented under */
    const char *party;          /* the réservataire oriented to */
    int sign;                   /* +1 adding groups, -1 taking the pair out */
    uint32_t party_held;        /* pairs of the réservataire under the convention */
    uint32_t convention_held;   /* pairs of every party under the convention */
    uint32_t bailleur_held;     /* pairs under any convention of the bailleur, en flux */
    int year;
    uint32_t party_freed;      /* freed in the flux of the convention for party */
    uint32_t convention_freed; /* freed in the flux of the whole convention */
    uint32_t en_flux_freed;    /* freed en flux at all */
} s_counts_t;

static bool s_en_flux(int mode)
{
    return mode != MODE(STOCK) && mode != MODE(HORS_FLUX);
}

/* An orientation naming no convention (or an unknown one) holds a dwelling
 * of the bailleur's flux all the same. */
static void s_add_held(void *ctx, const held_group_t *g)
{
    s_counts_t *k = ctx;
    uint32_t n = (uint32_t)(k->sign * g->n);
    if (s_en_flux(g->mode))
        k->bailleur_held += n;
    if (strcmp(g->convention_id, k->c->convention_id) != 0 ||
        conventions_excludes(k->c, g->mode, g->motif))
        return;
    k->convention_held += n;
    if (strcmp(g->reservataire, k->party) == 0)
        k->party_held += n;
}

static void s_add_freed(void *ctx, const held_group_t *g)
{
    s_counts_t *k = ctx;
    uint32_t n = (uint32_t)g->n;
    if (s_en_flux(g->mode))
        k->en_flux_freed += n;
    if (conventions_excludes(k->c, g->mode, g->motif))
        return;
    if (conventions_covers(k->c, NULL, k->year, g->commune))
        k->convention_freed += n;
    if (conventions_covers(k->c, k->party, k->year, g->commune))
        k->party_freed += n;
}

/* What s_count must read of the dwellings freed: per commune, for a
 * per-mille objective (the territory decides what counts); the bailleur's
 * total en flux, for its flux; or nothing. */
typedef enum { S_FREED_NONE, S_FREED_EN_FLUX, S_FREED_BY_TERRITORY } s_freed_need_t;

static fb_err_t s_count(stmts_t *q, const conventions_rev_t *c, const ledger_msg_t *msg, int year,
                        s_freed_need_t need, s_counts_t *out)
{
    const Fluxbus__V1__Orientation *o = (const void *)msg->payload;
    *out = (s_counts_t){.c = c, .party = o->reservataire_actor_id, .sign = 1, .year = year};
    fb_err_t rc = held_each(q, msg->sender, year, s_add_held, out);
    out->sign = -1; /* the pair being (re)oriented */
    if (rc == FB_OK)
        rc = held_pair(q, o->vacancy_id, o->reservataire_actor_id, year, s_add_held, out);
    int64_t en_flux = 0;
    if (rc == FB_OK && need == S_FREED_BY_TERRITORY)
        rc = held_each_freed(q, msg->sender, year, s_add_freed, out);
    else if (rc == FB_OK && need == S_FREED_EN_FLUX &&
             (rc = held_freed_en_flux(q, msg->sender, year, &en_flux)) == FB_OK)
        out->en_flux_freed = (uint32_t)en_flux;
    return rc;
}

/* The kind of objective that bounds the orientations: OFFRES if there is
 * one, else PLACEMENTS. */
static int s_cap_kind(const conventions_objective_t *obj, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (obj[i].kind == KIND(OFFRES))
            return KIND(OFFRES);
    return KIND(PLACEMENTS);
}

/* The most orientations the objectives allow (s_cap_kind; max, else
 * value; a per-mille bound applied to `freed`, rounded up). False when
 * they set no bound. */
static bool s_cap(const conventions_objective_t *obj, size_t n, uint32_t freed, uint32_t *cap)
{
    int kind = s_cap_kind(obj, n);
    uint64_t total = 0;
    bool bounded = false;
    for (size_t i = 0; i < n; i++) {
        if (obj[i].kind != kind)
            continue;
        uint64_t bound = obj[i].max ? obj[i].max : obj[i].value;
        if (bound == 0)
            continue;
        bounded = true;
        total += obj[i].unit == UNIT(PER_MILLE) ? (bound * freed + 999) / 1000 : bound;
    }
    *cap = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
    return bounded;
}

/* Does s_cap read `freed` for these objectives (a per-mille bound)? */
static bool s_per_mille(const conventions_objective_t *obj, size_t n)
{
    int kind = s_cap_kind(obj, n);
    for (size_t i = 0; i < n; i++)
        if (obj[i].kind == kind && obj[i].unit == UNIT(PER_MILLE) && (obj[i].max || obj[i].value))
            return true;
    return false;
}

/* The objectives of `party` (NULL: the whole convention) in year, at most
 * S_MAX_OBJECTIVES of them. */
static size_t s_objectives(const conventions_rev_t *c, const char *party, int year,
                           conventions_objective_t *obj)
{
    size_t n = conventions_objectives(c, party, year, obj, S_MAX_OBJECTIVES);
    return n < S_MAX_OBJECTIVES ? n : S_MAX_OBJECTIVES;
}

static fb_err_t s_check_caps(stmts_t *q, const conventions_rev_t *c, const ledger_msg_t *msg,
                             const s_vacancy_t *v, int year, char *detail, size_t dlen)
{
    const Fluxbus__V1__Orientation *o = (const void *)msg->payload;
    const char *party = o->reservataire_actor_id;
    conventions_objective_t own[S_MAX_OBJECTIVES], whole[S_MAX_OBJECTIVES];
    size_t n_own = s_objectives(c, party, year, own);
    bool multipartite = conventions_multipartite(c);
    size_t n_whole = multipartite ? s_objectives(c, NULL, year, whole) : 0;
    /* A vacancy never freed on the bus is the lifecycle's to refuse. */
    bool en_flux = v->known && s_en_flux(v->mode);
    s_freed_need_t need = s_per_mille(own, n_own) || s_per_mille(whole, n_whole)
                              ? S_FREED_BY_TERRITORY
                          : en_flux ? S_FREED_EN_FLUX
                                    : S_FREED_NONE;
    s_counts_t k;
    fb_err_t rc = s_count(q, c, msg, year, need, &k);
    if (rc != FB_OK)
        return rc;

    uint32_t cap;
    bool party_over = s_cap(own, n_own, k.party_freed, &cap) && k.party_held + 1 > cap;
    /* A refusal says the dwellings freed in the scope, whatever the unit. */
    if (party_over && need != S_FREED_BY_TERRITORY &&
        (rc = held_each_freed(q, msg->sender, year, s_add_freed, &k)) != FB_OK)
        return rc;
    if (party_over)
        return s_refuse(detail, dlen,
                        "surréservation: %s would hold %u orientations under convention %s in %d,"
                        " over its maximum of %u (%u dwellings freed in its scope)",
                        party, k.party_held + 1, c->convention_id, year, cap, k.party_freed);
    bool whole_over = multipartite && s_cap(whole, n_whole, k.convention_freed, &cap) &&
                      k.convention_held + 1 > cap;
    if (whole_over && need != S_FREED_BY_TERRITORY &&
        (rc = held_each_freed(q, msg->sender, year, s_add_freed, &k)) != FB_OK)
        return rc;
    if (whole_over)
        return s_refuse(detail, dlen,
                        "surréservation: convention %s would hold %u orientations in %d, over its"
                        " maximum of %u (%u dwellings freed in its scope)",
                        c->convention_id, k.convention_held + 1, year, cap, k.convention_freed);
    if (en_flux && k.bailleur_held + 1 > k.en_flux_freed)
        return s_refuse(detail, dlen,
                        "surréservation: bailleur %s would hold %u orientations across its"
                        " conventions in %d, over its %u dwellings freed en flux",
                        msg->sender, k.bailleur_held + 1, year, k.en_flux_freed);
    return FB_OK;
}

/* ---- the délai ------------------------------------------------------------------------ */

#define S_DAY_MS (24 * 3600 * 1000LL)

/* A first letting is a vacancy freed en stock (conventions.h). */
static bool s_first_letting(const s_vacancy_t *v)
{
    return v->known && v->mode == MODE(STOCK);
}

/* The délai an Orientation is given: so many days from its acceptance
 * (from_ms), under the revision in force then. A round stored already (the
 * same Orientation sent again) runs from its first acceptance, so that a
 * repeat keeps its terms. */
typedef struct {
    const conventions_rev_t *rev;
    unsigned days; /* 0: the convention sets no délai */
    int64_t from_ms;
    bool first_letting;
} s_delai_t;

static fb_err_t s_delai(stmts_t *q, const conventions_t *one, const ledger_msg_t *msg,
                        const s_vacancy_t *v, s_delai_t *out)
{
    const Fluxbus__V1__Orientation *o = (const void *)msg->payload;
    out->from_ms = msg->at_ms;
    sqlite3_stmt *st = stmts_get(q, "SELECT oriented_ms FROM ledger_orientations"
                                    " WHERE vacancy_id = ?1 AND reservataire = ?2 AND round = ?3");
    if (!st)
        return FB_ERR_STORE;
    sqlite3_bind_text(st, 1, o->vacancy_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, o->reservataire_actor_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, o->round ? o->round : 1);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        out->from_ms = sqlite3_column_int64(st, 0);
    stmts_put(q, st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return FB_ERR_STORE;
    out->rev = conventions_at(one, 0, out->from_ms);
    out->first_letting = s_first_letting(v);
    out->days = conventions_deadline_days(out->rev, out->first_letting);
    return FB_OK;
}

/* The bailleur may give more time than the délai, not less. Délais are
 * counted in days: a deadline anywhere on the day the délai ends, or later,
 * is enough (the seconds between sending and acceptance do not matter). */
static fb_err_t s_check_deadline(const s_delai_t *d, const ledger_msg_t *msg, char *detail,
                                 size_t dlen)
{
    const Fluxbus__V1__Orientation *o = (const void *)msg->payload;
    if (o->deadline_ms == 0 || d->days == 0)
        return FB_OK;
    period_date_t last = period_date_of(d->from_ms + (int64_t)d->days * S_DAY_MS);
    if (o->deadline_ms >= period_day_start_ms(last))
        return FB_OK;
    char given[11], until[11];
    period_format_date(period_date_of(o->deadline_ms), given);
    period_format_date(last, until);
    return s_refuse(detail, dlen,
                    "Orientation of %s to %s with a deadline on %s, shorter than the %u days"
                    " convention %s (revision %u) grants for %s (until %s): the bailleur may give"
                    " more time, not less",
                    o->vacancy_id, o->reservataire_actor_id, given, d->days, d->rev->convention_id,
                    d->rev->revision, d->first_letting ? "a first letting" : "an existing dwelling",
                    until);
}

/* The terms an Orientation gets from the convention it names, if the ledger
 * knows it: *one loaded (to be destroyed by the caller, also on error), d
 * filled (d->rev NULL when there is no such convention). */
static fb_err_t s_orientation_terms(stmts_t *q, const ledger_msg_t *msg, conventions_t **one,
                                    s_delai_t *d)
{
    const Fluxbus__V1__Orientation *o = (const void *)msg->payload;
    memset(d, 0, sizeof *d);
    if (!o->convention_id || !*o->convention_id)
        return FB_OK;
    char err[256];
    if (!(*one = conventions_load_id_q(q, o->convention_id, err, sizeof err)))
        return FB_ERR_STORE;
    if (!conventions_size(*one))
        return FB_OK;
    s_vacancy_t v;
    fb_err_t rc = s_vacancy_get(q, o->vacancy_id, msg->sender, &v);
    return rc == FB_OK ? s_delai(q, *one, msg, &v, d) : rc;
}

fb_err_t conventions_orientation_deadline(stmts_t *q, const ledger_msg_t *msg, int64_t *deadline_ms)
{
    const Fluxbus__V1__Orientation *o = (const void *)msg->payload;
    *deadline_ms = o ? o->deadline_ms : 0;
    if (!o || o->deadline_ms)
        return FB_OK;
    conventions_t *one = NULL;
    s_delai_t d;
    fb_err_t rc = s_orientation_terms(q, msg, &one, &d);
    if (rc == FB_OK && d.days)
        *deadline_ms = d.from_ms + (int64_t)d.days * S_DAY_MS;
    conventions_destroy(&one);
    return rc;
}

/* ---- the candidates asked ----------------------------------------------------------- */

#define S_CANDIDATES_DEFAULT 3 /* CCH R441-3: the CALEOL examines three */

/* An Orientation may ask more candidates than its convention, not fewer. */
static fb_err_t s_check_candidates(const s_delai_t *d, const ledger_msg_t *msg, char *detail,
                                   size_t dlen)
{
    const Fluxbus__V1__Orientation *o = (const void *)msg->payload;
    unsigned least = d->rev ? d->rev->candidates_expected : 0;
    if (!o->candidates_expected || o->candidates_expected >= least)
        return FB_OK;
    return s_refuse(detail, dlen,
                    "Orientation of %s to %s asks for %u candidates, fewer than the %u convention"
                    " %s (revision %u) requires: the bailleur may ask more, not fewer",
                    o->vacancy_id, o->reservataire_actor_id, o->candidates_expected, least,
                    d->rev->convention_id, d->rev->revision);
}

fb_err_t conventions_orientation_candidates(stmts_t *q, const ledger_msg_t *msg, unsigned *expected)
{
    const Fluxbus__V1__Orientation *o = (const void *)msg->payload;
    *expected = o && o->candidates_expected ? o->candidates_expected : S_CANDIDATES_DEFAULT;
    if (!o || o->candidates_expected)
        return FB_OK;
    conventions_t *one = NULL;
    s_delai_t d;
    fb_err_t rc = s_orientation_terms(q, msg, &one, &d);
    if (rc == FB_OK && d.rev && d.rev->candidates_expected)
        *expected = d.rev->candidates_expected;
    conventions_destroy(&one);
    return rc;
}

/* ---- a convention required, in force, and the check in order ----------------------- */

/* Must this Orientation name a convention? Every orientation en flux
 * does. Not the bailleur's own dwelling (oriented to itself: its
 * non-reserved share), nor a vacancy its LogementLibere put hors flux or en
 * stock (a first letting, offered through the réservataire that holds it).
 * A vacancy never freed on the bus is read as en flux, the rule since ELAN.
 * An Orientation naming no réservataire is the lifecycle's to refuse. */
static bool s_needs_convention(const ledger_msg_t *msg, const s_vacancy_t *v)
{
    const Fluxbus__V1__Orientation *o = (const void *)msg->payload;
    if (!*o->reservataire_actor_id || strcmp(o->reservataire_actor_id, msg->sender) == 0)
        return false;
    return !v->known || (v->mode != MODE(HORS_FLUX) && v->mode != MODE(STOCK));
}

static fb_err_t s_refuse_unbound(const ledger_msg_t *msg, const s_vacancy_t *v, char *detail,
                                 size_t dlen)
{
    const Fluxbus__V1__Orientation *o = (const void *)msg->payload;
    if (!s_needs_convention(msg, v))
        return FB_OK; /* nothing to check against */
    if (!o->convention_id || !*o->convention_id)
        return s_refuse(detail, dlen,
                        "Orientation of %s to %s names no convention: an orientation en flux is"
                        " made under a convention binding %s and %s",
                        o->vacancy_id, o->reservataire_actor_id, msg->sender,
                        o->reservataire_actor_id);
    return s_refuse(detail, dlen,
                    "convention %s unknown: no Convention with that id was accepted before the"
                    " orientation of %s to %s",
                    o->convention_id, o->vacancy_id, o->reservataire_actor_id);
}

/* The revision in force when the orientation is made grants a right now:
 * it is for this year and has taken effect. */
static fb_err_t s_check_in_force(const conventions_rev_t *c, const ledger_msg_t *msg, char *detail,
                                 size_t dlen)
{
    const Fluxbus__V1__Orientation *o = (const void *)msg->payload;
    int now = period_year_of(msg->at_ms);
    if (c->year && (int)c->year != now)
        return s_refuse(detail, dlen,
                        "convention %s (revision %u) is for %u, the orientation of %s is made"
                        " in %d",
                        c->convention_id, c->revision, c->year, o->vacancy_id, now);
    int64_t from = conventions_effective_ms(c);
    if (from <= msg->at_ms)
        return FB_OK;
    char start[11], today[11];
    period_format_date(period_date_of(from), start);
    period_format_date(period_date_of(msg->at_ms), today);
    return s_refuse(detail, dlen,
                    "convention %s (revision %u) takes effect on %s, after the orientation of %s"
                    " on %s",
                    c->convention_id, c->revision, start, o->vacancy_id, today);
}

fb_err_t conventions_check_orientation(stmts_t *q, const ledger_msg_t *msg, char *detail,
                                       size_t dlen)
{
    const Fluxbus__V1__Orientation *o = (const void *)msg->payload;
    if (dlen)
        detail[0] = '\0';
    if (!o)
        return FB_OK;
    s_vacancy_t v;
    fb_err_t rc = s_vacancy_get(q, o->vacancy_id, msg->sender, &v);
    /* Another bailleur's vacancy is the lifecycle's to refuse: no
     * convention of the sender's can make it fit. */
    if (rc != FB_OK || v.foreign)
        return rc;
    bool named = o->convention_id && *o->convention_id;
    char err[256];
    conventions_t *one = named ? conventions_load_id_q(q, o->convention_id, err, sizeof err) : NULL;
    if (named && !one)
        return FB_ERR_STORE;
    if (!one || conventions_size(one) == 0) {
        conventions_destroy(&one);
        return s_refuse_unbound(msg, &v, detail, dlen);
    }
    const conventions_rev_t *c = conventions_at(one, 0, msg->at_ms);
    /* A vacancy belongs to the year it was freed in (the flux is yearly). */
    int year = period_year_of(v.known ? v.freed_ms : msg->at_ms);
    rc = s_check_in_force(c, msg, detail, dlen);
    if (rc == FB_OK)
        rc = s_check_scope(c, msg->sender, o, &v, year, detail, dlen);
    /* Outside the flux (a first letting en stock), it cannot overbook it. */
    bool in_flux = !v.known || !conventions_excludes(c, v.mode, v.motif);
    if (rc == FB_OK && in_flux)
        rc = s_check_caps(q, c, msg, &v, year, detail, dlen);
    s_delai_t d;
    if (rc == FB_OK)
        rc = s_delai(q, one, msg, &v, &d);
    if (rc == FB_OK)
        rc = s_check_deadline(&d, msg, detail, dlen);
    if (rc == FB_OK)
        rc = s_check_candidates(&d, msg, detail, dlen);
    conventions_destroy(&one);
    return rc;
}

/* ---- the check of a Convention ------------------------------------------------------- */

/* Is `actor` a party of revision c: its bailleur, its réservataire (the
 * EPCI of a multipartite one) or, multipartite, a commune with a sheet. */
static bool s_party_of(const conventions_rev_t *c, const char *actor)
{
    if ((*c->bailleur_actor_id && strcmp(c->bailleur_actor_id, actor) == 0) ||
        (*c->reservataire_actor_id && strcmp(c->reservataire_actor_id, actor) == 0))
        return true;
    for (size_t i = 0; conventions_multipartite(c) && i < c->n_commune_sheets; i++)
        if (strcmp(c->commune_sheets[i]->commune_actor_id, actor) == 0)
            return true;
    return false;
}

/* The stored packed revision `revision` of convention `id` equals `payload`?
 * 1 equal, 0 differs, -1 store error. */
static int s_same_revision(sqlite3 *db, const conventions_rev_t *c)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (fb_codec_pack(&c->base, &buf, &len) != FB_OK)
        return -1;
    sqlite3_stmt *st = NULL;
    int same = -1;
    if (sqlite3_prepare_v2(db,
                           "SELECT payload = ?3 FROM ledger_conventions WHERE convention_id = ?1"
                           " AND revision = ?2",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, c->convention_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, c->revision);
        sqlite3_bind_blob(st, 3, buf, (int)len, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW)
            same = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    free(buf);
    return same;
}

/* Revision c against the revisions in force (`one`, at least one): a
 * revision in force again with the same content is a duplicate
 * (*duplicate set); a new one is above the last in force, and keeps its
 * bailleur and its réservataire; its sender is a party of the last. */
static fb_err_t s_check_revision(sqlite3 *db, const conventions_t *one, const conventions_rev_t *c,
                                 const char *sender, bool *duplicate, char *detail, size_t dlen)
{
    size_t n = conventions_revision_count(one, 0);
    const conventions_rev_t *last = conventions_revision(one, 0, n - 1);
    for (size_t k = 0; k < n; k++) {
        if (conventions_revision(one, 0, k)->revision != c->revision)
            continue;
        int same = s_same_revision(db, c);
        if (same < 0)
            return FB_ERR_STORE;
        *duplicate = same;
        if (same)
            return FB_OK; /* the same revision again: a duplicate */
        return s_refuse(detail, dlen,
                        "Convention %s revision %u is stored already with other content: an "
                        "amendment is a new revision (%u)",
                        c->convention_id, c->revision,
                        amendments_next_revision(db, c->convention_id));
    }
    if (c->revision < last->revision)
        return s_refuse(detail, dlen,
                        "Convention %s revision %u is below its last revision %u: an amendment "
                        "is a new revision (%u)",
                        c->convention_id, c->revision, last->revision,
                        amendments_next_revision(db, c->convention_id));
    if (strcmp(c->bailleur_actor_id, last->bailleur_actor_id) != 0)
        return s_refuse(detail, dlen,
                        "Convention %s revision %u names bailleur %s, but its revision %u binds "
                        "%s: the bailleur of a convention does not change",
                        c->convention_id, c->revision, c->bailleur_actor_id, last->revision,
                        last->bailleur_actor_id);
    if (!s_party_of(last, sender))
        return s_refuse(detail, dlen,
                        "Convention %s revision %u sent by %s, who is not a party of its "
                        "revision %u",
                        c->convention_id, c->revision, sender, last->revision);
    if (strcmp(c->reservataire_actor_id, last->reservataire_actor_id) != 0)
        return s_refuse(detail, dlen,
                        "Convention %s revision %u names réservataire %s, but its revision %u "
                        "binds %s: the réservataire of a convention does not change",
                        c->convention_id, c->revision, c->reservataire_actor_id, last->revision,
                        last->reservataire_actor_id);
    return FB_OK;
}

fb_err_t conventions_check_convention(sqlite3 *db, const ledger_msg_t *msg, char *detail,
                                      size_t dlen)
{
    const conventions_rev_t *c = (const void *)msg->payload;
    if (dlen)
        detail[0] = '\0';
    if (!c)
        return FB_OK;
    if (!c->convention_id || !*c->convention_id)
        return s_refuse(detail, dlen, "Convention without a convention_id");
    if (!s_party_of(c, msg->sender))
        return s_refuse(detail, dlen,
                        "Convention %s revision %u sent by %s, who is not one of its parties "
                        "(bailleur %s, réservataire %s%s)",
                        c->convention_id, c->revision, msg->sender,
                        *c->bailleur_actor_id ? c->bailleur_actor_id : "none",
                        *c->reservataire_actor_id ? c->reservataire_actor_id : "none",
                        conventions_multipartite(c) ? ", the communes of its sheets" : "");
    char err[256];
    conventions_t *one = conventions_load_id(db, c->convention_id, err, sizeof err);
    if (!one)
        return FB_ERR_STORE;
    bool duplicate = false;
    fb_err_t rc = conventions_size(one)
                      ? s_check_revision(db, one, c, msg->sender, &duplicate, detail, dlen)
                      : FB_OK;
    conventions_destroy(&one);
    /* A new amendment, or one not yet in force: countersigned (amendments.h). */
    if (rc == FB_OK && !duplicate && amendments_is_amendment(c))
        rc = amendments_check(db, c, msg->sender, detail, dlen);
    return rc;
}
