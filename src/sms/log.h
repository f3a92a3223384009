/*
 * sms/log.h - structured log lines of hrss-sms, on the pattern of
 * hrss-node's: `ts=... level=... event=... key=value...` on stderr, one
 * write(2) per line so that threads never interleave. Callers never pass
 * passwords, message content or full mobile numbers (sms_mobile_mask).
 *
 * Safe from any thread; the level may change on SIGHUP.
 */
#ifndef HRSS_SMS_LOG_H
#define HRSS_SMS_LOG_H

#include <stddef.h>

typedef enum sms_log_level {
    SMS_LOG_ERROR = 0,
    SMS_LOG_WARN = 1,
    SMS_LOG_INFO = 2,
    SMS_LOG_DEBUG = 3
} sms_log_level;

void sms_log_set_level(sms_log_level l);
int sms_log_enabled(sms_log_level l);
const char *sms_log_level_name(sms_log_level l);

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void sms_log(sms_log_level l, const char *event, const char *fmt, ...);

/* s as a log value: bare when it holds only safe characters, else quoted
 * with \" \\ \xNN escapes, cut to outlen (always NUL-terminated). */
const char *sms_log_quote(const char *s, char *out, size_t outlen);

#endif
