/* test_train.c: tables of valid and invalid booking requests and path
 * values for train.h's pure checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "train.h"

#define P1 "[{\"name\":\"Asha\",\"age\":30,\"gender\":\"F\"}]"

static void test_booking_bodies(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *error; /* NULL: accepted */
    } cases[] = {
        {"{\"from\":\"NDLS\",\"to\":\"BCT\",\"class\":\"SL\",\"passengers\":" P1 "}", NULL},
        {"{\"from\":\"NDLS\",\"to\":\"BCT\",\"class\":\"3A\",\"quota\":\"TQ\",\"passengers\":"
         "[{\"name\":\"A\",\"age\":1,\"gender\":\"M\",\"berth_preference\":\"SU\"},"
         "{\"name\":\"B\",\"age\":125,\"gender\":\"T\",\"berth_preference\":\"\"}]}",
         NULL},
        {"{\"to\":\"BCT\",\"class\":\"SL\",\"passengers\":" P1 "}", "invalid_from"},
        {"{\"from\":\"nd ls\",\"to\":\"BCT\",\"class\":\"SL\",\"passengers\":" P1 "}",
         "invalid_from"},
        {"{\"from\":\"NDLS\",\"to\":\"NDLS\",\"class\":\"SL\",\"passengers\":" P1 "}",
         "invalid_to"},
        {"{\"from\":\"NDLS\",\"to\":\"BCT\",\"class\":\"3E\",\"passengers\":" P1 "}",
         "invalid_class"},
        {"{\"from\":\"NDLS\",\"to\":\"BCT\",\"class\":\"SL\",\"quota\":\"SS\",\"passengers\":" P1
         "}",
         "invalid_quota"},
        {"{\"from\":\"NDLS\",\"to\":\"BCT\",\"class\":\"SL\",\"passengers\":[]}",
         "invalid_passengers"},
        {"{\"from\":\"NDLS\",\"to\":\"BCT\",\"class\":\"SL\",\"passengers\":[1]}",
         "invalid_passengers"},
        {"{\"from\":\"NDLS\",\"to\":\"BCT\",\"class\":\"SL\",\"passengers\":["
         "{\"name\":\"A\","
         "\"age\":3,\"gender\":\"F\"},{\"name\":\"A\",\"age\":3,\"gender\":\"F\"},{\"name\":\"A\","
         "\"age\":3,\"gender\":\"F\"},{\"name\":\"A\",\"age\":3,\"gender\":\"F\"},{\"name\":\"A\","
         "\"age\":3,\"gender\":\"F\"},{\"name\":\"A\",\"age\":3,\"gender\":\"F\"},{\"name\":\"A\","
         "\"age\":3,\"gender\":\"F\"}]}",
         "invalid_passengers"},
        {"{\"from\":\"NDLS\",\"to\":\"BCT\",\"class\":\"SL\",\"passengers\":"
         "[{\"name\":\"\",\"age\":30,\"gender\":\"F\"}]}",
         "invalid_name"},
        {"{\"from\":\"NDLS\",\"to\":\"BCT\",\"class\":\"SL\",\"passengers\":"
         "[{\"name\":\"  \",\"age\":30,\"gender\":\"F\"}]}",
         "invalid_name"},
        {"{\"from\":\"NDLS\",\"to\":\"BCT\",\"class\":\"SL\",\"passengers\":"
         "[{\"name\":\"A\",\"age\":0,\"gender\":\"F\"}]}",
         "invalid_age"},
        {"{\"from\":\"NDLS\",\"to\":\"BCT\",\"class\":\"SL\",\"passengers\":"
         "[{\"name\":\"A\",\"age\":126,\"gender\":\"F\"}]}",
         "invalid_age"},
        {"{\"from\":\"NDLS\",\"to\":\"BCT\",\"class\":\"SL\",\"passengers\":"
         "[{\"name\":\"A\",\"age\":\"30\",\"gender\":\"F\"}]}",
         "invalid_age"},
        {"{\"from\":\"NDLS\",\"to\":\"BCT\",\"class\":\"SL\",\"passengers\":"
         "[{\"name\":\"A\",\"age\":30,\"gender\":\"X\"}]}",
         "invalid_gender"},
        {"{\"from\":\"NDLS\",\"to\":\"BCT\",\"class\":\"SL\",\"passengers\":"
         "[{\"name\":\"A\",\"age\":30,\"gender\":\"F\",\"berth_preference\":\"XX\"}]}",
         "invalid_berth_preference"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_object *body = NULL;
        struct v_error err;
        struct train_booking_request req;
        memset(&req, 0, sizeof(req));
        assert_true(v_json_object(cases[i].body, strlen(cases[i].body), &body, &err));
        bool ok = train_booking_parse(body, &req, &err);
        if (cases[i].error == NULL) {
            assert_true(ok);
            assert_true(req.count >= 1);
            assert_true(req.quota[0] != '\0');
        } else {
            assert_false(ok);
            assert_string_equal(err.code, cases[i].error);
        }
        json_object_put(body);
    }
}

static void test_defaults_and_copies(void **state)
{
    (void)state;
    const char *text = "{\"from\":\"CSMT\",\"to\":\"PUNE\",\"class\":\"CC\",\"passengers\":"
                       "[{\"name\":\"Ravi\",\"age\":40,\"gender\":\"M\",\"berth_preference\":"
                       "\"WS\"}]}";
    json_object *body = NULL;
    struct v_error err;
    struct train_booking_request req;
    memset(&req, 0, sizeof(req));
    assert_true(v_json_object(text, strlen(text), &body, &err));
    assert_true(train_booking_parse(body, &req, &err));
    json_object_put(body);
    assert_string_equal(req.from, "CSMT");
    assert_string_equal(req.to, "PUNE");
    assert_string_equal(req.class_code, "CC");
    assert_string_equal(req.quota, "GN");
    assert_int_equal(req.count, 1);
    assert_string_equal(req.passengers[0].name, "Ravi");
    assert_int_equal(req.passengers[0].age, 40);
    assert_string_equal(req.passengers[0].gender, "M");
    assert_string_equal(req.passengers[0].berth_preference, "WS");
}

static void test_path_values(void **state)
{
    (void)state;
    assert_true(train_number_valid("12951"));
    assert_true(train_number_valid("0A1"));
    assert_false(train_number_valid(""));
    assert_false(train_number_valid("123456789"));
    assert_false(train_number_valid("12a51"));
    assert_true(train_station_valid("NDLS"));
    assert_false(train_station_valid("ndls"));
    assert_false(train_station_valid("N-D"));
    assert_false(train_station_valid("ABCDEFGHIJKLMNOPQ"));
    assert_true(train_pnr_valid("1234567890"));
    assert_false(train_pnr_valid("123456789"));
    assert_false(train_pnr_valid("12345678901"));
    assert_false(train_pnr_valid("12345x7890"));
    static const char *const classes[] = {"1A", "2A", "3A", "SL", "CC", "2S"};
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
        assert_true(train_class_valid(classes[i]));
    static const char *const not_classes[] = {"", "1a", "sl", "3A ", "EC", "SLX", "GN"};
    for (size_t i = 0; i < sizeof(not_classes) / sizeof(not_classes[0]); i++)
        assert_false(train_class_valid(not_classes[i]));
    assert_false(train_class_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_booking_bodies),
        cmocka_unit_test(test_defaults_and_copies),
        cmocka_unit_test(test_path_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
