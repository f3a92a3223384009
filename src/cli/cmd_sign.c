/* cli/cmd_sign.c - placeholder until the subcommands land. */
#include "cli.h"

int cmd_sign(int argc, char **argv)
{
    (void)argc;
    cli_error("%s: not built yet", argv[0]);
    return CLI_USAGE;
}

int cmd_verify(int argc, char **argv)
{
    (void)argc;
    cli_error("%s: not built yet", argv[0]);
    return CLI_USAGE;
}

