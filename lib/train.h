/* train.h: trains: the network, search and availability, bookings (PNRs)
 * with CNF / RAC / WL, cancellation with promotion, chart preparation and
 * the import of stations and timetables. Every call is one round trip to
 * one SQL function (sql/functions/050_trains.sql), one transaction. */
#ifndef BOXOFFICE_TRAIN_H
#define BOXOFFICE_TRAIN_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "validate.h"

#define TRAIN_MAX_PASSENGERS 6
#define TRAIN_NUMBER_MAX 8
#define TRAIN_STATION_MAX 16
#define TRAIN_NAME_MAX 100
#define TRAIN_PNR_LEN 10
#define TRAIN_QUERY_MAX 50

struct train_passenger {
    char name[TRAIN_NAME_MAX + 1];
    int age;
    char gender[2];           /* M, F or T */
    char berth_preference[3]; /* LB MB UB SL SU WS MS AS, or "" */
};

/* A checked booking request: path (number, date) and body. */
struct train_booking_request {
    char number[TRAIN_NUMBER_MAX + 1];
    char date[11]; /* YYYY-MM-DD: the date the run leaves its origin */
    char from[TRAIN_STATION_MAX + 1];
    char to[TRAIN_STATION_MAX + 1];
    char class_code[3]; /* 1A 2A 3A SL CC 2S */
    char quota[3];      /* GN TQ LD */
    struct train_passenger passengers[TRAIN_MAX_PASSENGERS];
    size_t count;
};

/* True for a train number: 1..8 uppercase letters or digits. */
bool train_number_valid(const char *text);

/* True for a station code: 1..16 uppercase letters or digits. */
bool train_station_valid(const char *text);

/* True for a PNR: exactly 10 digits. */
bool train_pnr_valid(const char *text);

/* True for a class code: 1A 2A 3A SL CC 2S. */
bool train_class_valid(const char *text);

#define TRAIN_RUN_COACHES_MAX 24

enum train_coaches_outcome {
    TRAIN_COACHES_CHANGED,        /* *json the run */
    TRAIN_COACHES_NOT_FOUND,      /* no such train or run */
    TRAIN_COACHES_UNKNOWN_CLASS,  /* the train has no such class */
    TRAIN_COACHES_CHART_PREPARED, /* too late */
    TRAIN_COACHES_IN_USE,         /* passengers of that run and class hold places */
    TRAIN_COACHES_INVALID         /* coaches not 1..TRAIN_RUN_COACHES_MAX */
};

/* Gives one run (number, date) of a train `coaches` coaches of class
 * class_code, in one transaction: the run's own composition, with berth
 * counts per quota by the train's rule (the train's count makes it the
 * train's composition again). On DB_OK read *outcome; with
 * TRAIN_COACHES_CHANGED *json is the run (malloc'd, caller frees),
 * otherwise NULL and nothing changed. */
enum db_status train_set_run_coaches(struct db *db, const char *number, const char *date,
                                     const char *class_code, int coaches,
                                     enum train_coaches_outcome *outcome, char **json)
    __attribute__((warn_unused_result));

/* Reads the body {"from","to","class","quota"?,"passengers":[{"name",
 * "age","gender","berth_preference"?}]} into out (whose number and date the
 * caller fills). Pure: no I/O. On failure err has the code
 * (invalid_from, invalid_to, invalid_class, invalid_quota,
 * invalid_passengers, invalid_name, invalid_age, invalid_gender,
 * invalid_berth_preference) and nothing else is promised about out. */
bool train_booking_parse(json_object *body, struct train_booking_request *out, struct v_error *err)
    __attribute__((warn_unused_result));

enum train_book_outcome {
    TRAIN_BOOK_CREATED,
    TRAIN_BOOK_TRAIN_NOT_FOUND,
    TRAIN_BOOK_RUN_NOT_FOUND,
    TRAIN_BOOK_UNKNOWN_STATION,
    TRAIN_BOOK_NOT_ON_ROUTE,
    TRAIN_BOOK_WRONG_DIRECTION,
    TRAIN_BOOK_UNKNOWN_CLASS,
    TRAIN_BOOK_NO_QUOTA,
    TRAIN_BOOK_NOT_OPEN,
    TRAIN_BOOK_TATKAL_NOT_OPEN,
    TRAIN_BOOK_CLOSED,
    TRAIN_BOOK_TATKAL_LIMIT,
    TRAIN_BOOK_LADIES_ONLY,
    TRAIN_BOOK_REGRET,
    TRAIN_BOOK_FAILED /* see the db status */
};

/* Books for user_id in one transaction: every passenger CNF, RAC or WL, or
 * nothing. On DB_OK read *outcome; with TRAIN_BOOK_CREATED *json is the
 * booking (malloc'd, caller frees), otherwise NULL. */
enum db_status train_book(struct db *db, int64_t user_id, const struct train_booking_request *req,
                          enum train_book_outcome *outcome, char **json)
    __attribute__((warn_unused_result));

/* The user's booking by PNR; *json NULL when absent or not theirs. */
enum db_status train_pnr_show(struct db *db, int64_t user_id, const char *pnr, char **json)
    __attribute__((warn_unused_result));

enum train_cancel_outcome {
    TRAIN_CANCEL_DONE,           /* unpaid: released; *json the booking */
    TRAIN_CANCEL_PAID,           /* paid: the caller cancels the order of *hold_id */
    TRAIN_CANCEL_ALREADY,        /* nothing travelling any more; *json the booking */
    TRAIN_CANCEL_CHART_PREPARED, /* statuses are frozen */
    TRAIN_CANCEL_NOT_FOUND
};

/* Cancels the user's PNR (all its passengers) and promotes RAC and WL
 * passengers into the freed places, in one transaction. */
enum db_status train_cancel(struct db *db, int64_t user_id, const char *pnr,
                            enum train_cancel_outcome *outcome, int64_t *hold_id, char **json)
    __attribute__((warn_unused_result));

/* Search: trains from -> to leaving `from` on date, with availability;
 * *json NULL when a station is unknown. */
enum db_status train_search(struct db *db, const char *from, const char *to, const char *date,
                            char **json) __attribute__((warn_unused_result));

/* A run with stops and classes; *json NULL when the train does not run
 * that day. */
enum db_status train_run_show(struct db *db, const char *number, const char *date, char **json)
    __attribute__((warn_unused_result));

/* Station autocomplete for q (at most limit answers). */
enum db_status train_stations(struct db *db, const char *q, int limit, char **json)
    __attribute__((warn_unused_result));

/* Imports stations (GeoJSON text) and trains (dictionary text), either may
 * be NULL, in one transaction; *json is the report. A document that is
 * not JSON is DB_INVALID_INPUT with nothing changed. */
enum db_status train_import(struct db *db, const char *stations_json, const char *trains_json,
                            char **json) __attribute__((warn_unused_result));

/* The same, from a request body {"stations": {...}, "trains": {...}}. */
enum db_status train_import_body(struct db *db, const char *body, char **json)
    __attribute__((warn_unused_result));

/* boxoffice-worker: expires up to limit unpaid train bookings past their
 * hold and promotes the queues behind them; *expired says how many. */
enum db_status train_sweep(struct db *db, int limit, int *expired)
    __attribute__((warn_unused_result));

/* boxoffice-worker: prepares the charts of up to limit runs whose time has
 * come, in one transaction: waitlisted passengers cancelled, and
 * their fares owed back on paid bookings (a partial refund of the order,
 * or the whole order cancelled and refunded when nobody is left
 * travelling); the reconciler (order_reconcile) sends the refunds. Logs
 * each refund owed. *charted counts the runs charted, *refunds the orders
 * owed a refund. */
enum db_status train_prepare_charts(struct db *db, int limit, int *charted, int *refunds)
    __attribute__((warn_unused_result));

/* boxoffice-worker: once a day, creates the runs that came into the
 * generation window; *created says how many. */
enum db_status train_extend_runs(struct db *db, int *created) __attribute__((warn_unused_result));

#endif
