/*
 * node/pipeline.h - the transaction path of hrss-node (docs/design.md,
 * decision 13): strict parse, caller, time window, signature, nonce,
 * service, grant, area, then the upstream call, and the answer: the
 * provider's response relayed unchanged or a response envelope made by
 * the node with commStatus 20/30/50/90 and a precise msg.
 *
 * Threads: pipeline_new and pipeline_free on the main thread (free only
 * once the workers have stopped); pipeline_handle on worker `worker`,
 * which answers the request now or later from the same worker's loop.
 */
#ifndef HRSS_NODE_PIPELINE_H
#define HRSS_NODE_PIPELINE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "net/hserver.h"

#include "audit.h"
#include "metrics.h"
#include "snapshot.h"

#define PIPELINE_ERR_MAX 512

typedef struct pipeline_options {
    const char *system_code; /* the node's own: its serviceResIds */
    const char *data_dir;    /* id state lives in data_dir/ids */
    int workers;
    snapshot_holder *snaps;
    snapshot_view *views;            /* one per worker, shared with the daemon */
    atomic_llong *replay_window_sec; /* read per request (reloadable) */
    int64_t replay_ttl_sec;          /* nonce memory, fixed at start */
    size_t replay_max_entries;
    atomic_int *log_access; /* event=transaction lines (reloadable) */
    metrics *metrics;       /* counters; may be NULL */
    audit *audit;           /* audit trail; may be NULL */
    const char *replay_store; /* NULL: in-process; else a redis:// URL */
} pipeline_options;

typedef struct pipeline pipeline;

/* Opens the id generator and the replay store (the in-process one with its
 * journal in data_dir/nonces, read back now). Returns 0, or -1 with err. */
int pipeline_new(const pipeline_options *o, pipeline **out, char err[PIPELINE_ERR_MAX]);

/* Runs the transaction path for req. url_code is the interface code of a
 * POST /{serviceCode} URL (it may point into req), NULL for
 * POST /api/v1/transaction. */
void pipeline_handle(pipeline *p, hserver_req *req, int worker, const char *url_code);

/* Once a second on the main thread: puts the nonces journalled since the
 * last call on the disk. */
void pipeline_tick(pipeline *p);

/* Frees the per-worker upstream pools, the id generator and the replay
 * store. Workers must have stopped; NULL is a no-op. */
void pipeline_free(pipeline *p);

#endif
