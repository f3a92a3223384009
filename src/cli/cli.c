/*
 * cli/cli.c - helpers of cli.h shared by the subcommands: messages, reading
 * stdin and files with a size limit, atomic file writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "common/util.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("hrss: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

static int read_from(FILE *f, const char *what, char **buf, size_t *len)
{
    int toobig = 0;
    *buf = read_stream(f, CLI_INPUT_MAX, len, &toobig);
    if (*buf == NULL) {
        if (toobig)
            cli_error("%s: larger than %u bytes", what, CLI_INPUT_MAX);
        else
            cli_error("%s: read failed: %s", what, strerror(errno));
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cli_read_stdin(char **buf, size_t *len)
{
    return read_from(stdin, "stdin", buf, len);
}

int cli_read_file(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        cli_error("%s: %s", path, strerror(errno));
        return CLI_USAGE;
    }
    int rc = read_from(f, path, buf, len);
    fclose(f);
    return rc;
}

int cli_write_file(const char *path, const void *data, size_t len, int mode)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 8);
    int fd = -1, rc = CLI_USAGE;

    if (tmp == NULL) {
        cli_error("out of memory");
        return CLI_USAGE;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".XXXXXX", 8);
    fd = mkstemp(tmp);
    if (fd < 0) {
        cli_error("%s: %s", path, strerror(errno));
        goto done;
    }
    if (fchmod(fd, (mode_t)mode) != 0 || write(fd, data, len) != (ssize_t)len ||
        fsync(fd) != 0) {
        cli_error("%s: %s", path, strerror(errno));
        unlink(tmp);
        goto done;
    }
    if (rename(tmp, path) != 0) {
        cli_error("%s: %s", path, strerror(errno));
        unlink(tmp);
        goto done;
    }
    rc = CLI_OK;
done:
    if (fd >= 0)
        close(fd);
    free(tmp);
    return rc;
}

int cli_write_stdout(const void *data, size_t len)
{
    if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
        cli_error("stdout: %s", strerror(errno));
        return CLI_USAGE;
    }
    return CLI_OK;
}

const char *cli_state_dir(void)
{
    static char path[4096];
    const char *env = getenv("HRSS_STATE_DIR");
    if (env != NULL && env[0] != '\0')
        return env;
    env = getenv("XDG_STATE_HOME");
    if (env != NULL && env[0] != '\0') {
        snprintf(path, sizeof(path), "%s/hrss", env);
        return path;
    }
    env = getenv("HOME");
    snprintf(path, sizeof(path), "%s/.local/state/hrss", env != NULL ? env : ".");
    return path;
}

int cli_read_secret(const char *path, const char *env, char **out, size_t *len)
{
    if (path != NULL) {
        if (cli_read_file(path, out, len) != CLI_OK)
            return CLI_USAGE;
        while (*len > 0 && ((*out)[*len - 1] == '\n' || (*out)[*len - 1] == '\r'))
            (*len)--;
        (*out)[*len] = '\0';
        return CLI_OK;
    }
    const char *s = env != NULL ? getenv(env) : NULL;
    if (s == NULL)
        return CLI_OK;
    *out = strdup(s);
    if (*out == NULL) {
        cli_error("out of memory");
        return CLI_USAGE;
    }
    *len = strlen(s);
    return CLI_OK;
}

int cli_read_sm2_key(const char *path, hrss_sm2_key **out)
{
    char *pem = NULL;
    size_t len = 0;
    hrss_error e;
    if (cli_read_file(path, &pem, &len) != CLI_OK)
        return CLI_USAGE;
    int rc = hrss_sm2_key_from_pem(pem, len, out, &e);
    explicit_bzero(pem, len);
    free(pem);
    if (rc != HRSS_OK) {
        cli_error("%s: %s", path, e.msg);
        return CLI_USAGE;
    }
    return CLI_OK;
}
