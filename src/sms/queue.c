/*
 * sms/queue.c - the writer thread of the durable queue (queue.h).
 *
 * Group commit: the thread takes every job waiting (up to batch_max),
 * applies them in one BEGIN IMMEDIATE ... COMMIT with synchronous=FULL, and
 * only then calls their done functions, which answer the HTTP requests. A
 * send request is therefore acknowledged with code 1 only once its messages
 * are on disk; a crash before COMMIT loses nothing that was acknowledged.
 * Under load a batch holds the requests that arrived during the previous
 * fsync, so the cost of one fsync is shared by all of them.
 *
 * The gather wait: the clients answered by one batch usually send their
 * next request at once, a few tens of microseconds later. Left alone, the
 * writer would start the next transaction with only the requests that came
 * during the fsync and the clients would settle into two alternating
 * halves, each waiting for the other's fsync. So after a batch the writer
 * waits until as many jobs are queued as the last batch held plus what was
 * left queued (the clients it expects back), but never longer than the
 * last commit took (at most GATHER_MAX_NS): when the clients do not come
 * back, the requests that did come wait at most one commit more; under
 * load one fsync serves nearly every client instead of half of them. Submitters wake the writer only
 * when the queue reaches what it waits for.
 */
#include "queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "common/xalloc.h"
#include "common/str.h"
#include "db.h"
#include "log.h"
#include "send.h"

#define GATHER_MAX_NS 2000000L

struct queue {
    sqlite3 *db;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    qjob *head, *tail;
    int queued;  /* jobs in the list */
    int want;    /* the writer sleeps until queued >= want (0: it runs) */
    int stopping;
    int batch_max;
    long last_commit_ns;
    atomic_int healthy;
    atomic_ullong batches, jobs, failures;
    void (*on_batch)(void *arg);
    void *on_batch_arg;
    sqlite3_stmt *st_req_get, *st_req_put, *st_black, *st_charge, *st_status, *st_msg;
    sqlite3_stmt *st_begin, *st_commit, *st_rollback;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Runs one of the prepared transaction statements. */
static int tx_step(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- the answer ---- */

char *queue_response(int code, const char *detail, const send_dest *d, int n, int parts,
                     size_t *len)
{
    hrss_buf b;
    char num[64];
    buf_init(&b, (size_t)1 << 24);
    snprintf(num, sizeof(num), "{\"code\":%d,\"msg\":", code);
    buf_append_str(&b, num);
    str_append_json(&b, str_of(sms_code_text(code)));
    if (detail != NULL && detail[0] != '\0') {
        buf_append_str(&b, ",\"detail\":");
        str_append_json(&b, str_of(detail));
    }
    if (n > 0) {
        int ok = 0;
        for (int i = 0; i < n; i++)
            ok += d[i].code == SMS_CODE_OK && d[i].id > 0;
        snprintf(num, sizeof(num), ",\"accepted\":%d,\"parts\":%d,\"results\":[", ok, parts);
        buf_append_str(&b, num);
        for (int i = 0; i < n; i++) {
            buf_append_str(&b, i ? ",{\"mobile\":" : "{\"mobile\":");
            str_append_json(&b, str_of(d[i].given));
            int c = d[i].code;
            snprintf(num, sizeof(num), ",\"code\":%d,\"msg\":", c);
            buf_append_str(&b, num);
            str_append_json(&b, str_of(sms_code_text(c)));
            if (c == SMS_CODE_OK && d[i].id > 0) {
                snprintf(num, sizeof(num), ",\"msgId\":\"%lld\"", (long long)d[i].id);
                buf_append_str(&b, num);
            }
            buf_append_str(&b, "}");
        }
        buf_append_str(&b, "]");
    }
    buf_append_str(&b, "}\n");
    char *out = buf_detach(&b, len);
    if (out == NULL)
        xalloc_die();
    return out;
}

/* ---- send jobs ---- */

#define STEP_ROW(st) (sqlite3_step(st) == SQLITE_ROW)

int queue_apply_send(queue *q, sqlite3 *db, qjob *j)
{
    send_job *s = (send_job *)j;
    sqlite3_stmt *st;
    int ok = 0, rc;
    (void)db;
    if (s->client_id != NULL) {
        st = q->st_req_get;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, s->app, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, s->client_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *r = (const char *)sqlite3_column_text(st, 0);
            s->response_len = (size_t)sqlite3_column_bytes(st, 0);
            s->response = xmalloc(s->response_len + 1);
            memcpy(s->response, r, s->response_len + 1);
            s->duplicate = 1;
            s->code = SMS_CODE_OK;
            sqlite3_reset(st);
            return 0;
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return -1;
    }
    int first_refusal = 0;
    for (int i = 0; i < s->n_dest; i++) {
        send_dest *d = &s->dest[i];
        if (d->code != SMS_CODE_OK) {
            if (first_refusal == 0)
                first_refusal = d->code;
            continue;
        }
        if (s->skip_blacklist) {
            ok++;
            continue;
        }
        st = q->st_black;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, d->mobile, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_ROW) {
            d->code = SMS_CODE_BLACKLIST;
            if (first_refusal == 0)
                first_refusal = d->code;
        } else if (rc == SQLITE_DONE) {
            ok++;
        } else {
            return -1;
        }
    }
    if (ok == 0) {
        s->code = first_refusal ? first_refusal : SMS_CODE_FORMAT;
        s->response = queue_response(s->code, "no number can be sent to", s->dest, s->n_dest,
                                     s->parts, &s->response_len);
        return 0;
    }
    int64_t need = (int64_t)ok * s->parts;
    st = q->st_charge;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, need);
    sqlite3_bind_text(st, 2, s->app, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return -1;
    if (sqlite3_changes(q->db) == 0) {
        /* frozen or deleted since the request was checked, or too poor */
        st = q->st_status;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, s->app, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        s->code = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 0 ? SMS_CODE_BALANCE
                                                                     : SMS_CODE_APP;
        sqlite3_reset(st);
        char detail[96];
        snprintf(detail, sizeof(detail), "%lld message parts needed",
                 (long long)need);
        s->response = queue_response(s->code, s->code == SMS_CODE_BALANCE ? detail : NULL,
                                     NULL, 0, s->parts, &s->response_len);
        return 0;
    }
    int state = s->not_before_ms > s->created_ms ? SMS_ST_ACCEPTED : SMS_ST_QUEUED;
    st = q->st_msg;
    for (int i = 0; i < s->n_dest; i++) {
        send_dest *d = &s->dest[i];
        if (d->code != SMS_CODE_OK)
            continue;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, s->app, -1, SQLITE_STATIC);
        if (s->client_id != NULL)
            sqlite3_bind_text(st, 2, s->client_id, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 2);
        sqlite3_bind_text(st, 3, d->mobile, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, d->op);
        sqlite3_bind_int(st, 5, s->lane);
        sqlite3_bind_int(st, 6, state);
        sqlite3_bind_text(st, 7, s->content, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 8, s->parts);
        sqlite3_bind_int64(st, 9, s->created_ms);
        sqlite3_bind_int64(st, 10, s->not_before_ms);
        sqlite3_bind_int64(st, 11, s->expires_ms);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return -1;
        d->id = sqlite3_last_insert_rowid(q->db);
    }
    s->code = SMS_CODE_OK;
    s->response = queue_response(SMS_CODE_OK, NULL, s->dest, s->n_dest, s->parts,
                                 &s->response_len);
    if (s->client_id != NULL) {
        st = q->st_req_put;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, s->app, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, s->client_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, s->response, (int)s->response_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, s->created_ms);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return -1;
    }
    return 0;
}

/* ---- the writer thread ---- */

static void run_batch(queue *q, qjob *list, void (*on_batch)(void *), void *on_batch_arg)
{
    char err[SMS_DB_ERR_MAX], qe[SMS_DB_ERR_MAX + 16];
    int64_t t0 = mono_ns();
    int ok = tx_step(q->st_begin) == 0;
    unsigned long long n = 0;
    for (qjob *j = list; j != NULL && ok; j = j->next, n++)
        if (j->apply(q, q->db, j) != 0)
            ok = 0;
    if (ok && tx_step(q->st_commit) != 0)
        ok = 0;
    q->last_commit_ns = (long)(mono_ns() - t0);
    if (!ok) {
        snprintf(err, sizeof(err), "sqlite: %s", sqlite3_errmsg(q->db));
        if (!sqlite3_get_autocommit(q->db))
            tx_step(q->st_rollback);
        atomic_fetch_add(&q->failures, 1);
        sms_log(SMS_LOG_ERROR, "queue_commit_failed", "error=%s",
                sms_log_quote(err, qe, sizeof(qe)));
    }
    atomic_store(&q->healthy, ok);
    atomic_fetch_add(&q->batches, 1);
    atomic_fetch_add(&q->jobs, n);
    while (list != NULL) {
        qjob *next = list->next;
        list->done(list, ok);
        list = next;
    }
    if (ok && on_batch != NULL)
        on_batch(on_batch_arg);
}

static void *writer(void *arg)
{
    queue *q = arg;
    int expect = 0; /* jobs expected back: the last batch and what it left queued */
    for (;;) {
        pthread_mutex_lock(&q->mu);
        q->want = 1;
        while (q->head == NULL && !q->stopping)
            pthread_cond_wait(&q->cv, &q->mu);
        if (q->head == NULL && q->stopping) {
            pthread_mutex_unlock(&q->mu);
            break;
        }
        if (expect > q->batch_max)
            expect = q->batch_max;
        if (q->queued < expect && !q->stopping) {
            long wait = q->last_commit_ns;
            int64_t until = mono_ns() + (wait < GATHER_MAX_NS ? wait : GATHER_MAX_NS);
            struct timespec ts = {(time_t)(until / 1000000000), (long)(until % 1000000000)};
            q->want = expect;
            while (q->queued < expect && !q->stopping)
                if (pthread_cond_timedwait(&q->cv, &q->mu, &ts) == ETIMEDOUT)
                    break;
        }
        q->want = 0;
        qjob *list = q->head, *last = list;
        int taken = 1;
        for (; taken < q->batch_max && last->next != NULL; taken++)
            last = last->next;
        q->head = last->next;
        if (q->head == NULL)
            q->tail = NULL;
        q->queued -= taken;
        expect = taken + q->queued;
        last->next = NULL;
        void (*on_batch)(void *) = q->on_batch;
        void *on_batch_arg = q->on_batch_arg;
        pthread_mutex_unlock(&q->mu);
        run_batch(q, list, on_batch, on_batch_arg);
    }
    return NULL;
}

void queue_submit(queue *q, qjob *j)
{
    j->next = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->stopping) {
        pthread_mutex_unlock(&q->mu);
        j->done(j, 0);
        return;
    }
    if (q->tail != NULL)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    q->queued++;
    if (q->want > 0 && q->queued >= q->want)
        pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

void queue_on_batch(queue *q, void (*fn)(void *arg), void *arg)
{
    pthread_mutex_lock(&q->mu);
    q->on_batch = fn;
    q->on_batch_arg = arg;
    pthread_mutex_unlock(&q->mu);
}

int queue_is_healthy(queue *q)
{
    return atomic_load(&q->healthy);
}

void queue_stats(queue *q, uint64_t *batches, uint64_t *jobs, uint64_t *failures)
{
    *batches = atomic_load(&q->batches);
    *jobs = atomic_load(&q->jobs);
    *failures = atomic_load(&q->failures);
}

static void finalize_all(queue *q)
{
    sqlite3_finalize(q->st_req_get);
    sqlite3_finalize(q->st_req_put);
    sqlite3_finalize(q->st_black);
    sqlite3_finalize(q->st_charge);
    sqlite3_finalize(q->st_status);
    sqlite3_finalize(q->st_msg);
    sqlite3_finalize(q->st_begin);
    sqlite3_finalize(q->st_commit);
    sqlite3_finalize(q->st_rollback);
}

int queue_new(const char *data_dir, int batch_max, queue **out, char err[QUEUE_ERR_MAX])
{
    queue *q = calloc(1, sizeof(*q));
    char derr[SMS_DB_ERR_MAX];
    if (q == NULL)
        xalloc_die();
    *out = NULL;
    if (db_open(data_dir, &q->db, derr) != 0) {
        snprintf(err, QUEUE_ERR_MAX, "%s", derr);
        free(q);
        return -1;
    }
    static const struct {
        size_t off;
        const char *sql;
    } stmts[] = {
        {offsetof(queue, st_req_get), "SELECT response FROM requests WHERE app=? AND client_id=?"},
        {offsetof(queue, st_req_put),
         "INSERT INTO requests (app, client_id, response, created) VALUES (?,?,?,?)"},
        {offsetof(queue, st_black), "SELECT 1 FROM blacklist WHERE mobile=?"},
        {offsetof(queue, st_charge),
         "UPDATE accounts SET balance = balance - ?1 WHERE app = ?2 AND status = 0 AND "
         "balance >= ?1"},
        {offsetof(queue, st_status), "SELECT status FROM accounts WHERE app=?"},
        {offsetof(queue, st_msg),
         "INSERT INTO msgs (app, client_id, mobile, operator, lane, state, content, parts, ref,"
         " created, not_before, expires, updated) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,"
         " abs(random() % 256),?9,?10,?11,?9)"},
        {offsetof(queue, st_begin), "BEGIN IMMEDIATE"},
        {offsetof(queue, st_commit), "COMMIT"},
        {offsetof(queue, st_rollback), "ROLLBACK"},
    };
    for (size_t i = 0; i < HRSS_ARRAY_LEN(stmts); i++)
        if (sqlite3_prepare_v3(q->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
                               (sqlite3_stmt **)((char *)q + stmts[i].off), NULL) != SQLITE_OK) {
            snprintf(err, QUEUE_ERR_MAX, "sqlite: %s", sqlite3_errmsg(q->db));
            finalize_all(q);
            sqlite3_close(q->db);
            free(q);
            return -1;
        }
    q->batch_max = batch_max;
    atomic_init(&q->healthy, 1);
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&q->thread, NULL, writer, q) != 0)
        xalloc_die();
    *out = q;
    return 0;
}

void queue_free(queue *q)
{
    if (q == NULL)
        return;
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    finalize_all(q);
    sqlite3_close(q->db);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q);
}

void send_dest_route(send_dest *d, const sms_segments *segs, int served)
{
    d->op = sms_segments_lookup(segs, d->mobile);
    d->code = d->op == SMS_OP_NONE || (served != 0 && !(served & (1 << d->op)))
                  ? SMS_CODE_OPERATOR
                  : SMS_CODE_OK;
}
