/* password.h: slow salted password hashes (yescrypt through libxcrypt). */
#ifndef BOXOFFICE_PASSWORD_H
#define BOXOFFICE_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_HASH_MAX 128

/* Hashes password with a fresh random salt at the given yescrypt cost
 * (1..11) into out (PASSWORD_HASH_MAX bytes). False if the system could not
 * produce a salt or a hash; out is then empty. */
bool password_hash(const char *password, int cost, char out[PASSWORD_HASH_MAX])
    __attribute__((warn_unused_result));

/* True when password matches the stored hash; false on mismatch or a
 * malformed hash. Takes about as long either way. */
bool password_verify(const char *password, const char *stored_hash);

#endif
