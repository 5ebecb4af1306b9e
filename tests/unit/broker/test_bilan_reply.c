/* test_bilan_reply.c - who may ask the broker for which bilan
 * (broker/bilan_reply.c: bilan_reply_scope, bilan_reply_id) and what each
 * view of the answer holds (broker/bilan_msg.c), on a bilan built by hand:
 * a réservataire sees its own line and objective lines and the figures of
 * all together, never another réservataire's line; no view names a
 * household. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bilan_msg.h"
#include "bilan_reply.h"

#define VIEW(x) FLUXBUS__V1__BILAN_VIEW__BILAN_VIEW_##x
#define S_AL "reservataire:action-logement"
#define S_ETAT "reservataire:prefet-74"
#define S_NUR "074012500000999"

static store_actor_t s_actor(const char *id, const char *roles, const char *territories)
{
    store_actor_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.roles, sizeof a.roles, "%s", roles);
    snprintf(a.territories, sizeof a.territories, "%s", territories);
    return a;
}

static Fluxbus__V1__BilanRequest s_year(int year)
{
    Fluxbus__V1__BilanRequest r = FLUXBUS__V1__BILAN_REQUEST__INIT;
    r.year = year;
    return r;
}

/* Scopes req for who; asserts a refusal says why and an acceptance does not. */
static fb_err_t s_scope(const store_actor_t *who, const Fluxbus__V1__BilanRequest *req,
                        bilan_reply_scope_t *scope)
{
    char detail[256];
    memset(detail, 'x', sizeof detail - 1);
    detail[sizeof detail - 1] = '\0';
    fb_err_t rc = bilan_reply_scope(who, req, scope, detail, sizeof detail);
    if (rc == FB_OK)
        assert_string_equal(detail, "");
    else
        assert_true(strlen(detail) > 0 && detail[0] != 'x');
    return rc;
}

/* The example of use: a réservataire asks for its bilan of a year. */
static void test_bilan_reply_reservataire_gets_its_view_of_every_bailleur(void **state)
{
    (void)state;
    store_actor_t al = s_actor(S_AL, "reservataire", "");
    Fluxbus__V1__BilanRequest req = s_year(2025);
    bilan_reply_scope_t scope;
    assert_int_equal(s_scope(&al, &req, &scope), FB_OK);
    assert_int_equal(scope.view, VIEW(RESERVATAIRE));
    assert_null(scope.query.bailleur);
    assert_null(scope.query.epci);
    assert_null(scope.query.communes);
    char from[11], to[11];
    period_format_date(scope.query.period.from, from);
    period_format_date(scope.query.period.to, to);
    assert_string_equal(from, "2025-01-01");
    assert_string_equal(to, "2025-12-31");
    req.bailleur = "552046955";
    req.epci_siren = "200066793";
    assert_int_equal(s_scope(&al, &req, &scope), FB_OK);
    assert_string_equal(scope.query.bailleur, "552046955");
    assert_string_equal(scope.query.epci, "200066793");
}

static void test_bilan_reply_bailleur_gets_its_own_bilan_only(void **state)
{
    (void)state;
    store_actor_t b = s_actor("bailleur:552046955", "bailleur", "");
    Fluxbus__V1__BilanRequest req = s_year(2025);
    bilan_reply_scope_t scope;
    const char *own[] = {"", "bailleur:552046955", "552046955"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        req.bailleur = (char *)own[i];
        assert_int_equal(s_scope(&b, &req, &scope), FB_OK);
        assert_int_equal(scope.view, VIEW(BAILLEUR));
        /* Filtered by its actor id, however it asked. */
        assert_string_equal(scope.query.bailleur, "bailleur:552046955");
    }
    req.bailleur = "bailleur:775663438";
    assert_int_equal(s_scope(&b, &req, &scope), FB_ERR_NOT_AUTHORIZED);
    req.bailleur = "775663438";
    assert_int_equal(s_scope(&b, &req, &scope), FB_ERR_NOT_AUTHORIZED);
}

static void test_bilan_reply_observer_and_commune_get_their_territory(void **state)
{
    (void)state;
    Fluxbus__V1__BilanRequest req = s_year(2025);
    bilan_reply_scope_t scope;
    store_actor_t obs = s_actor("observer:ddets-74", "observer", "74010,74011");
    assert_int_equal(s_scope(&obs, &req, &scope), FB_OK);
    assert_int_equal(scope.view, VIEW(TERRITOIRE));
    assert_string_equal(scope.query.communes, "74010,74011");
    /* Another bailleur's dwellings of the territory: the bilan goes to
     * observers and mayors by law. */
    req.bailleur = "bailleur:775663438";
    assert_int_equal(s_scope(&obs, &req, &scope), FB_OK);
    assert_string_equal(scope.query.bailleur, "bailleur:775663438");
    store_actor_t commune = s_actor("commune:74010", "commune,reservataire", "74010");
    assert_int_equal(s_scope(&commune, &req, &scope), FB_OK);
    assert_int_equal(scope.view, VIEW(TERRITOIRE));
    assert_string_equal(scope.query.communes, "74010");
    /* Without a territory: nothing, or its lines as a réservataire. */
    store_actor_t lost = s_actor("observer:none", "observer", "");
    assert_int_equal(s_scope(&lost, &req, &scope), FB_ERR_NOT_AUTHORIZED);
    store_actor_t resa = s_actor("commune:74011", "commune,reservataire", "");
    assert_int_equal(s_scope(&resa, &req, &scope), FB_OK);
    assert_int_equal(scope.view, VIEW(RESERVATAIRE));
    assert_null(scope.query.communes);
}

static void test_bilan_reply_refuses_other_roles(void **state)
{
    (void)state;
    Fluxbus__V1__BilanRequest req = s_year(2025);
    bilan_reply_scope_t scope;
    store_actor_t sne = s_actor("sne", "sne", "");
    assert_int_equal(s_scope(&sne, &req, &scope), FB_ERR_NOT_AUTHORIZED);
}

static void s_set(Fluxbus__V1__Date *d, int year, int month, int day)
{
    d->year = year;
    d->month = month;
    d->day = day;
}

static void test_bilan_reply_refuses_bad_periods_and_epci(void **state)
{
    (void)state;
    store_actor_t al = s_actor(S_AL, "reservataire", "");
    bilan_reply_scope_t scope;
    Fluxbus__V1__BilanRequest req = s_year(0);
    assert_int_equal(s_scope(&al, &req, &scope), FB_ERR_MALFORMED);
    Fluxbus__V1__Date start = FLUXBUS__V1__DATE__INIT, end = FLUXBUS__V1__DATE__INIT;
    Fluxbus__V1__Period p = FLUXBUS__V1__PERIOD__INIT;
    p.start = &start;
    p.end = &end;
    req.period = &p;
    s_set(&start, 2024, 1, 1);
    s_set(&end, 2024, 12, 31);
    assert_int_equal(s_scope(&al, &req, &scope), FB_OK); /* 366 days */
    s_set(&end, 2025, 1, 1);
    assert_int_equal(s_scope(&al, &req, &scope), FB_ERR_MALFORMED); /* 367 */
    s_set(&end, 2023, 12, 31);
    assert_int_equal(s_scope(&al, &req, &scope), FB_ERR_MALFORMED); /* before start */
    s_set(&end, 2024, 2, 30);
    assert_int_equal(s_scope(&al, &req, &scope), FB_ERR_MALFORMED); /* no such day */
    p.end = NULL;
    assert_int_equal(s_scope(&al, &req, &scope), FB_ERR_MALFORMED);
    req = s_year(2025);
    req.epci_siren = "20006679";
    assert_int_equal(s_scope(&al, &req, &scope), FB_ERR_MALFORMED);
    req.epci_siren = "2000667930";
    assert_int_equal(s_scope(&al, &req, &scope), FB_ERR_MALFORMED);
}

static void test_bilan_reply_id_is_derived_from_requester_and_request(void **state)
{
    (void)state;
    uint8_t req1[16] = {1}, req2[16] = {2}, a[16], b[16], c[16], d[16];
    bilan_reply_id(S_AL, req1, a);
    bilan_reply_id(S_AL, req1, b);
    bilan_reply_id(S_AL, req2, c);
    bilan_reply_id(S_ETAT, req1, d);
    assert_memory_equal(a, b, 16);
    assert_memory_not_equal(a, c, 16);
    assert_memory_not_equal(a, d, 16);
}

/* ---- views of a bilan ---- */

typedef struct {
    bilan_t b;
    bilan_count_t resa[3];
    bilan_epci_t epci;
    bilan_objective_t objectives[4];
    bilan_repeated_t repeated[1];
    bilan_vacant_t vacant[1];
} s_bilan_t;

static void s_count(bilan_count_t *c, const char *key, uint32_t attributions, uint32_t prio)
{
    memset(c, 0, sizeof *c);
    snprintf(c->key, sizeof c->key, "%s", key);
    snprintf(c->label, sizeof c->label, "%s", key);
    c->attributions = attributions;
    c->prioritaires = prio;
}

static void s_objective(bilan_objective_t *o, const char *objective, const char *resa, uint32_t num,
                        uint32_t den)
{
    memset(o, 0, sizeof *o);
    snprintf(o->objective, sizeof o->objective, "%s", objective);
    snprintf(o->scope, sizeof o->scope, "epci");
    snprintf(o->scope_id, sizeof o->scope_id, "200066793");
    snprintf(o->reservataire, sizeof o->reservataire, "%s", resa);
    o->numerator = num;
    o->denominator = den;
    o->has_target = true;
    o->target.target_per_mille = 250;
    snprintf(o->target.valid_from, sizeof o->target.valid_from, "2017-01-28");
    o->status = (uint64_t)num * 1000 >= 250ull * den ? "pass" : "fail";
}

/* Two réservataires and the bailleur's own line in one EPCI; one
 * candidate presented repeatedly. */
static void s_bilan(s_bilan_t *x)
{
    memset(x, 0, sizeof *x);
    bilan_t *b = &x->b;
    b->period = period_year(2025);
    snprintf(b->reference_date, sizeof b->reference_date, "2025-12-31");
    snprintf(b->bailleur, sizeof b->bailleur, "bailleur:552046955");
    s_count(&b->total, "total", 7, 3);
    s_count(&x->resa[0], S_AL, 4, 1);
    x->resa[0].has_objective = true;
    x->resa[0].objective = 10;
    x->resa[0].done = 3;
    s_count(&x->resa[1], S_ETAT, 2, 2);
    s_count(&x->resa[2], "bailleur:552046955", 1, 0);
    x->resa[2].non_reserve = true;
    b->by[BILAN_BY_RESERVATAIRE] = (bilan_table_t){x->resa, 3};
    snprintf(x->epci.epci_siren, sizeof x->epci.epci_siren, "200066793");
    snprintf(x->epci.epci_name, sizeof x->epci.epci_name, "Grand Annecy");
    s_objective(&x->objectives[0], REFDATA_OBJ_Q1_HORS_QPV, "", 1, 2);
    s_objective(&x->objectives[1], REFDATA_OBJ_PRIORITAIRES, S_AL, 1, 4);
    s_objective(&x->objectives[2], REFDATA_OBJ_PRIORITAIRES, S_ETAT, 2, 2);
    s_objective(&x->objectives[3], REFDATA_OBJ_PRIORITAIRES, "", 3, 7);
    x->epci.objectives = x->objectives;
    x->epci.n_objectives = 4;
    b->epcis = &x->epci;
    b->n_epcis = 1;
    snprintf(x->repeated[0].nur, sizeof x->repeated[0].nur, S_NUR);
    x->repeated[0].presentations = 2;
    b->repeated = x->repeated;
    b->n_repeated = 1;
    b->repeated_threshold = 2;
    b->vacant = x->vacant;
    b->n_vacant = 1;
}

/* The message of view for who, packed; asserts it names no household. */
static Fluxbus__V1__BilanAnnuel *s_view(const s_bilan_t *x, int view, const char *who)
{
    bilan_msg_args_t args = {.view = view, .requested_by = who, .computed_ms = 1};
    bilan_msg_t *m = bilan_msg_new(&x->b, &args);
    assert_non_null(m);
    const ProtobufCMessage *msg = &bilan_msg_payload(m)->base;
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    protobuf_c_message_pack(msg, buf);
    bilan_msg_destroy(&m);
    for (size_t i = 0; i + strlen(S_NUR) <= len; i++)
        assert_true(memcmp(buf + i, S_NUR, strlen(S_NUR)) != 0);
    Fluxbus__V1__BilanAnnuel *out = fluxbus__v1__bilan_annuel__unpack(NULL, len, buf);
    free(buf);
    assert_non_null(out);
    return out;
}

static void test_bilan_msg_reservataire_view_holds_its_lines_only(void **state)
{
    (void)state;
    s_bilan_t x;
    s_bilan(&x);
    Fluxbus__V1__BilanAnnuel *m = s_view(&x, VIEW(RESERVATAIRE), S_AL);
    assert_int_equal(m->view, VIEW(RESERVATAIRE));
    assert_string_equal(m->requested_by, S_AL);
    assert_int_equal(m->n_lines, 1);
    assert_string_equal(m->lines[0]->reservataire_actor_id, S_AL);
    assert_int_equal(m->lines[0]->caleol_attributions, 4);
    assert_int_equal(m->lines[0]->objective, 10);
    assert_int_equal(m->lines[0]->done, 3);
    assert_int_equal(m->lines[0]->prioritaires->numerator, 1);
    assert_int_equal(m->lines[0]->prioritaires->target_per_mille, 250);
    /* Its own objective line and those of all together, not the State's. */
    assert_int_equal(m->n_epcis, 1);
    assert_int_equal(m->epcis[0]->n_objectives, 3);
    for (size_t i = 0; i < m->epcis[0]->n_objectives; i++)
        assert_string_not_equal(m->epcis[0]->objectives[i]->reservataire_actor_id, S_ETAT);
    /* The figures of all together stay. */
    assert_int_equal(m->total->attributions, 7);
    assert_int_equal(m->prioritaires->numerator, 3);
    assert_int_equal(m->prioritaires->denominator, 7);
    assert_int_equal(m->prioritaires->achieved_per_mille, 429);
    assert_string_equal(m->epci_siren, "200066793");
    assert_int_equal(m->repeated_candidates->candidates, 1);
    assert_int_equal(m->year, 2025);
    assert_string_equal(m->bailleur_siren, "552046955");
    fluxbus__v1__bilan_annuel__free_unpacked(m, NULL);
}

static void test_bilan_msg_bailleur_view_holds_every_line(void **state)
{
    (void)state;
    s_bilan_t x;
    s_bilan(&x);
    Fluxbus__V1__BilanAnnuel *m = s_view(&x, VIEW(BAILLEUR), "bailleur:552046955");
    assert_int_equal(m->n_lines, 3);
    assert_true(m->lines[2]->non_reserve);
    assert_int_equal(m->epcis[0]->n_objectives, 4);
    assert_int_equal(m->epcis[0]->objectives[0]->status,
                     FLUXBUS__V1__BILAN_STATUS__BILAN_STATUS_PASS);
    assert_int_equal(m->epcis[0]->objectives[0]->target_valid_from->year, 2017);
    assert_int_equal(m->n_breakdowns, BILAN_DIMS - 1); /* the réservataires are the lines */
    assert_int_equal(m->period->start->month, 1);
    assert_int_equal(m->period->end->day, 31);
    assert_int_equal(m->reference_date->year, 2025);
    fluxbus__v1__bilan_annuel__free_unpacked(m, NULL);
}

static void test_bilan_msg_territory_view_lists_its_communes(void **state)
{
    (void)state;
    s_bilan_t x;
    s_bilan(&x);
    bilan_msg_args_t args = {
        .view = VIEW(TERRITOIRE), .requested_by = "observer:ddets-74", .communes = "74010,74011"};
    bilan_msg_t *m = bilan_msg_new(&x.b, &args);
    assert_non_null(m);
    const Fluxbus__V1__BilanAnnuel *p = bilan_msg_payload(m);
    assert_int_equal(p->n_communes_insee, 2);
    assert_string_equal(p->communes_insee[1], "74011");
    assert_int_equal(p->n_lines, 3);
    bilan_msg_destroy(&m);
    bilan_msg_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bilan_reply_reservataire_gets_its_view_of_every_bailleur),
        cmocka_unit_test(test_bilan_reply_bailleur_gets_its_own_bilan_only),
        cmocka_unit_test(test_bilan_reply_observer_and_commune_get_their_territory),
        cmocka_unit_test(test_bilan_reply_refuses_other_roles),
        cmocka_unit_test(test_bilan_reply_refuses_bad_periods_and_epci),
        cmocka_unit_test(test_bilan_reply_id_is_derived_from_requester_and_request),
        cmocka_unit_test(test_bilan_msg_reservataire_view_holds_its_lines_only),
        cmocka_unit_test(test_bilan_msg_bailleur_view_holds_every_line),
        cmocka_unit_test(test_bilan_msg_territory_view_lists_its_communes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
