/*
 * lib/replay_private.h - what the unit tests of replay.c reach besides the
 * public API: the keyed hash of the in-process backend and its counters.
 * Not part of the SDK (the static library exports these, the shared one
 * hides them).
 */
#ifndef HRSS_LIB_REPLAY_PRIVATE_H
#define HRSS_LIB_REPLAY_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "hrss/replay.h"

/* SipHash-2-4 of data under the 128-bit key (k0, k1), little-endian words. */
uint64_t hrss__siphash24(const void *data, size_t len, uint64_t k0, uint64_t k1);

/* For an in-process store: *live = the counter that bounds it, *held = the
 * entries its shards actually hold (counted under their locks). Either
 * pointer may be NULL. HRSS_EINVAL when r is another backend. Any thread. */
int hrss__replay_memory_counts(hrss_replay *r, size_t *live, size_t *held);

#endif
