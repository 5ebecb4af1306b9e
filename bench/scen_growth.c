/* scen_growth.c - fluxbus-scenario growth: msgs/s as the store grows (see
 * scen.h).
 *
 * For each level (stored messages: 10 k, 100 k, 1 M by default; 10 M with
 * --full), the store is filled up to it through the broker itself, at
 * saturation (LogementLibere of 512 B, each a new vacancy: the ledger
 * grows too), in chunks signed before they are sent; then K probes, each a
 * saturated load run of P messages, measure delivered msgs/s there. The
 * figure: the probes' median at each level against the first level's
 * (target: flat, within 10 %). The fill chunks' rates are printed as well,
 * with the store's size at their end.
 *
 * The store's size in messages is the highest store seq the receipts name
 * (the broker's own messages included); on a reused or running store a
 * small first run learns it. Owns the levels, the probes and the report;
 * the runs are load_run's. */
#include "scen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

#define S_MAX_LEVELS 8
#define S_MAX_ROUNDS 20

static const char s_usage[] =
    "usage: fluxbus-scenario growth [--levels N,N,...] [--full] [--probe N] [--rounds K]\n"
    "                               [--chunk N] [--senders S] [--recipients M]\n"
    "                               [common options]\n"
    "\n"
    "Fills the store through the broker up to each level of stored messages and\n"
    "measures saturated msgs/s there (K probes of N messages); the target is flat\n"
    "(within 10 %) from the first level to the last.\n"
    "\n"
    "  --levels N,...   stored messages to measure at, increasing (default\n"
    "                   10000,100000,1000000)\n"
    "  --full           add 10000000 (hours, and about 13 GB of disk)\n"
    "  --probe N        messages of each probe (default 20000)\n"
    "  --rounds K       probes per level (default 3)\n"
    "  --chunk N        fill messages signed then sent at a time (default 100000)\n"
    "  --senders S, --recipients M   connections (default 4 and 4)\n"
    "\n"
    "With --keep the store stays; --reuse DIR goes on from it (its messages count).\n"
    "\n";

typedef struct {
    uint64_t levels[S_MAX_LEVELS];
    size_t n_levels, rounds, n_senders, n_recipients;
    uint64_t probe, chunk;
} s_opts_t;

typedef struct {
    uint64_t stored[S_MAX_LEVELS]; /* at the first probe of the level */
    double rates[S_MAX_LEVELS][S_MAX_ROUNDS];
    double median[S_MAX_LEVELS];
    long long store_bytes[S_MAX_LEVELS];
    long rss_kb[S_MAX_LEVELS];
    uint64_t nacked, errors, lost, stored_now;
    size_t levels_done;
} s_figures_t;

typedef struct {
    scen_t *sc;
    const s_opts_t *o;
    const fb_keys_t *senders, *recipients;
    s_figures_t *f;
} s_growth_t;

/* One saturated run of n messages; its delivered msgs/s (-1: it failed). */
static double s_run(s_growth_t *g, uint64_t n)
{
    load_run_config_t cfg =
        scen_load_config(g->sc, g->senders, g->o->n_senders, g->recipients, g->o->n_recipients, n);
    load_run_result_t r;
    if (scen_load(&cfg, &r) != 0)
        return -1;
    const drive_result_t *d = &r.drive;
    g->f->nacked += d->nacked;
    g->f->errors += d->errors;
    g->f->lost += d->accepted > d->delivered ? d->accepted - d->delivered : 0;
    if (r.max_store_seq > g->f->stored_now)
        g->f->stored_now = r.max_store_seq;
    double rate = d->window_s > 0 ? (double)d->delivered_in_window / d->window_s : 0;
    load_run_result_free(&r);
    return d->errors || d->nacked ? -1 : rate;
}

/* Fills the store up to `level` messages, chunk by chunk. */
static int s_fill(s_growth_t *g, uint64_t level)
{
    while (g->f->stored_now < level) {
        uint64_t n = level - g->f->stored_now;
        n = n < g->o->chunk ? n : g->o->chunk;
        double rate = s_run(g, n);
        if (rate < 0)
            return -1;
        long long bytes = load_bus_store_bytes(&g->sc->bus);
        stats_line("fill  up to %12llu stored  %9.0f msg/s  store %9.1f MB",
                   (unsigned long long)g->f->stored_now, rate, (double)bytes / 1e6);
    }
    return 0;
}

static int s_level(s_growth_t *g, size_t i)
{
    s_figures_t *f = g->f;
    if (s_fill(g, g->o->levels[i]) != 0)
        return -1;
    f->stored[i] = f->stored_now;
    for (size_t r = 0; r < g->o->rounds; r++) {
        uint64_t before = f->stored_now;
        double rate = s_run(g, g->o->probe);
        if (rate < 0)
            return -1;
        f->rates[i][r] = rate;
        stats_line("probe at    %12llu stored  %9.0f msg/s", (unsigned long long)before, rate);
    }
    f->median[i] = stats_median(f->rates[i], g->o->rounds);
    f->store_bytes[i] = load_bus_store_bytes(&g->sc->bus);
    stats_proc_t p;
    f->rss_kb[i] = g->sc->bus.pid > 0 && stats_proc_read(g->sc->bus.pid, &p) == 0 ? p.rss_kb : 0;
    f->levels_done = i + 1;
    return 0;
}

static int s_report(const scen_t *sc, const s_opts_t *o, const s_figures_t *f)
{
    stats_line("fluxbus-scenario growth: %zu bailleurs -> %zu reservataires, LogementLibere of "
               "512 B, saturation, window %u; %zu probes of %llu messages per level",
               o->n_senders, o->n_recipients, sc->window, o->rounds, (unsigned long long)o->probe);
    stats_line("%-12s %12s %9s %9s %9s %8s %10s %10s", "level", "stored", "min", "median", "max",
               "vs first", "store MB", "broker MB");
    bool flat = f->levels_done > 1;
    for (size_t i = 0; i < f->levels_done; i++) {
        const double *v = f->rates[i];
        double min = v[0], max = v[0];
        for (size_t r = 1; r < o->rounds; r++) {
            min = v[r] < min ? v[r] : min;
            max = v[r] > max ? v[r] : max;
        }
        double vs = f->median[0] > 0 ? f->median[i] / f->median[0] : 0;
        flat = flat && vs >= 0.9 && vs <= 1.1;
        stats_line("%-12llu %12llu %9.0f %9.0f %9.0f %8.2f %10.1f %10.1f",
                   (unsigned long long)o->levels[i], (unsigned long long)f->stored[i], min,
                   f->median[i], max, vs, (double)f->store_bytes[i] / 1e6,
                   (double)f->rss_kb[i] / 1024);
        char k[64];
        snprintf(k, sizeof k, "level%zu_stored", i + 1);
        stats_kv(k, "%llu", (unsigned long long)f->stored[i]);
        snprintf(k, sizeof k, "level%zu_per_s_min", i + 1);
        stats_kv(k, "%.1f", min);
        snprintf(k, sizeof k, "level%zu_per_s_median", i + 1);
        stats_kv(k, "%.1f", f->median[i]);
        snprintf(k, sizeof k, "level%zu_per_s_max", i + 1);
        stats_kv(k, "%.1f", max);
        snprintf(k, sizeof k, "level%zu_vs_first", i + 1);
        stats_kv(k, "%.3f", vs);
        snprintf(k, sizeof k, "level%zu_store_bytes", i + 1);
        stats_kv(k, "%lld", f->store_bytes[i]);
    }
    stats_line("flat within 10 %%       %s", flat ? "yes" : "no");
    stats_line("refused %llu, errors %llu, not delivered %llu", (unsigned long long)f->nacked,
               (unsigned long long)f->errors, (unsigned long long)f->lost);
    stats_kv("flat", "%d", flat ? 1 : 0);
    stats_kv("nacked", "%llu", (unsigned long long)f->nacked);
    stats_kv("errors", "%llu", (unsigned long long)f->errors);
    stats_kv("lost", "%llu", (unsigned long long)f->lost);
    bool sane = f->nacked == 0 && f->errors == 0 && f->lost == 0 && f->levels_done == o->n_levels &&
                f->median[0] > 0;
    return scen_finish(sc, sane, "refusals, errors, messages not delivered or a level not reached");
}

/* "10000,100000,..." into o->levels, increasing. */
static int s_levels(const char *v, s_opts_t *o)
{
    o->n_levels = 0;
    for (const char *p = v; p && *p && o->n_levels < S_MAX_LEVELS;) {
        char *end = NULL;
        double d = strtod(p, &end);
        if (end == p || d < 100 || d > 1e10 ||
            (o->n_levels && (uint64_t)d <= o->levels[o->n_levels - 1]))
            return -1;
        o->levels[o->n_levels++] = (uint64_t)d;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return o->n_levels ? 0 : -1;
}

/* --levels and --full. */
static int s_extra(void *ctx, const char *a, const char *v)
{
    s_opts_t *o = ctx;
    if (!strcmp(a, "--full")) {
        if (o->n_levels < S_MAX_LEVELS && o->levels[o->n_levels - 1] < 10000000)
            o->levels[o->n_levels++] = 10000000;
        return 1;
    }
    if (!strcmp(a, "--levels"))
        return v && s_levels(v, o) == 0 ? 2 : -1;
    return 0;
}

static int s_parse(scen_t *sc, s_opts_t *o, int argc, char **argv)
{
    const scen_opt_t opts[] = {{"--probe", SCEN_U64, &o->probe, 100, 1e8},
                               {"--rounds", SCEN_SIZE, &o->rounds, 1, S_MAX_ROUNDS},
                               {"--chunk", SCEN_U64, &o->chunk, 100, 1e7},
                               {"--senders", SCEN_SIZE, &o->n_senders, 1, 64},
                               {"--recipients", SCEN_SIZE, &o->n_recipients, 1, 64}};
    return scen_parse(sc, argc, argv, opts, sizeof opts / sizeof opts[0], s_extra, o, s_usage);
}

int scen_growth(scen_t *sc, int argc, char **argv)
{
    s_opts_t o = {.levels = {10000, 100000, 1000000},
                  .n_levels = 3,
                  .rounds = 3,
                  .n_senders = 4,
                  .n_recipients = 4,
                  .probe = 20000,
                  .chunk = 100000};
    if (s_parse(sc, &o, argc, argv) != 0)
        return SCEN_USAGE;
    if (scen_open(sc) != 0)
        return SCEN_BUS;
    size_t n = o.n_senders + o.n_recipients;
    fb_keys_t *keys = calloc(n, sizeof *keys);
    int code = keys ? SCEN_OK : SCEN_BUS;
    for (size_t i = 0; code == SCEN_OK && i < n; i++) {
        bool sender = i < o.n_senders;
        if (scen_actor(sc, sender ? "bailleur" : "reservataire", sender ? i : i - o.n_senders,
                       &keys[i]) != 0)
            code = SCEN_BUS;
    }
    if (code == SCEN_OK && scen_start(sc, sc->window) != 0)
        code = SCEN_BUS;
    s_figures_t *f = calloc(1, sizeof *f);
    s_growth_t g = {.sc = sc, .o = &o, .senders = keys, .recipients = keys + o.n_senders, .f = f};
    /* A store reused or running: a first small run learns its size. */
    if (code == SCEN_OK && (!f || ((sc->reuse || sc->endpoint) && s_run(&g, 100) < 0)))
        code = SCEN_BUS;
    for (size_t i = 0; code == SCEN_OK && i < o.n_levels; i++)
        if (s_level(&g, i) != 0)
            code = SCEN_BUS;
    if (f && f->levels_done) { /* what was measured, even when a level failed */
        int reported = s_report(sc, &o, f);
        code = code == SCEN_OK ? reported : code;
    }
    free(f);
    for (size_t i = 0; keys && i < n; i++)
        fb_keys_wipe(&keys[i]);
    free(keys);
    return scen_close(sc, code);
}
