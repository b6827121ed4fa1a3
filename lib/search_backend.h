/* search_backend.h: what search.c dispatches to; private to lib/search*.c. */
#ifndef BOXOFFICE_SEARCH_BACKEND_H
#define BOXOFFICE_SEARCH_BACKEND_H

#include "search.h"

struct search_backend_ops {
    enum search_status (*run)(struct search_backend *backend, const struct search_query *query,
                              char **json);
    enum search_status (*suggest)(struct search_backend *backend, const char *prefix, int size,
                                  char **json);
    void (*close)(struct search_backend *backend);
};

struct es_client;
struct search_cache;

struct search_backend {
    const struct search_backend_ops *ops;
    struct db *db;              /* PostgreSQL backend */
    struct es_client *es;       /* ElasticSearch backend */
    struct search_cache *cache; /* NULL: answers are not cached */
};

extern const struct search_backend_ops search_pg_ops;
extern const struct search_backend_ops search_es_ops;

#endif
