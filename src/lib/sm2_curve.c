/*
 * lib/sm2_curve.c - points of the SM2 curve y^2 = x^3 - 3x + b over the field of
 * sm2_field.c, and the scalar multiplications the signature and encryption cores need.
 *
 * Secrets (private keys, nonces, the encryption scalar) only meet constant-time code:
 *   - k*G: a comb of 52 signed 5-bit windows (Booth recoding) over a table of
 *     j * 2^(5i) * G (affine, j = 1..16, built once per process): 52 mixed Jacobian
 *     additions, no doubling (jac_madd_ct says why no exceptional case arises). Each
 *     lookup reads all 16 entries of its row and keeps one with masks; a negative digit
 *     negates y with a mask.
 *   - k*P: fixed 4-bit windows over 0..15 * P, 4 doublings and one addition per window,
 *     the 16 entries read with masks.
 * k*P adds and doubles with the complete formulas of Renes, Costello and Batina (2016,
 * algorithms 4-6 for a = -3) in projective coordinates: they have no exceptional case
 * (doubling through the addition formula, the point at infinity as an input), so there is
 * no branch to take. The affine result costs one Fermat inversion (constant time).
 *
 * Verification handles public data only and takes the faster variable-time road: s*G and
 * t*P each on a comb table of the same shape as G's (a public key builds its own once,
 * 52 KiB, when it is loaded: keys are long-lived and verify many times), so no doubling
 * at all; Jacobian mixed additions, zero digits skipped, and the x-coordinate compared
 * without an inversion.
 *
 * Under -DHRSS_CTGRIND (the constant-time test builds this file that way) the values the
 * algorithm may branch on because they are public anyway (whether a nonce gave r = 0,
 * the point at infinity as a result) are declared defined to valgrind, so that memcheck
 * reports any other use of secret data in a branch or an address.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sm2_ec.h"
#include "sm2_field.h"

#ifdef HRSS_CTGRIND
#include <valgrind/memcheck.h>
#define SM2_PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED(p, n)
#else
#define SM2_PUBLIC(p, n) ((void)(p), (void)(n))
#endif


#define COMB_ROWS SM2_COMB_ROWS
#define COMB_COLS SM2_COMB_COLS
#define WIN_ROWS 64 /* unsigned 4-bit windows, for k*P */

static sm2_affine comb[COMB_ROWS][COMB_COLS]; /* G's, built once per process */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_ok;

/* ---- complete projective formulas (Renes-Costello-Batina, a = -3) ---- */

__attribute__((noinline)) static void pt_add(sm2_point *r, const sm2_point *p, const sm2_point *q)
{
    const uint64_t *b = hrss__sm2_fe_b;
    sm2_fe t0, t1, t2, t3, t4, x3, y3, z3;

    fe_mul(t0, p->x, q->x);
    fe_mul(t1, p->y, q->y);
    fe_mul(t2, p->z, q->z);
    fe_add(t3, p->x, p->y);
    fe_add(t4, q->x, q->y);
    fe_mul(t3, t3, t4);
    fe_add(t4, t0, t1);
    fe_sub(t3, t3, t4);
    fe_add(t4, p->y, p->z);
    fe_add(x3, q->y, q->z);
    fe_mul(t4, t4, x3);
    fe_add(x3, t1, t2);
    fe_sub(t4, t4, x3);
    fe_add(x3, p->x, p->z);
    fe_add(y3, q->x, q->z);
    fe_mul(x3, x3, y3);
    fe_add(y3, t0, t2);
    fe_sub(y3, x3, y3);
    fe_mul(z3, b, t2);
    fe_sub(x3, y3, z3);
    fe_add(z3, x3, x3);
    fe_add(x3, x3, z3);
    fe_sub(z3, t1, x3);
    fe_add(x3, t1, x3);
    fe_mul(y3, b, y3);
    fe_add(t1, t2, t2);
    fe_add(t2, t1, t2);
    fe_sub(y3, y3, t2);
    fe_sub(y3, y3, t0);
    fe_add(t1, y3, y3);
    fe_add(y3, t1, y3);
    fe_add(t1, t0, t0);
    fe_add(t0, t1, t0);
    fe_sub(t0, t0, t2);
    fe_mul(t1, t4, y3);
    fe_mul(t2, t0, y3);
    fe_mul(y3, x3, z3);
    fe_add(y3, y3, t2);
    fe_mul(x3, t3, x3);
    fe_sub(x3, x3, t1);
    fe_mul(z3, t4, z3);
    fe_mul(t1, t3, t0);
    fe_add(z3, z3, t1);
    memcpy(r->x, x3, sizeof(sm2_fe));
    memcpy(r->y, y3, sizeof(sm2_fe));
    memcpy(r->z, z3, sizeof(sm2_fe));
}

__attribute__((noinline)) static void pt_dbl(sm2_point *r, const sm2_point *p)
{
    const uint64_t *b = hrss__sm2_fe_b;
    sm2_fe t0, t1, t2, t3, x3, y3, z3;

    fe_sqr(t0, p->x);
    fe_sqr(t1, p->y);
    fe_sqr(t2, p->z);
    fe_mul(t3, p->x, p->y);
    fe_add(t3, t3, t3);
    fe_mul(z3, p->x, p->z);
    fe_add(z3, z3, z3);
    fe_mul(y3, b, t2);
    fe_sub(y3, y3, z3);
    fe_add(x3, y3, y3);
    fe_add(y3, x3, y3);
    fe_sub(x3, t1, y3);
    fe_add(y3, t1, y3);
    fe_mul(y3, x3, y3);
    fe_mul(x3, x3, t3);
    fe_add(t3, t2, t2);
    fe_add(t2, t2, t3);
    fe_mul(z3, b, z3);
    fe_sub(z3, z3, t2);
    fe_sub(z3, z3, t0);
    fe_add(t3, z3, z3);
    fe_add(z3, z3, t3);
    fe_add(t3, t0, t0);
    fe_add(t0, t3, t0);
    fe_sub(t0, t0, t2);
    fe_mul(t0, t0, z3);
    fe_add(y3, y3, t0);
    fe_mul(t0, p->y, p->z);
    fe_add(t0, t0, t0);
    fe_mul(z3, t0, z3);
    fe_sub(x3, x3, z3);
    fe_mul(z3, t0, t1);
    fe_add(z3, z3, z3);
    fe_add(z3, z3, z3);
    memcpy(r->x, x3, sizeof(sm2_fe));
    memcpy(r->y, y3, sizeof(sm2_fe));
    memcpy(r->z, z3, sizeof(sm2_fe));
}

static void pt_infinity(sm2_point *r)
{
    memset(r, 0, sizeof(*r));
    memcpy(r->y, hrss__sm2_fe_one, sizeof(sm2_fe));
}

/* all-ones when a == b (small non-negative values), else 0 */
static uint64_t ct_eq(uint64_t a, uint64_t b)
{
    return 0 - (((a ^ b) - 1) >> 63);
}

/* Projective to 04 || x || y; 0 (and out untouched) for the point at infinity. */
static int pt_encode(unsigned char out[65], const sm2_point *p)
{
    sm2_fe zinv, x, y;
    uint64_t inf = hrss__sm2_fe_is_zero(p->z);

    SM2_PUBLIC(&inf, sizeof(inf));
    if (inf)
        return 0;
    hrss__sm2_fe_inv(zinv, p->z);
    fe_mul(x, p->x, zinv);
    fe_mul(y, p->y, zinv);
    out[0] = 0x04;
    hrss__sm2_fe_to_bytes(out + 1, x);
    hrss__sm2_fe_to_bytes(out + 33, y);
    return 1;
}

/* 4-bit window i (0 = least significant) of a big-endian 32-byte scalar */
static unsigned window_of(const unsigned char k[32], int i)
{
    return (k[31 - i / 2] >> (4 * (i & 1))) & 15;
}

/* Bits pos-1 .. pos+4 of k (limbs; bits below 0 and above 255 read as 0). pos is public. */
static unsigned bits6(const uint64_t k[4], int pos)
{
    unsigned v = 0;
    for (int b = 5; b >= 0; b--) {
        int at = pos - 1 + b;
        v <<= 1;
        if (at >= 0 && at < 256)
            v |= (unsigned)(k[at / 64] >> (at % 64)) & 1;
    }
    return v;
}

/*
 * Booth recoding of a 6-bit window (its low bit is the previous window's top bit) into a
 * signed digit in [-16, 16]: returns |digit| << 1 | (digit < 0), without a branch.
 */
static unsigned booth5(unsigned w)
{
    unsigned s = ~((w >> 5) - 1), d = (1u << 6) - w - 1;
    d = (d & s) | (w & ~s);
    d = (d >> 1) + (d & 1);
    return (d << 1) + (s & 1);
}

/*
 * The second half of madd-2007-bl (acc + q, q affine, Jacobian, 7M + 4S in all) from
 * z1z1 = Z1^2, h = U2 - X1 and rr = S2 - Y1: straight-line code, shared by the constant
 * time comb and variable-time verification, which treat the special cases their own way.
 */
static void madd_tail(sm2_point *r, const sm2_point *acc, const sm2_fe z1z1, const sm2_fe h,
                      const sm2_fe rr_in)
{
    sm2_fe hh, i, j, rr, v, t, x3, y3, z3;

    fe_add(rr, rr_in, rr_in);
    fe_sqr(hh, h);
    fe_add(i, hh, hh);
    fe_add(i, i, i);
    fe_mul(j, h, i);
    fe_mul(v, acc->x, i);
    fe_add(t, acc->z, h);
    fe_sqr(t, t);
    fe_sub(t, t, z1z1);
    fe_sub(z3, t, hh);
    fe_sqr(t, rr);
    fe_sub(t, t, j);
    fe_sub(t, t, v);
    fe_sub(x3, t, v);
    fe_mul(j, acc->y, j);
    fe_add(j, j, j);
    fe_sub(v, v, x3);
    fe_mul(t, rr, v);
    fe_sub(y3, t, j);
    memcpy(r->x, x3, sizeof(sm2_fe));
    memcpy(r->y, y3, sizeof(sm2_fe));
    memcpy(r->z, z3, sizeof(sm2_fe));
}

/* z1z1 = Z1^2, h = U2 - X1, rr = S2 - Y1 for acc + q */
static void madd_head(const sm2_point *acc, const sm2_affine *q, sm2_fe z1z1, sm2_fe h,
                      sm2_fe rr)
{
    sm2_fe u2, s2;

    fe_sqr(z1z1, acc->z);
    fe_mul(u2, q->x, z1z1);
    fe_mul(s2, q->y, acc->z);
    fe_mul(s2, s2, z1z1);
    fe_sub(h, u2, acc->x);
    fe_sub(rr, s2, acc->y);
}

/*
 * acc + q in Jacobian coordinates, q affine, in constant time. Unlike the complete
 * formulas it is wrong for acc = +-q, which the comb never meets: after rows 0..i-1 the
 * sum is s * G with |s| < 2^(5i), while row i adds d * 2^(5i) * G with 1 <= |d| <= 16,
 * so the two differ modulo n for every scalar 1 <= k < n. An acc at infinity (Z = 0) is
 * handled with a mask: the result is then q.
 */
__attribute__((noinline)) static void jac_madd_ct(sm2_point *r, const sm2_point *acc,
                                                  const sm2_affine *q)
{
    sm2_fe z1z1, h, rr;
    uint64_t inf = hrss__sm2_fe_is_zero(acc->z);

    madd_head(acc, q, z1z1, h, rr);
    madd_tail(r, acc, z1z1, h, rr);
    fe_cmov(r->x, q->x, inf);
    fe_cmov(r->y, q->y, inf);
    fe_cmov(r->z, hrss__sm2_fe_one, inf);
}

int hrss__sm2_mul_base(unsigned char out[65], const unsigned char k_bytes[32])
{
    static const sm2_fe zero = {0, 0, 0, 0};
    sm2_point acc, sum;
    sm2_affine t;
    sm2_fe ny, zinv, zinv2;
    uint64_t k[4], inf;

    if (hrss__sm2_ec_init() != 0)
        return 0;
    hrss__sm2_u256_from_bytes(k, k_bytes);
    memset(&acc, 0, sizeof(acc)); /* Jacobian infinity: Z = 0 */
    for (int i = 0; i < COMB_ROWS; i++) {
        unsigned rec = booth5(bits6(k, 5 * i));
        uint64_t mag = rec >> 1, neg = 0 - (uint64_t)(rec & 1), nz;
        memset(&t, 0, sizeof(t));
        for (int j = 0; j < COMB_COLS; j++) {
            uint64_t m = ct_eq(mag, (uint64_t)j + 1);
            fe_cmov(t.x, comb[i][j].x, m);
            fe_cmov(t.y, comb[i][j].y, m);
        }
        fe_sub(ny, zero, t.y);
        fe_cmov(t.y, ny, neg);
        jac_madd_ct(&sum, &acc, &t);
        nz = ~ct_eq(mag, 0);
        fe_cmov(acc.x, sum.x, nz);
        fe_cmov(acc.y, sum.y, nz);
        fe_cmov(acc.z, sum.z, nz);
    }
    memset(k, 0, sizeof(k));
    inf = hrss__sm2_fe_is_zero(acc.z);
    SM2_PUBLIC(&inf, sizeof(inf));
    if (inf)
        return 0;
    /* x = X / Z^2, y = Y / Z^3 */
    hrss__sm2_fe_inv(zinv, acc.z);
    fe_sqr(zinv2, zinv);
    fe_mul(acc.x, acc.x, zinv2);
    fe_mul(zinv2, zinv2, zinv);
    fe_mul(acc.y, acc.y, zinv2);
    out[0] = 0x04;
    hrss__sm2_fe_to_bytes(out + 1, acc.x);
    hrss__sm2_fe_to_bytes(out + 33, acc.y);
    return 1;
}

int hrss__sm2_mul_point(unsigned char out[65], const sm2_affine *p, const unsigned char k[32])
{
    sm2_point tab[16], acc, t;

    if (hrss__sm2_ec_init() != 0)
        return 0;
    pt_infinity(&tab[0]);
    memcpy(tab[1].x, p->x, sizeof(sm2_fe));
    memcpy(tab[1].y, p->y, sizeof(sm2_fe));
    memcpy(tab[1].z, hrss__sm2_fe_one, sizeof(sm2_fe));
    for (int j = 2; j < 16; j++)
        pt_add(&tab[j], &tab[j - 1], &tab[1]);
    pt_infinity(&acc);
    for (int i = WIN_ROWS - 1; i >= 0; i--) {
        uint64_t w = window_of(k, i);
        for (int d = 0; d < 4; d++)
            pt_dbl(&acc, &acc);
        memset(&t, 0, sizeof(t));
        for (int j = 0; j < 16; j++) {
            uint64_t m = ct_eq(w, (uint64_t)j);
            fe_cmov(t.x, tab[j].x, m);
            fe_cmov(t.y, tab[j].y, m);
            fe_cmov(t.z, tab[j].z, m);
        }
        pt_add(&acc, &acc, &t);
    }
    return pt_encode(out, &acc);
}

/* ---- Jacobian coordinates, variable time (public data only) ---- */

static int fe_is_zero_vartime(const sm2_fe a)
{
    return (a[0] | a[1] | a[2] | a[3]) == 0;
}

__attribute__((noinline)) static void jac_dbl(sm2_point *r, const sm2_point *p)
{
    sm2_fe delta, gamma, beta, alpha, t, u;

    if (fe_is_zero_vartime(p->z)) {
        *r = *p;
        return;
    }
    fe_sqr(delta, p->z);
    fe_sqr(gamma, p->y);
    fe_mul(beta, p->x, gamma);
    fe_sub(t, p->x, delta);
    fe_add(u, p->x, delta);
    fe_mul(alpha, t, u);
    fe_add(t, alpha, alpha);
    fe_add(alpha, alpha, t); /* 3 (x - delta)(x + delta) */
    fe_add(t, p->y, p->z);
    fe_sqr(t, t);
    fe_sub(t, t, gamma);
    fe_sub(r->z, t, delta); /* (y + z)^2 - gamma - delta */
    fe_add(beta, beta, beta);
    fe_add(beta, beta, beta); /* 4 beta */
    fe_sqr(t, alpha);
    fe_add(u, beta, beta);
    fe_sub(r->x, t, u); /* alpha^2 - 8 beta */
    fe_sub(t, beta, r->x);
    fe_mul(t, alpha, t);
    fe_sqr(gamma, gamma);
    fe_add(gamma, gamma, gamma);
    fe_add(gamma, gamma, gamma);
    fe_add(gamma, gamma, gamma); /* 8 gamma^2 */
    fe_sub(r->y, t, gamma);
}

__attribute__((noinline)) static void jac_add(sm2_point *r, const sm2_point *p, const sm2_point *q)
{
    sm2_fe z1z1, z2z2, u1, u2, s1, s2, h, i, j, rr, v, t;

    if (fe_is_zero_vartime(p->z)) {
        *r = *q;
        return;
    }
    if (fe_is_zero_vartime(q->z)) {
        *r = *p;
        return;
    }
    fe_sqr(z1z1, p->z);
    fe_sqr(z2z2, q->z);
    fe_mul(u1, p->x, z2z2);
    fe_mul(u2, q->x, z1z1);
    fe_mul(s1, p->y, q->z);
    fe_mul(s1, s1, z2z2);
    fe_mul(s2, q->y, p->z);
    fe_mul(s2, s2, z1z1);
    fe_sub(h, u2, u1);
    fe_sub(rr, s2, s1);
    if (fe_is_zero_vartime(h)) {
        if (fe_is_zero_vartime(rr)) {
            jac_dbl(r, p);
        } else {
            memset(r, 0, sizeof(*r)); /* p = -q */
        }
        return;
    }
    fe_add(rr, rr, rr);
    fe_add(i, h, h);
    fe_sqr(i, i);
    fe_mul(j, h, i);
    fe_mul(v, u1, i);
    fe_add(t, p->z, q->z);
    fe_sqr(t, t);
    fe_sub(t, t, z1z1);
    fe_sub(t, t, z2z2);
    fe_mul(r->z, t, h);
    fe_sqr(t, rr);
    fe_sub(t, t, j);
    fe_sub(t, t, v);
    fe_sub(r->x, t, v);
    fe_sub(t, v, r->x);
    fe_mul(t, rr, t);
    fe_mul(s1, s1, j);
    fe_add(s1, s1, s1);
    fe_sub(r->y, t, s1);
}

__attribute__((noinline)) static void jac_add_affine(sm2_point *r, const sm2_point *p,
                                                     const sm2_affine *q)
{
    sm2_fe z1z1, h, rr;

    if (fe_is_zero_vartime(p->z)) {
        memcpy(r->x, q->x, sizeof(sm2_fe));
        memcpy(r->y, q->y, sizeof(sm2_fe));
        memcpy(r->z, hrss__sm2_fe_one, sizeof(sm2_fe));
        return;
    }
    madd_head(p, q, z1z1, h, rr);
    if (fe_is_zero_vartime(h)) {
        if (fe_is_zero_vartime(rr))
            jac_dbl(r, p);
        else
            memset(r, 0, sizeof(*r)); /* p = -q */
        return;
    }
    madd_tail(r, p, z1z1, h, rr);
}

/* acc += k * (the point of the comb table rows), Booth digits, zero digits skipped:
 * variable time, for public scalars only. */
static void comb_sum_vartime(sm2_point *acc, const sm2_affine (*rows)[SM2_COMB_COLS],
                             const uint64_t k[4])
{
    static const sm2_fe zero = {0, 0, 0, 0};
    sm2_affine q;

    for (int i = 0; i < SM2_COMB_ROWS; i++) {
        unsigned rec = booth5(bits6(k, 5 * i)), mag = rec >> 1;
        if (mag == 0)
            continue;
        if (rec & 1) {
            memcpy(q.x, rows[i][mag - 1].x, sizeof(sm2_fe));
            fe_sub(q.y, zero, rows[i][mag - 1].y);
            jac_add_affine(acc, acc, &q);
        } else {
            jac_add_affine(acc, acc, &rows[i][mag - 1]);
        }
    }
}

/* 1 when x1 = X / Z^2 of acc satisfies (e + x1) mod n = r: with c = (r - e) mod n that is
 * x1 = c or x1 = c + n (x1 < p < 2n), checked as X = c * Z^2, without an inversion. */
static int x_matches_vartime(const sm2_point *acc, const uint64_t e[4], const uint64_t r[4])
{
    uint64_t c[4], cn[4], carry = 0;
    unsigned char b[32];
    sm2_fe z2, cm, lhs;

    hrss__sm2_sc_sub(c, r, e);
    fe_sqr(z2, acc->z);
    hrss__sm2_u256_to_bytes(b, c);
    if (!hrss__sm2_fe_from_bytes(cm, b))
        return 0;
    fe_mul(lhs, cm, z2);
    if (memcmp(lhs, acc->x, sizeof(lhs)) == 0)
        return 1;
    for (int i = 0; i < 4; i++) {
        uint64_t t = c[i] + carry;
        carry = t < carry;
        cn[i] = t + hrss__sm2_n[i];
        carry += cn[i] < t;
    }
    if (carry || !hrss__sm2_u256_lt(cn, hrss__sm2_p))
        return 0;
    hrss__sm2_u256_to_bytes(b, cn);
    if (!hrss__sm2_fe_from_bytes(cm, b))
        return 0;
    fe_mul(lhs, cm, z2);
    return memcmp(lhs, acc->x, sizeof(lhs)) == 0;
}

int hrss__sm2_verify_digest_vartime(const sm2_pub *pub, const unsigned char e_bytes[32],
                                    const unsigned char r_bytes[32],
                                    const unsigned char s_bytes[32])
{
    static const uint64_t zero[4] = {0, 0, 0, 0};
    uint64_t r[4], s[4], t[4], e[4];
    sm2_point acc;

    if (hrss__sm2_ec_init() != 0 || pub->comb == NULL)
        return 0;
    hrss__sm2_u256_from_bytes(r, r_bytes);
    hrss__sm2_u256_from_bytes(s, s_bytes);
    /* B1, B2: r and s in [1, n-1] */
    if (!hrss__sm2_u256_lt(r, hrss__sm2_n) || !hrss__sm2_u256_lt(s, hrss__sm2_n) ||
        !hrss__sm2_u256_lt(zero, r) || !hrss__sm2_u256_lt(zero, s))
        return 0;
    /* B5: t = r + s mod n, not 0 */
    hrss__sm2_sc_add(t, r, s);
    if ((t[0] | t[1] | t[2] | t[3]) == 0)
        return 0;
    /* B6: (x1, y1) = s*G + t*P, each on its comb table: no doubling at all */
    memset(&acc, 0, sizeof(acc));
    comb_sum_vartime(&acc, comb, s);
    comb_sum_vartime(&acc, pub->comb, t);
    if (fe_is_zero_vartime(acc.z))
        return 0;
    /* B7: R = (e + x1) mod n must equal r */
    hrss__sm2_u256_from_bytes(e, e_bytes);
    hrss__sm2_sc_reduce(e, e);
    return x_matches_vartime(&acc, e, r);
}

int hrss__sm2_sign_digest(const sm2_priv *priv, const unsigned char e_bytes[32],
                          const unsigned char k_bytes[32], unsigned char r_bytes[32],
                          unsigned char s_bytes[32])
{
    unsigned char point[65];
    uint64_t e[4], x1[4], k[4], r[4], rd[4], t[4], s[4], bad;
    int ok = 0;

    /* A4: (x1, y1) = k*G */
    if (!hrss__sm2_mul_base(point, k_bytes))
        goto done;
    /* A5: r = (e + x1) mod n; another k when r = 0 or r + k = n */
    hrss__sm2_u256_from_bytes(e, e_bytes);
    hrss__sm2_u256_from_bytes(x1, point + 1);
    hrss__sm2_u256_from_bytes(k, k_bytes);
    hrss__sm2_sc_reduce(e, e);
    hrss__sm2_sc_reduce(x1, x1);
    hrss__sm2_sc_add(r, e, x1);
    hrss__sm2_sc_add(t, r, k);
    bad = hrss__sm2_fe_is_zero(r) | hrss__sm2_fe_is_zero(t);
    SM2_PUBLIC(&bad, sizeof(bad));
    if (bad)
        goto done;
    /* A6: s = (1 + d)^-1 (k - r d) mod n; another k when s = 0 */
    hrss__sm2_sc_mul(rd, r, priv->d_mont);
    hrss__sm2_sc_sub(t, k, rd);
    hrss__sm2_sc_mul(s, priv->dinv, t);
    bad = hrss__sm2_fe_is_zero(s);
    SM2_PUBLIC(&bad, sizeof(bad));
    if (bad)
        goto done;
    hrss__sm2_u256_to_bytes(r_bytes, r);
    hrss__sm2_u256_to_bytes(s_bytes, s);
    ok = 1;
done:
    memset(point, 0, sizeof(point));
    memset(k, 0, sizeof(k));
    memset(t, 0, sizeof(t));
    memset(rd, 0, sizeof(rd));
    return ok;
}

int hrss__sm2_priv_load(sm2_priv *priv, const unsigned char d_bytes[32])
{
    static const uint64_t one[4] = {1, 0, 0, 0};
    uint64_t nm1[4], d1[4], bad;

    if (hrss__sm2_ec_init() != 0)
        return 0;
    hrss__sm2_u256_from_bytes(priv->d, d_bytes);
    hrss__sm2_sc_sub(nm1, hrss__sm2_n, one); /* n - 1 */
    /* 1 <= d <= n - 2, i.e. d != 0 and d < n - 1 */
    bad = hrss__sm2_fe_is_zero(priv->d) | ~hrss__sm2_u256_lt(priv->d, nm1);
    SM2_PUBLIC(&bad, sizeof(bad));
    if (bad) {
        memset(priv, 0, sizeof(*priv));
        return 0;
    }
    hrss__sm2_sc_to_mont(priv->d_mont, priv->d);
    hrss__sm2_sc_add(d1, priv->d, one);
    hrss__sm2_sc_to_mont(d1, d1);
    hrss__sm2_sc_inv(priv->dinv, d1);
    memset(d1, 0, sizeof(d1));
    return 1;
}

int hrss__sm2_pub_decode_vartime(sm2_pub *pub, const unsigned char in[65])
{
    sm2_fe lhs, rhs, t;

    pub->comb = NULL;
    if (hrss__sm2_ec_init() != 0 || in[0] != 0x04 ||
        !hrss__sm2_fe_from_bytes(pub->p.x, in + 1) || !hrss__sm2_fe_from_bytes(pub->p.y, in + 33))
        return 0;
    /* y^2 = x^3 - 3x + b */
    fe_sqr(lhs, pub->p.y);
    fe_sqr(rhs, pub->p.x);
    fe_mul(rhs, rhs, pub->p.x);
    fe_add(t, pub->p.x, pub->p.x);
    fe_add(t, t, pub->p.x);
    fe_sub(rhs, rhs, t);
    fe_add(rhs, rhs, hrss__sm2_fe_b);
    return memcmp(lhs, rhs, sizeof(lhs)) == 0;
}

/*
 * The comb table of an affine point P: row i holds j * 2^(5i) * P for j = 1..16, affine.
 * Built with Jacobian sums and one inversion shared by all 832 points (Montgomery's
 * trick). Public points only (variable time). 0 when out of memory.
 */
static int comb_build_vartime(sm2_affine (*rows)[SM2_COMB_COLS], const sm2_affine *p)
{
    enum { N = SM2_COMB_ROWS * SM2_COMB_COLS };
    sm2_point *jac = malloc(N * sizeof(*jac)), base, two;
    sm2_fe *prod = malloc(N * sizeof(*prod)), inv, zi, zi2, t;

    if (jac == NULL || prod == NULL) {
        free(jac);
        free(prod);
        return 0;
    }
    memcpy(base.x, p->x, sizeof(sm2_fe));
    memcpy(base.y, p->y, sizeof(sm2_fe));
    memcpy(base.z, hrss__sm2_fe_one, sizeof(sm2_fe));
    for (int i = 0; i < SM2_COMB_ROWS; i++) {
        sm2_point *row = jac + i * SM2_COMB_COLS;
        row[0] = base;
        jac_dbl(&two, &base);
        row[1] = two;
        for (int j = 2; j < SM2_COMB_COLS; j++)
            jac_add(&row[j], &row[j - 1], &base);
        /* the next base: 2^5 times this one (16 * base doubled) */
        jac_dbl(&base, &row[SM2_COMB_COLS - 1]);
    }
    memcpy(prod[0], jac[0].z, sizeof(sm2_fe));
    for (int i = 1; i < N; i++)
        fe_mul(prod[i], prod[i - 1], jac[i].z);
    hrss__sm2_fe_inv(inv, prod[N - 1]);
    for (int i = N - 1; i >= 0; i--) {
        sm2_affine *out = &rows[i / SM2_COMB_COLS][i % SM2_COMB_COLS];
        if (i > 0) {
            fe_mul(zi, inv, prod[i - 1]);
            fe_mul(inv, inv, jac[i].z);
        } else {
            memcpy(zi, inv, sizeof(sm2_fe));
        }
        fe_sqr(zi2, zi);
        fe_mul(out->x, jac[i].x, zi2);
        fe_mul(t, zi2, zi);
        fe_mul(out->y, jac[i].y, t);
    }
    free(jac);
    free(prod);
    return 1;
}

int hrss__sm2_pub_prepare_vartime(sm2_pub *pub)
{
    if (pub->comb != NULL)
        return 1;
    pub->comb = malloc(SM2_COMB_ROWS * sizeof(*pub->comb));
    if (pub->comb == NULL)
        return 0;
    if (!comb_build_vartime(pub->comb, &pub->p)) {
        free(pub->comb);
        pub->comb = NULL;
        return 0;
    }
    return 1;
}

void hrss__sm2_pub_release(sm2_pub *pub)
{
    free(pub->comb);
    pub->comb = NULL;
}

/* ---- the generator's comb table ---- */

static void init_tables(void)
{
    static const unsigned char gx[32] = {
        0x32, 0xc4, 0xae, 0x2c, 0x1f, 0x19, 0x81, 0x19, 0x5f, 0x99, 0x04, 0x46, 0x6a, 0x39, 0xc9, 0x94,
        0x8f, 0xe3, 0x0b, 0xbf, 0xf2, 0x66, 0x0b, 0xe1, 0x71, 0x5a, 0x45, 0x89, 0x33, 0x4c, 0x74, 0xc7};
    static const unsigned char gy[32] = {
        0xbc, 0x37, 0x36, 0xa2, 0xf4, 0xf6, 0x77, 0x9c, 0x59, 0xbd, 0xce, 0xe3, 0x6b, 0x69, 0x21, 0x53,
        0xd0, 0xa9, 0x87, 0x7c, 0xc6, 0x2a, 0x47, 0x40, 0x02, 0xdf, 0x32, 0xe5, 0x21, 0x39, 0xf0, 0xa0};
    sm2_affine g;

    hrss__sm2_field_init();
    if (!hrss__sm2_fe_from_bytes(g.x, gx) || !hrss__sm2_fe_from_bytes(g.y, gy))
        return;
    if (comb_build_vartime(comb, &g))
        init_ok = 1;
}

int hrss__sm2_ec_init(void)
{
    if (pthread_once(&init_once, init_tables) != 0 || !init_ok)
        return -1;
    return 0;
}
