/* jobs.c: the background jobs boxoffice-worker runs each period. */
#include "jobs.h"

#include "hold.h"
#include "log.h"

#define JOBS_SWEEP_BATCH 1000

typedef bool (*jobs_fn)(struct db *db, const struct config *cfg);

/* Expires holds past their time in batches until none are left. */
static bool jobs_expire_holds(struct db *db, const struct config *cfg)
{
    (void)cfg;
    int expired = 0;
    do {
        if (hold_sweep(db, JOBS_SWEEP_BATCH, &expired) != DB_OK) {
            log_warn(NULL, "hold sweep failed: %s", db_last_error(db));
            return false;
        }
        if (expired > 0)
            log_info(NULL, "expired %d holds", expired);
    } while (expired == JOBS_SWEEP_BATCH);
    return true;
}

static const struct {
    const char *name;
    jobs_fn run;
} jobs_table[] = {
    {"expire_holds", jobs_expire_holds},
    {"queue_admit", job_queue_admit},
    {"reconcile_payments", job_orders_reconcile},
    {"expire_orders", job_orders_expire},
    {"expire_train_bookings", job_trains_sweep},
    {"prepare_train_charts", job_trains_charts},
    {"extend_train_runs", job_trains_extend_runs},
};

void jobs_run_all(struct db *db, const struct config *cfg)
{
    for (size_t i = 0; i < sizeof(jobs_table) / sizeof(jobs_table[0]); i++) {
        if (!jobs_table[i].run(db, cfg))
            log_debug(NULL, "job %s did not finish", jobs_table[i].name);
    }
}
