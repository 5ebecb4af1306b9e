/* 35_ledger_state_delegated - the State's contingent in gestion déléguée,
 * on the real broker (issue 6's scenario).
 *
 * The préfet (reservataire:prefet-74) delegates the designation on its
 * contingent to the bailleur: convention C-ETAT-74 (gestion déléguée,
 * counted at the lease, 2 placements, all of them in gestion déléguée), and
 * a mandate recorded with `fluxbus actor mandate`. Before the mandate, the
 * bailleur's Designation for the State is refused. Then, on V-ETAT-1 in
 * Annecy:
 * - the bailleur orients it to the State (two candidates expected) and
 *   designates for it a DALO household (rank 1, NUR A) and a PDALHPD one
 *   (rank 2, NUR B), both credited to the State;
 * - the CALEOL attributes by rank: A first, B second; B's lease before A
 *   has answered is refused (INVALID_TRANSITION);
 * - A refuses; the bailleur records the attribution as not followed by a
 *   lease (AttributionNonSuivieDeBail to the State and the SNE);
 * - B accepts and signs; the SNE radiates B's demande.
 * Checked: the messages each party received (the State: every step; the
 * SNE: the decisions, the non-suite of A, the lease of B; the bailleur:
 * the radiation); the ledger through `fluxbus report flux` (JSON: the
 * State's convention credited one lease, in gestion déléguée, counted once
 * under the official method, one non-suite, the DALO and priority shares);
 * the same figures in the HTML page rendered by headless Chromium; and the
 * State's own bilan asked from the broker (its line: 2 attributions, both
 * to priority households, 1 lease). */
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
#include "fluxbus/v1/sne.pb-c.h"
#include "period.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_B "bailleur:552046955"
#define S_ETAT "reservataire:prefet-74"
#define S_SNE "sne"
#define S_CONV "C-ETAT-74"
#define S_VAC "V-ETAT-1"
#define S_NUR_A "074012600000011"
#define S_NUR_B "074012600000012"

typedef struct {
    fbt_broker_t b;
    fb_keys_t kb, ke, ks;
    fb_client_t *cb, *ce, *cs;
    int year;
} s_world_t;

/* ---- sending ---- */

/* Sends payload from c to the recipients (NULL-terminated) about the
 * vacancy; returns the broker's answer (detail in r). */
static fb_err_t s_send(fb_client_t *c, int type, const char *const *to,
                       const ProtobufCMessage *payload, fb_receipt_t *r)
{
    size_t len = protobuf_c_message_get_packed_size(payload), n = 0;
    uint8_t *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    protobuf_c_message_pack(payload, buf);
    while (to[n])
        n++;
    fb_outgoing_t m = {.type = type,
                       .recipients = to,
                       .n_recipients = n,
                       .correlation_id = type == T(CONVENTION) ? NULL : S_VAC,
                       .payload = buf,
                       .payload_len = len};
    fb_err_t rc = fb_client_send(c, &m, r);
    free(buf);
    return rc;
}

#define S_TO(...) ((const char *const[]){__VA_ARGS__, NULL})

static void s_ok(fb_client_t *c, int type, const char *const *to, const ProtobufCMessage *payload)
{
    fb_receipt_t r = {0};
    fb_err_t rc = s_send(c, type, to, payload, &r);
    if (rc != FB_OK)
        fail_msg("type %d refused: %s (%s)", type, fb_err_name(rc), r.detail);
    fb_receipt_clear(&r);
}

static void s_refused(fb_client_t *c, int type, const char *const *to,
                      const ProtobufCMessage *payload, fb_err_t reason, const char *why)
{
    fb_receipt_t r = {0};
    fb_err_t rc = s_send(c, type, to, payload, &r);
    if (rc != reason || !strstr(r.detail, why))
        fail_msg("type %d: expected %s \"%s\", got %s \"%s\"", type, fb_err_name(reason), why,
                 fb_err_name(rc), r.detail);
    fb_receipt_clear(&r);
}

/* ---- the scenario ---- */

static void s_convention(s_world_t *x)
{
    Fluxbus__V1__ConventionObjective placements = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT,
                                     deleguee = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    placements.kind = FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_PLACEMENTS;
    placements.value = 2;
    deleguee.kind = FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_GESTION_DELEGUEE;
    deleguee.unit = FLUXBUS__V1__OBJECTIVE_UNIT__OBJECTIVE_UNIT_PER_MILLE;
    deleguee.value = 1000;
    Fluxbus__V1__ConventionObjective *objectives[] = {&placements, &deleguee};
    Fluxbus__V1__Convention c = builders_convention(S_CONV, S_B, S_ETAT, x->year);
    c.departement = "74";
    c.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ETAT_PRIORITAIRE;
    c.gestion_deleguee = true;
    c.counting_method = FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_BAIL_SIGNE;
    c.deadline_days = 30;
    c.n_objectives = 2;
    c.objectives = objectives;
    s_ok(x->cb, T(CONVENTION), S_TO(S_ETAT), &c.base);
}

static void s_freed_and_oriented(s_world_t *x)
{
    Fluxbus__V1__LogementLibere l = builders_libere(S_VAC, "74010");
    l.rpls_id = "0740100000042";
    l.bailleur_siren = BUILDERS_SIREN;
    l.epci_siren = "200066793";
    l.qpv = FLUXBUS__V1__QPV_STATUS__QPV_STATUS_OUTSIDE_QPV;
    l.financement = FLUXBUS__V1__FINANCEMENT__FINANCEMENT_PLAI;
    l.mode_gestion = FLUXBUS__V1__MODE_GESTION__MODE_GESTION_FLUX;
    s_ok(x->cb, T(LOGEMENT_LIBERE), S_TO(S_ETAT), &l.base);
    Fluxbus__V1__Orientation o =
        life_msgs_orientation(S_VAC, S_CONV, S_ETAT, 1, 2, fb_now_ms() + 30 * BUILDERS_DAY_MS);
    o.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ETAT_PRIORITAIRE;
    s_ok(x->cb, T(ORIENTATION), S_TO(S_ETAT), &o.base);
}

/* The bailleur's Designation of `nur` at `rank` for the State. */
static Fluxbus__V1__Designation s_designation(const char *nur, unsigned rank, bool dalo)
{
    Fluxbus__V1__Designation d = builders_designation(S_VAC, S_CONV, nur, rank, 2);
    d.dalo = dalo;
    d.dalo_set_by = dalo ? FLUXBUS__V1__PRIORITY_SOURCE__PRIORITY_SOURCE_COMMISSION_MEDIATION : 0;
    d.pdalhpd = !dalo;
    d.pdalhpd_set_by = dalo ? 0 : FLUXBUS__V1__PRIORITY_SOURCE__PRIORITY_SOURCE_PREFECTURE;
    d.quartile = FLUXBUS__V1__QUARTILE__QUARTILE_Q1;
    d.household_size = 3;
    d.designating_actor_id = S_B;
    d.credited_reservataire_actor_id = S_ETAT;
    d.gestion_deleguee = true;
    return d;
}

static void s_designated_by_the_bailleur(s_world_t *x)
{
    Fluxbus__V1__Designation a = s_designation(S_NUR_A, 1, true);
    /* No mandate yet: the bailleur may not designate for the State. */
    s_refused(x->cb, T(DESIGNATION), S_TO(S_ETAT), &a.base, FB_ERR_NOT_AUTHORIZED, "no mandate");
    assert_int_equal(fbt_sh(NULL, 0,
                            "'%s' actor mandate --store '%s' --reservataire %s --bailleur %s"
                            " 2>/dev/null",
                            FB_CLI_BIN, x->b.store, S_ETAT, S_B),
                     0);
    s_ok(x->cb, T(DESIGNATION), S_TO(S_ETAT), &a.base);
    Fluxbus__V1__Designation b = s_designation(S_NUR_B, 2, false);
    s_ok(x->cb, T(DESIGNATION), S_TO(S_ETAT), &b.base);
}

static Fluxbus__V1__CaleolDecision s_decision(const char *nur, unsigned rank)
{
    Fluxbus__V1__CaleolDecision c = builders_decision(
        "S-ETAT-1", S_VAC, nur, rank, S_ETAT,
        FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION_PAR_RANG);
    c.q1 = true;
    return c;
}

static Fluxbus__V1__BailSigne s_lease(const char *nur)
{
    Fluxbus__V1__BailSigne b = builders_lease(S_VAC, nur, S_ETAT);
    b.convention_id = S_CONV;
    b.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ETAT_PRIORITAIRE;
    b.bailleur_siren = BUILDERS_SIREN;
    b.q1 = true;
    return b;
}

static void s_caleol(s_world_t *x)
{
    builders_seance_t k;
    builders_seance(&k, "S-ETAT-1", S_VAC, "74010");
    s_ok(x->cb, T(CALEOL_SEANCE), S_TO(S_ETAT), &k.s.base);
    Fluxbus__V1__CaleolDecision a = s_decision(S_NUR_A, 1), b = s_decision(S_NUR_B, 2);
    s_ok(x->cb, T(CALEOL_DECISION), S_TO(S_ETAT, S_SNE), &a.base);
    s_ok(x->cb, T(CALEOL_DECISION), S_TO(S_ETAT, S_SNE), &b.base);
    /* Rank 2 cannot sign while rank 1 has neither refused nor ended. */
    Fluxbus__V1__BailSigne early = s_lease(S_NUR_B);
    s_refused(x->cb, T(BAIL_SIGNE), S_TO(S_ETAT, S_SNE), &early.base, FB_ERR_INVALID_TRANSITION,
              "rank 1");
}

static void s_answer(s_world_t *x, const char *nur, bool refused)
{
    Fluxbus__V1__PropositionReponse p = FLUXBUS__V1__PROPOSITION_REPONSE__INIT;
    p.vacancy_id = S_VAC;
    p.nur = (char *)nur;
    p.answer = refused ? FLUXBUS__V1__PROPOSITION_ANSWER__PROPOSITION_ANSWER_REFUSEE
                       : FLUXBUS__V1__PROPOSITION_ANSWER__PROPOSITION_ANSWER_ACCEPTEE;
    p.refus_motif = refused ? FLUXBUS__V1__REFUS_MOTIF__REFUS_MOTIF_LOCALISATION : 0;
    p.answered_ms = fb_now_ms();
    s_ok(x->cb, T(PROPOSITION_REPONSE), S_TO(S_ETAT), &p.base);
}

static void s_refusal_then_rank_2(s_world_t *x)
{
    s_answer(x, S_NUR_A, true);
    Fluxbus__V1__AttributionNonSuivieDeBail n = FLUXBUS__V1__ATTRIBUTION_NON_SUIVIE_DE_BAIL__INIT;
    n.vacancy_id = S_VAC;
    n.nur = S_NUR_A;
    n.reason = FLUXBUS__V1__NON_SUITE_MOTIF__NON_SUITE_MOTIF_REFUS_MENAGE;
    n.reason_text = "refus après attribution (localisation)";
    s_ok(x->cb, T(ATTRIBUTION_NON_SUIVIE_DE_BAIL), S_TO(S_ETAT, S_SNE), &n.base);
    s_answer(x, S_NUR_B, false);
    Fluxbus__V1__BailSigne b = s_lease(S_NUR_B);
    s_ok(x->cb, T(BAIL_SIGNE), S_TO(S_ETAT, S_SNE), &b.base);
    Fluxbus__V1__SneRadiationAck r = FLUXBUS__V1__SNE_RADIATION_ACK__INIT;
    r.vacancy_id = S_VAC;
    r.nur = S_NUR_B;
    r.status = FLUXBUS__V1__SNE_RADIATION_STATUS__SNE_RADIATION_STATUS_RADIEE;
    s_ok(x->cs, T(SNE_RADIATION_ACK), S_TO(S_B), &r.base);
}

/* ---- what each party received ---- */

/* The types of the messages from `from` c receives until it is quiet (the
 * broker's own messages, such as its DecompteDroits, are left out). The
 * NUR of each is written to nurs (may be NULL) when its payload has one. */
static size_t s_received(fb_client_t *c, const char *from, int *types, char (*nurs)[32], size_t cap)
{
    size_t n = 0;
    fb_delivery_t *d;
    while ((d = fbt_recv_ack(c, 1500)) != NULL) {
        const Fluxbus__V1__SignedBody *b = d->body;
        if (strcmp(b->sender, from) == 0 && n < cap) {
            if (nurs) {
                nurs[n][0] = '\0';
                ProtobufCMessage *m = NULL;
                const fb_catalog_entry_t *e = fb_catalog_by_type((int)b->type);
                if (e && fb_codec_unpack(e->desc, b->payload.data, b->payload.len, 1 << 20, &m) ==
                             FB_OK) {
                    const ProtobufCFieldDescriptor *f =
                        protobuf_c_message_descriptor_get_field_by_name(e->desc, "nur");
                    if (f)
                        snprintf(nurs[n], 32, "%s", *(char **)((char *)m + f->offset));
                }
                fb_codec_free(m);
            }
            types[n++] = (int)b->type;
        }
        fb_delivery_destroy(&d);
    }
    return n;
}

static void s_expect(const char *who, const int *got, size_t n, const int *want, size_t n_want)
{
    bool same = n == n_want;
    for (size_t i = 0; same && i < n; i++)
        same = got[i] == want[i];
    if (same)
        return;
    char text[512] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), " %d", got[i]);
    fail_msg("%s received types%s", who, text);
}

static void s_check_deliveries(s_world_t *x)
{
    int got[32];
    char nurs[32][32];
    static const int etat[] = {T(CONVENTION),          T(LOGEMENT_LIBERE),
                               T(ORIENTATION),         T(DESIGNATION),
                               T(DESIGNATION),         T(CALEOL_SEANCE),
                               T(CALEOL_DECISION),     T(CALEOL_DECISION),
                               T(PROPOSITION_REPONSE), T(ATTRIBUTION_NON_SUIVIE_DE_BAIL),
                               T(PROPOSITION_REPONSE), T(BAIL_SIGNE)};
    size_t n = s_received(x->ce, S_B, got, NULL, 32);
    s_expect("the State", got, n, etat, sizeof etat / sizeof etat[0]);
    /* The SNE: both decisions, A "not followed by a lease", B's lease. */
    static const int sne[] = {T(CALEOL_DECISION), T(CALEOL_DECISION),
                              T(ATTRIBUTION_NON_SUIVIE_DE_BAIL), T(BAIL_SIGNE)};
    n = s_received(x->cs, S_B, got, nurs, 32);
    s_expect("the SNE", got, n, sne, sizeof sne / sizeof sne[0]);
    assert_string_equal(nurs[2], S_NUR_A);
    assert_string_equal(nurs[3], S_NUR_B);
    static const int bailleur[] = {T(SNE_RADIATION_ACK)};
    n = s_received(x->cb, S_SNE, got, NULL, 32);
    s_expect("the bailleur", got, n, bailleur, 1);
}

/* ---- the ledger ---- */

static double s_real(const json_t *obj, const char *a, const char *b)
{
    const json_t *v = json_object_get(json_object_get(obj, a), b);
    if (!json_is_number(v))
        fail_msg("%s.%s is not a number", a, b);
    return json_number_value(v);
}

/* The objective of `kind` of a report flux line. */
static const json_t *s_objective(const json_t *line, const char *kind)
{
    size_t i;
    const json_t *o;
    json_array_foreach(json_object_get(line, "objectives"), i, o)
    {
        if (strcmp(json_string_value(json_object_get(o, "kind")), kind) == 0)
            return o;
    }
    fail_msg("no %s objective", kind);
    return NULL;
}

static void s_check_report_json(s_world_t *x)
{
    static char out[1 << 17];
    assert_int_equal(fbt_sh(out, sizeof out, "'%s' report flux --store '%s' --year %d", FB_CLI_BIN,
                            x->b.store, x->year),
                     0);
    json_error_t e;
    json_t *doc = json_loads(out, 0, &e);
    if (!doc)
        fail_msg("report is not JSON (%s): %.200s", e.text, out);
    const json_t *conv = json_array_get(json_object_get(doc, "conventions"), 0);
    assert_string_equal(json_string_value(json_object_get(conv, "convention_id")), S_CONV);
    const json_t *line = json_array_get(json_object_get(conv, "lines"), 0);
    assert_string_equal(json_string_value(json_object_get(line, "party")), S_ETAT);
    /* Two designations by the bailleur for the State, two attributions by
     * rank, one refusal, one attribution not followed by a lease, one lease. */
    assert_int_equal(fbt_json_int(line, "designations"), 2);
    assert_int_equal(fbt_json_int(line, "caleol.attributions"), 2);
    assert_int_equal(fbt_json_int(line, "refusals"), 1);
    assert_int_equal(fbt_json_int(line, "non_suites"), 1);
    assert_int_equal(fbt_json_int(line, "leases"), 1);
    /* The State is credited with one dwelling, once, in gestion déléguée. */
    assert_int_equal(fbt_json_int(line, "counts.bail_signe"), 1);
    assert_int_equal(fbt_json_int(line, "counts.official"), 1);
    assert_int_equal(fbt_json_int(line, "counts.orientation_acceptee"), 1);
    assert_int_equal(fbt_json_int(line, "counts.passage_caleol"), 1);
    assert_int_equal(fbt_json_int(line, "deleguee"), 1);
    assert_int_equal(fbt_json_int(line, "partenariale"), 0);
    /* Its households: a DALO one (A, who refused) and a PDALHPD one (B, let). */
    assert_int_equal(fbt_json_int(line, "dalo.attributions"), 1);
    assert_int_equal(fbt_json_int(line, "dalo.leases"), 0);
    assert_true(s_real(line, "dalo", "share_pct") == 50.0);
    assert_int_equal(fbt_json_int(line, "prioritaires.attributions"), 2);
    assert_int_equal(fbt_json_int(line, "prioritaires.leases"), 1);
    assert_true(s_real(line, "prioritaires", "share_pct") == 100.0);
    const json_t *placements = s_objective(line, "placements");
    assert_int_equal(fbt_json_int(placements, "target"), 2);
    assert_int_equal(fbt_json_int(placements, "done"), 1);
    const json_t *deleguee = s_objective(line, "gestion_deleguee");
    assert_int_equal(fbt_json_int(deleguee, "done"), 1);
    assert_string_equal(json_string_value(json_object_get(deleguee, "status")), "reached");
    const json_t *row = json_array_get(json_object_get(doc, "reservataires"), 0);
    assert_string_equal(json_string_value(json_object_get(row, "reservataire")), S_ETAT);
    assert_int_equal(fbt_json_int(row, "counts.official"), 1);
    assert_int_equal(fbt_json_int(row, "objective"), 2);
    json_decref(doc);
}

static void s_check_report_html(s_world_t *x)
{
    char page[600];
    snprintf(page, sizeof page, "%s/flux.html", x->b.dir);
    assert_int_equal(fbt_sh(NULL, 0,
                            "'%s' report flux --store '%s' --year %d --format html --output '%s'",
                            FB_CLI_BIN, x->b.store, x->year, page),
                     0);
    static char html[1 << 17];
    assert_int_equal(fbt_sh(html, sizeof html, "cat '%s'", page), 0);
    static const char *const never[] = {"<script", "src=", "href=", "url(", "@import"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (strstr(html, never[i]))
            fail_msg("the page holds \"%s\"", never[i]);
    const char *chromium = fbt_chromium();
    if (!chromium) {
        fprintf(stderr, "SKIPPED: chromium is not installed (scripts/setup-debian installs it): "
                        "the flux page was not checked in a browser\n");
        return;
    }
    static char dom[1 << 17];
    char shot[700];
    snprintf(shot, sizeof shot, "%s/flux.png", x->b.dir);
    fbt_chromium_render(&x->b, chromium, page, dom, sizeof dom, shot, 1200, 2200);
    static const char *const figures[] = {
        "data-reservataire=\"" S_ETAT "\" data-done=\"1\" data-objective=\"2\" "
        "data-attributions=\"2\" data-prioritaires=\"2\" data-dalo=\"1\" "
        "data-orientation-acceptee=\"1\" data-passage-caleol=\"1\" data-bail-signe=\"1\"",
        "data-convention=\"" S_CONV "\" data-party=\"" S_ETAT "\" data-official=\"1\" "
        "data-leases=\"1\" data-non-suites=\"1\"",
        "data-convention=\"" S_CONV "\" data-party=\"" S_ETAT "\" data-kind=\"gestion_deleguee\" "
        "data-target=\"1\" data-done=\"1\" data-status=\"reached\"",
        "data-kpi=\"leases\"><b>1</b>",
        "<svg id=\"monthly-flow\"",
    };
    fbt_dom_holds(dom, figures, sizeof figures / sizeof figures[0]);
    assert_int_equal(fbt_html_series_sum(dom, "orientations"), 1);
    assert_int_equal(fbt_html_series_sum(dom, "attributions"), 2);
    assert_int_equal(fbt_html_series_sum(dom, "leases"), 1);
    assert_int_equal(fbt_html_series_sum(dom, "official"), 1);
    fbt_png_ok(shot);
}

/* The State asks the broker for its bilan: its line, priority households. */
static void s_check_bilan(s_world_t *x)
{
    Fluxbus__V1__BilanRequest req = FLUXBUS__V1__BILAN_REQUEST__INIT;
    req.year = x->year;
    fb_receipt_t r = {0};
    const char *const to[] = {x->b.keys.actor, NULL};
    assert_int_equal(s_send(x->ce, T(BILAN_REQUEST), to, &req.base, &r), FB_OK);
    fb_delivery_t *d = fbt_recv_ack(x->ce, 5000);
    assert_non_null(d);
    assert_int_equal(d->body->type, T(BILAN_ANNUEL));
    assert_memory_equal(d->body->in_reply_to.data, r.message_id, FB_MESSAGE_ID_BYTES);
    fb_receipt_clear(&r);
    Fluxbus__V1__BilanAnnuel *m =
        fluxbus__v1__bilan_annuel__unpack(NULL, d->body->payload.len, d->body->payload.data);
    assert_non_null(m);
    assert_int_equal(m->n_lines, 1);
    const Fluxbus__V1__BilanReservataireLine *l = m->lines[0];
    assert_string_equal(l->reservataire_actor_id, S_ETAT);
    assert_int_equal(l->caleol_attributions, 2);
    assert_int_equal(l->baux_signes, 1);
    assert_int_equal(l->prioritaires->numerator, 2);
    assert_int_equal(l->prioritaires->denominator, 2);
    assert_int_equal(l->done, 1);
    fluxbus__v1__bilan_annuel__free_unpacked(m, NULL);
    fb_delivery_destroy(&d);
}

static void test_state_contingent_delegated_dalo_refusal_rank_2_credited(void **state)
{
    (void)state;
    s_world_t x;
    memset(&x, 0, sizeof x);
    fbt_setup(&x.b);
    fbt_actor(&x.b, S_B, "bailleur", NULL, &x.kb);
    fbt_actor(&x.b, S_ETAT, "reservataire", NULL, &x.ke);
    fbt_actor(&x.b, S_SNE, "sne", NULL, &x.ks);
    fbt_start(&x.b);
    x.cb = fbt_client(&x.b, &x.kb);
    x.ce = fbt_client(&x.b, &x.ke);
    x.cs = fbt_client(&x.b, &x.ks);
    x.year = period_year_of(fb_now_ms());
    s_convention(&x);
    s_freed_and_oriented(&x);
    s_designated_by_the_bailleur(&x);
    s_caleol(&x);
    s_refusal_then_rank_2(&x);
    s_check_deliveries(&x);
    s_check_report_json(&x);
    s_check_report_html(&x);
    s_check_bilan(&x);
    fb_client_destroy(&x.cb);
    fb_client_destroy(&x.ce);
    fb_client_destroy(&x.cs);
    fbt_teardown(&x.b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_contingent_delegated_dalo_refusal_rank_2_credited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
