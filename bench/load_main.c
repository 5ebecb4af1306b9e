/* load_main.c - fluxbus-load: reads its options, sets the bus up (a private
 * broker unless --endpoint), runs the load (load_run.c) and prints the
 * figures, for people and as key=value lines (bench/compare reads them).
 *
 * Owns the options, the bench actors' ids and the report; nothing of the
 * measurement itself. Exit codes: 0 done, 1 bad usage, 2 the bus could not
 * be set up, 3 --check found figures that are not sane. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load_bus.h"
#include "load_run.h"
#include "stats.h"

typedef struct {
    load_run_config_t run;
    const char *broker_bin, *cli_bin;
    const char *endpoint, *broker_pub, *store;
    pid_t broker_pid;
    const char *log_level;
    bool keep, check;
} s_opts_t;

static void s_usage(FILE *out)
{
    fputs("usage: fluxbus-load [--senders N] [--recipients M] [--size BYTES] [--window W]\n"
          "                    [--rate MSGS_PER_S | --saturate] [--duration S] [--messages N]\n"
          "                    [--type logement|designation] [--e2e] [--check] [--keep]\n"
          "                    [--broker-log-level LEVEL] [--broker-bin PATH] [--cli-bin PATH]\n"
          "                    [--endpoint EP --broker-key BROKER.pub --store DB [--broker-pid "
          "PID]]\n"
          "\n"
          "Loads a fluxbus broker with real signed envelopes and prints what it measured:\n"
          "delivered and accepted messages/s, ack latency (SEND -> signed receipt) and\n"
          "end-to-end latency (SEND -> delivery) p50/p99/p99.9, the broker's CPU per\n"
          "message and its memory (from /proc), then the same as key=value lines.\n"
          "\n"
          "  --senders N       sender connections, one thread each (default 4)\n"
          "  --recipients M    receiver connections, one thread each (default 4); message k\n"
          "                    of a sender goes to recipient k mod M\n"
          "  --size BYTES      envelope size, padded in a free-text field (default 512)\n"
          "  --window W        SENDs in flight per sender and deliveries in flight per\n"
          "                    receiver (default 64)\n"
          "  --rate R          R messages/s from all senders together, on a schedule\n"
          "  --saturate        as fast as the window allows (the default)\n"
          "  --duration S      the timed window, seconds (default 10)\n"
          "  --messages N      at saturation: messages signed before the window, all\n"
          "                    senders (default 6000 x duration); the window ends early\n"
          "                    once all are delivered\n"
          "  --type T          logement: LogementLibere, bailleurs -> reservataires,\n"
          "                    padded in the address (default); designation: rank 1..3\n"
          "                    Designations, reservataires -> bailleurs, household sealed\n"
          "                    and padded in its notes (vacancies set up before the window)\n"
          "  --e2e             receivers verify every delivery with lib's client (and open\n"
          "                    the household), senders verify every receipt; without it\n"
          "                    receivers ack without verifying again (the broker did)\n"
          "  --check           exit 3 unless the figures are sane: everything sent was\n"
          "                    accepted and delivered, no error, latencies measured\n"
          "  --keep            keep the temporary directory (keys, store, broker log)\n"
          "  --broker-log-level L   the private broker's log level (default info)\n"
          "  --endpoint EP     a running broker instead of a private one; needs its public\n"
          "                    key file and its store (the bench actors are registered\n"
          "                    there with `fluxbus actor add`); its rate and backlog limits\n"
          "                    must allow the load; --broker-pid to read its CPU and memory\n"
          "\n"
          "Exit codes: 0 done, 1 bad usage, 2 the bus could not be set up, 3 --check\n"
          "failed. See docs/PERFORMANCE.md.\n",
          out);
}

static int s_bad(const char *what)
{
    fprintf(stderr, "fluxbus-load: %s\n", what);
    s_usage(stderr);
    return 1;
}

/* A number option's value in [min, max]; -1 when it is not one. */
static int s_number(const char *v, double min, double max, double *out)
{
    char *end = NULL;
    double d = v ? strtod(v, &end) : 0;
    if (!v || end == v || *end || d < min || d > max)
        return -1;
    *out = d;
    return 0;
}

static int s_parse(int argc, char **argv, s_opts_t *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            s_usage(stdout);
            exit(0);
        }
        bool flag = true;
        if (!strcmp(a, "--saturate"))
            o->run.rate = 0;
        else if (!strcmp(a, "--e2e"))
            o->run.e2e = true;
        else if (!strcmp(a, "--check"))
            o->check = true;
        else if (!strcmp(a, "--keep"))
            o->keep = true;
        else
            flag = false;
        if (flag)
            continue;
        i++;
        if (!strcmp(a, "--senders") && s_number(v, 1, 256, &d) == 0)
            o->run.n_senders = (size_t)d;
        else if (!strcmp(a, "--recipients") && s_number(v, 1, 256, &d) == 0)
            o->run.n_recipients = (size_t)d;
        else if (!strcmp(a, "--size") && s_number(v, 64, 200000, &d) == 0)
            o->run.size = (size_t)d;
        else if (!strcmp(a, "--window") && s_number(v, 1, 1024, &d) == 0)
            o->run.window = (unsigned)d;
        else if (!strcmp(a, "--rate") && s_number(v, 0.1, 1e7, &d) == 0)
            o->run.rate = d;
        else if (!strcmp(a, "--duration") && s_number(v, 0.1, 3600, &d) == 0)
            o->run.duration_s = d;
        else if (!strcmp(a, "--messages") && s_number(v, 1, 1e9, &d) == 0)
            o->run.messages = (uint64_t)d;
        else if (!strcmp(a, "--type") && v && !strcmp(v, "logement"))
            o->run.type = LOAD_MSGS_LOGEMENT;
        else if (!strcmp(a, "--type") && v && !strcmp(v, "designation"))
            o->run.type = LOAD_MSGS_DESIGNATION;
        else if (!strcmp(a, "--broker-pid") && s_number(v, 1, 1e9, &d) == 0)
            o->broker_pid = (pid_t)d;
        else if (!strcmp(a, "--broker-log-level") && v)
            o->log_level = v;
        else if (!strcmp(a, "--broker-bin") && v)
            o->broker_bin = v;
        else if (!strcmp(a, "--cli-bin") && v)
            o->cli_bin = v;
        else if (!strcmp(a, "--endpoint") && v)
            o->endpoint = v;
        else if (!strcmp(a, "--broker-key") && v)
            o->broker_pub = v;
        else if (!strcmp(a, "--store") && v)
            o->store = v;
        else {
            char what[300];
            snprintf(what, sizeof what, "bad option or value: %s %s", a, v ? v : "");
            return s_bad(what);
        }
    }
    if (!o->run.messages)
        o->run.messages = (uint64_t)(6000 * o->run.duration_s);
    return 0;
}

/* ---- the bus ------------------------------------------------------------ */

/* The bench actors: senders and recipients of the roles the type wants,
 * with ids of this run (a running broker may have older bench actors). */
static int s_register(load_bus_t *bus, s_opts_t *o, fb_keys_t *senders, fb_keys_t *recipients)
{
    bool designation = o->run.type == LOAD_MSGS_DESIGNATION;
    uint8_t rnd[FB_MESSAGE_ID_BYTES];
    fb_message_id_new(rnd);
    unsigned tag = (unsigned)(rnd[0] << 8 | rnd[1]) % 10000;
    char why[512], id[128];
    for (size_t i = 0; i < o->run.n_senders + o->run.n_recipients; i++) {
        bool sender = i < o->run.n_senders;
        size_t n = sender ? i : i - o->run.n_senders;
        bool bailleur = sender != designation;
        if (bailleur) /* a SIREN of this run: 9, the tag, the index */
            snprintf(id, sizeof id, "bailleur:9%04u%04zu", tag, n + (sender ? 0 : 5000));
        else
            snprintf(id, sizeof id, "reservataire:bench-%04u-%c%zu", tag, sender ? 's' : 'r', n);
        fb_keys_t *out = sender ? &senders[n] : &recipients[n];
        if (load_bus_add_actor(bus, id, bailleur ? "bailleur" : "reservataire", out, why,
                               sizeof why) != FB_OK) {
            fprintf(stderr, "fluxbus-load: %s\n", why);
            return -1;
        }
    }
    return 0;
}

static int s_start_bus(load_bus_t *bus, s_opts_t *o)
{
    char why[512], window[16];
    snprintf(window, sizeof window, "%u", o->run.window);
    /* The bench is one sender per connection at full speed: the per-sender
     * rate and backlog limits of a real deployment would only refuse it. */
    const char *args[] = {"--rate",     "10000000", "--rate-burst", "10000000",    "--max-backlog",
                          "1000000000", "--window", window,         "--log-level", o->log_level,
                          NULL};
    if (load_bus_start(bus, o->broker_bin, args, why, sizeof why) != FB_OK) {
        fprintf(stderr, "fluxbus-load: broker: %s\n", why);
        return -1;
    }
    return 0;
}

/* ---- the report ----------------------------------------------------------- */

static const char *s_type_name(load_msgs_type_t t)
{
    return t == LOAD_MSGS_DESIGNATION ? "Designation" : "LogementLibere";
}

static void s_report_setup(const s_opts_t *o, const load_run_result_t *r)
{
    const load_run_config_t *c = &o->run;
    drive_config_t shape = {.n_senders = c->n_senders,
                            .n_recipients = c->n_recipients,
                            .window = c->window,
                            .rate = c->rate};
    char what[64];
    snprintf(what, sizeof what, "%s envelopes", s_type_name(c->type));
    drive_report_setup(&shape, "fluxbus-load", what, c->size);
    stats_line("envelopes sent         %zu..%zu B", r->size_min, r->size_max);
    if (r->size_min > c->size)
        stats_line("(%zu B is below the smallest %s this run makes: nothing padded)", c->size,
                   s_type_name(c->type));
    stats_line("receivers: %s", c->e2e ? "verify every delivery (lib's fb_client), senders "
                                         "verify every receipt"
                                       : "ack without verifying again (the broker has)");
    stats_line("signed %llu messages in %.2f s before the window%s",
               (unsigned long long)r->signed_msgs, r->presign_s,
               r->setup_msgs ? " (and their vacancies set up)" : "");
    stats_kv("verify", "%s", c->e2e ? "e2e" : "broker");
    stats_kv("type", "%s", s_type_name(c->type));
    stats_kv("size_min", "%zu", r->size_min);
    stats_kv("size_max", "%zu", r->size_max);
    stats_kv("signed", "%llu", (unsigned long long)r->signed_msgs);
    stats_kv("setup_msgs", "%llu", (unsigned long long)r->setup_msgs);
    stats_kv("presign_s", "%.3f", r->presign_s);
}

static int s_report(const s_opts_t *o, load_run_result_t *r)
{
    s_report_setup(o, r);
    drive_report(&r->drive);
    stats_kv("first_nack", "%s", r->first_nack == FB_OK ? "none" : fb_err_name(r->first_nack));
    int rc = o->check && drive_check(&r->drive) != 0 ? 3 : 0;
    stats_report_end();
    return rc;
}

int main(int argc, char **argv)
{
    s_opts_t o = {.run = {.type = LOAD_MSGS_LOGEMENT,
                          .n_senders = 4,
                          .n_recipients = 4,
                          .size = 512,
                          .window = 64,
                          .duration_s = 10,
                          .drain_s = 10},
                  .broker_bin = FB_BROKER_BIN,
                  .cli_bin = FB_CLI_BIN,
                  .log_level = "info"};
    if (s_parse(argc, argv, &o) != 0)
        return 1;
    load_bus_t bus;
    char why[512];
    if (load_bus_setup(&bus, o.cli_bin, o.endpoint, o.broker_pub, o.store, o.broker_pid, why,
                       sizeof why) != FB_OK) {
        fprintf(stderr, "fluxbus-load: %s\n", why);
        load_bus_teardown(&bus, o.keep);
        return 2;
    }
    fb_keys_t *senders = calloc(o.run.n_senders, sizeof *senders);
    fb_keys_t *recipients = calloc(o.run.n_recipients, sizeof *recipients);
    int rc = senders && recipients ? s_register(&bus, &o, senders, recipients) : -1;
    if (rc == 0 && bus.own)
        rc = s_start_bus(&bus, &o);
    load_run_result_t res;
    memset(&res, 0, sizeof res);
    if (rc == 0) {
        o.run.endpoint = bus.endpoint;
        o.run.broker = &bus.broker;
        o.run.senders = senders;
        o.run.recipients = recipients;
        o.run.broker_pid = bus.pid;
        if (load_run(&o.run, &res, why, sizeof why) != FB_OK) {
            fprintf(stderr, "fluxbus-load: %s\n", why);
            rc = -1;
        }
    }
    int exit_code = rc == 0 ? s_report(&o, &res) : 2;
    if (bus.own && bus.pid > 0 && load_bus_stop(&bus) != 0) {
        fprintf(stderr, "fluxbus-load: the broker did not stop cleanly (see %s)\n", bus.log);
        exit_code = exit_code ? exit_code : 3;
    }
    if (o.keep)
        fprintf(stderr, "fluxbus-load: kept %s\n", bus.dir);
    load_bus_teardown(&bus, o.keep);
    load_run_result_free(&res);
    for (size_t i = 0; senders && i < o.run.n_senders; i++)
        fb_keys_wipe(&senders[i]);
    for (size_t j = 0; recipients && j < o.run.n_recipients; j++)
        fb_keys_wipe(&recipients[j]);
    free(senders);
    free(recipients);
    return exit_code;
}
