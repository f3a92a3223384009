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

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "http1.h"
#include "tlsclient.h"
#include "common/xalloc.h"

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
        brks = xrealloc(brks, (size_t)cap_brks * sizeof(*brks));
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

/* ---- TLS (any thread) ---- */

static pthread_mutex_t tls_mu = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *tls_ctx; /* NULL: the system's store, made on first use */

int upstream_tls_configure(const char *ca_file, char *err, size_t errlen)
{
    SSL_CTX *ctx = tls_client_ctx_new(ca_file, err, errlen);
    if (ctx == NULL)
        return -1;
    pthread_mutex_lock(&tls_mu);
    SSL_CTX *old = tls_ctx;
    tls_ctx = ctx;
    pthread_mutex_unlock(&tls_mu);
    SSL_CTX_free(old); /* connections made with it hold their own reference */
    return 0;
}

void upstream_tls_free(void)
{
    pthread_mutex_lock(&tls_mu);
    SSL_CTX_free(tls_ctx);
    tls_ctx = NULL;
    pthread_mutex_unlock(&tls_mu);
}

/* A client SSL for host; NULL when no context can be made. */
static SSL *tls_new(const char *host)
{
    char err[256];
    SSL *ssl = NULL;
    pthread_mutex_lock(&tls_mu);
    if (tls_ctx == NULL)
        tls_ctx = tls_client_ctx_new(NULL, err, sizeof(err));
    if (tls_ctx != NULL)
        ssl = SSL_new(tls_ctx);
    pthread_mutex_unlock(&tls_mu);
    if (ssl != NULL)
        tls_client_expect_host(ssl, host);
    return ssl;
}

/* ---- pools (one worker) ---- */

#define HEAD_MAX (16 * 1024)  /* a response head */
#define BUF_INITIAL 4096
#define BUF_KEEP_MAX (64 * 1024) /* larger buffers are freed after a call */
#define FREE_CALLS_MAX 256

enum { U_IDLE, U_CONNECTING, U_HANDSHAKE, U_FILLING, U_SENDING, U_RECEIVING };

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
    int tls;           /* https:// */
    uconn *idle[IDLE_MAX];
    int n_idle;
    uconn *filling; /* the connection whose batch is still open, if any */
} target;

/*
 * A connection carries one batch at a time: the calls q[0..n_q) written
 * back to back (one call unless the caller allowed a batch), answered in
 * that order. q[i] is NULL once call i has timed out while the batch was
 * out: its answer, when it comes, is read and dropped.
 */
struct uconn {
    upstream_pool *p;
    target *t;
    int fd;
    int state;
    int reused;  /* carried an earlier batch */
    int dropped; /* closed, on the pool's spare list */
    struct event ev;  /* read, persistent */
    struct event wev; /* connect, the batch's first write, writes that did not go out whole */
    char *buf;
    size_t off, len, cap; /* buf[off..len): received and not yet answered */
    call *q[UPSTREAM_BATCH_MAX];
    size_t q_end[UPSTREAM_BATCH_MAX]; /* where each call's bytes end in the batch */
    int n_q;
    int n_done; /* answers read */
    int n_live; /* calls of q not yet answered nor timed out */
    size_t sent; /* bytes of the batch written */
    SSL *ssl;    /* https:// */
    char *out;   /* TLS: the batch's bytes in one piece (SSL_write takes one buffer) */
    size_t out_len, out_cap;
    uconn *next_spare;
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
    int batch_max;
    int batch; /* answered: the calls of its write */
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
    char why[128]; /* a TLS handshake's failure, for the answer's detail */
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
    SSL_free(u->ssl);
    free(u->out);
    free(u->buf);
    free(u);
}

static void spare_free(upstream_pool *p)
{
    while (p->spare != NULL) {
        uconn *u = p->spare;
        p->spare = u->next_spare;
        uconn_close(u);
    }
}

/* Closes u now and frees it later: it may be inside its own callback.
 * Its calls must have been taken off it. Once only. */
static void uconn_drop(uconn *u)
{
    if (u->dropped)
        return;
    u->dropped = 1;
    if (u->t->filling == u)
        u->t->filling = NULL;
    if (u->fd >= 0) {
        event_del(&u->ev);
        event_del(&u->wev);
        close(u->fd);
        u->fd = -1;
    }
    u->n_q = u->n_live = 0;
    u->next_spare = u->p->spare;
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
    upstream_answer a = {r,          status,
                         body,       len,
                         c->attempts, c->t ? c->t->url : NULL,
                         r == UPSTREAM_TLS_FAILED ? c->why : NULL,
                         r == UPSTREAM_OK ? c->batch : 0};
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
    if (strncmp(s, "http://", 7) == 0) {
        s += 7;
    } else if (strncmp(s, "https://", 8) == 0) {
        s += 8;
        t->tls = 1;
    } else {
        return -1;
    }
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
    const char *port = t->tls ? "443" : "80";
    size_t port_len = strlen(port);
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
        p->targets = xrealloc(p->targets, (size_t)p->cap_targets * sizeof(*p->targets));
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

/* The attempt failed before anything reached the upstream: no connection
 * (UPSTREAM_UNREACHABLE) or no TLS session (UPSTREAM_TLS_FAILED, c->why
 * says why). The next URL may be tried; last is the answer when no attempt
 * is left. */
static void attempt_not_made(call *c, upstream_result last)
{
    if (last == UPSTREAM_UNREACHABLE)
        c->t->addrlen = 0; /* look the name up again next time */
    breaker_report(c->t->url, 0);
    if (c->attempts_left > 0) {
        event_del(&c->timer);
        schedule_attempt(c);
        return;
    }
    finish(c, last, 0, NULL, 0);
}

static void attempt_unreachable(call *c)
{
    attempt_not_made(c, UPSTREAM_UNREACHABLE);
}

/* The attempt failed after the request (or part of it) went out. */
static void attempt_failed(call *c, upstream_result r)
{
    breaker_report(c->t->url, 0);
    finish(c, r, 0, NULL, 0);
}

/* Starts c again, from the loop, as if this attempt had not been made:
 * the upstream did not read it (a kept connection it had closed, or a
 * batch it said it would stop reading). Not a failure of the upstream. */
static void attempt_again(call *c)
{
    event_del(&c->timer);
    c->attempts--;
    c->attempts_left++;
    schedule_attempt(c);
}

/* 1 when some byte of q[i] has been written. */
static int batch_sent_any(const uconn *u, int i)
{
    return u->state == U_RECEIVING || u->sent > (i > 0 ? u->q_end[i - 1] : 0);
}

enum { ABORT_FAIL, ABORT_AGAIN, ABORT_TLS };

/*
 * Takes every call not yet answered off u and closes u. With ABORT_AGAIN
 * they all start again (the upstream did not read them); with ABORT_TLS
 * the handshake failed (why) and nothing went out. With ABORT_FAIL,
 * a call of which some byte went out ends: the first unanswered one with
 * first, the others with rest (it may have reached the upstream); one of
 * which nothing went out starts again when u was a kept connection (the
 * upstream had closed it) and counts as a connection not made otherwise.
 */
static void batch_abort_why(uconn *u, int how, upstream_result first, upstream_result rest,
                            const char *why)
{
    call *cs[UPSTREAM_BATCH_MAX];
    int out[UPSTREAM_BATCH_MAX], head[UPSTREAM_BATCH_MAX];
    int n = 0, reused = u->reused;
    for (int i = u->n_done; i < u->n_q; i++) {
        if (u->q[i] == NULL)
            continue;
        out[n] = batch_sent_any(u, i);
        head[n] = i == u->n_done;
        cs[n] = u->q[i];
        cs[n++]->conn = NULL;
        u->q[i] = NULL;
    }
    uconn_drop(u);
    for (int i = 0; i < n; i++) {
        if (how == ABORT_TLS) {
            snprintf(cs[i]->why, sizeof(cs[i]->why), "%s", why);
            attempt_not_made(cs[i], UPSTREAM_TLS_FAILED);
        } else if (how == ABORT_AGAIN || (!out[i] && reused))
            attempt_again(cs[i]);
        else if (!out[i])
            attempt_unreachable(cs[i]);
        else
            attempt_failed(cs[i], head[i] ? first : rest);
    }
}

static void batch_abort(uconn *u, int how, upstream_result first, upstream_result rest)
{
    batch_abort_why(u, how, first, rest, NULL);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    call *c = arg;
    uconn *u = c->conn;
    if (u == NULL) {
        attempt_failed(c, UPSTREAM_TIMEOUT);
        return;
    }
    /* no connection made yet (TCP or TLS): nothing went out, the next URL
     * may be tried */
    int connecting = u->state == U_CONNECTING || u->state == U_HANDSHAKE;
    for (int i = u->n_done; i < u->n_q; i++)
        if (u->q[i] == c) {
            u->q[i] = NULL;
            u->n_live--;
        }
    c->conn = NULL;
    /* A batch that is out keeps its connection for the other calls: this
     * call's answer, when it comes, is read and dropped. Anything else
     * closes it (an answer may still come: it is not reusable). */
    if (u->state != U_RECEIVING || u->n_live == 0)
        batch_abort(u, ABORT_FAIL, UPSTREAM_FAILED, UPSTREAM_FAILED);
    if (connecting)
        attempt_unreachable(c);
    else
        attempt_failed(c, UPSTREAM_TIMEOUT);
}

/* TLS: writes what is left of u's batch, from one buffer (the calls'
 * heads and bodies copied once). 0 sent or waiting, -1 error. */
static int send_batch_tls(uconn *u, size_t total)
{
    if (u->out_len != total) { /* the batch is closed: its bytes in one piece */
        if (u->out_cap < total) {
            free(u->out);
            u->out = xmalloc(total);
            u->out_cap = total;
        }
        size_t o = 0;
        for (int i = 0; i < u->n_q; i++) {
            const call *c = u->q[i];
            memcpy(u->out + o, c->head, c->head_len);
            o += c->head_len;
            if (c->len > 0)
                memcpy(u->out + o, c->body, c->len);
            o += c->len;
        }
        u->out_len = total;
    }
    while (u->sent < total) {
        size_t left = total - u->sent;
        ERR_clear_error();
        int k = SSL_write(u->ssl, u->out + u->sent, left > INT32_MAX ? INT32_MAX : (int)left);
        if (k > 0) {
            u->sent += (size_t)k;
            continue;
        }
        int e = SSL_get_error(u->ssl, k);
        if (e == SSL_ERROR_WANT_WRITE) {
            if (event_add(&u->wev, NULL) != 0)
                xalloc_die();
            return 0;
        }
        if (e == SSL_ERROR_WANT_READ)
            return 0; /* the read event carries on (on_conn_read, U_SENDING) */
        ERR_clear_error();
        return -1;
    }
    u->state = U_RECEIVING;
    return 0;
}

/* Writes what is left of u's batch. 0 sent or waiting, -1 error. */
static int send_batch(uconn *u)
{
    size_t total = u->q_end[u->n_q - 1];
    if (u->ssl != NULL)
        return send_batch_tls(u, total);
    while (u->sent < total) {
        struct iovec iov[2 * UPSTREAM_BATCH_MAX];
        int n = 0;
        for (int i = 0; i < u->n_q; i++) {
            size_t start = i > 0 ? u->q_end[i - 1] : 0;
            if (u->sent >= u->q_end[i])
                continue;
            const call *c = u->q[i]; /* not NULL: a call times out of a batch only once it is out */
            size_t skip = u->sent > start ? u->sent - start : 0;
            if (skip < c->head_len) {
                iov[n].iov_base = (void *)(c->head + skip);
                iov[n++].iov_len = c->head_len - skip;
                skip = 0;
            } else {
                skip -= c->head_len;
            }
            if (c->len > skip) {
                iov[n].iov_base = (void *)(c->body + skip);
                iov[n++].iov_len = c->len - skip;
            }
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
                xalloc_die();
            return 0;
        }
        return -1;
    }
    u->state = U_RECEIVING;
    return 0;
}

/* Sends u's batch: no call joins it any more. */
static void batch_flush(uconn *u)
{
    if (u->t->filling == u)
        u->t->filling = NULL;
    u->state = U_SENDING;
    if (send_batch(u) != 0)
        batch_abort(u, ABORT_FAIL, UPSTREAM_FAILED, UPSTREAM_FAILED);
}

static void batch_add(uconn *u, call *c)
{
    size_t start = u->n_q > 0 ? u->q_end[u->n_q - 1] : 0;
    u->q[u->n_q] = c;
    u->q_end[u->n_q] = start + c->head_len + c->len;
    u->n_q++;
    u->n_live++;
    c->conn = u;
}

static uconn *uconn_connect(upstream_pool *p, target *t)
{
    if (target_resolve(t) != 0)
        return NULL;
    int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    int one = 1;
    /* a batch goes out in one write: Nagle would only hold it */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rc = connect(fd, (const struct sockaddr *)&t->addr, t->addrlen);
    if (rc != 0 && errno != EINPROGRESS) {
        close(fd);
        return NULL;
    }
    SSL *ssl = NULL;
    if (t->tls) {
        ssl = tls_new(t->host);
        if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
            SSL_free(ssl);
            close(fd);
            return NULL;
        }
        SSL_set_connect_state(ssl);
    }
    uconn *u = xmalloc(sizeof(*u));
    memset(u, 0, sizeof(*u));
    u->p = p;
    u->t = t;
    u->fd = fd;
    u->ssl = ssl;
    u->state = rc == 0 ? U_SENDING : U_CONNECTING;
    if (rc == 0 && ssl != NULL) /* the handshake starts from the write event */
        u->state = U_CONNECTING;
    if (event_assign(&u->ev, p->base, fd, EV_READ | EV_PERSIST, on_conn_read, u) != 0 ||
        event_assign(&u->wev, p->base, fd, EV_WRITE, on_conn_write, u) != 0 ||
        event_add(&u->ev, NULL) != 0 || (u->state == U_CONNECTING && event_add(&u->wev, NULL) != 0))
        xalloc_die();
    return u;
}

/* Starts a batch on u (idle or new) with c. A call that allows batches
 * leaves it open: calls to the same URL that start in this turn of the
 * loop join it, and it goes out in one write when the loop comes to the
 * connection's write event (or when the connection is made). */
static void start_on(call *c, uconn *u)
{
    u->n_q = u->n_done = u->n_live = 0;
    u->sent = u->off = u->len = u->out_len = 0;
    batch_add(u, c);
    if (c->batch_max > 1) {
        u->t->filling = u;
        if (u->state != U_CONNECTING && u->state != U_HANDSHAKE) {
            u->state = U_FILLING;
            event_active(&u->wev, EV_WRITE, 1);
        }
        return;
    }
    if (u->state != U_CONNECTING && u->state != U_HANDSHAKE)
        batch_flush(u);
}

/* Carries the TLS handshake on; the batch goes out once it is done. */
static void tls_handshake(uconn *u)
{
    ERR_clear_error();
    int rc = SSL_connect(u->ssl);
    if (rc == 1) {
        u->state = U_SENDING;
        batch_flush(u);
        return;
    }
    int e = SSL_get_error(u->ssl, rc);
    if (e == SSL_ERROR_WANT_READ)
        return; /* the read event, always on, comes back here */
    if (e == SSL_ERROR_WANT_WRITE) {
        if (event_add(&u->wev, NULL) != 0)
            xalloc_die();
        return;
    }
    char why[128];
    long vr = SSL_get_verify_result(u->ssl);
    unsigned long oe = ERR_peek_error();
    if (vr != X509_V_OK)
        snprintf(why, sizeof(why), "certificate: %s", X509_verify_cert_error_string(vr));
    else if (oe != 0 && ERR_reason_error_string(oe) != NULL)
        snprintf(why, sizeof(why), "%s", ERR_reason_error_string(oe));
    else
        snprintf(why, sizeof(why), "connection closed during the handshake");
    ERR_clear_error();
    batch_abort_why(u, ABORT_TLS, UPSTREAM_FAILED, UPSTREAM_FAILED, why);
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
        xalloc_die();
    uconn *u = t->filling;
    if (u != NULL && c->batch_max > 1 && u->n_q < c->batch_max) {
        batch_add(u, c);
        return;
    }
    u = t->n_idle > 0 ? t->idle[--t->n_idle] : uconn_connect(p, t);
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
    if (u->n_live == 0 || u->dropped)
        return;
    if (u->state == U_CONNECTING) {
        int e = 0;
        socklen_t el = sizeof(e);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e != 0) {
            batch_abort(u, ABORT_FAIL, UPSTREAM_FAILED, UPSTREAM_FAILED);
            return;
        }
        if (u->ssl != NULL) {
            u->state = U_HANDSHAKE;
            tls_handshake(u);
            return;
        }
        u->state = U_SENDING;
    }
    if (u->state == U_HANDSHAKE) {
        tls_handshake(u);
        return;
    }
    if (u->state == U_RECEIVING && u->ssl != NULL) { /* SSL_read wanted to write */
        on_conn_read(fd, EV_READ, u);
        return;
    }
    if (u->state == U_FILLING || u->state == U_SENDING)
        batch_flush(u);
}

/*
 * Hands the answer at buf[off..off+used) (body at body_off, body_len
 * bytes) to the batch's next call, then moves on: the next answer of the
 * batch, the idle list (keep), or closed. 1 when more answers of the
 * batch are to be read from u.
 */
static int answer_next(uconn *u, int status, size_t body_off, size_t body_len, size_t used,
                       int keep)
{
    target *t = u->t;
    call *c = u->q[u->n_done];
    u->q[u->n_done++] = NULL;
    const char *body = u->buf + u->off + body_off;
    u->off += used;
    if (c != NULL) { /* NULL: it timed out, its answer is dropped */
        u->n_live--;
        event_del(&c->timer);
        c->conn = NULL;
        breaker_report(t->url, status < 500);
        c->batch = u->n_q;
        finish(c, UPSTREAM_OK, status, body, body_len);
    }
    if (u->n_done < u->n_q) {
        if (!keep) { /* the upstream closes after this answer: it reads no more */
            batch_abort(u, ABORT_AGAIN, UPSTREAM_FAILED, UPSTREAM_FAILED);
            return 0;
        }
        if (u->n_live == 0) { /* only answers nobody waits for */
            uconn_drop(u);
            return 0;
        }
        return 1;
    }
    if (!keep || u->off != u->len || t->n_idle >= IDLE_MAX || u->fd < 0) {
        uconn_drop(u);
        return 0;
    }
    u->state = U_IDLE;
    u->reused = 1;
    u->n_q = u->n_done = 0;
    u->off = u->len = 0;
    t->idle[t->n_idle++] = u;
    if (u->cap > BUF_KEEP_MAX) {
        free(u->buf);
        u->buf = NULL;
        u->cap = 0;
    }
    return 0;
}

/* Reads the answers in buf[off..len), in the batch's order. eof: the
 * upstream closed. */
static void parse_answers(uconn *u, int eof)
{
    size_t max_body = u->p->max_body;
    upstream_result bad = UPSTREAM_FAILED;
    while (u->n_done < u->n_q) {
        char *b = u->buf + u->off;
        size_t avail = u->len - u->off;
        http1_response r;
        int rc = http1_parse_response(b, avail, HEAD_MAX, &r);
        if (rc == HTTP1_MORE && !eof)
            return;
        if (rc <= 0)
            break; /* malformed, or closed before the answer was complete */
        size_t head = (size_t)rc;
        if (r.status < 200) { /* 1xx: an interim answer, the real one follows */
            u->off += head;
            continue;
        }
        size_t have = avail - head, body_len;
        int last = u->n_done + 1 == u->n_q;
        /* the connection goes on after this answer (a close before a later
         * answer is complete is a failure of those) */
        int keep = r.keep_alive && !(eof && last);
        if (r.chunked) {
            size_t blen = 0;
            long used = http1_dechunk(b + head, have, max_body, &blen);
            if (used < 0) {
                bad = have > max_body ? UPSTREAM_TOO_BIG : UPSTREAM_FAILED;
                break;
            }
            if (used == 0) {
                if (!eof)
                    return;
                break;
            }
            if (!answer_next(u, r.status, head, blen, head + (size_t)used, keep))
                return;
            continue;
        }
        if (r.has_length) {
            if (r.content_length > max_body) {
                bad = UPSTREAM_TOO_BIG;
                break;
            }
            if (have < r.content_length) {
                if (!eof)
                    return;
                break;
            }
            body_len = (size_t)r.content_length;
            if (!answer_next(u, r.status, head, body_len, head + body_len, keep))
                return;
            continue;
        }
        /* delimited by the close: only a batch's last answer can be */
        if (!last)
            break;
        if (have > max_body) {
            bad = UPSTREAM_TOO_BIG;
            break;
        }
        if (!eof)
            return;
        answer_next(u, r.status, head, have, avail, 0);
        return;
    }
    if (u->n_done < u->n_q)
        batch_abort(u, ABORT_FAIL, bad, UPSTREAM_FAILED);
}

enum { RECV_AGAIN = -2, RECV_RETRY = -3 };

/* Reads into b[0..n): the count, 0 at the end, -1 on an error, RECV_AGAIN
 * when nothing is there yet, RECV_RETRY when interrupted. */
static ssize_t conn_recv(uconn *u, char *b, size_t n)
{
    if (u->ssl == NULL) {
        ssize_t k = read(u->fd, b, n);
        if (k < 0 && errno == EINTR)
            return RECV_RETRY;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return RECV_AGAIN;
        return k < 0 ? -1 : k;
    }
    ERR_clear_error();
    int k = SSL_read(u->ssl, b, n > INT32_MAX ? INT32_MAX : (int)n);
    if (k > 0)
        return k;
    switch (SSL_get_error(u->ssl, k)) {
    case SSL_ERROR_WANT_READ:
        return RECV_AGAIN;
    case SSL_ERROR_WANT_WRITE: /* on_conn_write comes back here */
        if (event_add(&u->wev, NULL) != 0)
            xalloc_die();
        return RECV_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    default:
        ERR_clear_error();
        return -1;
    }
}

static void on_conn_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    uconn *u = arg;
    if (u->dropped)
        return;
    if (u->n_q == 0 || u->state == U_IDLE) {
        /* idle: the provider closed it (or sent what nobody asked for);
         * over TLS it may also be a record for TLS itself (a session
         * ticket), which leaves the connection as it was */
        char scratch[256];
        if (u->state == U_IDLE && u->ssl != NULL && conn_recv(u, scratch, sizeof(scratch)) ==
                                                        RECV_AGAIN)
            return;
        if (u->state == U_IDLE)
            idle_remove(u->t, u);
        uconn_drop(u);
        return;
    }
    if (u->state == U_CONNECTING) {
        on_conn_write(fd, EV_WRITE, u); /* a refused connect shows as readable too */
        return;
    }
    if (u->state == U_HANDSHAKE) {
        tls_handshake(u);
        return;
    }
    if (u->state == U_FILLING) { /* closed (or talking) before the batch went out */
        batch_abort(u, ABORT_FAIL, UPSTREAM_FAILED, UPSTREAM_FAILED);
        return;
    }
    if (u->state == U_SENDING && u->ssl != NULL) {
        batch_flush(u); /* SSL_write may have waited for this */
        if (u->dropped || u->state != U_RECEIVING)
            return;
    }
    size_t limit = HEAD_MAX + 2 * u->p->max_body + BUF_INITIAL;
    int got = 0;
    for (;;) {
        if (u->cap - u->len < 1024) {
            if (u->off > 0) { /* answers already handed over: make room */
                memmove(u->buf, u->buf + u->off, u->len - u->off);
                u->len -= u->off;
                u->off = 0;
                continue;
            }
            if (u->cap >= limit) {
                batch_abort(u, ABORT_FAIL, UPSTREAM_TOO_BIG, UPSTREAM_FAILED);
                return;
            }
            u->cap = u->cap ? u->cap * 2 : BUF_INITIAL;
            u->buf = xrealloc(u->buf, u->cap);
        }
        size_t room = u->cap - u->len;
        ssize_t n = conn_recv(u, u->buf + u->len, room);
        if (n > 0) {
            u->len += (size_t)n;
            got = 1;
            /* TLS may hold decrypted bytes the socket no longer shows */
            if ((size_t)n == room || (u->ssl != NULL && SSL_pending(u->ssl) > 0))
                continue;
            parse_answers(u, 0);
            return;
        }
        if (n == RECV_RETRY)
            continue;
        if (n == RECV_AGAIN) {
            if (got)
                parse_answers(u, 0);
            return;
        }
        /* closed or reset */
        if (u->len == 0 && u->n_done == 0 && u->reused && u->state == U_SENDING) {
            /* a kept connection closed before it took the batch */
            batch_abort(u, ABORT_AGAIN, UPSTREAM_FAILED, UPSTREAM_FAILED);
            return;
        }
        if (n < 0) {
            batch_abort(u, ABORT_FAIL, UPSTREAM_FAILED, UPSTREAM_FAILED);
            return;
        }
        parse_answers(u, 1);
        return;
    }
}

void upstream_call(upstream_pool *p, char *const *urls, int n, int timeout_ms, int retries,
                   int batch, const char *content_type, const char *body, size_t len,
                   upstream_done_fn done, void *arg)
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
    c->batch_max = batch < 1 ? 1 : batch > UPSTREAM_BATCH_MAX ? UPSTREAM_BATCH_MAX : batch;
    c->content_type = content_type;
    c->body = body;
    c->len = len;
    c->done = done;
    c->arg = arg;
    c->head_len = 0;
    if (event_assign(&c->kick, p->base, -1, 0, attempt, c) != 0 ||
        event_assign(&c->timer, p->base, -1, 0, on_timeout, c) != 0)
        xalloc_die();
    schedule_attempt(c);
}
