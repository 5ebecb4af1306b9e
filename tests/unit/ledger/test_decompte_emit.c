/* test_decompte_emit.c - when the broker sends its DecompteDroits again
 * (broker/decompte_emit.c), the clock injected through the scan's now_ms:
 * a new line is sent; unchanged, it is not sent again within a day; a day
 * after the last one it is sent again ("at least daily", sequence + 1)
 * while it has activity in the current year, and again a day after that;
 * a change is sent at the next scan whatever the hour; a line without
 * activity this year is sent once, never daily. How a scan runs: its first
 * call only starts the computation (off the caller's thread), later calls
 * send at most a few dozen lines each, every line once; a change recorded
 * while it computes is not in it (its snapshot) and goes with the next
 * one; an emitter destroyed while it computes sends nothing and leaves no
 * record; after a computation the next one waits nine times the CPU it
 * took, even when a change asks for it at once. The message id is the
 * documented digest. The facts are scripted
 * through the ledger on a real store (ledger_script.h), the messages
 * signed by a real notary; the accept callback stands for broker.c's
 * storing and keeps what it was handed. */
#include "ledger_script.h"

#include <stdlib.h>
#include <string.h>

#include "decompte_emit.h"
#include "fluxbus/envelope.h"
#include "fluxbus/keys.h"
#include "notary.h"
#include "registry.h"
#include "sheets.h"

#define C_AL "C-AL-74-2025"
#define C_ETAT "C-ETAT-74-2025"
#define HOUR_MS (3600 * 1000LL)
#define DAY_MS (24 * HOUR_MS)
#define S_MAX_SENT 256
#define S_SHEETS 150

typedef struct {
    script_t s;
    fb_keys_t broker, al, etat, bailleur;
    notary_t notary;
    decompte_emit_t *emit;
    /* What the scans handed over, in order. */
    char party[S_MAX_SENT][64];
    uint32_t sequence[S_MAX_SENT];
    int64_t computed_ms[S_MAX_SENT];
    uint32_t acks[S_MAX_SENT];
    uint8_t id[S_MAX_SENT][FB_MESSAGE_ID_BYTES];
    size_t n;
} s_fixture_t;

static fb_err_t s_accept(void *ctx, const uint8_t *envelope, size_t len,
                         const ProtobufCMessage *payload)
{
    s_fixture_t *fx = ctx;
    assert_non_null(envelope);
    assert_true(len > 0);
    const Fluxbus__V1__DecompteDroits *d = (const void *)payload;
    assert_true(fx->n < S_MAX_SENT);
    snprintf(fx->party[fx->n], sizeof fx->party[fx->n], "%s", d->party_actor_id);
    fx->sequence[fx->n] = d->sequence;
    fx->computed_ms[fx->n] = d->computed_ms;
    fx->acks[fx->n] = d->activity ? d->activity->acks : 0;
    Fluxbus__V1__Envelope *env = NULL;
    Fluxbus__V1__SignedBody *body = NULL;
    assert_int_equal(fb_envelope_decode(envelope, len, len, &env), FB_OK);
    assert_int_equal(fb_envelope_verify(env, fx->broker.sign_pk), FB_OK);
    assert_int_equal(fb_envelope_parse_body(env, &body), FB_OK);
    assert_int_equal(body->message_id.len, FB_MESSAGE_ID_BYTES);
    memcpy(fx->id[fx->n], body->message_id.data, FB_MESSAGE_ID_BYTES);
    fb_body_free(body);
    fb_envelope_free(env);
    fx->n++;
    return FB_OK;
}

/* One call of the scan, in a store transaction as the broker makes it; how
 * many DecompteDroits it handed over. */
static size_t s_step(s_fixture_t *fx, int64_t now_ms)
{
    size_t emitted = 0;
    assert_int_equal(store_begin(fx->s.store), FB_OK);
    assert_int_equal(decompte_emit_scan(fx->emit, now_ms, s_accept, fx, &emitted), FB_OK);
    assert_int_equal(store_commit(fx->s.store), FB_OK);
    return emitted;
}

/* One whole scan at now_ms, its steps each in a store transaction as the
 * broker runs them (the first starts the computation, which the test
 * waits for instead of the broker's polling); how many DecompteDroits it
 * handed over. */
static size_t s_scan(s_fixture_t *fx, int64_t now_ms)
{
    size_t total = 0;
    do {
        total += s_step(fx, now_ms);
        decompte_emit_wait(fx->emit);
    } while (decompte_emit_busy(fx->emit));
    return total;
}

static int s_setup(void **state)
{
    s_fixture_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    script_open(&fx->s);
    assert_int_equal(fb_keys_generate(&fx->broker, "broker"), FB_OK);
    assert_int_equal(fb_keys_generate(&fx->al, SC_AL), FB_OK);
    assert_int_equal(fb_keys_generate(&fx->etat, SC_ETAT), FB_OK);
    assert_int_equal(fb_keys_generate(&fx->bailleur, SC_BAILLEUR), FB_OK);
    registry_add_actor(fx->s.store, &fx->al, "reservataire");
    registry_add_actor(fx->s.store, &fx->etat, "reservataire");
    registry_add_actor(fx->s.store, &fx->bailleur, "bailleur");
    fx->notary.keys = &fx->broker;
    char err[256] = "";
    fx->emit = decompte_emit_new(fx->s.store, &fx->notary, 0, NULL, NULL, script_at(2025, 1, 1),
                                 err, sizeof err);
    if (!fx->emit)
        fail_msg("decompte_emit_new: %s", err);
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *fx = *state;
    decompte_emit_destroy(&fx->emit);
    script_close(&fx->s);
    fb_keys_wipe(&fx->broker);
    free(fx);
    return 0;
}

/* Action Logement's convention with a vacancy oriented to it in March
 * 2025 (activity); the State's, in Savoie (73), with nothing in 2025: the
 * dwelling freed in Annecy is outside its scope. */
static void s_script(s_fixture_t *fx)
{
    Fluxbus__V1__Convention al = script_convention_of(
        C_AL, SC_AL, 2025, FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_BAIL_SIGNE);
    script_convention(&fx->s, &al, script_at(2025, 1, 2));
    Fluxbus__V1__Convention etat = script_convention_of(
        C_ETAT, SC_ETAT, 2025, FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_BAIL_SIGNE);
    etat.departement = "73";
    script_convention(&fx->s, &etat, script_at(2025, 1, 2));
    script_libere(&fx->s, "V1", "74010", 0, 0, script_at(2025, 3, 2));
    script_orient(&fx->s, "V1", SC_AL, C_AL, script_at(2025, 3, 2));
}

static void test_an_active_line_is_sent_again_daily_without_change(void **state)
{
    s_fixture_t *fx = *state;
    s_script(fx);
    int64_t t0 = script_at(2025, 3, 3);
    /* First scan: both lines are new. */
    assert_int_equal(s_scan(fx, t0), 2);
    assert_int_equal(fx->sequence[0], 1);
    assert_int_equal(fx->sequence[1], 1);
    assert_int_equal(fx->computed_ms[0], t0);
    /* Nothing changed: nothing within the day. */
    assert_int_equal(s_scan(fx, t0 + HOUR_MS), 0);
    assert_int_equal(s_scan(fx, t0 + DAY_MS - 1), 0);
    /* A day after the last one: the active line again, the idle one not. */
    assert_int_equal(s_scan(fx, t0 + DAY_MS), 1);
    assert_string_equal(fx->party[2], SC_AL);
    assert_int_equal(fx->sequence[2], 2);
    assert_int_equal(fx->computed_ms[2], t0 + DAY_MS);
    assert_int_equal(script_int(&fx->s, "SELECT sent_ms FROM ledger_decompte_sent"
                                        " WHERE convention_id = '" C_AL "'"),
                     t0 + DAY_MS);
    /* The day counts from that resend. */
    assert_int_equal(s_scan(fx, t0 + 2 * DAY_MS - HOUR_MS), 0);
    assert_int_equal(s_scan(fx, t0 + 2 * DAY_MS), 1);
    assert_int_equal(fx->sequence[3], 3);
    /* The State's line, without activity this year, was sent once only. */
    assert_int_equal(script_int(&fx->s, "SELECT seq FROM ledger_decompte_sent"
                                        " WHERE convention_id = '" C_ETAT "'"),
                     1);
}

static void test_a_change_is_sent_at_the_next_scan_then_daily_from_it(void **state)
{
    s_fixture_t *fx = *state;
    s_script(fx);
    int64_t t0 = script_at(2025, 3, 3);
    assert_int_equal(s_scan(fx, t0), 2);
    /* An hour later the réservataire acknowledges: sent at once. */
    script_ack(&fx->s, "V1", SC_AL, t0 + HOUR_MS);
    assert_int_equal(s_scan(fx, t0 + HOUR_MS + 1), 1);
    assert_string_equal(fx->party[2], SC_AL);
    assert_int_equal(fx->sequence[2], 2);
    /* The next daily resend is a day after the change's message. */
    assert_int_equal(s_scan(fx, t0 + DAY_MS), 0);
    assert_int_equal(s_scan(fx, t0 + HOUR_MS + 1 + DAY_MS), 1);
    assert_int_equal(fx->sequence[3], 3);
}

/* A multipartite convention (the State standing for an EPCI) with
 * S_SHEETS communes, none registered: each sheet's line goes to the
 * bailleur alone. */
static void s_big_convention(s_fixture_t *fx)
{
    sheets_t *sheets = sheets_new(S_SHEETS, 74100);
    assert_non_null(sheets);
    Fluxbus__V1__Convention c = script_convention_of(
        "C-EPCI-2025", SC_ETAT, 2025, FLUXBUS__V1__COUNTING_METHOD__COUNTING_METHOD_BAIL_SIGNE);
    c.kind = FLUXBUS__V1__CONVENTION_KIND__CONVENTION_KIND_MULTIPARTITE;
    sheets_attach(sheets, &c);
    script_convention(&fx->s, &c, script_at(2025, 1, 2));
    sheets_destroy(&sheets);
}

static void test_a_scan_starts_off_the_caller_then_sends_a_few_lines_per_call(void **state)
{
    s_fixture_t *fx = *state;
    s_script(fx);
    s_big_convention(fx);
    int64_t t0 = script_at(2025, 3, 3);
    /* The first call only starts the computation. */
    assert_false(decompte_emit_busy(fx->emit));
    assert_int_equal(s_step(fx, t0), 0);
    assert_true(decompte_emit_busy(fx->emit));
    assert_true(decompte_emit_next_ms(fx->emit) <= t0 + 1000);
    decompte_emit_wait(fx->emit);
    assert_true(decompte_emit_next_ms(fx->emit) <= t0);
    /* Then a few dozen lines a call, until every line went once. */
    size_t calls = 0, total = 0;
    while (decompte_emit_busy(fx->emit)) {
        size_t n = s_step(fx, t0);
        assert_true(n <= 64);
        total += n;
        calls++;
    }
    size_t lines = 2 + S_SHEETS + 1; /* AL, the State, the sheets, the whole convention */
    assert_int_equal(total, lines);
    assert_true(calls >= 3);
    assert_int_equal(fx->n, lines);
    for (size_t i = 0; i < fx->n; i++)
        assert_int_equal(fx->sequence[i], 1);
    assert_int_equal(script_int(&fx->s, "SELECT count(*) FROM ledger_decompte_sent"), lines);
    /* Over: the next look is the hourly one, and it sends nothing again. */
    assert_true(decompte_emit_next_ms(fx->emit) >= t0 + HOUR_MS);
    assert_int_equal(s_scan(fx, t0 + HOUR_MS), 0);
}

static void test_a_change_while_the_scan_computes_goes_with_the_next_scan(void **state)
{
    s_fixture_t *fx = *state;
    s_script(fx);
    int64_t t0 = script_at(2025, 3, 3);
    assert_int_equal(s_step(fx, t0), 0);
    decompte_emit_wait(fx->emit);
    /* Computed; the réservataire acknowledges before the lines are sent. */
    script_ack(&fx->s, "V1", SC_AL, t0);
    decompte_emit_touch(fx->emit, t0);
    assert_int_equal(s_scan(fx, t0), 2);
    assert_string_equal(fx->party[0], SC_AL);
    assert_int_equal(fx->acks[0], 0); /* as the ledger stood when it began */
    /* The next scan says the acknowledgement, once. */
    assert_int_equal(s_scan(fx, t0 + 1), 1);
    assert_string_equal(fx->party[2], SC_AL);
    assert_int_equal(fx->acks[2], 1);
    assert_int_equal(fx->sequence[2], 2);
    assert_int_equal(s_scan(fx, t0 + 2), 0);
}

static void test_an_emitter_destroyed_while_it_computes_sends_nothing(void **state)
{
    s_fixture_t *fx = *state;
    s_script(fx);
    s_big_convention(fx);
    int64_t t0 = script_at(2025, 3, 3);
    assert_int_equal(s_step(fx, t0), 0);
    decompte_emit_destroy(&fx->emit);
    decompte_emit_destroy(&fx->emit); /* safe twice */
    assert_int_equal(fx->n, 0);
    assert_int_equal(script_int(&fx->s, "SELECT count(*) FROM ledger_decompte_sent"), 0);
    /* A new one (a restart) sends it all. */
    char err[256] = "";
    fx->emit = decompte_emit_new(fx->s.store, &fx->notary, 0, NULL, NULL, t0, err, sizeof err);
    assert_non_null(fx->emit);
    assert_int_equal(s_scan(fx, t0), 2 + S_SHEETS + 1);
}

static void test_the_message_id_is_the_documented_digest(void **state)
{
    s_fixture_t *fx = *state;
    s_script(fx);
    assert_int_equal(s_scan(fx, script_at(2025, 3, 3)), 2);
    assert_string_equal(fx->party[0], SC_AL);
    /* SHA-256 of "fluxbus/DecompteDroits/v1", NUL, convention, NUL, scope,
     * NUL, party, NUL, year, NUL, sequence: its first 16 bytes. */
    static const char text[] = "fluxbus/DecompteDroits/v1\0" C_AL "\0party\0" SC_AL "\0"
                               "2025\0"
                               "1";
    uint8_t digest[32];
    fb_sha256((const uint8_t *)text, sizeof text - 1, digest);
    assert_memory_equal(fx->id[0], digest, FB_MESSAGE_ID_BYTES);
}

/* Keeps the last "decompte-computed" line the emitter logged. */
static void s_keep_computed(void *ctx, fb_log_level_t level, const char *line)
{
    (void)level;
    if (strstr(line, "decompte-computed"))
        snprintf(ctx, 256, "%s", line);
}

/* The number after `name=` in a log line. */
static double s_field(const char *line, const char *name)
{
    const char *at = strstr(line, name);
    if (!at)
        fail_msg("no %s in: %s", name, line);
    return strtod(at + strlen(name), NULL);
}

static void test_the_next_computation_rests_nine_times_the_cpu_of_the_last(void **state)
{
    s_fixture_t *fx = *state;
    s_script(fx);
    s_big_convention(fx);
    char line[256] = "", err[256] = "";
    decompte_emit_destroy(&fx->emit);
    int64_t t0 = script_at(2025, 3, 3);
    fx->emit =
        decompte_emit_new(fx->s.store, &fx->notary, 0, s_keep_computed, line, t0, err, sizeof err);
    assert_non_null(fx->emit);
    assert_true(decompte_emit_next_ms(fx->emit) <= t0); /* interval 0: due at once */
    assert_int_equal(s_scan(fx, t0), 2 + S_SHEETS + 1);
    double seconds = s_field(line, "seconds="), cpu = s_field(line, "cpu=");
    int64_t rest_ms = (int64_t)s_field(line, "rest_ms=");
    assert_true(cpu > 0);
    assert_true(rest_ms > 0);
    assert_true(llabs(rest_ms - (int64_t)(cpu * 9000.0)) <= 5); /* cpu is printed rounded */
    /* A change right after: with an interval of 0 it would be due at once;
     * it waits for the rest, counted from the end of the computation. */
    decompte_emit_touch(fx->emit, t0);
    int64_t next = decompte_emit_next_ms(fx->emit);
    assert_true(next >= t0 + rest_ms);
    assert_true(next <= t0 + rest_ms + (int64_t)(seconds * 1000.0) + 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_an_active_line_is_sent_again_daily_without_change,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_change_is_sent_at_the_next_scan_then_daily_from_it,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_scan_starts_off_the_caller_then_sends_a_few_lines_per_call, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_change_while_the_scan_computes_goes_with_the_next_scan, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_an_emitter_destroyed_while_it_computes_sends_nothing,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_the_message_id_is_the_documented_digest, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            test_the_next_computation_rests_nine_times_the_cpu_of_the_last, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
