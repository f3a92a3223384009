/*
 * fuzz/fuzz_conform.c - what the conformance kit (src/cli/conform/) does
 * with a peer's answer, the one input of the kit an attacker controls: the
 * signature diagnosis of any header under the sm3 and hmac-sm3 profiles
 * (every reading tried), the cipher diagnosis of any body under plain,
 * SM4-ECB Base64 and SM4-ECB hex grants (zero padding, hex, uppercase
 * looked for), and the redaction of the text kept in a report. Verdicts
 * must be one of the four and a plaintext is handed over only with PASS or
 * DIFFERS; the redacted text never holds an 18-character ID number.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/conform/conform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void judge_body(const json_t *body, hrss_body_cipher c, hrss_text_encoding e)
{
    char detail[512];
    json_t *plain = NULL;
    cf_verdict v =
        cf_judge_cipher(body, c, e, "1234567890123456", NULL, &plain, detail, sizeof(detail));
    if (v != CF_PASS && v != CF_FAIL && v != CF_DIFFERS && v != CF_SKIP)
        abort();
    if (plain != NULL && v != CF_PASS && v != CF_DIFFERS)
        abort();
    if (plain != NULL && !json_is_object(plain))
        abort();
    json_decref(plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    json_t *doc = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
    json_t *header = json_object_get(doc, "header");
    if (json_is_object(header)) {
        char detail[512];
        hrss_sig_key sm3 = {HRSS_SIG_SM3, NULL, 0, NULL};
        hrss_sig_key hmac = {HRSS_SIG_HMAC_SM3, (const unsigned char *)"secret", 6, NULL};
        cf_judge_signature(header, &sm3, detail, sizeof(detail));
        cf_judge_signature(header, &hmac, detail, sizeof(detail));
        for (cf_sign_reading rd = CF_SIGN_HRSS; rd <= CF_SIGN_UPPER; rd++)
            json_decref(cf_header_as_read(header, rd));
    }
    json_t *body = json_is_object(doc) ? json_object_get(doc, "body") : doc;
    judge_body(body, HRSS_BODY_PLAIN, HRSS_TEXT_BASE64);
    judge_body(body, HRSS_BODY_SM4_ECB, HRSS_TEXT_BASE64);
    judge_body(body, HRSS_BODY_SM4_ECB, HRSS_TEXT_HEX);
    json_decref(doc);
    /* redaction of the raw text */
    cf_report r = {0};
    cf_report_secret(&r, "secret", 6);
    char *red = cf_redact(&r, text);
    for (size_t i = 0, run = 0; red[i] != '\0'; i++) {
        run = red[i] >= '0' && red[i] <= '9' ? run + 1 : 0;
        if (run == 18 &&
            (i < 18 || !((red[i - 18] >= '0' && red[i - 18] <= '9') ||
                         (red[i - 18] >= 'A' && red[i - 18] <= 'Z') ||
                         (red[i - 18] >= 'a' && red[i - 18] <= 'z'))) &&
            !(red[i + 1] >= '0' && red[i + 1] <= '9'))
            abort(); /* an ID number left whole */
    }
    free(red);
    free(text);
    return 0;
}
