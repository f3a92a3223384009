/*
 * tests/unit/carrier/test_text.c - the MO text decoding and the UDH reader
 * shared by both carrier drivers (session.c): UCS2 with surrogate pairs and
 * broken halves, GB18030/GBK, ASCII and Latin-1, output bounds; 8-bit and
 * 16-bit concatenation headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "carrier/session.h"

static void test_ucs2(void **state)
{
    (void)state;
    char out[64];
    /* "CBXX#查询" */
    const uint8_t in[] = {0, 'C', 0, 'B', 0, 'X', 0, 'X', 0, '#', 0x67, 0xe5, 0x8b, 0xe2};
    carrier_text_utf8(TEXT_UCS2, in, sizeof(in), out, sizeof(out));
    assert_string_equal(out, "CBXX#\xe6\x9f\xa5\xe8\xaf\xa2");
    /* a surrogate pair (U+1F600), a lone high surrogate, an odd trailing byte */
    const uint8_t pair[] = {0xd8, 0x3d, 0xde, 0x00, 0xd8, 0x00, 0, 'a', 0x00};
    carrier_text_utf8(TEXT_UCS2, pair, sizeof(pair), out, sizeof(out));
    assert_string_equal(out, "\xf0\x9f\x98\x80\xef\xbf\xbd" "a");
    /* output bound: a character that does not fit is left out whole */
    carrier_text_utf8(TEXT_UCS2, in, sizeof(in), out, 8);
    assert_string_equal(out, "CBXX#");
}

static void test_gbk_ascii_latin1(void **state)
{
    (void)state;
    char out[64];
    const uint8_t gbk[] = {'Y', 0xd5, 0xc5, 0xc8, 0xfd}; /* Y张三 */
    carrier_text_utf8(TEXT_GBK, gbk, sizeof(gbk), out, sizeof(out));
    assert_string_equal(out, "Y\xe5\xbc\xa0\xe4\xb8\x89");
    const uint8_t cut[] = {'A', 0xd5};
    carrier_text_utf8(TEXT_GBK, cut, sizeof(cut), out, sizeof(out));
    assert_string_equal(out, "A\xef\xbf\xbd");
    const uint8_t hi[] = {'a', 0xe9};
    carrier_text_utf8(TEXT_ASCII, hi, sizeof(hi), out, sizeof(out));
    assert_string_equal(out, "a\xef\xbf\xbd");
    carrier_text_utf8(TEXT_LATIN1, hi, sizeof(hi), out, sizeof(out));
    assert_string_equal(out, "a\xc3\xa9");
    carrier_text_utf8(TEXT_ASCII, hi, 0, out, sizeof(out));
    assert_string_equal(out, "");
}

static void test_udh(void **state)
{
    (void)state;
    int total = 0, seq = 0;
    const uint8_t u8[] = {5, 0, 3, 0x42, 3, 2, 'x'};
    assert_int_equal(carrier_udh_parts(u8, sizeof(u8), &total, &seq), 0);
    assert_int_equal(total, 3);
    assert_int_equal(seq, 2);
    const uint8_t u16[] = {6, 8, 4, 0x12, 0x34, 4, 4};
    assert_int_equal(carrier_udh_parts(u16, sizeof(u16), &total, &seq), 0);
    assert_int_equal(total, 4);
    assert_int_equal(seq, 4);
    /* the reference, for joining long uplink messages */
    int ref = 0;
    assert_int_equal(carrier_udh_concat(u8, sizeof(u8), &ref, &total, &seq), 0);
    assert_int_equal(ref, 0x42);
    assert_int_equal(carrier_udh_concat(u16, sizeof(u16), &ref, &total, &seq), 0);
    assert_int_equal(ref, 0x1234);
    /* another element first, then the concatenation */
    const uint8_t two[] = {8, 0x0a, 1, 0, 0, 3, 7, 2, 1};
    assert_int_equal(carrier_udh_parts(two, sizeof(two), &total, &seq), 0);
    assert_int_equal(total, 2);
    /* header longer than the data, element past its header, none at all */
    const uint8_t bad1[] = {9, 0, 3, 1, 2, 1};
    assert_int_equal(carrier_udh_parts(bad1, sizeof(bad1), &total, &seq), -1);
    const uint8_t bad2[] = {3, 0, 3, 1, 2, 1};
    assert_int_equal(carrier_udh_parts(bad2, sizeof(bad2), &total, &seq), -1);
    const uint8_t none[] = {2, 0x0a, 0};
    assert_int_equal(carrier_udh_parts(none, sizeof(none), &total, &seq), -1);
    assert_int_equal(carrier_udh_parts(none, 0, &total, &seq), -1);
}

static void test_config(void **state)
{
    (void)state;
    carrier_config cfg;
    carrier_config_init(&cfg, CARRIER_CMPP30);
    assert_int_equal(cfg.window, 16);
    assert_int_equal(cfg.heartbeat_s, 180);
    assert_int_equal(cfg.response_timeout_ms, 60000);
    assert_int_equal(cfg.retries, 3);
    assert_int_equal(cfg.port, 7890);
    carrier_config_init(&cfg, CARRIER_SMPP34);
    assert_int_equal(cfg.port, 2775);
    assert_int_equal(cfg.smpp_msgid_type, -1);
    /* no host: refused */
    assert_null(carrier_client_new((struct event_base *)&cfg, &cfg, NULL));
    carrier_client_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ucs2),
        cmocka_unit_test(test_gbk_ascii_latin1),
        cmocka_unit_test(test_udh),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
