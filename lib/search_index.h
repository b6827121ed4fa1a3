/* search_index.h: the indexing jobs of the search tier (boxoffice-indexer
 * runs them): documents from PostgreSQL rows, into the PostgreSQL backend's
 * search_documents and, when a client is given, into ElasticSearch. */
#ifndef BOXOFFICE_SEARCH_INDEX_H
#define BOXOFFICE_SEARCH_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "es_client.h"

#define SEARCH_INDEX_BATCH 1000 /* documents per round trip / _bulk request */
#define SEARCH_ALIAS_EVENTS "boxoffice-events"
#define SEARCH_ALIAS_TRAINS "boxoffice-trains"

/* Called after each batch of a full reindex: documents done of total. */
typedef void (*search_index_progress_fn)(void *ctx, size_t done, size_t total);

struct search_indexer {
    struct db *db;                     /* borrowed */
    struct es_client *es;              /* borrowed; NULL: PostgreSQL only */
    const char *mappings_dir;          /* es-mappings/ (events.json, trains.json) */
    search_index_progress_fn progress; /* may be NULL */
    void *progress_ctx;
};

/* What a job did. failed counts documents that could not be indexed (each
 * also logged with its id and reason). */
struct search_index_report {
    size_t indexed;
    size_t deleted;
    size_t failed;
};

enum search_index_status {
    SEARCH_INDEX_OK = 0,
    SEARCH_INDEX_INCOMPLETE, /* some documents failed; see the report and the log */
    SEARCH_INDEX_FAILED      /* the job could not run (database or ES down, bad mapping) */
};

/* Rebuilds everything. PostgreSQL: in one transaction, so searches see the
 * old documents until the new ones are all there. ElasticSearch: per alias
 * a new index boxoffice-<type>-v<time> from the mapping file, loaded with
 * refresh off, refreshed, then the alias is swapped in one POST /_aliases
 * and the old indices are deleted; when any document failed the alias is
 * left alone and the new index is deleted. */
enum search_index_status search_index_full(struct search_indexer *ix,
                                           struct search_index_report *report)
    __attribute__((warn_unused_result));

/* Takes one batch (at most limit rows) from search_outbox, rebuilds those
 * documents from the current rows, pushes them (deleting documents whose
 * event is gone or canceled) and removes the rows, in one transaction: on
 * any failure the rows stay for the next try. Safe to run in several
 * processes at once. *claimed gets the number of documents handled (0:
 * the outbox was empty). */
enum search_index_status search_index_outbox(struct search_indexer *ix, int limit, size_t *claimed,
                                             struct search_index_report *report)
    __attribute__((warn_unused_result));

/* Queues the events whose seat availability changed since they were
 * indexed (search_availability_sweep in sql/functions/040_search.sql).
 * *queued gets how many. */
enum search_index_status search_index_availability(struct search_indexer *ix, int *queued)
    __attribute__((warn_unused_result));

/* True when ElasticSearch has both aliases (a --full has run). */
bool search_index_es_ready(struct search_indexer *ix);

#endif
