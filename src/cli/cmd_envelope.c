/* cli/cmd_envelope.c - placeholder until the subcommands land. */
#include "cli.h"

int cmd_envelope(int argc, char **argv)
{
    (void)argc;
    cli_error("%s: not built yet", argv[0]);
    return CLI_USAGE;
}

int cmd_id(int argc, char **argv)
{
    (void)argc;
    cli_error("%s: not built yet", argv[0]);
    return CLI_USAGE;
}

