/*
 * lib/body.c - what goes in an envelope's body: the shapes of LD/T
 * 6008-2024 6.2.2 (plain object, paged request and response, batch request)
 * with their checked getters, and body encryption of 7.1.1.1 (docs/design.md
 * decisions 4 and 5) over crypto.h.
 *
 * A sealed body is the ciphertext of the body's compact JSON text (UTF-8 as
 * is, members in order), as a JSON string in Base64 or hex. SM4-ECB is the
 * standard's profile; SM4-GCM binds the ciphertext to the request with
 * serviceReqId as AAD; SM2 seals with the recipient's public key. Opening
 * parses the plaintext with the same strict loader as the envelope, so a
 * sealed body cannot smuggle what a plain one could not.
 */
#include <limits.h>
#include <string.h>

#include "common/util.h"
#include "envelope_private.h"

#define ROWS_MAX 1000

/* ---- shapes ---- */

json_t *hrss_body_data(json_t *data)
{
    json_t *o = json_object();
    if (o == NULL) {
        json_decref(data);
        return NULL;
    }
    if (json_object_set_new(o, "data", data) != 0) { /* releases data */
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *hrss_body_paged_request(json_t *conditions, long long cpage, long long rows)
{
    json_t *o = conditions != NULL ? conditions : json_object();
    if (!json_is_object(o) || json_object_set_new(o, "cpage", json_integer(cpage)) != 0 ||
        json_object_set_new(o, "rows", json_integer(rows)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *hrss_body_paged_response(json_t *list, long long total_count, long long total_page)
{
    json_t *data = json_object();
    if (data == NULL || !json_is_array(list) ||
        json_object_set_new(data, "totalCount", json_integer(total_count)) != 0 ||
        json_object_set_new(data, "totalPage", json_integer(total_page)) != 0 ||
        json_object_set(data, "list", list) != 0) {
        json_decref(data);
        json_decref(list);
        return NULL;
    }
    json_decref(list);
    return hrss_body_data(data);
}

json_t *hrss_body_batch_request(json_t *list)
{
    json_t *o = json_object();
    if (o == NULL || !json_is_array(list) ||
        json_object_set_new(o, "totalCount", json_integer((json_int_t)json_array_size(list))) !=
            0 ||
        json_object_set(o, "list", list) != 0) {
        json_decref(o);
        json_decref(list);
        return NULL;
    }
    json_decref(list);
    return o;
}

/* The member key of obj (named path in messages) as an object. */
static int get_object(const json_t *obj, const char *key, const char *path, json_t **out,
                      hrss_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return hrss__error(err, HRSS_EMISSING, "%s: missing", path);
    if (!json_is_object(v))
        return hrss__error(err, HRSS_ETYPE, "%s: must be an object, found %s", path,
                           hrss__json_type_name(v));
    *out = v;
    return HRSS_OK;
}

/* The member key of obj as an integer in [min, max]. */
static int get_int(const json_t *obj, const char *key, const char *path, long long min,
                   long long max, long long *out, hrss_error *err)
{
    json_t *v = json_object_get(obj, key);
    long long n;

    if (v == NULL)
        return hrss__error(err, HRSS_EMISSING, "%s: missing", path);
    if (!json_is_integer(v))
        return hrss__error(err, HRSS_ETYPE, "%s: must be an integer, found %s", path,
                           hrss__json_type_name(v));
    n = json_integer_value(v);
    if (n < min)
        return hrss__error(err, HRSS_ERANGE, "%s: %lld, at least %lld", path, n, min);
    if (n > max)
        return hrss__error(err, HRSS_ERANGE, "%s: %lld, at most %lld", path, n, max);
    *out = n;
    return HRSS_OK;
}

/* The member "list" of obj as an array of objects. */
static int get_list(const json_t *obj, const char *path, json_t **out, hrss_error *err)
{
    json_t *v = json_object_get(obj, "list");
    if (v == NULL)
        return hrss__error(err, HRSS_EMISSING, "%s: missing", path);
    if (!json_is_array(v))
        return hrss__error(err, HRSS_ETYPE, "%s: must be an array, found %s", path,
                           hrss__json_type_name(v));
    for (size_t i = 0; i < json_array_size(v); i++)
        if (!json_is_object(json_array_get(v, i)))
            return hrss__error(err, HRSS_ETYPE, "%s[%zu]: must be an object, found %s", path, i,
                               hrss__json_type_name(json_array_get(v, i)));
    *out = v;
    return HRSS_OK;
}

static int check_body_object(const json_t *body, hrss_error *err)
{
    if (!json_is_object(body))
        return hrss__error(err, HRSS_ETYPE, "body: must be an object, found %s",
                           body != NULL ? hrss__json_type_name(body) : "nothing");
    return HRSS_OK;
}

int hrss_body_get_paging(const json_t *body, long long *cpage, long long *rows, hrss_error *err)
{
    long long c, r;
    int rc = check_body_object(body, err);
    if (rc == HRSS_OK)
        rc = get_int(body, "cpage", "body.cpage", 1, LLONG_MAX, &c, err);
    if (rc == HRSS_OK)
        rc = get_int(body, "rows", "body.rows", 1, ROWS_MAX, &r, err);
    if (rc != HRSS_OK)
        return rc;
    if (cpage != NULL)
        *cpage = c;
    if (rows != NULL)
        *rows = r;
    return HRSS_OK;
}

int hrss_body_get_paged_response(const json_t *body, long long *total_count, long long *total_page,
                                 json_t **list, hrss_error *err)
{
    json_t *data = NULL, *l = NULL;
    long long count, pages;
    int rc = check_body_object(body, err);

    if (rc == HRSS_OK)
        rc = get_object(body, "data", "body.data", &data, err);
    if (rc == HRSS_OK)
        rc = get_int(data, "totalCount", "body.data.totalCount", 0, LLONG_MAX, &count, err);
    if (rc == HRSS_OK)
        rc = get_int(data, "totalPage", "body.data.totalPage", 0, LLONG_MAX, &pages, err);
    if (rc == HRSS_OK)
        rc = get_list(data, "body.data.list", &l, err);
    if (rc != HRSS_OK)
        return rc;
    /* totalCount counts every page, so one page cannot hold more. */
    if ((unsigned long long)count < json_array_size(l))
        return hrss__error(err, HRSS_ERANGE,
                           "body.data.totalCount: %lld, less than the %zu "
                           "items of list",
                           count, json_array_size(l));
    if (total_count != NULL)
        *total_count = count;
    if (total_page != NULL)
        *total_page = pages;
    if (list != NULL)
        *list = l;
    return HRSS_OK;
}

int hrss_body_get_batch(const json_t *body, json_t **list, hrss_error *err)
{
    json_t *l = NULL;
    long long count;
    int rc = check_body_object(body, err);

    if (rc == HRSS_OK)
        rc = get_int(body, "totalCount", "body.totalCount", 0, LLONG_MAX, &count, err);
    if (rc == HRSS_OK)
        rc = get_list(body, "body.list", &l, err);
    if (rc != HRSS_OK)
        return rc;
    if ((unsigned long long)count != json_array_size(l))
        return hrss__error(err, HRSS_ERANGE, "body.totalCount: %lld, but list has %zu items", count,
                           json_array_size(l));
    if (list != NULL)
        *list = l;
    return HRSS_OK;
}

/* ---- encrypted bodies ---- */

/* The AAD of SM4-GCM: the request's serviceReqId (also in its response). */
static int gcm_aad(const hrss_envelope *e, const char **aad, hrss_error *err)
{
    *aad = hrss_envelope_get(e, "serviceReqId");
    if (*aad == NULL)
        return hrss__error(err, HRSS_EMISSING,
                           "header.serviceReqId: missing (it is the AAD of SM4-GCM)");
    return HRSS_OK;
}

int hrss_envelope_seal_body(hrss_envelope *e, const hrss_body_key *k, hrss_error *err)
{
    json_t *body = hrss_envelope_body(e), *sealed = NULL;
    char *pt = NULL, *text = NULL;
    unsigned char *ct = NULL;
    size_t ptlen = 0, ctlen = 0, textlen = 0;
    const char *aad = NULL;
    int rc;

    if (e == NULL || k == NULL)
        return hrss__error(err, HRSS_EINVAL, "no envelope or no key");
    if (!json_is_object(body))
        return hrss__error(err, HRSS_ETYPE, "body: only an object can be sealed, found %s",
                           body != NULL ? hrss__json_type_name(body) : "nothing");
    if (k->cipher == HRSS_BODY_PLAIN)
        return HRSS_OK;
    if (k->cipher == HRSS_BODY_SM4_GCM && (rc = gcm_aad(e, &aad, err)) != HRSS_OK)
        return rc;
    rc = hrss__json_dump_compact(body, &pt, &ptlen);
    if (rc != HRSS_OK) {
        hrss__error(err, rc, "body: cannot be serialised as JSON");
        goto done;
    }
    switch (k->cipher) {
    case HRSS_BODY_SM4_ECB:
        rc = hrss_sm4_ecb_encrypt(k->sm4, pt, ptlen, &ct, &ctlen, err);
        break;
    case HRSS_BODY_SM4_GCM:
        rc = hrss_sm4_gcm_encrypt(k->sm4, aad, strlen(aad), pt, ptlen, &ct, &ctlen, err);
        break;
    case HRSS_BODY_SM2:
        if (k->sm2 == NULL)
            rc = hrss__error(err, HRSS_EKEY, "no SM2 public key to seal with");
        else
            rc = hrss_sm2_encrypt(k->sm2, pt, ptlen, k->sm2_format, &ct, &ctlen, err);
        break;
    default:
        rc = hrss__error(err, HRSS_EINVAL, "unknown body cipher %d", (int)k->cipher);
        break;
    }
    if (rc != HRSS_OK) {
        hrss__error_prefix(err, "body");
        goto done;
    }
    if (k->encoding == HRSS_TEXT_HEX)
        rc = hrss_hex_encode(ct, ctlen, &text, &textlen);
    else if (k->encoding == HRSS_TEXT_BASE64)
        rc = hrss_base64_encode(ct, ctlen, &text, &textlen);
    else
        rc = HRSS_EINVAL;
    if (rc != HRSS_OK) {
        hrss__error(err, rc, "body: cannot encode the ciphertext");
        goto done;
    }
    sealed = json_stringn(text, textlen);
    if (sealed == NULL) {
        rc = hrss__error(err, HRSS_ENOMEM, "out of memory");
        goto done;
    }
    hrss_envelope_set_body(e, sealed);
done:
    if (pt != NULL)
        explicit_bzero(pt, ptlen); /* personal data: do not leave it in freed memory */
    free(pt);
    hrss_free(ct);
    hrss_free(text);
    return rc;
}

/* Decrypts the ciphertext ct into a malloc'd plaintext; aad is the
 * serviceReqId for SM4-GCM. */
static int decrypt(const hrss_body_key *k, const char *aad, const unsigned char *ct, size_t ctlen,
                   unsigned char **pt, size_t *ptlen, hrss_error *err)
{
    switch (k->cipher) {
    case HRSS_BODY_SM4_ECB:
        return hrss_sm4_ecb_decrypt(k->sm4, ct, ctlen, pt, ptlen, err);
    case HRSS_BODY_SM4_GCM:
        return hrss_sm4_gcm_decrypt(k->sm4, aad, strlen(aad), ct, ctlen, pt, ptlen, err);
    case HRSS_BODY_SM2:
        if (k->sm2 == NULL)
            return hrss__error(err, HRSS_EKEY, "no SM2 private key to open with");
        return hrss_sm2_decrypt(k->sm2, ct, ctlen, k->sm2_format, pt, ptlen, err);
    default:
        return hrss__error(err, HRSS_EINVAL, "unknown body cipher %d", (int)k->cipher);
    }
}

int hrss_envelope_open_body(hrss_envelope *e, const hrss_body_key *k, hrss_error *err)
{
    json_t *body = hrss_envelope_body(e), *opened = NULL;
    unsigned char *ct = NULL, *pt = NULL;
    size_t ctlen = 0, ptlen = 0;
    char field[HRSS_ERROR_MSG_MAX], msg[HRSS_ERROR_MSG_MAX];
    const char *aad = NULL;
    int rc;

    if (e == NULL || k == NULL)
        return hrss__error(err, HRSS_EINVAL, "no envelope or no key");
    if (k->cipher == HRSS_BODY_PLAIN)
        return json_is_object(body)
                   ? HRSS_OK
                   : hrss__error(err, HRSS_ETYPE, "body: must be an object, found %s",
                                 body != NULL ? hrss__json_type_name(body) : "nothing");
    if (!json_is_string(body))
        return hrss__error(err, HRSS_ETYPE, "body: must be a string (ciphertext), found %s",
                           body != NULL ? hrss__json_type_name(body) : "nothing");
    if (k->cipher == HRSS_BODY_SM4_GCM && (rc = gcm_aad(e, &aad, err)) != HRSS_OK)
        return rc;
    if (k->encoding == HRSS_TEXT_HEX)
        rc = hrss_hex_decode(json_string_value(body), json_string_length(body), &ct, &ctlen, err);
    else if (k->encoding == HRSS_TEXT_BASE64)
        rc =
            hrss_base64_decode(json_string_value(body), json_string_length(body), &ct, &ctlen, err);
    else
        rc = hrss__error(err, HRSS_EINVAL, "unknown text encoding %d", (int)k->encoding);
    if (rc == HRSS_EFORMAT) {
        rc = HRSS_EDECRYPT; /* not ciphertext in the agreed encoding: does not decrypt */
        if (err != NULL)
            err->code = rc;
    }
    if (rc == HRSS_OK)
        rc = decrypt(k, aad, ct, ctlen, &pt, &ptlen, err);
    if (rc != HRSS_OK) {
        /* A missing key part or bad argument stays what it is; anything
         * else the crypto refused is a body that does not decrypt. */
        if (rc != HRSS_EKEY && rc != HRSS_EINVAL && rc != HRSS_ENOMEM) {
            rc = HRSS_EDECRYPT;
            if (err != NULL)
                err->code = rc;
        }
        hrss__error_prefix(err, "body");
        goto done;
    }
    if (ptlen > HRSS_ENVELOPE_MAX_BYTES) {
        rc = hrss__error(err, HRSS_ETOOBIG, "body: plaintext of %zu bytes, at most %d", ptlen,
                         HRSS_ENVELOPE_MAX_BYTES);
        goto done;
    }
    /* The body sits one level below the envelope. */
    rc = hrss__json_load_strict((const char *)pt, ptlen, 1, "body", &opened, field, sizeof(field),
                                msg, sizeof(msg));
    if (rc != HRSS_OK) {
        hrss__error(err, rc, "%s: %s", field, msg);
        goto done;
    }
    if (!json_is_object(opened)) {
        rc = hrss__error(err, HRSS_ETYPE, "body: the plaintext must be a JSON object, found %s",
                         hrss__json_type_name(opened));
        goto done;
    }
    hrss_envelope_set_body(e, opened);
    opened = NULL;
done:
    json_decref(opened);
    if (pt != NULL)
        explicit_bzero(pt, ptlen);
    hrss_free(pt);
    hrss_free(ct);
    return rc;
}
