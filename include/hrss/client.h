/*
 * hrss/client.h - the caller's side of LD/T 6008-2024: one function makes a
 * whole transaction through a platform node.
 *
 * hrss_client_call builds the request envelope (serviceReqId from the
 * client's id generator, serviceReqTime in CST, nonce), encrypts the body by
 * the call's profile (7.1.1.1: SM4-ECB with the grant's key, SM4-GCM, or SM2
 * with the provider's public key), signs the header with the client's
 * credential profile (7.1.1.2), POSTs it over libcurl (keep-alive
 * connections are reused between calls), and checks the answer:
 *
 *   - HTTP 200 with a response envelope that parses strictly (table 2);
 *   - serviceReqId, serviceCode and appCode equal those of the request;
 *   - the response signature, when a verification profile is configured:
 *     a response that carries a body must be signed and the signature must
 *     hold; a refusal without a body (commStatus other than 00, such as the
 *     node's own 30/50/90 envelopes, which nodes do not sign) may be
 *     unsigned, and is then reported as unsigned (hrss_response_signed);
 *   - the body decrypts by the same profile (SM2 responses with the
 *     caller's own private key: docs/design.md decision 5); with an encrypting
 *     profile, a commStatus 00 response must carry ciphertext.
 *
 * A commStatus other than 00 is not an SDK error: the call returns HRSS_OK
 * and the response tells what the node or the provider said.
 *
 * Errors: HRSS_ENET (node unreachable, connection failed), HRSS_ETIMEOUT,
 * HRSS_EHTTP (an HTTP status other than 200; err.msg holds the node's JSON
 * error), HRSS_EFORMAT (not a response envelope), HRSS_EMISMATCH (ids or
 * codes differ from the request), HRSS_EBADSIG / HRSS_EMISSING (response
 * signature wrong or absent), HRSS_EDECRYPT (body does not decrypt),
 * HRSS_EINVAL (a bad argument: service or area code, body not an object),
 * HRSS_ETOOBIG (request or response over the limits of envelope.h).
 *
 * Threads: an hrss_client may be shared by any number of threads once made;
 * each call borrows one of the client's libcurl handles (and so its kept-alive
 * connection) and gives it back. hrss_client_free must not run while a call
 * is in flight. An hrss_response belongs to one thread at a time.
 *
 * Ownership: hrss_client_new copies everything in its options (strings,
 * secrets, SM2 keys), so they may be freed after it returns. hrss_call's
 * pointers are borrowed for the duration of the call only.
 */
#ifndef HRSS_CLIENT_H
#define HRSS_CLIENT_H

#include <jansson.h>

#include "codes.h"
#include "crypto.h"
#include "envelope.h"
#include "errors.h"
#include "sign.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hrss_client hrss_client;
typedef struct hrss_response hrss_response;

typedef struct hrss_client_options {
    /* The node: "http://127.0.0.1:8080" (the transaction path
     * /api/v1/transaction is added when the URL has no path) or a full URL.
     * https:// URLs use TLS, verified against ca_file or the system store. */
    const char *node_url;
    const char *system_code; /* the caller's own system code: appCode, serviceReqId */
    /* Where serviceReqId sequences are kept (hrss_idgen); NULL: $HRSS_STATE_DIR,
     * else $XDG_STATE_HOME/hrss, else $HOME/.local/state/hrss. */
    const char *state_dir;
    hrss_sig_key sign;   /* the caller's credential profile (sm2: private key) */
    hrss_sig_key verify; /* the provider's profile for response signatures;
                          * HRSS_SIG_NONE: responses are not checked */
    /* Private key that opens SM2-encrypted responses; NULL: sign.sm2 when it
     * holds a private key. */
    const hrss_sm2_key *own_sm2;
    const char *ca_file;   /* TLS: CA bundle (PEM); NULL: the system's */
    const char *cert_file; /* TLS: client certificate (PEM) for mutual TLS */
    const char *key_file;  /* TLS: its private key (PEM) */
    long connect_timeout_ms; /* 0: 5000 */
    long timeout_ms;         /* whole call; 0: 30000 */
} hrss_client_options;

/* Makes a client. HRSS_EINVAL for a missing URL, a bad system code or a
 * signing profile without its key; the id generator's errors (state_dir).
 * Free with hrss_client_free. */
HRSS_API int hrss_client_new(const hrss_client_options *o, hrss_client **out, hrss_error *err);
HRSS_API void hrss_client_free(hrss_client *c);

/* One transaction. */
typedef struct hrss_call {
    const char *service_code; /* 15-character interface code (6.1) */
    const char *area_code;    /* serviceAreaCode: the provider's area */
    const json_t *body;       /* an object (6.2.2 shapes); NULL: {} */
    hrss_body_cipher cipher;  /* the grant's encryption profile */
    hrss_text_encoding encoding;
    const char *sm4_key;      /* SM4 profiles: the grant's 16-digit key */
    const hrss_sm2_key *provider_sm2; /* SM2: the provider's public key */
} hrss_call;

/*
 * Makes the call. On HRSS_OK *out is the checked, decrypted response. When a
 * response arrived but failed a check (HRSS_EHTTP, HRSS_EFORMAT,
 * HRSS_EMISMATCH, HRSS_EBADSIG, HRSS_EMISSING, HRSS_EDECRYPT) *out is also
 * set, holding what was received, for diagnosis; otherwise *out is NULL.
 * Free a non-NULL *out with hrss_response_free in every case.
 */
HRSS_API int hrss_client_call(hrss_client *c, const hrss_call *call, hrss_response **out,
                              hrss_error *err);

/* ---- the response; every pointer returned is borrowed from it ---- */

HRSS_API void hrss_response_free(hrss_response *r);
/* Header field of the response ("commStatus", "serviceResId", "msg"...) or
 * NULL (also when no envelope could be parsed). */
HRSS_API const char *hrss_response_get(const hrss_response *r, const char *field);
/* commStatus, or -1 when there is none. */
HRSS_API int hrss_response_comm_status(const hrss_response *r);
/* The decrypted body (on HRSS_OK; the body as received otherwise), or NULL. */
HRSS_API json_t *hrss_response_body(const hrss_response *r);
/* The whole response envelope (body decrypted on HRSS_OK), or NULL. */
HRSS_API const hrss_envelope *hrss_response_envelope(const hrss_response *r);
/* 1 when the response's signature was checked and holds, 0 otherwise. */
HRSS_API int hrss_response_signed(const hrss_response *r);
/* HTTP status of the answer. */
HRSS_API int hrss_response_http_status(const hrss_response *r);
/* The bytes that went on the wire, request and response (NUL-terminated). */
HRSS_API const char *hrss_response_request_text(const hrss_response *r, size_t *len);
HRSS_API const char *hrss_response_wire_text(const hrss_response *r, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
