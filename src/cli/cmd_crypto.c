/* cli/cmd_crypto.c - placeholder until the subcommands land. */
#include "cli.h"

int cmd_sm3(int argc, char **argv)
{
    (void)argc;
    cli_error("%s: not built yet", argv[0]);
    return CLI_USAGE;
}

int cmd_sm4(int argc, char **argv)
{
    (void)argc;
    cli_error("%s: not built yet", argv[0]);
    return CLI_USAGE;
}

int cmd_keygen(int argc, char **argv)
{
    (void)argc;
    cli_error("%s: not built yet", argv[0]);
    return CLI_USAGE;
}

int cmd_sm2(int argc, char **argv)
{
    (void)argc;
    cli_error("%s: not built yet", argv[0]);
    return CLI_USAGE;
}

