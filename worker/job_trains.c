/* job_trains.c: the trains' background jobs: expiry of unpaid bookings,
 * chart preparation and the generation of runs ahead. */
#include "jobs.h"

#include "log.h"
#include "train.h"

#define JOB_TRAINS_BATCH 200
#define JOB_TRAINS_CHART_ROUNDS 200

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

/* Prepares the charts that are due, one run per transaction. The refunds
 * they owe (partial for a booking with some passengers travelling, whole
 * for one with nobody left) are recorded in the same transaction and sent
 * by the payments reconciler with their own idempotency keys. */
bool job_trains_charts(struct db *db, const struct config *cfg)
{
    (void)cfg;
    for (int round = 0; round < JOB_TRAINS_CHART_ROUNDS; round++) {
        int charted = 0;
        int refunds = 0;
        if (train_prepare_charts(db, 1, &charted, &refunds) != DB_OK) {
            log_warn(NULL, "chart preparation failed: %s", db_last_error(db));
            return false;
        }
        if (charted == 0)
            break;
        log_info(NULL, "prepared %d train charts, %d refunds owed", charted, refunds);
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
