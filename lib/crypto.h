/* crypto.h: hashes, HMAC, random bytes and their text encodings (OpenSSL). */
#ifndef BOXOFFICE_CRYPTO_H
#define BOXOFFICE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32

/* Fills buf with n bytes from the operating system's CSPRNG; false if it
 * could not (buf is then unspecified and must not be used). */
bool crypto_random_bytes(void *buf, size_t n) __attribute__((warn_unused_result));

void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN]);

void crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                        uint8_t out[CRYPTO_SHA256_LEN]);

/* Compares n bytes in time that does not depend on where they differ. */
bool crypto_equal(const void *a, const void *b, size_t n);

/* Writes 2*len lowercase hex digits and a NUL into out (2*len+1 bytes). */
void crypto_hex_encode(const uint8_t *in, size_t len, char *out);

/* The value of one hex digit (either case), or -1 for any other byte. */
int crypto_hex_value(char c);

/* Decodes exactly 2*out_len hex digits from in; false on any other input. */
bool crypto_hex_decode(const char *in, uint8_t *out, size_t out_len);

/* Unpadded base64url. Encode writes a NUL-terminated string and needs
 * crypto_base64url_len(len)+1 bytes. Decode returns the decoded length or -1
 * for invalid input or when it would not fit in out_cap. */
size_t crypto_base64url_len(size_t len);
void crypto_base64url_encode(const uint8_t *in, size_t len, char *out);
long crypto_base64url_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap);

#endif
