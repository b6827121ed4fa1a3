/* auth.h: who is asking: the session token from `Authorization: Bearer` or
 * the session cookie, and the user behind it. */
#ifndef BOXOFFICE_AUTH_H
#define BOXOFFICE_AUTH_H

#include "http.h"

#define AUTH_COOKIE "bo_session"

/* Fills req->token_hash with the hex SHA-256 of the presented token, or ""
 * when none (or a malformed one) was presented. No database access. */
void auth_token_hash(struct request *req);

/* Resolves req->token_hash to req->user. Returns false with res filled:
 * 401 without a live session, 403 when admin is needed and the user is
 * not one, 503 when the database is down. */
bool auth_require(struct request *req, struct response *res, bool admin);

#endif
