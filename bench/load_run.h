/* load_run.h - one measured run of fluxbus-load: N sender threads and M
 * receiver threads on one broker, a timed window, then a drain.
 *
 * Senders sign their whole share of messages before the window opens, then
 * send them as drive.h says (ack latency: SEND -> signed receipt).
 * Receivers acknowledge each delivery: without verifying it again (the
 * broker did), or, in the end-to-end mode, through lib's fb_client, which
 * verifies every delivery (and the sealed household is opened), while
 * senders check each receipt's signature. */
#ifndef FLUXBUS_BENCH_LOAD_RUN_H
#define FLUXBUS_BENCH_LOAD_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fluxbus/err.h"
#include "fluxbus/keys.h"
#include "drive.h"
#include "load_msgs.h"

typedef struct {
    load_msgs_type_t type;
    size_t n_senders, n_recipients;
    size_t size;       /* envelope bytes */
    unsigned window;   /* SENDs in flight per sender; deliveries in flight per receiver */
    double rate;       /* messages/s for all senders together; 0 = saturation */
    double duration_s; /* the timed window */
    uint64_t messages; /* saturation: messages signed beforehand, all senders */
    bool e2e;          /* receivers verify, senders check receipts */
    const char *endpoint;
    const fb_keys_t *broker;
    const fb_keys_t *senders;    /* n_senders */
    const fb_keys_t *recipients; /* n_recipients */
    pid_t broker_pid;            /* 0: the broker's CPU and memory are not read */
    double drain_s;              /* wait for the last receipts and deliveries */
} load_run_config_t;

typedef struct {
    drive_result_t drive;      /* counts, rates, latencies, CPU and memory */
    uint64_t signed_msgs;      /* messages signed for the window */
    uint64_t setup_msgs;       /* Designation: LogementLibere + Orientation sent before */
    fb_err_t first_nack;       /* reason of the first Nack, FB_OK if none */
    double presign_s;          /* signing before the window (the slowest sender) */
    size_t size_min, size_max; /* envelope sizes actually signed */
} load_run_result_t;

/* Runs; fills *res (free with load_run_result_free). FB_OK when the run
 * took place (its errors are counted in res), or why it could not start,
 * in why. */
fb_err_t load_run(const load_run_config_t *cfg, load_run_result_t *res, char *why, size_t cap);

void load_run_result_free(load_run_result_t *res);

#endif
