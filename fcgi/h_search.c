/* h_search.c: GET /api/search and GET /api/search/suggest. The query string
 * is checked here into a struct search_query; lib/search.c answers it from
 * PostgreSQL or ElasticSearch. */
#include "handlers.h"
#include "search.h"
#include "worker.h"

#include <stdlib.h>
#include <string.h>

#define H_SEARCH_PAGE_MAX SEARCH_RESULT_WINDOW

/* Text fields of one search, owned by the handler's stack. */
struct h_search_input {
    char q[SEARCH_QUERY_MAX + 1];
    char city[SEARCH_FIELD_MAX + 1];
    char category[SEARCH_FIELD_MAX + 1];
    char from_date[16];
    char to_date[16];
};

static bool h_search_fail(struct response *res, const char *code, const char *message)
{
    struct v_error err;
    v_fail(&err, code, "%s", message);
    http_invalid(res, &err);
    return false;
}

/* An optional text parameter of at most cap - 1 bytes with no control
 * characters. */
static bool h_search_text(struct request *req, struct response *res, const char *name, char *out,
                          size_t cap, const char *code)
{
    int found = http_query(req, name, out, cap);
    out[found == 1 ? strlen(out) : 0] = '\0';
    if (found < 0)
        return h_search_fail(res, code, "The parameter is too long or badly encoded.");
    for (const unsigned char *p = (const unsigned char *)out; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f)
            return h_search_fail(res, code, "The parameter contains control characters.");
    return true;
}

static bool h_search_int(struct request *req, struct response *res, const char *name, int64_t max,
                         int64_t *out, const char *code)
{
    char text[24];
    int found = http_query(req, name, text, sizeof(text));
    if (found == 0)
        return true;
    if (found < 0 || !v_parse_int(text, 1, max, out))
        return h_search_fail(res, code, "Expected a whole number in range.");
    return true;
}

static bool h_search_date(struct request *req, struct response *res, const char *name, char *out,
                          size_t cap, const char *code)
{
    int found = http_query(req, name, out, cap);
    if (found == 0) {
        out[0] = '\0';
        return true;
    }
    if (found < 0 || !v_is_date(out))
        return h_search_fail(res, code, "Expected a date as YYYY-MM-DD.");
    return true;
}

/* type=event, type=train or type=event,train. */
static bool h_search_types(struct request *req, struct response *res, unsigned *types)
{
    char text[32];
    int found = http_query(req, "type", text, sizeof(text));
    *types = 0;
    if (found == 0)
        return true;
    if (found < 0)
        return h_search_fail(res, "invalid_type", "type is event, train or event,train.");
    for (char *p = text; *p != '\0';) {
        char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (n == 5 && memcmp(p, "event", 5) == 0)
            *types |= SEARCH_TYPE_EVENT;
        else if (n == 5 && memcmp(p, "train", 5) == 0)
            *types |= SEARCH_TYPE_TRAIN;
        else
            return h_search_fail(res, "invalid_type", "type is event, train or event,train.");
        p += n + (comma != NULL ? 1 : 0);
    }
    if (*types == (SEARCH_TYPE_EVENT | SEARCH_TYPE_TRAIN))
        *types = 0;
    return true;
}

/* The worker's search backend, opened on first use and kept for the
 * process: its answer cache and, with ElasticSearch, its HTTP connection
 * serve every later request. NULL when out of memory or es_url is unusable. */
static struct search_backend *h_search_backend(struct request *req)
{
    struct worker_state *state = req->process;
    if (state->search == NULL)
        state->search = search_open(req->db, req->cfg->es_url, req->cfg->search_cache_ms);
    return state->search;
}

static void h_search_answer(struct request *req, struct response *res, enum search_status st,
                            char *json)
{
    (void)req;
    if (st == SEARCH_OK)
        http_json_text(res, 200, json);
    else if (st == SEARCH_INVALID)
        http_error(res, 400, "invalid_query", "The search parameters are out of range.");
    else
        http_error(res, 503, "search_unavailable", "Search is unavailable; try again shortly.");
}

/* GET /api/search?q&type&city&category&from_date&to_date&include_past&page&per_page:
 * 200 {"total","hits","facets"}; 400 invalid_q, invalid_type, invalid_city,
 * invalid_category, invalid_from_date, invalid_to_date, invalid_date_range,
 * invalid_include_past, invalid_page, invalid_per_page; 503 search_unavailable. */
void h_search_query(struct request *req, struct response *res)
{
    struct h_search_input in;
    struct search_query query = {0};
    int64_t page = 1, per_page = SEARCH_PER_PAGE_DEFAULT;
    char past[8];
    char *json = NULL;

    if (!h_search_text(req, res, "q", in.q, sizeof(in.q), "invalid_q") ||
        !h_search_types(req, res, &query.types) ||
        !h_search_text(req, res, "city", in.city, sizeof(in.city), "invalid_city") ||
        !h_search_text(req, res, "category", in.category, sizeof(in.category),
                       "invalid_category") ||
        !h_search_date(req, res, "from_date", in.from_date, sizeof(in.from_date),
                       "invalid_from_date") ||
        !h_search_date(req, res, "to_date", in.to_date, sizeof(in.to_date), "invalid_to_date") ||
        !h_search_int(req, res, "page", H_SEARCH_PAGE_MAX, &page, "invalid_page") ||
        !h_search_int(req, res, "per_page", SEARCH_PER_PAGE_MAX, &per_page, "invalid_per_page"))
        return;
    if (in.from_date[0] != '\0' && in.to_date[0] != '\0' && strcmp(in.from_date, in.to_date) > 0) {
        h_search_fail(res, "invalid_date_range", "from_date is after to_date.");
        return;
    }
    if (page * per_page > SEARCH_RESULT_WINDOW) {
        h_search_fail(res, "invalid_page", "page * per_page may be at most 10000.");
        return;
    }
    int found = http_query(req, "include_past", past, sizeof(past));
    if (found != 0) {
        if (found < 0 || (strcmp(past, "true") != 0 && strcmp(past, "false") != 0)) {
            h_search_fail(res, "invalid_include_past", "include_past is true or false.");
            return;
        }
        query.include_past = strcmp(past, "true") == 0;
    }
    query.q = in.q;
    query.city = in.city;
    query.category = in.category;
    query.from_date = in.from_date;
    query.to_date = in.to_date;
    query.page = (int)page;
    query.per_page = (int)per_page;

    struct search_backend *backend = h_search_backend(req);
    if (backend == NULL) {
        h_search_answer(req, res, SEARCH_ERROR, NULL);
        return;
    }
    enum search_status st = search_run(backend, &query, &json);
    h_search_answer(req, res, st, json);
}

/* GET /api/search/suggest?q&size: 200 {"suggestions"}; 400 invalid_q,
 * invalid_size; 503 search_unavailable. */
void h_search_suggest(struct request *req, struct response *res)
{
    char q[SEARCH_QUERY_MAX + 1];
    int64_t size = SEARCH_SUGGEST_DEFAULT;
    char *json = NULL;

    if (!h_search_text(req, res, "q", q, sizeof(q), "invalid_q") ||
        !h_search_int(req, res, "size", SEARCH_SUGGEST_MAX, &size, "invalid_size"))
        return;
    if (q[0] == '\0') {
        h_search_fail(res, "invalid_q", "q is required.");
        return;
    }
    struct search_backend *backend = h_search_backend(req);
    if (backend == NULL) {
        h_search_answer(req, res, SEARCH_ERROR, NULL);
        return;
    }
    enum search_status st = search_suggest(backend, q, (int)size, &json);
    h_search_answer(req, res, st, json);
}
