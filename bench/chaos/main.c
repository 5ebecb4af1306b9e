/* main.c - fluxbus-chaos: reads the command line and runs the chosen
 * resilience scenarios (chaos.h) as cmocka tests. Exit 0 when every
 * scenario passed or was skipped, 1 on bad usage, otherwise the number of
 * scenarios that failed. */
#include "chaos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: fluxbus-chaos [--ci] [--only kill9,disk,fsync,week] [--seed N]\n"
            "                     [--kills N] [--senders N] [--recipients N] [--max-delay-ms N]\n"
            "                     [--fsync-cycles N] [--disk-cycles N] [--disk-kib N]\n"
            "                     [--week-messages N]\n"
            "\n"
            "Runs the real fluxbus-broker under failures, with several bailleurs sending\n"
            "and several reservataires receiving, and checks that every message that got\n"
            "a signed receipt is delivered, once, in order per (sender, recipient), and\n"
            "that the store stays intact (PRAGMA integrity_check, fluxbus audit verify).\n"
            "\n"
            "  kill9   kill -9 the broker at random points under load, --kills times\n"
            "  disk    the store on a small tmpfs that fills up (private mount namespace;\n"
            "          skipped when one cannot be made)\n"
            "  fsync   fsync starts failing under load (LD_PRELOAD shim), --fsync-cycles times\n"
            "  week    a reservataire offline while a week of traffic (--week-messages)\n"
            "          is sent to it, then back: catch-up in order, msgs/s\n"
            "\n"
            "Defaults: --kills 200 --senders 4 --recipients 3 --max-delay-ms 250\n"
            "--fsync-cycles 5 --disk-cycles 3 --disk-kib 16384 (at least 8192: the store's\n"
            "write-ahead log alone grows to about 4 MB) --week-messages 20000;\n"
            "--ci: 10 kills, 3 senders, 2 recipients, 2 fsync cycles, 1 disk cycle,\n"
            "2000 week messages (under a minute on 2 cores). --seed: the random points\n"
            "of failure (default: the time). One line of counts per scenario on stdout.\n");
}

/* The option `name` with an unsigned value at argv[*i + 1]. */
static int s_unsigned_opt(int argc, char **argv, int *i, const char *name, unsigned *out)
{
    if (strcmp(argv[*i], name) != 0)
        return 0;
    char *end = NULL;
    if (*i + 1 >= argc || !*argv[*i + 1]) {
        fprintf(stderr, "fluxbus-chaos: %s needs a number\n", name);
        exit(1);
    }
    unsigned long v = strtoul(argv[*i + 1], &end, 10);
    if (*end || v > 100000000ul) {
        fprintf(stderr, "fluxbus-chaos: bad value for %s: %s\n", name, argv[*i + 1]);
        exit(1);
    }
    *out = (unsigned)v;
    (*i)++;
    return 1;
}

static void s_defaults(chaos_opts_t *o, int ci)
{
    o->senders = ci ? 3 : 4;
    o->recipients = ci ? 2 : 3;
    o->kills = ci ? 10 : 200;
    o->max_delay_ms = ci ? 200 : 250;
    o->fsync_cycles = ci ? 2 : 5;
    o->disk_cycles = ci ? 1 : 3;
    o->disk_kib = 16384;
    o->week_messages = ci ? 2000 : 20000;
}

static void s_parse(int argc, char **argv, chaos_opts_t *o)
{
    int ci = 0;
    for (int i = 1; i < argc; i++)
        ci |= strcmp(argv[i], "--ci") == 0;
    s_defaults(o, ci);
    o->seed = (unsigned)time(NULL);
    o->argc = argc;
    o->argv = argv;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_usage(stdout);
            exit(0);
        }
        if (strcmp(argv[i], "--ci") == 0)
            continue;
        if (strcmp(argv[i], "--in-namespace") == 0) {
            o->in_namespace = 1;
            continue;
        }
        if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            o->only = argv[++i];
            continue;
        }
        if (s_unsigned_opt(argc, argv, &i, "--seed", &o->seed) ||
            s_unsigned_opt(argc, argv, &i, "--kills", &o->kills) ||
            s_unsigned_opt(argc, argv, &i, "--senders", &o->senders) ||
            s_unsigned_opt(argc, argv, &i, "--recipients", &o->recipients) ||
            s_unsigned_opt(argc, argv, &i, "--max-delay-ms", &o->max_delay_ms) ||
            s_unsigned_opt(argc, argv, &i, "--fsync-cycles", &o->fsync_cycles) ||
            s_unsigned_opt(argc, argv, &i, "--disk-cycles", &o->disk_cycles) ||
            s_unsigned_opt(argc, argv, &i, "--disk-kib", &o->disk_kib) ||
            s_unsigned_opt(argc, argv, &i, "--week-messages", &o->week_messages))
            continue;
        fprintf(stderr, "fluxbus-chaos: unknown argument %s\n", argv[i]);
        s_usage(stderr);
        exit(1);
    }
    if (o->senders < 1 || o->senders > 64 || o->recipients < 1 || o->recipients > 64) {
        fprintf(stderr, "fluxbus-chaos: --senders and --recipients take 1 to 64\n");
        exit(1);
    }
    if (o->disk_kib < 8192) {
        fprintf(stderr, "fluxbus-chaos: --disk-kib takes at least 8192 (the store's write-ahead "
                        "log alone grows to about 4 MB)\n");
        exit(1);
    }
}

/* Whether scenario `name` is in the --only list (or there is none). */
static int s_chosen(const chaos_opts_t *o, const char *name)
{
    if (!o->only)
        return 1;
    size_t n = strlen(name);
    for (const char *p = o->only; (p = strstr(p, name)) != NULL; p += n)
        if ((p == o->only || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    chaos_opts_t opts = {0};
    s_parse(argc, argv, &opts);
    /* Line by line, so that the disk scenario's child (which writes to the
     * same stdout) and this process do not interleave mid-line. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    static chaos_run_t runs[4];
    const struct {
        const char *name;
        CMUnitTestFunction fn;
        CMFixtureFunction teardown;
    } scenarios[] = {
        {"kill9", chaos_kill9, chaos_run_teardown},
        {"disk", chaos_disk, chaos_disk_teardown},
        {"fsync", chaos_fsync, chaos_run_teardown},
        {"week", chaos_week, chaos_run_teardown},
    };
    struct CMUnitTest tests[4];
    size_t n = 0;
    for (size_t i = 0; i < 4; i++) {
        if (!s_chosen(&opts, scenarios[i].name))
            continue;
        runs[n].opts = &opts;
        tests[n] = (struct CMUnitTest){scenarios[i].name, scenarios[i].fn, NULL,
                                       scenarios[i].teardown, &runs[n]};
        n++;
    }
    if (n == 0) {
        fprintf(stderr, "fluxbus-chaos: --only names no scenario (kill9, disk, fsync, week)\n");
        return 1;
    }
    if (!opts.in_namespace)
        printf("chaos: seed=%u senders=%u recipients=%u\n", opts.seed, opts.senders,
               opts.recipients);
    return _cmocka_run_group_tests("fluxbus-chaos", tests, n, NULL, NULL);
}
