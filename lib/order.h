/* order.h: checkout, payment, cancellation and reconciliation of orders.
 *
 * An order is a hold being paid for, through the payment provider
 * (payment.h). No database transaction is ever open across a provider
 * call: each step records the attempt first (a crash leaves a row the
 * reconciler finds), calls the provider, then records the outcome in one
 * transaction (sql/functions/030_orders.sql). Every transition is
 * idempotent, so the pay answer, the webhook and the reconciler may all
 * report the same payment in any order. */
#ifndef BOXOFFICE_ORDER_H
#define BOXOFFICE_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "payment.h"

#define ORDER_IDEMPOTENCY_KEY_MAX 200
#define ORDER_EVENT_ID_MAX 255

enum order_outcome {
    ORDER_OK,                  /* json holds the answer */
    ORDER_NOT_FOUND,           /* no such order of this user */
    ORDER_UNAUTHORIZED,        /* checkout, pay: the session is not (or no longer) valid */
    ORDER_HOLD_NOT_FOUND,      /* checkout: no such hold of this user */
    ORDER_HOLD_EXPIRED,        /* checkout: the hold passed its expiry */
    ORDER_HOLD_RELEASED,       /* checkout: the hold was given back */
    ORDER_HOLD_HAS_ORDER,      /* checkout: another key already made its order */
    ORDER_KEY_CONFLICT,        /* checkout: the key made an order for another hold */
    ORDER_NOTHING_TO_PAY,      /* checkout: the hold costs nothing */
    ORDER_EXPIRED,             /* pay: past the deadline */
    ORDER_NOT_PAYABLE,         /* pay: canceled or refunded */
    ORDER_NOT_CANCELABLE,      /* cancel: expired */
    ORDER_CHART_PREPARED,      /* cancel: a train order whose run's chart is prepared */
    ORDER_PAYMENT_IN_PROGRESS, /* pay: an earlier attempt awaits the provider */
    ORDER_PROVIDER_ERROR,      /* error says what to answer */
    ORDER_DB_FAILED            /* db_status says why */
};

/* What a call produced. Free with order_answer_free. */
struct order_answer {
    enum order_outcome outcome;
    enum db_status db_status;
    char *json;                     /* ORDER_OK: the answer's JSON text, malloc'd */
    struct payment_api_error error; /* ORDER_PROVIDER_ERROR */
};

void order_answer_free(struct order_answer *answer);

/* The provider client's settings from the configuration (retries and
 * backoff chosen here). False when payments are not configured. */
bool order_payment_config(const struct config *cfg, struct payment_config *out);

/* True for an Idempotency-Key we accept: 1..ORDER_IDEMPOTENCY_KEY_MAX
 * bytes of printable ASCII without spaces. */
bool order_idempotency_key_valid(const char *key);

/* POST /api/holds/{id}/checkout: makes (or, for the same key, finds) the
 * pending order of the user's hold and its PaymentIntent. The user is the
 * session whose token hash (hex SHA-256) is token_hash, resolved in the
 * same query (ORDER_UNAUTHORIZED when it is not valid). json is
 * {"order": {...}, "payment": {"provider","intent_id","client_secret"}}.
 * pay may be NULL when payments are not configured (then a provider error). */
void order_checkout(struct db *db, struct payment_client *pay, const char *token_hash,
                    int64_t hold_id, const char *key, struct order_answer *out);

/* POST /api/orders/{id}/pay: confirms the intent with payment_method. json
 * is the order: paid with tickets; pending_payment with payment_error
 * after a decline or an unclear answer (the webhook or the reconciler
 * settles it); expired with a refund when the payment came too late for
 * the inventory. */
void order_pay(struct db *db, struct payment_client *pay, const char *token_hash, int64_t order_id,
               const char *payment_method, struct order_answer *out);

/* POST /api/orders/{id}/cancel: a paid order is refunded (tickets void,
 * inventory free at once, the refund sent now or by the reconciler); a
 * pending one is canceled (inventory free, the intent canceled). user_id 0
 * acts for whoever owns the order. json is the order. */
void order_cancel(struct db *db, struct payment_client *pay, int64_t user_id, int64_t order_id,
                  struct order_answer *out);

/* For other areas (trains: PNR cancellation): cancels the order of a hold,
 * whoever owns it, exactly as order_cancel does: when paid, tickets void,
 * inventory freed through hold_unfulfil (train_hold_unfulfil for trains),
 * status refunded and the full amount refunded through the provider, now
 * or, if the provider does not answer, by boxoffice-worker's reconciler
 * (same idempotency key: at most one refund). When still pending, the
 * order is canceled and its inventory released (train_hold_release for
 * trains). An expired order (its inventory already released by the
 * worker's expiry, again through train_hold_release) has nothing to
 * cancel. Idempotent: in all these cases, and when called again, it
 * answers ORDER_OK with the order as it is. ORDER_NOT_FOUND when the
 * hold has no order (nothing was paid; release the hold instead). json is
 * the order; call order_answer_free. pay may be NULL: a refund owed is then
 * left to the reconciler. */
void order_cancel_for_hold(struct db *db, struct payment_client *pay, int64_t hold_id,
                           struct order_answer *out);

/* GET /api/orders/{id}: *json the order, NULL when not the user's. */
enum db_status order_show(struct db *db, int64_t user_id, int64_t order_id, char **json)
    __attribute__((warn_unused_result));

/* GET /api/orders: *json {"orders": [...]}, newest first, at most 100. */
enum db_status order_list(struct db *db, int64_t user_id, char **json)
    __attribute__((warn_unused_result));

/* The part of a provider event the orders care about. */
struct order_webhook_event {
    char id[ORDER_EVENT_ID_MAX + 1];     /* evt_... */
    char type[64];                       /* payment_intent.succeeded, ... */
    char intent_id[PAYMENT_ID_MAX];      /* data.object (a payment_intent) or its payment_intent */
    int64_t created;                     /* Unix seconds, 0 when absent */
    char error_code[PAYMENT_CODE_MAX];   /* data.object.last_payment_error.code */
    char decline_code[PAYMENT_CODE_MAX]; /* ... .decline_code */
};

/* Reads an event body (len bytes). False when it is not a JSON object with
 * a string id (1..ORDER_EVENT_ID_MAX bytes) and type; intent_id is empty
 * when the event names no intent. Pure: no I/O. */
bool order_webhook_parse(const char *body, size_t len, struct order_webhook_event *out)
    __attribute__((warn_unused_result));

/* Stores a verified event once and drives the transition it reports
 * (payment_intent.succeeded: as a successful pay; payment_intent
 * .payment_failed: the order's payment_error). A duplicate changes
 * nothing. *duplicate says whether it had been seen. */
enum db_status order_webhook_handle(struct db *db, struct payment_client *pay,
                                    const struct order_webhook_event *event, const char *body,
                                    bool *duplicate) __attribute__((warn_unused_result));

/* boxoffice-worker: expires up to limit pending orders past their
 * deadline (those with a payment attempt still open wait for the
 * reconciler); *expired says how many. */
enum db_status order_expire(struct db *db, int limit, int *expired)
    __attribute__((warn_unused_result));

/* boxoffice-worker: settles up to limit payment attempts left unclear
 * (fetching their intents) and sends refunds still owed. Opens a provider
 * client only when there is work. *settled counts the items handled.
 * Returns DB_OK unless the database failed. */
enum db_status order_reconcile(struct db *db, const struct config *cfg, int limit, int *settled)
    __attribute__((warn_unused_result));

#endif
