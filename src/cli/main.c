/*
 * cli/main.c - entry point of the hrss tool: the table of subcommands and
 * the dispatch to them. Each family of subcommands lives in its own file.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const cli_cmd commands[] = {
    {"sm3", cmd_sm3, "SM3 digest of stdin"},
    {"sm4", cmd_sm4, "SM4-ECB encrypt or decrypt stdin with a 16-digit key"},
    {"keygen", cmd_keygen, "generate an SM2 key pair"},
    {"sm2", cmd_sm2, "SM2 sign, verify, encrypt, decrypt"},
    {"envelope", cmd_envelope, "check an LD/T 6008 envelope"},
    {"sign", cmd_sign, "complete and sign a request envelope"},
    {"verify", cmd_verify, "verify a request envelope's signature"},
    {"id", cmd_id, "make serviceReqId/serviceResId values"},
    {"call", cmd_call, "make a transaction through a node"},
    {"conform", cmd_conform, "conformance kit: judge a node, a provider or a caller"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: hrss <command> [options]\n\n"
               "LD/T 6008-2024 / LD/T 6007-2024 tool, version " HRSS_VERSION ".\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'hrss <command> --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("hrss %s\n", HRSS_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s' (try 'hrss --help')", argv[1]);
    return CLI_USAGE;
}
