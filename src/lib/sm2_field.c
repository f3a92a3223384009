/*
 * lib/sm2_field.c - arithmetic modulo the SM2 prime p = 2^256 - 2^224 - 2^96 + 2^64 - 1
 * and modulo the group order n, on 4 x 64-bit limbs with unsigned __int128 products.
 *
 * Both moduli use Montgomery multiplication (R = 2^256), one routine inlined twice. The
 * prime's shape makes its reduction cheap: p = -1 mod 2^64, so the per-word factor
 * -p^-1 mod 2^64 is 1 (no multiplication to find it) and the low limb of the prime is
 * all ones. Nothing here branches on or indexes memory by the numbers it handles: the
 * final conditional subtractions are masks. Inversion is Fermat's a^(p-2) with a fixed
 * addition chain (mod p) or fixed 4-bit windows (mod n), so it is constant time too.
 */
#include <string.h>

#include "sm2_ec.h"

#include "sm2_field.h"

const sm2_fe hrss__sm2_p = {0xffffffffffffffffull, 0xffffffff00000000ull, 0xffffffffffffffffull,
                            0xfffffffeffffffffull};
const sm2_fe hrss__sm2_n = {0x53bbf40939d54123ull, 0x7203df6b21c6052bull, 0xffffffffffffffffull,
                            0xfffffffeffffffffull};

static uint64_t n0;         /* -n^-1 mod 2^64 */
static sm2_fe p_rr, n_rr;   /* 2^512 mod p, 2^512 mod n */
sm2_fe hrss__sm2_fe_one;    /* 2^256 mod p */
sm2_fe hrss__sm2_fe_b;      /* b * 2^256 mod p */
static uint64_t n_one[4];   /* 2^256 mod n */

/*
 * Montgomery multiplication, operand scanning with the reduction interleaved (CIOS):
 * r = a * b / 2^256 mod m for a, b < m. k0 = -m^-1 mod 2^64; when it is 1 (the prime)
 * the compiler drops the multiplication.
 */
FORCE_INLINE void mont_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                           const uint64_t m[4], uint64_t k0)
{
    uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5;
    UNROLL
    for (int i = 0; i < 4; i++) {
        uint64_t bi = b[i], q;
        u128 c;
        c = (u128)a[0] * bi + t0;
        t0 = (uint64_t)c;
        c = (u128)a[1] * bi + t1 + (c >> 64);
        t1 = (uint64_t)c;
        c = (u128)a[2] * bi + t2 + (c >> 64);
        t2 = (uint64_t)c;
        c = (u128)a[3] * bi + t3 + (c >> 64);
        t3 = (uint64_t)c;
        c = (u128)t4 + (c >> 64);
        t4 = (uint64_t)c;
        t5 = (uint64_t)(c >> 64);

        q = t0 * k0;
        c = (u128)q * m[0] + t0;
        c = (u128)q * m[1] + t1 + (c >> 64);
        t0 = (uint64_t)c;
        c = (u128)q * m[2] + t2 + (c >> 64);
        t1 = (uint64_t)c;
        c = (u128)q * m[3] + t3 + (c >> 64);
        t2 = (uint64_t)c;
        c = (u128)t4 + (c >> 64);
        t3 = (uint64_t)c;
        t4 = t5 + (uint64_t)(c >> 64);
    }
    uint64_t t[4] = {t0, t1, t2, t3};
    csub(r, t, t4, m);
}

void hrss__sm2_fe_add(sm2_fe r, const sm2_fe a, const sm2_fe b)
{
    mod_add(r, a, b, hrss__sm2_p);
}

void hrss__sm2_fe_sub(sm2_fe r, const sm2_fe a, const sm2_fe b)
{
    mod_sub(r, a, b, hrss__sm2_p);
}


void hrss__sm2_fe_mul(sm2_fe r, const sm2_fe a, const sm2_fe b)
{
    fe_mont_mul(r, a, b);
}

void hrss__sm2_fe_sqr(sm2_fe r, const sm2_fe a)
{
    fe_mont_sqr(r, a);
}

static void fe_sqr_n(sm2_fe r, const sm2_fe a, int n)
{
    memcpy(r, a, sizeof(sm2_fe));
    for (int i = 0; i < n; i++)
        fe_sqr(r, r);
}

/*
 * a^(p-2). In binary p - 2 is 31 ones, a zero, 128 ones, 32 zeros, 32 ones, 30 ones, 0, 1.
 * With x_k = a^(2^k - 1) and x_(j+k) = x_j^(2^k) * x_k, the runs are built from x_1..x_128.
 */
void hrss__sm2_fe_inv(sm2_fe r, const sm2_fe a)
{
    sm2_fe x1, x2, x3, x6, x12, x15, x30, x31, x32, x64, x128, t;

    memcpy(x1, a, sizeof(sm2_fe));
    fe_sqr(t, x1);
    fe_mul(x2, t, x1);
    fe_sqr(t, x2);
    fe_mul(x3, t, x1);
    fe_sqr_n(t, x3, 3);
    fe_mul(x6, t, x3);
    fe_sqr_n(t, x6, 6);
    fe_mul(x12, t, x6);
    fe_sqr_n(t, x12, 3);
    fe_mul(x15, t, x3);
    fe_sqr_n(t, x15, 15);
    fe_mul(x30, t, x15);
    fe_sqr(t, x30);
    fe_mul(x31, t, x1);
    fe_sqr(t, x31);
    fe_mul(x32, t, x1);
    fe_sqr_n(t, x32, 32);
    fe_mul(x64, t, x32);
    fe_sqr_n(t, x64, 64);
    fe_mul(x128, t, x64);

    fe_sqr_n(t, x31, 1 + 128); /* 31 ones, a zero, room for 128 */
    fe_mul(t, t, x128);
    fe_sqr_n(t, t, 32 + 32); /* 32 zeros, room for 32 */
    fe_mul(t, t, x32);
    fe_sqr_n(t, t, 30);
    fe_mul(t, t, x30);
    fe_sqr_n(t, t, 2); /* "01" */
    fe_mul(r, t, x1);
}

void hrss__sm2_u256_from_bytes(uint64_t r[4], const unsigned char in[32])
{
    UNROLL
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        UNROLL
        for (int j = 0; j < 8; j++)
            v = v << 8 | in[(3 - i) * 8 + j];
        r[i] = v;
    }
}

void hrss__sm2_u256_to_bytes(unsigned char out[32], const uint64_t a[4])
{
    UNROLL
    for (int i = 0; i < 4; i++)
        UNROLL
        for (int j = 0; j < 8; j++)
            out[(3 - i) * 8 + j] = (unsigned char)(a[i] >> (56 - 8 * j));
}

uint64_t hrss__sm2_u256_lt(const uint64_t a[4], const uint64_t m[4])
{
    uint64_t borrow = 0;
    UNROLL
    for (int i = 0; i < 4; i++) {
        u128 d = (u128)a[i] - m[i] - borrow;
        borrow = (uint64_t)(d >> 64) & 1;
    }
    return 0 - borrow;
}

int hrss__sm2_fe_from_bytes(sm2_fe r, const unsigned char in[32])
{
    uint64_t a[4];
    hrss__sm2_u256_from_bytes(a, in);
    if (!hrss__sm2_u256_lt(a, hrss__sm2_p))
        return 0;
    mont_mul(r, a, p_rr, hrss__sm2_p, 1);
    return 1;
}

void hrss__sm2_fe_to_bytes(unsigned char out[32], const sm2_fe a)
{
    static const uint64_t one[4] = {1, 0, 0, 0};
    uint64_t t[4];
    mont_mul(t, a, one, hrss__sm2_p, 1);
    hrss__sm2_u256_to_bytes(out, t);
}

uint64_t hrss__sm2_fe_is_zero(const sm2_fe a)
{
    uint64_t v = a[0] | a[1] | a[2] | a[3];
    /* (v | -v) has its top bit set exactly when v != 0 */
    return ((v | (0 - v)) >> 63) - 1;
}

void hrss__sm2_fe_cmov(sm2_fe r, const sm2_fe a, uint64_t mask)
{
    UNROLL
    for (int i = 0; i < 4; i++)
        r[i] = (r[i] & ~mask) | (a[i] & mask);
}

/* ---- modulo n ---- */

void hrss__sm2_sc_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    mod_add(r, a, b, hrss__sm2_n);
}

void hrss__sm2_sc_sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    mod_sub(r, a, b, hrss__sm2_n);
}

void hrss__sm2_sc_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    mont_mul(r, a, b, hrss__sm2_n, n0);
}

void hrss__sm2_sc_reduce(uint64_t r[4], const uint64_t a[4])
{
    csub(r, a, 0, hrss__sm2_n);
}

void hrss__sm2_sc_to_mont(uint64_t r[4], const uint64_t a[4])
{
    mont_mul(r, a, n_rr, hrss__sm2_n, n0);
}

/* a^(n-2) with fixed 4-bit windows: the exponent is public, the table index is not a
 * secret (it comes from the exponent), so every step is the same work whatever a is. */
void hrss__sm2_sc_inv(uint64_t r[4], const uint64_t a[4])
{
    uint64_t tab[16][4], e[4], acc[4];
    static const uint64_t two[4] = {2, 0, 0, 0};

    memcpy(tab[0], n_one, sizeof(tab[0]));
    UNROLL
    for (int i = 1; i < 16; i++)
        hrss__sm2_sc_mul(tab[i], tab[i - 1], a);
    mod_sub(e, hrss__sm2_n, two, hrss__sm2_n); /* n - 2 (no borrow: n > 2) */
    memcpy(acc, n_one, sizeof(acc));
    for (int w = 63; w >= 0; w--) {
        UNROLL
        for (int j = 0; j < 4; j++)
            hrss__sm2_sc_mul(acc, acc, acc);
        hrss__sm2_sc_mul(acc, acc, tab[(e[w / 16] >> (4 * (w % 16))) & 15]);
    }
    memcpy(r, acc, sizeof(acc));
}

/* 2^512 mod m by doubling 2^256 mod m another 256 times. */
static void rr_of(uint64_t rr[4], uint64_t one[4], const uint64_t m[4])
{
    uint64_t borrow = 0;
    UNROLL
    for (int i = 0; i < 4; i++) { /* 2^256 - m = 2^256 mod m (m > 2^255) */
        u128 d = (u128)0 - m[i] - borrow;
        one[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
    memcpy(rr, one, 4 * sizeof(uint64_t));
    UNROLL
    for (int i = 0; i < 256; i++)
        mod_add(rr, rr, rr, m);
}

void hrss__sm2_field_init(void)
{
    static const unsigned char b[32] = {
        0x28, 0xe9, 0xfa, 0x9e, 0x9d, 0x9f, 0x5e, 0x34, 0x4d, 0x5a, 0x9e, 0x4b, 0xcf, 0x65, 0x09, 0xa7,
        0xf3, 0x97, 0x89, 0xf5, 0x15, 0xab, 0x8f, 0x92, 0xdd, 0xbc, 0xbd, 0x41, 0x4d, 0x94, 0x0e, 0x93};
    uint64_t inv = hrss__sm2_n[0];

    /* Newton's iteration doubles the correct low bits: 3 -> 6 -> ... -> 96 */
    UNROLL
    for (int i = 0; i < 5; i++)
        inv *= 2 - hrss__sm2_n[0] * inv;
    n0 = 0 - inv;
    rr_of(p_rr, hrss__sm2_fe_one, hrss__sm2_p);
    rr_of(n_rr, n_one, hrss__sm2_n);
    hrss__sm2_fe_from_bytes(hrss__sm2_fe_b, b);
}
