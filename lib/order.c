/* order.c: checkout, payment, cancellation and reconciliation of orders. */
#include "order.h"

#include "log.h"
#include "outcome.h"
#include "validate.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORDER_PROVIDER_RETRIES 2
#define ORDER_PROVIDER_RETRY_BASE_MS 100

/* The session is resolved in the first query of checkout and pay: no round
 * trip of its own. A session that is not valid (now) reads as a NULL user. */
#define ORDER_SESSION_USER "(SELECT user_id FROM session_user_of(decode($1, 'hex')))"
static const struct db_statement order_checkout_plan_stmt = {
    "order_checkout_plan", "SELECT outcome, order_id, intent_id, amount, currency, user_id "
                           "FROM order_checkout_plan(" ORDER_SESSION_USER ", $2, $3)"};
static const struct db_statement order_checkout_plan_by_user_stmt = {
    "order_checkout_plan_by_user", "SELECT outcome, order_id, intent_id, amount, currency, user_id "
                                   "FROM order_checkout_plan($1, $2, $3)"};
static const struct db_statement order_checkout_stmt = {
    "order_checkout", "SELECT outcome, order_id, body FROM order_checkout($1, $2, $3, $4, $5)"};
static const struct db_statement order_intent_created_stmt = {
    "order_intent_created", "SELECT order_intent_created($1, $2, $3)"}; /* the checkout answer */
static const struct db_statement order_checkout_json_stmt = {"order_checkout_json",
                                                             "SELECT order_checkout_json($1)"};
static const struct db_statement order_json_stmt = {"order_json", "SELECT order_json($1)"};
static const struct db_statement order_show_stmt = {
    "order_show", "SELECT order_json(id) FROM orders WHERE id = $1 AND user_id = $2"};
static const struct db_statement order_list_stmt = {
    "order_list",
    "SELECT json_build_object('orders', coalesce(json_agg(order_json(x.id) ORDER BY x.id DESC), "
    "'[]'::json)) FROM (SELECT id FROM orders WHERE user_id = $1 ORDER BY id DESC LIMIT 100) x"};
static const struct db_statement order_pay_begin_stmt = {
    "order_pay_begin", "SELECT outcome, payment_id, intent_id, confirm_key, user_id "
                       "FROM order_pay_begin(" ORDER_SESSION_USER ", $2, $3)"};
static const struct db_statement order_succeeded_stmt = {
    "order_payment_succeeded",
    "SELECT outcome, order_id, order_body FROM order_payment_succeeded($1, $2)"};
static const struct db_statement order_failed_stmt = {
    "order_payment_failed", "SELECT order_payment_failed($1, $2, $3, $4, $5)"};
static const struct db_statement order_unknown_stmt = {"order_payment_unknown",
                                                       "SELECT order_payment_unknown($1, $2, $3)"};
static const struct db_statement order_refund_attempt_stmt = {
    "order_refund_attempt",
    "SELECT payment_id, intent_id, refund_key, amount FROM order_refund_attempt($1)"};
static const struct db_statement order_refund_part_done_stmt = {
    "order_refund_part_done", "SELECT order_refund_part_done($1, $2)"};
static const struct db_statement order_refund_part_unknown_stmt = {
    "order_refund_part_unknown", "SELECT order_refund_part_unknown($1, $2, $3)"};
static const struct db_statement order_cancel_stmt = {
    "order_cancel", "SELECT outcome, intent_id FROM order_cancel($1, $2)"};
static const struct db_statement order_of_hold_stmt = {"order_of_hold", "SELECT order_of_hold($1)"};
static const struct db_statement order_event_apply_stmt = {
    "order_event_apply",
    "SELECT fresh, outcome, order_id FROM order_event_apply($1, $2, $3, $4, $5)"};
static const struct db_statement order_expire_stmt = {"order_expire", "SELECT order_expire($1)"};
static const struct db_statement order_reconcile_later_stmt = {
    "order_reconcile_later", "SELECT order_reconcile_later($1, 'confirm')"};
static const struct db_statement order_reconcile_work_stmt = {
    "order_reconcile_work", "SELECT kind, order_id, intent_id FROM order_reconcile_work($1)"};

static void order_int_text(int64_t value, char *out, size_t cap)
{
    snprintf(out, cap, "%lld", (long long)value);
}

void order_answer_free(struct order_answer *answer)
{
    free(answer->json);
    answer->json = NULL;
}

static void order_answer_db(struct order_answer *out, enum db_status st)
{
    out->outcome = ORDER_DB_FAILED;
    out->db_status = st == DB_OK ? DB_ERROR : st;
}

static void order_answer_provider(struct order_answer *out, int http_status, const char *code,
                                  const char *message)
{
    out->outcome = ORDER_PROVIDER_ERROR;
    out->error.http_status = http_status;
    out->error.code = code;
    out->error.message = message;
}

bool order_payment_config(const struct config *cfg, struct payment_config *out)
{
    memset(out, 0, sizeof(*out));
    out->base_url = cfg->payment_base_url;
    out->secret_key = cfg->payment_secret_key;
    out->timeout_ms = cfg->payment_timeout_ms;
    out->max_retries = ORDER_PROVIDER_RETRIES;
    out->retry_base_ms = ORDER_PROVIDER_RETRY_BASE_MS;
    return cfg->payment_base_url[0] != '\0' && cfg->payment_secret_key[0] != '\0';
}

bool order_idempotency_key_valid(const char *key)
{
    size_t len = key != NULL ? strlen(key) : 0;
    if (len == 0 || len > ORDER_IDEMPOTENCY_KEY_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c <= 0x20 || c >= 0x7f)
            return false;
    }
    return true;
}

/* Fills out->json with the order (status of the query in out on failure). */
static void order_answer_json(struct db *db, const struct db_statement *stmt, int64_t order_id,
                              struct order_answer *out)
{
    char id[24];
    order_int_text(order_id, id, sizeof(id));
    const char *params[] = {id};
    char *json = NULL;
    enum db_status st = outcome_json_query(db, stmt, 1, params, &json);
    if (st != DB_OK || json == NULL) {
        free(json);
        order_answer_db(out, st);
        return;
    }
    free(out->json);
    out->json = json;
    out->outcome = ORDER_OK;
}

/* --- refunds ------------------------------------------------------------ */

/* Sends one refund part (row i of an order_refund_attempt answer) and
 * records the answer. An unclear answer is left for the reconciler, which
 * sends it again with the same idempotency key: refunded at most once. */
static enum db_status order_send_refund_part(struct db *db, struct payment_client *pay,
                                             int64_t order_id, struct db_result *r, int i)
{
    struct payment_result result;
    const char *payment_id = db_text(r, i, 0);
    enum payment_outcome outcome =
        payment_refund(pay, db_text(r, i, 1), db_int64(r, i, 3), db_text(r, i, 2), &result);
    bool done = outcome == PAYMENT_SUCCEEDED || outcome == PAYMENT_PROCESSING ||
                (outcome == PAYMENT_INVALID_REQUEST &&
                 strcmp(result.error_code, "charge_already_refunded") == 0);
    if (done) {
        const char *p[] = {payment_id, result.refund_id[0] != '\0' ? result.refund_id : NULL};
        return db_run(db, &order_refund_part_done_stmt, 2, p, NULL);
    }
    log_warn(NULL, "refund part %s of order %lld: %s %s", payment_id, (long long)order_id,
             payment_outcome_name(outcome), result.error_message);
    const char *p[] = {payment_id, payment_outcome_name(outcome), result.error_message};
    return db_run(db, &order_refund_part_unknown_stmt, 3, p, NULL);
}

/* Sends every refund part owed on an order and not yet confirmed (a whole
 * refund is one part; chart preparation owes parts). */
static enum db_status order_run_refund(struct db *db, struct payment_client *pay, int64_t order_id)
{
    char id[24];
    struct db_result *r = NULL;
    order_int_text(order_id, id, sizeof(id));
    const char *params[] = {id};
    enum db_status st = db_run(db, &order_refund_attempt_stmt, 1, params, &r);
    if (st != DB_OK)
        return st;
    /* No client: the reconciler sends them. */
    for (int i = 0; pay != NULL && i < db_rows(r) && st == DB_OK; i++)
        st = order_send_refund_part(db, pay, order_id, r, i);
    db_result_free(r);
    return st;
}

/* A success reported too late for the order: sends the refund owed. */
static enum db_status order_refund_late(struct db *db, struct payment_client *pay, int64_t id)
{
    log_info(NULL, "order %lld: paid after its inventory went or it was canceled; refunding",
             (long long)id);
    return order_run_refund(db, pay, id);
}

/* The intent succeeded: the order becomes paid, or a refund is owed and
 * sent. When json is not NULL, *json receives the order (malloc'd) or
 * stays NULL. */
static enum db_status order_settle_success(struct db *db, struct payment_client *pay,
                                           const char *intent_id, char **json)
{
    struct db_result *r = NULL;
    const char *params[] = {intent_id, json != NULL ? "true" : "false"};
    enum db_status st = db_run(db, &order_succeeded_stmt, 2, params, &r);
    if (st != DB_OK)
        return st;
    if (db_rows(r) == 1 && !db_is_null(r, 0, 1)) {
        int64_t id = db_int64(r, 0, 1);
        if (strcmp(db_text(r, 0, 0), "refund") == 0)
            st = order_refund_late(db, pay, id); /* the JSON is stale: the caller reads anew */
        else if (json != NULL && !db_is_null(r, 0, 2))
            *json = strdup(db_text(r, 0, 2));
    }
    db_result_free(r);
    return st;
}

/* A confirm attempt (or all open ones) ended without money moving. */
static enum db_status order_settle_failure(struct db *db, const char *intent_id,
                                           const char *payment_id, const char *code,
                                           const char *message)
{
    const char *params[] = {intent_id, payment_id, payment_id == NULL ? "true" : "false", code,
                            message};
    return db_run(db, &order_failed_stmt, 5, params, NULL);
}

/* What the provider says about an intent, fetched: settles every open
 * attempt. */
static enum db_status order_settle_by_retrieve(struct db *db, struct payment_client *pay,
                                               const char *intent_id, bool *settled)
{
    struct payment_result result;
    *settled = false;
    enum payment_outcome outcome = payment_retrieve_intent(pay, intent_id, &result);
    if (outcome == PAYMENT_INVALID_REQUEST && strcmp(result.error_code, "resource_missing") == 0) {
        /* The provider has no such intent: nothing was ever charged. */
        *settled = true;
        return order_settle_failure(db, intent_id, NULL, "payment_failed",
                                    "The payment did not go through. Try again.");
    }
    if (outcome == PAYMENT_UNKNOWN || outcome == PAYMENT_AUTH_ERROR ||
        outcome == PAYMENT_INVALID_REQUEST)
        return DB_OK;
    switch (result.status) {
    case PAYMENT_STATUS_SUCCEEDED:
        *settled = true;
        return order_settle_success(db, pay, intent_id, NULL);
    case PAYMENT_STATUS_REQUIRES_PAYMENT_METHOD:
    case PAYMENT_STATUS_CANCELED:
        *settled = true;
        return order_settle_failure(db, intent_id, NULL, "payment_failed",
                                    "The payment did not go through. Try again.");
    default:
        return DB_OK; /* processing, requires_action: not final yet */
    }
}

/* --- checkout ------------------------------------------------------------- */

/* Sets out->outcome for a refusal word of the checkout functions; false
 * when the word is not one. */
static bool order_checkout_refusal(const char *outcome, struct order_answer *out)
{
    static const struct {
        const char *name;
        enum order_outcome outcome;
    } refusals[] = {
        {"unauthorized", ORDER_UNAUTHORIZED},     {"key_conflict", ORDER_KEY_CONFLICT},
        {"hold_not_found", ORDER_HOLD_NOT_FOUND}, {"hold_expired", ORDER_HOLD_EXPIRED},
        {"hold_released", ORDER_HOLD_RELEASED},   {"hold_has_order", ORDER_HOLD_HAS_ORDER},
        {"nothing_to_pay", ORDER_NOTHING_TO_PAY},
    };
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        if (strcmp(outcome, refusals[i].name) == 0) {
            out->outcome = refusals[i].outcome;
            return true;
        }
    }
    return false;
}

/* Asks the provider for the intent of the user's hold under the checkout's
 * key (the same intent however often it is asked). False with out set
 * when there is none to be had. */
static bool order_create_intent(struct payment_client *pay, int64_t user_id, int64_t hold_id,
                                const char *key, int64_t amount, const char *currency,
                                struct payment_result *result, struct order_answer *out)
{
    char create_key[ORDER_IDEMPOTENCY_KEY_MAX + 48];
    if (pay == NULL) {
        order_answer_provider(out, 503, "payment_unavailable",
                              "Payments are unavailable at the moment. Try again later.");
        return false;
    }
    snprintf(create_key, sizeof(create_key), "checkout-u%lld-%s", (long long)user_id, key);
    enum payment_outcome po =
        payment_create_intent(pay, amount, currency, hold_id, create_key, result);
    if (result->intent_id[0] != '\0' &&
        (po == PAYMENT_REQUIRES_PAYMENT_METHOD || po == PAYMENT_PROCESSING))
        return true;
    log_warn(NULL, "creating the intent of hold %lld: %s %s", (long long)hold_id,
             payment_outcome_name(po), result->error_message);
    if (po == PAYMENT_INVALID_REQUEST && strcmp(result->error_type, "idempotency_error") == 0)
        out->outcome = ORDER_KEY_CONFLICT; /* the key asked for another hold's intent */
    else if (po == PAYMENT_INVALID_REQUEST)
        order_answer_provider(out, 502, "payment_rejected",
                              "The payment provider refused the request.");
    else
        order_answer_provider(out, 503, "payment_unavailable",
                              "Payments are unavailable at the moment. Try again with the same "
                              "Idempotency-Key.");
    return false;
}

/* An order made without its intent (before checkout made the intent
 * first): makes it now and records it. */
static void order_add_intent(struct db *db, struct payment_client *pay, int64_t user_id,
                             int64_t hold_id, const char *key, struct db_result *plan,
                             struct order_answer *out)
{
    struct payment_result result;
    char id[24];
    if (!order_create_intent(pay, user_id, hold_id, key, db_int64(plan, 0, 3), db_text(plan, 0, 4),
                             &result, out))
        return;
    order_int_text(db_int64(plan, 0, 1), id, sizeof(id));
    const char *p[] = {id, result.intent_id, result.client_secret};
    char *json = NULL;
    enum db_status st = outcome_json_query(db, &order_intent_created_stmt, 3, p, &json);
    if (st != DB_OK || json == NULL) {
        free(json);
        order_answer_db(out, st);
        return;
    }
    out->json = json;
    out->outcome = ORDER_OK;
}

/* Checkout of the hold by the caller that plan_stmt resolves from who
 * (the session's token hash, or the user's id). */
static void order_checkout_as(struct db *db, struct payment_client *pay,
                              const struct db_statement *plan_stmt, const char *who,
                              int64_t hold_id, const char *key, struct order_answer *out)
{
    char user[24], hold[24];
    struct db_result *plan = NULL, *r = NULL;
    struct payment_result result;

    memset(out, 0, sizeof(*out));
    order_int_text(hold_id, hold, sizeof(hold));
    const char *plan_params[] = {who, hold, key};
    enum db_status st = db_run(db, plan_stmt, 3, plan_params, &plan);
    if (st != DB_OK || db_rows(plan) != 1) {
        order_answer_db(out, st);
        goto done;
    }
    const char *outcome = db_text(plan, 0, 0);
    if (order_checkout_refusal(outcome, out))
        goto done;
    int64_t user_id = db_int64(plan, 0, 5);
    order_int_text(user_id, user, sizeof(user));
    if (strcmp(outcome, "existing") == 0) {
        if (db_is_null(plan, 0, 2))
            order_add_intent(db, pay, user_id, hold_id, key, plan, out);
        else
            order_answer_json(db, &order_checkout_json_stmt, db_int64(plan, 0, 1), out);
        goto done;
    }
    /* ready: the intent first, then the order with it in one transaction. */
    if (!order_create_intent(pay, user_id, hold_id, key, db_int64(plan, 0, 3), db_text(plan, 0, 4),
                             &result, out))
        goto done;
    const char *params[] = {user, hold, key, result.intent_id, result.client_secret};
    st = db_run(db, &order_checkout_stmt, 5, params, &r);
    if (st == DB_UNIQUE) /* a concurrent request with the same key won: read its order */
        st = db_run(db, &order_checkout_stmt, 5, params, &r);
    if (st != DB_OK || db_rows(r) != 1) {
        order_answer_db(out, st);
        goto done;
    }
    if (order_checkout_refusal(db_text(r, 0, 0), out))
        goto done; /* the intent stays unconfirmed: it can never charge */
    if (db_is_null(r, 0, 2)) {
        order_answer_db(out, DB_ERROR);
        goto done;
    }
    out->json = strdup(db_text(r, 0, 2));
    if (out->json == NULL) {
        order_answer_db(out, DB_ERROR);
        goto done;
    }
    out->outcome = ORDER_OK;
done:
    db_result_free(plan);
    db_result_free(r);
}

void order_checkout(struct db *db, struct payment_client *pay, const char *token_hash,
                    int64_t hold_id, const char *key, struct order_answer *out)
{
    order_checkout_as(db, pay, &order_checkout_plan_stmt, token_hash, hold_id, key, out);
}

/* --- pay ------------------------------------------------------------------ */

/* Makes sure the order has an intent (orders made before checkout created
 * the intent first may have none). */
static void order_ensure_intent(struct db *db, struct payment_client *pay, int64_t user_id,
                                int64_t order_id, struct order_answer *out)
{
    char user[24], id[24];
    struct db_result *r = NULL;
    memset(out, 0, sizeof(*out));
    order_int_text(user_id, user, sizeof(user));
    order_int_text(order_id, id, sizeof(id));
    static const struct db_statement stmt = {
        "order_key_of",
        "SELECT hold_id, idempotency_key FROM orders WHERE id = $1 AND user_id = $2"};
    const char *params[] = {id, user};
    enum db_status st = db_run(db, &stmt, 2, params, &r);
    if (st != DB_OK || db_rows(r) != 1) {
        order_answer_db(out, st);
    } else {
        order_checkout_as(db, pay, &order_checkout_plan_by_user_stmt, user, db_int64(r, 0, 0),
                          db_text(r, 0, 1), out);
    }
    db_result_free(r);
}

/* Records what the provider said to a confirm; out->outcome stays
 * ORDER_OK unless the answer is an error the customer must see as one. */
static enum db_status order_record_confirm(struct db *db, struct payment_client *pay,
                                           const char *payment_id, const char *intent_id,
                                           enum payment_outcome po,
                                           const struct payment_result *result,
                                           struct order_answer *out)
{
    struct payment_api_error e;
    bool settled = false;

    switch (po) {
    case PAYMENT_SUCCEEDED:
        return order_settle_success(db, pay, intent_id, &out->json);
    case PAYMENT_DECLINED:
        if (!payment_api_error_from_result(result, &e)) {
            e.code = "card_declined";
            e.message = "Your card was declined.";
        }
        return order_settle_failure(db, intent_id, payment_id, e.code, e.message);
    case PAYMENT_REQUIRES_PAYMENT_METHOD:
    case PAYMENT_CANCELED:
        return order_settle_failure(db, intent_id, payment_id, "payment_failed",
                                    "The payment did not go through. Try again.");
    case PAYMENT_PROCESSING:
    case PAYMENT_UNKNOWN: {
        log_warn(NULL, "confirming intent %s: %s after %d attempts: %s", intent_id,
                 payment_outcome_name(po), result->attempts, result->error_message);
        const char *p[] = {payment_id, payment_outcome_name(po), result->error_message};
        return db_run(db, &order_unknown_stmt, 3, p, NULL);
    }
    case PAYMENT_INVALID_REQUEST:
        if (strcmp(result->error_code, "payment_intent_unexpected_state") == 0) {
            /* Most likely already paid through another path: ask. */
            enum db_status st = order_settle_by_retrieve(db, pay, intent_id, &settled);
            if (st != DB_OK || settled)
                return st;
        }
        if (!payment_api_error_from_result(result, &e)) {
            e.http_status = 502;
            e.code = "payment_rejected";
            e.message = "The payment provider refused the request.";
        }
        order_answer_provider(out, e.http_status, e.code, e.message);
        return order_settle_failure(db, intent_id, payment_id, e.code, e.message);
    case PAYMENT_AUTH_ERROR:
        log_error(NULL, "the payment provider refused our key");
        order_answer_provider(out, 503, "payment_unavailable",
                              "Payments are unavailable at the moment. Try again later.");
        return order_settle_failure(db, intent_id, payment_id, "payment_unavailable",
                                    "Payments are unavailable at the moment. Try again later.");
    }
    return DB_ERROR;
}

void order_pay(struct db *db, struct payment_client *pay, const char *token_hash, int64_t order_id,
               const char *payment_method, struct order_answer *out)
{
    char id[24];
    struct db_result *r = NULL;
    struct payment_result result;
    enum db_status st;

    memset(out, 0, sizeof(*out));
    if (pay == NULL) {
        order_answer_provider(out, 503, "payment_unavailable",
                              "Payments are unavailable at the moment. Try again later.");
        return;
    }
    order_int_text(order_id, id, sizeof(id));
    const char *params[] = {token_hash, id, payment_method};
    for (int round = 0; round < 2; round++) {
        db_result_free(r);
        r = NULL;
        st = db_run(db, &order_pay_begin_stmt, 3, params, &r);
        if (st != DB_OK || db_rows(r) != 1) {
            order_answer_db(out, st);
            goto done;
        }
        if (strcmp(db_text(r, 0, 0), "needs_intent") != 0 || round == 1)
            break;
        order_ensure_intent(db, pay, db_int64(r, 0, 4), order_id, out);
        if (out->outcome != ORDER_OK)
            goto done;
        order_answer_free(out);
    }
    const char *outcome = db_text(r, 0, 0);
    if (strcmp(outcome, "unauthorized") == 0) {
        out->outcome = ORDER_UNAUTHORIZED;
    } else if (strcmp(outcome, "not_found") == 0) {
        out->outcome = ORDER_NOT_FOUND;
    } else if (strcmp(outcome, "expired") == 0) {
        out->outcome = ORDER_EXPIRED;
    } else if (strcmp(outcome, "not_payable") == 0) {
        out->outcome = ORDER_NOT_PAYABLE;
    } else if (strcmp(outcome, "in_progress") == 0) {
        out->outcome = ORDER_PAYMENT_IN_PROGRESS;
    } else if (strcmp(outcome, "ready") == 0) {
        const char *payment_id = db_text(r, 0, 1);
        const char *intent_id = db_text(r, 0, 2);
        enum payment_outcome po =
            payment_confirm_intent(pay, intent_id, payment_method, db_text(r, 0, 3), &result);
        out->outcome = ORDER_OK;
        st = order_record_confirm(db, pay, payment_id, intent_id, po, &result, out);
        if (st != DB_OK)
            order_answer_db(out, st);
        if (out->outcome == ORDER_OK && out->json == NULL)
            order_answer_json(db, &order_json_stmt, order_id, out);
    } else if (strcmp(outcome, "already_paid") == 0) {
        order_answer_json(db, &order_json_stmt, order_id, out);
    } else {
        order_answer_provider(out, 503, "payment_unavailable",
                              "Payments are unavailable at the moment. Try again later.");
    }
done:
    db_result_free(r);
}

/* --- cancel --------------------------------------------------------------- */

void order_cancel(struct db *db, struct payment_client *pay, int64_t user_id, int64_t order_id,
                  struct order_answer *out)
{
    char user[24], id[24];
    struct db_result *r = NULL;
    struct payment_result result;

    memset(out, 0, sizeof(*out));
    order_int_text(user_id, user, sizeof(user));
    order_int_text(order_id, id, sizeof(id));
    const char *params[] = {user_id > 0 ? user : NULL, id};
    enum db_status st = db_run(db, &order_cancel_stmt, 2, params, &r);
    if (st != DB_OK || db_rows(r) != 1) {
        order_answer_db(out, st);
        goto done;
    }
    const char *outcome = db_text(r, 0, 0);
    if (strcmp(outcome, "not_found") == 0) {
        out->outcome = ORDER_NOT_FOUND;
        goto done;
    }
    if (strcmp(outcome, "not_cancelable") == 0) {
        out->outcome = ORDER_NOT_CANCELABLE;
        goto done;
    }
    if (strcmp(outcome, "chart_prepared") == 0) {
        out->outcome = ORDER_CHART_PREPARED;
        goto done;
    }
    if (strcmp(outcome, "refund") == 0 || strcmp(outcome, "already") == 0) {
        /* Sends a refund still owed (also one an earlier cancel left). */
        st = order_run_refund(db, pay, order_id);
    } else if (strcmp(outcome, "canceled") == 0 && pay != NULL && !db_is_null(r, 0, 1)) {
        /* Best effort: a confirm that slips through anyway is refunded when
         * its success is reported. */
        char key[64];
        snprintf(key, sizeof(key), "order-%lld-cancel", (long long)order_id);
        if (payment_cancel_intent(pay, db_text(r, 0, 1), key, &result) != PAYMENT_CANCELED)
            log_info(NULL, "canceling the intent of order %lld: %s", (long long)order_id,
                     payment_outcome_name(result.outcome));
    }
    if (st != DB_OK) {
        order_answer_db(out, st);
        goto done;
    }
    order_answer_json(db, &order_json_stmt, order_id, out);
done:
    db_result_free(r);
}

void order_cancel_for_hold(struct db *db, struct payment_client *pay, int64_t hold_id,
                           struct order_answer *out)
{
    char hold[24];
    struct db_result *r = NULL;
    memset(out, 0, sizeof(*out));
    order_int_text(hold_id, hold, sizeof(hold));
    const char *params[] = {hold};
    enum db_status st = db_run(db, &order_of_hold_stmt, 1, params, &r);
    if (st != DB_OK || db_rows(r) != 1)
        order_answer_db(out, st);
    else if (db_is_null(r, 0, 0))
        out->outcome = ORDER_NOT_FOUND;
    else
        order_cancel(db, pay, 0, db_int64(r, 0, 0), out);
    /* An expired order has nothing left to cancel: done, as far as the
     * caller is concerned. */
    if (out->outcome == ORDER_NOT_CANCELABLE)
        order_answer_json(db, &order_json_stmt, db_int64(r, 0, 0), out);
    db_result_free(r);
}

/* --- reads ---------------------------------------------------------------- */

enum db_status order_show(struct db *db, int64_t user_id, int64_t order_id, char **json)
{
    char user[24], id[24];
    order_int_text(user_id, user, sizeof(user));
    order_int_text(order_id, id, sizeof(id));
    const char *params[] = {id, user};
    return outcome_json_query(db, &order_show_stmt, 2, params, json);
}

enum db_status order_list(struct db *db, int64_t user_id, char **json)
{
    char user[24];
    order_int_text(user_id, user, sizeof(user));
    const char *params[] = {user};
    return outcome_json_query(db, &order_list_stmt, 1, params, json);
}

/* --- webhooks ------------------------------------------------------------- */

/* Copies a string member into out; false when absent, not a string or too
 * long. */
static bool order_json_string(json_object *obj, const char *key, char *out, size_t cap)
{
    json_object *v = NULL;
    if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return false;
    const char *s = json_object_get_string(v);
    size_t len = strlen(s);
    if (len >= cap)
        return false;
    memcpy(out, s, len + 1);
    return true;
}

bool order_webhook_parse(const char *body, size_t len, struct order_webhook_event *out)
{
    json_object *root = NULL;
    struct v_error err;
    bool ok = false;

    memset(out, 0, sizeof(*out));
    if (body == NULL || len == 0 || len > PAYMENT_RESPONSE_MAX)
        return false;
    /* Strict: one object, valid UTF-8, bounded depth, nothing after it. */
    if (!v_json_object(body, len, &root, &err))
        goto done;
    if (!order_json_string(root, "id", out->id, sizeof(out->id)) || out->id[0] == '\0' ||
        !order_json_string(root, "type", out->type, sizeof(out->type)) || out->type[0] == '\0')
        goto done;
    json_object *created = NULL;
    if (json_object_object_get_ex(root, "created", &created) &&
        json_object_is_type(created, json_type_int))
        out->created = json_object_get_int64(created);
    json_object *data = NULL, *object = NULL;
    if (json_object_object_get_ex(root, "data", &data) &&
        json_object_object_get_ex(data, "object", &object) &&
        json_object_is_type(object, json_type_object)) {
        char kind[32] = "";
        order_json_string(object, "object", kind, sizeof(kind));
        if (strcmp(kind, "payment_intent") == 0)
            order_json_string(object, "id", out->intent_id, sizeof(out->intent_id));
        else
            order_json_string(object, "payment_intent", out->intent_id, sizeof(out->intent_id));
        json_object *error = NULL;
        if (json_object_object_get_ex(object, "last_payment_error", &error) &&
            json_object_is_type(error, json_type_object)) {
            order_json_string(error, "code", out->error_code, sizeof(out->error_code));
            order_json_string(error, "decline_code", out->decline_code, sizeof(out->decline_code));
        }
    }
    ok = true;
done:
    json_object_put(root);
    return ok;
}

enum db_status order_webhook_handle(struct db *db, struct payment_client *pay,
                                    const struct order_webhook_event *event, const char *body,
                                    bool *duplicate)
{
    struct db_result *r = NULL;
    char created[24];
    *duplicate = false;
    order_int_text(event->created, created, sizeof(created));
    const char *params[] = {event->id, event->type,
                            event->intent_id[0] != '\0' ? event->intent_id : NULL, created, body};
    enum db_status st = db_run(db, &order_event_apply_stmt, 5, params, &r);
    if (st != DB_OK)
        return st;
    if (db_rows(r) != 1) {
        db_result_free(r);
        return DB_ERROR;
    }
    *duplicate = !db_bool(r, 0, 0);
    /* A success was settled with the event; only a refund is left to send. */
    if (!db_is_null(r, 0, 1) && strcmp(db_text(r, 0, 1), "refund") == 0)
        st = order_refund_late(db, pay, db_int64(r, 0, 2));
    db_result_free(r);
    if (st != DB_OK || *duplicate || event->intent_id[0] == '\0')
        return st;
    if (strcmp(event->type, "payment_intent.payment_failed") == 0) {
        struct payment_result result;
        struct payment_api_error e;
        memset(&result, 0, sizeof(result));
        result.outcome = PAYMENT_DECLINED;
        snprintf(result.error_code, sizeof(result.error_code), "%s", event->error_code);
        snprintf(result.decline_code, sizeof(result.decline_code), "%s", event->decline_code);
        if (!payment_api_error_from_result(&result, &e)) {
            e.code = "card_declined";
            e.message = "Your card was declined.";
        }
        /* No attempt is settled here: a later one may be on its way. */
        const char *p[] = {event->intent_id, NULL, "false", e.code, e.message};
        return db_run(db, &order_failed_stmt, 5, p, NULL);
    }
    return DB_OK;
}

/* --- worker --------------------------------------------------------------- */

enum db_status order_expire(struct db *db, int limit, int *expired)
{
    char text[16];
    struct db_result *r = NULL;
    snprintf(text, sizeof(text), "%d", limit);
    const char *params[] = {text};
    *expired = 0;
    enum db_status st = db_run(db, &order_expire_stmt, 1, params, &r);
    if (st == DB_OK && db_rows(r) == 1)
        *expired = (int)db_int64(r, 0, 0);
    db_result_free(r);
    return st;
}

enum db_status order_reconcile(struct db *db, const struct config *cfg, int limit, int *settled)
{
    char text[16];
    struct db_result *r = NULL;
    struct payment_config pc;
    struct payment_client *pay = NULL;

    *settled = 0;
    snprintf(text, sizeof(text), "%d", limit);
    const char *params[] = {text};
    enum db_status st = db_run(db, &order_reconcile_work_stmt, 1, params, &r);
    if (st != DB_OK || db_rows(r) == 0)
        goto done;
    if (order_payment_config(cfg, &pc))
        pay = payment_open(&pc);
    if (pay == NULL) {
        log_warn(NULL, "payments to reconcile but no provider client");
        goto done;
    }
    for (int i = 0; i < db_rows(r) && st == DB_OK; i++) {
        const char *kind = db_text(r, i, 0);
        int64_t order_id = db_int64(r, i, 1);
        if (strcmp(kind, "refund") == 0) {
            st = order_run_refund(db, pay, order_id);
            (*settled)++;
        } else if (!db_is_null(r, i, 2)) {
            bool done = false;
            st = order_settle_by_retrieve(db, pay, db_text(r, i, 2), &done);
            if (st == DB_OK && done) {
                (*settled)++;
                log_info(NULL, "reconciled the payment of order %lld", (long long)order_id);
            } else if (st == DB_OK) {
                /* Not final yet, or the provider did not answer: later. */
                char id[24];
                order_int_text(order_id, id, sizeof(id));
                const char *p[] = {id};
                st = db_run(db, &order_reconcile_later_stmt, 1, p, NULL);
            }
        }
    }
done:
    payment_close(pay);
    db_result_free(r);
    return st;
}
