/* job_orders.c: the orders' background jobs: reconciliation of payments
 * and expiry of unpaid orders. */
#include "jobs.h"

#include "log.h"
#include "order.h"

#define JOB_ORDERS_BATCH 200

/* Settles payment attempts that ended without a clear answer (by asking
 * the provider) and sends refunds still owed, in batches until none are
 * left. Runs before the expiry, which skips orders still being settled. */
bool job_orders_reconcile(struct db *db, const struct config *cfg)
{
    int settled = 0;
    int rounds = 0;
    do {
        if (order_reconcile(db, cfg, JOB_ORDERS_BATCH, &settled) != DB_OK) {
            log_warn(NULL, "payment reconciliation failed: %s", db_last_error(db));
            return false;
        }
        if (settled > 0)
            log_info(NULL, "reconciled %d payments", settled);
    } while (settled >= JOB_ORDERS_BATCH && ++rounds < 10);
    return true;
}

/* Expires unpaid orders past their deadline, in batches until none are
 * left. */
bool job_orders_expire(struct db *db, const struct config *cfg)
{
    (void)cfg;
    int expired = 0;
    do {
        if (order_expire(db, JOB_ORDERS_BATCH, &expired) != DB_OK) {
            log_warn(NULL, "order expiry failed: %s", db_last_error(db));
            return false;
        }
        if (expired > 0)
            log_info(NULL, "expired %d orders", expired);
    } while (expired == JOB_ORDERS_BATCH);
    return true;
}
