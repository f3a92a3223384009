/*
 * sms/uplink.h - what a citizen's phone gets from hrss-sms (LD/T 6007 6.2,
 * 6.3, 7): uplink messages stored by the dispatcher are answered by worker
 * threads, first as survey answers (survey.h), else as commands (engine.h),
 * with back-end services reached through a collaboration-platform node
 * (backend.h); and the HTTP interfaces business systems use around them:
 * service passwords, work-order results, surveys.
 *
 * Nothing is lost on a crash: an uplink message is on disk (table mo) before
 * it is handled; the replies it gets and its "handled" mark are committed in
 * one transaction of the queue's writer. A crash in between makes it be
 * handled once more after the restart (a binding made twice is answered
 * "already bound"). Messages of one phone are handled in their order.
 *
 * Bindings, service passwords, surveys and work orders live in uplink.db in
 * the data directory, apart from sms.db so that the send path never waits
 * for them.
 *
 * Threads: uplink_new/start/stop/free on the main thread; uplink_on_mo on the
 * queue's writer (it only signals); the business interfaces (uplink_routes)
 * on any HTTP worker (they may wait for one group commit); the workers are
 * the module's own.
 */
#ifndef HRSS_SMS_UPLINK_H
#define HRSS_SMS_UPLINK_H

#include <stddef.h>
#include <stdint.h>

#include "account.h"
#include "config.h"
#include "queue.h"

struct hrss_buf;

typedef struct uplink_options {
    const sms_config *cfg;     /* read during uplink_new only */
    queue *q;
    acct_holder *accounts;
    void (*on_queued)(void *arg); /* messages were queued (any thread) */
    void *on_queued_arg;
} uplink_options;

typedef struct uplink uplink;

/* Loads the command table and replies, opens uplink.db, makes the platform
 * client. *out is NULL (and 0 returned) when [uplink] has no commands: the
 * engine is off. -1 with err on a bad file or setting. */
int uplink_new(const uplink_options *o, uplink **out, char err[SMS_CONFIG_ERR_MAX]);

/* Starts the workers; they first handle what a previous run left. */
int uplink_start(uplink *u, char err[SMS_CONFIG_ERR_MAX]);

/* SIGHUP: reads the command table and replies named by c again and swaps
 * them in when they are valid (each worker takes them up before its next
 * message); else -1 with err and the tables in use stay. Main thread. */
int uplink_reload(uplink *u, const sms_config *c, char err[SMS_CONFIG_ERR_MAX]);

/* The dispatcher's sms_mo_handler: a message was stored. Never blocks. */
void uplink_on_mo(void *arg, int64_t id, const char *src, const char *dest, const char *text);

/* Registers the business interfaces, each POST with a JSON object,
 * answered on the worker that received it (it may wait for sms.db):
 * /uplink/persons, /uplink/workorders/complete, /surveys, /surveys/remind,
 * /surveys/results. Main thread, before the workers start. */
struct route_table;
void uplink_routes(uplink *u, struct route_table *t);

/* Prometheus lines. */
void uplink_metrics(uplink *u, struct hrss_buf *b);

/* Stops the workers; each finishes the message in hand and hands its
 * replies to the queue. NULL: no-op. */
void uplink_stop(uplink *u);

/* Closes (after the queue is freed: the writer may still signal). NULL: no-op. */
void uplink_free(uplink *u);

#endif
