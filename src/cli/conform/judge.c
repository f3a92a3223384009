/*
 * cli/conform/judge.c - the two judgements both directions of the kit
 * share: does a header's signature hold under a profile (7.1.1.2), and does
 * a ciphertext body open under a grant's profile (7.1.1.1)? When not, the
 * usual deviations of other implementations are tried so that the report
 * names what the peer does: uppercase hex, the nonce left out of the signed
 * string, the "timestamp" key, plain SM3 instead of HMAC-SM3, hex instead of
 * Base64, zero padding instead of PKCS#7, SM2 ciphertext in C1C2C3 order or
 * DER.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "cli/conform/conform.h"

static const char *const reading_text[] = {
    "hrss's reading",
    "the peer signs the header without the nonce; hrss reads: the nonce travels as header "
    "field nonce and is signed with the rest (design.md decision 1)",
    "the peer signs the time under the key timestamp (table 1's spelling) while the header "
    "says serviceReqTime; hrss reads: each field signed under the key it travels with "
    "(design.md decision 1)",
    "the peer writes signatures in uppercase hex; hrss reads: lowercase hex, as the "
    "standard's example (design.md decision 2)",
};

const char *cf_sign_reading_text(cf_sign_reading rd)
{
    return reading_text[rd];
}

json_t *cf_header_as_read(const json_t *header, cf_sign_reading rd)
{
    json_t *h = json_deep_copy(header), *v;
    if (h == NULL)
        return NULL;
    json_object_del(h, "signature");
    if (rd == CF_SIGN_NO_NONCE)
        json_object_del(h, "nonce");
    if (rd == CF_SIGN_TIMESTAMP && (v = json_object_get(h, "serviceReqTime")) != NULL) {
        json_object_set(h, "timestamp", v);
        json_object_del(h, "serviceReqTime");
    }
    return h;
}

/* 1 when sig is the signature under k of the header as rd reads it. */
static int holds_with(const json_t *header, const hrss_sig_key *k, const char *sig,
                      cf_sign_reading rd)
{
    json_t *h = cf_header_as_read(header, rd);
    char *canon = NULL;
    size_t len = 0;
    int ok = 0;
    if (h != NULL && hrss_canonical_header(h, &canon, &len, NULL) == HRSS_OK)
        ok = hrss_verify_string(k, canon, len, sig, strlen(sig), NULL) == HRSS_OK;
    hrss_free(canon);
    json_decref(h);
    return ok;
}

cf_verdict cf_judge_signature(const json_t *header, const hrss_sig_key *k, char *detail, size_t n)
{
    const char *sig = json_string_value(json_object_get(header, "signature"));
    const char *prof = hrss_sig_profile_name(k->profile);
    if (sig == NULL || *sig == '\0') {
        snprintf(detail, n, "no signature, where the %s profile was agreed", prof);
        return CF_FAIL;
    }
    int hex = k->profile == HRSS_SIG_SM3 || k->profile == HRSS_SIG_HMAC_SM3;
    if (hex && strpbrk(sig, "ABCDEF") != NULL && strlen(sig) <= HRSS_SIGNATURE_MAX) {
        /* hrss itself refuses capitals: the value is judged in lower case */
        char low[HRSS_SIGNATURE_MAX + 1];
        size_t i = 0;
        for (; sig[i] != '\0'; i++)
            low[i] = (char)(sig[i] >= 'A' && sig[i] <= 'F' ? sig[i] + ('a' - 'A') : sig[i]);
        low[i] = '\0';
        if (holds_with(header, k, low, CF_SIGN_HRSS)) {
            snprintf(detail, n, "signature is right, but %s", reading_text[CF_SIGN_UPPER]);
            return CF_DIFFERS;
        }
    }
    if (holds_with(header, k, sig, CF_SIGN_HRSS)) {
        snprintf(detail, n, "signature holds (%s over the canonical string)", prof);
        return CF_PASS;
    }
    for (cf_sign_reading rd = CF_SIGN_NO_NONCE; rd <= CF_SIGN_TIMESTAMP; rd++)
        if (holds_with(header, k, sig, rd)) {
            snprintf(detail, n, "%s", reading_text[rd]);
            return CF_DIFFERS;
        }
    if (k->profile == HRSS_SIG_HMAC_SM3) {
        hrss_sig_key plain = {HRSS_SIG_SM3, NULL, 0, NULL};
        if (holds_with(header, &plain, sig, CF_SIGN_HRSS)) {
            snprintf(detail, n,
                     "signature is plain SM3 of the canonical string, where HMAC-SM3 was "
                     "agreed: anyone can compute it, it proves no identity (design.md decision 2)");
            return CF_FAIL;
        }
    }
    snprintf(detail, n, "signature does not verify under the %s profile", prof);
    return CF_FAIL;
}

/* Raw SM4-ECB without padding removal; NULL when the length is not whole
 * blocks. */
static unsigned char *sm4_raw(const unsigned char key[16], const unsigned char *in, size_t len)
{
    if (len == 0 || len % 16 != 0)
        return NULL;
    unsigned char *out = malloc(len + 16);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int a = 0, b = 0;
    if (out == NULL || c == NULL || EVP_DecryptInit_ex(c, EVP_sm4_ecb(), NULL, key, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(c, 0) != 1 || EVP_DecryptUpdate(c, out, &a, in, (int)len) != 1 ||
        EVP_DecryptFinal_ex(c, out + a, &b) != 1) {
        free(out);
        out = NULL;
    }
    EVP_CIPHER_CTX_free(c);
    return out;
}

static int is_lower_hex(const char *s)
{
    for (; *s != '\0'; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

/* Decodes text as Base64 or hex; 1 on success. */
static int decode_as(const char *text, hrss_text_encoding enc, unsigned char **out, size_t *len)
{
    size_t tl = strlen(text);
    return (enc == HRSS_TEXT_HEX ? hrss_hex_decode(text, tl, out, len, NULL)
                                 : hrss_base64_decode(text, tl, out, len, NULL)) == HRSS_OK;
}

static cf_verdict plain_object(const unsigned char *p, size_t len, json_t **plain, char *detail,
                               size_t n)
{
    json_error_t je;
    json_t *doc = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(doc)) {
        json_decref(doc);
        snprintf(detail, n, "decrypts, but the plaintext is not a JSON object");
        return CF_FAIL;
    }
    if (plain != NULL)
        *plain = doc;
    else
        json_decref(doc);
    return CF_PASS;
}

static const char *enc_name(hrss_text_encoding e)
{
    return e == HRSS_TEXT_HEX ? "hex" : "Base64";
}

/* SM4-ECB under the grant's key: PKCS#7, in the grant's encoding. Hex
 * digits are also Base64 letters, so each encoding is tried until one
 * decrypts; the padding of a ciphertext that decrypts to nothing is read. */
static cf_verdict judge_sm4(const char *text, hrss_text_encoding enc, const char *digits,
                            json_t **plain, char *detail, size_t n)
{
    unsigned char key[HRSS_SM4_KEY_LEN], *ct = NULL, *pt = NULL, *first = NULL;
    size_t ctlen = 0, ptlen = 0, firstlen = 0;
    cf_verdict v = CF_FAIL;
    if (hrss_sm4_key_from_digits(digits, strlen(digits), key, NULL) != HRSS_OK) {
        snprintf(detail, n, "the SM4 key given to the kit is not 16 digits");
        return CF_FAIL;
    }
    const hrss_text_encoding order[2] = {enc,
                                         enc == HRSS_TEXT_HEX ? HRSS_TEXT_BASE64 : HRSS_TEXT_HEX};
    snprintf(detail, n, "ciphertext is neither Base64 nor hex");
    for (int i = 0; i < 2 && v == CF_FAIL; i++) {
        if (!decode_as(text, order[i], &ct, &ctlen))
            continue;
        if (hrss_sm4_ecb_decrypt(key, ct, ctlen, &pt, &ptlen, NULL) == HRSS_OK &&
            plain_object(pt, ptlen, plain, detail, n) == CF_PASS) {
            int upper = order[i] == HRSS_TEXT_HEX && !is_lower_hex(text);
            if (i == 0 && !upper) {
                v = CF_PASS;
                snprintf(detail, n, "SM4-ECB, PKCS#7, %s: decrypts to a JSON object",
                         enc_name(enc));
            } else {
                v = CF_DIFFERS;
                snprintf(detail, n,
                         "ciphertext in %s%s where the grant says %s; hrss reads: Base64 by "
                         "default, lowercase hex selectable per grant (design.md decision 4)",
                         upper ? "uppercase " : "", enc_name(order[i]), enc_name(enc));
            }
        }
        if (pt != NULL) {
            explicit_bzero(pt, ptlen);
            hrss_free(pt);
            pt = NULL;
        }
        if (first == NULL) {
            first = ct;
            firstlen = ctlen;
        } else
            hrss_free(ct);
        ct = NULL;
    }
    if (v != CF_FAIL || first == NULL)
        goto done;
    unsigned char *raw = sm4_raw(key, first, firstlen);
    if (raw == NULL) {
        snprintf(detail, n, "ciphertext of %zu bytes is not whole 16-byte SM4 blocks", firstlen);
        goto done;
    }
    size_t end = firstlen;
    while (end > 0 && raw[end - 1] == 0)
        end--;
    if (end < firstlen && plain_object(raw, end, NULL, detail, n) == CF_PASS)
        snprintf(detail, n,
                 "SM4 padding is zero bytes, not PKCS#7 (design.md decision 4: PKCS#7, as "
                 "OpenSSL and GM/T 0002 implementations do)");
    else if (plain_object(raw, firstlen, NULL, detail, n) == CF_PASS)
        snprintf(detail, n, "SM4 without padding: PKCS#7 padding expected (design.md decision 4)");
    else
        snprintf(detail, n, "does not decrypt with the grant's SM4 key (SM4-ECB, PKCS#7)");
    explicit_bzero(raw, firstlen);
    free(raw);
done:
    hrss_free(first);
    explicit_bzero(key, sizeof(key));
    return v;
}

static cf_verdict judge_sm2(const char *text, hrss_text_encoding enc, const hrss_sm2_key *k,
                            json_t **plain, char *detail, size_t n)
{
    static const struct {
        hrss_sm2_ct_format f;
        const char *name;
    } forms[] = {{HRSS_SM2_C1C3C2, "C1C3C2"}, {HRSS_SM2_C1C2C3, "C1C2C3"}, {HRSS_SM2_DER, "DER"}};
    unsigned char *ct = NULL, *pt = NULL;
    size_t ctlen = 0, ptlen = 0;
    cf_verdict v = CF_FAIL;
    if (k == NULL) {
        snprintf(detail, n, "no SM2 private key given to the kit to open it");
        return CF_SKIP;
    }
    if (!decode_as(text, enc, &ct, &ctlen)) {
        snprintf(detail, n, "SM2 ciphertext is not %s", enc_name(enc));
        return CF_FAIL;
    }
    snprintf(detail, n,
             "does not decrypt with the recipient's SM2 private key in any order (C1C3C2, "
             "C1C2C3, DER); note: SM2 cannot encrypt with a private key (design.md decision 5)");
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        if (hrss_sm2_decrypt(k, ct, ctlen, forms[i].f, &pt, &ptlen, NULL) != HRSS_OK)
            continue;
        v = plain_object(pt, ptlen, plain, detail, n);
        if (v == CF_PASS && i > 0) {
            snprintf(detail, n,
                     "SM2 ciphertext in %s order; hrss reads: C1C3C2 (GM/T 0003-2012), "
                     "C1C2C3 and DER selectable per grant (design.md decision 5)",
                     forms[i].name);
            v = CF_DIFFERS;
        } else if (v == CF_PASS)
            snprintf(detail, n, "SM2, C1C3C2: decrypts to a JSON object");
        explicit_bzero(pt, ptlen);
        hrss_free(pt);
        break;
    }
    hrss_free(ct);
    return v;
}

cf_verdict cf_judge_cipher(const json_t *body, hrss_body_cipher cipher, hrss_text_encoding enc,
                           const char *sm4_key, const hrss_sm2_key *own, json_t **plain,
                           char *detail, size_t n)
{
    if (plain != NULL)
        *plain = NULL;
    if (cipher == HRSS_BODY_PLAIN) {
        if (json_is_object(body)) {
            snprintf(detail, n, "plain JSON object, as the grant says");
            if (plain != NULL)
                *plain = json_incref((json_t *)body);
            return CF_PASS;
        }
        snprintf(detail, n, "%s where the grant says plain JSON",
                 json_is_string(body) ? "a ciphertext string" : "no JSON object");
        return CF_FAIL;
    }
    if (!json_is_string(body)) {
        snprintf(detail, n,
                 "%s where the grant says %s: the body must be the ciphertext as "
                 "a JSON string (7.1.1.1, examples 1 to 4)",
                 json_is_object(body) ? "plaintext JSON object" : "no body",
                 cipher == HRSS_BODY_SM2 ? "SM2" : "SM4");
        return CF_FAIL;
    }
    const char *text = json_string_value(body);
    if (cipher == HRSS_BODY_SM2)
        return judge_sm2(text, enc, own, plain, detail, n);
    if (cipher == HRSS_BODY_SM4_ECB)
        return judge_sm4(text, enc, sm4_key, plain, detail, n);
    snprintf(detail, n, "SM4-GCM bodies are not judged by the kit");
    return CF_SKIP;
}
