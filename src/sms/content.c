/*
 * sms/content.c - content rules (content.h): GSM 03.38 detection, length
 * and parts, segmentation with the 8-bit-reference UDH, mobile numbers and
 * the number-segment table. The GSM 03.38 tables follow 3GPP TS 23.038
 * 6.2.1 (default alphabet) and 6.2.1.1 (extension table).
 */
#include "content.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hrss/person.h"
#include "common/xalloc.h"

/* Default alphabet: code point of each septet 0x00..0x7F (0x1B is the
 * escape to the extension table and has no character). */
static const uint16_t gsm_basic[128] = {
    0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x000A,
    0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5, 0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9,
    0x03A0, 0x03A8, 0x03A3, 0x0398, 0x039E, 0xFFFF, 0x00C6, 0x00E6, 0x00DF, 0x00C9, 0x0020,
    0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027, 0x0028, 0x0029, 0x002A, 0x002B,
    0x002C, 0x002D, 0x002E, 0x002F, 0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036,
    0x0037, 0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F, 0x00A1, 0x0041,
    0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, 0x0048, 0x0049, 0x004A, 0x004B, 0x004C,
    0x004D, 0x004E, 0x004F, 0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
    0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7, 0x00BF, 0x0061, 0x0062,
    0x0063, 0x0064, 0x0065, 0x0066, 0x0067, 0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D,
    0x006E, 0x006F, 0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077, 0x0078,
    0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0};

/* Extension table: septet after the escape, and its code point. */
static const struct {
    uint8_t septet;
    uint16_t cp;
} gsm_ext[] = {{0x0A, 0x000C}, {0x14, 0x005E}, {0x28, 0x007B}, {0x29, 0x007D}, {0x2F, 0x005C},
               {0x3C, 0x005B}, {0x3D, 0x007E}, {0x3E, 0x005D}, {0x40, 0x007C}, {0x65, 0x20AC}};

/* Septet(s) of cp: returns 0 when cp is not in GSM 03.38, else 1 or 2 with
 * s[0] (and s[1]) set. */
static int gsm_encode(uint32_t cp, uint8_t s[2])
{
    for (int i = 0; i < 128; i++)
        if (gsm_basic[i] == cp && i != 0x1B) {
            s[0] = (uint8_t)i;
            return 1;
        }
    for (size_t i = 0; i < sizeof(gsm_ext) / sizeof(gsm_ext[0]); i++)
        if (gsm_ext[i].cp == cp) {
            s[0] = 0x1B;
            s[1] = gsm_ext[i].septet;
            return 2;
        }
    return 0;
}

int sms_gsm_char(uint32_t cp, int *septets)
{
    uint8_t s[2];
    int n = cp <= 0xFFFF ? gsm_encode(cp, s) : 0;
    if (septets != NULL)
        *septets = n;
    return n > 0;
}

/* Decodes one UTF-8 code point at p[0..len); returns its byte length, or 0
 * for an invalid sequence (overlong, surrogate, > U+10FFFF, truncated). */
static size_t utf8_next(const unsigned char *p, size_t len, uint32_t *cp)
{
    if (len == 0)
        return 0;
    unsigned char c = p[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

/* Walks the text once: coding, units, and (when parts != NULL) the parts.
 * Returns -1 for invalid text, -2 for more than SMS_MAX_PARTS parts (m is
 * filled then), else
 * the number of parts. */
static int walk(const char *text, size_t len, uint8_t ref, sms_part *parts, int max_parts,
                sms_measure *m)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0, chars = 0, units = 0;
    int gsm = 1;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_next(p + i, len - i, &cp);
        int sept;
        if (n == 0 || cp == 0)
            return -1;
        if (gsm && !sms_gsm_char(cp, &sept))
            gsm = 0;
        if (gsm)
            units += (size_t)sept;
        chars++;
        i += n;
    }
    if (!gsm) { /* recount in UTF-16 units */
        units = 0;
        for (i = 0; i < len;) {
            uint32_t cp;
            i += utf8_next(p + i, len - i, &cp);
            units += cp > 0xFFFF ? 2 : 1;
        }
    }
    size_t single = gsm ? SMS_GSM_SINGLE : SMS_UCS2_SINGLE;
    size_t per = gsm ? SMS_GSM_PART : SMS_UCS2_PART;
    int nparts;
    if (units <= single) {
        nparts = 1;
    } else {
        /* count by cutting, since an escape or a surrogate pair never splits */
        size_t used = 0;
        nparts = 1;
        for (i = 0; i < len;) {
            uint32_t cp;
            i += utf8_next(p + i, len - i, &cp);
            int u;
            if (gsm)
                sms_gsm_char(cp, &u);
            else
                u = cp > 0xFFFF ? 2 : 1;
            if (used + (size_t)u > per) {
                nparts++;
                used = 0;
            }
            used += (size_t)u;
        }
    }
    if (m != NULL) {
        m->coding = gsm ? SMS_CODING_GSM : SMS_CODING_UCS2;
        m->chars = chars;
        m->units = units;
        m->parts = nparts;
    }
    if (nparts > SMS_MAX_PARTS)
        return -2;
    if (parts == NULL)
        return nparts;

    /* second pass: write the parts */
    int k = 0;
    sms_part *cur = NULL;
    size_t used = 0;
    for (i = 0;;) {
        uint32_t cp = 0;
        size_t n = i < len ? utf8_next(p + i, len - i, &cp) : 0;
        int u = 0;
        uint8_t enc[4];
        if (i < len) {
            if (gsm) {
                u = gsm_encode(cp, enc);
            } else if (cp > 0xFFFF) {
                uint32_t v = cp - 0x10000, hi = 0xD800 + (v >> 10), lo = 0xDC00 + (v & 0x3FF);
                enc[0] = (uint8_t)(hi >> 8), enc[1] = (uint8_t)hi;
                enc[2] = (uint8_t)(lo >> 8), enc[3] = (uint8_t)lo;
                u = 2;
            } else {
                enc[0] = (uint8_t)(cp >> 8), enc[1] = (uint8_t)cp;
                u = 1;
            }
        }
        if (cur == NULL || (i < len && used + (size_t)u > (nparts == 1 ? single : per))) {
            if (k >= max_parts)
                return nparts; /* the caller's array is full */
            cur = &parts[k++];
            cur->len = 0;
            cur->has_udh = nparts > 1;
            used = 0;
            if (cur->has_udh) {
                const uint8_t udh[6] = {0x05, 0x00, 0x03, ref, (uint8_t)nparts, (uint8_t)k};
                memcpy(cur->ud, udh, sizeof(udh));
                cur->len = sizeof(udh);
            }
        }
        if (i >= len)
            break;
        size_t bytes = gsm ? (size_t)u : (size_t)u * 2;
        memcpy(cur->ud + cur->len, enc, bytes);
        cur->len += bytes;
        used += (size_t)u;
        i += n;
    }
    return nparts;
}

int sms_measure_text(const char *text, size_t len, sms_measure *m)
{
    /* more parts than a UDH can number is still a measure (the API refuses it) */
    return walk(text, len, 0, NULL, 0, m) == -1 ? -1 : 0;
}

int sms_split(const char *text, size_t len, uint8_t ref, sms_part *parts, int max_parts)
{
    int n = walk(text, len, ref, parts, max_parts, NULL);
    return n < 0 ? -1 : n;
}

char *sms_sign(const char *signature, const char *content, size_t content_len, size_t *out_len)
{
    size_t sl = strlen(signature);
    char *s = xmalloc(sl + content_len + 1);
    memcpy(s, signature, sl);
    memcpy(s + sl, content, content_len);
    s[sl + content_len] = '\0';
    *out_len = sl + content_len;
    return s;
}

int sms_mobile_normalize(const char *in, size_t len, char out[SMS_MOBILE_LEN + 1])
{
    if (len >= 4 && memcmp(in, "0086", 4) == 0)
        in += 4, len -= 4;
    else if (len >= 3 && memcmp(in, "+86", 3) == 0)
        in += 3, len -= 3;
    else if (len == 13 && memcmp(in, "86", 2) == 0)
        in += 2, len -= 2;
    if (len != SMS_MOBILE_LEN || in[0] != '1' || in[1] < '3' || in[1] > '9')
        return -1;
    for (size_t i = 0; i < len; i++)
        if (in[i] < '0' || in[i] > '9')
            return -1;
    memcpy(out, in, len);
    out[len] = '\0';
    return 0;
}

/* MIIT assignments as of 2024: each network's own segments, the virtual
 * operators' segments it carries (Mobile 1703/1705/1706 and 165, Unicom
 * 1704/1707-1709, 167 and 171, Telecom 1700-1702 and 162), satellite 1349
 * and 1740x with Telecom, and China Broadnet's 192. */
static const char *const default_segments[SMS_OP_COUNT] = {
    ("134,135,136,137,138,139,147,148,150,151,152,157,158,159,172,178,182,183,184,187,188,"
     "195,197,198,1703,1705,1706,165"),
    "130,131,132,145,146,155,156,166,167,171,175,176,185,186,196,1704,1707,1708,1709",
    "133,149,153,162,173,174,177,180,181,189,190,191,193,199,1349,1700,1701,1702",
    "192"};

void sms_segments_default(sms_segments *t)
{
    char err[64];
    t->n = 0;
    for (int op = 0; op < SMS_OP_COUNT; op++)
        sms_segments_set(t, (sms_operator)op, default_segments[op], err, sizeof(err));
}

int sms_segments_set(sms_segments *t, sms_operator op, const char *list, char *err,
                     size_t errlen)
{
    sms_segments nt;
    nt.n = 0;
    for (int i = 0; i < t->n; i++)
        if (t->e[i].op != op)
            nt.e[nt.n++] = t->e[i];
    const char *s = list;
    while (*s != '\0') {
        while (*s == ',' || *s == ' ' || *s == '\t')
            s++;
        if (*s == '\0')
            break;
        size_t n = 0;
        while (s[n] >= '0' && s[n] <= '9')
            n++;
        if (n < 3 || n > 4 || s[0] != '1' || (s[n] != '\0' && s[n] != ',' && s[n] != ' ' &&
                                             s[n] != '\t')) {
            snprintf(err, errlen, "'%.*s' is not a segment (3 or 4 digits starting with 1)",
                     (int)(n + 1), s);
            return -1;
        }
        if (nt.n >= SMS_SEGMENTS_MAX) {
            snprintf(err, errlen, "more than %d segments", SMS_SEGMENTS_MAX);
            return -1;
        }
        for (int i = 0; i < nt.n; i++)
            if (strlen(nt.e[i].prefix) == n && memcmp(nt.e[i].prefix, s, n) == 0 &&
                nt.e[i].op != op) {
                snprintf(err, errlen, "segment %.*s already belongs to %s", (int)n, s,
                         sms_operator_name(nt.e[i].op));
                return -1;
            }
        memcpy(nt.e[nt.n].prefix, s, n);
        nt.e[nt.n].prefix[n] = '\0';
        nt.e[nt.n].op = op;
        nt.n++;
        s += n;
    }
    *t = nt;
    return 0;
}

sms_operator sms_segments_lookup(const sms_segments *t, const char *mobile)
{
    sms_operator best = SMS_OP_NONE;
    size_t bestlen = 0;
    for (int i = 0; i < t->n; i++) {
        size_t n = strlen(t->e[i].prefix);
        if (n > bestlen && strncmp(mobile, t->e[i].prefix, n) == 0) {
            best = t->e[i].op;
            bestlen = n;
        }
    }
    return best;
}

static const char *const op_names[SMS_OP_COUNT] = {"mobile", "unicom", "telecom", "broadnet"};

const char *sms_operator_name(sms_operator op)
{
    return op >= 0 && op < SMS_OP_COUNT ? op_names[op] : "none";
}

sms_operator sms_operator_parse(const char *name)
{
    for (int i = 0; i < SMS_OP_COUNT; i++)
        if (strcmp(name, op_names[i]) == 0)
            return (sms_operator)i;
    return SMS_OP_NONE;
}

const char *sms_mobile_mask(const char *mobile, char out[16])
{
    return hrss_mobile_mask(mobile, strlen(mobile), out);
}
