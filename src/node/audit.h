/*
 * node/audit.h - the audit trail of hrss-node (LD/T 6008 6.2.1.2.1: the
 * header serves authentication, routing and statistics): one record per
 * answered transaction, never the body, written to data_dir/audit.db
 * (SQLite, WAL) in batches by a thread of its own, off the hot path, and
 * deleted after the retention period.
 *
 * Threads: audit_open, audit_close on the main thread; audit_submit and
 * audit_set_retention on any thread (submit never blocks on the disk: when
 * the queue is full the record is dropped and counted); audit_query is for
 * the command line (its own connection).
 */
#ifndef HRSS_NODE_AUDIT_H
#define HRSS_NODE_AUDIT_H

#include <stdint.h>
#include <stdio.h>

#include "hrss/codes.h"

#define AUDIT_ERR_MAX 512

typedef struct audit_record {
    int64_t ts_ms; /* wall clock when answered, epoch milliseconds */
    char service[HRSS_INTERFACE_CODE_LEN + 1];
    char caller[HRSS_SYSTEM_CODE_LEN + 1];
    char area[HRSS_AREA_CODE_LEN + 1];
    char req_id[HRSS_ID_LEN + 1];
    char res_id[HRSS_ID_LEN + 1]; /* the node's, when it answered itself */
    char req_time[HRSS_TIME_LEN + 1];
    char outcome[24]; /* relayed, a commStatus, or an HTTP error code */
    int http_status;
    long latency_us;
    long long in_bytes, out_bytes;
    char peer[64];
} audit_record;

typedef struct audit audit;

/* Opens (creates) data_dir/audit.db and starts the writer. 0 or -1 + err. */
int audit_open(const char *data_dir, int64_t retention_sec, audit **out, char err[AUDIT_ERR_MAX]);

void audit_set_retention(audit *a, int64_t retention_sec);

/* Queues a copy of r; drops it when the queue is full. NULL a is a no-op. */
void audit_submit(audit *a, const audit_record *r);

/* Records dropped so far because the queue was full. */
uint64_t audit_dropped(audit *a);

/* Writes what is queued, stops the writer, closes. NULL is a no-op. */
void audit_close(audit *a);

/* Prints the records since `since` (epoch seconds), optionally of one
 * service and/or caller, oldest first, one JSON object per line, to out.
 * 0, or -1 with err. */
int audit_query(const char *data_dir, int64_t since, const char *service, const char *caller,
                FILE *out, char err[AUDIT_ERR_MAX]);

#endif
