/* pow.c: checking proof-of-work nonces. */
#include "pow.h"

#include "crypto.h"

#include <string.h>

int pow_leading_zero_bits(const uint8_t digest[32])
{
    int bits = 0;
    for (int i = 0; i < 32; i++) {
        if (digest[i] == 0) {
            bits += 8;
            continue;
        }
        for (int mask = 0x80; (digest[i] & mask) == 0; mask >>= 1)
            bits++;
        break;
    }
    return bits;
}

int pow_work(const char *challenge, const char *nonce)
{
    char buf[256 + POW_NONCE_MAX];
    uint8_t digest[CRYPTO_SHA256_LEN];
    size_t c_len = strnlen(challenge, 256);
    size_t n_len = strnlen(nonce, POW_NONCE_MAX + 1);

    if (c_len >= 256 || n_len == 0 || n_len > POW_NONCE_MAX)
        return -1;
    for (size_t i = 0; i < n_len; i++) {
        char c = nonce[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok)
            return -1;
    }
    memcpy(buf, challenge, c_len);
    memcpy(buf + c_len, nonce, n_len);
    crypto_sha256(buf, c_len + n_len, digest);
    return pow_leading_zero_bits(digest);
}

bool pow_check(const char *challenge, const char *nonce, int bits)
{
    int work = pow_work(challenge, nonce);
    return work >= 0 && work >= bits;
}
