/* test_search_doc.c: the search documents (search_doc.h) and the range
 * checks of a search (search_query_valid). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "search.h"
#include "search_doc.h"

static struct search_event_row full_event(void)
{
    struct search_event_row row = {
        .id = 42,
        .title = "Monsoon Nights",
        .performer = "Aria Kapoor",
        .category = "concert",
        .venue = "Harbour Arena",
        .city = "Mumbai",
        .has_location = true,
        .latitude = "19.0176",
        .longitude = "72.8562",
        .starts_at = "2030-12-01T14:00:00Z",
        .has_prices = true,
        .price_min = 150000,
        .price_max = 950000,
        .currency = "INR",
        .seats_available = 20000,
    };
    return row;
}

static void test_event_document(void **state)
{
    (void)state;
    struct search_event_row row = full_event();
    json_object *doc = search_doc_event(&row);
    assert_non_null(doc);
    assert_string_equal(
        json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN),
        "{\"id\":\"42\",\"type\":\"event\",\"title\":\"Monsoon Nights\",\"performer\":\"Aria "
        "Kapoor\",\"category\":\"concert\",\"venue\":\"Harbour Arena\",\"city\":\"Mumbai\","
        "\"location\":{\"lat\":19.0176,\"lon\":72.8562},\"starts_at\":\"2030-12-01T14:00:00Z\","
        "\"price_min\":150000,\"price_max\":950000,\"currency\":\"INR\",\"seats_available\":"
        "20000}");
    assert_string_equal(search_doc_id(doc), "42");
    json_object_put(doc);
}

static void test_event_document_optional_members(void **state)
{
    (void)state;
    struct search_event_row row = full_event();
    row.has_location = false;
    row.has_prices = false;
    json_object *doc = search_doc_event(&row);
    assert_non_null(doc);
    assert_false(json_object_object_get_ex(doc, "location", NULL));
    assert_false(json_object_object_get_ex(doc, "price_min", NULL));
    assert_true(json_object_object_get_ex(doc, "seats_available", NULL));
    json_object_put(doc);
}

static void test_event_document_refuses_incomplete_rows(void **state)
{
    (void)state;
    for (int i = 0; i < 11; i++) {
        struct search_event_row row = full_event();
        switch (i) {
        case 0:
            row.id = 0;
            break;
        case 1:
            row.title = NULL;
            break;
        case 2:
            row.performer = "";
            break;
        case 3:
            row.category = NULL;
            break;
        case 4:
            row.venue = NULL;
            break;
        case 5:
            row.city = "";
            break;
        case 6:
            row.starts_at = NULL;
            break;
        case 7:
            row.currency = NULL;
            break;
        case 8:
            row.latitude = "91";
            break;
        case 9:
            row.longitude = "east";
            break;
        case 10:
            row.latitude = "";
            break;
        }
        json_object *doc = search_doc_event(&row);
        if (doc != NULL)
            fail_msg("case %d built a document", i);
    }
    assert_null(search_doc_event(NULL));
}

static void test_train_document(void **state)
{
    (void)state;
    struct search_train_row row = {
        .number = "12951",
        .name = "Mumbai Rajdhani",
        .run_days_json = "[\"mon\",\"tue\"]",
        .classes_json = "[\"1A\",\"2A\",\"3A\"]",
        .stops_json = "[{\"code\":\"MMCT\",\"name\":\"Mumbai Central\",\"index\":0},"
                      "{\"code\":\"NDLS\",\"name\":\"New Delhi\",\"index\":1}]",
    };
    json_object *doc = search_doc_train(&row);
    assert_non_null(doc);
    assert_string_equal(
        json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN),
        "{\"id\":\"12951\",\"type\":\"train\",\"number\":\"12951\",\"name\":\"Mumbai "
        "Rajdhani\",\"stops\":[{\"code\":\"MMCT\",\"name\":\"Mumbai Central\",\"index\":0},"
        "{\"code\":\"NDLS\",\"name\":\"New Delhi\",\"index\":1}],\"station_codes\":[\"MMCT\","
        "\"NDLS\"],\"run_days\":[\"mon\",\"tue\"],\"classes\":[\"1A\",\"2A\",\"3A\"]}");
    json_object_put(doc);
}

static void test_train_document_refuses_bad_rows(void **state)
{
    (void)state;
    static const struct search_train_row cases[] = {
        {NULL, "Name", "[]", "[]", "[]"},
        {"1", "", "[]", "[]", "[]"},
        {"1", "Name", NULL, "[]", "[]"},
        {"1", "Name", "[1]", "[]", "[]"},
        {"1", "Name", "[]", "{}", "[]"},
        {"1", "Name", "[]", "[]", "[{\"code\":\"A\",\"name\":\"B\"}]"},
        {"1", "Name", "[]", "[]", "[{\"code\":1,\"name\":\"B\",\"index\":0}]"},
        {"1", "Name", "[]", "[]", "[{\"code\":\"A\",\"name\":\"B\",\"index\":\"0\"}]"},
        {"1", "Name", "[]", "[]", "not json"},
        {"1", "Name", "[]", "[]", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_object *doc = search_doc_train(&cases[i]);
        if (doc != NULL)
            fail_msg("case %zu built a document", i);
    }
    /* No stops at all is a train we know nothing of yet, but valid. */
    struct search_train_row empty = {"1", "Name", "[]", "[]", "[]"};
    json_object *doc = search_doc_train(&empty);
    assert_non_null(doc);
    json_object_put(doc);
}

static void test_query_ranges(void **state)
{
    (void)state;
    char long_q[SEARCH_QUERY_MAX + 2];
    memset(long_q, 'x', sizeof(long_q) - 1);
    long_q[sizeof(long_q) - 1] = '\0';
    static const struct {
        int page, per_page;
        unsigned types;
        bool ok;
    } cases[] = {
        {1, 1, 0, true},
        {1, SEARCH_PER_PAGE_MAX, SEARCH_TYPE_EVENT | SEARCH_TYPE_TRAIN, true},
        {100, 100, SEARCH_TYPE_TRAIN, true},
        {0, 10, 0, false},
        {1, 0, 0, false},
        {1, SEARCH_PER_PAGE_MAX + 1, 0, false},
        {101, 100, 0, false},
        {1, 10, 4u, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct search_query q = {.page = cases[i].page,
                                 .per_page = cases[i].per_page,
                                 .types = cases[i].types,
                                 .q = "x"};
        if (search_query_valid(&q) != cases[i].ok)
            fail_msg("case %zu", i);
    }
    struct search_query q = {.page = 1, .per_page = 10, .q = long_q};
    assert_false(search_query_valid(&q));
    long_q[SEARCH_QUERY_MAX] = '\0';
    assert_true(search_query_valid(&q));
    assert_false(search_query_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_document),
        cmocka_unit_test(test_event_document_optional_members),
        cmocka_unit_test(test_event_document_refuses_incomplete_rows),
        cmocka_unit_test(test_train_document),
        cmocka_unit_test(test_train_document_refuses_bad_rows),
        cmocka_unit_test(test_query_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
