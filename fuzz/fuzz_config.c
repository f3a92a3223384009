/*
 * fuzz/fuzz_config.c - the hrss-node configuration parser on arbitrary
 * bytes: it must refuse or accept without crashing, leaking or reading past
 * the input, and an error must always carry a message.
 */
#include <stdint.h>
#include <stdlib.h>

#include "node/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    node_config c;
    char err[NODE_CONFIG_ERR_MAX];
    node_config_init(&c);
    if (node_config_parse(&c, "fuzz.conf", (const char *)data, size, err) != 0 && err[0] == '\0')
        abort();
    node_config_free(&c);
    return 0;
}
