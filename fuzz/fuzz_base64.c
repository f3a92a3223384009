/*
 * fuzz/fuzz_base64.c - the strict Base64 and hex decoders of crypto.c. Any input is
 * either refused with HRSS_EFORMAT and a message, or decodes; what decodes re-encodes to
 * exactly the input (Base64: one accepted text per byte string, so no padding or
 * trailing-bit variants; hex: the input lowercased). Encoding the input and decoding it
 * again gives the input back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hrss/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    unsigned char *bytes = NULL;
    char *again = NULL;
    size_t n = 0, m = 0;
    hrss_error err;

    /* Base64: decode, then the re-encoding must be the very same text. */
    int rc = hrss_base64_decode(text, size, &bytes, &n, &err);
    if (rc == HRSS_OK) {
        if (hrss_base64_encode(bytes, n, &again, &m) != HRSS_OK || m != size ||
            memcmp(again, text, size) != 0)
            abort();
    } else if (rc != HRSS_EFORMAT || bytes != NULL || err.msg[0] == '\0') {
        abort();
    }
    hrss_free(bytes);
    hrss_free(again);
    bytes = NULL;
    again = NULL;

    /* Hex: the same, modulo case. */
    rc = hrss_hex_decode(text, size, &bytes, &n, &err);
    if (rc == HRSS_OK) {
        if (hrss_hex_encode(bytes, n, &again, &m) != HRSS_OK || m != size)
            abort();
        for (size_t i = 0; i < size; i++)
            if (again[i] != lower(text[i]))
                abort();
    } else if (rc != HRSS_EFORMAT || bytes != NULL) {
        abort();
    }
    hrss_free(bytes);
    hrss_free(again);
    bytes = NULL;
    again = NULL;

    /* Any bytes survive a Base64 round trip. */
    if (hrss_base64_encode(data, size, &again, &m) != HRSS_OK ||
        hrss_base64_decode(again, m, &bytes, &n, &err) != HRSS_OK || n != size ||
        (size > 0 && memcmp(bytes, data, size) != 0))
        abort();
    hrss_free(bytes);
    hrss_free(again);
    return 0;
}
