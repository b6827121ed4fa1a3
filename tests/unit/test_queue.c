/* test_queue.c: the waiting room's arithmetic: cursor steps with carried
 * fractions and their caps, the status a poll answers from the cache, the
 * measured rate, and parsing the cached history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "queue.h"
#include "queue_cache.h"

static void test_cursor_steps(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        struct queue_tick in;
        struct queue_step want;
    } cases[] = {
        /* event, cursor, carry, elapsed, apm, max_active, active, last, gone, sold_out */
        {"1.5 a second: one and a half owed",
         {1, 0, 0, 1000, 90, 100, 0, 1000, false, false, 0},
         {1, 30000, false}},
        {"the carried half completes",
         {1, 1, 30000, 1000, 90, 100, 0, 1000, false, false, 0},
         {3, 0, false}},
        {"1 a minute: a sixtieth owed",
         {1, 5, 0, 1000, 1, 100, 0, 1000, false, false, 0},
         {5, 1000, false}},
        {"elapsed time counts, not ticks",
         {1, 0, 0, 1200, 60, 100, 0, 1000, false, false, 0},
         {1, 12000, false}},
        {"a long absence is capped",
         {1, 0, 0, 3600000, 600, 100000, 0, 100000, false, false, 0},
         {50, 0, false}},
        {"negative elapsed (clock step) admits none",
         {1, 0, 0, -5000, 600, 100, 0, 100, false, false, 0},
         {0, 0, false}},
        {"max_active caps and drops the fraction",
         {1, 10, 59999, 1000, 6000, 10, 9, 1000, false, false, 0},
         {11, 0, false}},
        {"max_active reached admits none",
         {1, 10, 0, 1000, 6000, 10, 10, 1000, false, false, 0},
         {10, 0, false}},
        {"more active than max (settings lowered)",
         {1, 10, 0, 1000, 6000, 5, 8, 1000, false, false, 0},
         {10, 0, false}},
        {"never past the last position",
         {1, 98, 0, 1000, 6000, 1000, 0, 100, false, false, 0},
         {100, 0, false}},
        {"an empty line banks nothing",
         {1, 100, 40000, 1000, 90, 1000, 0, 100, false, false, 0},
         {100, 0, false}},
        {"stock gone: stop and say sold out",
         {1, 10, 30000, 1000, 6000, 1000, 0, 1000, true, false, 0},
         {10, 0, true}},
        {"stock back: resume",
         {1, 10, 0, 1000, 600, 1000, 0, 1000, false, true, 0},
         {20, 0, false}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct queue_step got;
        queue_cursor_step(&cases[i].in, &got);
        if (got.cursor != cases[i].want.cursor || got.carry != cases[i].want.carry ||
            got.sold_out != cases[i].want.sold_out)
            fail_msg("%s: got cursor %lld carry %lld sold_out %d", cases[i].what,
                     (long long)got.cursor, (long long)got.carry, got.sold_out);
    }
}

/* Over many ticks the fractions add up exactly to the setting. */
static void test_fractions_add_up(void **state)
{
    (void)state;
    static const int64_t rates[] = {1, 7, 59, 61, 90, 599, 6001, 123457};
    for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
        struct queue_tick t = {1,     0,     0, 1000, rates[r], INT64_MAX / 2, 0, INT64_MAX / 2,
                               false, false, 0};
        for (int second = 0; second < 600; second++) {
            struct queue_step s;
            t.elapsed_ms = second % 3 == 0 ? 1100 : 950; /* jittery ticks */
            queue_cursor_step(&t, &s);
            t.cursor = s.cursor;
            t.carry = s.carry;
        }
        /* 600 ticks of 1100,950,950 ms = 600 s */
        assert_int_equal(t.cursor, rates[r] * 10);
        assert_int_equal(t.carry, 0);
    }
}

static struct queue_cache_event event_with_history(int64_t *cursors, int64_t *times, size_t n)
{
    struct queue_cache_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.event_id = 5;
    ev.on_sale_at_ms = 1000000;
    ev.cursor = n > 0 ? cursors[n - 1] : 0;
    ev.last_position = 100000;
    ev.drawn = true;
    ev.access_ttl_s = 600;
    ev.admit_per_minute = 600;
    ev.history_len = n;
    ev.history_cursor = cursors;
    ev.history_at_ms = times;
    return ev;
}

static void test_status(void **state)
{
    (void)state;
    /* 10 a second for the last 100 s, ending at t = 2,000,000 ms */
    int64_t cursors[101], times[101];
    for (int i = 0; i <= 100; i++) {
        cursors[i] = 1000 + 10 * i;
        times[i] = 1900000 + 1000 * i;
    }
    struct queue_cache_event ev = event_with_history(cursors, times, 101);
    int64_t now = 2000500;
    struct queue_status st;

    assert_true(queue_measured_rate(&ev, now) > 9.9 && queue_measured_rate(&ev, now) < 10.1);

    queue_status_of(&ev, 2101, now, &st); /* 100 ahead at 10/s */
    assert_int_equal(st.state, QUEUE_STATE_WAITING);
    assert_int_equal(st.ahead, 100);
    assert_int_equal(st.eta_s, 11);
    assert_int_equal(st.poll_after_s, 1);

    queue_status_of(&ev, 102000, now, &st); /* far back: polls rarely */
    assert_int_equal(st.state, QUEUE_STATE_WAITING);
    assert_int_equal(st.poll_after_s, 60);

    queue_status_of(&ev, 1995, now, &st); /* admitted by the step at 2,000,000 */
    assert_int_equal(st.state, QUEUE_STATE_ADMITTED);
    assert_int_equal(st.admitted_at_ms, 2000000);
    assert_int_equal(st.access_expires_at_ms, 2000000 + 600000);

    queue_status_of(&ev, 1995, 2000000 + 600000, &st); /* lapsed */
    assert_int_equal(st.state, QUEUE_STATE_EXPIRED);

    /* admitted by the first step we know of; its lifetime ends 600 s after */
    queue_status_of(&ev, 500, now, &st);
    assert_int_equal(st.state, QUEUE_STATE_ADMITTED);
    assert_int_equal(st.admitted_at_ms, 1900000);
    queue_status_of(&ev, 500, 1900000 + 600000, &st);
    assert_int_equal(st.state, QUEUE_STATE_EXPIRED);

    ev.sold_out = true;
    queue_status_of(&ev, 2101, now, &st);
    assert_int_equal(st.state, QUEUE_STATE_SOLD_OUT);
    queue_status_of(&ev, 1995, now, &st); /* admitted users keep their turn */
    assert_int_equal(st.state, QUEUE_STATE_ADMITTED);

    /* pre-queue before the draw: waits for the sale to open */
    ev.drawn = false;
    queue_status_of(&ev, 0, 940000, &st);
    assert_int_equal(st.state, QUEUE_STATE_WAITING);
    assert_int_equal(st.ahead, -1);
    assert_int_equal(st.eta_s, 60);
}

static void test_rate_fallbacks(void **state)
{
    (void)state;
    int64_t c[] = {10}, t[] = {1000};
    struct queue_cache_event ev = event_with_history(c, t, 1);
    assert_true(queue_measured_rate(&ev, 2000) == 10.0); /* 600/min: too little history */
    int64_t c2[] = {10, 10}, t2[] = {1000, 2000};
    ev = event_with_history(c2, t2, 2);
    assert_true(queue_measured_rate(&ev, 100000) == 10.0); /* stalled: the setting */
}

static void test_parse_list(void **state)
{
    (void)state;
    int64_t out[4];
    assert_int_equal(queue_cache_parse_list("", out, 4), 0);
    assert_int_equal(queue_cache_parse_list("7", out, 4), 1);
    assert_int_equal(out[0], 7);
    assert_int_equal(queue_cache_parse_list("1,2,3,4,5,6", out, 4), 4); /* keeps the newest */
    assert_int_equal(out[0], 3);
    assert_int_equal(out[3], 6);
    assert_int_equal(queue_cache_parse_list("1,,2", out, 4), -1);
    assert_int_equal(queue_cache_parse_list("1,x", out, 4), -1);
    assert_int_equal(queue_cache_parse_list("1,", out, 4), -1);
    assert_int_equal(queue_cache_parse_list("99999999999999999999", out, 4), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cursor_steps), cmocka_unit_test(test_fractions_add_up),
        cmocka_unit_test(test_status),       cmocka_unit_test(test_rate_fallbacks),
        cmocka_unit_test(test_parse_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
