/*
 * sms/backend.h - hrss-sms as a caller on the collaboration platform
 * (docs/design.md, decision 20: CBXX, YLZHYE and LSGS reach the back-end
 * systems through a node, with the SDK). One client (include/hrss/client.h) signs every request
 * with hrss-sms's own credential (hmac-sm3) and encrypts bodies with the
 * grant's SM4 key, and the engine's service commands call through it.
 *
 * Safe from any thread (the SDK's client is); calls block the calling
 * thread for at most the configured timeout.
 */
#ifndef HRSS_SMS_BACKEND_H
#define HRSS_SMS_BACKEND_H

#include <stddef.h>

#include <jansson.h>

typedef struct sms_backend_config {
    const char *node_url;    /* "http://127.0.0.1:8080" */
    const char *system_code; /* hrss-sms's own system code on the platform */
    const char *secret;      /* hmac-sm3 secret shared with the node */
    const char *sm4_key;     /* the grants' 16-digit SM4 key; NULL: plain bodies */
    const char *state_dir;   /* serviceReqId sequences */
    long timeout_ms;         /* whole call (0: 5000) */
} sms_backend_config;

typedef struct sms_backend sms_backend;

/* NULL with err (errlen bytes) when the client cannot be made. */
sms_backend *sms_backend_new(const sms_backend_config *c, char *err, size_t errlen);
void sms_backend_free(sms_backend *b);

/* The engine's call operation (engine.h): 0 with *out the decrypted body of
 * a commStatus 00 answer; 1 with why for a business failure ("commStatus 10:
 * card is lost already"); else -1 with why ("node unreachable", "commStatus
 * 50: no grant for ..."). ctx is the sms_backend. */
int sms_backend_call(void *ctx, const char *service, const char *area, json_t *body,
                     json_t **out, char *why, size_t whylen);

#endif
