/*
 * sms/dispatch.c - the dispatcher (dispatch.h).
 *
 * In memory: the messages being sent ("held"), in one FIFO per operator and
 * lane, and a map id -> message for the carriers' answers. A message is
 * loaded from sms.db when it is queued (state 1), its parts are submitted
 * to a link serving its operator, and it leaves memory once every part was
 * acknowledged or failed. Everything written goes through the queue's
 * writer as a job (ack, refusal, report, expiry, uplink, push result,
 * housekeeping), so writes keep their order.
 *
 * On disk: segs holds one row per acknowledged (or failed) part with the
 * carrier's message id as "carrier/msgid"; reports_pending holds reports
 * whose id is not in segs yet; pushes holds the final states owed to
 * business systems.
 */
#include "dispatch.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "carrier/carrier.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "carrier_conf.h"
#include "content.h"
#include "db.h"
#include "hrss/codes.h"
#include "log.h"
#include "net/tlsclient.h"
#include "send.h"

#define LANES 3
#define LOAD_BATCH 2000
#define HELD_MAX 50000
#define PUMP_MS 20
#define HOUSEKEEP_MS 1000
#define PUSH_BATCH 64

typedef struct dmsg {
    int64_t id;
    char mobile[SMS_MOBILE_LEN + 1];
    int op, lane, parts, ref;
    char *content;
    int64_t expires_ms;
    uint8_t todo[32];   /* parts (bit seq-1) still to submit */
    int outstanding;    /* submitted, not answered */
    int finished;       /* acknowledged or failed */
    int attempts;
    int64_t retry_at;
    int queued;         /* in a lane FIFO */
    TAILQ_ENTRY(dmsg) lane_link;
    struct dmsg *hnext; /* id map chain */
} dmsg;

TAILQ_HEAD(dmsg_list, dmsg);

typedef struct link {
    dispatch *d;
    char name[33];
    int operators;
    int fallback;
    carrier_client *c;
    int up;
} link;

struct dispatch {
    struct event_base *base;
    queue *q;
    acct_holder *accounts;
    sqlite3 *db;          /* main thread: loads and push reads */
    link links[SMS_CONFIG_MAX_CARRIERS];
    int n_links;
    struct dmsg_list lanes[SMS_OP_COUNT][LANES];
    struct dmsg_list delayed; /* waiting for a retry */
    dmsg **map;
    size_t map_cap, held;
    int64_t last_id;
    atomic_int rescan;    /* load from the start (scheduled messages became due) */
    struct event *wake_ev, *pump_ev, *house_ev;
    int retry_max;
    int64_t retry_backoff_ms, report_park_ms, report_wait_ms;
    int64_t cb_timeout_ms, cb_backoff_ms;
    int cb_retries;
    SSL_CTX *cb_tls;       /* https:// callbacks: peer verified, TLS 1.2 or later */
    sqlite3_stmt *st_load, *st_segs; /* load's statements on db */
    struct push **pushing; /* pushes in flight, or answered and not yet freed */
    int n_pushing;
    sms_mo_handler mo;
    atomic_ullong submitted, acked, refused, reports, parked, unmatched, mo_count, pushes_ok,
        pushes_failed, expired, retries;
};

/* ---- id map ---- */

static size_t slot_of(const dispatch *d, int64_t id)
{
    return (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ull >> 20) & (d->map_cap - 1);
}

static dmsg *map_get(dispatch *d, int64_t id)
{
    for (dmsg *m = d->map[slot_of(d, id)]; m != NULL; m = m->hnext)
        if (m->id == id)
            return m;
    return NULL;
}

static void map_put(dispatch *d, dmsg *m)
{
    if (d->held + 1 > d->map_cap / 2) {
        size_t oldcap = d->map_cap;
        dmsg **old = d->map;
        d->map_cap *= 2;
        d->map = xcalloc(d->map_cap, sizeof(dmsg *));
        for (size_t i = 0; i < oldcap; i++)
            for (dmsg *x = old[i], *n; x != NULL; x = n) {
                n = x->hnext;
                size_t s = slot_of(d, x->id);
                x->hnext = d->map[s];
                d->map[s] = x;
            }
        free(old);
    }
    size_t s = slot_of(d, m->id);
    m->hnext = d->map[s];
    d->map[s] = m;
    d->held++;
}

static void map_del(dispatch *d, dmsg *m)
{
    for (dmsg **p = &d->map[slot_of(d, m->id)]; *p != NULL; p = &(*p)->hnext)
        if (*p == m) {
            *p = m->hnext;
            d->held--;
            return;
        }
}

static void msg_free(dmsg *m)
{
    free(m->content);
    free(m);
}

/* ---- writer jobs ---- */

/* Reports parked longer than report_park_ms matched no submitted part: they
 * are dropped, each logged once with its carrier and message id (not a
 * phone number), so that an id form the carrier writes differently (SMPP
 * hex and decimal: smpp_msgid_type) shows in the log instead of parts
 * staying submitted without a word. */
static void log_unmatched_reports(dispatch *d, sqlite3 *db, int64_t before)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT carrier_msgid, stat FROM reports_pending "
                               "WHERE received < ? LIMIT 100", -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, before);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *stat = (const char *)sqlite3_column_text(st, 1);
        atomic_fetch_add(&d->unmatched, 1);
        sms_log(SMS_LOG_WARN, "report_unmatched",
                "carrier_msgid=%.80s stat=%.16s (no part was submitted with this id; check "
                "smpp_msgid_type)", id ? id : "", stat ? stat : "");
    }
    sqlite3_finalize(st);
}

enum { J_ACK, J_FAIL, J_REPORT, J_EXPIRE, J_MO, J_PUSH_OK, J_PUSH_RETRY, J_HOUSEKEEP };

typedef struct djob {
    qjob job;
    int kind;
    dispatch *d;
    int64_t msg, now;
    int seq, ok, attempts;
    char key[112];  /* carrier/msgid */
    char stat[24];
    char *src, *dest, *text;
    int64_t mo_id;
    int promoted;
} djob;


/* Prepares sql, binds the arguments (fmt: i = int64, t = text, n = null),
 * steps once. Returns the sqlite result of the step (SQLITE_DONE /
 * SQLITE_ROW) or the error. */
static int exec_bind(sqlite3 *db, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return SQLITE_ERROR;
    va_start(ap, fmt);
    for (int i = 0; fmt[i] != '\0'; i++) {
        if (fmt[i] == 'i')
            sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        else if (fmt[i] == 't')
            sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, i + 1);
    }
    va_end(ap);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc;
}

#define OK_RC(rc) ((rc) == SQLITE_DONE || (rc) == SQLITE_ROW)

/* a final state of msg is owed to its account's callback URL, if any */
static int owe_push(sqlite3 *db, int64_t msg, int64_t now)
{
    return exec_bind(db,
                     "INSERT OR IGNORE INTO pushes (msg, next_try) SELECT m.id, ?2 FROM msgs m "
                     "JOIN accounts a ON a.app = m.app WHERE m.id = ?1 AND a.callback IS NOT NULL "
                     "AND m.state >= 3",
                     "ii", msg, now);
}

/* a report for part seq of msg (its segs row exists, state 2) */
static int apply_report(sqlite3 *db, int64_t msg, int seq, int ok, const char *stat, int64_t now)
{
    int rc = exec_bind(db,
                       "UPDATE segs SET state = ?3, stat = ?4, updated = ?5 WHERE msg = ?1 AND "
                       "seq = ?2 AND state = 2",
                       "iiiti", msg, (int64_t)seq, (int64_t)(ok ? SMS_ST_DELIVERED : SMS_ST_FAILED),
                       stat, now);
    if (!OK_RC(rc))
        return -1;
    if (sqlite3_changes(db) == 0)
        return 0; /* a second report for the same part */
    rc = exec_bind(db,
                   "UPDATE msgs SET done_parts = done_parts + ?2, failed_parts = failed_parts + "
                   "1 - ?2, stat = ?3, updated = ?4, state = CASE WHEN state >= 3 THEN state "
                   "WHEN ?2 = 0 THEN 4 WHEN done_parts + 1 >= parts THEN 3 ELSE state END "
                   "WHERE id = ?1",
                   "iiti", msg, (int64_t)ok, stat, now);
    if (!OK_RC(rc))
        return -1;
    return OK_RC(owe_push(db, msg, now)) ? 0 : -1;
}

static int is_td(const char *text)
{
    /* TD, td, TD#, ＴＤ, with spaces around (6.3.1: case-insensitive) */
    char buf[16];
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p == ' ' || *p == '#')
            continue;
        if (p[0] == 0xEF && p[1] == 0xBC && (p[2] == 0xB4 || p[2] == 0xA4 || p[2] == 0x83)) {
            /* full-width T (U+FF34), D (U+FF24), ＃ (U+FF03) */
            if (p[2] != 0x83 && o < sizeof(buf) - 1)
                buf[o++] = p[2] == 0xB4 ? 'T' : 'D';
            p += 2;
            continue;
        }
        if (o >= sizeof(buf) - 1)
            return 0;
        buf[o++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    }
    buf[o] = '\0';
    return strcmp(buf, "TD") == 0;
}

static int apply_djob(queue *q, sqlite3 *db, qjob *jj)
{
    djob *j = (djob *)jj;
    dispatch *d = j->d;
    int rc;
    (void)q;
    switch (j->kind) {
    case J_ACK: {
        rc = exec_bind(db,
                       "INSERT OR IGNORE INTO segs (msg, seq, state, attempts, carrier_msgid, "
                       "submitted, updated) VALUES (?1, ?2, 2, ?3, ?4, ?5, ?5)",
                       "iiiti", j->msg, (int64_t)j->seq, (int64_t)j->attempts, j->key, j->now);
        if (!OK_RC(rc))
            return -1;
        rc = exec_bind(db,
                       "UPDATE msgs SET state = 2, updated = ?2 WHERE id = ?1 AND state < 2 AND "
                       "(SELECT count(*) FROM segs WHERE msg = ?1) >= parts",
                       "ii", j->msg, j->now);
        if (!OK_RC(rc))
            return -1;
        /* reports that came first */
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db,
                               "SELECT ok, stat FROM reports_pending WHERE carrier_msgid = ?",
                               -1, &st, NULL) != SQLITE_OK)
            return -1;
        sqlite3_bind_text(st, 1, j->key, -1, SQLITE_STATIC);
        int found = 0;
        while (sqlite3_step(st) == SQLITE_ROW && found == 0) {
            char stat[24];
            snprintf(stat, sizeof(stat), "%s", (const char *)sqlite3_column_text(st, 1));
            found = 1;
            if (apply_report(db, j->msg, j->seq, sqlite3_column_int(st, 0), stat, j->now) != 0) {
                sqlite3_finalize(st);
                return -1;
            }
        }
        sqlite3_finalize(st);
        if (found && !OK_RC(exec_bind(db, "DELETE FROM reports_pending WHERE carrier_msgid = ?",
                                      "t", j->key)))
            return -1;
        return 0;
    }
    case J_FAIL:
        rc = exec_bind(db,
                       "INSERT OR REPLACE INTO segs (msg, seq, state, attempts, stat, updated) "
                       "VALUES (?1, ?2, 4, ?3, ?4, ?5)",
                       "iiiti", j->msg, (int64_t)j->seq, (int64_t)j->attempts, j->stat, j->now);
        if (!OK_RC(rc))
            return -1;
        rc = exec_bind(db,
                       "UPDATE msgs SET failed_parts = failed_parts + 1, stat = ?2, updated = ?3,"
                       " state = CASE WHEN state >= 3 THEN state ELSE 4 END WHERE id = ?1",
                       "iti", j->msg, j->stat, j->now);
        return OK_RC(rc) && OK_RC(owe_push(db, j->msg, j->now)) ? 0 : -1;
    case J_REPORT: {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "SELECT msg, seq FROM segs WHERE carrier_msgid = ?", -1, &st,
                               NULL) != SQLITE_OK)
            return -1;
        sqlite3_bind_text(st, 1, j->key, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        int64_t msg = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        int seq = rc == SQLITE_ROW ? sqlite3_column_int(st, 1) : 0;
        sqlite3_finalize(st);
        if (rc == SQLITE_ROW)
            return apply_report(db, msg, seq, j->ok, j->stat, j->now);
        if (rc != SQLITE_DONE)
            return -1;
        atomic_fetch_add(&d->parked, 1);
        rc = exec_bind(db,
                       "INSERT INTO reports_pending (carrier_msgid, ok, stat, received) "
                       "VALUES (?, ?, ?, ?)",
                       "titi", j->key, (int64_t)j->ok, j->stat, j->now);
        return OK_RC(rc) ? 0 : -1;
    }
    case J_EXPIRE:
        rc = exec_bind(db,
                       "UPDATE msgs SET state = 5, stat = 'EXPIRED', updated = ?2 WHERE id = ?1 "
                       "AND state < 2",
                       "ii", j->msg, j->now);
        return OK_RC(rc) && OK_RC(owe_push(db, j->msg, j->now)) ? 0 : -1;
    case J_MO:
        rc = exec_bind(db, "INSERT INTO mo (src, dest, text, received) VALUES (?, ?, ?, ?)",
                       "ttti", j->src, j->dest, j->text, j->now);
        if (!OK_RC(rc))
            return -1;
        j->mo_id = sqlite3_last_insert_rowid(db);
        if (is_td(j->text)) {
            char mobile[SMS_MOBILE_LEN + 1];
            if (sms_mobile_normalize(j->src, strlen(j->src), mobile) == 0 &&
                !OK_RC(exec_bind(db,
                                 "INSERT OR IGNORE INTO blacklist (mobile, reason, added) "
                                 "VALUES (?, 'td', ?)",
                                 "ti", mobile, j->now)))
                return -1;
        }
        return 0;
    case J_PUSH_OK:
        return OK_RC(exec_bind(db, "DELETE FROM pushes WHERE msg = ?", "i", j->msg)) ? 0 : -1;
    case J_PUSH_RETRY:
        if (j->attempts >= d->cb_retries)
            rc = exec_bind(db, "DELETE FROM pushes WHERE msg = ?", "i", j->msg);
        else
            rc = exec_bind(db, "UPDATE pushes SET attempts = ?2, next_try = ?3 WHERE msg = ?1",
                           "iii", j->msg, (int64_t)j->attempts,
                           j->now + (d->cb_backoff_ms << (j->attempts > 20 ? 20 : j->attempts - 1)));
        return OK_RC(rc) ? 0 : -1;
    case J_HOUSEKEEP:
        rc = exec_bind(db,
                       "UPDATE msgs SET state = 1, updated = ?1 WHERE state = 0 AND "
                       "not_before <= ?1",
                       "i", j->now);
        if (!OK_RC(rc))
            return -1;
        j->promoted = sqlite3_changes(db);
        log_unmatched_reports(d, db, j->now - d->report_park_ms);
        rc = exec_bind(db, "DELETE FROM reports_pending WHERE received < ?", "i",
                       j->now - d->report_park_ms);
        if (!OK_RC(rc))
            return -1;
        rc = exec_bind(db,
                       "UPDATE msgs SET state = 5, stat = 'EXPIRED', updated = ?1 WHERE state = 2 "
                       "AND updated < ?2",
                       "ii", j->now, j->now - d->report_wait_ms);
        return OK_RC(rc) ? 0 : -1;
    }
    return 0;
}

static void djob_done(qjob *jj, int committed)
{
    djob *j = (djob *)jj;
    dispatch *d = j->d;
    if (committed && j->kind == J_HOUSEKEEP && j->promoted > 0) {
        atomic_store(&d->rescan, 1);
        dispatch_wake(d);
    }
    if (committed && j->kind == J_MO && d->mo.on_mo != NULL)
        d->mo.on_mo(d->mo.arg, j->mo_id, j->src, j->dest, j->text);
    if (!committed)
        sms_log(SMS_LOG_ERROR, "dispatch_record_failed", "kind=%d msg=%lld", j->kind,
                (long long)j->msg);
    free(j->src);
    free(j->dest);
    free(j->text);
    free(j);
}

static djob *djob_new(dispatch *d, int kind, int64_t msg)
{
    djob *j = xcalloc(1, sizeof(*j));
    j->job.apply = apply_djob;
    j->job.done = djob_done;
    j->kind = kind;
    j->d = d;
    j->msg = msg;
    j->now = db_now_ms();
    return j;
}

/* ---- loading ---- */

static void lane_push(dispatch *d, dmsg *m)
{
    if (!m->queued) {
        TAILQ_INSERT_TAIL(&d->lanes[m->op][m->lane], m, lane_link);
        m->queued = 1;
    }
}

static void load(dispatch *d)
{
    if (atomic_exchange(&d->rescan, 0))
        d->last_id = 0;
    if (d->held >= HELD_MAX)
        return;
    /* prepared once: load runs at every wake-up of the writer's batches */
    if ((d->st_load == NULL &&
         sqlite3_prepare_v3(d->db,
                            "SELECT id, mobile, operator, lane, content, parts, ref, expires FROM "
                            "msgs WHERE state = 1 AND id > ? ORDER BY id LIMIT ?",
                            -1, SQLITE_PREPARE_PERSISTENT, &d->st_load, NULL) != SQLITE_OK) ||
        (d->st_segs == NULL &&
         sqlite3_prepare_v3(d->db, "SELECT seq FROM segs WHERE msg = ?", -1,
                            SQLITE_PREPARE_PERSISTENT, &d->st_segs, NULL) != SQLITE_OK)) {
        sms_log(SMS_LOG_ERROR, "dispatch_load_failed", "error=sqlite");
        return;
    }
    sqlite3_stmt *st = d->st_load, *segs = d->st_segs;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, d->last_id);
    sqlite3_bind_int(st, 2, LOAD_BATCH);
    while (sqlite3_step(st) == SQLITE_ROW && d->held < HELD_MAX) {
        int64_t id = sqlite3_column_int64(st, 0);
        d->last_id = id;
        if (map_get(d, id) != NULL)
            continue;
        int op = sqlite3_column_int(st, 2);
        if (op < 0 || op >= SMS_OP_COUNT)
            continue;
        dmsg *m = xcalloc(1, sizeof(*m));
        m->id = id;
        snprintf(m->mobile, sizeof(m->mobile), "%s", (const char *)sqlite3_column_text(st, 1));
        m->op = op;
        m->lane = sqlite3_column_int(st, 3);
        if (m->lane < 0 || m->lane >= LANES)
            m->lane = LANES - 1;
        m->content = xstrdup((const char *)sqlite3_column_text(st, 4));
        m->parts = sqlite3_column_int(st, 5);
        m->ref = sqlite3_column_int(st, 6);
        m->expires_ms = sqlite3_column_int64(st, 7);
        if (m->parts < 1 || m->parts > SMS_MAX_PARTS) {
            msg_free(m);
            continue;
        }
        for (int s = 1; s <= m->parts; s++)
            m->todo[(s - 1) / 8] |= (uint8_t)(1 << ((s - 1) % 8));
        /* parts acknowledged before a restart are not sent again */
        sqlite3_reset(segs);
        sqlite3_bind_int64(segs, 1, id);
        while (sqlite3_step(segs) == SQLITE_ROW) {
            int s = sqlite3_column_int(segs, 0);
            if (s >= 1 && s <= m->parts && (m->todo[(s - 1) / 8] & (1 << ((s - 1) % 8)))) {
                m->todo[(s - 1) / 8] &= (uint8_t)~(1 << ((s - 1) % 8));
                m->finished++;
            }
        }
        map_put(d, m);
        lane_push(d, m);
    }
    sqlite3_reset(st); /* no read transaction left open between loads */
    sqlite3_reset(segs);
}

/* ---- sending ---- */

/* A link of op's carrier (one that is up first); when no link lists op, a
 * fallback link ([carrier NAME] fallback = yes) in the same way. */
static link *link_for(dispatch *d, int op)
{
    link *any = NULL;
    for (int pass = 0; pass < 2 && any == NULL; pass++)
        for (int i = 0; i < d->n_links; i++)
            if (pass == 0 ? (d->links[i].operators & (1 << op)) != 0 : d->links[i].fallback) {
                if (d->links[i].up > 0)
                    return &d->links[i];
                if (any == NULL)
                    any = &d->links[i];
            }
    return any;
}

static void finish_if_done(dispatch *d, dmsg *m)
{
    if (m->finished >= m->parts && m->outstanding == 0) {
        if (m->queued) {
            TAILQ_REMOVE(&d->lanes[m->op][m->lane], m, lane_link);
            m->queued = 0;
        }
        map_del(d, m);
        msg_free(m);
    }
}

/* Submits what m still has to send; returns 0 when all went, -1 when the
 * link took no more (m stays at the head of its lane). */
static int submit_parts(dispatch *d, link *l, dmsg *m)
{
    sms_part *parts = xmalloc(sizeof(sms_part) * (size_t)m->parts);
    int n = sms_split(m->content, strlen(m->content), (uint8_t)m->ref, parts, m->parts);
    int rc = 0;
    if (n != m->parts) { /* the stored text no longer splits as counted */
        for (int s = 1; s <= m->parts; s++)
            if (m->todo[(s - 1) / 8] & (1 << ((s - 1) % 8))) {
                m->todo[(s - 1) / 8] &= (uint8_t)~(1 << ((s - 1) % 8));
                djob *j = djob_new(d, J_FAIL, m->id);
                j->seq = s;
                snprintf(j->stat, sizeof(j->stat), "ENCODE");
                queue_submit(d->q, &j->job);
                m->finished++;
            }
        free(parts);
        return 0;
    }
    sms_measure meas;
    sms_measure_text(m->content, strlen(m->content), &meas);
    for (int s = 1; s <= m->parts; s++) {
        if (!(m->todo[(s - 1) / 8] & (1 << ((s - 1) % 8))))
            continue;
        uint64_t ref = ((uint64_t)m->id << 8) | (uint64_t)(s - 1);
        if (carrier_submit(l->c, ref, m->mobile, "", parts[s - 1].ud, parts[s - 1].len,
                           meas.coding == SMS_CODING_UCS2 ? 8 : 0, parts[s - 1].has_udh,
                           1) != 0) {
            rc = -1;
            break;
        }
        m->todo[(s - 1) / 8] &= (uint8_t)~(1 << ((s - 1) % 8));
        m->outstanding++;
        atomic_fetch_add(&d->submitted, 1);
    }
    free(parts);
    return rc;
}

static void pump(dispatch *d)
{
    int64_t now = db_now_ms();
    /* retries that are due go back to the front of their lanes */
    dmsg *m, *next;
    for (m = TAILQ_FIRST(&d->delayed); m != NULL; m = next) {
        next = TAILQ_NEXT(m, lane_link);
        if (m->retry_at <= now) {
            TAILQ_REMOVE(&d->delayed, m, lane_link);
            TAILQ_INSERT_HEAD(&d->lanes[m->op][m->lane], m, lane_link);
        }
    }
    for (int op = 0; op < SMS_OP_COUNT; op++) {
        link *l = link_for(d, op);
        for (int lane = 0; lane < LANES; lane++) {
            struct dmsg_list *q = &d->lanes[op][lane];
            while ((m = TAILQ_FIRST(q)) != NULL) {
                if (now > m->expires_ms && m->finished == 0 && m->outstanding == 0) {
                    TAILQ_REMOVE(q, m, lane_link);
                    m->queued = 0;
                    queue_submit(d->q, &djob_new(d, J_EXPIRE, m->id)->job);
                    atomic_fetch_add(&d->expired, 1);
                    map_del(d, m);
                    msg_free(m);
                    continue;
                }
                if (l == NULL || l->up == 0 || submit_parts(d, l, m) != 0)
                    goto next_op;
                TAILQ_REMOVE(q, m, lane_link);
                m->queued = 0;
                finish_if_done(d, m);
            }
        }
    next_op:;
    }
}

static void on_pump(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    dispatch *d = arg;
    load(d);
    pump(d);
}

/* ---- carrier callbacks (main thread) ---- */

static void on_submit_result(void *arg, uint64_t seg_ref, int status, const char *msgid)
{
    link *l = arg;
    dispatch *d = l->d;
    int64_t id = (int64_t)(seg_ref >> 8);
    int seq = (int)(seg_ref & 0xFF) + 1;
    dmsg *m = map_get(d, id);
    if (m == NULL)
        return;
    m->outstanding--;
    if (status == 0) {
        djob *j = djob_new(d, J_ACK, id);
        j->seq = seq;
        j->attempts = m->attempts + 1;
        snprintf(j->key, sizeof(j->key), "%s/%s", l->name, msgid);
        queue_submit(d->q, &j->job);
        m->finished++;
        atomic_fetch_add(&d->acked, 1);
    } else if (status < 0 && m->attempts < d->retry_max) {
        /* no answer or throttled: try again later */
        m->attempts++;
        m->todo[(seq - 1) / 8] |= (uint8_t)(1 << ((seq - 1) % 8));
        atomic_fetch_add(&d->retries, 1);
        if (!m->queued) {
            int shift = m->attempts - 1 > 16 ? 16 : m->attempts - 1;
            m->retry_at = db_now_ms() + (d->retry_backoff_ms << shift);
            TAILQ_INSERT_TAIL(&d->delayed, m, lane_link);
            m->queued = 1;
        }
        return;
    } else {
        djob *j = djob_new(d, J_FAIL, id);
        j->seq = seq;
        j->attempts = m->attempts + 1;
        snprintf(j->stat, sizeof(j->stat), status < 0 ? "NOSEND:%d" : "REFUSED:%d", status);
        queue_submit(d->q, &j->job);
        m->finished++;
        atomic_fetch_add(&d->refused, 1);
    }
    finish_if_done(d, m);
}

static void on_report(void *arg, const char *msgid, int ok, const char *stat, const char *dest)
{
    link *l = arg;
    (void)dest;
    djob *j = djob_new(l->d, J_REPORT, 0);
    j->ok = ok;
    snprintf(j->key, sizeof(j->key), "%s/%s", l->name, msgid);
    snprintf(j->stat, sizeof(j->stat), "%s", stat);
    atomic_fetch_add(&l->d->reports, 1);
    queue_submit(l->d->q, &j->job);
}

static void on_mo(void *arg, const char *src, const char *dest, const char *text)
{
    link *l = arg;
    djob *j = djob_new(l->d, J_MO, 0);
    j->src = xstrdup(src);
    j->dest = xstrdup(dest);
    j->text = xstrdup(text);
    atomic_fetch_add(&l->d->mo_count, 1);
    queue_submit(l->d->q, &j->job);
}

static void on_link(void *arg, int up)
{
    link *l = arg;
    int was = l->up;
    l->up = up;
    sms_log(up > 0 ? SMS_LOG_INFO : SMS_LOG_WARN, "carrier_link", "carrier=%s up=%d", l->name,
            up);
    if (was == 0 && up > 0)
        dispatch_wake(l->d);
}

static void on_clog(void *arg, int level, const char *line)
{
    link *l = arg;
    char q[512];
    sms_log(level == 0 ? SMS_LOG_ERROR : level == 1 ? SMS_LOG_WARN : SMS_LOG_INFO, "carrier",
            "carrier=%s %s", l->name, sms_log_quote(line, q, sizeof(q)));
}

/* ---- pushes of final states to the callback URLs ---- */

typedef struct push {
    dispatch *d;
    int64_t msg;
    int attempts;
    int answered;
    struct evhttp_connection *conn;
} push;

/* Frees the pushes answered since the last call (a connection cannot be
 * freed from inside its own callback); all of them when all is set. */
static void pushes_reap(dispatch *d, int all)
{
    for (int i = 0; i < d->n_pushing;) {
        push *p = d->pushing[i];
        if (p->answered || all) {
            evhttp_connection_free(p->conn);
            free(p);
            d->pushing[i] = d->pushing[--d->n_pushing];
        } else {
            i++;
        }
    }
}

static int pushing_has(dispatch *d, int64_t msg)
{
    for (int i = 0; i < d->n_pushing; i++)
        if (d->pushing[i]->msg == msg)
            return 1;
    return 0;
}

static void on_push_done(struct evhttp_request *req, void *arg)
{
    push *p = arg;
    dispatch *d = p->d;
    int code = req != NULL ? evhttp_request_get_response_code(req) : 0;
    int ok = code >= 200 && code < 300;
    djob *j = djob_new(d, ok ? J_PUSH_OK : J_PUSH_RETRY, p->msg);
    j->attempts = p->attempts + 1;
    queue_submit(d->q, &j->job);
    atomic_fetch_add(ok ? &d->pushes_ok : &d->pushes_failed, 1);
    if (!ok)
        sms_log(SMS_LOG_WARN, "push_failed", "msg=%lld attempt=%d http=%d", (long long)p->msg,
                p->attempts + 1, code);
    p->answered = 1;
}

static void start_push(dispatch *d, int64_t msg, int attempts, const char *url, const char *body)
{
    struct evhttp_uri *u = evhttp_uri_parse(url);
    const char *host = u ? evhttp_uri_get_host(u) : NULL;
    const char *scheme = u ? evhttp_uri_get_scheme(u) : NULL;
    int tls = scheme != NULL && strcmp(scheme, "https") == 0;
    if (host == NULL || scheme == NULL || (!tls && strcmp(scheme, "http") != 0)) {
        /* refused when the account was made; a URL edited in the database */
        djob *j = djob_new(d, J_PUSH_RETRY, msg);
        j->attempts = d->cb_retries;
        queue_submit(d->q, &j->job);
        sms_log(SMS_LOG_WARN, "push_unsupported",
                "msg=%lld reason=\"only http:// and https:// callbacks\"", (long long)msg);
        evhttp_uri_free(u);
        return;
    }
    int port = evhttp_uri_get_port(u);
    const char *path = evhttp_uri_get_path(u);
    const char *query = evhttp_uri_get_query(u);
    char target[2048];
    snprintf(target, sizeof(target), "%s%s%s", path && path[0] ? path : "/", query ? "?" : "",
             query ? query : "");
    push *p = xcalloc(1, sizeof(*p));
    p->d = d;
    p->msg = msg;
    p->attempts = attempts;
    ev_uint16_t eport = (ev_uint16_t)(port > 0 ? port : tls ? 443 : 80);
    if (tls) {
        /* the callback's certificate must name its host (or IP address) and
         * chain to the system's store or to [callback] ca_file */
        SSL *ssl = SSL_new(d->cb_tls);
        if (ssl == NULL)
            xalloc_die();
        tls_client_expect_host(ssl, host);
        struct bufferevent *bev = bufferevent_openssl_socket_new(
            d->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
            BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
        if (bev == NULL)
            xalloc_die();
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
        p->conn = evhttp_connection_base_bufferevent_new(d->base, NULL, bev, host, eport);
    } else {
        p->conn = evhttp_connection_base_new(d->base, NULL, host, eport);
    }
    if (p->conn == NULL)
        xalloc_die();
    struct timeval tv = {d->cb_timeout_ms / 1000, (d->cb_timeout_ms % 1000) * 1000};
    evhttp_connection_set_timeout_tv(p->conn, &tv);
    struct evhttp_request *req = evhttp_request_new(on_push_done, p);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json; charset=utf-8");
    evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
    d->pushing[d->n_pushing++] = p;
    evhttp_make_request(p->conn, req, EVHTTP_REQ_POST, target);
    evhttp_uri_free(u);
}

static void run_pushes(dispatch *d)
{
    sqlite3_stmt *st;
    pushes_reap(d, 0);
    if (d->n_pushing >= PUSH_BATCH)
        return;
    if (sqlite3_prepare_v2(d->db,
                           "SELECT p.msg, p.attempts, m.app, m.client_id, m.mobile, m.state, "
                           "m.stat, m.updated, m.parts, m.done_parts FROM pushes p JOIN msgs m ON "
                           "m.id = p.msg WHERE p.next_try <= ? ORDER BY p.next_try LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, db_now_ms());
    sqlite3_bind_int(st, 2, PUSH_BATCH);
    acct_snap *snap = acct_snap_get(d->accounts);
    while (sqlite3_step(st) == SQLITE_ROW && d->n_pushing < PUSH_BATCH) {
        int64_t msg = sqlite3_column_int64(st, 0);
        if (pushing_has(d, msg))
            continue;
        account *a = acct_find(snap, (const char *)sqlite3_column_text(st, 2));
        if (a == NULL || a->callback == NULL) {
            djob *j = djob_new(d, J_PUSH_OK, msg); /* nowhere to push any more */
            queue_submit(d->q, &j->job);
            continue;
        }
        char body[512], t[HRSS_TIME_LEN + 1], cid[80] = "";
        hrss_time_format(sqlite3_column_int64(st, 7) / 1000, t);
        if (sqlite3_column_type(st, 3) != SQLITE_NULL)
            snprintf(cid, sizeof(cid), ",\"clientMsgId\":\"%s\"",
                     (const char *)sqlite3_column_text(st, 3));
        snprintf(body, sizeof(body),
                 "{\"msgId\":\"%lld\"%s,\"mobile\":\"%s\",\"state\":\"%s\",\"stat\":\"%s\","
                 "\"parts\":%d,\"deliveredParts\":%d,\"time\":\"%s\"}",
                 (long long)msg, cid, (const char *)sqlite3_column_text(st, 4),
                 sms_state_name(sqlite3_column_int(st, 5)),
                 sqlite3_column_type(st, 6) == SQLITE_NULL
                     ? ""
                     : (const char *)sqlite3_column_text(st, 6),
                 sqlite3_column_int(st, 8), sqlite3_column_int(st, 9), t);
        start_push(d, msg, sqlite3_column_int(st, 1), a->callback, body);
    }
    acct_snap_put(snap);
    sqlite3_finalize(st);
}

static void on_house(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    dispatch *d = arg;
    queue_submit(d->q, &djob_new(d, J_HOUSEKEEP, 0)->job);
    run_pushes(d);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    on_pump(fd, what, arg);
}

void dispatch_wake(dispatch *d)
{
    if (d != NULL && d->wake_ev != NULL)
        event_active(d->wake_ev, EV_READ, 0);
}

/* ---- life cycle ---- */

int dispatch_new(struct event_base *base, const sms_config *cfg, queue *q, acct_holder *accounts,
                 dispatch **out, char err[SMS_CONFIG_ERR_MAX])
{
    dispatch *d = calloc(1, sizeof(*d));
    char derr[SMS_DB_ERR_MAX];
    if (d == NULL)
        xalloc_die();
    *out = NULL;
    d->base = base;
    d->q = q;
    d->accounts = accounts;
    d->retry_max = cfg->retry_max;
    d->retry_backoff_ms = cfg->retry_backoff_ms;
    d->report_park_ms = cfg->report_park_ms;
    d->report_wait_ms = cfg->report_wait_ms;
    d->cb_timeout_ms = cfg->callback_timeout_ms;
    d->cb_backoff_ms = cfg->callback_backoff_ms > 0 ? cfg->callback_backoff_ms : 1;
    d->cb_retries = cfg->callback_retries;
    char tls_err[512];
    d->cb_tls = tls_client_ctx_new(cfg->callback_ca_file, tls_err, sizeof(tls_err));
    if (d->cb_tls == NULL) {
        snprintf(err, SMS_CONFIG_ERR_MAX, "[callback] ca_file %.400s", tls_err);
        free(d);
        return -1;
    }
    d->map_cap = 1024;
    d->map = calloc(d->map_cap, sizeof(dmsg *));
    d->pushing = calloc(PUSH_BATCH, sizeof(push *));
    if (d->map == NULL || d->pushing == NULL)
        xalloc_die();
    for (int op = 0; op < SMS_OP_COUNT; op++)
        for (int l = 0; l < LANES; l++)
            TAILQ_INIT(&d->lanes[op][l]);
    TAILQ_INIT(&d->delayed);
    if (db_open(cfg->data_dir, &d->db, derr) != 0) {
        snprintf(err, SMS_CONFIG_ERR_MAX, "%s", derr);
        dispatch_free(d);
        return -1;
    }
    for (int i = 0; i < cfg->n_carriers; i++) {
        const sms_carrier_conf *k = &cfg->carriers[i];
        link *l = &d->links[d->n_links];
        carrier_config cc;
        sms_carrier_to_config(k, &cc);
        carrier_callbacks cb = {on_submit_result, on_report, on_mo, on_link, on_clog, l};
        snprintf(l->name, sizeof(l->name), "%s", k->name);
        l->operators = k->operators;
        l->fallback = k->fallback;
        l->d = d;
        l->c = carrier_client_new(base, &cc, &cb);
        if (l->c == NULL) {
            snprintf(err, SMS_CONFIG_ERR_MAX, "[carrier %s]: the link refuses this configuration",
                     k->name);
            dispatch_free(d);
            return -1;
        }
        d->n_links++;
    }
    d->wake_ev = event_new(base, -1, 0, on_wake, d);
    d->pump_ev = event_new(base, -1, EV_PERSIST, on_pump, d);
    d->house_ev = event_new(base, -1, EV_PERSIST, on_house, d);
    if (d->wake_ev == NULL || d->pump_ev == NULL || d->house_ev == NULL)
        xalloc_die();
    *out = d;
    return 0;
}

void dispatch_set_mo_handler(dispatch *d, const sms_mo_handler *h)
{
    d->mo = *h;
}

void dispatch_start(dispatch *d)
{
    struct timeval pump = {0, PUMP_MS * 1000}, house = {HOUSEKEEP_MS / 1000, 0};
    event_add(d->pump_ev, &pump);
    event_add(d->house_ev, &house);
    atomic_store(&d->rescan, 1);
    dispatch_wake(d);
}

void dispatch_metrics(dispatch *d, hrss_buf *b)
{
    char line[256];
    static const struct {
        const char *name;
        size_t off;
    } c[] = {
        {"hrss_sms_parts_submitted_total", offsetof(dispatch, submitted)},
        {"hrss_sms_parts_acknowledged_total", offsetof(dispatch, acked)},
        {"hrss_sms_parts_failed_total", offsetof(dispatch, refused)},
        {"hrss_sms_submit_retries_total", offsetof(dispatch, retries)},
        {"hrss_sms_reports_total", offsetof(dispatch, reports)},
        {"hrss_sms_reports_parked_total", offsetof(dispatch, parked)},
        {"hrss_sms_reports_unmatched_total", offsetof(dispatch, unmatched)},
        {"hrss_sms_mo_total", offsetof(dispatch, mo_count)},
        {"hrss_sms_pushes_ok_total", offsetof(dispatch, pushes_ok)},
        {"hrss_sms_pushes_failed_total", offsetof(dispatch, pushes_failed)},
        {"hrss_sms_messages_expired_total", offsetof(dispatch, expired)},
    };
    for (size_t i = 0; i < HRSS_ARRAY_LEN(c); i++) {
        snprintf(line, sizeof(line), "# TYPE %s counter\n%s %llu\n", c[i].name, c[i].name,
                 (unsigned long long)atomic_load((atomic_ullong *)((char *)d + c[i].off)));
        buf_append_str(b, line);
    }
    snprintf(line, sizeof(line), "# TYPE hrss_sms_messages_sending gauge\n"
                                 "hrss_sms_messages_sending %zu\n", d->held);
    buf_append_str(b, line);
    buf_append_str(b, "# TYPE hrss_sms_carrier_links_up gauge\n");
    for (int i = 0; i < d->n_links; i++) {
        snprintf(line, sizeof(line), "hrss_sms_carrier_links_up{carrier=\"%s\"} %d\n",
                 d->links[i].name, d->links[i].up);
        buf_append_str(b, line);
    }
}

void dispatch_free(dispatch *d)
{
    if (d == NULL)
        return;
    for (int i = 0; i < d->n_links; i++)
        carrier_client_free(d->links[i].c);
    if (d->wake_ev)
        event_free(d->wake_ev);
    if (d->pump_ev)
        event_free(d->pump_ev);
    if (d->house_ev)
        event_free(d->house_ev);
    for (size_t i = 0; i < d->map_cap; i++)
        for (dmsg *m = d->map[i], *n; m != NULL; m = n) {
            n = m->hnext;
            msg_free(m);
        }
    free(d->map);
    pushes_reap(d, 1);
    free(d->pushing);
    SSL_CTX_free(d->cb_tls);
    sqlite3_finalize(d->st_load);
    sqlite3_finalize(d->st_segs);
    sqlite3_close(d->db);
    free(d);
}
