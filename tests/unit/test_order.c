/* test_order.c: the pure parts of the orders module: reading provider
 * webhook events, accepting Idempotency-Keys, and the provider settings
 * drawn from the configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "order.h"

struct event_case {
    const char *name;
    const char *body;
    bool ok;
    const char *id;
    const char *type;
    const char *intent_id;
    int64_t created;
    const char *error_code;
    const char *decline_code;
};

static const struct event_case event_cases[] = {
    {"succeeded intent",
     "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"payment_intent.succeeded\","
     "\"created\":1700000000,\"data\":{\"object\":{\"id\":\"pi_123\",\"object\":"
     "\"payment_intent\",\"status\":\"succeeded\",\"last_payment_error\":null}}}",
     true, "evt_1", "payment_intent.succeeded", "pi_123", 1700000000, "", ""},
    {"failed intent with its error",
     "{\"id\":\"evt_2\",\"type\":\"payment_intent.payment_failed\",\"data\":{\"object\":"
     "{\"id\":\"pi_9\",\"object\":\"payment_intent\",\"last_payment_error\":{\"code\":"
     "\"card_declined\",\"decline_code\":\"insufficient_funds\"}}}}",
     true, "evt_2", "payment_intent.payment_failed", "pi_9", 0, "card_declined",
     "insufficient_funds"},
    {"charge names its intent",
     "{\"id\":\"evt_3\",\"type\":\"charge.refunded\",\"data\":{\"object\":{\"id\":\"ch_1\","
     "\"object\":\"charge\",\"payment_intent\":\"pi_7\"}}}",
     true, "evt_3", "charge.refunded", "pi_7", 0, "", ""},
    {"event without data", "{\"id\":\"evt_4\",\"type\":\"ping\"}", true, "evt_4", "ping", "", 0, "",
     ""},
    {"intent id of the wrong type",
     "{\"id\":\"evt_5\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":"
     "{\"id\":5,\"object\":\"payment_intent\"}}}",
     true, "evt_5", "payment_intent.succeeded", "", 0, "", ""},
    {"no id", "{\"type\":\"payment_intent.succeeded\"}", false, "", "", "", 0, "", ""},
    {"empty id", "{\"id\":\"\",\"type\":\"x\"}", false, "", "", "", 0, "", ""},
    {"id not a string", "{\"id\":1,\"type\":\"x\"}", false, "", "", "", 0, "", ""},
    {"no type", "{\"id\":\"evt_6\"}", false, "", "", "", 0, "", ""},
    {"not an object", "[\"evt_7\"]", false, "", "", "", 0, "", ""},
    {"not JSON", "id=evt_8", false, "", "", "", 0, "", ""},
    {"trailing garbage", "{\"id\":\"evt_9\",\"type\":\"x\"} {", false, "", "", "", 0, "", ""},
    {"empty", "", false, "", "", "", 0, "", ""},
};

static void test_webhook_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(event_cases) / sizeof(event_cases[0]); i++) {
        const struct event_case *c = &event_cases[i];
        struct order_webhook_event ev;
        bool ok = order_webhook_parse(c->body, strlen(c->body), &ev);
        if (ok != c->ok)
            fail_msg("%s: parse returned %d", c->name, ok);
        if (!ok)
            continue;
        assert_string_equal(ev.id, c->id);
        assert_string_equal(ev.type, c->type);
        assert_string_equal(ev.intent_id, c->intent_id);
        assert_int_equal(ev.created, c->created);
        assert_string_equal(ev.error_code, c->error_code);
        assert_string_equal(ev.decline_code, c->decline_code);
    }
}

static void test_webhook_parse_limits(void **state)
{
    (void)state;
    char body[600];
    char id[300];
    struct order_webhook_event ev;
    memset(id, 'a', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    /* An id longer than ORDER_EVENT_ID_MAX is refused. */
    snprintf(body, sizeof(body), "{\"id\":\"%s\",\"type\":\"x\"}", id);
    assert_false(order_webhook_parse(body, strlen(body), &ev));
    /* Exactly ORDER_EVENT_ID_MAX is fine. */
    id[ORDER_EVENT_ID_MAX] = '\0';
    snprintf(body, sizeof(body), "{\"id\":\"%s\",\"type\":\"x\"}", id);
    assert_true(order_webhook_parse(body, strlen(body), &ev));
    assert_int_equal(strlen(ev.id), ORDER_EVENT_ID_MAX);
    /* The length given, not a NUL, ends the body. */
    const char *two = "{\"id\":\"evt_1\",\"type\":\"x\"}{\"id\":\"evt_2\"}";
    assert_true(order_webhook_parse(two, strlen("{\"id\":\"evt_1\",\"type\":\"x\"}"), &ev));
    assert_string_equal(ev.id, "evt_1");
    assert_false(order_webhook_parse(NULL, 0, &ev));
}

static void test_idempotency_key(void **state)
{
    (void)state;
    char long_key[ORDER_IDEMPOTENCY_KEY_MAX + 2];
    assert_true(order_idempotency_key_valid("a"));
    assert_true(order_idempotency_key_valid("3f2b9c1e-8d4a-4e5b-9a7c-1d2e3f4a5b6c"));
    assert_true(order_idempotency_key_valid("checkout:42/retry#1"));
    assert_false(order_idempotency_key_valid(NULL));
    assert_false(order_idempotency_key_valid(""));
    assert_false(order_idempotency_key_valid("has space"));
    assert_false(order_idempotency_key_valid("tab\tkey"));
    assert_false(order_idempotency_key_valid("caf\xc3\xa9"));
    assert_false(order_idempotency_key_valid("del\x7f"));
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    assert_false(order_idempotency_key_valid(long_key));
    long_key[ORDER_IDEMPOTENCY_KEY_MAX] = '\0';
    assert_true(order_idempotency_key_valid(long_key));
}

static void test_payment_config(void **state)
{
    (void)state;
    struct config cfg;
    struct payment_config pc;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.payment_base_url, sizeof(cfg.payment_base_url), "http://127.0.0.1:1");
    cfg.payment_timeout_ms = 1234;
    assert_false(order_payment_config(&cfg, &pc)); /* no key: payments off */
    snprintf(cfg.payment_secret_key, sizeof(cfg.payment_secret_key), "sk_test_x");
    assert_true(order_payment_config(&cfg, &pc));
    assert_string_equal(pc.base_url, "http://127.0.0.1:1");
    assert_string_equal(pc.secret_key, "sk_test_x");
    assert_int_equal(pc.timeout_ms, 1234);
    assert_true(pc.max_retries >= 1);
    assert_true(pc.retry_base_ms > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_webhook_parse_table),
        cmocka_unit_test(test_webhook_parse_limits),
        cmocka_unit_test(test_idempotency_key),
        cmocka_unit_test(test_payment_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
