/*
 * net/hserver.c - the HTTP/1.1 server of hserver.h on raw libevent events.
 *
 * Why not evhttp here: on a path of a few tens of microseconds per request,
 * evhttp's costs showed up first in profiles: a request object, header
 * lists and URI parse allocated and freed per request, an epoll_ctl pair
 * per request as it toggles its bufferevent, readv/ioctl(FIONREAD) per
 * read. Here a connection owns one input buffer and one output buffer,
 * kept (with the connection object) from request to request and reused
 * for later connections; a request is parsed in place (net/http1.c) and
 * the handler reads it where it lies; an answer goes out in one writev of
 * the head and the body. The read event stays registered (level-triggered)
 * while a request is handled: bytes that arrive meanwhile (a pipelined
 * request, or the peer closing) are read into the buffer and looked at
 * once the answer is out, so requests on a connection are answered in
 * order and nothing is toggled per request.
 *
 * Threads and sockets: one event_base per worker, each
 * accepting from a dup() of every listening socket, no locks on the
 * request path; control (drain, body limit) through an atomic and an event
 * made active from the main thread.
 *
 * TLS: the same connection code over SSL_read/SSL_write on the socket; a
 * read that needs a write (or the reverse) waits for that readiness.
 *
 * Closing after an error answer (a body over the limit, a malformed head)
 * is "lingering": the write side is shut and what the client still sends
 * is read and dropped for a short while, so that the client reads the
 * answer instead of a connection reset.
 */
#include "hserver.h"

#include "common/log.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event_struct.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>

enum { CMD_DRAIN = 1, CMD_BODY_LIMIT = 2 };
enum { C_READ, C_HANDLE, C_LINGER };

#define DRAIN_QUIET_TICKS 3
#define IN_INITIAL 4096
#define FREE_CONNS_MAX 64 /* closed connections kept per worker for reuse */
#define LINGER_SEC 2
#define LINGER_MAX_BYTES (1024 * 1024)
#define OUT_KEEP_MAX (64 * 1024) /* larger buffers are freed after use */

typedef struct worker worker;
typedef struct conn conn;

struct hserver_req {
    conn *c;
    int method;
    const char *path;
    const char *body;
    size_t body_len;
    const char *head; /* request line and header fields, for hserver_req_header */
    size_t head_len;
};

struct conn {
    worker *w;
    conn *prev, *next; /* the worker's live connections, or its free list */
    int fd;
    SSL *ssl;
    struct event ev;  /* read, persistent, with the idle timeout */
    struct event wev; /* write, while output waits */
    char *in;
    size_t in_len, in_cap;
    size_t consumed; /* bytes of in taken by the request being handled */
    char *out;
    size_t out_len, out_off, out_cap;
    int state;
    int minor, keep_alive, head_only;
    int close_after;   /* close once the output is written */
    int linger;        /* ... with a lingering close */
    int peer_eof;      /* the peer closed its side */
    int dead;          /* closed while a request was handled */
    int read_paused;   /* ev removed: buffer full or peer closed */
    int in_handler;
    int sent_continue;
    int tls_read_wants_write;
    size_t lingered;
    hserver_req req;
    struct sockaddr_storage peer;
    char peer_text[INET6_ADDRSTRLEN];
};

typedef struct listener {
    worker *w;
    int fd;
    int tls;
    struct event ev;
    int added;
} listener;

struct worker {
    hserver *h;
    int idx;
    pthread_t thread;
    int started;
    struct event_base *base;
    struct event *ctl, *drain_timer;
    listener ls[HSERVER_MAX_LISTENERS];
    int nls;
    const struct timeval *idle_tv; /* a common timeout: O(1) re-arm */
    const struct timeval *linger_tv;
    atomic_int cmd;
    size_t body_limit;
    int draining;
    int inflight;
    int quiet_ticks;
    struct timespec drain_deadline;
    int left_unanswered;
    conn *conns;
    conn *free_conns;
    int n_free;
    time_t date_sec;
    char date[40];
};

struct hserver {
    hserver_options o;
    int fds[HSERVER_MAX_LISTENERS];
    int tls[HSERVER_MAX_LISTENERS];
    int nfds;
    pthread_mutex_t tls_mu;
    SSL_CTX *ctx;
    atomic_size_t body_limit;
    atomic_int draining;
    int drain_timeout_ms;
    worker *w;
};

/* ---- set-up (main thread) ---- */

int hserver_new(const hserver_options *o, hserver **out, char err[HSERVER_ERR_MAX])
{
    static int threads_ok; /* set once, from the main thread, before any worker */
    if (o->workers < 1 || o->workers > HSERVER_MAX_WORKERS || o->handler == NULL) {
        snprintf(err, HSERVER_ERR_MAX, "bad server options");
        return -1;
    }
    if (!threads_ok) {
        threads_ok = evthread_use_pthreads() == 0;
        if (!threads_ok) {
            snprintf(err, HSERVER_ERR_MAX, "libevent without pthread support");
            return -1;
        }
    }
    hserver *h = xcalloc(1, sizeof(*h));
    h->o = *o;
    pthread_mutex_init(&h->tls_mu, NULL);
    atomic_init(&h->body_limit, o->body_limit);
    atomic_init(&h->draining, 0);
    h->w = xcalloc((size_t)o->workers, sizeof(worker));
    *out = h;
    return 0;
}

int hserver_listen(hserver *h, const char *addr, int tls, char *bound, size_t boundlen,
                   char err[HSERVER_ERR_MAX])
{
    int rc = -1, fd = -1;
    struct addrinfo hints = {0}, *res = NULL;
    char host[256], port[8];
    const char *colon;

    if (h->nfds >= HSERVER_MAX_LISTENERS) {
        snprintf(err, HSERVER_ERR_MAX, "%s: too many listeners", addr);
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
        snprintf(err, HSERVER_ERR_MAX, "%s: %s", addr, gai_strerror(gai));
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
        /* accepted sockets inherit TCP_NODELAY (Linux): an answer is
         * written whole, Nagle would only hold it behind a delayed ACK */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        snprintf(err, HSERVER_ERR_MAX, "%s: %s", addr, strerror(errno));
        goto done;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char nh[NI_MAXHOST], ns[NI_MAXSERV];
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
        getnameinfo((struct sockaddr *)&ss, sl, nh, sizeof(nh), ns, sizeof(ns),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(err, HSERVER_ERR_MAX, "%s: cannot read the bound address", addr);
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
    snprintf(err, HSERVER_ERR_MAX, "%s: not HOST:PORT", addr);
done:
    if (res != NULL)
        freeaddrinfo(res);
    if (fd >= 0)
        close(fd);
    return rc;
}

int hserver_set_tls(hserver *h, const char *cert_file, const char *key_file,
                    char err[HSERVER_ERR_MAX])
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        char ossl[256];
        ERR_error_string_n(ERR_get_error(), ossl, sizeof(ossl));
        snprintf(err, HSERVER_ERR_MAX, "TLS certificate %s / key %s: %s", cert_file, key_file,
                 ossl);
        ERR_clear_error();
        SSL_CTX_free(ctx);
        return -1;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    pthread_mutex_lock(&h->tls_mu);
    SSL_CTX *old = h->ctx;
    h->ctx = ctx;
    pthread_mutex_unlock(&h->tls_mu);
    SSL_CTX_free(old); /* connections already made hold their own reference */
    return 0;
}

struct event_base *hserver_worker_base(hserver *h, int idx)
{
    return h->w[idx].base;
}

/* ---- connections (worker thread) ---- */

static void on_conn_read(evutil_socket_t fd, short what, void *arg);
static void on_conn_write(evutil_socket_t fd, short what, void *arg);
static void conn_process(conn *c);

static void conn_unlink(conn *c)
{
    worker *w = c->w;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* Closes the socket; the object stays while a request is handled (the
 * handler still holds it), else it goes to the free list. */
static void conn_close(conn *c)
{
    worker *w = c->w;
    if (c->fd >= 0) {
        event_del(&c->ev);
        event_del(&c->wev);
        if (c->ssl != NULL) {
            if (!c->dead && !c->peer_eof)
                (void)SSL_shutdown(c->ssl); /* best effort: sends close_notify */
            SSL_free(c->ssl);
            c->ssl = NULL;
        }
        close(c->fd);
        c->fd = -1;
    }
    if (c->state == C_HANDLE) {
        c->dead = 1; /* hserver_reply finishes it */
        return;
    }
    if (c->in_handler)
        return; /* conn_dispatch finishes it once the handler returns */
    conn_unlink(c);
    if (w->n_free < FREE_CONNS_MAX && c->in_cap <= 2 * IN_INITIAL && c->out_cap <= OUT_KEEP_MAX) {
        c->next = w->free_conns;
        w->free_conns = c;
        w->n_free++;
        return;
    }
    free(c->in);
    free(c->out);
    free(c);
}

static void conn_free_all(worker *w)
{
    while (w->conns != NULL) {
        conn *c = w->conns;
        c->state = C_READ; /* nothing will answer now */
        conn_close(c);
    }
    while (w->free_conns != NULL) {
        conn *c = w->free_conns;
        w->free_conns = c->next;
        free(c->in);
        free(c->out);
        free(c);
    }
    w->n_free = 0;
}

static void conn_new(worker *w, int fd, int tls, const struct sockaddr_storage *ss)
{
    SSL *ssl = NULL;
    if (tls) {
        pthread_mutex_lock(&w->h->tls_mu);
        ssl = w->h->ctx ? SSL_new(w->h->ctx) : NULL;
        pthread_mutex_unlock(&w->h->tls_mu);
        if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
            SSL_free(ssl);
            close(fd);
            return;
        }
        SSL_set_accept_state(ssl);
    }
    conn *c = w->free_conns;
    char *in = NULL, *out = NULL;
    size_t in_cap = 0, out_cap = 0;
    if (c != NULL) {
        w->free_conns = c->next;
        w->n_free--;
        in = c->in;
        in_cap = c->in_cap;
        out = c->out;
        out_cap = c->out_cap;
        memset(c, 0, sizeof(*c));
    } else {
        c = xcalloc(1, sizeof(*c));
    }
    c->w = w;
    c->fd = fd;
    c->ssl = ssl;
    c->in = in;
    c->in_cap = in_cap;
    c->out = out;
    c->out_cap = out_cap;
    c->state = C_READ;
    c->req.c = c;
    memcpy(&c->peer, ss, sizeof(c->peer));
    const void *a = ss->ss_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)ss)->sin_addr;
    if (inet_ntop(ss->ss_family, a, c->peer_text, sizeof(c->peer_text)) == NULL)
        memcpy(c->peer_text, "-", 2);
    c->next = w->conns;
    if (w->conns != NULL)
        w->conns->prev = c;
    w->conns = c;
    if (event_assign(&c->ev, w->base, fd, EV_READ | EV_PERSIST, on_conn_read, c) != 0 ||
        event_assign(&c->wev, w->base, fd, EV_WRITE, on_conn_write, c) != 0 ||
        event_add(&c->ev, w->idle_tv) != 0)
        xalloc_die();
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    listener *l = arg;
    for (int i = 0; i < 64; i++) { /* bounded: other work waits on this loop */
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int c = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0)
            return; /* EAGAIN (another worker took it), or out of descriptors for now */
        conn_new(l->w, c, l->tls, &ss);
    }
}

/* Makes room for at least `need` bytes in the input buffer. */
static void in_reserve(conn *c, size_t need)
{
    if (c->in_cap >= need)
        return;
    size_t cap = c->in_cap ? c->in_cap : IN_INITIAL;
    while (cap < need)
        cap *= 2;
    c->in = xrealloc(c->in, cap);
    c->in_cap = cap;
}

/* The most a connection buffers: a head and a body at the limit with
 * room for chunk framing, and a little of a pipelined request behind. */
static size_t in_limit(const conn *c)
{
    return HSERVER_MAX_HEAD + 2 * c->w->body_limit + 2 * IN_INITIAL;
}

/* Reads what the socket has into the input buffer. 0, or -1 when the
 * connection is finished (peer_eof tells a clean close). */
static int conn_fill(conn *c)
{
    size_t limit = in_limit(c);
    for (;;) {
        /* Never while a request is handled: its body, which the handler
         * may still be sending upstream, lies in this buffer. What the
         * client sends meanwhile waits in the socket once the room left
         * is used (read is paused until the answer is out). */
        if (c->in_cap - c->in_len < 1024 && c->in_cap < limit && c->state != C_HANDLE)
            in_reserve(c, c->in_cap ? c->in_cap * 2 : IN_INITIAL);
        size_t room = c->in_cap - c->in_len;
        if (room == 0 || c->in_len >= limit) {
            /* full: stop reading until the request in hand is answered */
            if (!c->read_paused) {
                event_del(&c->ev);
                c->read_paused = 1;
            }
            return 0;
        }
        if (c->ssl == NULL) {
            ssize_t n = read(c->fd, c->in + c->in_len, room);
            if (n > 0) {
                c->in_len += (size_t)n;
                if ((size_t)n < room)
                    return 0; /* drained for now: level-triggered tells us of more */
                continue;
            }
            if (n == 0) {
                c->peer_eof = 1;
                return -1;
            }
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
        ERR_clear_error();
        int n = SSL_read(c->ssl, c->in + c->in_len, room > INT32_MAX ? INT32_MAX : (int)room);
        if (n > 0) {
            c->in_len += (size_t)n;
            continue; /* SSL may hold decrypted bytes the socket no longer shows */
        }
        switch (SSL_get_error(c->ssl, n)) {
        case SSL_ERROR_WANT_READ:
            return 0;
        case SSL_ERROR_WANT_WRITE:
            c->tls_read_wants_write = 1;
            event_add(&c->wev, c->w->idle_tv);
            return 0;
        case SSL_ERROR_ZERO_RETURN:
            c->peer_eof = 1;
            return -1;
        default:
            c->dead = c->state == C_HANDLE;
            return -1;
        }
    }
}

/* Writes pending output. 0 (all written, or the rest waits for the write
 * event), -1 on error. */
static int conn_flush(conn *c)
{
    while (c->out_off < c->out_len) {
        size_t n = c->out_len - c->out_off;
        if (c->ssl == NULL) {
            ssize_t k = write(c->fd, c->out + c->out_off, n);
            if (k > 0) {
                c->out_off += (size_t)k;
                continue;
            }
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                event_add(&c->wev, c->w->idle_tv);
                return 0;
            }
            return -1;
        }
        ERR_clear_error();
        int k = SSL_write(c->ssl, c->out + c->out_off, n > INT32_MAX ? INT32_MAX : (int)n);
        if (k > 0) {
            c->out_off += (size_t)k;
            continue;
        }
        int e = SSL_get_error(c->ssl, k);
        if (e == SSL_ERROR_WANT_WRITE) {
            event_add(&c->wev, c->w->idle_tv);
            return 0;
        }
        if (e == SSL_ERROR_WANT_READ)
            return 0; /* the read event is registered; it flushes again */
        return -1;
    }
    c->out_off = c->out_len = 0;
    if (c->out_cap > OUT_KEEP_MAX) {
        free(c->out);
        c->out = NULL;
        c->out_cap = 0;
    }
    return 0;
}

static int output_pending(const conn *c)
{
    return c->out_off < c->out_len;
}

static void out_append(conn *c, const char *p, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 1024;
        while (cap < c->out_len + n)
            cap *= 2;
        c->out = xrealloc(c->out, cap);
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
}

/* Sends head and body: straight from where they are when nothing is
 * queued, else (TLS, or an earlier answer still going out) through the
 * output buffer. -1 on a write error. */
static int conn_send(conn *c, const char *head, size_t hlen, const char *body, size_t blen)
{
    if (c->ssl == NULL && !output_pending(c)) {
        struct iovec iov[2] = {{(void *)head, hlen}, {(void *)body, blen}};
        ssize_t k;
        do
            k = writev(c->fd, iov, blen ? 2 : 1);
        while (k < 0 && errno == EINTR);
        if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        size_t done = k > 0 ? (size_t)k : 0;
        if (done == hlen + blen)
            return 0;
        if (done < hlen) {
            out_append(c, head + done, hlen - done);
            out_append(c, body, blen);
        } else {
            out_append(c, body + (done - hlen), blen - (done - hlen));
        }
        event_add(&c->wev, c->w->idle_tv);
        return 0;
    }
    out_append(c, head, hlen);
    out_append(c, body, blen);
    return conn_flush(c);
}

static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define PUT(p, lit) put((p), (lit), sizeof(lit) - 1)

static char *put_uint(char *p, unsigned long long v)
{
    char tmp[24];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

static const char *date_now(worker *w, size_t *len)
{
    time_t now = time(NULL);
    if (now != w->date_sec) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(w->date, sizeof(w->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        w->date_sec = now;
    }
    *len = strlen(w->date);
    return w->date;
}

/* Writes one answer; head_only leaves the body out (HEAD). */
static int conn_answer(conn *c, int status, const char *content_type, const char *body,
                       size_t len, int close)
{
    char head[512];
    char *p = head;
    size_t dlen, ctlen = content_type ? strnlen(content_type, 200) : 0;
    const char *reason = http1_reason(status);
    const char *date = date_now(c->w, &dlen);
    p = PUT(p, "HTTP/1.1 ");
    p = put_uint(p, (unsigned)status);
    *p++ = ' ';
    p = put(p, reason, strlen(reason));
    p = PUT(p, "\r\nDate: ");
    p = put(p, date, dlen);
    if (ctlen > 0) {
        p = PUT(p, "\r\nContent-Type: ");
        p = put(p, content_type, ctlen);
    }
    p = PUT(p, "\r\nContent-Length: ");
    p = put_uint(p, len);
    if (close)
        p = PUT(p, "\r\nConnection: close");
    else if (c->minor == 0)
        p = PUT(p, "\r\nConnection: keep-alive");
    p = PUT(p, "\r\n\r\n");
    return conn_send(c, head, (size_t)(p - head), body, c->head_only ? 0 : len);
}

/* After the last answer on a connection is written. */
static void conn_finish(conn *c)
{
    if (c->linger && c->ssl == NULL && !c->peer_eof) {
        /* read and drop what the client still sends, then close */
        shutdown(c->fd, SHUT_WR);
        c->state = C_LINGER;
        c->lingered = 0;
        event_del(&c->ev);
        if (event_add(&c->ev, c->w->linger_tv) != 0)
            xalloc_die();
        return;
    }
    conn_close(c);
}

/* Consumes the request just answered and moves on: closes, waits for the
 * output, or looks at what is already buffered. */
static void conn_next(conn *c)
{
    if (c->consumed > 0) {
        if (c->consumed < c->in_len)
            memmove(c->in, c->in + c->consumed, c->in_len - c->consumed);
        c->in_len -= c->consumed;
        c->consumed = 0;
    }
    c->sent_continue = 0;
    if (output_pending(c))
        return; /* on_conn_write carries on */
    if (c->close_after) {
        conn_finish(c);
        return;
    }
    if (c->read_paused && !c->peer_eof) {
        c->read_paused = 0;
        if (event_add(&c->ev, c->w->idle_tv) != 0)
            xalloc_die();
    }
    if (!c->in_handler)
        conn_process(c);
}

/* An answer of the server itself ({"error", "message"} JSON); the
 * connection closes after it. */
static void conn_error(conn *c, int status, const char *message)
{
    const char *code = status == 413   ? "too_large"
                       : status == 431 ? "header_too_large"
                       : status == 408 ? "timeout"
                       : status == 417 ? "expectation_failed"
                       : status == 501 ? "not_implemented"
                       : status == 505 ? "http_version"
                                       : "bad_request";
    char body[384];
    int n = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"message\":\"%s\"}\n", code,
                     message ? message : http1_reason(status));
    c->head_only = 0;
    c->close_after = 1;
    c->linger = 1;
    c->consumed = c->in_len;
    if (conn_answer(c, status, "application/json", body, (size_t)n, 1) != 0) {
        conn_close(c);
        return;
    }
    conn_next(c);
}

/* Hands a complete request to the handler. 0, or -1 when the connection
 * is gone (or waits for an answer to come later). */
static int conn_dispatch(conn *c, const http1_request *hr, const char *body, size_t body_len,
                         size_t raw_len)
{
    worker *w = c->w;
    char *path = c->in + (hr->target - c->in);
    path[hr->path_len] = '\0'; /* the '?' or the space after the target */
    c->consumed = raw_len;
    c->minor = hr->minor;
    c->keep_alive = hr->keep_alive;
    c->head_only = hr->method == HTTP1_HEAD;
    c->req.method = hr->method;
    c->req.path = path;
    c->req.body = body;
    c->req.body_len = body_len;
    c->req.head = c->in;
    c->req.head_len = (size_t)(body - c->in);
    c->state = C_HANDLE;
    w->inflight++;
    c->in_handler = 1;
    w->h->o.handler(&c->req, w->idx, w->h->o.arg);
    c->in_handler = 0;
    if (c->fd < 0) {
        if (c->state != C_HANDLE)
            conn_close(c); /* closed while the handler ran: finish it now */
        return -1;
    }
    return c->state == C_HANDLE ? -1 : 0;
}

/* Answers the requests that are complete in the input buffer, in order. */
static void conn_process(conn *c)
{
    while (c->state == C_READ && c->fd >= 0 && !output_pending(c) && c->in_len > 0) {
        http1_request hr;
        size_t limit = c->w->body_limit;
        int rc = http1_parse_request(c->in, c->in_len, HSERVER_MAX_HEAD, &hr);
        if (rc == HTTP1_MORE)
            break;
        if (rc < 0) {
            conn_error(c, -rc, hr.error);
            return;
        }
        size_t head = (size_t)rc;
        if (hr.chunked) {
            size_t blen = 0;
            long used = http1_dechunk(c->in + head, c->in_len - head, limit, &blen);
            if (used < 0) {
                conn_error(c, c->in_len - head > limit ? 413 : 400,
                           c->in_len - head > limit ? "body over the size limit"
                                                    : "malformed chunked body");
                return;
            }
            if (used == 0) {
                if (c->in_len - head > limit + limit / 2 + IN_INITIAL) {
                    conn_error(c, 413, "body over the size limit");
                    return;
                }
                if (hr.expect_continue && !c->sent_continue)
                    goto send_continue;
                break;
            }
            if (conn_dispatch(c, &hr, c->in + head, blen, head + (size_t)used) != 0)
                return;
            continue;
        }
        if (hr.content_length > limit) {
            conn_error(c, 413, "body over the size limit");
            return;
        }
        size_t need = head + (size_t)hr.content_length;
        if (c->in_len < need) {
            in_reserve(c, need);
            if (hr.expect_continue && !c->sent_continue)
                goto send_continue;
            break;
        }
        if (conn_dispatch(c, &hr, c->in + head, (size_t)hr.content_length, need) != 0)
            return;
        continue;
    send_continue:
        c->sent_continue = 1;
        if (conn_send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25, NULL, 0) != 0)
            conn_close(c);
        return;
    }
    if (c->state == C_READ && c->fd >= 0 && c->peer_eof && !output_pending(c))
        conn_close(c); /* closed by the peer and nothing left to answer */
}

static void conn_linger(conn *c, short what)
{
    char drop[4096];
    if (what & EV_TIMEOUT) {
        conn_close(c);
        return;
    }
    for (;;) {
        ssize_t n = read(c->fd, drop, sizeof(drop));
        if (n > 0) {
            c->lingered += (size_t)n;
            if (c->lingered > LINGER_MAX_BYTES)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        break;
    }
    conn_close(c);
}

static void on_conn_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    conn *c = arg;
    if (c->state == C_LINGER) {
        conn_linger(c, what);
        return;
    }
    if (what & EV_TIMEOUT) {
        if (c->state == C_HANDLE)
            return; /* the handler has its own deadlines */
        if (c->in_len == 0 && !output_pending(c))
            conn_close(c); /* idle keep-alive connection */
        else
            conn_error(c, 408, "request not received in time");
        return;
    }
    if (output_pending(c) && c->ssl != NULL) {
        if (conn_flush(c) != 0) {
            conn_close(c);
            return;
        }
        if (!output_pending(c) && c->state == C_READ) {
            conn_next(c);
            return;
        }
    }
    if (conn_fill(c) != 0) {
        if (c->state == C_HANDLE) {
            /* answered later: stop reading, keep the socket when the peer
             * only shut its side (it may still read the answer) */
            event_del(&c->ev);
            c->read_paused = 1;
            if (!c->peer_eof)
                conn_close(c);
            return;
        }
        if (!c->peer_eof || c->in_len == 0) {
            conn_close(c);
            return;
        }
        event_del(&c->ev); /* answer what is complete, then close */
        c->read_paused = 1;
    }
    if (c->state == C_READ)
        conn_process(c);
}

static void on_conn_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    conn *c = arg;
    if (what & EV_TIMEOUT) {
        conn_close(c); /* the client does not read its answers */
        return;
    }
    if (c->tls_read_wants_write) {
        c->tls_read_wants_write = 0;
        on_conn_read(c->fd, EV_READ, c);
        return;
    }
    if (conn_flush(c) != 0) {
        conn_close(c);
        return;
    }
    if (!output_pending(c) && c->state == C_READ)
        conn_next(c);
}

/* ---- requests (worker thread) ---- */

int hserver_req_method(const hserver_req *r)
{
    return r->method;
}

const char *hserver_req_path(const hserver_req *r)
{
    return r->path;
}

const char *hserver_req_body(const hserver_req *r, size_t *len)
{
    *len = r->body_len;
    return r->body_len ? r->body : "";
}

const struct sockaddr *hserver_req_peer(const hserver_req *r)
{
    return (const struct sockaddr *)&r->c->peer;
}

const char *hserver_req_peer_text(const hserver_req *r)
{
    return r->c->peer_text;
}

struct event_base *hserver_req_base(const hserver_req *r)
{
    return r->c->w->base;
}

const char *hserver_req_header(const hserver_req *r, const char *name, size_t *len)
{
    size_t nlen = strlen(name);
    const char *p = r->head, *end = r->head + r->head_len;
    const char *eol = memchr(p, '\n', (size_t)(end - p)); /* past the request line */
    while (eol != NULL && (p = eol + 1) < end) {
        eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol != NULL ? eol : end;
        if ((size_t)(le - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1;
            while (v < le && (*v == ' ' || *v == '\t'))
                v++;
            while (le > v && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t'))
                le--;
            *len = (size_t)(le - v);
            return v;
        }
    }
    *len = 0;
    return NULL;
}

void hserver_reply(hserver_req *r, int status, const char *content_type, const char *body,
                   size_t len)
{
    conn *c = r->c;
    worker *w = c->w;
    w->inflight--;
    c->state = C_READ;
    if (c->dead || c->fd < 0) {
        conn_close(c); /* the peer went away meanwhile: to the free list */
        return;
    }
    int close = !c->keep_alive || w->draining || c->peer_eof;
    c->close_after = close;
    if (conn_answer(c, status, content_type, body, len, close) != 0) {
        conn_close(c);
        return;
    }
    conn_next(c);
}

/* ---- workers, control and drain ---- */

static int deadline_passed(const struct timespec *d)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

/* Closes connections that wait for a next request (draining). */
static void close_idle(worker *w)
{
    conn *c = w->conns;
    while (c != NULL) {
        conn *next = c->next;
        if (c->state == C_READ && c->in_len == 0 && !output_pending(c))
            conn_close(c);
        c = next;
    }
}

static void drain_check(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker *w = arg;
    close_idle(w);
    if (w->inflight > 0 && !deadline_passed(&w->drain_deadline)) {
        w->quiet_ticks = 0;
        return; /* the persistent timer looks again in 10 ms */
    }
    /* give the loop a few passes to write answers queued in this one */
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
    if (cmd & CMD_BODY_LIMIT)
        w->body_limit = atomic_load(&w->h->body_limit);
    if ((cmd & CMD_DRAIN) && w->drain_timer == NULL) {
        w->draining = 1;
        for (int i = 0; i < w->nls; i++) {
            if (w->ls[i].added)
                event_del(&w->ls[i].ev);
            w->ls[i].added = 0;
            close(w->ls[i].fd);
            w->ls[i].fd = -1;
        }
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
            xalloc_die();
        drain_check(-1, 0, w);
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    event_base_dispatch(w->base);
    return NULL;
}

int hserver_start(hserver *h, char err[HSERVER_ERR_MAX])
{
    for (int i = 0; i < h->nfds; i++)
        if (h->tls[i] && h->ctx == NULL) {
            snprintf(err, HSERVER_ERR_MAX, "an HTTPS listener needs a certificate");
            return -1;
        }
    for (int i = 0; i < h->o.workers; i++) {
        worker *w = &h->w[i];
        w->h = h;
        w->idx = i;
        w->body_limit = atomic_load(&h->body_limit);
        atomic_init(&w->cmd, 0);
        w->base = event_base_new();
        if (w->base == NULL)
            xalloc_die();
        struct timeval idle = {h->o.idle_timeout_sec > 0 ? h->o.idle_timeout_sec : 60, 0};
        struct timeval linger = {LINGER_SEC, 0};
        w->idle_tv = event_base_init_common_timeout(w->base, &idle);
        w->linger_tv = event_base_init_common_timeout(w->base, &linger);
        w->ctl = event_new(w->base, -1, 0, on_ctl, w);
        if (w->idle_tv == NULL || w->linger_tv == NULL || w->ctl == NULL)
            xalloc_die(); /* ctl: never added, made runnable by event_active only */
        for (int j = 0; j < h->nfds; j++) {
            listener *l = &w->ls[j];
            l->w = w;
            l->tls = h->tls[j];
            l->fd = fcntl(h->fds[j], F_DUPFD_CLOEXEC, 0);
            if (l->fd < 0) {
                snprintf(err, HSERVER_ERR_MAX, "cannot accept on a listener: %s",
                         strerror(errno));
                return -1;
            }
            w->nls++;
            if (event_assign(&l->ev, w->base, l->fd, EV_READ | EV_PERSIST, on_accept, l) != 0 ||
                event_add(&l->ev, NULL) != 0)
                xalloc_die();
            l->added = 1;
        }
    }
    for (int i = 0; i < h->o.workers; i++) {
        int e = pthread_create(&h->w[i].thread, NULL, worker_main, &h->w[i]);
        if (e != 0) {
            snprintf(err, HSERVER_ERR_MAX, "cannot start a worker: %s", strerror(e));
            return -1;
        }
        h->w[i].started = 1;
    }
    return 0;
}

static void tell(hserver *h, int cmd)
{
    for (int i = 0; i < h->o.workers; i++) {
        if (h->w[i].ctl == NULL)
            continue;
        atomic_fetch_or(&h->w[i].cmd, cmd);
        event_active(h->w[i].ctl, EV_READ, 0);
    }
}

void hserver_set_body_limit(hserver *h, size_t limit)
{
    atomic_store(&h->body_limit, limit);
    tell(h, CMD_BODY_LIMIT);
}

int hserver_is_draining(const hserver *h)
{
    return atomic_load(&((hserver *)h)->draining);
}

int hserver_drain(hserver *h, int timeout_ms)
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

void hserver_free(hserver *h)
{
    if (h == NULL)
        return;
    for (int i = 0; i < h->o.workers; i++) {
        worker *w = &h->w[i];
        if (w->started) { /* never drained: stop it now */
            event_base_loopbreak(w->base);
            pthread_join(w->thread, NULL);
        }
        conn_free_all(w);
        for (int j = 0; j < w->nls; j++) {
            if (w->ls[j].added)
                event_del(&w->ls[j].ev);
            if (w->ls[j].fd >= 0)
                close(w->ls[j].fd);
        }
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
