/*
 * hrss/provider.h - the provider's side of LD/T 6008-2024: from the raw body
 * of an HTTP request to a checked, decrypted request handed to a handler,
 * and from the handler's answer to a signed, encrypted response envelope.
 * Plus a small embedded HTTP server (libevent) to serve it.
 *
 * hrss_provider_handle, in order:
 *   1. strict parse (envelope.h); a body that is no request envelope gets
 *      HTTP 400/413 and {"error": code, "message": "field: rule"};
 *   2. the service must have a handler                      -> commStatus 90
 *   3. the grant of (appCode, serviceCode); none and require_grant -> 50
 *   4. request time within window_sec, when set              -> 30
 *   5. the caller's signature, when the grant names a profile -> 30
 *   6. the nonce, when a replay store is given               -> 30
 *   7. the body opened by the grant's profile: SM4 with the grant's key,
 *      SM2 with the provider's own private key              -> 40
 *   8. the handler; then the response: serviceResId from the provider's
 *      own system code, serviceResTime, commStatus/busiStatus/msg, the body
 *      sealed by the grant's profile (SM2 responses with the caller's public
 *      key, docs/design.md decision 5) and the header signed with the
 *      provider's profile.
 * Refusals (30, 40, 50, 90) carry no body. The node checks 4 to 6 already;
 * a provider behind a node may leave them off, one reachable otherwise
 * should not.
 *
 * Threads: configure (routes, grants) before serving; then
 * hrss_provider_handle may run on any number of threads at once, and calls
 * handlers concurrently. The embedded server runs every handler on its one
 * event-loop thread.
 *
 * Ownership: hrss_provider_new and hrss_provider_grant copy their options
 * (strings, secrets, SM2 keys). A replay store passed in options is
 * borrowed and must outlive the provider.
 */
#ifndef HRSS_PROVIDER_H
#define HRSS_PROVIDER_H

#include <stdint.h>

#include <jansson.h>

#include "codes.h"
#include "crypto.h"
#include "envelope.h"
#include "errors.h"
#include "replay.h"
#include "sign.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hrss_provider hrss_provider;

typedef struct hrss_provider_options {
    const char *system_code; /* the provider's own system code: serviceResId */
    /* serviceResId sequences (hrss_idgen); NULL: $HRSS_STATE_DIR, else
     * $XDG_STATE_HOME/hrss, else $HOME/.local/state/hrss. */
    const char *state_dir;
    hrss_sig_key sign;           /* signs responses; HRSS_SIG_NONE: unsigned */
    const hrss_sm2_key *own_sm2; /* private key opening SM2 requests; NULL: sign.sm2 */
    int require_grant;           /* 1: a caller without a grant gets commStatus 50 */
    int64_t window_sec;          /* > 0: refuse request times further from now */
    hrss_replay *replay;         /* not NULL: refuse replayed nonces (borrowed) */
} hrss_provider_options;

/* Free with hrss_provider_free. HRSS_EINVAL for a bad system code. */
HRSS_API int hrss_provider_new(const hrss_provider_options *o, hrss_provider **out,
                               hrss_error *err);
HRSS_API void hrss_provider_free(hrss_provider *p);

/* What one caller may do, as the node's grant says. */
typedef struct hrss_provider_grant {
    const char *caller;  /* appCode */
    const char *service; /* serviceCode; NULL: every service of this provider */
    hrss_sig_key verify; /* the caller's signature; HRSS_SIG_NONE: not checked */
    hrss_body_cipher cipher;
    hrss_text_encoding encoding;
    const char *sm4_key;           /* SM4 profiles: the grant's 16 digits */
    const hrss_sm2_key *caller_sm2; /* SM2: the caller's public key, for responses */
} hrss_provider_grant;

/* Adds a grant (a later one for the same caller and service replaces it). */
HRSS_API int hrss_provider_grant_add(hrss_provider *p, const hrss_provider_grant *g,
                                     hrss_error *err);

/* ---- handlers ---- */

/* The checked request; every pointer is borrowed for the handler's call. */
typedef struct hrss_provider_request {
    const hrss_envelope *envelope; /* body decrypted */
    const char *service_code;
    const char *app_code;
    const char *area_code;
    const char *req_id;
    const json_t *body; /* an object */
} hrss_provider_request;

/* The answer a handler fills. comm_status starts at HRSS_COMM_OK. */
typedef struct hrss_provider_reply {
    hrss_comm_status comm_status;
    char busi_status[HRSS_BUSI_STATUS_MAX + 1]; /* "" for none */
    char msg[HRSS_MSG_MAX * 4 + 1];             /* "" for none; cut at 200 characters */
    json_t *body;                               /* NULL for none; freed by the provider */
} hrss_provider_reply;

/* Sets comm_status, busi_status (may be NULL) and msg (printf format, may
 * be NULL). */
HRSS_API void hrss_provider_reply_status(hrss_provider_reply *r, hrss_comm_status st,
                                         const char *busi_status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sets the body (steals the reference; replaces any earlier body). */
HRSS_API void hrss_provider_reply_body(hrss_provider_reply *r, json_t *body);

typedef void (*hrss_provider_handler)(void *ctx, const hrss_provider_request *req,
                                      hrss_provider_reply *rep);

/* Serves service_code with handler (ctx is passed back, borrowed). */
HRSS_API int hrss_provider_route(hrss_provider *p, const char *service_code,
                                 hrss_provider_handler handler, void *ctx, hrss_error *err);

/*
 * Handles the raw body of one HTTP request. Always answers: *out is the
 * response body (free with hrss_free), *http_status 200 with a response
 * envelope, or 400/413 with a JSON error when in is no request envelope.
 * Returns HRSS_OK, or HRSS_ENOMEM / HRSS_EIO when no answer could be made
 * (then *out is NULL: answer HTTP 500).
 */
HRSS_API int hrss_provider_handle(hrss_provider *p, const char *in, size_t len, char **out,
                                  size_t *outlen, int *http_status, hrss_error *err);

/* ---- the embedded HTTP server ---- */

typedef struct hrss_provider_server hrss_provider_server;

/*
 * Listens on "HOST:PORT" (port 0: any free port; IPv6 as "[::1]:PORT") and
 * answers POST on every path with hrss_provider_handle, GET /healthz with
 * "ok". Requests larger than HRSS_ENVELOPE_MAX_BYTES get 413. The provider is
 * borrowed and must outlive the server.
 */
HRSS_API int hrss_provider_server_new(hrss_provider *p, const char *listen,
                                      hrss_provider_server **out, hrss_error *err);
/* The bound port. */
HRSS_API int hrss_provider_server_port(const hrss_provider_server *s);
/* Runs the event loop on the calling thread until hrss_provider_server_stop
 * or, when handle_signals is 1, SIGINT or SIGTERM. */
HRSS_API int hrss_provider_server_run(hrss_provider_server *s, int handle_signals,
                                      hrss_error *err);
/* Makes run return; safe from any thread (not from a signal handler). */
HRSS_API void hrss_provider_server_stop(hrss_provider_server *s);
/* Not while run is running. */
HRSS_API void hrss_provider_server_free(hrss_provider_server *s);

#ifdef __cplusplus
}
#endif
#endif
