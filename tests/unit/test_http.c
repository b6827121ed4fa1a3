/* test_http.c: JSON answers and errors, query strings and cookies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static void test_error_shape(void **state)
{
    (void)state;
    struct response res;
    memset(&res, 0, sizeof(res));
    json_object *extra = json_object_new_object();
    json_object *ids = json_object_new_array();
    json_object_array_add(ids, json_object_new_int(5));
    json_object_object_add(extra, "unavailable", ids);
    http_error_with(&res, 409, "seats_unavailable", "Taken \"just now\"", extra);
    assert_int_equal(res.status, 409);
    assert_string_equal(res.error_code, "seats_unavailable");
    json_object *root = json_tokener_parse(res.body);
    assert_non_null(root);
    json_object *error = NULL, *code = NULL, *message = NULL, *list = NULL;
    assert_true(json_object_object_get_ex(root, "error", &error));
    assert_true(json_object_object_get_ex(error, "code", &code));
    assert_true(json_object_object_get_ex(error, "message", &message));
    assert_true(json_object_object_get_ex(error, "unavailable", &list));
    assert_string_equal(json_object_get_string(code), "seats_unavailable");
    assert_string_equal(json_object_get_string(message), "Taken \"just now\"");
    assert_int_equal(json_object_array_length(list), 1);
    json_object_put(root);
    free(res.body);
}

static void test_invalid_and_no_content(void **state)
{
    (void)state;
    struct response res;
    struct v_error err;
    memset(&res, 0, sizeof(res));
    v_fail(&err, "invalid_quantity", "quantity must be from %d to %d", 1, 8);
    http_invalid(&res, &err);
    assert_int_equal(res.status, 400);
    assert_non_null(strstr(res.body, "\"code\":\"invalid_quantity\""));
    http_no_content(&res);
    assert_int_equal(res.status, 204);
    assert_null(res.body);
}

static void test_query_parameters(void **state)
{
    (void)state;
    struct request req;
    char out[16];
    memset(&req, 0, sizeof(req));
    req.query = "page=2&q=taylor+swift&empty=&flag&enc=%41%42&bad=%4&long=abcdefghijklmnopqrstuvwxyz";
    assert_int_equal(http_query(&req, "page", out, sizeof(out)), 1);
    assert_string_equal(out, "2");
    assert_int_equal(http_query(&req, "q", out, sizeof(out)), 1);
    assert_string_equal(out, "taylor swift");
    assert_int_equal(http_query(&req, "empty", out, sizeof(out)), 1);
    assert_string_equal(out, "");
    assert_int_equal(http_query(&req, "flag", out, sizeof(out)), 1);
    assert_int_equal(http_query(&req, "enc", out, sizeof(out)), 1);
    assert_string_equal(out, "AB");
    assert_int_equal(http_query(&req, "bad", out, sizeof(out)), -1);
    assert_int_equal(http_query(&req, "long", out, sizeof(out)), -1);
    assert_int_equal(http_query(&req, "missing", out, sizeof(out)), 0);
    assert_int_equal(http_query(&req, "pag", out, sizeof(out)), 0);
    req.query = "x=%00";
    assert_int_equal(http_query(&req, "x", out, sizeof(out)), -1);
}

static void test_cookies(void **state)
{
    (void)state;
    struct request req;
    char out[16];
    memset(&req, 0, sizeof(req));
    req.cookie = "theme=dark; bo_session=abc123; other=1";
    assert_true(http_cookie(&req, "bo_session", out, sizeof(out)));
    assert_string_equal(out, "abc123");
    assert_true(http_cookie(&req, "theme", out, sizeof(out)));
    assert_string_equal(out, "dark");
    assert_false(http_cookie(&req, "bo", out, sizeof(out)));
    assert_false(http_cookie(&req, "session", out, sizeof(out)));
    req.cookie = "bo_session=0123456789abcdefghij";
    assert_false(http_cookie(&req, "bo_session", out, sizeof(out)));
    req.cookie = "";
    assert_false(http_cookie(&req, "bo_session", out, sizeof(out)));
}

static void test_body_json(void **state)
{
    (void)state;
    static const struct {
        const char *content_type, *body;
        int status; /* 0: accepted */
    } cases[] = {
        {"application/json", "{\"a\":1}", 0},
        {"application/json; charset=utf-8", "{\"a\":1}", 0},
        {"", "{\"a\":1}", 0},
        {"text/plain", "{\"a\":1}", 415},
        {"application/json", "{\"a\":", 400},
        {"application/json", "", 400},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct request req;
        struct response res;
        json_object *obj = NULL;
        memset(&req, 0, sizeof(req));
        memset(&res, 0, sizeof(res));
        req.content_type = cases[i].content_type;
        req.body = (char *)cases[i].body;
        req.body_len = strlen(cases[i].body);
        bool ok = http_body_json(&req, &res, &obj);
        if (ok != (cases[i].status == 0) || (!ok && res.status != cases[i].status))
            fail_msg("case %zu: got %d", i, res.status);
        json_object_put(obj);
        free(res.body);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_shape),      cmocka_unit_test(test_invalid_and_no_content),
        cmocka_unit_test(test_query_parameters), cmocka_unit_test(test_cookies),
        cmocka_unit_test(test_body_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
