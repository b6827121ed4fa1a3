# boxoffice-worker: background jobs (expiry, admission, payments, charts).
bin_PROGRAMS += boxoffice-worker
boxoffice_worker_SOURCES = worker/main.c worker/jobs.c worker/jobs.h worker/job_orders.c \
	worker/job_queue.c worker/job_trains.c
boxoffice_worker_LDADD = $(BOXOFFICE_LIBS)

# boxoffice-admin: operator jobs from the command line.
bin_PROGRAMS += boxoffice-admin
boxoffice_admin_SOURCES = admin/main.c
boxoffice_admin_LDADD = $(BOXOFFICE_LIBS)
