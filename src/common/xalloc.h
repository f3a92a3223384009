/*
 * common/xalloc.h - the daemons' one out-of-memory policy: allocate or die
 * (Redis's zmalloc, gnulib's xalloc). hrss-node, hrss-sms and the layers
 * below them (net, store, carrier) allocate through these; the SDK in
 * src/lib never does, since it returns HRSS_ENOMEM and never kills its host.
 *
 * xalloc_die writes one line to stderr and aborts: a daemon that cannot
 * allocate a few bytes cannot keep its promises (a queued message, a
 * relayed answer), and a supervisor restarts it with its durable state.
 * Safe from any thread.
 */
#ifndef HRSS_COMMON_XALLOC_H
#define HRSS_COMMON_XALLOC_H

#include <stddef.h>

#if defined(__GNUC__)
#define XALLOC_NORETURN __attribute__((noreturn))
#define XALLOC_MALLOC __attribute__((malloc, returns_nonnull))
#else
#define XALLOC_NORETURN
#define XALLOC_MALLOC
#endif

/* Never returns: "out of memory" on stderr, then abort(). */
void xalloc_die(void) XALLOC_NORETURN;

/* malloc, calloc, realloc, strdup and strndup that never return NULL.
 * xmalloc(0) and xcalloc(0, size) return a unique pointer to free().
 * xstrdup(NULL) returns "" (a fresh copy), as a column or option left
 * empty reads. Free everything with free(). */
void *xmalloc(size_t n) XALLOC_MALLOC;
void *xcalloc(size_t n, size_t size) XALLOC_MALLOC;
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s) XALLOC_MALLOC;
/* The first n bytes of s (which need not be terminated), terminated. */
char *xstrndup(const char *s, size_t n) XALLOC_MALLOC;

/* For objects a library allocates (event_new, json_dumps, SSL_new...):
 * returns p, or dies when it is NULL. */
void *xalloc_check(void *p);
/* For calls that fail only when memory runs out (event_add of an assigned
 * event, pthread_create at start): dies when rc is not 0. */
void xalloc_check_rc(int rc);

#endif
