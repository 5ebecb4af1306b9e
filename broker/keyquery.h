/* keyquery.h - the broker's answer to a KEYQUERY frame: the current
 * encryption key of an actor, certified by the broker, so that a sender can
 * seal household data for it. Public keys: any connected actor may ask. */
#ifndef FLUXBUS_BROKER_KEYQUERY_H
#define FLUXBUS_BROKER_KEYQUERY_H

#include <stddef.h>
#include <stdint.h>

#include "fluxbus/err.h"
#include "fluxbus/keys.h"
#include "notary.h"
#include "store.h"

#define KEYQUERY_FRAME_MAX 4096 /* a KeyQuery frame over this is MALFORMED */

/* What was asked and answered, for the broker's log line. */
typedef struct {
    char actor[FB_ACTOR_MAX];         /* the actor asked about; "" if unreadable */
    fb_err_t reason;                  /* FB_OK, or why no key is given */
    char key_id[FB_KEY_ID_CHARS + 1]; /* the key handed out; "" if none */
    char detail[256];                 /* why, when reason is not FB_OK */
} keyquery_result_t;

/* Answers the KeyQuery in `query` (the frame's bytes; NULL when the frame is
 * missing) at time now_ms and packs the KeyAnswer into *out (caller frees):
 *  - the current encryption key of the actor (store_enc_key_current) as a
 *    broker-signed KeyCert envelope with purpose KEY_PURPOSE_ENCRYPTION;
 *  - or a reason: MALFORMED (missing, oversized or undecodable query, or a
 *    purpose other than encryption), UNKNOWN_RECIPIENT (no such active
 *    actor), UNKNOWN_KEY (the actor has no valid encryption key).
 * Fills *res either way. Returns FB_OK once an answer is packed,
 * FB_ERR_STORE on a database error, FB_ERR_NOMEM. */
fb_err_t keyquery_answer(store_t *store, notary_t *notary, const uint8_t *query, size_t len,
                         int64_t now_ms, keyquery_result_t *res, uint8_t **out, size_t *out_len)
    __attribute__((warn_unused_result));

#endif
