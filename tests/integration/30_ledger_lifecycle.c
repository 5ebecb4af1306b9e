/* 30_ledger_lifecycle - the flux ledger's lifecycle in the real broker. A
 * whole valid life of a vacancy is accepted: freed, oriented, acknowledged,
 * three ranked candidates, a visit, the CALEOL session and its decisions,
 * rank 1 refusing and its attribution not followed by a lease, rank 2
 * accepting and signing, SNE radiating; the ledger's tables say so. Then
 * each message that does not fit (the examples and the others
 * docs/LEDGER.md lists, a CALEOL before the round announced is complete)
 * gets a broker-signed Nack with INVALID_TRANSITION and its detail, and
 * nothing is stored: the message count is the same, `fluxbus audit verify`
 * still passes, and the ledger's tables are unchanged. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builders.h"
#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "fluxbus/v1/sne.pb-c.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define CODE(x) FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_##x
#define S_RESA2 "reservataire:prefet-74"
#define S_SNE "sne:national"
#define N1 "074011926000001"
#define N2 "074011926000002"
#define N3 "074011926000003"
#define S_OUT 8192
#define S_CONV_AL "conv-2026-74-al"

typedef struct {
    fbt_pair_t p;
    fb_keys_t resa2, sne;
    fb_client_t *cr2, *cs;
    char out[S_OUT];
} s_world_t;

/* The ledger's tables, as text (fbt_sql_text). */
#define S_LEDGER_SQL                                                                               \
    "SELECT * FROM ledger_vacancies ORDER BY 1;"                                                   \
    " SELECT * FROM ledger_orientations ORDER BY 1, 2, 3;"                                         \
    " SELECT * FROM ledger_candidates ORDER BY 1, 2;"                                              \
    " SELECT count(*) FROM ledger_events"

/* The message is refused with INVALID_TRANSITION and exactly `detail` (or,
 * ending in "...", a detail starting with it), in a Nack the broker signed,
 * and nothing is stored. */
static void s_refused(s_world_t *w, fb_client_t *c, int type, const char *to, const char *vacancy,
                      const ProtobufCMessage *payload, const char *detail)
{
    fbt_pair_refused(&w->p, S_LEDGER_SQL, c, type, to, vacancy, payload, FB_ERR_INVALID_TRANSITION,
                     detail);
}

/* ---- the messages ---- */

static void s_logement(s_world_t *w, const char *vacancy)
{
    Fluxbus__V1__LogementLibere l = builders_libere(vacancy, "74010");
    l.rpls_id = "0740123456789";
    fbt_pair_ok(&w->p, w->p.cb, T(LOGEMENT_LIBERE), FBT_RESA, vacancy, &l.base);
}

static void s_orient(s_world_t *w, const char *vacancy, unsigned expected)
{
    Fluxbus__V1__Orientation o = life_msgs_orientation(vacancy, S_CONV_AL, FBT_RESA, 1, expected,
                                                       fb_now_ms() + 10 * BUILDERS_DAY_MS);
    fbt_pair_ok(&w->p, w->p.cb, T(ORIENTATION), FBT_RESA, vacancy, &o.base);
}

static Fluxbus__V1__Designation s_designation(const char *vacancy, const char *nur, unsigned rank,
                                              unsigned count)
{
    return builders_designation(vacancy, S_CONV_AL, nur, rank, count);
}

static Fluxbus__V1__CaleolDecision s_decision(const char *vacancy, const char *nur, int code,
                                              unsigned rank)
{
    return builders_decision("caleol-annecy-2026-03", vacancy, nur, rank, FBT_RESA, code);
}

static Fluxbus__V1__SneRadiationAck s_radiation(const char *vacancy, const char *nur)
{
    Fluxbus__V1__SneRadiationAck a = FLUXBUS__V1__SNE_RADIATION_ACK__INIT;
    a.vacancy_id = (char *)vacancy;
    a.nur = (char *)nur;
    a.status = FLUXBUS__V1__SNE_RADIATION_STATUS__SNE_RADIATION_STATUS_RADIEE;
    return a;
}

/* ---- the world ---- */

static void s_open(s_world_t *w)
{
    memset(w, 0, sizeof *w);
    fbt_setup(&w->p.b);
    fbt_actor(&w->p.b, FBT_BAILLEUR, "bailleur", NULL, &w->p.bailleur);
    fbt_actor(&w->p.b, FBT_RESA, "reservataire", NULL, &w->p.resa);
    fbt_actor(&w->p.b, S_RESA2, "reservataire", NULL, &w->resa2);
    fbt_actor(&w->p.b, S_SNE, "sne", NULL, &w->sne);
    fbt_start(&w->p.b);
    w->p.cb = fbt_client(&w->p.b, &w->p.bailleur);
    w->p.cr = fbt_client(&w->p.b, &w->p.resa);
    w->cr2 = fbt_client(&w->p.b, &w->resa2);
    w->cs = fbt_client(&w->p.b, &w->sne);
    /* The convention the orientations are made under. */
    fbt_convention(w->p.cb, S_CONV_AL, FBT_RESA, w->p.cr);
}

static void s_close(s_world_t *w)
{
    fb_client_destroy(&w->cr2);
    fb_client_destroy(&w->cs);
    fbt_pair_close(&w->p);
}

/* `fluxbus audit verify` passes and counts the accepted messages. */
static void s_audit_ok(s_world_t *w)
{
    fbt_audit_ok(&w->p.b, w->p.last_seq);
}

/* ---- tests ---- */

/* The demo week's life of vac-1, then what no longer fits it. */
static void test_a_whole_life_is_accepted_and_what_follows_it_refused(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    const char *vac = "vac-2026-0101";
    s_logement(&w, vac);
    s_orient(&w, vac, 3);
    Fluxbus__V1__OrientationAck ack = FLUXBUS__V1__ORIENTATION_ACK__INIT;
    ack.vacancy_id = (char *)vac;
    fbt_pair_ok(&w.p, w.p.cr, T(ORIENTATION_ACK), FBT_BAILLEUR, vac, &ack.base);
    const char *nurs[3] = {N1, N2, N3};
    for (unsigned i = 0; i < 3; i++) {
        Fluxbus__V1__Designation d = s_designation(vac, nurs[i], i + 1, 3);
        fbt_pair_ok(&w.p, w.p.cr, T(DESIGNATION), FBT_BAILLEUR, vac, &d.base);
    }
    Fluxbus__V1__Visite v = FLUXBUS__V1__VISITE__INIT;
    v.vacancy_id = (char *)vac;
    v.nur = N1;
    v.outcome = FLUXBUS__V1__VISITE_OUTCOME__VISITE_OUTCOME_DONE_INTERESTED;
    fbt_pair_ok(&w.p, w.p.cb, T(VISITE), FBT_RESA, vac, &v.base);
    Fluxbus__V1__CaleolSeance s = FLUXBUS__V1__CALEOL_SEANCE__INIT;
    char *agenda[1] = {(char *)vac};
    s.seance_id = "caleol-annecy-2026-03";
    s.revision = 1;
    s.status = FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_SCHEDULED;
    s.vacancy_ids = agenda;
    s.n_vacancy_ids = 1;
    fbt_pair_ok(&w.p, w.p.cb, T(CALEOL_SEANCE), FBT_RESA, vac, &s.base);
    Fluxbus__V1__CaleolDecision d1 = s_decision(vac, N1, CODE(ATTRIBUTION_PAR_RANG), 1);
    Fluxbus__V1__CaleolDecision d2 = s_decision(vac, N2, CODE(ATTRIBUTION_PAR_RANG), 2);
    Fluxbus__V1__CaleolDecision d3 = s_decision(vac, N3, CODE(NON_ATTRIBUTION), 3);
    fbt_pair_ok(&w.p, w.p.cb, T(CALEOL_DECISION), FBT_RESA, vac, &d1.base);
    fbt_pair_ok(&w.p, w.p.cb, T(CALEOL_DECISION), FBT_RESA, vac, &d2.base);
    fbt_pair_ok(&w.p, w.p.cb, T(CALEOL_DECISION), FBT_RESA, vac, &d3.base);
    /* Rank 2 cannot accept before rank 1 has answered. */
    Fluxbus__V1__PropositionReponse yes2 = life_msgs_answer(vac, N2, false, 0);
    s_refused(&w, w.p.cb, T(PROPOSITION_REPONSE), FBT_RESA, vac, &yes2.base,
              "PropositionReponse ACCEPTEE for NUR " N2 " (rank 2) on vac-2026-0101 while rank 1 "
              "(NUR " N1 ") has neither refused nor ended");
    Fluxbus__V1__PropositionReponse no1 = life_msgs_answer(vac, N1, true, 0);
    fbt_pair_ok(&w.p, w.p.cb, T(PROPOSITION_REPONSE), FBT_RESA, vac, &no1.base);
    fbt_pair_ok(&w.p, w.p.cb, T(PROPOSITION_REPONSE), FBT_RESA, vac, &yes2.base);
    Fluxbus__V1__AttributionNonSuivieDeBail ns = FLUXBUS__V1__ATTRIBUTION_NON_SUIVIE_DE_BAIL__INIT;
    ns.vacancy_id = (char *)vac;
    ns.nur = N1;
    ns.reason = FLUXBUS__V1__NON_SUITE_MOTIF__NON_SUITE_MOTIF_REFUS_MENAGE;
    fbt_pair_ok(&w.p, w.p.cb, T(ATTRIBUTION_NON_SUIVIE_DE_BAIL), S_SNE, vac, &ns.base);
    /* A radiation before the lease. */
    Fluxbus__V1__SneRadiationAck rad = s_radiation(vac, N2);
    s_refused(&w, w.cs, T(SNE_RADIATION_ACK), FBT_BAILLEUR, vac, &rad.base,
              "SneRadiationAck for NUR " N2 " on vac-2026-0101 before its lease (NUR " N2
              " is accepted by the household)");
    Fluxbus__V1__BailSigne bail = builders_lease(vac, N2, FBT_RESA);
    fbt_pair_ok(&w.p, w.p.cb, T(BAIL_SIGNE), S_SNE, vac, &bail.base);
    fbt_pair_ok(&w.p, w.cs, T(SNE_RADIATION_ACK), FBT_BAILLEUR, vac, &rad.base);

    assert_int_equal(
        fbt_sh(w.out, sizeof w.out,
               "sqlite3 -cmd '.timeout 10000' '%s' \"SELECT state FROM ledger_vacancies;"
               " SELECT status, candidates FROM ledger_orientations;"
               " SELECT nur, decision, answer, non_suite IS NOT NULL,"
               " lease_ms IS NOT NULL, radiated_ms IS NOT NULL"
               " FROM ledger_candidates ORDER BY nur\"",
               w.p.b.store),
        0);
    assert_string_equal(w.out, "radie\n"
                               "designe|3\n" N1 "|2|2|1|0|0\n" N2 "|2|1|0|1|1\n" N3 "|4||0|0|0\n");

    /* What no longer fits: a second lease, another household's lease, a
     * new orientation, the dwelling freed again under the same id. */
    s_refused(&w, w.p.cb, T(BAIL_SIGNE), S_SNE, vac, &bail.base,
              "a second BailSigne for NUR " N2
              " on vac-2026-0101, which is let, its demande radiée in SNE already");
    Fluxbus__V1__BailSigne bail3 = builders_lease(vac, N3, FBT_RESA);
    s_refused(&w, w.p.cb, T(BAIL_SIGNE), S_SNE, vac, &bail3.base,
              "BailSigne for NUR " N3 " on vac-2026-0101, who is not attributed");
    Fluxbus__V1__Orientation again = FLUXBUS__V1__ORIENTATION__INIT;
    again.vacancy_id = (char *)vac;
    again.convention_id = S_CONV_AL;
    again.reservataire_actor_id = FBT_RESA;
    again.round = 2;
    s_refused(&w, w.p.cb, T(ORIENTATION), FBT_RESA, vac, &again.base,
              "Orientation of vac-2026-0101 to " FBT_RESA
              ", which is let, its demande radiée in SNE");
    s_audit_ok(&w);
    s_close(&w);
}

/* The examples, each on a vacancy of its own. */
static void test_messages_that_do_not_fit_are_refused_and_change_nothing(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);

    /* A designation by a réservataire the vacancy is not oriented to, and a
     * remise by it. */
    s_logement(&w, "vac-a");
    s_orient(&w, "vac-a", 1);
    Fluxbus__V1__Designation d = s_designation("vac-a", N1, 1, 1);
    s_refused(&w, w.cr2, T(DESIGNATION), FBT_BAILLEUR, "vac-a", &d.base,
              "Designation by " S_RESA2 " on vac-a, which is oriented to " FBT_RESA " only");
    Fluxbus__V1__RemiseADisposition r = FLUXBUS__V1__REMISE_ADISPOSITION__INIT;
    r.vacancy_id = "vac-a";
    r.reason = FLUXBUS__V1__REMISE_REASON__REMISE_REASON_NO_CANDIDATE;
    s_refused(&w, w.cr2, T(REMISE_A_DISPOSITION), FBT_BAILLEUR, "vac-a", &r.base,
              "RemiseADisposition by " S_RESA2 " on vac-a, which is oriented to " FBT_RESA " only");

    /* A decision for a candidate no designation named; a lease before any
     * decision. */
    fbt_pair_ok(&w.p, w.p.cr, T(DESIGNATION), FBT_BAILLEUR, "vac-a", &d.base);
    Fluxbus__V1__CaleolDecision dec = s_decision("vac-a", N2, CODE(ATTRIBUTION), 1);
    s_refused(&w, w.p.cb, T(CALEOL_DECISION), FBT_RESA, "vac-a", &dec.base,
              "CaleolDecision for NUR " N2 ", which no designation named on vac-a");
    Fluxbus__V1__BailSigne bail = builders_lease("vac-a", N1, FBT_RESA);
    s_refused(&w, w.p.cb, T(BAIL_SIGNE), FBT_RESA, "vac-a", &bail.base,
              "BailSigne on vac-a before any attribution decision (NUR " N1 " is designated)");

    /* Fewer candidates than the orientation expects, without a reason;
     * with one, accepted. */
    s_logement(&w, "vac-b");
    s_orient(&w, "vac-b", 3);
    Fluxbus__V1__Designation few = s_designation("vac-b", N1, 1, 2);
    s_refused(&w, w.p.cr, T(DESIGNATION), FBT_BAILLEUR, "vac-b", &few.base,
              "designation round of 2 candidates on vac-b where the orientation expects 3, "
              "without a reason (fewer_candidates_reason)");
    few.fewer_candidates_reason =
        FLUXBUS__V1__FEWER_CANDIDATES_REASON__FEWER_CANDIDATES_REASON_INSUFFISANCE_DEMANDES;
    fbt_pair_ok(&w.p, w.p.cr, T(DESIGNATION), FBT_BAILLEUR, "vac-b", &few.base);

    /* Three announced, two sent: neither the CALEOL session nor a decision
     * takes the vacancy before the third (or its deadline). */
    s_logement(&w, "vac-e");
    s_orient(&w, "vac-e", 3);
    for (unsigned i = 0; i < 2; i++) {
        Fluxbus__V1__Designation two = s_designation("vac-e", i ? N2 : N1, i + 1, 3);
        fbt_pair_ok(&w.p, w.p.cr, T(DESIGNATION), FBT_BAILLEUR, "vac-e", &two.base);
    }
    Fluxbus__V1__CaleolSeance seance = FLUXBUS__V1__CALEOL_SEANCE__INIT;
    char *agenda[1] = {"vac-e"};
    seance.seance_id = "caleol-annecy-2026-04";
    seance.revision = 1;
    seance.status = FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_SCHEDULED;
    seance.vacancy_ids = agenda;
    seance.n_vacancy_ids = 1;
    s_refused(&w, w.p.cb, T(CALEOL_SEANCE), FBT_RESA, "vac-e", &seance.base,
              "CaleolSeance lists vac-e: 2 candidates of 3 received for vac-e round 1 (" FBT_RESA
              "), no reason given (fewer_candidates_reason) and its deadline has not passed");
    Fluxbus__V1__CaleolDecision early = s_decision("vac-e", N1, CODE(ATTRIBUTION), 1);
    s_refused(&w, w.p.cb, T(CALEOL_DECISION), FBT_RESA, "vac-e", &early.base,
              "CaleolDecision ATTRIBUTION for NUR " N1 " on vac-e: 2 candidates of 3 received for "
              "vac-e round 1 (" FBT_RESA "), no reason given (fewer_candidates_reason) and its "
              "deadline has not passed");
    Fluxbus__V1__Designation third = s_designation("vac-e", N3, 3, 3);
    fbt_pair_ok(&w.p, w.p.cr, T(DESIGNATION), FBT_BAILLEUR, "vac-e", &third.base);
    fbt_pair_ok(&w.p, w.p.cb, T(CALEOL_SEANCE), FBT_RESA, "vac-e", &seance.base);
    early.decided_ms = fb_now_ms();
    fbt_pair_ok(&w.p, w.p.cb, T(CALEOL_DECISION), FBT_RESA, "vac-e", &early.base);

    /* After the remise à disposition, no designation; the deadline of an
     * orientation expires once. */
    s_logement(&w, "vac-c");
    s_orient(&w, "vac-c", 1);
    r.vacancy_id = "vac-c";
    fbt_pair_ok(&w.p, w.p.cr, T(REMISE_A_DISPOSITION), FBT_BAILLEUR, "vac-c", &r.base);
    Fluxbus__V1__Designation late = s_designation("vac-c", N1, 1, 1);
    s_refused(&w, w.p.cr, T(DESIGNATION), FBT_BAILLEUR, "vac-c", &late.base,
              "Designation by " FBT_RESA " on vac-c after the remise à disposition by " FBT_RESA);
    s_orient(&w, "vac-d", 1); /* an Orientation may open a vacancy */
    /* Its deadline is ten days away: no DeadlineExpired yet (the broker
     * says it once passed, test 32; expiring twice: the unit tests). */
    Fluxbus__V1__DeadlineExpired e = FLUXBUS__V1__DEADLINE_EXPIRED__INIT;
    e.vacancy_id = "vac-d";
    s_refused(&w, w.p.cb, T(DEADLINE_EXPIRED), FBT_RESA, "vac-d", &e.base,
              "DeadlineExpired for " FBT_RESA " on vac-d before its deadline: ...");

    /* Vacancies the ledger has never seen. */
    Fluxbus__V1__Designation unseen = s_designation("vac-z", N1, 1, 1);
    s_refused(&w, w.p.cr, T(DESIGNATION), FBT_BAILLEUR, "vac-z", &unseen.base,
              "Designation by " FBT_RESA " on vac-z, which the ledger has never seen (no "
              "LogementLibere nor Orientation)");
    Fluxbus__V1__BailSigne unseen_bail = builders_lease("vac-z", N1, FBT_RESA);
    s_refused(&w, w.p.cb, T(BAIL_SIGNE), FBT_RESA, "vac-z", &unseen_bail.base,
              "BailSigne for NUR " N1 ", which no designation named on vac-z");

    s_audit_ok(&w);
    /* After a restart, the same answers: the ledger is in the store. */
    fb_client_destroy(&w.cr2);
    fb_client_destroy(&w.cs);
    fbt_pair_restart(&w.p);
    w.cr2 = fbt_client(&w.p.b, &w.resa2);
    w.cs = fbt_client(&w.p.b, &w.sne);
    s_refused(&w, w.cr2, T(DESIGNATION), FBT_BAILLEUR, "vac-a", &d.base,
              "Designation by " S_RESA2 " on vac-a, which is oriented to " FBT_RESA " only");
    s_audit_ok(&w);
    s_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_whole_life_is_accepted_and_what_follows_it_refused),
        cmocka_unit_test(test_messages_that_do_not_fit_are_refused_and_change_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
