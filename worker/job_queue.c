/* job_queue.c: the waiting room's admission ticks. Each run reads every
 * open sale's state, and once a second per event advances its cursor
 * (lib/queue.c does the arithmetic); a change in "sold out" applies at
 * once so that waiting users hear of it within the fcgi cache's second. */
#include "jobs.h"

#include "log.h"
#include "queue.h"

#include <stdlib.h>

bool job_queue_admit(struct db *db, const struct config *cfg)
{
    (void)cfg;
    struct queue_tick *ticks = NULL;
    size_t count = 0;
    bool ok = true;

    if (queue_tick_state(db, &ticks, &count) != DB_OK) {
        log_warn(NULL, "queue tick failed: %s", db_last_error(db));
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        struct queue_tick *t = &ticks[i];
        struct queue_step step;
        bool due = t->elapsed_ms >= QUEUE_TICK_MS;
        bool applied = false;
        if (!due && t->stock_gone == t->sold_out)
            continue;
        if (!due)
            t->elapsed_ms = 0; /* only the sold-out flag changes now */
        queue_cursor_step(t, &step);
        if (!due)
            step.carry = t->carry;
        if (queue_tick_apply(db, t, &step, due, &applied) != DB_OK) {
            log_warn(NULL, "queue tick for event %lld failed: %s", (long long)t->event_id,
                     db_last_error(db));
            ok = false;
            continue;
        }
        if (applied && step.sold_out != t->sold_out)
            log_info(NULL, "event %lld: waiting room %s", (long long)t->event_id,
                     step.sold_out ? "sold out" : "admitting again");
    }
    free(ticks);
    return ok;
}
