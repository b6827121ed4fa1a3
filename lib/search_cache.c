/* search_cache.c: the per-process answer cache of search (search_cache.h):
 * a direct-mapped table of SEARCH_CACHE_SLOTS entries indexed by a hash of
 * the key. A collision replaces the older entry, which keeps every
 * operation O(length of the key) with no eviction lists. */
#include "search_cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct search_cache_entry {
    char *key; /* NULL: empty slot */
    char *answer;
    size_t bytes; /* of key and answer, with their NULs */
    int64_t stored_ms;
};

struct search_cache {
    int64_t ttl_ms;
    size_t entries;
    size_t bytes;
    struct search_cache_entry slots[SEARCH_CACHE_SLOTS];
};

struct search_cache *search_cache_new(int64_t ttl_ms)
{
    if (ttl_ms <= 0)
        return NULL;
    struct search_cache *cache = calloc(1, sizeof(*cache));
    if (cache != NULL)
        cache->ttl_ms = ttl_ms;
    return cache;
}

static void search_cache_clear_slot(struct search_cache *cache, struct search_cache_entry *e)
{
    if (e->key == NULL)
        return;
    cache->entries--;
    cache->bytes -= e->bytes;
    free(e->key);
    free(e->answer);
    memset(e, 0, sizeof(*e));
}

void search_cache_free(struct search_cache *cache)
{
    if (cache == NULL)
        return;
    for (size_t i = 0; i < SEARCH_CACHE_SLOTS; i++)
        search_cache_clear_slot(cache, &cache->slots[i]);
    free(cache);
}

/* FNV-1a: spreads keys over the slots; equality is always checked in full. */
static struct search_cache_entry *search_cache_slot(struct search_cache *cache, const char *key)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        h ^= *p;
        h *= 0x100000001b3u;
    }
    return &cache->slots[h % SEARCH_CACHE_SLOTS];
}

static bool search_cache_fresh(const struct search_cache *cache, const struct search_cache_entry *e,
                               int64_t now_ms)
{
    /* A clock that went backwards must not make an entry live forever. */
    return now_ms >= e->stored_ms && now_ms - e->stored_ms < cache->ttl_ms;
}

char *search_cache_get(struct search_cache *cache, const char *key, int64_t now_ms)
{
    if (cache == NULL || key == NULL)
        return NULL;
    struct search_cache_entry *e = search_cache_slot(cache, key);
    if (e->key == NULL || strcmp(e->key, key) != 0)
        return NULL;
    if (!search_cache_fresh(cache, e, now_ms)) {
        search_cache_clear_slot(cache, e);
        return NULL;
    }
    return strdup(e->answer);
}

void search_cache_put(struct search_cache *cache, const char *key, const char *answer,
                      int64_t now_ms)
{
    if (cache == NULL || key == NULL || answer == NULL)
        return;
    size_t key_len = strlen(key);
    size_t answer_len = strlen(answer);
    if (answer_len > SEARCH_CACHE_ANSWER_MAX)
        return;
    struct search_cache_entry *e = search_cache_slot(cache, key);
    search_cache_clear_slot(cache, e);
    size_t bytes = key_len + 1 + answer_len + 1;
    if (cache->bytes + bytes > SEARCH_CACHE_BYTES_MAX)
        return;
    char *k = malloc(key_len + 1);
    char *a = malloc(answer_len + 1);
    if (k == NULL || a == NULL) {
        free(k);
        free(a);
        return;
    }
    memcpy(k, key, key_len + 1);
    memcpy(a, answer, answer_len + 1);
    e->key = k;
    e->answer = a;
    e->bytes = bytes;
    e->stored_ms = now_ms;
    cache->entries++;
    cache->bytes += bytes;
}

size_t search_cache_entries(const struct search_cache *cache)
{
    return cache->entries;
}

size_t search_cache_bytes(const struct search_cache *cache)
{
    return cache->bytes;
}

int64_t search_cache_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
