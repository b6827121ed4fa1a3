/* main.c: boxoffice-indexer: the search indexing job.
 *   --full         rebuild every document (new ES index + alias swap)
 *   --incremental  drain the outbox once
 *   --follow       drain the outbox continuously and keep seats_available
 *                  fresh (what the run command starts)
 * Exit status: 0 when everything was indexed, 1 when some documents were
 * not (each logged), 2 on usage or configuration errors, 3 when the job
 * could not run (database or ElasticSearch down). */
#include "config.h"
#include "db.h"
#include "es_client.h"
#include "log.h"
#include "search_index.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef BOXOFFICE_ES_MAPPINGS
#define BOXOFFICE_ES_MAPPINGS "es-mappings"
#endif

#define INDEXER_POLL_MS 200          /* outbox poll period when idle */
#define INDEXER_AVAILABILITY_MS 2000 /* availability sweep period */
#define INDEXER_RETRY_MS 2000        /* after a failed round */

static volatile sig_atomic_t indexer_stopping;

static void indexer_on_signal(int sig)
{
    (void)sig;
    indexer_stopping = 1;
}

static void indexer_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static double indexer_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

struct indexer_progress {
    double started;
};

/* The progress line: only on a terminal. */
static void indexer_progress(void *ctx, size_t done, size_t total)
{
    struct indexer_progress *p = ctx;
    double elapsed = indexer_now() - p->started;
    fprintf(stderr, "\r%zu / %zu documents, %.0f documents/s   ", done, total,
            elapsed > 0 ? (double)done / elapsed : 0.0);
}

static int indexer_exit_code(enum search_index_status st)
{
    switch (st) {
    case SEARCH_INDEX_OK:
        return 0;
    case SEARCH_INDEX_INCOMPLETE:
        return 1;
    case SEARCH_INDEX_FAILED:
        break;
    }
    return 3;
}

/* Drains the outbox once; returns the worst status met. */
static enum search_index_status indexer_drain(struct search_indexer *ix,
                                              struct search_index_report *report)
{
    enum search_index_status worst = SEARCH_INDEX_OK;
    while (!indexer_stopping) {
        size_t claimed = 0;
        enum search_index_status st = search_index_outbox(ix, SEARCH_INDEX_BATCH, &claimed, report);
        if (st > worst)
            worst = st;
        if (st == SEARCH_INDEX_FAILED || claimed == 0)
            break;
    }
    return worst;
}

static int indexer_follow(struct search_indexer *ix)
{
    double last_sweep = 0;
    bool es_ready = false;
    log_info(NULL, "following the outbox");
    while (!indexer_stopping) {
        struct search_index_report report = {0};
        enum search_index_status st = SEARCH_INDEX_OK;
        /* Incremental writes go through the aliases, which only a full
         * load creates: without them ES would invent an index with guessed
         * mappings. Checked at start and again after a failed round. */
        if (ix->es != NULL && !es_ready) {
            es_ready = search_index_es_ready(ix);
            if (!es_ready) {
                log_info(NULL, "no ElasticSearch aliases yet: full reindex first");
                es_ready = search_index_full(ix, &report) == SEARCH_INDEX_OK;
                if (!es_ready) {
                    indexer_sleep_ms(INDEXER_RETRY_MS);
                    continue;
                }
            }
        }
        if (indexer_now() - last_sweep >= INDEXER_AVAILABILITY_MS / 1000.0) {
            int queued = 0;
            if (search_index_availability(ix, &queued) == SEARCH_INDEX_OK && queued > 0)
                log_info(NULL, "availability changed for %d events", queued);
            last_sweep = indexer_now();
        }
        st = indexer_drain(ix, &report);
        if (report.indexed + report.deleted + report.failed > 0)
            log_info(NULL, "indexed %zu, deleted %zu, failed %zu", report.indexed, report.deleted,
                     report.failed);
        if (st == SEARCH_INDEX_FAILED)
            es_ready = false;
        indexer_sleep_ms(st == SEARCH_INDEX_FAILED ? INDEXER_RETRY_MS : INDEXER_POLL_MS);
    }
    log_info(NULL, "stopped");
    return 0;
}

int main(int argc, char **argv)
{
    struct config cfg;
    char err[512];
    const char *path = getenv("BOXOFFICE_CONFIG");
    const char *mappings = getenv("BOXOFFICE_ES_MAPPINGS");
    enum { MODE_NONE, MODE_FULL, MODE_INCREMENTAL, MODE_FOLLOW } mode = MODE_NONE;
    enum log_level level;
    int status = 3;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--mappings") == 0 && i + 1 < argc) {
            mappings = argv[++i];
        } else if (strcmp(argv[i], "--full") == 0 && mode == MODE_NONE) {
            mode = MODE_FULL;
        } else if (strcmp(argv[i], "--incremental") == 0 && mode == MODE_NONE) {
            mode = MODE_INCREMENTAL;
        } else if (strcmp(argv[i], "--follow") == 0 && mode == MODE_NONE) {
            mode = MODE_FOLLOW;
        } else {
            mode = MODE_NONE;
            break;
        }
    }
    log_init("boxoffice-indexer", LOG_LEVEL_INFO);
    if (mode == MODE_NONE) {
        log_error(NULL, "usage: boxoffice-indexer [-c CONFIG_FILE] [--mappings DIR] "
                        "--full | --incremental | --follow");
        return 2;
    }
    if (!config_load(path, &cfg, err, sizeof(err))) {
        log_error(NULL, "configuration: %s", err);
        return 2;
    }
    if (log_level_parse(cfg.log_level, &level))
        log_init("boxoffice-indexer", level);
    /* --follow and --incremental stop between batches; a --full stops at
     * once (its transaction rolls back, the alias is untouched). */
    if (mode != MODE_FULL) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = indexer_on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
    }
    signal(SIGPIPE, SIG_IGN);

    struct indexer_progress progress = {indexer_now()};
    struct search_indexer ix = {0};
    ix.mappings_dir = mappings != NULL ? mappings : BOXOFFICE_ES_MAPPINGS;
    if (isatty(STDERR_FILENO)) {
        ix.progress = indexer_progress;
        ix.progress_ctx = &progress;
    }
    ix.db = db_open(cfg.database_url);
    if (ix.db == NULL)
        return 3;
    if (cfg.es_url[0] != '\0') {
        struct es_options opts = {0};
        opts.base_url = cfg.es_url;
        ix.es = es_open(&opts);
        if (ix.es == NULL) {
            log_error(NULL, "es_url is not a usable http(s) URL");
            db_close(ix.db);
            return 2;
        }
    }

    struct search_index_report report = {0};
    enum search_index_status st;
    switch (mode) {
    case MODE_FULL:
        st = search_index_full(&ix, &report);
        if (ix.progress != NULL)
            fputc('\n', stderr);
        log_info(NULL, "full reindex: %zu documents in %.2f s, %zu failed%s", report.indexed,
                 indexer_now() - progress.started, report.failed,
                 ix.es != NULL ? " (PostgreSQL and ElasticSearch)" : " (PostgreSQL)");
        status = indexer_exit_code(st);
        break;
    case MODE_INCREMENTAL:
        st = indexer_drain(&ix, &report);
        log_info(NULL, "incremental: indexed %zu, deleted %zu, failed %zu", report.indexed,
                 report.deleted, report.failed);
        status = indexer_exit_code(st);
        break;
    case MODE_FOLLOW:
        status = indexer_follow(&ix);
        break;
    case MODE_NONE:
        break;
    }
    es_close(ix.es);
    db_close(ix.db);
    return status;
}
