/*
 * common/str.c - bounded copy and JSON escaping (str.h).
 */
#include "common/str.h"

#include <stdio.h>

size_t str_copy(char *dst, size_t size, const char *src)
{
    size_t n = src ? strnlen(src, size - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
    return n;
}

int str_append_json(hrss_buf *b, hrss_str v)
{
    const char *s = v.p;
    size_t len = v.len;
    int rc = buf_append(b, "\"", 1);
    size_t run = 0; /* bytes of s[i - run .. i) that need no escape */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        rc |= buf_append(b, s + i - run, run);
        run = 0;
        char e[8];
        int n = c >= 0x20 ? snprintf(e, sizeof(e), "\\%c", c) : snprintf(e, sizeof(e), "\\u%04x", c);
        rc |= buf_append(b, e, (size_t)n);
    }
    rc |= buf_append(b, s + len - run, run);
    rc |= buf_append(b, "\"", 1);
    return rc ? -1 : 0;
}
