/* h_order.c: checkout, paying, cancelling and reading orders. */
#include "handlers.h"
#include "log.h"
#include "order.h"
#include "worker.h"

#include <stdlib.h>
#include <string.h>

/* The worker's provider client, opened on first use; NULL when payments
 * are not configured (the calls then answer 503). */
static struct payment_client *h_order_client(struct request *req)
{
    struct worker_state *state = req->process;
    struct payment_config pc;
    if (state->payment == NULL && order_payment_config(req->cfg, &pc))
        state->payment = payment_open(&pc);
    return state->payment;
}

/* How each refusal that is the same for every call reads over HTTP. */
static const struct h_order_error {
    enum order_outcome outcome;
    int status;
    const char *code;
    const char *message;
} h_order_errors[] = {
    {ORDER_UNAUTHORIZED, 401, "unauthorized", "Your session has ended; sign in again."},
    {ORDER_NOT_FOUND, 404, "order_not_found", "There is no such order."},
    {ORDER_HOLD_NOT_FOUND, 404, "hold_not_found", "There is no such hold."},
    {ORDER_HOLD_EXPIRED, 410, "hold_expired", "This hold has expired; pick the seats again."},
    {ORDER_HOLD_RELEASED, 409, "hold_released", "This hold was given back."},
    {ORDER_HOLD_HAS_ORDER, 409, "hold_has_order",
     "This hold was already checked out with another Idempotency-Key."},
    {ORDER_KEY_CONFLICT, 422, "idempotency_key_reused",
     "This Idempotency-Key was already used for another hold."},
    {ORDER_NOTHING_TO_PAY, 422, "nothing_to_pay",
     "This hold costs nothing; there is nothing to pay."},
    {ORDER_EXPIRED, 410, "order_expired", "The time to pay for this order has passed."},
    {ORDER_NOT_PAYABLE, 409, "order_not_payable", "This order was canceled or refunded."},
    {ORDER_NOT_CANCELABLE, 409, "order_not_cancelable",
     "This order expired; there is nothing to cancel."},
    {ORDER_CHART_PREPARED, 409, "chart_prepared",
     "The chart of this train is prepared; the booking can no longer be cancelled."},
    {ORDER_PAYMENT_IN_PROGRESS, 409, "payment_in_progress",
     "An earlier payment of this order is still being confirmed; check the order again in a "
     "moment."},
};

/* Answers an order call that did not end in ORDER_OK. */
static void h_order_refusal(struct request *req, struct response *res,
                            const struct order_answer *answer)
{
    if (answer->outcome == ORDER_DB_FAILED) {
        http_db_failure(req, res, answer->db_status);
        return;
    }
    if (answer->outcome == ORDER_PROVIDER_ERROR) {
        if (answer->error.http_status == 503)
            http_header(res, "Retry-After", "%d", 2);
        http_error(res, answer->error.http_status, answer->error.code, answer->error.message);
        return;
    }
    for (size_t i = 0; i < sizeof(h_order_errors) / sizeof(h_order_errors[0]); i++) {
        const struct h_order_error *e = &h_order_errors[i];
        if (e->outcome != answer->outcome)
            continue;
        if (e->outcome == ORDER_PAYMENT_IN_PROGRESS)
            http_header(res, "Retry-After", "%d", 2);
        http_error(res, e->status, e->code, e->message);
        return;
    }
    /* ORDER_OK never comes here; anything unknown is our bug. */
    http_error(res, 500, "internal_error", "Something went wrong on our side.");
}

/* POST /api/holds/{id}/checkout with Idempotency-Key: 201 {"order",
 * "payment"} (the same answer again for the same key); 400
 * invalid_idempotency_key; 404 hold_not_found; 410 hold_expired; 409
 * hold_released or hold_has_order; 422 idempotency_key_reused or
 * nothing_to_pay; 502/503 when the provider cannot make the intent (retry
 * with the same key). */
void h_order_checkout(struct request *req, struct response *res)
{
    struct order_answer answer;
    if (!order_idempotency_key_valid(req->idempotency_key)) {
        http_error(res, 400, "invalid_idempotency_key",
                   "Send an Idempotency-Key header of 1 to 200 printable characters.");
        return;
    }
    order_checkout(req->db, h_order_client(req), req->token_hash, req->ids[0], req->idempotency_key,
                   &answer);
    if (answer.outcome == ORDER_OK) {
        http_json_text(res, 201, answer.json);
        answer.json = NULL;
    } else {
        h_order_refusal(req, res, &answer);
    }
    order_answer_free(&answer);
}

/* True for a payment method id: 1..PAYMENT_ID_MAX-1 of [A-Za-z0-9_]. */
static bool h_order_payment_method_ok(const char *pm)
{
    size_t len = strlen(pm);
    if (len == 0 || len >= PAYMENT_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = pm[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

/* POST /api/orders/{id}/pay {"payment_method"}: 200 order (paid with
 * tickets; pending_payment with payment_error after a decline or an
 * unclear provider answer; expired with a refund when the payment came
 * after its seats were sold to someone else); 400 invalid_payment_method;
 * 404; 409 payment_in_progress or order_not_payable; 410 order_expired;
 * 502/503 when the provider refuses or is unavailable. */
void h_order_pay(struct request *req, struct response *res)
{
    json_object *body = NULL;
    const char *pm = NULL;
    struct v_error err;
    struct order_answer answer;

    if (!http_body_json(req, res, &body))
        return;
    if (!v_string(body, "payment_method", V_REQUIRED, 1, PAYMENT_ID_MAX - 1, &pm, &err)) {
        http_invalid(res, &err);
        goto done;
    }
    if (!h_order_payment_method_ok(pm)) {
        v_fail(&err, "invalid_payment_method", "payment_method is an id such as pm_card_visa");
        http_invalid(res, &err);
        goto done;
    }
    order_pay(req->db, h_order_client(req), req->token_hash, req->ids[0], pm, &answer);
    if (answer.outcome == ORDER_OK) {
        http_json_text(res, 200, answer.json);
        answer.json = NULL;
    } else {
        h_order_refusal(req, res, &answer);
    }
    order_answer_free(&answer);
done:
    json_object_put(body);
}

/* POST /api/orders/{id}/cancel: 200 order (refunded, with its seats free
 * again; or canceled when it was not paid yet; the same again when it was
 * already); 404; 409 order_not_cancelable (expired), chart_prepared (a train
 * order after its run's chart). */
void h_order_cancel(struct request *req, struct response *res)
{
    struct order_answer answer;
    order_cancel(req->db, h_order_client(req), req->user.id, req->ids[0], &answer);
    if (answer.outcome == ORDER_OK) {
        http_json_text(res, 200, answer.json);
        answer.json = NULL;
    } else {
        h_order_refusal(req, res, &answer);
    }
    order_answer_free(&answer);
}

/* GET /api/orders/{id}: 200 order with tickets; 404 when not the user's. */
void h_order_show(struct request *req, struct response *res)
{
    char *json = NULL;
    enum db_status st = order_show(req->db, req->user.id, req->ids[0], &json);
    if (st != DB_OK)
        http_db_failure(req, res, st);
    else if (json == NULL)
        http_error(res, 404, "order_not_found", "There is no such order.");
    else
        http_json_text(res, 200, json);
}

/* GET /api/orders: 200 {"orders": [...]}, the user's newest first (100). */
void h_order_list(struct request *req, struct response *res)
{
    char *json = NULL;
    enum db_status st = order_list(req->db, req->user.id, &json);
    if (st != DB_OK || json == NULL)
        http_db_failure(req, res, st == DB_OK ? DB_ERROR : st);
    else
        http_json_text(res, 200, json);
}
