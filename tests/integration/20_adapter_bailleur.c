/* 20_adapter_bailleur - the bailleur adapter (fluxbus-adapter-bailleur) as a
 * landlord's system uses it, against the real broker: files dropped in its
 * spool inbox reach the réservataire, the commune subscribed to the
 * dwelling's INSEE code and the SNE actor, and move to done/ with their
 * signed receipts; a file dropped again is answered "duplicate" and
 * delivers nothing new; bad files move to rejected/ with an error file
 * naming line, column and reason, and deliver nothing; the broker's
 * DeadlineExpired for an orientation whose deadline passed unanswered lands
 * in the outbox and closes the orientation, so that the adapter's own
 * watcher, turned on after a kill -9, does not tell it again; a designation's sealed household
 * lands opened in the outbox before the delivery is acknowledged, once, through kill -9; an
 * attribution gives the commune a LogementIssue without NUR; files wait in
 * the inbox while the broker is down; a household's answer goes to the
 * réservataire that designated it and to no other oriented on the vacancy
 * (and nowhere by default when none did); a CaleolSeance changes only with
 * a higher revision; leases and decisions exported as CSV arrive with
 * their values; no NUR ever appears in the adapter's log. */
#define _GNU_SOURCE /* memmem */
#include "adapter_harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "fluxbus/v1/bail.pb-c.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define QUIET_MS 1000 /* "receives nothing": ten scans of the adapter */
#define WAIT_MS 20000 /* files and deliveries: generous for a loaded machine */

#define S_COMMUNE "commune:74010"
#define S_ETAT "reservataire:prefet-74"
#define S_OTHER_NUR "074011926000077"
#define S_SNE "sne:gip-sne"
#define S_NUR "074011926000042"
#define S_FAMILY "Quintal-Abernathy"
#define S_EMAIL "zephyrine.quintal@example.invalid"

/* Two freed dwellings as a spreadsheet exports them: French decimals and
 * dates, an address of two lines. */
static const char s_logements_csv[] =
    "vacancy_id;rpls_id;bailleur_siren;commune_insee;address.lines;address.postal_code;"
    "address.city;qpv;typologie;surface_m2;loyer;charges;financement;floor;lift;available_on\r\n"
    "vac-2026-0101;0740123456789;552046955;74010;12 rue des Fauvettes|Bâtiment B;74000;Annecy;"
    "outside_qpv;T3;65,40;412,30;98,50;PLUS;3;oui;30/11/2026\r\n"
    "vac-2026-0102;;552046955;74010;3 allée des Lilas;74960;Annecy;in_qpv;T2;45,5;350;60;PLAI;0;"
    "non;15/12/2026\r\n";

typedef struct {
    fbt_broker_t b;
    fb_keys_t bailleur, resa, commune, sne, etat;
    fb_client_t *cr, *cc, *cs;
    fbt_proc_t ad;
    char spool[600], inbox[700], done[700], rejected[700], outbox[700];
} s_world_t;

/* The bailleur sends its conventions `a` and `b` (NULL: none) with resa,
 * whose client c (NULL: none) receives them, before its adapter runs (the
 * bailleur's one session then). */
static void s_conventions(s_world_t *w, const char *resa, fb_client_t *c, const char *a,
                          const char *b)
{
    fb_client_t *cb = fbt_client(&w->b, &w->bailleur);
    fbt_convention(cb, a, resa, c);
    if (b)
        fbt_convention(cb, b, resa, c);
    fb_client_destroy(&cb);
}

/* Broker, the five actors (the commune subscribed to logements/74010), the
 * clients of three (the second réservataire, S_ETAT, has none until a test
 * makes one), the conventions with Action Logement the tests orient under
 * (conv-74-al, and the harness's FBT_CONV), and the adapter's config (not
 * started). */
static void s_open(s_world_t *w)
{
    memset(w, 0, sizeof *w);
    fbt_setup(&w->b);
    /* The broker's DecompteDroits (60 s after a change by default) would
     * land among the deliveries this test counts when it runs slowly: they
     * are test 34's. */
    w->b.args[0] = "--decompte-interval-s";
    w->b.args[1] = "86400";
    fbt_actor(&w->b, FBT_BAILLEUR, "bailleur", NULL, &w->bailleur);
    fbt_actor(&w->b, FBT_RESA, "reservataire", NULL, &w->resa);
    fbt_actor(&w->b, S_COMMUNE, "commune", "74010", &w->commune);
    fbt_actor(&w->b, S_SNE, "sne", NULL, &w->sne);
    fbt_actor(&w->b, S_ETAT, "reservataire", NULL, &w->etat);
    fbt_start(&w->b);
    w->cr = fbt_client(&w->b, &w->resa);
    w->cc = fbt_client(&w->b, &w->commune);
    w->cs = fbt_client(&w->b, &w->sne);
    assert_int_equal(fb_client_subscribe(w->cc, "logements/74010"), FB_OK);
    s_conventions(w, FBT_RESA, w->cr, "conv-74-al", FBT_CONV);
    snprintf(w->spool, sizeof w->spool, "%s/spool", w->b.dir);
    snprintf(w->inbox, sizeof w->inbox, "%s/inbox", w->spool);
    snprintf(w->done, sizeof w->done, "%s/done", w->spool);
    snprintf(w->rejected, sizeof w->rejected, "%s/rejected", w->spool);
    snprintf(w->outbox, sizeof w->outbox, "%s/outbox", w->spool);
    fbt_adapter_config(&w->b, &w->ad, "bailleur", &w->bailleur,
                       "spool = %s\nsne_actor = %s\nlogements_to = %s\n"
                       "inbox_settle_ms = 50\nscan_ms = 100\n",
                       w->spool, S_SNE, FBT_RESA);
}

static void s_start_adapter(s_world_t *w)
{
    fbt_proc_start(&w->ad, FB_ADAPTER_BAILLEUR_BIN, NULL);
    char want[700];
    snprintf(want, sizeof want, "spool=%s", w->spool);
    assert_string_equal(w->ad.ready, want);
}

static void s_close(s_world_t *w)
{
    if (w->ad.pid > 0)
        assert_int_equal(fbt_proc_stop(&w->ad, SIGTERM), 0);
    fb_client_destroy(&w->cr);
    fb_client_destroy(&w->cc);
    fb_client_destroy(&w->cs);
    if (w->b.pid > 0)
        assert_int_equal(fbt_stop(&w->b, SIGTERM), 0);
    fbt_teardown(&w->b);
}

static void s_drop(const s_world_t *w, const char *name, const char *text)
{
    char path[900];
    snprintf(path, sizeof path, "%s/%s", w->inbox, name);
    fbt_write_file(path, text);
}

/* Waits for <dir>/<name> and returns it parsed (json_decref it). */
static json_t *s_wait_json(const s_world_t *w, const char *dir, const char *name)
{
    char path[900];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!fbt_wait_path(path, WAIT_MS)) {
        char *log = fbt_read_file(w->ad.log, NULL);
        fprintf(stderr, "---- adapter log ----\n%s\n", log ? log : "");
        free(log);
        fail_msg("%s did not appear", path);
    }
    json_error_t err;
    json_t *json = json_load_file(path, 0, &err);
    if (!json)
        fail_msg("%s: %s", path, err.text);
    return json;
}

/* The next delivery of c: of `type`, its payload decoded (fb_codec_free
 * it); the delivery goes to *out when out is not NULL (else destroyed). */
static ProtobufCMessage *s_expect(fb_client_t *c, int type, fb_delivery_t **out)
{
    fb_delivery_t *d = fbt_recv_ack(c, WAIT_MS);
    assert_non_null(d);
    if ((int)d->body->type != type)
        fail_msg("expected type %d, got %d from %s", type, (int)d->body->type, d->body->sender);
    assert_string_equal(d->body->sender, FBT_BAILLEUR);
    const fb_catalog_entry_t *e = fb_catalog_by_type(type);
    ProtobufCMessage *m = NULL;
    assert_int_equal(fb_codec_unpack(e->desc, d->body->payload.data, d->body->payload.len,
                                     FB_DEFAULT_MAX_ENVELOPE, &m),
                     FB_OK);
    if (out)
        *out = d;
    else
        fb_delivery_destroy(&d);
    return m;
}

/* How many files of dir have `part` in their name. */
static int s_count_named(const char *dir, const char *part)
{
    char cmd[900], out[64];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -c -- '%s'", dir, part);
    fbt_sh(out, sizeof out, "%s", cmd);
    return atoi(out);
}

static void test_csv_dwellings_reach_reservataire_commune_and_sne_once(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    s_start_adapter(&w);
    s_drop(&w, "LogementLibere-2026-11-30.csv", s_logements_csv);
    json_t *receipts = s_wait_json(&w, w.done, "LogementLibere-2026-11-30.csv.receipt.json");
    assert_int_equal(json_array_size(receipts), 2);
    for (size_t i = 0; i < 2; i++) {
        const json_t *r = json_array_get(receipts, i);
        assert_int_equal(json_integer_value(json_object_get(r, "line")), (json_int_t)(i + 2));
        const json_t *receipt = json_object_get(r, "receipt");
        assert_false(json_is_true(json_object_get(receipt, "duplicate")));
        assert_true(json_is_string(json_object_get(receipt, "receipt_b64")));
        assert_true(json_integer_value(json_object_get(receipt, "store_seq")) > 0);
    }
    char path[900];
    snprintf(path, sizeof path, "%s/LogementLibere-2026-11-30.csv", w.done);
    assert_true(fbt_wait_path(path, WAIT_MS));
    assert_int_equal(fbt_count_files(w.inbox, ""), 0);

    /* Each of the réservataire, the commune and SNE gets both dwellings,
     * French numbers and dates read as such. */
    fb_client_t *who[3] = {w.cr, w.cc, w.cs};
    for (int k = 0; k < 3; k++) {
        Fluxbus__V1__LogementLibere *l =
            (Fluxbus__V1__LogementLibere *)s_expect(who[k], T(LOGEMENT_LIBERE), NULL);
        assert_string_equal(l->vacancy_id, "vac-2026-0101");
        assert_int_equal(l->surface_m2_x100, 6540);
        assert_int_equal(l->loyer_cents, 41230);
        assert_int_equal(l->charges_cents, 9850);
        assert_int_equal(l->typologie, FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T3);
        assert_int_equal(l->available_on->year, 2026);
        assert_int_equal(l->available_on->month, 11);
        assert_int_equal(l->available_on->day, 30);
        assert_int_equal(l->address->n_lines, 2);
        fb_codec_free(&l->base);
        l = (Fluxbus__V1__LogementLibere *)s_expect(who[k], T(LOGEMENT_LIBERE), NULL);
        assert_string_equal(l->vacancy_id, "vac-2026-0102");
        assert_int_equal(l->surface_m2_x100, 4550);
        assert_int_equal(l->qpv, FLUXBUS__V1__QPV_STATUS__QPV_STATUS_IN_QPV);
        fb_codec_free(&l->base);
    }

    /* The same export dropped again, under another name and under the same
     * one: duplicates, nothing delivered, no earlier file replaced. */
    s_drop(&w, "LogementLibere-2026-11-30-bis.csv", s_logements_csv);
    json_t *again = s_wait_json(&w, w.done, "LogementLibere-2026-11-30-bis.csv.receipt.json");
    assert_int_equal(json_array_size(again), 2);
    for (size_t i = 0; i < 2; i++) {
        const json_t *r = json_object_get(json_array_get(again, i), "receipt");
        const json_t *first = json_object_get(json_array_get(receipts, i), "receipt");
        assert_true(json_is_true(json_object_get(r, "duplicate")));
        assert_string_equal(json_string_value(json_object_get(r, "message_id")),
                            json_string_value(json_object_get(first, "message_id")));
    }
    s_drop(&w, "LogementLibere-2026-11-30.csv", s_logements_csv);
    json_t *third = s_wait_json(&w, w.done, "LogementLibere-2026-11-30-2.csv.receipt.json");
    assert_true(fbt_wait_path(path, WAIT_MS));
    for (int k = 0; k < 3; k++)
        fbt_expect_nothing(who[k], k == 0 ? QUIET_MS : 100);
    assert_true(fbt_proc_log_contains(&w.ad, "2 messages accepted (2 duplicate)"));
    json_decref(receipts);
    json_decref(again);
    json_decref(third);
    s_close(&w);
}

/* The error objects of rejected/<name>.error.json, after checking "file". */
static json_t *s_wait_rejected(const s_world_t *w, const char *name)
{
    char side[300];
    snprintf(side, sizeof side, "%s.error.json", name);
    json_t *doc = s_wait_json(w, w->rejected, side);
    assert_string_equal(json_string_value(json_object_get(doc, "file")), name);
    char path[900];
    snprintf(path, sizeof path, "%s/%s", w->rejected, name);
    assert_true(fbt_wait_path(path, WAIT_MS));
    return doc;
}

static void s_expect_error(const json_t *doc, size_t i, int line, const char *key,
                           const char *value, const char *reason)
{
    const json_t *e = json_array_get(json_object_get(doc, "errors"), i);
    char *dump = json_dumps(doc, JSON_COMPACT);
    if (!e)
        fail_msg("no error %zu in %s", i, dump);
    if (line && json_integer_value(json_object_get(e, "line")) != line)
        fail_msg("error %zu is not about line %d: %s", i, line, dump);
    if (key && (!json_is_string(json_object_get(e, key)) ||
                strcmp(json_string_value(json_object_get(e, key)), value) != 0))
        fail_msg("error %zu: %s is not \"%s\": %s", i, key, value, dump);
    const char *why = json_string_value(json_object_get(e, "reason"));
    if (!why || !strstr(why, reason))
        fail_msg("error %zu: reason without \"%s\": %s", i, reason, dump);
    free(dump);
}

static void test_bad_files_are_rejected_naming_line_column_and_reason(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    s_start_adapter(&w);
    /* A good line, a bad enum, a bad date: the whole file is refused. */
    s_drop(&w, "LogementLibere-bad.csv",
           "vacancy_id;commune_insee;typologie;loyer;available_on\n"
           "vac-2026-0201;74010;T3;412,30;30/11/2026\n"
           "vac-2026-0202;74010;T9;380;30/11/2026\n"
           "vac-2026-0203;74010;T2;380;31/02/2026\n");
    json_t *doc = s_wait_rejected(&w, "LogementLibere-bad.csv");
    assert_int_equal(json_array_size(json_object_get(doc, "errors")), 2);
    s_expect_error(doc, 0, 3, "column", "typologie", "T9");
    s_expect_error(doc, 1, 4, "column", "available_on", "");
    json_decref(doc);

    s_drop(&w, "broken.json", "{\"type\": \"LogementLibere\",\n \"payload\": {\"vacancy_id\": \n");
    doc = s_wait_rejected(&w, "broken.json");
    s_expect_error(doc, 0, 3, NULL, NULL, "not valid JSON");
    json_decref(doc);

    s_drop(&w, "field.json",
           "{\"type\": \"LogementLibere\", \"payload\": {\"vacancy_id\": \"v\", \"floors\": 2}}");
    doc = s_wait_rejected(&w, "field.json");
    s_expect_error(doc, 0, 0, "field", "payload", "unknown field \"floors\"");
    json_decref(doc);

    s_drop(&w, "notes.txt", "hello");
    doc = s_wait_rejected(&w, "notes.txt");
    s_expect_error(doc, 0, 0, NULL, NULL, "unsupported file");
    json_decref(doc);

    /* Well-formed, but the broker refuses it: its reason code and detail. */
    s_drop(&w, "stranger.json",
           "{\"type\": \"Orientation\", \"payload\": {\"vacancy_id\": \"vac-2026-0204\", "
           "\"reservataire_actor_id\": \"reservataire:nobody\"}}");
    doc = s_wait_rejected(&w, "stranger.json");
    s_expect_error(doc, 0, 0, NULL, NULL, "UNKNOWN_RECIPIENT");
    const json_t *e = json_array_get(json_object_get(doc, "errors"), 0);
    assert_non_null(strstr(json_string_value(json_object_get(e, "detail")), "reservataire:nobody"));
    json_decref(doc);

    fbt_expect_nothing(w.cr, QUIET_MS);
    fbt_expect_nothing(w.cc, 100);
    fbt_expect_nothing(w.cs, 100);
    assert_int_equal(fbt_count_files(w.inbox, ""), 0);
    assert_int_equal(fbt_count_files(w.done, ""), 0);
    assert_true(fbt_proc_log_contains(&w.ad, "LogementLibere-bad.csv: rejected (2 errors"));

    /* A row the broker refuses beside one it accepts: rejected, naming the
     * refused line, with the receipt of the other, which is delivered. */
    s_drop(&w, "Orientation-mixed.csv",
           "vacancy_id;convention_id;reservataire_actor_id;deadline_ms\n"
           "vac-2026-0205;conv-74-al;" FBT_RESA ";31/12/2099 12:00\n"
           "vac-2026-0206;conv-74-al;reservataire:nobody;31/12/2099 12:00\n");
    doc = s_wait_rejected(&w, "Orientation-mixed.csv");
    assert_int_equal(json_array_size(json_object_get(doc, "errors")), 1);
    s_expect_error(doc, 0, 3, NULL, NULL, "UNKNOWN_RECIPIENT");
    const json_t *accepted = json_object_get(doc, "receipts");
    assert_int_equal(json_array_size(accepted), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(accepted, 0), "line")), 2);
    json_decref(doc);
    Fluxbus__V1__Orientation *o = (Fluxbus__V1__Orientation *)s_expect(w.cr, T(ORIENTATION), NULL);
    assert_string_equal(o->vacancy_id, "vac-2026-0205");
    fb_codec_free(&o->base);
    fbt_expect_nothing(w.cr, QUIET_MS);
    s_close(&w);
}

static void s_orientation_file(s_world_t *w, const char *name, const char *vacancy,
                               const char *convention, int64_t deadline_ms)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"type\": \"Orientation\", \"payload\": {\"vacancy_id\": \"%s\", "
             "\"convention_id\": \"%s\", \"reservataire_actor_id\": \"%s\", \"deadline_ms\": %lld, "
             "\"candidates_expected\": 3, \"contingent\": \"CONTINGENT_TYPE_ACTION_LOGEMENT\"}}",
             vacancy, convention, FBT_RESA, (long long)deadline_ms);
    s_drop(w, name, text);
}

/* The broker tells the réservataire and the bailleur when a deadline
 * passes unanswered (tests/integration/32_ledger_deadlines.c); the adapter
 * writes the broker's DeadlineExpired to its outbox and closes the
 * orientation, so that even with its own watcher turned on it never tells
 * the réservataire a second time. */
static void test_broker_deadline_expired_lands_in_the_outbox_and_closes_it(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    s_start_adapter(&w);
    assert_true(fbt_proc_log_contains(&w.ad, "deadline_watch=off"));
    /* Two orientations: one given back in time, one left unanswered. */
    int64_t now = fb_now_ms();
    s_orientation_file(&w, "orientation-a.json", "vac-2026-0301", "conv-74-al", now + 1500);
    s_orientation_file(&w, "orientation-b.json", "vac-2026-0302", "conv-74-al", now + 2500);
    Fluxbus__V1__Orientation *o = (Fluxbus__V1__Orientation *)s_expect(w.cr, T(ORIENTATION), NULL);
    assert_string_equal(o->vacancy_id, "vac-2026-0301");
    fb_codec_free(&o->base);
    o = (Fluxbus__V1__Orientation *)s_expect(w.cr, T(ORIENTATION), NULL);
    assert_string_equal(o->vacancy_id, "vac-2026-0302");
    fb_codec_free(&o->base);

    Fluxbus__V1__RemiseADisposition r = FLUXBUS__V1__REMISE_ADISPOSITION__INIT;
    r.vacancy_id = "vac-2026-0302";
    r.convention_id = "conv-74-al";
    r.reason = FLUXBUS__V1__REMISE_REASON__REMISE_REASON_NO_CANDIDATE;
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(fb_codec_pack(&r.base, &bytes, &len), FB_OK);
    fb_receipt_t rec;
    assert_int_equal(fbt_send(w.cr, T(REMISE_A_DISPOSITION), FBT_BAILLEUR, NULL, bytes, len, &rec),
                     FB_OK);
    fb_receipt_clear(&rec);
    free(bytes);

    /* The réservataire hears it from the broker. */
    fb_delivery_t *dv = fbt_recv_ack(w.cr, WAIT_MS);
    assert_non_null(dv);
    assert_int_equal(dv->body->type, T(DEADLINE_EXPIRED));
    assert_string_equal(dv->body->sender, w.b.keys.actor);
    ProtobufCMessage *m = NULL;
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__deadline_expired__descriptor,
                                     dv->body->payload.data, dv->body->payload.len,
                                     FB_DEFAULT_MAX_ENVELOPE, &m),
                     FB_OK);
    Fluxbus__V1__DeadlineExpired *d = (Fluxbus__V1__DeadlineExpired *)m;
    assert_true(fb_now_ms() >= now + 1500);
    assert_string_equal(d->vacancy_id, "vac-2026-0301");
    assert_string_equal(d->convention_id, "conv-74-al");
    assert_int_equal(d->deadline_ms, now + 1500);
    assert_int_equal(d->counting, FLUXBUS__V1__DEADLINE_COUNTING__DEADLINE_COUNTING_COUNTED);
    assert_true(d->taken_back_by_bailleur);
    assert_int_equal(d->candidates_received, 0);
    fb_codec_free(m);
    fb_delivery_destroy(&dv);
    /* The bailleur's system learns it has the vacancy back, from the
     * broker; the remise is in its outbox too. */
    assert_int_equal(fbt_wait_files(w.outbox, ".json", 2, WAIT_MS), 2);
    assert_int_equal(s_count_named(w.outbox, "-DeadlineExpired-"), 1);
    assert_int_equal(s_count_named(w.outbox, "-RemiseADisposition-"), 1);
    char out[1024];
    fbt_sh(out, sizeof out, "cat '%s'/*-DeadlineExpired-*.json", w.outbox);
    json_t *doc = json_loads(out, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "sender")), w.b.keys.actor);
    json_decref(doc);

    /* Past the second deadline, nothing for the vacancy given back. After a
     * kill -9 and a restart with the adapter's own watcher on, nothing
     * again: the broker's DeadlineExpired closed the orientation. */
    while (fb_now_ms() < now + 2500)
        fbt_expect_nothing(w.cr, 200);
    fbt_expect_nothing(w.cr, QUIET_MS);
    assert_int_equal(fbt_proc_stop(&w.ad, SIGKILL), 128 + SIGKILL);
    FILE *conf = fopen(w.ad.config, "a");
    assert_non_null(conf);
    fputs("deadline_watch = on\n", conf);
    assert_int_equal(fclose(conf), 0);
    s_start_adapter(&w);
    assert_true(fbt_proc_log_contains(&w.ad, "deadline_watch=on"));
    fbt_expect_nothing(w.cr, QUIET_MS);
    assert_int_equal(s_count_named(w.outbox, "-DeadlineExpired-"), 1);
    assert_false(fbt_proc_log_contains(&w.ad, "deadline passed"));
    s_close(&w);
}

/* The réservataire designates a candidate with a sealed household. */
static void s_designate(s_world_t *w, const char *vacancy)
{
    uint8_t pk[FB_ENC_KEY_BYTES];
    assert_int_equal(fb_client_encryption_key(w->cr, FBT_BAILLEUR, pk, NULL, 0), FB_OK);
    Fluxbus__V1__HouseholdDetails hh = FLUXBUS__V1__HOUSEHOLD_DETAILS__INIT;
    Fluxbus__V1__HouseholdMember m = FLUXBUS__V1__HOUSEHOLD_MEMBER__INIT;
    Fluxbus__V1__HouseholdMember *members[1] = {&m};
    m.role = FLUXBUS__V1__HOUSEHOLD_ROLE__HOUSEHOLD_ROLE_DEMANDEUR;
    m.given_name = "Zephyrine";
    m.family_name = S_FAMILY;
    hh.nur = S_NUR;
    hh.members = members;
    hh.n_members = 1;
    hh.email = S_EMAIL;
    fb_sealed_t sealed;
    assert_int_equal(fb_seal_household(&hh, pk, &sealed), FB_OK);
    Fluxbus__V1__Designation d = FLUXBUS__V1__DESIGNATION__INIT;
    d.vacancy_id = (char *)vacancy;
    d.convention_id = "conv-74-al";
    d.rank = 1;
    d.candidate_count = 1;
    d.nur = S_NUR;
    d.household_size = 1;
    d.designating_actor_id = FBT_RESA;
    d.credited_reservataire_actor_id = FBT_RESA;
    /* One candidate where the orientation may expect three. */
    d.fewer_candidates_reason =
        FLUXBUS__V1__FEWER_CANDIDATES_REASON__FEWER_CANDIDATES_REASON_INSUFFISANCE_DEMANDES;
    fb_sealed_bind(&sealed, &d);
    uint8_t *payload = NULL;
    size_t len = 0;
    assert_int_equal(fb_codec_pack(&d.base, &payload, &len), FB_OK);
    const ProtobufCBinaryData box = {sealed.box_len, sealed.box};
    const char *const to[1] = {FBT_BAILLEUR};
    fb_outgoing_t out = {.type = T(DESIGNATION),
                         .recipients = to,
                         .n_recipients = 1,
                         .correlation_id = vacancy,
                         .payload = payload,
                         .payload_len = len,
                         .attachments = &box,
                         .n_attachments = 1};
    fb_receipt_t rec;
    assert_int_equal(fb_client_send(w->cr, &out, &rec), FB_OK);
    fb_receipt_clear(&rec);
    free(payload);
    fb_sealed_clear(&sealed);
}

/* The réservataire designates demande `nur`, rank `rank` of `count`, with no
 * household (what the ledger wants before a CALEOL decision about it). */
static void s_designate_nur(s_world_t *w, const char *vacancy, const char *nur, unsigned rank,
                            unsigned count)
{
    Fluxbus__V1__Designation d = FLUXBUS__V1__DESIGNATION__INIT;
    d.vacancy_id = (char *)vacancy;
    d.convention_id = "conv-74-al";
    d.rank = rank;
    d.candidate_count = count;
    d.nur = (char *)nur;
    d.household_size = 1;
    uint8_t *payload = NULL;
    size_t len = 0;
    assert_int_equal(fb_codec_pack(&d.base, &payload, &len), FB_OK);
    fb_receipt_t rec;
    assert_int_equal(fbt_send(w->cr, T(DESIGNATION), FBT_BAILLEUR, NULL, payload, len, &rec),
                     FB_OK);
    fb_receipt_clear(&rec);
    free(payload);
}

static void test_designation_lands_opened_in_the_outbox_before_its_ack(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    /* The two vacancies, freed and oriented to the réservataire by the
     * bailleur before its adapter runs: the ledger wants them before a
     * Designation. */
    fb_client_t *cb = fbt_client(&w.b, &w.bailleur);
    fbt_orient(cb, FBT_RESA, "vac-2026-0401", 1, w.cr);
    fbt_orient(cb, FBT_RESA, "vac-2026-0402", 1, w.cr);
    fb_client_destroy(&cb);
    /* The outbox cannot be written (a file stands in its place): the
     * delivery is not acknowledged... */
    char away[800];
    snprintf(away, sizeof away, "%s.away", w.outbox);
    s_start_adapter(&w);
    assert_int_equal(rename(w.outbox, away), 0);
    fbt_write_file(w.outbox, "not a directory\n");
    s_designate(&w, "vac-2026-0401");
    for (int waited = 0; waited < WAIT_MS && !fbt_proc_log_contains(&w.ad, "cannot write it");
         waited += 100)
        fbt_expect_nothing(w.cr, 100);
    assert_true(fbt_proc_log_contains(&w.ad, "not acknowledged"));

    /* ...so once the outbox is back and the adapter restarted, the broker
     * delivers it again, and the household is there, opened. */
    assert_int_equal(fbt_proc_stop(&w.ad, SIGKILL), 128 + SIGKILL);
    assert_int_equal(unlink(w.outbox), 0);
    assert_int_equal(rename(away, w.outbox), 0);
    s_start_adapter(&w);
    assert_int_equal(fbt_wait_files(w.outbox, "", 1, WAIT_MS), 1);
    /* kill -9 right away: whatever the ack's fate, one file after a restart. */
    assert_int_equal(fbt_proc_stop(&w.ad, SIGKILL), 128 + SIGKILL);
    char name[300] = "";
    assert_int_equal(fbt_sh(name, sizeof name, "ls '%s'", w.outbox), 0);
    name[strcspn(name, "\n")] = '\0';
    assert_non_null(strstr(name, "-Designation-"));
    json_t *event = s_wait_json(&w, w.outbox, name);
    assert_string_equal(json_string_value(json_object_get(event, "type")), "Designation");
    assert_string_equal(json_string_value(json_object_get(event, "sender")), FBT_RESA);
    const json_t *hh = json_object_get(event, "household");
    assert_non_null(hh);
    assert_string_equal(json_string_value(json_object_get(hh, "email")), S_EMAIL);
    const json_t *member = json_array_get(json_object_get(hh, "members"), 0);
    assert_string_equal(json_string_value(json_object_get(member, "family_name")), S_FAMILY);
    char seq[16];
    snprintf(seq, sizeof seq, "%012lld",
             (long long)json_integer_value(json_object_get(event, "store_seq")));
    assert_memory_equal(name, seq, 12);
    json_decref(event);

    s_start_adapter(&w);
    /* A second delivery, if the ack was lost, has had time to land. */
    s_designate(&w, "vac-2026-0402");
    assert_int_equal(fbt_wait_files(w.outbox, "", 2, WAIT_MS), 2);
    fbt_expect_nothing(w.cr, QUIET_MS);
    assert_int_equal(fbt_count_files(w.outbox, ""), 2);
    assert_int_equal(s_count_named(w.outbox, "-Designation-"), 2);
    s_close(&w);
}

static void test_attribution_gives_the_commune_a_logement_issue_without_nur(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    s_start_adapter(&w);
    s_drop(&w, "01-logement.json",
           "{\"type\": \"LogementLibere\", \"payload\": {\"vacancy_id\": \"vac-2026-0501\", "
           "\"rpls_id\": \"0740123456790\", \"commune_insee\": \"74010\"}}");
    s_orientation_file(&w, "02-orientation.json", "vac-2026-0501", "conv-74-al",
                       fb_now_ms() + 3600000);
    json_decref(s_wait_json(&w, w.done, "02-orientation.json.receipt.json"));
    s_designate(&w, "vac-2026-0501"); /* the candidate the CALEOL decides on */
    static const char decision[] =
        "{\"type\": \"CaleolDecision\", \"payload\": {\"seance_id\": \"caleol-2026-12\", "
        "\"vacancy_id\": \"vac-2026-0501\", \"nur\": \"" S_NUR "\", \"rank\": 1, "
        "\"designataire_actor_id\": \"" FBT_RESA "\", \"decision\": "
        "\"CALEOL_DECISION_CODE_ATTRIBUTION\", \"decided_ms\": 1796079600000, "
        "\"revision\": 1, \"q1\": true}}";
    s_drop(&w, "03-decision.json", decision);
    json_t *receipt = s_wait_json(&w, w.done, "03-decision.json.receipt.json");
    assert_true(json_is_string(json_object_get(receipt, "message_id")));
    json_decref(receipt);

    fb_codec_free(s_expect(w.cr, T(LOGEMENT_LIBERE), NULL));
    fb_codec_free(s_expect(w.cr, T(ORIENTATION), NULL));
    Fluxbus__V1__CaleolDecision *cd =
        (Fluxbus__V1__CaleolDecision *)s_expect(w.cr, T(CALEOL_DECISION), NULL);
    assert_string_equal(cd->nur, S_NUR);
    fb_codec_free(&cd->base);
    fb_codec_free(s_expect(w.cs, T(LOGEMENT_LIBERE), NULL));
    fb_codec_free(s_expect(w.cs, T(CALEOL_DECISION), NULL));

    fb_codec_free(s_expect(w.cc, T(LOGEMENT_LIBERE), NULL));
    fb_delivery_t *d = NULL;
    Fluxbus__V1__LogementIssue *issue =
        (Fluxbus__V1__LogementIssue *)s_expect(w.cc, T(LOGEMENT_ISSUE), &d);
    assert_string_equal(issue->vacancy_id, "vac-2026-0501");
    assert_string_equal(issue->commune_insee, "74010");
    assert_string_equal(issue->rpls_id, "0740123456790");
    assert_int_equal(issue->issue, FLUXBUS__V1__LOGEMENT_ISSUE_KIND__LOGEMENT_ISSUE_KIND_ATTRIBUE);
    assert_int_equal(issue->contingent,
                     FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT);
    assert_int_equal(issue->date->year, 2026);
    assert_int_equal(issue->date->month, 12);
    assert_int_equal(issue->date->day, 1); /* 23:00 UTC on 30 Nov is 1 Dec in Paris */
    assert_null(memmem(d->envelope, d->envelope_len, S_NUR, strlen(S_NUR)));
    assert_int_equal(d->body->n_topics, 1);
    assert_string_equal(d->body->topics[0], "logements/74010");
    assert_int_equal(d->body->n_recipients, 0);
    fb_codec_free(&issue->base);
    fb_delivery_destroy(&d);

    /* The decision again: a duplicate, and no second issue. */
    s_drop(&w, "04-decision-again.json", decision);
    json_decref(s_wait_json(&w, w.done, "04-decision-again.json.receipt.json"));
    fbt_expect_nothing(w.cc, QUIET_MS);
    fbt_expect_nothing(w.cr, 100);
    s_close(&w);
}

/* Orientation of `vacancy` to `resa` (a file of the bailleur's system). */
static void s_orient_file(s_world_t *w, const char *name, const char *vacancy, const char *resa,
                          const char *convention)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"type\": \"Orientation\", \"payload\": {\"vacancy_id\": \"%s\", "
             "\"convention_id\": \"%s\", \"reservataire_actor_id\": \"%s\", \"deadline_ms\": %lld, "
             "\"candidates_expected\": 1, \"contingent\": \"CONTINGENT_TYPE_ACTION_LOGEMENT\"}}",
             vacancy, convention, resa, (long long)(fb_now_ms() + 3600000));
    s_drop(w, name, text);
}

static void test_an_answer_reaches_only_the_reservataire_that_designated(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    fb_client_t *ce = fbt_client(&w.b, &w.etat);
    s_conventions(&w, S_ETAT, ce, "conv-74-etat", NULL);
    s_start_adapter(&w);
    /* The vacancy is oriented to both réservataires, one after the other
     * (the ledger refuses a second orientation while one is open): the
     * State gives it back; Action Logement designates a household (S_NUR),
     * which the CALEOL attributes it. */
    s_orient_file(&w, "01-orientation-etat.json", "vac-2026-0701", S_ETAT, "conv-74-etat");
    json_decref(s_wait_json(&w, w.done, "01-orientation-etat.json.receipt.json"));
    fb_codec_free(s_expect(ce, T(ORIENTATION), NULL));
    Fluxbus__V1__RemiseADisposition remise = FLUXBUS__V1__REMISE_ADISPOSITION__INIT;
    remise.vacancy_id = "vac-2026-0701";
    remise.convention_id = "conv-74-etat";
    remise.reason = FLUXBUS__V1__REMISE_REASON__REMISE_REASON_NO_CANDIDATE;
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(fb_codec_pack(&remise.base, &bytes, &len), FB_OK);
    fb_receipt_t rec;
    assert_int_equal(fbt_send(ce, T(REMISE_A_DISPOSITION), FBT_BAILLEUR, NULL, bytes, len, &rec),
                     FB_OK);
    fb_receipt_clear(&rec);
    free(bytes);
    assert_int_equal(fbt_wait_files(w.outbox, "", 1, WAIT_MS), 1);
    s_orient_file(&w, "02-orientation-al.json", "vac-2026-0701", FBT_RESA, "conv-74-al");
    json_decref(s_wait_json(&w, w.done, "02-orientation-al.json.receipt.json"));
    fb_codec_free(s_expect(w.cr, T(ORIENTATION), NULL));
    s_designate(&w, "vac-2026-0701");
    assert_int_equal(fbt_wait_files(w.outbox, "", 2, WAIT_MS), 2);
    s_drop(&w, "03-decision.json",
           "{\"type\": \"CaleolDecision\", \"payload\": {\"seance_id\": \"caleol-2026-11\", "
           "\"vacancy_id\": \"vac-2026-0701\", \"nur\": \"" S_NUR "\", \"rank\": 1, "
           "\"designataire_actor_id\": \"" FBT_RESA "\", \"decision\": "
           "\"CALEOL_DECISION_CODE_ATTRIBUTION\", \"decided_ms\": 1796047800000, "
           "\"revision\": 1}}");
    json_decref(s_wait_json(&w, w.done, "03-decision.json.receipt.json"));
    fb_codec_free(s_expect(w.cr, T(CALEOL_DECISION), NULL));
    fb_codec_free(s_expect(w.cs, T(CALEOL_DECISION), NULL));

    /* The household's refusal, after the decision (30/11 15:10): to the
     * designator, not to the State. */
    s_drop(&w, "PropositionReponse-vac-2026-0701.csv",
           "vacancy_id;nur;answer;refus_motif;refus_text;answered_ms\n"
           "vac-2026-0701;" S_NUR ";REFUSEE;LOCALISATION;Trop loin de l'école;30/11/2026 18:00\n");
    json_decref(s_wait_json(&w, w.done, "PropositionReponse-vac-2026-0701.csv.receipt.json"));
    Fluxbus__V1__PropositionReponse *p =
        (Fluxbus__V1__PropositionReponse *)s_expect(w.cr, T(PROPOSITION_REPONSE), NULL);
    assert_string_equal(p->nur, S_NUR);
    assert_int_equal(p->refus_motif, FLUXBUS__V1__REFUS_MOTIF__REFUS_MOTIF_LOCALISATION);
    fb_codec_free(&p->base);

    /* A NUR nobody designated (the bailleur's own candidate): no default
     * recipient at all, the file says why. */
    s_drop(&w, "04-reponse-own.json",
           "{\"type\": \"PropositionReponse\", \"payload\": {\"vacancy_id\": \"vac-2026-0701\", "
           "\"nur\": \"" S_OTHER_NUR "\", \"answer\": \"PROPOSITION_ANSWER_REFUSEE\", "
           "\"refus_motif\": \"REFUS_MOTIF_LOYER_TROP_ELEVE\", \"refus_text\": \"Loyer\"}}");
    json_t *doc = s_wait_rejected(&w, "04-reponse-own.json");
    s_expect_error(doc, 0, 0, "field", "to",
                   "demande " S_OTHER_NUR " was not designated by a réservataire on vac-2026-0701: "
                   "give \"to\" explicitly or do not send it");
    json_decref(doc);
    /* The bailleur designates it for itself (to itself: the ledger wants a
     * designation behind a decision), the CALEOL attributes it (to SNE). */
    s_drop(&w, "05-designation-own.json",
           "{\"type\": \"Designation\", \"to\": [\"" FBT_BAILLEUR "\"], \"payload\": "
           "{\"vacancy_id\": \"vac-2026-0701\", \"nur\": \"" S_OTHER_NUR "\", \"rank\": 1, "
           "\"candidate_count\": 1, \"credited_reservataire_actor_id\": \"" FBT_BAILLEUR "\", "
           "\"fewer_candidates_reason\": \"FEWER_CANDIDATES_REASON_INSUFFISANCE_DEMANDES\"}}");
    json_decref(s_wait_json(&w, w.done, "05-designation-own.json.receipt.json"));
    s_drop(&w, "06-decision-own.json",
           "{\"type\": \"CaleolDecision\", \"payload\": {\"seance_id\": \"caleol-2026-11\", "
           "\"vacancy_id\": \"vac-2026-0701\", \"nur\": \"" S_OTHER_NUR "\", \"rank\": 1, "
           "\"designataire_actor_id\": \"" FBT_BAILLEUR "\", \"decision\": "
           "\"CALEOL_DECISION_CODE_ATTRIBUTION\", \"revision\": 1}}");
    json_decref(s_wait_json(&w, w.done, "06-decision-own.json.receipt.json"));
    fb_codec_free(s_expect(w.cs, T(CALEOL_DECISION), NULL));
    /* Its lease not followed goes to SNE alone. */
    s_drop(&w, "07-non-suite-own.json",
           "{\"type\": \"AttributionNonSuivieDeBail\", \"payload\": {\"vacancy_id\": "
           "\"vac-2026-0701\", \"nur\": \"" S_OTHER_NUR "\", \"reason\": "
           "\"NON_SUITE_MOTIF_REFUS_MENAGE\"}}");
    json_decref(s_wait_json(&w, w.done, "07-non-suite-own.json.receipt.json"));
    Fluxbus__V1__AttributionNonSuivieDeBail *a =
        (Fluxbus__V1__AttributionNonSuivieDeBail *)s_expect(w.cs, T(ATTRIBUTION_NON_SUIVIE_DE_BAIL),
                                                            NULL);
    assert_string_equal(a->nur, S_OTHER_NUR);
    fb_codec_free(&a->base);

    /* The State, only oriented, never saw a NUR; nor did the designator
     * see the other household's. */
    fbt_expect_nothing(ce, QUIET_MS);
    fbt_expect_nothing(w.cr, 100);
    fbt_expect_nothing(w.cs, 100);
    /* Nor does the adapter's log show one. */
    assert_false(fbt_proc_log_contains(&w.ad, S_NUR));
    assert_false(fbt_proc_log_contains(&w.ad, S_OTHER_NUR));
    fb_client_destroy(&ce);
    s_close(&w);
}

/* A CaleolSeance file: session caleol-2026-12, `revision`, starting at
 * 14:00 or 15:00 on 10 Dec 2026, to the commune's topic or (to_nobody) to
 * an unknown actor the broker refuses. */
static void s_seance_file(s_world_t *w, const char *name, unsigned revision, bool later,
                          bool to_nobody)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"type\": \"CaleolSeance\",%s \"payload\": {\"seance_id\": \"caleol-2026-12\", "
             "\"revision\": %u, \"status\": \"CALEOL_SEANCE_STATUS_SCHEDULED\", "
             "\"start_ms\": %lld, \"communes_insee\": [\"74010\"]}}",
             to_nobody ? " \"to\": [\"reservataire:nobody\"]," : "", revision,
             later ? 1797080400000LL : 1797076800000LL);
    s_drop(w, name, text);
}

static Fluxbus__V1__CaleolSeance *s_expect_seance(s_world_t *w, unsigned revision)
{
    Fluxbus__V1__CaleolSeance *s =
        (Fluxbus__V1__CaleolSeance *)s_expect(w->cc, T(CALEOL_SEANCE), NULL);
    assert_string_equal(s->seance_id, "caleol-2026-12");
    assert_int_equal(s->revision, revision);
    return s;
}

static void test_a_seance_changes_only_under_a_new_revision(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    assert_int_equal(fb_client_subscribe(w.cc, "caleol/74010"), FB_OK);
    s_start_adapter(&w);
    s_seance_file(&w, "01-seance.json", 1, false, false);
    json_decref(s_wait_json(&w, w.done, "01-seance.json.receipt.json"));
    fb_codec_free(&s_expect_seance(&w, 1)->base);
    /* The same again: a duplicate. */
    s_seance_file(&w, "02-seance-again.json", 1, false, false);
    json_t *r = s_wait_json(&w, w.done, "02-seance-again.json.receipt.json");
    assert_true(json_is_true(json_object_get(r, "duplicate")));
    json_decref(r);

    /* Moved by an hour under the same revision: refused, also after a
     * restart (the revision sent is in the state file). */
    assert_int_equal(fbt_proc_stop(&w.ad, SIGKILL), 128 + SIGKILL);
    s_start_adapter(&w);
    s_seance_file(&w, "03-seance-moved.json", 1, true, false);
    json_t *doc = s_wait_rejected(&w, "03-seance-moved.json");
    s_expect_error(doc, 0, 0, "field", "payload.revision",
                   "seance caleol-2026-12 was sent at revision 1 with other content; a change "
                   "needs revision 2");
    json_decref(doc);
    /* Under revision 2 it goes; revision 1 is then too old. */
    s_seance_file(&w, "04-seance-moved.json", 2, true, false);
    json_decref(s_wait_json(&w, w.done, "04-seance-moved.json.receipt.json"));
    Fluxbus__V1__CaleolSeance *s = s_expect_seance(&w, 2);
    assert_int_equal(s->start_ms, 1797080400000LL);
    fb_codec_free(&s->base);
    s_seance_file(&w, "05-seance-old.json", 1, false, false);
    doc = s_wait_rejected(&w, "05-seance-old.json");
    s_expect_error(doc, 0, 0, "field", "payload.revision", "a change needs revision 3");
    json_decref(doc);

    /* A revision the broker refused is not remembered: revision 3 with
     * other content goes after it. */
    s_seance_file(&w, "06-seance-refused.json", 3, false, true);
    doc = s_wait_rejected(&w, "06-seance-refused.json");
    s_expect_error(doc, 0, 0, NULL, NULL, "UNKNOWN_RECIPIENT");
    json_decref(doc);
    s_seance_file(&w, "07-seance.json", 3, true, false);
    json_decref(s_wait_json(&w, w.done, "07-seance.json.receipt.json"));
    fb_codec_free(&s_expect_seance(&w, 3)->base);
    fbt_expect_nothing(w.cc, QUIET_MS);
    s_close(&w);
}

static void test_decisions_and_a_lease_exported_as_csv_arrive_with_their_values(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    /* The vacancy and its two candidates, before the bailleur's adapter
     * runs: the ledger wants them before a decision about them. */
    fb_client_t *cb = fbt_client(&w.b, &w.bailleur);
    fbt_orient(cb, FBT_RESA, "vac-2026-0801", 2, w.cr);
    fb_client_destroy(&cb);
    s_designate_nur(&w, "vac-2026-0801", S_NUR, 1, 2);
    s_designate_nur(&w, "vac-2026-0801", S_OTHER_NUR, 2, 2);
    s_start_adapter(&w);
    /* Local date-times, oui/non, short enum names, a quoted cell holding
     * the separator. */
    s_drop(&w, "CaleolDecision-2026-11-30.csv",
           "seance_id;vacancy_id;nur;rank;designataire_actor_id;decision;decided_ms;revision;q1;"
           "relogement_anru;non_attribution_reason;reason_text\n"
           "caleol-2026-11;vac-2026-0801;" S_NUR ";1;" FBT_RESA
           ";ATTRIBUTION_PAR_RANG;30/11/2026 15:10;1;oui;non;;\n"
           "caleol-2026-11;vac-2026-0801;" S_OTHER_NUR ";2;" FBT_RESA
           ";non_attribution;30/11/2026 15:10;1;non;oui;TAUX_EFFORT;\"Taux d'effort; 41 %\"\n");
    json_decref(s_wait_json(&w, w.done, "CaleolDecision-2026-11-30.csv.receipt.json"));
    s_drop(&w, "BailSigne-vac-2026-0801.csv",
           "vacancy_id;nur;signed_on;effective_on;designataire_actor_id;convention_id;contingent;"
           "bailleur_siren;rpls_id;commune_insee;qpv;typologie;q1;relogement_anru\n"
           "vac-2026-0801;" S_NUR ";15/01/2027;01/02/2027;" FBT_RESA
           ";conv-74-al;ACTION_LOGEMENT;552046955;0740123456791;74010;in_qpv;T4;oui;non\n");
    json_decref(s_wait_json(&w, w.done, "BailSigne-vac-2026-0801.csv.receipt.json"));

    fb_client_t *who[2] = {w.cr, w.cs};
    for (int k = 0; k < 2; k++) {
        Fluxbus__V1__CaleolDecision *d =
            (Fluxbus__V1__CaleolDecision *)s_expect(who[k], T(CALEOL_DECISION), NULL);
        assert_string_equal(d->seance_id, "caleol-2026-11");
        assert_string_equal(d->nur, S_NUR);
        assert_int_equal(d->rank, 1);
        assert_string_equal(d->designataire_actor_id, FBT_RESA);
        assert_int_equal(
            d->decision,
            FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_ATTRIBUTION_PAR_RANG);
        assert_int_equal(d->decided_ms, 1796047800000LL); /* 15:10 in Paris is 14:10 UTC */
        assert_int_equal(d->revision, 1);
        assert_true(d->q1);
        assert_false(d->relogement_anru);
        fb_codec_free(&d->base);
        d = (Fluxbus__V1__CaleolDecision *)s_expect(who[k], T(CALEOL_DECISION), NULL);
        assert_string_equal(d->nur, S_OTHER_NUR);
        assert_int_equal(d->rank, 2);
        assert_int_equal(d->decision,
                         FLUXBUS__V1__CALEOL_DECISION_CODE__CALEOL_DECISION_CODE_NON_ATTRIBUTION);
        assert_int_equal(d->non_attribution_reason,
                         FLUXBUS__V1__NON_ATTRIBUTION_REASON__NON_ATTRIBUTION_REASON_TAUX_EFFORT);
        assert_string_equal(d->reason_text, "Taux d'effort; 41 %");
        assert_false(d->q1);
        assert_true(d->relogement_anru);
        fb_codec_free(&d->base);

        Fluxbus__V1__BailSigne *b = (Fluxbus__V1__BailSigne *)s_expect(who[k], T(BAIL_SIGNE), NULL);
        assert_string_equal(b->vacancy_id, "vac-2026-0801");
        assert_string_equal(b->nur, S_NUR);
        assert_int_equal(b->signed_on->year, 2027);
        assert_int_equal(b->signed_on->month, 1);
        assert_int_equal(b->signed_on->day, 15);
        assert_int_equal(b->effective_on->month, 2);
        assert_int_equal(b->effective_on->day, 1);
        assert_string_equal(b->designataire_actor_id, FBT_RESA);
        assert_string_equal(b->convention_id, "conv-74-al");
        assert_int_equal(b->contingent,
                         FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT);
        assert_string_equal(b->bailleur_siren, "552046955");
        assert_string_equal(b->rpls_id, "0740123456791");
        assert_string_equal(b->commune_insee, "74010");
        assert_int_equal(b->qpv, FLUXBUS__V1__QPV_STATUS__QPV_STATUS_IN_QPV);
        assert_int_equal(b->typologie, FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T4);
        assert_true(b->q1);
        assert_false(b->relogement_anru);
        fb_codec_free(&b->base);
    }
    fbt_expect_nothing(w.cr, QUIET_MS);
    fbt_expect_nothing(w.cs, 100);
    s_close(&w);
}

static void s_logement_file(s_world_t *w, const char *name, const char *vacancy)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"type\": \"LogementLibere\", \"payload\": {\"vacancy_id\": \"%s\", "
             "\"commune_insee\": \"74010\", \"typologie\": \"TYPOLOGIE_T4\"}}",
             vacancy);
    s_drop(w, name, text);
}

static void test_files_wait_in_the_inbox_while_the_broker_is_down(void **state)
{
    (void)state;
    s_world_t w;
    s_open(&w);
    /* The adapter starts while the broker is down. */
    fb_client_destroy(&w.cr);
    fb_client_destroy(&w.cc);
    fb_client_destroy(&w.cs);
    assert_int_equal(fbt_stop(&w.b, SIGTERM), 0);
    s_start_adapter(&w);
    s_logement_file(&w, "logement-0601.json", "vac-2026-0601");
    for (int waited = 0; waited < WAIT_MS && !fbt_proc_log_contains(&w.ad, "kept in the inbox");
         waited += 50)
        usleep(50 * 1000); /* polling a file another process writes */
    assert_true(fbt_proc_log_contains(&w.ad, "logement-0601.json: kept in the inbox"));
    assert_int_equal(fbt_count_files(w.inbox, ""), 1);
    assert_int_equal(fbt_count_files(w.done, ""), 0);

    /* Once it is back, the file goes, and the réservataire gets it. */
    fbt_start(&w.b);
    json_decref(s_wait_json(&w, w.done, "logement-0601.json.receipt.json"));
    w.cr = fbt_client(&w.b, &w.resa);
    Fluxbus__V1__LogementLibere *l =
        (Fluxbus__V1__LogementLibere *)s_expect(w.cr, T(LOGEMENT_LIBERE), NULL);
    assert_string_equal(l->vacancy_id, "vac-2026-0601");
    fb_codec_free(&l->base);

    /* A broker restart under a running adapter: the same again. */
    fb_client_destroy(&w.cr);
    assert_int_equal(fbt_stop(&w.b, SIGTERM), 0);
    s_logement_file(&w, "logement-0602.json", "vac-2026-0602");
    for (int waited = 0;
         waited < WAIT_MS && !fbt_proc_log_contains(&w.ad, "logement-0602.json: kept in the inbox");
         waited += 50)
        usleep(50 * 1000);
    assert_int_equal(fbt_count_files(w.done, ".receipt.json"), 1);
    fbt_start(&w.b);
    json_decref(s_wait_json(&w, w.done, "logement-0602.json.receipt.json"));
    w.cr = fbt_client(&w.b, &w.resa);
    l = (Fluxbus__V1__LogementLibere *)s_expect(w.cr, T(LOGEMENT_LIBERE), NULL);
    assert_string_equal(l->vacancy_id, "vac-2026-0602");
    fb_codec_free(&l->base);
    fbt_expect_nothing(w.cr, QUIET_MS);
    s_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_dwellings_reach_reservataire_commune_and_sne_once),
        cmocka_unit_test(test_bad_files_are_rejected_naming_line_column_and_reason),
        cmocka_unit_test(test_broker_deadline_expired_lands_in_the_outbox_and_closes_it),
        cmocka_unit_test(test_designation_lands_opened_in_the_outbox_before_its_ack),
        cmocka_unit_test(test_attribution_gives_the_commune_a_logement_issue_without_nur),
        cmocka_unit_test(test_files_wait_in_the_inbox_while_the_broker_is_down),
        cmocka_unit_test(test_an_answer_reaches_only_the_reservataire_that_designated),
        cmocka_unit_test(test_a_seance_changes_only_under_a_new_revision),
        cmocka_unit_test(test_decisions_and_a_lease_exported_as_csv_arrive_with_their_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
