/* h_admin.c: creating and editing venues and events (admins only). */
#include "event.h"
#include "handlers.h"

#include <stdlib.h>
#include <string.h>

#define ADMIN_MAX_SECTIONS 200
#define ADMIN_MAX_ROWS 200
#define ADMIN_MAX_SEATS_PER_ROW 500
#define ADMIN_MAX_VENUE_SEATS 100000
#define ADMIN_MAX_PRICES 20
#define ADMIN_COORD_MAX 100000.0

static bool h_admin_section(json_object *section, int64_t *seats, struct v_error *err)
{
    const char *name = NULL, *category = NULL;
    double x = 0, y = 0, spacing = 1, row_spacing = 1;
    int64_t rows = 0, per_row = 0, rank_base = 0;
    if (!json_object_is_type(section, json_type_object))
        return v_fail(err, "invalid_sections", "each section must be an object");
    if (!v_string(section, "name", V_REQUIRED, 1, 100, &name, err) ||
        !v_code(section, "category", V_REQUIRED, 1, 8, &category, err) ||
        !v_number(section, "x", V_REQUIRED, 0, ADMIN_COORD_MAX, &x, err) ||
        !v_number(section, "y", V_REQUIRED, 0, ADMIN_COORD_MAX, &y, err) ||
        !v_int(section, "rows", V_REQUIRED, 1, ADMIN_MAX_ROWS, &rows, err) ||
        !v_int(section, "seats_per_row", V_REQUIRED, 1, ADMIN_MAX_SEATS_PER_ROW, &per_row, err) ||
        !v_number(section, "seat_spacing", V_OPTIONAL, 0.01, 100, &spacing, err) ||
        !v_number(section, "row_spacing", V_OPTIONAL, 0.01, 100, &row_spacing, err) ||
        !v_int(section, "rank_base", V_OPTIONAL, 0, 100000000, &rank_base, err))
        return false;
    *seats += rows * per_row;
    return true;
}

/* POST /api/admin/venues {"name","city","country"?,"latitude"?,"longitude"?,
 * "sections":[{"name","category","x","y","rows","seats_per_row",
 * "seat_spacing"?,"row_spacing"?,"rank_base"?}]}: 201 venue; 400; 409
 * duplicate_section. */
void h_admin_venue_create(struct request *req, struct response *res)
{
    json_object *body = NULL, *sections = NULL;
    const char *name = NULL, *city = NULL, *country = NULL;
    double lat = 0, lon = 0;
    int64_t seats = 0;
    struct v_error err;
    char *json = NULL;

    if (!http_body_json(req, res, &body))
        return;
    if (!v_string(body, "name", V_REQUIRED, 1, 200, &name, &err) ||
        !v_string(body, "city", V_REQUIRED, 1, 100, &city, &err) ||
        !v_code(body, "country", V_OPTIONAL, 2, 2, &country, &err) ||
        !v_number(body, "latitude", V_OPTIONAL, -90, 90, &lat, &err) ||
        !v_number(body, "longitude", V_OPTIONAL, -180, 180, &lon, &err) ||
        !v_array(body, "sections", V_REQUIRED, 1, ADMIN_MAX_SECTIONS, &sections, &err)) {
        http_invalid(res, &err);
        goto done;
    }
    for (size_t i = 0; i < json_object_array_length(sections); i++) {
        if (!h_admin_section(json_object_array_get_idx(sections, i), &seats, &err)) {
            http_invalid(res, &err);
            goto done;
        }
    }
    if (seats > ADMIN_MAX_VENUE_SEATS) {
        v_fail(&err, "invalid_sections", "a venue may have at most %d seats",
               ADMIN_MAX_VENUE_SEATS);
        http_invalid(res, &err);
        goto done;
    }
    enum db_status st = event_venue_create(req->db, json_object_to_json_string(body), &json);
    if (st == DB_UNIQUE)
        http_error(res, 409, "duplicate_section", "Two sections have the same name.");
    else if (st != DB_OK || json == NULL)
        http_db_failure(req, res, st == DB_OK ? DB_ERROR : st);
    else {
        http_json_text(res, 201, json);
        json = NULL;
    }
done:
    free(json);
    json_object_put(body);
}

/* Checks the sale settings {"enabled","admit_per_minute","max_active",
 * "access_ttl_s","pow_bits"} (each optional) when present. */
static bool h_admin_waiting_room(json_object *body, struct v_error *err)
{
    json_object *room = NULL;
    bool enabled = false;
    int64_t n = 0;

    if (!json_object_object_get_ex(body, "waiting_room", &room) || room == NULL)
        return true;
    if (!json_object_is_type(room, json_type_object))
        return v_fail(err, "invalid_waiting_room", "waiting_room must be an object");
    return v_bool(room, "enabled", V_OPTIONAL, &enabled, err) &&
           v_int(room, "admit_per_minute", V_OPTIONAL, 1, 6000000, &n, err) &&
           v_int(room, "max_active", V_OPTIONAL, 1, 10000000, &n, err) &&
           v_int(room, "access_ttl_s", V_OPTIONAL, 10, 3600, &n, err) &&
           v_int(room, "pow_bits", V_OPTIONAL, 0, 28, &n, err);
}

/* Checks the members an event may carry; required ones only on create. */
static bool h_admin_event_fields(json_object *body, enum v_presence presence,
                                 struct v_error *err)
{
    const char *text = NULL;
    int64_t n = 0;
    json_object *prices = NULL;

    if (!v_string(body, "title", presence, 1, 200, &text, err) ||
        !v_string(body, "performer", presence, 1, 200, &text, err) ||
        !v_string(body, "category", presence, 1, 50, &text, err) ||
        !v_string(body, "description", V_OPTIONAL, 0, 4000, &text, err) ||
        !v_timestamp(body, "starts_at", presence, &text, err) ||
        !v_timestamp(body, "on_sale_at", V_OPTIONAL, &text, err) ||
        !v_int(body, "hold_ttl_s", V_OPTIONAL, 1, 3600, &n, err) ||
        !v_int(body, "max_per_user", V_OPTIONAL, 1, 100, &n, err) ||
        !v_code(body, "currency", V_OPTIONAL, 3, 3, &text, err) ||
        !v_array(body, "prices", presence, 1, ADMIN_MAX_PRICES, &prices, err) ||
        !h_admin_waiting_room(body, err))
        return false;
    for (size_t i = 0; prices != NULL && i < json_object_array_length(prices); i++) {
        json_object *price = json_object_array_get_idx(prices, i);
        if (!json_object_is_type(price, json_type_object))
            return v_fail(err, "invalid_prices", "each price must be an object");
        if (!v_code(price, "category", V_REQUIRED, 1, 8, &text, err) ||
            !v_int(price, "amount", V_REQUIRED, 0, 100000000000, &n, err))
            return false;
    }
    return true;
}

/* Maps a failed event write to an answer. */
static void h_admin_event_failure(struct request *req, struct response *res, enum db_status st)
{
    const char *constraint = db_last_constraint(req->db);
    if (st == DB_CONSTRAINT && strstr(constraint, "category") != NULL)
        http_error(res, 422, "missing_price",
                   "Every section's price category needs a price for this event.");
    else if (st == DB_CONSTRAINT && strcmp(constraint, "events_check") == 0)
        http_error(res, 422, "invalid_on_sale_at", "on_sale_at must not be after starts_at.");
    else if (st == DB_CONSTRAINT || st == DB_UNIQUE || st == DB_INVALID_INPUT)
        http_error(res, 422, "invalid_event", "These event settings are not consistent.");
    else
        http_db_failure(req, res, st);
}

/* POST /api/admin/events {"venue_id","title","performer","category",
 * "starts_at","on_sale_at"?,"hold_ttl_s"?,"max_per_user"?,"currency"?,
 * "description"?,"prices":[{"category","amount"}],"waiting_room"?:
 * {"enabled","admit_per_minute","max_active","access_ttl_s","pow_bits"}}:
 * 201 event; 400;
 * 422 unknown_venue, missing_price, invalid_on_sale_at. */
void h_admin_event_create(struct request *req, struct response *res)
{
    json_object *body = NULL;
    int64_t venue = 0;
    struct v_error err;
    char *json = NULL;

    if (!http_body_json(req, res, &body))
        return;
    if (!v_int(body, "venue_id", V_REQUIRED, 1, V_ID_MAX, &venue, &err) ||
        !h_admin_event_fields(body, V_REQUIRED, &err)) {
        http_invalid(res, &err);
        goto done;
    }
    enum db_status st = event_create(req->db, json_object_to_json_string(body), &json);
    if (st != DB_OK)
        h_admin_event_failure(req, res, st);
    else if (json == NULL)
        http_error(res, 422, "unknown_venue", "There is no such venue.");
    else {
        http_json_text(res, 201, json);
        json = NULL;
    }
done:
    free(json);
    json_object_put(body);
}

/* PATCH /api/admin/events/{id} with any event member, "status"
 * ("scheduled" or "canceled") and prices to add or change: 200 event; 400;
 * 404 event_not_found; 422. */
void h_admin_event_update(struct request *req, struct response *res)
{
    json_object *body = NULL;
    const char *status = NULL;
    struct v_error err;
    char *json = NULL;

    if (!http_body_json(req, res, &body))
        return;
    if (!h_admin_event_fields(body, V_OPTIONAL, &err) ||
        !v_string(body, "status", V_OPTIONAL, 1, 20, &status, &err)) {
        http_invalid(res, &err);
        goto done;
    }
    if (status != NULL && strcmp(status, "scheduled") != 0 && strcmp(status, "canceled") != 0) {
        v_fail(&err, "invalid_status", "status must be scheduled or canceled");
        http_invalid(res, &err);
        goto done;
    }
    enum db_status st = event_update(req->db, req->ids[0], json_object_to_json_string(body), &json);
    if (st != DB_OK)
        h_admin_event_failure(req, res, st);
    else if (json == NULL)
        http_error(res, 404, "event_not_found", "There is no such event.");
    else {
        http_json_text(res, 200, json);
        json = NULL;
    }
done:
    free(json);
    json_object_put(body);
}

/* GET /api/admin/events/{id}/stats: 200 {"sold","held","available",...}. */
void h_admin_event_stats(struct request *req, struct response *res)
{
    char *json = NULL;
    enum db_status st = event_stats(req->db, req->ids[0], &json);
    if (st != DB_OK)
        http_db_failure(req, res, st);
    else if (json == NULL)
        http_error(res, 404, "event_not_found", "There is no such event.");
    else
        http_json_text(res, 200, json);
}
