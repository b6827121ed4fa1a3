/* test_es_live.c: es_client over real HTTP against tests/es/fake_es.py (or
 * anything at BOXOFFICE_TEST_ES_URL that speaks its /_fake/ hooks): a full
 * load into a versioned index with injected failures, then the alias swap.
 * Skipped unless BOXOFFICE_TEST_ES_URL is set; tests/es/run-live-tests.sh
 * starts the fake and sets it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_client.h"

#ifndef BOXOFFICE_SRCDIR
#define BOXOFFICE_SRCDIR "."
#endif

#define ALIAS "boxoffice-events"
#define OLD_INDEX "boxoffice-events-v1"
#define NEW_INDEX "boxoffice-events-v2"
#define DOC_COUNT 10

static const char *es_url(void)
{
    const char *url = getenv("BOXOFFICE_TEST_ES_URL");
    return url != NULL && *url != '\0' ? url : NULL;
}

struct body {
    char data[1 << 16];
    size_t len;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct body *b = userdata;
    size_t n = size * nmemb;
    if (n >= sizeof(b->data) - b->len)
        return 0;
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* Calls one of the fake's /_fake/ hooks; returns its JSON answer. */
static json_object *fake_call(const char *method, const char *path, const char *json)
{
    char url[512];
    struct body *b = calloc(1, sizeof(*b));
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    CURL *curl = curl_easy_init();
    assert_non_null(b);
    assert_non_null(curl);
    snprintf(url, sizeof(url), "%s%s", es_url(), path);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    if (json != NULL)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json);
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    json_object *answer = json_tokener_parse(b->data);
    assert_non_null(answer);
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    free(b);
    return answer;
}

static json_object *get(json_object *obj, const char *key)
{
    json_object *v = NULL;
    json_object_object_get_ex(obj, key, &v);
    return v;
}

static void assert_no_violations(void)
{
    json_object *v = fake_call("GET", "/_fake/violations", NULL);
    json_object *list = get(v, "violations");
    if (json_object_array_length(list) != 0)
        print_error("violations: %s\n", json_object_to_json_string(list));
    assert_int_equal(json_object_array_length(list), 0);
    json_object_put(v);
}

/* How many requests the fake received for path. */
static int count_requests(const char *path)
{
    json_object *log = fake_call("GET", "/_fake/requests", NULL);
    json_object *list = get(log, "requests");
    int n = 0;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *path_value = get(json_object_array_get_idx(list, i), "path");
        if (strcmp(json_object_get_string(path_value), path) == 0)
            n++;
    }
    json_object_put(log);
    return n;
}

static struct es_client *open_client(int max_attempts)
{
    struct es_options opts = {.base_url = es_url(),
                              .timeout_ms = 5000,
                              .max_attempts = max_attempts,
                              .backoff_initial_ms = 1,
                              .backoff_max_ms = 5};
    struct es_client *es = es_open(&opts);
    assert_non_null(es);
    return es;
}

static json_object *event_doc(int i, const char *starts_at)
{
    char id[16];
    char title[64];
    snprintf(id, sizeof(id), "%d", i);
    snprintf(title, sizeof(title), "Concert number %d \"live\"\nencore", i);
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "id", json_object_new_string(id));
    json_object_object_add(doc, "type", json_object_new_string("event"));
    json_object_object_add(doc, "title", json_object_new_string(title));
    json_object_object_add(doc, "performer", json_object_new_string("The Testers"));
    json_object_object_add(doc, "category",
                           json_object_new_string(i % 2 == 0 ? "concert" : "comedy"));
    json_object_object_add(doc, "venue", json_object_new_string("NCPA"));
    json_object_object_add(doc, "city", json_object_new_string(i % 3 == 0 ? "Chennai" : "Mumbai"));
    json_object *loc = json_object_new_object();
    json_object_object_add(loc, "lat", json_object_new_double(18.92));
    json_object_object_add(loc, "lon", json_object_new_double(72.82));
    json_object_object_add(doc, "location", loc);
    json_object_object_add(doc, "starts_at", json_object_new_string(starts_at));
    json_object_object_add(doc, "price_min", json_object_new_int64(50000));
    json_object_object_add(doc, "price_max", json_object_new_int64(250000));
    json_object_object_add(doc, "currency", json_object_new_string("INR"));
    json_object_object_add(doc, "seats_available", json_object_new_int(100 + i));
    return doc;
}

static int setup(void **state)
{
    if (es_url() == NULL)
        return 0;
    json_object_put(fake_call("POST", "/_fake/reset", NULL));
    return 0;
}

static void create_from_mapping(struct es_client *es, const char *index)
{
    json_object *mapping = NULL;
    assert_int_equal(es_load_json_file(BOXOFFICE_SRCDIR "/es-mappings/events.json", &mapping),
                     ES_OK);
    assert_int_equal(es_create_index(es, index, mapping), ES_OK);
    json_object_put(mapping);
}

/* The indexer's --full, step by step, with ES misbehaving on the way. */
static void test_full_load_with_faults_then_alias_swap(void **state)
{
    if (es_url() == NULL) {
        print_message("BOXOFFICE_TEST_ES_URL not set: skipping live ES tests\n");
        skip();
    }
    struct es_client *es = open_client(6);
    json_object *docs_json[DOC_COUNT];
    struct es_bulk_doc docs[DOC_COUNT];
    char ids[DOC_COUNT][16];
    struct es_bulk_report report;
    struct es_names names;

    /* Yesterday's index behind the alias, one document. */
    create_from_mapping(es, OLD_INDEX);
    json_object *old_doc = event_doc(100, "2099-06-01T18:00:00Z");
    struct es_bulk_doc old[] = {{"100", old_doc}};
    assert_int_equal(es_bulk_index(es, OLD_INDEX, old, 1, &report), ES_OK);
    es_bulk_report_free(&report);
    assert_int_equal(es_swap_alias(es, ALIAS, OLD_INDEX, NULL, 0), ES_OK);

    /* A new versioned index, refresh off during the load. */
    create_from_mapping(es, NEW_INDEX);
    json_object *mapping = NULL;
    assert_int_equal(es_load_json_file(BOXOFFICE_SRCDIR "/es-mappings/events.json", &mapping),
                     ES_OK);
    assert_int_equal(es_create_index(es, NEW_INDEX, mapping), ES_REJECTED); /* exists */
    json_object_put(mapping);
    assert_non_null(strstr(es_last_error(es), "resource_already_exists_exception"));
    assert_int_equal(es_set_refresh_interval(es, NEW_INDEX, "-1"), ES_OK);

    for (int i = 0; i < DOC_COUNT; i++) {
        snprintf(ids[i], sizeof(ids[i]), "%d", i);
        docs_json[i] = event_doc(i, "2099-01-18T19:30:00+05:30");
        docs[i].id = ids[i];
        docs[i].doc = docs_json[i];
    }
    /* Request 1: whole 429; 2: whole 503; 3: lost connection; 4: items 3
     * and 7 busy (429), item 5 unparseable (400); 5: item 3 busy again;
     * 6: item 3 indexed. */
    json_object_put(fake_call("POST", "/_fake/faults",
                              "[{\"endpoint\":\"bulk\",\"status\":429},"
                              "{\"endpoint\":\"bulk\",\"status\":503},"
                              "{\"endpoint\":\"bulk\",\"drop\":true},"
                              "{\"endpoint\":\"bulk\",\"items\":{\"3\":429,\"7\":429,\"5\":400}},"
                              "{\"endpoint\":\"bulk\",\"items\":{\"3\":429}}]"));
    assert_int_equal(es_bulk_index(es, NEW_INDEX, docs, DOC_COUNT, &report), ES_INCOMPLETE);
    /* libcurl itself resends once when a reused connection dies before any
     * answer, so the dropped request may not count as one of ours; the fake
     * saw all six. */
    assert_in_range(report.requests, 5, 6);
    assert_int_equal(count_requests("/" NEW_INDEX "/_bulk"), 6);
    assert_int_equal(report.indexed, DOC_COUNT - 1);
    assert_int_equal(report.failed_count, 1);
    assert_string_equal(report.failed[0].id, "5");
    assert_int_equal(report.failed[0].status, 400);
    assert_non_null(strstr(report.failed[0].reason, "mapper_parsing_exception"));
    es_bulk_report_free(&report);

    /* The reported document goes again (the indexer's next batch). */
    struct es_bulk_doc again[] = {docs[5]};
    assert_int_equal(es_bulk_index(es, NEW_INDEX, again, 1, &report), ES_OK);
    assert_int_equal(report.indexed, 1);
    es_bulk_report_free(&report);

    /* Nothing of the new index is visible yet and the alias has not moved. */
    json_object *st = fake_call("GET", "/_fake/state", NULL);
    json_object *idx = get(get(st, "indices"), NEW_INDEX);
    assert_int_equal(json_object_get_int(get(idx, "docs")), DOC_COUNT);
    assert_int_equal(json_object_get_int(get(idx, "visible_docs")), 0);
    assert_int_equal(json_object_array_length(get(st, "alias_history")), 1);
    json_object_put(st);

    assert_int_equal(es_set_refresh_interval(es, NEW_INDEX, "1s"), ES_OK);
    assert_int_equal(es_refresh(es, NEW_INDEX), ES_OK);

    assert_int_equal(es_alias_indices(es, ALIAS, &names), ES_OK);
    assert_int_equal(names.count, 1);
    assert_string_equal(names.names[0], OLD_INDEX);
    assert_int_equal(
        es_swap_alias(es, ALIAS, NEW_INDEX, (const char *const *)names.names, names.count), ES_OK);
    for (size_t i = 0; i < names.count; i++)
        assert_int_equal(es_delete_index(es, names.names[i]), ES_OK);
    es_names_free(&names);

    /* The swap was one request, made when the new index was complete. */
    st = fake_call("GET", "/_fake/state", NULL);
    json_object *history = get(st, "alias_history");
    assert_int_equal(json_object_array_length(history), 2);
    json_object *swap = json_object_array_get_idx(history, 1);
    assert_int_equal(json_object_array_length(get(swap, "actions")), 2);
    json_object *after = get(get(get(swap, "aliases"), ALIAS), NEW_INDEX);
    assert_non_null(after);
    assert_int_equal(json_object_get_int(get(after, "visible_docs")), DOC_COUNT);
    assert_null(get(get(get(swap, "aliases"), ALIAS), OLD_INDEX));
    assert_null(get(get(st, "indices"), OLD_INDEX));
    json_object_put(st);

    assert_int_equal(es_alias_indices(es, ALIAS, &names), ES_OK);
    assert_int_equal(names.count, 1);
    assert_string_equal(names.names[0], NEW_INDEX);
    es_names_free(&names);

    /* Searching through the alias with our builder's query; the fake checks
     * the query DSL, sort and aggregations. */
    struct es_search_request req = {.q = "concert",
                                    .types = ES_TYPE_EVENT,
                                    .city = "Mumbai",
                                    .category = "concert",
                                    .from_date = "2099-01-01",
                                    .to_date = "2099-12-31",
                                    .page = 1,
                                    .per_page = 20};
    json_object *query = es_build_search_query(&req);
    json_object *answer = NULL;
    assert_int_equal(es_search(es, ALIAS, query, &answer), ES_OK);
    json_object *mapped = es_map_search_response(answer);
    assert_non_null(mapped);
    /* Even ids are concerts; of 0,2,4,6,8 the multiples of 3 are in Chennai. */
    assert_int_equal(json_object_get_int(get(mapped, "total")), 3);
    assert_int_equal(json_object_array_length(get(get(mapped, "facets"), "city")), 1);
    json_object_put(mapped);
    json_object_put(answer);
    json_object_put(query);

    struct es_search_request all = {.page = 2, .per_page = 4};
    query = es_build_search_query(&all);
    assert_int_equal(es_search(es, ALIAS, query, &answer), ES_OK);
    mapped = es_map_search_response(answer);
    assert_int_equal(json_object_get_int(get(mapped, "total")), DOC_COUNT);
    assert_int_equal(json_object_array_length(get(mapped, "hits")), 4);
    json_object_put(mapped);
    json_object_put(answer);
    json_object_put(query);

    query = es_build_suggest_query("conc", 5);
    assert_int_equal(es_search(es, ALIAS, query, &answer), ES_OK);
    mapped = es_map_suggest_response(answer);
    assert_int_equal(json_object_array_length(get(mapped, "suggestions")), 5);
    json_object_put(mapped);
    json_object_put(answer);
    json_object_put(query);

    assert_no_violations();
    for (int i = 0; i < DOC_COUNT; i++)
        json_object_put(docs_json[i]);
    json_object_put(old_doc);
    es_close(es);
}

/* Items still busy after every attempt are reported as 429, not dropped;
 * a cluster that stays unavailable fails every document. */
static void test_retries_run_out(void **state)
{
    if (es_url() == NULL)
        skip();
    struct es_client *es = open_client(3);
    struct es_bulk_report report;
    json_object *a = event_doc(1, "2099-01-01T00:00:00Z");
    json_object *b = event_doc(2, "2099-01-01T00:00:00Z");
    struct es_bulk_doc docs[] = {{"a", a}, {"b", b}};

    create_from_mapping(es, "boxoffice-events-retry");
    json_object_put(fake_call("POST", "/_fake/faults",
                              "[{\"endpoint\":\"bulk\",\"items\":{\"b\":429}},"
                              "{\"endpoint\":\"bulk\",\"items\":{\"b\":429}},"
                              "{\"endpoint\":\"bulk\",\"items\":{\"b\":429}}]"));
    assert_int_equal(es_bulk_index(es, "boxoffice-events-retry", docs, 2, &report), ES_INCOMPLETE);
    assert_int_equal(report.requests, 3);
    assert_int_equal(report.indexed, 1);
    assert_int_equal(report.failed_count, 1);
    assert_string_equal(report.failed[0].id, "b");
    assert_int_equal(report.failed[0].status, 429);
    assert_non_null(strstr(report.failed[0].reason, "gave up after 3 attempts"));
    es_bulk_report_free(&report);

    json_object_put(fake_call("POST", "/_fake/faults",
                              "[{\"endpoint\":\"bulk\",\"status\":503},"
                              "{\"endpoint\":\"bulk\",\"status\":503},"
                              "{\"endpoint\":\"bulk\",\"status\":503}]"));
    assert_int_equal(es_bulk_index(es, "boxoffice-events-retry", docs, 2, &report), ES_UNAVAILABLE);
    assert_int_equal(report.indexed, 0);
    assert_int_equal(report.failed_count, 2);
    assert_int_equal(report.failed[0].status, 503);
    assert_non_null(strstr(report.failed[1].reason, "unavailable_shards_exception"));
    es_bulk_report_free(&report);

    /* A search on a missing index is a plain 404, not retried. */
    json_object *query = es_build_suggest_query("x", 1);
    json_object *answer = NULL;
    assert_int_equal(es_search(es, "no-such-index", query, &answer), ES_NOT_FOUND);
    assert_null(answer);
    json_object_put(query);

    assert_no_violations();
    json_object_put(a);
    json_object_put(b);
    es_close(es);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_full_load_with_faults_then_alias_swap, setup),
        cmocka_unit_test_setup(test_retries_run_out, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
