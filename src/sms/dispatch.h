/*
 * sms/dispatch.h - the dispatcher of hrss-sms: it takes queued messages
 * from sms.db by lane (verification and replies, business, bulk) and
 * schedule, splits them into parts and hands the parts to the carrier
 * links (carrier/carrier.h) chosen by number segment; it records the
 * carriers' message ids, matches delivery reports to parts (parking those
 * that arrive before their acknowledgement was recorded), aggregates them
 * per message, pushes final states to the business systems' callback URLs
 * with retries, and stores uplink (MO) messages for an sms_mo_handler.
 *
 * Every change of state goes through the queue's writer (queue.h), in
 * order, so that a report is always applied after the acknowledgement it
 * follows. A part is written to disk when its carrier acknowledged it;
 * a crash between the acknowledgement and that write makes it be submitted
 * once more after the restart (the only window for a duplicate).
 *
 * Threads: everything here runs on the main thread's event loop, except
 * dispatch_wake (any thread) and the mo handler (the writer thread).
 */
#ifndef HRSS_SMS_DISPATCH_H
#define HRSS_SMS_DISPATCH_H

#include <stdint.h>

#include "account.h"
#include "config.h"
#include "queue.h"

struct event_base;
struct hrss_buf;

/* Uplink messages, once stored (mo.id = id): called on the queue's writer
 * thread after the commit; must not block. The command engine fills it. */
typedef struct sms_mo_handler {
    void (*on_mo)(void *arg, int64_t id, const char *src, const char *dest, const char *text);
    void *arg;
} sms_mo_handler;

typedef struct dispatch dispatch;

/* Creates the dispatcher and the carrier clients of cfg on base. Returns 0,
 * or -1 with err (a carrier section the links refuse). */
int dispatch_new(struct event_base *base, const sms_config *cfg, queue *q, acct_holder *accounts,
                 dispatch **out, char err[SMS_CONFIG_ERR_MAX]);
void dispatch_set_mo_handler(dispatch *d, const sms_mo_handler *h);
/* Starts the timers: loading, housekeeping, pushes. */
void dispatch_start(dispatch *d);
/* New messages were queued (any thread). */
void dispatch_wake(dispatch *d);
/* Prometheus lines. */
void dispatch_metrics(dispatch *d, struct hrss_buf *b);
/* Closes the links (parts in flight are sent again after a restart). NULL: no-op. */
void dispatch_free(dispatch *d);

#endif
