/*
 * node/main.c - the hrss-node executable: command-line dispatch only.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--config") == 0 && strcmp(argv[3], "--check") == 0) {
        node_config c;
        char err[NODE_CONFIG_ERR_MAX];
        node_config_init(&c);
        int rc = node_config_load(&c, argv[2], err);
        if (rc != 0)
            fprintf(stderr, "hrss-node: %s\n", err);
        node_config_free(&c);
        return rc == 0 ? 0 : 2;
    }
    fprintf(stderr, "usage: hrss-node --config FILE --check\n");
    return 2;
}
