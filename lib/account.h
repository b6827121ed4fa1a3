/* account.h: users, passwords and sessions. */
#ifndef BOXOFFICE_ACCOUNT_H
#define BOXOFFICE_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"

/* 256 random bits as unpadded base64url, plus NUL. */
#define ACCOUNT_TOKEN_TEXT 44

enum account_outcome {
    ACCOUNT_OK,
    ACCOUNT_EMAIL_TAKEN,
    ACCOUNT_BAD_CREDENTIALS,
    ACCOUNT_NOT_FOUND,
    ACCOUNT_FAILED /* see *db_status: database unreachable or failing, or no entropy */
};

/* Creates a user with a freshly salted hash of password. On ACCOUNT_OK
 * *user_json is the user as the API shows it (malloc'd, caller frees). */
enum account_outcome account_create(struct db *db, const char *email, const char *password,
                                    const char *name, int cost, char **user_json,
                                    enum db_status *db_status)
    __attribute__((warn_unused_result));

/* Checks email and password; on success opens a session of ttl_s seconds,
 * writes its token into token and the user into *user_json. A wrong email
 * and a wrong password take the same time and give the same answer. */
enum account_outcome account_signin(struct db *db, const char *email, const char *password,
                                    int ttl_s, char token[ACCOUNT_TOKEN_TEXT], char **user_json,
                                    enum db_status *db_status)
    __attribute__((warn_unused_result));

/* Ends the session whose token digest (hex) is given; ACCOUNT_OK whether or
 * not it existed. */
enum account_outcome account_signout(struct db *db, const char *token_hash_hex,
                                     enum db_status *db_status)
    __attribute__((warn_unused_result));

/* The user as the API shows it. */
enum account_outcome account_show(struct db *db, int64_t user_id, char **user_json,
                                  enum db_status *db_status) __attribute__((warn_unused_result));

/* Creates the admin user or, when it exists, makes it an admin and sets its
 * password. For the admin command line. */
enum account_outcome account_ensure_admin(struct db *db, const char *email, const char *name,
                                          const char *password, int cost,
                                          enum db_status *db_status)
    __attribute__((warn_unused_result));

#endif
