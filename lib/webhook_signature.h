/* webhook_signature.h: checks the Stripe-Signature header of a payment
 * provider's webhook against the raw request body and the shared secret. */
#ifndef BOXOFFICE_WEBHOOK_SIGNATURE_H
#define BOXOFFICE_WEBHOOK_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

/* How far a signature's timestamp may be from now, either way, before the
 * event counts as a replay; Stripe's libraries use the same five minutes. */
#define WEBHOOK_SIGNATURE_TOLERANCE_S 300

/* Longest header accepted; a real one is about 150 bytes per signature. */
#define WEBHOOK_SIGNATURE_HEADER_MAX 4096

enum webhook_signature_result {
    WEBHOOK_SIGNATURE_OK = 0,
    WEBHOOK_SIGNATURE_MALFORMED, /* empty, too long, no or bad t=, no v1=, a v1 that is not
                                    64 hex digits, an item without '=' */
    WEBHOOK_SIGNATURE_NO_MATCH,  /* well formed, but no v1 is our HMAC of this body */
    WEBHOOK_SIGNATURE_STALE,     /* a v1 matches, but t is more than tolerance_s from now */
    WEBHOOK_SIGNATURE_ERROR      /* could not check: out of memory */
};

/* Verifies header ("t=<unix seconds>,v1=<hex>[,v1=<hex>...]", other schemes
 * such as v0 ignored) against body (body_len bytes, need not be
 * NUL-terminated) and secret (the whsec_... string, used as is). The
 * expected signature is hex(HMAC-SHA256(secret, t + "." + body)), compared
 * in constant time with every v1. now is the caller's clock in Unix seconds
 * (passed in so tests are deterministic); tolerance_s is usually
 * WEBHOOK_SIGNATURE_TOLERANCE_S. A signature is checked before its age, so
 * STALE is only reported for an authentic old event. Allocates nothing that
 * outlives the call; header and secret NULL count as malformed / no match. */
enum webhook_signature_result webhook_signature_verify(const char *header, const char *body,
                                                       size_t body_len, const char *secret,
                                                       int64_t now, int64_t tolerance_s)
    __attribute__((warn_unused_result));

/* A short lowercase name for logs ("ok", "malformed", "no_match", "stale",
 * "error"). */
const char *webhook_signature_result_name(enum webhook_signature_result result);

#endif
