/* test_session_memory.c: the shared table of recently confirmed sessions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "session_memory.h"

/* A digest whose first word (the table position) is `slot` and whose other
 * words are `tail`, so tests can aim several digests at one position. */
static void digest(char out[65], uint64_t slot, uint64_t tail)
{
    snprintf(out, 65, "%016llx%016llx%016llx%016llx", (unsigned long long)slot,
             (unsigned long long)tail, (unsigned long long)tail, (unsigned long long)tail);
}

static int setup(void **state)
{
    (void)state;
    return session_memory_init() ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    session_memory_close();
    return 0;
}

static void test_remembered_until_it_lapses(void **state)
{
    (void)state;
    char d[65];
    digest(d, 1, 0xabc);
    assert_false(session_memory_knows(d, 1000));
    session_memory_remember(d, 1000, 500);
    assert_true(session_memory_knows(d, 1000));
    assert_true(session_memory_knows(d, 1499));
    assert_false(session_memory_knows(d, 1500));
    /* Remembering again extends it. */
    session_memory_remember(d, 1400, 500);
    assert_true(session_memory_knows(d, 1899));
}

static void test_only_the_same_digest_is_known(void **state)
{
    (void)state;
    char d[65], other[65];
    digest(d, 2, 0x111);
    digest(other, 2, 0x112); /* same position, different digest */
    session_memory_remember(d, 0, 1000);
    assert_true(session_memory_knows(d, 10));
    assert_false(session_memory_knows(other, 10));
}

static void test_forget_is_immediate(void **state)
{
    (void)state;
    char d[65];
    digest(d, 3, 0x222);
    session_memory_remember(d, 0, 100000);
    session_memory_forget(d);
    assert_false(session_memory_knows(d, 1));
    session_memory_forget(d); /* forgetting twice is harmless */
}

static void test_malformed_digests_are_never_known(void **state)
{
    (void)state;
    const char *bad[] = {"", "abc", "zz00000000000000000000000000000000000000000000000000000000000000",
                         "00000000000000000000000000000000000000000000000000000000000000000"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        session_memory_remember(bad[i], 0, 1000);
        assert_false(session_memory_knows(bad[i], 1));
    }
    session_memory_remember(NULL, 0, 1000);
    assert_false(session_memory_knows(NULL, 1));
    /* A zero ttl remembers nothing. */
    char d[65];
    digest(d, 4, 0x333);
    session_memory_remember(d, 0, 0);
    assert_false(session_memory_knows(d, 0));
}

static void test_crowded_position_evicts_what_lapses_first(void **state)
{
    (void)state;
    char d[6][65];
    /* Five digests aimed at one position: four ways hold four of them. */
    for (int i = 0; i < 5; i++) {
        digest(d[i], 100, 0x1000 + (uint64_t)i);
        session_memory_remember(d[i], 0, 1000 + i);
    }
    assert_false(session_memory_knows(d[0], 1)); /* lapsed first: evicted */
    for (int i = 1; i < 5; i++)
        assert_true(session_memory_knows(d[i], 1));
}

static void test_shared_between_processes(void **state)
{
    (void)state;
    char d[65];
    digest(d, 5, 0x444);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        session_memory_remember(d, 0, 1000);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(session_memory_knows(d, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_remembered_until_it_lapses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_the_same_digest_is_known, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget_is_immediate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_digests_are_never_known, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crowded_position_evicts_what_lapses_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_shared_between_processes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
