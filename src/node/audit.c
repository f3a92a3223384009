/*
 * node/audit.c - the audit trail of audit.h.
 *
 * Workers append to a bounded ring under a mutex (a copy of a few hundred
 * bytes); one writer thread wakes every 200 ms, or when 512 records wait,
 * takes the whole ring and inserts it in one SQLite transaction, so the
 * disk never sits on the request path and a batch costs one fsync at most.
 * Once a minute the writer deletes what is older than the retention.
 * The audit database is its own file so that its writes never lock the
 * registry.
 */
#include "audit.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "log.h"
#include "common/xalloc.h"

#define RING_CAP 16384
#define BATCH_WAKE 512
#define FLUSH_MS 200
#define PURGE_EVERY_MS 60000

static const char schema[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS audit (ts_ms INTEGER NOT NULL, service TEXT, caller TEXT,"
    " area TEXT, req_id TEXT, res_id TEXT, req_time TEXT, outcome TEXT NOT NULL,"
    " http_status INTEGER, latency_us INTEGER, in_bytes INTEGER, out_bytes INTEGER, peer TEXT);"
    "CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts_ms);";

struct audit {
    sqlite3 *db;
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    audit_record *ring;
    size_t head, count; /* under mu */
    int stop;           /* under mu */
    atomic_llong retention_sec;
    atomic_ullong dropped;
};

static int64_t wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int open_db(const char *data_dir, sqlite3 **db, char err[AUDIT_ERR_MAX])
{
    char path[4096];
    char *msg = NULL;
    int n = snprintf(path, sizeof(path), "%s/audit.db", data_dir);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        snprintf(err, AUDIT_ERR_MAX, "data_dir too long");
        return -1;
    }
    /* one thread at a time uses a connection (the writer, or a query):
     * SQLite's own per-call locking would only cost */
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(*db, 5000) != SQLITE_OK ||
        sqlite3_exec(*db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, AUDIT_ERR_MAX, "%.300s: %s", path, msg ? msg : sqlite3_errmsg(*db));
        sqlite3_free(msg);
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    return 0;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s[0] == '\0')
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* Inserts batch[0..n) in one transaction; a failure drops the batch (and
 * says so once per batch): the audit must never stop the node. */
static void write_batch(audit *a, const audit_record *batch, size_t n)
{
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_exec(a->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK &&
             sqlite3_prepare_v2(a->db, "INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", -1,
                                &st, NULL) == SQLITE_OK;
    for (size_t i = 0; ok && i < n; i++) {
        const audit_record *r = &batch[i];
        sqlite3_bind_int64(st, 1, r->ts_ms);
        bind_opt(st, 2, r->service);
        bind_opt(st, 3, r->caller);
        bind_opt(st, 4, r->area);
        bind_opt(st, 5, r->req_id);
        bind_opt(st, 6, r->res_id);
        bind_opt(st, 7, r->req_time);
        sqlite3_bind_text(st, 8, r->outcome, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 9, r->http_status);
        sqlite3_bind_int64(st, 10, r->latency_us);
        sqlite3_bind_int64(st, 11, r->in_bytes);
        sqlite3_bind_int64(st, 12, r->out_bytes);
        bind_opt(st, 13, r->peer);
        ok = sqlite3_step(st) == SQLITE_DONE;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (!ok || sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        char q[256];
        log_event(NODE_LOG_ERROR, "audit_write_failed", "records=%zu error=%s", n,
                  log_quote(sqlite3_errmsg(a->db), q, sizeof(q)));
        sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
        atomic_fetch_add(&a->dropped, n);
    }
}

static void purge(audit *a)
{
    sqlite3_stmt *st = NULL;
    int64_t cutoff = wall_ms() - (int64_t)atomic_load(&a->retention_sec) * 1000;
    if (sqlite3_prepare_v2(a->db, "DELETE FROM audit WHERE ts_ms < ?", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_int64(st, 1, cutoff);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
}

static void *writer_main(void *arg)
{
    audit *a = arg;
    audit_record *batch = malloc(RING_CAP * sizeof(audit_record));
    int64_t last_purge = 0;
    if (batch == NULL)
        xalloc_die();
    for (;;) {
        size_t n = 0;
        int stop;
        pthread_mutex_lock(&a->mu);
        if (!a->stop && a->count < BATCH_WAKE) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += FLUSH_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&a->cv, &a->mu, &until);
        }
        for (; a->count > 0; a->count--) {
            batch[n++] = a->ring[a->head];
            a->head = (a->head + 1) % RING_CAP;
        }
        stop = a->stop;
        pthread_mutex_unlock(&a->mu);
        if (n > 0)
            write_batch(a, batch, n);
        if (wall_ms() - last_purge >= PURGE_EVERY_MS) {
            purge(a);
            last_purge = wall_ms();
        }
        if (stop)
            break;
    }
    free(batch);
    return NULL;
}

int audit_open(const char *data_dir, int64_t retention_sec, audit **out, char err[AUDIT_ERR_MAX])
{
    audit *a = calloc(1, sizeof(*a));
    if (a == NULL || (a->ring = malloc(RING_CAP * sizeof(audit_record))) == NULL)
        xalloc_die();
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    atomic_init(&a->retention_sec, retention_sec);
    atomic_init(&a->dropped, 0);
    *out = NULL;
    if (open_db(data_dir, &a->db, err) != 0) {
        audit_close(a);
        return -1;
    }
    int e = pthread_create(&a->thread, NULL, writer_main, a);
    if (e != 0) {
        snprintf(err, AUDIT_ERR_MAX, "cannot start the audit writer: %s", strerror(e));
        audit_close(a);
        return -1;
    }
    a->started = 1;
    *out = a;
    return 0;
}

void audit_set_retention(audit *a, int64_t retention_sec)
{
    if (a != NULL)
        atomic_store(&a->retention_sec, retention_sec);
}

void audit_submit(audit *a, const audit_record *r)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->mu);
    if (a->count == RING_CAP) {
        pthread_mutex_unlock(&a->mu);
        atomic_fetch_add(&a->dropped, 1);
        return;
    }
    a->ring[(a->head + a->count) % RING_CAP] = *r;
    if (a->ring[(a->head + a->count) % RING_CAP].ts_ms == 0)
        a->ring[(a->head + a->count) % RING_CAP].ts_ms = wall_ms();
    if (++a->count == BATCH_WAKE)
        pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

uint64_t audit_dropped(audit *a)
{
    return a ? atomic_load(&a->dropped) : 0;
}

void audit_close(audit *a)
{
    if (a == NULL)
        return;
    if (a->started) {
        pthread_mutex_lock(&a->mu);
        a->stop = 1;
        pthread_cond_signal(&a->cv);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->thread, NULL);
    }
    sqlite3_close(a->db);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    free(a->ring);
    free(a);
}

int audit_query(const char *data_dir, int64_t since, const char *service, const char *caller,
                FILE *out, char err[AUDIT_ERR_MAX])
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1, step;
    static const char *const cols[] = {"ts_ms",    "service",   "caller",  "area",   "req_id",
                                       "res_id",   "req_time",  "outcome", "status", "us",
                                       "in_bytes", "out_bytes", "peer"};

    if (open_db(data_dir, &db, err) != 0)
        goto done;
    if (sqlite3_prepare_v2(db,
                           "SELECT * FROM audit WHERE ts_ms >= ?1 AND (?2 IS NULL OR service = "
                           "?2) AND (?3 IS NULL OR caller = ?3) ORDER BY ts_ms, rowid",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, AUDIT_ERR_MAX, "%s", sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_bind_int64(st, 1, since * 1000);
    if (service != NULL)
        sqlite3_bind_text(st, 2, service, -1, SQLITE_STATIC);
    if (caller != NULL)
        sqlite3_bind_text(st, 3, caller, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        if (o == NULL)
            xalloc_die();
        for (int i = 0; i < (int)(sizeof(cols) / sizeof(cols[0])); i++) {
            int t = sqlite3_column_type(st, i);
            json_t *v = t == SQLITE_NULL ? json_null()
                        : t == SQLITE_INTEGER
                            ? json_integer(sqlite3_column_int64(st, i))
                            : json_string((const char *)sqlite3_column_text(st, i));
            json_object_set_new(o, cols[i], v ? v : json_null());
        }
        char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (line == NULL)
            xalloc_die();
        fprintf(out, "%s\n", line);
        free(line);
        json_decref(o);
    }
    if (step != SQLITE_DONE) {
        snprintf(err, AUDIT_ERR_MAX, "%s", sqlite3_errmsg(db));
        goto done;
    }
    rc = 0;
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}
