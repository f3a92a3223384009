/*
 * sms/content.h - the content rules of hrss-sms (LD/T 6007 3.1, 6.1 and
 * docs/design.md decision 8): which alphabet a text needs (GSM 03.38 or
 * UCS-2), how long it is once the signature is in, how many parts it takes
 * and the parts themselves (UDH 05 00 03 ref total seq), mainland mobile
 * number validation and the carrier chosen by number segment.
 *
 * Pure functions on caller-owned memory; any thread.
 */
#ifndef HRSS_SMS_CONTENT_H
#define HRSS_SMS_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#define SMS_GSM_SINGLE 160   /* septets in one message */
#define SMS_GSM_PART 153     /* septets in one part of a long message */
#define SMS_UCS2_SINGLE 70   /* UTF-16 units in one message */
#define SMS_UCS2_PART 67     /* UTF-16 units in one part */
#define SMS_MAX_PARTS 255    /* the UDH's total is one octet */
#define SMS_PART_BYTES 160   /* UDH (6) + 153 unpacked septets, or + 134 octets */
#define SMS_MOBILE_LEN 11

typedef enum sms_coding { SMS_CODING_GSM = 0, SMS_CODING_UCS2 = 8 } sms_coding;

typedef struct sms_measure {
    sms_coding coding; /* GSM when every character is in GSM 03.38 */
    size_t chars;      /* code points */
    size_t units;      /* septets (GSM, extension characters count 2) or UTF-16 units */
    int parts;         /* 1 when it fits one message, else concatenated parts */
} sms_measure;

/* One part as handed to a carrier: user data (with the UDH when has_udh). GSM
 * parts carry GSM 03.38 septets, one per octet (unpacked, escapes as 0x1B xx);
 * UCS-2 parts carry UTF-16BE. */
typedef struct sms_part {
    uint8_t ud[SMS_PART_BYTES];
    size_t len;
    int has_udh;
} sms_part;

/* 1 when code point cp is in the GSM 03.38 default alphabet or its extension
 * table; *septets (may be NULL) gets 1 or 2 (escape + character). */
int sms_gsm_char(uint32_t cp, int *septets);

/* Measures text[0..len) (UTF-8). Returns 0, or -1 when the text is not valid
 * UTF-8 or holds a NUL. */
int sms_measure_text(const char *text, size_t len, sms_measure *m);

/* Splits text into parts: one part without UDH when it fits a single
 * message, else parts of at most 153 septets / 67 UTF-16 units (never
 * cutting an escape or a surrogate pair) each starting with the UDH
 * 05 00 03 ref total seq. Returns the number of parts (at most max_parts
 * written), or -1 for invalid text or more than SMS_MAX_PARTS parts. */
int sms_split(const char *text, size_t len, uint8_t ref, sms_part *parts, int max_parts);

/* Prefixes the signature: out = signature + content (6.1: number, signature,
 * content; the signature counts in the length). Returns a malloc'd string
 * (abort on out of memory). */
char *sms_sign(const char *signature, const char *content, size_t content_len, size_t *out_len);

/* Mainland mobile number: optional +86, 86 or 0086, then 1[3-9] and 9 more
 * digits; spaces and dashes are not accepted. Writes the 11 digits. Returns 0
 * or -1. */
int sms_mobile_normalize(const char *in, size_t len, char out[SMS_MOBILE_LEN + 1]);

/* Number segments -> operator. The table holds prefixes of 3 or 4 digits;
 * the longest matching prefix wins. */
typedef enum sms_operator {
    SMS_OP_NONE = -1,
    SMS_OP_MOBILE = 0,  /* China Mobile */
    SMS_OP_UNICOM = 1,  /* China Unicom */
    SMS_OP_TELECOM = 2, /* China Telecom */
    SMS_OP_BROADNET = 3, /* China Broadnet (192) */
    SMS_OP_COUNT = 4
} sms_operator;

#define SMS_SEGMENTS_MAX 256

typedef struct sms_segments {
    struct {
        char prefix[5];
        sms_operator op;
    } e[SMS_SEGMENTS_MAX];
    int n;
} sms_segments;

/* Fills t with the segments assigned when this was written (2024). */
void sms_segments_default(sms_segments *t);
/* Replaces the prefixes of operator op with a list "134,135,1349 ...",
 * separated by commas or spaces. Returns 0, or -1 (err says why). */
int sms_segments_set(sms_segments *t, sms_operator op, const char *list, char *err,
                     size_t errlen);
/* Operator of an 11-digit number, or SMS_OP_NONE. */
sms_operator sms_segments_lookup(const sms_segments *t, const char *mobile);
/* "mobile", "unicom", "telecom", "broadnet"; parse returns SMS_OP_NONE when
 * unknown. */
const char *sms_operator_name(sms_operator op);
sms_operator sms_operator_parse(const char *name);

/* Masks a mobile number for logs: 138****8000 (hrss_mobile_mask; anything
 * that is not 11 characters is masked whole). */
const char *sms_mobile_mask(const char *mobile, char out[16]);

#endif
