/* cmd_tail.c - `fluxbus tail`: receives the deliveries of the connected
 * actor, prints each as one JSON line and acknowledges it.
 *
 * Owns: the receive loop, its stop conditions (--count, --idle, SIGINT and
 * SIGTERM) and the JSON line of a delivery, with the opened household of a
 * Designation sealed for the actor's encryption key. Does not own:
 * verification (fb_client_recv only returns deliveries verified end to end),
 * the JSON of a delivery with its household opened (fb_delivery_json).
 *
 * Invariant: a delivery is acknowledged only after its line was written and
 * flushed, so a delivery is never lost between the broker and stdout; it may
 * be printed twice if the tool dies between the two. */
#include <limits.h>
#include <signal.h>
#include <string.h>

#include "common.h"

/* Longest single wait, so a stop request is seen even without EINTR. */
#define S_POLL_MS 500

static const char s_help[] =
    "usage: fluxbus tail [--count N] [--idle MS] [--no-ack] [--raw | --brief]\n"
    "                    [connection options]\n"
    "\n"
    "Receives the messages delivered to the --key actor, verified end to end with\n"
    "the sender's key, and prints each as one JSON object per line:\n"
    "  {\"store_seq\":..., \"message_id\":hex, \"sender\":..., \"type\":name,\n"
    "   \"recipients\":[...], \"topics\":[...], \"correlation_id\":...,\n"
    "   \"created_at_ms\":..., \"payload\":{...}}\n"
    "with \"in_reply_to\" when set. A payload this tool cannot decode is given as\n"
    "\"payload\":null, \"payload_b64\" and \"payload_error\". A Designation whose\n"
    "household is sealed for the --key file's encryption key gets \"household\":{...}\n"
    "(opened with its secret), or \"household_error\" if it does not open. Each\n"
    "message is acknowledged once printed. Runs until SIGINT or SIGTERM unless told\n"
    "otherwise.\n"
    "\n"
    "options:\n"
    "  --count N         stop after N messages\n"
    "  --idle MS         stop after MS milliseconds without a message\n"
    "  --no-ack          do not acknowledge: the broker delivers them again later\n"
    "  --raw             add \"envelope_b64\": the exact signed envelope bytes (base64)\n"
    "  --brief           one human-readable line per delivery instead of JSON\n"
    "  -h, --help        this help\n";

static volatile sig_atomic_t s_stop = 0;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

/* SIGINT/SIGTERM ask for a clean stop; a second one kills (SA_RESETHAND). No
 * SA_RESTART, so the wait in the library wakes up at once. */
static void s_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

typedef enum { S_JSON, S_JSON_RAW, S_BRIEF } s_format_t;

/* "#12 LogementLibere from bailleur:552046955 on topic logements/74010 about vac-1" */
static int s_print_brief(const fb_delivery_t *d)
{
    const Fluxbus__V1__SignedBody *b = d->body;
    const fb_catalog_entry_t *entry = fb_catalog_by_type((int)b->type);
    printf("#%llu %s from %s", (unsigned long long)d->store_seq, entry ? entry->name : "?",
           b->sender);
    for (size_t i = 0; i < b->n_topics; i++)
        printf("%s%s", i ? "," : " on topic ", b->topics[i]);
    if (*b->correlation_id)
        printf(" about %s", b->correlation_id);
    printf(" (signature verified)\n");
    return fflush(stdout) == 0;
}

/* How to print and acknowledge deliveries. */
typedef struct {
    s_format_t format;
    bool no_ack;
    fb_keys_t keys; /* own keys, to open households sealed for them */
} s_output_t;

/* Prints a delivery, then acknowledges it unless no_ack. Returns EXIT_OK or
 * the exit code to stop with. */
static int s_handle(fb_client_t *client, const fb_delivery_t *d, const s_output_t *o)
{
    if (o->format == S_BRIEF) {
        if (!s_print_brief(d))
            return common_fail("tail", EXIT_INPUT, "cannot write the output; stopping");
        json_t *scratch = json_object();
        bool unopened = scratch && fb_delivery_json_household(scratch, d, &o->keys);
        json_decref(scratch);
        if (unopened) {
            common_note("tail", "store_seq=%llu: sealed household not opened; not acknowledged",
                        (unsigned long long)d->store_seq);
            return EXIT_OK;
        }
        fb_err_t err = o->no_ack ? FB_OK : fb_client_ack(client, d);
        return err == FB_OK ? EXIT_OK
                            : common_fail("tail", EXIT_UNREACHABLE, "cannot acknowledge: %s",
                                          fb_err_str(err));
    }
    bool unopened = false;
    json_t *line = fb_delivery_json(d, &o->keys, o->format == S_JSON_RAW, &unopened);
    if (!line) {
        common_note("tail", "store_seq=%llu: not printable as JSON (bad UTF-8?); not acknowledged",
                    (unsigned long long)d->store_seq);
        return EXIT_OK;
    }
    if (!common_print_json(stdout, line))
        return common_fail("tail", EXIT_INPUT, "cannot write the output; stopping");
    if (unopened) {
        common_note("tail",
                    "store_seq=%llu: its sealed household does not open with %s's encryption "
                    "key; not acknowledged (run tail with the key file it was sealed for)",
                    (unsigned long long)d->store_seq, o->keys.actor);
        return EXIT_OK;
    }
    fb_err_t err = o->no_ack ? FB_OK : fb_client_ack(client, d);
    if (err != FB_OK)
        return common_fail("tail", EXIT_UNREACHABLE, "store_seq=%llu: cannot acknowledge: %s",
                           (unsigned long long)d->store_seq, fb_err_str(err));
    return EXIT_OK;
}

/* Receives until `count` deliveries (0: no limit), `idle` ms without one
 * (0: no limit) or a signal. */
static int s_loop(fb_client_t *client, long long count, long long idle, const s_output_t *o)
{
    long long got = 0;
    int64_t last = fb_now_ms();
    while (!s_stop && (count == 0 || got < count)) {
        int64_t wait = S_POLL_MS;
        if (idle) {
            int64_t left = last + idle - fb_now_ms();
            if (left <= 0)
                break;
            wait = left < wait ? left : wait;
        }
        fb_delivery_t *d = NULL;
        fb_err_t err = fb_client_recv(client, &d, (int)wait);
        if (err == FB_OK) {
            int rc = s_handle(client, d, o);
            fb_delivery_destroy(&d);
            if (rc != EXIT_OK)
                return rc;
            got++;
            last = fb_now_ms();
        } else if (err == FB_ERR_TIMEOUT || (err == FB_ERR_TRANSPORT && s_stop)) {
            continue; /* nothing yet, or a signal interrupted the wait */
        } else if (common_exit_code(err) == EXIT_UNREACHABLE) {
            return common_fail("tail", EXIT_UNREACHABLE, "receive failed: %s", fb_err_str(err));
        } else {
            /* The library refused a delivery that did not verify; it stays unacknowledged. */
            common_note("tail", "a delivery was refused: %s (not acknowledged)", fb_err_str(err));
        }
    }
    return EXIT_OK;
}

int cmd_tail(int argc, char **argv)
{
    static const struct option opts[] = {
        {"count", required_argument, NULL, 'n'},
        {"idle", required_argument, NULL, 'i'},
        {"no-ack", no_argument, NULL, 'A'},
        {"raw", no_argument, NULL, 'r'},
        {"brief", no_argument, NULL, 'b'},
        COMMON_OPTIONS_BUS,
        COMMON_OPTION_HELP,
        {0},
    };
    common_bus_t bus;
    common_bus_init(&bus);
    long long count = 0, idle = 0;
    s_output_t out = {.format = S_JSON};
    int c;
    while ((c = common_getopt("tail", argc, argv, opts)) != -1) {
        switch (c) {
        case 'n':
            if (!common_parse_int("tail", "--count", optarg, 1, LLONG_MAX, &count))
                return EXIT_USAGE;
            break;
        case 'i':
            if (!common_parse_int("tail", "--idle", optarg, 1, INT_MAX, &idle))
                return EXIT_USAGE;
            break;
        case 'A':
            out.no_ack = true;
            break;
        case 'r':
            out.format = S_JSON_RAW;
            break;
        case 'b':
            out.format = S_BRIEF;
            break;
        case 'h':
            return common_help(s_help, COMMON_HELP_BUS);
        default:
            if (!common_bus_option(&bus, c, optarg))
                return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return common_fail("tail", EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);

    fb_client_t *client = NULL;
    int rc = common_connect("tail", &bus, &client);
    if (rc == EXIT_OK) /* read again: the client keeps its copy to itself */
        rc = common_load_keys("tail", bus.key, &out.keys, true);
    if (rc == EXIT_OK) {
        s_catch_signals();
        rc = s_loop(client, count, idle, &out);
    }
    /* Closing lingers until the acknowledgements are sent. */
    fb_client_destroy(&client);
    fb_keys_wipe(&out.keys);
    return rc;
}
