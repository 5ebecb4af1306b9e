/* http.c - the adapters' local HTTP server (see http.h). Owns the
 * libmicrohttpd daemon, run without threads of its own from the adapter's
 * loop, gathering each request (with its body, up to a cap) into one call of
 * the adapter's handler, and the JSON error form. */
#include "http.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include <microhttpd.h>
#include <sodium.h>

struct http_server {
    struct MHD_Daemon *daemon;
    http_handler_fn handler;
    void *ctx;
    size_t max_body;
    unsigned port;
};

/* One request being received. */
typedef struct {
    char *body;
    size_t len;
    bool too_large;
} s_upload_t;

static enum MHD_Result s_send(struct MHD_Connection *conn, http_response_t *res)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(res->body_len, res->body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(res->body);
        return MHD_NO;
    }
    res->body = NULL;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (res->header_name[0])
        MHD_add_response_header(r, res->header_name, res->header_value);
    if (res->last_modified_ms > 0) {
        char date[64];
        time_t t = (time_t)(res->last_modified_ms / 1000);
        struct tm tm;
        if (gmtime_r(&t, &tm) && strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm))
            MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED, date);
    }
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result s_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **con_cls)
{
    http_server_t *self = cls;
    s_upload_t *up = *con_cls;
    if (!up) { /* first call: headers only */
        if (!(up = calloc(1, sizeof *up)))
            return MHD_NO;
        *con_cls = up;
        return MHD_YES;
    }
    if (*upload_data_size) { /* a piece of the body */
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (up->too_large || up->len + n > self->max_body) {
            up->too_large = true;
            return MHD_YES;
        }
        char *p = realloc(up->body, up->len + n + 1);
        if (!p)
            return MHD_NO;
        memcpy(p + up->len, upload_data, n);
        up->body = p;
        up->len += n;
        up->body[up->len] = '\0';
        return MHD_YES;
    }
    http_response_t res = {.status = 200, .content_type = "application/json"};
    if (up->too_large) {
        http_error(&res, 413, "too_large", NULL, "request body over %zu bytes", self->max_body);
    } else {
        http_request_t req = {
            .method = method,
            .path = url,
            .authorization =
                MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
            .body = up->body ? up->body : "",
            .body_len = up->len,
            .conn = conn,
        };
        self->handler(self->ctx, &req, &res);
    }
    if (!res.body)
        http_text(&res, res.status, res.content_type, "", 0);
    return s_send(conn, &res);
}

static void s_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    s_upload_t *up = *con_cls;
    if (up) {
        free(up->body);
        free(up);
        *con_cls = NULL;
    }
}

http_server_t *http_start(const char *address, unsigned port, size_t max_body,
                          http_handler_fn handler, void *ctx, char *err, size_t errlen)
{
    struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    const struct sockaddr *sa = NULL;
    unsigned flags = MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, address, &v4.sin_addr) == 1) {
        sa = (const struct sockaddr *)&v4;
    } else if (inet_pton(AF_INET6, address, &v6.sin6_addr) == 1) {
        sa = (const struct sockaddr *)&v6;
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, errlen, "http_address \"%s\" is not an IPv4 or IPv6 address", address);
        return NULL;
    }
    http_server_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->handler = handler;
    self->ctx = ctx;
    self->max_body = max_body;
    self->daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, s_on_request, self, MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_NOTIFY_COMPLETED, s_on_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
    if (!self->daemon) {
        snprintf(err, errlen, "cannot listen on %s:%u (in use, or not allowed)", address, port);
        free(self);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : port;
    return self;
}

unsigned http_port(const http_server_t *self)
{
    return self->port;
}

void http_poll(http_server_t *self, int timeout_ms)
{
    fd_set rs, ws, es;
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_ZERO(&es);
    MHD_socket max = 0;
    if (MHD_get_fdset(self->daemon, &rs, &ws, &es, &max) == MHD_YES && timeout_ms > 0) {
        MHD_UNSIGNED_LONG_LONG mhd_timeout = 0;
        long wait_ms = timeout_ms;
        if (MHD_get_timeout(self->daemon, &mhd_timeout) == MHD_YES &&
            (long long)mhd_timeout < wait_ms)
            wait_ms = (long)mhd_timeout;
        struct timeval tv = {wait_ms / 1000, (wait_ms % 1000) * 1000};
        select(max + 1, &rs, &ws, &es, &tv);
    }
    MHD_run(self->daemon);
}

void http_stop(http_server_t **self_p)
{
    http_server_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    MHD_stop_daemon(self->daemon);
    free(self);
    *self_p = NULL;
}

const char *http_header(const http_request_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const http_request_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool http_bearer_ok(const http_request_t *req, const char *token)
{
    static const char prefix[] = "Bearer ";
    const char *auth = req->authorization;
    if (!auth || !token || !*token || strncmp(auth, prefix, sizeof prefix - 1) != 0)
        return false;
    const char *given = auth + sizeof prefix - 1;
    /* Compare digests: constant time whatever the lengths. */
    uint8_t a[32], b[32];
    crypto_generichash(a, sizeof a, (const uint8_t *)given, strlen(given), NULL, 0);
    crypto_generichash(b, sizeof b, (const uint8_t *)token, strlen(token), NULL, 0);
    return sodium_memcmp(a, b, sizeof a) == 0;
}

void http_text(http_response_t *res, int status, const char *content_type, const char *text,
               size_t len)
{
    free(res->body);
    res->body = malloc(len + 1);
    res->body_len = res->body ? len : 0;
    if (res->body) {
        memcpy(res->body, text, len);
        res->body[len] = '\0';
    }
    res->status = status;
    if (content_type != res->content_type)
        snprintf(res->content_type, sizeof res->content_type, "%s", content_type);
}

void http_json(http_response_t *res, int status, json_t *json)
{
    char *text = json ? json_dumps(json, JSON_INDENT(2)) : NULL;
    json_decref(json);
    if (!text) {
        http_text(res, 500, "application/json", "{\"error\":\"internal\"}\n", 21);
        return;
    }
    size_t n = strlen(text);
    char *body = realloc(text, n + 2);
    if (!body) {
        free(text);
        http_text(res, 500, "application/json", "{\"error\":\"internal\"}\n", 21);
        return;
    }
    body[n] = '\n';
    body[n + 1] = '\0';
    free(res->body);
    res->body = body;
    res->body_len = n + 1;
    res->status = status;
    snprintf(res->content_type, sizeof res->content_type, "application/json");
}

void http_error(http_response_t *res, int status, const char *code, const char *field,
                const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    http_json(res, status,
              json_pack("{s:s, s:o, s:s}", "error", code, "field",
                        field ? json_string(field) : json_null(), "message", message));
}
