/* search.c: the search interface: validation and dispatch to a backend. */
#include "search.h"

#include "es_client.h"
#include "search_backend.h"
#include "search_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct search_backend *search_open(struct db *db, const char *es_url, int cache_ttl_ms)
{
    struct search_backend *backend = calloc(1, sizeof(*backend));
    if (backend == NULL)
        return NULL;
    backend->db = db;
    if (cache_ttl_ms > 0) {
        backend->cache = search_cache_new(cache_ttl_ms);
        if (backend->cache == NULL) {
            free(backend);
            return NULL;
        }
    }
    if (es_url != NULL && *es_url != '\0') {
        struct es_options opts = {0};
        opts.base_url = es_url;
        /* A search waits for ES at most this long: a slow cluster must not
         * hold a FastCGI worker for the bulk-load default of 30 s. */
        opts.connect_timeout_ms = 1000;
        opts.timeout_ms = 5000;
        opts.max_attempts = 2;
        backend->es = es_open(&opts);
        if (backend->es == NULL) {
            search_cache_free(backend->cache);
            free(backend);
            return NULL;
        }
        backend->ops = &search_es_ops;
    } else {
        backend->ops = &search_pg_ops;
    }
    return backend;
}

void search_close(struct search_backend *backend)
{
    if (backend == NULL)
        return;
    if (backend->ops->close != NULL)
        backend->ops->close(backend);
    search_cache_free(backend->cache);
    free(backend);
}

bool search_is_es(const struct search_backend *backend)
{
    return backend->es != NULL;
}

static bool search_length_ok(const char *s, size_t max)
{
    return s == NULL || strlen(s) <= max;
}

bool search_query_valid(const struct search_query *query)
{
    return query != NULL && query->page >= 1 && query->per_page >= 1 &&
           query->per_page <= SEARCH_PER_PAGE_MAX &&
           (long long)query->page * query->per_page <= SEARCH_RESULT_WINDOW &&
           (query->types & ~(SEARCH_TYPE_EVENT | SEARCH_TYPE_TRAIN)) == 0 &&
           search_length_ok(query->q, SEARCH_QUERY_MAX) &&
           search_length_ok(query->city, SEARCH_FIELD_MAX) &&
           search_length_ok(query->category, SEARCH_FIELD_MAX);
}

/* The cache key of a request: its kind and every field, each as
 * "<length>:<bytes>", so that no two different requests share a key
 * ("ab" + "c" and "a" + "bc" differ). False when it does not fit. */
static bool search_key_field(char *key, size_t cap, size_t *used, const char *value)
{
    const char *v = value != NULL ? value : "";
    int n = snprintf(key + *used, cap - *used, "%zu:%s|", strlen(v), v);
    if (n < 0 || (size_t)n >= cap - *used)
        return false;
    *used += (size_t)n;
    return true;
}

static bool search_query_key(const struct search_query *q, char *key, size_t cap)
{
    size_t used = 0;
    char numbers[96];
    snprintf(numbers, sizeof(numbers), "%u,%d,%d,%d", q->types, q->include_past ? 1 : 0, q->page,
             q->per_page);
    return search_key_field(key, cap, &used, "search") &&
           search_key_field(key, cap, &used, numbers) && search_key_field(key, cap, &used, q->q) &&
           search_key_field(key, cap, &used, q->city) &&
           search_key_field(key, cap, &used, q->category) &&
           search_key_field(key, cap, &used, q->from_date) &&
           search_key_field(key, cap, &used, q->to_date);
}

static bool search_suggest_key(const char *prefix, int size, char *key, size_t cap)
{
    size_t used = 0;
    char number[16];
    snprintf(number, sizeof(number), "%d", size);
    return search_key_field(key, cap, &used, "suggest") &&
           search_key_field(key, cap, &used, number) && search_key_field(key, cap, &used, prefix);
}

/* Keys hold at most the five text fields (SEARCH_QUERY_MAX + 2 *
 * SEARCH_FIELD_MAX + two dates) plus their length prefixes. */
#define SEARCH_KEY_MAX (SEARCH_QUERY_MAX + 2 * SEARCH_FIELD_MAX + 256)

enum search_status search_run(struct search_backend *backend, const struct search_query *query,
                              char **json)
{
    char key[SEARCH_KEY_MAX];
    bool keyed;
    int64_t now = 0;

    *json = NULL;
    if (!search_query_valid(query))
        return SEARCH_INVALID;
    keyed = backend->cache != NULL && search_query_key(query, key, sizeof(key));
    if (keyed) {
        now = search_cache_now_ms();
        *json = search_cache_get(backend->cache, key, now);
        if (*json != NULL)
            return SEARCH_OK;
    }
    enum search_status st = backend->ops->run(backend, query, json);
    if (st == SEARCH_OK && keyed)
        search_cache_put(backend->cache, key, *json, now);
    return st;
}

enum search_status search_suggest(struct search_backend *backend, const char *prefix, int size,
                                  char **json)
{
    char key[SEARCH_KEY_MAX];
    bool keyed;
    int64_t now = 0;

    *json = NULL;
    if (prefix == NULL || *prefix == '\0' || strlen(prefix) > SEARCH_QUERY_MAX || size < 1 ||
        size > SEARCH_SUGGEST_MAX)
        return SEARCH_INVALID;
    keyed = backend->cache != NULL && search_suggest_key(prefix, size, key, sizeof(key));
    if (keyed) {
        now = search_cache_now_ms();
        *json = search_cache_get(backend->cache, key, now);
        if (*json != NULL)
            return SEARCH_OK;
    }
    enum search_status st = backend->ops->suggest(backend, prefix, size, json);
    if (st == SEARCH_OK && keyed)
        search_cache_put(backend->cache, key, *json, now);
    return st;
}
