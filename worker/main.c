/* main.c: boxoffice-worker: the background jobs. Every job is idempotent
 * and safe to run in two processes at once; correctness never waits for
 * them (hold expiry is lazy), they tidy and move things along. */
#include "config.h"
#include "db.h"
#include "hold.h"
#include "jobs.h"
#include "log.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t worker_main_stopping;

static void worker_main_on_signal(int sig)
{
    (void)sig;
    worker_main_stopping = 1;
}

static void worker_main_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    struct config cfg;
    char err[512];
    const char *path = getenv("BOXOFFICE_CONFIG");
    bool once = false;
    enum log_level level;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--once") == 0) {
            once = true;
        } else {
            log_error(NULL, "usage: boxoffice-worker [-c CONFIG_FILE] [--once]");
            return 2;
        }
    }
    log_init("boxoffice-worker", LOG_LEVEL_INFO);
    if (!config_load(path, &cfg, err, sizeof(err))) {
        log_error(NULL, "configuration: %s", err);
        return 2;
    }
    if (log_level_parse(cfg.log_level, &level))
        log_init("boxoffice-worker", level);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = worker_main_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct db *db = db_open(cfg.database_url);
    if (db == NULL)
        return 1;
    log_info(NULL, "running jobs every %d ms", cfg.sweep_interval_ms);
    while (!worker_main_stopping) {
        jobs_run_all(db, &cfg);
        if (once)
            break;
        worker_main_sleep_ms(cfg.sweep_interval_ms);
    }
    db_close(db);
    log_info(NULL, "stopped");
    return 0;
}
