/*
 * net/httpd.c - the worker-pool HTTP server of httpd.h.
 *
 * Why evhttp with one event_base per worker sharing the listening sockets:
 * evhttp already gives a strict, bounded HTTP/1.1 parser (header and body
 * limits, timeouts, keep-alive) and plugs into bufferevent_openssl for
 * TLS through evhttp_set_bevcb, so the node writes no HTTP parsing of its
 * own. A request then lives on one thread from accept to reply: no locks
 * on the request path, and upstream calls (phase 2) run on the same loop.
 * Each worker accepts from a dup() of every listening socket; the kernel
 * hands each connection to one accept() (the others see EAGAIN). SO_REUSEPORT
 * would balance better under load but drops the connections queued on a
 * worker's socket when that worker closes it, which a drain must not do.
 *
 * Control from the main thread (drain, body limit) sets bits in an atomic
 * and activates a per-worker event; libevent's pthread locking
 * (evthread_use_pthreads) makes event_active safe across threads.
 */
#include "httpd.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

enum { CMD_DRAIN = 1, CMD_BODY_LIMIT = 2 };

#define DRAIN_QUIET_TICKS 3

typedef struct worker {
    struct httpd *h;
    int idx;
    pthread_t thread;
    int started;
    struct event_base *base;
    struct evhttp *http, *https;
    struct event *ctl, *drain_timer;
    struct evhttp_bound_socket *bound[HTTPD_MAX_LISTENERS];
    int nbound;
    atomic_int cmd;
    int inflight;
    int quiet_ticks; /* drain: consecutive 10 ms ticks with nothing in flight */
    struct timespec drain_deadline;
    int left_unanswered;
} worker;

struct httpd {
    httpd_options o;
    int fds[HTTPD_MAX_LISTENERS];
    int tls[HTTPD_MAX_LISTENERS];
    int nfds;
    pthread_mutex_t tls_mu;
    SSL_CTX *ctx;
    atomic_size_t body_limit;
    atomic_int draining;
    int drain_timeout_ms;
    worker *w;
};

static _Thread_local worker *current;

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL)
        abort(); /* the daemon's one out-of-memory policy (STYLE.md) */
    return p;
}

int httpd_new(const httpd_options *o, httpd **out, char err[HTTPD_ERR_MAX])
{
    static int threads_ok; /* set once, from the main thread, before any worker */
    if (o->workers < 1 || o->workers > HTTPD_MAX_WORKERS || o->handler == NULL) {
        snprintf(err, HTTPD_ERR_MAX, "bad server options");
        return -1;
    }
    if (!threads_ok) {
        threads_ok = evthread_use_pthreads() == 0;
        if (!threads_ok) {
            snprintf(err, HTTPD_ERR_MAX, "libevent without pthread support");
            return -1;
        }
    }
    httpd *h = xcalloc(1, sizeof(*h));
    h->o = *o;
    pthread_mutex_init(&h->tls_mu, NULL);
    atomic_init(&h->body_limit, o->body_limit);
    atomic_init(&h->draining, 0);
    h->w = xcalloc((size_t)o->workers, sizeof(worker));
    *out = h;
    return 0;
}

int httpd_listen(httpd *h, const char *addr, int tls, char *bound, size_t boundlen,
                 char err[HTTPD_ERR_MAX])
{
    int rc = -1, fd = -1;
    struct addrinfo hints = {0}, *res = NULL;
    char host[256], port[8];
    const char *colon;

    if (h->nfds >= HTTPD_MAX_LISTENERS) {
        snprintf(err, HTTPD_ERR_MAX, "%s: too many listeners", addr);
        goto done;
    }
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (close == NULL || close[1] != ':')
            goto bad;
        snprintf(host, sizeof(host), "%.*s", (int)(close - addr - 1), addr + 1);
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (colon == NULL)
            goto bad;
        snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
    }
    snprintf(port, sizeof(port), "%s", colon + 1);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, HTTPD_ERR_MAX, "%s: %s", addr, gai_strerror(gai));
        goto done;
    }
    /* "*" resolves to 0.0.0.0 and ::; prefer :: (dual stack) when present */
    struct addrinfo *ai = res;
    for (struct addrinfo *p = res; p != NULL && strcmp(host, "*") == 0; p = p->ai_next)
        if (p->ai_family == AF_INET6)
            ai = p;
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1, zero = 0;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        (ai->ai_family == AF_INET6 && strcmp(host, "*") == 0 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) != 0) ||
        /* accepted sockets inherit TCP_NODELAY (Linux): a reply is sent whole,
         * so Nagle only delays it behind the peer's delayed ACK */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        snprintf(err, HTTPD_ERR_MAX, "%s: %s", addr, strerror(errno));
        goto done;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char nh[NI_MAXHOST], ns[NI_MAXSERV];
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
        getnameinfo((struct sockaddr *)&ss, sl, nh, sizeof(nh), ns, sizeof(ns),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(err, HTTPD_ERR_MAX, "%s: cannot read the bound address", addr);
        goto done;
    }
    snprintf(bound, boundlen, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", nh, ns);
    h->fds[h->nfds] = fd;
    h->tls[h->nfds] = tls;
    h->nfds++;
    fd = -1;
    rc = 0;
    goto done;
bad:
    snprintf(err, HTTPD_ERR_MAX, "%s: not HOST:PORT", addr);
done:
    if (res != NULL)
        freeaddrinfo(res);
    if (fd >= 0)
        close(fd);
    return rc;
}

int httpd_set_tls(httpd *h, const char *cert_file, const char *key_file,
                  char err[HTTPD_ERR_MAX])
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        char ossl[256];
        ERR_error_string_n(ERR_get_error(), ossl, sizeof(ossl));
        snprintf(err, HTTPD_ERR_MAX, "TLS certificate %s / key %s: %s", cert_file, key_file,
                 ossl);
        ERR_clear_error();
        SSL_CTX_free(ctx);
        return -1;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    pthread_mutex_lock(&h->tls_mu);
    SSL_CTX *old = h->ctx;
    h->ctx = ctx;
    pthread_mutex_unlock(&h->tls_mu);
    SSL_CTX_free(old); /* connections already made hold their own reference */
    return 0;
}

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
    httpd *h = arg;
    pthread_mutex_lock(&h->tls_mu);
    SSL *ssl = h->ctx ? SSL_new(h->ctx) : NULL;
    pthread_mutex_unlock(&h->tls_mu);
    if (ssl == NULL)
        return NULL;
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (bev != NULL)
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    worker *w = arg;
    w->inflight++;
    w->h->o.handler(req, w->idx, w->h->o.arg);
}

void httpd_reply(struct evhttp_request *req, int status, const char *content_type,
                 const char *body, size_t len)
{
    worker *w = current;
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    if (content_type != NULL)
        evhttp_add_header(out, "Content-Type", content_type);
    if (w != NULL && atomic_load(&w->h->draining))
        evhttp_add_header(out, "Connection", "close");
    /* straight into the request's own output buffer: evhttp_send_reply
     * would only move a separate buffer's chains there */
    if (len > 0 && evbuffer_add(evhttp_request_get_output_buffer(req), body, len) != 0)
        abort();
    evhttp_send_reply(req, status, NULL, NULL);
    if (w != NULL)
        w->inflight--;
}

static int deadline_passed(const struct timespec *d)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

static void drain_check(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker *w = arg;
    if (w->inflight > 0 && !deadline_passed(&w->drain_deadline)) {
        w->quiet_ticks = 0;
        return; /* the persistent timer looks again in 10 ms */
    }
    /* A reply is only queued by httpd_reply (an upstream answer may queue
     * one in the same loop pass as this tick): give the loop a few passes
     * to write it before the connections are closed. */
    if (w->inflight == 0 && ++w->quiet_ticks < DRAIN_QUIET_TICKS &&
        !deadline_passed(&w->drain_deadline))
        return;
    w->left_unanswered = w->inflight;
    event_del(w->drain_timer);
    event_base_loopbreak(w->base);
}

static void on_ctl(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker *w = arg;
    int cmd = atomic_exchange(&w->cmd, 0);
    if (cmd & CMD_BODY_LIMIT) {
        ev_ssize_t lim = (ev_ssize_t)atomic_load(&w->h->body_limit);
        evhttp_set_max_body_size(w->http, lim);
        evhttp_set_max_body_size(w->https, lim);
    }
    if ((cmd & CMD_DRAIN) && w->drain_timer == NULL) {
        for (int i = 0; i < w->nbound; i++)
            evhttp_del_accept_socket(w->h->tls[i] ? w->https : w->http, w->bound[i]);
        w->nbound = 0;
        clock_gettime(CLOCK_MONOTONIC, &w->drain_deadline);
        w->drain_deadline.tv_sec += w->h->drain_timeout_ms / 1000;
        w->drain_deadline.tv_nsec += (long)(w->h->drain_timeout_ms % 1000) * 1000000L;
        if (w->drain_deadline.tv_nsec >= 1000000000L) {
            w->drain_deadline.tv_sec++;
            w->drain_deadline.tv_nsec -= 1000000000L;
        }
        w->drain_timer = event_new(w->base, -1, EV_PERSIST, drain_check, w);
        struct timeval tick = {0, 10000};
        if (w->drain_timer == NULL || event_add(w->drain_timer, &tick) != 0)
            abort();
        drain_check(-1, 0, w);
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    current = w;
    event_base_dispatch(w->base);
    current = NULL;
    return NULL;
}

static struct evhttp *make_http(worker *w)
{
    struct evhttp *e = evhttp_new(w->base);
    if (e == NULL)
        abort();
    evhttp_set_gencb(e, on_request, w);
    evhttp_set_max_body_size(e, (ev_ssize_t)atomic_load(&w->h->body_limit));
    evhttp_set_max_headers_size(e, 16 * 1024);
    evhttp_set_timeout(e, w->h->o.idle_timeout_sec);
    evhttp_set_allowed_methods(e, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
    evhttp_set_default_content_type(e, "text/plain; charset=utf-8");
    return e;
}

int httpd_start(httpd *h, char err[HTTPD_ERR_MAX])
{
    for (int i = 0; i < h->nfds; i++)
        if (h->tls[i] && h->ctx == NULL) {
            snprintf(err, HTTPD_ERR_MAX, "an HTTPS listener needs a certificate");
            return -1;
        }
    for (int i = 0; i < h->o.workers; i++) {
        worker *w = &h->w[i];
        w->h = h;
        w->idx = i;
        atomic_init(&w->cmd, 0);
        /* the changelist folds the del+add pairs evhttp makes around every
         * request and reply into one epoll_ctl, or none, per loop pass */
        struct event_config *cfg = event_config_new();
        if (cfg == NULL || event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) != 0)
            abort();
        w->base = event_base_new_with_config(cfg);
        event_config_free(cfg);
        if (w->base == NULL)
            abort();
        w->http = make_http(w);
        w->https = make_http(w);
        evhttp_set_bevcb(w->https, tls_bev, h);
        w->ctl = event_new(w->base, -1, 0, on_ctl, w);
        if (w->ctl == NULL)
            abort(); /* never added: made runnable by event_active only */
        for (int j = 0; j < h->nfds; j++) {
            int fd = fcntl(h->fds[j], F_DUPFD_CLOEXEC, 0);
            w->bound[j] = fd < 0 ? NULL
                                 : evhttp_accept_socket_with_handle(h->tls[j] ? w->https : w->http,
                                                                    fd);
            if (w->bound[j] == NULL) {
                if (fd >= 0)
                    close(fd);
                snprintf(err, HTTPD_ERR_MAX, "cannot accept on a listener: %s",
                         strerror(errno));
                return -1;
            }
            w->nbound++;
        }
    }
    for (int i = 0; i < h->o.workers; i++) {
        int e = pthread_create(&h->w[i].thread, NULL, worker_main, &h->w[i]);
        if (e != 0) {
            snprintf(err, HTTPD_ERR_MAX, "cannot start a worker: %s", strerror(e));
            return -1;
        }
        h->w[i].started = 1;
    }
    return 0;
}

static void tell(httpd *h, int cmd)
{
    for (int i = 0; i < h->o.workers; i++) {
        if (h->w[i].ctl == NULL)
            continue;
        atomic_fetch_or(&h->w[i].cmd, cmd);
        event_active(h->w[i].ctl, EV_READ, 0);
    }
}

void httpd_set_body_limit(httpd *h, size_t limit)
{
    atomic_store(&h->body_limit, limit);
    tell(h, CMD_BODY_LIMIT);
}

int httpd_is_draining(const httpd *h)
{
    return atomic_load(&((httpd *)h)->draining);
}

int httpd_drain(httpd *h, int timeout_ms)
{
    int left = 0;
    h->drain_timeout_ms = timeout_ms;
    atomic_store(&h->draining, 1);
    tell(h, CMD_DRAIN);
    for (int i = 0; i < h->o.workers; i++) {
        worker *w = &h->w[i];
        if (!w->started)
            continue;
        pthread_join(w->thread, NULL);
        w->started = 0;
        left += w->left_unanswered;
    }
    return left;
}

void httpd_free(httpd *h)
{
    if (h == NULL)
        return;
    for (int i = 0; i < h->o.workers; i++) {
        worker *w = &h->w[i];
        if (w->started) { /* never drained: stop it now */
            event_base_loopbreak(w->base);
            pthread_join(w->thread, NULL);
        }
        if (w->http != NULL)
            evhttp_free(w->http); /* closes its connections and listeners */
        if (w->https != NULL)
            evhttp_free(w->https);
        if (w->ctl != NULL)
            event_free(w->ctl);
        if (w->drain_timer != NULL)
            event_free(w->drain_timer);
        if (w->base != NULL)
            event_base_free(w->base);
    }
    for (int i = 0; i < h->nfds; i++)
        close(h->fds[i]);
    SSL_CTX_free(h->ctx);
    pthread_mutex_destroy(&h->tls_mu);
    free(h->w);
    free(h);
}
