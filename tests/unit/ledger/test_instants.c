/* test_instants.c - the dates a message states (ledger/instants.c): a
 * Visite's visit_ms, a CaleolDecision's decided_ms and a
 * PropositionReponse's answered_ms are the ledger's instants when they lie
 * within their bounds - not after the message's acceptance plus the clock
 * allowance, not before the dated step they follow (the CALEOL session, the
 * decision) - and are refused otherwise with INVALID_TRANSITION and a detail
 * naming the date and the bound. An export days after the facts keeps its
 * dates: the acceptance of an earlier step is no lower bound. */
#include "ledger_script.h"

#include "instants.h"

#define VAC "vac-1"
#define NUR "074011900000001"
#define CONV "C-AL-2026"
#define MIN (60 * 1000LL)
#define HOUR (60 * MIN)
#define DECISION(x) FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_##x
#define CONDITION(x) FLUXBUS__V1__CONDITION_STATE__CONDITION_STATE_##x
#define OUTCOME(x) FLUXBUS__V1__VISITE_OUTCOME__VISITE_OUTCOME_##x

/* 10:00 Paris (09:00 UTC) on a day of March 2026. */
static int64_t s_mar(int day)
{
    return script_at(2026, 3, day);
}

static int s_setup(void **state)
{
    script_t *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    script_open(s);
    *state = s;
    return 0;
}

static int s_teardown(void **state)
{
    script_close(*state);
    free(*state);
    return 0;
}

/* A convention, VAC freed and oriented on 2 March, NUR designated on 3
 * March, on the agenda of session S1 which starts on 10 March at 14:00
 * (13:00 UTC). */
static void s_designated(script_t *s)
{
    Fluxbus__V1__Convention c = script_convention_of(
        CONV, SC_AL, 2026, FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_PASSAGE_CALEOL);
    script_convention(s, &c, s_mar(1));
    script_libere(s, VAC, "74010", 0, 0, s_mar(2));
    script_orient(s, VAC, SC_AL, CONV, s_mar(2));
    script_designate(s, VAC, NUR, SC_AL, s_mar(3));
    char *vacancies[] = {VAC};
    Fluxbus__V1__CaleolSeance seance = FLUXBUS__V1__CALEOL_SEANCE__INIT;
    seance.seance_id = "S1";
    seance.revision = 1;
    seance.status = FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_SCHEDULED;
    seance.start_ms = s_mar(10) + 4 * HOUR;
    seance.end_ms = seance.start_ms + 2 * HOUR;
    seance.n_vacancy_ids = 1;
    seance.vacancy_ids = vacancies;
    script_record(s, SC_BAILLEUR, SC_TYPE(CALEOL_SEANCE), VAC, SC_AL, s_mar(4), &seance);
}

static Fluxbus__V1__CaleolDecision s_decision(int code, int condition, int64_t decided)
{
    Fluxbus__V1__CaleolDecision d = life_msgs_decision("S1", VAC, NUR, 1, SC_AL, code, decided);
    d.condition_state = condition;
    return d;
}

static Fluxbus__V1__Visite s_visit(int outcome, int64_t when)
{
    Fluxbus__V1__Visite v = FLUXBUS__V1__VISITE__INIT;
    v.vacancy_id = VAC;
    v.nur = NUR;
    v.visit_ms = when;
    v.outcome = outcome;
    return v;
}

static Fluxbus__V1__PropositionReponse s_answer(int64_t when)
{
    return life_msgs_answer(VAC, NUR, false, when);
}

/* The message of `type` accepted at `at` is refused with exactly `why`. */
static void s_refused(script_t *s, int type, int64_t at, const void *payload, const char *why)
{
    char detail[512] = "";
    assert_int_equal(
        script_check(s, SC_BAILLEUR, type, VAC, SC_AL, at, payload, detail, sizeof detail),
        FB_ERR_INVALID_TRANSITION);
    assert_string_equal(detail, why);
}

/* The candidate's `column` (-1 when NULL). */
static int64_t s_cell(script_t *s, const char *column)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT %s FROM ledger_candidates WHERE nur = '%s'", column, NUR);
    return script_int(s, sql);
}

/* The bailleur's export reaches the bus on 12 March: the visit of 5 March,
 * the decision of 10 March and the answer of 11 March keep their dates. */
static void test_a_late_export_keeps_its_business_dates(void **state)
{
    script_t *s = *state;
    s_designated(s);
    int64_t visited = s_mar(5), decided = s_mar(10) + 5 * HOUR, answered = s_mar(11);
    Fluxbus__V1__Visite v = s_visit(OUTCOME(DONE_INTERESTED), visited);
    script_record(s, SC_BAILLEUR, SC_TYPE(VISITE), VAC, SC_AL, s_mar(12), &v);
    Fluxbus__V1__CaleolDecision d = s_decision(DECISION(ATTRIBUTION), 0, decided);
    script_record(s, SC_BAILLEUR, SC_TYPE(CALEOL_DECISION), VAC, SC_AL, s_mar(12), &d);
    Fluxbus__V1__PropositionReponse p = s_answer(answered);
    script_record(s, SC_BAILLEUR, SC_TYPE(PROPOSITION_REPONSE), VAC, SC_AL, s_mar(12), &p);
    assert_int_equal(s_cell(s, "visit_ms"), visited);
    assert_int_equal(s_cell(s, "visited_ms"), visited);
    assert_int_equal(s_cell(s, "decided_ms"), decided);
    assert_int_equal(s_cell(s, "answered_ms"), answered);
    assert_int_equal(s_cell(s, "designated_ms"), s_mar(3)); /* no date of its own */
}

/* A fact is reported once it happened: not dated after its acceptance by
 * more than the allowance (300 s), but a planned visit may lie ahead. */
static void test_a_date_after_its_acceptance_is_refused(void **state)
{
    script_t *s = *state;
    s_designated(s);
    int64_t at = s_mar(12);
    Fluxbus__V1__Visite v = s_visit(OUTCOME(DONE_INTERESTED), s_mar(13));
    s_refused(s, SC_TYPE(VISITE), at, &v,
              "Visite for NUR " NUR " on " VAC " dated 2026-03-13T09:00:00Z (visit_ms), more than "
              "300 s after its acceptance (2026-03-12T09:00:00Z): a visit is reported once it "
              "took place (a planned one is SCHEDULED)");
    v.outcome = OUTCOME(SCHEDULED);
    script_record(s, SC_BAILLEUR, SC_TYPE(VISITE), VAC, SC_AL, at, &v);
    assert_int_equal(s_cell(s, "visited_ms"), -1); /* planned, not done */

    Fluxbus__V1__CaleolDecision d = s_decision(DECISION(ATTRIBUTION), 0, at + 5 * MIN + 1000);
    s_refused(s, SC_TYPE(CALEOL_DECISION), at, &d,
              "CaleolDecision for NUR " NUR " on " VAC " dated 2026-03-12T09:05:01Z (decided_ms), "
              "more than 300 s after its acceptance (2026-03-12T09:00:00Z): a decision is sent "
              "once the CALEOL took it");
    d.decided_ms = at + 5 * MIN; /* a sender's clock a little ahead */
    script_record(s, SC_BAILLEUR, SC_TYPE(CALEOL_DECISION), VAC, SC_AL, at, &d);

    Fluxbus__V1__PropositionReponse p = s_answer(s_mar(20));
    s_refused(s, SC_TYPE(PROPOSITION_REPONSE), s_mar(13), &p,
              "PropositionReponse for NUR " NUR " on " VAC " dated 2026-03-20T09:00:00Z "
              "(answered_ms), more than 300 s after its acceptance (2026-03-13T09:00:00Z): an "
              "answer is sent once given");
}

/* A decision is taken once its CALEOL session sat; a session the ledger
 * does not know bounds nothing. */
static void test_a_decision_before_its_session_is_refused(void **state)
{
    script_t *s = *state;
    s_designated(s);
    int64_t start = s_mar(10) + 4 * HOUR;
    Fluxbus__V1__CaleolDecision d = s_decision(DECISION(ATTRIBUTION), 0, start - 6 * MIN);
    s_refused(s, SC_TYPE(CALEOL_DECISION), s_mar(12), &d,
              "CaleolDecision for NUR " NUR " on " VAC " dated 2026-03-10T12:54:00Z (decided_ms), "
              "more than 300 s before the start of its CALEOL session (2026-03-10T13:00:00Z)");
    d.seance_id = "S-unknown";
    char detail[256] = "";
    assert_int_equal(script_check(s, SC_BAILLEUR, SC_TYPE(CALEOL_DECISION), VAC, SC_AL, s_mar(12),
                                  &d, detail, sizeof detail),
                     FB_OK);
    d.seance_id = "S1";
    d.decided_ms = start - 4 * MIN; /* within the allowance */
    script_record(s, SC_BAILLEUR, SC_TYPE(CALEOL_DECISION), VAC, SC_AL, s_mar(12), &d);
    assert_int_equal(s_cell(s, "decided_ms"), start - 4 * MIN);
}

/* A condition is settled, and a household answers, after the decision as
 * the ledger dates it (its decided_ms, else its acceptance). */
static void test_a_settlement_and_an_answer_follow_the_decision(void **state)
{
    script_t *s = *state;
    s_designated(s);
    int64_t decided = s_mar(10) + 5 * HOUR;
    Fluxbus__V1__CaleolDecision d =
        s_decision(DECISION(SOUS_CONDITION_SUSPENSIVE), CONDITION(PENDING), decided);
    script_record(s, SC_BAILLEUR, SC_TYPE(CALEOL_DECISION), VAC, SC_AL, s_mar(12), &d);
    Fluxbus__V1__CaleolDecision lifted =
        s_decision(DECISION(SOUS_CONDITION_SUSPENSIVE), CONDITION(LIFTED), decided - HOUR);
    s_refused(s, SC_TYPE(CALEOL_DECISION), s_mar(15), &lifted,
              "CaleolDecision for NUR " NUR " on " VAC " dated 2026-03-10T13:00:00Z (decided_ms), "
              "more than 300 s before the decision whose condition it settles "
              "(2026-03-10T14:00:00Z)");
    lifted.decided_ms = 0; /* dated at its acceptance */
    script_record(s, SC_BAILLEUR, SC_TYPE(CALEOL_DECISION), VAC, SC_AL, s_mar(15), &lifted);
    assert_int_equal(s_cell(s, "decided_ms"), decided);

    Fluxbus__V1__PropositionReponse p = s_answer(s_mar(9));
    s_refused(s, SC_TYPE(PROPOSITION_REPONSE), s_mar(16), &p,
              "PropositionReponse for NUR " NUR " on " VAC " dated 2026-03-09T09:00:00Z "
              "(answered_ms), more than 300 s before the CALEOL decision it answers "
              "(2026-03-10T14:00:00Z)");
    p.answered_ms = 0;
    script_record(s, SC_BAILLEUR, SC_TYPE(PROPOSITION_REPONSE), VAC, SC_AL, s_mar(16), &p);
    assert_int_equal(s_cell(s, "answered_ms"), s_mar(16));
}

/* The allowance is the broker's freshness window (ledger_set_clock_skew). */
static void test_the_allowance_is_the_brokers(void **state)
{
    script_t *s = *state;
    s_designated(s);
    ledger_set_clock_skew(s->ledger, 0);
    int64_t at = s_mar(12);
    Fluxbus__V1__CaleolDecision d = s_decision(DECISION(ATTRIBUTION), 0, at + 1000);
    s_refused(s, SC_TYPE(CALEOL_DECISION), at, &d,
              "CaleolDecision for NUR " NUR " on " VAC " dated 2026-03-12T09:00:01Z (decided_ms), "
              "more than 0 s after its acceptance (2026-03-12T09:00:00Z): a decision is sent once "
              "the CALEOL took it");
    d.decided_ms = at;
    script_record(s, SC_BAILLEUR, SC_TYPE(CALEOL_DECISION), VAC, SC_AL, at, &d);
}

/* A payload may say any int64: the bounds hold at both ends. */
static void test_dates_at_the_ends_of_int64_are_refused(void **state)
{
    script_t *s = *state;
    s_designated(s);
    char detail[512] = "";
    const int64_t far[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX};
    for (int i = 0; i < 3; i++) {
        Fluxbus__V1__CaleolDecision d = s_decision(DECISION(ATTRIBUTION), 0, far[i]);
        assert_int_equal(script_check(s, SC_BAILLEUR, SC_TYPE(CALEOL_DECISION), VAC, SC_AL,
                                      s_mar(12), &d, detail, sizeof detail),
                         FB_ERR_INVALID_TRANSITION);
        assert_non_null(strstr(detail, i < 2 ? "before the start of its CALEOL session"
                                             : "after its acceptance"));
    }
    /* A session said to start at the dawn of int64 bounds nothing. */
    char *vacancies[] = {VAC};
    Fluxbus__V1__CaleolSeance dawn = FLUXBUS__V1__CALEOL_SEANCE__INIT;
    dawn.seance_id = "S-dawn";
    dawn.revision = 1;
    dawn.start_ms = INT64_MIN + 1;
    dawn.n_vacancy_ids = 1;
    dawn.vacancy_ids = vacancies;
    script_record(s, SC_BAILLEUR, SC_TYPE(CALEOL_SEANCE), VAC, SC_AL, s_mar(5), &dawn);
    Fluxbus__V1__CaleolDecision d = s_decision(DECISION(ATTRIBUTION), 0, s_mar(11));
    d.seance_id = "S-dawn";
    script_record(s, SC_BAILLEUR, SC_TYPE(CALEOL_DECISION), VAC, SC_AL, s_mar(12), &d);
    for (int i = 0; i < 3; i++) {
        Fluxbus__V1__PropositionReponse p = s_answer(far[i]);
        assert_int_equal(script_check(s, SC_BAILLEUR, SC_TYPE(PROPOSITION_REPONSE), VAC, SC_AL,
                                      s_mar(12), &p, detail, sizeof detail),
                         FB_ERR_INVALID_TRANSITION);
        assert_non_null(strstr(detail, i < 2 ? "before the CALEOL decision it answers"
                                             : "after its acceptance"));
    }
    ledger_set_clock_skew(s->ledger, -1); /* none rather than a wrapped one */
    Fluxbus__V1__PropositionReponse p = s_answer(s_mar(12) + 1);
    assert_int_equal(script_check(s, SC_BAILLEUR, SC_TYPE(PROPOSITION_REPONSE), VAC, SC_AL,
                                  s_mar(12), &p, detail, sizeof detail),
                     FB_ERR_INVALID_TRANSITION);
}

static void test_instants_are_written_in_utc(void **state)
{
    (void)state;
    char out[21];
    instants_format(1796047800000, out);
    assert_string_equal(out, "2026-11-30T14:10:00Z");
    instants_format(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00Z");
    instants_format(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_late_export_keeps_its_business_dates, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_date_after_its_acceptance_is_refused, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_decision_before_its_session_is_refused, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_settlement_and_an_answer_follow_the_decision,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_the_allowance_is_the_brokers, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_dates_at_the_ends_of_int64_are_refused, s_setup,
                                        s_teardown),
        cmocka_unit_test(test_instants_are_written_in_utc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
