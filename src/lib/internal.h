/*
 * lib/internal.h - what the parts of libhrss share and the outside world
 * does not see: error filling, and the hrss__ functions that unit tests and
 * fuzz targets reach (the static library exports them; the shared one
 * hides everything without HRSS_API).
 */
#ifndef HRSS_LIB_INTERNAL_H
#define HRSS_LIB_INTERNAL_H

#include "hrss/hrss.h"

#if defined(__GNUC__)
#define HRSS__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define HRSS__PRINTF(a, b)
#endif

/* Fills err (when not NULL) with code and a formatted message; returns code
 * so that callers can write "return hrss__error(err, HRSS_EFORMAT, ...)". */
int hrss__error(hrss_error *err, int code, const char *fmt, ...) HRSS__PRINTF(3, 4);

/* Fills err with "what (OpenSSL: reason)" from OpenSSL's error queue, empties
 * the queue (so one failure never shows up in a later call), returns code.
 * Defined in crypto.c. */
int hrss__ossl_error(hrss_error *err, int code, const char *what);

/* Prefixes err->msg with "field: " (for validators reused under a field). */
void hrss__error_prefix(hrss_error *err, const char *field);

/* The default state directory of the SDK's id generators: $HRSS_STATE_DIR,
 * else $XDG_STATE_HOME/hrss, else $HOME/.local/state/hrss. 0, or -1 when
 * none is set or it does not fit in n bytes. */
int hrss__default_state_dir(char *out, size_t n);

#endif
