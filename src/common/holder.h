/*
 * common/holder.h - the refcounted, immutable snapshot behind a daemon's
 * lookups (hrss-node's registry, hrss-sms's accounts): loaded whole on the
 * main thread, published in one step, read by every worker without a lock
 * on the hot path, freed when its last reader lets go (memcached's items,
 * RCU without the grace periods).
 *
 * A snapshot type embeds holder_obj as its first member and names its
 * destructor there. A worker keeps a holder_view: a cached reference and
 * the generation it was taken at; holder_view_get compares that generation
 * with the holder's (one atomic load) and takes the lock only when a newer
 * snapshot was published.
 */
#ifndef HRSS_COMMON_HOLDER_H
#define HRSS_COMMON_HOLDER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

typedef struct holder_obj {
    atomic_int refs;     /* 1 when new: the creator's reference */
    uint64_t generation; /* set by holder_publish: 1, 2, ... */
    void (*free_fn)(struct holder_obj *o); /* called when the last reference goes */
} holder_obj;

typedef struct holder {
    pthread_mutex_t mu;
    holder_obj *cur;     /* the holder's reference; NULL before the first publish */
    _Atomic uint64_t generation;
} holder;

/* Starts o with one reference (the caller's), freed by free_fn. */
void holder_obj_init(holder_obj *o, void (*free_fn)(holder_obj *o));
/* Adds a reference; returns o. */
holder_obj *holder_obj_ref(holder_obj *o);
/* Drops a reference, freeing o with the last; NULL is a no-op. */
void holder_obj_unref(holder_obj *o);

void holder_init(holder *h);
/* Drops the current object (views must have been released first). */
void holder_destroy(holder *h);
/* Takes over the caller's reference to o, gives it the next generation and
 * makes it current; the previous one is unreferenced. Any thread. */
void holder_publish(holder *h, holder_obj *o);
/* A new reference to the current object (NULL before the first publish);
 * takes the lock briefly. Release with holder_obj_unref. */
holder_obj *holder_get(holder *h);
uint64_t holder_generation(holder *h);

/* A thread's cached reference. Zero-initialise it; one thread only. */
typedef struct holder_view {
    holder_obj *o;
    uint64_t generation;
} holder_view;

/* The current object, refreshed if the holder moved on; NULL before the
 * first publish. Valid until the next call on this view or its release. */
holder_obj *holder_view_get(holder_view *v, holder *h);
void holder_view_release(holder_view *v);

#endif
