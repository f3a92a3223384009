/*
 * lib/crypto.c - the symmetric half of hrss/crypto.h: Base64 and hex, constant-time
 * comparison, the CSPRNG, SM3 (one-shot and streaming), HMAC-SM3, SM4-ECB with PKCS#7
 * (LD/T 6008-2024 7.1.1.1, docs/design.md decision 4) and the opt-in SM4-GCM profile.
 * SM2 lives in sm2.c and uses only the public functions of this file.
 *
 * Everything cryptographic goes through OpenSSL 3's EVP interface. The algorithms are
 * fetched once per process (pthread_once) and kept: a fetch costs a lock and a method
 * store lookup, which would dominate SM3 of a 16-byte header string.
 *
 * OpenSSL 3.0 has no SM4-GCM (it arrived in 3.2), so GCM is built here from EVP SM4
 * (ECB for H and E(K, J0), CTR for the keystream) and a constant-time bitwise GHASH
 * (NIST SP 800-38D, 12-byte IV). It is checked against RFC 8998 A.1 and Wycheproof.
 * The bitwise GHASH trades speed (tens of MB/s) for freedom from table-lookup timing.
 *
 * Errors never abort: HRSS_ENOMEM, HRSS_ECRYPTO, HRSS_EKEY, HRSS_EDECRYPT... with a
 * message in hrss_error. Messages never contain key bytes. OpenSSL's error queue is
 * emptied after every failure so that it does not leak into the caller's next call.
 */
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "internal.h"

/* EVP update calls take int lengths: feed large inputs in chunks (a multiple of 16). */
#define CHUNK_MAX ((size_t)1 << 30)

/* ---- fetched algorithms ---- */

static pthread_once_t algs_once = PTHREAD_ONCE_INIT;
static EVP_MD *alg_sm3;
static EVP_CIPHER *alg_sm4_ecb;
static EVP_CIPHER *alg_sm4_ctr;
static EVP_MAC *alg_hmac;

static void algs_fetch(void)
{
    alg_sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
    alg_sm4_ecb = EVP_CIPHER_fetch(NULL, "SM4-ECB", NULL);
    alg_sm4_ctr = EVP_CIPHER_fetch(NULL, "SM4-CTR", NULL);
    alg_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    ERR_clear_error();
}

static int algs_ready(void)
{
    if (pthread_once(&algs_once, algs_fetch) != 0)
        return 0;
    return 1;
}

int hrss__ossl_error(hrss_error *err, int code, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;
    if (reason != NULL)
        hrss__error(err, code, "%s (OpenSSL: %s)", what, reason);
    else
        hrss__error(err, code, "%s", what);
    ERR_clear_error();
    return code;
}

/* ---- encodings ---- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int hrss_base64_encode(const void *in, size_t len, char **out, size_t *outlen)
{
    const unsigned char *p = in;
    size_t n, i, o = 0;
    char *s;

    if (out == NULL || (in == NULL && len > 0))
        return HRSS_EINVAL;
    *out = NULL;
    if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
        return HRSS_ETOOBIG;
    n = (len + 2) / 3 * 4;
    s = malloc(n + 1);
    if (s == NULL)
        return HRSS_ENOMEM;
    for (i = 0; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        s[o++] = b64_alphabet[v >> 18];
        s[o++] = b64_alphabet[(v >> 12) & 63];
        s[o++] = b64_alphabet[(v >> 6) & 63];
        s[o++] = b64_alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        s[o++] = b64_alphabet[v >> 18];
        s[o++] = b64_alphabet[(v >> 12) & 63];
        s[o++] = '=';
        s[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        s[o++] = b64_alphabet[v >> 18];
        s[o++] = b64_alphabet[(v >> 12) & 63];
        s[o++] = b64_alphabet[(v >> 6) & 63];
        s[o++] = '=';
    }
    s[o] = '\0';
    *out = s;
    if (outlen != NULL)
        *outlen = o;
    return HRSS_OK;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/*
 * Strict RFC 4648 section 4: length a multiple of 4, '=' only as the last one or two
 * characters of the last quantum, no whitespace, and the unused low bits before the
 * padding must be zero (so that each byte string has exactly one accepted text).
 */
int hrss_base64_decode(const char *in, size_t len, unsigned char **out, size_t *outlen,
                       hrss_error *err)
{
    const unsigned char *s = (const unsigned char *)in;
    unsigned char *buf;
    size_t pad = 0, i, o = 0;

    if (out == NULL || (in == NULL && len > 0))
        return hrss__error(err, HRSS_EINVAL, "base64: no input or output");
    *out = NULL;
    if (len % 4 != 0)
        return hrss__error(err, HRSS_EFORMAT, "base64: length %zu is not a multiple of 4", len);
    if (len > 0 && s[len - 1] == '=')
        pad = s[len - 2] == '=' ? 2 : 1;
    buf = malloc(len / 4 * 3 + 1);
    if (buf == NULL)
        return hrss__error(err, HRSS_ENOMEM, "base64: out of memory");
    for (i = 0; i < len; i += 4) {
        int v[4];
        int last = i + 4 == len;
        for (int j = 0; j < 4; j++) {
            v[j] = b64_value(s[i + (size_t)j]);
            if (v[j] < 0 && !(last && s[i + (size_t)j] == '=' && j >= 4 - (int)pad)) {
                free(buf);
                if (s[i + (size_t)j] == '=')
                    return hrss__error(err, HRSS_EFORMAT,
                                       "base64: '=' at offset %zu before the end", i + (size_t)j);
                return hrss__error(err, HRSS_EFORMAT,
                                   "base64: character 0x%02x at offset %zu is outside the "
                                   "alphabet",
                                   s[i + (size_t)j], i + (size_t)j);
            }
        }
        if (last && pad == 2) {
            if ((v[1] & 15) != 0)
                goto noncanonical;
            buf[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        } else if (last && pad == 1) {
            if ((v[2] & 3) != 0)
                goto noncanonical;
            buf[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
            buf[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
        } else {
            buf[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
            buf[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
            buf[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
        }
    }
    buf[o] = 0;
    *out = buf;
    if (outlen != NULL)
        *outlen = o;
    return HRSS_OK;

noncanonical:
    free(buf);
    return hrss__error(err, HRSS_EFORMAT, "base64: non-zero bits before the padding");
}

int hrss_hex_encode(const void *in, size_t len, char **out, size_t *outlen)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = in;
    char *s;

    if (out == NULL || (in == NULL && len > 0))
        return HRSS_EINVAL;
    *out = NULL;
    if (len > (SIZE_MAX - 1) / 2)
        return HRSS_ETOOBIG;
    s = malloc(len * 2 + 1);
    if (s == NULL)
        return HRSS_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    s[len * 2] = '\0';
    *out = s;
    if (outlen != NULL)
        *outlen = len * 2;
    return HRSS_OK;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hrss_hex_decode(const char *in, size_t len, unsigned char **out, size_t *outlen,
                    hrss_error *err)
{
    const unsigned char *s = (const unsigned char *)in;
    unsigned char *buf;

    if (out == NULL || (in == NULL && len > 0))
        return hrss__error(err, HRSS_EINVAL, "hex: no input or output");
    *out = NULL;
    if (len % 2 != 0)
        return hrss__error(err, HRSS_EFORMAT, "hex: odd length %zu", len);
    buf = malloc(len / 2 + 1);
    if (buf == NULL)
        return hrss__error(err, HRSS_ENOMEM, "hex: out of memory");
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
        if (hi < 0 || lo < 0) {
            size_t at = hi < 0 ? i : i + 1;
            free(buf);
            return hrss__error(err, HRSS_EFORMAT,
                               "hex: character 0x%02x at offset %zu is not "
                               "a hex digit",
                               s[at], at);
        }
        buf[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    buf[len / 2] = 0;
    *out = buf;
    if (outlen != NULL)
        *outlen = len / 2;
    return HRSS_OK;
}

int hrss_ct_equal(const void *a, const void *b, size_t len)
{
    if (len == 0)
        return 1;
    return CRYPTO_memcmp(a, b, len) == 0;
}

int hrss_random_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;
    if (p == NULL && len > 0)
        return HRSS_EINVAL;
    while (len > 0) {
        int n = len > INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(p, n) != 1) {
            ERR_clear_error();
            return HRSS_ECRYPTO;
        }
        p += n;
        len -= (size_t)n;
    }
    return HRSS_OK;
}

/* ---- SM3 ---- */

struct hrss_sm3_ctx {
    EVP_MD_CTX *md;
};

int hrss_sm3(const void *data, size_t len, unsigned char out[HRSS_SM3_LEN])
{
    hrss_sm3_ctx c;
    int rc;

    if (out == NULL || (data == NULL && len > 0))
        return HRSS_EINVAL;
    if (!algs_ready() || alg_sm3 == NULL)
        return HRSS_ECRYPTO;
    c.md = EVP_MD_CTX_new();
    if (c.md == NULL)
        return HRSS_ENOMEM;
    if (EVP_DigestInit_ex2(c.md, alg_sm3, NULL) != 1) {
        rc = HRSS_ECRYPTO;
        goto done;
    }
    rc = hrss_sm3_update(&c, data, len);
    if (rc == HRSS_OK && EVP_DigestFinal_ex(c.md, out, NULL) != 1)
        rc = HRSS_ECRYPTO;
done:
    if (rc != HRSS_OK)
        ERR_clear_error();
    EVP_MD_CTX_free(c.md);
    return rc;
}

hrss_sm3_ctx *hrss_sm3_new(void)
{
    hrss_sm3_ctx *c;

    if (!algs_ready() || alg_sm3 == NULL)
        return NULL;
    c = malloc(sizeof(*c));
    if (c == NULL)
        return NULL;
    c->md = EVP_MD_CTX_new();
    if (c->md == NULL || EVP_DigestInit_ex2(c->md, alg_sm3, NULL) != 1) {
        ERR_clear_error();
        EVP_MD_CTX_free(c->md);
        free(c);
        return NULL;
    }
    return c;
}

int hrss_sm3_update(hrss_sm3_ctx *c, const void *data, size_t len)
{
    const unsigned char *p = data;

    if (c == NULL || (data == NULL && len > 0))
        return HRSS_EINVAL;
    while (len > 0) {
        size_t n = len > CHUNK_MAX ? CHUNK_MAX : len;
        if (EVP_DigestUpdate(c->md, p, n) != 1) {
            ERR_clear_error();
            return HRSS_ECRYPTO;
        }
        p += n;
        len -= n;
    }
    return HRSS_OK;
}

/* Writes the digest and starts the context over, ready for another message. */
int hrss_sm3_final(hrss_sm3_ctx *c, unsigned char out[HRSS_SM3_LEN])
{
    if (c == NULL || out == NULL)
        return HRSS_EINVAL;
    if (EVP_DigestFinal_ex(c->md, out, NULL) != 1 ||
        EVP_DigestInit_ex2(c->md, alg_sm3, NULL) != 1) {
        ERR_clear_error();
        return HRSS_ECRYPTO;
    }
    return HRSS_OK;
}

void hrss_sm3_free(hrss_sm3_ctx *c)
{
    if (c == NULL)
        return;
    EVP_MD_CTX_free(c->md);
    free(c);
}

int hrss_hmac_sm3(const void *key, size_t keylen, const void *data, size_t len,
                  unsigned char out[HRSS_SM3_LEN])
{
    static const unsigned char nokey = 0;
    const unsigned char *p = data;
    EVP_MAC_CTX *mac = NULL;
    OSSL_PARAM params[2];
    size_t outl = 0;
    int rc = HRSS_ECRYPTO;

    if (out == NULL || (key == NULL && keylen > 0) || (data == NULL && len > 0))
        return HRSS_EINVAL;
    if (!algs_ready() || alg_hmac == NULL)
        return HRSS_ECRYPTO;
    mac = EVP_MAC_CTX_new(alg_hmac);
    if (mac == NULL) {
        rc = HRSS_ENOMEM;
        goto done;
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SM3", 0);
    params[1] = OSSL_PARAM_construct_end();
    /* An empty key is a valid HMAC key; OpenSSL wants a non-NULL pointer for it. */
    if (EVP_MAC_init(mac, keylen > 0 ? key : &nokey, keylen, params) != 1)
        goto done;
    while (len > 0) {
        size_t n = len > CHUNK_MAX ? CHUNK_MAX : len;
        if (EVP_MAC_update(mac, p, n) != 1)
            goto done;
        p += n;
        len -= n;
    }
    if (EVP_MAC_final(mac, out, &outl, HRSS_SM3_LEN) != 1 || outl != HRSS_SM3_LEN)
        goto done;
    rc = HRSS_OK;
done:
    if (rc != HRSS_OK)
        ERR_clear_error();
    EVP_MAC_CTX_free(mac); /* clears the keyed state */
    return rc;
}

/*
 * A keyed HMAC-SM3 state: SM3 contexts that have already absorbed K' ^ ipad
 * and K' ^ opad. Each MAC copies them instead of hashing the key blocks
 * again (and instead of setting up an EVP_MAC, which looks its digest up by
 * name): one block fewer on each side, and no key schedule per request.
 * The templates are only read after hrss_hmac_sm3_key_new, so threads may
 * share one key.
 */
struct hrss_hmac_sm3_key {
    EVP_MD_CTX *inner, *outer;
};

int hrss_hmac_sm3_key_new(const void *key, size_t keylen, hrss_hmac_sm3_key **out)
{
    unsigned char k0[64] = {0}, pad[64];
    hrss_hmac_sm3_key *k = NULL;
    int rc = HRSS_ECRYPTO;

    if (out == NULL || (key == NULL && keylen > 0))
        return HRSS_EINVAL;
    *out = NULL;
    if (!algs_ready() || alg_sm3 == NULL)
        return HRSS_ECRYPTO;
    if (keylen > sizeof(k0)) {
        rc = hrss_sm3(key, keylen, k0);
        if (rc != HRSS_OK)
            return rc;
        rc = HRSS_ECRYPTO;
    } else if (keylen > 0) {
        memcpy(k0, key, keylen);
    }
    k = calloc(1, sizeof(*k));
    if (k == NULL || (k->inner = EVP_MD_CTX_new()) == NULL ||
        (k->outer = EVP_MD_CTX_new()) == NULL) {
        rc = HRSS_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = k0[i] ^ 0x36;
    if (EVP_DigestInit_ex2(k->inner, alg_sm3, NULL) != 1 ||
        EVP_DigestUpdate(k->inner, pad, sizeof(pad)) != 1)
        goto done;
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = k0[i] ^ 0x5c;
    if (EVP_DigestInit_ex2(k->outer, alg_sm3, NULL) != 1 ||
        EVP_DigestUpdate(k->outer, pad, sizeof(pad)) != 1)
        goto done;
    *out = k;
    k = NULL;
    rc = HRSS_OK;
done:
    OPENSSL_cleanse(k0, sizeof(k0));
    OPENSSL_cleanse(pad, sizeof(pad));
    if (rc != HRSS_OK)
        ERR_clear_error();
    hrss_hmac_sm3_key_free(k);
    return rc;
}

int hrss_hmac_sm3_keyed(const hrss_hmac_sm3_key *k, const void *data, size_t len,
                        unsigned char out[HRSS_SM3_LEN])
{
    const unsigned char *p = data;
    unsigned char inner[HRSS_SM3_LEN];
    unsigned int n = 0;
    EVP_MD_CTX *md;
    int rc = HRSS_ECRYPTO;

    if (k == NULL || out == NULL || (data == NULL && len > 0))
        return HRSS_EINVAL;
    md = EVP_MD_CTX_new();
    if (md == NULL)
        return HRSS_ENOMEM;
    if (EVP_MD_CTX_copy_ex(md, k->inner) != 1)
        goto done;
    while (len > 0) {
        size_t c = len > CHUNK_MAX ? CHUNK_MAX : len;
        if (EVP_DigestUpdate(md, p, c) != 1)
            goto done;
        p += c;
        len -= c;
    }
    if (EVP_DigestFinal_ex(md, inner, &n) != 1 || n != sizeof(inner) ||
        EVP_MD_CTX_copy_ex(md, k->outer) != 1 ||
        EVP_DigestUpdate(md, inner, sizeof(inner)) != 1 ||
        EVP_DigestFinal_ex(md, out, &n) != 1 || n != HRSS_SM3_LEN)
        goto done;
    rc = HRSS_OK;
done:
    OPENSSL_cleanse(inner, sizeof(inner));
    if (rc != HRSS_OK)
        ERR_clear_error();
    EVP_MD_CTX_free(md); /* clears the copied keyed state */
    return rc;
}

void hrss_hmac_sm3_key_free(hrss_hmac_sm3_key *k)
{
    if (k == NULL)
        return;
    EVP_MD_CTX_free(k->inner);
    EVP_MD_CTX_free(k->outer);
    free(k);
}

/* ---- SM4 ---- */

int hrss_sm4_key_from_digits(const char *digits, size_t len, unsigned char key[HRSS_SM4_KEY_LEN],
                             hrss_error *err)
{
    if (key == NULL || (digits == NULL && len > 0))
        return hrss__error(err, HRSS_EINVAL, "SM4 key: no input or output");
    if (len != HRSS_SM4_KEY_LEN)
        return hrss__error(err, HRSS_EKEY, "SM4 key: %zu characters, need exactly 16 digits", len);
    for (size_t i = 0; i < len; i++)
        if (digits[i] < '0' || digits[i] > '9')
            return hrss__error(err, HRSS_EKEY, "SM4 key: character %zu is not a digit 0-9", i + 1);
    memcpy(key, digits, HRSS_SM4_KEY_LEN);
    return HRSS_OK;
}

/* Runs len bytes (a multiple of 16 for ECB) through an initialised cipher context. */
static int cipher_update(EVP_CIPHER_CTX *c, unsigned char *out, const unsigned char *in, size_t len,
                         size_t *outlen)
{
    size_t total = 0;
    while (len > 0) {
        size_t n = len > CHUNK_MAX ? CHUNK_MAX : len;
        int got = 0;
        if (EVP_CipherUpdate(c, out + total, &got, in, (int)n) != 1 || got < 0)
            return 0;
        total += (size_t)got;
        in += n;
        len -= n;
    }
    *outlen = total;
    return 1;
}

/* A fresh SM4 context for ECB (padding off: PKCS#7 is done here) or CTR. */
static EVP_CIPHER_CTX *sm4_ctx(const EVP_CIPHER *cipher, const unsigned char *key,
                               const unsigned char *iv, int enc)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c == NULL)
        return NULL;
    if (EVP_CipherInit_ex2(c, cipher, key, iv, enc, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(c, 0) != 1) {
        EVP_CIPHER_CTX_free(c);
        return NULL;
    }
    return c;
}

int hrss_sm4_ecb_encrypt(const unsigned char key[HRSS_SM4_KEY_LEN], const void *in, size_t len,
                         unsigned char **out, size_t *outlen, hrss_error *err)
{
    EVP_CIPHER_CTX *c = NULL;
    unsigned char *buf = NULL, last[16];
    size_t full, padn, n = 0, m = 0;
    int rc;

    if (key == NULL || out == NULL || (in == NULL && len > 0))
        return hrss__error(err, HRSS_EINVAL, "SM4-ECB: no key, input or output");
    *out = NULL;
    if (len > SIZE_MAX - 32)
        return hrss__error(err, HRSS_ETOOBIG, "SM4-ECB: input too large");
    if (!algs_ready() || alg_sm4_ecb == NULL)
        return hrss__ossl_error(err, HRSS_ECRYPTO, "SM4-ECB: cipher not available");
    full = len - len % 16;
    padn = 16 - len % 16; /* PKCS#7 always pads: a whole block when len % 16 == 0 */
    if (len > full)
        memcpy(last, (const unsigned char *)in + full, len - full);
    memset(last + (len - full), (int)padn, padn);
    buf = malloc(full + 16);
    if (buf == NULL) {
        rc = hrss__error(err, HRSS_ENOMEM, "SM4-ECB: out of memory");
        goto done;
    }
    c = sm4_ctx(alg_sm4_ecb, key, NULL, 1);
    if (c == NULL || !cipher_update(c, buf, in, full, &n) ||
        !cipher_update(c, buf + n, last, 16, &m) || n + m != full + 16) {
        rc = hrss__ossl_error(err, HRSS_ECRYPTO, "SM4-ECB encryption failed");
        goto done;
    }
    *out = buf;
    buf = NULL;
    if (outlen != NULL)
        *outlen = full + 16;
    rc = HRSS_OK;
done:
    OPENSSL_cleanse(last, sizeof(last));
    EVP_CIPHER_CTX_free(c);
    free(buf);
    return rc;
}

int hrss_sm4_ecb_decrypt(const unsigned char key[HRSS_SM4_KEY_LEN], const void *in, size_t len,
                         unsigned char **out, size_t *outlen, hrss_error *err)
{
    EVP_CIPHER_CTX *c = NULL;
    unsigned char *buf = NULL;
    unsigned int padn, bad;
    size_t n = 0;
    int rc;

    if (key == NULL || out == NULL || (in == NULL && len > 0))
        return hrss__error(err, HRSS_EINVAL, "SM4-ECB: no key, input or output");
    *out = NULL;
    if (len == 0)
        return hrss__error(err, HRSS_EDECRYPT,
                           "SM4-ECB: empty ciphertext (PKCS#7 output is "
                           "at least one block)");
    if (len % 16 != 0)
        return hrss__error(err, HRSS_EDECRYPT,
                           "SM4-ECB: ciphertext length %zu is not a multiple of 16", len);
    if (!algs_ready() || alg_sm4_ecb == NULL)
        return hrss__ossl_error(err, HRSS_ECRYPTO, "SM4-ECB: cipher not available");
    buf = malloc(len);
    if (buf == NULL)
        return hrss__error(err, HRSS_ENOMEM, "SM4-ECB: out of memory");
    c = sm4_ctx(alg_sm4_ecb, key, NULL, 0);
    if (c == NULL || !cipher_update(c, buf, in, len, &n) || n != len) {
        rc = hrss__ossl_error(err, HRSS_ECRYPTO, "SM4-ECB decryption failed");
        goto done;
    }
    /* Check the padding without branching on each byte. */
    padn = buf[len - 1];
    bad = (padn == 0) | (padn > 16);
    for (unsigned int i = 1; i <= 16; i++) {
        unsigned int in_pad = i <= padn;
        bad |= in_pad & (buf[len - i] != padn);
    }
    if (bad) {
        rc = hrss__error(err, HRSS_EDECRYPT,
                         "SM4-ECB: bad PKCS#7 padding (wrong key or "
                         "damaged ciphertext)");
        goto done;
    }
    OPENSSL_cleanse(buf + len - padn, padn);
    *out = buf;
    buf = NULL;
    if (outlen != NULL)
        *outlen = len - padn;
    rc = HRSS_OK;
done:
    EVP_CIPHER_CTX_free(c);
    if (buf != NULL)
        OPENSSL_clear_free(buf, len);
    return rc;
}

/* ---- SM4-GCM (NIST SP 800-38D with a 96-bit IV) ---- */

/* Largest plaintext GCM allows: 2^39 - 256 bits. Below it the 32-bit block counter
 * never wraps, so OpenSSL's 128-bit CTR increment equals GCM's inc32. */
#define GCM_MAX_LEN ((((uint64_t)1) << 36) - 32)

typedef struct gcm_state {
    uint64_t hh, hl; /* H as a big-endian 128-bit number */
    uint64_t yh, yl; /* running GHASH value */
} gcm_state;

static uint64_t load64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void store64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

/* Y = (Y ^ X) * H in GF(2^128), bit by bit with masks: no secret-dependent branch or
 * table index. */
static void ghash_block(gcm_state *g, const unsigned char x[16])
{
    uint64_t xh = g->yh ^ load64(x), xl = g->yl ^ load64(x + 8);
    uint64_t zh = 0, zl = 0, vh = g->hh, vl = g->hl;

    for (int i = 0; i < 128; i++) {
        uint64_t bit = i < 64 ? xh >> (63 - i) : xl >> (127 - i);
        uint64_t mask = 0 - (bit & 1);
        uint64_t carry;
        zh ^= vh & mask;
        zl ^= vl & mask;
        carry = 0 - (vl & 1);
        vl = vl >> 1 | vh << 63;
        vh = (vh >> 1) ^ (carry & 0xe100000000000000ULL);
    }
    g->yh = zh;
    g->yl = zl;
}

/* GHASH over data, zero-padded to a whole block. */
static void ghash_data(gcm_state *g, const unsigned char *p, size_t len)
{
    unsigned char block[16];
    while (len >= 16) {
        ghash_block(g, p);
        p += 16;
        len -= 16;
    }
    if (len > 0) {
        memset(block, 0, sizeof(block));
        memcpy(block, p, len);
        ghash_block(g, block);
    }
}

/*
 * Computes the tag over aad and the ciphertext ct; on encryption (enc) also produces ct
 * from pt first. H = E(K, 0^128), J0 = IV || 0^31 || 1, keystream from inc32(J0).
 */
static int gcm_run(const unsigned char *key, const unsigned char iv[12], const unsigned char *aad,
                   size_t aadlen, const unsigned char *in, size_t len, unsigned char *ctout,
                   int enc, unsigned char tag[16])
{
    static const unsigned char zero[16];
    EVP_CIPHER_CTX *ecb = NULL, *ctr = NULL;
    unsigned char h[16], j0[16], ek0[16], lens[16];
    gcm_state g;
    size_t n = 0;
    int ok = 0;

    memcpy(j0, iv, 12);
    j0[12] = 0;
    j0[13] = 0;
    j0[14] = 0;
    j0[15] = 1;
    ecb = sm4_ctx(alg_sm4_ecb, key, NULL, 1);
    if (ecb == NULL || !cipher_update(ecb, h, zero, 16, &n) || n != 16 ||
        !cipher_update(ecb, ek0, j0, 16, &n) || n != 16)
        goto done;
    g.hh = load64(h);
    g.hl = load64(h + 8);
    g.yh = 0;
    g.yl = 0;
    if (enc && len > 0) {
        j0[15] = 2;
        ctr = sm4_ctx(alg_sm4_ctr, key, j0, 1);
        if (ctr == NULL || !cipher_update(ctr, ctout, in, len, &n) || n != len)
            goto done;
    }
    ghash_data(&g, aad, aadlen);
    ghash_data(&g, enc ? ctout : in, len);
    store64(lens, (uint64_t)aadlen * 8);
    store64(lens + 8, (uint64_t)len * 8);
    ghash_block(&g, lens);
    store64(tag, g.yh);
    store64(tag + 8, g.yl);
    for (int i = 0; i < 16; i++)
        tag[i] ^= ek0[i];
    ok = 1;
done:
    OPENSSL_cleanse(h, sizeof(h));
    OPENSSL_cleanse(ek0, sizeof(ek0));
    OPENSSL_cleanse(&g, sizeof(g));
    EVP_CIPHER_CTX_free(ecb);
    EVP_CIPHER_CTX_free(ctr);
    return ok;
}

int hrss_sm4_gcm_encrypt(const unsigned char key[HRSS_SM4_KEY_LEN], const void *aad, size_t aadlen,
                         const void *in, size_t len, unsigned char **out, size_t *outlen,
                         hrss_error *err)
{
    unsigned char *buf = NULL;
    size_t total;

    if (key == NULL || out == NULL || (in == NULL && len > 0) || (aad == NULL && aadlen > 0))
        return hrss__error(err, HRSS_EINVAL, "SM4-GCM: no key, input or output");
    *out = NULL;
    if ((uint64_t)len > GCM_MAX_LEN || (uint64_t)aadlen > GCM_MAX_LEN ||
        len > SIZE_MAX - HRSS_SM4_GCM_IV_LEN - HRSS_SM4_GCM_TAG_LEN)
        return hrss__error(err, HRSS_ETOOBIG, "SM4-GCM: input larger than GCM allows");
    if (!algs_ready() || alg_sm4_ecb == NULL || alg_sm4_ctr == NULL)
        return hrss__ossl_error(err, HRSS_ECRYPTO, "SM4-GCM: SM4 not available");
    total = HRSS_SM4_GCM_IV_LEN + len + HRSS_SM4_GCM_TAG_LEN;
    buf = malloc(total);
    if (buf == NULL)
        return hrss__error(err, HRSS_ENOMEM, "SM4-GCM: out of memory");
    if (hrss_random_bytes(buf, HRSS_SM4_GCM_IV_LEN) != HRSS_OK) {
        free(buf);
        return hrss__error(err, HRSS_ECRYPTO, "SM4-GCM: random IV failed");
    }
    if (!gcm_run(key, buf, aad, aadlen, in, len, buf + HRSS_SM4_GCM_IV_LEN, 1,
                 buf + HRSS_SM4_GCM_IV_LEN + len)) {
        free(buf);
        return hrss__ossl_error(err, HRSS_ECRYPTO, "SM4-GCM encryption failed");
    }
    *out = buf;
    if (outlen != NULL)
        *outlen = total;
    return HRSS_OK;
}

int hrss_sm4_gcm_decrypt(const unsigned char key[HRSS_SM4_KEY_LEN], const void *aad, size_t aadlen,
                         const void *in, size_t len, unsigned char **out, size_t *outlen,
                         hrss_error *err)
{
    const unsigned char *p = in, *ct;
    EVP_CIPHER_CTX *ctr = NULL;
    unsigned char tag[16], ctrblock[16], *buf = NULL;
    size_t ctlen, n = 0;
    int rc;

    if (key == NULL || out == NULL || (in == NULL && len > 0) || (aad == NULL && aadlen > 0))
        return hrss__error(err, HRSS_EINVAL, "SM4-GCM: no key, input or output");
    *out = NULL;
    if (len < HRSS_SM4_GCM_IV_LEN + HRSS_SM4_GCM_TAG_LEN)
        return hrss__error(err, HRSS_EDECRYPT,
                           "SM4-GCM: %zu bytes, shorter than IV and tag "
                           "(28)",
                           len);
    ctlen = len - HRSS_SM4_GCM_IV_LEN - HRSS_SM4_GCM_TAG_LEN;
    if ((uint64_t)ctlen > GCM_MAX_LEN || (uint64_t)aadlen > GCM_MAX_LEN)
        return hrss__error(err, HRSS_EDECRYPT, "SM4-GCM: input larger than GCM allows");
    if (!algs_ready() || alg_sm4_ecb == NULL || alg_sm4_ctr == NULL)
        return hrss__ossl_error(err, HRSS_ECRYPTO, "SM4-GCM: SM4 not available");
    ct = p + HRSS_SM4_GCM_IV_LEN;
    if (!gcm_run(key, p, aad, aadlen, ct, ctlen, NULL, 0, tag))
        return hrss__ossl_error(err, HRSS_ECRYPTO, "SM4-GCM decryption failed");
    /* Nothing is decrypted before the tag checks out. */
    if (CRYPTO_memcmp(tag, ct + ctlen, HRSS_SM4_GCM_TAG_LEN) != 0)
        return hrss__error(err, HRSS_EDECRYPT,
                           "SM4-GCM: authentication tag mismatch (wrong "
                           "key, AAD or damaged ciphertext)");
    buf = malloc(ctlen + 1);
    if (buf == NULL)
        return hrss__error(err, HRSS_ENOMEM, "SM4-GCM: out of memory");
    if (ctlen > 0) {
        memcpy(ctrblock, p, 12);
        ctrblock[12] = 0;
        ctrblock[13] = 0;
        ctrblock[14] = 0;
        ctrblock[15] = 2;
        ctr = sm4_ctx(alg_sm4_ctr, key, ctrblock, 1);
        if (ctr == NULL || !cipher_update(ctr, buf, ct, ctlen, &n) || n != ctlen) {
            rc = hrss__ossl_error(err, HRSS_ECRYPTO, "SM4-GCM decryption failed");
            goto done;
        }
    }
    *out = buf;
    buf = NULL;
    if (outlen != NULL)
        *outlen = ctlen;
    rc = HRSS_OK;
done:
    EVP_CIPHER_CTX_free(ctr);
    if (buf != NULL)
        OPENSSL_clear_free(buf, ctlen + 1);
    return rc;
}
