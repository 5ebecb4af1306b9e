/* verify_ceiling.c - verify-ceiling: how many Ed25519 signatures libsodium
 * verifies per second on this machine, one thread per core, over messages
 * of the bench's size. A broker that verifies every message cannot go past
 * this; bench/compare divides fluxbus's rate by it.
 *
 * Owns nothing but its threads. Calls libsodium directly on purpose: this
 * is the raw ceiling, not fluxbus's envelope code (which adds the PAE and
 * decoding on top). Every verification's result is checked, so the
 * compiler cannot drop the work. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "stats.h"

#define S_MSGS 64 /* distinct signed messages, verified in turn */

typedef struct {
    size_t size;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t *msg[S_MSGS];
    uint8_t sig[S_MSGS][crypto_sign_BYTES];
    int64_t end_ns;
    atomic_int failures;
} s_work_t;

typedef struct {
    s_work_t *work;
    uint64_t verified;
    pthread_t thread;
} s_thread_t;

static void *s_verify_loop(void *arg)
{
    s_thread_t *t = arg;
    s_work_t *w = t->work;
    size_t i = 0;
    while (stats_now_ns() < w->end_ns) {
        /* A batch between clock reads keeps the clock out of the figure. */
        for (int b = 0; b < 64; b++, i = (i + 1) % S_MSGS) {
            if (crypto_sign_verify_detached(w->sig[i], w->msg[i], w->size, w->pk) != 0)
                atomic_fetch_add(&w->failures, 1);
            t->verified++;
        }
    }
    return NULL;
}

static int s_prepare(s_work_t *w)
{
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(w->pk, sk);
    for (size_t i = 0; i < S_MSGS; i++) {
        w->msg[i] = malloc(w->size);
        if (!w->msg[i])
            return -1;
        randombytes_buf(w->msg[i], w->size);
        crypto_sign_detached(w->sig[i], NULL, w->msg[i], w->size, sk);
    }
    sodium_memzero(sk, sizeof sk);
    return 0;
}

static void s_usage(FILE *out)
{
    fputs("usage: verify-ceiling [--threads N] [--duration S] [--size BYTES]\n"
          "\n"
          "Verifies Ed25519 signatures (libsodium crypto_sign_verify_detached) over\n"
          "BYTES-byte messages (default 512) on N threads (default: one per online core)\n"
          "for S seconds (default 5); prints the rate, then key=value lines.\n",
          out);
}

int main(int argc, char **argv)
{
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    double duration = 5;
    s_work_t w;
    memset(&w, 0, sizeof w);
    w.size = 512;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            s_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--threads") && v && atol(v) > 0) {
            threads = atol(v);
        } else if (!strcmp(argv[i], "--duration") && v && atof(v) > 0) {
            duration = atof(v);
        } else if (!strcmp(argv[i], "--size") && v && atol(v) > 0) {
            w.size = (size_t)atol(v);
        } else {
            s_usage(stderr);
            return 1;
        }
        i++;
    }
    if (sodium_init() < 0 || threads < 1 || s_prepare(&w) != 0)
        return 2;
    s_thread_t *t = calloc((size_t)threads, sizeof *t);
    if (!t)
        return 2;
    int64_t start = stats_now_ns();
    w.end_ns = start + (int64_t)(duration * 1e9);
    for (long i = 0; i < threads; i++) {
        t[i].work = &w;
        pthread_create(&t[i].thread, NULL, s_verify_loop, &t[i]);
    }
    uint64_t total = 0;
    for (long i = 0; i < threads; i++) {
        pthread_join(t[i].thread, NULL);
        total += t[i].verified;
    }
    double secs = (double)(stats_now_ns() - start) / 1e9;
    stats_line("verify-ceiling: %ld threads, %zu-byte messages, %.2f s", threads, w.size, secs);
    stats_line("Ed25519 verify         %.0f /s  (%.0f /s per thread)", (double)total / secs,
               (double)total / secs / (double)threads);
    stats_kv("threads", "%ld", threads);
    stats_kv("size_bytes", "%zu", w.size);
    stats_kv("seconds", "%.3f", secs);
    stats_kv("verified", "%llu", (unsigned long long)total);
    stats_kv("verify_per_s", "%.1f", (double)total / secs);
    stats_kv("failures", "%d", atomic_load(&w.failures));
    stats_report_end();
    for (size_t i = 0; i < S_MSGS; i++)
        free(w.msg[i]);
    free(t);
    return atomic_load(&w.failures) ? 3 : 0;
}
