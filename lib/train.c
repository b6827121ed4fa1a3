/* train.c: trains: search, bookings, cancellation, charts and import over
 * the SQL functions of sql/functions/050_trains.sql. */
#include "train.h"

#include "log.h"
#include "outcome.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_statement train_book_stmt = {
    "train_book", "SELECT outcome, booking FROM train_book($1, $2, $3::date, $4, $5, $6, $7, "
                  "$8::jsonb)"};
static const struct db_statement train_pnr_stmt = {"train_pnr", "SELECT train_pnr_json($1, $2)"};
static const struct db_statement train_cancel_stmt = {
    "train_cancel", "SELECT outcome, booking, hold_id FROM train_cancel($1, $2)"};
static const struct db_statement train_search_stmt = {"train_search",
                                                      "SELECT train_search_json($1, $2, $3::date)"};
static const struct db_statement train_run_stmt = {"train_run",
                                                   "SELECT train_run_json($1, $2::date)"};
static const struct db_statement train_stations_stmt = {"train_stations",
                                                        "SELECT train_stations_json($1, $2)"};
static const struct db_statement train_import_stmt = {"train_import",
                                                      "SELECT train_import($1::jsonb, $2::jsonb)"};
static const struct db_statement train_import_body_stmt = {
    "train_import_body", "SELECT train_import(b->'stations', b->'trains') "
                         "FROM (SELECT $1::jsonb AS b) x"};
static const struct db_statement train_sweep_stmt = {"train_sweep", "SELECT train_sweep($1)"};
static const struct db_statement train_charts_stmt = {
    "train_charts", "SELECT run_id, hold_id, refunded, amount, order_id, outcome "
                    "FROM train_prepare_charts($1)"};
static const struct db_statement train_set_coaches_stmt = {
    "train_set_coaches", "SELECT outcome, run FROM train_set_run_coaches($1, $2::date, $3, $4)"};
static const struct db_statement train_extend_stmt = {"train_extend", "SELECT train_extend_runs()"};

static const char *const train_classes[] = {"1A", "2A", "3A", "SL", "CC", "2S"};
static const char *const train_quotas[] = {"GN", "TQ", "LD"};
static const char *const train_berth_types[] = {"LB", "MB", "UB", "SL", "SU", "WS", "MS", "AS"};

static bool train_in(const char *text, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(text, set[i]) == 0)
            return true;
    }
    return false;
}

static bool train_upper_alnum(const char *text, size_t max_len)
{
    size_t n = strlen(text);
    if (n == 0 || n > max_len)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

bool train_number_valid(const char *text)
{
    return train_upper_alnum(text, TRAIN_NUMBER_MAX);
}

bool train_station_valid(const char *text)
{
    return train_upper_alnum(text, TRAIN_STATION_MAX);
}

bool train_pnr_valid(const char *text)
{
    if (strlen(text) != TRAIN_PNR_LEN)
        return false;
    for (size_t i = 0; i < TRAIN_PNR_LEN; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
    }
    return true;
}

static bool train_blank(const char *text)
{
    for (; *text != '\0'; text++) {
        if (*text != ' ' && *text != '\t')
            return false;
    }
    return true;
}

static bool train_passenger_parse(json_object *item, struct train_passenger *out,
                                  struct v_error *err)
{
    const char *name = NULL, *gender = NULL, *pref = NULL;
    int64_t age = 0;
    if (!json_object_is_type(item, json_type_object))
        return v_fail(err, "invalid_passengers", "each passenger must be an object");
    if (!v_string(item, "name", V_REQUIRED, 1, TRAIN_NAME_MAX, &name, err) ||
        !v_int(item, "age", V_REQUIRED, 1, 125, &age, err) ||
        !v_string(item, "gender", V_REQUIRED, 1, 1, &gender, err) ||
        !v_string(item, "berth_preference", V_OPTIONAL, 0, 2, &pref, err))
        return false;
    if (train_blank(name))
        return v_fail(err, "invalid_name", "a passenger's name must not be blank");
    if (strcmp(gender, "M") != 0 && strcmp(gender, "F") != 0 && strcmp(gender, "T") != 0)
        return v_fail(err, "invalid_gender", "gender is M, F or T");
    if (pref != NULL && pref[0] != '\0' &&
        !train_in(pref, train_berth_types,
                  sizeof(train_berth_types) / sizeof(train_berth_types[0])))
        return v_fail(err, "invalid_berth_preference",
                      "berth_preference is one of LB MB UB SL SU WS MS AS");
    snprintf(out->name, sizeof(out->name), "%s", name);
    out->age = (int)age;
    snprintf(out->gender, sizeof(out->gender), "%s", gender);
    snprintf(out->berth_preference, sizeof(out->berth_preference), "%s", pref != NULL ? pref : "");
    return true;
}

bool train_booking_parse(json_object *body, struct train_booking_request *out, struct v_error *err)
{
    const char *from = NULL, *to = NULL, *class_code = NULL, *quota = NULL;
    json_object *passengers = NULL;
    if (!v_string(body, "from", V_REQUIRED, 1, TRAIN_STATION_MAX, &from, err) ||
        !v_string(body, "to", V_REQUIRED, 1, TRAIN_STATION_MAX, &to, err) ||
        !v_string(body, "class", V_REQUIRED, 1, 2, &class_code, err) ||
        !v_string(body, "quota", V_OPTIONAL, 1, 2, &quota, err))
        return false;
    if (!train_station_valid(from))
        return v_fail(err, "invalid_from", "from is a station code (uppercase letters, digits)");
    if (!train_station_valid(to))
        return v_fail(err, "invalid_to", "to is a station code (uppercase letters, digits)");
    if (strcmp(from, to) == 0)
        return v_fail(err, "invalid_to", "from and to must be different stations");
    if (!train_in(class_code, train_classes, sizeof(train_classes) / sizeof(train_classes[0])))
        return v_fail(err, "invalid_class", "class is one of 1A 2A 3A SL CC 2S");
    if (quota != NULL &&
        !train_in(quota, train_quotas, sizeof(train_quotas) / sizeof(train_quotas[0])))
        return v_fail(err, "invalid_quota", "quota is one of GN TQ LD");
    if (!v_array(body, "passengers", V_REQUIRED, 1, TRAIN_MAX_PASSENGERS, &passengers, err))
        return v_fail(err, "invalid_passengers", "send 1 to %d passengers", TRAIN_MAX_PASSENGERS);
    snprintf(out->from, sizeof(out->from), "%s", from);
    snprintf(out->to, sizeof(out->to), "%s", to);
    snprintf(out->class_code, sizeof(out->class_code), "%s", class_code);
    snprintf(out->quota, sizeof(out->quota), "%s", quota != NULL ? quota : "GN");
    out->count = json_object_array_length(passengers);
    for (size_t i = 0; i < out->count; i++) {
        if (!train_passenger_parse(json_object_array_get_idx(passengers, i), &out->passengers[i],
                                   err))
            return false;
    }
    return true;
}

/* The passengers as the JSON array train_book takes; NULL when out of
 * memory. The caller frees. */
static char *train_passengers_json(const struct train_booking_request *req)
{
    json_object *array = json_object_new_array();
    char *text = NULL;
    if (array == NULL)
        return NULL;
    for (size_t i = 0; i < req->count; i++) {
        const struct train_passenger *p = &req->passengers[i];
        json_object *item = json_object_new_object();
        json_object_object_add(item, "name", json_object_new_string(p->name));
        json_object_object_add(item, "age", json_object_new_int(p->age));
        json_object_object_add(item, "gender", json_object_new_string(p->gender));
        json_object_object_add(item, "berth_preference",
                               json_object_new_string(p->berth_preference));
        json_object_array_add(array, item);
    }
    const char *s = json_object_to_json_string_ext(array, JSON_C_TO_STRING_PLAIN);
    if (s != NULL)
        text = strdup(s);
    json_object_put(array);
    return text;
}

static const struct {
    const char *name;
    enum train_book_outcome outcome;
} train_book_outcomes[] = {
    {"created", TRAIN_BOOK_CREATED},
    {"train_not_found", TRAIN_BOOK_TRAIN_NOT_FOUND},
    {"run_not_found", TRAIN_BOOK_RUN_NOT_FOUND},
    {"unknown_station", TRAIN_BOOK_UNKNOWN_STATION},
    {"station_not_on_route", TRAIN_BOOK_NOT_ON_ROUTE},
    {"wrong_direction", TRAIN_BOOK_WRONG_DIRECTION},
    {"unknown_class", TRAIN_BOOK_UNKNOWN_CLASS},
    {"no_quota", TRAIN_BOOK_NO_QUOTA},
    {"booking_not_open", TRAIN_BOOK_NOT_OPEN},
    {"tatkal_not_open", TRAIN_BOOK_TATKAL_NOT_OPEN},
    {"booking_closed", TRAIN_BOOK_CLOSED},
    {"tatkal_limit", TRAIN_BOOK_TATKAL_LIMIT},
    {"ladies_only", TRAIN_BOOK_LADIES_ONLY},
    {"regret", TRAIN_BOOK_REGRET},
};

enum db_status train_book(struct db *db, int64_t user_id, const struct train_booking_request *req,
                          enum train_book_outcome *outcome, char **json)
{
    char user[24];
    struct db_result *r = NULL;
    enum db_status st = DB_ERROR;

    *outcome = TRAIN_BOOK_FAILED;
    *json = NULL;
    char *passengers = train_passengers_json(req);
    if (passengers == NULL)
        return DB_ERROR;
    snprintf(user, sizeof(user), "%lld", (long long)user_id);
    const char *params[] = {user,    req->number,     req->date,  req->from,
                            req->to, req->class_code, req->quota, passengers};
    st = db_run(db, &train_book_stmt, 8, params, &r);
    if (st != DB_OK)
        goto done;
    if (db_rows(r) != 1) {
        st = DB_ERROR;
        goto done;
    }
    for (size_t i = 0; i < sizeof(train_book_outcomes) / sizeof(train_book_outcomes[0]); i++) {
        if (strcmp(db_text(r, 0, 0), train_book_outcomes[i].name) == 0)
            *outcome = train_book_outcomes[i].outcome;
    }
    if (*outcome == TRAIN_BOOK_CREATED && !db_is_null(r, 0, 1))
        *json = strdup(db_text(r, 0, 1));
    if (*outcome == TRAIN_BOOK_FAILED || (*outcome == TRAIN_BOOK_CREATED && *json == NULL)) {
        *outcome = TRAIN_BOOK_FAILED;
        st = DB_ERROR;
    }
done:
    db_result_free(r);
    free(passengers);
    return st;
}

enum db_status train_pnr_show(struct db *db, int64_t user_id, const char *pnr, char **json)
{
    char user[24];
    snprintf(user, sizeof(user), "%lld", (long long)user_id);
    const char *params[] = {user, pnr};
    return outcome_json_query(db, &train_pnr_stmt, 2, params, json);
}

enum db_status train_cancel(struct db *db, int64_t user_id, const char *pnr,
                            enum train_cancel_outcome *outcome, int64_t *hold_id, char **json)
{
    char user[24];
    struct db_result *r = NULL;
    *outcome = TRAIN_CANCEL_NOT_FOUND;
    *hold_id = 0;
    *json = NULL;
    snprintf(user, sizeof(user), "%lld", (long long)user_id);
    const char *params[] = {user, pnr};
    enum db_status st = db_run(db, &train_cancel_stmt, 2, params, &r);
    if (st != DB_OK)
        return st;
    if (db_rows(r) != 1) {
        db_result_free(r);
        return DB_ERROR;
    }
    const char *name = db_text(r, 0, 0);
    if (strcmp(name, "cancelled") == 0)
        *outcome = TRAIN_CANCEL_DONE;
    else if (strcmp(name, "paid") == 0)
        *outcome = TRAIN_CANCEL_PAID;
    else if (strcmp(name, "already_done") == 0)
        *outcome = TRAIN_CANCEL_ALREADY;
    else if (strcmp(name, "chart_prepared") == 0)
        *outcome = TRAIN_CANCEL_CHART_PREPARED;
    if (!db_is_null(r, 0, 1)) {
        *json = strdup(db_text(r, 0, 1));
        if (*json == NULL)
            st = DB_ERROR;
    }
    if (!db_is_null(r, 0, 2))
        *hold_id = db_int64(r, 0, 2);
    db_result_free(r);
    return st;
}

enum db_status train_search(struct db *db, const char *from, const char *to, const char *date,
                            char **json)
{
    const char *params[] = {from, to, date};
    return outcome_json_query(db, &train_search_stmt, 3, params, json);
}

bool train_class_valid(const char *text)
{
    return text != NULL &&
           train_in(text, train_classes, sizeof(train_classes) / sizeof(*train_classes));
}

enum db_status train_set_run_coaches(struct db *db, const char *number, const char *date,
                                     const char *class_code, int coaches,
                                     enum train_coaches_outcome *outcome, char **json)
{
    static const struct {
        const char *name;
        enum train_coaches_outcome outcome;
    } outcomes[] = {
        {"changed", TRAIN_COACHES_CHANGED},
        {"invalid_coaches", TRAIN_COACHES_INVALID},
        {"train_not_found", TRAIN_COACHES_NOT_FOUND},
        {"run_not_found", TRAIN_COACHES_NOT_FOUND},
        {"unknown_class", TRAIN_COACHES_UNKNOWN_CLASS},
        {"chart_prepared", TRAIN_COACHES_CHART_PREPARED},
        {"in_use", TRAIN_COACHES_IN_USE},
    };
    char text[16];
    struct db_result *r = NULL;
    *json = NULL;
    *outcome = TRAIN_COACHES_NOT_FOUND;
    snprintf(text, sizeof(text), "%d", coaches);
    const char *params[] = {number, date, class_code, text};
    enum db_status st = db_run(db, &train_set_coaches_stmt, 4, params, &r);
    if (st != DB_OK)
        return st;
    if (db_rows(r) != 1) {
        st = DB_ERROR;
        goto done;
    }
    for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
        if (strcmp(db_text(r, 0, 0), outcomes[i].name) == 0)
            *outcome = outcomes[i].outcome;
    }
    if (*outcome == TRAIN_COACHES_CHANGED) {
        *json = db_is_null(r, 0, 1) ? NULL : strdup(db_text(r, 0, 1));
        if (*json == NULL)
            st = DB_ERROR;
    }
done:
    db_result_free(r);
    return st;
}

enum db_status train_run_show(struct db *db, const char *number, const char *date, char **json)
{
    const char *params[] = {number, date};
    return outcome_json_query(db, &train_run_stmt, 2, params, json);
}

enum db_status train_stations(struct db *db, const char *q, int limit, char **json)
{
    char text[16];
    snprintf(text, sizeof(text), "%d", limit);
    const char *params[] = {q, text};
    return outcome_json_query(db, &train_stations_stmt, 2, params, json);
}

enum db_status train_import(struct db *db, const char *stations_json, const char *trains_json,
                            char **json)
{
    const char *params[] = {stations_json, trains_json};
    return outcome_json_query(db, &train_import_stmt, 2, params, json);
}

enum db_status train_import_body(struct db *db, const char *body, char **json)
{
    const char *params[] = {body};
    return outcome_json_query(db, &train_import_body_stmt, 1, params, json);
}

enum db_status train_sweep(struct db *db, int limit, int *expired)
{
    char text[16];
    struct db_result *r = NULL;
    snprintf(text, sizeof(text), "%d", limit);
    const char *params[] = {text};
    *expired = 0;
    enum db_status st = db_run(db, &train_sweep_stmt, 1, params, &r);
    if (st == DB_OK && db_rows(r) == 1)
        *expired = (int)db_int64(r, 0, 0);
    db_result_free(r);
    return st;
}

enum db_status train_prepare_charts(struct db *db, int limit, int *charted, int *refunds)
{
    char text[16];
    struct db_result *r = NULL;
    snprintf(text, sizeof(text), "%d", limit);
    const char *params[] = {text};
    *charted = 0;
    *refunds = 0;
    enum db_status st = db_run(db, &train_charts_stmt, 1, params, &r);
    if (st != DB_OK)
        return st;
    for (int i = 0; i < db_rows(r); i++) {
        if (db_is_null(r, i, 1)) {
            (*charted)++;
            continue;
        }
        const char *outcome = db_text(r, i, 5);
        if (strcmp(outcome, "partial") == 0 || strcmp(outcome, "whole") == 0) {
            (*refunds)++;
            log_info(NULL,
                     "chart of run %s: %s waitlisted passengers of hold %s cancelled, "
                     "%s refund of %s owed on order %s",
                     db_text(r, i, 0), db_text(r, i, 2), db_text(r, i, 1), outcome,
                     db_text(r, i, 3), db_text(r, i, 4));
        } else {
            log_warn(NULL, "chart of run %s: hold %s owed %s but its order says %s",
                     db_text(r, i, 0), db_text(r, i, 1), db_text(r, i, 3), outcome);
        }
    }
    db_result_free(r);
    return st;
}

enum db_status train_extend_runs(struct db *db, int *created)
{
    struct db_result *r = NULL;
    *created = 0;
    enum db_status st = db_run(db, &train_extend_stmt, 0, NULL, &r);
    if (st == DB_OK && db_rows(r) == 1)
        *created = (int)db_int64(r, 0, 0);
    db_result_free(r);
    return st;
}
