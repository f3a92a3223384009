/*
 * hrss/envelope.h - request and response envelopes of LD/T 6008-2024 6.2:
 * strict parsing and building with jansson, the body shapes of 6.2.2, and
 * encrypted bodies (7.1.1.1).
 *
 * Rules enforced by the parser and by hrss_envelope_validate (docs/conformance.md):
 * - UTF-8 only, no duplicate keys at any depth, depth at most 64, input at most
 *   HRSS_ENVELOPE_MAX_BYTES;
 * - the top level is an object with "header" (object) and "body", nothing else;
 * - header values are strings; the fields of tables 1 and 2 have their formats
 *   (codes.h) and their lengths in characters as limits; other header fields
 *   are kept (they are signed) but must be strings of at most 255 characters,
 *   with keys of [A-Za-z0-9_] up to 64, at most 32 header fields;
 * - the request time is "serviceReqTime"; "timestamp" is accepted as an alias
 *   on input (never both);
 * - a request body is an object (plain) or a string (ciphertext); a response
 *   body likewise, and may be absent when commStatus is not "00" (the
 *   standard's own failure example has none);
 * - the body is at most HRSS_BODY_MAX_CHARS characters: a string body counts
 *   its characters, an object body the characters of its compact JSON text.
 *
 * An envelope is owned by one thread at a time. Strings returned by
 * hrss_envelope_get are borrowed and live until the field is changed or the
 * envelope is freed.
 */
#ifndef HRSS_ENVELOPE_H
#define HRSS_ENVELOPE_H

#include <jansson.h>

#include "codes.h"
#include "crypto.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HRSS_ENVELOPE_MAX_BYTES (1024 * 1024)
#define HRSS_BODY_MAX_CHARS 102400 /* "100K" characters of tables 1 and 2 */
#define HRSS_JSON_MAX_DEPTH 64
#define HRSS_SIGNATURE_MAX 255
#define HRSS_MSG_MAX 200
#define HRSS_BUSI_STATUS_MAX 3

typedef enum hrss_envelope_kind {
    HRSS_ENV_REQUEST = 0,
    HRSS_ENV_RESPONSE = 1
} hrss_envelope_kind;

typedef struct hrss_envelope hrss_envelope;

/* Called once per violation, in document order: code is an HRSS_E* value,
 * field a path such as "header.appCode" or "body" ("" for the whole text),
 * msg the rule, e.g. "length 12, at most 11". */
typedef void (*hrss_violation_fn)(void *ctx, int code, const char *field, const char *msg);

/*
 * Parses buf strictly as an envelope of the given kind. On success returns
 * HRSS_OK and *out (free with hrss_envelope_free). On failure returns the
 * code of the first violation, fills err with "field: rule" of it, and calls
 * report (may be NULL) for every violation found.
 */
HRSS_API int hrss_envelope_parse(const char *buf, size_t len, hrss_envelope_kind kind,
                                 hrss_envelope **out, hrss_violation_fn report, void *ctx,
                                 hrss_error *err);

/*
 * hrss_envelope_parse for a relay, which passes the bytes on and reads only
 * the header: the same rules, the same outcome and, on a refusal, the same
 * code and message (no report callback: a relay needs the first only). The
 * body is checked and not kept: hrss_envelope_body gives NULL, and
 * hrss_envelope_serialize writes the header alone. Most requests are
 * checked in one pass over buf without building a JSON tree; the header is
 * copied, so buf need not outlive the envelope.
 */
HRSS_API int hrss_envelope_parse_relay(const char *buf, size_t len, hrss_envelope_kind kind,
                                       hrss_envelope **out, hrss_error *err);

/* A new empty envelope: header {}, no body. NULL when out of memory. */
HRSS_API hrss_envelope *hrss_envelope_new(hrss_envelope_kind kind);

/* A response to req: copies serviceCode, appCode, serviceAreaCode,
 * serviceReqId and serviceReqTime (also when req used "timestamp"), sets
 * serviceResId = res_id, serviceResTime = now (CST), commStatus, and
 * busiStatus and msg when not NULL (msg is cut at 200 characters on a
 * character boundary). No body. */
HRSS_API int hrss_envelope_new_response(const hrss_envelope *req, const char *res_id,
                                        hrss_comm_status st, const char *busi_status,
                                        const char *msg, hrss_envelope **out, hrss_error *err);

HRSS_API void hrss_envelope_free(hrss_envelope *e);

HRSS_API hrss_envelope_kind hrss_envelope_kind_of(const hrss_envelope *e);

/* Header field value or NULL. "serviceReqTime" also finds "timestamp". */
HRSS_API const char *hrss_envelope_get(const hrss_envelope *e, const char *field);

/* Sets (value != NULL) or removes (value == NULL) a header field. Checks
 * nothing but UTF-8; use hrss_envelope_validate before sending. */
HRSS_API int hrss_envelope_set(hrss_envelope *e, const char *field, const char *value);

/* The header object, borrowed. */
HRSS_API json_t *hrss_envelope_header(const hrss_envelope *e);

/* The body (object or string), borrowed; NULL when absent. */
HRSS_API json_t *hrss_envelope_body(const hrss_envelope *e);

/* Replaces the body; steals the reference (NULL removes the body). */
HRSS_API int hrss_envelope_set_body(hrss_envelope *e, json_t *body);

/* Applies the parser's rules to a built envelope; same reporting. */
HRSS_API int hrss_envelope_validate(const hrss_envelope *e, hrss_violation_fn report, void *ctx,
                                    hrss_error *err);

/* Compact JSON text, header fields in insertion order then body; free with
 * hrss_free. */
HRSS_API int hrss_envelope_serialize(const hrss_envelope *e, char **out, size_t *outlen);

/* ---- body shapes of 6.2.2 (each returns a new reference or NULL on ENOMEM) ---- */

/* 6.2.2.1 response: {"data": data}; steals data. */
HRSS_API json_t *hrss_body_data(json_t *data);

/* 6.2.2.2 request: the conditions object (stolen, NULL for none) plus
 * "cpage" and "rows". */
HRSS_API json_t *hrss_body_paged_request(json_t *conditions, long long cpage, long long rows);
/* Reads cpage (>= 1) and rows (1..1000) of a paged request body. */
HRSS_API int hrss_body_get_paging(const json_t *body, long long *cpage, long long *rows,
                                  hrss_error *err);

/* 6.2.2.2 response: {"data":{"totalCount":n,"totalPage":p,"list":list}}; steals list. */
HRSS_API json_t *hrss_body_paged_response(json_t *list, long long total_count,
                                          long long total_page);
/* Reads it back; *list is borrowed. */
HRSS_API int hrss_body_get_paged_response(const json_t *body, long long *total_count,
                                          long long *total_page, json_t **list, hrss_error *err);

/* 6.2.2.3 request: {"totalCount": size of list, "list": list}; steals list. */
HRSS_API json_t *hrss_body_batch_request(json_t *list);
/* Reads it back: list must be an array of objects and totalCount its size. */
HRSS_API int hrss_body_get_batch(const json_t *body, json_t **list, hrss_error *err);

/* ---- encrypted bodies (7.1.1.1, docs/design.md decisions 4 and 5) ---- */

typedef enum hrss_body_cipher {
    HRSS_BODY_PLAIN = 0,
    HRSS_BODY_SM4_ECB = 1, /* the standard's profile */
    HRSS_BODY_SM4_GCM = 2, /* opt-in; AAD = serviceReqId */
    HRSS_BODY_SM2 = 3      /* sealed with the recipient's public key */
} hrss_body_cipher;

typedef enum hrss_text_encoding {
    HRSS_TEXT_BASE64 = 0,
    HRSS_TEXT_HEX = 1
} hrss_text_encoding;

typedef struct hrss_body_key {
    hrss_body_cipher cipher;
    hrss_text_encoding encoding;          /* of the ciphertext string */
    unsigned char sm4[HRSS_SM4_KEY_LEN];  /* SM4 profiles */
    const hrss_sm2_key *sm2;              /* SM2: public key to seal, private to open */
    hrss_sm2_ct_format sm2_format;
} hrss_body_key;

/* Replaces an object body by the ciphertext of its compact JSON text, as a
 * JSON string. HRSS_ETYPE when the body is not an object. */
HRSS_API int hrss_envelope_seal_body(hrss_envelope *e, const hrss_body_key *k, hrss_error *err);

/* Replaces a string body by the object it decrypts to (parsed with the
 * same strict rules). HRSS_EDECRYPT when it does not decrypt, HRSS_ETYPE
 * when the body is not a string. */
HRSS_API int hrss_envelope_open_body(hrss_envelope *e, const hrss_body_key *k, hrss_error *err);

#ifdef __cplusplus
}
#endif
#endif
