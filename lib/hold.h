/* hold.h: taking seats for a while, all or nothing, and giving them back. */
#ifndef BOXOFFICE_HOLD_H
#define BOXOFFICE_HOLD_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define HOLD_MAX_SEATS 50
#define HOLD_CATEGORY_MAX 8

enum hold_outcome {
    HOLD_CREATED,
    HOLD_UNAUTHORIZED,
    HOLD_EVENT_NOT_FOUND,
    HOLD_NOT_ON_SALE,
    HOLD_SALE_CLOSED,
    HOLD_UNKNOWN_CATEGORY,
    HOLD_UNKNOWN_SEATS,
    HOLD_LIMIT_EXCEEDED,
    HOLD_SEATS_UNAVAILABLE,
    HOLD_SOLD_OUT,
    HOLD_NOT_ADMITTED, /* the sale uses the waiting room and this user was not admitted */
    HOLD_FAILED /* see *db_status */
};

/* What a buyer asks for: seat ids, or a quantity of best-available seats
 * (category "" for any). */
struct hold_request {
    int64_t event_id;
    int64_t seat_ids[HOLD_MAX_SEATS];
    size_t seat_count; /* 0: best available */
    int quantity;
    char category[HOLD_CATEGORY_MAX + 1];
    /* The user a valid access token for this event was issued to (the
     * caller verified it, lib/token.h), 0 when none was presented. */
    int64_t admitted_user_id;
};

struct hold_result {
    enum hold_outcome outcome;
    char *hold_json;    /* HOLD_CREATED: the hold as the API shows it */
    char *seat_ids_json; /* unavailable or unknown seat ids, as a JSON array */
};

/* Takes the seats in one round trip for the user whose session token
 * digest (hex) is given, checking the sale window and the per-user cap in
 * the same transaction. The caller frees the result's strings with
 * hold_result_free. Returns the database status; on DB_OK read outcome. */
enum db_status hold_create(struct db *db, const char *token_hash_hex,
                           const struct hold_request *request, struct hold_result *result)
    __attribute__((warn_unused_result));

void hold_result_free(struct hold_result *result);

/* The user's hold as JSON (*json NULL when it is not theirs or absent). */
enum db_status hold_show(struct db *db, int64_t user_id, int64_t hold_id, char **json)
    __attribute__((warn_unused_result));

enum hold_release_outcome { HOLD_RELEASED, HOLD_NOT_FOUND, HOLD_ALREADY_DONE };

/* Releases the user's hold; its seats are free at once. */
enum db_status hold_release(struct db *db, int64_t user_id, int64_t hold_id,
                            enum hold_release_outcome *outcome)
    __attribute__((warn_unused_result));

/* Expires up to limit holds past their time; *expired says how many. */
enum db_status hold_sweep(struct db *db, int limit, int *expired)
    __attribute__((warn_unused_result));

#endif
