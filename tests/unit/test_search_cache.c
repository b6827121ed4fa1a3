/* test_search_cache.c: the per-process answer cache of search
 * (search_cache.h) and its use by search_run / search_suggest: an answer
 * is served only for the exact request it was stored for, only within its
 * TTL, and the cache stays within its bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"
#include "search_backend.h"
#include "search_cache.h"

static void test_get_returns_what_was_put_until_the_ttl(void **state)
{
    (void)state;
    struct search_cache *cache = search_cache_new(1000);
    assert_non_null(cache);
    assert_null(search_cache_get(cache, "k", 0));
    search_cache_put(cache, "k", "{\"total\":1}", 5000);
    char *got = search_cache_get(cache, "k", 5999);
    assert_string_equal(got, "{\"total\":1}");
    free(got);
    assert_null(search_cache_get(cache, "k", 6000)); /* TTL over: gone */
    assert_int_equal(search_cache_entries(cache), 0);
    search_cache_put(cache, "k", "a", 7000);
    assert_null(search_cache_get(cache, "k", 6999)); /* clock went backwards */
    search_cache_free(cache);
}

static void test_keys_are_compared_in_full(void **state)
{
    (void)state;
    struct search_cache *cache = search_cache_new(1000);
    char key[32];
    char answer[32];
    /* More keys than slots: every slot collides many times over, and each
     * key must still get its own answer or none. */
    for (int i = 0; i < 4 * SEARCH_CACHE_SLOTS; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        snprintf(answer, sizeof(answer), "answer-%d", i);
        search_cache_put(cache, key, answer, 10);
    }
    assert_true(search_cache_entries(cache) <= SEARCH_CACHE_SLOTS);
    int hits = 0;
    for (int i = 0; i < 4 * SEARCH_CACHE_SLOTS; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        snprintf(answer, sizeof(answer), "answer-%d", i);
        char *got = search_cache_get(cache, key, 10);
        if (got != NULL) {
            assert_string_equal(got, answer);
            hits++;
        }
        free(got);
    }
    assert_true(hits > 0);
    assert_null(search_cache_get(cache, "key-", 10));
    assert_null(search_cache_get(cache, "", 10));
    search_cache_free(cache);
}

static void test_bounds(void **state)
{
    (void)state;
    struct search_cache *cache = search_cache_new(1000);
    char *big = malloc(SEARCH_CACHE_ANSWER_MAX + 2);
    memset(big, 'x', SEARCH_CACHE_ANSWER_MAX + 1);
    big[SEARCH_CACHE_ANSWER_MAX + 1] = '\0';
    search_cache_put(cache, "big", big, 0);
    assert_null(search_cache_get(cache, "big", 0));
    /* Answers just under the cap fill the byte budget, never pass it. */
    big[SEARCH_CACHE_ANSWER_MAX] = '\0';
    char key[32];
    for (int i = 0; i < SEARCH_CACHE_SLOTS; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        search_cache_put(cache, key, big, 0);
        assert_true(search_cache_bytes(cache) <= SEARCH_CACHE_BYTES_MAX);
    }
    assert_true(search_cache_entries(cache) > 0);
    free(big);
    search_cache_free(cache);
    assert_null(search_cache_new(0));
}

/* A backend that answers with the request it got and counts its calls. */
static int fake_calls;

static enum search_status fake_run(struct search_backend *backend, const struct search_query *q,
                                   char **json)
{
    (void)backend;
    char text[1024];
    fake_calls++;
    snprintf(text, sizeof(text), "%s|%u|%s|%s|%s|%s|%d|%d|%d", q->q ? q->q : "-", q->types,
             q->city ? q->city : "-", q->category ? q->category : "-",
             q->from_date ? q->from_date : "-", q->to_date ? q->to_date : "-", q->include_past,
             q->page, q->per_page);
    *json = strdup(text);
    return SEARCH_OK;
}

static enum search_status fake_suggest(struct search_backend *backend, const char *prefix, int size,
                                       char **json)
{
    (void)backend;
    char text[512];
    fake_calls++;
    snprintf(text, sizeof(text), "suggest|%s|%d", prefix, size);
    *json = strdup(text);
    return SEARCH_OK;
}

static const struct search_backend_ops fake_ops = {fake_run, fake_suggest, NULL};

static void expect_answer(struct search_backend *b, const struct search_query *q, int calls)
{
    char *json = NULL;
    char *direct = NULL;
    int before = fake_calls;
    assert_int_equal(search_run(b, q, &json), SEARCH_OK);
    assert_int_equal(fake_calls - before, calls);
    assert_int_equal(fake_run(b, q, &direct), SEARCH_OK);
    fake_calls--;
    assert_string_equal(json, direct); /* its own answer, cached or not */
    free(json);
    free(direct);
}

static void test_search_run_never_serves_another_querys_answer(void **state)
{
    (void)state;
    struct search_backend *b = search_open(NULL, NULL, 60000);
    assert_non_null(b);
    b->ops = &fake_ops;
    struct search_query base = {.q = "ab",
                                .city = "c",
                                .category = "",
                                .from_date = "",
                                .to_date = "",
                                .page = 1,
                                .per_page = 20};
    expect_answer(b, &base, 1);
    expect_answer(b, &base, 0); /* the same request again: from the cache */

    /* Each differing field is another request; "ab"+"c" is not "a"+"bc". */
    struct search_query v[10];
    for (int i = 0; i < 10; i++)
        v[i] = base;
    v[0].q = "a", v[0].city = "bc";
    v[1].types = SEARCH_TYPE_EVENT;
    v[2].city = "C";
    v[3].category = "concert";
    v[4].from_date = "2030-01-01";
    v[5].to_date = "2030-01-01";
    v[6].include_past = true;
    v[7].page = 2;
    v[8].per_page = 21;
    v[9].q = "ab ";
    for (int i = 0; i < 10; i++)
        expect_answer(b, &v[i], 1);
    for (int i = 0; i < 10; i++)
        expect_answer(b, &v[i], 0);

    char *json = NULL;
    int before = fake_calls;
    assert_int_equal(search_suggest(b, "ab", 10, &json), SEARCH_OK);
    assert_string_equal(json, "suggest|ab|10");
    free(json);
    assert_int_equal(search_suggest(b, "ab", 11, &json), SEARCH_OK);
    assert_string_equal(json, "suggest|ab|11");
    free(json);
    assert_int_equal(search_suggest(b, "ab", 10, &json), SEARCH_OK);
    assert_string_equal(json, "suggest|ab|10");
    free(json);
    assert_int_equal(fake_calls - before, 2);
    /* a suggest prefix never gets a search answer nor the reverse */
    struct search_query only_q = {.q = "ab", .page = 1, .per_page = 10};
    expect_answer(b, &only_q, 1);
    search_close(b);
}

static void test_without_ttl_nothing_is_cached(void **state)
{
    (void)state;
    struct search_backend *b = search_open(NULL, NULL, 0);
    assert_non_null(b);
    b->ops = &fake_ops;
    struct search_query q = {.q = "x", .page = 1, .per_page = 20};
    expect_answer(b, &q, 1);
    expect_answer(b, &q, 1);
    search_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_returns_what_was_put_until_the_ttl),
        cmocka_unit_test(test_keys_are_compared_in_full),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_search_run_never_serves_another_querys_answer),
        cmocka_unit_test(test_without_ttl_nothing_is_cached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
