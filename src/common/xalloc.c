/*
 * common/xalloc.c - allocate or die (xalloc.h).
 */
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void xalloc_die(void)
{
    static const char msg[] = "hrss: out of memory\n";
    ssize_t n = write(2, msg, sizeof(msg) - 1);
    (void)n;
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        xalloc_die();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        xalloc_die();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (p == NULL)
        xalloc_die();
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s ? s : "", s ? strlen(s) : 0);
}

char *xstrndup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void *xalloc_check(void *p)
{
    if (p == NULL)
        xalloc_die();
    return p;
}

void xalloc_check_rc(int rc)
{
    if (rc != 0)
        xalloc_die();
}
