/*
 * node/metrics.h - counters of hrss-node for GET /metrics (Prometheus text
 * format 0.0.4): transactions by service, caller and outcome, a latency
 * histogram, upstream errors by kind, and the state of every circuit
 * breaker.
 *
 * Each worker counts into its own shard (a mutex that only the scrape ever
 * contends), so the hot path shares no cache line with other workers. The
 * (service, caller, outcome) table of a shard is bounded; combinations
 * beyond it are counted under outcome "overflow" with service and caller
 * "-".
 *
 * Threads: metrics_new/metrics_free on the main thread; metrics_txn and
 * metrics_upstream_error on worker `worker`; metrics_render on any thread.
 */
#ifndef HRSS_NODE_METRICS_H
#define HRSS_NODE_METRICS_H

#include <stddef.h>

typedef struct metrics metrics;

/* Aborts when out of memory. */
metrics *metrics_new(int workers);
void metrics_free(metrics *m); /* NULL is a no-op */

/* One answered transaction: service and caller codes ("-" when unknown),
 * outcome ("relayed", a commStatus such as "30", or an HTTP error code such
 * as "bad_envelope"), latency in microseconds, and batch: for an answer of
 * the provider, the calls that went out in the same write as this one (1:
 * alone; see the service's pipeline), else 0. */
void metrics_txn(metrics *m, int worker, const char *service, const char *caller,
                 const char *outcome, long us, int batch);

/* One failed upstream call; kind is a short word ("timeout"...). */
void metrics_upstream_error(metrics *m, int worker, const char *kind);

/* The exposition text (malloc'd, free with free()); *len its length. */
char *metrics_render(metrics *m, size_t *len);

#endif
