/*
 * lib/sign.c - header signatures of LD/T 6008-2024 7.1.1.2 (docs/design.md
 * decisions 1 and 2): the canonical string of a header, the three
 * signature profiles (sm3, hmac-sm3, sm2) over it, and their use on
 * envelopes, plus the filling of what a caller's request lacks before it is
 * signed (id, time, nonce).
 *
 * It sits above crypto.c (digests, SM2, encodings) and envelope.c (the
 * header object); the node's pipeline and the CLI call it. Nothing here
 * keeps state: every function is safe from any thread on distinct objects.
 */
#include <stdlib.h>
#include <string.h>

#include "envelope_private.h"
#include "internal.h"

#define SIGNATURE_KEY "signature"

/* One header field that goes into the canonical string (borrowed bytes). */
typedef struct canon_field {
    const char *key;
    size_t keylen;
    const char *val;
    size_t vallen;
} canon_field;

static const struct {
    const char *name;
    hrss_sig_profile profile;
} profiles[] = {
    {"none", HRSS_SIG_NONE},
    {"sm3", HRSS_SIG_SM3},
    {"hmac-sm3", HRSS_SIG_HMAC_SM3},
    {"sm2", HRSS_SIG_SM2},
};

int hrss_sig_profile_parse(const char *name, hrss_sig_profile *out)
{
    if (name == NULL || out == NULL)
        return HRSS_EINVAL;
    for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
        if (strcmp(name, profiles[i].name) == 0) {
            *out = profiles[i].profile;
            return HRSS_OK;
        }
    }
    return HRSS_EINVAL;
}

const char *hrss_sig_profile_name(hrss_sig_profile p)
{
    for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
        if (profiles[i].profile == p)
            return profiles[i].name;
    return "unknown";
}

/* ---- canonical string ---- */

/* ASCII byte order of the keys, as strcmp would give for NUL-free keys. */
static int canon_field_cmp(const void *a, const void *b)
{
    const canon_field *x = a, *y = b;
    size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
    int c = memcmp(x->key, y->key, n);
    if (c != 0)
        return c;
    return (x->keylen > y->keylen) - (x->keylen < y->keylen);
}

/*
 * A key holding '=' or '&' (or NUL, or nothing) would make two different
 * headers canonicalise to one string, so that a signature made for one
 * would verify for the other. Values cannot be escaped (the standard says
 * none); keys at least can be refused. The envelope rules allow only
 * [A-Za-z0-9_] keys anyway.
 */
static int canon_key_is_safe(const char *key, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (key[i] == '=' || key[i] == '&' || key[i] == '\0')
            return 0;
    return 1;
}

/* Sorts the fields and joins them as k=v&k=v (total bytes without the NUL). */
static int canon_join(canon_field *fields, size_t n, size_t total, char **out, size_t *outlen,
                      hrss_error *err)
{
    if (n > 1)
        qsort(fields, n, sizeof(*fields), canon_field_cmp);
    char *s = malloc(total + 1);
    if (s == NULL)
        return hrss__error(err, HRSS_ENOMEM, "canonical string: out of memory");
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            s[pos++] = '&';
        memcpy(s + pos, fields[i].key, fields[i].keylen);
        pos += fields[i].keylen;
        s[pos++] = '=';
        memcpy(s + pos, fields[i].val, fields[i].vallen);
        pos += fields[i].vallen;
    }
    s[pos] = '\0';
    *out = s;
    if (outlen != NULL)
        *outlen = pos;
    return HRSS_OK;
}

int hrss_canonical_header(const json_t *header, char **out, size_t *outlen, hrss_error *err)
{
    canon_field *fields = NULL;
    size_t n = 0, total = 0;
    int rc = HRSS_OK;

    if (out == NULL)
        return hrss__error(err, HRSS_EINVAL, "canonical string: no output pointer");
    *out = NULL;
    if (outlen != NULL)
        *outlen = 0;
    if (header == NULL || !json_is_object(header))
        return hrss__error(err, HRSS_ETYPE, "header: not an object");

    size_t cap = json_object_size(header);
    if (cap > 0) {
        fields = calloc(cap, sizeof(*fields));
        if (fields == NULL) {
            rc = hrss__error(err, HRSS_ENOMEM, "canonical string: out of memory");
            goto done;
        }
    }

    /* jansson is not const-correct: iteration does not change the object. */
    json_t *obj = (json_t *)header;
    for (void *it = json_object_iter(obj); it != NULL; it = json_object_iter_next(obj, it)) {
        const char *key = json_object_iter_key(it);
        size_t keylen = json_object_iter_key_len(it);
        json_t *v = json_object_iter_value(it);

        if (keylen == sizeof(SIGNATURE_KEY) - 1 && memcmp(key, SIGNATURE_KEY, keylen) == 0)
            continue;
        if (!canon_key_is_safe(key, keylen)) {
            char shown[128];
            rc = hrss__error(err, HRSS_EFORMAT,
                             "header key \"%s\": empty or holds '=', '&' or NUL, which "
                             "would make the signed string ambiguous",
                             hrss__show(shown, sizeof(shown), key, keylen, 32));
            goto done;
        }
        if (!json_is_string(v)) {
            char shown[128];
            rc = hrss__error(err, HRSS_ETYPE, "header.%s: not a string",
                             hrss__show(shown, sizeof(shown), key, keylen, 64));
            goto done;
        }
        size_t vallen = json_string_length(v);
        if (vallen == 0)
            continue; /* empty fields are not signed (7.1.1.2, design.md 1) */
        if (n >= cap) {
            /* Cannot happen: the object has cap fields. */
            rc = hrss__error(err, HRSS_EINVAL, "header changed while read");
            goto done;
        }
        fields[n].key = key;
        fields[n].keylen = keylen;
        fields[n].val = json_string_value(v);
        fields[n].vallen = vallen;
        /* key '=' value, plus '&' before every field but the first */
        size_t add = keylen + 1 + vallen + (n > 0 ? 1 : 0);
        if (total > SIZE_MAX - add - 1) {
            rc = hrss__error(err, HRSS_ETOOBIG, "header: canonical string too long");
            goto done;
        }
        total += add;
        n++;
    }

    rc = canon_join(fields, n, total, out, outlen, err);
done:
    free(fields);
    return rc;
}

/* hrss_canonical_header over the decoded fields of a flat header. */
static int canonical_flat(const hrss__field *f, size_t nf, char **out, size_t *outlen,
                          hrss_error *err)
{
    canon_field fields[32];
    size_t n = 0, total = 0;

    *out = NULL;
    for (size_t i = 0; i < nf; i++) {
        if (f[i].key_len == sizeof(SIGNATURE_KEY) - 1 &&
            memcmp(f[i].key, SIGNATURE_KEY, f[i].key_len) == 0)
            continue;
        if (!canon_key_is_safe(f[i].key, f[i].key_len)) {
            char shown[128];
            return hrss__error(err, HRSS_EFORMAT,
                               "header key \"%s\": empty or holds '=', '&' or NUL, which "
                               "would make the signed string ambiguous",
                               hrss__show(shown, sizeof(shown), f[i].key, f[i].key_len, 32));
        }
        if (f[i].val_len == 0)
            continue; /* empty fields are not signed (7.1.1.2, design.md 1) */
        if (n == sizeof(fields) / sizeof(fields[0]))
            return hrss__error(err, HRSS_ETOOBIG, "header: too many fields");
        fields[n] = (canon_field){f[i].key, f[i].key_len, f[i].val, f[i].val_len};
        total += f[i].key_len + 1 + f[i].val_len + (n > 0 ? 1 : 0);
        n++;
    }
    return canon_join(fields, n, total, out, outlen, err);
}

/* ---- profiles ---- */

/* The 32 bytes a hex profile signs with: SM3 or HMAC-SM3 of canon. */
static int digest_of(const hrss_sig_key *k, const hrss_hmac_sm3_key *hk, const char *canon,
                     size_t len, unsigned char md[HRSS_SM3_LEN], hrss_error *err)
{
    int rc;
    if (k->profile == HRSS_SIG_SM3) {
        rc = hrss_sm3(canon, len, md);
        if (rc != HRSS_OK)
            return hrss__error(err, rc, "sm3 signature: digest failed");
        return HRSS_OK;
    }
    if (hk != NULL)
        rc = hrss_hmac_sm3_keyed(hk, canon, len, md);
    else if (k->secret == NULL || k->secret_len == 0)
        return hrss__error(err, HRSS_EKEY, "hmac-sm3 signature: no secret");
    else
        rc = hrss_hmac_sm3(k->secret, k->secret_len, canon, len, md);
    if (rc != HRSS_OK)
        return hrss__error(err, rc, "hmac-sm3 signature: HMAC failed");
    return HRSS_OK;
}

static int check_sm2_key(const hrss_sig_key *k, int need_private, hrss_error *err)
{
    if (k->sm2 == NULL)
        return hrss__error(err, HRSS_EKEY, "sm2 signature: no key");
    if (need_private && !hrss_sm2_key_has_private(k->sm2))
        return hrss__error(err, HRSS_EKEY, "sm2 signature: signing needs the private key");
    return HRSS_OK;
}

int hrss_sign_string(const hrss_sig_key *k, const char *canon, size_t len, char **sig,
                     size_t *siglen, hrss_error *err)
{
    unsigned char md[HRSS_SM3_LEN];
    unsigned char *der = NULL;
    size_t derlen = 0;
    char *text = NULL;
    size_t textlen = 0;
    int rc;

    if (sig == NULL || k == NULL || (canon == NULL && len > 0))
        return hrss__error(err, HRSS_EINVAL, "sign: missing argument");
    *sig = NULL;
    if (siglen != NULL)
        *siglen = 0;
    if (canon == NULL)
        canon = "";

    switch (k->profile) {
    case HRSS_SIG_SM3:
    case HRSS_SIG_HMAC_SM3:
        rc = digest_of(k, NULL, canon, len, md, err);
        if (rc != HRSS_OK)
            goto done;
        rc = hrss_hex_encode(md, sizeof(md), &text, &textlen);
        if (rc != HRSS_OK) {
            rc = hrss__error(err, rc, "sign: hex encoding failed");
            goto done;
        }
        break;
    case HRSS_SIG_SM2:
        rc = check_sm2_key(k, 1, err);
        if (rc != HRSS_OK)
            goto done;
        rc = hrss_sm2_sign(k->sm2, NULL, 0, canon, len, HRSS_SM2_SIG_DER, &der, &derlen, err);
        if (rc != HRSS_OK)
            goto done;
        rc = hrss_base64_encode(der, derlen, &text, &textlen);
        if (rc != HRSS_OK) {
            rc = hrss__error(err, rc, "sign: Base64 encoding failed");
            goto done;
        }
        break;
    case HRSS_SIG_NONE:
        rc = hrss__error(err, HRSS_EINVAL, "sign: profile \"none\" makes no signature");
        goto done;
    default:
        rc = hrss__error(err, HRSS_EINVAL, "sign: unknown profile %d", (int)k->profile);
        goto done;
    }

    *sig = text;
    text = NULL;
    if (siglen != NULL)
        *siglen = textlen;
    rc = HRSS_OK;
done:
    hrss_free(text);
    hrss_free(der);
    return rc;
}

/* Hex signature: lower-case hex only (the form the profiles give, as the
 * standard compares what it computes with what it received), decoded to
 * bytes and compared in constant time. The length and the form are public;
 * only the content is compared without early exit. */
static int verify_hex(const hrss_sig_key *k, const hrss_hmac_sm3_key *hk, const char *canon,
                      size_t len, const char *sig, size_t siglen, hrss_error *err)
{
    unsigned char md[HRSS_SM3_LEN];
    unsigned char *got = NULL;
    size_t gotlen = 0;
    const char *name = hrss_sig_profile_name(k->profile);
    int rc = digest_of(k, hk, canon, len, md, err);

    if (rc != HRSS_OK)
        return rc;
    if (siglen != 2 * HRSS_SM3_LEN) {
        rc = hrss__error(err, HRSS_EBADSIG, "signature: %zu characters, %s gives %d", siglen, name,
                         2 * HRSS_SM3_LEN);
        goto done;
    }
    for (size_t i = 0; i < siglen; i++) {
        if (sig[i] >= 'A' && sig[i] <= 'F') {
            rc = hrss__error(err, HRSS_EBADSIG, "signature: upper-case hex, %s gives lower case",
                             name);
            goto done;
        }
    }
    if (hrss_hex_decode(sig, siglen, &got, &gotlen, NULL) != HRSS_OK || gotlen != sizeof(md)) {
        rc = hrss__error(err, HRSS_EBADSIG, "signature: not hexadecimal");
        goto done;
    }
    if (!hrss_ct_equal(got, md, sizeof(md))) {
        rc = hrss__error(err, HRSS_EBADSIG, "signature: %s value differs", name);
        goto done;
    }
    rc = HRSS_OK;
done:
    hrss_free(got);
    return rc;
}

static int verify_sm2(const hrss_sig_key *k, const char *canon, size_t len, const char *sig,
                      size_t siglen, hrss_error *err)
{
    unsigned char *der = NULL;
    size_t derlen = 0;
    int rc = check_sm2_key(k, 0, err);

    if (rc != HRSS_OK)
        return rc;
    if (hrss_base64_decode(sig, siglen, &der, &derlen, NULL) != HRSS_OK || derlen == 0) {
        rc = hrss__error(err, HRSS_EBADSIG, "signature: not Base64");
        goto done;
    }
    rc = hrss_sm2_verify(k->sm2, NULL, 0, canon, len, HRSS_SM2_SIG_DER, der, derlen, err);
    if (rc == HRSS_EBADSIG)
        hrss__error(err, HRSS_EBADSIG, "signature: sm2 check fails");
done:
    hrss_free(der);
    return rc;
}

/* hrss_verify_string, with hk (may be NULL) prepared from k's hmac-sm3 secret. */
static int verify_string(const hrss_sig_key *k, const hrss_hmac_sm3_key *hk, const char *canon,
                         size_t len, const char *sig, size_t siglen, hrss_error *err)
{
    if (k == NULL || (canon == NULL && len > 0))
        return hrss__error(err, HRSS_EINVAL, "verify: missing argument");
    if (canon == NULL)
        canon = "";
    if (k->profile == HRSS_SIG_NONE)
        return HRSS_OK;
    if (sig == NULL && siglen > 0)
        return hrss__error(err, HRSS_EINVAL, "verify: missing signature");
    if (siglen == 0)
        return hrss__error(err, HRSS_EBADSIG, "signature: empty");
    if (siglen > HRSS_SIGNATURE_MAX)
        return hrss__error(err, HRSS_EBADSIG, "signature: %zu characters, at most %d", siglen,
                           HRSS_SIGNATURE_MAX);

    switch (k->profile) {
    case HRSS_SIG_SM3:
    case HRSS_SIG_HMAC_SM3:
        return verify_hex(k, hk, canon, len, sig, siglen, err);
    case HRSS_SIG_SM2:
        return verify_sm2(k, canon, len, sig, siglen, err);
    default:
        return hrss__error(err, HRSS_EINVAL, "verify: unknown profile %d", (int)k->profile);
    }
}

int hrss_verify_string(const hrss_sig_key *k, const char *canon, size_t len, const char *sig,
                       size_t siglen, hrss_error *err)
{
    return verify_string(k, NULL, canon, len, sig, siglen, err);
}

/* ---- envelopes ---- */

int hrss_envelope_sign(hrss_envelope *e, const hrss_sig_key *k, hrss_error *err)
{
    char *canon = NULL, *sig = NULL;
    size_t canonlen = 0;
    int rc;

    if (e == NULL || k == NULL)
        return hrss__error(err, HRSS_EINVAL, "sign: missing argument");
    if (k->profile == HRSS_SIG_NONE) {
        rc = hrss_envelope_set(e, SIGNATURE_KEY, NULL);
        if (rc != HRSS_OK)
            return hrss__error(err, rc, "header.signature: cannot remove");
        return HRSS_OK;
    }
    rc = hrss_canonical_header(hrss_envelope_header(e), &canon, &canonlen, err);
    if (rc != HRSS_OK)
        goto done;
    rc = hrss_sign_string(k, canon, canonlen, &sig, NULL, err);
    if (rc != HRSS_OK)
        goto done;
    rc = hrss_envelope_set(e, SIGNATURE_KEY, sig);
    if (rc != HRSS_OK)
        rc = hrss__error(err, rc, "header.signature: cannot set");
done:
    hrss_free(sig);
    hrss_free(canon);
    return rc;
}

static int envelope_verify(const hrss_envelope *e, const hrss_sig_key *k,
                           const hrss_hmac_sm3_key *hk, hrss_error *err)
{
    char *canon = NULL;
    size_t canonlen = 0;
    int rc;

    if (e == NULL || k == NULL)
        return hrss__error(err, HRSS_EINVAL, "verify: missing argument");
    if (k->profile == HRSS_SIG_NONE)
        return HRSS_OK;

    const hrss__field *flat;
    size_t nflat = hrss__envelope_flat(e, &flat);
    if (flat != NULL) { /* a header read by the relay parse: no object needed */
        const char *sv = hrss_envelope_get(e, SIGNATURE_KEY);
        if (sv == NULL || sv[0] == '\0')
            return hrss__error(err, HRSS_EMISSING,
                               "header.signature: missing, profile %s needs it",
                               hrss_sig_profile_name(k->profile));
        rc = canonical_flat(flat, nflat, &canon, &canonlen, err);
        if (rc == HRSS_OK)
            rc = verify_string(k, hk, canon, canonlen, sv, strlen(sv), err);
        goto placed;
    }
    json_t *header = hrss_envelope_header(e);
    json_t *sig = header != NULL ? json_object_get(header, SIGNATURE_KEY) : NULL;
    if (sig == NULL || (json_is_string(sig) && json_string_length(sig) == 0))
        return hrss__error(err, HRSS_EMISSING, "header.signature: missing, profile %s needs it",
                           hrss_sig_profile_name(k->profile));
    if (!json_is_string(sig))
        return hrss__error(err, HRSS_EBADSIG, "header.signature: not a string");

    rc = hrss_canonical_header(header, &canon, &canonlen, err);
    if (rc != HRSS_OK)
        goto done;
    rc = verify_string(k, hk, canon, canonlen, json_string_value(sig), json_string_length(sig),
                       err);
placed:
    if (rc != HRSS_OK && err != NULL && strncmp(err->msg, "signature: ", 11) == 0) {
        /* "signature: ..." of hrss_verify_string, placed in the header */
        char tmp[HRSS_ERROR_MSG_MAX];
        memcpy(tmp, err->msg, sizeof(tmp));
        tmp[sizeof(tmp) - 1] = '\0';
        hrss__error(err, rc, "header.%s", tmp);
    }
done:
    hrss_free(canon);
    return rc;
}

int hrss_envelope_verify(const hrss_envelope *e, const hrss_sig_key *k, hrss_error *err)
{
    return envelope_verify(e, k, NULL, err);
}

int hrss_envelope_verify_hmac(const hrss_envelope *e, const hrss_hmac_sm3_key *k, hrss_error *err)
{
    if (k == NULL)
        return hrss__error(err, HRSS_EINVAL, "verify: missing argument");
    hrss_sig_key sk = {.profile = HRSS_SIG_HMAC_SM3};
    return envelope_verify(e, &sk, k, err);
}

/* 1 when the header holds field (exact key, no alias) with a value other than
 * the empty string. A value of another type counts as set: it is kept, and
 * hrss_envelope_validate will refuse it. */
static int field_is_set(const hrss_envelope *e, const char *field)
{
    json_t *v = json_object_get(hrss_envelope_header(e), field);
    return v != NULL && !(json_is_string(v) && json_string_length(v) == 0);
}

int hrss_envelope_fill_request(hrss_envelope *e, hrss_idgen *g, hrss_error *err)
{
    char id[HRSS_ID_LEN + 1];
    char now[HRSS_TIME_LEN + 1];
    char nonce[HRSS_NONCE_LEN + 1];
    int rc;

    if (e == NULL)
        return hrss__error(err, HRSS_EINVAL, "fill: no envelope");
    int need_id = !field_is_set(e, "serviceReqId");
    int need_time = !field_is_set(e, "serviceReqTime") && !field_is_set(e, "timestamp");
    int need_nonce = !field_is_set(e, "nonce");
    if (need_id && g == NULL)
        return hrss__error(err, HRSS_EINVAL,
                           "header.serviceReqId: absent and no id generator to make one");

    /* Make every value first so that a failure leaves the envelope as it was. */
    if (need_id) {
        rc = hrss_idgen_next(g, id, err);
        if (rc != HRSS_OK) {
            hrss__error_prefix(err, "header.serviceReqId");
            return rc;
        }
    }
    if (need_time)
        hrss_time_now(now);
    if (need_nonce) {
        rc = hrss_nonce_new(nonce);
        if (rc != HRSS_OK)
            return hrss__error(err, rc, "header.nonce: random generator failed");
    }

    if (need_id && (rc = hrss_envelope_set(e, "serviceReqId", id)) != HRSS_OK)
        return hrss__error(err, rc, "header.serviceReqId: cannot set");
    if (need_time) {
        /* An empty "timestamp" alias goes, or the header would hold both keys. */
        json_t *ts = json_object_get(hrss_envelope_header(e), "timestamp");
        if (ts != NULL && (rc = hrss_envelope_set(e, "timestamp", NULL)) != HRSS_OK)
            return hrss__error(err, rc, "header.timestamp: cannot remove");
        if ((rc = hrss_envelope_set(e, "serviceReqTime", now)) != HRSS_OK)
            return hrss__error(err, rc, "header.serviceReqTime: cannot set");
    }
    if (need_nonce && (rc = hrss_envelope_set(e, "nonce", nonce)) != HRSS_OK)
        return hrss__error(err, rc, "header.nonce: cannot set");
    return HRSS_OK;
}
