/* fuzz_support.h - what the fuzz targets and their seed generator share:
 * the fixed key pairs of the fuzzing actors (the same in every run, so that
 * committed seeds stay signed by a key the targets know), the list of every
 * message the bus decodes, the modes of fuzz_broker and a scratch directory
 * per process. */
#ifndef FLUXBUS_FUZZ_SUPPORT_H
#define FLUXBUS_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "fluxbus/fluxbus.h"

/* The actors of the fuzzing bus: a bailleur sends, a réservataire receives
 * (and is subscribed to both topics of FUZZ_INSEE). */
#define FUZZ_SENDER "bailleur:552046955"
#define FUZZ_RECIPIENT "reservataire:action-logement"
#define FUZZ_BROKER "broker"
#define FUZZ_INSEE "74010"

/* fuzz_broker's largest envelope: small, so that inputs can go over it. */
#define FUZZ_MAX_ENVELOPE 8192

/* What fuzz_broker does with the rest of an input, by its first byte
 * (modulo FUZZ_BROKER_MODES). */
enum {
    FUZZ_BROKER_RAW = 0,       /* send the bytes as the SEND frame's envelope */
    FUZZ_BROKER_SIGN = 1,      /* sign the bytes as a SignedBody with the sender's key */
    FUZZ_BROKER_AS_SENDER = 2, /* decode as a SignedBody, set version, sender and key_id to
                                  the sender's, re-pack and sign (bytes as they are if they
                                  do not decode) */
    FUZZ_BROKER_OLD_KEY = 3,   /* as AS_SENDER, with the sender's revoked key */
    FUZZ_BROKER_MODES = 4
};

/* Key pairs of `actor` derived from fixed seeds (BLAKE2b-256 of
 * "fluxbus-fuzz sign " + actor and "fluxbus-fuzz curve " + actor). Aborts on
 * failure: a fuzz target cannot run without them. */
void fuzz_keys_fixed(fb_keys_t *keys, const char *actor);

typedef struct {
    const char *name;
    const ProtobufCMessageDescriptor *desc;
} fuzz_type_t;

/* Every message the bus decodes, *count of them: the catalog (domain
 * messages, Receipt, Nack, DeliveryAck, KeyCert), then the messages that are
 * not SignedBody payloads (Envelope, SignedBody, Hello, Welcome, Subscribe,
 * SubAck, KeyQuery, KeyAnswer, HouseholdDetails). */
const fuzz_type_t *fuzz_types(size_t *count);

/* A scratch directory of this process (made on the first call under /tmp,
 * removed with its files at exit). Aborts if it cannot be made. */
const char *fuzz_scratch_dir(void);

/* Prints "fuzz: <why>" and aborts: an invariant broke. */
void fuzz_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
