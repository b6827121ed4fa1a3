/* supervisor.h: the parent of the prefork workers: starts them, replaces
 * any that die, and on SIGTERM lets them drain before it exits. */
#ifndef BOXOFFICE_SUPERVISOR_H
#define BOXOFFICE_SUPERVISOR_H

#include "config.h"

/* Forks `workers` children that each run worker_run on listen_fd, and
 * supervises them until SIGTERM or SIGINT. Returns the exit status. */
int supervisor_run(const struct config *cfg, int listen_fd, int workers);

#endif
