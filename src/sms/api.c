/*
 * sms/api.c - POST /sms/send and POST /sms/status (api.h).
 *
 * The order of the checks decides which code a faulty request gets, so it
 * is fixed and documented (docs/api.md): -1 / 2 (parameters), 6 (appName
 * unknown or frozen), 5 (IP not in the account's whitelist), 8 (password),
 * 2 (template), 11 (sensitive word), 7 (islong not 0/1, or more parts than
 * max_parts), 9 (longer than one message without islong=1), then each
 * number (2 malformed, 12 no carrier for its segment, 10 blacklisted) and
 * 3 (balance), the last two decided by the queue's writer with the
 * balance charged in the same transaction as the messages are stored.
 */
#include "api.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/util.h"
#include "common/xalloc.h"
#include "common/str.h"
#include "content.h"
#include "daemon/route.h"
#include "db.h"
#include "hrss/codes.h"
#include "log.h"
#include "net/http1.h"
#include "send.h"

#define N_CODES 14

typedef struct api_worker {
    pthread_mutex_t mu;
    send_job *done_head;  /* answers ready, from the writer */
    struct event *ev;     /* on the worker's base: replies them */
    sqlite3 *ro;          /* the worker's read connection (status queries) */
} api_worker;

struct api {
    acct_holder *accounts;
    queue *q;
    char *data_dir;
    sms_segments segments;
    int operators_served;
    atomic_int max_parts;
    atomic_llong validity_ms, schedule_max_ms;
    int workers;
    api_worker *w;
    void (*on_queued)(void *);
    void *on_queued_arg;
    atomic_ullong by_code[N_CODES];
    atomic_ullong msgs_accepted, parts_accepted, duplicates, status_queries;
    atomic_int queued; /* the writer's batch queued messages: wake the dispatcher */
};

static const int codes[N_CODES] = {1, -1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 99, 0};

static void after_batch(void *arg);

static void count_code(api *a, int code)
{
    for (int i = 0; i < N_CODES; i++)
        if (codes[i] == code || i == N_CODES - 1) {
            atomic_fetch_add_explicit(&a->by_code[i], 1, memory_order_relaxed);
            return;
        }
}

api *api_new(const api_options *o)
{
    api *a = xcalloc(1, sizeof(*a));
    a->accounts = o->accounts;
    a->q = o->q;
    a->data_dir = xstrdup(o->cfg->data_dir);
    a->segments = o->cfg->segments;
    a->operators_served = o->operators_served;
    a->workers = o->workers;
    a->on_queued = o->on_queued;
    a->on_queued_arg = o->on_queued_arg;
    a->w = xcalloc((size_t)o->workers, sizeof(api_worker));
    for (int i = 0; i < o->workers; i++)
        pthread_mutex_init(&a->w[i].mu, NULL);
    api_configure(a, o->cfg);
    queue_on_batch(a->q, after_batch, a);
    return a;
}

void api_configure(api *a, const sms_config *cfg)
{
    atomic_store(&a->max_parts, cfg->max_parts);
    atomic_store(&a->validity_ms, cfg->validity_ms);
    atomic_store(&a->schedule_max_ms, cfg->schedule_max_ms);
}

/* After the HTTP workers stopped: their events and read connections. */
void api_free(api *a)
{
    if (a == NULL)
        return;
    for (int i = 0; i < a->workers; i++) {
        /* answers the stopped workers never sent: their requests go with
         * the connections */
        for (send_job *s = a->w[i].done_head, *next; s != NULL; s = next) {
            next = (send_job *)s->job.next;
            free(s->response);
            free(s->client_id);
            free(s->content);
            free(s->dest);
            free(s);
        }
        if (a->w[i].ev != NULL)
            event_free(a->w[i].ev);
        sqlite3_close(a->w[i].ro);
        pthread_mutex_destroy(&a->w[i].mu);
    }
    free(a->w);
    free(a->data_dir);
    free(a);
}

static void reply_json(hserver_req *req, const char *body, size_t len)
{
    hserver_reply(req, 200, "application/json; charset=utf-8", body, len);
}

static void reply_code(api *a, hserver_req *req, int code, const char *detail)
{
    size_t len;
    char *body = queue_response(code, detail, NULL, 0, 0, &len);
    count_code(a, code);
    reply_json(req, body, len);
    free(body);
}

/* The Content-Type as a string (cut at 127 bytes: only its start is
 * looked at); NULL when absent. */
static const char *ctype_of(hserver_req *req, char *out, size_t outlen)
{
    size_t n;
    const char *v = hserver_req_header(req, "Content-Type", &n);
    if (v == NULL)
        return NULL;
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, v, n);
    out[n] = '\0';
    return out;
}

static void log_request(const char *what, const char *app, int code, int n, int parts,
                        const char *peer)
{
    char qa[80], qp[80];
    sms_log(SMS_LOG_INFO, what, "app=%s code=%d numbers=%d parts=%d peer=%s",
            sms_log_quote(app != NULL ? app : "-", qa, sizeof(qa)), code, n, parts,
            sms_log_quote(peer[0] ? peer : "-", qp, sizeof(qp)));
}

/* appName, IP, password: returns SMS_CODE_OK with *acct (a reference to
 * *snap held) or the code. */
static int authenticate(api *a, const send_req *r, const char *peer, acct_snap **snap,
                        account **acct)
{
    *snap = acct_snap_get(a->accounts);
    *acct = acct_find(*snap, r->app);
    if (*acct == NULL || (*acct)->frozen)
        return SMS_CODE_APP;
    if (!acct_ips_allow(*acct, peer))
        return SMS_CODE_IP;
    if (!acct_verify(*acct, r->password))
        return SMS_CODE_PASSWORD;
    return SMS_CODE_OK;
}

/* ---- answers coming back from the writer ---- */

static void on_answers(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    api_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    send_job *list = w->done_head;
    w->done_head = NULL;
    pthread_mutex_unlock(&w->mu);
    while (list != NULL) {
        send_job *next = (send_job *)list->job.next;
        reply_json(list->req, list->response, list->response_len);
        log_request("send", list->app, list->code, list->n_dest, list->parts, "");
        free(list->response);
        free(list->client_id);
        free(list->content);
        free(list->dest);
        free(list);
        list = next;
    }
}

static void send_done(qjob *j, int committed)
{
    send_job *s = (send_job *)j;
    api *a = s->owner;
    if (!committed) {
        free(s->response);
        s->response = queue_response(SMS_CODE_SYSTEM, "the message could not be stored", NULL,
                                     0, 0, &s->response_len);
        s->code = SMS_CODE_SYSTEM;
    }
    count_code(a, s->code);
    if (s->duplicate) {
        atomic_fetch_add(&a->duplicates, 1);
    } else if (s->code == SMS_CODE_OK) {
        unsigned long long n = 0;
        for (int i = 0; i < s->n_dest; i++)
            n += s->dest[i].code == SMS_CODE_OK;
        atomic_fetch_add(&a->msgs_accepted, n);
        atomic_fetch_add(&a->parts_accepted, n * (unsigned long long)s->parts);
        atomic_store_explicit(&a->queued, 1, memory_order_relaxed);
    }
    /* the answer and its log line go out on the worker; the writer only
     * wakes a worker whose list was empty (else a wake-up is pending) */
    api_worker *w = &a->w[s->worker];
    pthread_mutex_lock(&w->mu);
    int wake = w->done_head == NULL;
    s->job.next = (qjob *)w->done_head;
    w->done_head = s;
    pthread_mutex_unlock(&w->mu);
    if (wake)
        event_active(w->ev, EV_READ, 0);
}

/* After each committed batch (writer thread): one wake-up of the
 * dispatcher for all the messages the batch queued. */
static void after_batch(void *arg)
{
    api *a = arg;
    if (atomic_exchange_explicit(&a->queued, 0, memory_order_relaxed) && a->on_queued != NULL)
        a->on_queued(a->on_queued_arg);
}

static api_worker *worker_of(api *a, hserver_req *req, int worker)
{
    api_worker *w = &a->w[worker];
    if (w->ev == NULL) {
        w->ev = event_new(hserver_req_base(req), -1, 0, on_answers, w);
        if (w->ev == NULL)
            xalloc_die();
    }
    return w;
}

/* ---- POST /sms/send ---- */

void api_send(api *a, hserver_req *req, int worker)
{
    size_t len;
    const char *body = hserver_req_body(req, &len);
    char ctbuf[128];
    const char *ctype = ctype_of(req, ctbuf, sizeof(ctbuf));
    char peer[INET6_ADDRSTRLEN];
    snprintf(peer, sizeof(peer), "%s", hserver_req_peer_text(req));
    char msg[160];
    send_req r;
    acct_snap *snap = NULL;
    account *acct = NULL;
    char *text = NULL, *signed_text = NULL;
    send_job *job = NULL;
    int code = send_parse(SEND_KIND_SEND, ctype, body, len, &r, msg, sizeof(msg));
    if (code != SMS_CODE_OK)
        goto refuse;
    if ((code = authenticate(a, &r, peer, &snap, &acct)) != SMS_CODE_OK) {
        msg[0] = '\0';
        goto refuse;
    }
    /* content: template, sensitive words, signature, length */
    if (r.template_id != NULL) {
        const char *t = acct_template_find(acct, r.template_id);
        if (t == NULL) {
            code = SMS_CODE_FORMAT;
            snprintf(msg, sizeof(msg), "templateId: no such template for this appName");
            goto refuse;
        }
        if ((text = send_expand(t, &r, msg, sizeof(msg))) == NULL) {
            code = SMS_CODE_MISSING;
            goto refuse;
        }
    } else {
        text = xstrdup(r.content);
    }
    if (acct_sensitive_word(snap, text, strlen(text)) != NULL) {
        code = SMS_CODE_SENSITIVE;
        snprintf(msg, sizeof(msg), "content: holds a word that may not be sent");
        goto refuse;
    }
    size_t slen;
    sms_measure m;
    signed_text = sms_sign(acct->signature, text, strlen(text), &slen);
    if (sms_measure_text(signed_text, slen, &m) != 0) {
        code = SMS_CODE_FORMAT;
        snprintf(msg, sizeof(msg), "content: not valid text");
        goto refuse;
    }
    int max_parts = atomic_load(&a->max_parts);
    if (r.islong == 2) {
        code = SMS_CODE_ISLONG;
        snprintf(msg, sizeof(msg), "islong: 0 or 1");
        goto refuse;
    }
    if (m.parts > 1 && r.islong != 1) {
        code = SMS_CODE_TOO_LONG;
        snprintf(msg, sizeof(msg), "content: %zu characters with the signature, more than %d; "
                 "send it with islong=1", m.chars,
                 m.coding == SMS_CODING_GSM ? SMS_GSM_SINGLE : SMS_UCS2_SINGLE);
        goto refuse;
    }
    if (m.parts > max_parts) {
        code = SMS_CODE_ISLONG;
        snprintf(msg, sizeof(msg), "content: %d parts, more than the %d of a long message",
                 m.parts, max_parts);
        goto refuse;
    }
    /* schedule */
    int64_t now = db_now_ms(), when = now;
    if (r.send_time != 0) {
        when = r.send_time * 1000;
        if (when > now + atomic_load(&a->schedule_max_ms)) {
            code = SMS_CODE_FORMAT;
            snprintf(msg, sizeof(msg), "sendTime: too far ahead");
            goto refuse;
        }
        if (when < now)
            when = now;
    }
    /* numbers: normalised, de-duplicated, each with its carrier */
    job = xcalloc(1, sizeof(*job));
    job->dest = xcalloc((size_t)r.n_mobiles, sizeof(send_dest));
    for (int i = 0; i < r.n_mobiles; i++) {
        send_dest *d = &job->dest[job->n_dest];
        snprintf(d->given, sizeof(d->given), "%s", r.mobiles[i]);
        if (sms_mobile_normalize(r.mobiles[i], strlen(r.mobiles[i]), d->mobile) != 0) {
            d->code = SMS_CODE_FORMAT;
            d->mobile[0] = '\0';
        } else {
            int dup = 0;
            for (int k = 0; k < job->n_dest && !dup; k++)
                dup = strcmp(job->dest[k].mobile, d->mobile) == 0;
            if (dup)
                continue;
            send_dest_route(d, &a->segments, a->operators_served);
        }
        job->n_dest++;
    }
    snprintf(job->app, sizeof(job->app), "%s", r.app);
    job->client_id = r.client_id;
    r.client_id = NULL;
    job->content = signed_text;
    signed_text = NULL;
    job->parts = m.parts;
    job->lane = r.priority;
    job->created_ms = now;
    job->not_before_ms = when;
    job->expires_ms = when + atomic_load(&a->validity_ms);
    job->req = req;
    job->worker = worker;
    job->owner = a;
    job->job.apply = queue_apply_send;
    job->job.done = send_done;
    worker_of(a, req, worker);
    acct_snap_put(snap);
    send_req_free(&r);
    free(text);
    queue_submit(a->q, &job->job);
    return;

refuse:
    reply_code(a, req, code, msg);
    log_request("send", r.app, code, r.n_mobiles, 0, peer);
    acct_snap_put(snap);
    send_req_free(&r);
    free(text);
    free(signed_text);
}

/* ---- POST /sms/status ---- */

void api_status(api *a, hserver_req *req, int worker)
{
    size_t len;
    const char *body = hserver_req_body(req, &len);
    char ctbuf[128];
    const char *ctype = ctype_of(req, ctbuf, sizeof(ctbuf));
    char peer[INET6_ADDRSTRLEN];
    snprintf(peer, sizeof(peer), "%s", hserver_req_peer_text(req));
    char msg[160];
    send_req r;
    acct_snap *snap = NULL;
    account *acct = NULL;
    hrss_buf out;
    sqlite3_stmt *st = NULL;
    api_worker *w = &a->w[worker];
    atomic_fetch_add(&a->status_queries, 1);
    int code = send_parse(SEND_KIND_STATUS, ctype, body, len, &r, msg, sizeof(msg));
    if (code == SMS_CODE_OK && (code = authenticate(a, &r, peer, &snap, &acct)) != SMS_CODE_OK)
        msg[0] = '\0';
    if (code == SMS_CODE_OK && w->ro == NULL) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/sms.db", a->data_dir);
        if (sqlite3_open_v2(path, &w->ro, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK) {
            sqlite3_close(w->ro);
            w->ro = NULL;
            code = SMS_CODE_SYSTEM;
        } else {
            sqlite3_busy_timeout(w->ro, 5000);
        }
    }
    if (code == SMS_CODE_OK &&
        sqlite3_prepare_v2(w->ro,
                           "SELECT mobile, state, parts, done_parts, failed_parts, stat, created,"
                           " updated, client_id FROM msgs WHERE id=? AND app=?",
                           -1, &st, NULL) != SQLITE_OK)
        code = SMS_CODE_SYSTEM;
    if (code != SMS_CODE_OK) {
        reply_code(a, req, code, msg);
        goto done;
    }
    buf_init(&out, (size_t)1 << 22);
    buf_append_str(&out, "{\"code\":1,\"msg\":\"OK\",\"messages\":[");
    for (int i = 0; i < r.n_ids; i++) {
        char line[256];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, strtoll(r.ids[i], NULL, 10));
        sqlite3_bind_text(st, 2, r.app, -1, SQLITE_STATIC);
        buf_append_str(&out, i ? ",{\"msgId\":\"" : "{\"msgId\":\"");
        buf_append_str(&out, r.ids[i]);
        if (sqlite3_step(st) != SQLITE_ROW) {
            buf_append_str(&out, "\",\"state\":\"unknown\"}");
            continue;
        }
        char created[HRSS_TIME_LEN + 1], updated[HRSS_TIME_LEN + 1];
        hrss_time_format(sqlite3_column_int64(st, 6) / 1000, created);
        hrss_time_format(sqlite3_column_int64(st, 7) / 1000, updated);
        snprintf(line, sizeof(line),
                 "\",\"mobile\":\"%s\",\"state\":\"%s\",\"parts\":%d,\"deliveredParts\":%d,"
                 "\"failedParts\":%d,\"created\":\"%s\",\"updated\":\"%s\"",
                 sqlite3_column_text(st, 0), sms_state_name(sqlite3_column_int(st, 1)),
                 sqlite3_column_int(st, 2), sqlite3_column_int(st, 3),
                 sqlite3_column_int(st, 4), created, updated);
        buf_append_str(&out, line);
        if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
            buf_append_str(&out, ",\"stat\":");
            str_append_json(&out, str_of((const char *)sqlite3_column_text(st, 5)));
        }
        if (sqlite3_column_type(st, 8) != SQLITE_NULL) {
            buf_append_str(&out, ",\"clientMsgId\":");
            str_append_json(&out, str_of((const char *)sqlite3_column_text(st, 8)));
        }
        buf_append_str(&out, "}");
    }
    buf_append_str(&out, "]}\n");
    sqlite3_reset(st);
    count_code(a, SMS_CODE_OK);
    reply_json(req, out.p, out.len);
    buf_free(&out);
done:
    sqlite3_finalize(st);
    acct_snap_put(snap);
    send_req_free(&r);
}

void api_metrics(api *a, hrss_buf *b)
{
    char line[160];
    buf_append_str(b, "# HELP hrss_sms_api_answers_total Answers of the send and status "
                      "interface by code (table A.1).\n"
                      "# TYPE hrss_sms_api_answers_total counter\n");
    for (int i = 0; i < N_CODES - 1; i++) {
        snprintf(line, sizeof(line), "hrss_sms_api_answers_total{code=\"%d\"} %llu\n", codes[i],
                 (unsigned long long)atomic_load(&a->by_code[i]));
        buf_append_str(b, line);
    }
    snprintf(line, sizeof(line),
             "# TYPE hrss_sms_messages_accepted_total counter\n"
             "hrss_sms_messages_accepted_total %llu\n",
             (unsigned long long)atomic_load(&a->msgs_accepted));
    buf_append_str(b, line);
    snprintf(line, sizeof(line),
             "# TYPE hrss_sms_parts_accepted_total counter\nhrss_sms_parts_accepted_total %llu\n",
             (unsigned long long)atomic_load(&a->parts_accepted));
    buf_append_str(b, line);
    snprintf(line, sizeof(line),
             "# TYPE hrss_sms_duplicate_requests_total counter\n"
             "hrss_sms_duplicate_requests_total %llu\n",
             (unsigned long long)atomic_load(&a->duplicates));
    buf_append_str(b, line);
}

static int route_send(void *ctx, hserver_req *req, int worker)
{
    api_send(ctx, req, worker);
    return 0;
}

static int route_status(void *ctx, hserver_req *req, int worker)
{
    api_status(ctx, req, worker);
    return 0;
}

void api_routes(api *a, route_table *t)
{
    route_add(t, HTTP1_POST, "/sms/send", route_send, a);
    route_add(t, HTTP1_POST, "/sms/status", route_status, a);
}
