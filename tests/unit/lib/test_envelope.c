/*
 * tests/unit/lib/test_envelope.c - envelopes of LD/T 6008-2024 6.2: the
 * standard's own examples, then one test per rule of envelope.h (each fails
 * without its rule), the report of several violations in document order,
 * validation of built envelopes, new_response, set/get and serialisation.
 * The examples are read from tests/data/envelopes under $HRSS_SOURCE_DIR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hrss/envelope.h"
#include "lib/envelope_private.h"

#include "envelope_data.h"

/* ---- helpers ---- */

#define MAX_SEEN 64

struct seen {
    int n;
    int codes[MAX_SEEN];
    char lines[MAX_SEEN][HRSS_ERROR_MSG_MAX + 80];
};

static void collect(void *ctx, int code, const char *field, const char *msg)
{
    struct seen *s = ctx;
    if (s->n >= MAX_SEEN)
        return;
    s->codes[s->n] = code;
    if (field[0] != '\0')
        snprintf(s->lines[s->n], sizeof(s->lines[0]), "%s: %s", field, msg);
    else
        snprintf(s->lines[s->n], sizeof(s->lines[0]), "%s", msg);
    s->n++;
}

static hrss_envelope *parse_ok(const char *text, size_t len, hrss_envelope_kind kind)
{
    hrss_envelope *e = NULL;
    hrss_error err = {0};
    struct seen s = {0};
    int rc = hrss_envelope_parse(text, len, kind, &e, collect, &s, &err);
    if (rc != HRSS_OK)
        fail_msg("refused: %s", err.msg);
    assert_non_null(e);
    assert_int_equal(s.n, 0);
    return e;
}

/*
 * Parses text and checks the violations: the code of the first (also the
 * return value and err.code), err.msg == the first line, and the reported
 * lines exactly, in order (NULL-terminated list).
 */
static void expect_violations_n(const char *text, size_t len, hrss_envelope_kind kind, int code,
                                const char *const *lines)
{
    hrss_envelope *e = (hrss_envelope *)1;
    hrss_error err = {0};
    struct seen s = {0};
    int rc = hrss_envelope_parse(text, len, kind, &e, collect, &s, &err);
    int want = 0;

    while (lines[want] != NULL)
        want++;
    if (rc == HRSS_OK)
        fail_msg("accepted, wanted %s", lines[0]);
    assert_null(e);
    for (int i = 0; i < s.n && i < want; i++)
        if (strcmp(s.lines[i], lines[i]) != 0)
            fail_msg("violation %d: got '%s', wanted '%s'", i, s.lines[i], lines[i]);
    if (s.n != want)
        fail_msg("%d violations (first '%s'), wanted %d", s.n, s.n ? s.lines[0] : "", want);
    assert_int_equal(rc, code);
    assert_int_equal(s.codes[0], code);
    assert_int_equal(err.code, code);
    assert_string_equal(err.msg, lines[0]);
}

#define EXPECT(text, kind, code, ...)                                                              \
    do {                                                                                           \
        const char *const lines_[] = {__VA_ARGS__, NULL};                                          \
        expect_violations_n((text), strlen(text), (kind), (code), lines_);                         \
    } while (0)

/* The request of 6.2.2.1.1 and the response of 6.2.2.1.2 as jansson trees
 * for mutation. */
static json_t *std_doc(hrss_envelope_kind kind)
{
    size_t len;
    char *text = read_data(kind == HRSS_ENV_REQUEST ? "std-6.2.2.1.1-request.json"
                                                    : "std-6.2.2.1.2-response.json",
                           &len);
    json_t *doc = json_loadb(text, len, 0, NULL);
    free(text);
    assert_non_null(doc);
    return doc;
}

static json_t *hdr(json_t *doc)
{
    return json_object_get(doc, "header");
}

/* Dumps doc compactly and checks it like EXPECT; frees doc. */
static void expect_doc_n(json_t *doc, hrss_envelope_kind kind, int code, const char *const *lines)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    assert_non_null(text);
    expect_violations_n(text, strlen(text), kind, code, lines);
    free(text);
    json_decref(doc);
}

#define EXPECT_DOC(doc, kind, code, ...)                                                           \
    do {                                                                                           \
        const char *const lines_[] = {__VA_ARGS__, NULL};                                          \
        expect_doc_n((doc), (kind), (code), lines_);                                               \
    } while (0)

static void expect_doc_ok(json_t *doc, hrss_envelope_kind kind)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    assert_non_null(text);
    hrss_envelope_free(parse_ok(text, strlen(text), kind));
    free(text);
    json_decref(doc);
}

static json_t *with_field(hrss_envelope_kind kind, const char *field, const char *value)
{
    json_t *doc = std_doc(kind);
    if (value != NULL)
        json_object_set_new(hdr(doc), field, json_string(value));
    else
        json_object_del(hdr(doc), field);
    return doc;
}

/* n copies of a UTF-8 character (or ASCII) as a new string. */
static char *repeat(const char *unit, size_t n)
{
    size_t u = strlen(unit);
    char *s = malloc(u * n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * u, unit, u);
    s[u * n] = '\0';
    return s;
}

/* ---- the standard's examples ---- */

static void test_standard_examples(void **state)
{
    static const struct {
        const char *file;
        hrss_envelope_kind kind;
    } ok[] = {
        {"std-6.2.2.1.1-request.json", HRSS_ENV_REQUEST},
        {"std-6.2.2.1.2-response.json", HRSS_ENV_RESPONSE},
        {"std-6.2.1.4-success-response.json", HRSS_ENV_RESPONSE},
        {"std-6.2.1.4-failure-response.json", HRSS_ENV_RESPONSE}, /* no body: commStatus 10 */
        {"std-6.2.2.2.1-paged-request.json", HRSS_ENV_REQUEST},
        {"std-6.2.2.2.2-paged-response.json", HRSS_ENV_RESPONSE},
        {"std-6.2.2.3.2-batch-response.json", HRSS_ENV_RESPONSE},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        size_t len;
        char *text = read_data(ok[i].file, &len);
        hrss_envelope *e = parse_ok(text, len, ok[i].kind);
        assert_int_equal(hrss_envelope_kind_of(e), ok[i].kind);
        assert_string_equal(hrss_envelope_get(e, "appCode"), "B100000KJGK");
        hrss_envelope_free(e);
        free(text);
    }
}

static void test_standard_request_fields(void **state)
{
    size_t len;
    char *text = read_data("std-6.2.2.1.1-request.json", &len);
    hrss_envelope *e = parse_ok(text, len, HRSS_ENV_REQUEST);
    (void)state;
    assert_string_equal(hrss_envelope_get(e, "serviceCode"), "S110000Y70PYTjb");
    assert_string_equal(hrss_envelope_get(e, "serviceReqId"), "B100000KJGK20170122100000001");
    assert_string_equal(hrss_envelope_get(e, "serviceReqTime"), "20170122101020");
    assert_string_equal(hrss_envelope_get(e, "signature"), "pe1334ab");
    assert_null(hrss_envelope_get(e, "nonce"));
    json_t *body = hrss_envelope_body(e);
    assert_true(json_is_object(body));
    assert_string_equal(json_string_value(json_object_get(body, "aac003")), "张*");
    hrss_envelope_free(e);
    free(text);
}

/* The batch example of 6.2.2.3.1 has a 27-character serviceReqId: an error
 * in the standard (docs/conformance.md), refused with a clear message. */
static void test_standard_batch_request_id_is_short(void **state)
{
    size_t len;
    char *text = read_data("std-6.2.2.3.1-batch-request.json", &len);
    const char *const lines[] = {
        "header.serviceReqId: length 27, must be 28 (system code + YYYYMMDD + 9 digits)", NULL};
    (void)state;
    expect_violations_n(text, len, HRSS_ENV_REQUEST, HRSS_EFORMAT, lines);
    free(text);
}

/* Example 2 of 6.2.1.4 is a response; as a request it lacks a body. */
static void test_failure_example_as_request(void **state)
{
    size_t len;
    char *text = read_data("std-6.2.1.4-failure-response.json", &len);
    const char *const lines[] = {"body: missing (required by table 1)", NULL};
    (void)state;
    expect_violations_n(text, len, HRSS_ENV_REQUEST, HRSS_EMISSING, lines);
    free(text);
}

/* ---- the JSON layer ---- */

#define H_OK                                                                                       \
    "\"serviceCode\":\"S110000Y70PYTjb\",\"appCode\":\"B100000KJGK\",\"serviceAreaCode\":"         \
    "\"110000\",\"serviceReqId\":\"B100000KJGK20170122100000001\",\"serviceReqTime\":"             \
    "\"20170122101020\""

static void test_invalid_utf8(void **state)
{
    (void)state;
    EXPECT("{\"header\":{\"appCode\":\"B100000\xff"
           "KJG\"},\"body\":{}}",
           HRSS_ENV_REQUEST, HRSS_EUTF8, "header.appCode: invalid UTF-8 (line 1, column 29)");
    EXPECT("{\"header\":{" H_OK "},\n\"body\":{\"list\":[{\"a\":\"\xc3\"}]}}", HRSS_ENV_REQUEST,
           HRSS_EUTF8, "body.list[0].a: invalid UTF-8 (line 2, column 22)");
    /* an overlong encoding of '/' and a surrogate are not UTF-8 either */
    EXPECT("{\"header\":{},\"body\":{\"a\":\"\xc0\xaf\"}}", HRSS_ENV_REQUEST, HRSS_EUTF8,
           "body.a: invalid UTF-8 (line 1, column 26)");
    EXPECT("{\"header\":{},\"body\":{\"a\":\"\xed\xa0\x80\"}}", HRSS_ENV_REQUEST, HRSS_EUTF8,
           "body.a: invalid UTF-8 (line 1, column 26)");
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    EXPECT("{\"header\":{" H_OK "},\"header\":{},\"body\":{}}", HRSS_ENV_REQUEST, HRSS_EDUPKEY,
           "header: duplicate key (line 1, column 183)");
    EXPECT("{\"header\":{" H_OK ",\n  \"appCode\" : \"B100000KJGK\"},\"body\":{}}",
           HRSS_ENV_REQUEST, HRSS_EDUPKEY, "header.appCode: duplicate key (line 2, column 11)");
    EXPECT("{\"header\":{" H_OK "},\"body\":{\"list\":[{},{\"aac002\":\"1\",\"aac002\":\"2\"}]}}",
           HRSS_ENV_REQUEST, HRSS_EDUPKEY,
           "body.list[1].aac002: duplicate key (line 1, column 216)");
    /* the path stops at the key, whatever its value opens */
    EXPECT("{\"header\":{" H_OK "},\"body\":{\"x\":{\"a\":1,\"a\":{\"b\":[1]}}}}", HRSS_ENV_REQUEST,
           HRSS_EDUPKEY, "body.x.a: duplicate key (line 1, column 197)");
    /* escapes are decoded before comparing, and in the message */
    EXPECT("{\"header\":{" H_OK "},\"body\":{\"aA\":1,\"a\\u0041\":2}}", HRSS_ENV_REQUEST,
           HRSS_EDUPKEY, "body.aA: duplicate key (line 1, column 199)");
}

static void test_depth(void **state)
{
    (void)state;
    /* the envelope is level 1, the body 2: 63 nested objects in the body
     * make 64 levels, the most allowed */
    for (int levels = 64; levels <= 65; levels++) {
        int k = levels - 1;
        char *open = repeat("{\"a\":", (size_t)k - 1), *close = repeat("}", (size_t)k - 1);
        size_t n = strlen(open) + strlen(close) + 512;
        char *text = malloc(n);
        assert_non_null(text);
        snprintf(text, n, "{\"header\":{" H_OK "},\"body\":%s{}%s}", open, close);
        if (levels == 64) {
            hrss_envelope_free(parse_ok(text, strlen(text), HRSS_ENV_REQUEST));
        } else {
            char want[128];
            snprintf(want, sizeof(want), "nesting depth 65, at most 64 (line 1, column %zu)",
                     strlen(text) - strlen(close) - 2);
            EXPECT(text, HRSS_ENV_REQUEST, HRSS_ETOOBIG, want);
        }
        free(open);
        free(close);
        free(text);
    }
    /* arrays count too, and so do unknown members: the scan runs first */
    char *deep = repeat("[", 100000);
    EXPECT(deep, HRSS_ENV_REQUEST, HRSS_ETOOBIG,
           "nesting depth 65, at most 64 (line 1, column 65)");
    free(deep);
    /* brackets inside strings are not nesting */
    char *str = repeat("[", 1000);
    size_t n = strlen(str) + 512;
    char *text = malloc(n);
    assert_non_null(text);
    snprintf(text, n, "{\"header\":{" H_OK "},\"body\":{\"s\":\"%s\\\"\"}}", str);
    hrss_envelope_free(parse_ok(text, strlen(text), HRSS_ENV_REQUEST));
    free(str);
    free(text);
}

static void test_json_syntax(void **state)
{
    (void)state;
    EXPECT("", HRSS_ENV_REQUEST, HRSS_EFORMAT,
           "invalid JSON: unexpected token near end of file (line 1, column 0)");
    EXPECT("{\"header\":{},\"body\":{}} x", HRSS_ENV_REQUEST, HRSS_EFORMAT,
           "invalid JSON: end of file expected near 'x' (line 1, column 25)");
    EXPECT("{\"header\":{\"appCode\":1,}}", HRSS_ENV_REQUEST, HRSS_EFORMAT,
           "header: invalid JSON: string or '}' expected near '}' (line 1, column 24)");
    EXPECT("{\"header\":{\"a\":\"\\u0000\"}}", HRSS_ENV_REQUEST, HRSS_EFORMAT,
           "header.a: \\u0000 is not allowed (line 1, column 23)");
    /* a raw control character is made printable in the message */
    EXPECT("{\"header\":\x01}", HRSS_ENV_REQUEST, HRSS_EFORMAT,
           "header: invalid JSON: invalid token near '?' (line 1, column 11)");
    /* a raw NUL byte, even where jansson would read past it (after a number) */
    {
        static const char nul[] = "{\"header\":{},\"body\":{\"n\":1.5e3\0,\"m\":1}}";
        const char *const want[] = {"body.n: a NUL byte is not JSON (line 1, column 31)", NULL};
        expect_violations_n(nul, sizeof(nul) - 1, HRSS_ENV_REQUEST, HRSS_EFORMAT, want);
    }
    EXPECT("[]", HRSS_ENV_REQUEST, HRSS_ETYPE, "the top level must be an object, found array");
    EXPECT("\"x\"", HRSS_ENV_REQUEST, HRSS_ETYPE, "the top level must be an object, found string");

    hrss_envelope *e = (hrss_envelope *)1;
    hrss_error err;
    assert_int_equal(hrss_envelope_parse(NULL, 1, HRSS_ENV_REQUEST, &e, NULL, NULL, &err),
                     HRSS_EINVAL);
    assert_null(e);
    assert_int_equal(hrss_envelope_parse("{}", 2, (hrss_envelope_kind)7, &e, NULL, NULL, &err),
                     HRSS_EINVAL);
    assert_int_equal(hrss_envelope_parse("{}", 2, HRSS_ENV_REQUEST, NULL, NULL, NULL, &err),
                     HRSS_EINVAL);
}

static void test_input_size(void **state)
{
    size_t n = HRSS_ENVELOPE_MAX_BYTES + 1;
    char *text = malloc(n);
    hrss_envelope *e = NULL;
    hrss_error err = {0};
    struct seen s = {0};
    (void)state;
    assert_non_null(text);
    memset(text, ' ', n);
    assert_int_equal(hrss_envelope_parse(text, n, HRSS_ENV_REQUEST, &e, collect, &s, &err),
                     HRSS_ETOOBIG);
    assert_string_equal(err.msg, "1048577 bytes, at most 1048576");
    assert_int_equal(s.n, 1);
    /* exactly the limit gets through to the JSON layer */
    assert_int_equal(hrss_envelope_parse(text, n - 1, HRSS_ENV_REQUEST, &e, NULL, NULL, &err),
                     HRSS_EFORMAT);
    free(text);
}

/* ---- structure ---- */

static void test_structure(void **state)
{
    (void)state;
    EXPECT("{\"header\":{" H_OK "},\"body\":{},\"extra\":1}", HRSS_ENV_REQUEST, HRSS_EFORMAT,
           "extra: unknown member (an envelope has only header and body)");
    EXPECT("{\"body\":{}}", HRSS_ENV_REQUEST, HRSS_EMISSING, "header: missing");
    EXPECT("{\"header\":[],\"body\":{}}", HRSS_ENV_REQUEST, HRSS_ETYPE,
           "header: must be an object, found array");
    EXPECT("{\"header\":{" H_OK "}}", HRSS_ENV_REQUEST, HRSS_EMISSING,
           "body: missing (required by table 1)");
    EXPECT("{\"header\":{" H_OK "},\"body\":null}", HRSS_ENV_REQUEST, HRSS_ETYPE,
           "body: must be an object or a string, found null");
    EXPECT("{\"header\":{" H_OK "},\"body\":[]}", HRSS_ENV_REQUEST, HRSS_ETYPE,
           "body: must be an object or a string, found array");
    EXPECT("{\"header\":{" H_OK "},\"body\":1}", HRSS_ENV_REQUEST, HRSS_ETYPE,
           "body: must be an object or a string, found number");
    /* a string body (ciphertext) is fine */
    const char *enc =
        "{\"header\":{" H_OK "},\"body\":\"5NE5MLW1KdfAG99YimS6/UQTNm671alyr/koPv1yzwI=\"}";
    hrss_envelope_free(parse_ok(enc, strlen(enc), HRSS_ENV_REQUEST));
    /* member order does not matter */
    const char *rev = "{\"body\":{},\"header\":{" H_OK "}}";
    hrss_envelope_free(parse_ok(rev, strlen(rev), HRSS_ENV_REQUEST));
}

/* A response may omit the body only when commStatus is not "00". */
static void test_response_body_absence(void **state)
{
    (void)state;
    json_t *doc = std_doc(HRSS_ENV_RESPONSE);
    json_object_del(doc, "body");
    EXPECT_DOC(doc, HRSS_ENV_RESPONSE, HRSS_EMISSING,
               "body: missing (required by table 2 when commStatus is 00)");
    static const char *const failures[] = {"10", "20", "30", "40", "50", "90"};
    for (size_t i = 0; i < sizeof(failures) / sizeof(failures[0]); i++) {
        doc = with_field(HRSS_ENV_RESPONSE, "commStatus", failures[i]);
        json_object_del(doc, "body");
        expect_doc_ok(doc, HRSS_ENV_RESPONSE);
    }
    /* a bad commStatus is reported once, not again as a missing body */
    doc = with_field(HRSS_ENV_RESPONSE, "commStatus", "11");
    json_object_del(doc, "body");
    EXPECT_DOC(doc, HRSS_ENV_RESPONSE, HRSS_EFORMAT,
               "header.commStatus: \"11\" is not a value of table 2 (00 10 20 30 40 50 90)");
}

/* ---- header fields ---- */

static void test_missing_fields(void **state)
{
    static const char *const req[] = {"serviceCode", "appCode", "serviceAreaCode", "serviceReqId",
                                      "serviceReqTime"};
    static const char *const res[] = {"serviceCode",    "appCode",        "serviceAreaCode",
                                      "serviceReqId",   "serviceReqTime", "serviceResId",
                                      "serviceResTime", "commStatus"};
    char want[128];
    (void)state;
    for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
        snprintf(want, sizeof(want), "header.%s: missing (required by table 1)", req[i]);
        EXPECT_DOC(with_field(HRSS_ENV_REQUEST, req[i], NULL), HRSS_ENV_REQUEST, HRSS_EMISSING,
                   want);
    }
    for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
        snprintf(want, sizeof(want), "header.%s: missing (required by table 2)", res[i]);
        EXPECT_DOC(with_field(HRSS_ENV_RESPONSE, res[i], NULL), HRSS_ENV_RESPONSE, HRSS_EMISSING,
                   want);
    }
    /* optional ones */
    expect_doc_ok(with_field(HRSS_ENV_REQUEST, "signature", NULL), HRSS_ENV_REQUEST);
    expect_doc_ok(with_field(HRSS_ENV_RESPONSE, "busiStatus", NULL), HRSS_ENV_RESPONSE);
    expect_doc_ok(with_field(HRSS_ENV_RESPONSE, "msg", NULL), HRSS_ENV_RESPONSE);
    /* an empty signature is allowed ("可为空") */
    expect_doc_ok(with_field(HRSS_ENV_REQUEST, "signature", ""), HRSS_ENV_REQUEST);
}

/* Each limit of tables 1 and 2: the limit passes the length rule, one more
 * is refused with "length N, at most M". */
static void test_field_lengths(void **state)
{
    static const struct {
        hrss_envelope_kind kind;
        const char *field;
        const char *at_limit; /* valid value of exactly the limit, NULL: format only */
        size_t max;
    } limits[] = {
        {HRSS_ENV_REQUEST, "serviceCode", "S110000Y70PYTjb", 15},
        {HRSS_ENV_REQUEST, "appCode", "B100000KJGK", 11},
        {HRSS_ENV_REQUEST, "serviceAreaCode", "110000", 6},
        {HRSS_ENV_REQUEST, "serviceReqId", "B100000KJGK20170122100000001", 28},
        {HRSS_ENV_REQUEST, "serviceReqTime", "20170122101020", 14},
        {HRSS_ENV_REQUEST, "nonce", "abcdefghijklmnopqrstuvwx", 24},
        {HRSS_ENV_RESPONSE, "serviceResId", "S110000Y70P20190618100100001", 28},
        {HRSS_ENV_RESPONSE, "serviceResTime", "20190618165713", 14},
        {HRSS_ENV_RESPONSE, "commStatus", "00", 2},
    };
    char want[128], value[64];
    (void)state;
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        expect_doc_ok(with_field(limits[i].kind, limits[i].field, limits[i].at_limit),
                      limits[i].kind);
        snprintf(value, sizeof(value), "%s0", limits[i].at_limit);
        snprintf(want, sizeof(want), "header.%s: length %zu, at most %zu", limits[i].field,
                 limits[i].max + 1, limits[i].max);
        EXPECT_DOC(with_field(limits[i].kind, limits[i].field, value), limits[i].kind, HRSS_EFORMAT,
                   want);
    }
    /* characters, not bytes: Chinese text up to the limit passes */
    static const struct {
        hrss_envelope_kind kind;
        const char *field;
        size_t max;
    } free_text[] = {
        {HRSS_ENV_REQUEST, "signature", 255},
        {HRSS_ENV_RESPONSE, "signature", 255},
        {HRSS_ENV_RESPONSE, "busiStatus", 3},
        {HRSS_ENV_RESPONSE, "msg", 200},
        {HRSS_ENV_REQUEST, "ext_field", 255}, /* any other field */
        {HRSS_ENV_RESPONSE, "traceId", 255},
        {HRSS_ENV_REQUEST, "msg", 255}, /* a response field is "other" in a request */
    };
    for (size_t i = 0; i < sizeof(free_text) / sizeof(free_text[0]); i++) {
        char *ok = repeat("成", free_text[i].max), *bad = repeat("成", free_text[i].max + 1);
        expect_doc_ok(with_field(free_text[i].kind, free_text[i].field, ok), free_text[i].kind);
        snprintf(want, sizeof(want), "header.%s: length %zu, at most %zu", free_text[i].field,
                 free_text[i].max + 1, free_text[i].max);
        EXPECT_DOC(with_field(free_text[i].kind, free_text[i].field, bad), free_text[i].kind,
                   HRSS_EFORMAT, want);
        free(ok);
        free(bad);
    }
}

static void test_field_formats(void **state)
{
    (void)state;
    EXPECT_DOC(with_field(HRSS_ENV_REQUEST, "appCode", "B110000KJGK"), HRSS_ENV_REQUEST,
               HRSS_EFORMAT, "header.appCode: B (ministry) requires area 100000, found 110000");
    EXPECT_DOC(with_field(HRSS_ENV_REQUEST, "serviceCode", "X110000Y70PYTjb"), HRSS_ENV_REQUEST,
               HRSS_EFORMAT, "header.serviceCode: must start with B or S, found 'X'");
    EXPECT_DOC(with_field(HRSS_ENV_REQUEST, "serviceAreaCode", "110100"), HRSS_ENV_REQUEST,
               HRSS_EFORMAT,
               "header.serviceAreaCode: 110100 is not 100000 nor a province-level code of GB/T "
               "2260");
    EXPECT_DOC(with_field(HRSS_ENV_REQUEST, "serviceReqId", "B100000KJGK20170230100000001"),
               HRSS_ENV_REQUEST, HRSS_EFORMAT,
               "header.serviceReqId: 20170230 is not a calendar date");
    EXPECT_DOC(with_field(HRSS_ENV_REQUEST, "serviceReqTime", "20170122241020"), HRSS_ENV_REQUEST,
               HRSS_EFORMAT, "header.serviceReqTime: hour 24, at most 23");
    EXPECT_DOC(with_field(HRSS_ENV_RESPONSE, "serviceResTime", "20230229000000"), HRSS_ENV_RESPONSE,
               HRSS_EFORMAT, "header.serviceResTime: 20230229 is not a calendar date");
    EXPECT_DOC(with_field(HRSS_ENV_RESPONSE, "commStatus", "11"), HRSS_ENV_RESPONSE, HRSS_EFORMAT,
               "header.commStatus: \"11\" is not a value of table 2 (00 10 20 30 40 50 90)");
    EXPECT_DOC(with_field(HRSS_ENV_RESPONSE, "commStatus", "0"), HRSS_ENV_RESPONSE, HRSS_EFORMAT,
               "header.commStatus: \"0\" is not a value of table 2 (00 10 20 30 40 50 90)");
    /* a required field present but empty breaks its format */
    EXPECT_DOC(with_field(HRSS_ENV_REQUEST, "appCode", ""), HRSS_ENV_REQUEST, HRSS_EFORMAT,
               "header.appCode: length 0, must be 11");
}

static void test_nonce(void **state)
{
    (void)state;
    expect_doc_ok(with_field(HRSS_ENV_REQUEST, "nonce", "0123456789abcdefghijKLMN"),
                  HRSS_ENV_REQUEST);
    EXPECT_DOC(with_field(HRSS_ENV_REQUEST, "nonce", "0123456789abcdefghijKLM"), HRSS_ENV_REQUEST,
               HRSS_EFORMAT, "header.nonce: length 23, must be 24");
    EXPECT_DOC(with_field(HRSS_ENV_REQUEST, "nonce", "0123456789abcdefghij-LMN"), HRSS_ENV_REQUEST,
               HRSS_EFORMAT, "header.nonce: character 21 is not one of [0-9A-Za-z]");
    EXPECT_DOC(with_field(HRSS_ENV_REQUEST, "nonce", ""), HRSS_ENV_REQUEST, HRSS_EFORMAT,
               "header.nonce: length 0, must be 24");
}

static void test_timestamp_alias(void **state)
{
    (void)state;
    /* table 1 names the field "timestamp": accepted instead of serviceReqTime */
    json_t *doc = with_field(HRSS_ENV_REQUEST, "serviceReqTime", NULL);
    json_object_set_new(hdr(doc), "timestamp", json_string("20170122101020"));
    char *text = json_dumps(doc, JSON_COMPACT);
    hrss_envelope *e = parse_ok(text, strlen(text), HRSS_ENV_REQUEST);
    assert_string_equal(hrss_envelope_get(e, "serviceReqTime"), "20170122101020");
    assert_string_equal(hrss_envelope_get(e, "timestamp"), "20170122101020");
    hrss_envelope_free(e);
    free(text);
    /* its format is checked like serviceReqTime's */
    json_object_set_new(hdr(doc), "timestamp", json_string("20170122101060"));
    EXPECT_DOC(json_incref(doc), HRSS_ENV_REQUEST, HRSS_EFORMAT,
               "header.timestamp: second 60, at most 59");
    /* never both */
    json_object_set_new(hdr(doc), "timestamp", json_string("20170122101020"));
    json_object_set_new(hdr(doc), "serviceReqTime", json_string("20170122101020"));
    EXPECT_DOC(doc, HRSS_ENV_REQUEST, HRSS_EFORMAT,
               "header.serviceReqTime: both timestamp and serviceReqTime; send one (timestamp "
               "is an alias)");
}

static void test_header_value_types(void **state)
{
    (void)state;
    json_t *doc = std_doc(HRSS_ENV_REQUEST);
    json_object_set_new(hdr(doc), "appCode", json_integer(123));
    EXPECT_DOC(doc, HRSS_ENV_REQUEST, HRSS_ETYPE, "header.appCode: must be a string, found number");
    doc = std_doc(HRSS_ENV_REQUEST);
    json_object_set_new(hdr(doc), "signature", json_null());
    EXPECT_DOC(doc, HRSS_ENV_REQUEST, HRSS_ETYPE, "header.signature: must be a string, found null");
    doc = std_doc(HRSS_ENV_REQUEST);
    json_object_set_new(hdr(doc), "ext", json_object());
    EXPECT_DOC(doc, HRSS_ENV_REQUEST, HRSS_ETYPE, "header.ext: must be a string, found object");
}

static void test_other_header_fields(void **state)
{
    (void)state;
    char *key64 = repeat("k", 64), *key65 = repeat("k", 65), want[200];
    expect_doc_ok(with_field(HRSS_ENV_REQUEST, key64, "v"), HRSS_ENV_REQUEST);
    snprintf(want, sizeof(want), "header.%s...: field name must be 1 to 64 of [A-Za-z0-9_]", key64);
    EXPECT_DOC(with_field(HRSS_ENV_REQUEST, key65, "v"), HRSS_ENV_REQUEST, HRSS_EFORMAT, want);
    EXPECT_DOC(with_field(HRSS_ENV_REQUEST, "bad-key", "v"), HRSS_ENV_REQUEST, HRSS_EFORMAT,
               "header.bad-key: field name must be 1 to 64 of [A-Za-z0-9_]");
    EXPECT_DOC(with_field(HRSS_ENV_REQUEST, "", "v"), HRSS_ENV_REQUEST, HRSS_EFORMAT,
               "header.: field name must be 1 to 64 of [A-Za-z0-9_]");
    EXPECT_DOC(with_field(HRSS_ENV_REQUEST, "a\nb", "v"), HRSS_ENV_REQUEST, HRSS_EFORMAT,
               "header.a?b: field name must be 1 to 64 of [A-Za-z0-9_]");
    free(key64);
    free(key65);

    /* at most 32 header fields: the request has 6, add 26 then 27 */
    json_t *doc = std_doc(HRSS_ENV_REQUEST);
    for (int i = 0; i < 26; i++) {
        char k[16];
        snprintf(k, sizeof(k), "x%02d", i);
        json_object_set_new(hdr(doc), k, json_string("v"));
    }
    expect_doc_ok(json_incref(doc), HRSS_ENV_REQUEST);
    json_object_set_new(hdr(doc), "x99", json_string("v"));
    EXPECT_DOC(doc, HRSS_ENV_REQUEST, HRSS_ETOOBIG, "header: 33 fields, at most 32");
}

/* ---- body size ---- */

static void test_body_size(void **state)
{
    (void)state;
    /* a string body counts its characters */
    for (size_t n = HRSS_BODY_MAX_CHARS; n <= HRSS_BODY_MAX_CHARS + 1; n++) {
        char *s = repeat("密", n);
        json_t *doc = std_doc(HRSS_ENV_REQUEST);
        json_object_set_new(doc, "body", json_string(s));
        if (n == HRSS_BODY_MAX_CHARS)
            expect_doc_ok(doc, HRSS_ENV_REQUEST);
        else
            EXPECT_DOC(doc, HRSS_ENV_REQUEST, HRSS_ETOOBIG,
                       "body: 102401 characters, at most 102400");
        free(s);
    }
    /* an object body counts the characters of its compact JSON:
     * {"a":"..."} is 8 characters around the string */
    for (size_t n = HRSS_BODY_MAX_CHARS - 8; n <= HRSS_BODY_MAX_CHARS - 7; n++) {
        char *s = repeat("张", n);
        json_t *doc = std_doc(HRSS_ENV_REQUEST);
        json_object_set_new(doc, "body", json_pack("{s:s}", "a", s));
        if (n == HRSS_BODY_MAX_CHARS - 8)
            expect_doc_ok(doc, HRSS_ENV_REQUEST);
        else
            EXPECT_DOC(doc, HRSS_ENV_REQUEST, HRSS_ETOOBIG,
                       "body: more than 102400 characters of compact JSON");
        free(s);
    }
    /* whitespace of the input does not count: the same body pretty-printed */
    char *s = repeat("x", HRSS_BODY_MAX_CHARS - 8);
    json_t *doc = std_doc(HRSS_ENV_REQUEST);
    json_object_set_new(doc, "body", json_pack("{s:s}", "a", s));
    char *text = json_dumps(doc, JSON_INDENT(8));
    hrss_envelope_free(parse_ok(text, strlen(text), HRSS_ENV_REQUEST));
    free(text);
    free(s);
    json_decref(doc);
}

/* ---- several violations ---- */

static void test_reports_all_in_document_order(void **state)
{
    (void)state;
    EXPECT("{\"header\":{\"serviceCode\":\"S110000Y70PYTjb\",\"appCode\":\"B100000KJGKX\","
           "\"serviceAreaCode\":110000,\"serviceReqTime\":\"20170122101020\",\"nonce\":\"x\"},"
           "\"extra\":true,\"body\":[]}",
           HRSS_ENV_REQUEST, HRSS_EFORMAT, "header.appCode: length 12, at most 11",
           "header.serviceAreaCode: must be a string, found number",
           "header.nonce: length 1, must be 24",
           "header.serviceReqId: missing (required by table 1)",
           "extra: unknown member (an envelope has only header and body)",
           "body: must be an object or a string, found array");
    /* no callback: still the first in err */
    hrss_envelope *e = NULL;
    hrss_error err = {0};
    const char *t = "{\"header\":{},\"body\":{}}";
    assert_int_equal(hrss_envelope_parse(t, strlen(t), HRSS_ENV_REQUEST, &e, NULL, NULL, &err),
                     HRSS_EMISSING);
    assert_string_equal(err.msg, "header.serviceCode: missing (required by table 1)");
    assert_null(e);
    /* err may be NULL too */
    assert_int_equal(hrss_envelope_parse(t, strlen(t), HRSS_ENV_REQUEST, &e, NULL, NULL, NULL),
                     HRSS_EMISSING);
}

/* ---- built envelopes ---- */

static void test_validate_built(void **state)
{
    hrss_envelope *e = hrss_envelope_new(HRSS_ENV_REQUEST);
    hrss_error err = {0};
    struct seen s = {0};
    (void)state;
    assert_non_null(e);
    assert_int_equal(hrss_envelope_validate(e, collect, &s, &err), HRSS_EMISSING);
    assert_int_equal(s.n, 6); /* five header fields and the body */
    assert_string_equal(s.lines[5], "body: missing (required by table 1)");

    assert_int_equal(hrss_envelope_set(e, "serviceCode", "S110000Y70PYTjb"), HRSS_OK);
    assert_int_equal(hrss_envelope_set(e, "appCode", "B100000KJGK"), HRSS_OK);
    assert_int_equal(hrss_envelope_set(e, "serviceAreaCode", "110000"), HRSS_OK);
    assert_int_equal(hrss_envelope_set(e, "serviceReqId", "B100000KJGK20170122100000001"), HRSS_OK);
    assert_int_equal(hrss_envelope_set(e, "serviceReqTime", "20170122101020"), HRSS_OK);
    assert_int_equal(hrss_envelope_set_body(e, json_pack("{s:s}", "aac002", "1")), HRSS_OK);
    assert_int_equal(hrss_envelope_validate(e, NULL, NULL, &err), HRSS_OK);

    /* the same rules as the parser */
    assert_int_equal(hrss_envelope_set(e, "appCode", "B100000KJGKX"), HRSS_OK);
    assert_int_equal(hrss_envelope_validate(e, NULL, NULL, &err), HRSS_EFORMAT);
    assert_string_equal(err.msg, "header.appCode: length 12, at most 11");
    assert_int_equal(hrss_envelope_set(e, "appCode", "B100000KJGK"), HRSS_OK);
    assert_int_equal(hrss_envelope_set_body(e, json_array()), HRSS_OK);
    assert_int_equal(hrss_envelope_validate(e, NULL, NULL, &err), HRSS_ETYPE);
    assert_string_equal(err.msg, "body: must be an object or a string, found array");

    /* depth of a built body: 63 levels in the body are the most */
    json_t *body = json_object();
    for (int i = 0; i < 62; i++)
        body = json_pack("{s:o}", "a", body);
    hrss_envelope_set_body(e, json_incref(body));
    assert_int_equal(hrss_envelope_validate(e, NULL, NULL, &err), HRSS_OK);
    hrss_envelope_set_body(e, json_pack("{s:o}", "a", body));
    assert_int_equal(hrss_envelope_validate(e, NULL, NULL, &err), HRSS_ETOOBIG);
    assert_string_equal(err.msg, "body: nesting depth over 64");

    /* what a parser never sees: a NUL or invalid UTF-8 put in through jansson */
    hrss_envelope_set_body(e, json_object());
    json_object_set_new(hrss_envelope_header(e), "x", json_stringn("a\0b", 3));
    assert_int_equal(hrss_envelope_validate(e, NULL, NULL, &err), HRSS_EFORMAT);
    assert_string_equal(err.msg, "header.x: contains U+0000");
    json_object_set_new(hrss_envelope_header(e), "x", json_stringn_nocheck("\xff", 1));
    assert_int_equal(hrss_envelope_validate(e, NULL, NULL, &err), HRSS_EUTF8);
    assert_string_equal(err.msg, "header.x: invalid UTF-8");
    json_object_del(hrss_envelope_header(e), "x");
    hrss_envelope_set_body(e, json_pack("{s:o}", "a", json_stringn_nocheck("\xff", 1)));
    assert_int_equal(hrss_envelope_validate(e, NULL, NULL, &err), HRSS_EFORMAT);
    assert_string_equal(err.msg, "body: cannot be serialised as JSON");

    hrss_envelope_free(e);
    assert_int_equal(hrss_envelope_validate(NULL, NULL, NULL, &err), HRSS_EINVAL);
}

static void test_set_and_get(void **state)
{
    hrss_envelope *e = hrss_envelope_new(HRSS_ENV_REQUEST);
    (void)state;
    assert_null(hrss_envelope_get(e, "appCode"));
    assert_null(hrss_envelope_body(e));
    assert_int_equal(hrss_envelope_set(e, "appCode", "B100000KJGK"), HRSS_OK);
    assert_string_equal(hrss_envelope_get(e, "appCode"), "B100000KJGK");
    assert_int_equal(hrss_envelope_set(e, "appCode", NULL), HRSS_OK);
    assert_null(hrss_envelope_get(e, "appCode"));
    assert_int_equal(hrss_envelope_set(e, "appCode", "\xff"), HRSS_EUTF8);
    assert_int_equal(hrss_envelope_set(e, "\xff", "x"), HRSS_EUTF8);
    assert_int_equal(hrss_envelope_set(NULL, "a", "x"), HRSS_EINVAL);
    assert_int_equal(hrss_envelope_set(e, NULL, "x"), HRSS_EINVAL);
    assert_null(hrss_envelope_get(NULL, "a"));
    assert_null(hrss_envelope_get(e, NULL));

    /* the alias: setting serviceReqTime updates "timestamp" when that is used */
    json_object_set_new(hrss_envelope_header(e), "timestamp", json_string("20170122101020"));
    assert_int_equal(hrss_envelope_set(e, "serviceReqTime", "20170122101021"), HRSS_OK);
    assert_string_equal(hrss_envelope_get(e, "timestamp"), "20170122101021");
    assert_null(json_object_get(hrss_envelope_header(e), "serviceReqTime"));
    assert_int_equal(hrss_envelope_set(e, "serviceReqTime", NULL), HRSS_OK);
    assert_null(hrss_envelope_get(e, "timestamp"));
    assert_int_equal(hrss_envelope_set(e, "serviceReqTime", "20170122101022"), HRSS_OK);
    assert_string_equal(
        json_string_value(json_object_get(hrss_envelope_header(e), "serviceReqTime")),
        "20170122101022");
    /* a non-string value reads as absent */
    json_object_set_new(hrss_envelope_header(e), "n", json_integer(1));
    assert_null(hrss_envelope_get(e, "n"));

    assert_int_equal(hrss_envelope_set_body(NULL, json_object()), HRSS_EINVAL);
    hrss_envelope_free(e);
    hrss_envelope_free(NULL);
}

static void test_new_response(void **state)
{
    size_t len;
    char *text = read_data("std-6.2.2.1.1-request.json", &len);
    hrss_envelope *req = parse_ok(text, len, HRSS_ENV_REQUEST), *res = NULL;
    hrss_error err = {0};
    char now[HRSS_TIME_LEN + 1];
    (void)state;

    hrss_time_now(now);
    assert_int_equal(hrss_envelope_new_response(req, "S110000Y70P20190618100100001", HRSS_COMM_OK,
                                                "001", "成功", &res, &err),
                     HRSS_OK);
    assert_int_equal(hrss_envelope_kind_of(res), HRSS_ENV_RESPONSE);
    static const char *const copied[] = {"serviceCode", "appCode", "serviceAreaCode",
                                         "serviceReqId", "serviceReqTime"};
    for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
        assert_string_equal(hrss_envelope_get(res, copied[i]), hrss_envelope_get(req, copied[i]));
    assert_string_equal(hrss_envelope_get(res, "serviceResId"), "S110000Y70P20190618100100001");
    assert_string_equal(hrss_envelope_get(res, "commStatus"), "00");
    assert_string_equal(hrss_envelope_get(res, "busiStatus"), "001");
    assert_string_equal(hrss_envelope_get(res, "msg"), "成功");
    int64_t t_now, t_res;
    assert_int_equal(hrss_time_parse(now, 14, &t_now, NULL), HRSS_OK);
    assert_int_equal(hrss_time_parse(hrss_envelope_get(res, "serviceResTime"), 14, &t_res, NULL),
                     HRSS_OK);
    assert_true(t_res - t_now >= 0 && t_res - t_now <= 2);
    assert_null(hrss_envelope_body(res));
    assert_null(hrss_envelope_get(res, "signature")); /* not copied */
    /* "00" needs a body */
    assert_int_equal(hrss_envelope_validate(res, NULL, NULL, &err), HRSS_EMISSING);
    hrss_envelope_set_body(res, json_pack("{s:{}}", "data"));
    assert_int_equal(hrss_envelope_validate(res, NULL, NULL, &err), HRSS_OK);
    /* the header in the order of the standard's examples */
    char *out = NULL;
    size_t outlen;
    assert_int_equal(hrss_envelope_serialize(res, &out, &outlen), HRSS_OK);
    assert_non_null(strstr(out, "\"serviceReqTime\":\"20170122101020\",\"serviceResTime\":"));
    assert_non_null(strstr(out, ",\"serviceResId\":\"S110000Y70P20190618100100001\","
                                "\"commStatus\":\"00\",\"busiStatus\":\"001\",\"msg\":\"成功\"}"));
    hrss_free(out);
    hrss_envelope_free(res);

    /* failure without body, msg cut at 200 characters on a boundary */
    char *long_msg = repeat("错", 250);
    assert_int_equal(hrss_envelope_new_response(req, "S110000Y70P20190618100100002",
                                                HRSS_COMM_SIGNATURE, NULL, long_msg, &res, &err),
                     HRSS_OK);
    assert_int_equal(strlen(hrss_envelope_get(res, "msg")), 200 * 3);
    assert_null(hrss_envelope_get(res, "busiStatus"));
    assert_string_equal(hrss_envelope_get(res, "commStatus"), "30");
    assert_int_equal(hrss_envelope_validate(res, NULL, NULL, &err), HRSS_OK);
    hrss_envelope_free(res);
    free(long_msg);

    /* a commStatus outside table 2 */
    assert_int_equal(hrss_envelope_new_response(req, "S110000Y70P20190618100100002",
                                                (hrss_comm_status)11, NULL, NULL, &res, &err),
                     HRSS_EINVAL);
    assert_null(res);
    hrss_envelope_free(req);
    free(text);

    /* a request that used the "timestamp" alias: the response says serviceReqTime */
    req = hrss_envelope_new(HRSS_ENV_REQUEST);
    hrss_envelope_set(req, "timestamp", "20170122101020");
    assert_int_equal(hrss_envelope_new_response(req, "S110000Y70P20190618100100002",
                                                HRSS_COMM_OTHER, NULL, NULL, &res, &err),
                     HRSS_OK);
    assert_string_equal(
        json_string_value(json_object_get(hrss_envelope_header(res), "serviceReqTime")),
        "20170122101020");
    assert_null(json_object_get(hrss_envelope_header(res), "timestamp"));
    hrss_envelope_free(res);
    hrss_envelope_free(req);
}

static void test_serialize_round_trip(void **state)
{
    size_t len, outlen, out2len;
    char *text = read_data("std-6.2.2.1.2-response.json", &len), *out = NULL, *out2 = NULL;
    hrss_envelope *e = parse_ok(text, len, HRSS_ENV_RESPONSE);
    (void)state;

    assert_int_equal(hrss_envelope_serialize(e, &out, &outlen), HRSS_OK);
    assert_int_equal(strlen(out), outlen);
    assert_string_equal(
        out, "{\"header\":{\"serviceCode\":\"S110000Y70PYTjb\",\"appCode\":\"B100000KJGK\","
             "\"serviceAreaCode\":\"110000\",\"serviceReqId\":\"B100000KJGK20170122100000001\","
             "\"serviceReqTime\":\"20170122101020\",\"serviceResTime\":\"20190618165713\","
             "\"serviceResId\":\"S110000Y70P20190618100100001\",\"commStatus\":\"00\","
             "\"busiStatus\":\"001\",\"msg\":\"成功\"},\"body\":{\"data\":{\"aac002\":"
             "\"4401011****9090236\",\"aac003\":\"张*\",\"aaz502\":\"1\"}}}");
    hrss_envelope *again = parse_ok(out, outlen, HRSS_ENV_RESPONSE);
    assert_int_equal(hrss_envelope_serialize(again, &out2, &out2len), HRSS_OK);
    assert_string_equal(out, out2);
    hrss_free(out);
    hrss_free(out2);
    hrss_envelope_free(again);
    hrss_envelope_free(e);
    free(text);

    /* without a body */
    e = hrss_envelope_new(HRSS_ENV_RESPONSE);
    assert_int_equal(hrss_envelope_serialize(e, &out, &outlen), HRSS_OK);
    assert_string_equal(out, "{\"header\":{}}");
    hrss_free(out);
    hrss_envelope_free(e);
    assert_int_equal(hrss_envelope_serialize(NULL, &out, &outlen), HRSS_EINVAL);
}

/* The strict loader as body.c uses it: paths under a prefix, depth counted
 * from the body's level. */
static void test_loader_with_prefix(void **state)
{
    char field[256], msg[256];
    json_t *v = NULL;
    (void)state;
    assert_int_equal(hrss__json_load_strict("{\"a\":1,\"a\":2}", 13, 1, "body", &v, field,
                                            sizeof(field), msg, sizeof(msg)),
                     HRSS_EDUPKEY);
    assert_string_equal(field, "body.a");
    assert_null(v);
    char *deep = repeat("[", 64);
    assert_int_equal(
        hrss__json_load_strict(deep, 64, 1, "body", &v, field, sizeof(field), msg, sizeof(msg)),
        HRSS_ETOOBIG);
    assert_string_equal(field, "body");
    assert_string_equal(msg, "nesting depth 65, at most 64 (line 1, column 64)");
    free(deep);
    assert_int_equal(
        hrss__json_load_strict("[1]", 3, 1, "body", &v, field, sizeof(field), msg, sizeof(msg)),
        HRSS_OK);
    assert_true(json_is_array(v));
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_standard_examples),
        cmocka_unit_test(test_standard_request_fields),
        cmocka_unit_test(test_standard_batch_request_id_is_short),
        cmocka_unit_test(test_failure_example_as_request),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_json_syntax),
        cmocka_unit_test(test_input_size),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_response_body_absence),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_field_lengths),
        cmocka_unit_test(test_field_formats),
        cmocka_unit_test(test_nonce),
        cmocka_unit_test(test_timestamp_alias),
        cmocka_unit_test(test_header_value_types),
        cmocka_unit_test(test_other_header_fields),
        cmocka_unit_test(test_body_size),
        cmocka_unit_test(test_reports_all_in_document_order),
        cmocka_unit_test(test_validate_built),
        cmocka_unit_test(test_set_and_get),
        cmocka_unit_test(test_new_response),
        cmocka_unit_test(test_serialize_round_trip),
        cmocka_unit_test(test_loader_with_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
