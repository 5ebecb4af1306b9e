/* test_sne_records.c - the SNE adapter's pure parts: bus messages to SNE
 * records (adapters/sne/sne_records.c), the JSON
 * of the file exchange (sne_format.c), and the simulator's judgement
 * (sim_judge.c, its checks pure, its demandes in a scratch SQLite file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sne/sim_db.h"
#include "sne/sim_judge.h"
#include "sne/sne_format.h"
#include "sne/sne_records.h"
#include "tmpdir.h"

#define S_NUR "074011925000001"
#define S_BAILLEUR "bailleur:552046955"
#define S_RESA "reservataire:action-logement"
#define S_TZ "Europe/Paris"

/* 2026-03-02 10:00 Paris (CET, UTC+1). */
#define S_DECIDED_MS 1772442000000LL

static const sne_source_t s_src = {S_BAILLEUR, "00112233445566778899aabbccddeeff"};
static const sne_dwelling_t s_dw = {"0740123456789", "74010", "552046955"};

static Fluxbus__V1__CaleolDecision s_decision(Fluxbus__V1__CaleolDecisionCode code)
{
    Fluxbus__V1__CaleolDecision d = FLUXBUS__V1__CALEOL_DECISION__INIT;
    d.seance_id = "caleol-1";
    d.vacancy_id = "vac-2026-0101";
    d.nur = S_NUR;
    d.rank = 2;
    d.designataire_actor_id = S_RESA;
    d.decision = code;
    d.decided_ms = S_DECIDED_MS;
    d.revision = 1;
    d.q1 = true;
    d.relogement_anru = true;
    return d;
}

static sne_date_t s_date(int y, int m, int d)
{
    sne_date_t out = {y, m, d};
    return out;
}

/* ---- records ---- */

static void test_attribution_record_from_caleol_decision(void **state)
{
    Fluxbus__V1__CaleolDecision d =
        s_decision(FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION_PAR_RANG);
    sne_record_t r;
    char why[256];
    assert_int_equal(sne_record_from_decision(&d, &s_src, &s_dw, S_TZ, &r, why, sizeof why),
                     SNE_BUILT);
    assert_int_equal(r.kind, SNE_KIND_ATTRIBUTION);
    assert_string_equal(r.record_id, "attribution.vac-2026-0101." S_NUR ".r1");
    assert_string_equal(r.nur, S_NUR);
    assert_int_equal(r.date.year, 2026);
    assert_int_equal(r.date.month, 3);
    assert_int_equal(r.date.day, 2);
    assert_string_equal(r.bailleur_siren, "552046955");
    assert_string_equal(r.bailleur_actor_id, S_BAILLEUR);
    assert_string_equal(r.vacancy_id, "vac-2026-0101");
    assert_string_equal(r.rpls_id, "0740123456789");
    assert_string_equal(r.commune_insee, "74010");
    assert_string_equal(r.designataire_actor_id, S_RESA);
    assert_true(r.q1);
    assert_true(r.relogement_anru);
    assert_int_equal(r.suivie_de_bail, SNE_SUIVIE_NA);
    assert_string_equal(r.decision, "ATTRIBUTION_PAR_RANG");
    assert_int_equal(r.rank, 2);
    assert_string_equal(r.condition_state, "");
    assert_string_equal(r.source_type, "CaleolDecision");
    assert_string_equal(r.source_message_id, s_src.message_id);
    sne_record_clear(&r);
    sne_record_clear(&r); /* safe twice */
}

static void test_decisions_that_attribute_nothing_need_no_record(void **state)
{
    const Fluxbus__V1__CaleolDecisionCode none[] = {
        FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_NON_ATTRIBUTION,
        FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_REJET_IRRECEVABILITE,
        FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_UNSPECIFIED,
    };
    for (size_t i = 0; i < 3; i++) {
        Fluxbus__V1__CaleolDecision d = s_decision(none[i]);
        sne_record_t r;
        char why[256] = "";
        assert_int_equal(sne_record_from_decision(&d, &s_src, &s_dw, S_TZ, &r, why, sizeof why),
                         SNE_NOT_NEEDED);
        assert_non_null(strstr(why, "needs no SNE record"));
        assert_null(r.nur);
    }
    Fluxbus__V1__CaleolDecision lapsed = s_decision(
        FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_SOUS_CONDITION_SUSPENSIVE);
    lapsed.condition_state = FLUXBUS__V1__CONDITION_STATE__CONDITION_STATE_LAPSED;
    sne_record_t r;
    char why[256] = "";
    assert_int_equal(sne_record_from_decision(&lapsed, &s_src, &s_dw, S_TZ, &r, why, sizeof why),
                     SNE_NOT_NEEDED);
    assert_non_null(strstr(why, "lapsed"));
}

static void test_conditional_attribution_keeps_its_condition_and_revision(void **state)
{
    Fluxbus__V1__CaleolDecision d = s_decision(
        FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_SOUS_CONDITION_SUSPENSIVE);
    d.condition_state = FLUXBUS__V1__CONDITION_STATE__CONDITION_STATE_LIFTED;
    d.missing_document = "avis d'imposition 2025";
    d.revision = 2;
    sne_record_t r;
    assert_int_equal(sne_record_from_decision(&d, &s_src, NULL, S_TZ, &r, NULL, 0), SNE_BUILT);
    assert_string_equal(r.decision, "SOUS_CONDITION_SUSPENSIVE");
    assert_string_equal(r.condition_state, "LIFTED");
    assert_string_equal(r.missing_document, "avis d'imposition 2025");
    assert_int_equal(r.revision, 2);
    assert_string_equal(r.record_id, "attribution.vac-2026-0101." S_NUR ".r2");
    /* Without the LogementLibere: no dwelling, the SIREN from the actor id. */
    assert_string_equal(r.rpls_id, "");
    assert_string_equal(r.commune_insee, "");
    assert_string_equal(r.bailleur_siren, "552046955");
    sne_record_clear(&r);
}

static void test_non_suivie_record_takes_the_attribution_it_ends(void **state)
{
    Fluxbus__V1__AttributionNonSuivieDeBail m = FLUXBUS__V1__ATTRIBUTION_NON_SUIVIE_DE_BAIL__INIT;
    Fluxbus__V1__Date date = FLUXBUS__V1__DATE__INIT;
    date.year = 2026;
    date.month = 3;
    date.day = 20;
    m.vacancy_id = "vac-2026-0101";
    m.nur = S_NUR;
    m.reason = FLUXBUS__V1__NON_SUITE_MOTIF__NON_SUITE_MOTIF_REFUS_MENAGE;
    m.reason_text = "trop loin de l'école";
    m.date = &date;
    sne_attribution_t att = {S_RESA, true, false};
    sne_record_t r;
    assert_int_equal(sne_record_from_non_suivie(&m, &s_src, &s_dw, &att, &r, NULL, 0), SNE_BUILT);
    assert_int_equal(r.kind, SNE_KIND_NON_SUIVIE);
    assert_string_equal(r.record_id, "non_suivie.vac-2026-0101." S_NUR);
    assert_int_equal(r.suivie_de_bail, SNE_SUIVIE_NON);
    assert_int_equal(r.date.day, 20);
    assert_string_equal(r.designataire_actor_id, S_RESA);
    assert_true(r.q1);
    assert_false(r.relogement_anru);
    assert_string_equal(r.non_suite_motif, "REFUS_MENAGE");
    assert_string_equal(r.motif_text, "trop loin de l'école");
    assert_string_equal(r.commune_insee, "74010");
    sne_record_clear(&r);
    /* Without the attribution: the fields it gives stay empty. */
    assert_int_equal(sne_record_from_non_suivie(&m, &s_src, NULL, NULL, &r, NULL, 0), SNE_BUILT);
    assert_string_equal(r.designataire_actor_id, "");
    assert_false(r.q1);
    sne_record_clear(&r);
}

static void test_radiation_record_from_bail_signe(void **state)
{
    Fluxbus__V1__BailSigne m = FLUXBUS__V1__BAIL_SIGNE__INIT;
    Fluxbus__V1__Date signed_on = FLUXBUS__V1__DATE__INIT, effective = FLUXBUS__V1__DATE__INIT;
    signed_on.year = 2026;
    signed_on.month = 4;
    signed_on.day = 1;
    effective.year = 2026;
    effective.month = 4;
    effective.day = 15;
    m.vacancy_id = "vac-2026-0101";
    m.nur = S_NUR;
    m.signed_on = &signed_on;
    m.effective_on = &effective;
    m.designataire_actor_id = S_RESA;
    m.bailleur_siren = "552046955";
    m.commune_insee = "74011"; /* the message wins over the LogementLibere */
    m.q1 = true;
    m.relogement_anru = true;
    sne_record_t r;
    assert_int_equal(sne_record_from_bail(&m, &s_src, &s_dw, &r, NULL, 0), SNE_BUILT);
    assert_int_equal(r.kind, SNE_KIND_RADIATION);
    assert_string_equal(r.record_id, "radiation.vac-2026-0101." S_NUR);
    assert_int_equal(r.suivie_de_bail, SNE_SUIVIE_OUI);
    assert_int_equal(r.date.month, 4);
    assert_int_equal(r.effective_on.day, 15);
    assert_string_equal(r.commune_insee, "74011");
    assert_string_equal(r.rpls_id, "0740123456789"); /* empty in the message: from dw */
    assert_true(r.q1);
    assert_true(r.relogement_anru);
    assert_string_equal(r.source_type, "BailSigne");
    sne_record_clear(&r);
}

static void test_record_ids_are_distinct_safe_file_names(void **state)
{
    char a[SNE_RECORD_ID_MAX], b[SNE_RECORD_ID_MAX];
    sne_record_id(SNE_KIND_RADIATION, "vac/1 é", S_NUR, 0, a);
    assert_string_equal(a, "radiation.vac_2F1_20_C3_A9." S_NUR);
    assert_true(sne_record_id_valid(a));
    /* "_" is escaped too, so "a_2F" and "a/" differ. */
    sne_record_id(SNE_KIND_RADIATION, "a_2F", S_NUR, 0, a);
    sne_record_id(SNE_KIND_RADIATION, "a/", S_NUR, 0, b);
    assert_string_not_equal(a, b);
    /* The separator cannot be forged by the parts. */
    sne_record_id(SNE_KIND_RADIATION, "a.b", "c", 0, a);
    sne_record_id(SNE_KIND_RADIATION, "a", "b.c", 0, b);
    assert_string_not_equal(a, b);
    /* Too long: a hash, still valid, still stable. */
    char long_id[400];
    memset(long_id, 'v', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    sne_record_id(SNE_KIND_NON_SUIVIE, long_id, S_NUR, 0, a);
    sne_record_id(SNE_KIND_NON_SUIVIE, long_id, S_NUR, 0, b);
    assert_string_equal(a, b);
    assert_int_equal(strncmp(a, "non_suivie.h", 12), 0);
    assert_int_equal(strlen(a), strlen("non_suivie.h") + 16);
    assert_true(sne_record_id_valid(a));
    long_id[0] = 'w';
    sne_record_id(SNE_KIND_NON_SUIVIE, long_id, S_NUR, 0, b);
    assert_string_not_equal(a, b);
}

static void test_record_dates_are_days_of_the_configured_zone(void **state)
{
    sne_date_t d = sne_date_local(S_DECIDED_MS, S_TZ);
    assert_true(d.year == 2026 && d.month == 3 && d.day == 2);
    /* 2026-12-31 23:30 UTC is New Year's Day in Paris (UTC+1)... */
    d = sne_date_local(1798759800000LL, S_TZ);
    assert_true(d.year == 2027 && d.month == 1 && d.day == 1);
    /* ... and still New Year's Eve in Martinique (UTC-4). */
    d = sne_date_local(1798759800000LL, "America/Martinique");
    assert_true(d.year == 2026 && d.month == 12 && d.day == 31);
    /* 2026-07-01 22:30 UTC is 00:30 on 2 July in Paris (UTC+2) and in
     * La Réunion (UTC+4, no summer time). */
    d = sne_date_local(1782945000000LL, S_TZ);
    assert_true(d.year == 2026 && d.month == 7 && d.day == 2);
    d = sne_date_local(1782945000000LL, "Indian/Reunion");
    assert_true(d.year == 2026 && d.month == 7 && d.day == 2);
    /* 2026-10-24 22:30 UTC, still summer in Paris: 00:30 on the 25th. */
    d = sne_date_local(1792881000000LL, S_TZ);
    assert_true(d.year == 2026 && d.month == 10 && d.day == 25);
    d = sne_date_local(0, S_TZ);
    assert_int_equal(d.year, 0);
    d = sne_date_local(S_DECIDED_MS, "Europe/Nowhere");
    assert_int_equal(d.year, 0);
}

static void test_dates_parse_and_check_the_calendar(void **state)
{
    sne_date_t d;
    assert_true(sne_date_parse("2024-02-29", &d));
    assert_false(sne_date_parse("2025-02-29", &d));
    assert_false(sne_date_parse("2025-13-01", &d));
    assert_false(sne_date_parse("2025-1-01", &d));
    assert_false(sne_date_parse("", &d));
    assert_false(sne_date_parse(NULL, &d));
    char buf[11];
    sne_date_format(s_date(2026, 3, 2), buf);
    assert_string_equal(buf, "2026-03-02");
    sne_date_format(s_date(0, 0, 0), buf);
    assert_string_equal(buf, "");
}

/* ---- the exchange's JSON ---- */

static sne_record_t s_radiation(void)
{
    Fluxbus__V1__BailSigne m = FLUXBUS__V1__BAIL_SIGNE__INIT;
    Fluxbus__V1__Date signed_on = FLUXBUS__V1__DATE__INIT;
    signed_on.year = 2026;
    signed_on.month = 3;
    signed_on.day = 2;
    m.vacancy_id = "vac-2026-0101";
    m.nur = S_NUR;
    m.signed_on = &signed_on;
    m.designataire_actor_id = S_RESA;
    m.q1 = true;
    sne_record_t r;
    assert_int_equal(sne_record_from_bail(&m, &s_src, &s_dw, &r, NULL, 0), SNE_BUILT);
    return r;
}

static void test_record_json_round_trips(void **state)
{
    sne_record_t r = s_radiation();
    json_t *j = sne_record_to_json(&r);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "format")), SNE_RECORD_FORMAT);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "radiation");
    assert_string_equal(json_string_value(json_object_get(j, "date")), "2026-03-02");
    assert_true(json_is_true(json_object_get(j, "suivie_de_bail")));
    assert_null(json_object_get(j, "effective_on")); /* not given: left out */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "logement"), "commune_insee")),
        "74010");
    sne_record_t back;
    sne_problem_t p;
    assert_int_equal(sne_record_from_json(j, &back, &p), FB_OK);
    assert_string_equal(back.record_id, r.record_id);
    assert_int_equal(back.kind, r.kind);
    assert_string_equal(back.nur, r.nur);
    assert_memory_equal(&back.date, &r.date, sizeof r.date);
    assert_string_equal(back.bailleur_siren, r.bailleur_siren);
    assert_string_equal(back.bailleur_actor_id, r.bailleur_actor_id);
    assert_string_equal(back.rpls_id, r.rpls_id);
    assert_string_equal(back.designataire_actor_id, r.designataire_actor_id);
    assert_int_equal(back.q1, r.q1);
    assert_int_equal(back.suivie_de_bail, SNE_SUIVIE_OUI);
    assert_string_equal(back.source_message_id, r.source_message_id);
    json_decref(j);
    sne_record_clear(&back);
    sne_record_clear(&r);
}

static void test_record_json_errors_name_the_member(void **state)
{
    struct {
        const char *text, *field;
    } bad[] = {
        {"[]", ""},
        {"{\"format\": \"other/1\"}", "format"},
        {"{\"format\": \"fluxbus-sne-record/1\"}", "record_id"},
        {"{\"format\": \"fluxbus-sne-record/1\", \"record_id\": \"../x\"}", "record_id"},
        {"{\"format\": \"fluxbus-sne-record/1\", \"record_id\": \"a\", \"kind\": \"lease\"}",
         "kind"},
        {"{\"format\": \"fluxbus-sne-record/1\", \"record_id\": \"a\", \"kind\": \"radiation\","
         " \"nur\": 74011925000001}",
         "nur"},
        {"{\"format\": \"fluxbus-sne-record/1\", \"record_id\": \"a\", \"kind\": \"radiation\","
         " \"logement\": {\"commune_insee\": 74010}}",
         "logement.commune_insee"},
        {"{\"format\": \"fluxbus-sne-record/1\", \"record_id\": \"a\", \"kind\": \"radiation\","
         " \"date\": \"02/03/2026\"}",
         "date"},
        {"{\"format\": \"fluxbus-sne-record/1\", \"record_id\": \"a\", \"kind\": \"radiation\","
         " \"q1\": \"oui\"}",
         "q1"},
        {"{\"format\": \"fluxbus-sne-record/1\", \"record_id\": \"a\", \"kind\": \"radiation\","
         " \"bailleur\": \"552046955\"}",
         "bailleur"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *j = json_loads(bad[i].text, JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        sne_record_t r;
        sne_problem_t p;
        assert_int_equal(sne_record_from_json(j, &r, &p), FB_ERR_PARSE);
        if (strcmp(p.field, bad[i].field) != 0)
            fail_msg("%s: field \"%s\", expected \"%s\" (%s)", bad[i].text, p.field, bad[i].field,
                     p.message);
        assert_true(*p.message);
        assert_null(r.nur);
        json_decref(j);
    }
}

static void test_answer_json_round_trips_and_checks_its_status(void **state)
{
    sne_answer_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.record_id, sizeof a.record_id, "radiation.vac-1." S_NUR);
    a.kind = SNE_KIND_RADIATION;
    snprintf(a.nur, sizeof a.nur, S_NUR);
    a.status = SNE_STATUS_ALREADY_RADIEE;
    a.radiated_on = s_date(2026, 3, 2);
    snprintf(a.field, sizeof a.field, "nur");
    snprintf(a.message, sizeof a.message, "déjà radiée");
    json_t *j = sne_answer_to_json(&a);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ALREADY_RADIEE");
    sne_answer_t back;
    sne_problem_t p;
    assert_int_equal(sne_answer_from_json(j, &back, &p), FB_OK);
    assert_memory_equal(&back, &a, sizeof a);
    json_object_set_new(j, "status", json_string("DONE"));
    assert_int_equal(sne_answer_from_json(j, &back, &p), FB_ERR_PARSE);
    assert_string_equal(p.field, "status");
    json_object_set_new(j, "status", json_string("RADIEE"));
    json_object_set_new(j, "radiated_on", json_string("2026-02-30"));
    assert_int_equal(sne_answer_from_json(j, &back, &p), FB_ERR_PARSE);
    assert_string_equal(p.field, "radiated_on");
    json_decref(j);
}

static void test_answer_message_is_cut_on_a_character_boundary(void **state)
{
    char text[1200] = "";
    for (size_t i = 0; i < 500; i++)
        strcat(text, "é"); /* 2 bytes each: 1000 bytes */
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "format", SNE_ANSWER_FORMAT, "record_id", "r",
                          "status", "REJECTED", "message", text);
    sne_answer_t a;
    sne_problem_t p;
    assert_int_equal(sne_answer_from_json(j, &a, &p), FB_OK);
    size_t n = strlen(a.message);
    assert_true(n > 0 && n < sizeof a.message && n % 2 == 0);
    json_decref(j);
}

/* ---- the simulator's judgement ---- */

static void test_judge_check_accepts_a_complete_record(void **state)
{
    sne_record_t r = s_radiation();
    sne_answer_t a;
    assert_true(sim_judge_check(&r, s_date(2026, 3, 2), &a));
    /* Dated tomorrow (overseas), even across a year's end. */
    assert_true(sim_judge_check(&r, s_date(2026, 3, 1), &a));
    r.date = s_date(2027, 1, 1);
    assert_true(sim_judge_check(&r, s_date(2026, 12, 31), &a));
    r.date = s_date(2027, 1, 2);
    assert_false(sim_judge_check(&r, s_date(2026, 12, 31), &a));
    r.date = s_date(2026, 3, 2);
    assert_string_equal(a.record_id, r.record_id);
    assert_string_equal(a.nur, S_NUR);
    sne_record_clear(&r);
}

/* Applies edit to a fresh radiation record and expects status on field
 * with a message containing `says`. */
static void s_expect(void (*edit)(sne_record_t *), sne_status_t status, const char *field,
                     const char *says)
{
    sne_record_t r = s_radiation();
    edit(&r);
    sne_answer_t a;
    assert_false(sim_judge_check(&r, s_date(2026, 6, 1), &a));
    assert_int_equal(a.status, status);
    assert_string_equal(a.field, field);
    if (!strstr(a.message, says))
        fail_msg("\"%s\" does not say \"%s\"", a.message, says);
    sne_record_clear(&r);
}

static void s_set(char **field, const char *value)
{
    free(*field);
    *field = strdup(value);
}

static void s_bad_nur(sne_record_t *r)
{
    s_set(&r->nur, "0740119");
}
static void s_no_date(sne_record_t *r)
{
    r->date = s_date(0, 0, 0);
}
static void s_not_a_day(sne_record_t *r)
{
    r->date = s_date(2026, 2, 30);
}
static void s_future(sne_record_t *r)
{
    r->date = s_date(2026, 6, 3); /* today is 2026-06-01; the 2nd is leeway */
}
static void s_bad_siren(sne_record_t *r)
{
    s_set(&r->bailleur_siren, "55204695");
}
static void s_no_insee(sne_record_t *r)
{
    s_set(&r->commune_insee, "");
}
static void s_bad_insee(sne_record_t *r)
{
    s_set(&r->commune_insee, "2C004");
}
static void s_no_designataire(sne_record_t *r)
{
    s_set(&r->designataire_actor_id, "");
}
static void s_not_suivie(sne_record_t *r)
{
    r->suivie_de_bail = SNE_SUIVIE_NON;
}
static void s_effect_before_signature(sne_record_t *r)
{
    r->effective_on = s_date(2026, 3, 1);
}
static void s_not_an_attribution(sne_record_t *r)
{
    r->kind = SNE_KIND_ATTRIBUTION;
    r->suivie_de_bail = SNE_SUIVIE_NA;
    s_set(&r->decision, "NON_ATTRIBUTION");
}

static void test_judge_check_names_the_field_at_fault(void **state)
{
    s_expect(s_bad_nur, SNE_STATUS_INVALID_NUR, "nur", "7 characters, a NUR has 15");
    s_expect(s_no_date, SNE_STATUS_REJECTED, "date", "missing");
    s_expect(s_not_a_day, SNE_STATUS_REJECTED, "date", "2026-02-30 is not a calendar date");
    s_expect(s_future, SNE_STATUS_REJECTED, "date", "in the future");
    s_expect(s_bad_siren, SNE_STATUS_REJECTED, "bailleur.siren", "not a SIREN");
    s_expect(s_no_insee, SNE_STATUS_REJECTED, "logement.commune_insee", "missing");
    s_expect(s_bad_insee, SNE_STATUS_REJECTED, "logement.commune_insee", "not an INSEE");
    s_expect(s_no_designataire, SNE_STATUS_REJECTED, "designataire_actor_id", "missing");
    s_expect(s_not_suivie, SNE_STATUS_REJECTED, "suivie_de_bail", "a radiation record has it true");
    s_expect(s_effect_before_signature, SNE_STATUS_REJECTED, "effective_on",
             "before it was signed");
    s_expect(s_not_an_attribution, SNE_STATUS_REJECTED, "decision", "not an attribution");
}

static void test_judge_radiates_once_and_knows_its_demandes(void **state)
{
    char dir[256], path[300];
    assert_int_equal(tmpdir_make(dir, sizeof dir, "sne-sim"), 0);
    snprintf(path, sizeof path, "%s/sim.db", dir);
    char err[256];
    sim_db_t *db = sim_db_open(path, err, sizeof err);
    assert_non_null(db);
    sim_policy_t strict = {false}, any = {true};
    sne_date_t today = s_date(2026, 6, 1);
    sne_record_t r = s_radiation();
    sne_answer_t a;
    /* Strict: the demande must be known. */
    assert_int_equal(sim_judge(db, &strict, &r, today, &a), FB_OK);
    assert_int_equal(a.status, SNE_STATUS_UNKNOWN_NUR);
    assert_int_equal(sim_db_add_demande(db, S_NUR, "preloaded"), FB_OK);
    assert_int_equal(sim_judge(db, &strict, &r, today, &a), FB_OK);
    assert_int_equal(a.status, SNE_STATUS_RADIEE);
    assert_memory_equal(&a.radiated_on, &r.date, sizeof r.date);
    /* A second radiation of the same demande, from another vacancy. */
    s_set(&r.vacancy_id, "vac-2026-0202");
    sne_record_id(r.kind, r.vacancy_id, r.nur, 0, r.record_id);
    assert_int_equal(sim_judge(db, &strict, &r, today, &a), FB_OK);
    assert_int_equal(a.status, SNE_STATUS_ALREADY_RADIEE);
    assert_int_equal(a.radiated_on.day, 2);
    assert_non_null(strstr(a.message, "radiation.vac-2026-0101." S_NUR));
    /* Accept-any opens an unknown well-formed demande. */
    s_set(&r.nur, "074011925000002");
    assert_int_equal(sim_judge(db, &any, &r, today, &a), FB_OK);
    assert_int_equal(a.status, SNE_STATUS_RADIEE);
    int64_t demandes = 0, radiees = 0;
    assert_int_equal(sim_db_counts(db, &demandes, &radiees), FB_OK);
    assert_int_equal(demandes, 2);
    assert_int_equal(radiees, 2);
    sne_record_clear(&r);
    sim_db_close(&db);
    sim_db_close(&db); /* safe twice */
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attribution_record_from_caleol_decision),
        cmocka_unit_test(test_decisions_that_attribute_nothing_need_no_record),
        cmocka_unit_test(test_conditional_attribution_keeps_its_condition_and_revision),
        cmocka_unit_test(test_non_suivie_record_takes_the_attribution_it_ends),
        cmocka_unit_test(test_radiation_record_from_bail_signe),
        cmocka_unit_test(test_record_ids_are_distinct_safe_file_names),
        cmocka_unit_test(test_record_dates_are_days_of_the_configured_zone),
        cmocka_unit_test(test_dates_parse_and_check_the_calendar),
        cmocka_unit_test(test_record_json_round_trips),
        cmocka_unit_test(test_record_json_errors_name_the_member),
        cmocka_unit_test(test_answer_json_round_trips_and_checks_its_status),
        cmocka_unit_test(test_answer_message_is_cut_on_a_character_boundary),
        cmocka_unit_test(test_judge_check_accepts_a_complete_record),
        cmocka_unit_test(test_judge_check_names_the_field_at_fault),
        cmocka_unit_test(test_judge_radiates_once_and_knows_its_demandes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
