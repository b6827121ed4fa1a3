/* es_client.c: ElasticSearch REST calls over libcurl, _bulk with per-item
 * retries, and the query builders and answer mapping of the search API. */
#include "es_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ES_URL_MAX 1024
#define ES_ERROR_TEXT_MAX 512
#define ES_FACET_SIZE 20

struct es_client {
    CURL *curl;
    char *base_url; /* without a trailing slash */
    char *user_password;
    char *auth_header; /* "Authorization: ApiKey ..." or NULL */
    long connect_timeout_ms;
    long timeout_ms;
    int max_attempts;
    long backoff_initial_ms;
    long backoff_max_ms;
    uint64_t jitter_state;
    char error[ES_ERROR_TEXT_MAX];
};

/* A growable byte buffer with a hard cap; always NUL-terminated when
 * non-empty so that answers can be handed to string functions. */
struct es_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
};

static bool es_buf_append(struct es_buf *buf, const void *data, size_t n)
{
    if (n > buf->max || buf->len > buf->max - n)
        return false;
    if (buf->len + n + 1 > buf->cap) {
        size_t cap = buf->cap != 0 ? buf->cap : 1024;
        while (cap < buf->len + n + 1)
            cap *= 2;
        if (cap > buf->max + 1)
            cap = buf->max + 1;
        char *grown = realloc(buf->data, cap);
        if (grown == NULL)
            return false;
        buf->data = grown;
        buf->cap = cap;
    }
    memcpy(buf->data + buf->len, data, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
    return true;
}

static bool es_buf_append_str(struct es_buf *buf, const char *s)
{
    return es_buf_append(buf, s, strlen(s));
}

static void es_buf_free(struct es_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

/* Copies src into dst, cut at cap-1 bytes: for reasons and messages,
 * where a shortened text is better than none. */
static void es_copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void es_set_error(struct es_client *es, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void es_set_error(struct es_client *es, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(es->error, sizeof(es->error), fmt, ap);
    va_end(ap);
}

/* Parses exactly len bytes as one JSON value; NULL on any syntax error or
 * trailing garbage. */
static json_object *es_parse_json(const char *text, size_t len)
{
    json_object *obj = NULL;
    json_tokener *tok = json_tokener_new();
    if (tok == NULL || len > INT32_MAX)
        goto done;
    obj = json_tokener_parse_ex(tok, text, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(obj);
        obj = NULL;
        goto done;
    }
    for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t') {
            json_object_put(obj);
            obj = NULL;
            goto done;
        }
    }
done:
    if (tok != NULL)
        json_tokener_free(tok);
    return obj;
}

/* "type: reason" of an ES error value (object, or the bare string some 404s
 * carry) into out. */
static void es_error_reason(json_object *error, char *out, size_t cap)
{
    json_object *type = NULL;
    json_object *reason = NULL;
    if (error == NULL) {
        snprintf(out, cap, "%s", "");
        return;
    }
    if (json_object_is_type(error, json_type_string)) {
        snprintf(out, cap, "%s", json_object_get_string(error));
        return;
    }
    json_object_object_get_ex(error, "type", &type);
    json_object_object_get_ex(error, "reason", &reason);
    snprintf(out, cap, "%s: %s", type != NULL ? json_object_get_string(type) : "unknown",
             reason != NULL ? json_object_get_string(reason) : "");
}

/* The error type of an ES error answer body, into out ("" when none). */
static void es_error_type(const struct es_buf *body, char *out, size_t cap)
{
    json_object *root = NULL;
    json_object *error = NULL;
    json_object *type = NULL;
    snprintf(out, cap, "%s", "");
    if (body->len == 0)
        return;
    root = es_parse_json(body->data, body->len);
    if (root != NULL && json_object_object_get_ex(root, "error", &error) &&
        json_object_object_get_ex(error, "type", &type))
        snprintf(out, cap, "%s", json_object_get_string(type));
    json_object_put(root);
}

static void es_error_from_body(const struct es_buf *body, char *out, size_t cap)
{
    json_object *root = NULL;
    json_object *error = NULL;
    snprintf(out, cap, "%s", "no error details");
    if (body->len == 0)
        return;
    root = es_parse_json(body->data, body->len);
    if (root != NULL && json_object_object_get_ex(root, "error", &error))
        es_error_reason(error, out, cap);
    json_object_put(root);
}

bool es_valid_index_name(const char *name)
{
    size_t len = name != NULL ? strlen(name) : 0;
    if (len == 0 || len > ES_NAME_MAX)
        return false;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    if (name[0] == '-' || name[0] == '_' || name[0] == '+')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                  c == '.' || c == '+';
        if (!ok)
            return false;
    }
    return true;
}

/* A comma-separated list of valid names, as a search path accepts. */
static bool es_valid_index_list(const char *list)
{
    char name[ES_NAME_MAX + 1];
    const char *start = list;
    if (list == NULL || *list == '\0' || strlen(list) > ES_URL_MAX / 2)
        return false;
    for (;;) {
        const char *comma = strchr(start, ',');
        size_t n = comma != NULL ? (size_t)(comma - start) : strlen(start);
        if (n == 0 || n > ES_NAME_MAX)
            return false;
        memcpy(name, start, n);
        name[n] = '\0';
        if (!es_valid_index_name(name))
            return false;
        if (comma == NULL)
            return true;
        start = comma + 1;
    }
}

static char *es_strdup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

struct es_client *es_open(const struct es_options *opts)
{
    struct es_client *es = NULL;
    struct es_client *result = NULL;
    size_t base_len;

    if (opts == NULL || opts->base_url == NULL)
        return NULL;
    if (strncmp(opts->base_url, "http://", 7) != 0 && strncmp(opts->base_url, "https://", 8) != 0)
        return NULL;
    base_len = strlen(opts->base_url);
    if (base_len > ES_URL_MAX / 2)
        return NULL;
    if (opts->user_password != NULL && opts->api_key != NULL)
        return NULL;

    es = calloc(1, sizeof(*es));
    if (es == NULL)
        goto done;
    es->curl = curl_easy_init();
    es->base_url = strdup(opts->base_url);
    es->user_password = es_strdup_or_null(opts->user_password);
    if (es->curl == NULL || es->base_url == NULL ||
        (opts->user_password != NULL && es->user_password == NULL))
        goto done;
    while (base_len > 0 && es->base_url[base_len - 1] == '/')
        es->base_url[--base_len] = '\0';
    if (opts->api_key != NULL) {
        size_t n = strlen(opts->api_key) + sizeof("Authorization: ApiKey ");
        es->auth_header = malloc(n);
        if (es->auth_header == NULL)
            goto done;
        snprintf(es->auth_header, n, "Authorization: ApiKey %s", opts->api_key);
    }
    es->connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 2000;
    es->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 30000;
    es->max_attempts = opts->max_attempts > 0 ? opts->max_attempts : 5;
    es->backoff_initial_ms = opts->backoff_initial_ms > 0 ? opts->backoff_initial_ms : 100;
    es->backoff_max_ms = opts->backoff_max_ms > 0 ? opts->backoff_max_ms : 5000;
    /* Jitter only spreads retries of many indexers apart; it needs no
     * cryptographic quality, just different seeds per process. */
    es->jitter_state = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uintptr_t)es;
    if (es->jitter_state == 0)
        es->jitter_state = 0x9e3779b97f4a7c15u;
    result = es;
    es = NULL;
done:
    es_close(es);
    return result;
}

void es_close(struct es_client *es)
{
    if (es == NULL)
        return;
    if (es->curl != NULL)
        curl_easy_cleanup(es->curl);
    free(es->base_url);
    if (es->user_password != NULL) {
        /* Do not leave the password in freed heap memory. */
        memset(es->user_password, 0, strlen(es->user_password));
        free(es->user_password);
    }
    free(es->auth_header);
    free(es);
}

const char *es_last_error(const struct es_client *es)
{
    return es->error;
}

static size_t es_write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct es_buf *buf = userdata;
    size_t n = size * nmemb;
    /* Returning less than n makes curl fail the transfer: the cap holds. */
    if (!es_buf_append(buf, data, n))
        return 0;
    return n;
}

/* One HTTP exchange, no retries. Returns true when an HTTP answer arrived
 * (any status, in *http_status, body in resp); false on a network error,
 * timeout or an answer over ES_RESPONSE_MAX, with es->error set. */
static bool es_http(struct es_client *es, const char *method, const char *path,
                    const char *content_type, const char *body, size_t body_len,
                    struct es_buf *resp, long *http_status)
{
    char url[ES_URL_MAX];
    char ctype[64];
    struct curl_slist *headers = NULL;
    struct curl_slist *grown = NULL;
    CURLcode rc;
    bool ok = false;

    es_buf_free(resp);
    resp->max = ES_RESPONSE_MAX;
    *http_status = 0;
    if ((size_t)snprintf(url, sizeof(url), "%s%s", es->base_url, path) >= sizeof(url)) {
        es_set_error(es, "%s %s: URL too long", method, path);
        return false;
    }

    curl_easy_reset(es->curl);
    grown = curl_slist_append(headers, "Accept: application/json");
    if (grown == NULL)
        goto oom;
    headers = grown;
    /* curl would otherwise wait for "100 Continue" on big _bulk bodies. */
    grown = curl_slist_append(headers, "Expect:");
    if (grown == NULL)
        goto oom;
    headers = grown;
    if (content_type != NULL) {
        snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type);
        grown = curl_slist_append(headers, ctype);
        if (grown == NULL)
            goto oom;
        headers = grown;
    }
    if (es->auth_header != NULL) {
        grown = curl_slist_append(headers, es->auth_header);
        if (grown == NULL)
            goto oom;
        headers = grown;
    }

    curl_easy_setopt(es->curl, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(es->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(es->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(es->curl, CURLOPT_CONNECTTIMEOUT_MS, es->connect_timeout_ms);
    curl_easy_setopt(es->curl, CURLOPT_TIMEOUT_MS, es->timeout_ms);
    curl_easy_setopt(es->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(es->curl, CURLOPT_WRITEFUNCTION, es_write_cb);
    curl_easy_setopt(es->curl, CURLOPT_WRITEDATA, resp);
    if (es->user_password != NULL) {
        curl_easy_setopt(es->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(es->curl, CURLOPT_USERPWD, es->user_password);
    }
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(es->curl, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(es->curl, CURLOPT_CUSTOMREQUEST, method);
        if (body != NULL || strcmp(method, "POST") == 0) {
            curl_easy_setopt(es->curl, CURLOPT_POSTFIELDS, body != NULL ? body : "");
            curl_easy_setopt(es->curl, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)(body != NULL ? body_len : 0));
        }
    }

    rc = curl_easy_perform(es->curl);
    if (rc != CURLE_OK) {
        es_set_error(es, "%s %s: %s", method, path, curl_easy_strerror(rc));
        goto done;
    }
    curl_easy_getinfo(es->curl, CURLINFO_RESPONSE_CODE, http_status);
    ok = true;
    goto done;
oom:
    es_set_error(es, "%s %s: out of memory", method, path);
done:
    curl_slist_free_all(headers);
    return ok;
}

static uint64_t es_next_random(struct es_client *es)
{
    /* xorshift64 */
    uint64_t x = es->jitter_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    es->jitter_state = x;
    return x;
}

/* Sleeps before retry number `retry` (1 for the first): exponential, capped,
 * with "equal jitter" (half fixed, half random) so that many indexers that
 * were throttled together do not come back together. */
static void es_backoff(struct es_client *es, int retry)
{
    long delay = es->backoff_initial_ms;
    for (int i = 1; i < retry && delay < es->backoff_max_ms; i++)
        delay *= 2;
    if (delay > es->backoff_max_ms)
        delay = es->backoff_max_ms;
    long half = delay / 2;
    delay = half + (half > 0 ? (long)(es_next_random(es) % (uint64_t)(half + 1)) : 0);
    struct timespec ts = {.tv_sec = delay / 1000, .tv_nsec = (delay % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static bool es_status_retryable(long status)
{
    return status == 429 || status == 503;
}

static enum es_status es_status_of(long status)
{
    if (status >= 200 && status < 300)
        return ES_OK;
    if (status == 404)
        return ES_NOT_FOUND;
    if (es_status_retryable(status))
        return ES_UNAVAILABLE;
    if (status >= 400 && status < 500)
        return ES_REJECTED;
    return ES_ERROR;
}

/* A JSON request with retries of network errors, 429 and 503. On ES_OK and
 * out != NULL, *out is the parsed answer. *attempts (when not NULL) tells how
 * many requests were sent; *error_type gets the ES error type of a refusal. */
static enum es_status es_call(struct es_client *es, const char *method, const char *path,
                              json_object *body, json_object **out, int *attempts, char *error_type,
                              size_t error_type_cap)
{
    struct es_buf resp = {0};
    const char *text = NULL;
    size_t text_len = 0;
    long status = 0;
    enum es_status result = ES_UNAVAILABLE;
    int attempt;

    if (out != NULL)
        *out = NULL;
    if (error_type != NULL)
        snprintf(error_type, error_type_cap, "%s", "");
    if (body != NULL) {
        text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
        if (text == NULL) {
            es_set_error(es, "%s %s: out of memory", method, path);
            result = ES_ERROR;
            goto done;
        }
        text_len = strlen(text);
    }
    for (attempt = 1; attempt <= es->max_attempts; attempt++) {
        if (attempt > 1)
            es_backoff(es, attempt - 1);
        if (attempts != NULL)
            *attempts = attempt;
        if (!es_http(es, method, path, body != NULL ? "application/json" : NULL, text, text_len,
                     &resp, &status))
            continue;
        if (!es_status_retryable(status))
            break;
    }
    if (status == 0) {
        result = ES_UNAVAILABLE; /* es->error already says why */
        goto done;
    }
    result = es_status_of(status);
    if (result != ES_OK) {
        char reason[ES_REASON_MAX];
        es_error_from_body(&resp, reason, sizeof(reason));
        if (error_type != NULL)
            es_error_type(&resp, error_type, error_type_cap);
        es_set_error(es, "%s %s: HTTP %ld: %s", method, path, status, reason);
        goto done;
    }
    if (out != NULL) {
        *out = es_parse_json(resp.data != NULL ? resp.data : "", resp.len);
        if (*out == NULL || !json_object_is_type(*out, json_type_object)) {
            json_object_put(*out);
            *out = NULL;
            es_set_error(es, "%s %s: answer is not a JSON object", method, path);
            result = ES_ERROR;
        }
    }
done:
    es_buf_free(&resp);
    return result;
}

/* Writes "/<name><suffix>" into path; false when name is not a valid index
 * name (which also rules out anything that would need escaping). */
static bool es_index_path(struct es_client *es, char *path, size_t cap, const char *name,
                          const char *suffix)
{
    if (!es_valid_index_name(name)) {
        es_set_error(es, "invalid index or alias name");
        return false;
    }
    snprintf(path, cap, "/%s%s", name, suffix);
    return true;
}

enum es_status es_load_json_file(const char *path, json_object **out)
{
    struct es_buf buf = {.max = ES_MAPPING_FILE_MAX};
    char chunk[4096];
    enum es_status result = ES_ERROR;
    FILE *f = fopen(path, "r");

    *out = NULL;
    if (f == NULL)
        goto done;
    for (;;) {
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        if (n > 0 && !es_buf_append(&buf, chunk, n)) {
            result = ES_REJECTED;
            goto done;
        }
        if (n < sizeof(chunk))
            break;
    }
    if (ferror(f))
        goto done;
    *out = es_parse_json(buf.data != NULL ? buf.data : "", buf.len);
    if (*out == NULL || !json_object_is_type(*out, json_type_object)) {
        json_object_put(*out);
        *out = NULL;
        result = ES_REJECTED;
        goto done;
    }
    result = ES_OK;
done:
    if (f != NULL)
        fclose(f);
    es_buf_free(&buf);
    return result;
}

enum es_status es_create_index(struct es_client *es, const char *index, json_object *body)
{
    char path[ES_NAME_MAX + 8];
    char error_type[64];
    int attempts = 0;
    enum es_status result;

    if (body == NULL || !es_index_path(es, path, sizeof(path), index, ""))
        return ES_REJECTED;
    result = es_call(es, "PUT", path, body, NULL, &attempts, error_type, sizeof(error_type));
    /* A retry after a lost answer finds the index our first attempt made;
     * versioned names make it ours rather than someone else's. */
    if (result == ES_REJECTED && attempts > 1 &&
        strcmp(error_type, "resource_already_exists_exception") == 0)
        result = ES_OK;
    return result;
}

enum es_status es_put_index_template(struct es_client *es, const char *name, json_object *body)
{
    char path[ES_NAME_MAX + 32];
    if (body == NULL || !es_valid_index_name(name)) {
        es_set_error(es, "invalid template name or body");
        return ES_REJECTED;
    }
    snprintf(path, sizeof(path), "/_index_template/%s", name);
    return es_call(es, "PUT", path, body, NULL, NULL, NULL, 0);
}

enum es_status es_set_refresh_interval(struct es_client *es, const char *index,
                                       const char *interval)
{
    char path[ES_NAME_MAX + 16];
    json_object *body = NULL;
    json_object *settings = NULL;
    enum es_status result = ES_REJECTED;

    if (interval == NULL || *interval == '\0' || strlen(interval) > 16 ||
        !es_index_path(es, path, sizeof(path), index, "/_settings"))
        goto done;
    result = ES_ERROR;
    body = json_object_new_object();
    settings = json_object_new_object();
    if (body == NULL || settings == NULL ||
        json_object_object_add(settings, "refresh_interval", json_object_new_string(interval)) != 0)
        goto done;
    if (json_object_object_add(body, "index", settings) != 0)
        goto done;
    settings = NULL;
    result = es_call(es, "PUT", path, body, NULL, NULL, NULL, 0);
done:
    json_object_put(settings);
    json_object_put(body);
    return result;
}

enum es_status es_refresh(struct es_client *es, const char *index)
{
    char path[ES_NAME_MAX + 16];
    if (!es_index_path(es, path, sizeof(path), index, "/_refresh"))
        return ES_REJECTED;
    return es_call(es, "POST", path, NULL, NULL, NULL, NULL, 0);
}

enum es_status es_delete_index(struct es_client *es, const char *index)
{
    char path[ES_NAME_MAX + 8];
    if (!es_index_path(es, path, sizeof(path), index, ""))
        return ES_REJECTED;
    return es_call(es, "DELETE", path, NULL, NULL, NULL, NULL, 0);
}

void es_names_free(struct es_names *names)
{
    if (names == NULL)
        return;
    for (size_t i = 0; i < names->count; i++)
        free(names->names[i]);
    free(names->names);
    names->names = NULL;
    names->count = 0;
}

enum es_status es_alias_indices(struct es_client *es, const char *alias, struct es_names *out)
{
    char path[ES_NAME_MAX + 16];
    json_object *answer = NULL;
    enum es_status result;
    size_t n = 0;

    out->names = NULL;
    out->count = 0;
    if (!es_valid_index_name(alias)) {
        es_set_error(es, "invalid alias name");
        return ES_REJECTED;
    }
    snprintf(path, sizeof(path), "/_alias/%s", alias);
    result = es_call(es, "GET", path, NULL, &answer, NULL, NULL, 0);
    if (result == ES_NOT_FOUND) {
        result = ES_OK; /* no alias yet: it points nowhere */
        goto done;
    }
    if (result != ES_OK)
        goto done;
    /* {"<index>": {"aliases": {"<alias>": {}}}, ...} */
    result = ES_ERROR;
    out->names = calloc((size_t)json_object_object_length(answer) + 1, sizeof(char *));
    if (out->names == NULL)
        goto done;
    json_object_object_foreach(answer, key, value)
    {
        json_object *aliases = NULL;
        if (!json_object_object_get_ex(value, "aliases", &aliases) ||
            !json_object_object_get_ex(aliases, alias, NULL))
            continue;
        out->names[n] = strdup(key);
        if (out->names[n] == NULL)
            goto done;
        n++;
        out->count = n;
    }
    result = ES_OK;
done:
    if (result != ES_OK)
        es_names_free(out);
    json_object_put(answer);
    return result;
}

/* Appends {"<verb>": {"index": index, "alias": alias}} to actions. */
static bool es_alias_action(json_object *actions, const char *verb, const char *index,
                            const char *alias)
{
    json_object *action = json_object_new_object();
    json_object *inner = json_object_new_object();
    bool ok = false;
    if (action == NULL || inner == NULL)
        goto done;
    if (json_object_object_add(inner, "index", json_object_new_string(index)) != 0 ||
        json_object_object_add(inner, "alias", json_object_new_string(alias)) != 0)
        goto done;
    if (json_object_object_add(action, verb, inner) != 0)
        goto done;
    inner = NULL;
    if (json_object_array_add(actions, action) != 0)
        goto done;
    action = NULL;
    ok = true;
done:
    json_object_put(inner);
    json_object_put(action);
    return ok;
}

enum es_status es_swap_alias(struct es_client *es, const char *alias, const char *new_index,
                             const char *const *old_indices, size_t old_count)
{
    json_object *body = NULL;
    json_object *actions = NULL;
    enum es_status result = ES_REJECTED;

    if (!es_valid_index_name(alias) || !es_valid_index_name(new_index)) {
        es_set_error(es, "invalid alias or index name");
        goto done;
    }
    for (size_t i = 0; i < old_count; i++) {
        if (!es_valid_index_name(old_indices[i])) {
            es_set_error(es, "invalid old index name");
            goto done;
        }
    }
    result = ES_ERROR;
    body = json_object_new_object();
    actions = json_object_new_array();
    if (body == NULL || actions == NULL)
        goto done;
    for (size_t i = 0; i < old_count; i++) {
        /* Re-pointing at the index it already names would remove it. */
        if (strcmp(old_indices[i], new_index) == 0)
            continue;
        if (!es_alias_action(actions, "remove", old_indices[i], alias))
            goto done;
    }
    if (!es_alias_action(actions, "add", new_index, alias))
        goto done;
    if (json_object_object_add(body, "actions", actions) != 0)
        goto done;
    actions = NULL;
    result = es_call(es, "POST", "/_aliases", body, NULL, NULL, NULL, 0);
done:
    json_object_put(actions);
    json_object_put(body);
    return result;
}

enum es_status es_search(struct es_client *es, const char *indices, json_object *query,
                         json_object **response)
{
    char path[ES_URL_MAX];
    *response = NULL;
    if (query == NULL || !es_valid_index_list(indices)) {
        es_set_error(es, "invalid index list or query");
        return ES_REJECTED;
    }
    snprintf(path, sizeof(path), "/%s/_search", indices);
    return es_call(es, "POST", path, query, response, NULL, NULL, 0);
}

/* ---- _bulk ---- */

static bool es_bulk_doc_valid(const struct es_bulk_doc *doc)
{
    size_t n;
    if (doc->id == NULL || doc->doc == NULL)
        return false;
    n = strlen(doc->id);
    return n > 0 && n <= ES_ID_MAX;
}

char *es_bulk_ndjson(const struct es_bulk_doc *docs, size_t count, const bool *select, size_t *len)
{
    struct es_buf buf = {.max = ES_BULK_BODY_MAX};
    json_object *id = NULL;
    char *result = NULL;

    *len = 0;
    for (size_t i = 0; i < count; i++) {
        const char *line;
        if (select != NULL && !select[i])
            continue;
        if (!es_bulk_doc_valid(&docs[i]))
            goto done;
        /* json-c escapes the id, so quotes or newlines in it stay inside
         * the string. */
        id = json_object_new_string(docs[i].id);
        if (id == NULL)
            goto done;
        line = json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN);
        if (line == NULL || !es_buf_append_str(&buf, "{\"index\":{\"_id\":") ||
            !es_buf_append_str(&buf, line) || !es_buf_append_str(&buf, "}}\n"))
            goto done;
        json_object_put(id);
        id = NULL;
        line = json_object_to_json_string_ext(docs[i].doc, JSON_C_TO_STRING_PLAIN |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE);
        /* A raw newline would split the document into two NDJSON lines;
         * PLAIN output never has one, this guards against that changing. */
        if (line == NULL || strchr(line, '\n') != NULL || !es_buf_append_str(&buf, line) ||
            !es_buf_append(&buf, "\n", 1))
            goto done;
    }
    /* An empty selection still yields a valid (empty) string. */
    if (!es_buf_append(&buf, "", 0))
        goto done;
    *len = buf.len;
    result = buf.data;
    buf.data = NULL;
done:
    json_object_put(id);
    es_buf_free(&buf);
    return result;
}

enum es_status es_bulk_parse_response(const char *body, size_t len, const struct es_bulk_doc *docs,
                                      size_t count, const bool *select, struct es_bulk_item *items)
{
    json_object *root = es_parse_json(body, len);
    json_object *array = NULL;
    json_object *errors = NULL;
    enum es_status result = ES_ERROR;
    size_t expected = 0;
    size_t pos = 0;

    for (size_t i = 0; i < count; i++)
        if (select == NULL || select[i])
            expected++;
    if (root == NULL || !json_object_is_type(root, json_type_object) ||
        !json_object_object_get_ex(root, "errors", &errors) ||
        !json_object_is_type(errors, json_type_boolean) ||
        !json_object_object_get_ex(root, "items", &array) ||
        !json_object_is_type(array, json_type_array) || json_object_array_length(array) != expected)
        goto done;

    for (size_t i = 0; i < count; i++) {
        json_object *item;
        json_object *result_obj = NULL;
        json_object *status = NULL;
        json_object *id = NULL;
        json_object *error = NULL;

        if (select != NULL && !select[i])
            continue;
        item = json_object_array_get_idx(array, pos++);
        /* Each item is {"<action>": {...}} with our action "index". */
        if (!json_object_is_type(item, json_type_object) ||
            !json_object_object_get_ex(item, "index", &result_obj) ||
            !json_object_object_get_ex(result_obj, "status", &status) ||
            !json_object_is_type(status, json_type_int) ||
            !json_object_object_get_ex(result_obj, "_id", &id) ||
            !json_object_is_type(id, json_type_string) ||
            strcmp(json_object_get_string(id), docs[i].id) != 0)
            goto done;
        items[i].status = (int)json_object_get_int64(status);
        items[i].reason[0] = '\0';
        if (json_object_object_get_ex(result_obj, "error", &error))
            es_error_reason(error, items[i].reason, sizeof(items[i].reason));
        else if (items[i].status >= 300)
            snprintf(items[i].reason, sizeof(items[i].reason), "HTTP %d", items[i].status);
    }
    result = ES_OK;
done:
    json_object_put(root);
    return result;
}

void es_bulk_report_free(struct es_bulk_report *report)
{
    if (report == NULL)
        return;
    free(report->failed);
    report->failed = NULL;
    report->failed_count = 0;
}

static void es_bulk_fail(struct es_bulk_report *report, const char *id, int status,
                         const char *reason)
{
    struct es_bulk_failure *f = &report->failed[report->failed_count++];
    snprintf(f->id, sizeof(f->id), "%s", id != NULL ? id : "");
    f->status = status;
    snprintf(f->reason, sizeof(f->reason), "%s", reason);
}

enum es_status es_bulk_index(struct es_client *es, const char *index,
                             const struct es_bulk_doc *docs, size_t count,
                             struct es_bulk_report *report)
{
    char path[ES_NAME_MAX + 16];
    char request_reason[ES_REASON_MAX] = "";
    struct es_buf resp = {0};
    struct es_bulk_item *items = NULL;
    bool *pending = NULL;
    char *body = NULL;
    size_t pending_count = 0;
    long last_status = 0;
    enum es_status result = ES_ERROR;

    memset(report, 0, sizeof(*report));
    if (count == 0)
        return ES_OK;
    if (count > ES_BULK_MAX_DOCS) {
        /* Nothing to report per document without a failure list that
         * large; the caller's batching is wrong. */
        es_set_error(es, "_bulk: %zu documents, more than %u", count, ES_BULK_MAX_DOCS);
        return ES_REJECTED;
    }
    /* Allocated up front so that recording a failure can never fail. */
    report->failed = calloc(count, sizeof(*report->failed));
    items = calloc(count, sizeof(*items));
    pending = calloc(count, sizeof(*pending));
    if (report->failed == NULL || items == NULL || pending == NULL) {
        es_set_error(es, "_bulk: out of memory");
        free(report->failed);
        report->failed = NULL;
        goto done;
    }
    if (!es_index_path(es, path, sizeof(path), index, "/_bulk")) {
        for (size_t i = 0; i < count; i++)
            es_bulk_fail(report, docs[i].id, 0, "invalid index name");
        result = ES_REJECTED;
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        if (es_bulk_doc_valid(&docs[i])) {
            pending[i] = true;
            pending_count++;
        } else {
            es_bulk_fail(report, docs[i].id, 0, "missing document, or empty or too long id");
        }
    }

    result = ES_INCOMPLETE;
    for (int attempt = 1; attempt <= es->max_attempts && pending_count > 0; attempt++) {
        size_t body_len = 0;
        if (attempt > 1)
            es_backoff(es, attempt - 1);
        free(body);
        body = es_bulk_ndjson(docs, count, pending, &body_len);
        if (body == NULL) {
            snprintf(request_reason, sizeof(request_reason), "%s",
                     "request body over ES_BULK_BODY_MAX or out of memory");
            last_status = 0;
            result = ES_REJECTED;
            break;
        }
        report->requests++;
        if (!es_http(es, "POST", path, "application/x-ndjson", body, body_len, &resp,
                     &last_status)) {
            es_copy_text(request_reason, sizeof(request_reason), es->error);
            result = ES_UNAVAILABLE;
            continue;
        }
        if (es_status_retryable(last_status)) {
            es_error_from_body(&resp, request_reason, sizeof(request_reason));
            es_set_error(es, "POST %s: HTTP %ld: %s", path, last_status, request_reason);
            result = ES_UNAVAILABLE;
            continue;
        }
        if (last_status != 200) {
            es_error_from_body(&resp, request_reason, sizeof(request_reason));
            es_set_error(es, "POST %s: HTTP %ld: %s", path, last_status, request_reason);
            result = es_status_of(last_status);
            break;
        }
        if (es_bulk_parse_response(resp.data != NULL ? resp.data : "", resp.len, docs, count,
                                   pending, items) != ES_OK) {
            /* Some documents may be indexed, none is confirmed: report all
             * pending ones so that the caller sends them again later. */
            snprintf(request_reason, sizeof(request_reason), "%s", "malformed _bulk answer");
            es_set_error(es, "POST %s: malformed _bulk answer", path);
            result = ES_ERROR;
            last_status = 0;
            break;
        }
        result = ES_INCOMPLETE;
        for (size_t i = 0; i < count; i++) {
            if (!pending[i])
                continue;
            if (items[i].status >= 200 && items[i].status < 300) {
                report->indexed++;
            } else if (items[i].status == 429) {
                continue; /* ES was too busy for this one: next round */
            } else {
                es_bulk_fail(report, docs[i].id, items[i].status, items[i].reason);
            }
            pending[i] = false;
            pending_count--;
        }
    }

    /* Whatever is still pending ran out of attempts or met a request-level
     * failure: it is reported, never dropped. */
    for (size_t i = 0; i < count; i++) {
        char reason[ES_REASON_MAX];
        if (!pending[i])
            continue;
        if (result == ES_INCOMPLETE) {
            snprintf(reason, sizeof(reason), "gave up after %d attempts: %s", es->max_attempts,
                     items[i].reason);
            es_bulk_fail(report, docs[i].id, items[i].status, reason);
        } else {
            es_bulk_fail(report, docs[i].id, (int)last_status, request_reason);
        }
    }
    if (report->failed_count == 0)
        result = ES_OK;
    else if (result == ES_OK)
        result = ES_INCOMPLETE;
    if (result == ES_INCOMPLETE)
        es_set_error(es, "_bulk %s: %zu of %zu documents failed", index, report->failed_count,
                     count);
done:
    free(body);
    free(items);
    free(pending);
    es_buf_free(&resp);
    return result;
}

/* The NDJSON of delete actions for the pending ids. */
static char *es_bulk_delete_ndjson(const char *const *ids, size_t count, const bool *pending,
                                   size_t *len)
{
    struct es_buf buf = {.max = ES_BULK_BODY_MAX};
    char *result = NULL;
    *len = 0;
    for (size_t i = 0; i < count; i++) {
        json_object *id;
        const char *text;
        bool ok;
        if (!pending[i])
            continue;
        id = json_object_new_string(ids[i]);
        text = id != NULL ? json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN) : NULL;
        ok = text != NULL && es_buf_append_str(&buf, "{\"delete\":{\"_id\":") &&
             es_buf_append_str(&buf, text) && es_buf_append_str(&buf, "}}\n");
        json_object_put(id);
        if (!ok)
            goto done;
    }
    if (!es_buf_append(&buf, "", 0))
        goto done;
    *len = buf.len;
    result = buf.data;
    buf.data = NULL;
done:
    es_buf_free(&buf);
    return result;
}

/* Reads the status (and reason) of each pending id's delete item; false
 * when the answer is not a _bulk answer for exactly those ids. */
static bool es_bulk_delete_parse(const struct es_buf *resp, const char *const *ids, size_t count,
                                 const bool *pending, struct es_bulk_item *items)
{
    json_object *root = es_parse_json(resp->data != NULL ? resp->data : "", resp->len);
    json_object *array = NULL;
    size_t pos = 0;
    bool ok = false;
    if (root == NULL || !json_object_object_get_ex(root, "items", &array) ||
        !json_object_is_type(array, json_type_array))
        goto done;
    for (size_t i = 0; i < count; i++) {
        json_object *item, *result_obj = NULL, *status = NULL, *id = NULL, *error = NULL;
        if (!pending[i])
            continue;
        item = json_object_array_get_idx(array, pos++);
        if (item == NULL || !json_object_object_get_ex(item, "delete", &result_obj) ||
            !json_object_object_get_ex(result_obj, "status", &status) ||
            !json_object_is_type(status, json_type_int) ||
            !json_object_object_get_ex(result_obj, "_id", &id) ||
            strcmp(json_object_get_string(id), ids[i]) != 0)
            goto done;
        items[i].status = (int)json_object_get_int64(status);
        items[i].reason[0] = '\0';
        if (json_object_object_get_ex(result_obj, "error", &error))
            es_error_reason(error, items[i].reason, sizeof(items[i].reason));
    }
    ok = pos == json_object_array_length(array);
done:
    json_object_put(root);
    return ok;
}

enum es_status es_bulk_delete(struct es_client *es, const char *index, const char *const *ids,
                              size_t count, struct es_bulk_report *report)
{
    char path[ES_NAME_MAX + 16];
    char reason[ES_REASON_MAX] = "";
    struct es_buf resp = {0};
    struct es_bulk_item *items = NULL;
    bool *pending = NULL;
    size_t pending_count = count;
    long status = 0;
    enum es_status result = ES_ERROR;

    memset(report, 0, sizeof(*report));
    if (count == 0)
        return ES_OK;
    if (count > ES_BULK_MAX_DOCS)
        return ES_REJECTED;
    report->failed = calloc(count, sizeof(*report->failed));
    items = calloc(count, sizeof(*items));
    pending = calloc(count, sizeof(*pending));
    if (report->failed == NULL || items == NULL || pending == NULL) {
        free(report->failed);
        report->failed = NULL;
        goto out;
    }
    for (size_t i = 0; i < count; i++)
        pending[i] = true;
    if (!es_index_path(es, path, sizeof(path), index, "/_bulk")) {
        snprintf(reason, sizeof(reason), "%s", "invalid index name");
        result = ES_REJECTED;
        goto fail_pending;
    }
    result = ES_UNAVAILABLE;
    for (int attempt = 1; attempt <= es->max_attempts && pending_count > 0; attempt++) {
        size_t body_len = 0;
        char *body;
        bool answered;
        if (attempt > 1)
            es_backoff(es, attempt - 1);
        body = es_bulk_delete_ndjson(ids, count, pending, &body_len);
        if (body == NULL) {
            snprintf(reason, sizeof(reason), "%s", "request too large or out of memory");
            result = ES_ERROR;
            break;
        }
        report->requests++;
        answered =
            es_http(es, "POST", path, "application/x-ndjson", body, body_len, &resp, &status);
        free(body);
        if (!answered || es_status_retryable(status)) {
            if (answered)
                es_error_from_body(&resp, reason, sizeof(reason));
            else
                es_copy_text(reason, sizeof(reason), es->error);
            result = ES_UNAVAILABLE;
            continue;
        }
        if (status != 200 || !es_bulk_delete_parse(&resp, ids, count, pending, items)) {
            es_error_from_body(&resp, reason, sizeof(reason));
            es_set_error(es, "POST %s: HTTP %ld: %s", path, status, reason);
            result = status != 200 ? es_status_of(status) : ES_ERROR;
            break;
        }
        result = ES_INCOMPLETE;
        for (size_t i = 0; i < count; i++) {
            if (!pending[i] || items[i].status == 429)
                continue;
            if ((items[i].status >= 200 && items[i].status < 300) || items[i].status == 404)
                report->indexed++;
            else
                es_bulk_fail(report, ids[i], items[i].status, items[i].reason);
            pending[i] = false;
            pending_count--;
        }
    }
fail_pending:
    for (size_t i = 0; i < count; i++)
        if (pending[i])
            es_bulk_fail(report, ids[i], items[i].status != 0 ? items[i].status : (int)status,
                         reason);
    if (report->failed_count == 0)
        result = ES_OK;
    else if (result == ES_OK)
        result = ES_INCOMPLETE;
out:
    es_buf_free(&resp);
    free(items);
    free(pending);
    return result;
}

/* ---- query builders ---- */

/* Small constructors that hand ownership to the parent; each returns false
 * (and frees what it was given) when out of memory. */
static bool es_add(json_object *obj, const char *key, json_object *value)
{
    if (value == NULL)
        return false;
    if (json_object_object_add(obj, key, value) != 0) {
        json_object_put(value);
        return false;
    }
    return true;
}

static bool es_push(json_object *array, json_object *value)
{
    if (value == NULL)
        return false;
    if (json_object_array_add(array, value) != 0) {
        json_object_put(value);
        return false;
    }
    return true;
}

/* {key: value}; takes value (NULL propagates). */
static json_object *es_wrap1(const char *key, json_object *value)
{
    json_object *obj = NULL;
    if (value == NULL)
        return NULL;
    obj = json_object_new_object();
    if (obj == NULL) {
        json_object_put(value);
        return NULL;
    }
    if (!es_add(obj, key, value)) {
        json_object_put(obj);
        return NULL;
    }
    return obj;
}

/* {outer: {field: value}} */
static json_object *es_wrap2(const char *outer, const char *field, json_object *value)
{
    return es_wrap1(outer, es_wrap1(field, value));
}

static json_object *es_term(const char *field, const char *value)
{
    return es_wrap2("term", field, json_object_new_string(value));
}

static json_object *es_string_array(const char *const *values, size_t n)
{
    json_object *array = json_object_new_array();
    if (array == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!es_push(array, json_object_new_string(values[i]))) {
            json_object_put(array);
            return NULL;
        }
    }
    return array;
}

/* {"match": {field: {"query": text, "operator": "and"}}} */
static json_object *es_match_all_terms(const char *field, const char *text)
{
    json_object *params = json_object_new_object();
    if (params == NULL || !es_add(params, "query", json_object_new_string(text)) ||
        !es_add(params, "operator", json_object_new_string("and"))) {
        json_object_put(params);
        return NULL;
    }
    return es_wrap2("match", field, params);
}

/* {"bool": {"should": [a, b], "minimum_should_match": 1}}; takes a and b. */
static json_object *es_either(json_object *a, json_object *b)
{
    json_object *should = json_object_new_array();
    json_object *boolean = NULL;
    if (should == NULL || a == NULL || b == NULL) {
        json_object_put(a);
        json_object_put(b);
        json_object_put(should);
        return NULL;
    }
    if (!es_push(should, a)) {
        json_object_put(b);
        json_object_put(should);
        return NULL;
    }
    if (!es_push(should, b)) {
        json_object_put(should);
        return NULL;
    }
    boolean = es_wrap1("should", should);
    if (boolean == NULL || !es_add(boolean, "minimum_should_match", json_object_new_int(1))) {
        json_object_put(boolean);
        return NULL;
    }
    return es_wrap1("bool", boolean);
}

/* starts_at within [gte, lte] with either bound optional, rounding lte up
 * to the end of its day so that to_date is inclusive. */
static json_object *es_starts_at_range(const char *gte, const char *lte_day)
{
    char upper[64];
    json_object *bounds = json_object_new_object();
    if (bounds == NULL)
        return NULL;
    if (gte != NULL && !es_add(bounds, "gte", json_object_new_string(gte)))
        goto fail;
    if (lte_day != NULL) {
        snprintf(upper, sizeof(upper), "%s||/d", lte_day);
        if (!es_add(bounds, "lte", json_object_new_string(upper)))
            goto fail;
    }
    return es_wrap2("range", "starts_at", bounds);
fail:
    json_object_put(bounds);
    return NULL;
}

/* A filter that events must pass and trains pass through: trains have no
 * starts_at, they run on their days. */
static json_object *es_events_only(json_object *event_filter)
{
    if (event_filter == NULL)
        return NULL;
    return es_either(es_term("type", "train"), event_filter);
}

static bool es_present(const char *s)
{
    return s != NULL && *s != '\0';
}

/* {"terms": {"field": field, "size": ES_FACET_SIZE}} */
static json_object *es_terms_agg(const char *field)
{
    json_object *params = json_object_new_object();
    if (params == NULL || !es_add(params, "field", json_object_new_string(field)) ||
        !es_add(params, "size", json_object_new_int(ES_FACET_SIZE))) {
        json_object_put(params);
        return NULL;
    }
    return es_wrap1("terms", params);
}

/* {field: {"order": "asc", "missing": "_last", "unmapped_type": type}}:
 * unmapped_type because events have no number and trains no starts_at. */
static json_object *es_sort_field(const char *field, const char *unmapped_type)
{
    json_object *params = json_object_new_object();
    if (params == NULL || !es_add(params, "order", json_object_new_string("asc")) ||
        !es_add(params, "missing", json_object_new_string("_last")) ||
        !es_add(params, "unmapped_type", json_object_new_string(unmapped_type))) {
        json_object_put(params);
        return NULL;
    }
    return es_wrap1(field, params);
}

static const char *const es_search_fields[] = {
    "title^3", "performer^3", "name^3", "number^4", "city^2", "venue", "category", "stops.name",
};

static json_object *es_multi_match(const char *q)
{
    json_object *params = json_object_new_object();
    if (params == NULL || !es_add(params, "query", json_object_new_string(q)) ||
        !es_add(params, "fields",
                es_string_array(es_search_fields,
                                sizeof(es_search_fields) / sizeof(es_search_fields[0]))) ||
        !es_add(params, "type", json_object_new_string("best_fields")) ||
        !es_add(params, "fuzziness", json_object_new_string("AUTO")) ||
        !es_add(params, "tie_breaker", json_object_new_double(0.3))) {
        json_object_put(params);
        return NULL;
    }
    return es_wrap1("multi_match", params);
}

/* {"bool": {"must": [must], "filter": filters}}; takes both. */
static json_object *es_bool_query(json_object *must, json_object *filters)
{
    json_object *musts = json_object_new_array();
    json_object *boolean = NULL;
    if (musts == NULL || must == NULL || filters == NULL) {
        json_object_put(musts);
        json_object_put(must);
        json_object_put(filters);
        return NULL;
    }
    if (!es_push(musts, must)) {
        json_object_put(musts);
        json_object_put(filters);
        return NULL;
    }
    boolean = es_wrap1("must", musts);
    if (boolean == NULL || !es_add(boolean, "filter", filters)) {
        if (boolean == NULL)
            json_object_put(filters);
        json_object_put(boolean);
        return NULL;
    }
    return es_wrap1("bool", boolean);
}

static json_object *es_upcoming_filter(void)
{
    return es_events_only(es_starts_at_range("now", NULL));
}

json_object *es_build_search_query(const struct es_search_request *req)
{
    json_object *root = NULL;
    json_object *filters = NULL;
    json_object *aggs = NULL;
    json_object *result = NULL;
    bool has_q = es_present(req->q);

    if (req->page < 1 || req->per_page < 1 || req->per_page > ES_PER_PAGE_MAX ||
        (long long)req->page * req->per_page > ES_RESULT_WINDOW)
        return NULL;
    if (has_q && strlen(req->q) > ES_QUERY_MAX)
        return NULL;
    if (req->types & ~(unsigned)(ES_TYPE_EVENT | ES_TYPE_TRAIN))
        return NULL;

    root = json_object_new_object();
    filters = json_object_new_array();
    aggs = json_object_new_object();
    if (root == NULL || filters == NULL || aggs == NULL)
        goto done;

    if (req->types == ES_TYPE_EVENT && !es_push(filters, es_term("type", "event")))
        goto done;
    if (req->types == ES_TYPE_TRAIN && !es_push(filters, es_term("type", "train")))
        goto done;
    if (!req->include_past && !es_push(filters, es_upcoming_filter()))
        goto done;
    if ((es_present(req->from_date) || es_present(req->to_date)) &&
        !es_push(filters, es_events_only(
                              es_starts_at_range(es_present(req->from_date) ? req->from_date : NULL,
                                                 es_present(req->to_date) ? req->to_date : NULL))))
        goto done;
    /* A city matches an event's city or a stop of a train; both fields use
     * the synonym analyzer, so "Bombay" finds "Mumbai". */
    if (es_present(req->city) &&
        !es_push(filters, es_either(es_match_all_terms("city", req->city),
                                    es_match_all_terms("stops.name", req->city))))
        goto done;
    if (es_present(req->category) && !es_push(filters, es_term("category.keyword", req->category)))
        goto done;

    {
        json_object *must =
            has_q ? es_multi_match(req->q) : es_wrap1("match_all", json_object_new_object());
        json_object *query = es_bool_query(must, filters);
        filters = NULL;
        if (!es_add(root, "query", query))
            goto done;
    }
    if (!has_q) {
        /* Without text there is no relevance: soonest events first, then
         * trains by number, as GET /api/events orders them. */
        json_object *sort = json_object_new_array();
        if (!es_add(root, "sort", sort) || !es_push(sort, es_sort_field("starts_at", "date")) ||
            !es_push(sort, es_sort_field("number", "keyword")))
            goto done;
    }
    if (!es_add(root, "from", json_object_new_int((req->page - 1) * req->per_page)) ||
        !es_add(root, "size", json_object_new_int(req->per_page)) ||
        !es_add(root, "track_total_hits", json_object_new_boolean(1)))
        goto done;
    if (!es_add(aggs, "city", es_terms_agg("city.keyword")) ||
        !es_add(aggs, "category", es_terms_agg("category.keyword")))
        goto done;
    if (!es_add(root, "aggs", aggs)) {
        aggs = NULL;
        goto done;
    }
    aggs = NULL;
    result = root;
    root = NULL;
done:
    json_object_put(filters);
    json_object_put(aggs);
    json_object_put(root);
    return result;
}

static const char *const es_suggest_fields[] = {"suggest", "suggest._2gram", "suggest._3gram"};
static const char *const es_suggest_source[] = {"type", "id", "title", "name", "number"};

json_object *es_build_suggest_query(const char *prefix, int size)
{
    json_object *root = NULL;
    json_object *params = NULL;
    json_object *filters = NULL;
    json_object *result = NULL;

    if (!es_present(prefix) || strlen(prefix) > ES_QUERY_MAX || size < 1 || size > ES_SUGGEST_MAX)
        return NULL;
    root = json_object_new_object();
    params = json_object_new_object();
    filters = json_object_new_array();
    if (root == NULL || params == NULL || filters == NULL)
        goto done;
    if (!es_add(params, "query", json_object_new_string(prefix)) ||
        !es_add(params, "type", json_object_new_string("bool_prefix")) ||
        !es_add(params, "fields",
                es_string_array(es_suggest_fields,
                                sizeof(es_suggest_fields) / sizeof(es_suggest_fields[0]))))
        goto done;
    if (!es_push(filters, es_upcoming_filter()))
        goto done;
    {
        json_object *must = es_wrap1("multi_match", params);
        params = NULL;
        json_object *query = es_bool_query(must, filters);
        filters = NULL;
        if (!es_add(root, "query", query))
            goto done;
    }
    if (!es_add(root, "size", json_object_new_int(size)) ||
        !es_add(root, "_source",
                es_string_array(es_suggest_source,
                                sizeof(es_suggest_source) / sizeof(es_suggest_source[0]))))
        goto done;
    result = root;
    root = NULL;
done:
    json_object_put(params);
    json_object_put(filters);
    json_object_put(root);
    return result;
}

/* ---- answer mapping ---- */

static bool es_copy_member(json_object *from, json_object *to, const char *key, const char *as)
{
    json_object *value = NULL;
    if (!json_object_object_get_ex(from, key, &value) || value == NULL)
        return true;
    return es_add(to, as, json_object_get(value));
}

static const char *const es_event_fields[] = {
    "title",     "performer", "category", "venue",           "city", "starts_at", "location",
    "price_min", "price_max", "currency", "seats_available",
};
static const char *const es_train_fields[] = {"number", "name", "run_days", "classes"};

/* {"code", "name"} of the stop at position i of a train's stops. */
static bool es_copy_stop(json_object *stops, size_t i, json_object *to, const char *as)
{
    json_object *stop = json_object_array_get_idx(stops, i);
    json_object *out = NULL;
    if (stop == NULL)
        return true;
    out = json_object_new_object();
    if (out == NULL || !es_copy_member(stop, out, "code", "code") ||
        !es_copy_member(stop, out, "name", "name")) {
        json_object_put(out);
        return false;
    }
    return es_add(to, as, out);
}

static json_object *es_map_hit(json_object *hit)
{
    json_object *source = NULL;
    json_object *type = NULL;
    json_object *score = NULL;
    json_object *out = json_object_new_object();
    const char *type_name;

    if (out == NULL || !json_object_object_get_ex(hit, "_source", &source) ||
        !json_object_is_type(source, json_type_object) ||
        !json_object_object_get_ex(source, "type", &type) ||
        !json_object_is_type(type, json_type_string))
        goto fail;
    type_name = json_object_get_string(type);
    if (!es_add(out, "type", json_object_new_string(type_name)))
        goto fail;
    if (json_object_object_get_ex(source, "id", NULL)) {
        if (!es_copy_member(source, out, "id", "id"))
            goto fail;
    } else if (!es_copy_member(hit, out, "_id", "id")) {
        goto fail;
    }
    if (strcmp(type_name, "event") == 0) {
        for (size_t i = 0; i < sizeof(es_event_fields) / sizeof(es_event_fields[0]); i++)
            if (!es_copy_member(source, out, es_event_fields[i], es_event_fields[i]))
                goto fail;
    } else if (strcmp(type_name, "train") == 0) {
        json_object *stops = NULL;
        if (!es_copy_member(source, out, "name", "title"))
            goto fail;
        for (size_t i = 0; i < sizeof(es_train_fields) / sizeof(es_train_fields[0]); i++)
            if (!es_copy_member(source, out, es_train_fields[i], es_train_fields[i]))
                goto fail;
        /* A hit shows where the train runs, not all its (up to 85) stops. */
        if (json_object_object_get_ex(source, "stops", &stops) &&
            json_object_is_type(stops, json_type_array) && json_object_array_length(stops) > 0) {
            size_t n = json_object_array_length(stops);
            if (!es_copy_stop(stops, 0, out, "from") || !es_copy_stop(stops, n - 1, out, "to"))
                goto fail;
        }
    }
    /* Sorted searches (no text) carry a null _score. */
    json_object_object_get_ex(hit, "_score", &score);
    if (!es_add(out, "score",
                json_object_new_double(score != NULL ? json_object_get_double(score) : 0.0)))
        goto fail;
    return out;
fail:
    json_object_put(out);
    return NULL;
}

static json_object *es_map_facet(json_object *aggregations, const char *name)
{
    json_object *agg = NULL;
    json_object *buckets = NULL;
    json_object *out = json_object_new_array();
    if (out == NULL)
        return NULL;
    if (!json_object_object_get_ex(aggregations, name, &agg) ||
        !json_object_object_get_ex(agg, "buckets", &buckets) ||
        !json_object_is_type(buckets, json_type_array))
        return out; /* no aggregation: an empty facet */
    for (size_t i = 0; i < json_object_array_length(buckets); i++) {
        json_object *bucket = json_object_array_get_idx(buckets, i);
        json_object *entry = json_object_new_object();
        if (entry == NULL || !es_copy_member(bucket, entry, "key", "value") ||
            !es_copy_member(bucket, entry, "doc_count", "count") || !es_push(out, entry)) {
            json_object_put(out);
            return NULL;
        }
    }
    return out;
}

/* hits.hits of a search answer, or NULL when the answer is not one. */
static json_object *es_hits_array(json_object *response, json_object **hits_obj)
{
    json_object *hits = NULL;
    json_object *array = NULL;
    if (response == NULL || !json_object_object_get_ex(response, "hits", &hits) ||
        !json_object_object_get_ex(hits, "hits", &array) ||
        !json_object_is_type(array, json_type_array))
        return NULL;
    if (hits_obj != NULL)
        *hits_obj = hits;
    return array;
}

json_object *es_map_search_response(json_object *response)
{
    json_object *hits = NULL;
    json_object *total = NULL;
    json_object *aggregations = NULL;
    json_object *out = NULL;
    json_object *out_hits = NULL;
    json_object *facets = NULL;
    json_object *result = NULL;
    json_object *array = es_hits_array(response, &hits);
    int64_t total_value;

    if (array == NULL || !json_object_object_get_ex(hits, "total", &total))
        return NULL;
    /* ES 7+ and OpenSearch: {"value", "relation"}; older: a number. */
    if (json_object_is_type(total, json_type_object)) {
        json_object *value = NULL;
        if (!json_object_object_get_ex(total, "value", &value))
            return NULL;
        total_value = json_object_get_int64(value);
    } else {
        total_value = json_object_get_int64(total);
    }
    out = json_object_new_object();
    out_hits = json_object_new_array();
    facets = json_object_new_object();
    if (out == NULL || out_hits == NULL || facets == NULL)
        goto done;
    for (size_t i = 0; i < json_object_array_length(array); i++) {
        if (!es_push(out_hits, es_map_hit(json_object_array_get_idx(array, i))))
            goto done;
    }
    json_object_object_get_ex(response, "aggregations", &aggregations);
    if (!es_add(facets, "city", es_map_facet(aggregations, "city")) ||
        !es_add(facets, "category", es_map_facet(aggregations, "category")))
        goto done;
    if (!es_add(out, "total", json_object_new_int64(total_value)))
        goto done;
    if (!es_add(out, "hits", out_hits)) {
        out_hits = NULL;
        goto done;
    }
    out_hits = NULL;
    if (!es_add(out, "facets", facets)) {
        facets = NULL;
        goto done;
    }
    facets = NULL;
    result = out;
    out = NULL;
done:
    json_object_put(out_hits);
    json_object_put(facets);
    json_object_put(out);
    return result;
}

json_object *es_map_suggest_response(json_object *response)
{
    char text[512];
    json_object *array = es_hits_array(response, NULL);
    json_object *list = NULL;
    json_object *out = NULL;

    if (array == NULL)
        return NULL;
    list = json_object_new_array();
    if (list == NULL)
        return NULL;
    for (size_t i = 0; i < json_object_array_length(array); i++) {
        json_object *hit = json_object_array_get_idx(array, i);
        json_object *source = NULL;
        json_object *type = NULL;
        json_object *title = NULL;
        json_object *number = NULL;
        json_object *name = NULL;
        json_object *entry = NULL;
        if (!json_object_object_get_ex(hit, "_source", &source) ||
            !json_object_object_get_ex(source, "type", &type))
            continue; /* not one of our documents: nothing to suggest */
        if (json_object_object_get_ex(source, "title", &title)) {
            snprintf(text, sizeof(text), "%s", json_object_get_string(title));
        } else {
            json_object_object_get_ex(source, "number", &number);
            json_object_object_get_ex(source, "name", &name);
            snprintf(text, sizeof(text), "%s%s%s",
                     number != NULL ? json_object_get_string(number) : "",
                     number != NULL && name != NULL ? " " : "",
                     name != NULL ? json_object_get_string(name) : "");
        }
        entry = json_object_new_object();
        if (entry == NULL || !es_add(entry, "type", json_object_get(type)) ||
            !(json_object_object_get_ex(source, "id", NULL)
                  ? es_copy_member(source, entry, "id", "id")
                  : es_copy_member(hit, entry, "_id", "id")) ||
            !es_add(entry, "text", json_object_new_string(text)) || !es_push(list, entry)) {
            json_object_put(entry);
            goto fail;
        }
    }
    out = json_object_new_object();
    if (out == NULL || !es_add(out, "suggestions", list)) {
        list = NULL;
        goto fail;
    }
    return out;
fail:
    json_object_put(list);
    json_object_put(out);
    return NULL;
}
