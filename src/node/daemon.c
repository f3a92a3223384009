/*
 * node/daemon.c - the hrss-node process: it loads the configuration,
 * opens the registry and publishes its first snapshot, opens the audit log
 * and the transaction pipeline, registers its routes, then hands the main
 * thread to the daemon skeleton (daemon/serve.h): listeners, workers
 * (net/hserver.c), signals, drain. What is left here are the skeleton's
 * hooks: reload on SIGHUP (load the file, validate it, swap what may change
 * while running, keep the rest), and a 250 ms poll that notices registry
 * commits by other processes (PRAGMA data_version) and whether the data
 * directory is still writable, and once a second puts the nonces
 * journalled by the workers on the disk.
 *
 * Routes go into the route table of daemon/route.h. The transaction URLs,
 * POST /api/v1/transaction and POST /{serviceCode}, go to the transaction
 * pipeline (pipeline.c).
 */
#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <netinet/in.h>

#include "config.h"
#include "audit.h"
#include "log.h"
#include "metrics.h"
#include "daemon/route.h"
#include "daemon/serve.h"
#include "net/hserver.h"
#include "net/http1.h"
#include "net/upstream.h"
#include "pipeline.h"
#include "registry.h"
#include "snapshot.h"
#include "common/xalloc.h"

#define POLL_INTERVAL_MS 250

typedef struct node {
    const char *config_path;
    node_config cfg;          /* main thread only; workers read the atomics below */
    registry *reg;            /* main thread only */
    snapshot_holder snaps;
    snapshot_view *views;     /* one per worker */
    int64_t data_version;
    hserver *http;
    route_table routes;
    pipeline *pipe;
    metrics *metrics;
    audit *audit;
    struct event_base *base;  /* the main thread's loop */
    atomic_int log_access;
    atomic_int datadir_ok;
    atomic_int registry_ok;   /* the last registry load succeeded */
    atomic_llong replay_window_sec;  /* for the pipeline (phase 2) */
    atomic_llong audit_retention_sec;
    int drain_timeout_ms;
    int exit_status;
    unsigned polls; /* of on_poll, so that some work runs once a second */
} node;

/* ---- request handlers (worker threads) ---- */

/* Each answers and returns the status it answered with (0: answered
 * later, and logged then), as daemon/route.h says. */

static const char *not_ready_reason(node *n)
{
    if (hserver_is_draining(n->http))
        return "draining";
    if (snapshot_holder_generation(&n->snaps) == 0)
        return "registry not loaded";
    if (!atomic_load(&n->datadir_ok))
        return "data directory not writable";
    return NULL;
}

static int h_healthz(void *ctx, hserver_req *req, int worker)
{
    node *n = ctx;
    (void)n;
    (void)worker;
    return route_reply_text(req, 200, "ok\n");
}

static int h_readyz(void *ctx, hserver_req *req, int worker)
{
    node *n = ctx;
    (void)worker;
    const char *why = not_ready_reason(n);
    char text[128];
    if (why == NULL)
        return route_reply_text(req, 200, "ready\n");
    snprintf(text, sizeof(text), "not ready: %s\n", why);
    return route_reply_text(req, 503, text);
}

static int h_registry_version(void *ctx, hserver_req *req, int worker)
{
    node *n = ctx;
    const snapshot *s = snapshot_view_get(&n->views[worker], &n->snaps);
    char body[256];
    int len;
    if (s == NULL)
        return route_reply_error(req, 503, "not_ready", "registry not loaded");
    len = snprintf(body, sizeof(body),
                   "{\"generation\":%llu,\"version\":%lld,\"systems\":%d,\"services\":%d,"
                   "\"grants\":%d}\n",
                   (unsigned long long)s->hold.generation, (long long)s->version, s->n_systems,
                   s->n_services, s->n_grants);
    hserver_reply(req, 200, "application/json", body, (size_t)len);
    return 200;
}

static int h_metrics(void *ctx, hserver_req *req, int worker)
{
    node *n = ctx;
    (void)worker;
    size_t len;
    char *text = metrics_render(n->metrics, &len);
    hserver_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
    return 200;
}

/* the transaction path logs its own lines (event=transaction) */
static int h_transaction(void *ctx, hserver_req *req, int worker)
{
    node *n = ctx;
    pipeline_handle(n->pipe, req, worker, NULL);
    return 0;
}

/* POST /{serviceCode}: the path was checked by is_service_path */
static int h_service(void *ctx, hserver_req *req, int worker)
{
    node *n = ctx;
    pipeline_handle(n->pipe, req, worker, hserver_req_path(req) + 1);
    return 0;
}

/* "/" + an interface code: POST /{serviceCode}, the standard's own style. */
static int is_service_path(const char *path)
{
    hrss_error e;
    return path[0] == '/' &&
           hrss_interface_code_check(path + 1, strlen(path + 1), &e) == HRSS_OK;
}

static void add_routes(node *n)
{
    route_add(&n->routes, HTTP1_GET, "/healthz", h_healthz, n);
    route_add(&n->routes, HTTP1_GET, "/readyz", h_readyz, n);
    route_add(&n->routes, HTTP1_GET, "/registry/version", h_registry_version, n);
    route_add(&n->routes, HTTP1_GET, "/metrics", h_metrics, n);
    route_add(&n->routes, HTTP1_POST, "/api/v1/transaction", h_transaction, n);
    route_add_match(&n->routes, HTTP1_POST, is_service_path, h_service, n);
}

static void handle(hserver_req *req, int worker, void *arg)
{
    node *n = arg;
    struct timespec t0, t1;
    int m = hserver_req_method(req);
    const char *path = hserver_req_path(req);
    /* the transaction path first: it is nearly every request */
    if (m == HTTP1_POST && strcmp(path, "/api/v1/transaction") == 0) {
        pipeline_handle(n->pipe, req, worker, NULL);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* no use of req after it is answered: copy what the log line needs */
    char qpath[160], peer[INET6_ADDRSTRLEN + 8];
    int log_it = atomic_load_explicit(&n->log_access, memory_order_relaxed) &&
                 log_enabled(NODE_LOG_INFO);
    if (log_it) {
        log_quote(path, qpath, sizeof(qpath));
        snprintf(peer, sizeof(peer), "%s", hserver_req_peer_text(req));
    }
    int status = route_dispatch(&n->routes, req, worker);

    if (log_it && status != 0) {
        static const char *const names[] = {"-", "GET", "HEAD", "POST", "OTHER"};
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long us = (long)(t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
        log_event(NODE_LOG_INFO, "request", "worker=%d method=%s path=%s status=%d peer=%s us=%ld",
                  worker, names[m >= 1 && m <= 4 ? m : 0], qpath, status, peer, us);
    }
}

/* ---- registry refresh and readiness (main thread) ---- */

static void load_snapshot(node *n, const char *why)
{
    char err[REGISTRY_ERR_MAX];
    snapshot *s = NULL;
    int64_t dv;
    if (registry_data_version(n->reg, &dv, err) == 0)
        n->data_version = dv;
    if (registry_load(n->reg, &s, err) != 0) {
        char q[256];
        atomic_store(&n->registry_ok, 0);
        log_event(NODE_LOG_ERROR, "registry_load_failed", "reason=%s error=%s", why,
                  log_quote(err, q, sizeof(q)));
        return; /* the previous snapshot stays in service */
    }
    atomic_store(&n->registry_ok, 1);
    snapshot_holder_publish(&n->snaps, s);
    log_event(NODE_LOG_INFO, "registry_loaded",
              "reason=%s generation=%llu version=%lld systems=%d services=%d grants=%d", why,
              (unsigned long long)s->hold.generation, (long long)s->version, s->n_systems,
              s->n_services, s->n_grants);
}

static void on_poll(void *arg)
{
    node *n = arg;
    char err[REGISTRY_ERR_MAX];
    int64_t dv;
    if (++n->polls % (1000 / POLL_INTERVAL_MS) == 0)
        pipeline_tick(n->pipe);
    int ok = access(n->cfg.data_dir, W_OK) == 0;
    if (ok != atomic_exchange(&n->datadir_ok, ok))
        log_event(ok ? NODE_LOG_INFO : NODE_LOG_ERROR, "data_dir", "writable=%d", ok);
    if (registry_data_version(n->reg, &dv, err) != 0) {
        char q[256];
        log_event(NODE_LOG_ERROR, "registry_poll_failed", "error=%s",
                  log_quote(err, q, sizeof(q)));
        return;
    }
    if (dv != n->data_version)
        load_snapshot(n, "change");
}

/* ---- configuration (main thread) ---- */

static void apply_reloadable(node *n, const node_config *c)
{
    log_set_level(c->log_level);
    atomic_store(&n->log_access, c->log_access);
    atomic_store(&n->replay_window_sec, c->replay_window_sec);
    atomic_store(&n->audit_retention_sec, c->audit_retention_sec);
    audit_set_retention(n->audit, c->audit_retention_sec);
    upstream_breakers_configure(c->breaker_failures, c->breaker_cooldown_ms);
    n->drain_timeout_ms = c->drain_timeout_ms;
}

static int same_list(char *const *a, int na, char *const *b, int nb)
{
    if (na != nb)
        return 0;
    for (int i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return 0;
    return 1;
}

static void reload(void *arg)
{
    node *n = arg;
    node_config c;
    char err[NODE_CONFIG_ERR_MAX], q[NODE_CONFIG_ERR_MAX + 16];
    node_config_init(&c);
    if (node_config_load(&c, n->config_path, err) != 0) {
        log_event(NODE_LOG_ERROR, "reload_failed", "error=%s kept=previous",
                  log_quote(err, q, sizeof(q)));
        node_config_free(&c);
        return;
    }
    const node_config *o = &n->cfg;
    if (strcmp(c.system_code, o->system_code) != 0 || strcmp(c.area, o->area) != 0 ||
        strcmp(c.data_dir, o->data_dir) != 0 || c.workers != o->workers ||
        c.replay_max_entries != o->replay_max_entries ||
        (c.replay_store == NULL) != (o->replay_store == NULL) ||
        (c.replay_store != NULL && strcmp(c.replay_store, o->replay_store) != 0) ||
        c.idle_timeout_sec != o->idle_timeout_sec ||
        !same_list(c.http_listen, c.n_http_listen, o->http_listen, o->n_http_listen) ||
        !same_list(c.https_listen, c.n_https_listen, o->https_listen, o->n_https_listen))
        log_event(NODE_LOG_WARN, "reload_partial",
                  "msg=\"node identity, data_dir, workers, replay_max_entries, replay_store, "
                  "idle_timeout or "
                  "listen changed: "
                  "they take effect on restart\"");
    apply_reloadable(n, &c);
    if (c.body_limit != o->body_limit)
        hserver_set_body_limit(n->http, c.body_limit);
    char uerr[512], uq[600];
    if (upstream_tls_configure(c.upstream_ca_file, uerr, sizeof(uerr)) != 0)
        log_event(NODE_LOG_ERROR, "tls_reload_failed", "error=%s kept=previous",
                  log_quote(uerr, uq, sizeof(uq)));
    if (n->cfg.n_https_listen > 0 && c.tls_cert != NULL && c.tls_key != NULL) {
        char terr[HSERVER_ERR_MAX], tq[HSERVER_ERR_MAX + 16];
        if (hserver_set_tls(n->http, c.tls_cert, c.tls_key, terr) != 0)
            log_event(NODE_LOG_ERROR, "tls_reload_failed", "error=%s kept=previous",
                      log_quote(terr, tq, sizeof(tq)));
    }
    /* take the reloadable values; what needs a restart stays as started */
    n->cfg.log_level = c.log_level;
    n->cfg.log_access = c.log_access;
    n->cfg.body_limit = c.body_limit;
    n->cfg.drain_timeout_ms = c.drain_timeout_ms;
    n->cfg.replay_window_sec = c.replay_window_sec;
    n->cfg.breaker_failures = c.breaker_failures;
    n->cfg.breaker_cooldown_ms = c.breaker_cooldown_ms;
    n->cfg.audit_retention_sec = c.audit_retention_sec;
    char *t = n->cfg.tls_cert;
    n->cfg.tls_cert = c.tls_cert;
    c.tls_cert = t;
    t = n->cfg.tls_key;
    n->cfg.tls_key = c.tls_key;
    c.tls_key = t;
    node_config_free(&c);
    log_event(NODE_LOG_INFO, "reloaded", "level=%s body_limit=%zu",
              node_log_level_name(n->cfg.log_level), n->cfg.body_limit);
    load_snapshot(n, "reload");
}

int node_daemon_run(const char *config_path)
{
    node n;
    char err[REGISTRY_ERR_MAX], q[REGISTRY_ERR_MAX + 16];
    char herr[HSERVER_ERR_MAX];

    memset(&n, 0, sizeof(n));
    n.config_path = config_path;
    n.exit_status = 2;
    snapshot_holder_init(&n.snaps);
    node_config_init(&n.cfg);
    if (node_config_load(&n.cfg, config_path, herr) != 0) {
        log_event(NODE_LOG_ERROR, "config_invalid", "error=%s", log_quote(herr, q, sizeof(q)));
        goto done;
    }
    apply_reloadable(&n, &n.cfg);
    char uerr[512];
    if (upstream_tls_configure(n.cfg.upstream_ca_file, uerr, sizeof(uerr)) != 0) {
        log_event(NODE_LOG_ERROR, "config_invalid", "error=%s",
                  log_quote(uerr, q, sizeof(q)));
        goto done;
    }
    log_event(NODE_LOG_INFO, "starting", "version=%s system_code=%s area=%s workers=%d",
              HRSS_VERSION, n.cfg.system_code, n.cfg.area, n.cfg.workers);
    if (registry_open(n.cfg.data_dir, &n.reg, err) != 0) {
        log_event(NODE_LOG_ERROR, "registry_open_failed", "error=%s",
                  log_quote(err, q, sizeof(q)));
        goto done;
    }
    atomic_store(&n.datadir_ok, access(n.cfg.data_dir, W_OK) == 0);
    load_snapshot(&n, "start");

    n.views = xcalloc((size_t)n.cfg.workers, sizeof(snapshot_view));
    pipeline_options po = {n.cfg.system_code, n.cfg.data_dir, n.cfg.workers, &n.snaps,
                           n.views, &n.replay_window_sec, n.cfg.replay_window_sec,
                           n.cfg.replay_max_entries, &n.log_access, NULL, NULL,
                           n.cfg.replay_store};
    n.metrics = metrics_new(n.cfg.workers);
    po.metrics = n.metrics;
    char aerr[AUDIT_ERR_MAX];
    if (audit_open(n.cfg.data_dir, n.cfg.audit_retention_sec, &n.audit, aerr) != 0) {
        log_event(NODE_LOG_ERROR, "audit_open_failed", "error=%s", log_quote(aerr, q, sizeof(q)));
        goto done;
    }
    po.audit = n.audit;
    char perr[PIPELINE_ERR_MAX];
    if (pipeline_new(&po, &n.pipe, perr) != 0) {
        log_event(NODE_LOG_ERROR, "pipeline_failed", "error=%s", log_quote(perr, q, sizeof(q)));
        goto done;
    }

    hserver_options ho = {n.cfg.workers, n.cfg.body_limit, n.cfg.idle_timeout_sec, handle, &n};
    if (hserver_new(&ho, &n.http, herr) != 0) {
        log_event(NODE_LOG_ERROR, "listen_failed", "error=%s", log_quote(herr, q, sizeof(q)));
        goto done;
    }
    add_routes(&n);
    n.base = xalloc_check(event_base_new());
    serve_listen sl = {n.cfg.http_listen, n.cfg.n_http_listen, n.cfg.https_listen,
                       n.cfg.n_https_listen, n.cfg.tls_cert, n.cfg.tls_key};
    serve_hooks sh = {&n, reload, on_poll, POLL_INTERVAL_MS, NULL, &n.drain_timeout_ms,
                      n.cfg.workers};
    n.exit_status = serve_run(n.http, n.base, &sl, &sh);

done:
    pipeline_free(n.pipe); /* its upstream connections live on the workers' loops */
    hserver_free(n.http);
    audit_close(n.audit); /* after the workers: writes what they queued */
    metrics_free(n.metrics);
    upstream_breakers_free();
    upstream_tls_free();
    for (int i = 0; n.views != NULL && i < n.cfg.workers; i++)
        snapshot_view_release(&n.views[i]);
    free(n.views);
    if (n.base != NULL)
        event_base_free(n.base);
    snapshot_holder_destroy(&n.snaps);
    registry_close(n.reg);
    node_config_free(&n.cfg);
    return n.exit_status;
}
