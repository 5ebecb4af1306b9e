/* cmd_ledger.c - `fluxbus ledger rebuild`: the flux ledger of a store made
 * again from its messages, after an upgrade that changed the ledger's tables.
 *
 * Owns: the command line, the lock (the broker must be stopped) and the
 * summary line. Does not own: the rebuild itself (broker/rebuild.c). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "ledger.h"
#include "rebuild.h"
#include "storelock.h"

static const char s_rebuild_help[] =
    "usage: fluxbus ledger rebuild --store DB\n"
    "\n"
    "Drops the flux ledger's tables of the store and records every stored\n"
    "message again, in store order, as the broker recorded it when it accepted\n"
    "it, in one transaction: what an upgrade of fluxbus asks for when it changed\n"
    "the ledger's tables (the broker then refuses to start and names this\n"
    "command). The reference data (fluxbus refdata) stays. Run it with the broker\n"
    "stopped: it refuses a store in use (exit 5), and a broker will not start on\n"
    "the store while it runs. Prints one summary line; nothing changes on error.\n"
    "\n"
    "options:\n"
    "  -h, --help        this help\n";

static int s_rebuild(int argc, char **argv)
{
    static const char cmd[] = "ledger rebuild";
    static const struct option opts[] = {COMMON_OPTION_STORE, COMMON_OPTION_HELP, {0}};
    const char *path = common_store_default();
    int c;
    while ((c = common_getopt(cmd, argc, argv, opts)) != -1) {
        if (c == 'h')
            return common_help(s_rebuild_help, COMMON_HELP_STORE);
        if (c != COMMON_OPT_STORE)
            return EXIT_USAGE;
        path = optarg;
    }
    if (optind < argc)
        return common_fail(cmd, EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);
    if (access(path, F_OK) != 0)
        return common_fail(cmd, EXIT_STORE, "%s: %s", path, strerror(errno));
    char err[1024];
    storelock_t *lock = storelock_take(path, "fluxbus ledger rebuild", err, sizeof err);
    if (!lock)
        return common_fail(cmd, EXIT_STORE, "%s: stop the broker first", err);
    store_t *store = common_store_open(cmd, path, true);
    if (!store) {
        storelock_release(&lock);
        return EXIT_STORE;
    }
    rebuild_stats_t st;
    fb_err_t rc = rebuild_ledger(store, &st, err, sizeof err);
    store_destroy(&store);
    storelock_release(&lock);
    if (rc != FB_OK)
        return common_fail(cmd, common_exit_code(rc), "%s: %s (nothing changed)", path, err);
    printf("rebuilt the flux ledger of %s from %llu stored message(s), %llu of them purged "
           "skeletons; ledger schema version %d\n",
           path, (unsigned long long)st.messages, (unsigned long long)st.purged,
           LEDGER_SCHEMA_VERSION);
    return EXIT_OK;
}

static const common_command_t s_commands[] = {
    {"rebuild", s_rebuild, "make the ledger's tables again from the stored messages"},
    {NULL, NULL, NULL},
};

static const char s_help[] = "usage: fluxbus ledger COMMAND --store DB [OPTIONS]\n"
                             "\n"
                             "The flux ledger's tables in the broker's store, run locally on the\n"
                             "broker host.\n";

int cmd_ledger(int argc, char **argv)
{
    return common_dispatch("ledger", s_help, s_commands, argc, argv);
}
