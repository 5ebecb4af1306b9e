/* decompte_msg.h - the DecompteDroits the broker sends for one line of the
 * décompte (ledger/decompte.h): its payload, built from the line, its
 * convention's revision and the period, and the digest that tells whether
 * what it says changed since the last one sent.
 *
 * Pure: no I/O, no clock. The payload borrows the strings of the décompte
 * it was built from, which must outlive it. */
#ifndef FLUXBUS_BROKER_DECOMPTE_MSG_H
#define FLUXBUS_BROKER_DECOMPTE_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include "decompte.h"
#include "fluxbus/err.h"
#include "fluxbus/v1/ledger.pb-c.h"

/* A DecompteDroits and the storage its fields point into. */
typedef struct {
    Fluxbus__V1__DecompteDroits msg;
    Fluxbus__V1__Period period;
    Fluxbus__V1__Date start, end;
    Fluxbus__V1__DecompteActivity activity;
    Fluxbus__V1__DecompteObjective objectives[DECOMPTE_MAX_OBJECTIVES];
    Fluxbus__V1__DecompteObjective *objective_ptrs[DECOMPTE_MAX_OBJECTIVES];
} decompte_msg_t;

/* Fills *out for `line` of convention `item` over `period`: a party's line,
 * or the whole convention when `line` is &item->total (convention_total;
 * its party is the convention's réservataire). computed_ms and sequence
 * are left 0 for the caller. */
void decompte_msg_build(decompte_msg_t *out, const decompte_convention_t *item,
                        const decompte_line_t *line, const period_t *period);

/* SHA-256 of the packed payload with computed_ms and sequence set to 0: two
 * décomptes saying the same thing have the same digest. FB_OK or
 * FB_ERR_NOMEM. */
fb_err_t decompte_msg_digest(const decompte_msg_t *m, uint8_t out[32]);

/* Did anything happen for the line in its period: a dwelling freed in its
 * scope, an event, a count? */
bool decompte_msg_active(const decompte_line_t *line);

#endif
