/* test_holds.c: the hold rules against a real PostgreSQL: all or nothing,
 * best available, lazy expiry, the per-user cap, release, the sale window,
 * and the constraints that stop a C bug from selling a seat twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixtures.h"
#include "hold.h"

static struct db *db;

static enum hold_outcome take_ids(const char *token, int64_t event, const int64_t *ids, size_t n,
                                  struct hold_result *result)
{
    struct hold_request r;
    memset(&r, 0, sizeof(r));
    r.event_id = event;
    memcpy(r.seat_ids, ids, n * sizeof(ids[0]));
    r.seat_count = n;
    assert_int_equal(hold_create(db, token, &r, result), DB_OK);
    return result->outcome;
}

static enum hold_outcome take_best(const char *token, int64_t event, int quantity,
                                   const char *category, struct hold_result *result)
{
    struct hold_request r;
    memset(&r, 0, sizeof(r));
    r.event_id = event;
    r.quantity = quantity;
    snprintf(r.category, sizeof(r.category), "%s", category);
    assert_int_equal(hold_create(db, token, &r, result), DB_OK);
    return result->outcome;
}

/* Seats of the event that are held or sold right now. */
static int64_t taken_seats(int64_t event)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM event_seats WHERE event_id = %lld AND held_until > now()",
             (long long)event);
    return fixture_int(db, sql);
}

static int64_t last_hold_id(void)
{
    return fixture_int(db, "SELECT max(id) FROM holds");
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_hold_by_ids_is_all_or_nothing(void **state)
{
    (void)state;
    char alice[65], bob[65];
    int64_t seats[10];
    struct hold_result res;
    fixture_user(db, alice);
    fixture_user(db, bob);
    int64_t event = fixture_event(db, 2, 5, 600, 8, -60);
    assert_int_equal(fixture_seats(db, event, seats, 10), 10);

    assert_int_equal(take_ids(alice, event, seats, 2, &res), HOLD_CREATED);
    assert_non_null(strstr(res.hold_json, "\"amount\" : 2000"));
    hold_result_free(&res);
    assert_int_equal(taken_seats(event), 2);

    /* Bob asks for one taken and two free seats: he gets none of them. */
    assert_int_equal(take_ids(bob, event, seats + 1, 3, &res), HOLD_SEATS_UNAVAILABLE);
    char expected[32];
    snprintf(expected, sizeof(expected), "[%lld]", (long long)seats[1]);
    assert_string_equal(res.seat_ids_json, expected);
    hold_result_free(&res);
    assert_int_equal(taken_seats(event), 2);

    assert_int_equal(take_ids(bob, event, seats + 2, 3, &res), HOLD_CREATED);
    hold_result_free(&res);
    assert_int_equal(taken_seats(event), 5);
}

static void test_unknown_and_foreign_seats_change_nothing(void **state)
{
    (void)state;
    char alice[65];
    int64_t mine[4], other[4];
    struct hold_result res;
    fixture_user(db, alice);
    int64_t event = fixture_event(db, 1, 4, 600, 8, -60);
    int64_t other_event = fixture_event(db, 1, 4, 600, 8, -60);
    fixture_seats(db, event, mine, 4);
    fixture_seats(db, other_event, other, 4);

    int64_t ask[2] = {mine[0], other[0]};
    assert_int_equal(take_ids(alice, event, ask, 2, &res), HOLD_UNKNOWN_SEATS);
    char expected[32];
    snprintf(expected, sizeof(expected), "[%lld]", (long long)other[0]);
    assert_string_equal(res.seat_ids_json, expected);
    hold_result_free(&res);
    int64_t missing[1] = {INT64_C(900000000)};
    assert_int_equal(take_ids(alice, event, missing, 1, &res), HOLD_UNKNOWN_SEATS);
    hold_result_free(&res);
    assert_int_equal(taken_seats(event), 0);
    assert_int_equal(taken_seats(other_event), 0);
}

static void test_best_available_then_sold_out(void **state)
{
    (void)state;
    char alice[65], bob[65], carol[65];
    struct hold_result res;
    fixture_user(db, alice);
    fixture_user(db, bob);
    fixture_user(db, carol);
    int64_t event = fixture_event(db, 1, 6, 600, 8, -60);

    assert_int_equal(take_best(alice, event, 4, "A", &res), HOLD_CREATED);
    hold_result_free(&res);
    /* Two left: three is too many, and nothing is taken by asking. */
    assert_int_equal(take_best(bob, event, 3, "", &res), HOLD_SEATS_UNAVAILABLE);
    hold_result_free(&res);
    assert_int_equal(taken_seats(event), 4);
    assert_int_equal(take_best(bob, event, 2, "", &res), HOLD_CREATED);
    hold_result_free(&res);
    assert_int_equal(take_best(carol, event, 1, "A", &res), HOLD_SOLD_OUT);
    hold_result_free(&res);
    assert_int_equal(take_best(carol, event, 1, "Z", &res), HOLD_UNKNOWN_CATEGORY);
    hold_result_free(&res);
    int64_t seats[6];
    fixture_seats(db, event, seats, 6);
    assert_int_equal(take_ids(carol, event, seats, 1, &res), HOLD_SOLD_OUT);
    hold_result_free(&res);
}

static void test_best_available_keeps_seats_together(void **state)
{
    (void)state;
    char alice[65];
    struct hold_result res;
    fixture_user(db, alice);
    int64_t event = fixture_event(db, 3, 10, 600, 8, -60);
    assert_int_equal(take_best(alice, event, 4, "", &res), HOLD_CREATED);
    /* Centre of the front row: seats 4 to 7 of row A. */
    for (int n = 4; n <= 7; n++) {
        char needle[64];
        snprintf(needle, sizeof(needle), "\"row\" : \"A\", \"number\" : %d,", n);
        if (strstr(res.hold_json, needle) == NULL)
            fail_msg("seat A%d missing from %s", n, res.hold_json);
    }
    hold_result_free(&res);
}

static void test_expired_hold_frees_seats_at_once(void **state)
{
    (void)state;
    char alice[65], bob[65];
    int64_t seats[2];
    struct hold_result res;
    fixture_user(db, alice);
    fixture_user(db, bob);
    int64_t event = fixture_event(db, 1, 2, 1, 8, -60);
    fixture_seats(db, event, seats, 2);

    assert_int_equal(take_ids(alice, event, seats, 2, &res), HOLD_CREATED);
    hold_result_free(&res);
    int64_t alice_hold = last_hold_id();
    int64_t alice_id = fixture_int(db, "SELECT user_id FROM holds ORDER BY id DESC LIMIT 1");
    /* Every seat is held: that is sold out, for now. */
    assert_int_equal(take_ids(bob, event, seats, 1, &res), HOLD_SOLD_OUT);
    hold_result_free(&res);
    sleep_ms(1200);
    /* No sweep has run: the seats are free for reads and new holds. */
    assert_int_equal(taken_seats(event), 0);
    char *json = NULL;
    assert_int_equal(hold_show(db, alice_id, alice_hold, &json), DB_OK);
    assert_non_null(strstr(json, "\"status\" : \"expired\""));
    free(json);
    assert_int_equal(take_ids(bob, event, seats, 2, &res), HOLD_CREATED);
    hold_result_free(&res);
    /* Releasing the expired hold changes nothing of Bob's. */
    enum hold_release_outcome outcome;
    assert_int_equal(hold_release(db, alice_id, alice_hold, &outcome), DB_OK);
    assert_int_equal(outcome, HOLD_ALREADY_DONE);
    assert_int_equal(taken_seats(event), 2);
}

static void test_sweep_is_idempotent(void **state)
{
    (void)state;
    char alice[65];
    int64_t seats[3];
    struct hold_result res;
    fixture_user(db, alice);
    int64_t event = fixture_event(db, 1, 3, 1, 8, -60);
    fixture_seats(db, event, seats, 3);
    assert_int_equal(take_ids(alice, event, seats, 3, &res), HOLD_CREATED);
    hold_result_free(&res);
    int64_t hold = last_hold_id();
    sleep_ms(1100);
    int expired = 0, again = 0;
    assert_int_equal(hold_sweep(db, 100000, &expired), DB_OK);
    assert_true(expired >= 1);
    assert_int_equal(hold_sweep(db, 100000, &again), DB_OK);
    assert_int_equal(again, 0);
    char sql[200];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM holds WHERE id = %lld AND status = 'expired'",
             (long long)hold);
    assert_int_equal(fixture_int(db, sql), 1);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM event_seats WHERE event_id = %lld AND hold_id IS NULL "
             "AND held_until = '-infinity'",
             (long long)event);
    assert_int_equal(fixture_int(db, sql), 3);
}

static void test_per_user_cap(void **state)
{
    (void)state;
    char alice[65];
    int64_t seats[10];
    struct hold_result res;
    int64_t alice_id = fixture_user(db, alice);
    int64_t event = fixture_event(db, 2, 5, 600, 4, -60);
    fixture_seats(db, event, seats, 10);

    assert_int_equal(take_ids(alice, event, seats, 3, &res), HOLD_CREATED);
    hold_result_free(&res);
    int64_t first = last_hold_id();
    assert_int_equal(take_ids(alice, event, seats + 3, 2, &res), HOLD_LIMIT_EXCEEDED);
    hold_result_free(&res);
    assert_int_equal(take_best(alice, event, 2, "", &res), HOLD_LIMIT_EXCEEDED);
    hold_result_free(&res);
    assert_int_equal(taken_seats(event), 3);
    assert_int_equal(take_ids(alice, event, seats + 3, 1, &res), HOLD_CREATED);
    hold_result_free(&res);
    enum hold_release_outcome outcome;
    assert_int_equal(hold_release(db, alice_id, first, &outcome), DB_OK);
    assert_int_equal(outcome, HOLD_RELEASED);
    assert_int_equal(take_best(alice, event, 3, "A", &res), HOLD_CREATED);
    hold_result_free(&res);
}

static void test_release_frees_seats_and_is_private(void **state)
{
    (void)state;
    char alice[65], bob[65];
    int64_t seats[2];
    struct hold_result res;
    enum hold_release_outcome outcome;
    int64_t alice_id = fixture_user(db, alice);
    int64_t bob_id = fixture_user(db, bob);
    int64_t event = fixture_event(db, 1, 2, 600, 8, -60);
    fixture_seats(db, event, seats, 2);
    assert_int_equal(take_ids(alice, event, seats, 2, &res), HOLD_CREATED);
    hold_result_free(&res);
    int64_t hold = last_hold_id();

    assert_int_equal(hold_release(db, bob_id, hold, &outcome), DB_OK);
    assert_int_equal(outcome, HOLD_NOT_FOUND);
    char *json = NULL;
    assert_int_equal(hold_show(db, bob_id, hold, &json), DB_OK);
    assert_null(json);
    assert_int_equal(taken_seats(event), 2);

    assert_int_equal(hold_release(db, alice_id, hold, &outcome), DB_OK);
    assert_int_equal(outcome, HOLD_RELEASED);
    assert_int_equal(taken_seats(event), 0);
    assert_int_equal(hold_release(db, alice_id, hold, &outcome), DB_OK);
    assert_int_equal(outcome, HOLD_ALREADY_DONE);
    assert_int_equal(take_ids(bob, event, seats, 2, &res), HOLD_CREATED);
    hold_result_free(&res);
}

static void test_sale_window(void **state)
{
    (void)state;
    char alice[65];
    struct hold_result res;
    fixture_user(db, alice);
    int64_t later = fixture_event(db, 1, 2, 600, 8, 3600);
    assert_int_equal(take_best(alice, later, 1, "", &res), HOLD_NOT_ON_SALE);
    hold_result_free(&res);
    assert_int_equal(taken_seats(later), 0);

    int64_t past = fixture_event(db, 1, 2, 600, 8, -7200);
    char sql[200];
    snprintf(sql, sizeof(sql),
             "WITH u AS (UPDATE events SET starts_at = now() - interval '1 minute' "
             "WHERE id = %lld RETURNING 1) SELECT count(*) FROM u",
             (long long)past);
    assert_int_equal(fixture_int(db, sql), 1);
    assert_int_equal(take_best(alice, past, 1, "", &res), HOLD_SALE_CLOSED);
    hold_result_free(&res);

    assert_int_equal(take_best("00", 999999999, 1, "", &res), HOLD_UNAUTHORIZED);
    hold_result_free(&res);
    assert_int_equal(take_best(alice, 999999999, 1, "", &res), HOLD_EVENT_NOT_FOUND);
    hold_result_free(&res);
}

static void test_schema_refuses_a_seat_without_its_hold(void **state)
{
    (void)state;
    int64_t event = fixture_event(db, 1, 1, 600, 8, -60);
    char sql[300];
    /* A held seat must name its hold: the CHECK constraint refuses it. */
    snprintf(sql, sizeof(sql),
             "UPDATE event_seats SET held_until = now() + interval '1 hour' WHERE event_id = %lld",
             (long long)event);
    assert_int_equal(db_exec(db, sql), DB_CONSTRAINT);
    /* A seat of an event has exactly one inventory row. */
    snprintf(sql, sizeof(sql),
             "INSERT INTO event_seats (event_id, seat_id, category, rank) "
             "SELECT event_id, seat_id, category, rank FROM event_seats WHERE event_id = %lld",
             (long long)event);
    assert_int_equal(db_exec(db, sql), DB_UNIQUE);
}

int main(void)
{
    db = fixture_connect();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hold_by_ids_is_all_or_nothing),
        cmocka_unit_test(test_unknown_and_foreign_seats_change_nothing),
        cmocka_unit_test(test_best_available_then_sold_out),
        cmocka_unit_test(test_best_available_keeps_seats_together),
        cmocka_unit_test(test_expired_hold_frees_seats_at_once),
        cmocka_unit_test(test_sweep_is_idempotent),
        cmocka_unit_test(test_per_user_cap),
        cmocka_unit_test(test_release_frees_seats_and_is_private),
        cmocka_unit_test(test_sale_window),
        cmocka_unit_test(test_schema_refuses_a_seat_without_its_hold),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    db_close(db);
    return failed;
}
