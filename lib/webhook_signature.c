/* webhook_signature.c: checks the Stripe-Signature header of a payment
 * provider's webhook against the raw request body and the shared secret. */
#include "webhook_signature.h"

#include "crypto.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define WEBHOOK_SIGNATURE_HEX_LEN (2 * CRYPTO_SHA256_LEN)
/* 18 digits keep the value below INT64_MAX without overflow checks. */
#define WEBHOOK_SIGNATURE_T_DIGITS_MAX 18

/* One "key=value" item of the header, pointing into it. */
struct webhook_signature_item {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
};

/* Cuts the next item off *cursor (items are separated by ','). Returns
 * false when the item has no '=' or an empty key. */
static bool webhook_signature_next_item(const char **cursor, struct webhook_signature_item *item)
{
    const char *start = *cursor;
    const char *comma = strchr(start, ',');
    size_t len = comma != NULL ? (size_t)(comma - start) : strlen(start);
    const char *equals = memchr(start, '=', len);

    *cursor = comma != NULL ? comma + 1 : start + len;
    if (equals == NULL || equals == start)
        return false;
    item->key = start;
    item->key_len = (size_t)(equals - start);
    item->value = equals + 1;
    item->value_len = len - item->key_len - 1;
    return true;
}

static bool webhook_signature_key_is(const struct webhook_signature_item *item, const char *key)
{
    return item->key_len == strlen(key) && memcmp(item->key, key, item->key_len) == 0;
}

static bool webhook_signature_parse_t(const struct webhook_signature_item *item, int64_t *out)
{
    int64_t value = 0;
    if (item->value_len == 0 || item->value_len > WEBHOOK_SIGNATURE_T_DIGITS_MAX)
        return false;
    for (size_t i = 0; i < item->value_len; i++) {
        char c = item->value[i];
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + (c - '0');
    }
    *out = value;
    return true;
}

/* Decodes a v1 value (exactly 64 hex digits, either case) into out. */
static bool webhook_signature_parse_v1(const struct webhook_signature_item *item,
                                       uint8_t out[CRYPTO_SHA256_LEN])
{
    char hex[WEBHOOK_SIGNATURE_HEX_LEN + 1];
    if (item->value_len != WEBHOOK_SIGNATURE_HEX_LEN)
        return false;
    memcpy(hex, item->value, WEBHOOK_SIGNATURE_HEX_LEN);
    hex[WEBHOOK_SIGNATURE_HEX_LEN] = '\0';
    return crypto_hex_decode(hex, out, CRYPTO_SHA256_LEN);
}

/* First pass: the header is well formed, has exactly one t and at least
 * one v1. The t item is copied out so the signed payload can be built. */
static bool webhook_signature_parse(const char *header, int64_t *t, const char **t_text,
                                    size_t *t_len)
{
    const char *cursor = header;
    struct webhook_signature_item item;
    bool have_t = false;
    size_t v1_count = 0;
    uint8_t ignored[CRYPTO_SHA256_LEN];

    while (*cursor != '\0') {
        if (!webhook_signature_next_item(&cursor, &item))
            return false;
        if (webhook_signature_key_is(&item, "t")) {
            if (have_t || !webhook_signature_parse_t(&item, t))
                return false;
            have_t = true;
            *t_text = item.value;
            *t_len = item.value_len;
        } else if (webhook_signature_key_is(&item, "v1")) {
            if (!webhook_signature_parse_v1(&item, ignored))
                return false;
            v1_count++;
        }
        /* Other schemes (v0, future ones) are ignored as Stripe advises. */
    }
    /* A trailing ',' leaves an empty last item: not a header Stripe sends. */
    if (cursor != header && cursor[-1] == ',')
        return false;
    return have_t && v1_count > 0;
}

enum webhook_signature_result webhook_signature_verify(const char *header, const char *body,
                                                       size_t body_len, const char *secret,
                                                       int64_t now, int64_t tolerance_s)
{
    enum webhook_signature_result result = WEBHOOK_SIGNATURE_MALFORMED;
    int64_t t = 0;
    const char *t_text = NULL;
    size_t t_len = 0;
    char *payload = NULL;
    size_t payload_len;
    uint8_t expected[CRYPTO_SHA256_LEN];
    uint8_t given[CRYPTO_SHA256_LEN];
    bool matched = false;
    const char *cursor;
    struct webhook_signature_item item;

    if (header == NULL || header[0] == '\0' ||
        strnlen(header, WEBHOOK_SIGNATURE_HEADER_MAX + 1) > WEBHOOK_SIGNATURE_HEADER_MAX)
        goto done;
    if (!webhook_signature_parse(header, &t, &t_text, &t_len))
        goto done;
    result = WEBHOOK_SIGNATURE_NO_MATCH;
    if (secret == NULL || secret[0] == '\0' || (body == NULL && body_len > 0))
        goto done;

    result = WEBHOOK_SIGNATURE_ERROR;
    payload_len = t_len + 1 + body_len;
    payload = malloc(payload_len);
    if (payload == NULL)
        goto done;
    memcpy(payload, t_text, t_len);
    payload[t_len] = '.';
    if (body_len > 0)
        memcpy(payload + t_len + 1, body, body_len);
    crypto_hmac_sha256(secret, strlen(secret), payload, payload_len, expected);

    /* Every v1 is compared, without stopping at a match, so the time taken
     * says nothing about which one matched. */
    cursor = header;
    while (*cursor != '\0') {
        if (webhook_signature_next_item(&cursor, &item) && webhook_signature_key_is(&item, "v1") &&
            webhook_signature_parse_v1(&item, given) &&
            crypto_equal(given, expected, CRYPTO_SHA256_LEN))
            matched = true;
    }
    if (!matched)
        result = WEBHOOK_SIGNATURE_NO_MATCH;
    else if (t < now - tolerance_s || t > now + tolerance_s)
        result = WEBHOOK_SIGNATURE_STALE;
    else
        result = WEBHOOK_SIGNATURE_OK;
done:
    free(payload);
    return result;
}

const char *webhook_signature_result_name(enum webhook_signature_result result)
{
    switch (result) {
    case WEBHOOK_SIGNATURE_OK:
        return "ok";
    case WEBHOOK_SIGNATURE_MALFORMED:
        return "malformed";
    case WEBHOOK_SIGNATURE_NO_MATCH:
        return "no_match";
    case WEBHOOK_SIGNATURE_STALE:
        return "stale";
    case WEBHOOK_SIGNATURE_ERROR:
        return "error";
    }
    return "error";
}
