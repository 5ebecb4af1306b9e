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

const char scen_common_usage[] =
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
    fputs(scen_common_usage, out);
    fputs("\nSee docs/PERFORMANCE.md, \"Scenarios\".\n", out);
}

int scen_number(const char *v, double min, double max, double *out)
{
    char *end = NULL;
    double d = v ? strtod(v, &end) : 0;
    if (!v || end == v || *end || d < min || d > max)
        return -1;
    *out = d;
    return 0;
}

int scen_bad(const char *what, const char *usage)
{
    fprintf(stderr, "fluxbus-scenario: %s\n%s%s", what, usage, scen_common_usage);
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

int scen_common_option(scen_t *sc, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (!strcmp(a, "--keep") || !strcmp(a, "--check")) {
        *(a[2] == 'k' ? &sc->keep : &sc->check) = true;
        return 1;
    }
    double d = 0;
    bool taken = s_value(a, "--broker-bin", v, &sc->broker_bin) ||
                 s_value(a, "--cli-bin", v, &sc->cli_bin) ||
                 s_value(a, "--broker-log-level", v, &sc->log_level) ||
                 s_value(a, "--endpoint", v, &sc->endpoint) ||
                 s_value(a, "--broker-key", v, &sc->broker_pub) ||
                 s_value(a, "--store", v, &sc->store) || s_value(a, "--reuse", v, &sc->reuse);
    if (!taken && !strcmp(a, "--window") && scen_number(v, 1, 1024, &d) == 0) {
        sc->window = (unsigned)d;
        taken = true;
    } else if (!taken && !strcmp(a, "--broker-pid") && scen_number(v, 1, 1e9, &d) == 0) {
        sc->broker_pid = (pid_t)d;
        taken = true;
    }
    if (taken) {
        (*i)++;
        return 1;
    }
    bool ours = !strcmp(a, "--window") || !strcmp(a, "--broker-pid") ||
                !strcmp(a, "--broker-bin") || !strcmp(a, "--cli-bin") ||
                !strcmp(a, "--broker-log-level") || !strcmp(a, "--endpoint") ||
                !strcmp(a, "--broker-key") || !strcmp(a, "--store") || !strcmp(a, "--reuse");
    if (ours)
        fprintf(stderr, "fluxbus-scenario: bad value for %s: %s\n", a, v ? v : "(none)");
    return ours ? -1 : 0;
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
