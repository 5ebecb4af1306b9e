/* decompte_main.c - fluxbus-decompte-bench: how long the broker's
 * DecompteDroits scan (broker/decompte_emit.c) holds the loop thread, and
 * how much memory it takes, on a national-like ledger (decompte_world.h).
 *
 * The ledger is filled once (the template store), then each run works on a
 * copy of it in a process of its own (its memory is the scan's alone), as
 * the broker's loop does: when decompte_emit_next_ms says a scan is due,
 * BEGIN, decompte_emit_scan, COMMIT; each such call is a time the loop
 * thread is held (the scan's call, and with it the BEGIN and the COMMIT, an
 * fsync when something was stored). Three phases per run: "first" (the scan after the start,
 * every line new: one DecompteDroits each), "change" (M more vacancy lives
 * recorded, then the scan they call for: a few lines changed), "idle" (a
 * scan with nothing changed). For each: the longest hold (and the longest
 * call of decompte_emit_scan alone), all holds
 * together, the time until the scan is over, messages sent, and the peak of
 * the process's resident memory above where it stood before the phase.
 *
 * The accept callback stands for broker.c's s_accept_own: it decodes and
 * verifies the envelope and stores it (store_put, store_enqueue per
 * recipient); no audit link, receipt or delivery.
 *
 * Exit codes: 0 done, 1 bad usage, 2 a failure (store, fill, scan). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "decompte_emit.h"
#include "decompte_world.h"
#include "fluxbus/envelope.h"
#include "fluxbus/keys.h"
#include "notary.h"
#include "stats.h"

#define S_PHASES 3
#define S_MAX_RUNS 20

static const char *const s_phase_names[S_PHASES] = {"first", "change", "idle"};

static const char s_usage[] =
    "usage: fluxbus-decompte-bench [options]\n"
    "\n"
    "How long the broker's DecompteDroits scan holds the loop thread, and its\n"
    "memory, on a national-like year written straight into a ledger.\n"
    "\n"
    "  --vacancies N     vacancies in the year (default 40000)\n"
    "  --bailleurs B     bailleurs (default 4)\n"
    "  --reservataires R réservataires with a bilateral convention each (default 4)\n"
    "  --communes C      communes the vacancies lie in (default 5000)\n"
    "  --epcis E         EPCIs, each in a multipartite convention with a sheet per\n"
    "                    commune (default 0)\n"
    "  --sheets S        communes per EPCI (default 50)\n"
    "  --changes M       vacancy lives recorded before the \"change\" scan (default 20)\n"
    "  --runs K          runs, each on a fresh copy of the filled store (default 3)\n"
    "  --dir DIR         where the filled store is kept (reused when its figures\n"
    "                    match; default: a temporary directory, removed)\n"
    "\n"
    "See docs/PERFORMANCE.md, \"The décompte scan\".\n";

typedef struct {
    double max_hold_ms, max_scan_ms, total_hold_ms, wall_ms;
    long peak_kb;
    size_t emitted, calls;
    int ok;
} s_phase_t;

typedef struct {
    decompte_world_t world;
    size_t changes, runs;
    char dir[256];
    bool own_dir;
} s_opts_t;

/* ---- the child: one run ---------------------------------------------------------------- */

typedef struct {
    store_t *store;
    ledger_t *ledger;
    fb_keys_t keys;
    notary_t notary;
    decompte_emit_t *emit;
    int64_t t0_ms, mono0_ns;
    size_t emitted;
} s_run_t;

/* The simulated clock: the world's 1 December, then as time passes. */
static int64_t s_now(const s_run_t *r)
{
    return r->t0_ms + (stats_now_ns() - r->mono0_ns) / 1000000;
}

static fb_err_t s_accept(void *ctx, const uint8_t *data, size_t len,
                         const ProtobufCMessage *payload)
{
    (void)payload;
    s_run_t *r = ctx;
    Fluxbus__V1__Envelope *env = NULL;
    Fluxbus__V1__SignedBody *body = NULL;
    fb_err_t rc = fb_envelope_decode(data, len, len, &env);
    if (rc == FB_OK)
        rc = fb_envelope_verify(env, r->keys.sign_pk);
    if (rc == FB_OK)
        rc = fb_envelope_parse_body(env, &body);
    fb_envelope_free(env);
    uint8_t sha[32];
    fb_sha256(data, len, sha);
    uint64_t seq = 0;
    if (rc == FB_OK) {
        store_message_t m = store_message_of(body, data, len, sha, s_now(r));
        rc = store_put(r->store, &m, &seq);
    }
    for (size_t i = 0; rc == FB_OK && i < body->n_recipients; i++)
        rc = store_enqueue(r->store, seq, body->recipients[i]);
    fb_body_free(body);
    r->emitted += rc == FB_OK;
    return rc;
}

static long s_rss_kb(void)
{
    stats_proc_t p;
    return stats_proc_read(getpid(), &p) == 0 ? p.rss_kb : 0;
}

/* Resets the process's peak resident set to its current one. */
static void s_reset_peak(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd >= 0) {
        if (write(fd, "5", 1) != 1)
            perror("clear_refs");
        close(fd);
    }
}

/* Runs the loop's décompte turns until no scan is due within a minute. */
static void s_drive(s_run_t *r, s_phase_t *ph)
{
    memset(ph, 0, sizeof *ph);
    s_reset_peak();
    long rss0 = s_rss_kb();
    r->emitted = 0;
    int64_t start = stats_now_ns();
    ph->ok = 1;
    for (;;) {
        int64_t now = s_now(r), next = decompte_emit_next_ms(r->emit);
        if (next > now + 60 * 1000)
            break;
        if (now < next) {
            stats_sleep_until_ns(stats_now_ns() + (next - now) * 1000000);
            continue;
        }
        size_t emitted = 0;
        int64_t t = stats_now_ns(), in_scan = 0;
        fb_err_t rc = store_begin(r->store);
        if (rc == FB_OK) {
            int64_t s = stats_now_ns();
            rc = decompte_emit_scan(r->emit, now, s_accept, r, &emitted);
            in_scan = stats_now_ns() - s;
        }
        rc = rc == FB_OK ? store_commit(r->store) : (store_rollback(r->store), rc);
        double hold = (double)(stats_now_ns() - t) / 1e6, scan = (double)in_scan / 1e6;
        ph->max_hold_ms = hold > ph->max_hold_ms ? hold : ph->max_hold_ms;
        ph->max_scan_ms = scan > ph->max_scan_ms ? scan : ph->max_scan_ms;
        ph->total_hold_ms += hold;
        ph->calls++;
        if (rc != FB_OK) {
            fprintf(stderr, "scan failed: %s\n", fb_err_name(rc));
            ph->ok = 0;
            break;
        }
    }
    ph->wall_ms = (double)(stats_now_ns() - start) / 1e6;
    ph->emitted = r->emitted;
    stats_proc_t p;
    ph->peak_kb = stats_proc_read(getpid(), &p) == 0 ? p.hwm_kb - rss0 : 0;
}

static int s_run_open(s_run_t *r, const s_opts_t *o, const char *path)
{
    char err[256] = "";
    memset(r, 0, sizeof *r);
    r->store = store_open(path, err, sizeof err);
    r->ledger = r->store ? ledger_open(store_db(r->store), err, sizeof err) : NULL;
    if (!r->ledger || fb_keys_generate(&r->keys, "broker") != FB_OK) {
        fprintf(stderr, "fluxbus-decompte-bench: %s\n", err);
        return -1;
    }
    r->notary.keys = &r->keys;
    r->t0_ms = decompte_world_at(&o->world, 335);
    r->mono0_ns = stats_now_ns();
    r->emit = decompte_emit_new(r->store, &r->notary, 0, NULL, NULL, s_now(r), err, sizeof err);
    if (!r->emit) {
        fprintf(stderr, "fluxbus-decompte-bench: %s\n", err);
        return -1;
    }
    return 0;
}

static void s_run_close(s_run_t *r)
{
    decompte_emit_destroy(&r->emit);
    ledger_close(&r->ledger);
    store_destroy(&r->store);
    fb_keys_wipe(&r->keys);
}

/* The three phases on the store at path; results into ph. */
static void s_child(const s_opts_t *o, const char *path, s_phase_t ph[S_PHASES])
{
    s_run_t r;
    memset(ph, 0, S_PHASES * sizeof *ph);
    if (s_run_open(&r, o, path) != 0)
        return;
    s_drive(&r, &ph[0]);
    fb_err_t rc = store_begin(r.store);
    if (rc == FB_OK)
        rc = decompte_world_more(&o->world, r.ledger, o->world.vacancies, o->changes, 330);
    rc = rc == FB_OK ? store_commit(r.store) : (store_rollback(r.store), rc);
    if (rc == FB_OK) {
        decompte_emit_touch(r.emit, s_now(&r));
        s_drive(&r, &ph[1]);
        decompte_emit_touch(r.emit, s_now(&r));
        s_drive(&r, &ph[2]);
    }
    s_run_close(&r);
}

/* ---- the parent: fill, copy, run, report ----------------------------------------------------- */

static int s_copy(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char buf[1 << 16];
    ssize_t n = 0;
    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) {
            n = -1;
            break;
        }
    int rc = in >= 0 && out >= 0 && n == 0 ? 0 : -1;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return rc;
}

/* The figures the template was filled with, to reuse it only when they match. */
static void s_signature(const decompte_world_t *w, char *out, size_t cap)
{
    snprintf(out, cap, "v2 ledger %d: %zu %zu %zu %zu %zu %zu %d\n", LEDGER_SCHEMA_VERSION,
             w->vacancies, w->bailleurs, w->reservataires, w->communes, w->epcis,
             w->sheets_per_epci, w->year);
}

static bool s_template_fits(const s_opts_t *o, const char *sig_path)
{
    char want[128], have[128] = "";
    s_signature(&o->world, want, sizeof want);
    FILE *f = fopen(sig_path, "r");
    if (!f)
        return false;
    bool ok = fgets(have, sizeof have, f) && strcmp(have, want) == 0;
    fclose(f);
    return ok;
}

static int s_fill(const s_opts_t *o, const char *path, const char *sig_path)
{
    char err[256] = "";
    unlink(path);
    store_t *store = store_open(path, err, sizeof err);
    ledger_t *ledger = store ? ledger_open(store_db(store), err, sizeof err) : NULL;
    int64_t t = stats_now_ns();
    int rc =
        ledger && decompte_world_fill(&o->world, store, ledger, err, sizeof err) == FB_OK ? 0 : -1;
    ledger_close(&ledger);
    store_destroy(&store);
    if (rc != 0) {
        fprintf(stderr, "fluxbus-decompte-bench: %s\n", err);
        return -1;
    }
    stats_line("filled in %.1f s", (double)(stats_now_ns() - t) / 1e9);
    char sig[128];
    s_signature(&o->world, sig, sizeof sig);
    FILE *f = fopen(sig_path, "w");
    if (f) {
        fputs(sig, f);
        fclose(f);
    }
    return 0;
}

/* One run in a child process on a copy of the template. */
static int s_one_run(const s_opts_t *o, const char *template, size_t k, s_phase_t ph[S_PHASES])
{
    char path[320];
    snprintf(path, sizeof path, "%s/run.db", o->dir);
    if (s_copy(template, path) != 0)
        return -1;
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        s_child(o, path, ph);
        ssize_t n = write(fds[1], ph, S_PHASES * sizeof *ph);
        _exit(n == (ssize_t)(S_PHASES * sizeof *ph) ? 0 : 2);
    }
    close(fds[1]);
    ssize_t n = pid > 0 ? read(fds[0], ph, S_PHASES * sizeof *ph) : -1;
    close(fds[0]);
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    char wal[340];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
    unlink(path);
    if (n != (ssize_t)(S_PHASES * sizeof *ph))
        return -1;
    for (int i = 0; i < S_PHASES; i++)
        stats_line("run %zu %-6s: longest hold %8.2f ms (in the scan %8.2f), holds %8.1f ms in "
                   "%4zu calls, over in %8.1f ms, %5zu sent, peak +%6.1f MB%s",
                   k + 1, s_phase_names[i], ph[i].max_hold_ms, ph[i].max_scan_ms,
                   ph[i].total_hold_ms, ph[i].calls, ph[i].wall_ms, ph[i].emitted,
                   (double)ph[i].peak_kb / 1024, ph[i].ok ? "" : " FAILED");
    return 0;
}

static void s_report(const s_opts_t *o, s_phase_t runs[][S_PHASES])
{
    for (int i = 0; i < S_PHASES; i++) {
        double hold[S_MAX_RUNS], scan[S_MAX_RUNS], wall[S_MAX_RUNS], peak[S_MAX_RUNS];
        for (size_t k = 0; k < o->runs; k++) {
            hold[k] = runs[k][i].max_hold_ms;
            scan[k] = runs[k][i].max_scan_ms;
            wall[k] = runs[k][i].wall_ms;
            peak[k] = (double)runs[k][i].peak_kb / 1024;
        }
        char label[64], key[64];
        snprintf(label, sizeof label, "%s: longest hold", s_phase_names[i]);
        snprintf(key, sizeof key, "%s_max_hold_ms", s_phase_names[i]);
        stats_report_spread(label, key, "ms", hold, o->runs);
        snprintf(label, sizeof label, "%s: longest in the scan", s_phase_names[i]);
        snprintf(key, sizeof key, "%s_max_scan_ms", s_phase_names[i]);
        stats_report_spread(label, key, "ms", scan, o->runs);
        snprintf(label, sizeof label, "%s: over in", s_phase_names[i]);
        snprintf(key, sizeof key, "%s_wall_ms", s_phase_names[i]);
        stats_report_spread(label, key, "ms", wall, o->runs);
        snprintf(label, sizeof label, "%s: peak memory", s_phase_names[i]);
        snprintf(key, sizeof key, "%s_peak_mb", s_phase_names[i]);
        stats_report_spread(label, key, "MB", peak, o->runs);
    }
}

static int s_size_opt(const char *v, double min, double max, size_t *out)
{
    double d;
    if (stats_number(v, min, max, &d) != 0)
        return -1;
    *out = (size_t)d;
    return 0;
}

static int s_parse(int argc, char **argv, s_opts_t *o)
{
    o->world = decompte_world_default();
    o->changes = 20;
    o->runs = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = -1;
        if (strcmp(a, "--help") == 0) {
            fputs(s_usage, stdout);
            exit(0);
        } else if (strcmp(a, "--vacancies") == 0)
            rc = s_size_opt(v, 1, 1e8, &o->world.vacancies);
        else if (strcmp(a, "--bailleurs") == 0)
            rc = s_size_opt(v, 1, 1000, &o->world.bailleurs);
        else if (strcmp(a, "--reservataires") == 0)
            rc = s_size_opt(v, 1, 1000, &o->world.reservataires);
        else if (strcmp(a, "--communes") == 0)
            rc = s_size_opt(v, 1, 99000, &o->world.communes);
        else if (strcmp(a, "--epcis") == 0)
            rc = s_size_opt(v, 0, 99000, &o->world.epcis);
        else if (strcmp(a, "--sheets") == 0)
            rc = s_size_opt(v, 1, 1000, &o->world.sheets_per_epci);
        else if (strcmp(a, "--changes") == 0)
            rc = s_size_opt(v, 0, 1e6, &o->changes);
        else if (strcmp(a, "--runs") == 0)
            rc = s_size_opt(v, 1, S_MAX_RUNS, &o->runs);
        else if (strcmp(a, "--dir") == 0 && v && strlen(v) < sizeof o->dir)
            rc = (snprintf(o->dir, sizeof o->dir, "%s", v), 0);
        if (rc != 0) {
            fprintf(stderr, "fluxbus-decompte-bench: bad option or value: %s %s\n%s", a, v ? v : "",
                    s_usage);
            return -1;
        }
        i++;
    }
    if (o->world.sheets_per_epci > o->world.communes)
        o->world.sheets_per_epci = o->world.communes;
    return 0;
}

int main(int argc, char **argv)
{
    s_opts_t o;
    memset(&o, 0, sizeof o);
    if (s_parse(argc, argv, &o) != 0)
        return 1;
    if (!o.dir[0]) {
        snprintf(o.dir, sizeof o.dir, "/tmp/fluxbus-decompte-XXXXXX");
        o.own_dir = mkdtemp(o.dir) != NULL;
        if (!o.own_dir)
            return 2;
    } else if (mkdir(o.dir, 0700) != 0 && errno != EEXIST) {
        perror(o.dir);
        return 2;
    }
    char template[320], sig[320];
    snprintf(template, sizeof template, "%s/template.db", o.dir);
    snprintf(sig, sizeof sig, "%s/template.txt", o.dir);
    stats_line("décompte scan: %zu vacancies, %zu bailleurs, %zu réservataires, %zu communes, "
               "%zu EPCIs of %zu, %zu runs",
               o.world.vacancies, o.world.bailleurs, o.world.reservataires, o.world.communes,
               o.world.epcis, o.world.sheets_per_epci, o.runs);
    int rc = s_template_fits(&o, sig) ? 0 : s_fill(&o, template, sig);
    static s_phase_t runs[S_MAX_RUNS][S_PHASES];
    for (size_t k = 0; rc == 0 && k < o.runs; k++)
        rc = s_one_run(&o, template, k, runs[k]);
    for (size_t k = 0; rc == 0 && k < o.runs; k++)
        for (int i = 0; i < S_PHASES; i++)
            rc = runs[k][i].ok ? rc : -1;
    if (rc == 0)
        s_report(&o, runs);
    stats_report_end();
    if (o.own_dir) {
        unlink(template);
        unlink(sig);
        rmdir(o.dir);
    }
    return rc == 0 ? 0 : 2;
}
