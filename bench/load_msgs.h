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
#include "fluxbus/seal.h"

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

/* ---- building blocks (fluxbus-scenario's replay writes its own flux) ---- */

/* One envelope's parts, all borrowed: what load_msgs_seal signs. */
typedef struct {
    int type;              /* a MessageType */
    const char *const *to; /* recipients' actor ids */
    size_t n_to;
    const char *vacancy; /* correlation_id */
    uint8_t id[FB_MESSAGE_ID_BYTES];
    uint64_t sequence;
    const uint8_t *payload;
    size_t payload_len;
    const ProtobufCBinaryData *att; /* one attachment (the sealed household), or NULL */
} load_msgs_parts_t;

/* Signs p with keys (sender and key id are the keys'), created now, into
 * *out (free with load_msgs_free). FB_OK or lib's error. */
fb_err_t load_msgs_seal(const fb_keys_t *keys, const load_msgs_parts_t *p, load_msg_t *out)
    __attribute__((warn_unused_result));

/* msg packed (lib's codec; caller frees), or NULL. */
uint8_t *load_msgs_pack(const ProtobufCMessage *msg, size_t *len);

/* The SIREN of a "bailleur:<SIREN>" actor (borrowed from it). */
const char *load_msgs_siren(const char *actor);

/* Packed payloads (caller frees; NULL when out of memory). A
 * LogementLibere of bailleur (an actor id "bailleur:<SIREN>") en flux, its
 * second address line `pad` ("" for none); an Orientation of round `round`
 * expecting LOAD_MSGS_RANKS candidates, its deadline ten days ahead; a
 * Designation of rank `rank` of LOAD_MSGS_RANKS by and for réservataire
 * resa, naming the sealed household. */
uint8_t *load_msgs_logement(const char *bailleur, const char *vacancy, const char *pad,
                            size_t *len);
uint8_t *load_msgs_orientation(const char *vacancy, const char *convention, const char *resa,
                               uint32_t round, size_t *len);
uint8_t *load_msgs_designation(const char *vacancy, const char *convention, uint32_t rank,
                               const char *nur, const char *resa, const fb_sealed_t *sealed,
                               size_t *len);

/* A Convention (revision 1, the current year) between bailleur and
 * réservataire resa, with a placements objective no bench reaches and a
 * délai of 15 days (the Orientations above give 30). */
uint8_t *load_msgs_convention(const char *id, const char *bailleur, const char *resa, size_t *len);

/* A household (one member, its notes `pad`) with NUR nur, sealed for the
 * X25519 public key pk into *out (clear with fb_sealed_clear). */
fb_err_t load_msgs_seal_household(const char *nur, const char *pad,
                                  const uint8_t pk[FB_ENC_KEY_BYTES], fb_sealed_t *out)
    __attribute__((warn_unused_result));

/* ---- fluxbus-load's messages ---- */

/* Signs messages first .. first+count-1 of spec's sender into out[0..count).
 * Message k goes to recipient load_msgs_recipient(spec, k). FB_OK, or the
 * first error (out is then freed). */
fb_err_t load_msgs_sign(const load_msgs_spec_t *spec, uint64_t first, size_t count, load_msg_t *out)
    __attribute__((warn_unused_result));

/* For a Designation run: the setup of message k's vacancy, signed by its
 * bailleur (recipients[load_msgs_recipient(spec, k)]): its LogementLibere
 * and its Orientation to spec's sender, under their convention. Only for k a multiple of
 * LOAD_MSGS_RANKS (one setup per vacancy). */
fb_err_t load_msgs_sign_setup(const load_msgs_spec_t *spec, uint64_t k, load_msg_t out[2])
    __attribute__((warn_unused_result));

/* For a Designation run: the Convention (load_msgs_convention) bailleur
 * signs with réservataire resa, which the Orientations of
 * load_msgs_sign_setup and the Designations name: the ledger wants a
 * convention it knows before a flux Orientation. */
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
