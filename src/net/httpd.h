/*
 * net/httpd.h - a multi-threaded HTTP/HTTPS server on libevent's evhttp:
 * N workers, each with its own event_base and evhttp, all accepting from
 * the same listening sockets; TLS through bufferevent_openssl with a
 * certificate that can be reloaded; a graceful drain. It knows nothing of
 * LD/T 6008: the daemon gives it one handler.
 *
 * Threads: httpd_new, httpd_listen, httpd_start, httpd_drain and
 * httpd_free belong to the owning (main) thread; httpd_set_tls and
 * httpd_set_body_limit may be called from it while workers run. The
 * handler runs on a worker thread and must answer with httpd_reply (on
 * the same worker, now or later from that worker's event loop), which is
 * how the drain knows what is still in flight.
 */
#ifndef HRSS_NET_HTTPD_H
#define HRSS_NET_HTTPD_H

#include <stddef.h>

#include <event2/event.h>
#include <event2/http.h>

#define HTTPD_MAX_LISTENERS 16
#define HTTPD_MAX_WORKERS 256
#define HTTPD_ERR_MAX 512

typedef struct httpd httpd;

/* Called for every complete request on worker `worker` (0-based). */
typedef void (*httpd_handler_fn)(struct evhttp_request *req, int worker, void *arg);

typedef struct httpd_options {
    int workers;          /* 1..HTTPD_MAX_WORKERS */
    size_t body_limit;    /* larger bodies: 413 from evhttp */
    int idle_timeout_sec; /* evhttp's read/write/keep-alive timeout */
    httpd_handler_fn handler;
    void *arg;
} httpd_options;

int httpd_new(const httpd_options *o, httpd **out, char err[HTTPD_ERR_MAX]);

/* Binds and listens on addr ("HOST:PORT", "[V6]:PORT", "*:PORT"; port 0
 * picks one) before httpd_start; tls selects the HTTPS listener (needs
 * httpd_set_tls before httpd_start). The bound address is written to
 * bound (e.g. "127.0.0.1:40123"). */
int httpd_listen(httpd *h, const char *addr, int tls, char *bound, size_t boundlen,
                 char err[HTTPD_ERR_MAX]);

/* Loads a certificate chain and key (PEM files) into a new TLS context
 * (TLS 1.2 and 1.3) used for connections accepted from now on; a failure
 * leaves the previous context in place. */
int httpd_set_tls(httpd *h, const char *cert_file, const char *key_file,
                  char err[HTTPD_ERR_MAX]);

/* Starts the worker threads. */
int httpd_start(httpd *h, char err[HTTPD_ERR_MAX]);

/* Changes the body limit for requests read from now on (each worker
 * applies it on its own thread). */
void httpd_set_body_limit(httpd *h, size_t limit);

/* Stops accepting, waits up to timeout_ms for requests in flight to be
 * answered, closes every connection, stops and joins the workers. Returns
 * the number of requests still unanswered when the time ran out. */
int httpd_drain(httpd *h, int timeout_ms);

/* 1 once httpd_drain began (any thread). */
int httpd_is_draining(const httpd *h);

/* Frees a server that was drained (or never started); NULL is a no-op. */
void httpd_free(httpd *h);

/* Answers req with status, an optional Content-Type and body (copied), and
 * counts it as no longer in flight. While draining it asks the client to
 * close the connection. Worker thread only. */
void httpd_reply(struct evhttp_request *req, int status, const char *content_type,
                 const char *body, size_t len);

#endif
