/* jobs.h: the background jobs boxoffice-worker runs each period, in one
 * table (jobs.c) so that adding a job touches one line. */
#ifndef BOXOFFICE_JOBS_H
#define BOXOFFICE_JOBS_H

#include "config.h"
#include "db.h"

/* Runs every job once, logging failures; a failing job does not stop the
 * others. */
void jobs_run_all(struct db *db, const struct config *cfg);

/* job_orders.c: settles payments left unclear, sends refunds owed, and
 * expires unpaid orders past their deadline. */
bool job_orders_reconcile(struct db *db, const struct config *cfg);
bool job_orders_expire(struct db *db, const struct config *cfg);

/* job_queue.c: advances each waiting room's admission cursor once a second
 * and tells waiting users when the event is sold out. */
bool job_queue_admit(struct db *db, const struct config *cfg);

/* job_trains.c: expires unpaid train bookings (promoting the queues behind
 * them), prepares the charts that are due (refunding waitlisted
 * passengers), and keeps train runs generated ahead. */
bool job_trains_sweep(struct db *db, const struct config *cfg);
bool job_trains_charts(struct db *db, const struct config *cfg);
bool job_trains_extend_runs(struct db *db, const struct config *cfg);

#endif
