/* scen_backlog.c - fluxbus-scenario backlog: a backlog for a recipient
 * that is offline, then its catch-up (see scen.h).
 *
 * Fill: S bailleurs send N LogementLibere (512 B) to one réservataire that
 * never connects, at saturation, in chunks (each chunk signed before it
 * is sent: a signed message must reach the broker within its freshness
 * window). Then the broker's memory is read: what a backlog costs it.
 * Catch-up: the réservataire connects, announces its window (HELLO) and
 * acknowledges each delivery as it comes (no verification: the broker
 * did); msgs/s per tenth of the backlog and overall, and the order: every
 * store seq above the one before, as many deliveries as messages accepted
 * (the recipient is addressed by nothing else, so that is each of them
 * once).
 *
 * Owns the catch-up receiver and the report; the fill is load_run's. */
#include "scen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "load_wire.h"
#include "stats.h"

#define S_TENTHS 10
#define S_IDLE_MS 30000 /* no delivery for this long: the catch-up is over */

static const char s_usage[] =
    "usage: fluxbus-scenario backlog [--messages N] [--senders S] [--chunk N]\n"
    "                                [--catchup-window W] [common options]\n"
    "\n"
    "Fills a backlog for a recipient that is offline (S bailleurs -> one\n"
    "reservataire, LogementLibere of 512 B, at saturation), reads the broker's\n"
    "memory, then connects the recipient and measures its catch-up: msgs/s per\n"
    "tenth and overall, in order (store seq increasing), none missing.\n"
    "\n"
    "  --messages N        the backlog (default 1000000)\n"
    "  --senders S         bailleur connections filling it (default 4)\n"
    "  --chunk N           messages signed then sent at a time (default 100000)\n"
    "  --catchup-window W  the recipient's window (HELLO; default 1024, the broker's\n"
    "                      maximum; the private broker is started with it)\n"
    "\n";

typedef struct {
    uint64_t messages, chunk;
    size_t n_senders;
    unsigned catchup_window;
} s_opts_t;

typedef struct {
    uint64_t accepted, nacked, errors, chunks;
    double *chunk_rates; /* msgs/s of each chunk */
    double fill_s;
    stats_proc_t after_fill;
    bool measured;
    long long store_bytes;
} s_fill_t;

typedef struct {
    uint64_t delivered, out_of_order, errors, first_seq, last_seq;
    double tenth_s[S_TENTHS]; /* seconds to deliver each tenth */
    double total_s, broker_cpu_s;
    stats_proc_t after;
    bool measured;
} s_catchup_t;

/* ---- fill ------------------------------------------------------------------ */

static int s_fill(scen_t *sc, const s_opts_t *o, const fb_keys_t *senders, const fb_keys_t *resa,
                  s_fill_t *f)
{
    f->chunk_rates = calloc(o->messages / o->chunk + 2, sizeof *f->chunk_rates);
    if (!f->chunk_rates)
        return -1;
    for (uint64_t done = 0; done < o->messages && f->errors == 0 && f->nacked == 0;) {
        uint64_t n = o->messages - done < o->chunk ? o->messages - done : o->chunk;
        load_run_config_t cfg = scen_load_config(sc, senders, o->n_senders, resa, 1, n);
        cfg.offline = true;
        load_run_result_t r;
        int rc = scen_load(&cfg, &r);
        if (rc == 0) {
            const drive_result_t *d = &r.drive;
            f->accepted += d->accepted;
            f->nacked += d->nacked;
            f->errors += d->errors;
            f->fill_s += d->window_s;
            f->chunk_rates[f->chunks++] = d->window_s > 0 ? (double)d->accepted / d->window_s : 0;
            fprintf(stderr, "fluxbus-scenario: backlog %llu of %llu (%.0f msg/s)\n",
                    (unsigned long long)f->accepted, (unsigned long long)o->messages,
                    f->chunk_rates[f->chunks - 1]);
            done += d->sent ? d->sent : n;
        }
        load_run_result_free(&r);
        if (rc != 0)
            return -1;
    }
    f->measured = sc->bus.pid > 0 && stats_proc_read(sc->bus.pid, &f->after_fill) == 0;
    f->store_bytes = load_bus_store_bytes(&sc->bus);
    return 0;
}

/* ---- catch-up ---------------------------------------------------------------- */

static void s_on_delivery(s_catchup_t *c, const load_wire_event_t *ev, uint64_t expected,
                          int64_t t0)
{
    if (c->delivered == 0)
        c->first_seq = ev->seq;
    else if (ev->seq <= c->last_seq)
        c->out_of_order++;
    c->last_seq = ev->seq;
    c->delivered++;
    size_t tenth = (size_t)((c->delivered - 1) * S_TENTHS / (expected ? expected : 1));
    if (tenth < S_TENTHS && c->delivered * S_TENTHS >= (tenth + 1) * expected)
        c->tenth_s[tenth] = (double)(stats_now_ns() - t0) / 1e9; /* the tenth's end */
}

/* Receives and acks until `expected` came, or nothing for S_IDLE_MS. */
static int s_catch_up(scen_t *sc, const s_opts_t *o, const fb_keys_t *resa, uint64_t expected,
                      s_catchup_t *c)
{
    void *zctx = zmq_ctx_new();
    load_wire_config_t wc = {.endpoint = sc->bus.endpoint,
                             .keys = resa,
                             .broker = &sc->bus.broker,
                             .zmq_ctx = zctx,
                             .timeout_ms = 10000};
    fb_err_t rc = FB_ERR_NOMEM;
    load_wire_t *w = zctx ? load_wire_new(&wc, &rc) : NULL;
    stats_proc_t p0;
    bool measured = sc->bus.pid > 0 && stats_proc_read(sc->bus.pid, &p0) == 0;
    int64_t t0 = stats_now_ns(), last = t0;
    if (w)
        rc = load_wire_hello(w, o->catchup_window);
    while (rc == FB_OK && c->delivered < expected) {
        load_wire_event_t ev;
        fb_err_t got = load_wire_next(w, S_IDLE_MS, &ev);
        if (got == FB_ERR_TIMEOUT)
            break;
        if (got == FB_OK && ev.kind == LOAD_WIRE_DELIVER) {
            s_on_delivery(c, &ev, expected, t0);
            last = stats_now_ns();
            got = load_wire_ack(w, ev.seq, ev.id);
        }
        if (got != FB_OK && c->errors++ == 0)
            fprintf(stderr, "fluxbus-scenario: catch-up: %s\n", fb_err_name(got));
    }
    c->total_s = (double)(last - t0) / 1e9;
    c->measured = measured && stats_proc_read(sc->bus.pid, &c->after) == 0;
    c->broker_cpu_s = c->measured ? c->after.cpu_s - p0.cpu_s : 0;
    if (rc != FB_OK)
        fprintf(stderr, "fluxbus-scenario: connect %s: %s\n", resa->actor, fb_err_name(rc));
    load_wire_destroy(&w);
    if (zctx)
        zmq_ctx_term(zctx);
    return rc == FB_OK ? 0 : -1;
}

/* ---- report ------------------------------------------------------------------- */

static void s_report_fill(const scen_t *sc, const s_opts_t *o, const s_fill_t *f)
{
    stats_line("fluxbus-scenario backlog: %llu LogementLibere of 512 B, %zu bailleurs -> 1 "
               "reservataire offline, window %u; catch-up window %u",
               (unsigned long long)o->messages, o->n_senders, sc->window, o->catchup_window);
    stats_line("fill                   %llu accepted in %.1f s (%llu chunks; refused %llu, "
               "errors %llu)",
               (unsigned long long)f->accepted, f->fill_s, (unsigned long long)f->chunks,
               (unsigned long long)f->nacked, (unsigned long long)f->errors);
    stats_report_spread("fill msgs/s per chunk", "fill_per_s", "msg/s", f->chunk_rates, f->chunks);
    stats_kv("messages", "%llu", (unsigned long long)o->messages);
    stats_kv("accepted", "%llu", (unsigned long long)f->accepted);
    stats_kv("nacked", "%llu", (unsigned long long)f->nacked);
    if (f->measured) {
        stats_line("broker after the fill  RSS %.1f MB (target <= 256 MB), peak %.1f MB",
                   (double)f->after_fill.rss_kb / 1024, (double)f->after_fill.hwm_kb / 1024);
        stats_kv("rss_after_fill_kb", "%ld", f->after_fill.rss_kb);
        stats_kv("hwm_after_fill_kb", "%ld", f->after_fill.hwm_kb);
    }
    stats_line("store after the fill   %.1f MB", (double)f->store_bytes / 1e6);
    stats_kv("store_bytes", "%lld", f->store_bytes);
}

static void s_report_catchup(const s_catchup_t *c, uint64_t expected)
{
    double rate = c->total_s > 0 ? (double)c->delivered / c->total_s : 0;
    stats_line("catch-up               %llu of %llu delivered in %.2f s = %.0f msg/s (target >= "
               "20000)",
               (unsigned long long)c->delivered, (unsigned long long)expected, c->total_s, rate);
    double prev = 0;
    for (size_t i = 0; i < S_TENTHS; i++) {
        double span = c->tenth_s[i] - prev;
        if (c->tenth_s[i] > 0 && span > 0)
            stats_line("  tenth %-2zu             %.0f msg/s", i + 1,
                       (double)expected / S_TENTHS / span);
        prev = c->tenth_s[i] > 0 ? c->tenth_s[i] : prev;
    }
    uint64_t missing = expected > c->delivered ? expected - c->delivered : 0;
    stats_line("order                  store seq %llu..%llu, %llu out of order, %llu missing, "
               "errors %llu",
               (unsigned long long)c->first_seq, (unsigned long long)c->last_seq,
               (unsigned long long)c->out_of_order, (unsigned long long)missing,
               (unsigned long long)c->errors);
    if (c->measured) {
        double per = c->delivered ? c->broker_cpu_s / (double)c->delivered * 1e6 : 0;
        stats_line("broker after catch-up  RSS %.1f MB, peak %.1f MB; %.1f us CPU per delivery",
                   (double)c->after.rss_kb / 1024, (double)c->after.hwm_kb / 1024, per);
        stats_kv("rss_after_catchup_kb", "%ld", c->after.rss_kb);
        stats_kv("hwm_kb", "%ld", c->after.hwm_kb);
        stats_kv("catchup_cpu_us_per_msg", "%.1f", per);
    }
    stats_kv("delivered", "%llu", (unsigned long long)c->delivered);
    stats_kv("catchup_s", "%.3f", c->total_s);
    stats_kv("catchup_per_s", "%.1f", rate);
    stats_kv("out_of_order", "%llu", (unsigned long long)c->out_of_order);
    stats_kv("missing", "%llu", (unsigned long long)missing);
    stats_kv("catchup_errors", "%llu", (unsigned long long)c->errors);
}

/* ---- the scenario ---------------------------------------------------------------- */

static int s_parse(scen_t *sc, s_opts_t *o, int argc, char **argv)
{
    const scen_opt_t opts[] = {{"--messages", SCEN_U64, &o->messages, 1, 1e9},
                               {"--senders", SCEN_SIZE, &o->n_senders, 1, 64},
                               {"--chunk", SCEN_U64, &o->chunk, 100, 1e7},
                               {"--catchup-window", SCEN_UINT, &o->catchup_window, 1, 1024}};
    return scen_parse(sc, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, NULL, s_usage);
}

static int s_report(const scen_t *sc, const s_opts_t *o, const s_fill_t *f, const s_catchup_t *c)
{
    s_report_fill(sc, o, f);
    s_report_catchup(c, f->accepted);
    bool sane = f->accepted == o->messages && f->nacked == 0 && f->errors == 0 &&
                c->delivered == f->accepted && c->out_of_order == 0 && c->errors == 0 &&
                c->total_s > 0;
    return scen_finish(sc, sane, "refusals, errors, deliveries missing or out of order");
}

int scen_backlog(scen_t *sc, int argc, char **argv)
{
    s_opts_t o = {.messages = 1000000, .chunk = 100000, .n_senders = 4, .catchup_window = 1024};
    if (s_parse(sc, &o, argc, argv) != 0)
        return SCEN_USAGE;
    if (scen_open(sc) != 0)
        return SCEN_BUS;
    fb_keys_t *keys = calloc(o.n_senders + 1, sizeof *keys); /* the senders, then the recipient */
    int code = keys ? SCEN_OK : SCEN_BUS;
    for (size_t i = 0; code == SCEN_OK && i <= o.n_senders; i++)
        if (scen_actor(sc, i < o.n_senders ? "bailleur" : "reservataire", i, &keys[i]) != 0)
            code = SCEN_BUS;
    unsigned broker_window = o.catchup_window > sc->window ? o.catchup_window : sc->window;
    if (code == SCEN_OK && scen_start(sc, broker_window) != 0)
        code = SCEN_BUS;
    s_fill_t f = {0};
    s_catchup_t c = {0};
    if (code == SCEN_OK && s_fill(sc, &o, keys, &keys[o.n_senders], &f) != 0)
        code = SCEN_BUS;
    if (code == SCEN_OK && s_catch_up(sc, &o, &keys[o.n_senders], f.accepted, &c) != 0)
        code = SCEN_BUS;
    if (code == SCEN_OK)
        code = s_report(sc, &o, &f, &c);
    free(f.chunk_rates);
    for (size_t i = 0; keys && i <= o.n_senders; i++)
        fb_keys_wipe(&keys[i]);
    free(keys);
    return scen_close(sc, code);
}
