# Integration tests: cmocka programs against a throwaway PostgreSQL
# (BOXOFFICE_TEST_DATABASE_URL), run by scripts/test, not by make check.
check_PROGRAMS += tests/integration/test_holds
tests_integration_test_holds_SOURCES = tests/integration/test_holds.c \
	tests/integration/fixtures.c tests/integration/fixtures.h
tests_integration_test_holds_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_integration_test_holds_LDADD = $(BOXOFFICE_LIBS) $(CMOCKA_LIBS)
