/* cmd_retention.c - `fluxbus retention purge`: drops the sealed household
 * payloads (envelope attachments) past their retention period, keeping the
 * signed skeletons the accounts and the audit chain need.
 *
 * Owns: the command line and the summary line. Does not own: the rule and
 * the purge itself (retention.c), nor SQL (store.c). Meant to run daily from
 * a timer on the broker host, while the broker runs. */
#include <limits.h>

#include "common.h"
#include "retention.h"

static const char s_purge_help[] =
    "usage: fluxbus retention purge --store DB [--days N] [--dry-run] [--now-ms MS]\n"
    "\n"
    "Drops the attachments (the sealed household of a Designation) of every stored\n"
    "message whose vacancy - its correlation id - was closed more than N days ago,\n"
    "and keeps the signed skeleton: body, signature and key id, so that signatures,\n"
    "receipts and the audit chain still verify. A vacancy is closed by the first\n"
    "BailSigne for it stored at or after the message. A message with a delivery not\n"
    "yet acknowledged is skipped. Each purge is logged on stderr\n"
    "(\"info retention purge seq=N vacancy=... type=... at=...\") and in the store's\n"
    "purge_log table; a summary line goes to stdout.\n"
    "\n"
    "options:\n"
    "  --days N          retention after the vacancy closed, 1 to 36500 (default 365)\n"
    "  --dry-run         only report what would be purged\n"
    "  --now-ms MS       act as if now were MS (ms since the epoch), for tests\n"
    "  -h, --help        this help\n";

static int s_purge(int argc, char **argv)
{
    static const struct option opts[] = {
        COMMON_OPTION_STORE,
        {"days", required_argument, NULL, 'd'},
        {"dry-run", no_argument, NULL, 'n'},
        {"now-ms", required_argument, NULL, 't'},
        COMMON_OPTION_HELP,
        {0},
    };
    const char *path = common_store_default();
    long long days = RETENTION_DEFAULT_DAYS, now = fb_now_ms();
    bool dry_run = false;
    int c;
    while ((c = common_getopt("retention purge", argc, argv, opts)) != -1) {
        switch (c) {
        case COMMON_OPT_STORE:
            path = optarg;
            break;
        case 'd':
            if (!common_parse_int("retention purge", "--days", optarg, 1, RETENTION_MAX_DAYS,
                                  &days))
                return EXIT_USAGE;
            break;
        case 'n':
            dry_run = true;
            break;
        case 't':
            if (!common_parse_int("retention purge", "--now-ms", optarg, 0, LLONG_MAX, &now))
                return EXIT_USAGE;
            break;
        case 'h':
            return common_help(s_purge_help, COMMON_HELP_STORE);
        default:
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return common_fail("retention purge", EXIT_USAGE, "unexpected argument \"%s\"",
                           argv[optind]);

    store_t *store = common_store_open("retention purge", path, true);
    if (!store)
        return EXIT_STORE;
    char user[64];
    retention_config_t cfg = {
        .now_ms = now,
        .days = (unsigned)days,
        .dry_run = dry_run,
        .by = common_os_user(user, sizeof user),
        .log = fb_log_stderr,
    };
    retention_stats_t st;
    fb_err_t err = retention_purge(store, &cfg, &st);
    int rc = EXIT_OK;
    if (err != FB_OK)
        rc = common_fail("retention purge", common_exit_code(err), "%s: %s (%s)", path,
                         fb_err_str(err), store_errmsg(store));
    else
        printf("%s %llu message(s); skipped %llu with unacknowledged deliveries, %llu "
               "undecodable; vacancies closed before %lld (%lld days)\n",
               dry_run ? "would purge" : "purged", (unsigned long long)st.purged,
               (unsigned long long)st.unacked, (unsigned long long)st.malformed,
               (long long)st.cutoff_ms, days);
    store_destroy(&store);
    return rc;
}

static const common_command_t s_commands[] = {
    {"purge", s_purge, "drop sealed household payloads past retention, keep signed skeletons"},
    {NULL, NULL, NULL},
};

static const char s_help[] = "usage: fluxbus retention COMMAND --store DB [OPTIONS]\n"
                             "\n"
                             "Retention of personal data in the broker's store, run locally on\n"
                             "the broker host.\n";

int cmd_retention(int argc, char **argv)
{
    return common_dispatch("retention", s_help, s_commands, argc, argv);
}
