/* 31_ledger_report_flux - the décompte from signed messages to the report.
 * On a real broker, the bailleur sends a Convention with Action Logement
 * (Annecy and Annecy-le-Vieux, at most 3 placements, counted at the lease),
 * frees six dwellings and takes four of them through their life with the
 * réservataire's client: one to the lease, one given back, one agreed in
 * CALEOL, one only accepted. The broker refuses, with INVALID_TRANSITION and
 * a reason, an orientation outside the convention's territory and the one
 * that would overbook it. Then `fluxbus report flux` on the store (opened
 * read-only, beside the running broker and after it stopped) gives the three
 * counts apart (3, 2, 1), the official one, the progress against the
 * objective, the per-commune and fairness tables, in JSON (parsed) and in
 * CSV lines with ';' and decimal commas. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "builders.h"
#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "period.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_CONV "C-AL-74"
#define S_NUR1 "074012500000001"
#define S_NUR3 "074012500000003"

/* Sends and asserts the broker accepted it. */
static void s_ok(fb_client_t *c, int type, const char *to, const char *vacancy,
                 const ProtobufCMessage *payload)
{
    fbt_send_ok(c, type, to, vacancy, payload);
}

static void s_convention(fbt_pair_t *w, int year)
{
    builders_annecy_t k;
    builders_annecy(&k, S_CONV, FBT_BAILLEUR, FBT_RESA, year);
    s_ok(w->cb, T(CONVENTION), FBT_RESA, NULL, &k.c.base);
}

static void s_libere(fbt_pair_t *w, const char *vacancy, const char *insee)
{
    Fluxbus__V1__LogementLibere l = builders_libere(vacancy, insee);
    l.bailleur_siren = BUILDERS_SIREN;
    l.mode_gestion = FLUXBUS__V1__MODE_GESTION__MODE_GESTION_FLUX;
    s_ok(w->cb, T(LOGEMENT_LIBERE), FBT_RESA, vacancy, &l.base);
}

static fb_err_t s_orient(fbt_pair_t *w, const char *vacancy, fb_receipt_t *r)
{
    Fluxbus__V1__Orientation o =
        life_msgs_orientation(vacancy, S_CONV, FBT_RESA, 1, 1, fb_now_ms() + 15 * BUILDERS_DAY_MS);
    o.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    return fbt_send_msg(w->cb, T(ORIENTATION), FBT_RESA, vacancy, &o.base, r);
}

/* Oriented (accepted by the broker) and acknowledged by the réservataire. */
static void s_oriented_and_acked(fbt_pair_t *w, const char *vacancy)
{
    fb_receipt_t r = {0};
    if (s_orient(w, vacancy, &r) != FB_OK)
        fail_msg("orientation of %s refused: %s", vacancy, r.detail);
    fb_receipt_clear(&r);
    Fluxbus__V1__OrientationAck a = builders_ack(vacancy, S_CONV);
    s_ok(w->cr, T(ORIENTATION_ACK), FBT_BAILLEUR, vacancy, &a.base);
}

static void s_designated(fbt_pair_t *w, const char *vacancy, const char *nur)
{
    Fluxbus__V1__Designation d = builders_designation(vacancy, S_CONV, nur, 1, 1);
    s_ok(w->cr, T(DESIGNATION), FBT_BAILLEUR, vacancy, &d.base);
}

static void s_given_back(fbt_pair_t *w, const char *vacancy)
{
    Fluxbus__V1__RemiseADisposition r = FLUXBUS__V1__REMISE_ADISPOSITION__INIT;
    r.vacancy_id = (char *)vacancy;
    r.convention_id = S_CONV;
    r.reason = FLUXBUS__V1__REMISE_REASON__REMISE_REASON_NO_CANDIDATE;
    s_ok(w->cr, T(REMISE_A_DISPOSITION), FBT_BAILLEUR, vacancy, &r.base);
}

/* The orientation is refused with INVALID_TRANSITION and a detail saying `why`. */
static void s_orientation_refused(fbt_pair_t *w, const char *vacancy, const char *why)
{
    fb_receipt_t r = {0};
    assert_int_equal(s_orient(w, vacancy, &r), FB_ERR_INVALID_TRANSITION);
    assert_false(r.accepted);
    if (!strstr(r.detail, why))
        fail_msg("Nack detail \"%s\" does not say \"%s\"", r.detail, why);
    fb_receipt_clear(&r);
}

/* The year as the ledger sees it (Paris), and the scripted life. */
static int s_script(fbt_pair_t *w)
{
    int year = period_year_of(fb_now_ms());
    s_convention(w, year);
    s_libere(w, "V1", "74010");
    s_libere(w, "V2", "74010");
    s_libere(w, "V3", "74011");
    s_libere(w, "V4", "74010");
    s_libere(w, "V5", "74256"); /* Sallanches: outside the convention */
    s_libere(w, "V6", "74010");
    s_oriented_and_acked(w, "V1");
    s_designated(w, "V1", S_NUR1);
    fbt_caleol_agree(w->cb, FBT_RESA, "V1", S_NUR1, false);
    fbt_accept_and_lease(w->cb, FBT_RESA, "V1", S_NUR1, S_CONV, false);
    s_oriented_and_acked(w, "V2");
    s_given_back(w, "V2"); /* not counted: the right comes back */
    s_oriented_and_acked(w, "V3");
    s_designated(w, "V3", S_NUR3);
    fbt_caleol_agree(w->cb, FBT_RESA, "V3", S_NUR3, false);
    s_oriented_and_acked(w, "V4");
    s_orientation_refused(w, "V5", "outside the territory");
    s_orientation_refused(w, "V6", "surréservation");
    assert_true(fbt_log_contains(&w->b, "reason=INVALID_TRANSITION"));
    return year;
}

static json_t *s_report_json(fbt_pair_t *w, int year, const char *extra)
{
    static char out[1 << 17];
    int rc = fbt_sh(out, sizeof out, "'%s' report flux --store '%s' --year %d --format json %s",
                    FB_CLI_BIN, w->b.store, year, extra);
    assert_int_equal(rc, 0);
    json_error_t e;
    json_t *doc = json_loads(out, 0, &e);
    if (!doc)
        fail_msg("report is not JSON (%s): %.200s", e.text, out);
    return doc;
}

static void s_check_json(fbt_pair_t *w, int year)
{
    json_t *doc = s_report_json(w, year, "--bailleur " FBT_BAILLEUR);
    assert_string_equal(json_string_value(json_object_get(doc, "report")), "flux");
    json_t *convs = json_object_get(doc, "conventions");
    assert_int_equal(json_array_size(convs), 1);
    json_t *c = json_array_get(convs, 0);
    assert_string_equal(json_string_value(json_object_get(c, "convention_id")), S_CONV);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(c, "counting"), "official_method")),
        "bail_signe");
    json_t *line = json_array_get(json_object_get(c, "lines"), 0);
    assert_string_equal(json_string_value(json_object_get(line, "party")), FBT_RESA);
    assert_int_equal(fbt_json_int(line, "freed"), 5); /* V1-V4 and V6; not V5 */
    assert_int_equal(fbt_json_int(line, "orientations"), 4);
    assert_int_equal(fbt_json_int(line, "acks"), 4);
    assert_int_equal(fbt_json_int(line, "designations"), 2);
    assert_int_equal(fbt_json_int(line, "remises"), 1);
    assert_int_equal(fbt_json_int(line, "caleol.attributions"), 2);
    assert_int_equal(fbt_json_int(line, "leases"), 1);
    assert_int_equal(fbt_json_int(line, "counts.orientation_acceptee"), 3); /* V1 V3 V4 */
    assert_int_equal(fbt_json_int(line, "counts.passage_caleol"), 2);       /* V1 V3 */
    assert_int_equal(fbt_json_int(line, "counts.bail_signe"), 1);           /* V1 */
    assert_int_equal(fbt_json_int(line, "counts.official"), 1);
    json_t *obj = json_array_get(json_object_get(line, "objectives"), 0);
    assert_string_equal(json_string_value(json_object_get(obj, "kind")), "placements");
    assert_int_equal(fbt_json_int(obj, "target"), 3);
    assert_int_equal(fbt_json_int(obj, "done"), 1);
    assert_int_equal(fbt_json_int(obj, "remaining"), 2);
    assert_string_equal(json_string_value(json_object_get(obj, "status")), "in_progress");
    /* Its row: the dwellings freed in its convention's scope, as its line. */
    json_t *resa = json_array_get(json_object_get(doc, "reservataires"), 0);
    assert_string_equal(json_string_value(json_object_get(resa, "reservataire")), FBT_RESA);
    assert_int_equal(fbt_json_int(resa, "freed"), 5);
    assert_int_equal(fbt_json_int(resa, "hors_flux"), 0);
    /* Per commune: Annecy holds V1 (leased) and V4; Annecy-le-Vieux V3. */
    json_t *communes = json_object_get(doc, "communes");
    size_t i;
    json_t *row;
    int seen = 0;
    json_array_foreach(communes, i, row)
    {
        const char *insee = json_string_value(json_object_get(row, "commune_insee"));
        if (strcmp(insee, "74010") == 0) {
            assert_int_equal(fbt_json_int(row, "freed"), 4);
            assert_int_equal(fbt_json_int(row, "counts.orientation_acceptee"), 2);
            assert_int_equal(fbt_json_int(row, "counts.bail_signe"), 1);
            seen++;
        } else if (strcmp(insee, "74011") == 0) {
            assert_int_equal(fbt_json_int(row, "counts.passage_caleol"), 1);
            seen++;
        }
    }
    assert_int_equal(seen, 2);
    json_t *fair = json_object_get(doc, "fairness");
    assert_int_equal(fbt_json_int(fair, "threshold"), 3);
    assert_int_equal(fbt_json_int(fair, "orientations"), 4);
    json_t *f = json_array_get(json_object_get(fair, "reservataires"), 0);
    assert_int_equal(fbt_json_int(f, "orientation_share_pm"), 1000);
    json_decref(doc);

    /* Another réservataire has nothing here. */
    doc = s_report_json(w, year, "--reservataire reservataire:etat-74");
    assert_int_equal(json_array_size(json_object_get(doc, "conventions")), 0);
    json_decref(doc);

    /* The bailleur by its SIREN: the same report, for its actor id. */
    doc = s_report_json(w, year, "--bailleur 552046955");
    assert_int_equal(json_array_size(json_object_get(doc, "conventions")), 1);
    assert_string_equal(json_string_value(json_object_get(doc, "bailleur")), FBT_BAILLEUR);
    json_decref(doc);
    static char out[4096];
    assert_int_equal(fbt_sh(out, sizeof out,
                            "'%s' report flux --store '%s' --year %d --bailleur 5520 2>&1",
                            FB_CLI_BIN, w->b.store, year),
                     1);
    if (!strstr(out, "neither an actor id"))
        fail_msg("no reason for the bad --bailleur: %s", out);
    /* A filter the ledger knows nothing of gives an empty report, which
     * reads like a year with nothing done: a note on stderr says so. */
    static const char *const unknown[][2] = {
        {"--reservataire reservataire:etat-74", "has no orientation nor candidate of it"},
        {"--bailleur bailleur:775663438", "has no dwelling of it"},
        {"--bailleur 775663438", "has no dwelling of it"},
        {"--bailleur 552046955 --reservataire " FBT_RESA, NULL},
    };
    for (size_t k = 0; k < sizeof unknown / sizeof unknown[0]; k++) {
        assert_int_equal(fbt_sh(out, sizeof out,
                                "'%s' report flux --store '%s' --year %d %s 2>&1 >/dev/null",
                                FB_CLI_BIN, w->b.store, year, unknown[k][0]),
                         0);
        if (unknown[k][1] ? !strstr(out, unknown[k][1]) : out[0] != '\0')
            fail_msg("report flux %s: stderr \"%s\"", unknown[k][0], out);
    }
}

static void s_check_csv(fbt_pair_t *w, int year)
{
    static char out[1 << 17];
    assert_int_equal(fbt_sh(out, sizeof out, "'%s' report flux --store '%s' --year %d --format csv",
                            FB_CLI_BIN, w->b.store, year),
                     0);
    /* A UTF-8 byte order mark first (French Excel), none with --no-bom. */
    assert_memory_equal(out, "\xEF\xBB\xBFreport;flux;", 15);
    static char plain[1 << 17];
    assert_int_equal(fbt_sh(plain, sizeof plain,
                            "'%s' report flux --store '%s' --year %d --format csv --no-bom",
                            FB_CLI_BIN, w->b.store, year),
                     0);
    assert_string_equal(plain, out + 3);
    char expect[512];
    /* table;convention_id;revision;official_method;party;commune_insee;freed;hors_flux;
     * orientations;acks;declines;designations;remises;expiries;caleol x3;refusals;
     * non_suites;leases;counts x4;prioritaires and DALO x4;objective target;done;progress;
     * status */
    snprintf(
        expect, sizeof expect,
        "\nconvention;%s;1;bail_signe;%s;;5;0;4;4;0;2;1;0;2;0;0;0;0;1;3;2;1;1;0;0;0;0;3;1;33,3;"
        "in_progress\n",
        S_CONV, FBT_RESA);
    if (!strstr(out, expect))
        fail_msg("no line %s in:\n%s", expect, out);
    snprintf(expect, sizeof expect, "\nreservataire;%s;5;0;4;4;", FBT_RESA);
    if (!strstr(out, expect))
        fail_msg("no line %s in:\n%s", expect, out);
    snprintf(expect, sizeof expect, "\nfairness;%s;4;100,0;0;0,0;3\n", FBT_RESA);
    assert_non_null(strstr(out, expect));
    assert_non_null(strstr(out, "\ncommune;74256;1;0;"));
    /* --codes-as-text: the INSEE code as ="74256", which Excel keeps as text
     * (a leading zero, 01004, would stay); numbers stay numbers. */
    static char text[1 << 17];
    assert_int_equal(fbt_sh(text, sizeof text,
                            "'%s' report flux --store '%s' --year %d --format csv --no-bom "
                            "--codes-as-text",
                            FB_CLI_BIN, w->b.store, year),
                     0);
    if (!strstr(text, "\ncommune;=\"74256\";1;0;"))
        fail_msg("no coded commune in:\n%s", text);
    fbt_csv_tables_even(out);
}

static void test_report_flux_from_signed_messages(void **state)
{
    fbt_pair_t w;
    fbt_pair_open(&w);
    int year = s_script(&w);
    s_check_json(&w, year); /* beside the running broker */
    s_check_csv(&w, year);
    /* A missing store is a store error, not an empty report. */
    assert_int_equal(fbt_sh(NULL, 0, "'%s' report flux --store '%s/none.db' --year %d 2>/dev/null",
                            FB_CLI_BIN, w.b.dir, year),
                     5);
    assert_int_equal(
        fbt_sh(NULL, 0, "'%s' report flux --store '%s' 2>/dev/null", FB_CLI_BIN, w.b.store), 1);
    /* With the broker stopped: the same figures from the closed store. */
    fb_client_destroy(&w.cb);
    fb_client_destroy(&w.cr);
    assert_int_equal(fbt_stop(&w.b, SIGTERM), 0);
    s_check_json(&w, year);
    fbt_teardown(&w.b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_flux_from_signed_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
