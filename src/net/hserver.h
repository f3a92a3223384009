/*
 * net/hserver.h - a multi-threaded HTTP/1.1 and HTTPS server for a hot
 * request path: N workers, each with its own event_base, all accepting
 * from the same listening sockets; requests parsed by net/http1.c straight
 * from a per-connection buffer that is kept between requests; keep-alive,
 * Content-Length and chunked bodies, pipelined requests answered in order,
 * limits on the head and the body answered with a JSON error, a read
 * timeout, TLS with a certificate that can be reloaded, a graceful drain.
 * It knows nothing of LD/T 6008: the daemon gives it one handler.
 *
 * Life cycle: hserver_new, hserver_listen, hserver_start, hserver_drain
 * and hserver_free belong to the owning (main) thread;
 * hserver_set_tls and hserver_set_body_limit may be called from it while
 * workers run. The handler runs on a worker thread and must answer with
 * hserver_reply, now or later from that worker's event loop.
 */
#ifndef HRSS_NET_HSERVER_H
#define HRSS_NET_HSERVER_H

#include <stddef.h>

#include <event2/event.h>
#include <sys/socket.h>

#include "http1.h"

#define HSERVER_MAX_LISTENERS 16
#define HSERVER_MAX_WORKERS 256
#define HSERVER_ERR_MAX 512
#define HSERVER_MAX_HEAD (16 * 1024)

typedef struct hserver hserver;

/* One request; valid from the handler until hserver_reply. */
typedef struct hserver_req hserver_req;

/* Called for every complete request on worker `worker` (0-based). */
typedef void (*hserver_handler_fn)(hserver_req *req, int worker, void *arg);

typedef struct hserver_options {
    int workers;          /* 1..HSERVER_MAX_WORKERS */
    size_t body_limit;    /* larger bodies: 413 with a JSON error */
    int idle_timeout_sec; /* keep-alive, read and write timeout of a connection */
    hserver_handler_fn handler;
    void *arg;
} hserver_options;

int hserver_new(const hserver_options *o, hserver **out, char err[HSERVER_ERR_MAX]);

/* Binds and listens on addr ("HOST:PORT", "[V6]:PORT", "*:PORT"; port 0
 * picks one) before hserver_start; tls selects the HTTPS listener (needs
 * hserver_set_tls before hserver_start). The bound address is written to
 * bound (e.g. "127.0.0.1:40123"). */
int hserver_listen(hserver *h, const char *addr, int tls, char *bound, size_t boundlen,
                   char err[HSERVER_ERR_MAX]);

/* Loads a certificate chain and key (PEM files) into a new TLS context
 * (TLS 1.2 and 1.3) used for connections accepted from now on; a failure
 * leaves the previous context in place. */
int hserver_set_tls(hserver *h, const char *cert_file, const char *key_file,
                    char err[HSERVER_ERR_MAX]);

int hserver_start(hserver *h, char err[HSERVER_ERR_MAX]);

/* Changes the body limit for requests read from now on. */
void hserver_set_body_limit(hserver *h, size_t limit);

/* Stops accepting, waits up to timeout_ms for requests in flight to be
 * answered, closes every connection, stops and joins the workers. Returns
 * the number of requests still unanswered when the time ran out. */
int hserver_drain(hserver *h, int timeout_ms);

/* 1 once hserver_drain began (any thread). */
int hserver_is_draining(const hserver *h);

/* Frees a server that was drained (or never started); NULL is a no-op. */
void hserver_free(hserver *h);

/* The event loop of worker idx (for work done on its thread). */
struct event_base *hserver_worker_base(hserver *h, int idx);

/* ---- the request (worker thread, until hserver_reply) ---- */

int hserver_req_method(const hserver_req *r); /* enum http1_method */
/* The path without the query, NUL-terminated. */
const char *hserver_req_path(const hserver_req *r);
/* The body as received (chunked bodies decoded); not NUL-terminated. */
const char *hserver_req_body(const hserver_req *r, size_t *len);
/* The peer's address, and as text ("127.0.0.1", "::1"). */
const struct sockaddr *hserver_req_peer(const hserver_req *r);
const char *hserver_req_peer_text(const hserver_req *r);
/* The value of the first header field called name (any case), without
 * the whitespace around it, not NUL-terminated; NULL when absent. */
const char *hserver_req_header(const hserver_req *r, const char *name, size_t *len);
/* The event loop the request is on. */
struct event_base *hserver_req_base(const hserver_req *r);

/* Answers with status, an optional Content-Type and body (not kept after
 * the call). After it, the request is gone. While draining, the response
 * asks the client to close the connection. Worker thread only. */
void hserver_reply(hserver_req *r, int status, const char *content_type, const char *body,
                   size_t len);

#endif
