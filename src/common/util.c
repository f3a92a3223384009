/*
 * common/util.c - the growable buffer, UTF-8 helpers and stream reader of
 * util.h. Used by libhrss and the command-line tool alike.
 */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(hrss_buf *b, size_t limit)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

int buf_append(hrss_buf *b, const void *data, size_t n)
{
    if (n > b->limit || b->len > b->limit - n)
        return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (np == NULL)
            return -1;
        b->p = np;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int buf_append_str(hrss_buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

char *buf_detach(hrss_buf *b, size_t *len)
{
    char *p = b->p;
    if (p == NULL) {
        p = malloc(1);
        if (p != NULL)
            p[0] = '\0';
    }
    if (len != NULL)
        *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void buf_free(hrss_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

size_t utf8_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* Length of the valid UTF-8 sequence at s, or 0 when it is not valid. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2 || c > 0xF4)
        return 0;
    size_t n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if (c == 0xE0 && s[1] < 0xA0)
        return 0; /* overlong */
    if (c == 0xED && s[1] >= 0xA0)
        return 0; /* surrogate */
    if (c == 0xF0 && s[1] < 0x90)
        return 0; /* overlong */
    if (c == 0xF4 && s[1] >= 0x90)
        return 0; /* above U+10FFFF */
    return n;
}

int utf8_is_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq(u + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

size_t utf8_prefix(const char *s, size_t len, size_t max_chars)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, chars = 0;
    while (i < len && chars < max_chars) {
        size_t n = utf8_seq(u + i, len - i);
        if (n == 0)
            break;
        i += n;
        chars++;
    }
    return i;
}

char *utf8_mend(char *s)
{
    unsigned char *u = (unsigned char *)s;
    size_t len = strlen(s), i = 0;
    while (i < len) {
        size_t n = utf8_seq(u + i, len - i);
        if (n > 0) {
            i += n;
            continue;
        }
        /* A lead byte followed only by continuation bytes up to the end is
         * a character cut by a bounded printf: dropped, not shown. */
        size_t need = u[i] >= 0xf0 ? 4 : u[i] >= 0xe0 ? 3 : u[i] >= 0xc0 ? 2 : 0;
        size_t k = i + 1;
        while (k < len && (u[k] & 0xc0) == 0x80)
            k++;
        if (need > 0 && k == len && len - i < need) {
            u[i] = '\0';
            break;
        }
        u[i++] = '?';
    }
    return s;
}

char *read_stream(FILE *f, size_t limit, size_t *len, int *toobig)
{
    hrss_buf b;
    char chunk[16384];
    size_t n;

    buf_init(&b, limit);
    *toobig = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf_append(&b, chunk, n) != 0) {
            *toobig = b.len + n > limit;
            buf_free(&b);
            return NULL;
        }
    }
    if (ferror(f)) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b, len);
}

char *read_file(const char *path, size_t limit, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    int toobig = 0;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = read_stream(f, limit, len, &toobig);
    fclose(f);
    if (text == NULL) {
        if (toobig)
            snprintf(err, errlen, "%s: larger than %zu bytes", path, limit);
        else
            snprintf(err, errlen, "%s: cannot be read", path);
    }
    return text;
}
