/*
 * tests/unit/common/test_util.c - the growable buffer's limit, UTF-8
 * validation and counting, and the error code table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "hrss/errors.h"

static void buf_respects_limit(void **state)
{
    (void)state;
    hrss_buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_append(&b, "12345", 5), 0);
    assert_int_equal(buf_append(&b, "67890", 5), 0);
    assert_int_equal(buf_append(&b, "x", 1), -1); /* one byte past the limit */
    assert_int_equal(b.len, 10);
    assert_string_equal(b.p, "1234567890");
    size_t len = 0;
    char *p = buf_detach(&b, &len);
    assert_int_equal(len, 10);
    assert_null(b.p);
    free(p);
    buf_free(&b);
}

static void buf_detach_empty_gives_empty_string(void **state)
{
    (void)state;
    hrss_buf b;
    buf_init(&b, 10);
    size_t len = 99;
    char *p = buf_detach(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 0);
    assert_string_equal(p, "");
    free(p);
}

static void utf8_validation(void **state)
{
    (void)state;
    assert_true(utf8_is_valid("abc", 3));
    assert_true(utf8_is_valid("\xe5\xbc\xa0", 3));          /* 张 */
    assert_true(utf8_is_valid("\xf0\x9f\x98\x80", 4));      /* U+1F600 */
    assert_false(utf8_is_valid("\xff", 1));
    assert_false(utf8_is_valid("\xc0\xaf", 2));             /* overlong '/' */
    assert_false(utf8_is_valid("\xe0\x80\xaf", 3));         /* overlong */
    assert_false(utf8_is_valid("\xed\xa0\x80", 3));         /* surrogate D800 */
    assert_false(utf8_is_valid("\xf4\x90\x80\x80", 4));     /* > U+10FFFF */
    assert_false(utf8_is_valid("\xe5\xbc", 2));             /* truncated */
}

static void utf8_counting_and_prefix(void **state)
{
    (void)state;
    const char *s = "a\xe5\xbc\xa0" "b"; /* a张b */
    assert_int_equal(utf8_count(s, strlen(s)), 3);
    assert_int_equal(utf8_prefix(s, strlen(s), 2), 4); /* "a张" never cuts 张 */
    assert_int_equal(utf8_prefix(s, strlen(s), 1), 1);
    assert_int_equal(utf8_prefix(s, strlen(s), 9), 5);
}

/* Text cut by a bounded printf in the middle of a character is mended:
 * the cut character goes, other invalid bytes show as '?'. */
static void utf8_mend_cut_text(void **state)
{
    (void)state;
    char cut[] = "ab\xe5\xbc\xa0\xe5\xbc";   /* "ab张" and two bytes of 张 */
    assert_string_equal(utf8_mend(cut), "ab\xe5\xbc\xa0");
    char bad[] = "a\xff" "b\xbc" "c";
    assert_string_equal(utf8_mend(bad), "a?b?c");
    char lone[] = "x\xe5";
    assert_string_equal(utf8_mend(lone), "x");
    char ok[] = "\xe5\xbc\xa0";
    assert_string_equal(utf8_mend(ok), "\xe5\xbc\xa0");
}

static void error_table_is_consistent(void **state)
{
    (void)state;
    assert_string_equal(hrss_strerror(HRSS_OK), "success");
    assert_string_equal(hrss_strerror(HRSS_EBADSIG), "signature mismatch");
    assert_string_equal(hrss_err_name(HRSS_EREPLAY), "EREPLAY");
    assert_string_equal(hrss_strerror(12345), "unknown error");
    assert_string_equal(hrss_err_name(12345), "UNKNOWN");
    /* every code has a distinct name */
    static const int codes[] = {
#define X(name, num, text) (num),
        HRSS_ERRNO_MAP(X)
#undef X
    };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        for (size_t j = i + 1; j < sizeof(codes) / sizeof(codes[0]); j++)
            assert_true(codes[i] != codes[j]);
}

static void read_stream_limit(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    fputs("0123456789", f);
    rewind(f);
    size_t len = 0;
    int toobig = 0;
    char *p = read_stream(f, 5, &len, &toobig);
    assert_null(p);
    assert_int_equal(toobig, 1);
    rewind(f);
    p = read_stream(f, 10, &len, &toobig);
    assert_non_null(p);
    assert_int_equal(len, 10);
    assert_string_equal(p, "0123456789");
    free(p);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_respects_limit),
        cmocka_unit_test(buf_detach_empty_gives_empty_string),
        cmocka_unit_test(utf8_validation),
        cmocka_unit_test(utf8_counting_and_prefix),
        cmocka_unit_test(utf8_mend_cut_text),
        cmocka_unit_test(error_table_is_consistent),
        cmocka_unit_test(read_stream_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
