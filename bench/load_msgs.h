/* load_msgs.h - the messages fluxbus-load sends: real signed envelopes of a
 * domain type, padded to the wanted envelope size in a field that carries
 * free text in real life.
 *
 *  - LogementLibere (bailleur -> réservataire): a freed dwelling, each with
 *    its own vacancy; padded in its address (a second address line:
 *    residence, building, staircase, access notes).
 *  - Designation (réservataire -> bailleur): a candidate, rank 1..3 of a
 *    vacancy oriented to the réservataire, with its household sealed for
 *    the bailleur's encryption key as an attachment; padded in the
 *    household's free-text notes (inside the sealed box). Each vacancy
 *    first needs the bailleur's LogementLibere and Orientation: the
 *    "setup" messages.
 *
 * The size is that of the whole envelope (what the SEND frame carries and
 * the broker stores). Message ids are structured so that a receiver finds
 * the send time: the run's 4-byte nonce, the sender's index, the message's
 * number. */
#ifndef FLUXBUS_BENCH_LOAD_MSGS_H
#define FLUXBUS_BENCH_LOAD_MSGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fluxbus/envelope.h"
#include "fluxbus/err.h"
#include "fluxbus/keys.h"

typedef enum {
    LOAD_MSGS_LOGEMENT = 0,
    LOAD_MSGS_DESIGNATION,
} load_msgs_type_t;

#define LOAD_MSGS_RANKS 3 /* designations per vacancy (the usual three candidates) */

typedef struct {
    uint8_t *env;
    size_t len;
} load_msg_t;

typedef struct {
    load_msgs_type_t type;
    const fb_keys_t *sender; /* signs; a bailleur (LogementLibere) or a réservataire */
    uint32_t sender_index;
    const fb_keys_t *recipients; /* recipients' keys (public halves used) */
    size_t n_recipients;
    size_t size;    /* wanted envelope size, bytes */
    uint8_t run[4]; /* the run's nonce */
} load_msgs_spec_t;

/* Signs messages first .. first+count-1 of spec's sender into out[0..count).
 * Message k goes to recipient load_msgs_recipient(spec, k). FB_OK, or the
 * first error (out is then freed). */
fb_err_t load_msgs_sign(const load_msgs_spec_t *spec, uint64_t first, size_t count, load_msg_t *out)
    __attribute__((warn_unused_result));

/* For a Designation run: the setup of message k's vacancy, signed by its
 * bailleur (recipients[load_msgs_recipient(spec, k)]): its LogementLibere
 * and its Orientation to spec's sender. Only for k a multiple of
 * LOAD_MSGS_RANKS (one setup per vacancy). */
fb_err_t load_msgs_sign_setup(const load_msgs_spec_t *spec, uint64_t k, load_msg_t out[2])
    __attribute__((warn_unused_result));

/* For a Designation run: the Convention bailleur signs with réservataire
 * resa, which the Orientations of load_msgs_sign_setup name (the ledger
 * wants one in force). */
fb_err_t load_msgs_sign_convention(const fb_keys_t *bailleur, const fb_keys_t *resa,
                                   load_msg_t *out) __attribute__((warn_unused_result));

/* The index of the recipient of message k. */
size_t load_msgs_recipient(const load_msgs_spec_t *spec, uint64_t k);

void load_msgs_free(load_msg_t *msgs, size_t n);

/* Message ids: run nonce, sender index, message number. */
void load_msgs_id(const uint8_t run[4], uint32_t sender, uint64_t k,
                  uint8_t id[FB_MESSAGE_ID_BYTES]);

/* True, with the sender and number, when id belongs to this run's messages. */
bool load_msgs_id_parse(const uint8_t run[4], const uint8_t id[FB_MESSAGE_ID_BYTES],
                        uint32_t *sender, uint64_t *k);

#endif
