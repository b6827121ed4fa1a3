/* test_token.c: signed waiting-room tokens: round trips, and every way a
 * token must be refused (forged, altered, expired, another user's, another
 * event's, another kind, another secret, malformed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "token.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define NOW INT64_C(1800000000000)

static const struct token_claims access = {TOKEN_ACCESS, 42, 7, 1234, NOW, NOW + 600000};

static void test_round_trip(void **state)
{
    (void)state;
    char text[TOKEN_TEXT_MAX];
    struct token_claims got;
    assert_true(token_sign(SECRET, &access, text, sizeof(text)));
    assert_true(strlen(text) < TOKEN_TEXT_MAX);
    assert_int_equal(token_verify(SECRET, text, TOKEN_ACCESS, NOW + 1, 42, 7, &got), TOKEN_OK);
    assert_int_equal(got.kind, TOKEN_ACCESS);
    assert_int_equal(got.event_id, 42);
    assert_int_equal(got.user_id, 7);
    assert_int_equal(got.position, 1234);
    assert_int_equal(got.issued_at_ms, NOW);
    assert_int_equal(got.expires_at_ms, NOW + 600000);
    /* user 0: any user (the caller compares later, e.g. in SQL) */
    assert_int_equal(token_verify(SECRET, text, TOKEN_ACCESS, NOW, 42, 0, &got), TOKEN_OK);
}

static void test_refusals(void **state)
{
    (void)state;
    char text[TOKEN_TEXT_MAX];
    struct token_claims got;
    assert_true(token_sign(SECRET, &access, text, sizeof(text)));
    static const struct {
        const char *what;
        const char *secret;
        enum token_kind kind;
        int64_t now, event, user;
        enum token_status want;
    } cases[] = {
        {"expired at its expiry", SECRET, TOKEN_ACCESS, NOW + 600000, 42, 7, TOKEN_EXPIRED},
        {"expired later", SECRET, TOKEN_ACCESS, NOW + 9999999, 42, 7, TOKEN_EXPIRED},
        {"another user's", SECRET, TOKEN_ACCESS, NOW, 42, 8, TOKEN_WRONG_USER},
        {"another event's", SECRET, TOKEN_ACCESS, NOW, 43, 7, TOKEN_WRONG_EVENT},
        {"another kind", SECRET, TOKEN_QUEUE, NOW, 42, 7, TOKEN_WRONG_KIND},
        {"another secret", "a different secret entirely", TOKEN_ACCESS, NOW, 42, 7,
         TOKEN_BAD_SIGNATURE},
        {"no secret", "", TOKEN_ACCESS, NOW, 42, 7, TOKEN_MALFORMED},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum token_status st = token_verify(cases[i].secret, text, cases[i].kind, cases[i].now,
                                            cases[i].event, cases[i].user, &got);
        if (st != cases[i].want)
            fail_msg("%s: got %d, want %d", cases[i].what, st, cases[i].want);
    }
}

/* Changing any claim without the secret: a forged user, position or
 * expiry, re-encoded with the old signature, fails. */
static void test_forgeries(void **state)
{
    (void)state;
    char text[TOKEN_TEXT_MAX], forged[TOKEN_TEXT_MAX], other[TOKEN_TEXT_MAX];
    struct token_claims got;
    assert_true(token_sign(SECRET, &access, text, sizeof(text)));
    const char *dot = strchr(text, '.');
    struct token_claims changed[] = {access, access, access, access};
    changed[0].user_id = 8;
    changed[1].position = 1;
    changed[2].expires_at_ms = NOW + 999999999;
    changed[3].kind = TOKEN_QUEUE;
    for (size_t i = 0; i < 4; i++) {
        /* the claims part of a token signed under another key, with our
         * token's signature */
        assert_true(token_sign("attacker", &changed[i], other, sizeof(other)));
        size_t claims_len = (size_t)(strchr(other, '.') - other);
        snprintf(forged, sizeof(forged), "%.*s%s", (int)claims_len, other, dot);
        assert_int_equal(token_verify(SECRET, forged, changed[i].kind, NOW, 42, 0, &got),
                         TOKEN_BAD_SIGNATURE);
    }
    /* one flipped character anywhere */
    for (size_t i = 0; i < strlen(text); i++) {
        if (text[i] == '.')
            continue;
        memcpy(forged, text, sizeof(text));
        forged[i] = forged[i] == 'A' ? 'B' : 'A';
        assert_int_not_equal(token_verify(SECRET, forged, TOKEN_ACCESS, NOW, 42, 7, &got),
                             TOKEN_OK);
    }
}

static void test_malformed(void **state)
{
    (void)state;
    char text[TOKEN_TEXT_MAX];
    char longer[TOKEN_TEXT_MAX + 10];
    struct token_claims got;
    assert_true(token_sign(SECRET, &access, text, sizeof(text)));
    const char *bad[] = {"",       ".", "abc", "abc.def", "no dot at all but long enough to be one",
                         "!!!.???"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(token_verify(SECRET, bad[i], TOKEN_ACCESS, NOW, 42, 7, &got),
                         TOKEN_MALFORMED);
    /* truncated, extended, padded */
    snprintf(longer, sizeof(longer), "%.*s", (int)strlen(text) - 1, text);
    assert_int_equal(token_verify(SECRET, longer, TOKEN_ACCESS, NOW, 42, 7, &got), TOKEN_MALFORMED);
    snprintf(longer, sizeof(longer), "%sAA", text);
    assert_int_equal(token_verify(SECRET, longer, TOKEN_ACCESS, NOW, 42, 7, &got), TOKEN_MALFORMED);
    memset(longer, 'A', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(token_verify(SECRET, longer, TOKEN_ACCESS, NOW, 42, 7, &got), TOKEN_MALFORMED);
    /* signing refuses a short buffer and an empty secret */
    assert_false(token_sign(SECRET, &access, text, 20));
    assert_false(token_sign("", &access, text, sizeof(text)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_forgeries),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
