/* scen_replay.c - fluxbus-scenario replay: a national year of the flux
 * through the real broker at saturation (see scen.h, replay_msgs.h).
 *
 * One connection and one thread per actor (bailleurs, réservataires, the
 * SNE), each sending its messages and acknowledging its deliveries on the
 * same connection. The year goes in waves: wave 0 carries the
 * conventions; wave w >= 1 starts a cohort of C vacancies and takes every
 * started vacancy one step further, so each wave mixes every kind of
 * message. A step leaves only once the step before it (sent by another
 * actor, on another connection) has its receipt: between waves, every
 * thread waits. Each wave is signed first (the broker idles), then sent
 * with up to W SENDs in flight per connection; the time counted is the
 * sending's, from the first SEND of a wave to its last receipt.
 *
 * Owns the plan of waves, the actors' threads and counters, the report.
 * Invariants: the main thread writes an actor's tasks only between phases
 * (every thread idle); a phase is one generation number, raised after the
 * phase is set, and each thread does each generation once. */
#include "scen.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "load_wire.h"
#include "replay_msgs.h"
#include "stats.h"

#define S_SLICES 10
#define S_TYPES 16
#define S_RECEIPT_WAIT_MS 60000
#define S_IDLE_MS 5
#define S_DRAIN_IDLE_NS 30000000000LL /* no new delivery for 30 s: the drain gives up */
#define S_CONVENTION_STEP UINT8_MAX   /* a task that is a convention (v = b * R + r) */

static const char s_usage[] =
    "usage: fluxbus-scenario replay [--messages N] [--bailleurs B] [--reservataires R]\n"
    "                               [--cohort C] [common options]\n"
    "\n"
    "Replays a national year of the flux through the real broker at saturation:\n"
    "the conventions, then vacancy lifecycles (LogementLibere, Orientation,\n"
    "OrientationAck or Decline, three Designations, Visite, CaleolSeance,\n"
    "CaleolDecisions, PropositionReponse, AttributionNonSuivieDeBail, BailSigne,\n"
    "SneRadiationAck) in the order the ledger accepts, in waves. Prints msgs/s per\n"
    "tenth of the run (a slowdown as the store grows shows), the total, the\n"
    "time projected for 5 M messages, the store's size.\n"
    "\n"
    "  --messages N      messages in all, conventions included (default 5000000)\n"
    "  --bailleurs B     bailleur actors (default 4)\n"
    "  --reservataires R réservataire actors (default 4); plus one SNE\n"
    "  --cohort C        vacancies started per wave (default N / 2000, 10..5000)\n"
    "\n";

typedef struct {
    uint64_t v;   /* the vacancy, or for a convention b * R + r */
    uint8_t step; /* its step, or S_CONVENTION_STEP */
} s_task_t;

typedef struct s_replay s_replay_t;

typedef struct {
    s_replay_t *rp;
    size_t index;
    load_wire_t *wire;
    pthread_t thread;
    s_task_t *tasks; /* this wave's, written by the main thread between phases */
    size_t n_tasks, cap;
    load_msg_t *msgs;
    uint64_t k;       /* messages signed so far: the next one's number */
    uint64_t wave_k0; /* the number of this wave's first message */
    size_t bytes_min, bytes_max;
    uint64_t bytes_total;
    fb_err_t first_nack;
    s_task_t nacked_task;
} s_actor_t;

enum { S_IDLE, S_SIGN, S_SEND, S_END };

struct s_replay {
    scen_t *sc;
    replay_world_t world;
    size_t n_actors;
    fb_keys_t *keys;
    s_actor_t *actors;
    void *zctx;
    uint64_t budget, n_vacancies, cohort;
    atomic_int phase;
    atomic_uint gen;
    atomic_size_t done;
    atomic_uint_fast64_t accepted, nacked, errors, max_seq;
    atomic_uint_fast64_t delivered_ours, delivered_other;
    atomic_uint_fast64_t due; /* deliveries of the messages accepted */
    /* the plan's counts */
    uint64_t planned, deliveries_due;
    const char *type_names[S_TYPES];
    uint64_t type_counts[S_TYPES];
};

/* ---- the actors' threads ----------------------------------------------------- */

static void s_raise_max(atomic_uint_fast64_t *max, uint64_t v)
{
    uint64_t cur = atomic_load(max);
    while (v > cur && !atomic_compare_exchange_weak(max, &cur, v))
        ;
}

/* The task of this wave a receipt answers, or NULL. */
static const s_task_t *s_answered(const s_actor_t *a, const load_wire_event_t *ev)
{
    uint32_t from = 0;
    uint64_t k = 0;
    if (ev->has_id && load_msgs_id_parse(a->rp->world.run, ev->id, &from, &k) && from == a->index &&
        k >= a->wave_k0 && k - a->wave_k0 < a->n_tasks)
        return &a->tasks[k - a->wave_k0];
    return NULL;
}

static void s_note_nack(s_actor_t *a, const load_wire_event_t *ev)
{
    atomic_fetch_add(&a->rp->nacked, 1);
    const s_task_t *t = s_answered(a, ev);
    if (a->first_nack != FB_OK)
        return;
    a->first_nack = ev->reason;
    if (t)
        a->nacked_task = *t;
}

/* An accepted message: counted, and its deliveries now due. */
static void s_note_accepted(s_actor_t *a, const load_wire_event_t *ev)
{
    s_replay_t *rp = a->rp;
    atomic_fetch_add(&rp->accepted, 1);
    s_raise_max(&rp->max_seq, ev->seq);
    const s_task_t *t = s_answered(a, ev);
    if (t)
        atomic_fetch_add(&rp->due,
                         t->step == S_CONVENTION_STEP ? 1 : replay_recipients(t->v, t->step));
}

/* Every frame set an actor reads: receipts counted, deliveries acked. */
static fb_err_t s_on_event(void *ctx, load_wire_t *w, const load_wire_event_t *ev, fb_err_t rc)
{
    s_actor_t *a = ctx;
    s_replay_t *rp = a->rp;
    if (rc == FB_OK && ev->kind == LOAD_WIRE_DELIVER)
        rc = load_wire_ack(w, ev->seq, ev->id);
    if (rc != FB_OK) {
        atomic_fetch_add(&rp->errors, 1);
        fprintf(stderr, "fluxbus-scenario: %s: %s\n", rp->keys[a->index].actor, fb_err_name(rc));
        return FB_OK; /* counted; the run goes on */
    }
    uint32_t from = 0;
    uint64_t k = 0;
    if (ev->kind == LOAD_WIRE_DELIVER) {
        bool ours = load_msgs_id_parse(rp->world.run, ev->id, &from, &k);
        atomic_fetch_add(ours ? &rp->delivered_ours : &rp->delivered_other, 1);
    } else if (ev->kind == LOAD_WIRE_RECEIPT && ev->accepted) {
        s_note_accepted(a, ev);
    } else if (ev->kind == LOAD_WIRE_RECEIPT) {
        s_note_nack(a, ev);
    }
    return FB_OK;
}

static fb_err_t s_sign_task(s_actor_t *a, const s_task_t *t, uint64_t k, load_msg_t *out)
{
    const replay_world_t *w = &a->rp->world;
    if (t->step == S_CONVENTION_STEP)
        return replay_sign_convention(w, (size_t)(t->v / w->n_resas), (size_t)(t->v % w->n_resas),
                                      k, out);
    return replay_sign_step(w, t->v, t->step, k, out);
}

static fb_err_t s_sign_wave(s_actor_t *a)
{
    a->msgs = calloc(a->n_tasks ? a->n_tasks : 1, sizeof *a->msgs);
    if (!a->msgs)
        return FB_ERR_NOMEM;
    a->wave_k0 = a->k;
    for (size_t i = 0; i < a->n_tasks; i++) {
        fb_err_t rc = s_sign_task(a, &a->tasks[i], a->k++, &a->msgs[i]);
        if (rc != FB_OK)
            return rc;
        size_t len = a->msgs[i].len;
        a->bytes_min = len < a->bytes_min ? len : a->bytes_min;
        a->bytes_max = len > a->bytes_max ? len : a->bytes_max;
        a->bytes_total += len;
    }
    return FB_OK;
}

static void s_run_phase(s_actor_t *a, int phase)
{
    s_replay_t *rp = a->rp;
    fb_err_t rc = FB_OK;
    if (phase == S_SIGN) {
        rc = s_sign_wave(a);
    } else if (phase == S_SEND) {
        rc = load_wire_pipeline(a->wire, a->msgs, a->n_tasks, rp->sc->window, S_RECEIPT_WAIT_MS,
                                s_on_event, a);
        load_msgs_free(a->msgs, a->n_tasks);
        free(a->msgs);
        a->msgs = NULL;
    }
    if (rc != FB_OK) {
        atomic_fetch_add(&rp->errors, 1);
        fprintf(stderr, "fluxbus-scenario: %s %s: %s\n", phase == S_SIGN ? "sign" : "send",
                rp->keys[a->index].actor, fb_err_name(rc));
    }
}

static void *s_actor_main(void *arg)
{
    s_actor_t *a = arg;
    s_replay_t *rp = a->rp;
    unsigned seen = 0;
    for (;;) {
        unsigned gen = atomic_load(&rp->gen);
        if (gen == seen) { /* between phases: deliveries keep coming */
            load_wire_serve(a->wire, S_IDLE_MS, s_on_event, a);
            continue;
        }
        seen = gen;
        int phase = atomic_load(&rp->phase);
        if (phase == S_END)
            return NULL;
        s_run_phase(a, phase);
        atomic_fetch_add(&rp->done, 1);
    }
}

/* ---- the main thread: phases ------------------------------------------------- */

/* Runs one phase on every actor and waits for all. */
static void s_phase(s_replay_t *rp, int phase)
{
    atomic_store(&rp->done, 0);
    atomic_store(&rp->phase, phase);
    atomic_fetch_add(&rp->gen, 1);
    if (phase == S_END)
        return;
    while (atomic_load(&rp->done) < rp->n_actors)
        stats_sleep_until_ns(stats_now_ns() + 200000);
}

/* ---- the plan ------------------------------------------------------------------ */

static int s_add_task(s_replay_t *rp, size_t actor, s_task_t t)
{
    s_actor_t *a = &rp->actors[actor];
    if (a->n_tasks == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 256;
        s_task_t *grown = realloc(a->tasks, cap * sizeof *grown);
        if (!grown)
            return -1;
        a->tasks = grown;
        a->cap = cap;
    }
    a->tasks[a->n_tasks++] = t;
    rp->planned++;
    return 0;
}

static void s_count_type(s_replay_t *rp, const char *name)
{
    for (size_t i = 0; i < S_TYPES; i++) {
        if (!rp->type_names[i])
            rp->type_names[i] = name;
        if (rp->type_names[i] == name) {
            rp->type_counts[i]++;
            return;
        }
    }
}

/* Vacancies whose lives (and the conventions) make the budget. */
static uint64_t s_vacancies_for(const s_replay_t *rp)
{
    uint64_t total = rp->world.n_bailleurs * rp->world.n_resas, v = 0;
    while (total < rp->budget)
        total += replay_steps(v++);
    return v;
}

/* Wave w's tasks into the actors (0: the conventions); the number. */
static uint64_t s_plan_wave(s_replay_t *rp, uint64_t w)
{
    for (size_t i = 0; i < rp->n_actors; i++)
        rp->actors[i].n_tasks = 0;
    uint64_t before = rp->planned;
    const replay_world_t *world = &rp->world;
    if (w == 0) {
        for (uint64_t c = 0; c < world->n_bailleurs * world->n_resas; c++)
            if (s_add_task(rp, (size_t)(c / world->n_resas), (s_task_t){c, S_CONVENTION_STEP}) ==
                0) {
                s_count_type(rp, "Convention");
                rp->deliveries_due++;
            }
        return rp->planned - before;
    }
    uint64_t c = rp->cohort, hi = w * c < rp->n_vacancies ? w * c : rp->n_vacancies;
    uint64_t lo = w > REPLAY_MAX_STEPS ? (w - REPLAY_MAX_STEPS) * c : 0;
    for (uint64_t v = lo; v < hi && rp->planned < rp->budget; v++) {
        uint64_t s = w - 1 - v / c;
        if (s >= replay_steps(v))
            continue;
        if (s_add_task(rp, replay_sender(world, v, (size_t)s), (s_task_t){v, (uint8_t)s}) != 0)
            break;
        s_count_type(rp, replay_type_name(v, (size_t)s));
        rp->deliveries_due += replay_recipients(v, (size_t)s);
    }
    return rp->planned - before;
}

/* ---- the run --------------------------------------------------------------------- */

typedef struct {
    uint64_t msgs;
    double send_s;
    uint64_t stored_end; /* store seq at the slice's end */
    long long store_bytes;
    long rss_kb;
} s_slice_t;

typedef struct {
    s_slice_t slices[S_SLICES];
    double send_s, sign_s, wall_s, broker_cpu_s;
    uint64_t waves;
    stats_proc_t broker_end;
    bool broker_measured;
} s_figures_t;

static double s_cpu_of(pid_t pid)
{
    stats_proc_t p;
    return pid > 0 && stats_proc_read(pid, &p) == 0 ? p.cpu_s : 0;
}

/* Sends wave w (planned already, n messages): signed, then timed. */
static void s_wave(s_replay_t *rp, uint64_t n, s_figures_t *f)
{
    pid_t pid = rp->sc->bus.pid;
    int64_t t0 = stats_now_ns();
    s_phase(rp, S_SIGN);
    int64_t t1 = stats_now_ns();
    double cpu0 = s_cpu_of(pid);
    s_phase(rp, S_SEND);
    int64_t t2 = stats_now_ns();
    f->broker_cpu_s += s_cpu_of(pid) - cpu0;
    f->sign_s += (double)(t1 - t0) / 1e9;
    double send_s = (double)(t2 - t1) / 1e9;
    f->send_s += send_s;
    uint64_t mid = rp->planned - n / 2; /* the tenth that holds the wave's middle */
    size_t slice = (size_t)((mid * S_SLICES) / (rp->budget ? rp->budget : 1));
    s_slice_t *sl = &f->slices[slice < S_SLICES ? slice : S_SLICES - 1];
    sl->msgs += n;
    sl->send_s += send_s;
    sl->stored_end = atomic_load(&rp->max_seq);
    sl->store_bytes = load_bus_store_bytes(&rp->sc->bus);
    stats_proc_t p;
    sl->rss_kb = pid > 0 && stats_proc_read(pid, &p) == 0 ? p.rss_kb : 0;
}

/* Every delivery due arrived, or none came for a while. */
static void s_drain(s_replay_t *rp)
{
    uint64_t last = 0;
    int64_t last_at = stats_now_ns();
    while (atomic_load(&rp->delivered_ours) < atomic_load(&rp->due) &&
           atomic_load(&rp->errors) == 0) {
        uint64_t now_count = atomic_load(&rp->delivered_ours);
        if (now_count != last) {
            last = now_count;
            last_at = stats_now_ns();
        } else if (stats_now_ns() - last_at > S_DRAIN_IDLE_NS) {
            fprintf(stderr, "fluxbus-scenario: no delivery for 30 s; %llu of %llu came\n",
                    (unsigned long long)now_count, (unsigned long long)atomic_load(&rp->due));
            return;
        }
        stats_sleep_until_ns(stats_now_ns() + 10000000);
    }
}

static void s_run(s_replay_t *rp, s_figures_t *f)
{
    int64_t t0 = stats_now_ns();
    for (uint64_t w = 0; rp->planned < rp->budget && atomic_load(&rp->errors) == 0; w++) {
        uint64_t n = s_plan_wave(rp, w);
        if (n == 0 && w > 0 && w * rp->cohort >= rp->n_vacancies + REPLAY_MAX_STEPS * rp->cohort)
            break; /* nothing left to plan (a budget the plan cannot fill) */
        if (n)
            s_wave(rp, n, f);
        f->waves++;
        if (n && w % 20 == 0)
            fprintf(stderr, "fluxbus-scenario: wave %llu, %llu of %llu messages\n",
                    (unsigned long long)w, (unsigned long long)rp->planned,
                    (unsigned long long)rp->budget);
    }
    s_drain(rp);
    f->wall_s = (double)(stats_now_ns() - t0) / 1e9;
    f->broker_measured =
        rp->sc->bus.pid > 0 && stats_proc_read(rp->sc->bus.pid, &f->broker_end) == 0;
}

/* ---- the report ------------------------------------------------------------------ */

static void s_report_plan(const s_replay_t *rp, const s_figures_t *f)
{
    const replay_world_t *w = &rp->world;
    stats_line("fluxbus-scenario replay: %llu messages of a national year: %zu conventions, %llu "
               "vacancies (%llu started per wave), %zu bailleurs, %zu reservataires, 1 SNE; "
               "window %u",
               (unsigned long long)rp->budget, w->n_bailleurs * w->n_resas,
               (unsigned long long)rp->n_vacancies, (unsigned long long)rp->cohort, w->n_bailleurs,
               w->n_resas, rp->sc->window);
    for (size_t i = 0; i < S_TYPES && rp->type_names[i]; i++)
        stats_line("  %-28s %10llu  %5.1f %%", rp->type_names[i],
                   (unsigned long long)rp->type_counts[i],
                   100.0 * (double)rp->type_counts[i] / (double)(rp->planned ? rp->planned : 1));
    size_t min = SIZE_MAX, max = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < rp->n_actors; i++) {
        min = rp->actors[i].bytes_min < min ? rp->actors[i].bytes_min : min;
        max = rp->actors[i].bytes_max > max ? rp->actors[i].bytes_max : max;
        total += rp->actors[i].bytes_total;
    }
    double mean = (double)total / (double)(rp->planned ? rp->planned : 1);
    stats_line("envelopes              %zu..%zu B, mean %.0f B (natural sizes)", min, max, mean);
    stats_line("signed in %.1f s, wave by wave, the broker idle meanwhile (not counted); %llu "
               "waves",
               f->sign_s, (unsigned long long)f->waves);
    stats_kv("messages", "%llu", (unsigned long long)rp->budget);
    stats_kv("vacancies", "%llu", (unsigned long long)rp->n_vacancies);
    stats_kv("cohort", "%llu", (unsigned long long)rp->cohort);
    stats_kv("waves", "%llu", (unsigned long long)f->waves);
    stats_kv("window", "%u", rp->sc->window);
    stats_kv("size_min", "%zu", min);
    stats_kv("size_max", "%zu", max);
    stats_kv("size_mean", "%.0f", mean);
    stats_kv("sign_s", "%.2f", f->sign_s);
}

static void s_report_slices(const s_figures_t *f)
{
    stats_line("%-6s %10s %12s %9s %9s %10s %11s", "tenth", "messages", "stored", "send s", "msg/s",
               "store MB", "broker MB");
    for (size_t i = 0; i < S_SLICES; i++) {
        const s_slice_t *s = &f->slices[i];
        double rate = s->send_s > 0 ? (double)s->msgs / s->send_s : 0;
        stats_line("%-6zu %10llu %12llu %9.1f %9.0f %10.1f %11.1f", i + 1,
                   (unsigned long long)s->msgs, (unsigned long long)s->stored_end, s->send_s, rate,
                   (double)s->store_bytes / 1e6, (double)s->rss_kb / 1024);
        char k[32];
        snprintf(k, sizeof k, "tenth%zu_per_s", i + 1);
        stats_kv(k, "%.1f", rate);
    }
}

/* The sending time of n messages from an empty store, were the time per
 * message a + b x stored as fitted (least squares) on the tenths: a n +
 * b n^2 / 2 (b < 0, no slowdown, counts as 0). 0 with fewer than two
 * tenths. */
static double s_projected(const s_figures_t *f, double n)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0, k = 0;
    for (size_t i = 0; i < S_SLICES; i++) {
        const s_slice_t *s = &f->slices[i];
        if (!s->msgs || s->send_s <= 0)
            continue;
        double x = (double)s->stored_end - (double)s->msgs / 2, y = s->send_s / (double)s->msgs;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        k++;
    }
    double den = k * sxx - sx * sx;
    if (k < 2 || den <= 0)
        return 0;
    double b = (k * sxy - sx * sy) / den, a = (sy - b * sx) / k;
    b = b > 0 ? b : 0;
    return a * n + b * n * n / 2;
}

static int s_report(s_replay_t *rp, const s_figures_t *f)
{
    s_report_plan(rp, f);
    s_report_slices(f);
    uint64_t accepted = atomic_load(&rp->accepted), nacked = atomic_load(&rp->nacked);
    uint64_t errors = atomic_load(&rp->errors), ours = atomic_load(&rp->delivered_ours);
    double rate = f->send_s > 0 ? (double)accepted / f->send_s : 0;
    stats_line("replay                 %llu accepted in %.1f s of sending = %.0f msg/s; wall "
               "%.1f s with the signing",
               (unsigned long long)accepted, f->send_s, rate, f->wall_s);
    double projected = rate > 0 ? 5e6 / rate : 0, slowing = s_projected(f, 5e6);
    stats_line("5 M messages           %.0f s at this rate; %.0f s as the time per message grows "
               "with the store here (linear fit on the tenths); target <= 300 s",
               projected, slowing);
    stats_line("refused / errors       %llu / %llu", (unsigned long long)nacked,
               (unsigned long long)errors);
    uint64_t due = atomic_load(&rp->due);
    stats_line("delivered              %llu of %llu due (and %llu of the broker's own messages)",
               (unsigned long long)ours, (unsigned long long)due,
               (unsigned long long)atomic_load(&rp->delivered_other));
    for (size_t i = 0; i < rp->n_actors; i++)
        if (rp->actors[i].first_nack != FB_OK) {
            const s_task_t *t = &rp->actors[i].nacked_task;
            stats_line("first refusal of %s: %s, step %u of vacancy %llu (its detail: the broker "
                       "log)",
                       rp->keys[i].actor, fb_err_name(rp->actors[i].first_nack), t->step,
                       (unsigned long long)t->v);
        }
    stats_kv("accepted", "%llu", (unsigned long long)accepted);
    stats_kv("nacked", "%llu", (unsigned long long)nacked);
    stats_kv("errors", "%llu", (unsigned long long)errors);
    stats_kv("delivered", "%llu", (unsigned long long)ours);
    stats_kv("deliveries_due", "%llu", (unsigned long long)due);
    stats_kv("send_s", "%.2f", f->send_s);
    stats_kv("wall_s", "%.2f", f->wall_s);
    stats_kv("msgs_per_s", "%.1f", rate);
    stats_kv("projected_5m_s", "%.0f", projected);
    stats_kv("projected_5m_fit_s", "%.0f", slowing);
    stats_kv("stored", "%llu", (unsigned long long)atomic_load(&rp->max_seq));
    if (f->broker_measured) {
        double per = accepted ? f->broker_cpu_s / (double)accepted * 1e6 : 0;
        stats_line("broker                 %.1f us CPU per message (%.2f cores while sending), "
                   "RSS %.1f MB, peak %.1f MB",
                   per, f->send_s > 0 ? f->broker_cpu_s / f->send_s : 0,
                   (double)f->broker_end.rss_kb / 1024, (double)f->broker_end.hwm_kb / 1024);
        stats_kv("broker_cpu_us_per_msg", "%.1f", per);
        stats_kv("broker_rss_kb", "%ld", f->broker_end.rss_kb);
        stats_kv("broker_hwm_kb", "%ld", f->broker_end.hwm_kb);
    }
    long long store = scen_report_store(rp->sc, "store", "store_bytes");
    if (store > 0 && accepted)
        stats_line("store per message      %.0f B", (double)store / (double)accepted);
    long long log = load_bus_log_bytes(&rp->sc->bus);
    if (log >= 0)
        stats_line("broker log             %.1f MB", (double)log / 1e6);
    stats_kv("log_bytes", "%lld", log);
    bool sane = nacked == 0 && errors == 0 && accepted == rp->budget && ours == due &&
                due == rp->deliveries_due && rate > 0;
    return scen_finish(rp->sc, sane, "refusals, errors, or messages not accepted or not delivered");
}

/* ---- setting up ---------------------------------------------------------------- */

static int s_parse(s_replay_t *rp, int argc, char **argv)
{
    const scen_opt_t opts[] = {{"--messages", SCEN_U64, &rp->budget, 100, 1e9},
                               {"--bailleurs", SCEN_SIZE, &rp->world.n_bailleurs, 1, 200},
                               {"--reservataires", SCEN_SIZE, &rp->world.n_resas, 2, 200},
                               {"--cohort", SCEN_U64, &rp->cohort, 1, 1e6}};
    return scen_parse(rp->sc, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, NULL, s_usage);
}

/* The actors registered, connected and announced as receivers. */
static int s_actors(s_replay_t *rp)
{
    replay_world_t *w = &rp->world;
    rp->n_actors = w->n_bailleurs + w->n_resas + 1;
    rp->keys = calloc(rp->n_actors, sizeof *rp->keys);
    rp->actors = calloc(rp->n_actors, sizeof *rp->actors);
    if (!rp->keys || !rp->actors)
        return -1;
    for (size_t i = 0; i < rp->n_actors; i++) {
        const char *role = i < w->n_bailleurs                ? "bailleur"
                           : i < w->n_bailleurs + w->n_resas ? "reservataire"
                                                             : "sne";
        size_t n = i < w->n_bailleurs ? i : i - w->n_bailleurs;
        if (scen_actor(rp->sc, role, n, &rp->keys[i]) != 0)
            return -1;
        rp->actors[i] = (s_actor_t){.rp = rp, .index = i, .bytes_min = SIZE_MAX};
    }
    w->actors = rp->keys;
    return 0;
}

static int s_connect(s_replay_t *rp)
{
    rp->zctx = zmq_ctx_new();
    for (size_t i = 0; rp->zctx && i < rp->n_actors; i++) {
        load_wire_config_t wc = {.endpoint = rp->sc->bus.endpoint,
                                 .keys = &rp->keys[i],
                                 .broker = &rp->sc->bus.broker,
                                 .zmq_ctx = rp->zctx,
                                 .timeout_ms = 10000};
        fb_err_t rc = FB_OK;
        rp->actors[i].wire = load_wire_new(&wc, &rc);
        if (rc == FB_OK)
            rc = load_wire_hello(rp->actors[i].wire, rp->sc->window);
        if (rc != FB_OK) {
            fprintf(stderr, "fluxbus-scenario: connect %s: %s\n", rp->keys[i].actor,
                    fb_err_name(rc));
            return -1;
        }
    }
    return rp->zctx ? 0 : -1;
}

static void s_free(s_replay_t *rp)
{
    for (size_t i = 0; rp->actors && i < rp->n_actors; i++) {
        load_wire_destroy(&rp->actors[i].wire);
        free(rp->actors[i].tasks);
    }
    for (size_t i = 0; rp->keys && i < rp->n_actors; i++)
        fb_keys_wipe(&rp->keys[i]);
    if (rp->zctx)
        zmq_ctx_term(rp->zctx);
    free(rp->actors);
    free(rp->keys);
}

int scen_replay(scen_t *sc, int argc, char **argv)
{
    s_replay_t rp = {.sc = sc, .budget = 5000000, .world = {.n_bailleurs = 4, .n_resas = 4}};
    if (s_parse(&rp, argc, argv) != 0)
        return SCEN_USAGE;
    if (!rp.cohort) {
        double c = (double)rp.budget / 2000;
        rp.cohort = (uint64_t)(c < 10 ? 10 : c > 5000 ? 5000 : c);
    }
    uint8_t nonce[FB_MESSAGE_ID_BYTES];
    fb_message_id_new(nonce);
    memcpy(rp.world.run, nonce, sizeof rp.world.run);
    rp.n_vacancies = s_vacancies_for(&rp);
    if (scen_open(sc) != 0)
        return SCEN_BUS;
    int code = s_actors(&rp) == 0 && scen_start(sc, sc->window) == 0 && s_connect(&rp) == 0
                   ? SCEN_OK
                   : SCEN_BUS;
    size_t started = 0;
    for (; code == SCEN_OK && started < rp.n_actors; started++)
        if (pthread_create(&rp.actors[started].thread, NULL, s_actor_main, &rp.actors[started]))
            code = SCEN_BUS;
    s_figures_t f;
    memset(&f, 0, sizeof f);
    if (code == SCEN_OK)
        s_run(&rp, &f);
    s_phase(&rp, S_END);
    for (size_t i = 0; i < started; i++)
        pthread_join(rp.actors[i].thread, NULL);
    if (code == SCEN_OK)
        code = s_report(&rp, &f);
    s_free(&rp);
    return scen_close(sc, code);
}
