/*
 * lib/sm2_field.h - the inline core of sm2_field.c (limb helpers, modular addition and
 * subtraction, Montgomery multiplication modulo p), shared with sm2_curve.c so that the
 * point formulas compile to straight-line code without a call per field operation.
 * Constant time: masks, no branch or index on the values.
 */
#ifndef HRSS_LIB_SM2_FIELD_H
#define HRSS_LIB_SM2_FIELD_H

#include <stdint.h>

#include "sm2_ec.h"

__extension__ typedef unsigned __int128 u128;

#define FORCE_INLINE static inline __attribute__((always_inline))
/* Loops over the 4 limbs are unrolled: gcc at -O2 otherwise keeps the limbs in memory. */
#if defined(__clang__)
#define UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define UNROLL _Pragma("GCC unroll 16")
#else
#define UNROLL
#endif

/* r = a - m if that does not borrow (with the carry limb hi), else a. */
FORCE_INLINE void csub(uint64_t r[4], const uint64_t a[4], uint64_t hi, const uint64_t m[4])
{
    uint64_t t[4], borrow = 0, mask;
    UNROLL
    for (int i = 0; i < 4; i++) {
        u128 d = (u128)a[i] - m[i] - borrow;
        t[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
    /* keep a when hi:a < m, i.e. the subtraction borrowed past hi */
    mask = 0 - (uint64_t)(borrow > hi);
    UNROLL
    for (int i = 0; i < 4; i++)
        r[i] = (a[i] & mask) | (t[i] & ~mask);
}

FORCE_INLINE void mod_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                          const uint64_t m[4])
{
    uint64_t t[4];
    u128 c = 0;
    UNROLL
    for (int i = 0; i < 4; i++) {
        c += (u128)a[i] + b[i];
        t[i] = (uint64_t)c;
        c >>= 64;
    }
    csub(r, t, (uint64_t)c, m);
}

FORCE_INLINE void mod_sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                          const uint64_t m[4])
{
    uint64_t t[4], borrow = 0, mask;
    u128 c = 0;
    UNROLL
    for (int i = 0; i < 4; i++) {
        u128 d = (u128)a[i] - b[i] - borrow;
        t[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
    mask = 0 - borrow;
    UNROLL
    for (int i = 0; i < 4; i++) {
        c += (u128)t[i] + (m[i] & mask);
        r[i] = (uint64_t)c;
        c >>= 64;
    }
}

#if defined(__x86_64__)
#include <x86intrin.h>
/* a + b + *c, the carry out in *c; a - b - *bw, the borrow out in *bw. On x86-64 the
 * intrinsics give adc and sbb chains, which compilers do not reliably find in __int128. */
FORCE_INLINE uint64_t adc(uint64_t a, uint64_t b, uint64_t *c)
{
    unsigned long long r;
    *c = _addcarry_u64((unsigned char)*c, a, b, &r);
    return r;
}

FORCE_INLINE uint64_t sbb(uint64_t a, uint64_t b, uint64_t *bw)
{
    unsigned long long r;
    *bw = _subborrow_u64((unsigned char)*bw, a, b, &r);
    return r;
}
#else
FORCE_INLINE uint64_t adc(uint64_t a, uint64_t b, uint64_t *c)
{
    u128 t = (u128)a + b + *c;
    *c = (uint64_t)(t >> 64);
    return (uint64_t)t;
}

FORCE_INLINE uint64_t sbb(uint64_t a, uint64_t b, uint64_t *bw)
{
    u128 t = (u128)a - b - *bw;
    *bw = (uint64_t)(t >> 64) & 1;
    return (uint64_t)t;
}
#endif

/*
 * Montgomery reduction modulo p of the 512-bit t[0..7] (t[8] = 0 on entry) using the
 * prime's shape: four rounds without multiplications. With q the lowest live limb,
 * adding q * p = q * (2^256 - 2^224 - 2^96 + 2^64 - 1) clears that limb; what it adds
 * above is q * (2^192 - 2^160 - 2^32 + 1) one limb up, i.e. [q, 0, 0, q] - [q << 32,
 * q >> 32, q << 32, q >> 32] (never negative). r = t / 2^256 mod p.
 */
FORCE_INLINE void fe_mont_reduce(uint64_t r[4], uint64_t t[9])
{
    uint64_t c, bw;

    UNROLL
    for (int i = 0; i < 4; i++) {
        uint64_t q = t[i], lo = q << 32, hi = q >> 32, d[4];
        bw = 0;
        d[0] = sbb(q, lo, &bw);
        d[1] = sbb(0, hi, &bw);
        d[2] = sbb(0, lo, &bw);
        d[3] = sbb(q, hi, &bw);
        c = 0;
        UNROLL
        for (int j = 0; j < 4; j++)
            t[i + 1 + j] = adc(t[i + 1 + j], d[j], &c);
        UNROLL
        for (int j = i + 5; j < 9; j++)
            t[j] = adc(t[j], 0, &c);
    }
    csub(r, t + 4, t[8], hrss__sm2_p);
}

#define LO64(x) ((uint64_t)(x))
#define HI64(x) ((uint64_t)((x) >> 64))

/* r = a * b / 2^256 mod p: the schoolbook product, one row of 5 limbs per b[i]. */
FORCE_INLINE void fe_mont_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    uint64_t t[9], c;

    UNROLL
    for (int i = 0; i < 9; i++)
        t[i] = 0;
    UNROLL
    for (int i = 0; i < 4; i++) {
        u128 m0 = (u128)a[0] * b[i], m1 = (u128)a[1] * b[i], m2 = (u128)a[2] * b[i],
             m3 = (u128)a[3] * b[i];
        uint64_t row[5];
        c = 0;
        row[0] = LO64(m0);
        row[1] = adc(HI64(m0), LO64(m1), &c);
        row[2] = adc(HI64(m1), LO64(m2), &c);
        row[3] = adc(HI64(m2), LO64(m3), &c);
        row[4] = HI64(m3) + c;
        c = 0;
        UNROLL
        for (int j = 0; j < 5; j++)
            t[i + j] = adc(t[i + j], row[j], &c);
    }
    fe_mont_reduce(r, t);
}

/* r = a^2 / 2^256 mod p: the six cross products once, doubled, plus the four squares. */
FORCE_INLINE void fe_mont_sqr(uint64_t r[4], const uint64_t a[4])
{
    u128 m01 = (u128)a[0] * a[1], m02 = (u128)a[0] * a[2], m03 = (u128)a[0] * a[3],
         m12 = (u128)a[1] * a[2], m13 = (u128)a[1] * a[3], m23 = (u128)a[2] * a[3];
    uint64_t t[9], s3, s4, s5, c = 0;

    t[0] = 0;
    t[1] = LO64(m01);
    t[2] = adc(HI64(m01), LO64(m02), &c);
    t[3] = adc(HI64(m02), LO64(m03), &c);
    t[4] = HI64(m03) + c;
    c = 0;
    s3 = LO64(m12);
    s4 = adc(HI64(m12), LO64(m13), &c);
    s5 = HI64(m13) + c;
    c = 0;
    t[3] = adc(t[3], s3, &c);
    t[4] = adc(t[4], s4, &c);
    t[5] = adc(s5, 0, &c);
    t[6] = c;
    c = 0;
    t[5] = adc(t[5], LO64(m23), &c);
    t[6] = adc(t[6], HI64(m23), &c);
    t[7] = c;
    /* double the cross products (their sum is below 2^511) */
    t[7] = t[7] << 1 | t[6] >> 63;
    t[6] = t[6] << 1 | t[5] >> 63;
    t[5] = t[5] << 1 | t[4] >> 63;
    t[4] = t[4] << 1 | t[3] >> 63;
    t[3] = t[3] << 1 | t[2] >> 63;
    t[2] = t[2] << 1 | t[1] >> 63;
    t[1] = t[1] << 1;
    c = 0;
    UNROLL
    for (int i = 0; i < 4; i++) {
        u128 d = (u128)a[i] * a[i];
        t[2 * i] = adc(t[2 * i], LO64(d), &c);
        t[2 * i + 1] = adc(t[2 * i + 1], HI64(d), &c);
    }
    t[8] = 0;
    fe_mont_reduce(r, t);
}

/* r = mask ? a : r, mask all-ones or 0 */
FORCE_INLINE void fe_cmov(uint64_t r[4], const uint64_t a[4], uint64_t mask)
{
    UNROLL
    for (int i = 0; i < 4; i++)
        r[i] = (r[i] & ~mask) | (a[i] & mask);
}

/* the inline forms sm2_curve.c uses */
FORCE_INLINE void fe_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    mod_add(r, a, b, hrss__sm2_p);
}

FORCE_INLINE void fe_sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    mod_sub(r, a, b, hrss__sm2_p);
}

FORCE_INLINE void fe_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    fe_mont_mul(r, a, b);
}

FORCE_INLINE void fe_sqr(uint64_t r[4], const uint64_t a[4])
{
    fe_mont_sqr(r, a);
}

#endif
