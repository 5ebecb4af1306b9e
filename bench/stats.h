/* stats.h - what the bench programs (fluxbus-load, mosquitto-load,
 * verify-ceiling) share: a monotonic clock, latency samples and their
 * percentiles, a process's CPU time and memory read from /proc, and the two
 * forms of their report: lines for people, then `key=value` lines for
 * scripts (bench/compare).
 *
 * Nothing here is thread-safe: each thread keeps its own samples and they
 * are merged once the threads have ended. */
#ifndef FLUXBUS_BENCH_STATS_H
#define FLUXBUS_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Nanoseconds on CLOCK_MONOTONIC. */
int64_t stats_now_ns(void);

/* Sleeps until the monotonic time `ns` (returns at once if it passed). */
void stats_sleep_until_ns(int64_t ns);

/* An option's value v as a number in [min, max] into *out: 0, or -1 when
 * it is not one (missing, not a number, out of range). */
int stats_number(const char *v, double min, double max, double *out);

/* Latency samples in nanoseconds. Zero-initialise; free with
 * stats_samples_free(). */
typedef struct {
    int64_t *v;
    size_t n, cap;
} stats_samples_t;

/* Appends one sample; 0, or -1 when out of memory (the sample is lost). */
int stats_samples_add(stats_samples_t *s, int64_t ns);

/* Appends all of `from` to `into`; 0 or -1 (out of memory). */
int stats_samples_merge(stats_samples_t *into, const stats_samples_t *from);

void stats_samples_free(stats_samples_t *s);

/* The p-th percentile (0 < p <= 100, nearest rank) in milliseconds; sorts
 * the samples in place. -1 when there are none. */
double stats_percentile_ms(stats_samples_t *s, double p);

/* A process as /proc shows it: user+system CPU seconds, resident set now
 * and at its peak (kB). */
typedef struct {
    double cpu_s;
    long rss_kb;
    long hwm_kb;
} stats_proc_t;

/* Reads /proc/<pid>/stat and /proc/<pid>/status. 0, or -1 when the process
 * is gone or the files do not parse. */
int stats_proc_read(pid_t pid, stats_proc_t *out);

/* CPU seconds the whole machine spent busy since boot, all cores (from
 * /proc/stat: everything but idle and iowait). -1 when unreadable. */
double stats_machine_busy_s(void);

/* The report. Human lines go to stdout as they come; key=value lines are
 * kept and printed together by stats_report_end(), so that a script finds
 * them after a "# key=value" marker. */
void stats_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void stats_kv(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One latency distribution: a human line "label: p50 … p99 … p99.9 … max …
 * (n samples)" and the keys <key>_p50_ms, <key>_p99_ms, <key>_p999_ms,
 * <key>_max_ms, <key>_samples. */
void stats_report_latency(const char *label, const char *key, stats_samples_t *s);

/* A figure measured several times: the line "label  min … median … max …
 * unit (n runs)" and the keys <key>_min, <key>_median, <key>_max. Returns
 * the median (0 when n is 0). */
double stats_report_spread(const char *label, const char *key, const char *unit,
                           const double *values, size_t n);

/* The median of values[0..n) (0 when n is 0); values are not changed. */
double stats_median(const double *values, size_t n);

/* Prints the kept key=value lines and forgets them. */
void stats_report_end(void);

#endif
