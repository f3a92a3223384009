/*
 * fuzz/fuzz_sm2.c - libhrss's own SM2 arithmetic (sm2_field.c, sm2_curve.c behind
 * hrss/crypto.h) against OpenSSL's, on inputs the fuzzer chooses. The first byte picks
 * the case, the second a key; the rest is the case's data:
 *   0 hrss signs, OpenSSL verifies (must accept); the signature with one byte changed
 *     must be judged the same by both
 *   1 OpenSSL signs, hrss verifies (must accept); mutated, both judge alike
 *   2 a signature from the input (DER, or r || s as DER for OpenSSL): both judge alike
 *     (malformed DER, r or s of 0, n or above, wrong lengths)
 *   3 a 65-byte point: hrss's decoder accepts exactly the points OpenSSL finds on the curve
 *   4 hrss encrypts, OpenSSL decrypts to the same message
 *   5 OpenSSL encrypts, hrss decrypts; mutated, both refuse or both give the same text
 *   6 a scalar k: k*G and k*P equal OpenSSL's EC_POINT_mul
 * Any disagreement aborts. Keys are built once: the GM/T 0003.5 example key and another.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include "hrss/crypto.h"
#include "lib/sm2_ec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ID "1234567812345678"
#define NKEYS 2

static hrss_sm2_key *hk[NKEYS];
static EVP_PKEY *ok[NKEYS];
static sm2_pub hpub[NKEYS];
static EC_GROUP *grp;
static int ready;

static void check(int cond)
{
    if (!cond)
        abort();
}

static void setup(void)
{
    static const char *d[NKEYS] = {
        "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8",
        "0123456789abcdeffedcba98765432100123456789abcdeffedcba9876543210"};
    for (int i = 0; i < NKEYS; i++) {
        char *pem = NULL, *pub = NULL;
        size_t len = 0;
        unsigned char point[65];
        size_t n = 0;
        unsigned char *raw = NULL;
        BIO *bio;
        check(hrss_sm2_key_from_raw_hex(d[i], NULL, &hk[i], NULL) == HRSS_OK);
        check(hrss_sm2_key_to_pem(hk[i], 1, &pem, &len) == HRSS_OK);
        bio = BIO_new_mem_buf(pem, (int)len);
        ok[i] = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        check(ok[i] != NULL);
        BIO_free(bio);
        check(hrss_sm2_key_to_raw_hex(hk[i], NULL, &pub) == HRSS_OK);
        check(hrss_hex_decode(pub, strlen(pub), &raw, &n, NULL) == HRSS_OK && n == 65);
        memcpy(point, raw, 65);
        check(hrss__sm2_pub_decode_vartime(&hpub[i], point));
        hrss_free(raw);
        hrss_free(pub);
        hrss_free(pem);
    }
    grp = EC_GROUP_new_by_curve_name(NID_sm2);
    check(grp != NULL);
    ready = 1;
}

/* OpenSSL's verdict on a DER signature: 1 valid, 0 not. */
static int ossl_verify(EVP_PKEY *pk, const uint8_t *msg, size_t len, const uint8_t *sig,
                       size_t siglen)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *p = EVP_PKEY_CTX_new(pk, NULL);
    int rc;
    check(m != NULL && p != NULL && EVP_PKEY_CTX_set1_id(p, ID, 16) == 1);
    EVP_MD_CTX_set_pkey_ctx(m, p);
    check(EVP_DigestVerifyInit(m, NULL, EVP_sm3(), NULL, pk) == 1);
    rc = EVP_DigestVerify(m, sig, siglen, msg, len) == 1;
    EVP_MD_CTX_free(m);
    EVP_PKEY_CTX_free(p);
    ERR_clear_error();
    return rc;
}

static size_t ossl_sign(EVP_PKEY *pk, const uint8_t *msg, size_t len, uint8_t sig[80])
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *p = EVP_PKEY_CTX_new(pk, NULL);
    size_t n = 80;
    check(m != NULL && p != NULL && EVP_PKEY_CTX_set1_id(p, ID, 16) == 1);
    EVP_MD_CTX_set_pkey_ctx(m, p);
    check(EVP_DigestSignInit(m, NULL, EVP_sm3(), NULL, pk) == 1);
    check(EVP_DigestSign(m, sig, &n, msg, len) == 1);
    EVP_MD_CTX_free(m);
    EVP_PKEY_CTX_free(p);
    return n;
}

static int hrss_verdict(int k, const uint8_t *msg, size_t len, hrss_sm2_sig_format fmt,
                        const uint8_t *sig, size_t siglen)
{
    int rc = hrss_sm2_verify(hk[k], NULL, 0, msg, len, fmt, sig, siglen, NULL);
    check(rc == HRSS_OK || rc == HRSS_EBADSIG);
    return rc == HRSS_OK;
}

/* r || s as the DER OpenSSL reads (any values, as integers) */
static size_t raw_to_der(const uint8_t *raw, uint8_t *der)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, 32, NULL), *t = BN_bin2bn(raw + 32, 32, NULL);
    unsigned char *p = der;
    int n;
    check(s != NULL && r != NULL && t != NULL && ECDSA_SIG_set0(s, r, t) == 1);
    n = i2d_ECDSA_SIG(s, &p);
    check(n > 0 && n <= 80);
    ECDSA_SIG_free(s);
    return (size_t)n;
}

static void sign_cases(int op, int k, const uint8_t *in, size_t len)
{
    uint8_t sig[80], *hs = NULL;
    size_t n = 0;
    size_t at = len > 0 ? in[0] : 0;
    if (op == 0) {
        check(hrss_sm2_sign(hk[k], NULL, 0, in, len, HRSS_SM2_SIG_DER, &hs, &n, NULL) == HRSS_OK);
        check(n <= sizeof(sig));
        memcpy(sig, hs, n);
        hrss_free(hs);
        check(ossl_verify(ok[k], in, len, sig, n));
    } else {
        n = ossl_sign(ok[k], in, len, sig);
        check(hrss_verdict(k, in, len, HRSS_SM2_SIG_DER, sig, n));
    }
    sig[at % n] ^= (uint8_t)(1u << (at / n % 8));
    check(hrss_verdict(k, in, len, HRSS_SM2_SIG_DER, sig, n) == ossl_verify(ok[k], in, len, sig, n));
}

static void verify_case(int k, const uint8_t *in, size_t len)
{
    /* in: flag, siglen, sig, message */
    uint8_t der[80];
    size_t siglen, n;
    if (len < 2)
        return;
    siglen = in[1] % 80;
    if (len < 2 + siglen)
        return;
    if (in[0] & 1) {
        int h = hrss_verdict(k, in + 2 + siglen, len - 2 - siglen, HRSS_SM2_SIG_RAW, in + 2, siglen);
        if (siglen != 64) {
            check(!h);
            return;
        }
        n = raw_to_der(in + 2, der);
        check(h == ossl_verify(ok[k], in + 2 + siglen, len - 2 - siglen, der, n));
    } else {
        check(hrss_verdict(k, in + 2 + siglen, len - 2 - siglen, HRSS_SM2_SIG_DER, in + 2, siglen) ==
              ossl_verify(ok[k], in + 2 + siglen, len - 2 - siglen, in + 2, siglen));
    }
}

static void point_case(const uint8_t *in, size_t len)
{
    uint8_t p[65];
    sm2_pub pub;
    EC_POINT *pt;
    int o;
    if (len < 64)
        return;
    p[0] = 0x04;
    memcpy(p + 1, in, 64);
    pt = EC_POINT_new(grp);
    check(pt != NULL);
    o = EC_POINT_oct2point(grp, pt, p, 65, NULL) == 1 && EC_POINT_is_on_curve(grp, pt, NULL) == 1;
    ERR_clear_error();
    check(hrss__sm2_pub_decode_vartime(&pub, p) == o);
    EC_POINT_free(pt);
}

static size_t ossl_decrypt(EVP_PKEY *pk, const uint8_t *ct, size_t len, uint8_t **out)
{
    EVP_PKEY_CTX *p = EVP_PKEY_CTX_new(pk, NULL);
    size_t n = 0;
    *out = NULL;
    check(p != NULL && EVP_PKEY_decrypt_init(p) == 1);
    if (EVP_PKEY_decrypt(p, NULL, &n, ct, len) != 1)
        goto fail;
    *out = malloc(n + 1);
    check(*out != NULL);
    if (EVP_PKEY_decrypt(p, *out, &n, ct, len) != 1) {
        free(*out);
        *out = NULL;
        goto fail;
    }
    EVP_PKEY_CTX_free(p);
    return n;
fail:
    EVP_PKEY_CTX_free(p);
    ERR_clear_error();
    return 0;
}

static void encrypt_cases(int op, int k, const uint8_t *in, size_t len)
{
    uint8_t *ct = NULL, *pt = NULL, *hp = NULL;
    size_t n = 0, m = 0, hn = 0;
    int hrc;
    if (len < 2 || len > 1024)
        return;
    if (op == 4) {
        check(hrss_sm2_encrypt(hk[k], in, len, HRSS_SM2_DER, &ct, &n, NULL) == HRSS_OK);
        m = ossl_decrypt(ok[k], ct, n, &pt);
        check(pt != NULL && m == len && memcmp(pt, in, len) == 0);
        hrss_free(ct);
        free(pt);
        return;
    }
    {
        EVP_PKEY_CTX *p = EVP_PKEY_CTX_new(ok[k], NULL);
        check(p != NULL && EVP_PKEY_encrypt_init(p) == 1 &&
              EVP_PKEY_encrypt(p, NULL, &n, in + 1, len - 1) == 1);
        ct = malloc(n);
        check(ct != NULL && EVP_PKEY_encrypt(p, ct, &n, in + 1, len - 1) == 1);
        EVP_PKEY_CTX_free(p);
        ERR_clear_error();
    }
    hrc = hrss_sm2_decrypt(hk[k], ct, n, HRSS_SM2_DER, &hp, &hn, NULL);
    check(hrc == HRSS_OK && hn == len - 1 && memcmp(hp, in + 1, hn) == 0);
    hrss_free(hp);
    hp = NULL;
    /* one bit changed: both refuse, or both read the same text */
    ct[in[0] % n] ^= (uint8_t)(1u << (in[0] % 8));
    hrc = hrss_sm2_decrypt(hk[k], ct, n, HRSS_SM2_DER, &hp, &hn, NULL);
    check(hrc == HRSS_OK || hrc == HRSS_EDECRYPT);
    m = ossl_decrypt(ok[k], ct, n, &pt);
    if (hrc == HRSS_OK)
        check(pt != NULL && m == hn && memcmp(pt, hp, hn) == 0);
    else
        check(pt == NULL || m == 0);
    hrss_free(hp);
    free(pt);
    free(ct);
}

static void scalar_case(int k, const uint8_t *in, size_t len)
{
    uint8_t kb[32], mine[65], theirs[65];
    uint64_t v[4];
    BIGNUM *bk;
    EC_POINT *r, *p;
    if (len < 32)
        return;
    /* the contract is 1 <= k <= n - 1: reduce, skip 0 */
    hrss__sm2_u256_from_bytes(v, in);
    hrss__sm2_sc_reduce(v, v);
    if ((v[0] | v[1] | v[2] | v[3]) == 0)
        return;
    hrss__sm2_u256_to_bytes(kb, v);
    bk = BN_bin2bn(kb, 32, NULL);
    r = EC_POINT_new(grp);
    p = EC_POINT_new(grp);
    check(bk != NULL && r != NULL && p != NULL);
    check(EC_POINT_mul(grp, r, bk, NULL, NULL, NULL) == 1);
    check(EC_POINT_point2oct(grp, r, POINT_CONVERSION_UNCOMPRESSED, theirs, 65, NULL) == 65);
    check(hrss__sm2_mul_base(mine, kb) == 1 && memcmp(mine, theirs, 65) == 0);
    /* k * P for the key's point */
    {
        uint8_t pt[65];
        pt[0] = 0x04;
        hrss__sm2_fe_to_bytes(pt + 1, hpub[k].p.x);
        hrss__sm2_fe_to_bytes(pt + 33, hpub[k].p.y);
        check(EC_POINT_oct2point(grp, p, pt, 65, NULL) == 1);
    }
    check(EC_POINT_mul(grp, r, NULL, p, bk, NULL) == 1);
    check(EC_POINT_point2oct(grp, r, POINT_CONVERSION_UNCOMPRESSED, theirs, 65, NULL) == 65);
    check(hrss__sm2_mul_point(mine, &hpub[k].p, kb) == 1 && memcmp(mine, theirs, 65) == 0);
    BN_free(bk);
    EC_POINT_free(r);
    EC_POINT_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int op, k;
    if (!ready)
        setup();
    if (size < 2 || size > 4096)
        return 0;
    op = data[0] % 7;
    k = data[1] % NKEYS;
    data += 2;
    size -= 2;
    switch (op) {
    case 0:
    case 1:
        sign_cases(op, k, data, size);
        break;
    case 2:
        verify_case(k, data, size);
        break;
    case 3:
        point_case(data, size);
        break;
    case 4:
    case 5:
        encrypt_cases(op, k, data, size);
        break;
    default:
        scalar_case(k, data, size);
        break;
    }
    return 0;
}
