/*
 * daemon/serve.h - the life of a daemon's main thread, shared by hrss-node
 * and hrss-sms: listen on the configured addresses, start the HTTP workers
 * with the process signals blocked in them, then run the main loop, where
 * SIGHUP reloads (the daemon's reload hook: load, validate, swap, keeping
 * the previous configuration when the new one is refused), a timer polls
 * what other processes change (the daemon's poll hook), and SIGTERM or
 * SIGINT stops the loop; then drain: no new connections, requests in
 * progress answered within the drain timeout.
 *
 * Log lines: listening (one per address), listen_failed, started, signal,
 * stopped. Main thread only.
 */
#ifndef HRSS_DAEMON_SERVE_H
#define HRSS_DAEMON_SERVE_H

#include <event2/event.h>

#include "net/hserver.h"

typedef struct serve_listen {
    char *const *http;  /* HOST:PORT, plain */
    int n_http;
    char *const *https; /* HOST:PORT, TLS with cert and key */
    int n_https;
    const char *cert;
    const char *key;
} serve_listen;

typedef struct serve_hooks {
    void *arg;
    void (*reload)(void *arg);       /* SIGHUP */
    void (*poll)(void *arg);         /* every poll_ms */
    int poll_ms;
    void (*started)(void *arg);      /* once, when the workers run (may be NULL) */
    const int *drain_timeout_ms;     /* read when the loop stops (reload may change it) */
    int workers;                     /* for the started line */
} serve_hooks;

/* Serves h until SIGTERM or SIGINT, on base (the caller's main loop, which
 * may carry other events of the daemon). Returns 0 when every request was
 * answered in the drain, 1 when some were not, 2 when listening or starting
 * failed (logged as listen_failed). h is drained either way; the caller
 * frees it. */
int serve_run(hserver *h, struct event_base *base, const serve_listen *l, const serve_hooks *k);

#endif
