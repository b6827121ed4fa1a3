/* payment.c: the client of the payment provider's HTTP API (Stripe's, or
 * the local sandbox that speaks the same subset). */
#include "payment.h"

#include "crypto.h"
#include "log.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Pinned so that answers keep the shape this file reads whatever the
 * account's default version becomes. */
#define PAYMENT_API_VERSION "2024-06-20"
#define PAYMENT_CONNECT_TIMEOUT_DEFAULT_MS 3000L
#define PAYMENT_RETRY_BASE_DEFAULT_MS 250L
#define PAYMENT_RETRY_CAP_MS 8000L
#define PAYMENT_HEADER_MAX 512
#define PAYMENT_PATH_MAX 256

struct payment_client {
    CURL *curl;
    char base_url[PAYMENT_URL_MAX];
    char auth_header[PAYMENT_KEY_MAX + 32]; /* secret: never logged */
    long timeout_ms;
    long connect_timeout_ms;
    int max_retries;
    long retry_base_ms;
    /* The answer of the current attempt: a fixed buffer, so a hostile or
     * broken provider cannot make a worker grow without bound. */
    char *response;
    size_t response_len;
    bool response_overflow;
    bool replayed;
    char curl_error[CURL_ERROR_SIZE];
};

enum payment_method_kind { PAYMENT_GET, PAYMENT_POST };

/* ---- small helpers ---------------------------------------------------- */

static bool payment_copy(char *dst, size_t cap, const char *src)
{
    size_t len = strlen(src);
    if (len >= cap)
        return false;
    memcpy(dst, src, len + 1);
    return true;
}

/* Copies as much as fits, never cutting a UTF-8 sequence in half: for
 * human-readable text where truncation is harmless. */
static void payment_copy_text(char *dst, size_t cap, const char *src)
{
    size_t len = strlen(src);
    if (len >= cap) {
        len = cap - 1;
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Provider ids and test payment methods: letters, digits and '_'. Checked
 * before an id goes into a URL path so it cannot change the path. */
static bool payment_valid_id(const char *id)
{
    size_t len = id != NULL ? strlen(id) : 0;
    if (len == 0 || len >= PAYMENT_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

/* Printable ASCII only: the key goes into a header line, and CR or LF would
 * let it add headers of its own. */
static bool payment_valid_idempotency_key(const char *key)
{
    size_t len = key != NULL ? strlen(key) : 0;
    if (len == 0 || len > PAYMENT_IDEMPOTENCY_KEY_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (key[i] < 0x20 || key[i] > 0x7e)
            return false;
    }
    return true;
}

static bool payment_valid_currency(const char *currency)
{
    if (currency == NULL || strlen(currency) != 3)
        return false;
    for (size_t i = 0; i < 3; i++) {
        char c = currency[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return false;
    }
    return true;
}

static enum payment_outcome payment_reject(struct payment_result *out, const char *message)
{
    out->outcome = PAYMENT_INVALID_REQUEST;
    payment_copy_text(out->error_code, sizeof(out->error_code), "invalid_argument");
    payment_copy_text(out->error_message, sizeof(out->error_message), message);
    return out->outcome;
}

/* ---- form encoding ---------------------------------------------------- */

static bool payment_form_keeps(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '*' ||
           c == '-' || c == '.' || c == '_';
}

static bool payment_form_put(const char *text, char *out, size_t cap, size_t *len)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        size_t need = payment_form_keeps(*p) || *p == ' ' ? 1 : 3;
        if (*len + need >= cap)
            return false;
        if (payment_form_keeps(*p)) {
            out[(*len)++] = (char)*p;
        } else if (*p == ' ') {
            out[(*len)++] = '+';
        } else {
            out[(*len)++] = '%';
            out[(*len)++] = hex[*p >> 4];
            out[(*len)++] = hex[*p & 0x0f];
        }
    }
    return true;
}

long payment_form_encode(const struct payment_form_field *fields, size_t count, char *out,
                         size_t cap)
{
    size_t len = 0;
    if (cap == 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (i > 0) {
            if (len + 1 >= cap)
                goto overflow;
            out[len++] = '&';
        }
        if (!payment_form_put(fields[i].name, out, cap, &len))
            goto overflow;
        if (len + 1 >= cap)
            goto overflow;
        out[len++] = '=';
        if (!payment_form_put(fields[i].value, out, cap, &len))
            goto overflow;
    }
    out[len] = '\0';
    return (long)len;
overflow:
    out[0] = '\0';
    return -1;
}

/* ---- reading answers -------------------------------------------------- */

static const char *payment_json_string(json_object *obj, const char *key)
{
    json_object *member = NULL;
    if (obj == NULL || !json_object_object_get_ex(obj, key, &member) ||
        !json_object_is_type(member, json_type_string))
        return NULL;
    return json_object_get_string(member);
}

static int64_t payment_json_int(json_object *obj, const char *key)
{
    json_object *member = NULL;
    if (obj == NULL || !json_object_object_get_ex(obj, key, &member) ||
        !json_object_is_type(member, json_type_int))
        return 0;
    return json_object_get_int64(member);
}

static json_object *payment_json_object(json_object *obj, const char *key)
{
    json_object *member = NULL;
    if (obj == NULL || !json_object_object_get_ex(obj, key, &member) ||
        !json_object_is_type(member, json_type_object))
        return NULL;
    return member;
}

/* An id that is present must fit whole; a cut id would name another
 * object. Absent is fine (empty). */
static bool payment_read_id(json_object *obj, const char *key, char *dst, size_t cap)
{
    const char *value = payment_json_string(obj, key);
    dst[0] = '\0';
    return value == NULL || payment_copy(dst, cap, value);
}

static void payment_read_text(json_object *obj, const char *key, char *dst, size_t cap)
{
    const char *value = payment_json_string(obj, key);
    payment_copy_text(dst, cap, value != NULL ? value : "");
}

static const struct {
    const char *name;
    enum payment_intent_status status;
} payment_statuses[] = {
    {"requires_payment_method", PAYMENT_STATUS_REQUIRES_PAYMENT_METHOD},
    {"requires_confirmation", PAYMENT_STATUS_REQUIRES_CONFIRMATION},
    {"requires_action", PAYMENT_STATUS_REQUIRES_ACTION},
    {"processing", PAYMENT_STATUS_PROCESSING},
    {"requires_capture", PAYMENT_STATUS_REQUIRES_CAPTURE},
    {"canceled", PAYMENT_STATUS_CANCELED},
    {"succeeded", PAYMENT_STATUS_SUCCEEDED},
};

#define PAYMENT_STATUS_COUNT (sizeof(payment_statuses) / sizeof(payment_statuses[0]))

const char *payment_intent_status_name(enum payment_intent_status status)
{
    for (size_t i = 0; i < PAYMENT_STATUS_COUNT; i++) {
        if (payment_statuses[i].status == status)
            return payment_statuses[i].name;
    }
    return status == PAYMENT_STATUS_NONE ? "none" : "other";
}

/* Reads a payment_intent object; false when an id does not fit. */
static bool payment_read_intent(json_object *pi, struct payment_result *out)
{
    const char *status = payment_json_string(pi, "status");
    if (!payment_read_id(pi, "id", out->intent_id, sizeof(out->intent_id)) ||
        !payment_read_id(pi, "client_secret", out->client_secret, sizeof(out->client_secret)) ||
        !payment_read_id(pi, "latest_charge", out->latest_charge, sizeof(out->latest_charge)) ||
        !payment_read_id(pi, "currency", out->currency, sizeof(out->currency)))
        return false;
    out->amount = payment_json_int(pi, "amount");
    out->amount_received = payment_json_int(pi, "amount_received");
    payment_read_text(pi, "status", out->status_text, sizeof(out->status_text));
    out->status = status != NULL ? PAYMENT_STATUS_OTHER : PAYMENT_STATUS_NONE;
    for (size_t i = 0; status != NULL && i < PAYMENT_STATUS_COUNT; i++) {
        if (strcmp(status, payment_statuses[i].name) == 0)
            out->status = payment_statuses[i].status;
    }
    return out->intent_id[0] != '\0';
}

static enum payment_outcome payment_outcome_of_status(enum payment_intent_status status)
{
    switch (status) {
    case PAYMENT_STATUS_SUCCEEDED:
        return PAYMENT_SUCCEEDED;
    case PAYMENT_STATUS_REQUIRES_PAYMENT_METHOD:
    case PAYMENT_STATUS_REQUIRES_CONFIRMATION:
        return PAYMENT_REQUIRES_PAYMENT_METHOD;
    case PAYMENT_STATUS_REQUIRES_ACTION:
    case PAYMENT_STATUS_PROCESSING:
    case PAYMENT_STATUS_REQUIRES_CAPTURE:
        return PAYMENT_PROCESSING;
    case PAYMENT_STATUS_CANCELED:
        return PAYMENT_CANCELED;
    case PAYMENT_STATUS_NONE:
    case PAYMENT_STATUS_OTHER:
        break;
    }
    return PAYMENT_UNKNOWN;
}

static enum payment_outcome payment_read_success(json_object *root, struct payment_result *out)
{
    const char *object = payment_json_string(root, "object");
    const char *status;

    if (object != NULL && strcmp(object, "payment_intent") == 0) {
        if (!payment_read_intent(root, out))
            return PAYMENT_UNKNOWN;
        return payment_outcome_of_status(out->status);
    }
    if (object != NULL && strcmp(object, "refund") == 0) {
        if (!payment_read_id(root, "id", out->refund_id, sizeof(out->refund_id)) ||
            !payment_read_id(root, "payment_intent", out->intent_id, sizeof(out->intent_id)) ||
            !payment_read_id(root, "currency", out->currency, sizeof(out->currency)) ||
            out->refund_id[0] == '\0')
            return PAYMENT_UNKNOWN;
        out->refund_amount = payment_json_int(root, "amount");
        status = payment_json_string(root, "status");
        payment_read_text(root, "status", out->status_text, sizeof(out->status_text));
        if (status == NULL)
            return PAYMENT_UNKNOWN;
        if (strcmp(status, "succeeded") == 0)
            return PAYMENT_SUCCEEDED;
        if (strcmp(status, "pending") == 0 || strcmp(status, "requires_action") == 0)
            return PAYMENT_PROCESSING;
        /* failed or canceled: the money stayed with us. */
        payment_read_text(root, "failure_reason", out->error_code, sizeof(out->error_code));
        if (out->error_code[0] == '\0')
            payment_copy_text(out->error_code, sizeof(out->error_code), "refund_failed");
        return PAYMENT_DECLINED;
    }
    return PAYMENT_UNKNOWN;
}

static enum payment_outcome payment_outcome_of_error(int http_status, const char *error_type)
{
    if (http_status == 402)
        return PAYMENT_DECLINED;
    if (http_status == 401 || http_status == 403)
        return PAYMENT_AUTH_ERROR;
    /* 409: another request with this idempotency key is still running at
     * the provider, so this one's effect is not known yet. */
    if (http_status == 409 && strcmp(error_type, "idempotency_error") == 0)
        return PAYMENT_UNKNOWN;
    if (http_status >= 400 && http_status < 500 && http_status != 429)
        return PAYMENT_INVALID_REQUEST;
    return PAYMENT_UNKNOWN;
}

/* True when nothing but JSON whitespace is left after the answer: one
 * object and nothing else, so a spliced or truncated answer is not read. */
static bool payment_only_space(const char *rest, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (rest[i] != ' ' && rest[i] != '\n' && rest[i] != '\r' && rest[i] != '\t')
            return false;
    }
    return true;
}

enum payment_outcome payment_parse_response(int http_status, const char *body, size_t body_len,
                                            struct payment_result *out)
{
    json_tokener *tok = json_tokener_new();
    json_object *root = NULL;
    json_object *error;
    json_object *embedded;

    out->http_status = http_status;
    out->outcome = PAYMENT_UNKNOWN;
    if (tok == NULL)
        goto done;
    if (body != NULL && body_len > 0 && body_len <= PAYMENT_RESPONSE_MAX) {
        root = json_tokener_parse_ex(tok, body, (int)body_len);
        if (json_tokener_get_error(tok) != json_tokener_success ||
            !json_object_is_type(root, json_type_object) ||
            !payment_only_space(body + json_tokener_get_parse_end(tok),
                                body_len - json_tokener_get_parse_end(tok))) {
            json_object_put(root);
            root = NULL;
        }
    }
    if (http_status >= 200 && http_status < 300) {
        out->outcome = root != NULL ? payment_read_success(root, out) : PAYMENT_UNKNOWN;
        if (out->outcome == PAYMENT_UNKNOWN && out->error_message[0] == '\0')
            payment_copy_text(out->error_message, sizeof(out->error_message),
                              "the provider's answer could not be read");
        goto done;
    }
    error = payment_json_object(root, "error");
    payment_read_text(error, "type", out->error_type, sizeof(out->error_type));
    payment_read_text(error, "code", out->error_code, sizeof(out->error_code));
    payment_read_text(error, "decline_code", out->decline_code, sizeof(out->decline_code));
    payment_read_text(error, "param", out->error_param, sizeof(out->error_param));
    payment_read_text(error, "message", out->error_message, sizeof(out->error_message));
    if (out->error_message[0] == '\0') {
        char text[64];
        snprintf(text, sizeof(text), "the provider answered HTTP %d", http_status);
        payment_copy_text(out->error_message, sizeof(out->error_message), text);
    }
    /* Declines and state errors carry the intent as it is now. */
    embedded = payment_json_object(error, "payment_intent");
    if (embedded != NULL && !payment_read_intent(embedded, out)) {
        out->intent_id[0] = '\0';
        out->status = PAYMENT_STATUS_NONE;
    }
    out->outcome = payment_outcome_of_error(http_status, out->error_type);
done:
    json_object_put(root);
    if (tok != NULL)
        json_tokener_free(tok);
    return out->outcome;
}

/* ---- transport -------------------------------------------------------- */

static size_t payment_on_body(char *data, size_t size, size_t count, void *arg)
{
    struct payment_client *client = arg;
    size_t n = size * count;
    if (n > PAYMENT_RESPONSE_MAX - client->response_len) {
        client->response_overflow = true;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    memcpy(client->response + client->response_len, data, n);
    client->response_len += n;
    return n;
}

static size_t payment_on_header(char *data, size_t size, size_t count, void *arg)
{
    struct payment_client *client = arg;
    static const char name[] = "idempotent-replayed:";
    size_t n = size * count;
    size_t name_len = sizeof(name) - 1;
    if (n > name_len && strncasecmp(data, name, name_len) == 0) {
        const char *value = data + name_len;
        size_t left = n - name_len;
        while (left > 0 && (*value == ' ' || *value == '\t')) {
            value++;
            left--;
        }
        client->replayed = left >= 4 && strncasecmp(value, "true", 4) == 0;
    }
    return n;
}

struct payment_client *payment_open(const struct payment_config *cfg)
{
    struct payment_client *client = NULL;
    int written;

    if (cfg == NULL || cfg->base_url == NULL || cfg->base_url[0] == '\0' ||
        cfg->secret_key == NULL || cfg->secret_key[0] == '\0' || cfg->timeout_ms <= 0 ||
        cfg->max_retries < 0 || cfg->connect_timeout_ms < 0 || cfg->retry_base_ms < 0)
        goto failed;
    /* The key goes into a header line: no CR, LF or other control bytes. */
    for (const char *p = cfg->secret_key; *p != '\0'; p++) {
        if (*p < 0x21 || *p > 0x7e)
            goto failed;
    }
    client = calloc(1, sizeof(*client));
    if (client == NULL)
        goto failed;
    if (!payment_copy(client->base_url, sizeof(client->base_url), cfg->base_url))
        goto failed;
    written = snprintf(client->auth_header, sizeof(client->auth_header), "Authorization: Bearer %s",
                       cfg->secret_key);
    if (written < 0 || (size_t)written >= sizeof(client->auth_header) ||
        strlen(cfg->secret_key) >= PAYMENT_KEY_MAX)
        goto failed;
    client->timeout_ms = cfg->timeout_ms;
    client->connect_timeout_ms = cfg->connect_timeout_ms;
    if (client->connect_timeout_ms == 0)
        client->connect_timeout_ms = cfg->timeout_ms < PAYMENT_CONNECT_TIMEOUT_DEFAULT_MS
                                         ? cfg->timeout_ms
                                         : PAYMENT_CONNECT_TIMEOUT_DEFAULT_MS;
    client->max_retries = cfg->max_retries;
    client->retry_base_ms =
        cfg->retry_base_ms > 0 ? cfg->retry_base_ms : PAYMENT_RETRY_BASE_DEFAULT_MS;
    client->response = malloc(PAYMENT_RESPONSE_MAX + 1);
    if (client->response == NULL)
        goto failed;
    client->curl = curl_easy_init();
    if (client->curl == NULL)
        goto failed;
    /* Options that never change; the handle keeps its connection alive
     * between calls. NOSIGNAL: timeouts must not rely on SIGALRM in a
     * process that has other things to do. */
    if (curl_easy_setopt(client->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(client->curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(client->curl, CURLOPT_WRITEFUNCTION, payment_on_body) != CURLE_OK ||
        curl_easy_setopt(client->curl, CURLOPT_WRITEDATA, client) != CURLE_OK ||
        curl_easy_setopt(client->curl, CURLOPT_HEADERFUNCTION, payment_on_header) != CURLE_OK ||
        curl_easy_setopt(client->curl, CURLOPT_HEADERDATA, client) != CURLE_OK ||
        curl_easy_setopt(client->curl, CURLOPT_ERRORBUFFER, client->curl_error) != CURLE_OK ||
        curl_easy_setopt(client->curl, CURLOPT_TIMEOUT_MS, client->timeout_ms) != CURLE_OK ||
        curl_easy_setopt(client->curl, CURLOPT_CONNECTTIMEOUT_MS, client->connect_timeout_ms) !=
            CURLE_OK ||
        curl_easy_setopt(client->curl, CURLOPT_USERAGENT, "boxoffice") != CURLE_OK)
        goto failed;
    return client;
failed:
    payment_close(client);
    return NULL;
}

void payment_close(struct payment_client *client)
{
    if (client == NULL)
        return;
    if (client->curl != NULL)
        curl_easy_cleanup(client->curl);
    /* The key is a secret: do not leave it in freed memory. */
    memset(client->auth_header, 0, sizeof(client->auth_header));
    free(client->response);
    free(client);
}

/* Exponential backoff with equal jitter: half the step is fixed, half is
 * random, so retrying workers spread out instead of arriving together. */
static void payment_backoff(const struct payment_client *client, int retry)
{
    long step = client->retry_base_ms;
    uint32_t noise = 0;
    struct timespec wait;

    for (int i = 1; i < retry && step < PAYMENT_RETRY_CAP_MS; i++)
        step *= 2;
    if (step > PAYMENT_RETRY_CAP_MS)
        step = PAYMENT_RETRY_CAP_MS;
    if (!crypto_random_bytes(&noise, sizeof(noise)))
        noise = UINT32_MAX / 2;
    step = step / 2 + (long)(noise % (uint32_t)(step / 2 + 1));
    wait.tv_sec = step / 1000;
    wait.tv_nsec = (step % 1000) * 1000000L;
    while (nanosleep(&wait, &wait) != 0 && errno == EINTR)
        continue;
}

static bool payment_retryable_status(long http_status)
{
    return http_status == 429 || http_status >= 500;
}

/* Sends one request with retries and reads the last answer into *out.
 * body is NULL for GET. */
static enum payment_outcome payment_call(struct payment_client *client,
                                         enum payment_method_kind method, const char *path,
                                         const char *body, const char *idempotency_key,
                                         struct payment_result *out)
{
    struct curl_slist *headers = NULL;
    struct curl_slist *next;
    char url[PAYMENT_URL_MAX + PAYMENT_PATH_MAX];
    char idempotency_header[PAYMENT_HEADER_MAX];
    long http_status = 0;
    CURLcode rc = CURLE_OK;
    int written;

    out->outcome = PAYMENT_UNKNOWN;
    written = snprintf(url, sizeof(url), "%s%s", client->base_url, path);
    if (written < 0 || (size_t)written >= sizeof(url))
        return payment_reject(out, "the request URL is too long");

    /* Every list step is checked: a NULL from curl_slist_append means out
     * of memory and the old list is still ours to free. */
    next = curl_slist_append(headers, client->auth_header);
    if (next == NULL)
        goto client_error;
    headers = next;
    next = curl_slist_append(headers, "Stripe-Version: " PAYMENT_API_VERSION);
    if (next == NULL)
        goto client_error;
    headers = next;
    if (idempotency_key != NULL) {
        written = snprintf(idempotency_header, sizeof(idempotency_header), "Idempotency-Key: %s",
                           idempotency_key);
        if (written < 0 || (size_t)written >= sizeof(idempotency_header))
            goto client_error;
        next = curl_slist_append(headers, idempotency_header);
        if (next == NULL)
            goto client_error;
        headers = next;
    }
    if (curl_easy_setopt(client->curl, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(client->curl, CURLOPT_HTTPHEADER, headers) != CURLE_OK)
        goto client_error;
    if (method == PAYMENT_GET) {
        if (curl_easy_setopt(client->curl, CURLOPT_HTTPGET, 1L) != CURLE_OK)
            goto client_error;
    } else if (curl_easy_setopt(client->curl, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
               curl_easy_setopt(client->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body)) !=
                   CURLE_OK) {
        goto client_error;
    }

    for (int attempt = 1; attempt <= client->max_retries + 1; attempt++) {
        if (attempt > 1)
            payment_backoff(client, attempt - 1);
        client->response_len = 0;
        client->response_overflow = false;
        client->replayed = false;
        client->curl_error[0] = '\0';
        http_status = 0;
        out->attempts = attempt;
        rc = curl_easy_perform(client->curl);
        if (rc == CURLE_OK)
            curl_easy_getinfo(client->curl, CURLINFO_RESPONSE_CODE, &http_status);
        if (rc == CURLE_OK && !payment_retryable_status(http_status))
            break;
        if (attempt <= client->max_retries)
            log_warn(NULL, "payment %s %s attempt %d failed (%s, HTTP %ld), retrying",
                     method == PAYMENT_GET ? "GET" : "POST", path, attempt, curl_easy_strerror(rc),
                     http_status);
    }
    curl_slist_free_all(headers);
    /* The handle must not keep pointers into this call's stack. */
    curl_easy_setopt(client->curl, CURLOPT_HTTPHEADER, NULL);
    headers = NULL;

    out->replayed = client->replayed;
    if (rc != CURLE_OK) {
        out->outcome = PAYMENT_UNKNOWN;
        out->http_status = 0;
        payment_copy_text(out->error_code, sizeof(out->error_code),
                          rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "network_error");
        payment_copy_text(out->error_message, sizeof(out->error_message),
                          client->response_overflow       ? "the provider's answer is too large"
                          : client->curl_error[0] != '\0' ? client->curl_error
                                                          : curl_easy_strerror(rc));
    } else {
        payment_parse_response((int)http_status, client->response, client->response_len, out);
    }
    /* The provider's 401 message quotes part of the key: not for logs. */
    if (out->outcome == PAYMENT_UNKNOWN || out->outcome == PAYMENT_AUTH_ERROR)
        log_warn(NULL, "payment %s %s: %s after %d attempt(s), HTTP %ld: %s",
                 method == PAYMENT_GET ? "GET" : "POST", path, payment_outcome_name(out->outcome),
                 out->attempts, http_status,
                 out->outcome == PAYMENT_AUTH_ERROR ? "the secret key was refused"
                                                    : out->error_message);
    return out->outcome;

client_error:
    curl_slist_free_all(headers);
    curl_easy_setopt(client->curl, CURLOPT_HTTPHEADER, NULL);
    /* Nothing was sent, but "unknown" keeps the caller on its safe path. */
    out->outcome = PAYMENT_UNKNOWN;
    payment_copy_text(out->error_code, sizeof(out->error_code), "client_error");
    payment_copy_text(out->error_message, sizeof(out->error_message),
                      "the request could not be prepared (out of memory?)");
    return out->outcome;
}

/* ---- the API ---------------------------------------------------------- */

static enum payment_outcome payment_post_form(struct payment_client *client, const char *path,
                                              const struct payment_form_field *fields, size_t count,
                                              const char *idempotency_key,
                                              struct payment_result *out)
{
    char body[PAYMENT_FORM_MAX];
    if (payment_form_encode(fields, count, body, sizeof(body)) < 0)
        return payment_reject(out, "the request body is too large");
    return payment_call(client, PAYMENT_POST, path, body, idempotency_key, out);
}

static bool payment_intent_path(char *path, size_t cap, const char *intent_id, const char *verb)
{
    int written = snprintf(path, cap, "/v1/payment_intents/%s%s%s", intent_id,
                           verb[0] != '\0' ? "/" : "", verb);
    return written >= 0 && (size_t)written < cap;
}

enum payment_outcome payment_create_intent(struct payment_client *client, int64_t amount,
                                           const char *currency, int64_t hold_id,
                                           const char *idempotency_key, struct payment_result *out)
{
    char amount_text[24];
    char hold_text[24];
    char currency_lower[4];
    const struct payment_form_field fields[] = {
        {"amount", amount_text},
        {"currency", currency_lower},
        {"metadata[hold_id]", hold_text},
        {"payment_method_types[]", "card"},
    };

    memset(out, 0, sizeof(*out));
    if (amount < 1 || !payment_valid_currency(currency) || hold_id < 1)
        return payment_reject(out, "amount must be >= 1, currency three letters, hold_id >= 1");
    if (!payment_valid_idempotency_key(idempotency_key))
        return payment_reject(out, "idempotency key must be 1..255 printable ASCII bytes");
    for (size_t i = 0; i < 3; i++) {
        char c = currency[i];
        currency_lower[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    currency_lower[3] = '\0';
    snprintf(amount_text, sizeof(amount_text), "%" PRId64, amount);
    snprintf(hold_text, sizeof(hold_text), "%" PRId64, hold_id);
    return payment_post_form(client, "/v1/payment_intents", fields,
                             sizeof(fields) / sizeof(fields[0]), idempotency_key, out);
}

enum payment_outcome payment_confirm_intent(struct payment_client *client, const char *intent_id,
                                            const char *payment_method, const char *idempotency_key,
                                            struct payment_result *out)
{
    char path[PAYMENT_PATH_MAX];
    const struct payment_form_field fields[] = {{"payment_method", payment_method}};

    memset(out, 0, sizeof(*out));
    if (!payment_valid_id(intent_id) || !payment_valid_id(payment_method))
        return payment_reject(out, "intent id and payment method must be [A-Za-z0-9_]+");
    if (!payment_valid_idempotency_key(idempotency_key))
        return payment_reject(out, "idempotency key must be 1..255 printable ASCII bytes");
    if (!payment_intent_path(path, sizeof(path), intent_id, "confirm"))
        return payment_reject(out, "intent id too long");
    return payment_post_form(client, path, fields, 1, idempotency_key, out);
}

enum payment_outcome payment_retrieve_intent(struct payment_client *client, const char *intent_id,
                                             struct payment_result *out)
{
    char path[PAYMENT_PATH_MAX];

    memset(out, 0, sizeof(*out));
    if (!payment_valid_id(intent_id) || !payment_intent_path(path, sizeof(path), intent_id, ""))
        return payment_reject(out, "intent id must be [A-Za-z0-9_]+");
    return payment_call(client, PAYMENT_GET, path, NULL, NULL, out);
}

enum payment_outcome payment_cancel_intent(struct payment_client *client, const char *intent_id,
                                           const char *idempotency_key, struct payment_result *out)
{
    char path[PAYMENT_PATH_MAX];

    memset(out, 0, sizeof(*out));
    if (!payment_valid_id(intent_id) ||
        !payment_intent_path(path, sizeof(path), intent_id, "cancel"))
        return payment_reject(out, "intent id must be [A-Za-z0-9_]+");
    if (!payment_valid_idempotency_key(idempotency_key))
        return payment_reject(out, "idempotency key must be 1..255 printable ASCII bytes");
    return payment_post_form(client, path, NULL, 0, idempotency_key, out);
}

enum payment_outcome payment_refund(struct payment_client *client, const char *intent_id,
                                    int64_t amount, const char *idempotency_key,
                                    struct payment_result *out)
{
    char amount_text[24];
    const struct payment_form_field fields[] = {
        {"payment_intent", intent_id},
        {"amount", amount_text},
    };

    memset(out, 0, sizeof(*out));
    if (!payment_valid_id(intent_id) || amount < 0)
        return payment_reject(out, "intent id must be [A-Za-z0-9_]+ and amount >= 0");
    if (!payment_valid_idempotency_key(idempotency_key))
        return payment_reject(out, "idempotency key must be 1..255 printable ASCII bytes");
    snprintf(amount_text, sizeof(amount_text), "%" PRId64, amount);
    /* amount 0 means "the rest": the provider does that when it is absent. */
    return payment_post_form(client, "/v1/refunds", fields, amount > 0 ? 2 : 1, idempotency_key,
                             out);
}

/* ---- our API's view of provider errors -------------------------------- */

enum payment_error_field { PAYMENT_MATCH_DECLINE_CODE, PAYMENT_MATCH_CODE };

struct payment_error_rule {
    enum payment_outcome outcome;
    enum payment_error_field field;
    const char *provider_value; /* NULL: any value */
    const char *provider_param; /* NULL: any param */
    int http_status;
    const char *code;
    const char *message;
};

/* First match wins: specific decline codes, then error codes, then a
 * catch-all per outcome. */
static const struct payment_error_rule payment_error_rules[] = {
    {PAYMENT_DECLINED, PAYMENT_MATCH_DECLINE_CODE, "insufficient_funds", NULL, 402,
     "insufficient_funds", "Your card has insufficient funds."},
    {PAYMENT_DECLINED, PAYMENT_MATCH_CODE, "expired_card", NULL, 402, "expired_card",
     "Your card has expired."},
    {PAYMENT_DECLINED, PAYMENT_MATCH_CODE, "incorrect_cvc", NULL, 402, "incorrect_cvc",
     "Your card's security code is incorrect."},
    {PAYMENT_DECLINED, PAYMENT_MATCH_CODE, "incorrect_number", NULL, 402, "incorrect_number",
     "Your card number is incorrect."},
    {PAYMENT_DECLINED, PAYMENT_MATCH_CODE, "processing_error", NULL, 402, "processing_error",
     "An error occurred while processing your card. Try again in a little bit."},
    {PAYMENT_DECLINED, PAYMENT_MATCH_CODE, "refund_failed", NULL, 502, "refund_failed",
     "The refund could not be completed."},
    /* Lost, stolen, fraudulent and generic declines all read the same:
     * Stripe asks merchants not to tell a fraudster which one it was. */
    {PAYMENT_DECLINED, PAYMENT_MATCH_CODE, NULL, NULL, 402, "card_declined",
     "Your card was declined."},
    /* A missing payment method is the customer's input, not our bug. */
    {PAYMENT_INVALID_REQUEST, PAYMENT_MATCH_CODE, "resource_missing", "payment_method", 400,
     "invalid_payment_method", "The payment method is not valid."},
    {PAYMENT_INVALID_REQUEST, PAYMENT_MATCH_CODE, "resource_missing", NULL, 404,
     "payment_not_found", "The payment could not be found."},
    {PAYMENT_INVALID_REQUEST, PAYMENT_MATCH_CODE, "payment_intent_unexpected_state", NULL, 409,
     "payment_state_conflict", "The payment can no longer be changed this way."},
    {PAYMENT_INVALID_REQUEST, PAYMENT_MATCH_CODE, "charge_already_refunded", NULL, 409,
     "already_refunded", "This payment has already been refunded."},
    {PAYMENT_INVALID_REQUEST, PAYMENT_MATCH_CODE, "amount_too_large", NULL, 409, "refund_too_large",
     "The refund is larger than what is left of the payment."},
    {PAYMENT_INVALID_REQUEST, PAYMENT_MATCH_CODE, "charge_not_refundable", NULL, 409,
     "not_refundable", "This payment has no charge that can be refunded."},
    {PAYMENT_INVALID_REQUEST, PAYMENT_MATCH_CODE, "invalid_argument", NULL, 400,
     "invalid_payment_request", "The payment request is not valid."},
    {PAYMENT_INVALID_REQUEST, PAYMENT_MATCH_CODE, NULL, NULL, 502, "payment_rejected",
     "The payment provider refused the request."},
    {PAYMENT_AUTH_ERROR, PAYMENT_MATCH_CODE, NULL, NULL, 503, "payment_unavailable",
     "Payments are unavailable at the moment. Try again later."},
    /* The charge may have happened: the order stays pending until the
     * webhook or reconciliation settles it. */
    {PAYMENT_UNKNOWN, PAYMENT_MATCH_CODE, NULL, NULL, 502, "payment_unconfirmed",
     "We could not confirm your payment yet. Check the order again in a moment."},
};

bool payment_api_error_from_result(const struct payment_result *result,
                                   struct payment_api_error *out)
{
    for (size_t i = 0; i < sizeof(payment_error_rules) / sizeof(payment_error_rules[0]); i++) {
        const struct payment_error_rule *rule = &payment_error_rules[i];
        const char *value =
            rule->field == PAYMENT_MATCH_DECLINE_CODE ? result->decline_code : result->error_code;
        if (rule->outcome != result->outcome)
            continue;
        if (rule->provider_value != NULL && strcmp(rule->provider_value, value) != 0)
            continue;
        if (rule->provider_param != NULL && strcmp(rule->provider_param, result->error_param) != 0)
            continue;
        out->http_status = rule->http_status;
        out->code = rule->code;
        out->message = rule->message;
        return true;
    }
    return false;
}

const char *payment_outcome_name(enum payment_outcome outcome)
{
    switch (outcome) {
    case PAYMENT_SUCCEEDED:
        return "succeeded";
    case PAYMENT_REQUIRES_PAYMENT_METHOD:
        return "requires_payment_method";
    case PAYMENT_DECLINED:
        return "declined";
    case PAYMENT_PROCESSING:
        return "processing";
    case PAYMENT_CANCELED:
        return "canceled";
    case PAYMENT_UNKNOWN:
        return "unknown";
    case PAYMENT_INVALID_REQUEST:
        return "invalid_request";
    case PAYMENT_AUTH_ERROR:
        return "auth_error";
    }
    return "unknown";
}
