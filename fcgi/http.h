/* http.h: the request a handler sees and the response it fills. Handlers
 * never touch FastCGI; worker.c moves bytes between these and libfcgi. */
#ifndef BOXOFFICE_HTTP_H
#define BOXOFFICE_HTTP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "validate.h"

enum http_method { HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE, HTTP_OTHER };

#define HTTP_MAX_PATH_PARAMS 4
#define HTTP_PARAM_MAX 65
#define HTTP_TOKEN_HASH_HEX 65
#define HTTP_MAX_HEADERS_OUT 2048

/* The signed-in user, when the route asked for one. */
struct http_user {
    int64_t id;
    bool is_admin;
};

struct request {
    char id[40]; /* request id for logs, echoed as X-Request-Id */
    enum http_method method;
    const char *method_text;
    char path[1024];
    const char *query;        /* raw query string, "" when none */
    const char *content_type; /* "" when none */
    const char *authorization;
    const char *cookie;
    const char *idempotency_key;
    const char *stripe_signature;
    const char *remote_addr;
    char *body; /* NUL-terminated copy, or NULL */
    size_t body_len;
    /* Captured by the router: `:id` segments as ids, `:s` segments as text,
     * in the order they appear in the pattern. */
    int64_t ids[HTTP_MAX_PATH_PARAMS];
    char args[HTTP_MAX_PATH_PARAMS][HTTP_PARAM_MAX];
    /* SHA-256 (hex) of the presented session token, "" when none. Routes
     * that resolve the session inside their own SQL use this directly. */
    char token_hash[HTTP_TOKEN_HASH_HEX];
    struct http_user user; /* id 0 when not signed in */
    struct db *db;
    const struct config *cfg;
    void *process; /* the worker's private state (worker.h) */
};

struct response {
    int status;
    char *body; /* malloc'd; NULL for no body */
    size_t body_len;
    const char *content_type;
    char headers[HTTP_MAX_HEADERS_OUT]; /* extra "Name: value\r\n" lines */
    size_t headers_len;
    char error_code[64]; /* the error's code, for logs and metrics */
};

/* Sets a JSON body from obj and takes ownership of obj (it is put).
 * Serialisation failure becomes a 500. */
void http_json(struct response *res, int status, json_object *obj);

/* Takes ownership of a malloc'd JSON text (NULL means 500). */
void http_json_text(struct response *res, int status, char *text);

/* Sets `{"error": {"code", "message"}}`. */
void http_error(struct response *res, int status, const char *code, const char *message);

/* The same with extra members merged into the error object (obj is put). */
void http_error_with(struct response *res, int status, const char *code, const char *message,
                     json_object *extra);

/* 400 from a validation failure. */
void http_invalid(struct response *res, const struct v_error *err);

/* 204 with no body. */
void http_no_content(struct response *res);

/* Appends one header line; silently refuses if it would overflow the cap
 * (the cap is far above what any handler sets). */
void http_header(struct response *res, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies the URL-decoded value of a query parameter into out (cap bytes).
 * Returns 1 when found, 0 when absent, -1 when present but too long or
 * badly encoded. */
int http_query(const struct request *req, const char *name, char *out, size_t cap);

/* Copies the value of cookie `name` into out; false when absent/too long. */
bool http_cookie(const struct request *req, const char *name, char *out, size_t cap);

/* Parses the body as a JSON object; on failure fills res with a 400 (or 415
 * for a non-JSON content type) and returns false. */
bool http_body_json(const struct request *req, struct response *res, json_object **out);

/* Reason phrase for a status code. */
const char *http_reason(int status);

/* The 503 a handler answers when the database is down or answered with an
 * error it cannot explain; logs the database's message with the request. */
void http_db_failure(const struct request *req, struct response *res, enum db_status status);

#endif
