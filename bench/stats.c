/* stats.c - clock, latency percentiles, /proc readings and report lines for
 * the bench programs (see stats.h).
 *
 * Owns the kept key=value lines of the report (a process-wide list: the
 * bench programs are single reports, written by their main thread only). */
#include "stats.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_KV_MAX 1024

static char *s_kv[S_KV_MAX];
static size_t s_n_kv;

int64_t stats_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void stats_sleep_until_ns(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

int stats_number(const char *v, double min, double max, double *out)
{
    char *end = NULL;
    double d = v ? strtod(v, &end) : 0;
    if (!v || end == v || *end || d < min || d > max)
        return -1;
    *out = d;
    return 0;
}

int stats_samples_add(stats_samples_t *s, int64_t ns)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4096;
        int64_t *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = ns;
    return 0;
}

int stats_samples_merge(stats_samples_t *into, const stats_samples_t *from)
{
    for (size_t i = 0; i < from->n; i++)
        if (stats_samples_add(into, from->v[i]) != 0)
            return -1;
    return 0;
}

void stats_samples_free(stats_samples_t *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

double stats_percentile_ms(stats_samples_t *s, double p)
{
    if (s->n == 0)
        return -1;
    qsort(s->v, s->n, sizeof *s->v, s_cmp_i64);
    /* Nearest rank: the smallest sample with at least p % of them at or below. */
    size_t rank = (size_t)((p / 100.0) * (double)s->n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > s->n)
        rank = s->n;
    return (double)s->v[rank - 1] / 1e6;
}

/* Field 14 (utime) and 15 (stime) of /proc/<pid>/stat, after the command
 * name, which is in parentheses and may hold spaces. */
static int s_read_cpu(pid_t pid, double *cpu_s)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long utime = 0, stime = 0;
    if (!p ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return -1;
    *cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
    return 0;
}

static int s_read_mem(pid_t pid, long *rss_kb, long *hwm_kb)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmRSS: %ld", rss_kb) == 1)
            found |= 1;
        else if (sscanf(line, "VmHWM: %ld", hwm_kb) == 1)
            found |= 2;
    }
    fclose(f);
    return found == 3 ? 0 : -1;
}

int stats_proc_read(pid_t pid, stats_proc_t *out)
{
    memset(out, 0, sizeof *out);
    if (pid <= 0 || s_read_cpu(pid, &out->cpu_s) != 0)
        return -1;
    return s_read_mem(pid, &out->rss_kb, &out->hwm_kb);
}

double stats_machine_busy_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 8)
        return -1;
    /* user nice system idle iowait irq softirq steal: all but idle, iowait
     * and steal (time the hypervisor gave to other machines). */
    unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6];
    return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

void stats_line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

void stats_kv(const char *key, const char *fmt, ...)
{
    char value[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    if (s_n_kv == S_KV_MAX)
        return; /* a programmer mistake: more keys than any report has */
    size_t len = strlen(key) + strlen(value) + 2;
    char *line = malloc(len);
    if (!line)
        return;
    snprintf(line, len, "%s=%s", key, value);
    s_kv[s_n_kv++] = line;
}

/* The key <key><suffix>=value, with `decimals` decimals. */
static void s_kv_suffixed(const char *key, const char *suffix, int decimals, double value)
{
    char k[96];
    snprintf(k, sizeof k, "%s%s", key, suffix);
    stats_kv(k, "%.*f", decimals, value);
}

void stats_report_latency(const char *label, const char *key, stats_samples_t *s)
{
    double p50 = stats_percentile_ms(s, 50), p99 = stats_percentile_ms(s, 99);
    double p999 = stats_percentile_ms(s, 99.9), max = stats_percentile_ms(s, 100);
    if (s->n == 0)
        stats_line("%-22s no samples", label);
    else
        stats_line("%-22s p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms  (%zu samples)",
                   label, p50, p99, p999, max, s->n);
    s_kv_suffixed(key, "_p50_ms", 3, p50);
    s_kv_suffixed(key, "_p99_ms", 3, p99);
    s_kv_suffixed(key, "_p999_ms", 3, p999);
    s_kv_suffixed(key, "_max_ms", 3, max);
    s_kv_suffixed(key, "_samples", 0, (double)s->n);
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A sorted copy of values, or NULL (n 0, or out of memory). */
static double *s_sorted(const double *values, size_t n)
{
    double *v = n ? malloc(n * sizeof *v) : NULL;
    if (!v)
        return NULL;
    memcpy(v, values, n * sizeof *v);
    qsort(v, n, sizeof *v, s_cmp_double);
    return v;
}

static double s_median_sorted(const double *v, size_t n)
{
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double stats_median(const double *values, size_t n)
{
    double *v = s_sorted(values, n);
    double m = v ? s_median_sorted(v, n) : 0;
    free(v);
    return m;
}

double stats_report_spread(const char *label, const char *key, const char *unit,
                           const double *values, size_t n)
{
    double *v = s_sorted(values, n);
    double min = v ? v[0] : 0, med = v ? s_median_sorted(v, n) : 0, max = v ? v[n - 1] : 0;
    free(v);
    stats_line("%-34s min %.6g  median %.6g  max %.6g %s  (%zu run%s)", label, min, med, max, unit,
               n, n == 1 ? "" : "s");
    s_kv_suffixed(key, "_min", 3, min);
    s_kv_suffixed(key, "_median", 3, med);
    s_kv_suffixed(key, "_max", 3, max);
    return med;
}

void stats_report_end(void)
{
    printf("# key=value\n");
    for (size_t i = 0; i < s_n_kv; i++) {
        printf("%s\n", s_kv[i]);
        free(s_kv[i]);
    }
    s_n_kv = 0;
    fflush(stdout);
}
