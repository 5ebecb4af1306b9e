/* sne_adapter.h - the SNE adapter's two actions, wired to the adapter loop
 * by main.c:
 * - sne_deliver (sne_deliver.c): a delivery from a bailleur becomes an SNE
 *   record, submitted durably before the delivery is acknowledged;
 *   LogementLibere and the attributions are remembered for later records;
 * - sne_collect (sne_answer.c): the SNE's answers are stored, and an answer
 *   to a radiation goes back to the bailleur as a SneRadiationAck.
 *
 * Everything here runs on the adapter's one thread. */
#ifndef FLUXBUS_ADAPTER_SNE_ADAPTER_H
#define FLUXBUS_ADAPTER_SNE_ADAPTER_H

#include <jansson.h>

#include "adapter.h"
#include "sne_iface.h"
#include "sne_state.h"

typedef struct {
    adapter_t *ad;
    sne_state_t *state;
    sne_iface_t *iface;
    const char *tz;        /* time zone of the records' dates (config `timezone`) */
    fb_err_t last_collect; /* to log a failing collect once, not every tick */
} sne_adapter_t;

/* adapter_on_delivery_fn: FB_OK once the delivery is handled durably (a
 * record submitted, a dwelling or attribution stored, or nothing to do -
 * logged); another error leaves it unacknowledged for a later attempt. */
fb_err_t sne_deliver(void *ctx, const fb_delivery_t *delivery, const json_t *event);

/* The adapter's tick: collects the SNE's answers (sne_answer_fn per
 * answer). Errors are logged; what was not handled is tried again at the
 * next tick. */
void sne_collect(void *ctx);

/* Handles one answer (sne_answer_fn): stores it; for a radiation, sends
 * the SneRadiationAck to the bailleur. FB_ERR_NOT_FOUND for an answer to a
 * record this adapter never submitted, FB_ERR_PARSE for a status that does
 * not fit the record's kind. */
fb_err_t sne_answer(void *ctx, const sne_answer_t *answer, sne_problem_t *why);

#endif
