/* search_index.c: full and incremental indexing of the search documents. */
#include "search_index.h"

#include "log.h"
#include "search_doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define SEARCH_INDEX_EVENT_COLUMNS                                                                 \
    "SELECT id, title, performer, category, venue, city, latitude, longitude, starts_at, "         \
    "price_min, price_max, currency, seats_available, status FROM search_event_source "
#define SEARCH_INDEX_TRAIN_COLUMNS "SELECT number, name, run_days, classes, stops "

enum search_ix_kind { SEARCH_IX_EVENT, SEARCH_IX_TRAIN, SEARCH_IX_KINDS };

static const struct db_statement search_ix_count_stmt = {"search_ix_count",
                                                         "SELECT search_source_count()"};
#define SEARCH_IX_STRING(x) #x
#define SEARCH_IX_TEXT(x) SEARCH_IX_STRING(x)
/* A full run reads each kind through a cursor of its own in the full run's
 * one transaction, a batch per FETCH. Events come in the order of their
 * performer and title, so that the PostgreSQL backend stores the documents
 * one search finds next to each other: a search for a performer then reads
 * a dozen heap pages, not one page per match (about a quarter of a text
 * search's database time on the benchmark's 100,000 events). One sort per
 * run: paging by (performer, id) would sort again for every page. Trains
 * come in number order. */
static const struct db_statement search_ix_open_stmt[SEARCH_IX_KINDS] = {
    {"search_ix_events_open",
     "DECLARE search_ix_events NO SCROLL CURSOR FOR " SEARCH_INDEX_EVENT_COLUMNS
     "ORDER BY performer, title, id"},
    {"search_ix_trains_open",
     "DECLARE search_ix_trains NO SCROLL CURSOR FOR " SEARCH_INDEX_TRAIN_COLUMNS
     "FROM search_train_source(NULL)"}};
static const struct db_statement search_ix_next_stmt[SEARCH_IX_KINDS] = {
    {"search_ix_events_next", "FETCH " SEARCH_IX_TEXT(SEARCH_INDEX_BATCH) " FROM search_ix_events"},
    {"search_ix_trains_next",
     "FETCH " SEARCH_IX_TEXT(SEARCH_INDEX_BATCH) " FROM search_ix_trains"}};
static const struct db_statement search_ix_events_ids_stmt = {
    "search_ix_events_ids", SEARCH_INDEX_EVENT_COLUMNS "WHERE id = ANY ($1::bigint[])"};
static const struct db_statement search_ix_trains_ids_stmt = {
    "search_ix_trains_ids", SEARCH_INDEX_TRAIN_COLUMNS "FROM search_train_source($1::text[])"};
static const struct db_statement search_ix_put_stmt = {"search_ix_put",
                                                       "SELECT search_documents_put($1::jsonb)"};
static const struct db_statement search_ix_delete_stmt = {
    "search_ix_delete", "SELECT search_documents_delete($1, $2::text[])"};
static const struct db_statement search_ix_clear_stmt = {"search_ix_clear",
                                                         "SELECT search_documents_clear()"};
static const struct db_statement search_ix_claim_stmt = {
    "search_ix_claim", "SELECT doc_type, doc_id FROM search_outbox_claim($1::int)"};
static const struct db_statement search_ix_sweep_stmt = {"search_ix_sweep",
                                                         "SELECT search_availability_sweep()"};

static const char *const search_ix_type[SEARCH_IX_KINDS] = {"event", "train"};
static const char *const search_ix_alias[SEARCH_IX_KINDS] = {SEARCH_ALIAS_EVENTS,
                                                             SEARCH_ALIAS_TRAINS};
static const char *const search_ix_mapping[SEARCH_IX_KINDS] = {"events.json", "trains.json"};

/* Ends a failed transaction; a lost connection has ended it already. */
static void search_ix_rollback(struct search_indexer *ix)
{
    if (db_exec(ix->db, "ROLLBACK") != DB_OK)
        log_warn(NULL, "search: ROLLBACK: %s", db_last_error(ix->db));
}

/* ---- rows to documents ---- */

static const char *search_ix_text(struct db_result *r, int row, int col)
{
    return db_is_null(r, row, col) ? NULL : db_text(r, row, col);
}

/* Builds the document of row i of an event source result; NULL (logged)
 * when the row cannot make one. *scheduled says whether it should be in
 * the index at all. */
static json_object *search_ix_event_doc(struct db_result *r, int i, bool *scheduled)
{
    struct search_event_row row = {0};
    json_object *doc;
    row.id = db_int64(r, i, 0);
    row.title = search_ix_text(r, i, 1);
    row.performer = search_ix_text(r, i, 2);
    row.category = search_ix_text(r, i, 3);
    row.venue = search_ix_text(r, i, 4);
    row.city = search_ix_text(r, i, 5);
    row.has_location = !db_is_null(r, i, 6) && !db_is_null(r, i, 7);
    if (row.has_location) {
        row.latitude = db_text(r, i, 6);
        row.longitude = db_text(r, i, 7);
    }
    row.starts_at = search_ix_text(r, i, 8);
    row.has_prices = !db_is_null(r, i, 9) && !db_is_null(r, i, 10);
    if (row.has_prices) {
        row.price_min = db_int64(r, i, 9);
        row.price_max = db_int64(r, i, 10);
    }
    row.currency = search_ix_text(r, i, 11);
    row.seats_available = db_int64(r, i, 12);
    *scheduled = strcmp(db_text(r, i, 13), "scheduled") == 0;
    doc = search_doc_event(&row);
    if (doc == NULL)
        log_error(NULL, "search: event %lld: cannot build its document", (long long)row.id);
    return doc;
}

static json_object *search_ix_train_doc(struct db_result *r, int i)
{
    struct search_train_row row = {
        .number = search_ix_text(r, i, 0),
        .name = search_ix_text(r, i, 1),
        .run_days_json = search_ix_text(r, i, 2),
        .classes_json = search_ix_text(r, i, 3),
        .stops_json = search_ix_text(r, i, 4),
    };
    json_object *doc = search_doc_train(&row);
    if (doc == NULL)
        log_error(NULL, "search: train %s: cannot build its document", db_text(r, i, 0));
    return doc;
}

/* ---- the two stores ---- */

static bool search_ix_db(struct search_indexer *ix, enum db_status st, const char *what)
{
    if (st == DB_OK)
        return true;
    log_error(NULL, "search: %s: %s", what, db_last_error(ix->db));
    return false;
}

static bool search_ix_pg_put(struct search_indexer *ix, json_object *docs)
{
    struct db_result *res = NULL;
    const char *text;
    if (json_object_array_length(docs) == 0)
        return true;
    text = json_object_to_json_string_ext(docs, JSON_C_TO_STRING_PLAIN);
    if (text == NULL)
        return false;
    const char *params[] = {text};
    bool ok =
        search_ix_db(ix, db_run(ix->db, &search_ix_put_stmt, 1, params, &res), "storing documents");
    db_result_free(res);
    return ok;
}

/* Appends id to a PostgreSQL array literal under construction; ids are
 * quoted (they are event ids or train numbers, checked to need no escape). */
static bool search_ix_array_add(char **array, size_t *len, const char *id)
{
    size_t n = strlen(id);
    for (size_t i = 0; i < n; i++)
        if (id[i] == '"' || id[i] == '\\' || id[i] == ',' || id[i] == '{' || id[i] == '}')
            return false;
    char *grown = realloc(*array, *len + n + 4);
    if (grown == NULL)
        return false;
    *array = grown;
    *len += (size_t)snprintf(grown + *len, n + 4, "%s\"%s\"", *len > 1 ? "," : "", id);
    return true;
}

static char *search_ix_array_start(size_t *len)
{
    char *array = malloc(2);
    if (array != NULL) {
        array[0] = '{';
        array[1] = '\0';
        *len = 1;
    }
    return array;
}

static bool search_ix_array_end(char **array, size_t *len)
{
    char *grown = realloc(*array, *len + 2);
    if (grown == NULL)
        return false;
    grown[(*len)++] = '}';
    grown[*len] = '\0';
    *array = grown;
    return true;
}

/* Sends docs (a JSON array of documents) to ElasticSearch index with _bulk,
 * logging every failed document. Returns the client's status. */
static enum es_status search_ix_es_put(struct search_indexer *ix, const char *index,
                                       json_object *docs, struct search_index_report *report)
{
    size_t count = json_object_array_length(docs);
    struct es_bulk_report bulk = {0};
    struct es_bulk_doc *items;
    enum es_status st;

    if (count == 0)
        return ES_OK;
    items = calloc(count, sizeof(*items));
    if (items == NULL)
        return ES_ERROR;
    for (size_t i = 0; i < count; i++) {
        items[i].doc = json_object_array_get_idx(docs, i);
        items[i].id = search_doc_id(items[i].doc);
    }
    st = es_bulk_index(ix->es, index, items, count, &bulk);
    for (size_t i = 0; i < bulk.failed_count; i++)
        log_error(NULL, "search: %s: document %s not indexed: HTTP %d: %s", index,
                  bulk.failed[i].id, bulk.failed[i].status, bulk.failed[i].reason);
    if (st == ES_UNAVAILABLE || st == ES_ERROR || st == ES_REJECTED)
        log_error(NULL, "search: %s: %s", index, es_last_error(ix->es));
    if (report != NULL)
        report->failed += bulk.failed_count;
    es_bulk_report_free(&bulk);
    free(items);
    return st;
}

/* ---- full ---- */

struct search_ix_full {
    char index[SEARCH_IX_KINDS][ES_NAME_MAX + 1]; /* new ES indices, "" when none */
    bool es_failed;                               /* stop sending to ES */
    size_t done;
    size_t total;
};

static bool search_ix_es_create(struct search_indexer *ix, struct search_ix_full *full,
                                enum search_ix_kind kind)
{
    char path[4096];
    json_object *body = NULL;
    struct timeval tv;
    enum es_status st;

    gettimeofday(&tv, NULL);
    snprintf(full->index[kind], sizeof(full->index[kind]), "%s-v%lld%03ld", search_ix_alias[kind],
             (long long)tv.tv_sec, (long)(tv.tv_usec / 1000));
    snprintf(path, sizeof(path), "%s/%s", ix->mappings_dir != NULL ? ix->mappings_dir : ".",
             search_ix_mapping[kind]);
    if (es_load_json_file(path, &body) != ES_OK) {
        log_error(NULL, "search: cannot read the mapping %s", path);
        full->index[kind][0] = '\0';
        return false;
    }
    st = es_create_index(ix->es, full->index[kind], body);
    json_object_put(body);
    if (st == ES_OK)
        st = es_set_refresh_interval(ix->es, full->index[kind], "-1");
    if (st != ES_OK) {
        log_error(NULL, "search: creating %s: %s", full->index[kind], es_last_error(ix->es));
        return false;
    }
    return true;
}

/* Makes the new index of kind live, or drops it when its load failed. */
static bool search_ix_es_finish(struct search_indexer *ix, struct search_ix_full *full,
                                enum search_ix_kind kind, bool complete)
{
    struct es_names old = {0};
    const char *index = full->index[kind];
    bool ok = false;

    if (index[0] == '\0')
        return false;
    if (!complete) {
        log_error(NULL, "search: %s incomplete: alias %s left as it was", index,
                  search_ix_alias[kind]);
        goto drop;
    }
    if (es_set_refresh_interval(ix->es, index, "1s") != ES_OK ||
        es_refresh(ix->es, index) != ES_OK ||
        es_alias_indices(ix->es, search_ix_alias[kind], &old) != ES_OK ||
        es_swap_alias(ix->es, search_ix_alias[kind], index, (const char *const *)old.names,
                      old.count) != ES_OK) {
        log_error(NULL, "search: making %s live: %s", index, es_last_error(ix->es));
        goto drop;
    }
    log_info(NULL, "search: alias %s now on %s", search_ix_alias[kind], index);
    for (size_t i = 0; i < old.count; i++)
        if (strcmp(old.names[i], index) != 0 && es_delete_index(ix->es, old.names[i]) != ES_OK)
            log_warn(NULL, "search: deleting old index %s: %s", old.names[i],
                     es_last_error(ix->es));
    es_names_free(&old);
    return true;
drop:
    es_names_free(&old);
    if (es_delete_index(ix->es, index) != ES_OK)
        log_warn(NULL, "search: deleting %s: %s", index, es_last_error(ix->es));
    return ok;
}

/* Loads every document of one kind, a batch at a time. */
static bool search_ix_full_kind(struct search_indexer *ix, struct search_ix_full *full,
                                enum search_ix_kind kind, struct search_index_report *report)
{
    if (!search_ix_db(ix, db_run(ix->db, &search_ix_open_stmt[kind], 0, NULL, NULL),
                      "reading sources"))
        return false;
    for (;;) {
        struct db_result *res = NULL;
        json_object *docs = NULL;
        int rows;
        if (!search_ix_db(ix, db_run(ix->db, &search_ix_next_stmt[kind], 0, NULL, &res),
                          "reading sources"))
            return false;
        rows = db_rows(res);
        docs = json_object_new_array();
        if (docs == NULL) {
            db_result_free(res);
            return false;
        }
        for (int i = 0; i < rows; i++) {
            bool scheduled = true;
            json_object *doc = kind == SEARCH_IX_EVENT ? search_ix_event_doc(res, i, &scheduled)
                                                       : search_ix_train_doc(res, i);
            if (doc == NULL)
                report->failed++;
            else if (!scheduled)
                json_object_put(doc);
            else if (json_object_array_add(docs, doc) != 0)
                json_object_put(doc);
        }
        db_result_free(res);
        if (!search_ix_pg_put(ix, docs)) {
            json_object_put(docs);
            return false;
        }
        if (ix->es != NULL && !full->es_failed) {
            enum es_status st = search_ix_es_put(ix, full->index[kind], docs, report);
            if (st != ES_OK && st != ES_INCOMPLETE)
                full->es_failed = true;
        }
        report->indexed += json_object_array_length(docs);
        full->done += (size_t)rows;
        json_object_put(docs);
        if (ix->progress != NULL)
            ix->progress(ix->progress_ctx, full->done, full->total);
        if (rows < SEARCH_INDEX_BATCH)
            return true;
    }
}

enum search_index_status search_index_full(struct search_indexer *ix,
                                           struct search_index_report *report)
{
    struct search_ix_full full;
    struct db_result *res = NULL;
    bool ok = false;
    size_t failed_before;

    memset(&full, 0, sizeof(full));
    memset(report, 0, sizeof(*report));
    if (search_ix_db(ix, db_run(ix->db, &search_ix_count_stmt, 0, NULL, &res), "counting")) {
        full.total = (size_t)db_int64(res, 0, 0);
        db_result_free(res);
        res = NULL;
    }
    if (ix->es != NULL) {
        for (int k = 0; k < SEARCH_IX_KINDS; k++)
            if (!search_ix_es_create(ix, &full, (enum search_ix_kind)k))
                full.es_failed = true;
    }
    if (!search_ix_db(ix, db_exec(ix->db, "BEGIN"), "BEGIN"))
        goto done;
    if (!search_ix_db(ix, db_run(ix->db, &search_ix_clear_stmt, 0, NULL, &res), "clearing")) {
        search_ix_rollback(ix);
        goto done;
    }
    db_result_free(res);
    failed_before = report->failed;
    if (!search_ix_full_kind(ix, &full, SEARCH_IX_EVENT, report) ||
        !search_ix_full_kind(ix, &full, SEARCH_IX_TRAIN, report) ||
        !search_ix_db(ix, db_exec(ix->db, "COMMIT"), "COMMIT")) {
        search_ix_rollback(ix);
        goto done;
    }
    ok = report->failed == failed_before;
done:
    if (ix->es != NULL) {
        bool complete = ok && !full.es_failed;
        for (int k = 0; k < SEARCH_IX_KINDS; k++)
            if (!search_ix_es_finish(ix, &full, (enum search_ix_kind)k, complete))
                complete = false;
        if (!complete && ok)
            return SEARCH_INDEX_INCOMPLETE;
    }
    if (!ok)
        return report->indexed > 0 || report->failed > 0 ? SEARCH_INDEX_INCOMPLETE
                                                         : SEARCH_INDEX_FAILED;
    return SEARCH_INDEX_OK;
}

/* ---- incremental ---- */

struct search_ix_claim {
    enum search_ix_kind kind;
    char id[65];
    bool found;
};

/* Marks the claims of kind/id as found. */
static void search_ix_mark(struct search_ix_claim *claims, size_t n, enum search_ix_kind kind,
                           const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (claims[i].kind == kind && strcmp(claims[i].id, id) == 0)
            claims[i].found = true;
}

/* Loads the claimed documents of kind into docs; marks the claims found
 * for those that should stay indexed. */
static bool search_ix_load_claimed(struct search_indexer *ix, struct search_ix_claim *claims,
                                   size_t n, enum search_ix_kind kind, json_object *docs,
                                   struct search_index_report *report)
{
    size_t len = 0;
    char *array = search_ix_array_start(&len);
    struct db_result *res = NULL;
    size_t wanted = 0;
    bool ok = false;

    if (array == NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (claims[i].kind != kind)
            continue;
        if (!search_ix_array_add(&array, &len, claims[i].id)) {
            log_warn(NULL, "search: outbox names a bad id %s", claims[i].id);
            continue;
        }
        wanted++;
    }
    if (wanted == 0) {
        free(array);
        return true;
    }
    if (!search_ix_array_end(&array, &len))
        goto done;
    {
        const char *params[] = {array};
        const struct db_statement *stmt =
            kind == SEARCH_IX_EVENT ? &search_ix_events_ids_stmt : &search_ix_trains_ids_stmt;
        if (!search_ix_db(ix, db_run(ix->db, stmt, 1, params, &res), "reading sources"))
            goto done;
    }
    for (int i = 0; i < db_rows(res); i++) {
        bool scheduled = true;
        json_object *doc = kind == SEARCH_IX_EVENT ? search_ix_event_doc(res, i, &scheduled)
                                                   : search_ix_train_doc(res, i);
        if (doc == NULL) {
            report->failed++;
            search_ix_mark(claims, n, kind, db_text(res, i, 0)); /* not a deletion */
            continue;
        }
        if (!scheduled) {
            json_object_put(doc);
            continue;
        }
        search_ix_mark(claims, n, kind, db_text(res, i, 0));
        if (json_object_array_add(docs, doc) != 0) {
            json_object_put(doc);
            goto done;
        }
    }
    ok = true;
done:
    db_result_free(res);
    free(array);
    return ok;
}

/* Removes the claimed documents of kind that were not found (gone or
 * canceled) from both stores. */
static bool search_ix_delete_missing(struct search_indexer *ix, struct search_ix_claim *claims,
                                     size_t n, enum search_ix_kind kind,
                                     struct search_index_report *report)
{
    size_t len = 0;
    char *array = search_ix_array_start(&len);
    const char **ids = calloc(n > 0 ? n : 1, sizeof(*ids));
    struct db_result *res = NULL;
    size_t count = 0;
    bool ok = false;

    if (array == NULL || ids == NULL)
        goto done;
    for (size_t i = 0; i < n; i++) {
        if (claims[i].kind != kind || claims[i].found)
            continue;
        if (!search_ix_array_add(&array, &len, claims[i].id))
            continue;
        ids[count++] = claims[i].id;
    }
    if (count == 0) {
        ok = true;
        goto done;
    }
    if (ix->es != NULL) {
        struct es_bulk_report bulk = {0};
        enum es_status st = es_bulk_delete(ix->es, search_ix_alias[kind], ids, count, &bulk);
        for (size_t i = 0; i < bulk.failed_count; i++)
            log_error(NULL, "search: %s: document %s not deleted: HTTP %d: %s",
                      search_ix_alias[kind], bulk.failed[i].id, bulk.failed[i].status,
                      bulk.failed[i].reason);
        report->failed += bulk.failed_count;
        es_bulk_report_free(&bulk);
        if (st != ES_OK && st != ES_INCOMPLETE) {
            log_error(NULL, "search: deleting from %s: %s", search_ix_alias[kind],
                      es_last_error(ix->es));
            goto done;
        }
    }
    if (!search_ix_array_end(&array, &len))
        goto done;
    {
        const char *params[] = {search_ix_type[kind], array};
        if (!search_ix_db(ix, db_run(ix->db, &search_ix_delete_stmt, 2, params, &res),
                          "deleting documents"))
            goto done;
    }
    report->deleted += count;
    ok = true;
done:
    db_result_free(res);
    free(ids);
    free(array);
    return ok;
}

enum search_index_status search_index_outbox(struct search_indexer *ix, int limit, size_t *claimed,
                                             struct search_index_report *report)
{
    char limit_text[16];
    struct db_result *res = NULL;
    struct search_ix_claim *claims = NULL;
    json_object *docs[SEARCH_IX_KINDS] = {NULL, NULL};
    enum search_index_status result = SEARCH_INDEX_FAILED;
    size_t n = 0;
    size_t failed_before = report->failed;

    *claimed = 0;
    snprintf(limit_text, sizeof(limit_text), "%d", limit);
    const char *params[] = {limit_text};
    if (!search_ix_db(ix, db_exec(ix->db, "BEGIN"), "BEGIN"))
        return SEARCH_INDEX_FAILED;
    if (!search_ix_db(ix, db_run(ix->db, &search_ix_claim_stmt, 1, params, &res),
                      "claiming the outbox"))
        goto rollback;
    n = (size_t)db_rows(res);
    if (n == 0) {
        db_result_free(res);
        return search_ix_db(ix, db_exec(ix->db, "COMMIT"), "COMMIT") ? SEARCH_INDEX_OK
                                                                     : SEARCH_INDEX_FAILED;
    }
    claims = calloc(n, sizeof(*claims));
    docs[SEARCH_IX_EVENT] = json_object_new_array();
    docs[SEARCH_IX_TRAIN] = json_object_new_array();
    if (claims == NULL || docs[SEARCH_IX_EVENT] == NULL || docs[SEARCH_IX_TRAIN] == NULL)
        goto rollback;
    for (size_t i = 0; i < n; i++) {
        claims[i].kind =
            strcmp(db_text(res, (int)i, 0), "train") == 0 ? SEARCH_IX_TRAIN : SEARCH_IX_EVENT;
        snprintf(claims[i].id, sizeof(claims[i].id), "%s", db_text(res, (int)i, 1));
    }
    db_result_free(res);
    res = NULL;
    for (int k = 0; k < SEARCH_IX_KINDS; k++) {
        enum search_ix_kind kind = (enum search_ix_kind)k;
        if (!search_ix_load_claimed(ix, claims, n, kind, docs[k], report) ||
            !search_ix_pg_put(ix, docs[k]))
            goto rollback;
        if (ix->es != NULL) {
            enum es_status st = search_ix_es_put(ix, search_ix_alias[k], docs[k], report);
            /* Per-document failures are reported and not retried forever;
             * ES being away keeps the rows for the next round. */
            if (st != ES_OK && st != ES_INCOMPLETE)
                goto rollback;
        }
        if (!search_ix_delete_missing(ix, claims, n, kind, report))
            goto rollback;
    }
    if (!search_ix_db(ix, db_exec(ix->db, "COMMIT"), "COMMIT"))
        goto rollback;
    report->indexed += json_object_array_length(docs[SEARCH_IX_EVENT]) +
                       json_object_array_length(docs[SEARCH_IX_TRAIN]);
    *claimed = n;
    result = report->failed == failed_before ? SEARCH_INDEX_OK : SEARCH_INDEX_INCOMPLETE;
    goto done;
rollback:
    search_ix_rollback(ix);
done:
    db_result_free(res);
    free(claims);
    json_object_put(docs[SEARCH_IX_EVENT]);
    json_object_put(docs[SEARCH_IX_TRAIN]);
    return result;
}

enum search_index_status search_index_availability(struct search_indexer *ix, int *queued)
{
    struct db_result *res = NULL;
    *queued = 0;
    if (!search_ix_db(ix, db_run(ix->db, &search_ix_sweep_stmt, 0, NULL, &res),
                      "availability sweep"))
        return SEARCH_INDEX_FAILED;
    *queued = (int)db_int64(res, 0, 0);
    db_result_free(res);
    return SEARCH_INDEX_OK;
}

bool search_index_es_ready(struct search_indexer *ix)
{
    for (int k = 0; k < SEARCH_IX_KINDS; k++) {
        struct es_names names = {0};
        bool ready =
            es_alias_indices(ix->es, search_ix_alias[k], &names) == ES_OK && names.count > 0;
        es_names_free(&names);
        if (!ready)
            return false;
    }
    return true;
}
