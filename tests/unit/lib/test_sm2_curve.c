/*
 * tests/unit/lib/test_sm2_curve.c - libhrss's own SM2 arithmetic (lib/sm2_ec.h) on the
 * official values: the GM/T 0003.5 signature computed with the example's nonce gives the
 * example's r and s exactly, d*G its public key, k*G and k*P its C1 and shared point; and
 * k*G at the scalars where carries and window recodings turn (1, 2, 2^255, n - 1, ...)
 * equals OpenSSL's EC_POINT_mul. Signature verification refuses r or s of 0 or n.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "hrss/crypto.h"
#include "lib/sm2_ec.h"

#include "../vectors.h"

static void vec32(const char *name, unsigned char out[32])
{
    size_t n = 0;
    unsigned char *b = vec_bytes(name, &n);
    assert_int_equal(n, 32);
    memcpy(out, b, 32);
    free(b);
}

static void official_signature_with_its_nonce(void **state)
{
    unsigned char d[32], k[32], e[32], r[32], s[32], want_r[32], want_s[32];
    sm2_priv priv;
    (void)state;
    vec32("sm2_sig_d", d);
    vec32("sm2_sig_k", k);
    vec32("sm2_sig_e", e);
    vec32("sm2_sig_r", want_r);
    vec32("sm2_sig_s", want_s);
    assert_true(hrss__sm2_priv_load(&priv, d));
    assert_true(hrss__sm2_sign_digest(&priv, e, k, r, s));
    assert_memory_equal(r, want_r, 32);
    assert_memory_equal(s, want_s, 32);
}

static void official_points(void **state)
{
    unsigned char d[32], k[32], got[65], kp[65], dc1[65];
    size_t n = 0;
    unsigned char *pub = vec_bytes("sm2_sig_pub_uncompressed", &n);
    unsigned char *c1 = vec_bytes("sm2_enc_C1", &n);
    sm2_pub p, c;
    (void)state;
    vec32("sm2_sig_d", d);
    vec32("sm2_enc_k", k);
    assert_true(hrss__sm2_mul_base(got, d));
    assert_memory_equal(got, pub, 65);
    assert_true(hrss__sm2_mul_base(got, k));
    assert_memory_equal(got, c1, 65);
    /* the shared point both ways: k*P (encryption) = d*C1 (decryption) */
    assert_true(hrss__sm2_pub_decode_vartime(&p, pub));
    assert_true(hrss__sm2_pub_decode_vartime(&c, c1));
    assert_true(hrss__sm2_mul_point(kp, &p.p, k));
    assert_true(hrss__sm2_mul_point(dc1, &c.p, d));
    assert_memory_equal(kp, dc1, 65);
    free(pub);
    free(c1);
}

static void edge_scalars_match_openssl(void **state)
{
    static const char *hex[] = {
        "01", "02", "03", "0f", "10", "11", "1f", "20", "21",
        "8000000000000000000000000000000000000000000000000000000000000000",
        "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54122", /* n - 1 */
        "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54121", /* n - 2 */
        "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54111",
        "00000000000000000000000000000000ffffffffffffffffffffffffffffffff",
        "5555555555555555555555555555555555555555555555555555555555555555",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_sm2);
    EC_POINT *pt = EC_POINT_new(g), *base = EC_POINT_new(g);
    BIGNUM *bn = NULL, *two = BN_new();
    sm2_pub gp;
    unsigned char k[32], mine[65], theirs[65], gb[65];
    (void)state;
    assert_non_null(pt);
    /* P = 2G for k*P */
    assert_true(BN_set_word(two, 2));
    assert_int_equal(EC_POINT_mul(g, base, two, NULL, NULL, NULL), 1);
    assert_int_equal(EC_POINT_point2oct(g, base, POINT_CONVERSION_UNCOMPRESSED, gb, 65, NULL), 65);
    assert_true(hrss__sm2_pub_decode_vartime(&gp, gb));
    for (size_t i = 0; i < sizeof(hex) / sizeof(hex[0]); i++) {
        assert_true(BN_hex2bn(&bn, hex[i]) > 0);
        assert_int_equal(BN_bn2binpad(bn, k, 32), 32);
        assert_int_equal(EC_POINT_mul(g, pt, bn, NULL, NULL, NULL), 1);
        assert_int_equal(EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, theirs, 65, NULL),
                         65);
        assert_true(hrss__sm2_mul_base(mine, k));
        assert_memory_equal(mine, theirs, 65);
        assert_int_equal(EC_POINT_mul(g, pt, NULL, base, bn, NULL), 1);
        assert_int_equal(EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, theirs, 65, NULL),
                         65);
        assert_true(hrss__sm2_mul_point(mine, &gp.p, k));
        assert_memory_equal(mine, theirs, 65);
    }
    /* k = 0: the point at infinity has no encoding */
    memset(k, 0, 32);
    assert_false(hrss__sm2_mul_base(mine, k));
    BN_free(bn);
    BN_free(two);
    EC_POINT_free(pt);
    EC_POINT_free(base);
    EC_GROUP_free(g);
}

static void verification_refuses_out_of_range(void **state)
{
    static const unsigned char n[32] = {
        0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0x72, 0x03, 0xdf, 0x6b, 0x21, 0xc6, 0x05, 0x2b, 0x53, 0xbb, 0xf4, 0x09, 0x39, 0xd5, 0x41, 0x23};
    unsigned char e[32], r[32], s[32], zero[32] = {0};
    size_t len = 0;
    unsigned char *pub = vec_bytes("sm2_sig_pub_uncompressed", &len);
    sm2_pub p;
    (void)state;
    vec32("sm2_sig_e", e);
    vec32("sm2_sig_r", r);
    vec32("sm2_sig_s", s);
    assert_true(hrss__sm2_pub_decode_vartime(&p, pub));
    assert_true(hrss__sm2_pub_prepare_vartime(&p));
    assert_true(hrss__sm2_verify_digest_vartime(&p, e, r, s));
    assert_false(hrss__sm2_verify_digest_vartime(&p, e, zero, s));
    assert_false(hrss__sm2_verify_digest_vartime(&p, e, r, zero));
    assert_false(hrss__sm2_verify_digest_vartime(&p, e, n, s));
    assert_false(hrss__sm2_verify_digest_vartime(&p, e, r, n));
    e[31] ^= 1;
    assert_false(hrss__sm2_verify_digest_vartime(&p, e, r, s));
    /* a point off the curve is refused */
    hrss__sm2_pub_release(&p);
    pub[64] ^= 1;
    assert_false(hrss__sm2_pub_decode_vartime(&p, pub));
    free(pub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(official_signature_with_its_nonce),
        cmocka_unit_test(official_points),
        cmocka_unit_test(edge_scalars_match_openssl),
        cmocka_unit_test(verification_refuses_out_of_range),
    };
    return cmocka_run_group_tests(tests, vectors_load, vectors_free);
}
