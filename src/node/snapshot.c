/*
 * node/snapshot.c - the immutable registry snapshot of snapshot.h: hash
 * indexes (FNV-1a, open addressing, load factor at most 1/2), address
 * matching, refcounting, and the holder/view pair that lets workers read
 * without taking a lock unless the registry changed since their last
 * request.
 */
#include "snapshot.h"
#include "common/xalloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void snapshot_free(holder_obj *o);

snapshot *snapshot_new(void)
{
    snapshot *s = xcalloc(1, sizeof(*s));
    holder_obj_init(&s->hold, snapshot_free);
    return s;
}

static uint64_t fnv(uint64_t h, const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

#define FNV_INIT 14695981039346656037ULL

static uint32_t *index_new(int n, uint32_t *mask)
{
    uint32_t size = 8;
    while (size < (uint32_t)n * 2)
        size *= 2;
    *mask = size - 1;
    return xcalloc(size, sizeof(uint32_t));
}

/* The key of element i of an array, for index building and probing. */
typedef struct key2 {
    const char *a;
    size_t alen;
    const char *b; /* second part (grants), NULL otherwise */
    size_t blen;
} key2;

static uint64_t key_hash(key2 k)
{
    uint64_t h = fnv(FNV_INIT, k.a, k.alen);
    if (k.b != NULL)
        h = fnv(fnv(h, "\x1f", 1), k.b, k.blen);
    return h;
}

static key2 sys_key(const snapshot *s, uint32_t i)
{
    return (key2){s->systems[i].code, strlen(s->systems[i].code), NULL, 0};
}
static key2 svc_key(const snapshot *s, uint32_t i)
{
    return (key2){s->services[i].code, strlen(s->services[i].code), NULL, 0};
}
static key2 grant_key(const snapshot *s, uint32_t i)
{
    const snap_grant *g = &s->grants[i];
    return (key2){g->caller, strlen(g->caller), g->service, strlen(g->service)};
}

/* Probes idx for k; returns the matching element index + 1, or 0 with
 * *slot the free slot where it would go. */
static uint32_t probe(const snapshot *s, const uint32_t *idx, uint32_t mask, key2 k,
                      key2 (*key_of)(const snapshot *, uint32_t), uint32_t *slot)
{
    uint32_t pos = (uint32_t)key_hash(k) & mask;
    for (uint32_t n = 0; n <= mask; n++, pos = (pos + 1) & mask) {
        uint32_t e = idx[pos];
        if (e == 0) {
            if (slot != NULL)
                *slot = pos;
            return 0;
        }
        key2 other = key_of(s, e - 1);
        if (other.alen == k.alen && memcmp(other.a, k.a, k.alen) == 0 &&
            (k.b == NULL || (other.blen == k.blen && memcmp(other.b, k.b, k.blen) == 0)))
            return e;
    }
    return 0; /* unreachable: the table is never more than half full */
}

static int build(snapshot *s, int n, uint32_t **idx, uint32_t *mask,
                 key2 (*key_of)(const snapshot *, uint32_t), const char *what, char *err,
                 size_t errlen)
{
    *idx = index_new(n, mask);
    for (int i = 0; i < n; i++) {
        uint32_t slot = 0;
        key2 k = key_of(s, (uint32_t)i);
        if (probe(s, *idx, *mask, k, key_of, &slot) != 0) {
            snprintf(err, errlen, "duplicate %s %.*s", what, (int)k.alen, k.a);
            return -1;
        }
        (*idx)[slot] = (uint32_t)i + 1;
    }
    return 0;
}

int snapshot_index(snapshot *s, char *err, size_t errlen)
{
    if (build(s, s->n_systems, &s->sys_idx, &s->sys_mask, sys_key, "system", err, errlen) != 0 ||
        build(s, s->n_services, &s->svc_idx, &s->svc_mask, svc_key, "service", err, errlen) !=
            0 ||
        build(s, s->n_grants, &s->grant_idx, &s->grant_mask, grant_key, "grant", err, errlen) !=
            0)
        return -1;
    return 0;
}

const snap_system *snapshot_system(const snapshot *s, const char *code, size_t len)
{
    uint32_t e = probe(s, s->sys_idx, s->sys_mask, (key2){code, len, NULL, 0}, sys_key, NULL);
    return e ? &s->systems[e - 1] : NULL;
}

const snap_service *snapshot_service(const snapshot *s, const char *code, size_t len)
{
    uint32_t e = probe(s, s->svc_idx, s->svc_mask, (key2){code, len, NULL, 0}, svc_key, NULL);
    return e ? &s->services[e - 1] : NULL;
}

const snap_grant *snapshot_grant(const snapshot *s, const char *caller, size_t caller_len,
                                 const char *service, size_t service_len)
{
    uint32_t e = probe(s, s->grant_idx, s->grant_mask,
                       (key2){caller, caller_len, service, service_len}, grant_key, NULL);
    return e ? &s->grants[e - 1] : NULL;
}

int snap_system_addr_allowed(const snap_system *sys, const struct sockaddr *addr)
{
    cidr_addr a;
    return cidr_addr_of_sockaddr(addr, &a) == 0 && cidr_list_match(sys->nets, sys->n_nets, &a);
}

snapshot *snapshot_ref(snapshot *s)
{
    holder_obj_ref(&s->hold);
    return s;
}

void snapshot_unref(snapshot *s)
{
    if (s != NULL)
        holder_obj_unref(&s->hold);
}

/* hold is the first member: the snapshot is at the same address. */
static void snapshot_free(holder_obj *o)
{
    snapshot *s = (snapshot *)o;
    for (int i = 0; i < s->n_systems; i++) {
        snap_system *y = &s->systems[i];
        free(y->name);
        if (y->secret != NULL)
            memset(y->secret, 0, y->secret_len);
        free(y->secret);
        hrss_hmac_sm3_key_free(y->hmac);
        hrss_sm2_key_free(y->sm2);
        free(y->nets);
    }
    for (int i = 0; i < s->n_services; i++) {
        free(s->services[i].name);
        for (int j = 0; j < s->services[i].n_upstreams; j++)
            free(s->services[i].upstreams[j]);
    }
    if (s->grants != NULL)
        memset(s->grants, 0, (size_t)s->n_grants * sizeof(*s->grants)); /* SM4 keys */
    free(s->systems);
    free(s->services);
    free(s->grants);
    free(s->sys_idx);
    free(s->svc_idx);
    free(s->grant_idx);
    free(s);
}

void snapshot_holder_init(snapshot_holder *h)
{
    holder_init(h);
}

void snapshot_holder_destroy(snapshot_holder *h)
{
    holder_destroy(h);
}

void snapshot_holder_publish(snapshot_holder *h, snapshot *s)
{
    holder_publish(h, &s->hold);
}

snapshot *snapshot_holder_get(snapshot_holder *h)
{
    return (snapshot *)holder_get(h);
}

uint64_t snapshot_holder_generation(snapshot_holder *h)
{
    return holder_generation(h);
}

const snapshot *snapshot_view_get(snapshot_view *v, snapshot_holder *h)
{
    return (const snapshot *)holder_view_get(v, h);
}

void snapshot_view_release(snapshot_view *v)
{
    holder_view_release(v);
}
