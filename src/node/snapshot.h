/*
 * node/snapshot.h - the registry as the transaction path sees it: an
 * immutable, refcounted, in-memory snapshot of systems, services and
 * grants with hash lookups, built from the database by registry.c and
 * published through a holder that swaps it atomically, so that the hot
 * path takes no lock on it (docs/design.md, decision 14).
 *
 * Publishing (rare, any thread): snapshot_holder_publish takes the lock
 * for a pointer swap. Reading (every request): each worker keeps a
 * snapshot_view, a cached reference plus the generation it was taken at;
 * snapshot_view_get compares that generation with the holder's (one atomic
 * load) and only on a change takes the lock briefly to exchange references.
 * A snapshot is freed when the last view or holder lets go of it.
 */
#ifndef HRSS_NODE_SNAPSHOT_H
#define HRSS_NODE_SNAPSHOT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/cidr.h"
#include "common/holder.h"
#include "hrss/hrss.h"

#define SNAP_MAX_UPSTREAMS 8

typedef struct snap_system {
    char code[HRSS_SYSTEM_CODE_LEN + 1];
    char *name;
    char level;                     /* 'B' or 'S' */
    char area[HRSS_AREA_CODE_LEN + 1];
    int active;                     /* 0 when frozen */
    hrss_sig_profile sig;           /* the caller's signature profile */
    unsigned char *secret;          /* hmac-sm3 */
    size_t secret_len;
    hrss_hmac_sm3_key *hmac;        /* hmac-sm3: secret prepared for verifying */
    hrss_sm2_key *sm2;              /* sm2: public key (verify, seal responses) */
    cidr *nets;                     /* allowed source addresses */
    int n_nets;
} snap_system;

typedef struct snap_service {
    char code[HRSS_INTERFACE_CODE_LEN + 1];
    char provider[HRSS_SYSTEM_CODE_LEN + 1];
    char *name;
    char *upstreams[SNAP_MAX_UPSTREAMS];
    int n_upstreams;
    int timeout_ms;
    int retries; /* extra attempts, only when nothing reached the provider */
    int pipeline; /* calls that may go out together on one connection (upstream_call's batch) */
} snap_service;

typedef struct snap_grant {
    char caller[HRSS_SYSTEM_CODE_LEN + 1];
    char service[HRSS_INTERFACE_CODE_LEN + 1];
    int64_t expires; /* epoch seconds; 0 = never */
    int revoked;
    hrss_body_cipher cipher;
    hrss_text_encoding encoding;
    unsigned char sm4[HRSS_SM4_KEY_LEN]; /* SM4 profiles */
} snap_grant;

typedef struct snapshot {
    holder_obj hold;     /* references; hold.generation set by snapshot_holder_publish */
    int64_t version;     /* the database's registry version (changes per import) */
    snap_system *systems;
    int n_systems;
    snap_service *services;
    int n_services;
    snap_grant *grants;
    int n_grants;
    /* open-addressing indexes: slot = array index + 1, 0 = empty */
    uint32_t *sys_idx, *svc_idx, *grant_idx;
    uint32_t sys_mask, svc_mask, grant_mask;
} snapshot;

/* A new empty snapshot with one reference; the arrays are allocated by the
 * builder (registry.c) with calloc/malloc and owned by the snapshot.
 * Aborts when out of memory. */
snapshot *snapshot_new(void);

/* Builds the hash indexes once the arrays are filled. Returns 0, or -1
 * with err naming a duplicate code (a corrupted database). */
int snapshot_index(snapshot *s, char *err, size_t errlen);

snapshot *snapshot_ref(snapshot *s);
/* Drops a reference; frees on the last one. NULL is a no-op. */
void snapshot_unref(snapshot *s);

/* Lookups: borrowed pointers valid while the caller holds a reference;
 * NULL when absent. Lengths allow non-NUL-terminated codes. */
const snap_system *snapshot_system(const snapshot *s, const char *code, size_t len);
const snap_service *snapshot_service(const snapshot *s, const char *code, size_t len);
const snap_grant *snapshot_grant(const snapshot *s, const char *caller, size_t caller_len,
                                 const char *service, size_t service_len);

/* 1 when addr (AF_INET or AF_INET6; IPv4-mapped IPv6 counts as IPv4) is in
 * one of the system's allowed networks. */
int snap_system_addr_allowed(const snap_system *sys, const struct sockaddr *addr);

/* The registry's holder and the workers' views (common/holder.h). */
typedef holder snapshot_holder;

void snapshot_holder_init(snapshot_holder *h);
/* Drops the current snapshot (views must have been released first). */
void snapshot_holder_destroy(snapshot_holder *h);
/* Takes over the caller's reference to s, gives it the next generation and
 * makes it current; the previous one is unreferenced. Any thread. */
void snapshot_holder_publish(snapshot_holder *h, snapshot *s);
/* A new reference to the current snapshot (NULL before the first publish);
 * takes the lock briefly. Release with snapshot_unref. */
snapshot *snapshot_holder_get(snapshot_holder *h);
uint64_t snapshot_holder_generation(snapshot_holder *h);

/* A thread's cached reference. Zero-initialise it; one thread only. */
typedef holder_view snapshot_view;

/* The current snapshot, refreshed if the holder moved on; NULL before the
 * first publish. Valid until the next call on this view or its release. */
const snapshot *snapshot_view_get(snapshot_view *v, snapshot_holder *h);
void snapshot_view_release(snapshot_view *v);

#endif
