/* fluxbus/err.h - the one error enum of libfluxbus and its mapping to the
 * wire reason codes of envelope.proto.
 *
 * Every fallible function returns fb_err_t: FB_OK (0) on success, a negative
 * code otherwise. The codes that a broker can put in a Nack have a twin in
 * Fluxbus__V1__ReasonCode; fb_err_from_reason() and fb_err_to_reason() are the
 * only place where the two are mapped. */
#ifndef FLUXBUS_ERR_H
#define FLUXBUS_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    FB_OK = 0,
    FB_ERR_NOMEM = -1,              /* out of memory */
    FB_ERR_INVALID = -2,            /* bad argument (programmer or config mistake) */
    FB_ERR_IO = -3,                 /* file or socket I/O failed */
    FB_ERR_PERM = -4,               /* secret file readable by group/others */
    FB_ERR_PARSE = -5,              /* key file, config or JSON does not parse */
    FB_ERR_MALFORMED = -6,          /* protobuf bytes do not decode */
    FB_ERR_TOO_LARGE = -7,          /* over a size cap */
    FB_ERR_BAD_SIGNATURE = -8,      /* signature does not verify */
    FB_ERR_UNKNOWN_KEY = -9,        /* key id not known */
    FB_ERR_KEY_REVOKED = -10,       /* key revoked or out of validity */
    FB_ERR_SENDER_MISMATCH = -11,   /* sender is not who the key/connection says */
    FB_ERR_UNKNOWN_TYPE = -12,      /* message type not in the catalog */
    FB_ERR_NOT_AUTHORIZED = -13,    /* role may not do this */
    FB_ERR_UNKNOWN_RECIPIENT = -14, /* recipient not registered or revoked */
    FB_ERR_CONFLICT = -15,          /* same message id, different bytes */
    FB_ERR_STALE = -16,             /* created_at outside the freshness window */
    FB_ERR_RATE_LIMITED = -17,      /* over the per-sender message rate */
    FB_ERR_UNSUPPORTED_VERSION = -18,
    FB_ERR_NO_RECIPIENT = -19,        /* neither recipients nor topics */
    FB_ERR_BAD_TOPIC = -20,           /* topic malformed or not allowed */
    FB_ERR_TIMEOUT = -21,             /* no answer in time */
    FB_ERR_TRANSPORT = -22,           /* ZeroMQ error */
    FB_ERR_AUTH = -23,                /* broker refused our CURVE key */
    FB_ERR_STORE = -24,               /* database error */
    FB_ERR_NOT_FOUND = -25,           /* no such actor / key / row */
    FB_ERR_EXISTS = -26,              /* already registered */
    FB_ERR_PROTOCOL = -27,            /* peer sent something out of protocol */
    FB_ERR_TOO_MANY_RECIPIENTS = -28, /* recipients + topics over the cap */
    FB_ERR_BACKLOG_FULL = -29,        /* sender's undelivered messages over the cap */
    FB_ERR_INVALID_TRANSITION =
        -30, /* domain message does not fit the ledger (vacancy, convention) */
} fb_err_t;

/* Short, stable, human-readable description of an error ("bad signature").
 * Never NULL; unknown codes give "unknown error". */
const char *fb_err_str(fb_err_t err);

/* Upper-case name of the error as used in logs ("BAD_SIGNATURE"). Never NULL. */
const char *fb_err_name(fb_err_t err);

/* Wire reason code (Fluxbus__V1__ReasonCode value) for an error. Errors that
 * have no wire twin map to REASON_MALFORMED; FB_OK maps to REASON_OK. */
int fb_err_to_reason(fb_err_t err);

/* Error for a wire reason code; unknown codes give FB_ERR_PROTOCOL. */
fb_err_t fb_err_from_reason(int reason);

#ifdef __cplusplus
}
#endif
#endif
