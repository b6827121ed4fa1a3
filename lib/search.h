/* search.h: the search tier's one interface: /api/search and
 * /api/search/suggest answered by PostgreSQL full-text search (the
 * default) or by ElasticSearch (when es_url / ES_URL is set). Both return
 * the same JSON shape (../shared/API.md):
 *   {"total", "hits": [{"type","id","title",...,"score"}],
 *    "facets": {"city": [{"value","count"}], "category": [...]}}
 *   {"suggestions": [{"type","id","text"}]} */
#ifndef BOXOFFICE_SEARCH_H
#define BOXOFFICE_SEARCH_H

#include <stdbool.h>

#include "db.h"

#define SEARCH_TYPE_EVENT 1u
#define SEARCH_TYPE_TRAIN 2u
#define SEARCH_PER_PAGE_DEFAULT 20
#define SEARCH_PER_PAGE_MAX 100
#define SEARCH_RESULT_WINDOW 10000 /* page * per_page at most */
#define SEARCH_QUERY_MAX 256       /* bytes of q or of a suggest prefix */
#define SEARCH_FIELD_MAX 100       /* bytes of city, category */
#define SEARCH_SUGGEST_DEFAULT 10
#define SEARCH_SUGGEST_MAX 20

/* A validated search (the handler checks the HTTP input; search_run
 * re-checks the ranges). NULL or "" means absent. */
struct search_query {
    const char *q;
    unsigned types;        /* SEARCH_TYPE_* bits; 0: both */
    const char *city;      /* events in it, trains stopping in it; synonyms apply */
    const char *category;  /* exact category: events only */
    const char *from_date; /* YYYY-MM-DD inclusive, UTC; events only */
    const char *to_date;   /* YYYY-MM-DD inclusive, UTC */
    bool include_past;     /* false: only events that have not started */
    int page;              /* 1-based */
    int per_page;          /* 1..SEARCH_PER_PAGE_MAX */
};

enum search_status {
    SEARCH_OK = 0,
    SEARCH_INVALID,     /* the query is out of range (a caller bug) */
    SEARCH_UNAVAILABLE, /* the backend cannot be reached */
    SEARCH_ERROR        /* the backend failed otherwise; logged */
};

struct search_backend;

/* Opens the backend the configuration selects: ElasticSearch when es_url
 * is non-empty (searching the aliases boxoffice-events and
 * boxoffice-trains), otherwise PostgreSQL over db (borrowed; it must
 * outlive the backend). With cache_ttl_ms > 0, answers are also kept in a
 * bounded per-backend cache (lib/search_cache.h) for that many
 * milliseconds: the same search asked again within it is answered from
 * memory, so answers (seats_available among them) may be that much older
 * than the index. Open one backend per process and keep it: the
 * ElasticSearch backend then reuses its HTTP connection (keep-alive).
 * Returns NULL when out of memory or es_url is not a usable URL. */
struct search_backend *search_open(struct db *db, const char *es_url, int cache_ttl_ms)
    __attribute__((warn_unused_result));
void search_close(struct search_backend *backend);

/* True for the ElasticSearch backend. */
bool search_is_es(const struct search_backend *backend);

/* Runs a search. On SEARCH_OK *json is the answer (malloc'd, caller frees);
 * otherwise NULL. */
enum search_status search_run(struct search_backend *backend, const struct search_query *query,
                              char **json) __attribute__((warn_unused_result));

/* As-you-type suggestions for prefix (1..SEARCH_QUERY_MAX bytes), at most
 * size (1..SEARCH_SUGGEST_MAX), upcoming events and trains. */
enum search_status search_suggest(struct search_backend *backend, const char *prefix, int size,
                                  char **json) __attribute__((warn_unused_result));

/* True when query's ranges are valid (page, per_page, the result window,
 * the lengths, known type bits). */
bool search_query_valid(const struct search_query *query);

#endif
