/*
 * hrss/crypto.h - SM3, HMAC-SM3, SM4 and SM2 as LD/T 6008-2024 7.1.1 uses
 * them, all through OpenSSL 3's EVP interface, plus Base64 and hex.
 *
 * Buffers returned through unsigned char ** / char ** are allocated by the
 * SDK and freed by the caller with hrss_free(). Text outputs are
 * NUL-terminated; the length excludes the NUL. All functions are safe to call
 * from any thread on distinct objects; an hrss_sm2_key may be shared between
 * threads for sign/verify/encrypt/decrypt once built.
 */
#ifndef HRSS_CRYPTO_H
#define HRSS_CRYPTO_H

#include <stddef.h>

#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HRSS_SM3_LEN 32
#define HRSS_SM4_KEY_LEN 16
#define HRSS_SM4_GCM_IV_LEN 12
#define HRSS_SM4_GCM_TAG_LEN 16
#define HRSS_SM2_DEFAULT_ID "1234567812345678"

/* ---- encodings ---- */

/* Standard Base64 with padding, no line breaks. */
HRSS_API int hrss_base64_encode(const void *in, size_t len, char **out, size_t *outlen);
/* Strict: rejects characters outside the alphabet, bad padding, whitespace. */
HRSS_API int hrss_base64_decode(const char *in, size_t len, unsigned char **out, size_t *outlen,
                                hrss_error *err);
/* Lowercase hex. */
HRSS_API int hrss_hex_encode(const void *in, size_t len, char **out, size_t *outlen);
/* Accepts upper and lower case; odd length or non-hex is HRSS_EFORMAT. */
HRSS_API int hrss_hex_decode(const char *in, size_t len, unsigned char **out, size_t *outlen,
                             hrss_error *err);

/* Constant-time equality of two buffers of the same length: 1 equal, 0 not. */
HRSS_API int hrss_ct_equal(const void *a, const void *b, size_t len);

/* Fills buf from the CSPRNG (OpenSSL's RAND_bytes). */
HRSS_API int hrss_random_bytes(void *buf, size_t len);

/* ---- SM3 ---- */

HRSS_API int hrss_sm3(const void *data, size_t len, unsigned char out[HRSS_SM3_LEN]);

typedef struct hrss_sm3_ctx hrss_sm3_ctx;
HRSS_API hrss_sm3_ctx *hrss_sm3_new(void); /* NULL when out of memory */
HRSS_API int hrss_sm3_update(hrss_sm3_ctx *c, const void *data, size_t len);
HRSS_API int hrss_sm3_final(hrss_sm3_ctx *c, unsigned char out[HRSS_SM3_LEN]);
HRSS_API void hrss_sm3_free(hrss_sm3_ctx *c);

HRSS_API int hrss_hmac_sm3(const void *key, size_t keylen, const void *data, size_t len,
                           unsigned char out[HRSS_SM3_LEN]);

/* A key prepared once for many HMAC-SM3 computations (a verifier's copy of
 * a caller's secret): hrss_hmac_sm3_keyed gives the same MAC as
 * hrss_hmac_sm3 with that key, at less cost. A prepared key is read-only
 * and may be used by several threads at once. HRSS_ENOMEM, HRSS_ECRYPTO. */
typedef struct hrss_hmac_sm3_key hrss_hmac_sm3_key;
HRSS_API int hrss_hmac_sm3_key_new(const void *key, size_t keylen, hrss_hmac_sm3_key **out);
HRSS_API int hrss_hmac_sm3_keyed(const hrss_hmac_sm3_key *k, const void *data, size_t len,
                                 unsigned char out[HRSS_SM3_LEN]);
HRSS_API void hrss_hmac_sm3_key_free(hrss_hmac_sm3_key *k); /* clears it; NULL is a no-op */

/* ---- SM4 ---- */

/* The standard's key: exactly 16 ASCII digits, used as the 16 key bytes
 * (docs/design.md decision 4). Anything else is HRSS_EKEY. */
HRSS_API int hrss_sm4_key_from_digits(const char *digits, size_t len,
                                      unsigned char key[HRSS_SM4_KEY_LEN], hrss_error *err);

/* SM4-ECB with PKCS#7 padding. Decrypt fails with HRSS_EDECRYPT on a length
 * that is not a multiple of 16 or bad padding. */
HRSS_API int hrss_sm4_ecb_encrypt(const unsigned char key[HRSS_SM4_KEY_LEN], const void *in,
                                  size_t len, unsigned char **out, size_t *outlen,
                                  hrss_error *err);
HRSS_API int hrss_sm4_ecb_decrypt(const unsigned char key[HRSS_SM4_KEY_LEN], const void *in,
                                  size_t len, unsigned char **out, size_t *outlen,
                                  hrss_error *err);

/* SM4-GCM, the opt-in profile: output is IV(12, random) || ciphertext ||
 * tag(16); aad may be NULL. Decrypt verifies the tag (HRSS_EDECRYPT). */
HRSS_API int hrss_sm4_gcm_encrypt(const unsigned char key[HRSS_SM4_KEY_LEN], const void *aad,
                                  size_t aadlen, const void *in, size_t len, unsigned char **out,
                                  size_t *outlen, hrss_error *err);
HRSS_API int hrss_sm4_gcm_decrypt(const unsigned char key[HRSS_SM4_KEY_LEN], const void *aad,
                                  size_t aadlen, const void *in, size_t len, unsigned char **out,
                                  size_t *outlen, hrss_error *err);

/* ---- SM2 ---- */

typedef struct hrss_sm2_key hrss_sm2_key;

typedef enum hrss_sm2_sig_format {
    HRSS_SM2_SIG_DER = 0, /* ASN.1 SEQUENCE { r, s } */
    HRSS_SM2_SIG_RAW = 1  /* r || s, 32 bytes each */
} hrss_sm2_sig_format;

typedef enum hrss_sm2_ct_format {
    HRSS_SM2_C1C3C2 = 0, /* 04||X||Y || SM3 hash || ciphertext (GM/T 0003-2012), the default */
    HRSS_SM2_C1C2C3 = 1, /* 04||X||Y || ciphertext || SM3 hash (older peers) */
    HRSS_SM2_DER = 2     /* GM/T 0009 SEQUENCE { x, y, hash, ciphertext } */
} hrss_sm2_ct_format;

HRSS_API int hrss_sm2_key_generate(hrss_sm2_key **out, hrss_error *err);

/* PEM of a private key (PKCS#8 or SEC1 "EC PRIVATE KEY") or a public key
 * (SubjectPublicKeyInfo). Keys on other curves are HRSS_EKEY. */
HRSS_API int hrss_sm2_key_from_pem(const char *pem, size_t len, hrss_sm2_key **out,
                                   hrss_error *err);
/* PKCS#8 private key PEM when private is non-zero (HRSS_EKEY if the key has
 * none), else the SubjectPublicKeyInfo PEM. */
HRSS_API int hrss_sm2_key_to_pem(const hrss_sm2_key *k, int private_part, char **out,
                                 size_t *outlen);

/* Raw hex forms: priv_hex = 64 hex digits of d (may be NULL), pub_hex =
 * "04" + X + Y, 130 hex digits (may be NULL when priv_hex is given: derived).
 * When both are given they must match. */
HRSS_API int hrss_sm2_key_from_raw_hex(const char *priv_hex, const char *pub_hex,
                                       hrss_sm2_key **out, hrss_error *err);
/* Either out pointer may be NULL; *priv_hex is NULL for a public-only key. */
HRSS_API int hrss_sm2_key_to_raw_hex(const hrss_sm2_key *k, char **priv_hex, char **pub_hex);

HRSS_API int hrss_sm2_key_has_private(const hrss_sm2_key *k);
HRSS_API void hrss_sm2_key_free(hrss_sm2_key *k);

/* SM2 with SM3. id/idlen select the user ID; id == NULL means the default
 * 1234567812345678 (OpenSSL 3.0's own default is empty: never used here). */
HRSS_API int hrss_sm2_sign(const hrss_sm2_key *k, const char *id, size_t idlen, const void *msg,
                           size_t len, hrss_sm2_sig_format fmt, unsigned char **sig,
                           size_t *siglen, hrss_error *err);
/* HRSS_OK when valid, HRSS_EBADSIG when not (including malformed signatures). */
HRSS_API int hrss_sm2_verify(const hrss_sm2_key *k, const char *id, size_t idlen, const void *msg,
                             size_t len, hrss_sm2_sig_format fmt, const unsigned char *sig,
                             size_t siglen, hrss_error *err);

/* Z_A of GB/T 32918.2 for the key and user ID (id NULL = default). */
HRSS_API int hrss_sm2_za(const hrss_sm2_key *k, const char *id, size_t idlen,
                         unsigned char out[HRSS_SM3_LEN], hrss_error *err);

HRSS_API int hrss_sm2_encrypt(const hrss_sm2_key *k, const void *in, size_t len,
                              hrss_sm2_ct_format fmt, unsigned char **out, size_t *outlen,
                              hrss_error *err);
/* HRSS_EDECRYPT for a malformed ciphertext or a hash mismatch. */
HRSS_API int hrss_sm2_decrypt(const hrss_sm2_key *k, const void *in, size_t len,
                              hrss_sm2_ct_format fmt, unsigned char **out, size_t *outlen,
                              hrss_error *err);

#ifdef __cplusplus
}
#endif
#endif
