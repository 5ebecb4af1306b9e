/* 09_audit_export_verifies - `fluxbus audit export` of a real store is
 * checked by tests/tools/verify_audit.mjs, a verifier written from
 * docs/PROTOCOL.md alone on Node's own Ed25519: every message signature and
 * every broker receipt verifies; one flipped character is caught. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x

static int s_run(const char *cmd)
{
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_audit_export_verifies_with_an_independent_ed25519(void **state)
{
    (void)state;
    if (s_run("command -v node >/dev/null 2>&1") != 0)
        skip(); /* scripts/setup-debian installs nodejs */
    fbt_broker_t b;
    fb_keys_t bailleur, resa, commune;
    fbt_setup(&b);
    fbt_actor(&b, "bailleur:552046955", "bailleur", NULL, &bailleur);
    fbt_actor(&b, "reservataire:action-logement", "reservataire", NULL, &resa);
    fbt_actor(&b, "commune:74010", "commune", "74010", &commune);
    fbt_start(&b);
    fb_client_t *cb = fbt_client(&b, &bailleur);
    fb_client_t *cc = fbt_client(&b, &commune);
    assert_int_equal(fb_client_subscribe(cc, "caleol/74010"), FB_OK);
    size_t len = 0;
    fb_receipt_t rec;
    for (int i = 0; i < 5; i++) {
        uint8_t *p = fbt_logement("vac-audit", "74010", &len);
        assert_int_equal(fbt_send(cb, T(LOGEMENT_LIBERE), resa.actor, NULL, p, len, &rec), FB_OK);
        fb_receipt_clear(&rec);
        free(p);
    }
    uint8_t *s = fbt_seance("seance-1", "74010", &len);
    assert_int_equal(fbt_send(cb, T(CALEOL_SEANCE), NULL, "caleol/74010", s, len, &rec), FB_OK);
    fb_receipt_clear(&rec);
    free(s);
    fb_client_destroy(&cb);
    fb_client_destroy(&cc);
    assert_int_equal(fbt_stop(&b, SIGTERM), 0);

    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "'%s' audit export --store '%s/bus.db' --broker '%s.pub' --out '%s/audit.jsonl'",
             FB_CLI_BIN, b.dir, b.key, b.dir);
    assert_int_equal(s_run(cmd), 0);
    snprintf(cmd, sizeof cmd, "node '%s/tests/tools/verify_audit.mjs' '%s/audit.jsonl' '%s.pub'",
             FB_SOURCE_DIR, b.dir, b.key);
    assert_int_equal(s_run(cmd), 0);

    /* Flip one base64 character of the first message's envelope. */
    snprintf(cmd, sizeof cmd,
             "sed '2s/\\(\"envelope_b64\":\"[A-Za-z0-9+\\/]\\{20\\}\\)A/\\1B/;"
             "2s/\\(\"envelope_b64\":\"[A-Za-z0-9+\\/]\\{20\\}\\)[^A\"]/\\1A/' '%s/audit.jsonl' > "
             "'%s/tampered.jsonl' && "
             "! cmp -s '%s/audit.jsonl' '%s/tampered.jsonl'",
             b.dir, b.dir, b.dir, b.dir);
    assert_int_equal(s_run(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "node '%s/tests/tools/verify_audit.mjs' '%s/tampered.jsonl' '%s.pub' >/dev/null 2>&1",
             FB_SOURCE_DIR, b.dir, b.key);
    assert_int_equal(s_run(cmd), 1);
    fbt_teardown(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audit_export_verifies_with_an_independent_ed25519),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
