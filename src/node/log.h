/*
 * node/log.h - structured logs of hrss-node: one line per event on stderr,
 * `ts=... level=... event=... key=value...`, written with one write(2) so
 * that lines of different threads never interleave. Callers never pass
 * bodies, keys or secrets; log_quote makes an untrusted value safe to put
 * in a line.
 *
 * Safe from any thread. The level is a global that SIGHUP may change.
 */
#ifndef HRSS_NODE_LOG_H
#define HRSS_NODE_LOG_H

#include <stddef.h>

#include "config.h"

#if defined(__GNUC__)
#define NODE_LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define NODE_LOG_PRINTF(a, b)
#endif

void log_set_level(node_log_level l);
int log_enabled(node_log_level l);

/* Writes "ts=<UTC ISO 8601 ms> level=<l> event=<event> <fmt...>\n" when l is
 * enabled; fmt holds the key=value pairs (may be NULL for none). */
void log_event(node_log_level l, const char *event, const char *fmt, ...) NODE_LOG_PRINTF(3, 4);

/* Copies s into out as a log value: bare when it holds only safe
 * characters, else double-quoted with \" \\ and \xNN escapes; cut at outlen
 * (always NUL-terminated). Returns out. */
const char *log_quote(const char *s, char *out, size_t outlen);

#endif
