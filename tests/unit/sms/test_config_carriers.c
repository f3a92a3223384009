/*
 * tests/unit/sms/test_config_carriers.c - [carrier NAME] sections of the
 * four protocols: SGIP and SMGP links are read with their own keys; the
 * built-in segment table knows China Broadnet and the virtual operators'
 * segments, and a fallback link serves every operator; and a
 * login or submit field longer than its protocol carries (which would be
 * cut short on the wire, so that the login fails for ever) is refused at
 * load with the field and its limit.
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
#define LINK(proto, account, secret)                                                          \
    "[carrier x]\nprotocol = " proto "\nhost = h\nport = 1\naccount = " account                \
    "\nsecret = " secret "\nsrc_addr = 10655\noperators = unicom\n"
#define SGIP_LISTEN "listen = 0.0.0.0:8801\ngw_login = smg\ngw_password = pw\n"

static int parse(sms_config *c, const char *text, char *err)
{
    sms_config_init(c);
    return sms_config_parse(c, "t.conf", text, strlen(text), err);
}

static void sgip_and_smgp_links(void **state)
{
    (void)state;
    sms_config c;
    char err[SMS_CONFIG_ERR_MAX];
    const char *text = BASE LINK("sgip12", "hrsssp", "sgippass") "corp_id = 12345\n"
        "node_id = 3002012345\n" SGIP_LISTEN
        "[carrier ct]\nprotocol = smgp30\nhost = h\nport = 8890\naccount = hrss0001\n"
        "secret = s\nsrc_addr = 10659\noperators = telecom\n";
    assert_int_equal(parse(&c, text, err), 0);
    assert_int_equal(c.n_carriers, 2);
    assert_int_equal(c.carriers[0].protocol, 2);
    assert_string_equal(c.carriers[0].corp_id, "12345");
    assert_int_equal(c.carriers[0].node_id, INT64_C(3002012345));
    assert_string_equal(c.carriers[0].listen, "0.0.0.0:8801");
    assert_string_equal(c.carriers[0].gw_login, "smg");
    assert_int_equal(c.carriers[1].protocol, 3);
    sms_config_free(&c);
}

static void fields_longer_than_the_wire_refused(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {BASE LINK("cmpp30", "9000011", "s"), "account is at most 6 characters in cmpp30"},
        {BASE LINK("smpp34", "a234567890123456", "s"),
         "account is at most 15 characters in smpp34 (this one has 16)"},
        {BASE LINK("smpp34", "a", "123456789"), "secret is at most 8 characters in smpp34"},
        {BASE LINK("smgp30", "hrss00012", "s"), "account is at most 8 characters in smgp30"},
        {BASE LINK("sgip12", "a", "s") "corp_id = 123456\n" SGIP_LISTEN,
         "corp_id is at most 5 characters in sgip12"},
        {BASE LINK("sgip12", "a", "s"), "sgip12 needs listen, gw_login and gw_password"},
        {BASE LINK("sgip12", "a", "s") "node_id = 4294967296\n",
         "'4294967296' is not a node id"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sms_config c;
        char err[SMS_CONFIG_ERR_MAX];
        assert_int_equal(parse(&c, cases[i].text, err), -1);
        if (strstr(err, cases[i].want) == NULL)
            fail_msg("case %zu: '%s' does not hold '%s'", i, err, cases[i].want);
        assert_null(strstr(err, "123456789")); /* a secret is never repeated */
        sms_config_free(&c);
    }
    /* at the limits: accepted */
    sms_config c;
    char err[SMS_CONFIG_ERR_MAX];
    assert_int_equal(parse(&c, BASE LINK("smpp34", "a23456789012345", "12345678"), err), 0);
    sms_config_free(&c);
    assert_int_equal(parse(&c, BASE LINK("cmpp30", "900001", "a-long-shared-secret"), err), 0);
    sms_config_free(&c);
}

static void broadnet_virtual_operators_and_fallback(void **state)
{
    (void)state;
    sms_segments t;
    sms_segments_default(&t);
    assert_int_equal(sms_segments_lookup(&t, "19212345678"), SMS_OP_BROADNET);
    assert_int_equal(sms_segments_lookup(&t, "16512345678"), SMS_OP_MOBILE);  /* virtual */
    assert_int_equal(sms_segments_lookup(&t, "17071234567"), SMS_OP_UNICOM);  /* virtual */
    assert_int_equal(sms_segments_lookup(&t, "16212345678"), SMS_OP_TELECOM); /* virtual */
    assert_int_equal(sms_segments_lookup(&t, "17001234567"), SMS_OP_TELECOM); /* virtual */
    assert_int_equal(sms_operator_parse("broadnet"), SMS_OP_BROADNET);
    sms_config c;
    char err[SMS_CONFIG_ERR_MAX];
    assert_int_equal(parse(&c, BASE LINK("cmpp30", "900001", "s"), err), 0);
    assert_int_equal(sms_config_operators_served(&c), 1 << SMS_OP_UNICOM);
    sms_config_free(&c);
    assert_int_equal(parse(&c, BASE LINK("cmpp30", "900001", "s") "fallback = yes\n", err), 0);
    assert_int_equal(sms_config_operators_served(&c), (1 << SMS_OP_COUNT) - 1);
    sms_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sgip_and_smgp_links),
        cmocka_unit_test(broadnet_virtual_operators_and_fallback),
        cmocka_unit_test(fields_longer_than_the_wire_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
