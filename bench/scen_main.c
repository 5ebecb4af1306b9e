/* scen_main.c - fluxbus-scenario: picks the scenario, and owns what every
 * scenario shares (see scen.h): the common options, the bus's opening and
 * closing, the bench actors' ids. The measurements are the scenarios'
 * (scen_replay.c, scen_backlog.c, scen_slow.c, scen_growth.c).
 *
 * Exit codes: 0 done, 1 bad usage, 2 the bus could not be set up or the run
 * could not start, 3 --check found figures that are not sane (or the
 * private broker did not stop cleanly). */
#include "scen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/envelope.h"
#include "stats.h"

static const char s_common_usage[] =
    "Common options:\n"
    "  --window W        messages in flight per connection, and the private\n"
    "                    broker's delivery window (default 64; 1-1024)\n"
    "  --check           exit 3 unless the figures are those of a working bus\n"
    "                    (nothing refused or lost, order kept); judges no speed\n"
    "  --keep            keep the temporary directory (keys, store, broker log)\n"
    "  --reuse DIR       a private broker on a directory kept by --keep: its store\n"
    "                    and what it holds (kept again afterwards)\n"
    "  --broker-log-level L   the private broker's log level (default info)\n"
    "  --broker-bin PATH, --cli-bin PATH   the broker and the CLI to use\n"
    "  --endpoint EP --broker-key BROKER.pub --store DB [--broker-pid PID]\n"
    "                    a running broker instead (its limits must allow the load;\n"
    "                    the bench actors are registered in its store)\n";

static void s_usage(FILE *out)
{
    fputs("usage: fluxbus-scenario replay|backlog|slow|growth [options]\n"
          "       fluxbus-scenario SCENARIO --help\n"
          "\n"
          "The scenario measurements of issue 7, through the real broker:\n"
          "  replay    a national year of the flux (5 M messages by default), vacancy\n"
          "            lifecycles in the order the ledger wants, at saturation; msgs/s\n"
          "            per tenth of the run\n"
          "  backlog   1 M messages for a recipient offline: the broker's memory, then\n"
          "            the catch-up rate, in order, none missing\n"
          "  slow      a fast consumer's end-to-end p99 alone, then beside a consumer\n"
          "            that acks 50 msg/s\n"
          "  growth    msgs/s at 10 k, 100 k, 1 M stored messages (10 M with --full)\n"
          "\n",
          out);
    fputs(s_common_usage, out);
    fputs("\nSee docs/PERFORMANCE.md, \"Scenarios\".\n", out);
}

static int s_bad(const char *a, const char *v, const char *usage)
{
    fprintf(stderr, "fluxbus-scenario: bad option or value: %s %s\n%s%s", a, v ? v : "", usage,
            s_common_usage);
    return SCEN_USAGE;
}

/* A common option's string value into *out. */
static bool s_value(const char *a, const char *name, const char *v, const char **out)
{
    if (strcmp(a, name) != 0 || !v)
        return false;
    *out = v;
    return true;
}

/* One of the common options: the arguments taken (1 or 2), 0 when a is not
 * one, -1 for a bad value. */
static int s_common(scen_t *sc, const char *a, const char *v)
{
    if (!strcmp(a, "--keep") || !strcmp(a, "--check")) {
        *(a[2] == 'k' ? &sc->keep : &sc->check) = true;
        return 1;
    }
    double d = 0;
    if (s_value(a, "--broker-bin", v, &sc->broker_bin) ||
        s_value(a, "--cli-bin", v, &sc->cli_bin) ||
        s_value(a, "--broker-log-level", v, &sc->log_level) ||
        s_value(a, "--endpoint", v, &sc->endpoint) ||
        s_value(a, "--broker-key", v, &sc->broker_pub) || s_value(a, "--store", v, &sc->store) ||
        s_value(a, "--reuse", v, &sc->reuse))
        return 2;
    if (!strcmp(a, "--window") || !strcmp(a, "--broker-pid")) {
        bool window = a[2] == 'w';
        if (stats_number(v, 1, window ? 1024 : 1e9, &d) != 0)
            return -1;
        if (window)
            sc->window = (unsigned)d;
        else
            sc->broker_pid = (pid_t)d;
        return 2;
    }
    return 0;
}

/* One of opts: as s_common. */
static int s_numeric(const scen_opt_t *opts, size_t n, const char *a, const char *v)
{
    for (size_t i = 0; i < n; i++) {
        double d = 0;
        if (strcmp(a, opts[i].name) != 0)
            continue;
        if (stats_number(v, opts[i].min, opts[i].max, &d) != 0)
            return -1;
        switch (opts[i].kind) {
        case SCEN_U64:
            *(uint64_t *)opts[i].out = (uint64_t)d;
            break;
        case SCEN_SIZE:
            *(size_t *)opts[i].out = (size_t)d;
            break;
        case SCEN_UINT:
            *(unsigned *)opts[i].out = (unsigned)d;
            break;
        case SCEN_DOUBLE:
            *(double *)opts[i].out = d;
            break;
        }
        return 2;
    }
    return 0;
}

int scen_parse(scen_t *sc, int argc, char **argv, const scen_opt_t *opts, size_t n,
               scen_extra_fn extra, void *ctx, const char *usage)
{
    for (int i = 1; i < argc;) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("%s%s", usage, s_common_usage);
            exit(0);
        }
        int took = s_common(sc, a, v);
        if (took == 0)
            took = s_numeric(opts, n, a, v);
        if (took == 0 && extra)
            took = extra(ctx, a, v);
        if (took <= 0)
            return s_bad(a, v, usage);
        i += took;
    }
    return 0;
}

int scen_finish(const scen_t *sc, bool sane, const char *why_not)
{
    int code = SCEN_OK;
    if (sc->check) {
        if (!sane)
            fprintf(stderr, "fluxbus-scenario: check failed: %s\n", why_not);
        stats_kv("check", "%s", sane ? "ok" : "failed");
        code = sane ? SCEN_OK : SCEN_CHECK;
    }
    stats_report_end();
    return code;
}

int scen_open(scen_t *sc)
{
    char why[512];
    fb_err_t rc;
    if (sc->reuse && sc->endpoint) {
        fprintf(stderr, "fluxbus-scenario: --reuse and --endpoint exclude each other\n");
        return -1;
    }
    if (sc->reuse) {
        rc = load_bus_reopen(&sc->bus, sc->cli_bin, sc->reuse, why, sizeof why);
        sc->keep = true;
    } else {
        rc = load_bus_setup(&sc->bus, sc->cli_bin, sc->endpoint, sc->broker_pub, sc->store,
                            sc->broker_pid, why, sizeof why);
    }
    if (rc != FB_OK) {
        fprintf(stderr, "fluxbus-scenario: %s\n", why);
        return -1;
    }
    return 0;
}

int scen_actor(scen_t *sc, const char *role, size_t n, fb_keys_t *out)
{
    char id[128], why[512];
    if (!strcmp(role, "bailleur")) /* a SIREN of this run: 8, the tag, the number */
        snprintf(id, sizeof id, "bailleur:8%04u%04zu", sc->tag, n % 10000);
    else
        snprintf(id, sizeof id, "%s:scen-%04u-%zu", role, sc->tag, n);
    if (load_bus_add_actor(&sc->bus, id, role, out, why, sizeof why) != FB_OK) {
        fprintf(stderr, "fluxbus-scenario: %s\n", why);
        return -1;
    }
    return 0;
}

int scen_start(scen_t *sc, unsigned window)
{
    char why[512];
    if (!sc->bus.own)
        return 0;
    if (load_bus_start_bench(&sc->bus, sc->broker_bin, window, sc->log_level, why, sizeof why) !=
        FB_OK) {
        fprintf(stderr, "fluxbus-scenario: broker: %s\n", why);
        return -1;
    }
    return 0;
}

load_run_config_t scen_load_config(const scen_t *sc, const fb_keys_t *senders, size_t n_senders,
                                   const fb_keys_t *recipients, size_t n_recipients,
                                   uint64_t messages)
{
    return (load_run_config_t){.type = LOAD_MSGS_LOGEMENT,
                               .n_senders = n_senders,
                               .n_recipients = n_recipients,
                               .size = 512,
                               .window = sc->window,
                               .duration_s = 3600,
                               .messages = messages,
                               .endpoint = sc->bus.endpoint,
                               .broker = &sc->bus.broker,
                               .senders = senders,
                               .recipients = recipients,
                               .broker_pid = sc->bus.pid,
                               .drain_s = 10};
}

int scen_load(const load_run_config_t *cfg, load_run_result_t *res)
{
    char why[512];
    if (load_run(cfg, res, why, sizeof why) != FB_OK) {
        fprintf(stderr, "fluxbus-scenario: %s\n", why);
        return -1;
    }
    return 0;
}

long long scen_report_store(const scen_t *sc, const char *label, const char *key)
{
    long long bytes = load_bus_store_bytes(&sc->bus);
    if (bytes < 0)
        stats_line("%-22s unknown (no store path)", label);
    else
        stats_line("%-22s %.1f MB (%s and its WAL)", label, (double)bytes / 1e6, sc->bus.store);
    stats_kv(key, "%lld", bytes);
    return bytes;
}

int scen_close(scen_t *sc, int code)
{
    if (sc->bus.own && sc->bus.pid > 0 && load_bus_stop(&sc->bus) != 0) {
        fprintf(stderr, "fluxbus-scenario: the broker did not stop cleanly (see %s)\n",
                sc->bus.log);
        code = code ? code : SCEN_CHECK;
    }
    if (sc->keep && sc->bus.dir[0])
        fprintf(stderr, "fluxbus-scenario: kept %s\n", sc->bus.dir);
    load_bus_teardown(&sc->bus, sc->keep);
    return code;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(scen_t *, int, char **);
    } scenarios[] = {{"replay", scen_replay},
                     {"backlog", scen_backlog},
                     {"slow", scen_slow},
                     {"growth", scen_growth}};
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        s_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? SCEN_USAGE : SCEN_OK;
    }
    uint8_t rnd[FB_MESSAGE_ID_BYTES];
    fb_message_id_new(rnd);
    scen_t sc = {.broker_bin = FB_BROKER_BIN,
                 .cli_bin = FB_CLI_BIN,
                 .log_level = "info",
                 .window = 64,
                 .tag = (unsigned)(rnd[0] << 8 | rnd[1]) % 10000};
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (!strcmp(argv[1], scenarios[i].name))
            return scenarios[i].run(&sc, argc - 1, argv + 1);
    fprintf(stderr, "fluxbus-scenario: no scenario %s\n", argv[1]);
    s_usage(stderr);
    return SCEN_USAGE;
}
