/*
 * tests/ct/ct_sm2.c - the constant-time check of libhrss's SM2 (the ctgrind technique):
 * the private key and the nonces are marked undefined with VALGRIND_MAKE_MEM_UNDEFINED,
 * then key loading, k*G (key generation, signing, encryption), the signature core and
 * d*C1 (decryption) run under valgrind's memcheck. memcheck reports every branch taken on
 * and every memory address computed from an undefined value, so a run without errors
 * shows that no secret steers control flow or a table index. Values that become public
 * (the signature, the shared point once hashed) are marked defined before they are looked
 * at. Built from sm2_field.c and sm2_curve.c with -DHRSS_CTGRIND and run by CTest as
 * "valgrind --error-exitcode=1 ct_sm2"; without valgrind the client requests do nothing
 * and the program only checks the results against GM/T 0003.5's example.
 */
#include <stdio.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "lib/sm2_ec.h"

static int failures;

static void unhex(const char *h, unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char c = h[2 * i + (size_t)j];
            v = v << 4 | (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
        }
        out[i] = (unsigned char)v;
    }
}

static void expect(const char *what, const unsigned char *got, const char *hex, size_t n)
{
    unsigned char want[65];
    unhex(hex, want, n);
    VALGRIND_MAKE_MEM_DEFINED(got, n);
    if (memcmp(got, want, n) != 0) {
        printf("FAIL %s\n", what);
        failures++;
    } else {
        printf("ok   %s\n", what);
    }
}

int main(void)
{
    /* GM/T 0003.5-2012 Annex A and C: d, the nonce k, e = SM3(Z_A || M) */
    unsigned char d[32], k[32], e[32], r[32], s[32], pub[65], kp[65], x2y2[65];
    sm2_priv priv;
    sm2_pub p;
    int ok;

    unhex("3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8", d, 32);
    unhex("59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21", k, 32);
    unhex("f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640", e, 32);
    if (hrss__sm2_ec_init() != 0) {
        printf("FAIL init\n");
        return 1;
    }
    VALGRIND_MAKE_MEM_UNDEFINED(d, sizeof(d));
    VALGRIND_MAKE_MEM_UNDEFINED(k, sizeof(k));

    /* key generation: d*G, and the private scalar's precomputation */
    ok = hrss__sm2_mul_base(pub, d);
    ok &= hrss__sm2_priv_load(&priv, d);
    VALGRIND_MAKE_MEM_DEFINED(&ok, sizeof(ok));
    if (!ok)
        failures++;
    expect("d*G", pub,
           "0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
           "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13",
           65);

    /* signing with d and k secret */
    ok = hrss__sm2_sign_digest(&priv, e, k, r, s);
    VALGRIND_MAKE_MEM_DEFINED(&ok, sizeof(ok));
    if (!ok)
        failures++;
    expect("signature r", r, "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3",
           32);
    expect("signature s", s, "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa",
           32);

    /* encryption: C1 = k*G and k*P with k secret */
    if (!hrss__sm2_pub_decode_vartime(&p, pub))
        failures++;
    ok = hrss__sm2_mul_base(kp, k);
    VALGRIND_MAKE_MEM_DEFINED(&ok, sizeof(ok));
    if (!ok)
        failures++;
    expect("C1 = k*G", kp,
           "0404ebfc718e8d1798620432268e77feb6415e2ede0e073c0f4f640ecd2e149a73"
           "e858f9d81e5430a57b36daab8f950a3c64e6ee6a63094d99283aff767e124df0",
           65);
    ok = hrss__sm2_mul_point(x2y2, &p.p, k);
    VALGRIND_MAKE_MEM_DEFINED(&ok, sizeof(ok));
    if (!ok)
        failures++;
    VALGRIND_MAKE_MEM_DEFINED(x2y2, sizeof(x2y2));
    {
        unsigned char enc[65];
        memcpy(enc, x2y2, sizeof(enc));
        /* decryption: d*C1 with d secret gives the same (x2, y2) */
        if (!hrss__sm2_pub_decode_vartime(&p, kp))
            failures++;
        ok = hrss__sm2_mul_point(x2y2, &p.p, d);
        VALGRIND_MAKE_MEM_DEFINED(&ok, sizeof(ok));
        VALGRIND_MAKE_MEM_DEFINED(x2y2, sizeof(x2y2));
        if (!ok || memcmp(enc, x2y2, sizeof(enc)) != 0) {
            printf("FAIL d*C1 = k*P\n");
            failures++;
        } else {
            printf("ok   d*C1 = k*P\n");
        }
    }
    printf("%s\n", failures == 0 ? "all ok" : "FAILED");
    return failures != 0;
}
