/*
 * tests/unit/sms/test_command.c - the uplink command parser (LD/T 6007
 * 6.3.1) on the shipped command table (etc/sms-commands.json, table 1 of
 * 6.3.2): case, full-width forms, "for myself", parameter rules, unknown and
 * malformed commands, and the table loader's error messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sms/command.h"

static sms_cmd_table *table;

static int setup(void **state)
{
    (void)state;
    char path[1024], err[SMS_CMD_ERR_MAX];
    const char *src = getenv("HRSS_SOURCE_DIR");
    snprintf(path, sizeof(path), "%s/etc/sms-commands.json", src ? src : ".");
    table = sms_cmd_table_load_file(path, err);
    if (table == NULL)
        fail_msg("%s", err);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sms_cmd_table_free(table);
    return 0;
}

static sms_cmd parse(const char *text)
{
    sms_cmd c;
    sms_cmd_parse(table, text, strlen(text), &c);
    return c;
}

static void test_table1_loaded(void **state)
{
    (void)state;
    const char *names[] = {"TD", "BD", "QXBD", "QXFW", "MMCZ", "CBXX", "YLZHYE", "LSGS"};
    assert_int_equal(sms_cmd_table_count(table), 8);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_non_null(sms_cmd_table_find(table, names[i]));
    assert_int_equal(sms_cmd_table_find(table, "CBXX")->category, SMS_CMD_QUERY);
    assert_int_equal(sms_cmd_table_find(table, "LSGS")->category, SMS_CMD_BUSINESS);
    assert_int_equal(sms_cmd_table_find(table, "BD")->category, SMS_CMD_MANAGE);
}

static void test_case_insensitive_and_myself(void **state)
{
    (void)state;
    const char *forms[] = {"cbxx", "CBXX", "CbXx#", "  cbxx#  ", "cbxx \r\n"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        sms_cmd c = parse(forms[i]);
        if (c.status != SMS_CMD_OK)
            fail_msg("'%s': status %d (%s)", forms[i], c.status, c.why);
        assert_string_equal(c.def->name, "CBXX");
        assert_int_equal(c.nparams, 0); /* for the sender himself (6.3.1 d) */
    }
    sms_cmd c = parse("td#");
    assert_int_equal(c.status, SMS_CMD_OK);
    assert_string_equal(c.def->handler, "builtin:td");
}

static void test_name_parameter(void **state)
{
    (void)state;
    sms_cmd c = parse("cbxx#张三");
    assert_int_equal(c.status, SMS_CMD_OK);
    assert_int_equal(c.nparams, 1);
    assert_string_equal(c.params[0], "张三");
    c = parse("YLZHYE # 买买提·艾力 ");
    assert_int_equal(c.status, SMS_CMD_OK);
    assert_string_equal(c.params[0], "买买提·艾力");
    c = parse("cbxx#张三3");
    assert_int_equal(c.status, SMS_CMD_MALFORMED);
    assert_non_null(strstr(c.why, "parameter 1 (name)"));
    c = parse("cbxx#张三#李四");
    assert_int_equal(c.status, SMS_CMD_MALFORMED);
    assert_string_equal(c.why, "CBXX takes at most 1 parameter");
}

static void test_full_width_normalised(void **state)
{
    (void)state;
    /* ＢＤ＃<full-width digits>＃１２３４５６ with an ideographic space */
    sms_cmd c = parse("\xef\xbc\xa2\xef\xbc\xa4\xef\xbc\x83"
                      "11010519491231002X"
                      "\xe3\x80\x80\xef\xbc\x83\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93"
                      "\xef\xbc\x94\xef\xbc\x95\xef\xbc\x96");
    if (c.status != SMS_CMD_OK)
        fail_msg("status %d: %s", c.status, c.why);
    assert_string_equal(c.def->name, "BD");
    assert_int_equal(c.nparams, 2);
    assert_string_equal(c.params[0], "11010519491231002X");
    assert_string_equal(c.params[1], "123456");
    char out[64];
    assert_int_equal(sms_cmd_normalise("\xef\xbd\x83\xef\xbd\x82\xef\xbc\x83", 9, out,
                                       sizeof(out)),
                     3);
    assert_string_equal(out, "cb#");
}

static void test_bind_rules(void **state)
{
    (void)state;
    sms_cmd c = parse("bd#11010519491231002x#abc123");
    assert_int_equal(c.status, SMS_CMD_OK);
    assert_string_equal(c.params[0], "11010519491231002X"); /* x normalised */
    c = parse("BD#110105194912310021#123456");
    assert_int_equal(c.status, SMS_CMD_MALFORMED);
    assert_non_null(strstr(c.why, "parameter 1 (ssn): check character"));
    c = parse("BD#11010519491231002X");
    assert_int_equal(c.status, SMS_CMD_MALFORMED);
    assert_string_equal(c.why, "parameter 2 (password) missing");
    c = parse("BD");
    assert_int_equal(c.status, SMS_CMD_MALFORMED);
    assert_string_equal(c.why, "parameter 1 (ssn) missing");
    c = parse("BD##123456");
    assert_int_equal(c.status, SMS_CMD_MALFORMED);
    assert_string_equal(c.why, "parameter 1 is empty");
    c = parse("BD#11010519491231002X#12");
    assert_int_equal(c.status, SMS_CMD_MALFORMED);
    assert_non_null(strstr(c.why, "parameter 2 (password)"));
    c = parse("MMCZ#1234#5678");
    assert_int_equal(c.status, SMS_CMD_OK);
    c = parse("QXBD#11010519491231002X");
    assert_int_equal(c.status, SMS_CMD_OK);
}

static void test_unknown_and_empty(void **state)
{
    (void)state;
    sms_cmd c = parse("hello#1");
    assert_int_equal(c.status, SMS_CMD_UNKNOWN);
    assert_string_equal(c.name, "HELLO");
    assert_null(c.def);
    c = parse("你好");
    assert_int_equal(c.status, SMS_CMD_UNKNOWN);
    assert_string_equal(c.name, ""); /* not a command name: never echoed */
    c = parse("11010519491231002X");
    assert_int_equal(c.status, SMS_CMD_UNKNOWN);
    assert_string_equal(c.name, "");
    c = parse("   \xe3\x80\x80 ");
    assert_int_equal(c.status, SMS_CMD_EMPTY);
    c = parse("#");
    assert_int_equal(c.status, SMS_CMD_UNKNOWN);
    c = parse("\xff\xfe");
    assert_int_equal(c.status, SMS_CMD_UNKNOWN);
    char big[SMS_CMD_TEXT_MAX + 10];
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    c = parse(big);
    assert_int_equal(c.status, SMS_CMD_UNKNOWN);
    char nul[] = {'T', 'D', '\0', '#'};
    sms_cmd_parse(table, nul, sizeof(nul), &c);
    assert_int_equal(c.status, SMS_CMD_UNKNOWN);
}

static void test_usages(void **state)
{
    (void)state;
    char out[512];
    sms_cmd_table_usages(table, " ", out, sizeof(out));
    assert_non_null(strstr(out, "TD# BD#社会保障号码#密码 QXBD#社会保障号码"));
    /* cut at a whole usage */
    sms_cmd_table_usages(table, " ", out, 10);
    assert_string_equal(out, "TD#");
}

static void expect_load_error(const char *json, const char *want)
{
    char err[SMS_CMD_ERR_MAX] = "";
    sms_cmd_table *t = sms_cmd_table_load("t.json", json, strlen(json), err);
    if (t != NULL) {
        sms_cmd_table_free(t);
        fail_msg("loaded: %s", json);
    }
    if (strstr(err, want) == NULL)
        fail_msg("'%s' lacks '%s'", err, want);
}

static void test_load_errors(void **state)
{
    (void)state;
    expect_load_error("{", "t.json:1:");
    expect_load_error("{\"commands\":[]}", "\"commands\" must be an array of 1 to 256");
    expect_load_error("{\"commands\":[{\"name\":\"T1\",\"category\":\"manage\","
                      "\"handler\":\"builtin:x\"}]}",
                      "command 1: name must be letters");
    expect_load_error("{\"commands\":[{\"name\":\"TD\",\"category\":\"other\","
                      "\"handler\":\"builtin:x\"}]}",
                      "command TD: \"category\" must be manage, query or business");
    expect_load_error("{\"commands\":[{\"name\":\"TD\",\"category\":\"manage\","
                      "\"handler\":\"service\"}]}",
                      "handler \"service\" needs \"service\"");
    expect_load_error("{\"commands\":[{\"name\":\"TD\",\"category\":\"manage\","
                      "\"handler\":\"x\"}]}",
                      "\"handler\" must be");
    expect_load_error("{\"commands\":[{\"name\":\"TD\",\"category\":\"manage\","
                      "\"handler\":\"builtin:td\"},{\"name\":\"td\",\"category\":\"manage\","
                      "\"handler\":\"builtin:td\"}]}",
                      "command TD defined twice");
    expect_load_error("{\"commands\":[{\"name\":\"CX\",\"category\":\"query\","
                      "\"handler\":\"builtin:x\",\"params\":[{\"name\":\"a\",\"type\":\"date\"}]}]}",
                      "command CX param 1: unknown type");
    expect_load_error("{\"commands\":[{\"name\":\"CX\",\"category\":\"query\","
                      "\"handler\":\"builtin:x\",\"params\":[{\"name\":\"a\",\"optional\":true},"
                      "{\"name\":\"b\"}]}]}",
                      "a required parameter after an optional one");
    expect_load_error("{\"commands\":[{\"name\":\"CX\",\"category\":\"query\","
                      "\"handler\":\"builtin:x\",\"usage\":\"CX\",\"usage\":\"CX#\"}]}",
                      "duplicate");
}

static void test_province_adds_a_command(void **state)
{
    (void)state;
    /* a province's own service command, without code (6.3.2) */
    const char *json = "{\"commands\":[{\"name\":\"JYDJ\",\"category\":\"query\","
                       "\"usage\":\"JYDJ#姓名\",\"handler\":\"service\","
                       "\"service\":\"S370000mlb2Ab12\",\"area\":\"370000\","
                       "\"request\":{\"aac003\":\"${name}\"},\"reply\":\"jydj\","
                       "\"params\":[{\"name\":\"name\",\"type\":\"name\",\"optional\":true}]}]}";
    char err[SMS_CMD_ERR_MAX];
    sms_cmd_table *t = sms_cmd_table_load("p.json", json, strlen(json), err);
    assert_non_null(t);
    sms_cmd c;
    sms_cmd_parse(t, "jydj#李四", strlen("jydj#李四"), &c);
    assert_int_equal(c.status, SMS_CMD_OK);
    assert_string_equal(c.def->service, "S370000mlb2Ab12");
    assert_string_equal(json_string_value(json_object_get(c.def->request, "aac003")),
                        "${name}");
    sms_cmd_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table1_loaded),
        cmocka_unit_test(test_case_insensitive_and_myself),
        cmocka_unit_test(test_name_parameter),
        cmocka_unit_test(test_full_width_normalised),
        cmocka_unit_test(test_bind_rules),
        cmocka_unit_test(test_unknown_and_empty),
        cmocka_unit_test(test_usages),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_province_adds_a_command),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
