/* token.c: signed waiting-room tokens: base64url(claims) "." base64url(HMAC). */
#include "token.h"

#include "crypto.h"

#include <string.h>
#include <time.h>

/* kind, then five big-endian 64-bit integers. */
#define TOKEN_CLAIMS_LEN (1 + 5 * 8)
#define TOKEN_VERSION 1

static void token_put64(uint8_t *out, int64_t value)
{
    uint64_t v = (uint64_t)value;
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static int64_t token_get64(const uint8_t *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | in[i];
    return (int64_t)v;
}

static void token_encode_claims(const struct token_claims *c, uint8_t out[TOKEN_CLAIMS_LEN])
{
    /* The version shares the first byte with the kind: a new layout makes
     * old tokens fail to verify instead of being misread. */
    out[0] = (uint8_t)((TOKEN_VERSION << 4) | ((unsigned)c->kind & 0x0f));
    token_put64(out + 1, c->event_id);
    token_put64(out + 9, c->user_id);
    token_put64(out + 17, c->position);
    token_put64(out + 25, c->issued_at_ms);
    token_put64(out + 33, c->expires_at_ms);
}

bool token_sign(const char *secret, const struct token_claims *claims, char *out, size_t cap)
{
    uint8_t raw[TOKEN_CLAIMS_LEN];
    uint8_t mac[CRYPTO_SHA256_LEN];
    size_t claims_len = crypto_base64url_len(sizeof(raw));
    size_t mac_len = crypto_base64url_len(sizeof(mac));

    if (secret == NULL || secret[0] == '\0' || cap < claims_len + 1 + mac_len + 1)
        return false;
    token_encode_claims(claims, raw);
    crypto_hmac_sha256(secret, strlen(secret), raw, sizeof(raw), mac);
    crypto_base64url_encode(raw, sizeof(raw), out);
    out[claims_len] = '.';
    crypto_base64url_encode(mac, sizeof(mac), out + claims_len + 1);
    return true;
}

enum token_status token_verify(const char *secret, const char *text, enum token_kind kind,
                               int64_t now_ms, int64_t event_id, int64_t user_id,
                               struct token_claims *claims)
{
    uint8_t raw[TOKEN_CLAIMS_LEN + 1];
    uint8_t mac[CRYPTO_SHA256_LEN + 1];
    uint8_t expected[CRYPTO_SHA256_LEN];

    if (secret == NULL || secret[0] == '\0' || text == NULL)
        return TOKEN_MALFORMED;
    size_t len = strnlen(text, TOKEN_TEXT_MAX);
    const char *dot = memchr(text, '.', len);
    if (len >= TOKEN_TEXT_MAX || dot == NULL)
        return TOKEN_MALFORMED;
    size_t claims_text = (size_t)(dot - text);
    if (crypto_base64url_decode(text, claims_text, raw, sizeof(raw)) != TOKEN_CLAIMS_LEN ||
        crypto_base64url_decode(dot + 1, len - claims_text - 1, mac, sizeof(mac)) !=
            CRYPTO_SHA256_LEN)
        return TOKEN_MALFORMED;
    crypto_hmac_sha256(secret, strlen(secret), raw, TOKEN_CLAIMS_LEN, expected);
    if (!crypto_equal(expected, mac, CRYPTO_SHA256_LEN))
        return TOKEN_BAD_SIGNATURE;
    if ((raw[0] >> 4) != TOKEN_VERSION)
        return TOKEN_MALFORMED;
    claims->kind = (enum token_kind)(raw[0] & 0x0f);
    claims->event_id = token_get64(raw + 1);
    claims->user_id = token_get64(raw + 9);
    claims->position = token_get64(raw + 17);
    claims->issued_at_ms = token_get64(raw + 25);
    claims->expires_at_ms = token_get64(raw + 33);
    if (claims->kind != kind)
        return TOKEN_WRONG_KIND;
    if (now_ms >= claims->expires_at_ms)
        return TOKEN_EXPIRED;
    if (claims->event_id != event_id)
        return TOKEN_WRONG_EVENT;
    if (user_id != 0 && claims->user_id != user_id)
        return TOKEN_WRONG_USER;
    return TOKEN_OK;
}

int64_t token_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
