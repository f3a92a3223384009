/*
 * fuzz/fuzz_envelope.c - the envelope parser (envelope.c) on any bytes, as
 * a request and as a response. Whatever it is given: a refusal reports at
 * least one violation, each on one line, the first being the returned code
 * and err's message; an acceptance reports none, validates again with the
 * same rules, and serialises to text that parses back to the very same
 * serialisation. A string body is also tried as SM4-ECB ciphertext, which
 * must open to an object, or be refused and left as it was.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hrss/hrss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct seen {
    int n;
    int first;
};

static void on_violation(void *ctx, int code, const char *field, const char *msg)
{
    struct seen *s = ctx;
    CHECK(code < 0);
    CHECK(field != NULL && msg != NULL && msg[0] != '\0');
    CHECK(strchr(field, '\n') == NULL && strchr(msg, '\n') == NULL);
    if (s->n++ == 0)
        s->first = code;
}

/* serialise -> parse -> serialise gives the same text. */
static void round_trip(const hrss_envelope *e, hrss_envelope_kind kind)
{
    char *s1 = NULL, *s2 = NULL;
    size_t n1 = 0, n2 = 0;
    hrss_envelope *again = NULL;
    hrss_error err = {0};

    CHECK(hrss_envelope_serialize(e, &s1, &n1) == HRSS_OK);
    if (hrss_envelope_parse(s1, n1, kind, &again, NULL, NULL, &err) != HRSS_OK) {
        fprintf(stderr, "reparse refused: %s\n%.*s\n", err.msg, (int)n1, s1);
        abort();
    }
    CHECK(hrss_envelope_serialize(again, &s2, &n2) == HRSS_OK);
    CHECK(n1 == n2 && memcmp(s1, s2, n1) == 0);
    hrss_free(s1);
    hrss_free(s2);
    hrss_envelope_free(again);
}

static void try_open(hrss_envelope *e)
{
    hrss_body_key k;
    hrss_error err = {0};

    if (!json_is_string(hrss_envelope_body(e)))
        return;
    memset(&k, 0, sizeof(k));
    k.cipher = HRSS_BODY_SM4_ECB;
    k.encoding = HRSS_TEXT_BASE64;
    memcpy(k.sm4, "1234567890123456", HRSS_SM4_KEY_LEN);
    if (hrss_envelope_open_body(e, &k, &err) == HRSS_OK)
        CHECK(json_is_object(hrss_envelope_body(e)));
    else
        CHECK(json_is_string(hrss_envelope_body(e)) && err.code < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const hrss_envelope_kind kinds[] = {HRSS_ENV_REQUEST, HRSS_ENV_RESPONSE};

    for (size_t i = 0; i < 2; i++) {
        hrss_envelope *e = NULL;
        hrss_error err = {0};
        struct seen s = {0, 0};
        int rc =
            hrss_envelope_parse((const char *)data, size, kinds[i], &e, on_violation, &s, &err);
        if (rc != HRSS_OK) {
            CHECK(e == NULL);
            CHECK(s.n >= 1 && s.first == rc && err.code == rc);
            CHECK(err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL);
            continue;
        }
        CHECK(e != NULL && s.n == 0);
        CHECK(hrss_envelope_kind_of(e) == kinds[i]);
        CHECK(hrss_envelope_get(e, "serviceReqTime") != NULL);
        CHECK(hrss_envelope_validate(e, NULL, NULL, &err) == HRSS_OK);
        round_trip(e, kinds[i]);
        try_open(e);
        hrss_envelope_free(e);
    }
    return 0;
}
