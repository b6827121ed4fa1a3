# boxoffice-fcgi: the web application, prefork FastCGI workers. Everything
# but main.c sits in a library so that unit tests link the same code.
noinst_LIBRARIES += libboxoffice_fcgi.a
libboxoffice_fcgi_a_SOURCES = \
	fcgi/auth.c fcgi/auth.h \
	fcgi/handlers.h \
	fcgi/h_account.c \
	fcgi/h_admin.c \
	fcgi/h_event.c \
	fcgi/h_hold.c \
	fcgi/h_order.c \
	fcgi/h_payment.c \
	fcgi/h_ops.c \
	fcgi/h_queue.c \
	fcgi/h_search.c \
	fcgi/h_train.c \
	fcgi/http.c fcgi/http.h \
	fcgi/metrics.c fcgi/metrics.h \
	fcgi/route.c fcgi/route.h \
	fcgi/session_memory.c fcgi/session_memory.h \
	fcgi/soldout.c fcgi/soldout.h \
	fcgi/supervisor.c fcgi/supervisor.h \
	fcgi/worker.c fcgi/worker.h
FCGI_APP_LIBS = libboxoffice_fcgi.a $(BOXOFFICE_LIBS) $(FCGI_LIBS)

bin_PROGRAMS += boxoffice-fcgi
boxoffice_fcgi_SOURCES = fcgi/main.c
boxoffice_fcgi_LDADD = $(FCGI_APP_LIBS)
