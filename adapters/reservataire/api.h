/* api.h - what the réservataire's platform may ask: the HTTP routes
 * (GET /offers, GET /offers/{id}, POST /offers/{id}/{ack,decline,
 * designations,remise}, GET /events), each behind the bearer token, and the
 * actions themselves, shared with the spool mode.
 *
 * An action is checked whole before anything is sent: unknown offer (404),
 * body not a JSON object (400), a field that does not fit (422, the field
 * named), offer no longer open (409). Its messages go to the bailleur that
 * oriented the offer through adapter_send, content-addressed: the same
 * request made again is the same messages (200, "duplicate": true), never
 * new ones. While the broker is unreachable a request is queued in the
 * state file (202, "queued": true) and made again from the loop. */
#ifndef FLUXBUS_RESA_API_H
#define FLUXBUS_RESA_API_H

#include <stddef.h>

#include <jansson.h>

#include "adapter.h"
#include "http.h"
#include "offers.h"

typedef struct api api_t;

/* The routes over `adapter` and `offers` (both borrowed), behind `token`
 * (copied). NULL on OOM. */
api_t *api_new(adapter_t *adapter, offers_t *offers, const char *token);

void api_destroy(api_t **self_p);

/* The http_handler_fn of the adapter's server (ctx: the api_t). */
void api_handle(void *ctx, const http_request_t *req, http_response_t *res);

/* The outcome of an action: an HTTP status and its JSON body - on success
 * {"vacancy_id", "action", "state", "duplicate", "queued", "messages":
 * [...]}, on error {"error": code, "field": path or null, "message": text},
 * with code, field and message also given apart (for spool error files). */
typedef struct {
    int status;
    json_t *json;
    char code[32];
    char field[192];
    char message[256];
} api_result_t;

/* Runs `action` ("designations", "remise", "ack", "decline") on the offer of
 * vacancy_id with `body` (any JSON; NULL stands for {}). Fills *out (clear
 * it with api_result_clear). */
void api_action(api_t *self, const char *action, const char *vacancy_id, const json_t *body,
                api_result_t *out);

void api_result_clear(api_result_t *r);

/* Makes the queued requests again (those answered 202), if the broker is
 * reachable. Returns how many are still queued. */
size_t api_retry_queued(api_t *self);

/* True for the names api_action knows. */
bool api_action_known(const char *action);

#endif
