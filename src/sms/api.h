/*
 * sms/api.h - the business-system interface of hrss-sms (LD/T 6007 5.1
 * "interface access", appendix A): POST /sms/send and POST /sms/status.
 * A send request is checked in the order of table A.1 (parameters,
 * appName, IP, password, content, numbers), then handed to the durable
 * queue; its answer goes out once the queue's transaction is on disk.
 *
 * Threads: api_new / api_free on the main thread; the handlers on the
 * HTTP workers (each answers on its own worker); the queue's done callback
 * on the writer thread hands answers back to the worker.
 */
#ifndef HRSS_SMS_API_H
#define HRSS_SMS_API_H

#include <stdint.h>


#include "account.h"
#include "config.h"
#include "net/hserver.h"
#include "queue.h"

typedef struct api api;

typedef struct api_options {
    const sms_config *cfg;  /* data_dir, max_parts, validity, schedule_max, segments;
                               read at api_new (copied) */
    acct_holder *accounts;
    queue *q;
    int workers;
    int operators_served;   /* bit set of operators with a carrier link; 0 = all
                               (no carrier configured: messages wait in the queue) */
    void (*on_queued)(void *arg); /* after a commit that queued messages (writer thread) */
    void *on_queued_arg;
} api_options;

api *api_new(const api_options *o);
void api_free(api *a);

/* Re-reads the reloadable settings (max_parts, validity, schedule_max). */
void api_configure(api *a, const sms_config *cfg);

void api_send(api *a, hserver_req *req, int worker);
void api_status(api *a, hserver_req *req, int worker);

/* Registers POST /sms/send and POST /sms/status (they answer later, from
 * the worker's loop, and log their own lines). Main thread, before the
 * workers start. */
struct route_table;
void api_routes(api *a, struct route_table *t);

/* Appends the API's Prometheus lines to buf (caller's hrss_buf). */
struct hrss_buf;
void api_metrics(api *a, struct hrss_buf *buf);

#endif
