/*
 * tests/unit/lib/test_person.c - person.h: GB 11643 check characters on the
 * standard's own examples, every rule of the social security number and of
 * mainland mobile numbers, and masks that never leak a malformed number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hrss/person.h"

static int ssn(const char *s, hrss_error *err)
{
    return hrss_ssn_check(s, strlen(s), err);
}

static void expect_ssn_bad(const char *s, const char *want)
{
    hrss_error err = {0};
    if (ssn(s, &err) != HRSS_EFORMAT)
        fail_msg("'%s' accepted", s);
    if (strstr(err.msg, want) == NULL)
        fail_msg("'%s': message '%s' lacks '%s'", s, err.msg, want);
}

static void test_check_char_examples(void **state)
{
    (void)state;
    /* the two examples of GB 11643-1999 */
    assert_int_equal(hrss_ssn_check_char("11010519491231002"), 'X');
    assert_int_equal(hrss_ssn_check_char("44052418800101001"), '4');
    assert_int_equal(hrss_ssn_check_char("4405241880010100"), 0); /* 16 digits then NUL */
    assert_int_equal(hrss_ssn_check_char("4405241880010100A"), 0);
    assert_int_equal(hrss_ssn_check_char(NULL), 0);
}

static void test_ssn_valid(void **state)
{
    (void)state;
    hrss_error err = {0};
    assert_int_equal(ssn("11010519491231002X", &err), HRSS_OK);
    assert_int_equal(ssn("11010519491231002x", &err), HRSS_OK);
    assert_int_equal(ssn("440524188001010014", &err), HRSS_OK);
    /* every check character is reachable and accepted when right */
    char buf[19];
    int seen[128] = {0};
    for (int seq = 0; seq < 200; seq++) {
        snprintf(buf, sizeof(buf), "44010119900307%03d", seq);
        buf[17] = hrss_ssn_check_char(buf);
        buf[18] = '\0';
        seen[(int)buf[17]] = 1;
        if (ssn(buf, &err) != HRSS_OK)
            fail_msg("%s refused: %s", buf, err.msg);
    }
    for (const char *c = "0123456789X"; *c; c++)
        assert_true(seen[(int)*c]);
}

static void test_ssn_rules(void **state)
{
    (void)state;
    expect_ssn_bad("11010519491231002", "length 17, must be 18");
    expect_ssn_bad("11010519491231002X1", "length 19");
    expect_ssn_bad("110105194912310X2X", "first 17 characters must be digits");
    expect_ssn_bad("10010519491231002X", "province");
    expect_ssn_bad("90010519491231002X", "province");
    expect_ssn_bad("110105194902300028", "date of birth");  /* 30 February */
    expect_ssn_bad("110105179901010028", "date of birth");  /* before 1800 */
    expect_ssn_bad("110105194912310021", "check character"); /* X expected */
    expect_ssn_bad("440524188001010015", "check character");
}

/* LD/T 6007 3.6 note: residence permits of Hong Kong, Macao and Taiwan
 * residents and the 2023 foreign permanent resident card are accepted, with
 * their check character; they used to be refused as "province". */
static void test_ssn_permits_and_foreign_residents(void **state)
{
    (void)state;
    static const char *const first17[] = {
        "81000019900101123", /* Hong Kong resident's residence permit */
        "82000019900101123", /* Macao */
        "83000019900101123", /* Taiwan */
        "91115619900101123", /* foreign permanent resident: Beijing, nationality 156 */
        "94484019851231002", /* Guangdong, 840 */
    };
    char id[19];
    hrss_error e;
    for (size_t i = 0; i < sizeof(first17) / sizeof(first17[0]); i++) {
        memcpy(id, first17[i], 17);
        id[17] = hrss_ssn_check_char(first17[i]);
        id[18] = '\0';
        if (hrss_ssn_check(id, 18, &e) != HRSS_OK)
            fail_msg("%s: %s", id, e.msg);
        id[17] = id[17] == '0' ? '1' : '0'; /* a wrong check character still fails */
        assert_int_equal(hrss_ssn_check(id, 18, &e), HRSS_EFORMAT);
    }
    memcpy(id, "83010019900101123", 17); /* 83 is a province code only as 830000 */
    id[17] = hrss_ssn_check_char(id);
    assert_int_equal(hrss_ssn_check(id, 18, &e), HRSS_EFORMAT);
}

static void test_ssn_mask(void **state)
{
    (void)state;
    char out[HRSS_SSN_LEN + 1];
    assert_string_equal(hrss_ssn_mask("440101199003070236", 18, out), "440101********0236");
    /* malformed input is masked whole, never shown */
    assert_string_equal(hrss_ssn_mask("4401011990", 10, out), "**********");
    assert_string_equal(hrss_ssn_mask("4401011990030702361234", 22, out), "******************");
    assert_string_equal(hrss_ssn_mask(NULL, 0, out), "");
}

static void test_mobile(void **state)
{
    (void)state;
    hrss_error err = {0};
    char canon[HRSS_MOBILE_LEN + 1];
    assert_int_equal(hrss_mobile_check("13800138000", 11, NULL, &err), HRSS_OK);
    assert_int_equal(hrss_mobile_check("19912345678", 11, canon, &err), HRSS_OK);
    assert_string_equal(canon, "19912345678");
    assert_int_equal(hrss_mobile_check("+8613800138000", 14, canon, &err), HRSS_OK);
    assert_string_equal(canon, "13800138000");
    assert_int_equal(hrss_mobile_check("8613800138000", 13, canon, &err), HRSS_OK);
    assert_string_equal(canon, "13800138000");
    /* the prefixes only with canonical wanted */
    assert_int_equal(hrss_mobile_check("+8613800138000", 14, NULL, &err), HRSS_EFORMAT);
    assert_int_equal(hrss_mobile_check("1380013800", 10, canon, &err), HRSS_EFORMAT);
    assert_string_equal(err.msg, "must be 11 digits");
    assert_int_equal(hrss_mobile_check("1380013800a", 11, canon, &err), HRSS_EFORMAT);
    assert_int_equal(hrss_mobile_check("12800138000", 11, canon, &err), HRSS_EFORMAT);
    assert_string_equal(err.msg, "must start with 13-19");
    assert_int_equal(hrss_mobile_check("23800138000", 11, canon, &err), HRSS_EFORMAT);
    assert_int_equal(hrss_mobile_check("+8513800138000", 14, canon, &err), HRSS_EFORMAT);
}

static void test_mobile_mask(void **state)
{
    (void)state;
    char out[HRSS_MOBILE_LEN + 1];
    assert_string_equal(hrss_mobile_mask("13800138000", 11, out), "138****8000");
    assert_string_equal(hrss_mobile_mask("1380013", 7, out), "*******");
    assert_string_equal(hrss_mobile_mask("+8613800138000", 14, out), "***********");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_char_examples), cmocka_unit_test(test_ssn_valid),
        cmocka_unit_test(test_ssn_rules),           cmocka_unit_test(test_ssn_mask),
        cmocka_unit_test(test_ssn_permits_and_foreign_residents),
        cmocka_unit_test(test_mobile),              cmocka_unit_test(test_mobile_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
