/* test_es_client.c: es_client without a server: NDJSON bodies, _bulk answer
 * parsing, the query builders and the mapping of ES answers to our shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "es_client.h"

static json_object *parse(const char *text)
{
    json_object *obj = json_tokener_parse(text);
    assert_non_null(obj);
    return obj;
}

/* The value at a dotted path ("query.bool.filter"), array steps as digits.
 * Keys that contain dots themselves are checked with contains() instead. */
static json_object *at(json_object *obj, const char *path)
{
    char part[128];
    const char *start = path;
    while (obj != NULL && *start != '\0') {
        const char *dot = strchr(start, '.');
        size_t n = dot != NULL ? (size_t)(dot - start) : strlen(start);
        assert_true(n < sizeof(part));
        memcpy(part, start, n);
        part[n] = '\0';
        if (json_object_is_type(obj, json_type_array)) {
            obj = json_object_array_get_idx(obj, (size_t)strtol(part, NULL, 10));
        } else if (!json_object_object_get_ex(obj, part, &obj)) {
            return NULL;
        }
        start = dot != NULL ? dot + 1 : start + n;
    }
    return obj;
}

static const char *str_at(json_object *obj, const char *path)
{
    json_object *v = at(obj, path);
    return v != NULL ? json_object_get_string(v) : NULL;
}

static bool contains(json_object *obj, const char *needle)
{
    return strstr(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN), needle) != NULL;
}

/* ---- NDJSON ---- */

static void test_ndjson_has_action_and_source_lines_each_newline_terminated(void **state)
{
    json_object *a = parse("{\"title\":\"Coldplay\",\"price_min\":2500}");
    json_object *b = parse("{\"title\":\"Zakir\"}");
    struct es_bulk_doc docs[] = {{"1", a}, {"2", b}};
    size_t len = 0;
    char *body = es_bulk_ndjson(docs, 2, NULL, &len);
    assert_non_null(body);
    assert_string_equal(body, "{\"index\":{\"_id\":\"1\"}}\n"
                              "{\"title\":\"Coldplay\",\"price_min\":2500}\n"
                              "{\"index\":{\"_id\":\"2\"}}\n"
                              "{\"title\":\"Zakir\"}\n");
    assert_int_equal(len, strlen(body));
    assert_int_equal(body[len - 1], '\n');
    free(body);
    json_object_put(a);
    json_object_put(b);
}

static void test_ndjson_escapes_newlines_quotes_and_unicode(void **state)
{
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "title", json_object_new_string("Line one\nline \"two\"\t/é"));
    struct es_bulk_doc docs[] = {{"id\"with\nnewline", doc}};
    size_t len = 0;
    char *body = es_bulk_ndjson(docs, 1, NULL, &len);
    assert_non_null(body);
    /* Exactly two lines: raw newlines only as terminators. */
    size_t newlines = 0;
    for (size_t i = 0; i < len; i++)
        newlines += body[i] == '\n';
    assert_int_equal(newlines, 2);
    assert_non_null(strstr(body, "{\"index\":{\"_id\":\"id\\\"with\\nnewline\"}}\n"));
    assert_non_null(strstr(body, "\"Line one\\nline \\\"two\\\"\\t/é\"}\n"));
    free(body);
    json_object_put(doc);
}

static void test_ndjson_selects_only_chosen_documents(void **state)
{
    json_object *d = parse("{}");
    struct es_bulk_doc docs[] = {{"a", d}, {"b", d}, {"c", d}};
    bool select[] = {false, true, false};
    size_t len = 0;
    char *body = es_bulk_ndjson(docs, 3, select, &len);
    assert_string_equal(body, "{\"index\":{\"_id\":\"b\"}}\n{}\n");
    free(body);
    json_object_put(d);
}

static void test_ndjson_refuses_bad_ids_and_missing_documents(void **state)
{
    char long_id[ES_ID_MAX + 2];
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    json_object *d = parse("{}");
    size_t len = 99;
    struct es_bulk_doc empty_id[] = {{"", d}};
    struct es_bulk_doc null_id[] = {{NULL, d}};
    struct es_bulk_doc too_long[] = {{long_id, d}};
    struct es_bulk_doc no_doc[] = {{"1", NULL}};
    assert_null(es_bulk_ndjson(empty_id, 1, NULL, &len));
    assert_int_equal(len, 0);
    assert_null(es_bulk_ndjson(null_id, 1, NULL, &len));
    assert_null(es_bulk_ndjson(too_long, 1, NULL, &len));
    assert_null(es_bulk_ndjson(no_doc, 1, NULL, &len));
    json_object_put(d);
}

/* ---- _bulk answers ---- */

static const char mixed_answer[] =
    "{\"took\":30,\"errors\":true,\"items\":["
    "{\"index\":{\"_index\":\"ev-1\",\"_id\":\"1\",\"_version\":1,\"result\":\"created\","
    "\"_shards\":{\"total\":2,\"successful\":1,\"failed\":0},\"status\":201,"
    "\"_seq_no\":0,\"_primary_term\":1}},"
    "{\"index\":{\"_index\":\"ev-1\",\"_id\":\"2\",\"status\":429,\"error\":{\"type\":"
    "\"es_rejected_execution_exception\",\"reason\":\"rejected execution\"}}},"
    "{\"index\":{\"_index\":\"ev-1\",\"_id\":\"3\",\"status\":400,\"error\":{\"type\":"
    "\"mapper_parsing_exception\",\"reason\":\"failed to parse field [starts_at]\"}}},"
    "{\"index\":{\"_index\":\"ev-1\",\"_id\":\"4\",\"_version\":2,\"result\":\"updated\","
    "\"status\":200}}]}";

static void test_bulk_answer_with_mixed_item_statuses(void **state)
{
    json_object *d = parse("{}");
    struct es_bulk_doc docs[] = {{"1", d}, {"2", d}, {"3", d}, {"4", d}};
    struct es_bulk_item items[4];
    memset(items, 0, sizeof(items));
    assert_int_equal(
        es_bulk_parse_response(mixed_answer, strlen(mixed_answer), docs, 4, NULL, items), ES_OK);
    assert_int_equal(items[0].status, 201);
    assert_string_equal(items[0].reason, "");
    assert_int_equal(items[1].status, 429);
    assert_string_equal(items[1].reason, "es_rejected_execution_exception: rejected execution");
    assert_int_equal(items[2].status, 400);
    assert_string_equal(items[2].reason,
                        "mapper_parsing_exception: failed to parse field [starts_at]");
    assert_int_equal(items[3].status, 200);
    json_object_put(d);
}

static void test_bulk_answer_maps_to_selected_documents_in_order(void **state)
{
    static const char answer[] = "{\"errors\":false,\"items\":["
                                 "{\"index\":{\"_id\":\"b\",\"status\":201}},"
                                 "{\"index\":{\"_id\":\"d\",\"status\":200}}]}";
    json_object *d = parse("{}");
    struct es_bulk_doc docs[] = {{"a", d}, {"b", d}, {"c", d}, {"d", d}};
    bool select[] = {false, true, false, true};
    struct es_bulk_item items[4];
    memset(items, 0, sizeof(items));
    assert_int_equal(es_bulk_parse_response(answer, strlen(answer), docs, 4, select, items), ES_OK);
    assert_int_equal(items[0].status, 0);
    assert_int_equal(items[1].status, 201);
    assert_int_equal(items[3].status, 200);
    json_object_put(d);
}

static void test_bulk_answer_that_does_not_match_the_request_is_an_error(void **state)
{
    static const char *const bad[] = {
        "",
        "not json",
        "{\"items\":[{\"index\":{\"_id\":\"1\",\"status\":201}}]}",                  /* no errors */
        "{\"errors\":false,\"items\":[]}",                                           /* too few */
        "{\"errors\":false,\"items\":[{\"index\":{\"_id\":\"9\",\"status\":201}}]}", /* id */
        "{\"errors\":false,\"items\":[{\"index\":{\"_id\":\"1\"}}]}",                /* no status */
        "{\"errors\":false,\"items\":[{\"delete\":{\"_id\":\"1\",\"status\":200}}]}",
        "{\"errors\":false,\"items\":[{\"index\":{\"_id\":\"1\",\"status\":201}}]} x",
    };
    json_object *d = parse("{}");
    struct es_bulk_doc docs[] = {{"1", d}};
    struct es_bulk_item items[1];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(es_bulk_parse_response(bad[i], strlen(bad[i]), docs, 1, NULL, items),
                         ES_ERROR);
    json_object_put(d);
}

/* ---- names ---- */

static void test_index_names(void **state)
{
    static const char *const good[] = {"boxoffice-events", "boxoffice-events-v20260101t1200", "a",
                                       "x.y_z+1"};
    static const char *const bad[] = {"",    "Events", "-x",  "_x", "+x", ".",  "..",
                                      "a/b", "a b",    "a,b", "a*", "a?", "a#", "a:b"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(es_valid_index_name(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(es_valid_index_name(bad[i]));
    char long_name[ES_NAME_MAX + 2];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_false(es_valid_index_name(long_name));
}

/* ---- the search query builder ---- */

static void test_query_with_text_only(void **state)
{
    struct es_search_request req = {.q = "coldplay", .page = 1, .per_page = 20};
    json_object *q = es_build_search_query(&req);
    assert_non_null(q);
    json_object *mm = at(q, "query.bool.must.0.multi_match");
    assert_non_null(mm);
    assert_string_equal(str_at(mm, "query"), "coldplay");
    assert_string_equal(str_at(mm, "fuzziness"), "AUTO");
    assert_string_equal(str_at(mm, "type"), "best_fields");
    const char *fields = json_object_to_json_string_ext(at(mm, "fields"), JSON_C_TO_STRING_PLAIN);
    assert_string_equal(fields, "[\"title^3\",\"performer^3\",\"name^3\",\"number^4\","
                                "\"city^2\",\"venue\",\"category\",\"stops.name\"]");
    /* Only the upcoming-events filter: trains pass, events need starts_at >= now. */
    json_object *filters = at(q, "query.bool.filter");
    assert_int_equal(json_object_array_length(filters), 1);
    assert_string_equal(str_at(filters, "0.bool.should.0.term.type"), "train");
    assert_string_equal(str_at(filters, "0.bool.should.1.range.starts_at.gte"), "now");
    assert_int_equal(json_object_get_int(at(filters, "0.bool.minimum_should_match")), 1);
    assert_int_equal(json_object_get_int(at(q, "from")), 0);
    assert_int_equal(json_object_get_int(at(q, "size")), 20);
    assert_true(json_object_get_boolean(at(q, "track_total_hits")));
    assert_string_equal(str_at(q, "aggs.city.terms.field"), "city.keyword");
    assert_string_equal(str_at(q, "aggs.category.terms.field"), "category.keyword");
    assert_null(at(q, "sort")); /* relevance order */
    json_object_put(q);
}

static void test_query_without_text_is_match_all_sorted_by_date(void **state)
{
    struct es_search_request req = {.page = 3, .per_page = 10};
    json_object *q = es_build_search_query(&req);
    assert_non_null(q);
    assert_non_null(at(q, "query.bool.must.0.match_all"));
    assert_string_equal(str_at(q, "sort.0.starts_at.order"), "asc");
    assert_string_equal(str_at(q, "sort.0.starts_at.unmapped_type"), "date");
    assert_string_equal(str_at(q, "sort.1.number.unmapped_type"), "keyword");
    assert_int_equal(json_object_get_int(at(q, "from")), 20);
    json_object_put(q);
}

static void test_query_with_every_filter(void **state)
{
    struct es_search_request req = {.q = "jazz",
                                    .types = ES_TYPE_EVENT,
                                    .city = "Bombay",
                                    .category = "concert",
                                    .from_date = "2026-12-01",
                                    .to_date = "2026-12-31",
                                    .page = 2,
                                    .per_page = 5};
    json_object *q = es_build_search_query(&req);
    assert_non_null(q);
    json_object *f = at(q, "query.bool.filter");
    assert_int_equal(json_object_array_length(f), 5);
    assert_string_equal(str_at(f, "0.term.type"), "event");
    assert_string_equal(str_at(f, "1.bool.should.1.range.starts_at.gte"), "now");
    assert_string_equal(str_at(f, "2.bool.should.1.range.starts_at.gte"), "2026-12-01");
    assert_string_equal(str_at(f, "2.bool.should.1.range.starts_at.lte"), "2026-12-31||/d");
    assert_string_equal(str_at(f, "3.bool.should.0.match.city.query"), "Bombay");
    assert_string_equal(str_at(f, "3.bool.should.0.match.city.operator"), "and");
    assert_true(contains(at(f, "3"), "\"stops.name\":{\"query\":\"Bombay\""));
    assert_true(contains(at(f, "4"), "{\"term\":{\"category.keyword\":\"concert\"}}"));
    assert_int_equal(json_object_get_int(at(q, "from")), 5);
    assert_int_equal(json_object_get_int(at(q, "size")), 5);
    json_object_put(q);
}

static void test_query_trains_only_and_past_included(void **state)
{
    struct es_search_request req = {
        .q = "rajdhani", .types = ES_TYPE_TRAIN, .include_past = true, .page = 1, .per_page = 1};
    json_object *q = es_build_search_query(&req);
    assert_non_null(q);
    json_object *f = at(q, "query.bool.filter");
    assert_int_equal(json_object_array_length(f), 1);
    assert_string_equal(str_at(f, "0.term.type"), "train");
    json_object_put(q);
}

static void test_query_to_date_only(void **state)
{
    struct es_search_request req = {.to_date = "2027-01-01", .page = 1, .per_page = 10};
    json_object *q = es_build_search_query(&req);
    assert_non_null(q);
    json_object *range = at(q, "query.bool.filter.1.bool.should.1.range.starts_at");
    assert_null(at(range, "gte"));
    assert_string_equal(str_at(range, "lte"), "2027-01-01||/d");
    json_object_put(q);
}

static void test_query_rejects_bad_pagination_and_types(void **state)
{
    static const struct {
        int page;
        int per_page;
    } bad[] = {{0, 10}, {1, 0}, {1, ES_PER_PAGE_MAX + 1}, {101, 100}, {-1, 10}, {10001, 1}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct es_search_request req = {.q = "x", .page = bad[i].page, .per_page = bad[i].per_page};
        assert_null(es_build_search_query(&req));
    }
    struct es_search_request last_page = {.page = 100, .per_page = 100};
    json_object *q = es_build_search_query(&last_page);
    assert_non_null(q);
    assert_int_equal(json_object_get_int(at(q, "from")), 9900);
    json_object_put(q);
    struct es_search_request bad_types = {.types = 4, .page = 1, .per_page = 1};
    assert_null(es_build_search_query(&bad_types));
    char huge[ES_QUERY_MAX + 2];
    memset(huge, 'a', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    struct es_search_request too_long = {.q = huge, .page = 1, .per_page = 1};
    assert_null(es_build_search_query(&too_long));
}

static void test_suggest_query(void **state)
{
    json_object *q = es_build_suggest_query("col", 8);
    assert_non_null(q);
    json_object *mm = at(q, "query.bool.must.0.multi_match");
    assert_string_equal(str_at(mm, "type"), "bool_prefix");
    assert_string_equal(str_at(mm, "query"), "col");
    assert_string_equal(json_object_to_json_string_ext(at(mm, "fields"), JSON_C_TO_STRING_PLAIN),
                        "[\"suggest\",\"suggest._2gram\",\"suggest._3gram\"]");
    assert_null(at(mm, "fuzziness"));
    assert_string_equal(str_at(q, "query.bool.filter.0.bool.should.1.range.starts_at.gte"), "now");
    assert_int_equal(json_object_get_int(at(q, "size")), 8);
    json_object_put(q);
    assert_null(es_build_suggest_query("", 8));
    assert_null(es_build_suggest_query(NULL, 8));
    assert_null(es_build_suggest_query("col", 0));
    assert_null(es_build_suggest_query("col", ES_SUGGEST_MAX + 1));
}

/* ---- mapping answers ---- */

static const char search_answer[] =
    "{\"took\":5,\"timed_out\":false,\"_shards\":{\"total\":2,\"successful\":2,\"skipped\":0,"
    "\"failed\":0},\"hits\":{\"total\":{\"value\":42,\"relation\":\"eq\"},\"max_score\":7.5,"
    "\"hits\":["
    "{\"_index\":\"boxoffice-events-v2\",\"_id\":\"17\",\"_score\":7.5,\"_source\":{"
    "\"id\":17,\"type\":\"event\",\"title\":\"Coldplay: Music of the Spheres\","
    "\"performer\":\"Coldplay\",\"category\":\"concert\",\"venue\":\"DY Patil Stadium\","
    "\"city\":\"Mumbai\",\"location\":{\"lat\":19.04,\"lon\":73.03},"
    "\"starts_at\":\"2027-01-18T19:30:00+05:30\",\"price_min\":250000,"
    "\"price_max\":3500000,\"currency\":\"INR\",\"seats_available\":1200}},"
    "{\"_index\":\"boxoffice-trains-v2\",\"_id\":\"12951\",\"_score\":3.25,\"_source\":{"
    "\"id\":\"12951\",\"type\":\"train\",\"number\":\"12951\","
    "\"name\":\"Mumbai Rajdhani\",\"stops\":["
    "{\"code\":\"MMCT\",\"name\":\"Mumbai Central\",\"index\":0},"
    "{\"code\":\"BRC\",\"name\":\"Vadodara Jn\",\"index\":1},"
    "{\"code\":\"NDLS\",\"name\":\"New Delhi\",\"index\":2}],"
    "\"station_codes\":[\"MMCT\",\"BRC\",\"NDLS\"],\"run_days\":[\"mon\",\"tue\"],"
    "\"classes\":[\"1A\",\"2A\",\"3A\"]}}]},"
    "\"aggregations\":{\"city\":{\"doc_count_error_upper_bound\":0,"
    "\"sum_other_doc_count\":0,\"buckets\":[{\"key\":\"Mumbai\",\"doc_count\":30},"
    "{\"key\":\"Chennai\",\"doc_count\":12}]},"
    "\"category\":{\"doc_count_error_upper_bound\":0,\"sum_other_doc_count\":0,"
    "\"buckets\":[{\"key\":\"concert\",\"doc_count\":42}]}}}";

static void test_search_answer_maps_to_our_shape(void **state)
{
    json_object *es = parse(search_answer);
    json_object *out = es_map_search_response(es);
    assert_non_null(out);
    assert_int_equal(json_object_get_int64(at(out, "total")), 42);
    json_object *hits = at(out, "hits");
    assert_int_equal(json_object_array_length(hits), 2);
    assert_string_equal(str_at(hits, "0.type"), "event");
    assert_int_equal(json_object_get_int64(at(hits, "0.id")), 17);
    assert_string_equal(str_at(hits, "0.title"), "Coldplay: Music of the Spheres");
    assert_string_equal(str_at(hits, "0.city"), "Mumbai");
    assert_string_equal(str_at(hits, "0.venue"), "DY Patil Stadium");
    assert_int_equal(json_object_get_int64(at(hits, "0.price_min")), 250000);
    assert_string_equal(str_at(hits, "0.currency"), "INR");
    assert_true(json_object_get_double(at(hits, "0.score")) == 7.5);
    assert_string_equal(str_at(hits, "1.type"), "train");
    assert_string_equal(str_at(hits, "1.id"), "12951");
    assert_string_equal(str_at(hits, "1.title"), "Mumbai Rajdhani");
    assert_string_equal(str_at(hits, "1.from.code"), "MMCT");
    assert_string_equal(str_at(hits, "1.to.name"), "New Delhi");
    assert_null(at(hits, "1.stops")); /* not all 85 stops in a hit */
    assert_true(json_object_get_double(at(hits, "1.score")) == 3.25);
    assert_string_equal(
        json_object_to_json_string_ext(at(out, "facets"), JSON_C_TO_STRING_PLAIN),
        "{\"city\":[{\"value\":\"Mumbai\",\"count\":30},{\"value\":\"Chennai\",\"count\":12}],"
        "\"category\":[{\"value\":\"concert\",\"count\":42}]}");
    json_object_put(out);
    json_object_put(es);
}

static void test_search_answer_without_aggregations_or_scores(void **state)
{
    json_object *es = parse("{\"hits\":{\"total\":{\"value\":1,\"relation\":\"eq\"},"
                            "\"max_score\":null,\"hits\":[{\"_id\":\"5\",\"_score\":null,"
                            "\"_source\":{\"type\":\"event\",\"title\":\"A\"},"
                            "\"sort\":[1]}]}}");
    json_object *out = es_map_search_response(es);
    assert_non_null(out);
    assert_string_equal(str_at(out, "hits.0.id"), "5"); /* from _id */
    assert_true(json_object_get_double(at(out, "hits.0.score")) == 0.0);
    assert_string_equal(json_object_to_json_string_ext(at(out, "facets"), JSON_C_TO_STRING_PLAIN),
                        "{\"city\":[],\"category\":[]}");
    json_object_put(out);
    json_object_put(es);
}

static void test_search_answer_with_old_numeric_total(void **state)
{
    json_object *es = parse("{\"hits\":{\"total\":3,\"hits\":[]}}");
    json_object *out = es_map_search_response(es);
    assert_int_equal(json_object_get_int64(at(out, "total")), 3);
    json_object_put(out);
    json_object_put(es);
}

static void test_malformed_search_answers_are_refused(void **state)
{
    static const char *const bad[] = {
        "{}",
        "{\"hits\":{}}",
        "{\"hits\":{\"hits\":[]}}",
        "{\"hits\":{\"total\":{},\"hits\":[]}}",
        "{\"hits\":{\"total\":1,\"hits\":{}}}",
        "{\"hits\":{\"total\":1,\"hits\":[{\"_id\":\"1\"}]}}",
        "{\"hits\":{\"total\":1,\"hits\":[{\"_source\":{\"title\":\"no type\"}}]}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_object *es = parse(bad[i]);
        assert_null(es_map_search_response(es));
        json_object_put(es);
    }
    assert_null(es_map_search_response(NULL));
}

static void test_suggest_answer_maps_to_suggestions(void **state)
{
    json_object *es = parse(search_answer);
    json_object *out = es_map_suggest_response(es);
    assert_non_null(out);
    assert_string_equal(
        json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN),
        "{\"suggestions\":[{\"type\":\"event\",\"id\":17,\"text\":\"Coldplay: Music of the "
        "Spheres\"},{\"type\":\"train\",\"id\":\"12951\",\"text\":\"12951 Mumbai Rajdhani\"}]}");
    json_object_put(out);
    json_object_put(es);
}

/* ---- client construction ---- */

static void test_open_validates_options(void **state)
{
    struct es_options none = {0};
    struct es_options ftp = {.base_url = "ftp://x"};
    struct es_options both = {.base_url = "http://x", .user_password = "u:p", .api_key = "k"};
    struct es_options ok = {.base_url = "http://127.0.0.1:9200/", .api_key = "a2V5"};
    assert_null(es_open(NULL));
    assert_null(es_open(&none));
    assert_null(es_open(&ftp));
    assert_null(es_open(&both));
    struct es_client *es = es_open(&ok);
    assert_non_null(es);
    assert_string_equal(es_last_error(es), "");
    es_close(es);
    es_close(NULL);
}

static void test_calls_with_bad_names_fail_before_any_request(void **state)
{
    /* Port 9 (discard) is never contacted: names are checked first. */
    struct es_options opts = {.base_url = "http://127.0.0.1:9"};
    struct es_client *es = es_open(&opts);
    json_object *body = parse("{}");
    json_object *resp = NULL;
    struct es_names names = {0};
    assert_int_equal(es_create_index(es, "Bad Name", body), ES_REJECTED);
    assert_int_equal(es_delete_index(es, "../x"), ES_REJECTED);
    assert_int_equal(es_refresh(es, ""), ES_REJECTED);
    assert_int_equal(es_set_refresh_interval(es, "ok", ""), ES_REJECTED);
    assert_int_equal(es_alias_indices(es, "a/b", &names), ES_REJECTED);
    assert_int_equal(es_swap_alias(es, "alias", "Bad", NULL, 0), ES_REJECTED);
    assert_int_equal(es_search(es, "a,,b", body, &resp), ES_REJECTED);
    assert_null(resp);

    struct es_bulk_doc docs[] = {{"1", body}};
    struct es_bulk_report report;
    assert_int_equal(es_bulk_index(es, "Bad", docs, 1, &report), ES_REJECTED);
    assert_int_equal(report.indexed + report.failed_count, 1);
    assert_string_equal(report.failed[0].id, "1");
    es_bulk_report_free(&report);
    json_object_put(body);
    es_close(es);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ndjson_has_action_and_source_lines_each_newline_terminated),
        cmocka_unit_test(test_ndjson_escapes_newlines_quotes_and_unicode),
        cmocka_unit_test(test_ndjson_selects_only_chosen_documents),
        cmocka_unit_test(test_ndjson_refuses_bad_ids_and_missing_documents),
        cmocka_unit_test(test_bulk_answer_with_mixed_item_statuses),
        cmocka_unit_test(test_bulk_answer_maps_to_selected_documents_in_order),
        cmocka_unit_test(test_bulk_answer_that_does_not_match_the_request_is_an_error),
        cmocka_unit_test(test_index_names),
        cmocka_unit_test(test_query_with_text_only),
        cmocka_unit_test(test_query_without_text_is_match_all_sorted_by_date),
        cmocka_unit_test(test_query_with_every_filter),
        cmocka_unit_test(test_query_trains_only_and_past_included),
        cmocka_unit_test(test_query_to_date_only),
        cmocka_unit_test(test_query_rejects_bad_pagination_and_types),
        cmocka_unit_test(test_suggest_query),
        cmocka_unit_test(test_search_answer_maps_to_our_shape),
        cmocka_unit_test(test_search_answer_without_aggregations_or_scores),
        cmocka_unit_test(test_search_answer_with_old_numeric_total),
        cmocka_unit_test(test_malformed_search_answers_are_refused),
        cmocka_unit_test(test_suggest_answer_maps_to_suggestions),
        cmocka_unit_test(test_open_validates_options),
        cmocka_unit_test(test_calls_with_bad_names_fail_before_any_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
