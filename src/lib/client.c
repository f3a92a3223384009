/*
 * lib/client.c - the caller's transaction (client.h): build, seal, sign,
 * send over libcurl, check and open the response.
 *
 * Connection reuse: libcurl keeps a connection alive per easy handle. The
 * client keeps a small stack of idle easy handles under a mutex; a call pops
 * one (or makes one) and pushes it back, so sequential calls from one thread
 * reuse one connection and concurrent calls each get their own.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/util.h"
#include "internal.h"
#include "hrss/client.h"

#define CLIENT_IDLE_MAX 16
#define CLIENT_URL_MAX 2048
#define CLIENT_PATH_MAX 4096
/* The response may carry a body of 100K characters of up to 4 bytes. */
#define CLIENT_RESPONSE_MAX (HRSS_ENVELOPE_MAX_BYTES + 4096)

struct hrss_client {
    char url[CLIENT_URL_MAX];
    char system[HRSS_SYSTEM_CODE_LEN + 1];
    char *ca_file, *cert_file, *key_file;
    long connect_timeout_ms, timeout_ms;
    hrss_idgen *ids;
    hrss_sig_profile sign_profile, verify_profile;
    unsigned char *sign_secret, *verify_secret;
    size_t sign_secret_len, verify_secret_len;
    hrss_sm2_key *sign_sm2, *verify_sm2, *own_sm2;
    pthread_mutex_t lock;
    CURL *idle[CLIENT_IDLE_MAX];
    int n_idle;
};

struct hrss_response {
    char *request;
    size_t request_len;
    char *wire;
    size_t wire_len;
    long http_status;
    hrss_envelope *env;
    int is_signed;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *dup_str(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

/* A copy of an SM2 key through its PEM form (keys have no reference count). */
static int dup_sm2(const hrss_sm2_key *k, hrss_sm2_key **out, hrss_error *err)
{
    char *pem = NULL;
    size_t len = 0;
    *out = NULL;
    if (k == NULL)
        return HRSS_OK;
    int rc = hrss_sm2_key_to_pem(k, hrss_sm2_key_has_private(k), &pem, &len);
    if (rc != HRSS_OK)
        return hrss__error(err, rc, "cannot copy an SM2 key");
    rc = hrss_sm2_key_from_pem(pem, len, out, err);
    explicit_bzero(pem, len);
    hrss_free(pem);
    return rc;
}

static int copy_sig(const hrss_sig_key *k, const char *what, hrss_sig_profile *profile,
                    unsigned char **secret, size_t *secret_len, hrss_sm2_key **sm2,
                    hrss_error *err)
{
    *profile = k->profile;
    if (k->profile == HRSS_SIG_HMAC_SM3) {
        if (k->secret == NULL || k->secret_len == 0)
            return hrss__error(err, HRSS_EINVAL, "%s: hmac-sm3 needs a secret", what);
        *secret = malloc(k->secret_len);
        if (*secret == NULL)
            return hrss__error(err, HRSS_ENOMEM, "out of memory");
        memcpy(*secret, k->secret, k->secret_len);
        *secret_len = k->secret_len;
    } else if (k->profile == HRSS_SIG_SM2) {
        if (k->sm2 == NULL)
            return hrss__error(err, HRSS_EINVAL, "%s: sm2 needs a key", what);
        return dup_sm2(k->sm2, sm2, err);
    } else if (k->profile != HRSS_SIG_NONE && k->profile != HRSS_SIG_SM3) {
        return hrss__error(err, HRSS_EINVAL, "%s: unknown signature profile %d", what,
                           (int)k->profile);
    }
    return HRSS_OK;
}

/* The transaction URL: the node's base URL gets /api/v1/transaction. */
static int make_url(const char *base, char *out, size_t n, hrss_error *err)
{
    const char *p = strstr(base, "://");
    if (p == NULL || (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0))
        return hrss__error(err, HRSS_EINVAL, "node_url '%s': must start with http:// or https://",
                           base);
    const char *path = strchr(p + 3, '/');
    int w;
    if (path == NULL)
        w = snprintf(out, n, "%s/api/v1/transaction", base);
    else if (strcmp(path, "/") == 0)
        w = snprintf(out, n, "%sapi/v1/transaction", base);
    else
        w = snprintf(out, n, "%s", base);
    if (w < 0 || (size_t)w >= n)
        return hrss__error(err, HRSS_EINVAL, "node_url: longer than %zu characters", n - 1);
    return HRSS_OK;
}

int hrss_client_new(const hrss_client_options *o, hrss_client **out, hrss_error *err)
{
    char dir[CLIENT_PATH_MAX];
    hrss_client *c = NULL;
    int rc;

    if (out == NULL)
        return hrss__error(err, HRSS_EINVAL, "no output handle");
    *out = NULL;
    if (o == NULL || o->node_url == NULL || o->system_code == NULL)
        return hrss__error(err, HRSS_EINVAL, "node_url and system_code are required");
    if ((rc = hrss_system_code_check(o->system_code, strlen(o->system_code), err)) != HRSS_OK) {
        hrss__error_prefix(err, "system_code");
        return HRSS_EINVAL;
    }
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return hrss__error(err, HRSS_ENET, "libcurl: %s", curl_easy_strerror(curl_init_rc));
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return hrss__error(err, HRSS_ENOMEM, "out of memory");
    pthread_mutex_init(&c->lock, NULL);
    if ((rc = make_url(o->node_url, c->url, sizeof(c->url), err)) != HRSS_OK)
        goto fail;
    memcpy(c->system, o->system_code, HRSS_SYSTEM_CODE_LEN + 1);
    c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000;
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    c->ca_file = dup_str(o->ca_file);
    c->cert_file = dup_str(o->cert_file);
    c->key_file = dup_str(o->key_file);
    if ((o->ca_file && !c->ca_file) || (o->cert_file && !c->cert_file) ||
        (o->key_file && !c->key_file)) {
        rc = hrss__error(err, HRSS_ENOMEM, "out of memory");
        goto fail;
    }
    rc = copy_sig(&o->sign, "sign", &c->sign_profile, &c->sign_secret, &c->sign_secret_len,
                  &c->sign_sm2, err);
    if (rc != HRSS_OK)
        goto fail;
    if (c->sign_sm2 != NULL && !hrss_sm2_key_has_private(c->sign_sm2)) {
        rc = hrss__error(err, HRSS_EINVAL, "sign: sm2 needs the private key");
        goto fail;
    }
    rc = copy_sig(&o->verify, "verify", &c->verify_profile, &c->verify_secret,
                  &c->verify_secret_len, &c->verify_sm2, err);
    if (rc != HRSS_OK)
        goto fail;
    if (o->own_sm2 != NULL)
        rc = dup_sm2(o->own_sm2, &c->own_sm2, err);
    else if (c->sign_sm2 != NULL)
        rc = dup_sm2(c->sign_sm2, &c->own_sm2, err);
    if (rc != HRSS_OK)
        goto fail;
    if (o->state_dir == NULL && hrss__default_state_dir(dir, sizeof(dir)) != 0) {
        rc = hrss__error(err, HRSS_EINVAL,
                         "state_dir: none given and neither HRSS_STATE_DIR nor HOME is set");
        goto fail;
    }
    rc = hrss_idgen_new(c->system, o->state_dir != NULL ? o->state_dir : dir, &c->ids, err);
    if (rc != HRSS_OK)
        goto fail;
    *out = c;
    return HRSS_OK;
fail:
    hrss_client_free(c);
    return rc;
}

void hrss_client_free(hrss_client *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < c->n_idle; i++)
        curl_easy_cleanup(c->idle[i]);
    pthread_mutex_destroy(&c->lock);
    hrss_idgen_free(c->ids);
    free(c->ca_file);
    free(c->cert_file);
    free(c->key_file);
    if (c->sign_secret != NULL)
        explicit_bzero(c->sign_secret, c->sign_secret_len);
    if (c->verify_secret != NULL)
        explicit_bzero(c->verify_secret, c->verify_secret_len);
    free(c->sign_secret);
    free(c->verify_secret);
    hrss_sm2_key_free(c->sign_sm2);
    hrss_sm2_key_free(c->verify_sm2);
    hrss_sm2_key_free(c->own_sm2);
    free(c);
}

/* ---- the response object ---- */

void hrss_response_free(hrss_response *r)
{
    if (r == NULL)
        return;
    free(r->request);
    if (r->wire != NULL)
        explicit_bzero(r->wire, r->wire_len);
    free(r->wire);
    hrss_envelope_free(r->env);
    free(r);
}

const char *hrss_response_get(const hrss_response *r, const char *field)
{
    return r != NULL && r->env != NULL ? hrss_envelope_get(r->env, field) : NULL;
}

int hrss_response_comm_status(const hrss_response *r)
{
    const char *s = hrss_response_get(r, "commStatus");
    hrss_comm_status st;
    if (s == NULL || hrss_comm_status_parse(s, strlen(s), &st, NULL) != HRSS_OK)
        return -1;
    return (int)st;
}

json_t *hrss_response_body(const hrss_response *r)
{
    return r != NULL && r->env != NULL ? hrss_envelope_body(r->env) : NULL;
}

const hrss_envelope *hrss_response_envelope(const hrss_response *r)
{
    return r != NULL ? r->env : NULL;
}

int hrss_response_signed(const hrss_response *r)
{
    return r != NULL && r->is_signed;
}

int hrss_response_http_status(const hrss_response *r)
{
    return r != NULL ? (int)r->http_status : 0;
}

const char *hrss_response_request_text(const hrss_response *r, size_t *len)
{
    if (len != NULL)
        *len = r != NULL ? r->request_len : 0;
    return r != NULL ? r->request : NULL;
}

const char *hrss_response_wire_text(const hrss_response *r, size_t *len)
{
    if (len != NULL)
        *len = r != NULL ? r->wire_len : 0;
    return r != NULL ? r->wire : NULL;
}

/* ---- libcurl ---- */

static CURL *take_handle(hrss_client *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->n_idle > 0)
        h = c->idle[--c->n_idle];
    pthread_mutex_unlock(&c->lock);
    return h != NULL ? h : curl_easy_init();
}

static void give_handle(hrss_client *c, CURL *h)
{
    pthread_mutex_lock(&c->lock);
    if (c->n_idle < CLIENT_IDLE_MAX) {
        c->idle[c->n_idle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    if (h != NULL)
        curl_easy_cleanup(h);
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    hrss_buf *b = arg;
    size_t len = size * n;
    /* A short count makes libcurl stop with CURLE_WRITE_ERROR. */
    return buf_append(b, p, len) == 0 ? len : 0;
}

/* POSTs text; fills *status and *resp (NUL-terminated). */
static int post(hrss_client *c, const char *text, size_t len, long *status, hrss_buf *resp,
                hrss_error *err)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    int rc = HRSS_OK;
    CURL *h = take_handle(c);
    if (h == NULL)
        return hrss__error(err, HRSS_ENOMEM, "cannot make a libcurl handle");

    curl_easy_reset(h); /* keeps the live connections, drops the previous call's options */
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    struct curl_slist *h2 = hdrs != NULL ? curl_slist_append(hdrs, "Expect:") : NULL;
    if (h2 == NULL) {
        curl_slist_free_all(hdrs);
        give_handle(c, h);
        return hrss__error(err, HRSS_ENOMEM, "out of memory");
    }
    hdrs = h2;
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "libhrss/" HRSS_VERSION);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca_file != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    if (c->cert_file != NULL)
        curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
    if (c->key_file != NULL)
        curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);

    CURLcode cc = curl_easy_perform(h);
    const char *why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc);
    switch (cc) {
    case CURLE_OK:
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        rc = hrss__error(err, HRSS_ETIMEOUT, "%s: %s", c->url, why);
        break;
    case CURLE_WRITE_ERROR:
        rc = hrss__error(err, HRSS_ETOOBIG, "%s: response larger than %d bytes", c->url,
                         CLIENT_RESPONSE_MAX);
        break;
    case CURLE_OUT_OF_MEMORY:
        rc = hrss__error(err, HRSS_ENOMEM, "out of memory");
        break;
    default:
        rc = hrss__error(err, HRSS_ENET, "%s: %s", c->url, why);
        break;
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(hdrs);
    if (rc == HRSS_OK)
        give_handle(c, h);
    else
        curl_easy_cleanup(h); /* a failed connection is not worth keeping */
    return rc;
}

/* ---- the call ---- */

/* The body key of a call, for sealing (request) or opening (response). */
static int body_key(const hrss_client *c, const hrss_call *call, int opening, hrss_body_key *k,
                    hrss_error *err)
{
    memset(k, 0, sizeof(*k));
    k->cipher = call->cipher;
    k->encoding = call->encoding;
    k->sm2_format = HRSS_SM2_C1C3C2;
    switch (call->cipher) {
    case HRSS_BODY_PLAIN:
        return HRSS_OK;
    case HRSS_BODY_SM4_ECB:
    case HRSS_BODY_SM4_GCM:
        if (call->sm4_key == NULL)
            return hrss__error(err, HRSS_EINVAL, "sm4_key: the SM4 profiles need the grant's key");
        if (hrss_sm4_key_from_digits(call->sm4_key, strlen(call->sm4_key), k->sm4, err) != HRSS_OK)
            return hrss__error(err, HRSS_EINVAL, "sm4_key: must be 16 digits");
        return HRSS_OK;
    case HRSS_BODY_SM2:
        k->sm2 = opening ? c->own_sm2 : call->provider_sm2;
        if (k->sm2 == NULL)
            return hrss__error(err, HRSS_EINVAL,
                               opening ? "SM2 responses need the caller's private key (own_sm2)"
                                       : "provider_sm2: SM2 requests need the provider's key");
        return HRSS_OK;
    }
    return hrss__error(err, HRSS_EINVAL, "unknown body cipher %d", (int)call->cipher);
}

static int build_request(hrss_client *c, const hrss_call *call, hrss_envelope **out,
                         hrss_error *err)
{
    hrss_envelope *e = NULL;
    hrss_body_key bk;
    int rc;

    *out = NULL;
    hrss_error ce = {0, "absent"};
    if (call->service_code == NULL ||
        hrss_interface_code_check(call->service_code, strlen(call->service_code), &ce) != HRSS_OK)
        return hrss__error(err, HRSS_EINVAL, "service_code: %s", ce.msg);
    if (call->area_code == NULL ||
        hrss_area_code_check(call->area_code, strlen(call->area_code), &ce) != HRSS_OK)
        return hrss__error(err, HRSS_EINVAL, "area_code: %s", ce.msg);
    if (call->body != NULL && !json_is_object(call->body))
        return hrss__error(err, HRSS_EINVAL, "body: must be a JSON object");
    if ((rc = body_key(c, call, 0, &bk, err)) != HRSS_OK)
        return rc;
    e = hrss_envelope_new(HRSS_ENV_REQUEST);
    json_t *body = call->body != NULL ? json_deep_copy(call->body) : json_object();
    if (e == NULL || body == NULL) {
        json_decref(body);
        rc = hrss__error(err, HRSS_ENOMEM, "out of memory");
        goto done;
    }
    if (hrss_envelope_set(e, "serviceCode", call->service_code) != HRSS_OK ||
        hrss_envelope_set(e, "appCode", c->system) != HRSS_OK ||
        hrss_envelope_set(e, "serviceAreaCode", call->area_code) != HRSS_OK ||
        hrss_envelope_set_body(e, body) != HRSS_OK) {
        rc = hrss__error(err, HRSS_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = hrss_envelope_fill_request(e, c->ids, err)) != HRSS_OK)
        goto done;
    /* The plaintext's size limit first: ciphertext hides it. */
    if ((rc = hrss_envelope_validate(e, NULL, NULL, err)) != HRSS_OK)
        goto done;
    if (call->cipher != HRSS_BODY_PLAIN && (rc = hrss_envelope_seal_body(e, &bk, err)) != HRSS_OK)
        goto done;
    hrss_sig_key sk = {c->sign_profile, c->sign_secret, c->sign_secret_len, c->sign_sm2};
    if ((rc = hrss_envelope_sign(e, &sk, err)) != HRSS_OK)
        goto done;
    rc = hrss_envelope_validate(e, NULL, NULL, err);
done:
    explicit_bzero(&bk, sizeof(bk));
    if (rc == HRSS_OK)
        *out = e;
    else
        hrss_envelope_free(e);
    return rc;
}

/* The message of a node's JSON error ({"error": code, "message": text}). */
static void http_error(const hrss_response *r, const char *url, hrss_error *err)
{
    json_t *doc = json_loadb(r->wire, r->wire_len, JSON_REJECT_DUPLICATES, NULL);
    const char *code = json_string_value(json_object_get(doc, "error"));
    const char *msg = json_string_value(json_object_get(doc, "message"));
    if (code != NULL)
        hrss__error(err, HRSS_EHTTP, "%s: HTTP %ld %s: %s", url, r->http_status, code,
                    msg != NULL ? msg : "");
    else
        hrss__error(err, HRSS_EHTTP, "%s: HTTP %ld", url, r->http_status);
    json_decref(doc);
}

/* The response answers req: same serviceReqId, serviceCode, appCode. */
static int check_ids(const hrss_envelope *req, const hrss_envelope *res, hrss_error *err)
{
    static const char *const fields[] = {"serviceReqId", "serviceCode", "appCode"};
    for (size_t i = 0; i < HRSS_ARRAY_LEN(fields); i++) {
        const char *a = hrss_envelope_get(req, fields[i]);
        const char *b = hrss_envelope_get(res, fields[i]);
        if (b == NULL || strcmp(a, b) != 0)
            return hrss__error(err, HRSS_EMISMATCH, "header.%s: response has %s%s%s, request %s",
                               fields[i], b ? "'" : "", b ? b : "none", b ? "'" : "", a);
    }
    return HRSS_OK;
}

static int check_signature(const hrss_client *c, hrss_response *r, hrss_error *err)
{
    if (c->verify_profile == HRSS_SIG_NONE)
        return HRSS_OK;
    if (hrss_envelope_get(r->env, "signature") == NULL) {
        /* Nodes do not sign their refusals; a refusal carries no data. */
        if (hrss_response_comm_status(r) != HRSS_COMM_OK && hrss_envelope_body(r->env) == NULL)
            return HRSS_OK;
        return hrss__error(err, HRSS_EMISSING, "header.signature: the response is not signed");
    }
    hrss_sig_key vk = {c->verify_profile, c->verify_secret, c->verify_secret_len, c->verify_sm2};
    int rc = hrss_envelope_verify(r->env, &vk, err);
    if (rc != HRSS_OK)
        return hrss__error(err, HRSS_EBADSIG, "header.signature: the response's does not hold");
    r->is_signed = 1;
    return HRSS_OK;
}

static int open_body(const hrss_client *c, const hrss_call *call, hrss_response *r,
                     hrss_error *err)
{
    json_t *body = hrss_envelope_body(r->env);
    hrss_body_key bk;
    int rc;

    if (body == NULL || json_is_object(body)) {
        if (body != NULL && call->cipher != HRSS_BODY_PLAIN &&
            hrss_response_comm_status(r) == HRSS_COMM_OK)
            return hrss__error(err, HRSS_EDECRYPT,
                               "body: plaintext where the grant's profile expects ciphertext");
        return HRSS_OK;
    }
    if (call->cipher == HRSS_BODY_PLAIN)
        return hrss__error(err, HRSS_EDECRYPT, "body: ciphertext in a plain call");
    if ((rc = body_key(c, call, 1, &bk, err)) != HRSS_OK)
        return rc;
    rc = hrss_envelope_open_body(r->env, &bk, err);
    explicit_bzero(&bk, sizeof(bk));
    if (rc != HRSS_OK && rc != HRSS_ENOMEM && rc != HRSS_EINVAL && rc != HRSS_EKEY) {
        rc = HRSS_EDECRYPT;
        if (err != NULL)
            err->code = rc;
    }
    return rc;
}

int hrss_client_call(hrss_client *c, const hrss_call *call, hrss_response **out, hrss_error *err)
{
    hrss_envelope *req = NULL;
    hrss_response *r = NULL;
    hrss_buf resp;
    int rc;

    buf_init(&resp, CLIENT_RESPONSE_MAX);
    if (out != NULL)
        *out = NULL;
    if (c == NULL || call == NULL || out == NULL)
        return hrss__error(err, HRSS_EINVAL, "no client, call or output");
    if ((rc = build_request(c, call, &req, err)) != HRSS_OK)
        goto done;
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        rc = hrss__error(err, HRSS_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = hrss_envelope_serialize(req, &r->request, &r->request_len)) != HRSS_OK) {
        rc = hrss__error(err, rc, "cannot serialise the request");
        goto done;
    }
    if ((rc = post(c, r->request, r->request_len, &r->http_status, &resp, err)) != HRSS_OK)
        goto done;
    r->wire = buf_detach(&resp, &r->wire_len); /* NUL-terminated */
    if (r->wire == NULL) {
        rc = hrss__error(err, HRSS_ENOMEM, "out of memory");
        goto done;
    }
    *out = r; /* a response arrived: the caller gets it from here on */
    if (r->http_status != 200) {
        http_error(r, c->url, err);
        rc = HRSS_EHTTP;
        goto done;
    }
    rc = hrss_envelope_parse(r->wire, r->wire_len, HRSS_ENV_RESPONSE, &r->env, NULL, NULL, err);
    if (rc != HRSS_OK) {
        hrss__error_prefix(err, "response");
        rc = HRSS_EFORMAT;
        if (err != NULL)
            err->code = rc;
        goto done;
    }
    if ((rc = check_ids(req, r->env, err)) != HRSS_OK)
        goto done;
    if ((rc = check_signature(c, r, err)) != HRSS_OK)
        goto done;
    rc = open_body(c, call, r, err);
done:
    buf_free(&resp);
    hrss_envelope_free(req);
    if (*out == NULL)
        hrss_response_free(r);
    return rc;
}
