/* account.c: users, passwords and sessions. */
#include "account.h"

#include "crypto.h"
#include "outcome.h"
#include "password.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_statement account_insert = {
    "account_insert",
    "INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) "
    "RETURNING json_build_object('id', id, 'email', email, 'name', name, 'is_admin', is_admin, "
    "'created_at', created_at)"};

static const struct db_statement account_by_email = {
    "account_by_email", "SELECT id, password_hash FROM users WHERE lower(email) = lower($1)"};

static const struct db_statement account_session_insert = {
    "account_session_insert",
    "INSERT INTO sessions (token_hash, user_id, expires_at) "
    "VALUES (decode($1, 'hex'), $2, now() + make_interval(secs => $3::int)) "
    "RETURNING user_json(user_id)"};

static const struct db_statement account_session_delete = {
    "account_session_delete", "DELETE FROM sessions WHERE token_hash = decode($1, 'hex')"};

static const struct db_statement account_user_json = {"account_user_json",
                                                      "SELECT user_json($1)"};

static const struct db_statement account_admin_upsert = {
    "account_admin_upsert",
    "INSERT INTO users (email, name, password_hash, is_admin) VALUES ($1, $2, $3, true) "
    "ON CONFLICT ((lower(email))) DO UPDATE SET password_hash = excluded.password_hash, "
    "is_admin = true"};

/* A valid hash of a random password, verified when the e-mail is unknown
 * so that the answer takes as long as for a known one. */
static const char *account_decoy_hash(int cost)
{
    static char decoy[PASSWORD_HASH_MAX];
    if (decoy[0] == '\0' && !password_hash("decoy password", cost, decoy))
        return NULL;
    return decoy;
}

enum account_outcome account_create(struct db *db, const char *email, const char *password,
                                    const char *name, int cost, char **user_json,
                                    enum db_status *db_status)
{
    char hash[PASSWORD_HASH_MAX];
    *user_json = NULL;
    *db_status = DB_OK;
    if (!password_hash(password, cost, hash)) {
        *db_status = DB_ERROR;
        return ACCOUNT_FAILED;
    }
    const char *params[] = {email, name, hash};
    *db_status = outcome_json_query(db, &account_insert, 3, params, user_json);
    if (*db_status == DB_UNIQUE)
        return ACCOUNT_EMAIL_TAKEN;
    return *db_status == DB_OK && *user_json != NULL ? ACCOUNT_OK : ACCOUNT_FAILED;
}

enum account_outcome account_signin(struct db *db, const char *email, const char *password,
                                    int ttl_s, char token[ACCOUNT_TOKEN_TEXT], char **user_json,
                                    enum db_status *db_status)
{
    struct db_result *r = NULL;
    enum account_outcome outcome = ACCOUNT_FAILED;
    uint8_t raw[32];
    uint8_t digest[CRYPTO_SHA256_LEN];
    char digest_hex[2 * CRYPTO_SHA256_LEN + 1];
    char user_id[24];
    char ttl[16];

    *user_json = NULL;
    token[0] = '\0';
    const char *lookup[] = {email};
    *db_status = db_run(db, &account_by_email, 1, lookup, &r);
    if (*db_status != DB_OK)
        goto done;
    if (db_rows(r) != 1) {
        const char *decoy = account_decoy_hash(5);
        if (decoy != NULL)
            password_verify(password, decoy);
        outcome = ACCOUNT_BAD_CREDENTIALS;
        goto done;
    }
    if (!password_verify(password, db_text(r, 0, 1))) {
        outcome = ACCOUNT_BAD_CREDENTIALS;
        goto done;
    }
    snprintf(user_id, sizeof(user_id), "%s", db_text(r, 0, 0));
    if (!crypto_random_bytes(raw, sizeof(raw))) {
        *db_status = DB_ERROR;
        goto done;
    }
    crypto_base64url_encode(raw, sizeof(raw), token);
    crypto_sha256(token, strlen(token), digest);
    crypto_hex_encode(digest, sizeof(digest), digest_hex);
    snprintf(ttl, sizeof(ttl), "%d", ttl_s);
    const char *insert[] = {digest_hex, user_id, ttl};
    *db_status = outcome_json_query(db, &account_session_insert, 3, insert, user_json);
    if (*db_status == DB_OK && *user_json != NULL)
        outcome = ACCOUNT_OK;
done:
    if (outcome != ACCOUNT_OK)
        token[0] = '\0';
    db_result_free(r);
    return outcome;
}

enum account_outcome account_signout(struct db *db, const char *token_hash_hex,
                                     enum db_status *db_status)
{
    const char *params[] = {token_hash_hex};
    *db_status = db_run(db, &account_session_delete, 1, params, NULL);
    return *db_status == DB_OK ? ACCOUNT_OK : ACCOUNT_FAILED;
}

enum account_outcome account_show(struct db *db, int64_t user_id, char **user_json,
                                  enum db_status *db_status)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)user_id);
    const char *params[] = {id};
    *db_status = outcome_json_query(db, &account_user_json, 1, params, user_json);
    if (*db_status != DB_OK)
        return ACCOUNT_FAILED;
    return *user_json != NULL ? ACCOUNT_OK : ACCOUNT_NOT_FOUND;
}

enum account_outcome account_ensure_admin(struct db *db, const char *email, const char *name,
                                          const char *password, int cost,
                                          enum db_status *db_status)
{
    char hash[PASSWORD_HASH_MAX];
    if (!password_hash(password, cost, hash)) {
        *db_status = DB_ERROR;
        return ACCOUNT_FAILED;
    }
    const char *params[] = {email, name, hash};
    *db_status = db_run(db, &account_admin_upsert, 3, params, NULL);
    return *db_status == DB_OK ? ACCOUNT_OK : ACCOUNT_FAILED;
}
