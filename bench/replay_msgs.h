/* replay_msgs.h - the flux of a year as fluxbus-scenario's replay sends it:
 * the conventions first, then the life of each vacancy, message by
 * message, in the order the ledger accepts (docs/LEDGER.md, "Lifecycle").
 *
 * The actors are numbered: bailleurs 0..B-1, réservataires B..B+R-1, then
 * the SNE (B+R). Convention (b, r) binds bailleur b and réservataire r for
 * the current year (load_msgs_convention: an objective no replay reaches,
 * never a surréservation). Vacancy v belongs to bailleur v mod B and is oriented to
 * réservataire (v / B) mod R; its life is one of three variants, by v:
 *
 *  - let (7 in 10): LogementLibere, Orientation, OrientationAck, three
 *    Designations (households sealed for the bailleur), Visite,
 *    CaleolSeance, three CaleolDecisions (ranks 1 and 2 attributed by
 *    rank, rank 3 not attributed), PropositionReponse ACCEPTEE of rank 1,
 *    BailSigne (to the réservataire and the SNE), SneRadiationAck: 14;
 *  - refused (2 in 10): as above, but rank 1 refuses, its attribution ends
 *    without a lease (AttributionNonSuivieDeBail), rank 2 accepts, signs
 *    and is radiated: 16;
 *  - declined (1 in 10): the first réservataire declines the Orientation,
 *    the vacancy is oriented to the next one, which goes on as "let": 16.
 *
 * Messages carry their natural size (no padding). Ids are load_msgs ids:
 * the run's nonce, the sending actor, its own message counter. */
#ifndef FLUXBUS_BENCH_REPLAY_MSGS_H
#define FLUXBUS_BENCH_REPLAY_MSGS_H

#include <stddef.h>
#include <stdint.h>

#include "fluxbus/err.h"
#include "fluxbus/keys.h"
#include "load_msgs.h"

#define REPLAY_MAX_STEPS 16 /* the longest life */

typedef struct {
    size_t n_bailleurs, n_resas;
    const fb_keys_t *actors; /* n_bailleurs + n_resas + 1, in the order above */
    uint8_t run[4];          /* the run's nonce: ids, vacancy and convention ids */
} replay_world_t;

/* Steps in the life of vacancy v (its variant's). */
size_t replay_steps(uint64_t v);

/* The actor that sends step s of vacancy v. */
size_t replay_sender(const replay_world_t *w, uint64_t v, size_t s);

/* The recipients step s of vacancy v is addressed to (1 or 2). */
size_t replay_recipients(uint64_t v, size_t s);

/* The type name of step s of vacancy v ("LogementLibere", ...). */
const char *replay_type_name(uint64_t v, size_t s);

/* Signs step s of vacancy v as message k of its sender into *out (free
 * with load_msgs_free). FB_OK or the first error. */
fb_err_t replay_sign_step(const replay_world_t *w, uint64_t v, size_t s, uint64_t k,
                          load_msg_t *out) __attribute__((warn_unused_result));

/* Signs convention (b, r) as message k of bailleur b, to réservataire r. */
fb_err_t replay_sign_convention(const replay_world_t *w, size_t b, size_t r, uint64_t k,
                                load_msg_t *out) __attribute__((warn_unused_result));

#endif
