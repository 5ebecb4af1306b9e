/* bilan_msg.h - the BilanAnnuel the broker answers a BilanRequest with: the
 * flux ledger's bilan (ledger/bilan.h) written as the message, cut to what
 * the requester's view may hold (docs/LEDGER.md, "Bilan on request"):
 *
 * - BAILLEUR, TERRITOIRE: everything the bilan holds (for a territory the
 *   bilan was already computed on its communes only);
 * - RESERVATAIRE: its own line and its own objective lines, and the figures
 *   of every réservataire together (totals, breakdowns, the EPCI-wide
 *   objective lines, the monthly flow, the analyses); the lines of the
 *   other réservataires are left out.
 *
 * In every view the message holds counts, never a household: the
 * candidates presented repeatedly are counted, not named (no NUR). */
#ifndef FLUXBUS_BROKER_BILAN_MSG_H
#define FLUXBUS_BROKER_BILAN_MSG_H

#include <stdint.h>

#include "bilan.h"
#include "fluxbus/v1/ledger.pb-c.h"

typedef struct bilan_msg bilan_msg_t;

typedef struct {
    int view;                 /* Fluxbus__V1__BilanView */
    const char *requested_by; /* the requester's actor id */
    const char *communes;     /* TERRITOIRE: the communes counted, "74010,74011"; else NULL */
    int64_t computed_ms;
} bilan_msg_args_t;

/* Builds the message of bilan b for args. b and the strings of args are
 * borrowed: they must outlive the result. NULL when out of memory. */
bilan_msg_t *bilan_msg_new(const bilan_t *b, const bilan_msg_args_t *args);

/* The message (owned by self). */
const Fluxbus__V1__BilanAnnuel *bilan_msg_payload(const bilan_msg_t *self);

/* Frees; safe on NULL and twice. */
void bilan_msg_destroy(bilan_msg_t **self_p);

#endif
