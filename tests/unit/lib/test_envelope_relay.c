/*
 * tests/unit/lib/test_envelope_relay.c - hrss_envelope_parse_relay: the
 * verdicts and messages of hrss_envelope_parse on the standard's examples
 * and on refusals of each kind, whether the one-pass scanner settles them
 * or the full parser does; the header read without a JSON tree (values,
 * the timestamp alias, escapes decoded), the body checked and not kept,
 * and the envelope usable like any other (set, validate, serialise,
 * signature). fuzz/fuzz_envelope_scan.c compares the two parsers on any
 * bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hrss/hrss.h"
#include "lib/envelope_private.h"

#include "envelope_data.h"

#define HEAD                                                                                       \
    "\"header\":{\"serviceCode\":\"S110000Y70PYTjb\",\"appCode\":\"B100000KJGK\","              \
    "\"serviceAreaCode\":\"110000\",\"serviceReqId\":\"B100000KJGK20170122100000001\","         \
    "\"serviceReqTime\":\"20170122101020\",\"nonce\":\"dbea7d58e3014126897614c8\"}"

/* The relay parse gives what the full parse gives; returns the relay's
 * envelope (NULL on a refusal) and the fast path's verdict in *verdict. */
static hrss_envelope *same_as_full(const char *text, size_t len, hrss_envelope_kind kind,
                                   int *verdict)
{
    hrss_envelope *full = NULL, *relay = NULL, *fast = NULL;
    hrss_error ef = {0}, er = {0};
    int rf = hrss_envelope_parse(text, len, kind, &full, NULL, NULL, &ef);
    int rr = hrss_envelope_parse_relay(text, len, kind, &relay, &er);
    *verdict = hrss__envelope_parse_fast(text, len, kind, &fast);
    hrss_envelope_free(fast);
    assert_int_equal(rr, rf);
    if (rf != HRSS_OK) {
        assert_null(relay);
        assert_int_equal(er.code, ef.code);
        assert_string_equal(er.msg, ef.msg);
        assert_int_not_equal(*verdict, HRSS__SCAN_ACCEPT);
        return NULL;
    }
    static const char *const f[] = {"serviceCode", "appCode",        "serviceAreaCode", "serviceReqId",
                                    "serviceReqTime", "nonce",       "signature",       "timestamp",
                                    "commStatus",  "serviceResId",   "msg"};
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        const char *a = hrss_envelope_get(full, f[i]), *b = hrss_envelope_get(relay, f[i]);
        assert_true((a == NULL) == (b == NULL));
        if (a != NULL)
            assert_string_equal(a, b);
    }
    assert_null(hrss_envelope_body(relay));
    hrss_envelope_free(full);
    return relay;
}

static void standard_examples(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        hrss_envelope_kind kind;
    } ex[] = {
        {"std-6.2.2.1.1-request.json", HRSS_ENV_REQUEST},
        {"std-6.2.2.1.2-response.json", HRSS_ENV_RESPONSE},
        {"std-6.2.2.2.1-paged-request.json", HRSS_ENV_REQUEST},
        {"std-6.2.2.2.2-paged-response.json", HRSS_ENV_RESPONSE},
        {"std-6.2.2.3.2-batch-response.json", HRSS_ENV_RESPONSE},
        {"std-6.2.1.4-success-response.json", HRSS_ENV_RESPONSE},
        {"std-6.2.1.4-failure-response.json", HRSS_ENV_RESPONSE},
    };
    for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
        size_t len;
        int verdict;
        char *text = read_data(ex[i].file, &len);
        hrss_envelope *e = same_as_full(text, len, ex[i].kind, &verdict);
        assert_non_null(e);
        assert_int_equal(verdict, HRSS__SCAN_ACCEPT); /* the common case is the fast one */
        hrss_envelope_free(e);
        free(text);
    }
    /* the batch request as printed: refused with the same message (its
     * serviceReqId has 27 characters, see tests/data/envelopes/README.md) */
    size_t len;
    int verdict;
    char *text = read_data("std-6.2.2.3.1-batch-request.json", &len);
    assert_null(same_as_full(text, len, HRSS_ENV_REQUEST, &verdict));
    assert_int_equal(verdict, HRSS__SCAN_REJECT);
    free(text);
}

/* Refusals of every kind, with the full parser's message. */
static void refusals(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "[]",
        "{}",
        "{" HEAD "}",                                 /* no body */
        "{" HEAD ",\"body\":[]}",                     /* body of the wrong type */
        "{" HEAD ",\"body\":{},\"x\":1}",             /* an unknown member */
        "{" HEAD ",\"body\":{}} x",                   /* text after the value */
        "{" HEAD ",\"body\":{\"a\":1,\"a\":2}}",      /* a duplicate key */
        "{" HEAD ",\"body\":{\"a\":1,\"\\u0061\":2}}", /* the same key, escaped */
        "{" HEAD ",\"body\":{\"a\":\"\\u0000\"}}",    /* U+0000 */
        "{" HEAD ",\"body\":{\"a\":\"\xc3\"}}",       /* invalid UTF-8 */
        "{" HEAD ",\"body\":{\"a\":\"\xed\xa0\x80\"}}", /* an encoded surrogate */
        "{" HEAD ",\"body\":{\"a\":\"\\udc00\"}}",    /* a lone low surrogate */
        "{" HEAD ",\"body\":{\"a\":\"\\ud800x\"}}",   /* a lone high surrogate */
        "{" HEAD ",\"body\":{\"a\":01}}",             /* a leading zero */
        "{" HEAD ",\"body\":{\"a\":9223372036854775808}}", /* too big an integer */
        "{" HEAD ",\"body\":{\"a\":1e400}}",          /* a real overflow */
        "{" HEAD ",\"body\":{\"a\":tru}}",
        "{" HEAD ",\"body\":{\"a\":\"x\ty\"}}",       /* a raw control character */
        "{" HEAD ",\"body\":{\"a\":1,}}",
        "{\"header\":{\"appCode\":\"B100000KJGK\"},\"body\":{}}", /* missing fields */
        "{\"header\":{\"serviceCode\":\"S110000Y70PYTjb\",\"appCode\":\"B100000KJGK\","
        "\"serviceAreaCode\":\"110000\",\"serviceReqId\":\"B100000KJGK20170122100000001\","
        "\"serviceReqTime\":\"20170122101020\",\"timestamp\":\"20170122101020\"},\"body\":{}}",
        "{\"header\":{\"serviceCode\":\"S110000Y70PYTjb\",\"appCode\":\"B100000KJGK\","
        "\"serviceAreaCode\":\"110000\",\"serviceReqId\":\"B100000KJGK20170122100000001\","
        "\"serviceReqTime\":\"20170230101020\"},\"body\":{}}", /* not a calendar date */
        "{\"header\":{\"serviceCode\":\"S110000Y70PYTjb\",\"appCode\":\"B100000KJGK\","
        "\"serviceAreaCode\":\"110000\",\"serviceReqId\":\"B100000KJGK20170122100000001\","
        "\"serviceReqTime\":\"20170122101020\",\"bad-key\":\"1\"},\"body\":{}}",
        "{\"header\":{\"serviceCode\":1},\"body\":{}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int verdict;
        assert_null(same_as_full(bad[i], strlen(bad[i]), HRSS_ENV_REQUEST, &verdict));
    }
    /* sizes: a body over 100K characters, nesting over 64 levels */
    size_t n = 200000;
    char *big = malloc(n + 256);
    assert_non_null(big);
    int k = snprintf(big, 256, "{" HEAD ",\"body\":{\"a\":\"");
    memset(big + k, 'x', 102400);
    memcpy(big + k + 102400, "\"}}", sizeof("\"}}"));
    int verdict;
    assert_null(same_as_full(big, strlen(big), HRSS_ENV_REQUEST, &verdict));
    assert_int_equal(verdict, HRSS__SCAN_REJECT);
    /* {"a":"..."} with 102392 characters of value is exactly the limit */
    memcpy(big + k + 102393, "\"}}", sizeof("\"}}"));
    assert_null(same_as_full(big, strlen(big), HRSS_ENV_REQUEST, &verdict));
    assert_int_equal(verdict, HRSS__SCAN_REJECT);
    memcpy(big + k + 102392, "\"}}", sizeof("\"}}"));
    hrss_envelope *e = same_as_full(big, strlen(big), HRSS_ENV_REQUEST, &verdict);
    assert_non_null(e);
    assert_int_equal(verdict, HRSS__SCAN_ACCEPT);
    hrss_envelope_free(e);
    k = snprintf(big, 256, "{" HEAD ",\"body\":");
    for (int d = 0; d < 63; d++)
        big[k++] = '[';
    for (int d = 0; d < 63; d++)
        big[k++] = ']';
    memcpy(big + k, "}", sizeof("}"));
    assert_null(same_as_full(big, strlen(big), HRSS_ENV_REQUEST, &verdict)); /* an array body */
    k = snprintf(big, 256, "{" HEAD ",\"body\":{\"a\":");
    for (int d = 0; d < 62; d++)
        big[k++] = '[';
    for (int d = 0; d < 62; d++)
        big[k++] = ']';
    memcpy(big + k, "}}", sizeof("}}"));
    e = same_as_full(big, strlen(big), HRSS_ENV_REQUEST, &verdict); /* 64 levels */
    assert_non_null(e);
    hrss_envelope_free(e);
    k = snprintf(big, 256, "{" HEAD ",\"body\":{\"a\":");
    for (int d = 0; d < 63; d++)
        big[k++] = '[';
    for (int d = 0; d < 63; d++)
        big[k++] = ']';
    memcpy(big + k, "}}", sizeof("}}"));
    assert_null(same_as_full(big, strlen(big), HRSS_ENV_REQUEST, &verdict)); /* 65 */
    free(big);
}

/* Escapes and numbers the scanner reads itself; the header decoded. */
static void escapes_and_numbers(void **state)
{
    (void)state;
    const char *text =
        "{\"header\":{\"serviceCode\":\"S110000Y70PYTjb\",\"appCode\":\"B100000KJGK\","
        "\"serviceAreaCode\":\"110000\",\"serviceReqId\":\"B100000KJGK20170122100000001\","
        "\"t\\u0069mestamp\":\"20170122101020\",\"note\":\"\\u4e2d\\t\\\"x\\\"\"},"
        "\"body\":{\"s\":\"\\ud834\\udd1e\\n\\/\\u001f\",\"n\":[0,-0,1.5,-2e-7,1E+30,true,null]}}";
    int verdict;
    hrss_envelope *e = same_as_full(text, strlen(text), HRSS_ENV_REQUEST, &verdict);
    assert_non_null(e);
    assert_int_equal(verdict, HRSS__SCAN_ACCEPT);
    assert_string_equal(hrss_envelope_get(e, "serviceReqTime"), "20170122101020");
    assert_string_equal(hrss_envelope_get(e, "note"), "\xe4\xb8\xad\t\"x\"");
    hrss_envelope_free(e);
}

/* A relay envelope is an envelope: set, validate, serialise, sign, verify. */
static void usable_as_an_envelope(void **state)
{
    (void)state;
    const char *text = "{" HEAD ",\"body\":{\"aac002\":\"440101199001019090\"}}";
    hrss_sig_key k = {.profile = HRSS_SIG_HMAC_SM3,
                      .secret = (const unsigned char *)"0123456789abcdef0123",
                      .secret_len = 20};
    hrss_hmac_sm3_key *hk = NULL;
    hrss_envelope *e = NULL, *full = NULL;
    hrss_error err = {0};
    char *s = NULL;
    size_t n = 0;

    assert_int_equal(hrss_hmac_sm3_key_new(k.secret, k.secret_len, &hk), HRSS_OK);
    /* signed as a whole envelope, then read by the relay parse */
    assert_int_equal(hrss_envelope_parse(text, strlen(text), HRSS_ENV_REQUEST, &full, NULL, NULL,
                                         &err),
                     HRSS_OK);
    assert_int_equal(hrss_envelope_sign(full, &k, &err), HRSS_OK);
    assert_int_equal(hrss_envelope_serialize(full, &s, &n), HRSS_OK);
    assert_int_equal(hrss_envelope_parse_relay(s, n, HRSS_ENV_REQUEST, &e, &err), HRSS_OK);
    hrss_free(s);
    assert_int_equal(hrss_envelope_verify(e, &k, &err), HRSS_OK);
    assert_int_equal(hrss_envelope_verify_hmac(e, hk, &err), HRSS_OK);
    assert_int_equal(hrss_envelope_validate(e, NULL, NULL, &err), HRSS_OK);

    /* a response built from it */
    hrss_envelope *res = NULL;
    assert_int_equal(hrss_envelope_new_response(e, "S110000Y70P20190618100100001",
                                                HRSS_COMM_SIGNATURE, NULL, "nonce replayed", &res,
                                                &err),
                     HRSS_OK);
    assert_string_equal(hrss_envelope_get(res, "serviceReqId"), "B100000KJGK20170122100000001");
    hrss_envelope_free(res);

    /* changed: the header becomes an object, and the signature breaks */
    assert_int_equal(hrss_envelope_set(e, "nonce", "dbea7d58e3014126897614c9"), HRSS_OK);
    assert_string_equal(hrss_envelope_get(e, "nonce"), "dbea7d58e3014126897614c9");
    assert_int_equal(hrss_envelope_verify_hmac(e, hk, &err), HRSS_EBADSIG);
    assert_int_equal(json_object_size(hrss_envelope_header(e)), 7);
    /* serialised without its body, which was not kept */
    assert_int_equal(hrss_envelope_serialize(e, &s, &n), HRSS_OK);
    assert_null(strstr(s, "body"));
    hrss_free(s);
    hrss_envelope_free(e);
    hrss_envelope_free(full);
    hrss_hmac_sm3_key_free(hk);

    /* arguments */
    assert_int_equal(hrss_envelope_parse_relay(NULL, 1, HRSS_ENV_REQUEST, &e, &err), HRSS_EINVAL);
    assert_null(e);
    assert_int_equal(hrss_envelope_parse_relay("{}", 2, HRSS_ENV_REQUEST, NULL, &err), HRSS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(standard_examples),
        cmocka_unit_test(refusals),
        cmocka_unit_test(escapes_and_numbers),
        cmocka_unit_test(usable_as_an_envelope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
