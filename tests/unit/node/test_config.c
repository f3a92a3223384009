/*
 * tests/unit/node/test_config.c - the hrss-node configuration parser: the
 * committed example parses, defaults apply, and every kind of error is
 * refused with FILE:LINE and its rule.
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

#include "node/config.h"

#define BASE "[node]\nsystem_code = S110000Y70P\narea = 110000\ndata_dir = /tmp/n\n"

static int parse(node_config *c, const char *text, char *err)
{
    node_config_init(c);
    return node_config_parse(c, "t.conf", text, strlen(text), err);
}

static void example_file_parses(void **state)
{
    (void)state;
    const char *src = getenv("HRSS_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/etc/hrss-node.conf", src ? src : ".");
    node_config c;
    char err[NODE_CONFIG_ERR_MAX];
    node_config_init(&c);
    int rc = node_config_load(&c, path, err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_string_equal(c.system_code, "S110000N0D1");
    assert_string_equal(c.data_dir, "/var/lib/hrss-node");
    assert_int_equal(c.n_http_listen, 1);
    assert_string_equal(c.http_listen[0], "127.0.0.1:8080");
    assert_int_equal(c.n_https_listen, 0);
    assert_int_equal(c.body_limit, 1024 * 1024);
    assert_int_equal(c.replay_window_sec, 900);
    assert_int_equal(c.audit_retention_sec, 180 * 86400);
    node_config_free(&c);
}

static void values_and_defaults(void **state)
{
    (void)state;
    node_config c;
    char err[NODE_CONFIG_ERR_MAX];
    const char *t = "# comment\n\n  [node]  # trailing\n"
                    "system_code=B100000KJGK\r\narea = 100000\ndata_dir = /d\n"
                    "workers = 3\ndrain_timeout = 1500ms\n"
                    "[http]\nlisten = 127.0.0.1:0, [::1]:8080 ,*:9\nbody_limit = 64K\n"
                    "idle_timeout = 2m\n"
                    "[https]\nlisten = 0.0.0.0:8443\ncert = /c.pem\nkey = /k.pem\n"
                    "[log]\nlevel = debug\naccess = off\n"
                    "[security]\nreplay_window = 300s\nreplay_max_entries = 5000\n"
                    "[upstream]\nbreaker_failures = 7\nbreaker_cooldown = 250ms\n"
                    "ca_file = /etc/hrss/provider-ca.pem\n"
                    "[audit]\nretention = 2h\n";
    if (parse(&c, t, err) != 0)
        fail_msg("%s", err);
    assert_string_equal(c.system_code, "B100000KJGK");
    assert_int_equal(c.workers, 3);
    assert_int_equal(c.drain_timeout_ms, 1500);
    assert_int_equal(c.n_http_listen, 3);
    assert_string_equal(c.http_listen[1], "[::1]:8080");
    assert_string_equal(c.http_listen[2], "*:9");
    assert_int_equal(c.body_limit, 65536);
    assert_int_equal(c.idle_timeout_sec, 120);
    assert_string_equal(c.tls_cert, "/c.pem");
    assert_int_equal(c.log_level, NODE_LOG_DEBUG);
    assert_int_equal(c.log_access, 0);
    assert_int_equal(c.replay_window_sec, 300);
    assert_int_equal(c.audit_retention_sec, 7200);
    assert_int_equal(c.replay_max_entries, 5000);
    assert_int_equal(c.breaker_failures, 7);
    assert_int_equal(c.breaker_cooldown_ms, 250);
    assert_string_equal(c.upstream_ca_file, "/etc/hrss/provider-ca.pem");
    node_config_free(&c);

    if (parse(&c, BASE "[http]\nlisten=127.0.0.1:1\n", err) != 0)
        fail_msg("%s", err);
    assert_int_equal(c.workers, (int)sysconf(_SC_NPROCESSORS_ONLN));
    assert_int_equal(c.drain_timeout_ms, 30000);
    assert_int_equal(c.body_limit, 1024 * 1024);
    assert_int_equal(c.log_level, NODE_LOG_INFO);
    assert_int_equal(c.replay_window_sec, 900);
    assert_int_equal(c.replay_max_entries, 1000000);
    assert_int_equal(c.breaker_failures, 5);
    assert_int_equal(c.breaker_cooldown_ms, 10000);
    assert_null(c.upstream_ca_file); /* the system's store */
    node_config_free(&c);
}

/* Each case: text, expected message fragment (FILE:LINE included). */
static const struct {
    const char *text;
    const char *msg;
} bad[] = {
    {BASE "[http]\nlisten=127.0.0.1:1\nlisten=127.0.0.1:2\n",
     "t.conf:7: duplicate key 'listen' in [http] (first set at line 6)"},
    {BASE "[http]\nlisten=127.0.0.1:1\n[http]\n", "t.conf:7: section [http] already opened at line 5"},
    {BASE "[web]\n", "t.conf:5: unknown section [web]"},
    {BASE "[http]\nport = 80\n", "t.conf:6: unknown key 'port' in [http]"},
    {"listen = 1\n", "t.conf:1: key 'listen' before any [section]"},
    {BASE "[http\n", "t.conf:5: a section header is [name]"},
    {BASE "just words\n", "t.conf:5: expected 'key = value'"},
    {BASE "Workers = 2\n", "t.conf:5: expected 'key = value'"},
    {BASE "workers =\n", "t.conf:5: key 'workers' has no value"},
    {BASE "workers = 0\n", "t.conf:5: '0' is not a worker count"},
    {BASE "workers = 2x\n", "t.conf:5: '2x' is not a worker count"},
    {BASE "workers = -1\n", "t.conf:5: '-1' is not a worker count"},
    {BASE "drain_timeout = 30\n", "t.conf:5: '30' is not a duration"},
    {BASE "drain_timeout = 11m\n", "t.conf:5: '11m' is not a duration"},
    {"[node]\nsystem_code = X110000Y70P\n", "t.conf:2: 'X110000Y70P' is not a system code"},
    {"[node]\narea = 990000\n", "t.conf:2: '990000' is not an area code"},
    {"[node]\ndata_dir = relative/dir\n", "t.conf:2: 'relative/dir' is not an absolute path"},
    {BASE "[http]\nlisten = 127.0.0.1\n", "t.conf:6: '127.0.0.1' is not a listen address"},
    {BASE "[http]\nlisten = 127.0.0.1:65536\n", "'127.0.0.1:65536' is not a listen address"},
    {BASE "[http]\nlisten = ::1:80\n", "'::1:80' is not a listen address"},
    {BASE "[http]\nlisten = a:1,\n", "t.conf:6: trailing comma"},
    {BASE "[http]\nlisten = a:1,,b:2\n", "t.conf:6: empty or overlong address"},
    {BASE "[http]\nlisten = a:1,a:2,a:3,a:4,a:5,a:6,a:7,a:8,a:9\n", "more than 8 listen"},
    {BASE "[http]\nbody_limit = 100\n", "t.conf:6: '100' is not a size from 1K to 64M"},
    {BASE "[http]\nbody_limit = 1G\n", "'1G' is not a size"},
    {BASE "[http]\nidle_timeout = 1500ms\n", "'1500ms' is not a whole number of seconds"},
    {BASE "[log]\nlevel = verbose\n", "t.conf:6: 'verbose' is not a log level"},
    {BASE "[log]\naccess = maybe\n", "'maybe' is not on/off"},
    {BASE "[security]\nreplay_window = 2h\n", "'2h' is not a whole number of seconds"},
    {BASE "[security]\nreplay_window = 99999999999999999999s\n", "is not a whole number"},
    {BASE "[audit]\nretention = 30m\n", "'30m' is not a retention"},
    {BASE "[security]\nreplay_max_entries = 0\n", "t.conf:6: '0' is not a count from 1"},
    {BASE "[upstream]\nbreaker_failures = 1001\n", "'1001' is not a failure count"},
    {BASE "[upstream]\nbreaker_cooldown = 5ms\n", "t.conf:6: '5ms' is not a duration from 10 ms"},
    {BASE "[upstream]\nca_file = ca.pem\n", "t.conf:6: 'ca.pem' is not an absolute path"},
    {"[node]\narea = 110000\ndata_dir = /d\n[http]\nlisten=a:1\n",
     "t.conf: missing required key 'system_code' in [node]"},
    {"[node]\nsystem_code = S110000Y70P\narea = 110000\n[http]\nlisten=a:1\n",
     "missing required key 'data_dir'"},
    {BASE, "t.conf: no listener"},
    {BASE "[https]\nlisten = *:1\ncert = /c\n", "t.conf: [https] listen needs both cert and key"},
    {BASE "[http]\nlisten=a:1\n[https]\ncert = /c\nkey = /k\n", "there is no [https] listen"},
    {"[node]\nsystem_code = S110000Y70P\narea = 120000\ndata_dir = /d\n[http]\nlisten=a:1\n",
     "system_code S110000Y70P does not belong to area 120000"},
    {"[node]\nsystem_code = B100000KJGK\narea = 110000\ndata_dir = /d\n[http]\nlisten=a:1\n",
     "does not belong to area 110000"},
};

static void errors_name_file_line_and_rule(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        node_config c;
        char err[NODE_CONFIG_ERR_MAX];
        int rc = parse(&c, bad[i].text, err);
        if (rc == 0 || strstr(err, bad[i].msg) == NULL)
            fail_msg("case %zu: rc %d, got '%s', want '%s'", i, rc, err, bad[i].msg);
        node_config_free(&c);
    }
}

static void binary_and_oversized_input_refused(void **state)
{
    (void)state;
    node_config c;
    char err[NODE_CONFIG_ERR_MAX];
    node_config_init(&c);
    assert_int_equal(node_config_parse(&c, "t.conf", "[node]\0x", 8, err), -1);
    assert_non_null(strstr(err, "NUL byte"));
    node_config_free(&c);
    assert_int_equal(node_config_parse(&c, "t.conf", "[node]\n\xff\n", 9, err), -1);
    assert_non_null(strstr(err, "UTF-8"));
    node_config_free(&c);

    char *big = malloc(NODE_CONFIG_LINE_MAX + 100);
    assert_non_null(big);
    memset(big, 'a', NODE_CONFIG_LINE_MAX + 99);
    big[NODE_CONFIG_LINE_MAX + 99] = '\0';
    assert_int_equal(node_config_parse(&c, "t.conf", big, strlen(big), err), -1);
    assert_non_null(strstr(err, "t.conf:1: line longer than"));
    node_config_free(&c);
    free(big);

    assert_int_equal(node_config_load(&c, "/nonexistent/hrss.conf", err), -1);
    assert_non_null(strstr(err, "/nonexistent/hrss.conf: No such file"));
    node_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(example_file_parses),
        cmocka_unit_test(values_and_defaults),
        cmocka_unit_test(errors_name_file_line_and_rule),
        cmocka_unit_test(binary_and_oversized_input_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
