/*
 * common/str.h - strings crossing APIs as views (h2o's h2o_iovec_t), a
 * bounded copy into fixed fields, and JSON string escaping for answers
 * written by hand into a buffer. Nothing here allocates except through the
 * hrss_buf it is given.
 */
#ifndef HRSS_COMMON_STR_H
#define HRSS_COMMON_STR_H

#include <stddef.h>
#include <string.h>

#include "common/util.h"

typedef struct hrss_str {
    const char *p; /* not necessarily terminated */
    size_t len;
} hrss_str;

/* The view of a terminated string; NULL reads as "". */
static inline hrss_str str_of(const char *s)
{
    hrss_str v = {s ? s : "", s ? strlen(s) : 0};
    return v;
}

/* 1 when v holds exactly the terminated string s. */
static inline int str_eq(hrss_str v, const char *s)
{
    return strlen(s) == v.len && memcmp(v.p, s, v.len) == 0;
}

/* Copies src into the fixed field dst of size bytes (size > 0): cut to
 * size - 1 bytes, always terminated; NULL src gives "". Returns the bytes
 * copied. */
size_t str_copy(char *dst, size_t size, const char *src);

/* Appends v to b as a JSON string: quoted, with \" \\ and \u00XX for
 * control characters; other bytes as they are (the text is UTF-8).
 * Returns 0, or -1 when b's limit was reached (b keeps what fitted). */
int str_append_json(hrss_buf *b, hrss_str v);

#endif
