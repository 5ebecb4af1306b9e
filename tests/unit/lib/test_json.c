/* test_json.c - the JSON form of protobuf messages (lib/json.c), exercised on
 * the bus's own messages from envelope.proto: SignedBody (uint32, bytes,
 * string, repeated string, uint64, int64, enum), Receipt (bool), Nack and
 * KeyCert; and, for nested and repeated messages, on the domain messages
 * LogementLibere (Address, Date, sint32) and HouseholdDetails (repeated
 * HouseholdMember). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fluxbus/codec.h"
#include "fluxbus/json.h"
#include "fluxbus/v1/designation.pb-c.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "fluxbus/v1/logement.pb-c.h"

#define SIGNED_BODY_JSON                                                                           \
    "{\"version\": 1,"                                                                             \
    " \"message_id\": \"AAECAwQFBgcICQoLDA0ODw==\","                                               \
    " \"sender\": \"bailleur:552046955\","                                                         \
    " \"key_id\": \"bailleur:552046955/2026-01\","                                                 \
    " \"recipients\": [\"reservataire:action-logement\", \"etat:74\"],"                            \
    " \"topics\": [\"logements/74010\"],"                                                          \
    " \"sequence\": 42,"                                                                           \
    " \"created_at_ms\": 1767225600000,"                                                           \
    " \"type\": \"MESSAGE_TYPE_LOGEMENT_LIBERE\","                                                 \
    " \"correlation_id\": \"vac-2026-0001\","                                                      \
    " \"in_reply_to\": \"/w==\","                                                                  \
    " \"payload\": \"CgR0ZXN0\"}"

static json_t *s_load(const char *text)
{
    json_error_t error;
    /* Any root value, and \u0000 in strings: the converter must cope. */
    json_t *json = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    if (!json)
        fail_msg("test JSON does not parse: %s: %s", error.text, text);
    return json;
}

/* Parses text as a SignedBody; asserts success. */
static Fluxbus__V1__SignedBody *s_body(const char *text)
{
    json_t *json = s_load(text);
    ProtobufCMessage *msg = NULL;
    char err[256];
    fb_err_t rc =
        fb_json_to_message(&fluxbus__v1__signed_body__descriptor, json, &msg, err, sizeof err);
    json_decref(json);
    if (rc != FB_OK)
        fail_msg("unexpected error: %s", err);
    assert_non_null(msg);
    return (Fluxbus__V1__SignedBody *)msg;
}

/* Parses text as a message of desc; asserts FB_ERR_PARSE, no message, and
 * exactly the expected error text. */
static void s_expect_error(const ProtobufCMessageDescriptor *desc, const char *text,
                           const char *expected)
{
    json_t *json = s_load(text);
    ProtobufCMessage *msg = (ProtobufCMessage *)&msg; /* must be reset to NULL */
    char err[256];
    fb_err_t rc = fb_json_to_message(desc, json, &msg, err, sizeof err);
    json_decref(json);
    assert_int_equal(rc, FB_ERR_PARSE);
    assert_null(msg);
    assert_string_equal(err, expected);
}

/* JSON text of a message, compact and with sorted keys, for comparisons. */
static char *s_dump(const ProtobufCMessage *msg)
{
    json_t *json = fb_json_from_message(msg);
    assert_non_null(json);
    char *text = json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(json);
    assert_non_null(text);
    return text;
}

static void test_json_signed_body_round_trips_through_protobuf(void **state)
{
    (void)state;
    json_t *in = s_load(SIGNED_BODY_JSON);
    ProtobufCMessage *msg = NULL;
    char err[256];
    assert_int_equal(
        fb_json_to_message(&fluxbus__v1__signed_body__descriptor, in, &msg, err, sizeof err),
        FB_OK);

    Fluxbus__V1__SignedBody *body = (Fluxbus__V1__SignedBody *)msg;
    assert_int_equal(body->version, 1);
    assert_int_equal(body->message_id.len, 16);
    assert_int_equal(body->message_id.data[15], 15);
    assert_string_equal(body->sender, "bailleur:552046955");
    assert_int_equal(body->n_recipients, 2);
    assert_string_equal(body->recipients[1], "etat:74");
    assert_int_equal(body->sequence, 42);
    assert_true(body->created_at_ms == INT64_C(1767225600000));
    assert_int_equal(body->type, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_LOGEMENT_LIBERE);

    /* JSON -> message -> wire -> message -> JSON gives the same JSON. */
    uint8_t *wire = NULL;
    size_t wire_len = 0;
    assert_int_equal(fb_codec_pack(msg, &wire, &wire_len), FB_OK);
    ProtobufCMessage *back = NULL;
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__signed_body__descriptor, wire, wire_len,
                                     FB_DEFAULT_MAX_ENVELOPE, &back),
                     FB_OK);
    json_t *out = fb_json_from_message(back);
    assert_non_null(out);
    assert_true(json_equal(in, out));

    json_decref(out);
    fb_codec_free(back);
    free(wire);
    fb_json_free_message(msg);
    json_decref(in);
}

static void test_json_enum_accepts_name_and_number(void **state)
{
    (void)state;
    Fluxbus__V1__SignedBody *body = s_body("{\"type\": \"MESSAGE_TYPE_RECEIPT\"}");
    assert_int_equal(body->type, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_RECEIPT);
    fb_json_free_message(&body->base);

    /* A number is accepted if it is a defined value; output is the name. */
    body = s_body("{\"type\": 101}");
    assert_int_equal(body->type, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_NACK);
    char *text = s_dump(&body->base);
    assert_string_equal(text, "{\"type\":\"MESSAGE_TYPE_NACK\"}");
    free(text);
    fb_json_free_message(&body->base);

    json_t *json = s_load("{\"reason\": \"REASON_BAD_SIGNATURE\", \"detail\": \"nope\"}");
    ProtobufCMessage *msg = NULL;
    assert_int_equal(fb_json_to_message(&fluxbus__v1__nack__descriptor, json, &msg, NULL, 0),
                     FB_OK);
    assert_int_equal(((Fluxbus__V1__Nack *)msg)->reason,
                     FLUXBUS__V1__REASON_CODE__REASON_BAD_SIGNATURE);
    fb_json_free_message(msg);
    json_decref(json);
}

static void test_json_rejects_unknown_enum_value_naming_the_field(void **state)
{
    (void)state;
    s_expect_error(&fluxbus__v1__signed_body__descriptor, "{\"type\": \"MESSAGE_TYPE_T9\"}",
                   "type: unknown enum value \"MESSAGE_TYPE_T9\"");
    /* The C name is not the JSON name. */
    s_expect_error(&fluxbus__v1__signed_body__descriptor,
                   "{\"type\": \"FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_NACK\"}",
                   "type: unknown enum value \"FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_NACK\"");
    s_expect_error(&fluxbus__v1__signed_body__descriptor, "{\"type\": 55}",
                   "type: unknown enum value 55");
    s_expect_error(&fluxbus__v1__signed_body__descriptor, "{\"type\": 4294967297}",
                   "type: unknown enum value 4294967297");
    s_expect_error(&fluxbus__v1__nack__descriptor, "{\"reason\": true}",
                   "reason: expected an enum name or number");
}

static void test_json_rejects_unknown_member(void **state)
{
    (void)state;
    s_expect_error(&fluxbus__v1__signed_body__descriptor, "{\"sender\": \"a\", \"foo\": 1}",
                   "unknown field \"foo\"");
    /* Names are the .proto names: no camelCase. */
    s_expect_error(&fluxbus__v1__signed_body__descriptor, "{\"createdAtMs\": 1}",
                   "unknown field \"createdAtMs\"");

    /* A key with an embedded NUL (jansson's parser refuses them, but an
     * object can be built with one) does not match on its prefix. */
    json_t *json = json_object();
    assert_int_equal(json_object_setn_new(json, "sender\0x", 8, json_string("a")), 0);
    ProtobufCMessage *msg = NULL;
    char err[256];
    assert_int_equal(
        fb_json_to_message(&fluxbus__v1__signed_body__descriptor, json, &msg, err, sizeof err),
        FB_ERR_PARSE);
    assert_null(msg);
    assert_string_equal(err, "unknown field \"sender\"");
    json_decref(json);
}

static void test_json_rejects_wrong_types(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *desc = &fluxbus__v1__signed_body__descriptor;
    s_expect_error(desc, "{\"sender\": 12}", "sender: expected a string");
    s_expect_error(desc, "{\"version\": \"abc\"}", "version: expected an integer");
    s_expect_error(desc, "{\"version\": 1.5}", "version: expected an integer");
    s_expect_error(desc, "{\"version\": true}", "version: expected an integer");
    s_expect_error(desc, "{\"message_id\": 7}", "message_id: expected a base64 string");
    s_expect_error(desc, "{\"recipients\": \"etat:74\"}", "recipients: expected an array");
    s_expect_error(desc, "{\"recipients\": [\"a\", 3]}", "recipients[1]: expected a string");
    s_expect_error(desc, "{\"sender\": \"a\\u0000b\"}", "sender: string contains a NUL character");
    s_expect_error(&fluxbus__v1__receipt__descriptor, "{\"duplicate\": \"yes\"}",
                   "duplicate: expected true or false");
}

static void test_json_checks_uint32_range(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *desc = &fluxbus__v1__signed_body__descriptor;
    s_expect_error(desc, "{\"version\": -1}", "version: -1 is out of range for uint32");
    s_expect_error(desc, "{\"version\": 4294967296}",
                   "version: 4294967296 is out of range for uint32");
    s_expect_error(desc, "{\"version\": \"+1\"}", "version: expected an integer");

    Fluxbus__V1__SignedBody *body = s_body("{\"version\": 4294967295}");
    assert_int_equal(body->version, UINT32_MAX);
    fb_json_free_message(&body->base);
    body = s_body("{\"version\": \"4294967295\"}");
    assert_int_equal(body->version, UINT32_MAX);
    fb_json_free_message(&body->base);
}

static void test_json_accepts_64_bit_integers_as_strings(void **state)
{
    (void)state;
    Fluxbus__V1__SignedBody *body =
        s_body("{\"created_at_ms\": \"-1767225600000\", \"sequence\": \"18446744073709551615\"}");
    assert_true(body->created_at_ms == INT64_C(-1767225600000));
    assert_true(body->sequence == UINT64_MAX);
    /* uint64 above jansson's long long goes out as a string of digits. */
    char *text = s_dump(&body->base);
    assert_string_equal(text,
                        "{\"created_at_ms\":-1767225600000,\"sequence\":\"18446744073709551615\"}");
    free(text);
    fb_json_free_message(&body->base);

    body =
        s_body("{\"created_at_ms\": \"-9223372036854775808\", \"sequence\": 9223372036854775807}");
    assert_true(body->created_at_ms == INT64_MIN);
    assert_true(body->sequence == (uint64_t)INT64_MAX);
    fb_json_free_message(&body->base);

    const ProtobufCMessageDescriptor *desc = &fluxbus__v1__signed_body__descriptor;
    s_expect_error(desc, "{\"sequence\": \"18446744073709551616\"}",
                   "sequence: 18446744073709551616 is out of range for uint64");
    s_expect_error(desc, "{\"sequence\": -5}", "sequence: -5 is out of range for uint64");
    s_expect_error(desc, "{\"created_at_ms\": \"9223372036854775808\"}",
                   "created_at_ms: 9223372036854775808 is out of range for int64");
    s_expect_error(desc, "{\"created_at_ms\": \"12a\"}", "created_at_ms: expected an integer");
    s_expect_error(desc, "{\"created_at_ms\": \" 12\"}", "created_at_ms: expected an integer");
    s_expect_error(desc, "{\"created_at_ms\": \"\"}", "created_at_ms: expected an integer");
    s_expect_error(desc, "{\"created_at_ms\": \"-\"}", "created_at_ms: expected an integer");
}

static void test_json_bytes_are_base64(void **state)
{
    (void)state;
    static const uint8_t key[32] = {0x00, 0xff, 0x10, 0x20, [31] = 0x7f};
    json_t *json = s_load("{\"actor_id\": \"broker\", \"key_id\": \"broker/1\","
                          " \"public_key\": \"AP8QIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAH8=\","
                          " \"valid_from_ms\": 1}");
    ProtobufCMessage *msg = NULL;
    assert_int_equal(fb_json_to_message(&fluxbus__v1__key_cert__descriptor, json, &msg, NULL, 0),
                     FB_OK);
    Fluxbus__V1__KeyCert *cert = (Fluxbus__V1__KeyCert *)msg;
    assert_int_equal(cert->public_key.len, sizeof key);
    assert_memory_equal(cert->public_key.data, key, sizeof key);
    json_t *out = fb_json_from_message(msg);
    assert_true(json_equal(json, out));
    json_decref(out);
    json_decref(json);
    fb_json_free_message(msg);

    /* Empty base64 is empty bytes. */
    Fluxbus__V1__SignedBody *body = s_body("{\"message_id\": \"\"}");
    assert_int_equal(body->message_id.len, 0);
    fb_json_free_message(&body->base);

    const ProtobufCMessageDescriptor *desc = &fluxbus__v1__signed_body__descriptor;
    s_expect_error(desc, "{\"message_id\": \"not base64!\"}", "message_id: invalid base64");
    s_expect_error(desc, "{\"payload\": \"AAE\"}", "payload: invalid base64");  /* no padding */
    s_expect_error(desc, "{\"payload\": \"AA-_\"}", "payload: invalid base64"); /* URL variant */
    s_expect_error(desc, "{\"payload\": \"AAE=AAE=\"}", "payload: invalid base64");
}

static void test_json_repeated_strings_keep_their_order(void **state)
{
    (void)state;
    Fluxbus__V1__SignedBody *body =
        s_body("{\"topics\": [\"caleol/74010\", \"logements/74010\", \"caleol/74011\"],"
               " \"recipients\": []}");
    assert_int_equal(body->n_topics, 3);
    assert_string_equal(body->topics[0], "caleol/74010");
    assert_string_equal(body->topics[2], "caleol/74011");
    assert_int_equal(body->n_recipients, 0);
    char *text = s_dump(&body->base);
    assert_string_equal(text,
                        "{\"topics\":[\"caleol/74010\",\"logements/74010\",\"caleol/74011\"]}");
    free(text);
    fb_json_free_message(&body->base);

    Fluxbus__V1__Receipt receipt = FLUXBUS__V1__RECEIPT__INIT;
    char *delivered[] = {"a", "b"};
    receipt.n_delivered_to = 2;
    receipt.delivered_to = delivered;
    text = s_dump(&receipt.base);
    assert_string_equal(text, "{\"delivered_to\":[\"a\",\"b\"]}");
    free(text);
}

static void test_json_omits_default_values_on_output(void **state)
{
    (void)state;
    /* Explicit zero values (and null, which means absent) all vanish. */
    Fluxbus__V1__SignedBody *body =
        s_body("{\"version\": 0, \"sender\": \"\", \"message_id\": \"\", \"sequence\": \"0\","
               " \"created_at_ms\": 0, \"type\": \"MESSAGE_TYPE_UNSPECIFIED\","
               " \"recipients\": [], \"correlation_id\": null}");
    char *text = s_dump(&body->base);
    assert_string_equal(text, "{}");
    free(text);
    fb_json_free_message(&body->base);

    Fluxbus__V1__Receipt receipt = FLUXBUS__V1__RECEIPT__INIT;
    text = s_dump(&receipt.base);
    assert_string_equal(text, "{}");
    free(text);
    receipt.duplicate = 1;
    receipt.store_seq = 7;
    text = s_dump(&receipt.base);
    assert_string_equal(text, "{\"duplicate\":true,\"store_seq\":7}");
    free(text);
}

static void test_json_rejects_garbage_without_crashing(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *desc = &fluxbus__v1__signed_body__descriptor;
    s_expect_error(desc, "[1, 2]", "expected an object");
    s_expect_error(desc, "\"text\"", "expected an object");
    s_expect_error(desc, "null", "expected an object");
    s_expect_error(desc, "{\"sender\": {\"sender\": \"x\"}}", "sender: expected a string");

    /* Deep garbage, as deep as jansson will parse, in a member and as root. */
    enum { DEPTH = 2000 };
    char *deep = malloc(2 * DEPTH + 32);
    assert_non_null(deep);
    strcpy(deep, "{\"recipients\": ");
    size_t at = strlen(deep);
    memset(deep + at, '[', DEPTH);
    memset(deep + at + DEPTH, ']', DEPTH);
    strcpy(deep + at + 2 * DEPTH, "}");
    s_expect_error(desc, deep, "recipients[0]: expected a string");
    free(deep);

    char *objects = malloc(6 * DEPTH + 8);
    assert_non_null(objects);
    at = 0;
    for (int i = 0; i < DEPTH; i++)
        at += (size_t)sprintf(objects + at, "{\"a\":");
    objects[at++] = '1';
    memset(objects + at, '}', DEPTH);
    objects[at + DEPTH] = '\0';
    s_expect_error(desc, objects, "unknown field \"a\"");
    free(objects);

    /* NULL JSON and a tiny error buffer are handled too. */
    ProtobufCMessage *msg = NULL;
    char err[8];
    assert_int_equal(fb_json_to_message(desc, NULL, &msg, err, sizeof err), FB_ERR_PARSE);
    assert_null(msg);
    json_t *json = s_load("{\"recipients\": [\"a\", 3]}");
    assert_int_equal(fb_json_to_message(desc, json, &msg, err, sizeof err), FB_ERR_PARSE);
    assert_string_equal(err, "recipie");
    assert_int_equal(fb_json_to_message(desc, json, &msg, NULL, 0), FB_ERR_PARSE);
    assert_null(msg);
    json_decref(json);
    fb_json_free_message(NULL);
}

static void test_json_nested_messages_round_trip(void **state)
{
    (void)state;
    json_t *in = s_load("{\"vacancy_id\": \"vac-2026-0001\", \"commune_insee\": \"2A004\","
                        " \"address\": {\"lines\": [\"12 rue des Lilas\", \"Bat. B\"],"
                        " \"postal_code\": \"20000\", \"city\": \"Ajaccio\"},"
                        " \"typologie\": \"TYPOLOGIE_T3\", \"surface_m2_x100\": 6540,"
                        " \"loyer_cents\": 41250, \"floor\": -1, \"lift\": true,"
                        " \"available_on\": {\"year\": 2026, \"month\": 3, \"day\": 1}}");
    ProtobufCMessage *msg = NULL;
    char err[256];
    assert_int_equal(
        fb_json_to_message(&fluxbus__v1__logement_libere__descriptor, in, &msg, err, sizeof err),
        FB_OK);
    Fluxbus__V1__LogementLibere *logement = (Fluxbus__V1__LogementLibere *)msg;
    assert_non_null(logement->address);
    assert_int_equal(logement->address->n_lines, 2);
    assert_string_equal(logement->address->city, "Ajaccio");
    assert_int_equal(logement->typologie, FLUXBUS__V1__TYPOLOGIE__TYPOLOGIE_T3);
    assert_int_equal(logement->floor, -1);
    assert_int_equal(logement->available_on->month, 3);

    uint8_t *wire = NULL;
    size_t wire_len = 0;
    assert_int_equal(fb_codec_pack(msg, &wire, &wire_len), FB_OK);
    ProtobufCMessage *back = NULL;
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__logement_libere__descriptor, wire, wire_len,
                                     FB_DEFAULT_MAX_ENVELOPE, &back),
                     FB_OK);
    json_t *out = fb_json_from_message(back);
    assert_true(json_equal(in, out));
    json_decref(out);
    fb_codec_free(back);
    free(wire);
    fb_json_free_message(msg);
    json_decref(in);

    /* A submessage that is absent stays absent; an empty one is kept. */
    in = s_load("{\"available_on\": {}}");
    assert_int_equal(
        fb_json_to_message(&fluxbus__v1__logement_libere__descriptor, in, &msg, err, sizeof err),
        FB_OK);
    assert_null(((Fluxbus__V1__LogementLibere *)msg)->address);
    char *text = s_dump(msg);
    assert_string_equal(text, "{\"available_on\":{}}");
    free(text);
    fb_json_free_message(msg);
    json_decref(in);
}

static void test_json_errors_name_the_nested_field_path(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *logement = &fluxbus__v1__logement_libere__descriptor;
    const ProtobufCMessageDescriptor *household = &fluxbus__v1__household_details__descriptor;
    s_expect_error(logement, "{\"typologie\": \"T9\"}", "typologie: unknown enum value \"T9\"");
    s_expect_error(logement, "{\"address\": {\"postal_code\": 74010}}",
                   "address.postal_code: expected a string");
    s_expect_error(logement, "{\"address\": {\"zip\": \"74010\"}}",
                   "address: unknown field \"zip\"");
    s_expect_error(logement, "{\"address\": {\"lines\": [\"a\", null]}}",
                   "address.lines[1]: expected a string");
    s_expect_error(logement, "{\"available_on\": \"2026-03-01\"}",
                   "available_on: expected an object");
    s_expect_error(logement, "{\"floor\": \"-2147483649\"}",
                   "floor: -2147483649 is out of range for sint32");
    /* Members built before the bad one are freed (ASan / valgrind). */
    s_expect_error(household,
                   "{\"nur\": \"0740122000123456789\", \"current_address\": {\"city\": \"Annecy\"},"
                   " \"members\": [{\"role\": \"HOUSEHOLD_ROLE_DEMANDEUR\", \"given_name\": \"A\"},"
                   " {\"role\": \"HOUSEHOLD_ROLE_ENFANT\","
                   "  \"birth_date\": {\"year\": 2015, \"month\": 2147483648}}]}",
                   "members[1].birth_date.month: 2147483648 is out of range for int32");
    s_expect_error(household, "{\"members\": [{}, {\"role\": \"ENFANT\"}]}",
                   "members[1].role: unknown enum value \"ENFANT\"");
    s_expect_error(household, "{\"priority_grounds\": [\"PRIORITY_GROUND_HANDICAP\", 99]}",
                   "priority_grounds[1]: unknown enum value 99");
}

/* An error late in the input frees everything built before it (run under
 * ASan or valgrind to see the point of this test). */
static void test_json_error_after_partial_message_leaks_nothing(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *desc = &fluxbus__v1__signed_body__descriptor;
    s_expect_error(desc,
                   "{\"sender\": \"a\", \"message_id\": \"AAEC\", \"topics\": [\"t1\", \"t2\"],"
                   " \"recipients\": [\"r1\", \"r2\", false]}",
                   "recipients[2]: expected a string");
    s_expect_error(desc,
                   "{\"recipients\": [\"r1\"], \"payload\": \"AAEC\", \"key_id\": \"k\","
                   " \"version\": 1, \"type\": \"NOPE\"}",
                   "type: unknown enum value \"NOPE\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_signed_body_round_trips_through_protobuf),
        cmocka_unit_test(test_json_enum_accepts_name_and_number),
        cmocka_unit_test(test_json_rejects_unknown_enum_value_naming_the_field),
        cmocka_unit_test(test_json_rejects_unknown_member),
        cmocka_unit_test(test_json_rejects_wrong_types),
        cmocka_unit_test(test_json_checks_uint32_range),
        cmocka_unit_test(test_json_accepts_64_bit_integers_as_strings),
        cmocka_unit_test(test_json_bytes_are_base64),
        cmocka_unit_test(test_json_repeated_strings_keep_their_order),
        cmocka_unit_test(test_json_omits_default_values_on_output),
        cmocka_unit_test(test_json_rejects_garbage_without_crashing),
        cmocka_unit_test(test_json_error_after_partial_message_leaks_nothing),
        cmocka_unit_test(test_json_nested_messages_round_trip),
        cmocka_unit_test(test_json_errors_name_the_nested_field_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
