/* test_validate.c: tables of valid and invalid inputs for validate.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "validate.h"

static json_object *parse(const char *text)
{
    json_object *obj = NULL;
    struct v_error err;
    assert_true(v_json_object(text, strlen(text), &obj, &err));
    return obj;
}

static void test_json_object_bodies(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        bool ok;
    } cases[] = {
        {"{}", true},
        {"{\"a\":1}", true},
        {"  {\"a\":[1,2,3]}\n", true},
        {"", false},
        {"[]", false},
        {"\"text\"", false},
        {"{\"a\":1", false},
        {"{\"a\":1}}", false},
        {"{\"a\":1} x", false},
        {"{a:1}", false},
        {"{\"a\":'x'}", false},
        {"{\"a\":\"\xff\xfe\"}", false},
        {"{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}", false},
        {"{\"a\":NaN}", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_object *obj = NULL;
        struct v_error err;
        bool ok = v_json_object(cases[i].body, strlen(cases[i].body), &obj, &err);
        if (ok != cases[i].ok)
            fail_msg("case %zu (%s): expected %d", i, cases[i].body, cases[i].ok);
        if (!ok)
            assert_string_equal(err.code, "invalid_json");
        json_object_put(obj);
    }
}

static void test_string_members(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        enum v_presence presence;
        bool ok;
    } cases[] = {
        {"{\"name\":\"Ada\"}", V_REQUIRED, true},
        {"{}", V_OPTIONAL, true},
        {"{\"name\":null}", V_OPTIONAL, true},
        {"{}", V_REQUIRED, false},
        {"{\"name\":\"\"}", V_REQUIRED, false},
        {"{\"name\":7}", V_REQUIRED, false},
        {"{\"name\":[\"Ada\"]}", V_REQUIRED, false},
        {"{\"name\":\"abcdefghijk\"}", V_REQUIRED, false},
        {"{\"name\":\"a\\u0001b\"}", V_REQUIRED, false},
        {"{\"name\":\"Zoë\"}", V_REQUIRED, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_object *obj = parse(cases[i].body);
        const char *out = NULL;
        struct v_error err;
        bool ok = v_string(obj, "name", cases[i].presence, 1, 10, &out, &err);
        if (ok != cases[i].ok)
            fail_msg("case %zu (%s): expected %d", i, cases[i].body, cases[i].ok);
        if (!ok)
            assert_string_equal(err.code, "invalid_name");
        json_object_put(obj);
    }
}

static void test_int_members(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        bool ok;
        int64_t value;
    } cases[] = {
        {"{\"quantity\":1}", true, 1},
        {"{\"quantity\":8}", true, 8},
        {"{\"quantity\":0}", false, 0},
        {"{\"quantity\":-1}", false, 0},
        {"{\"quantity\":9}", false, 0},
        {"{\"quantity\":99999999999999999999999}", false, 0},
        {"{\"quantity\":1e30}", false, 0},
        {"{\"quantity\":2.5}", false, 0},
        {"{\"quantity\":\"2\"}", false, 0},
        {"{\"quantity\":true}", false, 0},
        {"{}", false, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_object *obj = parse(cases[i].body);
        int64_t out = -7;
        struct v_error err;
        bool ok = v_int(obj, "quantity", V_REQUIRED, 1, 8, &out, &err);
        if (ok != cases[i].ok)
            fail_msg("case %zu (%s): expected %d", i, cases[i].body, cases[i].ok);
        if (ok)
            assert_int_equal(out, cases[i].value);
        json_object_put(obj);
    }
}

static void test_id_arrays(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        bool ok;
        size_t count;
    } cases[] = {
        {"{\"seat_ids\":[1]}", true, 1},
        {"{\"seat_ids\":[1,2,3,4]}", true, 4},
        {"{\"seat_ids\":[]}", false, 0},
        {"{\"seat_ids\":[1,2,3,4,5]}", false, 0},
        {"{\"seat_ids\":[1,1]}", false, 0},
        {"{\"seat_ids\":[0]}", false, 0},
        {"{\"seat_ids\":[-3]}", false, 0},
        {"{\"seat_ids\":[\"1\"]}", false, 0},
        {"{\"seat_ids\":[1.5]}", false, 0},
        {"{\"seat_ids\":[9007199254740992]}", false, 0},
        {"{\"seat_ids\":7}", false, 0},
        {"{\"seat_ids\":{\"a\":1}}", false, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_object *obj = parse(cases[i].body);
        int64_t ids[4];
        size_t count = 0;
        struct v_error err;
        bool ok = v_id_array(obj, "seat_ids", V_REQUIRED, 1, 4, ids, &count, &err);
        if (ok != cases[i].ok)
            fail_msg("case %zu (%s): expected %d", i, cases[i].body, cases[i].ok);
        if (ok)
            assert_int_equal(count, cases[i].count);
        else
            assert_string_equal(err.code, "invalid_seat_ids");
        json_object_put(obj);
    }
}

static void test_text_forms(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool email, timestamp, date;
    } cases[] = {
        {"ada@example.com", true, false, false},
        {"a@b.c", true, false, false},
        {"no-at-sign", false, false, false},
        {"two@@example.com", false, false, false},
        {"@example.com", false, false, false},
        {"ada@example", false, false, false},
        {"ada @example.com", false, false, false},
        {"2026-12-01T20:00:00Z", false, true, false},
        {"2026-12-01T20:00:00.123+05:30", false, true, false},
        {"2026-12-01 20:00:00Z", false, true, false},
        {"2026-12-01T20:00:00", false, false, false},
        {"2026-13-01T20:00:00Z", false, false, false},
        {"2026-02-30T20:00:00Z", false, false, false},
        {"2026-12-01T25:00:00Z", false, false, false},
        {"2026-12-01", false, false, true},
        {"2028-02-29", false, false, true},
        {"2027-02-29", false, false, false},
        {"2026-1-01", false, false, false},
        {"", false, false, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (v_is_email(cases[i].text) != cases[i].email ||
            v_is_timestamp(cases[i].text) != cases[i].timestamp ||
            v_is_date(cases[i].text) != cases[i].date)
            fail_msg("case %zu (%s)", i, cases[i].text);
    }
}

static void test_parse_int(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool ok;
        int64_t value;
    } cases[] = {
        {"1", true, 1},           {"42", true, 42},    {"0", false, 0},
        {"01", false, 0},         {"-1", false, 0},    {"+1", false, 0},
        {"1x", false, 0},         {"", false, 0},      {" 1", false, 0},
        {"9007199254740991", true, 9007199254740991},  {"9007199254740992", false, 0},
        {"99999999999999999999", false, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t out = 0;
        if (v_parse_id(cases[i].text, &out) != cases[i].ok)
            fail_msg("case %zu (%s)", i, cases[i].text);
        if (cases[i].ok)
            assert_int_equal(out, cases[i].value);
    }
}

static void test_codes(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        bool ok;
    } cases[] = {
        {"{\"category\":\"A\"}", true},   {"{\"category\":\"VIP1\"}", true},
        {"{\"category\":\"a\"}", false},  {"{\"category\":\"\"}", false},
        {"{\"category\":\"A-B\"}", false}, {"{\"category\":\"ABCDEFGHI\"}", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_object *obj = parse(cases[i].body);
        const char *out = NULL;
        struct v_error err;
        if (v_code(obj, "category", V_REQUIRED, 1, 8, &out, &err) != cases[i].ok)
            fail_msg("case %zu (%s)", i, cases[i].body);
        json_object_put(obj);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_object_bodies), cmocka_unit_test(test_string_members),
        cmocka_unit_test(test_int_members),        cmocka_unit_test(test_id_arrays),
        cmocka_unit_test(test_text_forms),         cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
