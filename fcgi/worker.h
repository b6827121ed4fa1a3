/* worker.h: one prefork worker process: the FastCGI accept loop, request
 * decoding, authentication, dispatch and the access log. */
#ifndef BOXOFFICE_WORKER_H
#define BOXOFFICE_WORKER_H

#include <stdbool.h>

#include "config.h"
#include "db.h"
#include "payment.h"
#include "queue_cache.h"
#include "search.h"
#include "soldout.h"

/* Per-process state a handler may use through req->process. */
struct worker_state {
    const struct config *cfg;
    struct db *db;
    struct soldout_cache soldout;
    struct queue_cache queue; /* waiting-room admission state, refreshed each second */
    struct payment_client *payment; /* the payment provider, opened on first use (h_order.c) */
    struct search_backend *search;  /* search (and its answer cache), opened on first use */
};

/* Runs the accept loop on listen_fd until SIGTERM or SIGINT, finishing the
 * request in flight first. Returns the process exit status. */
int worker_run(const struct config *cfg, int listen_fd);

#endif
