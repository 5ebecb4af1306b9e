/* test_csv.c - the CSV reader of the adapters (adapters/common/csv.c): the
 * dialect French exports use (';', quotes, CRLF, BOM, blank lines, UTF-8),
 * its errors with their line, a 10 MB file in linear time, and rows turned
 * into the JSON form of LogementLibere, CaleolSeance, DecompteDroits,
 * Designation and SignedBody that fb_json_to_message accepts, with every
 * cell convention of csv.h and every way a cell can fail to fit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/csv.h"
#include "fluxbus/json.h"
#include "fluxbus/v1/caleol.pb-c.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"

#define PARIS "Europe/Paris"

static const char *const s_routing[] = {"type", "to", NULL};

/* A bailleur's export of two freed dwellings: BOM, CRLF, routing columns, a
 * quoted address with the separator and two lines, French numbers. */
static const char s_logements_csv[] =
    "\xEF\xBB\xBFtype;to;vacancy_id;rpls_id;bailleur_siren;commune_insee;address.lines;"
    "address.postal_code;address.city;qpv;qpv_map_year;typologie;surface_m2;loyer;"
    "charges_cents;financement;floor;lift;accessibility;construction_period;available_on;"
    "mode_gestion;hors_flux_motif\r\n"
    "LogementLibere;reservataire:action-logement;vac-2026-0042;0740123456789;552046955;74010;"
    "\"12 rue des Fauvettes|B\xC3\xA2timent B; 3e \xC3\xA9tage\";74000;Annecy;in_qpv;2024;T3;"
    "45,5;412,30;9 800;PLUS;3;oui;Adaptable;1975_1999;15/12/2026;flux;\r\n"
    "\r\n"
    "LogementLibere;;vac-2026-0043;;552046955;74011;\"3 all\xC3\xA9"
    "e des Lilas\";74960;Annecy;OUTSIDE_QPV;2024;TYPOLOGIE_T7_PLUS;112.40;1 020;0;PLAI;-1;non;"
    ";;2026-01-05;HORS_FLUX;relogement_anru\r\n";

/* ---------------------------------------------------------------- helpers */

static csv_t *s_parse(const char *text, char sep)
{
    csv_t *csv = NULL;
    csv_error_t error;
    fb_err_t rc = csv_parse(text, strlen(text), sep, &csv, &error);
    if (rc != FB_OK)
        fail_msg("csv_parse: line %u: %s", error.line, error.reason);
    assert_non_null(csv);
    return csv;
}

/* Asserts that text does not parse, on `line`, with exactly `reason`. */
static void s_expect_parse_error(const char *text, size_t len, unsigned line, const char *reason)
{
    csv_t *csv = (csv_t *)&csv; /* must be reset to NULL */
    csv_error_t error;
    assert_int_equal(csv_parse(text, len, ';', &csv, &error), FB_ERR_PARSE);
    assert_null(csv);
    assert_int_equal(error.line, line);
    assert_string_equal(error.column, "");
    assert_string_equal(error.reason, reason);
}

/* JSON of the first data row of text, as desc; asserts success. */
static json_t *s_row_json(const char *text, const ProtobufCMessageDescriptor *desc, const char *tz)
{
    csv_t *csv = s_parse(text, ';');
    assert_true(csv_count(csv) >= 1);
    json_t *json = NULL;
    csv_error_t error;
    fb_err_t rc = csv_row_to_json(csv, csv_row(csv, 0), desc, s_routing, tz, &json, &error);
    if (rc != FB_OK)
        fail_msg("csv_row_to_json: line %u, column \"%s\": %s", error.line, error.column,
                 error.reason);
    csv_free(&csv);
    assert_non_null(json);
    return json;
}

/* The message of a row's JSON; asserts that fb_json_to_message takes it. */
static ProtobufCMessage *s_message(const ProtobufCMessageDescriptor *desc, const json_t *json)
{
    ProtobufCMessage *msg = NULL;
    char why[256];
    if (fb_json_to_message(desc, json, &msg, why, sizeof why) != FB_OK)
        fail_msg("fb_json_to_message refused the row's JSON: %s", why);
    return msg;
}

/* Asserts that the first data row of text does not convert: rc, line,
 * column and reason exactly. */
static void s_expect_row_error(const char *text, const ProtobufCMessageDescriptor *desc,
                               const char *tz, fb_err_t rc, unsigned line, const char *column,
                               const char *reason)
{
    csv_t *csv = s_parse(text, ';');
    json_t *json = (json_t *)&json; /* must be reset to NULL */
    csv_error_t error;
    assert_int_equal(csv_row_to_json(csv, csv_row(csv, 0), desc, s_routing, tz, &json, &error), rc);
    assert_null(json);
    assert_int_equal(error.line, line);
    assert_string_equal(error.column, column);
    assert_string_equal(error.reason, reason);
    csv_free(&csv);
}

/* The integer a one-column CSV "<column>\n<cell>\n" gives field `field`. */
static json_int_t s_integer(const ProtobufCMessageDescriptor *desc, const char *column,
                            const char *cell, const char *field)
{
    char text[512];
    snprintf(text, sizeof text, "%s\n%s\n", column, cell);
    json_t *json = s_row_json(text, desc, PARIS);
    json_t *value = json_object_get(json, field);
    if (!json_is_integer(value))
        fail_msg("%s = \"%s\" gave no integer %s", column, cell, field);
    json_int_t v = json_integer_value(value);
    ProtobufCMessage *msg = s_message(desc, json);
    fb_json_free_message(msg);
    json_decref(json);
    return v;
}

/* The string a one-column CSV gives field `field` (caller frees). */
static char *s_string(const ProtobufCMessageDescriptor *desc, const char *column, const char *cell,
                      const char *field)
{
    char text[512];
    snprintf(text, sizeof text, "%s\n%s\n", column, cell);
    json_t *json = s_row_json(text, desc, PARIS);
    json_t *value = json_object_get(json, field);
    if (!json_is_string(value))
        fail_msg("%s = \"%s\" gave no string %s", column, cell, field);
    char *copy = strdup(json_string_value(value));
    ProtobufCMessage *msg = s_message(desc, json);
    fb_json_free_message(msg);
    json_decref(json);
    return copy;
}

/* Asserts the error of a one-column CSV "<column>\n<cell>\n" (row on line 2). */
static void s_expect_cell_error(const ProtobufCMessageDescriptor *desc, const char *column,
                                const char *cell, const char *reason)
{
    char text[512];
    snprintf(text, sizeof text, "%s\n%s\n", column, cell);
    s_expect_row_error(text, desc, PARIS, FB_ERR_PARSE, 2, column, reason);
}

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- example */

/* The example of use: a bailleur's export read row by row into
 * LogementLibere messages, through the JSON form the bus takes. */
static void test_csv_logement_libere_rows_become_messages(void **state)
{
    (void)state;
    csv_t *csv = s_parse(s_logements_csv, ';');
    assert_int_equal(csv_count(csv), 2);
    assert_int_equal(csv_header(csv)->n, 23);
    assert_string_equal(csv_header(csv)->cells[0], "type"); /* BOM skipped */

    json_t *json = NULL;
    csv_error_t error;
    assert_int_equal(csv_row_to_json(csv, csv_row(csv, 0),
                                     &fluxbus__v1__logement_libere__descriptor, s_routing, PARIS,
                                     &json, &error),
                     FB_OK);
    json_t *expected = json_loads(
        "{\"vacancy_id\": \"vac-2026-0042\", \"rpls_id\": \"0740123456789\","
        " \"bailleur_siren\": \"552046955\", \"commune_insee\": \"74010\","
        " \"address\": {\"lines\": [\"12 rue des Fauvettes\", \"B\xC3\xA2timent B; 3e "
        "\xC3\xA9tage\"], \"postal_code\": \"74000\", \"city\": \"Annecy\"},"
        " \"qpv\": \"QPV_STATUS_IN_QPV\", \"qpv_map_year\": 2024, \"typologie\": \"TYPOLOGIE_T3\","
        " \"surface_m2_x100\": 4550, \"loyer_cents\": 41230, \"charges_cents\": 9800,"
        " \"financement\": \"FINANCEMENT_PLUS\", \"floor\": 3, \"lift\": true,"
        " \"accessibility\": \"PMR_ACCESSIBILITY_ADAPTABLE\","
        " \"construction_period\": \"CONSTRUCTION_PERIOD_1975_1999\","
        " \"available_on\": {\"year\": 2026, \"month\": 12, \"day\": 15},"
        " \"mode_gestion\": \"MODE_GESTION_FLUX\"}",
        0, NULL);
    assert_non_null(expected);
    assert_true(json_equal(json, expected));

    /* The bus takes it, and writes the same JSON back. */
    Fluxbus__V1__LogementLibere *m =
        (Fluxbus__V1__LogementLibere *)s_message(&fluxbus__v1__logement_libere__descriptor, json);
    assert_string_equal(m->vacancy_id, "vac-2026-0042");
    assert_int_equal(m->address->n_lines, 2);
    assert_string_equal(m->address->lines[1], "B\xC3\xA2timent B; 3e \xC3\xA9tage");
    assert_int_equal(m->qpv, FLUXBUS__V1__QPV_STATUS__QPV_STATUS_IN_QPV);
    assert_int_equal(m->typologie, FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T3);
    assert_int_equal(m->surface_m2_x100, 4550);
    assert_int_equal(m->loyer_cents, 41230);
    assert_true(m->lift);
    assert_int_equal(m->available_on->year, 2026);
    assert_int_equal(m->available_on->month, 12);
    assert_int_equal(m->available_on->day, 15);
    json_t *back = fb_json_from_message(&m->base);
    assert_true(json_equal(back, expected));
    json_decref(back);
    fb_json_free_message(&m->base);
    json_decref(expected);
    json_decref(json);

    /* Second row: on line 4 (a blank line before it), other spellings. */
    const csv_row_t *row = csv_row(csv, 1);
    assert_int_equal(row->line, 4);
    assert_int_equal(csv_row_to_json(csv, row, &fluxbus__v1__logement_libere__descriptor, s_routing,
                                     PARIS, &json, &error),
                     FB_OK);
    m = (Fluxbus__V1__LogementLibere *)s_message(&fluxbus__v1__logement_libere__descriptor, json);
    assert_int_equal(m->address->n_lines, 1);
    assert_int_equal(m->qpv, FLUXBUS__V1__QPV_STATUS__QPV_STATUS_OUTSIDE_QPV);
    assert_int_equal(m->typologie, FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T7_PLUS);
    assert_int_equal(m->surface_m2_x100, 11240);
    assert_int_equal(m->loyer_cents, 102000);
    assert_int_equal(m->floor, -1);
    assert_false(m->lift);
    assert_int_equal(m->financement, FLUXBUS__V1__FINANCEMENT__FINANCEMENT_PLAI);
    assert_int_equal(m->accessibility, 0); /* empty cell: unset */
    assert_int_equal(m->available_on->year, 2026);
    assert_int_equal(m->available_on->month, 1);
    assert_int_equal(m->available_on->day, 5);
    assert_int_equal(m->mode_gestion, FLUXBUS__V1__MODE_GESTION__MODE_GESTION_HORS_FLUX);
    assert_int_equal(m->hors_flux_motif,
                     FLUXBUS__V1__HORS_FLUX_MOTIF__HORS_FLUX_MOTIF_RELOGEMENT_ANRU);
    assert_null(json_object_get(json, "rpls_id")); /* empty string cell: unset */
    fb_json_free_message(&m->base);
    json_decref(json);

    assert_string_equal(csv_cell(csv, row, "vacancy_id"), "vac-2026-0043");
    assert_string_equal(csv_cell(csv, row, "to"), "");
    assert_null(csv_cell(csv, row, "no_such_column"));
    assert_null(csv_row(csv, 2));
    csv_free(&csv);
    assert_null(csv);
    csv_free(&csv); /* safe twice */
}

/* ---------------------------------------------------------------- parsing */

static void test_csv_parse_quotes_hold_separators_newlines_and_quotes(void **state)
{
    (void)state;
    csv_t *csv = s_parse("a;b;c\n"
                         "\"x;y\";\"say \"\"oui\"\"\";\"line 1\nline 2\"\n"
                         "\"crlf\r\ninside\";\"\";plain \"quote\"\r\n"
                         "\"\"\"\";\"spaced\"  ;\n",
                         ';');
    assert_int_equal(csv_count(csv), 3);
    const csv_row_t *r = csv_row(csv, 0);
    assert_int_equal(r->line, 2);
    assert_string_equal(r->cells[0], "x;y");
    assert_string_equal(r->cells[1], "say \"oui\"");
    assert_string_equal(r->cells[2], "line 1\nline 2");
    r = csv_row(csv, 1);
    assert_int_equal(r->line, 4); /* the row before spans lines 2 and 3 */
    assert_string_equal(r->cells[0], "crlf\ninside");
    assert_string_equal(r->cells[1], "");
    assert_string_equal(r->cells[2], "plain \"quote\""); /* a quote inside a plain cell is text */
    r = csv_row(csv, 2);
    assert_int_equal(r->line, 6);
    assert_string_equal(r->cells[0], "\"");
    assert_string_equal(r->cells[1], "spaced");
    assert_string_equal(r->cells[2], ""); /* trailing separator: an empty last cell */
    csv_free(&csv);
}

static void test_csv_parse_skips_bom_and_blank_lines(void **state)
{
    (void)state;
    csv_t *csv = s_parse("\xEF\xBB\xBF\n\r\n  \nh1;h2\n\n1;2\r\n;\n \t; \n\n3;4", ';');
    assert_int_equal(csv_header(csv)->line, 4);
    assert_string_equal(csv_header(csv)->cells[0], "h1");
    assert_int_equal(csv_count(csv), 2); /* ";" and " \t; " are blank rows */
    assert_int_equal(csv_row(csv, 0)->line, 6);
    assert_int_equal(csv_row(csv, 1)->line, 10);
    assert_string_equal(csv_row(csv, 1)->cells[1], "4"); /* no line end at the end */
    csv_free(&csv);

    /* A header alone: no rows. */
    csv = s_parse("a;b\n", ';');
    assert_int_equal(csv_count(csv), 0);
    assert_null(csv_row(csv, 0));
    csv_free(&csv);
}

static void test_csv_parse_takes_another_separator(void **state)
{
    (void)state;
    csv_t *csv = s_parse("a,b\tc\n\"1,5\",x;y\tz\n", ',');
    assert_int_equal(csv_header(csv)->n, 2);
    assert_string_equal(csv_header(csv)->cells[1], "b\tc");
    assert_string_equal(csv_row(csv, 0)->cells[0], "1,5");
    assert_string_equal(csv_row(csv, 0)->cells[1], "x;y\tz");
    csv_free(&csv);
    csv = s_parse("a\tb\n1\t\"2\" \n", '\t');
    assert_string_equal(csv_row(csv, 0)->cells[1], "2");
    csv_free(&csv);
}

static void test_csv_parse_rejects_invalid_utf8_naming_the_line(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\xC3\x28",         /* not a continuation byte */
        "\xC0\xAF",         /* overlong '/' */
        "\xED\xA0\x80",     /* surrogate U+D800 */
        "\xF4\x90\x80\x80", /* above U+10FFFF */
        "\xFF",
        "\xE2\x82", /* cut short at the end of the text */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[64], reason[64];
        int n = snprintf(text, sizeof text, "a;b\n1;2\nx;%s", bad[i]);
        snprintf(reason, sizeof reason, "invalid UTF-8 (byte 0x%02X)", (unsigned char)bad[i][0]);
        s_expect_parse_error(text, (size_t)n, 3, reason);
    }
    /* Inside quotes too, on the line the bad byte is on. */
    static const char quoted[] = "a;b\n\"1\n2\xC3\";x\n";
    s_expect_parse_error(quoted, sizeof quoted - 1, 3, "invalid UTF-8 (byte 0xC3)");
    /* A NUL byte would cut the cell short. */
    static const char nul[] = "a;b\n1;x\0y\n";
    s_expect_parse_error(nul, sizeof nul - 1, 2, "NUL character");
}

static void test_csv_parse_rejects_unterminated_quote_at_the_line_it_opened(void **state)
{
    (void)state;
    static const char text[] = "a;b\n1;2\n3;\"opened here\n4;5\n6;7\n";
    s_expect_parse_error(text, sizeof text - 1, 3, "unterminated quoted field (opened on line 3)");
    static const char last[] = "a;b\n1;\"";
    s_expect_parse_error(last, sizeof last - 1, 2, "unterminated quoted field (opened on line 2)");
}

static void test_csv_parse_rejects_ragged_rows_with_their_counts(void **state)
{
    (void)state;
    static const char fewer[] = "a;b;c\n1;2;3\n\n4;5\n";
    s_expect_parse_error(fewer, sizeof fewer - 1, 4, "row has 2 cells, the header has 3");
    static const char more[] = "a;b\r\n1;\"2\n2\";3\r\n";
    s_expect_parse_error(more, sizeof more - 1, 2, "row has 3 cells, the header has 2");
}

static void test_csv_parse_rejects_other_malformed_input(void **state)
{
    (void)state;
    static const char after_quote[] = "a;b\n\"1\"x;2\n";
    s_expect_parse_error(after_quote, sizeof after_quote - 1, 2,
                         "text after the closing quote of a quoted field");
    s_expect_parse_error("", 0, 0, "no header row");
    s_expect_parse_error("\xEF\xBB\xBF", 3, 0, "no header row");
    s_expect_parse_error("\n\r\n;;\n", 6, 0, "no header row");

    csv_t *csv = NULL;
    csv_error_t error;
    assert_int_equal(csv_parse("a", 1, '"', &csv, &error), FB_ERR_INVALID);
    assert_int_equal(csv_parse("a", 1, '\n', &csv, &error), FB_ERR_INVALID);
    assert_int_equal(csv_parse("a", 1, ';', NULL, &error), FB_ERR_INVALID);
    assert_int_equal(csv_parse(NULL, 1, ';', &csv, &error), FB_ERR_INVALID);
    assert_int_equal(csv_parse(NULL, 0, ';', &csv, NULL), FB_ERR_PARSE);
    assert_null(csv);
}

/* 10 MB in well under a second on a normal build; the bound leaves room for
 * the sanitizers and a loaded machine, and still catches quadratic time
 * (which would take minutes). */
static void test_csv_parse_reads_10_mb_in_linear_time(void **state)
{
    (void)state;
    static const char header[] = "vacancy_id;address.lines;loyer;commentaire\r\n";
    static const char row[] = "vac-2026-0042;\"12 rue des Alpes|B\xC3\xA2timent \"\"B\"\"\";412,30;"
                              "\"ligne 1\nligne 2; suite\"\r\n";
    size_t target = 10u << 20;
    size_t rows = target / (sizeof row - 1);
    char *text = malloc(target + sizeof header + sizeof row);
    assert_non_null(text);
    size_t len = 0;
    memcpy(text, header, sizeof header - 1);
    len += sizeof header - 1;
    for (size_t i = 0; i < rows; i++, len += sizeof row - 1)
        memcpy(text + len, row, sizeof row - 1);

    double start = s_now();
    csv_t *csv = NULL;
    csv_error_t error;
    assert_int_equal(csv_parse(text, len, ';', &csv, &error), FB_OK);
    double rows_time = s_now() - start;
    assert_int_equal(csv_count(csv), rows);
    const csv_row_t *last = csv_row(csv, rows - 1);
    assert_int_equal(last->line, 2 + 2 * (rows - 1));
    assert_string_equal(last->cells[1], "12 rue des Alpes|B\xC3\xA2timent \"B\"");
    csv_free(&csv);

    /* One 10 MB quoted cell of "" and line breaks. */
    memcpy(text, "a\n\"", 3);
    for (len = 3; len + 4 < target; len += 4)
        memcpy(text + len, "\"\"\r\n", 4);
    text[len++] = '"';
    start = s_now();
    assert_int_equal(csv_parse(text, len, ';', &csv, &error), FB_OK);
    double cell_time = s_now() - start;
    assert_int_equal(csv_count(csv), 1);
    assert_int_equal(strlen(csv_row(csv, 0)->cells[0]), (len - 4) / 4 * 2);
    csv_free(&csv);
    free(text);
    if (rows_time > 5.0 || cell_time > 5.0)
        fail_msg("10 MB took %.2f s (rows) and %.2f s (one cell)", rows_time, cell_time);
}

/* ---------------------------------------------------------------- cells */

static void test_csv_row_reads_enums_by_name_short_name_or_number(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &fluxbus__v1__logement_libere__descriptor;
    static const char *const t3[] = {"TYPOLOGIE_T3", "typologie_t3", "T3", "t3", " T3 ", "3"};
    for (size_t i = 0; i < sizeof t3 / sizeof t3[0]; i++) {
        char *v = s_string(d, "typologie", t3[i], "typologie");
        assert_string_equal(v, "TYPOLOGIE_T3");
        free(v);
    }
    char *v = s_string(d, "qpv", "in_qpv", "qpv");
    assert_string_equal(v, "QPV_STATUS_IN_QPV");
    free(v);
    v = s_string(d, "construction_period", "before_1949", "construction_period");
    assert_string_equal(v, "CONSTRUCTION_PERIOD_BEFORE_1949");
    free(v);
    v = s_string(d, "hors_flux_motif", "Relogement_Operation_Urbaine", "hors_flux_motif");
    assert_string_equal(v, "HORS_FLUX_MOTIF_RELOGEMENT_OPERATION_URBAINE");
    free(v);
}

static void test_csv_row_names_the_line_and_column_of_a_bad_enum(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &fluxbus__v1__logement_libere__descriptor;
    csv_t *csv = s_parse("vacancy_id;typologie\nv1;T3\n\nv3;T9\n", ';');
    json_t *json = NULL;
    csv_error_t error;
    assert_int_equal(csv_row_to_json(csv, csv_row(csv, 1), d, NULL, PARIS, &json, &error),
                     FB_ERR_PARSE);
    assert_null(json);
    assert_int_equal(error.line, 4);
    assert_string_equal(error.column, "typologie");
    assert_string_equal(error.reason,
                        "unknown value \"T9\" (expected one of T1, T2, T3, T4, T5, T6, T7_PLUS)");
    csv_free(&csv);

    s_expect_cell_error(d, "typologie", "8",
                        "unknown value \"8\" (expected one of T1, T2, T3, T4, T5, T6, T7_PLUS)");
    s_expect_cell_error(d, "typologie", "TYPOLOGIE_",
                        "unknown value \"TYPOLOGIE_\" (expected one of T1, T2, T3, T4, T5, T6, "
                        "T7_PLUS)");
    s_expect_cell_error(d, "qpv", "QPV",
                        "unknown value \"QPV\" (expected one of IN_QPV, OUTSIDE_QPV, UNKNOWN)");
}

static void test_csv_row_reads_amounts_with_comma_or_dot(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &fluxbus__v1__logement_libere__descriptor;
    assert_int_equal(s_integer(d, "loyer", "412,30", "loyer_cents"), 41230);
    assert_int_equal(s_integer(d, "loyer", "412.3", "loyer_cents"), 41230);
    assert_int_equal(s_integer(d, "loyer", "412", "loyer_cents"), 41200);
    assert_int_equal(s_integer(d, "loyer", "0,05", "loyer_cents"), 5);
    assert_int_equal(s_integer(d, "loyer", "1 250,50", "loyer_cents"), 125050);
    assert_int_equal(s_integer(d, "loyer",
                               "1\xC2\xA0"
                               "250",
                               "loyer_cents"),
                     125000);
    assert_int_equal(s_integer(d, "loyer",
                               "1\xE2\x80\xAF"
                               "250,5",
                               "loyer_cents"),
                     125050);
    assert_int_equal(s_integer(d, "loyer", "-3,5", "loyer_cents"), -350);
    assert_int_equal(s_integer(d, "Loyer", "+3", "loyer_cents"), 300);
    assert_int_equal(s_integer(d, "surface_m2", "45,5", "surface_m2_x100"), 4550);
    assert_int_equal(s_integer(d, "loyer", "92233720368547758,07", "loyer_cents"), INT64_MAX);
    assert_int_equal(s_integer(d, "loyer", "-92233720368547758,08", "loyer_cents"), INT64_MIN);
    /* The full name takes an integer. */
    assert_int_equal(s_integer(d, "loyer_cents", "41230", "loyer_cents"), 41230);
    assert_int_equal(s_integer(d, "surface_m2_x100", "4 550", "surface_m2_x100"), 4550);

    s_expect_cell_error(d, "loyer", "412,305", "\"412,305\" has more than 2 decimals");
    s_expect_cell_error(d, "loyer", "412.3000", "\"412.3000\" has more than 2 decimals");
    s_expect_cell_error(d, "loyer", "12a", "expected an amount such as 412,30, got \"12a\"");
    s_expect_cell_error(d, "loyer", "1.250,00",
                        "expected an amount such as 412,30, got \"1.250,00\"");
    s_expect_cell_error(d, "loyer", ",5", "expected an amount such as 412,30, got \",5\"");
    s_expect_cell_error(d, "loyer", "5,", "expected an amount such as 412,30, got \"5,\"");
    s_expect_cell_error(d, "loyer", "412,30 \xE2\x82\xAC",
                        "expected an amount such as 412,30, got \"412,30 \xE2\x82\xAC\"");
    s_expect_cell_error(d, "loyer", "1 ,5", "expected an amount such as 412,30, got \"1 ,5\"");
    s_expect_cell_error(d, "loyer", "92233720368547758,08",
                        "\"92233720368547758,08\" is out of range for int64 "
                        "(-9223372036854775808 to 9223372036854775807)");
    s_expect_cell_error(d, "loyer", "99999999999999999999999",
                        "\"99999999999999999999999\" is out of range for int64 "
                        "(-9223372036854775808 to 9223372036854775807)");
    s_expect_cell_error(d, "surface_m2", "42949672,96",
                        "\"42949672,96\" is out of range for uint32 (0 to 4294967295)");
    s_expect_cell_error(d, "surface_m2", "-1",
                        "\"-1\" is out of range for uint32 (0 to 4294967295)");
    s_expect_cell_error(d, "loyer_cents", "412,30", "expected an integer, got \"412,30\"");
}

static void test_csv_row_reads_integers_and_checks_their_range(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &fluxbus__v1__logement_libere__descriptor;
    assert_int_equal(s_integer(d, "floor", "-2", "floor"), -2);
    assert_int_equal(s_integer(d, "floor", " +3\t", "floor"), 3);
    assert_int_equal(s_integer(d, "qpv_map_year", "2 024", "qpv_map_year"), 2024);
    assert_int_equal(s_integer(d, "qpv_map_year", "4294967295", "qpv_map_year"), UINT32_MAX);
    assert_int_equal(s_integer(d, "floor", "-2147483648", "floor"), INT32_MIN);

    s_expect_cell_error(d, "floor", "3000000000",
                        "\"3000000000\" is out of range for sint32 (-2147483648 to 2147483647)");
    s_expect_cell_error(d, "floor", "-2147483649",
                        "\"-2147483649\" is out of range for sint32 (-2147483648 to 2147483647)");
    s_expect_cell_error(d, "qpv_map_year", "-1",
                        "\"-1\" is out of range for uint32 (0 to 4294967295)");
    s_expect_cell_error(d, "qpv_map_year", "4294967296",
                        "\"4294967296\" is out of range for uint32 (0 to 4294967295)");
    s_expect_cell_error(d, "charges_cents", "18446744073709551616",
                        "\"18446744073709551616\" is out of range for int64 "
                        "(-9223372036854775808 to 9223372036854775807)");
    s_expect_cell_error(d, "floor", "trois", "expected an integer, got \"trois\"");
    s_expect_cell_error(d, "floor", "- 3", "expected an integer, got \"- 3\"");
    s_expect_cell_error(d, "floor", "3.0", "expected an integer, got \"3.0\"");

    /* uint64 above jansson's integers travels as a string of digits. */
    json_t *json = s_row_json("sequence;created_at_ms\n18446744073709551615;-9223372036854775808\n",
                              &fluxbus__v1__signed_body__descriptor, PARIS);
    assert_string_equal(json_string_value(json_object_get(json, "sequence")),
                        "18446744073709551615");
    Fluxbus__V1__SignedBody *b =
        (Fluxbus__V1__SignedBody *)s_message(&fluxbus__v1__signed_body__descriptor, json);
    assert_true(b->sequence == UINT64_MAX);
    assert_true(b->created_at_ms == INT64_MIN);
    fb_json_free_message(&b->base);
    json_decref(json);
}

static void test_csv_row_reads_dates_and_checks_the_calendar(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &fluxbus__v1__logement_libere__descriptor;
    static const struct {
        const char *cell;
        int year, month, day;
    } good[] = {
        {"2026-12-15", 2026, 12, 15}, {"15/12/2026", 2026, 12, 15}, {"5/1/2026", 2026, 1, 5},
        {"29/02/2024", 2024, 2, 29},  {"2000-02-29", 2000, 2, 29},  {" 31/12/2026 ", 2026, 12, 31},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "available_on\n%s\n", good[i].cell);
        json_t *json = s_row_json(text, d, PARIS);
        Fluxbus__V1__LogementLibere *m = (Fluxbus__V1__LogementLibere *)s_message(d, json);
        assert_int_equal(m->available_on->year, good[i].year);
        assert_int_equal(m->available_on->month, good[i].month);
        assert_int_equal(m->available_on->day, good[i].day);
        fb_json_free_message(&m->base);
        json_decref(json);
    }
    s_expect_cell_error(d, "available_on", "31/02/2026", "no such date: \"31/02/2026\"");
    s_expect_cell_error(d, "available_on", "29/02/2025", "no such date: \"29/02/2025\"");
    s_expect_cell_error(d, "available_on", "1900-02-29", "no such date: \"1900-02-29\"");
    s_expect_cell_error(d, "available_on", "2026-13-01", "no such date: \"2026-13-01\"");
    s_expect_cell_error(d, "available_on", "00/12/2026", "no such date: \"00/12/2026\"");
    s_expect_cell_error(d, "available_on", "15-12-2026",
                        "expected a date YYYY-MM-DD or DD/MM/YYYY, got \"15-12-2026\"");
    s_expect_cell_error(d, "available_on", "15/12/26",
                        "expected a date YYYY-MM-DD or DD/MM/YYYY, got \"15/12/26\"");
    s_expect_cell_error(d, "available_on", "2026-12-15 10:00",
                        "expected a date YYYY-MM-DD or DD/MM/YYYY, got \"2026-12-15 10:00\"");
}

/* Instants from the local time of the zone: UTC+1 in winter, UTC+2 in summer. */
static void test_csv_row_reads_local_date_times_in_paris_time(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &fluxbus__v1__caleol_seance__descriptor;
    json_t *json = s_row_json("seance_id;status;start_ms;end_ms;timezone;place.city;"
                              "communes_insee;vacancy_ids\n"
                              "cal-2026-12;scheduled;2026-12-08 14:00;08/12/2026 16:30:15;"
                              "Europe/Paris;Annecy;74010|74011| 2A004;vac-1\n",
                              d, PARIS);
    Fluxbus__V1__CaleolSeance *s = (Fluxbus__V1__CaleolSeance *)s_message(d, json);
    assert_true(s->start_ms == 1796734800000LL); /* 2026-12-08T13:00:00Z */
    assert_true(s->end_ms == 1796743815000LL);   /* 2026-12-08T15:30:15Z */
    assert_int_equal(s->status, FLUXBUS__V1__CALEOL_SEANCE_STATUS__CALEOL_SEANCE_STATUS_SCHEDULED);
    assert_string_equal(s->place->city, "Annecy");
    assert_int_equal(s->n_communes_insee, 3);
    assert_string_equal(s->communes_insee[1], "74011");
    assert_string_equal(s->communes_insee[2], " 2A004"); /* strings as they are */
    assert_int_equal(s->n_vacancy_ids, 1);
    fb_json_free_message(&s->base);
    json_decref(json);

    assert_int_equal(s_integer(d, "start_ms", "2026-07-08 14:00", "start_ms"),
                     1783512000000LL); /* summer: 12:00Z */
    assert_int_equal(s_integer(d, "start_ms", "2026-07-08T14:00:00", "start_ms"), 1783512000000LL);
    assert_int_equal(s_integer(d, "start_ms", "1783512000000", "start_ms"), 1783512000000LL);
    /* 02:30 happens twice on 2026-10-25: the first one, still in summer time. */
    assert_int_equal(s_integer(d, "start_ms", "2026-10-25 02:30", "start_ms"), 1792888200000LL);
    s_expect_cell_error(d, "start_ms", "2026-03-29 02:30",
                        "\"2026-03-29 02:30\" does not exist in Europe/Paris "
                        "(clocks go forward then)");
    s_expect_cell_error(d, "start_ms", "2026-12-08 24:00",
                        "no such date-time: \"2026-12-08 24:00\"");
    s_expect_cell_error(d, "start_ms", "2026-02-30 10:00",
                        "no such date-time: \"2026-02-30 10:00\"");
    s_expect_cell_error(d, "start_ms", "08/12/2026T14:00",
                        "expected a date-time YYYY-MM-DD HH:MM[:SS] or DD/MM/YYYY HH:MM[:SS] "
                        "(or milliseconds), got \"08/12/2026T14:00\"");
    s_expect_cell_error(d, "start_ms", "2026-12-08",
                        "expected a date-time YYYY-MM-DD HH:MM[:SS] or DD/MM/YYYY HH:MM[:SS] "
                        "(or milliseconds), got \"2026-12-08\"");
    s_expect_cell_error(d, "start_ms", "2026-12-08 14h00",
                        "expected a date-time YYYY-MM-DD HH:MM[:SS] or DD/MM/YYYY HH:MM[:SS] "
                        "(or milliseconds), got \"2026-12-08 14h00\"");

    /* The zone: needed for a local time only, and checked. */
    s_expect_row_error("start_ms\n2026-12-08 14:00\n", d, "Europe/Nowhere", FB_ERR_INVALID, 2,
                       "start_ms", "unknown time zone \"Europe/Nowhere\"");
    s_expect_row_error("start_ms\n2026-12-08 14:00\n", d, NULL, FB_ERR_INVALID, 2, "start_ms",
                       "a local date-time needs a time zone (none given)");
    json = s_row_json("start_ms\n1796734800000\n", d, NULL);
    json_decref(json);
    /* Another zone gives another instant. */
    json = s_row_json("start_ms\n2026-12-08 14:00\n", d, "America/New_York");
    assert_int_equal(json_integer_value(json_object_get(json, "start_ms")), 1796756400000LL);
    json_decref(json);
}

/* The process's TZ is the same after the call as before, set or not. */
static void test_csv_row_restores_the_time_zone(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &fluxbus__v1__caleol_seance__descriptor;
    char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

    assert_int_equal(setenv("TZ", "Asia/Tokyo", 1), 0);
    tzset();
    json_t *json = s_row_json("start_ms\n2026-12-08 14:00\n", d, PARIS);
    json_decref(json);
    assert_string_equal(getenv("TZ"), "Asia/Tokyo");
    time_t t = 0;
    struct tm tm;
    localtime_r(&t, &tm);
    assert_int_equal(tm.tm_hour, 9); /* tzset() was called again: Tokyo, UTC+9 */

    assert_int_equal(unsetenv("TZ"), 0);
    json = s_row_json("start_ms\n2026-12-08 14:00\n", d, PARIS);
    json_decref(json);
    assert_null(getenv("TZ"));

    /* Also after an error. */
    assert_int_equal(setenv("TZ", "Asia/Tokyo", 1), 0);
    s_expect_cell_error(d, "start_ms", "2026-03-29 02:30",
                        "\"2026-03-29 02:30\" does not exist in Europe/Paris "
                        "(clocks go forward then)");
    assert_string_equal(getenv("TZ"), "Asia/Tokyo");

    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
}

static void test_csv_row_reads_booleans_in_french_and_english(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &fluxbus__v1__logement_libere__descriptor;
    static const char *const yes[] = {"oui", "OUI", "Vrai", "true", "o", "x", "X", "1", "yes"};
    static const char *const no[] = {"non", "Non", "faux", "FALSE", "n", "0", "no"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0] + sizeof no / sizeof no[0]; i++) {
        bool expect = i < sizeof yes / sizeof yes[0];
        const char *cell = expect ? yes[i] : no[i - sizeof yes / sizeof yes[0]];
        char text[64];
        snprintf(text, sizeof text, "lift\n%s\n", cell);
        json_t *json = s_row_json(text, d, PARIS);
        json_t *lift = json_object_get(json, "lift");
        if (!json_is_boolean(lift) || json_is_true(lift) != expect)
            fail_msg("\"%s\" did not read as %s", cell, expect ? "true" : "false");
        json_decref(json);
    }
    s_expect_cell_error(d, "lift", "peut-\xC3\xAAtre",
                        "expected oui/non, vrai/faux, true/false, o/n, x or 1/0, got "
                        "\"peut-\xC3\xAAtre\"");
    s_expect_cell_error(d, "lift", "2",
                        "expected oui/non, vrai/faux, true/false, o/n, x or 1/0, got \"2\"");
}

static void test_csv_row_reads_nested_fields_at_any_depth(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &fluxbus__v1__decompte_droits__descriptor;
    json_t *json = s_row_json("convention_id;period.start;period.end.year;period.end.month;"
                              "period.end.day;computed_ms\n"
                              "conv-1;01/01/2026;2026;12;31;2027-01-02 08:00\n",
                              d, PARIS);
    Fluxbus__V1__DecompteDroits *m = (Fluxbus__V1__DecompteDroits *)s_message(d, json);
    assert_int_equal(m->period->start->year, 2026);
    assert_int_equal(m->period->start->month, 1);
    assert_int_equal(m->period->start->day, 1);
    assert_int_equal(m->period->end->year, 2026);
    assert_int_equal(m->period->end->month, 12);
    assert_int_equal(m->period->end->day, 31);
    assert_true(m->computed_ms == 1798873200000LL); /* 07:00Z */
    fb_json_free_message(&m->base);
    json_decref(json);
}

static void test_csv_row_reads_lists_between_bars(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &fluxbus__v1__caleol_seance__descriptor;
    json_t *json = s_row_json("communes_insee\n74010\n", d, PARIS);
    json_t *list = json_object_get(json, "communes_insee");
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), 1);
    json_decref(json);
    s_expect_cell_error(d, "communes_insee", "74010||74011",
                        "item 2 of the list is empty (items are separated by '|')");
    s_expect_cell_error(d, "communes_insee", "74010|",
                        "item 2 of the list is empty (items are separated by '|')");
}

static void test_csv_row_reads_bytes_as_base64(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &fluxbus__v1__designation__descriptor;
    json_t *json = s_row_json("vacancy_id;sealed_household_digest\nv;AAECAw==\n", d, PARIS);
    Fluxbus__V1__Designation *m = (Fluxbus__V1__Designation *)s_message(d, json);
    assert_int_equal(m->sealed_household_digest.len, 4);
    assert_int_equal(m->sealed_household_digest.data[3], 3);
    fb_json_free_message(&m->base);
    json_decref(json);
    s_expect_cell_error(d, "sealed_household_digest",
                        "AAECAx==", "expected base64, got \"AAECAx==\""); /* unused bits set */
    s_expect_cell_error(d, "sealed_household_digest", "AAECA", "expected base64, got \"AAECA\"");
    s_expect_cell_error(d, "sealed_household_digest", "AA=A", "expected base64, got \"AA=A\"");
}

/* ---------------------------------------------------------------- columns */

static void test_csv_row_rejects_unknown_columns_unless_skipped(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &fluxbus__v1__logement_libere__descriptor;
    /* Unknown even when the cell is empty: the header is wrong. */
    s_expect_row_error("vacancy_id;surface\nv1;\n", d, PARIS, FB_ERR_PARSE, 2, "surface",
                       "no field \"surface\" in fluxbus.v1.LogementLibere");
    s_expect_row_error("vacancy_id;address.street\nv1;x\n", d, PARIS, FB_ERR_PARSE, 2,
                       "address.street", "no field \"street\" in fluxbus.v1.Address");
    s_expect_row_error("address\nx\n", d, PARIS, FB_ERR_PARSE, 2, "address",
                       "\"address\" is a message: name one of its fields (\"address.lines\")");
    s_expect_row_error("vacancy_id.x\nx\n", d, PARIS, FB_ERR_PARSE, 2, "vacancy_id.x",
                       "\"vacancy_id\" is not a message: it has no field \"x\"");
    s_expect_row_error("address.\nx\n", d, PARIS, FB_ERR_PARSE, 2, "address.",
                       "no field \"\" in fluxbus.v1.Address");
    s_expect_row_error("vacancy_id;;lift\nv1;x;oui\n", d, PARIS, FB_ERR_PARSE, 2, "",
                       "a value in a column without a name");
    s_expect_row_error("members.first_name\nx\n", &fluxbus__v1__household_details__descriptor,
                       PARIS, FB_ERR_PARSE, 2, "members.first_name",
                       "\"members\" is a list of messages: a column cannot set it");

    /* Skipped columns, routing ones by default here ("type", "to"), any case;
     * columns without a name and without values; names trimmed, any case. */
    csv_t *csv = s_parse("Type;surface; Vacancy_ID ;;TO\nLogementLibere;45;v1;;x\n", ';');
    const char *const skip[] = {"type", "to", "surface", NULL};
    json_t *json = NULL;
    csv_error_t error;
    assert_int_equal(csv_row_to_json(csv, csv_row(csv, 0), d, skip, PARIS, &json, &error), FB_OK);
    assert_int_equal(json_object_size(json), 1);
    assert_string_equal(json_string_value(json_object_get(json, "vacancy_id")), "v1");
    json_decref(json);
    assert_int_equal(csv_row_to_json(csv, csv_row(csv, 0), d, NULL, PARIS, &json, &error),
                     FB_ERR_PARSE);
    assert_string_equal(error.column, "Type");
    assert_string_equal(error.reason, "no field \"Type\" in fluxbus.v1.LogementLibere");
    csv_free(&csv);
}

static void test_csv_row_rejects_a_field_set_twice(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &fluxbus__v1__logement_libere__descriptor;
    s_expect_row_error("loyer;loyer_cents\n412,30;41230\n", d, PARIS, FB_ERR_PARSE, 2,
                       "loyer_cents", "field \"loyer_cents\" is already set by another column");
    s_expect_row_error("available_on.year;available_on\n2026;15/12/2026\n", d, PARIS, FB_ERR_PARSE,
                       2, "available_on",
                       "field \"available_on\" is already set by another column");
    /* One of the two empty: fine. */
    json_t *json = s_row_json("loyer;loyer_cents\n;41230\n", d, PARIS);
    assert_int_equal(json_integer_value(json_object_get(json, "loyer_cents")), 41230);
    json_decref(json);
}

static void test_csv_row_leaves_empty_cells_unset(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &fluxbus__v1__logement_libere__descriptor;
    json_t *json = s_row_json("vacancy_id;address.city;typologie;loyer;lift;available_on;floor\n"
                              "v1;;;; ;\xC2\xA0;\"\"\n",
                              d, PARIS);
    assert_int_equal(json_object_size(json), 1);
    json_decref(json);
    /* A string of spaces is a string. */
    json = s_row_json("vacancy_id;address.city\nv1; \n", d, PARIS);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(json, "address"), "city")), " ");
    json_decref(json);
}

/* Errors quote at most 48 bytes of a cell, never half a character, and no
 * control characters (they go to one-line logs). */
static void test_csv_errors_show_cells_safely(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &fluxbus__v1__logement_libere__descriptor;
    s_expect_row_error("lift\n\"a\nb\"\n", d, PARIS, FB_ERR_PARSE, 2, "lift",
                       "expected oui/non, vrai/faux, true/false, o/n, x or 1/0, got \"a?b\"");
    char text[256] = "typologie\n";
    for (int i = 0; i < 30; i++)
        strcat(text, "\xC3\xA9"); /* 60 bytes of 'é' */
    strcat(text, "\n");
    char reason[256];
    char shown[64] = "";
    for (int i = 0; i < 24; i++)
        strcat(shown, "\xC3\xA9"); /* 48 bytes */
    snprintf(reason, sizeof reason,
             "unknown value \"%s...\" (expected one of T1, T2, T3, T4, T5, T6, T7_PLUS)", shown);
    s_expect_row_error(text, d, PARIS, FB_ERR_PARSE, 2, "typologie", reason);
}

static void test_csv_row_checks_its_arguments(void **state)
{
    (void)state;
    csv_t *csv = s_parse("a\n1\n", ';');
    json_t *json = NULL;
    csv_error_t error;
    assert_int_equal(csv_row_to_json(NULL, csv_row(csv, 0), &fluxbus__v1__date__descriptor, NULL,
                                     PARIS, &json, &error),
                     FB_ERR_INVALID);
    assert_int_equal(
        csv_row_to_json(csv, NULL, &fluxbus__v1__date__descriptor, NULL, PARIS, &json, &error),
        FB_ERR_INVALID);
    assert_int_equal(csv_row_to_json(csv, csv_row(csv, 0), NULL, NULL, PARIS, &json, &error),
                     FB_ERR_INVALID);
    assert_int_equal(csv_row_to_json(csv, csv_row(csv, 0), &fluxbus__v1__date__descriptor, NULL,
                                     PARIS, NULL, &error),
                     FB_ERR_INVALID);
    csv_row_t short_row = {.cells = NULL, .n = 0, .line = 7};
    assert_int_equal(csv_row_to_json(csv, &short_row, &fluxbus__v1__date__descriptor, NULL, PARIS,
                                     &json, &error),
                     FB_ERR_PARSE);
    assert_int_equal(error.line, 7);
    assert_string_equal(error.reason, "row has 0 cells, the header has 1");
    assert_null(csv_header(NULL));
    assert_int_equal(csv_count(NULL), 0);
    assert_null(csv_cell(csv, csv_row(csv, 0), NULL));
    csv_free(&csv);
    csv_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_logement_libere_rows_become_messages),
        cmocka_unit_test(test_csv_parse_quotes_hold_separators_newlines_and_quotes),
        cmocka_unit_test(test_csv_parse_skips_bom_and_blank_lines),
        cmocka_unit_test(test_csv_parse_takes_another_separator),
        cmocka_unit_test(test_csv_parse_rejects_invalid_utf8_naming_the_line),
        cmocka_unit_test(test_csv_parse_rejects_unterminated_quote_at_the_line_it_opened),
        cmocka_unit_test(test_csv_parse_rejects_ragged_rows_with_their_counts),
        cmocka_unit_test(test_csv_parse_rejects_other_malformed_input),
        cmocka_unit_test(test_csv_parse_reads_10_mb_in_linear_time),
        cmocka_unit_test(test_csv_row_reads_enums_by_name_short_name_or_number),
        cmocka_unit_test(test_csv_row_names_the_line_and_column_of_a_bad_enum),
        cmocka_unit_test(test_csv_row_reads_amounts_with_comma_or_dot),
        cmocka_unit_test(test_csv_row_reads_integers_and_checks_their_range),
        cmocka_unit_test(test_csv_row_reads_dates_and_checks_the_calendar),
        cmocka_unit_test(test_csv_row_reads_local_date_times_in_paris_time),
        cmocka_unit_test(test_csv_row_restores_the_time_zone),
        cmocka_unit_test(test_csv_row_reads_booleans_in_french_and_english),
        cmocka_unit_test(test_csv_row_reads_nested_fields_at_any_depth),
        cmocka_unit_test(test_csv_row_reads_lists_between_bars),
        cmocka_unit_test(test_csv_row_reads_bytes_as_base64),
        cmocka_unit_test(test_csv_row_rejects_unknown_columns_unless_skipped),
        cmocka_unit_test(test_csv_row_rejects_a_field_set_twice),
        cmocka_unit_test(test_csv_row_leaves_empty_cells_unset),
        cmocka_unit_test(test_csv_errors_show_cells_safely),
        cmocka_unit_test(test_csv_row_checks_its_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
