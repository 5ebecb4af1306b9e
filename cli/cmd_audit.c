/* cmd_audit.c - `fluxbus audit export`: every stored message as a JSON line,
 * with the exact envelope bytes the sender signed, the receipt the broker
 * signed, its audit chain link and the sender's key as registered - what a
 * third party needs to check, without the broker, who sent what, that the
 * broker accepted it and that nothing was removed or reordered since.
 * `fluxbus audit verify`: the same checks, run on the store itself.
 *
 * Owns: the audit line format and the verdict line. Does not own: reading
 * the store (store_export) nor the checks (audit.c). Never overwrites an
 * output file, and removes it if the export fails, so an export file that
 * exists is complete. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "common.h"

static const char s_export_help[] =
    "usage: fluxbus audit export --store DB [--out FILE] [--broker FILE]\n"
    "\n"
    "Writes one JSON object per stored message, in store order:\n"
    "  {\"seq\":n, \"sender\":..., \"accepted_at_ms\":..., \"envelope_b64\":...,\n"
    "   \"receipt_b64\":..., \"chain_link_hex\":..., \"purged\":false,\n"
    "   \"sender_key\":{\"actor\", \"key_id\", \"public_key_hex\", \"valid_from_ms\",\n"
    "                 \"valid_until_ms\", \"revoked_at_ms\"}}\n"
    "envelope_b64: the exact envelope bytes as signed by the sender (once purged: its\n"
    "skeleton, without attachments); receipt_b64: the receipt envelope signed by the\n"
    "broker (both standard base64); chain_link_hex: the message's audit chain link\n"
    "(docs/PROTOCOL.md, \"Audit chain\"); purged: its attachments were dropped by the\n"
    "retention purge.\n"
    "\n"
    "options:\n"
    "  --out FILE        write to FILE (must not exist) instead of standard output\n"
    "  --broker FILE     the broker's public key file: adds a first line\n"
    "                    {\"fluxbus_audit\":1, \"broker_key\":{...}} naming the key\n"
    "                    that signed the receipts\n"
    "  -h, --help        this help\n";

typedef struct {
    FILE *out;
    bool failed;
} s_export_t;

static bool s_on_message(void *ctx, const store_record_t *r)
{
    s_export_t *x = ctx;
    json_t *line =
        json_pack("{s:I, s:s, s:I, s:o, s:o, s:o, s:b, s:o}", "seq", (json_int_t)r->seq, "sender",
                  r->sender, "accepted_at_ms", (json_int_t)r->accepted_at_ms, "envelope_b64",
                  fb_json_base64(r->envelope, r->envelope_len), "receipt_b64",
                  fb_json_base64(r->receipt, r->receipt_len), "chain_link_hex",
                  fb_json_hex(r->chain_link, r->chain_link_len), "purged", r->purged_at_ms != 0,
                  "sender_key", common_json_key(r->sender_key));
    x->failed = !common_print_json(x->out, line);
    return !x->failed;
}

/* The header line naming the broker key the receipts are signed with. */
static int s_write_header(FILE *out, const char *broker_file)
{
    fb_keys_t keys;
    int rc = common_load_keys("audit export", broker_file, &keys, false);
    if (rc != EXIT_OK)
        return rc;
    json_t *header = json_pack("{s:i, s:{s:s, s:s, s:o, s:o}}", "fluxbus_audit", 1, "broker_key",
                               "actor", keys.actor, "key_id", keys.key_id, "public_key_hex",
                               fb_json_hex(keys.sign_pk, FB_SIGN_PK_BYTES), "curve_public_hex",
                               fb_json_hex(keys.curve_pk, FB_CURVE_KEY_BYTES));
    fb_keys_wipe(&keys);
    return common_print_json(out, header) ? EXIT_OK
                                          : common_fail("audit export", EXIT_INPUT, "cannot write");
}

static int s_export(int argc, char **argv)
{
    static const struct option opts[] = {
        COMMON_OPTION_STORE,
        {"out", required_argument, NULL, 'o'},
        {"broker", required_argument, NULL, 'b'},
        COMMON_OPTION_HELP,
        {0},
    };
    const char *path = common_store_default(), *out_path = NULL, *broker = NULL;
    int c;
    while ((c = common_getopt("audit export", argc, argv, opts)) != -1) {
        switch (c) {
        case COMMON_OPT_STORE:
            path = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'b':
            broker = optarg;
            break;
        case 'h':
            return common_help(s_export_help, COMMON_HELP_STORE);
        default:
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return common_fail("audit export", EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);

    store_t *store = common_store_open("audit export", path, true);
    if (!store)
        return EXIT_STORE;
    s_export_t x = {.out = out_path ? fopen(out_path, "wx") : stdout};
    int rc = EXIT_OK;
    if (!x.out)
        rc = common_fail("audit export", EXIT_INPUT, "%s: %s", out_path,
                         errno == EEXIST ? "already exists (refusing to overwrite)"
                                         : strerror(errno));
    if (rc == EXIT_OK && broker)
        rc = s_write_header(x.out, broker);
    fb_err_t err = rc == EXIT_OK ? store_export(store, s_on_message, &x) : FB_OK;
    if (rc == EXIT_OK && err != FB_OK)
        rc = common_fail("audit export", common_exit_code(err), "%s: %s", path, fb_err_str(err));
    if (rc == EXIT_OK && x.failed)
        rc = common_fail("audit export", EXIT_INPUT, "%s: cannot write",
                         out_path ? out_path : "standard output");
    if (out_path && x.out && fclose(x.out) != 0 && rc == EXIT_OK)
        rc = common_fail("audit export", EXIT_INPUT, "%s: %s", out_path, strerror(errno));
    if (out_path && x.out && rc != EXIT_OK)
        unlink(out_path); /* no partial export left behind */
    store_destroy(&store);
    return rc;
}

static const char s_verify_help[] =
    "usage: fluxbus audit verify --store DB [--broker FILE]\n"
    "\n"
    "Checks the whole store as an auditor would, message by message in seq order,\n"
    "and stops at the first broken link: no message missing, every audit chain\n"
    "link recomputed (docs/PROTOCOL.md, \"Audit chain\"), every sender signature\n"
    "valid with the key the registry holds for it (purged messages as skeletons;\n"
    "a message the broker sent itself, such as DeadlineExpired, with the broker's\n"
    "key given by --broker), every receipt answering its message. Prints\n"
    "  ok: N messages, chain head <hex>\n"
    "or\n"
    "  broken at seq N: <why>\n"
    "on standard output. Keep the chain head: a later verify whose chain does not\n"
    "pass through it means messages were removed or changed since.\n"
    "\n"
    "options:\n"
    "  --broker FILE     the broker's public key file: also check that every receipt,\n"
    "                    and every message the broker sent itself, is signed by that\n"
    "                    key (--broker-key is the same option)\n"
    "  -h, --help        this help\n";

static int s_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        COMMON_OPTION_STORE,
        {"broker", required_argument, NULL, 'b'},
        {"broker-key", required_argument, NULL, 'b'},
        COMMON_OPTION_HELP,
        {0},
    };
    const char *path = common_store_default(), *broker_file = NULL;
    int c;
    while ((c = common_getopt("audit verify", argc, argv, opts)) != -1) {
        switch (c) {
        case COMMON_OPT_STORE:
            path = optarg;
            break;
        case 'b':
            broker_file = optarg;
            break;
        case 'h':
            return common_help(s_verify_help, COMMON_HELP_STORE);
        default:
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return common_fail("audit verify", EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);

    fb_keys_t broker;
    int rc = broker_file ? common_load_keys("audit verify", broker_file, &broker, false) : EXIT_OK;
    if (rc != EXIT_OK)
        return rc;
    store_t *store = common_store_open("audit verify", path, true);
    if (!store) {
        fb_keys_wipe(&broker);
        return EXIT_STORE;
    }
    audit_result_t result;
    fb_err_t err = audit_verify(store, broker_file ? &broker : NULL, &result);
    if (err != FB_OK) {
        rc = common_fail("audit verify", common_exit_code(err), "%s: %s", path, fb_err_str(err));
    } else if (result.broken_seq) {
        printf("broken at seq %llu: %s\n", (unsigned long long)result.broken_seq, result.why);
        rc = EXIT_INPUT;
    } else {
        char head[2 * FB_AUDIT_LINK_BYTES + 1];
        fb_hex_encode(result.head, sizeof result.head, head);
        printf("ok: %llu messages, chain head %s\n", (unsigned long long)result.messages, head);
        if (!broker_file && result.unchecked)
            common_note("audit verify",
                        "receipts' broker signatures and the signatures of the %llu messages the "
                        "broker sent itself not checked: give --broker broker.key.pub to check "
                        "them too",
                        (unsigned long long)result.unchecked);
        else if (!broker_file)
            common_note("audit verify", "receipts' broker signatures not checked: give --broker "
                                        "broker.key.pub to check them too");
    }
    store_destroy(&store);
    fb_keys_wipe(&broker);
    return rc;
}

static const common_command_t s_commands[] = {
    {"export", s_export, "stored messages, receipts, chain links and sender keys as JSON lines"},
    {"verify", s_verify, "check the audit chain, signatures and receipts of the whole store"},
    {NULL, NULL, NULL},
};

static const char s_help[] = "usage: fluxbus audit COMMAND --store DB [OPTIONS]\n"
                             "\n"
                             "Audit of the broker's store, read locally on the broker host.\n";

int cmd_audit(int argc, char **argv)
{
    return common_dispatch("audit", s_help, s_commands, argc, argv);
}
