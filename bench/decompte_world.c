/* decompte_world.c - the bench's national-like year (see decompte_world.h).
 *
 * Owns the world's shape (who binds whom, which life each vacancy has) and
 * the payloads it records. Goes through ledger_record only, as the broker
 * does once it accepted a message; it skips ledger_check (the lives are
 * ones the broker accepts, and the orientation check is not what is
 * measured here). */
#include "decompte_world.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "life_msgs.h"
#include "period.h"

#define TYPE(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_DAY_MS (24 * 3600 * 1000LL)
#define S_BATCH 20000 /* lives per transaction */
#define S_ID 64

decompte_world_t decompte_world_default(void)
{
    return (decompte_world_t){.bailleurs = 4,
                              .reservataires = 4,
                              .communes = 5000,
                              .epcis = 0,
                              .sheets_per_epci = 50,
                              .vacancies = 40000,
                              .year = 2026};
}

int64_t decompte_world_at(const decompte_world_t *w, int day)
{
    return period_day_start_ms((period_date_t){w->year, 1, 1}) + (int64_t)(day - 1) * S_DAY_MS +
           10 * 3600 * 1000LL;
}

/* ---- names ---------------------------------------------------------------------------- */

static void s_bailleur(size_t b, char out[S_ID])
{
    snprintf(out, S_ID, "bailleur:%09zu", 100000000 + b);
}

static void s_resa(size_t r, char out[S_ID])
{
    snprintf(out, S_ID, "reservataire:r%zu", r);
}

static void s_epci(size_t e, char out[S_ID])
{
    snprintf(out, S_ID, "reservataire:epci-%zu", e);
}

static void s_insee(size_t c, char out[16])
{
    snprintf(out, 16, "%02u%03u", (unsigned)(1 + c / 1000 % 99), (unsigned)(c % 1000));
}

static void s_commune(size_t c, char out[S_ID])
{
    char insee[16];
    s_insee(c, insee);
    snprintf(out, S_ID, "commune:%s", insee);
}

/* EPCIs beyond the communes have no commune left to name. */
static size_t s_epcis(const decompte_world_t *w)
{
    size_t most = w->communes / w->sheets_per_epci;
    return w->epcis < most ? w->epcis : most;
}

/* ---- recording -------------------------------------------------------------------------- */

typedef struct {
    ledger_t *ledger;
    uint64_t seq;
} s_rec_t;

static fb_err_t s_record(s_rec_t *r, const char *sender, int type, const char *vacancy,
                         const char *to, int64_t at, const void *payload)
{
    const char *const rcpt[] = {to};
    ledger_msg_t m = {.seq = ++r->seq,
                      .sender = sender,
                      .type = type,
                      .correlation_id = vacancy ? vacancy : "",
                      .recipients = rcpt,
                      .n_recipients = 1,
                      .at_ms = at,
                      .payload = payload};
    return ledger_record(r->ledger, &m);
}

/* The next store seq to use: above every one the ledger holds. */
static uint64_t s_last_seq(ledger_t *ledger)
{
    sqlite3_stmt *st = NULL;
    uint64_t seq = 0;
    if (sqlite3_prepare_v2(ledger_db(ledger),
                           "SELECT max(coalesce((SELECT max(seq) FROM ledger_events), 0),"
                           " coalesce((SELECT max(seq) FROM ledger_conventions), 0))",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        seq = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return seq;
}

/* ---- actors ----------------------------------------------------------------------------- */

static fb_err_t s_actor(store_t *store, const char *id, const char *role, const char *territories)
{
    store_actor_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.roles, sizeof a.roles, "%s", role);
    snprintf(a.territories, sizeof a.territories, "%s", territories);
    /* Distinct transport keys: the id's bytes, zero padded. */
    memcpy(a.transport_key, id, strlen(id) < sizeof a.transport_key ? strlen(id) : 32);
    fb_err_t rc = store_actor_add(store, &a, "bench");
    return rc == FB_ERR_EXISTS ? FB_OK : rc;
}

/* Bailleurs, réservataires, EPCIs, communes; observers: one per EPCI of
 * the first four (its communes as territory) and one without territory. */
static fb_err_t s_actors(const decompte_world_t *w, store_t *store)
{
    char id[S_ID];
    fb_err_t rc = FB_OK;
    for (size_t b = 0; rc == FB_OK && b < w->bailleurs; b++) {
        s_bailleur(b, id);
        rc = s_actor(store, id, "bailleur", "");
    }
    for (size_t r = 0; rc == FB_OK && r < w->reservataires; r++) {
        s_resa(r, id);
        rc = s_actor(store, id, "reservataire", "");
    }
    for (size_t e = 0; rc == FB_OK && e < s_epcis(w); e++) {
        s_epci(e, id);
        rc = s_actor(store, id, "reservataire", "");
    }
    for (size_t c = 0; rc == FB_OK && c < w->communes; c++) {
        s_commune(c, id);
        rc = s_actor(store, id, "commune", "");
    }
    for (size_t e = 0; rc == FB_OK && e < 4 && e < s_epcis(w); e++) {
        char list[STORE_LIST_MAX] = "", insee[16];
        for (size_t k = 0; k < w->sheets_per_epci && strlen(list) + 7 < sizeof list; k++) {
            s_insee(e * w->sheets_per_epci + k, insee);
            strcat(list, k ? "," : "");
            strcat(list, insee);
        }
        snprintf(id, sizeof id, "observer:epci-%zu", e);
        rc = s_actor(store, id, "observer", list);
    }
    return rc == FB_OK ? s_actor(store, "observer:national", "observer", "") : rc;
}

/* ---- conventions ---------------------------------------------------------------------------- */

static Fluxbus__V1__ConventionObjective s_objective(uint32_t value)
{
    Fluxbus__V1__ConventionObjective o = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    o.kind = FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_PLACEMENTS;
    o.unit = FLUXBUS__V1__OBJECTIVE_UNIT__OBJECTIVE_UNIT_COUNT;
    o.value = value;
    o.min = value / 2;
    o.max = 2 * value;
    return o;
}

static void s_convention_id(size_t b, size_t r, char out[S_ID])
{
    snprintf(out, S_ID, "C-%zu-%zu", b, r);
}

static void s_multi_id(size_t e, char out[S_ID])
{
    snprintf(out, S_ID, "M-%zu", e);
}

static fb_err_t s_bilateral(const decompte_world_t *w, s_rec_t *rec, size_t b, size_t r)
{
    char id[S_ID], bailleur[S_ID], resa[S_ID];
    s_convention_id(b, r, id);
    s_bailleur(b, bailleur);
    s_resa(r, resa);
    Fluxbus__V1__ConventionObjective obj = s_objective((uint32_t)(w->vacancies / 8 + 1));
    Fluxbus__V1__ConventionObjective *objs[] = {&obj};
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = id;
    c.revision = 1;
    c.bailleur_actor_id = bailleur;
    c.reservataire_actor_id = resa;
    c.year = w->year;
    c.counting_method = FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_BAIL_SIGNE;
    c.n_objectives = 1;
    c.objectives = objs;
    return s_record(rec, bailleur, TYPE(CONVENTION), NULL, resa, decompte_world_at(w, 1), &c);
}

/* EPCI e's convention with bailleur e mod B: a sheet per commune. */
static fb_err_t s_multipartite(const decompte_world_t *w, s_rec_t *rec, size_t e)
{
    size_t n = w->sheets_per_epci;
    Fluxbus__V1__CommuneSheet sheets[n], *ptrs[n];
    char insee[n][16], actor[n][S_ID], id[S_ID], bailleur[S_ID], epci[S_ID];
    Fluxbus__V1__ConventionObjective obj = s_objective(2), *objs[] = {&obj};
    for (size_t k = 0; k < n; k++) {
        Fluxbus__V1__CommuneSheet init = FLUXBUS__V1__COMMUNE_SHEET__INIT;
        sheets[k] = init;
        s_insee(e * n + k, insee[k]);
        s_commune(e * n + k, actor[k]);
        sheets[k].commune_insee = insee[k];
        sheets[k].commune_actor_id = actor[k];
        sheets[k].n_own_objectives = 1;
        sheets[k].own_objectives = objs;
        ptrs[k] = &sheets[k];
    }
    s_multi_id(e, id);
    s_bailleur(e % w->bailleurs, bailleur);
    s_epci(e, epci);
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = id;
    c.revision = 1;
    c.bailleur_actor_id = bailleur;
    c.reservataire_actor_id = epci;
    c.year = w->year;
    c.kind = FLUXBUS__V1__CONVENTION_KIND__CONVENTION_KIND_MULTIPARTITE;
    c.counting_method = FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_PASSAGE_CALEOL;
    c.n_commune_sheets = n;
    c.commune_sheets = ptrs;
    return s_record(rec, bailleur, TYPE(CONVENTION), NULL, epci, decompte_world_at(w, 1), &c);
}

/* ---- one vacancy's life ------------------------------------------------------------------------
 */

/* Who vacancy i is oriented to, under which convention, in which commune. */
typedef struct {
    char id[S_ID], bailleur[S_ID], party[S_ID], convention[S_ID], insee[16], nur[S_ID];
} s_life_t;

static void s_life_of(const decompte_world_t *w, size_t i, s_life_t *l)
{
    size_t b = i % w->bailleurs, per_b = s_epcis(w) / w->bailleurs;
    size_t e = b + w->bailleurs * ((i / w->bailleurs * 7919) % (per_b ? per_b : 1));
    bool sheet = i % 3 == 0 && per_b > 0;
    size_t c = sheet ? e * w->sheets_per_epci + (i * 104729) % w->sheets_per_epci
                     : (i * 104729) % w->communes;
    snprintf(l->id, sizeof l->id, "V%08zu", i);
    snprintf(l->nur, sizeof l->nur, "NUR%08zu", i);
    s_bailleur(b, l->bailleur);
    s_insee(c, l->insee);
    if (sheet) {
        s_commune(c, l->party);
        s_multi_id(e, l->convention);
    } else {
        size_t r = (i / w->bailleurs) % w->reservataires;
        s_resa(r, l->party);
        s_convention_id(b, r, l->convention);
    }
}

static fb_err_t s_libere(s_rec_t *rec, const s_life_t *l, int64_t at)
{
    Fluxbus__V1__LogementLibere m = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    m.vacancy_id = (char *)l->id;
    m.commune_insee = (char *)l->insee;
    m.bailleur_siren = (char *)l->bailleur + strlen("bailleur:");
    m.mode_gestion = FLUXBUS__V1__MODE_GESTION__MODE_GESTION_FLUX;
    return s_record(rec, l->bailleur, TYPE(LOGEMENT_LIBERE), l->id, "observer:national", at, &m);
}

static fb_err_t s_orient(s_rec_t *rec, const s_life_t *l, int64_t at)
{
    Fluxbus__V1__Orientation m =
        life_msgs_orientation(l->id, l->convention, l->party, 1, 1, at + 15 * S_DAY_MS);
    return s_record(rec, l->bailleur, TYPE(ORIENTATION), l->id, l->party, at, &m);
}

/* The réservataire's answer to the orientation: ack, decline or remise. */
static fb_err_t s_answer(s_rec_t *rec, const s_life_t *l, size_t kind, int64_t at)
{
    if (kind == 8) {
        Fluxbus__V1__OrientationDecline m = life_msgs_decline(l->id);
        return s_record(rec, l->party, TYPE(ORIENTATION_DECLINE), l->id, l->bailleur, at, &m);
    }
    if (kind == 9) {
        Fluxbus__V1__RemiseADisposition m = FLUXBUS__V1__REMISE_ADISPOSITION__INIT;
        m.vacancy_id = (char *)l->id;
        m.reason = FLUXBUS__V1__REMISE_REASON__REMISE_REASON_NO_CANDIDATE;
        return s_record(rec, l->party, TYPE(REMISE_A_DISPOSITION), l->id, l->bailleur, at, &m);
    }
    Fluxbus__V1__OrientationAck m = life_msgs_ack(l->id);
    return s_record(rec, l->party, TYPE(ORIENTATION_ACK), l->id, l->bailleur, at, &m);
}

static fb_err_t s_designate(s_rec_t *rec, const s_life_t *l, int64_t at)
{
    Fluxbus__V1__Designation m = life_msgs_designation(l->id, l->nur, 1, 1);
    m.credited_reservataire_actor_id = (char *)l->party;
    return s_record(rec, l->party, TYPE(DESIGNATION), l->id, l->bailleur, at, &m);
}

static fb_err_t s_decide(s_rec_t *rec, const s_life_t *l, int64_t at)
{
    Fluxbus__V1__CaleolDecision m =
        life_msgs_decision("S1", l->id, l->nur, 1, l->party,
                           FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION, at);
    return s_record(rec, l->bailleur, TYPE(CALEOL_DECISION), l->id, l->party, at, &m);
}

/* The household's answer: a lease, or a refusal and its non-suite. */
static fb_err_t s_outcome(s_rec_t *rec, const s_life_t *l, bool refused, int64_t at)
{
    Fluxbus__V1__PropositionReponse p = life_msgs_answer(l->id, l->nur, refused, at);
    fb_err_t rc = s_record(rec, l->bailleur, TYPE(PROPOSITION_REPONSE), l->id, l->party, at, &p);
    if (rc != FB_OK)
        return rc;
    if (refused) {
        Fluxbus__V1__AttributionNonSuivieDeBail n = life_msgs_no_lease(l->id, l->nur);
        return s_record(rec, l->bailleur, TYPE(ATTRIBUTION_NON_SUIVIE_DE_BAIL), l->id, l->party,
                        at + S_DAY_MS, &n);
    }
    Fluxbus__V1__BailSigne m = life_msgs_lease(l->id, l->nur, l->party);
    return s_record(rec, l->bailleur, TYPE(BAIL_SIGNE), l->id, l->party, at + S_DAY_MS, &m);
}

/* Vacancy i's life from `day` on (a few days a step). */
static fb_err_t s_life(const decompte_world_t *w, s_rec_t *rec, size_t i, int day)
{
    s_life_t l;
    s_life_of(w, i, &l);
    size_t kind = i % 10;
    int64_t at = decompte_world_at(w, day);
    fb_err_t rc = s_libere(rec, &l, at);
    if (rc == FB_OK)
        rc = s_orient(rec, &l, at + S_DAY_MS);
    if (rc == FB_OK)
        rc = s_answer(rec, &l, kind, at + 2 * S_DAY_MS);
    if (rc != FB_OK || kind >= 8)
        return rc;
    rc = s_designate(rec, &l, at + 3 * S_DAY_MS);
    if (rc == FB_OK)
        rc = s_decide(rec, &l, at + 10 * S_DAY_MS);
    if (rc == FB_OK)
        rc = s_outcome(rec, &l, kind >= 6, at + 12 * S_DAY_MS);
    return rc;
}

fb_err_t decompte_world_more(const decompte_world_t *w, ledger_t *ledger, size_t first, size_t n,
                             int day)
{
    s_rec_t rec = {.ledger = ledger, .seq = s_last_seq(ledger)};
    fb_err_t rc = FB_OK;
    for (size_t i = first; rc == FB_OK && i < first + n; i++)
        rc = s_life(w, &rec, i, day);
    return rc;
}

/* ---- the whole year ----------------------------------------------------------------------------
 */

static fb_err_t s_conventions(const decompte_world_t *w, s_rec_t *rec)
{
    fb_err_t rc = FB_OK;
    for (size_t b = 0; rc == FB_OK && b < w->bailleurs; b++)
        for (size_t r = 0; rc == FB_OK && r < w->reservataires; r++)
            rc = s_bilateral(w, rec, b, r);
    for (size_t e = 0; rc == FB_OK && e < s_epcis(w); e++)
        rc = s_multipartite(w, rec, e);
    return rc;
}

fb_err_t decompte_world_fill(const decompte_world_t *w, store_t *store, ledger_t *ledger, char *err,
                             size_t errlen)
{
    s_rec_t rec = {.ledger = ledger};
    fb_err_t rc = s_actors(w, store);
    if (rc == FB_OK)
        rc = store_begin(store);
    if (rc == FB_OK)
        rc = s_conventions(w, &rec);
    for (size_t i = 0; rc == FB_OK && i < w->vacancies; i++) {
        /* Lives start from 2 January to mid-November, spread over the year. */
        rc = s_life(w, &rec, i, 2 + (int)(i * 317 % 318));
        if (rc == FB_OK && (i + 1) % S_BATCH == 0) {
            rc = store_commit(store);
            if (rc == FB_OK)
                rc = store_begin(store);
            printf("  %zu vacancies recorded\n", i + 1);
            fflush(stdout);
        }
    }
    if (rc == FB_OK)
        rc = store_commit(store);
    else
        store_rollback(store);
    if (rc != FB_OK)
        snprintf(err, errlen, "filling the ledger: %s (%s)", fb_err_name(rc),
                 sqlite3_errmsg(store_db(store)));
    return rc;
}
