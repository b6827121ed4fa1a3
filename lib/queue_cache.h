/* queue_cache.h: each fcgi worker's copy of the waiting room's admission
 * state, refreshed with one query at most once a second, so that status
 * polls (token verified by HMAC, see token.h) never reach the database;
 * and the status arithmetic over it. */
#ifndef BOXOFFICE_QUEUE_CACHE_H
#define BOXOFFICE_QUEUE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define QUEUE_CACHE_REFRESH_MS 1000
#define QUEUE_CACHE_MAX_EVENTS 1024
#define QUEUE_HISTORY_MAX 8192
/* The measured admission rate looks back this far. */
#define QUEUE_RATE_WINDOW_MS 60000

/* One event whose waiting room is on. history_* are the recent cursor
 * steps, oldest first (see queue_tick_apply in sql/functions). */
struct queue_cache_event {
    int64_t event_id;
    int64_t on_sale_at_ms;
    int64_t cursor;
    int64_t last_position;
    bool sold_out;
    bool drawn;
    int access_ttl_s;
    int admit_per_minute;
    int pow_bits;
    size_t history_len;
    int64_t *history_cursor;
    int64_t *history_at_ms;
};

struct queue_cache {
    int64_t refreshed_at_ms; /* 0: never */
    size_t count;
    struct queue_cache_event *events; /* sorted by event_id */
};

/* Reloads the cache from the database when it is older than
 * QUEUE_CACHE_REFRESH_MS at now_ms, or older than min_fresh_ms (a token
 * issued after the last refresh may name an event the cache does not know
 * yet). On a database failure the old contents stay and the next attempt
 * waits for the next period. Returns false when it tried and failed. */
bool queue_cache_refresh(struct queue_cache *cache, struct db *db, int64_t now_ms,
                         int64_t min_fresh_ms);

/* The event's entry, or NULL when its waiting room is off (or unknown). */
const struct queue_cache_event *queue_cache_find(const struct queue_cache *cache, int64_t event_id);

/* Frees everything the cache holds; it is empty (and usable) afterwards. */
void queue_cache_free(struct queue_cache *cache);

/* Parses "1,2,3" into at most cap integers, keeping the last cap when
 * there are more. Returns the count, or -1 on malformed text. */
long queue_cache_parse_list(const char *text, int64_t *out, size_t cap);

enum queue_state {
    QUEUE_STATE_WAITING,  /* in line (or in the pre-queue: position 0) */
    QUEUE_STATE_ADMITTED, /* may hold seats until access_expires_at_ms */
    QUEUE_STATE_EXPIRED,  /* was admitted; the admission has lapsed */
    QUEUE_STATE_SOLD_OUT, /* nothing left for those still waiting */
};

struct queue_status {
    enum queue_state state;
    int64_t ahead; /* -1 when unknown (pre-queue) */
    int64_t eta_s;
    int poll_after_s;
    int64_t admitted_at_ms;
    int64_t access_expires_at_ms;
};

/* Where position (0: pre-queue, not drawn yet) stands at now_ms. */
void queue_status_of(const struct queue_cache_event *event, int64_t position, int64_t now_ms,
                     struct queue_status *status);

/* Admissions per second over the last QUEUE_RATE_WINDOW_MS, from the
 * history; admit_per_minute / 60 when there is too little history. */
double queue_measured_rate(const struct queue_cache_event *event, int64_t now_ms);

#endif
