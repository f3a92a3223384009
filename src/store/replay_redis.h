/*
 * store/replay_redis.h - the shared replay store (docs/design.md,
 * decision 3): several hrss-node instances behind one address record each
 * (appCode, nonce) in one Redis, with SET NX EX, so that a request replayed
 * to another instance is refused too.
 *
 * Fail closed: when Redis cannot answer within the timeout (down, refused,
 * wrong password) the check answers HRSS_EUNAVAIL and the caller refuses the
 * request. Connections are kept in a small pool shared by all threads and
 * made again after a failure, so that a restarted Redis is used at once.
 */
#ifndef HRSS_STORE_REPLAY_REDIS_H
#define HRSS_STORE_REPLAY_REDIS_H

#include <stdint.h>

#include "hrss/replay.h"

typedef struct replay_redis_config {
    const char *host;     /* "127.0.0.1" */
    int port;             /* 6379 */
    const char *password; /* AUTH password, or NULL */
    int timeout_ms;       /* connect and command timeout (default 200) */
    const char *prefix;   /* key prefix (default "hrss:nonce:") */
} replay_redis_config;

/* Parses "redis://[[USER]:PASSWORD@]HOST[:PORT][/PREFIX]" (an IPv6 HOST in
 * brackets; USER is ignored: AUTH takes the password alone) into c (pointing into
 * buf, which receives a copy of url; bufsize >= strlen(url) + 1). 0, or -1
 * with err. */
int replay_redis_parse_url(const char *url, replay_redis_config *c, char *buf, size_t bufsize,
                           hrss_error *err);

/* A replay store on Redis; ttl_sec as hrss_replay_memory_new. The first
 * connection is made now, so that a wrong address or password is reported
 * at start-up (HRSS_EUNAVAIL with the reason). */
int replay_redis_new(const replay_redis_config *c, int64_t ttl_sec, hrss_replay **out,
                     hrss_error *err);

#endif
