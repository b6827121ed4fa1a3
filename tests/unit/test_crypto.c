/* test_crypto.c: known vectors for hashes and encodings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "crypto.h"
#include "password.h"

static void test_sha256_and_hmac_vectors(void **state)
{
    (void)state;
    uint8_t out[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];
    crypto_sha256("abc", 3, out);
    crypto_hex_encode(out, sizeof(out), hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *msg = "The quick brown fox jumps over the lazy dog";
    crypto_hmac_sha256("key", 3, msg, strlen(msg), out);
    crypto_hex_encode(out, sizeof(out), hex);
    assert_string_equal(hex, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

static void test_hex_round_trip_and_rejects(void **state)
{
    (void)state;
    uint8_t in[4] = {0x00, 0x7f, 0x80, 0xff};
    uint8_t out[4];
    char hex[9];
    crypto_hex_encode(in, 4, hex);
    assert_string_equal(hex, "007f80ff");
    assert_true(crypto_hex_decode("007F80ff", out, 4));
    assert_memory_equal(in, out, 4);
    assert_false(crypto_hex_decode("007f80f", out, 4));
    assert_false(crypto_hex_decode("007f80fg", out, 4));
    assert_false(crypto_hex_decode("007f80ff00", out, 4));
}

static void test_base64url(void **state)
{
    (void)state;
    static const struct {
        const char *raw, *encoded;
    } cases[] = {
        {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"},
        {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char enc[32];
        uint8_t dec[32];
        size_t len = strlen(cases[i].raw);
        crypto_base64url_encode((const uint8_t *)cases[i].raw, len, enc);
        assert_string_equal(enc, cases[i].encoded);
        assert_int_equal(crypto_base64url_len(len), strlen(cases[i].encoded));
        long n = crypto_base64url_decode(enc, strlen(enc), dec, sizeof(dec));
        assert_int_equal(n, (long)len);
        assert_memory_equal(dec, cases[i].raw, len);
    }
    uint8_t dec[8];
    assert_int_equal(crypto_base64url_decode("Zm9v+", 5, dec, sizeof(dec)), -1);
    assert_int_equal(crypto_base64url_decode("Z", 1, dec, sizeof(dec)), -1);
    assert_int_equal(crypto_base64url_decode("Zh", 2, dec, sizeof(dec)), -1);
    assert_int_equal(crypto_base64url_decode("Zm9vYmFy", 8, dec, 2), -1);
}

static void test_equal_and_random(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    assert_true(crypto_random_bytes(a, sizeof(a)));
    assert_true(crypto_random_bytes(b, sizeof(b)));
    assert_false(crypto_equal(a, b, sizeof(a)));
    memcpy(b, a, sizeof(a));
    assert_true(crypto_equal(a, b, sizeof(a)));
}

static void test_password_hash_and_verify(void **state)
{
    (void)state;
    char hash[PASSWORD_HASH_MAX];
    char other[PASSWORD_HASH_MAX];
    assert_true(password_hash("correct horse", 1, hash));
    assert_true(password_hash("correct horse", 1, other));
    assert_string_not_equal(hash, other); /* fresh salt each time */
    assert_memory_equal(hash, "$y$", 3);
    assert_true(password_verify("correct horse", hash));
    assert_false(password_verify("correct horsf", hash));
    assert_false(password_verify("correct horse", "not a hash"));
    assert_false(password_verify("correct horse", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_and_hmac_vectors),
        cmocka_unit_test(test_hex_round_trip_and_rejects),
        cmocka_unit_test(test_base64url),
        cmocka_unit_test(test_equal_and_random),
        cmocka_unit_test(test_password_hash_and_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
