/*
 * lib/sm2.c - the SM2 half of hrss/crypto.h: keys (generation, PEM, raw hex), signatures
 * with SM3 and a user ID (GB/T 32918.2), Z_A, and public-key encryption (GB/T 32918.4) in
 * the three ciphertext layouts peers use. LD/T 6008-2024 7.1.1.1 encrypts bodies with SM2;
 * docs/design.md decision 5 makes C1C3C2 the default and C1C2C3 and GM/T 0009 DER options.
 *
 * OpenSSL reads and writes key files and PEM; the arithmetic is libhrss's own
 * (sm2_field.c, sm2_curve.c: about ten times OpenSSL 3.0's generic curve code, constant
 * time wherever a secret is involved). Every key, whatever its source, is rebuilt here
 * from d and/or the public point after checking the point is on the curve and
 * 1 <= d <= n-2; the key keeps d with (1 + d)^-1, the point with its comb table for
 * verification (52 KiB), and Z_A of the default user ID, so a signature hashes only the
 * message.
 * Its EVP_PKEY (type SM2) serves PEM output only.
 *
 * Interoperability kept from the OpenSSL-based version: the user ID defaults to
 * 1234567812345678 (OpenSSL's own default is empty); an empty message is not encrypted
 * (HRSS_EINVAL) and a ciphertext with an empty C2 is HRSS_EDECRYPT, as OpenSSL does; raw
 * ciphertexts must carry the 04 prefix of C1; GM/T 0009 DER goes through an ASN.1 template.
 *
 * Thread use: an hrss_sm2_key is immutable once built; operations keep their state on the
 * stack.
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
#include "sm2_ec.h"

#define SM2_FIELD_LEN 32
#define SM2_POINT_LEN 65   /* 04 || X || Y */
#define SM2_SIG_RAW_LEN 64 /* r || s */
#define SM2_ID_MAX 8191    /* ENTL is the ID length in bits on 16 bits */
#define SM2_PEM_MAX (64 * 1024)

struct hrss_sm2_key {
    EVP_PKEY *pkey; /* type SM2, built by key_build(): PEM output */
    int has_priv;
    unsigned char pub[SM2_POINT_LEN]; /* uncompressed public point */
    sm2_pub pt;                        /* the point, for sm2_curve.c */
    sm2_priv priv;                     /* d, when has_priv */
    unsigned char za_default[HRSS_SM3_LEN]; /* Z_A of the default user ID */
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
    unsigned char point[SM2_POINT_LEN], dbytes[SM2_FIELD_LEN], dpoint[SM2_POINT_LEN];
    sm2_priv priv;
    int rc = HRSS_ECRYPTO;

    *out = NULL;
    memset(&priv, 0, sizeof(priv));
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
        /* d*G by the constant-time comb of sm2_curve.c */
        if (BN_bn2binpad(d, dbytes, SM2_FIELD_LEN) != SM2_FIELD_LEN ||
            !hrss__sm2_priv_load(&priv, dbytes) || !hrss__sm2_mul_base(dpoint, dbytes) ||
            EC_POINT_oct2point(grp, fromd, dpoint, sizeof(dpoint), bn) != 1) {
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
    k->priv = priv;
    if (!hrss__sm2_pub_decode_vartime(&k->pt, point) ||
        hrss_sm2_za(k, NULL, 0, k->za_default, NULL) != HRSS_OK) {
        hrss_sm2_key_free(k);
        k = NULL;
        rc = hrss__error(err, HRSS_ECRYPTO, "SM2 key: preparing the public point failed");
        goto done;
    }
    if (!hrss__sm2_pub_prepare_vartime(&k->pt)) {
        hrss_sm2_key_free(k);
        k = NULL;
        rc = hrss__error(err, HRSS_ENOMEM, "SM2 key: out of memory");
        goto done;
    }
    *out = k;
    rc = HRSS_OK;
done:
    OPENSSL_cleanse(dbytes, sizeof(dbytes));
    OPENSSL_cleanse(&priv, sizeof(priv));
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

/* d uniform in [1, n-2] (random_scalar, defined with the signatures); d*G by the
 * constant-time comb. */
static int random_scalar(unsigned char k[32], int for_key);

int hrss_sm2_key_generate(hrss_sm2_key **out, hrss_error *err)
{
    unsigned char db[SM2_FIELD_LEN];
    BIGNUM *d = NULL;
    int rc;

    if (out == NULL)
        return hrss__error(err, HRSS_EINVAL, "SM2 keygen: no output");
    *out = NULL;
    if (random_scalar(db, 1) != HRSS_OK)
        return hrss__error(err, HRSS_ECRYPTO, "SM2 key generation: the random generator failed");
    d = BN_secure_new();
    if (d == NULL || BN_bin2bn(db, sizeof(db), d) == NULL) {
        rc = hrss__ossl_error(err, HRSS_ENOMEM, "SM2 key generation: out of memory");
        goto done;
    }
    rc = key_build(d, NULL, 0, out, err);
done:
    OPENSSL_cleanse(db, sizeof(db));
    BN_clear_free(d);
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
    if (!k->has_priv)
        return HRSS_EKEY;
    hrss__sm2_u256_to_bytes(out, k->priv.d);
    return HRSS_OK;
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
    hrss__sm2_pub_release(&k->pt);
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

/* A uniformly random scalar: 1 <= k <= n - 1, or 1 <= k <= n - 2 for a private key
 * (rejection sampling; a draw is refused with probability about 2^-32). */
static int random_scalar(unsigned char k[SM2_FIELD_LEN], int for_key)
{
    static const uint64_t one[4] = {1, 0, 0, 0};
    uint64_t v[4], nm1[4];

    hrss__sm2_sc_sub(nm1, hrss__sm2_n, one);
    for (int tries = 0; tries < 16; tries++) {
        if (hrss_random_bytes(k, SM2_FIELD_LEN) != HRSS_OK)
            return HRSS_ECRYPTO;
        hrss__sm2_u256_from_bytes(v, k);
        if ((v[0] | v[1] | v[2] | v[3]) != 0 &&
            hrss__sm2_u256_lt(v, for_key ? nm1 : hrss__sm2_n))
            return HRSS_OK;
    }
    return HRSS_ECRYPTO;
}

/* e = SM3(Z_A || M); Z_A of the default ID comes from the key. */
static int sm2_digest(const hrss_sm2_key *k, const char *id, size_t idlen, const void *msg,
                      size_t len, unsigned char e[HRSS_SM3_LEN], hrss_error *err)
{
    unsigned char z[HRSS_SM3_LEN];
    hrss_sm3_ctx *h;
    int rc;

    if (idlen == sizeof(HRSS_SM2_DEFAULT_ID) - 1 && memcmp(id, HRSS_SM2_DEFAULT_ID, idlen) == 0) {
        memcpy(z, k->za_default, sizeof(z));
    } else {
        rc = hrss_sm2_za(k, id, idlen, z, err);
        if (rc != HRSS_OK)
            return rc;
    }
    h = hrss_sm3_new();
    if (h == NULL)
        return hrss__error(err, HRSS_ENOMEM, "SM2: SM3 not available");
    rc = hrss_sm3_update(h, z, sizeof(z));
    if (rc == HRSS_OK)
        rc = hrss_sm3_update(h, msg, len);
    if (rc == HRSS_OK)
        rc = hrss_sm3_final(h, e);
    hrss_sm3_free(h);
    if (rc != HRSS_OK)
        return hrss__error(err, rc, "SM2: hashing the message failed");
    return HRSS_OK;
}

/* One DER INTEGER of a 32-byte unsigned big-endian value; returns its length (<= 35). */
static size_t der_uint(unsigned char *out, const unsigned char v[SM2_FIELD_LEN])
{
    size_t i = 0, n;
    int pad;

    while (i < SM2_FIELD_LEN - 1 && v[i] == 0)
        i++;
    n = SM2_FIELD_LEN - i;
    pad = (v[i] & 0x80) != 0;
    out[0] = 0x02;
    out[1] = (unsigned char)(n + (size_t)pad);
    if (pad)
        out[2] = 0;
    memcpy(out + 2 + pad, v + i, n);
    return 2 + (size_t)pad + n;
}

/* SEQUENCE { r INTEGER, s INTEGER } in DER; returns its length (<= 72). */
static size_t sig_der(unsigned char out[72], const unsigned char r[SM2_FIELD_LEN],
                      const unsigned char s[SM2_FIELD_LEN])
{
    size_t n = der_uint(out + 2, r);
    n += der_uint(out + 2 + n, s);
    out[0] = 0x30;
    out[1] = (unsigned char)n;
    return n + 2;
}

/* One DER INTEGER at *p (of at most end - *p bytes) into 32 bytes: non-negative, minimal,
 * at most 32 bytes of value. 0 if it is anything else. */
static int der_uint_parse(const unsigned char **p, const unsigned char *end,
                          unsigned char v[SM2_FIELD_LEN])
{
    const unsigned char *q = *p;
    size_t n;

    if (end - q < 3 || q[0] != 0x02)
        return 0;
    n = q[1];
    q += 2;
    if (n == 0 || n > (size_t)(end - q) || (q[0] & 0x80) != 0)
        return 0;
    if (n > 1 && q[0] == 0 && (q[1] & 0x80) == 0) /* a zero byte not needed for the sign */
        return 0;
    if (q[0] == 0 && n > 1) {
        q++;
        n--;
    }
    if (n > SM2_FIELD_LEN)
        return 0;
    memset(v, 0, SM2_FIELD_LEN - n);
    memcpy(v + SM2_FIELD_LEN - n, q, n);
    *p = q + n;
    return 1;
}

/* r and s of a well-formed signature (strict DER: one encoding per value, no trailing
 * bytes; or exactly 64 bytes r || s). 0 when malformed. */
static int sig_parse(hrss_sm2_sig_format fmt, const unsigned char *sig, size_t siglen,
                     unsigned char r[SM2_FIELD_LEN], unsigned char s[SM2_FIELD_LEN])
{
    const unsigned char *p, *end;

    if (fmt == HRSS_SM2_SIG_RAW) {
        if (siglen != SM2_SIG_RAW_LEN)
            return 0;
        memcpy(r, sig, SM2_FIELD_LEN);
        memcpy(s, sig + SM2_FIELD_LEN, SM2_FIELD_LEN);
        return 1;
    }
    if (siglen < 2 || siglen > 72 || sig[0] != 0x30 || sig[1] != siglen - 2)
        return 0;
    p = sig + 2;
    end = sig + siglen;
    return der_uint_parse(&p, end, r) && der_uint_parse(&p, end, s) && p == end;
}

int hrss_sm2_sign(const hrss_sm2_key *k, const char *id, size_t idlen, const void *msg, size_t len,
                  hrss_sm2_sig_format fmt, unsigned char **sig, size_t *siglen, hrss_error *err)
{
    unsigned char e[HRSS_SM3_LEN], nonce[SM2_FIELD_LEN], r[SM2_FIELD_LEN], s[SM2_FIELD_LEN];
    unsigned char der[72], *buf;
    size_t n;
    int rc, tries;

    if (k == NULL || sig == NULL || (msg == NULL && len > 0) ||
        (fmt != HRSS_SM2_SIG_DER && fmt != HRSS_SM2_SIG_RAW))
        return hrss__error(err, HRSS_EINVAL, "SM2 sign: bad arguments");
    *sig = NULL;
    if (!k->has_priv)
        return hrss__error(err, HRSS_EKEY, "SM2 sign: the key has no private part");
    rc = check_id(&id, &idlen, err);
    if (rc != HRSS_OK)
        return rc;
    rc = sm2_digest(k, id, idlen, msg != NULL ? msg : (const void *)"", len, e, err);
    if (rc != HRSS_OK)
        return rc;
    /* A nonce that gives r = 0, r + k = n or s = 0 is drawn again (about 2^-256 each). */
    for (tries = 0; tries < 8; tries++) {
        if (random_scalar(nonce, 0) != HRSS_OK) {
            rc = hrss__error(err, HRSS_ECRYPTO, "SM2 sign: the random generator failed");
            goto done;
        }
        if (hrss__sm2_sign_digest(&k->priv, e, nonce, r, s))
            break;
    }
    if (tries == 8) {
        rc = hrss__error(err, HRSS_ECRYPTO, "SM2 sign failed");
        goto done;
    }
    if (fmt == HRSS_SM2_SIG_RAW) {
        memcpy(der, r, SM2_FIELD_LEN);
        memcpy(der + SM2_FIELD_LEN, s, SM2_FIELD_LEN);
        n = SM2_SIG_RAW_LEN;
    } else {
        n = sig_der(der, r, s);
    }
    buf = malloc(n);
    if (buf == NULL) {
        rc = hrss__error(err, HRSS_ENOMEM, "SM2 sign: out of memory");
        goto done;
    }
    memcpy(buf, der, n);
    *sig = buf;
    if (siglen != NULL)
        *siglen = n;
    rc = HRSS_OK;
done:
    OPENSSL_cleanse(nonce, sizeof(nonce));
    return rc;
}

int hrss_sm2_verify(const hrss_sm2_key *k, const char *id, size_t idlen, const void *msg,
                    size_t len, hrss_sm2_sig_format fmt, const unsigned char *sig, size_t siglen,
                    hrss_error *err)
{
    unsigned char e[HRSS_SM3_LEN], r[SM2_FIELD_LEN], s[SM2_FIELD_LEN];
    int rc;

    if (k == NULL || (msg == NULL && len > 0) || (sig == NULL && siglen > 0) ||
        (fmt != HRSS_SM2_SIG_DER && fmt != HRSS_SM2_SIG_RAW))
        return hrss__error(err, HRSS_EINVAL, "SM2 verify: bad arguments");
    rc = check_id(&id, &idlen, err);
    if (rc != HRSS_OK)
        return rc;
    if (sig == NULL || !sig_parse(fmt, sig, siglen, r, s))
        return hrss__error(err, HRSS_EBADSIG, "SM2 verify: malformed %s signature (%zu bytes)",
                           fmt == HRSS_SM2_SIG_RAW ? "r||s" : "DER", siglen);
    rc = sm2_digest(k, id, idlen, msg != NULL ? msg : (const void *)"", len, e, err);
    if (rc != HRSS_OK)
        return rc;
    if (!hrss__sm2_verify_digest_vartime(&k->pt, e, r, s))
        return hrss__error(err, HRSS_EBADSIG, "SM2 verify: signature mismatch");
    return HRSS_OK;
}

int hrss_sm2_za(const hrss_sm2_key *k, const char *id, size_t idlen,
                unsigned char out[HRSS_SM3_LEN], hrss_error *err)
{
    /* a, b, xG, yG of the curve (GB/T 32918.5), as Z_A hashes them */
    static const unsigned char curve[4 * SM2_FIELD_LEN] = {
        0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xfc, 0x28, 0xe9, 0xfa, 0x9e, 0x9d, 0x9f, 0x5e, 0x34, 0x4d, 0x5a, 0x9e, 0x4b, 0xcf,
        0x65, 0x09, 0xa7, 0xf3, 0x97, 0x89, 0xf5, 0x15, 0xab, 0x8f, 0x92, 0xdd, 0xbc, 0xbd, 0x41,
        0x4d, 0x94, 0x0e, 0x93, 0x32, 0xc4, 0xae, 0x2c, 0x1f, 0x19, 0x81, 0x19, 0x5f, 0x99, 0x04,
        0x46, 0x6a, 0x39, 0xc9, 0x94, 0x8f, 0xe3, 0x0b, 0xbf, 0xf2, 0x66, 0x0b, 0xe1, 0x71, 0x5a,
        0x45, 0x89, 0x33, 0x4c, 0x74, 0xc7, 0xbc, 0x37, 0x36, 0xa2, 0xf4, 0xf6, 0x77, 0x9c, 0x59,
        0xbd, 0xce, 0xe3, 0x6b, 0x69, 0x21, 0x53, 0xd0, 0xa9, 0x87, 0x7c, 0xc6, 0x2a, 0x47, 0x40,
        0x02, 0xdf, 0x32, 0xe5, 0x21, 0x39, 0xf0, 0xa0};
    hrss_sm3_ctx *h = NULL;
    unsigned char entl[2];
    int rc;

    if (k == NULL || out == NULL)
        return hrss__error(err, HRSS_EINVAL, "SM2 Z_A: bad arguments");
    rc = check_id(&id, &idlen, err);
    if (rc != HRSS_OK)
        return rc;
    h = hrss_sm3_new();
    if (h == NULL)
        return hrss__error(err, HRSS_ENOMEM, "SM2 Z_A: out of memory");
    /* Z_A = SM3(ENTL_A || ID_A || a || b || xG || yG || xA || yA), ENTL in bits. */
    entl[0] = (unsigned char)((idlen * 8) >> 8);
    entl[1] = (unsigned char)(idlen * 8);
    if (hrss_sm3_update(h, entl, 2) != HRSS_OK || hrss_sm3_update(h, id, idlen) != HRSS_OK ||
        hrss_sm3_update(h, curve, sizeof(curve)) != HRSS_OK ||
        hrss_sm3_update(h, k->pub + 1, 2 * SM2_FIELD_LEN) != HRSS_OK ||
        hrss_sm3_final(h, out) != HRSS_OK)
        rc = hrss__error(err, HRSS_ECRYPTO, "SM2 Z_A: SM3 failed");
    hrss_sm3_free(h);
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

/*
 * The key stream t = KDF(x2 || y2, len) of GB/T 32918.4 5.4.3 (SM3 of x2 || y2 || ct, ct
 * a 32-bit counter from 1), XORed into buf. Returns 1 when t had a non-zero byte (a t of
 * zeros is refused by the standard), 0 when it was all zeros, -1 when SM3 failed.
 */
static int kdf_xor(const unsigned char xy[2 * SM2_FIELD_LEN], unsigned char *buf, size_t len)
{
    unsigned char block[HRSS_SM3_LEN], ctr[4];
    unsigned char any = 0;
    hrss_sm3_ctx *h = hrss_sm3_new();
    uint32_t ct = 1;
    int rc = -1;

    if (h == NULL)
        return -1;
    for (size_t off = 0; off < len; off += HRSS_SM3_LEN, ct++) {
        size_t n = len - off < HRSS_SM3_LEN ? len - off : HRSS_SM3_LEN;
        ctr[0] = (unsigned char)(ct >> 24);
        ctr[1] = (unsigned char)(ct >> 16);
        ctr[2] = (unsigned char)(ct >> 8);
        ctr[3] = (unsigned char)ct;
        if (hrss_sm3_update(h, xy, 2 * SM2_FIELD_LEN) != HRSS_OK ||
            hrss_sm3_update(h, ctr, 4) != HRSS_OK || hrss_sm3_final(h, block) != HRSS_OK)
            goto done;
        for (size_t i = 0; i < n; i++) {
            any |= block[i];
            buf[off + i] ^= block[i];
        }
    }
    rc = any != 0;
done:
    OPENSSL_cleanse(block, sizeof(block));
    hrss_sm3_free(h);
    return rc;
}

/* C3 = SM3(x2 || M || y2) */
static int c3_of(const unsigned char xy[2 * SM2_FIELD_LEN], const unsigned char *m, size_t len,
                 unsigned char c3[HRSS_SM3_LEN])
{
    hrss_sm3_ctx *h = hrss_sm3_new();
    int rc;

    if (h == NULL)
        return HRSS_ENOMEM;
    rc = hrss_sm3_update(h, xy, SM2_FIELD_LEN);
    if (rc == HRSS_OK)
        rc = hrss_sm3_update(h, m, len);
    if (rc == HRSS_OK)
        rc = hrss_sm3_update(h, xy + SM2_FIELD_LEN, SM2_FIELD_LEN);
    if (rc == HRSS_OK)
        rc = hrss_sm3_final(h, c3);
    hrss_sm3_free(h);
    return rc;
}

int hrss_sm2_encrypt(const hrss_sm2_key *k, const void *in, size_t len, hrss_sm2_ct_format fmt,
                     unsigned char **out, size_t *outlen, hrss_error *err)
{
    unsigned char kb[SM2_FIELD_LEN], c1[SM2_POINT_LEN], kp[SM2_POINT_LEN], *c2 = NULL;
    sm2_parts pt;
    size_t n = 0;
    int rc, tries, ok = 0;

    if (k == NULL || out == NULL || (in == NULL && len > 0) || !ct_format_ok(fmt))
        return hrss__error(err, HRSS_EINVAL, "SM2 encrypt: bad arguments");
    *out = NULL;
    if (len == 0)
        return hrss__error(err, HRSS_EINVAL,
                           "SM2 encrypt: empty message (SM2 needs at least "
                           "one byte)");
    if (len > INT_MAX - 256)
        return hrss__error(err, HRSS_ETOOBIG, "SM2 encrypt: message too large");
    c2 = malloc(len);
    if (c2 == NULL)
        return hrss__error(err, HRSS_ENOMEM, "SM2 encrypt: out of memory");
    /* A1-A5 (GB/T 32918.4 6.1): k, C1 = k*G, (x2, y2) = k*P, t = KDF(x2 || y2); a t of
     * zeros (about 2^-256 per try) takes another k. */
    for (tries = 0; tries < 8 && !ok; tries++) {
        if (random_scalar(kb, 0) != HRSS_OK || !hrss__sm2_mul_base(c1, kb) ||
            !hrss__sm2_mul_point(kp, &k->pt.p, kb)) {
            rc = hrss__error(err, HRSS_ECRYPTO, "SM2 encrypt failed");
            goto done;
        }
        memcpy(c2, in, len);
        rc = kdf_xor(kp + 1, c2, len);
        if (rc < 0) {
            rc = hrss__error(err, HRSS_ECRYPTO, "SM2 encrypt: SM3 failed");
            goto done;
        }
        ok = rc;
    }
    if (!ok) {
        rc = hrss__error(err, HRSS_ECRYPTO, "SM2 encrypt failed");
        goto done;
    }
    memcpy(pt.x, c1 + 1, SM2_FIELD_LEN);
    memcpy(pt.y, c1 + 1 + SM2_FIELD_LEN, SM2_FIELD_LEN);
    pt.c2 = c2;
    pt.c2len = len;
    rc = c3_of(kp + 1, in, len, pt.c3);
    if (rc != HRSS_OK) {
        rc = hrss__error(err, HRSS_ECRYPTO, "SM2 encrypt: SM3 failed");
        goto done;
    }
    rc = fmt == HRSS_SM2_DER ? parts_to_der(&pt, out, &n) : parts_to_raw(&pt, fmt, out, &n);
    if (rc != HRSS_OK) {
        rc = hrss__error(err, rc, "SM2 encrypt: encoding the ciphertext failed");
        goto done;
    }
    if (outlen != NULL)
        *outlen = n;
done:
    OPENSSL_cleanse(kb, sizeof(kb));
    OPENSSL_cleanse(kp, sizeof(kp));
    free(c2);
    return rc;
}

int hrss_sm2_decrypt(const hrss_sm2_key *k, const void *in, size_t len, hrss_sm2_ct_format fmt,
                     unsigned char **out, size_t *outlen, hrss_error *err)
{
    sm2_ct_der *holder = NULL;
    sm2_parts pt;
    sm2_pub c1;
    unsigned char c1b[SM2_POINT_LEN], db[SM2_FIELD_LEN], xy[SM2_POINT_LEN], u[HRSS_SM3_LEN];
    unsigned char *buf = NULL;
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
    /* B1: C1 must be a point of the curve (an invalid point would leak bits of d). */
    c1b[0] = 0x04;
    memcpy(c1b + 1, pt.x, SM2_FIELD_LEN);
    memcpy(c1b + 1 + SM2_FIELD_LEN, pt.y, SM2_FIELD_LEN);
    if (!hrss__sm2_pub_decode_vartime(&c1, c1b)) {
        rc = hrss__error(err, HRSS_EDECRYPT,
                         "SM2 decrypt: C1 is not a point of the curve (damaged ciphertext)");
        goto done;
    }
    /* B3-B5: (x2, y2) = d*C1, t = KDF(x2 || y2), M = C2 ^ t, then C3 checked */
    sm2_priv_bytes(k, db);
    buf = malloc(pt.c2len + 1);
    if (buf == NULL) {
        rc = hrss__error(err, HRSS_ENOMEM, "SM2 decrypt: out of memory");
        goto done;
    }
    if (!hrss__sm2_mul_point(xy, &c1.p, db)) {
        rc = hrss__error(err, HRSS_EDECRYPT, "SM2 decrypt: C1 is the point at infinity");
        goto done;
    }
    memcpy(buf, pt.c2, pt.c2len);
    rc = kdf_xor(xy + 1, buf, pt.c2len);
    if (rc < 0) {
        rc = hrss__error(err, HRSS_ECRYPTO, "SM2 decrypt: SM3 failed");
        goto done;
    }
    if (c3_of(xy + 1, buf, pt.c2len, u) != HRSS_OK) {
        rc = hrss__error(err, HRSS_ECRYPTO, "SM2 decrypt: SM3 failed");
        goto done;
    }
    if (rc == 0 || CRYPTO_memcmp(u, pt.c3, HRSS_SM3_LEN) != 0) {
        rc = hrss__error(err, HRSS_EDECRYPT,
                         "SM2 decrypt: hash C3 mismatch (wrong key or damaged ciphertext)");
        goto done;
    }
    buf[pt.c2len] = 0;
    *out = buf;
    if (outlen != NULL)
        *outlen = pt.c2len;
    buf = NULL;
    rc = HRSS_OK;
done:
    if (buf != NULL)
        OPENSSL_clear_free(buf, pt.c2len + 1);
    OPENSSL_cleanse(db, sizeof(db));
    OPENSSL_cleanse(xy, sizeof(xy));
    ASN1_item_free((ASN1_VALUE *)holder, ASN1_ITEM_rptr(sm2_ct_der));
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
