/* log.h: one-line log records on stderr, each tagged with a request id. */
#ifndef BOXOFFICE_LOG_H
#define BOXOFFICE_LOG_H

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Sets the program name printed in every record and the lowest level that
 * is printed. Call once at start and again in each forked child. */
void log_init(const char *program, enum log_level min_level);

/* Parses "debug", "info", "warn" or "error"; returns false for anything
 * else and leaves *out unchanged. */
int log_level_parse(const char *name, enum log_level *out);

/* Writes one record: time, level, program[pid], req=<request_id or ->, the
 * formatted message. Newlines in the message are replaced so that one
 * record is always one line. Never fails visibly. */
void log_msg(enum log_level level, const char *request_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(rid, ...) log_msg(LOG_LEVEL_DEBUG, (rid), __VA_ARGS__)
#define log_info(rid, ...) log_msg(LOG_LEVEL_INFO, (rid), __VA_ARGS__)
#define log_warn(rid, ...) log_msg(LOG_LEVEL_WARN, (rid), __VA_ARGS__)
#define log_error(rid, ...) log_msg(LOG_LEVEL_ERROR, (rid), __VA_ARGS__)

#endif
