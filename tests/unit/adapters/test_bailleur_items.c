/* test_bailleur_items - inbox files of the bailleur adapter read whole
 * (items.c): JSON and CSV files into messages with their routes, and every
 * way a file is refused, with the line, column or field and the reason
 * that its error file will show; the state left as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bailleur/items.h"
#include "bailleur/state.h"
#include "bailleur/track.h"
#include "fluxbus/fluxbus.h"
#include "fluxbus/v1/logement.pb-c.h"
#include "fluxbus/v1/orientation.pb-c.h"
#include "tmpdir.h"

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_SELF "bailleur:552046955"
#define S_SNE "sne:gip-sne"
#define S_AL "reservataire:action-logement"
#define S_ETAT "reservataire:prefet-74"

/* Two freed dwellings as a spreadsheet exports them: French decimals and
 * dates, an address on two lines. */
static const char s_logements[] =
    "vacancy_id;rpls_id;commune_insee;address.lines;address.postal_code;address.city;typologie;"
    "surface_m2;loyer;charges;financement;floor;lift;available_on\r\n"
    "vac-2026-0101;0740123456789;74010;12 rue des Fauvettes|Bâtiment B;74000;Annecy;T3;65,40;"
    "412,30;98,50;PLUS;3;oui;30/11/2026\r\n"
    "vac-2026-0102;;74011;3 allée des Lilas;74960;Annecy;T2;45,5;350;60;PLAI;0;non;2026-12-15\r\n";

typedef struct {
    char dir[256];
    sqlite3 *db;
    state_t *state;
    const char *logements_to[2];
    routing_conf_t routing;
    items_conf_t conf;
    items_t items;
} s_fix_t;

static int s_setup(void **state)
{
    s_fix_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(tmpdir_make(f->dir, sizeof f->dir, "bailleur-items"), 0);
    char path[300];
    snprintf(path, sizeof path, "%s/state.db", f->dir);
    assert_int_equal(sqlite3_open(path, &f->db), SQLITE_OK);
    char err[256];
    f->state = state_new(f->db, err, sizeof err);
    assert_non_null(f->state);
    f->logements_to[0] = S_AL;
    f->routing = (routing_conf_t){.self_actor = S_SELF,
                                  .sne_actor = S_SNE,
                                  .logements_to = f->logements_to,
                                  .n_logements_to = 1};
    f->conf = (items_conf_t){
        .state = f->state, .routing = &f->routing, .tz = "Europe/Paris", .csv_sep = ';'};
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fix_t *f = *state;
    items_free(&f->items);
    state_destroy(&f->state);
    sqlite3_close(f->db);
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

/* Loads the len bytes of data (NUL-terminated) as file `name`; asserts
 * items_load itself worked. */
static items_t *s_load_n(s_fix_t *f, const char *name, const char *data, size_t len)
{
    items_free(&f->items);
    assert_int_equal(items_load(&f->conf, name, (const uint8_t *)data, len, &f->items), FB_OK);
    return &f->items;
}

static items_t *s_load(s_fix_t *f, const char *name, const char *text)
{
    return s_load_n(f, name, text, strlen(text));
}

/* Asserts error i is {line, key: name, reason containing `reason`}. */
static void s_expect_error(const items_t *items, size_t i, unsigned line, const char *key,
                           const char *name, const char *reason)
{
    const json_t *e = json_array_get(items->errors, i);
    if (!e)
        fail_msg("no error %zu (%zu errors)", i, json_array_size(items->errors));
    char *dump = json_dumps(e, JSON_COMPACT);
    const json_t *l = json_object_get(e, "line");
    if ((line && json_integer_value(l) != line) || (!line && l))
        fail_msg("error %zu: line: %s", i, dump);
    if (key && !json_is_string(json_object_get(e, key)))
        fail_msg("error %zu: no %s: %s", i, key, dump);
    if (key && name && strcmp(json_string_value(json_object_get(e, key)), name) != 0)
        fail_msg("error %zu: %s is not %s: %s", i, key, name, dump);
    const char *why = json_string_value(json_object_get(e, "reason"));
    if (!why || !strstr(why, reason))
        fail_msg("error %zu: reason has no \"%s\": %s", i, reason, dump);
    free(dump);
}

static void s_expect_no_error(const items_t *items)
{
    if (json_array_size(items->errors)) {
        char *dump = json_dumps(items->errors, JSON_COMPACT);
        fail_msg("unexpected errors: %s", dump);
    }
}

static void test_csv_rows_become_routed_messages(void **state)
{
    s_fix_t *f = *state;
    items_t *items = s_load(f, "LogementLibere-2026-11-30.csv", s_logements);
    s_expect_no_error(items);
    assert_true(items->csv);
    assert_int_equal(items->n, 2);
    assert_int_equal(items->msgs[0].line, 2);
    assert_int_equal(items->msgs[1].line, 3);
    assert_int_equal(items->msgs[0].entry->type, T(LOGEMENT_LIBERE));
    const Fluxbus__V1__LogementLibere *l =
        (const Fluxbus__V1__LogementLibere *)items->msgs[0].payload;
    assert_string_equal(l->vacancy_id, "vac-2026-0101");
    assert_int_equal(l->surface_m2_x100, 6540);
    assert_int_equal(l->loyer_cents, 41230);
    assert_int_equal(l->charges_cents, 9850);
    assert_int_equal(l->available_on->day, 30);
    assert_int_equal(l->address->n_lines, 2);
    /* Default route: the commune's topic, logements_to and SNE. */
    assert_int_equal(items->msgs[0].route.n_topics, 1);
    assert_string_equal(items->msgs[0].route.topics[0], "logements/74010");
    assert_int_equal(items->msgs[0].route.n_to, 2);
    assert_string_equal(items->msgs[0].route.to[0], S_AL);
    assert_string_equal(items->msgs[1].route.topics[0], "logements/74011");
}

static void test_csv_type_comes_from_a_column_or_the_file_name(void **state)
{
    s_fix_t *f = *state;
    const char *text = "vacancy_id;commune_insee\nvac-1;74010\n";
    items_t *items = s_load(f, "logement_libere.csv", text);
    s_expect_no_error(items);
    assert_int_equal(items->msgs[0].entry->type, T(LOGEMENT_LIBERE));

    /* A "type" column wins, row by row; "to" and "topics" route the row. */
    items = s_load(f, "export.csv",
                   "type;to;topics;vacancy_id;reservataire_actor_id;commune_insee\n"
                   "LogementLibere;" S_ETAT ";logements/74012|logements/74013;vac-1;;74010\n"
                   "Orientation;;;vac-1;" S_ETAT ";\n");
    s_expect_no_error(items);
    assert_int_equal(items->n, 2);
    assert_int_equal(items->msgs[0].route.n_to, 1);
    assert_string_equal(items->msgs[0].route.to[0], S_ETAT);
    assert_int_equal(items->msgs[0].route.n_topics, 2);
    assert_int_equal(items->msgs[1].entry->type, T(ORIENTATION));
    assert_string_equal(items->msgs[1].route.to[0], S_ETAT);

    /* Neither: each row says so. */
    items = s_load(f, "export.csv", text);
    assert_int_equal(items->n, 0);
    s_expect_error(items, 0, 2, "column", "type", "no message type");
}

static void test_csv_bad_lines_are_all_named_and_nothing_is_kept(void **state)
{
    s_fix_t *f = *state;
    const char *text = "vacancy_id;commune_insee;typologie;available_on\n"
                       "vac-1;74010;T3;30/11/2026\n"
                       "vac-2;74010;T9;30/11/2026\n"
                       "vac-3;74010;T2;31/02/2026\n"
                       "vac-4;7401;T2;01/12/2026\n";
    items_t *items = s_load(f, "LogementLibere-bad.csv", text);
    assert_int_equal(items->n, 0);
    assert_int_equal(json_array_size(items->errors), 3);
    s_expect_error(items, 0, 3, "column", "typologie", "T9");
    s_expect_error(items, 1, 4, "column", "available_on", "");
    s_expect_error(items, 2, 5, "column", "commune_insee", "INSEE");
}

static void test_csv_that_does_not_parse_names_its_line(void **state)
{
    s_fix_t *f = *state;
    items_t *items = s_load(f, "LogementLibere-x.csv", "vacancy_id;commune_insee\nvac-1;74010;x\n");
    s_expect_error(items, 0, 2, NULL, NULL, "");
    items = s_load(f, "LogementLibere-x.csv", "vacancy_id;commune_insee\n");
    s_expect_error(items, 0, 0, NULL, NULL, "no data row");
    items = s_load(f, "LogementLibere-x.csv", "vacancy_id;surface\nvac-1;12\n");
    s_expect_error(items, 0, 2, "column", "surface", "");
}

static void test_json_file_is_one_message(void **state)
{
    s_fix_t *f = *state;
    items_t *items = s_load(f, "orientation-42.json",
                            "{\"type\": \"Orientation\", \"payload\": {\"vacancy_id\": \"vac-1\","
                            " \"reservataire_actor_id\": \"" S_ETAT "\", \"deadline_ms\": 5000,"
                            " \"contingent\": \"CONTINGENT_TYPE_ETAT_PRIORITAIRE\"}}");
    s_expect_no_error(items);
    assert_false(items->csv);
    assert_int_equal(items->n, 1);
    assert_int_equal(items->msgs[0].line, 0);
    assert_string_equal(items->msgs[0].route.to[0], S_ETAT);

    /* An explicit route is kept as it is. */
    items = s_load(f, "c.json",
                   "{\"type\": \"Convention\", \"to\": [\"" S_AL "\"], \"correlation_id\": \"c-1\","
                   " \"payload\": {}}");
    s_expect_no_error(items);
    assert_string_equal(items->msgs[0].route.to[0], S_AL);
    assert_string_equal(items->msgs[0].correlation_id, "c-1");
}

static void test_bad_json_files_say_why(void **state)
{
    s_fix_t *f = *state;
    items_t *items = s_load(f, "broken.json", "{\"type\": \"Orientation\",\n \"payload\": {\n");
    s_expect_error(items, 0, 3, NULL, NULL, "not valid JSON");
    items = s_load(f, "enum.json",
                   "{\"type\": \"LogementLibere\", \"payload\": {\"vacancy_id\": \"v\", "
                   "\"commune_insee\": \"74010\", \"typologie\": \"T9\"}}");
    s_expect_error(items, 0, 0, "field", "payload.typologie", "unknown enum value");
    items = s_load(f, "root.json", "{\"type\": \"LogementLibere\", \"payload\": {\"floors\": 2}}");
    s_expect_error(items, 0, 0, "field", "payload", "unknown field \"floors\"");
    items = s_load(f, "type.json", "{\"type\": \"Receipt\", \"payload\": {}}");
    s_expect_error(items, 0, 0, "field", "type", "unknown message type");
    items = s_load(f, "route.json", "{\"type\": \"Convention\", \"payload\": {}}");
    s_expect_error(items, 0, 0, "field", "to", "no default recipient");
    items = s_load(f, "array.json", "[1, 2]");
    s_expect_error(items, 0, 0, NULL, NULL, "expected a JSON object");
    items = s_load(f, "notes.txt", "hello");
    s_expect_error(items, 0, 0, NULL, NULL, "unsupported file");
    assert_int_equal(items->n, 0);
}

static void test_rows_are_routed_on_the_state_earlier_rows_leave(void **state)
{
    s_fix_t *f = *state;
    /* The DeadlineExpired row finds the réservataire of the Orientation
     * row above it, though nothing is recorded yet... */
    const char *text = "type;vacancy_id;convention_id;reservataire_actor_id;deadline_ms\n"
                       "Orientation;vac-7;conv-etat;" S_ETAT ";1000\n"
                       "DeadlineExpired;vac-7;conv-etat;;1000\n";
    items_t *items = s_load(f, "mixed.csv", text);
    s_expect_no_error(items);
    assert_int_equal(items->n, 2);
    assert_string_equal(items->msgs[1].route.to[0], S_ETAT);

    /* ...and nothing is: alone, the DeadlineExpired has nobody to go to. */
    items = s_load(f, "alone.csv",
                   "type;vacancy_id;convention_id;deadline_ms\n"
                   "DeadlineExpired;vac-7;conv-etat;1000\n");
    s_expect_error(items, 0, 2, "column", "vacancy_id", "not oriented");
}

/* A CaleolSeance JSON file: session S, revision rev, start start_ms; the
 * keys in one order or the other (the same content either way). */
static items_t *s_load_seance(s_fix_t *f, unsigned rev, long long start_ms, bool reordered)
{
    char text[512];
    if (reordered)
        snprintf(text, sizeof text,
                 "{\"payload\": {\"start_ms\": %lld, \"communes_insee\": [\"74010\"], "
                 "\"revision\": %u, \"seance_id\": \"caleol-2026-11\"}, \"type\": "
                 "\"CaleolSeance\"}",
                 start_ms, rev);
    else
        snprintf(text, sizeof text,
                 "{\"type\": \"CaleolSeance\", \"payload\": {\"seance_id\": \"caleol-2026-11\", "
                 "\"revision\": %u, \"start_ms\": %lld, \"communes_insee\": [\"74010\"]}}",
                 rev, start_ms);
    return s_load(f, "seance.json", text);
}

/* What the inbox does once the broker accepted the file's messages. */
static void s_accept(s_fix_t *f)
{
    for (size_t i = 0; i < f->items.n; i++)
        assert_int_equal(
            track_sent(f->state, f->items.msgs[i].entry->type, f->items.msgs[i].payload), FB_OK);
}

static void test_a_seance_changes_only_with_a_higher_revision(void **state)
{
    s_fix_t *f = *state;
    s_expect_no_error(s_load_seance(f, 1, 1000, false));
    /* Only checked, not sent: another content at revision 1 is still fine. */
    s_expect_no_error(s_load_seance(f, 1, 2000, false));
    s_expect_no_error(s_load_seance(f, 1, 1000, false));
    s_accept(f);

    /* The same content again (in any key order) is a duplicate. */
    s_expect_no_error(s_load_seance(f, 1, 1000, true));
    /* A change at the same revision is refused: the commune would never see it. */
    items_t *items = s_load_seance(f, 1, 2000, false);
    assert_int_equal(items->n, 0);
    s_expect_error(items, 0, 0, "field", "payload.revision",
                   "seance caleol-2026-11 was sent at revision 1 with other content; a change "
                   "needs revision 2");
    /* With the next revision it goes. */
    s_expect_no_error(s_load_seance(f, 2, 2000, false));
    s_accept(f);
    /* An older revision, whatever its content, is refused. */
    s_expect_error(s_load_seance(f, 1, 1000, false), 0, 0, "field", "payload.revision",
                   "a change needs revision 3");
    s_expect_no_error(s_load_seance(f, 2, 2000, true));

    /* In a CSV file: the column, and the rows above count. */
    items = s_load(f, "CaleolSeance-x.csv",
                   "seance_id;revision;start_ms;communes_insee\n"
                   "caleol-2026-11;3;3000;74010\n"
                   "caleol-2026-11;3;3000;74010\n"
                   "caleol-2026-11;3;4000;74010\n");
    assert_int_equal(items->n, 0);
    assert_int_equal(json_array_size(items->errors), 1);
    s_expect_error(items, 0, 4, "column", "revision", "was sent at revision 3 with other content");
}

/* Whatever the bytes, a file is read into messages or errors, never a crash:
 * cuts of good files at every length, and pseudo-random bytes. */
static void test_any_bytes_give_messages_or_errors(void **state)
{
    s_fix_t *f = *state;
    const char *json = "{\"type\": \"LogementLibere\", \"payload\": {\"vacancy_id\": \"v\", "
                       "\"commune_insee\": \"74010\", \"address\": {\"lines\": [\"a\"]}}}";
    const char *goods[2] = {s_logements, json};
    const char *names[2] = {"LogementLibere-cut.csv", "cut.json"};
    char buf[sizeof s_logements];
    for (int g = 0; g < 2; g++) {
        size_t len = strlen(goods[g]);
        for (size_t cut = 0; cut <= len; cut++) {
            memcpy(buf, goods[g], cut);
            buf[cut] = '\0';
            items_t *items = s_load(f, names[g], buf);
            assert_true((items->n > 0) != (json_array_size(items->errors) > 0));
        }
    }
    unsigned seed = 20261130;
    for (int round = 0; round < 400; round++) {
        size_t len = (size_t)(rand_r(&seed) % 200);
        for (size_t i = 0; i < len; i++) {
            /* Mostly the characters that matter to the two formats. */
            static const char alphabet[] = ";|\"\n\r{}[]:,.-0123456789aT\xc3\xa9\xff";
            int r = rand_r(&seed);
            buf[i] = r % 4 ? alphabet[(size_t)r % (sizeof alphabet - 1)] : (char)(r >> 8);
        }
        buf[len] = '\0';
        items_t *items = s_load_n(f, round % 2 ? "LogementLibere-x.csv" : "x.json", buf, len);
        assert_true((items->n > 0) != (json_array_size(items->errors) > 0));
        for (size_t i = 0; i < json_array_size(items->errors); i++) {
            char *dump = json_dumps(json_array_get(items->errors, i), 0);
            assert_non_null(dump); /* valid UTF-8 JSON, whatever the input */
            free(dump);
        }
    }
}

int main(void)
{
#define S_TEST(fn) cmocka_unit_test_setup_teardown(fn, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_csv_rows_become_routed_messages),
        S_TEST(test_csv_type_comes_from_a_column_or_the_file_name),
        S_TEST(test_csv_bad_lines_are_all_named_and_nothing_is_kept),
        S_TEST(test_csv_that_does_not_parse_names_its_line),
        S_TEST(test_json_file_is_one_message),
        S_TEST(test_bad_json_files_say_why),
        S_TEST(test_rows_are_routed_on_the_state_earlier_rows_leave),
        S_TEST(test_a_seance_changes_only_with_a_higher_revision),
        S_TEST(test_any_bytes_give_messages_or_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
