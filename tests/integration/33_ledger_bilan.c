/* 33_ledger_bilan - the bilan from signed messages to the page a person
 * reads. On a real broker, the bailleur and Action Logement take four
 * dwellings of the EPCI 200066793 through their life (in this year, as the
 * broker dates what it accepts): V1 in a QPV by the reference table (its
 * message says hors QPV), let to a Q2 household; V2 hors QPV, let to a DALO
 * Q1 household; V3 hors QPV, attributed to a Q3 household who refuses (rent
 * too high), no lease; V4 hors QPV, let to a Q4 household. NUR X is
 * designated on V3 and V4 and never chosen. The reference data are
 * imported with `fluxbus refdata import` (a bad file is refused naming its
 * line and column, and leaves nothing), then `fluxbus report bilan` gives
 * JSON and CSV with the objectives counted as the law counts them (Q1 hors
 * QPV 1 of 2 leases: legal 25 % passed, CIA 55 % failed; priority households
 * 1 of 4 attributions: 25 %, passed), and one HTML page that headless
 * Chromium renders: its DOM holds the figures, its screenshot is a picture.
 * Without chromium the browser part is skipped, saying so. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "builders.h"
#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "period.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_CONV "C-AL-BILAN"
#define S_EPCI "200066793"
#define S_OUT FLUXBUS__V1__QPV_STATUS__QPV_STATUS_OUTSIDE_QPV
#define Q(x) FLUXBUS__V1__QUARTILE__QUARTILE_##x

static void s_ok(fb_client_t *c, int type, const char *to, const char *vacancy,
                 const ProtobufCMessage *payload)
{
    fbt_send_ok(c, type, to, vacancy, payload);
}

static void s_convention(fbt_pair_t *w, int year)
{
    Fluxbus__V1__ConventionObjective o = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    o.kind = FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_PLACEMENTS;
    o.unit = FLUXBUS__V1__OBJECTIVE_UNIT__OBJECTIVE_UNIT_COUNT;
    o.value = 5;
    Fluxbus__V1__ConventionObjective *objectives[] = {&o};
    Fluxbus__V1__Convention c = builders_convention(S_CONV, FBT_BAILLEUR, FBT_RESA, year);
    c.departement = "74";
    c.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    c.n_objectives = 1;
    c.objectives = objectives;
    c.counting_method = FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_BAIL_SIGNE;
    c.deadline_days = 15;
    s_ok(w->cb, T(CONVENTION), FBT_RESA, NULL, &c.base);
}

typedef struct {
    const char *nur;
    int quartile;
    bool dalo;
} s_household_t;

/* A dwelling freed, oriented, acknowledged and answered with `n`
 * candidates; the first is attributed by the CALEOL. */
static void s_to_caleol(fbt_pair_t *w, const char *vacancy, const char *rpls, const char *residence,
                        const s_household_t *h, unsigned n)
{
    Fluxbus__V1__LogementLibere l = builders_libere(vacancy, "74010");
    l.rpls_id = (char *)rpls;
    l.residence_id = (char *)residence;
    l.bailleur_siren = BUILDERS_SIREN;
    l.epci_siren = S_EPCI;
    l.qpv = S_OUT;
    l.qpv_map_year = 2015;
    l.financement = FLUXBUS__V1__FINANCEMENT__FINANCEMENT_PLUS;
    l.mode_gestion = FLUXBUS__V1__MODE_GESTION__MODE_GESTION_FLUX;
    s_ok(w->cb, T(LOGEMENT_LIBERE), FBT_RESA, vacancy, &l.base);
    Fluxbus__V1__Orientation o =
        life_msgs_orientation(vacancy, S_CONV, FBT_RESA, 1, n, fb_now_ms() + 15 * BUILDERS_DAY_MS);
    o.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    s_ok(w->cb, T(ORIENTATION), FBT_RESA, vacancy, &o.base);
    Fluxbus__V1__OrientationAck a = builders_ack(vacancy, S_CONV);
    s_ok(w->cr, T(ORIENTATION_ACK), FBT_BAILLEUR, vacancy, &a.base);
    for (unsigned i = 0; i < n; i++) {
        Fluxbus__V1__Designation d = builders_designation(vacancy, S_CONV, h[i].nur, i + 1, n);
        d.quartile = h[i].quartile;
        d.dalo = h[i].dalo;
        s_ok(w->cr, T(DESIGNATION), FBT_BAILLEUR, vacancy, &d.base);
    }
    fbt_caleol_agree(w->cb, FBT_RESA, vacancy, h[0].nur, h[0].quartile == Q(Q1));
}

static void s_answer(fbt_pair_t *w, const char *vacancy, const char *nur, bool refused)
{
    Fluxbus__V1__PropositionReponse p = life_msgs_answer(vacancy, nur, refused, fb_now_ms());
    if (refused) /* the rent, not the location */
        p.refus_motif = FLUXBUS__V1__REFUS_MOTIF__REFUS_MOTIF_LOYER_TROP_ELEVE;
    s_ok(w->cb, T(PROPOSITION_REPONSE), FBT_RESA, vacancy, &p.base);
}

static void s_refused(fbt_pair_t *w, const char *vacancy, const char *nur)
{
    s_answer(w, vacancy, nur, true);
    Fluxbus__V1__AttributionNonSuivieDeBail a = FLUXBUS__V1__ATTRIBUTION_NON_SUIVIE_DE_BAIL__INIT;
    a.vacancy_id = (char *)vacancy;
    a.nur = (char *)nur;
    a.reason = FLUXBUS__V1__NON_SUITE_MOTIF__NON_SUITE_MOTIF_REFUS_MENAGE;
    s_ok(w->cb, T(ATTRIBUTION_NON_SUIVIE_DE_BAIL), FBT_RESA, vacancy, &a.base);
}

static int s_script(fbt_pair_t *w)
{
    int year = period_year_of(fb_now_ms());
    s_convention(w, year);
    static const s_household_t h1[] = {{"074012500000101", Q(Q2), false}},
                               h2[] = {{"074012500000102", Q(Q1), true}},
                               h3[] = {{"074012500000103", Q(Q3), false},
                                       {"074012500000999", Q(Q3), false}},
                               h4[] = {{"074012500000104", Q(Q4), false},
                                       {"074012500000999", Q(Q3), false}};
    s_to_caleol(w, "V1", "RPLS-QPV", "RES-A", h1, 1);
    fbt_accept_and_lease(w->cb, FBT_RESA, "V1", h1[0].nur, S_CONV, h1[0].quartile == Q(Q1));
    s_to_caleol(w, "V2", "RPLS-2", "RES-A", h2, 1);
    fbt_accept_and_lease(w->cb, FBT_RESA, "V2", h2[0].nur, S_CONV, h2[0].quartile == Q(Q1));
    s_to_caleol(w, "V3", "RPLS-3", "RES-<B>", h3, 2);
    s_refused(w, "V3", h3[0].nur);
    s_to_caleol(w, "V4", "RPLS-4", "RES-C", h4, 2);
    fbt_accept_and_lease(w->cb, FBT_RESA, "V4", h4[0].nur, S_CONV, h4[0].quartile == Q(Q1));
    return year;
}

/* Writes text to dir/name; the path goes to path. */
static void s_write(const char *dir, const char *name, const char *text, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void s_import(fbt_pair_t *w, const char *kind, const char *name, const char *text)
{
    char path[600];
    s_write(w->b.dir, name, text, path, sizeof path);
    int rc = fbt_sh(NULL, 0, "'%s' refdata import --store '%s' %s '%s'", FB_CLI_BIN, w->b.store,
                    kind, path);
    assert_int_equal(rc, 0);
}

static void s_reference_data(fbt_pair_t *w, int year)
{
    char text[512], path[600], out[4096];
    snprintf(text, sizeof text,
             "epci_siren;epci_name;year;q1_threshold_eur;source\n"
             "200066793;Grand Annecy;%d;11 380,00;arrêté\n",
             year);
    s_import(w, "q1-thresholds", "q1.csv", text);
    s_import(w, "qpv", "qpv.csv",
             "scope;key;status;qpv_code;valid_from;valid_to;source\n"
             "rpls;RPLS-QPV;out;;2015-01-01;2023-12-31;carte 2015\n"
             "rpls;RPLS-QPV;in;QN07401M;2024-01-01;;carte 2024\n");
    s_import(w, "objectives", "objectives.csv",
             "objective;target_percent;valid_from;valid_to;source\n"
             "q1_hors_qpv;25;2017-01-28;;CCH L441-1\n"
             "prioritaires;25;2017-01-28;;CCH L441-1\n"
             "non_q1_en_qpv;50;2018-11-25;;CCH L441-1\n");
    s_import(w, "cia-targets", "cia.csv",
             "epci_siren;scope;scope_id;objective;target_percent;valid_from;valid_to;source\n"
             "200066793;epci;;q1_hors_qpv;55 %;2024-01-01;;CIA du Grand Annecy\n");
    /* A bad file: refused whole, naming the line and the column. */
    s_write(w->b.dir, "bad.csv",
            "scope;key;status;valid_from\n"
            "rpls;RPLS-9;in;2024-01-01\n"
            "rpls;RPLS-9;out;31/02/2024\n",
            path, sizeof path);
    char cmd[1500];
    snprintf(cmd, sizeof cmd, "'%s' refdata import --store '%s' qpv '%s' 2>&1", FB_CLI_BIN,
             w->b.store, path);
    assert_int_equal(fbt_sh(out, sizeof out, "%s", cmd), 2);
    if (!strstr(out, "line 3, column valid_from"))
        fail_msg("the error does not name line 3, column valid_from: %s", out);
    assert_int_equal(fbt_sh(out, sizeof out, "'%s' refdata list --store '%s' --format csv qpv",
                            FB_CLI_BIN, w->b.store),
                     0);
    assert_memory_equal(out, "\xEF\xBB\xBFscope;", 9); /* byte order mark first */
    assert_null(strstr(out, "RPLS-9"));
    assert_non_null(strstr(out, "rpls;RPLS-QPV;in;QN07401M;2024-01-01;;carte 2024\n"));
}

/* The objective line of the first EPCI with these keys. */
static const json_t *s_objective(const json_t *doc, const char *objective, const char *level,
                                 const char *resa)
{
    const json_t *epci = json_array_get(json_object_get(doc, "epcis"), 0);
    size_t i;
    const json_t *o;
    json_array_foreach(json_object_get(epci, "objectives"), i, o)
    {
        const json_t *r = json_object_get(o, "reservataire");
        if (strcmp(json_string_value(json_object_get(o, "objective")), objective) == 0 &&
            strcmp(json_string_value(json_object_get(o, "level")), level) == 0 &&
            (resa ? json_is_string(r) && strcmp(json_string_value(r), resa) == 0 : json_is_null(r)))
            return o;
    }
    fail_msg("no %s %s objective for %s", level, objective, resa ? resa : "all");
    return NULL;
}

static void s_check_objective(const json_t *doc, const char *objective, const char *level,
                              const char *resa, int num, int den, const char *status)
{
    const json_t *o = s_objective(doc, objective, level, resa);
    const char *got = json_string_value(json_object_get(o, "status"));
    if (fbt_json_int(o, "numerator") != num || fbt_json_int(o, "denominator") != den ||
        strcmp(got, status))
        fail_msg("%s %s: %d/%d %s, expected %d/%d %s", level, objective,
                 (int)fbt_json_int(o, "numerator"), (int)fbt_json_int(o, "denominator"), got, num,
                 den, status);
}

static void s_check_json(fbt_pair_t *w, int year)
{
    static char out[1 << 18];
    assert_int_equal(fbt_sh(out, sizeof out,
                            "'%s' report bilan --store '%s' --year %d --bailleur 552046955",
                            FB_CLI_BIN, w->b.store, year),
                     0);
    json_error_t e;
    json_t *doc = json_loads(out, 0, &e);
    if (!doc)
        fail_msg("report is not JSON (%s): %.200s", e.text, out);
    assert_string_equal(json_string_value(json_object_get(doc, "report")), "bilan");
    assert_int_equal(fbt_json_int(doc, "total.attributions"), 4);
    assert_int_equal(fbt_json_int(doc, "total.leases"), 3);
    assert_int_equal(fbt_json_int(doc, "total.prioritaires"), 1);
    assert_int_equal(fbt_json_int(doc, "total.q1"), 1);
    assert_int_equal(fbt_json_int(doc, "total.orientations"), 4);
    s_check_objective(doc, "q1_hors_qpv", "legal", NULL, 1, 2, "pass");
    s_check_objective(doc, "q1_hors_qpv", "cia", NULL, 1, 2, "fail");
    s_check_objective(doc, "prioritaires", "legal", FBT_RESA, 1, 4, "pass");
    s_check_objective(doc, "non_q1_en_qpv", "legal", NULL, 1, 1, "pass");
    const json_t *resa =
        json_array_get(json_object_get(json_object_get(doc, "breakdowns"), "reservataire"), 0);
    assert_int_equal(fbt_json_int(resa, "orientations"), 4);
    const json_t *qpv =
        json_array_get(json_object_get(json_object_get(doc, "breakdowns"), "qpv"), 0);
    assert_true(json_is_null(json_object_get(qpv, "orientations"))); /* not counted there */
    assert_int_equal(fbt_json_int(resa, "convention.objective"), 5);
    assert_int_equal(fbt_json_int(resa, "convention.done"), 3);
    const json_t *an = json_object_get(doc, "analyses");
    const json_t *refusal = json_array_get(json_object_get(an, "refusals_by_residence"), 0);
    assert_string_equal(json_string_value(json_object_get(refusal, "residence_id")), "RES-<B>");
    assert_int_equal(fbt_json_int(refusal, "motifs.loyer_trop_eleve"), 1);
    const json_t *rep = json_array_get(
        json_object_get(json_object_get(an, "repeated_candidates"), "candidates"), 0);
    assert_string_equal(json_string_value(json_object_get(rep, "nur")), "074012500000999");
    assert_int_equal(fbt_json_int(rep, "presentations"), 2);
    assert_int_equal(fbt_json_int(an, "q1_in_proposals_hors_qpv.candidates"), 5);
    assert_int_equal(fbt_json_int(an, "q1_in_proposals_hors_qpv.q1_candidates"), 1);
    json_decref(doc);
}

static void s_check_csv(fbt_pair_t *w, int year)
{
    static char out[1 << 18];
    assert_int_equal(fbt_sh(out, sizeof out,
                            "'%s' report bilan --store '%s' --year %d --format csv", FB_CLI_BIN,
                            w->b.store, year),
                     0);
    assert_memory_equal(out, "\xEF\xBB\xBFreport;bilan;", 16); /* byte order mark first */
    static const char *const lines[] = {
        "\nobjective;200066793;Grand Annecy;q1_hors_qpv;legal;epci;200066793;;1;2;50,0;25,0;pass;",
        "\nobjective;200066793;Grand Annecy;q1_hors_qpv;cia;epci;200066793;;1;2;50,0;55,0;fail;",
        /* orientations: counted per réservataire only, empty elsewhere */
        "\nbreakdown;qpv;in_qpv;en QPV;;1;0;0;0;1;0;;\n",
        "\nbreakdown;reservataire;" FBT_RESA ";" FBT_RESA ";4;4;",
        "\nbreakdown;total;total;total;4;4;",
        "\nrefusals;bailleur:552046955;RES-<B>;74010;1;0;0;1;",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        if (!strstr(out, lines[i]))
            fail_msg("no line %s in:\n%s", lines[i] + 1, out);
    /* Plain codes by default (for programs): the NUR as it is. */
    if (!strstr(out, "\nrepeated;074012500000999;2;"))
        fail_msg("no plain NUR in:\n%s", out);
    /* --codes-as-text, for a spreadsheet: codes of digits as ="...", kept as
     * text with their leading zero by Excel opening the file; other text
     * unchanged and still guarded. */
    static char text[1 << 18];
    assert_int_equal(fbt_sh(text, sizeof text,
                            "'%s' report bilan --store '%s' --year %d --format csv --no-bom "
                            "--codes-as-text",
                            FB_CLI_BIN, w->b.store, year),
                     0);
    static const char *const coded[] = {
        "\nrepeated;=\"074012500000999\";2;",
        "\nrefusals;bailleur:552046955;RES-<B>;=\"74010\";1;0;0;1;",
        "\nobjective;=\"200066793\";Grand Annecy;q1_hors_qpv;legal;epci;=\"200066793\";;1;2;50,0;",
    };
    for (size_t i = 0; i < sizeof coded / sizeof coded[0]; i++)
        if (!strstr(text, coded[i]))
            fail_msg("no line %s in:\n%s", coded[i] + 1, text);
    fbt_csv_tables_even(out);
}

static void s_check_html(fbt_pair_t *w, int year)
{
    char page[600];
    snprintf(page, sizeof page, "%s/bilan.html", w->b.dir);
    assert_int_equal(fbt_sh(NULL, 0,
                            "'%s' report bilan --store '%s' --year %d --format html --output '%s'",
                            FB_CLI_BIN, w->b.store, year, page),
                     0);
    /* Self-contained: nothing to fetch, nothing to run, messages' text escaped. */
    static char html[1 << 18];
    assert_int_equal(fbt_sh(html, sizeof html, "cat '%s'", page), 0);
    static const char *const never[] = {"<script", "src=", "href=", "url(", "@import", "RES-<B>"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (strstr(html, never[i]))
            fail_msg("the page holds \"%s\"", never[i]);
    assert_non_null(strstr(html, "RES-&lt;B&gt;"));
    const char *chromium = fbt_chromium();
    if (!chromium) {
        fprintf(stderr, "SKIPPED: chromium is not installed (scripts/setup-debian installs it): "
                        "the HTML page was not checked in a browser\n");
        skip();
    }
    static char dom[1 << 18];
    char shot[700];
    snprintf(shot, sizeof shot, "%s/bilan.png", w->b.dir);
    fbt_chromium_render(&w->b, chromium, page, dom, sizeof dom, shot, 1200, 2600);
    static const char *const figures[] = {
        "data-kpi=\"attributions\"><b>4</b>",
        "data-kpi=\"leases\"><b>3</b>",
        "data-objective=\"q1_hors_qpv\" data-level=\"legal\" data-scope=\"epci:200066793\" "
        "data-reservataire=\"\" data-status=\"pass\" data-num=\"1\" data-den=\"2\"",
        "data-objective=\"q1_hors_qpv\" data-level=\"cia\" data-scope=\"epci:200066793\" "
        "data-reservataire=\"\" data-status=\"fail\" data-num=\"1\" data-den=\"2\"",
        "data-objective=\"prioritaires\" data-level=\"legal\" data-scope=\"epci:200066793\" "
        "data-reservataire=\"" FBT_RESA "\" data-status=\"pass\" data-num=\"1\" data-den=\"4\"",
        "data-dim=\"reservataire\" data-key=\"" FBT_RESA
        "\" data-attributions=\"4\" data-done=\"3\" data-objective=\"5\"",
        "data-dim=\"qpv\" data-key=\"in_qpv\" data-attributions=\"1\"",
        "data-nur=\"074012500000999\" data-presentations=\"2\"",
        "<svg id=\"monthly-flow\"",
        "Grand Annecy",
    };
    fbt_dom_holds(dom, figures, sizeof figures / sizeof figures[0]);
    assert_int_equal(fbt_html_series_sum(dom, "orientations"), 4);
    assert_int_equal(fbt_html_series_sum(dom, "attributions"), 4);
    assert_int_equal(fbt_html_series_sum(dom, "leases"), 3);
    /* And it draws: a screenshot of the page is a real picture. */
    fbt_png_ok(shot);
}

static void test_bilan_from_signed_messages_to_the_page(void **state)
{
    fbt_pair_t w;
    fbt_pair_open(&w);
    int year = s_script(&w);
    s_reference_data(&w, year);
    s_check_json(&w, year);
    s_check_csv(&w, year);
    /* Bad command lines. */
    assert_int_equal(fbt_sh(NULL, 0, "'%s' report bilan --store '%s' --format pdf 2>/dev/null",
                            FB_CLI_BIN, w.b.store),
                     1);
    assert_int_equal(fbt_sh(NULL, 0, "'%s' report bilan --store '%s/none.db' --year %d 2>/dev/null",
                            FB_CLI_BIN, w.b.dir, year),
                     5);
    s_check_html(&w, year);
    fbt_pair_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bilan_from_signed_messages_to_the_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
