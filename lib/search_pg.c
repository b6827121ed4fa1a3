/* search_pg.c: the PostgreSQL backend of search: one prepared statement per
 * call (search_json / search_suggest_json in sql/functions/040_search.sql). */
#include "log.h"
#include "outcome.h"
#include "search_backend.h"

#include <stdio.h>

static const struct db_statement search_pg_stmt = {
    "search_query", "SELECT search_json($1, $2::text[], $3, $4, $5::date, $6::date, $7::boolean, "
                    "$8::int, $9::int)"};
static const struct db_statement search_pg_suggest_stmt = {
    "search_suggest", "SELECT search_suggest_json($1, $2::int)"};

static const char *search_pg_nonempty(const char *s)
{
    return s != NULL && *s != '\0' ? s : NULL;
}

static enum search_status search_pg_status(struct search_backend *backend, enum db_status st,
                                           char *json)
{
    if (st == DB_OK && json != NULL)
        return SEARCH_OK;
    if (st == DB_UNAVAILABLE)
        return SEARCH_UNAVAILABLE;
    log_error(NULL, "search: %s", db_last_error(backend->db));
    return SEARCH_ERROR;
}

static enum search_status search_pg_run(struct search_backend *backend,
                                        const struct search_query *query, char **json)
{
    char limit[16];
    char offset[24];
    const char *types = NULL;
    if (query->types == SEARCH_TYPE_EVENT)
        types = "{event}";
    else if (query->types == SEARCH_TYPE_TRAIN)
        types = "{train}";
    snprintf(limit, sizeof(limit), "%d", query->per_page);
    snprintf(offset, sizeof(offset), "%lld", (long long)(query->page - 1) * query->per_page);
    const char *params[] = {search_pg_nonempty(query->q),
                            types,
                            search_pg_nonempty(query->city),
                            search_pg_nonempty(query->category),
                            search_pg_nonempty(query->from_date),
                            search_pg_nonempty(query->to_date),
                            query->include_past ? "true" : "false",
                            limit,
                            offset};
    enum db_status st = outcome_json_query(backend->db, &search_pg_stmt, 9, params, json);
    return search_pg_status(backend, st, *json);
}

static enum search_status search_pg_suggest(struct search_backend *backend, const char *prefix,
                                            int size, char **json)
{
    char size_text[16];
    snprintf(size_text, sizeof(size_text), "%d", size);
    const char *params[] = {prefix, size_text};
    enum db_status st = outcome_json_query(backend->db, &search_pg_suggest_stmt, 2, params, json);
    return search_pg_status(backend, st, *json);
}

const struct search_backend_ops search_pg_ops = {search_pg_run, search_pg_suggest, NULL};
