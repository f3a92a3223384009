/*
 * tests/unit/lib/test_replay.c - the replay store (replay.h,
 * docs/design.md decision 3): once per caller within the window, keys that cannot
 * collide, memory bounded under a flood of expiring nonces, fail closed when
 * full, and exact answers under threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "hrss/hrss.h"
#include "lib/replay_private.h"

#define T0 1700000000LL
#define TTL HRSS_REPLAY_WINDOW_SEC

static int check(hrss_replay *r, const char *caller, const char *nonce, int64_t now)
{
    hrss_error err = {0};
    return hrss_replay_check(r, caller, strlen(caller), nonce, strlen(nonce), now, &err);
}

static void counts(hrss_replay *r, size_t *live, size_t *held)
{
    assert_int_equal(hrss__replay_memory_counts(r, live, held), HRSS_OK);
}

static void siphash_reference_vectors(void **state)
{
    (void)state;
    /* The paper's key 00..0f; messages 00..(n-1). */
    unsigned char msg[64];
    for (int i = 0; i < 64; i++)
        msg[i] = (unsigned char)i;
    uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
    assert_true(hrss__siphash24(msg, 0, k0, k1) == 0x726fdb47dd0e0e31ULL);
    assert_true(hrss__siphash24(msg, 15, k0, k1) == 0xa129ca6149be45e5ULL);
    assert_true(hrss__siphash24(msg, 8, k0, k1) == 0x93f5f5799a932462ULL);
}

static void once_per_caller_within_window(void **state)
{
    (void)state;
    hrss_replay *r = NULL;
    hrss_error err = {0};
    assert_int_equal(hrss_replay_memory_new(100, TTL, &r, &err), HRSS_OK);
    const char *n = "dbea7d58e3014126897614c8";

    assert_int_equal(check(r, "S11000012345", n, T0), HRSS_OK);
    assert_int_equal(check(r, "S11000012345", n, T0), HRSS_EREPLAY);
    assert_int_equal(check(r, "S11000012345", n, T0 + TTL - 1), HRSS_EREPLAY);
    /* The same nonce from another caller is another key. */
    assert_int_equal(check(r, "S11000054321", n, T0 + 10), HRSS_OK);
    assert_int_equal(check(r, "S11000012345", "dbea7d58e3014126897614c9", T0), HRSS_OK);
    /* At now = recorded + ttl the window is over. */
    assert_int_equal(check(r, "S11000012345", n, T0 + TTL), HRSS_OK);
    assert_int_equal(check(r, "S11000012345", n, T0 + TTL + 1), HRSS_EREPLAY);
    assert_int_equal(check(r, "S11000054321", n, T0 + TTL + 9), HRSS_EREPLAY);
    assert_int_equal(check(r, "S11000054321", n, T0 + TTL + 10), HRSS_OK);

    /* Case matters: nonces are compared as bytes. */
    assert_int_equal(check(r, "S11000012345", "DBEA7D58E3014126897614C8", T0 + TTL + 10), HRSS_OK);

    hrss_replay_free(r);
}

static void keys_cannot_collide(void **state)
{
    (void)state;
    hrss_replay *r = NULL;
    hrss_error err = {0};
    assert_int_equal(hrss_replay_memory_new(100, TTL, &r, &err), HRSS_OK);

    /* caller "a" + nonce "b:c" must not meet caller "a:b" + nonce "c": the
     * latter is refused outright, since a caller never holds ':'. */
    assert_int_equal(check(r, "a", "b:c", T0), HRSS_OK);
    assert_int_equal(check(r, "a:b", "c", T0), HRSS_EINVAL);
    assert_int_equal(hrss_replay_check(r, "a\0b", 3, "c", 1, T0, &err), HRSS_EINVAL);
    assert_int_equal(hrss_replay_check(r, "a", 1, "c\0d", 3, T0, &err), HRSS_EINVAL);
    /* The empty caller is a caller like any other. */
    assert_int_equal(check(r, "", "b:c", T0), HRSS_OK);
    assert_int_equal(check(r, "", "b:c", T0), HRSS_EREPLAY);
    assert_int_equal(check(r, "ab", ":c", T0), HRSS_OK);
    assert_int_equal(check(r, "a", "b:c", T0), HRSS_EREPLAY);

    /* Bad arguments. */
    assert_int_equal(check(r, "a", "", T0), HRSS_EINVAL);
    assert_int_equal(hrss_replay_check(NULL, "a", 1, "b", 1, T0, &err), HRSS_EINVAL);
    assert_int_equal(hrss_replay_check(r, "a", 1, NULL, 0, T0, &err), HRSS_EINVAL);
    char big[300];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(check(r, "a", big, T0), HRSS_ETOOBIG);
    assert_int_equal(hrss_replay_check(r, big, strlen(big), "a", 1, T0, &err), HRSS_ETOOBIG);
    assert_int_equal(err.code, HRSS_ETOOBIG);
    hrss_replay_free(r);
}

static void bad_store_arguments(void **state)
{
    (void)state;
    hrss_replay *r = (hrss_replay *)1;
    hrss_error err = {0};
    assert_int_equal(hrss_replay_memory_new(0, TTL, &r, &err), HRSS_EINVAL);
    assert_null(r);
    assert_int_equal(hrss_replay_memory_new(10, 0, &r, &err), HRSS_EINVAL);
    assert_int_equal(hrss_replay_memory_new(10, TTL, NULL, &err), HRSS_EINVAL);
    assert_null(hrss_replay_new(NULL, NULL, TTL));
    hrss_replay_free(NULL);
    /* A huge bound only costs its (capped) bucket arrays up front. */
    assert_int_equal(hrss_replay_memory_new(SIZE_MAX, TTL, &r, &err), HRSS_OK);
    assert_int_equal(check(r, "a", "b", T0), HRSS_OK);
    hrss_replay_free(r);
}

/* Fills the store, lets everything expire, fills it again: a flood of
 * distinct nonces never grows it past max_entries. */
static void memory_bounded_under_expiring_flood(void **state)
{
    (void)state;
    enum { MAX = 5000 };
    hrss_replay *r = NULL;
    hrss_error err = {0};
    char nonce[32];
    size_t live = 0, held = 0;
    assert_int_equal(hrss_replay_memory_new(MAX, TTL, &r, &err), HRSS_OK);

    for (int round = 0; round < 6; round++) {
        int64_t now = T0 + (int64_t)round * (TTL + 1);
        for (int i = 0; i < MAX; i++) {
            snprintf(nonce, sizeof(nonce), "r%dn%d", round, i);
            int rc = check(r, "S11000012345", nonce, now);
            if (rc != HRSS_OK)
                fail_msg("round %d nonce %d: %s", round, i, hrss_err_name(rc));
        }
        counts(r, &live, &held);
        assert_int_equal(live, MAX);
        assert_int_equal(held, MAX);
        /* Full of unexpired entries: refuse (the caller fails closed). */
        assert_int_equal(hrss_replay_check(r, "S11000012345", 12, "one-more", 8, now, &err),
                         HRSS_EFULL);
        assert_int_equal(err.code, HRSS_EFULL);
        assert_int_equal(check(r, "S11000012345", "one-more", now + TTL - 1), HRSS_EFULL);
        counts(r, &live, &held);
        assert_true(live <= MAX);
        assert_true(held <= MAX);
        /* Still answers replays while full. */
        snprintf(nonce, sizeof(nonce), "r%dn%d", round, 17);
        assert_int_equal(check(r, "S11000012345", nonce, now + 1), HRSS_EREPLAY);
    }
    hrss_replay_free(r);
}

/* Partial expiry: entries expire in the order they were recorded, and room
 * made by expired entries in any shard is found. */
static void full_store_reclaims_expired_elsewhere(void **state)
{
    (void)state;
    enum { MAX = 640 };
    hrss_replay *r = NULL;
    hrss_error err = {0};
    char nonce[32];
    size_t live = 0, held = 0;
    assert_int_equal(hrss_replay_memory_new(MAX, TTL, &r, &err), HRSS_OK);

    /* Half at T0, half at T0 + 100. */
    for (int i = 0; i < MAX; i++) {
        snprintf(nonce, sizeof(nonce), "a%d", i);
        assert_int_equal(check(r, "c", nonce, i < MAX / 2 ? T0 : T0 + 100), HRSS_OK);
    }
    assert_int_equal(check(r, "c", "x0", T0 + TTL - 1), HRSS_EFULL);
    /* At T0 + TTL the first half is gone, wherever it was hashed. */
    for (int i = 0; i < MAX / 2; i++) {
        snprintf(nonce, sizeof(nonce), "b%d", i);
        assert_int_equal(check(r, "c", nonce, T0 + TTL), HRSS_OK);
    }
    assert_int_equal(check(r, "c", "x1", T0 + TTL), HRSS_EFULL);
    counts(r, &live, &held);
    assert_int_equal(live, MAX);
    assert_int_equal(held, MAX);
    /* The second half is still there; the first was forgotten. */
    assert_int_equal(check(r, "c", "a639", T0 + TTL), HRSS_EREPLAY);
    assert_int_equal(check(r, "c", "a0", T0 + TTL + 99), HRSS_EFULL);
    assert_int_equal(check(r, "c", "a0", T0 + TTL + 100), HRSS_OK);
    hrss_replay_free(r);
}

/* A thread whose clock is a little behind records an entry that expires
 * before ones already held: it must still go first. */
static void clocks_slightly_apart(void **state)
{
    (void)state;
    hrss_replay *r = NULL;
    hrss_error err = {0};
    assert_int_equal(hrss_replay_memory_new(10, TTL, &r, &err), HRSS_OK);
    assert_int_equal(check(r, "c", "late", T0 + 10), HRSS_OK);
    assert_int_equal(check(r, "c", "early", T0), HRSS_OK);
    assert_int_equal(check(r, "c", "early", T0 + TTL - 1), HRSS_EREPLAY);
    assert_int_equal(check(r, "c", "early", T0 + TTL), HRSS_OK);
    assert_int_equal(check(r, "c", "late", T0 + TTL), HRSS_EREPLAY);
    assert_int_equal(check(r, "c", "late", T0 + TTL + 10), HRSS_OK);
    hrss_replay_free(r);

    /* Full, with the expired entry behind a live one: the sweep finds it. */
    size_t live = 0;
    assert_int_equal(hrss_replay_memory_new(2, TTL, &r, &err), HRSS_OK);
    assert_int_equal(check(r, "c", "late", T0 + 10), HRSS_OK);
    assert_int_equal(check(r, "c", "early", T0), HRSS_OK);
    assert_int_equal(check(r, "c", "new", T0 + TTL - 1), HRSS_EFULL);
    assert_int_equal(check(r, "c", "new", T0 + TTL), HRSS_OK);
    counts(r, &live, NULL);
    assert_int_equal(live, 2);
    assert_int_equal(check(r, "c", "late", T0 + TTL), HRSS_EREPLAY);
    hrss_replay_free(r);
}

/* ---- a custom backend through hrss_replay_new ---- */

typedef struct fake_backend {
    char last_key[300];
    size_t last_len;
    int64_t last_ttl;
    int destroyed;
    int answer;
} fake_backend;

static int fake_check(void *impl, const char *key, size_t keylen, int64_t now, int64_t ttl,
                      hrss_error *err)
{
    (void)now;
    (void)err;
    fake_backend *f = impl;
    memcpy(f->last_key, key, keylen);
    f->last_len = keylen;
    f->last_ttl = ttl;
    return f->answer;
}

static void fake_destroy(void *impl)
{
    ((fake_backend *)impl)->destroyed = 1;
}

static void custom_backend_gets_caller_colon_nonce(void **state)
{
    (void)state;
    static const hrss_replay_ops ops = {"fake", fake_check, fake_destroy};
    fake_backend f = {.answer = HRSS_EUNAVAIL};
    hrss_replay *r = hrss_replay_new(&ops, &f, 600);
    assert_non_null(r);
    assert_int_equal(check(r, "S11000012345", "abc", T0), HRSS_EUNAVAIL);
    assert_int_equal(f.last_len, strlen("S11000012345:abc"));
    assert_memory_equal(f.last_key, "S11000012345:abc", f.last_len);
    assert_int_equal(f.last_ttl, 600);
    assert_int_equal(hrss__replay_memory_counts(r, NULL, NULL), HRSS_EINVAL);
    hrss_replay_free(r);
    assert_int_equal(f.destroyed, 1);
    assert_null(hrss_replay_new(&ops, &f, 0));
}

/* ---- threads ---- */

enum { THREADS = 4, PER_THREAD = 50000, SHARED = 1000 };

typedef struct worker {
    hrss_replay *r;
    int id;
    int ok;
    int replay;
    int other;
} worker;

static void *worker_run(void *arg)
{
    worker *w = arg;
    char nonce[48];
    hrss_error err;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < PER_THREAD; i++) {
            /* Own nonces (second pass: all replays) interleaved with the
             * shared ones every thread races for. */
            snprintf(nonce, sizeof(nonce), "t%d-%d", w->id, i);
            int rc =
                hrss_replay_check(w->r, "S11000012345", 12, nonce, strlen(nonce), T0 + i % 7, &err);
            w->ok += rc == HRSS_OK;
            w->replay += rc == HRSS_EREPLAY;
            w->other += rc != HRSS_OK && rc != HRSS_EREPLAY;
            if (pass == 0 && i % (PER_THREAD / SHARED) == 0) {
                snprintf(nonce, sizeof(nonce), "shared-%d", i / (PER_THREAD / SHARED));
                rc = hrss_replay_check(w->r, "S11000012345", 12, nonce, strlen(nonce), T0, &err);
                w->ok += rc == HRSS_OK;
                w->replay += rc == HRSS_EREPLAY;
                w->other += rc != HRSS_OK && rc != HRSS_EREPLAY;
            }
        }
    }
    return NULL;
}

static void exact_answers_under_threads(void **state)
{
    (void)state;
    hrss_replay *r = NULL;
    hrss_error err = {0};
    pthread_t th[THREADS];
    worker w[THREADS];
    size_t live = 0, held = 0;
    assert_int_equal(hrss_replay_memory_new(THREADS * PER_THREAD + SHARED, TTL, &r, &err), HRSS_OK);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.r = r, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    int ok = 0, replay = 0, other = 0;
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        ok += w[i].ok;
        replay += w[i].replay;
        other += w[i].other;
    }
    assert_int_equal(other, 0);
    assert_int_equal(ok, THREADS * PER_THREAD + SHARED);
    assert_int_equal(replay, THREADS * PER_THREAD + (THREADS - 1) * SHARED);
    counts(r, &live, &held);
    assert_int_equal(live, THREADS * PER_THREAD + SHARED);
    assert_int_equal(held, live);
    hrss_replay_free(r);
}

/* Threads flooding a small store past its bound with expiring nonces: the
 * bound holds, and every answer is OK or EFULL (never a lost replay). */
static void *flood_run(void *arg)
{
    worker *w = arg;
    char nonce[48];
    hrss_error err;
    for (int i = 0; i < 20000; i++) {
        snprintf(nonce, sizeof(nonce), "f%d-%d", w->id, i);
        int64_t now = T0 + i / 100; /* 200 seconds of traffic, ttl 30 */
        int rc = hrss_replay_check(w->r, "c", 1, nonce, strlen(nonce), now, &err);
        w->ok += rc == HRSS_OK;
        w->replay += rc == HRSS_EREPLAY;
        w->other += rc != HRSS_OK && rc != HRSS_EFULL && rc != HRSS_EREPLAY;
    }
    return NULL;
}

static void bound_holds_under_threads(void **state)
{
    (void)state;
    enum { MAX = 2000 };
    hrss_replay *r = NULL;
    hrss_error err = {0};
    pthread_t th[THREADS];
    worker w[THREADS];
    size_t live = 0, held = 0;
    assert_int_equal(hrss_replay_memory_new(MAX, 30, &r, &err), HRSS_OK);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.r = r, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, flood_run, &w[i]), 0);
    }
    int ok = 0;
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].other, 0);
        assert_int_equal(w[i].replay, 0);
        ok += w[i].ok;
    }
    counts(r, &live, &held);
    assert_true(live <= MAX);
    assert_int_equal(held, live);
    /* 4 x 100 nonces a second for 30 s is 12,000 > 2,000: some refused,
     * and expiry kept the store answering throughout. */
    assert_true(ok > 4 * MAX);
    assert_true(ok < THREADS * 20000);
    hrss_replay_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(siphash_reference_vectors),
        cmocka_unit_test(once_per_caller_within_window),
        cmocka_unit_test(keys_cannot_collide),
        cmocka_unit_test(bad_store_arguments),
        cmocka_unit_test(memory_bounded_under_expiring_flood),
        cmocka_unit_test(full_store_reclaims_expired_elsewhere),
        cmocka_unit_test(clocks_slightly_apart),
        cmocka_unit_test(custom_backend_gets_caller_colon_nonce),
        cmocka_unit_test(exact_answers_under_threads),
        cmocka_unit_test(bound_holds_under_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
