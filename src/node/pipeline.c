/*
 * node/pipeline.c - the transaction path of hrss-node, in the order of
 * docs/design.md, decision 13; pipeline_handle reads top to bottom as that list:
 *
 *   1. strict parse of the request envelope      -> HTTP 400/413 + JSON error
 *   2. URL code (POST /{serviceCode}) = header    -> 90
 *   3. caller known, active, source IP allowed   -> 50
 *   4. request time within the replay window     -> 30
 *   5. signature by the caller's profile          -> 30
 *   6. nonce recorded (after the signature)       -> 30 replayed, 20 store down
 *   7. service known                              -> 90
 *   8. grant approved, unexpired, not revoked     -> 50
 *   9. serviceAreaCode = the provider's area      -> 90
 *  10. upstream call (net/upstream.c)             -> relayed, or 20
 *
 * A request that does not parse as an envelope gets an HTTP error with a
 * JSON body {"error": code, "message": "field: rule"}: without a valid
 * header there is nothing to build a response envelope from (docs/design.md,
 * decision 7).
 * Every later refusal is a response envelope made by the node (HTTP 200):
 * the request's ids, the node's own serviceResId and serviceResTime, the
 * commStatus and a msg that says exactly what was wrong. The commStatus
 * choices are in docs/conformance.md, "hrss-node transaction path".
 *
 * A request lives on one worker thread from parse to answer; the upstream
 * call is asynchronous on that worker's loop, and copies what it needs
 * from the snapshot, which may be replaced meanwhile.
 */
#include "pipeline.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hrss/hrss.h"
#include "log.h"
#include "metrics.h"
#include "net/hserver.h"
#include "net/upstream.h"
#include "store/nonce_journal.h"
#include "store/replay_redis.h"
#include "common/xalloc.h"
#include "common/str.h"

#define UPSTREAM_MAX_BODY (4u * 1024 * 1024)

struct pipeline {
    pipeline_options o;
    char system_code[HRSS_SYSTEM_CODE_LEN + 1];
    hrss_idgen *ids;
    hrss_replay *replay;
    nonce_journal *journal; /* the in-process store's, across restarts */
    int64_t fence;          /* refuse serviceReqTime before this (0: none) */
    upstream_pool **pools; /* one per worker, made on first use on that worker */
};

/* One request on its way through the path. */
typedef struct rq {
    pipeline *p;
    hserver_req *req;
    hrss_envelope *env; /* once parsed */
    /* header fields, read once after the parse (they live in env) */
    const char *app, *code, *area, *req_id, *req_time;
    struct timespec t0;
    int worker;
    size_t in_len; /* request body bytes */
    int batch;     /* a provider's answer: the calls of its write (metrics), else 0 */
} rq;

/* One transaction waiting for its provider. */
typedef struct txn {
    rq r;
    int timeout_ms;
} txn;

/* Days between the date inside serviceReqId (system code, YYYYMMDD,
 * sequence) and the date of serviceReqTime, both well-formed; -1 when
 * either holds no date. An id made just before midnight may go with a time
 * just after it; more than a day apart is an id of another request. */
#define ID_DATE_SLACK_DAYS 1
static long id_days_from_time(const char *id, const char *t)
{
    char a[HRSS_TIME_LEN + 1], b[HRSS_TIME_LEN + 1];
    int64_t ea, eb;
    if (id == NULL || t == NULL || strlen(id) != HRSS_ID_LEN || strlen(t) != HRSS_TIME_LEN)
        return -1;
    snprintf(a, sizeof(a), "%.8s000000", id + HRSS_SYSTEM_CODE_LEN);
    snprintf(b, sizeof(b), "%.8s000000", t);
    if (hrss_time_parse(a, HRSS_TIME_LEN, &ea, NULL) != HRSS_OK ||
        hrss_time_parse(b, HRSS_TIME_LEN, &eb, NULL) != HRSS_OK)
        return -1;
    return (long)((ea > eb ? ea - eb : eb - ea) / 86400);
}

/* Counts every answered transaction (metrics.c) and, when access lines are
 * on, logs it as event=transaction: who called what, the outcome, sizes and
 * latency; never the body. */
static void log_txn(const rq *r, int http_status, const char *outcome, size_t out_len,
                    const char *res_id)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long us = (long)(t1.tv_sec - r->t0.tv_sec) * 1000000L + (t1.tv_nsec - r->t0.tv_nsec) / 1000;
    const char *v[4] = {r->app, r->code, r->area, r->req_id};
    if (r->p->o.audit != NULL) {
        audit_record a;
        const char *rt = r->req_time;
        memset(&a, 0, sizeof(a));
        str_copy(a.caller, sizeof(a.caller), v[0] ? v[0] : "");
        str_copy(a.service, sizeof(a.service), v[1] ? v[1] : "");
        str_copy(a.area, sizeof(a.area), v[2] ? v[2] : "");
        str_copy(a.req_id, sizeof(a.req_id), v[3] ? v[3] : "");
        str_copy(a.res_id, sizeof(a.res_id), res_id ? res_id : "");
        str_copy(a.req_time, sizeof(a.req_time), rt ? rt : "");
        str_copy(a.outcome, sizeof(a.outcome), outcome);
        a.http_status = http_status;
        a.latency_us = us;
        a.in_bytes = (long long)r->in_len;
        a.out_bytes = (long long)out_len;
        str_copy(a.peer, sizeof(a.peer), hserver_req_peer_text(r->req));
        audit_submit(r->p->o.audit, &a);
    }
    if (r->p->o.metrics != NULL)
        metrics_txn(r->p->o.metrics, r->worker, v[1] ? v[1] : "-", v[0] ? v[0] : "-", outcome, us,
                    r->batch);
    if (!atomic_load_explicit(r->p->o.log_access, memory_order_relaxed) ||
        !log_enabled(NODE_LOG_INFO))
        return;
    char q[64];
    log_event(NODE_LOG_INFO, "transaction",
              "worker=%d caller=%s service=%s area=%s req_id=%s status=%d outcome=%s in=%zu "
              "out=%zu peer=%s us=%ld",
              r->worker, v[0] ? v[0] : "-", v[1] ? v[1] : "-", v[2] ? v[2] : "-", v[3] ? v[3] : "-",
              http_status, log_quote(outcome, q, sizeof(q)),
              r->in_len, out_len, hserver_req_peer_text(r->req), us);
}

/* ---- answers ---- */

/* HTTP error with a JSON body, for a request that is not an envelope. */
static void reply_http_error(const rq *r, int status, const char *code, const char *message)
{
    hserver_req *req = r->req;
    json_t *o = json_pack("{s:s, s:s}", "error", code, "message", message);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (text == NULL)
        xalloc_die();
    size_t len = strlen(text);
    log_txn(r, status, code, len, NULL);
    hserver_reply(req, status, "application/json", text, len);
    free(text);
    json_decref(o);
}

/* The response envelope of a refusal, with a printf-style msg. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
refuse(const rq *r, hrss_comm_status st, const char *fmt, ...)
{
    pipeline *p = r->p;
    char msg[HRSS_MSG_MAX * 4], id[HRSS_ID_LEN + 1];
    hrss_envelope *res = NULL;
    hrss_error e = {HRSS_ENOMEM, "cannot serialise the response"};
    char *text = NULL;
    size_t len = 0;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (hrss_idgen_next(p->ids, id, &e) != HRSS_OK ||
        hrss_envelope_new_response(r->env, id, st, NULL, msg, &res, &e) != HRSS_OK ||
        hrss_envelope_serialize(res, &text, &len) != HRSS_OK) {
        char q[HRSS_ERROR_MSG_MAX + 16];
        log_event(NODE_LOG_ERROR, "response_failed", "error=%s", log_quote(e.msg, q, sizeof(q)));
        reply_http_error(r, 500, "internal", "the node could not build its response");
        goto done;
    }
    log_txn(r, 200, hrss_comm_status_str(st), len, id);
    hserver_reply(r->req, 200, "application/json", text, len);
done:
    hrss_free(text);
    hrss_envelope_free(res);
}

/* ---- 1. parse errors ---- */

static void reply_parse_error(const rq *r, int code, const char *msg)
{
    switch (code) {
    case HRSS_ETOOBIG:
        reply_http_error(r, 413, "too_large", msg);
        break;
    case HRSS_EDUPKEY:
        reply_http_error(r, 400, "duplicate_key", msg);
        break;
    case HRSS_EUTF8:
        reply_http_error(r, 400, "bad_utf8", msg);
        break;
    default:
        reply_http_error(r, 400, "bad_envelope", msg);
        break;
    }
}

/* ---- 10. the provider's answer ---- */

static void on_upstream(const upstream_answer *a, void *arg)
{
    txn *t = arg;
    const char *url = a->url ? a->url : "-";
    char q[256];

    switch (a->result) {
    case UPSTREAM_CANCELLED: /* shutting down: the request is dropped with its connection */
        break;
    case UPSTREAM_OK:
        t->r.batch = a->batch;
        if (a->status == 200) { /* relayed unchanged, byte for byte */
            log_txn(&t->r, 200, "relayed", a->len, NULL);
            hserver_reply(t->r.req, 200, "application/json", a->body, a->len);
        } else
            refuse(&t->r, HRSS_COMM_SYSTEM_ERROR, "provider answered HTTP %d", a->status);
        break;
    case UPSTREAM_TIMEOUT:
        refuse(&t->r, HRSS_COMM_SYSTEM_ERROR, "provider timeout after %d ms", t->timeout_ms);
        break;
    case UPSTREAM_UNREACHABLE:
        refuse(&t->r, HRSS_COMM_SYSTEM_ERROR, "provider unreachable");
        break;
    case UPSTREAM_CIRCUIT_OPEN:
        refuse(&t->r, HRSS_COMM_SYSTEM_ERROR, "provider circuit open");
        break;
    case UPSTREAM_TOO_BIG:
        refuse(&t->r, HRSS_COMM_SYSTEM_ERROR, "provider response too large");
        break;
    case UPSTREAM_TLS_FAILED:
        refuse(&t->r, HRSS_COMM_SYSTEM_ERROR, "provider TLS handshake failed");
        break;
    case UPSTREAM_BAD_URL:
        refuse(&t->r, HRSS_COMM_SYSTEM_ERROR, "service %s has no usable upstream URL",
               hrss_envelope_get(t->r.env, "serviceCode"));
        break;
    case UPSTREAM_FAILED:
    default:
        refuse(&t->r, HRSS_COMM_SYSTEM_ERROR, "provider connection failed");
        break;
    }
    static const char *const kinds[] = {[UPSTREAM_UNREACHABLE] = "unreachable",
                                        [UPSTREAM_TIMEOUT] = "timeout",
                                        [UPSTREAM_FAILED] = "failed",
                                        [UPSTREAM_TOO_BIG] = "too_big",
                                        [UPSTREAM_CIRCUIT_OPEN] = "circuit_open",
                                        [UPSTREAM_BAD_URL] = "bad_url",
                                        [UPSTREAM_TLS_FAILED] = "tls"};
    if (a->result == UPSTREAM_OK && a->status != 200 && t->r.p->o.metrics != NULL)
        metrics_upstream_error(t->r.p->o.metrics, t->r.worker, "http_status");
    else if (a->result != UPSTREAM_OK && a->result != UPSTREAM_CANCELLED &&
             t->r.p->o.metrics != NULL)
        metrics_upstream_error(t->r.p->o.metrics, t->r.worker, kinds[a->result]);
    if (a->result != UPSTREAM_OK && a->result != UPSTREAM_CANCELLED) {
        char dq[160];
        log_event(NODE_LOG_WARN, "upstream_failed", "upstream=%s result=%d attempts=%d%s%s",
                  log_quote(url, q, sizeof(q)), (int)a->result, a->attempts,
                  a->detail ? " tls=" : "", a->detail ? log_quote(a->detail, dq, sizeof(dq)) : "");
    }
    hrss_envelope_free(t->r.env);
    free(t);
}

static upstream_pool *worker_pool(pipeline *p, hserver_req *req, int worker)
{
    if (p->pools[worker] == NULL)
        p->pools[worker] = upstream_pool_new(hserver_req_base(req), UPSTREAM_MAX_BODY);
    return p->pools[worker];
}

/* ---- the transaction path ---- */

void pipeline_handle(pipeline *p, hserver_req *req, int worker, const char *url_code)
{
    size_t len;
    const char *buf = hserver_req_body(req, &len);
    hrss_envelope *env = NULL;
    hrss_error e;
    int64_t now = (int64_t)time(NULL);
    rq r = {.p = p, .req = req, .worker = worker, .in_len = len};
    clock_gettime(CLOCK_MONOTONIC, &r.t0);

    /* 1. strict parse: JSON, duplicate keys, sizes, header formats */
    int rc = hrss_envelope_parse_relay(buf, len, HRSS_ENV_REQUEST, &env, &e);
    if (rc != HRSS_OK) {
        reply_parse_error(&r, rc, e.msg);
        goto done;
    }
    r.env = env;
    const char *code = r.code = hrss_envelope_get(env, "serviceCode");
    const char *app = r.app = hrss_envelope_get(env, "appCode");
    const char *area = r.area = hrss_envelope_get(env, "serviceAreaCode");
    const char *req_time = r.req_time = hrss_envelope_get(env, "serviceReqTime");
    r.req_id = hrss_envelope_get(env, "serviceReqId");
    const char *nonce = hrss_envelope_get(env, "nonce");

    /* 2. POST /{serviceCode}: the URL and the header name the same service */
    if (url_code != NULL && strcmp(url_code, code) != 0) {
        refuse(&r, HRSS_COMM_OTHER, "URL names service %s, header.serviceCode is %s", url_code,
               code);
        goto done;
    }
    const snapshot *s = snapshot_view_get(&p->o.views[worker], p->o.snaps);
    if (s == NULL) {
        refuse(&r, HRSS_COMM_SYSTEM_ERROR, "registry not loaded");
        goto done;
    }

    /* 3. caller known and active, request from an allowed address */
    const snap_system *caller = snapshot_system(s, app, strlen(app));
    if (caller == NULL) {
        refuse(&r, HRSS_COMM_PERMISSION, "unknown caller %s", app);
        goto done;
    }
    if (!caller->active) {
        refuse(&r, HRSS_COMM_PERMISSION, "caller %s is frozen", app);
        goto done;
    }
    const struct sockaddr *peer = hserver_req_peer(req);
    if (!snap_system_addr_allowed(caller, peer)) {
        refuse(&r, HRSS_COMM_PERMISSION, "source address %s is not allowed for %s",
               hserver_req_peer_text(req), app);
        goto done;
    }

    /* 4. request time within the window (a replay-protection failure: 30) */
    int64_t window = atomic_load_explicit(p->o.replay_window_sec, memory_order_relaxed);
    if (window > p->o.replay_ttl_sec) /* never accept a time whose nonce may be forgotten */
        window = p->o.replay_ttl_sec;
    if (hrss_time_check_window(req_time, strlen(req_time), now, window, &e) != HRSS_OK) {
        int64_t t = 0;
        hrss_time_parse(req_time, strlen(req_time), &t, NULL);
        long long off = (long long)(t > now ? t - now : now - t);
        refuse(&r, HRSS_COMM_SIGNATURE,
               "request time %s is %lld s from the node's clock, window %lld s", req_time, off,
               (long long)window);
        goto done;
    }
    /* the id is dated the day it is made: a day apart at most (midnight) */
    long days = id_days_from_time(r.req_id, req_time);
    if (days > ID_DATE_SLACK_DAYS) {
        refuse(&r, HRSS_COMM_OTHER, "serviceReqId is dated %.8s, %ld days from serviceReqTime %.8s",
               r.req_id + HRSS_SYSTEM_CODE_LEN, days, req_time);
        goto done;
    }
    if (p->fence != 0 && now - window < p->fence) { /* after a crash of the machine */
        int64_t t = 0;
        hrss_time_parse(req_time, strlen(req_time), &t, NULL);
        if (t < p->fence) {
            refuse(&r, HRSS_COMM_SIGNATURE,
                   "request time %s is before the node's restart %lld s ago, when nonces may "
                   "have been lost; send a new request",
                   req_time, (long long)(now - p->fence));
            goto done;
        }
    }

    /* 5. signature by the caller's profile; a signed request carries a nonce */
    if (caller->sig != HRSS_SIG_NONE && nonce == NULL) {
        refuse(&r, HRSS_COMM_SIGNATURE, "nonce missing");
        goto done;
    }
    hrss_sig_key key = {caller->sig, caller->secret, caller->secret_len, caller->sm2};
    if (caller->sig == HRSS_SIG_HMAC_SM3 && caller->hmac != NULL)
        rc = hrss_envelope_verify_hmac(env, caller->hmac, &e);
    else
        rc = hrss_envelope_verify(env, &key, &e);
    if (rc == HRSS_EMISSING) {
        refuse(&r, HRSS_COMM_SIGNATURE, "signature missing");
        goto done;
    }
    if (rc != HRSS_OK) {
        refuse(&r, HRSS_COMM_SIGNATURE, "signature mismatch");
        goto done;
    }

    /* 6. the nonce, recorded only now that the signature checked out */
    if (caller->sig != HRSS_SIG_NONE) {
        rc = hrss_replay_check(p->replay, app, strlen(app), nonce, strlen(nonce), now, &e);
        if (rc == HRSS_EREPLAY) {
            refuse(&r, HRSS_COMM_SIGNATURE, "nonce replayed");
            goto done;
        }
        if (rc == HRSS_OK && p->journal != NULL)
            rc = nonce_journal_append(p->journal, app, nonce, now, &e);
        if (rc != HRSS_OK) { /* fail closed */
            refuse(&r, HRSS_COMM_SYSTEM_ERROR, "replay store unavailable");
            goto done;
        }
    }

    /* 7. the service */
    const snap_service *svc = snapshot_service(s, code, strlen(code));
    if (svc == NULL) {
        refuse(&r, HRSS_COMM_OTHER, "unknown service %s", code);
        goto done;
    }

    /* 8. an approved grant for (caller, service), not revoked, not expired */
    const snap_grant *g = snapshot_grant(s, app, strlen(app), code, strlen(code));
    if (g == NULL) {
        refuse(&r, HRSS_COMM_PERMISSION, "no grant for %s on %s", app, code);
        goto done;
    }
    if (g->revoked) {
        refuse(&r, HRSS_COMM_PERMISSION, "grant for %s on %s is revoked", app, code);
        goto done;
    }
    if (g->expires != 0 && g->expires <= now) {
        refuse(&r, HRSS_COMM_PERMISSION, "grant for %s on %s expired", app, code);
        goto done;
    }

    /* 9. serviceAreaCode: the area of the service's provider */
    const snap_system *prov = snapshot_system(s, svc->provider, strlen(svc->provider));
    if (prov == NULL || strcmp(prov->area, area) != 0) {
        refuse(&r, HRSS_COMM_OTHER, "service %s is not served in area %s", code, area);
        goto done;
    }

    /* 10. the provider: the request bytes as received, the answer relayed */
    txn *t = xcalloc(1, sizeof(*t));
    t->r = r;
    t->timeout_ms = svc->timeout_ms;
    env = NULL; /* the transaction owns it now */
    upstream_call(worker_pool(p, req, worker), svc->upstreams, svc->n_upstreams, svc->timeout_ms,
                  svc->retries, svc->pipeline, "application/json", buf, len, on_upstream, t);
done:
    hrss_envelope_free(env);
}

/* ---- life cycle (main thread) ---- */

/* The in-process store's nonces come back from data_dir/nonces, so that a
 * restart never makes a used nonce usable again (store/nonce_journal.h). */
static int open_journal(pipeline *p, const char *data_dir, char err[PIPELINE_ERR_MAX])
{
    char dir[4096], jerr[NONCE_JOURNAL_ERR_MAX];
    nonce_journal_loaded l;
    int n = snprintf(dir, sizeof(dir), "%s/nonces", data_dir);
    if (n < 0 || (size_t)n >= sizeof(dir)) {
        snprintf(err, PIPELINE_ERR_MAX, "data_dir too long");
        return -1;
    }
    if (nonce_journal_open(dir, p->o.replay_ttl_sec, (int64_t)time(NULL), p->replay, &p->journal,
                           &l, jerr) != 0) {
        snprintf(err, PIPELINE_ERR_MAX, "%s", jerr);
        return -1;
    }
    p->fence = l.fence;
    log_event(NODE_LOG_INFO, "nonces_loaded", "nonces=%zu files=%zu", l.nonces, l.files);
    if (l.fence != 0)
        log_event(NODE_LOG_WARN, "nonce_fence",
                  "until=%lld msg=\"%s; requests timed before the start are refused\"",
                  (long long)(l.fence + p->o.replay_ttl_sec), l.why);
    return 0;
}

void pipeline_tick(pipeline *p)
{
    if (p != NULL)
        nonce_journal_sync(p->journal);
}

int pipeline_new(const pipeline_options *o, pipeline **out, char err[PIPELINE_ERR_MAX])
{
    pipeline *p = calloc(1, sizeof(*p));
    char dir[4096];
    hrss_error e;
    int rc = -1;

    if (p == NULL)
        xalloc_die();
    p->o = *o;
    snprintf(p->system_code, sizeof(p->system_code), "%s", o->system_code);
    p->o.system_code = p->system_code;
    p->o.data_dir = NULL; /* not kept */
    p->pools = xcalloc((size_t)o->workers, sizeof(*p->pools));
    int n = snprintf(dir, sizeof(dir), "%s/ids", o->data_dir);
    if (n < 0 || (size_t)n >= sizeof(dir)) {
        snprintf(err, PIPELINE_ERR_MAX, "data_dir too long");
        goto done;
    }
    if (hrss_idgen_new(o->system_code, dir, &p->ids, &e) != HRSS_OK) {
        snprintf(err, PIPELINE_ERR_MAX, "id generator in %.200s: %s", dir, e.msg);
        goto done;
    }
    if (o->replay_store != NULL) { /* shared by several instances (store/replay_redis.h) */
        replay_redis_config rcfg;
        char url[1024];
        if (replay_redis_parse_url(o->replay_store, &rcfg, url, sizeof(url), &e) != HRSS_OK ||
            replay_redis_new(&rcfg, o->replay_ttl_sec, &p->replay, &e) != HRSS_OK) {
            snprintf(err, PIPELINE_ERR_MAX, "%s", e.msg);
            goto done;
        }
    } else if (hrss_replay_memory_new(o->replay_max_entries, o->replay_ttl_sec, &p->replay,
                                      &e) != HRSS_OK) {
        snprintf(err, PIPELINE_ERR_MAX, "replay store: %s", e.msg);
        goto done;
    } else if (open_journal(p, o->data_dir, err) != 0) {
        goto done;
    }
    rc = 0;
done:
    if (rc != 0) {
        pipeline_free(p);
        p = NULL;
    }
    *out = p;
    return rc;
}

void pipeline_free(pipeline *p)
{
    if (p == NULL)
        return;
    for (int i = 0; p->pools != NULL && i < p->o.workers; i++)
        upstream_pool_free(p->pools[i]);
    free(p->pools);
    hrss_idgen_free(p->ids);
    nonce_journal_close(p->journal);
    hrss_replay_free(p->replay);
    free(p);
}
