/*
 * tests/unit/lib/test_body.c - the body shapes of LD/T 6008-2024 6.2.2 and
 * their getters (on the standard's own examples too), and sealed bodies:
 * SM4-ECB against the local vector of tests/vectors/sm-vectors.txt, SM4-GCM
 * bound to serviceReqId, SM2 in its three ciphertext formats, and the
 * strict parse of what a body opens to.
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

#define VECTOR_BODY "{\"aac002\":\"110101199003077777\"}"
#define VECTOR_B64 "5NE5MLW1KdfAG99YimS6/UQTNm671alyr/koPv1yzwI="
#define VECTOR_HEX "e4d13930b5b529d7c01bdf588a64bafd4413366ebbd5a972aff9283efd72cf02"

static json_t *load_file_body(const char *name)
{
    const char *top = getenv("HRSS_SOURCE_DIR");
    char path[1024];
    json_error_t jerr;
    snprintf(path, sizeof(path), "%s/tests/data/envelopes/%s", top ? top : ".", name);
    json_t *doc = json_load_file(path, 0, &jerr);
    if (doc == NULL)
        fail_msg("%s: %s", path, jerr.text);
    json_t *body = json_incref(json_object_get(doc, "body"));
    json_decref(doc);
    return body;
}

static void expect_err(int rc, const hrss_error *err, int code, const char *msg)
{
    if (rc != code)
        fail_msg("got %d (%s), wanted %d '%s'", rc, err->msg, code, msg);
    assert_int_equal(err->code, code);
    assert_string_equal(err->msg, msg);
}

/* ---- shapes ---- */

static void test_data_shape(void **state)
{
    (void)state;
    json_t *b = hrss_body_data(json_pack("{s:s}", "aac002", "1"));
    char *s = json_dumps(b, JSON_COMPACT);
    assert_string_equal(s, "{\"data\":{\"aac002\":\"1\"}}");
    free(s);
    json_decref(b);
    assert_null(hrss_body_data(NULL));
}

static void test_paging(void **state)
{
    long long cpage = 0, rows = 0;
    hrss_error err = {0};
    (void)state;

    json_t *b =
        hrss_body_paged_request(json_pack("{s:s,s:s}", "aac003", "张*", "aac002", "1"), 2, 10);
    char *s = json_dumps(b, JSON_COMPACT);
    assert_string_equal(s, "{\"aac003\":\"张*\",\"aac002\":\"1\",\"cpage\":2,\"rows\":10}");
    free(s);
    assert_int_equal(hrss_body_get_paging(b, &cpage, &rows, &err), HRSS_OK);
    assert_int_equal(cpage, 2);
    assert_int_equal(rows, 10);

    /* the limits */
    json_object_set_new(b, "rows", json_integer(1000));
    assert_int_equal(hrss_body_get_paging(b, &cpage, &rows, &err), HRSS_OK);
    json_object_set_new(b, "rows", json_integer(1001));
    expect_err(hrss_body_get_paging(b, &cpage, &rows, &err), &err, HRSS_ERANGE,
               "body.rows: 1001, at most 1000");
    json_object_set_new(b, "rows", json_integer(0));
    expect_err(hrss_body_get_paging(b, &cpage, &rows, &err), &err, HRSS_ERANGE,
               "body.rows: 0, at least 1");
    json_object_set_new(b, "rows", json_integer(1));
    json_object_set_new(b, "cpage", json_integer(0));
    expect_err(hrss_body_get_paging(b, &cpage, &rows, &err), &err, HRSS_ERANGE,
               "body.cpage: 0, at least 1");
    json_object_set_new(b, "cpage", json_real(1.0));
    expect_err(hrss_body_get_paging(b, &cpage, &rows, &err), &err, HRSS_ETYPE,
               "body.cpage: must be an integer, found number");
    json_object_set_new(b, "cpage", json_string("1"));
    expect_err(hrss_body_get_paging(b, &cpage, &rows, &err), &err, HRSS_ETYPE,
               "body.cpage: must be an integer, found string");
    json_object_del(b, "cpage");
    expect_err(hrss_body_get_paging(b, &cpage, &rows, &err), &err, HRSS_EMISSING,
               "body.cpage: missing");
    json_decref(b);

    b = hrss_body_paged_request(NULL, 1, 1);
    assert_int_equal(hrss_body_get_paging(b, NULL, NULL, &err), HRSS_OK);
    json_decref(b);
    assert_null(hrss_body_paged_request(json_array(), 1, 1));
    b = json_string("x");
    expect_err(hrss_body_get_paging(b, &cpage, &rows, &err), &err, HRSS_ETYPE,
               "body: must be an object, found string");
    json_decref(b);
    expect_err(hrss_body_get_paging(NULL, &cpage, &rows, &err), &err, HRSS_ETYPE,
               "body: must be an object, found nothing");

    /* the standard's example of 6.2.2.2.1 */
    b = load_file_body("std-6.2.2.2.1-paged-request.json");
    assert_int_equal(hrss_body_get_paging(b, &cpage, &rows, &err), HRSS_OK);
    assert_int_equal(cpage, 1);
    assert_int_equal(rows, 10);
    json_decref(b);
}

static void test_paged_response(void **state)
{
    long long count = -1, pages = -1;
    json_t *list = NULL;
    hrss_error err = {0};
    (void)state;

    json_t *b = hrss_body_paged_response(json_pack("[{s:s},{s:s}]", "a", "1", "a", "2"), 12, 6);
    char *s = json_dumps(b, JSON_COMPACT);
    assert_string_equal(
        s, "{\"data\":{\"totalCount\":12,\"totalPage\":6,\"list\":[{\"a\":\"1\"},{\"a\":\"2\"}]}}");
    free(s);
    assert_int_equal(hrss_body_get_paged_response(b, &count, &pages, &list, &err), HRSS_OK);
    assert_int_equal(count, 12);
    assert_int_equal(pages, 6);
    assert_int_equal(json_array_size(list), 2);

    json_t *data = json_object_get(b, "data");
    json_object_set_new(data, "totalCount", json_integer(1));
    expect_err(hrss_body_get_paged_response(b, &count, &pages, &list, &err), &err, HRSS_ERANGE,
               "body.data.totalCount: 1, less than the 2 items of list");
    json_object_set_new(data, "totalCount", json_integer(-1));
    expect_err(hrss_body_get_paged_response(b, &count, &pages, &list, &err), &err, HRSS_ERANGE,
               "body.data.totalCount: -1, at least 0");
    json_object_set_new(data, "totalCount", json_integer(2));
    json_array_append_new(json_object_get(data, "list"), json_integer(3));
    expect_err(hrss_body_get_paged_response(b, &count, &pages, &list, &err), &err, HRSS_ETYPE,
               "body.data.list[2]: must be an object, found number");
    json_object_set_new(data, "list", json_object());
    expect_err(hrss_body_get_paged_response(b, &count, &pages, &list, &err), &err, HRSS_ETYPE,
               "body.data.list: must be an array, found object");
    json_object_del(data, "totalPage");
    expect_err(hrss_body_get_paged_response(b, &count, &pages, &list, &err), &err, HRSS_EMISSING,
               "body.data.totalPage: missing");
    json_object_set_new(b, "data", json_array());
    expect_err(hrss_body_get_paged_response(b, &count, &pages, &list, &err), &err, HRSS_ETYPE,
               "body.data: must be an object, found array");
    json_object_del(b, "data");
    expect_err(hrss_body_get_paged_response(b, &count, &pages, &list, &err), &err, HRSS_EMISSING,
               "body.data: missing");
    json_decref(b);
    assert_null(hrss_body_paged_response(json_object(), 1, 1));
    assert_null(hrss_body_paged_response(NULL, 1, 1));

    /* the standard's example of 6.2.2.2.2 */
    b = load_file_body("std-6.2.2.2.2-paged-response.json");
    assert_int_equal(hrss_body_get_paged_response(b, &count, &pages, &list, &err), HRSS_OK);
    assert_int_equal(count, 2);
    assert_int_equal(pages, 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "aab004")),
                        "杭州公司");
    json_decref(b);
}

static void test_batch(void **state)
{
    json_t *list = NULL;
    hrss_error err = {0};
    (void)state;

    json_t *b = hrss_body_batch_request(json_pack("[{s:s},{s:s}]", "aac002", "1", "aac002", "2"));
    char *s = json_dumps(b, JSON_COMPACT);
    assert_string_equal(s, "{\"totalCount\":2,\"list\":[{\"aac002\":\"1\"},{\"aac002\":\"2\"}]}");
    free(s);
    assert_int_equal(hrss_body_get_batch(b, &list, &err), HRSS_OK);
    assert_int_equal(json_array_size(list), 2);

    json_object_set_new(b, "totalCount", json_integer(3));
    expect_err(hrss_body_get_batch(b, &list, &err), &err, HRSS_ERANGE,
               "body.totalCount: 3, but list has 2 items");
    json_object_set_new(b, "totalCount", json_integer(2));
    json_array_set_new(json_object_get(b, "list"), 0, json_string("x"));
    expect_err(hrss_body_get_batch(b, &list, &err), &err, HRSS_ETYPE,
               "body.list[0]: must be an object, found string");
    json_object_del(b, "list");
    expect_err(hrss_body_get_batch(b, &list, &err), &err, HRSS_EMISSING, "body.list: missing");
    json_object_set_new(b, "totalCount", json_string("2"));
    expect_err(hrss_body_get_batch(b, &list, &err), &err, HRSS_ETYPE,
               "body.totalCount: must be an integer, found string");
    json_decref(b);
    assert_null(hrss_body_batch_request(json_object()));

    b = hrss_body_batch_request(json_array());
    assert_int_equal(hrss_body_get_batch(b, &list, &err), HRSS_OK);
    assert_int_equal(json_array_size(list), 0);
    json_decref(b);

    /* the body of 6.2.2.3.1 (its header's id is the standard's error, not its body) */
    b = load_file_body("std-6.2.2.3.1-batch-request.json");
    assert_int_equal(hrss_body_get_batch(b, &list, &err), HRSS_OK);
    assert_int_equal(json_array_size(list), 2);
    json_decref(b);
    /* and the workHistory of 6.2.2.3.2 has the same shape */
    b = load_file_body("std-6.2.2.3.2-batch-response.json");
    assert_int_equal(hrss_body_get_batch(json_object_get(json_object_get(b, "data"), "workHistory"),
                                         &list, &err),
                     HRSS_OK);
    json_decref(b);
}

/* ---- sealed bodies ---- */

static hrss_envelope *request_with_body(const char *body_json)
{
    hrss_envelope *e = hrss_envelope_new(HRSS_ENV_REQUEST);
    assert_non_null(e);
    hrss_envelope_set(e, "serviceCode", "S110000Y70PYTjb");
    hrss_envelope_set(e, "appCode", "B100000KJGK");
    hrss_envelope_set(e, "serviceAreaCode", "110000");
    hrss_envelope_set(e, "serviceReqId", "B100000KJGK20170122100000001");
    hrss_envelope_set(e, "serviceReqTime", "20170122101020");
    if (body_json != NULL) {
        json_t *b = json_loads(body_json, 0, NULL);
        assert_non_null(b);
        hrss_envelope_set_body(e, b);
    }
    return e;
}

static hrss_body_key sm4_key(hrss_body_cipher cipher, hrss_text_encoding enc)
{
    hrss_body_key k;
    hrss_error err;
    memset(&k, 0, sizeof(k));
    k.cipher = cipher;
    k.encoding = enc;
    assert_int_equal(hrss_sm4_key_from_digits("1234567890123456", 16, k.sm4, &err), HRSS_OK);
    return k;
}

static char *body_text(const hrss_envelope *e)
{
    char *s = json_dumps(hrss_envelope_body(e), JSON_COMPACT | JSON_ENCODE_ANY);
    assert_non_null(s);
    return s;
}

/* The local vector: SM4-ECB, key "1234567890123456", PKCS#7. */
static void test_sm4_ecb_vector(void **state)
{
    hrss_error err = {0};
    (void)state;
    static const struct {
        hrss_text_encoding enc;
        const char *want;
    } cases[] = {{HRSS_TEXT_BASE64, VECTOR_B64}, {HRSS_TEXT_HEX, VECTOR_HEX}};

    for (size_t i = 0; i < 2; i++) {
        hrss_body_key k = sm4_key(HRSS_BODY_SM4_ECB, cases[i].enc);
        hrss_envelope *e = request_with_body(VECTOR_BODY);
        assert_int_equal(hrss_envelope_seal_body(e, &k, &err), HRSS_OK);
        assert_true(json_is_string(hrss_envelope_body(e)));
        assert_string_equal(json_string_value(hrss_envelope_body(e)), cases[i].want);
        /* a sealed envelope is still a valid envelope */
        assert_int_equal(hrss_envelope_validate(e, NULL, NULL, &err), HRSS_OK);
        assert_int_equal(hrss_envelope_open_body(e, &k, &err), HRSS_OK);
        char *s = body_text(e);
        assert_string_equal(s, VECTOR_BODY);
        free(s);
        hrss_envelope_free(e);
    }
}

/* The plaintext is the compact JSON with UTF-8 as is and members in order. */
static void test_sm4_plaintext_form(void **state)
{
    hrss_body_key k = sm4_key(HRSS_BODY_SM4_ECB, HRSS_TEXT_BASE64);
    hrss_envelope *e = request_with_body("{ \"aac003\" : \"张*\",\n \"aac002\": \"4401\" }");
    hrss_error err = {0};
    unsigned char *ct = NULL, *pt = NULL;
    size_t ctlen, ptlen;
    (void)state;

    assert_int_equal(hrss_envelope_seal_body(e, &k, &err), HRSS_OK);
    const char *b64 = json_string_value(hrss_envelope_body(e));
    assert_int_equal(hrss_base64_decode(b64, strlen(b64), &ct, &ctlen, &err), HRSS_OK);
    assert_int_equal(hrss_sm4_ecb_decrypt(k.sm4, ct, ctlen, &pt, &ptlen, &err), HRSS_OK);
    const char *want = "{\"aac003\":\"张*\",\"aac002\":\"4401\"}";
    assert_int_equal(ptlen, strlen(want));
    assert_memory_equal(pt, want, ptlen);
    hrss_free(ct);
    hrss_free(pt);
    hrss_envelope_free(e);
}

static void test_sm4_gcm(void **state)
{
    hrss_body_key k = sm4_key(HRSS_BODY_SM4_GCM, HRSS_TEXT_BASE64);
    hrss_envelope *e = request_with_body(VECTOR_BODY), *f = request_with_body(VECTOR_BODY);
    hrss_error err = {0};
    (void)state;

    assert_int_equal(hrss_envelope_seal_body(e, &k, &err), HRSS_OK);
    assert_int_equal(hrss_envelope_seal_body(f, &k, &err), HRSS_OK);
    /* a random IV each time */
    assert_string_not_equal(json_string_value(hrss_envelope_body(e)),
                            json_string_value(hrss_envelope_body(f)));
    /* bound to serviceReqId: moved to another request, it does not open */
    hrss_envelope_set(f, "serviceReqId", "B100000KJGK20170122100000002");
    hrss_envelope_set_body(f, json_incref(hrss_envelope_body(e)));
    assert_int_equal(hrss_envelope_open_body(f, &k, &err), HRSS_EDECRYPT);
    assert_int_equal(err.code, HRSS_EDECRYPT);
    assert_true(strncmp(err.msg, "body: ", 6) == 0);
    assert_true(json_is_string(hrss_envelope_body(f))); /* left as it was */
    hrss_envelope_set(f, "serviceReqId", NULL);
    expect_err(hrss_envelope_open_body(f, &k, &err), &err, HRSS_EMISSING,
               "header.serviceReqId: missing (it is the AAD of SM4-GCM)");
    assert_int_equal(hrss_envelope_open_body(e, &k, &err), HRSS_OK);
    char *s = body_text(e);
    assert_string_equal(s, VECTOR_BODY);
    free(s);
    /* sealing needs the id too */
    hrss_envelope_set_body(f, json_object());
    expect_err(hrss_envelope_seal_body(f, &k, &err), &err, HRSS_EMISSING,
               "header.serviceReqId: missing (it is the AAD of SM4-GCM)");
    hrss_envelope_free(e);
    hrss_envelope_free(f);
}

static void test_sm2(void **state)
{
    hrss_sm2_key *priv = NULL, *pub = NULL;
    hrss_error err = {0};
    char *pem = NULL;
    size_t pemlen;
    (void)state;

    assert_int_equal(hrss_sm2_key_generate(&priv, &err), HRSS_OK);
    assert_int_equal(hrss_sm2_key_to_pem(priv, 0, &pem, &pemlen), HRSS_OK);
    assert_int_equal(hrss_sm2_key_from_pem(pem, pemlen, &pub, &err), HRSS_OK);
    static const hrss_sm2_ct_format formats[] = {HRSS_SM2_C1C3C2, HRSS_SM2_C1C2C3, HRSS_SM2_DER};
    for (size_t i = 0; i < 3; i++) {
        hrss_body_key seal = {HRSS_BODY_SM2, HRSS_TEXT_BASE64, {0}, pub, formats[i]};
        hrss_body_key open = {HRSS_BODY_SM2, HRSS_TEXT_BASE64, {0}, priv, formats[i]};
        hrss_envelope *e = request_with_body("{\"aac003\":\"张*\",\"list\":[1,2]}");
        assert_int_equal(hrss_envelope_seal_body(e, &seal, &err), HRSS_OK);
        /* the public key cannot open it */
        assert_int_equal(hrss_envelope_open_body(e, &seal, &err), HRSS_EKEY);
        assert_int_equal(hrss_envelope_open_body(e, &open, &err), HRSS_OK);
        char *s = body_text(e);
        assert_string_equal(s, "{\"aac003\":\"张*\",\"list\":[1,2]}");
        free(s);
        hrss_envelope_free(e);
    }
    /* read in the wrong format, it does not decrypt */
    hrss_body_key seal = {HRSS_BODY_SM2, HRSS_TEXT_HEX, {0}, pub, HRSS_SM2_C1C3C2};
    hrss_body_key open = {HRSS_BODY_SM2, HRSS_TEXT_HEX, {0}, priv, HRSS_SM2_C1C2C3};
    hrss_envelope *e = request_with_body(VECTOR_BODY);
    assert_int_equal(hrss_envelope_seal_body(e, &seal, &err), HRSS_OK);
    assert_int_equal(hrss_envelope_open_body(e, &open, &err), HRSS_EDECRYPT);
    /* no key */
    seal.sm2 = NULL;
    hrss_envelope_set_body(e, json_object());
    expect_err(hrss_envelope_seal_body(e, &seal, &err), &err, HRSS_EKEY,
               "body: no SM2 public key to seal with");
    hrss_envelope_free(e);
    hrss_free(pem);
    hrss_sm2_key_free(priv);
    hrss_sm2_key_free(pub);
}

/* Puts the SM4-ECB ciphertext of plaintext into e's body. */
static void set_sealed_text(hrss_envelope *e, const hrss_body_key *k, const char *pt, size_t n)
{
    unsigned char *ct = NULL;
    char *b64 = NULL;
    size_t ctlen, b64len;
    hrss_error err;
    assert_int_equal(hrss_sm4_ecb_encrypt(k->sm4, pt, n, &ct, &ctlen, &err), HRSS_OK);
    assert_int_equal(hrss_base64_encode(ct, ctlen, &b64, &b64len), HRSS_OK);
    hrss_envelope_set_body(e, json_string(b64));
    hrss_free(ct);
    hrss_free(b64);
}

/* What a body opens to is parsed as strictly as an envelope. */
static void test_open_is_strict(void **state)
{
    hrss_body_key k = sm4_key(HRSS_BODY_SM4_ECB, HRSS_TEXT_BASE64);
    hrss_envelope *e = request_with_body(NULL);
    hrss_error err = {0};
    (void)state;

    set_sealed_text(e, &k, "{\"a\":1,\"a\":2}", 13);
    expect_err(hrss_envelope_open_body(e, &k, &err), &err, HRSS_EDUPKEY,
               "body.a: duplicate key (line 1, column 10)");
    set_sealed_text(e, &k, "{\"a\":\"\xff\"}", 9);
    expect_err(hrss_envelope_open_body(e, &k, &err), &err, HRSS_EUTF8,
               "body.a: invalid UTF-8 (line 1, column 6)");
    set_sealed_text(e, &k, "[1]", 3);
    expect_err(hrss_envelope_open_body(e, &k, &err), &err, HRSS_ETYPE,
               "body: the plaintext must be a JSON object, found array");
    set_sealed_text(e, &k, "{} x", 4);
    expect_err(hrss_envelope_open_body(e, &k, &err), &err, HRSS_EFORMAT,
               "body: invalid JSON: end of file expected near 'x' (line 1, column 4)");
    /* 63 levels in the body are the most (the envelope is the 64th) */
    char deep[200];
    for (int levels = 63; levels <= 64; levels++) {
        /* {"a":[[[...]]]}: one object and levels - 1 arrays */
        int n = snprintf(deep, sizeof(deep), "{\"a\":");
        for (int i = 0; i < levels - 1; i++)
            deep[n++] = '[';
        for (int i = 0; i < levels - 1; i++)
            deep[n++] = ']';
        deep[n++] = '}';
        set_sealed_text(e, &k, deep, (size_t)n);
        if (levels == 63) {
            assert_int_equal(hrss_envelope_open_body(e, &k, &err), HRSS_OK);
            assert_int_equal(hrss_envelope_validate(e, NULL, NULL, &err), HRSS_OK);
        } else {
            expect_err(hrss_envelope_open_body(e, &k, &err), &err, HRSS_ETOOBIG,
                       "body: nesting depth 65, at most 64 (line 1, column 68)");
        }
    }
    hrss_envelope_free(e);
}

static void test_open_errors(void **state)
{
    hrss_body_key k = sm4_key(HRSS_BODY_SM4_ECB, HRSS_TEXT_BASE64);
    hrss_envelope *e = request_with_body(VECTOR_BODY);
    hrss_error err = {0};
    (void)state;

    /* a plain body is not a ciphertext */
    expect_err(hrss_envelope_open_body(e, &k, &err), &err, HRSS_ETYPE,
               "body: must be a string (ciphertext), found object");
    /* not Base64 */
    hrss_envelope_set_body(e, json_string("not base64!"));
    assert_int_equal(hrss_envelope_open_body(e, &k, &err), HRSS_EDECRYPT);
    assert_int_equal(err.code, HRSS_EDECRYPT);
    assert_true(strncmp(err.msg, "body: ", 6) == 0);
    /* hex expected, Base64 given */
    hrss_body_key kh = sm4_key(HRSS_BODY_SM4_ECB, HRSS_TEXT_HEX);
    hrss_envelope_set_body(e, json_string(VECTOR_B64));
    assert_int_equal(hrss_envelope_open_body(e, &kh, &err), HRSS_EDECRYPT);
    /* the wrong key: bad padding, or garbage that is not JSON */
    hrss_body_key wrong = k;
    wrong.sm4[0] ^= 1;
    assert_int_not_equal(hrss_envelope_open_body(e, &wrong, &err), HRSS_OK);
    assert_true(json_is_string(hrss_envelope_body(e)));
    /* an empty ciphertext */
    hrss_envelope_set_body(e, json_string(""));
    assert_int_equal(hrss_envelope_open_body(e, &k, &err), HRSS_EDECRYPT);
    /* plain profile: nothing to do for an object, a string is refused */
    hrss_body_key plain = {0};
    hrss_envelope_set_body(e, json_string(VECTOR_B64));
    expect_err(hrss_envelope_open_body(e, &plain, &err), &err, HRSS_ETYPE,
               "body: must be an object, found string");
    hrss_envelope_set_body(e, json_object());
    assert_int_equal(hrss_envelope_open_body(e, &plain, &err), HRSS_OK);
    assert_int_equal(hrss_envelope_seal_body(e, &plain, &err), HRSS_OK);
    assert_true(json_is_object(hrss_envelope_body(e)));
    /* sealing needs an object */
    hrss_envelope_set_body(e, json_string("x"));
    expect_err(hrss_envelope_seal_body(e, &k, &err), &err, HRSS_ETYPE,
               "body: only an object can be sealed, found string");
    hrss_envelope_set_body(e, NULL);
    expect_err(hrss_envelope_seal_body(e, &k, &err), &err, HRSS_ETYPE,
               "body: only an object can be sealed, found nothing");
    expect_err(hrss_envelope_open_body(e, &k, &err), &err, HRSS_ETYPE,
               "body: must be a string (ciphertext), found nothing");
    assert_int_equal(hrss_envelope_seal_body(NULL, &k, &err), HRSS_EINVAL);
    assert_int_equal(hrss_envelope_open_body(e, NULL, &err), HRSS_EINVAL);
    hrss_envelope_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_shape),     cmocka_unit_test(test_paging),
        cmocka_unit_test(test_paged_response), cmocka_unit_test(test_batch),
        cmocka_unit_test(test_sm4_ecb_vector), cmocka_unit_test(test_sm4_plaintext_form),
        cmocka_unit_test(test_sm4_gcm),        cmocka_unit_test(test_sm2),
        cmocka_unit_test(test_open_is_strict), cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
