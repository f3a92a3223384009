/*
 * tests/unit/lib/test_sign.c - header signatures (sign.h,
 * docs/design.md decisions 1 and 2): the canonical string on the standard's own
 * example of 7.1.1.2, the sm3 / hmac-sm3 / sm2 profiles with values pinned
 * against the openssl command line, envelopes signed and verified, requests
 * filled, and nonces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>
#include <unistd.h>

#include "hrss/hrss.h"

/* Example 1 of LD/T 6008-2024 7.1.1.2, verbatim: the standard swapped the
 * values of appCode and serviceCode and names the time "timestamp"; the
 * canonicaliser checks no formats, so the header below gives exactly it. */
#define STD_CANON                                                                                  \
    "appCode=S110000Y70PYTjb&nonce=dbea7d58e3014126897614c8&serviceAreaCode=110000&"               \
    "serviceCode=B100000KJGK&serviceReqId=100101***120170122100000001&timestamp=20170122101020"
/* printf '%s' STD_CANON | openssl dgst -sm3 */
#define STD_SM3 "7b4b683c15970a845553bed954289c06753fa4d7c0bcbd88d5067bab259e2f6e"
/* printf '%s' STD_CANON | openssl dgst -sm3 -hmac hrss-test-secret */
#define STD_HMAC "8aa03f8b73cc0290907a34fa702a5e6837aa03d7dfe47fd453e5cfdafa51acdd"
#define TEST_SECRET "hrss-test-secret"

/* The fields of example 1 in an order other than the sorted one. */
static json_t *std_header(void)
{
    json_t *h = json_object();
    json_object_set_new(h, "timestamp", json_string("20170122101020"));
    json_object_set_new(h, "serviceReqId", json_string("100101***120170122100000001"));
    json_object_set_new(h, "serviceCode", json_string("B100000KJGK"));
    json_object_set_new(h, "nonce", json_string("dbea7d58e3014126897614c8"));
    json_object_set_new(h, "serviceAreaCode", json_string("110000"));
    json_object_set_new(h, "appCode", json_string("S110000Y70PYTjb"));
    return h;
}

static char *canon_of(const json_t *h, int expect)
{
    char *s = NULL;
    size_t len = 0;
    hrss_error err = {0};
    int rc = hrss_canonical_header(h, &s, &len, &err);
    if (rc != expect)
        fail_msg("canonical: %s (%s), expected %s", hrss_err_name(rc), err.msg,
                 hrss_err_name(expect));
    if (rc == HRSS_OK)
        assert_int_equal(len, strlen(s));
    else
        assert_null(s);
    return s;
}

/* ---- canonical string ---- */

static void canonical_standard_example(void **state)
{
    (void)state;
    json_t *h = std_header();
    char *s = canon_of(h, HRSS_OK);
    assert_string_equal(s, STD_CANON);

    /* The regression value of the example string under the sm3 profile. */
    hrss_sig_key k = {.profile = HRSS_SIG_SM3};
    char *sig = NULL;
    size_t siglen = 0;
    hrss_error err = {0};
    assert_int_equal(hrss_sign_string(&k, s, strlen(s), &sig, &siglen, &err), HRSS_OK);
    assert_string_equal(sig, STD_SM3);
    assert_int_equal(siglen, 64);
    hrss_free(sig);

    /* A signature field, whatever it holds, is not signed. */
    json_object_set_new(h, "signature", json_string("pe1334ab"));
    char *s2 = canon_of(h, HRSS_OK);
    assert_string_equal(s2, STD_CANON);
    json_object_set_new(h, "signature", json_integer(7));
    char *s3 = canon_of(h, HRSS_OK);
    assert_string_equal(s3, STD_CANON);

    hrss_free(s);
    hrss_free(s2);
    hrss_free(s3);
    json_decref(h);
}

static void canonical_omits_empty_keeps_utf8_raw(void **state)
{
    (void)state;
    json_t *h = json_object();
    json_object_set_new(h, "msg", json_string("\xe6\x88\x90\xe5\x8a\x9f")); /* 成功 */
    json_object_set_new(h, "busiStatus", json_string(""));
    json_object_set_new(h, "x", json_string("a&b=c d%20\"q\""));
    char *s = canon_of(h, HRSS_OK);
    assert_string_equal(s, "msg=\xe6\x88\x90\xe5\x8a\x9f&x=a&b=c d%20\"q\"");
    hrss_free(s);
    json_decref(h);

    /* Nothing to sign: the empty string. */
    h = json_object();
    json_object_set_new(h, "a", json_string(""));
    s = canon_of(h, HRSS_OK);
    assert_string_equal(s, "");
    hrss_free(s);
    json_decref(h);
}

static void canonical_sorts_by_ascii_bytes(void **state)
{
    (void)state;
    json_t *h = json_object();
    const char *keys[] = {"b", "ab", "a", "Z", "a_", "aB", "A1", "_"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        json_object_set_new(h, keys[i], json_string(keys[i]));
    char *s = canon_of(h, HRSS_OK);
    /* 'A' 0x41 < 'Z' 0x5a < '_' 0x5f < 'a' 0x61; a prefix sorts first. */
    assert_string_equal(s, "A1=A1&Z=Z&_=_&a=a&aB=aB&a_=a_&ab=ab&b=b");
    hrss_free(s);
    json_decref(h);
}

static void canonical_refuses_non_strings_and_ambiguous_keys(void **state)
{
    (void)state;
    hrss_error err = {0};
    char *s = (char *)"untouched";
    json_t *h = std_header();
    json_object_set_new(h, "serviceAreaCode", json_integer(110000));
    assert_int_equal(hrss_canonical_header(h, &s, NULL, &err), HRSS_ETYPE);
    assert_null(s);
    assert_non_null(strstr(err.msg, "serviceAreaCode"));
    json_object_set_new(h, "serviceAreaCode", json_null());
    canon_of(h, HRSS_ETYPE);
    json_object_set_new(h, "serviceAreaCode", json_object());
    canon_of(h, HRSS_ETYPE);
    json_decref(h);

    h = json_object();
    json_object_set_new(h, "a=b", json_string("c"));
    canon_of(h, HRSS_EFORMAT);
    json_decref(h);
    h = json_object();
    json_object_set_new(h, "a&b", json_string("c"));
    canon_of(h, HRSS_EFORMAT);
    json_decref(h);
    h = json_object();
    json_object_set_new(h, "", json_string("c"));
    canon_of(h, HRSS_EFORMAT);
    json_decref(h);
    h = json_object();
    json_object_setn_new(h, "a\0b", 3, json_string("c"));
    canon_of(h, HRSS_EFORMAT);
    json_decref(h);

    json_t *arr = json_array();
    canon_of(arr, HRSS_ETYPE);
    json_decref(arr);
    canon_of(NULL, HRSS_ETYPE);
    assert_int_equal(hrss_canonical_header(NULL, NULL, NULL, &err), HRSS_EINVAL);
}

/* ---- profiles ---- */

static void profile_names(void **state)
{
    (void)state;
    hrss_sig_profile p = HRSS_SIG_NONE;
    assert_int_equal(hrss_sig_profile_parse("sm3", &p), HRSS_OK);
    assert_int_equal(p, HRSS_SIG_SM3);
    assert_int_equal(hrss_sig_profile_parse("hmac-sm3", &p), HRSS_OK);
    assert_int_equal(p, HRSS_SIG_HMAC_SM3);
    assert_int_equal(hrss_sig_profile_parse("sm2", &p), HRSS_OK);
    assert_int_equal(p, HRSS_SIG_SM2);
    assert_int_equal(hrss_sig_profile_parse("none", &p), HRSS_OK);
    assert_int_equal(p, HRSS_SIG_NONE);
    assert_int_equal(hrss_sig_profile_parse("SM3", &p), HRSS_EINVAL);
    assert_int_equal(hrss_sig_profile_parse("", &p), HRSS_EINVAL);
    assert_int_equal(hrss_sig_profile_parse(NULL, &p), HRSS_EINVAL);
    assert_string_equal(hrss_sig_profile_name(HRSS_SIG_HMAC_SM3), "hmac-sm3");
    assert_string_equal(hrss_sig_profile_name(HRSS_SIG_NONE), "none");
    assert_string_equal(hrss_sig_profile_name((hrss_sig_profile)42), "unknown");
}

static int verify(const hrss_sig_key *k, const char *canon, const char *sig)
{
    hrss_error err = {0};
    int rc = hrss_verify_string(k, canon, strlen(canon), sig, strlen(sig), &err);
    if (rc != HRSS_OK)
        assert_int_equal(err.code, rc);
    return rc;
}

/* Malformed signature texts are mismatches, never crashes or other codes. */
static void hex_profile_refuses_malformed(const hrss_sig_key *k, const char *good)
{
    char buf[300];
    assert_int_equal(verify(k, STD_CANON, ""), HRSS_EBADSIG);
    snprintf(buf, sizeof(buf), "%.63s", good);
    assert_int_equal(verify(k, STD_CANON, buf), HRSS_EBADSIG);
    snprintf(buf, sizeof(buf), "%s0", good);
    assert_int_equal(verify(k, STD_CANON, buf), HRSS_EBADSIG);
    snprintf(buf, sizeof(buf), "%.62szz", good);
    assert_int_equal(verify(k, STD_CANON, buf), HRSS_EBADSIG);
    snprintf(buf, sizeof(buf), "%.63s%c", good, good[63] == '0' ? '1' : '0');
    assert_int_equal(verify(k, STD_CANON, buf), HRSS_EBADSIG);
    memset(buf, 'a', 256);
    buf[256] = '\0';
    assert_int_equal(verify(k, STD_CANON, buf), HRSS_EBADSIG);
    /* Embedded NUL within the given length. */
    char nul[64];
    memcpy(nul, good, 64);
    nul[10] = '\0';
    hrss_error err = {0};
    assert_int_equal(hrss_verify_string(k, STD_CANON, strlen(STD_CANON), nul, 64, &err),
                     HRSS_EBADSIG);
}

static void sm3_profile(void **state)
{
    (void)state;
    hrss_sig_key k = {.profile = HRSS_SIG_SM3};
    assert_int_equal(verify(&k, STD_CANON, STD_SM3), HRSS_OK);
    /* The form is lower-case hex: the same value in capitals is refused. */
    char upper[65];
    for (int i = 0; i < 64; i++)
        upper[i] = (char)(STD_SM3[i] >= 'a' ? STD_SM3[i] - 32 : STD_SM3[i]);
    upper[64] = '\0';
    assert_int_equal(verify(&k, STD_CANON, upper), HRSS_EBADSIG);
    /* Any change of the signed string fails. */
    assert_int_equal(verify(&k, STD_CANON "x", STD_SM3), HRSS_EBADSIG);
    hex_profile_refuses_malformed(&k, STD_SM3);
}

static void hmac_sm3_profile(void **state)
{
    (void)state;
    hrss_sig_key k = {.profile = HRSS_SIG_HMAC_SM3,
                      .secret = (const unsigned char *)TEST_SECRET,
                      .secret_len = strlen(TEST_SECRET)};
    char *sig = NULL;
    size_t siglen = 0;
    hrss_error err = {0};
    assert_int_equal(hrss_sign_string(&k, STD_CANON, strlen(STD_CANON), &sig, &siglen, &err),
                     HRSS_OK);
    assert_string_equal(sig, STD_HMAC);
    hrss_free(sig);
    assert_int_equal(verify(&k, STD_CANON, STD_HMAC), HRSS_OK);
    assert_int_equal(verify(&k, STD_CANON, STD_SM3), HRSS_EBADSIG);
    hex_profile_refuses_malformed(&k, STD_HMAC);

    hrss_sig_key wrong = k;
    wrong.secret = (const unsigned char *)"hrss-test-secreT";
    assert_int_equal(verify(&wrong, STD_CANON, STD_HMAC), HRSS_EBADSIG);

    hrss_sig_key nokey = {.profile = HRSS_SIG_HMAC_SM3};
    sig = (char *)"untouched";
    assert_int_equal(hrss_sign_string(&nokey, "a=b", 3, &sig, NULL, &err), HRSS_EKEY);
    assert_null(sig);
    nokey.secret = (const unsigned char *)"";
    assert_int_equal(hrss_sign_string(&nokey, "a=b", 3, &sig, NULL, &err), HRSS_EKEY);
    assert_int_equal(verify(&nokey, STD_CANON, STD_HMAC), HRSS_EKEY);
}

static void sm2_profile(void **state)
{
    (void)state;
    hrss_sm2_key *priv = NULL, *pub = NULL;
    hrss_error err = {0};
    char *pem = NULL, *sig = NULL;
    size_t pemlen = 0, siglen = 0;
    assert_int_equal(hrss_sm2_key_generate(&priv, &err), HRSS_OK);
    assert_int_equal(hrss_sm2_key_to_pem(priv, 0, &pem, &pemlen), HRSS_OK);
    assert_int_equal(hrss_sm2_key_from_pem(pem, pemlen, &pub, &err), HRSS_OK);

    hrss_sig_key ks = {.profile = HRSS_SIG_SM2, .sm2 = priv};
    hrss_sig_key kv = {.profile = HRSS_SIG_SM2, .sm2 = pub};
    assert_int_equal(hrss_sign_string(&ks, STD_CANON, strlen(STD_CANON), &sig, &siglen, &err),
                     HRSS_OK);
    assert_true(siglen > 80 && siglen <= 96); /* Base64 of a 70-72 byte DER */
    assert_int_equal(verify(&kv, STD_CANON, sig), HRSS_OK);
    assert_int_equal(verify(&ks, STD_CANON, sig), HRSS_OK);
    assert_int_equal(verify(&kv, STD_CANON "x", sig), HRSS_EBADSIG);

    /* The signature is made with the default user ID 1234567812345678. */
    unsigned char *der = NULL;
    size_t derlen = 0;
    assert_int_equal(hrss_base64_decode(sig, siglen, &der, &derlen, &err), HRSS_OK);
    assert_int_equal(hrss_sm2_verify(pub, HRSS_SM2_DEFAULT_ID, 16, STD_CANON, strlen(STD_CANON),
                                     HRSS_SM2_SIG_DER, der, derlen, &err),
                     HRSS_OK);
    hrss_free(der);

    /* Malformed: not Base64, Base64 of junk, a flipped character. */
    assert_int_equal(verify(&kv, STD_CANON, "not base64!"), HRSS_EBADSIG);
    assert_int_equal(verify(&kv, STD_CANON, "AAAA"), HRSS_EBADSIG);
    assert_int_equal(verify(&kv, STD_CANON, ""), HRSS_EBADSIG);
    sig[10] = sig[10] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(&kv, STD_CANON, sig), HRSS_EBADSIG);
    hrss_free(sig);

    /* A public key cannot sign; no key at all is a key error. */
    sig = NULL;
    assert_int_equal(hrss_sign_string(&kv, "a=b", 3, &sig, NULL, &err), HRSS_EKEY);
    assert_null(sig);
    hrss_sig_key none = {.profile = HRSS_SIG_SM2};
    assert_int_equal(hrss_sign_string(&none, "a=b", 3, &sig, NULL, &err), HRSS_EKEY);
    assert_int_equal(verify(&none, "a=b", "AAAA"), HRSS_EKEY);

    hrss_free(pem);
    hrss_sm2_key_free(priv);
    hrss_sm2_key_free(pub);
}

static void none_profile_and_bad_arguments(void **state)
{
    (void)state;
    hrss_error err = {0};
    char *sig = NULL;
    hrss_sig_key k = {.profile = HRSS_SIG_NONE};
    assert_int_equal(hrss_sign_string(&k, "a=b", 3, &sig, NULL, &err), HRSS_EINVAL);
    assert_int_equal(verify(&k, "a=b", ""), HRSS_OK);
    assert_int_equal(verify(&k, "a=b", "whatever"), HRSS_OK);
    assert_int_equal(hrss_sign_string(NULL, "a=b", 3, &sig, NULL, &err), HRSS_EINVAL);
    assert_int_equal(hrss_verify_string(NULL, "a=b", 3, "x", 1, &err), HRSS_EINVAL);
    hrss_sig_key bad = {.profile = (hrss_sig_profile)9};
    assert_int_equal(hrss_sign_string(&bad, "a=b", 3, &sig, NULL, &err), HRSS_EINVAL);
    assert_int_equal(verify(&bad, "a=b", "x"), HRSS_EINVAL);
}

/* ---- envelopes ---- */

static hrss_envelope *std_request(void)
{
    hrss_envelope *e = hrss_envelope_new(HRSS_ENV_REQUEST);
    assert_non_null(e);
    assert_int_equal(hrss_envelope_set(e, "serviceCode", "S110000Y70PYTjb"), HRSS_OK);
    assert_int_equal(hrss_envelope_set(e, "appCode", "B100000KJGK"), HRSS_OK);
    assert_int_equal(hrss_envelope_set(e, "serviceAreaCode", "110000"), HRSS_OK);
    assert_int_equal(hrss_envelope_set(e, "serviceReqId", "B100000KJGK20170122100000001"), HRSS_OK);
    assert_int_equal(hrss_envelope_set(e, "serviceReqTime", "20170122101020"), HRSS_OK);
    assert_int_equal(hrss_envelope_set(e, "nonce", "dbea7d58e3014126897614c8"), HRSS_OK);
    json_t *body = json_pack("{s:s}", "aac002", "440101199001010236");
    assert_int_equal(hrss_envelope_set_body(e, body), HRSS_OK);
    return e;
}

static void envelope_sign_and_verify(void **state)
{
    (void)state;
    hrss_error err = {0};
    hrss_sig_key k = {.profile = HRSS_SIG_HMAC_SM3,
                      .secret = (const unsigned char *)TEST_SECRET,
                      .secret_len = strlen(TEST_SECRET)};
    hrss_envelope *e = std_request();

    assert_int_equal(hrss_envelope_verify(e, &k, &err), HRSS_EMISSING);
    assert_non_null(strstr(err.msg, "signature"));
    assert_int_equal(hrss_envelope_sign(e, &k, &err), HRSS_OK);
    const char *sig = hrss_envelope_get(e, "signature");
    assert_non_null(sig);
    assert_int_equal(strlen(sig), 64);
    assert_int_equal(hrss_envelope_verify(e, &k, &err), HRSS_OK);
    assert_int_equal(hrss_envelope_validate(e, NULL, NULL, &err), HRSS_OK);

    /* Signing again replaces the signature by the same value (it is not
     * part of what is signed). */
    char first[65];
    memcpy(first, sig, 65);
    assert_int_equal(hrss_envelope_sign(e, &k, &err), HRSS_OK);
    assert_string_equal(hrss_envelope_get(e, "signature"), first);

    /* The body is not signed (7.1.1.2 signs the header). */
    assert_int_equal(hrss_envelope_set_body(e, json_pack("{s:s}", "aac002", "x")), HRSS_OK);
    assert_int_equal(hrss_envelope_verify(e, &k, &err), HRSS_OK);

    /* Every header field is. */
    assert_int_equal(hrss_envelope_set(e, "serviceAreaCode", "120000"), HRSS_OK);
    assert_int_equal(hrss_envelope_verify(e, &k, &err), HRSS_EBADSIG);
    assert_int_equal(err.code, HRSS_EBADSIG);
    assert_int_equal(hrss_envelope_set(e, "serviceAreaCode", "110000"), HRSS_OK);
    assert_int_equal(hrss_envelope_verify(e, &k, &err), HRSS_OK);
    assert_int_equal(hrss_envelope_set(e, "nonce", "dbea7d58e3014126897614c9"), HRSS_OK);
    assert_int_equal(hrss_envelope_verify(e, &k, &err), HRSS_EBADSIG);
    assert_int_equal(hrss_envelope_set(e, "nonce", "dbea7d58e3014126897614c8"), HRSS_OK);
    assert_int_equal(hrss_envelope_set(e, "extra", "1"), HRSS_OK);
    assert_int_equal(hrss_envelope_verify(e, &k, &err), HRSS_EBADSIG);
    assert_int_equal(hrss_envelope_set(e, "extra", NULL), HRSS_OK);
    assert_int_equal(hrss_envelope_verify(e, &k, &err), HRSS_OK);

    /* A prepared key gives the same outcomes and messages. */
    hrss_hmac_sm3_key *hk = NULL, *other = NULL;
    hrss_error err2 = {0};
    assert_int_equal(hrss_hmac_sm3_key_new(TEST_SECRET, strlen(TEST_SECRET), &hk), HRSS_OK);
    assert_int_equal(hrss_hmac_sm3_key_new("another", 7, &other), HRSS_OK);
    assert_int_equal(hrss_envelope_verify_hmac(e, hk, &err), HRSS_OK);
    assert_int_equal(hrss_envelope_verify_hmac(e, other, &err), HRSS_EBADSIG);
    assert_int_equal(hrss_envelope_set(e, "nonce", "dbea7d58e3014126897614c9"), HRSS_OK);
    assert_int_equal(hrss_envelope_verify_hmac(e, hk, &err), HRSS_EBADSIG);
    assert_int_equal(hrss_envelope_verify(e, &k, &err2), HRSS_EBADSIG);
    assert_string_equal(err.msg, err2.msg);
    assert_int_equal(hrss_envelope_set(e, "nonce", "dbea7d58e3014126897614c8"), HRSS_OK);
    assert_int_equal(hrss_envelope_verify_hmac(e, NULL, &err), HRSS_EINVAL);
    hrss_hmac_sm3_key_free(hk);
    hrss_hmac_sm3_key_free(other);

    /* Another profile does not verify it. */
    hrss_sig_key sm3 = {.profile = HRSS_SIG_SM3};
    assert_int_equal(hrss_envelope_verify(e, &sm3, &err), HRSS_EBADSIG);

    /* The none profile removes the field and accepts anything. */
    hrss_sig_key none = {.profile = HRSS_SIG_NONE};
    assert_int_equal(hrss_envelope_verify(e, &none, &err), HRSS_OK);
    assert_int_equal(hrss_envelope_sign(e, &none, &err), HRSS_OK);
    assert_null(hrss_envelope_get(e, "signature"));
    assert_int_equal(hrss_envelope_verify(e, &none, &err), HRSS_OK);
    assert_int_equal(hrss_envelope_verify(e, &k, &err), HRSS_EMISSING);
    assert_int_equal(hrss_envelope_set(e, "signature", ""), HRSS_OK);
    assert_int_equal(hrss_envelope_verify(e, &k, &err), HRSS_EMISSING);

    assert_int_equal(hrss_envelope_sign(NULL, &k, &err), HRSS_EINVAL);
    assert_int_equal(hrss_envelope_verify(e, NULL, &err), HRSS_EINVAL);
    hrss_envelope_free(e);
}

/* The standard's example 2 header, signed with the sm3 profile, and the
 * "timestamp" alias signed under its own name. */
static void envelope_sm3_and_timestamp_alias(void **state)
{
    (void)state;
    hrss_error err = {0};
    hrss_sig_key k = {.profile = HRSS_SIG_SM3};
    hrss_envelope *e = hrss_envelope_new(HRSS_ENV_REQUEST);
    assert_non_null(e);
    json_t *h = std_header();
    const char *key;
    json_t *v;
    json_object_foreach(h, key, v)
        assert_int_equal(hrss_envelope_set(e, key, json_string_value(v)), HRSS_OK);
    json_decref(h);
    assert_int_equal(hrss_envelope_sign(e, &k, &err), HRSS_OK);
    assert_string_equal(hrss_envelope_get(e, "signature"), STD_SM3);
    assert_int_equal(hrss_envelope_verify(e, &k, &err), HRSS_OK);
    hrss_envelope_free(e);
}

static void envelope_sm2_round_trip(void **state)
{
    (void)state;
    hrss_error err = {0};
    hrss_sm2_key *priv = NULL;
    assert_int_equal(hrss_sm2_key_generate(&priv, &err), HRSS_OK);
    hrss_sig_key k = {.profile = HRSS_SIG_SM2, .sm2 = priv};
    hrss_envelope *e = std_request();
    assert_int_equal(hrss_envelope_sign(e, &k, &err), HRSS_OK);
    assert_true(strlen(hrss_envelope_get(e, "signature")) <= HRSS_SIGNATURE_MAX);
    assert_int_equal(hrss_envelope_verify(e, &k, &err), HRSS_OK);
    assert_int_equal(hrss_envelope_set(e, "appCode", "B100000KJGL"), HRSS_OK);
    assert_int_equal(hrss_envelope_verify(e, &k, &err), HRSS_EBADSIG);
    hrss_envelope_free(e);
    hrss_sm2_key_free(priv);
}

/* ---- filling a request ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void fill_request_adds_what_lacks(void **state)
{
    (void)state;
    hrss_error err = {0};
    char dir[] = "/tmp/hrss-test-sign-XXXXXX";
    assert_non_null(mkdtemp(dir));
    hrss_idgen *g = NULL;
    assert_int_equal(hrss_idgen_new("S1100001234", dir, &g, &err), HRSS_OK);

    hrss_envelope *e = hrss_envelope_new(HRSS_ENV_REQUEST);
    assert_int_equal(hrss_envelope_set(e, "serviceCode", "S11000012340001"), HRSS_OK);
    assert_int_equal(hrss_envelope_set(e, "appCode", "S1100001234"), HRSS_OK);
    assert_int_equal(hrss_envelope_set(e, "serviceAreaCode", "110000"), HRSS_OK);
    assert_int_equal(hrss_envelope_set_body(e, json_object()), HRSS_OK);

    /* Without a generator nothing changes. */
    assert_int_equal(hrss_envelope_fill_request(e, NULL, &err), HRSS_EINVAL);
    assert_null(hrss_envelope_get(e, "serviceReqTime"));
    assert_null(hrss_envelope_get(e, "nonce"));

    assert_int_equal(hrss_envelope_fill_request(e, g, &err), HRSS_OK);
    const char *id = hrss_envelope_get(e, "serviceReqId");
    const char *t = hrss_envelope_get(e, "serviceReqTime");
    const char *n = hrss_envelope_get(e, "nonce");
    assert_non_null(id);
    assert_non_null(t);
    assert_non_null(n);
    assert_int_equal(hrss_id_check(id, strlen(id), &err), HRSS_OK);
    assert_memory_equal(id, "S1100001234", 11);
    assert_int_equal(hrss_time_check(t, strlen(t), &err), HRSS_OK);
    assert_int_equal(hrss_nonce_check(n, strlen(n), &err), HRSS_OK);
    assert_int_equal(hrss_envelope_validate(e, NULL, NULL, &err), HRSS_OK);

    /* Existing values are kept, so a second fill changes nothing. */
    char id1[HRSS_ID_LEN + 1], n1[HRSS_NONCE_LEN + 1];
    snprintf(id1, sizeof(id1), "%s", id);
    snprintf(n1, sizeof(n1), "%s", n);
    assert_int_equal(hrss_envelope_fill_request(e, g, &err), HRSS_OK);
    assert_string_equal(hrss_envelope_get(e, "serviceReqId"), id1);
    assert_string_equal(hrss_envelope_get(e, "nonce"), n1);
    hrss_envelope_free(e);

    /* A request that sent "timestamp" keeps it and gets no serviceReqTime;
     * empty fields count as absent. */
    e = hrss_envelope_new(HRSS_ENV_REQUEST);
    assert_int_equal(hrss_envelope_set(e, "timestamp", "20170122101020"), HRSS_OK);
    assert_int_equal(hrss_envelope_set(e, "serviceReqId", "B100000KJGK20170122100000001"), HRSS_OK);
    assert_int_equal(hrss_envelope_set(e, "nonce", ""), HRSS_OK);
    assert_int_equal(hrss_envelope_fill_request(e, NULL, &err), HRSS_OK);
    json_t *h = hrss_envelope_header(e);
    assert_null(json_object_get(h, "serviceReqTime"));
    assert_string_equal(json_string_value(json_object_get(h, "timestamp")), "20170122101020");
    assert_string_equal(hrss_envelope_get(e, "serviceReqId"), "B100000KJGK20170122100000001");
    assert_int_equal(strlen(hrss_envelope_get(e, "nonce")), HRSS_NONCE_LEN);
    hrss_envelope_free(e);

    /* An empty "timestamp" goes rather than sit beside serviceReqTime. */
    e = hrss_envelope_new(HRSS_ENV_REQUEST);
    assert_int_equal(hrss_envelope_set(e, "timestamp", ""), HRSS_OK);
    assert_int_equal(hrss_envelope_set(e, "serviceReqId", "B100000KJGK20170122100000001"), HRSS_OK);
    assert_int_equal(hrss_envelope_fill_request(e, NULL, &err), HRSS_OK);
    h = hrss_envelope_header(e);
    assert_null(json_object_get(h, "timestamp"));
    assert_non_null(json_object_get(h, "serviceReqTime"));
    hrss_envelope_free(e);

    assert_int_equal(hrss_envelope_fill_request(NULL, g, &err), HRSS_EINVAL);
    hrss_idgen_free(g);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- nonces ---- */

static void nonce_new_is_24_lowercase_alnum_and_unbiased(void **state)
{
    (void)state;
    enum { N = 5000 };
    static char seen[N][HRSS_NONCE_LEN + 1];
    unsigned long hist[36] = {0};
    hrss_error err = {0};
    for (int i = 0; i < N; i++) {
        assert_int_equal(hrss_nonce_new(seen[i]), HRSS_OK);
        assert_int_equal(strlen(seen[i]), HRSS_NONCE_LEN);
        assert_int_equal(hrss_nonce_check(seen[i], HRSS_NONCE_LEN, &err), HRSS_OK);
        for (int j = 0; j < HRSS_NONCE_LEN; j++) {
            char c = seen[i][j];
            assert_true((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'));
            hist[c <= '9' ? c - '0' : c - 'a' + 10]++;
        }
    }
    /* 120,000 characters, 3,333 expected of each: a biased generator (e.g.
     * byte % 36 favours the first four by 1/7) would be well outside. */
    for (int i = 0; i < 36; i++)
        if (hist[i] < 3050 || hist[i] > 3620)
            fail_msg("character %d drawn %lu times of 120000", i, hist[i]);
    /* Distinct (124 bits each). */
    for (int i = 1; i < N; i++)
        assert_string_not_equal(seen[i], seen[i - 1]);
    assert_int_equal(hrss_nonce_new(NULL), HRSS_EINVAL);
}

static void nonce_check_rules(void **state)
{
    (void)state;
    hrss_error err = {0};
    assert_int_equal(hrss_nonce_check("dbea7d58e3014126897614c8", 24, &err), HRSS_OK);
    assert_int_equal(hrss_nonce_check("DBEA7D58E3014126897614C8", 24, &err), HRSS_OK);
    assert_int_equal(hrss_nonce_check("dbea7d58e3014126897614c", 23, &err), HRSS_EFORMAT);
    assert_non_null(strstr(err.msg, "23"));
    assert_int_equal(hrss_nonce_check("dbea7d58e3014126897614c88", 25, &err), HRSS_EFORMAT);
    assert_int_equal(hrss_nonce_check("dbea7d58e3014126897614c-", 24, &err), HRSS_EFORMAT);
    assert_int_equal(hrss_nonce_check("dbea7d58e301412689761 c8", 24, &err), HRSS_EFORMAT);
    assert_int_equal(hrss_nonce_check("dbea7d58e3014126897614\xc3\xa9", 24, &err), HRSS_EFORMAT);
    char with_nul[] = "dbea7d58e3014126x97614c8";
    with_nul[16] = '\0';
    assert_int_equal(hrss_nonce_check(with_nul, 24, &err), HRSS_EFORMAT);
    assert_int_equal(hrss_nonce_check("", 0, &err), HRSS_EFORMAT);
    assert_int_equal(hrss_nonce_check(NULL, 24, &err), HRSS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(canonical_standard_example),
        cmocka_unit_test(canonical_omits_empty_keeps_utf8_raw),
        cmocka_unit_test(canonical_sorts_by_ascii_bytes),
        cmocka_unit_test(canonical_refuses_non_strings_and_ambiguous_keys),
        cmocka_unit_test(profile_names),
        cmocka_unit_test(sm3_profile),
        cmocka_unit_test(hmac_sm3_profile),
        cmocka_unit_test(sm2_profile),
        cmocka_unit_test(none_profile_and_bad_arguments),
        cmocka_unit_test(envelope_sign_and_verify),
        cmocka_unit_test(envelope_sm3_and_timestamp_alias),
        cmocka_unit_test(envelope_sm2_round_trip),
        cmocka_unit_test(fill_request_adds_what_lacks),
        cmocka_unit_test(nonce_new_is_24_lowercase_alnum_and_unbiased),
        cmocka_unit_test(nonce_check_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
