/*
 * fuzz/fuzz_sms_send.c - the hrss-sms send/status request parser on
 * arbitrary bodies, as JSON and as a form (the first byte picks the
 * content type and the request kind), then the template expansion and the
 * content rules on what was parsed: no crash, leak or overread, and a
 * refusal always carries a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sms/content.h"
#include "sms/send.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {"application/json", "application/x-www-form-urlencoded",
                                        NULL, "text/plain"};
    if (size < 1)
        return 0;
    const char *ctype = types[data[0] & 3];
    send_kind kind = (data[0] & 4) ? SEND_KIND_STATUS : SEND_KIND_SEND;
    send_req r;
    char msg[160];
    int code = send_parse(kind, ctype, (const char *)data + 1, size - 1, &r, msg, sizeof(msg));
    if (code != SMS_CODE_OK && msg[0] == '\0')
        abort();
    if (code == SMS_CODE_OK && kind == SEND_KIND_SEND) {
        char *text = r.content != NULL ? strdup(r.content) : send_expand(r.template_id, &r, msg,
                                                                          sizeof(msg));
        if (text != NULL) {
            sms_measure m;
            sms_part parts[4];
            if (sms_measure_text(text, strlen(text), &m) == 0)
                sms_split(text, strlen(text), 1, parts, 4);
            free(text);
        }
        for (int i = 0; i < r.n_mobiles; i++) {
            char out[SMS_MOBILE_LEN + 1];
            sms_mobile_normalize(r.mobiles[i], strlen(r.mobiles[i]), out);
        }
    }
    send_req_free(&r);
    return 0;
}
