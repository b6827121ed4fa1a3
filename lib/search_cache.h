/* search_cache.h: a small answer cache for one process: recent search and
 * suggest answers kept for a short time (boxoffice-fcgi: the
 * configuration's search_cache_ms, off by default, at most 1 s) so that the
 * same query asked again within it costs no database work. Each worker has
 * its own: two requests in a row may reach different workers, so an answer
 * may be older than one already seen (by at most the TTL). Bounded in
 * entries and bytes; an entry answers only the exact key it was stored
 * under (keys are compared in full, never by hash alone). Not thread-safe:
 * one cache per worker process. */
#ifndef BOXOFFICE_SEARCH_CACHE_H
#define BOXOFFICE_SEARCH_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define SEARCH_CACHE_SLOTS 256                   /* entries at most */
#define SEARCH_CACHE_ANSWER_MAX (64 * 1024)      /* bigger answers are not kept */
#define SEARCH_CACHE_BYTES_MAX (4 * 1024 * 1024) /* keys + answers at most */

struct search_cache;

/* A new, empty cache with entries living ttl_ms milliseconds (> 0), or NULL
 * when out of memory. */
struct search_cache *search_cache_new(int64_t ttl_ms) __attribute__((warn_unused_result));
void search_cache_free(struct search_cache *cache);

/* The answer stored under key (NUL-terminated) that is younger than the
 * TTL at now_ms (a monotonic clock in milliseconds), as a malloc'd copy the
 * caller frees; NULL when there is none or out of memory. */
char *search_cache_get(struct search_cache *cache, const char *key, int64_t now_ms)
    __attribute__((warn_unused_result));

/* Stores a copy of answer under key at now_ms, replacing what its slot
 * held. Answers over SEARCH_CACHE_ANSWER_MAX, or that would take the cache
 * over SEARCH_CACHE_BYTES_MAX, are not stored; nor is anything when out of
 * memory (the cache then stays as it was, minus the replaced slot). */
void search_cache_put(struct search_cache *cache, const char *key, const char *answer,
                      int64_t now_ms);

/* Entries and bytes held now (for tests). */
size_t search_cache_entries(const struct search_cache *cache);
size_t search_cache_bytes(const struct search_cache *cache);

/* The current time of the clock the cache is used with (CLOCK_MONOTONIC),
 * in milliseconds. */
int64_t search_cache_now_ms(void);

#endif
