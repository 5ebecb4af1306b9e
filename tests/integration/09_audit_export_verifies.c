/* 09_audit_export_verifies - `fluxbus audit export` of a real store is
 * checked by tests/tools/verify_audit.mjs, a verifier written from
 * docs/PROTOCOL.md alone on Node's own Ed25519 and a plain-JavaScript
 * BLAKE2b: every message signature, every broker receipt and the audit chain
 * verify, up to the chain head `fluxbus audit verify` prints for the store,
 * across a broker restart.
 * Tampering is reported at the message where the chain breaks: in the export
 * a flipped envelope character, a receipt swapped for another genuine one, a
 * deleted line, two lines swapped, a swapped receipt with every later link
 * recomputed; in the store itself one changed envelope byte or a deleted
 * row. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#define T(x) FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_##x
#define S_MESSAGES 6
#define S_LINES (S_MESSAGES + 1) /* the header line, then seq 1 to 6 */
#define S_LINE_MAX 8192

static const int s_all[S_LINES] = {0, 1, 2, 3, 4, 5, 6}; /* every line, in order */

/* One store with six messages, stopped, and its export (made once). */
typedef struct {
    fbt_broker_t b;
    char export_path[600];
    char lines[S_LINES][S_LINE_MAX];
} s_world_t;

static int s_has_node(void)
{
    return fbt_sh(NULL, 0, "command -v node >/dev/null 2>&1") == 0;
}

static int s_setup(void **state)
{
    s_world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    fb_keys_t bailleur, resa, commune;
    fbt_setup(&w->b);
    fbt_actor(&w->b, "bailleur:552046955", "bailleur", NULL, &bailleur);
    fbt_actor(&w->b, "reservataire:action-logement", "reservataire", NULL, &resa);
    fbt_actor(&w->b, "commune:74010", "commune", "74010", &commune);
    fbt_start(&w->b);
    fb_client_t *cb = fbt_client(&w->b, &bailleur);
    fb_client_t *cc = fbt_client(&w->b, &commune);
    assert_int_equal(fb_client_subscribe(cc, "caleol/74010"), FB_OK);
    size_t len = 0;
    fb_receipt_t rec;
    for (int i = 0; i < S_MESSAGES - 1; i++) {
        if (i == 3) { /* the chain goes on across a restart: the head comes from the store */
            fb_client_destroy(&cb);
            fb_client_destroy(&cc);
            assert_int_equal(fbt_stop(&w->b, SIGTERM), 0);
            fbt_start(&w->b);
            cb = fbt_client(&w->b, &bailleur);
            cc = fbt_client(&w->b, &commune);
        }
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
    assert_int_equal(fbt_stop(&w->b, SIGTERM), 0);

    snprintf(w->export_path, sizeof w->export_path, "%s/audit.jsonl", w->b.dir);
    assert_int_equal(fbt_sh(NULL, 0, "'%s' audit export --store '%s' --broker '%s.pub' --out '%s'",
                            FB_CLI_BIN, w->b.store, w->b.key, w->export_path),
                     0);
    FILE *f = fopen(w->export_path, "r");
    assert_non_null(f);
    for (int i = 0; i < S_LINES; i++)
        assert_non_null(fgets(w->lines[i], S_LINE_MAX, f));
    char more[8];
    assert_null(fgets(more, sizeof more, f)); /* nothing more */
    fclose(f);
    *state = w;
    return 0;
}

static int s_teardown(void **state)
{
    s_world_t *w = *state;
    fbt_teardown(&w->b);
    free(w);
    return 0;
}

/* Writes lines[order[0]], lines[order[1]], ... to DIR/name; returns the path. */
static const char *s_write(s_world_t *w, const char *name, char lines[][S_LINE_MAX],
                           const int *order, int n)
{
    static char path[700];
    snprintf(path, sizeof path, "%s/%s", w->b.dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < n; i++)
        fputs(lines[order[i]], f);
    fclose(f);
    return path;
}

/* Runs the independent verifier on `path`; returns its exit status and its
 * output in out. */
static int s_node_verify(s_world_t *w, const char *path, char *out, size_t cap)
{
    return fbt_sh(out, cap, "node '%s/tests/tools/verify_audit.mjs' '%s' '%s.pub'", FB_SOURCE_DIR,
                  path, w->b.key);
}

/* The verifier refuses `path` and names `where` (e.g. "line 4: broken at seq 3:"). */
static void s_expect_export_broken(s_world_t *w, const char *path, const char *where)
{
    char out[2048];
    assert_int_equal(s_node_verify(w, path, out, sizeof out), 1);
    if (!strstr(out, where))
        fail_msg("expected \"%s\", verifier said: %s", where, out);
}

/* The JSON line of seq `seq` with `member` set to the string `value`. */
static void s_set_member(char line[S_LINE_MAX], const char *member, const char *value)
{
    json_t *obj = json_loads(line, 0, NULL);
    assert_non_null(obj);
    assert_int_equal(json_object_set_new(obj, member, json_string(value)), 0);
    char *text = json_dumps(obj, JSON_COMPACT);
    assert_non_null(text);
    assert_true(strlen(text) + 2 < S_LINE_MAX);
    snprintf(line, S_LINE_MAX, "%s\n", text);
    free(text);
    json_decref(obj);
}

static const char *s_member(json_t *obj, const char *member)
{
    const char *v = json_string_value(json_object_get(obj, member));
    assert_non_null(v);
    return v;
}

/* The example of use: the export verifies independently, and its chain
 * ends at the head `fluxbus audit verify` computes from the store. */
static void test_audit_export_verifies_with_an_independent_ed25519(void **state)
{
    s_world_t *w = *state;
    if (!s_has_node())
        skip(); /* scripts/setup-debian installs nodejs */
    char node_out[1024], cli_out[1024];
    assert_int_equal(s_node_verify(w, w->export_path, node_out, sizeof node_out), 0);
    assert_int_equal(fbt_sh(cli_out, sizeof cli_out,
                            "'%s' audit verify --store '%s' --broker '%s.pub'", FB_CLI_BIN,
                            w->b.store, w->b.key),
                     0);
    const char *node_head = strstr(node_out, "verified 6 messages, chain head ");
    const char *cli_head = strstr(cli_out, "ok: 6 messages, chain head ");
    assert_non_null(node_head);
    assert_non_null(cli_head);
    node_head += strlen("verified 6 messages, chain head ");
    cli_head += strlen("ok: 6 messages, chain head ");
    assert_int_equal(strspn(cli_head, "0123456789abcdef"), 64);
    assert_memory_equal(node_head, cli_head, 64);
    /* ... and it is the last line's chain_link_hex. */
    json_t *last = json_loads(w->lines[S_LINES - 1], 0, NULL);
    assert_non_null(last);
    assert_memory_equal(s_member(last, "chain_link_hex"), cli_head, 64);
    assert_true(json_is_false(json_object_get(last, "purged")));
    json_decref(last);

    /* Flip one base64 character of the first message's envelope. */
    char tampered[S_LINES][S_LINE_MAX];
    memcpy(tampered, w->lines, sizeof tampered);
    char *b64 = strstr(tampered[1], "\"envelope_b64\":\"");
    assert_non_null(b64);
    b64 += strlen("\"envelope_b64\":\"") + 20;
    *b64 = *b64 == 'A' ? 'B' : 'A';
    s_expect_export_broken(w, s_write(w, "flipped.jsonl", tampered, s_all, S_LINES),
                           "line 2: broken at seq 1:");
}

/* A receipt swapped for another genuine one, a deleted line and two lines
 * swapped are each reported at the first message whose link breaks. */
static void test_audit_export_tampering_is_reported_at_its_seq(void **state)
{
    s_world_t *w = *state;
    if (!s_has_node())
        skip();
    char tampered[S_LINES][S_LINE_MAX];

    /* seq 3 (line 4) gets the broker-signed receipt of seq 2. */
    memcpy(tampered, w->lines, sizeof tampered);
    json_t *seq2 = json_loads(w->lines[2], 0, NULL);
    assert_non_null(seq2);
    s_set_member(tampered[3], "receipt_b64", s_member(seq2, "receipt_b64"));
    json_decref(seq2);
    s_expect_export_broken(w, s_write(w, "receipt.jsonl", tampered, s_all, S_LINES),
                           "line 4: broken at seq 3: chain link");

    /* seq 3 deleted: seq 4 follows seq 2. */
    static const int deleted[] = {0, 1, 2, 4, 5, 6};
    s_expect_export_broken(w, s_write(w, "deleted.jsonl", w->lines, deleted, 6),
                           "line 4: broken at seq 4: follows seq 2");

    /* seq 3 and 4 swapped: seq 4 comes right after seq 2. */
    static const int swapped[] = {0, 1, 2, 4, 3, 5, 6};
    s_expect_export_broken(w, s_write(w, "swapped.jsonl", w->lines, swapped, S_LINES),
                           "line 4: broken at seq 4: follows seq 2");
}

/* Recomputing every link after a swapped receipt makes a consistent chain,
 * but not the same head, and the receipt no longer answers its message. */
static void test_audit_export_relinked_chain_still_fails_on_the_receipt(void **state)
{
    s_world_t *w = *state;
    if (!s_has_node())
        skip();
    char tampered[S_LINES][S_LINE_MAX];
    memcpy(tampered, w->lines, sizeof tampered);
    json_t *seq2 = json_loads(w->lines[2], 0, NULL);
    assert_non_null(seq2);
    s_set_member(tampered[3], "receipt_b64", s_member(seq2, "receipt_b64"));
    json_decref(seq2);
    uint8_t link[FB_AUDIT_LINK_BYTES] = {0};
    for (int i = 1; i < S_LINES; i++) {
        json_t *rec = json_loads(tampered[i], 0, NULL);
        assert_non_null(rec);
        size_t env_len = 0, rec_len = 0;
        const char *env_b64 = s_member(rec, "envelope_b64"),
                   *rec_b64 = s_member(rec, "receipt_b64");
        uint8_t env[S_LINE_MAX], receipt[S_LINE_MAX];
        assert_int_equal(sodium_base642bin(env, sizeof env, env_b64, strlen(env_b64), NULL,
                                           &env_len, NULL, sodium_base64_VARIANT_ORIGINAL),
                         0);
        assert_int_equal(sodium_base642bin(receipt, sizeof receipt, rec_b64, strlen(rec_b64), NULL,
                                           &rec_len, NULL, sodium_base64_VARIANT_ORIGINAL),
                         0);
        assert_int_equal(
            fb_audit_chain_link_envelope(link, (uint64_t)i, env, env_len, receipt, rec_len, link),
            FB_OK);
        char hex[2 * FB_AUDIT_LINK_BYTES + 1];
        fb_hex_encode(link, sizeof link, hex);
        json_decref(rec);
        s_set_member(tampered[i], "chain_link_hex", hex);
    }
    const char *path = s_write(w, "relinked.jsonl", tampered, s_all, S_LINES);
    /* Without the broker key only the chain is checked, and it holds... */
    char out[2048];
    assert_int_equal(
        fbt_sh(out, sizeof out, "node '%s/tests/tools/verify_audit.mjs' '%s'", FB_SOURCE_DIR, path),
        0);
    char *last_link = strstr(w->lines[S_LINES - 1], "\"chain_link_hex\":\"");
    assert_non_null(last_link);
    last_link += strlen("\"chain_link_hex\":\"");
    /* ...to another head than the store's, */
    const char *head = strstr(out, "chain head ");
    assert_non_null(head);
    assert_true(strncmp(head + strlen("chain head "), last_link, 64) != 0);
    /* and with it the receipt is caught. */
    s_expect_export_broken(w, path, "line 4: broken at seq 3: receipt in_reply_to");
}

/* `fluxbus audit verify` on the store itself: intact, then one envelope byte
 * changed with sqlite3, then one row deleted. */
static void test_audit_verify_reports_a_tampered_store_at_its_seq(void **state)
{
    s_world_t *w = *state;
    char out[2048];
    assert_int_equal(fbt_sh(NULL, 0, "command -v sqlite3 >/dev/null"), 0); /* setup-debian */
    assert_int_equal(
        fbt_sh(out, sizeof out, "'%s' audit verify --store '%s'", FB_CLI_BIN, w->b.store), 0);
    assert_non_null(strstr(out, "ok: 6 messages, chain head "));

    /* Byte 20 of seq 4's envelope is inside its signed body. */
    assert_int_equal(
        fbt_sh(NULL, 0,
               "sqlite3 '%s' \".backup '%s/byte.db'\" && sqlite3 '%s/byte.db' \"UPDATE messages"
               " SET envelope = CAST(substr(envelope, 1, 19) || CASE WHEN substr(envelope, 20, 1)"
               " = X'00' THEN X'01' ELSE X'00' END || substr(envelope, 21) AS BLOB)"
               " WHERE seq = 4\"",
               w->b.store, w->b.dir, w->b.dir),
        0);
    assert_int_equal(fbt_sh(out, sizeof out,
                            "'%s' audit verify --store '%s/byte.db' --broker '%s.pub'", FB_CLI_BIN,
                            w->b.dir, w->b.key),
                     2);
    if (!strstr(out, "broken at seq 4: chain link does not match"))
        fail_msg("audit verify said: %s", out);

    assert_int_equal(fbt_sh(NULL, 0,
                            "sqlite3 '%s' \".backup '%s/row.db'\" && sqlite3 '%s/row.db'"
                            " \"DELETE FROM deliveries WHERE seq = 2; DELETE FROM messages"
                            " WHERE seq = 2\"",
                            w->b.store, w->b.dir, w->b.dir),
                     0);
    assert_int_equal(
        fbt_sh(out, sizeof out, "'%s' audit verify --store '%s/row.db'", FB_CLI_BIN, w->b.dir), 2);
    if (!strstr(out, "broken at seq 3: follows seq 1: message 2 is missing"))
        fail_msg("audit verify said: %s", out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audit_export_verifies_with_an_independent_ed25519),
        cmocka_unit_test(test_audit_export_tampering_is_reported_at_its_seq),
        cmocka_unit_test(test_audit_export_relinked_chain_still_fails_on_the_receipt),
        cmocka_unit_test(test_audit_verify_reports_a_tampered_store_at_its_seq),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
