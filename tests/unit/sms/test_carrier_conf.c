/*
 * tests/unit/sms/test_carrier_conf.c - every link setting of a [carrier
 * NAME] section reaches the carrier link's configuration (carrier.h), which
 * the carrier tests drive (tests/integration/test_carrier_*.py): each key is
 * set to a value of its own and found in its field; a section that sets
 * nothing keeps the protocol's defaults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "carrier/carrier.h"
#include "sms/carrier_conf.h"
#include "sms/config.h"

#define BASE "[sms]\ndata_dir = /tmp/s\n[http]\nlisten = 127.0.0.1:0\n"
#define LINK(proto)                                                                           \
    "[carrier x]\nprotocol = " proto "\nhost = h\nport = 1\naccount = a\nsecret = s\n"        \
    "src_addr = 10655\noperators = mobile\n"

static void parse_one(sms_config *c, const char *text, carrier_config *cc)
{
    char err[SMS_CONFIG_ERR_MAX];
    sms_config_init(c);
    if (sms_config_parse(c, "t.conf", text, strlen(text), err) != 0)
        fail_msg("%s", err);
    assert_int_equal(c->n_carriers, 1);
    sms_carrier_to_config(&c->carriers[0], cc);
}

static void every_key_reaches_its_field(void **state)
{
    (void)state;
    sms_config c;
    carrier_config cc;
    parse_one(&c,
              BASE LINK("smpp34") "queue_max = 77\nheartbeat_s = 11\nresponse_timeout_ms = 1234\n"
                                  "retries = 5\nmax_attempts = 6\nreconnect_min_ms = 300\n"
                                  "reconnect_max_ms = 9000\nthrottle_pause_ms = 250\n"
                                  "throttle_max = 4\ncmpp_version = 0x21\nfee_user_type = 3\n"
                                  "fee_type = 02\nfee_code = 000010\nsrc_ton = 5\nsrc_npi = 0\n"
                                  "dst_ton = 2\ndst_npi = 9\nsmpp_msgid_type = 1\n"
                                  "window = 8\nconnections = 2\nrate = 50\n",
              &cc);
    assert_int_equal(cc.protocol, CARRIER_SMPP34);
    assert_int_equal(cc.queue_max, 77);
    assert_int_equal(cc.heartbeat_s, 11);
    assert_int_equal(cc.response_timeout_ms, 1234);
    assert_int_equal(cc.retries, 5);
    assert_int_equal(cc.max_attempts, 6);
    assert_int_equal(cc.reconnect_min_ms, 300);
    assert_int_equal(cc.reconnect_max_ms, 9000);
    assert_int_equal(cc.throttle_pause_ms, 250);
    assert_int_equal(cc.throttle_max, 4);
    assert_int_equal(cc.cmpp_version, 0x21);
    assert_int_equal(cc.fee_user_type, 3);
    assert_string_equal(cc.fee_type, "02");
    assert_string_equal(cc.fee_code, "000010");
    assert_int_equal(cc.src_ton, 5);
    assert_int_equal(cc.src_npi, 0);
    assert_int_equal(cc.dst_ton, 2);
    assert_int_equal(cc.dst_npi, 9);
    assert_int_equal(cc.smpp_msgid_type, 1);
    assert_int_equal(cc.window, 8);
    assert_int_equal(cc.connections, 2);
    assert_int_equal(cc.rate, 50);
    sms_config_free(&c);
}

static void unset_keys_keep_the_protocol_defaults(void **state)
{
    (void)state;
    sms_config c;
    carrier_config cc, want;
    parse_one(&c, BASE LINK("smgp30"), &cc);
    carrier_config_init(&want, CARRIER_SMGP30);
    assert_int_equal(cc.heartbeat_s, want.heartbeat_s);
    assert_int_equal(cc.response_timeout_ms, want.response_timeout_ms);
    assert_int_equal(cc.retries, want.retries);
    assert_int_equal(cc.dst_ton, want.dst_ton);
    assert_int_equal(cc.smpp_msgid_type, -1);
    assert_string_equal(cc.fee_type, "00");
    assert_int_equal(cc.queue_max, 16); /* window x connections: priorities stay in the lanes */
    sms_config_free(&c);
    parse_one(&c, BASE LINK("smpp34") "smpp_msgid_type = -1\n", &cc);
    assert_int_equal(cc.smpp_msgid_type, -1);
    sms_config_free(&c);
}

static void bad_values_refused(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {BASE LINK("smpp34") "dst_ton = 256\n", "'256' is not a byte"},
        {BASE LINK("smpp34") "smpp_msgid_type = 4\n", "'4' is not a whole number from 0 to 3"},
        {BASE LINK("cmpp30") "reconnect_max_ms = 500\n",
         "reconnect_max_ms (500) is below reconnect_min_ms (1000)"},
        {BASE LINK("cmpp30") "fee_code = 1234567\n", "fee_code is at most 6 characters"},
        {BASE LINK("cmpp30") "max_attempts = 0\n", "'0' is not a whole number from 1"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sms_config c;
        char err[SMS_CONFIG_ERR_MAX];
        sms_config_init(&c);
        assert_int_equal(sms_config_parse(&c, "t.conf", cases[i].text, strlen(cases[i].text), err),
                         -1);
        if (strstr(err, cases[i].want) == NULL)
            fail_msg("case %zu: '%s' does not hold '%s'", i, err, cases[i].want);
        sms_config_free(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_key_reaches_its_field),
        cmocka_unit_test(unset_keys_keep_the_protocol_defaults),
        cmocka_unit_test(bad_values_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
