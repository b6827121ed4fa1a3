/* test_payment.c: the payment client without a provider: form encoding,
 * reading sample answers, mapping provider errors to ours, the checks
 * made before anything is sent, and connection reuse against a scripted
 * loopback server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "payment.h"

#define FIELDS_MAX 4

struct form_case {
    const char *name;
    struct payment_form_field fields[FIELDS_MAX];
    size_t count;
    const char *expected;
};

static const struct form_case form_cases[] = {
    {"plain", {{"amount", "2500"}}, 1, "amount=2500"},
    {"two fields", {{"amount", "2500"}, {"currency", "eur"}}, 2, "amount=2500&currency=eur"},
    {"space is plus", {{"description", "two tickets"}}, 1, "description=two+tickets"},
    {"ampersand and equals", {{"note", "a&b=c"}}, 1, "note=a%26b%3Dc"},
    {"plus is escaped", {{"sum", "1+1"}}, 1, "sum=1%2B1"},
    {"percent", {{"rate", "100%"}}, 1, "rate=100%25"},
    {"bracket key", {{"metadata[order_id]", "5"}}, 1, "metadata%5Border_id%5D=5"},
    {"empty brackets", {{"payment_method_types[]", "card"}}, 1, "payment_method_types%5B%5D=card"},
    {"utf-8", {{"name", "Zo\xc3\xab \xe2\x82\xb9"}}, 1, "name=Zo%C3%AB+%E2%82%B9"},
    {"unreserved kept", {{"k", "aZ09*-._"}}, 1, "k=aZ09*-._"},
    {"tilde and slash escaped", {{"k", "~/"}}, 1, "k=%7E%2F"},
    {"control bytes", {{"k", "a\r\nb"}}, 1, "k=a%0D%0Ab"},
    {"empty value", {{"k", ""}}, 1, "k="},
    {"no fields", {{NULL, NULL}}, 0, ""},
    {"question mark and hash", {{"q", "?#"}}, 1, "q=%3F%23"},
};

static void test_form_encode_table(void **state)
{
    char out[256];
    (void)state;
    for (size_t i = 0; i < sizeof(form_cases) / sizeof(form_cases[0]); i++) {
        const struct form_case *c = &form_cases[i];
        long len = payment_form_encode(c->fields, c->count, out, sizeof(out));
        if (len < 0 || strcmp(out, c->expected) != 0 || (size_t)len != strlen(c->expected))
            fail_msg("case '%s': got '%s' (%ld), want '%s'", c->name, out, len, c->expected);
    }
}

static void test_form_encode_caps(void **state)
{
    const struct payment_form_field one[] = {{"a", "b"}};
    const struct payment_form_field escaped[] = {{"a", "&"}};
    char out[16];
    (void)state;
    assert_int_equal(payment_form_encode(one, 1, out, 4), 3); /* "a=b" + NUL fits exactly */
    assert_string_equal(out, "a=b");
    memset(out, 'x', sizeof(out));
    assert_int_equal(payment_form_encode(one, 1, out, 3), -1);
    assert_string_equal(out, "");
    assert_int_equal(payment_form_encode(escaped, 1, out, 6), 5);  /* "a=%26" */
    assert_int_equal(payment_form_encode(escaped, 1, out, 5), -1); /* no half escapes */
    assert_string_equal(out, "");
    assert_int_equal(payment_form_encode(one, 1, out, 0), -1);
}

/* ---- reading answers ---------------------------------------------------- */

#define INTENT(status, extra)                                                                      \
    "{\"id\":\"pi_123\",\"object\":\"payment_intent\",\"amount\":2500,\"amount_received\":"        \
    "0,\"currency\":\"eur\",\"client_secret\":\"pi_123_secret_abc\",\"latest_charge\":null,"       \
    "\"status\":\"" status "\"" extra "}"

struct parse_case {
    const char *name;
    int http_status;
    const char *body;
    enum payment_outcome outcome;
    enum payment_intent_status status;
    const char *intent_id;
    const char *error_code;
    const char *decline_code;
};

static const struct parse_case parse_cases[] = {
    {"created", 200, INTENT("requires_payment_method", ""), PAYMENT_REQUIRES_PAYMENT_METHOD,
     PAYMENT_STATUS_REQUIRES_PAYMENT_METHOD, "pi_123", "", ""},
    {"requires confirmation", 200, INTENT("requires_confirmation", ""),
     PAYMENT_REQUIRES_PAYMENT_METHOD, PAYMENT_STATUS_REQUIRES_CONFIRMATION, "pi_123", "", ""},
    {"succeeded", 200, INTENT("succeeded", ",\"latest_charge\":\"ch_9\""), PAYMENT_SUCCEEDED,
     PAYMENT_STATUS_SUCCEEDED, "pi_123", "", ""},
    {"processing", 200, INTENT("processing", ""), PAYMENT_PROCESSING, PAYMENT_STATUS_PROCESSING,
     "pi_123", "", ""},
    {"requires action", 200, INTENT("requires_action", ""), PAYMENT_PROCESSING,
     PAYMENT_STATUS_REQUIRES_ACTION, "pi_123", "", ""},
    {"canceled", 200, INTENT("canceled", ""), PAYMENT_CANCELED, PAYMENT_STATUS_CANCELED, "pi_123",
     "", ""},
    {"unknown status", 200, INTENT("teleported", ""), PAYMENT_UNKNOWN, PAYMENT_STATUS_OTHER,
     "pi_123", "", ""},
    {"refund succeeded", 200,
     "{\"id\":\"re_1\",\"object\":\"refund\",\"amount\":700,\"currency\":\"eur\","
     "\"payment_intent\":\"pi_123\",\"status\":\"succeeded\"}",
     PAYMENT_SUCCEEDED, PAYMENT_STATUS_NONE, "pi_123", "", ""},
    {"refund pending", 200,
     "{\"id\":\"re_1\",\"object\":\"refund\",\"amount\":700,\"payment_intent\":\"pi_123\","
     "\"status\":\"pending\"}",
     PAYMENT_PROCESSING, PAYMENT_STATUS_NONE, "pi_123", "", ""},
    {"refund failed", 200,
     "{\"id\":\"re_1\",\"object\":\"refund\",\"amount\":700,\"payment_intent\":\"pi_123\","
     "\"status\":\"failed\",\"failure_reason\":\"expired_or_canceled_card\"}",
     PAYMENT_DECLINED, PAYMENT_STATUS_NONE, "pi_123", "expired_or_canceled_card", ""},
    {"declined", 402,
     "{\"error\":{\"type\":\"card_error\",\"code\":\"card_declined\",\"decline_code\":"
     "\"insufficient_funds\",\"message\":\"Your card has insufficient "
     "funds.\",\"payment_intent\":" INTENT("requires_payment_method", "") "}}",
     PAYMENT_DECLINED, PAYMENT_STATUS_REQUIRES_PAYMENT_METHOD, "pi_123", "card_declined",
     "insufficient_funds"},
    {"expired card", 402,
     "{\"error\":{\"type\":\"card_error\",\"code\":\"expired_card\",\"decline_code\":"
     "\"expired_card\",\"message\":\"Your card has expired.\"}}",
     PAYMENT_DECLINED, PAYMENT_STATUS_NONE, "", "expired_card", "expired_card"},
    {"unexpected state", 400,
     "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"payment_intent_unexpected_state\","
     "\"message\":\"You cannot confirm this PaymentIntent because it has a status of succeeded.\","
     "\"payment_intent\":" INTENT("succeeded", "") "}}",
     PAYMENT_INVALID_REQUEST, PAYMENT_STATUS_SUCCEEDED, "pi_123", "payment_intent_unexpected_state",
     ""},
    {"missing intent", 404,
     "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"resource_missing\",\"param\":"
     "\"intent\",\"message\":\"No such payment_intent: 'pi_x'\"}}",
     PAYMENT_INVALID_REQUEST, PAYMENT_STATUS_NONE, "", "resource_missing", ""},
    {"bad key", 401,
     "{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Invalid API Key provided\"}}",
     PAYMENT_AUTH_ERROR, PAYMENT_STATUS_NONE, "", "", ""},
    {"idempotency mismatch", 400,
     "{\"error\":{\"type\":\"idempotency_error\",\"message\":\"Keys for idempotent requests\"}}",
     PAYMENT_INVALID_REQUEST, PAYMENT_STATUS_NONE, "", "", ""},
    {"idempotency in flight", 409,
     "{\"error\":{\"type\":\"idempotency_error\",\"message\":\"in-progress request\"}}",
     PAYMENT_UNKNOWN, PAYMENT_STATUS_NONE, "", "", ""},
    {"rate limited", 429,
     "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"rate_limit\",\"message\":\"Too "
     "many requests\"}}",
     PAYMENT_UNKNOWN, PAYMENT_STATUS_NONE, "", "rate_limit", ""},
    {"server error", 500, "{\"error\":{\"type\":\"api_error\",\"message\":\"oops\"}}",
     PAYMENT_UNKNOWN, PAYMENT_STATUS_NONE, "", "", ""},
    {"html from a proxy", 502, "<html>Bad Gateway</html>", PAYMENT_UNKNOWN, PAYMENT_STATUS_NONE, "",
     "", ""},
    {"2xx not json", 200, "OK", PAYMENT_UNKNOWN, PAYMENT_STATUS_NONE, "", "", ""},
    {"2xx empty", 200, "", PAYMENT_UNKNOWN, PAYMENT_STATUS_NONE, "", "", ""},
    {"2xx other object", 200, "{\"object\":\"customer\",\"id\":\"cus_1\"}", PAYMENT_UNKNOWN,
     PAYMENT_STATUS_NONE, "", "", ""},
    {"2xx json array", 200, "[1,2]", PAYMENT_UNKNOWN, PAYMENT_STATUS_NONE, "", "", ""},
    {"2xx trailing garbage", 200, INTENT("succeeded", "") "xyz", PAYMENT_UNKNOWN,
     PAYMENT_STATUS_NONE, "", "", ""},
    {"2xx intent without id", 200, "{\"object\":\"payment_intent\",\"status\":\"succeeded\"}",
     PAYMENT_UNKNOWN, PAYMENT_STATUS_SUCCEEDED, "", "", ""},
    {"4xx without a body", 400, "", PAYMENT_INVALID_REQUEST, PAYMENT_STATUS_NONE, "", "", ""},
};

static void test_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const struct parse_case *c = &parse_cases[i];
        struct payment_result r;
        memset(&r, 0, sizeof(r));
        enum payment_outcome got =
            payment_parse_response(c->http_status, c->body, strlen(c->body), &r);
        if (got != c->outcome || r.outcome != c->outcome || r.status != c->status ||
            strcmp(r.intent_id, c->intent_id) != 0 || strcmp(r.error_code, c->error_code) != 0 ||
            strcmp(r.decline_code, c->decline_code) != 0 || r.http_status != c->http_status)
            fail_msg("case '%s': outcome %s status %s id '%s' code '%s' decline '%s'", c->name,
                     payment_outcome_name(got), payment_intent_status_name(r.status), r.intent_id,
                     r.error_code, r.decline_code);
        if (c->outcome == PAYMENT_UNKNOWN || c->http_status >= 400)
            assert_true(r.error_message[0] != '\0');
    }
}

static void test_parse_reads_every_field(void **state)
{
    const char *body = INTENT("succeeded", ",\"latest_charge\":\"ch_9\",\"amount_received\":2500");
    const char *refund = "{\"id\":\"re_77\",\"object\":\"refund\",\"amount\":700,\"currency\":"
                         "\"eur\",\"payment_intent\":\"pi_123\",\"status\":\"succeeded\"}";
    struct payment_result r;
    (void)state;
    memset(&r, 0, sizeof(r));
    assert_int_equal(payment_parse_response(200, body, strlen(body), &r), PAYMENT_SUCCEEDED);
    assert_string_equal(r.client_secret, "pi_123_secret_abc");
    assert_string_equal(r.status_text, "succeeded");
    assert_string_equal(r.currency, "eur");
    assert_string_equal(r.latest_charge, "ch_9");
    assert_int_equal(r.amount, 2500);
    assert_int_equal(r.amount_received, 2500);

    memset(&r, 0, sizeof(r));
    assert_int_equal(payment_parse_response(200, refund, strlen(refund), &r), PAYMENT_SUCCEEDED);
    assert_string_equal(r.refund_id, "re_77");
    assert_int_equal(r.refund_amount, 700);
    assert_string_equal(r.currency, "eur");
}

static void test_parse_rejects_an_id_that_does_not_fit(void **state)
{
    char body[PAYMENT_ID_MAX + 128];
    char id[PAYMENT_ID_MAX + 1];
    struct payment_result r;
    (void)state;
    memset(id, 'a', PAYMENT_ID_MAX);
    id[PAYMENT_ID_MAX] = '\0';
    snprintf(body, sizeof(body),
             "{\"id\":\"pi_%s\",\"object\":\"payment_intent\",\"status\":\"succeeded\"}", id);
    memset(&r, 0, sizeof(r));
    /* A cut id would name another payment: unknown, never succeeded. */
    assert_int_equal(payment_parse_response(200, body, strlen(body), &r), PAYMENT_UNKNOWN);
}

/* ---- our API errors ------------------------------------------------------- */

struct error_case {
    enum payment_outcome outcome;
    const char *error_code;
    const char *decline_code;
    const char *param;
    bool is_error;
    int http_status;
    const char *code;
    const char *message;
};

static const struct error_case error_cases[] = {
    {PAYMENT_DECLINED, "card_declined", "generic_decline", "", true, 402, "card_declined",
     "Your card was declined."},
    {PAYMENT_DECLINED, "card_declined", "insufficient_funds", "", true, 402, "insufficient_funds",
     "Your card has insufficient funds."},
    {PAYMENT_DECLINED, "card_declined", "lost_card", "", true, 402, "card_declined",
     "Your card was declined."},
    {PAYMENT_DECLINED, "card_declined", "stolen_card", "", true, 402, "card_declined",
     "Your card was declined."},
    {PAYMENT_DECLINED, "card_declined", "fraudulent", "", true, 402, "card_declined",
     "Your card was declined."},
    {PAYMENT_DECLINED, "expired_card", "expired_card", "", true, 402, "expired_card",
     "Your card has expired."},
    {PAYMENT_DECLINED, "incorrect_cvc", "incorrect_cvc", "", true, 402, "incorrect_cvc",
     "Your card's security code is incorrect."},
    {PAYMENT_DECLINED, "processing_error", "processing_error", "", true, 402, "processing_error",
     "An error occurred while processing your card. Try again in a little bit."},
    {PAYMENT_DECLINED, "something_new", "", "", true, 402, "card_declined",
     "Your card was declined."},
    {PAYMENT_INVALID_REQUEST, "resource_missing", "", "payment_method", true, 400,
     "invalid_payment_method", "The payment method is not valid."},
    {PAYMENT_INVALID_REQUEST, "resource_missing", "", "intent", true, 404, "payment_not_found",
     "The payment could not be found."},
    {PAYMENT_INVALID_REQUEST, "payment_intent_unexpected_state", "", "", true, 409,
     "payment_state_conflict", "The payment can no longer be changed this way."},
    {PAYMENT_INVALID_REQUEST, "charge_already_refunded", "", "", true, 409, "already_refunded",
     "This payment has already been refunded."},
    {PAYMENT_INVALID_REQUEST, "amount_too_large", "", "amount", true, 409, "refund_too_large",
     "The refund is larger than what is left of the payment."},
    {PAYMENT_INVALID_REQUEST, "parameter_unknown", "", "colour", true, 502, "payment_rejected",
     "The payment provider refused the request."},
    {PAYMENT_INVALID_REQUEST, "invalid_argument", "", "", true, 400, "invalid_payment_request",
     "The payment request is not valid."},
    {PAYMENT_AUTH_ERROR, "", "", "", true, 503, "payment_unavailable",
     "Payments are unavailable at the moment. Try again later."},
    {PAYMENT_UNKNOWN, "timeout", "", "", true, 502, "payment_unconfirmed",
     "We could not confirm your payment yet. Check the order again in a moment."},
    {PAYMENT_SUCCEEDED, "", "", "", false, 0, NULL, NULL},
    {PAYMENT_REQUIRES_PAYMENT_METHOD, "", "", "", false, 0, NULL, NULL},
    {PAYMENT_PROCESSING, "", "", "", false, 0, NULL, NULL},
    {PAYMENT_CANCELED, "", "", "", false, 0, NULL, NULL},
};

static void test_api_error_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        const struct error_case *c = &error_cases[i];
        struct payment_result r;
        struct payment_api_error e = {-1, "untouched", "untouched"};
        memset(&r, 0, sizeof(r));
        r.outcome = c->outcome;
        snprintf(r.error_code, sizeof(r.error_code), "%s", c->error_code);
        snprintf(r.decline_code, sizeof(r.decline_code), "%s", c->decline_code);
        snprintf(r.error_param, sizeof(r.error_param), "%s", c->param);
        bool got = payment_api_error_from_result(&r, &e);
        if (got != c->is_error)
            fail_msg("case %zu (%s/%s): is_error %d", i, c->error_code, c->decline_code, got);
        if (!c->is_error) {
            assert_int_equal(e.http_status, -1);
            continue;
        }
        if (e.http_status != c->http_status || strcmp(e.code, c->code) != 0 ||
            strcmp(e.message, c->message) != 0)
            fail_msg("case %zu (%s/%s): got %d %s '%s'", i, c->error_code, c->decline_code,
                     e.http_status, e.code, e.message);
    }
}

/* ---- before anything is sent ------------------------------------------------ */

static void test_open_rejects_bad_configuration(void **state)
{
    const struct payment_config bad[] = {
        {NULL, "sk_test_x", 1000, 0, 0, 0},
        {"", "sk_test_x", 1000, 0, 0, 0},
        {"http://127.0.0.1:1", NULL, 1000, 0, 0, 0},
        {"http://127.0.0.1:1", "", 1000, 0, 0, 0},
        {"http://127.0.0.1:1", "sk_test_x\r\nX-Evil: 1", 1000, 0, 0, 0},
        {"http://127.0.0.1:1", "sk_test_x", 0, 0, 0, 0},
        {"http://127.0.0.1:1", "sk_test_x", 1000, 0, -1, 0},
    };
    (void)state;
    assert_null(payment_open(NULL));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct payment_client *client = payment_open(&bad[i]);
        if (client != NULL) {
            payment_close(client);
            fail_msg("bad configuration %zu was accepted", i);
        }
    }
}

/* Port 1 on loopback refuses at once, so a call that got past its argument
 * checks would come back "unknown" instead of "invalid". */
static struct payment_client *open_unreachable(int max_retries)
{
    const struct payment_config cfg = {
        "http://127.0.0.1:1", "sk_test_unit", 500, 0, max_retries, 1};
    struct payment_client *client = payment_open(&cfg);
    assert_non_null(client);
    return client;
}

static void test_arguments_are_checked_before_sending(void **state)
{
    struct payment_client *client = open_unreachable(0);
    struct payment_result r;
    char long_key[PAYMENT_IDEMPOTENCY_KEY_MAX + 2];
    (void)state;
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';

    assert_int_equal(payment_create_intent(client, 0, "eur", 1, "k", &r), PAYMENT_INVALID_REQUEST);
    assert_int_equal(payment_create_intent(client, 100, "euro", 1, "k", &r),
                     PAYMENT_INVALID_REQUEST);
    assert_int_equal(payment_create_intent(client, 100, "e1r", 1, "k", &r),
                     PAYMENT_INVALID_REQUEST);
    assert_int_equal(payment_create_intent(client, 100, "eur", 0, "k", &r),
                     PAYMENT_INVALID_REQUEST);
    assert_int_equal(payment_create_intent(client, 100, "eur", 1, "", &r), PAYMENT_INVALID_REQUEST);
    assert_int_equal(payment_create_intent(client, 100, "eur", 1, "k\r\nX-Evil: 1", &r),
                     PAYMENT_INVALID_REQUEST);
    assert_int_equal(payment_create_intent(client, 100, "eur", 1, long_key, &r),
                     PAYMENT_INVALID_REQUEST);
    assert_int_equal(
        payment_confirm_intent(client, "pi_1/../../v1/refunds", "pm_card_visa", "k", &r),
        PAYMENT_INVALID_REQUEST);
    assert_int_equal(payment_confirm_intent(client, "pi_1", "pm card", "k", &r),
                     PAYMENT_INVALID_REQUEST);
    assert_int_equal(payment_confirm_intent(client, "pi_1", "pm_card_visa", NULL, &r),
                     PAYMENT_INVALID_REQUEST);
    assert_int_equal(payment_retrieve_intent(client, "", &r), PAYMENT_INVALID_REQUEST);
    assert_int_equal(payment_retrieve_intent(client, "pi_1?expand=x", &r), PAYMENT_INVALID_REQUEST);
    assert_int_equal(payment_cancel_intent(client, "pi_1", "", &r), PAYMENT_INVALID_REQUEST);
    assert_int_equal(payment_refund(client, "pi_1", -1, "k", &r), PAYMENT_INVALID_REQUEST);
    assert_string_equal(r.error_code, "invalid_argument");
    assert_int_equal(r.attempts, 0);
    payment_close(client);
}

static void test_unreachable_provider_is_unknown_after_retries(void **state)
{
    struct payment_client *client = open_unreachable(2);
    struct payment_result r;
    (void)state;
    assert_int_equal(payment_create_intent(client, 100, "EUR", 7, "unit-unreachable", &r),
                     PAYMENT_UNKNOWN);
    assert_int_equal(r.outcome, PAYMENT_UNKNOWN);
    assert_int_equal(r.attempts, 3);
    assert_int_equal(r.http_status, 0);
    assert_string_equal(r.error_code, "network_error");
    assert_true(r.error_message[0] != '\0');
    assert_int_equal(payment_retrieve_intent(client, "pi_1", &r), PAYMENT_UNKNOWN);
    assert_int_equal(r.attempts, 3);
    payment_close(client);
}

/* ---- connection reuse -------------------------------------------------------- */

#define SCRIPT_ANSWER_BODY                                                                         \
    "{\"id\":\"pi_123\",\"object\":\"payment_intent\",\"amount\":2500,\"currency\":\"eur\","      \
    "\"client_secret\":\"pi_123_secret_abc\",\"latest_charge\":\"ch_9\",\"status\":\"succeeded\"}"

/* Reads one request (headers, and a body of Content-Length bytes) from fd;
 * false on EOF or error. */
static bool script_read_request(int fd)
{
    char buf[8192];
    size_t len = 0;
    char *end = NULL;
    while (end == NULL) {
        if (len == sizeof(buf) - 1)
            return false;
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            return false;
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    size_t want = 0;
    const char *cl = strstr(buf, "Content-Length:");
    if (cl != NULL)
        want = (size_t)strtoul(cl + strlen("Content-Length:"), NULL, 10);
    size_t have = len - (size_t)(end + 4 - buf);
    while (have < want) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            return false;
        have += (size_t)n;
    }
    return true;
}

static void script_answer(int fd)
{
    char answer[1024];
    int n = snprintf(answer, sizeof(answer),
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     strlen(SCRIPT_ANSWER_BODY), SCRIPT_ANSWER_BODY);
    if (write(fd, answer, (size_t)n) != n)
        _exit(3);
}

/* A provider that answers according to a script, in a child process: for
 * each accepted connection, per_connection[i] requests, then it closes the
 * connection (as a provider does when it restarts). It accepts only
 * `connections` connections: a client that opens another waits in vain. */
static pid_t script_start(int *port, int connections, const int *per_connection)
{
    struct sockaddr_in addr;
    socklen_t addr_len = sizeof(addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &addr_len), 0);
    *port = ntohs(addr.sin_port);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (int c = 0; c < connections; c++) {
            int conn = accept(fd, NULL, NULL);
            if (conn < 0)
                _exit(2);
            for (int r = 0; r < per_connection[c]; r++) {
                if (!script_read_request(conn))
                    _exit(4);
                script_answer(conn);
            }
            close(conn);
        }
        /* Linger so that the listening socket stays open (a connection
         * beyond the script waits instead of being refused). */
        sleep(5);
        _exit(0);
    }
    close(fd);
    return pid;
}

static void script_stop(pid_t pid)
{
    int status = 0;
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
}

static struct payment_client *open_script(int port)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    /* No retries: a call must succeed on its own first attempt. */
    const struct payment_config cfg = {url, "sk_test_unit", 2000, 0, 0, 1};
    struct payment_client *client = payment_open(&cfg);
    assert_non_null(client);
    return client;
}

/* Two calls, one connection: the server accepts only one, so a client that
 * opened a second would time out. */
static void test_calls_reuse_one_connection(void **state)
{
    const int script[] = {3};
    struct payment_result r;
    int port = 0;
    (void)state;
    pid_t pid = script_start(&port, 1, script);
    struct payment_client *client = open_script(port);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(payment_retrieve_intent(client, "pi_123", &r), PAYMENT_SUCCEEDED);
        assert_int_equal(r.attempts, 1);
    }
    payment_close(client);
    script_stop(pid);
}

/* The provider drops the idle keep-alive connection (a restart): the next
 * call opens a new one and succeeds on its first attempt. */
static void test_reuse_survives_a_dropped_connection(void **state)
{
    const int script[] = {1, 1};
    const struct timespec settle = {0, 50 * 1000 * 1000};
    struct payment_result r;
    int port = 0;
    (void)state;
    pid_t pid = script_start(&port, 2, script);
    struct payment_client *client = open_script(port);
    assert_int_equal(payment_retrieve_intent(client, "pi_123", &r), PAYMENT_SUCCEEDED);
    nanosleep(&settle, NULL);
    assert_int_equal(payment_retrieve_intent(client, "pi_123", &r), PAYMENT_SUCCEEDED);
    assert_int_equal(r.attempts, 1);
    payment_close(client);
    script_stop(pid);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(payment_outcome_name(PAYMENT_SUCCEEDED), "succeeded");
    assert_string_equal(payment_outcome_name(PAYMENT_DECLINED), "declined");
    assert_string_equal(payment_outcome_name(PAYMENT_UNKNOWN), "unknown");
    assert_string_equal(payment_outcome_name(PAYMENT_INVALID_REQUEST), "invalid_request");
    assert_string_equal(payment_intent_status_name(PAYMENT_STATUS_SUCCEEDED), "succeeded");
    assert_string_equal(payment_intent_status_name(PAYMENT_STATUS_REQUIRES_PAYMENT_METHOD),
                        "requires_payment_method");
    assert_string_equal(payment_intent_status_name(PAYMENT_STATUS_NONE), "none");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_encode_table),
        cmocka_unit_test(test_form_encode_caps),
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_reads_every_field),
        cmocka_unit_test(test_parse_rejects_an_id_that_does_not_fit),
        cmocka_unit_test(test_api_error_table),
        cmocka_unit_test(test_open_rejects_bad_configuration),
        cmocka_unit_test(test_arguments_are_checked_before_sending),
        cmocka_unit_test(test_unreachable_provider_is_unknown_after_retries),
        cmocka_unit_test(test_calls_reuse_one_connection),
        cmocka_unit_test(test_reuse_survives_a_dropped_connection),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
