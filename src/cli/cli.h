/*
 * cli/cli.h - shared pieces of the hrss command-line tool: the subcommand
 * table's entry type, input/output helpers and exit codes. The tool uses
 * only the public SDK (include/hrss/) and src/common/.
 *
 * Exit codes: 0 success; 1 the operation ran and said no (invalid envelope,
 * signature mismatch, decryption failure); 2 bad usage or unreadable input.
 */
#ifndef HRSS_CLI_H
#define HRSS_CLI_H

#include <stddef.h>

#include "hrss/hrss.h"

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

/* Largest stdin or file the tool reads. */
#define CLI_INPUT_MAX (16u * 1024 * 1024)

typedef struct cli_cmd {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
    const char *summary;
} cli_cmd;

/* Prints "hrss: " + message + newline on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* 1 when arg is -h or --help. */
int cli_is_help(const char *arg);
/* Reads all of stdin (at most CLI_INPUT_MAX bytes, NUL-terminated); on
 * failure prints why and returns CLI_USAGE. */
int cli_read_stdin(char **buf, size_t *len);
/* Same for a file. */
int cli_read_file(const char *path, char **buf, size_t *len);
/* Writes a whole file with the given mode, replacing it atomically. */
int cli_write_file(const char *path, const void *data, size_t len, int mode);
/* Writes bytes to stdout; CLI_OK or CLI_USAGE (with a message) on error. */
int cli_write_stdout(const void *data, size_t len);
/* Reads a secret from path (trailing newlines dropped, NUL-terminated) or,
 * when path is NULL, from the environment variable env (may be NULL); *out
 * stays NULL when there is neither. Wipe with explicit_bzero, then free().
 * CLI_OK, or CLI_USAGE with a message. */
int cli_read_secret(const char *path, const char *env, char **out, size_t *len);
/* Reads an SM2 key, private or public, from a PEM file; on failure prints
 * "path: why" and returns CLI_USAGE. Free with hrss_sm2_key_free. */
int cli_read_sm2_key(const char *path, hrss_sm2_key **out);
/* Default state directory for id sequences: $HRSS_STATE_DIR, else
 * $XDG_STATE_HOME/hrss, else $HOME/.local/state/hrss. Static buffer. */
const char *cli_state_dir(void);

/* Subcommands, one file each family. */
int cmd_sm3(int argc, char **argv);      /* cmd_crypto.c */
int cmd_sm4(int argc, char **argv);      /* cmd_crypto.c */
int cmd_keygen(int argc, char **argv);   /* cmd_crypto.c */
int cmd_sm2(int argc, char **argv);      /* cmd_crypto.c */
int cmd_envelope(int argc, char **argv); /* cmd_envelope.c */
int cmd_id(int argc, char **argv);       /* cmd_envelope.c */
int cmd_sign(int argc, char **argv);     /* cmd_sign.c */
int cmd_verify(int argc, char **argv);   /* cmd_sign.c */
int cmd_call(int argc, char **argv);     /* cmd_call.c */
int cmd_conform(int argc, char **argv);  /* cmd_conform.c, conform/ */

#endif
