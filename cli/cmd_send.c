/* cmd_send.c - `fluxbus send`: reads one domain message as JSON, signs it
 * with the sender's key and sends it, then prints the broker's signed answer
 * as one line (accepted or refused).
 *
 * Owns: the command line of a send, the reading of the JSON file, and the
 * "household" member of a Designation: taken out of the JSON before the
 * generic mapping, sealed for the recipient's encryption key (fetched from
 * the broker) and attached, the Designation naming it. Does not own: the
 * JSON mapping (fb_json_*), the sealed box (fb_seal_*), signing and waiting
 * for the receipt (fb_client_send), or who may send what (the broker).
 * Everything that can be checked locally is checked before connecting. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static const char s_help[] =
    "usage: fluxbus send --type T (--to ACTOR | --topic TOPIC)... [--correlation ID]\n"
    "                    [--in-reply-to HEX32] [--message-id HEX32]\n"
    "                    [connection options] FILE.json\n"
    "\n"
    "Reads a message of type T as JSON from FILE.json (\"-\": standard input), signs it\n"
    "with --key, sends it and waits for the broker's signed answer. Prints one line:\n"
    "  accepted msg_id=<hex> seq=<n>[ duplicate]\n"
    "  refused msg_id=<hex> reason=<NAME> detail=\"...\"     (exit code 3)\n"
    "\n"
    "JSON form: field names as in the .proto (snake_case), enums by their full value\n"
    "name (\"TYPOLOGIE_T3\"), bytes in base64, nested messages as objects.\n"
    "\n"
    "A Designation may carry a \"household\" member: a HouseholdDetails (names,\n"
    "members, resources, contact, priority_grounds) for the one --to recipient. It\n"
    "is never sent in clear: fluxbus asks the broker for the recipient's encryption\n"
    "key, seals the household for it and attaches the box; the Designation carries\n"
    "only its digest and the key id (sealed_household_digest, sealed_for_key_id).\n"
    "\n"
    "options:\n"
    "  --type T          message type, e.g. LogementLibere or LOGEMENT_LIBERE (below)\n"
    "  --to ACTOR        a recipient; repeat for several\n"
    "  --topic TOPIC     a topic, e.g. logements/74010; repeat for several\n"
    "                    (at least one --to or --topic)\n"
    "  --correlation ID  the vacancy this is about (default: the JSON's vacancy_id)\n"
    "  --in-reply-to H   id of the message this one answers (32 hex digits)\n"
    "  --message-id H    message id to use (32 hex digits; default random). The\n"
    "                    broker never stores two messages with one id: resending\n"
    "                    with the same id cannot make a second copy\n"
    "  -h, --help        this help\n";

/* Options of one send; the lists point into argv. */
typedef struct {
    const fb_catalog_entry_t *entry;
    const char **to, **topics;
    size_t n_to, n_topics;
    const char *correlation;
    uint8_t in_reply_to[FB_MESSAGE_ID_BYTES], message_id[FB_MESSAGE_ID_BYTES];
    bool has_in_reply_to, has_message_id;
    const char *file;
    const char *name;            /* the file's name in messages */
    json_t *root;                /* the file's JSON (correlation may point into it) */
    ProtobufCMessage *msg;       /* the message read from the file */
    ProtobufCMessage *household; /* a Designation's "household", or NULL */
    fb_sealed_t sealed;          /* the household sealed, once connected */
} s_send_t;

static void s_print_types(void)
{
    size_t n = 0, col = 2;
    const fb_catalog_entry_t *all = fb_catalog_all(&n);
    fputs("\nmessage types:\n ", stdout);
    for (size_t i = 0; i < n; i++) {
        if (all[i].type >= FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_RECEIPT)
            continue;
        if (col + 1 + strlen(all[i].name) > 80) {
            fputs("\n ", stdout);
            col = 2;
        }
        col += (size_t)printf(" %s", all[i].name);
    }
    fputc('\n', stdout);
}

/* The domain message type named `name` (the bus's own types are not sent by hand). */
static const fb_catalog_entry_t *s_domain_type(const char *name)
{
    const fb_catalog_entry_t *e = fb_catalog_by_name(name);
    return e && e->type < FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_RECEIPT ? e : NULL;
}

static bool s_parse_id(const char *opt, const char *hex, uint8_t id[FB_MESSAGE_ID_BYTES])
{
    if (fb_hex_decode(hex, id, FB_MESSAGE_ID_BYTES) == FB_OK)
        return true;
    common_fail("send", EXIT_USAGE, "%s: \"%s\" is not 32 hex digits", opt, hex);
    return false;
}

/* Parses the command line into *s and *bus. */
static int s_parse(int argc, char **argv, s_send_t *s, common_bus_t *bus)
{
    static const struct option opts[] = {
        {"type", required_argument, NULL, 'T'},
        {"to", required_argument, NULL, 't'},
        {"topic", required_argument, NULL, 'p'},
        {"correlation", required_argument, NULL, 'c'},
        {"in-reply-to", required_argument, NULL, 'r'},
        {"message-id", required_argument, NULL, 'm'},
        COMMON_OPTIONS_BUS,
        COMMON_OPTION_HELP,
        {0},
    };
    const char *type = NULL;
    int c;
    while ((c = common_getopt("send", argc, argv, opts)) != -1) {
        switch (c) {
        case 'T':
            type = optarg;
            break;
        case 't':
            s->to[s->n_to++] = optarg;
            break;
        case 'p':
            s->topics[s->n_topics++] = optarg;
            break;
        case 'c':
            s->correlation = optarg;
            break;
        case 'r':
            if (!(s->has_in_reply_to = s_parse_id("--in-reply-to", optarg, s->in_reply_to)))
                return EXIT_USAGE;
            break;
        case 'm':
            if (!(s->has_message_id = s_parse_id("--message-id", optarg, s->message_id)))
                return EXIT_USAGE;
            break;
        case 'h':
            fputs(s_help, stdout);
            s_print_types();
            return common_help("", COMMON_HELP_BUS);
        default:
            if (!common_bus_option(bus, c, optarg))
                return EXIT_USAGE;
        }
    }
    if (!type)
        return common_fail("send", EXIT_USAGE, "missing --type (see fluxbus send --help)");
    if (!(s->entry = s_domain_type(type)))
        return common_fail("send", EXIT_USAGE,
                           "--type: unknown message type \"%s\" (see fluxbus send --help)", type);
    if (s->n_to + s->n_topics == 0)
        return common_fail("send", EXIT_USAGE, "give at least one --to ACTOR or --topic TOPIC");
    if (optind + 1 != argc)
        return common_fail("send", EXIT_USAGE, "needs exactly one FILE.json (or - for stdin)");
    s->file = argv[optind];
    return EXIT_OK;
}

/* Takes the "household" member out of a Designation's JSON and reads it as
 * a HouseholdDetails into s->household; checks that it can be sealed: one
 * recipient, no topic, and no sealed_* field set by hand. */
static int s_take_household(s_send_t *s, json_t *root)
{
    json_t *household = json_object_get(root, "household");
    if (s->entry->type != FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_DESIGNATION || !household)
        return EXIT_OK; /* elsewhere "household" stays, and is an unknown field */
    if (s->n_to != 1 || s->n_topics)
        return common_fail("send", EXIT_USAGE,
                           "%s: a household is sealed for one recipient: give exactly one --to "
                           "and no --topic",
                           s->name);
    if (json_object_get(root, "sealed_household_digest") ||
        json_object_get(root, "sealed_for_key_id"))
        return common_fail("send", EXIT_INPUT,
                           "%s: sealed_household_digest and sealed_for_key_id are set by fluxbus "
                           "send from \"household\"; leave them out",
                           s->name);
    char why[512];
    fb_err_t err = fb_json_to_message(&fluxbus__v1__household_details__descriptor, household,
                                      &s->household, why, sizeof why);
    if (err != FB_OK)
        return common_fail("send", EXIT_INPUT, "%s: household: %s", s->name,
                           err == FB_ERR_PARSE ? why : fb_err_str(err));
    json_object_del(root, "household");
    return EXIT_OK;
}

/* Reads s->file as JSON into s->root, s->msg (and s->household). */
static int s_read_message(s_send_t *s)
{
    bool is_stdin = strcmp(s->file, "-") == 0;
    s->name = is_stdin ? "<stdin>" : s->file;
    FILE *f = is_stdin ? stdin : fopen(s->file, "r");
    if (!f)
        return common_fail("send", EXIT_INPUT, "%s: %s", s->name, strerror(errno));
    json_error_t jerr;
    json_t *root = s->root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    if (!is_stdin)
        fclose(f);
    if (!root)
        return common_fail("send", EXIT_INPUT, "%s:%d:%d: %s", s->name, jerr.line, jerr.column,
                           jerr.text);

    char why[512];
    int rc = s_take_household(s, root);
    fb_err_t err =
        rc == EXIT_OK ? fb_json_to_message(s->entry->desc, root, &s->msg, why, sizeof why) : FB_OK;
    if (err != FB_OK)
        rc = common_fail("send", EXIT_INPUT, "%s: %s", s->name,
                         err == FB_ERR_PARSE ? why : fb_err_str(err));
    /* By convention the correlation id of a vacancy's messages is its vacancy_id. */
    const char *vacancy = json_string_value(json_object_get(root, "vacancy_id"));
    if (rc == EXIT_OK && !s->correlation && vacancy && *vacancy)
        s->correlation = vacancy;
    return rc;
}

/* Asks the broker for the recipient's encryption key and seals the
 * household for it into s->sealed. */
static int s_seal_household(s_send_t *s, fb_client_t *client)
{
    uint8_t pk[FB_ENC_KEY_BYTES];
    char key_id[FB_KEY_ID_CHARS + 1];
    fb_err_t err = fb_client_encryption_key(client, s->to[0], pk, key_id, 0);
    if (err == FB_ERR_UNKNOWN_RECIPIENT || err == FB_ERR_UNKNOWN_KEY)
        return common_fail("send", EXIT_REFUSED,
                           "cannot seal the household: the broker has no encryption key for %s "
                           "(%s)",
                           s->to[0], fb_err_name(err));
    if (err != FB_OK)
        return common_fail("send", common_exit_code(err),
                           "cannot seal the household: no certified encryption key for %s: %s",
                           s->to[0], fb_err_str(err));
    err = fb_seal_household((Fluxbus__V1__HouseholdDetails *)s->household, pk, &s->sealed);
    if (err != FB_OK)
        return common_fail("send", EXIT_INPUT, "cannot seal the household: %s", fb_err_str(err));
    common_note("send", "household sealed for %s encrypt_key_id=%s", s->to[0], key_id);
    return EXIT_OK;
}

/* Packs s->msg as the payload (caller frees *payload); a Designation whose
 * household was sealed names it for the time of packing. */
static int s_pack(s_send_t *s, uint8_t **payload, size_t *len)
{
    Fluxbus__V1__Designation *d = s->sealed.box ? (Fluxbus__V1__Designation *)s->msg : NULL;
    Fluxbus__V1__Designation saved;
    if (d) {
        saved = *d;
        fb_sealed_bind(&s->sealed, d);
    }
    fb_err_t err = fb_codec_pack(s->msg, payload, len);
    if (d) { /* the fields point into s->sealed: give the message its own back */
        d->sealed_household_digest = saved.sealed_household_digest;
        d->sealed_for_key_id = saved.sealed_for_key_id;
    }
    if (err != FB_OK)
        return common_fail("send", EXIT_INPUT, "%s: cannot encode: %s", s->name, fb_err_str(err));
    return EXIT_OK;
}

/* Prints the broker's answer (or its absence) and returns the exit code. */
static int s_report(const s_send_t *s, const char *endpoint, fb_err_t err,
                    const fb_receipt_t *receipt)
{
    char id[2 * FB_MESSAGE_ID_BYTES + 1];
    fb_hex_encode(receipt->message_id, FB_MESSAGE_ID_BYTES, id);
    if (err == FB_OK && receipt->accepted) {
        printf("accepted msg_id=%s seq=%llu%s\n", id, (unsigned long long)receipt->store_seq,
               receipt->duplicate ? " duplicate" : "");
        return EXIT_OK;
    }
    if (!receipt->accepted && receipt->reason != FB_OK) {
        /* json_dumps quotes the detail as a JSON string: escapes included. */
        json_t *detail = json_string(receipt->detail);
        char *quoted = detail ? json_dumps(detail, JSON_ENCODE_ANY) : NULL;
        printf("refused msg_id=%s reason=%s detail=%s\n", id, fb_err_name(receipt->reason),
               quoted ? quoted : "\"\"");
        free(quoted);
        json_decref(detail);
        if (receipt->reason == FB_ERR_CONFLICT && s->has_message_id)
            common_note("send",
                        "a message with id %s was accepted before with other bytes (a "
                        "resend is signed anew: new sequence and time)",
                        id);
        return EXIT_REFUSED;
    }
    if (common_exit_code(err) == EXIT_UNREACHABLE)
        return common_fail("send", EXIT_UNREACHABLE,
                           "%s: no answer (%s): msg_id=%s may or may not be stored; resending "
                           "with --message-id %s cannot store it twice",
                           endpoint, fb_err_str(err), id, id);
    return common_fail("send", common_exit_code(err), "msg_id=%s: %s", id, fb_err_str(err));
}

int cmd_send(int argc, char **argv)
{
    s_send_t s = {.to = calloc((size_t)argc, sizeof(char *)),
                  .topics = calloc((size_t)argc, sizeof(char *))};
    common_bus_t bus;
    common_bus_init(&bus);
    uint8_t *payload = NULL;
    size_t len = 0;
    fb_client_t *client = NULL;
    int rc = s.to && s.topics ? s_parse(argc, argv, &s, &bus) : EXIT_INPUT;
    /* After --help, s_parse returns EXIT_OK with no file. */
    if (rc == EXIT_OK && s.file)
        rc = s_read_message(&s);
    if (rc == EXIT_OK && s.file)
        rc = common_connect("send", &bus, &client);
    if (rc == EXIT_OK && client && s.household)
        rc = s_seal_household(&s, client);
    if (rc == EXIT_OK && client)
        rc = s_pack(&s, &payload, &len);
    if (rc == EXIT_OK && client) {
        const ProtobufCBinaryData box = {s.sealed.box_len, s.sealed.box};
        fb_outgoing_t out = {
            .type = s.entry->type,
            .recipients = s.to,
            .n_recipients = s.n_to,
            .topics = s.topics,
            .n_topics = s.n_topics,
            .correlation_id = s.correlation,
            .in_reply_to = s.has_in_reply_to ? s.in_reply_to : NULL,
            .payload = payload,
            .payload_len = len,
            .message_id = s.has_message_id ? s.message_id : NULL,
            .attachments = s.sealed.box ? &box : NULL,
            .n_attachments = s.sealed.box ? 1 : 0,
        };
        fb_receipt_t receipt;
        fb_err_t err = fb_client_send(client, &out, &receipt);
        rc = s_report(&s, bus.endpoint, err, &receipt);
        fb_receipt_clear(&receipt);
    }
    fb_client_destroy(&client);
    free(payload);
    json_decref(s.root);
    fb_sealed_clear(&s.sealed);
    fb_json_free_message(s.household);
    fb_json_free_message(s.msg);
    free(s.to);
    free(s.topics);
    return rc;
}
