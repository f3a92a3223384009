/*
 * fuzz/fuzz_sms_config.c - the hrss-sms configuration parser on arbitrary
 * bytes: it refuses or accepts without crashing, leaking or reading past
 * the input, and an error always carries a message.
 */
#include <stdint.h>
#include <stdlib.h>

#include "sms/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sms_config c;
    char err[SMS_CONFIG_ERR_MAX];
    sms_config_init(&c);
    if (sms_config_parse(&c, "fuzz.conf", (const char *)data, size, err) != 0 && err[0] == '\0')
        abort();
    sms_config_free(&c);
    return 0;
}
