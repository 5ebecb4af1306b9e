/* test_lifecycle.c - the vacancy lifecycle (ledger/lifecycle.c) on a real
 * SQLite database with the ledger's tables, messages checked with
 * ledger_check and, when they fit, recorded with ledger_record as the broker
 * does. Every row of the table is played from each of its states: accepted
 * rows lead to their state, refusals give their detail and change nothing.
 * Then the cases the checks of the actions refuse (the issue's examples and
 * the others), each with its exact detail; a whole valid life; the table's
 * own invariants; and docs/LEDGER.md shows the table the code walks. */
#define _GNU_SOURCE /* open_memstream */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "facts.h"
#include "ledger.h"
#include "life_msgs.h"
#include "lifecycle.h"

#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "fluxbus/v1/sne.pb-c.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define CODE(x) FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_##x
#define COND(x) FLUXBUS__V1__CONDITION_STATE__CONDITION_STATE_##x
#define ANSWER(x) FLUXBUS__V1__PROPOSITION_ANSWER__PROPOSITION_ANSWER_##x
#define SNE(x) FLUXBUS__V1__SNE_RADIATION_STATUS__SNE_RADIATION_STATUS_##x
#define FEWER(x) FLUXBUS__V1__FEWER_CANDIDATES_REASON__FEWER_CANDIDATES_REASON_##x

#define B "bailleur:552046955"
#define B2 "bailleur:775663438"
#define R "reservataire:action-logement"
#define R2 "reservataire:prefet-74"
#define SNE_ACTOR "sne:national"
#define VAC "vac-1"
#define N1 "074011900000001"
#define N2 "074011900000002"
#define N3 "074011900000003"

/* ---- a ledger on an in-memory database ----------------------------------------------- */

typedef struct {
    sqlite3 *db;
    ledger_t *ledger;
    uint64_t seq;
    int64_t now;
    const char *bailleur; /* sender of the bailleur's messages */
    char detail[512];
} s_t;

/* The payload of revision `revision` of convention `id` between B and
 * `resa`, nothing more (strings borrowed). */
static Fluxbus__V1__Convention s_convention(const char *id, unsigned revision, const char *resa)
{
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = (char *)id;
    c.revision = revision;
    c.bailleur_actor_id = B;
    c.reservataire_actor_id = (char *)resa;
    return c;
}

/* The conventions the orientations are made under: conv-1 with R, conv-2
 * with R2 (no year, territory, objective nor délai: nothing to refuse). */
static void s_conventions(s_t *t)
{
    static const char *const ids[] = {"conv-1", "conv-2"}, *const resa[] = {R, R2};
    for (size_t i = 0; i < 2; i++) {
        Fluxbus__V1__Convention c = s_convention(ids[i], 1, resa[i]);
        ledger_msg_t m = {.seq = ++t->seq,
                          .sender = B,
                          .type = T(CONVENTION),
                          .at_ms = t->now,
                          .payload = &c.base};
        assert_int_equal(ledger_check(t->ledger, &m, t->detail, sizeof t->detail), FB_OK);
        assert_int_equal(ledger_record(t->ledger, &m), FB_OK);
    }
}

static void s_open(s_t *t)
{
    memset(t, 0, sizeof *t);
    assert_int_equal(sqlite3_open(":memory:", &t->db), SQLITE_OK);
    char err[256];
    t->ledger = ledger_open(t->db, err, sizeof err);
    assert_non_null(t->ledger);
    t->now = 1767225600000;
    t->bailleur = B;
    s_conventions(t);
}

static void s_close(s_t *t)
{
    ledger_close(&t->ledger);
    sqlite3_close(t->db);
}

/* Checks a message and records it when it fits; ledger_check's result. */
static fb_err_t s_send(s_t *t, int type, const char *sender, const char *to, const void *payload)
{
    const char *recipients[1] = {to};
    ledger_msg_t m = {.sender = sender, .type = type, .correlation_id = VAC, .payload = payload};
    /* The envelope correlates the vacancy the payload names (ledger.c). */
    const char *vac = facts_vacancy_of(&m);
    m = (ledger_msg_t){.sender = sender,
                       .type = type,
                       .correlation_id = vac ? vac : VAC,
                       .recipients = recipients,
                       .n_recipients = to ? 1 : 0,
                       .at_ms = ++t->now,
                       .payload = payload};
    t->detail[0] = '\0';
    fb_err_t rc = ledger_check(t->ledger, &m, t->detail, sizeof t->detail);
    if (rc == FB_OK) {
        m.seq = ++t->seq;
        assert_int_equal(ledger_record(t->ledger, &m), FB_OK);
    } else {
        assert_int_equal(rc, FB_ERR_INVALID_TRANSITION);
        assert_true(t->detail[0] != '\0');
    }
    return rc;
}

/* Every row of every ledger table, as text: what "nothing changed" compares. */
static char *s_dump(s_t *t)
{
    static const char *const tables[] = {"ledger_vacancies", "ledger_orientations",
                                         "ledger_candidates", "ledger_seances", "ledger_events"};
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY 1, 2", tables[i]);
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(t->db, sql, -1, &st, NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                const unsigned char *v = sqlite3_column_text(st, c);
                fprintf(out, "%s|", v ? (const char *)v : "NULL");
            }
            fputc('\n', out);
        }
        sqlite3_finalize(st);
    }
    fclose(out);
    return text;
}

static int s_state(s_t *t, lifecycle_scope_t scope, const char *key)
{
    int state = -1;
    assert_int_equal(lifecycle_state(t->db, scope, VAC, key, &state), FB_OK);
    return state;
}

/* The deadline of every orientation s_orient sends: a day after s_open's clock. */
#define S_DEADLINE (1767225600000 + 86400000)

/* ---- the messages ------------------------------------------------------------------- */

static fb_err_t s_logement(s_t *t, const char *vac)
{
    Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    l.vacancy_id = (char *)vac;
    l.commune_insee = "74010";
    return s_send(t, T(LOGEMENT_LIBERE), t->bailleur, R, &l);
}

static fb_err_t s_orient(s_t *t, const char *vac, const char *resa, unsigned round,
                         unsigned expected)
{
    /* The same deadline every time: a repeat is identical. */
    Fluxbus__V1__Orientation o = life_msgs_orientation(
        vac, strcmp(resa, R2) == 0 ? "conv-2" : "conv-1", resa, round, expected, S_DEADLINE);
    return s_send(t, T(ORIENTATION), t->bailleur, resa, &o);
}

static fb_err_t s_ack(s_t *t, const char *resa)
{
    Fluxbus__V1__OrientationAck a = life_msgs_ack(VAC);
    return s_send(t, T(ORIENTATION_ACK), resa, B, &a);
}

static fb_err_t s_decline(s_t *t, const char *resa)
{
    Fluxbus__V1__OrientationDecline d = life_msgs_decline(VAC);
    return s_send(t, T(ORIENTATION_DECLINE), resa, B, &d);
}

/* A Designation from `sender`, credited to `credited` (NULL: the sender). */
static fb_err_t s_designate_full(s_t *t, const char *vac, const char *sender, const char *credited,
                                 const char *nur, unsigned rank, unsigned count, int reason)
{
    Fluxbus__V1__Designation d = life_msgs_designation(vac, nur, rank, count);
    d.credited_reservataire_actor_id = (char *)(credited ? credited : "");
    d.fewer_candidates_reason = reason;
    return s_send(t, T(DESIGNATION), sender, B, &d);
}

static fb_err_t s_designate(s_t *t, const char *nur, unsigned rank, unsigned count)
{
    return s_designate_full(t, VAC, R, NULL, nur, rank, count, 0);
}

static fb_err_t s_remise(s_t *t, const char *resa)
{
    Fluxbus__V1__RemiseADisposition r = FLUXBUS__V1__REMISE_ADISPOSITION__INIT;
    r.vacancy_id = VAC;
    r.reason = FLUXBUS__V1__REMISE_REASON__REMISE_REASON_NO_CANDIDATE;
    return s_send(t, T(REMISE_A_DISPOSITION), resa, B, &r);
}

static fb_err_t s_expired(s_t *t, const char *resa)
{
    Fluxbus__V1__DeadlineExpired e = FLUXBUS__V1__DEADLINE_EXPIRED__INIT;
    e.vacancy_id = VAC;
    if (t->now < S_DEADLINE)
        t->now = S_DEADLINE; /* said once the deadline passed */
    return s_send(t, T(DEADLINE_EXPIRED), t->bailleur, resa, &e);
}

static fb_err_t s_visite(s_t *t, const char *nur)
{
    Fluxbus__V1__Visite v = FLUXBUS__V1__VISITE__INIT;
    v.vacancy_id = VAC;
    v.nur = (char *)nur;
    v.outcome = FLUXBUS__V1__VISITE_OUTCOME__VISITE_OUTCOME_DONE_INTERESTED;
    return s_send(t, T(VISITE), t->bailleur, R, &v);
}

static fb_err_t s_seance(s_t *t, const char *vac, bool cancelled)
{
    char *vacancies[1] = {(char *)vac};
    Fluxbus__V1__CaleolSeance s = FLUXBUS__V1__CALEOL_SEANCE__INIT;
    s.seance_id = "seance-1";
    s.revision = 1;
    s.status = cancelled ? FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_CANCELLED
                         : FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_SCHEDULED;
    s.vacancy_ids = vacancies;
    s.n_vacancy_ids = 1;
    return s_send(t, T(CALEOL_SEANCE), t->bailleur, R, &s);
}

static fb_err_t s_issue(s_t *t, const char *vac)
{
    Fluxbus__V1__LogementIssue i = FLUXBUS__V1__LOGEMENT_ISSUE__INIT;
    i.vacancy_id = (char *)vac;
    i.issue = FLUXBUS__V1__LOGEMENT_ISSUE_KIND__LOGEMENT_ISSUE_KIND_ATTRIBUE;
    return s_send(t, T(LOGEMENT_ISSUE), t->bailleur, NULL, &i);
}

static fb_err_t s_decide_full(s_t *t, const char *nur, int code, int condition, unsigned rank,
                              const char *designataire)
{
    /* Not dated: decided_ms 0. */
    Fluxbus__V1__CaleolDecision d =
        life_msgs_decision("seance-1", VAC, nur, rank, designataire, code, 0);
    d.condition_state = condition;
    return s_send(t, T(CALEOL_DECISION), t->bailleur, R, &d);
}

static fb_err_t s_decide(s_t *t, const char *nur, int code)
{
    return s_decide_full(t, nur, code, code == CODE(SOUS_CONDITION_SUSPENSIVE) ? COND(PENDING) : 0,
                         1, R);
}

static fb_err_t s_answer(s_t *t, const char *nur, int answer)
{
    Fluxbus__V1__PropositionReponse p = FLUXBUS__V1__PROPOSITION_REPONSE__INIT;
    p.vacancy_id = VAC;
    p.nur = (char *)nur;
    p.answer = answer;
    return s_send(t, T(PROPOSITION_REPONSE), t->bailleur, R, &p);
}

static fb_err_t s_non_suite(s_t *t, const char *nur)
{
    Fluxbus__V1__AttributionNonSuivieDeBail a = life_msgs_no_lease(VAC, nur);
    return s_send(t, T(ATTRIBUTION_NON_SUIVIE_DE_BAIL), t->bailleur, R, &a);
}

static fb_err_t s_bail(s_t *t, const char *nur)
{
    Fluxbus__V1__BailSigne b = life_msgs_lease(VAC, nur, R);
    return s_send(t, T(BAIL_SIGNE), t->bailleur, R, &b);
}

static fb_err_t s_radiation(s_t *t, const char *nur, int status)
{
    Fluxbus__V1__SneRadiationAck a = FLUXBUS__V1__SNE_RADIATION_ACK__INIT;
    a.vacancy_id = VAC;
    a.nur = (char *)nur;
    a.status = status;
    return s_send(t, T(SNE_RADIATION_ACK), SNE_ACTOR, B, &a);
}

/* Asserts the step was accepted (the steps that lead to a state). */
#define OK(call)                                                                                   \
    do {                                                                                           \
        if ((call) != FB_OK)                                                                       \
            fail_msg("%s refused: %s", #call, t->detail);                                          \
    } while (0)

/* Asserts a refusal with exactly this detail and no change to the tables. */
#define REFUSED(call, want)                                                                        \
    do {                                                                                           \
        char *before_ = s_dump(t);                                                                 \
        if ((call) != FB_ERR_INVALID_TRANSITION)                                                   \
            fail_msg("%s was accepted", #call);                                                    \
        assert_string_equal(t->detail, want);                                                      \
        char *after_ = s_dump(t);                                                                  \
        assert_string_equal(before_, after_);                                                      \
        free(before_);                                                                             \
        free(after_);                                                                              \
    } while (0)

/* VAC freed and oriented to R (round 1) with `expected` candidates
 * expected, then its first `designated` candidates designated by R: N1,
 * N2, N3 at ranks 1, 2, 3. Each step must be accepted. */
static void s_round(s_t *t, unsigned expected, unsigned designated)
{
    static const char *const nurs[] = {N1, N2, N3};
    assert_true(designated <= sizeof nurs / sizeof nurs[0]);
    OK(s_logement(t, VAC));
    OK(s_orient(t, VAC, R, 1, expected));
    for (unsigned i = 0; i < designated; i++)
        OK(s_designate(t, nurs[i], i + 1, expected));
}

/* ---- reaching each state ------------------------------------------------------------- */

static void s_reach_vacancy(s_t *t, int state)
{
    if (state == LIFECYCLE_V_NONE)
        return;
    OK(s_logement(t, VAC));
    if (state == LIFECYCLE_V_LIBERE)
        return;
    OK(s_orient(t, VAC, R, 1, 1));
    switch (state) {
    case LIFECYCLE_V_ORIENTE:
        return;
    case LIFECYCLE_V_REMIS:
        OK(s_remise(t, R));
        return;
    case LIFECYCLE_V_EXPIRE:
        OK(s_expired(t, R));
        return;
    default:
        break;
    }
    OK(s_designate(t, N1, 1, 1));
    switch (state) {
    case LIFECYCLE_V_VISITE:
        OK(s_visite(t, N1));
        return;
    case LIFECYCLE_V_EN_CALEOL:
        OK(s_seance(t, VAC, false));
        return;
    case LIFECYCLE_V_DECIDE: /* no attribution stands: it may be oriented again */
        OK(s_decide(t, N1, CODE(NON_ATTRIBUTION)));
        return;
    case LIFECYCLE_V_DESIGNE:
        return;
    default:
        break;
    }
    OK(s_decide(t, N1, CODE(ATTRIBUTION)));
    if (state == LIFECYCLE_V_ACCEPTE)
        OK(s_answer(t, N1, ANSWER(ACCEPTEE)));
    else if (state == LIFECYCLE_V_REFUSE)
        OK(s_answer(t, N1, ANSWER(REFUSEE)));
    else if (state == LIFECYCLE_V_NON_SUIVI)
        OK(s_non_suite(t, N1));
    else
        OK(s_bail(t, N1));
    if (state == LIFECYCLE_V_RADIE)
        OK(s_radiation(t, N1, SNE(RADIEE)));
}

/* R's orientation, two candidates expected; "none" (for R) is an
 * orientation to R2 only, or, for a Designation, the freed vacancy that the
 * bailleur designates for itself. */
static void s_reach_orientation(s_t *t, int state, lifecycle_event_t event)
{
    OK(s_logement(t, VAC));
    if (state == LIFECYCLE_O_NONE) {
        if (event != LIFECYCLE_EV_DESIGNATION)
            OK(s_orient(t, VAC, R2, 1, 1));
        return;
    }
    OK(s_orient(t, VAC, R, 1, 2));
    if (state == LIFECYCLE_O_ACQUITTE)
        OK(s_ack(t, R));
    else if (state == LIFECYCLE_O_DECLINE)
        OK(s_decline(t, R));
    else if (state == LIFECYCLE_O_DESIGNE)
        OK(s_designate(t, N1, 1, 2));
    else if (state == LIFECYCLE_O_REMIS)
        OK(s_remise(t, R));
    else if (state == LIFECYCLE_O_EXPIRE)
        OK(s_expired(t, R));
}

/* Candidate N1. */
static void s_reach_candidate(s_t *t, int state)
{
    OK(s_logement(t, VAC));
    if (state == LIFECYCLE_C_RETIRE) {
        OK(s_orient(t, VAC, R, 1, 2));
        OK(s_designate(t, N1, 1, 2));
        OK(s_remise(t, R));
        return;
    }
    OK(s_orient(t, VAC, R, 1, 1));
    if (state == LIFECYCLE_C_NONE)
        return;
    OK(s_designate(t, N1, 1, 1));
    switch (state) {
    case LIFECYCLE_C_DESIGNE:
        return;
    case LIFECYCLE_C_VISITE:
        OK(s_visite(t, N1));
        return;
    case LIFECYCLE_C_ATTRIBUE_RANG:
        OK(s_decide(t, N1, CODE(ATTRIBUTION_PAR_RANG)));
        return;
    case LIFECYCLE_C_NON_ATTRIBUE:
        OK(s_decide(t, N1, CODE(NON_ATTRIBUTION)));
        return;
    case LIFECYCLE_C_IRRECEVABLE:
        OK(s_decide(t, N1, CODE(REJET_IRRECEVABILITE)));
        return;
    case LIFECYCLE_C_SOUS_CONDITION:
    case LIFECYCLE_C_CONDITION_LEVEE:
    case LIFECYCLE_C_CONDITION_CADUQUE:
        OK(s_decide(t, N1, CODE(SOUS_CONDITION_SUSPENSIVE)));
        if (state != LIFECYCLE_C_SOUS_CONDITION)
            OK(s_decide_full(t, N1, CODE(SOUS_CONDITION_SUSPENSIVE),
                             state == LIFECYCLE_C_CONDITION_LEVEE ? COND(LIFTED) : COND(LAPSED), 1,
                             R));
        return;
    default:
        break;
    }
    OK(s_decide(t, N1, CODE(ATTRIBUTION)));
    if (state == LIFECYCLE_C_ACCEPTE)
        OK(s_answer(t, N1, ANSWER(ACCEPTEE)));
    else if (state == LIFECYCLE_C_REFUSE)
        OK(s_answer(t, N1, ANSWER(REFUSEE)));
    else if (state == LIFECYCLE_C_NON_SUIVI)
        OK(s_non_suite(t, N1));
    else if (state == LIFECYCLE_C_BAIL_SIGNE || state == LIFECYCLE_C_RADIE)
        OK(s_bail(t, N1));
    if (state == LIFECYCLE_C_RADIE)
        OK(s_radiation(t, N1, SNE(RADIEE)));
}

/* ---- the event of a row, as a message that passes its action's checks ------------- */

typedef struct {
    const char *sender, *key, *nur;
} s_sent_t;

/* The next round of R's orientation, or the round it has open. */
static unsigned s_round_for_r(s_t *t)
{
    int o = s_state(t, LIFECYCLE_ORIENTATION, R);
    if (o == LIFECYCLE_O_NONE || o == LIFECYCLE_O_ORIENTE || o == LIFECYCLE_O_ACQUITTE)
        return 1;
    return 2;
}

static fb_err_t s_event(s_t *t, lifecycle_event_t event, int state, s_sent_t *sent)
{
    *sent = (s_sent_t){.sender = B, .key = NULL, .nur = N1};
    switch (event) {
    case LIFECYCLE_EV_LOGEMENT_LIBERE:
        return s_logement(t, VAC);
    case LIFECYCLE_EV_ORIENTATION:
        sent->key = R;
        return s_orient(t, VAC, R, s_round_for_r(t), 1);
    case LIFECYCLE_EV_CALEOL_SEANCE:
        return s_seance(t, VAC, false);
    case LIFECYCLE_EV_CALEOL_SEANCE_CANCELLED:
        return s_seance(t, VAC, true);
    case LIFECYCLE_EV_LOGEMENT_ISSUE:
        return s_issue(t, VAC);
    case LIFECYCLE_EV_ORIENTATION_ACK:
        *sent = (s_sent_t){R, R, NULL};
        return s_ack(t, R);
    case LIFECYCLE_EV_ORIENTATION_DECLINE:
        *sent = (s_sent_t){R, R, NULL};
        return s_decline(t, R);
    case LIFECYCLE_EV_DESIGNATION:
        if (state == LIFECYCLE_O_NONE) { /* the bailleur, for itself */
            *sent = (s_sent_t){B, B, N1};
            return s_designate_full(t, VAC, B, NULL, N1, 1, 1, FEWER(INSUFFISANCE_DEMANDES));
        }
        if (state == LIFECYCLE_O_DESIGNE) {
            *sent = (s_sent_t){R, R, N2};
            return s_designate(t, N2, 2, 2);
        }
        *sent = (s_sent_t){R, R, N1};
        return s_designate(t, N1, 1, 2);
    case LIFECYCLE_EV_REMISE:
        *sent = (s_sent_t){R, R, NULL};
        return s_remise(t, R);
    case LIFECYCLE_EV_DEADLINE_EXPIRED:
        *sent = (s_sent_t){B, R, NULL};
        return s_expired(t, R);
    case LIFECYCLE_EV_VISITE:
        return s_visite(t, N1);
    case LIFECYCLE_EV_ATTRIBUTION:
        return s_decide(t, N1, CODE(ATTRIBUTION));
    case LIFECYCLE_EV_ATTRIBUTION_PAR_RANG:
        return s_decide(t, N1, CODE(ATTRIBUTION_PAR_RANG));
    case LIFECYCLE_EV_SOUS_CONDITION:
        return s_decide(t, N1, CODE(SOUS_CONDITION_SUSPENSIVE));
    case LIFECYCLE_EV_CONDITION_LEVEE:
        return s_decide_full(t, N1, CODE(SOUS_CONDITION_SUSPENSIVE), COND(LIFTED), 1, R);
    case LIFECYCLE_EV_CONDITION_CADUQUE:
        return s_decide_full(t, N1, CODE(SOUS_CONDITION_SUSPENSIVE), COND(LAPSED), 1, R);
    case LIFECYCLE_EV_NON_ATTRIBUTION:
        return s_decide(t, N1, CODE(NON_ATTRIBUTION));
    case LIFECYCLE_EV_IRRECEVABILITE:
        return s_decide(t, N1, CODE(REJET_IRRECEVABILITE));
    case LIFECYCLE_EV_ACCEPTEE:
        return s_answer(t, N1, ANSWER(ACCEPTEE));
    case LIFECYCLE_EV_REFUSEE:
        return s_answer(t, N1, ANSWER(REFUSEE));
    case LIFECYCLE_EV_NON_SUIVIE:
        return s_non_suite(t, N1);
    case LIFECYCLE_EV_BAIL_SIGNE:
        return s_bail(t, N1);
    case LIFECYCLE_EV_RADIEE:
        sent->sender = SNE_ACTOR;
        return s_radiation(t, N1, SNE(RADIEE));
    case LIFECYCLE_EV_NON_RADIEE:
        sent->sender = SNE_ACTOR;
        return s_radiation(t, N1, SNE(RETRY_LATER));
    default:
        fail_msg("no message for event %d", (int)event);
        return FB_ERR_INVALID;
    }
}

/* The row's detail as the broker must say it. */
static void s_render(const lifecycle_row_t *row, int state, const s_sent_t *sent, char *out,
                     size_t cap)
{
    lifecycle_scope_t scope = lifecycle_event_scope(row->event);
    const char *name = lifecycle_event_name(row->event);
    char msg[64];
    snprintf(msg, sizeof msg, "%s", name);
    msg[strcspn(msg, " ")] = '\0'; /* "CaleolDecision ATTRIBUTION" -> "CaleolDecision" */
    const char *fill[][2] = {
        {"{vac}", VAC},
        {"{nur}", sent->nur ? sent->nur : ""},
        {"{resa}", R},
        {"{sender}", sent->sender},
        {"{msg}", msg},
        {"{event}", name},
        {"{state}", lifecycle_state_phrase(scope, state)},
    };
    size_t len = 0;
    for (const char *p = row->why; *p;) {
        size_t i = 0;
        while (i < sizeof fill / sizeof fill[0] && strncmp(p, fill[i][0], strlen(fill[i][0])))
            i++;
        if (i < sizeof fill / sizeof fill[0]) {
            len += (size_t)snprintf(out + len, cap - len, "%s", fill[i][1]);
            p += strlen(fill[i][0]);
        } else {
            out[len++] = *p++;
        }
    }
    out[len] = '\0';
}

/* ---- the table, row by row ------------------------------------------------------------ */

static void s_play(const lifecycle_row_t *row, size_t index, int state)
{
    lifecycle_scope_t scope = lifecycle_event_scope(row->event);
    s_t tt, *t = &tt;
    s_open(t);
    if (scope == LIFECYCLE_VACANCY)
        s_reach_vacancy(t, state);
    else if (scope == LIFECYCLE_ORIENTATION)
        s_reach_orientation(t, state, row->event);
    else
        s_reach_candidate(t, state);
    const char *key = scope == LIFECYCLE_CANDIDATE ? N1 : R;
    if (scope == LIFECYCLE_ORIENTATION && row->event == LIFECYCLE_EV_DESIGNATION &&
        state == LIFECYCLE_O_NONE)
        key = B;
    if (s_state(t, scope, key) != state)
        fail_msg("row %zu: reached %s, not %s", index,
                 lifecycle_state_name(scope, s_state(t, scope, key)),
                 lifecycle_state_name(scope, state));

    char *before = s_dump(t);
    s_sent_t sent;
    fb_err_t rc = s_event(t, row->event, state, &sent);
    const char *what = lifecycle_event_name(row->event);
    if (row->action == LIFECYCLE_REFUSE || row->action == LIFECYCLE_REFUSE_NOT_ORIENTED) {
        if (rc != FB_ERR_INVALID_TRANSITION)
            fail_msg("row %zu: %s in %s was accepted", index, what,
                     lifecycle_state_name(scope, state));
        if (row->action == LIFECYCLE_REFUSE) {
            char want[512];
            s_render(row, state, &sent, want, sizeof want);
            assert_string_equal(t->detail, want);
        } else {
            assert_non_null(strstr(t->detail, "which is oriented to " R2 " only"));
        }
        char *after = s_dump(t);
        assert_string_equal(before, after);
        free(after);
    } else {
        if (rc != FB_OK)
            fail_msg("row %zu: %s in %s refused: %s", index, what,
                     lifecycle_state_name(scope, state), t->detail);
        int want = row->next == LIFECYCLE_SAME ? state : row->next;
        int got = s_state(t, scope, sent.key ? sent.key : key);
        if (got != want)
            fail_msg("row %zu: %s in %s led to %s, not %s", index, what,
                     lifecycle_state_name(scope, state), lifecycle_state_name(scope, got),
                     lifecycle_state_name(scope, want));
    }
    free(before);
    s_close(t);
}

static void test_every_row_from_each_of_its_states(void **state)
{
    (void)state;
    size_t n = 0, played = 0;
    const lifecycle_row_t *rows = lifecycle_rows(&n);
    for (size_t i = 0; i < n; i++) {
        lifecycle_scope_t scope = lifecycle_event_scope(rows[i].event);
        for (int s = 0; s < lifecycle_state_count(scope); s++)
            if (rows[i].from >> s & 1u) {
                s_play(&rows[i], i, s);
                played++;
            }
    }
    fprintf(stderr, "played %zu rows from %zu states\n", n, played);
}

/* ---- the cases the actions' checks refuse --------------------------------------------- */

static void test_designation_by_a_reservataire_the_vacancy_is_not_oriented_to(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    OK(s_logement(t, VAC));
    OK(s_orient(t, VAC, R2, 1, 1));
    REFUSED(s_designate(t, N1, 1, 1),
            "Designation by " R " on " VAC ", which is oriented to " R2 " only");
    /* Nor credited to the one it is oriented to: only the bailleur
     * designates for a réservataire. */
    REFUSED(s_designate_full(t, VAC, R, R2, N1, 1, 1, 0),
            "Designation by " R " for " R2 " on " VAC
            ": only the vacancy's bailleur designates for a réservataire (gestion déléguée)");
    /* The bailleur may (gestion déléguée): R2 is credited. */
    OK(s_designate_full(t, VAC, B, R2, N1, 1, 1, 0));
    assert_int_equal(s_state(t, LIFECYCLE_ORIENTATION, R2), LIFECYCLE_O_DESIGNE);
    /* A vacancy the ledger has never seen. */
    REFUSED(s_designate_full(t, "vac-9", R, NULL, N1, 1, 1, 0),
            "Designation by " R " on vac-9, which the ledger has never seen (no LogementLibere "
            "nor Orientation)");
    s_close(t);
}

/* A Designation of N1 on VAC by `sender`, credited to `credited`, naming
 * `designating` and saying gestion déléguée or not. */
static fb_err_t s_designate_claiming(s_t *t, const char *sender, const char *credited,
                                     const char *designating, bool deleguee)
{
    Fluxbus__V1__Designation d = FLUXBUS__V1__DESIGNATION__INIT;
    d.vacancy_id = VAC;
    d.nur = N1;
    d.rank = 1;
    d.candidate_count = 1;
    d.credited_reservataire_actor_id = (char *)credited;
    d.designating_actor_id = (char *)designating;
    d.gestion_deleguee = deleguee;
    return s_send(t, T(DESIGNATION), sender, B, &d);
}

static void test_a_designation_claims_no_other_designator(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    s_round(t, 1, 0);
    /* The réservataire may not say the bailleur chose (partenariale) nor
     * that it designates in gestion déléguée: the décompte reads its
     * counting rule from these. */
    REFUSED(s_designate_claiming(t, R, R, B, false),
            "Designation by " R " on " VAC " names " B
            " as its designating actor: the designating actor is the sender");
    REFUSED(s_designate_claiming(t, R, R, R, true),
            "Designation by " R " on " VAC
            " in gestion déléguée: only the vacancy's bailleur designates under gestion "
            "déléguée");
    /* Nor may the bailleur name the réservataire as the one who chose. */
    REFUSED(s_designate_claiming(t, B, R, R, true),
            "Designation by " B " on " VAC " names " R
            " as its designating actor: the designating actor is the sender");
    /* Each naming itself is fine: the bailleur in gestion déléguée... */
    OK(s_designate_claiming(t, B, R, B, true));
    s_close(t);
    /* ... and the réservataire designating directly. */
    s_open(t);
    s_round(t, 1, 0);
    OK(s_designate_claiming(t, R, R, R, false));
    s_close(t);
}

static void test_decision_for_a_candidate_no_designation_named(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    s_reach_candidate(t, LIFECYCLE_C_DESIGNE);
    REFUSED(s_decide(t, N2, CODE(ATTRIBUTION)),
            "CaleolDecision for NUR " N2 ", which no designation named on " VAC);
    /* Credited to another réservataire than the candidate's. */
    REFUSED(s_decide_full(t, N1, CODE(ATTRIBUTION), 0, 1, R2),
            "CaleolDecision ATTRIBUTION for NUR " N1 " on " VAC " credits " R2
            ", but the candidate was designated for " R);
    REFUSED(s_decide_full(t, N1, 0, 0, 1, R),
            "CaleolDecision for NUR " N1 " on " VAC " without a decision code");
    s_close(t);
}

static void test_lease_before_any_decision(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    s_reach_candidate(t, LIFECYCLE_C_DESIGNE);
    REFUSED(s_bail(t, N1),
            "BailSigne on " VAC " before any attribution decision (NUR " N1 " is designated)");
    REFUSED(s_bail(t, N3), "BailSigne for NUR " N3 ", which no designation named on " VAC);
    s_close(t);
}

static void test_fewer_candidates_than_the_orientation_expects_need_a_reason(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    s_round(t, 3, 0);
    REFUSED(s_designate(t, N1, 1, 2),
            "designation round of 2 candidates on " VAC " where the orientation expects 3, "
            "without a reason (fewer_candidates_reason)");
    Fluxbus__V1__Designation d = FLUXBUS__V1__DESIGNATION__INIT;
    d.vacancy_id = VAC;
    d.nur = N1;
    d.rank = 1;
    d.candidate_count = 2;
    d.fewer_candidates_reason = FEWER(OTHER);
    REFUSED(s_send(t, T(DESIGNATION), R, B, &d),
            "Designation on " VAC ": fewer_candidates_reason OTHER without fewer_candidates_text");
    d.fewer_candidates_text = "deux ménages seulement correspondent au T5";
    OK(s_send(t, T(DESIGNATION), R, B, &d));
    /* The round's other rules: rank, count, size, NUR. */
    REFUSED(s_designate_full(t, VAC, R, NULL, N2, 3, 2, FEWER(INSUFFISANCE_DEMANDES)),
            "Designation rank 3 on " VAC ", in a round of 2 candidates");
    REFUSED(s_designate_full(t, VAC, R, NULL, N2, 1, 2, FEWER(INSUFFISANCE_DEMANDES)),
            "Designation rank 1 on " VAC ", which is NUR " N1 "'s in this round");
    REFUSED(s_designate(t, N2, 2, 3), "Designation on " VAC " announces 3 candidates where this "
                                      "round's earlier designations announced 2");
    REFUSED(s_designate_full(t, VAC, R, NULL, N1, 2, 2, FEWER(INSUFFISANCE_DEMANDES)),
            "Designation of NUR " N1 " on " VAC ", designated already (for " R ", designated)");
    OK(s_designate_full(t, VAC, R, NULL, N2, 2, 2, FEWER(INSUFFISANCE_DEMANDES)));
    REFUSED(s_designate_full(t, VAC, R, NULL, N3, 2, 2, FEWER(INSUFFISANCE_DEMANDES)),
            "Designation rank 2 on " VAC ", which is NUR " N2 "'s in this round");
    s_close(t);
}

/* The round announced 3 but only 2 came: neither the CALEOL session nor a
 * decision takes the vacancy until the third arrives. */
static void test_a_round_short_of_its_designations_does_not_go_to_the_caleol(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    s_round(t, 3, 2);
    REFUSED(s_seance(t, VAC, false),
            "CaleolSeance lists " VAC ": 2 candidates of 3 received for " VAC " round 1 (" R
            "), no reason given (fewer_candidates_reason) and its deadline has not passed");
    REFUSED(s_decide(t, N1, CODE(ATTRIBUTION)),
            "CaleolDecision ATTRIBUTION for NUR " N1 " on " VAC
            ": 2 candidates of 3 received for " VAC " round 1 (" R
            "), no reason given (fewer_candidates_reason) and its deadline has "
            "not passed");
    REFUSED(s_decide(t, N2, CODE(NON_ATTRIBUTION)),
            "CaleolDecision NON_ATTRIBUTION for NUR " N2 " on " VAC ": 2 candidates of 3 received "
            "for " VAC " round 1 (" R "), no reason given (fewer_candidates_reason) and its "
            "deadline has not passed");
    /* A cancelled session examines nothing. */
    OK(s_seance(t, VAC, true));
    OK(s_designate(t, N3, 3, 3));
    OK(s_seance(t, VAC, false));
    assert_int_equal(s_state(t, LIFECYCLE_VACANCY, NULL), LIFECYCLE_V_EN_CALEOL);
    /* The first decision takes the vacancy to `decide`; the others follow. */
    OK(s_decide(t, N3, CODE(NON_ATTRIBUTION)));
    OK(s_decide(t, N2, CODE(NON_ATTRIBUTION)));
    OK(s_decide(t, N1, CODE(ATTRIBUTION)));
    s_close(t);

    /* Without a session: the first decision. */
    s_open(t);
    s_round(t, 2, 1);
    OK(s_visite(t, N1));
    REFUSED(s_decide(t, N1, CODE(REJET_IRRECEVABILITE)),
            "CaleolDecision REJET_IRRECEVABILITE for NUR " N1 " on " VAC ": 1 candidates of 2 "
            "received for " VAC " round 1 (" R "), no reason given (fewer_candidates_reason) and "
            "its deadline has not passed");
    OK(s_designate(t, N2, 2, 2));
    OK(s_decide(t, N1, CODE(REJET_IRRECEVABILITE)));
    s_close(t);
}

/* A reason covers the fewer candidates announced, not fewer than those. */
static void test_a_reason_covers_the_candidates_announced(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    s_round(t, 3, 0);
    OK(s_designate_full(t, VAC, R, NULL, N1, 1, 2, FEWER(INSUFFISANCE_DEMANDES)));
    REFUSED(s_seance(t, VAC, false),
            "CaleolSeance lists " VAC ": 1 candidates of the 2 announced received for " VAC
            " round 1 (" R "), whose reason (fewer_candidates_reason) is for 2 of the 3 expected, "
            "and its deadline has not passed");
    /* The same rank twice is one candidate. */
    REFUSED(s_designate_full(t, VAC, R, NULL, N2, 1, 2, FEWER(INSUFFISANCE_DEMANDES)),
            "Designation rank 1 on " VAC ", which is NUR " N1 "'s in this round");
    OK(s_designate_full(t, VAC, R, NULL, N2, 2, 2, FEWER(INSUFFISANCE_DEMANDES)));
    OK(s_seance(t, VAC, false));
    OK(s_decide(t, N2, CODE(ATTRIBUTION)));
    s_close(t);
}

/* Once the deadline passed, the bailleur goes on with what came, whether
 * or not a DeadlineExpired was said. */
static void test_past_the_deadline_the_caleol_takes_what_came(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    s_round(t, 3, 1);
    t->now = S_DEADLINE - 2;
    REFUSED(s_seance(t, VAC, false),
            "CaleolSeance lists " VAC ": 1 candidates of 3 received for " VAC " round 1 (" R
            "), no reason given (fewer_candidates_reason) and its deadline has not passed");
    OK(s_seance(t, VAC, false)); /* at the deadline */
    OK(s_decide(t, N1, CODE(ATTRIBUTION)));
    s_close(t);

    s_open(t);
    s_round(t, 3, 1);
    OK(s_expired(t, R));
    OK(s_decide(t, N1, CODE(ATTRIBUTION)));
    s_close(t);
}

/* The bailleur's own designations owe as many too. */
static void test_the_bailleurs_own_round_is_complete_before_the_caleol(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    OK(s_logement(t, VAC));
    OK(s_designate_full(t, VAC, B, NULL, N1, 1, 3, 0));
    OK(s_designate_full(t, VAC, B, NULL, N2, 2, 3, 0));
    REFUSED(s_decide_full(t, N1, CODE(ATTRIBUTION), 0, 0, ""),
            "CaleolDecision ATTRIBUTION for NUR " N1 " on " VAC
            ": 2 candidates of 3 received for " VAC
            " (the bailleur's own designations), no reason given (fewer_candidates_reason)");
    OK(s_designate_full(t, VAC, B, NULL, N3, 3, 3, 0));
    OK(s_decide_full(t, N2, CODE(NON_ATTRIBUTION), 0, 0, ""));
    OK(s_decide_full(t, N1, CODE(ATTRIBUTION), 0, 0, ""));
    s_close(t);
}

/* A convention stating its number of candidates: an Orientation without
 * one gets it, one asking fewer is refused, one asking more is kept. */
static void test_the_convention_sets_the_candidates_an_orientation_asks(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    Fluxbus__V1__Convention c = s_convention("conv-1", 2, R);
    c.candidates_expected = 3;
    OK(s_send(t, T(CONVENTION), B, R, &c)); /* an amendment: both parties sign it */
    OK(s_send(t, T(CONVENTION), R, B, &c));
    OK(s_logement(t, VAC));
    REFUSED(s_orient(t, VAC, R, 1, 2),
            "Orientation of " VAC " to " R " asks for 2 candidates, fewer than the 3 convention "
            "conv-1 (revision 2) requires: the bailleur may ask more, not fewer");
    OK(s_orient(t, VAC, R, 1, 0));
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(t->db,
                                        "SELECT candidates_expected FROM ledger_orientations"
                                        " WHERE vacancy_id = 'vac-1' AND round = 1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 3);
    sqlite3_finalize(st);
    OK(s_orient(t, VAC, R, 1, 0)); /* the same again: a repeat */
    REFUSED(s_designate(t, N1, 1, 2),
            "designation round of 2 candidates on " VAC " where the orientation expects 3, "
            "without a reason (fewer_candidates_reason)");
    OK(s_designate(t, N1, 1, 3));
    OK(s_designate(t, N2, 2, 3));
    REFUSED(s_seance(t, VAC, false),
            "CaleolSeance lists " VAC ": 2 candidates of 3 received for " VAC " round 1 (" R
            "), no reason given (fewer_candidates_reason) and its deadline has not passed");
    OK(s_remise(t, R));
    OK(s_orient(t, VAC, R, 2, 4)); /* more than the convention: the bailleur's choice */
    REFUSED(s_designate(t, N3, 1, 3),
            "designation round of 3 candidates on " VAC " where the orientation expects 4, "
            "without a reason (fewer_candidates_reason)");
    s_close(t);
}

static void test_designation_and_remise_after_the_orientation_ended(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    s_reach_orientation(t, LIFECYCLE_O_REMIS, LIFECYCLE_EV_DESIGNATION);
    REFUSED(s_designate(t, N1, 1, 2),
            "Designation by " R " on " VAC " after the remise à disposition by " R);
    REFUSED(s_remise(t, R), "RemiseADisposition by " R " on " VAC ", given back already");
    REFUSED(s_remise(t, R2),
            "RemiseADisposition by " R2 " on " VAC ", which is oriented to " R " only");
    s_close(t);

    s_open(t);
    s_reach_orientation(t, LIFECYCLE_O_EXPIRE, LIFECYCLE_EV_DESIGNATION);
    REFUSED(s_designate(t, N1, 1, 2),
            "Designation by " R " on " VAC " after the deadline of " R " expired");
    REFUSED(s_expired(t, R), "DeadlineExpired for " R " on " VAC ", expired already");
    /* Taken back: the bailleur designates for itself. */
    OK(s_designate_full(t, VAC, B, NULL, N1, 1, 2, FEWER(INSUFFISANCE_DEMANDES)));
    s_close(t);

    /* Expiry of a complete round; remise while an attribution stands. */
    s_open(t);
    s_round(t, 1, 1);
    REFUSED(s_expired(t, R),
            "DeadlineExpired for " R " on " VAC ", whose round of 1 candidates is complete");
    OK(s_decide(t, N1, CODE(ATTRIBUTION)));
    REFUSED(s_remise(t, R),
            "RemiseADisposition by " R " on " VAC " while NUR " N1 " is attributed");
    s_close(t);
}

static void test_a_second_lease_and_a_radiation_before_the_lease(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    s_round(t, 2, 2);
    OK(s_decide_full(t, N1, CODE(ATTRIBUTION_PAR_RANG), 0, 1, R));
    OK(s_decide_full(t, N2, CODE(ATTRIBUTION_PAR_RANG), 0, 2, R));
    REFUSED(s_radiation(t, N1, SNE(RADIEE)),
            "SneRadiationAck for NUR " N1 " on " VAC " before its lease (NUR " N1
            " is attributed by rank)");
    OK(s_bail(t, N1));
    REFUSED(s_bail(t, N1),
            "a second BailSigne for NUR " N1 " on " VAC ", which is let (lease signed) already");
    REFUSED(s_bail(t, N2),
            "BailSigne for NUR " N2 " on " VAC ", taken by NUR " N1 " (let (lease signed))");
    OK(s_radiation(t, N1, SNE(RADIEE)));
    OK(s_radiation(t, N1, SNE(ALREADY_RADIEE)));
    REFUSED(s_radiation(t, N1, SNE(RETRY_LATER)),
            "SneRadiationAck not radiée for NUR " N1 " on " VAC ", radiée already");
    REFUSED(s_logement(t, VAC), "LogementLibere for " VAC ", which is let, its demande radiée in "
                                "SNE: a new letting takes a new vacancy id");
    /* (To R again: the pair re-oriented is never counted twice, so the
     * lifecycle speaks; to R2 the bailleur's flux would be overbooked.) */
    REFUSED(s_orient(t, VAC, R, 2, 1),
            "Orientation of " VAC " to " R ", which is let, its demande radiée in SNE");
    s_close(t);
}

static void test_ranks_answer_in_their_order(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    s_round(t, 3, 3);
    OK(s_decide_full(t, N1, CODE(ATTRIBUTION_PAR_RANG), 0, 1, R));
    REFUSED(s_decide_full(t, N2, CODE(ATTRIBUTION_PAR_RANG), 0, 1, R),
            "CaleolDecision ATTRIBUTION_PAR_RANG rank 1 for NUR " N2 " on " VAC ", a rank NUR " N1
            " holds already");
    REFUSED(s_decide_full(t, N2, CODE(ATTRIBUTION_PAR_RANG), 0, 0, R),
            "CaleolDecision ATTRIBUTION_PAR_RANG for NUR " N2 " on " VAC " without a rank");
    REFUSED(s_decide(t, N2, CODE(ATTRIBUTION)), "CaleolDecision ATTRIBUTION for NUR " N2 " on " VAC
                                                " while NUR " N1 " is attributed by rank");
    OK(s_decide_full(t, N2, CODE(ATTRIBUTION_PAR_RANG), 0, 2, R));
    OK(s_decide(t, N3, CODE(NON_ATTRIBUTION)));
    /* Rank 2 cannot answer (nor sign) before rank 1 refused. */
    REFUSED(s_answer(t, N2, ANSWER(ACCEPTEE)),
            "PropositionReponse ACCEPTEE for NUR " N2 " (rank 2) on " VAC " while rank 1 (NUR " N1
            ") has neither refused nor ended");
    REFUSED(s_bail(t, N2), "BailSigne for NUR " N2 " (rank 2) on " VAC " while rank 1 (NUR " N1
                           ") has neither refused nor ended");
    OK(s_answer(t, N1, ANSWER(REFUSEE)));
    /* Refused: the next rank, not a new orientation while it holds. */
    REFUSED(s_orient(t, VAC, R, 2, 3), "Orientation of " VAC " to " R " while NUR " N2
                                       " (designated for " R ") is attributed by rank");
    OK(s_answer(t, N2, ANSWER(ACCEPTEE)));
    REFUSED(s_answer(t, N1, ANSWER(ACCEPTEE)), "PropositionReponse for NUR " N1 " on " VAC
                                               ", answered already (refused by the household)");
    OK(s_non_suite(t, N1));
    OK(s_bail(t, N2));
    assert_int_equal(s_state(t, LIFECYCLE_VACANCY, NULL), LIFECYCLE_V_BAIL_SIGNE);
    s_close(t);
}

static void test_suspensive_condition_then_lifted_or_lapsed(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    s_reach_candidate(t, LIFECYCLE_C_SOUS_CONDITION);
    REFUSED(s_bail(t, N1),
            "BailSigne for NUR " N1 " on " VAC " before its suspensive condition is lifted");
    REFUSED(s_answer(t, N1, ANSWER(ACCEPTEE)), "PropositionReponse for NUR " N1 " on " VAC
                                               " before its suspensive condition is lifted");
    OK(s_decide_full(t, N1, CODE(SOUS_CONDITION_SUSPENSIVE), COND(LIFTED), 1, R));
    OK(s_bail(t, N1));
    s_close(t);

    s_open(t);
    s_reach_candidate(t, LIFECYCLE_C_SOUS_CONDITION);
    OK(s_decide_full(t, N1, CODE(SOUS_CONDITION_SUSPENSIVE), COND(LAPSED), 1, R));
    REFUSED(s_bail(t, N1), "BailSigne for NUR " N1 " on " VAC
                           ", who is no longer attributed, its condition lapsed");
    OK(s_non_suite(t, N1));
    /* Nothing holds the vacancy: back to the réservataire, round 2. */
    REFUSED(s_orient(t, VAC, R, 1, 1),
            "Orientation of " VAC " to " R " as round 1, after its round 1 (answered with "
            "candidates): the next round is 2");
    OK(s_orient(t, VAC, R, 2, 1));
    s_close(t);
}

/* One integer read from the tables (-1: no row). */
static int64_t s_int(s_t *t, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(t->db, sql, -1, &st, NULL), SQLITE_OK);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

static void test_a_settled_condition_keeps_the_original_decision(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    s_reach_candidate(t, LIFECYCLE_C_DESIGNE);
    t->now = 1767400000000; /* both decisions are sent once taken */
    Fluxbus__V1__CaleolDecision d = FLUXBUS__V1__CALEOL_DECISION__INIT;
    d.seance_id = "seance-1";
    d.vacancy_id = VAC;
    d.nur = N1;
    d.rank = 1;
    d.designataire_actor_id = R;
    d.decision = CODE(SOUS_CONDITION_SUSPENSIVE);
    d.condition_state = COND(PENDING);
    d.decided_ms = 1767300000000;
    d.q1 = true;
    d.relogement_anru = true;
    OK(s_send(t, T(CALEOL_DECISION), t->bailleur, R, &d));
    d.condition_state = COND(LIFTED);
    d.decided_ms = 1767400000000;
    d.q1 = false;
    d.relogement_anru = false;
    d.rank = 2;
    d.seance_id = "seance-2";
    OK(s_send(t, T(CALEOL_DECISION), t->bailleur, R, &d));
    assert_int_equal(s_int(t, "SELECT decided_ms FROM ledger_candidates"), 1767300000000);
    assert_int_equal(s_int(t, "SELECT q1 FROM ledger_candidates"), 1);
    assert_int_equal(s_int(t, "SELECT relogement_anru FROM ledger_candidates"), 1);
    assert_int_equal(s_int(t, "SELECT decision_rank FROM ledger_candidates"), 1);
    assert_int_equal(
        s_int(t, "SELECT count(*) FROM ledger_candidates WHERE seance_id = 'seance-1'"), 1);
    assert_int_equal(s_int(t, "SELECT condition_state FROM ledger_candidates"), COND(LIFTED));
    assert_int_equal(s_int(t, "SELECT condition_ms FROM ledger_candidates"), t->now);
    s_close(t);
}

static void test_the_same_orientation_again_changes_nothing(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    OK(s_logement(t, VAC));
    Fluxbus__V1__Orientation o = FLUXBUS__V1__ORIENTATION__INIT;
    o.vacancy_id = VAC;
    o.convention_id = "conv-1";
    o.reservataire_actor_id = R;
    o.deadline_ms = t->now + 86400000;
    o.candidates_expected = 1;
    o.round = 1;
    OK(s_send(t, T(ORIENTATION), t->bailleur, R, &o));
    OK(s_ack(t, R));
    OK(s_send(t, T(ORIENTATION), t->bailleur, R, &o));
    assert_int_equal(s_state(t, LIFECYCLE_ORIENTATION, R), LIFECYCLE_O_ACQUITTE);
    assert_int_equal(s_int(t, "SELECT count(*) FROM ledger_orientations"), 1);
    o.deadline_ms += 86400000;
    REFUSED(s_send(t, T(ORIENTATION), t->bailleur, R, &o),
            "Orientation of " VAC " to " R " as round 1, which was sent already with other terms "
            "(convention, contingent, deadline or candidates): a new round is 2");
    s_close(t);
}

static void test_a_let_vacancy_stays_let_and_keeps_its_dwelling(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    s_round(t, 2, 2);
    OK(s_decide(t, N1, CODE(ATTRIBUTION)));
    OK(s_bail(t, N1));
    OK(s_decide(t, N2, CODE(NON_ATTRIBUTION)));
    assert_int_equal(s_state(t, LIFECYCLE_VACANCY, NULL), LIFECYCLE_V_BAIL_SIGNE);
    Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    l.vacancy_id = VAC;
    l.commune_insee = "74281";
    REFUSED(s_send(t, T(LOGEMENT_LIBERE), t->bailleur, R, &l),
            "LogementLibere for " VAC ", which is let (lease signed): a new letting takes a new "
            "vacancy id");
    s_close(t);

    /* Past `libere`, the dwelling's facts stay: the same again is fine. */
    s_open(t);
    s_round(t, 1, 0);
    OK(s_logement(t, VAC));
    REFUSED(s_send(t, T(LOGEMENT_LIBERE), t->bailleur, R, &l),
            "LogementLibere for " VAC ", which is oriented: the dwelling's facts (commune, RPLS, "
            "typologie, mode de gestion...) are fixed once it is past freed; a new letting takes "
            "a new vacancy id");
    s_close(t);
}

static void test_events_go_to_the_vacancy_the_payload_names(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    s_round(t, 1, 0);
    Fluxbus__V1__OrientationAck a = FLUXBUS__V1__ORIENTATION_ACK__INIT;
    a.vacancy_id = VAC;
    const char *to[1] = {B};
    ledger_msg_t m = {.sender = R,
                      .type = T(ORIENTATION_ACK),
                      .correlation_id = "vac-2",
                      .recipients = to,
                      .n_recipients = 1,
                      .at_ms = ++t->now,
                      .payload = &a.base};
    char *before = s_dump(t);
    assert_int_equal(ledger_check(t->ledger, &m, t->detail, sizeof t->detail),
                     FB_ERR_INVALID_TRANSITION);
    assert_string_equal(t->detail, "OrientationAck names vacancy " VAC
                                   " in its payload but vac-2 as its correlation_id: they must be "
                                   "the same");
    char *after = s_dump(t);
    assert_string_equal(before, after);
    free(before);
    free(after);
    /* No correlation_id: the event is the payload's vacancy's. */
    m.correlation_id = "";
    assert_int_equal(ledger_check(t->ledger, &m, t->detail, sizeof t->detail), FB_OK);
    m.seq = ++t->seq;
    assert_int_equal(ledger_record(t->ledger, &m), FB_OK);
    assert_int_equal(
        s_int(t, "SELECT count(*) FROM ledger_events WHERE type = 3 AND vacancy_id = '" VAC "'"),
        1);
    s_close(t);
}

static void test_a_deadline_expires_once_passed_and_said_by_the_bailleur(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    s_round(t, 1, 0);
    OK(s_ack(t, R));
    Fluxbus__V1__DeadlineExpired e = FLUXBUS__V1__DEADLINE_EXPIRED__INIT;
    e.vacancy_id = VAC;
    REFUSED(s_send(t, T(DEADLINE_EXPIRED), t->bailleur, R, &e),
            "DeadlineExpired for " R " on " VAC " before its deadline: the orientation (round 1) "
            "runs until 2026-01-02T00:00:00Z, it is 2026-01-01T00:00:00Z");
    t->now = S_DEADLINE;
    REFUSED(s_send(t, T(DEADLINE_EXPIRED), B2, R, &e),
            "DeadlineExpired by " B2 " on " VAC ", a vacancy of " B
            ": only its bailleur or the broker says a deadline passed");
    REFUSED(s_send(t, T(DEADLINE_EXPIRED), R2, R, &e),
            "DeadlineExpired by " R2 " on " VAC ", a vacancy of " B
            ": only its bailleur or the broker says a deadline passed");
    OK(s_send(t, T(DEADLINE_EXPIRED), t->bailleur, R, &e));
    assert_int_equal(s_state(t, LIFECYCLE_ORIENTATION, R), LIFECYCLE_O_EXPIRE);
    s_close(t);
}

static void test_orientation_rounds_and_the_bailleur_of_the_vacancy(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    /* An Orientation may open a vacancy the ledger has never seen. */
    OK(s_orient(t, VAC, R, 1, 1));
    assert_int_equal(s_state(t, LIFECYCLE_VACANCY, NULL), LIFECYCLE_V_ORIENTE);
    OK(s_orient(t, VAC, R, 1, 1)); /* repeated: the same round, unchanged */
    REFUSED(s_orient(t, VAC, R, 1, 3),
            "Orientation of " VAC " to " R " as round 1, which was sent already with other terms "
            "(convention, contingent, deadline or candidates): a new round is 2");
    REFUSED(s_orient(t, VAC, R2, 1, 1),
            "Orientation of " VAC " to " R2 " while its orientation to " R
            " (round 1) is still oriented");
    REFUSED(s_remise(t, R2),
            "RemiseADisposition by " R2 " on " VAC ", which is oriented to " R " only");
    REFUSED(s_designate_full(t, VAC, B, NULL, N1, 1, 1, 0),
            "Designation by " B " for itself on " VAC ", which is oriented to " R
            " (round 1, oriented)");
    /* Another bailleur's messages about it. */
    t->bailleur = B2;
    REFUSED(s_orient(t, VAC, R2, 1, 1), "Orientation by " B2 " on " VAC ", a vacancy of " B);
    REFUSED(s_logement(t, VAC), "LogementLibere by " B2 " on " VAC ", a vacancy of " B);
    REFUSED(s_seance(t, VAC, false), "CaleolSeance by " B2 " on " VAC ", a vacancy of " B);
    t->bailleur = B;
    OK(s_decline(t, R));
    REFUSED(s_ack(t, R), "OrientationAck by " R " on " VAC ", whose orientation is declined "
                         "already");
    OK(s_orient(t, VAC, R2, 1, 1)); /* declined: to another */
    /* Unknown vacancies: a session, an outcome, a visit. */
    REFUSED(s_seance(t, "vac-9", false), "CaleolSeance lists vac-9, which the ledger has never "
                                         "seen (no LogementLibere nor Orientation)");
    REFUSED(s_issue(t, "vac-9"), "LogementIssue for vac-9, which the ledger has never seen (no "
                                 "LogementLibere nor Orientation)");
    Fluxbus__V1__Orientation o = FLUXBUS__V1__ORIENTATION__INIT;
    o.vacancy_id = VAC;
    REFUSED(s_send(t, T(ORIENTATION), B, R, &o), "Orientation of " VAC " names no réservataire");
    Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    REFUSED(s_send(t, T(LOGEMENT_LIBERE), B, R, &l), "LogementLibere without a vacancy_id");
    s_close(t);
}

static void test_types_outside_the_lifecycle_are_not_judged(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    Fluxbus__V1__Convention c = s_convention("conv-1", 1, R);
    OK(s_send(t, T(CONVENTION), B, R, &c));
    Fluxbus__V1__CaleolSeance s = FLUXBUS__V1__CALEOL_SEANCE__INIT;
    s.seance_id = "seance-empty"; /* no vacancy on its agenda yet */
    OK(s_send(t, T(CALEOL_SEANCE), B, R, &s));
    s_close(t);
}

/* The life of one vacancy, as in the demo week: three candidates ranked,
 * rank 1 refuses after its attribution, rank 2 signs, SNE radiates. */
static void test_a_whole_life_is_accepted(void **state)
{
    (void)state;
    s_t tt, *t = &tt;
    s_open(t);
    s_round(t, 3, 0);
    OK(s_ack(t, R));
    OK(s_designate(t, N1, 1, 3));
    OK(s_designate(t, N2, 2, 3));
    OK(s_designate(t, N3, 3, 3));
    OK(s_visite(t, N1));
    OK(s_seance(t, VAC, false));
    assert_int_equal(s_state(t, LIFECYCLE_VACANCY, NULL), LIFECYCLE_V_EN_CALEOL);
    OK(s_decide_full(t, N1, CODE(ATTRIBUTION_PAR_RANG), 0, 1, R));
    OK(s_decide_full(t, N2, CODE(ATTRIBUTION_PAR_RANG), 0, 2, R));
    OK(s_decide(t, N3, CODE(NON_ATTRIBUTION)));
    OK(s_answer(t, N1, ANSWER(REFUSEE)));
    OK(s_answer(t, N2, ANSWER(ACCEPTEE)));
    OK(s_non_suite(t, N1));
    assert_int_equal(s_state(t, LIFECYCLE_VACANCY, NULL), LIFECYCLE_V_ACCEPTE);
    OK(s_bail(t, N2));
    OK(s_radiation(t, N2, SNE(RADIEE)));
    assert_int_equal(s_state(t, LIFECYCLE_VACANCY, NULL), LIFECYCLE_V_RADIE);
    assert_int_equal(s_state(t, LIFECYCLE_ORIENTATION, R), LIFECYCLE_O_DESIGNE);
    assert_int_equal(s_state(t, LIFECYCLE_CANDIDATE, N1), LIFECYCLE_C_NON_SUIVI);
    assert_int_equal(s_state(t, LIFECYCLE_CANDIDATE, N2), LIFECYCLE_C_RADIE);
    assert_int_equal(s_state(t, LIFECYCLE_CANDIDATE, N3), LIFECYCLE_C_NON_ATTRIBUE);
    s_close(t);
}

/* ---- the table itself ------------------------------------------------------------------ */

static void test_each_state_of_each_event_is_in_exactly_one_row(void **state)
{
    (void)state;
    size_t n = 0;
    const lifecycle_row_t *rows = lifecycle_rows(&n);
    for (int e = 0; e < LIFECYCLE_EV_COUNT; e++) {
        lifecycle_scope_t scope = lifecycle_event_scope((lifecycle_event_t)e);
        for (int s = 0; s < lifecycle_state_count(scope); s++) {
            int found = 0;
            for (size_t i = 0; i < n; i++)
                found += rows[i].event == (lifecycle_event_t)e && (rows[i].from >> s & 1u);
            if (found != 1)
                fail_msg("%s in %s: %d rows", lifecycle_event_name((lifecycle_event_t)e),
                         lifecycle_state_name(scope, s), found);
        }
    }
    for (size_t i = 0; i < n; i++) {
        lifecycle_scope_t scope = lifecycle_event_scope(rows[i].event);
        assert_true(rows[i].from >> lifecycle_state_count(scope) == 0);
        assert_true((rows[i].action == LIFECYCLE_REFUSE) == (rows[i].why != NULL));
        assert_true(rows[i].next == LIFECYCLE_SAME ||
                    (rows[i].next >= 0 && rows[i].next < lifecycle_state_count(scope)));
        assert_string_not_equal(lifecycle_action_name(rows[i].action), "?");
    }
}

/* docs/LEDGER.md, between its lifecycle-table markers, is the table the
 * code walks. When not, the table to paste is in lifecycle-table.md. */
static void test_the_documented_table_is_the_code_table(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s", __FILE__);
    char *cut = strstr(path, "tests/unit/ledger/");
    assert_non_null(cut);
    strcpy(cut, "docs/LEDGER.md");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char doc[1 << 18];
    size_t len = fread(doc, 1, sizeof doc - 1, f);
    doc[len] = '\0';
    fclose(f);
    static const char begin[] = "<!-- lifecycle-table: generated by lifecycle_markdown() -->\n";
    static const char end[] = "<!-- /lifecycle-table -->";
    char *from = strstr(doc, begin), *to = from ? strstr(from, end) : NULL;
    assert_non_null(from);
    assert_non_null(to);
    from += strlen(begin);
    *to = '\0';

    char *table = NULL;
    size_t tlen = 0;
    FILE *out = open_memstream(&table, &tlen);
    lifecycle_markdown(out);
    fclose(out);
    if (strcmp(from, table) != 0) {
        FILE *w = fopen("lifecycle-table.md", "w");
        if (w) {
            fputs(table, w);
            fclose(w);
        }
        fail_msg("docs/LEDGER.md's table differs from the code's: see lifecycle-table.md");
    }
    free(table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_whole_life_is_accepted),
        cmocka_unit_test(test_every_row_from_each_of_its_states),
        cmocka_unit_test(test_designation_by_a_reservataire_the_vacancy_is_not_oriented_to),
        cmocka_unit_test(test_a_designation_claims_no_other_designator),
        cmocka_unit_test(test_decision_for_a_candidate_no_designation_named),
        cmocka_unit_test(test_lease_before_any_decision),
        cmocka_unit_test(test_fewer_candidates_than_the_orientation_expects_need_a_reason),
        cmocka_unit_test(test_a_round_short_of_its_designations_does_not_go_to_the_caleol),
        cmocka_unit_test(test_a_reason_covers_the_candidates_announced),
        cmocka_unit_test(test_past_the_deadline_the_caleol_takes_what_came),
        cmocka_unit_test(test_the_bailleurs_own_round_is_complete_before_the_caleol),
        cmocka_unit_test(test_the_convention_sets_the_candidates_an_orientation_asks),
        cmocka_unit_test(test_designation_and_remise_after_the_orientation_ended),
        cmocka_unit_test(test_a_second_lease_and_a_radiation_before_the_lease),
        cmocka_unit_test(test_ranks_answer_in_their_order),
        cmocka_unit_test(test_suspensive_condition_then_lifted_or_lapsed),
        cmocka_unit_test(test_a_settled_condition_keeps_the_original_decision),
        cmocka_unit_test(test_the_same_orientation_again_changes_nothing),
        cmocka_unit_test(test_a_let_vacancy_stays_let_and_keeps_its_dwelling),
        cmocka_unit_test(test_events_go_to_the_vacancy_the_payload_names),
        cmocka_unit_test(test_a_deadline_expires_once_passed_and_said_by_the_bailleur),
        cmocka_unit_test(test_orientation_rounds_and_the_bailleur_of_the_vacancy),
        cmocka_unit_test(test_types_outside_the_lifecycle_are_not_judged),
        cmocka_unit_test(test_each_state_of_each_event_is_in_exactly_one_row),
        cmocka_unit_test(test_the_documented_table_is_the_code_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
