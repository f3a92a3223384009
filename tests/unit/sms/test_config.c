/*
 * tests/unit/sms/test_config.c - the hrss-sms configuration parser: the
 * committed example parses, defaults apply, carrier sections and segment
 * lists are read, and errors name FILE:LINE and the rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sms/config.h"

#define BASE "[sms]\ndata_dir = /tmp/s\n[http]\nlisten = 127.0.0.1:0\n"

static int parse(sms_config *c, const char *text, char *err)
{
    sms_config_init(c);
    return sms_config_parse(c, "t.conf", text, strlen(text), err);
}

static void example_file_parses(void **state)
{
    (void)state;
    const char *src = getenv("HRSS_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/etc/hrss-sms.conf", src ? src : ".");
    sms_config c;
    char err[SMS_CONFIG_ERR_MAX];
    sms_config_init(&c);
    if (sms_config_load(&c, path, err) != 0)
        fail_msg("%s", err);
    assert_string_equal(c.data_dir, "/var/lib/hrss-sms");
    assert_int_equal(c.max_parts, 10);
    assert_int_equal(c.n_carriers, 0);
    sms_config_free(&c);
}

static void values_and_carriers(void **state)
{
    (void)state;
    sms_config c;
    char err[SMS_CONFIG_ERR_MAX];
    int rc = parse(&c,
                   BASE "[queue]\nbatch_max = 10\nvalidity = 2h\n[segments]\nunicom = 140\n"
                        "[carrier cm1]\nprotocol = cmpp\nhost = 127.0.0.1\nport = 7890\n"
                        "account = 901234\nsecret = s3\nsrc_addr = 10658012333\n"
                        "operators = mobile, telecom\n"
                        "[carrier cu]\nprotocol = smpp\nhost = h\nport = 2775\naccount = a\n"
                        "secret = b\nsrc_addr = 12333\noperators = unicom\nwindow = 4\n",
                   err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_int_equal(c.batch_max, 10);
    assert_int_equal(c.validity_ms, 7200000);
    assert_int_equal(c.n_carriers, 2);
    assert_string_equal(c.carriers[0].name, "cm1");
    assert_int_equal(c.carriers[0].operators, (1 << SMS_OP_MOBILE) | (1 << SMS_OP_TELECOM));
    assert_int_equal(c.carriers[1].protocol, 1);
    assert_int_equal(c.carriers[1].window, 4);
    assert_int_equal(sms_segments_lookup(&c.segments, "14012345678"), SMS_OP_UNICOM);
    sms_config_free(&c);
    /* the uplink and the platform node, after the carriers */
    rc = parse(&c,
               BASE "[carrier cm1]\nprotocol = cmpp\nhost = h\nport = 1\naccount = a\n"
                    "secret = s\nsrc_addr = 1\noperators = mobile\n"
                    "[uplink]\ncommands = /etc/c.json\nreplies = /etc/r.json\naccount = 12333\n"
                    "threads = 4\npassword_failures = 3\npassword_lock = 10m\n"
                    "[platform]\nnode_url = http://127.0.0.1:8080\nsystem_code = B100000DXPT\n"
                    "secret = k\nsm4_key = 1234567890123456\ntimeout = 2s\n",
               err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_string_equal(c.uplink_commands, "/etc/c.json");
    assert_int_equal(c.uplink_threads, 4);
    assert_int_equal(c.uplink_max_failures, 3);
    assert_int_equal(c.uplink_lock_sec, 600);
    assert_string_equal(c.platform_sm4_key, "1234567890123456");
    assert_int_equal(c.platform_timeout_ms, 2000);
    assert_int_equal(c.n_carriers, 1);
    sms_config_free(&c);
}

static void errors_name_line_and_rule(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {"[sms]\n", "t.conf: [sms] data_dir is required"},
        {BASE "[nope]\n", "t.conf:5: unknown section [nope]"},
        {BASE "[sms]\n", "t.conf:5: section [sms] given twice"},
        {BASE "[queue]\nbatch_max = 0\n", "t.conf:6: '0' is not a whole number"},
        {BASE "[queue]\nvalidity = 5\n", "t.conf:6: '5' is not a duration"},
        {BASE "[queue]\nfoo = 1\n", "t.conf:6: unknown key 'foo' in [queue]"},
        {BASE "[segments]\nmobile = 186\n", "already belongs to unicom"},
        {BASE "[carrier x]\nprotocol = cmpp\n", "[carrier x] needs host"},
        {BASE "[carrier x]\nprotocol = x25\n", "'x25' is not a protocol"},
        {BASE "[carrier A]\n", "a carrier name is 1 to 32"},
        {"[sms]\ndata_dir = /tmp/s\n", "no listener"},
        {"[sms]\ndata_dir = rel\n", "not an absolute path"},
        {"data_dir = /x\n", "outside a section"},
        {BASE "[platform]\nsm4_key = 123\n", "an SM4 key is 16 characters"},
        {BASE "[platform]\nnode_url = ftp://x\n", "is not an http:// or https:// URL"},
        {BASE "[uplink]\nthreads = 0\n", "t.conf:6: '0' is not a whole number from 1 to 32"},
        {BASE "[uplink]\ncommands = rel.json\n", "not an absolute path"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sms_config c;
        char err[SMS_CONFIG_ERR_MAX];
        assert_int_equal(parse(&c, cases[i].text, err), -1);
        if (strstr(err, cases[i].want) == NULL)
            fail_msg("case %zu: '%s' does not hold '%s'", i, err, cases[i].want);
        sms_config_free(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(example_file_parses),
        cmocka_unit_test(values_and_carriers),
        cmocka_unit_test(errors_name_line_and_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
