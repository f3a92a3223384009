/*
 * tests/unit/lib/test_crypto.c - the symmetric half of hrss/crypto.h: Base64 and hex
 * strictness, SM3 (GB/T 32905 vectors, streaming), HMAC-SM3 against its definition,
 * SM4-ECB (GB/T 32907 vectors including the 1,000,000-encryption one, local PKCS#7
 * regression values, every padding rule), the 16-digit key rule, and SM4-GCM (RFC 8998
 * A.1, Wycheproof, tampering).
 *
 * Official values are read at run time from $HRSS_SOURCE_DIR/tests/vectors/sm-vectors.txt,
 * so that file stays the one source of truth.
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

#include "hrss/crypto.h"

#include "../vectors.h"

/* ---- encodings ---- */

static void base64_rfc4648_vectors(void **state)
{
    (void)state;
    static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char *s = NULL;
        unsigned char *b = NULL;
        size_t n = 99;
        assert_int_equal(hrss_base64_encode(plain[i], strlen(plain[i]), &s, &n), HRSS_OK);
        assert_string_equal(s, enc[i]);
        assert_int_equal(n, strlen(enc[i]));
        assert_int_equal(hrss_base64_decode(enc[i], strlen(enc[i]), &b, &n, NULL), HRSS_OK);
        assert_int_equal(n, strlen(plain[i]));
        assert_memory_equal(b, plain[i], n);
        hrss_free(s);
        hrss_free(b);
    }
}

static void base64_strict_rejections(void **state)
{
    (void)state;
    static const char *bad[] = {
        "Zm9v\n",   /* trailing newline */
        "Zm 9v",    /* inner space, also wrong length */
        " Zm9",     /* leading space */
        "Zm9",      /* length not a multiple of 4 */
        "Zm=v",     /* '=' before the end */
        "Zm9v====", /* a whole quantum of padding */
        "Z===",     /* three '=' */
        "====",     /* padding only */
        "Zm9*",     /* outside the alphabet */
        "Zm9-",     /* base64url is not accepted */
        "Zh==",     /* non-zero bits before "==" */
        "Zm9=",     /* non-zero bits before "=" */
        "Zg==Zg==", /* padding in the middle */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char *b = (unsigned char *)"untouched";
        hrss_error e = {0, ""};
        assert_int_equal(hrss_base64_decode(bad[i], strlen(bad[i]), &b, NULL, &e), HRSS_EFORMAT);
        assert_null(b);
        assert_int_equal(e.code, HRSS_EFORMAT);
        assert_true(strlen(e.msg) > 0);
    }
}

static void base64_round_trip_binary(void **state)
{
    (void)state;
    unsigned char data[300];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t len = 0; len <= sizeof(data); len += 7) {
        char *s = NULL;
        unsigned char *b = NULL;
        size_t slen = 0, blen = 0;
        assert_int_equal(hrss_base64_encode(data, len, &s, &slen), HRSS_OK);
        assert_int_equal(slen % 4, 0);
        assert_int_equal(hrss_base64_decode(s, slen, &b, &blen, NULL), HRSS_OK);
        assert_int_equal(blen, len);
        if (len > 0)
            assert_memory_equal(b, data, len);
        hrss_free(s);
        hrss_free(b);
    }
}

static void hex_cases(void **state)
{
    (void)state;
    char *s = NULL;
    unsigned char *b = NULL;
    size_t n = 0;
    hrss_error e;

    assert_int_equal(hrss_hex_encode("\x00\xab\xff", 3, &s, &n), HRSS_OK);
    assert_string_equal(s, "00abff");
    assert_int_equal(n, 6);
    hrss_free(s);
    assert_int_equal(hrss_hex_decode("00AbfF", 6, &b, &n, NULL), HRSS_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(b, "\x00\xab\xff", 3);
    hrss_free(b);
    assert_int_equal(hrss_hex_decode("", 0, &b, &n, NULL), HRSS_OK);
    assert_int_equal(n, 0);
    hrss_free(b);
    assert_int_equal(hrss_hex_decode("abc", 3, &b, &n, &e), HRSS_EFORMAT);
    assert_null(b);
    assert_int_equal(hrss_hex_decode("0g", 2, &b, &n, &e), HRSS_EFORMAT);
    assert_int_equal(hrss_hex_decode("0 ", 2, &b, &n, &e), HRSS_EFORMAT);
    assert_int_equal(hrss_hex_decode("ab\n", 3, &b, &n, &e), HRSS_EFORMAT);
}

static void ct_equal_and_random(void **state)
{
    (void)state;
    unsigned char a[32], b[32];
    assert_true(hrss_ct_equal("abc", "abc", 3));
    assert_false(hrss_ct_equal("abc", "abd", 3));
    assert_false(hrss_ct_equal("xbc", "abc", 3));
    assert_true(hrss_ct_equal("a", "b", 0));
    assert_int_equal(hrss_random_bytes(a, sizeof(a)), HRSS_OK);
    assert_int_equal(hrss_random_bytes(b, sizeof(b)), HRSS_OK);
    assert_false(hrss_ct_equal(a, b, sizeof(a)));
    assert_int_equal(hrss_random_bytes(NULL, 0), HRSS_OK);
}

/* ---- SM3 ---- */

static void sm3_official_vectors(void **state)
{
    (void)state;
    static const char *names[][2] = {{"sm3_msg1_ascii_hex", "sm3_msg1_digest"},
                                     {"sm3_msg2_ascii_hex", "sm3_msg2_digest"}};
    for (size_t v = 0; v < 2; v++) {
        size_t len = 0;
        unsigned char *msg = vec_bytes(names[v][0], &len), md[HRSS_SM3_LEN];
        assert_int_equal(hrss_sm3(msg, len, md), HRSS_OK);
        assert_hex_equal(md, sizeof(md), vec(names[v][1]));
        /* Streaming, split at every offset, one context reused: final starts it over. */
        hrss_sm3_ctx *c = hrss_sm3_new();
        assert_non_null(c);
        for (size_t cut = 0; cut <= len; cut++) {
            memset(md, 0, sizeof(md));
            assert_int_equal(hrss_sm3_update(c, msg, cut), HRSS_OK);
            assert_int_equal(hrss_sm3_update(c, msg + cut, len - cut), HRSS_OK);
            assert_int_equal(hrss_sm3_final(c, md), HRSS_OK);
            assert_hex_equal(md, sizeof(md), vec(names[v][1]));
        }
        hrss_sm3_free(c);
        hrss_free(msg);
    }
    hrss_sm3_free(NULL);
}

/* HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m)), K' = K or H(K) padded to 64 bytes. */
static void hmac_by_definition(const unsigned char *key, size_t keylen, const unsigned char *m,
                               size_t mlen, unsigned char out[HRSS_SM3_LEN])
{
    unsigned char k0[64] = {0}, pad[64], inner[HRSS_SM3_LEN];
    hrss_sm3_ctx *c = hrss_sm3_new();
    assert_non_null(c);
    if (keylen > 64)
        assert_int_equal(hrss_sm3(key, keylen, k0), HRSS_OK);
    else if (keylen > 0)
        memcpy(k0, key, keylen);
    for (int i = 0; i < 64; i++)
        pad[i] = k0[i] ^ 0x36;
    assert_int_equal(hrss_sm3_update(c, pad, 64), HRSS_OK);
    assert_int_equal(hrss_sm3_update(c, m, mlen), HRSS_OK);
    assert_int_equal(hrss_sm3_final(c, inner), HRSS_OK);
    for (int i = 0; i < 64; i++)
        pad[i] = k0[i] ^ 0x5c;
    assert_int_equal(hrss_sm3_update(c, pad, 64), HRSS_OK);
    assert_int_equal(hrss_sm3_update(c, inner, sizeof(inner)), HRSS_OK);
    assert_int_equal(hrss_sm3_final(c, out), HRSS_OK);
    hrss_sm3_free(c);
}

static void hmac_sm3_matches_definition(void **state)
{
    (void)state;
    unsigned char key[100], msg[200], got[HRSS_SM3_LEN], want[HRSS_SM3_LEN];
    static const size_t keylens[] = {0, 1, 16, 32, 63, 64, 65, 100};
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (unsigned char)(0xa0 + i);
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (unsigned char)i;
    for (size_t i = 0; i < sizeof(keylens) / sizeof(keylens[0]); i++) {
        for (size_t mlen = 0; mlen <= sizeof(msg); mlen += 50) {
            assert_int_equal(hrss_hmac_sm3(key, keylens[i], msg, mlen, got), HRSS_OK);
            hmac_by_definition(key, keylens[i], msg, mlen, want);
            assert_memory_equal(got, want, sizeof(got));
        }
        /* a prepared key: the same MACs, again and again */
        hrss_hmac_sm3_key *k = NULL;
        assert_int_equal(hrss_hmac_sm3_key_new(key, keylens[i], &k), HRSS_OK);
        for (int round = 0; round < 2; round++)
            for (size_t mlen = 0; mlen <= sizeof(msg); mlen += 50) {
                assert_int_equal(hrss_hmac_sm3_keyed(k, msg, mlen, got), HRSS_OK);
                hmac_by_definition(key, keylens[i], msg, mlen, want);
                assert_memory_equal(got, want, sizeof(got));
            }
        hrss_hmac_sm3_key_free(k);
    }
    hrss_hmac_sm3_key_free(NULL);
    assert_int_equal(hrss_hmac_sm3_key_new(NULL, 1, NULL), HRSS_EINVAL);
    assert_int_equal(hrss_hmac_sm3_keyed(NULL, msg, 1, got), HRSS_EINVAL);
    /* A different key gives a different MAC. */
    assert_int_equal(hrss_hmac_sm3("k1", 2, "m", 1, got), HRSS_OK);
    assert_int_equal(hrss_hmac_sm3("k2", 2, "m", 1, want), HRSS_OK);
    assert_false(hrss_ct_equal(got, want, sizeof(got)));
}

/* ---- SM4 ---- */

static void sm4_official_single_block(void **state)
{
    (void)state;
    size_t klen = 0, plen = 0, clen = 0, n = 0;
    unsigned char *key = vec_bytes("sm4_ex1_key", &klen);
    unsigned char *pt = vec_bytes("sm4_ex1_plaintext", &plen);
    unsigned char *ct = vec_bytes("sm4_ex1_ciphertext", &clen);
    unsigned char *out = NULL, *back = NULL;

    assert_int_equal(klen, 16);
    assert_int_equal(hrss_sm4_ecb_encrypt(key, pt, plen, &out, &n, NULL), HRSS_OK);
    /* 16 bytes in: the block itself, then a whole block of PKCS#7 padding. */
    assert_int_equal(n, 32);
    assert_memory_equal(out, ct, 16);
    assert_int_equal(hrss_sm4_ecb_decrypt(key, out, n, &back, &n, NULL), HRSS_OK);
    assert_int_equal(n, 16);
    assert_memory_equal(back, pt, 16);
    hrss_free(back);
    hrss_free(out);
    hrss_free(key);
    hrss_free(pt);
    hrss_free(ct);
}

static void sm4_official_million_encryptions(void **state)
{
    (void)state;
    size_t klen = 0, plen = 0, n = 0;
    unsigned char *key = vec_bytes("sm4_ex1_key", &klen);
    unsigned char *block = vec_bytes("sm4_ex1_plaintext", &plen);
    for (int i = 0; i < 1000000; i++) {
        unsigned char *out = NULL;
        assert_int_equal(hrss_sm4_ecb_encrypt(key, block, 16, &out, &n, NULL), HRSS_OK);
        memcpy(block, out, 16);
        hrss_free(out);
    }
    assert_hex_equal(block, 16, vec("sm4_ex2_ciphertext_after_1000000_encryptions"));
    hrss_free(key);
    hrss_free(block);
}

static void sm4_local_regression_values(void **state)
{
    (void)state;
    static const char *cases[][2] = {
        {"local_sm4ecb_pkcs7_pt_abc_hex", "local_sm4ecb_pkcs7_ct_abc"},
        {NULL, "local_sm4ecb_pkcs7_ct_empty"},
        {"local_sm4ecb_pkcs7_pt_json_hex", "local_sm4ecb_pkcs7_ct_json"}};
    unsigned char key[HRSS_SM4_KEY_LEN];
    size_t n = 0;

    assert_int_equal(hrss_sm4_key_from_digits("1234567890123456", 16, key, NULL), HRSS_OK);
    assert_hex_equal(key, sizeof(key), vec("local_sm4ecb_key_ascii_1234567890123456_hex"));
    for (size_t i = 0; i < 3; i++) {
        size_t plen = 0;
        unsigned char *pt = cases[i][0] != NULL ? vec_bytes(cases[i][0], &plen) : NULL;
        unsigned char *ct = NULL, *back = NULL;
        assert_int_equal(hrss_sm4_ecb_encrypt(key, pt, plen, &ct, &n, NULL), HRSS_OK);
        assert_hex_equal(ct, n, vec(cases[i][1]));
        assert_int_equal(hrss_sm4_ecb_decrypt(key, ct, n, &back, &n, NULL), HRSS_OK);
        assert_int_equal(n, plen);
        if (plen > 0)
            assert_memory_equal(back, pt, plen);
        if (i == 2) {
            /* The Base64 text an LD/T 6008 body would carry. */
            char *b64 = NULL;
            size_t clen = 0;
            unsigned char *ct2 = vec_bytes(cases[i][1], &clen);
            assert_int_equal(hrss_base64_encode(ct2, clen, &b64, NULL), HRSS_OK);
            assert_string_equal(b64, vec("local_sm4ecb_pkcs7_ct_json.base64"));
            hrss_free(b64);
            hrss_free(ct2);
        }
        hrss_free(pt);
        hrss_free(ct);
        hrss_free(back);
    }
}

static void sm4_key_must_be_16_digits(void **state)
{
    (void)state;
    static const char *bad[] = {"123456789012345",
                                "12345678901234567",
                                "123456789012345a",
                                "1234567 90123456",
                                "\xef\xbc\x91"
                                "2345678901234", /* full-width 1 */
                                "0x34567890123456"};
    unsigned char key[HRSS_SM4_KEY_LEN];
    hrss_error e;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&e, 0, sizeof(e));
        assert_int_equal(hrss_sm4_key_from_digits(bad[i], strlen(bad[i]), key, &e), HRSS_EKEY);
        assert_int_equal(e.code, HRSS_EKEY);
        /* The message names the rule, never the key. */
        assert_null(strstr(e.msg, "12345678"));
    }
    assert_int_equal(hrss_sm4_key_from_digits("", 0, key, &e), HRSS_EKEY);
    assert_int_equal(hrss_sm4_key_from_digits("0000000000000000", 16, key, &e), HRSS_OK);
    assert_memory_equal(key, "0000000000000000", 16);
}

static void sm4_ecb_decrypt_rejects_bad_input(void **state)
{
    (void)state;
    unsigned char key[HRSS_SM4_KEY_LEN], buf[48] = {0}, *ct = NULL, *out = NULL;
    unsigned char pt[32];
    size_t n = 0;
    hrss_error e;

    assert_int_equal(hrss_sm4_key_from_digits("1234567890123456", 16, key, NULL), HRSS_OK);
    assert_int_equal(hrss_sm4_ecb_decrypt(key, buf, 0, &out, &n, &e), HRSS_EDECRYPT);
    assert_int_equal(hrss_sm4_ecb_decrypt(key, buf, 15, &out, &n, &e), HRSS_EDECRYPT);
    assert_int_equal(hrss_sm4_ecb_decrypt(key, buf, 17, &out, &n, &e), HRSS_EDECRYPT);
    assert_null(out);

    /* Encrypt two chosen blocks; keeping only their ciphertext (dropping the padding
     * block) makes the second block the "last" one, so each padding rule can be hit. */
    struct {
        unsigned char tail[5];
        int ok;
        size_t keep;
    } cases[] = {
        {{0x05, 0x05, 0x05, 0x05, 0x05}, 1, 27}, /* valid: 5 bytes of 5 */
        {{0x09, 0x09, 0x09, 0x09, 0x01}, 1, 31}, /* valid: 1 byte of 1 */
        {{0x01, 0x02, 0x03, 0x04, 0x00}, 0, 0},  /* 0 is never padding */
        {{0x01, 0x02, 0x03, 0x04, 0x11}, 0, 0},  /* 17 > block size */
        {{0x05, 0x04, 0x05, 0x05, 0x05}, 0, 0},  /* one byte of the run differs */
        {{0x07, 0x07, 0x07, 0x07, 0x07}, 0, 0},  /* run shorter than claimed */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(pt, 'x', sizeof(pt));
        memcpy(pt + 27, cases[i].tail, 5);
        assert_int_equal(hrss_sm4_ecb_encrypt(key, pt, 32, &ct, &n, NULL), HRSS_OK);
        assert_int_equal(n, 48);
        memset(&e, 0, sizeof(e));
        int rc = hrss_sm4_ecb_decrypt(key, ct, 32, &out, &n, &e);
        if (cases[i].ok) {
            assert_int_equal(rc, HRSS_OK);
            assert_int_equal(n, cases[i].keep);
            assert_memory_equal(out, pt, n);
            hrss_free(out);
        } else {
            assert_int_equal(rc, HRSS_EDECRYPT);
            assert_non_null(strstr(e.msg, "padding"));
            assert_null(out);
        }
        hrss_free(ct);
    }
    /* Wrong key: almost always bad padding; never a crash, never the plaintext. */
    assert_int_equal(hrss_sm4_ecb_encrypt(key, "hello", 5, &ct, &n, NULL), HRSS_OK);
    assert_int_equal(hrss_sm4_key_from_digits("6543210987654321", 16, key, NULL), HRSS_OK);
    if (hrss_sm4_ecb_decrypt(key, ct, n, &out, &n, &e) == HRSS_OK) {
        assert_false(n == 5 && memcmp(out, "hello", 5) == 0);
        hrss_free(out);
    }
    hrss_free(ct);
    /* Failures leave nothing in OpenSSL's error queue. */
    assert_int_equal(ERR_peek_error(), 0);
}

static void sm4_ecb_round_trips(void **state)
{
    (void)state;
    unsigned char key[HRSS_SM4_KEY_LEN], *data = malloc(10000);
    assert_non_null(data);
    assert_int_equal(hrss_sm4_key_from_digits("9876543210123456", 16, key, NULL), HRSS_OK);
    assert_int_equal(hrss_random_bytes(data, 10000), HRSS_OK);
    static const size_t lens[] = {0, 1, 15, 16, 17, 31, 32, 33, 100, 10000};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        unsigned char *ct = NULL, *pt = NULL;
        size_t n = 0, m = 0;
        assert_int_equal(hrss_sm4_ecb_encrypt(key, data, lens[i], &ct, &n, NULL), HRSS_OK);
        assert_int_equal(n, lens[i] / 16 * 16 + 16);
        assert_int_equal(hrss_sm4_ecb_decrypt(key, ct, n, &pt, &m, NULL), HRSS_OK);
        assert_int_equal(m, lens[i]);
        if (m > 0)
            assert_memory_equal(pt, data, m);
        hrss_free(ct);
        hrss_free(pt);
    }
    free(data);
}

/* ---- SM4-GCM ---- */

/* RFC 8998 A.1 (the same case opens Wycheproof's SM4-GCM file). */
static const char rfc8998_key[] = "0123456789abcdeffedcba9876543210";
static const char rfc8998_iv[] = "00001234567800000000abcd";
static const char rfc8998_aad[] = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
static const char rfc8998_pt[] = "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd"
                                 "eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa";
static const char rfc8998_ct_tag[] =
    "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735"
    "d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d"
    "83de3541e4c2b58177e065a9bf7b62ec";

static unsigned char *unhex(const char *hex, size_t *len)
{
    unsigned char *out = NULL;
    assert_int_equal(hrss_hex_decode(hex, strlen(hex), &out, len, NULL), HRSS_OK);
    return out;
}

static void sm4_gcm_known_answers(void **state)
{
    (void)state;
    size_t klen, aadlen, ctlen, n = 0;
    unsigned char *key = unhex(rfc8998_key, &klen), *aad = unhex(rfc8998_aad, &aadlen);
    char input_hex[512];
    unsigned char *input, *pt = NULL;
    hrss_error e;

    snprintf(input_hex, sizeof(input_hex), "%s%s", rfc8998_iv, rfc8998_ct_tag);
    input = unhex(input_hex, &ctlen);
    assert_int_equal(hrss_sm4_gcm_decrypt(key, aad, aadlen, input, ctlen, &pt, &n, &e), HRSS_OK);
    assert_hex_equal(pt, n, rfc8998_pt);
    hrss_free(pt);

    /* Without the AAD, or with one bit changed anywhere, the tag does not check out. */
    assert_int_equal(hrss_sm4_gcm_decrypt(key, NULL, 0, input, ctlen, &pt, &n, &e), HRSS_EDECRYPT);
    assert_null(pt);
    for (size_t i = 0; i < ctlen; i += 7) {
        input[i] ^= 0x01;
        assert_int_equal(hrss_sm4_gcm_decrypt(key, aad, aadlen, input, ctlen, &pt, &n, &e),
                         HRSS_EDECRYPT);
        assert_null(pt);
        input[i] ^= 0x01;
    }
    aad[0] ^= 0x80;
    assert_int_equal(hrss_sm4_gcm_decrypt(key, aad, aadlen, input, ctlen, &pt, &n, &e),
                     HRSS_EDECRYPT);
    assert_int_equal(hrss_sm4_gcm_decrypt(key, aad, aadlen, input, 27, &pt, &n, &e), HRSS_EDECRYPT);
    hrss_free(input);
    hrss_free(key);
    hrss_free(aad);

    /* Wycheproof's SM4-GCM tcId 2: empty message and AAD, the tag alone. */
    key = unhex("bedcfb5a011ebc84600fcb296c15af0d", &klen);
    input = unhex("438a547a94ea88dce46c6c85a486a45596cb92cf529de2038583707d", &ctlen);
    assert_int_equal(hrss_sm4_gcm_decrypt(key, NULL, 0, input, ctlen, &pt, &n, &e), HRSS_OK);
    assert_int_equal(n, 0);
    hrss_free(pt);
    hrss_free(input);
    hrss_free(key);
    assert_int_equal(ERR_peek_error(), 0);
}

static void sm4_gcm_round_trips(void **state)
{
    (void)state;
    unsigned char key[HRSS_SM4_KEY_LEN], *data = malloc(10000), *c1 = NULL, *c2 = NULL;
    size_t n1 = 0, n2 = 0;
    assert_non_null(data);
    assert_int_equal(hrss_sm4_key_from_digits("1234567890123456", 16, key, NULL), HRSS_OK);
    assert_int_equal(hrss_random_bytes(data, 10000), HRSS_OK);
    static const size_t lens[] = {0, 1, 15, 16, 17, 100, 10000};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        for (int with_aad = 0; with_aad < 2; with_aad++) {
            const char *aad = with_aad ? "header" : NULL;
            size_t aadlen = with_aad ? 6 : 0;
            unsigned char *ct = NULL, *pt = NULL;
            size_t n = 0, m = 0;
            assert_int_equal(hrss_sm4_gcm_encrypt(key, aad, aadlen, data, lens[i], &ct, &n, NULL),
                             HRSS_OK);
            assert_int_equal(n, HRSS_SM4_GCM_IV_LEN + lens[i] + HRSS_SM4_GCM_TAG_LEN);
            assert_int_equal(hrss_sm4_gcm_decrypt(key, aad, aadlen, ct, n, &pt, &m, NULL), HRSS_OK);
            assert_int_equal(m, lens[i]);
            if (m > 0)
                assert_memory_equal(pt, data, m);
            hrss_free(pt);
            ct[n - 1] ^= 1; /* the tag */
            assert_int_equal(hrss_sm4_gcm_decrypt(key, aad, aadlen, ct, n, &pt, &m, NULL),
                             HRSS_EDECRYPT);
            hrss_free(ct);
        }
    }
    /* A fresh random IV each time: the same message never gives the same output. */
    assert_int_equal(hrss_sm4_gcm_encrypt(key, NULL, 0, "same", 4, &c1, &n1, NULL), HRSS_OK);
    assert_int_equal(hrss_sm4_gcm_encrypt(key, NULL, 0, "same", 4, &c2, &n2, NULL), HRSS_OK);
    assert_false(hrss_ct_equal(c1, c2, HRSS_SM4_GCM_IV_LEN));
    hrss_free(c1);
    hrss_free(c2);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base64_rfc4648_vectors),
        cmocka_unit_test(base64_strict_rejections),
        cmocka_unit_test(base64_round_trip_binary),
        cmocka_unit_test(hex_cases),
        cmocka_unit_test(ct_equal_and_random),
        cmocka_unit_test(sm3_official_vectors),
        cmocka_unit_test(hmac_sm3_matches_definition),
        cmocka_unit_test(sm4_official_single_block),
        cmocka_unit_test(sm4_official_million_encryptions),
        cmocka_unit_test(sm4_local_regression_values),
        cmocka_unit_test(sm4_key_must_be_16_digits),
        cmocka_unit_test(sm4_ecb_decrypt_rejects_bad_input),
        cmocka_unit_test(sm4_ecb_round_trips),
        cmocka_unit_test(sm4_gcm_known_answers),
        cmocka_unit_test(sm4_gcm_round_trips),
    };
    return cmocka_run_group_tests(tests, vectors_load, vectors_free);
}
