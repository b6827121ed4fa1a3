/* h_event.c: events, their seats and venues, for anyone. */
#include "event.h"
#include "handlers.h"

#include <stdlib.h>

#define EVENT_PER_PAGE_DEFAULT 20
#define EVENT_PER_PAGE_MAX 100
#define EVENT_PAGE_MAX 10000

/* Reads an optional positive integer query parameter into *out. */
static bool h_event_query_int(struct request *req, struct response *res, const char *name,
                              int64_t max, int64_t *out)
{
    char text[24];
    int found = http_query(req, name, text, sizeof(text));
    if (found == 0)
        return true;
    if (found < 0 || !v_parse_int(text, 1, max, out)) {
        struct v_error err;
        v_fail(&err, name[0] == 'p' && name[1] == 'a' ? "invalid_page" : "invalid_per_page",
               "%s must be a whole number from 1 to %lld", name, (long long)max);
        http_invalid(res, &err);
        return false;
    }
    return true;
}

/* Answers a JSON lookup: 200, 404 with not_found_code, or a database failure. */
static void h_event_answer(struct request *req, struct response *res, enum db_status st,
                           char *json, const char *not_found_code, const char *message)
{
    if (st != DB_OK)
        http_db_failure(req, res, st);
    else if (json == NULL)
        http_error(res, 404, not_found_code, message);
    else
        http_json_text(res, 200, json);
}

/* GET /api/events?page&per_page: 200 {"total","events"}; 400 invalid_page. */
void h_event_list(struct request *req, struct response *res)
{
    int64_t page = 1, per_page = EVENT_PER_PAGE_DEFAULT;
    char *json = NULL;
    if (!h_event_query_int(req, res, "page", EVENT_PAGE_MAX, &page) ||
        !h_event_query_int(req, res, "per_page", EVENT_PER_PAGE_MAX, &per_page))
        return;
    enum db_status st = event_list(req->db, (int)page, (int)per_page, &json);
    h_event_answer(req, res, st, json, "not_found", "No events.");
}

/* GET /api/events/{id}: 200 event; 404 event_not_found. */
void h_event_show(struct request *req, struct response *res)
{
    char *json = NULL;
    enum db_status st = event_show(req->db, req->ids[0], &json);
    h_event_answer(req, res, st, json, "event_not_found", "There is no such event.");
}

/* GET /api/events/{id}/seats: 200 {"event_id","seats"}; 404. */
void h_event_seats(struct request *req, struct response *res)
{
    char *json = NULL;
    enum db_status st = event_seat_map(req->db, req->ids[0], &json);
    h_event_answer(req, res, st, json, "event_not_found", "There is no such event.");
}

/* GET /api/venues/{id}: 200 venue with sections; 404. */
void h_venue_show(struct request *req, struct response *res)
{
    char *json = NULL;
    enum db_status st = event_venue_show(req->db, req->ids[0], &json);
    h_event_answer(req, res, st, json, "venue_not_found", "There is no such venue.");
}
