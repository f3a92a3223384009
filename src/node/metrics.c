/*
 * node/metrics.c - the counters of metrics.h and their Prometheus text.
 *
 * A shard per worker: an open-addressing table of (service, caller,
 * outcome) counters, a latency histogram and upstream error counts, under
 * a mutex that the worker takes for a few nanoseconds per transaction and
 * the scrape takes to copy. The scrape merges the shards (sort, then sum
 * equal keys), so the output is stable and sorted.
 */
#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/xalloc.h"
#include "net/upstream.h"

#define TAB_CAP 1024 /* per shard; a power of two */
#define TAB_MAX 768  /* entries before "overflow" */
#define KINDS_MAX 16

/* upper bounds in microseconds; the last bucket is +Inf */
static const long bounds_us[] = {1000,   2500,   5000,    10000,   25000,   50000,   100000,
                                 250000, 500000, 1000000, 2500000, 5000000, 10000000};
#define N_BOUNDS ((int)HRSS_ARRAY_LEN(bounds_us))

/* upper bounds of a batch (calls in one write to a provider); then +Inf */
static const int bounds_batch[] = {1, 2, 4, 8, 16, 32};
#define N_BATCH ((int)HRSS_ARRAY_LEN(bounds_batch))

typedef struct key {
    char service[16];
    char caller[12];
    char outcome[24];
} key;

typedef struct entry {
    key k;
    uint64_t count; /* 0 = empty slot */
} entry;

typedef struct kind_count {
    char kind[16];
    uint64_t count;
} kind_count;

typedef struct shard {
    pthread_mutex_t mu;
    entry tab[TAB_CAP];
    int n;
    uint64_t buckets[N_BOUNDS + 1];
    uint64_t sum_us;
    uint64_t total;
    kind_count kinds[KINDS_MAX];
    int n_kinds;
    uint64_t batch_buckets[N_BATCH + 1];
    uint64_t batch_sum, batch_count;
} shard;

struct metrics {
    int workers;
    shard *shards;
};

metrics *metrics_new(int workers)
{
    metrics *m = calloc(1, sizeof(*m));
    if (m == NULL || (m->shards = calloc((size_t)workers, sizeof(shard))) == NULL)
        xalloc_die();
    m->workers = workers;
    for (int i = 0; i < workers; i++)
        pthread_mutex_init(&m->shards[i].mu, NULL);
    return m;
}

void metrics_free(metrics *m)
{
    if (m == NULL)
        return;
    for (int i = 0; i < m->workers; i++)
        pthread_mutex_destroy(&m->shards[i].mu);
    free(m->shards);
    free(m);
}

/* Like snprintf(dst, size, "%s", src) into a zeroed dst, without the
 * format machinery (this runs for every transaction). */
static void key_copy(char *dst, size_t size, const char *src)
{
    memcpy(dst, src, strnlen(src, size - 1));
}

static void key_set(key *k, const char *service, const char *caller, const char *outcome)
{
    memset(k, 0, sizeof(*k)); /* the whole key is hashed and compared */
    key_copy(k->service, sizeof(k->service), service);
    key_copy(k->caller, sizeof(k->caller), caller);
    key_copy(k->outcome, sizeof(k->outcome), outcome);
}

static uint32_t key_hash(const key *k)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    const unsigned char *p = (const unsigned char *)k;
    for (size_t i = 0; i < sizeof(*k); i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* The slot of k, inserted when absent and there is room; NULL when full. */
static entry *slot_locked(shard *s, const key *k)
{
    for (uint32_t i = key_hash(k) & (TAB_CAP - 1), probes = 0; probes < TAB_CAP;
         i = (i + 1) & (TAB_CAP - 1), probes++) {
        entry *e = &s->tab[i];
        if (e->count == 0) {
            if (s->n >= TAB_MAX)
                return NULL;
            e->k = *k;
            s->n++;
            return e;
        }
        if (memcmp(&e->k, k, sizeof(*k)) == 0)
            return e;
    }
    return NULL;
}

void metrics_txn(metrics *m, int worker, const char *service, const char *caller,
                 const char *outcome, long us, int batch)
{
    shard *s = &m->shards[worker];
    key k;
    int b = 0, bb = 0;
    key_set(&k, service, caller, outcome);
    while (b < N_BOUNDS && us > bounds_us[b])
        b++;
    while (bb < N_BATCH && batch > bounds_batch[bb])
        bb++;
    pthread_mutex_lock(&s->mu);
    entry *e = slot_locked(s, &k);
    if (e == NULL) {
        key_set(&k, "-", "-", "overflow");
        e = slot_locked(s, &k);
    }
    if (e != NULL) /* the overflow key fits: TAB_MAX < TAB_CAP */
        e->count++;
    s->buckets[b]++;
    s->sum_us += (uint64_t)(us > 0 ? us : 0);
    s->total++;
    if (batch > 0) {
        s->batch_buckets[bb]++;
        s->batch_sum += (uint64_t)batch;
        s->batch_count++;
    }
    pthread_mutex_unlock(&s->mu);
}

void metrics_upstream_error(metrics *m, int worker, const char *kind)
{
    shard *s = &m->shards[worker];
    pthread_mutex_lock(&s->mu);
    int i;
    for (i = 0; i < s->n_kinds; i++)
        if (strcmp(s->kinds[i].kind, kind) == 0)
            break;
    if (i == s->n_kinds && s->n_kinds < KINDS_MAX) {
        snprintf(s->kinds[i].kind, sizeof(s->kinds[i].kind), "%s", kind);
        s->n_kinds++;
    }
    if (i < KINDS_MAX)
        s->kinds[i].count++;
    pthread_mutex_unlock(&s->mu);
}

static int entry_cmp(const void *a, const void *b)
{
    return memcmp(&((const entry *)a)->k, &((const entry *)b)->k, sizeof(key));
}

static void put(hrss_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(hrss_buf *b, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (buf_append(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) != 0)
        xalloc_die();
}

/* A label value with \ " and newline escaped (format 0.0.4). */
static const char *label(const char *s, char *out, size_t outlen)
{
    size_t j = 0;
    for (; *s != '\0' && j + 3 < outlen; s++) {
        if (*s == '\\' || *s == '"') {
            out[j++] = '\\';
            out[j++] = *s;
        } else if (*s == '\n') {
            out[j++] = '\\';
            out[j++] = 'n';
        } else {
            out[j++] = *s;
        }
    }
    out[j] = '\0';
    return out;
}

static void put_breaker(const char *url, const char *state, void *arg)
{
    char l[600];
    int v = strcmp(state, "open") == 0 ? 1 : strcmp(state, "half-open") == 0 ? 2 : 0;
    put(arg, "hrss_node_breaker_state{upstream=\"%s\"} %d\n", label(url, l, sizeof(l)), v);
}

char *metrics_render(metrics *m, size_t *len)
{
    size_t cap = (size_t)m->workers * TAB_MAX, n = 0;
    entry *all = malloc((cap ? cap : 1) * sizeof(entry));
    uint64_t buckets[N_BOUNDS + 1] = {0}, sum_us = 0, total = 0;
    uint64_t batch_buckets[N_BATCH + 1] = {0}, batch_sum = 0, batch_count = 0;
    kind_count kinds[KINDS_MAX * 4];
    int n_kinds = 0;
    hrss_buf b;

    if (all == NULL)
        xalloc_die();
    for (int w = 0; w < m->workers; w++) {
        shard *s = &m->shards[w];
        pthread_mutex_lock(&s->mu);
        for (int i = 0; i < TAB_CAP; i++)
            if (s->tab[i].count != 0 && n < cap)
                all[n++] = s->tab[i];
        for (int i = 0; i <= N_BOUNDS; i++)
            buckets[i] += s->buckets[i];
        sum_us += s->sum_us;
        total += s->total;
        for (int i = 0; i <= N_BATCH; i++)
            batch_buckets[i] += s->batch_buckets[i];
        batch_sum += s->batch_sum;
        batch_count += s->batch_count;
        for (int i = 0; i < s->n_kinds; i++) {
            int j;
            for (j = 0; j < n_kinds; j++)
                if (strcmp(kinds[j].kind, s->kinds[i].kind) == 0)
                    break;
            if (j == n_kinds && n_kinds < (int)HRSS_ARRAY_LEN(kinds)) {
                kinds[j] = s->kinds[i];
                kinds[j].count = 0;
                n_kinds++;
            }
            if (j < n_kinds)
                kinds[j].count += s->kinds[i].count;
        }
        pthread_mutex_unlock(&s->mu);
    }
    qsort(all, n, sizeof(entry), entry_cmp);

    buf_init(&b, 64u * 1024 * 1024);
    put(&b, "# HELP hrss_node_transactions_total Transactions answered, by service, caller and "
            "outcome (relayed, the node's commStatus, or the HTTP error code).\n"
            "# TYPE hrss_node_transactions_total counter\n");
    for (size_t i = 0; i < n;) {
        uint64_t c = all[i].count;
        size_t j = i + 1;
        while (j < n && entry_cmp(&all[i], &all[j]) == 0)
            c += all[j++].count;
        char l1[64], l2[64], l3[64];
        put(&b, "hrss_node_transactions_total{service=\"%s\",caller=\"%s\",outcome=\"%s\"} %llu\n",
            label(all[i].k.service, l1, sizeof(l1)), label(all[i].k.caller, l2, sizeof(l2)),
            label(all[i].k.outcome, l3, sizeof(l3)), (unsigned long long)c);
        i = j;
    }
    put(&b, "# HELP hrss_node_transaction_duration_seconds Time from parse to answer.\n"
            "# TYPE hrss_node_transaction_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < N_BOUNDS; i++) {
        cum += buckets[i];
        put(&b, "hrss_node_transaction_duration_seconds_bucket{le=\"%g\"} %llu\n",
            (double)bounds_us[i] / 1e6, (unsigned long long)cum);
    }
    put(&b,
        "hrss_node_transaction_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
        "hrss_node_transaction_duration_seconds_sum %.6f\n"
        "hrss_node_transaction_duration_seconds_count %llu\n",
        (unsigned long long)total, (double)sum_us / 1e6, (unsigned long long)total);
    put(&b, "# HELP hrss_node_upstream_batch_calls Provider answers, by the number of calls "
            "that went out in the same write (1: alone; see the service's pipeline).\n"
            "# TYPE hrss_node_upstream_batch_calls histogram\n");
    cum = 0;
    for (int i = 0; i < N_BATCH; i++) {
        cum += batch_buckets[i];
        put(&b, "hrss_node_upstream_batch_calls_bucket{le=\"%d\"} %llu\n", bounds_batch[i],
            (unsigned long long)cum);
    }
    put(&b,
        "hrss_node_upstream_batch_calls_bucket{le=\"+Inf\"} %llu\n"
        "hrss_node_upstream_batch_calls_sum %llu\n"
        "hrss_node_upstream_batch_calls_count %llu\n",
        (unsigned long long)batch_count, (unsigned long long)batch_sum,
        (unsigned long long)batch_count);
    put(&b, "# HELP hrss_node_upstream_errors_total Failed upstream calls, by kind.\n"
            "# TYPE hrss_node_upstream_errors_total counter\n");
    for (int i = 0; i < n_kinds; i++)
        put(&b, "hrss_node_upstream_errors_total{kind=\"%s\"} %llu\n", kinds[i].kind,
            (unsigned long long)kinds[i].count);
    put(&b, "# HELP hrss_node_breaker_state Circuit breaker per upstream URL: 0 closed, 1 open, "
            "2 half-open.\n"
            "# TYPE hrss_node_breaker_state gauge\n");
    upstream_breakers_foreach(put_breaker, &b);
    free(all);
    return buf_detach(&b, len);
}
