/* h_hold.c: taking seats, looking at a hold, giving it back. */
#include "handlers.h"
#include "hold.h"
#include "log.h"
#include "metrics.h"
#include "session_memory.h"
#include "token.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads {"seat_ids":[..]} or {"quantity":n,"category":"A"} into out. */
static bool h_hold_parse(json_object *body, struct hold_request *out, struct v_error *err)
{
    int64_t quantity = 0;
    const char *category = NULL;
    json_object *seat_ids = NULL;

    json_object_object_get_ex(body, "seat_ids", &seat_ids);
    if (!v_id_array(body, "seat_ids", V_OPTIONAL, 1, HOLD_MAX_SEATS, out->seat_ids,
                    &out->seat_count, err) ||
        !v_int(body, "quantity", V_OPTIONAL, 1, HOLD_MAX_SEATS, &quantity, err) ||
        !v_code(body, "category", V_OPTIONAL, 1, HOLD_CATEGORY_MAX, &category, err))
        return false;
    bool by_ids = out->seat_count > 0;
    bool by_quantity = quantity > 0;
    if (by_ids == by_quantity)
        return v_fail(err, "invalid_request",
                      "send either seat_ids or quantity (with an optional category)");
    if (by_ids && category != NULL)
        return v_fail(err, "invalid_category", "category goes with quantity, not seat_ids");
    out->quantity = (int)quantity;
    snprintf(out->category, sizeof(out->category), "%s", category != NULL ? category : "");
    return true;
}

/* The waiting room's admission: an access token from the body's
 * "access_token" or the queue_access_<event> cookie, verified here by HMAC
 * (event, expiry); hold_create checks that it names the signed-in user.
 * Returns false with res filled when the member is malformed. */
static bool h_hold_admission(struct request *req, json_object *body, struct hold_request *hr,
                             struct response *res)
{
    const char *given = NULL;
    char cookie_name[48];
    char cookie[TOKEN_TEXT_MAX];
    struct token_claims claims;
    struct v_error err;

    if (!v_string(body, "access_token", V_OPTIONAL, 1, TOKEN_TEXT_MAX - 1, &given, &err)) {
        http_invalid(res, &err);
        return false;
    }
    snprintf(cookie_name, sizeof(cookie_name), "queue_access_%lld", (long long)hr->event_id);
    if (given == NULL && http_cookie(req, cookie_name, cookie, sizeof(cookie)))
        given = cookie;
    if (given != NULL && token_verify(req->cfg->token_secret, given, TOKEN_ACCESS, token_now_ms(),
                                      hr->event_id, 0, &claims) == TOKEN_OK)
        hr->admitted_user_id = claims.user_id;
    return true;
}

static void h_hold_sold_out(struct response *res)
{
    metrics_count(METRIC_SOLD_OUT_ANSWERS, 1);
    http_error(res, 409, "sold_out", "Sorry, these tickets are sold out.");
}

/* Adds a parsed JSON array (text) under key to an error answer. */
static json_object *h_hold_ids(const char *key, const char *ids_json)
{
    json_object *extra = json_object_new_object();
    json_object *ids = ids_json != NULL ? json_tokener_parse(ids_json) : NULL;
    json_object_object_add(extra, key, ids != NULL ? ids : json_object_new_array());
    return extra;
}

/* POST /api/events/{id}/holds: 201 hold; 409 seats_unavailable with
 * "unavailable", 409 sold_out, 422 limit_exceeded, 403 not_on_sale or
 * sale_closed or not_admitted (waiting room: send "access_token" or its
 * cookie), 400 invalid input or unknown_seats ("unknown") or
 * unknown_category, 401, 404 event_not_found. */
void h_hold_create(struct request *req, struct response *res)
{
    struct worker_state *state = req->process;
    struct hold_request hr;
    struct hold_result result;
    json_object *body = NULL;
    struct v_error err;

    memset(&hr, 0, sizeof(hr));
    memset(&result, 0, sizeof(result));
    hr.event_id = req->ids[0];
    if (!http_body_json(req, res, &body))
        return;
    if (!h_hold_parse(body, &hr, &err)) {
        http_invalid(res, &err);
        goto done;
    }
    if (!h_hold_admission(req, body, &hr, res))
        goto done;
    /* A flash sale's late arrivals hear "sold out" from memory, when the
     * database confirmed their session a moment ago (else it answers). */
    int64_t now = soldout_now_ms();
    if (soldout_check(&state->soldout, hr.event_id, hr.category, now) &&
        session_memory_knows(req->token_hash, now)) {
        metrics_count(METRIC_SOLD_OUT_CACHE_HITS, 1);
        h_hold_sold_out(res);
        goto done;
    }
    enum db_status st = hold_create(req->db, req->token_hash, &hr, &result);
    if (st != DB_OK) {
        http_db_failure(req, res, st);
        goto done;
    }
    if (result.outcome != HOLD_UNAUTHORIZED && result.outcome != HOLD_FAILED)
        session_memory_remember(req->token_hash, now, req->cfg->session_memory_ms);
    switch (result.outcome) {
    case HOLD_CREATED:
        metrics_count(METRIC_HOLDS_CREATED, 1);
        http_json_text(res, 201, result.hold_json);
        result.hold_json = NULL;
        break;
    case HOLD_UNAUTHORIZED:
        http_error(res, 401, "unauthorized", "Your session has ended; sign in again.");
        break;
    case HOLD_EVENT_NOT_FOUND:
        http_error(res, 404, "event_not_found", "There is no such event.");
        break;
    case HOLD_NOT_ON_SALE:
        http_error(res, 403, "not_on_sale", "Tickets for this event are not on sale yet.");
        break;
    case HOLD_SALE_CLOSED:
        http_error(res, 403, "sale_closed", "Tickets for this event are no longer on sale.");
        break;
    case HOLD_UNKNOWN_CATEGORY:
        http_error(res, 400, "unknown_category", "This event has no such price category.");
        break;
    case HOLD_UNKNOWN_SEATS:
        http_error_with(res, 400, "unknown_seats", "Some of these seats are not in this event.",
                        h_hold_ids("unknown", result.seat_ids_json));
        break;
    case HOLD_LIMIT_EXCEEDED:
        http_error(res, 422, "limit_exceeded",
                   "That would be more tickets than one buyer may have for this event.");
        break;
    case HOLD_SEATS_UNAVAILABLE:
        metrics_count(METRIC_HOLDS_SEATS_UNAVAILABLE, 1);
        http_error_with(res, 409, "seats_unavailable",
                        "Some of these seats were just taken; pick others.",
                        h_hold_ids("unavailable", result.seat_ids_json));
        break;
    case HOLD_SOLD_OUT:
        soldout_remember(&state->soldout, hr.event_id, hr.seat_count > 0 ? "" : hr.category, now,
                         req->cfg->sold_out_cache_ms);
        h_hold_sold_out(res);
        break;
    case HOLD_NOT_ADMITTED:
        http_error(res, 403, "not_admitted",
                   "This sale uses a waiting room; wait for your turn in line first.");
        break;
    case HOLD_FAILED:
        http_db_failure(req, res, DB_ERROR);
        break;
    }
done:
    hold_result_free(&result);
    json_object_put(body);
}

/* GET /api/holds/{id}: 200 hold with status; 404 when not the user's. */
void h_hold_show(struct request *req, struct response *res)
{
    char *json = NULL;
    enum db_status st = hold_show(req->db, req->user.id, req->ids[0], &json);
    if (st != DB_OK)
        http_db_failure(req, res, st);
    else if (json == NULL)
        http_error(res, 404, "hold_not_found", "There is no such hold.");
    else
        http_json_text(res, 200, json);
}

/* DELETE /api/holds/{id}: 204 (seats free at once; also when the hold had
 * already ended); 404 when not the user's. */
void h_hold_release(struct request *req, struct response *res)
{
    enum hold_release_outcome outcome;
    enum db_status st = hold_release(req->db, req->user.id, req->ids[0], &outcome);
    if (st != DB_OK) {
        http_db_failure(req, res, st);
        return;
    }
    if (outcome == HOLD_NOT_FOUND) {
        http_error(res, 404, "hold_not_found", "There is no such hold.");
        return;
    }
    if (outcome == HOLD_RELEASED)
        metrics_count(METRIC_HOLDS_RELEASED, 1);
    http_no_content(res);
}
