/* 16_tail_keeps_unopened_households - a household is never lost to a key
 * rotation. The bailleur rotates its keys with an overlap; a réservataire
 * seals a household for the old encryption key (still valid). `fluxbus tail`
 * run with the new key file cannot open it: it prints "household_error" and
 * does not acknowledge the delivery. Run with the old key file, tail opens it
 * and acknowledges it, and nothing is left. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/seal.h"
#include "fluxbus/v1/designation.pb-c.h"

#define T_DESIGNATION FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_DESIGNATION
#define S_NUR "074011926000077"
#define S_NAME "Berenice-Oyelaran"

static void s_vacancy(Fluxbus__V1__SignedBody *body, void *ctx)
{
    body->type = T_DESIGNATION;
    body->correlation_id = "vac-rotation";
}

/* Runs `fluxbus tail` once for the bailleur with key file `key` into `out`. */
static void s_tail(fbt_pair_t *w, const char *key, const char *out)
{
    assert_int_equal(fbt_run("'%s' tail --endpoint '%s' --key '%s' --broker '%s.pub' "
                             "--count 1 --idle 1500 > '%s' 2>> '%s/tail.err'",
                             FB_CLI_BIN, w->b.endpoint, key, w->b.key, out, w->b.dir),
                     0);
}

static char *s_read(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_household_for_the_old_key_waits_for_the_old_key_file(void **state)
{
    fbt_pair_t w;
    fbt_pair_open(&w);
    char old_key[600], new_key[600], out[600];
    snprintf(old_key, sizeof old_key, "%s/bailleur-old.key", w.b.dir);
    snprintf(new_key, sizeof new_key, "%s/bailleur-new.key", w.b.dir);
    snprintf(out, sizeof out, "%s/tail.jsonl", w.b.dir);
    assert_int_equal(fb_keys_save(&w.bailleur, old_key), FB_OK);
    assert_int_equal(fbt_run("'%s' keygen --actor %s --out '%s' --rotate '%s' >/dev/null 2>&1",
                             FB_CLI_BIN, FBT_BAILLEUR, new_key, old_key),
                     0);
    assert_int_equal(fbt_run("'%s' actor key-add --store '%s' --id %s --key '%s.pub' --overlap 1d "
                             "2>/dev/null",
                             FB_CLI_BIN, w.b.store, FBT_BAILLEUR, new_key),
                     0);
    fbt_convention(w.cb, FBT_CONV, FBT_RESA, w.cr);
    fbt_orient(w.cb, FBT_RESA, "vac-rotation", 1, w.cr);
    fb_client_destroy(&w.cb); /* the bailleur reads with the CLI from now on */

    /* Sealed for the old key, which the overlap keeps valid. */
    Fluxbus__V1__HouseholdDetails hh = FLUXBUS__V1__HOUSEHOLD_DETAILS__INIT;
    hh.nur = S_NUR;
    hh.notes = S_NAME;
    fb_sealed_t sealed;
    assert_int_equal(fb_seal_household(&hh, w.bailleur.enc_pk, &sealed), FB_OK);
    Fluxbus__V1__Designation d = FLUXBUS__V1__DESIGNATION__INIT;
    d.vacancy_id = "vac-rotation";
    d.nur = S_NUR;
    d.rank = 1;
    d.candidate_count = 1;
    fb_sealed_bind(&sealed, &d);
    uint8_t *payload = NULL;
    size_t plen = 0, len = 0;
    assert_int_equal(fb_codec_pack(&d.base, &payload, &plen), FB_OK);
    ProtobufCBinaryData box = {sealed.box_len, sealed.box};
    uint8_t id[FB_MESSAGE_ID_BYTES];
    uint8_t *env = fbt_forge_attached(&w.resa, FBT_BAILLEUR, payload, plen, &box, 1, s_vacancy,
                                      NULL, &len, id);
    fb_receipt_t rec;
    assert_int_equal(fb_client_send_raw(w.cr, env, len, id, &rec), FB_OK);
    fb_receipt_clear(&rec);
    free(env);
    free(payload);
    fb_sealed_clear(&sealed);

    /* The new key file cannot open it: an error is shown, nothing acked. */
    s_tail(&w, new_key, out);
    const char *line = s_read(out);
    assert_non_null(strstr(line, "\"household_error\""));
    assert_null(strstr(line, S_NAME));
    /* So it comes again, and the old key file opens it. */
    s_tail(&w, old_key, out);
    line = s_read(out);
    assert_non_null(strstr(line, "\"household\""));
    assert_non_null(strstr(line, S_NAME));
    /* Acknowledged this time: nothing more for the bailleur. */
    s_tail(&w, old_key, out);
    assert_string_equal(s_read(out), "");
    fbt_pair_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_household_for_the_old_key_waits_for_the_old_key_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
