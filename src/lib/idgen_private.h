/*
 * lib/idgen_private.h - test hooks of idgen.c: the generator with the clock
 * passed in, so that tests can cross midnight or turn the clock back.
 */
#ifndef HRSS_LIB_IDGEN_PRIVATE_H
#define HRSS_LIB_IDGEN_PRIVATE_H

#include <stdint.h>

#include "internal.h"

/* hrss_idgen_next as if the time were epoch (seconds since 1970, UTC). */
int hrss__idgen_next_at(hrss_idgen *g, int64_t epoch, char out[HRSS_ID_LEN + 1], hrss_error *err);

/* The state file's record: "YYYYMMDD NNNNNNNNNN\n", the date last used and
 * the first sequence of that date not yet reserved (1 .. 1000000000). */
#define HRSS__IDGEN_RECORD_LEN 20

#endif
