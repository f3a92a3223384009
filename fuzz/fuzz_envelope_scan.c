/*
 * fuzz/fuzz_envelope_scan.c - the one-pass envelope scanner of the relay
 * parse (envelope_scan.c) against the jansson-based parser, on any bytes,
 * as a request and as a response:
 *   - the fast path accepts only what hrss_envelope_parse accepts, with the
 *     same header fields (keys, values, order) and the same alias lookups;
 *   - what it refuses outright, hrss_envelope_parse refuses too;
 *   - hrss_envelope_parse_relay gives exactly hrss_envelope_parse's code and
 *     message, and its envelope verifies (or not) as the full one does.
 * "Not settled" answers of the scanner are allowed, and go to the full
 * parser; they are counted nowhere, as they only cost time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hrss/hrss.h"
#include "lib/envelope_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char *const fields[] = {"serviceCode",    "appCode",      "serviceAreaCode",
                                     "serviceReqId",   "serviceReqTime", "serviceResId",
                                     "serviceResTime", "commStatus",   "busiStatus",
                                     "msg",            "timestamp",    "signature",
                                     "nonce",          "other"};

static int same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The flat header of fast equals the object header of full, member by member. */
static void same_header(const hrss_envelope *fast, const hrss_envelope *full)
{
    const hrss__field *f;
    size_t n = hrss__envelope_flat(fast, &f);
    json_t *h = hrss_envelope_header(full);
    CHECK(f != NULL && json_is_object(h));
    CHECK(n == json_object_size(h));
    size_t i = 0;
    for (void *it = json_object_iter(h); it != NULL; it = json_object_iter_next(h, it), i++) {
        json_t *v = json_object_iter_value(it);
        CHECK(json_is_string(v));
        CHECK(f[i].key_len == json_object_iter_key_len(it));
        CHECK(memcmp(f[i].key, json_object_iter_key(it), f[i].key_len) == 0);
        CHECK(f[i].val_len == json_string_length(v));
        CHECK(memcmp(f[i].val, json_string_value(v), f[i].val_len) == 0);
    }
    for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
        CHECK(same_str(hrss_envelope_get(fast, fields[k]), hrss_envelope_get(full, fields[k])));
}

/* Both envelopes verify the same way, with the same message. */
static void same_verify(const hrss_envelope *a, const hrss_envelope *b,
                        const hrss_hmac_sm3_key *hk)
{
    hrss_sig_key sk = {.profile = HRSS_SIG_HMAC_SM3,
                       .secret = (const unsigned char *)"0123456789abcdef0123",
                       .secret_len = 20};
    hrss_error ea = {0}, eb = {0};
    int ra = hrss_envelope_verify_hmac(a, hk, &ea);
    int rb = hrss_envelope_verify(b, &sk, &eb);
    CHECK(ra == rb);
    CHECK(ra == HRSS_OK || strcmp(ea.msg, eb.msg) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const hrss_envelope_kind kinds[] = {HRSS_ENV_REQUEST, HRSS_ENV_RESPONSE};
    static hrss_hmac_sm3_key *hk;
    const char *buf = (const char *)data;

    if (hk == NULL)
        CHECK(hrss_hmac_sm3_key_new("0123456789abcdef0123", 20, &hk) == HRSS_OK);
    for (size_t i = 0; i < 2; i++) {
        hrss_envelope *fast = NULL, *full = NULL, *relay = NULL;
        hrss_error ef = {0}, er = {0};
        int verdict = hrss__envelope_parse_fast(size ? buf : "", size, kinds[i], &fast);
        int rf = hrss_envelope_parse(buf, size, kinds[i], &full, NULL, NULL, &ef);
        int rr = hrss_envelope_parse_relay(buf, size, kinds[i], &relay, &er);

        CHECK(verdict == HRSS__SCAN_ACCEPT || verdict == HRSS__SCAN_REJECT ||
              verdict == HRSS__SCAN_DEFER);
        CHECK((verdict == HRSS__SCAN_ACCEPT) == (fast != NULL));
        if (verdict == HRSS__SCAN_ACCEPT) {
            if (rf != HRSS_OK) {
                fprintf(stderr, "fast path accepts what the parser refuses: %s\n", ef.msg);
                abort();
            }
            same_header(fast, full);
            CHECK(hrss_envelope_body(fast) == NULL);
            same_verify(fast, full, hk);
        }
        if (verdict == HRSS__SCAN_REJECT)
            CHECK(rf != HRSS_OK);
        /* the relay parse: the full parser's outcome and message */
        CHECK(rr == rf);
        if (rf != HRSS_OK) {
            CHECK(relay == NULL && strcmp(er.msg, ef.msg) == 0);
        } else {
            CHECK(relay != NULL && hrss_envelope_body(relay) == NULL);
            for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
                CHECK(same_str(hrss_envelope_get(relay, fields[k]),
                               hrss_envelope_get(full, fields[k])));
            same_verify(relay, full, hk);
            CHECK(hrss_envelope_validate(relay, NULL, NULL, &er) == HRSS_OK);
        }
        hrss_envelope_free(fast);
        hrss_envelope_free(full);
        hrss_envelope_free(relay);
    }
    return 0;
}
