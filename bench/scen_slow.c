/* scen_slow.c - fluxbus-scenario slow: a fast consumer's delivery latency
 * alone, then beside a consumer that acks slowly (see scen.h).
 *
 * Each round, on one broker, three load runs at a fixed rate (bailleurs ->
 * réservataires, LogementLibere of 512 B, message k of a sender to
 * recipient k mod M):
 *   alone        R msg/s, all to the fast recipient;
 *   beside fast  2R msg/s, half to it, half to a second fast one: the same
 *                traffic for it, twice the broker's load (the control);
 *   beside slow  2R msg/s, half to it, half to a recipient that acks A
 *                msg/s (a fresh actor each round, whose backlog grows the
 *                whole run and stays in the store).
 * The figure is the fast recipient's end-to-end latency (SEND -> its
 * delivery) p99 in each, and the ratios beside / alone; min, median and
 * max over the rounds; and the p99 of each kind of run over every round's
 * latencies together (pooled), with its ratios: on a shared machine a
 * round's p99 is mostly the moment's noise, which the pooled figure, over
 * K times the samples, spreads over the three kinds alike. The runs of a
 * round go in a rotating order (round 1 alone first, round 2 beside fast
 * first, ...), so that a drift of the machine meets each kind as often.
 *
 * Owns the rounds and the report; the runs are load_run's. */
#include "scen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

#define S_RUNS 3
#define S_MAX_ROUNDS 50

static const char s_usage[] =
    "usage: fluxbus-scenario slow [--rate R] [--duration S] [--slow-ack-rate A]\n"
    "                             [--rounds K] [--senders N] [common options]\n"
    "\n"
    "A fast consumer's end-to-end latency p99 alone (R msg/s to it), beside a second\n"
    "fast one (2R msg/s, half each), and beside a consumer that acks A msg/s (2R\n"
    "msg/s, half each); the ratios to alone, over K rounds.\n"
    "\n"
    "  --rate R            msg/s to the fast consumer (default 500)\n"
    "  --duration S        seconds of each run (default 10)\n"
    "  --slow-ack-rate A   the slow consumer's acks per second (default 50)\n"
    "  --rounds K          rounds of the three runs (default 3)\n"
    "  --senders N         bailleur connections (default 2)\n"
    "\n";

typedef struct {
    double rate, duration_s, slow_ack_rate;
    size_t rounds, n_senders;
} s_opts_t;

enum { S_ALONE, S_BESIDE_FAST, S_BESIDE_SLOW };

static const char *const s_run_names[S_RUNS] = {"alone", "beside a fast one", "beside a slow one"};
static const char *const s_run_keys[S_RUNS] = {"alone", "beside_fast", "beside_slow"};

typedef struct {
    double p50[S_RUNS][S_MAX_ROUNDS], p99[S_RUNS][S_MAX_ROUNDS], ratio[S_RUNS][S_MAX_ROUNDS];
    double slow_vs_fast[S_MAX_ROUNDS]; /* p99 beside slow / beside fast: the slowness alone */
    stats_samples_t pooled[S_RUNS];    /* the fast recipient's latencies, every round */
    uint64_t nacked, errors, lost_fast, late, slow_backlog;
    size_t rounds;
} s_figures_t;

/* One run: the fast recipient's p50 and p99 into f; 0, or -1. */
static int s_one(scen_t *sc, const s_opts_t *o, const fb_keys_t *senders, fb_keys_t *recipients,
                 int run, s_figures_t *f)
{
    size_t m = run == S_ALONE ? 1 : 2;
    load_run_config_t cfg = scen_load_config(sc, senders, o->n_senders, recipients, m, 0);
    cfg.rate = o->rate * (double)m;
    cfg.duration_s = o->duration_s;
    cfg.drain_s = run == S_BESIDE_SLOW ? 2 : 10; /* the slow one never catches up */
    cfg.n_slow = run == S_BESIDE_SLOW ? 1 : 0;
    cfg.slow_ack_rate = o->slow_ack_rate;
    load_run_result_t r;
    if (scen_load(&cfg, &r) != 0)
        return -1;
    size_t i = f->rounds;
    f->p50[run][i] = stats_percentile_ms(&r.e2e_fast, 50);
    f->p99[run][i] = stats_percentile_ms(&r.e2e_fast, 99);
    if (stats_samples_merge(&f->pooled[run], &r.e2e_fast) != 0) {
        load_run_result_free(&r);
        return -1;
    }
    f->nacked += r.drive.nacked;
    f->errors += r.drive.errors;
    f->late += r.drive.late_sends;
    /* Messages to the fast recipients: all of them but the slow one's share. */
    uint64_t to_fast = run == S_BESIDE_SLOW ? r.drive.accepted / 2 : r.drive.accepted;
    if (r.e2e_fast.n < to_fast)
        f->lost_fast += to_fast - r.e2e_fast.n;
    if (run == S_BESIDE_SLOW)
        f->slow_backlog += r.drive.accepted - r.drive.delivered;
    fprintf(stderr, "fluxbus-scenario: round %zu, %s: fast p99 %.3f ms\n", i + 1, s_run_names[run],
            f->p99[run][i]);
    load_run_result_free(&r);
    return 0;
}

static int s_rounds(scen_t *sc, const s_opts_t *o, const fb_keys_t *senders, fb_keys_t *fast,
                    s_figures_t *f)
{
    for (f->rounds = 0; f->rounds < o->rounds; f->rounds++) {
        fb_keys_t recipients[2] = {fast[0], fast[1]}, slow[2];
        memset(slow, 0, sizeof slow);
        slow[0] = fast[0];
        /* a fresh slow consumer: the last one's backlog stays in the store */
        int rc = scen_actor(sc, "reservataire", 100 + f->rounds, &slow[1]);
        for (int k = 0; rc == 0 && k < S_RUNS; k++) {
            int run = (int)((f->rounds + (size_t)k) % S_RUNS);
            rc = s_one(sc, o, senders, run == S_BESIDE_SLOW ? slow : recipients, run, f);
        }
        fb_keys_wipe(&slow[1]);
        if (rc != 0)
            return -1;
        size_t i = f->rounds;
        for (int run = S_BESIDE_FAST; run <= S_BESIDE_SLOW; run++)
            f->ratio[run][i] = f->p99[S_ALONE][i] > 0 ? f->p99[run][i] / f->p99[S_ALONE][i] : 0;
        f->slow_vs_fast[i] =
            f->p99[S_BESIDE_FAST][i] > 0 ? f->p99[S_BESIDE_SLOW][i] / f->p99[S_BESIDE_FAST][i] : 0;
    }
    return 0;
}

static int s_report(const scen_t *sc, const s_opts_t *o, s_figures_t *f)
{
    stats_line("fluxbus-scenario slow: %zu bailleurs, LogementLibere of 512 B, %.0f msg/s to the "
               "fast consumer, %.0f s per run, the slow one acks %.3g msg/s, window %u, %zu "
               "rounds",
               o->n_senders, o->rate, o->duration_s, o->slow_ack_rate, sc->window, f->rounds);
    char label[96], key[64];
    for (int run = S_ALONE; run <= S_BESIDE_SLOW; run++) {
        snprintf(label, sizeof label, "fast p50 %s (ms)", s_run_names[run]);
        snprintf(key, sizeof key, "%s_p50_ms", s_run_keys[run]);
        stats_report_spread(label, key, "ms", f->p50[run], f->rounds);
        snprintf(label, sizeof label, "fast p99 %s (ms)", s_run_names[run]);
        snprintf(key, sizeof key, "%s_p99_ms", s_run_keys[run]);
        stats_report_spread(label, key, "ms", f->p99[run], f->rounds);
    }
    stats_report_spread("p99 beside fast / alone", "ratio_fast", "", f->ratio[S_BESIDE_FAST],
                        f->rounds);
    double median = stats_report_spread("p99 beside slow / alone", "ratio_slow", "",
                                        f->ratio[S_BESIDE_SLOW], f->rounds);
    stats_report_spread("p99 beside slow / beside fast", "ratio_slow_vs_fast", "", f->slow_vs_fast,
                        f->rounds);
    double pooled[S_RUNS];
    for (int run = S_ALONE; run <= S_BESIDE_SLOW; run++) {
        pooled[run] = stats_percentile_ms(&f->pooled[run], 99);
        stats_line("fast p99 %-17s pooled over the rounds: %.3f ms (%zu deliveries)",
                   s_run_names[run], pooled[run], f->pooled[run].n);
        snprintf(key, sizeof key, "%s_pooled_p99_ms", s_run_keys[run]);
        stats_kv(key, "%.3f", pooled[run]);
    }
    double pooled_slow = pooled[S_ALONE] > 0 ? pooled[S_BESIDE_SLOW] / pooled[S_ALONE] : 0;
    double pooled_control =
        pooled[S_BESIDE_FAST] > 0 ? pooled[S_BESIDE_SLOW] / pooled[S_BESIDE_FAST] : 0;
    stats_line("pooled p99 beside slow / alone %.2f, beside slow / beside fast %.2f", pooled_slow,
               pooled_control);
    stats_kv("pooled_ratio_slow", "%.3f", pooled_slow);
    stats_kv("pooled_ratio_slow_vs_fast", "%.3f", pooled_control);
    stats_line("target                 p99 beside slow within 10 %% of alone: ratio <= 1.10 "
               "(median %.2f, pooled %.2f)",
               median, pooled_slow);
    stats_line("refused %llu, errors %llu, late sends %llu, fast deliveries missing %llu; left "
               "for the slow consumers %llu",
               (unsigned long long)f->nacked, (unsigned long long)f->errors,
               (unsigned long long)f->late, (unsigned long long)f->lost_fast,
               (unsigned long long)f->slow_backlog);
    stats_kv("rounds", "%zu", f->rounds);
    stats_kv("nacked", "%llu", (unsigned long long)f->nacked);
    stats_kv("errors", "%llu", (unsigned long long)f->errors);
    stats_kv("fast_missing", "%llu", (unsigned long long)f->lost_fast);
    stats_kv("slow_backlog", "%llu", (unsigned long long)f->slow_backlog);
    bool sane = f->nacked == 0 && f->errors == 0 && f->lost_fast == 0 && f->rounds > 0;
    return scen_finish(sc, sane, "refusals, errors, or fast deliveries missing");
}

static int s_parse(scen_t *sc, s_opts_t *o, int argc, char **argv)
{
    const scen_opt_t opts[] = {{"--rate", SCEN_DOUBLE, &o->rate, 1, 1e6},
                               {"--duration", SCEN_DOUBLE, &o->duration_s, 0.5, 3600},
                               {"--slow-ack-rate", SCEN_DOUBLE, &o->slow_ack_rate, 0.1, 1e5},
                               {"--rounds", SCEN_SIZE, &o->rounds, 1, S_MAX_ROUNDS},
                               {"--senders", SCEN_SIZE, &o->n_senders, 1, 64}};
    return scen_parse(sc, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, NULL, s_usage);
}

int scen_slow(scen_t *sc, int argc, char **argv)
{
    s_opts_t o = {.rate = 500, .duration_s = 10, .slow_ack_rate = 50, .rounds = 3, .n_senders = 2};
    if (s_parse(sc, &o, argc, argv) != 0)
        return SCEN_USAGE;
    if (scen_open(sc) != 0)
        return SCEN_BUS;
    fb_keys_t *senders = calloc(o.n_senders, sizeof *senders), fast[2];
    memset(fast, 0, sizeof fast);
    int code = senders ? SCEN_OK : SCEN_BUS;
    for (size_t i = 0; code == SCEN_OK && i < o.n_senders; i++)
        if (scen_actor(sc, "bailleur", i, &senders[i]) != 0)
            code = SCEN_BUS;
    for (size_t j = 0; code == SCEN_OK && j < 2; j++)
        if (scen_actor(sc, "reservataire", j, &fast[j]) != 0)
            code = SCEN_BUS;
    if (code == SCEN_OK && scen_start(sc, sc->window) != 0)
        code = SCEN_BUS;
    s_figures_t *f = calloc(1, sizeof *f);
    if (code == SCEN_OK && (!f || s_rounds(sc, &o, senders, fast, f) != 0))
        code = SCEN_BUS;
    if (code == SCEN_OK)
        code = s_report(sc, &o, f);
    for (int run = 0; f && run < S_RUNS; run++)
        stats_samples_free(&f->pooled[run]);
    free(f);
    for (size_t i = 0; senders && i < o.n_senders; i++)
        fb_keys_wipe(&senders[i]);
    fb_keys_wipe(&fast[0]);
    fb_keys_wipe(&fast[1]);
    free(senders);
    return scen_close(sc, code);
}
