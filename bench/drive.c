/* drive.c - the timed window, the schedule and the counters of a load run
 * (see drive.h).
 *
 * Owns the send time of every message (shared: senders write, receivers
 * read), the counters, the threads' samples and the two barriers. Knows
 * nothing of any bus.
 *
 * Invariants: a send time is stored (release) before the message leaves,
 * and read (acquire) by whoever sees its answer or delivery; every thread
 * meets both barriers, even one that failed, so none hangs; the window's
 * figures are read by the main thread alone, between the barriers and the
 * raising of `stop`. */
#include "drive.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define S_LATE_NS 10000000LL /* a fixed-rate send this late is counted */
#define S_POLL_MS 50

typedef struct {
    _Atomic int64_t *t_send; /* per message: when it left (ns) */
    stats_samples_t ack;
    uint64_t late;
} s_sender_t;

struct drive {
    drive_config_t cfg;
    pthread_barrier_t ready, go;
    int64_t t0;          /* window start; written before `go` */
    int64_t drain_until; /* written before `stop` is raised */
    atomic_int stop;     /* the window is over: nothing new leaves */
    atomic_int senders_done;
    atomic_uint_fast64_t sent, accepted, nacked, delivered, errors;
    s_sender_t *senders;
    stats_samples_t *e2e; /* per receiver */
};

drive_t *drive_new(const drive_config_t *cfg)
{
    drive_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    self->senders = calloc(cfg->n_senders, sizeof *self->senders);
    self->e2e = calloc(cfg->n_recipients ? cfg->n_recipients : 1, sizeof *self->e2e);
    bool ok = self->senders && self->e2e;
    for (size_t i = 0; ok && i < cfg->n_senders; i++)
        ok = (self->senders[i].t_send = calloc(cfg->per_sender, sizeof(int64_t))) != NULL;
    unsigned parties = (unsigned)(cfg->n_senders + cfg->n_recipients + 1);
    if (!ok) {
        drive_destroy(&self);
        return NULL;
    }
    pthread_barrier_init(&self->ready, NULL, parties);
    pthread_barrier_init(&self->go, NULL, parties);
    return self;
}

void drive_destroy(drive_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    drive_t *self = *self_p;
    for (size_t i = 0; self->senders && i < self->cfg.n_senders; i++) {
        free((void *)self->senders[i].t_send);
        stats_samples_free(&self->senders[i].ack);
    }
    for (size_t j = 0; self->e2e && j < self->cfg.n_recipients; j++)
        stats_samples_free(&self->e2e[j]);
    if (self->senders && self->e2e) {
        pthread_barrier_destroy(&self->ready);
        pthread_barrier_destroy(&self->go);
    }
    free(self->senders);
    free(self->e2e);
    free(self);
    *self_p = NULL;
}

/* ---- in the threads ------------------------------------------------------- */

bool drive_ready(drive_t *self, bool ok)
{
    if (!ok)
        atomic_fetch_add(&self->errors, 1);
    pthread_barrier_wait(&self->ready);
    pthread_barrier_wait(&self->go);
    return atomic_load(&self->errors) == 0;
}

/* When message k of sender s is due: at once at saturation, on the
 * schedule at a fixed rate. */
static int64_t s_due(const drive_t *self, size_t s, uint64_t k)
{
    if (self->cfg.rate <= 0)
        return 0;
    double interval = 1e9 * (double)self->cfg.n_senders / self->cfg.rate;
    double stagger = (double)s / (double)self->cfg.n_senders;
    return self->t0 + (int64_t)(interval * ((double)k + stagger));
}

bool drive_may_send(drive_t *self, size_t s, uint64_t next, unsigned inflight)
{
    return next < self->cfg.per_sender && inflight < self->cfg.window &&
           !atomic_load(&self->stop) && s_due(self, s, next) <= stats_now_ns();
}

void drive_sent(drive_t *self, size_t s, uint64_t k)
{
    int64_t now = stats_now_ns(), due = s_due(self, s, k);
    if (due && now - due > S_LATE_NS)
        self->senders[s].late++;
    atomic_store_explicit(&self->senders[s].t_send[k], now, memory_order_release);
    atomic_fetch_add(&self->sent, 1);
}

bool drive_sending(drive_t *self, size_t s, uint64_t next, unsigned inflight)
{
    (void)s;
    bool stopping = atomic_load(&self->stop);
    if (inflight == 0 && (next >= self->cfg.per_sender || stopping))
        return false;
    return !(stopping && stats_now_ns() > self->drain_until);
}

int drive_wait_ms(drive_t *self, size_t s, uint64_t next, unsigned inflight)
{
    if (self->cfg.rate <= 0 || next >= self->cfg.per_sender || inflight >= self->cfg.window ||
        atomic_load(&self->stop))
        return S_POLL_MS;
    int64_t left = s_due(self, s, next) - stats_now_ns();
    if (left <= 0)
        return 0;
    int ms = (int)((left + 999999) / 1000000);
    return ms > S_POLL_MS ? S_POLL_MS : ms;
}

/* The time message k of sender s left, or -1. */
static int64_t s_sent_at(drive_t *self, size_t s, uint64_t k)
{
    if (s >= self->cfg.n_senders || k >= self->cfg.per_sender)
        return -1;
    int64_t at = atomic_load_explicit(&self->senders[s].t_send[k], memory_order_acquire);
    return at > 0 ? at : -1;
}

void drive_answered(drive_t *self, size_t s, uint64_t k, bool accepted)
{
    int64_t at = s_sent_at(self, s, k);
    if (at > 0)
        stats_samples_add(&self->senders[s].ack, stats_now_ns() - at);
    atomic_fetch_add(accepted ? &self->accepted : &self->nacked, 1);
}

bool drive_receiving(drive_t *self)
{
    if (atomic_load(&self->stop) && stats_now_ns() > self->drain_until)
        return false;
    return !atomic_load(&self->senders_done) ||
           atomic_load(&self->delivered) < atomic_load(&self->accepted);
}

void drive_delivered(drive_t *self, size_t r, size_t from, uint64_t k)
{
    int64_t at = s_sent_at(self, from, k);
    if (at > 0)
        stats_samples_add(&self->e2e[r], stats_now_ns() - at);
    atomic_fetch_add(&self->delivered, 1);
}

void drive_error(drive_t *self, const char *what, const char *who, const char *reason)
{
    atomic_fetch_add(&self->errors, 1);
    fprintf(stderr, "load: %s %s: %s\n", what, who, reason);
}

/* ---- in the main thread ----------------------------------------------------- */

static double s_cpu_self_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* At saturation, what ends the window: every message delivered, or
 * answered when no receiver is connected. */
static uint64_t s_done(drive_t *self)
{
    if (self->cfg.n_recipients)
        return atomic_load(&self->delivered);
    return atomic_load(&self->accepted) + atomic_load(&self->nacked);
}

/* Until the duration passed, or at saturation everything was done, or a
 * thread failed. */
static void s_watch(drive_t *self)
{
    uint64_t all = (uint64_t)self->cfg.per_sender * self->cfg.n_senders;
    int64_t end = self->t0 + (int64_t)(self->cfg.duration_s * 1e9);
    while (stats_now_ns() < end && atomic_load(&self->errors) == 0) {
        if (self->cfg.rate <= 0 && s_done(self) >= all)
            return;
        stats_sleep_until_ns(stats_now_ns() + 2000000);
    }
}

void drive_window(drive_t *self, drive_result_t *res)
{
    pid_t pid = self->cfg.broker_pid;
    pthread_barrier_wait(&self->ready); /* every thread connected and prepared */
    res->broker_measured = pid > 0 && stats_proc_read(pid, &res->broker_start) == 0;
    double cpu0 = s_cpu_self_s(), machine0 = stats_machine_busy_s();
    self->t0 = stats_now_ns();
    pthread_barrier_wait(&self->go);
    s_watch(self);
    int64_t t1 = stats_now_ns();
    res->accepted_in_window = atomic_load(&self->accepted);
    res->delivered_in_window = atomic_load(&self->delivered);
    res->generator_cpu_s = s_cpu_self_s() - cpu0;
    double machine1 = stats_machine_busy_s();
    res->machine_cpu_s = machine0 >= 0 && machine1 >= 0 ? machine1 - machine0 : -1;
    if (res->broker_measured)
        res->broker_measured = stats_proc_read(pid, &res->broker_end) == 0;
    res->window_s = (double)(t1 - self->t0) / 1e9;
    res->pool_exhausted = self->cfg.rate <= 0 &&
                          atomic_load(&self->sent) >= self->cfg.per_sender * self->cfg.n_senders;
    self->drain_until = t1 + (int64_t)(self->cfg.drain_s * 1e9);
    atomic_store(&self->stop, 1);
}

void drive_senders_done(drive_t *self)
{
    atomic_store(&self->senders_done, 1);
}

void drive_collect(drive_t *self, drive_result_t *res)
{
    res->sent = atomic_load(&self->sent);
    res->accepted = atomic_load(&self->accepted);
    res->nacked = atomic_load(&self->nacked);
    res->delivered = atomic_load(&self->delivered);
    res->errors = atomic_load(&self->errors);
    for (size_t i = 0; i < self->cfg.n_senders; i++) {
        stats_samples_merge(&res->ack, &self->senders[i].ack);
        res->late_sends += self->senders[i].late;
    }
    for (size_t j = 0; j < self->cfg.n_recipients; j++)
        stats_samples_merge(&res->e2e, &self->e2e[j]);
}

int drive_receiver_e2e(drive_t *self, size_t r, stats_samples_t *into)
{
    return r < self->cfg.n_recipients ? stats_samples_merge(into, &self->e2e[r]) : 0;
}

void drive_result_free(drive_result_t *res)
{
    stats_samples_free(&res->ack);
    stats_samples_free(&res->e2e);
}

/* ---- the report -------------------------------------------------------------- */

void drive_report_setup(const drive_config_t *cfg, const char *tool, const char *what, size_t size)
{
    char mode[64];
    if (cfg->rate > 0)
        snprintf(mode, sizeof mode, "fixed rate %.0f msg/s", cfg->rate);
    else
        snprintf(mode, sizeof mode, "saturation");
    stats_line("%s: %s, %zu senders -> %zu recipients, %s of %zu B, window %u", tool, mode,
               cfg->n_senders, cfg->n_recipients, what, size, cfg->window);
    stats_kv("mode", "%s", cfg->rate > 0 ? "rate" : "saturation");
    stats_kv("senders", "%zu", cfg->n_senders);
    stats_kv("recipients", "%zu", cfg->n_recipients);
    stats_kv("window", "%u", cfg->window);
    stats_kv("size_bytes", "%zu", size);
    stats_kv("rate_target", "%.1f", cfg->rate);
    stats_kv("nproc", "%ld", sysconf(_SC_NPROCESSORS_ONLN));
}

static void s_report_counts(const drive_result_t *r)
{
    double w = r->window_s > 0 ? r->window_s : 1;
    stats_line("window                 %.2f s%s", r->window_s,
               r->pool_exhausted ? " (every prepared message sent: ended early)" : "");
    stats_line("sent / accepted        %llu / %llu  (refused %llu, errors %llu, late sends %llu)",
               (unsigned long long)r->sent, (unsigned long long)r->accepted,
               (unsigned long long)r->nacked, (unsigned long long)r->errors,
               (unsigned long long)r->late_sends);
    stats_line("accepted in window     %llu  = %.0f msg/s",
               (unsigned long long)r->accepted_in_window, (double)r->accepted_in_window / w);
    stats_line("delivered in window    %llu  = %.0f msg/s  (after the drain: %llu)",
               (unsigned long long)r->delivered_in_window, (double)r->delivered_in_window / w,
               (unsigned long long)r->delivered);
    stats_kv("window_s", "%.3f", r->window_s);
    stats_kv("pool_exhausted", "%d", r->pool_exhausted ? 1 : 0);
    stats_kv("sent", "%llu", (unsigned long long)r->sent);
    stats_kv("accepted", "%llu", (unsigned long long)r->accepted);
    stats_kv("nacked", "%llu", (unsigned long long)r->nacked);
    stats_kv("delivered", "%llu", (unsigned long long)r->delivered);
    stats_kv("lost", "%lld", (long long)r->accepted - (long long)r->delivered);
    stats_kv("errors", "%llu", (unsigned long long)r->errors);
    stats_kv("late_sends", "%llu", (unsigned long long)r->late_sends);
    stats_kv("accepted_per_s", "%.1f", (double)r->accepted_in_window / w);
    stats_kv("delivered_per_s", "%.1f", (double)r->delivered_in_window / w);
}

static void s_report_resources(const drive_result_t *r)
{
    double w = r->window_s > 0 ? r->window_s : 1;
    if (r->broker_measured) {
        double cpu = r->broker_end.cpu_s - r->broker_start.cpu_s;
        double per = r->delivered_in_window ? cpu / (double)r->delivered_in_window * 1e6 : 0;
        stats_line("broker CPU             %.2f s in the window = %.2f cores, %.1f us per "
                   "delivered message",
                   cpu, cpu / w, per);
        stats_line("broker memory          RSS %.1f MB, peak %.1f MB",
                   (double)r->broker_end.rss_kb / 1024, (double)r->broker_end.hwm_kb / 1024);
        stats_kv("broker_cpu_s", "%.3f", cpu);
        stats_kv("broker_cores", "%.3f", cpu / w);
        stats_kv("broker_cpu_us_per_msg", "%.1f", per);
        stats_kv("broker_rss_kb", "%ld", r->broker_end.rss_kb);
        stats_kv("broker_hwm_kb", "%ld", r->broker_end.hwm_kb);
    } else {
        stats_line("broker CPU and memory  not measured (no broker pid)");
    }
    stats_line("generator CPU          %.2f s in the window = %.2f cores", r->generator_cpu_s,
               r->generator_cpu_s / w);
    stats_kv("generator_cpu_s", "%.3f", r->generator_cpu_s);
    if (r->machine_cpu_s < 0)
        return;
    /* What the broker and its clients cost together, other processes
     * included: on a machine kept for the bench, the per-message floor. */
    double per =
        r->delivered_in_window ? r->machine_cpu_s / (double)r->delivered_in_window * 1e6 : 0;
    stats_line("machine CPU            %.2f s in the window = %.2f cores, %.1f us per "
               "delivered message (every process)",
               r->machine_cpu_s, r->machine_cpu_s / w, per);
    stats_kv("machine_cpu_s", "%.3f", r->machine_cpu_s);
    stats_kv("machine_cores", "%.3f", r->machine_cpu_s / w);
    stats_kv("machine_cpu_us_per_msg", "%.1f", per);
    double gper =
        r->delivered_in_window ? r->generator_cpu_s / (double)r->delivered_in_window * 1e6 : 0;
    stats_kv("generator_cpu_us_per_msg", "%.1f", gper);
}

void drive_report(drive_result_t *res)
{
    s_report_counts(res);
    stats_report_latency("ack latency", "ack", &res->ack);
    stats_report_latency("end-to-end latency", "e2e", &res->e2e);
    s_report_resources(res);
}

int drive_check(const drive_result_t *r)
{
    const char *bad = NULL;
    if (r->errors)
        bad = "errors";
    else if (r->nacked)
        bad = "refusals";
    else if (r->sent == 0 || r->accepted != r->sent)
        bad = "not everything sent was accepted";
    else if (r->delivered != r->accepted)
        bad = "not everything accepted was delivered";
    else if (r->ack.n != r->accepted || r->e2e.n != r->delivered)
        bad = "a latency sample is missing";
    else if (r->delivered_in_window == 0 || r->window_s <= 0)
        bad = "nothing delivered in the window";
    if (bad)
        fprintf(stderr, "load: check failed: %s\n", bad);
    stats_kv("check", "%s", bad ? "failed" : "ok");
    return bad ? -1 : 0;
}
