/*
 * hrss/replay.h - the replay store of docs/design.md decision 3: a nonce is
 * accepted once per caller within the window (15 minutes). The store keeps
 * (appCode, nonce) pairs until they expire.
 *
 * One interface, several backends: an in-process one here (bounded memory,
 * safe under threads) and a shared one (Redis) for several node instances.
 * Callers record a nonce only after the request's signature checked out,
 * and refuse the request when the store cannot answer (fail closed).
 */
#ifndef HRSS_REPLAY_H
#define HRSS_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HRSS_REPLAY_WINDOW_SEC 900

/* A backend: check_and_record atomically records key until now + ttl and
 * returns HRSS_OK, or HRSS_EREPLAY when key is already recorded and not
 * expired, or HRSS_EFULL / HRSS_EUNAVAIL when it cannot answer. */
typedef struct hrss_replay_ops {
    const char *name;
    int (*check_and_record)(void *impl, const char *key, size_t keylen, int64_t now,
                            int64_t ttl, hrss_error *err);
    void (*destroy)(void *impl);
} hrss_replay_ops;

typedef struct hrss_replay hrss_replay;

/* Wraps a backend; ops must outlive the store, impl is destroyed with it. */
HRSS_API hrss_replay *hrss_replay_new(const hrss_replay_ops *ops, void *impl, int64_t ttl_sec);

/* The in-process backend: at most max_entries live nonces (memory is
 * bounded by it); when full of unexpired entries it answers HRSS_EFULL. */
HRSS_API int hrss_replay_memory_new(size_t max_entries, int64_t ttl_sec, hrss_replay **out,
                                    hrss_error *err);

/* Records (caller, nonce) at time now (epoch seconds): HRSS_OK the first
 * time, HRSS_EREPLAY when seen within the window, or the backend's failure.
 * Thread-safe. */
HRSS_API int hrss_replay_check(hrss_replay *r, const char *caller, size_t callerlen,
                               const char *nonce, size_t noncelen, int64_t now, hrss_error *err);

HRSS_API void hrss_replay_free(hrss_replay *r);

#ifdef __cplusplus
}
#endif
#endif
