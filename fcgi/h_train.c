/* h_train.c: stations, train search and runs, bookings (PNRs) and their
 * cancellation, and the admin import of the network. */
#include "handlers.h"
#include "log.h"
#include "order.h"
#include "train.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H_TRAIN_STATIONS_LIMIT 10

/* Answers a one-JSON-document lookup: 200, 404 with code when absent. */
static void h_train_answer(struct request *req, struct response *res, enum db_status st, char *json,
                           const char *code, const char *message)
{
    if (st != DB_OK)
        http_db_failure(req, res, st);
    else if (json == NULL)
        http_error(res, 404, code, message);
    else
        http_json_text(res, 200, json);
}

/* GET /api/stations?q=: 200 {"stations": [...]} (at most 10); 400
 * invalid_q when q is missing, empty or longer than 50 bytes. */
void h_train_stations(struct request *req, struct response *res)
{
    char q[TRAIN_QUERY_MAX + 1];
    char *json = NULL;
    if (http_query(req, "q", q, sizeof(q)) != 1 || q[0] == '\0' || strchr(q, '%') != NULL ||
        strchr(q, '_') != NULL) {
        http_error(res, 400, "invalid_q", "q is 1 to 50 characters of a station code or name");
        return;
    }
    enum db_status st = train_stations(req->db, q, H_TRAIN_STATIONS_LIMIT, &json);
    h_train_answer(req, res, st, json, "not_found", "Nothing found.");
}

/* GET /api/trains/search?from=&to=&date=: 200 {"trains": [...]}; 400
 * invalid_from, invalid_to (also when equal), invalid_date,
 * unknown_station. */
void h_train_search(struct request *req, struct response *res)
{
    char from[TRAIN_STATION_MAX + 1], to[TRAIN_STATION_MAX + 1], date[11];
    char *json = NULL;
    if (http_query(req, "from", from, sizeof(from)) != 1 || !train_station_valid(from)) {
        http_error(res, 400, "invalid_from", "from is a station code");
        return;
    }
    if (http_query(req, "to", to, sizeof(to)) != 1 || !train_station_valid(to)) {
        http_error(res, 400, "invalid_to", "to is a station code");
        return;
    }
    if (strcmp(from, to) == 0) {
        http_error(res, 400, "invalid_to", "from and to must be different stations");
        return;
    }
    if (http_query(req, "date", date, sizeof(date)) != 1 || !v_is_date(date)) {
        http_error(res, 400, "invalid_date", "date is YYYY-MM-DD");
        return;
    }
    enum db_status st = train_search(req->db, from, to, date, &json);
    if (st == DB_OK && json == NULL)
        http_error(res, 400, "unknown_station", "There is no station with that code.");
    else
        h_train_answer(req, res, st, json, "unknown_station", "");
}

/* Reads the train number and run date of the path; 404 / 400 otherwise. */
static bool h_train_path(const struct request *req, struct response *res, char *number, char *date)
{
    if (!train_number_valid(req->args[0])) {
        http_error(res, 404, "train_not_found", "There is no such train.");
        return false;
    }
    if (!v_is_date(req->args[1])) {
        http_error(res, 400, "invalid_date", "The date is YYYY-MM-DD.");
        return false;
    }
    /* Both were checked to fit. */
    snprintf(number, TRAIN_NUMBER_MAX + 1, "%.8s", req->args[0]);
    snprintf(date, 11, "%.10s", req->args[1]);
    return true;
}

/* PUT /api/admin/trains/{number}/runs/{date}/classes/{class} {"coaches": n}:
 * 200 the run with its own composition of that class; 400 invalid_date,
 * invalid_class, invalid_coaches (1..24), invalid_json; 404
 * run_not_found (no such train or run), unknown_class (the train has no
 * such class); 409 chart_prepared, in_use (passengers of that run and
 * class hold places or waitlist numbers). Nothing changes on any error. */
void h_train_run_class_set(struct request *req, struct response *res)
{
    char number[TRAIN_NUMBER_MAX + 1], date[11];
    json_object *body = NULL;
    struct v_error err;
    int64_t coaches = 0;
    char *json = NULL;
    enum train_coaches_outcome outcome;
    if (!train_number_valid(req->args[0])) {
        http_error(res, 404, "run_not_found", "There is no such train.");
        return;
    }
    if (!v_is_date(req->args[1])) {
        http_error(res, 400, "invalid_date", "The date is YYYY-MM-DD.");
        return;
    }
    if (!train_class_valid(req->args[2])) {
        http_error(res, 400, "invalid_class", "The class is one of 1A 2A 3A SL CC 2S.");
        return;
    }
    snprintf(number, sizeof(number), "%.8s", req->args[0]);
    snprintf(date, sizeof(date), "%.10s", req->args[1]);
    if (!http_body_json(req, res, &body))
        return;
    bool ok = v_int(body, "coaches", V_REQUIRED, 1, TRAIN_RUN_COACHES_MAX, &coaches, &err);
    json_object_put(body);
    if (!ok) {
        http_invalid(res, &err);
        return;
    }
    enum db_status st =
        train_set_run_coaches(req->db, number, date, req->args[2], (int)coaches, &outcome, &json);
    if (st != DB_OK) {
        http_db_failure(req, res, st);
        return;
    }
    switch (outcome) {
    case TRAIN_COACHES_CHANGED:
        http_json_text(res, 200, json);
        return;
    case TRAIN_COACHES_NOT_FOUND:
        http_error(res, 404, "run_not_found", "This train does not run on that date.");
        return;
    case TRAIN_COACHES_UNKNOWN_CLASS:
        http_error(res, 404, "unknown_class", "This train has no such class.");
        return;
    case TRAIN_COACHES_CHART_PREPARED:
        http_error(res, 409, "chart_prepared", "The chart of this run is prepared.");
        return;
    case TRAIN_COACHES_IN_USE:
        http_error(res, 409, "in_use",
                   "Passengers of this run hold places in this class: its composition stays.");
        return;
    case TRAIN_COACHES_INVALID:
        http_error(res, 400, "invalid_coaches", "coaches is 1 to 24.");
        return;
    }
}

/* GET /api/trains/{number}/runs/{date}: 200 run with stops and classes;
 * 404 run_not_found (no such train, or it does not run that day); 400
 * invalid_date. */
void h_train_run_show(struct request *req, struct response *res)
{
    char number[TRAIN_NUMBER_MAX + 1], date[11];
    char *json = NULL;
    if (!h_train_path(req, res, number, date))
        return;
    enum db_status st = train_run_show(req->db, number, date, &json);
    h_train_answer(req, res, st, json, "run_not_found", "This train does not run on that date.");
}

/* POST /api/trains/{number}/runs/{date}/bookings: 201 booking (pnr,
 * hold_id, expires_at, passengers with CNF / RAC / WL, amount, currency);
 * 400 invalid_* and unknown_station, station_not_on_route,
 * wrong_direction, class_not_on_train, quota_not_available; 404
 * train_not_found, run_not_found; 403 booking_not_open, tatkal_not_open,
 * booking_closed; 422 tatkal_limit, ladies_only; 409 regret; 401. */
void h_train_book(struct request *req, struct response *res)
{
    struct train_booking_request br;
    enum train_book_outcome outcome;
    json_object *body = NULL;
    struct v_error err;
    char *json = NULL;

    memset(&br, 0, sizeof(br));
    if (!h_train_path(req, res, br.number, br.date))
        return;
    if (!http_body_json(req, res, &body))
        return;
    if (!train_booking_parse(body, &br, &err)) {
        http_invalid(res, &err);
        goto done;
    }
    enum db_status st = train_book(req->db, req->user.id, &br, &outcome, &json);
    if (st != DB_OK) {
        http_db_failure(req, res, st);
        goto done;
    }
    switch (outcome) {
    case TRAIN_BOOK_CREATED:
        http_json_text(res, 201, json);
        json = NULL;
        break;
    case TRAIN_BOOK_TRAIN_NOT_FOUND:
        http_error(res, 404, "train_not_found", "There is no such train.");
        break;
    case TRAIN_BOOK_RUN_NOT_FOUND:
        http_error(res, 404, "run_not_found", "This train does not run on that date.");
        break;
    case TRAIN_BOOK_UNKNOWN_STATION:
        http_error(res, 400, "unknown_station", "There is no station with that code.");
        break;
    case TRAIN_BOOK_NOT_ON_ROUTE:
        http_error(res, 400, "station_not_on_route", "This train does not stop there.");
        break;
    case TRAIN_BOOK_WRONG_DIRECTION:
        http_error(res, 400, "wrong_direction",
                   "On this train, the destination comes before the boarding station.");
        break;
    case TRAIN_BOOK_UNKNOWN_CLASS:
        http_error(res, 400, "class_not_on_train", "This train has no such class.");
        break;
    case TRAIN_BOOK_NO_QUOTA:
        http_error(res, 400, "quota_not_available", "This class has no berths in that quota.");
        break;
    case TRAIN_BOOK_NOT_OPEN:
        http_error(res, 403, "booking_not_open",
                   "Booking opens 60 days before the train leaves its origin.");
        break;
    case TRAIN_BOOK_TATKAL_NOT_OPEN:
        http_error(res, 403, "tatkal_not_open",
                   "Tatkal opens the day before the run, at 10:00 for AC and 11:00 for "
                   "non-AC classes (IST).");
        break;
    case TRAIN_BOOK_CLOSED:
        http_error(res, 403, "booking_closed", "Booking for this run has closed.");
        break;
    case TRAIN_BOOK_TATKAL_LIMIT:
        http_error(res, 422, "tatkal_limit", "A Tatkal booking has at most 4 passengers.");
        break;
    case TRAIN_BOOK_LADIES_ONLY:
        http_error(res, 422, "ladies_only",
                   "The ladies quota is for women (and boys under 12 with them).");
        break;
    case TRAIN_BOOK_REGRET:
        http_error(res, 409, "regret", "The waiting list is full for this class.");
        break;
    case TRAIN_BOOK_FAILED:
        http_db_failure(req, res, DB_ERROR);
        break;
    }
done:
    free(json);
    json_object_put(body);
}

/* GET /api/pnr/{pnr}: 200 booking with every passenger's status at booking
 * and now; 404 pnr_not_found (also when it is another user's). */
void h_train_pnr_show(struct request *req, struct response *res)
{
    char *json = NULL;
    if (!train_pnr_valid(req->args[0])) {
        http_error(res, 404, "pnr_not_found", "There is no such PNR.");
        return;
    }
    enum db_status st = train_pnr_show(req->db, req->user.id, req->args[0], &json);
    h_train_answer(req, res, st, json, "pnr_not_found", "There is no such PNR.");
}

/* POST /api/pnr/{pnr}/cancel: 200 booking (passengers CAN; RAC and WL
 * passengers behind moved up); a paid booking is refunded through its
 * order; 409 chart_prepared; 404 pnr_not_found; 503 when a paid booking's
 * order could not be cancelled. */
void h_train_pnr_cancel(struct request *req, struct response *res)
{
    struct worker_state *state = req->process;
    enum train_cancel_outcome outcome;
    int64_t hold_id = 0;
    char *json = NULL;

    if (!train_pnr_valid(req->args[0])) {
        http_error(res, 404, "pnr_not_found", "There is no such PNR.");
        return;
    }
    enum db_status st =
        train_cancel(req->db, req->user.id, req->args[0], &outcome, &hold_id, &json);
    if (st != DB_OK) {
        http_db_failure(req, res, st);
        return;
    }
    switch (outcome) {
    case TRAIN_CANCEL_DONE:
    case TRAIN_CANCEL_ALREADY:
        http_json_text(res, 200, json);
        return;
    case TRAIN_CANCEL_CHART_PREPARED:
        http_error(res, 409, "chart_prepared", "The chart is prepared; this booking is final.");
        break;
    case TRAIN_CANCEL_NOT_FOUND:
        http_error(res, 404, "pnr_not_found", "There is no such PNR.");
        break;
    case TRAIN_CANCEL_PAID: {
        /* The order refunds the money and, through hold_unfulfil, frees
         * the places and promotes; with no provider client the
         * reconciler sends the refund. */
        struct order_answer answer;
        struct payment_config pc;
        memset(&answer, 0, sizeof(answer));
        if (state->payment == NULL && order_payment_config(req->cfg, &pc))
            state->payment = payment_open(&pc);
        order_cancel_for_hold(req->db, state->payment, hold_id, &answer);
        if (answer.outcome != ORDER_OK) {
            log_warn(req->id, "cancel of the order of hold %lld failed: outcome %d",
                     (long long)hold_id, (int)answer.outcome);
            http_db_failure(req, res,
                            answer.outcome == ORDER_DB_FAILED ? answer.db_status : DB_ERROR);
        } else {
            free(json);
            json = NULL;
            st = train_pnr_show(req->db, req->user.id, req->args[0], &json);
            h_train_answer(req, res, st, json, "pnr_not_found", "There is no such PNR.");
            json = NULL;
        }
        order_answer_free(&answer);
        break;
    }
    }
    free(json);
}

/* POST /api/admin/trains/import {"stations": GeoJSON FeatureCollection,
 * "trains": {number: {...}}} (either may be absent): 200 report of counts
 * and oddities; 400 invalid_import when neither is an object. Idempotent;
 * one transaction. */
void h_train_import(struct request *req, struct response *res)
{
    json_object *body = NULL, *stations = NULL, *trains = NULL;
    char *json = NULL;
    if (!http_body_json(req, res, &body))
        return;
    bool has_stations = json_object_object_get_ex(body, "stations", &stations) &&
                        json_object_is_type(stations, json_type_object);
    bool has_trains = json_object_object_get_ex(body, "trains", &trains) &&
                      json_object_is_type(trains, json_type_object);
    json_object_put(body);
    if (!has_stations && !has_trains) {
        http_error(res, 400, "invalid_import",
                   "send {\"stations\": GeoJSON FeatureCollection, \"trains\": {number: ...}}");
        return;
    }
    enum db_status st = train_import_body(req->db, req->body, &json);
    if (st == DB_INVALID_INPUT)
        http_error(res, 400, "invalid_import", "The import could not be read.");
    else
        h_train_answer(req, res, st, json, "invalid_import", "The import could not be read.");
}
