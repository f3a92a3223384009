/*
 * sms/queue.h - the durable queue's writer: one thread owns the write
 * connection to sms.db and commits the work of many callers in one
 * transaction (group commit, synchronous=FULL). A caller hands a job over
 * with queue_submit and is told, from the writer thread, through the job's
 * done function once the transaction holding it is on disk (or failed).
 *
 * Jobs: a send request (charge the balance, refuse blacklisted numbers,
 * insert one message per destination, remember the answer under the
 * clientMsgId), and the dispatcher's records (submit results, reports,
 * state changes, uplink messages) which need no answer.
 *
 * Threads: queue_new / queue_free on the owning thread; queue_submit from
 * any thread; apply and done run on the writer thread.
 */
#ifndef HRSS_SMS_QUEUE_H
#define HRSS_SMS_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "content.h"

#define QUEUE_ERR_MAX 256

typedef struct queue queue;
typedef struct qjob qjob;

struct qjob {
    /* runs inside the batch's transaction; returns 0, or -1 when the
     * database failed (the whole batch is rolled back) */
    int (*apply)(queue *q, sqlite3 *db, qjob *j);
    /* runs after COMMIT (committed = 1) or ROLLBACK (0); owns j from then */
    void (*done)(qjob *j, int committed);
    qjob *next;
};

/* One destination of a send request. */
typedef struct send_dest {
    char given[24];   /* as the client wrote it (at most 20 bytes) */
    char mobile[SMS_MOBILE_LEN + 1];
    int op;     /* sms_operator */
    int code;   /* SMS_CODE_OK when it should be queued; set by apply */
    int64_t id; /* msgs.id when queued */
} send_dest;

/* Routes d, whose mobile is normalised: its carrier by the number's
 * segment, and its code: SMS_CODE_OPERATOR when no carrier serves the
 * segment or the platform has no link to that carrier (served: a bit per
 * sms_operator, 0 for every one), else SMS_CODE_OK. */
void send_dest_route(send_dest *d, const sms_segments *segs, int served);

/* A send request, ready for the queue (api.c fills it). */
typedef struct send_job {
    qjob job;
    char app[65];
    char *client_id;  /* may be NULL */
    char *content;    /* signed content */
    int parts;
    int lane;
    int64_t not_before_ms, expires_ms, created_ms;
    int skip_blacklist; /* a reply to the number's own uplink message: sent even
                         * when it unsubscribed from notices (TD) */
    send_dest *dest;
    int n_dest;
    /* results */
    int code;         /* SMS_CODE_OK, _BALANCE, _BLACKLIST, _SYSTEM */
    char *response;   /* the JSON answer (stored under the clientMsgId) */
    size_t response_len;
    int duplicate;    /* the answer is the one stored for the clientMsgId */
    /* answer delivery (api.c) */
    void *req;
    int worker;
    void *owner;
} send_job;

/* The JSON answer to a send request: code, msg (table A.1), detail (may be
 * NULL), and per destination its code and msgId. malloc'd. */
char *queue_response(int code, const char *detail, const send_dest *d, int n, int parts,
                     size_t *len);

/* The apply function of send jobs (queue.c). */
int queue_apply_send(queue *q, sqlite3 *db, qjob *j);

/* Opens the write connection and starts the writer. batch_max bounds the
 * jobs of one transaction. Returns 0, or -1 with err. */
int queue_new(const char *data_dir, int batch_max, queue **out, char err[QUEUE_ERR_MAX]);

/* Hands j over (any thread); j->done will be called exactly once. After
 * queue_free began, done is called at once with committed = 0. */
void queue_submit(queue *q, qjob *j);

/* Calls fn(arg) on the writer thread after the done functions of each
 * committed batch. Set it before the first queue_submit. */
void queue_on_batch(queue *q, void (*fn)(void *arg), void *arg);

/* 1 while the last transaction succeeded (for /readyz). */
int queue_is_healthy(queue *q);

/* Counters for /metrics. */
void queue_stats(queue *q, uint64_t *batches, uint64_t *jobs, uint64_t *failures);

/* Commits what was submitted, stops the writer and closes. NULL: no-op. */
void queue_free(queue *q);

#endif
