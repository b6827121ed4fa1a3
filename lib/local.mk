# libboxoffice.a: infrastructure and domain code shared by every program.
noinst_LIBRARIES += libboxoffice.a
libboxoffice_a_SOURCES = \
	lib/account.c lib/account.h \
	lib/config.c lib/config.h \
	lib/crypto.c lib/crypto.h \
	lib/db.c lib/db.h \
	lib/event.c lib/event.h \
	lib/hold.c lib/hold.h \
	lib/es_client.c lib/es_client.h \
	lib/log.c lib/log.h \
	lib/outcome.c lib/outcome.h \
	lib/password.c lib/password.h \
	lib/payment.c lib/payment.h \
	lib/validate.c lib/validate.h \
	lib/webhook_signature.c lib/webhook_signature.h
