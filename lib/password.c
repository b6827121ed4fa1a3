/* password.c: slow salted password hashes (yescrypt through libxcrypt).
 * Hashing runs in the web worker, not in PostgreSQL, so that sign-ins under
 * load spend application CPU rather than the database's. */
#include "password.h"

#include "crypto.h"

#include <crypt.h>
#include <string.h>

bool password_hash(const char *password, int cost, char out[PASSWORD_HASH_MAX])
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    char entropy[32];
    struct crypt_data data;

    out[0] = '\0';
    if (!crypto_random_bytes(entropy, sizeof(entropy)))
        return false;
    if (crypt_gensalt_rn("$y$", (unsigned long)cost, entropy, sizeof(entropy), salt,
                         sizeof(salt)) == NULL)
        return false;
    memset(&data, 0, sizeof(data));
    const char *hash = crypt_r(password, salt, &data);
    if (hash == NULL || hash[0] == '*' || strlen(hash) >= PASSWORD_HASH_MAX)
        return false;
    memcpy(out, hash, strlen(hash) + 1);
    return true;
}

bool password_verify(const char *password, const char *stored_hash)
{
    struct crypt_data data;
    memset(&data, 0, sizeof(data));
    const char *hash = crypt_r(password, stored_hash, &data);
    size_t len = strlen(stored_hash);
    if (hash == NULL || hash[0] == '*' || strlen(hash) != len)
        return false;
    return crypto_equal(hash, stored_hash, len);
}
