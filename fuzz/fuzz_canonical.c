/*
 * fuzz/fuzz_canonical.c - the canonical string of a header (sign.c): any
 * JSON object either canonicalises or is refused for a reason it really
 * has (a non-string value, an ambiguous key); what comes out is exactly the
 * non-empty fields but "signature", sorted by key bytes, as key=value joined
 * with '&'; and an sm3 signature over it verifies, and fails once the string
 * changes. The input is also tried as a signature text, which must never
 * verify by accident nor crash the decoders.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hrss/hrss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct pair {
    const char *key;
    size_t keylen;
    const char *val;
    size_t vallen;
} pair;

static int pair_cmp(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
    int c = memcmp(x->key, y->key, n);
    return c != 0 ? c : (x->keylen > y->keylen) - (x->keylen < y->keylen);
}

static int key_is_ambiguous(const char *k, size_t len)
{
    return len == 0 || memchr(k, '=', len) != NULL || memchr(k, '&', len) != NULL ||
           memchr(k, '\0', len) != NULL;
}

/* The fields the canonical string must hold, sorted; -1 when the header
 * must be refused (with *why the code), else the count. */
static long expected_pairs(json_t *h, pair *out, int *why)
{
    long n = 0;
    *why = HRSS_OK;
    for (void *it = json_object_iter(h); it != NULL; it = json_object_iter_next(h, it)) {
        const char *k = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        json_t *v = json_object_iter_value(it);
        if (klen == 9 && memcmp(k, "signature", 9) == 0)
            continue;
        if (key_is_ambiguous(k, klen) || !json_is_string(v)) {
            *why = key_is_ambiguous(k, klen) ? HRSS_EFORMAT : HRSS_ETYPE;
            return -1;
        }
        if (json_string_length(v) == 0)
            continue;
        out[n++] = (pair){k, klen, json_string_value(v), json_string_length(v)};
    }
    qsort(out, (size_t)n, sizeof(*out), pair_cmp);
    return n;
}

static void check_sm3_round_trip(const char *canon, size_t len, const uint8_t *data, size_t size)
{
    hrss_sig_key k = {.profile = HRSS_SIG_SM3};
    hrss_error err;
    char *sig = NULL;
    size_t siglen = 0;
    if (hrss_sign_string(&k, canon, len, &sig, &siglen, &err) != HRSS_OK)
        abort();
    if (siglen != 64 || hrss_verify_string(&k, canon, len, sig, siglen, &err) != HRSS_OK)
        abort();
    if (len > 0) {
        char *changed = malloc(len);
        if (changed == NULL)
            abort();
        memcpy(changed, canon, len);
        changed[len / 2] ^= 1;
        if (hrss_verify_string(&k, changed, len, sig, siglen, &err) != HRSS_EBADSIG)
            abort();
        free(changed);
    }
    /* The raw input as a signature text: a mismatch, unless it is the hex. */
    int rc = hrss_verify_string(&k, canon, len, (const char *)data, size, &err);
    if (rc != HRSS_EBADSIG && !(rc == HRSS_OK && size == 64))
        abort();
    hrss_free(sig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *h = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    pair *want = NULL;
    char *canon = NULL;
    size_t len = 0;
    hrss_error err;

    if (h == NULL)
        return 0;
    if (!json_is_object(h)) {
        if (hrss_canonical_header(h, &canon, &len, &err) != HRSS_ETYPE || canon != NULL)
            abort();
        goto done;
    }
    want = calloc(json_object_size(h) + 1, sizeof(*want));
    if (want == NULL)
        abort();
    int why;
    long n = expected_pairs(h, want, &why);
    int rc = hrss_canonical_header(h, &canon, &len, &err);
    if (n < 0) {
        /* Refused, and for the reason the header really has (the first
         * offending field decides between ETYPE and EFORMAT). */
        if (rc != why || canon != NULL || err.code != rc)
            abort();
        goto done;
    }
    if (rc != HRSS_OK || canon == NULL || strlen(canon) != len)
        abort();

    /* Exactly the expected fields, in order: sorted, signature excluded. */
    size_t pos = 0;
    for (long i = 0; i < n; i++) {
        if (i > 0 && (pos >= len || canon[pos++] != '&'))
            abort();
        if (i > 0 && pair_cmp(&want[i - 1], &want[i]) >= 0)
            abort();
        if (len - pos < want[i].keylen + 1 + want[i].vallen)
            abort();
        if (memcmp(canon + pos, want[i].key, want[i].keylen) != 0)
            abort();
        pos += want[i].keylen;
        if (canon[pos++] != '=')
            abort();
        if (memcmp(canon + pos, want[i].val, want[i].vallen) != 0)
            abort();
        pos += want[i].vallen;
        if (want[i].keylen == 9 && memcmp(want[i].key, "signature", 9) == 0)
            abort();
    }
    if (pos != len)
        abort();
    if (strncmp(canon, "signature=", 10) == 0 || strstr(canon, "&signature=") != NULL) {
        /* Only possible inside a value that itself holds "&signature=". */
        int inside = 0;
        for (long i = 0; i < n; i++)
            if (memmem(want[i].val, want[i].vallen, "signature=", 10) != NULL)
                inside = 1;
        if (!inside)
            abort();
    }
    check_sm3_round_trip(canon, len, data, size);
done:
    hrss_free(canon);
    free(want);
    json_decref(h);
    return 0;
}
