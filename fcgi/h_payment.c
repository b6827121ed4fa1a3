/* h_payment.c: the payment provider's webhook. */
#include "handlers.h"
#include "log.h"
#include "order.h"
#include "webhook_signature.h"
#include "worker.h"

#include <string.h>
#include <time.h>

/* POST /api/payments/webhook: 200 {"received": true} once the event is
 * stored (and its transition made; a duplicate changes nothing); 400
 * bad_signature for a missing, wrong or stale Stripe-Signature; 400
 * invalid_event for a body that is not an event; 503 when it could not be
 * stored (the provider retries). */
void h_payment_webhook(struct request *req, struct response *res)
{
    struct worker_state *state = req->process;
    struct order_webhook_event event;
    struct payment_config pc;
    bool duplicate = false;
    const char *body = req->body != NULL ? req->body : "";

    enum webhook_signature_result sig = webhook_signature_verify(
        req->stripe_signature, body, req->body_len, req->cfg->payment_webhook_secret,
        (int64_t)time(NULL), WEBHOOK_SIGNATURE_TOLERANCE_S);
    if (sig != WEBHOOK_SIGNATURE_OK || req->cfg->payment_webhook_secret[0] == '\0') {
        log_info(req->id, "webhook refused: signature %s", webhook_signature_result_name(sig));
        http_error(res, 400, "bad_signature", "The Stripe-Signature header does not verify.");
        return;
    }
    if (!order_webhook_parse(body, req->body_len, &event)) {
        http_error(res, 400, "invalid_event", "The body is not a provider event.");
        return;
    }
    if (state->payment == NULL && order_payment_config(req->cfg, &pc))
        state->payment = payment_open(&pc);
    enum db_status st = order_webhook_handle(req->db, state->payment, &event, body, &duplicate);
    if (st != DB_OK) {
        http_db_failure(req, res, st);
        return;
    }
    json_object *answer = json_object_new_object();
    json_object_object_add(answer, "received", json_object_new_boolean(1));
    json_object_object_add(answer, "duplicate", json_object_new_boolean(duplicate));
    http_json(res, 200, answer);
}
