/* replay_msgs.c - the messages of the replay's year (see replay_msgs.h):
 * the three lives of a vacancy as tables of steps, and each step's payload.
 *
 * Owns the lifecycle scripts and the content of the messages load_msgs
 * does not make (OrientationAck and Decline, Visite, CaleolSeance and
 * Decision, PropositionReponse, AttributionNonSuivieDeBail, BailSigne,
 * SneRadiationAck, Convention). Signing, sealing and encoding are lib's,
 * through load_msgs.
 *
 * Invariants: each table is a life the ledger accepts from its first row
 * to its last, any prefix of it too (a run cut short leaves lives
 * unfinished, never wrong); every id (vacancy, convention, séance, NUR) is
 * of this run, so runs on one store never meet. */
#include "replay_msgs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "fluxbus/v1/sne.pb-c.h"
#include "life_msgs.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_INSEE "74010"

typedef enum {
    K_LIBERE,
    K_ORIENT,
    K_ACK,
    K_DECLINE,
    K_DESIGNATE,
    K_VISIT,
    K_SEANCE,
    K_DECIDE,
    K_ACCEPT,
    K_REFUSE,
    K_NO_LEASE,
    K_LEASE,
    K_RADIATE,
} s_kind_t;

/* One step: what, for which candidate (rank 1..3, 0: none), and whether it
 * is about the second réservataire (the vacancy was declined by the
 * first). */
typedef struct {
    s_kind_t kind;
    uint8_t rank;
    bool second;
} s_step_t;

#define S_CANDIDATES(sec)                                                                          \
    {K_DESIGNATE, 1, sec}, {K_DESIGNATE, 2, sec}, {K_DESIGNATE, 3, sec}, {K_VISIT, 1, sec},        \
        {K_SEANCE, 0, sec}, {K_DECIDE, 1, sec}, {K_DECIDE, 2, sec},                                \
    {                                                                                              \
        K_DECIDE, 3, sec                                                                           \
    }

static const s_step_t s_let[] = {{K_LIBERE, 0, false}, {K_ORIENT, 0, false}, {K_ACK, 0, false},
                                 S_CANDIDATES(false),  {K_ACCEPT, 1, false}, {K_LEASE, 1, false},
                                 {K_RADIATE, 1, false}};
static const s_step_t s_refused[] = {
    {K_LIBERE, 0, false}, {K_ORIENT, 0, false}, {K_ACK, 0, false},
    S_CANDIDATES(false),  {K_REFUSE, 1, false}, {K_NO_LEASE, 1, false},
    {K_ACCEPT, 2, false}, {K_LEASE, 2, false},  {K_RADIATE, 2, false}};
static const s_step_t s_declined[] = {
    {K_LIBERE, 0, false}, {K_ORIENT, 0, false}, {K_DECLINE, 0, false},
    {K_ORIENT, 0, true},  {K_ACK, 0, true},     S_CANDIDATES(true),
    {K_ACCEPT, 1, true},  {K_LEASE, 1, true},   {K_RADIATE, 1, true}};

typedef struct {
    const s_step_t *steps;
    size_t n;
} s_life_t;

/* 1 in 10 declined, 2 in 10 refused, the rest let. */
static s_life_t s_life(uint64_t v)
{
    switch (v % 10) {
    case 0:
        return (s_life_t){s_declined, sizeof s_declined / sizeof s_declined[0]};
    case 3:
    case 7:
        return (s_life_t){s_refused, sizeof s_refused / sizeof s_refused[0]};
    default:
        return (s_life_t){s_let, sizeof s_let / sizeof s_let[0]};
    }
}

size_t replay_steps(uint64_t v)
{
    return s_life(v).n;
}

static s_step_t s_step(uint64_t v, size_t s)
{
    return s_life(v).steps[s];
}

/* ---- who ------------------------------------------------------------------- */

static size_t s_bailleur(const replay_world_t *w, uint64_t v)
{
    return (size_t)(v % w->n_bailleurs);
}

/* The réservataire (actor index) a step is about. */
static size_t s_resa(const replay_world_t *w, uint64_t v, bool second)
{
    size_t r = (size_t)((v / w->n_bailleurs + (second ? 1 : 0)) % w->n_resas);
    return w->n_bailleurs + r;
}

static size_t s_sne(const replay_world_t *w)
{
    return w->n_bailleurs + w->n_resas;
}

static bool s_by_resa(s_kind_t k)
{
    return k == K_ACK || k == K_DECLINE || k == K_DESIGNATE;
}

size_t replay_sender(const replay_world_t *w, uint64_t v, size_t s)
{
    s_step_t st = s_step(v, s);
    if (st.kind == K_RADIATE)
        return s_sne(w);
    return s_by_resa(st.kind) ? s_resa(w, v, st.second) : s_bailleur(w, v);
}

size_t replay_recipients(uint64_t v, size_t s)
{
    return s_step(v, s).kind == K_LEASE ? 2 : 1;
}

const char *replay_type_name(uint64_t v, size_t s)
{
    static const char *const names[] = {[K_LIBERE] = "LogementLibere",
                                        [K_ORIENT] = "Orientation",
                                        [K_ACK] = "OrientationAck",
                                        [K_DECLINE] = "OrientationDecline",
                                        [K_DESIGNATE] = "Designation",
                                        [K_VISIT] = "Visite",
                                        [K_SEANCE] = "CaleolSeance",
                                        [K_DECIDE] = "CaleolDecision",
                                        [K_ACCEPT] = "PropositionReponse",
                                        [K_REFUSE] = "PropositionReponse",
                                        [K_NO_LEASE] = "AttributionNonSuivieDeBail",
                                        [K_LEASE] = "BailSigne",
                                        [K_RADIATE] = "SneRadiationAck"};
    return names[s_step(v, s).kind];
}

/* ---- ids ------------------------------------------------------------------- */

typedef struct {
    char vacancy[64], convention[96], seance[64], nur[24];
} s_ids_t;

static void s_convention_id(const replay_world_t *w, size_t b, size_t r, char *out, size_t cap)
{
    snprintf(out, cap, "conv-%02x%02x%02x%02x-b%zu-r%zu", w->run[0], w->run[1], w->run[2],
             w->run[3], b, r);
}

static void s_ids(const replay_world_t *w, uint64_t v, s_step_t st, s_ids_t *ids)
{
    snprintf(ids->vacancy, sizeof ids->vacancy, "vac-%02x%02x%02x%02x-%llu", w->run[0], w->run[1],
             w->run[2], w->run[3], (unsigned long long)v);
    snprintf(ids->seance, sizeof ids->seance, "caleol-%02x%02x%02x%02x-%llu", w->run[0], w->run[1],
             w->run[2], w->run[3], (unsigned long long)v);
    s_convention_id(w, s_bailleur(w, v), s_resa(w, v, st.second) - w->n_bailleurs, ids->convention,
                    sizeof ids->convention);
    /* A NUR: département 074, then the vacancy and the rank (15 digits). */
    snprintf(ids->nur, sizeof ids->nur, "074%012llu",
             (unsigned long long)((v * 3 + (st.rank ? st.rank - 1u : 0)) % 1000000000000ULL));
}

/* ---- payloads -------------------------------------------------------------- */

static Fluxbus__V1__Date s_today(void)
{
    Fluxbus__V1__Date d = FLUXBUS__V1__DATE__INIT;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    d.year = tm.tm_year + 1900;
    d.month = tm.tm_mon + 1;
    d.day = tm.tm_mday;
    return d;
}

static uint8_t *s_answer_orientation(const s_ids_t *ids, bool decline, size_t *len)
{
    if (decline) {
        Fluxbus__V1__OrientationDecline d = life_msgs_decline(ids->vacancy);
        d.convention_id = (char *)ids->convention;
        d.reason_text = "aucun demandeur du contingent pour ce T3 a ce loyer";
        return load_msgs_pack(&d.base, len);
    }
    Fluxbus__V1__OrientationAck a = life_msgs_ack(ids->vacancy);
    a.convention_id = (char *)ids->convention;
    a.comment = "bien recu, designations sous quinze jours";
    return load_msgs_pack(&a.base, len);
}

static uint8_t *s_visit(const s_ids_t *ids, size_t *len)
{
    Fluxbus__V1__Visite v = FLUXBUS__V1__VISITE__INIT;
    v.vacancy_id = (char *)ids->vacancy;
    v.nur = (char *)ids->nur;
    v.visit_ms = fb_now_ms() - 2 * 86400000LL; /* done before the session */
    v.outcome = FLUXBUS__V1__VISITE_OUTCOME__VISITE_OUTCOME_DONE_INTERESTED;
    v.comment = "visite avec le gardien";
    return load_msgs_pack(&v.base, len);
}

static uint8_t *s_seance(const replay_world_t *w, uint64_t v, const s_ids_t *ids, size_t *len)
{
    Fluxbus__V1__CaleolSeance s = FLUXBUS__V1__CALEOL_SEANCE__INIT;
    Fluxbus__V1__Address place = FLUXBUS__V1__ADDRESS__INIT;
    char *lines[1] = {"1 rue de la Commission"}, *communes[1] = {S_INSEE};
    char *agenda[1] = {(char *)ids->vacancy};
    place.lines = lines;
    place.n_lines = 1;
    place.postal_code = "74000";
    place.city = "Annecy";
    s.seance_id = (char *)ids->seance;
    s.revision = 1;
    s.status = FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_SCHEDULED;
    s.bailleur_siren = (char *)load_msgs_siren(w->actors[s_bailleur(w, v)].actor);
    s.commission_name = "CALEOL Annecy";
    /* The session sat this morning: the decisions that follow are dated
     * now, after its start (the ledger bounds a decision by its session). */
    s.start_ms = fb_now_ms() - 3600000;
    s.end_ms = s.start_ms + 7200000;
    s.timezone = "Europe/Paris";
    s.place = &place;
    s.communes_insee = communes;
    s.n_communes_insee = 1;
    s.vacancy_ids = agenda;
    s.n_vacancy_ids = 1;
    return load_msgs_pack(&s.base, len);
}

#define CODE(x) FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_##x

/* Ranks 1 and 2 attributed by rank, rank 3 not attributed. */
static uint8_t *s_decision(const replay_world_t *w, const s_ids_t *ids, s_step_t st, uint64_t v,
                           size_t *len)
{
    Fluxbus__V1__CaleolDecision d = life_msgs_decision(
        ids->seance, ids->vacancy, ids->nur, st.rank, w->actors[s_resa(w, v, st.second)].actor,
        st.rank < 3 ? CODE(ATTRIBUTION_PAR_RANG) : CODE(NON_ATTRIBUTION), fb_now_ms());
    d.revision = 1;
    if (st.rank == 3) {
        d.non_attribution_reason =
            FLUXBUS__V1__NON_ATTRIBUTION_REASON__NON_ATTRIBUTION_REASON_TAUX_EFFORT;
        d.reason_text = "taux d'effort superieur a 35 %";
    }
    return load_msgs_pack(&d.base, len);
}

static uint8_t *s_answer(const s_ids_t *ids, bool accept, size_t *len)
{
    Fluxbus__V1__PropositionReponse r =
        life_msgs_answer(ids->vacancy, ids->nur, !accept, fb_now_ms());
    if (!accept)
        r.refus_text = "trop loin du lieu de travail";
    r.proposal_sent_ms = fb_now_ms() - 5 * 86400000LL;
    return load_msgs_pack(&r.base, len);
}

static uint8_t *s_no_lease(const s_ids_t *ids, size_t *len)
{
    Fluxbus__V1__AttributionNonSuivieDeBail n = life_msgs_no_lease(ids->vacancy, ids->nur);
    Fluxbus__V1__Date today = s_today();
    n.reason_text = "refus du menage apres la commission";
    n.date = &today;
    return load_msgs_pack(&n.base, len);
}

static uint8_t *s_lease(const replay_world_t *w, const s_ids_t *ids, s_step_t st, uint64_t v,
                        size_t *len)
{
    Fluxbus__V1__BailSigne b =
        life_msgs_lease(ids->vacancy, ids->nur, w->actors[s_resa(w, v, st.second)].actor);
    Fluxbus__V1__Date today = s_today();
    b.signed_on = &today;
    b.effective_on = &today;
    b.convention_id = (char *)ids->convention;
    b.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    b.bailleur_siren = (char *)load_msgs_siren(w->actors[s_bailleur(w, v)].actor);
    b.rpls_id = "0740123456789";
    b.commune_insee = S_INSEE;
    b.qpv = FLUXBUS__V1__QPV_STATUS__QPV_STATUS_OUTSIDE_QPV;
    b.typologie = FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T3;
    return load_msgs_pack(&b.base, len);
}

static uint8_t *s_radiation(const s_ids_t *ids, size_t *len)
{
    Fluxbus__V1__SneRadiationAck a = FLUXBUS__V1__SNE_RADIATION_ACK__INIT;
    Fluxbus__V1__Date today = s_today();
    a.vacancy_id = (char *)ids->vacancy;
    a.nur = (char *)ids->nur;
    a.status = FLUXBUS__V1__SNE_RADIATION_STATUS__SNE_RADIATION_STATUS_RADIEE;
    a.radiated_on = &today;
    a.message = "demande radiee pour attribution";
    return load_msgs_pack(&a.base, len);
}

/* ---- signing --------------------------------------------------------------- */

/* Step st's payload and type (and for a Designation its sealed household,
 * into *sealed). */
static fb_err_t s_payload(const replay_world_t *w, uint64_t v, s_step_t st, const s_ids_t *ids,
                          fb_sealed_t *sealed, int *type, uint8_t **payload, size_t *len)
{
    const fb_keys_t *resa = &w->actors[s_resa(w, v, st.second)];
    const fb_keys_t *bailleur = &w->actors[s_bailleur(w, v)];
    static const int types[] = {[K_LIBERE] = T(LOGEMENT_LIBERE),
                                [K_ORIENT] = T(ORIENTATION),
                                [K_ACK] = T(ORIENTATION_ACK),
                                [K_DECLINE] = T(ORIENTATION_DECLINE),
                                [K_DESIGNATE] = T(DESIGNATION),
                                [K_VISIT] = T(VISITE),
                                [K_SEANCE] = T(CALEOL_SEANCE),
                                [K_DECIDE] = T(CALEOL_DECISION),
                                [K_ACCEPT] = T(PROPOSITION_REPONSE),
                                [K_REFUSE] = T(PROPOSITION_REPONSE),
                                [K_NO_LEASE] = T(ATTRIBUTION_NON_SUIVIE_DE_BAIL),
                                [K_LEASE] = T(BAIL_SIGNE),
                                [K_RADIATE] = T(SNE_RADIATION_ACK)};
    *type = types[st.kind];
    switch (st.kind) {
    case K_LIBERE:
        *payload = load_msgs_logement(bailleur->actor, ids->vacancy, "", len);
        break;
    case K_ORIENT:
        *payload = load_msgs_orientation(ids->vacancy, ids->convention, resa->actor, 1, len);
        break;
    case K_ACK:
    case K_DECLINE:
        *payload = s_answer_orientation(ids, st.kind == K_DECLINE, len);
        break;
    case K_DESIGNATE: {
        fb_err_t rc = load_msgs_seal_household(ids->nur, "", bailleur->enc_pk, sealed);
        if (rc != FB_OK)
            return rc;
        *payload = load_msgs_designation(ids->vacancy, ids->convention, st.rank, ids->nur,
                                         resa->actor, sealed, len);
        break;
    }
    case K_VISIT:
        *payload = s_visit(ids, len);
        break;
    case K_SEANCE:
        *payload = s_seance(w, v, ids, len);
        break;
    case K_DECIDE:
        *payload = s_decision(w, ids, st, v, len);
        break;
    case K_ACCEPT:
    case K_REFUSE:
        *payload = s_answer(ids, st.kind == K_ACCEPT, len);
        break;
    case K_NO_LEASE:
        *payload = s_no_lease(ids, len);
        break;
    case K_LEASE:
        *payload = s_lease(w, ids, st, v, len);
        break;
    case K_RADIATE:
        *payload = s_radiation(ids, len);
        break;
    }
    return *payload ? FB_OK : FB_ERR_NOMEM;
}

/* Signs a payload of `type` from actor `from` to `to` (n_to) about
 * `vacancy` as message k of the sender. */
static fb_err_t s_sign(const replay_world_t *w, size_t from, const char *const *to, size_t n_to,
                       const char *vacancy, int type, const uint8_t *payload, size_t len,
                       const ProtobufCBinaryData *att, uint64_t k, load_msg_t *out)
{
    load_msgs_parts_t p = {.type = type,
                           .to = to,
                           .n_to = n_to,
                           .vacancy = vacancy,
                           .sequence = k + 1,
                           .payload = payload,
                           .payload_len = len,
                           .att = att};
    load_msgs_id(w->run, (uint32_t)from, k, p.id);
    return load_msgs_seal(&w->actors[from], &p, out);
}

fb_err_t replay_sign_step(const replay_world_t *w, uint64_t v, size_t s, uint64_t k,
                          load_msg_t *out)
{
    s_step_t st = s_step(v, s);
    s_ids_t ids;
    s_ids(w, v, st, &ids);
    size_t from = replay_sender(w, v, s);
    const char *to[2];
    size_t n_to = 1;
    if (st.kind == K_RADIATE || s_by_resa(st.kind)) {
        to[0] = w->actors[s_bailleur(w, v)].actor;
    } else {
        to[0] = w->actors[s_resa(w, v, st.second)].actor;
        if (st.kind == K_LEASE)
            to[n_to++] = w->actors[s_sne(w)].actor;
    }
    fb_sealed_t sealed = {0};
    uint8_t *payload = NULL;
    size_t len = 0;
    int type = 0;
    fb_err_t rc = s_payload(w, v, st, &ids, &sealed, &type, &payload, &len);
    ProtobufCBinaryData att = {sealed.box_len, sealed.box};
    if (rc == FB_OK)
        rc = s_sign(w, from, to, n_to, ids.vacancy, type, payload, len, sealed.box ? &att : NULL, k,
                    out);
    free(payload);
    fb_sealed_clear(&sealed);
    return rc;
}

fb_err_t replay_sign_convention(const replay_world_t *w, size_t b, size_t r, uint64_t k,
                                load_msg_t *out)
{
    const fb_keys_t *bailleur = &w->actors[b], *resa = &w->actors[w->n_bailleurs + r];
    char id[96];
    s_convention_id(w, b, r, id, sizeof id);
    size_t len = 0;
    uint8_t *payload = load_msgs_convention(id, bailleur->actor, resa->actor, &len);
    const char *to[1] = {resa->actor};
    fb_err_t rc =
        payload ? s_sign(w, b, to, 1, "", T(CONVENTION), payload, len, NULL, k, out) : FB_ERR_NOMEM;
    free(payload);
    return rc;
}
