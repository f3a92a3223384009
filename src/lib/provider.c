/*
 * lib/provider.c - the provider's request path (provider.h): parse, route,
 * grant, time, signature, nonce, open, handler, then the response envelope
 * sealed and signed. The embedded HTTP server is in provider_http.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "internal.h"
#include "hrss/provider.h"

#define PROVIDER_PATH_MAX 4096

typedef struct route {
    char code[HRSS_INTERFACE_CODE_LEN + 1];
    hrss_provider_handler fn;
    void *ctx;
} route;

typedef struct grant {
    char caller[HRSS_SYSTEM_CODE_LEN + 1];
    char service[HRSS_INTERFACE_CODE_LEN + 1]; /* "" for every service */
    hrss_sig_profile verify;
    unsigned char *secret;
    size_t secret_len;
    hrss_sm2_key *verify_sm2;
    hrss_body_cipher cipher;
    hrss_text_encoding encoding;
    unsigned char sm4[HRSS_SM4_KEY_LEN];
    hrss_sm2_key *caller_sm2;
} grant;

struct hrss_provider {
    char system[HRSS_SYSTEM_CODE_LEN + 1];
    hrss_idgen *ids;
    hrss_sig_profile sign;
    unsigned char *secret;
    size_t secret_len;
    hrss_sm2_key *sign_sm2, *own_sm2;
    int require_grant;
    int64_t window_sec;
    hrss_replay *replay;
    route *routes;
    size_t n_routes;
    grant *grants;
    size_t n_grants;
};

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

static int dup_secret(const hrss_sig_key *k, unsigned char **out, size_t *outlen, hrss_error *err)
{
    if (k->secret == NULL || k->secret_len == 0)
        return hrss__error(err, HRSS_EINVAL, "hmac-sm3 needs a secret");
    *out = malloc(k->secret_len);
    if (*out == NULL)
        return hrss__error(err, HRSS_ENOMEM, "out of memory");
    memcpy(*out, k->secret, k->secret_len);
    *outlen = k->secret_len;
    return HRSS_OK;
}

int hrss_provider_new(const hrss_provider_options *o, hrss_provider **out, hrss_error *err)
{
    char dir[PROVIDER_PATH_MAX];
    int rc = HRSS_OK;

    if (out == NULL)
        return hrss__error(err, HRSS_EINVAL, "no output handle");
    *out = NULL;
    if (o == NULL || o->system_code == NULL)
        return hrss__error(err, HRSS_EINVAL, "system_code is required");
    if (hrss_system_code_check(o->system_code, strlen(o->system_code), err) != HRSS_OK) {
        hrss__error_prefix(err, "system_code");
        return HRSS_EINVAL;
    }
    hrss_provider *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return hrss__error(err, HRSS_ENOMEM, "out of memory");
    memcpy(p->system, o->system_code, HRSS_SYSTEM_CODE_LEN + 1);
    p->sign = o->sign.profile;
    p->require_grant = o->require_grant;
    p->window_sec = o->window_sec;
    p->replay = o->replay;
    switch (o->sign.profile) {
    case HRSS_SIG_NONE:
    case HRSS_SIG_SM3:
        break;
    case HRSS_SIG_HMAC_SM3:
        rc = dup_secret(&o->sign, &p->secret, &p->secret_len, err);
        break;
    case HRSS_SIG_SM2:
        if (o->sign.sm2 == NULL || !hrss_sm2_key_has_private(o->sign.sm2))
            rc = hrss__error(err, HRSS_EINVAL, "sign: sm2 needs the private key");
        else
            rc = dup_sm2(o->sign.sm2, &p->sign_sm2, err);
        break;
    default:
        rc = hrss__error(err, HRSS_EINVAL, "sign: unknown profile %d", (int)o->sign.profile);
        break;
    }
    if (rc == HRSS_OK)
        rc = dup_sm2(o->own_sm2 != NULL ? o->own_sm2 : p->sign_sm2, &p->own_sm2, err);
    if (rc == HRSS_OK && o->state_dir == NULL && hrss__default_state_dir(dir, sizeof(dir)) != 0)
        rc = hrss__error(err, HRSS_EINVAL,
                         "state_dir: none given and neither HRSS_STATE_DIR nor HOME is set");
    if (rc == HRSS_OK)
        rc = hrss_idgen_new(p->system, o->state_dir != NULL ? o->state_dir : dir, &p->ids, err);
    if (rc != HRSS_OK) {
        hrss_provider_free(p);
        return rc;
    }
    *out = p;
    return HRSS_OK;
}

static void grant_clear(grant *g)
{
    if (g->secret != NULL)
        explicit_bzero(g->secret, g->secret_len);
    free(g->secret);
    hrss_sm2_key_free(g->verify_sm2);
    hrss_sm2_key_free(g->caller_sm2);
    explicit_bzero(g, sizeof(*g));
}

void hrss_provider_free(hrss_provider *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n_grants; i++)
        grant_clear(&p->grants[i]);
    free(p->grants);
    free(p->routes);
    hrss_idgen_free(p->ids);
    if (p->secret != NULL)
        explicit_bzero(p->secret, p->secret_len);
    free(p->secret);
    hrss_sm2_key_free(p->sign_sm2);
    hrss_sm2_key_free(p->own_sm2);
    free(p);
}

int hrss_provider_grant_add(hrss_provider *p, const hrss_provider_grant *g, hrss_error *err)
{
    grant n;
    int rc = HRSS_OK;

    if (p == NULL || g == NULL || g->caller == NULL)
        return hrss__error(err, HRSS_EINVAL, "grant: caller is required");
    if (hrss_system_code_check(g->caller, strlen(g->caller), err) != HRSS_OK) {
        hrss__error_prefix(err, "grant.caller");
        return HRSS_EINVAL;
    }
    if (g->service != NULL && hrss_interface_code_check(g->service, strlen(g->service), err) !=
                                  HRSS_OK) {
        hrss__error_prefix(err, "grant.service");
        return HRSS_EINVAL;
    }
    memset(&n, 0, sizeof(n));
    memcpy(n.caller, g->caller, HRSS_SYSTEM_CODE_LEN + 1);
    if (g->service != NULL)
        memcpy(n.service, g->service, HRSS_INTERFACE_CODE_LEN + 1);
    n.verify = g->verify.profile;
    n.cipher = g->cipher;
    n.encoding = g->encoding;
    if (g->verify.profile == HRSS_SIG_HMAC_SM3)
        rc = dup_secret(&g->verify, &n.secret, &n.secret_len, err);
    else if (g->verify.profile == HRSS_SIG_SM2)
        rc = g->verify.sm2 != NULL ? dup_sm2(g->verify.sm2, &n.verify_sm2, err)
                                   : hrss__error(err, HRSS_EINVAL, "grant.verify: sm2 needs a key");
    else if (g->verify.profile != HRSS_SIG_NONE && g->verify.profile != HRSS_SIG_SM3)
        rc = hrss__error(err, HRSS_EINVAL, "grant.verify: unknown profile");
    if (rc == HRSS_OK) {
        switch (g->cipher) {
        case HRSS_BODY_PLAIN:
            break;
        case HRSS_BODY_SM4_ECB:
        case HRSS_BODY_SM4_GCM:
            if (g->sm4_key == NULL ||
                hrss_sm4_key_from_digits(g->sm4_key, strlen(g->sm4_key), n.sm4, err) != HRSS_OK)
                rc = hrss__error(err, HRSS_EINVAL, "grant.sm4_key: 16 digits needed");
            break;
        case HRSS_BODY_SM2:
            if (g->caller_sm2 == NULL)
                rc = hrss__error(err, HRSS_EINVAL,
                                 "grant.caller_sm2: SM2 responses need the caller's public key");
            else if (p->own_sm2 == NULL)
                rc = hrss__error(err, HRSS_EINVAL,
                                 "SM2 requests need the provider's private key (own_sm2)");
            else
                rc = dup_sm2(g->caller_sm2, &n.caller_sm2, err);
            break;
        default:
            rc = hrss__error(err, HRSS_EINVAL, "grant.cipher: unknown profile");
        }
    }
    if (rc != HRSS_OK) {
        grant_clear(&n);
        return rc;
    }
    for (size_t i = 0; i < p->n_grants; i++) {
        if (strcmp(p->grants[i].caller, n.caller) == 0 &&
            strcmp(p->grants[i].service, n.service) == 0) {
            grant_clear(&p->grants[i]);
            p->grants[i] = n;
            return HRSS_OK;
        }
    }
    grant *ng = realloc(p->grants, (p->n_grants + 1) * sizeof(*ng));
    if (ng == NULL) {
        grant_clear(&n);
        return hrss__error(err, HRSS_ENOMEM, "out of memory");
    }
    p->grants = ng;
    p->grants[p->n_grants++] = n;
    return HRSS_OK;
}

int hrss_provider_route(hrss_provider *p, const char *service_code, hrss_provider_handler handler,
                        void *ctx, hrss_error *err)
{
    if (p == NULL || service_code == NULL || handler == NULL)
        return hrss__error(err, HRSS_EINVAL, "route: service code and handler are required");
    if (hrss_interface_code_check(service_code, strlen(service_code), err) != HRSS_OK) {
        hrss__error_prefix(err, "service_code");
        return HRSS_EINVAL;
    }
    for (size_t i = 0; i < p->n_routes; i++) {
        if (strcmp(p->routes[i].code, service_code) == 0) {
            p->routes[i].fn = handler;
            p->routes[i].ctx = ctx;
            return HRSS_OK;
        }
    }
    route *nr = realloc(p->routes, (p->n_routes + 1) * sizeof(*nr));
    if (nr == NULL)
        return hrss__error(err, HRSS_ENOMEM, "out of memory");
    p->routes = nr;
    memcpy(nr[p->n_routes].code, service_code, HRSS_INTERFACE_CODE_LEN + 1);
    nr[p->n_routes].fn = handler;
    nr[p->n_routes].ctx = ctx;
    p->n_routes++;
    return HRSS_OK;
}

void hrss_provider_reply_status(hrss_provider_reply *r, hrss_comm_status st,
                                const char *busi_status, const char *fmt, ...)
{
    if (r == NULL)
        return;
    r->comm_status = st;
    snprintf(r->busi_status, sizeof(r->busi_status), "%s", busi_status ? busi_status : "");
    r->msg[0] = '\0';
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
        va_end(ap);
        /* never a cut character: keep the longest valid prefix */
        size_t n = strlen(r->msg);
        r->msg[utf8_prefix(r->msg, n, HRSS_MSG_MAX)] = '\0';
    }
}

void hrss_provider_reply_body(hrss_provider_reply *r, json_t *body)
{
    if (r == NULL) {
        json_decref(body);
        return;
    }
    json_decref(r->body);
    r->body = body;
}

/* ---- the request path ---- */

static const route *find_route(const hrss_provider *p, const char *code)
{
    for (size_t i = 0; i < p->n_routes; i++)
        if (strcmp(p->routes[i].code, code) == 0)
            return &p->routes[i];
    return NULL;
}

/* The grant for (caller, service), else the caller's grant for every service. */
static const grant *find_grant(const hrss_provider *p, const char *caller, const char *service)
{
    const grant *any = NULL;
    for (size_t i = 0; i < p->n_grants; i++) {
        const grant *g = &p->grants[i];
        if (strcmp(g->caller, caller) != 0)
            continue;
        if (strcmp(g->service, service) == 0)
            return g;
        if (g->service[0] == '\0')
            any = g;
    }
    return any;
}

static hrss_body_key grant_body_key(const hrss_provider *p, const grant *g, int opening)
{
    hrss_body_key k;
    memset(&k, 0, sizeof(k));
    k.cipher = g->cipher;
    k.encoding = g->encoding;
    memcpy(k.sm4, g->sm4, sizeof(k.sm4));
    k.sm2 = opening ? p->own_sm2 : g->caller_sm2;
    k.sm2_format = HRSS_SM2_C1C3C2;
    return k;
}

static const char *cipher_name(hrss_body_cipher c)
{
    static const char *const names[] = {"none", "sm4-ecb", "sm4-gcm", "sm2"};
    return (unsigned)c < HRSS_ARRAY_LEN(names) ? names[c] : "?";
}

/* HTTP 4xx answer for a body that is no request envelope. */
static int json_error(int rc, const char *msg, char **out, size_t *outlen, int *status)
{
    const char *code = "bad_envelope";
    *status = 400;
    if (rc == HRSS_EDUPKEY)
        code = "duplicate_key";
    else if (rc == HRSS_EUTF8)
        code = "bad_utf8";
    else if (rc == HRSS_ETOOBIG) {
        code = "too_large";
        *status = 413;
    }
    json_t *doc = json_pack("{s:s,s:s}", "error", code, "message", msg);
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (text == NULL)
        return HRSS_ENOMEM;
    *out = text;
    *outlen = strlen(text);
    return HRSS_OK;
}

/* Builds, seals, signs and serialises the response to req. The body is
 * stolen. A response that cannot be made as asked becomes a system error. */
static int respond(hrss_provider *p, const hrss_envelope *req, const grant *g, hrss_comm_status st,
                   const char *busi, const char *msg, json_t *body, char **out, size_t *outlen,
                   hrss_error *err)
{
    char id[HRSS_ID_LEN + 1];
    hrss_envelope *res = NULL;
    hrss_error e = {0, ""};
    int rc;

    if ((rc = hrss_idgen_next(p->ids, id, &e)) != HRSS_OK) {
        json_decref(body);
        return hrss__error(err, HRSS_EIO, "serviceResId: %s", e.msg);
    }
    rc = hrss_envelope_new_response(req, id, st, busi != NULL && busi[0] ? busi : NULL,
                                    msg != NULL && msg[0] ? msg : NULL, &res, &e);
    if (rc != HRSS_OK)
        goto fallback;
    if (body != NULL) {
        hrss_envelope_set_body(res, body);
        body = NULL;
        rc = hrss_envelope_validate(res, NULL, NULL, &e);
        if (rc == HRSS_OK && g != NULL && g->cipher != HRSS_BODY_PLAIN) {
            hrss_body_key k = grant_body_key(p, g, 0);
            rc = hrss_envelope_seal_body(res, &k, &e);
            explicit_bzero(&k, sizeof(k));
        }
    }
    if (rc == HRSS_OK) {
        hrss_sig_key sk = {p->sign, p->secret, p->secret_len, p->sign_sm2};
        rc = hrss_envelope_sign(res, &sk, &e);
    }
    if (rc == HRSS_OK)
        rc = hrss_envelope_validate(res, NULL, NULL, &e);
    if (rc == HRSS_OK) {
        rc = hrss_envelope_serialize(res, out, outlen);
        hrss_envelope_free(res);
        return rc == HRSS_OK ? HRSS_OK : hrss__error(err, rc, "cannot serialise the response");
    }
fallback:
    /* What the handler gave cannot go out: say so, without its body. */
    json_decref(body);
    hrss_envelope_free(res);
    res = NULL;
    if (st == HRSS_COMM_SYSTEM_ERROR && msg != NULL && strncmp(msg, "provider:", 9) == 0)
        return hrss__error(err, HRSS_EIO, "cannot build the response: %s", e.msg);
    char why[HRSS_ERROR_MSG_MAX + 64];
    snprintf(why, sizeof(why), "provider: cannot build the response: %s", e.msg);
    return respond(p, req, NULL, HRSS_COMM_SYSTEM_ERROR, NULL, why, NULL, out, outlen, err);
}

int hrss_provider_handle(hrss_provider *p, const char *in, size_t len, char **out, size_t *outlen,
                         int *http_status, hrss_error *err)
{
    hrss_envelope *req = NULL;
    hrss_error e = {0, ""};
    hrss_provider_reply rep;
    char msg[HRSS_ERROR_MSG_MAX + 64];
    hrss_comm_status st = HRSS_COMM_OK;
    const grant *g = NULL;
    int rc;

    if (out == NULL || outlen == NULL || http_status == NULL)
        return hrss__error(err, HRSS_EINVAL, "no output");
    *out = NULL;
    *outlen = 0;
    *http_status = 500;
    if (p == NULL || (in == NULL && len > 0))
        return hrss__error(err, HRSS_EINVAL, "no provider or input");
    memset(&rep, 0, sizeof(rep));
    msg[0] = '\0';

    /* 1. the envelope */
    rc = hrss_envelope_parse(in != NULL ? in : "", len, HRSS_ENV_REQUEST, &req, NULL, NULL, &e);
    if (rc != HRSS_OK) {
        if (json_error(rc, e.msg, out, outlen, http_status) != HRSS_OK)
            return hrss__error(err, HRSS_ENOMEM, "out of memory");
        return HRSS_OK;
    }
    const char *code = hrss_envelope_get(req, "serviceCode");
    const char *app = hrss_envelope_get(req, "appCode");
    const char *nonce = hrss_envelope_get(req, "nonce");

    /* 2. the service */
    const route *rt = find_route(p, code);
    if (rt == NULL) {
        st = HRSS_COMM_OTHER;
        snprintf(msg, sizeof(msg), "unknown service %s", code);
        goto answer;
    }
    /* 3. the grant */
    g = find_grant(p, app, code);
    if (g == NULL && p->require_grant) {
        st = HRSS_COMM_PERMISSION;
        snprintf(msg, sizeof(msg), "no grant for %s on %s", app, code);
        goto answer;
    }
    /* 4. the request time */
    if (p->window_sec > 0) {
        const char *t = hrss_envelope_get(req, "serviceReqTime");
        if (hrss_time_check_window(t, strlen(t), (int64_t)time(NULL), p->window_sec, &e) !=
            HRSS_OK) {
            st = HRSS_COMM_SIGNATURE;
            snprintf(msg, sizeof(msg), "request time %s outside the window of %lld s", t,
                     (long long)p->window_sec);
            goto answer;
        }
    }
    /* 5. the caller's signature */
    if (g != NULL && g->verify != HRSS_SIG_NONE) {
        hrss_sig_key vk = {g->verify, g->secret, g->secret_len, g->verify_sm2};
        rc = hrss_envelope_verify(req, &vk, &e);
        if (rc != HRSS_OK) {
            st = HRSS_COMM_SIGNATURE;
            snprintf(msg, sizeof(msg), rc == HRSS_EMISSING ? "signature missing"
                                                            : "signature mismatch");
            goto answer;
        }
    }
    /* 6. the nonce */
    if (p->replay != NULL) {
        if (nonce == NULL) {
            st = HRSS_COMM_SIGNATURE;
            snprintf(msg, sizeof(msg), "nonce missing");
            goto answer;
        }
        rc = hrss_replay_check(p->replay, app, strlen(app), nonce, strlen(nonce),
                               (int64_t)time(NULL), &e);
        if (rc != HRSS_OK) {
            st = rc == HRSS_EREPLAY ? HRSS_COMM_SIGNATURE : HRSS_COMM_SYSTEM_ERROR;
            snprintf(msg, sizeof(msg), rc == HRSS_EREPLAY ? "nonce replayed"
                                                          : "replay store unavailable");
            goto answer;
        }
    }
    /* 7. the body */
    hrss_body_cipher want = g != NULL ? g->cipher : HRSS_BODY_PLAIN;
    json_t *body = hrss_envelope_body(req);
    if (json_is_string(body)) {
        if (want == HRSS_BODY_PLAIN) {
            st = HRSS_COMM_DECRYPT;
            snprintf(msg, sizeof(msg), "body is ciphertext but %s on %s is not encrypted", app,
                     code);
            goto answer;
        }
        hrss_body_key k = grant_body_key(p, g, 1);
        rc = hrss_envelope_open_body(req, &k, &e);
        explicit_bzero(&k, sizeof(k));
        if (rc != HRSS_OK) {
            st = HRSS_COMM_DECRYPT;
            snprintf(msg, sizeof(msg), "body does not decrypt with %s", cipher_name(want));
            goto answer;
        }
    } else if (want != HRSS_BODY_PLAIN) {
        st = HRSS_COMM_DECRYPT;
        snprintf(msg, sizeof(msg), "body is plaintext but %s on %s is encrypted with %s", app,
                 code, cipher_name(want));
        goto answer;
    }

    /* 8. the handler */
    hrss_provider_request pr = {req,
                                code,
                                app,
                                hrss_envelope_get(req, "serviceAreaCode"),
                                hrss_envelope_get(req, "serviceReqId"),
                                hrss_envelope_body(req)};
    rep.comm_status = HRSS_COMM_OK;
    rt->fn(rt->ctx, &pr, &rep);
    rc = respond(p, req, g, rep.comm_status, rep.busi_status, rep.msg, rep.body, out, outlen,
                 err);
    rep.body = NULL;
    goto done;

answer:
    rc = respond(p, req, NULL, st, NULL, msg, NULL, out, outlen, err);
done:
    hrss_envelope_free(req);
    if (rc == HRSS_OK)
        *http_status = 200;
    return rc;
}
