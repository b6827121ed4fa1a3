/* main.c: boxoffice-fcgi: loads the configuration, opens the FastCGI
 * socket and hands it to the supervisor. */
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "session_memory.h"
#include "supervisor.h"

#include <errno.h>
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void main_usage(void)
{
    fprintf(stderr, "usage: boxoffice-fcgi [-c CONFIG_FILE]\n"
                    "  Serves the boxoffice API over FastCGI on the configured unix socket.\n"
                    "  The configuration file may also be named by BOXOFFICE_CONFIG.\n");
}

int main(int argc, char **argv)
{
    struct config cfg;
    char err[512];
    const char *path = getenv("BOXOFFICE_CONFIG");
    enum log_level level;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else {
            main_usage();
            return 2;
        }
    }
    log_init("boxoffice-fcgi", LOG_LEVEL_INFO);
    if (!config_load(path, &cfg, err, sizeof(err))) {
        log_error(NULL, "configuration: %s", err);
        return 2;
    }
    if (log_level_parse(cfg.log_level, &level))
        log_init("boxoffice-fcgi", level);
    if (cfg.token_secret[0] == '\0') {
        log_error(NULL, "configuration: token_secret is not set (BOXOFFICE_TOKEN_SECRET or "
                        "the secrets file)");
        return 2;
    }
    if (!metrics_init())
        log_warn(NULL, "metrics disabled: cannot map shared memory");
    if (!session_memory_init())
        log_warn(NULL, "sold-out answers from memory disabled: cannot map shared memory");
    if (FCGX_Init() != 0) {
        log_error(NULL, "cannot initialise libfcgi");
        return 1;
    }
    /* A socket file left by a previous run would make bind fail. */
    if (unlink(cfg.fcgi_socket) != 0 && errno != ENOENT) {
        log_error(NULL, "cannot remove old socket %s: %s", cfg.fcgi_socket, strerror(errno));
        return 1;
    }
    int fd = FCGX_OpenSocket(cfg.fcgi_socket, 1024);
    if (fd < 0) {
        log_error(NULL, "cannot listen on %s", cfg.fcgi_socket);
        return 1;
    }
    chmod(cfg.fcgi_socket, 0660);
    int workers = cfg.workers;
    if (workers == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        workers = (int)(cores > 0 ? 2 * cores : 2);
    }
    log_info(NULL, "listening on %s", cfg.fcgi_socket);
    int status = supervisor_run(&cfg, fd, workers);
    close(fd);
    unlink(cfg.fcgi_socket);
    return status;
}
