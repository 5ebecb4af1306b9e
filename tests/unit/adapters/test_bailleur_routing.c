/* test_bailleur_routing - the bailleur adapter's default routes (routing.c)
 * and the state they read (state.c, track.c), and the LogementIssue a
 * commune gets (outcome.c), against a real SQLite file in a scratch
 * directory. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bailleur/outcome.h"
#include "bailleur/routing.h"
#include "bailleur/state.h"
#include "bailleur/track.h"
#include "fluxbus/fluxbus.h"
#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "tmpdir.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_SELF "bailleur:552046955"
#define S_SNE "sne:gip-sne"
#define S_AL "reservataire:action-logement"
#define S_ETAT "reservataire:prefet-74"
#define S_VAC "vac-2026-0042"
#define S_NUR "074011926000042"

typedef struct {
    char dir[256];
    sqlite3 *db;
    state_t *state;
    const char *logements_to[2];
    routing_conf_t conf;
    routing_t r;
    routing_error_t error;
} s_fix_t;

static int s_setup(void **state)
{
    s_fix_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(tmpdir_make(f->dir, sizeof f->dir, "bailleur-routing"), 0);
    char path[300];
    snprintf(path, sizeof path, "%s/state.db", f->dir);
    assert_int_equal(sqlite3_open(path, &f->db), SQLITE_OK);
    char err[256];
    f->state = state_new(f->db, err, sizeof err);
    assert_non_null(f->state);
    f->logements_to[0] = S_ETAT;
    f->conf = (routing_conf_t){.self_actor = S_SELF,
                               .sne_actor = S_SNE,
                               .logements_to = f->logements_to,
                               .n_logements_to = 1};
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fix_t *f = *state;
    routing_clear(&f->r);
    state_destroy(&f->state);
    sqlite3_close(f->db);
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

/* Routes a message afresh (the previous route is cleared). */
static fb_err_t s_route(s_fix_t *f, int type, const void *payload)
{
    routing_clear(&f->r);
    return routing_default(f->state, &f->conf, type, (const ProtobufCMessage *)payload, &f->r,
                           &f->error);
}

static void s_expect_to(const s_fix_t *f, size_t n, ...)
{
    assert_int_equal(f->r.n_to, n);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(f->r.to[i], va_arg(ap, const char *));
    va_end(ap);
}

static void s_expect_topics(const s_fix_t *f, size_t n, ...)
{
    assert_int_equal(f->r.n_topics, n);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(f->r.topics[i], va_arg(ap, const char *));
    va_end(ap);
}

/* Sends (as far as the state knows) an Orientation of S_VAC. */
static void s_orient(s_fix_t *f, const char *resa, const char *convention, int64_t deadline,
                     int contingent)
{
    Fluxbus__V1__Orientation o = FLUXBUS__V1__ORIENTATION__INIT;
    o.vacancy_id = S_VAC;
    o.reservataire_actor_id = (char *)resa;
    o.convention_id = (char *)convention;
    o.deadline_ms = deadline;
    o.candidates_expected = 3;
    o.contingent = contingent;
    assert_int_equal(track_sent(f->state, T(ORIENTATION), &o.base), FB_OK);
}

static void s_publish(s_fix_t *f, const char *vacancy, const char *insee)
{
    Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    l.vacancy_id = (char *)vacancy;
    l.commune_insee = (char *)insee;
    l.rpls_id = "RPLS-74010-000123";
    assert_int_equal(track_sent(f->state, T(LOGEMENT_LIBERE), &l.base), FB_OK);
}

static void s_receive_designation(s_fix_t *f, const char *from, const char *nur)
{
    Fluxbus__V1__Designation d = FLUXBUS__V1__DESIGNATION__INIT;
    d.vacancy_id = S_VAC;
    d.convention_id = "conv-al";
    d.nur = (char *)nur;
    d.rank = 1;
    assert_int_equal(track_received(f->state, from, NULL, 0, T(DESIGNATION), &d.base), FB_OK);
}

static void test_logement_libere_goes_to_its_commune_logements_to_and_sne(void **state)
{
    s_fix_t *f = *state;
    Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    l.vacancy_id = S_VAC;
    l.commune_insee = "74010";
    assert_int_equal(s_route(f, T(LOGEMENT_LIBERE), &l), FB_OK);
    s_expect_topics(f, 1, "logements/74010");
    s_expect_to(f, 2, S_ETAT, S_SNE);

    /* Corsica's codes are INSEE codes too. */
    l.commune_insee = "2A004";
    assert_int_equal(s_route(f, T(LOGEMENT_LIBERE), &l), FB_OK);
    s_expect_topics(f, 1, "logements/2A004");
}

static void test_logement_libere_with_a_bad_commune_names_the_field(void **state)
{
    s_fix_t *f = *state;
    Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    l.vacancy_id = S_VAC;
    l.commune_insee = "7401";
    assert_int_equal(s_route(f, T(LOGEMENT_LIBERE), &l), FB_ERR_PARSE);
    assert_string_equal(f->error.field, "payload.commune_insee");
    assert_non_null(strstr(f->error.reason, "7401"));

    /* No commune and nobody configured: nowhere to go. */
    f->conf.sne_actor = NULL;
    f->conf.n_logements_to = 0;
    l.commune_insee = "";
    assert_int_equal(s_route(f, T(LOGEMENT_LIBERE), &l), FB_ERR_PARSE);
    assert_string_equal(f->error.field, "payload.commune_insee");
}

static void test_orientation_goes_to_its_reservataire(void **state)
{
    s_fix_t *f = *state;
    Fluxbus__V1__Orientation o = FLUXBUS__V1__ORIENTATION__INIT;
    o.vacancy_id = S_VAC;
    o.reservataire_actor_id = S_AL;
    assert_int_equal(s_route(f, T(ORIENTATION), &o), FB_OK);
    s_expect_to(f, 1, S_AL);
    s_expect_topics(f, 0);

    o.reservataire_actor_id = "";
    assert_int_equal(s_route(f, T(ORIENTATION), &o), FB_ERR_PARSE);
    assert_string_equal(f->error.field, "payload.reservataire_actor_id");
}

static void test_caleol_seance_goes_to_communes_and_oriented_reservataires(void **state)
{
    s_fix_t *f = *state;
    s_orient(f, S_AL, "conv-al", 1000,
             FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT);
    s_orient(f, S_ETAT, "conv-etat", 1000,
             FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ETAT_PRIORITAIRE);
    Fluxbus__V1__CaleolSeance s = FLUXBUS__V1__CALEOL_SEANCE__INIT;
    char *communes[] = {"74010", "74011"};
    char *vacancies[] = {S_VAC, "vac-unknown"};
    s.seance_id = "caleol-2026-11";
    s.communes_insee = communes;
    s.n_communes_insee = 2;
    s.vacancy_ids = vacancies;
    s.n_vacancy_ids = 2;
    assert_int_equal(s_route(f, T(CALEOL_SEANCE), &s), FB_OK);
    s_expect_topics(f, 2, "caleol/74010", "caleol/74011");
    s_expect_to(f, 2, S_AL, S_ETAT);

    s.n_communes_insee = 0;
    s.n_vacancy_ids = 1;
    vacancies[0] = "vac-unknown";
    assert_int_equal(s_route(f, T(CALEOL_SEANCE), &s), FB_ERR_PARSE);
    assert_string_equal(f->error.field, "payload.communes_insee");
}

static void test_decision_and_lease_go_to_the_designataire_and_sne(void **state)
{
    s_fix_t *f = *state;
    Fluxbus__V1__CaleolDecision d = FLUXBUS__V1__CALEOL_DECISION__INIT;
    d.vacancy_id = S_VAC;
    d.nur = S_NUR;
    d.designataire_actor_id = S_AL;
    assert_int_equal(s_route(f, T(CALEOL_DECISION), &d), FB_OK);
    s_expect_to(f, 2, S_AL, S_SNE);

    /* The bailleur's own contingent: only SNE; and without SNE, nobody. */
    d.designataire_actor_id = S_SELF;
    assert_int_equal(s_route(f, T(CALEOL_DECISION), &d), FB_OK);
    s_expect_to(f, 1, S_SNE);
    f->conf.sne_actor = "";
    assert_int_equal(s_route(f, T(CALEOL_DECISION), &d), FB_ERR_PARSE);
    assert_string_equal(f->error.field, "payload.designataire_actor_id");

    Fluxbus__V1__BailSigne b = FLUXBUS__V1__BAIL_SIGNE__INIT;
    b.vacancy_id = S_VAC;
    b.designataire_actor_id = S_ETAT;
    assert_int_equal(s_route(f, T(BAIL_SIGNE), &b), FB_OK);
    s_expect_to(f, 1, S_ETAT);
}

static void test_answers_go_only_to_the_designator(void **state)
{
    s_fix_t *f = *state;
    s_orient(f, S_AL, "conv-al", 1000, 3);
    s_orient(f, S_ETAT, "conv-etat", 1000, 1);
    s_receive_designation(f, S_ETAT, S_NUR);
    Fluxbus__V1__PropositionReponse p = FLUXBUS__V1__PROPOSITION_REPONSE__INIT;
    p.vacancy_id = S_VAC;
    p.nur = S_NUR;
    assert_int_equal(s_route(f, T(PROPOSITION_REPONSE), &p), FB_OK);
    s_expect_to(f, 1, S_ETAT);

    Fluxbus__V1__Visite v = FLUXBUS__V1__VISITE__INIT;
    v.vacancy_id = S_VAC;
    v.nur = S_NUR;
    assert_int_equal(s_route(f, T(VISITE), &v), FB_OK);
    s_expect_to(f, 1, S_ETAT);

    Fluxbus__V1__AttributionNonSuivieDeBail a = FLUXBUS__V1__ATTRIBUTION_NON_SUIVIE_DE_BAIL__INIT;
    a.vacancy_id = S_VAC;
    a.nur = S_NUR;
    assert_int_equal(s_route(f, T(ATTRIBUTION_NON_SUIVIE_DE_BAIL), &a), FB_OK);
    s_expect_to(f, 2, S_ETAT, S_SNE);
}

/* The leak closed: a réservataire oriented on the vacancy (here S_AL, and
 * S_ETAT too) never gets the NUR, answer or visit of a household it did
 * not designate. */
static void test_a_nur_nobody_designated_has_no_default_recipient(void **state)
{
    s_fix_t *f = *state;
    s_orient(f, S_AL, "conv-al", 1000, 3);
    s_orient(f, S_ETAT, "conv-etat", 1000, 1);
    s_receive_designation(f, S_ETAT, "074011926000099"); /* another household */
    Fluxbus__V1__PropositionReponse p = FLUXBUS__V1__PROPOSITION_REPONSE__INIT;
    p.vacancy_id = S_VAC;
    p.nur = S_NUR;
    assert_int_equal(s_route(f, T(PROPOSITION_REPONSE), &p), FB_ERR_PARSE);
    s_expect_to(f, 0);
    assert_string_equal(f->error.field, "to");
    char want[256];
    snprintf(want, sizeof want,
             "demande %s was not designated by a réservataire on %s: give \"to\" explicitly or "
             "do not send it",
             S_NUR, S_VAC);
    assert_string_equal(f->error.reason, want);

    Fluxbus__V1__Visite v = FLUXBUS__V1__VISITE__INIT;
    v.vacancy_id = S_VAC;
    v.nur = S_NUR;
    assert_int_equal(s_route(f, T(VISITE), &v), FB_ERR_PARSE);
    assert_string_equal(f->error.field, "to");

    /* A lease not followed: to SNE alone, and without SNE, to nobody. */
    Fluxbus__V1__AttributionNonSuivieDeBail a = FLUXBUS__V1__ATTRIBUTION_NON_SUIVIE_DE_BAIL__INIT;
    a.vacancy_id = S_VAC;
    a.nur = S_NUR;
    assert_int_equal(s_route(f, T(ATTRIBUTION_NON_SUIVIE_DE_BAIL), &a), FB_OK);
    s_expect_to(f, 1, S_SNE);
    f->conf.sne_actor = NULL;
    assert_int_equal(s_route(f, T(ATTRIBUTION_NON_SUIVIE_DE_BAIL), &a), FB_ERR_PARSE);
    assert_string_equal(f->error.field, "to");

    /* The bailleur's own candidate, attributed on its own contingent. */
    Fluxbus__V1__CaleolDecision d = FLUXBUS__V1__CALEOL_DECISION__INIT;
    d.vacancy_id = S_VAC;
    d.nur = S_NUR;
    d.designataire_actor_id = S_SELF;
    d.decision = FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION;
    assert_int_equal(track_sent(f->state, T(CALEOL_DECISION), &d.base), FB_OK);
    assert_int_equal(s_route(f, T(PROPOSITION_REPONSE), &p), FB_ERR_PARSE);
    assert_string_equal(f->error.field, "to");

    /* Without a NUR there is nobody to find. */
    p.nur = "";
    assert_int_equal(s_route(f, T(PROPOSITION_REPONSE), &p), FB_ERR_PARSE);
    assert_string_equal(f->error.field, "payload.nur");
}

static void test_a_decision_remembers_its_designataire_for_later_answers(void **state)
{
    s_fix_t *f = *state;
    Fluxbus__V1__CaleolDecision d = FLUXBUS__V1__CALEOL_DECISION__INIT;
    d.vacancy_id = S_VAC;
    d.nur = S_NUR;
    d.designataire_actor_id = S_AL;
    d.decision = FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION;
    assert_int_equal(track_sent(f->state, T(CALEOL_DECISION), &d.base), FB_OK);
    Fluxbus__V1__PropositionReponse p = FLUXBUS__V1__PROPOSITION_REPONSE__INIT;
    p.vacancy_id = S_VAC;
    p.nur = S_NUR;
    assert_int_equal(s_route(f, T(PROPOSITION_REPONSE), &p), FB_OK);
    s_expect_to(f, 1, S_AL);

    /* Who actually designated wins over the decision's record. */
    s_receive_designation(f, S_ETAT, S_NUR);
    assert_int_equal(s_route(f, T(PROPOSITION_REPONSE), &p), FB_OK);
    s_expect_to(f, 1, S_ETAT);
}

static void test_deadline_expired_goes_to_the_oriented_under_its_convention(void **state)
{
    s_fix_t *f = *state;
    s_orient(f, S_AL, "conv-al", 1000, 3);
    s_orient(f, S_ETAT, "conv-etat", 1000, 1);
    Fluxbus__V1__DeadlineExpired d = FLUXBUS__V1__DEADLINE_EXPIRED__INIT;
    d.vacancy_id = S_VAC;
    d.convention_id = "conv-etat";
    assert_int_equal(s_route(f, T(DEADLINE_EXPIRED), &d), FB_OK);
    s_expect_to(f, 1, S_ETAT);
    d.convention_id = "conv-nobody";
    assert_int_equal(s_route(f, T(DEADLINE_EXPIRED), &d), FB_ERR_PARSE);
    assert_string_equal(f->error.field, "payload.vacancy_id");
}

static void test_designation_goes_to_the_credited_reservataire(void **state)
{
    s_fix_t *f = *state;
    Fluxbus__V1__Designation d = FLUXBUS__V1__DESIGNATION__INIT;
    d.vacancy_id = S_VAC;
    d.credited_reservataire_actor_id = S_ETAT;
    assert_int_equal(s_route(f, T(DESIGNATION), &d), FB_OK);
    s_expect_to(f, 1, S_ETAT);
}

static void test_types_without_a_default_need_to(void **state)
{
    s_fix_t *f = *state;
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    assert_int_equal(s_route(f, T(CONVENTION), &c), FB_ERR_PARSE);
    assert_string_equal(f->error.field, "to");
    assert_int_equal(f->r.n_to + f->r.n_topics, 0);
}

static void test_cells_split_on_bars_without_repeats(void **state)
{
    s_fix_t *f = *state;
    routing_clear(&f->r);
    assert_int_equal(routing_add_cell(&f->r, " " S_AL " | " S_ETAT "||" S_AL, false), FB_OK);
    s_expect_to(f, 2, S_AL, S_ETAT);
    assert_int_equal(routing_add_cell(&f->r, "logements/74010", true), FB_OK);
    s_expect_topics(f, 1, "logements/74010");
    assert_true(routing_is_insee("2B033"));
    assert_false(routing_is_insee("2C033"));
    assert_false(routing_is_insee("740100"));
}

/* ---- state ---- */

static void test_orientation_closes_on_designation_and_reopens_on_a_new_deadline(void **state)
{
    s_fix_t *f = *state;
    s_orient(f, S_AL, "conv-al", 1000, 3);
    s_orient(f, S_ETAT, "conv-etat", 2000, 1);
    state_orientation_t *due = NULL;
    size_t n = 0;
    assert_int_equal(state_orientations_due(f->state, 1500, &due, &n), FB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(due[0].reservataire, S_AL);
    assert_int_equal(due[0].deadline_ms, 1000);
    state_orientations_free(due, n);

    /* A designation answers it; the same orientation again keeps it closed. */
    s_receive_designation(f, S_AL, S_NUR);
    s_orient(f, S_AL, "conv-al", 1000, 3);
    assert_int_equal(state_orientations_due(f->state, 5000, &due, &n), FB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(due[0].reservataire, S_ETAT);
    assert_int_equal(state_candidates_received(f->state, S_VAC, S_AL), 1);

    /* Told once, never due again... */
    assert_int_equal(state_orientation_mark(f->state, &due[0], STATE_EXPIRY_SENT), FB_OK);
    state_orientations_free(due, n);
    assert_int_equal(state_orientations_due(f->state, 5000, &due, &n), FB_OK);
    assert_int_equal(n, 0);
    state_orientations_free(due, n);

    /* ...until it is asked again with a new deadline. */
    s_orient(f, S_AL, "conv-al", 3000, 3);
    assert_int_equal(state_orientations_due(f->state, 5000, &due, &n), FB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(due[0].reservataire, S_AL);
    state_orientations_free(due, n);
}

static void test_remise_and_decline_close_the_senders_orientation_only(void **state)
{
    s_fix_t *f = *state;
    s_orient(f, S_AL, "conv-al", 1000, 3);
    s_orient(f, S_ETAT, "conv-etat", 1000, 1);
    Fluxbus__V1__RemiseADisposition r = FLUXBUS__V1__REMISE_ADISPOSITION__INIT;
    r.vacancy_id = S_VAC;
    r.convention_id = "conv-al";
    assert_int_equal(track_received(f->state, S_AL, NULL, 0, T(REMISE_A_DISPOSITION), &r.base),
                     FB_OK);
    state_orientation_t *due = NULL;
    size_t n = 0;
    assert_int_equal(state_orientations_due(f->state, 5000, &due, &n), FB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(due[0].reservataire, S_ETAT);
    state_orientations_free(due, n);

    Fluxbus__V1__OrientationDecline d = FLUXBUS__V1__ORIENTATION_DECLINE__INIT;
    d.vacancy_id = S_VAC;
    d.convention_id = "conv-etat";
    assert_int_equal(track_received(f->state, S_ETAT, NULL, 0, T(ORIENTATION_DECLINE), &d.base),
                     FB_OK);
    assert_int_equal(state_orientations_due(f->state, 5000, &due, &n), FB_OK);
    assert_int_equal(n, 0);
    state_orientations_free(due, n);
}

static void test_a_trial_leaves_the_state_as_it_was(void **state)
{
    s_fix_t *f = *state;
    assert_int_equal(state_trial_begin(f->state), FB_OK);
    s_orient(f, S_AL, "conv-al", 1000, 3);
    Fluxbus__V1__DeadlineExpired d = FLUXBUS__V1__DEADLINE_EXPIRED__INIT;
    d.vacancy_id = S_VAC;
    assert_int_equal(s_route(f, T(DEADLINE_EXPIRED), &d), FB_OK);
    assert_int_equal(state_trial_end(f->state), FB_OK);
    assert_int_equal(s_route(f, T(DEADLINE_EXPIRED), &d), FB_ERR_PARSE);
}

/* ---- LogementIssue ---- */

static void test_attribution_gives_the_commune_an_issue_without_nur(void **state)
{
    s_fix_t *f = *state;
    s_publish(f, S_VAC, "74010");
    s_orient(f, S_AL, "conv-al", 1000,
             FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT);
    Fluxbus__V1__CaleolDecision d = FLUXBUS__V1__CALEOL_DECISION__INIT;
    d.vacancy_id = S_VAC;
    d.nur = S_NUR;
    d.designataire_actor_id = S_AL;
    d.decision = FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION;
    d.decided_ms = 1796079600000LL; /* 2026-11-30 23:00 UTC: 1 Dec in Paris */
    outcome_t o;
    bool has = false;
    assert_int_equal(outcome_issue(f->state, "Europe/Paris", T(CALEOL_DECISION), &d.base, &o, &has),
                     FB_OK);
    assert_true(has);
    assert_string_equal(o.topic, "logements/74010");
    assert_string_equal(o.issue.vacancy_id, S_VAC);
    assert_string_equal(o.issue.commune_insee, "74010");
    assert_string_equal(o.issue.rpls_id, "RPLS-74010-000123");
    assert_int_equal(o.issue.issue, FLUXBUS__V1__LOGEMENT_ISSUE_KIND__LOGEMENT_ISSUE_KIND_ATTRIBUE);
    assert_int_equal(o.issue.contingent,
                     FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT);
    assert_int_equal(o.issue.date->year, 2026);
    assert_int_equal(o.issue.date->month, 12);
    assert_int_equal(o.issue.date->day, 1);
    /* The packed message holds no NUR. */
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(fb_codec_pack(&o.issue.base, &bytes, &len), FB_OK);
    assert_null(memmem(bytes, len, S_NUR, strlen(S_NUR)));
    free(bytes);

    /* A non-attribution gives nothing; nor a designataire without orientation
     * a contingent other than the bailleur's. */
    d.decision = FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_NON_ATTRIBUTION;
    assert_int_equal(outcome_issue(f->state, "Europe/Paris", T(CALEOL_DECISION), &d.base, &o, &has),
                     FB_OK);
    assert_false(has);
    d.decision = FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION_PAR_RANG;
    d.designataire_actor_id = S_ETAT;
    assert_int_equal(outcome_issue(f->state, "Europe/Paris", T(CALEOL_DECISION), &d.base, &o, &has),
                     FB_OK);
    assert_true(has);
    assert_int_equal(o.issue.contingent, FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_BAILLEUR);
}

static void test_issue_only_for_a_known_commune(void **state)
{
    s_fix_t *f = *state;
    Fluxbus__V1__AttributionNonSuivieDeBail a = FLUXBUS__V1__ATTRIBUTION_NON_SUIVIE_DE_BAIL__INIT;
    a.vacancy_id = S_VAC;
    a.nur = S_NUR;
    outcome_t o;
    bool has = true;
    assert_int_equal(outcome_issue(f->state, "Europe/Paris", T(ATTRIBUTION_NON_SUIVIE_DE_BAIL),
                                   &a.base, &o, &has),
                     FB_OK);
    assert_false(has);
    s_publish(f, S_VAC, "74010");
    assert_int_equal(outcome_issue(f->state, "Europe/Paris", T(ATTRIBUTION_NON_SUIVIE_DE_BAIL),
                                   &a.base, &o, &has),
                     FB_OK);
    assert_true(has);
    assert_int_equal(o.issue.issue,
                     FLUXBUS__V1__LOGEMENT_ISSUE_KIND__LOGEMENT_ISSUE_KIND_NON_SUIVI);

    /* A lease names its commune itself. */
    Fluxbus__V1__BailSigne b = FLUXBUS__V1__BAIL_SIGNE__INIT;
    Fluxbus__V1__Date signed_on = FLUXBUS__V1__DATE__INIT;
    signed_on.year = 2027;
    signed_on.month = 1;
    signed_on.day = 15;
    b.vacancy_id = "vac-never-published";
    b.commune_insee = "74011";
    b.signed_on = &signed_on;
    b.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_COMMUNE;
    assert_int_equal(outcome_issue(f->state, "Europe/Paris", T(BAIL_SIGNE), &b.base, &o, &has),
                     FB_OK);
    assert_true(has);
    assert_string_equal(o.topic, "logements/74011");
    assert_int_equal(o.issue.issue,
                     FLUXBUS__V1__LOGEMENT_ISSUE_KIND__LOGEMENT_ISSUE_KIND_BAIL_SIGNE);
    assert_int_equal(o.issue.contingent, FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_COMMUNE);
    assert_int_equal(o.issue.date->day, 15);
}

int main(void)
{
#define S_TEST(fn) cmocka_unit_test_setup_teardown(fn, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_logement_libere_goes_to_its_commune_logements_to_and_sne),
        S_TEST(test_logement_libere_with_a_bad_commune_names_the_field),
        S_TEST(test_orientation_goes_to_its_reservataire),
        S_TEST(test_caleol_seance_goes_to_communes_and_oriented_reservataires),
        S_TEST(test_decision_and_lease_go_to_the_designataire_and_sne),
        S_TEST(test_answers_go_only_to_the_designator),
        S_TEST(test_a_nur_nobody_designated_has_no_default_recipient),
        S_TEST(test_a_decision_remembers_its_designataire_for_later_answers),
        S_TEST(test_deadline_expired_goes_to_the_oriented_under_its_convention),
        S_TEST(test_designation_goes_to_the_credited_reservataire),
        S_TEST(test_types_without_a_default_need_to),
        S_TEST(test_cells_split_on_bars_without_repeats),
        S_TEST(test_orientation_closes_on_designation_and_reopens_on_a_new_deadline),
        S_TEST(test_remise_and_decline_close_the_senders_orientation_only),
        S_TEST(test_a_trial_leaves_the_state_as_it_was),
        S_TEST(test_attribution_gives_the_commune_an_issue_without_nur),
        S_TEST(test_issue_only_for_a_known_commune),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
