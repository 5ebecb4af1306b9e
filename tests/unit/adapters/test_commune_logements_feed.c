/* test_commune_logements_feed.c - the commune adapter's dwelling feeds
 * (adapters/commune/logements_feed.c): the JSON entries and CSV rows of
 * freed dwellings with their current outcome, French number and date
 * forms in the CSV, quoting, and never a name or a demande number - even
 * one smuggled into a message as an unknown field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "commune/feed_store.h"
#include "commune/intake.h"
#include "commune/logements_feed.h"
#include "fluxbus/codec.h"
#include "fluxbus/v1/envelope.pb-c.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define NUR "074011925000001"

static const char *const s_ours[] = {"74010"};
static const intake_territory_t s_territory = {s_ours, 1};

typedef struct {
    sqlite3 *db;
    feed_store_t *store;
} s_world_t;

static int s_setup(void **state)
{
    s_world_t *w = calloc(1, sizeof *w);
    char err[256];
    assert_int_equal(sqlite3_open(":memory:", &w->db), SQLITE_OK);
    w->store = feed_store_new(w->db, err, sizeof err);
    assert_non_null(w->store);
    *state = w;
    return 0;
}

static int s_teardown(void **state)
{
    s_world_t *w = *state;
    feed_store_destroy(&w->store);
    sqlite3_close(w->db);
    free(w);
    return 0;
}

/* Delivers msg through intake, with `extra` bytes appended to its encoding
 * (unknown fields a newer or careless sender added). Asserts it is stored. */
static void s_deliver(s_world_t *w, int type, const char *msg_id, const ProtobufCMessage *msg,
                      const uint8_t *extra, size_t extra_len)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(fb_codec_pack(msg, &bytes, &len), FB_OK);
    bytes = realloc(bytes, len + extra_len);
    if (extra_len)
        memcpy(bytes + len, extra, extra_len);
    intake_note_t note;
    assert_int_equal(
        intake_payload(w->store, &s_territory, type, msg_id, bytes, len + extra_len, 1000, &note),
        FB_OK);
    assert_non_null(strstr(note.text, "stored"));
    free(bytes);
}

/* Field 99 (length-delimited) holding the text s: a protobuf unknown field. */
static size_t s_unknown_field(const char *s, uint8_t *out)
{
    size_t n = strlen(s);
    out[0] = 0x9A; /* (99 << 3) | 2, as a varint */
    out[1] = 0x06;
    out[2] = (uint8_t)n;
    memcpy(out + 3, s, n);
    return n + 3;
}

/* vac-1: a T3 in 74010 with every public fact set; the address holds a ';'
 * and a '"' to be quoted in CSV, and the encoding carries a NUR and a name
 * in an unknown field. */
static void s_put_vac1(s_world_t *w)
{
    static char *lines[] = {"12 rue des Alpes; bât. \"B\""};
    Fluxbus__V1__LogementLibere l;
    Fluxbus__V1__Address a;
    Fluxbus__V1__Date d;
    fluxbus__v1__logement_libere__init(&l);
    fluxbus__v1__address__init(&a);
    fluxbus__v1__date__init(&d);
    a.n_lines = 1;
    a.lines = lines;
    a.postal_code = "74000";
    a.city = "Annecy";
    d.year = 2025;
    d.month = 4;
    d.day = 1;
    l.vacancy_id = "vac-1";
    l.rpls_id = "7401000123";
    l.commune_insee = "74010";
    l.address = &a;
    l.qpv = FLUXBUS__V1__QPV_STATUS__QPV_STATUS_IN_QPV;
    l.qpv_map_year = 2024;
    l.typologie = FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T3;
    l.surface_m2_x100 = 6540;
    l.loyer_cents = 41230;
    l.charges_cents = 8000;
    l.financement = FLUXBUS__V1__FINANCEMENT__FINANCEMENT_PLAI;
    l.available_on = &d;
    l.mode_gestion = FLUXBUS__V1__MODE_GESTION__MODE_GESTION_FLUX;
    uint8_t extra[64];
    s_deliver(w, T(LOGEMENT_LIBERE), "m1", &l.base, extra, s_unknown_field("DUPONT Jean", extra));
}

/* vac-2: a first letting (STOCK) of a new building, no RPLS number yet,
 * with a formula-looking city. */
static void s_put_vac2(s_world_t *w)
{
    Fluxbus__V1__LogementLibere l;
    Fluxbus__V1__Address a;
    fluxbus__v1__logement_libere__init(&l);
    fluxbus__v1__address__init(&a);
    a.city = "=HYPERLINK(\"http://x\")";
    l.vacancy_id = "vac-2";
    l.commune_insee = "74010";
    l.address = &a;
    l.typologie = FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T2;
    l.surface_m2_x100 = 4500;
    l.mode_gestion = FLUXBUS__V1__MODE_GESTION__MODE_GESTION_STOCK;
    s_deliver(w, T(LOGEMENT_LIBERE), "m2", &l.base, NULL, 0);
}

static void s_put_issue(s_world_t *w, const char *msg_id, const char *vacancy, int kind,
                        int contingent, int day)
{
    Fluxbus__V1__LogementIssue i;
    Fluxbus__V1__Date d;
    fluxbus__v1__logement_issue__init(&i);
    fluxbus__v1__date__init(&d);
    d.year = 2025;
    d.month = 5;
    d.day = day;
    i.vacancy_id = (char *)vacancy;
    i.commune_insee = "74010";
    i.rpls_id = "7401000999";
    i.issue = kind;
    i.contingent = contingent;
    i.date = &d;
    uint8_t extra[64];
    s_deliver(w, T(LOGEMENT_ISSUE), msg_id, &i.base, extra, s_unknown_field(NUR, extra));
}

#define ATTRIBUE FLUXBUS__V1__LOGEMENT_ISSUE_KIND__LOGEMENT_ISSUE_KIND_ATTRIBUE
#define NON_SUIVI FLUXBUS__V1__LOGEMENT_ISSUE_KIND__LOGEMENT_ISSUE_KIND_NON_SUIVI
#define BAIL_SIGNE FLUXBUS__V1__LOGEMENT_ISSUE_KIND__LOGEMENT_ISSUE_KIND_BAIL_SIGNE
#define AL FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ACTION_LOGEMENT
#define ETAT FLUXBUS__V1__CONTINGENT_TYPE__CONTINGENT_TYPE_ETAT_PRIORITAIRE

/* Three dwellings: vac-1 attributed, not followed, attributed again and
 * leased; vac-2 without outcome; vac-3 known only by an outcome. */
static void s_fill(s_world_t *w)
{
    s_put_vac1(w);
    s_put_vac2(w);
    s_put_issue(w, "i1", "vac-1", ATTRIBUE, AL, 2);
    s_put_issue(w, "i2", "vac-1", NON_SUIVI, AL, 12);
    s_put_issue(w, "i3", "vac-1", ATTRIBUE, ETAT, 20);
    s_put_issue(w, "i4", "vac-1", BAIL_SIGNE, ETAT, 28);
    s_put_issue(w, "i4", "vac-1", BAIL_SIGNE, ETAT, 28); /* redelivered */
    s_put_issue(w, "i5", "vac-3", ATTRIBUE, AL, 3);
}

static void test_feed_json_lists_dwellings_with_current_outcome(void **state)
{
    s_world_t *w = *state;
    s_fill(w);
    fb_err_t err = FB_ERR_INVALID;
    json_t *feed = logements_feed_json(w->store, &err);
    assert_int_equal(err, FB_OK);
    json_t *list = json_object_get(feed, "logements");
    assert_int_equal(json_array_size(list), 3);

    json_t *v1 = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(v1, "vacancy_id")), "vac-1");
    assert_string_equal(json_string_value(json_object_get(v1, "rpls_id")), "7401000123");
    assert_string_equal(json_string_value(json_object_get(v1, "commune_insee")), "74010");
    assert_string_equal(json_string_value(json_object_get(v1, "address")),
                        "12 rue des Alpes; bât. \"B\"");
    assert_string_equal(json_string_value(json_object_get(v1, "postal_code")), "74000");
    assert_string_equal(json_string_value(json_object_get(v1, "city")), "Annecy");
    assert_string_equal(json_string_value(json_object_get(v1, "typologie")), "T3");
    assert_int_equal(json_integer_value(json_object_get(v1, "surface_m2_x100")), 6540);
    assert_int_equal(json_integer_value(json_object_get(v1, "loyer_cents")), 41230);
    assert_string_equal(json_string_value(json_object_get(v1, "financement")), "PLAI");
    assert_string_equal(json_string_value(json_object_get(v1, "qpv")), "in_qpv");
    assert_string_equal(json_string_value(json_object_get(v1, "available_on")), "2025-04-01");
    assert_string_equal(json_string_value(json_object_get(v1, "mode_gestion")), "flux");
    assert_true(json_is_false(json_object_get(v1, "first_letting")));
    assert_string_equal(json_string_value(json_object_get(v1, "outcome")), "bail_signe");
    assert_string_equal(json_string_value(json_object_get(v1, "contingent")), "etat_prioritaire");
    assert_string_equal(json_string_value(json_object_get(v1, "outcome_date")), "2025-05-28");
    json_t *history = json_object_get(v1, "history");
    assert_int_equal(json_array_size(history), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(history, 1), "outcome")),
                        "non_suivi");

    json_t *v2 = json_array_get(list, 1);
    assert_string_equal(json_string_value(json_object_get(v2, "vacancy_id")), "vac-2");
    assert_true(json_is_null(json_object_get(v2, "rpls_id")));
    assert_true(json_is_true(json_object_get(v2, "first_letting")));
    assert_string_equal(json_string_value(json_object_get(v2, "mode_gestion")), "stock");
    assert_true(json_is_null(json_object_get(v2, "outcome")));
    assert_int_equal(json_array_size(json_object_get(v2, "history")), 0);

    /* Known only by its outcome: what the outcome says, the rest null. */
    json_t *v3 = json_array_get(list, 2);
    assert_string_equal(json_string_value(json_object_get(v3, "vacancy_id")), "vac-3");
    assert_string_equal(json_string_value(json_object_get(v3, "rpls_id")), "7401000999");
    assert_true(json_is_null(json_object_get(v3, "typologie")));
    assert_string_equal(json_string_value(json_object_get(v3, "outcome")), "attribue");
    json_decref(feed);
}

/* The keys of a JSON entry: exactly these, so no other field can appear. */
static void test_feed_json_entries_have_only_public_keys(void **state)
{
    s_world_t *w = *state;
    s_fill(w);
    static const char *const keys[] = {
        "vacancy_id",    "rpls_id",   "commune_insee",   "address",      "postal_code",
        "city",          "typologie", "surface_m2_x100", "loyer_cents",  "charges_cents",
        "financement",   "qpv",       "qpv_map_year",    "available_on", "mode_gestion",
        "first_letting", "outcome",   "contingent",      "outcome_date", "history",
    };
    /* The stored bytes do hold the smuggled NUR (unknown fields are kept)... */
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(w->db,
                                        "SELECT count(*) FROM commune_issues WHERE"
                                        " instr(payload, CAST('" NUR "' AS BLOB)) > 0",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 5);
    sqlite3_finalize(st);
    /* ... and the feed never shows them. */
    fb_err_t err;
    json_t *feed = logements_feed_json(w->store, &err);
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(feed, "logements"), i, entry)
    {
        assert_int_equal(json_object_size(entry), sizeof keys / sizeof keys[0]);
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            assert_non_null(json_object_get(entry, keys[k]));
    }
    char *text = json_dumps(feed, 0);
    assert_null(strstr(text, NUR));
    assert_null(strstr(text, "DUPONT"));
    assert_null(strstr(text, "nur"));
    free(text);
    json_decref(feed);
}

static void test_feed_csv_is_french_friendly_and_quoted(void **state)
{
    s_world_t *w = *state;
    s_fill(w);
    size_t len = 0;
    fb_err_t err = FB_ERR_INVALID;
    char *csv = logements_feed_csv(w->store, &len, &err);
    assert_int_equal(err, FB_OK);
    assert_int_equal(strlen(csv), len);
    const char *header = "vacancy_id;rpls_id;commune_insee;address;postal_code;city;typologie;"
                         "surface_m2;loyer;charges;financement;qpv;qpv_map_year;available_on;"
                         "mode_gestion;first_letting;outcome;contingent;outcome_date\r\n";
    assert_memory_equal(csv, header, strlen(header));
    assert_non_null(strstr(csv, "\r\nvac-1;7401000123;74010;\"12 rue des Alpes; bât. \"\"B\"\"\";"
                                "74000;Annecy;T3;65,4;412,30;80,00;PLAI;in_qpv;2024;01/04/2025;"
                                "flux;non;bail_signe;etat_prioritaire;28/05/2025\r\n"));
    /* The formula-looking city is defused (and quoted: it holds '"'). */
    assert_non_null(strstr(csv, "\r\nvac-2;;74010;;;\"'=HYPERLINK(\"\"http://x\"\")\";T2;45;;;;;;;"
                                "stock;oui;;;\r\n"));
    assert_non_null(strstr(csv, "\r\nvac-3;7401000999;74010;;;;;;;;;;;;;;attribue;"
                                "action_logement;03/05/2025\r\n"));
    /* Header + 3 rows. */
    int lines = 0;
    for (const char *p = csv; (p = strstr(p, "\r\n")); p += 2)
        lines++;
    assert_int_equal(lines, 4);
    assert_null(strstr(csv, NUR));
    assert_null(strstr(csv, "DUPONT"));
    free(csv);
}

static void test_feed_of_an_empty_store(void **state)
{
    s_world_t *w = *state;
    fb_err_t err;
    json_t *feed = logements_feed_json(w->store, &err);
    assert_int_equal(json_array_size(json_object_get(feed, "logements")), 0);
    json_decref(feed);
    size_t len;
    char *csv = logements_feed_csv(w->store, &len, &err);
    assert_non_null(csv);
    assert_int_equal(strstr(csv, "\r\n") + 2 - csv, (long)len); /* the header only */
    free(csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_feed_json_lists_dwellings_with_current_outcome,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_feed_json_entries_have_only_public_keys, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_feed_csv_is_french_friendly_and_quoted, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_feed_of_an_empty_store, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
