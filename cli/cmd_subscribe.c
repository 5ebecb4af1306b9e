/* cmd_subscribe.c - `fluxbus subscribe`: asks the broker for durable
 * subscriptions of the connected actor to topics ("caleol/<INSEE>",
 * "logements/<INSEE>"), one answer line per topic.
 *
 * Owns only the command line; whether a subscription is allowed is the
 * broker's decision (router_may_subscribe), kept in its store. */
#include "common.h"

static const char s_help[] =
    "usage: fluxbus subscribe [connection options] TOPIC...\n"
    "\n"
    "Takes a durable subscription for the --key actor to each TOPIC: messages\n"
    "published on it are then queued for the actor (see fluxbus tail), also while\n"
    "it is offline. Topics: caleol/<INSEE> (CALEOL calendars) and\n"
    "logements/<INSEE> (freed dwellings), for the INSEE codes of the actor's\n"
    "territory. Prints one line per topic:\n"
    "  ok topic=<TOPIC>\n"
    "  refused topic=<TOPIC> reason=<NAME>      (exit code 3; --verbose: detail)\n"
    "\n"
    "options:\n"
    "  -h, --help        this help\n";

int cmd_subscribe(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_OPTIONS_BUS, COMMON_OPTION_HELP, {0}};
    common_bus_t bus;
    common_bus_init(&bus);
    int c;
    while ((c = common_getopt("subscribe", argc, argv, opts)) != -1) {
        if (c == 'h')
            return common_help(s_help, COMMON_HELP_BUS);
        if (!common_bus_option(&bus, c, optarg))
            return EXIT_USAGE;
    }
    if (optind >= argc)
        return common_fail("subscribe", EXIT_USAGE, "needs at least one TOPIC");

    fb_client_t *client = NULL;
    int rc = common_connect("subscribe", &bus, &client);
    for (int i = optind; rc != EXIT_UNREACHABLE && client && i < argc; i++) {
        fb_err_t err = fb_client_subscribe(client, argv[i]);
        if (err == FB_OK) {
            printf("ok topic=%s\n", argv[i]);
        } else if (common_exit_code(err) == EXIT_UNREACHABLE) {
            rc = common_fail("subscribe", EXIT_UNREACHABLE, "%s: no answer: %s", argv[i],
                             fb_err_str(err));
        } else {
            printf("refused topic=%s reason=%s\n", argv[i], fb_err_name(err));
            rc = EXIT_REFUSED;
        }
    }
    fb_client_destroy(&client);
    return rc;
}
