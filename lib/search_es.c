/* search_es.c: the ElasticSearch backend of search, over es_client: the
 * query builders and answer mapping live there; this picks the aliases and
 * turns the answer into text. */
#include "es_client.h"
#include "log.h"
#include "search_backend.h"

#include <stdlib.h>
#include <string.h>

#define SEARCH_ES_BOTH "boxoffice-events,boxoffice-trains"

static const char *search_es_indices(unsigned types)
{
    if (types == SEARCH_TYPE_EVENT)
        return "boxoffice-events";
    if (types == SEARCH_TYPE_TRAIN)
        return "boxoffice-trains";
    return SEARCH_ES_BOTH;
}

static enum search_status search_es_status(struct search_backend *backend, enum es_status st)
{
    log_error(NULL, "search (ElasticSearch): %s", es_last_error(backend->es));
    return st == ES_UNAVAILABLE ? SEARCH_UNAVAILABLE : SEARCH_ERROR;
}

/* Sends body to indices and maps the answer with map; takes body. */
static enum search_status search_es_call(struct search_backend *backend, const char *indices,
                                         json_object *body, json_object *(*map)(json_object *),
                                         char **json)
{
    json_object *response = NULL;
    json_object *mapped = NULL;
    enum search_status result = SEARCH_ERROR;
    enum es_status st;

    if (body == NULL)
        return SEARCH_ERROR;
    st = es_search(backend->es, indices, body, &response);
    if (st != ES_OK) {
        result = search_es_status(backend, st);
        goto done;
    }
    mapped = map(response);
    if (mapped == NULL) {
        log_error(NULL, "search (ElasticSearch): unexpected answer");
        goto done;
    }
    {
        const char *text = json_object_to_json_string_ext(mapped, JSON_C_TO_STRING_PLAIN);
        *json = text != NULL ? strdup(text) : NULL;
        if (*json != NULL)
            result = SEARCH_OK;
    }
done:
    json_object_put(body);
    json_object_put(response);
    json_object_put(mapped);
    return result;
}

static enum search_status search_es_run(struct search_backend *backend,
                                        const struct search_query *query, char **json)
{
    struct es_search_request req = {
        .q = query->q,
        .types = query->types,
        .city = query->city,
        .category = query->category,
        .from_date = query->from_date,
        .to_date = query->to_date,
        .include_past = query->include_past,
        .page = query->page,
        .per_page = query->per_page,
    };
    return search_es_call(backend, search_es_indices(query->types), es_build_search_query(&req),
                          es_map_search_response, json);
}

static enum search_status search_es_suggest(struct search_backend *backend, const char *prefix,
                                            int size, char **json)
{
    return search_es_call(backend, SEARCH_ES_BOTH, es_build_suggest_query(prefix, size),
                          es_map_suggest_response, json);
}

static void search_es_close(struct search_backend *backend)
{
    es_close(backend->es);
    backend->es = NULL;
}

const struct search_backend_ops search_es_ops = {search_es_run, search_es_suggest, search_es_close};
