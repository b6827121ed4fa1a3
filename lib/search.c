/* search.c: the search interface: validation and dispatch to a backend. */
#include "search.h"

#include "es_client.h"
#include "search_backend.h"

#include <stdlib.h>
#include <string.h>

struct search_backend *search_open(struct db *db, const char *es_url)
{
    struct search_backend *backend = calloc(1, sizeof(*backend));
    if (backend == NULL)
        return NULL;
    backend->db = db;
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

enum search_status search_run(struct search_backend *backend, const struct search_query *query,
                              char **json)
{
    *json = NULL;
    if (!search_query_valid(query))
        return SEARCH_INVALID;
    return backend->ops->run(backend, query, json);
}

enum search_status search_suggest(struct search_backend *backend, const char *prefix, int size,
                                  char **json)
{
    *json = NULL;
    if (prefix == NULL || *prefix == '\0' || strlen(prefix) > SEARCH_QUERY_MAX || size < 1 ||
        size > SEARCH_SUGGEST_MAX)
        return SEARCH_INVALID;
    return backend->ops->suggest(backend, prefix, size, json);
}
