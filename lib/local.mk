# libboxoffice.a: infrastructure and domain code shared by every program.
noinst_LIBRARIES += libboxoffice.a
libboxoffice_a_SOURCES = \
	lib/account.c lib/account.h \
	lib/config.c lib/config.h \
	lib/crypto.c lib/crypto.h \
	lib/db.c lib/db.h \
	lib/event.c lib/event.h \
	lib/hold.c lib/hold.h \
	lib/order.c lib/order.h \
	lib/es_client.c lib/es_client.h \
	lib/log.c lib/log.h \
	lib/outcome.c lib/outcome.h \
	lib/password.c lib/password.h \
	lib/payment.c lib/payment.h \
	lib/pow.c lib/pow.h \
	lib/queue.c lib/queue.h \
	lib/queue_cache.c lib/queue_cache.h \
	lib/search.c lib/search.h lib/search_backend.h \
	lib/search_cache.c lib/search_cache.h \
	lib/search_doc.c lib/search_doc.h \
	lib/search_es.c lib/search_index.c lib/search_index.h lib/search_pg.c \
	lib/token.c lib/token.h \
	lib/train.c lib/train.h \
	lib/validate.c lib/validate.h \
	lib/webhook_signature.c lib/webhook_signature.h
