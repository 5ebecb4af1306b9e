/* test_resa_api.c - the réservataire adapter's request checks
 * (reservataire/validate.c): what a platform may send in a designation,
 * remise, decline or ack body, and that every refusal names the field.
 * validate.c is compiled into this test (it is part of the adapter binary,
 * not of a library). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "reservataire/validate.c"

#define NUR1 "074011925000001"
#define NUR2 "074011925000002"
#define NUR3 "074011925000003"

static json_t *s_json(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("bad test JSON: %s: %s", e.text, text);
    return j;
}

/* Runs validate_designations on text; expects a refusal naming `field`. */
static void s_expect_refused(const char *text, uint32_t expected, int status, const char *field)
{
    json_t *body = s_json(text);
    validate_candidates_t c;
    validate_error_t err;
    memset(&err, 0, sizeof err);
    assert_int_equal(validate_designations(body, expected, &c, &err), FB_ERR_PARSE);
    if (strcmp(err.field, field) != 0)
        fail_msg("field \"%s\" (%s), expected \"%s\"", err.field, err.reason, field);
    assert_int_equal(err.status, status);
    assert_true(err.reason[0] != '\0');
    assert_int_equal(c.n, 0);
    assert_null(c.items[0].designation);
    json_decref(body);
}

static void test_three_ranked_candidates_become_designations_in_rank_order(void **state)
{
    json_t *body = s_json(
        "{\"candidates\": ["
        " {\"rank\": 2, \"nur\": \"" NUR2 "\", \"quartile\": \"q2\", \"household_size\": 2},"
        " {\"rank\": 1, \"nur\": \"" NUR1 "\", \"dalo\": true, \"dalo_set_by\": "
        "  \"commission_mediation\", \"quartile\": \"Q1\", \"household_size\": 3,"
        "  \"household\": {\"members\": [{\"role\": \"DEMANDEUR\", \"given_name\": \"Ana\","
        "   \"family_name\": \"Lopes\", \"birth_date\": \"1990-02-28\"},"
        "   {\"role\": \"HOUSEHOLD_ROLE_ENFANT\", \"birth_date\": {\"year\": 2016, \"month\": 2,"
        "    \"day\": 29}}], \"priority_grounds\": [\"violences_conjugales\"],"
        "   \"revenu_fiscal_reference_cents\": 1187000}},"
        " {\"rank\": 3, \"nur\": \"" NUR3 "\", \"household_size\": 1}]}");
    validate_candidates_t c;
    validate_error_t err;
    assert_int_equal(validate_designations(body, 3, &c, &err), FB_OK);
    assert_int_equal(c.n, 3);
    const Fluxbus__V1__Designation *d1 = c.items[0].designation;
    assert_int_equal(d1->rank, 1);
    assert_string_equal(d1->nur, NUR1);
    assert_true(d1->dalo);
    assert_int_equal(d1->dalo_set_by,
                     FLUXBUS__V1__PRIORITY_SOURCE__PRIORITY_SOURCE_COMMISSION_MEDIATION);
    assert_int_equal(d1->quartile, FLUXBUS__V1__QUARTILE__QUARTILE_Q1);
    assert_int_equal(d1->household_size, 3);
    const Fluxbus__V1__HouseholdDetails *hh = c.items[0].household;
    assert_non_null(hh);
    assert_string_equal(hh->nur, NUR1); /* the candidate's, when not given */
    assert_int_equal(hh->n_members, 2);
    assert_int_equal(hh->members[0]->role, FLUXBUS__V1__HOUSEHOLD_ROLE__HOUSEHOLD_ROLE_DEMANDEUR);
    assert_int_equal(hh->members[0]->birth_date->day, 28);
    assert_int_equal(hh->priority_grounds[0],
                     FLUXBUS__V1__PRIORITY_GROUND__PRIORITY_GROUND_VIOLENCES_CONJUGALES);
    assert_int_equal(c.items[1].designation->rank, 2);
    assert_int_equal(c.items[1].designation->quartile, FLUXBUS__V1__QUARTILE__QUARTILE_Q2);
    assert_null(c.items[1].household);
    assert_string_equal(c.items[2].designation->nur, NUR3);
    /* What the adapter fills in itself is left empty. */
    assert_string_equal(d1->vacancy_id, "");
    assert_int_equal(d1->candidate_count, 0);
    validate_candidates_clear(&c);
    assert_null(c.items[0].designation);
    json_decref(body);
}

static void test_fewer_candidates_than_expected_are_accepted_with_a_reason(void **state)
{
    json_t *body = s_json("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                          "\", \"household_size\": 1}], \"fewer_candidates_reason\": \"OTHER\","
                          " \"fewer_candidates_text\": \"un seul ménage adapté\"}");
    validate_candidates_t c;
    validate_error_t err;
    assert_int_equal(validate_designations(body, 3, &c, &err), FB_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.items[0].designation->fewer_candidates_reason,
                     FLUXBUS__V1__FEWER_CANDIDATES_REASON__FEWER_CANDIDATES_REASON_OTHER);
    assert_string_equal(c.items[0].designation->fewer_candidates_text, "un seul ménage adapté");
    validate_candidates_clear(&c);
    json_decref(body);
    /* Without a reason, or OTHER without words: refused, naming the member. */
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1}]}",
                     3, 422, "fewer_candidates_reason");
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1}], \"fewer_candidates_reason\": \"OTHER\"}",
                     3, 422, "fewer_candidates_text");
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1}], \"fewer_candidates_reason\": \"SOMETIMES\"}",
                     3, 422, "fewer_candidates_reason");
}

/* The NUR rule is the SNE's (nur.h), and so is the reason given. */
static void test_a_nur_the_sne_would_refuse_is_refused_with_its_reason(void **state)
{
    static const struct {
        const char *nur, *reason;
    } bad[] = {
        {"0740122000123456789",
         "\"0740122000123456789\" is not a NUR: 19 characters, a NUR has 15"},
        {"099011925000001", "is not a NUR: department 099 does not exist"},
        {"074131925000001", "is not a NUR: month of filing 13 is not 01..12"},
        {"ABCDEFGH", "is not a NUR: 8 characters, a NUR has 15"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "{\"candidates\": [{\"rank\": 1, \"nur\": \"%s\", \"household_size\": 1}]}",
                 bad[i].nur);
        json_t *body = s_json(text);
        validate_candidates_t c;
        validate_error_t err;
        memset(&err, 0, sizeof err);
        assert_int_equal(validate_designations(body, 3, &c, &err), FB_ERR_PARSE);
        assert_int_equal(err.status, 422);
        assert_string_equal(err.field, "candidates[0].nur");
        if (!strstr(err.reason, bad[i].reason))
            fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].nur, err.reason, bad[i].reason);
        json_decref(body);
    }
}

static void test_refusals_name_the_field(void **state)
{
    s_expect_refused("{}", 3, 422, "candidates");
    s_expect_refused("{\"candidates\": []}", 3, 422, "candidates");
    s_expect_refused("{\"candidates\": {}}", 3, 422, "candidates");
    s_expect_refused("{\"candidates\": [], \"extra\": 1}", 3, 422, "extra");
    s_expect_refused("{\"candidates\": [1]}", 3, 422, "candidates[0]");
    /* Missing NUR, in the second candidate. */
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1}, {\"rank\": 2, \"household_size\": 1}]}",
                     3, 422, "candidates[1].nur");
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"12-34\", \"household_size\": 1}]}",
                     3, 422, "candidates[0].nur");
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": 740122, \"household_size\": 1}]}", 3,
                     422, "candidates[0].nur");
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1}, {\"rank\": 2, \"nur\": \"0740122000123456789\","
                     " \"household_size\": 1}]}",
                     3, 422, "candidates[1].nur");
    /* Ranks: given twice, out of 1..n, missing. */
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1}, {\"rank\": 1, \"nur\": \"" NUR2
                     "\", \"household_size\": 1}]}",
                     3, 422, "candidates[1].rank");
    s_expect_refused("{\"candidates\": [{\"rank\": 2, \"nur\": \"" NUR1
                     "\", \"household_size\": 1}]}",
                     3, 422, "candidates[0].rank");
    s_expect_refused("{\"candidates\": [{\"nur\": \"" NUR1 "\", \"household_size\": 1}]}", 3, 422,
                     "candidates[0].rank");
    s_expect_refused("{\"candidates\": [{\"rank\": -1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1}]}",
                     3, 422, "candidates[0].rank");
    /* The same demande twice. */
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1}, {\"rank\": 2, \"nur\": \"" NUR1
                     "\", \"household_size\": 1}]}",
                     3, 422, "candidates[1].nur");
    /* More than the offer expects. */
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1}, {\"rank\": 2, \"nur\": \"" NUR2
                     "\", \"household_size\": 1}]}",
                     1, 422, "candidates");
    /* Enums, sizes, unknown and adapter-owned members. */
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1, \"quartile\": \"Q9\"}]}",
                     3, 422, "candidates[0].quartile");
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 0}]}",
                     3, 422, "candidates[0].household_size");
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1, \"vacancy_id\": \"v\"}]}",
                     3, 422, "candidates[0].vacancy_id");
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1, \"dalo\": \"yes\"}]}",
                     3, 422, "candidates[0].dalo");
}

static void test_household_refusals_name_the_nested_field(void **state)
{
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1, \"household\": {\"members\": [{\"birth_date\": "
                     "\"1990-02-30\"}]}}]}",
                     3, 422, "candidates[0].household.members[0].birth_date");
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1, \"household\": {\"members\": [{\"birth_date\": "
                     "\"2990-01-01\"}]}}]}",
                     3, 422, "candidates[0].household.members[0].birth_date");
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1, \"household\": {\"members\": [{\"birth_date\": "
                     "\"le 3 mars\"}]}}]}",
                     3, 422, "candidates[0].household.members[0].birth_date");
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1, \"household\": {\"members\": [{\"role\": "
                     "\"GRAND_PARENT\"}]}}]}",
                     3, 422, "candidates[0].household.members[0].role");
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1, \"household\": {\"nur\": \"" NUR2 "\"}}]}",
                     3, 422, "candidates[0].household.nur");
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1, \"household\": {\"members\": [{}, {}]}}]}",
                     3, 422, "candidates[0].household_size");
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1, \"household\": {\"shoe_size\": 42}}]}",
                     3, 422, "candidates[0].household.shoe_size");
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1, \"household\": {\"monthly_resources_cents\": "
                     "-5}}]}",
                     3, 422, "candidates[0].household.monthly_resources_cents");
    s_expect_refused("{\"candidates\": [{\"rank\": 1, \"nur\": \"" NUR1
                     "\", \"household_size\": 1, \"household\": [1]}]}",
                     3, 422, "candidates[0].household");
}

static void test_body_that_is_not_a_json_object_is_a_400(void **state)
{
    validate_error_t err;
    const char *bad[] = {"{\"candidates\": [", "[1, 2]", "\"text\"", "{\"a\": 1, \"a\": 2}", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        assert_null(validate_parse_body(bad[i], strlen(bad[i]), false, &err));
        assert_int_equal(err.status, 400);
        assert_string_equal(err.field, "body");
    }
    json_t *empty = validate_parse_body("  \n", 3, true, &err);
    assert_true(json_is_object(empty));
    json_decref(empty);
}

static void test_remise_decline_and_ack_bodies(void **state)
{
    validate_error_t err;
    json_t *body = s_json("{\"reason\": \"no_candidate\", \"comment\": \"aucun demandeur\","
                          " \"reprise_pour_une_seule_mise_en_location\": true}");
    Fluxbus__V1__RemiseADisposition *r = NULL;
    assert_int_equal(validate_remise(body, &r, &err), FB_OK);
    assert_int_equal(r->reason, FLUXBUS__V1__REMISE_REASON__REMISE_REASON_NO_CANDIDATE);
    assert_true(r->reprise_pour_une_seule_mise_en_location);
    assert_string_equal(r->comment, "aucun demandeur");
    fb_json_free_message(&r->base);
    json_decref(body);

    const char *bad_remise[][2] = {
        {"{}", "reason"},
        {"{\"reason\": \"REMISE_REASON_UNSPECIFIED\"}", "reason"},
        {"{\"reason\": \"FATIGUE\"}", "reason"},
        {"{\"reason\": \"NO_CANDIDATE\", \"vacancy_id\": \"x\"}", "vacancy_id"},
        {"{\"reason\": \"NO_CANDIDATE\", \"comment\": 3}", "comment"},
    };
    for (size_t i = 0; i < sizeof bad_remise / sizeof bad_remise[0]; i++) {
        body = s_json(bad_remise[i][0]);
        assert_int_equal(validate_remise(body, &r, &err), FB_ERR_PARSE);
        assert_null(r);
        assert_string_equal(err.field, bad_remise[i][1]);
        assert_int_equal(err.status, 422);
        json_decref(body);
    }

    Fluxbus__V1__OrientationDecline *d = NULL;
    body = s_json("{\"reason\": \"OBJECTIVE_REACHED\", \"reason_text\": \"quota atteint\"}");
    assert_int_equal(validate_decline(body, &d, &err), FB_OK);
    assert_int_equal(
        d->reason,
        FLUXBUS__V1__ORIENTATION_DECLINE_REASON__ORIENTATION_DECLINE_REASON_OBJECTIVE_REACHED);
    fb_json_free_message(&d->base);
    json_decref(body);
    body = s_json("{\"reason_text\": \"non\"}");
    assert_int_equal(validate_decline(body, &d, &err), FB_ERR_PARSE);
    assert_string_equal(err.field, "reason");
    json_decref(body);

    Fluxbus__V1__OrientationAck *a = NULL;
    body = s_json("{}");
    assert_int_equal(validate_ack(body, &a, &err), FB_OK);
    fb_json_free_message(&a->base);
    json_decref(body);
    body = s_json("{\"comment\": \"ok\", \"rank\": 1}");
    assert_int_equal(validate_ack(body, &a, &err), FB_ERR_PARSE);
    assert_string_equal(err.field, "rank");
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_ranked_candidates_become_designations_in_rank_order),
        cmocka_unit_test(test_fewer_candidates_than_expected_are_accepted_with_a_reason),
        cmocka_unit_test(test_a_nur_the_sne_would_refuse_is_refused_with_its_reason),
        cmocka_unit_test(test_refusals_name_the_field),
        cmocka_unit_test(test_household_refusals_name_the_nested_field),
        cmocka_unit_test(test_body_that_is_not_a_json_object_is_a_400),
        cmocka_unit_test(test_remise_decline_and_ack_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
