/*
 * tests/unit/lib/test_codes.c - the validators of codes.h (5.3, 6.1, tables
 * 1 and 2) and the CST time functions: every boundary of every rule, with
 * the message that names it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hrss/codes.h"
#include "lib/envelope_private.h"

/* Runs a validator on a NUL-terminated string; returns its code. */
typedef int (*check_fn)(const char *, size_t, hrss_error *);

static void expect_ok(check_fn f, const char *s)
{
    hrss_error err = {0};
    int rc = f(s, strlen(s), &err);
    if (rc != HRSS_OK)
        fail_msg("'%s' refused: %s", s, err.msg);
}

/* Refused with HRSS_EFORMAT and a message containing want. */
static void expect_bad(check_fn f, const char *s, const char *want)
{
    hrss_error err = {0};
    int rc = f(s, strlen(s), &err);
    if (rc != HRSS_EFORMAT)
        fail_msg("'%s' gave %d, wanted EFORMAT", s, rc);
    assert_int_equal(err.code, HRSS_EFORMAT);
    if (strstr(err.msg, want) == NULL)
        fail_msg("'%s': message '%s' lacks '%s'", s, err.msg, want);
}

static void test_area_codes(void **state)
{
    static const char *const provinces[] = {
        "110000", "120000", "130000", "140000", "150000", "210000", "220000", "230000", "310000",
        "320000", "330000", "340000", "350000", "360000", "370000", "410000", "420000", "430000",
        "440000", "450000", "460000", "500000", "510000", "520000", "530000", "540000", "610000",
        "620000", "630000", "640000", "650000", "710000", "810000", "820000"};
    (void)state;
    for (size_t i = 0; i < sizeof(provinces) / sizeof(provinces[0]); i++)
        expect_ok(hrss_area_code_check, provinces[i]);
    expect_ok(hrss_area_code_check, "100000"); /* the ministry */
    expect_ok(hrss_area_code_check, "660000"); /* XPCC, accepted on purpose */
    expect_bad(hrss_area_code_check, "110100", "110100 is not 100000 nor a province-level");
    expect_bad(hrss_area_code_check, "000000", "not 100000 nor");
    expect_bad(hrss_area_code_check, "670000", "not 100000 nor");
    expect_bad(hrss_area_code_check, "830000", "not 100000 nor");
    expect_bad(hrss_area_code_check, "11000", "length 5, must be 6");
    expect_bad(hrss_area_code_check, "1100000", "length 7, must be 6");
    expect_bad(hrss_area_code_check, "", "length 0, must be 6");
    expect_bad(hrss_area_code_check, "11000a", "must be 6 digits");
    /* no NUL needed: only len bytes are read */
    hrss_error err;
    assert_int_equal(hrss_area_code_check("1100001", 6, &err), HRSS_OK);
    /* err may be NULL */
    assert_int_equal(hrss_area_code_check("x", 1, NULL), HRSS_EFORMAT);
}

static void test_system_codes(void **state)
{
    (void)state;
    expect_ok(hrss_system_code_check, "B100000KJGK");
    expect_ok(hrss_system_code_check, "B100000kJGK"); /* 5.3's example */
    expect_ok(hrss_system_code_check, "S370000mlb2"); /* 5.3's example */
    expect_ok(hrss_system_code_check, "S110000Y70P");
    expect_ok(hrss_system_code_check, "S6600000000");
    expect_ok(hrss_system_code_check, "S820000zzZZ");
    expect_bad(hrss_system_code_check, "B100000KJG", "length 10, must be 11");
    expect_bad(hrss_system_code_check, "B100000KJGKX", "length 12, must be 11");
    expect_bad(hrss_system_code_check, "X100000KJGK", "must start with B or S, found 'X'");
    expect_bad(hrss_system_code_check, "b100000KJGK", "must start with B or S");
    expect_bad(hrss_system_code_check, "s370000mlb2", "must start with B or S");
    expect_bad(hrss_system_code_check, "B110000KJGK", "B (ministry) requires area 100000");
    expect_bad(hrss_system_code_check, "S100000KJGK", "S (province) cannot have area 100000");
    expect_bad(hrss_system_code_check, "S110100KJGK", "area 110100 is not 100000 nor");
    expect_bad(hrss_system_code_check, "B11000xKJGK", "characters 2-7 must be a 6-digit area");
    expect_bad(hrss_system_code_check, "S110000KJ-K",
               "character 10 must be [0-9A-Za-z], found '-'");
    expect_bad(hrss_system_code_check, "S110000KJG ",
               "character 11 must be [0-9A-Za-z], found byte 0x20");
    expect_bad(hrss_system_code_check, "S110000\xe5\xbc\xa0K", "character 8 must be");
}

static void test_interface_codes(void **state)
{
    (void)state;
    expect_ok(hrss_interface_code_check, "B100000Y70PYTjb"); /* 6.1's examples */
    expect_ok(hrss_interface_code_check, "S5000004NzynyJ1");
    expect_ok(hrss_interface_code_check, "S110000Y70PYTjb");
    expect_bad(hrss_interface_code_check, "S110000Y70PYTj", "length 14, must be 15");
    expect_bad(hrss_interface_code_check, "S110000Y70PYTjbb", "length 16, must be 15");
    expect_bad(hrss_interface_code_check, "S110000Y70PYT_b", "character 14 must be [0-9A-Za-z]");
    expect_bad(hrss_interface_code_check, "B110000Y70PYTjb", "B (ministry) requires area 100000");
    expect_bad(hrss_interface_code_check, "Q110000Y70PYTjb", "must start with B or S");
}

static void test_ids(void **state)
{
    (void)state;
    expect_ok(hrss_id_check, "B100000KJGK20170122100000001");
    expect_ok(hrss_id_check, "S110000Y70P20190618100100001");
    expect_ok(hrss_id_check, "S110000Y70P20240229000000000"); /* leap day */
    expect_ok(hrss_id_check, "S110000Y70P20000229999999999"); /* 2000 is a leap year */
    /* The batch example of 6.2.2.3.1 is one digit short: an error in the standard. */
    expect_bad(hrss_id_check, "B100000KJGK2017012210000001", "length 27, must be 28");
    expect_bad(hrss_id_check, "B100000KJGK201701221000000012", "length 29, must be 28");
    expect_bad(hrss_id_check, "S110000Y70P20230229000000001", "20230229 is not a calendar date");
    expect_bad(hrss_id_check, "S110000Y70P21000229000000001", "21000229 is not a calendar date");
    expect_bad(hrss_id_check, "S110000Y70P20170230000000001", "20170230 is not a calendar date");
    expect_bad(hrss_id_check, "S110000Y70P20171301000000001", "20171301 is not a calendar date");
    expect_bad(hrss_id_check, "S110000Y70P20170100000000001", "20170100 is not a calendar date");
    expect_bad(hrss_id_check, "S110000Y70P20170431000000001", "20170431 is not a calendar date");
    expect_bad(hrss_id_check, "S110000Y70P00000101000000001", "00000101 is not a calendar date");
    expect_bad(hrss_id_check, "S110000Y70P2017O122000000001", "characters 12-19 must be a date");
    expect_bad(hrss_id_check, "S110000Y70P2017012200000000a", "characters 20-28 must be a 9-digit");
    expect_bad(hrss_id_check, "S100000Y70P20170122000000001", "S (province) cannot");
}

static void test_times(void **state)
{
    (void)state;
    expect_ok(hrss_time_check, "20170122101020");
    expect_ok(hrss_time_check, "20240229235959");
    expect_ok(hrss_time_check, "00010101000000");
    expect_ok(hrss_time_check, "99991231235959");
    expect_bad(hrss_time_check, "20230229000000", "20230229 is not a calendar date");
    expect_bad(hrss_time_check, "20170230101020", "20170230 is not a calendar date");
    expect_bad(hrss_time_check, "20240101240000", "hour 24, at most 23");
    expect_bad(hrss_time_check, "20240101236000", "minute 60, at most 59");
    expect_bad(hrss_time_check, "20240101235960", "second 60, at most 59");
    expect_bad(hrss_time_check, "2017012210102", "length 13, must be 14");
    expect_bad(hrss_time_check, "201701221010200", "length 15, must be 14");
    expect_bad(hrss_time_check, "2017-01-221010", "must be 14 digits");
    expect_bad(hrss_time_check, "00000101000000", "not a calendar date");
}

static void test_time_parse_and_format(void **state)
{
    int64_t t;
    char buf[HRSS_TIME_LEN + 1];
    hrss_error err;
    (void)state;

    assert_int_equal(hrss_time_parse("19700101080000", 14, &t, &err), HRSS_OK);
    assert_int_equal(t, 0);
    assert_int_equal(hrss_time_parse("20170122101020", 14, &t, &err), HRSS_OK);
    assert_int_equal(t, 1485051020);
    assert_int_equal(hrss_time_parse("20240229000000", 14, &t, &err), HRSS_OK);
    assert_int_equal(t, 1709136000);
    assert_int_equal(hrss_time_parse("20240230000000", 14, &t, &err), HRSS_EFORMAT);

    hrss_time_format(1485051020, buf);
    assert_string_equal(buf, "20170122101020");
    hrss_time_format(-1, buf);
    assert_string_equal(buf, "19700101075959");
    hrss_time_format(-28801, buf);
    assert_string_equal(buf, "19691231235959");
    /* clamped to the four-digit years */
    hrss_time_format(INT64_MIN, buf);
    assert_string_equal(buf, "00010101000000");
    hrss_time_format(INT64_MAX, buf);
    assert_string_equal(buf, "99991231235959");

    /* Agrees with gmtime_r(epoch + 8 h) over a wide, irregular sample,
     * including days before 1970 and around leap days. */
    for (int64_t e = -2208988800LL; e < 4102444800LL; e += 7777777 + 13) {
        struct tm tm;
        time_t shifted = (time_t)(e + 8 * 3600);
        char want[32];
        gmtime_r(&shifted, &tm);
        strftime(want, sizeof(want), "%Y%m%d%H%M%S", &tm);
        hrss_time_format(e, buf);
        assert_string_equal(buf, want);
        assert_int_equal(hrss_time_parse(buf, 14, &t, &err), HRSS_OK);
        assert_int_equal(t, e);
    }
    assert_int_equal(hrss__cst_date(1709136000), 20240229);
    assert_int_equal(hrss__cst_date(1709136000 - 1), 20240228);
}

/* The host's time zone must not matter: CST is computed, not looked up. */
static void test_time_ignores_tz(void **state)
{
    char buf[HRSS_TIME_LEN + 1];
    char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    int64_t t;
    (void)state;

    setenv("TZ", "America/New_York", 1);
    tzset();
    hrss_time_format(0, buf);
    assert_string_equal(buf, "19700101080000");
    assert_int_equal(hrss_time_parse("19700101080000", 14, &t, NULL), HRSS_OK);
    assert_int_equal(t, 0);
    /* now: equal to formatting time(NULL), give or take the second boundary */
    char want[HRSS_TIME_LEN + 1];
    time_t before = time(NULL);
    hrss_time_now(buf);
    hrss_time_format((int64_t)before, want);
    if (strcmp(buf, want) != 0) {
        hrss_time_format((int64_t)before + 1, want);
        assert_string_equal(buf, want);
    }
    if (old != NULL) {
        setenv("TZ", old, 1);
        free(old);
    } else {
        unsetenv("TZ");
    }
    tzset();
}

static void test_time_window(void **state)
{
    hrss_error err = {0};
    int64_t t = 1485051020; /* 20170122101020 */
    (void)state;

    assert_int_equal(hrss_time_check_window("20170122101020", 14, t, 900, &err), HRSS_OK);
    assert_int_equal(hrss_time_check_window("20170122101020", 14, t + 900, 900, &err), HRSS_OK);
    assert_int_equal(hrss_time_check_window("20170122101020", 14, t - 900, 900, &err), HRSS_OK);
    assert_int_equal(hrss_time_check_window("20170122101020", 14, t + 901, 900, &err), HRSS_ESTALE);
    assert_non_null(strstr(err.msg, "901 s behind the clock, at most 900 s"));
    assert_int_equal(hrss_time_check_window("20170122101020", 14, t - 901, 900, &err), HRSS_ESTALE);
    assert_non_null(strstr(err.msg, "901 s ahead of the clock"));
    assert_int_equal(hrss_time_check_window("20170122101020", 14, INT64_MAX, 900, &err),
                     HRSS_ESTALE);
    assert_int_equal(hrss_time_check_window("20170122101020", 14, INT64_MIN, 900, &err),
                     HRSS_ESTALE);
    assert_int_equal(hrss_time_check_window("20170122241020", 14, t, 900, &err), HRSS_EFORMAT);
    assert_string_equal(err.msg, "hour 24, at most 23");
}

static void test_comm_status(void **state)
{
    static const struct {
        const char *wire;
        hrss_comm_status st;
        const char *meaning;
    } table2[] = {
        {"00", HRSS_COMM_OK, "business success"},
        {"10", HRSS_COMM_BUSINESS_FAIL, "business failure"},
        {"20", HRSS_COMM_SYSTEM_ERROR, "system error"},
        {"30", HRSS_COMM_SIGNATURE, "signature failure"},
        {"40", HRSS_COMM_DECRYPT, "decryption failure"},
        {"50", HRSS_COMM_PERMISSION, "insufficient permission"},
        {"90", HRSS_COMM_OTHER, "other error"},
    };
    hrss_comm_status st;
    hrss_error err = {0};
    (void)state;

    for (size_t i = 0; i < sizeof(table2) / sizeof(table2[0]); i++) {
        assert_int_equal(hrss_comm_status_parse(table2[i].wire, 2, &st, &err), HRSS_OK);
        assert_int_equal(st, table2[i].st);
        assert_string_equal(hrss_comm_status_str(table2[i].st), table2[i].wire);
        assert_string_equal(hrss_comm_status_meaning(table2[i].st), table2[i].meaning);
    }
    assert_int_equal(hrss_comm_status_parse("11", 2, &st, &err), HRSS_EFORMAT);
    assert_string_equal(err.msg, "\"11\" is not a value of table 2 (00 10 20 30 40 50 90)");
    assert_int_equal(hrss_comm_status_parse("0", 1, &st, &err), HRSS_EFORMAT);
    assert_int_equal(hrss_comm_status_parse("000", 3, &st, &err), HRSS_EFORMAT);
    assert_int_equal(hrss_comm_status_parse("0\n", 2, &st, &err), HRSS_EFORMAT);
    assert_string_equal(err.msg, "\"0?\" is not a value of table 2 (00 10 20 30 40 50 90)");
    assert_null(hrss_comm_status_str((hrss_comm_status)11));
    assert_null(hrss_comm_status_meaning((hrss_comm_status)11));
}

static void test_show(void **state)
{
    char out[32];
    (void)state;
    assert_string_equal(hrss__show(out, sizeof(out), "abc", 3, 10), "abc");
    assert_string_equal(hrss__show(out, sizeof(out), "a\nb\x7f", 4, 10), "a?b?");
    assert_string_equal(hrss__show(out, sizeof(out), "a\xff\xc3", 3, 10), "a??");
    assert_string_equal(hrss__show(out, sizeof(out), "\xe5\xbc\xa0\xe4\xb8\x89", 6, 10),
                        "\xe5\xbc\xa0\xe4\xb8\x89");
    assert_string_equal(hrss__show(out, sizeof(out), "abcdef", 6, 3), "abc...");
    /* a tiny buffer: cut, still terminated */
    assert_string_equal(hrss__show(out, 4, "abcdef", 6, 10), "abc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_area_codes),      cmocka_unit_test(test_system_codes),
        cmocka_unit_test(test_interface_codes), cmocka_unit_test(test_ids),
        cmocka_unit_test(test_times),           cmocka_unit_test(test_time_parse_and_format),
        cmocka_unit_test(test_time_ignores_tz), cmocka_unit_test(test_time_window),
        cmocka_unit_test(test_comm_status),     cmocka_unit_test(test_show),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
