/* 34_ledger_decompte_emit - the broker's own DecompteDroits, against the
 * real broker: under a Convention, a vacancy freed, oriented, acknowledged,
 * designated, attributed by the CALEOL and let gives the réservataire one
 * DecompteDroits after each change of its counts, with the right numbers,
 * signed by the broker and verified by the client library with the
 * broker's key; a visit, a CALEOL session or a household's acceptance
 * change no count and give none. The bailleur and an observer of the
 * territory get the same messages; an observer of another territory and
 * another réservataire get nothing. A restart sends nothing again; a change
 * made just before a stop is sent once after the restart (with the next
 * one, when they fall in the same interval), and a kill -9 as the broker
 * emits one still leaves exactly one. A multipartite convention gives each
 * commune its sheet's line and the EPCI the whole convention; an observer
 * gets the lines of its territory only. The adapters show it: an event of
 * the réservataire adapter, a file in the bailleur adapter's outbox. */
#include "adapter_harness.h"
#include "harness.h"

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builders.h"
#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define WAIT_MS 15000 /* a delivery: generous for a loaded machine */
#define QUIET_MS 1500 /* "nothing more" */
#define S_CONV "conv-74-al-decompte"
#define S_NUR "074011926000042"
#define S_OBS "observer:ddets-74"
#define S_OBS_ELSEWHERE "observer:ddets-73"
#define S_OTHER_RESA "reservataire:etat-74"

/* ---- sending ------------------------------------------------------------------------ */

/* Sends `msg` of `type` from c to `to` about vacancy; asserts accepted. */
static void s_send(fb_client_t *c, int type, const char *to, const char *vacancy,
                   const ProtobufCMessage *msg)
{
    fbt_send_ok(c, type, to, vacancy, msg);
}

/* The bailleur's convention with the réservataire for this year on commune
 * 74010: 10 placements (8 to 12), counted at the CALEOL agreement. */
static void s_convention(fbt_pair_t *w)
{
    Fluxbus__V1__ConventionObjective o = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    Fluxbus__V1__ConventionObjective *objectives[1] = {&o};
    char *territory[1] = {"74010"};
    o.kind = FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_PLACEMENTS;
    o.value = 10;
    o.min = 8;
    o.max = 12;
    Fluxbus__V1__Convention c = builders_convention(S_CONV, FBT_BAILLEUR, FBT_RESA, fbt_year_now());
    c.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    c.counting_method = FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_PASSAGE_CALEOL;
    c.deadline_days = 30;
    c.territory_insee = territory;
    c.n_territory_insee = 1;
    c.departement = "74";
    c.objectives = objectives;
    c.n_objectives = 1;
    s_send(w->cb, T(CONVENTION), FBT_RESA, "", &c.base);
}

static void s_logement(fbt_pair_t *w, const char *vacancy)
{
    size_t len = 0;
    uint8_t *bytes = fbt_logement(vacancy, "74010", &len);
    const char *const to[1] = {FBT_RESA};
    fb_outgoing_t m = {.type = T(LOGEMENT_LIBERE),
                       .recipients = to,
                       .n_recipients = 1,
                       .correlation_id = vacancy,
                       .payload = bytes,
                       .payload_len = len};
    fb_receipt_t rec;
    assert_int_equal(fb_client_send(w->cb, &m, &rec), FB_OK);
    assert_true(rec.accepted);
    fb_receipt_clear(&rec);
    free(bytes);
}

static void s_orient(fbt_pair_t *w, const char *vacancy)
{
    /* Its deadline: the convention's délai. */
    Fluxbus__V1__Orientation o =
        life_msgs_orientation(vacancy, S_CONV, FBT_RESA, 1, 1, fb_now_ms() + 30 * BUILDERS_DAY_MS);
    o.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT;
    s_send(w->cb, T(ORIENTATION), FBT_RESA, vacancy, &o.base);
}

static void s_ack(fbt_pair_t *w, const char *vacancy)
{
    Fluxbus__V1__OrientationAck a = builders_ack(vacancy, S_CONV);
    s_send(w->cr, T(ORIENTATION_ACK), FBT_BAILLEUR, vacancy, &a.base);
}

static void s_designate(fbt_pair_t *w, const char *vacancy)
{
    Fluxbus__V1__Designation d = builders_designation(vacancy, S_CONV, S_NUR, 1, 1);
    s_send(w->cr, T(DESIGNATION), FBT_BAILLEUR, vacancy, &d.base);
}

static void s_visit(fbt_pair_t *w, const char *vacancy)
{
    Fluxbus__V1__Visite v = FLUXBUS__V1__VISITE__INIT;
    v.vacancy_id = (char *)vacancy;
    v.nur = S_NUR;
    v.visit_ms = fb_now_ms();
    v.outcome = FLUXBUS__V1__VISITE_OUTCOME__VISITE_OUTCOME_DONE_INTERESTED;
    s_send(w->cb, T(VISITE), FBT_RESA, vacancy, &v.base);
}

static void s_seance(fbt_pair_t *w, const char *vacancy)
{
    size_t len = 0;
    uint8_t *bytes = fbt_seance("caleol-decompte-1", "74010", &len);
    Fluxbus__V1__CaleolSeance *s = NULL;
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__caleol_seance__descriptor, bytes, len,
                                     FB_DEFAULT_MAX_ENVELOPE, (ProtobufCMessage **)&s),
                     FB_OK);
    char *vacancies[1] = {(char *)vacancy};
    char **kept = s->vacancy_ids;
    size_t n_kept = s->n_vacancy_ids;
    s->revision = 1;
    s->status = FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_SCHEDULED;
    s->start_ms = fb_now_ms(); /* it sits now: its decision follows */
    s->end_ms = s->start_ms + 7200000;
    s->vacancy_ids = vacancies;
    s->n_vacancy_ids = 1;
    s_send(w->cb, T(CALEOL_SEANCE), FBT_RESA, vacancy, &s->base);
    s->vacancy_ids = kept;
    s->n_vacancy_ids = n_kept;
    fb_codec_free(&s->base);
    free(bytes);
}

static void s_decide(fbt_pair_t *w, const char *vacancy)
{
    Fluxbus__V1__CaleolDecision d =
        builders_decision("caleol-decompte-1", vacancy, S_NUR, 1, FBT_RESA,
                          FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION);
    s_send(w->cb, T(CALEOL_DECISION), FBT_RESA, vacancy, &d.base);
}

static void s_accepted(fbt_pair_t *w, const char *vacancy)
{
    Fluxbus__V1__PropositionReponse r = life_msgs_answer(vacancy, S_NUR, false, fb_now_ms());
    r.proposal_sent_ms = fb_now_ms() - 3600000;
    s_send(w->cb, T(PROPOSITION_REPONSE), FBT_RESA, vacancy, &r.base);
}

static void s_lease(fbt_pair_t *w, const char *vacancy)
{
    Fluxbus__V1__BailSigne b = builders_lease(vacancy, S_NUR, FBT_RESA);
    Fluxbus__V1__Date on = FLUXBUS__V1__DATE__INIT;
    on.year = fbt_year_now();
    on.month = 12;
    on.day = 1;
    b.signed_on = &on;
    b.effective_on = &on;
    b.convention_id = S_CONV;
    b.bailleur_siren = BUILDERS_SIREN;
    s_send(w->cb, T(BAIL_SIGNE), FBT_RESA, vacancy, &b.base);
}

/* ---- receiving ---------------------------------------------------------------------- */

/* What a DecompteDroits should say. */
typedef struct {
    uint32_t sequence, freed, orientations, acks, designations, attributions, leases;
    uint32_t c_acceptee, c_caleol, c_bail, done;
} s_want_t;

/* Receives (and acks) deliveries on c until a DecompteDroits; NULL on
 * timeout. Other types are skipped. */
static fb_delivery_t *s_next_decompte(fb_client_t *c, int timeout_ms)
{
    int64_t until = fb_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = until - fb_now_ms();
        fb_delivery_t *d = left > 0 ? fbt_recv_ack(c, (int)left) : NULL;
        if (!d || (int)d->body->type == T(DECOMPTE_DROITS))
            return d;
        fb_delivery_destroy(&d);
    }
}

/* No DecompteDroits on c for quiet_ms (other deliveries are fine). */
static void s_no_decompte(fb_client_t *c, int quiet_ms)
{
    fb_delivery_t *d = s_next_decompte(c, quiet_ms);
    if (d) {
        Fluxbus__V1__DecompteDroits *m = NULL;
        fb_err_t rc =
            fb_codec_unpack(&fluxbus__v1__decompte_droits__descriptor, d->body->payload.data,
                            d->body->payload.len, FB_DEFAULT_MAX_ENVELOPE, (ProtobufCMessage **)&m);
        fail_msg("unexpected DecompteDroits seq %u to %s", rc == FB_OK ? m->sequence : 0,
                 d->body->recipients[0]);
    }
}

/* Expects the broker's next DecompteDroits on c, checks who signed it,
 * who it is for and what it says; its message id goes to id_hex. */
static void s_expect(const fbt_pair_t *w, fb_client_t *c, const s_want_t *want,
                     char id_hex[2 * FB_MESSAGE_ID_BYTES + 1])
{
    fb_delivery_t *d = s_next_decompte(c, WAIT_MS);
    if (!d)
        fail_msg("no DecompteDroits (sequence %u) within %d ms", want->sequence, WAIT_MS);
    /* Sent by the broker itself, verified with its own key. */
    assert_string_equal(d->body->sender, w->b.keys.actor);
    assert_string_equal(d->body->key_id, w->b.keys.key_id);
    assert_memory_equal(d->sender_pk, w->b.keys.sign_pk, FB_SIGN_PK_BYTES);
    /* To the party, the bailleur and the observer of the territory. */
    assert_int_equal(d->body->n_recipients, 3);
    assert_string_equal(d->body->recipients[0], FBT_RESA);
    assert_string_equal(d->body->recipients[1], FBT_BAILLEUR);
    assert_string_equal(d->body->recipients[2], S_OBS);
    Fluxbus__V1__DecompteDroits *m = NULL;
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__decompte_droits__descriptor,
                                     d->body->payload.data, d->body->payload.len,
                                     FB_DEFAULT_MAX_ENVELOPE, (ProtobufCMessage **)&m),
                     FB_OK);
    assert_string_equal(m->convention_id, S_CONV);
    assert_int_equal(m->sequence, want->sequence);
    assert_string_equal(m->party_actor_id, FBT_RESA);
    assert_string_equal(m->bailleur_actor_id, FBT_BAILLEUR);
    assert_string_equal(m->commune_insee, "");
    assert_false(m->convention_total);
    assert_int_equal(m->convention_revision, 1);
    assert_non_null(m->period);
    assert_int_equal(m->period->start->year, fbt_year_now());
    assert_int_equal(m->period->start->month, 1);
    assert_int_equal(m->period->start->day, 1);
    assert_int_equal(m->period->end->month, 12);
    assert_int_equal(m->period->end->day, 31);
    assert_true(m->computed_ms > 0 && m->computed_ms <= fb_now_ms());
    assert_int_equal(m->counting_method,
                     FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_PASSAGE_CALEOL);
    assert_false(m->remise_counted);
    assert_true(m->expiry_counted);
    assert_int_equal(m->logements_liberes, want->freed);
    assert_int_equal(m->hors_flux, 0);
    assert_int_equal(m->orientations, want->orientations);
    assert_int_equal(m->count_orientation_acceptee, want->c_acceptee);
    assert_int_equal(m->count_passage_caleol, want->c_caleol);
    assert_int_equal(m->count_bail_signe, want->c_bail);
    assert_int_equal(m->objective, 10);
    assert_int_equal(m->done, want->done);
    assert_int_equal(m->remaining, 10 - (int)want->done);
    assert_non_null(m->activity);
    assert_int_equal(m->activity->acks, want->acks);
    assert_int_equal(m->activity->designations, want->designations);
    assert_int_equal(m->activity->caleol_attributions, want->attributions);
    assert_int_equal(m->activity->leases, want->leases);
    assert_int_equal(m->activity->offres, want->orientations);
    assert_int_equal(m->activity->refusals + m->activity->declines + m->activity->remises +
                         m->activity->expiries,
                     0);
    assert_int_equal(m->n_objectives, 1);
    const Fluxbus__V1__DecompteObjective *o = m->objectives[0];
    assert_int_equal(o->kind, FLUXBUS__V1__OBJECTIVE_KIND__OBJECTIVE_KIND_PLACEMENTS);
    assert_int_equal(o->target, 10);
    assert_int_equal(o->target_min, 8);
    assert_int_equal(o->target_max, 12);
    assert_int_equal(o->done, want->done);
    assert_int_equal(o->remaining, 10 - (int)want->done);
    assert_int_equal(o->status, want->done < 8
                                    ? FLUXBUS__V1__OBJECTIVE_STATUS__OBJECTIVE_STATUS_BELOW_MIN
                                    : FLUXBUS__V1__OBJECTIVE_STATUS__OBJECTIVE_STATUS_IN_PROGRESS);
    fb_hex_encode(d->body->message_id.data, FB_MESSAGE_ID_BYTES, id_hex);
    fb_codec_free(&m->base);
    fb_delivery_destroy(&d);
}

/* The réservataire, the observer of the territory and the bailleur each
 * get the one DecompteDroits: the same message. */
static void s_expect_all(const fbt_pair_t *w, fb_client_t *obs, const s_want_t *want)
{
    char to_resa[2 * FB_MESSAGE_ID_BYTES + 1], to_obs[2 * FB_MESSAGE_ID_BYTES + 1];
    char to_bailleur[2 * FB_MESSAGE_ID_BYTES + 1];
    s_expect(w, w->cr, want, to_resa);
    s_expect(w, obs, want, to_obs);
    s_expect(w, w->cb, want, to_bailleur);
    assert_string_equal(to_resa, to_obs);
    assert_string_equal(to_resa, to_bailleur);
}

static long long s_decomptes_stored(const fbt_pair_t *w)
{
    return fbt_sql_int(&w->b, "SELECT count(*) FROM messages WHERE type = 16");
}

/* fluxbus audit verify with the broker key: the broker's own messages are
 * in the chain and verify. */
static void s_audit_verifies(const fbt_pair_t *w)
{
    char out[4096];
    if (fbt_sh(out, sizeof out, "'%s' audit verify --store '%s' --broker '%s.pub'", FB_CLI_BIN,
               w->b.store, w->b.key) != 0 ||
        strncmp(out, "ok: ", 4) != 0)
        fail_msg("audit verify --broker said: %s", out);
}

/* ---- the tests ------------------------------------------------------------------------ */

static const char *const s_at_once[] = {"--decompte-interval-s", "0", NULL};

/* The other actors: the observer of 74, one of 73, another réservataire. */
typedef struct {
    fb_keys_t obs, elsewhere, other;
    fb_client_t *co, *ce, *cx;
} s_others_t;

static void s_others_open(fbt_pair_t *w, s_others_t *o)
{
    fbt_actor(&w->b, S_OBS, "observer", "74010,74011", &o->obs);
    fbt_actor(&w->b, S_OBS_ELSEWHERE, "observer", "73065", &o->elsewhere);
    fbt_actor(&w->b, S_OTHER_RESA, "reservataire", NULL, &o->other);
    o->co = fbt_client(&w->b, &o->obs);
    o->ce = fbt_client(&w->b, &o->elsewhere);
    o->cx = fbt_client(&w->b, &o->other);
}

static void s_others_connect(fbt_pair_t *w, s_others_t *o)
{
    o->co = fbt_client(&w->b, &o->obs);
    o->ce = fbt_client(&w->b, &o->elsewhere);
    o->cx = fbt_client(&w->b, &o->other);
}

static void s_others_close(s_others_t *o)
{
    fb_client_destroy(&o->co);
    fb_client_destroy(&o->ce);
    fb_client_destroy(&o->cx);
}

static void test_each_change_of_counts_gives_one_signed_decompte(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open_with(&w, s_at_once);
    s_others_t o;
    s_others_open(&w, &o);
    const char *vac = "vac-2026-3401";

    /* The convention alone: where it starts, its objective. */
    s_convention(&w);
    s_want_t want = {.sequence = 1};
    s_expect_all(&w, o.co, &want);
    /* Freed, oriented, acknowledged, designated: one each. */
    s_logement(&w, vac);
    want.sequence = 2, want.freed = 1;
    s_expect_all(&w, o.co, &want);
    s_orient(&w, vac);
    want.sequence = 3, want.orientations = 1;
    s_expect_all(&w, o.co, &want);
    s_ack(&w, vac);
    want.sequence = 4, want.acks = 1, want.c_acceptee = 1;
    s_expect_all(&w, o.co, &want);
    s_designate(&w, vac);
    want.sequence = 5, want.designations = 1;
    s_expect_all(&w, o.co, &want);
    /* A visit and a CALEOL session change no count. */
    s_visit(&w, vac);
    s_seance(&w, vac);
    s_no_decompte(w.cr, QUIET_MS);
    s_no_decompte(o.co, 100);
    /* The CALEOL attributes: counted (the convention's method), 9 to go. */
    s_decide(&w, vac);
    want.sequence = 6, want.attributions = 1, want.c_caleol = 1, want.done = 1;
    s_expect_all(&w, o.co, &want);
    /* The household accepts: nothing; the lease: counted by the third method. */
    s_accepted(&w, vac);
    s_no_decompte(w.cr, QUIET_MS);
    s_lease(&w, vac);
    want.sequence = 7, want.leases = 1, want.c_bail = 1;
    s_expect_all(&w, o.co, &want);
    s_no_decompte(w.cr, QUIET_MS);
    s_no_decompte(w.cb, 100);
    fbt_expect_nothing(o.co, 100);
    /* Neither the observer of another territory nor another réservataire. */
    fbt_expect_nothing(o.ce, 100);
    fbt_expect_nothing(o.cx, 100);
    assert_int_equal(s_decomptes_stored(&w), 7);

    /* A restart says nothing again; the next change is sent once. */
    s_others_close(&o);
    fbt_pair_restart(&w);
    s_others_connect(&w, &o);
    s_no_decompte(w.cr, QUIET_MS);
    fbt_expect_nothing(o.co, 100);
    assert_int_equal(s_decomptes_stored(&w), 7);
    s_logement(&w, "vac-2026-3402");
    want.sequence = 8, want.freed = 2;
    s_expect_all(&w, o.co, &want);
    s_no_decompte(w.cr, QUIET_MS);
    fbt_expect_nothing(o.co, 100);
    fbt_expect_nothing(o.ce, 100);
    fbt_expect_nothing(o.cx, 100);
    assert_int_equal(s_decomptes_stored(&w), 8);
    assert_int_equal(
        fbt_sql_int(&w.b, "SELECT seq FROM ledger_decompte_sent WHERE convention_id = '" S_CONV
                          "' AND party = '" FBT_RESA "' AND scope = 'party'"),
        8);
    assert_true(fbt_log_contains(&w.b, "broker decompte-sent"));
    s_audit_verifies(&w);
    s_others_close(&o);
    fbt_pair_close(&w);
}

static void test_a_change_before_a_stop_is_sent_once_after_the_restart(void **state)
{
    (void)state;
    /* Started with a long interval: nothing is sent before the stop. */
    static const char *args[] = {"--decompte-interval-s", "3600", NULL};
    fbt_pair_t w;
    fbt_pair_open_with(&w, args);
    s_others_t o;
    s_others_open(&w, &o);
    s_convention(&w);
    s_logement(&w, "vac-2026-3411");
    s_no_decompte(w.cr, 500);
    s_others_close(&o);
    fb_client_destroy(&w.cb);
    fb_client_destroy(&w.cr);
    assert_int_equal(fbt_stop(&w.b, SIGTERM), 0);
    assert_int_equal(s_decomptes_stored(&w), 0);

    /* Again with one second: both changes in one décompte, once. */
    w.b.args[1] = "1";
    fbt_start(&w.b);
    w.cb = fbt_client(&w.b, &w.bailleur);
    w.cr = fbt_client(&w.b, &w.resa);
    s_others_connect(&w, &o);
    s_want_t want = {.sequence = 1, .freed = 1};
    s_expect_all(&w, o.co, &want);
    s_no_decompte(w.cr, QUIET_MS + 1000);
    assert_int_equal(s_decomptes_stored(&w), 1);
    s_others_close(&o);
    fbt_pair_restart(&w);
    s_no_decompte(w.cr, QUIET_MS + 1000);
    assert_int_equal(s_decomptes_stored(&w), 1);
    fbt_pair_close(&w);
}

static void test_kill9_as_the_broker_emits_still_gives_one(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open_with(&w, s_at_once);
    s_others_t o;
    s_others_open(&w, &o);
    s_others_close(&o);
    fb_client_destroy(&w.cr);
    /* As soon as the broker logs the emission (written in its transaction,
     * a moment before COMMIT), kill -9: whether the COMMIT happened or not,
     * one DecompteDroits. */
    s_convention(&w);
    fb_client_destroy(&w.cb);
    int64_t until = fb_now_ms() + WAIT_MS;
    while (!fbt_log_contains(&w.b, "broker decompte-sent") && fb_now_ms() < until)
        usleep(1000);
    assert_true(fbt_log_contains(&w.b, "broker decompte-sent"));
    assert_int_equal(fbt_stop(&w.b, SIGKILL), 128 + SIGKILL);

    fbt_start(&w.b);
    w.cb = fbt_client(&w.b, &w.bailleur);
    w.cr = fbt_client(&w.b, &w.resa);
    s_others_connect(&w, &o);
    s_want_t want = {.sequence = 1};
    s_expect_all(&w, o.co, &want);
    s_no_decompte(w.cr, QUIET_MS);
    assert_int_equal(s_decomptes_stored(&w), 1);
    s_audit_verifies(&w);
    s_others_close(&o);
    fbt_pair_close(&w);
}

/* ---- a multipartite convention -------------------------------------------------------- */

#define S_EPCI "reservataire:grand-chambery"
#define S_COMMUNE_A "commune:73065"
#define S_COMMUNE_B "commune:73031"
#define S_OBS_A "observer:ddt-73-chambery"

/* Grand Chambéry's contingent delegated to two communes: 120 placements
 * (100 to 140) for the whole, 70 + 12 for Chambéry, 15 % for Bassens. */
static void s_multipartite(fbt_pair_t *w)
{
    Fluxbus__V1__ConventionObjective whole = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    Fluxbus__V1__ConventionObjective a_delegated = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    Fluxbus__V1__ConventionObjective a_own = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    Fluxbus__V1__ConventionObjective b_delegated = FLUXBUS__V1__CONVENTION_OBJECTIVE__INIT;
    whole.value = 120, whole.min = 100, whole.max = 140;
    a_delegated.value = 70;
    a_own.value = 12;
    b_delegated.unit = FLUXBUS__V1__OBJECTIVE_UNIT__OBJECTIVE_UNIT_PER_MILLE;
    b_delegated.value = 150, b_delegated.max = 200;
    Fluxbus__V1__ConventionObjective *whole_list[1] = {&whole};
    Fluxbus__V1__ConventionObjective *a_del[1] = {&a_delegated}, *a_ow[1] = {&a_own};
    Fluxbus__V1__ConventionObjective *b_del[1] = {&b_delegated};
    Fluxbus__V1__CommuneSheet a = FLUXBUS__V1__COMMUNE_SHEET__INIT;
    Fluxbus__V1__CommuneSheet b = FLUXBUS__V1__COMMUNE_SHEET__INIT;
    a.commune_insee = "73065", a.commune_actor_id = S_COMMUNE_A;
    a.delegated_objectives = a_del, a.n_delegated_objectives = 1;
    a.own_objectives = a_ow, a.n_own_objectives = 1;
    b.commune_insee = "73031", b.commune_actor_id = S_COMMUNE_B;
    b.delegated_objectives = b_del, b.n_delegated_objectives = 1;
    Fluxbus__V1__CommuneSheet *sheets[2] = {&a, &b};
    Fluxbus__V1__Convention c = FLUXBUS__V1__CONVENTION__INIT;
    c.convention_id = "conv-73-gc-multi";
    c.revision = 1;
    c.kind = FLUXBUS__V1__CONVENTION_KIND__CONVENTION_KIND_MULTIPARTITE;
    c.departement = "73";
    c.year = fbt_year_now();
    c.bailleur_actor_id = FBT_BAILLEUR;
    c.reservataire_actor_id = S_EPCI;
    c.epci_siren = "200069110";
    c.contingent = FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_EPCI;
    c.objectives = whole_list, c.n_objectives = 1;
    c.commune_sheets = sheets, c.n_commune_sheets = 2;
    s_send(w->cb, T(CONVENTION), S_EPCI, "", &c.base);
}

/* The next DecompteDroits on c: its party, commune, total flag, placements
 * objective and recipients ("a,b,c"). */
static void s_expect_line(fb_client_t *c, const char *party, const char *insee, bool total,
                          uint32_t objective, const char *recipients)
{
    fb_delivery_t *d = s_next_decompte(c, WAIT_MS);
    if (!d)
        fail_msg("no DecompteDroits for %s within %d ms", party, WAIT_MS);
    Fluxbus__V1__DecompteDroits *m = NULL;
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__decompte_droits__descriptor,
                                     d->body->payload.data, d->body->payload.len,
                                     FB_DEFAULT_MAX_ENVELOPE, (ProtobufCMessage **)&m),
                     FB_OK);
    char to[512] = "";
    for (size_t i = 0; i < d->body->n_recipients; i++)
        snprintf(to + strlen(to), sizeof to - strlen(to), "%s%s", i ? "," : "",
                 d->body->recipients[i]);
    assert_string_equal(m->convention_id, "conv-73-gc-multi");
    assert_string_equal(m->party_actor_id, party);
    assert_string_equal(m->commune_insee, insee);
    assert_int_equal(m->convention_total, total);
    assert_int_equal(m->objective, objective);
    assert_int_equal(m->sequence, 1);
    assert_string_equal(to, recipients);
    fb_codec_free(&m->base);
    fb_delivery_destroy(&d);
}

static void
test_multipartite_lines_go_to_their_commune_and_observers_of_their_territory(void **state)
{
    (void)state;
    fbt_pair_t w;
    fbt_pair_open_with(&w, s_at_once);
    fb_keys_t epci, ca, cb, obs;
    fbt_actor(&w.b, S_EPCI, "reservataire", NULL, &epci);
    fbt_actor(&w.b, S_COMMUNE_A, "commune", "73065", &ca);
    fbt_actor(&w.b, S_COMMUNE_B, "commune", "73031", &cb);
    fbt_actor(&w.b, S_OBS_A, "observer", "73065", &obs);
    fb_client_t *c_epci = fbt_client(&w.b, &epci), *c_a = fbt_client(&w.b, &ca);
    fb_client_t *c_b = fbt_client(&w.b, &cb), *c_obs = fbt_client(&w.b, &obs);
    s_multipartite(&w);
    /* Each commune its sheet (delegated and own rights summed); the EPCI the
     * whole convention; the observer of Chambéry its line and the whole. */
    const char *a_to = S_COMMUNE_A "," FBT_BAILLEUR "," S_OBS_A;
    const char *b_to = S_COMMUNE_B "," FBT_BAILLEUR;
    const char *total_to = S_EPCI "," FBT_BAILLEUR "," S_OBS_A;
    s_expect_line(c_a, S_COMMUNE_A, "73065", false, 82, a_to);
    s_expect_line(c_b, S_COMMUNE_B, "73031", false, 0, b_to);
    s_expect_line(c_epci, S_EPCI, "", true, 120, total_to);
    s_expect_line(c_obs, S_COMMUNE_A, "73065", false, 82, a_to);
    s_expect_line(c_obs, S_EPCI, "", true, 120, total_to);
    s_expect_line(w.cb, S_COMMUNE_A, "73065", false, 82, a_to);
    s_expect_line(w.cb, S_COMMUNE_B, "73031", false, 0, b_to);
    s_expect_line(w.cb, S_EPCI, "", true, 120, total_to);
    fbt_expect_nothing(c_obs, QUIET_MS);
    s_no_decompte(c_epci, 100);
    fbt_expect_nothing(c_a, 100);
    fbt_expect_nothing(c_b, 100);
    fbt_expect_nothing(w.cr, 100); /* Action Logement is no party */
    assert_int_equal(s_decomptes_stored(&w), 3);
    fb_client_destroy(&c_epci);
    fb_client_destroy(&c_a);
    fb_client_destroy(&c_b);
    fb_client_destroy(&c_obs);
    fbt_pair_close(&w);
}

/* ---- through the adapters ------------------------------------------------------------- */

/* The réservataire adapter's events as text (GET /events). */
static char *s_events(const fbt_proc_t *ad)
{
    const char *url = strstr(ad->ready, "http://");
    assert_non_null(url);
    size_t n = strcspn(url, " \n");
    while (n > 0 && url[n - 1] == '/')
        n--;
    char get[512];
    snprintf(get, sizeof get, "%.*s/events?after=0", (int)n, url);
    char *body = NULL;
    assert_int_equal(fbt_http("GET", get, "tok-decompte", NULL, &body), 200);
    return body;
}

/* The first event of type DecompteDroits, NULL when there is none yet. */
static json_t *s_decompte_event(const fbt_proc_t *ad)
{
    char *body = s_events(ad);
    json_t *list = json_loads(body, 0, NULL);
    free(body);
    assert_true(json_is_array(list));
    json_t *found = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        if (!found && json_is_string(json_object_get(e, "type")) &&
            strcmp(json_string_value(json_object_get(e, "type")), "DecompteDroits") == 0)
            found = json_incref(e);
    }
    json_decref(list);
    return found;
}

static void test_the_adapters_show_the_decompte(void **state)
{
    (void)state;
    fbt_broker_t b;
    fb_keys_t bailleur, resa;
    fbt_setup(&b);
    b.args[0] = "--decompte-interval-s";
    b.args[1] = "0";
    fbt_actor(&b, FBT_BAILLEUR, "bailleur", NULL, &bailleur);
    fbt_actor(&b, FBT_RESA, "reservataire", NULL, &resa);
    fbt_start(&b);
    char spool[600], inbox[700], outbox[700], path[800];
    snprintf(spool, sizeof spool, "%s/spool", b.dir);
    snprintf(inbox, sizeof inbox, "%s/inbox", spool);
    snprintf(outbox, sizeof outbox, "%s/outbox", spool);
    fbt_proc_t ab, ar;
    fbt_adapter_config(&b, &ab, "bailleur", &bailleur, "spool = %s\n", spool);
    fbt_proc_start(&ab, FB_ADAPTER_BAILLEUR_BIN, NULL);
    fbt_adapter_config(&b, &ar, "resa", &resa, "http_port = 0\napi_token = tok-decompte\n");
    fbt_proc_start(&ar, FB_ADAPTER_RESERVATAIRE_BIN, NULL);

    /* The bailleur's system drops the convention in its inbox. */
    char text[2048];
    snprintf(text, sizeof text,
             "{\"type\": \"Convention\", \"to\": [\"%s\"], \"payload\": {"
             "\"convention_id\": \"%s\", \"revision\": 1, \"bailleur_siren\": \"552046955\","
             " \"bailleur_actor_id\": \"%s\", \"reservataire_actor_id\": \"%s\", \"year\": %d,"
             " \"objectives\": [{\"kind\": \"OBJECTIVE_KIND_PLACEMENTS\", \"value\": 10}]}}",
             FBT_RESA, S_CONV, FBT_BAILLEUR, FBT_RESA, fbt_year_now());
    snprintf(path, sizeof path, "%s/Convention-%s.json", inbox, S_CONV);
    fbt_write_file(path, text);

    /* The bailleur adapter writes the broker's DecompteDroits to its outbox. */
    assert_int_equal(fbt_wait_files(outbox, ".json", 1, WAIT_MS), 1);
    char out[8192];
    assert_int_equal(fbt_sh(out, sizeof out, "cat '%s'/*DecompteDroits*.json", outbox), 0);
    json_t *file = json_loads(out, 0, NULL);
    assert_non_null(file);
    assert_string_equal(json_string_value(json_object_get(file, "sender")), b.keys.actor);
    json_t *payload = json_object_get(file, "payload");
    assert_string_equal(json_string_value(json_object_get(payload, "party_actor_id")), FBT_RESA);
    assert_int_equal(json_integer_value(json_object_get(payload, "sequence")), 1);
    assert_int_equal(json_integer_value(json_object_get(payload, "objective")), 10);
    json_decref(file);

    /* The réservataire adapter shows it as an event about no vacancy. */
    json_t *event = NULL;
    int64_t until = fb_now_ms() + WAIT_MS;
    while (!(event = s_decompte_event(&ar)) && fb_now_ms() < until)
        usleep(50000);
    assert_non_null(event);
    assert_string_equal(json_string_value(json_object_get(event, "direction")), "received");
    assert_true(json_is_null(json_object_get(event, "vacancy_id")));
    json_t *message = json_object_get(event, "message");
    assert_string_equal(json_string_value(json_object_get(message, "sender")), b.keys.actor);
    payload = json_object_get(message, "payload");
    assert_string_equal(json_string_value(json_object_get(payload, "convention_id")), S_CONV);
    assert_int_equal(json_integer_value(json_object_get(payload, "remaining")), 10);
    json_decref(event);

    assert_int_equal(fbt_proc_stop(&ar, SIGTERM), 0);
    assert_int_equal(fbt_proc_stop(&ab, SIGTERM), 0);
    assert_int_equal(fbt_stop(&b, SIGTERM), 0);
    fbt_teardown(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_change_of_counts_gives_one_signed_decompte),
        cmocka_unit_test(test_a_change_before_a_stop_is_sent_once_after_the_restart),
        cmocka_unit_test(test_kill9_as_the_broker_emits_still_gives_one),
        cmocka_unit_test(
            test_multipartite_lines_go_to_their_commune_and_observers_of_their_territory),
        cmocka_unit_test(test_the_adapters_show_the_decompte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
