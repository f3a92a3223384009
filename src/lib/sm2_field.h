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
 * Montgomery multiplication modulo p using the prime's shape: a full 512-bit product, then
 * four reduction rounds without multiplications. With q the lowest live limb, adding
 * q * p = q * (2^256 - 2^224 - 2^96 + 2^64 - 1) clears that limb; what it adds above is
 * q * (2^192 - 2^160 - 2^32 + 1) one limb up, i.e. [q, 0, 0, q] - [q << 32, q >> 32,
 * q << 32, q >> 32] (never negative).
 */
FORCE_INLINE void fe_mont_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    uint64_t t[9], c, bw;

    /* schoolbook product, one row of 5 limbs per b[i] added in */
    UNROLL
    for (int i = 0; i < 8; i++)
        t[i] = 0;
    UNROLL
    for (int i = 0; i < 4; i++) {
        u128 m0 = (u128)a[0] * b[i], m1 = (u128)a[1] * b[i], m2 = (u128)a[2] * b[i],
             m3 = (u128)a[3] * b[i];
        uint64_t row[5];
        c = 0;
        row[0] = (uint64_t)m0;
        row[1] = adc((uint64_t)(m0 >> 64), (uint64_t)m1, &c);
        row[2] = adc((uint64_t)(m1 >> 64), (uint64_t)m2, &c);
        row[3] = adc((uint64_t)(m2 >> 64), (uint64_t)m3, &c);
        row[4] = (uint64_t)(m3 >> 64) + c;
        c = 0;
        UNROLL
        for (int j = 0; j < 5; j++)
            t[i + j] = adc(t[i + j], row[j], &c);
        /* the row and what was below cannot overflow past limb i + 4 */
    }
    t[8] = 0;
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
    fe_mont_mul(r, a, a);
}

#endif
