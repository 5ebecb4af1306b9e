/* 36_ledger_bilan_request - the BilanAnnuel on request, from the real
 * broker. The bailleur lets three dwellings of the EPCI 200066793 in this
 * year: V1 in 74010 to Action Logement (a Q2 household), V2 in 74010 to
 * the State (a DALO household), V3 in 74011 to Action Logement (attributed,
 * no lease yet). Then each party sends a BilanRequest addressed to the
 * broker's actor id and receives, alone, a BilanAnnuel signed by the
 * broker, in_reply_to its request:
 * - Action Logement: its own line only (2 attributions), the figures of all
 *   together (3 attributions), no line nor objective line of the State;
 * - the State: its line (1 DALO of 1), not Action Logement's;
 * - the bailleur: every line, its convention's progress with AL;
 * - the DDETS (observer of 74010): the bilan of 74010 only (2
 *   attributions, both lines, no convention's progress);
 * - a commune of another territory: an empty bilan.
 * Refused with a Nack, nothing stored and nothing answered: the bailleur
 * asking for another bailleur's bilan, an observer without a territory,
 * the SNE, a request addressed to an actor instead of the broker, a request
 * without a year. A request sent again is a duplicate: no second answer.
 * No answer ever holds a NUR. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builders.h"
#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "period.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define VIEW(x) FLUXBUS__V1__BILAN_VIEW__BILAN_VIEW_##x
#define S_ETAT "reservataire:prefet-74"
#define S_DDETS "observer:ddets-74"
#define S_NOWHERE "observer:sans-territoire"
#define S_COMMUNE "commune:74256"
#define S_SNE "sne"
#define S_EPCI "200066793"
#define S_CONV "C-AL-36"
#define S_CONV_ETAT "C-ETAT-36"

typedef struct {
    fbt_pair_t w;
    fb_keys_t etat, ddets, nowhere, commune, sne;
    fb_client_t *ce, *cd, *cn, *cc, *cs;
    int year;
} s_world_t;

/* Sends payload from c to `to` about vacancy; returns the broker's answer. */
static fb_err_t s_send(fb_client_t *c, int type, const char *to, const char *vacancy,
                       const ProtobufCMessage *payload, fb_receipt_t *r)
{
    size_t len = protobuf_c_message_get_packed_size(payload);
    uint8_t *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    protobuf_c_message_pack(payload, buf);
    const char *const rcpt[1] = {to};
    fb_outgoing_t m = {.type = type,
                       .recipients = rcpt,
                       .n_recipients = 1,
                       .correlation_id = vacancy,
                       .payload = buf,
                       .payload_len = len};
    fb_err_t rc = fb_client_send(c, &m, r);
    free(buf);
    return rc;
}

static void s_ok(fb_client_t *c, int type, const char *to, const char *vacancy,
                 const ProtobufCMessage *payload)
{
    fb_receipt_t r = {0};
    fb_err_t rc = s_send(c, type, to, vacancy, payload, &r);
    if (rc != FB_OK)
        fail_msg("type %d for %s refused: %s (%s)", type, vacancy ? vacancy : "-", fb_err_name(rc),
                 r.detail);
    fb_receipt_clear(&r);
}

static void s_convention(s_world_t *x)
{
    Fluxbus__V1__ConventionObjective o = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    o.value = 4;
    Fluxbus__V1__ConventionObjective *objectives[] = {&o};
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = S_CONV;
    c.revision = 1;
    c.bailleur_actor_id = FBT_BAILLEUR;
    c.reservataire_actor_id = FBT_RESA;
    c.year = x->year;
    c.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    c.n_objectives = 1;
    c.objectives = objectives;
    s_ok(x->w.cb, T(CONVENTION), FBT_RESA, NULL, &c.base);
}

typedef struct {
    const char *vacancy, *insee, *resa, *nur;
    bool dalo, lease;
} s_letting_t;

/* One dwelling freed, oriented, designated by its réservataire, attributed
 * by the CALEOL and, when asked, accepted and let. */
static void s_let(s_world_t *x, fb_client_t *resa, const s_letting_t *l)
{
    Fluxbus__V1__LogementLibere lib = builders_libere(l->vacancy, l->insee);
    lib.bailleur_siren = BUILDERS_SIREN;
    lib.epci_siren = S_EPCI;
    lib.qpv = FLUXBUS__V1__QPV_STATUS__QPV_STATUS_OUTSIDE_QPV;
    lib.mode_gestion = FLUXBUS__V1__MODE_GESTION__MODE_GESTION_FLUX;
    s_ok(x->w.cb, T(LOGEMENT_LIBERE), l->resa, l->vacancy, &lib.base);
    Fluxbus__V1__Orientation o =
        life_msgs_orientation(l->vacancy, strcmp(l->resa, FBT_RESA) == 0 ? S_CONV : S_CONV_ETAT,
                              l->resa, 1, 1, fb_now_ms() + 15 * BUILDERS_DAY_MS);
    s_ok(x->w.cb, T(ORIENTATION), l->resa, l->vacancy, &o.base);
    Fluxbus__V1__Designation d = builders_designation(l->vacancy, NULL, l->nur, 1, 1);
    d.dalo = l->dalo;
    d.quartile = FLUXBUS__V1__QUARTILE__QUARTILE_Q2;
    s_ok(resa, T(DESIGNATION), FBT_BAILLEUR, l->vacancy, &d.base);
    Fluxbus__V1__CaleolDecision c =
        builders_decision(NULL, l->vacancy, l->nur, 1, l->resa,
                          FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION);
    s_ok(x->w.cb, T(CALEOL_DECISION), l->resa, l->vacancy, &c.base);
    if (!l->lease)
        return;
    Fluxbus__V1__PropositionReponse p = life_msgs_answer(l->vacancy, l->nur, false, 0);
    s_ok(x->w.cb, T(PROPOSITION_REPONSE), l->resa, l->vacancy, &p.base);
    Fluxbus__V1__BailSigne b = builders_lease(l->vacancy, l->nur, l->resa);
    b.bailleur_siren = BUILDERS_SIREN;
    b.commune_insee = (char *)l->insee;
    s_ok(x->w.cb, T(BAIL_SIGNE), l->resa, l->vacancy, &b.base);
}

static void s_open(s_world_t *x)
{
    memset(x, 0, sizeof *x);
    fbt_pair_open(&x->w);
    fbt_actor(&x->w.b, S_ETAT, "reservataire", NULL, &x->etat);
    fbt_actor(&x->w.b, S_DDETS, "observer", "74010", &x->ddets);
    fbt_actor(&x->w.b, S_NOWHERE, "observer", NULL, &x->nowhere);
    fbt_actor(&x->w.b, S_COMMUNE, "commune", "74256", &x->commune);
    fbt_actor(&x->w.b, S_SNE, "sne", NULL, &x->sne);
    x->ce = fbt_client(&x->w.b, &x->etat);
    x->cd = fbt_client(&x->w.b, &x->ddets);
    x->cn = fbt_client(&x->w.b, &x->nowhere);
    x->cc = fbt_client(&x->w.b, &x->commune);
    x->cs = fbt_client(&x->w.b, &x->sne);
    x->year = period_year_of(fb_now_ms());
    s_convention(x);
    fbt_convention(x->w.cb, S_CONV_ETAT, S_ETAT, x->ce); /* no objective */
    static const s_letting_t v1 = {"V1", "74010", FBT_RESA, "074012600000001", false, true},
                             v2 = {"V2", "74010", S_ETAT, "074012600000002", true, true},
                             v3 = {"V3", "74011", FBT_RESA, "074012600000003", false, false};
    s_let(x, x->w.cr, &v1);
    s_let(x, x->ce, &v2);
    s_let(x, x->w.cr, &v3);
}

static void s_close(s_world_t *x)
{
    fb_client_t **clients[] = {&x->ce, &x->cd, &x->cn, &x->cc, &x->cs};
    for (size_t i = 0; i < sizeof clients / sizeof clients[0]; i++)
        fb_client_destroy(clients[i]);
    fbt_pair_close(&x->w);
}

/* ---- requests and answers ---- */

static Fluxbus__V1__BilanRequest s_request(int year)
{
    Fluxbus__V1__BilanRequest r = FLUXBUS__V1__BILAN_REQUEST__INIT;
    r.year = year;
    return r;
}

/* Sends req from c to the broker; asserts it is accepted; its id to id. */
static void s_ask(s_world_t *x, fb_client_t *c, const Fluxbus__V1__BilanRequest *req,
                  uint8_t id[FB_MESSAGE_ID_BYTES])
{
    fb_receipt_t r = {0};
    fb_err_t rc = s_send(c, T(BILAN_REQUEST), x->w.b.keys.actor, NULL, &req->base, &r);
    if (rc != FB_OK)
        fail_msg("BilanRequest refused: %s (%s)", fb_err_name(rc), r.detail);
    memcpy(id, r.message_id, FB_MESSAGE_ID_BYTES);
    fb_receipt_clear(&r);
}

/* Sends req from c to `to`; asserts the broker refuses it for `reason`
 * with a detail holding `why`. */
static void s_refused(fb_client_t *c, const char *to, const Fluxbus__V1__BilanRequest *req,
                      fb_err_t reason, const char *why)
{
    fb_receipt_t r = {0};
    fb_err_t rc = s_send(c, T(BILAN_REQUEST), to, NULL, &req->base, &r);
    if (rc != reason || !strstr(r.detail, why))
        fail_msg("expected %s \"%s\", got %s \"%s\"", fb_err_name(reason), why, fb_err_name(rc),
                 r.detail);
    fb_receipt_clear(&r);
}

/* True when the len bytes at p hold the text s. */
static bool s_holds(const uint8_t *p, size_t len, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(p + i, s, n) == 0)
            return true;
    return false;
}

/* Receives on c until the broker's answer to request `id` (acking what
 * came before it); checks it is a BilanAnnuel from the broker that names no
 * household, and returns its payload (caller frees). */
static Fluxbus__V1__BilanAnnuel *s_answer(s_world_t *x, fb_client_t *c,
                                          const uint8_t id[FB_MESSAGE_ID_BYTES])
{
    static const char *const nurs[] = {"074012600000001", "074012600000002", "074012600000003"};
    fb_delivery_t *d = fbt_recv_reply_to(c, id, 5000, 63);
    const Fluxbus__V1__SignedBody *b = d->body;
    assert_int_equal(b->type, T(BILAN_ANNUEL));
    assert_string_equal(b->sender, x->w.b.keys.actor);
    assert_int_equal(b->n_recipients, 1);
    assert_string_equal(b->recipients[0], fb_client_actor(c));
    for (size_t k = 0; k < sizeof nurs / sizeof nurs[0]; k++)
        assert_false(s_holds(d->envelope, d->envelope_len, nurs[k]));
    Fluxbus__V1__BilanAnnuel *m =
        fluxbus__v1__bilan_annuel__unpack(NULL, b->payload.len, b->payload.data);
    assert_non_null(m);
    fb_delivery_destroy(&d);
    return m;
}

static const Fluxbus__V1__BilanReservataireLine *s_line(const Fluxbus__V1__BilanAnnuel *m,
                                                        const char *resa)
{
    for (size_t i = 0; i < m->n_lines; i++)
        if (strcmp(m->lines[i]->reservataire_actor_id, resa) == 0)
            return m->lines[i];
    return NULL;
}

/* True when an objective line of the first EPCI names resa. */
static bool s_objective_of(const Fluxbus__V1__BilanAnnuel *m, const char *resa)
{
    for (size_t i = 0; m->n_epcis && i < m->epcis[0]->n_objectives; i++)
        if (strcmp(m->epcis[0]->objectives[i]->reservataire_actor_id, resa) == 0)
            return true;
    return false;
}

static void s_check_reservataires(s_world_t *x)
{
    Fluxbus__V1__BilanRequest req = s_request(x->year);
    uint8_t id[FB_MESSAGE_ID_BYTES];
    s_ask(x, x->w.cr, &req, id);
    Fluxbus__V1__BilanAnnuel *m = s_answer(x, x->w.cr, id);
    assert_int_equal(m->view, VIEW(RESERVATAIRE));
    assert_string_equal(m->requested_by, FBT_RESA);
    assert_int_equal(m->year, x->year);
    assert_int_equal(m->n_lines, 1);
    const Fluxbus__V1__BilanReservataireLine *al = s_line(m, FBT_RESA);
    assert_non_null(al);
    assert_int_equal(al->caleol_attributions, 2);
    assert_int_equal(al->baux_signes, 1);
    assert_int_equal(al->offers, 2);
    assert_true(al->has_objective);
    assert_int_equal(al->objective, 4);
    assert_int_equal(al->done, 1);
    /* All together: 3 attributions, 1 of them to a priority household. */
    assert_int_equal(m->total->attributions, 3);
    assert_int_equal(m->total->leases, 2);
    assert_string_equal(m->epci_siren, S_EPCI);
    assert_int_equal(m->prioritaires->numerator, 1);
    assert_int_equal(m->prioritaires->denominator, 3);
    assert_true(s_objective_of(m, FBT_RESA));
    assert_false(s_objective_of(m, S_ETAT));
    assert_int_equal(m->repeated_candidates->threshold, 2);
    fluxbus__v1__bilan_annuel__free_unpacked(m, NULL);

    s_ask(x, x->ce, &req, id);
    m = s_answer(x, x->ce, id);
    assert_int_equal(m->n_lines, 1);
    const Fluxbus__V1__BilanReservataireLine *etat = s_line(m, S_ETAT);
    assert_non_null(etat);
    assert_int_equal(etat->caleol_attributions, 1);
    assert_int_equal(etat->prioritaires->numerator, 1);
    assert_int_equal(etat->prioritaires->denominator, 1);
    assert_int_equal(etat->prioritaires->achieved_per_mille, 1000);
    assert_false(s_objective_of(m, FBT_RESA));
    fluxbus__v1__bilan_annuel__free_unpacked(m, NULL);
}

static void s_check_bailleur(s_world_t *x)
{
    Fluxbus__V1__BilanRequest req = s_request(x->year);
    req.bailleur = "552046955";
    uint8_t id[FB_MESSAGE_ID_BYTES];
    s_ask(x, x->w.cb, &req, id);
    Fluxbus__V1__BilanAnnuel *m = s_answer(x, x->w.cb, id);
    assert_int_equal(m->view, VIEW(BAILLEUR));
    assert_string_equal(m->bailleur, FBT_BAILLEUR);
    assert_string_equal(m->bailleur_siren, "552046955");
    assert_int_equal(m->n_lines, 2);
    assert_non_null(s_line(m, S_ETAT));
    assert_true(s_line(m, FBT_RESA)->has_objective);
    assert_true(s_objective_of(m, S_ETAT) && s_objective_of(m, FBT_RESA));
    assert_int_equal(m->period->start->month, 1);
    assert_int_equal(m->period->end->month, 12);
    fluxbus__v1__bilan_annuel__free_unpacked(m, NULL);
}

static void s_check_territories(s_world_t *x)
{
    Fluxbus__V1__BilanRequest req = s_request(x->year);
    uint8_t id[FB_MESSAGE_ID_BYTES];
    s_ask(x, x->cd, &req, id);
    Fluxbus__V1__BilanAnnuel *m = s_answer(x, x->cd, id);
    assert_int_equal(m->view, VIEW(TERRITOIRE));
    assert_int_equal(m->n_communes_insee, 1);
    assert_string_equal(m->communes_insee[0], "74010");
    assert_int_equal(m->total->attributions, 2); /* V3 is in 74011 */
    assert_int_equal(m->n_lines, 2);
    assert_false(s_line(m, FBT_RESA)->has_objective);
    assert_int_equal(s_line(m, FBT_RESA)->caleol_attributions, 1);
    fluxbus__v1__bilan_annuel__free_unpacked(m, NULL);

    s_ask(x, x->cc, &req, id);
    m = s_answer(x, x->cc, id);
    assert_int_equal(m->total->attributions, 0);
    assert_int_equal(m->n_lines, 0);
    fluxbus__v1__bilan_annuel__free_unpacked(m, NULL);
}

static void s_check_refusals(s_world_t *x)
{
    const char *broker = x->w.b.keys.actor;
    Fluxbus__V1__BilanRequest req = s_request(x->year);
    req.bailleur = "bailleur:775663438";
    s_refused(x->w.cb, broker, &req, FB_ERR_NOT_AUTHORIZED, "its own bilan only");
    req = s_request(x->year);
    s_refused(x->cn, broker, &req, FB_ERR_NOT_AUTHORIZED, "no territory");
    s_refused(x->cs, broker, &req, FB_ERR_NOT_AUTHORIZED, "may not send");
    s_refused(x->w.cr, FBT_BAILLEUR, &req, FB_ERR_NOT_AUTHORIZED, "broker only");
    req = s_request(0);
    s_refused(x->w.cr, broker, &req, FB_ERR_MALFORMED, "neither a year");
    req = s_request(x->year);
    req.epci_siren = "EPCI";
    s_refused(x->ce, broker, &req, FB_ERR_MALFORMED, "not 9 digits");
    /* Nothing was answered to any of them. */
    fbt_expect_nothing(x->cn, 300);
    fbt_expect_nothing(x->cs, 300);
}

/* The same request sent again (the same bytes) is a duplicate: one answer
 * only. */
static void s_check_duplicate(s_world_t *x)
{
    Fluxbus__V1__BilanRequest req = s_request(x->year);
    uint8_t *env = NULL, id[FB_MESSAGE_ID_BYTES];
    size_t env_len = 0;
    fbt_seal_msg(x->cd, T(BILAN_REQUEST), x->w.b.keys.actor, &req.base, &env, &env_len, id);
    fb_receipt_t r = {0};
    assert_int_equal(fb_client_send_raw(x->cd, env, env_len, id, &r), FB_OK);
    assert_false(r.duplicate);
    fb_receipt_clear(&r);
    Fluxbus__V1__BilanAnnuel *a = s_answer(x, x->cd, id);
    fluxbus__v1__bilan_annuel__free_unpacked(a, NULL);
    assert_int_equal(fb_client_send_raw(x->cd, env, env_len, id, &r), FB_OK);
    assert_true(r.duplicate);
    fb_receipt_clear(&r);
    free(env);
    fbt_expect_nothing(x->cd, 500);
}

static void test_bilan_on_request_to_each_party_its_view(void **state)
{
    (void)state;
    s_world_t x;
    s_open(&x);
    s_check_reservataires(&x);
    s_check_bailleur(&x);
    s_check_territories(&x);
    s_check_refusals(&x);
    s_check_duplicate(&x);
    /* The answers are in the audit chain like any message. */
    char out[512];
    assert_int_equal(fbt_sh(out, sizeof out, "'%s' audit verify --store '%s' --broker '%s.pub'",
                            FB_CLI_BIN, x.w.b.store, x.w.b.key),
                     0);
    assert_non_null(strstr(out, "ok: "));
    s_close(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bilan_on_request_to_each_party_its_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
