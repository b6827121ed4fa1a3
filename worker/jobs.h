/* jobs.h: the background jobs boxoffice-worker runs each period, in one
 * table (jobs.c) so that adding a job touches one line. */
#ifndef BOXOFFICE_JOBS_H
#define BOXOFFICE_JOBS_H

#include "config.h"
#include "db.h"

/* Runs every job once, logging failures; a failing job does not stop the
 * others. */
void jobs_run_all(struct db *db, const struct config *cfg);

#endif
