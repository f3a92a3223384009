/*
 * lib/provider_http.c - the embedded HTTP server of provider.h: one libevent
 * evhttp loop on the calling thread, POST on any path to
 * hrss_provider_handle, GET /healthz. For providers written in C that do not
 * have a web server of their own; large deployments put theirs in front.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include "internal.h"
#include "hrss/provider.h"

struct hrss_provider_server {
    hrss_provider *p;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    int port;
};

static void reply(struct evhttp_request *req, int status, const char *ctype, const char *body,
                  size_t len)
{
    struct evbuffer *b = evbuffer_new();
    if (b == NULL) {
        evhttp_send_error(req, 500, NULL);
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
    evbuffer_add(b, body, len);
    evhttp_send_reply(req, status, status == 200 ? "OK" : "Error", b);
    evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    hrss_provider_server *s = arg;
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

    if (m == EVHTTP_REQ_GET && path != NULL && strcmp(path, "/healthz") == 0) {
        reply(req, 200, "text/plain", "ok\n", 3);
        return;
    }
    if (m != EVHTTP_REQ_POST) {
        static const char msg[] = "{\"error\":\"method_not_allowed\",\"message\":\"POST only\"}";
        reply(req, 405, "application/json", msg, sizeof(msg) - 1);
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *body = len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
    char *out = NULL;
    size_t outlen = 0;
    int status = 500;
    hrss_error e = {0, ""};
    if (body == NULL ||
        hrss_provider_handle(s->p, body, len, &out, &outlen, &status, &e) != HRSS_OK) {
        static const char msg[] = "{\"error\":\"internal\",\"message\":\"the provider failed\"}";
        reply(req, 500, "application/json", msg, sizeof(msg) - 1);
        return;
    }
    reply(req, status, "application/json", out, outlen);
    hrss_free(out);
}

/* "HOST:PORT", "[V6]:PORT" -> address. */
static int parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen)
{
    char host[128];
    const char *colon = strrchr(spec, ':');
    if (colon == NULL || colon == spec)
        return -1;
    size_t hl = (size_t)(colon - spec);
    const char *h = spec;
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= sizeof(host))
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end != '\0' || port < 0 || port > 65535)
        return -1;
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *sslen = sizeof(*a4);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *sslen = sizeof(*a6);
        return 0;
    }
    return -1;
}

static pthread_once_t threads_once = PTHREAD_ONCE_INIT;

static void threads_init(void)
{
    evthread_use_pthreads(); /* so that stop may come from another thread */
}

int hrss_provider_server_new(hrss_provider *p, const char *addr, hrss_provider_server **out,
                             hrss_error *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;

    if (out == NULL)
        return hrss__error(err, HRSS_EINVAL, "no output handle");
    *out = NULL;
    if (p == NULL || addr == NULL || parse_listen(addr, &ss, &sslen) != 0)
        return hrss__error(err, HRSS_EINVAL, "listen '%s': must be HOST:PORT with a numeric host",
                           addr != NULL ? addr : "");
    pthread_once(&threads_once, threads_init);
    hrss_provider_server *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return hrss__error(err, HRSS_ENOMEM, "out of memory");
    s->p = p;
    s->base = event_base_new();
    s->http = s->base != NULL ? evhttp_new(s->base) : NULL;
    if (s->http == NULL) {
        hrss_provider_server_free(s);
        return hrss__error(err, HRSS_ENOMEM, "cannot make the event loop");
    }
    evhttp_set_max_body_size(s->http, HRSS_ENVELOPE_MAX_BYTES);
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
    evhttp_set_timeout(s->http, 60);
    evhttp_set_gencb(s->http, on_request, s);

    evutil_socket_t fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, 128) != 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        hrss_provider_server_free(s);
        return hrss__error(err, HRSS_EIO, "listen %s: %s", addr, strerror(saved));
    }
    s->sock = evhttp_accept_socket_with_handle(s->http, fd);
    if (s->sock == NULL) {
        close(fd);
        hrss_provider_server_free(s);
        return hrss__error(err, HRSS_EIO, "listen %s: cannot accept", addr);
    }
    struct sockaddr_storage bound;
    socklen_t bl = sizeof(bound);
    if (getsockname(fd, (struct sockaddr *)&bound, &bl) == 0)
        s->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                                   : ((struct sockaddr_in6 *)&bound)->sin6_port);
    *out = s;
    return HRSS_OK;
}

int hrss_provider_server_port(const hrss_provider_server *s)
{
    return s != NULL ? s->port : -1;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    event_base_loopexit(arg, NULL);
}

int hrss_provider_server_run(hrss_provider_server *s, int handle_signals, hrss_error *err)
{
    struct event *sint = NULL, *sterm = NULL;
    if (s == NULL)
        return hrss__error(err, HRSS_EINVAL, "no server");
    if (handle_signals) {
        sint = evsignal_new(s->base, SIGINT, on_signal, s->base);
        sterm = evsignal_new(s->base, SIGTERM, on_signal, s->base);
        if (sint == NULL || sterm == NULL || evsignal_add(sint, NULL) != 0 ||
            evsignal_add(sterm, NULL) != 0) {
            if (sint != NULL)
                event_free(sint);
            if (sterm != NULL)
                event_free(sterm);
            return hrss__error(err, HRSS_EIO, "cannot watch SIGINT and SIGTERM");
        }
    }
    int rc = event_base_dispatch(s->base);
    if (sint != NULL)
        event_free(sint);
    if (sterm != NULL)
        event_free(sterm);
    return rc < 0 ? hrss__error(err, HRSS_EIO, "event loop failed") : HRSS_OK;
}

void hrss_provider_server_stop(hrss_provider_server *s)
{
    if (s != NULL)
        event_base_loopexit(s->base, NULL);
}

void hrss_provider_server_free(hrss_provider_server *s)
{
    if (s == NULL)
        return;
    if (s->http != NULL)
        evhttp_free(s->http); /* closes the bound socket */
    if (s->base != NULL)
        event_base_free(s->base);
    free(s);
}
