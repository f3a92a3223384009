/*
 * common/log.c - the log lines of log.h, formatted in a stack buffer and
 * written with one write(2); an overlong line is cut and marked.
 */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int level = HRSS_LOG_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};

void hrss_log_set_level(hrss_log_level l)
{
    atomic_store(&level, (int)l);
}

int hrss_log_enabled(hrss_log_level l)
{
    return (int)l <= atomic_load_explicit(&level, memory_order_relaxed);
}

const char *hrss_log_level_name(hrss_log_level l)
{
    return (unsigned)l < 4 ? names[l] : "?";
}

void hrss_log(hrss_log_level l, const char *event, const char *fmt, ...)
{
    if (!hrss_log_enabled(l))
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000L, hrss_log_level_name(l), event);
    if (fmt != NULL && n > 0 && (size_t)n < sizeof(line) - 2) {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        va_end(ap);
        if (m > 0)
            n += m;
    }
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line) - 1) {
        static const char cut[] = " truncated=1";
        n = (int)(sizeof(line) - sizeof(cut) - 1);
        memcpy(line + n, cut, sizeof(cut) - 1);
        n += (int)sizeof(cut) - 1;
    }
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

const char *hrss_log_quote(const char *s, char *out, size_t outlen)
{
    size_t o = 0;
    int plain = s[0] != '\0';
    for (size_t i = 0; s[i] != '\0' && plain; i++) {
        unsigned char c = (unsigned char)s[i];
        plain = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                strchr("._-/:[]@+,*%", c) != NULL;
    }
    if (outlen == 0)
        return out;
    if (plain) {
        snprintf(out, outlen, "%s", s);
        return out;
    }
    out[o++] = '"';
    for (size_t i = 0; s[i] != '\0' && o + 6 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    if (o + 1 < outlen)
        out[o++] = '"';
    out[o < outlen ? o : outlen - 1] = '\0';
    return out;
}
