/* test_config.c: defaults, the file, secrets and environment overrides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static char *write_temp(const char *text, mode_t mode)
{
    static char paths[4][64];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, 64, "/tmp/boxoffice-config-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    fchmod(fd, mode);
    close(fd);
    return path;
}

static void test_defaults(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    unsetenv("BOXOFFICE_WORKERS");
    assert_true(config_load(NULL, &cfg, err, sizeof(err)));
    assert_int_equal(cfg.workers, 0);
    assert_int_equal(cfg.max_body_bytes, 1048576);
    assert_string_equal(cfg.log_level, "info");
}

static void test_file_values_and_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool ok;
    } cases[] = {
        {"workers = 3\n# comment\n\nlog_level = debug\n", true},
        {"workers = 999\n", false},
        {"workers = three\n", false},
        {"no_such_key = 1\n", false},
        {"just words\n", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct config cfg;
        char err[256];
        char *path = write_temp(cases[i].text, 0644);
        if (config_load(path, &cfg, err, sizeof(err)) != cases[i].ok)
            fail_msg("case %zu: %s", i, err);
        unlink(path);
    }
}

static void test_environment_wins_and_secrets_must_be_private(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    char *file = write_temp("workers = 3\n", 0644);
    setenv("BOXOFFICE_WORKERS", "5", 1);
    assert_true(config_load(file, &cfg, err, sizeof(err)));
    assert_int_equal(cfg.workers, 5);
    unsetenv("BOXOFFICE_WORKERS");

    char *open_secrets = write_temp("token_secret = abc\n", 0644);
    setenv("BOXOFFICE_SECRETS_FILE", open_secrets, 1);
    assert_false(config_load(file, &cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "0600"));

    char *secrets = write_temp("token_secret = abc\n", 0600);
    setenv("BOXOFFICE_SECRETS_FILE", secrets, 1);
    assert_true(config_load(file, &cfg, err, sizeof(err)));
    assert_string_equal(cfg.token_secret, "abc");
    assert_true(config_is_secret("token_secret"));
    assert_false(config_is_secret("workers"));
    unsetenv("BOXOFFICE_SECRETS_FILE");
    unlink(file);
    unlink(open_secrets);
    unlink(secrets);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_file_values_and_errors),
        cmocka_unit_test(test_environment_wins_and_secrets_must_be_private),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
