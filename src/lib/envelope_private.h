/*
 * lib/envelope_private.h - internals shared by codes.c, envelope.c and
 * body.c (and reached by their unit tests): safe quoting of untrusted text
 * in messages, CST calendar arithmetic, and the strict JSON loader that
 * both the envelope parser and the body opener use. Not part of the SDK.
 */
#ifndef HRSS_LIB_ENVELOPE_PRIVATE_H
#define HRSS_LIB_ENVELOPE_PRIVATE_H

#include <stdint.h>

#include <jansson.h>

#include "internal.h"

/*
 * Copies untrusted text into out (always NUL-terminated) so that it can be
 * quoted in a one-line message: valid UTF-8 characters other than controls
 * are kept, every other byte becomes '?', and text longer than max_chars
 * characters is cut and ends with "...". Returns out.
 */
char *hrss__show(char *out, size_t outsz, const char *s, size_t len, size_t max_chars);

/* HRSS_OK when s[0..8) is a real date YYYYMMDD of years 0001-9999 (8 digits
 * already checked), else HRSS_EFORMAT "20170230 is not a calendar date". */
int hrss__date_check(const char *s, hrss_error *err);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t hrss__days_from_civil(int64_t y, unsigned m, unsigned d);
void hrss__civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* The CST calendar date (yyyymmdd as a number, e.g. 20240229) of an epoch
 * second, clamped to years 1..9999 like hrss_time_format. */
uint32_t hrss__cst_date(int64_t epoch);

/*
 * Loads buf strictly: UTF-8, no duplicate keys at any depth, no "\u0000",
 * nothing after the value, and a nesting depth that keeps the whole
 * envelope within HRSS_JSON_MAX_DEPTH when the text sits base_depth levels
 * down (0 for an envelope, 1 for a body). The depth is checked by a scan
 * before jansson runs, so deep input never reaches jansson's recursion. Any
 * JSON value is accepted at the top; the caller checks its type.
 *
 * On failure returns HRSS_EDUPKEY, HRSS_EUTF8, HRSS_ETOOBIG (depth),
 * HRSS_ENOMEM, or HRSS_EFORMAT (anything else jansson refuses); writes into
 * field the path of the member where it happened, after prefix (e.g.
 * "header.appCode" for a duplicate key; prefix alone when there is no
 * better place) and into msg the rule ("duplicate key (line 3, column
 * 14)"). *out is a new reference on success.
 */
int hrss__json_load_strict(const char *buf, size_t len, size_t base_depth, const char *prefix,
                           json_t **out, char *field, size_t fieldsz, char *msg, size_t msgsz);

/* Depth of a built JSON value (a scalar is 0, {} or [] is 1), counting no
 * further than limit + 1 so that a cyclic or huge tree costs little. */
size_t hrss__json_depth(const json_t *v, size_t limit);

/* "object", "array", "string", "number", "boolean" or "null". */
const char *hrss__json_type_name(const json_t *v);

/* Compact JSON text of v, UTF-8 as is, members in insertion order, as a
 * malloc'd NUL-terminated buffer (free with free()). HRSS_ENOMEM, or
 * HRSS_EFORMAT for a tree jansson cannot dump (invalid UTF-8 put in with a
 * _nocheck call). */
int hrss__json_dump_compact(const json_t *v, char **out, size_t *outlen);

#endif
