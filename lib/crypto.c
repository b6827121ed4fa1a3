/* crypto.c: hashes, HMAC, random bytes and their text encodings (OpenSSL). */
#include "crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>

bool crypto_random_bytes(void *buf, size_t n)
{
    return RAND_bytes(buf, (int)n) == 1;
}

static EVP_MD *crypto_sha256_fetched;

static void crypto_sha256_fetch(void)
{
    crypto_sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* SHA-256 fetched once per process and never changed after: with
 * EVP_sha256() OpenSSL 3 looks the algorithm up again on every digest
 * (a name lookup under a lock, allocations), which cost several times
 * the hashing of a session token. When the fetch failed, the implicit
 * lookup still works. */
static const EVP_MD *crypto_sha256_md(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, crypto_sha256_fetch);
    return crypto_sha256_fetched != NULL ? crypto_sha256_fetched : EVP_sha256();
}

void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN])
{
    unsigned int out_len = CRYPTO_SHA256_LEN;
    EVP_Digest(data, len, out, &out_len, crypto_sha256_md(), NULL);
}

void crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                        uint8_t out[CRYPTO_SHA256_LEN])
{
    unsigned int out_len = CRYPTO_SHA256_LEN;
    HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len);
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void crypto_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

int crypto_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool crypto_hex_decode(const char *in, uint8_t *out, size_t out_len)
{
    if (strlen(in) != 2 * out_len)
        return false;
    for (size_t i = 0; i < out_len; i++) {
        int hi = crypto_hex_value(in[2 * i]);
        int lo = crypto_hex_value(in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static const char base64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t crypto_base64url_len(size_t len)
{
    return (len / 3) * 4 + (len % 3 == 0 ? 0 : len % 3 + 1);
}

void crypto_base64url_encode(const uint8_t *in, size_t len, char *out)
{
    size_t o = 0;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = base64url_alphabet[v >> 18 & 63];
        out[o++] = base64url_alphabet[v >> 12 & 63];
        out[o++] = base64url_alphabet[v >> 6 & 63];
        out[o++] = base64url_alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = base64url_alphabet[v >> 18 & 63];
        out[o++] = base64url_alphabet[v >> 12 & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = base64url_alphabet[v >> 18 & 63];
        out[o++] = base64url_alphabet[v >> 12 & 63];
        out[o++] = base64url_alphabet[v >> 6 & 63];
    }
    out[o] = '\0';
}

static int crypto_base64url_value(char c)
{
    const char *p = c != '\0' ? strchr(base64url_alphabet, c) : NULL;
    return p == NULL ? -1 : (int)(p - base64url_alphabet);
}

long crypto_base64url_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    if (in_len % 4 == 1)
        return -1;
    for (size_t i = 0; i < in_len; i++) {
        int v = crypto_base64url_value(in[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= out_cap)
                return -1;
            out[o++] = (uint8_t)(acc >> bits & 0xff);
        }
    }
    /* Leftover bits must be zero, so each byte string has one encoding. */
    if ((acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (long)o;
}
