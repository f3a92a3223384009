/*
 * lib/sm2_ec.h - libhrss's own SM2 curve arithmetic (GB/T 32918.5 curve), shared by
 * sm2_field.c (integers modulo the prime p and the order n), sm2_curve.c (points, scalar
 * multiplication, the signature and encryption cores) and sm2.c (the public API, which
 * keeps OpenSSL for key files and PEM).
 *
 * Numbers are 4 x 64-bit limbs, least significant first, in Montgomery form (x * 2^256)
 * unless a name says otherwise. Every function here runs in time independent of the
 * values it handles, except those whose name ends in _vartime (only ever given public
 * data: signatures being verified, public keys, curve constants).
 */
#ifndef HRSS_LIB_SM2_EC_H
#define HRSS_LIB_SM2_EC_H

#include <stdint.h>

typedef uint64_t sm2_fe[4];

/* A point in projective (X:Y:Z) (the complete formulas, secrets) or Jacobian (X/Z^2,
 * Y/Z^3) coordinates (verification); Z = 0 is the point at infinity. */
typedef struct sm2_point {
    sm2_fe x, y, z;
} sm2_point;

/* An affine point, coordinates in Montgomery form. */
typedef struct sm2_affine {
    sm2_fe x, y;
} sm2_affine;

/* ---- sm2_field.c: integers modulo p ("fe") and modulo n ("sc") ---- */

extern const sm2_fe hrss__sm2_p, hrss__sm2_n;

/* Must run once before anything else here (sm2_curve.c's init does it). */
void hrss__sm2_field_init(void);

void hrss__sm2_fe_add(sm2_fe r, const sm2_fe a, const sm2_fe b);
void hrss__sm2_fe_sub(sm2_fe r, const sm2_fe a, const sm2_fe b);
void hrss__sm2_fe_mul(sm2_fe r, const sm2_fe a, const sm2_fe b);
void hrss__sm2_fe_sqr(sm2_fe r, const sm2_fe a);
void hrss__sm2_fe_inv(sm2_fe r, const sm2_fe a); /* a^(p-2): 0 for 0 */
/* Big-endian 32 bytes to Montgomery form; 0 if the number is not below p. */
int hrss__sm2_fe_from_bytes(sm2_fe r, const unsigned char in[32]);
void hrss__sm2_fe_to_bytes(unsigned char out[32], const sm2_fe a);
/* All-ones when a == 0 (mod p, a < p), else 0. */
uint64_t hrss__sm2_fe_is_zero(const sm2_fe a);
/* r = mask ? a : r, mask all-ones or 0. */
void hrss__sm2_fe_cmov(sm2_fe r, const sm2_fe a, uint64_t mask);
extern sm2_fe hrss__sm2_fe_one, hrss__sm2_fe_b; /* 1 and the curve's b, Montgomery form */

/* Plain (not Montgomery) 256-bit numbers. */
void hrss__sm2_u256_from_bytes(uint64_t r[4], const unsigned char in[32]);
void hrss__sm2_u256_to_bytes(unsigned char out[32], const uint64_t a[4]);
/* All-ones when a < m, else 0. */
uint64_t hrss__sm2_u256_lt(const uint64_t a[4], const uint64_t m[4]);

/* Modulo n. sc_mul is Montgomery: r = a * b / 2^256 mod n. */
void hrss__sm2_sc_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]);
void hrss__sm2_sc_sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]);
void hrss__sm2_sc_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]);
/* r = a mod n for any 256-bit a (one conditional subtraction: n > 2^255). */
void hrss__sm2_sc_reduce(uint64_t r[4], const uint64_t a[4]);
/* r = a * 2^256 mod n (into Montgomery form), a < n. */
void hrss__sm2_sc_to_mont(uint64_t r[4], const uint64_t a[4]);
/* r = a^-1 in Montgomery form, a in Montgomery form (a^(n-2)). */
void hrss__sm2_sc_inv(uint64_t r[4], const uint64_t a[4]);

/* ---- sm2_curve.c ---- */

/* Prepares the tables (once per process, thread-safe); 0 on success. */
int hrss__sm2_ec_init(void);

/* A decoded public point, with what verification precomputes for it. */
#define SM2_COMB_ROWS 52 /* signed 5-bit windows of a 256-bit scalar (52 * 5 >= 257) */
#define SM2_COMB_COLS 16 /* 1..16 times the row's base 2^(5i) * P */

typedef struct sm2_pub {
    sm2_affine p;
    /* j * 2^(5i) * P, by hrss__sm2_pub_prepare_vartime (malloc'd, 52 KiB); NULL before */
    sm2_affine (*comb)[SM2_COMB_COLS];
} sm2_pub;

/* A private scalar: d and (1 + d)^-1 in Montgomery form modulo n. */
typedef struct sm2_priv {
    uint64_t d[4];      /* plain d, 1 <= d <= n - 2 */
    uint64_t d_mont[4]; /* d * 2^256 mod n */
    uint64_t dinv[4];   /* (1 + d)^-1 * 2^256 mod n */
} sm2_priv;

/* Decodes 04 || X || Y into pub->p (pub->comb set to NULL); 0 (refused) unless it is a
 * point of the curve. */
int hrss__sm2_pub_decode_vartime(sm2_pub *pub, const unsigned char in[65]);
/* Builds pub->comb for verification (a key's point, once: about a millisecond); 0 when
 * out of memory. hrss__sm2_pub_release frees it. */
int hrss__sm2_pub_prepare_vartime(sm2_pub *pub);
void hrss__sm2_pub_release(sm2_pub *pub);
/* d (32 big-endian bytes) into a private scalar; 0 unless 1 <= d <= n - 2. */
int hrss__sm2_priv_load(sm2_priv *priv, const unsigned char d[32]);
/* out = 04 || k*G (constant time); 0 when k*G is infinity (k = 0 mod n). */
int hrss__sm2_mul_base(unsigned char out[65], const unsigned char k[32]);
/* out = 04 || k*P (constant time in k and P); 0 when the result is infinity. */
int hrss__sm2_mul_point(unsigned char out[65], const sm2_affine *p, const unsigned char k[32]);
/* The signature core (GB/T 32918.2 6.1 A4-A7): r, s from the digest e and the nonce k.
 * 0 when this k gives r = 0, r + k = n or s = 0 (draw another k); 1 otherwise. */
int hrss__sm2_sign_digest(const sm2_priv *priv, const unsigned char e[32],
                          const unsigned char k[32], unsigned char r[32], unsigned char s[32]);
/* The verification core (7.1 B1, B4-B7): 1 when (r, s) signs e under pub. */
int hrss__sm2_verify_digest_vartime(const sm2_pub *pub, const unsigned char e[32],
                                    const unsigned char r[32], const unsigned char s[32]);

#endif
