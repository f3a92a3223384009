/*
 * net/upstream.c - the upstream client of upstream.h on libevent's evhttp
 * client (evhttp_connection_base_new + evhttp_make_request).
 *
 * Why a pool of connections per URL and per worker: an evhttp_connection
 * carries one request at a time, so concurrency needs several; keeping
 * them per worker keeps every call on one thread without locks. A
 * connection is taken from the idle list for one attempt and put back
 * when the attempt ends, whatever the outcome: evhttp reconnects a
 * connection that was closed, and closes one the peer asked to close.
 *
 * Why attempts start from a zero-delay timer: evhttp may report a
 * connection refused from inside evhttp_make_request; starting from the
 * loop means the caller's callback never runs inside upstream_call.
 *
 * How "nothing reached the upstream" is told apart: when the connection
 * cannot be made, evhttp calls the request callback with the request and
 * response code 0 and no error callback; once connected, a failure goes
 * through the error callback first and the request callback gets NULL.
 *
 * The breakers are shared by every worker (a provider that fails fails for
 * all of them) in a small table under one mutex: two short lock holds per
 * attempt.
 */
#include "upstream.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#define IDLE_MAX 64 /* idle connections kept per URL and worker */
#define BREAKERS_MAX 4096

/* ---- breakers (any thread) ---- */

enum { BRK_CLOSED = 0, BRK_OPEN = 1, BRK_HALF_OPEN = 2 };

typedef struct breaker {
    char *url;
    int state;
    int failures; /* consecutive */
    int64_t opened_ms;
} breaker;

static pthread_mutex_t brk_mu = PTHREAD_MUTEX_INITIALIZER;
static breaker *brks;
static int n_brks, cap_brks;
static int brk_threshold = 5;
static int brk_cooldown_ms = 10000;

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL)
        abort(); /* the daemon's one out-of-memory policy (STYLE.md) */
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

void upstream_breakers_configure(int failures, int cooldown_ms)
{
    pthread_mutex_lock(&brk_mu);
    brk_threshold = failures < 1 ? 1 : failures;
    brk_cooldown_ms = cooldown_ms < 0 ? 0 : cooldown_ms;
    pthread_mutex_unlock(&brk_mu);
}

void upstream_breakers_free(void)
{
    pthread_mutex_lock(&brk_mu);
    for (int i = 0; i < n_brks; i++)
        free(brks[i].url);
    free(brks);
    brks = NULL;
    n_brks = cap_brks = 0;
    pthread_mutex_unlock(&brk_mu);
}

/* The breaker of url, created closed; NULL when the table is full (then
 * the URL has no breaker). Lock held. */
static breaker *breaker_find_locked(const char *url, int create)
{
    for (int i = 0; i < n_brks; i++)
        if (strcmp(brks[i].url, url) == 0)
            return &brks[i];
    if (!create || n_brks >= BREAKERS_MAX)
        return NULL;
    if (n_brks == cap_brks) {
        cap_brks = cap_brks ? cap_brks * 2 : 16;
        brks = realloc(brks, (size_t)cap_brks * sizeof(*brks));
        if (brks == NULL)
            abort();
    }
    breaker *b = &brks[n_brks++];
    memset(b, 0, sizeof(*b));
    b->url = xstrdup(url);
    return b;
}

/* 1 when a call to url may go ahead. An open breaker whose cool-down has
 * passed lets exactly one probe through (half-open) and refuses the rest
 * until the probe reports. */
static int breaker_admit(const char *url)
{
    int ok = 1;
    pthread_mutex_lock(&brk_mu);
    breaker *b = breaker_find_locked(url, 0);
    if (b != NULL && b->state == BRK_OPEN) {
        if (now_ms() - b->opened_ms >= brk_cooldown_ms)
            b->state = BRK_HALF_OPEN; /* this call is the probe */
        else
            ok = 0;
    } else if (b != NULL && b->state == BRK_HALF_OPEN) {
        ok = 0; /* a probe is out */
    }
    pthread_mutex_unlock(&brk_mu);
    return ok;
}

static void breaker_report(const char *url, int success)
{
    pthread_mutex_lock(&brk_mu);
    breaker *b = breaker_find_locked(url, !success);
    if (b != NULL && success) {
        b->state = BRK_CLOSED;
        b->failures = 0;
    } else if (b != NULL) {
        b->failures++;
        if (b->state == BRK_HALF_OPEN || b->failures >= brk_threshold) {
            b->state = BRK_OPEN;
            b->opened_ms = now_ms();
        }
    }
    pthread_mutex_unlock(&brk_mu);
}

static const char *const brk_names[] = {"closed", "open", "half-open"};

void upstream_breakers_foreach(void (*fn)(const char *url, const char *state, void *arg), void *arg)
{
    pthread_mutex_lock(&brk_mu);
    for (int i = 0; i < n_brks; i++)
        fn(brks[i].url, brk_names[brks[i].state], arg);
    pthread_mutex_unlock(&brk_mu);
}

const char *upstream_breaker_state(const char *url)
{
    int st = BRK_CLOSED;
    pthread_mutex_lock(&brk_mu);
    breaker *b = breaker_find_locked(url, 0);
    if (b != NULL)
        st = b->state;
    pthread_mutex_unlock(&brk_mu);
    return brk_names[st];
}

/* ---- pools (one worker) ---- */

typedef struct target {
    char *url;
    char *host;
    int port;
    char *path; /* path and query sent in the request line */
    char *hostport; /* the Host header */
    struct evhttp_connection *idle[IDLE_MAX];
    int n_idle;
} target;

typedef struct call call;

struct upstream_pool {
    struct event_base *base;
    size_t max_body;
    target *targets;
    int n_targets, cap_targets;
    call *calls;                      /* in flight, doubly linked */
    struct evhttp_connection **spare; /* surplus connections to free later */
    int n_spare, cap_spare;
    unsigned rotor;
};

struct call {
    upstream_pool *pool;
    call *prev, *next;
    char **urls;
    int n_urls;
    int next_url; /* index into urls of the next candidate */
    int timeout_ms;
    int attempts_left;
    int attempts;
    char *content_type;
    char *body;
    size_t len;
    upstream_done_fn done;
    void *arg;
    struct event kick; /* made runnable (event_active) to start an attempt */
    target *t;          /* of the attempt in progress */
    struct evhttp_connection *conn;
    int error_seen;
    enum evhttp_request_error error;
};

static void finish(call *c, upstream_result r, int status, const char *body, size_t len);

upstream_pool *upstream_pool_new(struct event_base *base, size_t max_body)
{
    upstream_pool *p = xmalloc(sizeof(*p));
    memset(p, 0, sizeof(*p));
    p->base = base;
    p->max_body = max_body;
    return p;
}

static void spare_add(upstream_pool *p, struct evhttp_connection *c)
{
    if (p->n_spare == p->cap_spare) {
        p->cap_spare = p->cap_spare ? p->cap_spare * 2 : 8;
        p->spare = realloc(p->spare, (size_t)p->cap_spare * sizeof(*p->spare));
        if (p->spare == NULL)
            abort();
    }
    p->spare[p->n_spare++] = c;
}

/* Frees surplus connections; called where no evhttp callback is running. */
static void spare_free(upstream_pool *p)
{
    for (int i = 0; i < p->n_spare; i++)
        evhttp_connection_free(p->spare[i]);
    p->n_spare = 0;
}

static void call_free(call *c)
{
    upstream_pool *p = c->pool;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        p->calls = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    for (int i = 0; i < c->n_urls; i++)
        free(c->urls[i]);
    free(c->urls);
    free(c->content_type);
    free(c->body);
    if (event_initialized(&c->kick))
        event_del(&c->kick);
    free(c);
}

void upstream_pool_free(upstream_pool *p)
{
    if (p == NULL)
        return;
    while (p->calls != NULL) {
        call *c = p->calls;
        if (c->conn != NULL)
            evhttp_connection_free(c->conn); /* drops its request, no callback */
        c->conn = NULL;
        finish(c, UPSTREAM_CANCELLED, 0, NULL, 0);
    }
    for (int i = 0; i < p->n_targets; i++) {
        target *t = &p->targets[i];
        for (int j = 0; j < t->n_idle; j++)
            evhttp_connection_free(t->idle[j]);
        free(t->url);
        free(t->host);
        free(t->path);
        free(t->hostport);
    }
    spare_free(p);
    free(p->spare);
    free(p->targets);
    free(p);
}

/* The pool's entry for url, parsed on first use; NULL when it is not an
 * http:// URL with a host. */
static target *target_get(upstream_pool *p, const char *url)
{
    for (int i = 0; i < p->n_targets; i++)
        if (strcmp(p->targets[i].url, url) == 0)
            return &p->targets[i];
    struct evhttp_uri *u = evhttp_uri_parse(url);
    target *t = NULL;
    const char *scheme = u ? evhttp_uri_get_scheme(u) : NULL;
    const char *host = u ? evhttp_uri_get_host(u) : NULL;
    if (scheme == NULL || strcmp(scheme, "http") != 0 || host == NULL || host[0] == '\0')
        goto done;
    if (p->n_targets == p->cap_targets) {
        p->cap_targets = p->cap_targets ? p->cap_targets * 2 : 8;
        p->targets = realloc(p->targets, (size_t)p->cap_targets * sizeof(*p->targets));
        if (p->targets == NULL)
            abort();
    }
    t = &p->targets[p->n_targets++];
    memset(t, 0, sizeof(*t));
    t->url = xstrdup(url);
    t->host = xstrdup(host);
    t->port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : 80;
    const char *path = evhttp_uri_get_path(u);
    const char *query = evhttp_uri_get_query(u);
    size_t n = strlen(path ? path : "") + strlen(query ? query : "") + 3;
    t->path = xmalloc(n);
    snprintf(t->path, n, "%s%s%s", path && path[0] ? path : "/", query ? "?" : "",
             query ? query : "");
    n = strlen(t->host) + 16;
    t->hostport = xmalloc(n);
    snprintf(t->hostport, n, "%s:%d", t->host, t->port);
done:
    if (u != NULL)
        evhttp_uri_free(u);
    return t;
}

static void finish(call *c, upstream_result r, int status, const char *body, size_t len)
{
    upstream_answer a = {r, status, body, len, c->attempts, c->t ? c->t->url : NULL};
    c->done(&a, c->arg);
    call_free(c);
}

static void give_back(call *c)
{
    target *t = c->t;
    if (c->conn == NULL)
        return;
    if (t->n_idle < IDLE_MAX)
        t->idle[t->n_idle++] = c->conn;
    else
        spare_add(c->pool, c->conn); /* not freed inside its own callback */
    c->conn = NULL;
}

static void on_error(enum evhttp_request_error e, void *arg)
{
    call *c = arg;
    c->error_seen = 1;
    c->error = e;
}

static void schedule_attempt(call *c)
{
    event_active(&c->kick, EV_TIMEOUT, 1);
}

static void on_response(struct evhttp_request *req, void *arg)
{
    call *c = arg;
    int status = req ? evhttp_request_get_response_code(req) : 0;
    give_back(c);
    if (!c->error_seen && req != NULL && status == 0) {
        /* the connection could not be made: nothing reached the upstream */
        breaker_report(c->t->url, 0);
        if (c->attempts_left > 0) {
            schedule_attempt(c);
            return;
        }
        finish(c, UPSTREAM_UNREACHABLE, 0, NULL, 0);
        return;
    }
    if (c->error_seen || req == NULL) {
        breaker_report(c->t->url, 0);
        finish(c,
               c->error == EVREQ_HTTP_TIMEOUT         ? UPSTREAM_TIMEOUT
               : c->error == EVREQ_HTTP_DATA_TOO_LONG ? UPSTREAM_TOO_BIG
                                                      : UPSTREAM_FAILED,
               0, NULL, 0);
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *body = len ? (const char *)evbuffer_pullup(in, -1) : "";
    breaker_report(c->t->url, status < 500);
    finish(c, UPSTREAM_OK, status, body, len);
}

/* Starts the next attempt on the first admitted candidate URL. */
static void attempt(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    call *c = arg;
    upstream_pool *p = c->pool;
    target *t = NULL;
    int usable = 0;
    spare_free(p);
    for (int i = 0; i < c->n_urls && t == NULL; i++) {
        const char *url = c->urls[c->next_url];
        c->next_url = (c->next_url + 1) % c->n_urls;
        target *cand = target_get(p, url);
        if (cand == NULL)
            continue;
        usable = 1;
        if (breaker_admit(url))
            t = cand;
    }
    if (t == NULL) {
        finish(c, usable ? UPSTREAM_CIRCUIT_OPEN : UPSTREAM_BAD_URL, 0, NULL, 0);
        return;
    }
    c->t = t;
    c->attempts++;
    c->attempts_left--;
    c->error_seen = 0;
    c->conn = t->n_idle > 0
                  ? t->idle[--t->n_idle]
                  : evhttp_connection_base_new(p->base, NULL, t->host, (ev_uint16_t)t->port);
    if (c->conn == NULL)
        abort();
    struct timeval tv = {c->timeout_ms / 1000, (c->timeout_ms % 1000) * 1000};
    evhttp_connection_set_timeout_tv(c->conn, &tv);
    evhttp_connection_set_max_body_size(c->conn, (ev_ssize_t)p->max_body);
    struct evhttp_request *req = evhttp_request_new(on_response, c);
    if (req == NULL)
        abort();
    evhttp_request_set_error_cb(req, on_error);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", t->hostport);
    evhttp_add_header(h, "Content-Type", c->content_type);
    evbuffer_add(evhttp_request_get_output_buffer(req), c->body, c->len);
    /* after this call c may be gone: a refused connection can answer at once */
    struct evhttp_connection *conn = c->conn;
    if (evhttp_make_request(conn, req, EVHTTP_REQ_POST, t->path) != 0) {
        evhttp_request_free(req);
        breaker_report(t->url, 0);
        give_back(c);
        finish(c, UPSTREAM_UNREACHABLE, 0, NULL, 0);
        return;
    }
    /* a new (or re-made) connection's socket exists once the request is
     * queued: the request goes out in one write, Nagle would only hold it */
    evutil_socket_t sock = bufferevent_getfd(evhttp_connection_get_bufferevent(conn));
    int one = 1;
    if (sock >= 0)
        (void)setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void upstream_call(upstream_pool *p, char *const *urls, int n, int timeout_ms, int retries,
                   const char *content_type, const char *body, size_t len, upstream_done_fn done,
                   void *arg)
{
    call *c = xmalloc(sizeof(*c));
    memset(c, 0, sizeof(*c));
    c->pool = p;
    c->next = p->calls;
    if (p->calls != NULL)
        p->calls->prev = c;
    p->calls = c;
    c->n_urls = n;
    c->urls = xmalloc((size_t)(n > 0 ? n : 1) * sizeof(char *));
    for (int i = 0; i < n; i++)
        c->urls[i] = xstrdup(urls[i]);
    c->next_url = n > 0 ? (int)(p->rotor++ % (unsigned)n) : 0;
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    c->attempts_left = 1 + (retries > 0 ? retries : 0);
    c->content_type = xstrdup(content_type);
    c->body = xmalloc(len ? len : 1);
    if (len > 0)
        memcpy(c->body, body, len);
    c->len = len;
    c->done = done;
    c->arg = arg;
    if (event_assign(&c->kick, p->base, -1, 0, attempt, c) != 0)
        abort();
    schedule_attempt(c);
}
