/*
 * tests/unit/common/test_str.c - the bounded copy into fixed fields, JSON
 * string escaping, and the allocate-or-die helpers' contracts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/str.h"
#include "common/xalloc.h"

static void copy_cuts_and_terminates(void **state)
{
    (void)state;
    char f[6];
    assert_int_equal(str_copy(f, sizeof(f), "abc"), 3);
    assert_string_equal(f, "abc");
    assert_int_equal(str_copy(f, sizeof(f), "abcdefgh"), 5);
    assert_string_equal(f, "abcde");
    assert_int_equal(str_copy(f, sizeof(f), NULL), 0);
    assert_string_equal(f, "");
}

static void json_escapes_quotes_backslashes_and_controls(void **state)
{
    (void)state;
    hrss_buf b;
    buf_init(&b, 1024);
    static const char in[] = "a\"b\\c\n\x01短信";
    assert_int_equal(str_append_json(&b, (hrss_str){in, sizeof(in) - 1}), 0);
    assert_string_equal(b.p, "\"a\\\"b\\\\c\\u000a\\u0001短信\"");
    buf_free(&b);

    buf_init(&b, 1024);
    assert_int_equal(str_append_json(&b, str_of(NULL)), 0);
    assert_string_equal(b.p, "\"\"");
    buf_free(&b);
}

static void json_reports_the_limit(void **state)
{
    (void)state;
    hrss_buf b;
    buf_init(&b, 4);
    assert_int_equal(str_append_json(&b, str_of("abcdef")), -1);
    buf_free(&b);
}

static void views_compare(void **state)
{
    (void)state;
    hrss_str v = {"send/more", 4};
    assert_true(str_eq(v, "send"));
    assert_false(str_eq(v, "sen"));
    assert_false(str_eq(v, "send/"));
}

static void xalloc_helpers_copy(void **state)
{
    (void)state;
    char *a = xstrdup(NULL), *b = xstrndup("abcdef", 3);
    assert_string_equal(a, "");
    assert_string_equal(b, "abc");
    void *z = xcalloc(0, 8);
    assert_non_null(z);
    free(z);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(copy_cuts_and_terminates),
        cmocka_unit_test(json_escapes_quotes_backslashes_and_controls),
        cmocka_unit_test(json_reports_the_limit),
        cmocka_unit_test(views_compare),
        cmocka_unit_test(xalloc_helpers_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
