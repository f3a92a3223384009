/*
 * common/log.h - structured log lines of the daemons (hrss-node, hrss-sms):
 * one line per event on stderr, `ts=<UTC ISO 8601 ms> level=... event=...
 * key=value...`, formatted in a stack buffer and written with one write(2),
 * so that lines of concurrent threads never interleave (under systemd's
 * journal or appended to a file). An overlong line is cut and marked
 * `truncated=1`. Callers never pass bodies, keys, passwords, message texts
 * or full personal numbers; hrss_log_quote makes an untrusted value safe to
 * put in a line.
 *
 * Safe from any thread. The level is one per process (SIGHUP may change it).
 */
#ifndef HRSS_COMMON_LOG_H
#define HRSS_COMMON_LOG_H

#include <stddef.h>

#if defined(__GNUC__)
#define HRSS_LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define HRSS_LOG_PRINTF(a, b)
#endif

typedef enum hrss_log_level {
    HRSS_LOG_ERROR = 0,
    HRSS_LOG_WARN = 1,
    HRSS_LOG_INFO = 2,
    HRSS_LOG_DEBUG = 3
} hrss_log_level;

void hrss_log_set_level(hrss_log_level l);
int hrss_log_enabled(hrss_log_level l);
/* "error", "warn", "info", "debug" ("?" out of range). */
const char *hrss_log_level_name(hrss_log_level l);

/* Writes the line when l is enabled; fmt holds the key=value pairs (NULL
 * for none). */
void hrss_log(hrss_log_level l, const char *event, const char *fmt, ...) HRSS_LOG_PRINTF(3, 4);

/* Copies s into out as a log value: bare when it holds only safe
 * characters, else double-quoted with \" \\ and \xNN escapes; cut at outlen
 * (always NUL-terminated). Returns out. */
const char *hrss_log_quote(const char *s, char *out, size_t outlen);

#endif
