/* test_webhook_signature.c: Stripe-Signature verification against vectors
 * computed independently with Python's hmac module:
 *   hmac.new(secret, b"<t>." + body, hashlib.sha256).hexdigest() */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "webhook_signature.h"

#define SECRET "whsec_test_secret"
#define T "1700000000"
#define NOW INT64_C(1700000000)
#define BODY "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"payment_intent.succeeded\"}"
/* hmac(SECRET, T "." BODY) */
#define SIG "67da5088c63e080c71bd2bb0cb5c03d85a8fc6a21ce3aaf484df809654745b92"
/* SIG without its first two digits: "zz" SIG_TAIL is 64 bytes, not hex */
#define SIG_TAIL "da5088c63e080c71bd2bb0cb5c03d85a8fc6a21ce3aaf484df809654745b92"
#define SIG_UPPER "67DA5088C63E080C71BD2BB0CB5C03D85A8FC6A21CE3AAF484DF809654745B92"
/* hmac("whsec_other", T "." BODY) */
#define SIG_OTHER_SECRET "7760e255648e56bc4f3ee9de6c5f6cb88b9a824f2227d1c2316eae207e697713"
/* hmac(SECRET, T ".") */
#define SIG_EMPTY_BODY "316b9ab98c15bfa039d243f3196acee619cf29749a91a634e6a8154e2f7b6727"
/* hmac(SECRET, T ".{\"name\":\"Zoë ₹\"}") */
#define BODY_UTF8 "{\"name\":\"Zo\xc3\xab \xe2\x82\xb9\"}"
#define SIG_UTF8 "563dbfe19de0df4bba217e67013ce06ef367e3399d6732552918cd3f44fda11c"
/* hmac(SECRET, T ".a\0b"): the body length, not a NUL, ends the body */
#define SIG_NUL "1c68785302fdb56dfa4ba16b9548a84be275258764de5cc2fc6aa3e576e157a0"

struct signature_case {
    const char *name;
    const char *header;
    const char *body;
    size_t body_len; /* 0: strlen(body) */
    const char *secret;
    int64_t now;
    enum webhook_signature_result expected;
};

static const struct signature_case signature_cases[] = {
    {"valid", "t=" T ",v1=" SIG, BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_OK},
    {"valid upper-case hex", "t=" T ",v1=" SIG_UPPER, BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_OK},
    {"valid with v0 ignored", "t=" T ",v0=deadbeef,v1=" SIG, BODY, 0, SECRET, NOW,
     WEBHOOK_SIGNATURE_OK},
    {"valid, t last", "v1=" SIG ",t=" T, BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_OK},
    {"several v1, second matches", "t=" T ",v1=" SIG_OTHER_SECRET ",v1=" SIG, BODY, 0, SECRET, NOW,
     WEBHOOK_SIGNATURE_OK},
    {"several v1, first matches", "t=" T ",v1=" SIG ",v1=" SIG_OTHER_SECRET, BODY, 0, SECRET, NOW,
     WEBHOOK_SIGNATURE_OK},
    {"empty body", "t=" T ",v1=" SIG_EMPTY_BODY, "", 0, SECRET, NOW, WEBHOOK_SIGNATURE_OK},
    {"utf-8 body", "t=" T ",v1=" SIG_UTF8, BODY_UTF8, 0, SECRET, NOW, WEBHOOK_SIGNATURE_OK},
    {"body with a NUL byte", "t=" T ",v1=" SIG_NUL, "a\0b", 3, SECRET, NOW, WEBHOOK_SIGNATURE_OK},
    {"inside tolerance, past", "t=" T ",v1=" SIG, BODY, 0, SECRET, NOW + 300, WEBHOOK_SIGNATURE_OK},
    {"inside tolerance, future", "t=" T ",v1=" SIG, BODY, 0, SECRET, NOW - 300,
     WEBHOOK_SIGNATURE_OK},

    {"wrong secret", "t=" T ",v1=" SIG, BODY, 0, "whsec_other_secret", NOW,
     WEBHOOK_SIGNATURE_NO_MATCH},
    {"signed with another secret", "t=" T ",v1=" SIG_OTHER_SECRET, BODY, 0, SECRET, NOW,
     WEBHOOK_SIGNATURE_NO_MATCH},
    {"body changed", "t=" T ",v1=" SIG, BODY " ", 0, SECRET, NOW, WEBHOOK_SIGNATURE_NO_MATCH},
    {"timestamp changed", "t=1700000001,v1=" SIG, BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_NO_MATCH},
    {"signature only under v0", "t=" T ",v0=" SIG ",v1=" SIG_OTHER_SECRET, BODY, 0, SECRET, NOW,
     WEBHOOK_SIGNATURE_NO_MATCH},
    {"NUL body cut short", "t=" T ",v1=" SIG_NUL, "a\0b", 1, SECRET, NOW,
     WEBHOOK_SIGNATURE_NO_MATCH},
    {"empty secret", "t=" T ",v1=" SIG, BODY, 0, "", NOW, WEBHOOK_SIGNATURE_NO_MATCH},

    {"stale", "t=" T ",v1=" SIG, BODY, 0, SECRET, NOW + 301, WEBHOOK_SIGNATURE_STALE},
    {"far future", "t=" T ",v1=" SIG, BODY, 0, SECRET, NOW - 301, WEBHOOK_SIGNATURE_STALE},
    {"stale and forged is no match", "t=" T ",v1=" SIG_OTHER_SECRET, BODY, 0, SECRET, NOW + 10000,
     WEBHOOK_SIGNATURE_NO_MATCH},

    {"empty header", "", BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_MALFORMED},
    {"missing t", "v1=" SIG, BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_MALFORMED},
    {"missing v1", "t=" T, BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_MALFORMED},
    {"only v0", "t=" T ",v0=" SIG, BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_MALFORMED},
    {"garbage", "garbage", BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_MALFORMED},
    {"t not a number", "t=abc,v1=" SIG, BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_MALFORMED},
    {"t negative", "t=-1700000000,v1=" SIG, BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_MALFORMED},
    {"t empty", "t=,v1=" SIG, BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_MALFORMED},
    {"t too long", "t=1234567890123456789,v1=" SIG, BODY, 0, SECRET, NOW,
     WEBHOOK_SIGNATURE_MALFORMED},
    {"two t", "t=" T ",t=" T ",v1=" SIG, BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_MALFORMED},
    {"v1 not hex", "t=" T ",v1=zz" SIG_TAIL, BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_MALFORMED},
    {"v1 too short", "t=" T ",v1=abcdef", BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_MALFORMED},
    {"v1 too long", "t=" T ",v1=" SIG "00", BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_MALFORMED},
    {"spaces", "t=" T ", v1=" SIG, BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_MALFORMED},
    {"item without =", "t=" T ",v1=" SIG ",junk", BODY, 0, SECRET, NOW,
     WEBHOOK_SIGNATURE_MALFORMED},
    {"trailing comma", "t=" T ",v1=" SIG ",", BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_MALFORMED},
    {"empty item", "t=" T ",,v1=" SIG, BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_MALFORMED},
    {"empty key", "t=" T ",=x,v1=" SIG, BODY, 0, SECRET, NOW, WEBHOOK_SIGNATURE_MALFORMED},
};

static void test_signature_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(signature_cases) / sizeof(signature_cases[0]); i++) {
        const struct signature_case *c = &signature_cases[i];
        size_t len = c->body_len != 0 ? c->body_len : strlen(c->body);
        enum webhook_signature_result got = webhook_signature_verify(
            c->header, c->body, len, c->secret, c->now, WEBHOOK_SIGNATURE_TOLERANCE_S);
        if (got != c->expected)
            fail_msg("case '%s': got %s, want %s", c->name, webhook_signature_result_name(got),
                     webhook_signature_result_name(c->expected));
    }
}

static void test_null_header_and_secret(void **state)
{
    (void)state;
    assert_int_equal(webhook_signature_verify(NULL, BODY, strlen(BODY), SECRET, NOW, 300),
                     WEBHOOK_SIGNATURE_MALFORMED);
    assert_int_equal(
        webhook_signature_verify("t=" T ",v1=" SIG, BODY, strlen(BODY), NULL, NOW, 300),
        WEBHOOK_SIGNATURE_NO_MATCH);
}

static void test_header_too_long_is_malformed(void **state)
{
    char header[WEBHOOK_SIGNATURE_HEADER_MAX + 80];
    size_t len;
    (void)state;
    /* A valid header padded with ignored v0 items past the cap. */
    len = (size_t)snprintf(header, sizeof(header), "t=%s,v1=%s", T, SIG);
    while (len + 5 < sizeof(header) - 1) {
        memcpy(header + len, ",v0=0", 5);
        len += 5;
    }
    header[len] = '\0';
    assert_true(len > WEBHOOK_SIGNATURE_HEADER_MAX);
    assert_int_equal(webhook_signature_verify(header, BODY, strlen(BODY), SECRET, NOW, 300),
                     WEBHOOK_SIGNATURE_MALFORMED);
}

static void test_many_v1_one_matches(void **state)
{
    char header[WEBHOOK_SIGNATURE_HEADER_MAX];
    size_t len;
    (void)state;
    len = (size_t)snprintf(header, sizeof(header), "t=%s", T);
    for (int i = 0; i < 20; i++)
        len += (size_t)snprintf(header + len, sizeof(header) - len, ",v1=%s", SIG_OTHER_SECRET);
    snprintf(header + len, sizeof(header) - len, ",v1=%s", SIG);
    assert_int_equal(webhook_signature_verify(header, BODY, strlen(BODY), SECRET, NOW, 300),
                     WEBHOOK_SIGNATURE_OK);
}

static void test_tolerance_is_the_callers(void **state)
{
    (void)state;
    assert_int_equal(
        webhook_signature_verify("t=" T ",v1=" SIG, BODY, strlen(BODY), SECRET, NOW + 10, 5),
        WEBHOOK_SIGNATURE_STALE);
    assert_int_equal(
        webhook_signature_verify("t=" T ",v1=" SIG, BODY, strlen(BODY), SECRET, NOW + 5, 5),
        WEBHOOK_SIGNATURE_OK);
}

static void test_result_names(void **state)
{
    (void)state;
    assert_string_equal(webhook_signature_result_name(WEBHOOK_SIGNATURE_OK), "ok");
    assert_string_equal(webhook_signature_result_name(WEBHOOK_SIGNATURE_MALFORMED), "malformed");
    assert_string_equal(webhook_signature_result_name(WEBHOOK_SIGNATURE_NO_MATCH), "no_match");
    assert_string_equal(webhook_signature_result_name(WEBHOOK_SIGNATURE_STALE), "stale");
    assert_string_equal(webhook_signature_result_name(WEBHOOK_SIGNATURE_ERROR), "error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_table),
        cmocka_unit_test(test_null_header_and_secret),
        cmocka_unit_test(test_header_too_long_is_malformed),
        cmocka_unit_test(test_many_v1_one_matches),
        cmocka_unit_test(test_tolerance_is_the_callers),
        cmocka_unit_test(test_result_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
