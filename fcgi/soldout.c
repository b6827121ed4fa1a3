/* soldout.c: a small per-process table of recent sold-out answers. */
#include "soldout.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t soldout_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool soldout_check(const struct soldout_cache *cache, int64_t event_id, const char *category,
                   int64_t now_ms)
{
    for (int i = 0; i < SOLDOUT_SLOTS; i++) {
        const struct soldout_entry *e = &cache->slots[i];
        if (e->event_id != event_id || e->until_ms <= now_ms)
            continue;
        if (e->category[0] == '\0' || strcmp(e->category, category) == 0)
            return true;
    }
    return false;
}

void soldout_remember(struct soldout_cache *cache, int64_t event_id, const char *category,
                      int64_t now_ms, int64_t ttl_ms)
{
    struct soldout_entry *target = &cache->slots[0];
    for (int i = 0; i < SOLDOUT_SLOTS; i++) {
        struct soldout_entry *e = &cache->slots[i];
        if (e->event_id == event_id && strcmp(e->category, category) == 0) {
            target = e;
            break;
        }
        if (e->until_ms < target->until_ms)
            target = e;
    }
    target->event_id = event_id;
    snprintf(target->category, sizeof(target->category), "%s", category);
    target->until_ms = now_ms + ttl_ms;
}

void soldout_forget(struct soldout_cache *cache, int64_t event_id)
{
    for (int i = 0; i < SOLDOUT_SLOTS; i++) {
        if (cache->slots[i].event_id == event_id)
            cache->slots[i].until_ms = 0;
    }
}
