/*
 * node/log.c - the structured log lines of log.h. A line is formatted in a
 * stack buffer and written with a single write(2) to stderr (O_APPEND-safe
 * under systemd's journal and under a plain file), so lines of concurrent
 * workers never interleave. An overlong line is cut and marked.
 */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = NODE_LOG_INFO;

void log_set_level(node_log_level l)
{
    atomic_store_explicit(&log_level, (int)l, memory_order_relaxed);
}

int log_enabled(node_log_level l)
{
    return (int)l <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

void log_event(node_log_level l, const char *event, const char *fmt, ...)
{
    if (!log_enabled(l))
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line),
                     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000L, node_log_level_name(l), event);
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
    (void)w; /* nowhere to report a failing log */
}

static int is_plain(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           strchr("._-/:[]@+,*%", ch) != NULL;
}

const char *log_quote(const char *s, char *out, size_t outlen)
{
    size_t i = 0, o = 0;
    int plain = s[0] != '\0';
    for (i = 0; s[i] != '\0' && plain; i++)
        plain = is_plain((unsigned char)s[i]);
    if (outlen == 0)
        return out;
    if (plain) {
        snprintf(out, outlen, "%s", s);
        return out;
    }
    /* each input byte needs at most 4 output bytes; keep room for '"' + NUL */
    out[o++] = '"';
    for (i = 0; s[i] != '\0' && o + 6 < outlen; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", ch);
        } else {
            out[o++] = (char)ch;
        }
    }
    if (o + 1 < outlen)
        out[o++] = '"';
    out[o < outlen ? o : outlen - 1] = '\0';
    return out;
}
