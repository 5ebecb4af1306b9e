/* sealcheck.h - the broker's check of a Designation's sealed household: the
 * attachment it names travels with it, and it is sealed for an encryption
 * key that one of its recipients holds now. The broker never opens it. */
#ifndef FLUXBUS_BROKER_SEALCHECK_H
#define FLUXBUS_BROKER_SEALCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "fluxbus/err.h"
#include "fluxbus/v1/envelope.pb-c.h"
#include "store.h"

/* Checks `body`, verified and parsed by fb_envelope_parse_body (so its
 * attachments match attachment_digests, one for one). FB_OK for a message
 * without attachments that is not a Designation or is one without
 * sealed_household_digest, and for a Designation whose digest is among
 * attachment_digests and whose sealed_for_key_id is a registered encryption
 * key of one of body's recipients, valid at now_ms (store_key_valid_at), and
 * that has no other attachment. Otherwise FB_ERR_NOT_AUTHORIZED with a
 * one-line detail (also for any attachment the payload does not name),
 * FB_ERR_MALFORMED if the payload does not decode, FB_ERR_STORE on a database
 * error. */
fb_err_t sealcheck_designation(store_t *store, const Fluxbus__V1__SignedBody *body, int64_t now_ms,
                               char *detail, size_t detail_len) __attribute__((warn_unused_result));

#endif
