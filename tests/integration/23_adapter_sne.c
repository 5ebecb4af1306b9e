/* 23_adapter_sne - the SNE adapter and the SNE simulator against the real
 * broker: a bailleur sends LogementLibere, CaleolDecision and BailSigne to
 * the SNE actor; fluxbus-adapter-sne turns them into request files,
 * fluxbus-sne-sim answers them in the shared exchange directory, and the
 * bailleur gets one SneRadiationAck per BailSigne: RADIEE, ALREADY_RADIEE
 * for a second radiation of the same demande, INVALID_NUR for a malformed
 * NUR, REJECTED (naming the field) for a lease without its date. The
 * adapter is killed with SIGKILL between delivery and answer, and the last
 * steps of a crash are replayed: still exactly one ack per BailSigne.
 * Beside that traffic, each vacancy goes through the steps the ledger's
 * lifecycle wants before a decision (docs/LEDGER.md): oriented to a
 * réservataire, which designates the candidates, and attributed (told the
 * réservataire only where the test makes no SNE record of it). */
#include "adapter_harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/sne.pb-c.h"

#define S_SNE "sne:gip-sne"
#define S_RESA "reservataire:action-logement"
#define S_NUR_A "074011925000001"
#define S_NUR_B "074031926000042"
#define S_WAIT_MS 20000

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define ST(x) FLUXBUS__V1__SNE_RADIATION_STATUS__SNE_RADIATION_STATUS_##x

typedef struct {
    fbt_broker_t b;
    fb_keys_t bailleur, sne, resa;
    fb_client_t *cb, *cr;
    fbt_proc_t adapter, sim;
    char exchange[512];
    char requests[600], requests_done[600], answers[600], answers_done[600];
    Fluxbus__V1__Date signed_on; /* two days ago: never in the future */
} s_world_t;

/* ---- the world ---- */

static void s_start_adapter(s_world_t *w)
{
    fbt_proc_start(&w->adapter, FB_ADAPTER_SNE_BIN, NULL);
    assert_non_null(strstr(w->adapter.ready, "actor=" S_SNE));
}

static void s_start_sim(s_world_t *w)
{
    const char *argv[] = {FB_SNE_SIM_BIN, "--dir", w->exchange, "--poll-ms", "20", NULL};
    fbt_proc_start(&w->sim, FB_SNE_SIM_BIN, argv);
    assert_non_null(strstr(w->sim.ready, "mode=accept-any"));
}

/* Broker, bailleur and SNE actors, the adapter; the simulator if asked. */
static s_world_t *s_open(bool with_sim)
{
    s_world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    fbt_setup(&w->b);
    fbt_actor(&w->b, FBT_BAILLEUR, "bailleur", NULL, &w->bailleur);
    fbt_actor(&w->b, S_SNE, "sne", NULL, &w->sne);
    fbt_actor(&w->b, S_RESA, "reservataire", NULL, &w->resa);
    fbt_start(&w->b);
    w->cb = fbt_client(&w->b, &w->bailleur);
    w->cr = fbt_client(&w->b, &w->resa);
    /* The convention every orientation of the test is made under. */
    fbt_convention(w->cb, FBT_CONV, S_RESA, NULL);
    snprintf(w->exchange, sizeof w->exchange, "%s/sne-exchange", w->b.dir);
    snprintf(w->requests, sizeof w->requests, "%s/requests", w->exchange);
    snprintf(w->requests_done, sizeof w->requests_done, "%s/requests/done", w->exchange);
    snprintf(w->answers, sizeof w->answers, "%s/answers", w->exchange);
    snprintf(w->answers_done, sizeof w->answers_done, "%s/answers/done", w->exchange);
    fbt_adapter_config(&w->b, &w->adapter, "sne", &w->sne, "exchange_dir = %s\ntick_ms = 50",
                       w->exchange);
    snprintf(w->sim.name, sizeof w->sim.name, "sne-sim");
    snprintf(w->sim.out, sizeof w->sim.out, "%s/sne-sim.out", w->b.dir);
    snprintf(w->sim.log, sizeof w->sim.log, "%s/sne-sim.log", w->b.dir);
    s_start_adapter(w);
    if (with_sim)
        s_start_sim(w);
    time_t t = time(NULL) - 2 * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    Fluxbus__V1__Date d = FLUXBUS__V1__DATE__INIT;
    d.year = tm.tm_year + 1900;
    d.month = tm.tm_mon + 1;
    d.day = tm.tm_mday;
    w->signed_on = d;
    return w;
}

static void s_close(s_world_t *w)
{
    assert_int_equal(fbt_proc_stop(&w->adapter, SIGTERM), 0);
    if (w->sim.pid > 0)
        assert_int_equal(fbt_proc_stop(&w->sim, SIGTERM), 0);
    fb_client_destroy(&w->cb);
    fb_client_destroy(&w->cr);
    assert_int_equal(fbt_stop(&w->b, SIGTERM), 0);
    fbt_teardown(&w->b);
    free(w);
}

/* ---- the bailleur's side ---- */

/* Sends one message to the SNE actor about `vacancy`; asserts a receipt. */
static void s_send(s_world_t *w, int type, const ProtobufCMessage *m, const char *vacancy)
{
    uint8_t *payload = NULL;
    size_t len = 0;
    assert_int_equal(fb_codec_pack(m, &payload, &len), FB_OK);
    const char *const to[1] = {S_SNE};
    fb_outgoing_t out = {
        .type = type,
        .recipients = to,
        .n_recipients = 1,
        .correlation_id = vacancy,
        .payload = payload,
        .payload_len = len,
    };
    fb_receipt_t r;
    memset(&r, 0, sizeof r);
    fb_err_t rc = fb_client_send(w->cb, &out, &r);
    if (rc != FB_OK || !r.accepted)
        fail_msg("send of type %d refused: %s %s", type, fb_err_name(r.reason), r.detail);
    fb_receipt_clear(&r);
    free(payload);
}

/* The réservataire designates the n demandes of nurs for `vacancy`, ranked,
 * after the bailleur oriented it (freed again, to the réservataire only);
 * the bailleur takes each designation in. */
static void s_designate(s_world_t *w, const char *vacancy, const char *const *nurs, unsigned n)
{
    fbt_orient(w->cb, S_RESA, vacancy, n, NULL);
    for (unsigned i = 0; i < n; i++) {
        Fluxbus__V1__Designation d = FLUXBUS__V1__DESIGNATION__INIT;
        d.vacancy_id = (char *)vacancy;
        d.nur = (char *)nurs[i];
        d.rank = i + 1;
        d.candidate_count = n;
        d.household_size = 2;
        uint8_t *payload = NULL;
        size_t len = 0;
        assert_int_equal(fb_codec_pack(&d.base, &payload, &len), FB_OK);
        const char *const to[1] = {FBT_BAILLEUR};
        fb_outgoing_t out = {.type = T(DESIGNATION),
                             .recipients = to,
                             .n_recipients = 1,
                             .correlation_id = vacancy,
                             .payload = payload,
                             .payload_len = len};
        fb_receipt_t r;
        assert_int_equal(fb_client_send(w->cr, &out, &r), FB_OK);
        fb_receipt_clear(&r);
        free(payload);
        fb_delivery_t *got = fbt_recv_ack(w->cb, S_WAIT_MS);
        assert_non_null(got);
        assert_int_equal(got->body->type, T(DESIGNATION));
        fb_delivery_destroy(&got);
    }
}

/* `nur` designated and attributed `vacancy`, the decision told the
 * réservataire only: the SNE sees the lease alone. */
static void s_attributed(s_world_t *w, const char *vacancy, const char *nur)
{
    s_designate(w, vacancy, &nur, 1);
    fbt_attribute(w->cb, S_RESA, vacancy, nur, NULL);
}

static void s_logement(s_world_t *w, const char *vacancy)
{
    Fluxbus__V1__LogementLibere l = FLUXBUS__V1__LOGEMENT_LIBERE__INIT;
    l.vacancy_id = (char *)vacancy;
    l.rpls_id = "0740123456789";
    l.bailleur_siren = "552046955";
    l.commune_insee = "74010";
    l.typologie = FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T3;
    s_send(w, T(LOGEMENT_LIBERE), &l.base, vacancy);
}

static void s_decision(s_world_t *w, const char *vacancy, const char *nur,
                       Fluxbus__V1__CaleolDecisionCode code)
{
    Fluxbus__V1__CaleolDecision d = FLUXBUS__V1__CALEOL_DECISION__INIT;
    d.seance_id = "caleol-552046955-annecy";
    d.vacancy_id = (char *)vacancy;
    d.nur = (char *)nur;
    d.rank = 1;
    d.designataire_actor_id = S_RESA;
    d.decision = code;
    d.decided_ms = fb_now_ms() - 3 * 86400000LL;
    d.revision = 1;
    d.q1 = true;
    d.relogement_anru = true;
    s_send(w, T(CALEOL_DECISION), &d.base, vacancy);
}

/* A BailSigne; without its signature date when `dated` is false. */
static void s_bail(s_world_t *w, const char *vacancy, const char *nur, bool dated)
{
    Fluxbus__V1__BailSigne b = FLUXBUS__V1__BAIL_SIGNE__INIT;
    b.vacancy_id = (char *)vacancy;
    b.nur = (char *)nur;
    b.signed_on = dated ? &w->signed_on : NULL;
    b.effective_on = dated ? &w->signed_on : NULL;
    b.designataire_actor_id = S_RESA;
    b.bailleur_siren = "552046955";
    b.commune_insee = "74010";
    b.q1 = true;
    s_send(w, T(BAIL_SIGNE), &b.base, vacancy);
}

/* Receives the next delivery: a SneRadiationAck from the SNE actor about
 * `vacancy`, with `status`; returns it (fb_codec_free). */
static Fluxbus__V1__SneRadiationAck *s_expect_ack(s_world_t *w, const char *vacancy,
                                                  const char *nur, int status)
{
    fb_delivery_t *d = fbt_recv_ack(w->cb, S_WAIT_MS);
    if (!d)
        fail_msg("no SneRadiationAck for %s within %d ms (adapter log %s)", vacancy, S_WAIT_MS,
                 w->adapter.log);
    assert_int_equal(d->body->type, T(SNE_RADIATION_ACK));
    assert_string_equal(d->body->sender, S_SNE);
    assert_string_equal(d->body->correlation_id, vacancy);
    ProtobufCMessage *m = NULL;
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__sne_radiation_ack__descriptor,
                                     d->body->payload.data, d->body->payload.len,
                                     FB_DEFAULT_MAX_ENVELOPE, &m),
                     FB_OK);
    fb_delivery_destroy(&d);
    Fluxbus__V1__SneRadiationAck *ack = (Fluxbus__V1__SneRadiationAck *)m;
    assert_string_equal(ack->vacancy_id, vacancy);
    assert_string_equal(ack->nur, nur);
    if ((int)ack->status != status)
        fail_msg("ack for %s: status %d, expected %d (%s)", vacancy, (int)ack->status, status,
                 ack->message);
    return ack;
}

static void s_assert_radiated_on(const Fluxbus__V1__SneRadiationAck *ack,
                                 const Fluxbus__V1__Date *want)
{
    assert_non_null(ack->radiated_on);
    assert_int_equal(ack->radiated_on->year, want->year);
    assert_int_equal(ack->radiated_on->month, want->month);
    assert_int_equal(ack->radiated_on->day, want->day);
}

/* ---- files ---- */

static json_t *s_load(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j)
        fail_msg("%s: %s", path, err.text);
    return j;
}

static const char *s_str(const json_t *j, const char *key)
{
    return json_string_value(json_object_get(j, key));
}

static void s_copy(const char *from_dir, const char *name, const char *to_dir)
{
    char from[1024], to[1024];
    snprintf(from, sizeof from, "%s/%s", from_dir, name);
    snprintf(to, sizeof to, "%s/%s", to_dir, name);
    char *text = fbt_read_file(from, NULL);
    assert_non_null(text);
    fbt_write_file(to, text);
    free(text);
}

/* Waits until the process's log contains needle `count` times or more. */
static void s_wait_log(const fbt_proc_t *p, const char *needle, int count)
{
    for (int waited = 0; waited < S_WAIT_MS; waited += 20) {
        char *log = fbt_read_file(p->log, NULL);
        int n = 0;
        for (const char *at = log; at && (at = strstr(at, needle)) != NULL; at++)
            n++;
        free(log);
        if (n >= count)
            return;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fail_msg("%s log never showed \"%s\" %d times (%s)", p->name, needle, count, p->log);
}

/* ---- tests ---- */

/* Every line of p's log that names `nur` is a debug line. */
static void s_assert_nur_only_at_debug(const fbt_proc_t *p, const char *nur)
{
    char *log = fbt_read_file(p->log, NULL);
    assert_non_null(log);
    for (char *line = log, *end; *line; line = end + (*end != '\0')) {
        end = line + strcspn(line, "\n");
        char saved = *end;
        *end = '\0';
        if (strstr(line, nur) && !strstr(line, ": debug: "))
            fail_msg("%s logs the NUR above debug: %s", p->name, line);
        *end = saved;
    }
    free(log);
}

static void test_bail_signe_radiates_and_the_bailleur_gets_the_sne_answer(void **state)
{
    (void)state;
    s_world_t *w = s_open(true);

    /* The attribution, then the lease: RADIEE. */
    s_logement(w, "vac-A");
    const char *const both[2] = {S_NUR_A, S_NUR_B};
    s_designate(w, "vac-A", both, 2);
    s_decision(w, "vac-A", S_NUR_A,
               FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION);
    s_decision(w, "vac-A", S_NUR_B,
               FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_NON_ATTRIBUTION);
    s_bail(w, "vac-A", S_NUR_A, true);
    Fluxbus__V1__SneRadiationAck *ack = s_expect_ack(w, "vac-A", S_NUR_A, ST(RADIEE));
    s_assert_radiated_on(ack, &w->signed_on);
    assert_non_null(strstr(ack->message, "radiée"));
    fb_codec_free(&ack->base);

    /* The attribution record carries what the LogementLibere and the
     * decision said; the SNE recorded it. */
    assert_int_equal(fbt_wait_files(w->answers_done, ".json", 2, S_WAIT_MS), 2);
    json_t *att = s_load(w->requests_done, "attribution.vac-A." S_NUR_A ".r1.json");
    assert_string_equal(s_str(att, "kind"), "attribution");
    assert_string_equal(s_str(att, "decision"), "ATTRIBUTION");
    assert_string_equal(s_str(json_object_get(att, "logement"), "rpls_id"), "0740123456789");
    assert_string_equal(s_str(json_object_get(att, "logement"), "commune_insee"), "74010");
    assert_string_equal(s_str(json_object_get(att, "bailleur"), "siren"), "552046955");
    assert_string_equal(s_str(att, "designataire_actor_id"), S_RESA);
    assert_true(json_is_true(json_object_get(att, "q1")));
    assert_true(json_is_true(json_object_get(att, "relogement_anru")));
    assert_null(json_object_get(att, "suivie_de_bail"));
    json_decref(att);
    json_t *answer = s_load(w->answers_done, "attribution.vac-A." S_NUR_A ".r1.json");
    assert_string_equal(s_str(answer, "status"), "RECORDED");
    json_decref(answer);
    json_t *rad = s_load(w->requests_done, "radiation.vac-A." S_NUR_A ".json");
    assert_true(json_is_true(json_object_get(rad, "suivie_de_bail")));
    json_decref(rad);
    /* The NON_ATTRIBUTION made no record, said so, and was acknowledged. */
    s_wait_log(&w->adapter, "decision NON_ATTRIBUTION needs no SNE record", 1);
    assert_int_equal(fbt_count_files(w->requests_done, ".json"), 2);

    /* The same demande radiated again from another dwelling. */
    s_logement(w, "vac-B");
    s_attributed(w, "vac-B", S_NUR_A);
    s_bail(w, "vac-B", S_NUR_A, true);
    ack = s_expect_ack(w, "vac-B", S_NUR_A, ST(ALREADY_RADIEE));
    s_assert_radiated_on(ack, &w->signed_on);
    assert_non_null(strstr(ack->message, "radiation.vac-A." S_NUR_A));
    fb_codec_free(&ack->base);

    /* A malformed NUR, then a lease without its date. */
    s_attributed(w, "vac-C", "0740119");
    s_bail(w, "vac-C", "0740119", true);
    ack = s_expect_ack(w, "vac-C", "0740119", ST(INVALID_NUR));
    assert_non_null(strstr(ack->message, "7 characters, a NUR has 15"));
    assert_null(ack->radiated_on);
    fb_codec_free(&ack->base);
    s_attributed(w, "vac-D", S_NUR_B);
    s_bail(w, "vac-D", S_NUR_B, false);
    ack = s_expect_ack(w, "vac-D", S_NUR_B, ST(REJECTED));
    assert_non_null(strstr(ack->message, "date of the signature of the lease is required"));
    fb_codec_free(&ack->base);

    fbt_expect_nothing(w->cb, 500);
    /* The NURs are in the debug lines only. */
    s_assert_nur_only_at_debug(&w->adapter, S_NUR_A);
    s_assert_nur_only_at_debug(&w->adapter, S_NUR_B);
    s_assert_nur_only_at_debug(&w->sim, S_NUR_A);
    s_assert_nur_only_at_debug(&w->sim, "0740119");
    s_close(w);
}

static void test_sigkill_between_delivery_and_answer_gives_one_ack_per_bail(void **state)
{
    (void)state;
    s_world_t *w = s_open(false); /* the SNE answers only once the adapter is dead */

    s_logement(w, "vac-K1");
    s_attributed(w, "vac-K1", S_NUR_A);
    s_bail(w, "vac-K1", S_NUR_A, true);
    s_attributed(w, "vac-K2", S_NUR_A);
    s_bail(w, "vac-K2", S_NUR_A, true);
    assert_int_equal(fbt_wait_files(w->requests, ".json", 2, S_WAIT_MS), 2);
    assert_int_equal(fbt_proc_stop(&w->adapter, SIGKILL), 128 + SIGKILL);

    /* The SNE answers while the adapter is down; it comes back. */
    s_start_sim(w);
    assert_int_equal(fbt_wait_files(w->answers, ".json", 2, S_WAIT_MS), 2);
    s_start_adapter(w);
    Fluxbus__V1__SneRadiationAck *ack = s_expect_ack(w, "vac-K1", S_NUR_A, ST(RADIEE));
    fb_codec_free(&ack->base);
    ack = s_expect_ack(w, "vac-K2", S_NUR_A, ST(ALREADY_RADIEE));
    fb_codec_free(&ack->base);
    assert_int_equal(fbt_wait_files(w->answers_done, ".json", 2, S_WAIT_MS), 2);

    /* A crash after the ack left but before the answer file moved: the
     * answer is handled again, the same ack is the same message. */
    s_copy(w->answers_done, "radiation.vac-K1." S_NUR_A ".json", w->answers);
    /* A crash after the request was written but before its state row: the
     * request is submitted again and the SNE answers it the same way. */
    s_copy(w->requests_done, "radiation.vac-K2." S_NUR_A ".json", w->requests);
    s_wait_log(&w->sim, "answered again (replay) kind=radiation vacancy=vac-K2 ", 1);
    s_wait_log(&w->adapter, "duplicate=yes", 2);
    /* Killed and started once more, for good measure. */
    assert_int_equal(fbt_proc_stop(&w->adapter, SIGKILL), 128 + SIGKILL);
    s_start_adapter(w);

    /* Nothing came between: the next ack is the next lease's. */
    s_attributed(w, "vac-K3", S_NUR_B);
    s_bail(w, "vac-K3", S_NUR_B, true);
    ack = s_expect_ack(w, "vac-K3", S_NUR_B, ST(RADIEE));
    fb_codec_free(&ack->base);
    fbt_expect_nothing(w->cb, 500);
    assert_int_equal(fbt_count_files(w->answers, ".json"), 0);
    s_close(w);
}

static void test_a_record_not_written_is_written_when_delivered_again(void **state)
{
    (void)state;
    s_world_t *w = s_open(true);
    /* The exchange directory breaks: requests/ is a file. */
    char away[700];
    snprintf(away, sizeof away, "%s.away", w->requests);
    assert_int_equal(rename(w->requests, away), 0);
    fbt_write_file(w->requests, "not a directory\n");
    s_logement(w, "vac-F");
    s_attributed(w, "vac-F", S_NUR_A);
    s_bail(w, "vac-F", S_NUR_A, true);
    s_wait_log(&w->adapter, "record not submitted kind=radiation vacancy=vac-F ", 1);
    /* Repaired; the adapter restarts and the broker delivers again what it
     * never acknowledged. */
    assert_int_equal(unlink(w->requests), 0);
    assert_int_equal(rename(away, w->requests), 0);
    assert_int_equal(fbt_proc_stop(&w->adapter, SIGKILL), 128 + SIGKILL);
    s_start_adapter(w);
    Fluxbus__V1__SneRadiationAck *ack = s_expect_ack(w, "vac-F", S_NUR_A, ST(RADIEE));
    fb_codec_free(&ack->base);
    fbt_expect_nothing(w->cb, 500);
    s_wait_log(&w->adapter, "record submitted kind=radiation vacancy=vac-F ", 1);
    assert_int_equal(fbt_count_files(w->requests_done, ".json"), 1);
    s_assert_nur_only_at_debug(&w->adapter, S_NUR_A); /* the failure's lines too */
    s_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bail_signe_radiates_and_the_bailleur_gets_the_sne_answer),
        cmocka_unit_test(test_sigkill_between_delivery_and_answer_gives_one_ack_per_bail),
        cmocka_unit_test(test_a_record_not_written_is_written_when_delivered_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
