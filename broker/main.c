/* main.c - fluxbus-broker: reads the configuration, starts the broker, and
 * turns SIGTERM/SIGINT into a clean drain. Nothing else lives here. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "broker.h"
#include "config.h"

static volatile sig_atomic_t s_stop = 0;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static void s_usage(FILE *out)
{
    fputs("usage: fluxbus-broker [--config FILE] [--endpoint EP] [--store FILE] [--key FILE]\n"
          "                      [--max-envelope BYTES] [--window N] [--batch-max N]\n"
          "                      [--freshness-s S] [--max-recipients N] [--rate N]\n"
          "                      [--rate-burst N] [--max-backlog N] [--decompte-interval-s S]\n"
          "                      [--verify-threads N] [--ack-delay-ms MS]\n"
          "                      [--log-level debug|info|warn|error]\n"
          "\n"
          "Runs the fluxbus broker. Settings come from the defaults, then the config\n"
          "file (\"name = value\" lines, names as the flags with _ for -), then the\n"
          "flags. Defaults: endpoint tcp://127.0.0.1:5770, store fluxbus.db, key\n"
          "broker.key (from `fluxbus keygen --actor broker`), max-envelope 262144,\n"
          "window 64, batch-max 256, freshness-s 300, max-recipients 64, rate 100\n"
          "(SENDs/s per sender), rate-burst 500, max-backlog 100000 (undelivered\n"
          "deliveries per sender), decompte-interval-s 60 (the broker's DecompteDroits\n"
          "go out this long after a change of the counts; 0: at once), verify-threads 0\n"
          "(threads checking a batch's signatures, the loop's included; 0: one per\n"
          "online CPU), ack-delay-ms 10 (a recipient's ACK that no message's commit\n"
          "carries is committed at the latest this long after; 0: each turn commits\n"
          "its own), log-level info.\n"
          "See docs/OPERATIONS.md.\n"
          "\n"
          "The broker prints \"ready endpoint=...\" on stdout once listening;\n"
          "logs one line per decision on stderr. SIGTERM or SIGINT: finish the current\n"
          "batch, commit the acks not yet committed and exit 0.\n"
          "\n"
          "Exit codes: 0 clean stop, 1 bad usage or configuration, 2 cannot start\n"
          "(key, store, endpoint), 3 the store failed while running (nothing that was\n"
          "not on disk was acknowledged).\n",
          out);
}

int main(int argc, char **argv)
{
    /* SQLite counts its memory under a global mutex on every allocation;
     * the broker reads none of those figures. Before any other SQLite call. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    /* One write per turn for the log lines of a busy broker (broker.c
     * flushes after each COMMIT; warnings and errors go out at once). */
    static char log_buffer[1 << 16];
    setvbuf(stderr, log_buffer, _IOFBF, sizeof log_buffer);
    broker_config_t cfg;
    char why[1024];
    broker_config_defaults(&cfg);
    /* The config file first, so flags override it wherever they stand. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc || broker_config_load(&cfg, argv[i + 1], why, sizeof why) != FB_OK) {
                fprintf(stderr, "error broker config-failed detail=\"%s\"\n",
                        i + 1 >= argc ? "--config needs a file" : why);
                return 1;
            }
        }
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "error broker bad-argument arg=\"%s\"\n", argv[i]);
            s_usage(stderr);
            return 1;
        }
        char name[64];
        snprintf(name, sizeof name, "%s", argv[i] + 2);
        for (char *p = name; *p; p++)
            if (*p == '-')
                *p = '_';
        if (broker_config_set(&cfg, name, argv[i + 1]) != FB_OK) {
            fprintf(stderr, "error broker bad-argument arg=\"%s %s\"\n", argv[i], argv[i + 1]);
            return 1;
        }
        i++;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal; /* no SA_RESTART: the poll must wake up */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    fb_err_t err = FB_OK;
    broker_t *broker = broker_new(&cfg, &err);
    if (!broker)
        return 2;
    err = broker_run(broker, &s_stop);
    broker_destroy(&broker);
    if (err == FB_ERR_STORE)
        return 3;
    return err == FB_OK ? 0 : 2;
}
