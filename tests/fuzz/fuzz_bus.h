/* fuzz_bus.h - a whole bus inside the fuzzing process, for fuzz_broker: the
 * real broker (broker_new + broker_run in a thread) on tcp://127.0.0.1:*
 * with its store in the process's scratch directory, FUZZ_SENDER and
 * FUZZ_RECIPIENT registered with their fixed keys (fuzz_support.h; the
 * sender also with a revoked one), and one
 * client connected as FUZZ_SENDER. Stopped and removed at exit. */
#ifndef FLUXBUS_FUZZ_BUS_H
#define FLUXBUS_FUZZ_BUS_H

#include "fluxbus/fluxbus.h"

/* FUZZ_SENDER's fixed keys, the bus being started on the first call. Aborts
 * if it cannot start. Set FLUXBUS_FUZZ_LOG=debug (or info, warn) to see the
 * broker's log. */
const fb_keys_t *fuzz_bus_sender(void);

/* Another key pair of FUZZ_SENDER, registered then revoked. */
const fb_keys_t *fuzz_bus_sender_revoked(void);

/* fb_client_send_raw() as FUZZ_SENDER, shielded from libFuzzer's signals:
 * its SIGALRM (unit timeouts) and SIGUSR1/2 would interrupt the client's
 * poll, which then gives up with FB_ERR_TRANSPORT. They wait until the send
 * is over and are handled then, by the fuzzing thread. */
fb_err_t fuzz_bus_send(const uint8_t *env, size_t len, const uint8_t id[FB_MESSAGE_ID_BYTES],
                       fb_receipt_t *receipt);

#endif
