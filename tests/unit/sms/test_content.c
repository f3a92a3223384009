/*
 * tests/unit/sms/test_content.c - the content rules of hrss-sms (LD/T 6007
 * 3.1, 6.1, docs/design.md decision 8): GSM 03.38 detection, length with
 * the signature, single and concatenated parts with their UDH, mainland
 * mobile numbers and the number-segment table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sms/content.h"

static char *repeat(const char *unit, int n)
{
    size_t l = strlen(unit);
    char *s = malloc(l * (size_t)n + 1);
    for (int i = 0; i < n; i++)
        memcpy(s + l * (size_t)i, unit, l);
    s[l * (size_t)n] = '\0';
    return s;
}

static void gsm_alphabet_detected(void **state)
{
    (void)state;
    int sept;
    assert_true(sms_gsm_char('A', &sept));
    assert_int_equal(sept, 1);
    assert_true(sms_gsm_char('@', &sept));
    assert_true(sms_gsm_char(0x00E9, &sept)); /* é */
    assert_true(sms_gsm_char(0x0394, &sept)); /* Δ */
    assert_true(sms_gsm_char(0x20AC, &sept)); /* € via the extension table */
    assert_int_equal(sept, 2);
    assert_true(sms_gsm_char('{', &sept));
    assert_int_equal(sept, 2);
    assert_false(sms_gsm_char(0x4EBA, &sept)); /* 人 */
    assert_false(sms_gsm_char(0x3010, &sept)); /* 【 */
    assert_false(sms_gsm_char('`', &sept));    /* not in GSM 03.38 */
    assert_false(sms_gsm_char(0x1F600, &sept));

    sms_measure m;
    assert_int_equal(sms_measure_text("Hello 123", 9, &m), 0);
    assert_int_equal(m.coding, SMS_CODING_GSM);
    assert_int_equal(m.units, 9);
    assert_int_equal(sms_measure_text("Hi 人", strlen("Hi 人"), &m), 0);
    assert_int_equal(m.coding, SMS_CODING_UCS2);
    assert_int_equal(m.chars, 4);
    /* invalid UTF-8 and NUL refused */
    assert_int_equal(sms_measure_text("\xff", 1, &m), -1);
    assert_int_equal(sms_measure_text("a\0b", 3, &m), -1);
    assert_int_equal(sms_measure_text("\xed\xa0\x80", 3, &m), -1); /* surrogate */
}

static void limits_160_and_70_with_signature(void **state)
{
    (void)state;
    sms_measure m;
    char *s160 = repeat("a", 160), *s161 = repeat("a", 161);
    assert_int_equal(sms_measure_text(s160, 160, &m), 0);
    assert_int_equal(m.parts, 1);
    assert_int_equal(sms_measure_text(s161, 161, &m), 0);
    assert_int_equal(m.parts, 2);
    /* extension characters count two septets: 80 euro signs fill one message */
    char *e80 = repeat("€", 80), *e81 = repeat("€", 81);
    assert_int_equal(sms_measure_text(e80, strlen(e80), &m), 0);
    assert_int_equal(m.units, 160);
    assert_int_equal(m.parts, 1);
    assert_int_equal(sms_measure_text(e81, strlen(e81), &m), 0);
    assert_int_equal(m.parts, 2);

    /* the signature counts: 【人社局】 is 5 characters, so 65 more fit in 70 */
    char *c65 = repeat("好", 65), *c66 = repeat("好", 66);
    size_t n;
    char *t = sms_sign("【人社局】", c65, strlen(c65), &n);
    assert_int_equal(sms_measure_text(t, n, &m), 0);
    assert_int_equal(m.chars, 70);
    assert_int_equal(m.parts, 1);
    free(t);
    t = sms_sign("【人社局】", c66, strlen(c66), &n);
    assert_int_equal(sms_measure_text(t, n, &m), 0);
    assert_int_equal(m.chars, 71);
    assert_int_equal(m.parts, 2);
    assert_memory_equal(t, "【人社局】", strlen("【人社局】"));
    free(t);
    /* one Chinese character turns a 100-letter text into UCS-2: 2 parts */
    char *mix = repeat("a", 100);
    t = sms_sign("人", mix, 100, &n);
    assert_int_equal(sms_measure_text(t, n, &m), 0);
    assert_int_equal(m.coding, SMS_CODING_UCS2);
    assert_int_equal(m.parts, 2);
    free(t);
    free(mix);
    free(s160);
    free(s161);
    free(e80);
    free(e81);
    free(c65);
    free(c66);
}

static void segmentation_with_udh(void **state)
{
    (void)state;
    sms_part parts[8];
    /* 85 Chinese characters: 67 + 18, UDH 05 00 03 ref 02 seq */
    char *c85 = repeat("人", 85);
    int n = sms_split(c85, strlen(c85), 0x2A, parts, 8);
    assert_int_equal(n, 2);
    const uint8_t udh1[6] = {0x05, 0x00, 0x03, 0x2A, 0x02, 0x01};
    const uint8_t udh2[6] = {0x05, 0x00, 0x03, 0x2A, 0x02, 0x02};
    assert_true(parts[0].has_udh);
    assert_memory_equal(parts[0].ud, udh1, 6);
    assert_int_equal(parts[0].len, 6 + 67 * 2);
    assert_int_equal(parts[0].ud[6], 0x4E);
    assert_int_equal(parts[0].ud[7], 0xBA);
    assert_memory_equal(parts[1].ud, udh2, 6);
    assert_int_equal(parts[1].len, 6 + 18 * 2);
    free(c85);
    /* 200 ASCII characters: 153 + 47 septets */
    char *a200 = repeat("x", 200);
    n = sms_split(a200, 200, 7, parts, 8);
    assert_int_equal(n, 2);
    assert_int_equal(parts[0].len, 6 + 153);
    assert_int_equal(parts[1].len, 6 + 47);
    assert_int_equal(parts[1].ud[6], 'x');
    free(a200);
    /* a single message has no UDH; GSM '@' is septet 0, '€' is 1B 65 */
    n = sms_split("@€", strlen("@€"), 1, parts, 8);
    assert_int_equal(n, 1);
    assert_false(parts[0].has_udh);
    assert_int_equal(parts[0].len, 3);
    assert_int_equal(parts[0].ud[0], 0x00);
    assert_int_equal(parts[0].ud[1], 0x1B);
    assert_int_equal(parts[0].ud[2], 0x65);
    /* an escape is never cut: 152 'a' + '€' = 154 septets; part 1 ends at 152 */
    char *esc = malloc(160);
    memset(esc, 'a', 152);
    memcpy(esc + 152, "€", 3);
    memset(esc + 155, 'b', 5); /* 152 + 2 + 5 = 159 septets: fits one message */
    n = sms_split(esc, 160, 1, parts, 8);
    assert_int_equal(n, 1);
    memset(esc + 155, 'b', 5);
    char *esc2 = repeat("a", 152);
    char *t;
    size_t tl;
    t = sms_sign(esc2, "€bbbbbbbbbb", strlen("€bbbbbbbbbb"), &tl); /* 152+2+10 = 164 */
    n = sms_split(t, tl, 1, parts, 8);
    assert_int_equal(n, 2);
    assert_int_equal(parts[0].len, 6 + 152);
    assert_int_equal(parts[1].ud[6], 0x1B);
    free(t);
    free(esc2);
    free(esc);
    /* a surrogate pair is never cut: 66 '人' + an emoji (2 units) + 10 */
    char *p66 = repeat("人", 66);
    t = sms_sign(p66, "😀人人人人人人人人人人", strlen("😀人人人人人人人人人人"), &tl);
    n = sms_split(t, tl, 1, parts, 8);
    assert_int_equal(n, 2);
    assert_int_equal(parts[0].len, 6 + 66 * 2);
    assert_int_equal(parts[1].ud[6], 0xD8);
    free(t);
    free(p66);
    /* more parts than a UDH can number */
    char *huge = repeat("人", 67 * 256);
    assert_int_equal(sms_split(huge, strlen(huge), 1, parts, 8), -1);
    sms_measure m;
    assert_int_equal(sms_measure_text(huge, strlen(huge), &m), 0);
    assert_int_equal(m.parts, 256);
    free(huge);
}

static void mobile_numbers(void **state)
{
    (void)state;
    char out[SMS_MOBILE_LEN + 1];
    assert_int_equal(sms_mobile_normalize("13800138000", 11, out), 0);
    assert_string_equal(out, "13800138000");
    assert_int_equal(sms_mobile_normalize("+8613800138000", 14, out), 0);
    assert_string_equal(out, "13800138000");
    assert_int_equal(sms_mobile_normalize("8619912345678", 13, out), 0);
    assert_int_equal(sms_mobile_normalize("008615012345678", 15, out), 0);
    assert_string_equal(out, "15012345678");
    assert_int_equal(sms_mobile_normalize("12800138000", 11, out), -1); /* 12x not mobile */
    assert_int_equal(sms_mobile_normalize("1380013800", 10, out), -1);
    assert_int_equal(sms_mobile_normalize("138001380001", 12, out), -1);
    assert_int_equal(sms_mobile_normalize("1380013800a", 11, out), -1);
    assert_int_equal(sms_mobile_normalize("138 0013 8000", 13, out), -1);
    assert_int_equal(sms_mobile_normalize("", 0, out), -1);
    char mask[16];
    assert_string_equal(sms_mobile_mask("13800138000", mask), "138****8000");
}

static void segment_table(void **state)
{
    (void)state;
    sms_segments t;
    char err[128];
    sms_segments_default(&t);
    assert_int_equal(sms_segments_lookup(&t, "13800138000"), SMS_OP_MOBILE);
    assert_int_equal(sms_segments_lookup(&t, "18612345678"), SMS_OP_UNICOM);
    assert_int_equal(sms_segments_lookup(&t, "18912345678"), SMS_OP_TELECOM);
    assert_int_equal(sms_segments_lookup(&t, "13312345678"), SMS_OP_TELECOM);
    /* the longest prefix wins: 1349 (satellite) is Telecom inside Mobile's 134 */
    assert_int_equal(sms_segments_lookup(&t, "13412345678"), SMS_OP_MOBILE);
    assert_int_equal(sms_segments_lookup(&t, "13491234567"), SMS_OP_TELECOM);
    assert_int_equal(sms_segments_lookup(&t, "14012345678"), SMS_OP_NONE);
    /* configurable: give 140 to Unicom, replacing its list */
    assert_int_equal(sms_segments_set(&t, SMS_OP_UNICOM, "140, 186", err, sizeof(err)), 0);
    assert_int_equal(sms_segments_lookup(&t, "14012345678"), SMS_OP_UNICOM);
    assert_int_equal(sms_segments_lookup(&t, "13012345678"), SMS_OP_NONE);
    /* a segment of another operator, or a malformed one, is refused */
    assert_int_equal(sms_segments_set(&t, SMS_OP_UNICOM, "138", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "already belongs to mobile"));
    assert_int_equal(sms_segments_set(&t, SMS_OP_UNICOM, "23", err, sizeof(err)), -1);
    assert_int_equal(sms_segments_set(&t, SMS_OP_UNICOM, "13x", err, sizeof(err)), -1);
    assert_int_equal(sms_operator_parse("telecom"), SMS_OP_TELECOM);
    assert_int_equal(sms_operator_parse("cmcc"), SMS_OP_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gsm_alphabet_detected),
        cmocka_unit_test(limits_160_and_70_with_signature),
        cmocka_unit_test(segmentation_with_udh),
        cmocka_unit_test(mobile_numbers),
        cmocka_unit_test(segment_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
