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

/* ---- the one-pass scanner of hrss_envelope_parse_relay (envelope_scan.c) ---- */

#define HRSS__HEADER_FIELDS_MAX 32

enum { HRSS__SCAN_ACCEPT = 0, HRSS__SCAN_REJECT = 1, HRSS__SCAN_DEFER = 2 };

/* A header member as found in the input: the raw text between the quotes. */
typedef struct hrss__scan_field {
    const char *key, *val;
    size_t key_len, val_len;
    int key_escaped, val_escaped; /* holds a backslash: decode before use */
} hrss__scan_field;

typedef struct hrss__scan {
    int has_body;
    size_t n_fields;
    hrss__scan_field fields[HRSS__HEADER_FIELDS_MAX];
} hrss__scan;

/*
 * Checks buf in one pass against the JSON rules of hrss__json_load_strict
 * and the envelope's shape and size rules (not the header field rules of
 * tables 1 and 2: the caller applies those to the decoded fields).
 * HRSS__SCAN_ACCEPT: all hold, out has the header members in order;
 * HRSS__SCAN_REJECT: one does not; HRSS__SCAN_DEFER: not settled here.
 * Only an acceptance may be relied on: the full parser decides the rest.
 */
int hrss__envelope_scan(const char *buf, size_t len, hrss__scan *out);

/* Decodes the text of a string the scanner accepted into out (room for len
 * bytes: decoding never grows it). Returns the decoded length. */
size_t hrss__json_unescape(const char *text, size_t len, char *out);

/*
 * The fast path of hrss_envelope_parse_relay: scan, decode the header and
 * check its fields. HRSS__SCAN_ACCEPT with *out set (an envelope whose
 * header is kept flat and whose body is not kept), or REJECT / DEFER with
 * *out NULL (the full parser has the verdict). For fuzz/fuzz_envelope_scan.c.
 */
int hrss__envelope_parse_fast(const char *buf, size_t len, hrss_envelope_kind kind,
                              hrss_envelope **out);

/* The header fields of an envelope made by the fast path, in input order, or
 * 0 (and *fields NULL) for an envelope that holds its header as an object. */
typedef struct hrss__field {
    const char *key, *val; /* NUL-terminated */
    size_t key_len, val_len;
} hrss__field;
size_t hrss__envelope_flat(const hrss_envelope *e, const hrss__field **fields);

/* Compact JSON text of v, UTF-8 as is, members in insertion order, as a
 * malloc'd NUL-terminated buffer (free with free()). HRSS_ENOMEM, or
 * HRSS_EFORMAT for a tree jansson cannot dump (invalid UTF-8 put in with a
 * _nocheck call). */
int hrss__json_dump_compact(const json_t *v, char **out, size_t *outlen);

#endif
