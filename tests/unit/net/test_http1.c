/*
 * tests/unit/net/test_http1.c - the HTTP/1.1 parsers of net/http1.c: a
 * request head arriving in pieces, keep-alive rules of 1.0 and 1.1,
 * Content-Length and chunked framing, the limits, and every kind of
 * malformed or smuggling-prone head refused with its status; response
 * heads and chunked bodies decoded in place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/http1.h"

static int req(const char *text, http1_request *r)
{
    return http1_parse_request(text, strlen(text), 16384, r);
}

static void post_with_body(void **state)
{
    (void)state;
    const char *t = "POST /api/v1/transaction?x=1 HTTP/1.1\r\nHost: a\r\n"
                    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    http1_request r;
    int rc = req(t, &r);
    assert_int_equal(rc, (int)strlen(t) - 2);
    assert_int_equal(r.method, HTTP1_POST);
    assert_int_equal(r.minor, 1);
    assert_true(r.keep_alive);
    assert_false(r.chunked);
    assert_int_equal(r.content_length, 2);
    assert_int_equal(r.target_len, strlen("/api/v1/transaction?x=1"));
    assert_int_equal(r.path_len, strlen("/api/v1/transaction"));
    assert_memory_equal(r.target, "/api/v1/transaction", r.path_len);
}

static void every_prefix_needs_more(void **state)
{
    (void)state;
    const char *t = "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    http1_request r;
    for (size_t n = 0; n < strlen(t); n++)
        assert_int_equal(http1_parse_request(t, n, 16384, &r), HTTP1_MORE);
    assert_int_equal(req(t, &r), (int)strlen(t));
    assert_int_equal(r.method, HTTP1_GET);
    assert_false(r.keep_alive);
}

static void methods_and_versions(void **state)
{
    (void)state;
    http1_request r;
    assert_true(req("HEAD / HTTP/1.1\r\n\r\n", &r) > 0);
    assert_int_equal(r.method, HTTP1_HEAD);
    assert_true(req("DELETE /x HTTP/1.1\r\n\r\n", &r) > 0);
    assert_int_equal(r.method, HTTP1_OTHER);
    /* 1.0: closes unless asked to keep the connection */
    assert_true(req("GET / HTTP/1.0\r\n\r\n", &r) > 0);
    assert_false(r.keep_alive);
    assert_true(req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r) > 0);
    assert_true(r.keep_alive);
    assert_true(req("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &r) > 0);
    assert_false(r.keep_alive);
    /* bare LF line ends */
    assert_true(req("GET / HTTP/1.1\nHost: a\n\n", &r) > 0);
    assert_int_equal(req("GET / HTTP/2.0\r\n\r\n", &r), -505);
    assert_int_equal(req("GET / FTP/1.0\r\n\r\n", &r), -400);
}

static void malformed_heads_are_400(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "GET\r\n\r\n",
        " GET / HTTP/1.1\r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
        "GET x HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1 \r\n\r\n",
        "GET /a\x01 HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nNo colon\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        "GET / HTTP/1.1\r\n: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        http1_request r;
        int rc = req(bad[i], &r);
        if (rc != -400)
            fail_msg("case %zu: %d", i, rc);
        assert_non_null(r.error);
    }
}

static void framing_and_expect(void **state)
{
    (void)state;
    http1_request r;
    /* the same length twice is one length */
    assert_true(req("POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", &r) > 0);
    assert_int_equal(r.content_length, 5);
    assert_true(req("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", &r) > 0);
    assert_true(r.chunked);
    assert_int_equal(req("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &r), -501);
    assert_int_equal(
        req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            &r),
        -501);
    assert_true(req("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", &r) > 0);
    assert_true(r.expect_continue);
    assert_int_equal(req("POST / HTTP/1.1\r\nExpect: magic\r\n\r\n", &r), -417);
}

static void head_limit_is_431(void **state)
{
    (void)state;
    char big[600];
    http1_request r;
    memset(big, 0, sizeof(big));
    snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX-Pad: ");
    memset(big + strlen(big), 'a', 500);
    /* over the limit before the head ends: refused without waiting */
    assert_int_equal(http1_parse_request(big, strlen(big), 256, &r), -431);
    memcpy(big + strlen(big), "\r\n\r\n", 5);
    assert_int_equal(http1_parse_request(big, strlen(big), 256, &r), -431);
    assert_true(http1_parse_request(big, strlen(big), 1024, &r) > 0);
    /* a request line alone over the limit */
    char line[400] = "GET /";
    memset(line + 5, 'b', 300);
    assert_int_equal(http1_parse_request(line, strlen(line), 256, &r), -431);
}

static void responses(void **state)
{
    (void)state;
    http1_response r;
    const char *t = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    assert_int_equal(http1_parse_response(t, strlen(t), 16384, &r), (int)strlen(t) - 3);
    assert_int_equal(r.status, 200);
    assert_true(r.has_length);
    assert_true(r.keep_alive);
    assert_int_equal(r.content_length, 3);
    t = "HTTP/1.0 500 Internal Server Error\r\n\r\n";
    assert_true(http1_parse_response(t, strlen(t), 16384, &r) > 0);
    assert_int_equal(r.status, 500);
    assert_false(r.has_length);
    assert_false(r.keep_alive);
    t = "HTTP/1.1 204\r\n\r\n";
    assert_true(http1_parse_response(t, strlen(t), 16384, &r) > 0);
    assert_true(r.has_length);
    assert_int_equal(r.content_length, 0);
    t = "HTTP/1.1 100 Continue\r\n\r\n";
    assert_true(http1_parse_response(t, strlen(t), 16384, &r) > 0);
    assert_int_equal(r.status, 100);
    t = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_true(http1_parse_response(t, strlen(t), 16384, &r) > 0);
    assert_true(r.chunked);
    assert_int_equal(http1_parse_response("HTTP/1.1 200", 12, 16384, &r), HTTP1_MORE);
    static const char *const bad[] = {
        "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 600 X\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n",
        "HTTX/1.1 200 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nBad\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(http1_parse_response(bad[i], strlen(bad[i]), 16384, &r), -502);
}

static void chunked_bodies(void **state)
{
    (void)state;
    const char *t = "4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX: y\r\n\r\n";
    size_t len = strlen(t), out = 0;
    char buf[128];
    /* every prefix: incomplete, and left as it was */
    for (size_t n = 0; n < len; n++) {
        memcpy(buf, t, len);
        assert_int_equal(http1_dechunk(buf, n, 1000, &out), 0);
        assert_memory_equal(buf, t, len);
    }
    memcpy(buf, t, len);
    assert_int_equal(http1_dechunk(buf, len, 1000, &out), (long)len);
    assert_int_equal(out, 23);
    assert_memory_equal(buf, "Wikipedia in\r\n\r\nchunks.", 23);
    /* bare LF, and bytes after the body are not used */
    snprintf(buf, sizeof(buf), "3\nabc\n0\n\nNEXT");
    assert_int_equal(http1_dechunk(buf, strlen(buf), 1000, &out), 9);
    assert_int_equal(out, 3);
    /* over the limit, malformed */
    snprintf(buf, sizeof(buf), "10\r\n0123456789abcdef\r\n0\r\n\r\n");
    assert_int_equal(http1_dechunk(buf, strlen(buf), 15, &out), -1);
    static const char *const bad[] = {"x\r\n", "3\r\nabcX0\r\n\r\n", "\r\n",
                                      "1234567890123456\r\n", "3 x\r\nabc\r\n0\r\n\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(buf, sizeof(buf), "%s", bad[i]);
        long rc = http1_dechunk(buf, strlen(buf), 1000, &out);
        if (i == 4) /* "3 x": whitespace then an extension-like tail is tolerated */
            assert_true(rc > 0);
        else
            assert_int_equal(rc, -1);
    }
}

static void reasons(void **state)
{
    (void)state;
    assert_string_equal(http1_reason(200), "OK");
    assert_string_equal(http1_reason(413), "Content Too Large");
    assert_string_equal(http1_reason(299), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(post_with_body),        cmocka_unit_test(every_prefix_needs_more),
        cmocka_unit_test(methods_and_versions),  cmocka_unit_test(malformed_heads_are_400),
        cmocka_unit_test(framing_and_expect),    cmocka_unit_test(head_limit_is_431),
        cmocka_unit_test(responses),             cmocka_unit_test(chunked_bodies),
        cmocka_unit_test(reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
