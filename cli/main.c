/* main.c - the `fluxbus` command-line tool: the table of commands and the
 * top-level help. Each command lives in its own cmd_*.c; the helpers they
 * share are in common.c. Nothing else lives here. */
#include <string.h>

#include "common.h"

#ifndef FLUXBUS_VERSION
#define FLUXBUS_VERSION "unknown"
#endif

static const char s_help[] =
    "usage: fluxbus COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "Command-line tool of fluxbus, the signed message bus for social-housing\n"
    "allocation en flux: keys, the actor registry (local, on the broker host),\n"
    "sending and receiving messages, status, audit, retention and the ledger's\n"
    "reports.\n"
    "\n"
    "environment:\n"
    "  FLUXBUS_STORE       default --store (else fluxbus.db)\n"
    "  FLUXBUS_ENDPOINT    default --endpoint (else tcp://127.0.0.1:5770)\n"
    "  FLUXBUS_KEY         default --key (own secret key file)\n"
    "  FLUXBUS_BROKER_KEY  default --broker (the broker's public key file)\n";

static const char s_version_help[] = "usage: fluxbus version\n"
                                     "\n"
                                     "Prints the version of this tool and of the bus protocol.\n";

static int s_version(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_OPTION_HELP, {0}};
    int c;
    while ((c = common_getopt("version", argc, argv, opts)) != -1) {
        if (c == 'h')
            return common_help(s_version_help, 0);
        return EXIT_USAGE;
    }
    if (optind < argc)
        return common_fail("version", EXIT_USAGE, "takes no argument");
    printf("fluxbus %s (protocol %d)\n", FLUXBUS_VERSION, FB_PROTOCOL_VERSION);
    return EXIT_OK;
}

static const common_command_t s_commands[] = {
    {"keygen", cmd_keygen, "generate an actor's key pair files"},
    {"actor", cmd_actor, "administer the actor registry in the store (add, list, revoke...)"},
    {"send", cmd_send, "sign and send a JSON message, wait for the broker's receipt"},
    {"tail", cmd_tail, "receive, verify and acknowledge deliveries as JSON lines"},
    {"subscribe", cmd_subscribe, "take durable subscriptions to topics"},
    {"status", cmd_status, "messages stored and delivery backlog, from the store"},
    {"audit", cmd_audit, "export or verify the stored messages, receipts and audit chain"},
    {"retention", cmd_retention, "purge sealed household payloads past their retention"},
    {"report", cmd_report, "reports of the flux ledger (flux: décompte and fairness; bilan)"},
    {"ledger", cmd_ledger, "the flux ledger's tables (rebuild them from the stored messages)"},
    {"refdata", cmd_refdata, "import and list the dated reference data of the reports"},
    {"version", s_version, "print the version"},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0)
        return s_version(1, argv + 1);
    return common_dispatch(NULL, s_help, s_commands, argc, argv);
}
