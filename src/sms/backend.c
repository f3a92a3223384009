/*
 * backend.c - the engine's calls to back-end services through a platform
 * node, over the SDK's caller API. See backend.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "hrss/client.h"

#include "backend.h"
#include "common/xalloc.h"

struct sms_backend {
    hrss_client *client;
    char sm4_key[HRSS_SM4_KEY_LEN + 1];
    int encrypt;
};

sms_backend *sms_backend_new(const sms_backend_config *c, char *err, size_t errlen)
{
    hrss_error e = {0};
    sms_backend *b = xcalloc(1, sizeof(*b));
    if (c->sm4_key != NULL) {
        if (strlen(c->sm4_key) != HRSS_SM4_KEY_LEN) {
            snprintf(err, errlen, "sm4 key must be %d digits", HRSS_SM4_KEY_LEN);
            free(b);
            return NULL;
        }
        memcpy(b->sm4_key, c->sm4_key, HRSS_SM4_KEY_LEN + 1);
        b->encrypt = 1;
    }
    hrss_client_options o;
    memset(&o, 0, sizeof(o));
    o.node_url = c->node_url;
    o.system_code = c->system_code;
    o.state_dir = c->state_dir;
    o.sign.profile = HRSS_SIG_HMAC_SM3;
    o.sign.secret = (const unsigned char *)c->secret;
    o.sign.secret_len = c->secret ? strlen(c->secret) : 0;
    o.verify.profile = HRSS_SIG_NONE;
    o.connect_timeout_ms = 2000;
    o.timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 5000;
    if (hrss_client_new(&o, &b->client, &e) != HRSS_OK) {
        snprintf(err, errlen, "platform client: %s", e.msg);
        free(b);
        return NULL;
    }
    return b;
}

void sms_backend_free(sms_backend *b)
{
    if (b == NULL)
        return;
    hrss_client_free(b->client);
    OPENSSL_cleanse(b->sm4_key, sizeof(b->sm4_key));
    free(b);
}

int sms_backend_call(void *ctx, const char *service, const char *area, json_t *body,
                     json_t **out, char *why, size_t whylen)
{
    sms_backend *b = ctx;
    hrss_error e = {0};
    hrss_response *r = NULL;
    hrss_call call;

    *out = NULL;
    memset(&call, 0, sizeof(call));
    call.service_code = service;
    call.area_code = area;
    call.body = body;
    call.cipher = b->encrypt ? HRSS_BODY_SM4_ECB : HRSS_BODY_PLAIN;
    call.encoding = HRSS_TEXT_BASE64;
    call.sm4_key = b->encrypt ? b->sm4_key : NULL;
    int rc = hrss_client_call(b->client, &call, &r, &e);
    if (rc != HRSS_OK) {
        snprintf(why, whylen, "%s", e.msg);
        hrss_response_free(r);
        return -1;
    }
    int st = hrss_response_comm_status(r);
    if (st != HRSS_COMM_OK) {
        const char *msg = hrss_response_get(r, "msg");
        snprintf(why, whylen, "commStatus %02d: %.150s", st, msg ? msg : "");
        hrss_response_free(r);
        return st == HRSS_COMM_BUSINESS_FAIL ? 1 : -1;
    }
    json_t *rb = hrss_response_body(r);
    *out = rb ? json_incref(rb) : json_object();
    hrss_response_free(r);
    return 0;
}
