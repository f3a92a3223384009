/*
 * sms/uplink.c - uplink workers and the business systems' interfaces around
 * them. See uplink.h.
 *
 * The workers read unhandled rows of table mo in id order (a cursor: the
 * queue's single writer commits rows in id order, so a row never appears
 * behind the cursor) and take the first whose phone no other worker holds.
 * The dispatcher's hook only raises a flag; a one-second poll covers a
 * missed signal.
 */
#include "uplink.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "backend.h"
#include "binding.h"
#include "command.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "content.h"
#include "daemon/route.h"
#include "db.h"
#include "engine.h"
#include "hrss/person.h"
#include "log.h"
#include "net/hserver.h"
#include "net/http1.h"
#include "reply.h"
#include "send.h"
#include "survey.h"

#define UPLINK_BUF 64          /* messages read ahead */
#define UPLINK_REPLIES_MAX 4   /* replies one message may cause */
#define UPLINK_POLL_MS 1000
#define UPLINK_BUSY_MS 5000
#define UPLINK_SURVEY_PHONES 10000
#define UPLINK_REMIND_MAX 1000
#define UPLINK_RELOADS_MAX 64  /* command tables replaced in one run */

typedef struct mo_item {
    int64_t id;
    char phone[SMS_MOBILE_LEN + 1]; /* "" when the source is not a mobile number */
    char *text;
} mo_item;

typedef struct uworker {
    struct uplink *u;
    pthread_t th;
    int started;
    sqlite3 *db;          /* this worker's connection to uplink.db */
    sms_engine *engine;   /* its engine, on that connection */
    int generation;       /* of the tables its engine was made with */
    /* the message in hand */
    char phone[SMS_MOBILE_LEN + 1];
    char *reply_phone[UPLINK_REPLIES_MAX];
    char *reply_text[UPLINK_REPLIES_MAX];
    int nreplies;
    int unsubscribe;
} uworker;

struct api_ctx;

/* A business interface registered in the route table: the route's context. */
typedef struct uplink_iface {
    struct uplink *u;
    int (*fn)(struct api_ctx *c);
} uplink_iface;

#define UPLINK_IFACES 5

struct uplink {
    uplink_iface ifaces[UPLINK_IFACES];
    queue *q;
    acct_holder *accounts;
    void (*on_queued)(void *);
    void *on_queued_arg;
    char *data_dir;
    char *account;         /* replies are sent as this account */
    sms_segments segments;
    int served; /* carriers with a link (sms_config_operators_served) */
    int64_t validity_ms;
    int max_parts;
    size_t room;           /* characters of a reply, the signature left out */
    bind_policy policy;
    /* the tables in use; SIGHUP swaps them (uplink_reload). Tables replaced
     * are kept until uplink_free: a worker or an interface may still read
     * them, and reloads are rare. */
    _Atomic(sms_cmd_table *) cmds;
    _Atomic(sms_replies *) replies;
    atomic_int generation;
    sms_cmd_table *old_cmds[UPLINK_RELOADS_MAX];
    sms_replies *old_replies[UPLINK_RELOADS_MAX];
    int n_old;
    sms_backend *backend;  /* NULL without [platform] */

    pthread_mutex_t mu;    /* the read-ahead below */
    pthread_cond_t cv;
    int stop, pending;
    sqlite3 *mdb;          /* reads table mo of sms.db */
    int64_t cursor;
    mo_item buf[UPLINK_BUF];
    int nbuf;
    uworker *w;
    int nw;

    pthread_mutex_t amu;   /* adb: the HTTP interfaces */
    sqlite3 *adb;

    atomic_ullong handled, commands, answers, failures, api_requests;
};

static const char *const uplink_replies[] = {"order_done", "order_refused", "survey_invalid",
                                             "survey_invalid_code", "survey_ambiguous", NULL};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS work_orders ("
    " order_no TEXT PRIMARY KEY, phone TEXT NOT NULL, command TEXT NOT NULL,"
    " name TEXT NOT NULL, ssn_masked TEXT NOT NULL, state INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL, completed INTEGER, completed_by TEXT);"
    "CREATE TABLE IF NOT EXISTS survey_owner ("
    " survey INTEGER PRIMARY KEY, app TEXT NOT NULL);";

/* ---- uplink.db ---- */

static int open_uplink_db(uplink *u, sqlite3 **out, char *err, size_t errlen)
{
    char path[1024], derr[SMS_DB_ERR_MAX];
    snprintf(path, sizeof(path), "%s/uplink.db", u->data_dir);
    if (db_connect(path, UPLINK_BUSY_MS, out, derr) != 0) {
        snprintf(err, errlen, "%s", derr);
        return -1;
    }
    int ok = bind_init(*out, err, errlen) == 0 && survey_init(*out, err, errlen) == HRSS_OK;
    if (ok && db_exec(*out, schema, derr) != 0) {
        snprintf(err, errlen, "uplink.db: %s", derr);
        ok = 0;
    }
    if (!ok) {
        sqlite3_close(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* ---- messages to phones, through the queue ---- */

/* One commit of the queue's writer: the sends, the unsubscription and the
 * handled mark of one uplink message (mo_id > 0), or the sends of one
 * interface request (then a waiter is told the outcome). */
typedef struct ujob {
    qjob job;
    uplink *u;
    int64_t mo_id;
    char unsub[SMS_MOBILE_LEN + 1];
    send_job **sends;
    int nsends;
    /* waiter */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int wait, finished, committed;
} ujob;

static void send_job_free(send_job *s)
{
    if (s == NULL)
        return;
    free(s->response);
    free(s->client_id);
    free(s->content);
    free(s->dest);
    free(s);
}

/* A one-number message: text signed with signature, on lane. NULL with why
 * when it is not valid text or longer than the platform's long message. */
static send_job *make_send(uplink *u, const char *app, const char *signature, const char *phone,
                           const char *text, int lane, int skip_blacklist, char *why,
                           size_t whylen)
{
    size_t slen;
    sms_measure m;
    char *signed_text = sms_sign(signature, text, strlen(text), &slen);
    if (signed_text == NULL || sms_measure_text(signed_text, slen, &m) != 0) {
        snprintf(why, whylen, "not valid text");
        free(signed_text);
        return NULL;
    }
    if (m.parts > u->max_parts) {
        snprintf(why, whylen, "%d parts, more than %d", m.parts, u->max_parts);
        free(signed_text);
        return NULL;
    }
    send_job *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->dest = calloc(1, sizeof(send_dest))) == NULL)
        xalloc_die();
    s->n_dest = 1;
    snprintf(s->dest->given, sizeof(s->dest->given), "%s", phone);
    snprintf(s->dest->mobile, sizeof(s->dest->mobile), "%s", phone);
    /* the same routing as a business system's message to that number: a
     * number whose carrier has no link (a ported number that wrote in
     * through another carrier's link, say) cannot be answered */
    send_dest_route(s->dest, &u->segments, u->served);
    if (s->dest->code != SMS_CODE_OK) {
        snprintf(why, whylen, "no link to the carrier of the number");
        free(s->dest);
        free(s);
        free(signed_text);
        return NULL;
    }
    snprintf(s->app, sizeof(s->app), "%s", app);
    s->content = signed_text;
    s->parts = m.parts;
    s->lane = lane;
    s->skip_blacklist = skip_blacklist;
    s->created_ms = s->not_before_ms = db_now_ms();
    s->expires_ms = s->created_ms + u->validity_ms;
    s->job.apply = queue_apply_send;
    return s;
}

static int ujob_apply(queue *q, sqlite3 *db, qjob *jj)
{
    ujob *j = (ujob *)jj;
    for (int i = 0; i < j->nsends; i++) {
        send_job *s = j->sends[i];
        if (queue_apply_send(q, db, &s->job) != 0)
            return -1;
    }
    sqlite3_stmt *st = NULL;
    int ok = 1;
    if (j->unsub[0] != '\0') {
        ok = sqlite3_prepare_v2(db,
                                "INSERT OR IGNORE INTO blacklist (mobile, reason, added) "
                                "VALUES (?, 'td', ?)",
                                -1, &st, NULL) == SQLITE_OK;
        if (ok) {
            sqlite3_bind_text(st, 1, j->unsub, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, db_now_ms());
            ok = sqlite3_step(st) == SQLITE_DONE;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    if (ok && j->mo_id > 0) {
        ok = sqlite3_prepare_v2(db, "UPDATE mo SET handled = 1 WHERE id = ?", -1, &st, NULL) ==
             SQLITE_OK;
        if (ok) {
            sqlite3_bind_int64(st, 1, j->mo_id);
            ok = sqlite3_step(st) == SQLITE_DONE;
        }
        sqlite3_finalize(st);
    }
    return ok ? 0 : -1;
}

static void ujob_free(ujob *j)
{
    for (int i = 0; i < j->nsends; i++)
        send_job_free(j->sends[i]);
    free(j->sends);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
}

static void ujob_done(qjob *jj, int committed)
{
    ujob *j = (ujob *)jj;
    uplink *u = j->u;
    int queued = 0;
    char mp[16];
    for (int i = 0; committed && i < j->nsends; i++) {
        send_job *s = j->sends[i];
        if (s->code == SMS_CODE_OK && s->dest[0].code == SMS_CODE_OK)
            queued++;
        else if (j->mo_id > 0)
            sms_log(SMS_LOG_ERROR, "reply_refused", "mo=%lld phone=%s code=%d",
                    (long long)j->mo_id, sms_mobile_mask(s->dest[0].mobile, mp),
                    s->code != SMS_CODE_OK ? s->code : s->dest[0].code);
    }
    if (!committed)
        sms_log(SMS_LOG_ERROR, "uplink_not_recorded", "mo=%lld sends=%d", (long long)j->mo_id,
                j->nsends);
    if (queued > 0 && u->on_queued != NULL)
        u->on_queued(u->on_queued_arg);
    if (!j->wait) {
        ujob_free(j);
        return;
    }
    pthread_mutex_lock(&j->mu);
    j->finished = 1;
    j->committed = committed;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

static ujob *ujob_new(uplink *u, int64_t mo_id, int nsends_max, int wait)
{
    ujob *j = xcalloc(1, sizeof(*j));
    j->u = u;
    j->mo_id = mo_id;
    j->wait = wait;
    if (nsends_max > 0 && (j->sends = calloc((size_t)nsends_max, sizeof(*j->sends))) == NULL)
        xalloc_die();
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->job.apply = ujob_apply;
    j->job.done = ujob_done;
    return j;
}

/* Submits j and waits for its commit. Returns committed; j stays the
 * caller's (ujob_free). */
static int ujob_run(uplink *u, ujob *j)
{
    queue_submit(u->q, &j->job);
    pthread_mutex_lock(&j->mu);
    while (!j->finished)
        pthread_cond_wait(&j->cv, &j->mu);
    pthread_mutex_unlock(&j->mu);
    return j->committed;
}

/* The signature of account app (the uplink's own when app is NULL), copied
 * into sig. -1 when the account does not exist or is frozen. */
static int signature_of(uplink *u, const char *app, char *sig, size_t siglen)
{
    acct_snap *snap = acct_snap_get(u->accounts);
    account *a = acct_find(snap, app ? app : u->account);
    int rc = -1;
    if (a != NULL && !a->frozen) {
        snprintf(sig, siglen, "%s", a->signature);
        rc = 0;
    }
    acct_snap_put(snap);
    return rc;
}

/* ---- the engine's operations, per worker ---- */

static int op_reply(void *ctx, const char *phone, const char *text)
{
    uworker *w = ctx;
    if (w->nreplies >= UPLINK_REPLIES_MAX)
        return -1;
    w->reply_phone[w->nreplies] = strdup(phone);
    w->reply_text[w->nreplies] = strdup(text);
    if (w->reply_phone[w->nreplies] == NULL || w->reply_text[w->nreplies] == NULL)
        xalloc_die();
    w->nreplies++;
    return 0;
}

static int op_unsubscribe(void *ctx, const char *phone)
{
    uworker *w = ctx;
    (void)phone; /* always the sender: the engine unsubscribes no one else */
    w->unsubscribe = 1;
    return 0;
}

static int op_call(void *ctx, const char *service, const char *area, json_t *body, json_t **out,
                   char *why, size_t whylen)
{
    uworker *w = ctx;
    if (w->u->backend == NULL) {
        *out = NULL;
        snprintf(why, whylen, "no [platform] node configured");
        return -1;
    }
    return sms_backend_call(w->u->backend, service, area, body, out, why, whylen);
}

static int op_work_order(void *ctx, const char *phone, const char *command, const char *order,
                         const char *ssn, const char *name)
{
    uworker *w = ctx;
    char masked[HRSS_SSN_LEN + 1];
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(w->db,
                                "INSERT OR REPLACE INTO work_orders (order_no, phone, command, "
                                "name, ssn_masked, created) VALUES (?, ?, ?, ?, ?, ?)",
                                -1, &st, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_text(st, 1, order, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, phone, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, command, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, hrss_ssn_mask(ssn, strlen(ssn), masked), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, (int64_t)time(NULL));
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

/* An engine on db over the current tables, its operations on w (NULL:
 * only to check the tables). */
static sms_engine *make_engine(uplink *u, sqlite3 *db, uworker *w, char *err)
{
    sms_engine_options eo = {db, atomic_load(&u->cmds), atomic_load(&u->replies), u->policy,
                             u->room};
    sms_engine_ops ops = {.reply = op_reply,
                          .unsubscribe = op_unsubscribe,
                          .call = op_call,
                          .work_order = op_work_order,
                          .ctx = w};
    return sms_engine_new(&eo, &ops, err);
}

/* ---- workers ---- */

static void worker_reset(uworker *w)
{
    for (int i = 0; i < w->nreplies; i++) {
        free(w->reply_phone[i]);
        free(w->reply_text[i]);
    }
    w->nreplies = 0;
    w->unsubscribe = 0;
}

/* The try-later reply, when nothing else could be said. */
static void reply_try_later(uworker *w)
{
    char err[SMS_REPLY_ERR_MAX];
    char *t = sms_render(sms_replies_get(atomic_load(&w->u->replies), "try_later"), NULL, 0, 0,
                         err, sizeof(err));
    if (t != NULL) {
        op_reply(w, w->phone, t); /* set by the worker when it took the message */
        free(t);
    }
}

static void handle(uworker *w, const mo_item *m)
{
    uplink *u = w->u;
    char mp[16], why[160];
    const char *what = "ignored";
    int64_t now = (int64_t)time(NULL);

    if (m->phone[0] != '\0') {
        survey_match_result sm;
        int rc = survey_match(w->db, m->phone, m->text, now, &sm);
        if (rc != HRSS_OK) {
            sms_log(SMS_LOG_ERROR, "survey_store_failed", "mo=%lld", (long long)m->id);
            reply_try_later(w);
            what = "try_later";
        } else if (sm.status != SURVEY_NO_MATCH) {
            /* the survey's own thank-you text, set by its business system,
             * or the province's template */
            char *t = survey_reply_text(w->db, &sm, atomic_load(&u->replies), u->room, why,
                                        sizeof(why));
            if (t == NULL) {
                sms_log(SMS_LOG_ERROR, "reply_failed", "mo=%lld why=\"%s\"", (long long)m->id,
                        why);
            } else {
                op_reply(w, m->phone, t);
                free(t);
            }
            what = sm.reply;
            atomic_fetch_add(&u->answers, 1);
        } else {
            what = sms_engine_handle(w->engine, m->phone, m->text, now);
            atomic_fetch_add(&u->commands, 1);
        }
    }
    sms_log(SMS_LOG_INFO, "uplink", "mo=%lld phone=%s reply=%s", (long long)m->id,
            m->phone[0] ? sms_mobile_mask(m->phone, mp) : "-", what);

    char sig[128];
    ujob *j = ujob_new(u, m->id, w->nreplies, 0);
    if (w->unsubscribe)
        snprintf(j->unsub, sizeof(j->unsub), "%s", m->phone);
    if (w->nreplies > 0 && signature_of(u, NULL, sig, sizeof(sig)) != 0) {
        sms_log(SMS_LOG_ERROR, "reply_account_missing",
                "account=%s why=\"no such active account: replies are not sent\"", u->account);
    } else {
        for (int i = 0; i < w->nreplies; i++) {
            send_job *s = make_send(u, u->account, sig, w->reply_phone[i], w->reply_text[i], 0,
                                    1, why, sizeof(why));
            if (s == NULL)
                sms_log(SMS_LOG_ERROR, "reply_failed", "mo=%lld why=\"%s\"", (long long)m->id,
                        why);
            else
                j->sends[j->nsends++] = s;
        }
    }
    worker_reset(w);
    atomic_fetch_add(&u->handled, 1);
    queue_submit(u->q, &j->job);
}

/* Reads more unhandled messages behind the cursor (u->mu held). */
static void refill(uplink *u)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(u->mdb,
                           "SELECT id, src, text FROM mo WHERE handled = 0 AND id > ? "
                           "ORDER BY id LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK) {
        sms_log(SMS_LOG_ERROR, "uplink_read_failed", "why=\"%s\"", sqlite3_errmsg(u->mdb));
        return;
    }
    sqlite3_bind_int64(st, 1, u->cursor);
    sqlite3_bind_int(st, 2, UPLINK_BUF - u->nbuf);
    while (u->nbuf < UPLINK_BUF && sqlite3_step(st) == SQLITE_ROW) {
        mo_item *m = &u->buf[u->nbuf];
        const char *src = (const char *)sqlite3_column_text(st, 1);
        const char *text = (const char *)sqlite3_column_text(st, 2);
        m->id = sqlite3_column_int64(st, 0);
        u->cursor = m->id;
        if (src == NULL || sms_mobile_normalize(src, strlen(src), m->phone) != 0)
            m->phone[0] = '\0';
        m->text = xstrdup(text ? text : "");
        u->nbuf++;
    }
    sqlite3_finalize(st);
}

/* The first message whose phone no worker holds (u->mu held): 1 with *out. */
static int take(uplink *u, mo_item *out)
{
    for (int i = 0; i < u->nbuf; i++) {
        int held = 0;
        for (int k = 0; k < u->nw && !held; k++)
            held = u->buf[i].phone[0] != '\0' && strcmp(u->w[k].phone, u->buf[i].phone) == 0;
        /* an earlier message of the same phone still waiting goes first */
        for (int k = 0; k < i && !held; k++)
            held = u->buf[i].phone[0] != '\0' && strcmp(u->buf[k].phone, u->buf[i].phone) == 0;
        if (held)
            continue;
        *out = u->buf[i];
        memmove(&u->buf[i], &u->buf[i + 1], (size_t)(u->nbuf - i - 1) * sizeof(mo_item));
        u->nbuf--;
        return 1;
    }
    return 0;
}

static void *worker_main(void *arg)
{
    uworker *w = arg;
    uplink *u = w->u;
    struct timespec last = {0, 0};
    pthread_mutex_lock(&u->mu);
    while (!u->stop) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t since = (now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000;
        if (u->nbuf < UPLINK_BUF / 2 && (u->pending || since >= UPLINK_POLL_MS)) {
            u->pending = 0;
            last = now;
            refill(u);
        }
        mo_item m;
        if (!take(u, &m)) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&u->cv, &u->mu, &until);
            continue;
        }
        snprintf(w->phone, sizeof(w->phone), "%s", m.phone);
        int gen = atomic_load(&u->generation);
        pthread_mutex_unlock(&u->mu);
        if (gen != w->generation) { /* the tables were reloaded */
            char e[SMS_ENGINE_ERR_MAX];
            sms_engine *fresh = make_engine(u, w->db, w, e);
            if (fresh != NULL) {
                sms_engine_free(w->engine);
                w->engine = fresh;
                w->generation = gen;
            }
        }
        handle(w, &m);
        free(m.text);
        pthread_mutex_lock(&u->mu);
        w->phone[0] = '\0';
        pthread_cond_broadcast(&u->cv);
    }
    pthread_mutex_unlock(&u->mu);
    return NULL;
}

void uplink_on_mo(void *arg, int64_t id, const char *src, const char *dest, const char *text)
{
    uplink *u = arg;
    (void)id;
    (void)src;
    (void)dest;
    (void)text;
    pthread_mutex_lock(&u->mu);
    u->pending = 1;
    pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

/* ---- life ---- */

/* Reads the command table and the replies named by c. 0, or -1 with err. */
static int load_tables(const sms_config *c, sms_cmd_table **cmds, sms_replies **replies,
                       char err[SMS_CONFIG_ERR_MAX])
{
    char e[SMS_CONFIG_ERR_MAX];
    if ((*cmds = sms_cmd_table_load_file(c->uplink_commands, e)) == NULL) {
        snprintf(err, SMS_CONFIG_ERR_MAX, "[uplink] commands: %.400s", e);
        return -1;
    }
    /* every name the engine and this module use; the room left by the
     * account's signature is checked at start */
    size_t n1 = 0, n2 = 0;
    while (sms_engine_replies[n1] != NULL)
        n1++;
    while (uplink_replies[n2] != NULL)
        n2++;
    const char **all = xcalloc(n1 + n2 + 1, sizeof(*all));
    memcpy(all, sms_engine_replies, n1 * sizeof(*all));
    memcpy(all + n1, uplink_replies, n2 * sizeof(*all));
    *replies = sms_replies_load_file(c->uplink_replies, all, SMS_UCS2_SINGLE, e);
    free(all);
    if (*replies == NULL) {
        snprintf(err, SMS_CONFIG_ERR_MAX, "[uplink] replies: %.400s", e);
        sms_cmd_table_free(*cmds);
        *cmds = NULL;
        return -1;
    }
    return 0;
}

int uplink_new(const uplink_options *o, uplink **out, char err[SMS_CONFIG_ERR_MAX])
{
    const sms_config *c = o->cfg;
    char e[SMS_CONFIG_ERR_MAX];
    *out = NULL;
    if (c->uplink_commands == NULL)
        return 0;
    if (c->uplink_replies == NULL || c->uplink_account == NULL) {
        snprintf(err, SMS_CONFIG_ERR_MAX,
                 "[uplink] commands needs replies (the template file) and account (replies are "
                 "sent as that account)");
        return -1;
    }
    uplink *u = xcalloc(1, sizeof(*u));
    pthread_mutex_init(&u->mu, NULL);
    pthread_cond_init(&u->cv, NULL);
    pthread_mutex_init(&u->amu, NULL);
    u->q = o->q;
    u->accounts = o->accounts;
    u->on_queued = o->on_queued;
    u->on_queued_arg = o->on_queued_arg;
    u->data_dir = strdup(c->data_dir);
    u->account = strdup(c->uplink_account);
    if (u->data_dir == NULL || u->account == NULL)
        xalloc_die();
    u->segments = c->segments;
    u->served = sms_config_operators_served(c);
    u->validity_ms = c->validity_ms;
    u->max_parts = c->max_parts;
    bind_policy_default(&u->policy);
    u->policy.max_failures = c->uplink_max_failures;
    u->policy.lock_seconds = c->uplink_lock_sec;
    u->nw = c->uplink_threads;

    sms_cmd_table *cmds;
    sms_replies *replies;
    if (load_tables(c, &cmds, &replies, err) != 0)
        goto fail;
    atomic_store(&u->cmds, cmds);
    atomic_store(&u->replies, replies);
    if (c->platform_url != NULL) {
        if (c->platform_system == NULL || c->platform_secret == NULL) {
            snprintf(err, SMS_CONFIG_ERR_MAX,
                     "[platform] node_url needs system_code and secret (hmac-sm3)");
            goto fail;
        }
        char state[1024];
        snprintf(state, sizeof(state), "%s/platform", c->data_dir);
        sms_backend_config bc = {c->platform_url,     c->platform_system, c->platform_secret,
                                 c->platform_sm4_key, state,              c->platform_timeout_ms};
        if ((u->backend = sms_backend_new(&bc, e, sizeof(e))) == NULL) {
            snprintf(err, SMS_CONFIG_ERR_MAX, "[platform] %.400s", e);
            goto fail;
        }
    }
    if (open_uplink_db(u, &u->adb, e, sizeof(e)) != 0) {
        snprintf(err, SMS_CONFIG_ERR_MAX, "%s", e);
        goto fail;
    }
    char path[1024];
    snprintf(path, sizeof(path), "%s/sms.db", c->data_dir);
    if (db_connect(path, UPLINK_BUSY_MS, &u->mdb, e) != 0) {
        snprintf(err, SMS_CONFIG_ERR_MAX, "%s", e);
        goto fail;
    }
    *out = u;
    return 0;
fail:
    uplink_free(u);
    return -1;
}

int uplink_reload(uplink *u, const sms_config *c, char err[SMS_CONFIG_ERR_MAX])
{
    sms_cmd_table *cmds;
    sms_replies *replies;
    char e[SMS_CONFIG_ERR_MAX];
    if (c->uplink_commands == NULL || c->uplink_replies == NULL) {
        snprintf(err, SMS_CONFIG_ERR_MAX,
                 "[uplink] commands and replies cannot be removed by a reload: restart");
        return -1;
    }
    if (load_tables(c, &cmds, &replies, err) != 0)
        return -1;
    pthread_mutex_lock(&u->mu);
    if (u->n_old == UPLINK_RELOADS_MAX) {
        pthread_mutex_unlock(&u->mu);
        sms_cmd_table_free(cmds);
        sms_replies_free(replies);
        snprintf(err, SMS_CONFIG_ERR_MAX, "%d reloads of the command table: restart",
                 UPLINK_RELOADS_MAX);
        return -1;
    }
    /* the engine checks what the loaders cannot (handlers, reply names) */
    sms_cmd_table *was_cmds = atomic_exchange(&u->cmds, cmds);
    sms_replies *was_replies = atomic_exchange(&u->replies, replies);
    pthread_mutex_lock(&u->amu);
    sms_engine *check = make_engine(u, u->adb, NULL, e);
    pthread_mutex_unlock(&u->amu);
    if (check == NULL) {
        atomic_store(&u->cmds, was_cmds);
        atomic_store(&u->replies, was_replies);
        pthread_mutex_unlock(&u->mu);
        sms_cmd_table_free(cmds);
        sms_replies_free(replies);
        snprintf(err, SMS_CONFIG_ERR_MAX, "[uplink] %.400s", e);
        return -1;
    }
    sms_engine_free(check);
    u->old_cmds[u->n_old] = was_cmds;
    u->old_replies[u->n_old] = was_replies;
    u->n_old++;
    atomic_fetch_add(&u->generation, 1);
    pthread_mutex_unlock(&u->mu);
    sms_log(SMS_LOG_INFO, "uplink_reloaded", "commands=%d", sms_cmd_table_count(cmds));
    return 0;
}

int uplink_start(uplink *u, char err[SMS_CONFIG_ERR_MAX])
{
    char sig[128], e[SMS_CONFIG_ERR_MAX];
    if (signature_of(u, NULL, sig, sizeof(sig)) != 0) {
        snprintf(err, SMS_CONFIG_ERR_MAX,
                 "[uplink] account %s: no such active account (create it with hrss-sms account "
                 "add; replies are charged to it and carry its signature)",
                 u->account);
        return -1;
    }
    sms_measure m;
    size_t slen;
    char *s = sms_sign(sig, "", 0, &slen);
    if (s == NULL || sms_measure_text(s, slen, &m) != 0 || m.chars + 10 > SMS_UCS2_SINGLE) {
        free(s);
        snprintf(err, SMS_CONFIG_ERR_MAX, "[uplink] account %s: signature too long", u->account);
        return -1;
    }
    free(s);
    u->room = SMS_UCS2_SINGLE - m.chars;
    if ((u->w = calloc((size_t)u->nw, sizeof(*u->w))) == NULL)
        xalloc_die();
    for (int i = 0; i < u->nw; i++) {
        uworker *w = &u->w[i];
        w->u = u;
        if (open_uplink_db(u, &w->db, e, sizeof(e)) != 0) {
            snprintf(err, SMS_CONFIG_ERR_MAX, "%s", e);
            return -1;
        }
        if ((w->engine = make_engine(u, w->db, w, e)) == NULL) {
            snprintf(err, SMS_CONFIG_ERR_MAX, "[uplink] %.400s", e);
            return -1;
        }
        w->generation = atomic_load(&u->generation);
    }
    for (int i = 0; i < u->nw; i++) {
        if (pthread_create(&u->w[i].th, NULL, worker_main, &u->w[i]) != 0) {
            snprintf(err, SMS_CONFIG_ERR_MAX, "uplink worker: %s", strerror(errno));
            return -1;
        }
        u->w[i].started = 1;
    }
    sms_log(SMS_LOG_INFO, "uplink_started", "threads=%d commands=%d platform=%s room=%zu", u->nw,
            sms_cmd_table_count(atomic_load(&u->cmds)), u->backend ? "yes" : "no", u->room);
    return 0;
}

void uplink_stop(uplink *u)
{
    if (u == NULL)
        return;
    pthread_mutex_lock(&u->mu);
    u->stop = 1;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
    for (int i = 0; u->w != NULL && i < u->nw; i++)
        if (u->w[i].started) {
            pthread_join(u->w[i].th, NULL);
            u->w[i].started = 0;
        }
}

void uplink_free(uplink *u)
{
    if (u == NULL)
        return;
    uplink_stop(u);
    for (int i = 0; u->w != NULL && i < u->nw; i++) {
        sms_engine_free(u->w[i].engine);
        sqlite3_close(u->w[i].db);
    }
    free(u->w);
    for (int i = 0; i < u->nbuf; i++)
        free(u->buf[i].text);
    sqlite3_close(u->mdb);
    sqlite3_close(u->adb);
    sms_backend_free(u->backend);
    sms_replies_free(atomic_load(&u->replies));
    sms_cmd_table_free(atomic_load(&u->cmds));
    for (int i = 0; i < u->n_old; i++) {
        sms_replies_free(u->old_replies[i]);
        sms_cmd_table_free(u->old_cmds[i]);
    }
    free(u->data_dir);
    free(u->account);
    pthread_mutex_destroy(&u->mu);
    pthread_cond_destroy(&u->cv);
    pthread_mutex_destroy(&u->amu);
    free(u);
}

void uplink_metrics(uplink *u, struct hrss_buf *b)
{
    char line[256];
    snprintf(line, sizeof(line),
             "# TYPE hrss_sms_uplink_handled_total counter\n"
             "hrss_sms_uplink_handled_total %llu\n"
             "hrss_sms_uplink_commands_total %llu\n"
             "hrss_sms_uplink_survey_answers_total %llu\n"
             "hrss_sms_uplink_api_requests_total %llu\n",
             (unsigned long long)atomic_load(&u->handled),
             (unsigned long long)atomic_load(&u->commands),
             (unsigned long long)atomic_load(&u->answers),
             (unsigned long long)atomic_load(&u->api_requests));
    buf_append_str(b, line);
}

/* ---- the business systems' interfaces ---- */

typedef struct api_ctx {
    struct uplink *u;
    json_t *in;
    json_t *out;
    const char *app;
    char sig[128];
} api_ctx;

/* Sets the answer's code and msg (table A.1's text, then the detail). */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int answer(api_ctx *c, int code, const char *fmt, ...)
{
    char detail[200] = "";
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
    }
    json_object_set_new(c->out, "code", json_integer(code));
    json_object_set_new(c->out, "msg", json_string(sms_code_text(code)));
    if (detail[0] != '\0')
        json_object_set_new(c->out, "detail", json_string(detail));
    return 200;
}

static const char *str_of(api_ctx *c, const char *key)
{
    return json_string_value(json_object_get(c->in, key));
}

/* appName, IP and password, as for sending (appendix A). */
static int authenticate(api_ctx *c, const char *peer)
{
    const char *app = str_of(c, "appName"), *pw = str_of(c, "password");
    if (app == NULL || pw == NULL)
        return SMS_CODE_MISSING;
    acct_snap *snap = acct_snap_get(c->u->accounts);
    account *a = acct_find(snap, app);
    int code = SMS_CODE_OK;
    if (a == NULL || a->frozen)
        code = SMS_CODE_APP;
    else if (!acct_ips_allow(a, peer))
        code = SMS_CODE_IP;
    else if (!acct_verify(a, pw))
        code = SMS_CODE_PASSWORD;
    else
        snprintf(c->sig, sizeof(c->sig), "%s", a->signature);
    acct_snap_put(snap);
    c->app = app;
    return code;
}

/* POST /uplink/persons: a person's name and service password (6.2.1). */
static int api_person(api_ctx *c)
{
    const char *ssn = str_of(c, "ssn"), *name = str_of(c, "name");
    const char *pw = str_of(c, "servicePassword");
    hrss_error he;
    if (ssn == NULL || name == NULL)
        return answer(c, SMS_CODE_MISSING, "ssn and name are required");
    if (hrss_ssn_check(ssn, strlen(ssn), &he) != HRSS_OK)
        return answer(c, SMS_CODE_FORMAT, "ssn: %s", he.msg);
    size_t nl = strlen(name);
    if (nl == 0 || nl > BIND_NAME_MAX || strchr(name, '#') != NULL)
        return answer(c, SMS_CODE_FORMAT, "name: 1 to %d bytes, no #", BIND_NAME_MAX);
    if (pw != NULL) {
        size_t pl = strlen(pw);
        int okc = pl >= 4 && pl <= 16;
        for (size_t i = 0; okc && i < pl; i++)
            okc = (pw[i] >= '0' && pw[i] <= '9') || (pw[i] >= 'a' && pw[i] <= 'z') ||
                  (pw[i] >= 'A' && pw[i] <= 'Z');
        if (!okc)
            return answer(c, SMS_CODE_FORMAT, "servicePassword: 4 to 16 letters or digits");
    }
    pthread_mutex_lock(&c->u->amu);
    bind_result r = bind_person_set(c->u->adb, &c->u->policy, ssn, name, pw);
    pthread_mutex_unlock(&c->u->amu);
    if (r != BIND_OK)
        return answer(c, SMS_CODE_SYSTEM, "the person could not be stored: retry");
    char m[HRSS_SSN_LEN + 1];
    sms_log(SMS_LOG_INFO, "person_set", "app=%s ssn=%s password=%s", c->app,
            hrss_ssn_mask(ssn, strlen(ssn), m), pw ? "set" : "kept");
    return answer(c, SMS_CODE_OK, NULL);
}

/* POST /uplink/workorders/complete: a case worker's result of a work order
 * opened by SMS (7.3), sent to the phone that asked. */
static int api_order(api_ctx *c)
{
    uplink *u = c->u;
    const char *order = str_of(c, "workOrder"), *result = str_of(c, "result");
    const char *reason = str_of(c, "reason");
    if (order == NULL || result == NULL)
        return answer(c, SMS_CODE_MISSING, "workOrder and result are required");
    int done = strcmp(result, "done") == 0;
    if (!done && strcmp(result, "refused") != 0)
        return answer(c, SMS_CODE_FORMAT, "result: done or refused");
    if (!done && (reason == NULL || reason[0] == '\0'))
        return answer(c, SMS_CODE_MISSING, "reason is required when refused");
    char phone[SMS_MOBILE_LEN + 1] = "", name[BIND_NAME_MAX + 1] = "", ssn[32] = "";
    int state = -1;
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&u->amu);
    if (sqlite3_prepare_v2(u->adb,
                           "SELECT phone, name, ssn_masked, state FROM work_orders "
                           "WHERE order_no = ?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, order, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            snprintf(phone, sizeof(phone), "%s", (const char *)sqlite3_column_text(st, 0));
            snprintf(name, sizeof(name), "%s", (const char *)sqlite3_column_text(st, 1));
            snprintf(ssn, sizeof(ssn), "%s", (const char *)sqlite3_column_text(st, 2));
            state = sqlite3_column_int(st, 3);
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&u->amu);
    if (state < 0)
        return answer(c, SMS_CODE_FORMAT, "workOrder: no work order of that number was opened by SMS");
    if (state != 0)
        return answer(c, SMS_CODE_FORMAT, "workOrder: already completed");

    char err[SMS_REPLY_ERR_MAX], why[160], sig[128];
    sms_var vars[] = {{"name", name}, {"ssn", ssn}, {"order", order}, {"reason", reason ? reason : ""}};
    char *text = sms_render(
        sms_replies_get(atomic_load(&u->replies), done ? "order_done" : "order_refused"), vars, 4,
        u->room, err, sizeof(err));
    if (text == NULL)
        return answer(c, SMS_CODE_TOO_LONG, "the reply would be too long: %s", err);
    if (signature_of(u, NULL, sig, sizeof(sig)) != 0) {
        free(text);
        return answer(c, SMS_CODE_SYSTEM, "the platform's reply account is missing");
    }
    send_job *s = make_send(u, u->account, sig, phone, text, 0, 1, why, sizeof(why));
    free(text);
    if (s == NULL)
        return answer(c, SMS_CODE_FORMAT, "%s", why);
    ujob *j = ujob_new(u, 0, 1, 1);
    j->sends[j->nsends++] = s;
    int committed = ujob_run(u, j);
    int code = committed ? s->code : SMS_CODE_SYSTEM;
    ujob_free(j);
    if (code != SMS_CODE_OK)
        return answer(c, code, "the result message was not queued");
    pthread_mutex_lock(&u->amu);
    st = NULL;
    int ok = sqlite3_prepare_v2(u->adb,
                                "UPDATE work_orders SET state = ?, completed = ?, completed_by = ? "
                                "WHERE order_no = ? AND state = 0",
                                -1, &st, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_int(st, 1, done ? 1 : 2);
        sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
        sqlite3_bind_text(st, 3, c->app, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, order, -1, SQLITE_STATIC);
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&u->amu);
    char mp[16];
    sms_log(ok ? SMS_LOG_INFO : SMS_LOG_ERROR, "work_order_completed",
            "app=%s result=%s phone=%s recorded=%s", c->app, result, sms_mobile_mask(phone, mp),
            ok ? "yes" : "no");
    return answer(c, SMS_CODE_OK, NULL);
}

/* Whether survey id belongs to app (amu held). */
static int survey_owned(uplink *u, int64_t id, const char *app)
{
    sqlite3_stmt *st = NULL;
    int own = 0;
    if (sqlite3_prepare_v2(u->adb, "SELECT app FROM survey_owner WHERE survey = ?", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        own = sqlite3_step(st) == SQLITE_ROW &&
              strcmp((const char *)sqlite3_column_text(st, 0), app) == 0;
    }
    sqlite3_finalize(st);
    return own;
}

/* Sends survey id's question to phones (amu held): counts queued ones. */
static int survey_send(api_ctx *c, int64_t id, char (*phones)[HRSS_MOBILE_LEN + 1], size_t n,
                       size_t *queued, size_t *refused)
{
    uplink *u = c->u;
    char err[SURVEY_ERR_MAX], why[160];
    ujob *j = ujob_new(u, 0, (int)n, 1);
    *queued = *refused = 0;
    for (size_t i = 0; i < n; i++) {
        char *q = survey_question_text(u->adb, id, phones[i], 0, err, sizeof(err));
        if (q == NULL) {
            ujob_free(j);
            return answer(c, SMS_CODE_FORMAT, "question: %s", err);
        }
        send_job *s = make_send(u, c->app, c->sig, phones[i], q, 1, 0, why, sizeof(why));
        free(q);
        if (s == NULL) {
            ujob_free(j);
            return answer(c, SMS_CODE_TOO_LONG, "question: %s", why);
        }
        j->sends[j->nsends++] = s;
    }
    int committed = ujob_run(u, j);
    int code = SMS_CODE_OK;
    for (int i = 0; i < j->nsends; i++) {
        send_job *s = j->sends[i];
        if (!committed)
            code = SMS_CODE_SYSTEM;
        else if (s->code == SMS_CODE_OK && s->dest[0].code == SMS_CODE_OK)
            (*queued)++;
        else if (s->code == SMS_CODE_BLACKLIST || s->code == SMS_CODE_OPERATOR ||
                 s->dest[0].code != SMS_CODE_OK)
            (*refused)++; /* unsubscribed (TD) or no carrier for the number */
        else
            code = s->code;
    }
    ujob_free(j);
    return code == SMS_CODE_OK ? 0 : answer(c, code, "the questions were not all queued");
}

/* POST /surveys: create a survey, add its recipients and send them the
 * question (7.4). */
static int api_survey_create(api_ctx *c)
{
    uplink *u = c->u;
    char err[SURVEY_ERR_MAX], code_out[SURVEY_CODE_MAX + 1];
    json_t *ans = json_object_get(c->in, "answers"), *ph = json_object_get(c->in, "phones");
    const char *title = str_of(c, "title"), *question = str_of(c, "question");
    const char *thanks = str_of(c, "thanks"), *rcode = str_of(c, "replyCode");
    json_t *closes = json_object_get(c->in, "closesAt"), *opens = json_object_get(c->in, "opensAt");
    if (title == NULL || question == NULL || !json_is_array(ans) || !json_is_array(ph) ||
        !json_is_integer(closes))
        return answer(c, SMS_CODE_MISSING,
                      "title, question, answers, phones and closesAt are required");
    if (json_array_size(ans) > SURVEY_ANSWERS_MAX)
        return answer(c, SMS_CODE_FORMAT, "answers: at most %d", SURVEY_ANSWERS_MAX);
    if (json_array_size(ph) == 0 || json_array_size(ph) > UPLINK_SURVEY_PHONES)
        return answer(c, SMS_CODE_FORMAT, "phones: 1 to %d numbers", UPLINK_SURVEY_PHONES);
    survey_answer a[SURVEY_ANSWERS_MAX];
    size_t i;
    json_t *v;
    json_array_foreach(ans, i, v) {
        a[i].code = json_string_value(json_object_get(v, "code"));
        a[i].label = json_string_value(json_object_get(v, "label"));
        if (a[i].code == NULL || a[i].label == NULL)
            return answer(c, SMS_CODE_MISSING, "answers[%zu]: code and label", i);
    }
    const char **phones = xcalloc(json_array_size(ph), sizeof(*phones));
    json_array_foreach(ph, i, v) {
        char norm[SMS_MOBILE_LEN + 1];
        phones[i] = json_string_value(v);
        if (phones[i] == NULL || sms_mobile_normalize(phones[i], strlen(phones[i]), norm) != 0) {
            free(phones);
            return answer(c, SMS_CODE_FORMAT, "phones[%zu]: not a mainland mobile number", i);
        }
    }
    int64_t now = (int64_t)time(NULL);
    json_t *rem = json_object_get(c->in, "maxReminders");
    survey_def d = {title, question, a, json_array_size(ans),
                    json_is_integer(opens) ? json_integer_value(opens) : now,
                    json_integer_value(closes), rcode, thanks ? thanks : "感谢您的参与！",
                    json_is_integer(rem) ? (int)json_integer_value(rem) : 1};
    int64_t id = 0;
    size_t added = 0;
    pthread_mutex_lock(&u->amu);
    int rc = survey_create(u->adb, &d, &id, code_out, err, sizeof(err));
    if (rc == HRSS_OK)
        rc = survey_add_recipients(u->adb, id, phones, json_array_size(ph), &added, err,
                                   sizeof(err));
    if (rc == HRSS_OK) {
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(u->adb, "INSERT INTO survey_owner (survey, app) VALUES (?, ?)",
                                -1, &st, NULL) == SQLITE_OK
                 ? HRSS_OK
                 : HRSS_EIO;
        if (rc == HRSS_OK) {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_text(st, 2, c->app, -1, SQLITE_STATIC);
            rc = sqlite3_step(st) == SQLITE_DONE ? HRSS_OK : HRSS_EIO;
        }
        sqlite3_finalize(st);
        if (rc != HRSS_OK)
            snprintf(err, sizeof(err), "storage");
    }
    free(phones);
    int status;
    if (rc != HRSS_OK) {
        pthread_mutex_unlock(&u->amu);
        return answer(c, rc == HRSS_EIO ? SMS_CODE_SYSTEM : SMS_CODE_FORMAT, "%s", err);
    }
    size_t queued = 0, refused = 0;
    /* the question goes now when the survey is open, else with a reminder */
    if (d.opens_at <= now) {
        char(*list)[HRSS_MOBILE_LEN + 1] = calloc(json_array_size(ph), sizeof(*list));
        size_t n = 0;
        if (list == NULL)
            xalloc_die();
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(u->adb, "SELECT phone FROM survey_recipient WHERE survey_id = ?", -1,
                               &st, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, id);
            while (n < json_array_size(ph) && sqlite3_step(st) == SQLITE_ROW)
                snprintf(list[n++], HRSS_MOBILE_LEN + 1, "%s",
                         (const char *)sqlite3_column_text(st, 0));
        }
        sqlite3_finalize(st);
        status = survey_send(c, id, list, n, &queued, &refused);
        free(list);
        if (status != 0) {
            pthread_mutex_unlock(&u->amu);
            return status;
        }
    }
    pthread_mutex_unlock(&u->amu);
    sms_log(SMS_LOG_INFO, "survey_created", "app=%s survey=%lld recipients=%zu sent=%zu refused=%zu",
            c->app, (long long)id, added, queued, refused);
    answer(c, SMS_CODE_OK, NULL);
    json_object_set_new(c->out, "surveyId", json_integer(id));
    json_object_set_new(c->out, "replyCode", json_string(code_out));
    json_object_set_new(c->out, "recipients", json_integer((json_int_t)added));
    json_object_set_new(c->out, "sent", json_integer((json_int_t)queued));
    json_object_set_new(c->out, "refused", json_integer((json_int_t)refused));
    return 200;
}

static int survey_id_of(api_ctx *c, int64_t *id)
{
    json_t *v = json_object_get(c->in, "surveyId");
    if (!json_is_integer(v))
        return answer(c, SMS_CODE_MISSING, "surveyId is required");
    *id = json_integer_value(v);
    if (!survey_owned(c->u, *id, c->app))
        return answer(c, SMS_CODE_FORMAT, "surveyId: no survey of this appName");
    return 0;
}

/* POST /surveys/remind: the question again to those who did not answer. */
static int api_survey_remind(api_ctx *c)
{
    uplink *u = c->u;
    int64_t id;
    char err[SURVEY_ERR_MAX];
    pthread_mutex_lock(&u->amu);
    int status = survey_id_of(c, &id);
    if (status != 0) {
        pthread_mutex_unlock(&u->amu);
        return status;
    }
    char(*list)[HRSS_MOBILE_LEN + 1] = calloc(UPLINK_REMIND_MAX, sizeof(*list));
    size_t n = 0, queued = 0, refused = 0;
    if (list == NULL)
        xalloc_die();
    int rc = survey_remind_take(u->adb, id, (int64_t)time(NULL), UPLINK_REMIND_MAX, list, &n, err,
                                sizeof(err));
    if (rc != HRSS_OK)
        status = answer(c, SMS_CODE_SYSTEM, "%s", err);
    else if (n > 0)
        status = survey_send(c, id, list, n, &queued, &refused);
    free(list);
    pthread_mutex_unlock(&u->amu);
    if (status != 0)
        return status;
    answer(c, SMS_CODE_OK, NULL);
    json_object_set_new(c->out, "reminded", json_integer((json_int_t)queued));
    json_object_set_new(c->out, "refused", json_integer((json_int_t)refused));
    return 200;
}

/* POST /surveys/results: counts per answer. */
static int api_survey_results(api_ctx *c)
{
    uplink *u = c->u;
    int64_t id;
    char err[SURVEY_ERR_MAX];
    survey_results r;
    pthread_mutex_lock(&u->amu);
    int status = survey_id_of(c, &id);
    int rc = status == 0 ? survey_results_get(u->adb, id, &r, err, sizeof(err)) : HRSS_OK;
    pthread_mutex_unlock(&u->amu);
    if (status != 0)
        return status;
    if (rc != HRSS_OK)
        return answer(c, SMS_CODE_SYSTEM, "%s", err);
    answer(c, SMS_CODE_OK, NULL);
    json_t *counts = json_object();
    for (size_t i = 0; i < r.nanswers; i++)
        json_object_set_new(counts, r.codes[i], json_integer(r.counts[i]));
    json_object_set_new(c->out, "recipients", json_integer(r.recipients));
    json_object_set_new(c->out, "answered", json_integer(r.answered));
    json_object_set_new(c->out, "reminded", json_integer(r.reminded));
    json_object_set_new(c->out, "counts", counts);
    return 200;
}

/* One business interface (a route of the table, ctx its uplink_iface): a
 * JSON object in, the account authenticated, the interface's answer out
 * (status and the JSON of c.out). */
static int serve_api(void *ctx, hserver_req *req, int worker)
{
    const uplink_iface *f = ctx;
    uplink *u = f->u;
    size_t len = 0;
    const char *body = hserver_req_body(req, &len);
    (void)worker;
    atomic_fetch_add(&u->api_requests, 1);
    api_ctx c = {u, NULL, json_object(), NULL, ""};
    int status;
    json_error_t je;
    c.in = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(c.in)) {
        status = answer(&c, SMS_CODE_FORMAT, "body: a JSON object (%s)", je.text);
    } else {
        int code = authenticate(&c, hserver_req_peer_text(req));
        status = code != SMS_CODE_OK ? answer(&c, code, NULL) : f->fn(&c);
    }
    char *text = json_dumps(c.out, JSON_COMPACT | JSON_ENSURE_ASCII);
    hserver_reply(req, status, "application/json", text ? text : "{}", text ? strlen(text) : 2);
    free(text);
    json_decref(c.out);
    json_decref(c.in);
    return status;
}

void uplink_routes(uplink *u, route_table *t)
{
    static const struct {
        const char *path;
        int (*fn)(api_ctx *c);
    } ifaces[UPLINK_IFACES] = {
        {"/uplink/persons", api_person},
        {"/uplink/workorders/complete", api_order},
        {"/surveys", api_survey_create},
        {"/surveys/remind", api_survey_remind},
        {"/surveys/results", api_survey_results},
    };
    for (int i = 0; i < UPLINK_IFACES; i++) {
        u->ifaces[i] = (uplink_iface){u, ifaces[i].fn};
        route_add(t, HTTP1_POST, ifaces[i].path, serve_api, &u->ifaces[i]);
    }
}
