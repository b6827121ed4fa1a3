/* http.c: building responses and reading query strings and cookies. */
#include "http.h"

#include "crypto.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void http_set_body(struct response *res, int status, char *text)
{
    free(res->body);
    res->body = text;
    res->body_len = text != NULL ? strlen(text) : 0;
    res->status = status;
    res->content_type = "application/json";
}

void http_json_text(struct response *res, int status, char *text)
{
    if (text == NULL) {
        http_error(res, 500, "internal_error", "The server could not build its answer.");
        return;
    }
    http_set_body(res, status, text);
}

void http_json(struct response *res, int status, json_object *obj)
{
    char *text = NULL;
    if (obj != NULL) {
        const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE);
        text = s != NULL ? strdup(s) : NULL;
        json_object_put(obj);
    }
    http_json_text(res, status, text);
}

void http_error_with(struct response *res, int status, const char *code, const char *message,
                     json_object *extra)
{
    json_object *root = json_object_new_object();
    json_object *error = json_object_new_object();
    json_object_object_add(error, "code", json_object_new_string(code));
    json_object_object_add(error, "message", json_object_new_string(message));
    if (extra != NULL) {
        json_object_object_foreach(extra, key, value)
        {
            json_object_object_add(error, key, json_object_get(value));
        }
        json_object_put(extra);
    }
    json_object_object_add(root, "error", error);
    const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    char *text = s != NULL ? strdup(s) : NULL;
    json_object_put(root);
    if (text == NULL) {
        /* Out of memory: a constant body still tells the client something. */
        text = strdup("{\"error\":{\"code\":\"internal_error\",\"message\":\"out of memory\"}}");
        status = 500;
        code = "internal_error";
    }
    http_set_body(res, status, text);
    snprintf(res->error_code, sizeof(res->error_code), "%s", code);
}

void http_error(struct response *res, int status, const char *code, const char *message)
{
    http_error_with(res, status, code, message, NULL);
}

void http_invalid(struct response *res, const struct v_error *err)
{
    http_error(res, 400, err->code, err->message);
}

void http_no_content(struct response *res)
{
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
    res->status = 204;
}

void http_header(struct response *res, const char *name, const char *fmt, ...)
{
    char value[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    size_t room = sizeof(res->headers) - res->headers_len;
    int n = snprintf(res->headers + res->headers_len, room, "%s: %s\r\n", name, value);
    if (n < 0 || (size_t)n >= room) {
        res->headers[res->headers_len] = '\0';
        return;
    }
    res->headers_len += (size_t)n;
}

/* Decodes n bytes of application/x-www-form-urlencoded text into out. */
static int http_url_decode(const char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = crypto_hex_value(in[i + 1]);
            int lo = crypto_hex_value(in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0' || o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 1;
}

int http_query(const struct request *req, const char *name, char *out, size_t cap)
{
    const char *p = req->query;
    size_t name_len = strlen(name);
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, '&');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t key_len = eq != NULL ? (size_t)(eq - p) : len;
        if (key_len == name_len && memcmp(p, name, name_len) == 0) {
            if (eq == NULL) {
                out[0] = '\0';
                return 1;
            }
            return http_url_decode(eq + 1, len - key_len - 1, out, cap);
        }
        p = end != NULL ? end + 1 : NULL;
    }
    return 0;
}

bool http_cookie(const struct request *req, const char *name, char *out, size_t cap)
{
    const char *p = req->cookie;
    size_t name_len = strlen(name);
    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > name_len && memcmp(p, name, name_len) == 0 && p[name_len] == '=') {
            size_t value_len = len - name_len - 1;
            if (value_len + 1 > cap)
                return false;
            memcpy(out, p + name_len + 1, value_len);
            out[value_len] = '\0';
            return true;
        }
        p = end;
    }
    return false;
}

bool http_body_json(const struct request *req, struct response *res, json_object **out)
{
    struct v_error err;
    *out = NULL;
    if (req->content_type[0] != '\0' &&
        strncmp(req->content_type, "application/json", strlen("application/json")) != 0) {
        http_error(res, 415, "unsupported_media_type",
                   "Send the request body as application/json.");
        return false;
    }
    if (!v_json_object(req->body, req->body_len, out, &err)) {
        http_invalid(res, &err);
        return false;
    }
    return true;
}

const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

void http_db_failure(const struct request *req, struct response *res, enum db_status status)
{
    if (status == DB_UNAVAILABLE) {
        log_warn(req->id, "database unavailable: %s", db_last_error(req->db));
        http_header(res, "Retry-After", "1");
        http_error(res, 503, "unavailable", "The service is briefly unavailable; try again.");
        return;
    }
    log_error(req->id, "database error %s: %s", db_last_sqlstate(req->db), db_last_error(req->db));
    http_error(res, 500, "internal_error", "Something went wrong on our side.");
}
