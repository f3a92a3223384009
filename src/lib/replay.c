/*
 * lib/replay.c - the replay store of docs/design.md decision 3 (replay.h):
 * the wrapper that turns (caller, nonce) into one key for a backend, and the
 * in-process backend.
 *
 * The in-process backend is a hash table split into shards, each with its
 * own mutex, so that threads checking different nonces rarely meet. Every
 * shard keeps its entries on a list in the order they were recorded as
 * well as in hash chains. With one ttl and one clock that is also the order
 * of expiry, so reclaiming is popping the list's head, done on every insert
 * into the shard (cost paid by the entries themselves, never a scan).
 * Threads whose clocks differ a little, or a clock stepped back, leave some
 * expired entries behind a live head: lookups check the expiry of what they
 * find, so such an entry is only dead weight until the next full sweep.
 *
 * One atomic counter bounds the entries of the whole store to max_entries.
 * Only when it is reached are all the shards swept, entry by entry; the
 * earliest expiry left is remembered so that a store full of unexpired
 * entries answers HRSS_EFULL at once, without sweeping again, until that
 * time (the caller refuses the request: fail closed). Memory is therefore
 * bounded by max_entries entries of at most REPLAY_KEY_MAX key bytes plus
 * the fixed bucket arrays, whatever the flood of distinct nonces.
 *
 * Chains are indexed by SipHash-2-4 under a random key drawn when the store
 * is made, so that chosen nonces cannot pile into one chain.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "replay_private.h"

/* "caller:nonce" is at most this long. */
#define REPLAY_KEY_MAX 256

#define SHARD_BITS 6
#define SHARD_COUNT (1u << SHARD_BITS)
#define SHARD_MAX_BUCKETS ((size_t)1 << 16)
#define CACHE_LINE 64

struct hrss_replay {
    const hrss_replay_ops *ops;
    void *impl;
    int64_t ttl;
};

/* ---- the wrapper ---- */

hrss_replay *hrss_replay_new(const hrss_replay_ops *ops, void *impl, int64_t ttl_sec)
{
    /* On failure impl stays the caller's to destroy. */
    if (ops == NULL || ops->check_and_record == NULL || ttl_sec <= 0)
        return NULL;
    hrss_replay *r = malloc(sizeof(*r));
    if (r == NULL)
        return NULL;
    r->ops = ops;
    r->impl = impl;
    r->ttl = ttl_sec;
    return r;
}

void hrss_replay_free(hrss_replay *r)
{
    if (r == NULL)
        return;
    if (r->ops->destroy != NULL)
        r->ops->destroy(r->impl);
    free(r);
}

/*
 * The key is caller ':' nonce. Callers may not contain ':' (nor NUL), so
 * the first ':' always ends the caller and no two pairs share a key: caller
 * "a:b" with nonce "c" could otherwise meet caller "a" with nonce "b:c".
 * System codes are [0-9A-Za-z] anyway; the form reads well in Redis.
 */
int hrss_replay_check(hrss_replay *r, const char *caller, size_t callerlen, const char *nonce,
                      size_t noncelen, int64_t now, hrss_error *err)
{
    char key[REPLAY_KEY_MAX];

    if (r == NULL || (caller == NULL && callerlen > 0) || nonce == NULL)
        return hrss__error(err, HRSS_EINVAL, "replay check: missing argument");
    if (noncelen == 0)
        return hrss__error(err, HRSS_EINVAL, "replay check: empty nonce");
    if (callerlen > REPLAY_KEY_MAX - 1 || noncelen > REPLAY_KEY_MAX - 1 - callerlen)
        return hrss__error(err, HRSS_ETOOBIG, "replay check: caller and nonce longer than %d",
                           REPLAY_KEY_MAX - 1);
    if (callerlen > 0 &&
        (memchr(caller, ':', callerlen) != NULL || memchr(caller, '\0', callerlen) != NULL))
        return hrss__error(err, HRSS_EINVAL, "replay check: caller holds ':' or NUL");
    if (memchr(nonce, '\0', noncelen) != NULL)
        return hrss__error(err, HRSS_EINVAL, "replay check: nonce holds NUL");

    if (callerlen > 0)
        memcpy(key, caller, callerlen);
    key[callerlen] = ':';
    memcpy(key + callerlen + 1, nonce, noncelen);
    return r->ops->check_and_record(r->impl, key, callerlen + 1 + noncelen, now, r->ttl, err);
}

/* ---- SipHash-2-4 (Aumasson and Bernstein) ---- */

static uint64_t rotl64(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = rotl64(v1, 13);                                                                       \
        v1 ^= v0;                                                                                  \
        v0 = rotl64(v0, 32);                                                                       \
        v2 += v3;                                                                                  \
        v3 = rotl64(v3, 16);                                                                       \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = rotl64(v3, 21);                                                                       \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = rotl64(v1, 17);                                                                       \
        v1 ^= v2;                                                                                  \
        v2 = rotl64(v2, 32);                                                                       \
    } while (0)

uint64_t hrss__siphash24(const void *data, size_t len, uint64_t k0, uint64_t k1)
{
    const unsigned char *p = data;
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
    uint64_t v3 = 0x7465646279746573ULL ^ k1;
    uint64_t last = (uint64_t)len << 56;
    size_t whole = len - len % 8;

    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = 0;
        for (int j = 0; j < 8; j++)
            m |= (uint64_t)p[i + (size_t)j] << (8 * j);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t j = 0; j < len % 8; j++)
        last |= (uint64_t)p[whole + j] << (8 * j);
    v3 ^= last;
    SIPROUND;
    SIPROUND;
    v0 ^= last;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- the in-process backend ---- */

typedef struct mem_entry {
    struct mem_entry *chain; /* next in the hash bucket */
    struct mem_entry *older; /* the shard's list, in recording order */
    struct mem_entry *newer;
    uint64_t hash;
    int64_t expiry; /* live while now < expiry */
    size_t keylen;
    char key[];
} mem_entry;

typedef struct mem_shard {
    pthread_mutex_t lock;
    mem_entry **buckets;
    size_t mask;       /* bucket count - 1 */
    mem_entry *oldest; /* head: recorded first */
    mem_entry *newest;
    size_t count;
} __attribute__((aligned(CACHE_LINE))) mem_shard;

typedef struct mem_store {
    mem_shard shards[SHARD_COUNT];
    size_t max_entries;
    atomic_size_t live; /* entries held by all shards (may briefly overshoot) */
    /* When a sweep found the store full, the earliest expiry then held:
     * until that time a full store cannot free anything, so it is not swept
     * again. 0 when unknown; cleared whenever entries are freed (only then
     * can new ones, with other expiries, come in). */
    atomic_llong full_until;
    uint64_t k0, k1;
} mem_store;

static void shard_unlink_locked(mem_shard *s, mem_entry *e)
{
    mem_entry **pp = &s->buckets[e->hash & s->mask];
    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
    if (e->older != NULL)
        e->older->newer = e->newer;
    else
        s->oldest = e->newer;
    if (e->newer != NULL)
        e->newer->older = e->older;
    else
        s->newest = e->older;
    s->count--;
}

static void shard_free_locked(mem_store *m, mem_shard *s, mem_entry *e)
{
    shard_unlink_locked(s, e);
    free(e);
    atomic_fetch_sub(&m->live, 1);
    atomic_store(&m->full_until, 0);
}

/* Frees the expired entries at the head of the shard's list. */
static void shard_reclaim_locked(mem_store *m, mem_shard *s, int64_t now)
{
    while (s->oldest != NULL && s->oldest->expiry <= now)
        shard_free_locked(m, s, s->oldest);
}

/* Frees every expired entry of the shard; returns the earliest expiry left
 * (INT64_MAX when none). */
static int64_t shard_sweep_locked(mem_store *m, mem_shard *s, int64_t now)
{
    int64_t next = INT64_MAX;
    mem_entry *e = s->oldest;
    while (e != NULL) {
        mem_entry *newer = e->newer;
        if (e->expiry <= now)
            shard_free_locked(m, s, e);
        else if (e->expiry < next)
            next = e->expiry;
        e = newer;
    }
    return next;
}

/* 1 when key is recorded and live at now. An expired entry found on the
 * way (left behind a live head) is freed. */
static int shard_has_locked(mem_store *m, mem_shard *s, uint64_t hash, const char *key,
                            size_t keylen, int64_t now)
{
    for (mem_entry *e = s->buckets[hash & s->mask]; e != NULL; e = e->chain) {
        if (e->hash == hash && e->keylen == keylen && memcmp(e->key, key, keylen) == 0) {
            if (e->expiry > now)
                return 1;
            shard_free_locked(m, s, e);
            return 0; /* keys are unique in a shard */
        }
    }
    return 0;
}

/* Links e into its chain and at the newest end of the list. */
static void shard_insert_locked(mem_shard *s, mem_entry *e)
{
    mem_entry **bucket = &s->buckets[e->hash & s->mask];
    e->chain = *bucket;
    *bucket = e;
    e->newer = NULL;
    e->older = s->newest;
    if (s->newest != NULL)
        s->newest->newer = e;
    else
        s->oldest = e;
    s->newest = e;
    s->count++;
}

/* Takes a slot of the global bound; 0 when the store is full. */
static int mem_reserve(mem_store *m)
{
    size_t n = atomic_fetch_add(&m->live, 1);
    if (n < m->max_entries)
        return 1;
    atomic_fetch_sub(&m->live, 1);
    return 0;
}

/* Frees every expired entry of every shard, one lock at a time (never two
 * at once, so no lock order to keep). Called without any shard lock, and
 * only when the store is full: O(max_entries), at most once per expiry
 * time while it stays full. */
static void mem_sweep_all(mem_store *m, int64_t now)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < SHARD_COUNT; i++) {
        mem_shard *s = &m->shards[i];
        pthread_mutex_lock(&s->lock);
        int64_t n = shard_sweep_locked(m, s, now);
        if (n < next)
            next = n;
        pthread_mutex_unlock(&s->lock);
    }
    /* Set it only over 0 and while the store is still full. Entries let in
     * meanwhile by other threads expire at their now + ttl, no earlier
     * than next unless their clocks are behind ours: the hint can be late
     * by that skew at most (a second or so of EFULL), and early is only one
     * more sweep. */
    if (atomic_load(&m->live) >= m->max_entries && next != INT64_MAX) {
        long long zero = 0;
        atomic_compare_exchange_strong(&m->full_until, &zero, (long long)next);
    }
}

static int mem_check_and_record(void *impl, const char *key, size_t keylen, int64_t now,
                                int64_t ttl, hrss_error *err)
{
    mem_store *m = impl;
    int rc;

    if (m == NULL || key == NULL || keylen == 0)
        return hrss__error(err, HRSS_EINVAL, "replay store: missing key");
    if (keylen > REPLAY_KEY_MAX)
        return hrss__error(err, HRSS_ETOOBIG, "replay store: key longer than %d", REPLAY_KEY_MAX);
    if (ttl <= 0 || now > INT64_MAX - ttl)
        return hrss__error(err, HRSS_ERANGE, "replay store: time or ttl out of range");

    uint64_t hash = hrss__siphash24(key, keylen, m->k0, m->k1);
    mem_shard *s = &m->shards[hash >> (64 - SHARD_BITS)];

    pthread_mutex_lock(&s->lock);
    shard_reclaim_locked(m, s, now);
    if (shard_has_locked(m, s, hash, key, keylen, now)) {
        rc = hrss__error(err, HRSS_EREPLAY, "nonce already used within the window");
        goto unlock;
    }
    if (!mem_reserve(m)) {
        pthread_mutex_unlock(&s->lock);
        long long until = atomic_load(&m->full_until);
        if (until == 0 || now >= until)
            mem_sweep_all(m, now);
        pthread_mutex_lock(&s->lock);
        /* Another thread may have recorded the same key meanwhile. */
        if (shard_has_locked(m, s, hash, key, keylen, now)) {
            rc = hrss__error(err, HRSS_EREPLAY, "nonce already used within the window");
            goto unlock;
        }
        if (!mem_reserve(m)) {
            rc = hrss__error(err, HRSS_EFULL,
                             "replay store: %zu unexpired nonces, no room for another",
                             m->max_entries);
            goto unlock;
        }
    }

    mem_entry *e = malloc(sizeof(*e) + keylen);
    if (e == NULL) {
        atomic_fetch_sub(&m->live, 1);
        rc = hrss__error(err, HRSS_ENOMEM, "replay store: out of memory");
        goto unlock;
    }
    e->hash = hash;
    e->expiry = now + ttl;
    e->keylen = keylen;
    memcpy(e->key, key, keylen);
    shard_insert_locked(s, e);
    rc = HRSS_OK;
unlock:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static void mem_destroy(void *impl)
{
    mem_store *m = impl;
    if (m == NULL)
        return;
    for (size_t i = 0; i < SHARD_COUNT; i++) {
        mem_shard *s = &m->shards[i];
        mem_entry *e = s->oldest;
        while (e != NULL) {
            mem_entry *next = e->newer;
            free(e);
            e = next;
        }
        free(s->buckets);
        pthread_mutex_destroy(&s->lock);
    }
    free(m);
}

static const hrss_replay_ops mem_ops = {
    .name = "memory",
    .check_and_record = mem_check_and_record,
    .destroy = mem_destroy,
};

static size_t bucket_count_for(size_t max_entries)
{
    size_t per_shard = max_entries / SHARD_COUNT + (max_entries % SHARD_COUNT != 0);
    size_t n = 1;
    while (n < per_shard && n < SHARD_MAX_BUCKETS)
        n <<= 1;
    return n;
}

int hrss_replay_memory_new(size_t max_entries, int64_t ttl_sec, hrss_replay **out, hrss_error *err)
{
    mem_store *m = NULL;
    size_t inited = 0;
    unsigned char seed[16];
    int rc;

    if (out == NULL)
        return hrss__error(err, HRSS_EINVAL, "replay store: no output pointer");
    *out = NULL;
    if (max_entries == 0 || ttl_sec <= 0)
        return hrss__error(err, HRSS_EINVAL, "replay store: max_entries and ttl must be > 0");

    if (posix_memalign((void **)&m, CACHE_LINE, sizeof(*m)) != 0) {
        m = NULL;
        rc = hrss__error(err, HRSS_ENOMEM, "replay store: out of memory");
        goto fail;
    }
    memset(m, 0, sizeof(*m));
    m->max_entries = max_entries;
    atomic_init(&m->live, 0);
    atomic_init(&m->full_until, 0);
    rc = hrss_random_bytes(seed, sizeof(seed));
    if (rc != HRSS_OK) {
        rc = hrss__error(err, rc, "replay store: random generator failed");
        goto fail;
    }
    for (int i = 0; i < 8; i++) {
        m->k0 |= (uint64_t)seed[i] << (8 * i);
        m->k1 |= (uint64_t)seed[8 + i] << (8 * i);
    }
    memset(seed, 0, sizeof(seed));

    size_t nbuckets = bucket_count_for(max_entries);
    for (inited = 0; inited < SHARD_COUNT; inited++) {
        mem_shard *s = &m->shards[inited];
        s->buckets = calloc(nbuckets, sizeof(*s->buckets));
        if (s->buckets == NULL) {
            rc = hrss__error(err, HRSS_ENOMEM, "replay store: out of memory");
            goto fail;
        }
        if (pthread_mutex_init(&s->lock, NULL) != 0) {
            free(s->buckets);
            rc = hrss__error(err, HRSS_ENOMEM, "replay store: cannot make a lock");
            goto fail;
        }
        s->mask = nbuckets - 1;
    }

    *out = hrss_replay_new(&mem_ops, m, ttl_sec);
    if (*out == NULL) {
        rc = hrss__error(err, HRSS_ENOMEM, "replay store: out of memory");
        goto fail;
    }
    return HRSS_OK;
fail:
    if (m != NULL) {
        for (size_t i = 0; i < inited; i++) {
            free(m->shards[i].buckets);
            pthread_mutex_destroy(&m->shards[i].lock);
        }
        free(m);
    }
    return rc;
}

/* ---- test hooks (replay_private.h) ---- */

int hrss__replay_memory_counts(hrss_replay *r, size_t *live, size_t *held)
{
    if (r == NULL || r->ops != &mem_ops)
        return HRSS_EINVAL;
    mem_store *m = r->impl;
    size_t total = 0;
    for (size_t i = 0; i < SHARD_COUNT; i++) {
        pthread_mutex_lock(&m->shards[i].lock);
        total += m->shards[i].count;
        pthread_mutex_unlock(&m->shards[i].lock);
    }
    if (live != NULL)
        *live = atomic_load(&m->live);
    if (held != NULL)
        *held = total;
    return HRSS_OK;
}
