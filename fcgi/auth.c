/* auth.c: session tokens from the Authorization header or a cookie. */
#include "auth.h"

#include "crypto.h"
#include "session_memory.h"
#include "soldout.h"

#include <string.h>

#define AUTH_TOKEN_MAX 128

static bool auth_token_chars_ok(const char *token, size_t len)
{
    if (len < 16 || len > AUTH_TOKEN_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = token[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

void auth_token_hash(struct request *req)
{
    char token[AUTH_TOKEN_MAX + 1];
    const char *bearer = "Bearer ";
    size_t len = 0;
    uint8_t digest[CRYPTO_SHA256_LEN];

    req->token_hash[0] = '\0';
    if (strncmp(req->authorization, bearer, strlen(bearer)) == 0) {
        const char *t = req->authorization + strlen(bearer);
        len = strlen(t);
        if (len > AUTH_TOKEN_MAX)
            return;
        memcpy(token, t, len + 1);
    } else if (http_cookie(req, AUTH_COOKIE, token, sizeof(token))) {
        len = strlen(token);
    } else {
        return;
    }
    if (!auth_token_chars_ok(token, len))
        return;
    crypto_sha256(token, len, digest);
    crypto_hex_encode(digest, sizeof(digest), req->token_hash);
}

static const struct db_statement auth_session_user = {
    "auth_session_user",
    "SELECT user_id, is_admin FROM session_user_of(decode($1, 'hex'))"};

bool auth_require(struct request *req, struct response *res, bool admin)
{
    struct db_result *r = NULL;
    bool ok = false;

    if (req->token_hash[0] == '\0') {
        http_error(res, 401, "unauthorized", "Sign in first.");
        return false;
    }
    const char *params[] = {req->token_hash};
    enum db_status st = db_run(req->db, &auth_session_user, 1, params, &r);
    if (st != DB_OK) {
        http_db_failure(req, res, st);
        goto done;
    }
    if (db_rows(r) != 1) {
        http_error(res, 401, "unauthorized", "Your session has ended; sign in again.");
        goto done;
    }
    req->user.id = db_int64(r, 0, 0);
    req->user.is_admin = db_bool(r, 0, 1);
    session_memory_remember(req->token_hash, soldout_now_ms(), req->cfg->session_memory_ms);
    if (admin && !req->user.is_admin) {
        http_error(res, 403, "forbidden", "This needs an administrator.");
        goto done;
    }
    ok = true;
done:
    db_result_free(r);
    return ok;
}
