/* supervisor.c: starts prefork workers, replaces dead ones, drains on stop. */
#include "supervisor.h"

#include "log.h"
#include "metrics.h"
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SUPERVISOR_MAX_WORKERS 256
#define SUPERVISOR_DRAIN_SECONDS 10

static volatile sig_atomic_t supervisor_stopping;

static void supervisor_on_signal(int sig)
{
    (void)sig;
    supervisor_stopping = 1;
}

static pid_t supervisor_spawn(const struct config *cfg, int listen_fd)
{
    pid_t pid = fork();
    if (pid == 0) {
        log_init("boxoffice-fcgi-worker", LOG_LEVEL_INFO);
        enum log_level level;
        if (log_level_parse(cfg->log_level, &level))
            log_init("boxoffice-fcgi-worker", level);
        _exit(worker_run(cfg, listen_fd));
    }
    if (pid < 0)
        log_error(NULL, "fork failed: %s", strerror(errno));
    return pid;
}

static void supervisor_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int supervisor_run(const struct config *cfg, int listen_fd, int workers)
{
    pid_t pids[SUPERVISOR_MAX_WORKERS];
    struct sigaction sa;

    if (workers < 1)
        workers = 1;
    if (workers > SUPERVISOR_MAX_WORKERS)
        workers = SUPERVISOR_MAX_WORKERS;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = supervisor_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    for (int i = 0; i < workers; i++)
        pids[i] = supervisor_spawn(cfg, listen_fd);
    log_info(NULL, "started %d workers", workers);

    while (!supervisor_stopping) {
        int wstatus;
        pid_t dead = waitpid(-1, &wstatus, 0);
        if (dead < 0) {
            if (errno == EINTR)
                continue;
            supervisor_sleep_ms(100);
            continue;
        }
        for (int i = 0; i < workers; i++) {
            if (pids[i] != dead)
                continue;
            if (supervisor_stopping)
                break;
            log_warn(NULL, "worker %d ended (%s %d); starting a new one", (int)dead,
                     WIFSIGNALED(wstatus) ? "signal" : "status",
                     WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus));
            metrics_count(METRIC_WORKER_RESTARTS, 1);
            /* A worker that dies at once would otherwise spin the CPU. */
            supervisor_sleep_ms(200);
            pids[i] = supervisor_spawn(cfg, listen_fd);
        }
    }

    log_info(NULL, "stopping: draining %d workers", workers);
    for (int i = 0; i < workers; i++) {
        if (pids[i] > 0)
            kill(pids[i], SIGTERM);
    }
    time_t deadline = time(NULL) + SUPERVISOR_DRAIN_SECONDS;
    int alive = workers;
    while (alive > 0) {
        pid_t dead = waitpid(-1, NULL, WNOHANG);
        if (dead > 0) {
            for (int i = 0; i < workers; i++) {
                if (pids[i] == dead) {
                    pids[i] = 0;
                    alive--;
                }
            }
            continue;
        }
        if (dead < 0 && errno == ECHILD)
            break;
        if (time(NULL) >= deadline) {
            /* A worker blocked in accept() when the signal came may miss
             * it; after the drain period it is stopped hard. */
            for (int i = 0; i < workers; i++) {
                if (pids[i] > 0)
                    kill(pids[i], SIGKILL);
            }
            deadline = time(NULL) + 60;
        }
        supervisor_sleep_ms(20);
    }
    log_info(NULL, "stopped");
    return 0;
}
