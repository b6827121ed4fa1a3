/* h_account.c: sign up, sign in, sign out, who am I. */
#include "account.h"
#include "auth.h"
#include "handlers.h"
#include "session_memory.h"

#include <stdlib.h>
#include <string.h>

#define ACCOUNT_PASSWORD_MIN 8
#define ACCOUNT_PASSWORD_MAX 128

static void h_account_failed(struct request *req, struct response *res, enum db_status st)
{
    http_db_failure(req, res, st == DB_OK ? DB_ERROR : st);
}

/* POST /api/users {"email","password","name"}: 201 user; 409 email_taken;
 * 400 invalid_email, invalid_password, invalid_name. */
void h_account_signup(struct request *req, struct response *res)
{
    json_object *body = NULL;
    const char *email = NULL, *password = NULL, *name = NULL;
    struct v_error err;
    char *json = NULL;
    enum db_status st;

    if (!http_body_json(req, res, &body))
        return;
    if (!v_string(body, "email", V_REQUIRED, 3, 254, &email, &err) ||
        !v_string(body, "password", V_REQUIRED, ACCOUNT_PASSWORD_MIN, ACCOUNT_PASSWORD_MAX,
                  &password, &err) ||
        !v_string(body, "name", V_REQUIRED, 1, 200, &name, &err)) {
        http_invalid(res, &err);
        goto done;
    }
    if (!v_is_email(email)) {
        v_fail(&err, "invalid_email", "email must be an address such as ada@example.com");
        http_invalid(res, &err);
        goto done;
    }
    switch (account_create(req->db, email, password, name, req->cfg->password_cost, &json, &st)) {
    case ACCOUNT_OK:
        http_json_text(res, 201, json);
        json = NULL;
        break;
    case ACCOUNT_EMAIL_TAKEN:
        http_error(res, 409, "email_taken", "An account with this e-mail already exists.");
        break;
    default:
        h_account_failed(req, res, st);
        break;
    }
done:
    free(json);
    json_object_put(body);
}

/* POST /api/sessions {"email","password"}: 200 {"token","user"} and the
 * session cookie; 401 bad_credentials. */
void h_account_signin(struct request *req, struct response *res)
{
    json_object *body = NULL;
    const char *email = NULL, *password = NULL;
    struct v_error err;
    char token[ACCOUNT_TOKEN_TEXT];
    char *user = NULL;
    enum db_status st;

    if (!http_body_json(req, res, &body))
        return;
    if (!v_string(body, "email", V_REQUIRED, 1, 254, &email, &err) ||
        !v_string(body, "password", V_REQUIRED, 1, ACCOUNT_PASSWORD_MAX, &password, &err)) {
        http_invalid(res, &err);
        goto done;
    }
    switch (account_signin(req->db, email, password, req->cfg->session_ttl_s, token, &user, &st)) {
    case ACCOUNT_OK: {
        json_object *root = json_object_new_object();
        json_object_object_add(root, "token", json_object_new_string(token));
        json_object_object_add(root, "user", json_tokener_parse(user));
        json_object_object_add(root, "expires_in_s",
                               json_object_new_int(req->cfg->session_ttl_s));
        http_header(res, "Set-Cookie", "%s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s",
                    AUTH_COOKIE, token, req->cfg->session_ttl_s,
                    strcmp(req->cfg->cookie_secure, "yes") == 0 ? "; Secure" : "");
        http_json(res, 200, root);
        break;
    }
    case ACCOUNT_BAD_CREDENTIALS:
        http_error(res, 401, "bad_credentials", "The e-mail or password is not right.");
        break;
    default:
        h_account_failed(req, res, st);
        break;
    }
done:
    free(user);
    json_object_put(body);
}

/* DELETE /api/sessions: 204, the session ends and the cookie is cleared. */
void h_account_signout(struct request *req, struct response *res)
{
    enum db_status st = DB_OK;
    session_memory_forget(req->token_hash);
    if (req->token_hash[0] != '\0' &&
        account_signout(req->db, req->token_hash, &st) != ACCOUNT_OK) {
        h_account_failed(req, res, st);
        return;
    }
    http_header(res, "Set-Cookie", "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax", AUTH_COOKIE);
    http_no_content(res);
}

/* GET /api/me: 200 user; 401. */
void h_account_me(struct request *req, struct response *res)
{
    char *json = NULL;
    enum db_status st;
    if (account_show(req->db, req->user.id, &json, &st) == ACCOUNT_OK)
        http_json_text(res, 200, json);
    else if (st == DB_OK)
        http_error(res, 401, "unauthorized", "Sign in first.");
    else
        h_account_failed(req, res, st);
}
