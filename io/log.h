/* log.h - one-line, levelled log records on stderr.
 *
 * Every record is "2026-11-24T01:02:03.456Z LEVEL message" written with one
 * fputs under stdio's own lock, so lines from several threads never
 * interleave. Values of secret settings must never be passed here (config.h
 * redacts them). */
#ifndef INV_LOG_H
#define INV_LOG_H

enum { INV_LOG_ERROR = 0, INV_LOG_WARN = 1, INV_LOG_INFO = 2, INV_LOG_DEBUG = 3 };

/* Any thread, before other threads start. Records above level are dropped. */
void log_set_level(int level);

/* Any thread. True when records of level are written. */
int log_enabled(int level);

/* Any thread. Writes one record (a trailing newline is added). */
void inv_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) inv_log(INV_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) inv_log(INV_LOG_WARN, __VA_ARGS__)
#define log_info(...) inv_log(INV_LOG_INFO, __VA_ARGS__)
#define log_debug(...) \
    do { \
        if (log_enabled(INV_LOG_DEBUG)) inv_log(INV_LOG_DEBUG, __VA_ARGS__); \
    } while (0)

#endif
