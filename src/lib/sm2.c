/*
 * lib/sm2.c - the SM2 half of hrss/crypto.h: keys (generation, PEM, raw hex), signatures
 * with SM3 and a user ID (GB/T 32918.2), Z_A, and public-key encryption (GB/T 32918.4) in
 * the three ciphertext layouts peers use. LD/T 6008-2024 7.1.1.1 encrypts bodies with SM2;
 * docs/design.md decision 5 makes C1C3C2 the default and C1C2C3 and GM/T 0009 DER options.
 *
 * Every key, whatever its source, is rebuilt here from d and/or the public point with
 * EVP_PKEY_fromdata on an "SM2" context, after checking the point is on the curve and
 * 1 <= d <= n-2. So a key is always of type SM2 (never a plain "EC" key on the SM2 curve,
 * which OpenSSL would sign with ECDSA), and every later operation can trust it.
 *
 * OpenSSL 3.0 pitfalls handled here: its default SM2 user ID is empty, so the ID is always
 * set (default 1234567812345678); EVP_PKEY_encrypt speaks only GM/T 0009 DER, so raw forms
 * are converted through an ASN.1 template; it refuses to encrypt an empty message, so
 * hrss_sm2_encrypt refuses it too (HRSS_EINVAL) and a ciphertext with an empty C2 is
 * HRSS_EDECRYPT. Raw ciphertexts must carry the 04 prefix of C1.
 *
 * Thread use: an hrss_sm2_key is immutable once built; operations make their own contexts.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "internal.h"

#define SM2_FIELD_LEN 32
#define SM2_POINT_LEN 65   /* 04 || X || Y */
#define SM2_SIG_RAW_LEN 64 /* r || s */
#define SM2_ID_MAX 8191    /* ENTL is the ID length in bits on 16 bits */
#define SM2_PEM_MAX (64 * 1024)

struct hrss_sm2_key {
    EVP_PKEY *pkey; /* type SM2, built by key_build() */
    int has_priv;
    unsigned char pub[SM2_POINT_LEN]; /* uncompressed public point */
};

/* GM/T 0009 SM2 ciphertext: SEQUENCE { x INTEGER, y INTEGER, hash OCTET STRING,
 * ciphertext OCTET STRING }. */
typedef struct sm2_ct_der {
    BIGNUM *x;
    BIGNUM *y;
    ASN1_OCTET_STRING *c3;
    ASN1_OCTET_STRING *c2;
} sm2_ct_der;

/* The ASN.1 item of sm2_ct_der, defined with OpenSSL's template macros at the end. */
static const ASN1_ITEM *sm2_ct_der_it(void);

/* A ciphertext taken apart; c2 points into the caller's input or a decoded sm2_ct_der. */
typedef struct sm2_parts {
    unsigned char x[SM2_FIELD_LEN];
    unsigned char y[SM2_FIELD_LEN];
    unsigned char c3[HRSS_SM3_LEN];
    const unsigned char *c2;
    size_t c2len;
} sm2_parts;

/* ---- keys ---- */

/*
 * Builds a key from d (may be NULL) and an encoded public point (may be NULL when d is
 * given). Checks 1 <= d <= n-2, that the point is on the curve and not infinity, and that
 * both match. d should be a secure BIGNUM: its copy in the parameters is then wiped.
 */
static int key_build(const BIGNUM *d, const unsigned char *pub, size_t publen, hrss_sm2_key **out,
                     hrss_error *err)
{
    EC_GROUP *grp = NULL;
    BN_CTX *bn = NULL;
    BIGNUM *nm1 = NULL;
    EC_POINT *fromd = NULL, *given = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *pkey = NULL;
    hrss_sm2_key *k = NULL;
    unsigned char point[SM2_POINT_LEN];
    int rc = HRSS_ECRYPTO;

    *out = NULL;
    grp = EC_GROUP_new_by_curve_name(NID_sm2);
    bn = BN_CTX_secure_new();
    if (grp == NULL || bn == NULL) {
        rc = hrss__ossl_error(err, HRSS_ECRYPTO, "SM2 key: curve not available");
        goto done;
    }
    if (d != NULL) {
        nm1 = BN_dup(EC_GROUP_get0_order(grp));
        fromd = EC_POINT_new(grp);
        if (nm1 == NULL || fromd == NULL || !BN_sub_word(nm1, 1)) {
            rc = hrss__ossl_error(err, HRSS_ENOMEM, "SM2 key: out of memory");
            goto done;
        }
        if (BN_is_negative(d) || BN_is_zero(d) || BN_cmp(d, nm1) >= 0) {
            rc = hrss__error(err, HRSS_EKEY, "SM2 private key: d out of range [1, n-2]");
            goto done;
        }
        if (!EC_POINT_mul(grp, fromd, d, NULL, NULL, bn)) {
            rc = hrss__ossl_error(err, HRSS_ECRYPTO,
                            "SM2 private key: deriving the public point "
                            "failed");
            goto done;
        }
    }
    if (pub != NULL) {
        given = EC_POINT_new(grp);
        if (given == NULL) {
            rc = hrss__ossl_error(err, HRSS_ENOMEM, "SM2 key: out of memory");
            goto done;
        }
        if (EC_POINT_oct2point(grp, given, pub, publen, bn) != 1 ||
            EC_POINT_is_at_infinity(grp, given) || EC_POINT_is_on_curve(grp, given, bn) != 1) {
            ERR_clear_error();
            rc = hrss__error(err, HRSS_EKEY, "SM2 public key: not a point on the SM2 curve");
            goto done;
        }
        if (fromd != NULL && EC_POINT_cmp(grp, given, fromd, bn) != 0) {
            ERR_clear_error();
            rc = hrss__error(err, HRSS_EKEY,
                             "SM2 key: the public key does not belong to the private key");
            goto done;
        }
    }
    if (given == NULL && fromd == NULL) {
        rc = hrss__error(err, HRSS_EINVAL, "SM2 key: neither private nor public key given");
        goto done;
    }
    if (EC_POINT_point2oct(grp, given != NULL ? given : fromd, POINT_CONVERSION_UNCOMPRESSED, point,
                           sizeof(point), bn) != sizeof(point)) {
        rc = hrss__ossl_error(err, HRSS_ECRYPTO, "SM2 key: encoding the public point failed");
        goto done;
    }

    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, SN_sm2, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) ||
        (d != NULL && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d)) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
        rc = hrss__ossl_error(err, HRSS_ENOMEM, "SM2 key: out of memory");
        goto done;
    }
    pctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, &pkey, d != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                          params) != 1) {
        rc = hrss__ossl_error(err, HRSS_EKEY, "SM2 key: OpenSSL refused the key");
        goto done;
    }
    k = calloc(1, sizeof(*k));
    if (k == NULL) {
        rc = hrss__error(err, HRSS_ENOMEM, "SM2 key: out of memory");
        goto done;
    }
    k->pkey = pkey;
    pkey = NULL;
    k->has_priv = d != NULL;
    memcpy(k->pub, point, sizeof(point));
    *out = k;
    rc = HRSS_OK;
done:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params); /* wipes the secure part holding d */
    OSSL_PARAM_BLD_free(bld);
    EC_POINT_free(given);
    EC_POINT_clear_free(fromd);
    BN_free(nm1);
    BN_CTX_free(bn);
    EC_GROUP_free(grp);
    return rc;
}

/* Rebuilds an SM2 key from a key OpenSSL decoded or generated (type SM2, or EC on the SM2
 * curve), taking d when it has one. */
static int key_from_pkey(EVP_PKEY *src, hrss_sm2_key **out, hrss_error *err)
{
    char group[64];
    unsigned char pub[2 * SM2_FIELD_LEN + 1 + 8];
    size_t publen = 0;
    BIGNUM *d = NULL;
    int rc;

    *out = NULL;
    if (!EVP_PKEY_is_a(src, "SM2") && !EVP_PKEY_is_a(src, "EC")) {
        const char *type = EVP_PKEY_get0_type_name(src);
        return hrss__error(err, HRSS_EKEY, "key of type %s, not an SM2 key",
                           type != NULL ? type : "unknown");
    }
    if (EVP_PKEY_get_utf8_string_param(src, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       NULL) != 1) {
        ERR_clear_error();
        return hrss__error(err, HRSS_EKEY,
                           "EC key without a named curve: only SM2 is "
                           "accepted");
    }
    if (strcmp(group, SN_sm2) != 0)
        return hrss__error(err, HRSS_EKEY, "key on curve %.40s, not SM2", group);
    if (EVP_PKEY_get_octet_string_param(src, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &publen) !=
        1)
        publen = 0; /* derived from d below */
    d = BN_secure_new();
    if (d == NULL)
        return hrss__ossl_error(err, HRSS_ENOMEM, "SM2 key: out of memory");
    if (EVP_PKEY_get_bn_param(src, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1) {
        BN_clear_free(d);
        d = NULL;
    }
    ERR_clear_error();
    if (d == NULL && publen == 0)
        return hrss__error(err, HRSS_EKEY, "SM2 key: neither private nor public part");
    rc = key_build(d, publen > 0 ? pub : NULL, publen, out, err);
    BN_clear_free(d);
    return rc;
}

int hrss_sm2_key_generate(hrss_sm2_key **out, hrss_error *err)
{
    EVP_PKEY *pk;
    int rc;

    if (out == NULL)
        return hrss__error(err, HRSS_EINVAL, "SM2 keygen: no output");
    *out = NULL;
    pk = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
    if (pk == NULL)
        return hrss__ossl_error(err, HRSS_ECRYPTO, "SM2 key generation failed");
    rc = key_from_pkey(pk, out, err);
    EVP_PKEY_free(pk);
    return rc;
}

/* Never prompt for a passphrase: an encrypted PEM simply fails to load. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

int hrss_sm2_key_from_pem(const char *pem, size_t len, hrss_sm2_key **out, hrss_error *err)
{
    BIO *bio = NULL;
    EVP_PKEY *pk = NULL;
    int rc;

    if (out == NULL || pem == NULL)
        return hrss__error(err, HRSS_EINVAL, "SM2 PEM: no input or output");
    *out = NULL;
    if (len > SM2_PEM_MAX)
        return hrss__error(err, HRSS_ETOOBIG, "SM2 PEM: %zu bytes, at most %d", len, SM2_PEM_MAX);
    if (memmem(pem, len, "ENCRYPTED", 9) != NULL)
        return hrss__error(err, HRSS_EKEY,
                           "SM2 PEM: encrypted private keys are not supported "
                           "(decrypt it with 'openssl pkey' first)");
    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        return hrss__ossl_error(err, HRSS_ENOMEM, "SM2 PEM: out of memory");
    pk = PEM_read_bio_PrivateKey_ex(bio, NULL, no_passphrase, NULL, NULL, NULL);
    if (pk == NULL) {
        ERR_clear_error();
        BIO_free(bio);
        bio = BIO_new_mem_buf(pem, (int)len);
        if (bio == NULL)
            return hrss__ossl_error(err, HRSS_ENOMEM, "SM2 PEM: out of memory");
        pk = PEM_read_bio_PUBKEY_ex(bio, NULL, no_passphrase, NULL, NULL, NULL);
    }
    if (pk == NULL) {
        rc = hrss__ossl_error(err, HRSS_EKEY,
                        "SM2 PEM: no PKCS#8 or SEC1 private key and no "
                        "SubjectPublicKeyInfo public key found");
        goto done;
    }
    rc = key_from_pkey(pk, out, err);
done:
    EVP_PKEY_free(pk);
    BIO_free(bio);
    return rc;
}

/* d as 32 big-endian bytes (the key must have a private part). */
static int sm2_priv_bytes(const hrss_sm2_key *k, unsigned char out[SM2_FIELD_LEN])
{
    BIGNUM *d = BN_secure_new();
    int rc = HRSS_ECRYPTO;

    if (d != NULL && EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 &&
        BN_bn2binpad(d, out, SM2_FIELD_LEN) == SM2_FIELD_LEN)
        rc = HRSS_OK;
    BN_clear_free(d);
    ERR_clear_error();
    return rc;
}

/*
 * Writes the private key as PKCS#8 PEM whose ECPrivateKey (RFC 5915) carries the [0]
 * parameters field (namedCurve SM2) and the [1] public key. OpenSSL leaves [0] out inside
 * PKCS#8 (the AlgorithmIdentifier names the curve already), but RFC 5915 says to include
 * it and GmSSL refuses keys without it. Every field has a fixed length, so the DER is
 * assembled from a template: the header bytes below, d, then 04 || X || Y.
 */
static int pkcs8_write(BIO *bio, const hrss_sm2_key *k)
{
    static const unsigned char head[] = {
        0x30, 0x81, 0x93,                                     /* PrivateKeyInfo, 147 bytes */
        0x02, 0x01, 0x00,                                     /* version 0 */
        0x30, 0x13,                                           /* AlgorithmIdentifier */
        0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, /* id-ecPublicKey */
        0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d, /* sm2 */
        0x04, 0x79,                                           /* OCTET STRING, 121 bytes */
        0x30, 0x77,                                           /* ECPrivateKey */
        0x02, 0x01, 0x01,                                     /* version 1 */
        0x04, 0x20,                                           /* privateKey, 32 bytes */
    };
    static const unsigned char mid[] = {
        0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d, /* [0] sm2 */
        0xa1, 0x44, 0x03, 0x42, 0x00, /* [1] BIT STRING, 66 bytes, no unused bits */
    };
    unsigned char der[sizeof(head) + SM2_FIELD_LEN + sizeof(mid) + SM2_POINT_LEN];
    int rc = HRSS_ECRYPTO;

    memcpy(der, head, sizeof(head));
    if (sm2_priv_bytes(k, der + sizeof(head)) != HRSS_OK)
        goto done;
    memcpy(der + sizeof(head) + SM2_FIELD_LEN, mid, sizeof(mid));
    memcpy(der + sizeof(head) + SM2_FIELD_LEN + sizeof(mid), k->pub, SM2_POINT_LEN);
    if (PEM_write_bio(bio, "PRIVATE KEY", "", der, (long)sizeof(der)) > 0)
        rc = HRSS_OK;
done:
    OPENSSL_cleanse(der, sizeof(der));
    return rc;
}

int hrss_sm2_key_to_pem(const hrss_sm2_key *k, int private_part, char **out, size_t *outlen)
{
    BIO *bio = NULL;
    char *data = NULL, *s;
    long n;
    int rc = HRSS_ECRYPTO;

    if (k == NULL || out == NULL)
        return HRSS_EINVAL;
    *out = NULL;
    if (private_part && !k->has_priv)
        return HRSS_EKEY;
    /* The private PEM goes through a buffer that is wiped when freed. */
    bio = BIO_new(private_part ? BIO_s_secmem() : BIO_s_mem());
    if (bio == NULL) {
        rc = HRSS_ENOMEM;
        goto done;
    }
    if (private_part ? pkcs8_write(bio, k) != HRSS_OK : PEM_write_bio_PUBKEY(bio, k->pkey) != 1)
        goto done;
    n = BIO_get_mem_data(bio, &data);
    if (n <= 0 || data == NULL)
        goto done;
    s = malloc((size_t)n + 1);
    if (s == NULL) {
        rc = HRSS_ENOMEM;
        goto done;
    }
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    *out = s;
    if (outlen != NULL)
        *outlen = (size_t)n;
    rc = HRSS_OK;
done:
    ERR_clear_error();
    BIO_free(bio);
    return rc;
}

/* Decodes exactly want bytes of hex (what names the field in messages); HRSS_EKEY else. */
static int key_hex(const char *hex, size_t want, const char *what, unsigned char *buf,
                   hrss_error *err)
{
    unsigned char *raw = NULL;
    size_t len = strnlen(hex, 2 * want + 1), rawlen = 0;
    if (len != 2 * want)
        return hrss__error(err, HRSS_EKEY, "%s: %s%zu hex digits, need %zu", what,
                           len > 2 * want ? "more than " : "", len > 2 * want ? 2 * want : len,
                           2 * want);
    if (hrss_hex_decode(hex, len, &raw, &rawlen, NULL) != HRSS_OK || rawlen != want) {
        free(raw);
        return hrss__error(err, HRSS_EKEY, "%s: not hex", what);
    }
    memcpy(buf, raw, want);
    OPENSSL_cleanse(raw, rawlen);
    free(raw);
    return HRSS_OK;
}

int hrss_sm2_key_from_raw_hex(const char *priv_hex, const char *pub_hex, hrss_sm2_key **out,
                              hrss_error *err)
{
    unsigned char dbuf[SM2_FIELD_LEN], point[SM2_POINT_LEN];
    BIGNUM *d = NULL;
    int rc;

    if (out == NULL)
        return hrss__error(err, HRSS_EINVAL, "SM2 raw key: no output");
    *out = NULL;
    if (priv_hex == NULL && pub_hex == NULL)
        return hrss__error(err, HRSS_EINVAL, "SM2 raw key: neither private nor public key");
    if (priv_hex != NULL) {
        rc = key_hex(priv_hex, SM2_FIELD_LEN, "SM2 private key", dbuf, err);
        if (rc != HRSS_OK)
            goto done;
        d = BN_secure_new();
        if (d == NULL || BN_bin2bn(dbuf, sizeof(dbuf), d) == NULL) {
            rc = hrss__ossl_error(err, HRSS_ENOMEM, "SM2 raw key: out of memory");
            goto done;
        }
    }
    if (pub_hex != NULL) {
        rc = key_hex(pub_hex, SM2_POINT_LEN, "SM2 public key (04 || X || Y)", point, err);
        if (rc != HRSS_OK)
            goto done;
        if (point[0] != 0x04) {
            rc = hrss__error(err, HRSS_EKEY,
                             "SM2 public key: must start with 04 (uncompressed "
                             "point), got %02x",
                             point[0]);
            goto done;
        }
    }
    rc = key_build(d, pub_hex != NULL ? point : NULL, sizeof(point), out, err);
done:
    OPENSSL_cleanse(dbuf, sizeof(dbuf));
    BN_clear_free(d);
    return rc;
}

int hrss_sm2_key_to_raw_hex(const hrss_sm2_key *k, char **priv_hex, char **pub_hex)
{
    unsigned char dbuf[SM2_FIELD_LEN];
    char *ph = NULL;
    int rc = HRSS_OK;

    if (k == NULL)
        return HRSS_EINVAL;
    if (priv_hex != NULL)
        *priv_hex = NULL;
    if (pub_hex != NULL)
        *pub_hex = NULL;
    if (priv_hex != NULL && k->has_priv) {
        rc = sm2_priv_bytes(k, dbuf);
        if (rc != HRSS_OK)
            goto done;
        rc = hrss_hex_encode(dbuf, sizeof(dbuf), &ph, NULL);
        if (rc != HRSS_OK)
            goto done;
    }
    if (pub_hex != NULL) {
        rc = hrss_hex_encode(k->pub, sizeof(k->pub), pub_hex, NULL);
        if (rc != HRSS_OK)
            goto done;
    }
    if (priv_hex != NULL) {
        *priv_hex = ph;
        ph = NULL;
    }
done:
    if (ph != NULL) {
        OPENSSL_cleanse(ph, 2 * SM2_FIELD_LEN);
        free(ph);
    }
    OPENSSL_cleanse(dbuf, sizeof(dbuf));
    return rc;
}

int hrss_sm2_key_has_private(const hrss_sm2_key *k)
{
    return k != NULL && k->has_priv;
}

void hrss_sm2_key_free(hrss_sm2_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    OPENSSL_cleanse(k, sizeof(*k));
    free(k);
}

/* ---- signatures ---- */

static int check_id(const char **id, size_t *idlen, hrss_error *err)
{
    if (*id == NULL) {
        *id = HRSS_SM2_DEFAULT_ID;
        *idlen = sizeof(HRSS_SM2_DEFAULT_ID) - 1;
    }
    if (*idlen > SM2_ID_MAX)
        return hrss__error(err, HRSS_EINVAL, "SM2 user ID: %zu bytes, at most %d", *idlen,
                           SM2_ID_MAX);
    return HRSS_OK;
}

/* A digest-sign or digest-verify context for SM2 with SM3 and the user ID. The pkey
 * context stays the caller's to free, after the md context. */
static int sigctx_new(const hrss_sm2_key *k, const char *id, size_t idlen, int sign,
                      EVP_MD_CTX **mctx, EVP_PKEY_CTX **pctx, hrss_error *err)
{
    *mctx = EVP_MD_CTX_new();
    *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    if (*mctx == NULL || *pctx == NULL)
        return hrss__ossl_error(err, HRSS_ENOMEM, "SM2: out of memory");
    if (EVP_PKEY_CTX_set1_id(*pctx, id, (int)idlen) != 1)
        return hrss__ossl_error(err, HRSS_ECRYPTO, "SM2: setting the user ID failed");
    EVP_MD_CTX_set_pkey_ctx(*mctx, *pctx);
    if ((sign ? EVP_DigestSignInit_ex(*mctx, NULL, "SM3", NULL, NULL, k->pkey, NULL)
              : EVP_DigestVerifyInit_ex(*mctx, NULL, "SM3", NULL, NULL, k->pkey, NULL)) != 1)
        return hrss__ossl_error(err, HRSS_ECRYPTO, "SM2: SM2-with-SM3 not available");
    return HRSS_OK;
}

int hrss_sm2_sign(const hrss_sm2_key *k, const char *id, size_t idlen, const void *msg, size_t len,
                  hrss_sm2_sig_format fmt, unsigned char **sig, size_t *siglen, hrss_error *err)
{
    EVP_MD_CTX *mctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    ECDSA_SIG *es = NULL;
    unsigned char *der = NULL, *raw = NULL;
    size_t derlen = 0;
    int rc;

    if (k == NULL || sig == NULL || (msg == NULL && len > 0) ||
        (fmt != HRSS_SM2_SIG_DER && fmt != HRSS_SM2_SIG_RAW))
        return hrss__error(err, HRSS_EINVAL, "SM2 sign: bad arguments");
    *sig = NULL;
    if (!k->has_priv)
        return hrss__error(err, HRSS_EKEY, "SM2 sign: the key has no private part");
    rc = check_id(&id, &idlen, err);
    if (rc != HRSS_OK)
        return rc;
    rc = sigctx_new(k, id, idlen, 1, &mctx, &pctx, err);
    if (rc != HRSS_OK)
        goto done;
    if (EVP_DigestSign(mctx, NULL, &derlen, msg, len) != 1 || derlen == 0) {
        rc = hrss__ossl_error(err, HRSS_ECRYPTO, "SM2 sign failed");
        goto done;
    }
    der = malloc(derlen);
    if (der == NULL) {
        rc = hrss__error(err, HRSS_ENOMEM, "SM2 sign: out of memory");
        goto done;
    }
    if (EVP_DigestSign(mctx, der, &derlen, msg != NULL ? msg : (const void *)"", len) != 1) {
        rc = hrss__ossl_error(err, HRSS_ECRYPTO, "SM2 sign failed");
        goto done;
    }
    if (fmt == HRSS_SM2_SIG_RAW) {
        const unsigned char *p = der;
        const BIGNUM *r, *s;
        es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
        raw = malloc(SM2_SIG_RAW_LEN);
        if (es == NULL || raw == NULL) {
            rc = hrss__ossl_error(err, HRSS_ENOMEM, "SM2 sign: out of memory");
            goto done;
        }
        ECDSA_SIG_get0(es, &r, &s);
        if (BN_bn2binpad(r, raw, SM2_FIELD_LEN) != SM2_FIELD_LEN ||
            BN_bn2binpad(s, raw + SM2_FIELD_LEN, SM2_FIELD_LEN) != SM2_FIELD_LEN) {
            rc = hrss__ossl_error(err, HRSS_ECRYPTO, "SM2 sign: r or s longer than 32 bytes");
            goto done;
        }
        *sig = raw;
        raw = NULL;
        derlen = SM2_SIG_RAW_LEN;
    } else {
        *sig = der;
        der = NULL;
    }
    if (siglen != NULL)
        *siglen = derlen;
    rc = HRSS_OK;
done:
    ECDSA_SIG_free(es);
    free(der);
    free(raw);
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_CTX_free(pctx);
    return rc;
}

/* The DER form of a signature if it is a well-formed one (strict DER, r and s of at most
 * 32 bytes); NULL otherwise. Free with OPENSSL_free. */
static unsigned char *sig_to_der(hrss_sm2_sig_format fmt, const unsigned char *sig, size_t siglen,
                                 int *derlen)
{
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *der = NULL;
    int n = 0;

    if (fmt == HRSS_SM2_SIG_RAW) {
        if (siglen != SM2_SIG_RAW_LEN)
            return NULL;
        es = ECDSA_SIG_new();
        r = BN_bin2bn(sig, SM2_FIELD_LEN, NULL);
        s = BN_bin2bn(sig + SM2_FIELD_LEN, SM2_FIELD_LEN, NULL);
        if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
            BN_free(r);
            BN_free(s);
            goto done;
        }
    } else {
        const unsigned char *p = sig;
        if (siglen == 0 || siglen > 80)
            return NULL;
        es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
        if (es == NULL || p != sig + siglen)
            goto done;
    }
    n = i2d_ECDSA_SIG(es, &der);
    if (n <= 0) {
        der = NULL;
        goto done;
    }
    /* Only the one DER encoding is accepted (no BER, no padding, no trailing bytes). */
    if (fmt == HRSS_SM2_SIG_DER && ((size_t)n != siglen || memcmp(der, sig, siglen) != 0)) {
        OPENSSL_free(der);
        der = NULL;
        goto done;
    }
    *derlen = n;
done:
    ECDSA_SIG_free(es);
    ERR_clear_error();
    return der;
}

int hrss_sm2_verify(const hrss_sm2_key *k, const char *id, size_t idlen, const void *msg,
                    size_t len, hrss_sm2_sig_format fmt, const unsigned char *sig, size_t siglen,
                    hrss_error *err)
{
    EVP_MD_CTX *mctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *der = NULL;
    int derlen = 0, rc;

    if (k == NULL || (msg == NULL && len > 0) || (sig == NULL && siglen > 0) ||
        (fmt != HRSS_SM2_SIG_DER && fmt != HRSS_SM2_SIG_RAW))
        return hrss__error(err, HRSS_EINVAL, "SM2 verify: bad arguments");
    rc = check_id(&id, &idlen, err);
    if (rc != HRSS_OK)
        return rc;
    der = sig == NULL ? NULL : sig_to_der(fmt, sig, siglen, &derlen);
    if (der == NULL)
        return hrss__error(err, HRSS_EBADSIG, "SM2 verify: malformed %s signature (%zu bytes)",
                           fmt == HRSS_SM2_SIG_RAW ? "r||s" : "DER", siglen);
    rc = sigctx_new(k, id, idlen, 0, &mctx, &pctx, err);
    if (rc != HRSS_OK)
        goto done;
    if (EVP_DigestVerify(mctx, der, (size_t)derlen, msg != NULL ? msg : (const void *)"", len) !=
        1) {
        ERR_clear_error();
        rc = hrss__error(err, HRSS_EBADSIG, "SM2 verify: signature mismatch");
        goto done;
    }
    rc = HRSS_OK;
done:
    OPENSSL_free(der);
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_CTX_free(pctx);
    return rc;
}

int hrss_sm2_za(const hrss_sm2_key *k, const char *id, size_t idlen,
                unsigned char out[HRSS_SM3_LEN], hrss_error *err)
{
    EC_GROUP *grp = NULL;
    BIGNUM *p = NULL, *a = NULL, *b = NULL, *gx = NULL, *gy = NULL;
    hrss_sm3_ctx *h = NULL;
    unsigned char entl[2], field[4][SM2_FIELD_LEN];
    int rc;

    if (k == NULL || out == NULL)
        return hrss__error(err, HRSS_EINVAL, "SM2 Z_A: bad arguments");
    rc = check_id(&id, &idlen, err);
    if (rc != HRSS_OK)
        return rc;
    grp = EC_GROUP_new_by_curve_name(NID_sm2);
    p = BN_new();
    a = BN_new();
    b = BN_new();
    gx = BN_new();
    gy = BN_new();
    h = hrss_sm3_new();
    if (grp == NULL || p == NULL || a == NULL || b == NULL || gx == NULL || gy == NULL ||
        h == NULL) {
        rc = hrss__ossl_error(err, HRSS_ENOMEM, "SM2 Z_A: out of memory");
        goto done;
    }
    if (!EC_GROUP_get_curve(grp, p, a, b, NULL) ||
        !EC_POINT_get_affine_coordinates(grp, EC_GROUP_get0_generator(grp), gx, gy, NULL) ||
        BN_bn2binpad(a, field[0], SM2_FIELD_LEN) != SM2_FIELD_LEN ||
        BN_bn2binpad(b, field[1], SM2_FIELD_LEN) != SM2_FIELD_LEN ||
        BN_bn2binpad(gx, field[2], SM2_FIELD_LEN) != SM2_FIELD_LEN ||
        BN_bn2binpad(gy, field[3], SM2_FIELD_LEN) != SM2_FIELD_LEN) {
        rc = hrss__ossl_error(err, HRSS_ECRYPTO, "SM2 Z_A: curve parameters not available");
        goto done;
    }
    /* Z_A = SM3(ENTL_A || ID_A || a || b || xG || yG || xA || yA), ENTL in bits. */
    entl[0] = (unsigned char)((idlen * 8) >> 8);
    entl[1] = (unsigned char)(idlen * 8);
    if (hrss_sm3_update(h, entl, 2) != HRSS_OK || hrss_sm3_update(h, id, idlen) != HRSS_OK ||
        hrss_sm3_update(h, field, sizeof(field)) != HRSS_OK ||
        hrss_sm3_update(h, k->pub + 1, 2 * SM2_FIELD_LEN) != HRSS_OK ||
        hrss_sm3_final(h, out) != HRSS_OK) {
        rc = hrss__error(err, HRSS_ECRYPTO, "SM2 Z_A: SM3 failed");
        goto done;
    }
    rc = HRSS_OK;
done:
    hrss_sm3_free(h);
    BN_free(p);
    BN_free(a);
    BN_free(b);
    BN_free(gx);
    BN_free(gy);
    EC_GROUP_free(grp);
    return rc;
}

/* ---- encryption ---- */

/* Encodes parts as GM/T 0009 DER into a malloc'd buffer. */
static int parts_to_der(const sm2_parts *pt, unsigned char **out, size_t *outlen)
{
    sm2_ct_der *ct = NULL;
    unsigned char *buf = NULL, *q;
    int n, rc = HRSS_ENOMEM;

    if (pt->c2len > INT_MAX - 256)
        return HRSS_ETOOBIG;
    ct = (sm2_ct_der *)ASN1_item_new(ASN1_ITEM_rptr(sm2_ct_der));
    if (ct == NULL)
        goto done;
    if (ct->c3 == NULL)
        ct->c3 = ASN1_OCTET_STRING_new();
    if (ct->c2 == NULL)
        ct->c2 = ASN1_OCTET_STRING_new();
    if (ct->c3 == NULL || ct->c2 == NULL)
        goto done;
    ct->x = BN_bin2bn(pt->x, SM2_FIELD_LEN, ct->x);
    ct->y = BN_bin2bn(pt->y, SM2_FIELD_LEN, ct->y);
    if (ct->x == NULL || ct->y == NULL || !ASN1_OCTET_STRING_set(ct->c3, pt->c3, HRSS_SM3_LEN) ||
        !ASN1_OCTET_STRING_set(ct->c2, pt->c2, (int)pt->c2len))
        goto done;
    n = ASN1_item_i2d((ASN1_VALUE *)ct, NULL, ASN1_ITEM_rptr(sm2_ct_der));
    if (n <= 0) {
        rc = HRSS_ECRYPTO;
        goto done;
    }
    buf = malloc((size_t)n);
    if (buf == NULL)
        goto done;
    q = buf;
    if (ASN1_item_i2d((ASN1_VALUE *)ct, &q, ASN1_ITEM_rptr(sm2_ct_der)) != n) {
        rc = HRSS_ECRYPTO;
        goto done;
    }
    *out = buf;
    buf = NULL;
    *outlen = (size_t)n;
    rc = HRSS_OK;
done:
    free(buf);
    ASN1_item_free((ASN1_VALUE *)ct, ASN1_ITEM_rptr(sm2_ct_der));
    ERR_clear_error();
    return rc;
}

/* Takes a GM/T 0009 ciphertext apart; *holder keeps the bytes pt->c2 points into. */
static int parts_from_der(const unsigned char *in, size_t len, sm2_parts *pt, sm2_ct_der **holder,
                          hrss_error *err)
{
    const unsigned char *p = in;
    sm2_ct_der *ct;

    *holder = NULL;
    if (len > LONG_MAX)
        return hrss__error(err, HRSS_EDECRYPT, "SM2 ciphertext (DER): too large");
    ct = (sm2_ct_der *)ASN1_item_d2i(NULL, &p, (long)len, ASN1_ITEM_rptr(sm2_ct_der));
    ERR_clear_error();
    if (ct == NULL || p != in + len) {
        ASN1_item_free((ASN1_VALUE *)ct, ASN1_ITEM_rptr(sm2_ct_der));
        return hrss__error(err, HRSS_EDECRYPT,
                           "SM2 ciphertext: not a GM/T 0009 DER SEQUENCE "
                           "{x, y, hash, ciphertext}%s",
                           ct != NULL ? " (trailing bytes)" : "");
    }
    *holder = ct;
    if (BN_is_negative(ct->x) || BN_is_negative(ct->y) ||
        BN_bn2binpad(ct->x, pt->x, SM2_FIELD_LEN) != SM2_FIELD_LEN ||
        BN_bn2binpad(ct->y, pt->y, SM2_FIELD_LEN) != SM2_FIELD_LEN)
        return hrss__error(err, HRSS_EDECRYPT,
                           "SM2 ciphertext: C1 coordinate longer than 32 "
                           "bytes or negative");
    if (ASN1_STRING_length(ct->c3) != HRSS_SM3_LEN)
        return hrss__error(err, HRSS_EDECRYPT, "SM2 ciphertext: hash C3 of %d bytes, need 32",
                           ASN1_STRING_length(ct->c3));
    memcpy(pt->c3, ASN1_STRING_get0_data(ct->c3), HRSS_SM3_LEN);
    pt->c2 = ASN1_STRING_get0_data(ct->c2);
    pt->c2len = (size_t)ASN1_STRING_length(ct->c2);
    return HRSS_OK;
}

/* Takes a raw C1C3C2 or C1C2C3 ciphertext apart (C1 = 04 || X || Y). */
static int parts_from_raw(const unsigned char *in, size_t len, hrss_sm2_ct_format fmt,
                          sm2_parts *pt, hrss_error *err)
{
    const char *name = fmt == HRSS_SM2_C1C3C2 ? "C1C3C2" : "C1C2C3";
    if (len < SM2_POINT_LEN + HRSS_SM3_LEN)
        return hrss__error(err, HRSS_EDECRYPT,
                           "SM2 ciphertext (%s): %zu bytes, shorter than "
                           "C1 and C3 (97)",
                           name, len);
    if (in[0] != 0x04)
        return hrss__error(err, HRSS_EDECRYPT,
                           "SM2 ciphertext (%s): C1 must start with 04 "
                           "(uncompressed point), got %02x",
                           name, in[0]);
    memcpy(pt->x, in + 1, SM2_FIELD_LEN);
    memcpy(pt->y, in + 1 + SM2_FIELD_LEN, SM2_FIELD_LEN);
    pt->c2len = len - SM2_POINT_LEN - HRSS_SM3_LEN;
    if (fmt == HRSS_SM2_C1C3C2) {
        memcpy(pt->c3, in + SM2_POINT_LEN, HRSS_SM3_LEN);
        pt->c2 = in + SM2_POINT_LEN + HRSS_SM3_LEN;
    } else {
        pt->c2 = in + SM2_POINT_LEN;
        memcpy(pt->c3, in + SM2_POINT_LEN + pt->c2len, HRSS_SM3_LEN);
    }
    return HRSS_OK;
}

static int parts_to_raw(const sm2_parts *pt, hrss_sm2_ct_format fmt, unsigned char **out,
                        size_t *outlen)
{
    size_t n = SM2_POINT_LEN + HRSS_SM3_LEN + pt->c2len;
    unsigned char *buf = malloc(n);
    if (buf == NULL)
        return HRSS_ENOMEM;
    buf[0] = 0x04;
    memcpy(buf + 1, pt->x, SM2_FIELD_LEN);
    memcpy(buf + 1 + SM2_FIELD_LEN, pt->y, SM2_FIELD_LEN);
    if (fmt == HRSS_SM2_C1C3C2) {
        memcpy(buf + SM2_POINT_LEN, pt->c3, HRSS_SM3_LEN);
        memcpy(buf + SM2_POINT_LEN + HRSS_SM3_LEN, pt->c2, pt->c2len);
    } else {
        memcpy(buf + SM2_POINT_LEN, pt->c2, pt->c2len);
        memcpy(buf + SM2_POINT_LEN + pt->c2len, pt->c3, HRSS_SM3_LEN);
    }
    *out = buf;
    *outlen = n;
    return HRSS_OK;
}

static int ct_format_ok(hrss_sm2_ct_format fmt)
{
    return fmt == HRSS_SM2_C1C3C2 || fmt == HRSS_SM2_C1C2C3 || fmt == HRSS_SM2_DER;
}

int hrss_sm2_encrypt(const hrss_sm2_key *k, const void *in, size_t len, hrss_sm2_ct_format fmt,
                     unsigned char **out, size_t *outlen, hrss_error *err)
{
    EVP_PKEY_CTX *pctx = NULL;
    sm2_ct_der *holder = NULL;
    sm2_parts pt;
    unsigned char *der = NULL;
    size_t derlen = 0;
    int rc;

    if (k == NULL || out == NULL || (in == NULL && len > 0) || !ct_format_ok(fmt))
        return hrss__error(err, HRSS_EINVAL, "SM2 encrypt: bad arguments");
    *out = NULL;
    if (len == 0)
        return hrss__error(err, HRSS_EINVAL,
                           "SM2 encrypt: empty message (SM2 needs at least "
                           "one byte)");
    if (len > INT_MAX - 256)
        return hrss__error(err, HRSS_ETOOBIG, "SM2 encrypt: message too large");
    pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    if (pctx == NULL || EVP_PKEY_encrypt_init(pctx) != 1 ||
        EVP_PKEY_encrypt(pctx, NULL, &derlen, in, len) != 1) {
        rc = hrss__ossl_error(err, HRSS_ECRYPTO, "SM2 encrypt failed");
        goto done;
    }
    der = malloc(derlen);
    if (der == NULL) {
        rc = hrss__error(err, HRSS_ENOMEM, "SM2 encrypt: out of memory");
        goto done;
    }
    if (EVP_PKEY_encrypt(pctx, der, &derlen, in, len) != 1) {
        rc = hrss__ossl_error(err, HRSS_ECRYPTO, "SM2 encrypt failed");
        goto done;
    }
    if (fmt == HRSS_SM2_DER) {
        *out = der;
        der = NULL;
        if (outlen != NULL)
            *outlen = derlen;
        rc = HRSS_OK;
        goto done;
    }
    rc = parts_from_der(der, derlen, &pt, &holder, err);
    if (rc != HRSS_OK) {
        rc = hrss__error(err, HRSS_ECRYPTO, "SM2 encrypt: OpenSSL's ciphertext did not parse");
        goto done;
    }
    rc = parts_to_raw(&pt, fmt, out, &derlen);
    if (rc != HRSS_OK) {
        rc = hrss__error(err, rc, "SM2 encrypt: out of memory");
        goto done;
    }
    if (outlen != NULL)
        *outlen = derlen;
done:
    ASN1_item_free((ASN1_VALUE *)holder, ASN1_ITEM_rptr(sm2_ct_der));
    free(der);
    EVP_PKEY_CTX_free(pctx);
    return rc;
}

int hrss_sm2_decrypt(const hrss_sm2_key *k, const void *in, size_t len, hrss_sm2_ct_format fmt,
                     unsigned char **out, size_t *outlen, hrss_error *err)
{
    EVP_PKEY_CTX *pctx = NULL;
    sm2_ct_der *holder = NULL;
    sm2_parts pt;
    unsigned char *der = NULL, *buf = NULL;
    size_t derlen = 0, n = 0, bufsize = 0;
    int rc;

    if (k == NULL || out == NULL || (in == NULL && len > 0) || !ct_format_ok(fmt))
        return hrss__error(err, HRSS_EINVAL, "SM2 decrypt: bad arguments");
    *out = NULL;
    if (!k->has_priv)
        return hrss__error(err, HRSS_EKEY, "SM2 decrypt: the key has no private part");
    if (len > INT_MAX - 256)
        return hrss__error(err, HRSS_EDECRYPT, "SM2 decrypt: ciphertext too large");
    rc = fmt == HRSS_SM2_DER ? parts_from_der(in, len, &pt, &holder, err)
                             : parts_from_raw(in, len, fmt, &pt, err);
    if (rc != HRSS_OK)
        goto done;
    if (pt.c2len == 0) {
        rc = hrss__error(err, HRSS_EDECRYPT, "SM2 ciphertext: empty C2");
        goto done;
    }
    /* OpenSSL gets one canonical DER form whatever came in. */
    rc = parts_to_der(&pt, &der, &derlen);
    if (rc != HRSS_OK) {
        rc = hrss__error(err, rc, "SM2 decrypt: re-encoding the ciphertext failed");
        goto done;
    }
    pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    if (pctx == NULL || EVP_PKEY_decrypt_init(pctx) != 1 ||
        EVP_PKEY_decrypt(pctx, NULL, &n, der, derlen) != 1) {
        rc = hrss__ossl_error(err, HRSS_EDECRYPT, "SM2 decrypt failed");
        goto done;
    }
    bufsize = n + 1;
    buf = malloc(bufsize);
    if (buf == NULL) {
        rc = hrss__error(err, HRSS_ENOMEM, "SM2 decrypt: out of memory");
        goto done;
    }
    if (EVP_PKEY_decrypt(pctx, buf, &n, der, derlen) != 1) {
        ERR_clear_error();
        rc = hrss__error(err, HRSS_EDECRYPT,
                         "SM2 decrypt: C1 not on the curve or hash C3 "
                         "mismatch (wrong key or damaged ciphertext)");
        goto done;
    }
    buf[n] = 0;
    *out = buf;
    buf = NULL;
    if (outlen != NULL)
        *outlen = n;
    rc = HRSS_OK;
done:
    if (buf != NULL)
        OPENSSL_clear_free(buf, bufsize);
    free(der);
    ASN1_item_free((ASN1_VALUE *)holder, ASN1_ITEM_rptr(sm2_ct_der));
    EVP_PKEY_CTX_free(pctx);
    return rc;
}

/* The GM/T 0009 template (after everything: the macros end without a semicolon). */
/* clang-format off */
ASN1_SEQUENCE(sm2_ct_der) = {
    ASN1_SIMPLE(sm2_ct_der, x, BIGNUM),
    ASN1_SIMPLE(sm2_ct_der, y, BIGNUM),
    ASN1_SIMPLE(sm2_ct_der, c3, ASN1_OCTET_STRING),
    ASN1_SIMPLE(sm2_ct_der, c2, ASN1_OCTET_STRING),
} static_ASN1_SEQUENCE_END(sm2_ct_der)
