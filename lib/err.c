/* err.c - names and descriptions of fb_err_t, and the single mapping between
 * fb_err_t and the wire ReasonCode of envelope.proto.
 *
 * The table below is the only place where an error meets its reason code;
 * adding an error means adding one row. */
#include "fluxbus/err.h"

#include <stddef.h>

#include "fluxbus/v1/envelope.pb-c.h"

typedef struct {
    fb_err_t err;
    const char *name;
    const char *text;
    int reason; /* Fluxbus__V1__ReasonCode, or -1 when the error never goes on the wire */
} s_err_row_t;

static const s_err_row_t s_rows[] = {
    {FB_OK, "OK", "success", FLUXBUS__V1__REASON_CODE__REASON_OK},
    {FB_ERR_NOMEM, "NOMEM", "out of memory", -1},
    {FB_ERR_INVALID, "INVALID", "invalid argument", -1},
    {FB_ERR_IO, "IO", "input/output error", -1},
    {FB_ERR_PERM, "PERM", "secret file is readable by group or others", -1},
    {FB_ERR_PARSE, "PARSE", "does not parse", -1},
    {FB_ERR_MALFORMED, "MALFORMED", "malformed message",
     FLUXBUS__V1__REASON_CODE__REASON_MALFORMED},
    {FB_ERR_TOO_LARGE, "TOO_LARGE", "message too large",
     FLUXBUS__V1__REASON_CODE__REASON_TOO_LARGE},
    {FB_ERR_BAD_SIGNATURE, "BAD_SIGNATURE", "bad signature",
     FLUXBUS__V1__REASON_CODE__REASON_BAD_SIGNATURE},
    {FB_ERR_UNKNOWN_KEY, "UNKNOWN_KEY", "unknown signing key",
     FLUXBUS__V1__REASON_CODE__REASON_UNKNOWN_KEY},
    {FB_ERR_KEY_REVOKED, "KEY_REVOKED", "signing key revoked or not valid now",
     FLUXBUS__V1__REASON_CODE__REASON_KEY_REVOKED},
    {FB_ERR_SENDER_MISMATCH, "SENDER_MISMATCH", "sender is not the authenticated actor",
     FLUXBUS__V1__REASON_CODE__REASON_SENDER_MISMATCH},
    {FB_ERR_UNKNOWN_TYPE, "UNKNOWN_TYPE", "unknown message type",
     FLUXBUS__V1__REASON_CODE__REASON_UNKNOWN_TYPE},
    {FB_ERR_NOT_AUTHORIZED, "NOT_AUTHORIZED", "not authorized",
     FLUXBUS__V1__REASON_CODE__REASON_NOT_AUTHORIZED},
    {FB_ERR_UNKNOWN_RECIPIENT, "UNKNOWN_RECIPIENT", "unknown recipient",
     FLUXBUS__V1__REASON_CODE__REASON_UNKNOWN_RECIPIENT},
    {FB_ERR_CONFLICT, "CONFLICT", "message id reused with different content",
     FLUXBUS__V1__REASON_CODE__REASON_CONFLICT},
    {FB_ERR_STALE, "STALE", "created_at outside the freshness window",
     FLUXBUS__V1__REASON_CODE__REASON_STALE},
    {FB_ERR_RATE_LIMITED, "RATE_LIMITED", "sender over its message rate",
     FLUXBUS__V1__REASON_CODE__REASON_RATE_LIMITED},
    {FB_ERR_UNSUPPORTED_VERSION, "UNSUPPORTED_VERSION", "unsupported protocol version",
     FLUXBUS__V1__REASON_CODE__REASON_UNSUPPORTED_VERSION},
    {FB_ERR_NO_RECIPIENT, "NO_RECIPIENT", "no recipient and no topic",
     FLUXBUS__V1__REASON_CODE__REASON_NO_RECIPIENT},
    {FB_ERR_BAD_TOPIC, "BAD_TOPIC", "topic malformed or not allowed",
     FLUXBUS__V1__REASON_CODE__REASON_BAD_TOPIC},
    {FB_ERR_TIMEOUT, "TIMEOUT", "timed out", -1},
    {FB_ERR_TRANSPORT, "TRANSPORT", "transport error", -1},
    {FB_ERR_AUTH, "AUTH", "broker refused this transport key (not registered?)", -1},
    {FB_ERR_STORE, "STORE", "store error", -1},
    {FB_ERR_NOT_FOUND, "NOT_FOUND", "not found", -1},
    {FB_ERR_EXISTS, "EXISTS", "already exists", -1},
    {FB_ERR_PROTOCOL, "PROTOCOL", "protocol violation", -1},
    {FB_ERR_TOO_MANY_RECIPIENTS, "TOO_MANY_RECIPIENTS", "too many recipients and topics",
     FLUXBUS__V1__REASON_CODE__REASON_TOO_MANY_RECIPIENTS},
    {FB_ERR_BACKLOG_FULL, "BACKLOG_FULL", "sender's undelivered backlog is full",
     FLUXBUS__V1__REASON_CODE__REASON_BACKLOG_FULL},
    {FB_ERR_INVALID_TRANSITION, "INVALID_TRANSITION",
     "message does not fit the vacancy's state or its convention",
     FLUXBUS__V1__REASON_CODE__REASON_INVALID_TRANSITION},
};

static const s_err_row_t *s_row_for(fb_err_t err)
{
    for (size_t i = 0; i < sizeof s_rows / sizeof s_rows[0]; i++)
        if (s_rows[i].err == err)
            return &s_rows[i];
    return NULL;
}

const char *fb_err_str(fb_err_t err)
{
    const s_err_row_t *row = s_row_for(err);
    return row ? row->text : "unknown error";
}

const char *fb_err_name(fb_err_t err)
{
    const s_err_row_t *row = s_row_for(err);
    return row ? row->name : "UNKNOWN";
}

int fb_err_to_reason(fb_err_t err)
{
    const s_err_row_t *row = s_row_for(err);
    if (!row || row->reason < 0)
        return FLUXBUS__V1__REASON_CODE__REASON_MALFORMED;
    return row->reason;
}

fb_err_t fb_err_from_reason(int reason)
{
    if (reason < 0) /* -1 marks rows without a wire code: never a match */
        return FB_ERR_PROTOCOL;
    for (size_t i = 0; i < sizeof s_rows / sizeof s_rows[0]; i++)
        if (s_rows[i].reason == reason)
            return s_rows[i].err;
    return FB_ERR_PROTOCOL;
}
