/* soldout.h: a worker's memory of events (or categories) that just sold
 * out, so that a flash sale's late arrivals are answered without touching
 * the database. Entries expire after a short time because seats come back
 * when holds expire or orders are cancelled. */
#ifndef BOXOFFICE_SOLDOUT_H
#define BOXOFFICE_SOLDOUT_H

#include <stdbool.h>
#include <stdint.h>

#define SOLDOUT_SLOTS 64

struct soldout_entry {
    int64_t event_id;
    char category[9]; /* "" means every category */
    int64_t until_ms; /* monotonic clock */
};

struct soldout_cache {
    struct soldout_entry slots[SOLDOUT_SLOTS];
};

/* Milliseconds on the monotonic clock. */
int64_t soldout_now_ms(void);

/* True when the event is known sold out for category ("" for the whole
 * event; a category also matches an event-wide entry) at now_ms. */
bool soldout_check(const struct soldout_cache *cache, int64_t event_id, const char *category,
                   int64_t now_ms);

/* Remembers a sold-out answer until now_ms + ttl_ms, replacing the entry of
 * the same key or the oldest one. */
void soldout_remember(struct soldout_cache *cache, int64_t event_id, const char *category,
                      int64_t now_ms, int64_t ttl_ms);

/* Forgets everything about an event (seats came back through this worker). */
void soldout_forget(struct soldout_cache *cache, int64_t event_id);

#endif
