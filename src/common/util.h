/*
 * common/util.h - small helpers shared by every layer: array length, a
 * growable byte buffer with a hard size limit (curl's dynbuf "toobig"),
 * and UTF-8 character counting. Nothing here knows about LD/T 6008.
 */
#ifndef HRSS_COMMON_UTIL_H
#define HRSS_COMMON_UTIL_H

#include <stddef.h>

#define HRSS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

typedef struct hrss_buf {
    char *p;      /* NUL-terminated when len > 0 or after buf_append */
    size_t len;
    size_t cap;
    size_t limit; /* buf_append fails once len would exceed it */
} hrss_buf;

/* Starts an empty buffer that may grow to limit bytes. */
void buf_init(hrss_buf *b, size_t limit);
/* Appends n bytes; -1 when the limit would be passed or memory runs out
 * (the buffer is left as it was), else 0. */
int buf_append(hrss_buf *b, const void *data, size_t n);
int buf_append_str(hrss_buf *b, const char *s);
/* Hands the bytes to the caller (free with free()); the buffer is reset. */
char *buf_detach(hrss_buf *b, size_t *len);
void buf_free(hrss_buf *b);

/* Number of characters (code points) in valid UTF-8 text; for invalid text,
 * the count of lead bytes, which is never less than the true count would be
 * for the valid prefix. */
size_t utf8_count(const char *s, size_t len);
/* 1 when s[0..len) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int utf8_is_valid(const char *s, size_t len);
/* Byte length of the longest prefix of valid UTF-8 text s holding at most
 * max_chars characters. */
size_t utf8_prefix(const char *s, size_t len, size_t max_chars);
/* Makes NUL-terminated text s valid UTF-8 in place, for messages built
 * with bounded printf from outside bytes: a character cut at the end is
 * dropped, any other invalid byte becomes '?'. Returns s. */
char *utf8_mend(char *s);

/* Reads all of a stream (stdin for the CLI) up to limit bytes. Returns a
 * malloc'd NUL-terminated buffer, or NULL with *toobig set when over limit. */
#include <stdio.h>
char *read_stream(FILE *f, size_t limit, size_t *len, int *toobig);

/* Reads a whole file of at most limit bytes. Returns a malloc'd
 * NUL-terminated buffer, or NULL with "PATH: why" in err (errlen bytes). */
char *read_file(const char *path, size_t limit, size_t *len, char *err, size_t errlen);

#endif
