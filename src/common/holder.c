/*
 * common/holder.c - the refcounted snapshot holder (holder.h).
 */
#include "common/holder.h"

#include <stddef.h>

void holder_obj_init(holder_obj *o, void (*free_fn)(holder_obj *o))
{
    atomic_init(&o->refs, 1);
    o->generation = 0;
    o->free_fn = free_fn;
}

holder_obj *holder_obj_ref(holder_obj *o)
{
    atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
    return o;
}

void holder_obj_unref(holder_obj *o)
{
    if (o == NULL || atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel) != 1)
        return;
    o->free_fn(o);
}

void holder_init(holder *h)
{
    pthread_mutex_init(&h->mu, NULL);
    h->cur = NULL;
    atomic_init(&h->generation, 0);
}

void holder_destroy(holder *h)
{
    holder_obj_unref(h->cur);
    h->cur = NULL;
    pthread_mutex_destroy(&h->mu);
}

void holder_publish(holder *h, holder_obj *o)
{
    pthread_mutex_lock(&h->mu);
    holder_obj *old = h->cur;
    o->generation = atomic_load_explicit(&h->generation, memory_order_relaxed) + 1;
    h->cur = o;
    /* release: a reader that sees the new generation finds the new pointer */
    atomic_store_explicit(&h->generation, o->generation, memory_order_release);
    pthread_mutex_unlock(&h->mu);
    holder_obj_unref(old);
}

holder_obj *holder_get(holder *h)
{
    pthread_mutex_lock(&h->mu);
    holder_obj *o = h->cur ? holder_obj_ref(h->cur) : NULL;
    pthread_mutex_unlock(&h->mu);
    return o;
}

uint64_t holder_generation(holder *h)
{
    return atomic_load_explicit(&h->generation, memory_order_acquire);
}

holder_obj *holder_view_get(holder_view *v, holder *h)
{
    if (atomic_load_explicit(&h->generation, memory_order_acquire) != v->generation) {
        holder_obj *o = holder_get(h);
        holder_obj_unref(v->o);
        v->o = o;
        v->generation = o ? o->generation : 0;
    }
    return v->o;
}

void holder_view_release(holder_view *v)
{
    holder_obj_unref(v->o);
    v->o = NULL;
    v->generation = 0;
}
