/*
 * hrss/sign.h - header signatures and nonces of LD/T 6008-2024 7.1.1.2
 * (docs/design.md decisions 1 to 3).
 *
 * Canonical string: every header field that is present, a string and
 * non-empty, except "signature", as key=value, keys sorted by ASCII byte
 * order, joined with "&", UTF-8 as is, no escaping. The nonce travels as the
 * header field "nonce" and so is included; "timestamp" is signed as
 * "timestamp" when the caller sent that alias.
 *
 * Profiles: "sm3" = lowercase hex of SM3(canonical) (integrity only, never
 * identity); "hmac-sm3" = lowercase hex of HMAC-SM3(secret, canonical);
 * "sm2" = Base64 of the DER SM2-with-SM3 signature, user ID
 * 1234567812345678. Verification compares in constant time.
 */
#ifndef HRSS_SIGN_H
#define HRSS_SIGN_H

#include <jansson.h>

#include "codes.h"
#include "crypto.h"
#include "envelope.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HRSS_NONCE_LEN 24

typedef enum hrss_sig_profile {
    HRSS_SIG_NONE = 0, /* no signature required (the standard allows it) */
    HRSS_SIG_SM3 = 1,
    HRSS_SIG_HMAC_SM3 = 2,
    HRSS_SIG_SM2 = 3
} hrss_sig_profile;

/* "none", "sm3", "hmac-sm3", "sm2" -> profile; HRSS_EINVAL otherwise. */
HRSS_API int hrss_sig_profile_parse(const char *name, hrss_sig_profile *out);
HRSS_API const char *hrss_sig_profile_name(hrss_sig_profile p);

/* Key material for a profile; pointers are borrowed. sm2 holds the private
 * key to sign, the public key suffices to verify. */
typedef struct hrss_sig_key {
    hrss_sig_profile profile;
    const unsigned char *secret; /* hmac-sm3 */
    size_t secret_len;
    const hrss_sm2_key *sm2;     /* sm2 */
} hrss_sig_key;

/* The canonical string of a header object; HRSS_ETYPE when a field is not a
 * string. *out is NUL-terminated; free with hrss_free. */
HRSS_API int hrss_canonical_header(const json_t *header, char **out, size_t *outlen,
                                   hrss_error *err);

/* Signature text of a canonical string under k; free with hrss_free. */
HRSS_API int hrss_sign_string(const hrss_sig_key *k, const char *canon, size_t len, char **sig,
                              size_t *siglen, hrss_error *err);
/* HRSS_OK or HRSS_EBADSIG (also for a malformed signature text). */
HRSS_API int hrss_verify_string(const hrss_sig_key *k, const char *canon, size_t len,
                                const char *sig, size_t siglen, hrss_error *err);

/* Computes and sets the header's "signature". HRSS_SIG_NONE removes it. */
HRSS_API int hrss_envelope_sign(hrss_envelope *e, const hrss_sig_key *k, hrss_error *err);
/* Checks the header's "signature" (HRSS_EMISSING when absent and the
 * profile is not none, HRSS_EBADSIG when it does not match). */
HRSS_API int hrss_envelope_verify(const hrss_envelope *e, const hrss_sig_key *k,
                                  hrss_error *err);
/* hrss_envelope_verify for the hmac-sm3 profile with the secret prepared
 * by hrss_hmac_sm3_key_new: the same outcomes and messages, less work per
 * request for a verifier that keeps the prepared key (the node does, per
 * caller, in its registry snapshot). */
HRSS_API int hrss_envelope_verify_hmac(const hrss_envelope *e, const hrss_hmac_sm3_key *k,
                                       hrss_error *err);

/* Fills what a caller's request lacks: serviceReqId (from g, which may be
 * NULL only when the id is present), serviceReqTime (now, CST; an existing
 * "timestamp" counts as present) and nonce. Existing values are kept. */
HRSS_API int hrss_envelope_fill_request(hrss_envelope *e, hrss_idgen *g, hrss_error *err);

/* 24 characters of [0-9a-z] from the CSPRNG (about 124 bits) plus NUL. */
HRSS_API int hrss_nonce_new(char out[HRSS_NONCE_LEN + 1]);
/* Exactly 24 characters of [0-9A-Za-z]. */
HRSS_API int hrss_nonce_check(const char *s, size_t len, hrss_error *err);

#ifdef __cplusplus
}
#endif
#endif
