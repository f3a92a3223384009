/*
 * net/upstream.h - HTTP calls from a worker's event loop to upstream URLs:
 * a keep-alive pool of HTTP/1.1 client connections per upstream URL and
 * per worker, a timeout per call, a bounded retry that only happens
 * when nothing reached the upstream (the connection could not be made),
 * and a circuit breaker per upstream URL shared by all workers.
 *
 * It knows nothing of LD/T 6008: it posts bytes and hands back the status
 * and bytes it received, or why it received none. http:// and https://
 * (OpenSSL, the peer verified) URLs.
 *
 * Threads: upstream_breakers_* on any thread; a pool belongs to the worker
 * whose event_base it was made with: upstream_pool_new, upstream_call and
 * the callbacks run on that worker; upstream_pool_free runs there or on
 * the owning thread once the worker's loop has stopped.
 */
#ifndef HRSS_NET_UPSTREAM_H
#define HRSS_NET_UPSTREAM_H

#include <stddef.h>

#include <event2/event.h>

typedef enum upstream_result {
    UPSTREAM_OK = 0,       /* an HTTP response arrived (any status) */
    UPSTREAM_UNREACHABLE,  /* no connection could be made: nothing was sent */
    UPSTREAM_TIMEOUT,      /* the request went out, no full answer in time */
    UPSTREAM_FAILED,       /* the request went out, the exchange broke */
    UPSTREAM_TOO_BIG,      /* the answer exceeded the size limit */
    UPSTREAM_CIRCUIT_OPEN, /* every candidate URL's breaker is open */
    UPSTREAM_BAD_URL,      /* no usable http:// or https:// URL */
    UPSTREAM_CANCELLED,    /* the pool was freed first (shutdown): answer nothing */
    UPSTREAM_TLS_FAILED    /* https://: the TLS handshake failed (detail says why): nothing was sent */
} upstream_result;

/* Breaker settings shared by every pool; set before the workers start and
 * again on reload (any thread). failures: consecutive failures that open a
 * breaker (>= 1); cooldown_ms: time an open breaker refuses calls before
 * it lets one probe through. */
void upstream_breakers_configure(int failures, int cooldown_ms);

/* Frees the shared breaker table (at exit, after every pool is freed). */
void upstream_breakers_free(void);

/* "closed", "open" or "half-open" for url (closed when never seen). */
const char *upstream_breaker_state(const char *url);

/* Calls fn for every breaker known (URL and state), under the table's lock:
 * fn must not call back into this module. */
void upstream_breakers_foreach(void (*fn)(const char *url, const char *state, void *arg),
                               void *arg);

/*
 * https:// upstreams: the provider's certificate must chain to ca_file
 * (PEM) or, when NULL, to the system's store, and name the URL's host or
 * IP address; TLS 1.2 or later. Used by connections made afterwards (any
 * thread; without a call, the system's store). 0, or -1 with err.
 */
int upstream_tls_configure(const char *ca_file, char *err, size_t errlen);

/* Frees the TLS settings (at exit, after every pool is freed). */
void upstream_tls_free(void);

typedef struct upstream_pool upstream_pool;

/* A pool on base; max_body bounds a response body. Aborts when out of
 * memory. */
upstream_pool *upstream_pool_new(struct event_base *base, size_t max_body);

/* Closes every connection; calls still in flight get their callback with
 * UPSTREAM_CANCELLED (to free their state, not to answer). NULL is a
 * no-op. */
void upstream_pool_free(upstream_pool *p);

/* How a call ended. status and body are valid for UPSTREAM_OK only and only
 * during the callback (body is not NUL-terminated). attempts counts the
 * connections tried. */
typedef struct upstream_answer {
    upstream_result result;
    int status;
    const char *body;
    size_t len;
    int attempts;
    const char *url; /* the last URL tried (NULL when none) */
    const char *detail; /* UPSTREAM_TLS_FAILED: why, for the log (else NULL) */
    int batch; /* UPSTREAM_OK: the calls that went out in the same write (1: alone) */
} upstream_answer;

typedef void (*upstream_done_fn)(const upstream_answer *a, void *arg);

/* The largest batch of upstream_call. */
#define UPSTREAM_BATCH_MAX 32

/*
 * POSTs body with Content-Type content_type to the first URL of urls[0..n)
 * (n <= 8) whose breaker lets it through, starting at a rotating offset;
 * when the connection cannot be made it tries the next one, up to
 * 1 + retries attempts. timeout_ms bounds each attempt. done is called
 * exactly once, later, from the pool's loop (never from inside this call).
 * The URLs are read during the call only; body and content_type are not
 * copied: they must stay valid until done is called.
 *
 * batch (1..UPSTREAM_BATCH_MAX; 1 for none) lets calls to the same URL
 * that start in the same turn of the loop go out together, pipelined on
 * one connection in one write, up to batch calls: fewer writes, reads and
 * wake-ups on both sides, for an upstream that reads pipelined HTTP/1.1
 * requests. The calls of a batch are answered in order, so a slow answer
 * holds the ones behind it (each still ends at its own timeout). When the
 * connection breaks, a call of which nothing went out, or that follows an
 * answer saying "Connection: close", is started again; the others fail as
 * when they were alone.
 */
void upstream_call(upstream_pool *p, char *const *urls, int n, int timeout_ms, int retries,
                   int batch, const char *content_type, const char *body, size_t len,
                   upstream_done_fn done, void *arg);

#endif
