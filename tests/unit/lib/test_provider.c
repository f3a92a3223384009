/*
 * tests/unit/lib/test_provider.c - the provider API (provider.h): every
 * refusal of hrss_provider_handle (not an envelope, unknown service, no
 * grant, stale time, bad signature, replayed nonce, undecryptable or
 * unexpected body, a handler answer that cannot go out), then whole round
 * trips of the caller API through the embedded HTTP server on 127.0.0.1:
 * plain, SM4-ECB, SM4-GCM, SM2 (request with the provider's public key,
 * response with the caller's, docs/design.md decision 5), and calls from
 * several threads at once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hrss/hrss.h"

#define CALLER "B100000KJGK"
#define OTHER "S440000GDR1"
#define PROVIDER "S110000Y70P"
#define SERVICE "S110000Y70PYTjb"
#define SM4_KEY "1234567890123456"
#define CALLER_SECRET "caller-secret-0123"
#define PROVIDER_SECRET "provider-secret-4567"

static char state_dir[256];
static hrss_sm2_key *caller_key, *provider_key, *caller_pub, *provider_pub;

/* Echoes the request body under data; "fail" in the body asks for a
 * business failure, "bad" for a body too large to send. */
static void echo(void *ctx, const hrss_provider_request *req, hrss_provider_reply *rep)
{
    int *calls = ctx;
    (*calls)++;
    assert_string_equal(req->service_code, SERVICE);
    assert_true(json_is_object(req->body));
    if (json_object_get(req->body, "fail") != NULL) {
        hrss_provider_reply_status(rep, HRSS_COMM_BUSINESS_FAIL, "002", "no person %s", "x");
        return;
    }
    if (json_object_get(req->body, "bad") != NULL) { /* over the 100K characters of a body */
        char *big = malloc(HRSS_BODY_MAX_CHARS + 1);
        memset(big, 'x', HRSS_BODY_MAX_CHARS);
        big[HRSS_BODY_MAX_CHARS] = '\0';
        hrss_provider_reply_body(rep, hrss_body_data(json_string(big)));
        free(big);
        return;
    }
    hrss_provider_reply_body(rep, hrss_body_data(json_deep_copy(req->body)));
}

static int calls;

static hrss_provider *provider_new(int require_grant, int64_t window, hrss_replay *replay)
{
    hrss_provider *p = NULL;
    hrss_error e;
    hrss_provider_options o = {
        .system_code = PROVIDER,
        .state_dir = state_dir,
        .sign = {HRSS_SIG_SM2, NULL, 0, provider_key},
        .require_grant = require_grant,
        .window_sec = window,
        .replay = replay,
    };
    if (hrss_provider_new(&o, &p, &e) != HRSS_OK)
        fail_msg("provider: %s", e.msg);
    assert_int_equal(hrss_provider_route(p, SERVICE, echo, &calls, &e), HRSS_OK);
    hrss_provider_grant g = {CALLER, SERVICE,
                             {HRSS_SIG_HMAC_SM3, (const unsigned char *)CALLER_SECRET,
                              strlen(CALLER_SECRET), NULL},
                             HRSS_BODY_SM4_ECB, HRSS_TEXT_BASE64, SM4_KEY, NULL};
    assert_int_equal(hrss_provider_grant_add(p, &g, &e), HRSS_OK);
    hrss_provider_grant g2 = {OTHER, NULL, {HRSS_SIG_SM2, NULL, 0, caller_pub},
                              HRSS_BODY_SM2, HRSS_TEXT_BASE64, NULL, caller_pub};
    assert_int_equal(hrss_provider_grant_add(p, &g2, &e), HRSS_OK);
    return p;
}

/* A signed request of CALLER as text; body sealed with SM4 unless plain. */
static char *request(const char *app, const char *service, json_t *body, int seal,
                     const char *secret, size_t *len)
{
    hrss_envelope *e = hrss_envelope_new(HRSS_ENV_REQUEST);
    hrss_idgen *ids = NULL;
    hrss_error err;
    char *out = NULL;
    assert_int_equal(hrss_idgen_new(app, state_dir, &ids, &err), HRSS_OK);
    hrss_envelope_set(e, "serviceCode", service);
    hrss_envelope_set(e, "appCode", app);
    hrss_envelope_set(e, "serviceAreaCode", "110000");
    hrss_envelope_set_body(e, body);
    assert_int_equal(hrss_envelope_fill_request(e, ids, &err), HRSS_OK);
    if (seal) {
        hrss_body_key bk = {.cipher = HRSS_BODY_SM4_ECB, .encoding = HRSS_TEXT_BASE64};
        hrss_sm4_key_from_digits(SM4_KEY, 16, bk.sm4, &err);
        assert_int_equal(hrss_envelope_seal_body(e, &bk, &err), HRSS_OK);
    }
    hrss_sig_key sk = {HRSS_SIG_HMAC_SM3, (const unsigned char *)secret, strlen(secret), NULL};
    assert_int_equal(hrss_envelope_sign(e, &sk, &err), HRSS_OK);
    assert_int_equal(hrss_envelope_serialize(e, &out, len), HRSS_OK);
    hrss_envelope_free(e);
    hrss_idgen_free(ids);
    return out;
}

/* Handles text and returns the parsed response (HTTP 200 expected). */
static hrss_envelope *handle(hrss_provider *p, const char *text, size_t len)
{
    char *out = NULL;
    size_t outlen = 0;
    int status = 0;
    hrss_envelope *res = NULL;
    hrss_error e;
    assert_int_equal(hrss_provider_handle(p, text, len, &out, &outlen, &status, &e), HRSS_OK);
    assert_int_equal(status, 200);
    if (hrss_envelope_parse(out, outlen, HRSS_ENV_RESPONSE, &res, NULL, NULL, &e) != HRSS_OK)
        fail_msg("response %s: %s", out, e.msg);
    hrss_free(out);
    return res;
}

static void expect_refusal(hrss_provider *p, char *text, const char *status, const char *msg)
{
    hrss_envelope *res = handle(p, text, strlen(text));
    assert_string_equal(hrss_envelope_get(res, "commStatus"), status);
    if (strstr(hrss_envelope_get(res, "msg"), msg) == NULL)
        fail_msg("msg '%s' lacks '%s'", hrss_envelope_get(res, "msg"), msg);
    assert_null(hrss_envelope_body(res));
    hrss_envelope_free(res);
    hrss_free(text);
}

static void test_not_an_envelope(void **state)
{
    (void)state;
    hrss_provider *p = provider_new(0, 0, NULL);
    char *out = NULL;
    size_t outlen = 0;
    int status = 0;
    hrss_error e;
    const char *dup = "{\"header\":{},\"header\":{}}";
    assert_int_equal(hrss_provider_handle(p, "nope", 4, &out, &outlen, &status, &e), HRSS_OK);
    assert_int_equal(status, 400);
    assert_non_null(strstr(out, "\"error\":\"bad_envelope\""));
    hrss_free(out);
    assert_int_equal(hrss_provider_handle(p, dup, strlen(dup), &out, &outlen, &status, &e),
                     HRSS_OK);
    assert_int_equal(status, 400);
    assert_non_null(strstr(out, "duplicate_key"));
    hrss_free(out);
    assert_int_equal(hrss_provider_handle(p, NULL, 0, &out, &outlen, &status, &e), HRSS_OK);
    assert_int_equal(status, 400);
    hrss_free(out);
    hrss_provider_free(p);
}

/* Invalid UTF-8 under long nested member names: the path quoted in the
 * error used to be cut inside a character, jansson refused the message,
 * and the provider had no answer ("out of memory") instead of a 400. */
static void test_bad_utf8_under_long_keys(void **state)
{
    (void)state;
    hrss_provider *p = provider_new(0, 0, NULL);
    char text[1024], k1[256], k2[256];
    char *out = NULL;
    size_t outlen = 0, n1 = 0, n2 = 0;
    int status = 0;
    hrss_error e;
    for (int i = 0; i < 60; i++, n1 += 3)
        memcpy(k1 + n1, "\xe4\xb8\xad", 3); /* 中 */
    k1[n1] = '\0';
    k2[n2++] = 'a';                   /* shifts the cut into the middle of a character */
    for (int i = 0; i < 40; i++, n2 += 3)
        memcpy(k2 + n2, "\xe4\xb8\xad", 3);
    k2[n2] = '\0';
    int len = snprintf(text, sizeof(text), "{\"header\":{},\"body\":{\"%s\":{\"%s\":{\"x\xff\":1}}}}",
                       k1, k2);
    assert_int_equal(hrss_provider_handle(p, text, (size_t)len, &out, &outlen, &status, &e),
                     HRSS_OK);
    assert_int_equal(status, 400);
    json_t *doc = json_loadb(out, outlen, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "error")), "bad_utf8");
    assert_non_null(strstr(json_string_value(json_object_get(doc, "message")), "invalid UTF-8"));
    json_decref(doc);
    hrss_free(out);
    hrss_provider_free(p);
}

static void test_refusals(void **state)
{
    (void)state;
    hrss_replay *replay = NULL;
    hrss_error e;
    size_t len;
    assert_int_equal(hrss_replay_memory_new(1000, 900, &replay, &e), HRSS_OK);
    hrss_provider *p = provider_new(1, 900, replay);
    calls = 0;

    expect_refusal(p, request(CALLER, "S110000Y70PXXXX", json_object(), 1, CALLER_SECRET, &len),
                   "90", "unknown service S110000Y70PXXXX");
    expect_refusal(p, request("B100000NOGR", SERVICE, json_object(), 1, CALLER_SECRET, &len),
                   "50", "no grant for B100000NOGR");
    expect_refusal(p, request(CALLER, SERVICE, json_object(), 1, "wrong-secret", &len), "30",
                   "signature mismatch");
    expect_refusal(p, request(CALLER, SERVICE, json_object(), 0, CALLER_SECRET, &len), "40",
                   "plaintext");
    /* a stale time: the request is built, then its time moved and re-signed */
    {
        hrss_envelope *q = NULL;
        char *t = request(CALLER, SERVICE, json_object(), 1, CALLER_SECRET, &len), *out = NULL;
        assert_int_equal(hrss_envelope_parse(t, len, HRSS_ENV_REQUEST, &q, NULL, NULL, &e), 0);
        hrss_envelope_set(q, "serviceReqTime", "20200101000000");
        hrss_sig_key sk = {HRSS_SIG_HMAC_SM3, (const unsigned char *)CALLER_SECRET,
                           strlen(CALLER_SECRET), NULL};
        hrss_envelope_sign(q, &sk, &e);
        hrss_envelope_serialize(q, &out, &len);
        hrss_envelope_free(q);
        hrss_free(t);
        expect_refusal(p, out, "30", "outside the window");
    }
    /* ciphertext that is not SM4 under the grant's key */
    {
        hrss_envelope *q = NULL;
        char *t = request(CALLER, SERVICE, json_object(), 1, CALLER_SECRET, &len), *out = NULL;
        assert_int_equal(hrss_envelope_parse(t, len, HRSS_ENV_REQUEST, &q, NULL, NULL, &e), 0);
        hrss_envelope_set_body(q, json_string("AAAAAAAAAAAAAAAAAAAAAA=="));
        hrss_envelope_serialize(q, &out, &len);
        hrss_envelope_free(q);
        hrss_free(t);
        expect_refusal(p, out, "40", "does not decrypt with sm4-ecb");
    }
    /* the same request twice: the nonce is refused the second time */
    char *once = request(CALLER, SERVICE, json_pack("{s:i}", "n", 1), 1, CALLER_SECRET, &len);
    hrss_envelope *res = handle(p, once, len);
    assert_string_equal(hrss_envelope_get(res, "commStatus"), "00");
    hrss_envelope_free(res);
    expect_refusal(p, once, "30", "nonce replayed");
    assert_int_equal(calls, 1); /* no refused request reached the handler */
    hrss_provider_free(p);
    hrss_replay_free(replay);
}

static void test_handler_answers(void **state)
{
    (void)state;
    hrss_provider *p = provider_new(0, 0, NULL);
    hrss_error e;
    size_t len;
    hrss_body_key bk = {.cipher = HRSS_BODY_SM4_ECB, .encoding = HRSS_TEXT_BASE64};
    hrss_sm4_key_from_digits(SM4_KEY, 16, bk.sm4, &e);
    hrss_sig_key pv = {HRSS_SIG_SM2, NULL, 0, provider_pub};

    char *t = request(CALLER, SERVICE, json_pack("{s:s}", "aac002", "x"), 1, CALLER_SECRET, &len);
    hrss_envelope *res = handle(p, t, len);
    hrss_free(t);
    assert_string_equal(hrss_envelope_get(res, "commStatus"), "00");
    assert_memory_equal(hrss_envelope_get(res, "serviceResId"), PROVIDER, 11);
    assert_int_equal(hrss_envelope_verify(res, &pv, &e), HRSS_OK); /* signed by the provider */
    assert_true(json_is_string(hrss_envelope_body(res)));           /* sealed with the grant */
    assert_int_equal(hrss_envelope_open_body(res, &bk, &e), HRSS_OK);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(hrss_envelope_body(res), "data"), "aac002")),
        "x");
    hrss_envelope_free(res);

    t = request(CALLER, SERVICE, json_pack("{s:b}", "fail", 1), 1, CALLER_SECRET, &len);
    res = handle(p, t, len);
    hrss_free(t);
    assert_string_equal(hrss_envelope_get(res, "commStatus"), "10");
    assert_string_equal(hrss_envelope_get(res, "busiStatus"), "002");
    assert_string_equal(hrss_envelope_get(res, "msg"), "no person x");
    hrss_envelope_free(res);

    t = request(CALLER, SERVICE, json_pack("{s:b}", "bad", 1), 1, CALLER_SECRET, &len);
    res = handle(p, t, len);
    hrss_free(t);
    assert_string_equal(hrss_envelope_get(res, "commStatus"), "20");
    assert_non_null(strstr(hrss_envelope_get(res, "msg"), "cannot build the response"));
    assert_null(hrss_envelope_body(res));
    hrss_envelope_free(res);

    /* without require_grant an unknown caller is served in plain */
    t = request("B100000ANY1", SERVICE, json_object(), 0, CALLER_SECRET, &len);
    res = handle(p, t, len);
    hrss_free(t);
    assert_string_equal(hrss_envelope_get(res, "commStatus"), "00");
    assert_true(json_is_object(hrss_envelope_body(res)));
    hrss_envelope_free(res);
    hrss_provider_free(p);
}

static void test_bad_configuration(void **state)
{
    (void)state;
    hrss_provider *p = NULL;
    hrss_error e;
    hrss_provider_options o = {.system_code = "X", .state_dir = state_dir};
    assert_int_equal(hrss_provider_new(&o, &p, &e), HRSS_EINVAL);
    o.system_code = PROVIDER;
    o.sign.profile = HRSS_SIG_SM2;
    o.sign.sm2 = provider_pub; /* public only: cannot sign */
    assert_int_equal(hrss_provider_new(&o, &p, &e), HRSS_EINVAL);
    o.sign.profile = HRSS_SIG_SM3;
    assert_int_equal(hrss_provider_new(&o, &p, &e), HRSS_OK);
    hrss_provider_grant g = {CALLER, NULL, {0}, HRSS_BODY_SM4_ECB, 0, "12ab", NULL};
    assert_int_equal(hrss_provider_grant_add(p, &g, &e), HRSS_EINVAL);
    g.cipher = HRSS_BODY_SM2;
    g.caller_sm2 = caller_pub; /* but the provider has no SM2 private key */
    assert_int_equal(hrss_provider_grant_add(p, &g, &e), HRSS_EINVAL);
    assert_int_equal(hrss_provider_route(p, "S110000", echo, NULL, &e), HRSS_EINVAL);
    hrss_provider_server *s = NULL;
    assert_int_equal(hrss_provider_server_new(p, "localhost:80", &s, &e), HRSS_EINVAL);
    assert_int_equal(hrss_provider_server_new(p, "127.0.0.1", &s, &e), HRSS_EINVAL);
    hrss_provider_free(p);
    hrss_provider_free(NULL);
    hrss_provider_server_free(NULL);
}

/* ---- round trips through the embedded server ---- */

typedef struct served {
    hrss_provider *p;
    hrss_provider_server *s;
    pthread_t th;
} served;

static void *serve(void *arg)
{
    served *sv = arg;
    hrss_error e;
    assert_int_equal(hrss_provider_server_run(sv->s, 0, &e), HRSS_OK);
    return NULL;
}

/* Serves a provider (with one more grant when extra is not NULL). */
static void serve_start(served *sv, const hrss_provider_grant *extra)
{
    hrss_error e;
    sv->p = provider_new(1, 900, NULL);
    if (extra != NULL)
        assert_int_equal(hrss_provider_grant_add(sv->p, extra, &e), HRSS_OK);
    assert_int_equal(hrss_provider_server_new(sv->p, "127.0.0.1:0", &sv->s, &e), HRSS_OK);
    assert_true(hrss_provider_server_port(sv->s) > 0);
    assert_int_equal(pthread_create(&sv->th, NULL, serve, sv), 0);
}

static void serve_stop(served *sv)
{
    hrss_provider_server_stop(sv->s);
    pthread_join(sv->th, NULL);
    hrss_provider_server_free(sv->s);
    hrss_provider_free(sv->p);
}

static hrss_client *client(const served *sv, const char *app)
{
    char url[64];
    hrss_client *c = NULL;
    hrss_error e;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", hrss_provider_server_port(sv->s));
    hrss_client_options o = {
        .node_url = url,
        .system_code = app,
        .state_dir = state_dir,
        .verify = {HRSS_SIG_SM2, NULL, 0, provider_pub},
    };
    if (strcmp(app, CALLER) == 0)
        o.sign = (hrss_sig_key){HRSS_SIG_HMAC_SM3, (const unsigned char *)CALLER_SECRET,
                                strlen(CALLER_SECRET), NULL};
    else
        o.sign = (hrss_sig_key){HRSS_SIG_SM2, NULL, 0, caller_key};
    if (hrss_client_new(&o, &c, &e) != HRSS_OK)
        fail_msg("client: %s", e.msg);
    return c;
}

static void round_trip(hrss_client *c, hrss_body_cipher cipher)
{
    hrss_response *r = NULL;
    hrss_error e;
    json_t *body = json_pack("{s:s}", "aac002", "110101199003077777");
    /* the grants: SM4-GCM in hex, SM2 in Base64 */
    hrss_text_encoding enc = cipher == HRSS_BODY_SM2 ? HRSS_TEXT_BASE64 : HRSS_TEXT_HEX;
    hrss_call k = {SERVICE, "110000", body, cipher, enc, SM4_KEY, provider_pub};
    int rc = hrss_client_call(c, &k, &r, &e);
    if (rc != HRSS_OK)
        fail_msg("cipher %d: %s %s", cipher, hrss_err_name(rc), e.msg);
    if (hrss_response_comm_status(r) != HRSS_COMM_OK)
        fail_msg("cipher %d: commStatus %s: %s", cipher, hrss_response_get(r, "commStatus"),
                 hrss_response_get(r, "msg"));
    assert_true(hrss_response_signed(r));
    json_t *data = json_object_get(hrss_response_body(r), "data");
    assert_true(json_equal(data, body));
    size_t n;
    if (cipher != HRSS_BODY_PLAIN) {
        assert_null(strstr(hrss_response_request_text(r, &n), "110101199003077777"));
        assert_null(strstr(hrss_response_wire_text(r, &n), "110101199003077777"));
    }
    hrss_response_free(r);
    json_decref(body);
}

static void test_round_trips(void **state)
{
    (void)state;
    served sv;
    hrss_error e;
    serve_start(&sv, NULL);
    hrss_client *c = client(&sv, CALLER);
    /* hex encoding for SM4 here: the grant says base64, so this one is refused */
    hrss_response *r = NULL;
    json_t *body = json_object();
    hrss_call k = {SERVICE, "110000", body, HRSS_BODY_SM4_ECB, HRSS_TEXT_HEX, SM4_KEY, NULL};
    assert_int_equal(hrss_client_call(c, &k, &r, &e), HRSS_OK);
    assert_int_equal(hrss_response_comm_status(r), HRSS_COMM_DECRYPT);
    hrss_response_free(r);
    json_decref(body);
    hrss_client_free(c);

    /* re-grant: SM4-GCM in hex, then SM4-ECB in base64 over the network */
    hrss_provider_grant g = {CALLER, SERVICE, {0}, HRSS_BODY_SM4_GCM, HRSS_TEXT_HEX, SM4_KEY,
                             NULL};
    serve_stop(&sv);
    serve_start(&sv, &g);
    c = client(&sv, CALLER);
    round_trip(c, HRSS_BODY_SM4_GCM);
    hrss_client_free(c);

    /* SM2: the other caller signs with SM2 and encrypts with the provider's key */
    c = client(&sv, OTHER);
    round_trip(c, HRSS_BODY_SM2);
    hrss_client_free(c);

    serve_stop(&sv);
}

typedef struct worker {
    hrss_client *c;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 20; i++)
        round_trip(w->c, HRSS_BODY_SM2);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    served sv;
    serve_start(&sv, NULL);
    hrss_client *c = client(&sv, OTHER);
    pthread_t th[4];
    worker w = {c};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    hrss_client_free(c);
    serve_stop(&sv);
}

static int group_setup(void **state)
{
    (void)state;
    hrss_error e;
    char *pem;
    size_t len;
    if (hrss_sm2_key_generate(&caller_key, &e) != HRSS_OK ||
        hrss_sm2_key_generate(&provider_key, &e) != HRSS_OK)
        return -1;
    hrss_sm2_key_to_pem(caller_key, 0, &pem, &len);
    hrss_sm2_key_from_pem(pem, len, &caller_pub, &e);
    hrss_free(pem);
    hrss_sm2_key_to_pem(provider_key, 0, &pem, &len);
    hrss_sm2_key_from_pem(pem, len, &provider_pub, &e);
    hrss_free(pem);
    return caller_pub != NULL && provider_pub != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    hrss_sm2_key_free(caller_key);
    hrss_sm2_key_free(provider_key);
    hrss_sm2_key_free(caller_pub);
    hrss_sm2_key_free(provider_pub);
    return 0;
}

int main(void)
{
    snprintf(state_dir, sizeof(state_dir), "/tmp/hrss-test-provider-XXXXXX");
    if (mkdtemp(state_dir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_an_envelope), cmocka_unit_test(test_bad_utf8_under_long_keys),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_handler_answers), cmocka_unit_test(test_bad_configuration),
        cmocka_unit_test(test_round_trips),     cmocka_unit_test(test_threads),
    };
    int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
