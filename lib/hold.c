/* hold.c: taking seats for a while, all or nothing, and giving them back. */
#include "hold.h"

#include "outcome.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_statement hold_create_stmt = {
    "hold_create",
    "SELECT outcome, hold, array_to_json(seat_ids) FROM hold_create(decode($1, 'hex'), $2, "
    "$3::bigint[], $4::int, $5, $6)"};
static const struct db_statement hold_show_stmt = {
    "hold_show", "SELECT hold_json(id) FROM holds WHERE id = $1 AND user_id = $2"};
static const struct db_statement hold_release_stmt = {"hold_release",
                                                      "SELECT hold_release($1, $2)"};
static const struct db_statement hold_sweep_stmt = {"hold_sweep", "SELECT hold_sweep($1)"};

static const struct {
    const char *name;
    enum hold_outcome outcome;
} hold_outcomes[] = {
    {"created", HOLD_CREATED},
    {"unauthorized", HOLD_UNAUTHORIZED},
    {"event_not_found", HOLD_EVENT_NOT_FOUND},
    {"not_on_sale", HOLD_NOT_ON_SALE},
    {"sale_closed", HOLD_SALE_CLOSED},
    {"unknown_category", HOLD_UNKNOWN_CATEGORY},
    {"unknown_seats", HOLD_UNKNOWN_SEATS},
    {"limit_exceeded", HOLD_LIMIT_EXCEEDED},
    {"seats_unavailable", HOLD_SEATS_UNAVAILABLE},
    {"sold_out", HOLD_SOLD_OUT},
    {"not_admitted", HOLD_NOT_ADMITTED},
};

/* Writes "{1,2,3}" (a PostgreSQL array literal) into out; false if it
 * would not fit. */
static bool hold_array_literal(const int64_t *ids, size_t n, char *out, size_t cap)
{
    size_t len = 0;
    int w = snprintf(out, cap, "{");
    if (w < 0 || (size_t)w >= cap)
        return false;
    len = (size_t)w;
    for (size_t i = 0; i < n; i++) {
        w = snprintf(out + len, cap - len, "%s%lld", i > 0 ? "," : "", (long long)ids[i]);
        if (w < 0 || (size_t)w >= cap - len)
            return false;
        len += (size_t)w;
    }
    w = snprintf(out + len, cap - len, "}");
    return w >= 0 && (size_t)w < cap - len;
}

static char *hold_dup_or_null(const struct db_result *r, int col)
{
    return db_is_null(r, 0, col) ? NULL : strdup(db_text(r, 0, col));
}

enum db_status hold_create(struct db *db, const char *token_hash_hex,
                           const struct hold_request *request, struct hold_result *result)
{
    char event[24];
    char seats[HOLD_MAX_SEATS * 21 + 3];
    char quantity[16];
    char admitted[24];
    struct db_result *r = NULL;
    enum db_status st;

    memset(result, 0, sizeof(*result));
    result->outcome = HOLD_FAILED;
    snprintf(event, sizeof(event), "%lld", (long long)request->event_id);
    snprintf(quantity, sizeof(quantity), "%d", request->quantity);
    snprintf(admitted, sizeof(admitted), "%lld", (long long)request->admitted_user_id);
    if (!hold_array_literal(request->seat_ids, request->seat_count, seats, sizeof(seats)))
        return DB_INVALID_INPUT;
    const char *params[] = {token_hash_hex, event,
                            request->seat_count > 0 ? seats : NULL,
                            request->seat_count > 0 ? NULL : quantity,
                            request->category[0] != '\0' ? request->category : NULL,
                            request->admitted_user_id > 0 ? admitted : NULL};
    st = db_run(db, &hold_create_stmt, 6, params, &r);
    if (st != DB_OK)
        return st;
    if (db_rows(r) != 1) {
        st = DB_ERROR;
        goto done;
    }
    const char *name = db_text(r, 0, 0);
    for (size_t i = 0; i < sizeof(hold_outcomes) / sizeof(hold_outcomes[0]); i++) {
        if (strcmp(name, hold_outcomes[i].name) == 0)
            result->outcome = hold_outcomes[i].outcome;
    }
    result->hold_json = hold_dup_or_null(r, 1);
    result->seat_ids_json = hold_dup_or_null(r, 2);
    if (result->outcome == HOLD_FAILED || (result->outcome == HOLD_CREATED && result->hold_json == NULL))
        st = DB_ERROR;
done:
    db_result_free(r);
    return st;
}

void hold_result_free(struct hold_result *result)
{
    free(result->hold_json);
    free(result->seat_ids_json);
    result->hold_json = NULL;
    result->seat_ids_json = NULL;
}

enum db_status hold_show(struct db *db, int64_t user_id, int64_t hold_id, char **json)
{
    char user[24];
    char hold[24];
    snprintf(user, sizeof(user), "%lld", (long long)user_id);
    snprintf(hold, sizeof(hold), "%lld", (long long)hold_id);
    const char *params[] = {hold, user};
    return outcome_json_query(db, &hold_show_stmt, 2, params, json);
}

enum db_status hold_release(struct db *db, int64_t user_id, int64_t hold_id,
                            enum hold_release_outcome *outcome)
{
    char user[24];
    char hold[24];
    struct db_result *r = NULL;
    snprintf(user, sizeof(user), "%lld", (long long)user_id);
    snprintf(hold, sizeof(hold), "%lld", (long long)hold_id);
    const char *params[] = {user, hold};
    enum db_status st = db_run(db, &hold_release_stmt, 2, params, &r);
    if (st != DB_OK)
        return st;
    const char *text = db_rows(r) == 1 ? db_text(r, 0, 0) : "";
    if (strcmp(text, "released") == 0)
        *outcome = HOLD_RELEASED;
    else if (strcmp(text, "already_done") == 0)
        *outcome = HOLD_ALREADY_DONE;
    else
        *outcome = HOLD_NOT_FOUND;
    db_result_free(r);
    return DB_OK;
}

enum db_status hold_sweep(struct db *db, int limit, int *expired)
{
    char text[16];
    struct db_result *r = NULL;
    snprintf(text, sizeof(text), "%d", limit);
    const char *params[] = {text};
    *expired = 0;
    enum db_status st = db_run(db, &hold_sweep_stmt, 1, params, &r);
    if (st == DB_OK && db_rows(r) == 1)
        *expired = (int)db_int64(r, 0, 0);
    db_result_free(r);
    return st;
}
