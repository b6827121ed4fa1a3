/* queue.c: the waiting room's domain calls and admission arithmetic. */
#include "queue.h"

#include "outcome.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_statement queue_join_stmt = {
    "queue_join", "SELECT outcome, place, pre_queue, pow_bits FROM queue_join($1, $2, $3)"};
static const struct db_statement queue_position_stmt = {"queue_position",
                                                        "SELECT queue_position($1, $2)"};
static const struct db_statement queue_fairness_stmt = {"queue_fairness",
                                                        "SELECT queue_fairness_json($1)"};
static const struct db_statement queue_tick_state_stmt = {
    "queue_tick_state",
    "SELECT event_id, admit_cursor, carry, elapsed_ms, admit_per_minute, max_active, active, "
    "last_position, stock_gone, sold_out, at_ms FROM queue_tick_state()"};
static const struct db_statement queue_tick_apply_stmt = {
    "queue_tick_apply", "SELECT queue_tick_apply($1, $2, $3, $4, $5, $6, $7)"};

static const struct {
    const char *name;
    enum queue_join_outcome outcome;
} queue_join_outcomes[] = {
    {"joined", QUEUE_JOINED},
    {"event_not_found", QUEUE_EVENT_NOT_FOUND},
    {"queue_disabled", QUEUE_DISABLED},
    {"sale_closed", QUEUE_SALE_CLOSED},
    {"pow_required", QUEUE_POW_REQUIRED},
};

enum db_status queue_join(struct db *db, int64_t event_id, int64_t user_id, int pow_bits,
                          struct queue_join_result *result)
{
    char event[24], user[24], bits[16];
    struct db_result *r = NULL;
    snprintf(event, sizeof(event), "%lld", (long long)event_id);
    snprintf(user, sizeof(user), "%lld", (long long)user_id);
    snprintf(bits, sizeof(bits), "%d", pow_bits);
    const char *params[] = {event, user, bits};

    memset(result, 0, sizeof(*result));
    enum db_status st = db_run(db, &queue_join_stmt, 3, params, &r);
    if (st != DB_OK)
        return st;
    st = DB_ERROR;
    if (db_rows(r) == 1) {
        const char *name = db_text(r, 0, 0);
        for (size_t i = 0; i < sizeof(queue_join_outcomes) / sizeof(queue_join_outcomes[0]); i++) {
            if (strcmp(name, queue_join_outcomes[i].name) == 0) {
                result->outcome = queue_join_outcomes[i].outcome;
                st = DB_OK;
            }
        }
        result->position = db_is_null(r, 0, 1) ? 0 : db_int64(r, 0, 1);
        result->pre_queue = !db_is_null(r, 0, 2) && db_bool(r, 0, 2);
        result->pow_bits = (int)db_int64(r, 0, 3);
    }
    db_result_free(r);
    return st;
}

enum db_status queue_position(struct db *db, int64_t event_id, int64_t user_id, int64_t *position)
{
    char event[24], user[24];
    struct db_result *r = NULL;
    snprintf(event, sizeof(event), "%lld", (long long)event_id);
    snprintf(user, sizeof(user), "%lld", (long long)user_id);
    const char *params[] = {event, user};

    *position = 0;
    enum db_status st = db_run(db, &queue_position_stmt, 2, params, &r);
    if (st == DB_OK && db_rows(r) == 1 && !db_is_null(r, 0, 0))
        *position = db_int64(r, 0, 0);
    db_result_free(r);
    return st;
}

enum db_status queue_fairness(struct db *db, int64_t event_id, char **json)
{
    char event[24];
    snprintf(event, sizeof(event), "%lld", (long long)event_id);
    const char *params[] = {event};
    return outcome_json_query(db, &queue_fairness_stmt, 1, params, json);
}

void queue_cursor_step(const struct queue_tick *tick, struct queue_step *step)
{
    step->cursor = tick->cursor;
    step->carry = 0;
    step->sold_out = tick->stock_gone;
    if (tick->stock_gone)
        return;
    int64_t elapsed = tick->elapsed_ms;
    if (elapsed < 0)
        elapsed = 0;
    if (elapsed > QUEUE_MAX_ELAPSED_MS)
        elapsed = QUEUE_MAX_ELAPSED_MS;
    int64_t carry = tick->carry >= 0 && tick->carry < 60000 ? tick->carry : 0;
    /* admit_per_minute * ms / 60000 admissions; at most 6e6 * 5000: no overflow. */
    int64_t owed = tick->admit_per_minute * elapsed + carry;
    int64_t admit = owed / 60000;
    carry = owed % 60000;
    int64_t room = tick->max_active - tick->active;
    if (room < 0)
        room = 0;
    int64_t waiting = tick->last_position - tick->cursor;
    if (waiting < 0)
        waiting = 0;
    if (admit >= room) {
        admit = room;
        carry = 0;
    }
    if (admit >= waiting) {
        admit = waiting;
        carry = 0;
    }
    step->cursor = tick->cursor + admit;
    step->carry = carry;
}

enum db_status queue_tick_state(struct db *db, struct queue_tick **ticks, size_t *count)
{
    struct db_result *r = NULL;
    *ticks = NULL;
    *count = 0;
    enum db_status st = db_run(db, &queue_tick_state_stmt, 0, NULL, &r);
    if (st != DB_OK)
        return st;
    int rows = db_rows(r);
    if (rows > 0) {
        *ticks = calloc((size_t)rows, sizeof(**ticks));
        if (*ticks == NULL) {
            db_result_free(r);
            return DB_ERROR;
        }
    }
    for (int i = 0; i < rows; i++) {
        struct queue_tick *t = &(*ticks)[i];
        t->event_id = db_int64(r, i, 0);
        t->cursor = db_int64(r, i, 1);
        t->carry = db_int64(r, i, 2);
        t->elapsed_ms = db_int64(r, i, 3);
        t->admit_per_minute = db_int64(r, i, 4);
        t->max_active = db_int64(r, i, 5);
        t->active = db_int64(r, i, 6);
        t->last_position = db_int64(r, i, 7);
        t->stock_gone = db_bool(r, i, 8);
        t->sold_out = db_bool(r, i, 9);
        t->at_ms = db_int64(r, i, 10);
    }
    *count = (size_t)rows;
    db_result_free(r);
    return DB_OK;
}

enum db_status queue_tick_apply(struct db *db, const struct queue_tick *tick,
                                const struct queue_step *step, bool ticked, bool *applied)
{
    char event[24], old_cursor[24], new_cursor[24], carry[24], at[24];
    struct db_result *r = NULL;
    snprintf(event, sizeof(event), "%lld", (long long)tick->event_id);
    snprintf(old_cursor, sizeof(old_cursor), "%lld", (long long)tick->cursor);
    snprintf(new_cursor, sizeof(new_cursor), "%lld", (long long)step->cursor);
    snprintf(carry, sizeof(carry), "%lld", (long long)step->carry);
    snprintf(at, sizeof(at), "%lld", (long long)tick->at_ms);
    const char *params[] = {
        event, old_cursor, new_cursor, carry, step->sold_out ? "t" : "f", ticked ? "t" : "f", at};

    *applied = false;
    enum db_status st = db_run(db, &queue_tick_apply_stmt, 7, params, &r);
    if (st == DB_OK && db_rows(r) == 1)
        *applied = db_bool(r, 0, 0);
    db_result_free(r);
    return st;
}
