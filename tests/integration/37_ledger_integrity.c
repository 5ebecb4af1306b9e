/* 37_ledger_integrity - the ledger's integrity rules over the wire, which
 * had unit tests only (ledger/conventions.c, ledger/lifecycle.c,
 * ledger/ledger.c): a Convention from a non-party, an amended or lower
 * revision; a DeadlineExpired before the deadline; a correlation_id that is
 * not the payload's vacancy; a let vacancy a NON_ATTRIBUTION does not
 * reopen; the same Orientation round again (a no-op) and amended (refused);
 * an Orientation under another year's convention; an Orientation en flux
 * naming no convention, an unknown one, or one that does not bind its
 * réservataire; an Orientation asking fewer candidates than its
 * convention, and a decision before the round it gets is complete. Each
 * refusal is a broker-signed Nack with INVALID_TRANSITION and its detail,
 * and nothing is stored: the ledger's tables are unchanged and `fluxbus
 * audit verify` counts only the accepted messages. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "builders.h"
#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "period.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define CODE(x) FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_##x
#define S_RESA2 "reservataire:prefet-74"
#define S_SNE "sne:national"
#define S_CONV "C-AL-74"
#define N1 "074011926000001"
#define N2 "074011926000002"
#define S_OUT 16384

typedef struct {
    fbt_pair_t p;
    fb_keys_t resa2, sne;
    fb_client_t *cr2;
    char out[S_OUT];
} s_world_t;

/* The ledger's facts tables, as text (fbt_sql_text). */
#define S_FACTS_SQL                                                                                \
    "SELECT * FROM ledger_vacancies ORDER BY 1;"                                                   \
    " SELECT * FROM ledger_orientations ORDER BY 1, 2, 3;"                                         \
    " SELECT * FROM ledger_candidates ORDER BY 1, 2;"                                              \
    " SELECT convention_id, revision, hex(payload) FROM ledger_conventions ORDER BY 1, 2"
/* The facts and the number of events (one per accepted domain message). */
#define S_LEDGER_SQL S_FACTS_SQL "; SELECT count(*) FROM ledger_events"

/* `fluxbus report flux` for this year, in JSON. */
static char *s_report(s_world_t *w)
{
    assert_int_equal(fbt_sh(w->out, sizeof w->out,
                            "'%s' report flux --store '%s' --year %d --format json", FB_CLI_BIN,
                            w->p.b.store, fbt_year_now()),
                     0);
    return strdup(w->out);
}

/* `fluxbus audit verify` passes and counts exactly the accepted messages. */
static void s_audit_ok(s_world_t *w)
{
    fbt_audit_ok(&w->p.b, w->p.last_seq);
}

/* Refused with INVALID_TRANSITION and exactly `detail` (or, ending in
 * "...", a detail starting with it), in a Nack the broker signed; nothing
 * stored: same ledger, and the audit still counts only what was accepted. */
static void s_refused(s_world_t *w, fb_client_t *c, int type, const char *to, const char *corr,
                      const ProtobufCMessage *payload, const char *detail)
{
    fbt_pair_refused(&w->p, S_LEDGER_SQL, c, type, to, corr, payload, FB_ERR_INVALID_TRANSITION,
                     detail);
    s_audit_ok(w);
}

/* ---- the messages ---- */

static Fluxbus__V1__LogementLibere s_libere_msg(const char *vacancy, const char *insee)
{
    Fluxbus__V1__LogementLibere l = builders_libere(vacancy, insee);
    l.rpls_id = "0740123456789";
    return l;
}

static void s_libere(s_world_t *w, const char *vacancy)
{
    Fluxbus__V1__LogementLibere l = s_libere_msg(vacancy, "74010");
    fbt_pair_ok(&w->p, w->p.cb, T(LOGEMENT_LIBERE), FBT_RESA, vacancy, &l.base);
}

static Fluxbus__V1__Orientation s_orientation(const char *vacancy, const char *conv,
                                              int64_t deadline_ms, unsigned expected)
{
    return life_msgs_orientation(vacancy, conv, FBT_RESA, 1, expected, deadline_ms);
}

static void s_orient(s_world_t *w, const char *vacancy, unsigned expected)
{
    Fluxbus__V1__Orientation o =
        s_orientation(vacancy, FBT_CONV, fb_now_ms() + 10LL * 86400000, expected);
    fbt_pair_ok(&w->p, w->p.cb, T(ORIENTATION), FBT_RESA, vacancy, &o.base);
}

static void s_designate(s_world_t *w, const char *vacancy, const char *nur, unsigned rank,
                        unsigned count)
{
    Fluxbus__V1__Designation d = builders_designation(vacancy, NULL, nur, rank, count);
    fbt_pair_ok(&w->p, w->p.cr, T(DESIGNATION), FBT_BAILLEUR, vacancy, &d.base);
}

static Fluxbus__V1__CaleolDecision s_decision(const char *vacancy, const char *nur, int code,
                                              unsigned rank)
{
    return builders_decision("caleol-annecy-2026-03", vacancy, nur, rank, FBT_RESA, code);
}

/* S_CONV, Action Logement's convention with FBT_RESA on Annecy, at `revision`. */
static void s_convention(builders_annecy_t *k, unsigned revision, int year)
{
    builders_annecy(k, S_CONV, FBT_BAILLEUR, FBT_RESA, year);
    k->c.revision = revision;
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
    /* The convention the orientations are made under (S_CONV is the
     * tests' own, sent when they need it). */
    w->p.last_seq = fbt_convention(w->p.cb, FBT_CONV, FBT_RESA, w->p.cr);
}

static void s_close(s_world_t *w)
{
    fb_client_destroy(&w->cr2);
    fbt_pair_close(&w->p);
}

/* ---- tests ---- */

static void test_convention_parties_and_revisions(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    builders_annecy_t k;
    s_convention(&k, 2, fbt_year_now());
    s_refused(&w, w.cr2, T(CONVENTION), FBT_RESA, NULL, &k.c.base,
              "Convention " S_CONV " revision 2 sent by " S_RESA2 ", who is not one of its "
              "parties (bailleur " FBT_BAILLEUR ", réservataire " FBT_RESA ")");
    /* An amendment: in force once both parties sent it. */
    fbt_pair_ok(&w.p, w.p.cb, T(CONVENTION), FBT_RESA, NULL, &k.c.base);
    fbt_pair_ok(&w.p, w.p.cr, T(CONVENTION), FBT_BAILLEUR, NULL, &k.c.base);
    char *stored = fbt_sql_text(&w.p.b, S_LEDGER_SQL);
    assert_non_null(strstr(stored, S_CONV "|2|"));
    k.c.deadline_days = 20;
    s_refused(&w, w.p.cb, T(CONVENTION), FBT_RESA, NULL, &k.c.base,
              "Convention " S_CONV " revision 2 is stored already with other content: an "
              "amendment is a new revision (3)");
    k.c.deadline_days = 15; /* the same content again: accepted, as before */
    fbt_pair_ok(&w.p, w.p.cb, T(CONVENTION), FBT_RESA, NULL, &k.c.base);
    char *again = fbt_sql_text(&w.p.b, S_LEDGER_SQL);
    assert_string_equal(stored, again);
    free(stored);
    free(again);
    k.c.revision = 1;
    s_refused(&w, w.p.cb, T(CONVENTION), FBT_RESA, NULL, &k.c.base,
              "Convention " S_CONV " revision 1 is below its last revision 2: an amendment "
              "is a new revision (3)");
    s_audit_ok(&w);
    s_close(&w);
}

/* The terms in force of S_CONV, from `fluxbus report flux`: its revision,
 * official method and placements objective (value, max). */
static void s_terms(s_world_t *w, int *revision, char *method, size_t mlen, int *value, int *max)
{
    char *out = s_report(w);
    json_error_t e;
    json_t *doc = json_loads(out, 0, &e);
    free(out);
    if (!doc)
        fail_msg("report is not JSON: %s", e.text);
    json_t *convs = json_object_get(doc, "conventions"), *c = NULL;
    for (size_t i = 0; i < json_array_size(convs); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(convs, i), "convention_id")),
                   S_CONV) == 0)
            c = json_array_get(convs, i);
    assert_non_null(c);
    *revision = (int)json_integer_value(json_object_get(c, "revision"));
    snprintf(method, mlen, "%s",
             json_string_value(json_object_get(json_object_get(c, "counting"), "official_method")));
    json_t *o = json_array_get(json_object_get(json_object_get(c, "total"), "objectives"), 0);
    *value = (int)json_integer_value(json_object_get(o, "value"));
    *max = (int)json_integer_value(json_object_get(o, "max"));
    json_decref(doc);
}

static void s_expect_terms(s_world_t *w, int revision, const char *method, int value, int max)
{
    int r = 0, v = 0, m = 0;
    char how[32] = "";
    s_terms(w, &r, how, sizeof how, &v, &m);
    assert_int_equal(r, revision);
    assert_string_equal(how, method);
    assert_int_equal(v, value);
    assert_int_equal(m, max);
}

/* Who signed each revision in force of S_CONV, and each proposal. */
static char *s_signatures(s_world_t *w)
{
    assert_int_equal(
        fbt_sh(w->out, sizeof w->out,
               "sqlite3 -cmd '.timeout 10000' '%s' \"SELECT 'in force', revision, signed_by"
               " FROM ledger_conventions WHERE convention_id = '" S_CONV "'"
               " UNION ALL SELECT 'sent', revision, sender"
               " FROM ledger_convention_proposals WHERE convention_id = '" S_CONV "'"
               " ORDER BY 1, 2, 3\"",
               w->p.b.store),
        0);
    return strdup(w->out);
}

/* The review's case: Action Logement alone sends a revision 2 backdated
 * to 1 January that rewrites the year (objective 12 -> 2, max 14 -> 200,
 * the counting method, délai 10 -> 60 days). It is a proposal only: the
 * terms in force stay those of revision 1 and the bailleur's next
 * orientation is judged under them. A revision 2 of the bailleur's with
 * other terms is refused, naming the field; the same terms countersign
 * it, and it is in force from its date, backdated as both agreed. */
static void test_an_amendment_takes_effect_only_countersigned(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    int year = fbt_year_now();
    Fluxbus__V1__Date january = FLUXBUS__V1__DATE__INIT;
    january.year = year;
    january.month = 1;
    january.day = 1;
    builders_annecy_t r1, r2, other;
    s_convention(&r1, 1, year);
    r1.objective.value = 12;
    r1.objective.max = 14;
    r1.c.deadline_days = 10;
    r1.c.effective_from = &january;
    fbt_pair_ok(&w.p, w.p.cb, T(CONVENTION), FBT_RESA, NULL, &r1.c.base);
    s_expect_terms(&w, 1, "bail_signe", 12, 14);

    s_convention(&r2, 2, year);
    r2.objective.value = 2;
    r2.objective.max = 200;
    r2.c.counting_method = FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_PASSAGE_CALEOL;
    r2.c.deadline_days = 60;
    r2.c.effective_from = &january;
    r2.c.amendment_note = "avenant";
    fbt_pair_ok(&w.p, w.p.cr, T(CONVENTION), FBT_BAILLEUR, NULL, &r2.c.base);
    char *sig = s_signatures(&w);
    assert_string_equal(sig, "in force|1|" FBT_BAILLEUR "\nsent|2|" FBT_RESA "\n");
    free(sig);
    s_expect_terms(&w, 1, "bail_signe", 12, 14);
    /* Under revision 1 (délai 10 days) an 11-day deadline is enough. */
    s_libere(&w, "vac-a1");
    Fluxbus__V1__Orientation o = s_orientation("vac-a1", S_CONV, fb_now_ms() + 11LL * 86400000, 1);
    fbt_pair_ok(&w.p, w.p.cb, T(ORIENTATION), FBT_RESA, "vac-a1", &o.base);

    /* The bailleur's revision 2 with another objective: refused. */
    s_convention(&other, 2, year);
    other.objective.value = 10;
    other.objective.max = 200;
    other.c.counting_method = r2.c.counting_method;
    other.c.deadline_days = 60;
    other.c.effective_from = &january;
    other.c.amendment_note = "avenant";
    s_refused(&w, w.p.cb, T(CONVENTION), FBT_RESA, NULL, &other.c.base,
              "Convention " S_CONV " revision 2 differs from the one " FBT_RESA
              " proposed (objectives): send the same terms to countersign it, or propose "
              "revision 3");
    /* Action Logement cannot change its own proposal either. */
    s_refused(&w, w.p.cr, T(CONVENTION), FBT_BAILLEUR, NULL, &other.c.base,
              "Convention " S_CONV " revision 2 was proposed by " FBT_RESA
              " already with other terms (objectives): a proposal stands, an amendment is a "
              "new revision (3)");
    s_expect_terms(&w, 1, "bail_signe", 12, 14);

    /* The same terms from the bailleur: in force, from 1 January. */
    fbt_pair_ok(&w.p, w.p.cb, T(CONVENTION), FBT_RESA, NULL, &r2.c.base);
    sig = s_signatures(&w);
    assert_string_equal(sig, "in force|1|" FBT_BAILLEUR "\nin force|2|" FBT_RESA " " FBT_BAILLEUR
                             "\nsent|2|" FBT_BAILLEUR "\nsent|2|" FBT_RESA "\n");
    free(sig);
    s_expect_terms(&w, 2, "passage_caleol", 2, 200);
    s_libere(&w, "vac-a2");
    o = s_orientation("vac-a2", S_CONV, fb_now_ms() + 11LL * 86400000, 1);
    char given[11], want[256];
    period_format_date(period_date_of(o.deadline_ms), given);
    snprintf(want, sizeof want,
             "Orientation of vac-a2 to " FBT_RESA " with a deadline on %s, shorter than the 60 "
             "days convention " S_CONV " (revision 2) grants...",
             given);
    s_refused(&w, w.p.cb, T(ORIENTATION), FBT_RESA, "vac-a2", &o.base, want);
    s_audit_ok(&w);
    s_close(&w);
}

static void test_deadline_expired_before_the_deadline(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    s_libere(&w, "vac-d");
    s_orient(&w, "vac-d", 1);
    Fluxbus__V1__DeadlineExpired e = FLUXBUS__V1__DEADLINE_EXPIRED__INIT;
    e.vacancy_id = "vac-d";
    s_refused(&w, w.p.cb, T(DEADLINE_EXPIRED), FBT_RESA, "vac-d", &e.base,
              "DeadlineExpired for " FBT_RESA " on vac-d before its deadline: ...");
    s_close(&w);
}

static void test_correlation_id_is_the_payloads_vacancy(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    s_libere(&w, "vac-x");
    Fluxbus__V1__LogementLibere l = s_libere_msg("vac-y", "74010");
    s_refused(&w, w.p.cb, T(LOGEMENT_LIBERE), FBT_RESA, "vac-x", &l.base,
              "LogementLibere names vacancy vac-y in its payload but vac-x as its "
              "correlation_id: they must be the same");
    Fluxbus__V1__Orientation o = s_orientation("vac-x", FBT_CONV, fb_now_ms() + 86400000LL, 1);
    s_refused(&w, w.p.cb, T(ORIENTATION), FBT_RESA, "vac-y", &o.base,
              "Orientation names vacancy vac-x in its payload but vac-y as its "
              "correlation_id: they must be the same");
    fbt_pair_ok(&w.p, w.p.cb, T(ORIENTATION), FBT_RESA, "vac-x", &o.base);
    s_close(&w);
}

static void test_non_attribution_after_the_lease_does_not_reopen(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    const char *vac = "vac-l";
    s_libere(&w, vac);
    s_orient(&w, vac, 2);
    s_designate(&w, vac, N1, 1, 2);
    s_designate(&w, vac, N2, 2, 2);
    Fluxbus__V1__CaleolDecision d1 = s_decision(vac, N1, CODE(ATTRIBUTION), 1);
    fbt_pair_ok(&w.p, w.p.cb, T(CALEOL_DECISION), FBT_RESA, vac, &d1.base);
    Fluxbus__V1__BailSigne b = FLUXBUS__V1__BAIL_SIGNE__INIT;
    b.vacancy_id = (char *)vac;
    b.nur = N1;
    b.designataire_actor_id = FBT_RESA;
    b.commune_insee = "74010";
    fbt_pair_ok(&w.p, w.p.cb, T(BAIL_SIGNE), FBT_RESA, vac, &b.base);
    assert_int_equal(
        fbt_sh(w.out, sizeof w.out,
               "sqlite3 -cmd '.timeout 10000' '%s' \"SELECT state FROM ledger_vacancies"
               " WHERE vacancy_id = 'vac-l'\"",
               w.p.b.store),
        0);
    char *let = strdup(w.out);
    assert_string_equal(let, "bail_signe\n");
    Fluxbus__V1__CaleolDecision d2 = s_decision(vac, N2, CODE(NON_ATTRIBUTION), 2);
    fbt_pair_ok(&w.p, w.p.cb, T(CALEOL_DECISION), FBT_RESA, vac, &d2.base);
    assert_int_equal(
        fbt_sh(w.out, sizeof w.out,
               "sqlite3 -cmd '.timeout 10000' '%s' \"SELECT state FROM ledger_vacancies"
               " WHERE vacancy_id = 'vac-l'\"",
               w.p.b.store),
        0);
    assert_string_equal(w.out, let);
    free(let);
    Fluxbus__V1__LogementLibere again = s_libere_msg(vac, "74011");
    s_refused(&w, w.p.cb, T(LOGEMENT_LIBERE), FBT_RESA, vac, &again.base,
              "LogementLibere for vac-l, which is let...");
    s_close(&w);
}

static void test_same_orientation_round_is_a_no_op_an_amended_one_refused(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    s_libere(&w, "vac-o");
    Fluxbus__V1__Orientation o = s_orientation("vac-o", FBT_CONV, fb_now_ms() + 10LL * 86400000, 1);
    fbt_pair_ok(&w.p, w.p.cb, T(ORIENTATION), FBT_RESA, "vac-o", &o.base);
    /* Again, term for term: accepted (a new message, logged as an event),
     * the facts and the report unchanged. */
    char *before = fbt_sql_text(&w.p.b, S_FACTS_SQL);
    char *report = s_report(&w);
    fbt_pair_ok(&w.p, w.p.cb, T(ORIENTATION), FBT_RESA, "vac-o", &o.base);
    char *after = fbt_sql_text(&w.p.b, S_FACTS_SQL);
    assert_string_equal(before, after);
    char *report_after = s_report(&w);
    assert_string_equal(report, report_after);
    free(before);
    free(after);
    free(report);
    free(report_after);
    o.deadline_ms += 86400000;
    s_refused(&w, w.p.cb, T(ORIENTATION), FBT_RESA, "vac-o", &o.base,
              "Orientation of vac-o to " FBT_RESA " as round 1, which was sent already with "
              "other terms (convention, contingent, deadline or candidates): a new round is 2");
    s_audit_ok(&w);
    s_close(&w);
}

static void test_orientation_under_another_years_convention(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    int now = fbt_year_now();
    builders_annecy_t k;
    s_convention(&k, 1, now - 1);
    fbt_pair_ok(&w.p, w.p.cb, T(CONVENTION), FBT_RESA, NULL, &k.c.base);
    s_libere(&w, "vac-y");
    Fluxbus__V1__Orientation o = s_orientation("vac-y", S_CONV, fb_now_ms() + 86400000LL, 1);
    o.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    char want[256];
    snprintf(want, sizeof want,
             "convention " S_CONV " (revision 1) is for %d, the orientation of vac-y is made in %d",
             now - 1, now);
    s_refused(&w, w.p.cb, T(ORIENTATION), FBT_RESA, "vac-y", &o.base, want);
    s_close(&w);
}

/* An orientation en flux names a convention the ledger knows that binds
 * its réservataire; one of a dwelling freed hors flux or en stock (a first
 * letting) need not. */
static void test_orientation_en_flux_needs_its_convention(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    s_libere(&w, "vac-c");
    Fluxbus__V1__Orientation o = s_orientation("vac-c", "", fb_now_ms() + 10LL * 86400000, 1);
    s_refused(&w, w.p.cb, T(ORIENTATION), FBT_RESA, "vac-c", &o.base,
              "Orientation of vac-c to " FBT_RESA " names no convention: an orientation en flux "
              "is made under a convention binding " FBT_BAILLEUR " and " FBT_RESA);
    o.convention_id = "C-NEVER-SENT";
    s_refused(&w, w.p.cb, T(ORIENTATION), FBT_RESA, "vac-c", &o.base,
              "convention C-NEVER-SENT unknown: no Convention with that id was accepted before "
              "the orientation of vac-c to " FBT_RESA);
    o.convention_id = FBT_CONV;
    o.reservataire_actor_id = S_RESA2;
    char want[256];
    snprintf(want, sizeof want,
             S_RESA2 " is not a party of convention " FBT_CONV " (revision 1) in %d",
             fbt_year_now());
    s_refused(&w, w.p.cb, T(ORIENTATION), S_RESA2, "vac-c", &o.base, want);
    /* Hors flux (a mutation interne) and en stock: no convention needed. */
    static const struct {
        const char *vacancy;
        int mode, motif;
    } kept[] = {
        {"vac-h", FLUXBUS__V1__MODE_GESTION__MODE_GESTION_HORS_FLUX,
         FLUXBUS__V1__HORS_FLUX_MOTIF__HORS_FLUX_MOTIF_MUTATION_INTERNE},
        {"vac-s", FLUXBUS__V1__MODE_GESTION__MODE_GESTION_STOCK, 0},
    };
    for (size_t i = 0; i < 2; i++) {
        Fluxbus__V1__LogementLibere l = s_libere_msg(kept[i].vacancy, "74010");
        l.mode_gestion = kept[i].mode;
        l.hors_flux_motif = kept[i].motif;
        fbt_pair_ok(&w.p, w.p.cb, T(LOGEMENT_LIBERE), FBT_RESA, kept[i].vacancy, &l.base);
        Fluxbus__V1__Orientation k =
            s_orientation(kept[i].vacancy, "", fb_now_ms() + 10LL * 86400000, 1);
        fbt_pair_ok(&w.p, w.p.cb, T(ORIENTATION), FBT_RESA, kept[i].vacancy, &k.base);
    }
    s_audit_ok(&w);
    s_close(&w);
}

/* A convention stating three candidates: an Orientation asking two is
 * refused, one asking none gets three, and the CALEOL waits for them. */
static void test_the_conventions_candidates_bind_its_orientations(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    builders_annecy_t k;
    s_convention(&k, 1, fbt_year_now());
    k.c.candidates_expected = 3;
    fbt_pair_ok(&w.p, w.p.cb, T(CONVENTION), FBT_RESA, NULL, &k.c.base);
    s_libere(&w, "vac-k");
    Fluxbus__V1__Orientation o = s_orientation("vac-k", S_CONV, fb_now_ms() + 20LL * 86400000, 2);
    o.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    s_refused(&w, w.p.cb, T(ORIENTATION), FBT_RESA, "vac-k", &o.base,
              "Orientation of vac-k to " FBT_RESA " asks for 2 candidates, fewer than the 3 "
              "convention " S_CONV " (revision 1) requires: the bailleur may ask more, not fewer");
    o.candidates_expected = 0;
    fbt_pair_ok(&w.p, w.p.cb, T(ORIENTATION), FBT_RESA, "vac-k", &o.base);
    assert_int_equal(fbt_sh(w.out, sizeof w.out,
                            "sqlite3 -cmd '.timeout 10000' '%s' \"SELECT candidates_expected FROM "
                            "ledger_orientations"
                            " WHERE vacancy_id = 'vac-k'\"",
                            w.p.b.store),
                     0);
    assert_string_equal(w.out, "3\n");
    s_designate(&w, "vac-k", N1, 1, 3);
    s_designate(&w, "vac-k", N2, 2, 3);
    Fluxbus__V1__CaleolDecision d = s_decision("vac-k", N1, CODE(ATTRIBUTION), 1);
    s_refused(&w, w.p.cb, T(CALEOL_DECISION), FBT_RESA, "vac-k", &d.base,
              "CaleolDecision ATTRIBUTION for NUR " N1 " on vac-k: 2 candidates of 3 received for "
              "vac-k round 1 (" FBT_RESA "), no reason given (fewer_candidates_reason) and its "
              "deadline has not passed");
    s_audit_ok(&w);
    s_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_convention_parties_and_revisions),
        cmocka_unit_test(test_an_amendment_takes_effect_only_countersigned),
        cmocka_unit_test(test_deadline_expired_before_the_deadline),
        cmocka_unit_test(test_correlation_id_is_the_payloads_vacancy),
        cmocka_unit_test(test_non_attribution_after_the_lease_does_not_reopen),
        cmocka_unit_test(test_same_orientation_round_is_a_no_op_an_amended_one_refused),
        cmocka_unit_test(test_orientation_under_another_years_convention),
        cmocka_unit_test(test_orientation_en_flux_needs_its_convention),
        cmocka_unit_test(test_the_conventions_candidates_bind_its_orientations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
