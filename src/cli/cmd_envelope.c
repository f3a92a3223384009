/*
 * cli/cmd_envelope.c - "hrss envelope check", which applies the rules of
 * LD/T 6008-2024 tables 1 and 2 to a request or response envelope and lists
 * every violation, and "hrss id new", which hands out serviceReqId /
 * serviceResId values that never repeat (docs/design.md decision 6), also
 * when several hrss processes share a state directory.
 *
 * Uses only the public SDK (envelope.h, codes.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define ID_COUNT_MAX 999999999ULL /* one day's sequences */

static void envelope_usage(FILE *f)
{
    fprintf(f, "usage: hrss envelope check [--response] [FILE]\n"
               "\n"
               "Parses an LD/T 6008-2024 envelope (FILE, or stdin) strictly and checks it\n"
               "against tables 1 and 2: UTF-8, no duplicate keys, depth at most 64, header\n"
               "fields present with their formats and lengths, body at most 102400\n"
               "characters. Prints \"ok\" when it is valid, else one line per violation,\n"
               "\"field: rule\", in document order.\n"
               "\n"
               "options:\n"
               "  --response   the input is a response envelope (default: a request)\n"
               "  -h, --help   this text\n"
               "\n"
               "exit status: 0 valid, 1 invalid, 2 bad usage or unreadable input\n");
}

static void id_usage(FILE *f)
{
    fprintf(f, "usage: hrss id new --system CODE [--count N] [--state-dir DIR]\n"
               "\n"
               "Prints N (default 1) new serviceReqId/serviceResId values, one a line:\n"
               "the system code, today's date in China Standard Time and a 9-digit\n"
               "sequence. Ids never repeat for a system code and state directory, also\n"
               "across restarts and concurrent hrss processes.\n"
               "\n"
               "options:\n"
               "  --system CODE     the 11-character system code (5.3), e.g. S110000Y70P\n"
               "  --count N         how many ids (1 to 999999999)\n"
               "  --state-dir DIR   where sequences are kept (default: $HRSS_STATE_DIR,\n"
               "                    else $XDG_STATE_HOME/hrss, else ~/.local/state/hrss)\n"
               "  -h, --help        this text\n"
               "\n"
               "exit status: 0 printed, 1 ids could not be made (state file, day used up),\n"
               "2 bad usage\n");
}

/* Prints one violation as "field: rule" on stdout. */
static void print_violation(void *ctx, int code, const char *field, const char *msg)
{
    (void)ctx;
    (void)code;
    if (field[0] != '\0')
        printf("%s: %s\n", field, msg);
    else
        printf("%s\n", msg);
}

static int envelope_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"response", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    hrss_envelope_kind kind = HRSS_ENV_REQUEST;
    hrss_envelope *e = NULL;
    char *buf = NULL;
    size_t len = 0;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            kind = HRSS_ENV_RESPONSE;
            break;
        case 'h':
            envelope_usage(stdout);
            return CLI_OK;
        default:
            envelope_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (argc - optind > 1) {
        cli_error("envelope check: one FILE at most");
        return CLI_USAGE;
    }
    if (optind < argc && strcmp(argv[optind], "-") != 0)
        rc = cli_read_file(argv[optind], &buf, &len);
    else
        rc = cli_read_stdin(&buf, &len);
    if (rc != CLI_OK)
        return rc;
    rc = hrss_envelope_parse(buf, len, kind, &e, print_violation, NULL, NULL) == HRSS_OK ? CLI_OK
                                                                                         : CLI_FAIL;
    if (rc == CLI_OK)
        puts("ok");
    if (fflush(stdout) != 0) {
        cli_error("stdout: %s", strerror(errno));
        rc = CLI_USAGE;
    }
    hrss_envelope_free(e);
    free(buf);
    return rc;
}

int cmd_envelope(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "check") == 0)
        return envelope_check(argc - 1, argv + 1);
    if (argc >= 2 && cli_is_help(argv[1])) {
        envelope_usage(stdout);
        return CLI_OK;
    }
    envelope_usage(stderr);
    return CLI_USAGE;
}

/* A decimal count in 1..ID_COUNT_MAX, nothing else. */
static int parse_count(const char *s, unsigned long long *out)
{
    char *end;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno != 0 || *end != '\0' || *out < 1 || *out > ID_COUNT_MAX ? -1 : 0;
}

static int id_new(int argc, char **argv)
{
    static const struct option opts[] = {
        {"system", required_argument, NULL, 's'},
        {"count", required_argument, NULL, 'n'},
        {"state-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *system = NULL, *state_dir = NULL;
    unsigned long long count = 1;
    char id[HRSS_ID_LEN + 1];
    hrss_idgen *g = NULL;
    hrss_error err = {0};
    int c, rc = CLI_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            system = optarg;
            break;
        case 'n':
            if (parse_count(optarg, &count) != 0) {
                cli_error("id new: --count %s: need a number from 1 to %llu", optarg, ID_COUNT_MAX);
                return CLI_USAGE;
            }
            break;
        case 'd':
            state_dir = optarg;
            break;
        case 'h':
            id_usage(stdout);
            return CLI_OK;
        default:
            id_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("id new: unexpected argument '%s'", argv[optind]);
        return CLI_USAGE;
    }
    if (system == NULL) {
        cli_error("id new: --system CODE is required");
        return CLI_USAGE;
    }
    if (hrss_system_code_check(system, strlen(system), &err) != HRSS_OK) {
        cli_error("id new: --system %s: %s", system, err.msg);
        return CLI_USAGE;
    }
    if (state_dir == NULL)
        state_dir = cli_state_dir();
    if (hrss_idgen_new(system, state_dir, &g, &err) != HRSS_OK) {
        cli_error("id new: %s", err.msg);
        return CLI_FAIL;
    }
    for (unsigned long long i = 0; i < count; i++) {
        if (hrss_idgen_next(g, id, &err) != HRSS_OK) {
            cli_error("id new: %s", err.msg);
            rc = CLI_FAIL;
            break;
        }
        id[HRSS_ID_LEN] = '\n';
        if (fwrite(id, 1, HRSS_ID_LEN + 1, stdout) != HRSS_ID_LEN + 1)
            break;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("stdout: %s", strerror(errno));
        rc = CLI_USAGE;
    }
    hrss_idgen_free(g);
    return rc;
}

int cmd_id(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "new") == 0)
        return id_new(argc - 1, argv + 1);
    if (argc >= 2 && cli_is_help(argv[1])) {
        id_usage(stdout);
        return CLI_OK;
    }
    id_usage(stderr);
    return CLI_USAGE;
}
