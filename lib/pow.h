/* pow.h: proof of work on joining the waiting room. The server hands out a
 * challenge (a signed token); the client finds a nonce such that
 * SHA-256(challenge || nonce) starts with k zero bits; checking costs the
 * server one hash. */
#ifndef BOXOFFICE_POW_H
#define BOXOFFICE_POW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POW_MAX_BITS 28  /* about 2^28 hashes: minutes in a browser */
#define POW_NONCE_MAX 64 /* nonce length limit, in characters */

/* Leading zero bits of a 32-byte digest (0..256). */
int pow_leading_zero_bits(const uint8_t digest[32]);

/* Leading zero bits of SHA-256 over the challenge text followed by the
 * nonce text, or -1 when the nonce is empty, longer than POW_NONCE_MAX or
 * has a character outside [A-Za-z0-9_-]. */
int pow_work(const char *challenge, const char *nonce);

/* True when nonce solves challenge at `bits` difficulty (always true for
 * bits <= 0 with a well-formed nonce). */
bool pow_check(const char *challenge, const char *nonce, int bits);

#endif
