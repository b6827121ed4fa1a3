/* test_pow.c: proof-of-work checking: leading-zero counts, solved and
 * unsolved nonces, malformed nonces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "pow.h"

static void test_leading_zero_bits(void **state)
{
    (void)state;
    static const struct {
        uint8_t first[3];
        int want;
    } cases[] = {
        {{0x80, 0, 0}, 0},     {{0x40, 0, 0}, 1},        {{0x01, 0, 0}, 7}, {{0x00, 0xff, 0}, 8},
        {{0x00, 0x10, 0}, 11}, {{0x00, 0x00, 0x01}, 23}, {{0xff, 0, 0}, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t digest[32];
        memset(digest, 0xff, sizeof(digest));
        memcpy(digest, cases[i].first, 3);
        assert_int_equal(pow_leading_zero_bits(digest), cases[i].want);
    }
    uint8_t zero[32] = {0};
    assert_int_equal(pow_leading_zero_bits(zero), 256);
}

/* Finds a nonce the slow way, as a browser would, and checks that the
 * server agrees at that difficulty and (almost surely) not far above. */
static void test_solve_and_check(void **state)
{
    (void)state;
    const char *challenge = "AQAAAAAAAAAqAAAAAAAAAAc.signature";
    char nonce[32];
    int bits = 12;
    bool found = false;
    for (unsigned long n = 0; n < 10000000 && !found; n++) {
        snprintf(nonce, sizeof(nonce), "%lx", n);
        found = pow_check(challenge, nonce, bits);
    }
    assert_true(found);
    assert_true(pow_work(challenge, nonce) >= bits);
    /* the same nonce on another challenge is (with odds 2^-12) no solution */
    assert_false(pow_check("another challenge", nonce, bits) && pow_check("a third", nonce, bits));
    /* zero difficulty accepts any well-formed nonce */
    assert_true(pow_check(challenge, "x", 0));
    /* agrees with SHA-256 computed directly */
    char buf[128];
    uint8_t digest[32];
    snprintf(buf, sizeof(buf), "%s%s", challenge, nonce);
    crypto_sha256(buf, strlen(buf), digest);
    assert_int_equal(pow_work(challenge, nonce), pow_leading_zero_bits(digest));
}

static void test_malformed_nonces(void **state)
{
    (void)state;
    char too_long[POW_NONCE_MAX + 2];
    memset(too_long, 'a', sizeof(too_long) - 1);
    too_long[sizeof(too_long) - 1] = '\0';
    const char *bad[] = {"", "has space", "semi;colon", "dot.dot", "\xc3\xa9", too_long};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(pow_work("challenge", bad[i]), -1);
        assert_false(pow_check("challenge", bad[i], 0));
    }
}

/* The server's check must be cheap: microseconds each. Measured in CPU
 * time (a loaded machine must not fail it) with room for the sanitizer
 * build; an optimised build takes about 1 us. */
static void test_check_is_fast(void **state)
{
    (void)state;
    struct timespec a, b;
    int ok = 0;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    for (int i = 0; i < 100000; i++)
        ok += pow_check("AQAAAAAAAAAqAAAAAAAAAAc.AQAAAAAAAAAqAAAAAAAAAAc", "12345", 1);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / 1e5;
    print_message("pow_check: %.3f us each (%d passed)\n", us, ok);
    assert_true(us < 50.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leading_zero_bits),
        cmocka_unit_test(test_solve_and_check),
        cmocka_unit_test(test_malformed_nonces),
        cmocka_unit_test(test_check_is_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
