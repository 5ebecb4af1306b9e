/* test_codec.c - the one protobuf-c gateway (lib/codec.c) and the error enum
 * (lib/err.c): pack/unpack round trip, the size cap checked before any
 * parsing, garbage refused, and the fb_err_t <-> wire ReasonCode mapping
 * total and one-to-one over the ReasonCode enum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fluxbus/codec.h"
#include "fluxbus/err.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "fluxbus/v1/ledger.pb-c.h"

static const uint8_t s_id[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* The first and the last fb_err_t. */
#define S_ERR_FIRST FB_OK
#define S_ERR_LAST FB_ERR_INVALID_TRANSITION

/* Packs a Receipt with every field set; caller frees *out. */
static void s_pack_receipt(uint8_t **out, size_t *out_len)
{
    static char *delivered[] = {"reservataire:action-logement", "commune:74010"};
    static const uint8_t sha[32] = {0x42};
    Fluxbus__V1__Receipt r = FLUXBUS__V1__RECEIPT__INIT;
    r.message_id.data = (uint8_t *)s_id;
    r.message_id.len = sizeof s_id;
    r.sender = "bailleur:552046955";
    r.store_seq = 123456789012ull;
    r.accepted_at_ms = 1767225600123;
    r.duplicate = 1;
    r.envelope_sha256.data = (uint8_t *)sha;
    r.envelope_sha256.len = sizeof sha;
    r.n_delivered_to = 2;
    r.delivered_to = delivered;
    assert_int_equal(fb_codec_pack(&r.base, out, out_len), FB_OK);
}

/* The example of use: pack a message, unpack it under a cap, free it. */
static void test_codec_pack_unpack_round_trips(void **state)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    s_pack_receipt(&bytes, &len);
    assert_non_null(bytes);
    assert_true(len > 0);

    ProtobufCMessage *msg = NULL;
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__receipt__descriptor, bytes, len,
                                     FB_DEFAULT_MAX_ENVELOPE, &msg),
                     FB_OK);
    assert_non_null(msg);
    assert_ptr_equal(msg->descriptor, &fluxbus__v1__receipt__descriptor);
    Fluxbus__V1__Receipt *r = (Fluxbus__V1__Receipt *)msg;
    assert_int_equal(r->message_id.len, sizeof s_id);
    assert_memory_equal(r->message_id.data, s_id, sizeof s_id);
    assert_string_equal(r->sender, "bailleur:552046955");
    assert_int_equal(r->store_seq, 123456789012ull);
    assert_int_equal(r->accepted_at_ms, 1767225600123);
    assert_true(r->duplicate);
    assert_int_equal(r->envelope_sha256.len, 32);
    assert_int_equal(r->envelope_sha256.data[0], 0x42);
    assert_int_equal(r->n_delivered_to, 2);
    assert_string_equal(r->delivered_to[0], "reservataire:action-logement");
    assert_string_equal(r->delivered_to[1], "commune:74010");

    /* Packing what was unpacked gives the same bytes. */
    uint8_t *again = NULL;
    size_t again_len = 0;
    assert_int_equal(fb_codec_pack(msg, &again, &again_len), FB_OK);
    assert_int_equal(again_len, len);
    assert_memory_equal(again, bytes, len);

    free(again);
    fb_codec_free(msg);
    free(bytes);
}

static void test_codec_unpack_over_cap_is_too_large_without_parsing(void **state)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    s_pack_receipt(&bytes, &len);
    ProtobufCMessage *msg = (ProtobufCMessage *)1;
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__receipt__descriptor, bytes, len, len - 1, &msg),
                     FB_ERR_TOO_LARGE);
    assert_null(msg);
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__receipt__descriptor, bytes, len, len, &msg),
                     FB_OK);
    fb_codec_free(msg);
    free(bytes);

    /* Bytes that would not even parse are refused for their size first. */
    static const uint8_t garbage[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(
        fb_codec_unpack(&fluxbus__v1__receipt__descriptor, garbage, sizeof garbage, 4, &msg),
        FB_ERR_TOO_LARGE);
    assert_null(msg);
    /* A zero cap admits only the empty message. */
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__receipt__descriptor, garbage, 1, 0, &msg),
                     FB_ERR_TOO_LARGE);
    assert_null(msg);
}

static void test_codec_unpack_garbage_is_malformed(void **state)
{
    const ProtobufCMessageDescriptor *desc = &fluxbus__v1__receipt__descriptor;
    ProtobufCMessage *msg = (ProtobufCMessage *)1;

    /* A tag varint that never ends. */
    static const uint8_t endless[11] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(fb_codec_unpack(desc, endless, sizeof endless, 1024, &msg), FB_ERR_MALFORMED);
    assert_null(msg);

    /* Field 2 (sender, a string) claiming 100 bytes, with 2 present. */
    static const uint8_t overrun[] = {0x12, 100, 'a', 'b'};
    assert_int_equal(fb_codec_unpack(desc, overrun, sizeof overrun, 1024, &msg), FB_ERR_MALFORMED);
    assert_null(msg);

    /* Field 0 does not exist in protobuf. */
    static const uint8_t field_zero[] = {0x00, 0x01};
    assert_int_equal(fb_codec_unpack(desc, field_zero, sizeof field_zero, 1024, &msg),
                     FB_ERR_MALFORMED);

    /* Wire types 6 and 7 are not defined. */
    static const uint8_t bad_wire_type[] = {0x0e, 0x01};
    assert_int_equal(fb_codec_unpack(desc, bad_wire_type, sizeof bad_wire_type, 1024, &msg),
                     FB_ERR_MALFORMED);

    /* A valid message cut in the middle of its last field. */
    uint8_t *bytes = NULL;
    size_t len = 0;
    s_pack_receipt(&bytes, &len);
    assert_int_equal(fb_codec_unpack(desc, bytes, len - 1, 1024, &msg), FB_ERR_MALFORMED);
    assert_null(msg);
    free(bytes);
}

static void test_codec_empty_input_is_a_default_message(void **state)
{
    ProtobufCMessage *msg = NULL;
    /* proto3: no required fields, so zero bytes are the all-default message. */
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__signed_body__descriptor, NULL, 0, 0, &msg),
                     FB_OK);
    assert_non_null(msg);
    Fluxbus__V1__SignedBody *b = (Fluxbus__V1__SignedBody *)msg;
    assert_int_equal(b->version, 0);
    assert_int_equal(b->message_id.len, 0);
    assert_string_equal(b->sender, "");
    assert_int_equal(b->n_recipients, 0);
    fb_codec_free(msg);

    static const uint8_t some[1] = {0x08};
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__nack__descriptor, some, 0, 16, &msg), FB_OK);
    assert_non_null(msg);
    fb_codec_free(msg);

    /* The empty message packs to zero bytes in a real buffer. */
    Fluxbus__V1__Nack nack = FLUXBUS__V1__NACK__INIT;
    uint8_t *out = NULL;
    size_t out_len = 99;
    assert_int_equal(fb_codec_pack(&nack.base, &out, &out_len), FB_OK);
    assert_non_null(out);
    assert_int_equal(out_len, 0);
    free(out);
}

static void test_codec_unpack_rejects_null_data_with_length(void **state)
{
    ProtobufCMessage *msg = (ProtobufCMessage *)1;
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__nack__descriptor, NULL, 4, 16, &msg),
                     FB_ERR_INVALID);
    assert_null(msg);
    assert_int_equal(fb_codec_unpack(NULL, (const uint8_t *)"", 0, 16, &msg), FB_ERR_INVALID);
    assert_null(msg);
    fb_codec_free(NULL); /* safe on NULL */
}

/* A field this schema does not know (a newer sender's) survives unpack and
 * pack unchanged. */
static void test_codec_unknown_fields_are_kept_and_packed_again(void **state)
{
    /* Nack: reason = 1, then field 15 (varint 5), unknown to Nack. */
    static const uint8_t bytes[] = {0x10, 0x01, 0x78, 0x05};
    ProtobufCMessage *msg = NULL;
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__nack__descriptor, bytes, sizeof bytes, 16, &msg),
                     FB_OK);
    uint8_t *again = NULL;
    size_t again_len = 0;
    assert_int_equal(fb_codec_pack(msg, &again, &again_len), FB_OK);
    assert_int_equal(again_len, sizeof bytes);
    assert_memory_equal(again, bytes, sizeof bytes);
    free(again);
    fb_codec_free(msg);
}

/* Field number 0 in an overlong tag (0x80 0x00): protobuf-c reads it as an
 * unknown field but would pack it as the tag byte 0x00, which it refuses,
 * so a re-encoded message would no longer decode. Refused at any depth
 * (regression: tests/fuzz/corpus/payloads/regress_field_zero_bilan.bin). */
static void test_codec_refuses_field_number_zero(void **state)
{
    static const uint8_t top[] = {0x10, 0x01, 0x80, 0x00, 0x05};      /* Nack */
    static const uint8_t nested[] = {0x42, 0x03, 0x80, 0x00, 0x05};   /* BilanAnnuel.q1_hors_qpv */
    static const uint8_t repeated[] = {0x3a, 0x03, 0x80, 0x00, 0x05}; /* BilanAnnuel.lines[0] */
    static const uint8_t fine[] = {0x42, 0x02, 0x08, 0x01};           /* numerator = 1 */
    const ProtobufCMessageDescriptor *bilan = &fluxbus__v1__bilan_annuel__descriptor;
    ProtobufCMessage *msg = (ProtobufCMessage *)1;
    assert_int_equal(fb_codec_unpack(&fluxbus__v1__nack__descriptor, top, sizeof top, 16, &msg),
                     FB_ERR_MALFORMED);
    assert_null(msg);
    assert_int_equal(fb_codec_unpack(bilan, nested, sizeof nested, 16, &msg), FB_ERR_MALFORMED);
    assert_null(msg);
    assert_int_equal(fb_codec_unpack(bilan, repeated, sizeof repeated, 16, &msg), FB_ERR_MALFORMED);
    assert_null(msg);
    assert_int_equal(fb_codec_unpack(bilan, fine, sizeof fine, 16, &msg), FB_OK);
    fb_codec_free(msg);
}

static void test_err_str_and_name_are_never_null(void **state)
{
    for (int e = S_ERR_LAST - 10; e <= 10; e++) {
        const char *str = fb_err_str((fb_err_t)e);
        const char *name = fb_err_name((fb_err_t)e);
        assert_non_null(str);
        assert_non_null(name);
        assert_true(strlen(str) > 0);
        assert_true(strlen(name) > 0);
        int known = e <= S_ERR_FIRST && e >= S_ERR_LAST;
        if (known) {
            assert_string_not_equal(str, "unknown error");
            assert_string_not_equal(name, "UNKNOWN");
        } else {
            assert_string_equal(str, "unknown error");
            assert_string_equal(name, "UNKNOWN");
        }
    }
    assert_string_equal(fb_err_name(FB_OK), "OK");
    assert_string_equal(fb_err_name(FB_ERR_BAD_SIGNATURE), "BAD_SIGNATURE");
    assert_string_equal(fb_err_str(FB_ERR_BAD_SIGNATURE), "bad signature");
}

static void test_err_names_are_distinct(void **state)
{
    for (int a = S_ERR_LAST; a <= S_ERR_FIRST; a++)
        for (int b = S_ERR_LAST; b < a; b++) {
            if (strcmp(fb_err_name((fb_err_t)a), fb_err_name((fb_err_t)b)) == 0)
                fail_msg("errors %d and %d share the name %s", a, b, fb_err_name((fb_err_t)a));
            if (strcmp(fb_err_str((fb_err_t)a), fb_err_str((fb_err_t)b)) == 0)
                fail_msg("errors %d and %d share the text %s", a, b, fb_err_str((fb_err_t)a));
        }
}

static void test_err_every_reason_code_maps_to_a_distinct_error_and_back(void **state)
{
    const ProtobufCEnumDescriptor *reasons = &fluxbus__v1__reason_code__descriptor;
    assert_true(reasons->n_values > 0);
    fb_err_t seen[64];
    assert_true(reasons->n_values <= sizeof seen / sizeof seen[0]);
    for (unsigned i = 0; i < reasons->n_values; i++) {
        const ProtobufCEnumValue *v = &reasons->values[i];
        fb_err_t err = fb_err_from_reason(v->value);
        if (err == FB_ERR_PROTOCOL)
            fail_msg("%s has no fb_err_t twin", v->name);
        if (fb_err_to_reason(err) != v->value)
            fail_msg("%s -> %s -> reason %d", v->name, fb_err_name(err), fb_err_to_reason(err));
        for (unsigned j = 0; j < i; j++)
            if (seen[j] == err)
                fail_msg("%s and %s both map to %s", reasons->values[j].name, v->name,
                         fb_err_name(err));
        seen[i] = err;
        /* The twins carry the same name: REASON_X <-> FB_ERR_X ("OK" for FB_OK). */
        char expected[64];
        snprintf(expected, sizeof expected, "REASON_%s", fb_err_name(err));
        assert_string_equal(v->name, expected);
    }
    assert_int_equal(fb_err_to_reason(FB_OK), FLUXBUS__V1__REASON_CODE__REASON_OK);
    assert_int_equal(fb_err_from_reason(FLUXBUS__V1__REASON_CODE__REASON_OK), FB_OK);
}

static void test_err_without_wire_twin_goes_out_as_malformed(void **state)
{
    const fb_err_t local[] = {FB_ERR_NOMEM, FB_ERR_INVALID,   FB_ERR_IO,        FB_ERR_PERM,
                              FB_ERR_PARSE, FB_ERR_TIMEOUT,   FB_ERR_TRANSPORT, FB_ERR_AUTH,
                              FB_ERR_STORE, FB_ERR_NOT_FOUND, FB_ERR_EXISTS,    FB_ERR_PROTOCOL,
                              (fb_err_t)-99};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
        assert_int_equal(fb_err_to_reason(local[i]), FLUXBUS__V1__REASON_CODE__REASON_MALFORMED);
}

static void test_err_from_unknown_reason_is_protocol(void **state)
{
    /* What a peer may put in a Nack: any int32, since proto3 enums are open. */
    const int unknown[] = {19, 99, 1000, -1, -2, -100};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        fb_err_t err = fb_err_from_reason(unknown[i]);
        if (err != FB_ERR_PROTOCOL)
            fail_msg("reason %d gave %s, expected PROTOCOL", unknown[i], fb_err_name(err));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_pack_unpack_round_trips),
        cmocka_unit_test(test_codec_unpack_over_cap_is_too_large_without_parsing),
        cmocka_unit_test(test_codec_unpack_garbage_is_malformed),
        cmocka_unit_test(test_codec_empty_input_is_a_default_message),
        cmocka_unit_test(test_codec_unpack_rejects_null_data_with_length),
        cmocka_unit_test(test_codec_unknown_fields_are_kept_and_packed_again),
        cmocka_unit_test(test_codec_refuses_field_number_zero),
        cmocka_unit_test(test_err_str_and_name_are_never_null),
        cmocka_unit_test(test_err_names_are_distinct),
        cmocka_unit_test(test_err_every_reason_code_maps_to_a_distinct_error_and_back),
        cmocka_unit_test(test_err_without_wire_twin_goes_out_as_malformed),
        cmocka_unit_test(test_err_from_unknown_reason_is_protocol),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
