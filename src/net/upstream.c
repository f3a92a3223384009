/*
 * net/upstream.c - the upstream client of upstream.h: HTTP/1.1 over raw
 * non-blocking sockets on the worker's event_base, heads parsed by
 * net/http1.c.
 *
 * Why a pool of connections per URL and per worker: a connection carries
 * one request at a time, so concurrency needs several; keeping them per
 * worker keeps every call on one thread without locks. A connection is
 * taken from the idle list for one attempt and put back when a complete
 * answer arrived on it and it may carry another; anything else closes it.
 * An idle connection keeps its read event registered, which both notices
 * a provider that closes it and, once it is in use, reads the answer: the
 * event is not toggled per call. Connections, calls and their buffers are
 * kept and reused; a call copies neither the URLs nor the body.
 *
 * Why attempts start from the loop (a zero-delay activation): the caller's
 * callback then never runs inside upstream_call, even when a connection is
 * refused at once.
 *
 * "Nothing reached the upstream" (the only case that is retried, on the
 * next URL) is a connection that could not be made. A kept connection that
 * turns out closed when the request is written to it is replaced by a new
 * one within the same attempt: the provider got nothing.
 *
 * The breakers are shared by every worker (a provider that fails fails for
 * all of them) in a small table under one mutex: two short lock holds per
 * attempt.
 */
#include "upstream.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "http1.h"

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

#define HEAD_MAX (16 * 1024)  /* a response head */
#define BUF_INITIAL 4096
#define BUF_KEEP_MAX (64 * 1024) /* larger buffers are freed after a call */
#define FREE_CALLS_MAX 256

enum { U_IDLE, U_CONNECTING, U_SENDING, U_RECEIVING };

typedef struct uconn uconn;
typedef struct call call;

typedef struct target {
    char *url;
    uint32_t hash;
    char *host;
    char port[8];
    char *path;     /* path and query sent in the request line */
    char *hostport; /* the Host header */
    char *line;     /* "POST path HTTP/1.1\r\nHost: hostport\r\n" */
    size_t line_len;
    struct sockaddr_storage addr;
    socklen_t addrlen; /* 0: to resolve */
    uconn *idle[IDLE_MAX];
    int n_idle;
} target;

struct uconn {
    upstream_pool *p;
    target *t;
    int fd;
    int state;
    int reused; /* carried an earlier call */
    struct event ev;  /* read, persistent */
    struct event wev; /* connect and writes that did not go out whole */
    char *buf;
    size_t len, cap;
    call *c;
    size_t sent;
};

struct upstream_pool {
    struct event_base *base;
    size_t max_body;
    target **targets;
    int n_targets, cap_targets;
    call *calls;      /* in flight, doubly linked */
    call *free_calls; /* kept for reuse */
    int n_free_calls;
    uconn *spare;     /* closed connections to free outside their callbacks */
    unsigned rotor;
};

struct call {
    upstream_pool *pool;
    call *prev, *next;
    target *cand[8];       /* parsed candidates; NULL: not a usable URL */
    int n_urls;
    int next_url;
    int timeout_ms;
    int attempts_left;
    int attempts;
    const char *content_type;
    const char *body;
    size_t len;
    upstream_done_fn done;
    void *arg;
    struct event kick;  /* made active to start an attempt */
    struct event timer; /* the attempt's deadline */
    target *t;          /* of the attempt in progress */
    uconn *conn;
    char head[1024];
    size_t head_len;
};

static void on_conn_read(evutil_socket_t fd, short what, void *arg);
static void on_conn_write(evutil_socket_t fd, short what, void *arg);
static void attempt(evutil_socket_t fd, short what, void *arg);

upstream_pool *upstream_pool_new(struct event_base *base, size_t max_body)
{
    upstream_pool *p = xmalloc(sizeof(*p));
    memset(p, 0, sizeof(*p));
    p->base = base;
    p->max_body = max_body;
    return p;
}

static void uconn_close(uconn *u)
{
    if (u->fd >= 0) {
        event_del(&u->ev);
        event_del(&u->wev);
        close(u->fd);
        u->fd = -1;
    }
    free(u->buf);
    free(u);
}

static void spare_free(upstream_pool *p)
{
    while (p->spare != NULL) {
        uconn *u = p->spare;
        p->spare = (uconn *)u->c; /* the spare list is chained through c */
        u->c = NULL;
        uconn_close(u);
    }
}

/* Closes u now and frees it later: it may be inside its own callback. */
static void uconn_drop(uconn *u)
{
    if (u->fd >= 0) {
        event_del(&u->ev);
        event_del(&u->wev);
        close(u->fd);
        u->fd = -1;
    }
    u->c = (call *)u->p->spare;
    u->p->spare = u;
}

static void idle_remove(target *t, uconn *u)
{
    for (int i = 0; i < t->n_idle; i++)
        if (t->idle[i] == u) {
            t->idle[i] = t->idle[--t->n_idle];
            return;
        }
}

static void call_release(call *c)
{
    upstream_pool *p = c->pool;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        p->calls = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    event_del(&c->kick);
    event_del(&c->timer);
    if (p->n_free_calls < FREE_CALLS_MAX) {
        c->next = p->free_calls;
        p->free_calls = c;
        p->n_free_calls++;
    } else {
        free(c);
    }
}

static void finish(call *c, upstream_result r, int status, const char *body, size_t len)
{
    upstream_answer a = {r, status, body, len, c->attempts, c->t ? c->t->url : NULL};
    c->done(&a, c->arg);
    call_release(c);
}

void upstream_pool_free(upstream_pool *p)
{
    if (p == NULL)
        return;
    while (p->calls != NULL) {
        call *c = p->calls;
        if (c->conn != NULL)
            uconn_drop(c->conn);
        c->conn = NULL;
        finish(c, UPSTREAM_CANCELLED, 0, NULL, 0);
    }
    for (int i = 0; i < p->n_targets; i++) {
        target *t = p->targets[i];
        for (int j = 0; j < t->n_idle; j++)
            uconn_close(t->idle[j]);
        free(t->url);
        free(t->host);
        free(t->path);
        free(t->hostport);
        free(t->line);
        free(t);
    }
    spare_free(p);
    while (p->free_calls != NULL) {
        call *c = p->free_calls;
        p->free_calls = c->next;
        free(c);
    }
    free(p->targets);
    free(p);
}

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Splits "http://host[:port][/path][?query]" ("[v6]" hosts too). 0 or -1. */
static int parse_url(const char *url, target *t)
{
    const char *s = url;
    if (strncmp(s, "http://", 7) != 0)
        return -1;
    s += 7;
    const char *hs = s, *he;
    if (*s == '[') {
        he = strchr(s, ']');
        if (he == NULL)
            return -1;
        hs = s + 1;
        s = he + 1;
    } else {
        s += strcspn(s, ":/?#");
        he = s;
    }
    if (he == hs)
        return -1;
    const char *port = "80";
    size_t port_len = 2;
    if (*s == ':') {
        port = ++s;
        port_len = strspn(s, "0123456789");
        long v = 0;
        for (size_t i = 0; i < port_len && i < 6; i++)
            v = v * 10 + (s[i] - '0');
        if (port_len == 0 || port_len > 5 || v < 1 || v > 65535)
            return -1;
        s += port_len;
    }
    if (*s != '\0' && *s != '/' && *s != '?' && *s != '#')
        return -1;
    size_t path_len = strcspn(s, "#");
    t->host = xmalloc((size_t)(he - hs) + 1);
    memcpy(t->host, hs, (size_t)(he - hs));
    t->host[he - hs] = '\0';
    memcpy(t->port, port, port_len);
    t->port[port_len] = '\0';
    t->path = xmalloc(path_len + 2);
    if (path_len == 0 || s[0] == '?')
        t->path[0] = '/', memcpy(t->path + 1, s, path_len), t->path[path_len + 1] = '\0';
    else
        memcpy(t->path, s, path_len), t->path[path_len] = '\0';
    size_t n = strlen(t->host) + 16;
    t->hostport = xmalloc(n);
    snprintf(t->hostport, n, strchr(t->host, ':') ? "[%s]:%s" : "%s:%s", t->host, t->port);
    return 0;
}

/* The pool's entry for url, parsed on first use; NULL when it is not an
 * http:// URL with a host. */
static target *target_get(upstream_pool *p, const char *url)
{
    uint32_t h = hash_str(url);
    for (int i = 0; i < p->n_targets; i++)
        if (p->targets[i]->hash == h && strcmp(p->targets[i]->url, url) == 0)
            return p->targets[i];
    target *t = xmalloc(sizeof(*t));
    memset(t, 0, sizeof(*t));
    if (parse_url(url, t) != 0) {
        free(t->host);
        free(t->path);
        free(t);
        return NULL;
    }
    t->url = xstrdup(url);
    t->hash = h;
    size_t n = strlen(t->path) + strlen(t->hostport) + 32;
    t->line = xmalloc(n);
    int k = snprintf(t->line, n, "POST %s HTTP/1.1\r\nHost: %s\r\n", t->path, t->hostport);
    t->line_len = k > 0 ? (size_t)k : 0;
    if (p->n_targets == p->cap_targets) {
        p->cap_targets = p->cap_targets ? p->cap_targets * 2 : 8;
        p->targets = realloc(p->targets, (size_t)p->cap_targets * sizeof(*p->targets));
        if (p->targets == NULL)
            abort();
    }
    p->targets[p->n_targets++] = t;
    return t;
}

/* The target's address (first of getaddrinfo; names are looked up again
 * after a connection to them failed). 0 or -1. */
static int target_resolve(target *t)
{
    struct addrinfo hints = {0}, *res = NULL;
    if (t->addrlen > 0)
        return 0;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(t->host, t->port, &hints, &res) != 0 || res == NULL)
        return -1;
    memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
    t->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static void schedule_attempt(call *c)
{
    event_active(&c->kick, EV_TIMEOUT, 1);
}

/* The attempt failed before anything reached the upstream. */
static void attempt_unreachable(call *c)
{
    c->t->addrlen = 0; /* look the name up again next time */
    breaker_report(c->t->url, 0);
    if (c->attempts_left > 0) {
        event_del(&c->timer);
        schedule_attempt(c);
        return;
    }
    finish(c, UPSTREAM_UNREACHABLE, 0, NULL, 0);
}

/* The attempt failed after the request (or part of it) went out. */
static void attempt_failed(call *c, upstream_result r)
{
    breaker_report(c->t->url, 0);
    finish(c, r, 0, NULL, 0);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    call *c = arg;
    uconn *u = c->conn;
    int connecting = u != NULL && u->state == U_CONNECTING;
    if (u != NULL) {
        u->c = NULL;
        uconn_drop(u); /* an answer may still come: not reusable */
    }
    c->conn = NULL;
    if (connecting)
        attempt_unreachable(c);
    else
        attempt_failed(c, UPSTREAM_TIMEOUT);
}

/* Writes what is left of the request. 0 sent or waiting, -1 error. */
static int send_request(uconn *u)
{
    call *c = u->c;
    size_t total = c->head_len + c->len;
    while (u->sent < total) {
        struct iovec iov[2];
        int n = 0;
        if (u->sent < c->head_len) {
            iov[n].iov_base = c->head + u->sent;
            iov[n++].iov_len = c->head_len - u->sent;
            if (c->len > 0) {
                iov[n].iov_base = (void *)c->body;
                iov[n++].iov_len = c->len;
            }
        } else {
            iov[n].iov_base = (void *)(c->body + (u->sent - c->head_len));
            iov[n++].iov_len = total - u->sent;
        }
        ssize_t k = writev(u->fd, iov, n);
        if (k > 0) {
            u->sent += (size_t)k;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (event_add(&u->wev, NULL) != 0)
                abort();
            return 0;
        }
        return -1;
    }
    u->state = U_RECEIVING;
    return 0;
}

static uconn *uconn_connect(upstream_pool *p, target *t)
{
    if (target_resolve(t) != 0)
        return NULL;
    int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    int one = 1;
    /* a request goes out in one write: Nagle would only hold it */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rc = connect(fd, (const struct sockaddr *)&t->addr, t->addrlen);
    if (rc != 0 && errno != EINPROGRESS) {
        close(fd);
        return NULL;
    }
    uconn *u = xmalloc(sizeof(*u));
    memset(u, 0, sizeof(*u));
    u->p = p;
    u->t = t;
    u->fd = fd;
    u->state = rc == 0 ? U_SENDING : U_CONNECTING;
    if (event_assign(&u->ev, p->base, fd, EV_READ | EV_PERSIST, on_conn_read, u) != 0 ||
        event_assign(&u->wev, p->base, fd, EV_WRITE, on_conn_write, u) != 0 ||
        event_add(&u->ev, NULL) != 0 || (rc != 0 && event_add(&u->wev, NULL) != 0))
        abort();
    return u;
}

/* Sends c on u (connected) or waits for the connection. */
static void start_on(call *c, uconn *u)
{
    c->conn = u;
    u->c = c;
    u->sent = 0;
    u->len = 0;
    if (u->state == U_CONNECTING)
        return;
    u->state = U_SENDING;
    if (send_request(u) != 0) {
        int reused = u->reused;
        u->c = NULL;
        uconn_drop(u);
        c->conn = NULL;
        if (reused) { /* a kept connection the provider had closed: a new one */
            uconn *n = uconn_connect(c->pool, c->t);
            if (n != NULL) {
                start_on(c, n);
                return;
            }
        }
        attempt_unreachable(c);
    }
}

/* The request head in c->head (head_len 0 when it does not fit), from
 * the target's request line without the format machinery: this runs for
 * every call. */
static void build_head(call *c, target *t)
{
    char num[24];
    int nd = 0;
    size_t v = c->len, ct = strlen(c->content_type);
    do
        num[nd++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    static const char a[] = "Content-Type: ", b[] = "\r\nContent-Length: ", e[] = "\r\n\r\n";
    size_t need = t->line_len + sizeof(a) - 1 + ct + sizeof(b) - 1 + (size_t)nd + sizeof(e) - 1;
    c->head_len = 0;
    if (need > sizeof(c->head))
        return;
    char *p = c->head;
    memcpy(p, t->line, t->line_len);
    p += t->line_len;
    memcpy(p, a, sizeof(a) - 1);
    p += sizeof(a) - 1;
    memcpy(p, c->content_type, ct);
    p += ct;
    memcpy(p, b, sizeof(b) - 1);
    p += sizeof(b) - 1;
    while (nd > 0)
        *p++ = num[--nd];
    memcpy(p, e, sizeof(e) - 1);
    p += sizeof(e) - 1;
    c->head_len = (size_t)(p - c->head);
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
        target *cand = c->cand[c->next_url];
        c->next_url = (c->next_url + 1) % c->n_urls;
        if (cand == NULL)
            continue;
        usable = 1;
        if (breaker_admit(cand->url))
            t = cand;
    }
    if (t == NULL) {
        finish(c, usable ? UPSTREAM_CIRCUIT_OPEN : UPSTREAM_BAD_URL, 0, NULL, 0);
        return;
    }
    if (c->t != t || c->head_len == 0)
        build_head(c, t);
    c->t = t;
    c->attempts++;
    c->attempts_left--;
    if (c->head_len == 0) { /* a path too long for a request line */
        finish(c, UPSTREAM_BAD_URL, 0, NULL, 0);
        return;
    }
    struct timeval tv = {c->timeout_ms / 1000, (c->timeout_ms % 1000) * 1000};
    if (event_add(&c->timer, &tv) != 0)
        abort();
    uconn *u = t->n_idle > 0 ? t->idle[--t->n_idle] : uconn_connect(p, t);
    if (u == NULL) {
        attempt_unreachable(c);
        return;
    }
    start_on(c, u);
}

static void on_conn_write(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    uconn *u = arg;
    call *c = u->c;
    if (c == NULL)
        return;
    if (u->state == U_CONNECTING) {
        int e = 0;
        socklen_t el = sizeof(e);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e != 0) {
            u->c = NULL;
            uconn_drop(u);
            c->conn = NULL;
            attempt_unreachable(c);
            return;
        }
        u->state = U_SENDING;
    }
    if (u->state == U_SENDING && send_request(u) != 0) {
        size_t sent = u->sent;
        u->c = NULL;
        uconn_drop(u);
        c->conn = NULL;
        if (sent == 0)
            attempt_unreachable(c);
        else
            attempt_failed(c, UPSTREAM_FAILED);
    }
}

/* A complete answer is in u->buf: hand it over, then keep or close u. */
static void deliver(uconn *u, call *c, int status, size_t body_off, size_t body_len, int keep)
{
    target *t = u->t;
    event_del(&c->timer);
    c->conn = NULL;
    u->c = NULL;
    breaker_report(t->url, status < 500);
    /* idle before the callback, which may start a call (from the loop,
     * later: the body stays where it is until the callback returns) */
    keep = keep && t->n_idle < IDLE_MAX && u->fd >= 0;
    if (keep) {
        u->state = U_IDLE;
        u->reused = 1;
        u->len = 0;
        t->idle[t->n_idle++] = u;
    }
    finish(c, UPSTREAM_OK, status, u->buf + body_off, body_len);
    if (!keep) {
        uconn_drop(u);
    } else if (u->cap > BUF_KEEP_MAX) {
        free(u->buf);
        u->buf = NULL;
        u->cap = 0;
    }
}

/* Looks at what was received. eof: the provider closed. */
static void parse_answer(uconn *u, int eof)
{
    call *c = u->c;
    http1_response r;
    for (;;) {
        int rc = http1_parse_response(u->buf, u->len, HEAD_MAX, &r);
        if (rc == HTTP1_MORE) {
            if (!eof)
                return;
            break;
        }
        if (rc < 0)
            break;
        size_t head = (size_t)rc;
        if (r.status < 200) { /* 1xx: an interim answer, the real one follows */
            memmove(u->buf, u->buf + head, u->len - head);
            u->len -= head;
            continue;
        }
        size_t have = u->len - head;
        if (r.chunked) {
            size_t blen = 0;
            long used = http1_dechunk(u->buf + head, have, c->pool->max_body, &blen);
            if (used < 0) {
                u->c = NULL;
                c->conn = NULL;
                uconn_drop(u);
                attempt_failed(c, have > c->pool->max_body ? UPSTREAM_TOO_BIG : UPSTREAM_FAILED);
                return;
            }
            if (used == 0) {
                if (!eof)
                    return;
                break;
            }
            deliver(u, c, r.status, head, blen, r.keep_alive && !eof && (size_t)used == have);
            return;
        }
        if (r.has_length) {
            if (r.content_length > c->pool->max_body) {
                u->c = NULL;
                c->conn = NULL;
                uconn_drop(u);
                attempt_failed(c, UPSTREAM_TOO_BIG);
                return;
            }
            if (have < r.content_length) {
                if (!eof)
                    return;
                break;
            }
            deliver(u, c, r.status, head, (size_t)r.content_length,
                    r.keep_alive && !eof && have == r.content_length);
            return;
        }
        /* delimited by the close */
        if (have > c->pool->max_body) {
            u->c = NULL;
            c->conn = NULL;
            uconn_drop(u);
            attempt_failed(c, UPSTREAM_TOO_BIG);
            return;
        }
        if (!eof)
            return;
        deliver(u, c, r.status, head, have, 0);
        return;
    }
    /* malformed, or closed before the answer was complete */
    u->c = NULL;
    c->conn = NULL;
    uconn_drop(u);
    attempt_failed(c, UPSTREAM_FAILED);
}

static void on_conn_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    uconn *u = arg;
    call *c = u->c;
    if (c == NULL || u->state == U_IDLE) {
        /* idle: the provider closed it (or sent what nobody asked for) */
        if (u->state == U_IDLE)
            idle_remove(u->t, u);
        uconn_drop(u);
        return;
    }
    if (u->state == U_CONNECTING) {
        on_conn_write(fd, EV_WRITE, u); /* a refused connect shows as readable too */
        return;
    }
    size_t limit = HEAD_MAX + 2 * c->pool->max_body + BUF_INITIAL;
    for (;;) {
        if (u->cap - u->len < 1024) {
            if (u->cap >= limit) {
                u->c = NULL;
                c->conn = NULL;
                uconn_drop(u);
                attempt_failed(c, UPSTREAM_TOO_BIG);
                return;
            }
            u->cap = u->cap ? u->cap * 2 : BUF_INITIAL;
            u->buf = realloc(u->buf, u->cap);
            if (u->buf == NULL)
                abort();
        }
        size_t room = u->cap - u->len;
        ssize_t n = read(fd, u->buf + u->len, room);
        if (n > 0) {
            u->len += (size_t)n;
            if ((size_t)n == room)
                continue;
            parse_answer(u, 0);
            return;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        /* closed or reset */
        if (u->len == 0 && u->reused && u->state == U_SENDING) {
            /* a kept connection closed before it took the request */
            u->c = NULL;
            c->conn = NULL;
            uconn_drop(u);
            uconn *nu = uconn_connect(c->pool, c->t);
            if (nu == NULL)
                attempt_unreachable(c);
            else
                start_on(c, nu);
            return;
        }
        if (n < 0) {
            u->c = NULL;
            c->conn = NULL;
            uconn_drop(u);
            attempt_failed(c, UPSTREAM_FAILED);
            return;
        }
        parse_answer(u, 1);
        return;
    }
}

void upstream_call(upstream_pool *p, char *const *urls, int n, int timeout_ms, int retries,
                   const char *content_type, const char *body, size_t len, upstream_done_fn done,
                   void *arg)
{
    call *c = p->free_calls;
    if (c != NULL) {
        p->free_calls = c->next;
        p->n_free_calls--;
    } else {
        c = xmalloc(sizeof(*c));
    }
    memset(c, 0, offsetof(call, head));
    c->pool = p;
    c->next = p->calls;
    if (p->calls != NULL)
        p->calls->prev = c;
    p->calls = c;
    if (n > (int)(sizeof(c->cand) / sizeof(c->cand[0])))
        n = (int)(sizeof(c->cand) / sizeof(c->cand[0]));
    c->n_urls = n > 0 ? n : 0;
    for (int i = 0; i < c->n_urls; i++)
        c->cand[i] = target_get(p, urls[i]);
    c->next_url = n > 0 ? (int)(p->rotor++ % (unsigned)n) : 0;
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    c->attempts_left = 1 + (retries > 0 ? retries : 0);
    c->content_type = content_type;
    c->body = body;
    c->len = len;
    c->done = done;
    c->arg = arg;
    c->head_len = 0;
    if (event_assign(&c->kick, p->base, -1, 0, attempt, c) != 0 ||
        event_assign(&c->timer, p->base, -1, 0, on_timeout, c) != 0)
        abort();
    schedule_attempt(c);
}
