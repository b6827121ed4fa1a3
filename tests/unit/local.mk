# cmocka unit tests: no services, run by `make check`.
# Each test is one program per module; add it to check_PROGRAMS and TESTS and
# give it sources and LDADD like test_validate below.
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
UNIT_LDADD = $(BOXOFFICE_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_validate tests/unit/test_crypto tests/unit/test_config
TESTS += tests/unit/test_validate tests/unit/test_crypto tests/unit/test_config

tests_unit_test_validate_SOURCES = tests/unit/test_validate.c
tests_unit_test_validate_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_validate_LDADD = $(UNIT_LDADD)

tests_unit_test_crypto_SOURCES = tests/unit/test_crypto.c
tests_unit_test_crypto_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_crypto_LDADD = $(UNIT_LDADD)

tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_config_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test_route tests/unit/test_http
TESTS += tests/unit/test_route tests/unit/test_http

tests_unit_test_route_SOURCES = tests/unit/test_route.c
tests_unit_test_route_CFLAGS = $(UNIT_CFLAGS) -I$(srcdir)/fcgi
tests_unit_test_route_LDADD = $(FCGI_APP_LIBS) $(CMOCKA_LIBS)

tests_unit_test_http_SOURCES = tests/unit/test_http.c
tests_unit_test_http_CFLAGS = $(UNIT_CFLAGS) -I$(srcdir)/fcgi
tests_unit_test_http_LDADD = $(FCGI_APP_LIBS) $(CMOCKA_LIBS)

# es_client: test_es_live skips itself unless BOXOFFICE_TEST_ES_URL is set
# (tests/es/run-live-tests.sh starts tests/es/fake_es.py and sets it).
check_PROGRAMS += tests/unit/test_es_client tests/unit/test_es_live
TESTS += tests/unit/test_es_client tests/unit/test_es_live

tests_unit_test_es_client_SOURCES = tests/unit/test_es_client.c
tests_unit_test_es_client_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_es_client_LDADD = $(UNIT_LDADD)

tests_unit_test_es_live_SOURCES = tests/unit/test_es_live.c
tests_unit_test_es_live_CFLAGS = $(UNIT_CFLAGS) -DBOXOFFICE_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_es_live_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test_payment tests/unit/test_webhook_signature \
	tests/unit/test_payment_live
TESTS += tests/unit/test_payment tests/unit/test_webhook_signature tests/unit/test_payment_live

tests_unit_test_payment_SOURCES = tests/unit/test_payment.c
tests_unit_test_payment_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_payment_LDADD = $(UNIT_LDADD)

tests_unit_test_webhook_signature_SOURCES = tests/unit/test_webhook_signature.c
tests_unit_test_webhook_signature_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_webhook_signature_LDADD = $(UNIT_LDADD)

# Skips unless BOXOFFICE_TEST_SANDBOX_URL is set; tests/sandbox/run-live-tests.sh sets it.
tests_unit_test_payment_live_SOURCES = tests/unit/test_payment_live.c
tests_unit_test_payment_live_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_payment_live_LDADD = $(UNIT_LDADD)

# waiting room: signed tokens, proof of work, admission arithmetic
check_PROGRAMS += tests/unit/test_token tests/unit/test_pow tests/unit/test_queue
TESTS += tests/unit/test_token tests/unit/test_pow tests/unit/test_queue

tests_unit_test_token_SOURCES = tests/unit/test_token.c
tests_unit_test_token_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_token_LDADD = $(UNIT_LDADD)

tests_unit_test_pow_SOURCES = tests/unit/test_pow.c
tests_unit_test_pow_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_pow_LDADD = $(UNIT_LDADD)

tests_unit_test_queue_SOURCES = tests/unit/test_queue.c
tests_unit_test_queue_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_queue_LDADD = $(UNIT_LDADD)

# orders: webhook event parsing, Idempotency-Key checks, provider settings.
check_PROGRAMS += tests/unit/test_order
TESTS += tests/unit/test_order

tests_unit_test_order_SOURCES = tests/unit/test_order.c
tests_unit_test_order_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_order_LDADD = $(UNIT_LDADD)

# search documents and search ranges
check_PROGRAMS += tests/unit/test_search_doc
TESTS += tests/unit/test_search_doc

tests_unit_test_search_doc_SOURCES = tests/unit/test_search_doc.c
tests_unit_test_search_doc_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_search_doc_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test_search_cache
TESTS += tests/unit/test_search_cache

tests_unit_test_search_cache_SOURCES = tests/unit/test_search_cache.c
tests_unit_test_search_cache_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_search_cache_LDADD = $(UNIT_LDADD)

# train: booking request and path checks (pure; the SQL is covered by
# tests/integration/test_trains.py and tests/e2e/test_trains.py).
check_PROGRAMS += tests/unit/test_train
TESTS += tests/unit/test_train

tests_unit_test_train_SOURCES = tests/unit/test_train.c
tests_unit_test_train_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_train_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test_session_memory
TESTS += tests/unit/test_session_memory

tests_unit_test_session_memory_SOURCES = tests/unit/test_session_memory.c
tests_unit_test_session_memory_CFLAGS = $(UNIT_CFLAGS) -I$(srcdir)/fcgi
tests_unit_test_session_memory_LDADD = $(FCGI_APP_LIBS) $(CMOCKA_LIBS)
