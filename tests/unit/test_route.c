/* test_route.c: the route table answers every documented path and
 * nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "route.h"

static void test_documented_paths(void **state)
{
    (void)state;
    static const struct {
        enum http_method method;
        const char *path;
        const char *route; /* NULL: not found; "405": method not allowed */
        int64_t id;
    } cases[] = {
        {HTTP_GET, "/healthz", "healthz", 0},
        {HTTP_POST, "/api/users", "users_create", 0},
        {HTTP_POST, "/api/sessions", "sessions_create", 0},
        {HTTP_DELETE, "/api/sessions", "sessions_delete", 0},
        {HTTP_GET, "/api/me", "me", 0},
        {HTTP_GET, "/api/events", "events_list", 0},
        {HTTP_GET, "/api/events/42", "events_show", 42},
        {HTTP_GET, "/api/events/42/seats", "events_seats", 42},
        {HTTP_POST, "/api/events/7/holds", "holds_create", 7},
        {HTTP_GET, "/api/holds/9", "holds_show", 9},
        {HTTP_DELETE, "/api/holds/9", "holds_release", 9},
        {HTTP_PATCH, "/api/admin/events/3", "admin_events_update", 3},
        {HTTP_POST, "/api/admin/venues", "admin_venues_create", 0},
        {HTTP_PUT, "/api/events/42", "405", 0},
        {HTTP_POST, "/api/events/42", "405", 0},
        {HTTP_GET, "/api/events/abc", NULL, 0},
        {HTTP_GET, "/api/events/0", NULL, 0},
        {HTTP_GET, "/api/events/-1", NULL, 0},
        {HTTP_GET, "/api/events/99999999999999999999", NULL, 0},
        {HTTP_GET, "/api/events/42/seats/x", NULL, 0},
        {HTTP_GET, "/api/event", NULL, 0},
        {HTTP_GET, "/api/eventsx", NULL, 0},
        {HTTP_GET, "/", NULL, 0},
        {HTTP_GET, "", NULL, 0},
        {HTTP_GET, "/api//events", NULL, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct request req;
        memset(&req, 0, sizeof(req));
        int r = route_match(cases[i].method, cases[i].path, &req);
        if (cases[i].route == NULL) {
            if (r != ROUTE_NOT_FOUND)
                fail_msg("case %zu (%s): expected not found, got %d", i, cases[i].path, r);
        } else if (strcmp(cases[i].route, "405") == 0) {
            if (r != ROUTE_METHOD_NOT_ALLOWED)
                fail_msg("case %zu (%s): expected 405, got %d", i, cases[i].path, r);
        } else {
            if (r < 0 || strcmp(route_table[r].name, cases[i].route) != 0)
                fail_msg("case %zu (%s): expected %s", i, cases[i].path, cases[i].route);
            assert_int_equal(req.ids[0], cases[i].id);
        }
    }
}

static void test_methods(void **state)
{
    (void)state;
    assert_int_equal(route_method("GET"), HTTP_GET);
    assert_int_equal(route_method("HEAD"), HTTP_GET);
    assert_int_equal(route_method("PATCH"), HTTP_PATCH);
    assert_int_equal(route_method("get"), HTTP_OTHER);
    assert_int_equal(route_method("BREW"), HTTP_OTHER);
    assert_int_equal(route_method(NULL), HTTP_OTHER);
}

static void test_table_is_consistent(void **state)
{
    (void)state;
    /* Names label metrics: they must be unique; patterns must be too. */
    for (int i = 0; i < route_count; i++) {
        assert_non_null(route_table[i].handler);
        for (int j = i + 1; j < route_count; j++) {
            assert_string_not_equal(route_table[i].name, route_table[j].name);
            if (route_table[i].method == route_table[j].method)
                assert_string_not_equal(route_table[i].pattern, route_table[j].pattern);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documented_paths),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_table_is_consistent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
