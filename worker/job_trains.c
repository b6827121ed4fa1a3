/* job_trains.c: the trains' background jobs: expiry of unpaid bookings,
 * chart preparation and the generation of runs ahead. */
#include "jobs.h"

#include "log.h"
#include "order.h"
#include "train.h"

#include <string.h>

#define JOB_TRAINS_BATCH 200
#define JOB_TRAINS_CHART_ROUNDS 200
#define JOB_TRAINS_REFUNDS_MAX 1024

/* Expires unpaid bookings past their hold, in batches until none are left;
 * each expiry promotes the RAC and WL passengers behind it. Availability
 * never waits for this (expiry is lazy). */
bool job_trains_sweep(struct db *db, const struct config *cfg)
{
    (void)cfg;
    int expired = 0;
    int rounds = 0;
    do {
        if (train_sweep(db, JOB_TRAINS_BATCH, &expired) != DB_OK) {
            log_warn(NULL, "train booking sweep failed: %s", db_last_error(db));
            return false;
        }
        if (expired > 0)
            log_info(NULL, "expired %d train bookings", expired);
    } while (expired == JOB_TRAINS_BATCH && ++rounds < 10);
    return true;
}

/* Refunds the paid bookings a chart left with nobody travelling. */
static bool job_trains_chart_refunds(struct db *db, const struct train_chart_refund *refunds,
                                     size_t count)
{
    for (size_t i = 0; i < count; i++) {
        bool all = false;
        if (train_hold_all_cancelled(db, refunds[i].hold_id, &all) != DB_OK) {
            log_warn(NULL, "chart refund check failed: %s", db_last_error(db));
            return false;
        }
        if (!all) {
            log_info(NULL, "chart: hold %lld has %d waitlisted passengers cancelled, refund due",
                     (long long)refunds[i].hold_id, refunds[i].passengers);
            continue;
        }
        struct order_answer answer;
        memset(&answer, 0, sizeof(answer));
        order_cancel_for_hold(db, NULL, refunds[i].hold_id, &answer);
        if (answer.outcome != ORDER_OK)
            log_warn(NULL, "chart: refund of hold %lld failed (outcome %d)",
                     (long long)refunds[i].hold_id, (int)answer.outcome);
        else
            log_info(NULL, "chart: refunded hold %lld", (long long)refunds[i].hold_id);
        order_answer_free(&answer);
    }
    return true;
}

/* Prepares the charts that are due. A paid booking whose passengers were
 * all waitlisted is cancelled through its order, which refunds it in full
 * (the reconciler sends the refund); a paid booking with some passengers
 * travelling keeps its order, and the cancelled passengers' fares stay
 * recorded as refund_due (partial refunds are not supported by orders). */
bool job_trains_charts(struct db *db, const struct config *cfg)
{
    (void)cfg;
    /* One run per call, so that every refund it owes fits here. */
    struct train_chart_refund refunds[JOB_TRAINS_REFUNDS_MAX];
    for (int round = 0; round < JOB_TRAINS_CHART_ROUNDS; round++) {
        size_t count = 0;
        bool more = false;
        if (train_prepare_charts(db, 1, refunds, JOB_TRAINS_REFUNDS_MAX, &count, &more) != DB_OK) {
            log_warn(NULL, "chart preparation failed: %s", db_last_error(db));
            return false;
        }
        if (!more)
            break;
        if (!job_trains_chart_refunds(db, refunds, count))
            return false;
    }
    return true;
}

/* Once a day, creates the runs that entered the generation window. */
bool job_trains_extend_runs(struct db *db, const struct config *cfg)
{
    (void)cfg;
    int created = 0;
    if (train_extend_runs(db, &created) != DB_OK) {
        log_warn(NULL, "extending train runs failed: %s", db_last_error(db));
        return false;
    }
    if (created > 0)
        log_info(NULL, "created %d train runs", created);
    return true;
}
