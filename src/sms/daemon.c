/*
 * sms/daemon.c - the hrss-sms process: configuration, sms.db, the account
 * snapshot, the queue's writer, the dispatcher to the carriers (dispatch.c)
 * and the uplink (uplink.c); then the routes of each module go into one
 * route table (daemon/route.h) and the main thread goes to the daemon
 * skeleton (daemon/serve.h): listeners, HTTP workers, signals, drain. The
 * skeleton's hooks here: reload on SIGHUP, a 250 ms poll that reloads the
 * accounts when another process (the account commands) changed sms.db, and
 * starting the dispatcher once the workers run.
 */
#include "daemon.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "account.h"
#include "api.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "config.h"
#include "db.h"
#include "dispatch.h"
#include "hrss/hrss.h"
#include "log.h"
#include "daemon/route.h"
#include "daemon/serve.h"
#include "net/hserver.h"
#include "net/http1.h"
#include "queue.h"
#include "uplink.h"

#define POLL_INTERVAL_MS 250

typedef struct sms_daemon {
    const char *config_path;
    sms_config cfg;
    sqlite3 *db;              /* main thread: account snapshots, data_version */
    int64_t data_version;
    int64_t accounts_version; /* meta.accounts_version of the snapshot */
    acct_holder accounts;
    queue *q;
    api *api;
    dispatch *disp;
    uplink *up;               /* NULL when the command engine is off */
    hserver *http;
    route_table routes;
    struct event_base *base;
    atomic_int log_access;
    atomic_int datadir_ok;
    int drain_timeout_ms;
    int exit_status;
} sms_daemon;

static int h_healthz(void *ctx, hserver_req *req, int worker)
{
    sms_daemon *d = ctx;
    (void)d;
    (void)worker;
    return route_reply_text(req, 200, "ok\n");
}

static int h_readyz(void *ctx, hserver_req *req, int worker)
{
    sms_daemon *d = ctx;
    (void)worker;
    const char *why = hserver_is_draining(d->http)  ? "draining"
                      : !atomic_load(&d->datadir_ok) ? "data directory not writable"
                      : !queue_is_healthy(d->q)      ? "queue cannot write to sms.db"
                                                     : NULL;
    char text[128];
    if (why == NULL)
        return route_reply_text(req, 200, "ready\n");
    snprintf(text, sizeof(text), "not ready: %s\n", why);
    return route_reply_text(req, 503, text);
}

static int h_metrics(void *ctx, hserver_req *req, int worker)
{
    sms_daemon *d = ctx;
    (void)worker;
    hrss_buf b;
    char line[256];
    uint64_t batches, jobs, failures;
    buf_init(&b, (size_t)1 << 20);
    api_metrics(d->api, &b);
    queue_stats(d->q, &batches, &jobs, &failures);
    snprintf(line, sizeof(line),
             "# TYPE hrss_sms_queue_commits_total counter\nhrss_sms_queue_commits_total %llu\n"
             "# TYPE hrss_sms_queue_jobs_total counter\nhrss_sms_queue_jobs_total %llu\n"
             "# TYPE hrss_sms_queue_commit_failures_total counter\n"
             "hrss_sms_queue_commit_failures_total %llu\n",
             (unsigned long long)batches, (unsigned long long)jobs,
             (unsigned long long)failures);
    buf_append_str(&b, line);
    dispatch_metrics(d->disp, &b);
    if (d->up != NULL)
        uplink_metrics(d->up, &b);
    hserver_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.p, b.len);
    buf_free(&b);
    return 200;
}

static void add_routes(sms_daemon *d)
{
    route_add(&d->routes, HTTP1_GET, "/healthz", h_healthz, d);
    route_add(&d->routes, HTTP1_GET, "/readyz", h_readyz, d);
    route_add(&d->routes, HTTP1_GET, "/metrics", h_metrics, d);
    api_routes(d->api, &d->routes);
    if (d->up != NULL)
        uplink_routes(d->up, &d->routes);
}

static void handle(hserver_req *req, int worker, void *arg)
{
    sms_daemon *d = arg;
    /* no use of req once answered: copy what the log line needs */
    char qp[160];
    int log_it = atomic_load_explicit(&d->log_access, memory_order_relaxed) &&
                 sms_log_enabled(SMS_LOG_DEBUG);
    if (log_it)
        sms_log_quote(hserver_req_path(req), qp, sizeof(qp));
    /* the send and status interfaces answer later and log their own lines */
    int status = route_dispatch(&d->routes, req, worker);
    if (log_it && status != 0)
        sms_log(SMS_LOG_DEBUG, "request", "worker=%d path=%s status=%d", worker, qp, status);
}

static int64_t accounts_version(sms_daemon *d)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(d->db, "SELECT v FROM meta WHERE k='accounts_version'", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void reload_accounts(sms_daemon *d, const char *why)
{
    char err[ACCT_ERR_MAX], q[ACCT_ERR_MAX + 16];
    d->accounts_version = accounts_version(d);
    if (acct_holder_reload(&d->accounts, d->db, err) != 0) {
        sms_log(SMS_LOG_ERROR, "accounts_load_failed", "reason=%s error=%s", why,
                sms_log_quote(err, q, sizeof(q)));
        return;
    }
    acct_snap *s = acct_snap_get(&d->accounts);
    sms_log(SMS_LOG_INFO, "accounts_loaded", "reason=%s accounts=%d words=%d", why, s->n,
            s->n_words);
    acct_snap_put(s);
}

static void on_poll(void *arg)
{
    sms_daemon *d = arg;
    int ok = access(d->cfg.data_dir, W_OK) == 0;
    if (ok != atomic_exchange(&d->datadir_ok, ok))
        sms_log(ok ? SMS_LOG_INFO : SMS_LOG_ERROR, "data_dir", "writable=%d", ok);
    sqlite3_stmt *st;
    int64_t dv = d->data_version;
    if (sqlite3_prepare_v2(d->db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        dv = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    /* data_version moves with every commit of another connection (the
     * writer's too); the accounts' own version, kept by triggers, says
     * whether accounts, templates or words changed */
    if (dv != d->data_version) {
        d->data_version = dv;
        if (accounts_version(d) != d->accounts_version)
            reload_accounts(d, "change");
    }
}

static void apply_reloadable(sms_daemon *d, const sms_config *c)
{
    sms_log_set_level(c->log_level);
    atomic_store(&d->log_access, c->log_access);
    d->drain_timeout_ms = c->drain_timeout_ms;
}

static void reload(void *arg)
{
    sms_daemon *d = arg;
    sms_config c;
    char err[SMS_CONFIG_ERR_MAX], q[SMS_CONFIG_ERR_MAX + 16];
    sms_config_init(&c);
    if (sms_config_load(&c, d->config_path, err) != 0) {
        sms_log(SMS_LOG_ERROR, "reload_failed", "error=%s kept=previous",
                sms_log_quote(err, q, sizeof(q)));
        sms_config_free(&c);
        return;
    }
    apply_reloadable(d, &c);
    api_configure(d->api, &c);
    if (c.body_limit != d->cfg.body_limit)
        hserver_set_body_limit(d->http, c.body_limit);
    if (d->cfg.n_https_listen > 0 && c.tls_cert != NULL && c.tls_key != NULL) {
        char terr[HSERVER_ERR_MAX], tq[HSERVER_ERR_MAX + 16];
        if (hserver_set_tls(d->http, c.tls_cert, c.tls_key, terr) != 0)
            sms_log(SMS_LOG_ERROR, "tls_reload_failed", "error=%s kept=previous",
                    sms_log_quote(terr, tq, sizeof(tq)));
    }
    sms_log(SMS_LOG_INFO, "reloaded", "level=%s max_parts=%d", sms_log_level_name(c.log_level),
            c.max_parts);
    d->cfg.body_limit = c.body_limit;
    if (d->up != NULL && uplink_reload(d->up, &c, err) != 0)
        sms_log(SMS_LOG_ERROR, "uplink_reload_failed", "error=%s kept=previous",
                sms_log_quote(err, q, sizeof(q)));
    sms_config_free(&c);
    reload_accounts(d, "reload");
}

static void on_queued(void *arg)
{
    dispatch_wake(arg);
}

static void on_started(void *arg)
{
    sms_daemon *d = arg;
    dispatch_start(d->disp);
}

/* The file holds secrets (carrier passwords, the platform's HMAC key):
 * say so when other users may read it. */
static void warn_if_readable(const char *path, const sms_config *c)
{
    struct stat st;
    if (c->n_carriers == 0 && c->platform_secret == NULL && c->platform_sm4_key == NULL)
        return;
    if (stat(path, &st) == 0 && (st.st_mode & S_IRWXO) != 0)
        sms_log(SMS_LOG_WARN, "config_readable",
                "path=%s mode=%03o why=\"it holds secrets: chmod 600 (or 640 with the service's "
                "group)\"",
                path, (unsigned)(st.st_mode & 0777));
}

int sms_daemon_run(const char *config_path)
{
    sms_daemon d;
    char err[SMS_CONFIG_ERR_MAX], q[SMS_CONFIG_ERR_MAX + 16], herr[HSERVER_ERR_MAX];

    memset(&d, 0, sizeof(d));
    d.config_path = config_path;
    d.exit_status = 2;
    acct_holder_init(&d.accounts);
    sms_config_init(&d.cfg);
    if (sms_config_load(&d.cfg, config_path, err) != 0) {
        sms_log(SMS_LOG_ERROR, "config_invalid", "error=%s", sms_log_quote(err, q, sizeof(q)));
        goto done;
    }
    apply_reloadable(&d, &d.cfg);
    warn_if_readable(config_path, &d.cfg);
    sms_log(SMS_LOG_INFO, "starting", "version=%s workers=%d carriers=%d", HRSS_VERSION,
            d.cfg.workers, d.cfg.n_carriers);
    if (db_open(d.cfg.data_dir, &d.db, err) != 0) {
        sms_log(SMS_LOG_ERROR, "db_open_failed", "error=%s", sms_log_quote(err, q, sizeof(q)));
        goto done;
    }
    atomic_store(&d.datadir_ok, access(d.cfg.data_dir, W_OK) == 0);
    reload_accounts(&d, "start");
    if (queue_new(d.cfg.data_dir, d.cfg.batch_max, &d.q, err) != 0) {
        sms_log(SMS_LOG_ERROR, "queue_open_failed", "error=%s", sms_log_quote(err, q, sizeof(q)));
        goto done;
    }

    /* the writer wakes the dispatcher from its thread: a locking base */
    if (evthread_use_pthreads() != 0)
        xalloc_die();
    d.base = event_base_new();
    if (d.base == NULL)
        xalloc_die();
    if (dispatch_new(d.base, &d.cfg, d.q, &d.accounts, &d.disp, err) != 0) {
        sms_log(SMS_LOG_ERROR, "dispatch_failed", "error=%s", sms_log_quote(err, q, sizeof(q)));
        goto done;
    }
    api_options ao = {&d.cfg, &d.accounts, d.q, d.cfg.workers,
                      sms_config_operators_served(&d.cfg), on_queued, d.disp};
    d.api = api_new(&ao);
    uplink_options uo = {&d.cfg, d.q, &d.accounts, on_queued, d.disp};
    if (uplink_new(&uo, &d.up, err) != 0 || (d.up != NULL && uplink_start(d.up, err) != 0)) {
        sms_log(SMS_LOG_ERROR, "uplink_failed", "error=%s", sms_log_quote(err, q, sizeof(q)));
        goto done;
    }
    if (d.up != NULL) {
        sms_mo_handler mh = {uplink_on_mo, d.up};
        dispatch_set_mo_handler(d.disp, &mh);
    }

    hserver_options ho = {d.cfg.workers, d.cfg.body_limit, d.cfg.idle_timeout_sec, handle, &d};
    if (hserver_new(&ho, &d.http, herr) != 0) {
        sms_log(SMS_LOG_ERROR, "listen_failed", "error=%s", sms_log_quote(herr, q, sizeof(q)));
        goto done;
    }
    add_routes(&d);
    serve_listen sl = {d.cfg.http_listen, d.cfg.n_http_listen, d.cfg.https_listen,
                       d.cfg.n_https_listen, d.cfg.tls_cert, d.cfg.tls_key};
    serve_hooks sh = {&d, reload, on_poll, POLL_INTERVAL_MS, on_started, &d.drain_timeout_ms,
                      d.cfg.workers};
    d.exit_status = serve_run(d.http, d.base, &sl, &sh);

done:
    /* the writer answers what it still holds (to stopped workers), then the
     * answer events go, then the workers' bases */
    uplink_stop(d.up); /* its last replies go to the queue */
    queue_free(d.q); /* its jobs may still name the dispatcher and the uplink */
    d.q = NULL;
    uplink_free(d.up);
    dispatch_free(d.disp);
    api_free(d.api);
    hserver_free(d.http);
    if (d.base != NULL)
        event_base_free(d.base);
    acct_holder_destroy(&d.accounts);
    sqlite3_close(d.db);
    sms_config_free(&d.cfg);
    return d.exit_status;
}
