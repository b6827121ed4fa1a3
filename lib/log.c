/* log.c: one-line log records on stderr, each tagged with a request id. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "boxoffice";
static enum log_level log_min_level = LOG_LEVEL_INFO;

void log_init(const char *program, enum log_level min_level)
{
    log_program = program;
    log_min_level = min_level;
}

int log_level_parse(const char *name, enum log_level *out)
{
    static const struct {
        const char *name;
        enum log_level level;
    } levels[] = {{"debug", LOG_LEVEL_DEBUG},
                  {"info", LOG_LEVEL_INFO},
                  {"warn", LOG_LEVEL_WARN},
                  {"error", LOG_LEVEL_ERROR}};
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        if (strcmp(name, levels[i].name) == 0) {
            *out = levels[i].level;
            return 1;
        }
    }
    return 0;
}

void log_msg(enum log_level level, const char *request_id, const char *fmt, ...)
{
    static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    char message[2048];
    char stamp[32];
    struct timespec now;
    struct tm tm;
    va_list ap;

    if (level < log_min_level)
        return;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    /* A log record is one line whatever the message holds. */
    for (char *p = message; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    }
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    /* One fprintf per record keeps records from different workers whole. */
    fprintf(stderr, "%s.%03ldZ %s %s[%d] req=%s %s\n", stamp, now.tv_nsec / 1000000L,
            names[level], log_program, (int)getpid(),
            request_id != NULL && request_id[0] != '\0' ? request_id : "-", message);
}
