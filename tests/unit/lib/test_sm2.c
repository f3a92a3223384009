/*
 * tests/unit/lib/test_sm2.c - SM2 of hrss/crypto.h: the GM/T 0003.5 signature and
 * encryption examples (key from raw hex and from SEC1 / SubjectPublicKeyInfo PEM, Z_A,
 * DER and r||s signatures, the ciphertext in C1C3C2, C1C2C3 and GM/T 0009 DER), round
 * trips, and rejection of bad keys, signatures and ciphertexts.
 *
 * Official values are read at run time from $HRSS_SOURCE_DIR/tests/vectors/sm-vectors.txt.
 * Empty messages: signing them is fine; encrypting one is refused with HRSS_EINVAL, as
 * OpenSSL 3.0 refuses it (and a C2 of zero bytes carries nothing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "hrss/crypto.h"

#include "../vectors.h"

static unsigned char *unhex(const char *hex, size_t *len)
{
    unsigned char *out = NULL;
    assert_int_equal(hrss_hex_decode(hex, strlen(hex), &out, len, NULL), HRSS_OK);
    return out;
}

/* The named DER vector wrapped as PEM with the given label; free with free(). */
static char *vec_pem(const char *name, const char *label)
{
    size_t derlen = 0, b64len = 0, o = 0;
    unsigned char *der = vec_bytes(name, &derlen);
    char *b64 = NULL, *pem;
    assert_int_equal(hrss_base64_encode(der, derlen, &b64, &b64len), HRSS_OK);
    pem = malloc(b64len + b64len / 64 + 2 * strlen(label) + 64);
    assert_non_null(pem);
    o += (size_t)snprintf(pem, 64, "-----BEGIN %s-----\n", label);
    for (size_t i = 0; i < b64len; i += 64) {
        size_t n = b64len - i < 64 ? b64len - i : 64;
        memcpy(pem + o, b64 + i, n);
        o += n;
        pem[o++] = '\n';
    }
    snprintf(pem + o, 64, "-----END %s-----\n", label);
    hrss_free(b64);
    hrss_free(der);
    return pem;
}

static hrss_sm2_key *official_key(int with_priv)
{
    hrss_sm2_key *k = NULL;
    hrss_error e;
    assert_int_equal(hrss_sm2_key_from_raw_hex(with_priv ? vec("sm2_sig_d") : NULL,
                                               vec("sm2_sig_pub_uncompressed"), &k, &e),
                     HRSS_OK);
    return k;
}

static hrss_sm2_key *new_key(void)
{
    hrss_sm2_key *k = NULL;
    assert_int_equal(hrss_sm2_key_generate(&k, NULL), HRSS_OK);
    assert_true(hrss_sm2_key_has_private(k));
    return k;
}

/* ---- official vectors ---- */

static void za_matches_official(void **state)
{
    (void)state;
    hrss_sm2_key *k = official_key(0);
    unsigned char za[HRSS_SM3_LEN];
    size_t idlen = 0;
    unsigned char *id = vec_bytes("sm2_sig_id_ascii_hex", &idlen);

    assert_int_equal(hrss_sm2_za(k, NULL, 0, za, NULL), HRSS_OK);
    assert_hex_equal(za, sizeof(za), vec("sm2_sig_ZA"));
    assert_int_equal(hrss_sm2_za(k, (const char *)id, idlen, za, NULL), HRSS_OK);
    assert_hex_equal(za, sizeof(za), vec("sm2_sig_ZA"));
    /* Another ID, another Z_A. */
    assert_int_equal(hrss_sm2_za(k, "ALICE123@YAHOO.COM", 18, za, NULL), HRSS_OK);
    char *hex = NULL;
    assert_int_equal(hrss_hex_encode(za, sizeof(za), &hex, NULL), HRSS_OK);
    assert_string_not_equal(hex, vec("sm2_sig_ZA"));
    hrss_free(hex);
    hrss_free(id);
    hrss_sm2_key_free(k);
}

/* e = SM3(Z_A || M): checks Z_A is what the signature really covers. */
static void za_gives_official_e(void **state)
{
    (void)state;
    hrss_sm2_key *k = official_key(0);
    unsigned char za[HRSS_SM3_LEN], e[HRSS_SM3_LEN];
    size_t mlen = 0;
    unsigned char *msg = vec_bytes("sm2_sig_msg_ascii_hex", &mlen);
    hrss_sm3_ctx *c = hrss_sm3_new();
    assert_int_equal(hrss_sm2_za(k, NULL, 0, za, NULL), HRSS_OK);
    assert_int_equal(hrss_sm3_update(c, za, sizeof(za)), HRSS_OK);
    assert_int_equal(hrss_sm3_update(c, msg, mlen), HRSS_OK);
    assert_int_equal(hrss_sm3_final(c, e), HRSS_OK);
    assert_hex_equal(e, sizeof(e), vec("sm2_sig_e"));
    hrss_sm3_free(c);
    hrss_free(msg);
    hrss_sm2_key_free(k);
}

static void verify_official_signature(void **state)
{
    (void)state;
    size_t mlen = 0, derlen = 0;
    unsigned char *msg = vec_bytes("sm2_sig_msg_ascii_hex", &mlen);
    unsigned char *der = vec_bytes("sm2_sig_der", &derlen);
    char rs_hex[129];
    size_t rslen = 0;
    unsigned char *rs;
    hrss_error e;

    snprintf(rs_hex, sizeof(rs_hex), "%s%s", vec("sm2_sig_r"), vec("sm2_sig_s"));
    rs = unhex(rs_hex, &rslen);
    for (int with_priv = 0; with_priv < 2; with_priv++) {
        hrss_sm2_key *k = official_key(with_priv);
        assert_int_equal(hrss_sm2_verify(k, NULL, 0, msg, mlen, HRSS_SM2_SIG_DER, der, derlen, &e),
                         HRSS_OK);
        assert_int_equal(hrss_sm2_verify(k, HRSS_SM2_DEFAULT_ID, 16, msg, mlen, HRSS_SM2_SIG_DER,
                                         der, derlen, &e),
                         HRSS_OK);
        assert_int_equal(hrss_sm2_verify(k, NULL, 0, msg, mlen, HRSS_SM2_SIG_RAW, rs, rslen, &e),
                         HRSS_OK);
        /* Changed message. */
        msg[0] ^= 1;
        assert_int_equal(hrss_sm2_verify(k, NULL, 0, msg, mlen, HRSS_SM2_SIG_DER, der, derlen, &e),
                         HRSS_EBADSIG);
        assert_int_equal(hrss_sm2_verify(k, NULL, 0, msg, mlen, HRSS_SM2_SIG_RAW, rs, rslen, &e),
                         HRSS_EBADSIG);
        msg[0] ^= 1;
        /* Other IDs, including OpenSSL 3.0's own empty default. */
        assert_int_equal(hrss_sm2_verify(k, "1234567812345679", 16, msg, mlen, HRSS_SM2_SIG_DER,
                                         der, derlen, &e),
                         HRSS_EBADSIG);
        assert_int_equal(hrss_sm2_verify(k, "", 0, msg, mlen, HRSS_SM2_SIG_DER, der, derlen, &e),
                         HRSS_EBADSIG);
        /* The DER signature is not an r||s one and the other way round. */
        assert_int_equal(hrss_sm2_verify(k, NULL, 0, msg, mlen, HRSS_SM2_SIG_RAW, der, derlen, &e),
                         HRSS_EBADSIG);
        assert_int_equal(hrss_sm2_verify(k, NULL, 0, msg, mlen, HRSS_SM2_SIG_DER, rs, rslen, &e),
                         HRSS_EBADSIG);
        hrss_sm2_key_free(k);
    }
    assert_int_equal(ERR_peek_error(), 0);
    hrss_free(rs);
    hrss_free(msg);
    hrss_free(der);
}

static void import_official_pem(void **state)
{
    (void)state;
    char *sec1 = vec_pem("sm2_priv_sec1_der", "EC PRIVATE KEY");
    char *spki = vec_pem("sm2_pub_spki_der", "PUBLIC KEY");
    hrss_sm2_key *priv = NULL, *pub = NULL;
    char *d = NULL, *p = NULL;
    unsigned char za[HRSS_SM3_LEN];
    size_t mlen = 0, derlen = 0;
    unsigned char *msg = vec_bytes("sm2_sig_msg_ascii_hex", &mlen);
    unsigned char *der = vec_bytes("sm2_sig_der", &derlen), *sig = NULL;
    size_t siglen = 0;

    assert_int_equal(hrss_sm2_key_from_pem(sec1, strlen(sec1), &priv, NULL), HRSS_OK);
    assert_int_equal(hrss_sm2_key_from_pem(spki, strlen(spki), &pub, NULL), HRSS_OK);
    assert_true(hrss_sm2_key_has_private(priv));
    assert_false(hrss_sm2_key_has_private(pub));
    assert_int_equal(hrss_sm2_key_to_raw_hex(priv, &d, &p), HRSS_OK);
    assert_string_equal(d, vec("sm2_sig_d"));
    assert_string_equal(p, vec("sm2_sig_pub_uncompressed"));
    hrss_free(d);
    hrss_free(p);
    assert_int_equal(hrss_sm2_key_to_raw_hex(pub, &d, &p), HRSS_OK);
    assert_null(d);
    assert_string_equal(p, vec("sm2_sig_pub_uncompressed"));
    hrss_free(p);
    assert_int_equal(hrss_sm2_za(pub, NULL, 0, za, NULL), HRSS_OK);
    assert_hex_equal(za, sizeof(za), vec("sm2_sig_ZA"));
    assert_int_equal(hrss_sm2_verify(pub, NULL, 0, msg, mlen, HRSS_SM2_SIG_DER, der, derlen, NULL),
                     HRSS_OK);
    /* The SEC1 key signs SM2-with-SM3 (not ECDSA): the SPKI key verifies it. */
    assert_int_equal(hrss_sm2_sign(priv, NULL, 0, msg, mlen, HRSS_SM2_SIG_DER, &sig, &siglen, NULL),
                     HRSS_OK);
    assert_int_equal(hrss_sm2_verify(pub, NULL, 0, msg, mlen, HRSS_SM2_SIG_DER, sig, siglen, NULL),
                     HRSS_OK);
    hrss_free(sig);
    hrss_sm2_key_free(priv);
    hrss_sm2_key_free(pub);
    hrss_free(msg);
    hrss_free(der);
    free(sec1);
    free(spki);
}

static void decrypt_official_ciphertexts(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        hrss_sm2_ct_format fmt;
    } cts[] = {{"sm2_enc_C1C3C2", HRSS_SM2_C1C3C2},
               {"sm2_enc_C1C2C3", HRSS_SM2_C1C2C3},
               {"sm2_enc_gmt0009_der", HRSS_SM2_DER}};
    hrss_sm2_key *k = official_key(1);
    size_t mlen = 0;
    unsigned char *want = vec_bytes("sm2_enc_msg_ascii_hex", &mlen);

    assert_int_equal(mlen, strlen("encryption standard"));
    assert_memory_equal(want, "encryption standard", mlen);
    for (size_t i = 0; i < 3; i++) {
        size_t clen = 0, n = 0;
        unsigned char *ct = vec_bytes(cts[i].name, &clen), *pt = NULL;
        hrss_error e;
        assert_int_equal(hrss_sm2_decrypt(k, ct, clen, cts[i].fmt, &pt, &n, &e), HRSS_OK);
        assert_int_equal(n, mlen);
        assert_memory_equal(pt, want, mlen);
        hrss_free(pt);
        /* Each layout read as another one fails cleanly. */
        for (size_t j = 0; j < 3; j++) {
            if (j == i)
                continue;
            assert_int_equal(hrss_sm2_decrypt(k, ct, clen, cts[j].fmt, &pt, &n, &e), HRSS_EDECRYPT);
            assert_null(pt);
        }
        hrss_free(ct);
    }
    assert_int_equal(ERR_peek_error(), 0);
    hrss_free(want);
    hrss_sm2_key_free(k);
}

/* ---- round trips ---- */

static void sign_verify_round_trips(void **state)
{
    (void)state;
    hrss_sm2_key *k = new_key(), *other = new_key();
    unsigned char *msg = malloc(10000);
    static const size_t lens[] = {0, 1, 100, 10000};
    static const struct {
        const char *id;
        size_t len;
    } ids[] = {{NULL, 0}, {"", 0}, {"B100000KJGK", 11}};
    assert_non_null(msg);
    assert_int_equal(hrss_random_bytes(msg, 10000), HRSS_OK);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        for (int fmt = HRSS_SM2_SIG_DER; fmt <= HRSS_SM2_SIG_RAW; fmt++) {
            for (size_t j = 0; j < 3; j++) {
                unsigned char *sig = NULL;
                size_t siglen = 0;
                assert_int_equal(hrss_sm2_sign(k, ids[j].id, ids[j].len, msg, lens[i],
                                               (hrss_sm2_sig_format)fmt, &sig, &siglen, NULL),
                                 HRSS_OK);
                if (fmt == HRSS_SM2_SIG_RAW)
                    assert_int_equal(siglen, 64);
                else
                    assert_true(siglen >= 8 && siglen <= 72 && sig[0] == 0x30);
                assert_int_equal(hrss_sm2_verify(k, ids[j].id, ids[j].len, msg, lens[i],
                                                 (hrss_sm2_sig_format)fmt, sig, siglen, NULL),
                                 HRSS_OK);
                assert_int_equal(hrss_sm2_verify(other, ids[j].id, ids[j].len, msg, lens[i],
                                                 (hrss_sm2_sig_format)fmt, sig, siglen, NULL),
                                 HRSS_EBADSIG);
                sig[siglen - 1] ^= 0x01;
                assert_int_equal(hrss_sm2_verify(k, ids[j].id, ids[j].len, msg, lens[i],
                                                 (hrss_sm2_sig_format)fmt, sig, siglen, NULL),
                                 HRSS_EBADSIG);
                hrss_free(sig);
            }
        }
    }
    free(msg);
    hrss_sm2_key_free(k);
    hrss_sm2_key_free(other);
}

static void encrypt_decrypt_round_trips(void **state)
{
    (void)state;
    hrss_sm2_key *k = new_key(), *other = new_key();
    unsigned char *msg = malloc(10000);
    static const size_t lens[] = {1, 100, 10000};
    assert_non_null(msg);
    assert_int_equal(hrss_random_bytes(msg, 10000), HRSS_OK);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        for (int fmt = HRSS_SM2_C1C3C2; fmt <= HRSS_SM2_DER; fmt++) {
            unsigned char *ct = NULL, *pt = NULL;
            size_t clen = 0, n = 0;
            hrss_error e;
            assert_int_equal(
                hrss_sm2_encrypt(k, msg, lens[i], (hrss_sm2_ct_format)fmt, &ct, &clen, &e),
                HRSS_OK);
            if (fmt != HRSS_SM2_DER) {
                assert_int_equal(clen, 97 + lens[i]);
                assert_int_equal(ct[0], 0x04);
            } else {
                assert_int_equal(ct[0], 0x30);
            }
            assert_int_equal(hrss_sm2_decrypt(k, ct, clen, (hrss_sm2_ct_format)fmt, &pt, &n, &e),
                             HRSS_OK);
            assert_int_equal(n, lens[i]);
            assert_memory_equal(pt, msg, n);
            hrss_free(pt);
            assert_int_equal(
                hrss_sm2_decrypt(other, ct, clen, (hrss_sm2_ct_format)fmt, &pt, &n, &e),
                HRSS_EDECRYPT);
            assert_null(pt);
            hrss_free(ct);
        }
    }
    /* C1C3C2 and C1C2C3 are the same parts in another order. */
    unsigned char *ct = NULL, *swapped, *pt = NULL;
    size_t clen = 0, n = 0;
    assert_int_equal(hrss_sm2_encrypt(k, msg, 50, HRSS_SM2_C1C3C2, &ct, &clen, NULL), HRSS_OK);
    swapped = malloc(clen);
    assert_non_null(swapped);
    memcpy(swapped, ct, 65);
    memcpy(swapped + 65, ct + 97, 50);
    memcpy(swapped + 115, ct + 65, 32);
    assert_int_equal(hrss_sm2_decrypt(k, swapped, clen, HRSS_SM2_C1C2C3, &pt, &n, NULL), HRSS_OK);
    assert_int_equal(n, 50);
    assert_memory_equal(pt, msg, 50);
    hrss_free(pt);
    hrss_free(ct);
    free(swapped);
    /* The empty message is refused, by design (see the file comment). */
    assert_int_equal(hrss_sm2_encrypt(k, "", 0, HRSS_SM2_C1C3C2, &ct, &clen, NULL), HRSS_EINVAL);
    assert_null(ct);
    free(msg);
    hrss_sm2_key_free(k);
    hrss_sm2_key_free(other);
}

static void pem_and_raw_round_trips(void **state)
{
    (void)state;
    hrss_sm2_key *k = new_key(), *k2 = NULL, *pub = NULL, *fromd = NULL, *frompub = NULL;
    char *pem = NULL, *pubpem = NULL, *d = NULL, *p = NULL, *d2 = NULL, *p2 = NULL;
    size_t pemlen = 0, publen = 0;
    unsigned char *sig = NULL;
    size_t siglen = 0;

    assert_int_equal(hrss_sm2_key_to_pem(k, 1, &pem, &pemlen), HRSS_OK);
    assert_int_equal(strlen(pem), pemlen);
    assert_int_equal(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28), 0); /* PKCS#8 */
    assert_int_equal(hrss_sm2_key_to_pem(k, 0, &pubpem, &publen), HRSS_OK);
    assert_int_equal(strncmp(pubpem, "-----BEGIN PUBLIC KEY-----\n", 27), 0);
    assert_int_equal(hrss_sm2_key_from_pem(pem, pemlen, &k2, NULL), HRSS_OK);
    assert_int_equal(hrss_sm2_key_from_pem(pubpem, publen, &pub, NULL), HRSS_OK);
    assert_false(hrss_sm2_key_has_private(pub));

    assert_int_equal(hrss_sm2_key_to_raw_hex(k, &d, &p), HRSS_OK);
    assert_int_equal(strlen(d), 64);
    assert_int_equal(strlen(p), 130);
    assert_int_equal(hrss_sm2_key_to_raw_hex(k2, &d2, &p2), HRSS_OK);
    assert_string_equal(d, d2);
    assert_string_equal(p, p2);
    hrss_free(p2);
    assert_int_equal(hrss_sm2_key_to_raw_hex(pub, NULL, &p2), HRSS_OK);
    assert_string_equal(p, p2);
    hrss_free(p2);

    /* d alone derives the public key; pub alone verifies. */
    assert_int_equal(hrss_sm2_key_from_raw_hex(d, NULL, &fromd, NULL), HRSS_OK);
    assert_int_equal(hrss_sm2_key_to_raw_hex(fromd, NULL, &p2), HRSS_OK);
    assert_string_equal(p, p2);
    hrss_free(p2);
    assert_int_equal(hrss_sm2_key_from_raw_hex(NULL, p, &frompub, NULL), HRSS_OK);
    assert_int_equal(hrss_sm2_sign(fromd, NULL, 0, "x", 1, HRSS_SM2_SIG_DER, &sig, &siglen, NULL),
                     HRSS_OK);
    assert_int_equal(hrss_sm2_verify(frompub, NULL, 0, "x", 1, HRSS_SM2_SIG_DER, sig, siglen, NULL),
                     HRSS_OK);
    assert_int_equal(hrss_sm2_verify(pub, NULL, 0, "x", 1, HRSS_SM2_SIG_DER, sig, siglen, NULL),
                     HRSS_OK);
    hrss_free(sig);

    /* A public-only key has no private PEM and cannot sign or decrypt. */
    char *none = (char *)"untouched";
    assert_int_equal(hrss_sm2_key_to_pem(pub, 1, &none, NULL), HRSS_EKEY);
    assert_null(none);
    assert_int_equal(hrss_sm2_sign(pub, NULL, 0, "x", 1, HRSS_SM2_SIG_DER, &sig, &siglen, NULL),
                     HRSS_EKEY);
    unsigned char *out = NULL;
    assert_int_equal(hrss_sm2_decrypt(pub, "x", 1, HRSS_SM2_C1C3C2, &out, &siglen, NULL),
                     HRSS_EKEY);

    hrss_free(d2);
    hrss_free(d);
    hrss_free(p);
    hrss_free(pem);
    hrss_free(pubpem);
    hrss_sm2_key_free(k);
    hrss_sm2_key_free(k2);
    hrss_sm2_key_free(pub);
    hrss_sm2_key_free(fromd);
    hrss_sm2_key_free(frompub);
    hrss_sm2_key_free(NULL);
}

/* ---- rejections ---- */

static void expect_raw_key(const char *d, const char *pub, int code)
{
    hrss_sm2_key *k = (hrss_sm2_key *)&k;
    hrss_error e = {0, ""};
    assert_int_equal(hrss_sm2_key_from_raw_hex(d, pub, &k, &e), code);
    assert_null(k);
    assert_int_equal(e.code, code);
    assert_true(strlen(e.msg) > 0);
}

static void bad_raw_keys_rejected(void **state)
{
    (void)state;
    const char *n = vec("sm2_n");
    const char *pub = vec("sm2_sig_pub_uncompressed");
    char buf[200];

    expect_raw_key(NULL, NULL, HRSS_EINVAL);
    /* d out of [1, n-2]. */
    expect_raw_key("0000000000000000000000000000000000000000000000000000000000000000", NULL,
                   HRSS_EKEY);
    expect_raw_key(n, NULL, HRSS_EKEY);
    snprintf(buf, sizeof(buf), "%.63s2", n); /* n - 1 (n ends in 3) */
    expect_raw_key(buf, NULL, HRSS_EKEY);
    expect_raw_key("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", NULL,
                   HRSS_EKEY);
    snprintf(buf, sizeof(buf), "%.63s1", n); /* n - 2 is the largest allowed */
    hrss_sm2_key *k = NULL;
    assert_int_equal(hrss_sm2_key_from_raw_hex(buf, NULL, &k, NULL), HRSS_OK);
    hrss_sm2_key_free(k);
    /* Wrong lengths and characters. */
    expect_raw_key("3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b", NULL,
                   HRSS_EKEY);
    expect_raw_key("3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b800", NULL,
                   HRSS_EKEY);
    expect_raw_key("3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5bg", NULL,
                   HRSS_EKEY);
    expect_raw_key(NULL, pub + 2, HRSS_EKEY); /* no 04 prefix: 128 digits */
    snprintf(buf, sizeof(buf), "02%s", pub + 2);
    expect_raw_key(NULL, buf, HRSS_EKEY); /* right length, not an uncompressed point */
    /* A point off the curve (y changed), and a pub that is not d's. */
    snprintf(buf, sizeof(buf), "%s", pub);
    buf[129] = buf[129] == '0' ? '1' : '0';
    expect_raw_key(NULL, buf, HRSS_EKEY);
    expect_raw_key(vec("sm2_sig_d"), buf, HRSS_EKEY);
    expect_raw_key("0000000000000000000000000000000000000000000000000000000000000001", pub,
                   HRSS_EKEY);
    assert_int_equal(ERR_peek_error(), 0);
}

static void expect_pem(const char *pem, int code)
{
    hrss_sm2_key *k = NULL;
    hrss_error e = {0, ""};
    assert_int_equal(hrss_sm2_key_from_pem(pem, strlen(pem), &k, &e), code);
    assert_null(k);
    assert_true(strlen(e.msg) > 0);
}

/* The PEM of an OpenSSL key: private PKCS#8 (or encrypted with a passphrase). */
static char *pem_of(EVP_PKEY *pk, int encrypt)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL, *out;
    long n;
    assert_non_null(bio);
    if (encrypt)
        assert_int_equal(
            PEM_write_bio_PKCS8PrivateKey(bio, pk, EVP_aes_128_cbc(), "secret", 6, NULL, NULL), 1);
    else
        assert_int_equal(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL), 1);
    n = BIO_get_mem_data(bio, &data);
    out = calloc(1, (size_t)n + 1);
    assert_non_null(out);
    memcpy(out, data, (size_t)n);
    BIO_free(bio);
    return out;
}

static void bad_pem_keys_rejected(void **state)
{
    (void)state;
    EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    EVP_PKEY *sm2 = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
    char *pem;

    assert_non_null(p256);
    assert_non_null(ed);
    assert_non_null(sm2);
    pem = pem_of(p256, 0);
    expect_pem(pem, HRSS_EKEY);
    free(pem);
    pem = pem_of(ed, 0);
    expect_pem(pem, HRSS_EKEY);
    free(pem);
    pem = pem_of(sm2, 1);
    expect_pem(pem, HRSS_EKEY); /* encrypted: refused, never a passphrase prompt */
    free(pem);
    expect_pem("", HRSS_EKEY);
    expect_pem("not a key", HRSS_EKEY);
    expect_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", HRSS_EKEY);
    /* The SPKI with a point off the curve. */
    char *spki = vec_pem("sm2_pub_spki_der", "PUBLIC KEY");
    size_t at = strlen("-----BEGIN PUBLIC KEY-----\n") + 100;
    spki[at] = spki[at] == 'A' ? 'B' : 'A';
    expect_pem(spki, HRSS_EKEY);
    free(spki);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(sm2);
    assert_int_equal(ERR_peek_error(), 0);
}

/* An "EC" key on the SM2 curve (as some loaders make) is taken as an SM2 key. */
static void ec_typed_sm2_key_accepted(void **state)
{
    (void)state;
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "SM2");
    hrss_sm2_key *k = NULL;
    unsigned char *sig = NULL;
    size_t siglen = 0;
    char *pem;

    if (ec == NULL) {
        ERR_clear_error();
        skip();
    }
    pem = pem_of(ec, 0);
    assert_int_equal(hrss_sm2_key_from_pem(pem, strlen(pem), &k, NULL), HRSS_OK);
    assert_int_equal(hrss_sm2_sign(k, NULL, 0, "m", 1, HRSS_SM2_SIG_DER, &sig, &siglen, NULL),
                     HRSS_OK);
    assert_int_equal(hrss_sm2_verify(k, NULL, 0, "m", 1, HRSS_SM2_SIG_DER, sig, siglen, NULL),
                     HRSS_OK);
    hrss_free(sig);
    hrss_sm2_key_free(k);
    free(pem);
    EVP_PKEY_free(ec);
}

static void malformed_signatures_rejected(void **state)
{
    (void)state;
    hrss_sm2_key *k = official_key(0);
    size_t mlen = 0, derlen = 0;
    unsigned char *msg = vec_bytes("sm2_sig_msg_ascii_hex", &mlen);
    unsigned char *der = vec_bytes("sm2_sig_der", &derlen);
    unsigned char buf[200];
    hrss_error e;

    /* Trailing byte, truncation at every length, BER long-form length. */
    memcpy(buf, der, derlen);
    buf[derlen] = 0;
    assert_int_equal(hrss_sm2_verify(k, NULL, 0, msg, mlen, HRSS_SM2_SIG_DER, buf, derlen + 1, &e),
                     HRSS_EBADSIG);
    for (size_t n = 0; n < derlen; n++)
        assert_int_equal(hrss_sm2_verify(k, NULL, 0, msg, mlen, HRSS_SM2_SIG_DER, der, n, &e),
                         HRSS_EBADSIG);
    buf[0] = 0x30;
    buf[1] = 0x81;
    buf[2] = (unsigned char)(derlen - 2);
    memcpy(buf + 3, der + 2, derlen - 2);
    assert_int_equal(hrss_sm2_verify(k, NULL, 0, msg, mlen, HRSS_SM2_SIG_DER, buf, derlen + 1, &e),
                     HRSS_EBADSIG);
    assert_int_equal(hrss_sm2_verify(k, NULL, 0, msg, mlen, HRSS_SM2_SIG_DER, NULL, 0, &e),
                     HRSS_EBADSIG);
    /* r||s: wrong lengths, zeros, r = n. */
    memset(buf, 0, sizeof(buf));
    assert_int_equal(hrss_sm2_verify(k, NULL, 0, msg, mlen, HRSS_SM2_SIG_RAW, buf, 64, &e),
                     HRSS_EBADSIG);
    assert_int_equal(hrss_sm2_verify(k, NULL, 0, msg, mlen, HRSS_SM2_SIG_RAW, buf, 63, &e),
                     HRSS_EBADSIG);
    assert_int_equal(hrss_sm2_verify(k, NULL, 0, msg, mlen, HRSS_SM2_SIG_RAW, buf, 65, &e),
                     HRSS_EBADSIG);
    size_t nlen = 0;
    unsigned char *n = vec_bytes("sm2_n", &nlen), *s = vec_bytes("sm2_sig_s", &nlen);
    memcpy(buf, n, 32);
    memcpy(buf + 32, s, 32);
    assert_int_equal(hrss_sm2_verify(k, NULL, 0, msg, mlen, HRSS_SM2_SIG_RAW, buf, 64, &e),
                     HRSS_EBADSIG);
    /* Random junk never verifies and never crashes. */
    for (size_t len = 0; len < sizeof(buf); len += 9) {
        assert_int_equal(hrss_random_bytes(buf, len), HRSS_OK);
        if (len > 0)
            buf[0] = 0x30;
        assert_int_equal(hrss_sm2_verify(k, NULL, 0, msg, mlen, HRSS_SM2_SIG_DER, buf, len, &e),
                         HRSS_EBADSIG);
    }
    /* The user ID is at most 8191 bytes (ENTL is 16 bits of bit length). */
    assert_int_equal(
        hrss_sm2_verify(k, (const char *)buf, 8192, msg, mlen, HRSS_SM2_SIG_DER, der, derlen, &e),
        HRSS_EINVAL);
    assert_int_equal(ERR_peek_error(), 0);
    hrss_free(n);
    hrss_free(s);
    hrss_free(msg);
    hrss_free(der);
    hrss_sm2_key_free(k);
}

static void expect_decrypt_fails(const hrss_sm2_key *k, const unsigned char *ct, size_t len,
                                 hrss_sm2_ct_format fmt)
{
    unsigned char *pt = NULL;
    size_t n = 0;
    hrss_error e = {0, ""};
    assert_int_equal(hrss_sm2_decrypt(k, ct, len, fmt, &pt, &n, &e), HRSS_EDECRYPT);
    assert_null(pt);
    assert_int_equal(e.code, HRSS_EDECRYPT);
}

static void tampered_ciphertexts_rejected(void **state)
{
    (void)state;
    hrss_sm2_key *k = official_key(1);
    size_t len = 0, dlen = 0;
    unsigned char *ct = vec_bytes("sm2_enc_C1C3C2", &len);
    unsigned char *der = vec_bytes("sm2_enc_gmt0009_der", &dlen);
    unsigned char buf[300];

    /* One bit flipped in C1 (off the curve), C3 (hash mismatch), C2 (hash mismatch). */
    static const size_t flips[] = {1, 40, 64, 70, 96, 97, 110, 115}; /* len 116 */
    for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
        ct[flips[i]] ^= 0x01;
        expect_decrypt_fails(k, ct, len, HRSS_SM2_C1C3C2);
        ct[flips[i]] ^= 0x01;
    }
    /* Wrong prefix, truncations, C2 empty, extra byte. */
    ct[0] = 0x02;
    expect_decrypt_fails(k, ct, len, HRSS_SM2_C1C3C2);
    ct[0] = 0x04;
    for (size_t n = 0; n < len; n += 5)
        expect_decrypt_fails(k, ct, n, HRSS_SM2_C1C3C2);
    expect_decrypt_fails(k, ct, 97, HRSS_SM2_C1C3C2);
    memcpy(buf, ct, len);
    buf[len] = 0;
    expect_decrypt_fails(k, buf, len + 1, HRSS_SM2_C1C3C2);
    /* DER: trailing byte, every truncation, bit flips, a 31-byte hash. */
    memcpy(buf, der, dlen);
    buf[dlen] = 0;
    expect_decrypt_fails(k, buf, dlen + 1, HRSS_SM2_DER);
    for (size_t n = 0; n < dlen; n++)
        expect_decrypt_fails(k, der, n, HRSS_SM2_DER);
    for (size_t i = 0; i < dlen; i += 3) {
        memcpy(buf, der, dlen);
        buf[i] ^= 0x04;
        unsigned char *pt = NULL;
        size_t n = 0;
        int rc = hrss_sm2_decrypt(k, buf, dlen, HRSS_SM2_DER, &pt, &n, NULL);
        /* Some flips only turn DER into other valid encodings of garbage: never a crash,
         * never the plaintext of a changed ciphertext passing the hash check. */
        assert_int_equal(rc, HRSS_EDECRYPT);
        assert_null(pt);
    }
    /* Garbage of every short length in every layout. */
    for (size_t n = 0; n < 200; n += 3) {
        assert_int_equal(hrss_random_bytes(buf, n), HRSS_OK);
        for (int fmt = HRSS_SM2_C1C3C2; fmt <= HRSS_SM2_DER; fmt++)
            expect_decrypt_fails(k, buf, n, (hrss_sm2_ct_format)fmt);
    }
    assert_int_equal(ERR_peek_error(), 0);
    hrss_free(ct);
    hrss_free(der);
    hrss_sm2_key_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(za_matches_official),
        cmocka_unit_test(za_gives_official_e),
        cmocka_unit_test(verify_official_signature),
        cmocka_unit_test(import_official_pem),
        cmocka_unit_test(decrypt_official_ciphertexts),
        cmocka_unit_test(sign_verify_round_trips),
        cmocka_unit_test(encrypt_decrypt_round_trips),
        cmocka_unit_test(pem_and_raw_round_trips),
        cmocka_unit_test(bad_raw_keys_rejected),
        cmocka_unit_test(bad_pem_keys_rejected),
        cmocka_unit_test(ec_typed_sm2_key_accepted),
        cmocka_unit_test(malformed_signatures_rejected),
        cmocka_unit_test(tampered_ciphertexts_rejected),
    };
    return cmocka_run_group_tests(tests, vectors_load, vectors_free);
}
