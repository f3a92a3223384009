/*
 * replay_redis.c - the replay store on Redis (SET key 1 NX EX ttl). See
 * replay_redis.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>
#include <openssl/crypto.h>

#include "lib/internal.h"

#include "replay_redis.h"

#define POOL_MAX 16

typedef struct redis_store {
    char *host;
    int port;
    char *password;
    char *prefix;
    size_t prefix_len;
    struct timeval timeout;
    pthread_mutex_t lock;
    redisContext *idle[POOL_MAX];
    int n_idle;
} redis_store;

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

/* A connected, authenticated context, or NULL with err. */
static redisContext *connect_one(redis_store *s, hrss_error *err)
{
    redisContext *c = redisConnectWithTimeout(s->host, s->port, s->timeout);
    if (c == NULL) {
        hrss__error(err, HRSS_EUNAVAIL, "replay store: redis: out of memory");
        return NULL;
    }
    if (c->err) {
        hrss__error(err, HRSS_EUNAVAIL, "replay store: redis %s:%d: %s", s->host, s->port,
                    c->errstr);
        redisFree(c);
        return NULL;
    }
    if (redisSetTimeout(c, s->timeout) != REDIS_OK) {
        hrss__error(err, HRSS_EUNAVAIL, "replay store: redis: cannot set timeout");
        redisFree(c);
        return NULL;
    }
    if (s->password != NULL) {
        redisReply *r = redisCommand(c, "AUTH %s", s->password);
        int ok = r != NULL && r->type == REDIS_REPLY_STATUS;
        if (!ok) /* the reply text names no secret: "WRONGPASS ..." or "ERR ..." */
            hrss__error(err, HRSS_EUNAVAIL, "replay store: redis %s:%d: authentication: %s",
                        s->host, s->port,
                        r != NULL && r->type == REDIS_REPLY_ERROR ? r->str : c->errstr);
        if (r != NULL)
            freeReplyObject(r);
        if (!ok) {
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

static redisContext *pool_get(redis_store *s, hrss_error *err)
{
    redisContext *c = NULL;
    pthread_mutex_lock(&s->lock);
    if (s->n_idle > 0)
        c = s->idle[--s->n_idle];
    pthread_mutex_unlock(&s->lock);
    return c != NULL ? c : connect_one(s, err);
}

static void pool_put(redis_store *s, redisContext *c)
{
    pthread_mutex_lock(&s->lock);
    if (s->n_idle < POOL_MAX) {
        s->idle[s->n_idle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    if (c != NULL)
        redisFree(c);
}

static int redis_check_and_record(void *impl, const char *key, size_t keylen, int64_t now,
                                  int64_t ttl, hrss_error *err)
{
    redis_store *s = impl;
    (void)now; /* Redis expires the key by its own clock, ttl seconds from now */
    redisContext *c = pool_get(s, err);
    if (c == NULL)
        return HRSS_EUNAVAIL;
    redisReply *r = redisCommand(c, "SET %b%b 1 NX EX %lld", s->prefix, s->prefix_len, key,
                                 keylen, (long long)ttl);
    if (r == NULL) { /* the connection is broken: drop it, fail closed */
        hrss__error(err, HRSS_EUNAVAIL, "replay store: redis %s:%d: %s", s->host, s->port,
                    c->errstr[0] ? c->errstr : "no answer");
        redisFree(c);
        return HRSS_EUNAVAIL;
    }
    int rc;
    if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0)
        rc = HRSS_OK;
    else if (r->type == REDIS_REPLY_NIL)
        rc = hrss__error(err, HRSS_EREPLAY, "nonce replayed");
    else
        rc = hrss__error(err, HRSS_EUNAVAIL, "replay store: redis %s:%d: %s", s->host, s->port,
                         r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    freeReplyObject(r);
    pool_put(s, c);
    return rc;
}

static void redis_destroy(void *impl)
{
    redis_store *s = impl;
    if (s == NULL)
        return;
    for (int i = 0; i < s->n_idle; i++)
        redisFree(s->idle[i]);
    pthread_mutex_destroy(&s->lock);
    free(s->host);
    if (s->password != NULL) {
        OPENSSL_cleanse(s->password, strlen(s->password));
        free(s->password);
    }
    free(s->prefix);
    free(s);
}

static const hrss_replay_ops redis_ops = {"redis", redis_check_and_record, redis_destroy};

int replay_redis_new(const replay_redis_config *c, int64_t ttl_sec, hrss_replay **out,
                     hrss_error *err)
{
    *out = NULL;
    if (c == NULL || c->host == NULL || c->port <= 0 || c->port > 65535 || ttl_sec <= 0)
        return hrss__error(err, HRSS_EINVAL, "replay store: redis: host, port and ttl needed");
    redis_store *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return hrss__error(err, HRSS_ENOMEM, "replay store: out of memory");
    int ms = c->timeout_ms > 0 ? c->timeout_ms : 200;
    s->timeout.tv_sec = ms / 1000;
    s->timeout.tv_usec = (ms % 1000) * 1000;
    s->port = c->port;
    s->host = strdup(c->host);
    s->password = dup_or_null(c->password);
    s->prefix = strdup(c->prefix != NULL ? c->prefix : "hrss:nonce:");
    pthread_mutex_init(&s->lock, NULL);
    if (s->host == NULL || s->prefix == NULL || (c->password != NULL && s->password == NULL)) {
        redis_destroy(s);
        return hrss__error(err, HRSS_ENOMEM, "replay store: out of memory");
    }
    s->prefix_len = strlen(s->prefix);
    redisContext *first = connect_one(s, err);
    if (first == NULL) {
        redis_destroy(s);
        return HRSS_EUNAVAIL;
    }
    pool_put(s, first);
    *out = hrss_replay_new(&redis_ops, s, ttl_sec);
    if (*out == NULL) {
        redis_destroy(s);
        return hrss__error(err, HRSS_ENOMEM, "replay store: out of memory");
    }
    return HRSS_OK;
}

int replay_redis_parse_url(const char *url, replay_redis_config *c, char *buf, size_t bufsize,
                           hrss_error *err)
{
    memset(c, 0, sizeof(*c));
    if (strncmp(url, "redis://", 8) != 0)
        return hrss__error(err, HRSS_EFORMAT, "must start with redis://");
    if (strlen(url) + 1 > bufsize)
        return hrss__error(err, HRSS_ETOOBIG, "too long");
    memcpy(buf, url + 8, strlen(url + 8) + 1); /* fits: checked above */
    char *p = buf;
    char *at = strrchr(p, '@');
    if (at != NULL) {
        *at = '\0';
        char *pc = strchr(p, ':'); /* [USER]:PASSWORD, the user is ignored */
        c->password = pc != NULL ? pc + 1 : p;
        if (c->password[0] == '\0')
            c->password = NULL;
        p = at + 1;
    }
    char *slash = strchr(p, '/');
    if (slash != NULL) {
        *slash = '\0';
        c->prefix = slash[1] ? slash + 1 : NULL;
    }
    c->port = 6379;
    char *colon = strrchr(p, ':');
    char *rb = strchr(p, ']');
    if (colon != NULL && (rb == NULL || rb < colon)) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (*end != '\0' || port < 1 || port > 65535)
            return hrss__error(err, HRSS_EFORMAT, "port must be 1-65535");
        c->port = (int)port;
        *colon = '\0';
    }
    if (p[0] == '[') { /* [::1] */
        size_t n = strlen(p);
        if (n < 3 || p[n - 1] != ']')
            return hrss__error(err, HRSS_EFORMAT, "unterminated [address]");
        p[n - 1] = '\0';
        p++;
    }
    if (p[0] == '\0')
        return hrss__error(err, HRSS_EFORMAT, "host missing");
    c->host = p;
    return HRSS_OK;
}
