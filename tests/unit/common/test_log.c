/*
 * tests/unit/common/test_log.c - the shared log lines of common/log.h: the
 * line's shape, levels, the cut of an overlong line, and log_quote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"

/* Runs the logging of fn with stderr on a pipe; returns what was written. */
static char *capture(void (*fn)(void))
{
    int p[2], saved = dup(STDERR_FILENO);
    assert_int_equal(pipe(p), 0);
    dup2(p[1], STDERR_FILENO);
    close(p[1]);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    static char buf[8192];
    ssize_t n = read(p[0], buf, sizeof(buf) - 1);
    close(p[0]);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void log_two(void)
{
    hrss_log_set_level(HRSS_LOG_INFO);
    hrss_log(HRSS_LOG_INFO, "started", "workers=%d", 2);
    hrss_log(HRSS_LOG_DEBUG, "request", "path=/x"); /* below the level: nothing */
    hrss_log(HRSS_LOG_ERROR, "stopped", NULL);
}

static void lines_and_levels(void **state)
{
    (void)state;
    char *out = capture(log_two);
    char *second = strchr(out, '\n');
    assert_non_null(second);
    *second++ = '\0';
    /* ts=2026-11-23T14:19:18.519Z level=info event=started workers=2 */
    assert_int_equal(strlen("ts=2026-11-23T14:19:18.519Z"), strchr(out, ' ') - out);
    assert_int_equal(out[26], 'Z');
    assert_string_equal(out + 28, "level=info event=started workers=2");
    assert_string_equal(second + 28, "level=error event=stopped\n");
    assert_true(hrss_log_enabled(HRSS_LOG_WARN));
    assert_false(hrss_log_enabled(HRSS_LOG_DEBUG));
    assert_string_equal(hrss_log_level_name(HRSS_LOG_DEBUG), "debug");
    assert_string_equal(hrss_log_level_name((hrss_log_level)9), "?");
}

static void log_long(void)
{
    char big[4000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    hrss_log(HRSS_LOG_WARN, "long", "v=%s", big);
}

static void overlong_line_cut_and_marked(void **state)
{
    (void)state;
    char *out = capture(log_long);
    size_t n = strlen(out);
    assert_true(n <= 2048);
    assert_int_equal(out[n - 1], '\n');
    out[n - 1] = '\0';
    assert_non_null(strstr(out, " truncated=1"));
    assert_string_equal(out + n - 1 - strlen(" truncated=1"), " truncated=1");
}

static void quote(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(hrss_log_quote("S110000Y70PSBKZ", out, sizeof(out)), "S110000Y70PSBKZ");
    assert_string_equal(hrss_log_quote("138****0001", out, sizeof(out)), "138****0001");
    assert_string_equal(hrss_log_quote("", out, sizeof(out)), "\"\"");
    assert_string_equal(hrss_log_quote("a b=\"c\"\\", out, sizeof(out)), "\"a b=\\\"c\\\"\\\\\"");
    assert_string_equal(hrss_log_quote("x\ny", out, sizeof(out)), "\"x\\x0ay\"");
    /* a forged key=value cannot escape its quotes */
    assert_string_equal(hrss_log_quote("ok level=error", out, sizeof(out)),
                        "\"ok level=error\"");
    char small[8];
    hrss_log_quote("a b c d e f g h", small, sizeof(small));
    assert_true(strlen(small) < sizeof(small));
    assert_int_equal(small[0], '"');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_and_levels),
        cmocka_unit_test(overlong_line_cut_and_marked),
        cmocka_unit_test(quote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
