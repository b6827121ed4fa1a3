/* es_client.h: the ElasticSearch (and OpenSearch 2) REST client of the search
 * tier: index lifecycle, _bulk loading with retries, aliases, search, and the
 * builders that turn our search API's queries into ES queries and ES answers
 * into our API's answer shape. libcurl and json-c; one client per thread. */
#ifndef BOXOFFICE_ES_CLIENT_H
#define BOXOFFICE_ES_CLIENT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Caps that keep one bad answer or one huge batch from eating the process. */
#define ES_RESPONSE_MAX (32u * 1024u * 1024u)  /* bytes of one response body */
#define ES_BULK_BODY_MAX (32u * 1024u * 1024u) /* bytes of one _bulk request */
#define ES_BULK_MAX_DOCS 10000u                /* documents in one es_bulk_index call */
#define ES_MAPPING_FILE_MAX (1024u * 1024u)    /* bytes of a mapping/template file */
#define ES_NAME_MAX 255                        /* index and alias names */
#define ES_ID_MAX 512                          /* ES limits _id to 512 bytes */
#define ES_REASON_MAX 256
#define ES_PER_PAGE_MAX 100
#define ES_RESULT_WINDOW 10000 /* index.max_result_window: from + size limit */
#define ES_SUGGEST_MAX 20
#define ES_QUERY_MAX 256 /* bytes of q or of a suggest prefix */

enum es_status {
    ES_OK = 0,
    ES_UNAVAILABLE, /* network error or 429/503 still there after every retry */
    ES_NOT_FOUND,   /* 404: the index or alias does not exist */
    ES_REJECTED,    /* another 4xx, or invalid arguments: the request is wrong */
    ES_INCOMPLETE,  /* _bulk: some documents failed for good; see the report */
    ES_ERROR        /* other 5xx, malformed answer, over a cap, out of memory */
};

struct es_options {
    const char *base_url;      /* "http://127.0.0.1:9200"; required */
    const char *user_password; /* "user:password" for basic auth, or NULL */
    const char *api_key;       /* encoded key sent as "Authorization: ApiKey <key>", or NULL */
    long connect_timeout_ms;   /* 0: 2000 */
    long timeout_ms;           /* whole request; 0: 30000 */
    int max_attempts;          /* per request and per _bulk item; 0: 5 */
    long backoff_initial_ms;   /* first retry delay, doubled each time; 0: 100 */
    long backoff_max_ms;       /* 0: 5000 */
};

struct es_client;

/* Creates a client; the strings in opts are copied. Returns NULL when
 * base_url is missing or not http(s), when both user_password and api_key are
 * given, or when out of memory. */
struct es_client *es_open(const struct es_options *opts) __attribute__((warn_unused_result));
void es_close(struct es_client *es);

/* A one-line description of the last failure (method, path, HTTP status, the
 * ES error type and reason). Never contains credentials. Valid until the
 * next call on es. */
const char *es_last_error(const struct es_client *es);

/* True for a name ES accepts for an index or alias (lowercase, no
 * \ / * ? " < > | , # : space, not starting with - _ +, not . or ..,
 * at most ES_NAME_MAX bytes). Every path built here is checked with it, so
 * nothing needs URL escaping. */
bool es_valid_index_name(const char *name);

/* Reads a JSON object from a file of at most ES_MAPPING_FILE_MAX bytes. On
 * success *out is a new reference the caller puts; otherwise *out is NULL
 * and the result is ES_REJECTED (bad JSON, not an object, too big) or
 * ES_ERROR (cannot read). */
enum es_status es_load_json_file(const char *path, json_object **out)
    __attribute__((warn_unused_result));

/* PUT /<index> with body (settings + mappings, as in es-mappings/events.json).
 * An index that already exists is ES_REJECTED, except when an earlier attempt
 * of this same call may have created it (a retry after a lost answer). */
enum es_status es_create_index(struct es_client *es, const char *index, json_object *body)
    __attribute__((warn_unused_result));

/* PUT /_index_template/<name> with a composable template body. */
enum es_status es_put_index_template(struct es_client *es, const char *name, json_object *body)
    __attribute__((warn_unused_result));

/* PUT /<index>/_settings {"index": {"refresh_interval": interval}}; interval
 * is "-1" (off, for bulk loads) or a duration like "1s". */
enum es_status es_set_refresh_interval(struct es_client *es, const char *index,
                                       const char *interval) __attribute__((warn_unused_result));

/* POST /<index>/_refresh: makes everything indexed so far searchable. */
enum es_status es_refresh(struct es_client *es, const char *index)
    __attribute__((warn_unused_result));

/* DELETE /<index>. */
enum es_status es_delete_index(struct es_client *es, const char *index)
    __attribute__((warn_unused_result));

/* The indices an alias points to. */
struct es_names {
    char **names;
    size_t count;
};
void es_names_free(struct es_names *names);

/* GET /_alias/<alias>. On ES_OK, *out holds the index names (possibly none:
 * a missing alias points nowhere, which is not an error) and the caller
 * frees it with es_names_free; on failure *out is empty. */
enum es_status es_alias_indices(struct es_client *es, const char *alias, struct es_names *out)
    __attribute__((warn_unused_result));

/* One POST /_aliases whose actions remove alias from every index in
 * old_indices and add it to new_index, so that searches switch atomically
 * and never see both or neither. old_count may be 0 (first load). */
enum es_status es_swap_alias(struct es_client *es, const char *alias, const char *new_index,
                             const char *const *old_indices, size_t old_count)
    __attribute__((warn_unused_result));

/* POST /<indices>/_search with query as the body. indices is one name or a
 * comma-separated list of valid names. On ES_OK *response is a new reference
 * the caller puts; otherwise NULL. */
enum es_status es_search(struct es_client *es, const char *indices, json_object *query,
                         json_object **response) __attribute__((warn_unused_result));

/* ---- _bulk ---- */

/* One document to index: the ES _id and the document (serialized on one
 * line, so newlines inside strings are escaped, never raw). Borrowed. */
struct es_bulk_doc {
    const char *id;
    json_object *doc;
};

/* The outcome of one document in a _bulk answer. */
struct es_bulk_item {
    int status;                 /* HTTP status of the item; 0: missing from the answer */
    char reason[ES_REASON_MAX]; /* "<error type>: <reason>", "" on success */
};

/* A document that could not be indexed. */
struct es_bulk_failure {
    char id[ES_ID_MAX + 1];
    int status; /* item status; 429 when retries ran out; 0: no answer at all */
    char reason[ES_REASON_MAX];
};

/* What es_bulk_index did. indexed + failed_count always equals the number
 * of documents given: nothing is dropped silently. */
struct es_bulk_report {
    size_t indexed;
    size_t failed_count;
    struct es_bulk_failure *failed; /* failed_count entries; es_bulk_report_free */
    int requests;                   /* HTTP requests sent, retries included */
};
void es_bulk_report_free(struct es_bulk_report *report);

/* Builds the NDJSON body of POST /<index>/_bulk for docs[i] where indices
 * select is NULL or select[i] is true: per document an action line
 * {"index":{"_id":...}} and a source line, every line ending in '\n'
 * including the last. Returns a NUL-terminated malloc'd string (length in
 * *len) the caller frees, or NULL when a document is missing, an id is empty
 * or longer than ES_ID_MAX, the body would pass ES_BULK_BODY_MAX, or out of
 * memory. */
char *es_bulk_ndjson(const struct es_bulk_doc *docs, size_t count, const bool *select, size_t *len);

/* Parses a _bulk answer for a request that carried the selected docs in
 * order (select as above; ES answers items in request order). Fills items[i]
 * for every selected i and checks each item's _id against docs[i].id.
 * Returns ES_OK, or ES_ERROR when the body is not a _bulk answer, the item
 * count or an _id does not match (items are then unspecified). */
enum es_status es_bulk_parse_response(const char *body, size_t len, const struct es_bulk_doc *docs,
                                      size_t count, const bool *select, struct es_bulk_item *items)
    __attribute__((warn_unused_result));

/* Indexes count documents (at most ES_BULK_MAX_DOCS) into index with _bulk.
 * Items answered 429 are sent again, alone, with exponential backoff; a
 * whole request answered 429 or 503 or lost on the network is sent again;
 * at most max_attempts requests per document. Every document ends either
 * indexed or in report->failed with its status and reason. Returns ES_OK
 * when all were indexed, ES_INCOMPLETE when some failed, ES_UNAVAILABLE when
 * ES stayed unreachable, ES_REJECTED/ES_ERROR when the request itself was
 * refused (all documents then are in failed). Only when nothing was sent
 * (count over ES_BULK_MAX_DOCS: ES_REJECTED; out of memory: ES_ERROR) is the
 * report empty. The caller always frees the report with es_bulk_report_free. */
enum es_status es_bulk_index(struct es_client *es, const char *index,
                             const struct es_bulk_doc *docs, size_t count,
                             struct es_bulk_report *report) __attribute__((warn_unused_result));

/* Removes count documents (at most ES_BULK_MAX_DOCS) by id from index (an
 * alias with one index behind it will do) with _bulk delete actions. A
 * document that is not there counts as removed. Retries like es_bulk_index
 * (429 items, 429/503/network for the whole request); every id ends either
 * removed (report->indexed counts them) or in report->failed. Same results
 * as es_bulk_index; the caller frees the report with es_bulk_report_free. */
enum es_status es_bulk_delete(struct es_client *es, const char *index, const char *const *ids,
                              size_t count, struct es_bulk_report *report)
    __attribute__((warn_unused_result));

/* ---- our search API on ES ---- */

enum es_doc_type {
    ES_TYPE_EVENT = 1,
    ES_TYPE_TRAIN = 2,
};

/* A validated /api/search request (validation happens at the HTTP
 * boundary; the builder only re-checks ranges). NULL or "" means absent. */
struct es_search_request {
    const char *q;
    unsigned types;        /* ES_TYPE_* bits; 0: both */
    const char *city;      /* events by city, trains by a stop in it; synonyms apply */
    const char *category;  /* exact category (events only: excludes trains) */
    const char *from_date; /* YYYY-MM-DD, inclusive, UTC; events only */
    const char *to_date;   /* YYYY-MM-DD, inclusive, UTC; events only */
    bool include_past;     /* false: only events with starts_at >= now */
    int page;              /* 1-based */
    int per_page;          /* 1..ES_PER_PAGE_MAX; page*per_page <= ES_RESULT_WINDOW */
};

/* Builds the ES query body for req: multi_match (fuzziness AUTO, boosted
 * fields) or match_all when q is absent (then soonest first), filters,
 * terms aggregations "city" and "category" for facets, from/size. Returns a
 * new reference, or NULL when page/per_page are out of range or out of
 * memory. */
json_object *es_build_search_query(const struct es_search_request *req);

/* Builds the as-you-type query: multi_match bool_prefix over the suggest
 * field and its _2gram/_3gram shingles, upcoming events and trains, size
 * 1..ES_SUGGEST_MAX. NULL for an empty prefix, a bad size or out of memory. */
json_object *es_build_suggest_query(const char *prefix, int size);

/* Maps an ES search answer to our API's
 * {"total", "hits": [{"type","id","title",...,"score"}],
 *  "facets": {"city": [{"value","count"}], "category": [...]}}.
 * Returns a new reference, or NULL when response is not shaped like an ES
 * search answer or out of memory. */
json_object *es_map_search_response(json_object *response);

/* Maps an ES answer to the suggest query to
 * {"suggestions": [{"type","id","text"}]}; NULL as above. */
json_object *es_map_suggest_response(json_object *response);

#endif
