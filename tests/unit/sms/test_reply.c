/*
 * tests/unit/sms/test_reply.c - reply templates (LD/T 6007 6.2.2): the
 * shipped file loads with every reply the engine needs and each fits in one
 * message with realistic values; placeholders, limits and load errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sms/reply.h"

/* 70 UCS2 characters less a 7-character signature such as 【12333】 */
#define ROOM 63

static const char *const needed[] = {
    "unknown",   "malformed",    "empty",   "try_later",  "td_ok",     "bd_ok",
    "bd_already", "bd_moved_old", "bd_no_person", "bd_full", "bad_password", "locked",
    "qxbd_ok",   "not_bound",    "qxfw_ok", "no_binding", "name_unknown",
    "name_ambiguous", "mmcz_ok", "cbxx", "ylzhye", "lsgs", NULL};

static void test_shipped_replies_fit(void **state)
{
    (void)state;
    char path[1024], err[SMS_REPLY_ERR_MAX];
    const char *src = getenv("HRSS_SOURCE_DIR");
    snprintf(path, sizeof(path), "%s/etc/sms-replies.json", src ? src : ".");
    sms_replies *r = sms_replies_load_file(path, needed, ROOM, err);
    if (r == NULL)
        fail_msg("%s", err);
    /* the longest values each reply can receive */
    const sms_var vars[] = {
        {"commands", "TD BD QXBD QXFW MMCZ CBXX YLZHYE LSGS"},
        {"usage", "MMCZ#原密码#新密码"},
        {"name", "买买提·艾力"},
        {"ssn", "440101********0236"},
        {"left", "4"},
        {"minutes", "30"},
        {"count", "16"},
        {"data.cardStatus", "临时挂失"},
        {"data.aaz500", "A123*****"},
        {"data.balance", "123456.78"},
        {"data.paidMonths", "360"},
        {"data.asOf", "2026-11-23"},
        {"data.workOrder", "LSGS202611230001"},
    };
    for (size_t i = 0; needed[i] != NULL; i++) {
        char *t = sms_render(sms_replies_get(r, needed[i]), vars, sizeof(vars) / sizeof(vars[0]),
                             ROOM, err, sizeof(err));
        if (t == NULL)
            fail_msg("%s: %s", needed[i], err);
        free(t);
    }
    sms_replies_free(r);
}

static void test_render(void **state)
{
    (void)state;
    char err[SMS_REPLY_ERR_MAX];
    const sms_var v[] = {{"name", "张三"}, {"ssn", "440101********0236"}};
    char *t = sms_render("绑定成功：${name}，${ssn}。", v, 2, 70, err, sizeof(err));
    assert_string_equal(t, "绑定成功：张三，440101********0236。");
    free(t);
    t = sms_render("no placeholders", v, 2, 0, err, sizeof(err));
    assert_string_equal(t, "no placeholders");
    free(t);
    t = sms_render("$ {x} $x ${name}$", v, 2, 0, err, sizeof(err));
    assert_string_equal(t, "$ {x} $x 张三$");
    free(t);
    assert_null(sms_render("${missing}", v, 2, 0, err, sizeof(err)));
    assert_string_equal(err, "no value for ${missing}");
    const sms_var f[] = {{"data.cardStatus", "正常"}};
    t = sms_render("卡状态：${data.cardStatus}", f, 1, 0, err, sizeof(err));
    assert_string_equal(t, "卡状态：正常");
    free(t);
    assert_null(sms_render("${bad-name}", v, 2, 0, err, sizeof(err)));
    assert_string_equal(err, "malformed placeholder");
    assert_null(sms_render("${name}一二三", v, 2, 4, err, sizeof(err)));
    assert_string_equal(err, "5 characters, at most 4");
    t = sms_render("${name}一二", v, 2, 4, err, sizeof(err));
    assert_string_equal(t, "张三一二");
    free(t);
    const sms_var bad[] = {{"name", "\xc3"}};
    assert_null(sms_render("${name}", bad, 1, 0, err, sizeof(err)));
    assert_string_equal(err, "value of ${name} is not valid UTF-8");
}

static void expect_load_error(const char *json, size_t max, const char *want)
{
    char err[SMS_REPLY_ERR_MAX] = "";
    const char *const req[] = {"a", NULL};
    sms_replies *r = sms_replies_load("r.json", json, strlen(json), req, max, err);
    if (r != NULL) {
        sms_replies_free(r);
        fail_msg("loaded: %s", json);
    }
    if (strstr(err, want) == NULL)
        fail_msg("'%s' lacks '%s'", err, want);
}

static void test_load_errors(void **state)
{
    (void)state;
    expect_load_error("[", 0, "r.json:1:");
    expect_load_error("[]", 0, "must be an object");
    expect_load_error("{\"a\": 1}", 0, "r.json: a: must be a non-empty string");
    expect_load_error("{\"a\": \"\"}", 0, "a: must be a non-empty string");
    expect_load_error("{\"a\": \"x ${y\"}", 0, "a: malformed placeholder");
    expect_load_error("{\"a\": \"x ${}\"}", 0, "a: malformed placeholder");
    expect_load_error("{\"a\": \"一二三四五${x}\"}", 4, "a: 5 characters without its values, at most 4");
    expect_load_error("{\"b\": \"x\"}", 0, "reply \"a\" missing");
    expect_load_error("{\"a\": \"x\", \"a\": \"y\"}", 0, "duplicate");
    char err[SMS_REPLY_ERR_MAX];
    const char *ok = "{\"a\": \"一二三四${x}\"}";
    sms_replies *r = sms_replies_load("r.json", ok, strlen(ok), NULL, 4, err);
    assert_non_null(r);
    assert_string_equal(sms_replies_get(r, "a"), "一二三四${x}");
    assert_null(sms_replies_get(r, "zz"));
    sms_replies_free(r);
    assert_null(sms_replies_load_file("/nonexistent/r.json", NULL, 0, err));
    assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_replies_fit),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_load_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
