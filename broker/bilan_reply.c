/* bilan_reply.c - the broker's answer to a BilanRequest (see
 * bilan_reply.h).
 *
 * Owns the rule of who may ask for what, the checks of a request (period,
 * EPCI), the answer's recipient, reply link and message id, and the order
 * "scope, compute, build, seal, check the size". Does not own the figures
 * (ledger/bilan.c), what each view holds (bilan_msg.c), signing
 * (notary.c), the thread it is computed on (bilan_queue.c) nor storing
 * and delivering (broker.c). */
#include "bilan_reply.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxbus/envelope.h"
#include "fluxbus/keys.h"

#define VIEW(x) FLUXBUS__V1__BILAN_VIEW__BILAN_VIEW_##x
#define S_ID_CONTEXT "fluxbus/BilanAnnuel/v1"

/* ---- the request -------------------------------------------------------------------- */

static bool s_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool s_date(const Fluxbus__V1__Date *d, period_date_t *out)
{
    if (!d)
        return false;
    *out = (period_date_t){d->year, d->month, d->day};
    return period_date_valid(*out);
}

/* The period the request names. */
static fb_err_t s_period(const Fluxbus__V1__BilanRequest *req, period_t *out, char *detail,
                         size_t dlen)
{
    if (req->period) {
        period_date_t from, to;
        if (!s_date(req->period->start, &from) || !s_date(req->period->end, &to) ||
            !period_make(from, to, out)) {
            snprintf(detail, dlen, "BilanRequest: the period is not two dates, start <= end");
            return FB_ERR_MALFORMED;
        }
        if (period_days(from, to) > BILAN_REPLY_MAX_DAYS) {
            snprintf(detail, dlen, "BilanRequest: a period of %d days, over %d",
                     period_days(from, to), BILAN_REPLY_MAX_DAYS);
            return FB_ERR_MALFORMED;
        }
        return FB_OK;
    }
    if (req->year < 1 || req->year > 9999) {
        snprintf(detail, dlen, "BilanRequest: neither a year (1-9999) nor a period");
        return FB_ERR_MALFORMED;
    }
    *out = period_year(req->year);
    return FB_OK;
}

/* Does a bailleur asking for `asked` ask for itself (empty, its actor id,
 * or the SIREN of its "bailleur:<SIREN>" id)? */
static bool s_own_bailleur(const char *actor, const char *asked)
{
    return !*asked || strcmp(actor, asked) == 0 ||
           (strncmp(actor, "bailleur:", 9) == 0 && strcmp(actor + 9, asked) == 0);
}

/* The view the requester's roles give it, or a refusal. */
static fb_err_t s_view(const store_actor_t *who, const char *asked, int *view, char *detail,
                       size_t dlen)
{
    bool bailleur = store_list_has(who->roles, "bailleur");
    bool territory =
        store_list_has(who->roles, "observer") || store_list_has(who->roles, "commune");
    if (bailleur && s_own_bailleur(who->id, asked))
        *view = VIEW(BAILLEUR);
    else if (territory && *who->territories)
        *view = VIEW(TERRITOIRE);
    else if (store_list_has(who->roles, "reservataire"))
        *view = VIEW(RESERVATAIRE);
    else if (bailleur)
        snprintf(detail, dlen, "a bailleur asks for its own bilan only: %.64s asks for %.64s",
                 who->id, asked);
    else if (territory)
        snprintf(detail, dlen,
                 "%.64s has no territory registered: an observer or a commune asks for the bilan "
                 "of its territory",
                 who->id);
    else
        snprintf(detail, dlen, "roles %.64s may not ask for a bilan", who->roles);
    return *detail ? FB_ERR_NOT_AUTHORIZED : FB_OK;
}

fb_err_t bilan_reply_scope(const store_actor_t *requester, const Fluxbus__V1__BilanRequest *req,
                           bilan_reply_scope_t *scope, char *detail, size_t dlen)
{
    memset(scope, 0, sizeof *scope);
    detail[0] = '\0';
    fb_err_t rc = s_period(req, &scope->query.period, detail, dlen);
    if (rc != FB_OK)
        return rc;
    const char *asked = req->bailleur ? req->bailleur : "";
    const char *epci = req->epci_siren ? req->epci_siren : "";
    if (*epci && !s_digits(epci, 9)) {
        snprintf(detail, dlen, "BilanRequest: epci_siren \"%.32s\" is not 9 digits", epci);
        return FB_ERR_MALFORMED;
    }
    if (strlen(asked) >= sizeof scope->bailleur || req->repeated_threshold > 1000) {
        snprintf(detail, dlen,
                 "BilanRequest: bailleur over %zu bytes or repeated_threshold over "
                 "1000",
                 sizeof scope->bailleur - 1);
        return FB_ERR_MALFORMED;
    }
    rc = s_view(requester, asked, &scope->view, detail, dlen);
    if (rc != FB_OK)
        return rc;
    /* A bailleur's own bilan is filtered by its actor id, however it asked. */
    snprintf(scope->bailleur, sizeof scope->bailleur, "%s",
             scope->view == VIEW(BAILLEUR) ? requester->id : asked);
    snprintf(scope->epci, sizeof scope->epci, "%s", epci);
    snprintf(scope->communes, sizeof scope->communes, "%s", requester->territories);
    scope->query.bailleur = *scope->bailleur ? scope->bailleur : NULL;
    scope->query.epci = *scope->epci ? scope->epci : NULL;
    scope->query.communes = scope->view == VIEW(TERRITOIRE) ? scope->communes : NULL;
    scope->query.repeated_threshold = req->repeated_threshold;
    return FB_OK;
}

/* ---- the answer ------------------------------------------------------------------------ */

void bilan_reply_id(const char *requester, const uint8_t request_id[16], uint8_t out[16])
{
    char key[sizeof S_ID_CONTEXT + FB_ACTOR_MAX + 2 * FB_MESSAGE_ID_BYTES + 2];
    size_t n = 0;
    memcpy(key, S_ID_CONTEXT, sizeof S_ID_CONTEXT); /* with its NUL */
    n += sizeof S_ID_CONTEXT;
    size_t actor = strnlen(requester, FB_ACTOR_MAX - 1);
    memcpy(key + n, requester, actor);
    n += actor;
    key[n++] = '\0';
    fb_hex_encode(request_id, FB_MESSAGE_ID_BYTES, key + n);
    n += 2 * FB_MESSAGE_ID_BYTES;
    uint8_t digest[32];
    fb_sha256((const uint8_t *)key, n, digest);
    memcpy(out, digest, FB_MESSAGE_ID_BYTES);
}

fb_err_t bilan_reply_compute(sqlite3 *db, const store_actor_t *requester,
                             const Fluxbus__V1__BilanRequest *req, int64_t now_ms,
                             bilan_reply_t *out, char *detail, size_t dlen)
{
    memset(out, 0, sizeof *out);
    bilan_reply_scope_t scope;
    fb_err_t rc = bilan_reply_scope(requester, req, &scope, detail, dlen);
    if (rc != FB_OK)
        return rc;
    char err[300];
    out->bilan = bilan_run(db, &scope.query, err, sizeof err);
    if (!out->bilan) {
        snprintf(detail, dlen, "%s", err);
        return strstr(err, "out of memory") ? FB_ERR_NOMEM : FB_ERR_STORE;
    }
    bilan_msg_args_t args = {.view = scope.view,
                             .requested_by = requester->id,
                             .communes = scope.query.communes,
                             .computed_ms = now_ms};
    out->msg = bilan_msg_new(out->bilan, &args);
    if (!out->msg) {
        snprintf(detail, dlen, "out of memory");
        bilan_reply_clear(out);
        return FB_ERR_NOMEM;
    }
    return FB_OK;
}

fb_err_t bilan_reply_seal(notary_t *notary, const char *requester,
                          const uint8_t request_id[FB_MESSAGE_ID_BYTES], size_t max_envelope,
                          bilan_reply_t *reply, char *detail, size_t dlen)
{
    uint8_t id[FB_MESSAGE_ID_BYTES];
    bilan_reply_id(requester, request_id, id);
    fb_err_t rc =
        notary_reply(notary, FLUXBUS__V1__MESSAGE_TYPE__MESSAGE_TYPE_BILAN_ANNUEL, requester,
                     request_id, id, bilan_reply_payload(reply), &reply->envelope, &reply->len);
    if (rc == FB_OK && reply->len > max_envelope) {
        snprintf(detail, dlen,
                 "the bilan asked makes a BilanAnnuel of %zu bytes, over the cap of %zu: ask "
                 "for one EPCI or a shorter period",
                 reply->len, max_envelope);
        rc = FB_ERR_TOO_LARGE;
    }
    if (rc != FB_OK)
        bilan_reply_clear(reply);
    return rc;
}

fb_err_t bilan_reply_prepare(sqlite3 *db, notary_t *notary, const store_actor_t *requester,
                             const Fluxbus__V1__SignedBody *request,
                             const Fluxbus__V1__BilanRequest *req, size_t max_envelope,
                             int64_t now_ms, bilan_reply_t *out, char *detail, size_t dlen)
{
    fb_err_t rc = bilan_reply_compute(db, requester, req, now_ms, out, detail, dlen);
    return rc == FB_OK ? bilan_reply_seal(notary, requester->id, request->message_id.data,
                                          max_envelope, out, detail, dlen)
                       : rc;
}

const ProtobufCMessage *bilan_reply_payload(const bilan_reply_t *reply)
{
    return reply->msg ? &bilan_msg_payload(reply->msg)->base : NULL;
}

void bilan_reply_clear(bilan_reply_t *reply)
{
    free(reply->envelope);
    bilan_msg_destroy(&reply->msg);
    bilan_destroy(&reply->bilan);
    memset(reply, 0, sizeof *reply);
}
