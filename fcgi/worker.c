/* worker.c: one prefork worker process: the FastCGI accept loop, request
 * decoding, authentication, dispatch and the access log. */
#include "worker.h"

#include "auth.h"
#include "crypto.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "route.h"

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t worker_stopping;

static void worker_on_signal(int sig)
{
    (void)sig;
    worker_stopping = 1;
}

static double worker_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *worker_param(FCGX_Request *fcgx, const char *name)
{
    const char *v = FCGX_GetParam(name, fcgx->envp);
    return v != NULL ? v : "";
}

/* A request id from nginx ($request_id) when it is sane, else a fresh one. */
static void worker_request_id(FCGX_Request *fcgx, char *out, size_t cap)
{
    const char *given = worker_param(fcgx, "REQUEST_ID");
    size_t len = strlen(given);
    bool ok = len >= 8 && len < cap;
    for (size_t i = 0; ok && i < len; i++) {
        char c = given[i];
        ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
             c == '-';
    }
    if (ok) {
        memcpy(out, given, len + 1);
        return;
    }
    uint8_t raw[8];
    if (!crypto_random_bytes(raw, sizeof(raw)))
        memset(raw, 0, sizeof(raw));
    crypto_hex_encode(raw, sizeof(raw), out);
}

/* Copies the path part of the request URI; false if it does not fit. */
static bool worker_path(FCGX_Request *fcgx, char *out, size_t cap)
{
    const char *uri = worker_param(fcgx, "DOCUMENT_URI");
    if (uri[0] == '\0')
        uri = worker_param(fcgx, "REQUEST_URI");
    size_t len = strcspn(uri, "?");
    if (len == 0 || len >= cap)
        return false;
    memcpy(out, uri, len);
    out[len] = '\0';
    /* "/api/events/" and "/api/events" name the same thing. */
    if (len > 1 && out[len - 1] == '/')
        out[len - 1] = '\0';
    return true;
}

/* Reads the body into req->body, refusing more than limit bytes. Returns
 * false with res filled when the body is too large or unreadable. */
static bool worker_read_body(FCGX_Request *fcgx, struct request *req, size_t limit,
                             struct response *res)
{
    const char *text = worker_param(fcgx, "CONTENT_LENGTH");
    int64_t length = 0;
    if (text[0] != '\0' && !v_parse_int(text, 0, INT64_MAX, &length)) {
        http_error(res, 400, "invalid_content_length", "Content-Length is not a number.");
        return false;
    }
    if ((uint64_t)length > limit) {
        http_error(res, 413, "body_too_large", "The request body is too large.");
        return false;
    }
    if (length == 0)
        return true;
    req->body = malloc((size_t)length + 1);
    if (req->body == NULL) {
        http_error(res, 503, "unavailable", "The server is out of memory; try again.");
        return false;
    }
    int got = FCGX_GetStr(req->body, (int)length, fcgx->in);
    if (got != (int)length) {
        http_error(res, 400, "incomplete_body", "The request body ended early.");
        return false;
    }
    req->body[length] = '\0';
    req->body_len = (size_t)length;
    return true;
}

static void worker_write(FCGX_Request *fcgx, const struct request *req, const struct response *res)
{
    FCGX_FPrintF(fcgx->out, "Status: %d %s\r\n", res->status, http_reason(res->status));
    if (res->body != NULL) {
        FCGX_FPrintF(fcgx->out, "Content-Type: %s\r\n",
                     res->content_type != NULL ? res->content_type : "application/json");
        /* The length lets nginx answer in one piece instead of chunks (one
         * write fewer, and no last chunk, per request). Formatted here:
         * FCGX_FPrintF knows no %zu. */
        char length[48];
        snprintf(length, sizeof(length), "Content-Length: %zu\r\n", res->body_len);
        FCGX_PutS(length, fcgx->out);
    }
    FCGX_FPrintF(fcgx->out, "X-Request-Id: %s\r\nCache-Control: no-store\r\n", req->id);
    if (res->headers_len > 0)
        FCGX_PutStr(res->headers, (int)res->headers_len, fcgx->out);
    FCGX_PutS("\r\n", fcgx->out);
    if (res->body != NULL && req->method_text != NULL && strcmp(req->method_text, "HEAD") != 0)
        FCGX_PutStr(res->body, (int)res->body_len, fcgx->out);
}

/* True when nginx declared no request body. */
static bool worker_no_body(FCGX_Request *fcgx)
{
    const char *text = worker_param(fcgx, "CONTENT_LENGTH");
    return text[0] == '\0' || strcmp(text, "0") == 0;
}

/* Answers one request. Returns true when its whole body was read (or it
 * had none), so that nothing nginx sent is left unread on the connection. */
static bool worker_handle(struct worker_state *state, FCGX_Request *fcgx)
{
    struct request req;
    struct response res;
    double started = worker_seconds();
    int route = ROUTE_NOT_FOUND;
    bool consumed = worker_no_body(fcgx);

    memset(&req, 0, sizeof(req));
    memset(&res, 0, sizeof(res));
    req.db = state->db;
    req.cfg = state->cfg;
    req.process = state;
    worker_request_id(fcgx, req.id, sizeof(req.id));
    req.method_text = worker_param(fcgx, "REQUEST_METHOD");
    req.method = route_method(req.method_text);
    req.query = worker_param(fcgx, "QUERY_STRING");
    req.content_type = worker_param(fcgx, "CONTENT_TYPE");
    req.authorization = worker_param(fcgx, "HTTP_AUTHORIZATION");
    req.cookie = worker_param(fcgx, "HTTP_COOKIE");
    req.idempotency_key = worker_param(fcgx, "HTTP_IDEMPOTENCY_KEY");
    req.stripe_signature = worker_param(fcgx, "HTTP_STRIPE_SIGNATURE");
    req.remote_addr = worker_param(fcgx, "REMOTE_ADDR");

    if (!worker_path(fcgx, req.path, sizeof(req.path))) {
        http_error(&res, 414, "uri_too_long", "The request path is too long.");
        goto done;
    }
    route = route_match(req.method, req.path, &req);
    if (route == ROUTE_NOT_FOUND) {
        http_error(&res, 404, "not_found", "There is nothing at this address.");
        goto done;
    }
    if (route == ROUTE_METHOD_NOT_ALLOWED) {
        http_error(&res, 405, "method_not_allowed", "This address does not take that method.");
        goto done;
    }
    const struct route *r = &route_table[route];
    size_t limit = (size_t)state->cfg->max_body_bytes;
    if (r->flags & ROUTE_LARGE_BODY)
        limit *= 16;
    if (!worker_read_body(fcgx, &req, limit, &res))
        goto done;
    consumed = true;
    auth_token_hash(&req);
    if ((r->flags & (ROUTE_USER | ROUTE_ADMIN)) && !auth_require(&req, &res, r->flags & ROUTE_ADMIN))
        goto done;
    if ((r->flags & ROUTE_SESSION_IN_SQL) && req.token_hash[0] == '\0') {
        http_error(&res, 401, "unauthorized", "Sign in first.");
        goto done;
    }
    r->handler(&req, &res);
    if (res.status == 0)
        http_error(&res, 500, "internal_error", "Something went wrong on our side.");

done:
    worker_write(fcgx, &req, &res);
    double elapsed = worker_seconds() - started;
    metrics_observe(route, res.status, elapsed);
    if (res.status >= 500)
        log_warn(req.id, "%s %s %d %.1fms %s", req.method_text, req.path, res.status,
                 elapsed * 1000, res.error_code);
    else
        log_debug(req.id, "%s %s %d %.1fms %s", req.method_text, req.path, res.status,
                  elapsed * 1000, res.error_code);
    free(req.body);
    free(res.body);
    return consumed;
}

int worker_run(const struct config *cfg, int listen_fd)
{
    struct worker_state state;
    FCGX_Request fcgx;
    struct sigaction sa;
    sigset_t term, old;
    int status = 1;

    memset(&state, 0, sizeof(state));
    state.cfg = cfg;
    /* No SA_RESTART: a signal must interrupt accept() so that an idle worker
     * stops at once. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = worker_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);

    state.db = db_open(cfg->database_url);
    if (state.db == NULL) {
        log_error(NULL, "out of memory opening the database handle");
        goto done;
    }
    if (!db_connected(state.db))
        log_warn(NULL, "database not reachable yet (%s); will retry per request",
                 db_last_error(state.db));
    if (FCGX_Init() != 0 || FCGX_InitRequest(&fcgx, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        log_error(NULL, "cannot initialise libfcgi");
        goto done;
    }
    while (!worker_stopping) {
        if (FCGX_Accept_r(&fcgx) < 0) {
            if (worker_stopping)
                break;
            if (errno == EINTR)
                continue;
            log_error(NULL, "accept failed: %s", strerror(errno));
            break;
        }
        /* A stop signal waits until the request in flight is answered. */
        sigprocmask(SIG_BLOCK, &term, &old);
        /* Once the whole request is read and the answer written, the
         * connection is simply closed. libfcgi would otherwise shut down
         * our side and wait for nginx to close its own (a poll, a read and
         * a wake-up per request, a tenth of a worker's CPU under load):
         * that guards against a reset discarding the answer when unread
         * input is left behind, so it is kept for requests whose body was
         * not read (refused before reading, or too large). */
        if (worker_handle(&state, &fcgx))
            FCGX_Detach(&fcgx);
        FCGX_Finish_r(&fcgx);
        sigprocmask(SIG_SETMASK, &old, NULL);
    }
    FCGX_Free(&fcgx, 1);
    status = 0;
done:
    queue_cache_free(&state.queue);
    payment_close(state.payment);
    search_close(state.search);
    db_close(state.db);
    return status;
}
