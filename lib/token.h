/* token.h: signed tokens for the waiting room: a place in line, an
 * admission, a proof-of-work challenge. The claims travel in the token and
 * an HMAC-SHA256 under the token secret vouches for them, so any process
 * holding the secret verifies a token without a database read. */
#ifndef BOXOFFICE_TOKEN_H
#define BOXOFFICE_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for any token's text and its NUL (the text is 100 characters). */
#define TOKEN_TEXT_MAX 128

/* The kind is signed with the claims: a token of one kind is never
 * accepted as another. */
enum token_kind {
    TOKEN_QUEUE = 1,     /* a place in line: position 0 while in the pre-queue */
    TOKEN_ACCESS = 2,    /* admitted: may hold seats until expires_at */
    TOKEN_CHALLENGE = 3, /* proof-of-work challenge; position is a random nonce */
};

struct token_claims {
    enum token_kind kind;
    int64_t event_id;
    int64_t user_id;
    int64_t position;
    int64_t issued_at_ms;  /* Unix time in milliseconds */
    int64_t expires_at_ms; /* Unix time in milliseconds */
};

enum token_status {
    TOKEN_OK,
    TOKEN_MALFORMED,     /* not a token of ours, or too long */
    TOKEN_BAD_SIGNATURE, /* forged or altered, or signed under another secret */
    TOKEN_WRONG_KIND,
    TOKEN_EXPIRED,
    TOKEN_WRONG_EVENT,
    TOKEN_WRONG_USER,
};

/* Writes the token for claims into out (cap bytes, at least
 * TOKEN_TEXT_MAX). Returns false, out unspecified, when cap is too small
 * or the secret is empty. */
bool token_sign(const char *secret, const struct token_claims *claims, char *out, size_t cap)
    __attribute__((warn_unused_result));

/* Checks text's signature under secret, then that it is of kind `kind`,
 * not expired at now_ms, for event_id, and (when user_id is not 0) for
 * user_id, in that order. On TOKEN_OK fills *claims; on any other status
 * *claims is unspecified. Compares the signature in constant time. */
enum token_status token_verify(const char *secret, const char *text, enum token_kind kind,
                               int64_t now_ms, int64_t event_id, int64_t user_id,
                               struct token_claims *claims) __attribute__((warn_unused_result));

/* The current Unix time in milliseconds. */
int64_t token_now_ms(void);

#endif
