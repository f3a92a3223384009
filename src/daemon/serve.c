/*
 * daemon/serve.c - listen, start, signals, poll, drain (serve.h).
 */
#include "daemon/serve.h"

#include <pthread.h>
#include <signal.h>

#include "common/log.h"
#include "common/xalloc.h"

typedef struct serve_run_state {
    const serve_hooks *k;
    struct event_base *base;
} serve_run_state;

static int listen_all(hserver *h, const serve_listen *l, char err[HSERVER_ERR_MAX])
{
    for (int tls = 0; tls <= 1; tls++) {
        char *const *list = tls ? l->https : l->http;
        int count = tls ? l->n_https : l->n_http;
        for (int i = 0; i < count; i++) {
            char bound[128];
            if (hserver_listen(h, list[i], tls, bound, sizeof(bound), err) != 0)
                return -1;
            hrss_log(HRSS_LOG_INFO, "listening", "proto=%s addr=%s", tls ? "https" : "http",
                     bound);
        }
    }
    return l->n_https > 0 ? hserver_set_tls(h, l->cert, l->key, err) : 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    serve_run_state *s = arg;
    if (sig == SIGHUP) {
        hrss_log(HRSS_LOG_INFO, "signal", "signal=HUP action=reload");
        s->k->reload(s->k->arg);
        return;
    }
    hrss_log(HRSS_LOG_INFO, "signal", "signal=%s action=drain timeout_ms=%d",
             sig == SIGTERM ? "TERM" : "INT", *s->k->drain_timeout_ms);
    event_base_loopbreak(s->base);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    serve_run_state *s = arg;
    s->k->poll(s->k->arg);
}

/* Starts the workers with SIGTERM, SIGINT and SIGHUP blocked in them, so
 * that only the main loop sees those, and SIGPIPE ignored; adds the signal
 * events to the main loop either way. The result of hserver_start. */
static int start_with_signals(hserver *h, serve_run_state *s, struct event *sigs[3],
                              char err[HSERVER_ERR_MAX])
{
    static const int signums[3] = {SIGTERM, SIGINT, SIGHUP};
    sigset_t block, prev;
    sigemptyset(&block);
    for (int i = 0; i < 3; i++)
        sigaddset(&block, signums[i]);
    signal(SIGPIPE, SIG_IGN);
    pthread_sigmask(SIG_BLOCK, &block, &prev);
    int rc = hserver_start(h, err);
    for (int i = 0; i < 3; i++) {
        sigs[i] = xalloc_check(evsignal_new(s->base, signums[i], on_signal, s));
        xalloc_check_rc(event_add(sigs[i], NULL));
    }
    pthread_sigmask(SIG_SETMASK, &prev, NULL);
    return rc;
}

int serve_run(hserver *h, struct event_base *base, const serve_listen *l, const serve_hooks *k)
{
    serve_run_state s = {k, base};
    struct event *sigs[3] = {NULL, NULL, NULL}, *poll = NULL;
    char err[HSERVER_ERR_MAX], q[HSERVER_ERR_MAX + 16];
    int status = 2;

    int listening = listen_all(h, l, err) == 0;
    if (!listening || start_with_signals(h, &s, sigs, err) != 0) {
        hrss_log(HRSS_LOG_ERROR, "listen_failed", "error=%s", hrss_log_quote(err, q, sizeof(q)));
        if (listening) /* the workers that did start */
            hserver_drain(h, 0);
        goto done;
    }
    poll = xalloc_check(event_new(base, -1, EV_PERSIST, on_poll, &s));
    struct timeval tv = {k->poll_ms / 1000, (k->poll_ms % 1000) * 1000};
    xalloc_check_rc(event_add(poll, &tv));
    if (k->started != NULL)
        k->started(k->arg);
    hrss_log(HRSS_LOG_INFO, "started", "workers=%d", k->workers);

    event_base_dispatch(base);

    int left = hserver_drain(h, *k->drain_timeout_ms);
    hrss_log(left ? HRSS_LOG_WARN : HRSS_LOG_INFO, "stopped", "unanswered=%d", left);
    status = left ? 1 : 0;
done:
    for (int i = 0; i < 3; i++)
        if (sigs[i] != NULL)
            event_free(sigs[i]);
    if (poll != NULL)
        event_free(poll);
    return status;
}
