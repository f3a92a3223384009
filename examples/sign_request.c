/*
 * examples/sign_request.c - a caller's request made with libhrss in one
 * function: ids, time and nonce filled, the body sealed with SM4-ECB under
 * the grant's 16-digit key, the header signed with HMAC-SM3, checked against
 * tables 1 and 2, and printed. docs/api.md walks through it; the tests build
 * it against the shared library and verify its output with the hrss tool.
 *
 *   cc sign_request.c -lhrss $(pkg-config --libs jansson) -o sign_request
 */
#include <stdio.h>
#include <stdlib.h>

#include <hrss/hrss.h>

int main(void)
{
    const char *state = getenv("HRSS_STATE_DIR"); /* where id sequences live */
    hrss_error err = {0};
    hrss_idgen *ids = NULL;
    hrss_envelope *req = NULL;
    char *text = NULL;
    size_t len;
    int rc = 1;

    if (hrss_idgen_new("B100000KJGK", state != NULL ? state : ".", &ids, &err) != HRSS_OK)
        goto done;
    req = hrss_envelope_new(HRSS_ENV_REQUEST);
    hrss_envelope_set(req, "serviceCode", "S110000Y70PYTjb");
    hrss_envelope_set(req, "appCode", "B100000KJGK");
    hrss_envelope_set(req, "serviceAreaCode", "110000");
    hrss_envelope_set_body(req, json_pack("{s:s}", "aac002", "110101199003077777"));

    static const unsigned char secret[] = "shared-with-the-node";
    hrss_sig_key key = {.profile = HRSS_SIG_HMAC_SM3, .secret = secret,
                        .secret_len = sizeof(secret) - 1};
    hrss_body_key bk = {.cipher = HRSS_BODY_SM4_ECB, .encoding = HRSS_TEXT_BASE64};
    if (hrss_sm4_key_from_digits("1234567890123456", 16, bk.sm4, &err) != HRSS_OK ||
        hrss_envelope_fill_request(req, ids, &err) != HRSS_OK ||
        hrss_envelope_seal_body(req, &bk, &err) != HRSS_OK ||
        hrss_envelope_sign(req, &key, &err) != HRSS_OK ||
        hrss_envelope_validate(req, NULL, NULL, &err) != HRSS_OK ||
        hrss_envelope_serialize(req, &text, &len) != HRSS_OK)
        goto done;
    puts(text);
    rc = 0;
done:
    if (rc != 0)
        fprintf(stderr, "error: %s (%s)\n", err.msg, hrss_err_name(err.code));
    hrss_free(text);
    hrss_envelope_free(req);
    hrss_idgen_free(ids);
    return rc;
}
