/*
 * lib/envelope_scan.c - the fast path of hrss_envelope_parse_relay: one
 * pass over the request bytes, without building a JSON tree, that checks
 * the JSON rules of hrss__json_load_strict (UTF-8, escapes, no U+0000,
 * no duplicate keys, numbers jansson can hold, nesting depth, nothing after
 * the value) and the shape and size rules of envelope.c (an object of
 * header and body only; a header object of at most 32 string members; a
 * body that is an object or a string within HRSS_BODY_MAX_CHARS, counted
 * as jansson's compact serialisation counts it). The header members are
 * returned as spans of the input; envelope.c decodes them and applies the
 * field rules of tables 1 and 2.
 *
 * Why three outcomes: the scanner only has to be right when it accepts.
 * Whatever it refuses (HRSS__SCAN_REJECT) or leaves to the full parser
 * (HRSS__SCAN_DEFER: a case it does not settle itself, such as two keys of
 * one object with the same hash, an object of many members or a number it
 * cannot read in this locale) goes through hrss_envelope_parse, which gives
 * the verdict and the exact message (so does input holding a NUL byte: see
 * hrss__envelope_scan). fuzz/fuzz_envelope_scan.c holds the
 * scanner to jansson: ACCEPT only where the full parser accepts with the
 * same header, REJECT only where it refuses.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope_private.h"

#define OBJ_KEYS_MAX 64 /* members of one body object checked here; more: DEFER */
#define NUM_TEXT_MAX 128 /* a real number's text read here; longer: DEFER */

typedef struct scanner {
    const unsigned char *p, *end;
} scanner;

/* Compact characters jansson's dump gives a code point inside a string. */
static size_t dump_chars(uint32_t cp)
{
    if (cp == '"' || cp == '\\')
        return 2;
    if (cp < 0x20)
        return cp == '\b' || cp == '\f' || cp == '\n' || cp == '\r' || cp == '\t' ? 2 : 6;
    return 1;
}

static void skip_ws(scanner *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static int hex4(const unsigned char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* One UTF-8 sequence at p (first byte >= 0x80) as jansson accepts it: no
 * overlong form, no surrogate, nothing above U+10FFFF. Its length, or 0. */
static size_t utf8_at(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
    unsigned c = p[0];
    size_t n;
    uint32_t v;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
        (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

/* What a string told the scanner. */
typedef struct str_info {
    const char *text; /* between the quotes, raw */
    size_t len;
    int escaped;     /* holds a backslash */
    size_t chars;    /* code points once decoded */
    size_t dumped;   /* characters of jansson's compact dump, quotes included */
    uint32_t hash;   /* FNV-1a of the decoded bytes (when asked) */
} str_info;

static uint32_t fnv_bytes(uint32_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Writes cp as UTF-8 into b (4 bytes of room); returns the bytes written. */
static size_t utf8_put(uint32_t cp, unsigned char *b)
{
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = (unsigned char)(0xF0 | (cp >> 18));
    b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static uint32_t fnv_cp(uint32_t h, uint32_t cp)
{
    unsigned char b[4];
    return fnv_bytes(h, b, utf8_put(cp, b));
}

/* The escape at p (p[0] is the backslash) decoded into *cp. Returns its
 * length in bytes (2, 6, or 12 for a surrogate pair), or 0 when it is not
 * valid JSON, is a lone surrogate or encodes U+0000. The scanner and the
 * decoder of scanned text both read escapes here. */
static size_t escape_decode(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
    uint32_t hi, lo;
    if (end - p < 2)
        return 0;
    switch (p[1]) {
    case '"':
    case '\\':
    case '/':
        *cp = p[1];
        return 2;
    case 'b':
        *cp = '\b';
        return 2;
    case 'f':
        *cp = '\f';
        return 2;
    case 'n':
        *cp = '\n';
        return 2;
    case 'r':
        *cp = '\r';
        return 2;
    case 't':
        *cp = '\t';
        return 2;
    case 'u':
        if (end - p < 6 || hex4(p + 2, &hi) != 0 || hi == 0)
            return 0;
        if (hi >= 0xDC00 && hi <= 0xDFFF)
            return 0; /* a low surrogate alone */
        if (hi < 0xD800 || hi > 0xDBFF) {
            *cp = hi;
            return 6;
        }
        if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || hex4(p + 8, &lo) != 0 || lo < 0xDC00 ||
            lo > 0xDFFF)
            return 0;
        *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
        return 12;
    default:
        return 0;
    }
}

/* A string at s->p (the opening quote). */
static int scan_string(scanner *s, str_info *si, int want_hash)
{
    const unsigned char *p = s->p + 1, *end = s->end;
    uint32_t h = 2166136261u;
    size_t chars = 0, dumped = 2;

    si->text = (const char *)p;
    si->escaped = 0;
    for (;;) {
        if (p >= end)
            return HRSS__SCAN_REJECT;
        unsigned c = *p;
        uint32_t cp;
        if (c == '"')
            break;
        if (c == '\\') {
            si->escaped = 1;
            size_t n = escape_decode(p, end, &cp);
            if (n == 0)
                return HRSS__SCAN_REJECT;
            p += n;
            if (want_hash)
                h = fnv_cp(h, cp);
        } else if (c < 0x20) {
            return HRSS__SCAN_REJECT; /* a raw control character */
        } else if (c < 0x80) {
            cp = c;
            p++;
            if (want_hash)
                h = (h ^ c) * 16777619u;
        } else {
            size_t n = utf8_at(p, end, &cp);
            if (n == 0)
                return HRSS__SCAN_REJECT;
            if (want_hash)
                h = fnv_bytes(h, p, n);
            p += n;
        }
        chars++;
        dumped += dump_chars(cp);
    }
    si->len = (size_t)((const char *)p - si->text);
    si->chars = chars;
    si->dumped = dumped;
    si->hash = h;
    s->p = p + 1;
    return HRSS__SCAN_ACCEPT;
}

/* The length of jansson's compact dump of the real d (jsonp_dtostr):
 * "%.17g", ".0" appended when there is neither '.' nor 'e', and the
 * exponent without '+' and leading zeros. */
static size_t real_dump_len(double d)
{
    char buf[64];
    int n = snprintf(buf, sizeof(buf), "%.17g", d);
    size_t len = n > 0 ? (size_t)n : 0;
    if (strchr(buf, '.') == NULL && strchr(buf, ',') == NULL && strchr(buf, 'e') == NULL)
        len += 2;
    char *e = strchr(buf, 'e');
    if (e != NULL) {
        char *start = e + 1, *q = e + 2;
        if (*start == '-')
            start++;
        while (*q == '0')
            q++;
        len -= (size_t)(q - start);
    }
    return len;
}

/* A number at s->p; adds jansson's compact length to *dumped. */
static int scan_number(scanner *s, size_t *dumped)
{
    const unsigned char *p = s->p, *end = s->end, *start = p, *digits;
    int neg = 0, real = 0;

    if (*p == '-') {
        neg = 1;
        p++;
    }
    digits = p;
    if (p >= end || *p < '0' || *p > '9')
        return HRSS__SCAN_REJECT;
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return HRSS__SCAN_REJECT;
    } else {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    size_t ndig = (size_t)(p - digits);
    if (p < end && *p == '.') {
        real = 1;
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return HRSS__SCAN_REJECT;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        real = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return HRSS__SCAN_REJECT;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    s->p = p;
    if (!real) {
        /* jansson holds integers in 64 bits and refuses the others */
        static const char max[] = "9223372036854775807", min[] = "9223372036854775808";
        if (ndig > 19 || (ndig == 19 && memcmp(digits, neg ? min : max, 19) > 0))
            return HRSS__SCAN_REJECT;
        if (ndig == 1 && digits[0] == '0')
            *dumped += 1; /* -0 is dumped as 0 */
        else
            *dumped += ndig + (size_t)neg;
        return HRSS__SCAN_ACCEPT;
    }
    char text[NUM_TEXT_MAX];
    size_t n = (size_t)(p - start);
    if (n >= sizeof(text))
        return HRSS__SCAN_DEFER;
    memcpy(text, start, n);
    text[n] = '\0';
    char *stop;
    errno = 0;
    double d = strtod(text, &stop);
    if (stop != text + n)
        return HRSS__SCAN_DEFER; /* a locale whose decimal point is not '.' */
    if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)
        return HRSS__SCAN_REJECT; /* jansson: real number overflow */
    *dumped += real_dump_len(d);
    return HRSS__SCAN_ACCEPT;
}

/* A literal (true, false, null) at s->p. */
static int scan_literal(scanner *s, size_t *dumped)
{
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(s->end - s->p) >= n && memcmp(s->p, words[i], n) == 0) {
            s->p += n;
            *dumped += n;
            return HRSS__SCAN_ACCEPT;
        }
    }
    return HRSS__SCAN_REJECT;
}

static int scan_value(scanner *s, size_t depth, size_t *dumped);

/* container_next: a ',' was read, another member follows. */
#define NEXT_MEMBER (-1)

/* After a key: the blanks, the ':' and the blanks after it. 0, or -1 when
 * there is no ':'. */
static int member_colon(scanner *s)
{
    skip_ws(s);
    if (s->p >= s->end || *s->p != ':')
        return -1;
    s->p++;
    skip_ws(s);
    return 0;
}

/* After a member of a container closed by `close`: at `close`, consumes it
 * (HRSS__SCAN_ACCEPT); at a ',', consumes it and the blanks after it
 * (NEXT_MEMBER); anything else is HRSS__SCAN_REJECT. */
static int container_next(scanner *s, unsigned char close)
{
    skip_ws(s);
    if (s->p >= s->end)
        return HRSS__SCAN_REJECT;
    if (*s->p == close) {
        s->p++;
        return HRSS__SCAN_ACCEPT;
    }
    if (*s->p != ',')
        return HRSS__SCAN_REJECT;
    s->p++;
    skip_ws(s);
    return NEXT_MEMBER;
}

/* An object at s->p, at nesting level depth (the envelope is 1). */
static int scan_object(scanner *s, size_t depth, size_t *dumped)
{
    uint32_t hashes[OBJ_KEYS_MAX];
    size_t n = 0;
    int rc;

    if (depth > HRSS_JSON_MAX_DEPTH)
        return HRSS__SCAN_REJECT;
    s->p++;
    *dumped += 2;
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return HRSS__SCAN_ACCEPT;
    }
    for (;;) {
        str_info k;
        if (s->p >= s->end || *s->p != '"')
            return HRSS__SCAN_REJECT;
        if ((rc = scan_string(s, &k, 1)) != HRSS__SCAN_ACCEPT)
            return rc;
        if (n == OBJ_KEYS_MAX)
            return HRSS__SCAN_DEFER;
        for (size_t i = 0; i < n; i++)
            if (hashes[i] == k.hash)
                return HRSS__SCAN_DEFER; /* a duplicate, or two keys of one hash */
        hashes[n++] = k.hash;
        *dumped += k.dumped + 1 + (n > 1 ? 1 : 0); /* key, ':' and ',' */
        if (member_colon(s) != 0)
            return HRSS__SCAN_REJECT;
        if ((rc = scan_value(s, depth, dumped)) != HRSS__SCAN_ACCEPT)
            return rc;
        if ((rc = container_next(s, '}')) != NEXT_MEMBER)
            return rc;
    }
}

static int scan_array(scanner *s, size_t depth, size_t *dumped)
{
    size_t n = 0;
    int rc;

    if (depth > HRSS_JSON_MAX_DEPTH)
        return HRSS__SCAN_REJECT;
    s->p++;
    *dumped += 2;
    skip_ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return HRSS__SCAN_ACCEPT;
    }
    for (;;) {
        if (n++ > 0)
            *dumped += 1;
        if ((rc = scan_value(s, depth, dumped)) != HRSS__SCAN_ACCEPT)
            return rc;
        if ((rc = container_next(s, ']')) != NEXT_MEMBER)
            return rc;
    }
}

/* Any value at s->p inside a container of level depth. */
static int scan_value(scanner *s, size_t depth, size_t *dumped)
{
    if (s->p >= s->end)
        return HRSS__SCAN_REJECT;
    switch (*s->p) {
    case '{':
        return scan_object(s, depth + 1, dumped);
    case '[':
        return scan_array(s, depth + 1, dumped);
    case '"': {
        str_info si;
        int rc = scan_string(s, &si, 0);
        if (rc == HRSS__SCAN_ACCEPT)
            *dumped += si.dumped;
        return rc;
    }
    case 't':
    case 'f':
    case 'n':
        return scan_literal(s, dumped);
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
            return scan_number(s, dumped);
        return HRSS__SCAN_REJECT;
    }
}

/* The header object at s->p: string members only, at most 32. */
static int scan_header(scanner *s, hrss__scan *out)
{
    uint32_t hashes[HRSS__HEADER_FIELDS_MAX];
    int rc;
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return HRSS__SCAN_ACCEPT;
    }
    for (;;) {
        str_info k, v;
        if (s->p >= s->end || *s->p != '"')
            return HRSS__SCAN_REJECT;
        if ((rc = scan_string(s, &k, 1)) != HRSS__SCAN_ACCEPT)
            return rc;
        if (member_colon(s) != 0)
            return HRSS__SCAN_REJECT;
        if (s->p >= s->end || *s->p != '"')
            return HRSS__SCAN_REJECT; /* not a string (or not JSON) */
        if ((rc = scan_string(s, &v, 0)) != HRSS__SCAN_ACCEPT)
            return rc;
        if (out->n_fields == HRSS__HEADER_FIELDS_MAX)
            return HRSS__SCAN_REJECT; /* more fields than a header may have */
        for (size_t i = 0; i < out->n_fields; i++) {
            const hrss__scan_field *f = &out->fields[i];
            if (hashes[i] != k.hash)
                continue;
            if (!f->key_escaped && !k.escaped && f->key_len == k.len &&
                memcmp(f->key, k.text, k.len) == 0)
                return HRSS__SCAN_REJECT; /* a duplicate key */
            return HRSS__SCAN_DEFER;      /* the same key escaped, or two keys of one hash */
        }
        hashes[out->n_fields] = k.hash;
        hrss__scan_field *f = &out->fields[out->n_fields++];
        f->key = k.text;
        f->key_len = k.len;
        f->key_escaped = k.escaped;
        f->val = v.text;
        f->val_len = v.len;
        f->val_escaped = v.escaped;
        if ((rc = container_next(s, '}')) != NEXT_MEMBER)
            return rc;
    }
}

int hrss__envelope_scan(const char *buf, size_t len, hrss__scan *out)
{
    scanner s = {(const unsigned char *)buf, (const unsigned char *)buf + len};
    int seen_header = 0, rc;

    memset(out, 0, offsetof(hrss__scan, fields));
    if (buf == NULL || len > HRSS_ENVELOPE_MAX_BYTES)
        return HRSS__SCAN_REJECT;
    /* A NUL byte is never JSON: left to the full parser, which refuses it
     * with its position. */
    if (memchr(buf, '\0', len) != NULL)
        return HRSS__SCAN_DEFER;
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return HRSS__SCAN_REJECT;
    s.p++;
    skip_ws(&s);
    if (s.p < s.end && *s.p == '}')
        return HRSS__SCAN_REJECT; /* no header */
    for (;;) {
        str_info k;
        if (s.p >= s.end || *s.p != '"')
            return HRSS__SCAN_REJECT;
        if ((rc = scan_string(&s, &k, 0)) != HRSS__SCAN_ACCEPT)
            return rc;
        if (k.escaped)
            return HRSS__SCAN_DEFER;
        if (member_colon(&s) != 0 || s.p >= s.end)
            return HRSS__SCAN_REJECT;
        if (k.len == 6 && memcmp(k.text, "header", 6) == 0) {
            if (seen_header || *s.p != '{')
                return HRSS__SCAN_REJECT;
            seen_header = 1;
            if ((rc = scan_header(&s, out)) != HRSS__SCAN_ACCEPT)
                return rc;
        } else if (k.len == 4 && memcmp(k.text, "body", 4) == 0) {
            if (out->has_body)
                return HRSS__SCAN_REJECT;
            out->has_body = 1;
            if (*s.p == '"') {
                str_info b;
                if ((rc = scan_string(&s, &b, 0)) != HRSS__SCAN_ACCEPT)
                    return rc;
                if (b.chars > HRSS_BODY_MAX_CHARS)
                    return HRSS__SCAN_REJECT;
            } else if (*s.p == '{') {
                size_t dumped = 0;
                if ((rc = scan_object(&s, 2, &dumped)) != HRSS__SCAN_ACCEPT)
                    return rc;
                if (dumped > HRSS_BODY_MAX_CHARS)
                    return HRSS__SCAN_REJECT;
            } else {
                return HRSS__SCAN_REJECT; /* neither an object nor a string */
            }
        } else {
            return HRSS__SCAN_REJECT; /* an unknown member */
        }
        if ((rc = container_next(&s, '}')) == HRSS__SCAN_ACCEPT)
            break;
        if (rc != NEXT_MEMBER)
            return rc;
    }
    skip_ws(&s);
    if (s.p != s.end || !seen_header)
        return HRSS__SCAN_REJECT;
    return HRSS__SCAN_ACCEPT;
}

size_t hrss__json_unescape(const char *text, size_t len, char *out)
{
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    unsigned char *o = (unsigned char *)out;
    while (p < end) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        uint32_t cp = 0;
        size_t n = escape_decode(p, end, &cp);
        p += n ? n : 2; /* scanned text holds valid escapes only */
        o += utf8_put(cp, o);
    }
    return (size_t)(o - (unsigned char *)out);
}
