/* http.h - the adapters' local HTTP server (libmicrohttpd), run from the
 * adapter's own loop: one thread, no locking, the handler may use the bus.
 *
 * A handler sees a whole request (method, path, query, bearer token, body
 * up to a cap) and fills a response. Errors are JSON bodies
 * {"error": code, "field": path or null, "message": text} (http_error). */
#ifndef FLUXBUS_ADAPTER_HTTP_H
#define FLUXBUS_ADAPTER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fluxbus/err.h"

typedef struct http_server http_server_t;

typedef struct {
    const char *method;        /* "GET", "POST", ... */
    const char *path;          /* "/offers/vac-1/designations", no query */
    const char *authorization; /* Authorization header or NULL */
    const char *body;          /* NUL-terminated; "" when none */
    size_t body_len;
    void *conn; /* internal (http_query) */
} http_request_t;

typedef struct {
    int status;            /* default 200 */
    char content_type[64]; /* default "application/json" */
    char *body;            /* malloc'd, taken by the server */
    size_t body_len;
    char header_name[64]; /* one extra header, e.g. "ETag"; "" for none */
    char header_value[256];
    int64_t last_modified_ms; /* > 0: a Last-Modified header (HTTP date) */
} http_response_t;

typedef void (*http_handler_fn)(void *ctx, const http_request_t *req, http_response_t *res);

/* Listens on address:port (port 0: any free port; see http_port) and serves
 * with `handler`. Bodies larger than max_body are answered 413 without
 * calling it. NULL with a reason in err. */
http_server_t *http_start(const char *address, unsigned port, size_t max_body,
                          http_handler_fn handler, void *ctx, char *err, size_t errlen);

/* The port actually bound. */
unsigned http_port(const http_server_t *self);

/* Serves what is ready, waiting at most timeout_ms for something to do. */
void http_poll(http_server_t *self, int timeout_ms);

void http_stop(http_server_t **self_p);

/* The value of query parameter `name` of the request, or NULL. */
const char *http_query(const http_request_t *req, const char *name);

/* The value of request header `name` (any case), or NULL. */
const char *http_header(const http_request_t *req, const char *name);

/* True when the request carries "Authorization: Bearer <token>" (compared in
 * constant time). */
bool http_bearer_ok(const http_request_t *req, const char *token);

/* Sets a JSON body (steals `json`) with `status`. */
void http_json(http_response_t *res, int status, json_t *json);

/* Sets a text body (copied) with a content type. */
void http_text(http_response_t *res, int status, const char *content_type, const char *text,
               size_t len);

/* Sets the JSON error body {"error", "field", "message"}; field may be NULL. */
void http_error(http_response_t *res, int status, const char *code, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
