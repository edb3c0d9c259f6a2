/* log.c - see log.h. The record is formatted into a stack buffer first and
 * written with one call, so concurrent records do not interleave; a record
 * longer than the buffer is cut and marked with "...". */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LOG_LINE_BYTES_MAX 2048

static int log_level = INV_LOG_INFO;

/* Any thread, before other threads start. See log.h. */
void log_set_level(int level) {
    log_level = level;
}

/* Any thread. See log.h. */
int log_enabled(int level) {
    return level <= __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

/* Any thread. See log.h. */
void inv_log(int level, const char *fmt, ...) {
    static const char *const names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    if (!log_enabled(level)) return;
    if (level < 0) level = 0;
    if (level > INV_LOG_DEBUG) level = INV_LOG_DEBUG;
    char line[LOG_LINE_BYTES_MAX];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2) {
        len = sizeof(line) - 2;
        memcpy(line + len - 3, "...", 3);
    }
    line[len] = '\n';
    line[len + 1] = '\0';
    fputs(line, stderr);
}
