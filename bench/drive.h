/* drive.h - what a load run is, whatever the bus: N sender threads and M
 * receiver threads, a timed window, then a drain. fluxbus-load and
 * mosquitto-load both drive their threads through this module, so that
 * their figures mean the same thing.
 *
 * Senders keep up to `window` messages in flight: at saturation as fast as
 * the answers come back, at a fixed rate on a schedule (the senders
 * staggered). Ack latency runs from a send to its answer (a signed receipt,
 * a PUBACK), end-to-end latency from a send to its delivery. The window
 * ends after `duration_s`, or at saturation once every message a sender
 * may send was delivered (answered, when no receiver is connected);
 * rates count what happened inside it, latencies every message, the drain
 * included.
 *
 * Threads: the main thread creates the sender and receiver threads, then
 * calls drive_window(); each thread calls drive_ready() once connected (and
 * its messages prepared), then works until drive_sending() or
 * drive_receiving() says it is over. Counters are atomic; a thread's
 * samples are its own. */
#ifndef FLUXBUS_BENCH_DRIVE_H
#define FLUXBUS_BENCH_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stats.h"

typedef struct {
    size_t n_senders;
    size_t n_recipients; /* receiver threads; 0: recipients offline, nothing delivered */
    unsigned window;     /* messages in flight per sender */
    double rate;         /* messages/s, all senders together; 0 = saturation */
    double duration_s;   /* the timed window */
    double drain_s;      /* after it, how long to wait for the last answers */
    size_t per_sender;   /* messages each sender may send */
    pid_t broker_pid;    /* 0: the broker's CPU and memory are not read */
} drive_config_t;

typedef struct {
    uint64_t sent, accepted, nacked, delivered;
    uint64_t accepted_in_window, delivered_in_window;
    uint64_t errors;
    uint64_t late_sends; /* fixed rate: sends over 10 ms behind their schedule */
    double window_s;
    bool pool_exhausted; /* saturation: every message was sent before the end */
    stats_samples_t ack, e2e;
    bool broker_measured;
    stats_proc_t broker_start, broker_end;
    double generator_cpu_s; /* this process, inside the window */
    double machine_cpu_s;   /* every process of the machine, inside the window; <0: unknown */
} drive_result_t;

typedef struct drive drive_t;

/* NULL when out of memory. */
drive_t *drive_new(const drive_config_t *cfg);
void drive_destroy(drive_t **self_p);

/* ---- in the threads --------------------------------------------------- */

/* Waits for every thread and the window's opening. `ok` false: this thread
 * failed to start (counted as an error: the run ends at once). Returns
 * whether the run goes on. */
bool drive_ready(drive_t *self, bool ok);

/* Sender `s`, `next` messages sent so far, `inflight` unanswered: true when
 * message `next` may leave now (window open, not over the count, room in
 * the window, due). */
bool drive_may_send(drive_t *self, size_t s, uint64_t next, unsigned inflight);

/* Records that message k of sender s leaves now: call it just before the
 * send, so that its answer or delivery finds the time. */
void drive_sent(drive_t *self, size_t s, uint64_t k);

/* False once sender s is done: everything sent was answered and nothing
 * more will be sent, or the drain ended. */
bool drive_sending(drive_t *self, size_t s, uint64_t next, unsigned inflight);

/* How long sender s may wait for an answer before its next message is due. */
int drive_wait_ms(drive_t *self, size_t s, uint64_t next, unsigned inflight);

/* Message k of sender s was answered: accepted or refused. k out of range
 * (an answer that named no message): counted, no latency sample. */
void drive_answered(drive_t *self, size_t s, uint64_t k, bool accepted);

/* False once receivers are done: the senders are, and every accepted
 * message was delivered, or the drain ended. */
bool drive_receiving(drive_t *self);

/* Receiver r got message k of sender `from` (k out of range: no sample). */
void drive_delivered(drive_t *self, size_t r, size_t from, uint64_t k);

/* Counts an error and says it on stderr. */
void drive_error(drive_t *self, const char *what, const char *who, const char *reason);

/* ---- in the main thread --------------------------------------------------- */

/* Opens the window once every thread is ready, watches it, closes it
 * (figures of the window into *res, zero it first). The threads are then
 * joined: senders first, then drive_senders_done(), then receivers. */
void drive_window(drive_t *self, drive_result_t *res);
void drive_senders_done(drive_t *self);

/* Totals and every thread's samples into *res, after all threads ended. */
void drive_collect(drive_t *self, drive_result_t *res);

void drive_result_free(drive_result_t *res);

/* Appends receiver r's end-to-end samples to *into, after all threads
 * ended (to report some receivers apart). 0, or -1 out of memory. */
int drive_receiver_e2e(drive_t *self, size_t r, stats_samples_t *into);

/* ---- the report --------------------------------------------------------- */

/* The run's shape: the line "<tool>: <saturation | fixed rate R msg/s>, N
 * senders -> M recipients, <what> of <size> B, window W", and the keys
 * mode, senders, recipients, window, size_bytes, rate_target, nproc. */
void drive_report_setup(const drive_config_t *cfg, const char *tool, const char *what, size_t size);

/* Counts, rates, latencies, the broker's CPU and memory, the generator's
 * CPU: human lines and key=value lines with the same keys for every bus. */
void drive_report(drive_result_t *res);

/* The figures of a working bus, whatever the machine's speed: everything
 * sent accepted and delivered, no error, every latency measured. Prints
 * why not on stderr and the key check=ok|failed; returns 0 when sane. */
int drive_check(const drive_result_t *res);

#endif
