/* queue.h: the waiting room's domain calls (joining, fairness, the
 * worker's admission ticks) and the admission arithmetic. Status polls do
 * not come here: see queue_cache.h. */
#ifndef BOXOFFICE_QUEUE_H
#define BOXOFFICE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

enum queue_join_outcome {
    QUEUE_JOINED,
    QUEUE_EVENT_NOT_FOUND,
    QUEUE_DISABLED,
    QUEUE_SALE_CLOSED,
    QUEUE_POW_REQUIRED,
};

struct queue_join_result {
    enum queue_join_outcome outcome;
    int64_t position; /* 0 while in the pre-queue */
    bool pre_queue;
    int pow_bits; /* the event's difficulty */
};

/* Puts the user in line for the event once (again: the same place).
 * pow_bits is the proof of work the caller verified (-1 for none). Returns
 * the database status; on DB_OK read *result. */
enum db_status queue_join(struct db *db, int64_t event_id, int64_t user_id, int pow_bits,
                          struct queue_join_result *result) __attribute__((warn_unused_result));

/* A pre-queue user's drawn position into *position (0 when not drawn or
 * not in line). */
enum db_status queue_position(struct db *db, int64_t event_id, int64_t user_id, int64_t *position)
    __attribute__((warn_unused_result));

/* The fairness record as JSON (*json malloc'd, NULL when the event has no
 * waiting room). */
enum db_status queue_fairness(struct db *db, int64_t event_id, char **json)
    __attribute__((warn_unused_result));

/* One event's admission state at a worker tick. */
struct queue_tick {
    int64_t event_id;
    int64_t cursor;     /* positions 1..cursor are admitted */
    int64_t carry;      /* owed fraction, in 1/60000ths of an admission */
    int64_t elapsed_ms; /* since the last tick */
    int64_t admit_per_minute;
    int64_t max_active;
    int64_t active;        /* admitted, access not expired, not used up */
    int64_t last_position; /* positions 1..last_position are taken */
    bool stock_gone;       /* no seat left and none can come back */
    bool sold_out;         /* what the queue says now */
    int64_t at_ms;         /* the database's time of this state, Unix ms */
};

/* The step to apply. */
struct queue_step {
    int64_t cursor;
    int64_t carry;
    bool sold_out;
};

/* A tick is due once a second; a sold-out change applies at once. */
#define QUEUE_TICK_MS 1000
/* A worker that was away does not make up for more than this. */
#define QUEUE_MAX_ELAPSED_MS 5000

/* The admission arithmetic: advances the cursor by admit_per_minute per
 * minute of elapsed time (elapsed capped at QUEUE_MAX_ELAPSED_MS), carrying
 * the fraction to the next tick, but never past max_active active users
 * nor past the last position taken (when either caps the step, the
 * fraction is dropped: nobody banks admissions while the line is empty or
 * full). When the stock is gone it stops and says sold out. */
void queue_cursor_step(const struct queue_tick *tick, struct queue_step *step);

/* Every event with an open sale and a waiting room, drawing pre-queues
 * whose sale has just opened. *ticks is malloc'd (caller frees), *count
 * rows. */
enum db_status queue_tick_state(struct db *db, struct queue_tick **ticks, size_t *count)
    __attribute__((warn_unused_result));

/* Applies a step if the cursor is still tick->cursor; *applied says
 * whether it was. ticked restarts the event's tick clock. */
enum db_status queue_tick_apply(struct db *db, const struct queue_tick *tick,
                                const struct queue_step *step, bool ticked, bool *applied)
    __attribute__((warn_unused_result));

#endif
