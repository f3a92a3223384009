/*
 * tests/unit/lib/test_client.c - the caller API (client.h) against a peer on
 * 127.0.0.1 that this file runs in a thread: a small HTTP/1.1 server whose
 * answer is chosen per test (a correct signed response, one with another
 * serviceReqId, a bad signature, an unsigned body, a body that does not
 * decrypt, plaintext where ciphertext was agreed, silence, HTTP 400, not an
 * envelope). Every error path of hrss_client_call is provoked, plus
 * unreachable node and connection reuse. The round trips through the
 * provider API and its embedded server are in test_provider.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "hrss/hrss.h"

#define CALLER "B100000KJGK"
#define PROVIDER "S110000Y70P"
#define SERVICE "S110000Y70PYTjb"
#define SM4_KEY "1234567890123456"
#define CALLER_SECRET "caller-secret-0123"
#define PROVIDER_SECRET "provider-secret-4567"

typedef enum peer_mode {
    PEER_OK,
    PEER_WRONG_ID,
    PEER_WRONG_SERVICE,
    PEER_BAD_SIG,
    PEER_UNSIGNED_DATA,
    PEER_REFUSAL,
    PEER_GARBAGE_CIPHER,
    PEER_PLAIN_BODY,
    PEER_SILENT,
    PEER_HTTP_400,
    PEER_NOT_ENVELOPE
} peer_mode;

typedef struct peer {
    int fd;
    int port;
    pthread_t th;
    atomic_int stop;
    atomic_int mode;
    atomic_int connections;
    atomic_int requests;
    hrss_idgen *ids;
} peer;

static char state_dir[256];

/* ---- the peer ---- */

static int read_request(int fd, peer *pr, char **body, size_t *blen)
{
    char buf[65536];
    size_t n = 0;
    char *hdr_end = NULL;
    while (hdr_end == NULL) {
        struct pollfd pf = {fd, POLLIN, 0};
        int pr_rc = poll(&pf, 1, 100);
        if (atomic_load(&pr->stop))
            return -1;
        if (pr_rc <= 0)
            continue;
        ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (r <= 0)
            return -1;
        n += (size_t)r;
        buf[n] = '\0';
        hdr_end = strstr(buf, "\r\n\r\n");
        if (hdr_end == NULL && n >= sizeof(buf) - 1)
            return -1;
    }
    size_t clen = 0;
    for (char *l = buf; l < hdr_end; l = strstr(l, "\r\n") + 2)
        if (strncasecmp(l, "Content-Length:", 15) == 0)
            clen = strtoul(l + 15, NULL, 10);
    size_t have = n - (size_t)(hdr_end + 4 - buf);
    char *b = malloc(clen + 1);
    assert_non_null(b);
    memcpy(b, hdr_end + 4, have < clen ? have : clen);
    while (have < clen) {
        ssize_t r = read(fd, b + have, clen - have);
        if (r <= 0) {
            free(b);
            return -1;
        }
        have += (size_t)r;
    }
    b[clen] = '\0';
    *body = b;
    *blen = clen;
    return 0;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void send_http(int fd, int status, const char *body)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     status, strlen(body));
    write_all(fd, head, (size_t)n);
    write_all(fd, body, strlen(body));
}

/* The answer of the current mode to a request text. */
static char *answer(peer *pr, const char *req_text, size_t len)
{
    peer_mode mode = (peer_mode)atomic_load(&pr->mode);
    hrss_envelope *req = NULL, *res = NULL;
    hrss_error e;
    char id[HRSS_ID_LEN + 1], *out = NULL;
    size_t outlen;

    if (mode == PEER_NOT_ENVELOPE)
        return strdup("{\"hello\":1}");
    assert_int_equal(hrss_envelope_parse(req_text, len, HRSS_ENV_REQUEST, &req, NULL, NULL, &e),
                     HRSS_OK);
    assert_int_equal(hrss_idgen_next(pr->ids, id, &e), HRSS_OK);
    hrss_comm_status st = mode == PEER_REFUSAL ? HRSS_COMM_PERMISSION : HRSS_COMM_OK;
    assert_int_equal(hrss_envelope_new_response(req, id, st, "001", "ok", &res, &e), HRSS_OK);

    /* the body the request carried, opened when it is SM4 ciphertext */
    hrss_body_key bk = {.cipher = HRSS_BODY_SM4_ECB, .encoding = HRSS_TEXT_BASE64};
    assert_int_equal(hrss_sm4_key_from_digits(SM4_KEY, 16, bk.sm4, &e), HRSS_OK);
    int sealed = json_is_string(hrss_envelope_body(req));
    if (sealed)
        assert_int_equal(hrss_envelope_open_body(req, &bk, &e), HRSS_OK);
    if (mode != PEER_REFUSAL) {
        json_t *echo = json_deep_copy(hrss_envelope_body(req));
        hrss_envelope_set_body(res, hrss_body_data(echo));
        if (sealed && mode != PEER_PLAIN_BODY)
            assert_int_equal(hrss_envelope_seal_body(res, &bk, &e), HRSS_OK);
        if (mode == PEER_GARBAGE_CIPHER)
            hrss_envelope_set_body(res, json_string("AAAAAAAAAAAAAAAAAAAAAA=="));
    }
    if (mode == PEER_WRONG_ID)
        hrss_envelope_set(res, "serviceReqId", "B100000KJGK20250101000000001");
    if (mode == PEER_WRONG_SERVICE)
        hrss_envelope_set(res, "serviceCode", "S110000Y70PXXXX");
    if (mode != PEER_UNSIGNED_DATA && mode != PEER_REFUSAL) {
        hrss_sig_key sk = {HRSS_SIG_HMAC_SM3, (const unsigned char *)PROVIDER_SECRET,
                           strlen(PROVIDER_SECRET), NULL};
        assert_int_equal(hrss_envelope_sign(res, &sk, &e), HRSS_OK);
    }
    if (mode == PEER_BAD_SIG)
        hrss_envelope_set(res, "msg", "changed on the way");
    assert_int_equal(hrss_envelope_serialize(res, &out, &outlen), HRSS_OK);
    hrss_envelope_free(req);
    hrss_envelope_free(res);
    return out;
}

static void *peer_main(void *arg)
{
    peer *pr = arg;
    while (!atomic_load(&pr->stop)) {
        struct pollfd pf = {pr->fd, POLLIN, 0};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        int c = accept(pr->fd, NULL, NULL);
        if (c < 0)
            continue;
        atomic_fetch_add(&pr->connections, 1);
        char *body;
        size_t blen;
        while (read_request(c, pr, &body, &blen) == 0) { /* keep-alive */
            atomic_fetch_add(&pr->requests, 1);
            peer_mode mode = (peer_mode)atomic_load(&pr->mode);
            if (mode == PEER_SILENT) {
                /* never answers; the client gives up first (bounded wait) */
                for (int i = 0; i < 50 && !atomic_load(&pr->stop); i++) {
                    struct pollfd cf = {c, POLLIN, 0};
                    if (poll(&cf, 1, 100) > 0)
                        break;
                }
                free(body);
                break;
            }
            if (mode == PEER_HTTP_400) {
                send_http(c, 400, "{\"error\":\"bad_envelope\",\"message\":\"header.x: rule\"}");
            } else {
                char *out = answer(pr, body, blen);
                send_http(c, 200, out);
                hrss_free(out);
            }
            free(body);
        }
        close(c);
    }
    return NULL;
}

static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static int setup(void **state)
{
    peer *pr = calloc(1, sizeof(*pr));
    hrss_error e;
    pr->fd = listen_loopback(&pr->port);
    assert_int_equal(hrss_idgen_new(PROVIDER, state_dir, &pr->ids, &e), HRSS_OK);
    assert_int_equal(pthread_create(&pr->th, NULL, peer_main, pr), 0);
    *state = pr;
    return 0;
}

static int teardown(void **state)
{
    peer *pr = *state;
    atomic_store(&pr->stop, 1);
    pthread_join(pr->th, NULL);
    close(pr->fd);
    hrss_idgen_free(pr->ids);
    free(pr);
    return 0;
}

/* ---- the client side ---- */

static hrss_client *client_for(int port, int verify, long timeout_ms)
{
    char url[64];
    hrss_client *c = NULL;
    hrss_error e;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    hrss_client_options o = {
        .node_url = url,
        .system_code = CALLER,
        .state_dir = state_dir,
        .sign = {HRSS_SIG_HMAC_SM3, (const unsigned char *)CALLER_SECRET, strlen(CALLER_SECRET),
                 NULL},
        .verify = {verify ? HRSS_SIG_HMAC_SM3 : HRSS_SIG_NONE,
                   (const unsigned char *)PROVIDER_SECRET, strlen(PROVIDER_SECRET), NULL},
        .timeout_ms = timeout_ms,
    };
    int rc = hrss_client_new(&o, &c, &e);
    if (rc != HRSS_OK)
        fail_msg("client: %s", e.msg);
    return c;
}

static int call(hrss_client *c, hrss_body_cipher cipher, hrss_response **r, hrss_error *e)
{
    json_t *body = json_pack("{s:s}", "aac002", "110101199003077777");
    hrss_call k = {SERVICE, "110000", body, cipher, HRSS_TEXT_BASE64, SM4_KEY, NULL};
    memset(e, 0, sizeof(*e));
    int rc = hrss_client_call(c, &k, r, e);
    json_decref(body);
    return rc;
}

static void expect(peer *pr, peer_mode mode, hrss_body_cipher cipher, int code, const char *in_msg)
{
    hrss_client *c = client_for(pr->port, 1, 2000);
    hrss_response *r = NULL;
    hrss_error e;
    atomic_store(&pr->mode, mode);
    int rc = call(c, cipher, &r, &e);
    if (rc != code)
        fail_msg("mode %d: got %s (%s), wanted %s", mode, hrss_err_name(rc), e.msg,
                 hrss_err_name(code));
    if (code != HRSS_OK)
        assert_int_equal(e.code, code);
    if (in_msg != NULL && strstr(e.msg, in_msg) == NULL)
        fail_msg("mode %d: message '%s' lacks '%s'", mode, e.msg, in_msg);
    hrss_response_free(r);
    hrss_client_free(c);
}

static void test_ok_plain_and_sm4(void **state)
{
    peer *pr = *state;
    hrss_client *c = client_for(pr->port, 1, 2000);
    hrss_response *r = NULL;
    hrss_error e;

    atomic_store(&pr->mode, PEER_OK);
    assert_int_equal(call(c, HRSS_BODY_PLAIN, &r, &e), HRSS_OK);
    assert_int_equal(hrss_response_comm_status(r), HRSS_COMM_OK);
    assert_int_equal(hrss_response_http_status(r), 200);
    assert_true(hrss_response_signed(r));
    assert_string_equal(hrss_response_get(r, "busiStatus"), "001");
    assert_memory_equal(hrss_response_get(r, "serviceResId"), PROVIDER, 11);
    json_t *data = json_object_get(hrss_response_body(r), "data");
    assert_string_equal(json_string_value(json_object_get(data, "aac002")), "110101199003077777");
    size_t n;
    const char *sent = hrss_response_request_text(r, &n);
    assert_non_null(strstr(sent, "\"aac002\":\"110101199003077777\"")); /* plain on the wire */
    assert_non_null(strstr(sent, "\"nonce\":\""));
    assert_non_null(strstr(sent, "\"signature\":\""));
    hrss_response_free(r);

    /* SM4: ciphertext both ways on the wire, plaintext after */
    assert_int_equal(call(c, HRSS_BODY_SM4_ECB, &r, &e), HRSS_OK);
    sent = hrss_response_request_text(r, &n);
    assert_null(strstr(sent, "110101199003077777"));
    const char *got = hrss_response_wire_text(r, &n);
    assert_null(strstr(got, "110101199003077777"));
    data = json_object_get(hrss_response_body(r), "data");
    assert_string_equal(json_string_value(json_object_get(data, "aac002")), "110101199003077777");
    hrss_response_free(r);
    hrss_client_free(c);
}

static void test_connection_reused(void **state)
{
    peer *pr = *state;
    hrss_client *c = client_for(pr->port, 1, 2000);
    hrss_response *r = NULL;
    hrss_error e;
    atomic_store(&pr->mode, PEER_OK);
    int before = atomic_load(&pr->connections), req_before = atomic_load(&pr->requests);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(call(c, HRSS_BODY_PLAIN, &r, &e), HRSS_OK);
        hrss_response_free(r);
    }
    assert_int_equal(atomic_load(&pr->requests) - req_before, 5);
    assert_int_equal(atomic_load(&pr->connections) - before, 1);
    hrss_client_free(c);
}

static void test_ids_differ(void **state)
{
    expect(*state, PEER_WRONG_ID, HRSS_BODY_PLAIN, HRSS_EMISMATCH, "header.serviceReqId");
    expect(*state, PEER_WRONG_SERVICE, HRSS_BODY_PLAIN, HRSS_EMISMATCH, "header.serviceCode");
}

static void test_bad_signature(void **state)
{
    expect(*state, PEER_BAD_SIG, HRSS_BODY_PLAIN, HRSS_EBADSIG, "header.signature");
    expect(*state, PEER_UNSIGNED_DATA, HRSS_BODY_PLAIN, HRSS_EMISSING, "not signed");
}

static void test_unsigned_refusal_accepted(void **state)
{
    peer *pr = *state;
    hrss_client *c = client_for(pr->port, 1, 2000);
    hrss_response *r = NULL;
    hrss_error e;
    atomic_store(&pr->mode, PEER_REFUSAL);
    assert_int_equal(call(c, HRSS_BODY_PLAIN, &r, &e), HRSS_OK);
    assert_int_equal(hrss_response_comm_status(r), HRSS_COMM_PERMISSION);
    assert_false(hrss_response_signed(r));
    assert_null(hrss_response_body(r));
    hrss_response_free(r);
    hrss_client_free(c);
}

static void test_undecryptable(void **state)
{
    expect(*state, PEER_GARBAGE_CIPHER, HRSS_BODY_SM4_ECB, HRSS_EDECRYPT, "body");
    expect(*state, PEER_PLAIN_BODY, HRSS_BODY_SM4_ECB, HRSS_EDECRYPT, "plaintext");
    expect(*state, PEER_GARBAGE_CIPHER, HRSS_BODY_PLAIN, HRSS_EDECRYPT, "ciphertext in a plain");
}

static void test_http_error_and_not_envelope(void **state)
{
    peer *pr = *state;
    hrss_client *c = client_for(pr->port, 1, 2000);
    hrss_response *r = NULL;
    hrss_error e;
    atomic_store(&pr->mode, PEER_HTTP_400);
    assert_int_equal(call(c, HRSS_BODY_PLAIN, &r, &e), HRSS_EHTTP);
    assert_non_null(strstr(e.msg, "HTTP 400 bad_envelope: header.x: rule"));
    assert_non_null(r); /* what arrived, for diagnosis */
    assert_int_equal(hrss_response_http_status(r), 400);
    assert_int_equal(hrss_response_comm_status(r), -1);
    hrss_response_free(r);
    hrss_client_free(c);
    expect(pr, PEER_NOT_ENVELOPE, HRSS_BODY_PLAIN, HRSS_EFORMAT, "response");
}

static void test_timeout(void **state)
{
    peer *pr = *state;
    hrss_client *c = client_for(pr->port, 1, 300);
    hrss_response *r = NULL;
    hrss_error e;
    atomic_store(&pr->mode, PEER_SILENT);
    assert_int_equal(call(c, HRSS_BODY_PLAIN, &r, &e), HRSS_ETIMEOUT);
    assert_null(r);
    assert_non_null(strstr(e.msg, "127.0.0.1"));
    hrss_client_free(c);
}

static void test_unreachable(void **state)
{
    (void)state;
    int port;
    int fd = listen_loopback(&port);
    close(fd); /* nobody listens there now */
    hrss_client *c = client_for(port, 1, 2000);
    hrss_response *r = NULL;
    hrss_error e;
    assert_int_equal(call(c, HRSS_BODY_PLAIN, &r, &e), HRSS_ENET);
    assert_null(r);
    assert_non_null(strstr(e.msg, "/api/v1/transaction"));
    hrss_client_free(c);
}

static void test_bad_arguments(void **state)
{
    peer *pr = *state;
    hrss_client *c = client_for(pr->port, 0, 2000), *bad = NULL;
    hrss_response *r = NULL;
    hrss_error e;
    json_t *arr = json_array();
    hrss_call k = {"S110000Y70P", "110000", NULL, HRSS_BODY_PLAIN, HRSS_TEXT_BASE64, NULL, NULL};
    assert_int_equal(hrss_client_call(c, &k, &r, &e), HRSS_EINVAL);
    assert_non_null(strstr(e.msg, "service_code"));
    k.service_code = SERVICE;
    k.area_code = "999999";
    assert_int_equal(hrss_client_call(c, &k, &r, &e), HRSS_EINVAL);
    k.area_code = "110000";
    k.body = arr;
    assert_int_equal(hrss_client_call(c, &k, &r, &e), HRSS_EINVAL);
    k.body = NULL;
    k.cipher = HRSS_BODY_SM4_ECB;
    assert_int_equal(hrss_client_call(c, &k, &r, &e), HRSS_EINVAL); /* no key */
    k.cipher = HRSS_BODY_SM2;
    assert_int_equal(hrss_client_call(c, &k, &r, &e), HRSS_EINVAL); /* no provider key */
    assert_null(r);
    json_decref(arr);
    hrss_client_free(c);

    hrss_client_options o = {.node_url = "ftp://x", .system_code = CALLER, .state_dir = state_dir};
    assert_int_equal(hrss_client_new(&o, &bad, &e), HRSS_EINVAL);
    o.node_url = "http://127.0.0.1:1";
    o.system_code = "X1";
    assert_int_equal(hrss_client_new(&o, &bad, &e), HRSS_EINVAL);
    o.system_code = CALLER;
    o.sign.profile = HRSS_SIG_HMAC_SM3; /* no secret */
    assert_int_equal(hrss_client_new(&o, &bad, &e), HRSS_EINVAL);
    assert_null(bad);
    hrss_client_free(NULL);
    hrss_response_free(NULL);
}

/* Calls from several threads on one client. */
typedef struct thread_arg {
    hrss_client *c;
    int ok;
} thread_arg;

static void *thread_calls(void *arg)
{
    thread_arg *t = arg;
    for (int i = 0; i < 10; i++) {
        hrss_response *r = NULL;
        hrss_error e;
        if (call(t->c, HRSS_BODY_SM4_ECB, &r, &e) == HRSS_OK)
            t->ok++;
        hrss_response_free(r);
    }
    return NULL;
}

static void test_handles_go_back_to_the_pool(void **state)
{
    /* The peer serves one connection at a time, so threads run in turn
     * here; concurrent calls are exercised against the provider server in
     * test_provider.c. */
    peer *pr = *state;
    hrss_client *c = client_for(pr->port, 1, 5000);
    atomic_store(&pr->mode, PEER_OK);
    for (int i = 0; i < 3; i++) {
        pthread_t th;
        thread_arg a = {c, 0};
        assert_int_equal(pthread_create(&th, NULL, thread_calls, &a), 0);
        pthread_join(th, NULL);
        assert_int_equal(a.ok, 10);
    }
    hrss_client_free(c);
}

int main(void)
{
    snprintf(state_dir, sizeof(state_dir), "/tmp/hrss-test-client-XXXXXX");
    if (mkdtemp(state_dir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_plain_and_sm4),
        cmocka_unit_test(test_connection_reused),
        cmocka_unit_test(test_ids_differ),
        cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_unsigned_refusal_accepted),
        cmocka_unit_test(test_undecryptable),
        cmocka_unit_test(test_http_error_and_not_envelope),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_handles_go_back_to_the_pool),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
