# boxoffice-indexer: the search indexing job (full reindex, outbox follower).
bin_PROGRAMS += boxoffice-indexer
boxoffice_indexer_SOURCES = indexer/main.c
boxoffice_indexer_CFLAGS = $(AM_CFLAGS) -DBOXOFFICE_ES_MAPPINGS='"$(abs_top_srcdir)/es-mappings"'
boxoffice_indexer_LDADD = $(BOXOFFICE_LIBS)
